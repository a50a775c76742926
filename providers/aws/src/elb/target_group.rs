//! `aws_lb_target_group`: one `DescribeTargetGroups` per 20 ARNs, `DescribeTags` per 20 ARNs;
//! the target group attributes (deregistration delay, stickiness, slow start, algorithm,
//! failover, health thresholds) have no batch API: one `DescribeTargetGroupAttributes` per
//! group, concurrently, and only on a full refresh.

use super::lb::{name_from, name_prefix_of};
use super::*;
use crate::AwsProvider;
use elb::types::{Matcher, ProtocolEnum, TargetGroupAttribute, TargetGroupIpAddressTypeEnum, TargetTypeEnum};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct TargetGroup;

describe_by_arns!(
    describe_target_groups,
    describe_target_groups,
    "DescribeTargetGroups",
    set_target_group_arns,
    target_groups,
    target_group_arn,
    elb::types::TargetGroup
);

async fn tg_attributes(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    let out = c.elb.describe_target_group_attributes().target_group_arn(arn).send().await.map_err(|e| api_error("DescribeTargetGroupAttributes", &e))?;
    Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
}

/// How an argument is written as a target group attribute value.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Text,
}

/// Which target groups an attribute applies to (by protocol and target type).
#[derive(Clone, Copy)]
enum Applies {
    NotLambda,
    Lambda,
    /// HTTP and HTTPS groups (application load balancers).
    Http,
    /// TCP, TLS, UDP and TCP_UDP groups (network load balancers).
    Tcp,
    NotLambdaNorGeneve,
}

fn applies(a: Applies, p: &Value) -> bool {
    let protocol = attrs::string(p, "protocol").unwrap_or_default();
    let lambda = attrs::string(p, "target_type").is_some_and(|t| t == "lambda");
    match a {
        Applies::NotLambda => !lambda,
        Applies::Lambda => lambda,
        Applies::Http => !lambda && protocol.starts_with("HTTP"),
        Applies::Tcp => !lambda && matches!(protocol.as_str(), "TCP" | "TLS" | "UDP" | "TCP_UDP"),
        Applies::NotLambdaNorGeneve => !lambda && protocol != "GENEVE",
    }
}

/// Every top-level argument that is a target group attribute: its key, how it is written, the
/// groups it applies to, and terraform-provider-aws's default for the optional ones that have
/// one (the others are computed: AWS's value is read). Set by `ModifyTargetGroupAttributes`
/// after the create and on change; read from `DescribeTargetGroupAttributes`. Where it does not
/// apply (a slow start on a TCP group), or AWS does not report it, the planned value stands.
const TG_ATTRS: &[(&str, &str, Kind, Applies, Option<fn() -> Value>)] = &[
    ("deregistration_delay", "deregistration_delay.timeout_seconds", Kind::Text, Applies::NotLambda, Some(|| Value::string("300"))),
    ("connection_termination", "deregistration_delay.connection_termination.enabled", Kind::Bool, Applies::Tcp, None),
    ("lambda_multi_value_headers_enabled", "lambda.multi_value_headers.enabled", Kind::Bool, Applies::Lambda, Some(|| Value::Bool(false))),
    ("load_balancing_algorithm_type", "load_balancing.algorithm.type", Kind::Text, Applies::Http, None),
    ("load_balancing_anomaly_mitigation", "load_balancing.algorithm.anomaly_mitigation", Kind::Text, Applies::Http, None),
    ("load_balancing_cross_zone_enabled", "load_balancing.cross_zone.enabled", Kind::Text, Applies::NotLambdaNorGeneve, None),
    ("preserve_client_ip", "preserve_client_ip.enabled", Kind::Text, Applies::Tcp, None),
    ("proxy_protocol_v2", "proxy_protocol_v2.enabled", Kind::Bool, Applies::Tcp, Some(|| Value::Bool(false))),
    ("slow_start", "slow_start.duration_seconds", Kind::Int, Applies::Http, Some(|| Value::int(0))),
];

/// A recorded or planned value to keep, null while unknown (a read never returns unknowns).
fn known(v: Option<&Value>) -> Value {
    v.filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null)
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

