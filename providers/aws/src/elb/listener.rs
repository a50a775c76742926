//! `aws_lb_listener`: one `DescribeListeners` per load balancer and page, `DescribeTags` per
//! 20 ARNs; the listener attributes (header names, response headers, TCP idle timeout) have no
//! batch API: one `DescribeListenerAttributes` per listener, concurrently, and only on a full
//! refresh. Import by listener ARN, which names its load balancer.

use super::*;
use crate::AwsProvider;
use elb::types::{AdvertiseTrustStoreCaNamesEnum, Certificate, ListenerAttribute, MutualAuthenticationAttributes, ProtocolEnum};
use infra_provider::resource::with_id;

/// The arguments that are listener attributes, all optional and computed: AWS's value is read
/// unless configured. The attribute key follows from the name ([`listener_key`]).
const LISTENER_ATTRS: &[(&str, Type)] = &[
    ("routing_http_request_x_amzn_mtls_clientcert_header_name", Type::String),
    ("routing_http_request_x_amzn_mtls_clientcert_issuer_header_name", Type::String),
    ("routing_http_request_x_amzn_mtls_clientcert_leaf_header_name", Type::String),
    ("routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name", Type::String),
    ("routing_http_request_x_amzn_mtls_clientcert_subject_header_name", Type::String),
    ("routing_http_request_x_amzn_mtls_clientcert_validity_header_name", Type::String),
    ("routing_http_request_x_amzn_tls_cipher_suite_header_name", Type::String),
    ("routing_http_request_x_amzn_tls_version_header_name", Type::String),
    ("routing_http_response_access_control_allow_credentials_header_value", Type::String),
    ("routing_http_response_access_control_allow_headers_header_value", Type::String),
    ("routing_http_response_access_control_allow_methods_header_value", Type::String),
    ("routing_http_response_access_control_allow_origin_header_value", Type::String),
    ("routing_http_response_access_control_expose_headers_header_value", Type::String),
    ("routing_http_response_access_control_max_age_header_value", Type::String),
    ("routing_http_response_content_security_policy_header_value", Type::String),
    ("routing_http_response_server_enabled", Type::Bool),
    ("routing_http_response_strict_transport_security_header_value", Type::String),
    ("routing_http_response_x_content_type_options_header_value", Type::String),
    ("routing_http_response_x_frame_options_header_value", Type::String),
    ("tcp_idle_timeout_seconds", Type::Number),
];

/// `routing_http_request_x_amzn_tls_version_header_name` →
/// `routing.http.request.x_amzn_tls_version.header_name`; `tcp_idle_timeout_seconds` →
/// `tcp.idle_timeout.seconds`.
fn listener_key(attr: &str) -> String {
    if attr == "tcp_idle_timeout_seconds" {
        return "tcp.idle_timeout.seconds".into();
    }
    for way in ["request", "response"] {
        if let Some(rest) = attr.strip_prefix(&format!("routing_http_{way}_")) {
            for last in ["header_name", "header_value", "enabled"] {
                if let Some(mid) = rest.strip_suffix(&format!("_{last}")) {
                    return format!("routing.http.{way}.{mid}.{last}");
                }
            }
        }
    }
    attr.to_string()
}

async fn listener_attributes(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    let out = c.elb.describe_listener_attributes().listener_arn(arn).send().await.map_err(|e| api_error("DescribeListenerAttributes", &e))?;
    Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
}

/// The listener attributes an object (planned or recorded) sets, by key.
fn listener_attribute_map(p: &Value) -> BTreeMap<String, String> {
    LISTENER_ATTRS
        .iter()
        .filter_map(|(attr, _)| {
            let text = match p.get_attr(attr)? {
                Value::Bool(b) => b.to_string(),
                Value::String(s) => s.clone(),
                other => other.as_i64()?.to_string(),
            };
            Some((listener_key(attr), text))
        })
        .collect()
}

