//! `aws_instance`: every argument and block of terraform-provider-aws 5.100. Refresh is one
//! `DescribeInstances` per 200 ids and page (terminated instances count as gone) and one
//! `DescribeVolumes` for all their volumes; what DescribeInstances lacks (termination and stop
//! protection, shutdown behavior, user data, credits, password data) costs calls per
//! instance, made concurrently and only on a full refresh or when not yet recorded.
//! `root_block_device`: its size, type, IOPS and throughput change in place with
//! `ModifyVolume`, its `delete_on_termination` with `ModifyInstanceAttribute`, its tags on the
//! volume. `user_data` is recorded as text (terraform-provider-aws records its SHA-1; infra's
//! plans compare the text) and changes in place with a stop and start unless
//! `user_data_replace_on_change`. RunInstances takes a ClientToken, but moto ignores it (and
//! answers 500 to the client-token filter), so instances carry the intent tag like the other
//! EC2 types.

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

/// A volume block's `tags` as read: what the volume carries, unless `volume_tags` gives every
/// volume its tags (the two exclude each other), then as configured.
fn block_tags(all: &BTreeMap<String, String>, prior: Option<&Value>, prior_item: Option<&Value>) -> Value {
    let configured = prior_item.and_then(|p| p.get_attr("tags")).filter(|t| !t.is_unknown());
    if volume_tags_set(prior) || (all.is_empty() && configured.is_none_or(Value::is_null)) {
        return configured.cloned().unwrap_or(Value::Null);
    }
    map_value(all)
}

