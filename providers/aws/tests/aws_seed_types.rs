//! The types the seed stacks need beyond networking and ECS (issue 16, part A): IAM roles and
//! their policies, the offline policy document, CloudWatch Logs groups, ECR repositories and
//! lifecycle policies, Secrets Manager secrets and versions. Each test drives the real `infra`
//! binary against its own real moto server: create, read back (from moto directly), an empty
//! second plan, an in-place update, import by terraform-provider-aws's id with an empty plan,
//! and a destroy that leaves nothing.

use infra_test_harness::moto::*;
use std::path::Path;

fn provider(moto: &Moto) -> String {
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    iam            = \"{0}\"\n    logs           = \"{0}\"\n    ecr            = \"{0}\"\n    secretsmanager = \"{0}\"\n  }}\n  default_tags {{\n    tags = {{ managed_by = \"infra\" }}\n  }}\n}}\n",
        moto.url
    )
}

/// A call to one of moto's JSON APIs (`X-Amz-Target` protocol); returns the JSON.
fn json_api(moto: &Moto, service: &str, target: &str, body: serde_json::Value) -> serde_json::Value {
    let text = moto.call(service, "POST", "/", &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)], &body.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{target} answered {text}: {e}"))
}

fn iam(moto: &Moto, params: &[(&str, &str)]) -> String {
    moto.query("iam", "2010-05-08", params)
}

fn write(d: &Path, name: &str, text: &str) {
    std::fs::write(d.join(name), text).unwrap();
}

fn run(d: &Path, args: &[&str]) -> (i32, String) {
    infra(d, args, &[("INFRA_VAR_api_key", SECRET)])
}

const SECRET: &str = "sk-NeverPrintMe-8c1f2e";

const ROLE: &str = r#"
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "exec" {
  name               = "seed-exec"
  description        = "one"
  assume_role_policy = ASSUME
  tags = {
    app = "seed"
  }
}

resource "aws_iam_role_policy_attachment" "exec" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "read" {
  name = "read-logs"
  role = aws_iam_role.exec.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:GetLogEvents", "logs:CreateLogStream"], Resource = "*" }]
  })
}
"#;

