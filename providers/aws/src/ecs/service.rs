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
    AssignPublicIp, AvailabilityZoneRebalancing, AwsVpcConfiguration, CapacityProviderStrategyItem, DeploymentAlarms, DeploymentCircuitBreaker,
    DeploymentConfiguration, DeploymentController, DeploymentControllerType, EbsResourceType, EbsTagSpecification, LaunchType, LoadBalancer, LogConfiguration,
    LogDriver, NetworkConfiguration, PlacementConstraint, PlacementConstraintType, PlacementStrategy, PlacementStrategyType, PropagateTags, SchedulingStrategy,
    Secret, ServiceConnectClientAlias, ServiceConnectConfiguration, ServiceConnectService, ServiceConnectTlsCertificateAuthority,
    ServiceConnectTlsConfiguration, ServiceField, ServiceManagedEbsVolumeConfiguration, ServiceRegistry, ServiceVolumeConfiguration, TaskFilesystemType,
    TimeoutConfiguration, VpcLatticeConfiguration,
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
    let keep = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    let keep_list = |k: &str| or_if_null(keep(k), Value::List(Vec::new()));
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
    let (min, max, breaker, alarms) = match deployment {
        Some(d) => (
            opt_int(d.minimum_healthy_percent()),
            opt_int(d.maximum_percent()),
            list(d.deployment_circuit_breaker().map(|b| Value::object([("enable", Value::Bool(b.enable())), ("rollback", Value::Bool(b.rollback()))]))),
            match d.alarms() {
                Some(a) => list(Some(Value::object([
                    ("alarm_names", string_set(a.alarm_names().iter().cloned())),
                    ("enable", Value::Bool(a.enable())),
                    ("rollback", Value::Bool(a.rollback())),
                ]))),
                None => keep_list("alarms"),
            },
        ),
        // What AWS reports for a service created without them (100 %, 200 %).
        None => (
            or_if_null(keep("deployment_minimum_healthy_percent"), Value::int(100)),
            or_if_null(keep("deployment_maximum_percent"), Value::int(200)),
            keep_list("deployment_circuit_breaker"),
            keep_list("alarms"),
        ),
    };
    let strategy = s
        .capacity_provider_strategy()
        .iter()
        .map(|c| {
            Value::object([
                ("base", Value::int(c.base().into())),
                ("capacity_provider", Value::string(c.capacity_provider())),
                ("weight", Value::int(c.weight().into())),
            ])
        })
        .collect();
    let constraints = s
        .placement_constraints()
        .iter()
        .map(|c| Value::object([("expression", opt_string(c.expression())), ("type", opt_string(c.r#type().map(|t| t.as_str())))]))
        .collect();
    let ordered = s
        .placement_strategy()
        .iter()
        .map(|p| Value::object([("field", opt_string(p.field())), ("type", opt_string(p.r#type().map(|t| t.as_str())))]))
        .collect();
    let registries = s.service_registries().first().map(|r| {
        Value::object([
            ("container_name", opt_string(r.container_name())),
            ("container_port", opt_int(r.container_port())),
            ("port", opt_int(r.port())),
            ("registry_arn", opt_string(r.registry_arn())),
        ])
    });
    // AWS reports the default controller (ECS) for every service: only a configured or other one
    // is read.
    let controller_configured = prior.and_then(|p| single_block(p, "deployment_controller")).is_some();
    let controller = s
        .deployment_controller()
        .filter(|d| controller_configured || d.r#type().as_str() != "ECS")
        .map(|d| Value::object([("type", Value::string(d.r#type().as_str()))]));
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
        ("network_configuration", list(network)),
        ("load_balancer", Value::set(lbs)),
        ("alarms", alarms),
        (
            "availability_zone_rebalancing",
            or_if_null(
                opt_string(s.availability_zone_rebalancing().map(|a| a.as_str())),
                or_if_null(keep("availability_zone_rebalancing"), Value::string("DISABLED")),
            ),
        ),
        ("capacity_provider_strategy", Value::set(strategy)),
        ("deployment_controller", if controller.is_some() { list(controller) } else { keep_list("deployment_controller") }),
        ("iam_role", or_if_null(opt_string(s.role_arn()), keep("iam_role"))),
        ("ordered_placement_strategy", Value::List(ordered)),
        ("placement_constraints", Value::set(constraints)),
        ("scheduling_strategy", Value::string(s.scheduling_strategy().map(|x| x.as_str()).unwrap_or("REPLICA"))),
        ("service_registries", if registries.is_some() { list(registries) } else { keep_list("service_registries") }),
        // Read from the service's deployments by AWS; kept as configured here (moto reports
        // none of them), so drift in them is not detected.
        ("service_connect_configuration", keep_list("service_connect_configuration")),
        ("volume_configuration", keep_list("volume_configuration")),
        ("vpc_lattice_configurations", or_if_null(keep("vpc_lattice_configurations"), Value::set(Vec::new()))),
        ("force_delete", keep("force_delete")),
        ("triggers", or_if_null(keep("triggers"), map_value(&BTreeMap::new()))),
        tags,
        tags_all,
    ])
}

fn list(v: Option<Value>) -> Value {
    Value::List(v.into_iter().collect())
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

fn int_in(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

fn items<'a>(p: &'a Value, k: &str) -> &'a [Value] {
    p.get_attr(k).and_then(Value::as_seq).unwrap_or(&[])
}

fn build_error(what: &str) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> Diagnostic + '_ {
    move |e| Diagnostic::error(format!("Invalid {what}"), e.to_string())
}

fn capacity_providers_of(p: &Value) -> Result<Vec<CapacityProviderStrategyItem>, Diagnostic> {
    items(p, "capacity_provider_strategy")
        .iter()
        .map(|c| {
            CapacityProviderStrategyItem::builder()
                .set_capacity_provider(attrs::string(c, "capacity_provider"))
                .set_weight(int_in(c, "weight"))
                .set_base(int_in(c, "base"))
                .build()
                .map_err(build_error("capacity_provider_strategy"))
        })
        .collect()
}

fn placement_constraints_of(p: &Value) -> Vec<PlacementConstraint> {
    items(p, "placement_constraints")
        .iter()
        .map(|c| {
            PlacementConstraint::builder()
                .set_type(attrs::string(c, "type").map(|t| PlacementConstraintType::from(t.as_str())))
                .set_expression(attrs::string(c, "expression"))
                .build()
        })
        .collect()
}

fn placement_strategy_of(p: &Value) -> Vec<PlacementStrategy> {
    items(p, "ordered_placement_strategy")
        .iter()
        .map(|s| {
            PlacementStrategy::builder()
                .set_type(attrs::string(s, "type").map(|t| PlacementStrategyType::from(t.as_str())))
                .set_field(attrs::string(s, "field"))
                .build()
        })
        .collect()
}

fn registries_of(p: &Value) -> Vec<ServiceRegistry> {
    single_block(p, "service_registries")
        .map(|r| {
            ServiceRegistry::builder()
                .set_registry_arn(attrs::string(&r, "registry_arn"))
                .set_port(int_in(&r, "port"))
                .set_container_name(attrs::string(&r, "container_name"))
                .set_container_port(int_in(&r, "container_port"))
                .build()
        })
        .into_iter()
        .collect()
}

fn controller_of(p: &Value) -> Result<Option<DeploymentController>, Diagnostic> {
    single_block(p, "deployment_controller")
        .map(|d| {
            DeploymentController::builder()
                .set_type(Some(DeploymentControllerType::from(attrs::string(&d, "type").unwrap_or_else(|| "ECS".into()).as_str())))
                .build()
                .map_err(build_error("deployment_controller"))
        })
        .transpose()
}

fn service_connect_of(p: &Value) -> Result<Option<ServiceConnectConfiguration>, Diagnostic> {
    let Some(sc) = single_block(p, "service_connect_configuration") else { return Ok(None) };
    let mut services = Vec::new();
    for svc in items(&sc, "service") {
        let aliases: Vec<ServiceConnectClientAlias> = single_block(svc, "client_alias")
            .map(|a| {
                ServiceConnectClientAlias::builder()
                    .set_port(int_in(&a, "port"))
                    .set_dns_name(attrs::string(&a, "dns_name"))
                    .build()
                    .map_err(build_error("client_alias"))
            })
            .transpose()?
            .into_iter()
            .collect();
        let timeout = single_block(svc, "timeout").map(|t| {
            TimeoutConfiguration::builder()
                .set_idle_timeout_seconds(int_in(&t, "idle_timeout_seconds"))
                .set_per_request_timeout_seconds(int_in(&t, "per_request_timeout_seconds"))
                .build()
        });
        let tls = single_block(svc, "tls").map(|t| {
            let authority = single_block(&t, "issuer_cert_authority")
                .map(|a| ServiceConnectTlsCertificateAuthority::builder().set_aws_pca_authority_arn(attrs::string(&a, "aws_pca_authority_arn")).build());
            ServiceConnectTlsConfiguration::builder()
                .set_issuer_certificate_authority(authority)
                .set_kms_key(attrs::string(&t, "kms_key"))
                .set_role_arn(attrs::string(&t, "role_arn"))
                .build()
        });
        services.push(
            ServiceConnectService::builder()
                .set_port_name(attrs::string(svc, "port_name"))
                .set_discovery_name(attrs::string(svc, "discovery_name"))
                .set_ingress_port_override(int_in(svc, "ingress_port_override"))
                .set_client_aliases(Some(aliases).filter(|a| !a.is_empty()))
                .set_timeout(timeout)
                .set_tls(tls)
                .build()
                .map_err(build_error("service_connect_configuration.service"))?,
        );
    }
    let logs = match single_block(&sc, "log_configuration") {
        Some(l) => {
            let mut secrets = Vec::new();
            for x in items(&l, "secret_option") {
                secrets.push(
                    Secret::builder()
                        .set_name(attrs::string(x, "name"))
                        .set_value_from(attrs::string(x, "value_from"))
                        .build()
                        .map_err(build_error("secret_option"))?,
                );
            }
            let options = l.get_attr("options").filter(|o| !o.is_null()).map(|o| attrs::map_of(Some(o)).into_iter().collect());
            Some(
                LogConfiguration::builder()
                    .set_log_driver(attrs::string(&l, "log_driver").map(|d| LogDriver::from(d.as_str())))
                    .set_options(options)
                    .set_secret_options(Some(secrets).filter(|s| !s.is_empty()))
                    .build()
                    .map_err(build_error("log_configuration"))?,
            )
        }
        None => None,
    };
    Ok(Some(
        ServiceConnectConfiguration::builder()
            .set_enabled(attrs::bool(&sc, "enabled"))
            .set_namespace(attrs::string(&sc, "namespace"))
            .set_services(Some(services).filter(|s| !s.is_empty()))
            .set_log_configuration(logs)
            .build(),
    ))
}

fn volume_configurations_of(p: &Value) -> Result<Vec<ServiceVolumeConfiguration>, Diagnostic> {
    let Some(v) = single_block(p, "volume_configuration") else { return Ok(Vec::new()) };
    let ebs = match single_block(&v, "managed_ebs_volume") {
        Some(e) => {
            let mut specs = Vec::new();
            for t in items(&e, "tag_specifications") {
                let tags = ecs_tags(&attrs::string_map(t, "tags"), None);
                specs.push(
                    EbsTagSpecification::builder()
                        .set_resource_type(attrs::string(t, "resource_type").map(|r| EbsResourceType::from(r.as_str())))
                        .set_tags(Some(tags).filter(|t| !t.is_empty()))
                        .set_propagate_tags(attrs::string(t, "propagate_tags").map(|x| PropagateTags::from(x.as_str())))
                        .build()
                        .map_err(build_error("tag_specifications"))?,
                );
            }
            Some(
                ServiceManagedEbsVolumeConfiguration::builder()
                    .set_role_arn(attrs::string(&e, "role_arn"))
                    .set_encrypted(attrs::bool(&e, "encrypted"))
                    .set_kms_key_id(attrs::string(&e, "kms_key_id"))
                    .set_volume_type(attrs::string(&e, "volume_type"))
                    .set_size_in_gib(int_in(&e, "size_in_gb"))
                    .set_snapshot_id(attrs::string(&e, "snapshot_id"))
                    .set_volume_initialization_rate(int_in(&e, "volume_initialization_rate"))
                    .set_iops(int_in(&e, "iops"))
                    .set_throughput(int_in(&e, "throughput"))
                    .set_filesystem_type(attrs::string(&e, "file_system_type").map(|f| TaskFilesystemType::from(f.as_str())))
                    .set_tag_specifications(Some(specs).filter(|s| !s.is_empty()))
                    .build()
                    .map_err(build_error("managed_ebs_volume"))?,
            )
        }
        None => None,
    };
    let built = ServiceVolumeConfiguration::builder()
        .set_name(attrs::string(&v, "name"))
        .set_managed_ebs_volume(ebs)
        .build()
        .map_err(build_error("volume_configuration"))?;
    Ok(vec![built])
}

fn lattice_of(p: &Value) -> Result<Vec<VpcLatticeConfiguration>, Diagnostic> {
    items(p, "vpc_lattice_configurations")
        .iter()
        .map(|l| {
            VpcLatticeConfiguration::builder()
                .set_role_arn(attrs::string(l, "role_arn"))
                .set_target_group_arn(attrs::string(l, "target_group_arn"))
                .set_port_name(attrs::string(l, "port_name"))
                .build()
                .map_err(build_error("vpc_lattice_configurations"))
        })
        .collect()
}

fn deployment_of(p: &Value) -> DeploymentConfiguration {
    let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok());
    let breaker = single_block(p, "deployment_circuit_breaker").filter(|b| !b.is_null()).map(|b| {
        DeploymentCircuitBreaker::builder().enable(attrs::bool(&b, "enable").unwrap_or(false)).rollback(attrs::bool(&b, "rollback").unwrap_or(false)).build()
    });
    let alarms = single_block(p, "alarms").and_then(|a| {
        DeploymentAlarms::builder()
            .set_alarm_names(Some(attrs::strings(&a, "alarm_names")))
            .set_enable(attrs::bool(&a, "enable"))
            .set_rollback(attrs::bool(&a, "rollback"))
            .build()
            .ok()
    });
    DeploymentConfiguration::builder()
        .set_minimum_healthy_percent(int("deployment_minimum_healthy_percent"))
        .set_maximum_percent(int("deployment_maximum_percent"))
        .set_deployment_circuit_breaker(breaker)
        .set_alarms(alarms)
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
async fn wait_steady(c: &Clients, cluster: &str, service: &str, limit: Duration) -> Result<(), Diagnostic> {
    wait_for(&format!("service {service} reaching a steady state"), limit, Duration::from_secs(5), || async {
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
        let (opt, oc, req) = (AttrSchema::optional, AttrSchema::optional_computed, AttrSchema::required);
        let strings = || Type::Set(Box::new(Type::String));
        let map = || Type::Map(Box::new(Type::String));
        let list = |max_items: usize, schema: Schema| BlockSchema { nesting: Nesting::List, min_items: 0, max_items, force_new: false, schema };
        let one = |min_items: usize, schema: Schema| BlockSchema { nesting: Nesting::List, min_items, max_items: 1, force_new: false, schema };
        let network = Schema::new().attr("subnets", req(strings())).attr("security_groups", opt(strings())).attr("assign_public_ip", opt(Type::Bool));
        let lb = Schema::new()
            .attr("target_group_arn", opt(Type::String))
            .attr("elb_name", opt(Type::String))
            .attr("container_name", req(Type::String))
            .attr("container_port", req(Type::Number));
        let breaker = Schema::new().attr("enable", req(Type::Bool)).attr("rollback", req(Type::Bool));
        let alarms = Schema::new().attr("alarm_names", req(strings())).attr("enable", req(Type::Bool)).attr("rollback", req(Type::Bool));
        let strategy = Schema::new().attr("base", opt(Type::Number)).attr("capacity_provider", req(Type::String)).attr("weight", opt(Type::Number));
        let placement = Schema::new().attr("expression", opt(Type::String)).attr("type", req(Type::String));
        let ordered = Schema::new().attr("field", opt(Type::String)).attr("type", req(Type::String));
        let registries = Schema::new()
            .attr("container_name", opt(Type::String))
            .attr("container_port", opt(Type::Number))
            .attr("port", opt(Type::Number))
            .attr("registry_arn", req(Type::String));
        let secret = Schema::new().attr("name", req(Type::String)).attr("value_from", req(Type::String));
        let logs = Schema::new().attr("log_driver", req(Type::String)).attr("options", oc(map())).block("secret_option", list(usize::MAX, secret));
        let tls = Schema::new()
            .attr("kms_key", opt(Type::String))
            .attr("role_arn", opt(Type::String))
            .block("issuer_cert_authority", one(1, Schema::new().attr("aws_pca_authority_arn", req(Type::String))));
        let connect_service = Schema::new()
            .attr("discovery_name", oc(Type::String))
            .attr("ingress_port_override", opt(Type::Number))
            .attr("port_name", req(Type::String))
            .block("client_alias", one(0, Schema::new().attr("dns_name", oc(Type::String)).attr("port", req(Type::Number))))
            .block("timeout", one(0, Schema::new().attr("idle_timeout_seconds", opt(Type::Number)).attr("per_request_timeout_seconds", opt(Type::Number))))
            .block("tls", one(0, tls));
        let connect = Schema::new()
            .attr("enabled", req(Type::Bool))
            .attr("namespace", oc(Type::String))
            .block("log_configuration", one(0, logs))
            .block("service", list(usize::MAX, connect_service));
        let tag_spec = Schema::new().attr("propagate_tags", opt(Type::String)).attr("resource_type", req(Type::String)).attr("tags", opt(map()));
        let ebs = [
            ("encrypted", Type::Bool),
            ("file_system_type", Type::String),
            ("iops", Type::Number),
            ("kms_key_id", Type::String),
            ("size_in_gb", Type::Number),
            ("snapshot_id", Type::String),
            ("throughput", Type::Number),
            ("volume_initialization_rate", Type::Number),
            ("volume_type", Type::String),
        ]
        .into_iter()
        .fold(Schema::new().attr("role_arn", req(Type::String)), |s, (k, t)| s.attr(k, opt(t)))
        .block("tag_specifications", list(usize::MAX, tag_spec));
        let volume = Schema::new().attr("name", req(Type::String)).block("managed_ebs_volume", one(1, ebs));
        let lattice = Schema::new().attr("port_name", req(Type::String)).attr("role_arn", req(Type::String)).attr("target_group_arn", req(Type::String));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", req(Type::String).force_new())
            .attr("cluster", oc(Type::String).force_new())
            .attr("task_definition", opt(Type::String))
            .attr("desired_count", opt(Type::Number).default(Value::int(0)))
            .attr("launch_type", oc(Type::String).force_new().default(Value::string("EC2")))
            .attr("platform_version", oc(Type::String))
            .attr("deployment_minimum_healthy_percent", opt(Type::Number).default(Value::int(100)))
            .attr("deployment_maximum_percent", opt(Type::Number).default(Value::int(200)))
            .attr("health_check_grace_period_seconds", opt(Type::Number).default(Value::int(0)))
            .attr("enable_execute_command", opt(Type::Bool).default(Value::Bool(false)))
            .attr("enable_ecs_managed_tags", opt(Type::Bool).default(Value::Bool(false)))
            .attr("propagate_tags", opt(Type::String).default(Value::string("NONE")))
            .attr("wait_for_steady_state", opt(Type::Bool).default(Value::Bool(false)))
            .attr("force_new_deployment", opt(Type::Bool))
            .attr("availability_zone_rebalancing", opt(Type::String).default(Value::string("DISABLED")))
            .attr("force_delete", opt(Type::Bool))
            .attr("iam_role", oc(Type::String).force_new())
            .attr("scheduling_strategy", opt(Type::String).force_new().default(Value::string("REPLICA")))
            .attr("triggers", oc(map()))
            .attr("tags", opt(map()))
            .attr("tags_all", AttrSchema::computed(map()))
            .block("network_configuration", one(0, network))
            .block("load_balancer", set_of(lb, false))
            .block("deployment_circuit_breaker", one(0, breaker))
            .block("alarms", one(0, alarms))
            .block("capacity_provider_strategy", set_of(strategy, false))
            .block("deployment_controller", BlockSchema { force_new: true, ..one(0, Schema::new().attr("type", opt(Type::String))) })
            .block("ordered_placement_strategy", list(5, ordered))
            .block("placement_constraints", BlockSchema { max_items: 10, ..set_of(placement, false) })
            .block("service_connect_configuration", one(0, connect))
            .block("service_registries", BlockSchema { force_new: true, ..one(0, registries) })
            .block("volume_configuration", one(0, volume))
            .block("vpc_lattice_configurations", set_of(lattice, false))
            .block("timeouts", timeouts_block(&["create", "update", "delete"]))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = validate_timeouts(config);
        let fargate = attrs::string(config, "launch_type").as_deref() == Some("FARGATE");
        let network = config.get_attr("network_configuration").is_some_and(|n| !n.is_null() && !n.as_seq().is_some_and(<[Value]>::is_empty));
        if fargate && !network && config.get_attr("network_configuration").is_some_and(|n| !n.is_unknown()) {
            d.push(Diagnostic::error("Missing network_configuration", "Fargate services need a network_configuration block (awsvpc networking)."));
        }
        d
    }

    /// Defaults that depend on other arguments: Fargate's platform version, and inside
    /// `network_configuration`.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if m.get("launch_type").and_then(Value::as_str) == Some("FARGATE") {
                attrs::set_default(m, "platform_version", Value::string("LATEST"));
            }
            for_items(m, "network_configuration", &mut |n| {
                attrs::set_default(n, "assign_public_ip", Value::Bool(false));
                attrs::set_default(n, "security_groups", Value::Set(Vec::new()));
            });
            for_items(m, "deployment_controller", &mut |d| attrs::set_default(d, "type", Value::string("ECS")));
            for_items(m, "capacity_provider_strategy", &mut |c| {
                attrs::set_default(c, "base", Value::int(0));
                attrs::set_default(c, "weight", Value::int(0));
            });
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        let by_providers = !items(config, "capacity_provider_strategy").is_empty() && config.get_attr("launch_type").is_some_and(Value::is_null);
        if let (Value::Object(m), true) = (&mut resp.planned, by_providers) {
            // No launch type with a capacity provider strategy: AWS reports none.
            m.insert("launch_type".into(), prior.and_then(|p| p.get_attr("launch_type")).cloned().unwrap_or(Value::Unknown));
        }
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
            .set_desired_count(int("desired_count").filter(|_| attrs::string(p, "scheduling_strategy").as_deref() != Some("DAEMON")))
            // A capacity provider strategy replaces the launch type.
            .set_launch_type(
                attrs::string(p, "launch_type").filter(|_| items(p, "capacity_provider_strategy").is_empty()).map(|l| LaunchType::from(l.as_str())),
            )
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
            .set_availability_zone_rebalancing(attrs::string(p, "availability_zone_rebalancing").map(|a| AvailabilityZoneRebalancing::from(a.as_str())))
            .set_capacity_provider_strategy(Some(capacity_providers_of(p)?).filter(|c| !c.is_empty()))
            .set_deployment_controller(controller_of(p)?)
            .set_role(attrs::string(p, "iam_role"))
            .set_scheduling_strategy(attrs::string(p, "scheduling_strategy").map(|x| SchedulingStrategy::from(x.as_str())))
            .set_placement_constraints(Some(placement_constraints_of(p)).filter(|c| !c.is_empty()))
            .set_placement_strategy(Some(placement_strategy_of(p)).filter(|c| !c.is_empty()))
            .set_service_registries(Some(registries_of(p)).filter(|r| !r.is_empty()))
            .set_service_connect_configuration(service_connect_of(p)?)
            .set_volume_configurations(Some(volume_configurations_of(p)?).filter(|v| !v.is_empty()))
            .set_vpc_lattice_configurations(Some(lattice_of(p)?).filter(|v| !v.is_empty()))
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
            let limit = timeout(planned, "create", Duration::from_secs(1200));
            wait_steady(c.clients()?, &cluster_of(planned), &attrs::req_string(created, "id")?, limit).await?;
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
            "triggers",
            "alarms",
            "availability_zone_rebalancing",
            "capacity_provider_strategy",
            "ordered_placement_strategy",
            "placement_constraints",
            "service_connect_configuration",
            "volume_configuration",
            "vpc_lattice_configurations",
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
                    ["deployment_minimum_healthy_percent", "deployment_maximum_percent", "deployment_circuit_breaker", "alarms"]
                        .iter()
                        .any(|k| changed(k))
                        .then(|| deployment_of(p)),
                )
                .set_health_check_grace_period_seconds(int("health_check_grace_period_seconds"))
                .set_enable_execute_command(attrs::bool(p, "enable_execute_command").filter(|_| changed("enable_execute_command")))
                .set_enable_ecs_managed_tags(attrs::bool(p, "enable_ecs_managed_tags").filter(|_| changed("enable_ecs_managed_tags")))
                .set_propagate_tags(attrs::string(p, "propagate_tags").filter(|_| changed("propagate_tags")).map(|t| PropagateTags::from(t.as_str())))
                // New triggers redeploy, as force_new_deployment does.
                .set_force_new_deployment(
                    (attrs::bool(p, "force_new_deployment").is_some_and(|f| f && changed("force_new_deployment")) || changed("triggers")).then_some(true),
                )
                .set_availability_zone_rebalancing(
                    attrs::string(p, "availability_zone_rebalancing")
                        .filter(|_| changed("availability_zone_rebalancing"))
                        .map(|a| AvailabilityZoneRebalancing::from(a.as_str())),
                )
                .set_capacity_provider_strategy(if changed("capacity_provider_strategy") { Some(capacity_providers_of(p)?) } else { None })
                .set_placement_strategy(Some(placement_strategy_of(p)).filter(|_| changed("ordered_placement_strategy")))
                .set_placement_constraints(Some(placement_constraints_of(p)).filter(|_| changed("placement_constraints")))
                .set_service_connect_configuration(if changed("service_connect_configuration") { service_connect_of(p)? } else { None })
                .set_volume_configurations(if changed("volume_configuration") { Some(volume_configurations_of(p)?) } else { None })
                .set_vpc_lattice_configurations(if changed("vpc_lattice_configurations") { Some(lattice_of(p)?) } else { None })
                .send()
                .await
                .map_err(|e| api_error("UpdateService", &e))?;
        }
        if attrs::bool(p, "wait_for_steady_state") == Some(true) {
            wait_steady(c, &cluster_of(p), &id, timeout(p, "update", Duration::from_secs(1200))).await?;
        }
        Ok(())
    }

    /// Scales to zero (unless `force_delete`, or a daemon), deletes, and waits until INACTIVE:
    /// its cluster can go only then.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        let cluster = cluster_of(prior);
        let scale_down = attrs::bool(prior, "force_delete") != Some(true) && attrs::string(prior, "scheduling_strategy").as_deref() != Some("DAEMON");
        if scale_down && attrs::int(prior, "desired_count").unwrap_or(0) > 0 {
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
        wait_for(&format!("service {id} becoming inactive"), timeout(prior, "delete", Duration::from_secs(1200)), Duration::from_secs(3), || async {
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