fn volume_tags_set(v: Option<&Value>) -> bool {
    v.and_then(|p| p.get_attr("volume_tags")).is_some_and(|t| !t.is_null())
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
    let tags = block_tags(&all, prior, prior_item);
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
        let tags = block_tags(&all, prior, prior_item);
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

/// Polls until the instance reaches `want` (or disappears, for "terminated"), up to `limit`.
async fn wait_instance(c: &Clients, id: &str, want: &str, limit: Duration) -> Result<(), Diagnostic> {
    wait_for(&format!("instance {id} reaching state {want}"), limit, Duration::from_secs(2), || async {
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
    let all = block_tags_all(item.get("tags"), config);
    item.insert("tags_all".into(), all);
    (Value::List(vec![Value::Object(item)]), replace)
}

/// A volume block's planned `tags_all`: its own tags, or `volume_tags` when those give them.
fn block_tags_all(tags: Option<&Value>, config: &Value) -> Value {
    let tags = tags.cloned().unwrap_or(Value::Null);
    let tags = if tags.is_null() && volume_tags_set(Some(config)) { config.get_attr("volume_tags").cloned().unwrap_or(Value::Null) } else { tags };
    if tags.is_unknown() {
        Value::Unknown
    } else {
        map_value(&attrs::map_of(Some(&tags)))
    }
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
        let all = block_tags_all(item.get("tags"), config);
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

/// A block's item schema, nested the way terraform-provider-aws nests it.
fn block(nesting: Nesting, max_items: usize, schema: Schema) -> BlockSchema {
    BlockSchema { nesting, min_items: 0, max_items, force_new: false, schema }
}

fn list1(schema: Schema) -> BlockSchema {
    block(Nesting::List, 1, schema)
}

fn metadata_schema() -> Schema {
    let oc = AttrSchema::optional_computed;
    Schema::new()
        .attr("http_endpoint", AttrSchema::optional(Type::String).default(Value::string("enabled")))
        .attr("http_protocol_ipv6", AttrSchema::optional(Type::String).default(Value::string("disabled")))
        .attr("http_put_response_hop_limit", oc(Type::Number))
        .attr("http_tokens", oc(Type::String))
        .attr("instance_metadata_tags", oc(Type::String))
}

fn market_schema() -> Schema {
    let oc = AttrSchema::optional_computed;
    let spot = Schema::new()
        .attr("instance_interruption_behavior", oc(Type::String))
        .attr("max_price", oc(Type::String))
        .attr("spot_instance_type", oc(Type::String))
        .attr("valid_until", oc(Type::String));
    Schema::new().attr("market_type", oc(Type::String)).block("spot_options", list1(spot))
}

fn capacity_schema() -> Schema {
    let target = Schema::new()
        .attr("capacity_reservation_id", AttrSchema::optional(Type::String))
        .attr("capacity_reservation_resource_group_arn", AttrSchema::optional(Type::String));
    Schema::new().attr("capacity_reservation_preference", AttrSchema::optional(Type::String)).block("capacity_reservation_target", list1(target))
}

/// The blocks besides the volumes, as terraform-provider-aws 5.100 has them.
fn other_blocks(s: Schema) -> Schema {
    let oc = AttrSchema::optional_computed;
    s.block("capacity_reservation_specification", list1(capacity_schema()))
        .block(
            "cpu_options",
            list1(Schema::new().attr("amd_sev_snp", oc(Type::String)).attr("core_count", oc(Type::Number)).attr("threads_per_core", oc(Type::Number))),
        )
        .block("credit_specification", list1(Schema::new().attr("cpu_credits", AttrSchema::optional(Type::String))))
        .block("enclave_options", list1(Schema::new().attr("enabled", oc(Type::Bool))))
        .block(
            "ephemeral_block_device",
            block(
                Nesting::Set,
                usize::MAX,
                Schema::new()
                    .attr("device_name", AttrSchema::required(Type::String))
                    .attr("no_device", AttrSchema::optional(Type::Bool))
                    .attr("virtual_name", AttrSchema::optional(Type::String)),
            ),
        )
        .block("instance_market_options", list1(market_schema()))
        .block(
            "launch_template",
            list1(
                Schema::new()
                    .attr("id", oc(Type::String))
                    .attr("name", oc(Type::String))
                    .attr("version", AttrSchema::optional(Type::String).default(Value::string("$Default"))),
            ),
        )
        .block("maintenance_options", list1(Schema::new().attr("auto_recovery", oc(Type::String))))
        .block("metadata_options", list1(metadata_schema()))
        .block(
            "network_interface",
            block(
                Nesting::Set,
                usize::MAX,
                Schema::new()
                    .attr("delete_on_termination", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
                    .attr("device_index", AttrSchema::required(Type::Number))
                    .attr("network_card_index", AttrSchema::optional(Type::Number).default(Value::int(0)))
                    .attr("network_interface_id", AttrSchema::required(Type::String)),
            ),
        )
        .block(
            "private_dns_name_options",
            list1(
                Schema::new()
                    .attr("enable_resource_name_dns_a_record", oc(Type::Bool))
                    .attr("enable_resource_name_dns_aaaa_record", oc(Type::Bool))
                    .attr("hostname_type", oc(Type::String)),
            ),
        )
        .block("timeouts", timeouts_block(&["create", "update", "delete", "read"]))
}

/// Arguments that replace the instance when they change, as in terraform-provider-aws
/// (`user_data` and `user_data_base64` only with `user_data_replace_on_change`).
const FORCE_NEW: [&str; 17] = [
    "ami",
    "associate_public_ip_address",
    "availability_zone",
    "cpu_core_count",
    "cpu_threads_per_core",
    "enable_primary_ipv6",
    "hibernation",
    "host_id",
    "host_resource_group_arn",
    "ipv6_address_count",
    "ipv6_addresses",
    "key_name",
    "placement_group",
    "placement_partition_number",
    "private_ip",
    "security_groups",
    "subnet_id",
];

/// Blocks whose every change replaces the instance.
const FORCE_NEW_BLOCKS: [&str; 6] =
    ["cpu_options", "enclave_options", "ephemeral_block_device", "instance_market_options", "launch_template", "network_interface"];

/// Blocks AWS fills in when the configuration leaves them out (terraform-provider-aws's
/// optional and computed blocks): left out, the recorded block stands (unknown on a create).
const COMPUTED_BLOCKS: [&str; 9] = [
    "capacity_reservation_specification",
    "cpu_options",
    "enclave_options",
    "ephemeral_block_device",
    "instance_market_options",
    "maintenance_options",
    "metadata_options",
    "network_interface",
    "private_dns_name_options",
];

/// One planned block (list or set): configured items with their defaults, and their unset
/// computed arguments from the prior item at the same place (unknown on a create); a block
/// left out is the recorded one when AWS fills it in (`computed`), else none.
fn plan_block(b: &BlockSchema, prior: Option<&Value>, config: Option<&Value>, computed: bool) -> Value {
    let wrap = |items: Vec<Value>| if b.nesting == Nesting::Set { Value::set(items) } else { Value::List(items) };
    let items = config.and_then(Value::as_seq).unwrap_or(&[]);
    if items.is_empty() {
        return match prior {
            Some(p) if computed => p.clone(),
            None if computed => Value::Unknown,
            _ => wrap(Vec::new()),
        };
    }
    let prior_items = prior.and_then(Value::as_seq).unwrap_or(&[]);
    let out = items
        .iter()
        .enumerate()
        .map(|(n, cfg)| {
            let old = if b.nesting == Nesting::Set { prior_items.iter().find(|p| same_required(&b.schema, p, cfg)) } else { prior_items.get(n) };
            plan_item(&b.schema, old, cfg)
        })
        .collect();
    wrap(out)
}

/// Set items are matched by their required arguments (a device name, an index).
fn same_required(s: &Schema, a: &Value, b: &Value) -> bool {
    s.attributes.iter().filter(|(_, x)| x.required).all(|(k, _)| a.get_attr(k).zip(b.get_attr(k)).is_some_and(|(x, y)| x.equals(y)))
}

fn plan_item(s: &Schema, prior: Option<&Value>, cfg: &Value) -> Value {
    let mut out: Vec<(String, Value)> = Vec::new();
    for (name, a) in &s.attributes {
        let v = cfg.get_attr(name).cloned().unwrap_or(Value::Null);
        let v = match (&v, &a.default, a.computed) {
            (Value::Null, Some(d), _) => d.clone(),
            (Value::Null, None, true) => prior.and_then(|p| p.get_attr(name)).cloned().unwrap_or(Value::Unknown),
            _ => v,
        };
        out.push((name.clone(), v));
    }
    for (name, b) in &s.blocks {
        out.push((name.clone(), plan_block(b, prior.and_then(|p| p.get_attr(name)), cfg.get_attr(name), true)));
    }
    Value::object(out)
}

/// A recorded value as it stands when AWS does not report it (moto leaves out CPU options,
/// maintenance and DNS name options): unknown parts become null, an unknown block none.
fn recorded(prior: Option<&Value>, name: &str) -> Value {
    fn settle(v: &Value) -> Value {
        match v {
            Value::Unknown => Value::Null,
            Value::Object(m) => Value::object(m.iter().map(|(k, x)| (k.clone(), settle(x))).collect::<Vec<_>>()),
            Value::List(xs) => Value::List(xs.iter().map(settle).collect()),
            Value::Set(xs) => Value::set(xs.iter().map(settle).collect()),
            other => other.clone(),
        }
    }
    match prior.and_then(|p| p.get_attr(name)) {
        None | Some(Value::Unknown) | Some(Value::Null) => Value::List(Vec::new()),
        Some(v) => settle(v),
    }
}

/// What DescribeInstances does not report, one call each per instance (DescribeInstanceAttribute,
/// DescribeInstanceCreditSpecifications, GetPasswordData).
#[derive(Clone, Default)]
struct Extra {
    termination: Option<bool>,
    stop: Option<bool>,
    shutdown: Option<String>,
    /// Base64, as AWS holds it.
    user_data: Option<String>,
    credits: Option<String>,
    password: Option<String>,
}

/// The recorded extras, when every one this instance needs is: a routine refresh keeps them.
fn recorded_extra(p: &Value) -> Option<Extra> {
    let known = |k: &str| p.get_attr(k).filter(|v| !v.is_unknown());
    let user_data = match (known("user_data")?, known("user_data_base64")?) {
        (_, Value::String(b)) => Some(b.clone()),
        (Value::String(u), _) => Some(aws_smithy_types::base64::encode(u.as_bytes())),
        _ => None,
    };
    let credits = match single_block(p, "credit_specification") {
        Some(b) => Some(attrs::string(&b, "cpu_credits")?),
        None => None,
    };
    let password = if attrs::bool(p, "get_password_data") == Some(true) { Some(attrs::string(p, "password_data")?) } else { None };
    Some(Extra {
        termination: Some(attrs::bool(p, "disable_api_termination")?),
        stop: Some(attrs::bool(p, "disable_api_stop")?),
        shutdown: Some(attrs::string(p, "instance_initiated_shutdown_behavior")?),
        user_data,
        credits,
        password,
    })
}

async fn attribute(c: &Clients, id: &str, name: aws_sdk_ec2::types::InstanceAttributeName) -> Result<DescribeAttr, Diagnostic> {
    c.ec2.describe_instance_attribute().instance_id(id).attribute(name).send().await.map_err(|e| api_error("DescribeInstanceAttribute", &e))
}

type DescribeAttr = aws_sdk_ec2::operation::describe_instance_attribute::DescribeInstanceAttributeOutput;

/// One instance's extras: four attributes, and the credit specification and password data
/// when the configuration asks for them.
async fn extra_of(c: Clients, id: String, credits: bool, password: bool) -> Result<Extra, Diagnostic> {
    use aws_sdk_ec2::types::InstanceAttributeName as A;
    let termination = attribute(&c, &id, A::DisableApiTermination).await?.disable_api_termination().and_then(|v| v.value());
    let stop = attribute(&c, &id, A::DisableApiStop).await?.disable_api_stop().and_then(|v| v.value());
    let shutdown =
        attribute(&c, &id, A::InstanceInitiatedShutdownBehavior).await?.instance_initiated_shutdown_behavior().and_then(|v| v.value()).map(str::to_string);
    let user_data = attribute(&c, &id, A::UserData).await?.user_data().and_then(|v| v.value()).filter(|v| !v.is_empty()).map(str::to_string);
    let mut x = Extra { termination, stop, shutdown, user_data, ..Extra::default() };
    if credits {
        let out = c
            .ec2
            .describe_instance_credit_specifications()
            .instance_ids(&id)
            .send()
            .await
            .map_err(|e| api_error("DescribeInstanceCreditSpecifications", &e))?;
        x.credits = out.instance_credit_specifications().first().and_then(|s| s.cpu_credits()).map(str::to_string);
    }
    if password {
        let out = c.ec2.get_password_data().instance_id(&id).send().await.map_err(|e| api_error("GetPasswordData", &e))?;
        x.password = out.password_data().map(str::to_string);
    }
    Ok(x)
}

/// The extras of every instance found: recorded ones kept on a routine refresh, the rest read
/// concurrently.
async fn extras(c: &Clients, ids: &[String], objects: &[Value], full: bool) -> Result<BTreeMap<String, Extra>, Diagnostic> {
    let prior_of = |id: &str| ids.iter().position(|i| i == id).and_then(|n| objects.get(n));
    let (mut kept, missing) = split_recorded(ids, full, |id| prior_of(id).and_then(recorded_extra));
    let wants: BTreeMap<String, (bool, bool)> = missing
        .iter()
        .map(|id| {
            let p = prior_of(id);
            let credits = p.and_then(|p| single_block(p, "credit_specification")).is_some();
            // The password data never changes once there: read until it is.
            let password = p.is_some_and(|p| attrs::bool(p, "get_password_data") == Some(true) && attrs::string(p, "password_data").is_none());
            (id.clone(), (credits, password))
        })
        .collect();
    let read = per_object(c, &missing, |c, id| {
        let (credits, password) = wants.get(&id).copied().unwrap_or_default();
        extra_of(c, id, credits, password)
    })
    .await?;
    kept.extend(read);
    Ok(kept)
}

fn decode_user_data(b64: &str) -> String {
    aws_smithy_types::base64::decode(b64).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_else(|_| b64.to_string())
}

/// `user_data` and `user_data_base64` as read: the one configured holds the data
/// (`user_data` as text, `user_data_base64` as AWS holds it).
fn user_data_values(x: &Extra, prior: Option<&Value>) -> (Value, Value) {
    let base64 = prior.and_then(|p| p.get_attr("user_data_base64")).is_some_and(|v| !v.is_null());
    match &x.user_data {
        Some(b) if base64 => (Value::Null, Value::string(b.clone())),
        Some(b) => (Value::string(decode_user_data(b)), Value::Null),
        None => (Value::Null, Value::Null),
    }
}

type Ec2Instance = aws_sdk_ec2::types::Instance;

fn primary_eni(i: &Ec2Instance) -> Option<&aws_sdk_ec2::types::InstanceNetworkInterface> {
    i.network_interfaces().iter().find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0))
}

fn metadata_value(i: &Ec2Instance, prior: Option<&Value>) -> Value {
    let Some(m) = i.metadata_options() else { return recorded(prior, "metadata_options") };
    Value::List(vec![Value::object([
        ("http_endpoint", opt_string(m.http_endpoint().map(|v| v.as_str()))),
        ("http_protocol_ipv6", opt_string(m.http_protocol_ipv6().map(|v| v.as_str()))),
        ("http_put_response_hop_limit", opt_int(m.http_put_response_hop_limit())),
        ("http_tokens", opt_string(m.http_tokens().map(|v| v.as_str()))),
        ("instance_metadata_tags", opt_string(m.instance_metadata_tags().map(|v| v.as_str()))),
    ])])
}

fn cpu_value(i: &Ec2Instance, prior: Option<&Value>) -> Value {
    let Some(o) = i.cpu_options() else { return recorded(prior, "cpu_options") };
    Value::List(vec![Value::object([
        ("amd_sev_snp", opt_string(o.amd_sev_snp().map(|v| v.as_str()))),
        ("core_count", opt_int(o.core_count())),
        ("threads_per_core", opt_int(o.threads_per_core())),
    ])])
}

fn capacity_value(i: &Ec2Instance, prior: Option<&Value>) -> Value {
    let Some(s) = i.capacity_reservation_specification() else { return recorded(prior, "capacity_reservation_specification") };
    let target = s
        .capacity_reservation_target()
        .map(|t| {
            vec![Value::object([
                ("capacity_reservation_id", opt_string(t.capacity_reservation_id())),
                ("capacity_reservation_resource_group_arn", opt_string(t.capacity_reservation_resource_group_arn())),
            ])]
        })
        .unwrap_or_default();
    Value::List(vec![Value::object([
        ("capacity_reservation_preference", opt_string(s.capacity_reservation_preference().map(|v| v.as_str()))),
        ("capacity_reservation_target", Value::List(target)),
    ])])
}

fn dns_options_value(i: &Ec2Instance, prior: Option<&Value>) -> Value {
    let Some(o) = i.private_dns_name_options() else { return recorded(prior, "private_dns_name_options") };
    let b = |v: Option<bool>| v.map(Value::Bool).unwrap_or(Value::Null);
    Value::List(vec![Value::object([
        ("enable_resource_name_dns_a_record", b(o.enable_resource_name_dns_a_record())),
        ("enable_resource_name_dns_aaaa_record", b(o.enable_resource_name_dns_aaaa_record())),
        ("hostname_type", opt_string(o.hostname_type().map(|v| v.as_str()))),
    ])])
}

fn one(name: &str, v: Value) -> Value {
    Value::List(vec![Value::object([(name, v)])])
}

/// `network_interface` as read: the attached interfaces, when the configuration attaches any.
fn interfaces_value(i: &Ec2Instance, prior: Option<&Value>) -> Value {
    if prior.and_then(|p| p.get_attr("network_interface")).and_then(Value::as_seq).is_none_or(<[Value]>::is_empty) {
        return Value::set(Vec::new());
    }
    Value::set(
        i.network_interfaces()
            .iter()
            .map(|n| {
                let a = n.attachment();
                Value::object([
                    ("delete_on_termination", Value::Bool(a.and_then(|a| a.delete_on_termination()).unwrap_or(false))),
                    ("device_index", opt_int(a.and_then(|a| a.device_index()))),
                    ("network_card_index", Value::int(a.and_then(|a| a.network_card_index()).unwrap_or(0).into())),
                    ("network_interface_id", opt_string(n.network_interface_id())),
                ])
            })
            .collect(),
    )
}

/// The instance's security groups: by id in a VPC (unless configured by name), else by name.
fn groups_values(i: &Ec2Instance, prior: Option<&Value>) -> (Value, Value) {
    let named = prior.map(|p| attrs::strings(p, "security_groups")).unwrap_or_default();
    let by_id = i.subnet_id().is_some_and(|s| !s.is_empty()) && (named.is_empty() || named.iter().any(|g| g.starts_with("sg-")));
    let groups = i.security_groups();
    if by_id {
        (string_set(groups.iter().filter_map(|g| g.group_id())), Value::set(Vec::new()))
    } else {
        (Value::set(Vec::new()), string_set(groups.iter().filter_map(|g| g.group_name())))
    }
}

/// `volume_tags` as read: the root volume's tags, when the configuration gives them.
fn volume_tags_value(i: &Ec2Instance, volumes: &BTreeMap<String, Volume>, prior: Option<&Value>) -> Value {
    if !volume_tags_set(prior) {
        return Value::Null;
    }
    let root = root_mapping(i).and_then(|(id, _)| volumes.get(&id));
    root.map(|v| map_value(&tags_of(v.tags()))).unwrap_or(Value::Null)
}

fn bool_or(v: Option<bool>, prior: Option<&Value>, k: &str) -> Value {
    v.map(Value::Bool).unwrap_or_else(|| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null))
}

fn instance_value(c: &Clients, i: &Ec2Instance, volumes: &BTreeMap<String, Volume>, x: &Extra, prior: Option<&Value>) -> Value {
    let id = i.instance_id().unwrap_or_default().to_string();
    let all = tags_of(i.tags());
    let kept = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    let eni = primary_eni(i);
    let placement = i.placement();
    let secondary: Vec<&str> =
        eni.map(|n| n.private_ip_addresses().iter().filter(|a| a.primary() != Some(true)).filter_map(|a| a.private_ip_address()).collect()).unwrap_or_default();
    let ipv6: Vec<Value> = eni.map(|n| n.ipv6_addresses().iter().filter_map(|a| a.ipv6_address()).map(Value::string).collect()).unwrap_or_default();
    let primary_ipv6 = eni.is_some_and(|n| n.ipv6_addresses().iter().any(|a| a.is_primary_ipv6() == Some(true)));
    let (vpc_groups, groups) = groups_values(i, prior);
    let (user_data, user_data_base64) = user_data_values(x, prior);
    let cpu = i.cpu_options();
    let profile = i.iam_instance_profile().and_then(|p| p.arn()).and_then(|a| a.rsplit('/').next());
    let hibernation = i.hibernation_options().and_then(|h| h.configured()).filter(|h| *h || !kept("hibernation").is_null());
    let credits = match single_block(prior.unwrap_or(&Value::Null), "credit_specification") {
        Some(_) => one("cpu_credits", opt_string(x.credits.as_deref())),
        None => Value::List(Vec::new()),
    };
    let lifecycle = i.instance_lifecycle().map(|l| l.as_str());
    let market = match lifecycle {
        Some("spot") if kept("instance_market_options").as_seq().is_none_or(<[Value]>::is_empty) => one("market_type", Value::string("spot")),
        _ => recorded(prior, "instance_market_options"),
    };
    let template = match (all_tags(i).get("aws:ec2launchtemplate:id"), recorded(prior, "launch_template")) {
        (Some(t), Value::List(items)) if !items.is_empty() => Value::List(
            items
                .into_iter()
                .map(|mut item| {
                    if let Value::Object(m) = &mut item {
                        m.insert("id".into(), Value::string(t.clone()));
                    }
                    item
                })
                .collect(),
        ),
        (_, v) => v,
    };
    Value::object([
        ("ami", opt_string(i.image_id())),
        ("arn", Value::string(format!("arn:aws:ec2:{}::instance/{id}", c.region))),
        ("associate_public_ip_address", Value::Bool(eni.and_then(|n| n.association()).and_then(|a| a.public_ip()).is_some())),
        ("availability_zone", opt_string(placement.and_then(|p| p.availability_zone()))),
        ("capacity_reservation_specification", capacity_value(i, prior)),
        ("cpu_core_count", or_if_null(opt_int(cpu.and_then(|o| o.core_count())), kept("cpu_core_count"))),
        ("cpu_options", cpu_value(i, prior)),
        ("cpu_threads_per_core", or_if_null(opt_int(cpu.and_then(|o| o.threads_per_core())), kept("cpu_threads_per_core"))),
        ("credit_specification", credits),
        ("disable_api_stop", bool_or(x.stop, prior, "disable_api_stop")),
        ("disable_api_termination", bool_or(x.termination, prior, "disable_api_termination")),
        ("ebs_block_device", ebs_value(i, volumes, prior)),
        ("ebs_optimized", Value::Bool(i.ebs_optimized().unwrap_or(false))),
        ("enable_primary_ipv6", Value::Bool(primary_ipv6)),
        (
            "enclave_options",
            i.enclave_options().map(|e| one("enabled", Value::Bool(e.enabled().unwrap_or(false)))).unwrap_or_else(|| recorded(prior, "enclave_options")),
        ),
        ("ephemeral_block_device", recorded(prior, "ephemeral_block_device")),
        // Arguments of the configuration only: as configured, their default on an import.
        ("get_password_data", or_if_null(kept("get_password_data"), Value::Bool(false))),
        ("hibernation", hibernation.map(Value::Bool).unwrap_or_else(|| kept("hibernation"))),
        ("host_id", opt_string(placement.and_then(|p| p.host_id()))),
        ("host_resource_group_arn", opt_string(placement.and_then(|p| p.host_resource_group_arn()))),
        ("iam_instance_profile", opt_string(profile)),
        ("id", Value::string(&id)),
        ("instance_initiated_shutdown_behavior", or_if_null(opt_string(x.shutdown.as_deref()), kept("instance_initiated_shutdown_behavior"))),
        ("instance_lifecycle", opt_string(lifecycle)),
        ("instance_market_options", market),
        ("instance_state", opt_string(i.state().and_then(|s| s.name()).map(|n| n.as_str()))),
        ("instance_type", opt_string(i.instance_type().map(|t| t.as_str()))),
        ("ipv6_address_count", Value::int(ipv6.len() as i64)),
        ("ipv6_addresses", Value::List(ipv6)),
        ("key_name", opt_string(i.key_name())),
        ("launch_template", template),
        (
            "maintenance_options",
            i.maintenance_options()
                .map(|m| one("auto_recovery", opt_string(m.auto_recovery().map(|v| v.as_str()))))
                .unwrap_or_else(|| recorded(prior, "maintenance_options")),
        ),
        ("metadata_options", metadata_value(i, prior)),
        ("monitoring", Value::Bool(i.monitoring().and_then(|m| m.state()).is_some_and(|s| matches!(s.as_str(), "enabled" | "pending")))),
        ("network_interface", interfaces_value(i, prior)),
        ("outpost_arn", opt_string(i.outpost_arn())),
        (
            "password_data",
            if kept("get_password_data") == Value::Bool(true) { or_if_null(opt_string(x.password.as_deref()), kept("password_data")) } else { Value::Null },
        ),
        ("placement_group", opt_string(placement.and_then(|p| p.group_name()))),
        ("placement_partition_number", opt_int(placement.and_then(|p| p.partition_number()))),
        ("primary_network_interface_id", opt_string(eni.and_then(|n| n.network_interface_id()))),
        ("private_dns", opt_string(i.private_dns_name())),
        ("private_dns_name_options", dns_options_value(i, prior)),
        ("private_ip", opt_string(i.private_ip_address())),
        ("public_dns", opt_string(i.public_dns_name())),
        ("public_ip", opt_string(i.public_ip_address())),
        ("root_block_device", root_value(i, volumes, prior)),
        ("secondary_private_ips", string_set(secondary)),
        ("security_groups", groups),
        ("source_dest_check", Value::Bool(i.source_dest_check().unwrap_or(true))),
        ("spot_instance_request_id", opt_string(i.spot_instance_request_id())),
        ("subnet_id", opt_string(i.subnet_id())),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("tenancy", opt_string(placement.and_then(|p| p.tenancy()).map(|t| t.as_str()))),
        ("user_data", user_data),
        ("user_data_base64", user_data_base64),
        ("user_data_replace_on_change", or_if_null(kept("user_data_replace_on_change"), Value::Bool(false))),
        ("volume_tags", volume_tags_value(i, volumes, prior)),
        ("vpc_security_group_ids", vpc_groups),
    ])
}

/// Every tag, AWS's own `aws:` ones included (a launch template's id is one).
fn all_tags(i: &Ec2Instance) -> BTreeMap<String, String> {
    i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn en<T: for<'a> From<&'a str>>(v: &Value, k: &str) -> Option<T> {
    attrs::string(v, k).map(|s| T::from(s.as_str()))
}

fn sub(v: &Value, k: &str) -> Option<Value> {
    single_block(v, k).filter(|b| !b.is_null() && !b.is_unknown())
}

fn placement_of(p: &Value) -> Option<aws_sdk_ec2::types::Placement> {
    let keys = ["availability_zone", "placement_group", "host_id", "host_resource_group_arn", "placement_partition_number", "tenancy"];
    keys.iter().any(|k| is_set(p, k) && !p.get_attr(k).is_some_and(Value::is_unknown)).then(|| {
        aws_sdk_ec2::types::Placement::builder()
            .set_availability_zone(attrs::string(p, "availability_zone"))
            .set_group_name(attrs::string(p, "placement_group"))
            .set_host_id(attrs::string(p, "host_id"))
            .set_host_resource_group_arn(attrs::string(p, "host_resource_group_arn"))
            .set_partition_number(int32(p, "placement_partition_number"))
            .set_tenancy(en(p, "tenancy"))
            .build()
    })
}

fn metadata_of(p: &Value) -> Option<aws_sdk_ec2::types::InstanceMetadataOptionsRequest> {
    let m = sub(p, "metadata_options")?;
    Some(
        aws_sdk_ec2::types::InstanceMetadataOptionsRequest::builder()
            .set_http_endpoint(en(&m, "http_endpoint"))
            .set_http_protocol_ipv6(en(&m, "http_protocol_ipv6"))
            .set_http_put_response_hop_limit(int32(&m, "http_put_response_hop_limit"))
            .set_http_tokens(en(&m, "http_tokens"))
            .set_instance_metadata_tags(en(&m, "instance_metadata_tags"))
            .build(),
    )
}

fn capacity_of(p: &Value) -> Option<aws_sdk_ec2::types::CapacityReservationSpecification> {
    let s = sub(p, "capacity_reservation_specification")?;
    let target = sub(&s, "capacity_reservation_target").map(|t| {
        aws_sdk_ec2::types::CapacityReservationTarget::builder()
            .set_capacity_reservation_id(attrs::string(&t, "capacity_reservation_id"))
            .set_capacity_reservation_resource_group_arn(attrs::string(&t, "capacity_reservation_resource_group_arn"))
            .build()
    });
    Some(
        aws_sdk_ec2::types::CapacityReservationSpecification::builder()
            .set_capacity_reservation_preference(en(&s, "capacity_reservation_preference"))
            .set_capacity_reservation_target(target)
            .build(),
    )
}

fn cpu_of(p: &Value) -> Option<aws_sdk_ec2::types::CpuOptionsRequest> {
    let o = sub(p, "cpu_options");
    let core = o.as_ref().and_then(|o| int32(o, "core_count")).or_else(|| int32(p, "cpu_core_count"));
    let threads = o.as_ref().and_then(|o| int32(o, "threads_per_core")).or_else(|| int32(p, "cpu_threads_per_core"));
    let sev = o.as_ref().and_then(|o| en(o, "amd_sev_snp"));
    (core.is_some() || threads.is_some() || sev.is_some())
        .then(|| aws_sdk_ec2::types::CpuOptionsRequest::builder().set_core_count(core).set_threads_per_core(threads).set_amd_sev_snp(sev).build())
}

fn market_of(p: &Value) -> Result<Option<aws_sdk_ec2::types::InstanceMarketOptionsRequest>, Diagnostic> {
    let Some(m) = sub(p, "instance_market_options") else { return Ok(None) };
    let spot = match sub(&m, "spot_options") {
        Some(s) => {
            let until = match attrs::string(&s, "valid_until") {
                Some(t) => Some(
                    aws_smithy_types::DateTime::from_str(&t, aws_smithy_types::date_time::Format::DateTime)
                        .map_err(|_| Diagnostic::error("Invalid valid_until", format!("{t:?} is not an RFC 3339 time such as 2025-01-01T00:00:00Z.")))?,
                ),
                None => None,
            };
            Some(
                aws_sdk_ec2::types::SpotMarketOptions::builder()
                    .set_instance_interruption_behavior(en(&s, "instance_interruption_behavior"))
                    .set_max_price(attrs::string(&s, "max_price"))
                    .set_spot_instance_type(en(&s, "spot_instance_type"))
                    .set_valid_until(until)
                    .build(),
            )
        }
        None => None,
    };
    Ok(Some(aws_sdk_ec2::types::InstanceMarketOptionsRequest::builder().set_market_type(en(&m, "market_type")).set_spot_options(spot).build()))
}

fn template_of(p: &Value) -> Option<aws_sdk_ec2::types::LaunchTemplateSpecification> {
    let t = sub(p, "launch_template")?;
    Some(
        aws_sdk_ec2::types::LaunchTemplateSpecification::builder()
            .set_launch_template_id(attrs::string(&t, "id"))
            .set_launch_template_name(attrs::string(&t, "name"))
            .set_version(attrs::string(&t, "version"))
            .build(),
    )
}

fn dns_options_of(p: &Value) -> Option<aws_sdk_ec2::types::PrivateDnsNameOptionsRequest> {
    let o = sub(p, "private_dns_name_options")?;
    Some(
        aws_sdk_ec2::types::PrivateDnsNameOptionsRequest::builder()
            .set_enable_resource_name_dns_a_record(attrs::bool(&o, "enable_resource_name_dns_a_record"))
            .set_enable_resource_name_dns_aaaa_record(attrs::bool(&o, "enable_resource_name_dns_aaaa_record"))
            .set_hostname_type(en(&o, "hostname_type"))
            .build(),
    )
}

fn ephemeral_mappings_of(p: &Value) -> Vec<BlockDeviceMapping> {
    p.get_attr("ephemeral_block_device")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            let none = attrs::bool(e, "no_device") == Some(true);
            BlockDeviceMapping::builder()
                .set_device_name(attrs::string(e, "device_name"))
                .set_virtual_name(attrs::string(e, "virtual_name").filter(|_| !none))
                .set_no_device(none.then(String::new))
                .build()
        })
        .collect()
}

/// The network interfaces of RunInstances: the attached ones configured, or (as
/// terraform-provider-aws does when a public address is asked for in a subnet) the primary
/// one carrying the subnet, groups and addresses; `None` sends those at the top level.
fn interfaces_of(p: &Value) -> Option<Vec<aws_sdk_ec2::types::InstanceNetworkInterfaceSpecification>> {
    use aws_sdk_ec2::types::{InstanceIpv6Address, InstanceNetworkInterfaceSpecification as Spec};
    let attached = p.get_attr("network_interface").and_then(Value::as_seq).unwrap_or(&[]);
    if !attached.is_empty() {
        return Some(
            attached
                .iter()
                .map(|n| {
                    Spec::builder()
                        .set_device_index(int32(n, "device_index"))
                        .set_network_interface_id(attrs::string(n, "network_interface_id"))
                        .set_delete_on_termination(attrs::bool(n, "delete_on_termination"))
                        .set_network_card_index(int32(n, "network_card_index"))
                        .build()
                })
                .collect(),
        );
    }
    let public = attrs::bool(p, "associate_public_ip_address")?;
    let subnet = attrs::string(p, "subnet_id")?;
    let ipv6: Vec<InstanceIpv6Address> =
        attrs::strings(p, "ipv6_addresses").into_iter().map(|a| InstanceIpv6Address::builder().ipv6_address(a).build()).collect();
    let groups = attrs::strings(p, "vpc_security_group_ids");
    Some(vec![Spec::builder()
        .device_index(0)
        .subnet_id(subnet)
        .associate_public_ip_address(public)
        .set_groups(Some(groups).filter(|g| !g.is_empty()))
        .set_private_ip_address(attrs::string(p, "private_ip"))
        .set_ipv6_address_count(int32(p, "ipv6_address_count").filter(|_| ipv6.is_empty()))
        .set_ipv6_addresses(Some(ipv6).filter(|a| !a.is_empty()))
        .set_primary_ipv6(attrs::bool(p, "enable_primary_ipv6"))
        .build()])
}

/// The user data as RunInstances and ModifyInstanceAttribute take it: base64.
fn user_data_of(p: &Value) -> Option<String> {
    attrs::string(p, "user_data_base64").or_else(|| attrs::string(p, "user_data").map(|u| aws_smithy_types::base64::encode(u.as_bytes())))
}

/// RunInstances with every argument it takes (what it cannot take is set by `converge`).
async fn run_instance(c: &Clients, p: &Value, token: &str) -> Outcome<String> {
    use aws_sdk_ec2::types::{CreditSpecificationRequest, EnclaveOptionsRequest, HibernationOptionsRequest, IamInstanceProfileSpecification};
    let nics = interfaces_of(p);
    let top = nics.is_none();
    let groups =
        p.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(p, "vpc_security_group_ids")).filter(|g| !g.is_empty() && top);
    let names = Some(attrs::strings(p, "security_groups")).filter(|g| !g.is_empty());
    let mappings: Vec<BlockDeviceMapping> = root_mapping_of(c, p).await?.into_iter().chain(ebs_mappings_of(p)).chain(ephemeral_mappings_of(p)).collect();
    let ipv6: Vec<aws_sdk_ec2::types::InstanceIpv6Address> =
        attrs::strings(p, "ipv6_addresses").into_iter().map(|a| aws_sdk_ec2::types::InstanceIpv6Address::builder().ipv6_address(a).build()).collect();
    let mut tags = vec![tag_spec(aws_sdk_ec2::types::ResourceType::Instance, &attrs::string_map(p, "tags_all"), token)];
    let volume_tags = attrs::string_map(p, "volume_tags");
    if !volume_tags.is_empty() {
        let mut b = TagSpecification::builder().resource_type(aws_sdk_ec2::types::ResourceType::Volume);
        for (k, v) in &volume_tags {
            b = b.tags(Tag::builder().key(k).value(v).build());
        }
        tags.push(b.build());
    }
    let out = c
        .once
        .ec2
        .run_instances()
        .set_image_id(attrs::string(p, "ami"))
        .set_instance_type(en(p, "instance_type"))
        .min_count(1)
        .max_count(1)
        .client_token(token)
        .set_subnet_id(attrs::string(p, "subnet_id").filter(|_| top))
        .set_key_name(attrs::string(p, "key_name"))
        .set_user_data(user_data_of(p))
        .set_security_group_ids(groups)
        .set_security_groups(names)
        .set_private_ip_address(attrs::string(p, "private_ip").filter(|_| top))
        .set_ipv6_address_count(int32(p, "ipv6_address_count").filter(|_| top && ipv6.is_empty()))
        .set_ipv6_addresses(Some(ipv6).filter(|a| top && !a.is_empty()))
        .set_enable_primary_ipv6(attrs::bool(p, "enable_primary_ipv6").filter(|_| top))
        .set_network_interfaces(nics)
        .set_block_device_mappings(Some(mappings).filter(|m| !m.is_empty()))
        .set_placement(placement_of(p))
        .set_ebs_optimized(attrs::bool(p, "ebs_optimized"))
        .set_disable_api_termination(attrs::bool(p, "disable_api_termination"))
        .set_disable_api_stop(attrs::bool(p, "disable_api_stop"))
        .set_instance_initiated_shutdown_behavior(en(p, "instance_initiated_shutdown_behavior"))
        .set_monitoring(attrs::bool(p, "monitoring").map(|m| aws_sdk_ec2::types::RunInstancesMonitoringEnabled::builder().enabled(m).build()))
        .set_iam_instance_profile(attrs::string(p, "iam_instance_profile").map(|n| IamInstanceProfileSpecification::builder().name(n).build()))
        .set_hibernation_options(attrs::bool(p, "hibernation").map(|h| HibernationOptionsRequest::builder().configured(h).build()))
        .set_metadata_options(metadata_of(p))
        .set_credit_specification(
            sub(p, "credit_specification")
                .and_then(|s| attrs::string(&s, "cpu_credits"))
                .map(|cr| CreditSpecificationRequest::builder().cpu_credits(cr).build()),
        )
        .set_cpu_options(cpu_of(p))
        .set_enclave_options(sub(p, "enclave_options").and_then(|e| attrs::bool(&e, "enabled")).map(|e| EnclaveOptionsRequest::builder().enabled(e).build()))
        .set_maintenance_options(
            sub(p, "maintenance_options")
                .map(|m| aws_sdk_ec2::types::InstanceMaintenanceOptionsRequest::builder().set_auto_recovery(en(&m, "auto_recovery")).build()),
        )
        .set_private_dns_name_options(dns_options_of(p))
        .set_capacity_reservation_specification(capacity_of(p))
        .set_instance_market_options(market_of(p)?)
        .set_launch_template(template_of(p))
        .set_tag_specifications(Some(tags))
        .send()
        .await
        .map_err(|e| create_error("RunInstances", &e))?;
    Ok(out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string())
}

