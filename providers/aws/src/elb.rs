//! Elastic Load Balancing v2: `aws_lb`, `aws_lb_target_group`, `aws_lb_listener`,
//! `aws_lb_listener_rule` and `aws_lb_target_group_attachment`, with terraform-provider-aws names and defaults.
//!
//! Refresh is batched: `DescribeLoadBalancers` / `DescribeTargetGroups` with ARN lists (20 per
//! call; when one ARN is gone AWS fails the whole call, so that chunk is listed instead),
//! `DescribeTags` for 20 ARNs a call, `DescribeListeners` per load balancer and
//! `DescribeTargetHealth` per target group. Attributes (deletion protection, idle timeout,
//! deregistration delay) have no batch API: one `Describe*Attributes` per object.
//!
//! CreateLoadBalancer and friends take no idempotency token, so creates carry the intent tag.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_elasticloadbalancingv2 as elb;
use elb::types::{
    Action as LbAction, ActionTypeEnum, Certificate, FixedResponseActionConfig, IpAddressType, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerTypeEnum, Matcher, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Tag, TargetDescription, TargetGroupAttribute,
    TargetTypeEnum,
};
use infra_provider::*;
use std::collections::BTreeMap;
use std::time::Duration;

const ARNS_PER_CALL: usize = 20;

fn tags_attr() -> AttrSchema {
    AttrSchema::optional(Type::Map(Box::new(Type::String)))
}

fn tags_all_attr() -> AttrSchema {
    AttrSchema::computed(Type::Map(Box::new(Type::String)))
}

fn string_set_type() -> Type {
    Type::Set(Box::new(Type::String))
}

fn single(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::Single, min_items: 0, max_items: 1, force_new: false, schema }
}

pub fn schemas() -> BTreeMap<String, Schema> {
    let s = AttrSchema::computed;
    let lb = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("arn_suffix", s(Type::String))
        .attr("dns_name", s(Type::String))
        .attr("zone_id", s(Type::String))
        .attr("vpc_id", s(Type::String))
        .attr("name", AttrSchema::optional_computed(Type::String).force_new())
        .attr("internal", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("load_balancer_type", AttrSchema::optional_computed(Type::String).force_new())
        .attr("security_groups", AttrSchema::optional_computed(string_set_type()))
        .attr("subnets", AttrSchema::optional_computed(string_set_type()))
        .attr("ip_address_type", AttrSchema::optional_computed(Type::String))
        .attr("enable_deletion_protection", AttrSchema::optional_computed(Type::Bool))
        .attr("idle_timeout", AttrSchema::optional_computed(Type::Number))
        .attr("enable_http2", AttrSchema::optional_computed(Type::Bool))
        .attr("tags", tags_attr())
        .attr("tags_all", tags_all_attr());
    let health = Schema::new()
        .attr("enabled", AttrSchema::optional(Type::Bool))
        .attr("path", AttrSchema::optional(Type::String))
        .attr("port", AttrSchema::optional(Type::String))
        .attr("protocol", AttrSchema::optional(Type::String))
        .attr("matcher", AttrSchema::optional(Type::String))
        .attr("interval", AttrSchema::optional(Type::Number))
        .attr("timeout", AttrSchema::optional(Type::Number))
        .attr("healthy_threshold", AttrSchema::optional(Type::Number))
        .attr("unhealthy_threshold", AttrSchema::optional(Type::Number));
    let target_group = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("arn_suffix", s(Type::String))
        .attr("name", AttrSchema::optional_computed(Type::String).force_new())
        .attr("port", AttrSchema::optional(Type::Number).force_new())
        .attr("protocol", AttrSchema::optional(Type::String).force_new())
        .attr("vpc_id", AttrSchema::optional(Type::String).force_new())
        .attr("target_type", AttrSchema::optional_computed(Type::String).force_new())
        .attr("deregistration_delay", AttrSchema::optional_computed(Type::Number))
        .attr("tags", tags_attr())
        .attr("tags_all", tags_all_attr())
        .block("health_check", single(health));
    let redirect = Schema::new()
        .attr("host", AttrSchema::optional(Type::String))
        .attr("path", AttrSchema::optional(Type::String))
        .attr("port", AttrSchema::optional(Type::String))
        .attr("protocol", AttrSchema::optional(Type::String))
        .attr("query", AttrSchema::optional(Type::String))
        .attr("status_code", AttrSchema::required(Type::String));
    let fixed = Schema::new()
        .attr("content_type", AttrSchema::required(Type::String))
        .attr("message_body", AttrSchema::optional(Type::String))
        .attr("status_code", AttrSchema::optional(Type::String));
    let action = Schema::new()
        .attr("type", AttrSchema::required(Type::String))
        .attr("target_group_arn", AttrSchema::optional(Type::String))
        .attr("order", AttrSchema::optional(Type::Number))
        .block("redirect", single(redirect))
        .block("fixed_response", single(fixed));
    let listener = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("load_balancer_arn", AttrSchema::required(Type::String).force_new())
        .attr("port", AttrSchema::optional(Type::Number))
        .attr("protocol", AttrSchema::optional_computed(Type::String))
        .attr("ssl_policy", AttrSchema::optional_computed(Type::String))
        .attr("certificate_arn", AttrSchema::optional(Type::String))
        .attr("tags", tags_attr())
        .attr("tags_all", tags_all_attr())
        .block("default_action", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: usize::MAX, force_new: false, schema: action.clone() });
    let values = || Schema::new().attr("values", AttrSchema::required(string_set_type()));
    let condition = Schema::new().block("path_pattern", single(values())).block("host_header", single(values()));
    let rule = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("listener_arn", AttrSchema::required(Type::String).force_new())
        .attr("priority", AttrSchema::optional_computed(Type::Number))
        .attr("tags", tags_attr())
        .attr("tags_all", tags_all_attr())
        .block("action", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: usize::MAX, force_new: false, schema: action.clone() })
        .block("condition", BlockSchema { nesting: Nesting::Set, min_items: 1, max_items: usize::MAX, force_new: false, schema: condition });
    let attachment = Schema::new()
        .attr("id", s(Type::String))
        .attr("target_group_arn", AttrSchema::required(Type::String).force_new())
        .attr("target_id", AttrSchema::required(Type::String).force_new())
        .attr("port", AttrSchema::optional(Type::Number).force_new())
        .attr("availability_zone", AttrSchema::optional(Type::String).force_new());
    BTreeMap::from([
        ("aws_lb".to_string(), lb),
        ("aws_lb_target_group".to_string(), target_group),
        ("aws_lb_listener".to_string(), listener),
        ("aws_lb_listener_rule".to_string(), rule),
        ("aws_lb_target_group_attachment".to_string(), attachment),
    ])
}

