//! `infra discover aws` without a terminal: lists what exists in a region (the provider's
//! `discover`, one listing per type), reads every object found in full (`import_many`: the
//! type's batched reads, one Describe per type and page), and writes the stack a person would
//! have written for it: one file per concern, resources named from their `Name` tag or name,
//! one `import` block per object, bodies from the provider's `to_hcl`, references
//! (`aws_vpc.main.id`) wherever a value is the id or ARN of another object of the stack, and
//! objects that differ only by an index or a key as one block: with `count` when their names
//! end in 0..n (`worker_0`, `worker_1`), with `for_each` when they end in a key a person
//! chose (two private subnets over two zones, `private_a` and `private_b`, become
//! `for_each = local.private` with `a` and `b`; a mount target per such subnet
//! `for_each = aws_subnet.private`).
//!
//! Conventions: a route table's routes are `aws_route` resources (routes are added by hand
//! with `create-route`, and Terraform users write them so); a security group's rules stay
//! inline (`ingress`/`egress`, as its `to_hcl` writes them), so no rule resource is written
//! that would fight them, except for groups that admit each other (directly or around a
//! cycle), which cannot name each other inline: those are written without inline rules, and
//! each of their rules as an `aws_vpc_security_group_ingress_rule` / `_egress_rule` naming
//! both groups, as Terraform users break such a cycle; a target group's registered targets are `aws_lb_target_group_attachment`s
//! unless an ECS service registers them (the service's own doing).

use super::Result;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_provider::{ConfigureRequest, DiscoverRequest, ImportManyRequest, ImportRequest, Provider, Registry, ToHclRequest, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

pub mod vps;

/// The types `discover aws` lists, in the order their blocks are written, with the file each
/// goes to.
pub const AWS_TYPES: &[(&str, &str)] = &[
    ("aws_vpc", "network.tf"),
    ("aws_subnet", "network.tf"),
    ("aws_internet_gateway", "network.tf"),
    ("aws_route_table", "network.tf"),
    ("aws_route", "network.tf"),
    ("aws_route_table_association", "network.tf"),
    ("aws_security_group", "network.tf"),
    ("aws_instance", "compute.tf"),
    ("aws_efs_file_system", "storage.tf"),
    ("aws_efs_mount_target", "storage.tf"),
    ("aws_lb", "alb.tf"),
    ("aws_lb_target_group", "alb.tf"),
    ("aws_lb_listener", "alb.tf"),
    ("aws_lb_listener_rule", "alb.tf"),
    ("aws_lb_target_group_attachment", "alb.tf"),
    ("aws_ecs_cluster", "ecs.tf"),
    ("aws_ecs_task_definition", "ecs.tf"),
    ("aws_ecs_service", "ecs.tf"),
    ("aws_ecr_repository", "registry.tf"),
    ("aws_ecr_lifecycle_policy", "registry.tf"),
    ("aws_cloudwatch_log_group", "logs.tf"),
    ("aws_iam_role", "iam.tf"),
    ("aws_iam_role_policy_attachment", "iam.tf"),
    ("aws_iam_role_policy", "iam.tf"),
    ("aws_secretsmanager_secret", "secrets.tf"),
    ("aws_secretsmanager_secret_version", "secrets.tf"),
    ("aws_elasticache_subnet_group", "cache.tf"),
    ("aws_elasticache_parameter_group", "cache.tf"),
    ("aws_elasticache_replication_group", "cache.tf"),
    ("aws_cloudwatch_metric_alarm", "monitoring.tf"),
    ("aws_appautoscaling_target", "monitoring.tf"),
    ("aws_appautoscaling_policy", "monitoring.tf"),
];

/// Types without a VPC: with `--vpc-id`, kept only when they join what is kept (a service
/// in the VPC's subnets; its cluster and task definition).
const NO_VPC: &[&str] = &[
    "aws_ecs_cluster",
    "aws_ecs_task_definition",
    "aws_ecs_service",
    "aws_ecr_repository",
    "aws_ecr_lifecycle_policy",
    "aws_cloudwatch_log_group",
    "aws_iam_role",
    "aws_iam_role_policy_attachment",
    "aws_iam_role_policy",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
    "aws_cloudwatch_metric_alarm",
    "aws_appautoscaling_target",
    "aws_appautoscaling_policy",
];

/// What to list and how to reach the API; the provider block written says the same.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: String,
    /// One endpoint URL for every service (an emulator such as moto, or a proxy).
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    pub max_retries: Option<i64>,
    /// Only objects in these VPCs (and what references them).
    pub vpc_ids: Vec<String>,
    /// Only objects carrying every one of these tags (and untaggable objects that reference one).
    pub tags: Vec<(String, String)>,
    /// Only these types (all of [`AWS_TYPES`] when empty).
    pub types: Vec<String>,
}

/// One object found, read in full.
#[derive(Clone, Debug)]
struct Found {
    type_name: String,
    id: String,
    label: Option<String>,
    state: Value,
    name: String,
}

/// The files to write (name → content) and how many objects they import.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: BTreeMap<String, String>,
    pub objects: usize,
    /// What could not be listed (a type the account may not read, an API an emulator lacks):
    /// the stack written leaves those types out.
    pub warnings: Vec<Diagnostic>,
}

fn err(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail).into()
}

/// The provider block `discover` configures its provider with and writes to `provider.tf`.
fn provider_block(o: &AwsOptions) -> (Value, String) {
    let mut attrs: Vec<(&str, Value)> = vec![("region", Value::string(&o.region))];
    let mut text = format!("provider \"aws\" {{\n  region = {}\n", infra_provider::hcl::quote(&o.region));
    if let Some(p) = &o.profile {
        attrs.push(("profile", Value::string(p)));
        text.push_str(&format!("  profile = {}\n", infra_provider::hcl::quote(p)));
    }
    if let Some(n) = o.max_retries {
        attrs.push(("max_retries", Value::int(n)));
        text.push_str(&format!("  max_retries = {n}\n"));
    }
    if let Some(url) = &o.endpoint {
        let services = ["ec2", "efs", "ecs", "elbv2", "sts", "iam", "logs", "ecr", "secretsmanager"];
        attrs.push(("skip_credentials_validation", Value::Bool(true)));
        attrs.push(("skip_requesting_account_id", Value::Bool(true)));
        attrs.push(("endpoints", Value::object(services.iter().map(|s| (*s, Value::string(url))))));
        text.push_str("  skip_credentials_validation = true\n  skip_requesting_account_id = true\n\n  endpoints {\n");
        for s in services {
            text.push_str(&format!("    {s} = {}\n", infra_provider::hcl::quote(url)));
        }
        text.push_str("  }\n");
    }
    text.push_str("}\n");
    (Value::object(attrs), text)
}

/// A resource name from a `Name` tag or a name: lowercase, `_` for anything else, never
/// starting with a digit.
pub fn sanitize(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        None => String::new(),
        Some(c) if c.is_ascii_digit() => format!("r_{out}"),
        Some(_) => out,
    }
}