/// Whether `k` goes from a known `prior` value to another known one.
fn changed(prior: &Value, planned: &Value, k: &str) -> bool {
    planned.get_attr(k).is_some_and(|v| !v.is_unknown() && !v.is_null() && prior.get_attr(k).is_none_or(|o| !o.equals(v)))
}

fn block_changed(prior: &Value, planned: &Value, k: &str) -> bool {
    let new = sub(planned, k);
    new.is_some() && new != sub(prior, k)
}

/// What changes only on a stopped instance: its type, user data, EBS optimization and
/// capacity reservation. One stop, the changes, one start.
async fn update_stopped(c: &Clients, id: &str, prior: &Value, planned: &Value, limit: Duration) -> Result<(), Diagnostic> {
    use aws_sdk_ec2::types::{AttributeBooleanValue, AttributeValue, SecureBlobAttributeValue};
    let new_type = attrs::string(planned, "instance_type").filter(|_| changed(prior, planned, "instance_type"));
    let user_data = (changed(prior, planned, "user_data") || changed(prior, planned, "user_data_base64")).then(|| user_data_of(planned)).flatten();
    let ebs = attrs::bool(planned, "ebs_optimized").filter(|_| changed(prior, planned, "ebs_optimized"));
    let capacity = capacity_of(planned).filter(|_| block_changed(prior, planned, "capacity_reservation_specification"));
    if new_type.is_none() && user_data.is_none() && ebs.is_none() && capacity.is_none() {
        return Ok(());
    }
    let modify = |op: aws_sdk_ec2::operation::modify_instance_attribute::builders::ModifyInstanceAttributeFluentBuilder| async move {
        op.send().await.map(|_| ()).map_err(|e| api_error("ModifyInstanceAttribute", &e))
    };
    c.ec2.stop_instances().instance_ids(id).send().await.map_err(|e| api_error("StopInstances", &e))?;
    wait_instance(c, id, "stopped", limit).await?;
    if let Some(t) = new_type {
        modify(c.ec2.modify_instance_attribute().instance_id(id).instance_type(AttributeValue::builder().value(t).build())).await?;
    }
    if let Some(u) = user_data {
        // As terraform-provider-aws sends it: the base64 text is the blob (encoded once more on
        // the wire), which is what ModifyInstanceAttribute expects.
        let blob = SecureBlobAttributeValue::builder().value(aws_smithy_types::Blob::new(u.into_bytes())).build();
        modify(c.ec2.modify_instance_attribute().instance_id(id).user_data(blob)).await?;
    }
    if let Some(e) = ebs {
        modify(c.ec2.modify_instance_attribute().instance_id(id).ebs_optimized(AttributeBooleanValue::builder().value(e).build())).await?;
    }
    if let Some(spec) = capacity {
        c.ec2
            .modify_instance_capacity_reservation_attributes()
            .instance_id(id)
            .capacity_reservation_specification(spec)
            .send()
            .await
            .map_err(|e| api_error("ModifyInstanceCapacityReservationAttributes", &e))?;
    }
    c.ec2.start_instances().instance_ids(id).send().await.map_err(|e| api_error("StartInstances", &e))?;
    wait_instance(c, id, "running", limit).await
}

