//! `vps_systemd_unit`: a unit file under /etc/systemd/system, enabled and started (or not); a
//! unit that does not stay up fails the apply with its last journal lines.

use super::*;
use crate::probe::Facts;
use crate::transport::{quote, Connection};
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct SystemdUnit;

const UNIT_DIR: &str = "/etc/systemd/system";

fn unit_path(name: &str) -> String {
    format!("{UNIT_DIR}/{name}")
}

/// A unit that does not stay up fails the apply, with its last journal lines.
async fn check_running(conn: &Connection, name: &str) -> Result<(), Diagnostic> {
    let q = quote(name);
    for _ in 0..10 {
        let state = run(conn, "Checking the unit", &format!("systemctl is-active -- {q} || true\n")).await?;
        match state.trim() {
            "active" => {
                // Restart=always units that crash come back "activating": look once more.
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                let again = run(conn, "Checking the unit", &format!("systemctl is-active -- {q} || true\n")).await?;
                if again.trim() == "active" {
                    return Ok(());
                }
            }
            "activating" | "reloading" => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            _ => break,
        }
    }
    let journal = run(conn, "Reading the journal", &format!("journalctl -u {q} -n 15 --no-pager 2>&1 || systemctl status -- {q} 2>&1 || true\n"))
        .await
        .unwrap_or_default();
    Err(Diagnostic::error("Unit failed to start", format!("{name} is not running after the apply. Its last journal lines:\n{}", journal.trim_end())))
}

impl SystemdUnit {
    async fn write(&self, c: &VpsProvider, prior: Option<&Value>, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let q = quote(&name);
        let mut script = String::new();
        let content_changed = changed(prior, p, "content");
        if content_changed {
            script.push_str(&write_file(&unit_path(&name), attrs::req_string(p, "content")?.as_bytes(), "0644", "root", "root"));
            script.push_str("systemctl daemon-reload\n");
        }
        script.push_str(&if attrs::bool(p, "enabled") == Some(false) { format!("systemctl disable -- {q}\n") } else { format!("systemctl enable -- {q}\n") });
        if attrs::bool(p, "active") == Some(false) {
            script.push_str(&format!("systemctl stop -- {q}\n"));
        } else if content_changed && prior.is_some() {
            script.push_str(&format!("systemctl restart -- {q}\n"));
        } else {
            script.push_str(&format!("systemctl start -- {q}\n"));
        }
        let conn = c.writing(self.name(), p).await?;
        run(conn, &format!("Configuring unit {name}"), &script).await?;
        if attrs::bool(p, "active") != Some(false) {
            check_running(conn, &name).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for SystemdUnit {
    fn name(&self) -> &'static str {
        "vps_systemd_unit"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("content", AttrSchema::required(Type::String))
            .attr("enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            .attr("active", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_simple_name(c, &mut out);
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_with_id(&self.schema(), prior, config, "name")
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        self.write(c, None, planned).await?;
        Ok(c.wrote(self.name(), planned.clone()))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        self.write(c, Some(prior), planned).await?;
        c.wrote(self.name(), planned.clone());
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let name = attrs::req_string(prior, "name")?;
        let q = quote(&name);
        let script = format!(
            "systemctl disable --now -- {q} 2>/dev/null || true\nrm -f -- {}\nsystemctl daemon-reload\nsystemctl reset-failed -- {q} 2>/dev/null || true\n",
            quote(&unit_path(&name))
        );
        run(c.writing(self.name(), prior).await?, "Deleting vps_systemd_unit", &script).await?;
        Ok(())
    }

    /// What exists on the host, managed or not (drift reports; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    /// Text over several lines as a heredoc.
    fn to_hcl(&self, state: &Value) -> String {
        body_with_heredocs(&self.schema(), state)
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("name", Value::string(id))]))
    }
}

impl Kind for SystemdUnit {
    fn probe(&self, v: &Value) -> String {
        let name = attrs::string(v, "name").unwrap_or_default();
        format!(
            "file '' {} {} 1\nunit '' {}",
            quote(&unit_path(&name)),
            quote(&sha256_hex(attrs::string(v, "content").unwrap_or_default().as_bytes())),
            quote(&name)
        )
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        Some(with(
            known,
            vec![
                ("id", Value::string(attrs::string(known, "name").unwrap_or_default())),
                ("content", text_of(facts, "", attrs::string(known, "content"), &recorded_sha(known, "content"))),
                ("enabled", Value::Bool(facts.get("enabled").is_some_and(|e| e == "enabled"))),
                ("active", Value::Bool(facts.get("active").is_some_and(|a| a == "active"))),
            ],
        ))
    }
}