fn tags_of(v: &Value) -> BTreeMap<String, String> {
    let all = infra_provider::attrs::string_map(v, "tags_all");
    if all.is_empty() {
        infra_provider::attrs::string_map(v, "tags")
    } else {
        all
    }
}

/// Lists and reads everything `o` selects, and returns the files of the stack.
pub fn discover_aws(rt: &tokio::runtime::Runtime, registry: &Registry, o: &AwsOptions) -> Result<Discovered> {
    let Some(factory) = registry.get("aws") else {
        return Err(err("Provider not built in", "This build of infra does not include the aws provider.".into()));
    };
    for t in &o.types {
        if !AWS_TYPES.iter().any(|(n, _)| n == t) {
            let known: Vec<&str> = AWS_TYPES.iter().map(|(n, _)| *n).collect();
            return Err(err("Unsupported type", format!("The type {t} cannot be listed by discover aws, which lists {}.", known.join(", "))));
        }
    }
    let provider: Arc<dyn Provider> = Arc::from(factory());
    let (config, provider_tf) = provider_block(o);
    let found = rt.block_on(async {
        let resp = provider.configure(ConfigureRequest { config }).await;
        if resp.diagnostics.iter().any(Diagnostic::is_error) {
            return Err(Diagnostics(resp.diagnostics));
        }
        list_and_read(provider.clone(), o).await
    })?;
    let (found, warnings) = found;
    let found = select_by_vpc(found, !o.vpc_ids.is_empty());
    let found = select_by_tags(found, &o.tags);
    let found = rt.block_on(with_rules_of_cycles(provider.clone(), found))?;
    let found = name_all(found);
    let mut bodies = Vec::new();
    let mut diags = Vec::new();
    for f in &found {
        let resp = provider.to_hcl(ToHclRequest { type_name: f.type_name.clone(), state: hcl_state(f, &found) });
        diags.extend(resp.diagnostics);
        bodies.push(json_as_hcl(f, resp.body.unwrap_or_default()));
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let bodies = with_references(&found, bodies);
    let blocks = group(&found, bodies);
    let file_of = |t: &str| {
        let rule = RULE_TYPES.contains(&t).then_some("network.tf");
        AWS_TYPES.iter().find(|(n, _)| *n == t).map(|(_, file)| *file).or(rule).unwrap_or("main.tf")
    };
    Ok(Discovered { warnings, ..assemble(&found, &blocks, provider_tf, file_of) })
}

/// Each object its own block, named as found (what `discover vps` writes: no grouping).
fn single_blocks(found: &[Found], bodies: Vec<String>) -> Vec<Block> {
    found.iter().zip(bodies).enumerate().map(|(i, (f, body))| Block { name: f.name.clone(), body, locals: None, members: vec![i], keys: None }).collect()
}

/// The stack's files from the objects found and their blocks (shared by every `discover`):
/// `provider.tf`, one resource block per block (a group's with its `locals`) in the file
/// `file_of` its type says, one `import` block per object in `imports.tf` (a group's members
/// at their indexes), all in the canonical layout (so that `infra fmt --check` passes on what
/// was written).
fn assemble(found: &[Found], blocks: &[Block], provider_tf: String, file_of: impl Fn(&str) -> &'static str) -> Discovered {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    files.insert("provider.tf".into(), provider_tf);
    let mut imports = String::new();
    for b in blocks {
        let first = &found[b.members[0]];
        let text = files.entry(file_of(&first.type_name).to_string()).or_default();
        if !text.is_empty() {
            text.push('\n');
        }
        if let Some(locals) = &b.locals {
            text.push_str(locals);
            text.push('\n');
        }
        text.push_str(&format!("resource \"{}\" \"{}\" {{\n{}}}\n", first.type_name, b.name, b.body));
        for (k, m) in b.members.iter().enumerate() {
            let f = &found[*m];
            let to = match &b.keys {
                Some(keys) => format!("{}.{}[{}]", f.type_name, b.name, infra_provider::hcl::quote(&keys[k])),
                None if b.members.len() > 1 => format!("{}.{}[{k}]", f.type_name, b.name),
                None => format!("{}.{}", f.type_name, b.name),
            };
            if !imports.is_empty() {
                imports.push('\n');
            }
            imports.push_str(&format!("import {{\n  to = {to}\n  id = {}\n}}\n", infra_provider::hcl::quote(&f.id)));
        }
    }
    if !imports.is_empty() {
        files.insert("imports.tf".into(), imports);
    }
    for text in files.values_mut() {
        if let Ok(f) = infra_lang::format::format(text) {
            *text = f;
        }
    }
    Discovered { files, objects: found.len(), warnings: Vec::new() }
}

/// One `discover` per type, then one batched `import_many` per type for what it listed (the
/// types concurrently): calls ≈ types × pages, plus what AWS only answers per object. A type
/// whose listing fails is left out with a warning (an account without the permission, an API
/// an emulator lacks), unless `--type` asked for it: then it is an error.
async fn list_and_read(provider: Arc<dyn Provider>, o: &AwsOptions) -> Result<(Vec<Found>, Vec<Diagnostic>)> {
    let mut filter = BTreeMap::new();
    if !o.vpc_ids.is_empty() {
        filter.insert("vpc_id".to_string(), o.vpc_ids.join(","));
    }
    let types: Vec<&str> = AWS_TYPES.iter().map(|(t, _)| *t).filter(|t| o.types.is_empty() || o.types.iter().any(|x| x == t)).collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, t) in types.iter().enumerate() {
        let (p, t, filter, vpcs) = (provider.clone(), t.to_string(), filter.clone(), o.vpc_ids.clone());
        let asked = !o.types.is_empty();
        set.spawn(async move {
            let mut diags = Vec::new();
            let resp = p.discover(DiscoverRequest { type_name: t.clone(), filter }).await;
            if !asked && resp.diagnostics.iter().any(Diagnostic::is_error) {
                let why: Vec<String> = resp.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.summary, d.detail)).collect();
                let warning = Diagnostic::warning(
                    "Type left out",
                    format!("Listing {t} failed, so the stack written has none: {} Give --type {t} to make this an error.", why.join(" ")),
                );
                return (i, Vec::new(), vec![warning]);
            }
            diags.extend(resp.diagnostics);
            let mut listed: Vec<(String, Option<String>, Value)> = Vec::new();
            for v in resp.objects {
                let Some(id) = v.get_attr("id").and_then(Value::as_str).map(str::to_string) else { continue };
                // The VPC listing is regional: keep the VPCs asked for.
                if t == "aws_vpc" && !vpcs.is_empty() && !vpcs.contains(&id) {
                    continue;
                }
                let label = v.get_attr("name").and_then(Value::as_str).map(str::to_string);
                listed.push((id, label, v));
            }
            let mut found = Vec::new();
            if !listed.is_empty() && !diags.iter().any(Diagnostic::is_error) {
                let objects = listed.iter().map(|(_, _, v)| v.clone()).collect();
                let resp = p.import_many(ImportManyRequest { type_name: t.clone(), objects }).await;
                diags.extend(resp.diagnostics);
                for ((id, label, _), state) in listed.into_iter().zip(resp.objects) {
                    // Gone between the listing and the read: nothing to import.
                    if let Some(state) = state {
                        found.push(Found { type_name: t.clone(), id, label, state, name: String::new() });
                    }
                }
            }
            (i, found, diags)
        });
    }
    let mut by_type: Vec<Vec<Found>> = vec![Vec::new(); types.len()];
    let mut diags = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, found, d)) => {
                diags.extend(d);
                if let Some(slot) = by_type.get_mut(i) {
                    *slot = found;
                }
            }
            Err(e) => diags.push(Diagnostic::error("Discovery failed", format!("reading a type failed: {e}"))),
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    Ok((without_service_targets(by_type.into_iter().flatten().collect()), diags))
}