/// The attributes ModifyInstanceAttribute sets one a call on a running instance.
async fn update_attributes(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    use aws_sdk_ec2::types::AttributeBooleanValue;
    let flag = |k: &str| attrs::bool(planned, k).filter(|_| changed(prior, planned, k)).map(|v| AttributeBooleanValue::builder().value(v).build());
    let mut calls = Vec::new();
    let base = || c.ec2.modify_instance_attribute().instance_id(id);
    if let Some(v) = flag("disable_api_termination") {
        calls.push(base().disable_api_termination(v));
    }
    if let Some(v) = flag("disable_api_stop") {
        calls.push(base().disable_api_stop(v));
    }
    if let Some(v) = flag("source_dest_check") {
        calls.push(base().source_dest_check(v));
    }
    // In the API's attribute-and-value form, which AWS takes as well and moto knows.
    if let Some(v) = attrs::string(planned, "instance_initiated_shutdown_behavior").filter(|_| changed(prior, planned, "instance_initiated_shutdown_behavior"))
    {
        calls.push(base().attribute(aws_sdk_ec2::types::InstanceAttributeName::InstanceInitiatedShutdownBehavior).value(v));
    }
    let groups = |v: &Value| v.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(v, "vpc_security_group_ids"));
    if let Some(new) = groups(planned).filter(|g| !g.is_empty() && Some(g) != groups(prior).as_ref()) {
        calls.push(base().set_groups(Some(new)));
    }
    let mut diags = Vec::new();
    for call in calls {
        if let Err(e) = call.send().await {
            diags.push(api_error("ModifyInstanceAttribute", &e));
        }
    }
    diags
}

