//! Canonical formatting of stack files (`infra fmt`): two-space indentation by bracket depth,
//! `=` aligned across consecutive single-line arguments, one space around `=`, no trailing
//! whitespace. Comments are kept; heredoc bodies, multi-line strings and block comments are
//! copied byte for byte, so formatting never changes what a file means.

use crate::diag::Diagnostic;

/// Formats a file's text; a file that does not parse is returned as a diagnostic, untouched.
pub fn format(text: &str) -> Result<String, Diagnostic> {
    let sources = crate::source::SourceMap::new();
    let (_, body) = crate::parse::parse_source(&sources, std::path::Path::new("<fmt>"), text);
    body?;
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut depth: usize = 0;
    let mut verbatim: Option<Verbatim> = None;
    // Indexes in `out` of the current run of alignable `key = value` lines, and their depth.
    let mut run: Vec<usize> = Vec::new();
    let mut run_depth = 0;
    for raw in &lines {
        if let Some(v) = &verbatim {
            let trimmed = raw.trim();
            let ends = match v {
                Verbatim::Heredoc(marker) => trimmed == marker,
                Verbatim::BlockComment => raw.contains("*/"),
            };
            out.push(raw.to_string());
            if ends {
                verbatim = None;
            }
            continue;
        }
        let line = raw.trim();
        let scan = scan_line(line);
        let closes_first = line.starts_with(['}', ']', ')']);
        let indent = if closes_first { depth.saturating_sub(1) } else { depth };
        let formatted = if line.is_empty() {
            String::new()
        } else if let Some((key, value)) = split_assignment(line) {
            format!("{}{key} = {value}", "  ".repeat(indent))
        } else {
            format!("{}{line}", "  ".repeat(indent))
        };
        let alignable = !line.is_empty() && split_assignment(line).is_some() && !scan.opens_multiline_string;
        if alignable && (run.is_empty() || run_depth == indent) {
            run.push(out.len());
            run_depth = indent;
        } else {
            align(&mut out, &run);
            run.clear();
            if alignable {
                run.push(out.len());
                run_depth = indent;
            }
        }
        out.push(formatted);
        // A line that opens a nested construct ends the alignment run after itself.
        if scan.delta > 0 {
            align(&mut out, &run);
            run.clear();
        }
        depth = (depth as isize + scan.delta).max(0) as usize;
        verbatim = scan.starts;
    }
    align(&mut out, &run);
    let mut text_out = out.join("\n");
    while text_out.ends_with("\n\n") {
        text_out.pop();
    }
    if !text_out.ends_with('\n') && !text_out.is_empty() {
        text_out.push('\n');
    }
    // Never hand back text that no longer parses: better to leave a file alone.
    let (_, again) = crate::parse::parse_source(&sources, std::path::Path::new("<fmt-output>"), &text_out);
    if again.is_err() {
        return Err(Diagnostic::error(
            "Formatting failed",
            "infra fmt produced text that does not parse, so the file was left as it is. Please report this file.",
        ));
    }
    Ok(text_out)
}

enum Verbatim {
    Heredoc(String),
    BlockComment,
}

struct Scan {
    /// Opening minus closing brackets outside strings and comments.
    delta: isize,
    /// A heredoc or block comment that continues on the next lines.
    starts: Option<Verbatim>,
    opens_multiline_string: bool,
}

