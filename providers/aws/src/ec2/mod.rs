//! EC2 (VPC networking, security groups, instances): what several EC2 types share. Batched
//! `Describe*` by id lists, tag specifications carrying the create-intent tag (EC2 has no
//! client token for most creates, so `adopt` finds an interrupted create by that tag), tag
//! updates, deletes that wait out `DependencyViolation`, routes, and the canonical form of
//! security group rules used by `aws_security_group` and the standalone rule types.

use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_ec2::types::{Filter, Tag, TagSpecification, VpcAttributeName};
use infra_provider::resource::with_id;
use infra_provider::*;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// Ids per `Describe*` call.
pub const CHUNK: usize = 200;

/// One batched `Describe*` call family: objects among `ids` (an id filter, chunked, all pages)
/// or, with no ids, everything matching `filters`, keyed by id. Every EC2 type reads this way.
macro_rules! describe_by_ids {
    ($name:ident, $op:ident, $op_name:literal, $id_filter:literal, $items:ident, $id:ident, $ty:ty) => {
        pub async fn $name(c: &crate::config::Clients, ids: &[String], filters: Vec<Filter>) -> Result<BTreeMap<String, $ty>, Diagnostic> {
            let mut out = BTreeMap::new();
            let chunks: Vec<Vec<String>> = if ids.is_empty() { vec![Vec::new()] } else { ids.chunks(crate::ec2::CHUNK).map(<[String]>::to_vec).collect() };
            for chunk in chunks {
                let mut req = c.ec2.$op().set_filters(Some(filters.clone()));
                if !chunk.is_empty() {
                    req = req.filters(Filter::builder().name($id_filter).set_values(Some(chunk)).build());
                }
                let mut pages = req.into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| crate::common::api_error($op_name, &e))?;
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

pub mod instance;
pub mod internet_gateway;
pub mod route;
pub mod route_table;
pub mod route_table_association;
pub mod security_group;
pub mod security_group_rule;
pub mod subnet;
pub mod vpc;

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

/// The objects carrying the intent tag of `token`: what an interrupted create made.
pub fn intent_filter(token: &str) -> Vec<Filter> {
    vec![Filter::builder().name(format!("tag:{INTENT_TAG}")).values(token).build()]
}

/// Tags for a create call: `tags_all` plus the intent tag.
pub fn tag_spec(kind: aws_sdk_ec2::types::ResourceType, tags: &BTreeMap<String, String>, token: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.tags(Tag::builder().key(INTENT_TAG).value(token).build()).build()
}

pub fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))))
}

/// Drops the intent tag once the engine has recorded the object.
pub async fn drop_intent_tag(c: &Clients, state: &Value) -> Result<(), Diagnostic> {
    let id = attrs::req_string(state, "id")?;
    c.ec2.delete_tags().resources(id).tags(Tag::builder().key(INTENT_TAG).build()).send().await.map(|_| ()).map_err(|e| api_error("DeleteTags", &e))
}

/// Brings an object's tags from `prior`'s `tags_all` to `planned`'s.
pub async fn update_tags(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let (removed, changed) = tag_changes(prior, planned);
    let removed: Vec<Tag> = removed.iter().map(|k| Tag::builder().key(k).build()).collect();
    let changed: Vec<Tag> = changed.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    if !removed.is_empty() {
        if let Err(e) = c.ec2.delete_tags().resources(id).set_tags(Some(removed)).send().await {
            diagnostics.push(api_error("DeleteTags", &e));
        }
    }
    if !changed.is_empty() {
        if let Err(e) = c.ec2.create_tags().resources(id).set_tags(Some(changed)).send().await {
            diagnostics.push(api_error("CreateTags", &e));
        }
    }
    diagnostics
}

/// A failed delete call: the error code AWS sent, if any, and the diagnostic.
pub type DeleteError = (Option<String>, Diagnostic);

pub fn delete_error<E: ProvideErrorMetadata + std::error::Error + 'static>(op: &str, e: &SdkError<E, HttpResponse>) -> DeleteError {
    (code_of(e), api_error(op, e))
}

