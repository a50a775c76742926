//! `aws_lb`: one `DescribeLoadBalancers` per 20 ARNs, `DescribeTags` per 20 ARNs; the
//! attributes (deletion protection, idle timeout, HTTP/2) have no batch API: one
//! `DescribeLoadBalancerAttributes` per load balancer, concurrently, and only on a full
//! refresh. A load balancer with deletion protection refuses a delete at plan time.

use super::*;
use crate::AwsProvider;
use elb::types::{
    EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum, IpAddressType, IpamPools, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
    MinimumLoadBalancerCapacity, RemoveIpamPoolEnum, SubnetMapping,
};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct Lb;

describe_by_arns!(
    describe_lbs,
    describe_load_balancers,
    "DescribeLoadBalancers",
    set_load_balancer_arns,
    load_balancers,
    load_balancer_arn,
    elb::types::LoadBalancer
);

async fn lb_attributes(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    let out = c.elb.describe_load_balancer_attributes().load_balancer_arn(arn).send().await.map_err(|e| api_error("DescribeLoadBalancerAttributes", &e))?;
    Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
}

/// How an argument is written as a load balancer attribute value.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Text,
}

const ALB: &[&str] = &["application"];
const NLB: &[&str] = &["network"];
const ALB_NLB: &[&str] = &["application", "network"];
const NLB_GWLB: &[&str] = &["network", "gateway"];
const ALL: &[&str] = &["application", "network", "gateway"];

/// Every top-level argument that is a load balancer attribute: its key, how it is written, the
/// load balancer types it applies to, and terraform-provider-aws's default. Planned with the
/// default where it applies and is left out; set by `ModifyLoadBalancerAttributes` after the
/// create and on change; read from `DescribeLoadBalancerAttributes`. Where it does not apply
/// (an idle timeout on a network load balancer) the configured value stands, as the provider's
/// diff suppression leaves it.
const LB_ATTRS: &[(&str, &str, Kind, &[&str], fn() -> Value)] = &[
    ("enable_deletion_protection", "deletion_protection.enabled", Kind::Bool, ALL, || Value::Bool(false)),
    ("idle_timeout", "idle_timeout.timeout_seconds", Kind::Int, ALB, || Value::int(60)),
    ("enable_http2", "routing.http2.enabled", Kind::Bool, ALB, || Value::Bool(true)),
    ("client_keep_alive", "client_keep_alive.seconds", Kind::Int, ALB, || Value::int(3600)),
    ("desync_mitigation_mode", "routing.http.desync_mitigation_mode", Kind::Text, ALB, || Value::string("defensive")),
    ("drop_invalid_header_fields", "routing.http.drop_invalid_header_fields.enabled", Kind::Bool, ALB, || Value::Bool(false)),
    ("enable_tls_version_and_cipher_suite_headers", "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", Kind::Bool, ALB, || Value::Bool(false)),
    ("enable_waf_fail_open", "waf.fail_open.enabled", Kind::Bool, ALB, || Value::Bool(false)),
    ("enable_xff_client_port", "routing.http.xff_client_port.enabled", Kind::Bool, ALB, || Value::Bool(false)),
    ("preserve_host_header", "routing.http.preserve_host_header.enabled", Kind::Bool, ALB, || Value::Bool(false)),
    ("xff_header_processing_mode", "routing.http.xff_header_processing.mode", Kind::Text, ALB, || Value::string("append")),
    ("enable_cross_zone_load_balancing", "load_balancing.cross_zone.enabled", Kind::Bool, NLB_GWLB, || Value::Bool(false)),
    ("dns_record_client_routing_policy", "dns_record.client_routing_policy", Kind::Text, NLB, || Value::string("any_availability_zone")),
    ("enable_zonal_shift", "zonal_shift.config.enabled", Kind::Bool, ALB_NLB, || Value::Bool(false)),
];

/// The log blocks: `access_logs` (application and network) and `connection_logs`
/// (application), each `<prefix>.enabled`, `.bucket` and `.prefix`.
const LOG_BLOCKS: &[(&str, &str, &[&str])] = &[("access_logs", "access_logs.s3", ALB_NLB), ("connection_logs", "connection_logs.s3", ALB)];

