//! Elastic Load Balancing v2: `aws_lb`, `aws_lb_target_group`, `aws_lb_listener`,
//! `aws_lb_listener_rule` and `aws_lb_target_group_attachment`, with terraform-provider-aws
//! names and defaults, and what they share: batched `DescribeTags` (20 ARNs a call), tag
//! updates, the intent tag (CreateLoadBalancer and friends take no idempotency token, so
//! creates carry it and `adopt` looks for it), actions of listeners and rules, and the
//! attributes that have no batch read.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_elasticloadbalancingv2 as elb;
use elb::types::{
    Action as LbAction, ActionTypeEnum, AuthenticateCognitoActionConfig, AuthenticateOidcActionConfig, FixedResponseActionConfig, ForwardActionConfig,
    RedirectActionConfig, RedirectActionStatusCodeEnum, Tag, TargetGroupStickinessConfig, TargetGroupTuple,
};
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

fn attr_bool(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).map(|v| Value::Bool(v == "true")).unwrap_or(Value::Null)
}

fn attr_int(a: &BTreeMap<String, String>, k: &str) -> Value {
    a.get(k).and_then(|v| v.parse::<i64>().ok()).map(Value::int).unwrap_or(Value::Null)
}

// Actions, of a listener (`default_action`) and of a rule (`action`).

/// The action block: `listener` marks the listener's flavour, whose authentication settings
/// are optional and computed where a rule's are optional only.
fn action_schema(listener: bool) -> Schema {
    let (opt, oc, req) = (AttrSchema::optional, AttrSchema::optional_computed, AttrSchema::required);
    let auth = |s: Schema| {
        let setting = if listener { oc } else { opt };
        s.attr("authentication_request_extra_params", opt(Type::Map(Box::new(Type::String))))
            .attr("on_unauthenticated_request", oc(Type::String))
            .attr("scope", setting(Type::String))
            .attr("session_cookie_name", setting(Type::String))
            .attr("session_timeout", setting(Type::Number))
    };
    let cognito =
        auth(Schema::new().attr("user_pool_arn", req(Type::String)).attr("user_pool_client_id", req(Type::String)).attr("user_pool_domain", req(Type::String)));
    let oidc = auth(
        Schema::new()
            .attr("authorization_endpoint", req(Type::String))
            .attr("client_id", req(Type::String))
            .attr("client_secret", req(Type::String).sensitive())
            .attr("issuer", req(Type::String))
            .attr("token_endpoint", req(Type::String))
            .attr("user_info_endpoint", req(Type::String)),
    );
    let redirect = Schema::new()
        .attr("host", opt(Type::String))
        .attr("path", opt(Type::String))
        .attr("port", opt(Type::String))
        .attr("protocol", opt(Type::String))
        .attr("query", opt(Type::String))
        .attr("status_code", req(Type::String));
    let fixed = Schema::new().attr("content_type", req(Type::String)).attr("message_body", opt(Type::String)).attr("status_code", oc(Type::String));
    let forward = Schema::new().block("stickiness", list_block(1, Schema::new().attr("duration", req(Type::Number)).attr("enabled", opt(Type::Bool)))).block(
        "target_group",
        BlockSchema {
            nesting: Nesting::Set,
            min_items: 1,
            max_items: 5,
            force_new: false,
            schema: Schema::new().attr("arn", req(Type::String)).attr("weight", opt(Type::Number)),
        },
    );
    Schema::new()
        .attr("type", req(Type::String))
        .attr("target_group_arn", opt(Type::String))
        .attr("order", oc(Type::Number))
        .block("authenticate_cognito", list_block(1, cognito))
        .block("authenticate_oidc", list_block(1, oidc))
        .block("fixed_response", list_block(1, fixed))
        .block("forward", list_block(1, forward))
        .block("redirect", list_block(1, redirect))
}

/// A list block of at most `max_items` (terraform-plugin-sdk's `MaxItems: 1` blocks).
fn list_block(max_items: usize, schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items: 0, max_items, force_new: false, schema }
}

fn actions_block(min_items: usize, listener: bool) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items, max_items: usize::MAX, force_new: false, schema: action_schema(listener) }
}

/// Runs `f` on every item of the list or set block `name` of `m`.
fn each_item(m: &mut BTreeMap<String, Value>, name: &str, mut f: impl FnMut(&mut BTreeMap<String, Value>)) {
    if let Some(Value::List(items) | Value::Set(items)) = m.get_mut(name) {
        for item in items.iter_mut() {
            if let Value::Object(o) = item {
                f(&mut **o);
            }
        }
    }
}

