//! `infra discover vps` without a terminal: lists what a host holds that a person configured
//! (the vps provider's `discover`: one script, one round trip, for every type), reads it all
//! in one more round trip (`prefetch`, which then answers every `import`), and writes the stack
//! with the shared writer of `discover` (`super::assemble`): one file per concern, resources
//! named after their unit, site, cron file, rule, compose project or path, and references wherever one object
//! names another of the stack (a unit's script under a `--path`, a site's root directory, a
//! unit another one needs), as `${vps_file.app_run_sh.path}` inside the text.

use super::{assemble, import_all, reaches, sanitize, single_blocks, unique_name, Discovered, Found};
use crate::ops::Result;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_provider::{ConfigureRequest, DiscoverRequest, PrefetchRequest, Provider, Registry, ToHclRequest, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The types `discover vps` lists, in the order their blocks are written, with the file each
/// goes to. A compose project is listed by its containers' labels (its directory and name)
/// when Compose read it from its directory's own compose file.
pub const VPS_TYPES: &[(&str, &str)] = &[
    ("vps_systemd_unit", "services.tf"),
    ("vps_nginx_site", "nginx.tf"),
    ("vps_cron_job", "cron.tf"),
    ("vps_ufw", "firewall.tf"),
    ("vps_ufw_rule", "firewall.tf"),
    ("vps_compose_stack", "compose.tf"),
    ("vps_directory", "files.tf"),
    ("vps_file", "files.tf"),
    ("vps_group", "users.tf"),
    ("vps_user", "users.tf"),
];

/// The host and how to reach it, as the provider block spells it; the block written says the
/// same.
#[derive(Clone, Debug, Default)]
pub struct VpsOptions {
    pub host: String,
    pub port: Option<i64>,
    pub user: Option<String>,
    pub private_key_file: Option<String>,
    pub agent: bool,
    pub host_key: Option<String>,
    pub known_hosts_file: Option<String>,
    pub sudo: bool,
    /// Files and directories under these prefixes become `vps_file` / `vps_directory`.
    pub paths: Vec<String>,
    /// Only these types (all of [`VPS_TYPES`] when empty).
    pub types: Vec<String>,
}

fn err(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail).into()
}

/// The provider block `discover vps` configures its provider with and writes to `provider.tf`.
fn provider_block(o: &VpsOptions) -> (Value, String) {
    let q = infra_provider::hcl::quote;
    let mut attrs: Vec<(&str, Value)> = vec![("host", Value::string(&o.host))];
    let mut text = format!("provider \"vps\" {{\n  host = {}\n", q(&o.host));
    if let Some(p) = o.port {
        attrs.push(("port", Value::int(p)));
        text.push_str(&format!("  port = {p}\n"));
    }
    let strings = [("user", &o.user), ("private_key_file", &o.private_key_file), ("host_key", &o.host_key), ("known_hosts_file", &o.known_hosts_file)];
    for (k, v) in strings {
        if let Some(v) = v {
            attrs.push((k, Value::string(v)));
            text.push_str(&format!("  {k} = {}\n", q(v)));
        }
    }
    for (k, on) in [("agent", o.agent), ("sudo", o.sudo)] {
        if on {
            attrs.push((k, Value::Bool(true)));
            text.push_str(&format!("  {k} = true\n"));
        }
    }
    text.push_str("}\n");
    (Value::object(attrs), text)
}