#[test]
fn an_iam_role_with_its_policies_applies_plans_empty_whatever_the_policy_text_updates_imports_and_destroys() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |assume: &str, description: &str| format!("{}{}", provider(&moto), ROLE.replace("ASSUME", assume).replace("\"one\"", description));
    write(d, "main.tf", &stack("data.aws_iam_policy_document.assume.json", "\"one\""));
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 3 added"), "{out}");
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan after apply is empty:\n{out}");

    // Read back from IAM itself.
    let role = iam(&moto, &[("Action", "GetRole"), ("RoleName", "seed-exec")]);
    assert!(role.contains("<Description>one</Description>") && role.contains("ecs-tasks.amazonaws.com") && role.contains("managed_by"), "{role}");
    assert!(!role.contains("infra:create-intent"), "the intent tag is dropped once recorded: {role}");
    let attached = iam(&moto, &[("Action", "ListAttachedRolePolicies"), ("RoleName", "seed-exec")]);
    assert!(attached.contains("AmazonECSTaskExecutionRolePolicy"), "{attached}");
    let inline = iam(&moto, &[("Action", "GetRolePolicy"), ("RoleName", "seed-exec"), ("PolicyName", "read-logs")]);
    assert!(inline.contains("logs%3AGetLogEvents"), "IAM answers documents URL-encoded: {inline}");

    // The same trust policy written by hand, reformatted, keys and lists reordered, one-element
    // lists as strings: compared by meaning, so nothing to do.
    let by_hand = "<<-EOT\n    {\n      \"Statement\": {\n        \"Principal\": { \"Service\": [\"ecs-tasks.amazonaws.com\"] },\n        \"Action\": \"sts:AssumeRole\",\n        \"Effect\": \"Allow\"\n      },\n      \"Version\": \"2012-10-17\"\n    }\n  EOT";
    write(d, "main.tf", &stack(by_hand, "\"one\""));
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a reformatted, reordered trust policy plans nothing:\n{out}");
    // A policy that means something else does change, in place.
    write(d, "main.tf", &stack(&by_hand.replace("ecs-tasks", "ec2"), "\"two\""));
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_iam_role.exec will be updated in-place") && out.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let role = iam(&moto, &[("Action", "GetRole"), ("RoleName", "seed-exec")]);
    assert!(role.contains("<Description>two</Description>") && role.contains("ec2.amazonaws.com"), "{role}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"]).0, 0);

    // The same objects imported by terraform-provider-aws's ids: nothing else to do.
    let adopt = tempfile::tempdir().unwrap();
    let a = adopt.path();
    let imports = "import {\n  to = aws_iam_role.exec\n  id = \"seed-exec\"\n}\nimport {\n  to = aws_iam_role_policy_attachment.exec\n  id = \"seed-exec/arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy\"\n}\nimport {\n  to = aws_iam_role_policy.read\n  id = \"seed-exec:read-logs\"\n}\n";
    write(a, "main.tf", &format!("{}{imports}", stack(&by_hand.replace("ecs-tasks", "ec2"), "\"two\"")));
    let (code, out) = run(a, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 3 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = run(a, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(a, &["plan", "--detailed-exitcode"]).0, 0);
    write(a, "other.tf", "resource \"aws_iam_role_policy\" \"other\" {\n  role   = \"seed-exec\"\n  policy = \"{}\"\n}\n");
    let (code, out) = run(a, &["import", "aws_iam_role_policy.other", "seed-exec"]);
    assert!(code == 1 && out.contains("ROLE:NAME"), "an id without its policy name is refused: {out}");
    std::fs::remove_file(a.join("other.tf")).unwrap();

    // Destroy: the attachment and the inline policy go before the role, and nothing is left.
    let (code, out) = run(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(iam(&moto, &[("Action", "GetRole"), ("RoleName", "seed-exec")]).contains("NoSuchEntity"));
}

#[test]
fn log_groups_and_registries_change_in_place_import_by_name_and_destroy() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |days: u32, scan: bool, mutability: &str| {
        format!(
            "{}\nresource \"aws_cloudwatch_log_group\" \"app\" {{\n  name              = \"/ecs/seed-app\"\n  retention_in_days = {days}\n}}\n\nresource \"aws_cloudwatch_log_group\" \"prefixed\" {{\n  name_prefix = \"/ecs/seed-\"\n}}\n\nresource \"aws_ecr_repository\" \"app\" {{\n  name                 = \"seed-app\"\n  image_tag_mutability = \"{mutability}\"\n  force_delete         = true\n\n  image_scanning_configuration {{\n    scan_on_push = {scan}\n  }}\n}}\n\nresource \"aws_ecr_repository\" \"plain\" {{\n  name = \"seed-plain\"\n}}\n\nresource \"aws_ecr_lifecycle_policy\" \"app\" {{\n  repository = aws_ecr_repository.app.name\n  policy = jsonencode({{\n    rules = [{{ rulePriority = 1, selection = {{ tagStatus = \"any\", countType = \"imageCountMoreThan\", countNumber = 5 }}, action = {{ type = \"expire\" }} }}]\n  }})\n}}\n",
            provider(&moto)
        )
    };
    write(d, "main.tf", &stack(7, false, "IMMUTABLE"));
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 5 added"), "{out}");
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan after apply is empty:\n{out}");

    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/ecs/seed-"}));
    let groups = groups["logGroups"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups.iter().any(|g| g["logGroupName"] == "/ecs/seed-app" && g["retentionInDays"] == 7), "{groups:?}");
    let repos = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({"repositoryNames": ["seed-app"]}));
    let repo = &repos["repositories"][0];
    assert!(repo["imageTagMutability"] == "IMMUTABLE" && repo["imageScanningConfiguration"]["scanOnPush"] == false, "{repo}");
    let lifecycle = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.GetLifecyclePolicy", serde_json::json!({"repositoryName": "seed-app"}));
    assert!(lifecycle["lifecyclePolicyText"].as_str().unwrap_or_default().contains("imageCountMoreThan"), "{lifecycle}");

    // Retention, scanning and tag mutability change in place, nothing replaced. (Scanning is
    // turned on, not off: the SDK leaves a false `scanOnPush` out of the request, as AWS reads
    // it, and moto then keeps the old setting.)
    write(d, "main.tf", &stack(14, true, "MUTABLE"));
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 0 to add, 2 to change, 0 to destroy.") && out.contains("~ retention_in_days") && out.contains("7 -> 14"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/ecs/seed-app"}));
    assert_eq!(groups["logGroups"][0]["retentionInDays"], 14, "{groups}");
    let repos = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({"repositoryNames": ["seed-app"]}));
    assert!(
        repos["repositories"][0]["imageTagMutability"] == "MUTABLE" && repos["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] == true,
        "{repos}"
    );
    assert_eq!(run(d, &["plan", "--detailed-exitcode"]).0, 0);

    // Imported by name (terraform-provider-aws's ids), with an empty plan.
    let adopt = tempfile::tempdir().unwrap();
    let a = adopt.path();
    let only_named = stack(14, true, "MUTABLE").split("\nresource \"aws_cloudwatch_log_group\" \"prefixed\"").next().unwrap().to_string()
        + "\nresource \"aws_ecr_repository\" \"plain\" {\n  name = \"seed-plain\"\n}\n";
    let imports =
        "import {\n  to = aws_cloudwatch_log_group.app\n  id = \"/ecs/seed-app\"\n}\nimport {\n  to = aws_ecr_repository.plain\n  id = \"seed-plain\"\n}\n";
    write(a, "main.tf", &format!("{only_named}{imports}"));
    let (code, out) = run(a, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = run(a, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(a, &["plan", "--detailed-exitcode"]).0, 0);

    let (code, out) = run(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/ecs/seed-"}));
    assert_eq!(groups["logGroups"], serde_json::json!([]), "{groups}");
    let repos = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({}));
    assert_eq!(repos["repositories"], serde_json::json!([]), "{repos}");
}

#[test]
fn a_secret_value_is_stored_but_never_printed_by_plan_apply_or_show_and_imports_by_arn_and_version() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |description: &str| {
        format!(
            "{}\nvariable \"api_key\" {{\n  type      = string\n  sensitive = true\n}}\n\nresource \"aws_secretsmanager_secret\" \"api\" {{\n  name                    = \"seed/api\"\n  description             = \"{description}\"\n  recovery_window_in_days = 0\n}}\n\nresource \"aws_secretsmanager_secret_version\" \"api\" {{\n  secret_id     = aws_secretsmanager_secret.api.id\n  secret_string = var.api_key\n}}\n",
            provider(&moto)
        )
    };
    write(d, "main.tf", &stack("one"));
    let mut printed = String::new();
    let (code, out) = run(d, &["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("secret_string") && out.contains("(sensitive value)"), "{out}");
    printed.push_str(&out);
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    printed.push_str(&out);
    let (code, out) = run(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan after apply is empty:\n{out}");

    // Stored in AWS as given.
    let value = json_api(&moto, "secretsmanager", "secretsmanager.GetSecretValue", serde_json::json!({"SecretId": "seed/api"}));
    assert_eq!(value["SecretString"], SECRET, "{value}");

    // A description changes in place; the value stays.
    write(d, "main.tf", &stack("two"));
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{out}");
    printed.push_str(&out);
    for args in [&["show"][..], &["state", "show", "aws_secretsmanager_secret_version.api"], &["show", "--json"], &["plan"]] {
        let (code, out) = run(d, args);
        assert_eq!(code, 0, "{args:?}: {out}");
        printed.push_str(&out);
    }
    assert!(printed.contains("aws_secretsmanager_secret_version"), "{printed}");
    assert!(!printed.contains(SECRET), "the secret's value was printed:\n{printed}");

    // Imported by terraform-provider-aws's ids (the secret's ARN; ARN|VERSION_ID): the value
    // is read back for the import, so the plan is empty, and still never printed.
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate")).unwrap()).unwrap();
    let attrs = |ty: &str| state["resources"].as_array().unwrap().iter().find(|r| r["type"] == ty).unwrap()["instances"][0]["attributes"].clone();
    let (arn, version_id) = (
        attrs("aws_secretsmanager_secret")["id"].as_str().unwrap().to_string(),
        attrs("aws_secretsmanager_secret_version")["id"].as_str().unwrap().to_string(),
    );
    assert!(version_id.starts_with(&format!("{arn}|")), "{version_id}");
    let adopt = tempfile::tempdir().unwrap();
    let a = adopt.path();
    write(a, "main.tf", &format!("{}\nimport {{\n  to = aws_secretsmanager_secret.api\n  id = \"{arn}\"\n}}\nimport {{\n  to = aws_secretsmanager_secret_version.api\n  id = \"{version_id}\"\n}}\n", stack("two")));
    let (code, out) = run(a, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(SECRET), "{out}");
    let (code, out) = run(a, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "imported secret and version match the configuration:\n{out}");

    let (code, out) = run(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(SECRET), "{out}");
    let list = json_api(&moto, "secretsmanager", "secretsmanager.ListSecrets", serde_json::json!({}));
    assert_eq!(list["SecretList"], serde_json::json!([]), "{list}");
}

#[test]
fn a_policy_document_is_computed_offline_in_terraform_provider_aws_form() {
    // No endpoint at all: the data source makes no call.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "main.tf",
        "provider \"aws\" {\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {\n    iam = \"http://127.0.0.1:9\"\n  }\n}\n\ndata \"aws_iam_policy_document\" \"p\" {\n  statement {\n    sid       = \"Read\"\n    actions   = [\"secretsmanager:GetSecretValue\", \"kms:Decrypt\"]\n    resources = [\"*\"]\n  }\n}\n\noutput \"json\" {\n  value = data.aws_iam_policy_document.p.json\n}\n\noutput \"minified\" {\n  value = data.aws_iam_policy_document.p.minified_json\n}\n",
    );
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(d, &["output", "-raw", "minified"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["secretsmanager:GetSecretValue","kms:Decrypt"],"Resource":"*"}]}"#
    );
}

