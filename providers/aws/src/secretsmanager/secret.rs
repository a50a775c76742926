//! `aws_secretsmanager_secret`: the secret without its value (see `secret_version`). Its id
//! is its ARN. Refresh: one `DescribeSecret` for a single secret; several are listed with
//! `ListSecrets` (100 a page), their resource policy and replicas (one call per secret) read on
//! a full refresh only. A delete waits out `recovery_window_in_days` in AWS (0: at once).

use super::*;
use crate::config::Clients;
use crate::iam::{generated_name, plan_name, plan_policy, policy_value, validate_policy};
use crate::AwsProvider;
use aws_sdk_secretsmanager::types::ReplicaRegionType;
use infra_provider::resource::with_id;
use infra_provider::*;

pub struct Secret;

/// What one secret is, as read.
#[derive(Clone, Default)]
struct Read {
    arn: String,
    name: String,
    description: Option<String>,
    kms_key_id: Option<String>,
    tags: BTreeMap<String, String>,
    /// `None` when not read (kept as recorded).
    replicas: Option<Vec<Value>>,
    policy: Option<Option<String>>,
}

async fn describe(c: &Clients, id: String) -> Result<Option<Read>, Diagnostic> {
    let d = match c.secrets.describe_secret().secret_id(&id).send().await {
        Ok(d) if d.deleted_date().is_none() => d,
        Ok(_) => return Ok(None),
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(api_error("DescribeSecret", &e)),
    };
    let policy = match c.secrets.get_resource_policy().secret_id(&id).send().await {
        Ok(p) => p.resource_policy().map(str::to_string),
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(api_error("GetResourcePolicy", &e)),
    };
    let replicas = d
        .replication_status()
        .iter()
        .map(|r| {
            Value::object([
                ("region", opt_string(r.region())),
                ("kms_key_id", opt_string(r.kms_key_id())),
                ("status", opt_string(r.status().map(|s| s.as_str()))),
                ("status_message", opt_string(r.status_message())),
                ("last_accessed_date", opt_string(r.last_accessed_date().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).as_deref())),
            ])
        })
        .collect();
    Ok(Some(Read {
        arn: d.arn().unwrap_or_default().to_string(),
        name: d.name().unwrap_or_default().to_string(),
        description: d.description().map(str::to_string).filter(|s| !s.is_empty()),
        kms_key_id: d.kms_key_id().map(str::to_string),
        tags: tag_map(d.tags()),
        replicas: Some(replicas),
        policy: Some(policy),
    }))
}

/// Every secret (not scheduled for deletion), by ARN.
async fn list(c: &Clients) -> Result<BTreeMap<String, Read>, Diagnostic> {
    let mut out = BTreeMap::new();
    let mut pages = c.secrets.list_secrets().max_results(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page.map_err(|e| api_error("ListSecrets", &e))?.secret_list() {
            let Some(arn) = s.arn() else { continue };
            if s.deleted_date().is_some() {
                continue;
            }
            out.insert(
                arn.to_string(),
                Read {
                    arn: arn.to_string(),
                    name: s.name().unwrap_or_default().to_string(),
                    description: s.description().map(str::to_string).filter(|d| !d.is_empty()),
                    kms_key_id: s.kms_key_id().map(str::to_string),
                    tags: tag_map(s.tags()),
                    replicas: None,
                    policy: None,
                },
            );
        }
    }
    Ok(out)
}

fn secret_value(c: &Clients, r: &Read, known: Option<&Value>) -> Value {
    let [tags, tags_all] = tag_attrs(&r.tags, known, &c.default_tags);
    let keep = |k: &str, default: Value| known.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(default);
    let policy = match &r.policy {
        Some(Some(p)) => policy_value(p, known, "policy"),
        Some(None) => Value::Null,
        None => keep("policy", Value::Null),
    };
    let replicas = match &r.replicas {
        Some(list) => Value::set(list.clone()),
        None => keep("replica", Value::set(Vec::new())),
    };
    Value::object([
        ("id", Value::string(&r.arn)),
        ("arn", Value::string(&r.arn)),
        ("name", Value::string(&r.name)),
        ("name_prefix", keep("name_prefix", Value::Null)),
        ("description", r.description.as_deref().map(Value::string).unwrap_or(Value::Null)),
        ("kms_key_id", r.kms_key_id.as_deref().map(Value::string).unwrap_or(Value::Null)),
        ("policy", policy),
        ("recovery_window_in_days", keep("recovery_window_in_days", Value::int(30))),
        ("force_overwrite_replica_secret", keep("force_overwrite_replica_secret", Value::Bool(false))),
        ("replica", replicas),
        tags,
        tags_all,
    ])
}

