//! `aws_iam_role_policy`: an inline policy of a role. Its id (and import id, as
//! terraform-provider-aws's) is `ROLE:NAME`; `policy` is compared by meaning. Existence is read
//! with one paged `ListRolePolicies` per role; the documents (`GetRolePolicy`, one per policy:
//! IAM has no batch) only on a full refresh, as a routine one keeps what was recorded.
//! An interrupted create is adopted under the name its token chose: `PutRolePolicy` is
//! idempotent, but the create sent again after a crash carries a new token, and so, with
//! `name_prefix`, a new name.

use super::*;
use crate::config::Clients;
use crate::AwsProvider;
use infra_provider::resource::with_id;

pub struct RolePolicy;

async fn policy_names(c: &Clients, role: String) -> Result<Option<Vec<String>>, Diagnostic> {
    let mut out = Vec::new();
    let mut pages = c.iam.list_role_policies().role_name(&role).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.policy_names().iter().cloned()),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListRolePolicies", &e)),
        }
    }
    Ok(Some(out))
}

async fn get_document(c: &Clients, id: String) -> Result<Option<String>, Diagnostic> {
    let Some((role, name)) = id.split_once(':') else { return Ok(None) };
    match c.iam.get_role_policy().role_name(role).policy_name(name).send().await {
        Ok(p) => Ok(Some(url_decode(p.policy_document()))),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(api_error("GetRolePolicy", &e)),
    }
}

fn split_id(id: &str) -> Option<(String, String)> {
    let (role, name) = id.split_once(':')?;
    (!role.is_empty() && !name.is_empty()).then(|| (role.to_string(), name.to_string()))
}

fn policy_object(role: &str, name: &str, policy: Value, known: Option<&Value>) -> Value {
    Value::object([
        ("id", Value::string(format!("{role}:{name}"))),
        ("role", Value::string(role)),
        ("name", Value::string(name)),
        ("name_prefix", known.and_then(|k| k.get_attr("name_prefix")).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null)),
        ("policy", policy),
    ])
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for RolePolicy {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("role", AttrSchema::required(Type::String).force_new())
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("policy", AttrSchema::required(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_policy(config, "policy");
        out.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        out
    }

    fn plan(&self, _c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_name(&mut resp.planned, prior);
        plan_policy(&mut resp.planned, prior, "policy");
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let (role, name) = (attrs::req_string(p, "role")?, generated_name(p, token));
        c.clients()?
            .iam
            .put_role_policy()
            .role_name(&role)
            .policy_name(&name)
            .policy_document(attrs::req_string(p, "policy")?)
            .send()
            .await
            .map_err(|e| api_error("PutRolePolicy", &e))?;
        Ok(with_id(p, &format!("{role}:{name}")))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let mut roles: Vec<String> = ids.iter().filter_map(|i| split_id(i)).map(|(r, _)| r).collect();
        roles.sort();
        roles.dedup();
        let names = per_object(c, &roles, |c, role| async move { policy_names(&c, role).await }).await?;
        let exists = |id: &str| split_id(id).is_some_and(|(r, n)| names.get(&r).cloned().flatten().is_some_and(|l| l.contains(&n)));
        let present: Vec<String> = ids.iter().filter(|i| exists(i)).cloned().collect();
        let (mut docs, missing) = split_recorded(&present, full, |id| {
            let o = objects.iter().find(|o| id_of(o) == id)?;
            Some(Some(attrs::string(o, "policy")?))
        });
        docs.extend(per_object(c, &missing, |c, id| async move { get_document(&c, id).await }).await?);
        Ok(objects
            .iter()
            .map(|o| {
                let id = id_of(o);
                let (role, name) = split_id(&id)?;
                let doc = docs.get(&id).cloned().flatten()?;
                Some(policy_object(&role, &name, policy_value(&doc, Some(o), "policy"), Some(o)))
            })
            .collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        match split_id(id) {
            Some((role, name)) => Ok(Value::object([("id", Value::string(id)), ("role", Value::string(role)), ("name", Value::string(name))])),
            None => Err(Diagnostic::error("Invalid import id", format!("{id:?} is not ROLE:NAME (for example my-role:read-secrets).")).into()),
        }
    }

    // The inline policies of every role ListRoles reports (service-linked roles left out).
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut roles = Vec::new();
        let mut pages = c.iam.list_roles().into_paginator().send();
        while let Some(page) = pages.next().await {
            for r in page.map_err(|e| api_error("ListRoles", &e))?.roles() {
                if !r.path().starts_with("/aws-service-role/") && !r.path().starts_with("/aws-reserved/") {
                    roles.push(r.role_name().to_string());
                }
            }
        }
        let found = per_object(c, &roles, |c, role| async move { policy_names(&c, role).await }).await?;
        Ok(found
            .into_iter()
            .flat_map(|(role, names)| {
                names.unwrap_or_default().into_iter().map(move |n| crate::discover::discovered(&format!("{role}:{n}"), Some(&n), &BTreeMap::new()))
            })
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (role, name) = split_id(&id_of(prior)).ok_or_else(|| Diagnostic::error("Invalid id", format!("{:?} is not ROLE:NAME.", id_of(prior))))?;
        c.clients()?
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(attrs::req_string(p, "policy")?)
            .send()
            .await
            .map_err(|e| api_error("PutRolePolicy", &e))?;
        Ok(())
    }

    // An interrupted create is found under the name its token chose: a create sent again
    // under a new token would put a second policy next to it when only name_prefix is set.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let (role, name) = (attrs::req_string(planned, "role")?, generated_name(planned, token));
        let names = policy_names(c.clients()?, role.clone()).await?.unwrap_or_default();
        Ok(names.contains(&name).then(|| with_id(planned, &format!("{role}:{name}"))))
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let Some((role, name)) = split_id(&id_of(prior)) else { return Ok(()) };
        match c.clients()?.iam.delete_role_policy().role_name(role).policy_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteRolePolicy", &e).into()),
        }
    }
}
