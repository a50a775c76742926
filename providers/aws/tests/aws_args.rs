//! Issue 15 point 0 on moto: the arguments terraform-provider-aws 5.100 accepts, type by type
//! (only whole types here, see `aws_schema.rs` for the list), each with the request it makes
//! on create and on update, and a second plan that is empty where moto keeps what was sent.
//! Where moto accepts an argument but keeps nothing of it (capacity reservations, IPAM pools,
//! private link enforcement), the test reads the request body moto's recorder kept.

use infra_test_harness::moto::*;
use std::path::Path;

fn provider(moto: &Moto) -> String {
    let url = &moto.url;
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    ec2   = \"{url}\"\n    elbv2 = \"{url}\"\n    ecs   = \"{url}\"\n    efs   = \"{url}\"\n  }}\n}}\n"
    )
}

const NETWORK: &str = r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_security_group" "lb" {
  name   = "lb"
  vpc_id = aws_vpc.main.id
}
"#;

fn write(d: &Path, moto: &Moto, body: &str) {
    std::fs::write(d.join("main.tf"), format!("{}{NETWORK}{body}", provider(moto))).unwrap();
}

fn apply(d: &Path) {
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
}

fn empty_plan(d: &Path) {
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "a plan after apply is empty:\n{out}");
}

fn state(d: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(d.join("infra.tfstate")).unwrap()).unwrap()
}

fn attrs_of(d: &Path, ty: &str, name: &str) -> serde_json::Value {
    let s = state(d);
    let r = s["resources"].as_array().unwrap().iter().find(|r| r["type"] == ty && r["name"] == name).cloned();
    r.unwrap_or_else(|| panic!("no {ty}.{name} in {s}"))["instances"][0]["attributes"].clone()
}

/// The attributes moto holds for a load balancer, by key.
fn lb_attributes(moto: &Moto, arn: &str) -> std::collections::BTreeMap<String, String> {
    let xml = moto.elbv2(&[("Action", "DescribeLoadBalancerAttributes"), ("LoadBalancerArn", arn)]);
    let re = regex::Regex::new(
        r"(?s)<member>\s*<Key>([^<]*)</Key>\s*<Value>([^<]*)</Value>\s*</member>|(?s)<member>\s*<Value>([^<]*)</Value>\s*<Key>([^<]*)</Key>\s*</member>",
    )
    .unwrap();
    re.captures_iter(&xml)
        .map(|c| match (c.get(1), c.get(2), c.get(3), c.get(4)) {
            (Some(k), Some(v), _, _) => (k.as_str().to_string(), v.as_str().to_string()),
            (_, _, Some(v), Some(k)) => (k.as_str().to_string(), v.as_str().to_string()),
            _ => unreachable!(),
        })
        .collect()
}

const ALB: &str = r#"
resource "aws_lb" "web" {
  name               = "web"
  load_balancer_type = "application"
  security_groups    = [aws_security_group.lb.id]
  subnets            = [aws_subnet.a.id, aws_subnet.b.id]

  idle_timeout                                = IDLE
  enable_http2                                = false
  client_keep_alive                           = 600
  desync_mitigation_mode                      = "strictest"
  drop_invalid_header_fields                  = true
  enable_tls_version_and_cipher_suite_headers = true
  enable_waf_fail_open                        = true
  enable_xff_client_port                      = true
  preserve_host_header                        = true
  xff_header_processing_mode                  = "preserve"
  enable_zonal_shift                          = true

  access_logs {
    bucket  = "logs"
    prefix  = "web"
    enabled = true
  }

  connection_logs {
    bucket = "conn-logs"
  }

  timeouts {
    create = "5m"
    delete = "7m"
  }
}

resource "aws_lb" "net" {
  name_prefix                      = "net-"
  load_balancer_type               = "network"
  internal                         = true
  dns_record_client_routing_policy = "availability_zone_affinity"
  enable_cross_zone_load_balancing = true

  subnet_mapping {
    subnet_id = aws_subnet.a.id
  }
}
"#;