pub fn validate(req: &ValidateRequest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |k: &str| vec![PathStep::Attr(k.into())];
    if let Some(name) = attrs::string(&req.config, "name") {
        let valid = !name.is_empty()
            && name.len() <= 32
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.starts_with("internal-");
        if !valid {
            out.push(
                err(
                    "Invalid name",
                    format!(
                        "{name:?}: load balancer and target group names have 1 to 32 letters, digits and hyphens, and neither begin nor end with a hyphen."
                    ),
                )
                .with_path(at("name")),
            );
        }
    }
    if req.type_name == "aws_lb_listener" {
        let protocol = attrs::string(&req.config, "protocol");
        if protocol.as_deref() == Some("HTTPS") && req.config.get_attr("certificate_arn").is_some_and(Value::is_null) {
            out.push(err("Missing certificate", "An HTTPS listener needs certificate_arn.".into()).with_path(at("certificate_arn")));
        }
        for (i, a) in req.config.get_attr("default_action").and_then(Value::as_seq).unwrap_or(&[]).iter().enumerate() {
            let kind = attrs::string(a, "type").unwrap_or_default();
            let needs = match kind.as_str() {
                "forward" => "target_group_arn",
                "redirect" => "redirect",
                "fixed-response" => "fixed_response",
                _ if a.get_attr("type").is_some_and(Value::is_unknown) => continue,
                other => {
                    out.push(err("Invalid action type", format!("{other:?} is not one of forward, redirect, fixed-response.")).with_path(vec![
                        PathStep::Attr("default_action".into()),
                        PathStep::Index(i as i64),
                        PathStep::Attr("type".into()),
                    ]));
                    continue;
                }
            };
            if a.get_attr(needs).is_some_and(Value::is_null) {
                out.push(
                    err("Incomplete action", format!("A {kind} action needs {needs}."))
                        .with_path(vec![PathStep::Attr("default_action".into()), PathStep::Index(i as i64)]),
                );
            }
        }
    }
    out
}

fn fill(m: &mut BTreeMap<String, Value>, defaults: &[(&str, Value)]) {
    for (k, v) in defaults {
        set_default(m, k, v.clone());
    }
}

/// Terraform's defaults, so the plan shows what AWS will hold and the next plan is empty.
pub fn plan(req: PlanRequest, default_tags: &BTreeMap<String, String>) -> PlanResponse {
    let schema = schemas().remove(&req.type_name).unwrap_or_default();
    let mut cfg = req.config.clone();
    if let Value::Object(m) = &mut cfg {
        match req.type_name.as_str() {
            "aws_lb" => {
                let application = m.get("load_balancer_type").and_then(Value::as_str).is_none_or(|t| t == "application");
                fill(
                    m,
                    &[
                        ("internal", Value::Bool(false)),
                        ("load_balancer_type", Value::string("application")),
                        ("ip_address_type", Value::string("ipv4")),
                        ("enable_deletion_protection", Value::Bool(false)),
                    ],
                );
                if application {
                    fill(m, &[("idle_timeout", Value::int(60)), ("enable_http2", Value::Bool(true))]);
                }
            }
            "aws_lb_target_group" => {
                fill(m, &[("target_type", Value::string("instance")), ("deregistration_delay", Value::int(300))]);
                let protocol = m.get("protocol").and_then(Value::as_str).unwrap_or("HTTP").to_string();
                let mut hc = match m.get("health_check") {
                    Some(Value::Object(h)) => h.clone(),
                    _ => Default::default(),
                };
                let http = protocol.starts_with("HTTP");
                fill(
                    &mut hc,
                    &[
                        ("enabled", Value::Bool(true)),
                        ("port", Value::string("traffic-port")),
                        ("protocol", Value::string(if http { "HTTP" } else { "TCP" })),
                        ("interval", Value::int(30)),
                        ("timeout", Value::int(if http { 5 } else { 10 })),
                        ("healthy_threshold", Value::int(3)),
                        ("unhealthy_threshold", Value::int(3)),
                    ],
                );
                if http {
                    fill(&mut hc, &[("path", Value::string("/")), ("matcher", Value::string("200"))]);
                }
                for k in ["path", "matcher"] {
                    hc.entry(k.to_string()).or_insert(Value::Null);
                }
                m.insert("health_check".into(), Value::Object(hc));
            }
            "aws_lb_listener" => {
                let https = m.get("certificate_arn").is_some_and(|c| !c.is_null());
                set_default(m, "protocol", Value::string(if https { "HTTPS" } else { "HTTP" }));
                fill_actions(m, "default_action");
            }
            "aws_lb_listener_rule" => fill_actions(m, "action"),
            _ => {}
        }
    }
    let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &cfg);
    if let (Value::Object(m), "aws_lb_listener") = (&mut resp.planned, req.type_name.as_str()) {
        // Only HTTPS listeners have an SSL policy; AWS picks one when none is given.
        if m.get("protocol").and_then(Value::as_str).is_some_and(|p| p != "HTTPS" && p != "TLS") && m.get("ssl_policy").is_some_and(Value::is_unknown) {
            m.insert("ssl_policy".into(), Value::Null);
        }
    }
    plan_tags_all(&mut resp.planned, default_tags);
    resp
}

/// Terraform's defaults inside action blocks: `order` by position, redirect placeholders,
/// fixed responses answering 200.
fn fill_actions(m: &mut BTreeMap<String, Value>, block: &str) {
    if let Some(Value::List(actions)) = m.get_mut(block) {
        for (i, a) in actions.iter_mut().enumerate() {
            if let Value::Object(a) = a {
                set_default(a, "order", Value::int(i as i64 + 1));
                if let Some(Value::Object(r)) = a.get_mut("redirect") {
                    fill(
                        r,
                        &[
                            ("host", Value::string("#{host}")),
                            ("path", Value::string("/#{path}")),
                            ("port", Value::string("#{port}")),
                            ("protocol", Value::string("#{protocol}")),
                            ("query", Value::string("#{query}")),
                        ],
                    );
                }
                if let Some(Value::Object(f)) = a.get_mut("fixed_response") {
                    set_default(f, "status_code", Value::string("200"));
                }
            }
        }
    }
}