/// Monitoring, metadata, credit, maintenance and DNS name options: one call each when changed.
async fn update_options(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if let Some(on) = attrs::bool(planned, "monitoring").filter(|_| changed(prior, planned, "monitoring")) {
        let r = if on {
            c.ec2.monitor_instances().instance_ids(id).send().await.map(|_| ()).map_err(|e| api_error("MonitorInstances", &e))
        } else {
            c.ec2.unmonitor_instances().instance_ids(id).send().await.map(|_| ()).map_err(|e| api_error("UnmonitorInstances", &e))
        };
        diags.extend(r.err());
    }
    if let (true, Some(m)) = (block_changed(prior, planned, "metadata_options"), sub(planned, "metadata_options")) {
        let r = c
            .ec2
            .modify_instance_metadata_options()
            .instance_id(id)
            .set_http_endpoint(en(&m, "http_endpoint"))
            .set_http_protocol_ipv6(en(&m, "http_protocol_ipv6"))
            .set_http_put_response_hop_limit(int32(&m, "http_put_response_hop_limit"))
            .set_http_tokens(en(&m, "http_tokens"))
            .set_instance_metadata_tags(en(&m, "instance_metadata_tags"))
            .send()
            .await;
        diags.extend(r.err().map(|e| api_error("ModifyInstanceMetadataOptions", &e)));
    }
    if let (true, Some(credits)) =
        (block_changed(prior, planned, "credit_specification"), sub(planned, "credit_specification").and_then(|s| attrs::string(&s, "cpu_credits")))
    {
        let spec = aws_sdk_ec2::types::InstanceCreditSpecificationRequest::builder().instance_id(id).cpu_credits(credits).build();
        let r = c.ec2.modify_instance_credit_specification().instance_credit_specifications(spec).send().await;
        diags.extend(r.err().map(|e| api_error("ModifyInstanceCreditSpecification", &e)));
    }
    if let (true, Some(m)) = (block_changed(prior, planned, "maintenance_options"), sub(planned, "maintenance_options")) {
        let r = c.ec2.modify_instance_maintenance_options().instance_id(id).set_auto_recovery(en(&m, "auto_recovery")).send().await;
        diags.extend(r.err().map(|e| api_error("ModifyInstanceMaintenanceOptions", &e)));
    }
    if let (true, Some(o)) = (block_changed(prior, planned, "private_dns_name_options"), sub(planned, "private_dns_name_options")) {
        let r = c
            .ec2
            .modify_private_dns_name_options()
            .instance_id(id)
            .set_private_dns_hostname_type(en(&o, "hostname_type"))
            .set_enable_resource_name_dns_a_record(attrs::bool(&o, "enable_resource_name_dns_a_record"))
            .set_enable_resource_name_dns_aaaa_record(attrs::bool(&o, "enable_resource_name_dns_aaaa_record"))
            .send()
            .await;
        diags.extend(r.err().map(|e| api_error("ModifyPrivateDnsNameOptions", &e)));
    }
    diags
}

