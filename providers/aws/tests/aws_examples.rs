//! The AWS examples (`examples/bdd-bot`, `examples/dashboard-velo`) against a real moto server:
//! apply, an empty plan, an in-place change, a force-new change with its dependents replaced in
//! order, import of every object by id, crash adoption, and a destroy that leaves nothing.

use infra_test_harness::moto::*;
use std::path::Path;

fn vars(moto: &Moto, extra: &[&str]) -> Vec<String> {
    let mut v = vec!["--var".to_string(), format!("aws_endpoint={}", moto.url)];
    for e in extra {
        v.push("--var".into());
        v.push(e.to_string());
    }
    v
}

/// The bdd-bot secrets, given as sensitive variables from the environment (never in a file):
/// no output of any command may show them.
const JWT_SECRET: &str = "jwt-NeverPrinted-5f1e9a";
const OPENAI_API_KEY: &str = "sk-NeverPrinted-93b2c7";

fn run(d: &Path, verb: &[&str], vars: &[String]) -> (i32, String) {
    let mut args: Vec<&str> = verb.to_vec();
    args.extend(vars.iter().map(String::as_str));
    let mut env = aws_env();
    env.extend([("INFRA_VAR_jwt_secret", JWT_SECRET), ("INFRA_VAR_openai_api_key", OPENAI_API_KEY)]);
    // moto has no tagging API for Application Auto Scaling: the stack's default tags are off.
    env.push(("INFRA_VAR_default_tags", "{}"));
    let (code, out) = infra(d, &args, &env);
    assert!(!out.contains(JWT_SECRET) && !out.contains(OPENAI_API_KEY), "a secret's value was printed by {verb:?}:\n{out}");
    (code, out)
}

/// Addresses of the `# … will be …` lines of a plan, with their action.
fn planned(out: &str) -> Vec<String> {
    let mut v: Vec<String> =
        out.lines().filter_map(|l| l.trim().strip_prefix("# ")).filter(|l| l.contains(" will be ") || l.contains(" must be ")).map(str::to_string).collect();
    v.sort();
    v
}

fn position(out: &str, needle: &str) -> usize {
    out.find(needle).unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"))
}

/// The attribute lines a plan changes (`+`, `~`, `-`), before its summary.
fn changed_lines(out: &str) -> Vec<&str> {
    out.split("\nPlan:")
        .next()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("+ ") || l.starts_with("~ ") || l.starts_with("- "))
        .filter(|l| !l.contains("resource \""))
        .collect()
}

/// Every changed line is one of the service settings moto does not store (its deployment
/// configuration and health check grace period): an imported service reads AWS's defaults
/// for them (100 %, 0 s) and the plan sets the example's own (50 %, 60 s) on the backend, the
/// one service that sets them.
fn only_moto_service_gaps(changed: &[&str]) -> bool {
    changed.len() == 2
        && changed.iter().all(|l| {
            (l.starts_with("~ deployment_minimum_healthy_percent") && l.ends_with("100 -> 50"))
                || (l.starts_with("~ health_check_grace_period_seconds") && l.ends_with("0 -> 60"))
        })
}

fn state(d: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(d.join("infra.tfstate")).unwrap()).unwrap()
}

