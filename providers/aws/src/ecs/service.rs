//! `aws_ecs_service` (Fargate and EC2 launch types): one `DescribeServices` per cluster and 10
//! services (tags included). Its id is its ARN; import ids are `cluster/service`, as in
//! terraform-provider-aws. CreateService takes a client token, so a retried create returns the
//! same service.
//!
//! A service that AWS reports without `deploymentConfiguration`, a grace period or a Fargate
//! platform version (moto stores none) keeps the configured values, or, read for the first
//! time (an import), the values AWS reports for a service created without them (100 %, 200 %,
//! 0 s, `LATEST`): an omitted argument with a default never diffs.

use super::*;
use crate::AwsProvider;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, PropagateTags,
    ServiceField,
};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct Service;

/// Services grouped by cluster, 10 per `DescribeServices`. Keyed by service ARN.
async fn describe_services(c: &Clients, by_cluster: &BTreeMap<String, Vec<String>>) -> Result<BTreeMap<String, aws_sdk_ecs::types::Service>, Diagnostic> {
    let mut out = BTreeMap::new();
    for (cluster, services) in by_cluster {
        for chunk in services.chunks(10) {
            let resp = c.ecs.describe_services().cluster(cluster).set_services(Some(chunk.to_vec())).include(ServiceField::Tags).send().await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) if code_of(&e).as_deref() == Some("ClusterNotFoundException") => continue,
                Err(e) => return Err(api_error("DescribeServices", &e)),
            };
            for s in resp.services().iter().filter(|s| s.status() == Some("ACTIVE")) {
                if let Some(arn) = s.service_arn() {
                    out.insert(arn.to_string(), s.clone());
                }
            }
        }
    }
    Ok(out)
}

/// A cluster or task definition reference as configured, when it names what AWS reports.
fn same_reference(configured: &str, arn: &str) -> bool {
    let tail = arn.rsplit_once('/').map(|(_, t)| t).unwrap_or(arn);
    configured == arn || configured == tail || tail.split_once(':').is_some_and(|(family, _)| family == configured)
}

fn keep_reference(prior: Option<&Value>, key: &str, arn: Option<&str>) -> Value {
    match (prior.and_then(|p| attrs::string(p, key)), arn) {
        (Some(p), Some(a)) if same_reference(&p, a) => Value::string(p),
        (_, a) => opt_string(a),
    }
}

fn service_value(c: &Clients, s: &aws_sdk_ecs::types::Service, prior: Option<&Value>) -> Value {
    let arn = s.service_arn().unwrap_or_default();
    let all = tag_map(s.tags());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let keep = |k: &str| prior.and_then(|p| p.get_attr(k)).cloned().unwrap_or(Value::Null);
    let network = s.network_configuration().and_then(|n| n.awsvpc_configuration()).map(|a| {
        Value::object([
            ("subnets", string_set(a.subnets().iter().cloned())),
            ("security_groups", string_set(a.security_groups().iter().cloned())),
            ("assign_public_ip", Value::Bool(a.assign_public_ip().is_some_and(|p| p.as_str() == "ENABLED"))),
        ])
    });
    let lbs = s
        .load_balancers()
        .iter()
        .map(|l| {
            Value::object([
                ("target_group_arn", opt_string(l.target_group_arn())),
                ("elb_name", opt_string(l.load_balancer_name())),
                ("container_name", opt_string(l.container_name())),
                ("container_port", opt_int(l.container_port())),
            ])
        })
        .collect();
    let deployment = s.deployment_configuration();
    let (min, max, breaker) = match deployment {
        Some(d) => (
            opt_int(d.minimum_healthy_percent()),
            opt_int(d.maximum_percent()),
            d.deployment_circuit_breaker()
                .map(|b| Value::object([("enable", Value::Bool(b.enable())), ("rollback", Value::Bool(b.rollback()))]))
                .unwrap_or(Value::Null),
        ),
        // What AWS reports for a service created without them (100 %, 200 %).
        None => (
            or_if_null(keep("deployment_minimum_healthy_percent"), Value::int(100)),
            or_if_null(keep("deployment_maximum_percent"), Value::int(200)),
            keep("deployment_circuit_breaker"),
        ),
    };
    let grace = match s.health_check_grace_period_seconds() {
        Some(g) => Value::int(g.into()),
        None => or_if_null(keep("health_check_grace_period_seconds"), Value::int(0)),
    };
    // AWS reports `LATEST` for a Fargate service created without a platform version.
    let fargate = s.launch_type().is_some_and(|l| l.as_str() == "FARGATE");
    let platform = or_if_null(opt_string(s.platform_version()), keep("platform_version"));
    let platform = if platform.is_null() && fargate { Value::string("LATEST") } else { platform };
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("name", opt_string(s.service_name())),
        ("cluster", keep_reference(prior, "cluster", s.cluster_arn())),
        ("task_definition", keep_reference(prior, "task_definition", s.task_definition())),
        ("desired_count", Value::int(s.desired_count().into())),
        ("launch_type", opt_string(s.launch_type().map(|l| l.as_str()))),
        ("platform_version", platform),
        ("deployment_minimum_healthy_percent", min),
        ("deployment_maximum_percent", max),
        ("deployment_circuit_breaker", breaker),
        ("health_check_grace_period_seconds", grace),
        ("enable_execute_command", Value::Bool(s.enable_execute_command())),
        ("enable_ecs_managed_tags", Value::Bool(s.enable_ecs_managed_tags())),
        ("propagate_tags", Value::string(s.propagate_tags().map(|p| p.as_str()).unwrap_or("NONE"))),
        // Not AWS settings: how infra applies, carried over.
        ("wait_for_steady_state", or_if_null(keep("wait_for_steady_state"), Value::Bool(false))),
        ("force_new_deployment", keep("force_new_deployment")),
        ("network_configuration", network.unwrap_or(Value::Null)),
        ("load_balancer", Value::set(lbs)),
        tags,
        tags_all,
    ])
}