/// The IAM instance profile: associated, replaced or let go.
async fn update_profile(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    use aws_sdk_ec2::types::IamInstanceProfileSpecification as Spec;
    let (old, new) = (attrs::string(prior, "iam_instance_profile").filter(|s| !s.is_empty()), attrs::string(planned, "iam_instance_profile"));
    if old == new || planned.get_attr("iam_instance_profile").is_some_and(Value::is_unknown) {
        return Ok(());
    }
    let f = Filter::builder().name("instance-id").values(id).build();
    let out =
        c.ec2.describe_iam_instance_profile_associations().filters(f).send().await.map_err(|e| api_error("DescribeIamInstanceProfileAssociations", &e))?;
    let current = out
        .iam_instance_profile_associations()
        .iter()
        .find(|a| a.state().is_some_and(|s| matches!(s.as_str(), "associated" | "associating")))
        .and_then(|a| a.association_id())
        .map(str::to_string);
    match (current, new) {
        (Some(a), Some(n)) => c
            .ec2
            .replace_iam_instance_profile_association()
            .association_id(a)
            .iam_instance_profile(Spec::builder().name(n).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("ReplaceIamInstanceProfileAssociation", &e)),
        (None, Some(n)) => c
            .ec2
            .associate_iam_instance_profile()
            .instance_id(id)
            .iam_instance_profile(Spec::builder().name(n).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("AssociateIamInstanceProfile", &e)),
        (Some(a), None) => {
            c.ec2.disassociate_iam_instance_profile().association_id(a).send().await.map(|_| ()).map_err(|e| api_error("DisassociateIamInstanceProfile", &e))
        }
        (None, None) => Ok(()),
    }
}

