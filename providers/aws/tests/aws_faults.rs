//! Crash and fault safety against a real moto server, through the fault proxy
//! (`tests/fault-proxy`): an apply killed at an exact step of a multi-step create (the proxy
//! holds that one call), then a `plan` through a proxy that refuses every mutating call (plan
//! never writes, even while it finds what the killed run left), then an apply that converges,
//! an empty plan, and a destroy that leaves nothing.

use infra_test_harness::faults::start_proxy;
use infra_test_harness::infra_bin;
use infra_test_harness::moto::{infra, provider_block, start_moto, Moto};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const STACK: &str = r#"
resource "aws_vpc" "main" {
  cidr_block = "10.9.0.0/16"
}

resource "aws_subnet" "public" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.9.1.0/24"
  map_public_ip_on_launch = true
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

fn write_stack(d: &Path, moto: &Moto, endpoint: &str) {
    std::fs::write(d.join("main.tf"), format!("{}{STACK}", provider_block(moto).replace(&moto.url, endpoint))).unwrap();
}

fn count(moto: &Moto, action: &str, needle: &str) -> usize {
    moto.ec2(&[("Action", action)]).matches(needle).count()
}

/// Kills an apply while the proxy holds `op` (`--hang-on`: before AWS acts; `--hang-after`:
/// after), then checks that plan only reads and that the next apply converges.
fn killed_at(mode: &str, op: &str, adopted: &str) {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let held = start_proxy(&moto.url, &[mode, op]);
    write_stack(d, &moto, &held.url);
    let mut apply = Command::new(infra_bin())
        .args(["apply", "--auto-approve"])
        .current_dir(d)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let fault = if mode == "--hang-on" { "hang" } else { "hang-after" };
    let reached = held.wait_for(fault, Duration::from_secs(120));
    let _ = apply.kill(); // SIGKILL: a CI runner that dies
    let _ = apply.wait();
    assert!(reached, "{op} was never called: {:?}", held.calls());
    drop(held);
    let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate.lock.info")).unwrap()).unwrap();
    assert_eq!(infra(d, &["force-unlock", lock["ID"].as_str().unwrap()], &[]).0, 0);

    // Planning finds the half-made object and shows what completing it takes, writing nothing.
    let read_only = start_proxy(&moto.url, &["--forbid-mutating"]);
    write_stack(d, &moto, &read_only.url);
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(read_only.faulted("forbidden"), Vec::<String>::new(), "plan sent mutating calls (killed at {mode} {op}):\n{out}");
    assert_eq!(code, 2, "killed at {mode} {op}:\n{out}");
    assert!(out.contains(&format!("# {adopted} was created by an interrupted run")), "killed at {mode} {op}:\n{out}");
    drop(read_only);

    write_stack(d, &moto, &moto.url);
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "killed at {mode} {op}:\n{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "killed at {mode} {op}: the stack did not converge:\n{out}");
    assert_eq!(count(&moto, "DescribeVpcs", "<cidrBlock>10.9.0.0/16</cidrBlock><cidrBlockState>"), 1, "one VPC (killed at {mode} {op})");
    assert_eq!(count(&moto, "DescribeInternetGateways", "<internetGatewayId>"), 1, "one gateway (killed at {mode} {op})");
    assert_eq!(count(&moto, "DescribeSecurityGroups", "<groupName>web</groupName>"), 1, "one security group (killed at {mode} {op})");
    let groups = moto.ec2(&[("Action", "DescribeSecurityGroups"), ("Filter.1.Name", "group-name"), ("Filter.1.Value.1", "web")]);
    assert!(groups.contains("<fromPort>80</fromPort>") && groups.contains("<fromPort>443</fromPort>"), "both rules (killed at {mode} {op}): {groups}");
    let attached = moto.ec2(&[("Action", "DescribeInternetGateways")]);
    assert!(attached.contains("<state>available</state>"), "the gateway is attached (killed at {mode} {op}): {attached}");

    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "killed at {mode} {op}:\n{out}");
    assert_eq!(count(&moto, "DescribeVpcs", "<cidrBlock>10.9.0.0/16</cidrBlock><cidrBlockState>"), 0, "nothing left (killed at {mode} {op})");
    assert_eq!(count(&moto, "DescribeInternetGateways", "<internetGatewayId>"), 0, "nothing left (killed at {mode} {op})");
}

