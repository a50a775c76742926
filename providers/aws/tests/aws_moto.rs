//! The aws provider against a real moto server (not a mock of ours): each test starts its own
//! moto on a free loopback port, installed once into the target directory if missing, and
//! drives the real `infra` binary. moto's own request log counts the API calls.

use infra_test_harness::moto::*;

fn network_stack(moto: &Moto, name_tag: &str, second_cidr: &str) -> String {
    format!(
        "{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block           = \"10.0.0.0/16\"\n  enable_dns_hostnames = true\n  tags = {{\n    Name = \"{name_tag}\"\n  }}\n}}\n\nlocals {{\n  cidrs = [\"10.0.1.0/24\", \"{second_cidr}\"]\n}}\n\nresource \"aws_subnet\" \"private\" {{\n  count             = 2\n  vpc_id            = aws_vpc.main.id\n  cidr_block        = local.cidrs[count.index]\n  availability_zone = \"us-east-1a\"\n}}\n",
        provider_block(moto)
    )
}

#[test]
fn apply_then_empty_plan_then_update_in_place_replace_and_destroy() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), network_stack(&moto, "one", "10.0.2.0/24")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 3 added"), "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "a second plan after apply is empty:\n{out}");
    let vpcs = moto.ec2(&[("Action", "DescribeVpcs")]);
    assert!(vpcs.contains("managed_by") && !vpcs.contains("infra:create-intent"), "default_tags applied, intent tag dropped once recorded: {vpcs}");

    // A tag is updated in place, on the VPC only.
    std::fs::write(d.join("main.tf"), network_stack(&moto, "two", "10.0.2.0/24")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_vpc.main will be updated in-place") && out.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(moto.ec2(&[("Action", "DescribeVpcs"), ("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", "two")]).contains("10.0.0.0/16"));

    // A force-new attribute replaces only that subnet, and the plan says why.
    std::fs::write(d.join("main.tf"), network_stack(&moto, "two", "10.0.3.0/24")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("# aws_subnet.private[1] must be replaced")
            && out.contains("# forces replacement")
            && out.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{out}"
    );
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let subnets = moto.ec2(&[("Action", "DescribeSubnets"), ("Filter.1.Name", "tag:managed_by"), ("Filter.1.Value.1", "infra")]);
    assert!(subnets.contains("10.0.3.0/24") && !subnets.contains("10.0.2.0/24"), "{subnets}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    // Destroy leaves nothing the stack made.
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!moto.ec2(&[("Action", "DescribeVpcs")]).contains("10.0.0.0/16"));
    assert!(!moto.ec2(&[("Action", "DescribeSubnets")]).contains("managed_by"));
}

#[test]
fn refreshing_200_subnets_and_200_security_groups_takes_a_few_batched_calls() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = format!(
        "{}\nresource \"aws_vpc\" \"big\" {{\n  cidr_block = \"10.1.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"many\" {{\n  count      = 200\n  vpc_id     = aws_vpc.big.id\n  cidr_block = cidrsubnet(\"10.1.0.0/16\", 8, count.index)\n}}\n\nresource \"aws_security_group\" \"many\" {{\n  count  = 200\n  name   = \"group-${{count.index}}\"\n  vpc_id = aws_vpc.big.id\n}}\n",
        provider_block(&moto)
    );
    std::fs::write(d.join("main.tf"), stack).unwrap();
    // One create at a time: moto's CreateSecurityGroup looks for the name by iterating the
    // VPC's groups while another request thread may insert one ("dictionary changed size
    // during iteration", a 500), which a loaded CI machine hit once with 20 at a time. What
    // this test measures is the refresh below.
    let (code, out) = infra(d, &["apply", "--auto-approve", "--parallelism", "1"], &[]);
    assert_eq!(code, 0, "{out}");
    let before = moto.requests();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "{out}");
    let calls = moto.requests() - before;
    // One DescribeSubnets for the 200 subnets, one DescribeSecurityGroups for the 200 groups,
    // one DescribeVpcs, two DescribeVpcAttribute.
    assert!(calls < 10, "refresh of 200 subnets, 200 security groups and a VPC took {calls} API calls");
}

