//! The inventory protocol: one shell script reads every object of a host, each in its own
//! section (`@@ <n>`), as `key value` lines; values that may hold anything are base64. Helper
//! functions defined once at the top keep each object's probe to a line or two.

use std::collections::BTreeMap;

/// Facts about one object: `key → value` as the probe printed them.
pub type Facts = BTreeMap<String, String>;

const HEADER: &str = r#"export LC_ALL=C
b64() { base64 -w0; }
# file PREFIX PATH EXPECTED_SHA256 WANT_CONTENT: existence, metadata, hash, and the content when
# it differs from what was recorded (so the plan can show the hand edit).
file() {
  if [ -e "$2" ] || [ -L "$2" ]; then
    echo "$1exists 1"
    echo "$1mode $(stat -c %a -- "$2")"
    echo "$1owner $(stat -c %U -- "$2")"
    echo "$1group $(stat -c %G -- "$2")"
    echo "$1kind $(stat -c %F -- "$2" | tr ' ' _)"
    if [ -L "$2" ]; then echo "$1target $(readlink -- "$2" | b64)"; fi
    if [ -f "$2" ]; then
      s=$(sha256sum -- "$2" | cut -d' ' -f1)
      echo "$1sha256 $s"
      if [ "$s" != "$3" ] && [ "$4" = 1 ]; then echo "$1content $(b64 < "$2")"; fi
    fi
  else
    echo "$1exists 0"
  fi
}
# unit PREFIX NAME: systemd's view of a unit.
unit() {
  echo "$1enabled $(systemctl is-enabled -- "$2" 2>/dev/null | head -n1)"
  echo "$1active $(systemctl is-active -- "$2" 2>/dev/null | head -n1)"
}
# user PREFIX NAME: the passwd entry of an account, its primary group and every group it is in.
user() {
  if p=$(getent passwd "$2"); then
    echo "$1exists 1"
    printf '%spasswd %s\n' "$1" "$p"
    printf '%sprimary %s\n' "$1" "$(id -gn "$2" 2>/dev/null)"
    printf '%sgroups %s\n' "$1" "$(id -Gn "$2" 2>/dev/null)"
  else
    echo "$1exists 0"
  fi
}
# group PREFIX NAME: the group entry.
group() {
  if g=$(getent group "$2"); then
    echo "$1exists 1"
    printf '%sentry %s\n' "$1" "$g"
  else
    echo "$1exists 0"
  fi
}
# cert PREFIX PATH: a certificate's end date, issuer, subject and names (one line each).
cert() {
  if [ -s "$2" ]; then
    echo "$1exists 1"
    printf '%snot_after %s\n' "$1" "$(openssl x509 -noout -enddate -in "$2" 2>/dev/null | cut -d= -f2-)"
    printf '%sissuer %s\n' "$1" "$(openssl x509 -noout -issuer -nameopt RFC2253 -in "$2" 2>/dev/null | cut -d= -f2-)"
    printf '%ssubject %s\n' "$1" "$(openssl x509 -noout -subject -nameopt RFC2253 -in "$2" 2>/dev/null | cut -d= -f2-)"
    printf '%snames %s\n' "$1" "$(openssl x509 -noout -ext subjectAltName -in "$2" 2>/dev/null | tail -n +2 | tr -d ' ')"
  else
    echo "$1exists 0"
  fi
}
"#;

/// The whole script: the helpers, then one section per object.
pub fn script<I: IntoIterator<Item = String>>(probes: I) -> String {
    let mut s = String::from(HEADER);
    for (i, p) in probes.into_iter().enumerate() {
        s.push_str(&format!("echo '@@ {i}'\n{p}\n"));
    }
    s
}

/// Splits the script's output into `n` sections of facts (empty for a section that printed
/// nothing).
pub fn parse(output: &str, n: usize) -> Vec<Facts> {
    let mut out = vec![Facts::new(); n];
    let mut current: Option<usize> = None;
    for line in output.lines() {
        if let Some(i) = line.strip_prefix("@@ ") {
            current = i.trim().parse().ok().filter(|i| *i < n);
            continue;
        }
        if let (Some(i), Some((k, v))) = (current, line.split_once(' ')) {
            out[i].insert(k.to_string(), v.to_string());
        } else if let (Some(i), false) = (current, line.is_empty()) {
            out[i].insert(line.to_string(), String::new());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_are_split_and_keys_keep_the_rest_of_the_line() {
        let facts = super::parse("@@ 0\nexists 1\nkind regular_file\n@@ 1\nexists 0\n@@ 7\nignored 1\nenabled \n", 2);
        assert_eq!(facts[0]["exists"], "1");
        assert_eq!(facts[0]["kind"], "regular_file");
        assert_eq!(facts[1]["exists"], "0");
        assert_eq!(facts[1].len(), 1, "a section beyond n is ignored");
    }
}
