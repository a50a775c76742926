//! `google_sql_database`: a database in an instance. Refresh reads every database of an
//! instance with one databases.list, so N databases of one instance cost one call.

use super::{js, project_of};
use crate::api::{enc, Method};
use crate::GoogleProvider;
use infra_provider::*;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

pub struct Database;

fn path(project: &str, instance: &str) -> String {
    format!("projects/{}/instances/{}/databases", enc(project), enc(instance))
}

fn value(j: &Json, project: &str, instance: &str, known: &Value) -> Value {
    let name = attrs_name(j);
    Value::object([
        ("id", Value::string(format!("projects/{project}/instances/{instance}/databases/{name}"))),
        ("name", Value::string(&name)),
        ("instance", Value::string(instance)),
        ("project", Value::string(project)),
        ("charset", js(j, "charset")),
        ("collation", js(j, "collation")),
        ("self_link", js(j, "selfLink")),
        ("deletion_policy", known.get_attr("deletion_policy").cloned().filter(|v| !v.is_null()).unwrap_or(Value::string("DELETE"))),
    ])
}

/// Every database of each instance the objects name: one databases.list per instance.
async fn list(c: &GoogleProvider, objects: &[Value]) -> Result<BTreeMap<(String, String), Option<Vec<Json>>>, Errors> {
    let mut out = BTreeMap::new();
    for o in objects {
        let key = (project_of(c, o)?, attrs::req_string(o, "instance")?);
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(key) {
            let items = c.client()?.api.list("databases.list", &path(&e.key().0, &e.key().1)).await?;
            e.insert(items);
        }
    }
    Ok(out)
}

#[async_trait::async_trait]
impl ResourceType<GoogleProvider> for Database {
    fn name(&self) -> &'static str {
        "google_sql_database"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("instance", AttrSchema::required(Type::String).force_new())
            .attr("project", AttrSchema::optional_computed(Type::String).force_new())
            .attr("charset", AttrSchema::optional_computed(Type::String))
            .attr("collation", AttrSchema::optional_computed(Type::String))
            .attr("deletion_policy", AttrSchema::optional(Type::String).default(Value::string("DELETE")))
            .attr("self_link", AttrSchema::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match attrs::string(config, "deletion_policy") {
            Some(p) if p != "DELETE" && p != "ABANDON" => {
                vec![Diagnostic::error("Invalid deletion_policy", format!("{p:?}: deletion_policy is DELETE or ABANDON."))
                    .with_path(attrs::at("deletion_policy"))]
            }
            _ => Vec::new(),
        }
    }

    fn plan(&self, c: &GoogleProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let (Value::Object(m), None, Some(cl)) = (&mut resp.planned, prior, c.client.get()) {
            if m.get("project").is_some_and(Value::is_unknown) && !cl.api.project.is_empty() {
                m.insert("project".into(), Value::string(&cl.api.project));
            }
        }
        resp
    }

    async fn create(&self, c: &GoogleProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        let (project, instance, name) = (project_of(c, planned)?, attrs::req_string(planned, "instance")?, attrs::req_string(planned, "name")?);
        let mut body = json!({"name": name, "instance": instance, "project": project});
        for (k, api) in [("charset", "charset"), ("collation", "collation")] {
            if let Some(v) = attrs::string(planned, k) {
                body[api] = json!(v);
            }
        }
        let api = &c.client()?.api;
        let _guard = api.lock(&project, &instance).await;
        match api.call("databases.insert", Method::Post, &path(&project, &instance), Some(&body)).await {
            Ok(op) => {
                api.wait(&project, &op, &format!("create of database {name} in instance {instance}")).await?;
            }
            // A database of that name is there: one made by a create whose answer was lost
            // (databases have no owner to tell them apart), recorded rather than made twice.
            Err(e)
                if e.error.status == 409
                    && e.error.reason != "operationInProgress"
                    && api.get("databases.get", &format!("{}/{}", path(&project, &instance), enc(&name))).await?.is_some() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(resource::with_id(planned, &format!("projects/{project}/instances/{instance}/databases/{name}")))
    }

    async fn read_many(&self, c: &GoogleProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let lists = list(c, objects).await?;
        objects
            .iter()
            .map(|o| {
                let (p, i, n) = (project_of(c, o)?, attrs::req_string(o, "instance")?, attrs::string(o, "name").unwrap_or_default());
                let items = lists.get(&(p.clone(), i.clone())).cloned().flatten().unwrap_or_default();
                Ok(items.iter().find(|j| attrs_name(j) == n).map(|j| value(j, &p, &i, o)))
            })
            .collect()
    }

    async fn update(&self, c: &GoogleProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let (project, instance, name) = (project_of(c, prior)?, attrs::req_string(prior, "instance")?, attrs::req_string(prior, "name")?);
        let mut body = json!({"name": name});
        for k in ["charset", "collation"] {
            if let Some(v) = attrs::string(planned, k).filter(|v| attrs::string(prior, k).as_ref() != Some(v)) {
                body[k] = json!(v);
            }
        }
        if body.as_object().is_some_and(|m| m.len() > 1) {
            c.client()?
                .api
                .mutate(&project, &instance, "databases.patch", Method::Patch, &format!("{}/{}", path(&project, &instance), enc(&name)), Some(&body))
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &GoogleProvider, prior: &Value) -> Outcome<()> {
        if attrs::string(prior, "deletion_policy").as_deref() == Some("ABANDON") {
            return Ok(());
        }
        let (project, instance, name) = (project_of(c, prior)?, attrs::req_string(prior, "instance")?, attrs::req_string(prior, "name")?);
        let api = &c.client()?.api;
        match api.mutate(&project, &instance, "databases.delete", Method::Delete, &format!("{}/{}", path(&project, &instance), enc(&name)), None).await {
            Ok(_) => Ok(()),
            // Gone already, or its instance is.
            Err(e) if api.get("databases.get", &format!("{}/{}", path(&project, &instance), enc(&name))).await.is_ok_and(|d| d.is_none()) => {
                let _ = e;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        super::import_seed(id, Some("databases"), "name")
    }

    async fn discover(&self, c: &GoogleProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let project = match filter.get("project") {
            Some(p) => p.clone(),
            None => project_of(c, &Value::Null)?,
        };
        let api = &c.client()?.api;
        let instances = match filter.get("instance") {
            Some(i) => vec![i.clone()],
            None => api
                .list("instances.list", &format!("projects/{}/instances", enc(&project)))
                .await?
                .unwrap_or_default()
                .iter()
                .map(attrs_name)
                .filter(|n| !n.is_empty())
                .collect(),
        };
        let mut out = Vec::new();
        for i in instances {
            for j in api.list("databases.list", &path(&project, &i)).await?.unwrap_or_default() {
                out.push(value(&j, &project, &i, &Value::Null));
            }
        }
        Ok(out)
    }
}

fn attrs_name(j: &Json) -> String {
    j.get("name").and_then(Json::as_str).unwrap_or_default().to_string()
}
