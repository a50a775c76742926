//! `vps_cron_job`: one job in its own file under /etc/cron.d, read back by hash, or parsed
//! back into schedule, user and command when edited by hand.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct CronJob;

const CRON_DIR: &str = "/etc/cron.d";

fn cron_path(name: &str) -> String {
    format!("{CRON_DIR}/{name}")
}

/// The file cron reads for the job.
fn cron_content(name: &str, schedule: &str, user: &str, command: &str) -> String {
    format!(
        "# Managed by infra (vps_cron_job {name}): hand edits show as drift.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n{} {user} {command}\n",
        schedule.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

/// The file as recorded, to compare hashes with what the host holds.
fn recorded_content(v: &Value) -> String {
    let g = |k: &str| attrs::string(v, k).unwrap_or_default();
    cron_content(&g("name"), &g("schedule"), &g("user"), &g("command"))
}

impl CronJob {
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let content = cron_content(&name, &attrs::req_string(p, "schedule")?, &attrs::req_string(p, "user")?, &attrs::req_string(p, "command")?);
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
        // Parse the job line back: five fields (or @keyword), the user, the command.
        let text = decoded(facts, "content").unwrap_or_default();
        let line = text.lines().rev().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.contains('=')).unwrap_or("");
        let words: Vec<&str> = line.split_whitespace().collect();
        let n = if words.first().is_some_and(|w| w.starts_with('@')) { 1 } else { 5 };
        let (schedule, user, command) = if words.len() > n + 1 {
            (words[..n].join(" "), words[n].to_string(), line.split_whitespace().skip(n + 1).collect::<Vec<_>>().join(" "))
        } else {
            (String::new(), String::new(), line.to_string())
        };
        Some(with(known, vec![("id", id), ("schedule", Value::string(schedule)), ("user", Value::string(user)), ("command", Value::string(command))]))
    }
}
