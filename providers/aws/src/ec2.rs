//! EC2 networking: `aws_vpc`, `aws_subnet`, `aws_internet_gateway`, `aws_route_table`,
//! `aws_route_table_association`, `aws_security_group` and the `aws_availability_zones` data
//! source, with terraform-provider-aws names and exported
//! attributes. Refresh is one `DescribeVpcs` / `DescribeSubnets` per 200 ids and page (an id
//! filter, so a deleted object simply is not returned); a VPC's DNS attributes have no batch API
//! and cost one `DescribeVpcAttribute` each, run concurrently.
//!
//! EC2 has no idempotency token for these creates, so a create carries the intent tag
//! `infra:create-intent = <token>` until it is recorded; `adopt` finds an interrupted create by
//! that tag.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Tag, TagSpecification, Tenancy, VpcAttributeName};
use infra_provider::*;
use std::collections::BTreeMap;
use std::time::Duration;

const CHUNK: usize = 200;

pub fn schemas() -> BTreeMap<String, Schema> {
    let tags = || AttrSchema::optional(Type::Map(Box::new(Type::String)));
    let tags_all = || AttrSchema::computed(Type::Map(Box::new(Type::String)));
    let vpc = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("cidr_block", AttrSchema::required(Type::String).force_new())
        .attr("instance_tenancy", AttrSchema::optional_computed(Type::String).force_new())
        .attr("enable_dns_support", AttrSchema::optional_computed(Type::Bool))
        .attr("enable_dns_hostnames", AttrSchema::optional_computed(Type::Bool))
        .attr("tags", tags())
        .attr("tags_all", tags_all());
    let subnet = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("vpc_id", AttrSchema::required(Type::String).force_new())
        .attr("cidr_block", AttrSchema::required(Type::String).force_new())
        .attr("availability_zone", AttrSchema::optional_computed(Type::String).force_new())
        .attr("availability_zone_id", AttrSchema::computed(Type::String))
        .attr("map_public_ip_on_launch", AttrSchema::optional_computed(Type::Bool))
        .attr("tags", tags())
        .attr("tags_all", tags_all());
    let igw = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("vpc_id", AttrSchema::optional(Type::String))
        .attr("tags", tags())
        .attr("tags_all", tags_all());
    let route = Schema::new()
        .attr("cidr_block", AttrSchema::optional(Type::String))
        .attr("gateway_id", AttrSchema::optional(Type::String))
        .attr("nat_gateway_id", AttrSchema::optional(Type::String))
        .attr("network_interface_id", AttrSchema::optional(Type::String))
        .attr("vpc_peering_connection_id", AttrSchema::optional(Type::String));
    let route_table = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("vpc_id", AttrSchema::required(Type::String).force_new())
        .attr("tags", tags())
        .attr("tags_all", tags_all())
        .block("route", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: route });
    let association = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("route_table_id", AttrSchema::required(Type::String))
        .attr("subnet_id", AttrSchema::optional(Type::String).force_new())
        .attr("gateway_id", AttrSchema::optional(Type::String).force_new());
    let standalone_route = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("route_table_id", AttrSchema::required(Type::String).force_new())
        .attr("destination_cidr_block", AttrSchema::required(Type::String).force_new())
        .attr("gateway_id", AttrSchema::optional(Type::String))
        .attr("nat_gateway_id", AttrSchema::optional(Type::String))
        .attr("network_interface_id", AttrSchema::optional(Type::String))
        .attr("vpc_peering_connection_id", AttrSchema::optional(Type::String))
        .attr("origin", AttrSchema::computed(Type::String))
        .attr("state", AttrSchema::computed(Type::String));
    BTreeMap::from([
        ("aws_route".to_string(), standalone_route),
        ("aws_vpc".to_string(), vpc),
        ("aws_subnet".to_string(), subnet),
        ("aws_internet_gateway".to_string(), igw),
        ("aws_route_table".to_string(), route_table),
        ("aws_route_table_association".to_string(), association),
        ("aws_security_group".to_string(), security_group_schema()),
        ("aws_vpc_security_group_ingress_rule".to_string(), sg_rule_schema()),
        ("aws_vpc_security_group_egress_rule".to_string(), sg_rule_schema()),
        ("aws_instance".to_string(), instance_schema()),
    ])
}

pub fn data_schemas() -> BTreeMap<String, Schema> {
    let zones = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("state", AttrSchema::optional(Type::String))
        .attr("names", AttrSchema::computed(Type::List(Box::new(Type::String))))
        .attr("zone_ids", AttrSchema::computed(Type::List(Box::new(Type::String))));
    let filter = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("values", AttrSchema::required(Type::List(Box::new(Type::String))));
    let ami = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("image_id", AttrSchema::computed(Type::String))
        .attr("owners", AttrSchema::optional(Type::List(Box::new(Type::String))))
        .attr("most_recent", AttrSchema::optional(Type::Bool))
        .attr("name_regex", AttrSchema::optional(Type::String))
        .attr("name", AttrSchema::computed(Type::String))
        .attr("description", AttrSchema::computed(Type::String))
        .attr("architecture", AttrSchema::computed(Type::String))
        .attr("creation_date", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .block("filter", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: filter.clone() });
    let filter_block = || BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: filter.clone() };
    let identity = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("account_id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("user_id", AttrSchema::computed(Type::String));
    let vpc = Schema::new()
        .attr("id", AttrSchema::optional_computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("cidr_block", AttrSchema::optional_computed(Type::String))
        .attr("default", AttrSchema::optional_computed(Type::Bool))
        .attr("state", AttrSchema::optional_computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("instance_tenancy", AttrSchema::computed(Type::String))
        .attr("enable_dns_support", AttrSchema::computed(Type::Bool))
        .attr("enable_dns_hostnames", AttrSchema::computed(Type::Bool))
        .attr("tags", AttrSchema::optional_computed(Type::Map(Box::new(Type::String))))
        .block("filter", filter_block());
    let subnets = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("ids", AttrSchema::computed(Type::List(Box::new(Type::String))))
        .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .block("filter", filter_block());
    BTreeMap::from([
        ("aws_availability_zones".to_string(), zones),
        ("aws_ami".to_string(), ami),
        ("aws_caller_identity".to_string(), identity),
        ("aws_vpc".to_string(), vpc),
        ("aws_subnets".to_string(), subnets),
    ])
}

/// `aws_ami`: images by owners and filters; several matches need `most_recent`, as in
/// terraform-provider-aws.
async fn read_ami(c: &Clients, cfg: &Value) -> ReadDataResponse {
    let fail = |d: Diagnostic| ReadDataResponse { state: Value::Null, diagnostics: vec![d] };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_seq).map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let mut call = c.ec2.describe_images().set_owners(Some(strings(cfg.get_attr("owners"))).filter(|o| !o.is_empty()));
    for f in cfg.get_attr("filter").and_then(Value::as_seq).unwrap_or(&[]) {
        call = call.filters(Filter::builder().name(attrs::string(f, "name").unwrap_or_default()).set_values(Some(strings(f.get_attr("values")))).build());
    }
    let out = match call.send().await {
        Ok(o) => o,
        Err(e) => return fail(api_error("DescribeImages", &e)),
    };
    let name_regex = match attrs::string(cfg, "name_regex").map(|r| name_matcher(&r)) {
        Some(Err(e)) => return fail(err("Invalid name_regex", format!("{e}.")).with_path(vec![PathStep::Attr("name_regex".into())])),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let mut images: Vec<&aws_sdk_ec2::types::Image> =
        out.images().iter().filter(|i| name_regex.as_ref().is_none_or(|r| r(i.name().unwrap_or_default()))).collect();
    images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
    let chosen = match images.len() {
        0 => {
            return fail(err(
                "Your query returned no results",
                "No AMI matches the owners and filters given. Please change your search criteria and try again.".into(),
            ))
        }
        1 => images[0],
        _ if attrs::bool(cfg, "most_recent") == Some(true) => images[images.len() - 1],
        n => {
            return fail(err(
                "Your query returned more than one result",
                format!("{n} AMIs match. Please try a more specific search criteria, or set most_recent = true."),
            ))
        }
    };
    let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    let mut m = cfg.as_map().cloned().unwrap_or_default();
    m.insert("id".into(), opt(chosen.image_id()));
    m.insert("image_id".into(), opt(chosen.image_id()));
    m.insert("name".into(), opt(chosen.name()));
    m.insert("description".into(), opt(chosen.description()));
    m.insert("architecture".into(), opt(chosen.architecture().map(|a| a.as_str())));
    m.insert("creation_date".into(), opt(chosen.creation_date()));
    m.insert("owner_id".into(), opt(chosen.owner_id()));
    ReadDataResponse { state: Value::Object(m.into()), diagnostics: Vec::new() }
}

/// A name matcher for `name_regex`, on the regex crate the language already uses.
fn name_matcher(pattern: &str) -> Result<impl Fn(&str) -> bool, String> {
    let re = regex::Regex::new(pattern).map_err(|e| format!("{pattern:?} is not a valid regular expression: {e}"))?;
    Ok(move |s: &str| re.is_match(s))
}

/// Data sources: `aws_availability_zones` (optionally by `state`).
pub async fn read_data(c: &Clients, req: ReadDataRequest) -> ReadDataResponse {
    let fail = |d: Diagnostic| ReadDataResponse { state: Value::Null, diagnostics: vec![d] };
    match req.type_name.as_str() {
        "aws_ami" => return read_ami(c, &req.config).await,
        "aws_caller_identity" => {
            return match c.sts.get_caller_identity().send().await {
                Ok(o) => ReadDataResponse {
                    state: Value::object([
                        ("id", opt_string(o.account())),
                        ("account_id", opt_string(o.account())),
                        ("arn", opt_string(o.arn())),
                        ("user_id", opt_string(o.user_id())),
                    ]),
                    diagnostics: Vec::new(),
                },
                Err(e) => fail(api_error("GetCallerIdentity", &e)),
            }
        }
        "aws_vpc" => {
            let cfg = &req.config;
            return match describe_vpcs_matching(c, cfg).await {
                Ok(mut vpcs) if vpcs.len() == 1 => ReadDataResponse { state: vpcs.remove(0), diagnostics: Vec::new() },
                Ok(vpcs) => fail(err(
                    "Your query returned no results",
                    format!("{} VPCs match the criteria; aws_vpc needs exactly one. Please change your search criteria and try again.", vpcs.len()),
                )),
                Err(d) => fail(d),
            };
        }
        "aws_subnets" => {
            let mut filters = config_filters(&req.config);
            filters.extend(tag_filters(&req.config));
            return match describe_subnets(c, &[], filters).await {
                Ok(found) => ReadDataResponse {
                    state: Value::object([
                        ("id", Value::string(c.region.clone())),
                        ("ids", Value::List(found.into_keys().map(Value::string).collect())),
                        ("tags", req.config.get_attr("tags").cloned().unwrap_or(Value::Null)),
                        ("filter", req.config.get_attr("filter").cloned().unwrap_or(Value::Set(Vec::new()))),
                    ]),
                    diagnostics: Vec::new(),
                },
                Err(d) => fail(d),
            };
        }
        _ => {}
    }
    if req.type_name != "aws_availability_zones" {
        return ReadDataResponse {
            state: Value::Null,
            diagnostics: vec![err("Unknown data source", format!("The aws provider has no data source {}.", req.type_name))],
        };
    }
    let state = attrs::string(&req.config, "state");
    let mut call = c.ec2.describe_availability_zones();
    if let Some(s) = &state {
        call = call.filters(Filter::builder().name("state").values(s).build());
    }
    match call.send().await {
        Ok(out) => {
            let mut zones: Vec<(String, String)> =
                out.availability_zones().iter().map(|z| (z.zone_name().unwrap_or_default().to_string(), z.zone_id().unwrap_or_default().to_string())).collect();
            zones.sort();
            let names = Value::List(zones.iter().map(|(n, _)| Value::string(n.clone())).collect());
            let ids = Value::List(zones.iter().map(|(_, i)| Value::string(i.clone())).collect());
            let state = Value::object([
                ("id", Value::string(c.region.clone())),
                ("names", names),
                ("state", state.map(Value::string).unwrap_or(Value::Null)),
                ("zone_ids", ids),
            ]);
            ReadDataResponse { state, diagnostics: Vec::new() }
        }
        Err(e) => ReadDataResponse { state: Value::Null, diagnostics: vec![api_error("DescribeAvailabilityZones", &e)] },
    }
}

fn valid_ipv4_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((ip, len)) => ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32),
        None => false,
    }
}

