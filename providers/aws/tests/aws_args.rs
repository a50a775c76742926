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

const TARGET_GROUPS: &str = r#"
resource "aws_lb_target_group" "web" {
  name_prefix                       = "web-"
  port                              = 80
  protocol                          = "HTTP"
  protocol_version                  = "HTTP2"
  vpc_id                            = aws_vpc.main.id
  deregistration_delay              = DELAY
  slow_start                        = 30
  load_balancing_algorithm_type     = "least_outstanding_requests"
  load_balancing_cross_zone_enabled = "true"

  health_check {
    path    = "/health"
    matcher = "200-299"
  }

  stickiness {
    type            = "lb_cookie"
    cookie_duration = COOKIE
  }

  target_group_health {
    dns_failover {
      minimum_healthy_targets_count = "2"
    }
    unhealthy_state_routing {
      minimum_healthy_targets_percentage = "50"
    }
  }
}

resource "aws_lb_target_group" "tcp" {
  name                   = "tcp"
  port                   = 80
  protocol               = "TCP"
  vpc_id                 = aws_vpc.main.id
  connection_termination = true
  preserve_client_ip     = "false"
  proxy_protocol_v2      = true

  target_health_state {
    enable_unhealthy_connection_termination = false
    unhealthy_draining_interval             = 60
  }
}

resource "aws_lb_target_group" "gwlb" {
  name     = "gwlb"
  port     = 6081
  protocol = "GENEVE"
  vpc_id   = aws_vpc.main.id

  health_check {
    port     = "80"
    protocol = "TCP"
  }

  target_failover {
    on_deregistration = "rebalance"
    on_unhealthy      = "rebalance"
  }
}

resource "aws_lb_target_group" "fn" {
  name                               = "fn"
  target_type                        = "lambda"
  lambda_multi_value_headers_enabled = true
}
"#;

/// The attributes moto holds for a target group, by key.
fn tg_attributes(moto: &Moto, arn: &str) -> std::collections::BTreeMap<String, String> {
    let xml = moto.elbv2(&[("Action", "DescribeTargetGroupAttributes"), ("TargetGroupArn", arn)]);
    let re = regex::Regex::new(r"(?s)<member>\s*<Key>([^<]*)</Key>\s*<Value>([^<]*)</Value>\s*</member>").unwrap();
    let mut out: std::collections::BTreeMap<String, String> = re.captures_iter(&xml).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    let swapped = regex::Regex::new(r"(?s)<member>\s*<Value>([^<]*)</Value>\s*<Key>([^<]*)</Key>\s*</member>").unwrap();
    out.extend(swapped.captures_iter(&xml).map(|c| (c[2].to_string(), c[1].to_string())));
    out
}

#[test]
fn aws_lb_target_group_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |delay: &str, cookie: &str| TARGET_GROUPS.replace("DELAY", delay).replace("COOKIE", cookie);
    write(d, &moto, &stack("45", "3600"));
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "every argument of the reference is accepted: {out}");
    apply(d);
    empty_plan(d);

    let web = attrs_of(d, "aws_lb_target_group", "web");
    let name = web["name"].as_str().unwrap();
    assert!(name.starts_with("web-") && name.len() <= 32, "{web}");
    assert_eq!(web["deregistration_delay"], "45", "a string, as in terraform-provider-aws: {web}");
    assert_eq!(web["stickiness"][0]["enabled"], true, "stickiness is on by default: {web}");
    assert_eq!(web["target_group_health"][0]["dns_failover"][0]["minimum_healthy_targets_percentage"], "off", "{web}");
    let a = tg_attributes(&moto, web["arn"].as_str().unwrap());
    for (k, v) in [
        ("deregistration_delay.timeout_seconds", "45"),
        ("slow_start.duration_seconds", "30"),
        ("load_balancing.algorithm.type", "least_outstanding_requests"),
        ("load_balancing.cross_zone.enabled", "true"),
        ("stickiness.enabled", "true"),
        ("stickiness.type", "lb_cookie"),
        ("stickiness.lb_cookie.duration_seconds", "3600"),
        ("target_group_health.dns_failover.minimum_healthy_targets.count", "2"),
        ("target_group_health.dns_failover.minimum_healthy_targets.percentage", "off"),
        ("target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"),
        ("target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "50"),
    ] {
        assert_eq!(a.get(k).map(String::as_str), Some(v), "{k} in {a:?}");
    }
    assert!(!a.contains_key("proxy_protocol_v2.enabled"), "an HTTP group gets no network-only attribute: {a:?}");
    let creates = moto.query_requests("CreateTargetGroup");
    let create = creates.iter().find(|r| r.get("Protocol").is_some_and(|p| p == "HTTP")).unwrap_or_else(|| panic!("{creates:?}"));
    assert_eq!(create.get("ProtocolVersion").map(String::as_str), Some("HTTP2"), "{create:?}");
    assert_eq!(create.get("HealthCheckPath").map(String::as_str), Some("/health"), "{create:?}");
    assert_eq!(create.get("Matcher.HttpCode").map(String::as_str), Some("200-299"), "{create:?}");

    let tcp = attrs_of(d, "aws_lb_target_group", "tcp");
    let t = tg_attributes(&moto, tcp["arn"].as_str().unwrap());
    for (k, v) in [
        ("deregistration_delay.connection_termination.enabled", "true"),
        ("preserve_client_ip.enabled", "false"),
        ("proxy_protocol_v2.enabled", "true"),
        ("target_health_state.unhealthy.connection_termination.enabled", "false"),
        ("target_health_state.unhealthy.draining_interval_seconds", "60"),
    ] {
        assert_eq!(t.get(k).map(String::as_str), Some(v), "{k} in {t:?}");
    }
    assert!(!t.contains_key("slow_start.duration_seconds") || t["slow_start.duration_seconds"] == "0", "no slow start is sent to a TCP group: {t:?}");
    let g = tg_attributes(&moto, attrs_of(d, "aws_lb_target_group", "gwlb")["arn"].as_str().unwrap());
    assert_eq!(g.get("target_failover.on_deregistration").map(String::as_str), Some("rebalance"), "{g:?}");
    assert_eq!(g.get("target_failover.on_unhealthy").map(String::as_str), Some("rebalance"), "{g:?}");
    let f = tg_attributes(&moto, attrs_of(d, "aws_lb_target_group", "fn")["arn"].as_str().unwrap());
    assert_eq!(f.get("lambda.multi_value_headers.enabled").map(String::as_str), Some("true"), "{f:?}");
    assert_eq!(attrs_of(d, "aws_lb_target_group", "fn")["deregistration_delay"], "300", "the default, never sent to a lambda group");

    // An update sends only the attributes that changed.
    write(d, &moto, &stack("90", "600"));
    let before = moto.query_requests("ModifyTargetGroupAttributes").len();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let mods = moto.query_requests("ModifyTargetGroupAttributes");
    assert_eq!(mods.len(), before + 1, "{mods:?}");
    let last = mods.last().unwrap();
    let sent: std::collections::BTreeMap<&str, &str> = (1..=10)
        .filter_map(|i| Some((last.get(&format!("Attributes.member.{i}.Key"))?.as_str(), last.get(&format!("Attributes.member.{i}.Value"))?.as_str())))
        .collect();
    assert_eq!(
        sent,
        std::collections::BTreeMap::from([("deregistration_delay.timeout_seconds", "90"), ("stickiness.lb_cookie.duration_seconds", "600")]),
        "{last:?}"
    );
    empty_plan(d);
}

