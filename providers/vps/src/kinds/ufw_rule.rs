//! `vps_ufw_rule`: one UFW rule (action, protocol, port or range, source), identified by
//! those four (`allow tcp 22 any`), read back from UFW's rules file.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct UfwRule;

/// Action, protocol, port and source, with UFW's defaults.
pub(super) fn rule_spec(p: &Value) -> (String, String, String, String) {
    let g = |k: &str, d: &str| attrs::string(p, k).unwrap_or_else(|| d.to_string());
    (g("action", "allow"), g("protocol", "tcp"), g("port", ""), g("from", "any"))
}

fn rule_id(p: &Value) -> String {
    let (a, pr, po, f) = rule_spec(p);
    format!("{a} {pr} {po} {f}")
}

/// Whether the port spec (`22`, `8000:8010`) covers `port`.
pub(super) fn covers(spec: &str, port: u16) -> bool {
    match spec.split_once(':') {
        Some((a, b)) => matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a <= port && port <= b),
        None => spec.parse::<u16>() == Ok(port),
    }
}

fn ufw_rule_command(p: &Value, delete: bool) -> Outcome<String> {
    let (action, proto, _, from) = rule_spec(p);
    let port = attrs::req_string(p, "port")?;
    let proto = if proto == "any" { String::new() } else { format!(" proto {}", quote(&proto)) };
    let comment = attrs::string(p, "comment").filter(|_| !delete).map(|c| format!(" comment {}", quote(&c))).unwrap_or_default();
    let verb = if delete { format!("ufw delete {}", quote(&action)) } else { format!("ufw {}", quote(&action)) };
    Ok(format!("{verb}{proto} from {} to any port {}{comment}", quote(&from), quote(&port)))
}

fn hex_decode(h: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..h.len()).step_by(2).map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
    String::from_utf8(bytes?).ok()
}

#[async_trait]
impl ResourceType<VpsProvider> for UfwRule {
    fn name(&self) -> &'static str {
        "vps_ufw_rule"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("port", AttrSchema::required(Type::String).force_new())
            .attr("protocol", AttrSchema::optional(Type::String).default(Value::string("tcp")).force_new())
            .attr("from", AttrSchema::optional(Type::String).default(Value::string("any")).force_new())
            .attr("action", AttrSchema::optional(Type::String).default(Value::string("allow")).force_new())
            .attr("comment", AttrSchema::optional(Type::String).force_new())
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let invalid = |summary: &str, detail: String, k: &str| Diagnostic::error(summary, detail).with_path(attrs::at(k));
        if let Some(a) = attrs::string(c, "action").filter(|a| !["allow", "deny", "reject", "limit"].contains(&a.as_str())) {
            out.push(invalid("Invalid action", format!("{a:?} is not one of allow, deny, reject, limit."), "action"));
        }
        if let Some(p) = attrs::string(c, "protocol").filter(|p| !["tcp", "udp", "any"].contains(&p.as_str())) {
            out.push(invalid("Invalid protocol", format!("{p:?} is not one of tcp, udp, any."), "protocol"));
        }
        if let Some(p) = attrs::string(c, "port") {
            let ok = p.split(':').count() <= 2 && p.split(':').all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
            if !ok {
                out.push(invalid("Invalid port", format!("{p:?} is not a port or a range such as 8000:8010."), "port"));
            }
            if p.contains(':') && attrs::string(c, "protocol").as_deref() == Some("any") {
                out.push(invalid("Invalid port", "A port range needs protocol tcp or udp (ufw's rule).".into(), "protocol"));
            }
        }
        if let Some(cm) = attrs::string(c, "comment").filter(|cm| cm.contains('\n') || cm.contains('\'')) {
            out.push(invalid("Invalid comment", format!("{cm:?}: ufw takes one-line comments without single quotes."), "comment"));
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if m.get("port").is_some_and(|p| p.as_str().is_some()) {
                // With the schema's defaults for what the configuration leaves out.
                let whole = Value::Object(m.clone());
                m.insert("id".into(), Value::string(rule_id(&whole)));
            }
        }
        plan_helpers::default_plan(&self.schema(), prior, &cfg)
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        let command = ufw_rule_command(planned, false)?;
        let conn = c.writing(self.name(), planned).await?;
        let _exclusive = conn.exclusive.lock().await;
        run(conn, &format!("Adding UFW rule {}", rule_id(planned)), &format!("{command}\n")).await?;
        Ok(c.wrote(self.name(), with(planned, vec![("id", Value::string(rule_id(planned)))])))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    /// Every argument forces a replacement, so an update only adds the same rule again.
    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.create(c, planned, "").await.map(|_| ())
    }

    /// A rule that lets infra in is not deleted while UFW is on and denies the rest: a firewall
    /// the state does not know (an apply stopped right after enabling it) would stay on while
    /// destroy deletes its rules, and lock the host out.
    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let command = ufw_rule_command(prior, true)?;
        let conn = c.writing(self.name(), prior).await?;
        let (action, proto, port, _) = rule_spec(prior);
        let guard = if matches!(action.as_str(), "allow" | "limit") && proto != "udp" && covers(&port, conn.port) {
            format!(
                "if ufw status verbose | grep -qx 'Status: active' && ufw status verbose | grep -Eq '^Default: (deny|reject) \\(incoming\\)' && [ \"$(grep -Ec '^### tuple ### (allow|limit) (tcp|any) (([0-9]+:)?{p}(:[0-9]+)?|[0-9]+:[0-9]+) ' /etc/ufw/user.rules)\" -le 1 ]; then exit 4; fi\n",
                p = conn.port
            )
        } else {
            String::new()
        };
        let _exclusive = conn.exclusive.lock().await;
        let out = conn.run(&format!("{guard}{command} || true\n")).await?;
        match out.status {
            0 => Ok(()),
            4 => Err(Diagnostic::error(
                "Rule would lock infra out",
                format!(
                    "UFW is on with incoming traffic denied, and this is the last rule allowing port {}/tcp, the SSH port infra is connected to: deleting it would cut this host off. Disable the firewall first (a vps_ufw this state does not record, left by an interrupted apply: run apply to record it, then destroy), or keep the rule.",
                    conn.port
                ),
            )
            .into()),
            n => Err(Diagnostic::error("Deleting vps_ufw_rule failed", format!("The host answered (exit {n}): {}", out.stderr_text())).into()),
        }
    }

    /// What exists on the host, managed or not (drift reports; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    /// `allow tcp 22 any`, as the rule's id.
    fn import_seed(&self, id: &str) -> Outcome<Value> {
        let f: Vec<&str> = id.split_whitespace().collect();
        let [action, protocol, port, from] = f.as_slice() else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("{id:?} is not a vps_ufw_rule id such as \"allow tcp 22 any\" (action, protocol, port, source)."),
            )
            .into());
        };
        Ok(Value::object([
            ("id", Value::string(id)),
            ("action", Value::string(*action)),
            ("protocol", Value::string(*protocol)),
            ("port", Value::string(*port)),
            ("from", Value::string(*from)),
            ("comment", Value::Null),
        ]))
    }
}

