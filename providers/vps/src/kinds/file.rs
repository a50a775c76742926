//! `vps_file`: a file written atomically with its mode and owner, its content given inline,
//! as a secret, or read from a local file at plan time; the services that read it reloaded or
//! restarted when the content changes. With none of the three, the content is not managed:
//! infra keeps the file's mode and owner, and its content as the host has it (a create makes
//! an empty file). That is how `infra discover vps` writes a file that looks secret (see
//! [`looks_secret`]): its content never appears in the configuration (the import blocks then
//! record it in state, as any import does; the state file is mode 0600).

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

/// Whether the configuration leaves the content unmanaged (none of content,
/// sensitive_content, source).
fn content_unmanaged(v: &Value) -> bool {
    ["content", "sensitive_content", "source"].iter().all(|k| v.get_attr(k).is_none_or(Value::is_null))
}

/// A file whose content an import must not read into state: not readable by everyone (0600,
/// 0640), or named like a secret (`.env`, `*.key`, `*.pem`, `id_rsa`, `*secret*`,
/// `*password*`, `*token*`, `*credentials*`).
pub fn looks_secret(path: &str, mode: Option<&str>) -> bool {
    let private = mode.and_then(|m| u32::from_str_radix(m, 8).ok()).is_some_and(|m| m & 0o004 == 0);
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let named = name == ".env"
        || name.starts_with(".env.")
        || name.ends_with(".env")
        || [".key", ".pem", ".p12", ".pfx", ".keystore"].iter().any(|x| name.ends_with(x))
        || name.starts_with("id_rsa")
        || name.starts_with("id_ed25519")
        || name.starts_with("id_ecdsa")
        || ["secret", "password", "passwd", "token", "credential"].iter().any(|w| name.contains(w));
    private || named
}

impl File {
    async fn write(&self, c: &VpsProvider, prior: Option<&Value>, p: &Value) -> Outcome<()> {
        let path = attrs::req_string(p, "path")?;
        let bytes = file_bytes(p).unwrap_or(Ok(Vec::new()))?;
        let conn = c.writing(self.name(), p).await?;
        let (mode, owner, group) = (attrs::req_string(p, "mode")?, attrs::req_string(p, "owner")?, attrs::req_string(p, "group")?);
        let mut script = if content_unmanaged(p) {
            // The content is the host's: made empty if missing, else left as it is.
            format!(
                "if [ ! -e {q} ]; then mkdir -p -- \"$(dirname -- {q})\"; : > {q}; fi\nchmod {} {q}\nchown {}:{} {q}\n",
                quote(&mode),
                quote(&owner),
                quote(&group),
                q = quote(&path)
            )
        } else {
            write_file(&path, &bytes, &mode, &owner, &group)
        };
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
        if set > 1 && c.is_wholly_known() {
            out.push(Diagnostic::error(
                "Invalid file content",
                format!("vps_file takes one of content, sensitive_content or source (or none, to leave the content as the host has it); {set} are set."),
            ));
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
            let sha = if whole.is_wholly_known() && content_unmanaged(&whole) {
                // The content is the host's: whatever the last read found (and recorded).
                if let Some(c) = prior.and_then(|p| p.get_attr("content")) {
                    m.insert("content".into(), c.clone());
                }
                prior.and_then(|p| p.get_attr("content_sha256")).filter(|v| !v.is_null()).cloned().unwrap_or(Value::Unknown)
            } else if whole.is_wholly_known() {
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

    /// The path; the content is read with it. (`infra discover vps` reads its files with
    /// `content` unknown instead: then a file that looks secret is recorded without it.)
    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("path", Value::string(id))]))
    }

    /// Files under the `paths` of the filter (`infra discover vps --path`; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    /// A multi-line content as a heredoc; an unmanaged content (a secret left on the host) as
    /// `sensitive_content = null # sensitive`, which plans clean and says where a value would go.
    /// A file that looks secret never has its content written, whatever the state holds.
    fn to_hcl(&self, state: &Value) -> String {
        let secret = looks_secret(&attrs::string(state, "path").unwrap_or_default(), attrs::string(state, "mode").as_deref());
        let state = if secret { with(state, vec![("content", Value::Null)]) } else { state.clone() };
        let mut body = body_with_heredocs(&self.schema(), &state);
        if content_unmanaged(&state) {
            body.push_str("  sensitive_content = null # sensitive: left as the host has it\n");
        }
        body
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
        match known.get_attr("content") {
            // Read for `infra discover vps`: the content as the host has it, unless the file
            // looks secret (or is not text): then it stays unmanaged, in state as in the stack.
            Some(Value::Unknown) => {
                let secret = looks_secret(&g("path").unwrap_or_default(), facts.get("mode").map(String::as_str));
                let text = if secret || !regular { None } else { decoded(facts, "content") };
                fields.push(("content", text.map(Value::string).unwrap_or(Value::Null)));
            }
            // A bare import seed (`infra import`, an import block): the content, which the
            // configuration will compare.
            None if !content_is_secret(known) => fields.push(("content", text_of(facts, "", None, ""))),
            _ if content_is_secret(known) || content_unmanaged(known) => {}
            _ => fields.push(("content", text_of(facts, "", g("content"), &g("content_sha256").unwrap_or_default()))),
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

    #[test]
    fn secret_looking_files_are_private_or_named_so() {
        assert!(looks_secret("/opt/app/config.json", Some("600")));
        assert!(looks_secret("/opt/app/config.json", Some("640")));
        assert!(!looks_secret("/opt/app/config.json", Some("644")));
        assert!(looks_secret("/opt/app/.env", Some("644")));
        assert!(looks_secret("/opt/app/prod.env", Some("644")));
        assert!(looks_secret("/etc/ssl/private/site.key", Some("644")));
        assert!(looks_secret("/opt/app/db_password", Some("644")));
        assert!(!looks_secret("/opt/app/run.sh", Some("755")));
    }

    #[test]
    fn an_unmanaged_content_keeps_the_hash_read_and_is_written_as_a_sensitive_null() {
        let prior = Value::object([
            ("id", Value::string("/opt/app/.env")),
            ("path", Value::string("/opt/app/.env")),
            ("mode", Value::string("0600")),
            ("owner", Value::string("root")),
            ("group", Value::string("root")),
            ("content_sha256", Value::string("abc")),
            ("content", Value::Null),
        ]);
        let config = Value::object([("path", Value::string("/opt/app/.env")), ("mode", Value::string("0600"))]);
        assert!(File.validate(&config).is_empty());
        let planned = File.plan(&VpsProvider::unconfigured(), Some(&prior), &config).planned;
        assert_eq!(attrs::string(&planned, "content_sha256").as_deref(), Some("abc"));
        let hcl = File.to_hcl(&prior);
        assert!(hcl.contains("sensitive_content = null # sensitive"), "{hcl}");
        assert!(!hcl.contains("abc"), "{hcl}");
        let recorded = with(&prior, vec![("content", Value::string("DB_PASSWORD=x\n"))]);
        let hcl = File.to_hcl(&recorded);
        assert!(!hcl.contains("DB_PASSWORD") && hcl.contains("sensitive_content = null # sensitive"), "never written: {hcl}");
        let kept = File.plan(&VpsProvider::unconfigured(), Some(&recorded), &config).planned;
        assert!(kept.get_attr("content").is_some_and(|c| c.equals(&Value::string("DB_PASSWORD=x\n"))), "what state holds stays: {kept:?}");
    }
}