/// Terraform's defaults inside action blocks: `order` by position, redirect placeholders,
/// fixed responses answering 200, the authentication settings AWS applies, weight 1.
fn fill_actions(m: &mut BTreeMap<String, Value>, block: &str) {
    let mut i = 0;
    each_item(m, block, |a| {
        i += 1;
        attrs::set_default(a, "order", Value::int(i));
        each_item(a, "redirect", |r| {
            fill(
                r,
                &[
                    ("host", Value::string("#{host}")),
                    ("path", Value::string("/#{path}")),
                    ("port", Value::string("#{port}")),
                    ("protocol", Value::string("#{protocol}")),
                    ("query", Value::string("#{query}")),
                ],
            )
        });
        each_item(a, "fixed_response", |f| attrs::set_default(f, "status_code", Value::string("200")));
        for auth in ["authenticate_cognito", "authenticate_oidc"] {
            each_item(a, auth, |x| {
                fill(
                    x,
                    &[
                        ("on_unauthenticated_request", Value::string("authenticate")),
                        ("scope", Value::string("openid")),
                        ("session_cookie_name", Value::string("AWSELBAuthSessionCookie")),
                        ("session_timeout", Value::int(604800)),
                    ],
                )
            });
        }
        each_item(a, "forward", |f| {
            each_item(f, "target_group", |t| attrs::set_default(t, "weight", Value::int(1)));
            each_item(f, "stickiness", |s| attrs::set_default(s, "enabled", Value::Bool(false)));
        });
    });
}

