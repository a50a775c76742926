//! Elastic Load Balancing v2: `aws_lb`, `aws_lb_target_group`, `aws_lb_listener`,
//! `aws_lb_listener_rule` and `aws_lb_target_group_attachment`, with terraform-provider-aws
//! names and defaults, and what they share: batched `DescribeTags` (20 ARNs a call), tag
//! updates, the intent tag (CreateLoadBalancer and friends take no idempotency token, so
//! creates carry it and `adopt` looks for it), actions of listeners and rules, and the
//! attributes that have no batch read.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_elasticloadbalancingv2 as elb;
use elb::types::{Action as LbAction, ActionTypeEnum, FixedResponseActionConfig, RedirectActionConfig, RedirectActionStatusCodeEnum, Tag};
use infra_provider::*;
use std::collections::BTreeMap;

/// ARNs per `Describe*` and `DescribeTags` call.
const ARNS_PER_CALL: usize = 20;

/// Objects among `arns`, one call per 20; a chunk with a deleted ARN is listed whole instead
/// (AWS fails the whole call when one ARN is gone).
macro_rules! describe_by_arns {
    ($name:ident, $op:ident, $op_name:literal, $set:ident, $items:ident, $arn:ident, $ty:ty) => {
        pub async fn $name(c: &crate::config::Clients, arns: &[String]) -> Result<BTreeMap<String, $ty>, Diagnostic> {
            let mut out = BTreeMap::new();
            let mut list_all = false;
            for chunk in arns.chunks(crate::elb::ARNS_PER_CALL) {
                match c.elb.$op().$set(Some(chunk.to_vec())).send().await {
                    Ok(page) => out.extend(page.$items().iter().filter_map(|x| Some((x.$arn()?.to_string(), x.clone())))),
                    Err(e) if crate::common::code_of(&e).is_some_and(|c| c.ends_with("NotFound")) => list_all = true,
                    Err(e) => return Err(crate::common::api_error($op_name, &e)),
                }
            }
            if list_all {
                let mut pages = c.elb.$op().page_size(400).into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| crate::common::api_error($op_name, &e))?;
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

pub mod lb;
pub mod listener;
pub mod listener_rule;
pub mod target_group;
pub mod target_group_attachment;

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

/// Whether an error code says the object is gone.
fn gone(code: Option<String>) -> bool {
    code.is_some_and(|c| c.ends_with("NotFound"))
}

fn fill(m: &mut BTreeMap<String, Value>, defaults: &[(&str, Value)]) {
    for (k, v) in defaults {
        attrs::set_default(m, k, v.clone());
    }
}

fn int_of(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

/// A name for a load balancer or target group created without one.
fn generated_name(token: &str) -> String {
    format!("infra-{}", token.replace('-', "").chars().take(20).collect::<String>())
}

/// Load balancer and target group names: 1 to 32 letters, digits and hyphens.
fn validate_name(config: &Value) -> Vec<Diagnostic> {
    let Some(name) = attrs::string(config, "name") else { return Vec::new() };
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.starts_with("internal-");
    if valid {
        return Vec::new();
    }
    vec![Diagnostic::error(
        "Invalid name",
        format!("{name:?}: load balancer and target group names have 1 to 32 letters, digits and hyphens, and neither begin nor end with a hyphen."),
    )
    .with_path(attrs::at("name"))]
}

/// Tags for ELBv2 calls, with the intent tag when `token` is given.
fn lb_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
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
            Err(e) if chunk.len() > 1 && gone(code_of(&e)) => {
                for arn in chunk {
                    out.extend(Box::pin(describe_tags(c, std::slice::from_ref(arn))).await?);
                }
                continue;
            }
            Err(e) if gone(code_of(&e)) => continue,
            Err(e) => return Err(api_error("DescribeTags", &e)),
        };
        for d in resp.tag_descriptions() {
            let tags = d.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())));
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags.collect());
        }
    }
    Ok(out)
}

