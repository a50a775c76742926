//! Issue 16, AWS part B against a real moto: `aws_cloudwatch_metric_alarm`,
//! `aws_appautoscaling_target` / `_policy` and the ElastiCache types, each created, read back,
//! planned empty, changed in place, imported and destroyed. The tests of this binary share one
//! moto server (each makes objects with its own names) that stops with the last of them.
//!
//! moto 5.2.5 (the newest) has no `CreateCacheParameterGroup` and no `DeleteCacheSubnetGroup`
//! (it answers 500): their tests assert that infra reports the failing call and records
//! exactly what exists, never a success the API did not give.

use infra_test_harness::moto::*;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

/// The moto of this binary, started by the first test that needs it.
fn moto() -> Arc<Moto> {
    static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = slot.upgrade() {
        return m;
    }
    let m = Arc::new(start_moto());
    *slot = Arc::downgrade(&m);
    m
}

fn provider(moto: &Moto) -> String {
    let url = &moto.url;
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    ec2                    = \"{url}\"\n    ecs                    = \"{url}\"\n    cloudwatch             = \"{url}\"\n    applicationautoscaling = \"{url}\"\n    elasticache            = \"{url}\"\n  }}\n}}\n\n"
    )
}

fn write(d: &Path, moto: &Moto, body: &str) {
    std::fs::write(d.join("main.tf"), format!("{}{body}", provider(moto))).unwrap();
}

fn ok(d: &Path, args: &[&str]) -> String {
    let (code, out) = infra(d, args, &[]);
    assert_eq!(code, 0, "infra {args:?}:\n{out}");
    out
}

fn plan_is_empty(d: &Path) {
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "the plan is not empty:\n{out}");
}

fn state_show(d: &Path, addr: &str) -> String {
    ok(d, &["state", "show", addr])
}

fn alarm(name: &str, threshold: u32) -> String {
    format!(
        "resource \"aws_cloudwatch_metric_alarm\" \"errors\" {{\n  alarm_name          = \"{name}\"\n  alarm_description   = \"4XX answers of the load balancer\"\n  namespace           = \"AWS/ApplicationELB\"\n  metric_name         = \"HTTPCode_Target_4XX_Count\"\n  statistic           = \"Sum\"\n  period              = 300\n  evaluation_periods  = 2\n  threshold           = {threshold}\n  comparison_operator = \"GreaterThanThreshold\"\n  treat_missing_data  = \"notBreaching\"\n  dimensions = {{\n    LoadBalancer = \"app/bdd-bot/0123456789abcdef\"\n  }}\n  tags = {{\n    app = \"bdd-bot\"\n  }}\n}}\n"
    )
}

#[test]
fn a_metric_alarm_reads_back_changes_its_threshold_in_place_imports_and_destroys() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &alarm("High-Error-Rate-a", 10));
    let out = ok(d, &["apply", "--auto-approve"]);
    assert!(out.contains("1 added"), "{out}");
    plan_is_empty(d);
    let xml = moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNames.member.1", "High-Error-Rate-a")]);
    assert!(
        xml.contains("<Threshold>10.0</Threshold>") && xml.contains("<Period>300</Period>") && xml.contains("<EvaluationPeriods>2</EvaluationPeriods>"),
        "{xml}"
    );
    let shown = state_show(d, "aws_cloudwatch_metric_alarm.errors");
    assert!(shown.contains("arn:aws:cloudwatch:us-east-1:") && shown.contains("\"app\" = \"bdd-bot\"") || shown.contains("app"), "{shown}");
    let tags = moto.query(
        "monitoring",
        "2010-08-01",
        &[("Action", "ListTagsForResource"), ("ResourceARN", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:High-Error-Rate-a")],
    );
    assert!(tags.contains("bdd-bot") && !tags.contains("infra:create-intent"), "tags set, intent tag dropped once recorded: {tags}");

    // The threshold changes in place.
    write(d, &moto, &alarm("High-Error-Rate-a", 25));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("will be updated in-place") && out.contains("0 to add, 1 to change, 0 to destroy"), "{out}");
    ok(d, &["apply", "--auto-approve"]);
    let xml = moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNames.member.1", "High-Error-Rate-a")]);
    assert!(xml.contains("<Threshold>25.0</Threshold>"), "{xml}");
    plan_is_empty(d);

    // Imported by its name into a fresh stack, it plans empty.
    let other = tempfile::tempdir().unwrap();
    let o = other.path();
    write(o, &moto, &alarm("High-Error-Rate-a", 25));
    let out = ok(o, &["import", "aws_cloudwatch_metric_alarm.errors", "High-Error-Rate-a"]);
    assert!(out.contains("Import successful") || out.contains("imported"), "{out}");
    plan_is_empty(o);

    ok(d, &["destroy", "--auto-approve"]);
    let xml = moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNames.member.1", "High-Error-Rate-a")]);
    assert!(!xml.contains("High-Error-Rate-a"), "{xml}");
}