fn lb_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Result<Vec<Tag>, Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))) {
        out.push(Tag::builder().key(k).value(v).build());
    }
    Ok(out)
}

/// The last part of an ARN after `loadbalancer/` or `targetgroup/`, as CloudWatch wants it.
fn arn_suffix(arn: &str) -> String {
    arn.split_once(":loadbalancer/").map(|(_, s)| s).or_else(|| arn.rsplit_once(':').map(|(_, s)| s)).unwrap_or(arn).to_string()
}

/// Tags of many objects: one `DescribeTags` per 20 ARNs.
async fn describe_tags(c: &Clients, arns: &[String]) -> Result<BTreeMap<String, BTreeMap<String, String>>, Diagnostic> {
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(ARNS_PER_CALL) {
        let resp = c.elb.describe_tags().set_resource_arns(Some(chunk.to_vec())).send().await;
        let resp = match resp {
            Ok(r) => r,
            // One gone object fails the call: ask one by one for this chunk only.
            Err(e) if chunk.len() > 1 && code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => {
                for arn in chunk {
                    out.extend(Box::pin(describe_tags(c, std::slice::from_ref(arn))).await?);
                }
                continue;
            }
            Err(e) if code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => continue,
            Err(e) => return Err(api_error("DescribeTags", &e)),
        };
        for d in resp.tag_descriptions() {
            let tags = d.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())));
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags.collect());
        }
    }
    Ok(out)
}

async fn change_tags(c: &Clients, arn: &str, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    let (removed, changed) = tag_changes(prior, planned);
    if !removed.is_empty() {
        c.elb.remove_tags().resource_arns(arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("RemoveTags", &e))?;
    }
    if !changed.is_empty() {
        c.elb.add_tags().resource_arns(arn).set_tags(Some(lb_tags(&changed, None)?)).send().await.map_err(|e| api_error("AddTags", &e))?;
    }
    Ok(())
}

/// Objects among `arns`, one call per 20; a chunk with a deleted ARN is listed whole instead.
macro_rules! describe_by_arns {
    ($name:ident, $op:ident, $op_name:literal, $set:ident, $items:ident, $arn:ident, $ty:ty) => {
        async fn $name(c: &Clients, arns: &[String]) -> Result<BTreeMap<String, $ty>, Diagnostic> {
            let mut out = BTreeMap::new();
            let mut list_all = false;
            for chunk in arns.chunks(ARNS_PER_CALL) {
                match c.elb.$op().$set(Some(chunk.to_vec())).send().await {
                    Ok(page) => out.extend(page.$items().iter().filter_map(|x| Some((x.$arn()?.to_string(), x.clone())))),
                    Err(e) if code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => list_all = true,
                    Err(e) => return Err(api_error($op_name, &e)),
                }
            }
            if list_all {
                let mut pages = c.elb.$op().page_size(400).into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| api_error($op_name, &e))?;
                    for x in page.$items() {
                        if let Some(arn) = x.$arn().filter(|a| arns.iter().any(|w| w == a)) {
                            out.insert(arn.to_string(), x.clone());
                        }
                    }
                }
            }
            Ok(out)
        }
    };
}

describe_by_arns!(
    describe_lbs,
    describe_load_balancers,
    "DescribeLoadBalancers",
    set_load_balancer_arns,
    load_balancers,
    load_balancer_arn,
    elb::types::LoadBalancer
);
describe_by_arns!(
    describe_target_groups,
    describe_target_groups,
    "DescribeTargetGroups",
    set_target_group_arns,
    target_groups,
    target_group_arn,
    elb::types::TargetGroup
);

async fn lb_attributes(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    let out = c.elb.describe_load_balancer_attributes().load_balancer_arn(arn).send().await.map_err(|e| api_error("DescribeLoadBalancerAttributes", &e))?;
    Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
}

async fn tg_attributes(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    let out = c.elb.describe_target_group_attributes().target_group_arn(arn).send().await.map_err(|e| api_error("DescribeTargetGroupAttributes", &e))?;
    Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
}

fn attr_bool(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).map(|v| Value::Bool(v == "true")).unwrap_or(Value::Null)
}

fn attr_int(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).and_then(|v| v.parse::<i64>().ok()).map(Value::int).unwrap_or(Value::Null)
}

fn lb_value(c: &Clients, lb: &elb::types::LoadBalancer, tags: &BTreeMap<String, String>, a: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let application = lb.r#type().is_none_or(|t| t.as_str() == "application");
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    Value::object([
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
        ("enable_deletion_protection", attr_bool(a, "deletion_protection.enabled")),
        ("idle_timeout", if application { attr_int(a, "idle_timeout.timeout_seconds") } else { Value::Null }),
        ("enable_http2", if application { attr_bool(a, "routing.http2.enabled") } else { Value::Null }),
        tags,
        tags_all,
    ])
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
        ("matcher", opt_string(tg.matcher().and_then(|m| m.http_code()))),
        ("interval", opt_int(tg.health_check_interval_seconds())),
        ("timeout", opt_int(tg.health_check_timeout_seconds())),
        ("healthy_threshold", opt_int(tg.healthy_threshold_count())),
        ("unhealthy_threshold", opt_int(tg.unhealthy_threshold_count())),
    ]);
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("arn_suffix", Value::string(arn_suffix(arn))),
        ("name", opt_string(tg.target_group_name())),
        ("port", opt_int(tg.port())),
        ("protocol", opt_string(tg.protocol().map(|p| p.as_str()))),
        ("vpc_id", opt_string(tg.vpc_id())),
        ("target_type", Value::string(tg.target_type().map(|t| t.as_str()).unwrap_or("instance"))),
        ("deregistration_delay", attr_int(a, "deregistration_delay.timeout_seconds")),
        ("health_check", health),
        tags,
        tags_all,
    ])
}

