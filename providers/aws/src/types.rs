//! The one table of the aws provider: every resource type and data source it offers. Adding a
//! type is its file under its service plus one line here.

use crate::ec2::security_group_rule::SecurityGroupRule;
use crate::{appautoscaling, cloudwatch, data, ec2, ecr, ecs, efs, elasticache, elb, iam, logs, secretsmanager, AwsProvider};
use infra_provider::{DataSource, ResourceType};

pub static RESOURCES: &[&dyn ResourceType<AwsProvider>] = &[
    &ec2::vpc::Vpc,
    &ec2::subnet::Subnet,
    &ec2::internet_gateway::InternetGateway,
    &ec2::route_table::RouteTable,
    &ec2::route::Route,
    &ec2::route_table_association::RouteTableAssociation,
    &ec2::security_group::SecurityGroup,
    &SecurityGroupRule { egress: false },
    &SecurityGroupRule { egress: true },
    &ec2::instance::Instance,
    &efs::file_system::FileSystem,
    &efs::mount_target::MountTarget,
    &efs::backup_policy::BackupPolicy,
    &ecs::cluster::Cluster,
    &ecs::task_definition::TaskDefinition,
    &ecs::service::Service,
    &elb::lb::Lb,
    &elb::target_group::TargetGroup,
    &elb::listener::Listener,
    &elb::listener_rule::ListenerRule,
    &elb::target_group_attachment::TargetGroupAttachment,
    &iam::role::Role,
    &iam::role_policy::RolePolicy,
    &iam::role_policy_attachment::RolePolicyAttachment,
    &logs::log_group::LogGroup,
    &ecr::repository::EcrRepository,
    &ecr::lifecycle_policy::LifecyclePolicy,
    &secretsmanager::secret::Secret,
    &secretsmanager::secret_version::SecretVersion,
    &cloudwatch::metric_alarm::Alarm,
    &appautoscaling::target::Target,
    &appautoscaling::policy::Policy,
    &elasticache::subnet_group::SubnetGroup,
    &elasticache::parameter_group::ParameterGroup,
    &elasticache::replication_group::ReplicationGroup,
];

pub static DATA_SOURCES: &[&dyn DataSource<AwsProvider>] = &[
    &data::availability_zones::AvailabilityZones,
    &data::ami::Ami,
    &data::caller_identity::CallerIdentity,
    &data::vpc::Vpc,
    &data::subnets::Subnets,
    &iam::policy_document::PolicyDocument,
];

#[cfg(test)]
mod tests {
    use super::*;
    use infra_provider::*;
    use std::collections::BTreeSet;

    fn provider() -> Typed<AwsProvider> {
        Typed(AwsProvider { clients: std::sync::OnceLock::new() })
    }

    #[test]
    fn every_name_is_listed_once() {
        let mut seen = BTreeSet::new();
        for t in RESOURCES {
            assert!(seen.insert(t.name()), "{} is listed twice", t.name());
        }
        let mut seen = BTreeSet::new();
        for d in DATA_SOURCES {
            assert!(seen.insert(d.name()), "data source {} is listed twice", d.name());
        }
        assert_eq!(RESOURCES.len(), 35);
        assert_eq!(DATA_SOURCES.len(), 6);
    }

    #[test]
    fn every_type_has_a_computed_id() {
        for t in RESOURCES {
            let id = t.schema().attributes.get("id").cloned();
            assert!(id.is_some_and(|a| a.computed), "{} has no computed id attribute", t.name());
        }
        for d in DATA_SOURCES {
            assert!(d.schema().attributes.contains_key("id"), "data source {} has no id attribute", d.name());
        }
    }

    #[test]
    fn the_schema_lists_every_type_of_the_table() {
        let s = provider().schema();
        let names: BTreeSet<&str> = RESOURCES.iter().map(|t| t.name()).collect();
        assert_eq!(s.resources.keys().map(String::as_str).collect::<BTreeSet<_>>(), names);
        assert!(s.data_sources.contains_key("aws_vpc") && s.data_sources.contains_key("aws_ami"));
    }

    #[test]
    fn an_unknown_type_is_an_error_not_ec2() {
        let p = provider();
        let d = p.validate(&ValidateRequest { type_name: "aws_nat_gateway".into(), config: Value::object([("id", Value::Null)]), data_source: false });
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].summary, "Unsupported resource type");
        assert!(d[0].detail.contains("aws_nat_gateway"));
        assert!(p.resource("aws_ecs_cluster").is_ok());
        assert!(p.data_source("aws_subnet").is_err());
    }

    #[tokio::test]
    async fn an_unknown_type_is_refused_before_any_call() {
        let resp =
            provider().create(CreateRequest { type_name: "aws_vpcx".into(), planned: Value::Object(Default::default()), idempotency_token: "t".into() }).await;
        assert!(resp.state.is_none());
        assert_eq!(resp.diagnostics.len(), 1);
        assert!(resp.diagnostics[0].detail.contains("aws_vpcx"));
    }

    #[test]
    fn constant_defaults_are_planned_from_the_schema() {
        let p = provider();
        let t = p.resource("aws_vpc").map_err(|d| d.detail).unwrap_or_else(|e| panic!("{e}"));
        let planned = t.plan(&p.0, None, &Value::object([("cidr_block", Value::string("10.0.0.0/16"))])).planned;
        assert_eq!(planned.get_attr("instance_tenancy").and_then(Value::as_str), Some("default"));
        assert_eq!(planned.get_attr("enable_dns_support").and_then(Value::as_bool), Some(true));
        assert_eq!(planned.get_attr("enable_dns_hostnames").and_then(Value::as_bool), Some(false));
        assert!(planned.get_attr("id").is_some_and(Value::is_unknown));
    }
}