/// The attributes an object (planned or recorded) sets, as AWS's attribute map: the table's
/// arguments that apply to the group, then the blocks.
fn tg_attribute_map(p: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (attr, key, _, app, _) in TG_ATTRS {
        if let Some(text) = p.get_attr(attr).filter(|_| applies(*app, p)).and_then(attr_text) {
            out.insert(key.to_string(), text);
        }
    }
    let mut put = |key: &str, v: Option<&Value>| {
        if let Some(text) = v.and_then(attr_text) {
            out.insert(key.to_string(), text);
        }
    };
    if let Some(s) = single_block(p, "stickiness") {
        put("stickiness.enabled", s.get_attr("enabled"));
        put("stickiness.type", s.get_attr("type"));
        match attrs::string(&s, "type").as_deref() {
            Some("lb_cookie") => put("stickiness.lb_cookie.duration_seconds", s.get_attr("cookie_duration")),
            Some("app_cookie") => {
                put("stickiness.app_cookie.cookie_name", s.get_attr("cookie_name"));
                put("stickiness.app_cookie.duration_seconds", s.get_attr("cookie_duration"));
            }
            _ => {}
        }
    }
    if let Some(f) = single_block(p, "target_failover") {
        put("target_failover.on_deregistration", f.get_attr("on_deregistration"));
        put("target_failover.on_unhealthy", f.get_attr("on_unhealthy"));
    }
    if let Some(h) = single_block(p, "target_group_health") {
        for (block, key) in [("dns_failover", "dns_failover"), ("unhealthy_state_routing", "unhealthy_state_routing")] {
            if let Some(b) = single_block(&h, block) {
                put(&format!("target_group_health.{key}.minimum_healthy_targets.count"), b.get_attr("minimum_healthy_targets_count"));
                put(&format!("target_group_health.{key}.minimum_healthy_targets.percentage"), b.get_attr("minimum_healthy_targets_percentage"));
            }
        }
    }
    if let Some(s) = single_block(p, "target_health_state") {
        put("target_health_state.unhealthy.connection_termination.enabled", s.get_attr("enable_unhealthy_connection_termination"));
        put("target_health_state.unhealthy.draining_interval_seconds", s.get_attr("unhealthy_draining_interval"));
    }
    out
}

/// The attributes to send going from `prior` (`None`: just created) to `p`: those whose value
/// changed, and stickiness turned off when its block is removed.
fn tg_attribute_changes(prior: Option<&Value>, p: &Value) -> Vec<TargetGroupAttribute> {
    let old = prior.map(tg_attribute_map).unwrap_or_default();
    let mut new = tg_attribute_map(p);
    if old.get("stickiness.enabled").is_some_and(|e| e == "true") && single_block(p, "stickiness").is_none() {
        new.insert("stickiness.enabled".into(), "false".into());
    }
    new.into_iter().filter(|(k, v)| old.get(k) != Some(v)).map(|(k, v)| TargetGroupAttribute::builder().key(k).value(v).build()).collect()
}

async fn set_tg_attributes(c: &Clients, arn: &str, changes: Vec<TargetGroupAttribute>) -> Result<(), Diagnostic> {
    if changes.is_empty() {
        return Ok(());
    }
    c.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .set_attributes(Some(changes))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifyTargetGroupAttributes", &e))
}

/// A block as read from the attribute map: the keys of `fields` (`(argument, key, kind)`)
/// when it was configured or AWS reports the first key; a key AWS does not report keeps the
/// configured value.
fn block_read(a: &BTreeMap<String, String>, prior: Option<&Value>, name: &str, fields: &[(&str, &str, Kind)]) -> Value {
    let configured = prior.and_then(|p| single_block(p, name));
    // AWS reports the target group health settings of every group: only configured ones count.
    let reported = !fields.first().is_some_and(|(_, k, _)| k.starts_with("target_group_health.")) && fields.first().is_some_and(|(_, k, _)| a.contains_key(*k));
    if configured.is_none() && !reported {
        return Value::List(Vec::new());
    }
    let mut m = BTreeMap::new();
    for (arg, key, kind) in fields {
        let kept = known(configured.as_ref().and_then(|c| c.get_attr(arg)));
        let v = if a.contains_key(*key) { attr_value(a, key, *kind) } else { kept };
        m.insert(arg.to_string(), v);
    }
    Value::List(vec![Value::Object(m.into())])
}

