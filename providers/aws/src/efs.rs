//! Elastic File System: `aws_efs_file_system`, `aws_efs_mount_target` and
//! `aws_efs_backup_policy`, with terraform-provider-aws names and defaults.
//!
//! Refresh: file systems by listing (`DescribeFileSystems`, 100 a page, tags included), mount
//! targets per file system (`DescribeMountTargets`); a mount target's security groups and a
//! file system's backup policy have no batch API: one call per object, run concurrently.
//!
//! Creates are idempotent by `CreationToken` (the create's token unless `creation_token` is
//! set); the intent tag also marks the file system, so `adopt` never takes over one a user made
//! by hand with the same token. A mount target is unique per file system and zone, so an
//! interrupted create is found by its subnet.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_efs::types::{BackupPolicy, PerformanceMode, Status, Tag, ThroughputMode};
use infra_provider::*;
use std::collections::BTreeMap;
use std::time::Duration;

pub fn schemas() -> BTreeMap<String, Schema> {
    let s = AttrSchema::computed;
    let fs = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("dns_name", s(Type::String))
        .attr("owner_id", s(Type::String))
        .attr("name", s(Type::String))
        .attr("creation_token", AttrSchema::optional_computed(Type::String).force_new())
        .attr("encrypted", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("kms_key_id", AttrSchema::optional_computed(Type::String).force_new())
        .attr("performance_mode", AttrSchema::optional_computed(Type::String).force_new())
        .attr("availability_zone_name", AttrSchema::optional_computed(Type::String).force_new())
        .attr("throughput_mode", AttrSchema::optional_computed(Type::String))
        .attr("provisioned_throughput_in_mibps", AttrSchema::optional(Type::Number))
        .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))));
    let mount_target = Schema::new()
        .attr("id", s(Type::String))
        .attr("file_system_id", AttrSchema::required(Type::String).force_new())
        .attr("subnet_id", AttrSchema::required(Type::String).force_new())
        .attr("ip_address", AttrSchema::optional_computed(Type::String).force_new())
        .attr("security_groups", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
        .attr("dns_name", s(Type::String))
        .attr("mount_target_dns_name", s(Type::String))
        .attr("file_system_arn", s(Type::String))
        .attr("network_interface_id", s(Type::String))
        .attr("availability_zone_name", s(Type::String))
        .attr("availability_zone_id", s(Type::String))
        .attr("owner_id", s(Type::String));
    let policy = Schema::new().attr("status", AttrSchema::required(Type::String));
    let backup = Schema::new()
        .attr("id", s(Type::String))
        .attr("file_system_id", AttrSchema::required(Type::String).force_new())
        .block("backup_policy", BlockSchema { nesting: Nesting::Single, min_items: 1, max_items: 1, force_new: false, schema: policy });
    BTreeMap::from([("aws_efs_file_system".to_string(), fs), ("aws_efs_mount_target".to_string(), mount_target), ("aws_efs_backup_policy".to_string(), backup)])
}

pub fn validate(req: &ValidateRequest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |k: &str| vec![PathStep::Attr(k.into())];
    if req.type_name == "aws_efs_file_system" {
        let mode = attrs::string(&req.config, "throughput_mode");
        let provisioned = req.config.get_attr("provisioned_throughput_in_mibps").is_some_and(|v| !v.is_null());
        if provisioned && mode.as_deref().is_some_and(|m| m != "provisioned") {
            out.push(
                err("Conflicting throughput settings", "provisioned_throughput_in_mibps needs throughput_mode = \"provisioned\".".into())
                    .with_path(at("provisioned_throughput_in_mibps")),
            );
        }
        if mode.as_deref() == Some("provisioned") && !provisioned {
            out.push(
                err("Missing throughput", "throughput_mode = \"provisioned\" needs provisioned_throughput_in_mibps.".into()).with_path(at("throughput_mode")),
            );
        }
        for (k, allowed) in [("performance_mode", &["generalPurpose", "maxIO"][..]), ("throughput_mode", &["bursting", "provisioned", "elastic"][..])] {
            if let Some(v) = attrs::string(&req.config, k).filter(|v| !allowed.contains(&v.as_str())) {
                out.push(err("Invalid value", format!("{k} is {v:?}; expected one of {}.", allowed.join(", "))).with_path(at(k)));
            }
        }
    }
    if req.type_name == "aws_efs_backup_policy" {
        if let Some(status) = single_block(&req.config, "backup_policy").and_then(|b| attrs::string(&b, "status")) {
            if !["ENABLED", "DISABLED"].contains(&status.as_str()) {
                out.push(
                    err("Invalid value", format!("status is {status:?}; expected ENABLED or DISABLED."))
                        .with_path(vec![PathStep::Attr("backup_policy".into()), PathStep::Attr("status".into())]),
                );
            }
        }
    }
    out
}