#[test]
fn an_existing_vpc_imports_with_an_empty_plan() {
    let moto = start_moto();
    let xml = moto.ec2(&[
        ("Action", "CreateVpc"),
        ("CidrBlock", "10.9.0.0/16"),
        ("TagSpecification.1.ResourceType", "vpc"),
        ("TagSpecification.1.Tag.1.Key", "Name"),
        ("TagSpecification.1.Tag.1.Value", "by-hand"),
    ]);
    let id = xml.split("<vpcId>").nth(1).and_then(|s| s.split('<').next()).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = format!(
        "{}\nimport {{\n  to = aws_vpc.hand\n  id = \"{id}\"\n}}\n\nresource \"aws_vpc\" \"hand\" {{\n  cidr_block = \"10.9.0.0/16\"\n  tags = {{\n    Name       = \"by-hand\"\n    managed_by = \"infra\"\n  }}\n}}\n",
        provider_block(&moto).replace("  default_tags {\n    tags = { managed_by = \"infra\" }\n  }\n", "")
    );
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("# aws_vpc.hand will be updated in-place")) || out.contains("will be imported"), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);
    let (_, list) = infra(d, &["state", "show", "aws_vpc.hand"], &[]);
    assert!(list.contains(&id), "{list}");
}

#[test]
fn a_crash_between_create_and_state_write_is_adopted_never_duplicated() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = format!("{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.7.0.0/16\"\n}}\n", provider_block(&moto));
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, _) = infra(d, &["apply", "--auto-approve"], &[("INFRA_TEST_ABORT_AFTER_CREATE", "aws_vpc.main")]);
    assert_ne!(code, 0);
    assert_eq!(moto.ec2(&[("Action", "DescribeVpcs")]).matches("<cidrBlock>10.7.0.0/16</cidrBlock><cidrBlockState>").count(), 1, "the VPC exists in AWS");
    let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("infra.tfstate.lock.info")).unwrap()).unwrap();
    assert_eq!(infra(d, &["force-unlock", lock["ID"].as_str().unwrap()], &[]).0, 0);
    // The next run finds it by its intent tag and adopts it instead of creating another.
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No changes") || out.contains("0 added"), "{out}");
    let vpcs = moto.ec2(&[("Action", "DescribeVpcs")]);
    // Each VPC lists its CIDR once in its association set.
    assert_eq!(vpcs.matches("<cidrBlock>10.7.0.0/16</cidrBlock><cidrBlockState>").count(), 1, "exactly one VPC: {vpcs}");
    // The intent tag stays on an adopted object (documented); it is not part of its tags.
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert_eq!(list.trim(), "aws_vpc.main");
}

