//! A real consumer of infra's JSON plan: checkov, run on `infra show --json` of saved plans
//! (made against moto), finds the same misconfigurations, by check ID and resource address,
//! as it finds in Terraform's JSON. Terraform is not installed here, so the expected IDs are
//! the ones checkov's own checks name for these misconfigurations.

use infra_test_harness::checkov::failed_checks;
use infra_test_harness::moto::*;
use std::path::Path;

/// `infra plan --out p.plan` then `infra show --json p.plan` into `plan.json`; its path.
fn plan_json(dir: &Path, vars: &[&str]) -> std::path::PathBuf {
    let mut args = vec!["plan", "--out", "p.plan"];
    args.extend_from_slice(vars);
    // The bdd-bot secrets' values, from the environment as a user gives them.
    let mut env = aws_env();
    env.extend([("INFRA_VAR_jwt_secret", "test-jwt"), ("INFRA_VAR_openai_api_key", "test-key")]);
    let (code, out) = infra(dir, &args, &env);
    assert_eq!(code, 0, "{out}");
    let bin = infra_test_harness::infra_bin();
    let shown = std::process::Command::new(bin).args(["show", "--json", "p.plan"]).current_dir(dir).output().unwrap();
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let path = dir.join("plan.json");
    std::fs::write(&path, &shown.stdout).unwrap();
    path
}

fn has(failed: &[(String, String)], id: &str, addr: &str) -> bool {
    failed.iter().any(|(i, a)| i == id && a == addr)
}

#[test]
fn checkov_finds_ssh_open_to_the_world_and_an_unencrypted_efs_in_infras_json_plan() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let stack = format!(
        r#"provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  endpoints {{
    ec2 = "{url}"
    efs = "{url}"
  }}
}}
resource "aws_vpc" "main" {{
  cidr_block = "10.0.0.0/16"
}}
resource "aws_security_group" "ssh" {{
  name        = "ssh"
  description = "ssh from anywhere"
  vpc_id      = aws_vpc.main.id
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
resource "aws_security_group" "https" {{
  name        = "https"
  description = "https from the vpc"
  vpc_id      = aws_vpc.main.id
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }}
}}
resource "aws_efs_file_system" "data" {{
  creation_token = "data"
  encrypted      = false
}}
"#,
        url = moto.url
    );
    std::fs::write(dir.path().join("main.tf"), stack).unwrap();
    let failed = failed_checks(&plan_json(dir.path(), &[]));
    // CKV_AWS_24: "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22".
    assert!(has(&failed, "CKV_AWS_24", "aws_security_group.ssh"), "{failed:?}");
    assert!(!has(&failed, "CKV_AWS_24", "aws_security_group.https"), "{failed:?}");
    // CKV_AWS_42: "Ensure EFS is securely encrypted".
    assert!(has(&failed, "CKV_AWS_42", "aws_efs_file_system.data"), "{failed:?}");
}

#[test]
fn checkov_reads_the_bdd_bot_plan_and_flags_its_public_http_front() {
    let moto = start_moto();
    let dir = example("bdd-bot");
    let endpoint = format!("aws_endpoint={}", moto.url);
    let failed = failed_checks(&plan_json(dir.path(), &["--var", &endpoint]));
    // The load balancer serves plain HTTP to the world without a certificate:
    // CKV_AWS_260 "Ensure no security groups allow ingress from 0.0.0.0:0 to port 80" and
    // CKV_AWS_2 "Ensure ALB protocol is HTTPS"; public subnets map public IPs (CKV_AWS_130).
    assert!(has(&failed, "CKV_AWS_260", "aws_security_group.alb"), "{failed:?}");
    assert!(has(&failed, "CKV_AWS_2", "aws_lb_listener.http"), "{failed:?}");
    assert!(has(&failed, "CKV_AWS_130", "aws_subnet.public[0]"), "{failed:?}");
    // No SSH is open and the EFS file system is encrypted.
    assert!(!failed.iter().any(|(id, _)| id == "CKV_AWS_24" || id == "CKV_AWS_42"), "{failed:?}");
}