/// Reads every object listed (type, id, label) in full with `import`, 16 at a time; an object
/// gone between the listing and the read is left out.
async fn import_all(provider: Arc<dyn Provider>, listed: &[(String, String, Option<String>)]) -> Result<Vec<Found>> {
    let mut diags = Vec::new();
    let mut found = Vec::new();
    for chunk in listed.chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for (i, (t, id, _)) in chunk.iter().enumerate() {
            let p = provider.clone();
            let req = ImportRequest { type_name: t.clone(), id: id.clone() };
            set.spawn(async move { (i, p.import(req).await) });
        }
        let mut states: Vec<Option<Value>> = vec![None; chunk.len()];
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, resp)) => {
                    diags.extend(resp.diagnostics);
                    if let Some(slot) = states.get_mut(i) {
                        *slot = resp.state;
                    }
                }
                Err(e) => diags.push(Diagnostic::error("Discovery failed", format!("reading an object failed: {e}"))),
            }
        }
        for ((t, id, label), state) in chunk.iter().zip(states) {
            // Gone between the listing and the read: nothing to import.
            let Some(state) = state else { continue };
            found.push(Found { type_name: t.clone(), id: id.clone(), label: label.clone(), state, name: String::new() });
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    Ok(found)
}

/// The security groups whose inline rules name each other around a cycle (`a` admits `b`, `b`
/// admits `a`), by index in `found`.
fn groups_in_cycles(found: &[Found]) -> Vec<usize> {
    let groups: BTreeMap<&str, usize> =
        found.iter().enumerate().filter(|(_, f)| f.type_name == "aws_security_group").map(|(i, f)| (f.id.as_str(), i)).collect();
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); found.len()];
    for (&id, &i) in &groups {
        let mut named = Vec::new();
        for block in ["ingress", "egress"] {
            if let Some(v) = found[i].state.get_attr(block) {
                collect_strings(v, &mut named);
            }
        }
        edges[i] = named.iter().filter(|s| s.as_str() != id).filter_map(|s| groups.get(s.as_str()).copied()).collect();
    }
    groups.values().copied().filter(|&i| edges[i].iter().any(|&j| reaches(&edges, j, i))).collect()
}

