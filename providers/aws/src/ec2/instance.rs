//! `aws_instance`: one `DescribeInstances` per 200 ids and page (terminated instances count
//! as gone), and one `DescribeVolumes` for the root volumes of them all (`root_block_device`:
//! its size, type, IOPS and throughput change in place with `ModifyVolume`, its
//! `delete_on_termination` with `ModifyInstanceAttribute`, its tags on the volume). RunInstances takes a ClientToken, but moto ignores it (and answers 500 to the
//! client-token filter), so instances carry the intent tag like the other EC2 types.

use super::*;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, EbsInstanceBlockDeviceSpecification, InstanceBlockDeviceMappingSpecification, Volume, VolumeType,
};

pub struct Instance;

/// Live instances among `ids` (or matching `filters`), keyed by id: terminated ones are gone.
async fn describe_instances(c: &Clients, ids: &[String], filters: Vec<Filter>) -> Result<BTreeMap<String, aws_sdk_ec2::types::Instance>, Diagnostic> {
    let mut out = BTreeMap::new();
    let chunks: Vec<Vec<String>> = if ids.is_empty() { vec![Vec::new()] } else { ids.chunks(CHUNK).map(<[String]>::to_vec).collect() };
    for chunk in chunks {
        let mut req = c.ec2.describe_instances().set_filters(Some(filters.clone()));
        if !chunk.is_empty() {
            req = req.filters(Filter::builder().name("instance-id").set_values(Some(chunk)).build());
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeInstances", &e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                let gone = i.state().and_then(|s| s.name()).is_some_and(|n| matches!(n.as_str(), "terminated" | "shutting-down"));
                if let (Some(id), false) = (i.instance_id(), gone) {
                    out.insert(id.to_string(), i.clone());
                }
            }
        }
    }
    Ok(out)
}

/// The root volume's id and its mapping's `delete_on_termination`.
fn root_mapping(i: &aws_sdk_ec2::types::Instance) -> Option<(String, Option<bool>)> {
    let root = i.root_device_name()?;
    let ebs = i.block_device_mappings().iter().find(|m| m.device_name() == Some(root))?.ebs()?;
    Some((ebs.volume_id()?.to_string(), ebs.delete_on_termination()))
}

/// The volumes of `instances` (root and EBS), by volume id: one batched `DescribeVolumes`.
async fn root_volumes(c: &Clients, instances: &BTreeMap<String, aws_sdk_ec2::types::Instance>) -> Result<BTreeMap<String, Volume>, Diagnostic> {
    let ids: Vec<String> =
        instances.values().flat_map(|i| i.block_device_mappings().iter().filter_map(|m| m.ebs().and_then(|e| e.volume_id()).map(str::to_string))).collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut pages = c.ec2.describe_volumes().filters(Filter::builder().name("volume-id").set_values(Some(chunk.to_vec())).build()).into_paginator().send();
        while let Some(page) = pages.next().await {
            for v in page.map_err(|e| api_error("DescribeVolumes", &e))?.volumes() {
                if let Some(id) = v.volume_id() {
                    out.insert(id.to_string(), v.clone());
                }
            }
        }
    }
    Ok(out)
}

/// `root_block_device` as read: reported when the configuration has the block or for an
/// import (nothing known yet); an instance whose configuration leaves it out records none.
fn root_value(i: &aws_sdk_ec2::types::Instance, volumes: &BTreeMap<String, Volume>, prior: Option<&Value>) -> Value {
    let prior_block = prior.and_then(|p| p.get_attr("root_block_device"));
    let prior_item = prior_block.and_then(Value::as_seq).and_then(|s| s.first());
    if prior_block.is_some() && prior_item.is_none() && !prior_block.is_some_and(Value::is_unknown) {
        return Value::List(Vec::new());
    }
    let Some((vol_id, delete)) = root_mapping(i) else { return Value::List(Vec::new()) };
    let Some(v) = volumes.get(&vol_id) else { return Value::List(Vec::new()) };
    let all = tags_of(v.tags());
    let tags = if all.is_empty() && prior_item.and_then(|p| p.get_attr("tags")).is_none_or(Value::is_null) { Value::Null } else { map_value(&all) };
    Value::List(vec![Value::object([
        ("delete_on_termination", Value::Bool(delete.unwrap_or(true))),
        ("device_name", opt_string(i.root_device_name())),
        ("encrypted", Value::Bool(v.encrypted().unwrap_or(false))),
        ("iops", opt_int(v.iops())),
        ("kms_key_id", opt_string(v.kms_key_id())),
        ("tags", tags),
        ("tags_all", map_value(&all)),
        // AWS reports a gp3 volume's throughput; moto does not, and then what was recorded stands.
        (
            "throughput",
            or_if_null(opt_int(v.throughput()), prior_item.and_then(|p| p.get_attr("throughput")).filter(|t| !t.is_unknown()).cloned().unwrap_or(Value::Null)),
        ),
        ("volume_id", Value::string(vol_id)),
        ("volume_size", opt_int(v.size())),
        ("volume_type", opt_string(v.volume_type().map(|t| t.as_str()))),
    ])])
}

