//! Canonical formatting of stack files (`infra fmt`), byte for byte what `terraform fmt` writes.
//!
//! The file is cut into tokens (keeping every byte), the tokens into lines, and only the spaces
//! before tokens change, following the rules of Terraform's formatter:
//! - indentation: two spaces per level; a line whose brackets open more than they close opens
//!   ONE level however many brackets it opens (`x = merge(var.tags, {` → the object body is one
//!   level in, and the `})` that closes both comes back to the opening line's level); a line that
//!   closes brackets dedents by the levels those brackets opened;
//! - spacing between tokens: one space between most tokens, none around `.`, before `,`, `...`,
//!   after opening and before closing brackets (but `{ a = 1 }` keeps its inner spaces, `{}`
//!   none), none inside `"..."` templates and heredoc text, none after a unary `-` or `!`;
//! - alignment: on consecutive lines that are single-line `name = value` arguments the `=` line
//!   up; a line whose value opens brackets it does not close (a multi-line value), a blank line
//!   or a comment-only line ends the run; trailing comments on consecutive lines line up after
//!   the longest line;
//! - heredoc text and comments are copied byte for byte; blank lines are kept as they are.
//!
//! Like `terraform fmt`, it also rewrites a few legacy spellings: block labels written as bare
//! names are quoted, an argument whose value is only `"${expr}"` becomes `expr`, and a
//! variable's `type = "string"` / `type = list` become `string` / `list(any)`.

use crate::diag::Diagnostic;