fn lb_type(v: Option<&Value>) -> String {
    v.and_then(|v| attrs::string(v, "load_balancer_type")).unwrap_or_else(|| "application".into())
}

fn attr_text(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.clone()),
        other => other.as_i64().map(|n| n.to_string()),
    }
}

fn attr_value(a: &BTreeMap<String, String>, key: &str, kind: Kind) -> Value {
    match kind {
        Kind::Bool => attr_bool(a, key),
        Kind::Int => attr_int(a, key),
        Kind::Text => a.get(key).filter(|s| !s.is_empty()).map(Value::string).unwrap_or(Value::Null),
    }
}

/// A log block as read: only when it was configured or AWS has logging on (drift).
fn log_block(a: &BTreeMap<String, String>, key: &str, prior: Option<&Value>, name: &str) -> Value {
    let configured = prior.and_then(|p| single_block(p, name)).is_some();
    let enabled = a.get(&format!("{key}.enabled")).is_some_and(|v| v == "true");
    if !configured && !enabled {
        return Value::List(Vec::new());
    }
    let text = |k: &str| a.get(&format!("{key}.{k}")).filter(|s| !s.is_empty()).map(Value::string).unwrap_or(Value::Null);
    Value::List(vec![Value::object([("bucket", text("bucket")), ("enabled", Value::Bool(enabled)), ("prefix", text("prefix"))])])
}

/// `subnet_mapping` as read: only when configured (else `subnets` says it).
fn subnet_mappings(lb: &elb::types::LoadBalancer, prior: Option<&Value>) -> Value {
    let configured = prior.and_then(|p| p.get_attr("subnet_mapping")).and_then(Value::as_seq).is_some_and(|s| !s.is_empty());
    if !configured {
        return Value::set(Vec::new());
    }
    Value::set(
        lb.availability_zones()
            .iter()
            .map(|z| {
                let addr = z.load_balancer_addresses().first();
                Value::object([
                    ("subnet_id", opt_string(z.subnet_id())),
                    ("outpost_id", opt_string(z.outpost_id())),
                    ("allocation_id", opt_string(addr.and_then(|a| a.allocation_id()))),
                    ("private_ipv4_address", opt_string(addr.and_then(|a| a.private_ipv4_address()))),
                    ("ipv6_address", opt_string(addr.and_then(|a| a.ipv6_address()))),
                ])
            })
            .collect(),
    )
}

/// `name_prefix` as read: the recorded prefix while the name still starts with it.
pub(super) fn name_prefix_of(name: Option<&str>, prior: Option<&Value>) -> Value {
    match (name, prior.and_then(|p| attrs::string(p, "name_prefix"))) {
        (Some(n), Some(p)) if n.starts_with(&p) => Value::string(p),
        _ => Value::Null,
    }
}