pub fn validate(req: &ValidateRequest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if is_rule_type(&req.type_name).is_some() {
        let sources = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"];
        let set = sources.iter().filter(|k| req.config.get_attr(k).is_some_and(|v| !v.is_null())).count();
        if set != 1 && req.config.is_wholly_known() {
            out.push(err(
                "Invalid rule source",
                format!("{} needs exactly one of cidr_ipv4, cidr_ipv6, prefix_list_id or referenced_security_group_id; {set} are set.", req.type_name),
            ));
        }
    }
    if let Some(c) = attrs::string(&req.config, "cidr_block") {
        if !valid_ipv4_cidr(&c) {
            out.push(
                err("Invalid CIDR block", format!("{c:?} is not an IPv4 CIDR block such as 10.0.0.0/16.")).with_path(vec![PathStep::Attr("cidr_block".into())]),
            );
        }
    }
    if req.type_name == "aws_vpc" {
        if let Some(len) = attrs::string(&req.config, "cidr_block").and_then(|c| c.split_once('/').and_then(|(_, l)| l.parse::<u8>().ok())) {
            if !(16..=28).contains(&len) {
                out.push(
                    err("Invalid CIDR block", format!("A VPC's CIDR block must be between /16 and /28, not /{len}."))
                        .with_path(vec![PathStep::Attr("cidr_block".into())]),
                );
            }
        }
    }
    out
}

pub fn plan(req: PlanRequest, default_tags: &BTreeMap<String, String>) -> PlanResponse {
    let schema = schemas().remove(&req.type_name).unwrap_or_default();
    let mut cfg = req.config.clone();
    if let Value::Object(m) = &mut cfg {
        match req.type_name.as_str() {
            "aws_vpc" => {
                set_default(m, "instance_tenancy", Value::string("default"));
                set_default(m, "enable_dns_support", Value::Bool(true));
                set_default(m, "enable_dns_hostnames", Value::Bool(false));
            }
            "aws_subnet" => set_default(m, "map_public_ip_on_launch", Value::Bool(false)),
            "aws_security_group" => set_default(m, "description", Value::string(SG_DEFAULT_DESCRIPTION)),
            t if is_rule_type(t).is_some() => {
                if let Some(p) = m.get("ip_protocol").and_then(|v| v.as_str().map(normalize_protocol)) {
                    if p == "-1" {
                        m.insert("from_port".into(), Value::Null);
                        m.insert("to_port".into(), Value::Null);
                    }
                    m.insert("ip_protocol".into(), Value::string(p));
                }
            }
            _ => {}
        }
    }
    let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &cfg);
    if let (Value::Object(m), "aws_security_group") = (&mut resp.planned, req.type_name.as_str()) {
        canonical_rules_in(m);
        // As in terraform-provider-aws, a group with no inline blocks of a direction does not
        // manage that direction's rules (standalone rule resources may), so they follow AWS.
        for block in ["ingress", "egress"] {
            if m.get(block).and_then(Value::as_seq).is_some_and(<[Value]>::is_empty) {
                let follow = req.prior.as_ref().and_then(|p| p.get_attr(block)).cloned().unwrap_or(Value::Unknown);
                m.insert(block.to_string(), follow);
            }
        }
    }
    if let (Value::Object(m), "aws_route_table") = (&mut resp.planned, req.type_name.as_str()) {
        // As in terraform-provider-aws, a table with no inline `route` blocks leaves its routes
        // to `aws_route` resources.
        if m.get("route").and_then(Value::as_seq).is_some_and(<[Value]>::is_empty) {
            m.insert("route".into(), req.prior.as_ref().and_then(|p| p.get_attr("route")).cloned().unwrap_or(Value::Unknown));
        }
    }
    plan_tags_all(&mut resp.planned, default_tags);
    resp
}

fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>, token: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.tags(Tag::builder().key(INTENT_TAG).value(token).build()).build()
}

fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))))
}

fn vpc_value(c: &Clients, v: &aws_sdk_ec2::types::Vpc, dns: (Option<bool>, Option<bool>), prior: Option<&Value>) -> Value {
    let id = v.vpc_id().unwrap_or_default().to_string();
    let owner = v.owner_id().unwrap_or_default().to_string();
    let all = tags_of(v.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region))),
        ("cidr_block", Value::string(v.cidr_block().unwrap_or_default())),
        ("enable_dns_hostnames", dns.1.map(Value::Bool).unwrap_or(Value::Null)),
        ("enable_dns_support", dns.0.map(Value::Bool).unwrap_or(Value::Null)),
        ("id", Value::string(id)),
        ("instance_tenancy", Value::string(v.instance_tenancy().map(|t| t.as_str()).unwrap_or("default"))),
        ("owner_id", Value::string(owner)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
    ])
}

fn subnet_value(v: &aws_sdk_ec2::types::Subnet, prior: Option<&Value>, defaults: &BTreeMap<String, String>) -> Value {
    let all = tags_of(v.tags());
    Value::object([
        ("arn", Value::string(v.subnet_arn().unwrap_or_default())),
        ("availability_zone", Value::string(v.availability_zone().unwrap_or_default())),
        ("availability_zone_id", Value::string(v.availability_zone_id().unwrap_or_default())),
        ("cidr_block", Value::string(v.cidr_block().unwrap_or_default())),
        ("id", Value::string(v.subnet_id().unwrap_or_default())),
        ("map_public_ip_on_launch", Value::Bool(v.map_public_ip_on_launch().unwrap_or(false))),
        ("owner_id", Value::string(v.owner_id().unwrap_or_default())),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), defaults)),
        ("tags_all", map_value(&all)),
        ("vpc_id", Value::string(v.vpc_id().unwrap_or_default())),
    ])
}

async fn dns_attributes(c: &Clients, id: &str) -> Result<(Option<bool>, Option<bool>), Diagnostic> {
    let support = c
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(VpcAttributeName::EnableDnsSupport)
        .send()
        .await
        .map_err(|e| api_error("DescribeVpcAttribute", &e))?;
    let hostnames = c
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .map_err(|e| api_error("DescribeVpcAttribute", &e))?;
    Ok((support.enable_dns_support().and_then(|a| a.value()), hostnames.enable_dns_hostnames().and_then(|a| a.value())))
}

/// One batched `Describe*` call family: objects among `ids` (an id filter, chunked, all pages)
/// or, with no ids, everything matching `filters`, keyed by id. Every EC2 type reads this way.
macro_rules! describe_by_ids {
    ($name:ident, $op:ident, $op_name:literal, $id_filter:literal, $items:ident, $id:ident, $ty:ty) => {
        async fn $name(c: &Clients, ids: &[String], filters: Vec<Filter>) -> Result<BTreeMap<String, $ty>, Diagnostic> {
            let mut out = BTreeMap::new();
            let chunks: Vec<Vec<String>> = if ids.is_empty() { vec![Vec::new()] } else { ids.chunks(CHUNK).map(<[String]>::to_vec).collect() };
            for chunk in chunks {
                let mut req = c.ec2.$op().set_filters(Some(filters.clone()));
                if !chunk.is_empty() {
                    req = req.filters(Filter::builder().name($id_filter).set_values(Some(chunk)).build());
                }
                let mut pages = req.into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| api_error($op_name, &e))?;
                    for item in page.$items() {
                        if let Some(id) = item.$id() {
                            out.insert(id.to_string(), item.clone());
                        }
                    }
                }
            }
            Ok(out)
        }
    };
}