/// Formats a file's text; a file that does not parse is returned as a diagnostic, untouched.
pub fn format(text: &str) -> Result<String, Diagnostic> {
    let sources = crate::source::SourceMap::new();
    let (_, body) = crate::parse::parse_source(&sources, std::path::Path::new("<fmt>"), text);
    body?;
    let (mut toks, trailing) = lex(text);
    rewrite_legacy(&mut toks);
    layout(&mut toks);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for t in &toks {
        for _ in 0..t.spaces {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
    out.push_str(&trailing);
    // Never hand back text that no longer parses: better to leave a file alone.
    let (_, again) = crate::parse::parse_source(&sources, std::path::Path::new("<fmt-output>"), &out);
    if again.is_err() {
        return Err(Diagnostic::error(
            "Formatting failed",
            "infra fmt produced text that does not parse, so the file was left as it is. Please report this file.",
        ));
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum K {
    Ident,
    Number,
    OQuote,
    CQuote,
    /// Literal text inside a quoted template.
    QuotedLit,
    /// `${` or `${~`.
    Interp,
    /// `%{` or `%{~`.
    Control,
    /// The `}` or `~}` ending an interpolation or directive.
    SeqEnd,
    /// `<<EOT` or `<<-EOT` with its newline.
    OHeredoc,
    /// The closing marker line of a heredoc, with its indentation, without the newline.
    CHeredoc,
    /// Literal text of a heredoc line (with the newline that ends it).
    StringLit,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    Comma,
    Dot,
    Ellipsis,
    Equal,
    Colon,
    DoubleColon,
    Question,
    FatArrow,
    Minus,
    Bang,
    Plus,
    Star,
    Slash,
    Percent,
    EqOp,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `# ...` or `// ...` with its newline, or `/* ... */`.
    Comment,
    Newline,
    Other,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: K,
    text: String,
    spaces: usize,
}

impl Tok {
    fn new(kind: K, text: &str) -> Tok {
        Tok { kind, text: text.to_string(), spaces: 0 }
    }
    /// A line comment carries the newline that ends its line.
    fn ends_line(&self) -> bool {
        self.kind == K::Newline || (self.kind == K::Comment && self.text.ends_with('\n'))
    }
    fn bracket_change(&self) -> isize {
        match self.kind {
            K::OBrace | K::OBrack | K::OParen | K::Interp | K::Control => 1,
            K::CBrace | K::CBrack | K::CParen | K::SeqEnd => -1,
            _ => 0,
        }
    }
}

enum Mode {
    /// Expression text; `Some(depth)` inside `${ }`/`%{ }` with the depth of `{` opened there.
    Expr(Option<usize>),
    Quoted,
    Heredoc {
        marker: String,
        line_start: bool,
    },
}

/// Cuts the text into tokens; the spaces before each token are recorded and every other byte
/// is in some token's text. Returns the tokens and the spaces after the last one.
fn lex(src: &str) -> (Vec<Tok>, String) {
    let b = src.as_bytes();
    let mut toks: Vec<Tok> = Vec::new();
    let mut modes = vec![Mode::Expr(None)];
    let mut i = 0;
    let mut spaces = 0;
    let push = |toks: &mut Vec<Tok>, kind: K, text: &str, spaces: &mut usize| {
        toks.push(Tok { kind, text: text.to_string(), spaces: *spaces });
        *spaces = 0;
    };
    while i < b.len() {
        let rest = &src[i..];
        match modes.last_mut() {
            Some(Mode::Quoted) => {
                if rest.starts_with('"') {
                    push(&mut toks, K::CQuote, "\"", &mut spaces);
                    modes.pop();
                    i += 1;
                } else if let Some(open) = template_open(rest) {
                    push(&mut toks, if rest.starts_with('$') { K::Interp } else { K::Control }, &rest[..open], &mut spaces);
                    modes.push(Mode::Expr(Some(0)));
                    i += open;
                } else {
                    let n = literal_len(rest, false);
                    push(&mut toks, K::QuotedLit, &rest[..n], &mut spaces);
                    i += n;
                }
            }
            Some(Mode::Heredoc { marker, line_start }) => {
                let line_end = rest.find('\n').map(|p| p + 1).unwrap_or(rest.len());
                let line = &rest[..line_end];
                if *line_start && line.trim() == marker.as_str() {
                    let body = line.trim_end_matches(['\n', '\r']);
                    push(&mut toks, K::CHeredoc, body, &mut spaces);
                    i += body.len();
                    modes.pop();
                } else if let Some(open) = template_open(rest) {
                    push(&mut toks, if rest.starts_with('$') { K::Interp } else { K::Control }, &rest[..open], &mut spaces);
                    *line_start = false;
                    modes.push(Mode::Expr(Some(0)));
                    i += open;
                } else {
                    let n = literal_len(rest, true);
                    let lit = &rest[..n];
                    *line_start = lit.ends_with('\n');
                    push(&mut toks, K::StringLit, lit, &mut spaces);
                    i += n;
                }
            }
            Some(Mode::Expr(depth)) => {
                let c = b[i];
                if c == b' ' || c == b'\t' {
                    spaces += 1;
                    i += 1;
                    continue;
                }
                if rest.starts_with("\r\n") || c == b'\n' {
                    let n = if c == b'\n' { 1 } else { 2 };
                    push(&mut toks, K::Newline, &rest[..n], &mut spaces);
                    i += n;
                    continue;
                }
                if c == b'#' || rest.starts_with("//") {
                    let n = rest.find('\n').map(|p| p + 1).unwrap_or(rest.len());
                    push(&mut toks, K::Comment, &rest[..n], &mut spaces);
                    i += n;
                    continue;
                }
                if rest.starts_with("/*") {
                    let n = rest[2..].find("*/").map(|p| p + 4).unwrap_or(rest.len());
                    push(&mut toks, K::Comment, &rest[..n], &mut spaces);
                    i += n;
                    continue;
                }
                if let Some(d) = depth {
                    if c == b'}' || rest.starts_with("~}") {
                        if *d == 0 {
                            let n = if c == b'~' { 2 } else { 1 };
                            push(&mut toks, K::SeqEnd, &rest[..n], &mut spaces);
                            modes.pop();
                            i += n;
                            continue;
                        }
                        if c == b'}' {
                            *d -= 1;
                        }
                    } else if c == b'{' {
                        *d += 1;
                    }
                }
                if c == b'"' {
                    push(&mut toks, K::OQuote, "\"", &mut spaces);
                    modes.push(Mode::Quoted);
                    i += 1;
                    continue;
                }
                if let Some((n, marker)) = heredoc_open(rest) {
                    push(&mut toks, K::OHeredoc, &rest[..n], &mut spaces);
                    modes.push(Mode::Heredoc { marker, line_start: true });
                    i += n;
                    continue;
                }
                if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
                    let n = rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '-')).unwrap_or(rest.len());
                    let n = n.max(rest.chars().next().map(|ch| ch.len_utf8()).unwrap_or(1));
                    push(&mut toks, K::Ident, &rest[..n], &mut spaces);
                    i += n;
                    continue;
                }
                if c.is_ascii_digit() {
                    let n = number_len(rest);
                    push(&mut toks, K::Number, &rest[..n], &mut spaces);
                    i += n;
                    continue;
                }
                const OPS: [(&str, K); 33] = [
                    ("...", K::Ellipsis),
                    ("==", K::EqOp),
                    ("!=", K::NotEq),
                    ("<=", K::Le),
                    (">=", K::Ge),
                    ("&&", K::And),
                    ("||", K::Or),
                    ("=>", K::FatArrow),
                    ("::", K::DoubleColon),
                    ("{", K::OBrace),
                    ("}", K::CBrace),
                    ("[", K::OBrack),
                    ("]", K::CBrack),
                    ("(", K::OParen),
                    (")", K::CParen),
                    (",", K::Comma),
                    (".", K::Dot),
                    ("=", K::Equal),
                    (":", K::Colon),
                    ("?", K::Question),
                    ("-", K::Minus),
                    ("!", K::Bang),
                    ("+", K::Plus),
                    ("*", K::Star),
                    ("/", K::Slash),
                    ("%", K::Percent),
                    ("<", K::Lt),
                    (">", K::Gt),
                    ("~", K::Other),
                    ("&", K::Other),
                    ("|", K::Other),
                    (";", K::Other),
                    ("@", K::Other),
                ];
                let (n, kind) = OPS
                    .iter()
                    .find(|(op, _)| rest.starts_with(op))
                    .map(|(op, k)| (op.len(), *k))
                    .unwrap_or_else(|| (rest.chars().next().map(|ch| ch.len_utf8()).unwrap_or(1), K::Other));
                push(&mut toks, kind, &rest[..n], &mut spaces);
                i += n;
            }
            None => break,
        }
    }
    (toks, " ".repeat(spaces))
}

/// `${`, `${~`, `%{` or `%{~` at the start (not the escapes `$${` / `%%{`): its length.
fn template_open(s: &str) -> Option<usize> {
    if s.starts_with("${") || s.starts_with("%{") {
        Some(if s[2..].starts_with('~') { 3 } else { 2 })
    } else {
        None
    }
}

/// Length of template literal text at the start of `s`: up to a closing quote (quoted), the end
/// of the line (heredoc, newline included) or an interpolation; escapes are part of the text.
fn literal_len(s: &str, heredoc: bool) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if !heredoc => i += 2,
            b'"' if !heredoc => return i.max(if i == 0 { 1 } else { 0 }),
            b'\n' if heredoc => return i + 1,
            b'$' | b'%' if b.get(i + 1) == Some(&b[i]) && b.get(i + 2) == Some(&b'{') => i += 3,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => return i.max(1),
            _ => i += 1,
        }
    }
    b.len().max(1).min(s.len())
}