/// The primary interface's secondary private addresses: assigned and unassigned as the set
/// changes.
async fn update_secondary_ips(c: &Clients, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    if planned.get_attr("secondary_private_ips").is_none_or(|v| v.is_unknown() || v.is_null()) {
        return Ok(());
    }
    let Some(eni) = attrs::string(prior, "primary_network_interface_id").or_else(|| attrs::string(planned, "primary_network_interface_id")) else {
        return Ok(());
    };
    let old: BTreeSet<String> = attrs::strings(prior, "secondary_private_ips").into_iter().collect();
    let new: BTreeSet<String> = attrs::strings(planned, "secondary_private_ips").into_iter().collect();
    let gone: Vec<String> = old.difference(&new).cloned().collect();
    let added: Vec<String> = new.difference(&old).cloned().collect();
    if !gone.is_empty() {
        c.ec2
            .unassign_private_ip_addresses()
            .network_interface_id(&eni)
            .set_private_ip_addresses(Some(gone))
            .send()
            .await
            .map_err(|e| api_error("UnassignPrivateIpAddresses", &e))?;
    }
    if !added.is_empty() {
        c.ec2
            .assign_private_ip_addresses()
            .network_interface_id(&eni)
            .set_private_ip_addresses(Some(added))
            .send()
            .await
            .map_err(|e| api_error("AssignPrivateIpAddresses", &e))?;
    }
    Ok(())
}

/// `volume_tags` on every volume of the instance.
async fn update_volume_tags(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let dropped = volume_tags_set(Some(prior)) && !volume_tags_set(Some(planned));
    if !(changed(prior, planned, "volume_tags") || dropped) {
        return Vec::new();
    }
    let found = match describe_instances(c, &[id.to_string()], Vec::new()).await {
        Ok(f) => f,
        Err(d) => return vec![d],
    };
    let volumes: Vec<String> =
        found.values().flat_map(|i| i.block_device_mappings().iter().filter_map(|m| m.ebs().and_then(|e| e.volume_id()).map(str::to_string))).collect();
    let as_all = |v: &Value| Value::object([("tags_all", v.get_attr("volume_tags").cloned().unwrap_or(Value::Null))]);
    let mut diags = Vec::new();
    for v in volumes {
        diags.extend(update_tags(c, &v, &as_all(prior), &as_all(planned)).await);
    }
    diags
}

/// After RunInstances: what it cannot take (source/destination checking off, secondary
/// addresses), the volumes' own tags and the password data's availability.
async fn converge_instance(c: &Clients, id: &str, planned: &Value) -> Result<(), Diagnostic> {
    if attrs::bool(planned, "source_dest_check") == Some(false) {
        let v = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build();
        c.ec2.modify_instance_attribute().instance_id(id).source_dest_check(v).send().await.map_err(|e| api_error("ModifyInstanceAttribute", &e))?;
    }
    if !attrs::strings(planned, "secondary_private_ips").is_empty() {
        let found = describe_instances(c, &[id.to_string()], Vec::new()).await?;
        let eni = found.get(id).and_then(primary_eni).and_then(|n| n.network_interface_id()).map(str::to_string);
        let prior = Value::object([("primary_network_interface_id", opt_string(eni.as_deref()))]);
        update_secondary_ips(c, &prior, planned).await?;
    }
    tag_volumes(c, id, planned).await
}

/// The planned object: terraform-provider-aws's defaults, the blocks AWS fills in, the
/// volumes, what replaces the instance, and the password data when asked for.
fn plan_instance(schema: &Schema, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
    let mut resp = plan_helpers::default_plan(schema, prior, config);
    plan_tags_all(&mut resp.planned, &c.default_tags());
    // Changed user data replaces the instance only when asked to.
    if let Some(p) = prior {
        let replace_data = attrs::bool(config, "user_data_replace_on_change") == Some(true);
        for k in ["user_data", "user_data_base64"] {
            let v = config.get_attr(k).cloned().unwrap_or(Value::Null);
            if replace_data && !v.is_null() && p.get_attr(k).is_some_and(|o| !o.equals(&v)) {
                resp.requires_replace.push(k.into());
            }
        }
    }
    for b in FORCE_NEW_BLOCKS {
        let (new, old) = (config.get_attr(b).and_then(Value::as_seq).unwrap_or(&[]), prior.and_then(|p| p.get_attr(b)));
        if !new.is_empty() && old.is_some_and(|o| !o.is_unknown() && !plan_block(&schema.blocks[b], Some(o), config.get_attr(b), true).equals(o)) {
            resp.requires_replace.push(b.into());
        }
    }
    let replacing = prior.is_none() || !resp.requires_replace.is_empty();
    let kept = prior.filter(|_| !replacing);
    let (root, replace_root) = plan_root(kept, config);
    let (ebs, replace_ebs) = plan_ebs(kept, config);
    resp.requires_replace.extend(replace_root.then(|| "root_block_device".to_string()));
    resp.requires_replace.extend(replace_ebs.then(|| "ebs_block_device".to_string()));
    let replacing = prior.is_none() || !resp.requires_replace.is_empty();
    let kept = prior.filter(|_| !replacing);
    if let Value::Object(m) = &mut resp.planned {
        m.insert("root_block_device".into(), root);
        m.insert("ebs_block_device".into(), ebs);
        for (name, b) in schema.blocks.iter().filter(|(n, _)| !matches!(n.as_str(), "root_block_device" | "ebs_block_device" | "timeouts")) {
            m.insert(name.clone(), plan_block(b, kept.and_then(|p| p.get_attr(name)), config.get_attr(name), COMPUTED_BLOCKS.contains(&name.as_str())));
        }
        let password = match (attrs::bool(config, "get_password_data"), kept.and_then(|p| p.get_attr("password_data"))) {
            (Some(true), Some(v)) if !v.is_null() => v.clone(),
            (Some(true), _) => Value::Unknown,
            _ => Value::Null,
        };
        m.insert("password_data".into(), password);
        // Both user data arguments are computed: the one left out stays empty.
        for (k, other) in [("user_data", "user_data_base64"), ("user_data_base64", "user_data")] {
            if config.get_attr(k).is_none_or(Value::is_null) && is_set(config, other) {
                m.insert(k.into(), Value::Null);
            }
        }
    }
    resp
}

