//! `vps_apt_package`: a Debian package installed (at a version, or the candidate), read back
//! from dpkg.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct AptPackage;

impl AptPackage {
    /// Installs the package and returns it with the version dpkg now has.
    async fn install(&self, c: &VpsProvider, p: &Value) -> Outcome<Value> {
        let name = attrs::req_string(p, "name")?;
        let spec = match attrs::string(p, "version") {
            Some(v) => format!("{name}={v}"),
            None => name.clone(),
        };
        let conn = c.writing(self.name(), p).await?;
        let _exclusive = conn.exclusive.lock().await;
        let install = format!("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -- {}", quote(&spec));
        run(conn, &format!("Installing {name}"), &format!("{install} >/dev/null || {{ apt-get update -q >/dev/null && {install} >/dev/null; }}\n")).await?;
        let version = run(conn, "Reading the package version", &format!("dpkg-query -W -f='${{Version}}' -- {}\n", quote(&name))).await?;
        Ok(with(p, vec![("version", Value::string(version.trim()))]))
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for AptPackage {
    fn name(&self) -> &'static str {
        "vps_apt_package"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("version", AttrSchema::optional_computed(Type::String))
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
        Ok(c.wrote(self.name(), self.install(c, planned).await?))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        c.wrote(self.name(), self.install(c, planned).await?);
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let script = format!("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -- {} >/dev/null\n", quote(&attrs::req_string(prior, "name")?));
        let conn = c.writing(self.name(), prior).await?;
        let _exclusive = conn.exclusive.lock().await;
        run(conn, "Deleting vps_apt_package", &script).await?;
        Ok(())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("name", Value::string(id))]))
    }
}

impl Kind for AptPackage {
    fn probe(&self, v: &Value) -> String {
        format!("echo \"package $(dpkg-query -W -f='${{Status}}|${{Version}}' -- {} 2>/dev/null)\"", quote(&attrs::string(v, "name").unwrap_or_default()))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        let status = facts.get("package").cloned().unwrap_or_default();
        let (state, version) = status.split_once('|')?;
        if !state.ends_with(" installed") {
            return None;
        }
        Some(with(known, vec![("id", Value::string(attrs::string(known, "name").unwrap_or_default())), ("version", Value::string(version))]))
    }
}