fn scaling(cluster: &str, min: u32, max: u32, target: u32) -> String {
    format!(
        "resource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.30.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"main\" {{\n  vpc_id     = aws_vpc.main.id\n  cidr_block = \"10.30.1.0/24\"\n}}\n\nresource \"aws_ecs_cluster\" \"main\" {{\n  name = \"{cluster}\"\n}}\n\nresource \"aws_ecs_task_definition\" \"backend\" {{\n  family                   = \"{cluster}-backend\"\n  requires_compatibilities = [\"FARGATE\"]\n  network_mode             = \"awsvpc\"\n  cpu                      = \"256\"\n  memory                   = \"512\"\n  container_definitions    = jsonencode([{{ name = \"app\", image = \"nginx:latest\" }}])\n}}\n\nresource \"aws_ecs_service\" \"backend\" {{\n  name            = \"backend\"\n  cluster         = aws_ecs_cluster.main.id\n  task_definition = aws_ecs_task_definition.backend.arn\n  desired_count   = 2\n  launch_type     = \"FARGATE\"\n  network_configuration {{\n    subnets = [aws_subnet.main.id]\n  }}\n  lifecycle {{\n    ignore_changes = [desired_count]\n  }}\n}}\n\nresource \"aws_appautoscaling_target\" \"backend\" {{\n  service_namespace  = \"ecs\"\n  resource_id        = \"service/${{aws_ecs_cluster.main.name}}/${{aws_ecs_service.backend.name}}\"\n  scalable_dimension = \"ecs:service:DesiredCount\"\n  min_capacity       = {min}\n  max_capacity       = {max}\n}}\n\nresource \"aws_appautoscaling_policy\" \"cpu\" {{\n  name               = \"backend-cpu\"\n  policy_type        = \"TargetTrackingScaling\"\n  service_namespace  = aws_appautoscaling_target.backend.service_namespace\n  resource_id        = aws_appautoscaling_target.backend.resource_id\n  scalable_dimension = aws_appautoscaling_target.backend.scalable_dimension\n\n  target_tracking_scaling_policy_configuration {{\n    target_value       = {target}\n    scale_in_cooldown  = 300\n    scale_out_cooldown = 60\n    predefined_metric_specification {{\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n    }}\n  }}\n}}\n"
    )
}

fn targets(moto: &Moto) -> String {
    moto.call(
        "application-autoscaling",
        "POST",
        "/",
        &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AnyScaleFrontendService.DescribeScalableTargets")],
        "{\"ServiceNamespace\":\"ecs\"}",
    )
}

#[test]
fn an_ecs_service_scales_2_to_4_on_cpu_bounds_change_in_place_and_both_import() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &scaling("scale-b", 2, 4, 70));
    let out = ok(d, &["apply", "--auto-approve"]);
    assert!(out.contains("7 added"), "{out}");
    plan_is_empty(d);
    let t = targets(&moto);
    assert!(t.contains("service/scale-b/backend") && t.contains("\"MinCapacity\": 2") && t.contains("\"MaxCapacity\": 4"), "{t}");
    let shown = state_show(d, "aws_appautoscaling_policy.cpu");
    assert!(shown.contains("ECSServiceAverageCPUUtilization") && shown.contains("arn:aws:autoscaling:"), "{shown}");

    // The bounds and the target value change in place.
    write(d, &moto, &scaling("scale-b", 3, 6, 60));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("0 to add, 2 to change, 0 to destroy"), "{out}");
    ok(d, &["apply", "--auto-approve"]);
    let t = targets(&moto);
    assert!(t.contains("\"MinCapacity\": 3") && t.contains("\"MaxCapacity\": 6"), "{t}");
    plan_is_empty(d);

    // Import ids as terraform-provider-aws writes them.
    let other = tempfile::tempdir().unwrap();
    let o = other.path();
    let only_scaling = scaling("scale-b", 3, 6, 60);
    let only_scaling = &only_scaling[only_scaling.find("resource \"aws_appautoscaling_target\"").unwrap()..];
    write(o, &moto, &only_scaling.replace("${aws_ecs_cluster.main.name}/${aws_ecs_service.backend.name}", "scale-b/backend"));
    ok(o, &["import", "aws_appautoscaling_target.backend", "ecs/service/scale-b/backend/ecs:service:DesiredCount"]);
    let (code, out) = infra(o, &["import", "aws_appautoscaling_policy.cpu", "ecs/backend-cpu"], &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("is not service-namespace/resource-id/scalable-dimension/policy-name"), "{out}");
    ok(o, &["import", "aws_appautoscaling_policy.cpu", "ecs/service/scale-b/backend/ecs:service:DesiredCount/backend-cpu"]);
    plan_is_empty(o);

    ok(d, &["destroy", "--auto-approve"]);
    assert!(!targets(&moto).contains("service/scale-b/backend"));
}