const LISTENERS: &str = r#"
resource "aws_lb" "web" {
  name            = "args-web"
  security_groups = [aws_security_group.lb.id]
  subnets         = [aws_subnet.a.id, aws_subnet.b.id]
}

resource "aws_lb_target_group" "blue" {
  name     = "blue"
  port     = 80
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id
}

resource "aws_lb_target_group" "green" {
  name     = "green"
  port     = 80
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80

  routing_http_response_server_enabled               = false
  routing_http_response_x_frame_options_header_value = "FRAME"

  default_action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.blue.arn
        weight = 80
      }

      target_group {
        arn    = aws_lb_target_group.green.arn
        weight = 20
      }

      stickiness {
        enabled  = true
        duration = 600
      }
    }
  }

  timeouts {
    create = "5m"
  }
}

resource "aws_lb_listener" "auth" {
  load_balancer_arn = aws_lb.web.arn
  port              = 8080

  default_action {
    type = "authenticate-oidc"

    authenticate_oidc {
      authorization_endpoint = "https://idp.example.com/auth"
      client_id              = "client"
      client_secret          = "s3cret"
      issuer                 = "https://idp.example.com"
      token_endpoint         = "https://idp.example.com/token"
      user_info_endpoint     = "https://idp.example.com/userinfo"
    }
  }

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.blue.arn
  }
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10

  action {
    type = "authenticate-cognito"

    authenticate_cognito {
      user_pool_arn       = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
      user_pool_client_id = "pool-client"
      user_pool_domain    = "auth"
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.green.arn
  }

  condition {
    http_header {
      http_header_name = "X-Env"
      values           = ["green"]
    }
  }

  condition {
    query_string {
      key   = "v"
      value = "2"
    }
  }

  condition {
    http_request_method {
      values = ["GET"]
    }
  }

  condition {
    source_ip {
      values = ["10.0.0.0/8"]
    }
  }
}
"#;

#[test]
fn aws_lb_listener_and_rule_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &LISTENERS.replace("FRAME", "DENY"));
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "every argument of the reference is accepted: {out}");
    apply(d);
    empty_plan(d);

    let creates = moto.query_requests("CreateListener");
    let http = creates.iter().find(|r| r.get("Port").is_some_and(|p| p == "80")).unwrap_or_else(|| panic!("{creates:?}"));
    let fwd = "DefaultActions.member.1.ForwardConfig";
    assert!(http.get(&format!("{fwd}.TargetGroups.member.1.TargetGroupArn")).is_some_and(|a| a.contains(":targetgroup/")), "{http:?}");
    let weights: Vec<&str> = (1..=2).filter_map(|i| http.get(&format!("{fwd}.TargetGroups.member.{i}.Weight")).map(String::as_str)).collect();
    assert!(weights.contains(&"80") && weights.contains(&"20"), "{http:?}");
    assert_eq!(http.get(&format!("{fwd}.TargetGroupStickinessConfig.DurationSeconds")).map(String::as_str), Some("600"), "{http:?}");
    let auth = creates.iter().find(|r| r.get("Port").is_some_and(|p| p == "8080")).unwrap_or_else(|| panic!("{creates:?}"));
    let oidc = "DefaultActions.member.1.AuthenticateOidcConfig";
    assert_eq!(auth.get(&format!("{oidc}.ClientSecret")).map(String::as_str), Some("s3cret"), "{auth:?}");
    assert_eq!(auth.get(&format!("{oidc}.Scope")).map(String::as_str), Some("openid"), "the default is sent: {auth:?}");
    assert_eq!(auth.get(&format!("{oidc}.SessionTimeout")).map(String::as_str), Some("604800"), "{auth:?}");
    let attrs_sent = moto.query_requests("ModifyListenerAttributes");
    let first = attrs_sent.first().unwrap_or_else(|| panic!("no ModifyListenerAttributes"));
    let sent: std::collections::BTreeMap<&str, &str> = (1..=5)
        .filter_map(|i| Some((first.get(&format!("Attributes.member.{i}.Key"))?.as_str(), first.get(&format!("Attributes.member.{i}.Value"))?.as_str())))
        .collect();
    assert_eq!(
        sent,
        std::collections::BTreeMap::from([("routing.http.response.server.enabled", "false"), ("routing.http.response.x_frame_options.header_value", "DENY")]),
        "{first:?}"
    );
    let listener = attrs_of(d, "aws_lb_listener", "http");
    assert_eq!(listener["default_action"][0]["forward"][0]["target_group"].as_array().map(Vec::len), Some(2), "{listener}");
    assert_eq!(listener["timeouts"]["create"], "5m", "{listener}");
    let state = std::fs::read_to_string(d.join("infra.tfstate")).unwrap();
    assert!(state.contains("s3cret"), "the client secret, never reported by AWS, is kept from the configuration");

    let rules = moto.query_requests("CreateRule");
    let rule = rules.first().unwrap_or_else(|| panic!("no CreateRule"));
    let fields: Vec<&str> = (1..=4).filter_map(|i| rule.get(&format!("Conditions.member.{i}.Field")).map(String::as_str)).collect();
    for f in ["http-header", "query-string", "http-request-method", "source-ip"] {
        assert!(fields.contains(&f), "{f} in {rule:?}");
    }
    assert!(rule.values().any(|v| v == "X-Env") && rule.values().any(|v| v == "10.0.0.0/8"), "{rule:?}");
    assert_eq!(rule.get("Actions.member.1.AuthenticateCognitoConfig.UserPoolDomain").map(String::as_str), Some("auth"), "{rule:?}");
    assert_eq!(rule.get("Actions.member.1.AuthenticateCognitoConfig.OnUnauthenticatedRequest").map(String::as_str), Some("authenticate"), "{rule:?}");

    // An update of one listener attribute sends that one only.
    write(d, &moto, &LISTENERS.replace("FRAME", "SAMEORIGIN"));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let last = moto.query_requests("ModifyListenerAttributes").pop().unwrap();
    assert_eq!(last.get("Attributes.member.1.Key").map(String::as_str), Some("routing.http.response.x_frame_options.header_value"), "{last:?}");
    assert_eq!(last.get("Attributes.member.1.Value").map(String::as_str), Some("SAMEORIGIN"), "{last:?}");
    assert!(!last.contains_key("Attributes.member.2.Key"), "{last:?}");
    empty_plan(d);
}

