//! `vps_file`: a file written atomically with its mode and owner, its content given inline,
//! as a secret, or read from a local file at plan time; the services that read it reloaded or
//! restarted when the content changes.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct File;

/// The bytes a file will hold, when the configuration says: content, sensitive content, or
/// a local source file read at plan time.
fn file_bytes(p: &Value) -> Option<Result<Vec<u8>, Diagnostic>> {
    let p = p.deep_unmark();
    if let Some(c) = attrs::string(&p, "content").or_else(|| attrs::string(&p, "sensitive_content")) {
        return Some(Ok(c.into_bytes()));
    }
    let src = attrs::string(&p, "source")?;
    Some(std::fs::read(&src).map_err(|e| Diagnostic::error("Cannot read source", format!("{src}: {e}.")).with_path(attrs::at("source"))))
}

/// Secret or uploaded content is compared by hash only, never carried back.
fn content_is_secret(v: &Value) -> bool {
    v.get_attr("sensitive_content").is_some_and(|c| !c.is_null()) || v.get_attr("source").is_some_and(|c| !c.is_null())
}

impl File {
    async fn write(&self, c: &VpsProvider, prior: Option<&Value>, p: &Value) -> Outcome<()> {
        let path = attrs::req_string(p, "path")?;
        let bytes = file_bytes(p).unwrap_or(Ok(Vec::new()))?;
        let conn = c.writing(self.name(), p).await?;
        let mut script = write_file(&path, &bytes, &attrs::req_string(p, "mode")?, &attrs::req_string(p, "owner")?, &attrs::req_string(p, "group")?);
        if changed(prior, p, "content_sha256") {
            // Only units that exist (a unit made later in the same apply starts with the new
            // file anyway). A stopped service being reloaded is started: the new file may be
            // what it was missing; a stopped one being restarted stays stopped.
            for s in attrs::strings(p, "reload_services") {
                script.push_str(&format!("if systemctl cat -- {q} >/dev/null 2>&1; then systemctl reload-or-restart -- {q}; fi\n", q = quote(&s)));
            }
            for s in attrs::strings(p, "restart_services") {
                script.push_str(&format!("if systemctl cat -- {q} >/dev/null 2>&1; then systemctl try-restart -- {q}; fi\n", q = quote(&s)));
            }
        }
        run(conn, &format!("Writing {path}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for File {
    fn name(&self) -> &'static str {
        "vps_file"
    }

    fn schema(&self) -> Schema {
        let list = || Type::List(Box::new(Type::String));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("path", AttrSchema::required(Type::String).force_new())
            .attr("content", AttrSchema::optional(Type::String))
            .attr("sensitive_content", AttrSchema::optional(Type::String).sensitive())
            .attr("source", AttrSchema::optional(Type::String))
            .attr("content_sha256", AttrSchema::computed(Type::String))
            .attr("reload_services", AttrSchema::optional(list()))
            .attr("restart_services", AttrSchema::optional(list()))
            .attr("mode", AttrSchema::optional(Type::String).default(Value::string("0644")))
            .attr("owner", AttrSchema::optional(Type::String).default(Value::string("root")))
            .attr("group", AttrSchema::optional(Type::String).default(Value::string("root")))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_mode(c, &mut out);
        check_path(c, "path", &mut out);
        let set = ["content", "sensitive_content", "source"].iter().filter(|k| c.get_attr(k).is_some_and(|v| !v.is_null())).count();
        if set != 1 && c.is_wholly_known() {
            out.push(Diagnostic::error("Invalid file content", format!("vps_file needs exactly one of content, sensitive_content or source; {set} are set.")));
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        let mut diagnostics = Vec::new();
        if let Value::Object(m) = &mut cfg {
            if let Some(mode) = m.get("mode").and_then(|v| v.as_str().and_then(normalize_mode)) {
                m.insert("mode".into(), Value::string(mode));
            }
            let whole = Value::Object(m.clone());
            let sha = if whole.is_wholly_known() {
                match file_bytes(&whole) {
                    Some(Ok(b)) => Value::string(sha256_hex(&b)),
                    Some(Err(d)) => {
                        diagnostics.push(d);
                        Value::Unknown
                    }
                    None => Value::Unknown,
                }
            } else {
                Value::Unknown
            };
            m.insert("content_sha256".into(), sha);
        }
        let mut resp = plan_with_id(&self.schema(), prior, &cfg, "path");
        resp.diagnostics.extend(diagnostics);
        resp
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
        let mut script = format!("rm -f -- {}\n", quote(&attrs::req_string(prior, "path")?));
        for svc in attrs::strings(prior, "reload_services") {
            script.push_str(&format!("systemctl reload -- {} || true\n", quote(&svc)));
        }
        for svc in attrs::strings(prior, "restart_services") {
            script.push_str(&format!("systemctl restart -- {} || true\n", quote(&svc)));
        }
        run(c.writing(self.name(), prior).await?, "Deleting vps_file", &script).await?;
        Ok(())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("path", Value::string(id))]))
    }
}

impl Kind for File {
    fn probe(&self, v: &Value) -> String {
        let want = if content_is_secret(v) { "0" } else { "1" };
        let g = |k: &str| attrs::string(v, k).unwrap_or_default();
        format!("file '' {} {} {want}", quote(&g("path")), quote(&g("content_sha256")))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        let g = |k: &str| attrs::string(known, k);
        let regular = facts.get("kind").map(String::as_str) == Some("regular_file");
        let sha = if regular { fact(facts, "sha256") } else { Value::string("") };
        let mut fields = vec![
            ("id", Value::string(g("path").unwrap_or_default())),
            ("mode", mode_fact(facts)),
            ("owner", fact(facts, "owner")),
            ("group", fact(facts, "group")),
            ("content_sha256", sha),
        ];
        if !content_is_secret(known) {
            fields.push(("content", text_of(facts, "", g("content"), &g("content_sha256").unwrap_or_default())));
        }
        Some(with(known, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_planned_with_root_0644_its_path_as_id_and_the_content_hash() {
        let planned =
            File.plan(&VpsProvider::unconfigured(), None, &Value::object([("path", Value::string("/etc/motd")), ("content", Value::string("hi\n"))])).planned;
        let g = |k: &str| attrs::string(&planned, k);
        assert_eq!((g("id"), g("mode"), g("owner"), g("group")), (Some("/etc/motd".into()), Some("0644".into()), Some("root".into()), Some("root".into())));
        assert_eq!(g("content_sha256"), Some(sha256_hex(b"hi\n")));
        let given = File.plan(
            &VpsProvider::unconfigured(),
            None,
            &Value::object([("path", Value::string("/x")), ("content", Value::string("")), ("mode", Value::string("600"))]),
        );
        assert_eq!(attrs::string(&given.planned, "mode").as_deref(), Some("0600"), "a given mode is shown as four digits");
    }
}