/// `<<EOT\n` / `<<-EOT\n` at the start: its length (newline included) and the marker.
fn heredoc_open(s: &str) -> Option<(usize, String)> {
    let r = s.strip_prefix("<<")?;
    let r2 = r.strip_prefix('-').unwrap_or(r);
    let name_len = r2.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(r2.len());
    if name_len == 0 || !r2.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') {
        return None;
    }
    let after = &r2[name_len..];
    let nl = if after.starts_with("\r\n") {
        2
    } else if after.starts_with('\n') {
        1
    } else {
        return None;
    };
    Some((s.len() - after.len() + nl, r2[..name_len].to_string()))
}

fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(0);
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i = digits(i + 1);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = digits(j);
        }
    }
    i
}

/// One line of tokens cut in up to three cells: `lead`, then `assign` (from a `=` whose value
/// closes every bracket it opens) and `comment` (a line comment after other tokens).
struct Line {
    start: usize,
    assign: Option<usize>,
    comment: Option<usize>,
    end: usize,
}

impl Line {
    fn lead(&self) -> std::ops::Range<usize> {
        self.start..self.assign.or(self.comment).unwrap_or(self.end)
    }
    fn assign_cell(&self) -> std::ops::Range<usize> {
        match self.assign {
            Some(a) => a..self.comment.unwrap_or(self.end),
            None => 0..0,
        }
    }
}