fn network_of(p: &Value) -> Result<Option<NetworkConfiguration>, Diagnostic> {
    let Some(n) = single_block(p, "network_configuration").filter(|n| !n.is_null()) else { return Ok(None) };
    let public = if attrs::bool(&n, "assign_public_ip") == Some(true) { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(attrs::strings(&n, "subnets")))
        .set_security_groups(Some(attrs::strings(&n, "security_groups")))
        .assign_public_ip(public)
        .build()
        .map_err(|e| Diagnostic::error("Invalid network_configuration", e.to_string()))?;
    Ok(Some(NetworkConfiguration::builder().awsvpc_configuration(vpc).build()))
}

fn load_balancers_of(p: &Value) -> Vec<LoadBalancer> {
    p.get_attr("load_balancer")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            LoadBalancer::builder()
                .set_target_group_arn(attrs::string(l, "target_group_arn"))
                .set_load_balancer_name(attrs::string(l, "elb_name"))
                .set_container_name(attrs::string(l, "container_name"))
                .set_container_port(attrs::int(l, "container_port").and_then(|n| i32::try_from(n).ok()))
                .build()
        })
        .collect()
}

fn deployment_of(p: &Value) -> DeploymentConfiguration {
    let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok());
    let breaker = single_block(p, "deployment_circuit_breaker").filter(|b| !b.is_null()).map(|b| {
        DeploymentCircuitBreaker::builder().enable(attrs::bool(&b, "enable").unwrap_or(false)).rollback(attrs::bool(&b, "rollback").unwrap_or(false)).build()
    });
    DeploymentConfiguration::builder()
        .set_minimum_healthy_percent(int("deployment_minimum_healthy_percent"))
        .set_maximum_percent(int("deployment_maximum_percent"))
        .set_deployment_circuit_breaker(breaker)
        .build()
}

fn cluster_of(p: &Value) -> String {
    attrs::string(p, "cluster").unwrap_or_else(|| "default".into())
}

fn group_by_cluster(objects: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in objects {
        out.entry(cluster_of(o)).or_default().push(id_of(o));
    }
    out
}