/// Sets the listener attributes that differ from `prior`'s (`None`: just created).
async fn set_listener_attributes(c: &Clients, arn: &str, prior: Option<&Value>, p: &Value) -> Result<(), Diagnostic> {
    let old = prior.map(listener_attribute_map).unwrap_or_default();
    let changes: Vec<ListenerAttribute> = listener_attribute_map(p)
        .into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .map(|(k, v)| ListenerAttribute::builder().key(k).value(v).build())
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    c.elb
        .modify_listener_attributes()
        .listener_arn(arn)
        .set_attributes(Some(changes))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifyListenerAttributes", &e))
}

fn mutual_authentication(p: &Value) -> Option<MutualAuthenticationAttributes> {
    single_block(p, "mutual_authentication").map(|m| {
        MutualAuthenticationAttributes::builder()
            .set_mode(attrs::string(&m, "mode"))
            .set_trust_store_arn(attrs::string(&m, "trust_store_arn"))
            .set_ignore_client_certificate_expiry(attrs::bool(&m, "ignore_client_certificate_expiry"))
            .set_advertise_trust_store_ca_names(attrs::string(&m, "advertise_trust_store_ca_names").map(|s| AdvertiseTrustStoreCaNamesEnum::from(s.as_str())))
            .build()
    })
}

/// `mutual_authentication` as read: AWS's settings when configured or not `off`; a setting
/// AWS does not report keeps the configured value.
fn mutual_authentication_read(l: &elb::types::Listener, prior: Option<&Value>) -> Value {
    let configured = prior.and_then(|p| single_block(p, "mutual_authentication"));
    let kept = |k: &str| configured.as_ref().and_then(|c| c.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    let reported = l.mutual_authentication().filter(|m| configured.is_some() || m.mode().is_some_and(|m| m != "off"));
    match (reported, &configured) {
        (Some(m), _) => Value::List(vec![Value::object([
            ("mode", or_if_null(opt_string(m.mode()), kept("mode"))),
            ("trust_store_arn", or_if_null(opt_string(m.trust_store_arn()), kept("trust_store_arn"))),
            (
                "ignore_client_certificate_expiry",
                or_if_null(m.ignore_client_certificate_expiry().map(Value::Bool).unwrap_or(Value::Null), kept("ignore_client_certificate_expiry")),
            ),
            (
                "advertise_trust_store_ca_names",
                or_if_null(opt_string(m.advertise_trust_store_ca_names().map(|a| a.as_str())), kept("advertise_trust_store_ca_names")),
            ),
        ])]),
        (None, Some(_)) => Value::List(vec![Value::object(
            ["mode", "trust_store_arn", "ignore_client_certificate_expiry", "advertise_trust_store_ca_names"].map(|k| (k, kept(k))),
        )]),
        (None, None) => Value::List(Vec::new()),
    }
}

pub struct Listener;

/// Listeners by load balancer: one `DescribeListeners` per load balancer and page.
async fn describe_listeners(c: &Clients, lbs: &[String]) -> Result<BTreeMap<String, elb::types::Listener>, Diagnostic> {
    let mut out = BTreeMap::new();
    for lb in lbs {
        let mut pages = c.elb.describe_listeners().load_balancer_arn(lb).page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => out.extend(page.listeners().iter().filter_map(|l| Some((l.listener_arn()?.to_string(), l.clone())))),
                Err(e) if gone(code_of(&e)) => break,
                Err(e) => return Err(api_error("DescribeListeners", &e)),
            }
        }
    }
    Ok(out)
}

/// The listeners of the load balancers in a discovery's scope: one paged
/// DescribeLoadBalancers kept to the scope's VPCs, then one DescribeListeners per load balancer
/// and page.
pub(super) async fn listeners_in_scope(c: &Clients, filter: &BTreeMap<String, String>) -> Result<BTreeMap<String, elb::types::Listener>, Diagnostic> {
    let mut lbs = Vec::new();
    let mut pages = c.elb.describe_load_balancers().page_size(400).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_error("DescribeLoadBalancers", &e))?;
        lbs.extend(
            page.load_balancers().iter().filter(|lb| crate::discover::in_vpcs(filter, lb.vpc_id())).filter_map(|lb| lb.load_balancer_arn().map(str::to_string)),
        );
    }
    describe_listeners(c, &lbs).await
}

