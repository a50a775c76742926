//! Issue 15 point 2: provider defaults never diff. One case per supported type in
//! `data/defaults/<type>.tf`: a minimal configuration written as a Terraform user writes it
//! (arguments with documented or API-filled defaults left out), applied to moto, then a plan
//! that must be empty (`--detailed-exitcode` 0). One moto server for every case (each case
//! makes its own objects with its own names and CIDRs), four cases at a time.

use infra_test_harness::moto::*;
use std::path::PathBuf;

fn provider(moto: &Moto) -> String {
    let url = &moto.url;
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    ec2            = \"{url}\"\n    elbv2          = \"{url}\"\n    ecs            = \"{url}\"\n    efs            = \"{url}\"\n    iam            = \"{url}\"\n    logs           = \"{url}\"\n    ecr            = \"{url}\"\n    secretsmanager = \"{url}\"\n    cloudwatch = \"{url}\"\n    applicationautoscaling = \"{url}\"\n    elasticache = \"{url}\"\n  }}\n}}\n\n"
    )
}

fn cases() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/defaults");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tf")).collect();
    v.sort();
    v
}

/// Types moto cannot make, with the failure it answers: `aws_efs_backup_policy` (moto has no
/// `PutBackupPolicy`; it answers 500), `aws_elasticache_parameter_group` (no parameter group
/// calls at all in moto 5.2.5). Their case must fail exactly so, until moto has them.
const MOTO_LACKS: &[(&str, &str)] =
    &[("aws_efs_backup_policy", "PutBackupPolicy failed: HTTP 500"), ("aws_elasticache_parameter_group", "CacheParameterGroup failed: HTTP 500")];

/// Applies one case and plans again: `None` when the plan is empty, else what went wrong.
fn run(moto: &Moto, case: &PathBuf) -> Option<String> {
    let name = case.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = std::fs::read_to_string(case).unwrap();
    std::fs::write(d.join("main.tf"), format!("{}{body}", provider(moto))).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    if let Some((_, gap)) = MOTO_LACKS.iter().find(|(t, _)| *t == name) {
        return (code == 0 || !out.contains(gap)).then(|| format!("moto was expected to lack this type ({gap}):\n{out}"));
    }
    if code != 0 {
        return Some(format!("apply failed ({code}):\n{out}"));
    }
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    (code != 0).then(|| format!("the plan after apply is not empty ({code}):\n{out}"))
}

#[test]
fn every_supported_type_plans_empty_after_a_minimal_apply() {
    let cases = cases();
    let names: Vec<String> = cases.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    // Every supported type has its case (the table of the provider lists 35).
    let schema = {
        let dir = tempfile::tempdir().unwrap();
        let (code, out) = infra(dir.path(), &["providers", "schema", "--json"], &[]);
        assert_eq!(code, 0, "{out}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let types: Vec<String> =
        schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(names, types, "one case per supported type");

    let moto = start_moto();
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                if let Some(why) = run(&moto, case) {
                    failures.lock().unwrap().push(format!("{}: {why}", names[i]));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} types diff after a minimal apply:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