#[test]
fn discover_writes_iam_logs_registry_and_secrets_that_plan_as_imports_only_and_then_empty() {
    let moto = start_moto();
    let made = tempfile::tempdir().unwrap();
    let m = made.path();
    let stack = format!(
        "{}{}\nresource \"aws_cloudwatch_log_group\" \"app\" {{\n  name              = \"/ecs/disc\"\n  retention_in_days = 3\n}}\n\nresource \"aws_ecr_repository\" \"app\" {{\n  name = \"disc-app\"\n}}\n\nresource \"aws_ecr_lifecycle_policy\" \"app\" {{\n  repository = aws_ecr_repository.app.name\n  policy     = jsonencode({{ rules = [{{ rulePriority = 1, selection = {{ tagStatus = \"any\", countType = \"imageCountMoreThan\", countNumber = 3 }}, action = {{ type = \"expire\" }} }}] }})\n}}\n\nresource \"aws_secretsmanager_secret\" \"app\" {{\n  name        = \"disc/app\"\n  description = \"found by discover\"\n}}\n",
        provider(&moto),
        ROLE.replace("ASSUME", "data.aws_iam_policy_document.assume.json")
    );
    write(m, "main.tf", &stack);
    let (code, out) = run(m, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");

    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["discover", "aws", "--region", "us-east-1", "--endpoint", &moto.url, "--max-retries", "0", "--out", "stack"];
    for t in [
        "aws_iam_role",
        "aws_iam_role_policy_attachment",
        "aws_iam_role_policy",
        "aws_cloudwatch_log_group",
        "aws_ecr_repository",
        "aws_ecr_lifecycle_policy",
        "aws_secretsmanager_secret",
    ] {
        args.extend(["--type", t]);
    }
    let (code, out) = infra(work.path(), &args, &aws_env());
    assert_eq!(code, 0, "{out}");
    let d = work.path().join("stack");
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}: {out}"));
    let (iam_tf, logs_tf, registry_tf, secrets_tf, imports) = (read("iam.tf"), read("logs.tf"), read("registry.tf"), read("secrets.tf"), read("imports.tf"));
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let all = flat(&format!("{iam_tf}{logs_tf}{registry_tf}{secrets_tf}"));
    for want in [
        "resource \"aws_iam_role\"",
        "resource \"aws_iam_role_policy_attachment\"",
        "resource \"aws_iam_role_policy\"",
        "name = \"/ecs/disc\"",
        "retention_in_days = 3",
        "resource \"aws_ecr_lifecycle_policy\"",
        "description = \"found by discover\"",
    ] {
        assert!(all.contains(&flat(want)), "no {want:?} in\n{all}");
    }
    assert_eq!(imports.matches("import {").count(), 7, "{imports}");
    assert!(
        imports.contains("id = \"seed-exec/arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy\"")
            && imports.contains("id = \"seed-exec:read-logs\""),
        "{imports}"
    );
    let (code, out) = infra(&d, &["fmt", "--check"], &aws_env());
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan"], &aws_env());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 7 to import, 0 to add, 0 to change, 0 to destroy."), "{out}\n{all}");
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &aws_env());
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &aws_env());
    assert_eq!(code, 0, "{out}");
}