fn lb_value(c: &Clients, lb: &elb::types::LoadBalancer, tags: &BTreeMap<String, String>, a: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let mut v = Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("arn_suffix", Value::string(arn_suffix(arn))),
        ("dns_name", opt_string(lb.dns_name())),
        ("zone_id", opt_string(lb.canonical_hosted_zone_id())),
        ("vpc_id", opt_string(lb.vpc_id())),
        ("name", opt_string(lb.load_balancer_name())),
        ("internal", Value::Bool(lb.scheme().is_some_and(|s| s.as_str() == "internal"))),
        ("load_balancer_type", Value::string(lb.r#type().map(|t| t.as_str()).unwrap_or("application"))),
        ("security_groups", string_set(lb.security_groups().iter().cloned())),
        ("subnets", string_set(lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)))),
        ("ip_address_type", Value::string(lb.ip_address_type().map(|t| t.as_str()).unwrap_or("ipv4"))),
        ("name_prefix", name_prefix_of(lb.load_balancer_name(), prior)),
        (
            "customer_owned_ipv4_pool",
            or_default(opt_string(lb.customer_owned_ipv4_pool()), prior.and_then(|p| p.get_attr("customer_owned_ipv4_pool")).cloned().unwrap_or(Value::Null)),
        ),
        ("enforce_security_group_inbound_rules_on_private_link_traffic", opt_string(lb.enforce_security_group_inbound_rules_on_private_link_traffic())),
        ("subnet_mapping", subnet_mappings(lb, prior)),
        (
            "ipam_pools",
            Value::List(
                lb.ipam_pools().and_then(|p| p.ipv4_ipam_pool_id()).map(|id| Value::object([("ipv4_ipam_pool_id", Value::string(id))])).into_iter().collect(),
            ),
        ),
        // No batch read, and moto has no capacity reservations: the configured value stands
        // unless a full refresh read it ([`capacity_of`]).
        ("minimum_load_balancer_capacity", prior.and_then(|p| p.get_attr("minimum_load_balancer_capacity")).cloned().unwrap_or(Value::List(Vec::new()))),
        tags,
        tags_all,
    ]);
    let kind = lb.r#type().map(|t| t.as_str().to_string()).unwrap_or_else(|| "application".into());
    if let Value::Object(m) = &mut v {
        for (attr, key, k, applies, default) in LB_ATTRS {
            let read = if applies.contains(&kind.as_str()) {
                // AWS reports every attribute of the load balancer's type; one left out (by
                // moto, for a load balancer made by hand) has AWS's default.
                or_default(attr_value(a, key, *k), default())
            } else {
                prior.and_then(|p| p.get_attr(attr)).cloned().unwrap_or(Value::Null)
            };
            m.insert(attr.to_string(), read);
        }
        for (name, key, applies) in LOG_BLOCKS {
            let read = if applies.contains(&kind.as_str()) {
                log_block(a, key, prior, name)
            } else {
                prior.and_then(|p| p.get_attr(name)).cloned().unwrap_or(Value::List(Vec::new()))
            };
            m.insert(name.to_string(), read);
        }
    }
    v
}

fn or_default(v: Value, default: Value) -> Value {
    if v.is_null() {
        default
    } else {
        v
    }
}

async fn wait_lb_active(c: &Clients, arn: &str, limit: Duration) -> Result<(), Diagnostic> {
    wait_for(&format!("load balancer {arn} becoming active"), limit, Duration::from_secs(2), || async {
        let found = describe_lbs(c, &[arn.to_string()]).await?;
        match found.get(arn).and_then(|lb| lb.state()).and_then(|s| s.code()).map(|c| c.as_str().to_string()) {
            Some(s) if s == "active" => Ok(Some(())),
            Some(s) if s == "failed" => Err(Diagnostic::error("Load balancer failed", format!("{arn} reached state failed."))),
            _ => Ok(None),
        }
    })
    .await
}

/// The attributes to set going from `prior` (`None`: just created) to `p`: those of the
/// load balancer's type that changed, and the log blocks (turned off when removed).
fn lb_attribute_changes(prior: Option<&Value>, p: &Value) -> Vec<LoadBalancerAttribute> {
    let kind = lb_type(Some(p));
    let changed = |k: &str| p.get_attr(k).filter(|v| !v.is_null() && prior.and_then(|o| o.get_attr(k)).is_none_or(|o| !o.equals(v)));
    let mut out = Vec::new();
    let mut put = |key: String, value: String| out.push(LoadBalancerAttribute::builder().key(key).value(value).build());
    for (attr, key, _, applies, _) in LB_ATTRS {
        if let Some(text) = changed(attr).filter(|_| applies.contains(&kind.as_str())).and_then(attr_text) {
            put(key.to_string(), text);
        }
    }
    for (name, key, applies) in LOG_BLOCKS {
        if !applies.contains(&kind.as_str()) {
            continue;
        }
        let (old, new) = (prior.and_then(|o| single_block(o, name)), single_block(p, name));
        match (old, new) {
            (old, Some(new)) if old.as_ref().is_none_or(|o| !o.equals(&new)) => {
                put(format!("{key}.enabled"), attrs::bool(&new, "enabled").unwrap_or(false).to_string());
                put(format!("{key}.bucket"), attrs::string(&new, "bucket").unwrap_or_default());
                put(format!("{key}.prefix"), attrs::string(&new, "prefix").unwrap_or_default());
            }
            (Some(_), None) => put(format!("{key}.enabled"), "false".into()),
            _ => {}
        }
    }
    out
}

