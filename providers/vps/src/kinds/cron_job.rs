//! `vps_cron_job`: one job in its own file under /etc/cron.d, read back by hash, or parsed
//! back into schedule, user, command and environment lines (`MAILTO=ops@example.com`) when
//! edited by hand or imported.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;

pub struct CronJob;

const CRON_DIR: &str = "/etc/cron.d";

fn cron_path(name: &str) -> String {
    format!("{CRON_DIR}/{name}")
}

/// The `SHELL` and `PATH` every file infra writes sets, unless `environment` says otherwise.
const DEFAULT_ENV: &[(&str, &str)] = &[("SHELL", "/bin/sh"), ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")];

/// The file cron reads for the job: the default `SHELL` and `PATH` (unless `env` sets them),
/// `env` as `NAME=value` lines, then the job line.
fn cron_content(name: &str, schedule: &str, user: &str, command: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = format!("# Managed by infra (vps_cron_job {name}): hand edits show as drift.\n");
    for (k, v) in DEFAULT_ENV {
        if !env.contains_key(*k) {
            out.push_str(&format!("{k}={v}\n"));
        }
    }
    for (k, v) in env {
        out.push_str(&format!("{k}={v}\n"));
    }
    out.push_str(&format!("{} {user} {command}\n", schedule.split_whitespace().collect::<Vec<_>>().join(" ")));
    out
}

/// The file as recorded, to compare hashes with what the host holds.
fn recorded_content(v: &Value) -> String {
    let g = |k: &str| attrs::string(v, k).unwrap_or_default();
    cron_content(&g("name"), &g("schedule"), &g("user"), &g("command"), &attrs::string_map(v, "environment"))
}

/// A line of a cron file that sets a variable (`NAME=value`, `NAME = "value"`), as cron reads
/// it: the name, and the value with one pair of matching quotes taken off. A job line starts
/// with its minute (a digit, `*`) or an `@keyword`, so a command holding `=` is never one.
fn env_line(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    let ident = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return None;
    }
    let value = value.trim();
    let unquoted = ['"', '\''].iter().find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q))).filter(|_| value.len() >= 2);
    Some((name.to_string(), unquoted.unwrap_or(value).to_string()))
}

/// A cron file's variables (the defaults infra writes left out) and its last job line as
/// `(schedule, user, command)`; the command is the rest of the line as written.
fn parse_cron(text: &str) -> (BTreeMap<String, String>, Option<(String, String, String)>) {
    let mut env = BTreeMap::new();
    let mut job = None;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if !l.starts_with(|c: char| c.is_ascii_digit() || c == '*' || c == '@') {
            if let Some((k, v)) = env_line(l) {
                env.insert(k, v);
            }
            continue;
        }
        let n = if l.starts_with('@') { 1 } else { 5 };
        // The command keeps its own spacing: cut after the first n + 1 words.
        let mut rest = l;
        let mut words = Vec::new();
        for _ in 0..=n {
            let w = rest.split_whitespace().next().unwrap_or("");
            if w.is_empty() {
                break;
            }
            let at = rest.find(w).unwrap_or(0) + w.len();
            words.push(w);
            rest = &rest[at..];
        }
        let command = rest.trim();
        job = if words.len() == n + 1 && !command.is_empty() {
            Some((words[..n].join(" "), words[n].to_string(), command.to_string()))
        } else {
            Some((String::new(), String::new(), l.to_string()))
        };
    }
    for (k, v) in DEFAULT_ENV {
        if env.get(*k).is_some_and(|x| x == v) {
            env.remove(*k);
        }
    }
    (env, job)
}

