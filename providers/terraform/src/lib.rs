//! The built-in `terraform` provider: `terraform_data`, exactly as in Terraform. `input` is
//! stored and echoed as `output`; `triggers_replace` forces replacement when it changes.

use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;

pub struct TerraformProvider;

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(TerraformProvider) as Box<dyn Provider>)
}

fn data_schema() -> Schema {
    Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("input", AttrSchema::optional(Type::Any))
        .attr("output", AttrSchema::computed(Type::Any))
        .attr("triggers_replace", AttrSchema::optional(Type::Any).force_new())
}

#[async_trait]
impl Provider for TerraformProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema { resources: BTreeMap::from([("terraform_data".to_string(), data_schema())]), ..Default::default() }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&data_schema(), req.prior.as_ref(), &req.config);
        // output always mirrors input, known exactly when input is.
        if let Value::Object(m) = &mut resp.planned {
            let input = m.get("input").cloned().unwrap_or(Value::Null);
            m.insert("output".into(), input);
        }
        resp
    }

    /// Terraform records a dynamic value with its type (`{"value": "x", "type": "string"}`);
    /// infra records the value.
    fn upgrade_terraform_state(&self, req: FromTerraformRequest) -> FromTerraformResponse {
        let mut attributes = req.attributes;
        if let Value::Object(m) = &mut attributes {
            for k in ["input", "output", "triggers_replace"] {
                let typed = m.get(k).and_then(|v| v.as_map()).filter(|o| o.len() == 2 && o.contains_key("type")).and_then(|o| o.get("value").cloned());
                if let Some(v) = typed {
                    m.insert(k.into(), v);
                }
            }
        }
        FromTerraformResponse { attributes, diagnostics: Vec::new() }
    }

    fn journals_creates(&self) -> bool {
        false
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let mut state = req.planned;
        if let Value::Object(m) = &mut state {
            m.insert("id".into(), Value::string(uuid::Uuid::new_v4().to_string()));
        }
        CreateResponse { state: Some(state), diagnostics: Vec::new() }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        let mut state = req.planned;
        if let (Value::Object(m), Some(id)) = (&mut state, req.prior.get_attr("id")) {
            m.insert("id".into(), id.clone());
        }
        UpdateResponse { state: Some(state), diagnostics: Vec::new() }
    }

    async fn delete(&self, _req: DeleteRequest) -> DeleteResponse {
        DeleteResponse::default()
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        // Nothing exists outside the state: the stored object is the truth.
        ReadManyResponse { objects: req.objects.into_iter().map(Some).collect(), diagnostics: Vec::new() }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let state = Value::object([("id", Value::string(req.id)), ("input", Value::Null), ("output", Value::Null), ("triggers_replace", Value::Null)]);
        ImportResponse { state: Some(state), diagnostics: Vec::new() }
    }
}
