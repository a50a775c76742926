//! `infra drift` on `examples/bdd-bot` against a real moto server: after apply there is no
//! drift; changes made by hand (a renamed tag, SSH opened on the load balancer's group, a
//! service scaled, a mount target deleted, a security group and an instance made in the
//! managed VPC) are each named with the right kind and attribute paths, exit 2; ignore rules
//! hide exactly what they say; apply restores the managed drift; once the stray objects are
//! gone, exit 0. The API calls of a drift run are counted from moto's request log.

use infra_test_harness::moto::*;
use std::path::Path;
use std::process::Command;

fn vars(moto: &Moto) -> Vec<String> {
    ["aws_endpoint=".to_string() + &moto.url, "backup_policy=false".into(), "deletion_protection=false".into()]
        .into_iter()
        .flat_map(|v| ["--var".to_string(), v])
        .collect()
}

/// Runs infra; stdout and stderr apart (the JSON report is on stdout).
fn run(d: &Path, args: &[&str], vars: &[String]) -> (i32, String, String) {
    let mut c = Command::new(infra_test_harness::infra_bin());
    c.args(args).args(vars).current_dir(d).env("NO_COLOR", "1").env_remove("AWS_PROFILE");
    for (k, v) in aws_env() {
        c.env(k, v);
    }
    // The bdd-bot secrets' values, from the environment as a user gives them.
    c.env("INFRA_VAR_jwt_secret", "test-jwt").env("INFRA_VAR_openai_api_key", "test-key");
    // moto has no tagging API for Application Auto Scaling: the stack's default tags are off.
    c.env("INFRA_VAR_default_tags", "{}");
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn drift(d: &Path, vars: &[String], extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["drift", "--json"];
    args.extend(extra);
    let (code, out, err) = run(d, &args, vars);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: exit {code}\n{out}\n{err}"));
    (code, doc)
}

fn state_id(d: &Path, addr_type: &str, name: &str, index: Option<usize>) -> String {
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate")).unwrap()).unwrap();
    let r = s["resources"].as_array().unwrap().iter().find(|r| r["type"] == addr_type && r["name"] == name).unwrap_or_else(|| panic!("{addr_type}.{name}"));
    let inst = &r["instances"][index.unwrap_or(0)];
    let attrs = if inst["attributes"].is_string() { serde_json::from_str(inst["attributes"].as_str().unwrap()).unwrap() } else { inst["attributes"].clone() };
    attrs["id"].as_str().unwrap().to_string()
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no {tag} in {xml}")) + open.len();
    xml[start..].split('<').next().unwrap().to_string()
}

/// The findings as `kind address-or-type [paths]` lines, sorted.
fn summary(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let who =
                f["address"].as_str().map(str::to_string).unwrap_or_else(|| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap_or("")));
            let mut paths: Vec<&str> = f["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
            paths.dedup();
            format!("{} {} {}", f["kind"].as_str().unwrap(), who.trim(), paths.join(","))
        })
        .map(|s| s.trim().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn bdd_bot_drift_names_what_changed_by_hand_ignore_rules_hide_it_and_apply_restores_it() {
    let moto = start_moto();
    let dir = infra_test_harness::example("bdd-bot");
    let d = dir.path();
    let base = vars(&moto);
    let (code, out, err) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}{err}");

    // Right after apply: no drift, and no noise from normalization or AWS's own objects.
    let before = moto.requests();
    let (code, doc) = drift(d, &base, &[]);
    let clean_calls = moto.requests() - before;
    assert_eq!((code, &doc["drift"]), (0, &serde_json::json!(false)), "{doc:#}");
    assert_eq!(doc["listings"], 8, "one listing per type in scope: {doc:#}");
    assert_eq!(doc["coverage"]["aws_security_group"], serde_json::json!({"managed": 3, "unmanaged": 0, "percent": 100.0}));
    eprintln!("drift run after apply: {clean_calls} API calls");
    // The region scope lists the types the stack uses; the default VPC's objects are AWS's.
    let (code, region) = drift(d, &base, &["--scope", "region"]);
    assert_eq!((code, &region["listings"]), (0, &serde_json::json!(8)), "{region:#}");

    // Out of band.
    let vpc = state_id(d, "aws_vpc", "main", None);
    let alb_sg = state_id(d, "aws_security_group", "alb", None);
    let private = state_id(d, "aws_subnet", "private", Some(0));
    let mt = state_id(d, "aws_efs_mount_target", "sqlite_storage", Some(0));
    moto.ec2(&[("Action", "CreateTags"), ("ResourceId.1", &vpc), ("Tag.1.Key", "Name"), ("Tag.1.Value", "renamed-by-hand")]);
    moto.ec2(&[
        ("Action", "AuthorizeSecurityGroupIngress"),
        ("GroupId", &alb_sg),
        ("IpPermissions.1.IpProtocol", "tcp"),
        ("IpPermissions.1.FromPort", "22"),
        ("IpPermissions.1.ToPort", "22"),
        ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
    ]);
    moto.ecs("UpdateService", serde_json::json!({"cluster": "bdd-bot-prod", "service": "bdd-bot-frontend", "desiredCount": 5}));
    moto.call("elasticfilesystem", "DELETE", &format!("/2015-02-01/mount-targets/{mt}"), &[], "");
    let sg = moto.ec2(&[("Action", "CreateSecurityGroup"), ("GroupName", "by-hand"), ("GroupDescription", "made by hand"), ("VpcId", &vpc)]);
    let stray_sg = xml_value(&sg, "groupId");
    let images = moto.ec2(&[("Action", "DescribeImages")]);
    let ami = xml_value(&images, "imageId");
    let run_out =
        moto.ec2(&[("Action", "RunInstances"), ("ImageId", &ami), ("MinCount", "1"), ("MaxCount", "1"), ("SubnetId", &private), ("InstanceType", "t3.micro")]);
    let stray_instance = xml_value(&run_out, "instanceId");

    let before = moto.requests();
    let (code, doc) = drift(d, &base, &[]);
    let drift_calls = moto.requests() - before;
    assert_eq!(code, 2, "{doc:#}");
    assert_eq!(
        summary(&doc),
        [
            "changed aws_ecs_service.frontend desired_count",
            "changed aws_security_group.alb ingress",
            "changed aws_vpc.main tags.Name",
            "missing aws_efs_mount_target.sqlite_storage[0]",
            "unmanaged aws_instance",
            "unmanaged aws_security_group by-hand",
        ],
        "{doc:#}"
    );
    let find = |kind: &str, key: &str| {
        doc["findings"].as_array().unwrap().iter().find(|f| f["kind"] == kind && (f["address"] == key || f["id"] == key)).cloned().unwrap()
    };
    let svc = find("changed", "aws_ecs_service.frontend");
    assert_eq!((&svc["changes"][0]["before"], &svc["changes"][0]["after"]), (&serde_json::json!(2), &serde_json::json!(5)));
    let ssh = &find("changed", "aws_security_group.alb")["changes"][0];
    assert_eq!((ssh["before_present"].as_bool(), ssh["after"]["from_port"].as_i64()), (Some(false), Some(22)), "{ssh}");
    let tag = &find("changed", "aws_vpc.main")["changes"][0];
    assert_eq!((&tag["before"], &tag["after"]), (&"bdd-bot-vpc".into(), &"renamed-by-hand".into()));
    assert_eq!(find("unmanaged", &stray_instance)["provider"], "aws");
    assert_eq!(find("unmanaged", &stray_sg)["name"], "by-hand");
    assert_eq!(doc["coverage"]["aws_security_group"], serde_json::json!({"managed": 3, "unmanaged": 1, "percent": 75.0}));
    eprintln!("drift run with drift: {drift_calls} API calls");

    // The default security group, the main route table: AWS's, shown only when asked.
    let (_, all) = drift(d, &base, &["--include-defaults"]);
    assert_eq!(all["summary"]["unmanaged"], doc["summary"]["unmanaged"].as_u64().unwrap() + 2, "{all:#}");

    // Ignore rules hide exactly what they say, with their reasons.
    std::fs::write(
        d.join(".infradriftignore"),
        "attribute aws_ecs_service.* desired_count # autoscaling owns the count\nunmanaged aws_instance i-* # the bastion is made by hand\n",
    )
    .unwrap();
    let (code, ignored) = drift(d, &base, &["--show-ignored"]);
    assert_eq!(code, 2);
    assert_eq!(ignored["summary"], serde_json::json!({"changed": 2, "missing": 1, "unmanaged": 1, "ignored": 2}), "{ignored:#}");
    let hidden: Vec<&serde_json::Value> = ignored["findings"].as_array().unwrap().iter().filter(|f| f["ignored_by"].is_object()).collect();
    assert_eq!(hidden.len(), 2, "{ignored:#}");
    assert!(hidden.iter().any(|f| f["ignored_by"]["reason"] == "autoscaling owns the count" && f["address"] == "aws_ecs_service.frontend"));
    assert!(hidden.iter().any(|f| f["ignored_by"]["reason"] == "the bastion is made by hand" && f["id"] == stray_instance.as_str()));
    let (_, md, _) = run(d, &["drift", "--markdown"], &base);
    assert!(md.contains("autoscaling owns the count") && md.contains("| `aws_security_group` | `") && md.contains("`tags.Name`"), "{md}");

    // apply puts the managed objects back; the unmanaged ones stay findings.
    let (code, out, err) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::remove_file(d.join(".infradriftignore")).unwrap();
    let (code, doc) = drift(d, &base, &[]);
    assert_eq!(code, 2);
    assert_eq!(summary(&doc), ["unmanaged aws_instance", "unmanaged aws_security_group by-hand"], "{doc:#}");

    // Once the stray objects are gone: exit 0.
    moto.ec2(&[("Action", "TerminateInstances"), ("InstanceId.1", &stray_instance)]);
    moto.ec2(&[("Action", "DeleteSecurityGroup"), ("GroupId", &stray_sg)]);
    let before = moto.requests();
    let (code, doc) = drift(d, &base, &[]);
    let drift_calls = moto.requests() - before;
    assert_eq!((code, &doc["drift"]), (0, &serde_json::json!(false)), "{doc:#}");

    // The cost: the refresh's batched calls plus one listing per type in scope (the mount
    // target listing is DescribeFileSystems plus one DescribeMountTargets per file system).
    let before = moto.requests();
    let (code, out, err) = run(d, &["plan", "--refresh-only"], &base);
    assert_eq!(code, 0, "{out}{err}");
    let refresh_calls = moto.requests() - before;
    eprintln!("drift: {drift_calls} API calls; refresh-only plan: {refresh_calls}; listings: {}", doc["listings"]);
    assert!(drift_calls <= refresh_calls + 9, "{drift_calls} > {refresh_calls} + 9");
}

