//! Reading stack files: `*.tf` and `*.hcl` in a directory, parsed with hcl-edit so that every
//! node keeps its span. A BOM is stripped; input nested deeper than the parser can safely
//! recurse is rejected with a diagnostic instead of overflowing the stack.

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceMap, Span};
use hcl_edit::structure::Body;
use std::path::{Path, PathBuf};

/// Brackets nested deeper than this are refused: the recursive-descent parser would otherwise
/// exhaust the stack on hostile input.
pub const MAX_NESTING: usize = 64;

pub struct ParsedFile {
    pub id: FileId,
    pub path: PathBuf,
    pub body: Body,
}

/// The stack files of a directory, sorted by name, as Terraform reads them.
pub fn stack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && (name.ends_with(".tf") || name.ends_with(".hcl"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Parses one file's text. Registers it in `sources` even when it fails, so that diagnostics
/// can point into it.
pub fn parse_source(sources: &SourceMap, path: &Path, raw: &str) -> (FileId, Result<Body, Diagnostic>) {
    let text = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let id = sources.add(path, text);
    if let Some(offset) = too_deep(text) {
        let d = Diagnostic::error(
            "Nesting too deep",
            format!("This file nests brackets more than {MAX_NESTING} levels deep, which infra does not accept. Flatten the expression."),
        )
        .with_subject(Some(Span::new(id, offset..offset + 1)));
        return (id, Err(d));
    }
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => (id, Ok(body)),
        Err(e) => {
            let loc = e.location();
            let offset = offset_of(text, loc.line(), loc.column());
            let d = Diagnostic::error(
                "Invalid syntax",
                format!(
                    "The file could not be parsed: {}. Fix the syntax at this position.",
                    e.message().trim_start_matches("expected ").trim_end_matches('.')
                ),
            )
            .with_subject(Some(Span::new(id, offset..(offset + 1).min(text.len().max(offset)))));
            (id, Err(d))
        }
    }
}

/// Parses one expression (console input, `--var` values) with a diagnostic on failure.
pub fn parse_expr_source(sources: &SourceMap, name: &str, text: &str) -> (FileId, Result<hcl_edit::expr::Expression, Diagnostic>) {
    let id = sources.add(name, text);
    if let Some(offset) = too_deep(text) {
        return (
            id,
            Err(Diagnostic::error("Nesting too deep", format!("This expression nests brackets more than {MAX_NESTING} levels deep."))
                .with_subject(Some(Span::new(id, offset..offset + 1)))),
        );
    }
    match hcl_edit::parser::parse_expr(text) {
        Ok(e) => (id, Ok(e)),
        Err(e) => {
            let loc = e.location();
            let offset = offset_of(text, loc.line(), loc.column());
            let d = Diagnostic::error("Invalid expression", format!("The expression could not be parsed: {}.", e.message().trim_end_matches('.')))
                .with_subject(Some(Span::new(id, offset..(offset + 1).min(text.len().max(offset + 1)))));
            (id, Err(d))
        }
    }
}

/// Reads and parses every stack file of `dir`. Files that fail still produce their diagnostic;
/// the others are returned so that later stages can report their errors too.
pub fn parse_dir(sources: &SourceMap, dir: &Path) -> (Vec<ParsedFile>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    let files = match stack_files(dir) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read stack directory",
                format!("Reading {} failed: {e}. Check that the directory exists and is readable.", dir.display()),
            ));
            return (out, diags);
        }
    };
    for path in files {
        let raw = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(_) => {
                    diags.push(Diagnostic::error("Invalid file encoding", format!("{} is not valid UTF-8. Stack files must be UTF-8 text.", path.display())));
                    continue;
                }
            },
            Err(e) => {
                diags.push(Diagnostic::error("Cannot read file", format!("Reading {} failed: {e}.", path.display())));
                continue;
            }
        };
        let (id, body) = parse_source(sources, &path, &raw);
        match body {
            Ok(body) => out.push(ParsedFile { id, path, body }),
            Err(d) => diags.push(d),
        }
    }
    (out, diags)
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
            return offset + within;
        }
        offset += l.len();
    }
    text.len()
}

/// The offset of the first bracket that opens beyond [`MAX_NESTING`], ignoring brackets in
/// comments is not needed: over-counting only makes the guard stricter on absurd input.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_and_duplicate_object_keys_last_wins() {
        let sources = SourceMap::new();
        let (_, body) = parse_source(&sources, Path::new("a.tf"), "\u{feff}locals {\n  x = { a = 1, a = 2 }\n}\n");
        assert!(body.is_ok());
    }

    #[test]
    fn syntax_error_points_at_line_and_column() {
        let sources = SourceMap::new();
        let (id, body) = parse_source(&sources, Path::new("a.tf"), "locals {\n  x = \n}\n");
        let d = body.unwrap_err();
        let span = d.subject.unwrap();
        assert_eq!(sources.pos(id, span.range.start).line, 2);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let sources = SourceMap::new();
        let src = format!("x = {}1{}", "[".repeat(5000), "]".repeat(5000));
        let (_, body) = parse_source(&sources, Path::new("a.tf"), &src);
        assert_eq!(body.unwrap_err().summary, "Nesting too deep");
    }
}