pub fn plan(req: PlanRequest, default_tags: &BTreeMap<String, String>) -> PlanResponse {
    let schema = schemas().remove(&req.type_name).unwrap_or_default();
    let mut cfg = req.config.clone();
    if let (Value::Object(m), "aws_efs_file_system") = (&mut cfg, req.type_name.as_str()) {
        set_default(m, "encrypted", Value::Bool(false));
        set_default(m, "performance_mode", Value::string("generalPurpose"));
        set_default(m, "throughput_mode", Value::string("bursting"));
    }
    let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &cfg);
    if let (Value::Object(m), "aws_efs_file_system") = (&mut resp.planned, req.type_name.as_str()) {
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
    plan_tags_all(&mut resp.planned, default_tags);
    resp
}

fn efs_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Result<Vec<Tag>, Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))) {
        out.push(Tag::builder().key(k).value(v).build().map_err(|e| err("Invalid tag", e.to_string()))?);
    }
    Ok(out)
}

fn gone(code: Option<String>) -> bool {
    code.is_some_and(|c| c.ends_with("NotFound"))
}

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

async fn describe_mount_targets(
    c: &Clients,
    file_system: Option<&str>,
    id: Option<&str>,
) -> Result<Vec<aws_sdk_efs::types::MountTargetDescription>, Diagnostic> {
    let mut out = Vec::new();
    let mut pages =
        c.efs.describe_mount_targets().set_file_system_id(file_system.map(str::to_string)).set_mount_target_id(id.map(str::to_string)).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.mount_targets().iter().cloned()),
            Err(e) if gone(code_of(&e)) => break,
            Err(e) => return Err(api_error("DescribeMountTargets", &e)),
        }
    }
    Ok(out)
}

fn mount_target_value(c: &Clients, m: &aws_sdk_efs::types::MountTargetDescription, groups: &[String]) -> Value {
    let fs = m.file_system_id();
    let az = m.availability_zone_name();
    let owner = m.owner_id().unwrap_or_default();
    Value::object([
        ("id", Value::string(m.mount_target_id())),
        ("file_system_id", Value::string(fs)),
        ("subnet_id", Value::string(m.subnet_id())),
        ("ip_address", opt_string(m.ip_address())),
        ("security_groups", string_set(groups.iter().cloned())),
        ("dns_name", Value::string(format!("{fs}.efs.{}.amazonaws.com", c.region))),
        ("mount_target_dns_name", az.map(|az| Value::string(format!("{az}.{fs}.efs.{}.amazonaws.com", c.region))).unwrap_or(Value::Null)),
        ("file_system_arn", Value::string(format!("arn:aws:elasticfilesystem:{}:{owner}:file-system/{fs}", c.region))),
        ("network_interface_id", opt_string(m.network_interface_id())),
        ("availability_zone_name", opt_string(az)),
        ("availability_zone_id", opt_string(m.availability_zone_id())),
        ("owner_id", Value::string(owner)),
    ])
}

async fn mount_target_groups(c: &Clients, id: &str) -> Result<Vec<String>, Diagnostic> {
    match c.efs.describe_mount_target_security_groups().mount_target_id(id).send().await {
        Ok(r) => Ok(r.security_groups().to_vec()),
        Err(e) if gone(code_of(&e)) => Ok(Vec::new()),
        Err(e) => Err(api_error("DescribeMountTargetSecurityGroups", &e)),
    }
}

async fn backup_status(c: &Clients, fs: &str) -> Result<Option<String>, Diagnostic> {
    match c.efs.describe_backup_policy().file_system_id(fs).send().await {
        Ok(r) => Ok(r.backup_policy().map(|p| p.status().as_str().to_string())),
        // A file system that never had a policy reports PolicyNotFound: backups are disabled.
        Err(e) if code_of(&e).as_deref() == Some("PolicyNotFound") => Ok(Some("DISABLED".into())),
        Err(e) if gone(code_of(&e)) => Ok(None),
        Err(e) => Err(api_error("DescribeBackupPolicy", &e)),
    }
}

fn backup_value(fs: &str, status: &str) -> Value {
    Value::object([("id", Value::string(fs)), ("file_system_id", Value::string(fs)), ("backup_policy", Value::object([("status", Value::string(status))]))])
}