/// Brings the tags from `prior`'s `tags_all` to `planned`'s; stops at the first error.
async fn change_tags(c: &Clients, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    let arn = attrs::req_string(prior, "id")?;
    let (removed, changed) = tag_changes(prior, planned);
    if !removed.is_empty() {
        c.elb.remove_tags().resource_arns(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("RemoveTags", &e))?;
    }
    if !changed.is_empty() {
        c.elb.add_tags().resource_arns(&arn).set_tags(Some(lb_tags(&changed, None))).send().await.map_err(|e| api_error("AddTags", &e))?;
    }
    Ok(())
}

/// Which of `candidates` carries the intent tag of `token`: what an interrupted create made.
async fn find_by_intent(c: &Clients, candidates: &[String], token: &str) -> Result<Option<String>, Diagnostic> {
    let tags = describe_tags(c, candidates).await?;
    Ok(tags.into_iter().find(|(_, t)| t.get(INTENT_TAG).map(String::as_str) == Some(token)).map(|(arn, _)| arn))
}

/// Drops the intent tag once the engine has recorded the object.
async fn drop_intent_tag(c: &Clients, state: &Value) -> Result<(), Diagnostic> {
    let arn = attrs::req_string(state, "id")?;
    c.elb.remove_tags().resource_arns(arn).tag_keys(INTENT_TAG).send().await.map(|_| ()).map_err(|e| api_error("RemoveTags", &e))
}

/// The recorded values of attributes that have no batch read, as AWS's attribute map
/// (`[(attribute, AWS key)]`), when every one is recorded.
fn recorded_attributes(prior: Option<&Value>, keys: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    let p = prior?;
    keys.iter()
        .map(|(attr, key)| {
            let text = match p.get_attr(attr)? {
                Value::Bool(b) => b.to_string(),
                other => other.as_i64()?.to_string(),
            };
            Some((key.to_string(), text))
        })
        .collect()
}

fn attr_bool(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).map(|v| Value::Bool(v == "true")).unwrap_or(Value::Null)
}

fn attr_int(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).and_then(|v| v.parse::<i64>().ok()).map(Value::int).unwrap_or(Value::Null)
}

// Actions, of a listener (`default_action`) and of a rule (`action`).

fn action_schema() -> Schema {
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
    Schema::new()
        .attr("type", AttrSchema::required(Type::String))
        .attr("target_group_arn", AttrSchema::optional(Type::String))
        .attr("order", AttrSchema::optional(Type::Number))
        .block("redirect", single(redirect))
        .block("fixed_response", single(fixed))
}

fn actions_block(min_items: usize) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items, max_items: usize::MAX, force_new: false, schema: action_schema() }
}

/// Terraform's defaults inside action blocks: `order` by position, redirect placeholders,
/// fixed responses answering 200.
fn fill_actions(m: &mut BTreeMap<String, Value>, block: &str) {
    if let Some(Value::List(actions)) = m.get_mut(block) {
        for (i, a) in actions.iter_mut().enumerate() {
            if let Value::Object(a) = a {
                attrs::set_default(a, "order", Value::int(i as i64 + 1));
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
                    attrs::set_default(f, "status_code", Value::string("200"));
                }
            }
        }
    }
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

/// Actions as AWS reports them, in order.
fn actions_value(actions: &[LbAction]) -> Value {
    let mut actions: Vec<&LbAction> = actions.iter().collect();
    actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    let mut out: Vec<Value> = actions.into_iter().map(action_value).collect();
    // An answer without `Order` (moto's) means the position, as planning assumes.
    for (i, a) in out.iter_mut().enumerate() {
        if let Value::Object(a) = a {
            attrs::set_default(a, "order", Value::int(i as i64 + 1));
        }
    }
    Value::List(out)
}

fn actions_of(p: &Value, block: &str) -> Result<Vec<LbAction>, Diagnostic> {
    let mut out = Vec::new();
    for a in p.get_attr(block).and_then(Value::as_seq).unwrap_or(&[]) {
        let mut b = LbAction::builder()
            .r#type(ActionTypeEnum::from(attrs::req_string(a, "type")?.as_str()))
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
                    .status_code(RedirectActionStatusCodeEnum::from(attrs::req_string(r, "status_code")?.as_str()))
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
