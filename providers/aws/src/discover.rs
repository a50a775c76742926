//! Discovery for drift reports: which listings cover the scope a stack manages, and the small
//! object each listing reports (`id`, `name`, `tags`), compared by id with the state.
//!
//! The managed scope is every VPC and ECS cluster the stack manages: in those VPCs every
//! VPC-scoped type is listed (whether the stack uses it or not: an instance made by hand in a
//! managed VPC is exactly what a drift report must show), one listing per type; in those
//! clusters, the services. `--scope region` lists every object of the types the stack uses in
//! the provider's region. Objects AWS makes by itself (a VPC's default security group and main
//! route table, the default VPC and its subnets) are left out unless `include_defaults`.

use crate::common::map_value;
use aws_sdk_ec2::types::Filter;
use infra_provider::{DiscoverRequest, DiscoveryScopeRequest, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The types listed inside a managed VPC.
pub const IN_VPC: &[&str] = &["aws_security_group", "aws_subnet", "aws_route_table", "aws_instance", "aws_lb", "aws_lb_target_group", "aws_efs_mount_target"];

/// Types with a region-wide listing.
const REGION: &[&str] = &[
    "aws_vpc",
    "aws_security_group",
    "aws_subnet",
    "aws_route_table",
    "aws_instance",
    "aws_lb",
    "aws_lb_target_group",
    "aws_efs_mount_target",
    "aws_ecs_service",
];

pub fn scope(req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
    let ids_of = |ty: &str| -> Vec<String> {
        req.managed.iter().filter(|(t, _)| t == ty).filter_map(|(_, v)| v.get_attr("id").and_then(Value::as_str).map(str::to_string)).collect()
    };
    let mut base = BTreeMap::new();
    if req.include_defaults {
        base.insert("include_defaults".to_string(), "true".to_string());
    }
    let request = |ty: &str, extra: Option<(&str, String)>| {
        let mut filter = base.clone();
        filter.extend(extra.map(|(k, v)| (k.to_string(), v)));
        DiscoverRequest { type_name: ty.to_string(), filter }
    };
    if req.region {
        let used: BTreeSet<&str> = req.managed.iter().map(|(t, _)| t.as_str()).collect();
        return REGION.iter().filter(|t| used.contains(*t)).map(|t| request(t, None)).collect();
    }
    let mut out = Vec::new();
    let vpcs = ids_of("aws_vpc");
    if !vpcs.is_empty() {
        out.extend(IN_VPC.iter().map(|t| request(t, Some(("vpc_id", vpcs.join(","))))));
    }
    let clusters = ids_of("aws_ecs_cluster");
    if !clusters.is_empty() {
        out.push(request("aws_ecs_service", Some(("cluster", clusters.join(",")))));
    }
    out
}

/// The VPCs a discovery is limited to, if any.
pub fn vpcs(filter: &BTreeMap<String, String>) -> Option<Vec<String>> {
    filter.get("vpc_id").map(|v| v.split(',').map(str::to_string).collect())
}

/// EC2 filters for [`vpcs`].
pub fn vpc_filters(filter: &BTreeMap<String, String>) -> Vec<Filter> {
    vpcs(filter).map(|v| vec![Filter::builder().name("vpc-id").set_values(Some(v)).build()]).unwrap_or_default()
}

pub fn in_vpcs(filter: &BTreeMap<String, String>, vpc: Option<&str>) -> bool {
    vpcs(filter).is_none_or(|v| vpc.is_some_and(|x| v.iter().any(|w| w == x)))
}

pub fn include_defaults(filter: &BTreeMap<String, String>) -> bool {
    filter.get("include_defaults").is_some_and(|v| v == "true")
}

/// What discovery reports of an object.
pub fn discovered(id: &str, name: Option<&str>, tags: &BTreeMap<String, String>) -> Value {
    let name = name.map(str::to_string).or_else(|| tags.get("Name").cloned());
    Value::object([("id", Value::string(id)), ("name", name.map(Value::string).unwrap_or(Value::Null)), ("tags", map_value(tags))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(ty: &str, id: &str) -> (String, Value) {
        (ty.to_string(), Value::object([("id", Value::string(id))]))
    }

    #[test]
    fn the_managed_scope_is_the_managed_vpcs_and_clusters_one_listing_per_type() {
        let req = DiscoveryScopeRequest {
            managed: vec![obj("aws_vpc", "vpc-1"), obj("aws_ecs_cluster", "arn:c"), obj("aws_subnet", "s-1")],
            region: false,
            include_defaults: false,
        };
        let s = scope(&req);
        assert_eq!(s.len(), IN_VPC.len() + 1);
        assert!(s.iter().all(|r| r.filter.get("vpc_id").map(String::as_str) == Some("vpc-1") || r.filter.get("cluster").map(String::as_str) == Some("arn:c")));
        let region = scope(&DiscoveryScopeRequest { region: true, include_defaults: true, ..req });
        assert_eq!(region.iter().map(|r| r.type_name.as_str()).collect::<Vec<_>>(), ["aws_vpc", "aws_subnet"]);
        assert!(region.iter().all(|r| include_defaults(&r.filter) && vpcs(&r.filter).is_none()));
        assert!(scope(&DiscoveryScopeRequest::default()).is_empty());
    }
}