pub async fn read_many(c: &Clients, type_name: &str, objects: &[Value], full: bool) -> Result<Vec<Option<Value>>, Diagnostic> {
    let ids: Vec<String> = objects.iter().map(id_of).collect();
    match type_name {
        "aws_efs_file_system" => {
            let found = describe_file_systems(c, &ids).await?;
            Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|f| fs_value(c, f, Some(p)))).collect())
        }
        "aws_efs_mount_target" => {
            let mut found = BTreeMap::new();
            for fs in unique(objects, "file_system_id") {
                for m in describe_mount_targets(c, Some(&fs), None).await? {
                    found.insert(m.mount_target_id().to_string(), m);
                }
            }
            // Mount targets being deleted are gone for our purposes.
            found.retain(|_, m| !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted"));
            let present: Vec<String> = ids.iter().filter(|i| found.contains_key(*i)).cloned().collect();
            // Security groups have no batch read: a routine refresh keeps the recorded ones.
            let (mut groups, missing) = split_recorded(&present, full, |id| {
                let recorded = objects.iter().find(|o| id_of(o) == id)?.get_attr("security_groups")?;
                recorded.as_seq()?;
                Some(strings(Some(recorded)))
            });
            groups.extend(per_object(c, &missing, |c, id| async move { mount_target_groups(&c, &id).await }).await?);
            Ok(ids.iter().map(|id| found.get(id).map(|m| mount_target_value(c, m, groups.get(id).map(Vec::as_slice).unwrap_or(&[])))).collect())
        }
        "aws_efs_backup_policy" => {
            let filesystems = unique(objects, "file_system_id");
            let (mut status, missing) = split_recorded(&filesystems, full, |fs| {
                let o = objects.iter().find(|o| attrs::string(o, "file_system_id").as_deref() == Some(fs))?;
                Some(Some(single_block(o, "backup_policy").and_then(|b| attrs::string(&b, "status"))?))
            });
            status.extend(per_object(c, &missing, |c, fs| async move { backup_status(&c, &fs).await }).await?);
            Ok(objects
                .iter()
                .map(|o| {
                    let fs = attrs::string(o, "file_system_id").unwrap_or_default();
                    status.get(&fs).cloned().flatten().map(|s| backup_value(&fs, &s))
                })
                .collect())
        }
        other => Err(unknown_type(other)),
    }
}

pub async fn read_one(c: &Clients, type_name: &str, id: &str, prior: Option<&Value>) -> Result<Option<Value>, Diagnostic> {
    match type_name {
        "aws_efs_file_system" => Ok(describe_file_systems(c, &[id.to_string()]).await?.get(id).map(|f| fs_value(c, f, prior))),
        "aws_efs_mount_target" => match describe_mount_targets(c, None, Some(id)).await?.first() {
            Some(m) if !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted") => {
                Ok(Some(mount_target_value(c, m, &mount_target_groups(c, id).await?)))
            }
            _ => Ok(None),
        },
        // Imported by file system id.
        "aws_efs_backup_policy" => Ok(backup_status(c, id).await?.map(|s| backup_value(id, &s))),
        other => Err(unknown_type(other)),
    }
}

fn throughput(p: &Value) -> Option<f64> {
    p.get_attr("provisioned_throughput_in_mibps").and_then(Value::as_number).and_then(|n| n.to_string().parse().ok())
}

pub async fn create(c: &Clients, type_name: &str, p: &Value, token: &str) -> Result<String, Diagnostic> {
    match type_name {
        "aws_efs_file_system" => {
            let tags = efs_tags(&string_map(p.get_attr("tags_all")), Some(token))?;
            let creation_token = attrs::string(p, "creation_token").unwrap_or_else(|| token.to_string());
            let result = c
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
            match result {
                Ok(out) => Ok(out.file_system_id().to_string()),
                Err(e) => Err(api_error("CreateFileSystem", &e)),
            }
        }
        "aws_efs_mount_target" => c
            .efs
            .create_mount_target()
            .file_system_id(attrs::string(p, "file_system_id").unwrap_or_default())
            .subnet_id(attrs::string(p, "subnet_id").unwrap_or_default())
            .set_ip_address(attrs::string(p, "ip_address"))
            .set_security_groups(Some(strings(p.get_attr("security_groups"))).filter(|g| !g.is_empty()))
            .send()
            .await
            .map(|out| out.mount_target_id().to_string())
            .map_err(|e| api_error("CreateMountTarget", &e)),
        "aws_efs_backup_policy" => {
            let fs = attrs::string(p, "file_system_id").unwrap_or_default();
            put_backup_policy(c, &fs, &policy_status(p)).await?;
            Ok(fs)
        }
        other => Err(unknown_type(other)),
    }
}

fn policy_status(p: &Value) -> String {
    single_block(p, "backup_policy").and_then(|b| attrs::string(&b, "status")).unwrap_or_else(|| "ENABLED".into())
}

async fn put_backup_policy(c: &Clients, fs: &str, status: &str) -> Result<(), Diagnostic> {
    let policy = BackupPolicy::builder().status(Status::from(status)).build().map_err(|e| err("Invalid backup policy", e.to_string()))?;
    c.efs.put_backup_policy().file_system_id(fs).backup_policy(policy).send().await.map(|_| ()).map_err(|e| api_error("PutBackupPolicy", &e))
}

