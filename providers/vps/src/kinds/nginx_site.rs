//! `vps_nginx_site`: a site in sites-available, linked in sites-enabled (or not). A site
//! `nginx -t` refuses is never left in place: the previous one is put back and nginx keeps
//! serving it.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct NginxSite;

const SITES_AVAILABLE: &str = "/etc/nginx/sites-available";
const SITES_ENABLED: &str = "/etc/nginx/sites-enabled";

impl NginxSite {
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let (avail, enabled) = (format!("{SITES_AVAILABLE}/{name}"), format!("{SITES_ENABLED}/{name}"));
        let link = if attrs::bool(p, "enabled") == Some(false) {
            format!("rm -f -- {}", quote(&enabled))
        } else {
            format!("mkdir -p {SITES_ENABLED}\nln -sfn -- {} {}", quote(&avail), quote(&enabled))
        };
        let script = format!(
            "a={a}\ne={e}\nbak=''\nif [ -e \"$a\" ]; then bak=$(mktemp); cp -p -- \"$a\" \"$bak\"; fi\nlinked=0\nif [ -L \"$e\" ]; then linked=1; fi\n{write}{link}\nif ! out=$(nginx -t 2>&1); then\n  if [ -n \"$bak\" ]; then mv -f -- \"$bak\" \"$a\"; else rm -f -- \"$a\"; fi\n  if [ $linked = 1 ]; then ln -sfn -- \"$a\" \"$e\"; else rm -f -- \"$e\"; fi\n  printf '%s\\n' \"$out\" >&2\n  exit 3\nfi\nif [ -n \"$bak\" ]; then rm -f -- \"$bak\"; fi\nsystemctl reload nginx 2>/dev/null || nginx -s reload\n",
            a = quote(&avail),
            e = quote(&enabled),
            write = write_file(&avail, attrs::req_string(p, "config")?.as_bytes(), "0644", "root", "root"),
        );
        let out = c.writing(self.name(), p).await?.run(&format!("set -e\n{script}")).await?;
        match out.status {
            0 => Ok(()),
            3 => Err(Diagnostic::error(
                "nginx rejected the site",
                format!("`nginx -t` failed with the new {name}, so the previous site was put back and nginx was not reloaded:\n{}", out.stderr_text()),
            )
            .into()),
            n => Err(Diagnostic::error(format!("Configuring site {name} failed"), format!("The host answered (exit {n}): {}", out.stderr_text())).into()),
        }
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for NginxSite {
    fn name(&self) -> &'static str {
        "vps_nginx_site"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("config", AttrSchema::required(Type::String))
            .attr("enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
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
        self.write(c, planned).await?;
        Ok(c.wrote(self.name(), planned.clone()))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    /// A refused site leaves the previous one on the host; the read back after the failed
    /// update then records that one.
    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.write(c, planned).await?;
        c.wrote(self.name(), planned.clone());
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let name = attrs::req_string(prior, "name")?;
        let script = format!(
            "rm -f -- {} {}\nif nginx -t >/dev/null 2>&1; then systemctl reload nginx 2>/dev/null || nginx -s reload; fi\n",
            quote(&format!("{SITES_ENABLED}/{name}")),
            quote(&format!("{SITES_AVAILABLE}/{name}"))
        );
        run(c.writing(self.name(), prior).await?, "Deleting vps_nginx_site", &script).await?;
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

impl Kind for NginxSite {
    fn probe(&self, v: &Value) -> String {
        let name = attrs::string(v, "name").unwrap_or_default();
        format!(
            "file '' {} {} 1\nfile 'enabled.' {} '' 0",
            quote(&format!("{SITES_AVAILABLE}/{name}")),
            quote(&sha256_hex(attrs::string(v, "config").unwrap_or_default().as_bytes())),
            quote(&format!("{SITES_ENABLED}/{name}"))
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
                ("config", text_of(facts, "", attrs::string(known, "config"), &recorded_sha(known, "config"))),
                ("enabled", Value::Bool(exists(facts, "enabled."))),
            ],
        ))
    }
}