describe_by_ids!(describe_vpcs, describe_vpcs, "DescribeVpcs", "vpc-id", vpcs, vpc_id, aws_sdk_ec2::types::Vpc);
describe_by_ids!(describe_subnets, describe_subnets, "DescribeSubnets", "subnet-id", subnets, subnet_id, aws_sdk_ec2::types::Subnet);
describe_by_ids!(
    describe_route_tables,
    describe_route_tables,
    "DescribeRouteTables",
    "route-table-id",
    route_tables,
    route_table_id,
    aws_sdk_ec2::types::RouteTable
);

const ROUTE_TARGETS: [&str; 4] = ["gateway_id", "nat_gateway_id", "network_interface_id", "vpc_peering_connection_id"];

/// Routes as configured objects: the implicit `local` route (origin CreateRouteTable) is not
/// part of the configuration, as in terraform-provider-aws.
fn routes_value(rt: &aws_sdk_ec2::types::RouteTable) -> Value {
    let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    let routes = rt
        .routes()
        .iter()
        .filter(|r| r.origin().map(|o| o.as_str()) != Some("CreateRouteTable") && r.gateway_id() != Some("local"))
        .map(|r| {
            Value::object([
                ("cidr_block", opt(r.destination_cidr_block())),
                ("gateway_id", opt(r.gateway_id())),
                ("nat_gateway_id", opt(r.nat_gateway_id())),
                ("network_interface_id", opt(r.network_interface_id())),
                ("vpc_peering_connection_id", opt(r.vpc_peering_connection_id())),
            ])
        })
        .collect();
    Value::set(routes)
}

fn route_table_value(c: &Clients, rt: &aws_sdk_ec2::types::RouteTable, prior: Option<&Value>) -> Value {
    let id = rt.route_table_id().unwrap_or_default().to_string();
    let owner = rt.owner_id().unwrap_or_default().to_string();
    let all = tags_of(rt.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:route-table/{id}", c.region))),
        ("id", Value::string(id)),
        ("owner_id", Value::string(owner)),
        ("route", routes_value(rt)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", Value::string(rt.vpc_id().unwrap_or_default())),
    ])
}

/// A route's destination and its target, for diffing route sets.
fn route_key(r: &Value) -> (String, Vec<(String, String)>) {
    let dest = attrs::string(r, "cidr_block").unwrap_or_default();
    let targets = ROUTE_TARGETS.iter().filter_map(|k| attrs::string(r, k).map(|v| (k.to_string(), v))).collect();
    (dest, targets)
}

async fn put_route(c: &Clients, table: &str, route: &Value, replace: bool) -> Result<(), Diagnostic> {
    let (dest, targets) = route_key(route);
    let get = |k: &str| targets.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if replace {
        c.ec2
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block(&dest)
            .set_gateway_id(get("gateway_id"))
            .set_nat_gateway_id(get("nat_gateway_id"))
            .set_network_interface_id(get("network_interface_id"))
            .set_vpc_peering_connection_id(get("vpc_peering_connection_id"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("ReplaceRoute", &e))
    } else {
        c.ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(&dest)
            .set_gateway_id(get("gateway_id"))
            .set_nat_gateway_id(get("nat_gateway_id"))
            .set_network_interface_id(get("network_interface_id"))
            .set_vpc_peering_connection_id(get("vpc_peering_connection_id"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("CreateRoute", &e))
    }
}

/// Brings a table's routes from `old` to `new`, keyed by destination.
async fn sync_routes(c: &Clients, table: &str, old: &[Value], new: &[Value]) -> Vec<Diagnostic> {
    let old: BTreeMap<String, &Value> = old.iter().map(|r| (route_key(r).0, r)).collect();
    let new: BTreeMap<String, &Value> = new.iter().map(|r| (route_key(r).0, r)).collect();
    let mut diags = Vec::new();
    for (dest, r) in &new {
        let result = match old.get(dest) {
            None => put_route(c, table, r, false).await,
            Some(o) if route_key(o) != route_key(r) => put_route(c, table, r, true).await,
            Some(_) => Ok(()),
        };
        if let Err(d) = result {
            diags.push(d);
        }
    }
    for dest in old.keys().filter(|d| !new.contains_key(*d)) {
        if let Err(e) = c.ec2.delete_route().route_table_id(table).destination_cidr_block(dest).send().await {
            diags.push(api_error("DeleteRoute", &e));
        }
    }
    diags
}

/// Associations by id, from the route tables that hold them (one call per 200 ids).
async fn describe_associations(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, aws_sdk_ec2::types::RouteTableAssociation>, Diagnostic> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let filter = Filter::builder().name("association.route-table-association-id").set_values(Some(chunk.to_vec())).build();
        let mut pages = c.ec2.describe_route_tables().filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeRouteTables", &e))?;
            for rt in page.route_tables() {
                for a in rt.associations() {
                    if let Some(id) = a.route_table_association_id().filter(|id| chunk.iter().any(|c| c == id)) {
                        out.insert(id.to_string(), a.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

fn association_value(a: &aws_sdk_ec2::types::RouteTableAssociation) -> Value {
    let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    Value::object([
        ("gateway_id", opt(a.gateway_id())),
        ("id", Value::string(a.route_table_association_id().unwrap_or_default())),
        ("route_table_id", Value::string(a.route_table_id().unwrap_or_default())),
        ("subnet_id", opt(a.subnet_id())),
    ])
}

/// Associates a table with a subnet or gateway. Associating what is already associated with
/// the same table counts as done, so a create retried after a crash does not fail.
async fn associate(c: &Clients, p: &Value) -> Result<String, Diagnostic> {
    let table = attrs::string(p, "route_table_id").unwrap_or_default();
    let (subnet, gateway) = (attrs::string(p, "subnet_id"), attrs::string(p, "gateway_id"));
    match c.ec2.associate_route_table().route_table_id(&table).set_subnet_id(subnet.clone()).set_gateway_id(gateway.clone()).send().await {
        Ok(out) => Ok(out.association_id().unwrap_or_default().to_string()),
        Err(e) if e.code() == Some("Resource.AlreadyAssociated") => {
            let found = describe_route_tables(c, &[table.clone()], Vec::new()).await?;
            found
                .get(&table)
                .and_then(|rt| rt.associations().iter().find(|a| a.subnet_id().map(str::to_string) == subnet && a.gateway_id().map(str::to_string) == gateway))
                .and_then(|a| a.route_table_association_id().map(str::to_string))
                .ok_or_else(|| api_error("AssociateRouteTable", &e))
        }
        Err(e) => Err(api_error("AssociateRouteTable", &e)),
    }
}

describe_by_ids!(
    describe_igws,
    describe_internet_gateways,
    "DescribeInternetGateways",
    "internet-gateway-id",
    internet_gateways,
    internet_gateway_id,
    aws_sdk_ec2::types::InternetGateway
);

fn igw_value(c: &Clients, g: &aws_sdk_ec2::types::InternetGateway, prior: Option<&Value>) -> Value {
    let id = g.internet_gateway_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let all = tags_of(g.tags());
    let vpc = g.attachments().iter().find_map(|a| a.vpc_id()).map(Value::string).unwrap_or(Value::Null);
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:internet-gateway/{id}", c.region))),
        ("id", Value::string(id)),
        ("owner_id", Value::string(owner)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", vpc),
    ])
}

async fn attach_igw(c: &Clients, id: &str, vpc: &str) -> Result<(), Diagnostic> {
    c.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await.map(|_| ()).map_err(|e| api_error("AttachInternetGateway", &e))
}

async fn detach_igw(c: &Clients, id: &str, vpc: &str) -> Result<(), Diagnostic> {
    match c.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code().is_some_and(|code| code == "Gateway.NotAttached" || code.ends_with(".NotFound")) => Ok(()),
        Err(e) => Err(api_error("DetachInternetGateway", &e)),
    }
}

/// Reads VPCs with their DNS attributes (one call per VPC and attribute, concurrently).
async fn read_vpcs(c: &Clients, ids: &[String], priors: &[Option<&Value>], filters: Vec<Filter>, full: bool) -> Result<Vec<Option<Value>>, Diagnostic> {
    let found = describe_vpcs(c, ids, filters).await?;
    // The DNS settings cost two calls per VPC: a routine refresh keeps the recorded ones.
    let recorded = |id: &String| -> Option<(Option<bool>, Option<bool>)> {
        let prior = ids.iter().position(|i| i == id).and_then(|i| priors.get(i).copied().flatten())?;
        Some((Some(attrs::bool(prior, "enable_dns_support")?), Some(attrs::bool(prior, "enable_dns_hostnames")?)))
    };
    let mut dns: BTreeMap<String, (Option<bool>, Option<bool>)> =
        if full { BTreeMap::new() } else { found.keys().filter_map(|id| Some((id.clone(), recorded(id)?))).collect() };
    let missing: Vec<String> = found.keys().filter(|id| !dns.contains_key(*id)).cloned().collect();
    dns.extend(per_object(c, &missing, |c, id| async move { dns_attributes(&c, &id).await }).await?);
    Ok(ids.iter().zip(priors).map(|(id, prior)| found.get(id).map(|v| vpc_value(c, v, dns.get(id).copied().unwrap_or_default(), *prior))).collect())
}

pub async fn read_many(c: &Clients, req: ReadManyRequest) -> ReadManyResponse {
    let ids: Vec<String> = req.objects.iter().map(id_of).collect();
    let priors: Vec<Option<&Value>> = req.objects.iter().map(Some).collect();
    let result = match req.type_name.as_str() {
        "aws_vpc" => read_vpcs(c, &ids, &priors, Vec::new(), req.full).await,
        "aws_subnet" => describe_subnets(c, &ids, Vec::new())
            .await
            .map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|s| subnet_value(s, *p, &c.default_tags))).collect()),
        "aws_internet_gateway" => {
            describe_igws(c, &ids, Vec::new()).await.map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|g| igw_value(c, g, *p))).collect())
        }
        "aws_route_table" => describe_route_tables(c, &ids, Vec::new())
            .await
            .map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|rt| route_table_value(c, rt, *p))).collect()),
        "aws_route_table_association" => describe_associations(c, &ids).await.map(|found| ids.iter().map(|id| found.get(id).map(association_value)).collect()),
        "aws_route" => read_routes(c, &ids).await,
        t if is_rule_type(t).is_some() => describe_sg_rules(c, &ids, Vec::new())
            .await
            .map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|r| sg_rule_value(c, r, *p))).collect()),
        "aws_security_group" => describe_security_groups(c, &ids, Vec::new())
            .await
            .map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|g| security_group_value(c, g, *p))).collect()),
        "aws_instance" => describe_instances(c, &ids, Vec::new())
            .await
            .map(|found| ids.iter().zip(&priors).map(|(id, p)| found.get(id).map(|i| instance_value(c, i, *p))).collect()),
        other => Err(err("Unknown resource type", format!("The aws provider has no resource type {other}."))),
    };
    match result {
        Ok(objects) => ReadManyResponse { objects, diagnostics: Vec::new() },
        Err(d) => ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
    }
}