const EFS_AND_CLUSTER: &str = r#"
resource "aws_efs_file_system" "data" {
  creation_token = "args-efs"

  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }

  lifecycle_policy {
    transition_to_primary_storage_class = "AFTER_1_ACCESS"
  }
}

resource "aws_efs_mount_target" "a" {
  file_system_id = aws_efs_file_system.data.id
  subnet_id      = aws_subnet.a.id

  timeouts {
    create = "10m"
    delete = "5m"
  }
}

resource "aws_ecs_cluster" "main" {
  name = "args-cluster"

  configuration {
    execute_command_configuration {
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/exec"
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_log_group_name = "exec-logs"
      }
    }

    managed_storage_configuration {
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/storage"
    }
  }

  service_connect_defaults {
    namespace = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-args"
  }
}
"#;

/// The JSON bodies moto recorded that contain `needle`.
fn json_bodies(moto: &Moto, needle: &str) -> Vec<serde_json::Value> {
    moto.request_bodies().iter().filter(|b| b.contains(needle)).filter_map(|b| serde_json::from_str(b).ok()).collect()
}

#[test]
fn efs_lifecycle_mount_target_timeouts_and_cluster_configuration_reach_the_api_and_plan_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, EFS_AND_CLUSTER);
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "{out}");
    apply(d);
    empty_plan(d);

    let lifecycle = json_bodies(&moto, "LifecyclePolicies");
    assert_eq!(
        lifecycle.last().map(|b| b["LifecyclePolicies"].clone()),
        Some(serde_json::json!([{"TransitionToIA": "AFTER_30_DAYS"}, {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}])),
        "{lifecycle:?}"
    );
    let fs = attrs_of(d, "aws_efs_file_system", "data");
    assert_eq!(fs["lifecycle_policy"].as_array().map(Vec::len), Some(2), "{fs}");
    assert!(fs["size_in_bytes"][0]["value"].is_number(), "{fs}");
    assert!(fs["number_of_mount_targets"].is_number(), "{fs}");
    assert_eq!(attrs_of(d, "aws_efs_mount_target", "a")["timeouts"]["create"], "10m");

    let clusters = json_bodies(&moto, "clusterName");
    let create = clusters.iter().find(|b| b["clusterName"] == "args-cluster").unwrap_or_else(|| panic!("{clusters:?}"));
    let exec = &create["configuration"]["executeCommandConfiguration"];
    assert_eq!(exec["logging"], "OVERRIDE", "{create}");
    assert_eq!(exec["kmsKeyId"], "arn:aws:kms:us-east-1:123456789012:key/exec", "{create}");
    assert_eq!(exec["logConfiguration"]["cloudWatchLogGroupName"], "exec-logs", "{create}");
    assert_eq!(exec["logConfiguration"]["cloudWatchEncryptionEnabled"], false, "the default is sent: {create}");
    assert_eq!(create["configuration"]["managedStorageConfiguration"]["kmsKeyId"], "arn:aws:kms:us-east-1:123456789012:key/storage", "{create}");
    assert_eq!(create["serviceConnectDefaults"]["namespace"], "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-args", "{create}");

    // Lifecycle policies removed: an empty configuration is sent, and the plan is empty again.
    let fewer = EFS_AND_CLUSTER.replace("  lifecycle_policy {\n    transition_to_ia = \"AFTER_30_DAYS\"\n  }\n\n", "");
    write(d, &moto, &fewer);
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let lifecycle = json_bodies(&moto, "LifecyclePolicies");
    assert_eq!(lifecycle.last().map(|b| b["LifecyclePolicies"].clone()), Some(serde_json::json!([{"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}])));
    empty_plan(d);
}

/// moto has neither `UpdateFileSystemProtection` (no route) nor `PutBackupPolicy` (it answers
/// 500): the requests still go out as AWS expects them, and each gap is reported on its
/// resource.
#[test]
fn efs_protection_and_backup_policy_are_sent_as_aws_expects() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = r#"
resource "aws_efs_file_system" "protected" {
  creation_token = "args-protected"

  protection {
    replication_overwrite = "DISABLED"
  }
}

resource "aws_efs_file_system" "plain" {
  creation_token = "args-plain"
}

resource "aws_efs_backup_policy" "plain" {
  file_system_id = aws_efs_file_system.plain.id

  backup_policy {
    status = "ENABLED"
  }
}
"#;
    write(d, &moto, body);
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UpdateFileSystemProtection failed") && out.contains("in aws_efs_file_system.protected"), "{out}");
    assert!(out.contains("PutBackupPolicy failed") && out.contains("in aws_efs_backup_policy.plain"), "{out}");
    // moto does not route the protection call (its recorder never sees the body): its log
    // shows the request went to the file system's protection path.
    let lines = moto.request_lines();
    assert!(lines.iter().any(|l| l.contains("PUT /2015-02-01/file-systems/fs-") && l.contains("/protection ")), "{lines:#?}");
    let policy = json_bodies(&moto, "BackupPolicy");
    assert_eq!(policy.last().map(|b| b["BackupPolicy"]["Status"].clone()), Some(serde_json::json!("ENABLED")), "{policy:?}");
}

const TASK_DEFINITION: &str = r#"
resource "aws_ecs_task_definition" "app" {
  family                = "args-app"
  container_definitions = jsonencode([{ name = "app", image = "nginx:1.27", memory = 128 }])
  ipc_mode              = "task"
  pid_mode              = "task"
  skip_destroy          = true

  ephemeral_storage {
    size_in_gib = 30
  }

  placement_constraints {
    type       = "memberOf"
    expression = "attribute:ecs.availability-zone in [us-east-1a]"
  }

  proxy_configuration {
    container_name = "app"
    properties = {
      AppPorts         = "8080"
      ProxyIngressPort = "15000"
    }
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  inference_accelerator {
    device_name = "gpu"
    device_type = "eia2.medium"
  }

  volume {
    name = "cache"

    docker_volume_configuration {
      autoprovision = true
      scope         = "shared"
      labels = {
        tier = "cache"
      }
    }
  }

  volume {
    name = "share"

    fsx_windows_file_server_volume_configuration {
      file_system_id = "fs-0123456789abcdef0"
      root_directory = "\\data"

      authorization_config {
        credentials_parameter = "arn:aws:ssm:us-east-1:123456789012:parameter/fsx"
        domain                = "corp.example.com"
      }
    }
  }
}
"#;

#[test]
fn aws_ecs_task_definition_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, TASK_DEFINITION);
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "every argument of the reference is accepted: {out}");
    apply(d);
    empty_plan(d);

    let sent = json_bodies(&moto, "containerDefinitions");
    let register = sent.iter().find(|b| b["family"] == "args-app").unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(register["ipcMode"], "task", "{register}");
    assert_eq!(register["pidMode"], "task", "{register}");
    assert_eq!(register["ephemeralStorage"]["sizeInGiB"], 30, "{register}");
    assert_eq!(register["placementConstraints"][0]["type"], "memberOf", "{register}");
    assert_eq!(register["proxyConfiguration"]["type"], "APPMESH", "the default type is sent: {register}");
    assert_eq!(register["proxyConfiguration"]["properties"].as_array().map(Vec::len), Some(2), "{register}");
    assert_eq!(register["runtimePlatform"]["cpuArchitecture"], "ARM64", "{register}");
    assert_eq!(register["inferenceAccelerators"][0]["deviceType"], "eia2.medium", "{register}");
    let volumes = register["volumes"].as_array().cloned().unwrap_or_default();
    let docker = volumes.iter().find(|v| v["name"] == "cache").unwrap_or_else(|| panic!("{register}"));
    assert_eq!(docker["dockerVolumeConfiguration"]["scope"], "shared", "{docker}");
    assert_eq!(docker["dockerVolumeConfiguration"]["driver"], "local", "the default driver is sent: {docker}");
    let fsx = volumes.iter().find(|v| v["name"] == "share").unwrap_or_else(|| panic!("{register}"));
    assert_eq!(fsx["fsxWindowsFileServerVolumeConfiguration"]["authorizationConfig"]["domain"], "corp.example.com", "{fsx}");

    let td = attrs_of(d, "aws_ecs_task_definition", "app");
    assert_eq!(td["skip_destroy"], true, "{td}");
    assert_eq!(td["track_latest"], false, "{td}");

    // skip_destroy: the revision leaves the state but stays registered.
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let headers = [("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListTaskDefinitions"), ("Content-Type", "application/x-amz-json-1.1")];
    let listed = moto.call("ecs", "POST", "/", &headers, r#"{"status": "ACTIVE"}"#);
    assert!(listed.contains("task-definition/args-app:1"), "the revision is still registered: {listed}");
    assert!(!std::fs::read_to_string(d.join("infra.tfstate")).unwrap().contains("args-app"), "and out of the state");
}

const SERVICE: &str = r#"
resource "aws_ecs_cluster" "svc" {
  name = "args-svc"
}

resource "aws_ecs_task_definition" "svc" {
  family                   = "args-svc"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions    = jsonencode([{ name = "app", image = "nginx:1.27", portMappings = [{ containerPort = 80, name = "http" }] }])
}

resource "aws_ecs_service" "svc" {
  name                          = "args-svc"
  cluster                       = aws_ecs_cluster.svc.id
  task_definition               = aws_ecs_task_definition.svc.arn
  desired_count                 = 1
  launch_type                   = "FARGATE"
  availability_zone_rebalancing = "ENABLED"
  force_delete                  = true

  triggers = {
    redeploy = "TRIGGER"
  }

  network_configuration {
    subnets = [aws_subnet.a.id]
  }

  alarms {
    alarm_names = ["high-cpu"]
    enable      = true
    rollback    = true
  }

  deployment_controller {
    type = "ECS"
  }

  service_registries {
    registry_arn = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-args"
  }

  service_connect_configuration {
    enabled   = true
    namespace = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-args"

    service {
      port_name = "http"

      client_alias {
        port = 80
      }
    }
  }

  volume_configuration {
    name = "data"

    managed_ebs_volume {
      role_arn   = "arn:aws:iam::123456789012:role/ebs"
      size_in_gb = 10
    }
  }

  vpc_lattice_configurations {
    port_name        = "http"
    role_arn         = "arn:aws:iam::123456789012:role/lattice"
    target_group_arn = "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-args"
  }

  timeouts {
    create = "5m"
  }
}
"#;

#[test]
fn aws_ecs_service_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &SERVICE.replace("TRIGGER", "1"));
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "every argument of the reference is accepted: {out}");
    apply(d);
    empty_plan(d);

    let sent = json_bodies(&moto, "serviceName");
    let create = sent.iter().find(|b| b["serviceName"] == "args-svc" && b.get("taskDefinition").is_some()).unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(create["availabilityZoneRebalancing"], "ENABLED", "{create}");
    assert_eq!(create["deploymentConfiguration"]["alarms"]["alarmNames"], serde_json::json!(["high-cpu"]), "{create}");
    assert_eq!(create["deploymentController"]["type"], "ECS", "{create}");
    assert_eq!(create["serviceRegistries"][0]["registryArn"], "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-args", "{create}");
    assert_eq!(create["serviceConnectConfiguration"]["services"][0]["clientAliases"][0]["port"], 80, "{create}");
    assert_eq!(create["volumeConfigurations"][0]["managedEBSVolume"]["sizeInGiB"], 10, "{create}");
    assert_eq!(create["vpcLatticeConfigurations"][0]["portName"], "http", "{create}");
    assert_eq!(create["schedulingStrategy"], "REPLICA", "the default is sent: {create}");
    let svc = attrs_of(d, "aws_ecs_service", "svc");
    assert_eq!(svc["timeouts"]["create"], "5m", "{svc}");
    assert_eq!(svc["network_configuration"][0]["assign_public_ip"], false, "{svc}");

    // New triggers redeploy in place.
    write(d, &moto, &SERVICE.replace("TRIGGER", "2"));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let updates = json_bodies(&moto, "forceNewDeployment");
    assert_eq!(updates.last().map(|b| b["forceNewDeployment"].clone()), Some(serde_json::json!(true)), "{updates:?}");
    empty_plan(d);

    // force_delete: no scale to zero before the delete.
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let deletes = json_bodies(&moto, "\"force\"");
    assert!(deletes.iter().any(|b| b["force"] == true), "{deletes:?}");
    assert!(!json_bodies(&moto, "desiredCount").iter().any(|b| b["desiredCount"] == 0), "no scale-down was sent");
}