/// The GitHub workflow's drift step (`examples/ci/github/drift.yml`), run as the workflow runs
/// it — its `run:` line with the matrix stack, its environment — against moto. GitHub itself
/// cannot run here, so `gh` is a recorder on PATH that keeps the one issue's number: the test
/// checks the exit codes, the report the step writes, and each call to GitHub.
#[test]
fn the_github_drift_workflow_opens_updates_and_closes_one_issue_per_stack() {
    let moto = start_moto();
    let dir = infra_test_harness::example("bdd-bot");
    let d = dir.path();
    let base = vars(&moto);
    let (code, out, err) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}{err}");

    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workflow = std::fs::read_to_string(repo.join("examples/ci/github/drift.yml")).unwrap();
    let step = workflow.lines().find_map(|l| l.trim().strip_prefix("run: examples/ci/drift.sh")).expect("the workflow's drift step");
    let work = tempfile::tempdir().unwrap();
    // The matrix names stacks by their directory, as `examples/bdd-bot`.
    let stack = work.path().join("bdd-bot");
    std::os::unix::fs::symlink(d, &stack).unwrap();
    let command = format!("examples/ci/drift.sh{}", step.replace("${{ matrix.stack }}", &stack.display().to_string()));
    let (shims, log, open) = (work.path().join("bin"), work.path().join("gh.log"), work.path().join("open-issue"));
    std::fs::create_dir(&shims).unwrap();
    let gh = "#!/bin/sh\necho \"$*\" >> \"$GH_LOG\"\ncase \"$1 $2\" in\n  \"issue list\") cat \"$GH_OPEN\" 2>/dev/null || true ;;\n  \"issue create\") echo 7 > \"$GH_OPEN\" ;;\n  \"issue close\") rm -f \"$GH_OPEN\" ;;\nesac\n";
    std::fs::write(shims.join("gh"), gh).unwrap();
    std::fs::set_permissions(shims.join("gh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let report = work.path().join("drift-report/drift.md");
    let step = |n: usize| -> (i32, String, Vec<String>) {
        let mut c = Command::new("bash");
        c.args(["-c", &command]).current_dir(&repo);
        c.env("PATH", format!("{}:{}", shims.display(), std::env::var("PATH").unwrap_or_default()));
        c.env("INFRA", infra_test_harness::infra_bin()).env("NO_COLOR", "1").env_remove("AWS_PROFILE");
        c.envs(aws_env()).env("GH_LOG", &log).env("GH_OPEN", &open).env("GH_TOKEN", "test");
        c.env("DRIFT_TRACKER", "github").env("DRIFT_OUT", work.path().join("drift-report")).env("DRIFT_RUN_URL", format!("https://ci.example/runs/{n}"));
        c.env("TF_VAR_aws_endpoint", &moto.url).env("TF_VAR_backup_policy", "false").env("TF_VAR_deletion_protection", "false");
        c.env("TF_VAR_jwt_secret", "test-jwt").env("TF_VAR_openai_api_key", "test-key");
        let out = c.output().unwrap();
        let calls = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect();
        let _ = std::fs::remove_file(&log);
        (
            out.status.code().unwrap_or(-1),
            std::fs::read_to_string(&report).unwrap_or_else(|e| format!("no report ({e}): {}", String::from_utf8_lossy(&out.stderr))),
            calls,
        )
    };
    let list = "issue list --state open --search \"Drift: bdd-bot\" in:title --json number,title --jq map(select(.title == \"Drift: bdd-bot\")) | .[0].number // empty";

    // Clean: exit 0, a report that says so, and GitHub only asked.
    let (code, md, calls) = step(1);
    assert_eq!(code, 0, "{md}");
    assert!(md.contains("**No drift:**") && md.contains("Run: https://ci.example/runs/1"), "{md}");
    assert_eq!(calls, [list]);

    // A tag renamed by hand: exit 2, the report names it, one issue is opened with it.
    let vpc = state_id(d, "aws_vpc", "main", None);
    moto.ec2(&[("Action", "CreateTags"), ("ResourceId.1", &vpc), ("Tag.1.Key", "Name"), ("Tag.1.Value", "renamed-by-hand")]);
    let (code, md, calls) = step(2);
    assert_eq!(code, 2, "{md}");
    assert!(md.contains("aws_vpc.main") && md.contains("renamed-by-hand"), "{md}");
    let body = format!("--body-file {}", report.display());
    assert_eq!(calls, [list.to_string(), format!("issue create --title Drift: bdd-bot {body}")]);

    // Drift lasts: the same issue's body is updated, no second issue.
    let (code, _, calls) = step(3);
    assert_eq!(code, 2);
    assert_eq!(calls, [list.to_string(), format!("issue edit 7 {body}")]);

    // apply puts it back: the issue is closed.
    let (code, out, err) = run(d, &["apply", "--auto-approve"], &base);
    assert_eq!(code, 0, "{out}{err}");
    let (code, md, calls) = step(4);
    assert_eq!(code, 0, "{md}");
    assert_eq!(calls, [list.to_string(), "issue close 7 --comment No drift any more. https://ci.example/runs/4".to_string()]);

    // A broken run (an endpoint that refuses connections) exits 1 and leaves the tracker alone.
    std::fs::write(&open, "7\n").unwrap();
    let (code, _, calls) = {
        let mut c = Command::new("bash");
        c.args(["-c", &command]).current_dir(&repo);
        c.env("PATH", format!("{}:{}", shims.display(), std::env::var("PATH").unwrap_or_default()));
        c.env("INFRA", infra_test_harness::infra_bin()).env("NO_COLOR", "1").envs(aws_env()).env("GH_LOG", &log).env("GH_OPEN", &open);
        c.env("DRIFT_TRACKER", "github").env("DRIFT_OUT", work.path().join("drift-report"));
        c.env("TF_VAR_aws_endpoint", "http://127.0.0.1:9").env("TF_VAR_backup_policy", "false").env("TF_VAR_deletion_protection", "false");
        let out = c.output().unwrap();
        (out.status.code().unwrap_or(-1), (), std::fs::read_to_string(&log).unwrap_or_default())
    };
    assert_eq!(code, 1);
    assert_eq!(calls, "", "an error never touches the issue");
    assert!(open.exists(), "the open issue stays open");
}

/// Discovery also lists types the stack does not use (hand-made objects of any type may sit in
/// a managed VPC). Credentials or endpoints that cannot list one of those make a warning, not a
/// failed drift run; a type the stack uses that cannot be listed stays an error.
#[test]
fn a_listing_of_a_type_the_stack_does_not_use_that_fails_is_a_warning() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |ec2: &str| {
        format!(
            "provider \"aws\" {{\n  region = \"us-east-1\"\n  access_key = \"test\"\n  secret_key = \"test\"\n  max_retries = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id = true\n  endpoints {{\n    ec2 = \"{ec2}\"\n    efs = \"http://127.0.0.1:9\"\n    ecs = \"http://127.0.0.1:9\"\n    elbv2 = \"http://127.0.0.1:9\"\n  }}\n}}\n\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.7.0.0/16\"\n}}\n"
        )
    };
    std::fs::write(d.join("main.tf"), stack(&moto.url)).unwrap();
    let (code, out, err) = run(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(d, &["drift"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("Warning:") && err.contains("Unmanaged aws_lb objects are not reported in this run."), "{out}{err}");
    assert!(out.contains("No drift"), "{out}{err}");
    // EC2 itself unreachable: the managed VPC cannot be read, which is an error.
    std::fs::write(d.join("main.tf"), stack("http://127.0.0.1:9")).unwrap();
    let (code, out, err) = run(d, &["drift"], &[]);
    assert_eq!(code, 1, "{out}{err}");
}
