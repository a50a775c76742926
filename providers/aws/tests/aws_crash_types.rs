//! Crashes at any point converge for the AWS types of issue 16 that
//! `aws_seed_types.rs`'s crash test does not cover: IAM role policies and attachments, ECR
//! lifecycle policies, Secrets Manager versions, CloudWatch alarms, Application Auto Scaling
//! targets and policies, ElastiCache subnet and replication groups. The `infra` binary is
//! killed between each type's create and its state write: the next apply adopts the object
//! (`0 added`), plans empty, and moto's own API shows exactly one object. Then a destroy is
//! killed before each delete, the object is deleted by hand as if that delete had gone
//! through, and the next destroy, without a refresh, finishes without failing on "not found".
//!
//! `aws_elasticache_parameter_group` is left out: moto 5.2.5 has no
//! `CreateCacheParameterGroup`. The cache subnet group's delete is too (no
//! `DeleteCacheSubnetGroup`): it leaves the state by `state rm`.

use infra_test_harness::moto::*;
use std::path::Path;

/// The provider block; `default_tags` only for the stacks of services whose tags moto keeps
/// (its Application Auto Scaling has no tag API: `ListTagsForResource` answers 500).
fn provider(moto: &Moto, default_tags: bool) -> String {
    let url = &moto.url;
    let tags = if default_tags { "  default_tags {\n    tags = { managed_by = \"infra\" }\n  }\n" } else { "" };
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    iam                    = \"{url}\"\n    ecr                    = \"{url}\"\n    secretsmanager         = \"{url}\"\n    ec2                    = \"{url}\"\n    ecs                    = \"{url}\"\n    cloudwatch             = \"{url}\"\n    applicationautoscaling = \"{url}\"\n    elasticache            = \"{url}\"\n  }}\n{tags}}}\n\n"
    )
}

/// A call to one of moto's JSON APIs (`X-Amz-Target` protocol); returns the JSON.
fn json_api(moto: &Moto, service: &str, target: &str, body: serde_json::Value) -> serde_json::Value {
    let text = moto.call(service, "POST", "/", &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)], &body.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{target} answered {text}: {e}"))
}

fn ok(d: &Path, args: &[&str]) -> String {
    let (code, out) = infra(d, args, &[]);
    assert_eq!(code, 0, "infra {args:?}:\n{out}");
    out
}

fn force_unlock(d: &Path) {
    let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate.lock.info")).unwrap()).unwrap();
    ok(d, &["force-unlock", lock["ID"].as_str().unwrap()]);
}

fn state_list(d: &Path) -> Vec<String> {
    ok(d, &["state", "list"]).lines().map(str::to_string).collect()
}

/// Adds each block in turn; the apply that creates it is killed right after the create, and the
/// next apply must adopt the object rather than make it again, and then plan empty.
fn crash_after_each_create(provider: &str, d: &Path, base: &str, blocks: &[(&str, &str)]) {
    let mut body = base.to_string();
    std::fs::write(d.join("main.tf"), format!("{provider}{body}")).unwrap();
    ok(d, &["apply", "--auto-approve"]);
    for (address, block) in blocks {
        body.push_str(block);
        std::fs::write(d.join("main.tf"), format!("{provider}{body}")).unwrap();
        let (code, out) = infra(d, &["apply", "--auto-approve"], &[("INFRA_TEST_ABORT_AFTER_CREATE", address)]);
        assert_ne!(code, 0, "{address}: the apply was killed after the create:\n{out}");
        assert!(!state_list(d).contains(&address.to_string()), "{address} was killed before its state write");
        force_unlock(d);
        let out = ok(d, &["apply", "--auto-approve"]);
        assert!(out.contains("0 added"), "{address} was adopted, not made again:\n{out}");
        let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
        assert_eq!(code, 0, "{address}: the plan after adoption is empty:\n{out}");
        assert!(state_list(d).contains(&address.to_string()), "{address} is recorded");
    }
}

