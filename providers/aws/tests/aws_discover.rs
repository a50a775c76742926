//! `infra discover aws` against a real moto server: a stack made by hand with boto3
//! (`data/discover_stack.py`: VPC, two subnets, internet gateway, route table with a route and
//! two associations, two security groups one admitting the other, EFS with a mount target,
//! target group, load balancer and listener, an ECS cluster, a task definition mounting the EFS
//! volume and a Fargate service behind the target group) is written as a stack that passes `fmt --check`,
//! uses references instead of literal ids, plans as imports only, applies, and then plans empty;
//! a user's first change (a service's `desired_count`) applies.

use infra_test_harness::moto::*;
use std::path::Path;
use std::process::Command;

fn build_by_hand(moto: &Moto) -> serde_json::Value {
    run_script(moto, "discover_stack.py")
}

fn run_script(moto: &Moto, name: &str) -> serde_json::Value {
    let server = moto_server();
    let python = server.parent().unwrap().join("python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let out = Command::new(python).arg(script).arg(&moto.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn discover_writes_a_stack_with_references_that_plans_as_imports_only_and_then_empty() {
    let moto = start_moto();
    let made = build_by_hand(&moto);
    let vpc = made["vpc"].as_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let env = aws_env();
    let (code, out) = infra(
        work.path(),
        &["discover", "aws", "--region", "us-east-1", "--vpc-id", vpc, "--endpoint", &moto.url, "--max-retries", "0", "--out", "stack"],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let d = work.path().join("stack");
    for f in ["provider.tf", "network.tf", "storage.tf", "alb.tf", "ecs.tf", "imports.tf"] {
        assert!(d.join(f).exists(), "{f} missing: {out}");
    }
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let (network, storage, alb, ecs, imports) = (read("network.tf"), read("storage.tf"), read("alb.tf"), read("ecs.tf"), read("imports.tf"));
    let all = format!("{network}{storage}{alb}{ecs}");

    // Names from Name tags; references wherever the object is in the stack.
    for want in [
        "resource \"aws_vpc\" \"bdd_bot_vpc\"",
        "resource \"aws_security_group\" \"bdd_bot_alb\"",
        "vpc_id = aws_vpc.bdd_bot_vpc.id",
        "gateway_id = aws_internet_gateway.bdd_bot_igw.id",
        // The associations, one per subnet keyed by zone: over the subnets' for_each.
        "resource \"aws_route_table_association\" \"bdd_bot_public\" { for_each = aws_subnet.bdd_bot_public",
        "subnet_id = each.value.id",
        "route_table_id = aws_route_table.bdd_bot_public.id",
        "security_groups = [aws_security_group.bdd_bot_alb.id]",
        "file_system_id  = aws_efs_file_system.bdd_bot_data.id",
        "load_balancer_arn = aws_lb.bdd_bot_alb.arn",
        "target_group_arn = aws_lb_target_group.bdd_bot_app.arn",
        "cluster         = aws_ecs_cluster.bdd_bot_prod.arn",
        "task_definition = aws_ecs_task_definition.bdd_bot.arn",
        "file_system_id     = aws_efs_file_system.bdd_bot_data.id",
        "security_groups  = [aws_security_group.bdd_bot_app.id]",
        "container_definitions = jsonencode([{",
    ] {
        let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat(&all).contains(&flat(want)), "no {want:?} in\n{all}");
    }
    // The load balancer's subnets: both of the grouped public subnets.
    let subnets = alb.lines().find(|l| l.trim_start().starts_with("subnets ")).unwrap_or_default();
    assert_eq!(flat(subnets), "subnets = values(aws_subnet.bdd_bot_public)[*].id", "{alb}");
    // No literal id of an object of the stack outside the import blocks.
    for prefix in ["\"vpc-", "\"subnet-", "\"igw-", "\"rtb-", "\"sg-", "\"fs-", "\"arn:"] {
        assert!(!all.contains(prefix), "literal {prefix} in\n{all}");
    }
    // 17 objects and the default route, an aws_route.
    assert_eq!(imports.matches("import {").count(), 18, "{imports}");
    // What AWS made by itself is left out: the default security group and the main route table.
    assert!(!all.contains("name        = \"default\""), "{all}");
    assert_eq!(network.matches("resource \"aws_route_table\"").count(), 1, "{network}");

    let (code, out) = infra(&d, &["fmt", "--check"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan"], &env);
    assert_eq!(code, 0, "{out}");
    // moto does not report a service's deployment configuration, grace period nor platform
    // version: the import reads what AWS reports for a service created without them, so the
    // plan is imports only, as on AWS.
    assert!(out.contains("Plan: 18 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No changes."), "{out}");

    // The user's first change applies, and the stack is clean again.
    let count = ecs.lines().find(|l| l.trim_start().starts_with("desired_count ")).unwrap_or_default();
    assert!(count.ends_with("= 1"), "{ecs}");
    std::fs::write(d.join("ecs.tf"), ecs.replace(count, &count.replace("= 1", "= 2"))).unwrap();
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 0, "{out}");

    // A directory with a stack in it is never overwritten.
    let (code, out) = infra(work.path(), &["discover", "aws", "--region", "us-east-1", "--endpoint", &moto.url, "--out", "stack"], &env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("already holds .tf files"), "{out}");
}

#[test]
fn discover_with_a_tag_keeps_tagged_objects_and_what_joins_them() {
    let moto = start_moto();
    build_by_hand(&moto);
    // Something else in the region, untagged: left out by --tag.
    moto.ec2(&[("Action", "CreateVpc"), ("CidrBlock", "10.99.0.0/16")]);
    let work = tempfile::tempdir().unwrap();
    let env = aws_env();
    let (code, out) = infra(
        work.path(),
        &[
            "discover",
            "aws",
            "--region",
            "us-east-1",
            "--tag",
            "app=bdd-bot",
            "--type",
            "aws_vpc",
            "--type",
            "aws_subnet",
            "--type",
            "aws_route_table",
            "--type",
            "aws_route_table_association",
            "--endpoint",
            &moto.url,
            "--out",
            "stack",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let imports = std::fs::read_to_string(work.path().join("stack/imports.tf")).unwrap();
    assert_eq!(imports.matches("import {").count(), 1 + 2 + 1 + 2, "{imports}");
    assert!(!std::fs::read_to_string(work.path().join("stack/network.tf")).unwrap().contains("10.99.0.0/16"));
    let (code, out) = infra(&work.path().join("stack"), &["plan"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 6 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
}

/// Whitespace-insensitive: the formatter aligns `=` signs.
fn flat(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn seed_000_built_by_hand_is_discovered_grouped_imported_changed_and_destroyed() {
    let moto = start_moto();
    let made = run_script(&moto, "seed_000_stack.py");
    let vpc = made["vpc"].as_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let env = aws_env();
    let before = moto.requests();
    let (code, out) = infra(
        work.path(),
        &["discover", "aws", "--region", "us-east-1", "--vpc-id", vpc, "--endpoint", &moto.url, "--max-retries", "0", "--out", "stack"],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let calls = moto.requests() - before;
    // Batched: 21 types, each one listing and one batched read, one page each here (42), plus
    // what AWS only answers per object or per parent: the VPC's two DNS attributes, the load
    // balancer's and each target group's attributes, each task definition (no batched
    // Describe), DescribeTargetHealth per target group and DescribeRules / DescribeListeners
    // per listener and load balancer in the listings that need them, the clusters' service
    // lists, and the EFS policies per file system (about 25 here). One `import` per object,
    // as before, made 3 to 6 calls for each of the 33 objects (over 120).
    assert!(calls <= 75, "discover made {calls} API calls:\n{}", moto.request_lines()[before..].join("\n"));
    let d = work.path().join("stack");
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let (network, storage, alb, ecs, imports) = (read("network.tf"), read("storage.tf"), read("alb.tf"), read("ecs.tf"), read("imports.tf"));
    let all = format!("{network}{storage}{alb}{ecs}");

    // Grouped: the private and public subnets (two zones each, named by zone: for_each over
    // a map keyed a and b, as a person writes it) and the mount targets (one per private
    // subnet, over the subnets), with keyed import addresses.
    for want in [
        "resource \"aws_subnet\" \"bdd_bot_private\" { for_each = local.bdd_bot_private",
        "resource \"aws_subnet\" \"bdd_bot_public\" { for_each = local.bdd_bot_public",
        "availability_zone = each.value.availability_zone",
        "cidr_block = each.value.cidr_block",
        "bdd_bot_private = { a = { availability_zone = \"us-east-1a\", cidr_block = \"10.0.11.0/24\", Name = \"bdd-bot-private-a\" }",
        "resource \"aws_efs_mount_target\" \"bdd_bot_sqlite_storage_bdd_bot_private\" { for_each = aws_subnet.bdd_bot_private",
        "subnet_id = each.value.id",
        "file_system_id = aws_efs_file_system.bdd_bot_sqlite_storage.id",
        "security_groups = [aws_security_group.bdd_bot_efs.id]",
        "subnets = values(aws_subnet.bdd_bot_public)[*].id",
        "subnets = values(aws_subnet.bdd_bot_private)[*].id",
        // The three security groups reference each other.
        "security_groups = [aws_security_group.bdd_bot_alb.id]",
        "security_groups = [aws_security_group.bdd_bot_tasks.id]",
        // The route added by `create-route` is an aws_route; the table has no inline route.
        "resource \"aws_route\" \"",
        "route_table_id = aws_route_table.bdd_bot_public.id",
        "gateway_id = aws_internet_gateway.bdd_bot_igw.id",
        // The two associations, one per public subnet, grouped too.
        "resource \"aws_route_table_association\" \"bdd_bot_public\" { for_each = aws_subnet.bdd_bot_public",
        "resource \"aws_lb_listener_rule\"",
        "target_group_arn = aws_lb_target_group.bdd_bot_backend.arn",
        "target_group_arn = aws_lb_target_group.bdd_bot_frontend.arn",
        "listener_arn = aws_lb_listener.bdd_bot_alb_80.arn",
        "enable_deletion_protection = true",
        "cluster = aws_ecs_cluster.bdd_bot_prod.arn",
        "task_definition = aws_ecs_task_definition.bdd_bot_backend.arn",
        "task_definition = aws_ecs_task_definition.bdd_bot_frontend.arn",
        "file_system_id = aws_efs_file_system.bdd_bot_sqlite_storage.id",
        "container_definitions = jsonencode([{",
        "value = \"enabled\"",
    ] {
        assert!(flat(&all).contains(&flat(want)), "no {want:?} in\n{all}");
    }
    assert!(!network.contains("route {"), "{network}");
    assert!(!all.contains("aws_lb_target_group_attachment"), "targets ECS registers are the service's: {all}");
    for key in ["a", "b"] {
        for to in [
            format!("aws_subnet.bdd_bot_private[\"{key}\"]"),
            format!("aws_subnet.bdd_bot_public[\"{key}\"]"),
            format!("aws_efs_mount_target.bdd_bot_sqlite_storage_bdd_bot_private[\"{key}\"]"),
            format!("aws_route_table_association.bdd_bot_public[\"{key}\"]"),
        ] {
            assert!(imports.contains(&format!("to = {to}\n")), "no import to {to} in\n{imports}");
        }
    }
    // No literal id of an object of the stack outside the import blocks.
    for prefix in ["\"vpc-", "\"subnet-", "\"igw-", "\"rtb-", "\"sg-", "\"fs-", "\"fsmt-", "\"arn:"] {
        assert!(!all.contains(prefix), "literal {prefix} in\n{all}");
    }
    // VPC, 4 subnets, IGW, route table, route, 2 associations, 3 security groups, file system,
    // 2 mount targets, load balancer, 2 target groups, listener, listener rule, cluster, 2 task
    // definitions, 2 services.
    let objects = 1 + 4 + 1 + 1 + 1 + 2 + 3 + 1 + 2 + 1 + 2 + 1 + 1 + 1 + 2 + 2;
    assert_eq!(imports.matches("import {").count(), objects, "{imports}");

    let (code, out) = infra(&d, &["fmt", "--check"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("Plan: {objects} to import, 0 to add, 0 to change, 0 to destroy.")), "{out}");
    assert!(out.contains("# aws_subnet.bdd_bot_private[\"b\"] will be imported"), "{out}");
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No changes."), "{out}");

    // The user's first change: the backend runs 3 tasks.
    let (from, to) = ("desired_count = 2", "desired_count = 3");
    let ecs_flat_has = |t: &str, w: &str| t.lines().any(|l| flat(l) == w);
    assert!(ecs_flat_has(&ecs, from), "{ecs}");
    let backend = ecs.find("resource \"aws_ecs_service\" \"bdd_bot_backend\"").unwrap();
    let at = backend + ecs[backend..].find("desired_count").unwrap();
    let end = at + ecs[at..].find('\n').unwrap();
    let changed = format!("{}{}{}", &ecs[..at], to, &ecs[end..]);
    std::fs::write(d.join("ecs.tf"), changed).unwrap();
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let services = moto.ecs("DescribeServices", serde_json::json!({"cluster": "bdd-bot-prod", "services": ["bdd-bot-backend", "bdd-bot-frontend"]}));
    let counts: Vec<i64> = services["services"].as_array().unwrap().iter().map(|s| s["desiredCount"].as_i64().unwrap()).collect();
    assert_eq!(counts, [3, 2], "{services}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 0, "{out}");

    // Destroy is refused while the load balancer is protected; off in the HCL, it goes.
    let (code, out) = infra(&d, &["destroy", "--auto-approve"], &env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Deletion protection is enabled"), "{out}");
    let alb = read("alb.tf");
    // The generated file is formatted: the `=` may be padded to its neighbours'.
    let on = regex::Regex::new(r"enable_deletion_protection( *)= true").unwrap();
    assert!(on.is_match(&alb), "the generated load balancer keeps its deletion protection: {alb}");
    std::fs::write(d.join("alb.tf"), on.replace(&alb, "enable_deletion_protection$1= false").as_ref()).unwrap();
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["destroy", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("Destroy complete! Resources: {objects} destroyed.")), "{out}");

    // Nothing of it is left in moto.
    let vpcs = moto.ec2(&[("Action", "DescribeVpcs")]);
    assert!(!vpcs.contains(vpc), "{vpcs}");
    for action in ["DescribeSubnets", "DescribeSecurityGroups", "DescribeRouteTables", "DescribeInternetGateways"] {
        let listed = moto.ec2(&[("Action", action), ("Filter.1.Name", "tag:app"), ("Filter.1.Value.1", "bdd-bot")]);
        assert!(!listed.contains("bdd-bot"), "{action}: {listed}");
    }
    for action in ["DescribeLoadBalancers", "DescribeTargetGroups"] {
        let listed = moto.elbv2(&[("Action", action)]);
        assert!(!listed.contains("bdd-bot"), "{action}: {listed}");
    }
    let fs = moto.efs("GET", "/file-systems", serde_json::Value::Null);
    assert_eq!(fs["FileSystems"].as_array().map(Vec::len), Some(0), "{fs}");
    let clusters = moto.ecs("DescribeClusters", serde_json::json!({"clusters": ["bdd-bot-prod"]}));
    assert!(clusters["clusters"].as_array().unwrap().iter().all(|c| c["status"] == "INACTIVE"), "{clusters}");
    let tds = moto.ecs("ListTaskDefinitions", serde_json::json!({"status": "ACTIVE"}));
    assert_eq!(tds["taskDefinitionArns"].as_array().map(Vec::len), Some(0), "{tds}");
}

/// Two security groups made by hand that admit each other cannot be written with inline rules
/// naming each other (a cycle): discover writes them without inline rules and each of their
/// rules as an `aws_vpc_security_group_ingress_rule` / `_egress_rule` referencing both groups,
/// as Terraform users break such a cycle; the stack plans as imports only, then empty, and
/// the rules in moto are the same ones.
#[test]
fn security_groups_admitting_each_other_become_rule_resources_that_plan_clean() {
    let moto = start_moto();
    let made = run_script(&moto, "mutual_groups.py");
    let vpc = made["vpc"].as_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let env = aws_env();
    let rules_before = moto.ec2(&[("Action", "DescribeSecurityGroupRules")]);
    let (code, out) = infra(
        work.path(),
        &["discover", "aws", "--region", "us-east-1", "--vpc-id", vpc, "--endpoint", &moto.url, "--max-retries", "0", "--out", "stack"],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let d = work.path().join("stack");
    let network = std::fs::read_to_string(d.join("network.tf")).unwrap();
    let imports = std::fs::read_to_string(d.join("imports.tf")).unwrap();
    let f = flat(&network);
    for want in [
        "resource \"aws_security_group\" \"mesh_app\"",
        "resource \"aws_security_group\" \"mesh_db\"",
        "resource \"aws_vpc_security_group_ingress_rule\" \"mesh_db_5432_from_mesh_app\" {",
        "resource \"aws_vpc_security_group_ingress_rule\" \"mesh_app_8080_from_mesh_db\" {",
        "referenced_security_group_id = aws_security_group.mesh_app.id",
        "referenced_security_group_id = aws_security_group.mesh_db.id",
        "security_group_id = aws_security_group.mesh_db.id",
        "security_group_id = aws_security_group.mesh_app.id",
        // Each group's default egress rule, named after where it lets traffic go.
        "resource \"aws_vpc_security_group_egress_rule\" \"mesh_app_all_to_anywhere\" {",
    ] {
        assert!(f.contains(&flat(want)), "no {want:?} in\n{network}");
    }
    assert!(!network.contains("ingress {") && !network.contains("egress {"), "no inline rules on the groups: {network}");
    assert!(!network.contains("\"sg-"), "no literal group id: {network}");
    let objects = imports.matches("import {").count();
    assert!(imports.contains("id = \"sgr-"), "{imports}");
    let (code, out) = infra(&d, &["fmt", "--check"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 2, "{out}\n{network}");
    assert!(out.contains(&format!("Plan: {objects} to import, 0 to add, 0 to change, 0 to destroy.")), "{out}\n{network}");
    let (code, out) = infra(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&d, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(code, 0, "{out}\n{network}");
    // The rules are the ones made by hand: the import revoked and authorized nothing.
    let ids = |xml: &str| {
        let mut v: Vec<String> = xml.split("<securityGroupRuleId>").skip(1).filter_map(|s| s.split('<').next()).map(str::to_string).collect();
        v.sort();
        v
    };
    let rules_after = moto.ec2(&[("Action", "DescribeSecurityGroupRules")]);
    assert_eq!(ids(&rules_after), ids(&rules_before), "{rules_after}");
}

/// A type whose listing fails (moto 5.2.5 has no DescribeCacheParameterGroups, as an account
/// without the permission would refuse it) is left out with a warning naming it, and the rest
/// of the stack is written; asked for with --type, the same failure is an error.
#[test]
fn a_type_that_cannot_be_listed_is_left_out_with_a_warning_unless_asked_for() {
    let moto = start_moto();
    moto.ec2(&[("Action", "CreateVpc"), ("CidrBlock", "10.42.0.0/16")]);
    let work = tempfile::tempdir().unwrap();
    let env = aws_env();
    let (code, out) = infra(work.path(), &["discover", "aws", "--region", "us-east-1", "--endpoint", &moto.url, "--max-retries", "0", "--out", "stack"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Type left out") && out.contains("Listing aws_elasticache_parameter_group failed"), "{out}");
    assert!(out.contains("Give --type aws_elasticache_parameter_group to make this an error."), "{out}");
    let network = std::fs::read_to_string(work.path().join("stack/network.tf")).unwrap();
    assert!(network.contains("10.42.0.0/16"), "{network}");
    let (code, out) = infra(
        work.path(),
        &[
            "discover",
            "aws",
            "--region",
            "us-east-1",
            "--endpoint",
            &moto.url,
            "--max-retries",
            "0",
            "--type",
            "aws_elasticache_parameter_group",
            "--out",
            "other",
        ],
        &env,
    );
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("Type left out") && !work.path().join("other").exists(), "{out}");
}