async fn read_one(c: &Clients, type_name: &str, id: &str, prior: Option<&Value>) -> Result<Option<Value>, Diagnostic> {
    let ids = [id.to_string()];
    match type_name {
        "aws_vpc" => Ok(read_vpcs(c, &ids, &[prior], Vec::new(), true).await?.pop().flatten()),
        "aws_subnet" => Ok(describe_subnets(c, &ids, Vec::new()).await?.get(id).map(|s| subnet_value(s, prior, &c.default_tags))),
        "aws_internet_gateway" => Ok(describe_igws(c, &ids, Vec::new()).await?.get(id).map(|g| igw_value(c, g, prior))),
        "aws_route_table" => Ok(describe_route_tables(c, &ids, Vec::new()).await?.get(id).map(|rt| route_table_value(c, rt, prior))),
        "aws_security_group" => Ok(describe_security_groups(c, &ids, Vec::new()).await?.get(id).map(|g| security_group_value(c, g, prior))),
        t if is_rule_type(t).is_some() => Ok(describe_sg_rules(c, &ids, Vec::new()).await?.get(id).map(|r| sg_rule_value(c, r, prior))),
        "aws_route_table_association" => Ok(describe_associations(c, &ids).await?.get(id).map(association_value)),
        "aws_route" => Ok(read_routes(c, &ids).await?.pop().flatten()),
        "aws_instance" => Ok(describe_instances(c, &ids, Vec::new()).await?.get(id).map(|i| instance_value(c, i, prior))),
        other => Err(err("Unknown resource type", format!("The aws provider has no resource type {other}."))),
    }
}

async fn set_vpc_dns(c: &Clients, id: &str, support: Option<bool>, hostnames: Option<bool>) -> Result<(), Diagnostic> {
    if let Some(s) = support {
        c.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(s).build())
            .send()
            .await
            .map_err(|e| api_error("ModifyVpcAttribute", &e))?;
    }
    if let Some(h) = hostnames {
        c.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(h).build())
            .send()
            .await
            .map_err(|e| api_error("ModifyVpcAttribute", &e))?;
    }
    Ok(())
}

async fn drop_intent_tag(c: &Clients, id: &str) -> Result<(), Diagnostic> {
    c.ec2.delete_tags().resources(id).tags(Tag::builder().key(INTENT_TAG).build()).send().await.map(|_| ()).map_err(|e| api_error("DeleteTags", &e))
}

/// Finishes a create: the settings CreateVpc/CreateSubnet cannot take, and the object read
/// back. On failure the object exists: return it with the error. The intent tag stays until
/// the engine confirms the object is recorded (`confirm_create`).
async fn finish_create(c: &Clients, type_name: &str, id: &str, planned: &Value) -> CreateResponse {
    let mut diagnostics = Vec::new();
    let step = match type_name {
        "aws_vpc" => {
            let support = attrs::bool(planned, "enable_dns_support").filter(|s| !s);
            let hostnames = attrs::bool(planned, "enable_dns_hostnames").filter(|h| *h);
            set_vpc_dns(c, id, support, hostnames).await
        }
        "aws_internet_gateway" => match attrs::string(planned, "vpc_id") {
            Some(vpc) => attach_igw(c, id, &vpc).await,
            None => Ok(()),
        },
        "aws_security_group" => {
            // AWS gives every new VPC group an allow-all egress rule; the configuration decides.
            let mut start = Value::object([("ingress", Value::Null), ("egress", Value::Null)]);
            if attrs::string(planned, "vpc_id").is_some() || planned.get_attr("vpc_id").is_some_and(Value::is_unknown) {
                start = Value::object([("ingress", Value::Null), ("egress", rules_value(&[default_egress()]))]);
            }
            match sync_rules(c, id, &start, planned).await.into_iter().next() {
                Some(d) => Err(d),
                None => Ok(()),
            }
        }
        "aws_route_table" => {
            let routes = planned.get_attr("route").and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
            match sync_routes(c, id, &[], &routes).await.into_iter().next() {
                Some(d) => Err(d),
                None => Ok(()),
            }
        }
        _ if attrs::bool(planned, "map_public_ip_on_launch") == Some(true) => c
            .ec2
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("ModifySubnetAttribute", &e)),
        _ => Ok(()),
    };
    if let Err(d) = step {
        diagnostics.push(d);
    }
    match read_one(c, type_name, id, Some(planned)).await {
        Ok(Some(v)) => CreateResponse { state: Some(v), diagnostics },
        Ok(None) => {
            diagnostics.push(err("Object vanished", format!("{type_name} {id} was created but cannot be read back.")));
            CreateResponse { state: None, diagnostics }
        }
        Err(d) => {
            diagnostics.push(d);
            // Record what we know, so the object is never orphaned.
            let mut fallback = planned.deep_unmark();
            if let Value::Object(m) = &mut fallback {
                m.insert("id".into(), Value::string(id));
            }
            CreateResponse { state: Some(fallback), diagnostics }
        }
    }
}

pub async fn create(c: &Clients, req: CreateRequest) -> CreateResponse {
    let p = req.planned.deep_unmark();
    let tags_all = string_map(p.get_attr("tags_all"));
    let created = match req.type_name.as_str() {
        "aws_vpc" => c
            .ec2
            .create_vpc()
            .cidr_block(attrs::string(&p, "cidr_block").unwrap_or_default())
            .instance_tenancy(Tenancy::from(attrs::string(&p, "instance_tenancy").unwrap_or_else(|| "default".into()).as_str()))
            .tag_specifications(tag_spec(ResourceType::Vpc, &tags_all, &req.idempotency_token))
            .send()
            .await
            .map_err(|e| api_error("CreateVpc", &e))
            .map(|o| o.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string()),
        "aws_subnet" => c
            .ec2
            .create_subnet()
            .vpc_id(attrs::string(&p, "vpc_id").unwrap_or_default())
            .cidr_block(attrs::string(&p, "cidr_block").unwrap_or_default())
            .set_availability_zone(attrs::string(&p, "availability_zone"))
            .tag_specifications(tag_spec(ResourceType::Subnet, &tags_all, &req.idempotency_token))
            .send()
            .await
            .map_err(|e| api_error("CreateSubnet", &e))
            .map(|o| o.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string()),
        "aws_route_table" => c
            .ec2
            .create_route_table()
            .vpc_id(attrs::string(&p, "vpc_id").unwrap_or_default())
            .tag_specifications(tag_spec(ResourceType::RouteTable, &tags_all, &req.idempotency_token))
            .send()
            .await
            .map_err(|e| api_error("CreateRouteTable", &e))
            .map(|o| o.route_table().and_then(|r| r.route_table_id()).unwrap_or_default().to_string()),
        "aws_route_table_association" => associate(c, &p).await,
        "aws_route" => {
            let table = attrs::string(&p, "route_table_id").unwrap_or_default();
            put_route(c, &table, &as_inline_route(&p), false).await.map(|()| route_id(&table, &attrs::string(&p, "destination_cidr_block").unwrap_or_default()))
        }
        t if is_rule_type(t).is_some() => create_sg_rule(c, is_rule_type(t) == Some(true), &p, &tags_all, &req.idempotency_token).await,
        "aws_security_group" => {
            let name =
                attrs::string(&p, "name").unwrap_or_else(|| format!("infra-{}", req.idempotency_token.replace('-', "").chars().take(20).collect::<String>()));
            c.ec2
                .create_security_group()
                .group_name(name)
                .description(attrs::string(&p, "description").unwrap_or_else(|| SG_DEFAULT_DESCRIPTION.into()))
                .set_vpc_id(attrs::string(&p, "vpc_id"))
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &tags_all, &req.idempotency_token))
                .send()
                .await
                .map_err(|e| api_error("CreateSecurityGroup", &e))
                .map(|o| o.group_id().unwrap_or_default().to_string())
        }
        "aws_internet_gateway" => c
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, &tags_all, &req.idempotency_token))
            .send()
            .await
            .map_err(|e| api_error("CreateInternetGateway", &e))
            .map(|o| o.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string()),
        "aws_instance" => run_instance(c, &p, &tags_all, &req.idempotency_token).await,
        other => Err(err("Unknown resource type", format!("The aws provider has no resource type {other}."))),
    };
    match created {
        Ok(id) => finish_create(c, &req.type_name, &id, &p).await,
        Err(d) => CreateResponse { state: None, diagnostics: vec![d] },
    }
}