fn replica_regions(p: &Value) -> Vec<(String, Option<String>)> {
    p.get_attr("replica")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|r| Some((attrs::string(r, "region")?, attrs::string(r, "kms_key_id"))))
        .collect()
}

fn replica_types(list: &[(String, Option<String>)]) -> Vec<ReplicaRegionType> {
    list.iter().map(|(r, k)| ReplicaRegionType::builder().region(r).set_kms_key_id(k.clone()).build()).collect()
}

async fn put_policy(c: &Clients, arn: &str, p: &Value) -> Result<(), Diagnostic> {
    match attrs::string(p, "policy") {
        Some(doc) => {
            c.secrets.put_resource_policy().secret_id(arn).resource_policy(doc).send().await.map(|_| ()).map_err(|e| api_error("PutResourcePolicy", &e))
        }
        None => c.secrets.delete_resource_policy().secret_id(arn).send().await.map(|_| ()).map_err(|e| api_error("DeleteResourcePolicy", &e)),
    }
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Secret {
    fn name(&self) -> &'static str {
        "aws_secretsmanager_secret"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let replica = Schema::new()
            .attr("region", AttrSchema::required(Type::String))
            .attr("kms_key_id", AttrSchema::optional_computed(Type::String))
            .attr("status", s(Type::String))
            .attr("status_message", s(Type::String))
            .attr("last_accessed_date", s(Type::String));
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("description", AttrSchema::optional(Type::String))
            .attr("kms_key_id", AttrSchema::optional(Type::String))
            .attr("policy", AttrSchema::optional_computed(Type::String))
            .attr("recovery_window_in_days", AttrSchema::optional(Type::Number).default(Value::int(30)))
            .attr("force_overwrite_replica_secret", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("replica", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: replica })
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_policy(config, "policy");
        if let Some(n) = config.get_attr("recovery_window_in_days").and_then(Value::as_i64).filter(|n| *n != 0 && !(7..=30).contains(n)) {
            out.push(
                Diagnostic::error("Invalid value", format!("recovery_window_in_days is {n}; expected 0 (delete at once) or 7 to 30."))
                    .with_path(attrs::at("recovery_window_in_days")),
            );
        }
        out.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_name(&mut resp.planned, prior);
        plan_policy(&mut resp.planned, prior, "policy");
        if let Value::Object(m) = &mut resp.planned {
            // Replicas as read carry their status: kept when the configured regions are the same.
            let same = |old: &Value| {
                let want: Vec<(String, Option<String>)> = replica_regions(&Value::object([("replica", m.get("replica").cloned().unwrap_or(Value::Null))]));
                let have = replica_regions(&Value::object([("replica", old.clone())]));
                want.len() == have.len() && want.iter().all(|(r, k)| have.iter().any(|(hr, hk)| hr == r && (k.is_none() || k == hk)))
            };
            if let Some(old) = prior.and_then(|p| p.get_attr("replica")).filter(|o| same(o)) {
                m.insert("replica".into(), old.clone());
            }
            if prior.is_none() && m.get("policy").is_some_and(Value::is_unknown) {
                m.insert("policy".into(), Value::Null);
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let name = generated_name(p, token);
        let replicas = replica_regions(p);
        let out = c
            .once
            .secrets
            .create_secret()
            .name(&name)
            .set_description(attrs::string(p, "description"))
            .set_kms_key_id(attrs::string(p, "kms_key_id"))
            .set_add_replica_regions(Some(replica_types(&replicas)).filter(|r| !r.is_empty()))
            .set_force_overwrite_replica_secret(attrs::bool(p, "force_overwrite_replica_secret"))
            .set_tags(Some(sm_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateSecret", &e))?;
        Ok(with_id(p, out.arn().unwrap_or_default()))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        if attrs::string(planned, "policy").is_some() {
            put_policy(c.clients()?, &attrs::req_string(created, "id")?, planned).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).filter(|i| !i.is_empty()).collect();
        let found: BTreeMap<String, Option<Read>> = if full || ids.len() <= 1 {
            per_object(c, &ids, |c, id| async move { describe(&c, id).await }).await?
        } else {
            let all = list(c).await?;
            ids.iter().map(|i| (i.clone(), all.get(i).cloned())).collect()
        };
        Ok(objects.iter().map(|o| found.get(&id_of(o)).cloned().flatten().map(|r| secret_value(c, &r, Some(o)))).collect())
    }

    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = list(c.clients()?).await?;
        Ok(found.values().map(|r| crate::discover::discovered(&r.arn, Some(&r.name), &r.tags)).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, arn) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("description") || changed("kms_key_id") {
            c.secrets
                .update_secret()
                .secret_id(&arn)
                .description(attrs::string(p, "description").unwrap_or_default())
                .set_kms_key_id(attrs::string(p, "kms_key_id"))
                .send()
                .await
                .map_err(|e| api_error("UpdateSecret", &e))?;
        }
        if changed("policy") {
            put_policy(c, &arn, p).await?;
        }
        if changed("replica") {
            let (want, have) = (replica_regions(p), replica_regions(prior));
            let add: Vec<(String, Option<String>)> = want.iter().filter(|(r, _)| !have.iter().any(|(h, _)| h == r)).cloned().collect();
            let remove: Vec<String> = have.iter().filter(|(h, _)| !want.iter().any(|(r, _)| r == h)).map(|(h, _)| h.clone()).collect();
            if !remove.is_empty() {
                c.secrets
                    .remove_regions_from_replication()
                    .secret_id(&arn)
                    .set_remove_replica_regions(Some(remove))
                    .send()
                    .await
                    .map_err(|e| api_error("RemoveRegionsFromReplication", &e))?;
            }
            if !add.is_empty() {
                c.secrets
                    .replicate_secret_to_regions()
                    .secret_id(&arn)
                    .set_add_replica_regions(Some(replica_types(&add)))
                    .set_force_overwrite_replica_secret(attrs::bool(p, "force_overwrite_replica_secret"))
                    .send()
                    .await
                    .map_err(|e| api_error("ReplicateSecretToRegions", &e))?;
            }
        }
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() {
            c.secrets.untag_resource().secret_id(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
        }
        if !set.is_empty() {
            c.secrets.tag_resource().secret_id(&arn).set_tags(Some(sm_tags(&set, None))).send().await.map_err(|e| api_error("TagResource", &e))?;
        }
        Ok(())
    }

    /// Scheduled for deletion after `recovery_window_in_days` (0: deleted at once); replicas
    /// are removed first, as AWS requires.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, arn) = (c.clients()?, attrs::req_string(prior, "id")?);
        let replicas: Vec<String> = replica_regions(prior).into_iter().map(|(r, _)| r).collect();
        if !replicas.is_empty() {
            match c.secrets.remove_regions_from_replication().secret_id(&arn).set_remove_replica_regions(Some(replicas)).send().await {
                Ok(_) => {}
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(api_error("RemoveRegionsFromReplication", &e).into()),
            }
        }
        let days = prior.get_attr("recovery_window_in_days").and_then(Value::as_i64).unwrap_or(30);
        let req = c.secrets.delete_secret().secret_id(&arn);
        let req = if days == 0 { req.force_delete_without_recovery(true) } else { req.recovery_window_in_days(days) };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteSecret", &e).into()),
        }
    }

    /// The secret of the name the create chose, if it carries this create's intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let name = generated_name(planned, token);
        match c.clients()?.secrets.describe_secret().secret_id(&name).send().await {
            Ok(d) if d.tags().iter().any(|t| t.key() == Some(INTENT_TAG) && t.value() == Some(token)) => Ok(d.arn().map(|a| with_id(planned, a))),
            Ok(_) => Ok(None),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(api_error("DescribeSecret", &e).into()),
        }
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let arn = attrs::req_string(state, "id")?;
        c.clients()?.secrets.untag_resource().secret_id(arn).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagResource", &e))?;
        Ok(())
    }
}