#[test]
fn bdd_bot_applies_plans_empty_updates_in_place_replaces_in_order_and_destroys_everything() {
    let moto = start_moto();
    let dir = example("bdd-bot");
    let d = dir.path();
    let base = vars(&moto, &["backup_policy=false"]);
    let (code, out) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 41 added, 0 changed, 0 destroyed."), "{out}");
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &base);
    assert_eq!(code, 0, "the plan after apply is empty:\n{out}");

    // What moto holds is what the stack says.
    let services = moto.ecs("DescribeServices", serde_json::json!({"cluster": "bdd-bot-prod", "services": ["bdd-bot-backend", "bdd-bot-frontend"]}));
    let services = services["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert!(services.iter().all(|s| s["desiredCount"] == 2 && s["launchType"] == "FARGATE"), "{services:?}");
    let clusters = moto.ecs("DescribeClusters", serde_json::json!({"clusters": ["bdd-bot-prod"], "include": ["SETTINGS", "TAGS"]}));
    assert_eq!(clusters["clusters"][0]["settings"][0], serde_json::json!({"name": "containerInsights", "value": "enabled"}), "{clusters}");
    let fs = moto.efs("GET", "/file-systems", serde_json::Value::Null);
    let fs = &fs["FileSystems"][0];
    assert!(fs["Encrypted"] == true && fs["ThroughputMode"] == "provisioned" && fs["ProvisionedThroughputInMibps"] == 100.0, "{fs}");
    assert!(!fs.to_string().contains("infra:create-intent"), "the intent tag is dropped once recorded: {fs}");
    let lbs = moto.elbv2(&[("Action", "DescribeLoadBalancers")]);
    assert!(lbs.contains("<LoadBalancerName>bdd-bot-alb</LoadBalancerName>") && lbs.contains("<Code>active</Code>"), "{lbs}");
    let tgs = moto.elbv2(&[("Action", "DescribeTargetGroups")]);
    assert_eq!(tgs.matches("<HealthCheckPath>/health</HealthCheckPath>").count(), 2, "{tgs}");
    // Registries, log groups, the execution role with its policies, the secrets with their values.
    let repos = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({}));
    let mut names: Vec<&str> = repos["repositories"].as_array().unwrap().iter().filter_map(|r| r["repositoryName"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["bdd-bot-backend", "bdd-bot-frontend"], "{repos}");
    assert!(log_retention(&moto).iter().all(|(_, days)| *days == 30) && log_retention(&moto).len() == 2, "{:?}", log_retention(&moto));
    let role = moto.query("iam", "2010-05-08", &[("Action", "ListAttachedRolePolicies"), ("RoleName", "bdd-bot-task-execution")]);
    assert!(role.contains("AmazonECSTaskExecutionRolePolicy"), "{role}");
    let inline = moto.query("iam", "2010-05-08", &[("Action", "GetRolePolicy"), ("RoleName", "bdd-bot-task-execution"), ("PolicyName", "read-app-secrets")]);
    assert!(inline.contains("secretsmanager%3AGetSecretValue") || inline.contains("secretsmanager:GetSecretValue"), "{inline}");
    for (id, value) in [("bdd-bot/jwt", JWT_SECRET), ("bdd-bot/openai", OPENAI_API_KEY)] {
        let v = json_api(&moto, "secretsmanager", "secretsmanager.GetSecretValue", serde_json::json!({"SecretId": id}));
        assert_eq!(v["SecretString"], value, "{v}");
    }
    let def = moto.ecs("DescribeTaskDefinition", serde_json::json!({"taskDefinition": "bdd-bot-backend"}));
    let backend = &def["taskDefinition"]["containerDefinitions"][0];
    assert_eq!(backend["logConfiguration"]["options"]["awslogs-group"], "/ecs/bdd-bot-backend", "{def}");
    assert!(backend["secrets"].to_string().contains("JWT_SECRET") && backend["secrets"].to_string().contains(":secret:bdd-bot/openai"), "{def}");
    assert!(def["taskDefinition"]["executionRoleArn"].as_str().unwrap_or_default().ends_with(":role/bdd-bot-task-execution"), "{def}");
    // Neither show nor state show prints a secret (run() checks every output).
    for args in [&["show"][..], &["state", "show", "aws_secretsmanager_secret_version.jwt"], &["show", "--json"]] {
        let (code, out) = run(d, args, &[]);
        assert_eq!(code, 0, "{out}");
    }

    // Deletion protection (the default) refuses a destroy before any call.
    let (code, out) = run(d, &["destroy", "--auto-approve"], &base);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Deletion protection is enabled"), "{out}");

    // An in-place change touches only the frontend service: the backend's count is auto
    // scaling's (ignore_changes).
    let more = [base.clone(), vars(&moto, &["desired_count=3"])].concat();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &more);
    assert_eq!(code, 2, "{out}");
    assert_eq!(planned(&out), ["aws_ecs_service.frontend will be updated in-place"], "{out}");
    assert!(out.contains("~ desired_count") && out.contains("2 -> 3"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &more);
    assert_eq!(code, 0, "{out}");
    let services = moto.ecs("DescribeServices", serde_json::json!({"cluster": "bdd-bot-prod", "services": ["bdd-bot-frontend", "bdd-bot-backend"]}));
    assert_eq!(services["services"][0]["desiredCount"], 3);
    assert_eq!(services["services"][1]["desiredCount"], 2);
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &more).0, 0);

    // The alarm's threshold and the scaling bounds change in place, nothing else.
    let alarm = |moto: &Moto| moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms"), ("AlarmNames.member.1", "BDD-Bot-High-Error-Rate")]);
    assert!(alarm(&moto).contains("<Threshold>10.0</Threshold>") && alarm(&moto).contains("<Period>300</Period>"), "{}", alarm(&moto));
    let more = [more.clone(), vars(&moto, &["error_alarm_threshold=25", "backend_min_tasks=3", "backend_max_tasks=6"])].concat();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &more);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        planned(&out),
        ["aws_appautoscaling_target.backend will be updated in-place", "aws_cloudwatch_metric_alarm.high_error_rate will be updated in-place"],
        "{out}"
    );
    let (code, out) = run(d, &["apply", "--auto-approve"], &more);
    assert_eq!(code, 0, "{out}");
    assert!(alarm(&moto).contains("<Threshold>25.0</Threshold>"), "{}", alarm(&moto));
    let targets = json_api(&moto, "application-autoscaling", "AnyScaleFrontendService.DescribeScalableTargets", serde_json::json!({"ServiceNamespace": "ecs"}));
    assert_eq!((&targets["ScalableTargets"][0]["MinCapacity"], &targets["ScalableTargets"][0]["MaxCapacity"]), (&3.into(), &6.into()), "{targets}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &more).0, 0);

    // The logs' retention changes in place, on the two log groups only.
    let more = [more.clone(), vars(&moto, &["log_retention_days=14"])].concat();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &more);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        planned(&out),
        ["aws_cloudwatch_log_group.app[\"backend\"] will be updated in-place", "aws_cloudwatch_log_group.app[\"frontend\"] will be updated in-place"],
        "{out}"
    );
    let (code, out) = run(d, &["apply", "--auto-approve"], &more);
    assert_eq!(code, 0, "{out}");
    assert_eq!(log_retention(&moto), [("/ecs/bdd-bot-backend".to_string(), 14), ("/ecs/bdd-bot-frontend".to_string(), 14)]);
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &more).0, 0);

    // A force-new change (a private subnet's CIDR) replaces the subnet and the mount target in
    // it, in order: the mount target goes first, comes back after the new subnet; the services
    // move to the new subnet in place.
    let moved = [more.clone(), vars(&moto, &["private_subnet_cidrs=[\"10.0.11.0/24\",\"10.0.13.0/24\"]", "deletion_protection=false"])].concat();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &moved);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        planned(&out),
        [
            "aws_ecs_service.backend will be updated in-place",
            "aws_ecs_service.frontend will be updated in-place",
            "aws_efs_mount_target.sqlite_storage[1] must be replaced",
            "aws_lb.main will be updated in-place",
            "aws_subnet.private[1] must be replaced",
        ],
        "{out}"
    );
    assert!(out.contains("\"10.0.12.0/24\" -> \"10.0.13.0/24\" # forces replacement"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &moved);
    assert_eq!(code, 0, "{out}");
    assert!(position(&out, "aws_efs_mount_target.sqlite_storage[1]: Destruction complete") < position(&out, "aws_subnet.private[1]: Destroying"), "{out}");
    assert!(position(&out, "aws_subnet.private[1]: Creation complete") < position(&out, "aws_efs_mount_target.sqlite_storage[1]: Creating"), "{out}");
    assert!(position(&out, "aws_subnet.private[1]: Creation complete") < position(&out, "aws_ecs_service.backend: Modifying"), "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &moved).0, 0);
    let subnets = moto.ec2(&[("Action", "DescribeSubnets")]);
    assert!(subnets.contains("10.0.13.0/24") && !subnets.contains("10.0.12.0/24"), "{subnets}");

    // A changed container setting registers a new revision, shown as a line diff of the
    // canonical JSON, and moves the service to it in place.
    let ecs = std::fs::read_to_string(d.join("ecs.tf")).unwrap();
    std::fs::write(d.join("ecs.tf"), ecs.replace("value = \"production\"", "value = \"staging\"")).unwrap();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &moved);
    assert_eq!(code, 2, "{out}");
    assert_eq!(planned(&out), ["aws_ecs_service.backend will be updated in-place", "aws_ecs_task_definition.backend must be replaced"], "{out}");
    let diff: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| (l.starts_with("- ") || l.starts_with("+ ")) && l.contains("\"value\""))
        .collect();
    assert_eq!(diff, ["- \"value\": \"production\"", "+ \"value\": \"staging\""], "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &moved);
    assert_eq!(code, 0, "{out}");
    let services = moto.ecs("DescribeServices", serde_json::json!({"cluster": "bdd-bot-prod", "services": ["bdd-bot-backend"]}));
    assert!(services["services"][0]["taskDefinition"].as_str().unwrap().ends_with("bdd-bot-backend:2"), "{services}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &moved).0, 0);

    // Destroy leaves nothing the stack made.
    let (code, out) = run(d, &["destroy", "--auto-approve"], &moved);
    assert_eq!(code, 0, "{out}");
    assert!(!moto.ec2(&[("Action", "DescribeVpcs")]).contains("10.0.0.0/16"));
    assert!(!moto.ec2(&[("Action", "DescribeSecurityGroups")]).contains("bdd-bot"));
    assert!(!moto.elbv2(&[("Action", "DescribeLoadBalancers")]).contains("<LoadBalancerArn>"));
    assert!(!moto.elbv2(&[("Action", "DescribeTargetGroups")]).contains("<TargetGroupArn>"));
    assert_eq!(moto.efs("GET", "/file-systems", serde_json::Value::Null)["FileSystems"], serde_json::json!([]));
    let clusters = moto.ecs("DescribeClusters", serde_json::json!({"clusters": ["bdd-bot-prod"]}));
    assert!(clusters["clusters"].as_array().unwrap().iter().all(|c| c["status"] == "INACTIVE"), "{clusters}");
    let families = moto.ecs("ListTaskDefinitions", serde_json::json!({"status": "ACTIVE"}));
    assert_eq!(families["taskDefinitionArns"], serde_json::json!([]), "task definitions deregistered");
    assert_eq!(
        json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({}))["repositories"],
        serde_json::json!([])
    );
    assert_eq!(log_retention(&moto), []);
    assert!(moto.query("iam", "2010-05-08", &[("Action", "GetRole"), ("RoleName", "bdd-bot-task-execution")]).contains("NoSuchEntity"));
    // Scheduled for deletion (30 days' recovery): no longer listed.
    assert_eq!(json_api(&moto, "secretsmanager", "secretsmanager.ListSecrets", serde_json::json!({}))["SecretList"], serde_json::json!([]));
    assert_eq!(state(d)["resources"], serde_json::json!([]));
}