fn redis(id: &str, node_type: &str) -> String {
    format!(
        "resource \"aws_elasticache_replication_group\" \"redis\" {{\n  replication_group_id       = \"{id}\"\n  description                = \"sessions and cache\"\n  engine                     = \"redis\"\n  node_type                  = \"{node_type}\"\n  num_cache_clusters         = 3\n  automatic_failover_enabled = true\n  multi_az_enabled           = true\n  snapshot_retention_limit   = 7\n  snapshot_window            = \"03:00-04:00\"\n  apply_immediately          = true\n  tags = {{\n    app = \"dashboard-velo\"\n  }}\n}}\n\noutput \"endpoint\" {{\n  value = aws_elasticache_replication_group.redis.primary_endpoint_address\n}}\n"
    )
}

#[test]
fn a_redis_replication_group_of_three_changes_node_type_in_place_imports_and_destroys() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &redis("velo-redis-c", "cache.m5.large"));
    let out = ok(d, &["apply", "--auto-approve"]);
    assert!(out.contains("1 added"), "{out}");
    assert!(out.contains("endpoint = \"master.velo-redis-c."), "the primary endpoint is an output:\n{out}");
    plan_is_empty(d);
    let xml = moto.query("elasticache", "2015-02-02", &[("Action", "DescribeReplicationGroups"), ("ReplicationGroupId", "velo-redis-c")]);
    assert!(xml.contains("<CacheNodeType>cache.m5.large</CacheNodeType>") && xml.contains("<AutomaticFailover>enabled</AutomaticFailover>"), "{xml}");
    assert_eq!(xml.matches("<ClusterId>").count(), 3, "one primary and two replicas: {xml}");
    let shown = state_show(d, "aws_elasticache_replication_group.redis");
    assert!(shown.contains("num_cache_clusters") && shown.contains("= 3") && shown.contains("snapshot_retention_limit"), "{shown}");

    // The node type changes in place.
    write(d, &moto, &redis("velo-redis-c", "cache.m5.xlarge"));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("will be updated in-place") && out.contains("0 to add, 1 to change, 0 to destroy"), "{out}");
    ok(d, &["apply", "--auto-approve"]);
    let xml = moto.query("elasticache", "2015-02-02", &[("Action", "DescribeReplicationGroups"), ("ReplicationGroupId", "velo-redis-c")]);
    assert!(xml.contains("<CacheNodeType>cache.m5.xlarge</CacheNodeType>"), "{xml}");
    plan_is_empty(d);

    let other = tempfile::tempdir().unwrap();
    let o = other.path();
    write(o, &moto, &redis("velo-redis-c", "cache.m5.xlarge"));
    ok(o, &["import", "aws_elasticache_replication_group.redis", "velo-redis-c"]);
    // apply_immediately is no attribute AWS reports: after an import it is what the
    // configuration says, an update of state only.
    let (code, out) = infra(o, &["plan", "--detailed-exitcode"], &[]);
    assert!(code == 0 || out.contains("apply_immediately") && out.contains("0 to add, 1 to change, 0 to destroy"), "{out}");

    ok(d, &["destroy", "--auto-approve"]);
    let xml = moto.query("elasticache", "2015-02-02", &[("Action", "DescribeReplicationGroups")]);
    assert!(!xml.contains("velo-redis-c") || xml.contains("<Status>deleting</Status>"), "{xml}");
}

#[test]
fn a_cache_subnet_group_reads_back_and_imports_and_a_delete_moto_cannot_do_fails_and_stays_in_state() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.40.0.0/16\"\n}\n\nresource \"aws_subnet\" \"private\" {\n  count             = 2\n  vpc_id            = aws_vpc.main.id\n  cidr_block        = cidrsubnet(\"10.40.0.0/16\", 8, count.index)\n  availability_zone = \"us-east-1a\"\n}\n\nresource \"aws_elasticache_subnet_group\" \"redis\" {\n  name       = \"Velo-Redis-D\"\n  subnet_ids = aws_subnet.private[*].id\n}\n";
    write(d, &moto, stack);
    ok(d, &["apply", "--auto-approve"]);
    plan_is_empty(d);
    let shown = state_show(d, "aws_elasticache_subnet_group.redis");
    assert!(
        shown.contains("\"velo-redis-d\"") && shown.contains("Managed by Terraform") && shown.contains("vpc-"),
        "lower-case name, default description, VPC: {shown}"
    );

    let other = tempfile::tempdir().unwrap();
    let o = other.path();
    write(o, &moto, "resource \"aws_elasticache_subnet_group\" \"redis\" {\n  name       = \"velo-redis-d\"\n  subnet_ids = []\n}\n");
    ok(o, &["import", "aws_elasticache_subnet_group.redis", "velo-redis-d"]);
    assert!(state_show(o, "aws_elasticache_subnet_group.redis").contains("subnet-"));

    // moto has no DeleteCacheSubnetGroup: the destroy says so and the group stays recorded.
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("DeleteCacheSubnetGroup failed"), "{out}");
    let list = ok(d, &["state", "list"]);
    assert!(list.contains("aws_elasticache_subnet_group.redis"), "the group AWS still has stays in state: {list}");
}