/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` names its cluster (new-style ARNs only).
fn service_cluster_from_arn(arn: &str) -> Option<String> {
    let rest = arn.split_once(":service/")?.1;
    rest.split_once('/').map(|(cluster, _)| cluster.to_string())
}

/// One deployment left and as many tasks running as desired.
async fn wait_steady(c: &Clients, cluster: &str, service: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("service {service} reaching a steady state"), Duration::from_secs(1200), Duration::from_secs(5), || async {
        let found = describe_services(c, &BTreeMap::from([(cluster.to_string(), vec![service.to_string()])])).await?;
        let Some(s) = found.values().next() else { return Err(Diagnostic::error("Service vanished", format!("{service} is gone."))) };
        Ok((s.deployments().len() == 1 && s.running_count() == s.desired_count()).then_some(()))
    })
    .await
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Service {
    fn name(&self) -> &'static str {
        "aws_ecs_service"
    }

    fn schema(&self) -> Schema {
        let strings = || Type::Set(Box::new(Type::String));
        let network = Schema::new()
            .attr("subnets", AttrSchema::required(strings()))
            .attr("security_groups", AttrSchema::optional(strings()))
            .attr("assign_public_ip", AttrSchema::optional(Type::Bool));
        let lb = Schema::new()
            .attr("target_group_arn", AttrSchema::optional(Type::String))
            .attr("elb_name", AttrSchema::optional(Type::String))
            .attr("container_name", AttrSchema::required(Type::String))
            .attr("container_port", AttrSchema::required(Type::Number));
        let breaker = Schema::new().attr("enable", AttrSchema::required(Type::Bool)).attr("rollback", AttrSchema::required(Type::Bool));
        let opt = |t: Type, d: Value| AttrSchema::optional_computed(t).default(d);
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("cluster", AttrSchema::optional_computed(Type::String).force_new())
            .attr("task_definition", AttrSchema::optional(Type::String))
            .attr("desired_count", opt(Type::Number, Value::int(0)))
            .attr("launch_type", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("EC2")))
            .attr("platform_version", AttrSchema::optional_computed(Type::String))
            .attr("deployment_minimum_healthy_percent", opt(Type::Number, Value::int(100)))
            .attr("deployment_maximum_percent", opt(Type::Number, Value::int(200)))
            .attr("health_check_grace_period_seconds", opt(Type::Number, Value::int(0)))
            .attr("enable_execute_command", opt(Type::Bool, Value::Bool(false)))
            .attr("enable_ecs_managed_tags", opt(Type::Bool, Value::Bool(false)))
            .attr("propagate_tags", opt(Type::String, Value::string("NONE")))
            .attr("wait_for_steady_state", opt(Type::Bool, Value::Bool(false)))
            .attr("force_new_deployment", AttrSchema::optional(Type::Bool))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("network_configuration", single(network))
            .block("load_balancer", set_of(lb, false))
            .block("deployment_circuit_breaker", single(breaker))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let fargate = attrs::string(config, "launch_type").as_deref() == Some("FARGATE");
        if fargate && config.get_attr("network_configuration").is_some_and(Value::is_null) {
            return vec![Diagnostic::error("Missing network_configuration", "Fargate services need a network_configuration block (awsvpc networking).")];
        }
        Vec::new()
    }

    /// Defaults that depend on other arguments: Fargate's platform version, and inside
    /// `network_configuration`.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if m.get("launch_type").and_then(Value::as_str) == Some("FARGATE") {
                attrs::set_default(m, "platform_version", Value::string("LATEST"));
            }
            if let Some(Value::Object(n)) = m.get_mut("network_configuration") {
                attrs::set_default(n, "assign_public_ip", Value::Bool(false));
                attrs::set_default(n, "security_groups", Value::Set(Vec::new()));
            }
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok());
        let out = c
            .clients()?
            .once
            .ecs
            .create_service()
            .cluster(cluster_of(p))
            .set_service_name(attrs::string(p, "name"))
            .set_task_definition(attrs::string(p, "task_definition"))
            .set_desired_count(int("desired_count"))
            .set_launch_type(attrs::string(p, "launch_type").map(|l| LaunchType::from(l.as_str())))
            .set_platform_version(attrs::string(p, "platform_version"))
            .set_network_configuration(network_of(p)?)
            .set_load_balancers(Some(load_balancers_of(p)).filter(|l| !l.is_empty()))
            .deployment_configuration(deployment_of(p))
            .set_health_check_grace_period_seconds(
                int("health_check_grace_period_seconds").filter(|_| p.get_attr("load_balancer").and_then(Value::as_seq).is_some_and(|l| !l.is_empty())),
            )
            .set_enable_execute_command(attrs::bool(p, "enable_execute_command"))
            .set_enable_ecs_managed_tags(attrs::bool(p, "enable_ecs_managed_tags"))
            .set_propagate_tags(attrs::string(p, "propagate_tags").map(|t| PropagateTags::from(t.as_str())))
            // CreateService's own idempotency token: a retried create returns the same service.
            .client_token(token.chars().take(36).collect::<String>())
            .set_tags(Some(ecs_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateService", &e))?;
        Ok(with_id(p, out.service().and_then(|s| s.service_arn()).unwrap_or_default()))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        if attrs::bool(planned, "wait_for_steady_state") == Some(true) {
            wait_steady(c.clients()?, &cluster_of(planned), &attrs::req_string(created, "id")?).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_services(c, &group_by_cluster(objects)).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|s| service_value(c, s, Some(p)))).collect())
    }

    /// After a create the object knows its cluster; an import knows only its id:
    /// `cluster/service`, or an ARN that names the cluster.
    async fn read_one(&self, c: &AwsProvider, known: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let id = id_of(known);
        let prior = known.get_attr("cluster").map(|_| known);
        let (cluster, service) = match (prior.map(cluster_of), id.split_once('/')) {
            (Some(cl), _) => (cl, id.clone()),
            (None, Some((cl, s))) if !id.starts_with("arn:") => (cl.to_string(), s.to_string()),
            _ => (service_cluster_from_arn(&id).unwrap_or_else(|| "default".into()), id.clone()),
        };
        let found = describe_services(c, &BTreeMap::from([(cluster, vec![service])])).await?;
        Ok(found.values().next().map(|s| service_value(c, s, prior)))
    }

    // One paged ListServices per cluster in scope (every cluster, listed first, for a region).
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let clusters: Vec<String> = match filter.get("cluster") {
            Some(list) => list.split(',').map(str::to_string).collect(),
            None => {
                let mut all = Vec::new();
                let mut pages = c.ecs.list_clusters().into_paginator().send();
                while let Some(page) = pages.next().await {
                    all.extend(page.map_err(|e| api_error("ListClusters", &e))?.cluster_arns().iter().cloned());
                }
                all
            }
        };
        let mut out = Vec::new();
        for cluster in clusters {
            let mut pages = c.ecs.list_services().cluster(&cluster).into_paginator().send();
            while let Some(page) = pages.next().await {
                for arn in page.map_err(|e| api_error("ListServices", &e))?.service_arns() {
                    // With its cluster: the batched read describes by cluster.
                    let mut v = crate::discover::discovered(arn, arn.rsplit('/').next(), &BTreeMap::new());
                    if let Value::Object(o) = &mut v {
                        o.insert("cluster".into(), Value::string(&cluster));
                    }
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        update_tags(c, prior, p).await?;
        let id = attrs::req_string(prior, "id")?;
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        let settings = [
            "task_definition",
            "desired_count",
            "platform_version",
            "network_configuration",
            "load_balancer",
            "deployment_minimum_healthy_percent",
            "deployment_maximum_percent",
            "deployment_circuit_breaker",
            "health_check_grace_period_seconds",
            "enable_execute_command",
            "enable_ecs_managed_tags",
            "propagate_tags",
            "force_new_deployment",
        ];
        if settings.iter().any(|k| changed(k)) {
            let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok()).filter(|_| changed(k));
            c.ecs
                .update_service()
                .cluster(cluster_of(p))
                .service(&id)
                .set_task_definition(attrs::string(p, "task_definition").filter(|_| changed("task_definition")))
                .set_desired_count(int("desired_count"))
                .set_platform_version(attrs::string(p, "platform_version").filter(|_| changed("platform_version")))
                .set_network_configuration(if changed("network_configuration") { network_of(p)? } else { None })
                .set_load_balancers(Some(load_balancers_of(p)).filter(|_| changed("load_balancer")))
                .set_deployment_configuration(
                    ["deployment_minimum_healthy_percent", "deployment_maximum_percent", "deployment_circuit_breaker"]
                        .iter()
                        .any(|k| changed(k))
                        .then(|| deployment_of(p)),
                )
                .set_health_check_grace_period_seconds(int("health_check_grace_period_seconds"))
                .set_enable_execute_command(attrs::bool(p, "enable_execute_command").filter(|_| changed("enable_execute_command")))
                .set_enable_ecs_managed_tags(attrs::bool(p, "enable_ecs_managed_tags").filter(|_| changed("enable_ecs_managed_tags")))
                .set_propagate_tags(attrs::string(p, "propagate_tags").filter(|_| changed("propagate_tags")).map(|t| PropagateTags::from(t.as_str())))
                .set_force_new_deployment(attrs::bool(p, "force_new_deployment").filter(|f| *f && changed("force_new_deployment")))
                .send()
                .await
                .map_err(|e| api_error("UpdateService", &e))?;
        }
        if attrs::bool(p, "wait_for_steady_state") == Some(true) {
            wait_steady(c, &cluster_of(p), &id).await?;
        }
        Ok(())
    }

    /// Scales to zero, deletes, and waits until INACTIVE: its cluster can go only then.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        let cluster = cluster_of(prior);
        if attrs::int(prior, "desired_count").unwrap_or(0) > 0 {
            match c.ecs.update_service().cluster(&cluster).service(&id).desired_count(0).send().await {
                Ok(_) => {}
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(api_error("UpdateService", &e).into()),
            }
        }
        match c.ecs.delete_service().cluster(&cluster).service(&id).force(true).send().await {
            Ok(_) => {}
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(api_error("DeleteService", &e).into()),
        }
        wait_for(&format!("service {id} becoming inactive"), Duration::from_secs(1200), Duration::from_secs(3), || async {
            Ok(describe_services(c, &BTreeMap::from([(cluster.clone(), vec![id.clone()])])).await?.is_empty().then_some(()))
        })
        .await?;
        Ok(())
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let name = attrs::req_string(planned, "name")?;
        let found = describe_services(c.clients()?, &BTreeMap::from([(cluster_of(planned), vec![name])])).await?;
        Ok(found.values().find(|s| has_intent(s.tags(), token)).and_then(|s| s.service_arn()).map(|arn| with_id(planned, arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, &attrs::req_string(state, "id")?).await?)
    }
}