/// A call to one of moto's JSON APIs (`X-Amz-Target` protocol); returns the JSON.
fn json_api(moto: &Moto, service: &str, target: &str, body: serde_json::Value) -> serde_json::Value {
    let text = moto.call(service, "POST", "/", &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)], &body.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{target} answered {text}: {e}"))
}

/// The bdd-bot log groups and their retention in days (0: forever).
fn log_retention(moto: &Moto) -> Vec<(String, i64)> {
    let groups = json_api(moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/ecs/bdd-bot-"}));
    groups["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["logGroupName"].as_str().unwrap_or_default().to_string(), g["retentionInDays"].as_i64().unwrap_or(0)))
        .collect()
}

#[test]
fn the_efs_backup_policy_is_requested_though_moto_lacks_put_backup_policy() {
    // moto does not implement PutBackupPolicy (see ../shared/TEST-TARGETS.md): this test checks
    // the request infra sends and that the failure is reported, with everything else recorded.
    let moto = start_moto();
    let dir = example("bdd-bot");
    let d = dir.path();
    let (code, out) = run(d, &["apply", "--auto-approve"], &vars(&moto, &["deletion_protection=false"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("in aws_efs_backup_policy.sqlite_storage[0]") && out.contains("PutBackupPolicy failed"), "{out}");
    let fs = moto.efs("GET", "/file-systems", serde_json::Value::Null)["FileSystems"][0]["FileSystemId"].as_str().unwrap().to_string();
    let puts: Vec<String> = moto.request_lines().into_iter().filter(|l| l.contains("/backup-policy")).collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert!(puts[0].contains(&format!("\"PUT /2015-02-01/file-systems/{fs}/backup-policy HTTP/1.1\"")), "{puts:?}");
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert_eq!(list.lines().count(), 41, "everything but the policy is recorded:\n{list}");
    assert!(!list.contains("aws_efs_backup_policy"), "{list}");
}

/// The import id terraform-provider-aws documents for each type.
fn import_id(ty: &str, attrs: &serde_json::Value) -> String {
    let s = |k: &str| attrs[k].as_str().unwrap_or_default().to_string();
    match ty {
        "aws_ecs_service" => format!("{}/{}", s("cluster").rsplit('/').next().unwrap_or_default(), s("name")),
        "aws_ecs_task_definition" => s("arn"),
        "aws_route_table_association" if !s("subnet_id").is_empty() => format!("{}/{}", s("subnet_id"), s("route_table_id")),
        "aws_route_table_association" => format!("{}/{}", s("gateway_id"), s("route_table_id")),
        "aws_appautoscaling_target" => format!("{}/{}/{}", s("service_namespace"), s("resource_id"), s("scalable_dimension")),
        "aws_appautoscaling_policy" => format!("{}/{}/{}/{}", s("service_namespace"), s("resource_id"), s("scalable_dimension"), s("name")),
        _ => s("id"),
    }
}

/// The bdd-bot stack's provider block and variables, without its resources.
fn provider_only(dir: &Path) {
    let main = std::fs::read_to_string(dir.join("main.tf")).unwrap();
    let provider: String = main.split("\noutput ").next().unwrap().to_string();
    for f in ["main.tf", "network.tf", "storage.tf", "ecs.tf", "alb.tf", "registry.tf", "logs.tf", "iam.tf", "secrets.tf", "monitoring.tf"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    std::fs::write(dir.join("provider.tf"), provider).unwrap();
}

#[test]
fn generated_configuration_for_every_bdd_bot_object_plans_only_imports() {
    let moto = start_moto();
    let made = example("bdd-bot");
    let base = vars(&moto, &["deletion_protection=false", "backup_policy=false"]);
    let (code, out) = run(made.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");

    // A stack with the provider block only, and an import block per object.
    let adopt = example("bdd-bot");
    provider_only(adopt.path());
    let mut blocks = String::new();
    let mut n = 0;
    for r in state(made.path())["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        for (i, inst) in r["instances"].as_array().unwrap().iter().enumerate() {
            blocks.push_str(&format!("import {{\n  to = {ty}.{}_{i}\n  id = \"{}\"\n}}\n\n", r["name"].as_str().unwrap(), import_id(ty, &inst["attributes"])));
            n += 1;
        }
    }
    std::fs::write(adopt.path().join("imports.tf"), blocks).unwrap();
    let (code, out) = run(adopt.path(), &["plan"], &base);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Configuration for import target does not exist") && out.contains("--generate-config-out"), "{out}");
    let (code, out) = run(adopt.path(), &["plan", "-generate-config-out=generated.tf", "--detailed-exitcode"], &base);
    let generated = std::fs::read_to_string(adopt.path().join("generated.tf")).unwrap_or_default();
    assert!(code != 0, "{out}\n{generated}");
    // A secret's value is never written to a file: each generated version says where it goes.
    let unset = generated.lines().filter(|l| l.trim_start().starts_with("secret_string ") && l.ends_with("= null # sensitive")).count();
    assert_eq!(unset, 2, "{generated}");
    // The user fills each `# sensitive` value from where the secret lives: here the variables.
    let generated: String = generated
        .split("\nresource \"")
        .map(|block| match block.split('"').nth(2) {
            Some(label) if block.starts_with("aws_secretsmanager_secret_version") => {
                let var = if label.starts_with("jwt") { "var.jwt_secret" } else { "var.openai_api_key" };
                block.replace("null # sensitive", var)
            }
            _ => block.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\nresource \"");
    std::fs::write(adopt.path().join("generated.tf"), &generated).unwrap();
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &base);
    assert_eq!(code, 2, "{out}\n{generated}");
    // moto does not report a service's deployment configuration nor its grace period: the
    // import reads AWS's defaults, the generated configuration leaves them out, and the plan is
    // imports only.
    assert!(out.contains(&format!("Plan: {n} to import, 0 to add, 0 to change, 0 to destroy.")), "{out}\n{generated}");
    assert_eq!(generated.matches("\nresource \"").count(), n, "{generated}");
    assert!(!generated.contains("tags_all") && !generated.contains(" arn "), "computed-only attributes are left out:\n{generated}");
    let (_, unformatted) = run(adopt.path(), &["fmt", "--check"], &[]);
    assert!(!unformatted.contains("generated.tf"), "generated configuration is formatted: {unformatted}");
    // Terraform refuses to overwrite: so does infra.
    let (code, out) = run(adopt.path(), &["plan", "-generate-config-out=generated.tf"], &base);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Target generated file already exists"), "{out}");
    let (code, out) = run(adopt.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &base);
    assert_eq!(code, 0, "imported objects match the generated configuration:\n{out}\n{generated}");
}

#[test]
fn infra_import_records_objects_by_their_documented_ids_and_refuses_what_terraform_refuses() {
    let moto = start_moto();
    let made = example("bdd-bot");
    let base = vars(&moto, &["deletion_protection=false", "backup_policy=false"]);
    let (code, out) = run(made.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    let adopt = example("bdd-bot");
    let resources = state(made.path())["resources"].as_array().unwrap().clone();
    let mut n = 0;
    for r in &resources {
        let ty = r["type"].as_str().unwrap();
        for i in r["instances"].as_array().unwrap() {
            let key = match &i["index_key"] {
                serde_json::Value::Null => String::new(),
                k => format!("[{k}]"),
            };
            let addr = format!("{ty}.{}{key}", r["name"].as_str().unwrap());
            let (code, out) = run(adopt.path(), &["import", &addr, &import_id(ty, &i["attributes"])], &base);
            assert_eq!(code, 0, "{addr}: {out}");
            n += 1;
        }
    }
    let (_, list) = infra(adopt.path(), &["state", "list"], &[]);
    assert_eq!(list.lines().count(), n, "{list}");
    // An address already in state; an object managed at another address; an id that is not one.
    let vpc = state(made.path())["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_vpc").unwrap()["instances"][0]["attributes"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out) = run(adopt.path(), &["import", "aws_vpc.main", &vpc], &base);
    assert!(code == 1 && out.contains("Resource already managed by infra"), "{out}");
    std::fs::write(adopt.path().join("extra.tf"), "resource \"aws_vpc\" \"again\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n").unwrap();
    let (code, out) = run(adopt.path(), &["import", "aws_vpc.again", &vpc], &base);
    assert!(code == 1 && out.contains("Resource already managed") && out.contains("at aws_vpc.main"), "{out}");
    let (code, out) = run(adopt.path(), &["import", "aws_vpc.again", "vpc-00000000000000000"], &base);
    assert!(code == 1 && out.contains("Cannot import non-existent remote object"), "{out}");
    let (code, out) = run(adopt.path(), &["import", "aws_route_table_association.private", "not-an-id/x"], &base);
    assert!(code == 1, "{out}");
    std::fs::remove_file(adopt.path().join("extra.tf")).unwrap();
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &base);
    // moto does not store a service's deployment configuration (see `only_moto_service_gaps`):
    // the plan sets the example's on the imported backend, and nothing else.
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 0 to add, 1 to change, 0 to destroy.") && only_moto_service_gaps(&changed_lines(&out)), "{out}");
}

/// A state as Terraform 1.11 with terraform-provider-aws 5.100 writes it, from infra's state of
/// the same objects: every attribute the provider's 5.100 schema has (those infra does not
/// model get the value their type's zero), single nested blocks as lists of one, sensitive
/// paths in Terraform's form, `timeouts` and `private` as Terraform records them.
fn terraform_state_of(infra_state: &serde_json::Value) -> String {
    // Each type's attributes and nested block names in terraform-provider-aws 5.100's schema
    // (`terraform providers schema -json`, reduced to the types infra offers).
    let tf_schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/terraform-aws-5.100-attributes.json")).unwrap()).unwrap();
    let ours = infra_provider_aws::factory()().schema();
    fn zero(ty: &serde_json::Value) -> serde_json::Value {
        match ty {
            serde_json::Value::String(t) if t == "string" => serde_json::json!(""),
            serde_json::Value::String(t) if t == "bool" => serde_json::json!(false),
            serde_json::Value::String(t) if t == "number" => serde_json::json!(0),
            serde_json::Value::Array(a) if a[0] == "map" => serde_json::json!({}),
            serde_json::Value::Array(a) if a[0] == "list" || a[0] == "set" => serde_json::json!([]),
            _ => serde_json::Value::Null,
        }
    }
    let mut resources = Vec::new();
    for r in infra_state["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let tf = &tf_schema[ty];
        let schema = &ours.resources[ty];
        let mut instances = Vec::new();
        for i in r["instances"].as_array().unwrap() {
            let mut attrs = i["attributes"].as_object().unwrap().clone();
            for (name, b) in &schema.blocks {
                if b.nesting == infra_provider::Nesting::Single {
                    let v = attrs.get(name).cloned().unwrap_or_default();
                    attrs.insert(name.clone(), if v.is_null() { serde_json::json!([]) } else { serde_json::json!([v]) });
                }
            }
            for (name, t) in tf["attributes"].as_object().unwrap() {
                attrs.entry(name.clone()).or_insert_with(|| zero(t));
            }
            for name in tf["block_types"].as_array().unwrap() {
                let name = name.as_str().unwrap().to_string();
                let empty = if name == "timeouts" { serde_json::Value::Null } else { serde_json::json!([]) };
                attrs.entry(name).or_insert(empty);
            }
            attrs.insert("timeouts".into(), serde_json::Value::Null);
            let sensitive: Vec<serde_json::Value> = i["sensitive_attributes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|p| {
                    serde_json::Value::Array(
                        p.as_array()
                            .unwrap()
                            .iter()
                            .map(|s| match s {
                                serde_json::Value::String(a) => serde_json::json!({"type": "get_attr", "value": a}),
                                serde_json::Value::Number(n) => serde_json::json!({"type": "index", "value": {"value": n, "type": "number"}}),
                                _ => unreachable!(),
                            })
                            .collect(),
                    )
                })
                .collect();
            let mut inst = serde_json::json!({
                "schema_version": tf["version"].as_u64().unwrap_or(0),
                "attributes": attrs,
                "sensitive_attributes": sensitive,
                "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
                "dependencies": i["dependencies"].as_array().cloned().unwrap_or_default(),
            });
            if !i["index_key"].is_null() {
                inst["index_key"] = i["index_key"].clone();
            }
            instances.push(inst);
        }
        resources.push(serde_json::json!({
            "mode": "managed", "type": ty, "name": r["name"],
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": instances,
        }));
    }
    let outputs: serde_json::Map<String, serde_json::Value> = infra_state["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, o)| (k.clone(), serde_json::json!({"value": o["value"], "type": "string", "sensitive": o["sensitive"]})))
        .collect();
    // In Terraform's key order (serde_json sorts keys): version first.
    let field = |k: &str, v: serde_json::Value| format!("  \"{k}\": {}", serde_json::to_string_pretty(&v).unwrap().replace('\n', "\n  "));
    let fields = [
        field("version", 4.into()),
        field("terraform_version", "1.11.4".into()),
        field("serial", 12.into()),
        field("lineage", "7d0c0c5e-8f5e-4b0a-9a53-6d7b8f0e2a11".into()),
        field("outputs", outputs.into()),
        field("resources", resources.into()),
        field("check_results", serde_json::Value::Null),
    ];
    format!("{{\n{}\n}}\n", fields.join(",\n"))
}

#[test]
fn a_terraform_state_of_bdd_bot_migrates_and_plans_with_no_changes_and_no_writes() {
    let moto = start_moto();
    let made = example("bdd-bot");
    let base = vars(&moto, &["deletion_protection=false", "backup_policy=false"]);
    let (code, out) = run(made.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    let tf = terraform_state_of(&state(made.path()));

    // The same stack as Terraform left it: its .tf files, a backend "local" block naming
    // Terraform's state, and that state.
    let adopt = example("bdd-bot");
    let d = adopt.path();
    std::fs::write(d.join("terraform.tf"), "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.100\"\n    }\n  }\n  backend \"local\" {\n    path = \"terraform.tfstate\"\n  }\n}\n").unwrap();
    let text = tf;
    std::fs::write(d.join("terraform.tfstate"), &text).unwrap();
    let (code, out) = infra(d, &["state", "migrate"], &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(d.join("terraform.tfstate")).unwrap(), text, "the Terraform state is never changed");
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert_eq!(list.lines().count(), 41, "{list}");

    let read_only = infra_test_harness::faults::start_proxy(&moto.url, &["--forbid-mutating"]);
    let through: Vec<String> = ["--var", &format!("aws_endpoint={}", read_only.url), "--var", "deletion_protection=false", "--var", "backup_policy=false"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &through);
    assert_eq!(read_only.faulted("forbidden"), Vec::<String>::new(), "plan sent mutating calls:\n{out}");
    // The Terraform state records the services' deployment settings, so, unlike after an
    // import on moto, there is nothing to set: no changes at all.
    assert_eq!(code, 0, "{out}");
}

#[test]
fn every_bdd_bot_object_imports_by_id_with_an_empty_plan() {
    let moto = start_moto();
    let made = example("bdd-bot");
    let base = vars(&moto, &["deletion_protection=false", "backup_policy=false"]);
    let (code, out) = run(made.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");

    // The same stack in a new directory, with an import block per object and no state.
    let adopt = example("bdd-bot");
    let mut blocks = String::new();
    let mut types = std::collections::BTreeSet::new();
    for r in state(made.path())["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        types.insert(ty.to_string());
        for i in r["instances"].as_array().unwrap() {
            let key = match &i["index_key"] {
                serde_json::Value::Null => String::new(),
                k => format!("[{k}]"),
            };
            blocks.push_str(&format!("import {{\n  to = {ty}.{}{key}\n  id = \"{}\"\n}}\n\n", r["name"].as_str().unwrap(), import_id(ty, &i["attributes"])));
        }
    }
    assert_eq!(types.len(), 26, "every resource type of the stack: {types:?}");
    std::fs::write(adopt.path().join("imports.tf"), blocks).unwrap();
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &base);
    assert_eq!(code, 2, "{out}");
    // moto does not store a service's deployment configuration nor its health check grace
    // period (TEST-TARGETS.md), so an imported service reads AWS's defaults and the plan sets
    // the example's; AWS reports them and the plan is a pure import there. Nothing else differs.
    assert!(out.contains("Plan: 41 to import, 0 to add, 1 to change, 0 to destroy."), "{out}");
    assert!(only_moto_service_gaps(&changed_lines(&out)), "{out}");
    let (code, out) = run(adopt.path(), &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &base);
    assert_eq!(code, 0, "imported objects match the configuration:\n{out}");
}

#[test]
fn crashes_after_efs_ecs_and_elb_creates_are_adopted_never_duplicated() {
    let moto = start_moto();
    let dir = example("bdd-bot");
    let d = dir.path();
    let base = vars(&moto, &["deletion_protection=false", "backup_policy=false"]);
    for address in ["aws_efs_file_system.sqlite_storage", "aws_lb_target_group.backend", "aws_ecs_task_definition.frontend", "aws_ecs_service.frontend"] {
        let mut env = aws_env();
        env.push(("INFRA_TEST_ABORT_AFTER_CREATE", address));
        // Targeted, so that the aborting create is reached whatever ran before it.
        let mut args = vec!["apply", "--auto-approve", "--target", address];
        args.extend(base.iter().map(String::as_str));
        let (code, out) = infra(d, &args, &env);
        assert_ne!(code, 0, "{address}: {out}");
        if let Ok(lock) = std::fs::read(d.join("infra.tfstate.lock.info")) {
            let lock: serde_json::Value = serde_json::from_slice(&lock).unwrap();
            assert_eq!(infra(d, &["force-unlock", lock["ID"].as_str().unwrap()], &[]).0, 0);
        }
    }
    let (code, out) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &base).0, 0);
    assert_eq!(moto.efs("GET", "/file-systems", serde_json::Value::Null)["FileSystems"].as_array().unwrap().len(), 1, "one file system");
    assert_eq!(moto.elbv2(&[("Action", "DescribeTargetGroups")]).matches("<TargetGroupName>bdd-bot-backend</TargetGroupName>").count(), 1);
    let defs = moto.ecs("ListTaskDefinitions", serde_json::json!({"familyPrefix": "bdd-bot-frontend", "status": "ACTIVE"}));
    assert_eq!(defs["taskDefinitionArns"].as_array().unwrap().len(), 1, "{defs}");
    let services = moto.ecs("ListServices", serde_json::json!({"cluster": "bdd-bot-prod"}));
    assert_eq!(services["serviceArns"].as_array().unwrap().len(), 2, "{services}");
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert_eq!(list.lines().count(), 41, "{list}");
}

#[test]
fn with_a_certificate_bdd_bot_serves_https_and_redirects_http() {
    let moto = start_moto();
    // A certificate that does not exist: AWS's code and message, the operation and the address.
    let missing = example("bdd-bot");
    // The secrets are deleted at once, so that the second stack can take their names again.
    let v = vars(
        &moto,
        &[
            "deletion_protection=false",
            "backup_policy=false",
            "secret_recovery_window_days=0",
            "certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/none",
        ],
    );
    let (code, out) = run(missing.path(), &["apply", "--auto-approve"], &v);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("in aws_lb_listener.https[0]") && out.contains("CreateListener failed: CertificateNotFound: "), "{out}");
    let (code, out) = run(missing.path(), &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "everything the failed apply made is recorded and goes: {out}");
    // An ACM certificate for the listener (moto checks that it exists).
    let cert = moto.call(
        "acm",
        "POST",
        "/",
        &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "CertificateManager.RequestCertificate")],
        r#"{"DomainName": "bdd-bot.example.com"}"#,
    );
    let cert: serde_json::Value = serde_json::from_str(&cert).unwrap();
    let arn = cert["CertificateArn"].as_str().unwrap().to_string();
    let dir = example("bdd-bot");
    let d = dir.path();
    let v = vars(&moto, &["deletion_protection=false", "backup_policy=false", &format!("certificate_arn={arn}")]);
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);
    let listeners = moto.elbv2(&[("Action", "DescribeListeners"), ("LoadBalancerArn", state_attr(d, "aws_lb", "arn").as_str())]);
    assert!(listeners.contains("<Protocol>HTTPS</Protocol>") && listeners.contains(&arn), "{listeners}");
    assert!(listeners.contains("<Type>redirect</Type>") && listeners.contains("<StatusCode>HTTP_301</StatusCode>"), "{listeners}");
    // The API rule hangs on the HTTPS listener.
    let https = state_attr(d, "aws_lb_listener", "arn");
    assert_eq!(state_attr(d, "aws_lb_listener_rule", "listener_arn"), https);
}