fn lines_of(toks: &[Tok]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.ends_line() {
            lines.push(Line { start, assign: None, comment: None, end: i + 1 });
            start = i + 1;
        }
    }
    if start < toks.len() {
        lines.push(Line { start, assign: None, comment: None, end: toks.len() });
    }
    for l in &mut lines {
        if l.end - l.start > 1 && toks[l.end - 1].kind == K::Comment {
            l.comment = Some(l.end - 1);
        }
        let lead_end = l.comment.unwrap_or(l.end);
        if let Some(eq) = (l.start + 1..lead_end).find(|&i| toks[i].kind == K::Equal) {
            let net: isize = toks[eq..lead_end].iter().map(Tok::bracket_change).sum();
            if net == 0 {
                l.assign = Some(eq);
            }
        }
    }
    lines
}

fn layout(toks: &mut [Tok]) {
    let lines = lines_of(toks);
    // Indentation.
    let mut indents: Vec<isize> = Vec::new();
    for l in &lines {
        if l.start == l.end {
            continue;
        }
        if toks[l.start].kind == K::Newline {
            toks[l.start].spaces = 0;
            continue;
        }
        let mut net = 0isize;
        for t in &toks[l.lead()] {
            net += t.bracket_change();
            if t.kind == K::OHeredoc {
                break;
            }
        }
        net += toks[l.assign_cell()].iter().map(Tok::bracket_change).sum::<isize>();
        if net > 0 {
            toks[l.start].spaces = 2 * indents.len();
            indents.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = indents.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    indents.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            toks[l.start].spaces = 2 * indents.len();
        }
    }
    // Spaces between the tokens of a cell.
    for l in &lines {
        for (cell, is_assign) in [(l.lead(), false), (l.assign_cell(), true)] {
            if cell.is_empty() {
                continue;
            }
            if is_assign {
                toks[cell.start].spaces = 1;
            }
            for i in cell.start..cell.end - 1 {
                let before = if i > cell.start { Some(toks[i - 1].kind) } else { None };
                let sp = space_after(&toks[i], before, &toks[i + 1]);
                toks[i + 1].spaces = usize::from(sp);
            }
        }
    }
    // Alignment of `=` over runs of lines with an assign cell, then of trailing comments.
    let columns = |toks: &[Tok], r: std::ops::Range<usize>| -> usize { toks[r].iter().map(|t| t.spaces + width(&t.text)).sum() };
    let mut run: Vec<&Line> = Vec::new();
    let flush = |toks: &mut [Tok], run: &mut Vec<&Line>, comment: bool| {
        let cols: Vec<usize> = run.iter().map(|l| columns(toks, l.lead()) + if comment { columns(toks, l.assign_cell()) } else { 0 }).collect();
        let max = cols.iter().copied().max().unwrap_or(0);
        for (l, c) in run.iter().zip(cols) {
            let at = if comment { l.comment } else { l.assign };
            if let Some(at) = at {
                toks[at].spaces = max - c + 1;
            }
        }
        run.clear();
    };
    for comment in [false, true] {
        for l in &lines {
            let has = if comment { l.comment.is_some() } else { l.assign.is_some() };
            if has {
                run.push(l);
            } else {
                flush(toks, &mut run, comment);
            }
        }
        flush(toks, &mut run, comment);
    }
}