pub async fn update(c: &Clients, req: UpdateRequest) -> UpdateResponse {
    let (prior, planned) = (req.prior.deep_unmark(), req.planned.deep_unmark());
    let id = id_of(&prior);
    let mut diagnostics = Vec::new();
    let (old, new) = (string_map(prior.get_attr("tags_all")), string_map(planned.get_attr("tags_all")));
    let removed: Vec<Tag> = old.keys().filter(|k| !new.contains_key(*k)).map(|k| Tag::builder().key(k).build()).collect();
    let changed: Vec<Tag> = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    if !removed.is_empty() {
        if let Err(e) = c.ec2.delete_tags().resources(&id).set_tags(Some(removed)).send().await {
            diagnostics.push(api_error("DeleteTags", &e));
        }
    }
    if !changed.is_empty() {
        if let Err(e) = c.ec2.create_tags().resources(&id).set_tags(Some(changed)).send().await {
            diagnostics.push(api_error("CreateTags", &e));
        }
    }
    let changed_bool = |k: &str| attrs::bool(&planned, k).filter(|v| attrs::bool(&prior, k) != Some(*v));
    let step = match req.type_name.as_str() {
        "aws_vpc" => set_vpc_dns(c, &id, changed_bool("enable_dns_support"), changed_bool("enable_dns_hostnames")).await,
        "aws_instance" => match update_instance(c, &id, &prior, &planned).await.into_iter().next() {
            Some(d) => Err(d),
            None => Ok(()),
        },
        "aws_security_group" => match sync_rules(c, &id, &prior, &planned).await.into_iter().next() {
            Some(d) => Err(d),
            None => Ok(()),
        },
        "aws_route_table" => {
            let seq = |v: &Value| v.get_attr("route").and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
            match sync_routes(c, &id, &seq(&prior), &seq(&planned)).await.into_iter().next() {
                Some(d) => Err(d),
                None => Ok(()),
            }
        }
        "aws_route" => put_route(c, &attrs::string(&planned, "route_table_id").unwrap_or_default(), &as_inline_route(&planned), true).await,
        "aws_route_table_association" => {
            // A new table for the same subnet: ReplaceRouteTableAssociation gives a new id.
            let table = attrs::string(&planned, "route_table_id").unwrap_or_default();
            match c.ec2.replace_route_table_association().association_id(&id).route_table_id(&table).send().await {
                Ok(out) => {
                    let new_id = out.new_association_id().unwrap_or_default().to_string();
                    return match describe_associations(c, &[new_id.clone()]).await {
                        Ok(found) => UpdateResponse { state: found.get(&new_id).map(association_value).or(Some(planned)), diagnostics },
                        Err(d) => {
                            diagnostics.push(d);
                            UpdateResponse { state: Some(planned), diagnostics }
                        }
                    };
                }
                Err(e) => Err(api_error("ReplaceRouteTableAssociation", &e)),
            }
        }
        "aws_internet_gateway" => {
            // Moving the gateway: detach from the old VPC, attach to the new one.
            let (old_vpc, new_vpc) = (attrs::string(&prior, "vpc_id"), attrs::string(&planned, "vpc_id"));
            if old_vpc == new_vpc {
                Ok(())
            } else {
                let detached = match &old_vpc {
                    Some(v) => detach_igw(c, &id, v).await,
                    None => Ok(()),
                };
                match (detached, &new_vpc) {
                    (Ok(()), Some(v)) => attach_igw(c, &id, v).await,
                    (result, _) => result,
                }
            }
        }
        _ => match changed_bool("map_public_ip_on_launch") {
            Some(v) => c
                .ec2
                .modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(v).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error("ModifySubnetAttribute", &e)),
            None => Ok(()),
        },
    };
    if let Err(d) = step {
        diagnostics.push(d);
    }
    match read_one(c, &req.type_name, &id, Some(&planned)).await {
        Ok(state) => UpdateResponse { state: state.or(Some(prior)), diagnostics },
        Err(d) => {
            diagnostics.push(d);
            UpdateResponse { state: Some(prior), diagnostics }
        }
    }
}

/// Deletes, waiting while AWS reports dependents still going away (ENIs, mount targets).
pub async fn delete(c: &Clients, req: DeleteRequest) -> DeleteResponse {
    let id = id_of(&req.prior.deep_unmark());
    for attempt in 0..40u32 {
        let result = match req.type_name.as_str() {
            "aws_vpc" => c.ec2.delete_vpc().vpc_id(&id).send().await.map(|_| ()).map_err(|e| (e.code().map(str::to_string), api_error("DeleteVpc", &e))),
            "aws_instance" => match c.ec2.terminate_instances().instance_ids(&id).send().await {
                Ok(_) => wait_instance(c, &id, "terminated").await.map_err(|d| (None, d)),
                Err(e) => Err((e.code().map(str::to_string), api_error("TerminateInstances", &e))),
            },
            t if is_rule_type(t).is_some() => delete_sg_rule(c, is_rule_type(t) == Some(true), &req.prior.deep_unmark()).await,
            "aws_security_group" => {
                if attempt == 0 && attrs::bool(&req.prior.deep_unmark(), "revoke_rules_on_delete") == Some(true) {
                    let none = Value::object([("ingress", Value::Null), ("egress", Value::Null)]);
                    if let Some(d) = sync_rules(c, &id, &req.prior.deep_unmark(), &none).await.into_iter().next() {
                        return DeleteResponse { diagnostics: vec![d] };
                    }
                }
                c.ec2
                    .delete_security_group()
                    .group_id(&id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.code().map(str::to_string), api_error("DeleteSecurityGroup", &e)))
            }
            "aws_route_table" => c
                .ec2
                .delete_route_table()
                .route_table_id(&id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (e.code().map(str::to_string), api_error("DeleteRouteTable", &e))),
            "aws_route" => {
                let prior = req.prior.deep_unmark();
                c.ec2
                    .delete_route()
                    .route_table_id(attrs::string(&prior, "route_table_id").unwrap_or_default())
                    .destination_cidr_block(attrs::string(&prior, "destination_cidr_block").unwrap_or_default())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.code().map(str::to_string), api_error("DeleteRoute", &e)))
            }
            "aws_route_table_association" => c
                .ec2
                .disassociate_route_table()
                .association_id(&id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (e.code().map(str::to_string), api_error("DisassociateRouteTable", &e))),
            "aws_internet_gateway" => {
                if let Some(vpc) = attrs::string(&req.prior.deep_unmark(), "vpc_id") {
                    if let Err(d) = detach_igw(c, &id, &vpc).await {
                        return DeleteResponse { diagnostics: vec![d] };
                    }
                }
                c.ec2
                    .delete_internet_gateway()
                    .internet_gateway_id(&id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.code().map(str::to_string), api_error("DeleteInternetGateway", &e)))
            }
            _ => c.ec2.delete_subnet().subnet_id(&id).send().await.map(|_| ()).map_err(|e| (e.code().map(str::to_string), api_error("DeleteSubnet", &e))),
        };
        match result {
            Ok(()) => return DeleteResponse::default(),
            Err((Some(code), _)) if code.ends_with(".NotFound") => return DeleteResponse::default(),
            Err((Some(code), _)) if code == "DependencyViolation" && attempt < 39 => tokio::time::sleep(Duration::from_secs(3)).await,
            Err((_, d)) => return DeleteResponse { diagnostics: vec![d] },
        }
    }
    DeleteResponse { diagnostics: vec![err("Delete timed out", format!("{id} still has dependents after 2 minutes."))] }
}

pub async fn import(c: &Clients, req: ImportRequest) -> ImportResponse {
    match read_one(c, &req.type_name, &req.id, None).await {
        Ok(Some(v)) => ImportResponse { state: Some(v), diagnostics: Vec::new() },
        Ok(None) => ImportResponse {
            state: None,
            diagnostics: vec![err("Cannot import non-existent remote object", format!("No {} with id {} exists.", req.type_name, req.id))],
        },
        Err(d) => ImportResponse { state: None, diagnostics: vec![d] },
    }
}

/// Drops the intent tag once the engine has recorded the object.
pub async fn confirm_create(c: &Clients, req: ConfirmCreateRequest) -> ConfirmCreateResponse {
    if req.type_name == "aws_route_table_association" || req.type_name == "aws_route" {
        // Associations carry no tags: their create is made idempotent instead (`associate`).
        return ConfirmCreateResponse::default();
    }
    match drop_intent_tag(c, &id_of(&req.state.deep_unmark())).await {
        Ok(()) => ConfirmCreateResponse::default(),
        Err(d) => ConfirmCreateResponse { diagnostics: vec![d] },
    }
}