/// `minimum_load_balancer_capacity` → `ModifyCapacityReservation` (a removed block resets it).
async fn set_capacity(c: &Clients, arn: &str, prior: Option<&Value>, p: &Value) -> Result<(), Diagnostic> {
    let units = |v: &Value| single_block(v, "minimum_load_balancer_capacity").and_then(|b| int_of(&b, "capacity_units"));
    let (old, new) = (prior.and_then(units), units(p));
    if old == new {
        return Ok(());
    }
    let req = c.elb.modify_capacity_reservation().load_balancer_arn(arn);
    let req = match new {
        Some(n) => req.minimum_load_balancer_capacity(MinimumLoadBalancerCapacity::builder().capacity_units(n).build()),
        None => req.reset_capacity_reservation(true),
    };
    req.send().await.map(|_| ()).map_err(|e| api_error("ModifyCapacityReservation", &e))
}

/// The minimum capacity AWS reserves for the load balancer (one call per load balancer: only
/// on a full refresh of one that configures it).
async fn capacity_of(c: &Clients, arn: &str) -> Result<Value, Diagnostic> {
    let out = c.elb.describe_capacity_reservation().load_balancer_arn(arn).send().await.map_err(|e| api_error("DescribeCapacityReservation", &e))?;
    Ok(Value::List(
        out.minimum_load_balancer_capacity()
            .and_then(|m| m.capacity_units())
            .map(|n| Value::object([("capacity_units", Value::int(n.into()))]))
            .into_iter()
            .collect(),
    ))
}

fn ipam_pools(p: &Value) -> Option<IpamPools> {
    single_block(p, "ipam_pools").and_then(|b| attrs::string(&b, "ipv4_ipam_pool_id")).map(|id| IpamPools::builder().ipv4_ipam_pool_id(id).build())
}

fn enforce(p: &Value) -> Option<EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum> {
    attrs::string(p, "enforce_security_group_inbound_rules_on_private_link_traffic")
        .map(|s| EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum::from(s.as_str()))
}

/// A generated name: `name_prefix` (or `infra-`) and a suffix from the create token, at most
/// 32 characters.
pub(super) fn name_from(p: &Value, token: &str) -> String {
    match attrs::string(p, "name_prefix") {
        Some(prefix) => {
            let suffix: String = token.replace('-', "").chars().take(32usize.saturating_sub(prefix.len())).collect();
            format!("{prefix}{suffix}")
        }
        None => generated_name(token),
    }
}

async fn set_lb_attributes(c: &Clients, arn: &str, changes: Vec<LoadBalancerAttribute>) -> Result<(), Diagnostic> {
    if changes.is_empty() {
        return Ok(());
    }
    c.elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(changes))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifyLoadBalancerAttributes", &e))
}