#[test]
fn an_apply_killed_inside_a_multi_step_create_converges_and_plan_never_writes() {
    for (mode, op, adopted) in [
        ("--hang-after", "CreateSecurityGroup", "aws_security_group.web"),
        ("--hang-on", "AuthorizeSecurityGroupIngress", "aws_security_group.web"),
        ("--hang-on", "AttachInternetGateway", "aws_internet_gateway.gw"),
        ("--hang-on", "ModifySubnetAttribute", "aws_subnet.public"),
        ("--hang-on", "CreateRoute", "aws_route_table.public"),
        ("--hang-after", "CreateRoute", "aws_route_table.public"),
    ] {
        killed_at(mode, op, adopted);
    }
}

/// An apply and a destroy through a proxy that injects `faults`: both succeed, the stack
/// converges (empty plan), nothing is made twice and nothing is left.
fn through_faults(faults: &[&str], expect_fault: &str) {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let proxy = start_proxy(&moto.url, faults);
    write_stack(d, &moto, &proxy.url);
    // The harness's provider block turns retries off for speed; here they are the point.
    let stack = std::fs::read_to_string(d.join("main.tf")).unwrap().replace("max_retries                 = 0", "max_retries                 = 9");
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "apply through {faults:?}:\n{out}");
    assert!(!proxy.faulted(expect_fault).is_empty(), "the proxy injected no {expect_fault}: {:?}", proxy.calls());
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "through {faults:?}: the stack did not converge:\n{out}");
    assert_eq!(count(&moto, "DescribeVpcs", "<cidrBlock>10.9.0.0/16</cidrBlock><cidrBlockState>"), 1, "one VPC through {faults:?}");
    assert_eq!(count(&moto, "DescribeSubnets", "<cidrBlock>10.9.1.0/24</cidrBlock>"), 1, "one subnet through {faults:?}");
    assert_eq!(count(&moto, "DescribeInternetGateways", "<internetGatewayId>"), 1, "one gateway through {faults:?}");
    assert_eq!(count(&moto, "DescribeSecurityGroups", "<groupName>web</groupName>"), 1, "one security group through {faults:?}");
    let groups = moto.ec2(&[("Action", "DescribeSecurityGroups"), ("Filter.1.Name", "group-name"), ("Filter.1.Value.1", "web")]);
    assert!(groups.contains("<fromPort>80</fromPort>") && groups.contains("<fromPort>443</fromPort>"), "both rules through {faults:?}: {groups}");
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "destroy through {faults:?}:\n{out}");
    assert_eq!(count(&moto, "DescribeVpcs", "<cidrBlock>10.9.0.0/16</cidrBlock><cidrBlockState>"), 0, "nothing left through {faults:?}");
    assert_eq!(count(&moto, "DescribeInternetGateways", "<internetGatewayId>"), 0, "nothing left through {faults:?}");
    assert_eq!(count(&moto, "DescribeSecurityGroups", "<groupName>web</groupName>"), 0, "nothing left through {faults:?}");
}

#[test]
fn lost_answers_make_nothing_twice() {
    // Half the mutating answers are lost after moto acted: each create is found by its token,
    // each step sent again finds its work done.
    through_faults(&["--lose", "0.5", "--only-mutating", "--seed", "11"], "lost");
    through_faults(&["--lose", "0.3", "--seed", "7"], "lost");
}

#[test]
fn throttling_resets_and_gateway_pages_are_retried_to_the_end() {
    through_faults(&["--throttle", "0.3", "--seed", "3"], "throttle");
    through_faults(&["--garbage", "0.2", "--reset", "0.1", "--seed", "5"], "garbage");
}