/// Security groups in a cycle (see [`groups_in_cycles`]) with their rules as resources: the
/// rules of both directions of those groups, listed (one DescribeSecurityGroupRules per
/// direction) and read, placed after the last group.
async fn with_rules_of_cycles(provider: Arc<dyn Provider>, mut found: Vec<Found>) -> Result<Vec<Found>> {
    let cyclic = groups_in_cycles(&found);
    if cyclic.is_empty() {
        return Ok(found);
    }
    let mut filter = BTreeMap::new();
    filter.insert("security_group_id".to_string(), cyclic.iter().map(|&i| found[i].id.clone()).collect::<Vec<_>>().join(","));
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    for t in RULE_TYPES {
        let resp = provider.discover(DiscoverRequest { type_name: t.to_string(), filter: filter.clone() }).await;
        diags.extend(resp.diagnostics);
        let listed: Vec<(String, Value)> = resp.objects.into_iter().filter_map(|v| Some((infra_provider::attrs::string(&v, "id")?, v))).collect();
        if listed.is_empty() || diags.iter().any(Diagnostic::is_error) {
            continue;
        }
        let resp = provider.import_many(ImportManyRequest { type_name: t.to_string(), objects: listed.iter().map(|(_, v)| v.clone()).collect() }).await;
        diags.extend(resp.diagnostics);
        for ((id, _), state) in listed.into_iter().zip(resp.objects) {
            if let Some(state) = state {
                rules.push(Found { type_name: t.to_string(), id, label: None, state, name: String::new() });
            }
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let at = found.iter().rposition(|f| f.type_name == "aws_security_group").map(|i| i + 1).unwrap_or(found.len());
    found.splice(at..at, rules);
    Ok(found)
}

/// The rule types a group's rules become when the group is in a cycle.
const RULE_TYPES: &[&str] = &["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];

/// Targets an ECS service registers with its target groups are the service's doing, not
/// attachments a person made: left out.
fn without_service_targets(found: Vec<Found>) -> Vec<Found> {
    let used: BTreeSet<String> = found
        .iter()
        .filter(|f| f.type_name == "aws_ecs_service")
        .flat_map(|f| f.state.get_attr("load_balancer").and_then(Value::as_seq).unwrap_or(&[]).to_vec())
        .filter_map(|l| infra_provider::attrs::string(&l, "target_group_arn"))
        .collect();
    found
        .into_iter()
        .filter(|f| {
            f.type_name != "aws_lb_target_group_attachment" || infra_provider::attrs::string(&f.state, "target_group_arn").is_none_or(|tg| !used.contains(&tg))
        })
        .collect()
}

/// The state `to_hcl` writes from: a route table whose routes are discovered as `aws_route`s
/// is written without inline routes, a security group whose rules are discovered as rule
/// resources without inline rules (their plans then leave them to those resources).
fn hcl_state(f: &Found, found: &[Found]) -> Value {
    if f.type_name == "aws_security_group" {
        let own_rules = found
            .iter()
            .any(|r| RULE_TYPES.contains(&r.type_name.as_str()) && infra_provider::attrs::string(&r.state, "security_group_id").as_deref() == Some(&f.id));
        return match (&f.state, own_rules) {
            (Value::Object(m), true) => {
                let mut m = m.clone();
                m.insert("ingress".into(), Value::Set(Vec::new()));
                m.insert("egress".into(), Value::Set(Vec::new()));
                Value::Object(m)
            }
            _ => f.state.clone(),
        };
    }
    if f.type_name != "aws_route_table" {
        return f.state.clone();
    }
    let own_routes = found.iter().any(|r| r.type_name == "aws_route" && infra_provider::attrs::string(&r.state, "route_table_id").as_deref() == Some(&f.id));
    match (&f.state, own_routes) {
        (Value::Object(m), true) => {
            let mut m = m.clone();
            m.insert("route".into(), Value::Set(Vec::new()));
            Value::Object(m)
        }
        _ => f.state.clone(),
    }
}

/// A task definition's `container_definitions` as a person writes it, `jsonencode({...})`,
/// so that ids inside become references too (planning compares the JSON canonically).
fn json_as_hcl(f: &Found, body: String) -> String {
    let Some(text) = infra_provider::attrs::string(&f.state, "container_definitions") else { return body };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return body };
    let quoted = infra_provider::hcl::quote(&text);
    if f.type_name != "aws_ecs_task_definition" || !body.contains(&quoted) {
        return body;
    }
    let expr = infra_provider::hcl::expr(&infra_lang::value::from_json(&json), 1);
    body.replacen(&quoted, &format!("jsonencode({expr})"), 1)
}

/// The id and ARN an object is referred to by.
fn handles(f: &Found) -> Vec<String> {
    let mut out = vec![f.id.clone()];
    out.extend(["id", "arn"].iter().filter_map(|k| infra_provider::attrs::string(&f.state, k)));
    out
}

fn strings_of(f: &Found) -> Vec<String> {
    let mut out = Vec::new();
    collect_strings(&f.state, &mut out);
    out
}

/// With `--vpc-id`, ECS objects (listed for the whole region: they have no VPC) stay only when
/// they join the VPCs: a service that names a kept subnet or security group, and the clusters
/// and task definitions of the services kept.
fn select_by_vpc(found: Vec<Found>, scoped: bool) -> Vec<Found> {
    if !scoped {
        return found;
    }
    let no_vpc = |f: &Found| NO_VPC.contains(&f.type_name.as_str());
    let kept: BTreeSet<String> = found.iter().filter(|f| !no_vpc(f)).flat_map(handles).collect();
    let services: Vec<&Found> = found.iter().filter(|f| f.type_name == "aws_ecs_service" && strings_of(f).iter().any(|s| kept.contains(s))).collect();
    let used: BTreeSet<String> = services.iter().flat_map(|f| strings_of(f)).collect();
    let service_ids: BTreeSet<String> = services.iter().map(|f| f.id.clone()).collect();
    found
        .into_iter()
        .filter(|f| !no_vpc(f) || service_ids.contains(&f.id) || (f.type_name != "aws_ecs_service" && handles(f).iter().any(|h| used.contains(h))))
        .collect()
}

/// With `--tag`, taggable objects must carry every tag; an untaggable object (an association,
/// a mount target, a listener) stays when it references an object that stays.
fn select_by_tags(found: Vec<Found>, tags: &[(String, String)]) -> Vec<Found> {
    if tags.is_empty() {
        return found;
    }
    let taggable = |f: &Found| f.state.get_attr("tags_all").is_some() || f.state.get_attr("tags").is_some();
    let matches = |f: &Found| {
        let t = tags_of(&f.state);
        tags.iter().all(|(k, v)| t.get(k) == Some(v))
    };
    let mut keep: BTreeSet<String> = found.iter().filter(|f| taggable(f) && matches(f)).map(|f| f.id.clone()).collect();
    // Untaggable objects may reference each other (a listener names a target group): settle.
    loop {
        let before = keep.len();
        let joining: Vec<String> = found
            .iter()
            .filter(|f| !taggable(f) && !keep.contains(&f.id))
            .filter(|f| {
                let mut strings = Vec::new();
                collect_strings(&f.state, &mut strings);
                strings.iter().any(|s| keep.contains(s) && s != &f.id)
            })
            .map(|f| f.id.clone())
            .collect();
        keep.extend(joining);
        if keep.len() == before {
            break;
        }
    }
    found.into_iter().filter(|f| keep.contains(&f.id)).collect()
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    let (v, _) = v.unmark();
    match v {
        Value::String(s) => out.push(s.to_string()),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Map(m) | Value::Object(m) => m.iter().for_each(|(_, i)| collect_strings(i, out)),
        Value::Sensitive(inner) => collect_strings(inner, out),
        _ => {}
    }
}

/// Resource names: the `Name` tag or name; for what has neither, the names of what it joins
/// (an association after its subnet, a mount target after its file system and subnet, a
/// listener after its load balancer and port); else the id. Unique per type.
fn name_all(mut found: Vec<Found>) -> Vec<Found> {
    let by_id: BTreeMap<String, String> =
        found.iter().filter_map(|f| f.label.as_deref().map(sanitize).filter(|l| !l.is_empty()).map(|l| (f.id.clone(), l))).collect();
    let named = |v: &Value, k: &str| infra_provider::attrs::string(v, k).and_then(|id| by_id.get(&id).cloned());
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &mut found {
        let s = &f.state;
        let base = by_id.get(&f.id).cloned().or_else(|| match f.type_name.as_str() {
            "aws_route_table_association" => named(s, "subnet_id").or_else(|| named(s, "gateway_id")),
            "aws_route" => named(s, "route_table_id").map(|rt| match infra_provider::attrs::string(s, "destination_cidr_block").as_deref() {
                Some("0.0.0.0/0") | None => format!("{rt}_default"),
                Some(d) => format!("{rt}_{}", sanitize(d)),
            }),
            "aws_efs_mount_target" => named(s, "file_system_id").map(|fs| named(s, "subnet_id").map(|sn| format!("{fs}_{sn}")).unwrap_or(fs)),
            // A rule after its group, port and source: `db_5432_from_app`, `app_all_to_anywhere`,
            // `db_5432_from_10_0_0_0_8`.
            t if RULE_TYPES.contains(&t) => named(s, "security_group_id").map(|g| {
                let port = |k: &str| s.get_attr(k).and_then(Value::as_i64);
                let ports = match (port("from_port"), port("to_port")) {
                    (Some(a), Some(b)) if a == b => a.to_string(),
                    (Some(a), Some(b)) => format!("{a}_{b}"),
                    _ => "all".to_string(),
                };
                let other = named(s, "referenced_security_group_id").or_else(|| {
                    let source = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id"].iter().find_map(|k| infra_provider::attrs::string(s, k))?;
                    Some(match source.as_str() {
                        "0.0.0.0/0" | "::/0" => "anywhere".to_string(),
                        c => c.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '_' }).collect(),
                    })
                });
                let dir = if t.ends_with("egress_rule") { "to" } else { "from" };
                match other {
                    Some(o) => format!("{g}_{ports}_{dir}_{o}"),
                    None => format!("{g}_{ports}"),
                }
            }),
            "aws_lb_listener" => named(s, "load_balancer_arn").map(|lb| {
                let port = s.get_attr("port").and_then(Value::as_i64).map(|p| format!("_{p}")).unwrap_or_default();
                format!("{lb}{port}")
            }),
            _ => None,
        });
        let base = base.unwrap_or_else(|| sanitize(&f.id));
        f.name = unique_name(&mut used, &f.type_name, base);
    }
    found
}