/// `ebs_block_device` as read: the volumes mapped besides the root one, reported when the
/// configuration has such blocks or for an import, as `root_block_device`.
fn ebs_value(i: &aws_sdk_ec2::types::Instance, volumes: &BTreeMap<String, Volume>, prior: Option<&Value>) -> Value {
    let prior_block = prior.and_then(|p| p.get_attr("ebs_block_device"));
    let prior_items = prior_block.and_then(Value::as_seq).unwrap_or(&[]);
    if prior_block.is_some() && prior_items.is_empty() && !prior_block.is_some_and(Value::is_unknown) {
        return Value::set(Vec::new());
    }
    let mut out = Vec::new();
    for m in i.block_device_mappings().iter().filter(|m| m.device_name().is_some() && m.device_name() != i.root_device_name()) {
        let Some(ebs) = m.ebs() else { continue };
        let Some(v) = ebs.volume_id().and_then(|id| volumes.get(id)) else { continue };
        let device = m.device_name().unwrap_or_default();
        let prior_item = prior_items.iter().find(|p| attrs::string(p, "device_name").as_deref() == Some(device));
        let all = tags_of(v.tags());
        let tags = if all.is_empty() && prior_item.and_then(|p| p.get_attr("tags")).is_none_or(Value::is_null) { Value::Null } else { map_value(&all) };
        let throughput =
            or_if_null(opt_int(v.throughput()), prior_item.and_then(|p| p.get_attr("throughput")).filter(|t| !t.is_unknown()).cloned().unwrap_or(Value::Null));
        out.push(Value::object([
            ("delete_on_termination", Value::Bool(ebs.delete_on_termination().unwrap_or(true))),
            ("device_name", Value::string(device)),
            ("encrypted", Value::Bool(v.encrypted().unwrap_or(false))),
            ("iops", opt_int(v.iops())),
            ("kms_key_id", opt_string(v.kms_key_id())),
            ("snapshot_id", opt_string(v.snapshot_id().filter(|s| !s.is_empty()))),
            ("tags", tags),
            ("tags_all", map_value(&all)),
            ("throughput", throughput),
            ("volume_id", opt_string(v.volume_id())),
            ("volume_size", opt_int(v.size())),
            ("volume_type", opt_string(v.volume_type().map(|t| t.as_str()))),
        ]));
    }
    Value::set(out)
}

fn instance_value(c: &Clients, i: &aws_sdk_ec2::types::Instance, volumes: &BTreeMap<String, Volume>, prior: Option<&Value>) -> Value {
    let id = i.instance_id().unwrap_or_default().to_string();
    let all = tags_of(i.tags());
    let groups = Value::set(i.security_groups().iter().filter_map(|g| g.group_id().map(Value::string)).collect());
    Value::object([
        ("ami", opt_string(i.image_id())),
        ("arn", Value::string(format!("arn:aws:ec2:{}::instance/{id}", c.region))),
        ("availability_zone", opt_string(i.placement().and_then(|p| p.availability_zone()))),
        ("id", Value::string(id)),
        ("instance_state", opt_string(i.state().and_then(|s| s.name()).map(|n| n.as_str()))),
        ("instance_type", opt_string(i.instance_type().map(|t| t.as_str()))),
        ("key_name", opt_string(i.key_name())),
        ("private_ip", opt_string(i.private_ip_address())),
        ("root_block_device", root_value(i, volumes, prior)),
        ("ebs_block_device", ebs_value(i, volumes, prior)),
        ("public_ip", opt_string(i.public_ip_address())),
        ("subnet_id", opt_string(i.subnet_id())),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        // AWS does not return user data with the instance; the configured value stands.
        ("user_data", prior.and_then(|p| p.get_attr("user_data")).cloned().unwrap_or(Value::Null)),
        ("vpc_security_group_ids", groups),
    ])
}

