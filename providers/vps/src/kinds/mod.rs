//! The resource types of the vps provider, one file each, listed in one table (`table!` below),
//! and what several of them share: the atomic file-writing script, running a script with its
//! failure named, and reading a section of the inventory back into an object. Every path and
//! name reaches the shell through `quote`, every content through base64.

mod apt_package;
mod certbot_certificate;
mod command;
mod compose_stack;
mod cron_job;
mod directory;
mod file;
mod group;
mod nginx_site;
mod systemd_unit;
mod ufw;
mod ufw_rule;
mod user;

pub use compose_stack::COMPOSE_FILES;
pub use ufw::check_planned;
pub use user::is_system_id;

use crate::probe::Facts;
use crate::transport::{base64_decode, data, quote, Connection};
use crate::VpsProvider;
use infra_provider::*;
use sha2::{Digest, Sha256};

/// A resource type whose objects are read from the host, each by its section of the one
/// inventory script a refresh sends (see `crate::probe`).
pub trait Kind: ResourceType<VpsProvider> {
    /// Whether the host holds anything to read (a command's record is the only truth).
    fn probed(&self) -> bool {
        true
    }

    /// The shell lines that print the object's facts.
    fn probe(&self, known: &Value) -> String;

    /// The object as the host has it, from what is `known` of it and its facts; `None` when
    /// it is gone.
    fn read(&self, known: &Value, facts: &Facts) -> Option<Value>;
}

/// The one list of kinds, as the two views the provider needs: [`KINDS`] (to probe by type
/// name) and [`RESOURCES`] (what `Typed` routes to). Adding a type: its file, its `mod` line
/// above, and one name here.
macro_rules! table {
    ($($kind:expr),* $(,)?) => {
        pub static KINDS: &[&dyn Kind] = &[$(&$kind),*];
        pub static RESOURCES: &[&dyn ResourceType<VpsProvider>] = &[$(&$kind),*];
    };
}

table![
    file::File,
    directory::Directory,
    systemd_unit::SystemdUnit,
    nginx_site::NginxSite,
    ufw::Ufw,
    ufw_rule::UfwRule,
    cron_job::CronJob,
    apt_package::AptPackage,
    command::Command,
    compose_stack::ComposeStack,
    user::User,
    group::Group,
    certbot_certificate::CertbotCertificate,
];

/// The kind named `type_name`, when it is read from the host.
pub fn probed(type_name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == type_name && k.probed())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `644`, `0644` and `u=rw…` aside, a mode is octal digits: shown as four.
pub fn normalize_mode(m: &str) -> Option<String> {
    let n = u32::from_str_radix(m.trim(), 8).ok().filter(|n| *n <= 0o7777)?;
    Some(format!("{n:04o}"))
}

/// A unit, site or package name: letters, digits and `-_.@`, not starting with a dot.
pub fn check_simple_name(c: &Value, out: &mut Vec<Diagnostic>) {
    let simple = |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) && !name.starts_with('.');
    if let Some(n) = attrs::string(c, "name").filter(|n| !simple(n)) {
        out.push(
            Diagnostic::error("Invalid name", format!("{n:?}: a name is letters, digits and -_.@, not starting with a dot.")).with_path(attrs::at("name")),
        );
    }
}

/// An absolute path without `..` in the attribute `key`.
pub fn check_path(c: &Value, key: &str, out: &mut Vec<Diagnostic>) {
    if let Some(p) = attrs::string(c, key) {
        if !p.starts_with('/') || p.split('/').any(|part| part == "..") {
            out.push(Diagnostic::error("Invalid path", format!("{p:?} must be an absolute path without \"..\".")));
        }
    }
}

/// An octal `mode`, when set.
pub fn check_mode(c: &Value, out: &mut Vec<Diagnostic>) {
    if let Some(m) = attrs::string(c, "mode") {
        if normalize_mode(&m).is_none() {
            out.push(Diagnostic::error("Invalid mode", format!("{m:?} is not an octal file mode such as \"0644\".")).with_path(attrs::at("mode")));
        }
    }
}