#[test]
fn a_parameter_group_moto_cannot_create_fails_and_records_nothing() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &moto,
        "resource \"aws_elasticache_parameter_group\" \"redis\" {\n  name   = \"velo-redis-e\"\n  family = \"redis7\"\n  parameter {\n    name  = \"maxmemory-policy\"\n    value = \"volatile-lru\"\n  }\n}\n",
    );
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("CreateCacheParameterGroup failed") || out.contains("DescribeCacheParameterGroups failed"), "{out}");
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert!(!list.contains("aws_elasticache_parameter_group.redis"), "{list}");
}

fn server(ami: &str, size: u32, iops: u32) -> String {
    format!(
        "resource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.50.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"main\" {{\n  vpc_id     = aws_vpc.main.id\n  cidr_block = \"10.50.1.0/24\"\n}}\n\nresource \"aws_instance\" \"app\" {{\n  ami           = \"{ami}\"\n  instance_type = \"t3.medium\"\n  subnet_id     = aws_subnet.main.id\n\n  root_block_device {{\n    volume_size           = {size}\n    volume_type           = \"gp3\"\n    iops                  = {iops}\n    throughput            = 125\n    encrypted             = true\n    delete_on_termination = true\n    tags = {{\n      Name = \"app-root\"\n    }}\n  }}\n\n  ebs_block_device {{\n    device_name = \"/dev/sdf\"\n    volume_size = 20\n    volume_type = \"gp3\"\n    tags = {{\n      Name = \"app-data\"\n    }}\n  }}\n}}\n"
    )
}

fn volumes(moto: &Moto) -> String {
    moto.ec2(&[("Action", "DescribeVolumes"), ("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", "app-root")])
}

#[test]
fn a_50_gb_gp3_root_volume_and_an_ebs_volume_read_back_the_root_grows_in_place_and_a_new_encryption_replaces_the_server() {
    let moto = moto();
    let images = moto.ec2(&[("Action", "DescribeImages")]);
    let ami = images.split("<imageId>").nth(1).and_then(|s| s.split('<').next()).expect("moto ships AMIs").to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &server(&ami, 50, 3000));
    ok(d, &["apply", "--auto-approve"]);
    plan_is_empty(d);
    let v = volumes(&moto);
    assert!(v.contains("<size>50</size>") && v.contains("<volumeType>gp3</volumeType>") && v.contains("<encrypted>true</encrypted>"), "{v}");
    let shown = state_show(d, "aws_instance.app");
    assert!(shown.contains("vol-") && shown.contains("device_name"), "volume id and device name read back: {shown}");
    let data = moto.ec2(&[("Action", "DescribeVolumes"), ("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", "app-data")]);
    assert!(data.contains("<size>20</size>") && data.contains("<device>/dev/sdf</device>"), "the EBS volume, attached: {data}");

    // Size and IOPS change in place (ModifyVolume), the instance stays.
    let id = |s: &str| s.split("\"i-").nth(1).and_then(|s| s.split('"').next()).map(str::to_string);
    let before = id(&shown);
    write(d, &moto, &server(&ami, 60, 4000));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("will be updated in-place") && out.contains("0 to add, 1 to change, 0 to destroy"), "{out}");
    ok(d, &["apply", "--auto-approve"]);
    let v = volumes(&moto);
    assert!(v.contains("<size>60</size>") && v.contains("<iops>4000</iops>"), "{v}");
    plan_is_empty(d);
    assert_eq!(id(&state_show(d, "aws_instance.app")), before, "the same instance");

    // Encryption cannot change on a volume: a new instance.
    write(d, &moto, &server(&ami, 60, 4000).replace("encrypted             = true", "encrypted             = false"));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("must be replaced"), "{out}");

    write(d, &moto, &server(&ami, 60, 4000));
    ok(d, &["destroy", "--auto-approve"]);
}