/// Lists and reads what the host holds, and returns the files of the stack.
pub fn discover_vps(rt: &tokio::runtime::Runtime, registry: &Registry, o: &VpsOptions) -> Result<Discovered> {
    let Some(factory) = registry.get("vps") else {
        return Err(err("Provider not built in", "This build of infra does not include the vps provider.".into()));
    };
    for t in &o.types {
        if !VPS_TYPES.iter().any(|(n, _)| n == t) {
            let known: Vec<&str> = VPS_TYPES.iter().map(|(n, _)| *n).collect();
            return Err(err("Unsupported type", format!("The type {t} cannot be listed by discover vps, which lists {}.", known.join(", "))));
        }
    }
    for p in &o.paths {
        if !p.starts_with('/') || p.split('/').any(|part| part == "..") || p.contains('\n') {
            return Err(err("Invalid path", format!("--path {p:?} must be an absolute path without \"..\".")));
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
    let found = name_all(found, &o.paths);
    let mut bodies = Vec::new();
    let mut diags = Vec::new();
    for f in &found {
        let resp = provider.to_hcl(ToHclRequest { type_name: f.type_name.clone(), state: f.state.clone() });
        diags.extend(resp.diagnostics);
        bodies.push(resp.body.unwrap_or_default());
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let bodies = with_references(&found, bodies);
    let file_of = |t: &str| VPS_TYPES.iter().find(|(n, _)| *n == t).map(|(_, file)| *file).unwrap_or("main.tf");
    Ok(assemble(&found, &single_blocks(&found, bodies), provider_tf, file_of))
}

/// One `discover` per type (the provider lists them all in one round trip), one `prefetch` of
/// everything listed (one more), then the imports, which answer from what it read.
async fn list_and_read(provider: Arc<dyn Provider>, o: &VpsOptions) -> Result<Vec<Found>> {
    let mut filter = BTreeMap::new();
    filter.insert("for_import".to_string(), "true".to_string());
    if !o.paths.is_empty() {
        filter.insert("paths".to_string(), o.paths.join("\n"));
    }
    let mut listed: Vec<(String, Value)> = Vec::new();
    let mut diags = Vec::new();
    for (t, _) in VPS_TYPES.iter().filter(|(t, _)| o.types.is_empty() || o.types.iter().any(|x| x == t)) {
        let resp = provider.discover(DiscoverRequest { type_name: t.to_string(), filter: filter.clone() }).await;
        diags.extend(resp.diagnostics);
        listed.extend(resp.objects.into_iter().map(|v| (t.to_string(), v)));
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    // A file under a --path that another object already is (a unit file, a site, a cron file,
    // a compose project's compose file and .env) is that object, not a vps_file too.
    let owned: BTreeSet<String> = listed.iter().flat_map(|(t, v)| own_paths(t, v)).collect();
    listed.retain(|(t, v)| t != "vps_file" || !infra_provider::attrs::string(v, "id").is_some_and(|p| owned.contains(&p)));
    let ids: Vec<(String, String, Option<String>)> = listed
        .iter()
        .filter_map(|(t, v)| {
            let id = infra_provider::attrs::string(v, "id")?;
            Some((t.clone(), id, infra_provider::attrs::string(v, "name")))
        })
        .collect();
    // Each object listed is its import seed plus a display `name`: read as the seed (only the
    // type's own attributes), so the imports that follow are answered from this one read.
    let schema = provider.schema();
    let seeds: Vec<(String, Value)> = listed
        .into_iter()
        .map(|(t, v)| {
            let v = match (v, schema.resources.get(&t)) {
                (Value::Object(mut m), Some(s)) => {
                    m.retain(|k, _| s.attributes.contains_key(k));
                    Value::Object(m)
                }
                (v, _) => v,
            };
            (t, v)
        })
        .collect();
    provider.prefetch(PrefetchRequest { objects: seeds, full: true }).await;
    import_all(provider, &ids).await
}

/// The files on the host an object of another type is.
fn own_paths(t: &str, v: &Value) -> Vec<String> {
    let Some(id) = infra_provider::attrs::string(v, "id") else { return Vec::new() };
    match t {
        "vps_systemd_unit" => vec![format!("/etc/systemd/system/{id}")],
        "vps_nginx_site" => vec![format!("/etc/nginx/sites-available/{id}")],
        "vps_cron_job" => vec![format!("/etc/cron.d/{id}")],
        "vps_compose_stack" => {
            let dir = id.trim_end_matches('/');
            infra_provider_vps::COMPOSE_FILES.iter().map(|f| format!("{dir}/{f}")).chain([format!("{dir}/.env")]).collect()
        }
        _ => Vec::new(),
    }
}

/// Resource names: a unit, site or cron file by its name (`app.service` → `app`, `app.conf` →
/// `app`); a rule by what it lets in (`port_22_tcp`, `port_5432_from_10_0_0_0_8`, `deny_…`);
/// the firewall as `this`; a file or directory by its path from
/// the `--path` it was found under, that prefix's last part included (`/opt/app/run.sh` →
/// `app_run_sh`). Unique per type.
fn name_all(mut found: Vec<Found>, paths: &[String]) -> Vec<Found> {
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &mut found {
        let label = f.label.clone().unwrap_or_else(|| f.id.clone());
        let base = match f.type_name.as_str() {
            "vps_systemd_unit" => sanitize(label.strip_suffix(".service").unwrap_or(&label)),
            "vps_nginx_site" => sanitize(label.strip_suffix(".conf").unwrap_or(&label)),
            "vps_ufw" => "this".to_string(),
            "vps_ufw_rule" => rule_name(&f.state),
            "vps_file" | "vps_directory" => {
                let prefix = paths.iter().filter(|p| f.id == **p || f.id.starts_with(&format!("{p}/"))).max_by_key(|p| p.len());
                let from = prefix.and_then(|p| p.rsplit_once('/')).map(|(parent, _)| parent.len()).unwrap_or(0);
                sanitize(f.id.get(from..).unwrap_or(&f.id))
            }
            _ => sanitize(&label),
        };
        f.name = unique_name(&mut used, &f.type_name, base);
    }
    found
}

fn rule_name(state: &Value) -> String {
    let g = |k: &str| infra_provider::attrs::string(state, k).unwrap_or_default();
    let mut name = String::new();
    if g("action") != "allow" {
        name.push_str(&format!("{}_", g("action")));
    }
    name.push_str(&format!("port_{}", g("port")));
    if g("protocol") != "any" {
        name.push_str(&format!("_{}", g("protocol")));
    }
    if g("from") != "any" {
        name.push_str(&format!("_from_{}", g("from")));
    }
    sanitize(&name)
}

/// What another object's text may name an object by, and the expression that says it: a file
/// or directory by its path (`vps_file.x.path`), a site by its file in sites-available, a unit
/// by its name (`vps_systemd_unit.x.name`).
fn handles(f: &Found) -> Vec<(String, String)> {
    let at = |attr: &str| format!("{}.{}.{attr}", f.type_name, f.name);
    match f.type_name.as_str() {
        "vps_file" | "vps_directory" => vec![(f.id.clone(), at("path"))],
        "vps_nginx_site" => vec![(format!("/etc/nginx/sites-available/{}", f.id), format!("/etc/nginx/sites-available/${{{}}}", at("name")))],
        "vps_systemd_unit" => vec![(f.id.clone(), at("name"))],
        _ => Vec::new(),
    }
}

/// Whether `c` may continue a path or a unit name (so a match ending or starting next to it is
/// only part of a longer word).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-@".contains(c)
}

/// Replaces, in every body, each mention of another object's path or unit name by a reference
/// to it, longest first, at word boundaries (a path may be followed by `/`: a directory's path
/// starts its files' paths), unless the reference would close a cycle. A whole quoted value
/// becomes the bare reference (`path = vps_directory.app.path` never happens: an object is not
/// its own reference; `"/opt/app"` → `vps_directory.app.path`); inside text it is interpolated.
fn with_references(found: &[Found], bodies: Vec<String>) -> Vec<String> {
    let mut targets: Vec<(String, String, usize)> =
        found.iter().enumerate().flat_map(|(i, f)| handles(f).into_iter().map(move |(lit, expr)| (lit, expr, i))).collect();
    targets.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); found.len()];
    let mut out = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let mut text = body;
        for (lit, expr, j) in &targets {
            if *j == i || !text.contains(lit.as_str()) || reaches(&edges, *j, i) {
                continue;
            }
            let (replaced, n) = replace_mentions(&text, lit, expr);
            if n > 0 {
                edges[i].insert(*j);
                text = replaced;
            }
        }
        out.push(text);
    }
    out
}

