//! Data source `google_sql_tiers`: the machine types a project can use (tiers.list).

use crate::sql::project_of;
use crate::GoogleProvider;
use infra_provider::*;
use serde_json::Value as Json;

pub struct SqlTiers;

#[async_trait::async_trait]
impl DataSource<GoogleProvider> for SqlTiers {
    fn name(&self) -> &'static str {
        "google_sql_tiers"
    }

    fn schema(&self) -> Schema {
        use infra_lang::types::ObjectAttr;
        let f = |t: Type| ObjectAttr { ty: t, optional: false, default: None };
        let tier = Type::Object(
            [
                ("tier".to_string(), f(Type::String)),
                ("ram".to_string(), f(Type::Number)),
                ("disk_quota".to_string(), f(Type::Number)),
                ("region".to_string(), f(Type::List(Box::new(Type::String)))),
            ]
            .into_iter()
            .collect(),
        );
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("project", AttrSchema::optional_computed(Type::String))
            .attr("tiers", AttrSchema::computed(Type::List(Box::new(tier))))
    }

    async fn read(&self, c: &GoogleProvider, config: &Value) -> Outcome<Value> {
        let project = project_of(c, config)?;
        let items = c.client()?.api.list("tiers.list", &format!("projects/{}/tiers", crate::api::enc(&project))).await?.unwrap_or_default();
        let tiers = items
            .iter()
            .map(|t| {
                let regions =
                    t.get("region").and_then(Json::as_array).map(|r| r.iter().filter_map(Json::as_str).map(Value::string).collect()).unwrap_or_default();
                Value::object([
                    ("tier", crate::sql::js(t, "tier")),
                    ("ram", crate::sql::ji(t, "RAM")),
                    ("disk_quota", crate::sql::ji(t, "DiskQuota")),
                    ("region", Value::List(regions)),
                ])
            })
            .collect();
        Ok(Value::object([("id", Value::string(format!("projects/{project}/tiers"))), ("project", Value::string(&project)), ("tiers", Value::List(tiers))]))
    }
}