#[test]
fn aws_lb_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &ALB.replace("IDLE", "120"));
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "every argument of the reference is accepted: {out}");
    apply(d);
    empty_plan(d);

    let web = attrs_of(d, "aws_lb", "web");
    let arn = web["arn"].as_str().unwrap().to_string();
    let a = lb_attributes(&moto, &arn);
    for (k, v) in [
        ("idle_timeout.timeout_seconds", "120"),
        ("routing.http2.enabled", "false"),
        ("client_keep_alive.seconds", "600"),
        ("routing.http.desync_mitigation_mode", "strictest"),
        ("routing.http.drop_invalid_header_fields.enabled", "true"),
        ("routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "true"),
        ("waf.fail_open.enabled", "true"),
        ("routing.http.xff_client_port.enabled", "true"),
        ("routing.http.preserve_host_header.enabled", "true"),
        ("routing.http.xff_header_processing.mode", "preserve"),
        ("zonal_shift.config.enabled", "true"),
        ("access_logs.s3.enabled", "true"),
        ("access_logs.s3.bucket", "logs"),
        ("access_logs.s3.prefix", "web"),
        ("connection_logs.s3.enabled", "false"),
        ("connection_logs.s3.bucket", "conn-logs"),
        ("deletion_protection.enabled", "false"),
    ] {
        assert_eq!(a.get(k).map(String::as_str), Some(v), "{k} in {a:?}");
    }
    // An application load balancer gets no network-only attribute.
    assert!(!a.contains_key("dns_record.client_routing_policy"), "{a:?}");
    assert_eq!(web["connection_logs"][0]["enabled"], false, "enabled defaults to false: {web}");
    assert_eq!(web["timeouts"]["create"], "5m", "timeouts are kept as configured: {web}");
    assert_eq!(web["enable_cross_zone_load_balancing"], serde_json::Value::Null, "{web}");

    let net = attrs_of(d, "aws_lb", "net");
    let name = net["name"].as_str().unwrap();
    assert!(name.starts_with("net-") && name.len() <= 32, "{net}");
    assert_eq!(net["name_prefix"], "net-");
    assert_eq!(net["subnet_mapping"].as_array().map(Vec::len), Some(1), "{net}");
    let n = lb_attributes(&moto, net["arn"].as_str().unwrap());
    assert_eq!(n.get("dns_record.client_routing_policy").map(String::as_str), Some("availability_zone_affinity"), "{n:?}");
    assert_eq!(n.get("load_balancing.cross_zone.enabled").map(String::as_str), Some("true"), "{n:?}");
    assert!(!n.contains_key("idle_timeout.timeout_seconds"), "a network load balancer gets no application attribute: {n:?}");
    let creates = moto.query_requests("CreateLoadBalancer");
    let create = creates.iter().find(|r| r.get("Type").is_some_and(|t| t == "network")).unwrap_or_else(|| panic!("{creates:?}"));
    assert!(create.get("SubnetMappings.member.1.SubnetId").is_some_and(|s| s.starts_with("subnet-")), "{create:?}");
    assert!(!create.contains_key("Subnets.member.1"), "subnet_mapping is sent instead of subnets: {create:?}");

    // An update changes only what changed, in place.
    write(d, &moto, &ALB.replace("IDLE", "30"));
    let before = moto.query_requests("ModifyLoadBalancerAttributes").len();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let mods = moto.query_requests("ModifyLoadBalancerAttributes");
    assert_eq!(mods.len(), before + 1, "{mods:?}");
    let last = mods.last().unwrap();
    assert_eq!(last.get("Attributes.member.1.Key").map(String::as_str), Some("idle_timeout.timeout_seconds"), "{last:?}");
    assert_eq!(last.get("Attributes.member.1.Value").map(String::as_str), Some("30"), "{last:?}");
    assert!(!last.contains_key("Attributes.member.2.Key"), "only the changed attribute is sent: {last:?}");
    empty_plan(d);
}