/// Runs a delete call until AWS no longer reports dependents still going away (ENIs, mount
/// targets): `DependencyViolation` is retried every 3 seconds for 2 minutes; a missing object
/// is success.
pub async fn delete_retrying<F, Fut>(id: &str, mut call: F) -> Outcome<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), DeleteError>>,
{
    for attempt in 0..40u32 {
        match call().await {
            Ok(()) => return Ok(()),
            Err((Some(code), _)) if code.ends_with(".NotFound") => return Ok(()),
            Err((Some(code), _)) if code == "DependencyViolation" && attempt < 39 => tokio::time::sleep(Duration::from_secs(3)).await,
            Err((_, d)) => return Err(d.into()),
        }
    }
    Err(Diagnostic::error("Delete timed out", format!("{id} still has dependents after 2 minutes.")).into())
}

pub fn valid_ipv4_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((ip, len)) => ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32),
        None => false,
    }
}

/// `cidr_block` when it is set and not an IPv4 CIDR block.
pub fn validate_cidr_block(config: &Value) -> Vec<Diagnostic> {
    match attrs::string(config, "cidr_block") {
        Some(c) if !valid_ipv4_cidr(&c) => {
            vec![Diagnostic::error("Invalid CIDR block", format!("{c:?} is not an IPv4 CIDR block such as 10.0.0.0/16.")).with_path(attrs::at("cidr_block"))]
        }
        _ => Vec::new(),
    }
}

/// A VPC's DNS settings (support, hostnames): no batch API, two calls.
pub async fn dns_attributes(c: &Clients, id: &str) -> Result<(Option<bool>, Option<bool>), Diagnostic> {
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

// Routes, inline in `aws_route_table` or standalone as `aws_route`.

/// A route's destination, in the inline form's names (`aws_route` prefixes the first two with
/// `destination_`); exactly one is set.
pub const ROUTE_DESTINATIONS: [&str; 3] = ["cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"];

/// A route's targets, as terraform-provider-aws names them (inline and standalone alike).
pub const ROUTE_TARGETS: [&str; 10] = [
    "carrier_gateway_id",
    "core_network_arn",
    "egress_only_gateway_id",
    "gateway_id",
    "local_gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "transit_gateway_id",
    "vpc_endpoint_id",
    "vpc_peering_connection_id",
];

/// A route's destination and its target, for diffing route sets.
pub fn route_key(r: &Value) -> (String, Vec<(String, String)>) {
    let dest = ROUTE_DESTINATIONS.iter().find_map(|k| attrs::string(r, k).filter(|v| !v.is_empty())).unwrap_or_default();
    let targets = ROUTE_TARGETS.iter().filter_map(|k| attrs::string(r, k).filter(|v| !v.is_empty()).map(|v| (k.to_string(), v))).collect();
    (dest, targets)
}

/// Which API field a destination goes to: a prefix list id, an IPv6 or an IPv4 block.
fn destination_fields(dest: &str) -> (Option<String>, Option<String>, Option<String>) {
    if dest.starts_with("pl-") {
        (None, None, Some(dest.to_string()))
    } else if dest.contains(':') {
        (None, Some(dest.to_string()), None)
    } else {
        (Some(dest.to_string()), None, None)
    }
}

/// An API route in the inline form. A gateway endpoint's route names it as its gateway: it is
/// `vpc_endpoint_id`, as terraform-provider-aws reads it.
pub fn inline_route(r: &aws_sdk_ec2::types::Route) -> Value {
    let gateway = r.gateway_id();
    let endpoint = gateway.filter(|g| g.starts_with("vpce-"));
    Value::object([
        ("carrier_gateway_id", opt_string(r.carrier_gateway_id())),
        ("cidr_block", opt_string(r.destination_cidr_block())),
        ("core_network_arn", opt_string(r.core_network_arn())),
        ("destination_prefix_list_id", opt_string(r.destination_prefix_list_id())),
        ("egress_only_gateway_id", opt_string(r.egress_only_internet_gateway_id())),
        ("gateway_id", opt_string(gateway.filter(|_| endpoint.is_none()))),
        ("ipv6_cidr_block", opt_string(r.destination_ipv6_cidr_block())),
        ("local_gateway_id", opt_string(r.local_gateway_id())),
        ("nat_gateway_id", opt_string(r.nat_gateway_id())),
        ("network_interface_id", opt_string(r.network_interface_id())),
        ("transit_gateway_id", opt_string(r.transit_gateway_id())),
        ("vpc_endpoint_id", opt_string(endpoint)),
        ("vpc_peering_connection_id", opt_string(r.vpc_peering_connection_id())),
    ])
}

/// The route of `table`'s routes to `dest` (any destination kind).
pub fn find_route<'a>(routes: &'a [aws_sdk_ec2::types::Route], dest: &str) -> Option<&'a aws_sdk_ec2::types::Route> {
    routes.iter().find(|r| [r.destination_cidr_block(), r.destination_ipv6_cidr_block(), r.destination_prefix_list_id()].contains(&Some(dest)))
}