/// moto keeps neither placement nor capacity providers (the read back then differs from the
/// plan): the request carries them as AWS expects.
#[test]
fn aws_ecs_service_placement_and_capacity_providers_are_sent_as_aws_expects() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = r#"
resource "aws_ecs_cluster" "ec2" {
  name = "args-ec2"
}

resource "aws_ecs_task_definition" "ec2" {
  family                = "args-ec2"
  container_definitions = jsonencode([{ name = "app", image = "nginx:1.27", memory = 128 }])
}

resource "aws_ecs_service" "ec2" {
  name            = "args-ec2"
  cluster         = aws_ecs_cluster.ec2.id
  task_definition = aws_ecs_task_definition.ec2.arn
  iam_role        = "arn:aws:iam::123456789012:role/ecs-service"

  capacity_provider_strategy {
    capacity_provider = "spot"
    weight            = 3
  }

  ordered_placement_strategy {
    type  = "binpack"
    field = "cpu"
  }

  placement_constraints {
    type       = "memberOf"
    expression = "attribute:ecs.availability-zone in [us-east-1a]"
  }
}
"#;
    write(d, &moto, body);
    let (code, out) = infra(d, &["validate"], &[]);
    assert_eq!(code, 0, "{out}");
    let _ = infra(d, &["apply", "--auto-approve"], &[]);
    let sent = json_bodies(&moto, "serviceName");
    let create = sent.iter().find(|b| b["serviceName"] == "args-ec2" && b.get("taskDefinition").is_some()).unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(create["capacityProviderStrategy"], serde_json::json!([{"capacityProvider": "spot", "weight": 3, "base": 0}]), "{create}");
    assert!(create.get("launchType").is_none(), "a capacity provider strategy replaces the launch type: {create}");
    assert_eq!(create["placementStrategy"], serde_json::json!([{"type": "binpack", "field": "cpu"}]), "{create}");
    assert_eq!(create["placementConstraints"][0]["type"], "memberOf", "{create}");
    assert_eq!(create["role"], "arn:aws:iam::123456789012:role/ecs-service", "{create}");
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