/// Arguments moto accepts but keeps nothing of: the requests carry them as AWS expects.
#[test]
fn aws_lb_ipam_pools_private_link_enforcement_and_capacity_are_sent_as_aws_expects() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = r#"
resource "aws_lb" "net" {
  name                     = "net"
  load_balancer_type       = "network"
  subnets                  = [aws_subnet.a.id]
  security_groups          = [aws_security_group.lb.id]
  customer_owned_ipv4_pool = "ipv4pool-coip-0123456789abcdef0"

  enforce_security_group_inbound_rules_on_private_link_traffic = "off"

  ipam_pools {
    ipv4_ipam_pool_id = "ipam-pool-0123456789abcdef0"
  }
  CAPACITY
}
"#;
    let cap = "\nresource \"aws_lb\" \"cap\" {\n  name    = \"cap\"\n  subnets = [aws_subnet.a.id, aws_subnet.b.id]\n\n  minimum_load_balancer_capacity {\n    capacity_units = 1000\n  }\n}\n";
    write(d, &moto, &format!("{}{cap}", body.replace("CAPACITY", "")));
    // moto keeps neither the pool nor the enforcement (so the read back differs from the
    // plan) and has no ModifyCapacityReservation (it answers 500): the requests still go out
    // as AWS expects them, and each gap is reported on its resource.
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ModifyCapacityReservation failed") && out.contains("in aws_lb.cap"), "{out}");
    assert!(out.contains("inconsistent result after apply") && out.contains("in aws_lb.net"), "{out}");
    let creates = moto.query_requests("CreateLoadBalancer");
    let create = creates.iter().find(|r| r.get("Name").is_some_and(|n| n == "net")).unwrap_or_else(|| panic!("{creates:?}"));
    assert_eq!(create.get("IpamPools.Ipv4IpamPoolId").map(String::as_str), Some("ipam-pool-0123456789abcdef0"), "{create:?}");
    assert_eq!(create.get("CustomerOwnedIpv4Pool").map(String::as_str), Some("ipv4pool-coip-0123456789abcdef0"), "{create:?}");
    let sg = moto.query_requests("SetSecurityGroups").pop().unwrap_or_default();
    assert_eq!(sg.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic").map(String::as_str), Some("off"), "{sg:?}");
    assert!(sg.get("SecurityGroups.member.1").is_some_and(|g| g.starts_with("sg-")), "{sg:?}");
    let cap = moto.query_requests("ModifyCapacityReservation").pop().unwrap_or_default();
    assert_eq!(cap.get("MinimumLoadBalancerCapacity.CapacityUnits").map(String::as_str), Some("1000"), "{cap:?}");
    assert!(cap.get("LoadBalancerArn").is_some_and(|a| a.contains(":loadbalancer/app/cap/")), "{cap:?}");
}

#[test]
fn a_timeout_that_is_no_duration_is_refused_before_any_call() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, "\nresource \"aws_lb\" \"x\" {\n  subnets = [aws_subnet.a.id]\n\n  timeouts {\n    create = \"ten minutes\"\n  }\n}\n");
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Invalid timeout") && out.contains("timeouts.create = \"ten minutes\" is not a duration"), "{out}");
    assert!(out.contains("create = \"ten minutes\""), "the diagnostic shows the line at fault: {out}");
}

