//! `aws_iam_role`. Its id is its name. `assume_role_policy` and inline policies are compared
//! by meaning, never as text. IAM has no batched read that carries a role's tags, boundary and
//! policies together, so each role is read with `GetRole`, `ListAttachedRolePolicies` and
//! `ListRolePolicies` (+ `GetRolePolicy` per inline policy), concurrently, 16 roles at a time.
//! `managed_policy_arns` and `inline_policy`, when configured, are managed exclusively (as in
//! terraform-provider-aws); left out, they stay null / empty and what other resources
//! (`aws_iam_role_policy_attachment`, `aws_iam_role_policy`) attach is theirs, never drift of
//! the role. An import reads both (so a generated configuration manages them).

use super::*;
use crate::config::Clients;
use crate::AwsProvider;
use infra_provider::resource::with_id;
use std::collections::BTreeSet;

pub struct Role;

/// What one role is, as read.
#[derive(Clone)]
struct Read {
    role: aws_sdk_iam::types::Role,
    managed: Vec<String>,
    inline: Vec<(String, String)>,
}

async fn read_role(c: &Clients, name: String) -> Result<Option<Read>, Diagnostic> {
    let role = match c.iam.get_role().role_name(&name).send().await {
        Ok(r) => match r.role {
            Some(role) => role,
            None => return Ok(None),
        },
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(api_error("GetRole", &e)),
    };
    let mut managed = Vec::new();
    let mut pages = c.iam.list_attached_role_policies().role_name(&name).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => managed.extend(p.attached_policies().iter().filter_map(|a| a.policy_arn().map(str::to_string))),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListAttachedRolePolicies", &e)),
        }
    }
    let mut inline = Vec::new();
    let mut names = Vec::new();
    let mut pages = c.iam.list_role_policies().role_name(&name).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => names.extend(p.policy_names().iter().cloned()),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListRolePolicies", &e)),
        }
    }
    for policy in names {
        match c.iam.get_role_policy().role_name(&name).policy_name(&policy).send().await {
            Ok(p) => inline.push((policy, url_decode(p.policy_document()))),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(api_error("GetRolePolicy", &e)),
        }
    }
    Ok(Some(Read { role, managed, inline }))
}

fn role_value(c: &Clients, r: &Read, known: Option<&Value>) -> Value {
    let role = &r.role;
    let all = tag_map(role.tags());
    let [tags, tags_all] = tag_attrs(&all, known, &c.default_tags);
    // Inline policies keep the recorded text of each one that means the same.
    let recorded: Vec<Value> = known.and_then(|k| k.get_attr("inline_policy")).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
    let inline = r
        .inline
        .iter()
        .map(|(name, doc)| {
            let prior = recorded.iter().find(|p| attrs::string(p, "name").as_deref() == Some(name));
            Value::object([("name", Value::string(name)), ("policy", policy_value(doc, prior, "policy"))])
        })
        .collect();
    let create_date = role.create_date().fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default();
    Value::object([
        ("id", Value::string(role.role_name())),
        ("arn", Value::string(role.arn())),
        ("name", Value::string(role.role_name())),
        ("name_prefix", known.and_then(|k| k.get_attr("name_prefix")).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null)),
        ("unique_id", Value::string(role.role_id())),
        ("create_date", Value::string(create_date)),
        ("path", Value::string(role.path())),
        ("assume_role_policy", policy_value(role.assume_role_policy_document().unwrap_or("{}"), known, "assume_role_policy")),
        ("description", none_if_empty(role.description())),
        ("max_session_duration", Value::int(i64::from(role.max_session_duration().unwrap_or(3600)))),
        ("permissions_boundary", opt_string(role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()))),
        ("force_detach_policies", known.and_then(|k| k.get_attr("force_detach_policies")).cloned().unwrap_or(Value::Bool(false))),
        // Left out of the configuration (null, or no block): not this resource's to manage, so
        // what other resources attach is not read into it (no drift, no diff).
        (
            "managed_policy_arns",
            if known.and_then(|k| k.get_attr("managed_policy_arns")).is_some_and(Value::is_null) { Value::Null } else { string_set(r.managed.iter().cloned()) },
        ),
        (
            "inline_policy",
            if known.is_some_and(|k| k.get_attr("inline_policy").and_then(Value::as_seq).is_some_and(<[Value]>::is_empty)) {
                Value::set(Vec::new())
            } else {
                Value::set(inline)
            },
        ),
        tags,
        tags_all,
    ])
}

/// An empty description reads as none, as terraform-provider-aws records it.
fn none_if_empty(s: Option<&str>) -> Value {
    opt_string(s.filter(|d| !d.is_empty()))
}