/// Finds the object an interrupted create made, by its intent tag, and finishes it. The tag
/// stays on an adopted object (it is never shown in `tags`): removing it before the adoption
/// is recorded could orphan the object again.
pub async fn adopt(c: &Clients, req: AdoptRequest) -> AdoptResponse {
    let filter = vec![Filter::builder().name(format!("tag:{INTENT_TAG}")).values(&req.idempotency_token).build()];
    let found: Result<Vec<String>, Diagnostic> = match req.type_name.as_str() {
        "aws_vpc" => describe_vpcs(c, &[], filter).await.map(|m| m.into_keys().collect()),
        "aws_subnet" => describe_subnets(c, &[], filter).await.map(|m| m.into_keys().collect()),
        "aws_internet_gateway" => describe_igws(c, &[], filter).await.map(|m| m.into_keys().collect()),
        "aws_route_table" => describe_route_tables(c, &[], filter).await.map(|m| m.into_keys().collect()),
        "aws_security_group" => describe_security_groups(c, &[], filter).await.map(|m| m.into_keys().collect()),
        t if is_rule_type(t).is_some() => describe_sg_rules(c, &[], filter).await.map(|m| m.into_keys().collect()),
        "aws_instance" => describe_instances(c, &[], filter).await.map(|m| m.into_keys().collect()),
        // A route is unique by table and destination: the one there with our target is ours.
        "aws_route" => {
            let p = req.planned.deep_unmark();
            let id = route_id(&attrs::string(&p, "route_table_id").unwrap_or_default(), &attrs::string(&p, "destination_cidr_block").unwrap_or_default());
            read_routes(c, std::slice::from_ref(&id)).await.map(|found| match found.into_iter().flatten().next() {
                Some(r) if ROUTE_TARGETS.iter().all(|k| attrs::string(&r, k) == attrs::string(&p, k)) => vec![id.clone()],
                _ => Vec::new(),
            })
        }
        _ => Ok(Vec::new()),
    };
    match found {
        Ok(ids) => match ids.first() {
            Some(id) => {
                let resp = finish_create(c, &req.type_name, id, &req.planned).await;
                AdoptResponse { state: resp.state, diagnostics: resp.diagnostics }
            }
            None => AdoptResponse::default(),
        },
        Err(d) => AdoptResponse { state: None, diagnostics: vec![d] },
    }
}

// Security groups. Rules are kept in one canonical form, computed the same way from the
// configuration (in `plan`) and from AWS (in `read`), so that they compare as sets.

const SG_DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

describe_by_ids!(
    describe_security_groups,
    describe_security_groups,
    "DescribeSecurityGroups",
    "group-id",
    security_groups,
    group_id,
    aws_sdk_ec2::types::SecurityGroup
);

fn rule_schema() -> Schema {
    let list = || AttrSchema::optional(Type::List(Box::new(Type::String)));
    Schema::new()
        .attr("from_port", AttrSchema::required(Type::Number))
        .attr("to_port", AttrSchema::required(Type::Number))
        .attr("protocol", AttrSchema::required(Type::String))
        .attr("cidr_blocks", list())
        .attr("ipv6_cidr_blocks", list())
        .attr("prefix_list_ids", list())
        .attr("security_groups", AttrSchema::optional(Type::Set(Box::new(Type::String))))
        .attr("self", AttrSchema::optional(Type::Bool))
        .attr("description", AttrSchema::optional(Type::String))
}

pub fn security_group_schema() -> Schema {
    let rules = || BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: rule_schema() };
    Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("owner_id", AttrSchema::computed(Type::String))
        .attr("name", AttrSchema::optional_computed(Type::String).force_new())
        .attr("description", AttrSchema::optional_computed(Type::String).force_new())
        .attr("vpc_id", AttrSchema::optional_computed(Type::String).force_new())
        .attr("revoke_rules_on_delete", AttrSchema::optional(Type::Bool))
        .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
        .block("ingress", rules())
        .block("egress", rules())
}

fn normalize_protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        other => other.into(),
    }
}

/// One rule in canonical form: normalized protocol, sorted sources, absent lists as null.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from: i64,
    to: i64,
    description: Option<String>,
    cidrs: Vec<String>,
    ipv6: Vec<String>,
    prefix_lists: Vec<String>,
    groups: Vec<String>,
    own: bool,
}

impl Rule {
    fn key(&self) -> (String, i64, i64, Option<String>) {
        (self.protocol.clone(), self.from, self.to, self.description.clone())
    }

    fn from_value(v: &Value) -> Rule {
        let list = |k: &str| -> Vec<String> {
            v.get_attr(k).and_then(Value::as_seq).map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        let protocol = normalize_protocol(&attrs::string(v, "protocol").unwrap_or_default());
        let all = protocol == "-1";
        Rule {
            from: if all { 0 } else { attrs::int(v, "from_port").unwrap_or(0) },
            to: if all { 0 } else { attrs::int(v, "to_port").unwrap_or(0) },
            protocol,
            description: attrs::string(v, "description").filter(|d| !d.is_empty()),
            cidrs: list("cidr_blocks"),
            ipv6: list("ipv6_cidr_blocks"),
            prefix_lists: list("prefix_list_ids"),
            groups: list("security_groups"),
            own: attrs::bool(v, "self").unwrap_or(false),
        }
    }

    fn to_value(&self) -> Value {
        let list = |xs: &[String]| if xs.is_empty() { Value::Null } else { Value::List(xs.iter().map(|s| Value::string(s.clone())).collect()) };
        Value::object([
            ("cidr_blocks", list(&self.cidrs)),
            ("description", self.description.clone().map(Value::string).unwrap_or(Value::Null)),
            ("from_port", Value::int(self.from)),
            ("ipv6_cidr_blocks", list(&self.ipv6)),
            ("prefix_list_ids", list(&self.prefix_lists)),
            ("protocol", Value::string(self.protocol.clone())),
            ("security_groups", if self.groups.is_empty() { Value::Null } else { Value::set(self.groups.iter().map(|s| Value::string(s.clone())).collect()) }),
            ("self", Value::Bool(self.own)),
            ("to_port", Value::int(self.to)),
        ])
    }

    fn to_permission(&self, own_id: &str) -> aws_sdk_ec2::types::IpPermission {
        use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
        let d = self.description.clone();
        let mut b = IpPermission::builder().ip_protocol(&self.protocol);
        // AWS ignores ports for all-protocol rules; send none.
        if self.protocol != "-1" {
            b = b.from_port(self.from as i32).to_port(self.to as i32);
        }
        for c in &self.cidrs {
            b = b.ip_ranges(IpRange::builder().cidr_ip(c).set_description(d.clone()).build());
        }
        for c in &self.ipv6 {
            b = b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).set_description(d.clone()).build());
        }
        for p in &self.prefix_lists {
            b = b.prefix_list_ids(PrefixListId::builder().prefix_list_id(p).set_description(d.clone()).build());
        }
        for g in self.groups.iter().map(String::as_str).chain(self.own.then_some(own_id)) {
            b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).set_description(d.clone()).build());
        }
        b.build()
    }
}

/// Canonical rule set: rules with the same protocol, ports and description are merged (AWS
/// merges them too), sources sorted and de-duplicated.
fn canonical(rules: Vec<Rule>) -> Vec<Rule> {
    let mut merged: BTreeMap<(String, i64, i64, Option<String>), Rule> = BTreeMap::new();
    for r in rules {
        let e = merged.entry(r.key()).or_insert_with(|| Rule { cidrs: vec![], ipv6: vec![], prefix_lists: vec![], groups: vec![], own: false, ..r.clone() });
        e.cidrs.extend(r.cidrs);
        e.ipv6.extend(r.ipv6);
        e.prefix_lists.extend(r.prefix_lists);
        e.groups.extend(r.groups);
        e.own |= r.own;
    }
    merged
        .into_values()
        .map(|mut r| {
            for v in [&mut r.cidrs, &mut r.ipv6, &mut r.prefix_lists, &mut r.groups] {
                v.sort();
                v.dedup();
            }
            r
        })
        .collect()
}

fn rules_of(v: &Value, block: &str) -> Vec<Rule> {
    canonical(v.get_attr(block).and_then(Value::as_seq).map(|s| s.iter().map(Rule::from_value).collect()).unwrap_or_default())
}

fn rules_value(rules: &[Rule]) -> Value {
    Value::set(rules.iter().map(Rule::to_value).collect())
}

/// The rule of `by` for description `d`, made from `base` on first use.
fn slot<'a>(by: &'a mut BTreeMap<Option<String>, Rule>, base: &Rule, d: Option<&str>) -> &'a mut Rule {
    let description = d.filter(|d| !d.is_empty()).map(str::to_string);
    by.entry(description.clone()).or_insert_with(|| Rule { description, ..base.clone() })
}

/// Rules from AWS permissions: one rule per permission and description; the group's own id
/// becomes `self`.
fn rules_from_permissions(perms: &[aws_sdk_ec2::types::IpPermission], own_id: &str) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in perms {
        let protocol = normalize_protocol(p.ip_protocol().unwrap_or("-1"));
        let (from, to) = (p.from_port().unwrap_or(0) as i64, p.to_port().unwrap_or(0) as i64);
        let mut by_desc: BTreeMap<Option<String>, Rule> = BTreeMap::new();
        let base = Rule { protocol, from, to, description: None, cidrs: vec![], ipv6: vec![], prefix_lists: vec![], groups: vec![], own: false };
        for r in p.ip_ranges() {
            slot(&mut by_desc, &base, r.description()).cidrs.extend(r.cidr_ip().map(str::to_string));
        }
        for r in p.ipv6_ranges() {
            slot(&mut by_desc, &base, r.description()).ipv6.extend(r.cidr_ipv6().map(str::to_string));
        }
        for r in p.prefix_list_ids() {
            slot(&mut by_desc, &base, r.description()).prefix_lists.extend(r.prefix_list_id().map(str::to_string));
        }
        for g in p.user_id_group_pairs() {
            let rule = slot(&mut by_desc, &base, g.description());
            match g.group_id() {
                Some(id) if id == own_id => rule.own = true,
                Some(id) => rule.groups.push(id.to_string()),
                None => {}
            }
        }
        out.extend(by_desc.into_values());
    }
    canonical(out)
}