/// A security group named from `name_prefix` (the prefix and a unique suffix, as
/// terraform-provider-aws names it) plans empty after apply; `name` and `name_prefix` together
/// are refused before any call; an unset description is terraform-provider-aws's default.
#[test]
fn a_security_group_named_from_a_prefix_plans_empty_and_name_with_prefix_is_refused() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let group =
        "\nresource \"aws_security_group\" \"p\" {\n  name_prefix = \"web-\"\n  vpc_id      = aws_vpc.main.id\n\n  timeouts {\n    delete = \"2m\"\n  }\n}\n";
    write(d, &moto, group);
    apply(d);
    empty_plan(d);
    let g = attrs_of(d, "aws_security_group", "p");
    let name = g["name"].as_str().unwrap();
    assert!(name.starts_with("web-") && name.len() == 4 + 26, "{g}");
    assert_eq!((&g["name_prefix"], &g["description"]), (&"web-".into(), &"Managed by Terraform".into()), "{g}");
    let creates = moto.query_requests("CreateSecurityGroup");
    assert!(creates.iter().any(|r| r.get("GroupName").map(String::as_str) == Some(name)), "{creates:?}");
    write(d, &moto, &group.replace("name_prefix = \"web-\"", "name_prefix = \"web-\"\n  name        = \"web\""));
    let before = moto.requests();
    let (code, out) = infra(d, &["plan", "-refresh=false"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Conflicting configuration arguments") && out.contains("The arguments name and name_prefix cannot both be set"), "{out}");
    assert_eq!(moto.requests(), before, "nothing is asked of AWS");
}

/// Security group rules and route table routes written as arguments (Terraform's "attributes
/// as blocks"): `ingress = [{…}]` makes the same rule as a block would and plans empty;
/// `egress = []` and `route = []` remove every rule and route; with neither blocks nor the
/// argument, rules and routes made by other resources are left alone.
#[test]
fn rules_and_routes_written_as_arguments_and_empty_lists_remove_them() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = r#"
resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id

  ingress = [{
    description      = "https"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = []
    prefix_list_ids  = []
    security_groups  = []
    self             = false
  }]

  EGRESS
}