/// Destroys, killed before each delete in turn (dependents first); `gone` then deletes the
/// object by hand, as a delete whose answer was lost would have. Each next destroy runs without
/// a refresh, so the type's delete meets the missing object and must take it as done.
fn crash_before_each_delete(d: &Path, addresses: &[&str], mut gone: impl FnMut(&str)) {
    for address in addresses {
        let (code, out) = infra(d, &["destroy", "--auto-approve", "--refresh=false"], &[("INFRA_TEST_ABORT_BEFORE_DELETE", address)]);
        assert_ne!(code, 0, "{address}: the destroy was killed before the delete:\n{out}");
        assert!(state_list(d).contains(&address.to_string()), "{address} was killed before its delete");
        force_unlock(d);
        gone(address);
    }
    ok(d, &["destroy", "--auto-approve", "--refresh=false"]);
    assert_eq!(state_list(d), Vec::<String>::new());
}

const IAM_ECR_SECRETS: &str = "resource \"aws_iam_role\" \"r\" {\n  name               = \"crash-r\"\n  assume_role_policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = { Service = \"ecs-tasks.amazonaws.com\" } }] })\n}\n\nresource \"aws_ecr_repository\" \"r\" {\n  name         = \"crash-r\"\n  force_delete = true\n}\n\nresource \"aws_secretsmanager_secret\" \"s\" {\n  name                    = \"crash/s\"\n  recovery_window_in_days = 0\n}\n\n";

