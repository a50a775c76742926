//! `vps_directory`: a directory with its mode and owner. Deleting it removes it only when
//! empty: what others put there is theirs.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct Directory;

impl Directory {
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let path = attrs::req_string(p, "path")?;
        let q = quote(&path);
        let script = format!(
            "mkdir -p -- {q}\nchmod {} {q}\nchown {}:{} {q}\n",
            quote(&attrs::req_string(p, "mode")?),
            quote(&attrs::req_string(p, "owner")?),
            quote(&attrs::req_string(p, "group")?)
        );
        run(c.writing(self.name(), p).await?, &format!("Creating {path}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for Directory {
    fn name(&self) -> &'static str {
        "vps_directory"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("path", AttrSchema::required(Type::String).force_new())
            .attr("mode", AttrSchema::optional(Type::String).default(Value::string("0755")))
            .attr("owner", AttrSchema::optional(Type::String).default(Value::string("root")))
            .attr("group", AttrSchema::optional(Type::String).default(Value::string("root")))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_mode(c, &mut out);
        check_path(c, "path", &mut out);
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if let Some(mode) = m.get("mode").and_then(|v| v.as_str().and_then(normalize_mode)) {
                m.insert("mode".into(), Value::string(mode));
            }
        }
        plan_with_id(&self.schema(), prior, &cfg, "path")
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

    /// Managed children may be going away in parallel (sibling resources), so give them a few
    /// seconds.
    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let q = quote(&attrs::req_string(prior, "path")?);
        let script = format!("i=0\nwhile [ -d {q} ] && ! rmdir -- {q} 2>/dev/null && [ $i -lt 10 ]; do i=$((i+1)); sleep 0.5; done\ntrue\n");
        run(c.writing(self.name(), prior).await?, "Deleting vps_directory", &script).await?;
        Ok(())
    }

    /// Directories under the `paths` of the filter (`infra discover vps --path`; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("path", Value::string(id))]))
    }
}

impl Kind for Directory {
    fn probe(&self, v: &Value) -> String {
        format!("file '' {} '' 0", quote(&attrs::string(v, "path").unwrap_or_default()))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") || facts.get("kind").map(String::as_str) != Some("directory") {
            return None;
        }
        Some(with(
            known,
            vec![
                ("id", Value::string(attrs::string(known, "path").unwrap_or_default())),
                ("mode", mode_fact(facts)),
                ("owner", fact(facts, "owner")),
                ("group", fact(facts, "group")),
            ],
        ))
    }
}