#[test]
fn availability_zones_spread_subnets_and_an_internet_gateway_moves_between_vpcs_in_place() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |gw_vpc: &str| {
        format!(
            "{}\ndata \"aws_availability_zones\" \"available\" {{\n  state = \"available\"\n}}\n\nresource \"aws_vpc\" \"a\" {{\n  cidr_block = \"10.2.0.0/16\"\n}}\n\nresource \"aws_vpc\" \"b\" {{\n  cidr_block = \"10.3.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"public\" {{\n  count             = 2\n  vpc_id            = aws_vpc.a.id\n  cidr_block        = cidrsubnet(aws_vpc.a.cidr_block, 8, count.index)\n  availability_zone = data.aws_availability_zones.available.names[count.index]\n}}\n\nresource \"aws_internet_gateway\" \"gw\" {{\n  vpc_id = aws_vpc.{gw_vpc}.id\n  tags = {{\n    Name = \"gw\"\n  }}\n}}\n\noutput \"zones\" {{\n  value = aws_subnet.public[*].availability_zone\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack("a")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"us-east-1a\",\n    \"us-east-1b\","), "subnets spread over the first two zones:\n{out}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);
    let vpc_id = |name: &str| {
        let (_, shown) = infra(d, &["state", "show", &format!("aws_vpc.{name}")], &[]);
        shown.lines().find_map(|l| l.trim().strip_prefix("id").map(|r| r.trim_start_matches([' ', '=']).trim_matches('"').to_string())).unwrap()
    };
    let (a, b) = (vpc_id("a"), vpc_id("b"));
    assert!(moto
        .ec2(&[("Action", "DescribeInternetGateways"), ("Filter.1.Name", "attachment.vpc-id"), ("Filter.1.Value.1", &a)])
        .contains("<internetGatewayId>"));

    std::fs::write(d.join("main.tf"), stack("b")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_internet_gateway.gw will be updated in-place"), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let on_b = moto.ec2(&[("Action", "DescribeInternetGateways"), ("Filter.1.Name", "attachment.vpc-id"), ("Filter.1.Value.1", &b)]);
    assert!(on_b.contains("<internetGatewayId>"), "{on_b}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!moto.ec2(&[("Action", "DescribeInternetGateways")]).contains("<key>Name</key><value>gw</value>"));
}

#[test]
fn a_public_route_table_routes_through_the_gateway_and_its_routes_update_in_place() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |extra_route: bool| {
        let extra = if extra_route { "\n  route {\n    cidr_block = \"192.168.0.0/16\"\n    gateway_id = aws_internet_gateway.gw.id\n  }" } else { "" };
        format!(
            "{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.4.0.0/16\"\n}}\n\nresource \"aws_internet_gateway\" \"gw\" {{\n  vpc_id = aws_vpc.main.id\n}}\n\nresource \"aws_subnet\" \"public\" {{\n  count      = 2\n  vpc_id     = aws_vpc.main.id\n  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)\n}}\n\nresource \"aws_route_table\" \"public\" {{\n  vpc_id = aws_vpc.main.id\n  route {{\n    cidr_block = \"0.0.0.0/0\"\n    gateway_id = aws_internet_gateway.gw.id\n  }}{extra}\n}}\n\nresource \"aws_route_table_association\" \"public\" {{\n  count          = 2\n  subnet_id      = aws_subnet.public[count.index].id\n  route_table_id = aws_route_table.public.id\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack(false)).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 7 added"), "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "the implicit local route is not a diff, nor are the associations:\n{out}");
    let tables = moto.ec2(&[("Action", "DescribeRouteTables"), ("Filter.1.Name", "route.destination-cidr-block"), ("Filter.1.Value.1", "0.0.0.0/0")]);
    assert!(tables.contains("<gatewayId>igw-") && tables.matches("<routeTableAssociationId>").count() >= 2, "{tables}");

    std::fs::write(d.join("main.tf"), stack(true)).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_route_table.public will be updated in-place") && out.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(moto.ec2(&[("Action", "DescribeRouteTables")]).contains("192.168.0.0/16"));
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!moto.ec2(&[("Action", "DescribeRouteTables")]).contains("192.168.0.0/16"));
}

#[test]
fn security_groups_compare_rules_as_sets_and_reference_each_other() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |efs_description: &str, extra_alb_port: bool| {
        let extra = if extra_alb_port {
            "\n  ingress {\n    from_port   = 8443\n    to_port     = 8443\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }"
        } else {
            ""
        };
        format!(
            "{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.0.0.0/16\"\n}}\n\nresource \"aws_security_group\" \"alb\" {{\n  name   = \"alb\"\n  vpc_id = aws_vpc.main.id\n  dynamic \"ingress\" {{\n    for_each = [80, 443]\n    content {{\n      from_port   = ingress.value\n      to_port     = ingress.value\n      protocol    = \"tcp\"\n      cidr_blocks = [\"0.0.0.0/0\"]\n    }}\n  }}{extra}\n  egress {{\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n}}\n\nresource \"aws_security_group\" \"tasks\" {{\n  name   = \"tasks\"\n  vpc_id = aws_vpc.main.id\n  ingress {{\n    from_port       = 3001\n    to_port         = 3001\n    protocol        = \"tcp\"\n    security_groups = [aws_security_group.alb.id]\n  }}\n  ingress {{\n    from_port       = 8080\n    to_port         = 8080\n    protocol        = \"tcp\"\n    security_groups = [aws_security_group.alb.id]\n  }}\n}}\n\nresource \"aws_security_group\" \"efs\" {{\n  name        = \"efs\"\n  description = \"{efs_description}\"\n  vpc_id      = aws_vpc.main.id\n  ingress {{\n    from_port       = 2049\n    to_port         = 2049\n    protocol        = \"tcp\"\n    security_groups = [aws_security_group.tasks.id]\n  }}\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack("EFS from tasks", false)).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "rules read back compare equal as sets; AWS's default egress was removed where none is configured:\n{out}");
    let tasks = moto.ec2(&[("Action", "DescribeSecurityGroups"), ("Filter.1.Name", "group-name"), ("Filter.1.Value.1", "tasks")]);
    assert!(
        tasks.contains("<fromPort>3001</fromPort>") && !tasks.contains("<cidrIp>0.0.0.0/0</cidrIp>"),
        "tasks: ALB-only ingress, no default egress: {tasks}"
    );

    std::fs::write(d.join("main.tf"), stack("EFS from tasks", true)).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_security_group.alb will be updated in-place") && out.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{out}");
    assert_eq!(infra(d, &["apply", "--auto-approve"], &[]).0, 0);
    assert!(moto
        .ec2(&[("Action", "DescribeSecurityGroups"), ("Filter.1.Name", "group-name"), ("Filter.1.Value.1", "alb")])
        .contains("<fromPort>8443</fromPort>"));
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    std::fs::write(d.join("main.tf"), stack("NFS from tasks", true)).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_security_group.efs must be replaced") && out.contains("# forces replacement"), "{out}");

    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let left = moto.ec2(&[("Action", "DescribeSecurityGroups")]);
    assert!(!left.contains("<groupName>alb</groupName>") && !left.contains("<groupName>tasks</groupName>"), "{left}");
}

#[test]
fn two_aliased_providers_manage_two_regions_and_hand_edits_show_as_drift() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let block = |alias: &str, region: &str| {
        format!(
            "provider \"aws\" {{\n  alias       = \"{alias}\"\n  region      = \"{region}\"\n  access_key  = \"test\"\n  secret_key  = \"test\"\n  max_retries = 0\n  endpoints {{\n    ec2 = \"{}\"\n  }}\n}}\n",
            moto.url
        )
    };
    let stack = format!(
        "{}{}\nresource \"aws_vpc\" \"east\" {{\n  provider   = aws.east\n  cidr_block = \"10.10.0.0/16\"\n  tags = {{\n    Name = \"east\"\n  }}\n}}\n\nresource \"aws_vpc\" \"west\" {{\n  provider   = aws.west\n  cidr_block = \"10.20.0.0/16\"\n}}\n\noutput \"arns\" {{\n  value = [aws_vpc.east.arn, aws_vpc.west.arn]\n}}\n",
        block("east", "us-east-1"),
        block("west", "eu-west-3")
    );
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("arn:aws:ec2:us-east-1:") && out.contains("arn:aws:ec2:eu-west-3:"), "{out}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    // A tag changed by hand in the console is drift: refresh-only reports it and exits 2.
    let (_, shown) = infra(d, &["state", "show", "aws_vpc.east"], &[]);
    let id = shown.lines().find_map(|l| l.trim().strip_prefix("id").map(|r| r.trim_start_matches([' ', '=']).trim_matches('"').to_string())).unwrap();
    moto.ec2(&[("Action", "CreateTags"), ("ResourceId.1", &id), ("Tag.1.Key", "Name"), ("Tag.1.Value", "renamed-by-hand")]);
    let (code, out) = infra(d, &["plan", "--refresh-only", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("# aws_vpc.east has changed") && out.contains("renamed-by-hand"), "{out}");
    // A normal plan puts the configured tag back, in place.
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{out}");
    assert_eq!(infra(d, &["plan", "--refresh-only", "--detailed-exitcode"], &[]).0, 0);
    assert_eq!(infra(d, &["destroy", "--auto-approve"], &[]).0, 0);
}

#[test]
fn standalone_rules_attach_to_a_group_without_inline_rules() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |port: u16| {
        format!(
            "{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.0.0.0/16\"\n}}\n\nresource \"aws_security_group\" \"web\" {{\n  name   = \"web\"\n  vpc_id = aws_vpc.main.id\n}}\n\nresource \"aws_security_group\" \"db\" {{\n  name   = \"db\"\n  vpc_id = aws_vpc.main.id\n}}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"https\" {{\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"tcp\"\n  from_port         = {port}\n  to_port           = {port}\n  cidr_ipv4         = \"0.0.0.0/0\"\n  description       = \"public https\"\n}}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"db_from_web\" {{\n  security_group_id            = aws_security_group.db.id\n  ip_protocol                  = \"tcp\"\n  from_port                    = 5432\n  to_port                      = 5432\n  referenced_security_group_id = aws_security_group.web.id\n}}\n\nresource \"aws_vpc_security_group_egress_rule\" \"all\" {{\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"-1\"\n  cidr_ipv4         = \"0.0.0.0/0\"\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack(443)).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "groups without inline rules leave the standalone rules alone:\n{out}");
    let rules = moto.ec2(&[("Action", "DescribeSecurityGroupRules")]);
    assert!(rules.contains("<fromPort>443</fromPort>") && rules.contains("<fromPort>5432</fromPort>"), "{rules}");

    std::fs::write(d.join("main.tf"), stack(8443)).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("# aws_vpc_security_group_ingress_rule.https must be replaced") && out.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{out}"
    );
    assert_eq!(infra(d, &["apply", "--auto-approve"], &[]).0, 0);
    let rules = moto.ec2(&[("Action", "DescribeSecurityGroupRules")]);
    assert!(rules.contains("<fromPort>8443</fromPort>") && !rules.contains("<fromPort>443</fromPort>"), "{rules}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);
    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn instances_spread_over_subnets_and_change_type_in_place() {
    let moto = start_moto();
    let images = moto.ec2(&[("Action", "DescribeImages")]);
    let ami = images.split("<imageId>").nth(1).and_then(|s| s.split('<').next()).expect("moto ships AMIs").to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |instance_type: &str| {
        format!(
            "{}\ndata \"aws_availability_zones\" \"available\" {{\n  state = \"available\"\n}}\n\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.0.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"app\" {{\n  count             = 2\n  vpc_id            = aws_vpc.main.id\n  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)\n  availability_zone = data.aws_availability_zones.available.names[count.index]\n}}\n\nresource \"aws_security_group\" \"app\" {{\n  name   = \"app\"\n  vpc_id = aws_vpc.main.id\n  ingress {{\n    from_port   = 3000\n    to_port     = 3000\n    protocol    = \"tcp\"\n    cidr_blocks = [aws_vpc.main.cidr_block]\n  }}\n}}\n\nresource \"aws_instance\" \"app\" {{\n  count                  = 3\n  ami                    = \"{ami}\"\n  instance_type          = \"{instance_type}\"\n  subnet_id              = aws_subnet.app[count.index % 2].id\n  vpc_security_group_ids = [aws_security_group.app.id]\n  tags = {{\n    Name = \"app-${{count.index + 1}}\"\n  }}\n}}\n\noutput \"zones\" {{\n  value = distinct(aws_instance.app[*].availability_zone)\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack("t3.medium")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 7 added") && out.contains("\"us-east-1a\",\n    \"us-east-1b\","), "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "{out}");

    std::fs::write(d.join("main.tf"), stack("t3.large")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 0 to add, 3 to change, 0 to destroy.") && out.contains("~ instance_type"), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let running = moto.ec2(&[("Action", "DescribeInstances"), ("Filter.1.Name", "instance-state-name"), ("Filter.1.Value.1", "running")]);
    assert_eq!(running.matches("<instanceType>t3.large</instanceType>").count(), 3, "{running}");
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);

    let (code, out) = infra(d, &["destroy", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let left = moto.ec2(&[("Action", "DescribeInstances"), ("Filter.1.Name", "instance-state-name"), ("Filter.1.Value.1", "running")]);
    assert!(!left.contains("<instanceId>"), "{left}");
}

#[test]
fn the_ami_data_source_picks_the_most_recent_match_or_asks_for_most_recent() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |most_recent: bool| {
        format!(
            "{}\ndata \"aws_ami\" \"ubuntu\" {{\n  owners      = [\"099720109477\"]\n  most_recent = {most_recent}\n  filter {{\n    name   = \"name\"\n    values = [\"ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*\"]\n  }}\n}}\n\noutput \"ami\" {{\n  value = data.aws_ami.ubuntu.name\n}}\n",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack(true)).unwrap();
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+ ami = \"ubuntu/images/hvm-ssd/ubuntu-"), "{out}");
    std::fs::write(d.join("main.tf"), stack(false)).unwrap();
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Your query returned more than one result") && out.contains("data.aws_ami.ubuntu"), "{out}");
}

#[test]
fn overlapping_subnets_fail_the_plan_before_any_create() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = |extra: &str| {
        format!(
            "{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.4.0.0/16\"\n}}\n\nresource \"aws_subnet\" \"a\" {{\n  vpc_id     = aws_vpc.main.id\n  cidr_block = \"10.4.1.0/24\"\n}}\n{extra}",
            provider_block(&moto)
        )
    };
    std::fs::write(d.join("main.tf"), stack("")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(d.join("main.tf"), stack("\nresource \"aws_subnet\" \"b\" {\n  vpc_id     = aws_vpc.main.id\n  cidr_block = \"10.4.1.128/25\"\n}\n"))
        .unwrap();
    let before = moto.requests();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Overlapping subnets") && out.contains("10.4.1.128/25 overlaps 10.4.1.0/24") && out.contains("main.tf:"), "{out}");
    let after = moto.request_lines();
    assert!(after.len() - before < 10, "only the refresh ran: {:?}", &after[before..]);
    assert_eq!(moto.ec2(&[("Action", "DescribeSubnets")]).matches("<cidrBlock>10.4.").count(), 1, "nothing was created");
}

#[test]
fn per_object_attributes_are_rechecked_by_drift_detection_and_refresh_full() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack =
        format!("{}\nresource \"aws_vpc\" \"main\" {{\n  cidr_block           = \"10.6.0.0/16\"\n  enable_dns_hostnames = true\n}}\n", provider_block(&moto));
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let xml = moto.ec2(&[("Action", "DescribeVpcs"), ("Filter.1.Name", "cidr"), ("Filter.1.Value.1", "10.6.0.0/16")]);
    let id = xml.split("<vpcId>").nth(1).and_then(|s| s.split('<').next()).unwrap().to_string();
    // A hand edit of a setting that only a per-VPC call reads.
    moto.ec2(&[("Action", "ModifyVpcAttribute"), ("VpcId", &id), ("EnableDnsHostnames.Value", "false")]);
    // A routine plan reads what the batched DescribeVpcs returns and keeps the recorded DNS
    // settings: two calls fewer per VPC (documented in README and docs/provider-contract.md).
    let before = moto.requests();
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"], &[]).0, 0);
    assert_eq!(moto.requests() - before, 1, "one DescribeVpcs");
    // Drift detection re-reads everything and names the change.
    let (code, out) = infra(d, &["plan", "--refresh-only", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("enable_dns_hostnames") && out.contains("true -> false"), "{out}");
    // So does --refresh-full, which then plans the fix.
    let (code, out) = infra(d, &["plan", "--refresh-full", "--detailed-exitcode"], &[]);
    assert_eq!(code, 2, "{out}");
    // (the plan pads `=` to the longest name shown with it)
    let squeezed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains("# aws_vpc.main will be updated in-place") && squeezed.contains("enable_dns_hostnames = false -> true"), "{out}");
    let (code, out) = infra(d, &["apply", "--refresh-full", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(moto.ec2(&[("Action", "DescribeVpcAttribute"), ("VpcId", &id), ("Attribute", "enableDnsHostnames")]).contains("<value>true</value>"));
}

#[test]
fn data_sources_find_an_existing_vpc_its_subnets_and_the_caller() {
    let moto = start_moto();
    // A network made by hand, outside any stack.
    let xml = moto.ec2(&[
        ("Action", "CreateVpc"),
        ("CidrBlock", "10.8.0.0/16"),
        ("TagSpecification.1.ResourceType", "vpc"),
        ("TagSpecification.1.Tag.1.Key", "Name"),
        ("TagSpecification.1.Tag.1.Value", "shared"),
    ]);
    let vpc = xml.split("<vpcId>").nth(1).and_then(|s| s.split('<').next()).unwrap().to_string();
    for (cidr, tier) in [("10.8.1.0/24", "private"), ("10.8.2.0/24", "private"), ("10.8.3.0/24", "public")] {
        moto.ec2(&[
            ("Action", "CreateSubnet"),
            ("VpcId", &vpc),
            ("CidrBlock", cidr),
            ("TagSpecification.1.ResourceType", "subnet"),
            ("TagSpecification.1.Tag.1.Key", "Tier"),
            ("TagSpecification.1.Tag.1.Value", tier),
        ]);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stack = format!(
        "{}\ndata \"aws_caller_identity\" \"me\" {{}}\n\ndata \"aws_vpc\" \"shared\" {{\n  tags = {{\n    Name = \"shared\"\n  }}\n}}\n\ndata \"aws_subnets\" \"private\" {{\n  filter {{\n    name   = \"vpc-id\"\n    values = [data.aws_vpc.shared.id]\n  }}\n  tags = {{\n    Tier = \"private\"\n  }}\n}}\n\noutput \"account\" {{\n  value = data.aws_caller_identity.me.account_id\n}}\n\noutput \"vpc\" {{\n  value = \"${{data.aws_vpc.shared.id}} ${{data.aws_vpc.shared.cidr_block}} ${{data.aws_vpc.shared.enable_dns_support}}\"\n}}\n\noutput \"private_subnets\" {{\n  value = length(data.aws_subnets.private.ids)\n}}\n",
        // GetCallerIdentity goes to the sts endpoint.
        provider_block(&moto).replace(&format!("    ec2 = \"{}\"\n", moto.url), &format!("    ec2 = \"{0}\"\n    sts = \"{0}\"\n", moto.url))
    );
    std::fs::write(d.join("main.tf"), stack).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("account = \"123456789012\""), "{out}");
    assert!(out.contains(&format!("vpc = \"{vpc} 10.8.0.0/16 true\"")), "{out}");
    assert!(out.contains("private_subnets = 2"), "{out}");
    // No match is an error naming the data source, as in terraform-provider-aws.
    let missing = std::fs::read_to_string(d.join("main.tf")).unwrap().replace("Name = \"shared\"", "Name = \"nowhere\"");
    std::fs::write(d.join("main.tf"), missing).unwrap();
    let (code, out) = infra(d, &["plan"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("data.aws_vpc.shared") && out.contains("0 VPCs match"), "{out}");
}

/// terraform-provider-aws's documented import ids for the types the bdd-bot example lacks:
/// `aws_route` by `<route table id>_<destination>`, `aws_instance` by instance id, the rule
/// resources by `sgr-` id. `aws_lb_target_group_attachment` has no Terraform import ("You
/// cannot import Target Group Attachments"); infra imports it by what it attaches,
/// `<target group ARN>,<target id>[,<port>]`. Each is made by hand, imported with the
/// configuration `-generate-config-out` writes, and then plans empty.
#[test]
fn routes_instances_rules_and_attachments_import_by_their_documented_ids() {
    let moto = start_moto();
    let server = moto_server();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import_ids.py");
    let out = std::process::Command::new(server.parent().unwrap().join("python")).arg(script).arg(&moto.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ids: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    ec2   = \"{0}\"\n    elbv2 = \"{0}\"\n  }}\n}}\n",
        moto.url
    );
    for (to, id) in &ids {
        text.push_str(&format!("\nimport {{\n  to = {to}\n  id = \"{}\"\n}}\n", id.as_str().unwrap()));
    }
    std::fs::write(d.join("main.tf"), text).unwrap();
    let (code, out) = infra(d, &["plan", "-generate-config-out=generated.tf", "--detailed-exitcode"], &[]);
    let generated = std::fs::read_to_string(d.join("generated.tf")).unwrap_or_default();
    assert_eq!(code, 2, "{out}\n{generated}");
    assert!(out.contains("Plan: 5 to import, 0 to add, 0 to change, 0 to destroy."), "{out}\n{generated}");
    for to in ids.keys() {
        assert!(out.contains(&format!("# {to} will be imported")), "{to}: {out}");
    }
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "{out}\n{generated}");
    let (_, list) = infra(d, &["state", "list"], &[]);
    assert_eq!(list.lines().count(), 5, "{list}");
}

/// `aws_efs_backup_policy` imports by its file system id, as terraform-provider-aws documents:
/// moto keeps the policy of a file system created with `Backup: true` (ENABLED) and answers
/// DescribeBackupPolicy with PolicyNotFound for one created without, which AWS reads as backups
/// off (DISABLED). The configuration `-generate-config-out` writes plans clean after the
/// import. moto has no PutBackupPolicy (see `aws_defaults.rs`), so no policy is changed here,
/// and it answers a DescribeBackupPolicy of a file system that does not exist with a Python
/// error, so that case is not tested against it.
#[test]
fn efs_backup_policies_import_by_file_system_id_and_plan_clean() {
    let moto = start_moto();
    let fs = |token: &str, backup: bool| {
        let made = moto.efs("POST", "/file-systems", serde_json::json!({"CreationToken": token, "Backup": backup}));
        made["FileSystemId"].as_str().unwrap_or_else(|| panic!("{made}")).to_string()
    };
    let (on, off) = (fs("with-backup", true), fs("without-backup", false));
    let policy = moto.efs("GET", &format!("/file-systems/{on}/backup-policy"), serde_json::Value::Null);
    assert_eq!(policy["BackupPolicy"]["Status"], "ENABLED", "{policy}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let provider = provider_block(&moto).replace("    ec2 = ", &format!("    efs = \"{}\"\n    ec2 = ", moto.url));
    assert!(provider.contains("efs = "), "{provider}");
    let imports =
        format!("import {{\n  to = aws_efs_backup_policy.on\n  id = \"{on}\"\n}}\n\nimport {{\n  to = aws_efs_backup_policy.off\n  id = \"{off}\"\n}}\n");
    std::fs::write(d.join("main.tf"), format!("{provider}\n{imports}")).unwrap();
    let (code, out) = infra(d, &["plan", "-generate-config-out=generated.tf", "--detailed-exitcode"], &[]);
    let generated = std::fs::read_to_string(d.join("generated.tf")).unwrap_or_default();
    assert_eq!(code, 2, "{out}\n{generated}");
    assert!(out.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."), "{out}\n{generated}");
    let flat = generated.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        format!("resource \"aws_efs_backup_policy\" \"on\" {{ file_system_id = \"{on}\" backup_policy {{ status = \"ENABLED\" }} }}"),
        format!("resource \"aws_efs_backup_policy\" \"off\" {{ file_system_id = \"{off}\" backup_policy {{ status = \"DISABLED\" }} }}"),
    ] {
        assert!(flat.contains(&want), "no {want} in\n{generated}");
    }
    let (code, out) = infra(d, &["apply", "--auto-approve"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 0 added, 0 changed, 0 destroyed."), "{out}");
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(code, 0, "{out}\n{generated}");
    let (_, shown) = infra(d, &["state", "show", "aws_efs_backup_policy.on"], &[]);
    assert!(shown.contains("\"ENABLED\"") && shown.contains(&on), "{shown}");
    // Nothing was written: no PutBackupPolicy reached moto.
    assert!(!moto.request_lines().iter().any(|l| l.contains("PUT") && l.contains("backup-policy")), "{:?}", moto.request_lines());
}