#[test]
fn crashes_after_role_policy_attachment_lifecycle_policy_and_secret_version_creates_and_before_their_deletes_converge() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blocks = [
        (
            "aws_iam_role_policy.p",
            "resource \"aws_iam_role_policy\" \"p\" {\n  name_prefix = \"crash-\"\n  role        = aws_iam_role.r.id\n  policy      = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = [\"logs:CreateLogStream\"], Resource = \"*\" }] })\n}\n\n",
        ),
        (
            "aws_iam_role_policy_attachment.a",
            "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role       = aws_iam_role.r.name\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n\n",
        ),
        (
            "aws_ecr_lifecycle_policy.l",
            "resource \"aws_ecr_lifecycle_policy\" \"l\" {\n  repository = aws_ecr_repository.r.name\n  policy     = jsonencode({ rules = [{ rulePriority = 1, selection = { tagStatus = \"any\", countType = \"imageCountMoreThan\", countNumber = 4 }, action = { type = \"expire\" } }] })\n}\n\n",
        ),
        (
            "aws_secretsmanager_secret_version.v",
            "resource \"aws_secretsmanager_secret_version\" \"v\" {\n  secret_id     = aws_secretsmanager_secret.s.id\n  secret_string = \"crash-value-1\"\n}\n\n",
        ),
    ];
    crash_after_each_create(&provider(&moto, true), d, IAM_ECR_SECRETS, &blocks);

    let iam = |params: &[(&str, &str)]| moto.query("iam", "2010-05-08", params);
    let inline = iam(&[("Action", "ListRolePolicies"), ("RoleName", "crash-r")]);
    assert_eq!(inline.matches("<member>crash-").count(), 1, "one inline policy: {inline}");
    let attached = iam(&[("Action", "ListAttachedRolePolicies"), ("RoleName", "crash-r")]);
    assert_eq!(attached.matches("<PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn>").count(), 1, "{attached}");
    let lifecycle = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.GetLifecyclePolicy", serde_json::json!({"repositoryName": "crash-r"}));
    assert!(lifecycle["lifecyclePolicyText"].as_str().is_some_and(|t| t.contains("imageCountMoreThan")), "{lifecycle}");
    let versions =
        json_api(&moto, "secretsmanager", "secretsmanager.ListSecretVersionIds", serde_json::json!({"SecretId": "crash/s", "IncludeDeprecated": true}));
    let versions = versions["Versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(versions.len(), 1, "one version, not one per apply: {versions:?}");
    assert!(versions[0]["VersionStages"].as_array().is_some_and(|s| s.iter().any(|s| s == "AWSCURRENT")), "{versions:?}");
    let value = json_api(&moto, "secretsmanager", "secretsmanager.GetSecretValue", serde_json::json!({"SecretId": "crash/s"}));
    assert_eq!(value["SecretString"], "crash-value-1", "{value}");

    let policy_name = inline.split("<member>").nth(1).and_then(|s| s.split('<').next()).unwrap().to_string();
    crash_before_each_delete(
        d,
        &["aws_iam_role_policy.p", "aws_iam_role_policy_attachment.a", "aws_ecr_lifecycle_policy.l", "aws_secretsmanager_secret_version.v"],
        |address| match address {
            "aws_iam_role_policy.p" => {
                iam(&[("Action", "DeleteRolePolicy"), ("RoleName", "crash-r"), ("PolicyName", &policy_name)]);
            }
            "aws_iam_role_policy_attachment.a" => {
                iam(&[("Action", "DetachRolePolicy"), ("RoleName", "crash-r"), ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess")]);
            }
            "aws_ecr_lifecycle_policy.l" => {
                json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DeleteLifecyclePolicy", serde_json::json!({"repositoryName": "crash-r"}));
            }
            // A version cannot be deleted; its delete takes its stages, which the next run does.
            _ => {}
        },
    );
    let roles = iam(&[("Action", "ListRoles")]);
    assert!(!roles.contains("crash-r"), "{roles}");
}

const SCALING_AND_CACHE: &str = "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.31.0.0/16\"\n}\n\nresource \"aws_subnet\" \"main\" {\n  count             = 2\n  vpc_id            = aws_vpc.main.id\n  cidr_block        = cidrsubnet(\"10.31.0.0/16\", 8, count.index)\n  availability_zone = \"us-east-1a\"\n}\n\nresource \"aws_ecs_cluster\" \"main\" {\n  name = \"crash\"\n}\n\nresource \"aws_ecs_task_definition\" \"backend\" {\n  family                   = \"crash-backend\"\n  requires_compatibilities = [\"FARGATE\"]\n  network_mode             = \"awsvpc\"\n  cpu                      = \"256\"\n  memory                   = \"512\"\n  container_definitions    = jsonencode([{ name = \"app\", image = \"nginx:latest\" }])\n}\n\nresource \"aws_ecs_service\" \"backend\" {\n  name            = \"backend\"\n  cluster         = aws_ecs_cluster.main.id\n  task_definition = aws_ecs_task_definition.backend.arn\n  desired_count   = 2\n  launch_type     = \"FARGATE\"\n  network_configuration {\n    subnets = aws_subnet.main[*].id\n  }\n  lifecycle {\n    ignore_changes = [desired_count]\n  }\n}\n\n";

#[test]
fn crashes_after_alarm_scaling_and_cache_creates_and_before_their_deletes_converge() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blocks = [
        (
            "aws_cloudwatch_metric_alarm.cpu",
            "resource \"aws_cloudwatch_metric_alarm\" \"cpu\" {\n  alarm_name          = \"crash-cpu\"\n  namespace           = \"AWS/ECS\"\n  metric_name         = \"CPUUtilization\"\n  statistic           = \"Average\"\n  period              = 60\n  evaluation_periods  = 2\n  threshold           = 80\n  comparison_operator = \"GreaterThanThreshold\"\n}\n\n",
        ),
        (
            "aws_appautoscaling_target.backend",
            "resource \"aws_appautoscaling_target\" \"backend\" {\n  service_namespace  = \"ecs\"\n  resource_id        = \"service/${aws_ecs_cluster.main.name}/${aws_ecs_service.backend.name}\"\n  scalable_dimension = \"ecs:service:DesiredCount\"\n  min_capacity       = 2\n  max_capacity       = 4\n}\n\n",
        ),
        (
            "aws_appautoscaling_policy.cpu",
            "resource \"aws_appautoscaling_policy\" \"cpu\" {\n  name               = \"crash-cpu\"\n  policy_type        = \"TargetTrackingScaling\"\n  service_namespace  = aws_appautoscaling_target.backend.service_namespace\n  resource_id        = aws_appautoscaling_target.backend.resource_id\n  scalable_dimension = aws_appautoscaling_target.backend.scalable_dimension\n\n  target_tracking_scaling_policy_configuration {\n    target_value = 70\n    predefined_metric_specification {\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n    }\n  }\n}\n\n",
        ),
        (
            "aws_elasticache_subnet_group.redis",
            "resource \"aws_elasticache_subnet_group\" \"redis\" {\n  name       = \"crash-redis\"\n  subnet_ids = aws_subnet.main[*].id\n}\n\n",
        ),
        (
            "aws_elasticache_replication_group.redis",
            "resource \"aws_elasticache_replication_group\" \"redis\" {\n  replication_group_id = \"crash-redis\"\n  description          = \"crash test\"\n  engine               = \"redis\"\n  node_type            = \"cache.t3.micro\"\n  num_cache_clusters   = 2\n  apply_immediately    = true\n}\n\n",
        ),
    ];
    crash_after_each_create(&provider(&moto, false), d, SCALING_AND_CACHE, &blocks);

    let alarms = moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNamePrefix", "crash-")]);
    assert_eq!(alarms.matches("<AlarmName>crash-cpu</AlarmName>").count(), 1, "{alarms}");
    let scaling = |operation: &str| {
        json_api(&moto, "application-autoscaling", &format!("AnyScaleFrontendService.{operation}"), serde_json::json!({"ServiceNamespace": "ecs"}))
    };
    let targets = scaling("DescribeScalableTargets");
    assert_eq!(targets["ScalableTargets"].as_array().map(Vec::len), Some(1), "{targets}");
    let policies = scaling("DescribeScalingPolicies");
    assert_eq!(policies["ScalingPolicies"].as_array().map(Vec::len), Some(1), "{policies}");
    let cache = |params: &[(&str, &str)]| moto.query("elasticache", "2015-02-02", params);
    let groups = cache(&[("Action", "DescribeCacheSubnetGroups")]);
    assert_eq!(groups.matches("<CacheSubnetGroupName>crash-redis</CacheSubnetGroupName>").count(), 1, "{groups}");
    let replication = cache(&[("Action", "DescribeReplicationGroups")]);
    assert_eq!(replication.matches("<ReplicationGroupId>crash-redis</ReplicationGroupId>").count(), 1, "{replication}");

    // moto cannot delete a cache subnet group: it leaves the state only.
    ok(d, &["state", "rm", "aws_elasticache_subnet_group.redis"]);
    crash_before_each_delete(
        d,
        &["aws_cloudwatch_metric_alarm.cpu", "aws_appautoscaling_policy.cpu", "aws_appautoscaling_target.backend", "aws_elasticache_replication_group.redis"],
        |address| match address {
            "aws_cloudwatch_metric_alarm.cpu" => {
                moto.query("monitoring", "2010-08-01", &[("Action", "DeleteAlarms"), ("AlarmNames.member.1", "crash-cpu")]);
            }
            "aws_appautoscaling_policy.cpu" => {
                json_api(
                    &moto,
                    "application-autoscaling",
                    "AnyScaleFrontendService.DeleteScalingPolicy",
                    serde_json::json!({"PolicyName": "crash-cpu", "ServiceNamespace": "ecs", "ResourceId": "service/crash/backend", "ScalableDimension": "ecs:service:DesiredCount"}),
                );
            }
            "aws_appautoscaling_target.backend" => {
                json_api(
                    &moto,
                    "application-autoscaling",
                    "AnyScaleFrontendService.DeregisterScalableTarget",
                    serde_json::json!({"ServiceNamespace": "ecs", "ResourceId": "service/crash/backend", "ScalableDimension": "ecs:service:DesiredCount"}),
                );
            }
            // The group is left for the next destroy to delete for real.
            _ => {}
        },
    );
    let alarms = moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNamePrefix", "crash-")]);
    assert!(!alarms.contains("crash-cpu"), "{alarms}");
    assert_eq!(scaling("DescribeScalableTargets")["ScalableTargets"].as_array().map(Vec::len), Some(0));
}