/// Polls until the instance reaches `want` (or disappears, for "terminated"), up to 10 min.
async fn wait_instance(c: &Clients, id: &str, want: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("instance {id} reaching state {want}"), Duration::from_secs(600), Duration::from_secs(2), || async {
        let out = c.ec2.describe_instances().instance_ids(id).send().await;
        let state = match &out {
            Ok(o) => o.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string())),
            Err(e) if e.code().is_some_and(|c| c.ends_with(".NotFound")) => None,
            Err(e) => return Err(api_error("DescribeInstances", e)),
        };
        Ok(match state.as_deref() {
            Some(s) if s == want => Some(()),
            None if want == "terminated" => Some(()),
            _ => None,
        })
    })
    .await
}

/// In-place changes: the instance type (stop, modify, start) and the security groups.
async fn update_instance(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let new_type = attrs::string(planned, "instance_type").filter(|t| attrs::string(prior, "instance_type").as_ref() != Some(t));
    if let Some(new_type) = new_type {
        let step = async {
            c.ec2.stop_instances().instance_ids(id).send().await.map_err(|e| api_error("StopInstances", &e))?;
            wait_instance(c, id, "stopped").await?;
            let t = aws_sdk_ec2::types::AttributeValue::builder().value(new_type).build();
            c.ec2.modify_instance_attribute().instance_id(id).instance_type(t).send().await.map_err(|e| api_error("ModifyInstanceAttribute", &e))?;
            c.ec2.start_instances().instance_ids(id).send().await.map_err(|e| api_error("StartInstances", &e))?;
            wait_instance(c, id, "running").await
        };
        if let Err(d) = step.await {
            diags.push(d);
        }
    }
    let groups = |v: &Value| v.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(v, "vpc_security_group_ids"));
    if let Some(new) = groups(planned).filter(|g| !g.is_empty() && Some(g) != groups(prior).as_ref()) {
        if let Err(e) = c.ec2.modify_instance_attribute().instance_id(id).set_groups(Some(new)).send().await {
            diags.push(api_error("ModifyInstanceAttribute", &e));
        }
    }
    diags
}