/// Shell lines writing `bytes` to `path` atomically: a temp file in the same directory, mode
/// and ownership set, then a rename. A failure leaves the old file as it was.
pub fn write_file(path: &str, bytes: &[u8], mode: &str, owner: &str, group: &str) -> String {
    write_file_at(&quote(path), bytes, mode, owner, group)
}

/// [`write_file`] to the path a shell word says (`"$cf"`), quoted by the caller.
pub fn write_file_at(path: &str, bytes: &[u8], mode: &str, owner: &str, group: &str) -> String {
    format!(
        "d=$(dirname -- {p})\nmkdir -p -- \"$d\"\ntmp=$(mktemp \"$d/.infra.XXXXXX\")\ntrap 'rm -f -- \"$tmp\"' EXIT\n{data} > \"$tmp\"\nchmod {mode} \"$tmp\"\nchown {owner}:{group} \"$tmp\"\nmv -f -- \"$tmp\" {p}\ntrap - EXIT\n",
        p = path,
        data = data(bytes),
        mode = quote(mode),
        owner = quote(owner),
        group = quote(group),
    )
}

/// Runs `script` under `set -e`; a non-zero exit is an error named after `what`.
pub async fn run(conn: &Connection, what: &str, script: &str) -> Result<String, Diagnostic> {
    let out = conn.run(&format!("set -e\n{script}")).await?;
    if out.status != 0 {
        return Err(Diagnostic::error(format!("{what} failed"), format!("The host answered (exit {}): {}", out.status, out.stderr_text())));
    }
    Ok(out.stdout_text())
}

/// The object with `id` set to the attribute `key` (a path or a name): planned before the
/// default rule, so the id is known at plan time.
pub fn plan_with_id(schema: &Schema, prior: Option<&Value>, config: &Value, key: &str) -> PlanResponse {
    let mut cfg = config.clone();
    if let Value::Object(m) = &mut cfg {
        if let Some(v) = m.get(key).cloned() {
            m.insert("id".into(), v);
        }
    }
    plan_helpers::default_plan(schema, prior, &cfg)
}

/// Whether the attribute `k` changes from `prior` to `planned` (always, on a create).
pub fn changed(prior: Option<&Value>, planned: &Value, k: &str) -> bool {
    prior.is_none_or(|o| !o.get_attr(k).is_some_and(|v| v.equals(planned.get_attr(k).unwrap_or(&Value::Null))))
}

/// A base64 fact, decoded as text.
pub fn decoded(facts: &Facts, key: &str) -> Option<String> {
    facts.get(key).and_then(|v| base64_decode(v)).and_then(|b| String::from_utf8(b).ok())
}

