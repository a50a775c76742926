//! `aws_lb_target_group`: one `DescribeTargetGroups` per 20 ARNs, `DescribeTags` per 20 ARNs;
//! the deregistration delay has no batch API: one `DescribeTargetGroupAttributes` per group,
//! concurrently, and only on a full refresh.

use super::*;
use crate::AwsProvider;
use elb::types::{Matcher, ProtocolEnum, TargetGroupAttribute, TargetTypeEnum};
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

/// Sets the delay when it differs from the recorded one (on a create: from AWS's 300).
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

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for TargetGroup {
    fn name(&self) -> &'static str {
        "aws_lb_target_group"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
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
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("arn_suffix", s(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("port", AttrSchema::optional(Type::Number).force_new())
            .attr("protocol", AttrSchema::optional(Type::String).force_new())
            .attr("vpc_id", AttrSchema::optional(Type::String).force_new())
            .attr("target_type", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("instance")))
            .attr("deregistration_delay", AttrSchema::optional_computed(Type::Number).default(Value::int(300)))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("health_check", single(health))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_name(config)
    }

    /// The health check's defaults depend on the protocol.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
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
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let hc = single_block(p, "health_check").unwrap_or(Value::Null);
        let out = c
            .clients()?
            .once
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
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateTargetGroup", &e))?;
        Ok(with_id(p, out.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default()))
    }

    /// The deregistration delay (CreateTargetGroup cannot take it).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        Ok(set_deregistration_delay(c.clients()?, &attrs::req_string(created, "id")?, None, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_target_groups(c, &ids).await?;
        let present: Vec<String> = found.keys().cloned().collect();
        let tags = describe_tags(c, &present).await?;
        // Attributes have no batch read: a routine refresh keeps the recorded values.
        let (mut attributes, missing) = split_recorded(&present, full, |id| {
            recorded_attributes(objects.iter().find(|o| id_of(o) == id), &[("deregistration_delay", "deregistration_delay.timeout_seconds")])
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
        Ok(set_deregistration_delay(c, &id, Some(prior), p).await?)
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
