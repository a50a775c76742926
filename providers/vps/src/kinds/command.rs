//! `vps_command`: a script run once on create (its stdout recorded), and an optional one on
//! destroy. The host holds nothing to read back: the recorded run is the truth.

use super::*;
use crate::probe::Facts;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct Command;

#[async_trait]
impl ResourceType<VpsProvider> for Command {
    fn name(&self) -> &'static str {
        "vps_command"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("create", AttrSchema::required(Type::String).force_new())
            .attr("destroy", AttrSchema::optional(Type::String))
            .attr("triggers", AttrSchema::optional(Type::Map(Box::new(Type::String))).force_new())
            .attr("stdout", AttrSchema::computed(Type::String))
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            // A new run gets a new id; an in-place change (the destroy command) keeps the old one.
            if prior.is_none() || !resp.requires_replace.is_empty() {
                m.insert("id".into(), Value::Unknown);
                m.insert("stdout".into(), Value::Unknown);
            }
        }
        resp
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        let create = attrs::req_string(planned, "create")?;
        let stdout = run(c.connection().await?, "The create command", &create).await?;
        let id = sha256_hex(format!("{create}{:?}", std::time::SystemTime::now()).as_bytes())[..16].to_string();
        Ok(with(planned, vec![("id", Value::string(id)), ("stdout", Value::string(stdout))]))
    }

    /// The recorded run stands.
    async fn read_many(&self, _c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        Ok(objects.iter().cloned().map(Some).collect())
    }

    /// What the create recorded (its id and stdout) is the object: nothing to ask the host.
    async fn read_one(&self, _c: &VpsProvider, known: &Value) -> Outcome<Option<Value>> {
        Ok(Some(known.clone()))
    }

    /// Only `destroy` changes in place, and it runs on delete: nothing to do now.
    async fn update(&self, _c: &VpsProvider, _prior: &Value, _planned: &Value) -> Outcome<()> {
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        if let Some(destroy) = attrs::string(prior, "destroy") {
            run(c.connection().await?, "Deleting vps_command", &destroy).await?;
        }
        Ok(())
    }

    fn import_seed(&self, _id: &str) -> Outcome<Value> {
        Err(Diagnostic::error("Import not supported", "vps_command cannot be imported: a command's run is only known to the state that recorded it.").into())
    }
}

impl Kind for Command {
    fn probed(&self) -> bool {
        false
    }

    fn probe(&self, _v: &Value) -> String {
        String::new()
    }

    fn read(&self, known: &Value, _facts: &Facts) -> Option<Value> {
        Some(known.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_cannot_be_imported() {
        assert!(Command.import_seed("abc").is_err());
    }
}
