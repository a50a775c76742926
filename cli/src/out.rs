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
        for x in d.iter() {
            let _ = write!(err, "{}", render::diagnostic(x, &self.sources, &self.base, &self.style));
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