/// Scans one trimmed line: bracket balance outside strings and comments, and whether a heredoc
/// or block comment starts here.
fn scan_line(line: &str) -> Scan {
    let chars: Vec<char> = line.chars().collect();
    let mut delta = 0isize;
    let mut i = 0;
    let mut starts = None;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' => break,
            '/' if chars.get(i + 1) == Some(&'/') => break,
            '/' if chars.get(i + 1) == Some(&'*') => match line[byte_at(&chars, i + 2)..].find("*/") {
                Some(end) => {
                    i = chars.len().min(i + 2 + line[byte_at(&chars, i + 2)..byte_at(&chars, i + 2) + end].chars().count() + 2);
                    continue;
                }
                None => {
                    starts = Some(Verbatim::BlockComment);
                    break;
                }
            },
            '"' => {
                // Skip the string, including ${ ... } interpolations with their own quotes.
                i += 1;
                let mut interp = 0usize;
                while i < chars.len() {
                    match chars[i] {
                        '\\' => i += 1,
                        '$' | '%' if chars.get(i + 1) == Some(&'{') && !(i > 0 && chars[i - 1] == chars[i]) => {
                            interp += 1;
                            i += 1;
                        }
                        '}' if interp > 0 => interp -= 1,
                        '"' if interp == 0 => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            '<' if chars.get(i + 1) == Some(&'<') => {
                let rest: String = chars[i + 2..].iter().collect();
                let rest = rest.strip_prefix('-').unwrap_or(&rest);
                let marker: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !marker.is_empty() {
                    starts = Some(Verbatim::Heredoc(marker));
                    break;
                }
            }
            '{' | '[' | '(' => delta += 1,
            '}' | ']' | ')' => delta -= 1,
            _ => {}
        }
        i += 1;
    }
    Scan { delta, opens_multiline_string: matches!(starts, Some(Verbatim::Heredoc(_))), starts }
}

fn byte_at(chars: &[char], idx: usize) -> usize {
    chars[..idx.min(chars.len())].iter().map(|c| c.len_utf8()).sum()
}

/// `key = value` at the start of a line (not `==`, not inside a string): key and value.
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let key_end = line.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '"'))?;
    let key = &line[..key_end];
    if key.is_empty() || line.starts_with('#') || line.starts_with("//") {
        return None;
    }
    let rest = line[key_end..].trim_start();
    let value = rest.strip_prefix('=')?;
    if value.starts_with('=') || value.starts_with('>') {
        return None;
    }
    Some((key, value.trim()))
}

/// Pads the keys of the given lines so their `=` line up.
fn align(out: &mut [String], run: &[usize]) {
    if run.len() < 2 {
        return;
    }
    let split = |l: &str| -> Option<(String, String, String)> {
        let indent: String = l.chars().take_while(|c| *c == ' ').collect();
        let (k, v) = split_assignment(l.trim_start())?;
        Some((indent, k.to_string(), v.to_string()))
    };
    let width = run.iter().filter_map(|&i| split(&out[i])).map(|(_, k, _)| k.chars().count()).max().unwrap_or(0);
    for &i in run {
        if let Some((indent, k, v)) = split(&out[i]) {
            out[i] = format!("{indent}{k:<width$} = {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn aligns_equals_indents_blocks_and_keeps_comments() {
        let src = "resource \"a\" \"b\" {\nx = 1\nlong_name = \"v\" # keep\n  tags = {\n  k=\"v\"\n  }\n}\n";
        let out = format(src).unwrap();
        assert_eq!(out, "resource \"a\" \"b\" {\n  x         = 1\n  long_name = \"v\" # keep\n  tags      = {\n    k = \"v\"\n  }\n}\n");
        assert_eq!(format(&out).unwrap(), out, "formatting is idempotent");
    }

    #[test]
    fn heredoc_bodies_and_strings_with_braces_are_untouched() {
        let src = "locals {\n      x = <<-EOT\n   keep { this\n        as is\n    EOT\n  y = \"a { b ${var.c} }\"\n  z = 1\n}\n";
        let out = format(src).unwrap();
        assert!(out.contains("   keep { this\n        as is\n    EOT\n"), "{out}");
        assert!(out.contains("  y = \"a { b ${var.c} }\"\n  z = 1\n}"), "{out}");
    }

    #[test]
    fn a_file_that_does_not_parse_is_an_error() {
        assert!(format("locals {\n  x = \n}\n").is_err());
    }
}