/// `stickiness` as read: when configured or enabled in AWS. The cookie fields are those of
/// the stickiness type; the others keep what was configured.
fn stickiness_read(a: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let configured = prior.and_then(|p| single_block(p, "stickiness"));
    let enabled = a.get("stickiness.enabled").is_some_and(|e| e == "true");
    if configured.is_none() && !enabled {
        return Value::List(Vec::new());
    }
    let kept = |k: &str| known(configured.as_ref().and_then(|c| c.get_attr(k)));
    let ty = a.get("stickiness.type").cloned();
    let (duration, name) = match ty.as_deref() {
        Some("lb_cookie") => (or_if_null(attr_int(a, "stickiness.lb_cookie.duration_seconds"), kept("cookie_duration")), kept("cookie_name")),
        Some("app_cookie") => (
            or_if_null(attr_int(a, "stickiness.app_cookie.duration_seconds"), kept("cookie_duration")),
            or_if_null(attr_value(a, "stickiness.app_cookie.cookie_name", Kind::Text), kept("cookie_name")),
        ),
        _ => (kept("cookie_duration"), kept("cookie_name")),
    };
    Value::List(vec![Value::object([
        ("enabled", Value::Bool(enabled)),
        ("type", ty.map(Value::string).unwrap_or_else(|| kept("type"))),
        ("cookie_duration", duration),
        ("cookie_name", name),
    ])])
}

fn tg_value(c: &Clients, tg: &elb::types::TargetGroup, tags: &BTreeMap<String, String>, a: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = tg.target_group_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let health = Value::object([
        ("enabled", Value::Bool(tg.health_check_enabled().unwrap_or(true))),
        ("path", opt_string(tg.health_check_path())),
        ("port", opt_string(tg.health_check_port())),
        ("protocol", opt_string(tg.health_check_protocol().map(|p| p.as_str()))),
        ("matcher", opt_string(tg.matcher().and_then(|m| m.http_code().or(m.grpc_code())))),
        ("interval", opt_int(tg.health_check_interval_seconds())),
        ("timeout", opt_int(tg.health_check_timeout_seconds())),
        ("healthy_threshold", opt_int(tg.healthy_threshold_count())),
        ("unhealthy_threshold", opt_int(tg.unhealthy_threshold_count())),
    ]);
    let kept = |k: &str| known(prior.and_then(|p| p.get_attr(k)));
    let group_health = {
        let configured = prior.and_then(|p| single_block(p, "target_group_health"));
        let dns = block_read(
            a,
            configured.as_ref(),
            "dns_failover",
            &[
                ("minimum_healthy_targets_count", "target_group_health.dns_failover.minimum_healthy_targets.count", Kind::Text),
                ("minimum_healthy_targets_percentage", "target_group_health.dns_failover.minimum_healthy_targets.percentage", Kind::Text),
            ],
        );
        let routing = block_read(
            a,
            configured.as_ref(),
            "unhealthy_state_routing",
            &[
                ("minimum_healthy_targets_count", "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", Kind::Int),
                ("minimum_healthy_targets_percentage", "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", Kind::Text),
            ],
        );
        // Only when configured: AWS reports these settings for every group.
        match configured {
            Some(_) => Value::List(vec![Value::object([("dns_failover", dns), ("unhealthy_state_routing", routing)])]),
            None => Value::List(Vec::new()),
        }
    };
    let mut v = Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("arn_suffix", Value::string(arn_suffix(arn))),
        ("name", opt_string(tg.target_group_name())),
        ("name_prefix", name_prefix_of(tg.target_group_name(), prior)),
        ("port", opt_int(tg.port())),
        ("protocol", opt_string(tg.protocol().map(|p| p.as_str()))),
        ("protocol_version", or_if_null(opt_string(tg.protocol_version()), kept("protocol_version"))),
        ("ip_address_type", or_if_null(opt_string(tg.ip_address_type().map(|t| t.as_str())), kept("ip_address_type"))),
        ("vpc_id", opt_string(tg.vpc_id())),
        ("target_type", Value::string(tg.target_type().map(|t| t.as_str()).unwrap_or("instance"))),
        ("load_balancer_arns", string_set(tg.load_balancer_arns().iter().cloned())),
        ("health_check", Value::List(vec![health])),
        ("stickiness", stickiness_read(a, prior)),
        (
            "target_failover",
            block_read(
                a,
                prior,
                "target_failover",
                &[("on_deregistration", "target_failover.on_deregistration", Kind::Text), ("on_unhealthy", "target_failover.on_unhealthy", Kind::Text)],
            ),
        ),
        ("target_group_health", group_health),
        (
            "target_health_state",
            block_read(
                a,
                prior,
                "target_health_state",
                &[
                    ("enable_unhealthy_connection_termination", "target_health_state.unhealthy.connection_termination.enabled", Kind::Bool),
                    ("unhealthy_draining_interval", "target_health_state.unhealthy.draining_interval_seconds", Kind::Int),
                ],
            ),
        ),
        tags,
        tags_all,
    ]);
    if let Value::Object(m) = &mut v {
        let shape = Value::object([
            ("protocol", m.get("protocol").cloned().unwrap_or(Value::Null)),
            ("target_type", m.get("target_type").cloned().unwrap_or(Value::Null)),
        ]);
        for (attr, key, kind, app, default) in TG_ATTRS {
            let read = if applies(*app, &shape) { attr_value(a, key, *kind) } else { Value::Null };
            // Nothing read nor recorded (an import of a group it does not apply to): the
            // default, as terraform-provider-aws records it.
            let fallback = default.map(|d| d()).unwrap_or(Value::Null);
            m.insert(attr.to_string(), or_if_null(or_if_null(read, kept(attr)), fallback));
        }
    }
    v
}