fn root_schema() -> Schema {
    let oc = AttrSchema::optional_computed;
    let map = || Type::Map(Box::new(Type::String));
    Schema::new()
        .attr("delete_on_termination", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
        .attr("device_name", AttrSchema::computed(Type::String))
        .attr("encrypted", oc(Type::Bool))
        .attr("iops", oc(Type::Number))
        .attr("kms_key_id", oc(Type::String))
        .attr("tags", AttrSchema::optional(map()))
        .attr("tags_all", oc(map()))
        .attr("throughput", oc(Type::Number))
        .attr("volume_id", AttrSchema::computed(Type::String))
        .attr("volume_size", oc(Type::Number))
        .attr("volume_type", oc(Type::String))
}

/// The planned `root_block_device` (computed values kept from `prior`, unknown on a create) and
/// whether it forces a new instance (encryption cannot change on a volume).
fn plan_root(prior: Option<&Value>, config: &Value) -> (Value, bool) {
    let prior_item = prior.and_then(|p| p.get_attr("root_block_device")).and_then(Value::as_seq).and_then(|s| s.first()).cloned();
    let Some(Value::Object(cfg)) = config.get_attr("root_block_device").and_then(Value::as_seq).and_then(|s| s.first()).cloned() else {
        // Left out of the configuration: what AWS made stays as recorded.
        return (prior_item.map(|i| Value::List(vec![i])).unwrap_or(Value::List(Vec::new())), false);
    };
    let mut item = cfg;
    let mut replace = false;
    for (name, a) in &root_schema().attributes {
        let old = prior_item.as_ref().and_then(|p| p.get_attr(name)).cloned();
        let set = item.get(name).is_some_and(|v| !v.is_null());
        if (name == "encrypted" || name == "kms_key_id") && set {
            replace |= old.as_ref().is_some_and(|o| item.get(name).is_some_and(|v| !v.is_unknown() && !v.equals(o)));
        }
        if !set {
            let v = match (&a.default, a.computed) {
                (Some(d), _) => d.clone(),
                (None, true) => old.unwrap_or(Value::Unknown),
                (None, false) => Value::Null,
            };
            item.insert(name.clone(), v);
        }
    }
    // The volume carries the block's own tags.
    let tags = item.get("tags").cloned().unwrap_or(Value::Null);
    let all = if tags.is_unknown() { Value::Unknown } else { map_value(&attrs::map_of(Some(&tags))) };
    item.insert("tags_all".into(), all);
    (Value::List(vec![Value::Object(item)]), replace)
}

fn root_item(p: &Value) -> Option<Value> {
    p.get_attr("root_block_device").and_then(Value::as_seq).and_then(|s| s.first()).cloned()
}

fn int32(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

/// The root volume's mapping for RunInstances, on the image's root device name.
async fn root_mapping_of(c: &Clients, p: &Value) -> Result<Option<BlockDeviceMapping>, Diagnostic> {
    let Some(r) = root_item(p) else { return Ok(None) };
    let ami = attrs::req_string(p, "ami")?;
    let images = c.ec2.describe_images().image_ids(&ami).send().await.map_err(|e| api_error("DescribeImages", &e))?;
    let Some(device) = images.images().first().and_then(|i| i.root_device_name()).map(str::to_string) else {
        return Err(Diagnostic::error(
            "Image not found",
            format!("{ami} has no root device to size: the image does not exist or is not visible to this account."),
        ));
    };
    let ebs = EbsBlockDevice::builder()
        .set_delete_on_termination(attrs::bool(&r, "delete_on_termination"))
        .set_encrypted(attrs::bool(&r, "encrypted"))
        .set_kms_key_id(attrs::string(&r, "kms_key_id"))
        .set_iops(int32(&r, "iops"))
        .set_throughput(int32(&r, "throughput"))
        .set_volume_size(int32(&r, "volume_size"))
        .set_volume_type(attrs::string(&r, "volume_type").map(|t| VolumeType::from(t.as_str())))
        .build();
    Ok(Some(BlockDeviceMapping::builder().device_name(device).ebs(ebs).build()))
}

/// Each volume's own tags, once the instance exists: a volume tag specification of
/// RunInstances would give every volume the same tags.
async fn tag_volumes(c: &Clients, id: &str, p: &Value) -> Result<(), Diagnostic> {
    let mut wanted: Vec<(Option<String>, BTreeMap<String, String>)> = Vec::new();
    if let Some(r) = root_item(p) {
        wanted.push((None, attrs::string_map(&r, "tags")));
    }
    for e in p.get_attr("ebs_block_device").and_then(Value::as_seq).unwrap_or(&[]) {
        wanted.push((attrs::string(e, "device_name"), attrs::string_map(e, "tags")));
    }
    if wanted.iter().all(|(_, t)| t.is_empty()) {
        return Ok(());
    }
    let found = describe_instances(c, &[id.to_string()], Vec::new()).await?;
    let Some(i) = found.get(id) else { return Ok(()) };
    for (device, tags) in wanted.into_iter().filter(|(_, t)| !t.is_empty()) {
        let device = device.or_else(|| i.root_device_name().map(str::to_string));
        let volume = i.block_device_mappings().iter().find(|m| m.device_name().map(str::to_string) == device).and_then(|m| m.ebs()).and_then(|e| e.volume_id());
        let Some(volume) = volume else { continue };
        let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        c.ec2.create_tags().resources(volume).set_tags(Some(tags)).send().await.map_err(|e| api_error("CreateTags", &e))?;
    }
    Ok(())
}

/// Size, type, IOPS and throughput of the root volume (`ModifyVolume`), its
/// `delete_on_termination` and tags, in place.
async fn update_root(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let (Some(old), Some(new)) = (root_item(prior), root_item(planned)) else { return Vec::new() };
    let Some(volume) = attrs::string(&old, "volume_id") else { return Vec::new() };
    let changed = |k: &str| new.get_attr(k).is_some_and(|v| !v.is_unknown() && !v.is_null() && old.get_attr(k).is_none_or(|o| !o.equals(v)));
    let mut diags = Vec::new();
    if ["volume_size", "volume_type", "iops", "throughput"].iter().any(|k| changed(k)) {
        let req = c
            .ec2
            .modify_volume()
            .volume_id(&volume)
            .set_size(changed("volume_size").then(|| int32(&new, "volume_size")).flatten())
            .set_volume_type(changed("volume_type").then(|| attrs::string(&new, "volume_type")).flatten().map(|t| VolumeType::from(t.as_str())))
            .set_iops(changed("iops").then(|| int32(&new, "iops")).flatten())
            .set_throughput(changed("throughput").then(|| int32(&new, "throughput")).flatten());
        if let Err(e) = req.send().await {
            diags.push(api_error("ModifyVolume", &e));
        }
    }
    if changed("delete_on_termination") {
        let spec = InstanceBlockDeviceMappingSpecification::builder()
            .set_device_name(attrs::string(&old, "device_name"))
            .ebs(EbsInstanceBlockDeviceSpecification::builder().set_delete_on_termination(attrs::bool(&new, "delete_on_termination")).build())
            .build();
        if let Err(e) = c.ec2.modify_instance_attribute().instance_id(id).block_device_mappings(spec).send().await {
            diags.push(api_error("ModifyInstanceAttribute", &e));
        }
    }
    diags.extend(update_tags(c, &volume, &old, &new).await);
    diags
}

fn ebs_schema() -> Schema {
    root_schema().attr("device_name", AttrSchema::required(Type::String)).attr("snapshot_id", AttrSchema::optional_computed(Type::String))
}

/// The planned `ebs_block_device` set (computed values kept from the prior volume of the same
/// device, unknown on a create) and whether it forces a new instance: every setting of an EBS
/// block but its tags does, as in terraform-provider-aws.
fn plan_ebs(prior: Option<&Value>, config: &Value) -> (Value, bool) {
    let prior_items: Vec<Value> = prior.and_then(|p| p.get_attr("ebs_block_device")).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
    let cfg_items: Vec<Value> = config.get_attr("ebs_block_device").and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
    if cfg_items.is_empty() {
        return (Value::set(prior_items), false);
    }
    let schema = ebs_schema();
    let mut replace = prior.is_some() && cfg_items.len() != prior_items.len();
    let mut out = Vec::new();
    for cfg in cfg_items {
        let Value::Object(mut item) = cfg else { continue };
        let device = item.get("device_name").and_then(Value::as_str).map(str::to_string);
        let old = prior_items.iter().find(|p| device.is_some() && attrs::string(p, "device_name") == device);
        replace |= prior.is_some() && old.is_none();
        for (name, a) in &schema.attributes {
            let before = old.and_then(|o| o.get_attr(name)).cloned();
            let set = item.get(name).is_some_and(|v| !v.is_null());
            if set && name != "tags" && name != "tags_all" {
                replace |= before.as_ref().is_some_and(|b| item.get(name).is_some_and(|v| !v.is_unknown() && !v.equals(b)));
            }
            if !set {
                let v = match (&a.default, a.computed) {
                    (Some(d), _) => d.clone(),
                    (None, true) => before.unwrap_or(Value::Unknown),
                    (None, false) => Value::Null,
                };
                item.insert(name.clone(), v);
            }
        }
        let tags = item.get("tags").cloned().unwrap_or(Value::Null);
        let all = if tags.is_unknown() { Value::Unknown } else { map_value(&attrs::map_of(Some(&tags))) };
        item.insert("tags_all".into(), all);
        out.push(Value::Object(item));
    }
    (Value::set(out), replace)
}

/// The EBS volumes' mappings for RunInstances.
fn ebs_mappings_of(p: &Value) -> Vec<BlockDeviceMapping> {
    p.get_attr("ebs_block_device")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            let ebs = EbsBlockDevice::builder()
                .set_delete_on_termination(attrs::bool(r, "delete_on_termination"))
                .set_encrypted(attrs::bool(r, "encrypted"))
                .set_kms_key_id(attrs::string(r, "kms_key_id"))
                .set_snapshot_id(attrs::string(r, "snapshot_id"))
                .set_iops(int32(r, "iops"))
                .set_throughput(int32(r, "throughput"))
                .set_volume_size(int32(r, "volume_size"))
                .set_volume_type(attrs::string(r, "volume_type").map(|t| VolumeType::from(t.as_str())))
                .build();
            BlockDeviceMapping::builder().set_device_name(attrs::string(r, "device_name")).ebs(ebs).build()
        })
        .collect()
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Instance {
    fn name(&self) -> &'static str {
        "aws_instance"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("ami", AttrSchema::required(Type::String).force_new())
            .attr("instance_type", AttrSchema::required(Type::String))
            .attr("subnet_id", AttrSchema::optional_computed(Type::String).force_new())
            .attr("availability_zone", AttrSchema::computed(Type::String))
            .attr("key_name", AttrSchema::optional(Type::String).force_new())
            .attr("user_data", AttrSchema::optional(Type::String).force_new())
            .attr("vpc_security_group_ids", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
            .attr("private_ip", AttrSchema::computed(Type::String))
            .attr("public_ip", AttrSchema::computed(Type::String))
            .attr("instance_state", AttrSchema::computed(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("root_block_device", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema: root_schema() })
            .block("ebs_block_device", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: ebs_schema() })
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        let replacing = prior.is_none() || !resp.requires_replace.is_empty();
        let (root, replace) = plan_root(prior.filter(|_| !replacing), config);
        if replace {
            resp.requires_replace.push("root_block_device".into());
        }
        let (ebs, replace_ebs) = plan_ebs(prior.filter(|_| !replacing), config);
        if replace_ebs {
            resp.requires_replace.push("ebs_block_device".into());
        }
        if let Value::Object(m) = &mut resp.planned {
            m.insert("root_block_device".into(), root);
            m.insert("ebs_block_device".into(), ebs);
        }
        resp
    }

    /// RunInstances, then waiting until the instance runs.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let groups = p.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(p, "vpc_security_group_ids"));
        let out = c
            .once
            .ec2
            .run_instances()
            .image_id(attrs::req_string(p, "ami")?)
            .instance_type(aws_sdk_ec2::types::InstanceType::from(attrs::req_string(p, "instance_type")?.as_str()))
            .min_count(1)
            .max_count(1)
            .client_token(token)
            .set_subnet_id(attrs::string(p, "subnet_id"))
            .set_key_name(attrs::string(p, "key_name"))
            .set_user_data(attrs::string(p, "user_data").map(|u| aws_smithy_types::base64::encode(u.as_bytes())))
            .set_security_group_ids(groups.filter(|g| !g.is_empty()))
            .set_block_device_mappings(Some(root_mapping_of(c, p).await?.into_iter().chain(ebs_mappings_of(p)).collect::<Vec<_>>()).filter(|m| !m.is_empty()))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Instance, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("RunInstances", &e))?;
        let id = out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string();
        wait_instance(c, &id, "running").await?;
        Ok(with_id(p, &id))
    }

    /// The volumes' own tags.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        Ok(tag_volumes(c.clients()?, &attrs::req_string(created, "id")?, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_instances(c, &ids, Vec::new()).await?;
        let volumes = root_volumes(c, &found).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|i| instance_value(c, i, &volumes, Some(p)))).collect())
    }

    // One DescribeInstances (filtered by VPC) for the whole scope.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_instances(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found.values().map(|i| crate::discover::discovered(i.instance_id().unwrap_or_default(), None, &tags_of(i.tags()))).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        diagnostics.extend(update_instance(c, &id, prior, planned).await.into_iter().next());
        diagnostics.extend(update_root(c, &id, prior, planned).await);
        // An EBS block changes in place only by its tags (anything else replaces the instance).
        for new in planned.get_attr("ebs_block_device").and_then(Value::as_seq).unwrap_or(&[]) {
            let device = attrs::string(new, "device_name");
            let old = prior.get_attr("ebs_block_device").and_then(Value::as_seq).unwrap_or(&[]).iter().find(|o| attrs::string(o, "device_name") == device);
            if let Some((old, volume)) = old.and_then(|o| Some((o, attrs::string(o, "volume_id")?))) {
                diagnostics.extend(update_tags(c, &volume, old, new).await);
            }
        }
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async {
            match c.ec2.terminate_instances().instance_ids(&id).send().await {
                Ok(_) => wait_instance(c, &id, "terminated").await.map_err(|d| (None, d)),
                Err(e) => Err(delete_error("TerminateInstances", &e)),
            }
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_instances(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