fn action_value(a: &LbAction) -> Value {
    let redirect = a.redirect_config().map(|r| {
        Value::object([
            ("host", opt_string(r.host())),
            ("path", opt_string(r.path())),
            ("port", opt_string(r.port())),
            ("protocol", opt_string(r.protocol())),
            ("query", opt_string(r.query())),
            ("status_code", opt_string(r.status_code().map(|s| s.as_str()))),
        ])
    });
    let fixed = a.fixed_response_config().map(|f| {
        Value::object([
            ("content_type", opt_string(f.content_type())),
            ("message_body", opt_string(f.message_body())),
            ("status_code", opt_string(f.status_code())),
        ])
    });
    // A forward action may come back with a one-group ForwardConfig as well: the ARN says it all.
    let target = a
        .target_group_arn()
        .map(str::to_string)
        .or_else(|| a.forward_config().and_then(|f| f.target_groups().first()).and_then(|t| t.target_group_arn()).map(str::to_string));
    Value::object([
        ("type", opt_string(a.r#type().map(|t| t.as_str()))),
        ("target_group_arn", target.map(Value::string).unwrap_or(Value::Null)),
        ("order", opt_int(a.order())),
        ("redirect", redirect.unwrap_or(Value::Null)),
        ("fixed_response", fixed.unwrap_or(Value::Null)),
    ])
}

fn listener_value(c: &Clients, l: &elb::types::Listener, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = l.listener_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let mut actions: Vec<&LbAction> = l.default_actions().iter().collect();
    actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("load_balancer_arn", opt_string(l.load_balancer_arn())),
        ("port", opt_int(l.port())),
        ("protocol", opt_string(l.protocol().map(|p| p.as_str()))),
        ("ssl_policy", opt_string(l.ssl_policy())),
        ("certificate_arn", opt_string(l.certificates().first().and_then(|c| c.certificate_arn()))),
        ("default_action", Value::List(actions.into_iter().map(action_value).collect())),
        tags,
        tags_all,
    ])
}

fn int_of(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

fn actions_of(p: &Value, block: &str) -> Result<Vec<LbAction>, Diagnostic> {
    let mut out = Vec::new();
    for a in p.get_attr(block).and_then(Value::as_seq).unwrap_or(&[]) {
        let mut b = LbAction::builder()
            .r#type(ActionTypeEnum::from(attrs::string(a, "type").unwrap_or_default().as_str()))
            .set_target_group_arn(attrs::string(a, "target_group_arn"))
            .set_order(int_of(a, "order"));
        if let Some(r) = a.get_attr("redirect").filter(|r| !r.is_null()) {
            b = b.redirect_config(
                RedirectActionConfig::builder()
                    .set_host(attrs::string(r, "host"))
                    .set_path(attrs::string(r, "path"))
                    .set_port(attrs::string(r, "port"))
                    .set_protocol(attrs::string(r, "protocol"))
                    .set_query(attrs::string(r, "query"))
                    .status_code(RedirectActionStatusCodeEnum::from(attrs::string(r, "status_code").unwrap_or_default().as_str()))
                    .build(),
            );
        }
        if let Some(f) = a.get_attr("fixed_response").filter(|f| !f.is_null()) {
            b = b.fixed_response_config(
                FixedResponseActionConfig::builder()
                    .set_content_type(attrs::string(f, "content_type"))
                    .set_message_body(attrs::string(f, "message_body"))
                    .status_code(attrs::string(f, "status_code").unwrap_or_else(|| "200".into()))
                    .build(),
            );
        }
        out.push(b.build());
    }
    Ok(out)
}

fn certificates_of(p: &Value) -> Option<Vec<Certificate>> {
    attrs::string(p, "certificate_arn").map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

/// Listeners by load balancer: one `DescribeListeners` per load balancer and page.
async fn describe_listeners(c: &Clients, lbs: &[String]) -> Result<BTreeMap<String, elb::types::Listener>, Diagnostic> {
    let mut out = BTreeMap::new();
    for lb in lbs {
        let mut pages = c.elb.describe_listeners().load_balancer_arn(lb).page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => out.extend(page.listeners().iter().filter_map(|l| Some((l.listener_arn()?.to_string(), l.clone())))),
                Err(e) if code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => break,
                Err(e) => return Err(api_error("DescribeListeners", &e)),
            }
        }
    }
    Ok(out)
}

/// Registered targets by target group: one `DescribeTargetHealth` per group. Keyed by
/// attachment id.
async fn describe_attachments(c: &Clients, groups: &[String]) -> Result<BTreeMap<String, Value>, Diagnostic> {
    let mut out = BTreeMap::new();
    for tg in groups {
        match c.elb.describe_target_health().target_group_arn(tg).send().await {
            Ok(resp) => {
                for d in resp.target_health_descriptions() {
                    let state = d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string());
                    if state.as_deref() == Some("draining") {
                        continue;
                    }
                    if let Some(t) = d.target() {
                        let v = attachment_value(tg, t.id().unwrap_or_default(), t.port(), t.availability_zone());
                        out.insert(id_of(&v), v);
                    }
                }
            }
            Err(e) if code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => {}
            Err(e) => return Err(api_error("DescribeTargetHealth", &e)),
        }
    }
    Ok(out)
}

fn attachment_id(tg: &str, target: &str, port: Option<i32>) -> String {
    match port {
        Some(p) => format!("{tg},{target},{p}"),
        None => format!("{tg},{target}"),
    }
}

fn attachment_value(tg: &str, target: &str, port: Option<i32>, az: Option<&str>) -> Value {
    Value::object([
        ("id", Value::string(attachment_id(tg, target, port))),
        ("target_group_arn", Value::string(tg)),
        ("target_id", Value::string(target)),
        ("port", opt_int(port)),
        ("availability_zone", opt_string(az)),
    ])
}

