//! Diagnostics: a fixed summary, a detail in full sentences, a subject span and an optional
//! context span. The engine collects them; only the CLI renders them.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One element of a path into an object value, as a provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attr(String),
    Index(i64),
    Key(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub subject: Option<Span>,
    pub context: Option<Span>,
    /// The object the diagnostic is about, e.g. `aws_subnet.private[1]`.
    pub address: Option<String>,
    /// Path into the object's attributes, when a provider reported one and no span is known yet.
    pub attr_path: Vec<PathStep>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            subject: None,
            context: None,
            address: None,
            attr_path: Vec::new(),
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(summary, detail) }
    }

    pub fn with_subject(mut self, span: Option<Span>) -> Diagnostic {
        if self.subject.is_none() {
            self.subject = span;
        }
        self
    }

    pub fn with_context(mut self, span: Option<Span>) -> Diagnostic {
        self.context = span;
        self
    }

    pub fn with_address(mut self, address: impl Into<String>) -> Diagnostic {
        if self.address.is_none() {
            self.address = Some(address.into());
        }
        self
    }

    pub fn with_path(mut self, path: Vec<PathStep>) -> Diagnostic {
        self.attr_path = path;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A list of diagnostics collected over a whole operation; an operation reports every error it
/// finds, not only the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The closest candidate to `given`, for "Did you mean …?" hints (Levenshtein distance, at most
/// a third of the length and never more than 3).
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (given.chars().count() / 3).clamp(1, 3);
    candidates.into_iter().map(|c| (levenshtein(given, c), c)).filter(|(d, _)| *d <= limit).min_by_key(|(d, c)| (*d, c.to_string())).map(|(_, c)| c.to_string())
}

pub fn suggestion(given: &str, candidates: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let owned: Vec<String> = candidates.into_iter().map(|c| c.as_ref().to_string()).collect();
    match did_you_mean(given, owned.iter().map(String::as_str)) {
        Some(s) => format!(" Did you mean \"{s}\"?"),
        None => String::new(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_near_miss_and_rejects_far_ones() {
        assert_eq!(did_you_mean("filname", ["filename", "content"]).as_deref(), Some("filename"));
        assert_eq!(did_you_mean("zzz", ["filename", "content"]), None);
    }
}