fn listener_value(c: &Clients, l: &elb::types::Listener, tags: &BTreeMap<String, String>, a: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = l.listener_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let kept = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    let mut v = Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("load_balancer_arn", opt_string(l.load_balancer_arn())),
        ("port", opt_int(l.port())),
        ("protocol", opt_string(l.protocol().map(|p| p.as_str()))),
        ("ssl_policy", opt_string(l.ssl_policy())),
        ("certificate_arn", opt_string(l.certificates().first().and_then(|c| c.certificate_arn()))),
        ("default_action", actions_value(l.default_actions(), prior.and_then(|p| p.get_attr("default_action")))),
        ("alpn_policy", or_if_null(opt_string(l.alpn_policy().first().map(String::as_str)), kept("alpn_policy"))),
        ("mutual_authentication", mutual_authentication_read(l, prior)),
        tags,
        tags_all,
    ]);
    if let Value::Object(m) = &mut v {
        for (attr, ty) in LISTENER_ATTRS {
            let read = match (a.get(&listener_key(attr)), ty) {
                (None, _) => kept(attr),
                (Some(t), Type::Bool) => Value::Bool(t == "true"),
                (Some(t), Type::Number) => t.parse::<i64>().map(Value::int).unwrap_or(Value::Null),
                (Some(t), _) => Value::string(t),
            };
            m.insert(attr.to_string(), read);
        }
    }
    v
}