/// Whether one space follows `t` when `after` comes next (`before` is the token before `t` in
/// the same cell).
fn space_after(t: &Tok, before: Option<K>, after: &Tok) -> bool {
    let (s, a) = (t.kind, after.kind);
    let opens = |k: K| matches!(k, K::OBrace | K::OBrack | K::OParen | K::Interp | K::Control);
    let closes = |k: K| matches!(k, K::CBrace | K::CBrack | K::CParen | K::SeqEnd);
    if a == K::Newline {
        return false;
    }
    if s == K::Ident && a == K::OParen {
        return false;
    }
    if (s == K::Ident && a == K::DoubleColon) || (s == K::DoubleColon && a == K::Ident) {
        return false;
    }
    if s == K::Dot || a == K::Dot {
        return false;
    }
    if a == K::Comma || a == K::Ellipsis {
        return false;
    }
    if s == K::Comma {
        return true;
    }
    if matches!(s, K::QuotedLit | K::StringLit | K::OQuote | K::OHeredoc) || matches!(a, K::QuotedLit | K::StringLit | K::CQuote | K::CHeredoc) {
        return false;
    }
    if s == K::Ident && t.text == "in" && before == Some(K::Ident) {
        return true;
    }
    if a == K::OBrack && (s == K::Ident || s == K::Number || closes(s)) {
        return false;
    }
    if s == K::Bang {
        return false;
    }
    if s == K::Minus {
        return match before {
            None => false,
            Some(
                K::OParen
                | K::OBrace
                | K::OBrack
                | K::Equal
                | K::Colon
                | K::Comma
                | K::Question
                | K::Plus
                | K::Star
                | K::Slash
                | K::Percent
                | K::Minus
                | K::EqOp
                | K::NotEq
                | K::Gt
                | K::Ge
                | K::Lt
                | K::Le
                | K::And
                | K::Or
                | K::Bang,
            ) => false,
            _ => true,
        };
    }
    if s == K::OBrace || a == K::CBrace {
        return !(s == K::OBrace && a == K::CBrace);
    }
    if matches!(s, K::Interp | K::Control) && a == K::OBrace {
        return true;
    }
    if s == K::CBrace && a == K::SeqEnd {
        return true;
    }
    if s == K::SeqEnd && matches!(a, K::Interp | K::Control) {
        return false;
    }
    if opens(s) || closes(a) {
        return false;
    }
    true
}

/// Display width for alignment: characters, with combining marks, joiners and variation
/// selectors counting zero and a pair of regional indicators (a flag) one.
fn width(s: &str) -> usize {
    let mut n = 0;
    let mut pending_flag = false;
    for c in s.chars() {
        let u = c as u32;
        if (0x300..=0x36f).contains(&u) || u == 0x200d || (0xfe00..=0xfe0f).contains(&u) || (0x1f3fb..=0x1f3ff).contains(&u) {
            continue;
        }
        if (0x1f1e6..=0x1f1ff).contains(&u) {
            if pending_flag {
                pending_flag = false;
                continue;
            }
            pending_flag = true;
        } else {
            pending_flag = false;
        }
        n += 1;
    }
    n
}

/// The rewrites `terraform fmt` makes besides whitespace: quoted block labels, `"${expr}"`
/// arguments unwrapped, legacy variable type spellings. Walks the file's bodies.
fn rewrite_legacy(toks: &mut Vec<Tok>) {
    let mut i = 0;
    body(toks, &mut i, &mut Vec::new());
}

fn next_significant(toks: &[Tok], mut i: usize) -> usize {
    while i < toks.len() && toks[i].kind == K::Comment && !toks[i].text.ends_with('\n') {
        i += 1;
    }
    i
}

