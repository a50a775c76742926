//! `vps_group`: a local group made with groupadd, its gid changed in place with groupmod,
//! read back from the group database.

use super::user::{check_account_name, check_system_id, is_system_id};
use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct Group;

impl Group {
    /// Makes the group, or brings the one of that name to the configuration.
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let q = quote(&name);
        let gid = attrs::int(p, "gid").map(|g| format!(" -g {g}")).unwrap_or_default();
        let system = if attrs::bool(p, "system") == Some(true) { " -r" } else { "" };
        let change = if gid.is_empty() { "true".to_string() } else { format!("groupmod{gid} {q}") };
        let script = format!("if getent group {q} >/dev/null; then\n  {change}\nelse\n  groupadd{system}{gid} {q}\nfi\n");
        run(c.writing(self.name(), p).await?, &format!("Creating the group {name}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for Group {
    fn name(&self) -> &'static str {
        "vps_group"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("system", AttrSchema::optional(Type::Bool).default(Value::Bool(false)).force_new())
            .attr("gid", AttrSchema::optional_computed(Type::Number))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_account_name(c, &mut out);
        check_system_id(c, "gid", &mut out);
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_with_id(&self.schema(), prior, config, "name")
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        self.write(c, planned).await?;
        Ok(planned.clone())
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.write(c, planned).await
    }

    /// A group already gone is fine: userdel takes the group of an account's name with it.
    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let q = quote(&attrs::req_string(prior, "name")?);
        run(c.writing(self.name(), prior).await?, "Deleting vps_group", &format!("if getent group {q} >/dev/null; then groupdel {q}; fi\n")).await?;
        Ok(())
    }

    /// Groups people made (gid 1000 and up, but the group useradd made with an account; see
    /// `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("name", Value::string(id))]))
    }
}

impl Kind for Group {
    fn probe(&self, v: &Value) -> String {
        format!("group '' {}", quote(&attrs::string(v, "name").unwrap_or_default()))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        let gid = facts.get("entry").and_then(|e| e.split(':').nth(2)).and_then(|g| g.parse::<i64>().ok());
        Some(with(
            known,
            vec![
                ("id", Value::string(attrs::string(known, "name").unwrap_or_default())),
                ("gid", gid.map(Value::int).unwrap_or(Value::Null)),
                ("system", Value::Bool(gid.is_some_and(is_system_id))),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_entry_reads_into_its_gid() {
        let mut facts = Facts::new();
        facts.insert("exists".into(), "1".into());
        facts.insert("entry".into(), "gw2:x:998:roddy".into());
        let v = Group.read(&Group.import_seed("gw2").unwrap(), &facts).unwrap();
        assert_eq!(attrs::int(&v, "gid"), Some(998));
        assert_eq!(attrs::bool(&v, "system"), Some(true));
    }
}