/// `base` (or `this` when empty) as a resource name of `type_name` not yet in `used`: `base`,
/// then `base_2`, `base_3`…; recorded in `used`.
fn unique_name(used: &mut BTreeSet<(String, String)>, type_name: &str, base: String) -> String {
    let base = if base.is_empty() { "this".to_string() } else { base };
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert((type_name.to_string(), name.clone())) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// Replaces every quoted id or ARN of another object of the stack by a reference to it
/// (`"vpc-1"` → `aws_vpc.main.id`, an ARN → `.arn`), unless that reference would close a
/// cycle (two security groups naming each other): that one stays literal.
fn with_references(found: &[Found], bodies: Vec<String>) -> Vec<String> {
    let mut targets: BTreeMap<String, (usize, &'static str)> = BTreeMap::new();
    for (i, f) in found.iter().enumerate() {
        let attr = if f.id.starts_with("arn:") { "arn" } else { "id" };
        targets.insert(f.id.clone(), (i, attr));
        if let Some(arn) = infra_provider::attrs::string(&f.state, "arn") {
            targets.entry(arn).or_insert((i, "arn"));
        }
    }
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); found.len()];
    let mut out = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let mut text = body;
        for (lit, (j, attr)) in &targets {
            let quoted = infra_provider::hcl::quote(lit);
            if *j == i || !text.contains(&quoted) || reaches(&edges, *j, i) {
                continue;
            }
            edges[i].insert(*j);
            let f = &found[*j];
            text = text.replace(&quoted, &format!("{}.{}.{attr}", f.type_name, f.name));
        }
        out.push(text);
    }
    out
}

/// One resource block: one object, or objects that differ only by an index or a key, written
/// once with `count` (`members[k]` is index `k`) or `for_each` (`members[k]` is key `keys[k]`).
#[derive(Debug)]
struct Block {
    name: String,
    body: String,
    locals: Option<String>,
    members: Vec<usize>,
    keys: Option<Vec<String>>,
}

/// The only arguments that may differ between the objects of a group: what a person varies by
/// index (the zone, the CIDR block, the subnet, the `Name` tag's suffix).
const VARYING: &[&str] = &["availability_zone", "cidr_block", "subnet_id", "Name"];

/// A name's stem and index-like suffix (`bdd_bot_private_a` → `bdd_bot_private`, `a`): a
/// suffix of one or two letters or digits, or digits only.
fn name_stem(name: &str) -> Option<&str> {
    let (stem, seg) = name.rsplit_once('_')?;
    let short = !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric()) && (seg.len() <= 2 || seg.chars().all(|c| c.is_ascii_digit()));
    (short && !stem.is_empty()).then_some(stem)
}

/// A name's index-like suffix (`private_a` → `a`), as [`name_stem`] cuts it.
fn name_key(name: &str) -> &str {
    name.rsplit_once('_').map(|(_, k)| k).unwrap_or(name)
}

/// Whether a group's keys are what `count` numbers: 0..n or 1..n, and nothing a person named.
fn indexes(keys: &[&str]) -> bool {
    let mut n: Vec<u64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
    n.sort_unstable();
    n.len() == keys.len() && n.iter().enumerate().all(|(i, v)| *v == i as u64 + n.first().copied().unwrap_or(0)) && n.first().is_some_and(|f| *f <= 1)
}

/// An object key as HCL writes it: bare when it is an identifier, else quoted.
fn hcl_key(k: &str) -> String {
    if k.starts_with(|c: char| c.is_ascii_alphabetic()) && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        k.to_string()
    } else {
        infra_provider::hcl::quote(k)
    }
}

/// `key = value` on one line (the value complete on it), as `(indent, key, value)`.
fn one_line_attr(line: &str) -> Option<(&str, &str, &str)> {
    let (k, v) = line.split_once('=')?;
    let key = k.trim();
    let value = v.trim();
    let indent = &line[..line.len() - line.trim_start().len()];
    let open = |o: char, c: char| value.matches(o).count() != value.matches(c).count();
    let single = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !value.is_empty();
    (single && !open('{', '}') && !open('[', ']') && !open('(', ')')).then_some((indent, key, value))
}

/// Groups objects of one type whose names share a stem and whose bodies differ only in
/// [`VARYING`] arguments, each on one line, into one block. Names ending in 0..n (or 1..n)
/// make a `count` block: a value that is member `k`'s own `X[k]` in every member becomes
/// `X[count.index]` (and the count `length(X)`); other varying values go to a `locals` list,
/// one object per member; references elsewhere become indexes (`aws_subnet.private[0].id`)
/// and a list of all members a splat (`aws_subnet.private[*].id`). Names ending in another
/// key (`private_a`, `private_b`: a zone, a role) make a `for_each` block keyed by it: a value
/// that is member `K`'s own `X["K"]` in every member of a `for_each` group `X` with the same
/// keys becomes `each.value` (`for_each = X`), other varying values go to a `locals` map by
/// key; references become keys (`aws_subnet.private["a"].id`) and a list of all members
/// `values(aws_subnet.private)[*].id`. Objects are grouped in the order of [`AWS_TYPES`], so
/// that a group of mount targets sees its subnets' group.
fn group(found: &[Found], mut bodies: Vec<String>) -> Vec<Block> {
    let n = found.len();
    let mut blocks: Vec<Block> = Vec::new();
    let mut done = vec![false; n];
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    let mut keyed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut local_names: BTreeSet<String> = BTreeSet::new();
    for i in 0..n {
        if done[i] {
            continue;
        }
        let f = &found[i];
        let stem = name_stem(&f.name);
        let mut members: Vec<usize> = match stem {
            Some(stem) => (i..n).filter(|j| !done[*j] && found[*j].type_name == f.type_name && name_stem(&found[*j].name) == Some(stem)).collect(),
            None => vec![i],
        };
        members.sort_by(|a, b| found[*a].name.cmp(&found[*b].name));
        let taken = |name: &str| found.iter().enumerate().any(|(j, g)| g.type_name == f.type_name && g.name == name && !members.contains(&j));
        let keys: Vec<&str> = members.iter().map(|m| name_key(&found[*m].name)).collect();
        let by_key = !indexes(&keys);
        let grouped = match stem {
            Some(stem) if members.len() > 1 && !taken(stem) && by_key => for_each_body(stem, &members, &keys, &bodies, &keyed, &mut local_names),
            Some(stem) if members.len() > 1 && !taken(stem) => grouped_body(stem, &members, &bodies, &sizes, &mut local_names),
            _ => None,
        };
        let Some((stem, body, locals)) = grouped else {
            done[i] = true;
            blocks.push(Block { name: f.name.clone(), body: String::new(), locals: None, members: vec![i], keys: None });
            continue;
        };
        let keys: Option<Vec<String>> = by_key.then(|| keys.iter().map(|k| k.to_string()).collect());
        for m in &members {
            done[*m] = true;
        }
        // References to members become indexes, and a list of them all a splat.
        let index = |k: usize| match &keys {
            Some(keys) => infra_provider::hcl::quote(&keys[k]),
            None => k.to_string(),
        };
        let mut renames: Vec<(String, String)> = members
            .iter()
            .enumerate()
            .map(|(k, m)| (format!("{}.{}.", f.type_name, found[*m].name), format!("{}.{stem}[{}].", f.type_name, index(k))))
            .collect();
        for attr in ["id", "arn"] {
            let items: Vec<String> = (0..members.len()).map(|k| format!("{}.{stem}[{}].{attr}", f.type_name, index(k))).collect();
            let all = if keys.is_some() { format!("values({}.{stem})[*].{attr}", f.type_name) } else { format!("{}.{stem}[*].{attr}", f.type_name) };
            for order in orders(members.len()) {
                let list: Vec<&str> = order.iter().map(|k| items[*k].as_str()).collect();
                renames.push((format!("[{}]", list.join(", ")), all.clone()));
            }
        }
        let rename = |t: &str| {
            // Member names first (longest first: `a_b.` before `b.` cannot clash, both end in `.`).
            let mut t = t.to_string();
            for (from, to) in &renames {
                t = t.replace(from.as_str(), to);
            }
            t
        };
        for b in bodies.iter_mut() {
            *b = rename(b);
        }
        let body = rename(&body);
        for b in blocks.iter_mut() {
            b.body = rename(&b.body);
        }
        if let Some(keys) = &keys {
            keyed.insert(format!("{}.{stem}", f.type_name), keys.clone());
        } else {
            sizes.insert(format!("{}.{stem}", f.type_name), members.len());
        }
        blocks.push(Block { name: stem.to_string(), body, locals, members, keys });
    }
    for b in blocks.iter_mut() {
        if b.members.len() == 1 {
            b.body = bodies[b.members[0]].clone();
        }
    }
    blocks
}

