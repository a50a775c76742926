//! Canonical formatting of stack files (`infra fmt`): hcl-edit's encoder with its whitespace
//! normalized, comments kept. Alignment of `=` within blocks follows Terraform.

use crate::diag::Diagnostic;

/// Formats a file's text; a syntax error is returned as a diagnostic.
pub fn format(text: &str) -> Result<String, Diagnostic> {
    let sources = crate::source::SourceMap::new();
    let (_, body) = crate::parse::parse_source(&sources, std::path::Path::new("<fmt>"), text);
    body?;
    let mut out = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < lines.len() {
        // Collect a run of single-line attributes at the same depth to align their '='.
        let line = lines[i].trim();
        if line.starts_with('}') || line.starts_with(']') || line.starts_with(')') {
            depth = depth.saturating_sub(1);
        }
        if is_simple_attr(line) {
            let start = i;
            let mut end = i;
            while end < lines.len() && is_simple_attr(lines[end].trim()) && !opens(lines[end].trim()) {
                end += 1;
            }
            if end == start {
                end = start + 1;
            }
            let width = lines[start..end].iter().map(|l| l.trim().split_once('=').map(|(k, _)| k.trim().len()).unwrap_or(0)).max().unwrap_or(0);
            for l in &lines[start..end] {
                let t = l.trim();
                let (k, v) = t.split_once('=').unwrap_or((t, ""));
                out.push_str(&format!("{}{:<width$} = {}\n", "  ".repeat(depth), k.trim(), v.trim()));
                if opens(t) {
                    depth += 1;
                }
            }
            i = end;
            continue;
        }
        if line.is_empty() {
            if !out.ends_with("\n\n") && !out.is_empty() {
                out.push('\n');
            }
        } else {
            out.push_str(&"  ".repeat(depth));
            out.push_str(line);
            out.push('\n');
        }
        if opens(line) {
            depth += 1;
        }
        i += 1;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}

fn is_simple_attr(line: &str) -> bool {
    let Some((k, _)) = line.split_once('=') else {
        return false;
    };
    let k = k.trim();
    !k.is_empty()
        && k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '"')
        && !line.starts_with('#')
        && !line.starts_with("//")
        && !line.contains("==")
}

fn opens(line: &str) -> bool {
    let opens = line.matches(['{', '[', '(']).count();
    let closes = line.matches(['}', ']', ')']).count();
    opens > closes && !line.contains("<<")
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_equals_and_indents_blocks() {
        let src = "resource \"a\" \"b\" {\nx = 1\nlong_name = \"v\" # keep\n}\n";
        let out = super::format(src).unwrap();
        assert_eq!(out, "resource \"a\" \"b\" {\n  x         = 1\n  long_name = \"v\" # keep\n}\n");
        assert_eq!(super::format(&out).unwrap(), out, "formatting is idempotent");
    }
}
