//! `infra discover aws` without a terminal: lists what exists in a region (the provider's
//! `discover`, one listing per type), reads every object found in full (`import`), and writes
//! the stack a person would have written for it: one file per concern, resources named from
//! their `Name` tag or name, one `import` block per object, bodies from the provider's
//! `to_hcl`, and references (`aws_vpc.main.id`) wherever a value is the id or ARN of another
//! object of the stack.

use super::Result;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_provider::{ConfigureRequest, DiscoverRequest, ImportRequest, Provider, Registry, ToHclRequest, Value};
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
    ("aws_route_table_association", "network.tf"),
    ("aws_security_group", "network.tf"),
    ("aws_instance", "compute.tf"),
    ("aws_efs_file_system", "storage.tf"),
    ("aws_efs_mount_target", "storage.tf"),
    ("aws_lb", "alb.tf"),
    ("aws_lb_target_group", "alb.tf"),
    ("aws_lb_listener", "alb.tf"),
    ("aws_ecs_cluster", "ecs.tf"),
    ("aws_ecs_task_definition", "ecs.tf"),
    ("aws_ecs_service", "ecs.tf"),
];

/// Types without a VPC: with `--vpc-id`, kept only when they join what is kept (a service
/// in the VPC's subnets; its cluster and task definition).
const NO_VPC: &[&str] = &["aws_ecs_cluster", "aws_ecs_task_definition", "aws_ecs_service"];

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
        let services = ["ec2", "efs", "ecs", "elbv2", "sts"];
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
    let found = select_by_vpc(found, !o.vpc_ids.is_empty());
    let found = select_by_tags(found, &o.tags);
    let found = name_all(found);
    let mut bodies = Vec::new();
    let mut diags = Vec::new();
    for f in &found {
        let resp = provider.to_hcl(ToHclRequest { type_name: f.type_name.clone(), state: f.state.clone() });
        diags.extend(resp.diagnostics);
        bodies.push(json_as_hcl(f, resp.body.unwrap_or_default()));
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let bodies = with_references(&found, bodies);
    let file_of = |t: &str| AWS_TYPES.iter().find(|(n, _)| *n == t).map(|(_, file)| *file).unwrap_or("main.tf");
    Ok(assemble(&found, &bodies, provider_tf, file_of))
}

/// The stack's files from the objects found, their names and bodies (shared by every
/// `discover`): `provider.tf`, one resource block per object in the file `file_of` its type
/// says, one `import` block each in `imports.tf`, all in the canonical layout (so that
/// `infra fmt --check` passes on what was written).
fn assemble(found: &[Found], bodies: &[String], provider_tf: String, file_of: impl Fn(&str) -> &'static str) -> Discovered {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    files.insert("provider.tf".into(), provider_tf);
    let mut imports = String::new();
    for (f, body) in found.iter().zip(bodies) {
        let text = files.entry(file_of(&f.type_name).to_string()).or_default();
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("resource \"{}\" \"{}\" {{\n{body}}}\n", f.type_name, f.name));
        if !imports.is_empty() {
            imports.push('\n');
        }
        imports.push_str(&format!("import {{\n  to = {}.{}\n  id = {}\n}}\n", f.type_name, f.name, infra_provider::hcl::quote(&f.id)));
    }
    if !imports.is_empty() {
        files.insert("imports.tf".into(), imports);
    }
    for text in files.values_mut() {
        if let Ok(f) = infra_lang::format::format(text) {
            *text = f;
        }
    }
    Discovered { files, objects: found.len() }
}

/// One `discover` per type, then one `import` per object found (concurrently, 16 at a time).
async fn list_and_read(provider: Arc<dyn Provider>, o: &AwsOptions) -> Result<Vec<Found>> {
    let mut filter = BTreeMap::new();
    if !o.vpc_ids.is_empty() {
        filter.insert("vpc_id".to_string(), o.vpc_ids.join(","));
    }
    let mut listed: Vec<(String, String, Option<String>)> = Vec::new();
    let mut diags = Vec::new();
    for (t, _) in AWS_TYPES.iter().filter(|(t, _)| o.types.is_empty() || o.types.iter().any(|x| x == t)) {
        let resp = provider.discover(DiscoverRequest { type_name: t.to_string(), filter: filter.clone() }).await;
        diags.extend(resp.diagnostics);
        for v in resp.objects {
            let Some(id) = v.get_attr("id").and_then(Value::as_str).map(str::to_string) else { continue };
            // The VPC listing is regional: keep the VPCs asked for.
            if *t == "aws_vpc" && !o.vpc_ids.is_empty() && !o.vpc_ids.contains(&id) {
                continue;
            }
            let label = v.get_attr("name").and_then(Value::as_str).map(str::to_string);
            listed.push((t.to_string(), id, label));
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    import_all(provider, &listed).await
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
            "aws_efs_mount_target" => named(s, "file_system_id").map(|fs| named(s, "subnet_id").map(|sn| format!("{fs}_{sn}")).unwrap_or(fs)),
            "aws_lb_listener" => named(s, "load_balancer_arn").map(|lb| {
                let port = s.get_attr("port").and_then(Value::as_i64).map(|p| format!("_{p}")).unwrap_or_default();
                format!("{lb}{port}")
            }),
            _ => None,
        });
        let base = base.unwrap_or_else(|| sanitize(&f.id));
        let base = if base.is_empty() { "this".to_string() } else { base };
        let mut name = base.clone();
        let mut n = 2;
        while !used.insert((f.type_name.clone(), name.clone())) {
            name = format!("{base}_{n}");
            n += 1;
        }
        f.name = name;
    }
    found
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
}