/// The orders in which a list may name all of a group's members: every one for small groups
/// (sets are written in the order of their ids), else the index order.
fn orders(n: usize) -> Vec<Vec<usize>> {
    if n > 4 {
        return vec![(0..n).collect()];
    }
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for _ in 0..n {
        let mut next = Vec::new();
        for p in &out {
            for k in (0..n).filter(|k| !p.contains(k)) {
                let mut q = p.clone();
                q.push(k);
                next.push(q);
            }
        }
        out = next;
    }
    out
}

/// The body of a group, or `None` when its members differ in anything but [`VARYING`]
/// one-line arguments: `(name, body, locals block)`.
fn grouped_body<'a>(
    stem: &'a str,
    members: &[usize],
    bodies: &[String],
    sizes: &BTreeMap<String, usize>,
    local_names: &mut BTreeSet<String>,
) -> Option<(&'a str, String, Option<String>)> {
    let lines: Vec<Vec<&str>> = members.iter().map(|m| bodies[*m].lines().collect()).collect();
    let len = lines[0].len();
    if lines.iter().any(|l| l.len() != len) {
        return None;
    }
    let local = {
        let mut name = stem.to_string();
        let mut k = 2;
        while local_names.contains(&name) {
            name = format!("{stem}_{k}");
            k += 1;
        }
        name
    };
    let mut out = Vec::new();
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    let mut count_of: Option<String> = None;
    for l in 0..len {
        let first = lines[0][l];
        if lines.iter().all(|ls| ls[l] == first) {
            out.push(first.to_string());
            continue;
        }
        let attrs: Vec<(&str, &str, &str)> = lines.iter().map(|ls| one_line_attr(ls[l])).collect::<Option<_>>()?;
        let (indent, key, _) = attrs[0];
        if !VARYING.contains(&key) || attrs.iter().any(|(i, k, _)| *i != indent || *k != key) {
            return None;
        }
        // Member k's own `X[k]` in every member: `X[count.index]`.
        let indexed: Vec<String> = attrs.iter().enumerate().map(|(k, (_, _, v))| v.replacen(&format!("[{k}]"), "[count.index]", 1)).collect();
        let aligned = attrs.iter().enumerate().all(|(k, (_, _, v))| v.contains(&format!("[{k}]"))) && indexed.iter().all(|v| *v == indexed[0]);
        let target = indexed[0].split_once("[count.index]").map(|(x, _)| x.to_string()).filter(|x| sizes.get(x) == Some(&members.len()));
        match (aligned, target) {
            (true, Some(x)) => {
                count_of = Some(x);
                out.push(format!("{indent}{key} = {}", indexed[0]));
            }
            _ => {
                if fields.iter().any(|(k, _)| k == key) {
                    return None;
                }
                fields.push((key.to_string(), attrs.iter().map(|(_, _, v)| v.to_string()).collect()));
                out.push(format!("{indent}{key} = local.{local}[count.index].{key}"));
            }
        }
    }
    let count = if !fields.is_empty() {
        format!("length(local.{local})")
    } else if let Some(x) = count_of {
        format!("length({x})")
    } else {
        members.len().to_string()
    };
    let locals = (!fields.is_empty()).then(|| {
        local_names.insert(local.clone());
        let rows: Vec<String> = (0..members.len())
            .map(|k| format!("    {{ {} }},", fields.iter().map(|(key, vals)| format!("{key} = {}", vals[k])).collect::<Vec<_>>().join(", ")))
            .collect();
        format!("locals {{\n  {local} = [\n{}\n  ]\n}}\n", rows.join("\n"))
    });
    let body = format!("  count = {count}\n\n{}\n", out.join("\n"));
    Some((stem, body, locals))
}

/// The name of a group's `locals` entry: the stem, or `stem_2`… when taken.
fn local_name(stem: &str, local_names: &BTreeSet<String>) -> String {
    let mut name = stem.to_string();
    let mut k = 2;
    while local_names.contains(&name) {
        name = format!("{stem}_{k}");
        k += 1;
    }
    name
}