/// Reads many objects of one type, batched as the module doc says.
pub async fn read_many(c: &Clients, type_name: &str, objects: &[Value], full: bool) -> Result<Vec<Option<Value>>, Diagnostic> {
    let ids: Vec<String> = objects.iter().map(id_of).collect();
    let prior = |id: &str| objects.iter().find(|o| id_of(o) == id);
    // Attributes have no batch read: a routine refresh keeps the recorded values.
    let recorded = |id: &str, keys: &[(&str, &str)]| -> Option<BTreeMap<String, String>> {
        let p = prior(id)?;
        keys.iter()
            .map(|(attr, key)| {
                let v = p.get_attr(attr)?;
                let text = match v {
                    Value::Bool(b) => b.to_string(),
                    other => other.as_i64()?.to_string(),
                };
                Some((key.to_string(), text))
            })
            .collect()
    };
    match type_name {
        "aws_lb" => {
            let found = describe_lbs(c, &ids).await?;
            let present: Vec<String> = found.keys().cloned().collect();
            let tags = describe_tags(c, &present).await?;
            let (mut attributes, missing) = split_recorded(&present, full, |id| {
                let application = prior(id).and_then(|p| attrs::string(p, "load_balancer_type")).is_none_or(|t| t == "application");
                let mut keys = vec![("enable_deletion_protection", "deletion_protection.enabled")];
                if application {
                    keys.extend([("idle_timeout", "idle_timeout.timeout_seconds"), ("enable_http2", "routing.http2.enabled")]);
                }
                recorded(id, &keys)
            });
            attributes.extend(per_object(c, &missing, |c, arn| async move { lb_attributes(&c, &arn).await }).await?);
            Ok(ids
                .iter()
                .zip(objects)
                .map(|(id, p)| {
                    found.get(id).map(|lb| lb_value(c, lb, tags.get(id).unwrap_or(&BTreeMap::new()), attributes.get(id).unwrap_or(&BTreeMap::new()), Some(p)))
                })
                .collect())
        }
        "aws_lb_target_group" => {
            let found = describe_target_groups(c, &ids).await?;
            let present: Vec<String> = found.keys().cloned().collect();
            let tags = describe_tags(c, &present).await?;
            let (mut attributes, missing) =
                split_recorded(&present, full, |id| recorded(id, &[("deregistration_delay", "deregistration_delay.timeout_seconds")]));
            attributes.extend(per_object(c, &missing, |c, arn| async move { tg_attributes(&c, &arn).await }).await?);
            Ok(ids
                .iter()
                .zip(objects)
                .map(|(id, p)| {
                    found.get(id).map(|tg| tg_value(c, tg, tags.get(id).unwrap_or(&BTreeMap::new()), attributes.get(id).unwrap_or(&BTreeMap::new()), Some(p)))
                })
                .collect())
        }
        "aws_lb_listener" => {
            let found = describe_listeners(c, &unique(objects, "load_balancer_arn")).await?;
            let present: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
            let tags = describe_tags(c, &present).await?;
            Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|l| listener_value(c, l, tags.get(id).unwrap_or(&BTreeMap::new()), Some(p)))).collect())
        }
        "aws_lb_listener_rule" => {
            let found = describe_rules(c, &unique(objects, "listener_arn")).await?;
            let present: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
            let tags = describe_tags(c, &present).await?;
            Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|r| rule_value(c, r, tags.get(id).unwrap_or(&BTreeMap::new()), Some(p)))).collect())
        }
        "aws_lb_target_group_attachment" => {
            let found = describe_attachments(c, &unique(objects, "target_group_arn")).await?;
            Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
        }
        other => Err(unknown_type(other)),
    }
}

pub async fn read_one(c: &Clients, type_name: &str, id: &str, prior: Option<&Value>) -> Result<Option<Value>, Diagnostic> {
    let mut obj = prior.cloned().unwrap_or_else(|| Value::object([("id", Value::string(id))]));
    if let Value::Object(m) = &mut obj {
        m.insert("id".into(), Value::string(id));
        if type_name == "aws_lb_listener" && !m.get("load_balancer_arn").is_some_and(|v| v.as_str().is_some()) {
            // Import by listener ARN: the load balancer is part of it.
            m.insert("load_balancer_arn".into(), Value::string(listener_lb_arn(id)));
        }
        if type_name == "aws_lb_listener_rule" && !m.get("listener_arn").is_some_and(|v| v.as_str().is_some()) {
            m.insert("listener_arn".into(), Value::string(rule_listener_arn(id)));
        }
        if type_name == "aws_lb_target_group_attachment" && !m.get("target_group_arn").is_some_and(|v| v.as_str().is_some()) {
            m.insert("target_group_arn".into(), Value::string(id.split(',').next().unwrap_or_default()));
        }
    }
    Ok(read_many(c, type_name, std::slice::from_ref(&obj), true).await?.pop().flatten())
}

/// `arn:…:listener/app/NAME/LBID/LISTENERID` → `arn:…:loadbalancer/app/NAME/LBID`.
fn listener_lb_arn(listener: &str) -> String {
    match listener.split_once(":listener/") {
        Some((head, rest)) => {
            let parts: Vec<&str> = rest.split('/').collect();
            format!("{head}:loadbalancer/{}", parts[..parts.len().saturating_sub(1)].join("/"))
        }
        None => listener.to_string(),
    }
}

async fn wait_lb_active(c: &Clients, arn: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("load balancer {arn} becoming active"), Duration::from_secs(600), Duration::from_secs(2), || async {
        let found = describe_lbs(c, &[arn.to_string()]).await?;
        match found.get(arn).and_then(|lb| lb.state()).and_then(|s| s.code()).map(|c| c.as_str().to_string()) {
            Some(s) if s == "active" => Ok(Some(())),
            Some(s) if s == "failed" => Err(err("Load balancer failed", format!("{arn} reached state failed."))),
            _ => Ok(None),
        }
    })
    .await
}