/// Walks one body from `*i` to its closing `}` (consumed) or the end of the file.
fn body(toks: &mut Vec<Tok>, i: &mut usize, blocks: &mut Vec<String>) {
    while *i < toks.len() {
        match toks[*i].kind {
            K::Newline | K::Comment => *i += 1,
            K::CBrace => {
                *i += 1;
                return;
            }
            K::Ident => {
                let name = toks[*i].text.clone();
                let j = next_significant(toks, *i + 1);
                if j < toks.len() && toks[j].kind == K::Equal {
                    let start = next_significant(toks, j + 1);
                    let mut end = start;
                    let mut depth = 0isize;
                    while end < toks.len() {
                        let t = &toks[end];
                        if depth == 0 && (t.ends_line() || t.kind == K::CBrace) {
                            break;
                        }
                        depth += t.bracket_change();
                        end += 1;
                    }
                    // Trailing block comments stay outside the value.
                    let mut vend = end;
                    while vend > start && toks[vend - 1].kind == K::Comment {
                        vend -= 1;
                    }
                    let value: Vec<Tok> = toks[start..vend].to_vec();
                    let new = if blocks.len() == 1 && blocks[0] == "variable" && name == "type" { type_expr(&value) } else { unwrap_interpolation(&value) };
                    if let Some(mut new) = new {
                        if let Some(first) = new.first_mut() {
                            first.spaces = toks[start].spaces;
                        }
                        let n = new.len();
                        toks.splice(start..vend, new);
                        end = end + n - (vend - start);
                    }
                    *i = end;
                } else {
                    // A block: labels, then `{`.
                    *i += 1;
                    while *i < toks.len() && !matches!(toks[*i].kind, K::OBrace | K::Newline) {
                        if toks[*i].kind == K::Ident {
                            let text = std::mem::take(&mut toks[*i].text);
                            let spaces = toks[*i].spaces;
                            toks.splice(*i..*i + 1, [Tok { spaces, ..Tok::new(K::OQuote, "\"") }, Tok::new(K::QuotedLit, &text), Tok::new(K::CQuote, "\"")]);
                            *i += 3;
                        } else {
                            *i += 1;
                        }
                    }
                    if *i < toks.len() && toks[*i].kind == K::OBrace {
                        *i += 1;
                        blocks.push(name);
                        body(toks, i, blocks);
                        blocks.pop();
                    }
                }
            }
            _ => {
                // Not an argument or block (a `"key" = value` line of a .tfvars file, ...): skip
                // the line with whatever it nests.
                let mut depth = 0isize;
                while *i < toks.len() {
                    let t = &toks[*i];
                    *i += 1;
                    depth += t.bracket_change();
                    if depth <= 0 && t.ends_line() {
                        break;
                    }
                }
            }
        }
    }
}

/// `"${expr}"` (one interpolation, no literal text) → `expr`, in parentheses when it spans lines.
fn unwrap_interpolation(v: &[Tok]) -> Option<Vec<Tok>> {
    if v.len() < 5 || v[0].kind != K::OQuote || v[1].kind != K::Interp || v[v.len() - 2].kind != K::SeqEnd || v[v.len() - 1].kind != K::CQuote {
        return None;
    }
    let inside = &v[2..v.len() - 2];
    let mut quotes = 0;
    for t in inside {
        match t.kind {
            K::OQuote => quotes += 1,
            K::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            K::Interp | K::SeqEnd | K::QuotedLit | K::Control => return None,
            _ => {}
        }
    }
    if v[1].text != "${" || v[v.len() - 2].text != "}" {
        return None;
    }
    let mut a = 0;
    let mut b = inside.len();
    while a < b && inside[a].kind == K::Newline {
        a += 1;
    }
    while b > a && inside[b - 1].kind == K::Newline {
        b -= 1;
    }
    let trimmed = &inside[a..b];
    if trimmed.is_empty() {
        return None;
    }
    let multi = trimmed.iter().any(|t| t.kind == K::Newline);
    let parens = trimmed[0].kind == K::OParen && trimmed[trimmed.len() - 1].kind == K::CParen;
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    if multi && !parens {
        out.push(Tok::new(K::OParen, "("));
        out.extend_from_slice(trimmed);
        out.push(Tok::new(K::CParen, ")"));
    } else {
        out.extend_from_slice(trimmed);
    }
    Some(out)
}

/// A variable's legacy type spellings: `"string"` → `string`, `"list"`/`"map"` → `list(string)`
/// / `map(string)`, bare `list`/`map`/`set` → `list(any)`...
fn type_expr(v: &[Tok]) -> Option<Vec<Tok>> {
    let call = |name: &str, arg: &str| Some(vec![Tok::new(K::Ident, name), Tok::new(K::OParen, "("), Tok::new(K::Ident, arg), Tok::new(K::CParen, ")")]);
    match v {
        [t] if t.kind == K::Ident && matches!(t.text.as_str(), "list" | "map" | "set") => call(&t.text, "any"),
        [o, s, c] if o.kind == K::OQuote && s.kind == K::QuotedLit && c.kind == K::CQuote => match s.text.as_str() {
            "string" => Some(vec![Tok::new(K::Ident, "string")]),
            "list" | "map" => call(&s.text, "string"),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
