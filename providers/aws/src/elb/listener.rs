//! `aws_lb_listener`: one `DescribeListeners` per load balancer and page, `DescribeTags` per
//! 20 ARNs. Import by listener ARN, which names its load balancer.

use super::*;
use crate::AwsProvider;
use elb::types::{Certificate, ProtocolEnum};
use infra_provider::resource::with_id;

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

fn listener_value(c: &Clients, l: &elb::types::Listener, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = l.listener_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("load_balancer_arn", opt_string(l.load_balancer_arn())),
        ("port", opt_int(l.port())),
        ("protocol", opt_string(l.protocol().map(|p| p.as_str()))),
        ("ssl_policy", opt_string(l.ssl_policy())),
        ("certificate_arn", opt_string(l.certificates().first().and_then(|c| c.certificate_arn()))),
        ("default_action", actions_value(l.default_actions())),
        tags,
        tags_all,
    ])
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
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("load_balancer_arn", AttrSchema::required(Type::String).force_new())
            .attr("port", AttrSchema::optional(Type::Number))
            .attr("protocol", AttrSchema::optional_computed(Type::String))
            .attr("ssl_policy", AttrSchema::optional_computed(Type::String))
            .attr("certificate_arn", AttrSchema::optional(Type::String))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("default_action", actions_block(1))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let protocol = attrs::string(config, "protocol");
        if protocol.as_deref() == Some("HTTPS") && config.get_attr("certificate_arn").is_some_and(Value::is_null) {
            out.push(Diagnostic::error("Missing certificate", "An HTTPS listener needs certificate_arn.").with_path(attrs::at("certificate_arn")));
        }
        for (i, a) in config.get_attr("default_action").and_then(Value::as_seq).unwrap_or(&[]).iter().enumerate() {
            let kind = attrs::string(a, "type").unwrap_or_default();
            let needs = match kind.as_str() {
                "forward" => "target_group_arn",
                "redirect" => "redirect",
                "fixed-response" => "fixed_response",
                _ if a.get_attr("type").is_some_and(Value::is_unknown) => continue,
                other => {
                    out.push(Diagnostic::error("Invalid action type", format!("{other:?} is not one of forward, redirect, fixed-response.")).with_path(vec![
                        PathStep::Attr("default_action".into()),
                        PathStep::Index(i as i64),
                        PathStep::Attr("type".into()),
                    ]));
                    continue;
                }
            };
            if a.get_attr(needs).is_some_and(Value::is_null) {
                out.push(
                    Diagnostic::error("Incomplete action", format!("A {kind} action needs {needs}."))
                        .with_path(vec![PathStep::Attr("default_action".into()), PathStep::Index(i as i64)]),
                );
            }
        }
        out
    }

    /// HTTPS when a certificate is given; only HTTPS and TLS listeners have an SSL policy.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            let https = m.get("certificate_arn").is_some_and(|c| !c.is_null());
            attrs::set_default(m, "protocol", Value::string(if https { "HTTPS" } else { "HTTP" }));
            fill_actions(m, "default_action");
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
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateListener", &e))?;
        Ok(with_id(p, out.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default()))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_listeners(c, &unique(objects, "load_balancer_arn")).await?;
        let present: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
        let tags = describe_tags(c, &present).await?;
        let none = BTreeMap::new();
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|l| listener_value(c, l, tags.get(id).unwrap_or(&none), Some(p)))).collect())
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
        if ["port", "protocol", "ssl_policy", "certificate_arn", "default_action"].iter().any(|k| changed(k)) {
            c.elb
                .modify_listener()
                .listener_arn(attrs::req_string(prior, "id")?)
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