resource "aws_route_table" "rt" {
  vpc_id = aws_vpc.main.id

  ROUTES
}
"#;
    let blocks_egress = "egress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }";
    let route_attr = "route = [{\n    cidr_block                 = \"0.0.0.0/0\"\n    gateway_id                 = aws_internet_gateway.gw.id\n    carrier_gateway_id         = null\n    core_network_arn           = null\n    destination_prefix_list_id = null\n    egress_only_gateway_id     = null\n    ipv6_cidr_block            = null\n    local_gateway_id           = null\n    nat_gateway_id             = null\n    network_interface_id       = null\n    transit_gateway_id         = null\n    vpc_endpoint_id            = null\n    vpc_peering_connection_id  = null\n  }]";
    let at = |egress: &str, routes: &str| stack.replace("EGRESS", egress).replace("ROUTES", routes);
    write(d, &moto, &at(blocks_egress, route_attr));
    apply(d);
    empty_plan(d);
    let sg = attrs_of(d, "aws_security_group", "web");
    let ingress = sg["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1, "{sg}");
    assert_eq!(
        (&ingress[0]["from_port"], &ingress[0]["description"], &ingress[0]["cidr_blocks"]),
        (&443.into(), &"https".into(), &serde_json::json!(["0.0.0.0/0"]))
    );
    assert_eq!(sg["egress"].as_array().map(Vec::len), Some(1), "{sg}");
    let rt = attrs_of(d, "aws_route_table", "rt");
    assert_eq!(rt["route"].as_array().map(Vec::len), Some(1), "{rt}");
    let (sg_id, rt_id) = (sg["id"].as_str().unwrap().to_string(), rt["id"].as_str().unwrap().to_string());

    // Empty lists: every egress rule and every route goes.
    write(d, &moto, &at("egress = []", "route = []"));
    let (code, out) = infra(d, &["plan", "-no-color"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{out}");
    apply(d);
    empty_plan(d);
    let revoked = moto.query_requests("RevokeSecurityGroupEgress");
    assert!(
        revoked.iter().any(|r| r.get("GroupId") == Some(&sg_id) && r.get("IpPermissions.1.IpRanges.1.CidrIp").map(String::as_str) == Some("0.0.0.0/0")),
        "{revoked:?}"
    );
    let groups = moto.ec2(&[("Action", "DescribeSecurityGroups"), ("GroupId.1", &sg_id)]);
    let egress_xml = groups.split("<ipPermissionsEgress>").nth(1).unwrap_or_default().split("</ipPermissionsEgress>").next().unwrap_or_default();
    assert!(!egress_xml.contains("<item>"), "no egress rule is left:\n{groups}");
    assert!(groups.contains("<fromPort>443</fromPort>"), "the ingress rule stays:\n{groups}");
    let tables = moto.ec2(&[("Action", "DescribeRouteTables"), ("RouteTableId.1", &rt_id)]);
    assert!(!tables.contains("0.0.0.0/0"), "the default route is gone:\n{tables}");

    // Neither: what other resources add is left alone.
    let others = "\nresource \"aws_route\" \"out\" {\n  route_table_id         = aws_route_table.rt.id\n  destination_cidr_block = \"0.0.0.0/0\"\n  gateway_id             = aws_internet_gateway.gw.id\n}\n\nresource \"aws_vpc_security_group_egress_rule\" \"all\" {\n  security_group_id = aws_security_group.web.id\n  cidr_ipv4         = \"10.0.0.0/8\"\n  ip_protocol       = \"-1\"\n}\n";
    write(d, &moto, &format!("{}{others}", at("", "")));
    apply(d);
    empty_plan(d);
    let tables = moto.ec2(&[("Action", "DescribeRouteTables"), ("RouteTableId.1", &rt_id)]);
    assert!(tables.contains("0.0.0.0/0"), "the aws_route stays:\n{tables}");
    let groups = moto.ec2(&[("Action", "DescribeSecurityGroups"), ("GroupId.1", &sg_id)]);
    assert!(groups.contains("10.0.0.0/8"), "the standalone rule stays:\n{groups}");
}

/// A subnet's launch settings reach the API one `ModifySubnetAttribute` each (CreateSubnet
/// takes none of them), read back and plan empty where moto keeps them (public IPs, IPv6
/// addresses, DNS A records); DNS64, which moto does not keep, is still sent as AWS expects.
/// A subnet without an IPv4 block that is not IPv6-only, or with both zone arguments, is
/// refused before any call.
#[test]
fn a_subnets_launch_settings_reach_the_api_and_plan_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let subnet = "\nresource \"aws_subnet\" \"s\" {\n  vpc_id                                      = aws_vpc.main.id\n  cidr_block                                  = \"10.0.9.0/24\"\n  map_public_ip_on_launch                     = true\n  assign_ipv6_address_on_creation             = true\n  enable_resource_name_dns_a_record_on_launch = true\n\n  timeouts {\n    create = \"5m\"\n  }\n}\n";
    write(d, &moto, subnet);
    apply(d);
    empty_plan(d);
    let s = attrs_of(d, "aws_subnet", "s");
    assert_eq!(
        (&s["assign_ipv6_address_on_creation"], &s["enable_resource_name_dns_a_record_on_launch"], &s["enable_dns64"]),
        (&true.into(), &true.into(), &false.into()),
        "{s}"
    );
    assert!(s["map_customer_owned_ip_on_launch"].is_null() && s["enable_lni_at_device_index"].is_null(), "{s}");
    let modifies = moto.query_requests("ModifySubnetAttribute");
    for key in ["MapPublicIpOnLaunch.Value", "AssignIpv6AddressOnCreation.Value", "EnableResourceNameDnsARecordOnLaunch.Value"] {
        assert_eq!(modifies.iter().filter(|r| r.get(key).map(String::as_str) == Some("true")).count(), 1, "{key}: {modifies:?}");
    }
    assert!(modifies.iter().all(|r| r.len() == 4), "one attribute a call (Action, Version, SubnetId and it): {modifies:?}");
    write(d, &moto, &subnet.replace("  map_public_ip_on_launch ", "  enable_dns64                                = true\n  map_public_ip_on_launch "));
    let (_code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    let dns64: Vec<_> = moto.query_requests("ModifySubnetAttribute").into_iter().filter(|r| r.contains_key("EnableDns64.Value")).collect();
    assert_eq!(dns64.len(), 1, "{out}\n{dns64:?}");
    assert_eq!(dns64[0].get("EnableDns64.Value").map(String::as_str), Some("true"));
    let before = moto.requests();
    write(d, &moto, "\nresource \"aws_subnet\" \"bad\" {\n  vpc_id               = aws_vpc.main.id\n  availability_zone    = \"us-east-1a\"\n  availability_zone_id = \"use1-az1\"\n}\n");
    let (code, out) = infra(d, &["plan", "-refresh=false"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("A subnet needs cidr_block, unless ipv6_native = true."), "{out}");
    assert!(out.contains("The arguments availability_zone and availability_zone_id cannot both be set."), "{out}");
    assert_eq!(moto.requests(), before, "nothing is asked of AWS");
}

/// A VPC with an Amazon-provided IPv6 block and address usage metrics: both reach the API and
/// read back, the ids of the default network ACL, main route table and default security group
/// are recorded (they are what moto made), the plan is empty, and the IPv6 block is let go in
/// place. Neither a CIDR block nor an IPAM pool is refused before any call.
#[test]
fn a_vpc_with_ipv6_and_metrics_records_its_default_objects_and_plans_empty() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vpc = "\nresource \"aws_vpc\" \"v6\" {\n  cidr_block                           = \"10.8.0.0/16\"\n  assign_generated_ipv6_cidr_block     = true\n  enable_network_address_usage_metrics = true\n}\n";
    write(d, &moto, vpc);
    apply(d);
    empty_plan(d);
    let v = attrs_of(d, "aws_vpc", "v6");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!((&v["assign_generated_ipv6_cidr_block"], &v["enable_network_address_usage_metrics"]), (&true.into(), &true.into()), "{v}");
    assert!(v["ipv6_cidr_block"].as_str().is_some_and(|b| b.contains(':')) && v["ipv6_association_id"].as_str().is_some(), "{v}");
    let rt = moto.ec2(&[
        ("Action", "DescribeRouteTables"),
        ("Filter.1.Name", "vpc-id"),
        ("Filter.1.Value.1", &id),
        ("Filter.2.Name", "association.main"),
        ("Filter.2.Value.1", "true"),
    ]);
    assert!(rt.contains(v["main_route_table_id"].as_str().unwrap()) && v["main_route_table_id"] == v["default_route_table_id"], "{v}\n{rt}");
    let sg = moto.ec2(&[
        ("Action", "DescribeSecurityGroups"),
        ("Filter.1.Name", "vpc-id"),
        ("Filter.1.Value.1", &id),
        ("Filter.2.Name", "group-name"),
        ("Filter.2.Value.1", "default"),
    ]);
    assert!(v["default_security_group_id"].as_str().is_some_and(|g| g.starts_with("sg-") && sg.contains(g)), "{v}\n{sg}");
    assert!(v["default_network_acl_id"].as_str().is_some_and(|a| a.starts_with("acl-")), "{v}");
    let create = moto.query_requests("CreateVpc").into_iter().find(|r| r.get("CidrBlock").is_some_and(|c| c == "10.8.0.0/16")).unwrap();
    assert_eq!(create.get("AmazonProvidedIpv6CidrBlock").map(String::as_str), Some("true"), "{create:?}");
    // The IPv6 block let go in place.
    write(d, &moto, &vpc.replace("assign_generated_ipv6_cidr_block     = true", "assign_generated_ipv6_cidr_block     = false"));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let gone = moto.query_requests("DisassociateVpcCidrBlock");
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(gone[0].get("AssociationId"), v["ipv6_association_id"].as_str().map(str::to_string).as_ref());
    empty_plan(d);
    let before = moto.requests();
    write(d, &moto, "\nresource \"aws_vpc\" \"none\" {\n  instance_tenancy = \"default\"\n}\n");
    let (code, out) = infra(d, &["plan", "-refresh=false"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("A VPC needs cidr_block, or ipv4_ipam_pool_id to take one from an IPAM pool."), "{out}");
    assert_eq!(moto.requests(), before, "nothing is asked of AWS");
}

const INSTANCE: &str = r#"
resource "aws_instance" "full" {
  ami                                  = "AMI"
  instance_type                        = "TYPE"
  subnet_id                            = aws_subnet.a.id
  vpc_security_group_ids               = [aws_security_group.lb.id]
  private_ip                           = "PRIVATE_IP"
  user_data                            = "USER_DATA"
  user_data_replace_on_change          = REPLACE
  ebs_optimized                        = EBS
  monitoring                           = MONITORING
  disable_api_stop                     = STOP
  disable_api_termination              = TERMINATION
  instance_initiated_shutdown_behavior = "SHUTDOWN"
  hibernation                          = true
  source_dest_check                    = SOURCE_DEST
  secondary_private_ips                = ["SECONDARY"]
  get_password_data                    = true
  volume_tags = {
    Team = "VOLUME"
  }
  tags = {
    Name = "full"
  }

  metadata_options {
    http_tokens                 = "TOKENS"
    http_put_response_hop_limit = 2
  }
  credit_specification {
    cpu_credits = "CREDITS"
  }
  cpu_options {
    core_count       = 1
    threads_per_core = 2
  }
  maintenance_options {
    auto_recovery = "RECOVERY"
  }
  private_dns_name_options {
    hostname_type = "HOSTNAME"
  }
  enclave_options {
    enabled = false
  }
  capacity_reservation_specification {
    capacity_reservation_preference = "open"
  }
  timeouts {
    create = "5m"
    update = "6m"
  }
}
"#;

fn instance(ami: &str, values: &[(&str, &str)]) -> String {
    let defaults = [
        ("TYPE", "t3.micro"),
        ("PRIVATE_IP", "10.0.1.10"),
        ("USER_DATA", "echo one"),
        ("REPLACE", "false"),
        ("EBS", "true"),
        ("MONITORING", "true"),
        ("STOP", "true"),
        ("TERMINATION", "false"),
        ("SHUTDOWN", "terminate"),
        ("SOURCE_DEST", "false"),
        ("SECONDARY", "10.0.1.20"),
        ("VOLUME", "web"),
        ("TOKENS", "required"),
        ("CREDITS", "standard"),
        ("RECOVERY", "default"),
        ("HOSTNAME", "ip-name"),
    ];
    let mut text = INSTANCE.replace("\"AMI\"", &format!("\"{ami}\""));
    for (k, v) in defaults {
        let v = values.iter().find(|(n, _)| *n == k).map_or(v, |(_, v)| *v);
        text = text.replace(k, v);
    }
    text
}

fn b64(s: &str) -> String {
    aws_smithy_types::base64::encode(s.as_bytes())
}

fn last(moto: &Moto, action: &str) -> std::collections::BTreeMap<String, String> {
    moto.query_requests(action).pop().unwrap_or_else(|| panic!("no {action} request"))
}

/// An instance with (nearly) every argument: RunInstances carries them as AWS expects, what
/// it cannot take follows (source/destination checking, secondary addresses), the state
/// reads back and the plan is empty. Then the in-place changes, each its request (the type,
/// user data and EBS optimization in one stop and start); the changes moto has no API for
/// (monitoring off, credits, maintenance and DNS name options) still go out as AWS expects;
/// and changed user data with `user_data_replace_on_change` replaces the instance.
#[test]
fn aws_instance_every_argument_reaches_the_api_reads_back_and_plans_empty() {
    let moto = start_moto();
    let images = moto.ec2(&[("Action", "DescribeImages")]);
    let ami = images.split("<imageId>").nth(1).and_then(|s| s.split('<').next()).expect("moto ships AMIs").to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &moto, &instance(&ami, &[]));
    apply(d);
    let run = last(&moto, "RunInstances");
    let expected = [
        ("InstanceType", "t3.micro".to_string()),
        ("UserData", b64("echo one")),
        ("EbsOptimized", "true".into()),
        ("Monitoring.Enabled", "true".into()),
        ("DisableApiStop", "true".into()),
        ("DisableApiTermination", "false".into()),
        ("InstanceInitiatedShutdownBehavior", "terminate".into()),
        ("HibernationOptions.Configured", "true".into()),
        ("MetadataOptions.HttpTokens", "required".into()),
        ("MetadataOptions.HttpPutResponseHopLimit", "2".into()),
        ("CreditSpecification.CpuCredits", "standard".into()),
        ("CpuOptions.CoreCount", "1".into()),
        ("CpuOptions.ThreadsPerCore", "2".into()),
        ("MaintenanceOptions.AutoRecovery", "default".into()),
        ("PrivateDnsNameOptions.HostnameType", "ip-name".into()),
        ("EnclaveOptions.Enabled", "false".into()),
        ("CapacityReservationSpecification.CapacityReservationPreference", "open".into()),
        ("PrivateIpAddress", "10.0.1.10".into()),
        ("TagSpecification.2.ResourceType", "volume".into()),
        ("TagSpecification.2.Tag.1.Key", "Team".into()),
        ("TagSpecification.2.Tag.1.Value", "web".into()),
    ];
    for (k, v) in &expected {
        assert_eq!(run.get(*k), Some(v), "{k}: {run:?}");
    }
    let sdc = last(&moto, "ModifyInstanceAttribute");
    assert_eq!(sdc.get("SourceDestCheck.Value").map(String::as_str), Some("false"), "{sdc:?}");
    assert_eq!(last(&moto, "AssignPrivateIpAddresses").get("PrivateIpAddress.1").map(String::as_str), Some("10.0.1.20"));
    let s = attrs_of(d, "aws_instance", "full");
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["secondary_private_ips"], serde_json::json!(["10.0.1.20"]), "{s}");
    assert_eq!(s["metadata_options"][0]["http_tokens"], "required", "{s}");
    assert_eq!(s["metadata_options"][0]["http_endpoint"], "enabled", "{s}");
    assert_eq!(s["volume_tags"], serde_json::json!({"Team": "web"}), "{s}");
    assert_eq!(s["credit_specification"][0]["cpu_credits"], "standard", "{s}");
    for (k, v) in [
        ("source_dest_check", serde_json::json!(false)),
        ("monitoring", true.into()),
        ("hibernation", true.into()),
        ("ebs_optimized", true.into()),
        ("disable_api_stop", true.into()),
        ("disable_api_termination", false.into()),
        ("instance_initiated_shutdown_behavior", "terminate".into()),
        ("user_data", "echo one".into()),
        ("private_ip", "10.0.1.10".into()),
        ("tenancy", "default".into()),
        ("associate_public_ip_address", false.into()),
    ] {
        assert_eq!(s[k], v, "{k}: {s}");
    }
    assert!(s["primary_network_interface_id"].as_str().is_some_and(|e| e.starts_with("eni-")), "{s}");
    let attribute_reads = moto.query_requests("DescribeInstanceAttribute").len();
    empty_plan(d);
    assert_eq!(moto.query_requests("DescribeInstanceAttribute").len(), attribute_reads, "a routine refresh keeps the recorded attributes");

    // In place: attributes, metadata, addresses, volume tags; one stop and start for the rest.
    let changes = [
        ("TYPE", "t3.small"),
        ("USER_DATA", "echo two"),
        ("EBS", "false"),
        ("STOP", "false"),
        ("TERMINATION", "true"),
        ("SHUTDOWN", "stop"),
        ("SOURCE_DEST", "true"),
        ("SECONDARY", "10.0.1.21"),
        ("VOLUME", "api"),
        ("TOKENS", "optional"),
    ];
    write(d, &moto, &instance(&ami, &changes));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let mods = moto.query_requests("ModifyInstanceAttribute");
    for (k, v) in [
        ("InstanceType.Value", "t3.small".to_string()),
        ("UserData.Value", b64(&b64("echo two"))),
        ("EbsOptimized.Value", "false".into()),
        ("DisableApiStop.Value", "false".into()),
        ("DisableApiTermination.Value", "true".into()),
        ("Value", "stop".into()),
        ("SourceDestCheck.Value", "true".into()),
    ] {
        assert_eq!(mods.iter().filter(|m| m.get(k) == Some(&v)).count(), 1, "{k}: {mods:?}");
    }
    assert!(mods.iter().any(|m| m.get("Attribute").map(String::as_str) == Some("instanceInitiatedShutdownBehavior")), "{mods:?}");
    assert_eq!((moto.query_requests("StopInstances").len(), moto.query_requests("StartInstances").len()), (1, 1));
    assert_eq!(last(&moto, "ModifyInstanceMetadataOptions").get("HttpTokens").map(String::as_str), Some("optional"));
    assert_eq!(last(&moto, "AssignPrivateIpAddresses").get("PrivateIpAddress.1").map(String::as_str), Some("10.0.1.21"));
    assert_eq!(last(&moto, "UnassignPrivateIpAddresses").get("PrivateIpAddress.1").map(String::as_str), Some("10.0.1.20"));
    let s = attrs_of(d, "aws_instance", "full");
    assert_eq!((s["id"].as_str(), &s["instance_type"], &s["user_data"]), (Some(id.as_str()), &"t3.small".into(), &"echo two".into()), "{s}");
    assert_eq!((&s["volume_tags"], &s["disable_api_termination"]), (&serde_json::json!({"Team": "api"}), &true.into()), "{s}");
    empty_plan(d);

    // What moto has no API for is still sent as AWS expects, and each gap reported.
    let unsupported = [("MONITORING", "false"), ("TERMINATION", "false"), ("CREDITS", "unlimited"), ("RECOVERY", "disabled"), ("HOSTNAME", "resource-name")];
    write(d, &moto, &instance(&ami, &[&unsupported[..], &changes[..]].concat()));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ModifyInstanceCreditSpecification failed") && out.contains("aws_instance.full"), "{out}");
    assert_eq!(last(&moto, "UnmonitorInstances").get("InstanceId.1"), Some(&id));
    assert_eq!(last(&moto, "ModifyInstanceCreditSpecification").get("InstanceCreditSpecification.1.CpuCredits").map(String::as_str), Some("unlimited"));
    assert_eq!(last(&moto, "ModifyInstanceMaintenanceOptions").get("AutoRecovery").map(String::as_str), Some("disabled"));
    assert_eq!(last(&moto, "ModifyPrivateDnsNameOptions").get("PrivateDnsHostnameType").map(String::as_str), Some("resource-name"));
    assert_eq!(last(&moto, "ModifyInstanceAttribute").get("DisableApiTermination.Value").map(String::as_str), Some("false"));

    // Changed user data replaces the instance when asked to.
    let replace = [
        // moto keeps the terminated instance's address: the replacement takes another.
        ("PRIVATE_IP", "10.0.1.11"),
        ("REPLACE", "true"),
        ("USER_DATA", "echo three"),
        ("TERMINATION", "false"),
        ("MONITORING", "false"),
        ("RECOVERY", "disabled"),
        ("HOSTNAME", "resource-name"),
    ];
    write(d, &moto, &instance(&ami, &[&replace[..], &changes[1..]].concat()));
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("aws_instance.full must be replaced") && out.contains("1 added, 0 changed, 1 destroyed"), "{out}");
    assert_eq!(last(&moto, "RunInstances").get("UserData"), Some(&b64("echo three")));
    let s = attrs_of(d, "aws_instance", "full");
    assert!(s["id"].as_str().is_some_and(|n| n != id), "{s}");
    empty_plan(d);

    let before = moto.requests();
    write(d, &moto, "\nresource \"aws_instance\" \"bad\" {\n  instance_type    = \"t3.micro\"\n  user_data        = \"a\"\n  user_data_base64 = \"Yg==\"\n}\n");
    let (code, out) = infra(d, &["plan", "-refresh=false"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("The arguments user_data and user_data_base64 cannot both be set"), "{out}");
    assert!(out.contains("An instance needs ami, or a launch_template that gives it."), "{out}");
    assert_eq!(moto.requests(), before, "nothing is asked of AWS");
}