/// Arguments that exclude each other, or need another, as terraform-provider-aws checks them.
fn validate_instance(config: &Value) -> Vec<Diagnostic> {
    let mut out = validate_timeouts(config);
    let set = |k: &str| is_set(config, k);
    let has_block = |k: &str| config.get_attr(k).and_then(Value::as_seq).is_some_and(|s| !s.is_empty());
    let conflict = |a: &str, b: &str, why: &str| conflict_error(a, b, Some(why));
    out.extend(conflicting(config, "user_data", "user_data_base64", Some("the user data is given once, as text or base64")));
    out.extend(conflicting(config, "ipv6_address_count", "ipv6_addresses", Some("AWS picks the count of addresses or takes the ones listed")));
    if (set("cpu_core_count") || set("cpu_threads_per_core")) && has_block("cpu_options") {
        out.push(conflict("cpu_core_count", "cpu_options", "cpu_options replaces the deprecated cpu_core_count and cpu_threads_per_core"));
    }
    if has_block("network_interface") {
        for k in [
            "associate_public_ip_address",
            "subnet_id",
            "private_ip",
            "vpc_security_group_ids",
            "security_groups",
            "ipv6_addresses",
            "ipv6_address_count",
            "source_dest_check",
        ]
        .into_iter()
        .filter(|k| set(k) && !(*k == "source_dest_check" && attrs::bool(config, k) == Some(true)))
        {
            out.push(conflict(k, "network_interface", "an attached interface carries its own subnet, addresses and groups"));
        }
    }
    let block_tags =
        ["root_block_device", "ebs_block_device"].iter().any(|b| config.get_attr(b).and_then(Value::as_seq).unwrap_or(&[]).iter().any(|i| is_set(i, "tags")));
    if set("volume_tags") && block_tags {
        out.push(conflict("volume_tags", "root_block_device.tags", "volume_tags gives every volume the same tags"));
    }
    if !set("ami") && !has_block("launch_template") && !config.get_attr("ami").is_some_and(Value::is_unknown) {
        out.push(Diagnostic::error("Missing required argument", "An instance needs ami, or a launch_template that gives it."));
    }
    if !set("instance_type") && !has_block("launch_template") && !config.get_attr("instance_type").is_some_and(Value::is_unknown) {
        out.push(Diagnostic::error("Missing required argument", "An instance needs instance_type, or a launch_template that gives it."));
    }
    if let Some(t) = single_block(config, "launch_template") {
        if is_set(&t, "id") == is_set(&t, "name") {
            out.push(
                Diagnostic::error("Invalid launch_template", "A launch_template names its template by id or by name: set exactly one.")
                    .with_path(attrs::at("launch_template")),
            );
        }
    }
    out
}

fn schema() -> Schema {
    let oc = AttrSchema::optional_computed;
    let strings = |set: bool| if set { Type::Set(Box::new(Type::String)) } else { Type::List(Box::new(Type::String)) };
    let mut schema = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("instance_state", AttrSchema::computed(Type::String))
        .attr("instance_lifecycle", AttrSchema::computed(Type::String))
        .attr("outpost_arn", AttrSchema::computed(Type::String))
        .attr("password_data", AttrSchema::computed(Type::String))
        .attr("primary_network_interface_id", AttrSchema::computed(Type::String))
        .attr("private_dns", AttrSchema::computed(Type::String))
        .attr("public_dns", AttrSchema::computed(Type::String))
        .attr("public_ip", AttrSchema::computed(Type::String))
        .attr("spot_instance_request_id", AttrSchema::computed(Type::String))
        .attr("get_password_data", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
        .attr("hibernation", AttrSchema::optional(Type::Bool))
        .attr("source_dest_check", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
        .attr("user_data_replace_on_change", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
        .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
        .attr("volume_tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .attr("ipv6_addresses", oc(strings(false)))
        .attr("secondary_private_ips", oc(strings(true)))
        .attr("security_groups", oc(strings(true)))
        .attr("vpc_security_group_ids", oc(strings(true)));
    let numbers = ["cpu_core_count", "cpu_threads_per_core", "ipv6_address_count", "placement_partition_number"];
    let bools = ["associate_public_ip_address", "disable_api_stop", "disable_api_termination", "ebs_optimized", "enable_primary_ipv6", "monitoring"];
    let strings_oc = [
        "ami",
        "availability_zone",
        "host_id",
        "host_resource_group_arn",
        "iam_instance_profile",
        "instance_initiated_shutdown_behavior",
        "instance_type",
        "key_name",
        "placement_group",
        "private_ip",
        "subnet_id",
        "tenancy",
        "user_data",
        "user_data_base64",
    ];
    for (names, ty) in [(&numbers[..], Type::Number), (&bools[..], Type::Bool), (&strings_oc[..], Type::String)] {
        for n in names {
            schema = schema.attr(n, oc(ty.clone()));
        }
    }
    for n in FORCE_NEW.iter().chain(["tenancy"].iter()) {
        if let Some(a) = schema.attributes.get_mut(*n) {
            a.force_new = true;
        }
    }
    let schema = schema
        .block("root_block_device", list1(root_schema()))
        .block("ebs_block_device", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: ebs_schema() });
    other_blocks(schema)
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Instance {
    fn name(&self) -> &'static str {
        "aws_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_instance(config)
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_instance(&self.schema(), c, prior, config)
    }

    /// RunInstances, then waiting until the instance runs.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let id = run_instance(c, p, token).await?;
        wait_instance(c, &id, "running", timeout(p, "create", Duration::from_secs(600))).await?;
        Ok(with_id(p, &id))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        Ok(converge_instance(c.clients()?, &attrs::req_string(created, "id")?, planned).await?)
    }

    /// One DescribeInstances and one DescribeVolumes for all; the attributes DescribeInstances
    /// lacks only on a full refresh or when not yet recorded.
    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_instances(c, &ids, Vec::new()).await?;
        let volumes = root_volumes(c, &found).await?;
        let live: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
        let live_objects: Vec<Value> = live.iter().filter_map(|id| ids.iter().position(|i| i == id).and_then(|n| objects.get(n)).cloned()).collect();
        let extra = extras(c, &live, &live_objects, full).await?;
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| found.get(id).map(|i| instance_value(c, i, &volumes, &extra.get(id).cloned().unwrap_or_default(), Some(p))))
            .collect())
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
        // Stop protection is lifted (or set) before the instance is stopped for what needs it.
        diagnostics.extend(update_attributes(c, &id, prior, planned).await);
        diagnostics.extend(update_stopped(c, &id, prior, planned, timeout(planned, "update", Duration::from_secs(600))).await.err());
        diagnostics.extend(update_options(c, &id, prior, planned).await);
        diagnostics.extend(update_profile(c, &id, prior, planned).await.err());
        diagnostics.extend(update_secondary_ips(c, prior, planned).await.err());
        diagnostics.extend(update_volume_tags(c, &id, prior, planned).await);
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
        let limit = timeout(prior, "delete", Duration::from_secs(1200));
        delete_retrying(&id, || async {
            match c.ec2.terminate_instances().instance_ids(&id).send().await {
                Ok(_) => wait_instance(c, &id, "terminated", limit).await.map_err(|d| (None, d)),
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