/// A crash right after a create: the next run finds the object by its intent tag (under the
/// name its create token chose, for `name_prefix`) and adopts it, never making a second one.
#[test]
fn crashes_after_role_log_group_repository_and_secret_creates_are_adopted_never_duplicated() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let role = "resource \"aws_iam_role\" \"crash\" {\n  name_prefix        = \"crash-\"\n  assume_role_policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = { Service = \"ecs-tasks.amazonaws.com\" } }] })\n}\n";
    let group = "resource \"aws_cloudwatch_log_group\" \"crash\" {\n  name_prefix = \"/crash/\"\n}\n";
    let repo = "resource \"aws_ecr_repository\" \"crash\" {\n  name = \"crash\"\n}\n";
    let secret = "resource \"aws_secretsmanager_secret\" \"crash\" {\n  name_prefix = \"crash/\"\n}\n";
    let mut body = String::new();
    for (address, block) in [
        ("aws_iam_role.crash", role),
        ("aws_cloudwatch_log_group.crash", group),
        ("aws_ecr_repository.crash", repo),
        ("aws_secretsmanager_secret.crash", secret),
    ] {
        body.push_str(block);
        write(d, "main.tf", &format!("{}{body}", provider(&moto)));
        let (code, out) = infra(d, &["apply", "--auto-approve"], &[("INFRA_TEST_ABORT_AFTER_CREATE", address)]);
        assert_ne!(code, 0, "{address}: {out}");
        let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate.lock.info")).unwrap()).unwrap();
        assert_eq!(infra(d, &["force-unlock", lock["ID"].as_str().unwrap()], &[]).0, 0);
        let (code, out) = run(d, &["apply", "--auto-approve"]);
        assert_eq!(code, 0, "{address}: {out}");
        assert!(out.contains("0 added") || out.contains("No changes"), "{address} was adopted, not made again: {out}");
        assert_eq!(run(d, &["plan", "--detailed-exitcode"]).0, 0, "{address}");
    }
    let roles = iam(&moto, &[("Action", "ListRoles")]);
    assert_eq!(roles.matches("<RoleName>crash-").count(), 1, "{roles}");
    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/crash/"}));
    assert_eq!(groups["logGroups"].as_array().map(Vec::len), Some(1), "{groups}");
    let secrets = json_api(&moto, "secretsmanager", "secretsmanager.ListSecrets", serde_json::json!({}));
    assert_eq!(secrets["SecretList"].as_array().map(Vec::len), Some(1), "{secrets}");
    let (_, list) = run(d, &["state", "list"]);
    assert_eq!(list.lines().count(), 4, "{list}");
}