fn certificates_of(p: &Value) -> Option<Vec<Certificate>> {
    attrs::string(p, "certificate_arn").map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
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

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Listener {
    fn name(&self) -> &'static str {
        "aws_lb_listener"
    }

    fn schema(&self) -> Schema {
        let (opt, oc) = (AttrSchema::optional, AttrSchema::optional_computed);
        let mutual = Schema::new()
            .attr("advertise_trust_store_ca_names", oc(Type::String))
            .attr("ignore_client_certificate_expiry", opt(Type::Bool))
            .attr("mode", AttrSchema::required(Type::String))
            .attr("trust_store_arn", opt(Type::String));
        let mut schema = Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("load_balancer_arn", AttrSchema::required(Type::String).force_new())
            .attr("port", opt(Type::Number))
            .attr("protocol", oc(Type::String))
            .attr("ssl_policy", oc(Type::String))
            .attr("certificate_arn", opt(Type::String))
            .attr("alpn_policy", opt(Type::String))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("default_action", actions_block(1, true))
            .block("mutual_authentication", list_block(1, mutual))
            .block("timeouts", timeouts_block(&["create", "update"]));
        for (attr, ty) in LISTENER_ATTRS {
            schema = schema.attr(attr, oc(ty.clone()));
        }
        schema
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_timeouts(config);
        let protocol = attrs::string(config, "protocol");
        if protocol.as_deref() == Some("HTTPS") && config.get_attr("certificate_arn").is_some_and(Value::is_null) {
            out.push(Diagnostic::error("Missing certificate", "An HTTPS listener needs certificate_arn.").with_path(attrs::at("certificate_arn")));
        }
        out.extend(validate_actions(config, "default_action"));
        out
    }

    /// HTTPS when a certificate is given; only HTTPS and TLS listeners have an SSL policy.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            let https = m.get("certificate_arn").is_some_and(|c| !c.is_null());
            attrs::set_default(m, "protocol", Value::string(if https { "HTTPS" } else { "HTTP" }));
            fill_actions(m, "default_action");
            // AWS picks the CA names advertisement unless configured: the recorded one, or
            // known after apply.
            let recorded = prior.and_then(|p| single_block(p, "mutual_authentication")).and_then(|b| b.get_attr("advertise_trust_store_ca_names").cloned());
            each_item(m, "mutual_authentication", |b| attrs::set_default(b, "advertise_trust_store_ca_names", recorded.clone().unwrap_or(Value::Unknown)));
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        if let Value::Object(m) = &mut resp.planned {
            // Unless configured, the policy is the API's choice: AWS picks one for an HTTPS or
            // TLS listener, and what it reports for other protocols differs (none on AWS, a
            // default on moto). So it is known only after apply for a new listener (the default
            // rule) and for one that changes protocol, as in Terraform; planning it null made
            // apply fail on moto with an inconsistent result.
            let configured = config.get_attr("ssl_policy").is_some_and(|v| !v.is_null());
            let protocol = m.get("protocol").cloned().unwrap_or_default();
            let protocol_changes = prior.is_some_and(|p| !p.get_attr("protocol").is_some_and(|old| old.equals(&protocol)));
            if !configured && protocol_changes {
                m.insert("ssl_policy".into(), Value::Unknown);
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let out = c
            .clients()?
            .once
            .elb
            .create_listener()
            .load_balancer_arn(attrs::req_string(p, "load_balancer_arn")?)
            .set_port(int_of(p, "port"))
            .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
            .set_ssl_policy(attrs::string(p, "ssl_policy"))
            .set_certificates(certificates_of(p))
            .set_default_actions(Some(actions_of(p, "default_action")?))
            .set_alpn_policy(attrs::string(p, "alpn_policy").map(|a| vec![a]))
            .set_mutual_authentication(mutual_authentication(p))
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateListener", &e))?;
        Ok(with_id(p, out.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default()))
    }

    /// The listener attributes that are configured (CreateListener cannot take them).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        Ok(set_listener_attributes(c.clients()?, &attrs::req_string(created, "id")?, None, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_listeners(c, &unique(objects, "load_balancer_arn")).await?;
        let present: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
        let tags = describe_tags(c, &present).await?;
        // Attributes have no batch read: a routine refresh keeps the recorded values (an
        // object recorded before they were is read).
        let (mut attributes, missing) = split_recorded(&present, full, |id| {
            let p = objects.iter().find(|o| id_of(o) == id)?;
            p.get_attr("tcp_idle_timeout_seconds")?;
            Some(listener_attribute_map(p))
        });
        attributes.extend(per_object(c, &missing, |c, arn| async move { listener_attributes(&c, &arn).await }).await?);
        let none = BTreeMap::new();
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| found.get(id).map(|l| listener_value(c, l, tags.get(id).unwrap_or(&none), attributes.get(id).unwrap_or(&none), Some(p))))
            .collect())
    }

    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = listeners_in_scope(c.clients()?, filter).await?;
        Ok(found.keys().map(|arn| crate::discover::discovered(arn, None, &BTreeMap::new())).collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("load_balancer_arn", Value::string(listener_lb_arn(id)))]))
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        change_tags(c, prior, p).await?;
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        let id = attrs::req_string(prior, "id")?;
        if ["port", "protocol", "ssl_policy", "certificate_arn", "default_action", "alpn_policy", "mutual_authentication"].iter().any(|k| changed(k)) {
            c.elb
                .modify_listener()
                .listener_arn(&id)
                .set_port(int_of(p, "port"))
                .set_protocol(attrs::string(p, "protocol").map(|s| ProtocolEnum::from(s.as_str())))
                .set_ssl_policy(attrs::string(p, "ssl_policy"))
                .set_certificates(certificates_of(p))
                .set_default_actions(Some(actions_of(p, "default_action")?))
                .set_alpn_policy(attrs::string(p, "alpn_policy").map(|a| vec![a]))
                .set_mutual_authentication(mutual_authentication(p))
                .send()
                .await
                .map_err(|e| api_error("ModifyListener", &e))?;
        }
        Ok(set_listener_attributes(c, &id, Some(prior), p).await?)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        match c.clients()?.elb.delete_listener().listener_arn(attrs::req_string(prior, "id")?).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) => Ok(()),
            Err(e) => Err(api_error("DeleteListener", &e).into()),
        }
    }

    /// The load balancer's listeners, by the intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let candidates: Vec<String> = match attrs::string(planned, "load_balancer_arn") {
            Some(lb) => describe_listeners(c, &[lb]).await?.into_keys().collect(),
            None => Vec::new(),
        };
        Ok(find_by_intent(c, &candidates, token).await?.map(|arn| with_id(planned, &arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
