//! `google_sql_user`: a user of an instance. Refresh reads every user of an instance with one
//! users.list. The API never returns a password, so the recorded one stands: a password
//! changed outside infra is not seen as drift (documented in the README).

use super::{js, project_of};
use crate::api::{enc, Method};
use crate::GoogleProvider;
use infra_provider::*;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

pub struct User;

fn path(project: &str, instance: &str) -> String {
    format!("projects/{}/instances/{}/users", enc(project), enc(instance))
}

/// The query naming one user (users.update and users.delete take it as parameters).
fn which(name: &str, host: Option<&str>) -> String {
    match host.filter(|h| !h.is_empty()) {
        Some(h) => format!("?name={}&host={}", enc(name), enc(h)),
        None => format!("?name={}", enc(name)),
    }
}

fn name_of(j: &Json) -> String {
    j.get("name").and_then(Json::as_str).unwrap_or_default().to_string()
}

fn value(j: &Json, project: &str, instance: &str, known: &Value) -> Value {
    let name = name_of(j);
    let keep = |k: &str| known.get_attr(k).cloned().unwrap_or(Value::Null);
    let host = js(j, "host");
    Value::object([
        ("id", Value::string(format!("{project}/{instance}/{name}"))),
        ("name", Value::string(&name)),
        ("instance", Value::string(instance)),
        ("project", Value::string(project)),
        ("host", if host.as_str() == Some("") { Value::Null } else { host }),
        ("type", {
            // An absent type is BUILT_IN; shown only when the configuration says it.
            let t = js(j, "type").as_str().filter(|t| !t.is_empty()).unwrap_or("BUILT_IN").to_string();
            if keep("type").is_null() && t == "BUILT_IN" {
                Value::Null
            } else {
                Value::string(t)
            }
        }),
        ("password", keep("password")),
        ("deletion_policy", keep("deletion_policy")),
    ])
}

#[async_trait::async_trait]
impl ResourceType<GoogleProvider> for User {
    fn name(&self) -> &'static str {
        "google_sql_user"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("instance", AttrSchema::required(Type::String).force_new())
            .attr("project", AttrSchema::optional_computed(Type::String).force_new())
            .attr("host", AttrSchema::optional_computed(Type::String).force_new())
            .attr("password", AttrSchema::optional(Type::String).sensitive())
            .attr("type", AttrSchema::optional(Type::String).force_new())
            .attr("deletion_policy", AttrSchema::optional(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match attrs::string(config, "deletion_policy") {
            Some(p) if p != "ABANDON" => {
                vec![Diagnostic::error("Invalid deletion_policy", format!("{p:?}: deletion_policy is ABANDON or unset."))
                    .with_path(attrs::at("deletion_policy"))]
            }
            _ => Vec::new(),
        }
    }

    fn plan(&self, c: &GoogleProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            if prior.is_none() {
                if let Some(cl) = c.client.get().filter(|cl| !cl.api.project.is_empty()) {
                    if m.get("project").is_some_and(Value::is_unknown) {
                        m.insert("project".into(), Value::string(&cl.api.project));
                    }
                }
                // PostgreSQL users have no host.
                if m.get("host").is_some_and(Value::is_unknown) {
                    m.insert("host".into(), Value::Null);
                }
            }
        }
        resp
    }

    async fn create(&self, c: &GoogleProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        let (project, instance, name) = (project_of(c, planned)?, attrs::req_string(planned, "instance")?, attrs::req_string(planned, "name")?);
        let mut body = json!({"name": name, "instance": instance, "project": project});
        for k in ["password", "type", "host"] {
            if let Some(v) = attrs::string(planned, k) {
                body[k] = json!(v);
            }
        }
        let api = &c.client()?.api;
        let _guard = api.lock(&project, &instance).await;
        // users.insert of an existing user fails; after a lost answer the user is looked for
        // by name, and its password set again (a PUT is idempotent).
        match api.call("users.insert", Method::Post, &path(&project, &instance), Some(&body)).await {
            Ok(op) => {
                api.wait(&project, &op, &format!("create of user {name} in instance {instance}")).await?;
            }
            Err(e) if e.error.status == 409 && e.error.reason != "operationInProgress" => {
                let found = api.list("users.list", &path(&project, &instance)).await?.unwrap_or_default().iter().any(|j| name_of(j) == name);
                if !found {
                    return Err(e.into());
                }
                let url = format!("{}{}", path(&project, &instance), which(&name, attrs::string(planned, "host").as_deref()));
                let op = api.call("users.update", Method::Put, &url, Some(&body)).await?;
                api.wait(&project, &op, &format!("update of user {name} in instance {instance}")).await?;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(resource::with_id(planned, &format!("{project}/{instance}/{name}")))
    }

    async fn read_many(&self, c: &GoogleProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let mut lists: BTreeMap<(String, String), Vec<Json>> = BTreeMap::new();
        for o in objects {
            let key = (project_of(c, o)?, attrs::req_string(o, "instance")?);
            if let std::collections::btree_map::Entry::Vacant(e) = lists.entry(key) {
                let items = c.client()?.api.list("users.list", &path(&e.key().0, &e.key().1)).await?.unwrap_or_default();
                e.insert(items);
            }
        }
        objects
            .iter()
            .map(|o| {
                let (p, i, n) = (project_of(c, o)?, attrs::req_string(o, "instance")?, attrs::string(o, "name").unwrap_or_default());
                Ok(lists.get(&(p.clone(), i.clone())).and_then(|l| l.iter().find(|j| name_of(j) == n)).map(|j| value(j, &p, &i, o)))
            })
            .collect()
    }

    async fn update(&self, c: &GoogleProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let (project, instance, name) = (project_of(c, prior)?, attrs::req_string(prior, "instance")?, attrs::req_string(prior, "name")?);
        if attrs::string(prior, "password") == attrs::string(planned, "password") {
            return Ok(());
        }
        let body = json!({"name": name, "password": attrs::string(planned, "password")});
        let url = format!("{}{}", path(&project, &instance), which(&name, attrs::string(prior, "host").as_deref()));
        c.client()?.api.mutate(&project, &instance, "users.update", Method::Put, &url, Some(&body)).await?;
        Ok(())
    }

    async fn delete(&self, c: &GoogleProvider, prior: &Value) -> Outcome<()> {
        if attrs::string(prior, "deletion_policy").as_deref() == Some("ABANDON") {
            return Ok(());
        }
        let (project, instance, name) = (project_of(c, prior)?, attrs::req_string(prior, "instance")?, attrs::req_string(prior, "name")?);
        let api = &c.client()?.api;
        let url = format!("{}{}", path(&project, &instance), which(&name, attrs::string(prior, "host").as_deref()));
        match api.mutate(&project, &instance, "users.delete", Method::Delete, &url, None).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Gone already, or its instance is.
                let users = api.list("users.list", &path(&project, &instance)).await;
                match users {
                    Ok(None) => Ok(()),
                    Ok(Some(l)) if !l.iter().any(|j| name_of(j) == name) => Ok(()),
                    _ => Err(e),
                }
            }
        }
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        super::import_seed(id, Some("users"), "name")
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
                .map(name_of)
                .filter(|n| !n.is_empty())
                .collect(),
        };
        let mut out = Vec::new();
        for i in instances {
            for j in api.list("users.list", &path(&project, &i)).await?.unwrap_or_default() {
                out.push(value(&j, &project, &i, &Value::Null));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_named_in_the_query() {
        assert_eq!(which("app user", None), "?name=app%20user");
        assert_eq!(which("u", Some("%")), "?name=u&host=%25");
        assert_eq!(which("u", Some("")), "?name=u");
    }
}
