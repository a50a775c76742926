//! `aws_efs_file_system`: refresh by listing (`DescribeFileSystems`, 100 a page, tags
//! included), or by id for a single object; the create waits until the file system is
//! `available`, the delete until its mount targets are gone and then it is. The lifecycle
//! policies have no batch read: one `DescribeLifecycleConfiguration` per file system that
//! configures them, concurrently, and only on a full refresh.

use super::{efs_tags, gone};
use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_efs::operation::create_file_system::CreateFileSystemError;
use aws_sdk_efs::types::{
    LifecyclePolicy, PerformanceMode, ReplicationOverwriteProtection, ThroughputMode, TransitionToArchiveRules, TransitionToIaRules,
    TransitionToPrimaryStorageClassRules,
};
use infra_provider::resource::with_id;
use infra_provider::*;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct FileSystem;

/// File systems among `ids` (all of them when `ids` is empty), with their tags.
async fn describe_file_systems(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, aws_sdk_efs::types::FileSystemDescription>, Diagnostic> {
    let mut out = BTreeMap::new();
    if let [one] = ids {
        // One object: ask for it by id rather than listing the account.
        return match c.efs.describe_file_systems().file_system_id(one).send().await {
            Ok(r) => Ok(r.file_systems().iter().map(|f| (f.file_system_id().to_string(), f.clone())).collect()),
            Err(e) if gone(code_of(&e)) => Ok(out),
            Err(e) => Err(api_error("DescribeFileSystems", &e)),
        };
    }
    let mut pages = c.efs.describe_file_systems().max_items(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_error("DescribeFileSystems", &e))?;
        for f in page.file_systems() {
            if ids.is_empty() || ids.iter().any(|i| i == f.file_system_id()) {
                out.insert(f.file_system_id().to_string(), f.clone());
            }
        }
    }
    Ok(out)
}

/// The lifecycle policies of a file system, as `lifecycle_policy` blocks (one transition each).
async fn lifecycle_of(c: &Clients, id: &str) -> Result<Value, Diagnostic> {
    let out = c.efs.describe_lifecycle_configuration().file_system_id(id).send().await.map_err(|e| api_error("DescribeLifecycleConfiguration", &e))?;
    Ok(Value::List(
        out.lifecycle_policies()
            .iter()
            .map(|l| {
                Value::object([
                    ("transition_to_archive", opt_string(l.transition_to_archive().map(|t| t.as_str()))),
                    ("transition_to_ia", opt_string(l.transition_to_ia().map(|t| t.as_str()))),
                    ("transition_to_primary_storage_class", opt_string(l.transition_to_primary_storage_class().map(|t| t.as_str()))),
                ])
            })
            .collect(),
    ))
}

fn lifecycle_policies(p: &Value) -> Vec<LifecyclePolicy> {
    p.get_attr("lifecycle_policy")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            LifecyclePolicy::builder()
                .set_transition_to_archive(attrs::string(l, "transition_to_archive").map(|t| TransitionToArchiveRules::from(t.as_str())))
                .set_transition_to_ia(attrs::string(l, "transition_to_ia").map(|t| TransitionToIaRules::from(t.as_str())))
                .set_transition_to_primary_storage_class(
                    attrs::string(l, "transition_to_primary_storage_class").map(|t| TransitionToPrimaryStorageClassRules::from(t.as_str())),
                )
                .build()
        })
        .collect()
}