/// Terraform's defaults inside the configured blocks: the health check's by protocol (a
/// group without the block gets one with them), stickiness on for a day, the target group
/// health thresholds, no draining interval.
fn fill_blocks(m: &mut BTreeMap<String, Value>) {
    let protocol = m.get("protocol").and_then(Value::as_str).unwrap_or("HTTP").to_string();
    let lambda = m.get("target_type").and_then(Value::as_str) == Some("lambda");
    let configured = m.get("health_check").and_then(|v| v.as_seq().and_then(|l| l.first()).or(Some(v))).and_then(Value::as_map).cloned();
    let mut hc = configured.unwrap_or_default();
    let http = protocol.starts_with("HTTP");
    fill(
        &mut hc,
        &[
            ("enabled", Value::Bool(!lambda)),
            ("interval", Value::int(if lambda { 35 } else { 30 })),
            ("healthy_threshold", Value::int(if lambda { 5 } else { 3 })),
            ("unhealthy_threshold", Value::int(if lambda { 2 } else { 3 })),
            (
                "timeout",
                Value::int(if lambda {
                    30
                } else if http {
                    5
                } else {
                    10
                }),
            ),
        ],
    );
    if !lambda {
        fill(&mut hc, &[("port", Value::string("traffic-port")), ("protocol", Value::string(if http { "HTTP" } else { "TCP" }))]);
    }
    if http || lambda {
        fill(&mut hc, &[("path", Value::string("/")), ("matcher", Value::string("200"))]);
    }
    for k in ["path", "matcher", "port", "protocol"] {
        hc.entry(k.to_string()).or_insert(Value::Null);
    }
    m.insert("health_check".into(), Value::List(vec![Value::Object(hc.into())]));
    if let Some(Value::List(items)) = m.get_mut("stickiness") {
        for item in items.iter_mut() {
            if let Value::Object(s) = item {
                attrs::set_default(s, "enabled", Value::Bool(true));
                if matches!(s.get("type").and_then(Value::as_str), Some("lb_cookie" | "app_cookie")) {
                    attrs::set_default(s, "cookie_duration", Value::int(86400));
                }
            }
        }
    }
    if let Some(Value::List(items)) = m.get_mut("target_group_health") {
        for item in items.iter_mut() {
            if let Value::Object(h) = item {
                for (block, count) in [("dns_failover", Value::string("1")), ("unhealthy_state_routing", Value::int(1))] {
                    if let Some(Value::List(inner)) = h.get_mut(block) {
                        for b in inner.iter_mut() {
                            if let Value::Object(b) = b {
                                fill(b, &[("minimum_healthy_targets_count", count.clone()), ("minimum_healthy_targets_percentage", Value::string("off"))]);
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(Value::List(items)) = m.get_mut("target_health_state") {
        for item in items.iter_mut() {
            if let Value::Object(s) = item {
                attrs::set_default(s, "unhealthy_draining_interval", Value::int(0));
            }
        }
    }
}

fn health_check_of(p: &Value) -> Value {
    single_block(p, "health_check").unwrap_or(Value::Null)
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for TargetGroup {
    fn name(&self) -> &'static str {
        "aws_lb_target_group"
    }

    fn schema(&self) -> Schema {
        let (s, opt, oc, req) = (AttrSchema::computed, AttrSchema::optional, AttrSchema::optional_computed, AttrSchema::required);
        let list = |max_items: usize, schema: Schema| BlockSchema { nesting: Nesting::List, min_items: 0, max_items, force_new: false, schema };
        let health = Schema::new()
            .attr("enabled", opt(Type::Bool))
            .attr("path", oc(Type::String))
            .attr("port", opt(Type::String))
            .attr("protocol", opt(Type::String))
            .attr("matcher", oc(Type::String))
            .attr("interval", opt(Type::Number))
            .attr("timeout", oc(Type::Number))
            .attr("healthy_threshold", opt(Type::Number))
            .attr("unhealthy_threshold", opt(Type::Number));
        let stickiness = Schema::new()
            .attr("cookie_duration", opt(Type::Number))
            .attr("cookie_name", opt(Type::String))
            .attr("enabled", opt(Type::Bool))
            .attr("type", req(Type::String));
        let failover = Schema::new().attr("on_deregistration", req(Type::String)).attr("on_unhealthy", req(Type::String));
        let group_health = Schema::new()
            .block(
                "dns_failover",
                list(1, Schema::new().attr("minimum_healthy_targets_count", opt(Type::String)).attr("minimum_healthy_targets_percentage", opt(Type::String))),
            )
            .block(
                "unhealthy_state_routing",
                list(1, Schema::new().attr("minimum_healthy_targets_count", opt(Type::Number)).attr("minimum_healthy_targets_percentage", opt(Type::String))),
            );
        let health_state =
            Schema::new().attr("enable_unhealthy_connection_termination", req(Type::Bool)).attr("unhealthy_draining_interval", opt(Type::Number));
        let mut schema = Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("arn_suffix", s(Type::String))
            .attr("name", oc(Type::String).force_new())
            .attr("name_prefix", oc(Type::String).force_new())
            .attr("port", opt(Type::Number).force_new())
            .attr("protocol", opt(Type::String).force_new())
            .attr("protocol_version", oc(Type::String).force_new())
            .attr("ip_address_type", oc(Type::String).force_new())
            .attr("vpc_id", opt(Type::String).force_new())
            .attr("target_type", opt(Type::String).force_new().default(Value::string("instance")))
            .attr("load_balancer_arns", s(string_set_type()))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("health_check", list(1, health))
            .block("stickiness", list(1, stickiness))
            .block("target_failover", list(usize::MAX, failover))
            .block("target_group_health", list(1, group_health))
            .block("target_health_state", list(usize::MAX, health_state));
        for (attr, _, kind, _, default) in TG_ATTRS {
            let ty = match kind {
                Kind::Bool => Type::Bool,
                Kind::Int => Type::Number,
                Kind::Text => Type::String,
            };
            schema = schema.attr(
                attr,
                match default {
                    Some(d) => opt(ty).default(d()),
                    None => oc(ty),
                },
            );
        }
        schema
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = validate_name(config);
        d.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        if attrs::string(config, "name_prefix").is_some_and(|p| p.len() > 6) {
            d.push(
                Diagnostic::error("Invalid name_prefix", "name_prefix has at most 6 characters (the generated name has at most 32).")
                    .with_path(attrs::at("name_prefix")),
            );
        }
        d
    }

    /// The blocks' defaults ([`fill_blocks`]) and a name generated from `name_prefix`.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            fill_blocks(m);
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

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let hc = health_check_of(p);
        let out = c
            .clients()?
            .once
            .elb
            .create_target_group()
            .name(attrs::string(p, "name").unwrap_or_else(|| name_from(p, token)))
            .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
            .set_protocol_version(attrs::string(p, "protocol_version"))
            .set_port(int_of(p, "port"))
            .set_vpc_id(attrs::string(p, "vpc_id"))
            .target_type(TargetTypeEnum::from(attrs::string(p, "target_type").unwrap_or_else(|| "instance".into()).as_str()))
            .set_ip_address_type(attrs::string(p, "ip_address_type").map(|s| TargetGroupIpAddressTypeEnum::from(s.as_str())))
            .set_health_check_enabled(attrs::bool(&hc, "enabled"))
            .set_health_check_path(attrs::string(&hc, "path"))
            .set_health_check_port(attrs::string(&hc, "port"))
            .set_health_check_protocol(attrs::string(&hc, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
            .set_health_check_interval_seconds(int_of(&hc, "interval"))
            .set_health_check_timeout_seconds(int_of(&hc, "timeout"))
            .set_healthy_threshold_count(int_of(&hc, "healthy_threshold"))
            .set_unhealthy_threshold_count(int_of(&hc, "unhealthy_threshold"))
            .set_matcher(attrs::string(&hc, "matcher").map(|m| Matcher::builder().http_code(m).build()))
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateTargetGroup", &e))?;
        Ok(with_id(p, out.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default()))
    }

    /// The attributes, defaults included (CreateTargetGroup cannot take them).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        Ok(set_tg_attributes(c.clients()?, &attrs::req_string(created, "id")?, tg_attribute_changes(None, planned)).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_target_groups(c, &ids).await?;
        let present: Vec<String> = found.keys().cloned().collect();
        let tags = describe_tags(c, &present).await?;
        // Attributes have no batch read: a routine refresh keeps the recorded values (an
        // object recorded before they were is read).
        let (mut attributes, missing) = split_recorded(&present, full, |id| {
            let p = objects.iter().find(|o| id_of(o) == id)?;
            p.get_attr("deregistration_delay").filter(|v| !v.is_null())?;
            Some(tg_attribute_map(p))
        });
        attributes.extend(per_object(c, &missing, |c, arn| async move { tg_attributes(&c, &arn).await }).await?);
        let none = BTreeMap::new();
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| found.get(id).map(|tg| tg_value(c, tg, tags.get(id).unwrap_or(&none), attributes.get(id).unwrap_or(&none), Some(p))))
            .collect())
    }

    // One paged DescribeTargetGroups, kept to the scope's VPCs.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.elb.describe_target_groups().page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeTargetGroups", &e))?;
            for tg in page.target_groups().iter().filter(|tg| crate::discover::in_vpcs(filter, tg.vpc_id())) {
                out.push(crate::discover::discovered(tg.target_group_arn().unwrap_or_default(), tg.target_group_name(), &BTreeMap::new()));
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        change_tags(c, prior, p).await?;
        let id = attrs::req_string(prior, "id")?;
        let changed = p.get_attr("health_check").is_some_and(|v| !v.is_unknown() && prior.get_attr("health_check").is_none_or(|o| !o.equals(v)));
        if changed {
            let hc = health_check_of(p);
            c.elb
                .modify_target_group()
                .target_group_arn(&id)
                .set_health_check_enabled(attrs::bool(&hc, "enabled"))
                .set_health_check_path(attrs::string(&hc, "path"))
                .set_health_check_port(attrs::string(&hc, "port"))
                .set_health_check_protocol(attrs::string(&hc, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                .set_health_check_interval_seconds(int_of(&hc, "interval"))
                .set_health_check_timeout_seconds(int_of(&hc, "timeout"))
                .set_healthy_threshold_count(int_of(&hc, "healthy_threshold"))
                .set_unhealthy_threshold_count(int_of(&hc, "unhealthy_threshold"))
                .set_matcher(attrs::string(&hc, "matcher").map(|m| Matcher::builder().http_code(m).build()))
                .send()
                .await
                .map_err(|e| api_error("ModifyTargetGroup", &e))?;
        }
        Ok(set_tg_attributes(c, &id, tg_attribute_changes(Some(prior), p)).await?)
    }

    /// A group still referenced by a listener being deleted in parallel: retried.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        wait_for(&format!("target group {id} going away"), Duration::from_secs(120), Duration::from_secs(2), || async {
            match c.elb.delete_target_group().target_group_arn(&id).send().await {
                Ok(_) => Ok(Some(())),
                Err(e) if gone(code_of(&e)) => Ok(Some(())),
                Err(e) if code_of(&e).as_deref() == Some("ResourceInUse") => Ok(None),
                Err(e) => Err(api_error("DeleteTargetGroup", &e)),
            }
        })
        .await?;
        Ok(())
    }

    /// Every target group of the account, by its intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let mut all = Vec::new();
        let mut pages = c.elb.describe_target_groups().page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            all.extend(
                page.map_err(|e| api_error("DescribeTargetGroups", &e))?.target_groups().iter().filter_map(|t| t.target_group_arn().map(str::to_string)),
            );
        }
        Ok(find_by_intent(c, &all, token).await?.map(|arn| with_id(planned, &arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