/// Waits for the state users rely on: a file system or mount target `available`.
pub async fn finish_create(c: &Clients, type_name: &str, id: &str, _p: &Value) -> Result<(), Diagnostic> {
    let state = |kind: &'static str| async move {
        let s = match kind {
            "fs" => describe_file_systems(c, &[id.to_string()]).await?.get(id).map(|f| f.life_cycle_state().as_str().to_string()),
            _ => describe_mount_targets(c, None, Some(id)).await?.first().map(|m| m.life_cycle_state().as_str().to_string()),
        };
        match s.as_deref() {
            Some("available") => Ok(Some(())),
            Some("error") => Err(err("Creation failed", format!("{id} reached state error."))),
            _ => Ok(None),
        }
    };
    match type_name {
        "aws_efs_file_system" => {
            wait_for(&format!("file system {id} becoming available"), Duration::from_secs(600), Duration::from_secs(2), || state("fs")).await
        }
        "aws_efs_mount_target" => {
            wait_for(&format!("mount target {id} becoming available"), Duration::from_secs(600), Duration::from_secs(2), || state("mt")).await
        }
        _ => Ok(()),
    }
}

pub async fn update(c: &Clients, type_name: &str, prior: &Value, p: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
    match type_name {
        "aws_efs_file_system" => {
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
        "aws_efs_mount_target" if changed("security_groups") => c
            .efs
            .modify_mount_target_security_groups()
            .mount_target_id(&id)
            .set_security_groups(Some(strings(p.get_attr("security_groups"))))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("ModifyMountTargetSecurityGroups", &e)),
        "aws_efs_backup_policy" => put_backup_policy(c, &attrs::string(p, "file_system_id").unwrap_or_default(), &policy_status(p)).await,
        _ => Ok(()),
    }
}

/// Deletes and waits until the object is gone: a file system cannot go while mount targets
/// remain, and a subnet or security group cannot go while a mount target's interface does.
pub async fn delete(c: &Clients, type_name: &str, prior: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    match type_name {
        "aws_efs_file_system" => {
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
            .await
        }
        "aws_efs_mount_target" => {
            match c.efs.delete_mount_target().mount_target_id(&id).send().await {
                Ok(_) => {}
                Err(e) if gone(code_of(&e)) => return Ok(()),
                Err(e) => return Err(api_error("DeleteMountTarget", &e)),
            }
            wait_for(&format!("mount target {id} going away"), Duration::from_secs(600), Duration::from_secs(2), || async {
                let left = describe_mount_targets(c, None, Some(&id)).await?;
                Ok(left.iter().all(|m| m.life_cycle_state().as_str() == "deleted").then_some(()))
            })
            .await
        }
        "aws_efs_backup_policy" => match put_backup_policy(c, &attrs::string(prior, "file_system_id").unwrap_or_default(), "DISABLED").await {
            // The file system went first: so did its policy.
            Err(d) if d.detail.contains("FileSystemNotFound") => Ok(()),
            other => other,
        },
        other => Err(unknown_type(other)),
    }
}

pub async fn adopt(c: &Clients, type_name: &str, token: &str, planned: &Value) -> Result<Option<String>, Diagnostic> {
    match type_name {
        "aws_efs_file_system" => {
            let creation_token = attrs::string(planned, "creation_token").unwrap_or_else(|| token.to_string());
            let found = match c.efs.describe_file_systems().creation_token(&creation_token).send().await {
                Ok(r) => r.file_systems().to_vec(),
                Err(e) if gone(code_of(&e)) => Vec::new(),
                Err(e) => return Err(api_error("DescribeFileSystems", &e)),
            };
            let ours = found.into_iter().find(|f| f.tags().iter().any(|t| t.key() == INTENT_TAG && t.value() == token));
            Ok(ours.map(|f| f.file_system_id().to_string()))
        }
        "aws_efs_mount_target" => {
            let (fs, subnet) = (attrs::string(planned, "file_system_id").unwrap_or_default(), attrs::string(planned, "subnet_id"));
            let found = describe_mount_targets(c, Some(&fs), None).await?;
            Ok(found.iter().find(|m| Some(m.subnet_id()) == subnet.as_deref()).map(|m| m.mount_target_id().to_string()))
        }
        // PutBackupPolicy is idempotent: the create simply runs again.
        _ => Ok(None),
    }
}

pub async fn drop_intent_tag(c: &Clients, type_name: &str, id: &str) -> Result<(), Diagnostic> {
    if type_name != "aws_efs_file_system" {
        return Ok(());
    }
    c.efs.untag_resource().resource_id(id).tag_keys(INTENT_TAG).send().await.map(|_| ()).map_err(|e| api_error("UntagResource", &e))
}
