//! `aws_lb_target_group_attachment`: a target registered with a group, id
//! `<group ARN>,<target>[,<port>]`. Read with one `DescribeTargetHealth` per target group
//! (draining targets count as gone). RegisterTargets is idempotent, so it carries no tag: an
//! interrupted create is found by being registered.

use super::*;
use crate::AwsProvider;
use elb::types::TargetDescription;
use infra_provider::resource::with_id;

pub struct TargetGroupAttachment;

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
            Err(e) if gone(code_of(&e)) => {}
            Err(e) => return Err(api_error("DescribeTargetHealth", &e)),
        }
    }
    Ok(out)
}

fn target_of(p: &Value) -> TargetDescription {
    TargetDescription::builder()
        .set_id(attrs::string(p, "target_id"))
        .set_port(int_of(p, "port"))
        .set_availability_zone(attrs::string(p, "availability_zone"))
        .build()
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for TargetGroupAttachment {
    fn name(&self) -> &'static str {
        "aws_lb_target_group_attachment"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("target_group_arn", AttrSchema::required(Type::String).force_new())
            .attr("target_id", AttrSchema::required(Type::String).force_new())
            .attr("port", AttrSchema::optional(Type::Number).force_new())
            .attr("availability_zone", AttrSchema::optional(Type::String).force_new())
    }

    /// RegisterTargets is idempotent: a repeated call after a crash registers nothing new.
    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let (tg, target) = (attrs::req_string(p, "target_group_arn")?, attrs::req_string(p, "target_id")?);
        c.clients()?.elb.register_targets().target_group_arn(&tg).targets(target_of(p)).send().await.map_err(|e| api_error("RegisterTargets", &e))?;
        Ok(with_id(p, &attachment_id(&tg, &target, int_of(p, "port"))))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let found = describe_attachments(c.clients()?, &unique(objects, "target_group_arn")).await?;
        Ok(objects.iter().map(|o| found.get(&id_of(o)).cloned()).collect())
    }

    /// terraform-provider-aws ids an attachment `<target group ARN>-<timestamp>`; infra by what
    /// it attaches: `<target group ARN>,<target>[,<port>]`.
    fn upgrade_terraform_state(&self, attributes: Value, _schema_version: u64) -> Outcome<Value> {
        let (tg, target) = (attrs::req_string(&attributes, "target_group_arn")?, attrs::req_string(&attributes, "target_id")?);
        Ok(with_id(&attributes, &attachment_id(&tg, &target, int_of(&attributes, "port"))))
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("target_group_arn", Value::string(id.split(',').next().unwrap_or_default()))]))
    }

    // One paged DescribeTargetGroups kept to the scope's VPCs, then one DescribeTargetHealth
    // per group (AWS has no batched form). Targets a service registers itself (an ECS
    // service's tasks) are AWS's; `infra discover` leaves out the groups services use.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut groups = Vec::new();
        let mut pages = c.elb.describe_target_groups().page_size(400).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeTargetGroups", &e))?;
            groups.extend(
                page.target_groups()
                    .iter()
                    .filter(|tg| crate::discover::in_vpcs(filter, tg.vpc_id()))
                    .filter_map(|tg| tg.target_group_arn().map(str::to_string)),
            );
        }
        let found = describe_attachments(c, &groups).await?;
        Ok(found.keys().map(|id| crate::discover::discovered(id, None, &BTreeMap::new())).collect())
    }

    /// Every argument forces a new attachment.
    async fn update(&self, _c: &AwsProvider, _prior: &Value, _planned: &Value) -> Outcome<()> {
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let tg = attrs::req_string(prior, "target_group_arn")?;
        match c.clients()?.elb.deregister_targets().target_group_arn(&tg).targets(target_of(prior)).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) || code_of(&e).as_deref() == Some("InvalidTarget") => Ok(()),
            Err(e) => Err(api_error("DeregisterTargets", &e).into()),
        }
    }

    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let (tg, target) = (attrs::req_string(planned, "target_group_arn")?, attrs::req_string(planned, "target_id")?);
        let id = attachment_id(&tg, &target, int_of(planned, "port"));
        let found = describe_attachments(c.clients()?, &[tg]).await?;
        Ok(found.contains_key(&id).then(|| with_id(planned, &id)))
    }
}
