//! Where diagnostics go: stderr, rendered once, and the exit code that follows an error.

use crate::render::{self, Style};
use infra_lang::diag::Diagnostics;
use infra_lang::source::SourceMap;
use std::io::Write;
use std::path::PathBuf;

/// An error already rendered for the user, with the exit code to use.
pub struct Exit(pub i32);

pub struct Out {
    pub sources: SourceMap,
    pub base: PathBuf,
    pub style: Style,
}

impl Out {
    pub fn diags(&self, d: &Diagnostics) {
        let mut err = std::io::stderr().lock();
        let compact = globals().compact_warnings;
        let mut warnings = Vec::new();
        for x in d.iter() {
            if compact && !x.is_error() {
                warnings.push(x);
                continue;
            }
            let _ = write!(err, "{}", render::diagnostic(x, &self.sources, &self.base, &self.style));
        }
        if !warnings.is_empty() {
            // --compact-warnings: Terraform's summary, one line and its place per warning.
            let _ = write!(err, "\n{}\n\n", self.style.yellow(&self.style.bold("Warnings:")));
            for w in warnings {
                let _ = writeln!(err, "- {}", w.summary);
                if let Some(span) = &w.subject {
                    let path = self.sources.path(span.file);
                    let shown = path.strip_prefix(&self.base).unwrap_or(&path).display().to_string();
                    let _ = writeln!(err, "  on {shown} line {}", self.sources.pos(span.file, span.range.start).line);
                }
            }
            let _ = writeln!(err, "\nTo see the full warning notes, run infra without --compact-warnings.");
        }
    }
    pub fn fail(&self, d: impl Into<Diagnostics>) -> Exit {
        let mut d: Diagnostics = d.into();
        for x in &mut d.0 {
            x.detail = sentence(&x.detail);
        }
        self.diags(&d);
        Exit(1)
    }
}

/// Error texts are lowercase by convention; a diagnostic's detail is a sentence.
fn sentence(s: &str) -> String {
    let first_word = s.split(' ').next().unwrap_or("");
    if !first_word.chars().all(|c| c.is_ascii_lowercase()) {
        // An identifier such as local_file or aws_vpc.main keeps its case.
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The options every command takes, as `commands::parse` read them (command line and TF_*
/// variables). Kept here, below the commands, since printing reads them too.
pub struct Globals {
    pub input: bool,
    pub lock: bool,
    pub compact_warnings: bool,
}

static GLOBALS: std::sync::OnceLock<Globals> = std::sync::OnceLock::new();

/// The global options; their defaults before `parse` ran (in unit tests).
pub fn globals() -> &'static Globals {
    GLOBALS.get_or_init(|| Globals { input: true, lock: true, compact_warnings: false })
}

/// Records the global options once, when the command line is parsed.
pub fn set_globals(g: Globals) {
    let _ = GLOBALS.set(g);
}
