//! `aws_efs_file_system`: refresh by listing (`DescribeFileSystems`, 100 a page, tags
//! included), or by id for a single object; the create waits until the file system is
//! `available`, the delete until its mount targets are gone and then it is.

use super::{efs_tags, gone};
use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_efs::operation::create_file_system::CreateFileSystemError;
use aws_sdk_efs::types::{PerformanceMode, ThroughputMode};
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

fn fs_value(c: &Clients, f: &aws_sdk_efs::types::FileSystemDescription, prior: Option<&Value>) -> Value {
    let id = f.file_system_id();
    let all = user_tags(f.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    // Provisioned throughput only means something in provisioned mode; AWS may keep the old
    // number after a switch away from it.
    let provisioned = f.throughput_mode().is_some_and(|m| m.as_str() == "provisioned");
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
            .attr("throughput_mode", AttrSchema::optional_computed(Type::String).default(Value::string("bursting")))
            .attr("provisioned_throughput_in_mibps", AttrSchema::optional(Type::Number))
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

    /// Waits for the state users rely on: `available`.
    async fn converge(&self, c: &AwsProvider, created: &Value, _planned: &Value) -> Outcome<()> {
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
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_file_systems(c, &ids).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|f| fs_value(c, f, Some(p)))).collect())
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
        Ok(())
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