/// The attributes a routine refresh keeps: every one of the load balancer's type as recorded,
/// or `None` (read them) when one is missing.
fn recorded_lb_attributes(p: &Value) -> Option<BTreeMap<String, String>> {
    let kind = lb_type(Some(p));
    let mut out = BTreeMap::new();
    for (attr, key, _, _, _) in LB_ATTRS.iter().filter(|a| a.3.contains(&kind.as_str())) {
        out.insert(key.to_string(), attr_text(p.get_attr(attr)?)?);
    }
    for (name, key, applies) in LOG_BLOCKS {
        if let (true, Some(b)) = (applies.contains(&kind.as_str()), single_block(p, name)) {
            out.insert(format!("{key}.enabled"), attrs::bool(&b, "enabled").unwrap_or(false).to_string());
            out.insert(format!("{key}.bucket"), attrs::string(&b, "bucket").unwrap_or_default());
            out.insert(format!("{key}.prefix"), attrs::string(&b, "prefix").unwrap_or_default());
        }
    }
    Some(out)
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Lb {
    fn name(&self) -> &'static str {
        "aws_lb"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let opt = AttrSchema::optional;
        let logs = || {
            let schema = Schema::new().attr("bucket", AttrSchema::required(Type::String)).attr("enabled", opt(Type::Bool)).attr("prefix", opt(Type::String));
            BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema }
        };
        let mapping = Schema::new()
            .attr("subnet_id", AttrSchema::required(Type::String))
            .attr("allocation_id", opt(Type::String))
            .attr("ipv6_address", opt(Type::String))
            .attr("private_ipv4_address", opt(Type::String))
            .attr("outpost_id", s(Type::String));
        let one = |schema: Schema| BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema };
        let mut schema = Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("arn_suffix", s(Type::String))
            .attr("dns_name", s(Type::String))
            .attr("zone_id", s(Type::String))
            .attr("vpc_id", s(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("internal", AttrSchema::optional_computed(Type::Bool).force_new().default(Value::Bool(false)))
            .attr("load_balancer_type", opt(Type::String).force_new().default(Value::string("application")))
            .attr("security_groups", AttrSchema::optional_computed(string_set_type()))
            .attr("subnets", AttrSchema::optional_computed(string_set_type()))
            .attr("ip_address_type", AttrSchema::optional_computed(Type::String).default(Value::string("ipv4")))
            .attr("customer_owned_ipv4_pool", opt(Type::String).force_new())
            .attr("enforce_security_group_inbound_rules_on_private_link_traffic", AttrSchema::optional_computed(Type::String))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("access_logs", logs())
            .block("connection_logs", logs())
            .block("ipam_pools", one(Schema::new().attr("ipv4_ipam_pool_id", AttrSchema::required(Type::String))))
            .block("minimum_load_balancer_capacity", one(Schema::new().attr("capacity_units", AttrSchema::required(Type::Number))))
            .block("subnet_mapping", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: true, schema: mapping })
            .block("timeouts", timeouts_block(&["create", "update", "delete"]));
        for (attr, _, kind, _, _) in LB_ATTRS {
            let ty = match kind {
                Kind::Bool => Type::Bool,
                Kind::Int => Type::Number,
                Kind::Text => Type::String,
            };
            schema = schema.attr(attr, opt(ty));
        }
        schema
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = validate_name(config);
        d.extend(validate_timeouts(config));
        d.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        if attrs::string(config, "name_prefix").is_some_and(|p| p.len() > 6) {
            d.push(
                Diagnostic::error("Invalid name_prefix", "name_prefix has at most 6 characters (the generated name has at most 32).")
                    .with_path(attrs::at("name_prefix")),
            );
        }
        d
    }

    /// The defaults terraform-provider-aws gives the attributes of the load balancer's type,
    /// and `enabled = false` in a log block that leaves it out.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        let kind = lb_type(Some(config));
        if let Value::Object(m) = &mut cfg {
            for (attr, _, _, applies, default) in LB_ATTRS {
                if applies.contains(&kind.as_str()) {
                    attrs::set_default(m, attr, default());
                }
            }
            for (name, _, _) in LOG_BLOCKS {
                if let Some(Value::List(items)) = m.get_mut(*name) {
                    for item in items.iter_mut() {
                        if let Value::Object(b) = item {
                            attrs::set_default(b, "enabled", Value::Bool(false));
                        }
                    }
                }
            }
            if let Some(Value::Set(items)) = m.get_mut("subnet_mapping") {
                for item in items.iter_mut() {
                    if let Value::Object(b) = item {
                        let outpost = prior
                            .and_then(|p| p.get_attr("subnet_mapping"))
                            .and_then(Value::as_seq)
                            .and_then(|old| old.iter().find(|o| o.get_attr("subnet_id") == b.get("subnet_id")))
                            .and_then(|o| o.get_attr("outpost_id"))
                            .cloned();
                        attrs::set_default(b, "outpost_id", outpost.unwrap_or(Value::Unknown));
                    }
                }
            }
            if m.get("name").is_none_or(Value::is_null) {
                if let Some(prefix) = m.get("name_prefix").filter(|v| !v.is_null()).cloned() {
                    // The name is generated from the prefix: known once created.
                    let kept = prior.filter(|p| p.get_attr("name_prefix").is_some_and(|o| o.equals(&prefix))).and_then(|p| p.get_attr("name")).cloned();
                    m.insert("name".into(), kept.unwrap_or(Value::Unknown));
                }
            }
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// A load balancer with deletion protection cannot be deleted: say so at plan time.
    fn check_delete(&self, prior: &Value) -> Vec<Diagnostic> {
        if attrs::bool(prior, "enable_deletion_protection") != Some(true) {
            return Vec::new();
        }
        vec![Diagnostic::error(
            "Deletion protection is enabled",
            format!(
                "The plan deletes or replaces load balancer {}, which has deletion protection enabled. Set enable_deletion_protection = false and apply that first.",
                attrs::string(prior, "name").unwrap_or_else(|| id_of(prior))
            ),
        )]
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let scheme = if attrs::bool(p, "internal") == Some(true) { LoadBalancerSchemeEnum::Internal } else { LoadBalancerSchemeEnum::InternetFacing };
        let mappings: Vec<SubnetMapping> = p
            .get_attr("subnet_mapping")
            .and_then(Value::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|m| {
                SubnetMapping::builder()
                    .set_subnet_id(attrs::string(m, "subnet_id"))
                    .set_allocation_id(attrs::string(m, "allocation_id"))
                    .set_private_ipv4_address(attrs::string(m, "private_ipv4_address"))
                    .set_ipv6_address(attrs::string(m, "ipv6_address"))
                    .build()
            })
            .collect();
        let subnets = if mappings.is_empty() { Some(attrs::strings(p, "subnets")) } else { None };
        let out = c
            .clients()?
            .once
            .elb
            .create_load_balancer()
            .name(attrs::string(p, "name").unwrap_or_else(|| name_from(p, token)))
            .set_subnets(subnets)
            .set_subnet_mappings(Some(mappings).filter(|m| !m.is_empty()))
            .set_security_groups(Some(attrs::strings(p, "security_groups")).filter(|s| !s.is_empty()))
            .scheme(scheme)
            .r#type(LoadBalancerTypeEnum::from(attrs::string(p, "load_balancer_type").unwrap_or_else(|| "application".into()).as_str()))
            .ip_address_type(IpAddressType::from(attrs::string(p, "ip_address_type").unwrap_or_else(|| "ipv4".into()).as_str()))
            .set_customer_owned_ipv4_pool(attrs::string(p, "customer_owned_ipv4_pool"))
            .set_ipam_pools(ipam_pools(p))
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateLoadBalancer", &e))?;
        Ok(with_id(p, out.load_balancers().first().and_then(|l| l.load_balancer_arn()).unwrap_or_default()))
    }

    /// Waits until active (the create timeout), then sets every attribute, defaults included:
    /// what AWS reports is then what was configured. A network load balancer's private link
    /// enforcement and the minimum capacity follow.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, arn) = (c.clients()?, attrs::req_string(created, "id")?);
        wait_lb_active(c, &arn, timeout(planned, "create", Duration::from_secs(600))).await?;
        set_lb_attributes(c, &arn, lb_attribute_changes(None, planned)).await?;
        if let Some(e) = enforce(planned) {
            c.elb
                .set_security_groups()
                .load_balancer_arn(&arn)
                .set_security_groups(Some(attrs::strings(planned, "security_groups")))
                .enforce_security_group_inbound_rules_on_private_link_traffic(e)
                .send()
                .await
                .map_err(|e| api_error("SetSecurityGroups", &e))?;
        }
        Ok(set_capacity(c, &arn, None, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let prior = |id: &str| objects.iter().find(|o| id_of(o) == id);
        let found = describe_lbs(c, &ids).await?;
        let present: Vec<String> = found.keys().cloned().collect();
        let tags = describe_tags(c, &present).await?;
        // Attributes have no batch read: a routine refresh keeps the recorded values.
        let (mut attributes, missing) = split_recorded(&present, full, |id| recorded_lb_attributes(prior(id)?));
        attributes.extend(per_object(c, &missing, |c, arn| async move { lb_attributes(&c, &arn).await }).await?);
        let none = BTreeMap::new();
        // The minimum capacity: one call per load balancer that configures it, on a full refresh.
        let with_capacity: Vec<String> = if full {
            present.iter().filter(|id| prior(id).and_then(|p| single_block(p, "minimum_load_balancer_capacity")).is_some()).cloned().collect()
        } else {
            Vec::new()
        };
        let capacity = per_object(c, &with_capacity, |c, arn| async move { capacity_of(&c, &arn).await }).await?;
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| {
                found.get(id).map(|lb| {
                    let mut v = lb_value(c, lb, tags.get(id).unwrap_or(&none), attributes.get(id).unwrap_or(&none), Some(p));
                    if let (Value::Object(m), Some(read)) = (&mut v, capacity.get(id)) {
                        m.insert("minimum_load_balancer_capacity".into(), read.clone());
                    }
                    v
                })
            })
            .collect())
    }

    // One paged DescribeLoadBalancers, kept to the scope's VPCs.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.elb.describe_load_balancers().page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeLoadBalancers", &e))?;
            for lb in page.load_balancers().iter().filter(|lb| crate::discover::in_vpcs(filter, lb.vpc_id())) {
                out.push(crate::discover::discovered(lb.load_balancer_arn().unwrap_or_default(), lb.load_balancer_name(), &BTreeMap::new()));
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        change_tags(c, prior, p).await?;
        let id = attrs::req_string(prior, "id")?;
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("security_groups") || changed("enforce_security_group_inbound_rules_on_private_link_traffic") {
            c.elb
                .set_security_groups()
                .load_balancer_arn(&id)
                .set_security_groups(Some(attrs::strings(p, "security_groups")))
                .set_enforce_security_group_inbound_rules_on_private_link_traffic(enforce(p))
                .send()
                .await
                .map_err(|e| api_error("SetSecurityGroups", &e))?;
        }
        let pools = |v: &Value| single_block(v, "ipam_pools").and_then(|b| attrs::string(&b, "ipv4_ipam_pool_id"));
        if pools(prior) != pools(p) {
            let req = c.elb.modify_ip_pools().load_balancer_arn(&id);
            let req = match ipam_pools(p) {
                Some(pools) => req.ipam_pools(pools),
                None => req.remove_ipam_pools(RemoveIpamPoolEnum::Ipv4),
            };
            req.send().await.map_err(|e| api_error("ModifyIpPools", &e))?;
        }
        set_capacity(c, &id, Some(prior), p).await?;
        if changed("subnets") {
            c.elb.set_subnets().load_balancer_arn(&id).set_subnets(Some(attrs::strings(p, "subnets"))).send().await.map_err(|e| api_error("SetSubnets", &e))?;
        }
        if changed("ip_address_type") {
            c.elb
                .set_ip_address_type()
                .load_balancer_arn(&id)
                .ip_address_type(IpAddressType::from(attrs::req_string(p, "ip_address_type")?.as_str()))
                .send()
                .await
                .map_err(|e| api_error("SetIpAddressType", &e))?;
        }
        set_lb_attributes(c, &id, lb_attribute_changes(Some(prior), p)).await?;
        Ok(wait_lb_active(c, &id, timeout(p, "update", Duration::from_secs(600))).await?)
    }

    /// Deletes and waits until AWS no longer lists it, so that what depended on it (a
    /// security group attached to its network interfaces) can go next.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        if attrs::bool(prior, "enable_deletion_protection") == Some(true) {
            return Err(Diagnostic::error(
                "Deletion protection is enabled",
                format!("{id} has deletion protection enabled: set enable_deletion_protection = false and apply before destroying it."),
            )
            .into());
        }
        match c.elb.delete_load_balancer().load_balancer_arn(&id).send().await {
            Ok(_) => {}
            Err(e) if gone(code_of(&e)) => return Ok(()),
            Err(e) => return Err(api_error("DeleteLoadBalancer", &e).into()),
        }
        wait_for(&format!("load balancer {id} going away"), timeout(prior, "delete", Duration::from_secs(600)), Duration::from_secs(2), || async {
            Ok(describe_lbs(c, std::slice::from_ref(&id)).await?.is_empty().then_some(()))
        })
        .await?;
        Ok(())
    }

    /// Every load balancer of the account, by its intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let mut all = Vec::new();
        let mut pages = c.elb.describe_load_balancers().page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            all.extend(
                page.map_err(|e| api_error("DescribeLoadBalancers", &e))?.load_balancers().iter().filter_map(|l| l.load_balancer_arn().map(str::to_string)),
            );
        }
        Ok(find_by_intent(c, &all, token).await?.map(|arn| with_id(planned, &arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