/// The body of a `for_each` group keyed by `keys` (`members[k]` is `keys[k]`), or `None` when
/// its members differ in anything but [`VARYING`] one-line arguments: `(name, body, locals
/// block)`. `keyed` holds the `for_each` groups made so far, with their keys.
fn for_each_body<'a>(
    stem: &'a str,
    members: &[usize],
    keys: &[&str],
    bodies: &[String],
    keyed: &BTreeMap<String, Vec<String>>,
    local_names: &mut BTreeSet<String>,
) -> Option<(&'a str, String, Option<String>)> {
    let lines: Vec<Vec<&str>> = members.iter().map(|m| bodies[*m].lines().collect()).collect();
    let len = lines[0].len();
    let mut unique = keys.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if lines.iter().any(|l| l.len() != len) || unique.len() != keys.len() {
        return None;
    }
    let local = local_name(stem, local_names);
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    let mut targets: BTreeSet<String> = BTreeSet::new();
    for l in 0..len {
        let first = lines[0][l];
        if lines.iter().all(|ls| ls[l] == first) {
            out.push((first.to_string(), None));
            continue;
        }
        let attrs: Vec<(&str, &str, &str)> = lines.iter().map(|ls| one_line_attr(ls[l])).collect::<Option<_>>()?;
        let (indent, key, _) = attrs[0];
        if !VARYING.contains(&key) || attrs.iter().any(|(i, k, _)| *i != indent || *k != key) {
            return None;
        }
        // Member K's own `X["K"]` in every member, X a for_each group with the same keys:
        // `X[each.key]`.
        let at = |k: usize| format!("[{}]", infra_provider::hcl::quote(keys[k]));
        let indexed: Vec<String> = attrs.iter().enumerate().map(|(k, (_, _, v))| v.replacen(&at(k), "[each.key]", 1)).collect();
        let aligned = attrs.iter().enumerate().all(|(k, (_, _, v))| v.contains(&at(k))) && indexed.iter().all(|v| *v == indexed[0]);
        let target = indexed[0].split_once("[each.key]").map(|(x, _)| x.to_string()).filter(|x| {
            keyed.get(x).is_some_and(|ks| {
                let mut ks: Vec<&str> = ks.iter().map(String::as_str).collect();
                ks.sort_unstable();
                ks == unique
            })
        });
        match (aligned, target) {
            (true, Some(x)) => {
                out.push((format!("{indent}{key} = {}", indexed[0]), Some(x.clone())));
                targets.insert(x);
            }
            _ => {
                if fields.iter().any(|(k, _)| k == key) {
                    return None;
                }
                fields.push((key.to_string(), attrs.iter().map(|(_, _, v)| v.to_string()).collect()));
                out.push((format!("{indent}{key} = each.value.{key}"), None));
            }
        }
    }
    // Over another group's objects (a mount target per subnet): `for_each = X`, `each.value`.
    let over = (fields.is_empty() && targets.len() == 1).then(|| targets.iter().next().cloned()).flatten();
    let body_lines: Vec<String> = out
        .into_iter()
        .map(|(line, target)| match (&over, target) {
            (Some(x), Some(t)) if *x == t => line.replacen(&format!("{x}[each.key]."), "each.value.", 1),
            _ => line,
        })
        .collect();
    let for_each = match &over {
        Some(x) => x.clone(),
        None if !fields.is_empty() => format!("local.{local}"),
        None => format!("toset([{}])", unique.iter().map(|k| infra_provider::hcl::quote(k)).collect::<Vec<_>>().join(", ")),
    };
    let locals = (!fields.is_empty()).then(|| {
        local_names.insert(local.clone());
        let mut rows: Vec<(String, String)> = (0..members.len())
            .map(|k| {
                (
                    keys[k].to_string(),
                    format!(
                        "    {} = {{ {} }}",
                        hcl_key(keys[k]),
                        fields.iter().map(|(key, vals)| format!("{key} = {}", vals[k])).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
            .collect();
        rows.sort();
        format!("locals {{\n  {local} = {{\n{}\n  }}\n}}\n", rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join("\n"))
    });
    let body = format!("  for_each = {for_each}\n\n{}\n", body_lines.join("\n"));
    Some((stem, body, locals))
}

/// Whether `to` is reachable from `from` over the references added so far.
fn reaches(edges: &[BTreeSet<usize>], from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    false
}

/// Writes the files into `dir` (created if missing); refuses a directory that already holds
/// `.tf` files, so nothing a person wrote is overwritten.
pub fn write(dir: &Path, d: &Discovered) -> Result<()> {
    let io = |e: std::io::Error| err("Cannot write the discovered stack", format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let existing = std::fs::read_dir(dir).map_err(io)?.filter_map(|e| e.ok()).any(|e| e.path().extension().is_some_and(|x| x == "tf"));
    if existing {
        return Err(err(
            "Output directory is not empty",
            format!("{} already holds .tf files; discover writes a new stack: choose an empty or new directory.", dir.display()),
        ));
    }
    for (name, text) in &d.files {
        std::fs::write(dir.join(name), text).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(t: &str, id: &str, label: Option<&str>, state: Value) -> Found {
        Found { type_name: t.into(), id: id.into(), label: label.map(str::to_string), state, name: String::new() }
    }

    #[test]
    fn names_come_from_labels_sanitized_and_unique() {
        assert_eq!(sanitize("bdd-bot ALB"), "bdd_bot_alb");
        assert_eq!(sanitize("1st"), "r_1st");
        assert_eq!(sanitize("--"), "");
        let f = name_all(vec![
            found("aws_subnet", "subnet-1", Some("a"), Value::object([("id", Value::string("subnet-1"))])),
            found("aws_subnet", "subnet-2", Some("a"), Value::object([("id", Value::string("subnet-2"))])),
            found("aws_route_table_association", "rtbassoc-1", None, Value::object([("subnet_id", Value::string("subnet-2"))])),
        ]);
        assert_eq!(f.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["a", "a_2", "a"]);
    }

    #[test]
    fn groups_admitting_each_other_are_found_in_their_cycle() {
        let sg = |id: &str, admits: &[&str]| {
            let rules: Vec<Value> = admits.iter().map(|a| Value::object([("security_groups", Value::Set(vec![Value::string(*a)]))])).collect();
            found(
                "aws_security_group",
                id,
                Some(id),
                Value::object([("id", Value::string(id)), ("ingress", Value::Set(rules)), ("egress", Value::Set(Vec::new()))]),
            )
        };
        // a and b admit each other, c admits a (no cycle through c), d admits itself.
        let f = vec![sg("sg-a", &["sg-b"]), sg("sg-b", &["sg-a"]), sg("sg-c", &["sg-a"]), sg("sg-d", &["sg-d"])];
        assert_eq!(groups_in_cycles(&f), [0, 1]);
        let rule = found(
            "aws_vpc_security_group_ingress_rule",
            "sgr-1",
            None,
            Value::object([
                ("security_group_id", Value::string("sg-a")),
                ("referenced_security_group_id", Value::string("sg-b")),
                ("from_port", Value::int(5432)),
                ("to_port", Value::int(5432)),
            ]),
        );
        let egress = |cidr: &str| {
            found(
                "aws_vpc_security_group_egress_rule",
                "sgr-2",
                None,
                Value::object([("security_group_id", Value::string("sg-b")), ("ip_protocol", Value::string("-1")), ("cidr_ipv4", Value::string(cidr))]),
            )
        };
        let mut all = f.clone();
        all.extend([rule, egress("0.0.0.0/0"), egress("10.0.0.0/8")]);
        let named = name_all(all);
        assert_eq!(named[4].name, "sg_a_5432_from_sg_b");
        assert_eq!(named[5].name, "sg_b_all_to_anywhere");
        assert_eq!(named[6].name, "sg_b_all_to_10_0_0_0_8");
        let written = hcl_state(&named[0], &named);
        assert!(written.get_attr("ingress").and_then(Value::as_seq).is_some_and(<[Value]>::is_empty), "a group with rule resources has no inline rules");
        assert!(hcl_state(&named[2], &named).get_attr("ingress").and_then(Value::as_seq).is_some_and(|r| r.len() == 1), "other groups keep theirs");
    }

    #[test]
    fn ids_of_other_objects_become_references_but_never_a_cycle() {
        let mut f = name_all(vec![
            found("aws_vpc", "vpc-1", Some("main"), Value::Null),
            found("aws_security_group", "sg-1", Some("a"), Value::Null),
            found("aws_security_group", "sg-2", Some("b"), Value::Null),
        ]);
        f[0].state = Value::object([("id", Value::string("vpc-1"))]);
        let bodies =
            vec![String::new(), "  vpc_id = \"vpc-1\"\n  sg = [\"sg-2\"]\n".to_string(), "  vpc_id = \"vpc-1\"\n  sg = [\"sg-1\", \"sg-2\"]\n".to_string()];
        let out = with_references(&f, bodies);
        assert_eq!(out[1], "  vpc_id = aws_vpc.main.id\n  sg = [aws_security_group.b.id]\n");
        assert_eq!(out[2], "  vpc_id = aws_vpc.main.id\n  sg = [\"sg-1\", \"sg-2\"]\n");
    }

    /// The grouping tests' objects, named `G-A`/`G-B` for the `suffixes` A and B: two look-alike
    /// subnets (listed B first), two `web-` subnets that differ in more than their name, a
    /// mount target in each look-alike subnet (`data-`) and a load balancer referring to them.
    fn grouping_fixture(g: &str, suffixes: [&str; 2]) -> (Vec<Found>, Vec<String>) {
        let st = |id: &str| Value::object([("id", Value::string(id))]);
        let [a, b] = suffixes;
        let f = name_all(vec![
            found("aws_subnet", "subnet-2", Some(&format!("{g}-{b}")), st("subnet-2")),
            found("aws_subnet", "subnet-1", Some(&format!("{g}-{a}")), st("subnet-1")),
            found("aws_subnet", "subnet-3", Some(&format!("web-{a}")), st("subnet-3")),
            found("aws_subnet", "subnet-4", Some(&format!("web-{b}")), st("subnet-4")),
            found("aws_efs_mount_target", "fsmt-1", Some(&format!("data-{a}")), st("fsmt-1")),
            found("aws_efs_mount_target", "fsmt-2", Some(&format!("data-{b}")), st("fsmt-2")),
            found("aws_lb", "arn:lb", Some("alb"), st("arn:lb")),
        ]);
        let subnet = |az: &str, cidr: &str, name: &str, public: bool| {
            let public = if public { "  map_public_ip_on_launch = true\n" } else { "" };
            format!("  availability_zone = \"{az}\"\n  cidr_block        = \"{cidr}\"\n{public}  tags              = {{\n    Name = \"{name}\"\n    app  = \"x\"\n  }}\n  vpc_id = aws_vpc.main.id\n")
        };
        let mount = |s: &str| format!("  file_system_id = aws_efs_file_system.data.id\n  subnet_id      = aws_subnet.{s}.id\n");
        let bodies = vec![
            subnet("us-east-1b", "10.0.12.0/24", &format!("{g}-{b}"), false),
            subnet("us-east-1a", "10.0.11.0/24", &format!("{g}-{a}"), false),
            // Differ in more than the index: two blocks.
            subnet("us-east-1a", "10.0.1.0/24", &format!("web-{a}"), true),
            subnet("us-east-1b", "10.0.2.0/24", &format!("web-{b}"), false),
            mount(&format!("{g}_{a}")),
            mount(&format!("{g}_{b}")),
            format!("  subnets = [aws_subnet.{g}_{b}.id, aws_subnet.{g}_{a}.id]\n  other   = aws_subnet.web_{a}.id\n"),
        ];
        (f, bodies)
    }

    #[test]
    fn objects_differing_by_a_key_become_one_block_with_for_each() {
        let (f, bodies) = grouping_fixture("private", ["a", "b"]);
        let blocks = group(&f, bodies);
        let names: Vec<(&str, &[usize])> = blocks.iter().map(|b| (b.name.as_str(), b.members.as_slice())).collect();
        assert_eq!(names, [("private", &[1, 0][..]), ("web_a", &[2][..]), ("web_b", &[3][..]), ("data", &[4, 5][..]), ("alb", &[6][..])]);
        let private = &blocks[0];
        assert_eq!(
            private.body,
            "  for_each = local.private\n\n  availability_zone = each.value.availability_zone\n  cidr_block = each.value.cidr_block\n  tags              = {\n    Name = each.value.Name\n    app  = \"x\"\n  }\n  vpc_id = aws_vpc.main.id\n"
        );
        assert_eq!(
            private.locals.as_deref(),
            Some(
                "locals {\n  private = {\n    a = { availability_zone = \"us-east-1a\", cidr_block = \"10.0.11.0/24\", Name = \"private-a\" }\n    b = { availability_zone = \"us-east-1b\", cidr_block = \"10.0.12.0/24\", Name = \"private-b\" }\n  }\n}\n"
            )
        );
        assert!(blocks[1].locals.is_none() && blocks[1].body.contains("\"web-a\""));
        assert_eq!(blocks[3].body, "  for_each = aws_subnet.private\n\n  file_system_id = aws_efs_file_system.data.id\n  subnet_id = each.value.id\n");
        assert_eq!(private.keys.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
        assert_eq!(blocks[4].body, "  subnets = values(aws_subnet.private)[*].id\n  other   = aws_subnet.web_a.id\n");
    }

    #[test]
    fn objects_named_by_index_become_one_block_with_count() {
        let (f, bodies) = grouping_fixture("app", ["1", "2"]);
        let blocks = group(&f, bodies);
        let names: Vec<(&str, &[usize])> = blocks.iter().map(|b| (b.name.as_str(), b.members.as_slice())).collect();
        assert_eq!(names, [("app", &[1, 0][..]), ("web_1", &[2][..]), ("web_2", &[3][..]), ("data", &[4, 5][..]), ("alb", &[6][..])]);
        let private = &blocks[0];
        assert_eq!(
            private.body,
            "  count = length(local.app)\n\n  availability_zone = local.app[count.index].availability_zone\n  cidr_block = local.app[count.index].cidr_block\n  tags              = {\n    Name = local.app[count.index].Name\n    app  = \"x\"\n  }\n  vpc_id = aws_vpc.main.id\n"
        );
        assert_eq!(
            private.locals.as_deref(),
            Some(
                "locals {\n  app = [\n    { availability_zone = \"us-east-1a\", cidr_block = \"10.0.11.0/24\", Name = \"app-1\" },\n    { availability_zone = \"us-east-1b\", cidr_block = \"10.0.12.0/24\", Name = \"app-2\" },\n  ]\n}\n"
            )
        );
        assert!(blocks[1].locals.is_none() && blocks[1].body.contains("\"web-1\""));
        assert_eq!(
            blocks[3].body,
            "  count = length(aws_subnet.app)\n\n  file_system_id = aws_efs_file_system.data.id\n  subnet_id = aws_subnet.app[count.index].id\n"
        );
        assert_eq!(blocks[0].keys, None, "indexes, not keys");
        assert!(indexes(&["0", "1", "2"]) && indexes(&["1", "2"]) && !indexes(&["a", "b"]) && !indexes(&["1", "3"]) && !indexes(&["2", "3"]));
        assert_eq!(blocks[4].body, "  subnets = aws_subnet.app[*].id\n  other   = aws_subnet.web_1.id\n");
    }
}
