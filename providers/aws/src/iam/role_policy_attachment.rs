//! `aws_iam_role_policy_attachment`: a managed policy attached to a role. Its id (and import
//! id, as terraform-provider-aws's) is `ROLE/POLICY_ARN`. Read with one paged
//! `ListAttachedRolePolicies` per role, whatever the number of its attachments; an interrupted
//! create is adopted when the policy is attached.

use super::*;
use crate::config::Clients;
use crate::AwsProvider;
use infra_provider::resource::with_id;

pub struct RolePolicyAttachment;

/// The policies attached to `role`, `None` when the role is gone.
async fn attached(c: &Clients, role: String) -> Result<Option<Vec<String>>, Diagnostic> {
    let mut out = Vec::new();
    let mut pages = c.iam.list_attached_role_policies().role_name(&role).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.attached_policies().iter().filter_map(|a| a.policy_arn().map(str::to_string))),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListAttachedRolePolicies", &e)),
        }
    }
    Ok(Some(out))
}

fn attachment_value(role: &str, arn: &str) -> Value {
    Value::object([("id", Value::string(format!("{role}/{arn}"))), ("role", Value::string(role)), ("policy_arn", Value::string(arn))])
}

/// `ROLE/ARN` split at the first `/` (a role name has none; an ARN may).
fn split_id(id: &str) -> Option<(String, String)> {
    let (role, arn) = id.split_once('/')?;
    (!role.is_empty() && arn.starts_with("arn:")).then(|| (role.to_string(), arn.to_string()))
}

/// The role and policy of a recorded object: its arguments, else its id.
fn role_and_arn(o: &Value) -> Option<(String, String)> {
    match (attrs::string(o, "role"), attrs::string(o, "policy_arn")) {
        (Some(r), Some(a)) => Some((r, a)),
        _ => split_id(&id_of(o)),
    }
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for RolePolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("role", AttrSchema::required(Type::String).force_new())
            .attr("policy_arn", AttrSchema::required(Type::String).force_new())
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let (role, arn) = (attrs::req_string(p, "role")?, attrs::req_string(p, "policy_arn")?);
        c.clients()?.iam.attach_role_policy().role_name(&role).policy_arn(&arn).send().await.map_err(|e| api_error("AttachRolePolicy", &e))?;
        Ok(with_id(p, &format!("{role}/{arn}")))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let mut roles: Vec<String> = objects.iter().filter_map(role_and_arn).map(|(r, _)| r).collect();
        roles.sort();
        roles.dedup();
        let found = per_object(c, &roles, |c, role| async move { attached(&c, role).await }).await?;
        Ok(objects
            .iter()
            .map(|o| {
                let (role, arn) = role_and_arn(o)?;
                found.get(&role)?.as_ref()?.iter().any(|a| *a == arn).then(|| attachment_value(&role, &arn))
            })
            .collect())
    }

    // Attaching again would be harmless; adopting records the attachment without a second call.
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let (role, arn) = (attrs::req_string(planned, "role")?, attrs::req_string(planned, "policy_arn")?);
        let found = attached(c.clients()?, role.clone()).await?.unwrap_or_default();
        Ok(found.contains(&arn).then(|| with_id(planned, &format!("{role}/{arn}"))))
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        match split_id(id) {
            Some((role, arn)) => Ok(attachment_value(&role, &arn)),
            None => Err(Diagnostic::error(
                "Invalid import id",
                format!("{id:?} is not ROLE/POLICY_ARN (for example my-role/arn:aws:iam::aws:policy/ReadOnlyAccess)."),
            )
            .into()),
        }
    }

    // The attachments of every role ListRoles reports (service-linked roles left out).
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
        let found = per_object(c, &roles, |c, role| async move { attached(&c, role).await }).await?;
        let mut out = Vec::new();
        for (role, arns) in found {
            for arn in arns.unwrap_or_default() {
                let policy = arn.rsplit('/').next().unwrap_or_default().to_string();
                out.push(crate::discover::discovered(&format!("{role}/{arn}"), Some(&format!("{role}-{policy}")), &BTreeMap::new()));
            }
        }
        Ok(out)
    }

    /// Both arguments force a new attachment: nothing changes in place.
    async fn update(&self, _c: &AwsProvider, _prior: &Value, _p: &Value) -> Outcome<()> {
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let Some((role, arn)) = role_and_arn(prior) else { return Ok(()) };
        match c.clients()?.iam.detach_role_policy().role_name(&role).policy_arn(&arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DetachRolePolicy", &e).into()),
        }
    }
}