/// Routes to every destination kind terraform-provider-aws has (IPv4, IPv6, a prefix list),
/// standalone and inline, with the newer targets (egress-only gateway, transit gateway, VPC
/// endpoint) sent under AWS's names; a route table's propagating gateways; timeouts accepted.
/// After apply the plan is empty and destroy removes the routes by their own destination kind.
#[test]
fn routes_of_every_destination_kind_and_target_reach_the_api_and_plan_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = r#"
resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id

  timeouts {
    create = "5m"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }

  route {
    ipv6_cidr_block = "::/0"
    gateway_id      = aws_internet_gateway.gw.id
  }

  timeouts {
    update = "3m"
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "v6" {
  route_table_id              = aws_route_table.private.id
  destination_ipv6_cidr_block = "2600:1f00::/40"
  gateway_id                  = aws_internet_gateway.gw.id
}

resource "aws_route" "v4" {
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "192.168.0.0/16"
  gateway_id             = aws_internet_gateway.gw.id

  timeouts {
    create = "2m"
  }
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.public.id

  timeouts {
    create = "5m"
  }
}
"#;
    write(d, &moto, stack);
    apply(d);
    empty_plan(d);
    let v6 = attrs_of(d, "aws_route", "v6");
    let table = v6["route_table_id"].as_str().unwrap().to_string();
    assert_eq!(v6["id"], format!("{table}_2600:1f00::/40"));
    assert!(v6["destination_cidr_block"].is_null(), "{v6}");
    let creates = moto.query_requests("CreateRoute");
    let sent = creates.iter().find(|r| r.get("DestinationIpv6CidrBlock").is_some_and(|c| c == "2600:1f00::/40")).unwrap_or_else(|| panic!("{creates:?}"));
    assert!(sent.get("DestinationCidrBlock").is_none(), "{sent:?}");
    let public = attrs_of(d, "aws_route_table", "public");
    let routes = public["route"].as_array().unwrap();
    assert_eq!(routes.len(), 2, "{public}");
    assert!(routes.iter().any(|r| r["ipv6_cidr_block"] == "::/0"), "{public}");
    assert_eq!(public["propagating_vgws"], serde_json::json!([]));
    // The newer targets and a prefix list destination go out under AWS's names (moto keeps
    // transit gateway and endpoint routes only for objects it has: the request is what counts).
    let more = "\nresource \"aws_route\" \"pl\" {\n  route_table_id             = aws_route_table.private.id\n  destination_prefix_list_id = \"pl-0123456789abcdef0\"\n  transit_gateway_id         = \"tgw-0123456789abcdef0\"\n}\n\nresource \"aws_route\" \"eo\" {\n  route_table_id              = aws_route_table.private.id\n  destination_ipv6_cidr_block = \"2600:1f01::/40\"\n  egress_only_gateway_id      = \"eigw-0123456789abcdef0\"\n}\n";
    write(d, &moto, &format!("{stack}{more}"));
    let (_code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    let creates = moto.query_requests("CreateRoute");
    let pl = creates.iter().find(|r| r.get("DestinationPrefixListId").is_some()).unwrap_or_else(|| panic!("{out}\n{creates:?}"));
    assert_eq!(pl.get("DestinationPrefixListId").map(String::as_str), Some("pl-0123456789abcdef0"));
    assert_eq!(pl.get("TransitGatewayId").map(String::as_str), Some("tgw-0123456789abcdef0"));
    let eo = creates.iter().find(|r| r.get("DestinationIpv6CidrBlock").is_some_and(|c| c == "2600:1f01::/40")).unwrap_or_else(|| panic!("{out}\n{creates:?}"));
    assert_eq!(eo.get("EgressOnlyInternetGatewayId").map(String::as_str), Some("eigw-0123456789abcdef0"));
    // Two destinations, or none, are refused before any call.
    write(d, &moto, &format!("{stack}\nresource \"aws_route\" \"bad\" {{\n  route_table_id              = aws_route_table.private.id\n  destination_cidr_block      = \"10.9.0.0/16\"\n  destination_ipv6_cidr_block = \"2600:1f02::/40\"\n  gateway_id                  = aws_internet_gateway.gw.id\n}}\n"));
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("A route needs exactly one of destination_cidr_block, destination_ipv6_cidr_block and destination_prefix_list_id, not destination_cidr_block and destination_ipv6_cidr_block."), "{out}");
    write(d, &moto, stack);
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let deletes = moto.query_requests("DeleteRoute");
    assert!(deletes.iter().any(|r| r.get("DestinationIpv6CidrBlock").is_some_and(|c| c == "2600:1f00::/40")), "{deletes:?}");
}