/// `text` with each mention of `lit` at a word boundary replaced by `${expr}` (or by `expr`
/// when it is a whole quoted value), and how many were.
fn replace_mentions(text: &str, lit: &str, expr: &str) -> (String, usize) {
    let interpolated = if expr.contains("${") { expr.to_string() } else { format!("${{{expr}}}") };
    let mut out = String::new();
    let mut n = 0;
    let mut rest = text;
    while let Some(at) = rest.find(lit) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + lit.len()..].chars().next();
        let bounded = !before.is_some_and(|c| word_char(c) || c == '/' || c == '{') && !after.is_some_and(word_char);
        out.push_str(&rest[..at]);
        if bounded && before == Some('"') && after == Some('"') && !expr.contains("${") && rest[..at].ends_with(" = \"") {
            // A whole quoted value: the bare reference.
            out.pop();
            out.push_str(expr);
            rest = &rest[at + lit.len() + 1..];
            n += 1;
            continue;
        }
        if bounded {
            out.push_str(&interpolated);
            n += 1;
        } else {
            out.push_str(lit);
        }
        rest = &rest[at + lit.len()..];
    }
    out.push_str(rest);
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(t: &str, id: &str, state: Value) -> Found {
        Found { type_name: t.into(), id: id.into(), label: Some(id.into()), state, name: String::new() }
    }

    #[test]
    fn names_come_from_units_sites_rules_and_paths() {
        let rule = |a: &str, p: &str, port: &str, from: &str| {
            Value::object([("action", Value::string(a)), ("protocol", Value::string(p)), ("port", Value::string(port)), ("from", Value::string(from))])
        };
        let f = name_all(
            vec![
                found("vps_systemd_unit", "app.service", Value::Null),
                found("vps_systemd_unit", "backup.timer", Value::Null),
                found("vps_nginx_site", "app.conf", Value::Null),
                found("vps_ufw_rule", "allow tcp 22 any", rule("allow", "tcp", "22", "any")),
                found("vps_ufw_rule", "allow any 5432 10.0.0.0/8", rule("allow", "any", "5432", "10.0.0.0/8")),
                found("vps_ufw_rule", "deny udp 53 any", rule("deny", "udp", "53", "any")),
                found("vps_directory", "/opt/app", Value::Null),
                found("vps_file", "/opt/app/run.sh", Value::Null),
                found("vps_file", "/opt/app/.env", Value::Null),
            ],
            &["/opt/app".to_string()],
        );
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["app", "backup_timer", "app", "port_22_tcp", "port_5432_from_10_0_0_0_8", "deny_port_53_udp", "app", "app_run_sh", "app_env"]);
    }

    #[test]
    fn paths_and_unit_names_become_references_at_word_boundaries() {
        let mut f = vec![
            found("vps_directory", "/opt/app", Value::Null),
            found("vps_file", "/opt/app/run.sh", Value::Null),
            found("vps_systemd_unit", "app.service", Value::Null),
            found("vps_nginx_site", "app.conf", Value::Null),
            found("vps_cron_job", "restart", Value::Null),
        ];
        f = name_all(f, &["/opt/app".to_string()]);
        let bodies = vec![
            "  path = \"/opt/app\"\n".to_string(),
            "  path = \"/opt/app/run.sh\"\n".to_string(),
            "  content = <<-EOT\n    ExecStart=/opt/app/run.sh --dir /opt/app\n    WorkingDirectory=/opt/apple\n  EOT\n".to_string(),
            "  config = \"root /opt/app/static;\"\n".to_string(),
            "  command = \"systemctl restart app.service myapp.service && cat /etc/nginx/sites-available/app.conf\"\n".to_string(),
        ];
        let out = with_references(&f, bodies);
        assert_eq!(out[0], "  path = \"/opt/app\"\n", "an object never refers to itself");
        assert_eq!(out[1], "  path = \"${vps_directory.app.path}/run.sh\"\n");
        assert_eq!(
            out[2],
            "  content = <<-EOT\n    ExecStart=${vps_file.app_run_sh.path} --dir ${vps_directory.app.path}\n    WorkingDirectory=/opt/apple\n  EOT\n"
        );
        assert_eq!(out[3], "  config = \"root ${vps_directory.app.path}/static;\"\n");
        assert_eq!(
            out[4],
            "  command = \"systemctl restart ${vps_systemd_unit.app.name} myapp.service && cat /etc/nginx/sites-available/${vps_nginx_site.app.name}\"\n"
        );
    }

    #[test]
    fn a_compose_project_owns_its_compose_file_and_env() {
        let stack = Value::object([("id", Value::string("/srv/app/"))]);
        let owned = own_paths("vps_compose_stack", &stack);
        assert!(owned.contains(&"/srv/app/docker-compose.yml".to_string()) && owned.contains(&"/srv/app/.env".to_string()), "{owned:?}");
        assert_eq!(own_paths("vps_cron_job", &Value::object([("id", Value::string("x"))])), ["/etc/cron.d/x"]);
        assert!(own_paths("vps_ufw_rule", &stack).is_empty());
    }

    #[test]
    fn a_whole_quoted_path_becomes_a_bare_reference() {
        let (out, n) = replace_mentions("  directory = \"/opt/app\"\n", "/opt/app", "vps_directory.app.path");
        assert_eq!((out.as_str(), n), ("  directory = vps_directory.app.path\n", 1));
    }

    #[test]
    fn the_provider_block_spells_the_options_as_the_provider_does() {
        let o = VpsOptions {
            host: "10.0.0.5".into(),
            port: Some(2222),
            user: Some("deploy".into()),
            private_key_file: Some("/k".into()),
            host_key: Some("ssh-ed25519 AAAA".into()),
            sudo: true,
            ..Default::default()
        };
        let (v, text) = provider_block(&o);
        assert_eq!(
            text,
            "provider \"vps\" {\n  host = \"10.0.0.5\"\n  port = 2222\n  user = \"deploy\"\n  private_key_file = \"/k\"\n  host_key = \"ssh-ed25519 AAAA\"\n  sudo = true\n}\n"
        );
        assert_eq!(infra_provider::attrs::int(&v, "port"), Some(2222));
    }
}