fn lb_attribute_changes(prior: Option<&Value>, p: &Value) -> Vec<LoadBalancerAttribute> {
    let changed = |k: &str| p.get_attr(k).filter(|v| !v.is_null() && prior.and_then(|o| o.get_attr(k)).is_none_or(|o| !o.equals(v)));
    let mut out = Vec::new();
    let text = |v: &Value| match v {
        Value::Bool(b) => b.to_string(),
        other => other.as_i64().map(|n| n.to_string()).unwrap_or_default(),
    };
    for (attr, key) in [
        ("enable_deletion_protection", "deletion_protection.enabled"),
        ("idle_timeout", "idle_timeout.timeout_seconds"),
        ("enable_http2", "routing.http2.enabled"),
    ] {
        if let Some(v) = changed(attr) {
            out.push(LoadBalancerAttribute::builder().key(key).value(text(v)).build());
        }
    }
    out
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

async fn set_deregistration_delay(c: &Clients, arn: &str, prior: Option<&Value>, p: &Value) -> Result<(), Diagnostic> {
    let Some(delay) = attrs::int(p, "deregistration_delay") else { return Ok(()) };
    if prior.and_then(|o| attrs::int(o, "deregistration_delay")) == Some(delay) || prior.is_none() && delay == 300 {
        return Ok(());
    }
    let attr = TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value(delay.to_string()).build();
    c.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(attr)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifyTargetGroupAttributes", &e))
}

fn generated_name(token: &str) -> String {
    format!("infra-{}", token.replace('-', "").chars().take(20).collect::<String>())
}

fn target_of(p: &Value) -> TargetDescription {
    TargetDescription::builder()
        .set_id(attrs::string(p, "target_id"))
        .set_port(int_of(p, "port"))
        .set_availability_zone(attrs::string(p, "availability_zone"))
        .build()
}

/// Creates the object and returns its id (ARN); settings the create call cannot take follow.
pub async fn create(c: &Clients, type_name: &str, p: &Value, token: &str) -> Result<String, Diagnostic> {
    let tags = lb_tags(&string_map(p.get_attr("tags_all")), Some(token))?;
    match type_name {
        "aws_lb" => {
            let scheme = if attrs::bool(p, "internal") == Some(true) { LoadBalancerSchemeEnum::Internal } else { LoadBalancerSchemeEnum::InternetFacing };
            let out = c
                .elb
                .create_load_balancer()
                .name(attrs::string(p, "name").unwrap_or_else(|| generated_name(token)))
                .set_subnets(Some(strings(p.get_attr("subnets"))))
                .set_security_groups(Some(strings(p.get_attr("security_groups"))).filter(|s| !s.is_empty()))
                .scheme(scheme)
                .r#type(LoadBalancerTypeEnum::from(attrs::string(p, "load_balancer_type").unwrap_or_else(|| "application".into()).as_str()))
                .ip_address_type(IpAddressType::from(attrs::string(p, "ip_address_type").unwrap_or_else(|| "ipv4".into()).as_str()))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| api_error("CreateLoadBalancer", &e))?;
            let arn = out.load_balancers().first().and_then(|l| l.load_balancer_arn()).unwrap_or_default().to_string();
            Ok(arn)
        }
        "aws_lb_target_group" => {
            let hc = single_block(p, "health_check").unwrap_or(Value::Null);
            let out = c
                .elb
                .create_target_group()
                .name(attrs::string(p, "name").unwrap_or_else(|| generated_name(token)))
                .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                .set_port(int_of(p, "port"))
                .set_vpc_id(attrs::string(p, "vpc_id"))
                .target_type(TargetTypeEnum::from(attrs::string(p, "target_type").unwrap_or_else(|| "instance".into()).as_str()))
                .set_health_check_enabled(attrs::bool(&hc, "enabled"))
                .set_health_check_path(attrs::string(&hc, "path"))
                .set_health_check_port(attrs::string(&hc, "port"))
                .set_health_check_protocol(attrs::string(&hc, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                .set_health_check_interval_seconds(int_of(&hc, "interval"))
                .set_health_check_timeout_seconds(int_of(&hc, "timeout"))
                .set_healthy_threshold_count(int_of(&hc, "healthy_threshold"))
                .set_unhealthy_threshold_count(int_of(&hc, "unhealthy_threshold"))
                .set_matcher(attrs::string(&hc, "matcher").map(|m| Matcher::builder().http_code(m).build()))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| api_error("CreateTargetGroup", &e))?;
            Ok(out.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default().to_string())
        }
        "aws_lb_listener" => {
            let out = c
                .elb
                .create_listener()
                .set_load_balancer_arn(attrs::string(p, "load_balancer_arn"))
                .set_port(int_of(p, "port"))
                .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                .set_ssl_policy(attrs::string(p, "ssl_policy"))
                .set_certificates(certificates_of(p))
                .set_default_actions(Some(actions_of(p, "default_action")?))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| api_error("CreateListener", &e))?;
            Ok(out.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default().to_string())
        }
        "aws_lb_listener_rule" => {
            let listener = attrs::string(p, "listener_arn").unwrap_or_default();
            let priority = match int_of(p, "priority") {
                Some(n) => n,
                // As terraform-provider-aws: the next free priority after the listener's rules.
                None => {
                    describe_rules(c, std::slice::from_ref(&listener)).await?.values().filter_map(|r| r.priority()?.parse::<i32>().ok()).max().unwrap_or(0) + 1
                }
            };
            let out = c
                .elb
                .create_rule()
                .listener_arn(&listener)
                .priority(priority)
                .set_conditions(Some(conditions_of(p)))
                .set_actions(Some(actions_of(p, "action")?))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| api_error("CreateRule", &e))?;
            Ok(out.rules().first().and_then(|r| r.rule_arn()).unwrap_or_default().to_string())
        }
        "aws_lb_target_group_attachment" => {
            let tg = attrs::string(p, "target_group_arn").unwrap_or_default();
            // RegisterTargets is idempotent: a repeated call after a crash registers nothing new.
            c.elb.register_targets().target_group_arn(&tg).targets(target_of(p)).send().await.map_err(|e| api_error("RegisterTargets", &e))?;
            Ok(attachment_id(&tg, &attrs::string(p, "target_id").unwrap_or_default(), int_of(p, "port")))
        }
        other => Err(unknown_type(other)),
    }
}

/// What follows a create: attributes the create call cannot take, and waiting for the state
/// users rely on (a load balancer `active`).
pub async fn finish_create(c: &Clients, type_name: &str, id: &str, p: &Value) -> Result<(), Diagnostic> {
    match type_name {
        "aws_lb" => {
            wait_lb_active(c, id).await?;
            // Every attribute, defaults included: what AWS reports is then what was configured.
            set_lb_attributes(c, id, lb_attribute_changes(None, p)).await
        }
        "aws_lb_target_group" => set_deregistration_delay(c, id, None, p).await,
        _ => Ok(()),
    }
}