/// Creates (or with `replace`, replaces) one route of `table`, given in the inline form. A create that finds the same route
/// already there (sent again after a lost answer, or made by an interrupted run) succeeds.
pub async fn put_route(c: &Clients, table: &str, route: &Value, replace: bool) -> Result<(), Diagnostic> {
    let (dest, targets) = route_key(route);
    if dest.is_empty() {
        return Err(Diagnostic::error("Invalid route", "A route needs a destination: cidr_block, ipv6_cidr_block or destination_prefix_list_id."));
    }
    let (v4, v6, pl) = destination_fields(&dest);
    let get = |k: &str| targets.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    macro_rules! send {
        ($call:ident) => {
            c.ec2
                .$call()
                .route_table_id(table)
                .set_destination_cidr_block(v4.clone())
                .set_destination_ipv6_cidr_block(v6.clone())
                .set_destination_prefix_list_id(pl.clone())
                .set_carrier_gateway_id(get("carrier_gateway_id"))
                .set_core_network_arn(get("core_network_arn"))
                .set_egress_only_internet_gateway_id(get("egress_only_gateway_id"))
                .set_gateway_id(get("gateway_id"))
                .set_local_gateway_id(get("local_gateway_id"))
                .set_nat_gateway_id(get("nat_gateway_id"))
                .set_network_interface_id(get("network_interface_id"))
                .set_transit_gateway_id(get("transit_gateway_id"))
                .set_vpc_endpoint_id(get("vpc_endpoint_id"))
                .set_vpc_peering_connection_id(get("vpc_peering_connection_id"))
                .send()
                .await
                .map(|_| ())
        };
    }
    if replace {
        return send!(replace_route).map_err(|e| api_error("ReplaceRoute", &e));
    }
    match send!(create_route) {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("RouteAlreadyExists") && existing_route(c, table, &dest).await?.is_some_and(|r| route_key(&r).1 == targets) => Ok(()),
        Err(e) => Err(api_error("CreateRoute", &e)),
    }
}

/// Deletes `table`'s route to `dest` (any destination kind).
pub async fn delete_route(c: &Clients, table: &str, dest: &str) -> Result<(), DeleteError> {
    let (v4, v6, pl) = destination_fields(dest);
    c.ec2
        .delete_route()
        .route_table_id(table)
        .set_destination_cidr_block(v4)
        .set_destination_ipv6_cidr_block(v6)
        .set_destination_prefix_list_id(pl)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| delete_error("DeleteRoute", &e))
}

/// The route of `table` to `dest` as it is now, in the inline form.
async fn existing_route(c: &Clients, table: &str, dest: &str) -> Result<Option<Value>, Diagnostic> {
    let out = c.ec2.describe_route_tables().route_table_ids(table).send().await.map_err(|e| api_error("DescribeRouteTables", &e))?;
    let routes: Vec<aws_sdk_ec2::types::Route> = out.route_tables().iter().flat_map(|t| t.routes()).cloned().collect();
    Ok(find_route(&routes, dest).map(inline_route))
}

// Security group rules. They are kept in one canonical form, computed the same way from the
// configuration (in `plan`) and from AWS (in `read`), so that they compare as sets.