impl Kind for UfwRule {
    fn probe(&self, _v: &Value) -> String {
        "echo \"rules $(grep -h '^### tuple ###' /etc/ufw/user.rules 2>/dev/null | b64)\"".to_string()
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        let tuples = decoded(facts, "rules").unwrap_or_default();
        let (action, proto, port, from) = rule_spec(known);
        let src = if from == "any" { "0.0.0.0/0".to_string() } else { from.clone() };
        tuples.lines().find_map(|l| {
            // `### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368`
            let f: Vec<&str> = l.trim_start_matches("### tuple ###").split_whitespace().collect();
            let (a, p, dport, source) = (f.first()?, f.get(1)?, f.get(2)?, f.get(5)?);
            if *a != action || *p != proto || *dport != port || *source != src {
                return None;
            }
            let comment = f.iter().find_map(|x| x.strip_prefix("comment=")).and_then(hex_decode).map(Value::string).unwrap_or(Value::Null);
            Some(with(known, vec![("id", Value::string(rule_id(known))), ("comment", comment)]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_cover_the_ssh_port() {
        assert!(covers("22", 22) && covers("20:30", 22) && !covers("2222", 22) && !covers("23:30", 22));
    }

    #[test]
    fn a_ufw_tuple_matches_its_rule_and_decodes_the_comment() {
        let facts =
            Facts::from([("rules".to_string(), crate::transport::base64_encode(b"### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368\n"))]);
        let rule = Value::object([
            ("action", Value::string("allow")),
            ("protocol", Value::string("tcp")),
            ("port", Value::string("22")),
            ("from", Value::string("any")),
        ]);
        let read = UfwRule.read(&rule, &facts).unwrap();
        assert_eq!(attrs::string(&read, "comment").as_deref(), Some("ssh"));
        assert_eq!(attrs::string(&read, "id").as_deref(), Some("allow tcp 22 any"));
        let other = Value::object([
            ("action", Value::string("allow")),
            ("protocol", Value::string("tcp")),
            ("port", Value::string("80")),
            ("from", Value::string("any")),
        ]);
        assert!(UfwRule.read(&other, &facts).is_none());
    }

    #[test]
    fn a_rule_is_planned_with_ufws_defaults_in_its_id() {
        let c = VpsProvider::unconfigured();
        let planned = UfwRule.plan(&c, None, &Value::object([("port", Value::string("22"))])).planned;
        assert_eq!(attrs::string(&planned, "id").as_deref(), Some("allow tcp 22 any"));
        assert_eq!(attrs::string(&planned, "protocol").as_deref(), Some("tcp"));
        let deny =
            UfwRule.plan(&c, None, &Value::object([("port", Value::string("53")), ("action", Value::string("deny")), ("protocol", Value::string("udp"))]));
        assert_eq!(attrs::string(&deny.planned, "id").as_deref(), Some("deny udp 53 any"));
    }

    #[test]
    fn an_import_id_is_four_words() {
        assert_eq!(attrs::string(&UfwRule.import_seed("deny udp 53 10.0.0.0/8").unwrap(), "from").as_deref(), Some("10.0.0.0/8"));
        assert!(UfwRule.import_seed("allow 22").is_err());
    }
}