pub async fn update(c: &Clients, type_name: &str, prior: &Value, p: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    if type_name != "aws_lb_target_group_attachment" {
        change_tags(c, &id, prior, p).await?;
    }
    let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
    match type_name {
        "aws_lb" => {
            if changed("security_groups") {
                c.elb
                    .set_security_groups()
                    .load_balancer_arn(&id)
                    .set_security_groups(Some(strings(p.get_attr("security_groups"))))
                    .send()
                    .await
                    .map_err(|e| api_error("SetSecurityGroups", &e))?;
            }
            if changed("subnets") {
                c.elb
                    .set_subnets()
                    .load_balancer_arn(&id)
                    .set_subnets(Some(strings(p.get_attr("subnets"))))
                    .send()
                    .await
                    .map_err(|e| api_error("SetSubnets", &e))?;
            }
            if changed("ip_address_type") {
                c.elb
                    .set_ip_address_type()
                    .load_balancer_arn(&id)
                    .ip_address_type(IpAddressType::from(attrs::string(p, "ip_address_type").unwrap_or_default().as_str()))
                    .send()
                    .await
                    .map_err(|e| api_error("SetIpAddressType", &e))?;
            }
            set_lb_attributes(c, &id, lb_attribute_changes(Some(prior), p)).await
        }
        "aws_lb_target_group" => {
            if changed("health_check") {
                let hc = single_block(p, "health_check").unwrap_or(Value::Null);
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
            set_deregistration_delay(c, &id, Some(prior), p).await
        }
        "aws_lb_listener" => {
            if ["port", "protocol", "ssl_policy", "certificate_arn", "default_action"].iter().any(|k| changed(k)) {
                c.elb
                    .modify_listener()
                    .listener_arn(&id)
                    .set_port(int_of(p, "port"))
                    .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                    .set_ssl_policy(attrs::string(p, "ssl_policy"))
                    .set_certificates(certificates_of(p))
                    .set_default_actions(Some(actions_of(p, "default_action")?))
                    .send()
                    .await
                    .map_err(|e| api_error("ModifyListener", &e))?;
            }
            Ok(())
        }
        "aws_lb_listener_rule" => {
            if changed("condition") || changed("action") {
                c.elb
                    .modify_rule()
                    .rule_arn(&id)
                    .set_conditions(Some(conditions_of(p)))
                    .set_actions(Some(actions_of(p, "action")?))
                    .send()
                    .await
                    .map_err(|e| api_error("ModifyRule", &e))?;
            }
            if let Some(priority) = int_of(p, "priority").filter(|_| changed("priority")) {
                let entry = elb::types::RulePriorityPair::builder().rule_arn(&id).priority(priority).build();
                c.elb.set_rule_priorities().rule_priorities(entry).send().await.map_err(|e| api_error("SetRulePriorities", &e))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A load balancer with deletion protection cannot be deleted: say so at plan time.
pub fn check_delete(req: &CheckDeleteRequest) -> Vec<Diagnostic> {
    let prior = req.prior.deep_unmark();
    if req.type_name == "aws_lb" && attrs::bool(&prior, "enable_deletion_protection") == Some(true) {
        return vec![err(
            "Deletion protection is enabled",
            format!(
                "The plan deletes or replaces load balancer {}, which has deletion protection enabled. Set enable_deletion_protection = false and apply that first.",
                attrs::string(&prior, "name").unwrap_or_else(|| id_of(&prior))
            ),
        )];
    }
    Vec::new()
}

/// Deletes and waits until AWS no longer lists the object, so that what depended on it (a
/// security group attached to a load balancer's network interfaces) can go next.
pub async fn delete(c: &Clients, type_name: &str, prior: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    let gone = |code: Option<String>| code.is_some_and(|c| c.ends_with("NotFound"));
    match type_name {
        "aws_lb" => {
            if attrs::bool(prior, "enable_deletion_protection") == Some(true) {
                return Err(err(
                    "Deletion protection is enabled",
                    format!("{id} has deletion protection enabled: set enable_deletion_protection = false and apply before destroying it."),
                ));
            }
            match c.elb.delete_load_balancer().load_balancer_arn(&id).send().await {
                Ok(_) => {}
                Err(e) if gone(code_of(&e)) => return Ok(()),
                Err(e) => return Err(api_error("DeleteLoadBalancer", &e)),
            }
            wait_for(&format!("load balancer {id} going away"), Duration::from_secs(600), Duration::from_secs(2), || async {
                Ok(describe_lbs(c, std::slice::from_ref(&id)).await?.is_empty().then_some(()))
            })
            .await
        }
        "aws_lb_target_group" => {
            // A group still referenced by a listener being deleted in parallel: retry.
            wait_for(&format!("target group {id} going away"), Duration::from_secs(120), Duration::from_secs(2), || async {
                match c.elb.delete_target_group().target_group_arn(&id).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) if gone(code_of(&e)) => Ok(Some(())),
                    Err(e) if code_of(&e).as_deref() == Some("ResourceInUse") => Ok(None),
                    Err(e) => Err(api_error("DeleteTargetGroup", &e)),
                }
            })
            .await
        }
        "aws_lb_listener" => match c.elb.delete_listener().listener_arn(&id).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) => Ok(()),
            Err(e) => Err(api_error("DeleteListener", &e)),
        },
        "aws_lb_listener_rule" => match c.elb.delete_rule().rule_arn(&id).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) => Ok(()),
            Err(e) => Err(api_error("DeleteRule", &e)),
        },
        "aws_lb_target_group_attachment" => {
            let tg = attrs::string(prior, "target_group_arn").unwrap_or_default();
            match c.elb.deregister_targets().target_group_arn(&tg).targets(target_of(prior)).send().await {
                Ok(_) => Ok(()),
                Err(e) if gone(code_of(&e)) || code_of(&e).as_deref() == Some("InvalidTarget") => Ok(()),
                Err(e) => Err(api_error("DeregisterTargets", &e)),
            }
        }
        other => Err(unknown_type(other)),
    }
}