impl CronJob {
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let content = cron_content(
            &name,
            &attrs::req_string(p, "schedule")?,
            &attrs::req_string(p, "user")?,
            &attrs::req_string(p, "command")?,
            &attrs::string_map(p, "environment"),
        );
        let script = write_file(&cron_path(&name), content.as_bytes(), "0644", "root", "root");
        run(c.writing(self.name(), p).await?, &format!("Writing cron job {name}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for CronJob {
    fn name(&self) -> &'static str {
        "vps_cron_job"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("schedule", AttrSchema::required(Type::String))
            .attr("command", AttrSchema::required(Type::String))
            .attr("user", AttrSchema::optional(Type::String).default(Value::string("root")))
            .attr("environment", AttrSchema::optional(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // cron ignores files in /etc/cron.d whose names hold anything else.
        if let Some(n) = attrs::string(c, "name").filter(|n| n.is_empty() || !n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')) {
            out.push(
                Diagnostic::error("Invalid name", format!("{n:?}: cron reads /etc/cron.d files named with letters, digits, - and _ only."))
                    .with_path(attrs::at("name")),
            );
        }
        if let Some(sch) = attrs::string(c, "schedule") {
            let fields = sch.split_whitespace().count();
            if !(fields == 5 || fields == 1 && sch.trim().starts_with('@')) {
                out.push(
                    Diagnostic::error("Invalid schedule", format!("{sch:?} is not five cron fields (or @daily and the like)."))
                        .with_path(attrs::at("schedule")),
                );
            }
        }
        for k in ["command", "schedule", "user"] {
            if attrs::string(c, k).is_some_and(|v| v.contains('\n')) {
                out.push(Diagnostic::error("Invalid cron job", format!("{k} must be one line.")).with_path(attrs::at(k)));
            }
        }
        for (k, v) in attrs::string_map(c, "environment") {
            let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ident || v.contains('\n') {
                out.push(
                    Diagnostic::error("Invalid cron job", format!("environment {k:?}: a variable is a name (letters, digits, _) and a one-line value."))
                        .with_path(attrs::at("environment")),
                );
            }
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_with_id(&self.schema(), prior, config, "name")
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        self.write(c, planned).await?;
        Ok(c.wrote(self.name(), planned.clone()))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.write(c, planned).await?;
        c.wrote(self.name(), planned.clone());
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let script = format!("rm -f -- {}\n", quote(&cron_path(&attrs::req_string(prior, "name")?)));
        run(c.writing(self.name(), prior).await?, "Deleting vps_cron_job", &script).await?;
        Ok(())
    }

    /// What exists on the host, managed or not (drift reports; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("name", Value::string(id))]))
    }
}

impl Kind for CronJob {
    fn probe(&self, v: &Value) -> String {
        let sha = if v.get_attr("schedule").is_some_and(|s| s.as_str().is_some()) { sha256_hex(recorded_content(v).as_bytes()) } else { String::new() };
        format!("file '' {} {} 1", quote(&cron_path(&attrs::string(v, "name").unwrap_or_default())), quote(&sha))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        let id = Value::string(attrs::string(known, "name").unwrap_or_default());
        let recorded_sha =
            if known.get_attr("schedule").is_some_and(|s| s.as_str().is_some()) { sha256_hex(recorded_content(known).as_bytes()) } else { String::new() };
        if facts.get("sha256").map(String::as_str) == Some(recorded_sha.as_str()) {
            return Some(with(known, vec![("id", id)]));
        }
        // Parse the file back: its variables, and the job line (five fields or an @keyword,
        // the user, the command).
        let (env, job) = parse_cron(&decoded(facts, "content").unwrap_or_default());
        let (schedule, user, command) = job.unwrap_or_default();
        let env = if env.is_empty() { Value::Null } else { Value::Map(env.into_iter().map(|(k, v)| (k, Value::string(v))).collect()) };
        Some(with(
            known,
            vec![("id", id), ("schedule", Value::string(schedule)), ("user", Value::string(user)), ("command", Value::string(command)), ("environment", env)],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_lines_and_commands_with_equals_signs_are_told_apart() {
        let text = "# by hand\nMAILTO=ops@example.com\nSHELL=/bin/sh\nPATH = \"/usr/bin:/bin\"\n\n*/5 * * * * www-data  cd /srv && FOO=bar ./run.sh --level=2  >/dev/null\n";
        let (env, job) = parse_cron(text);
        assert_eq!(env, BTreeMap::from([("MAILTO".to_string(), "ops@example.com".to_string()), ("PATH".to_string(), "/usr/bin:/bin".to_string())]));
        assert_eq!(job, Some(("*/5 * * * *".to_string(), "www-data".to_string(), "cd /srv && FOO=bar ./run.sh --level=2  >/dev/null".to_string())));
        let (env, job) = parse_cron("@daily root echo a=b\n");
        assert!(env.is_empty());
        assert_eq!(job, Some(("@daily".to_string(), "root".to_string(), "echo a=b".to_string())));
    }

    #[test]
    fn what_infra_writes_parses_back_to_the_same_job() {
        let env = BTreeMap::from([("MAILTO".to_string(), "".to_string()), ("PATH".to_string(), "/opt/bin:/usr/bin".to_string())]);
        let text = cron_content("x", "0  2 * * 0", "root", "backup.sh --keep=7 >> /var/log/b.log 2>&1", &env);
        assert_eq!(text.matches("PATH=").count(), 1, "the environment's PATH replaces the default: {text}");
        let (read, job) = parse_cron(&text);
        assert_eq!(read, env);
        assert_eq!(job, Some(("0 2 * * 0".to_string(), "root".to_string(), "backup.sh --keep=7 >> /var/log/b.log 2>&1".to_string())));
        assert_eq!(
            cron_content("x", "@daily", "root", "true", &BTreeMap::new()),
            "# Managed by infra (vps_cron_job x): hand edits show as drift.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n@daily root true\n",
            "a job without environment is written as before (its recorded hash still matches)"
        );
    }
}
