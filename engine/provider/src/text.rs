//! Text helpers providers share for diagnostics.

/// The text of an HTML or XML page, its tags dropped and its white space folded: what a proxy's
/// or load balancer's error page says, for a diagnostic.
pub fn strip_markup(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in body.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_becomes_its_words() {
        assert_eq!(super::strip_markup("<html><body><h1>503 Service\n Unavailable</h1></body></html>"), "503 Service Unavailable");
        assert_eq!(super::strip_markup("plain text"), "plain text");
    }
}
