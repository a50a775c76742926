//! `aws_efs_mount_target`: refresh is one `DescribeMountTargets` per file system and page;
//! security groups have no batch API: one `DescribeMountTargetSecurityGroups` per mount target,
//! concurrently, and only on a full refresh. An interrupted create is found by its subnet (a
//! file system has one mount target per zone).

use super::gone;
use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use infra_provider::resource::with_id;
use infra_provider::*;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct MountTarget;

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

/// Mount targets being deleted are gone for our purposes.
fn live(m: &aws_sdk_efs::types::MountTargetDescription) -> bool {
    !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted")
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for MountTarget {
    /// The address AWS picked from the subnet is left out: a person rarely pins it, and
    /// omitted, the plan keeps the one AWS chose (so mount targets over subnets group too).
    fn to_hcl(&self, state: &Value) -> String {
        let mut s = state.clone();
        if let Value::Object(m) = &mut s {
            m.insert("ip_address".into(), Value::Null);
        }
        infra_provider::hcl::body(&self.schema(), &s)
    }

    fn name(&self) -> &'static str {
        "aws_efs_mount_target"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        Schema::new()
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
            .attr("owner_id", s(Type::String))
            .block("timeouts", timeouts_block(&["create", "delete"]))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_timeouts(config)
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let out = c
            .clients()?
            .once
            .efs
            .create_mount_target()
            .file_system_id(attrs::req_string(p, "file_system_id")?)
            .subnet_id(attrs::req_string(p, "subnet_id")?)
            .set_ip_address(attrs::string(p, "ip_address"))
            .set_security_groups(Some(attrs::strings(p, "security_groups")).filter(|g| !g.is_empty()))
            .send()
            .await
            .map_err(|e| create_error("CreateMountTarget", &e))?;
        Ok(with_id(p, out.mount_target_id()))
    }

    /// Waits for the state users rely on: `available`.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(created, "id")?);
        wait_for(&format!("mount target {id} becoming available"), timeout(planned, "create", Duration::from_secs(1800)), Duration::from_secs(2), || async {
            match describe_mount_targets(c, None, Some(&id)).await?.first().map(|m| m.life_cycle_state().as_str().to_string()).as_deref() {
                Some("available") => Ok(Some(())),
                Some("error") => Err(Diagnostic::error("Creation failed", format!("{id} reached state error."))),
                _ => Ok(None),
            }
        })
        .await?;
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let mut found = BTreeMap::new();
        for fs in unique(objects, "file_system_id") {
            for m in describe_mount_targets(c, Some(&fs), None).await? {
                found.insert(m.mount_target_id().to_string(), m);
            }
        }
        found.retain(|_, m| live(m));
        let present: Vec<String> = ids.iter().filter(|i| found.contains_key(*i)).cloned().collect();
        // Security groups have no batch read: a routine refresh keeps the recorded ones.
        let (mut groups, missing) = split_recorded(&present, full, |id| {
            let recorded = objects.iter().find(|o| id_of(o) == id)?;
            recorded.get_attr("security_groups")?.as_seq()?;
            Some(attrs::strings(recorded, "security_groups"))
        });
        groups.extend(per_object(c, &missing, |c, id| async move { mount_target_groups(&c, &id).await }).await?);
        Ok(ids.iter().map(|id| found.get(id).map(|m| mount_target_value(c, m, groups.get(id).map(Vec::as_slice).unwrap_or(&[])))).collect())
    }

    /// By id (an import knows nothing else), with its security groups.
    async fn read_one(&self, c: &AwsProvider, known: &Value) -> Outcome<Option<Value>> {
        let (c, id) = (c.clients()?, id_of(known));
        match describe_mount_targets(c, None, Some(&id)).await?.first() {
            Some(m) if live(m) => Ok(Some(mount_target_value(c, m, &mount_target_groups(c, &id).await?))),
            _ => Ok(None),
        }
    }

    // EFS cannot list mount targets by VPC: one paged DescribeFileSystems, then one
    // DescribeMountTargets per file system, kept to the scope's VPCs.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut systems = Vec::new();
        let mut pages = c.efs.describe_file_systems().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeFileSystems", &e))?;
            systems.extend(page.file_systems().iter().map(|f| f.file_system_id().to_string()));
        }
        let mut out = Vec::new();
        for fs in systems {
            for m in describe_mount_targets(c, Some(&fs), None).await?.iter().filter(|m| live(m) && crate::discover::in_vpcs(filter, m.vpc_id())) {
                // With its file system: the batched read lists by file system.
                let mut v = crate::discover::discovered(m.mount_target_id(), None, &BTreeMap::new());
                if let Value::Object(o) = &mut v {
                    o.insert("file_system_id".into(), Value::string(&fs));
                }
                out.push(v);
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let changed = p.get_attr("security_groups").is_some_and(|v| !v.is_unknown() && prior.get_attr("security_groups").is_none_or(|o| !o.equals(v)));
        if changed {
            c.clients()?
                .efs
                .modify_mount_target_security_groups()
                .mount_target_id(attrs::req_string(prior, "id")?)
                .set_security_groups(Some(attrs::strings(p, "security_groups")))
                .send()
                .await
                .map_err(|e| api_error("ModifyMountTargetSecurityGroups", &e))?;
        }
        Ok(())
    }

    /// Deletes and waits until it is gone: a subnet or security group cannot go while a mount
    /// target's interface does.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        match c.efs.delete_mount_target().mount_target_id(&id).send().await {
            Ok(_) => {}
            Err(e) if gone(code_of(&e)) => return Ok(()),
            Err(e) => return Err(api_error("DeleteMountTarget", &e).into()),
        }
        wait_for(&format!("mount target {id} going away"), timeout(prior, "delete", Duration::from_secs(600)), Duration::from_secs(2), || async {
            let left = describe_mount_targets(c, None, Some(&id)).await?;
            Ok(left.iter().all(|m| m.life_cycle_state().as_str() == "deleted").then_some(()))
        })
        .await?;
        Ok(())
    }

    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let (fs, subnet) = (attrs::req_string(planned, "file_system_id")?, attrs::string(planned, "subnet_id"));
        let found = describe_mount_targets(c.clients()?, Some(&fs), None).await?;
        Ok(found.iter().find(|m| Some(m.subnet_id()) == subnet.as_deref()).map(|m| with_id(planned, m.mount_target_id())))
    }
}
