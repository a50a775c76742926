//! `aws_lb`: one `DescribeLoadBalancers` per 20 ARNs, `DescribeTags` per 20 ARNs; the
//! attributes (deletion protection, idle timeout, HTTP/2) have no batch API: one
//! `DescribeLoadBalancerAttributes` per load balancer, concurrently, and only on a full
//! refresh. A load balancer with deletion protection refuses a delete at plan time.

use super::*;
use crate::AwsProvider;
use elb::types::{IpAddressType, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum};
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
        // AWS always reports these of an application load balancer; one left out (by moto,
        // for a load balancer made by hand) has AWS's default.
        ("idle_timeout", if application { or_default(attr_int(a, "idle_timeout.timeout_seconds"), Value::int(60)) } else { Value::Null }),
        ("enable_http2", if application { or_default(attr_bool(a, "routing.http2.enabled"), Value::Bool(true)) } else { Value::Null }),
        tags,
        tags_all,
    ])
}

fn or_default(v: Value, default: Value) -> Value {
    if v.is_null() {
        default
    } else {
        v
    }
}

async fn wait_lb_active(c: &Clients, arn: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("load balancer {arn} becoming active"), Duration::from_secs(600), Duration::from_secs(2), || async {
        let found = describe_lbs(c, &[arn.to_string()]).await?;
        match found.get(arn).and_then(|lb| lb.state()).and_then(|s| s.code()).map(|c| c.as_str().to_string()) {
            Some(s) if s == "active" => Ok(Some(())),
            Some(s) if s == "failed" => Err(Diagnostic::error("Load balancer failed", format!("{arn} reached state failed."))),
            _ => Ok(None),
        }
    })
    .await
}

fn lb_attribute_changes(prior: Option<&Value>, p: &Value) -> Vec<LoadBalancerAttribute> {
    let changed = |k: &str| p.get_attr(k).filter(|v| !v.is_null() && prior.and_then(|o| o.get_attr(k)).is_none_or(|o| !o.equals(v)));
    let text = |v: &Value| match v {
        Value::Bool(b) => b.to_string(),
        other => other.as_i64().map(|n| n.to_string()).unwrap_or_default(),
    };
    let mut out = Vec::new();
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

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Lb {
    fn name(&self) -> &'static str {
        "aws_lb"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("arn_suffix", s(Type::String))
            .attr("dns_name", s(Type::String))
            .attr("zone_id", s(Type::String))
            .attr("vpc_id", s(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("internal", AttrSchema::optional_computed(Type::Bool).force_new().default(Value::Bool(false)))
            .attr("load_balancer_type", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("application")))
            .attr("security_groups", AttrSchema::optional_computed(string_set_type()))
            .attr("subnets", AttrSchema::optional_computed(string_set_type()))
            .attr("ip_address_type", AttrSchema::optional_computed(Type::String).default(Value::string("ipv4")))
            .attr("enable_deletion_protection", AttrSchema::optional_computed(Type::Bool).default(Value::Bool(false)))
            .attr("idle_timeout", AttrSchema::optional_computed(Type::Number))
            .attr("enable_http2", AttrSchema::optional_computed(Type::Bool))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_name(config)
    }

    /// Application load balancers' own defaults (idle timeout, HTTP/2).
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if m.get("load_balancer_type").and_then(Value::as_str).is_none_or(|t| t == "application") {
                fill(m, &[("idle_timeout", Value::int(60)), ("enable_http2", Value::Bool(true))]);
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
        let out = c
            .clients()?
            .once
            .elb
            .create_load_balancer()
            .name(attrs::string(p, "name").unwrap_or_else(|| generated_name(token)))
            .set_subnets(Some(attrs::strings(p, "subnets")))
            .set_security_groups(Some(attrs::strings(p, "security_groups")).filter(|s| !s.is_empty()))
            .scheme(scheme)
            .r#type(LoadBalancerTypeEnum::from(attrs::string(p, "load_balancer_type").unwrap_or_else(|| "application".into()).as_str()))
            .ip_address_type(IpAddressType::from(attrs::string(p, "ip_address_type").unwrap_or_else(|| "ipv4".into()).as_str()))
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateLoadBalancer", &e))?;
        Ok(with_id(p, out.load_balancers().first().and_then(|l| l.load_balancer_arn()).unwrap_or_default()))
    }

    /// Waits until active, then sets every attribute, defaults included: what AWS reports is
    /// then what was configured.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, arn) = (c.clients()?, attrs::req_string(created, "id")?);
        wait_lb_active(c, &arn).await?;
        Ok(set_lb_attributes(c, &arn, lb_attribute_changes(None, planned)).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let prior = |id: &str| objects.iter().find(|o| id_of(o) == id);
        let found = describe_lbs(c, &ids).await?;
        let present: Vec<String> = found.keys().cloned().collect();
        let tags = describe_tags(c, &present).await?;
        // Attributes have no batch read: a routine refresh keeps the recorded values.
        let (mut attributes, missing) = split_recorded(&present, full, |id| {
            let application = prior(id).and_then(|p| attrs::string(p, "load_balancer_type")).is_none_or(|t| t == "application");
            let mut keys = vec![("enable_deletion_protection", "deletion_protection.enabled")];
            if application {
                keys.extend([("idle_timeout", "idle_timeout.timeout_seconds"), ("enable_http2", "routing.http2.enabled")]);
            }
            recorded_attributes(prior(id), &keys)
        });
        attributes.extend(per_object(c, &missing, |c, arn| async move { lb_attributes(&c, &arn).await }).await?);
        let none = BTreeMap::new();
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| found.get(id).map(|lb| lb_value(c, lb, tags.get(id).unwrap_or(&none), attributes.get(id).unwrap_or(&none), Some(p))))
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
        if changed("security_groups") {
            c.elb
                .set_security_groups()
                .load_balancer_arn(&id)
                .set_security_groups(Some(attrs::strings(p, "security_groups")))
                .send()
                .await
                .map_err(|e| api_error("SetSecurityGroups", &e))?;
        }
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
        Ok(set_lb_attributes(c, &id, lb_attribute_changes(Some(prior), p)).await?)
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
        wait_for(&format!("load balancer {id} going away"), Duration::from_secs(600), Duration::from_secs(2), || async {
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