/// `known` with `fields` set.
pub fn with(known: &Value, fields: Vec<(&str, Value)>) -> Value {
    let mut m = match known {
        Value::Object(m) => m.clone(),
        _ => Default::default(),
    };
    for (k, v) in fields {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// Whether the `file` probe under `prefix` found a path.
pub fn exists(facts: &Facts, prefix: &str) -> bool {
    facts.get(&format!("{prefix}exists")).map(String::as_str) == Some("1")
}

pub fn fact(facts: &Facts, k: &str) -> Value {
    facts.get(k).map(|v| Value::string(v.clone())).unwrap_or(Value::Null)
}

/// The normalized mode a `file` probe printed.
pub fn mode_fact(facts: &Facts) -> Value {
    facts.get("mode").and_then(|m| normalize_mode(m)).map(Value::string).unwrap_or(Value::Null)
}

/// The text of a managed file: the recorded one when the hash matches, else what the host
/// holds (so the plan shows the hand edit).
pub fn text_of(facts: &Facts, prefix: &str, recorded: Option<String>, recorded_sha: &str) -> Value {
    if facts.get(&format!("{prefix}sha256")).map(String::as_str) == Some(recorded_sha) {
        if let Some(r) = recorded {
            return Value::string(r);
        }
    }
    match decoded(facts, &format!("{prefix}content")) {
        Some(t) => Value::string(t),
        None => recorded.map(Value::string).unwrap_or(Value::Null),
    }
}

/// The body of a resource block for `state` (see [`hcl::body`]), with text over several lines
/// written as a person writes it: an indented heredoc.
pub fn body_with_heredocs(schema: &Schema, state: &Value) -> String {
    let mut plain = state.clone();
    let mut docs = Vec::new();
    if let Value::Object(m) = &mut plain {
        for (k, a) in &schema.attributes {
            if a.sensitive || !(a.required || a.optional) {
                continue;
            }
            if let Some(doc) = m.get(k).and_then(Value::as_str).and_then(heredoc) {
                m.remove(k);
                docs.push(format!("  {k} = {doc}"));
            }
        }
    }
    let mut out = hcl::body(schema, &plain);
    for d in docs {
        out.push_str(&d);
    }
    out
}

/// `text` as an indented heredoc (`<<-EOT`, closed by its own line), when it reads back the
/// same: whole lines, no carriage return, no whitespace-only line, at least one line starting
/// at the margin (the indentation stripped is the least of all lines), no line that is the
/// marker. `${` and `%{` are doubled, as in a quoted string.
pub fn heredoc(text: &str) -> Option<String> {
    let body = text.strip_suffix('\n')?;
    let lines: Vec<&str> = body.split('\n').collect();
    let margin = lines.iter().any(|l| l.chars().next().is_some_and(|c| !c.is_whitespace()));
    let bad = text.contains('\r') || lines.iter().any(|l| (!l.is_empty() && l.trim().is_empty()) || l.trim() == "EOT");
    if lines.len() < 2 || !margin || bad {
        return None;
    }
    let mut out = String::from("<<-EOT\n");
    for l in lines {
        if !l.is_empty() {
            out.push_str("    ");
            out.push_str(&l.replace("${", "$${").replace("%{", "%%{"));
        }
        out.push('\n');
    }
    out.push_str("  EOT\n");
    Some(out)
}

/// The sha256 of the text attribute `key` as recorded (empty when unset).
pub fn recorded_sha(known: &Value, key: &str) -> String {
    attrs::string(known, key).map(|c| sha256_hex(c.as_bytes())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_kind_once() {
        let mut names: Vec<&str> = RESOURCES.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), 13);
        assert_eq!(KINDS.iter().map(|k| k.name()).collect::<Vec<_>>(), names, "the two views list the same kinds");
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 13, "no name twice");
        assert!(names.iter().all(|n| n.starts_with("vps_")));
    }

    #[test]
    fn only_commands_are_not_read_from_the_host() {
        assert!(probed("vps_file").is_some());
        assert!(probed("vps_command").is_none(), "a command's record is the truth");
        assert!(probed("vps_nope").is_none());
    }

    #[test]
    fn modes_normalize_to_four_octal_digits() {
        assert_eq!(normalize_mode("644").as_deref(), Some("0644"));
        assert_eq!(normalize_mode("0600").as_deref(), Some("0600"));
        assert_eq!(normalize_mode("1777").as_deref(), Some("1777"));
        assert_eq!(normalize_mode("u=rw"), None);
        assert_eq!(normalize_mode("99999"), None);
    }

    #[test]
    fn text_over_several_lines_is_a_heredoc_when_it_reads_back_the_same() {
        assert_eq!(heredoc("[Unit]\n\n  x=${a}\n").as_deref(), Some("<<-EOT\n    [Unit]\n\n      x=$${a}\n  EOT\n"));
        assert_eq!(heredoc("one line\n"), None);
        assert_eq!(heredoc("a\nno newline at the end"), None);
        assert_eq!(heredoc("  all\n  indented\n"), None, "the indentation would be stripped");
        assert_eq!(heredoc("a\n  \nb\n"), None);
        assert_eq!(heredoc("a\nEOT\n"), None);
    }

    #[test]
    fn quoting_survives_hostile_names() {
        assert_eq!(quote("it's a \"file\"\n$(rm -rf /)"), "'it'\\''s a \"file\"\n$(rm -rf /)'");
    }
}