/// Finds the object an interrupted create made, by its intent tag (or, for an attachment,
/// by being registered).
pub async fn adopt(c: &Clients, type_name: &str, token: &str, planned: &Value) -> Result<Option<String>, Diagnostic> {
    let candidates: Vec<String> = match type_name {
        "aws_lb" => {
            let mut all = Vec::new();
            let mut pages = c.elb.describe_load_balancers().page_size(400).into_paginator().send();
            while let Some(page) = pages.next().await {
                all.extend(
                    page.map_err(|e| api_error("DescribeLoadBalancers", &e))?.load_balancers().iter().filter_map(|l| l.load_balancer_arn().map(str::to_string)),
                );
            }
            all
        }
        "aws_lb_target_group" => {
            let mut all = Vec::new();
            let mut pages = c.elb.describe_target_groups().page_size(400).into_paginator().send();
            while let Some(page) = pages.next().await {
                all.extend(
                    page.map_err(|e| api_error("DescribeTargetGroups", &e))?.target_groups().iter().filter_map(|t| t.target_group_arn().map(str::to_string)),
                );
            }
            all
        }
        "aws_lb_listener" => match attrs::string(planned, "load_balancer_arn") {
            Some(lb) => describe_listeners(c, &[lb]).await?.into_keys().collect(),
            None => Vec::new(),
        },
        "aws_lb_listener_rule" => match attrs::string(planned, "listener_arn") {
            Some(l) => describe_rules(c, &[l]).await?.into_keys().collect(),
            None => Vec::new(),
        },
        "aws_lb_target_group_attachment" => {
            let id = attachment_id(
                &attrs::string(planned, "target_group_arn").unwrap_or_default(),
                &attrs::string(planned, "target_id").unwrap_or_default(),
                int_of(planned, "port"),
            );
            let found = describe_attachments(c, &[attrs::string(planned, "target_group_arn").unwrap_or_default()]).await?;
            return Ok(found.contains_key(&id).then_some(id));
        }
        _ => return Ok(None),
    };
    let tags = describe_tags(c, &candidates).await?;
    Ok(tags.into_iter().find(|(_, t)| t.get(INTENT_TAG).map(String::as_str) == Some(token)).map(|(arn, _)| arn))
}

pub async fn drop_intent_tag(c: &Clients, type_name: &str, id: &str) -> Result<(), Diagnostic> {
    if type_name == "aws_lb_target_group_attachment" {
        return Ok(());
    }
    c.elb.remove_tags().resource_arns(id).tag_keys(INTENT_TAG).send().await.map(|_| ()).map_err(|e| api_error("RemoveTags", &e))
}

// Listener rules: read per listener (`DescribeRules`, paged); the default rule is the
// listener's `default_action` and never a rule resource.

async fn describe_rules(c: &Clients, listeners: &[String]) -> Result<BTreeMap<String, elb::types::Rule>, Diagnostic> {
    let mut out = BTreeMap::new();
    for l in listeners {
        let mut marker: Option<String> = None;
        loop {
            match c.elb.describe_rules().listener_arn(l).page_size(400).set_marker(marker.clone()).send().await {
                Ok(page) => {
                    out.extend(page.rules().iter().filter(|r| r.is_default() != Some(true)).filter_map(|r| Some((r.rule_arn()?.to_string(), r.clone()))));
                    marker = page.next_marker().map(str::to_string);
                    if marker.is_none() {
                        break;
                    }
                }
                Err(e) if code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => break,
                Err(e) => return Err(api_error("DescribeRules", &e)),
            }
        }
    }
    Ok(out)
}

/// `arn:…:listener-rule/app/NAME/LB/LISTENER/RULE` → `arn:…:listener/app/NAME/LB/LISTENER`.
fn rule_listener_arn(rule: &str) -> String {
    match rule.split_once(":listener-rule/") {
        Some((head, rest)) => {
            let parts: Vec<&str> = rest.split('/').collect();
            format!("{head}:listener/{}", parts[..parts.len().saturating_sub(1)].join("/"))
        }
        None => rule.to_string(),
    }
}

fn conditions_of(p: &Value) -> Vec<elb::types::RuleCondition> {
    let mut out = Vec::new();
    for cond in p.get_attr("condition").and_then(Value::as_seq).unwrap_or(&[]) {
        if let Some(v) = single_block(cond, "path_pattern").filter(|v| !v.is_null()) {
            let cfg = elb::types::PathPatternConditionConfig::builder().set_values(Some(strings(v.get_attr("values")))).build();
            out.push(elb::types::RuleCondition::builder().field("path-pattern").path_pattern_config(cfg).build());
        }
        if let Some(v) = single_block(cond, "host_header").filter(|v| !v.is_null()) {
            let cfg = elb::types::HostHeaderConditionConfig::builder().set_values(Some(strings(v.get_attr("values")))).build();
            out.push(elb::types::RuleCondition::builder().field("host-header").host_header_config(cfg).build());
        }
    }
    out
}

fn rule_value(c: &Clients, r: &elb::types::Rule, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = r.rule_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let conditions = r
        .conditions()
        .iter()
        .filter_map(|cond| {
            // The typed config, or the older flat `Values` some servers still answer with.
            let (block, values): (&str, Vec<String>) = match cond.field() {
                Some("path-pattern") => (
                    "path_pattern",
                    cond.path_pattern_config().map(|c| c.values().to_vec()).filter(|v| !v.is_empty()).unwrap_or_else(|| cond.values().to_vec()),
                ),
                Some("host-header") => {
                    ("host_header", cond.host_header_config().map(|c| c.values().to_vec()).filter(|v| !v.is_empty()).unwrap_or_else(|| cond.values().to_vec()))
                }
                _ => return None,
            };
            let values = Value::object([("values", string_set(values))]);
            Some(Value::object([
                ("path_pattern", if block == "path_pattern" { values.clone() } else { Value::Null }),
                ("host_header", if block == "host_header" { values } else { Value::Null }),
            ]))
        })
        .collect();
    let mut actions: Vec<&LbAction> = r.actions().iter().collect();
    actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("listener_arn", prior.and_then(|p| p.get_attr("listener_arn")).cloned().unwrap_or_else(|| Value::string(rule_listener_arn(arn)))),
        ("priority", r.priority().and_then(|p| p.parse::<i64>().ok()).map(Value::int).unwrap_or(Value::Null)),
        ("action", Value::List(actions.into_iter().map(action_value).collect())),
        ("condition", Value::set(conditions)),
        tags,
        tags_all,
    ])
}