pub fn normalize_protocol(p: &str) -> String {
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
pub struct Rule {
    pub protocol: String,
    pub from: i64,
    pub to: i64,
    pub description: Option<String>,
    pub cidrs: Vec<String>,
    pub ipv6: Vec<String>,
    pub prefix_lists: Vec<String>,
    pub groups: Vec<String>,
    pub own: bool,
}

impl Rule {
    /// A rule with no sources.
    pub fn empty(protocol: String, from: i64, to: i64, description: Option<String>) -> Rule {
        Rule { protocol, from, to, description, cidrs: vec![], ipv6: vec![], prefix_lists: vec![], groups: vec![], own: false }
    }

    fn key(&self) -> (String, i64, i64, Option<String>) {
        (self.protocol.clone(), self.from, self.to, self.description.clone())
    }

    /// An inline `ingress` / `egress` block.
    pub fn from_value(v: &Value) -> Rule {
        let protocol = normalize_protocol(&attrs::string(v, "protocol").unwrap_or_default());
        let all = protocol == "-1";
        Rule {
            from: if all { 0 } else { attrs::int(v, "from_port").unwrap_or(0) },
            to: if all { 0 } else { attrs::int(v, "to_port").unwrap_or(0) },
            protocol,
            description: attrs::string(v, "description").filter(|d| !d.is_empty()),
            cidrs: attrs::strings(v, "cidr_blocks"),
            ipv6: attrs::strings(v, "ipv6_cidr_blocks"),
            prefix_lists: attrs::strings(v, "prefix_list_ids"),
            groups: attrs::strings(v, "security_groups"),
            own: attrs::bool(v, "self").unwrap_or(false),
        }
    }

    /// The rule as terraform-provider-aws writes it: unset lists empty and an unset description
    /// `""`, so policy tools reading the JSON plan see what they see from Terraform (checkov
    /// reads a null `prefix_list_ids` as a rule restricted to prefix lists).
    pub fn to_value(&self) -> Value {
        let list = |xs: &[String]| Value::List(xs.iter().map(|s| Value::string(s.clone())).collect());
        Value::object([
            ("cidr_blocks", list(&self.cidrs)),
            ("description", Value::string(self.description.clone().unwrap_or_default())),
            ("from_port", Value::int(self.from)),
            ("ipv6_cidr_blocks", list(&self.ipv6)),
            ("prefix_list_ids", list(&self.prefix_lists)),
            ("protocol", Value::string(self.protocol.clone())),
            ("security_groups", Value::set(self.groups.iter().map(|s| Value::string(s.clone())).collect())),
            ("self", Value::Bool(self.own)),
            ("to_port", Value::int(self.to)),
        ])
    }

    pub fn to_permission(&self, own_id: &str) -> aws_sdk_ec2::types::IpPermission {
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
pub fn canonical(rules: Vec<Rule>) -> Vec<Rule> {
    let mut merged: BTreeMap<(String, i64, i64, Option<String>), Rule> = BTreeMap::new();
    for r in rules {
        let e = merged.entry(r.key()).or_insert_with(|| Rule::empty(r.protocol.clone(), r.from, r.to, r.description.clone()));
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

/// Rules from AWS permissions: one rule per permission and description; the group's own id
/// becomes `self`.
pub fn rules_from_permissions(perms: &[aws_sdk_ec2::types::IpPermission], own_id: &str) -> Vec<Rule> {
    /// The rule of `by` for description `d`, made from `base` on first use.
    fn slot<'a>(by: &'a mut BTreeMap<Option<String>, Rule>, base: &Rule, d: Option<&str>) -> &'a mut Rule {
        let description = d.filter(|d| !d.is_empty()).map(str::to_string);
        by.entry(description.clone()).or_insert_with(|| Rule { description, ..base.clone() })
    }
    let mut out = Vec::new();
    for p in perms {
        let protocol = normalize_protocol(p.ip_protocol().unwrap_or("-1"));
        let (from, to) = (p.from_port().unwrap_or(0) as i64, p.to_port().unwrap_or(0) as i64);
        let mut by_desc: BTreeMap<Option<String>, Rule> = BTreeMap::new();
        let base = Rule::empty(protocol, from, to, None);
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