/// `PutLifecycleConfiguration` when the policies differ from `prior`'s (`None`: just created,
/// with no policy).
async fn set_lifecycle(c: &Clients, id: &str, prior: Option<&Value>, p: &Value) -> Result<(), Diagnostic> {
    let empty = Value::List(Vec::new());
    let old = prior.and_then(|o| o.get_attr("lifecycle_policy")).unwrap_or(&empty);
    let new = p.get_attr("lifecycle_policy").unwrap_or(&empty);
    if old.equals(new) || new.is_unknown() {
        return Ok(());
    }
    c.efs
        .put_lifecycle_configuration()
        .file_system_id(id)
        .set_lifecycle_policies(Some(lifecycle_policies(p)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("PutLifecycleConfiguration", &e))
}

/// `UpdateFileSystemProtection` when `protection.replication_overwrite` is set and differs.
async fn set_protection(c: &Clients, id: &str, prior: Option<&Value>, p: &Value) -> Result<(), Diagnostic> {
    let overwrite = |v: &Value| single_block(v, "protection").and_then(|b| attrs::string(&b, "replication_overwrite"));
    let Some(new) = overwrite(p) else { return Ok(()) };
    if prior.and_then(overwrite).as_ref() == Some(&new) {
        return Ok(());
    }
    c.efs
        .update_file_system_protection()
        .file_system_id(id)
        .replication_overwrite_protection(ReplicationOverwriteProtection::from(new.as_str()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("UpdateFileSystemProtection", &e))
}

fn fs_value(c: &Clients, f: &aws_sdk_efs::types::FileSystemDescription, lifecycle: Option<&Value>, prior: Option<&Value>) -> Value {
    let id = f.file_system_id();
    let all = user_tags(f.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    // Provisioned throughput only means something in provisioned mode; AWS may keep the old
    // number after a switch away from it.
    let provisioned = f.throughput_mode().is_some_and(|m| m.as_str() == "provisioned");
    let kept = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned();
    // `protection` only when configured (AWS reports it for every file system); a setting AWS
    // does not report (moto) keeps the configured one.
    let protection = match prior.and_then(|p| single_block(p, "protection")) {
        Some(b) => {
            let read = opt_string(f.file_system_protection().and_then(|x| x.replication_overwrite_protection()).map(|r| r.as_str()));
            let configured = b.get_attr("replication_overwrite").filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
            Value::List(vec![Value::object([("replication_overwrite", or_if_null(read, configured))])])
        }
        None => Value::List(Vec::new()),
    };
    let size = f.size_in_bytes().map(|s| {
        Value::object([("value", Value::int(s.value())), ("value_in_ia", opt_int(s.value_in_ia())), ("value_in_standard", opt_int(s.value_in_standard()))])
    });
    Value::object([
        ("id", Value::string(id)),
        (
            "arn",
            Value::string(
                f.file_system_arn().map(str::to_string).unwrap_or_else(|| format!("arn:aws:elasticfilesystem:{}:{}:file-system/{id}", c.region, f.owner_id())),
            ),
        ),
        ("dns_name", Value::string(format!("{id}.efs.{}.amazonaws.com", c.region))),
        ("owner_id", Value::string(f.owner_id())),
        ("name", opt_string(all.get("Name").map(String::as_str))),
        ("creation_token", Value::string(f.creation_token())),
        ("encrypted", Value::Bool(f.encrypted().unwrap_or(false))),
        ("kms_key_id", opt_string(f.kms_key_id())),
        ("performance_mode", Value::string(f.performance_mode().as_str())),
        ("availability_zone_name", opt_string(f.availability_zone_name())),
        ("availability_zone_id", opt_string(f.availability_zone_id())),
        ("number_of_mount_targets", Value::int(f.number_of_mount_targets().into())),
        ("size_in_bytes", Value::List(size.into_iter().collect())),
        ("lifecycle_policy", lifecycle.cloned().or_else(|| kept("lifecycle_policy")).unwrap_or(Value::List(Vec::new()))),
        ("protection", protection),
        ("throughput_mode", opt_string(f.throughput_mode().map(|m| m.as_str()))),
        (
            "provisioned_throughput_in_mibps",
            f.provisioned_throughput_in_mibps().filter(|_| provisioned).and_then(Value::number_from_f64).unwrap_or(Value::Null),
        ),
        tags,
        tags_all,
    ])
}

fn throughput(p: &Value) -> Option<f64> {
    p.get_attr("provisioned_throughput_in_mibps").and_then(Value::as_number).and_then(|n| n.to_string().parse().ok())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for FileSystem {
    fn name(&self) -> &'static str {
        "aws_efs_file_system"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let lifecycle = ["transition_to_archive", "transition_to_ia", "transition_to_primary_storage_class"]
            .iter()
            .fold(Schema::new(), |schema, k| schema.attr(k, AttrSchema::optional(Type::String)));
        let protection = Schema::new().attr("replication_overwrite", AttrSchema::optional_computed(Type::String));
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("dns_name", s(Type::String))
            .attr("owner_id", s(Type::String))
            .attr("name", s(Type::String))
            .attr("creation_token", AttrSchema::optional_computed(Type::String).force_new())
            .attr("encrypted", AttrSchema::optional_computed(Type::Bool).force_new().default(Value::Bool(false)))
            .attr("kms_key_id", AttrSchema::optional_computed(Type::String).force_new())
            .attr("performance_mode", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("generalPurpose")))
            .attr("availability_zone_name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("throughput_mode", AttrSchema::optional(Type::String).default(Value::string("bursting")))
            .attr("provisioned_throughput_in_mibps", AttrSchema::optional(Type::Number))
            .attr("availability_zone_id", s(Type::String))
            .attr("number_of_mount_targets", s(Type::Number))
            .attr(
                "size_in_bytes",
                s(Type::List(Box::new(Type::Object(
                    ["value", "value_in_ia", "value_in_standard"]
                        .map(|k| (k.to_string(), infra_lang::types::ObjectAttr { ty: Type::Number, optional: false, default: None }))
                        .into(),
                )))),
            )
            .block("lifecycle_policy", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 3, force_new: false, schema: lifecycle })
            .block("protection", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema: protection })
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mode = attrs::string(config, "throughput_mode");
        let provisioned = config.get_attr("provisioned_throughput_in_mibps").is_some_and(|v| !v.is_null());
        if provisioned && mode.as_deref().is_some_and(|m| m != "provisioned") {
            out.push(
                Diagnostic::error("Conflicting throughput settings", "provisioned_throughput_in_mibps needs throughput_mode = \"provisioned\".")
                    .with_path(attrs::at("provisioned_throughput_in_mibps")),
            );
        }
        if mode.as_deref() == Some("provisioned") && !provisioned {
            out.push(
                Diagnostic::error("Missing throughput", "throughput_mode = \"provisioned\" needs provisioned_throughput_in_mibps.")
                    .with_path(attrs::at("throughput_mode")),
            );
        }
        for (k, allowed) in [("performance_mode", &["generalPurpose", "maxIO"][..]), ("throughput_mode", &["bursting", "provisioned", "elastic"][..])] {
            if let Some(v) = attrs::string(config, k).filter(|v| !allowed.contains(&v.as_str())) {
                out.push(Diagnostic::error("Invalid value", format!("{k} is {v:?}; expected one of {}.", allowed.join(", "))).with_path(attrs::at(k)));
            }
        }
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            // `name` mirrors the Name tag.
            let name = match m.get("tags").map(|t| t.get_attr("Name").cloned()) {
                Some(Some(n)) => n,
                _ if m.get("tags").is_some_and(Value::is_unknown) => Value::Unknown,
                _ => Value::Null,
            };
            m.insert("name".into(), name);
            // Unencrypted file systems have no key.
            if m.get("encrypted").and_then(Value::as_bool) == Some(false) && m.get("kms_key_id").is_some_and(Value::is_unknown) {
                m.insert("kms_key_id".into(), Value::Null);
            }
            // AWS sets the overwrite protection unless configured: the recorded one, or known
            // after apply.
            let recorded = prior.and_then(|p| single_block(p, "protection")).and_then(|b| b.get_attr("replication_overwrite").cloned());
            if let Some(Value::List(items)) = m.get_mut("protection") {
                for item in items.iter_mut() {
                    if let Value::Object(b) = item {
                        attrs::set_default(b, "replication_overwrite", recorded.clone().unwrap_or(Value::Unknown));
                    }
                }
            }
            // The size and the mount target count move on their own: an update reads them anew.
            let changes = prior.is_some_and(|p| !Value::Object(m.clone()).equals(p));
            if changes {
                for k in ["size_in_bytes", "number_of_mount_targets"] {
                    m.insert(k.into(), Value::Unknown);
                }
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let tags = efs_tags(&attrs::string_map(p, "tags_all"), Some(token))?;
        let creation_token = attrs::string(p, "creation_token").unwrap_or_else(|| token.to_string());
        let out = c
            .clients()?
            .once
            .efs
            .create_file_system()
            .creation_token(&creation_token)
            .performance_mode(PerformanceMode::from(attrs::string(p, "performance_mode").unwrap_or_else(|| "generalPurpose".into()).as_str()))
            .set_encrypted(attrs::bool(p, "encrypted"))
            .set_kms_key_id(attrs::string(p, "kms_key_id"))
            .set_throughput_mode(attrs::string(p, "throughput_mode").map(|m| ThroughputMode::from(m.as_str())))
            .set_provisioned_throughput_in_mibps(throughput(p))
            .set_availability_zone_name(attrs::string(p, "availability_zone_name"))
            .set_tags(Some(tags))
            .send()
            .await;
        match out {
            Ok(out) => Ok(with_id(p, out.file_system_id())),
            // The creation token is EFS's idempotency key: a create re-sent after a lost answer,
            // or after an interrupted run, is told the id of the file system it made. A token
            // the configuration chose may be another's: then only its intent tag (`adopt`) says.
            Err(e) => match e.as_service_error() {
                Some(CreateFileSystemError::FileSystemAlreadyExists(x)) if creation_token == token => Ok(with_id(p, x.file_system_id())),
                Some(CreateFileSystemError::FileSystemAlreadyExists(_)) => Err(Errors::maybe_acted(api_error("CreateFileSystem", &e))),
                _ => Err(create_error("CreateFileSystem", &e)),
            },
        }
    }

    /// Waits for the state users rely on: `available`, then sets the lifecycle policies and
    /// the replication overwrite protection (CreateFileSystem takes neither).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(created, "id")?);
        let ids = [id.clone()];
        wait_for(&format!("file system {id} becoming available"), Duration::from_secs(600), Duration::from_secs(2), || async {
            match describe_file_systems(c, &ids).await?.get(&id).map(|f| f.life_cycle_state().as_str().to_string()).as_deref() {
                Some("available") => Ok(Some(())),
                Some("error") => Err(Diagnostic::error("Creation failed", format!("{id} reached state error."))),
                _ => Ok(None),
            }
        })
        .await?;
        set_lifecycle(c, &id, None, planned).await?;
        Ok(set_protection(c, &id, None, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_file_systems(c, &ids).await?;
        // Lifecycle policies: read on a full refresh (every file system: drift shows added
        // ones), kept as recorded on a routine one.
        let present: Vec<String> = found.keys().cloned().collect();
        let (mut lifecycle, missing) = split_recorded(&present, full, |id| {
            objects.iter().find(|o| id_of(o) == id)?.get_attr("lifecycle_policy").filter(|v| v.as_seq().is_some()).cloned()
        });
        lifecycle.extend(per_object(c, &missing, |c, id| async move { lifecycle_of(&c, &id).await }).await?);
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|f| fs_value(c, f, lifecycle.get(id), Some(p)))).collect())
    }

    // One paged DescribeFileSystems; with a VPC scope, kept to the file systems with a mount
    // target in those VPCs (EFS has no VPC of its own).
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let found = describe_file_systems(c, &[]).await?;
        let mut out = Vec::new();
        for f in found.values() {
            if crate::discover::vpcs(filter).is_some() {
                let targets =
                    c.efs.describe_mount_targets().file_system_id(f.file_system_id()).send().await.map_err(|e| api_error("DescribeMountTargets", &e))?;
                if !targets.mount_targets().iter().any(|m| crate::discover::in_vpcs(filter, m.vpc_id())) {
                    continue;
                }
            }
            let tags = user_tags(f.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
            out.push(crate::discover::discovered(f.file_system_id(), f.name(), &tags));
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() {
            c.efs.untag_resource().resource_id(&id).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
        }
        if !set.is_empty() {
            c.efs.tag_resource().resource_id(&id).set_tags(Some(efs_tags(&set, None)?)).send().await.map_err(|e| api_error("TagResource", &e))?;
        }
        if changed("throughput_mode") || changed("provisioned_throughput_in_mibps") {
            c.efs
                .update_file_system()
                .file_system_id(&id)
                .set_throughput_mode(attrs::string(p, "throughput_mode").map(|m| ThroughputMode::from(m.as_str())))
                .set_provisioned_throughput_in_mibps(throughput(p))
                .send()
                .await
                .map_err(|e| api_error("UpdateFileSystem", &e))?;
        }
        set_lifecycle(c, &id, Some(prior), p).await?;
        Ok(set_protection(c, &id, Some(prior), p).await?)
    }

    /// A file system cannot go while mount targets remain: retried until they are gone.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        wait_for(&format!("file system {id} being deletable (its mount targets gone)"), Duration::from_secs(600), Duration::from_secs(3), || async {
            match c.efs.delete_file_system().file_system_id(&id).send().await {
                Ok(_) => Ok(Some(())),
                Err(e) if gone(code_of(&e)) => Ok(Some(())),
                Err(e) if code_of(&e).as_deref() == Some("FileSystemInUse") => Ok(None),
                Err(e) => Err(api_error("DeleteFileSystem", &e)),
            }
        })
        .await?;
        wait_for(&format!("file system {id} going away"), Duration::from_secs(600), Duration::from_secs(2), || async {
            Ok(describe_file_systems(c, std::slice::from_ref(&id)).await?.is_empty().then_some(()))
        })
        .await?;
        Ok(())
    }

    /// The file system of the creation token, if it carries this create's intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let creation_token = attrs::string(planned, "creation_token").unwrap_or_else(|| token.to_string());
        let found = match c.clients()?.efs.describe_file_systems().creation_token(&creation_token).send().await {
            Ok(r) => r.file_systems().to_vec(),
            Err(e) if gone(code_of(&e)) => Vec::new(),
            Err(e) => return Err(api_error("DescribeFileSystems", &e).into()),
        };
        let ours = found.into_iter().find(|f| f.tags().iter().any(|t| t.key() == INTENT_TAG && t.value() == token));
        Ok(ours.map(|f| with_id(planned, f.file_system_id())))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let id = attrs::req_string(state, "id")?;
        c.clients()?.efs.untag_resource().resource_id(id).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagResource", &e))?;
        Ok(())
    }
}