fn auth_settings(
    cookie: Option<&str>,
    scope: Option<&str>,
    timeout: Option<i64>,
    unauth: Option<&str>,
    extra: Option<&std::collections::HashMap<String, String>>,
) -> [(&'static str, Value); 5] {
    [
        ("session_cookie_name", opt_string(cookie)),
        ("scope", opt_string(scope)),
        ("session_timeout", opt_int(timeout)),
        ("on_unauthenticated_request", opt_string(unauth)),
        ("authentication_request_extra_params", extra.map(|m| map_value(&m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())).unwrap_or(Value::Null)),
    ]
}

/// One action as read; `prior` is the action recorded at the same position: the OIDC client
/// secret (never reported) is kept from it, and it says whether a forward went by
/// `target_group_arn` or by a `forward` block (AWS reports both for one group).
fn action_value(a: &LbAction, prior: Option<&Value>) -> Value {
    let one = |v: Option<Value>| Value::List(v.into_iter().collect());
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
    let cognito = a.authenticate_cognito_config().map(|x| {
        let mut m: BTreeMap<String, Value> = auth_settings(
            x.session_cookie_name(),
            x.scope(),
            x.session_timeout(),
            x.on_unauthenticated_request().map(|o| o.as_str()),
            x.authentication_request_extra_params(),
        )
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        m.insert("user_pool_arn".into(), opt_string(x.user_pool_arn()));
        m.insert("user_pool_client_id".into(), opt_string(x.user_pool_client_id()));
        m.insert("user_pool_domain".into(), opt_string(x.user_pool_domain()));
        Value::Object(m.into())
    });
    let prior_block = |name: &str| prior.and_then(|p| single_block(p, name));
    let oidc = a.authenticate_oidc_config().map(|x| {
        let mut m: BTreeMap<String, Value> = auth_settings(
            x.session_cookie_name(),
            x.scope(),
            x.session_timeout(),
            x.on_unauthenticated_request().map(|o| o.as_str()),
            x.authentication_request_extra_params(),
        )
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let secret = prior_block("authenticate_oidc").and_then(|o| o.get_attr("client_secret").filter(|v| !v.is_unknown()).cloned());
        m.insert("authorization_endpoint".into(), opt_string(x.authorization_endpoint()));
        m.insert("client_id".into(), opt_string(x.client_id()));
        m.insert("client_secret".into(), secret.unwrap_or_else(|| opt_string(x.client_secret())));
        m.insert("issuer".into(), opt_string(x.issuer()));
        m.insert("token_endpoint".into(), opt_string(x.token_endpoint()));
        m.insert("user_info_endpoint".into(), opt_string(x.user_info_endpoint()));
        Value::Object(m.into())
    });
    let groups = a.forward_config().map(|f| f.target_groups()).unwrap_or_default();
    // A forward written with `target_group_arn` comes back with a one-group ForwardConfig as
    // well: the block is read when it was configured or when it says more than the ARN.
    let forward_configured = prior_block("forward").is_some();
    let forward = a.forward_config().filter(|_| forward_configured || groups.len() > 1).map(|f| {
        let prior_stickiness = prior_block("forward").and_then(|p| single_block(&p, "stickiness"));
        let stickiness = f
            .target_group_stickiness_config()
            .filter(|s| prior_stickiness.is_some() || s.enabled() == Some(true))
            .map(|s| Value::object([("duration", opt_int(s.duration_seconds())), ("enabled", Value::Bool(s.enabled().unwrap_or(false)))]));
        Value::object([
            ("stickiness", one(stickiness)),
            (
                "target_group",
                Value::set(
                    f.target_groups()
                        .iter()
                        .map(|t| Value::object([("arn", opt_string(t.target_group_arn())), ("weight", opt_int(t.weight().or(Some(1))))]))
                        .collect(),
                ),
            ),
        ])
    });
    let target = a.target_group_arn().map(str::to_string).or_else(|| (groups.len() == 1).then(|| groups[0].target_group_arn().map(str::to_string)).flatten());
    let by_arn = !forward_configured || prior.and_then(|p| p.get_attr("target_group_arn")).is_some_and(|v| !v.is_null());
    Value::object([
        ("type", opt_string(a.r#type().map(|t| t.as_str()))),
        ("target_group_arn", target.filter(|_| by_arn).map(Value::string).unwrap_or(Value::Null)),
        ("order", opt_int(a.order())),
        ("redirect", one(redirect)),
        ("fixed_response", one(fixed)),
        ("authenticate_cognito", one(cognito)),
        ("authenticate_oidc", one(oidc)),
        ("forward", one(forward)),
    ])
}

/// Actions as AWS reports them, in order, each read against the recorded one at its position.
fn actions_value(actions: &[LbAction], prior: Option<&Value>) -> Value {
    let mut actions: Vec<&LbAction> = actions.iter().collect();
    actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    let recorded = prior.and_then(Value::as_seq).unwrap_or(&[]);
    let mut out: Vec<Value> = actions.into_iter().enumerate().map(|(i, a)| action_value(a, recorded.get(i))).collect();
    // An answer without `Order` (moto's) means the position, as planning assumes.
    for (i, a) in out.iter_mut().enumerate() {
        if let Value::Object(a) = a {
            attrs::set_default(a, "order", Value::int(i as i64 + 1));
        }
    }
    Value::List(out)
}

fn extra_params(v: &Value) -> Option<std::collections::HashMap<String, String>> {
    v.get_attr("authentication_request_extra_params").filter(|m| !m.is_null()).map(|m| attrs::map_of(Some(m)).into_iter().collect())
}

fn actions_of(p: &Value, block: &str) -> Result<Vec<LbAction>, Diagnostic> {
    let mut out = Vec::new();
    for a in p.get_attr(block).and_then(Value::as_seq).unwrap_or(&[]) {
        let mut b = LbAction::builder()
            .r#type(ActionTypeEnum::from(attrs::req_string(a, "type")?.as_str()))
            .set_target_group_arn(attrs::string(a, "target_group_arn"))
            .set_order(int_of(a, "order"));
        if let Some(r) = single_block(a, "redirect") {
            b = b.redirect_config(
                RedirectActionConfig::builder()
                    .set_host(attrs::string(&r, "host"))
                    .set_path(attrs::string(&r, "path"))
                    .set_port(attrs::string(&r, "port"))
                    .set_protocol(attrs::string(&r, "protocol"))
                    .set_query(attrs::string(&r, "query"))
                    .status_code(RedirectActionStatusCodeEnum::from(attrs::req_string(&r, "status_code")?.as_str()))
                    .build(),
            );
        }
        if let Some(f) = single_block(a, "fixed_response") {
            b = b.fixed_response_config(
                FixedResponseActionConfig::builder()
                    .set_content_type(attrs::string(&f, "content_type"))
                    .set_message_body(attrs::string(&f, "message_body"))
                    .status_code(attrs::string(&f, "status_code").unwrap_or_else(|| "200".into()))
                    .build(),
            );
        }
        if let Some(x) = single_block(a, "authenticate_cognito") {
            b = b.authenticate_cognito_config(
                AuthenticateCognitoActionConfig::builder()
                    .set_user_pool_arn(attrs::string(&x, "user_pool_arn"))
                    .set_user_pool_client_id(attrs::string(&x, "user_pool_client_id"))
                    .set_user_pool_domain(attrs::string(&x, "user_pool_domain"))
                    .set_session_cookie_name(attrs::string(&x, "session_cookie_name"))
                    .set_scope(attrs::string(&x, "scope"))
                    .set_session_timeout(attrs::int(&x, "session_timeout"))
                    .set_on_unauthenticated_request(attrs::string(&x, "on_unauthenticated_request").map(|s| s.as_str().into()))
                    .set_authentication_request_extra_params(extra_params(&x))
                    .build(),
            );
        }
        if let Some(x) = single_block(a, "authenticate_oidc") {
            b = b.authenticate_oidc_config(
                AuthenticateOidcActionConfig::builder()
                    .set_authorization_endpoint(attrs::string(&x, "authorization_endpoint"))
                    .set_client_id(attrs::string(&x, "client_id"))
                    .set_client_secret(attrs::string(&x, "client_secret"))
                    .set_issuer(attrs::string(&x, "issuer"))
                    .set_token_endpoint(attrs::string(&x, "token_endpoint"))
                    .set_user_info_endpoint(attrs::string(&x, "user_info_endpoint"))
                    .set_session_cookie_name(attrs::string(&x, "session_cookie_name"))
                    .set_scope(attrs::string(&x, "scope"))
                    .set_session_timeout(attrs::int(&x, "session_timeout"))
                    .set_on_unauthenticated_request(attrs::string(&x, "on_unauthenticated_request").map(|s| s.as_str().into()))
                    .set_authentication_request_extra_params(extra_params(&x))
                    .build(),
            );
        }
        if let Some(f) = single_block(a, "forward") {
            let groups: Vec<TargetGroupTuple> = f
                .get_attr("target_group")
                .and_then(Value::as_seq)
                .unwrap_or(&[])
                .iter()
                .map(|t| TargetGroupTuple::builder().set_target_group_arn(attrs::string(t, "arn")).set_weight(int_of(t, "weight")).build())
                .collect();
            let stickiness = single_block(&f, "stickiness")
                .map(|s| TargetGroupStickinessConfig::builder().set_enabled(attrs::bool(&s, "enabled")).set_duration_seconds(int_of(&s, "duration")).build());
            b = b.forward_config(ForwardActionConfig::builder().set_target_groups(Some(groups)).set_target_group_stickiness_config(stickiness).build());
        }
        out.push(b.build());
    }
    Ok(out)
}

/// What each action type needs (Terraform's validation), as diagnostics at `block[i]`.
fn validate_actions(config: &Value, block: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, a) in config.get_attr(block).and_then(Value::as_seq).unwrap_or(&[]).iter().enumerate() {
        let at = |last: Option<&str>| {
            let mut p = vec![PathStep::Attr(block.into()), PathStep::Index(i as i64)];
            p.extend(last.map(|l| PathStep::Attr(l.into())));
            p
        };
        let kind = attrs::string(a, "type").unwrap_or_default();
        let needs: &[&str] = match kind.as_str() {
            "forward" => &["target_group_arn", "forward"],
            "redirect" => &["redirect"],
            "fixed-response" => &["fixed_response"],
            "authenticate-cognito" => &["authenticate_cognito"],
            "authenticate-oidc" => &["authenticate_oidc"],
            _ if a.get_attr("type").is_some_and(Value::is_unknown) => continue,
            other => {
                out.push(
                    Diagnostic::error(
                        "Invalid action type",
                        format!("{other:?} is not one of forward, redirect, fixed-response, authenticate-cognito, authenticate-oidc."),
                    )
                    .with_path(at(Some("type"))),
                );
                continue;
            }
        };
        let set = |k: &str| a.get_attr(k).is_some_and(|v| !v.is_null() && !v.as_seq().is_some_and(<[Value]>::is_empty));
        if !needs.iter().any(|k| set(k)) {
            out.push(Diagnostic::error("Incomplete action", format!("A {kind} action needs {}.", needs.join(" or "))).with_path(at(None)));
        }
    }
    out
}