/// `skip_destroy` keeps a log group in AWS when it leaves the state; `kms_key_id` is sent and
/// read back; `force_delete` deletes a repository that still holds an image, which AWS
/// otherwise refuses.
#[test]
fn skip_destroy_keeps_the_log_group_and_force_delete_takes_the_images() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let group =
        format!("resource \"aws_cloudwatch_log_group\" \"kept\" {{\n  name         = \"/kept\"\n  kms_key_id   = \"{key}\"\n  skip_destroy = true\n}}\n");
    let stack = |force: bool, group: &str| {
        format!("{}\n{group}\nresource \"aws_ecr_repository\" \"full\" {{\n  name         = \"full\"\n  force_delete = {force}\n}}\n", provider(&moto))
    };
    write(d, "main.tf", &stack(false, &group));
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"]).0, 0);
    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/kept"}));
    assert_eq!(groups["logGroups"][0]["kmsKeyId"], key, "{groups}");
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, "layers": []});
    let put = json_api(
        &moto,
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.PutImage",
        serde_json::json!({"repositoryName": "full", "imageManifest": manifest.to_string(), "imageTag": "v1"}),
    );
    assert!(put["image"].is_object(), "{put}");

    // Without force_delete, AWS refuses to delete a repository that holds images (the log
    // group, skip_destroy, leaves the state and stays in AWS).
    let (code, out) = run(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DeleteRepository failed"), "{out}");
    write(d, "main.tf", &stack(true, ""));
    let (code, out) = run(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let repos = json_api(&moto, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", serde_json::json!({}));
    assert_eq!(repos["repositories"], serde_json::json!([]), "{repos}");
    // The log group left the state but not AWS.
    let (_, list) = run(d, &["state", "list"]);
    assert_eq!(list.trim(), "", "{list}");
    let groups = json_api(&moto, "logs", "Logs_20140328.DescribeLogGroups", serde_json::json!({"logGroupNamePrefix": "/kept"}));
    assert_eq!(groups["logGroups"].as_array().map(Vec::len), Some(1), "{groups}");
}