fn security_group_value(c: &Clients, g: &aws_sdk_ec2::types::SecurityGroup, prior: Option<&Value>) -> Value {
    let id = g.group_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let all = tags_of(g.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:security-group/{id}", c.region))),
        ("description", Value::string(g.description().unwrap_or_default())),
        ("egress", rules_value(&rules_from_permissions(g.ip_permissions_egress(), &id))),
        ("id", Value::string(id.clone())),
        ("ingress", rules_value(&rules_from_permissions(g.ip_permissions(), &id))),
        ("name", Value::string(g.group_name().unwrap_or_default())),
        ("owner_id", Value::string(owner)),
        ("revoke_rules_on_delete", prior.and_then(|p| p.get_attr("revoke_rules_on_delete")).cloned().unwrap_or(Value::Null)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", g.vpc_id().map(Value::string).unwrap_or(Value::Null)),
    ])
}

/// The rules of the planned configuration in canonical form (run at plan time).
fn canonical_rules_in(planned: &mut BTreeMap<String, Value>) {
    for block in ["ingress", "egress"] {
        if let Some(v) = planned.get(block).filter(|v| v.is_wholly_known()) {
            let rules = canonical(v.as_seq().map(|s| s.iter().map(Rule::from_value).collect()).unwrap_or_default());
            planned.insert(block.to_string(), rules_value(&rules));
        }
    }
}

/// Runs one expression against the ingress or the egress variant of a security group
/// operation: the SDK gives the two distinct builder types, so the call is written once here.
macro_rules! per_direction {
    ($egress:expr, $c:expr, ($in_op:ident, $in_name:literal), ($eg_op:ident, $eg_name:literal), |$b:ident, $name:ident| $body:expr) => {
        if $egress {
            let ($b, $name) = ($c.ec2.$eg_op(), $eg_name);
            $body
        } else {
            let ($b, $name) = ($c.ec2.$in_op(), $in_name);
            $body
        }
    };
}

async fn change_rules(c: &Clients, id: &str, egress: bool, revoke: &[Rule], authorize: &[Rule]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if !revoke.is_empty() {
        let perms: Vec<_> = revoke.iter().map(|r| r.to_permission(id)).collect();
        let result = per_direction!(
            egress,
            c,
            (revoke_security_group_ingress, "RevokeSecurityGroupIngress"),
            (revoke_security_group_egress, "RevokeSecurityGroupEgress"),
            |b, name| b.group_id(id).set_ip_permissions(Some(perms)).send().await.map(|_| ()).map_err(|e| api_error(name, &e))
        );
        diags.extend(result.err());
    }
    if !authorize.is_empty() {
        let perms: Vec<_> = authorize.iter().map(|r| r.to_permission(id)).collect();
        let result = per_direction!(
            egress,
            c,
            (authorize_security_group_ingress, "AuthorizeSecurityGroupIngress"),
            (authorize_security_group_egress, "AuthorizeSecurityGroupEgress"),
            |b, name| b.group_id(id).set_ip_permissions(Some(perms)).send().await.map(|_| ()).map_err(|e| api_error(name, &e))
        );
        diags.extend(result.err());
    }
    diags
}

/// Moves a group's rules from `old` to `new` (both canonical), per direction.
async fn sync_rules(c: &Clients, id: &str, old: &Value, new: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (block, egress) in [("ingress", false), ("egress", true)] {
        let (o, n) = (rules_of(old, block), rules_of(new, block));
        let revoke: Vec<Rule> = o.iter().filter(|r| !n.contains(r)).cloned().collect();
        let authorize: Vec<Rule> = n.iter().filter(|r| !o.contains(r)).cloned().collect();
        diags.extend(change_rules(c, id, egress, &revoke, &authorize).await);
    }
    diags
}

/// The egress rule AWS adds to every new VPC group, which Terraform removes unless configured.
fn default_egress() -> Rule {
    Rule {
        protocol: "-1".into(),
        from: 0,
        to: 0,
        description: None,
        cidrs: vec!["0.0.0.0/0".into()],
        ipv6: vec![],
        prefix_lists: vec![],
        groups: vec![],
        own: false,
    }
}

// Standalone security group rules (`aws_vpc_security_group_ingress_rule` and `..._egress_rule`),
// on the rule-id API: one rule per resource, read back by id with DescribeSecurityGroupRules.

describe_by_ids!(
    describe_sg_rules,
    describe_security_group_rules,
    "DescribeSecurityGroupRules",
    "security-group-rule-id",
    security_group_rules,
    security_group_rule_id,
    aws_sdk_ec2::types::SecurityGroupRule
);

pub fn sg_rule_schema() -> Schema {
    let opt = |t| AttrSchema::optional(t).force_new();
    Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("arn", AttrSchema::computed(Type::String))
        .attr("security_group_rule_id", AttrSchema::computed(Type::String))
        .attr("security_group_id", AttrSchema::required(Type::String).force_new())
        .attr("ip_protocol", AttrSchema::required(Type::String).force_new())
        .attr("from_port", opt(Type::Number))
        .attr("to_port", opt(Type::Number))
        .attr("cidr_ipv4", opt(Type::String))
        .attr("cidr_ipv6", opt(Type::String))
        .attr("prefix_list_id", opt(Type::String))
        .attr("referenced_security_group_id", opt(Type::String))
        .attr("description", opt(Type::String))
        .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
        .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
}

fn is_rule_type(t: &str) -> Option<bool> {
    match t {
        "aws_vpc_security_group_ingress_rule" => Some(false),
        "aws_vpc_security_group_egress_rule" => Some(true),
        _ => None,
    }
}

/// The one rule a rule resource describes, in the form the inline rules use.
fn rule_of_resource(p: &Value) -> Rule {
    let one = |k: &str| attrs::string(p, k).into_iter().collect::<Vec<_>>();
    let protocol = normalize_protocol(&attrs::string(p, "ip_protocol").unwrap_or_default());
    let all = protocol == "-1";
    Rule {
        from: if all { 0 } else { attrs::int(p, "from_port").unwrap_or(0) },
        to: if all { 0 } else { attrs::int(p, "to_port").unwrap_or(0) },
        protocol,
        description: attrs::string(p, "description").filter(|d| !d.is_empty()),
        cidrs: one("cidr_ipv4"),
        ipv6: one("cidr_ipv6"),
        prefix_lists: one("prefix_list_id"),
        groups: one("referenced_security_group_id"),
        own: false,
    }
}