/// An attribute of the first instance of the first resource of a type in the state.
fn state_attr(d: &Path, ty: &str, attr: &str) -> String {
    let s = state(d);
    let r = s["resources"].as_array().unwrap().iter().filter(|r| r["type"] == ty).last().unwrap().clone();
    r["instances"][0]["attributes"][attr].as_str().unwrap().to_string()
}

fn certificate(moto: &Moto, region: &str, domain: &str) -> String {
    let cert = moto.call_in(
        region,
        "acm",
        "POST",
        "/",
        &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "CertificateManager.RequestCertificate")],
        &format!(r#"{{"DomainName": "{domain}"}}"#),
    );
    let cert: serde_json::Value = serde_json::from_str(&cert).unwrap();
    cert["CertificateArn"].as_str().unwrap().to_string()
}

#[test]
fn dashboard_velo_spreads_three_servers_behind_the_load_balancer_and_replaces_in_order() {
    let moto = start_moto();
    let dir = example("dashboard-velo");
    let d = dir.path();
    let cert = certificate(&moto, "eu-west-3", "dashboard-velo.example.com");
    // moto's built-in Canonical images stop at Ubuntu 16.04: the example's 22.04 pattern finds
    // nothing there, so the test picks the newest image moto has by the same data source.
    let v = vars(&moto, &[&format!("certificate_arn={cert}"), "ami_name=ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"]);
    without_parameter_group(d);
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 28 added, 0 changed, 0 destroyed."), "{out}");
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &v);
    assert_eq!(code, 0, "the plan after apply is empty:\n{out}");

    // Three t3.medium servers from the Ubuntu 22.04 AMI, in three zones, all registered.
    let s = state(d);
    let instances: Vec<&serde_json::Value> =
        s["resources"].as_array().unwrap().iter().filter(|r| r["type"] == "aws_instance").flat_map(|r| r["instances"].as_array().unwrap()).collect();
    assert_eq!(instances.len(), 3);
    let zones: std::collections::BTreeSet<&str> = instances.iter().map(|i| i["attributes"]["availability_zone"].as_str().unwrap()).collect();
    assert_eq!(zones.len(), 3, "{zones:?}");
    assert!(instances.iter().all(|i| i["attributes"]["instance_type"] == "t3.medium"));
    let tg = state_attr(d, "aws_lb_target_group", "arn");
    let health = moto.query_in("eu-west-3", "elasticloadbalancing", "2015-12-01", &[("Action", "DescribeTargetHealth"), ("TargetGroupArn", &tg)]);
    for i in &instances {
        assert!(health.contains(i["attributes"]["id"].as_str().unwrap()), "{health}");
    }
    assert_eq!(health.matches("<Port>3000</Port>").count(), 3, "{health}");

    // A new instance type is an in-place change (stop, modify, start), on the three servers only.
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &[v.clone(), vars(&moto, &["instance_type=t3.large"])].concat());
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        planned(&out),
        ["aws_instance.app[0] will be updated in-place", "aws_instance.app[1] will be updated in-place", "aws_instance.app[2] will be updated in-place"],
        "{out}"
    );

    // A new subnet layout replaces the subnet, then what lives in it: the server and its
    // registration go before the subnet does, and come back after.
    std::fs::write(
        d.join("main.tf"),
        std::fs::read_to_string(d.join("main.tf"))
            .unwrap()
            .replace("cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)", "cidrsubnet(aws_vpc.main.cidr_block, 8, count.index == 2 ? 9 : count.index)"),
    )
    .unwrap();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        planned(&out),
        [
            "aws_instance.app[2] must be replaced",
            "aws_lb.main will be updated in-place",
            "aws_lb_target_group_attachment.app[2] must be replaced",
            "aws_route_table_association.public[2] must be replaced",
            "aws_subnet.public[2] must be replaced",
        ],
        "{out}"
    );
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(position(&out, "aws_lb_target_group_attachment.app[2]: Destruction complete") < position(&out, "aws_instance.app[2]: Destroying"), "{out}");
    assert!(position(&out, "aws_instance.app[2]: Destruction complete") < position(&out, "aws_subnet.public[2]: Destroying"), "{out}");
    assert!(position(&out, "aws_instance.app[2]: Creation complete") < position(&out, "aws_lb_target_group_attachment.app[2]: Creating"), "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);

    // Import by id: the attachments and the standalone route, into a fresh state.
    let adopt = example("dashboard-velo");
    std::fs::copy(d.join("main.tf"), adopt.path().join("main.tf")).unwrap();
    without_parameter_group(adopt.path());
    let mut blocks = String::new();
    for r in state(d)["resources"].as_array().unwrap() {
        for i in r["instances"].as_array().unwrap().iter().filter(|_| r["type"] != "aws_elasticache_replication_group") {
            let key = if i["index_key"].is_null() { String::new() } else { format!("[{}]", i["index_key"]) };
            blocks.push_str(&format!(
                "import {{\n  to = {}.{}{key}\n  id = \"{}\"\n}}\n",
                r["type"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                import_id(r["type"].as_str().unwrap(), &i["attributes"])
            ));
        }
    }
    std::fs::write(adopt.path().join("imports.tf"), blocks).unwrap();
    let (code, out) = run(adopt.path(), &["plan", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    // The replication group's subnet group, parameter group and security groups are read from
    // its member clusters, which moto does not list: its import is tested without them
    // (aws_seed_types_b.rs), and here it would plan a new group.
    assert!(out.contains("Plan: 27 to import, 1 to add, 0 to change, 0 to destroy."), "{out}");

    destroy_all_but_the_cache_subnet_group(&moto, d, &v);
}

/// moto 5.2.5 cannot make ElastiCache parameter groups: the example keeps AWS's default group
/// (`redis_maxmemory_policy = null`) against it.
fn without_parameter_group(d: &Path) {
    std::fs::write(d.join("moto.auto.tfvars"), "redis_maxmemory_policy = null\n").unwrap();
}

/// A destroy of dashboard-velo on moto: everything goes but the cache subnet group (moto 5.2.5
/// has no DeleteCacheSubnetGroup, and the destroy says so), the private subnets in it and the
/// VPC around them, which stay recorded.
fn destroy_all_but_the_cache_subnet_group(moto: &Moto, d: &Path, v: &[String]) {
    let (code, out) = run(d, &["destroy", "--auto-approve"], v);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("DeleteCacheSubnetGroup failed"), "{out}");
    assert!(!moto.query_in("eu-west-3", "elasticloadbalancing", "2015-12-01", &[("Action", "DescribeLoadBalancers")]).contains("<LoadBalancerArn>"));
    assert!(!moto.query_in("eu-west-3", "ec2", "2016-11-15", &[("Action", "DescribeInstances")]).contains("<instanceState><code>16</code>"));
    let (_, list) = run(d, &["state", "list"], &[]);
    let left: Vec<&str> = list.lines().filter(|l| !l.starts_with("data.")).collect();
    assert_eq!(
        left,
        ["aws_elasticache_subnet_group.redis", "aws_subnet.private[0]", "aws_subnet.private[1]", "aws_subnet.private[2]", "aws_vpc.main"],
        "{list}"
    );
}

#[test]
fn dashboard_velo_has_50_gb_gp3_servers_and_a_redis_of_three_whose_node_type_changes_in_place() {
    let moto = start_moto();
    let dir = example("dashboard-velo");
    let d = dir.path();
    let cert = certificate(&moto, "eu-west-3", "dashboard-velo.example.com");
    let v = vars(&moto, &[&format!("certificate_arn={cert}"), "ami_name=ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"]);

    // With the seed's volatile-lru parameter group, moto refuses at that group, and nothing of
    // it is recorded.
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("CacheParameterGroup failed"), "{out}");
    let (_, list) = run(d, &["state", "list"], &[]);
    assert!(!list.contains("aws_elasticache_parameter_group") && !list.contains("aws_elasticache_replication_group"), "{list}");

    without_parameter_group(d);
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("redis_endpoint = \"master.dashboard-velo-redis."), "the endpoint is an output: {out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0, "the plan after apply is empty");

    // Three servers on 50 GB encrypted gp3 root volumes.
    let volumes = moto.query_in("eu-west-3", "ec2", "2016-11-15", &[("Action", "DescribeVolumes")]);
    assert_eq!(volumes.matches("<size>50</size>").count(), 3, "{volumes}");
    assert_eq!(volumes.matches("<volumeType>gp3</volumeType>").count(), 3, "{volumes}");
    // One primary and two replicas of cache.m5.large with failover, in the private subnets,
    // reachable only from the servers' security group.
    let rg =
        moto.query_in("eu-west-3", "elasticache", "2015-02-02", &[("Action", "DescribeReplicationGroups"), ("ReplicationGroupId", "dashboard-velo-redis")]);
    assert_eq!(rg.matches("<ClusterId>").count(), 3, "{rg}");
    assert!(rg.contains("<CacheNodeType>cache.m5.large</CacheNodeType>") && rg.contains("<AutomaticFailover>enabled</AutomaticFailover>"), "{rg}");
    assert!(rg.contains("<SnapshotRetentionLimit>7</SnapshotRetentionLimit>") && rg.contains("<SnapshotWindow>03:00-04:00</SnapshotWindow>"), "{rg}");
    let groups =
        moto.query_in("eu-west-3", "elasticache", "2015-02-02", &[("Action", "DescribeCacheSubnetGroups"), ("CacheSubnetGroupName", "dashboard-velo-redis")]);
    assert_eq!(groups.matches("<SubnetIdentifier>").count(), 3, "{groups}");
    let sgs = moto.query_in(
        "eu-west-3",
        "ec2",
        "2016-11-15",
        &[("Action", "DescribeSecurityGroups"), ("Filter.1.Name", "group-name"), ("Filter.1.Value.1", "dashboard-velo-redis")],
    );
    assert!(sgs.contains("<fromPort>6379</fromPort>") && !sgs.contains("0.0.0.0/0") && sgs.contains("<groupId>sg-"), "{sgs}");

    // A bigger node type is an in-place change of the group alone.
    let bigger = [v.clone(), vars(&moto, &["redis_node_type=cache.m5.xlarge"])].concat();
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &bigger);
    assert_eq!(code, 2, "{out}");
    assert_eq!(planned(&out), ["aws_elasticache_replication_group.redis will be updated in-place"], "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &bigger);
    assert_eq!(code, 0, "{out}");
    let rg =
        moto.query_in("eu-west-3", "elasticache", "2015-02-02", &[("Action", "DescribeReplicationGroups"), ("ReplicationGroupId", "dashboard-velo-redis")]);
    assert!(rg.contains("<CacheNodeType>cache.m5.xlarge</CacheNodeType>"), "{rg}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &bigger).0, 0);

    destroy_all_but_the_cache_subnet_group(&moto, d, &bigger);
}
