//! `vps_ufw`: the firewall itself (enabled, default policies), and the plan-time check that
//! neither it nor a rule cuts the SSH session infra itself uses.

use super::ufw_rule::{covers, rule_spec};
use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct Ufw;

const POLICIES: [&str; 3] = ["allow", "deny", "reject"];

impl Ufw {
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let (incoming, outgoing) = (attrs::req_string(p, "default_incoming")?, attrs::req_string(p, "default_outgoing")?);
        let conn = c.writing(self.name(), p).await?;
        let _exclusive = conn.exclusive.lock().await;
        let mut enable = if attrs::bool(p, "enabled") == Some(false) { "ufw disable".to_string() } else { "ufw --force enable".to_string() };
        if attrs::bool(p, "enabled") != Some(false) && incoming != "allow" {
            // The plan checked the configuration; check the host too, right before enabling.
            enable = format!(
                "if ! grep -Eq '^### tuple ### (allow|limit) (tcp|any) ([0-9]+:)?{port}(:[0-9]+)? ' /etc/ufw/user.rules && ! grep -Eq '^### tuple ### (allow|limit) (tcp|any) [0-9]+:[0-9]+ ' /etc/ufw/user.rules; then echo 'no rule allows port {port}/tcp, the SSH session infra is using: not enabling the firewall' >&2; exit 4; fi\n{enable}",
                port = conn.port
            );
        }
        run(conn, "Configuring UFW", &format!("ufw default {} incoming\nufw default {} outgoing\n{enable}\n", quote(&incoming), quote(&outgoing))).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for Ufw {
    fn name(&self) -> &'static str {
        "vps_ufw"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            .attr("default_incoming", AttrSchema::optional(Type::String).default(Value::string("deny")))
            .attr("default_outgoing", AttrSchema::optional(Type::String).default(Value::string("allow")))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for k in ["default_incoming", "default_outgoing"] {
            if let Some(v) = attrs::string(c, k).filter(|v| !POLICIES.contains(&v.as_str())) {
                out.push(Diagnostic::error("Invalid policy", format!("{v:?} is not one of allow, deny, reject.")).with_path(attrs::at(k)));
            }
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let cfg = with(config, vec![("id", Value::string("ufw"))]);
        plan_helpers::default_plan(&self.schema(), prior, &cfg)
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
        let conn = c.writing(self.name(), prior).await?;
        let _exclusive = conn.exclusive.lock().await;
        run(conn, "Deleting vps_ufw", "ufw --force disable\nufw default deny incoming\nufw default allow outgoing\n").await?;
        Ok(())
    }

    /// The firewall, when it is on or holds rules (`infra discover vps`; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    /// There is one firewall per host, whatever the id given.
    fn import_seed(&self, _id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string("ufw"))]))
    }
}

impl Kind for Ufw {
    fn probe(&self, _v: &Value) -> String {
        "if command -v ufw >/dev/null; then echo \"status $(ufw status verbose 2>&1 | b64)\"; fi".to_string()
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        let status = decoded(facts, "status")?;
        let active = status.lines().any(|l| l.trim() == "Status: active");
        // `Default: deny (incoming), allow (outgoing), disabled (routed)`
        let defaults = status.lines().find_map(|l| l.strip_prefix("Default: ")).unwrap_or("");
        let policy = |dir: &str| {
            defaults.split(", ").find(|p| p.ends_with(&format!("({dir})"))).and_then(|p| p.split_whitespace().next()).map(Value::string).unwrap_or(Value::Null)
        };
        Some(with(
            known,
            vec![
                ("id", Value::string("ufw")),
                ("enabled", Value::Bool(active)),
                ("default_incoming", policy("incoming")),
                ("default_outgoing", policy("outgoing")),
            ],
        ))
    }
}

/// Refuses a firewall that would cut the SSH session infra itself uses.
pub fn check_planned(req: &CheckPlannedRequest, ssh_port: u16) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let rules: Vec<Value> = req.objects.iter().filter(|o| o.type_name == "vps_ufw_rule").map(|o| o.value.deep_unmark()).collect();
    let reaches_ssh = |r: &Value| {
        let (_, proto, port, _) = rule_spec(r);
        proto != "udp" && covers(&port, ssh_port)
    };
    let allowed = rules.iter().any(|r| reaches_ssh(r) && matches!(rule_spec(r).0.as_str(), "allow" | "limit"));
    for (i, o) in req.objects.iter().enumerate() {
        let v = o.value.deep_unmark();
        if o.type_name == "vps_ufw_rule" && reaches_ssh(&v) && matches!(rule_spec(&v).0.as_str(), "deny" | "reject") && rule_spec(&v).3 == "any" {
            out.push((
                i,
                Diagnostic::error(
                    "Rule would lock infra out",
                    format!("This rule {}s port {ssh_port}, the SSH port infra is connected to; the next run could not reach the host.", rule_spec(&v).0),
                ),
            ));
        }
        if o.type_name == "vps_ufw"
            && attrs::bool(&v, "enabled") == Some(true)
            && attrs::string(&v, "default_incoming").is_some_and(|d| d != "allow")
            && !allowed
        {
            out.push((
                i,
                Diagnostic::error(
                    "Firewall would lock infra out",
                    format!("Enabling UFW with default_incoming = \"{}\" and no vps_ufw_rule allowing port {ssh_port}/tcp would cut the SSH connection infra is using. Add a rule such as vps_ufw_rule {{ port = \"{ssh_port}\" }} (and depends_on it).", attrs::string(&v, "default_incoming").unwrap_or_default()),
                ),
            ));
        }
    }
    out
}