fn sg_rule_value(c: &Clients, r: &aws_sdk_ec2::types::SecurityGroupRule, prior: Option<&Value>) -> Value {
    let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    let protocol = normalize_protocol(r.ip_protocol().unwrap_or("-1"));
    let all_ports = protocol == "-1";
    let port = |p: Option<i32>| if all_ports { Value::Null } else { p.map(|n| Value::int(n as i64)).unwrap_or(Value::Null) };
    let id = r.security_group_rule_id().unwrap_or_default().to_string();
    let all = tags_of(r.tags());
    Value::object([
        (
            "arn",
            Value::string(
                r.security_group_rule_arn()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:ec2:{}:{}:security-group-rule/{id}", c.region, r.group_owner_id().unwrap_or_default())),
            ),
        ),
        ("cidr_ipv4", opt(r.cidr_ipv4())),
        ("cidr_ipv6", opt(r.cidr_ipv6())),
        ("description", opt(r.description().filter(|d| !d.is_empty()))),
        ("from_port", port(r.from_port())),
        ("id", Value::string(id.clone())),
        ("ip_protocol", Value::string(protocol)),
        ("prefix_list_id", opt(r.prefix_list_id())),
        ("referenced_security_group_id", opt(r.referenced_group_info().and_then(|g| g.group_id()))),
        ("security_group_id", opt(r.group_id())),
        ("security_group_rule_id", Value::string(id)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("to_port", port(r.to_port())),
    ])
}

/// Authorizes one rule and returns its id. The response lists the rules created; if it does
/// not name this one (moto lists only one of several), the group's rules are searched.
async fn create_sg_rule(c: &Clients, egress: bool, p: &Value, tags_all: &BTreeMap<String, String>, token: &str) -> Result<String, Diagnostic> {
    let group = attrs::string(p, "security_group_id").unwrap_or_default();
    let spec = tag_spec(ResourceType::SecurityGroupRule, tags_all, token);
    let perm = rule_of_resource(p).to_permission(&group);
    let rules: Vec<aws_sdk_ec2::types::SecurityGroupRule> = per_direction!(
        egress,
        c,
        (authorize_security_group_ingress, "AuthorizeSecurityGroupIngress"),
        (authorize_security_group_egress, "AuthorizeSecurityGroupEgress"),
        |b, name| b
            .group_id(&group)
            .ip_permissions(perm)
            .tag_specifications(spec)
            .send()
            .await
            .map_err(|e| api_error(name, &e))?
            .security_group_rules()
            .to_vec()
    );
    if let Some(id) = rules.iter().find_map(|r| r.security_group_rule_id()) {
        return Ok(id.to_string());
    }
    let filter = vec![Filter::builder().name("group-id").values(&group).build()];
    let found = describe_sg_rules(c, &[], filter).await?;
    found
        .values()
        .find(|r| r.is_egress() == Some(egress) && r.tags().iter().any(|t| t.key() == Some(INTENT_TAG) && t.value() == Some(token)))
        .and_then(|r| r.security_group_rule_id().map(str::to_string))
        .ok_or_else(|| err("Rule not found after create", format!("The rule authorized on {group} could not be found again.")))
}

async fn delete_sg_rule(c: &Clients, egress: bool, prior: &Value) -> Result<(), (Option<String>, Diagnostic)> {
    let (group, id) = (attrs::string(prior, "security_group_id").unwrap_or_default(), id_of(prior));
    per_direction!(
        egress,
        c,
        (revoke_security_group_ingress, "RevokeSecurityGroupIngress"),
        (revoke_security_group_egress, "RevokeSecurityGroupEgress"),
        |b, name| b.group_id(&group).security_group_rule_ids(&id).send().await.map(|_| ()).map_err(|e| (e.code().map(str::to_string), api_error(name, &e)))
    )
}

// Instances. RunInstances takes a ClientToken, but moto ignores it (and answers 500 to the
// client-token filter), so instances carry the intent tag like the other EC2 types.

pub fn instance_schema() -> Schema {
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
}

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

fn instance_value(c: &Clients, i: &aws_sdk_ec2::types::Instance, prior: Option<&Value>) -> Value {
    let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    let id = i.instance_id().unwrap_or_default().to_string();
    let all = tags_of(i.tags());
    let groups = Value::set(i.security_groups().iter().filter_map(|g| g.group_id().map(Value::string)).collect());
    Value::object([
        ("ami", opt(i.image_id())),
        ("arn", Value::string(format!("arn:aws:ec2:{}::instance/{id}", c.region))),
        ("availability_zone", opt(i.placement().and_then(|p| p.availability_zone()))),
        ("id", Value::string(id)),
        ("instance_state", opt(i.state().and_then(|s| s.name()).map(|n| n.as_str()))),
        ("instance_type", opt(i.instance_type().map(|t| t.as_str()))),
        ("key_name", opt(i.key_name())),
        ("private_ip", opt(i.private_ip_address())),
        ("public_ip", opt(i.public_ip_address())),
        ("subnet_id", opt(i.subnet_id())),
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

async fn run_instance(c: &Clients, p: &Value, tags_all: &BTreeMap<String, String>, token: &str) -> Result<String, Diagnostic> {
    let groups: Option<Vec<String>> =
        p.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
    let out = c
        .ec2
        .run_instances()
        .image_id(attrs::string(p, "ami").unwrap_or_default())
        .instance_type(aws_sdk_ec2::types::InstanceType::from(attrs::string(p, "instance_type").unwrap_or_default().as_str()))
        .min_count(1)
        .max_count(1)
        .client_token(token)
        .set_subnet_id(attrs::string(p, "subnet_id"))
        .set_key_name(attrs::string(p, "key_name"))
        .set_user_data(attrs::string(p, "user_data").map(|u| aws_smithy_types::base64::encode(u.as_bytes())))
        .set_security_group_ids(groups.filter(|g| !g.is_empty()))
        .tag_specifications(tag_spec(ResourceType::Instance, tags_all, token))
        .send()
        .await
        .map_err(|e| api_error("RunInstances", &e))?;
    let id = out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string();
    wait_instance(c, &id, "running").await?;
    Ok(id)
}

/// In-place changes: the instance type (stop, modify, start) and the security groups.
async fn update_instance(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let new_type = attrs::string(planned, "instance_type");
    if new_type.is_some() && new_type != attrs::string(prior, "instance_type") {
        let step = async {
            c.ec2.stop_instances().instance_ids(id).send().await.map_err(|e| api_error("StopInstances", &e))?;
            wait_instance(c, id, "stopped").await?;
            let t = aws_sdk_ec2::types::AttributeValue::builder().value(new_type.clone().unwrap_or_default()).build();
            c.ec2.modify_instance_attribute().instance_id(id).instance_type(t).send().await.map_err(|e| api_error("ModifyInstanceAttribute", &e))?;
            c.ec2.start_instances().instance_ids(id).send().await.map_err(|e| api_error("StartInstances", &e))?;
            wait_instance(c, id, "running").await
        };
        if let Err(d) = step.await {
            diags.push(d);
        }
    }
    let groups = |v: &Value| {
        v.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect::<Vec<_>>())
    };
    if let Some(new) = groups(planned).filter(|g| !g.is_empty() && Some(g) != groups(prior).as_ref()) {
        if let Err(e) = c.ec2.modify_instance_attribute().instance_id(id).set_groups(Some(new)).send().await {
            diags.push(api_error("ModifyInstanceAttribute", &e));
        }
    }
    diags
}

// Standalone routes (`aws_route`): id `<route table id>_<destination>`, the import id
// terraform-provider-aws uses. Read through the tables' `DescribeRouteTables`, batched.

fn route_id(table: &str, destination: &str) -> String {
    format!("{table}_{destination}")
}

fn as_inline_route(p: &Value) -> Value {
    let mut fields = vec![("cidr_block", p.get_attr("destination_cidr_block").cloned().unwrap_or(Value::Null))];
    fields.extend(ROUTE_TARGETS.iter().map(|k| (*k, p.get_attr(k).cloned().unwrap_or(Value::Null))));
    Value::object(fields)
}

async fn read_routes(c: &Clients, ids: &[String]) -> Result<Vec<Option<Value>>, Diagnostic> {
    let parsed: Vec<Option<(String, String)>> = ids.iter().map(|id| id.split_once('_').map(|(t, d)| (t.to_string(), d.to_string()))).collect();
    let mut tables: Vec<String> = parsed.iter().flatten().map(|(t, _)| t.clone()).collect();
    tables.sort();
    tables.dedup();
    let found = describe_route_tables(c, &tables, Vec::new()).await?;
    Ok(parsed
        .iter()
        .map(|key| {
            let (table, dest) = key.as_ref()?;
            let r = found.get(table)?.routes().iter().find(|r| r.destination_cidr_block() == Some(dest.as_str()))?;
            let opt = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
            Some(Value::object([
                ("id", Value::string(route_id(table, dest))),
                ("route_table_id", Value::string(table.clone())),
                ("destination_cidr_block", Value::string(dest.clone())),
                ("gateway_id", opt(r.gateway_id())),
                ("nat_gateway_id", opt(r.nat_gateway_id())),
                ("network_interface_id", opt(r.network_interface_id())),
                ("vpc_peering_connection_id", opt(r.vpc_peering_connection_id())),
                ("origin", opt(r.origin().map(|o| o.as_str()))),
                ("state", opt(r.state().map(|o| o.as_str()))),
            ]))
        })
        .collect())
}

/// `filter { name values }` blocks as EC2 filters.
fn config_filters(cfg: &Value) -> Vec<Filter> {
    cfg.get_attr("filter")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|f| Filter::builder().name(attrs::string(f, "name").unwrap_or_default()).set_values(Some(strings(f.get_attr("values")))).build())
        .collect()
}

/// `tags = {…}` in a data source: every tag must match.
fn tag_filters(cfg: &Value) -> Vec<Filter> {
    string_map(cfg.get_attr("tags")).into_iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

/// The `aws_vpc` data source: the VPCs matching its arguments, as data source objects.
async fn describe_vpcs_matching(c: &Clients, cfg: &Value) -> Result<Vec<Value>, Diagnostic> {
    let mut filters = config_filters(cfg);
    for (k, name) in [("cidr_block", "cidr"), ("state", "state")] {
        if let Some(v) = attrs::string(cfg, k) {
            filters.push(Filter::builder().name(name).values(v).build());
        }
    }
    if let Some(d) = attrs::bool(cfg, "default") {
        filters.push(Filter::builder().name("is-default").values(d.to_string()).build());
    }
    filters.extend(tag_filters(cfg));
    let ids: Vec<String> = attrs::string(cfg, "id").into_iter().collect();
    let found = describe_vpcs(c, &ids, filters).await?;
    let mut out = Vec::new();
    for (id, v) in &found {
        let (support, hostnames) = dns_attributes(c, id).await?;
        let owner = v.owner_id().unwrap_or_default();
        out.push(Value::object([
            ("id", Value::string(id.clone())),
            ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region))),
            ("cidr_block", opt_string(v.cidr_block())),
            ("default", Value::Bool(v.is_default().unwrap_or(false))),
            ("state", opt_string(v.state().map(|s| s.as_str()))),
            ("owner_id", Value::string(owner)),
            ("instance_tenancy", opt_string(v.instance_tenancy().map(|t| t.as_str()))),
            ("enable_dns_support", support.map(Value::Bool).unwrap_or(Value::Null)),
            ("enable_dns_hostnames", hostnames.map(Value::Bool).unwrap_or(Value::Null)),
            ("tags", map_value(&tags_of(v.tags()))),
            ("filter", cfg.get_attr("filter").cloned().unwrap_or(Value::Set(Vec::new()))),
        ]));
    }
    Ok(out)
}

/// An IPv4 CIDR block as (network, prefix length), when it is one.
fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let ip: u32 = ip.parse::<std::net::Ipv4Addr>().ok()?.into();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((ip & mask, len))
}

fn cidrs_overlap(a: (u32, u8), b: (u32, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a.0 & mask == b.0 & mask
}

/// Subnets of one VPC whose CIDR blocks overlap: AWS refuses the second with
/// `InvalidSubnet.Conflict`; say so at plan time, for both.
pub fn check_planned(req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
    let known: Vec<(usize, String, String, (u32, u8))> = req
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.type_name == "aws_subnet")
        .filter_map(|(i, o)| {
            let o = o.value.deep_unmark();
            let cidr = attrs::string(&o, "cidr_block")?;
            Some((i, attrs::string(&o, "vpc_id")?, cidr.clone(), parse_cidr(&cidr)?))
        })
        .collect();
    let mut out = Vec::new();
    for (n, (i, vpc, cidr, net)) in known.iter().enumerate() {
        for (j, other_vpc, other, other_net) in &known[n + 1..] {
            if vpc == other_vpc && cidrs_overlap(*net, *other_net) {
                // Blame the subnet this plan creates or changes (the later one if both).
                let changing = |k: usize| req.objects.get(k).is_none_or(|o| o.changing);
                let (blamed, mine, theirs) = if changing(*j) || !changing(*i) { (*j, other, cidr) } else { (*i, cidr, other) };
                out.push((
                    blamed,
                    err("Overlapping subnets", format!("This subnet's CIDR block {mine} overlaps {theirs}, another subnet of {vpc}; AWS would refuse it."))
                        .with_path(vec![PathStep::Attr("cidr_block".into())]),
                ));
            }
        }
    }
    out
}
