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

/// More unary operators in a row than this (`!!!!x`, `----1`) are refused: each one is a level
/// of recursion in the parser.
pub const MAX_UNARY_RUN: usize = 64;

/// Operators in one file, an upper bound on how deep an operator chain can nest (the parser
/// and the evaluator recurse along chains). Generous for real stacks; the CLI runs with a
/// stack large enough for this many levels.
pub const MAX_OPERATORS: usize = 100_000;

/// Stack files larger than this are refused.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

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
    if let Err(b) = check_brackets(text) {
        let d = Diagnostic::error(b.summary, b.detail).with_subject(Some(Span::new(id, b.offset..b.offset + 1)));
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
    if let Err(b) = check_brackets(text) {
        return (id, Err(Diagnostic::error(b.summary, b.detail).with_subject(Some(Span::new(id, b.offset..b.offset + 1)))));
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

/// A bracket problem found before parsing: its byte offset and what is wrong.
pub struct BracketError {
    pub offset: usize,
    pub summary: &'static str,
    pub detail: String,
}

/// Checks that brackets balance (outside strings, comments and heredocs) and nest at most
/// [`MAX_NESTING`] deep. The parser backtracks exponentially on some unbalanced input, so
/// such input is reported here, with a clearer message, and never reaches it.
pub fn check_brackets(text: &str) -> Result<(), BracketError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        Bracket(u8),
        Str,
        /// `${` or `%{` inside a string: code until the matching `}`.
        Interp,
    }
    let bytes = text.as_bytes();
    if bytes.len() > MAX_FILE_BYTES {
        return Err(BracketError {
            offset: 0,
            summary: "File too large",
            detail: format!("This file is larger than {} MiB, which infra does not read. Split it.", MAX_FILE_BYTES >> 20),
        });
    }
    let mut stack: Vec<(Ctx, usize)> = Vec::new();
    let mut i = 0;
    let mut unary_run = 0usize;
    let mut operators = 0usize;
    let depth = |stack: &[(Ctx, usize)]| stack.iter().filter(|(c, _)| !matches!(c, Ctx::Str)).count();
    while i < bytes.len() {
        let c = bytes[i];
        let in_string = matches!(stack.last(), Some((Ctx::Str, _)));
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    if bytes.get(i.wrapping_sub(1)) != Some(&c) || i == 0 {
                        stack.push((Ctx::Interp, i));
                    }
                    i += 1;
                }
                b'\n' => {
                    let at = stack.last().map(|(_, at)| *at).unwrap_or(i);
                    return Err(BracketError {
                        offset: at,
                        summary: "Unterminated string",
                        detail:
                            "This string is not closed before the end of the line. Add the closing quote, or use a heredoc (<<EOT) for text over several lines."
                                .into(),
                    });
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'!' | b'-' => {
                unary_run += 1;
                if unary_run > MAX_UNARY_RUN {
                    return Err(BracketError {
                        offset: i,
                        summary: "Too many operators in a row",
                        detail: format!("More than {MAX_UNARY_RUN} ! or - operators follow each other here. Simplify the expression."),
                    });
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => unary_run = 0,
        }
        if matches!(c, b'+' | b'-' | b'*' | b'/' | b'%' | b'<' | b'>' | b'&' | b'|' | b'?' | b'!' | b'=') {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(BracketError {
                    offset: i,
                    summary: "Too many operators",
                    detail: format!("This file has more than {MAX_OPERATORS} operators, which infra does not read. Split it into several files."),
                });
            }
        }
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(end) => i += end + 3,
                None => return Err(BracketError { offset: i, summary: "Unterminated comment", detail: "This /* comment is never closed with */.".into() }),
            },
            b'"' => stack.push((Ctx::Str, i)),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                // A heredoc: its body is template text, opaque here, up to the marker line.
                let mut j = i + 2;
                if bytes.get(j) == Some(&b'-') {
                    j += 1;
                }
                let start = j;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                let marker = &text[start..j];
                if !marker.is_empty() && bytes.get(j) == Some(&b'\n') {
                    let mut pos = j + 1;
                    let mut closed = false;
                    for line in text[pos..].split_inclusive('\n') {
                        pos += line.len();
                        if line.trim() == marker {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err(BracketError {
                            offset: i,
                            summary: "Unterminated heredoc",
                            detail: format!("This heredoc is never closed by a line holding only {marker}."),
                        });
                    }
                    i = pos;
                    continue;
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                stack.push((Ctx::Bracket(c), i));
                if depth(&stack) > MAX_NESTING {
                    return Err(BracketError {
                        offset: i,
                        summary: "Nesting too deep",
                        detail: format!("This file nests brackets more than {MAX_NESTING} levels deep, which infra does not accept. Flatten the expression."),
                    });
                }
            }
            b'}' | b']' | b')' => {
                let want = match c {
                    b'}' => b'{',
                    b']' => b'[',
                    _ => b'(',
                };
                match stack.last() {
                    Some((Ctx::Bracket(open), _)) if *open == want => {
                        stack.pop();
                    }
                    Some((Ctx::Interp, _)) if c == b'}' => {
                        stack.pop();
                    }
                    Some((Ctx::Bracket(open), at)) => {
                        return Err(BracketError {
                            offset: i,
                            summary: "Mismatched bracket",
                            detail: format!(
                                "This {} does not close the {} opened on line {}. Check the brackets around here.",
                                c as char,
                                *open as char,
                                text[..*at].matches('\n').count() + 1
                            ),
                        })
                    }
                    _ => {
                        return Err(BracketError {
                            offset: i,
                            summary: "Unexpected closing bracket",
                            detail: format!("This {} closes nothing. Remove it or add the opening bracket.", c as char),
                        })
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some((Ctx::Str, at)) = stack.last() {
        return Err(BracketError { offset: *at, summary: "Unterminated string", detail: "This string is never closed. Add the closing quote.".into() });
    }
    match stack.iter().rev().find(|(c, _)| !matches!(c, Ctx::Str)) {
        Some((Ctx::Bracket(open), at)) => Err(BracketError {
            offset: *at,
            summary: "Unclosed bracket",
            detail: format!("This {} is never closed. Add the matching closing bracket.", *open as char),
        }),
        Some((_, at)) => Err(BracketError { offset: *at, summary: "Unclosed interpolation", detail: "This ${ or %{ is never closed with }.".into() }),
        None => Ok(()),
    }
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

#[cfg(test)]
mod bracket_tests {
    use super::check_brackets;

    #[test]
    fn strings_comments_heredocs_and_interpolations_do_not_count() {
        let ok = "x = \"a { b ${c} }\" # {\n// [\n/* ( */ y = <<-EOT\n  { unbalanced\n  EOT\nz = \"$${lit\"\n";
        assert!(check_brackets(ok).is_ok());
        assert!(check_brackets("x = \"${ {a = 1}[\"a\"] }\"").is_ok());
    }

    #[test]
    fn unbalanced_input_names_the_bracket() {
        assert_eq!(check_brackets("x = {\n").err().map(|e| (e.offset, e.summary)), Some((4, "Unclosed bracket")));
        assert_eq!(check_brackets("x = [1)").err().map(|e| e.summary), Some("Mismatched bracket"));
        assert_eq!(check_brackets("x = 1}").err().map(|e| e.summary), Some("Unexpected closing bracket"));
        assert_eq!(check_brackets("x = <<EOT\nnever closed\n").err().map(|e| e.summary), Some("Unterminated heredoc"));
        assert_eq!(check_brackets("x = \"abc\ny = [").err().map(|e| (e.offset, e.summary)), Some((4, "Unterminated string")));
        assert_eq!(check_brackets("x = \"abc").err().map(|e| e.summary), Some("Unterminated string"));
    }
}