fn inline_policies(p: &Value) -> Vec<(String, String)> {
    p.get_attr("inline_policy")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|b| Some((attrs::string(b, "name")?, attrs::string(b, "policy")?)))
        .filter(|(n, _)| !n.is_empty())
        .collect()
}

/// Attaches and puts what `planned` configures and `current` lacks; detaches and deletes what
/// it has beyond, when the argument is configured (exclusive management).
async fn sync_policies(c: &Clients, name: &str, current: Option<&Read>, planned: &Value) -> Result<(), Diagnostic> {
    if let Some(want) = planned.get_attr("managed_policy_arns").filter(|v| !v.is_unknown() && !v.is_null()) {
        let want: BTreeSet<String> = want.as_seq().unwrap_or(&[]).iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        let have: BTreeSet<String> = current.map(|r| r.managed.iter().cloned().collect()).unwrap_or_default();
        for arn in want.difference(&have) {
            c.iam.attach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| api_error("AttachRolePolicy", &e))?;
        }
        for arn in have.difference(&want) {
            match c.iam.detach_role_policy().role_name(name).policy_arn(arn).send().await {
                Ok(_) => {}
                Err(e) if gone(&e) => {}
                Err(e) => return Err(api_error("DetachRolePolicy", &e)),
            }
        }
    }
    let want = inline_policies(planned);
    if !want.is_empty() || planned.get_attr("inline_policy").and_then(Value::as_seq).is_some_and(|s| !s.is_empty()) {
        let have: Vec<(String, String)> = current.map(|r| r.inline.clone()).unwrap_or_default();
        for (n, doc) in &want {
            if !have.iter().any(|(h, d)| h == n && same_policy(d, doc)) {
                c.iam.put_role_policy().role_name(name).policy_name(n).policy_document(doc).send().await.map_err(|e| api_error("PutRolePolicy", &e))?;
            }
        }
        for (n, _) in have.iter().filter(|(h, _)| !want.iter().any(|(w, _)| w == h)) {
            match c.iam.delete_role_policy().role_name(name).policy_name(n).send().await {
                Ok(_) => {}
                Err(e) if gone(&e) => {}
                Err(e) => return Err(api_error("DeleteRolePolicy", &e)),
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Role {
    fn name(&self) -> &'static str {
        "aws_iam_role"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let inline = Schema::new().attr("name", AttrSchema::optional(Type::String)).attr("policy", AttrSchema::optional(Type::String));
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("unique_id", s(Type::String))
            .attr("create_date", s(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("path", AttrSchema::optional(Type::String).force_new().default(Value::string("/")))
            .attr("assume_role_policy", AttrSchema::required(Type::String))
            .attr("description", AttrSchema::optional(Type::String))
            .attr("force_detach_policies", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("managed_policy_arns", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
            .attr("max_session_duration", AttrSchema::optional(Type::Number).default(Value::int(3600)))
            .attr("permissions_boundary", AttrSchema::optional(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("inline_policy", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: inline })
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_policy(config, "assume_role_policy");
        out.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        if let Some(n) = config.get_attr("max_session_duration").and_then(Value::as_i64).filter(|n| !(3600..=43200).contains(n)) {
            out.push(
                Diagnostic::error("Invalid value", format!("max_session_duration is {n}; expected 3600 to 43200 seconds."))
                    .with_path(attrs::at("max_session_duration")),
            );
        }
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_name(&mut resp.planned, prior);
        plan_policy(&mut resp.planned, prior, "assume_role_policy");
        if let Value::Object(m) = &mut resp.planned {
            // Managed policies left out are not this resource's (see `role_value`).
            if config.get_attr("managed_policy_arns").is_none_or(Value::is_null) {
                m.insert("managed_policy_arns".into(), prior.and_then(|p| p.get_attr("managed_policy_arns")).cloned().unwrap_or(Value::Null));
            }
            // Inline policies left out: kept as recorded.
            let configured = config.get_attr("inline_policy").and_then(Value::as_seq).is_some_and(|s| !s.is_empty());
            match prior.and_then(|p| p.get_attr("inline_policy")) {
                Some(old) if !configured => {
                    m.insert("inline_policy".into(), old.clone());
                }
                Some(old) if configured => {
                    // Each configured document that means the recorded one keeps its text.
                    let recorded = old.as_seq().unwrap_or(&[]).to_vec();
                    let kept = m
                        .get("inline_policy")
                        .and_then(Value::as_seq)
                        .unwrap_or(&[])
                        .iter()
                        .map(|b| {
                            let mut b = b.clone();
                            let prior = recorded.iter().find(|p| attrs::string(p, "name") == attrs::string(&b, "name"));
                            plan_policy(&mut b, prior, "policy");
                            b
                        })
                        .collect();
                    m.insert("inline_policy".into(), Value::set(kept));
                }
                _ => {}
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let name = generated_name(p, token);
        c.clients()?
            .once
            .iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(attrs::req_string(p, "assume_role_policy")?)
            .set_path(attrs::string(p, "path"))
            .set_description(attrs::string(p, "description"))
            .set_max_session_duration(p.get_attr("max_session_duration").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()))
            .set_permissions_boundary(attrs::string(p, "permissions_boundary"))
            .set_tags(Some(iam_tags(&attrs::string_map(p, "tags_all"), Some(token))?))
            .send()
            .await
            .map_err(|e| create_error("CreateRole", &e))?;
        Ok(with_id(p, &name))
    }

    /// The policies the configuration manages exclusively.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let name = attrs::req_string(created, "id")?;
        Ok(sync_policies(c.clients()?, &name, None, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).filter(|i| !i.is_empty()).collect();
        let found = per_object(c, &ids, |c, id| async move { read_role(&c, id).await }).await?;
        Ok(objects.iter().map(|o| found.get(&id_of(o)).cloned().flatten().map(|r| role_value(c, &r, Some(o)))).collect())
    }

    // One paged ListRoles; AWS's own service-linked roles (path /aws-service-role/) left out.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.iam.list_roles().into_paginator().send();
        while let Some(page) = pages.next().await {
            for r in page.map_err(|e| api_error("ListRoles", &e))?.roles() {
                if !r.path().starts_with("/aws-service-role/") && !r.path().starts_with("/aws-reserved/") {
                    out.push(crate::discover::discovered(r.role_name(), Some(r.role_name()), &tag_map(r.tags())));
                }
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("assume_role_policy") {
            c.iam
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(attrs::req_string(p, "assume_role_policy")?)
                .send()
                .await
                .map_err(|e| api_error("UpdateAssumeRolePolicy", &e))?;
        }
        if changed("description") || changed("max_session_duration") {
            c.iam
                .update_role()
                .role_name(&name)
                .description(attrs::string(p, "description").unwrap_or_default())
                .set_max_session_duration(p.get_attr("max_session_duration").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()))
                .send()
                .await
                .map_err(|e| api_error("UpdateRole", &e))?;
        }
        if changed("permissions_boundary") {
            match attrs::string(p, "permissions_boundary") {
                Some(arn) => c
                    .iam
                    .put_role_permissions_boundary()
                    .role_name(&name)
                    .permissions_boundary(arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| api_error("PutRolePermissionsBoundary", &e))?,
                None => c
                    .iam
                    .delete_role_permissions_boundary()
                    .role_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| api_error("DeleteRolePermissionsBoundary", &e))?,
            }
        }
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() {
            c.iam.untag_role().role_name(&name).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagRole", &e))?;
        }
        if !set.is_empty() {
            c.iam.tag_role().role_name(&name).set_tags(Some(iam_tags(&set, None)?)).send().await.map_err(|e| api_error("TagRole", &e))?;
        }
        if changed("managed_policy_arns") || changed("inline_policy") {
            let current = read_role(c, name.clone()).await?;
            sync_policies(c, &name, current.as_ref(), p).await?;
        }
        Ok(())
    }

    /// A role with policies cannot go: with `force_detach_policies` (or policies this resource
    /// manages) they are detached and deleted first, else IAM's refusal says which remain.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        if attrs::bool(prior, "force_detach_policies") == Some(true) {
            if let Some(current) = read_role(c, name.clone()).await? {
                let none = Value::object([("managed_policy_arns", Value::set(Vec::new())), ("inline_policy", Value::set(Vec::new()))]);
                sync_policies(c, &name, Some(&current), &none).await?;
                for (n, _) in &current.inline {
                    match c.iam.delete_role_policy().role_name(&name).policy_name(n).send().await {
                        Ok(_) => {}
                        Err(e) if gone(&e) => {}
                        Err(e) => return Err(api_error("DeleteRolePolicy", &e).into()),
                    }
                }
            }
        }
        match c.iam.delete_role().role_name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteRole", &e).into()),
        }
    }

    /// The role of the name the create chose, if it carries this create's intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let name = generated_name(planned, token);
        match c.clients()?.iam.get_role().role_name(&name).send().await {
            Ok(r) => Ok(r.role.filter(|r| r.tags().iter().any(|t| t.key() == INTENT_TAG && t.value() == token)).map(|_| with_id(planned, &name))),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(api_error("GetRole", &e).into()),
        }
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let name = attrs::req_string(state, "id")?;
        c.clients()?.iam.untag_role().role_name(name).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagRole", &e))?;
        Ok(())
    }
}
