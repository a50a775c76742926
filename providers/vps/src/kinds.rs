//! The resource types of the vps provider: schema, planning defaults, the probe that reads each
//! object in the batched inventory, how its facts become an object, and the scripts that
//! create, update and delete it. Every path and name reaches the shell through `quote`, every
//! content through base64.

use crate::probe::Facts;
use crate::transport::{base64_decode, data, quote, Connection};
use infra_provider::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const UNIT_DIR: &str = "/etc/systemd/system";
const SITES_AVAILABLE: &str = "/etc/nginx/sites-available";
const SITES_ENABLED: &str = "/etc/nginx/sites-enabled";
const CRON_DIR: &str = "/etc/cron.d";

/// `docker compose` (the plugin), else `docker-compose` (the standalone tool Debian packages).
const COMPOSE: &str = "dc() { if docker compose version >/dev/null 2>&1; then docker compose \"$@\"; else docker-compose \"$@\"; fi; }\n";

/// `service state` lines of a compose project's containers, by the label every compose
/// version sets (works whichever compose tool made them).
fn compose_ps(project: &str) -> String {
    format!("docker ps -a --filter label=com.docker.compose.project={} --format '{{{{.Label \"com.docker.compose.service\"}}}} {{{{.State}}}}'", quote(project))
}

fn list_of_strings() -> Type {
    Type::List(Box::new(Type::String))
}

pub fn schemas() -> BTreeMap<String, Schema> {
    let id = || AttrSchema::computed(Type::String);
    // Defaults (0644 files, 0755 directories, root) are filled in by `plan`.
    let ownership = |schema: Schema| {
        schema
            .attr("mode", AttrSchema::optional_computed(Type::String))
            .attr("owner", AttrSchema::optional_computed(Type::String))
            .attr("group", AttrSchema::optional_computed(Type::String))
    };
    let file = ownership(
        Schema::new()
            .attr("id", id())
            .attr("path", AttrSchema::required(Type::String).force_new())
            .attr("content", AttrSchema::optional(Type::String))
            .attr("sensitive_content", AttrSchema::optional(Type::String).sensitive())
            .attr("source", AttrSchema::optional(Type::String))
            .attr("content_sha256", AttrSchema::computed(Type::String))
            .attr("reload_services", AttrSchema::optional(list_of_strings()))
            .attr("restart_services", AttrSchema::optional(list_of_strings())),
    );
    let directory = ownership(Schema::new().attr("id", id()).attr("path", AttrSchema::required(Type::String).force_new()));
    let unit = Schema::new()
        .attr("id", id())
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("content", AttrSchema::required(Type::String))
        .attr("enabled", AttrSchema::optional_computed(Type::Bool))
        .attr("active", AttrSchema::optional_computed(Type::Bool));
    let site = Schema::new()
        .attr("id", id())
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("config", AttrSchema::required(Type::String))
        .attr("enabled", AttrSchema::optional_computed(Type::Bool));
    let ufw = Schema::new()
        .attr("id", id())
        .attr("enabled", AttrSchema::optional_computed(Type::Bool))
        .attr("default_incoming", AttrSchema::optional_computed(Type::String))
        .attr("default_outgoing", AttrSchema::optional_computed(Type::String));
    let rule = Schema::new()
        .attr("id", id())
        .attr("port", AttrSchema::required(Type::String).force_new())
        .attr("protocol", AttrSchema::optional_computed(Type::String).force_new())
        .attr("from", AttrSchema::optional_computed(Type::String).force_new())
        .attr("action", AttrSchema::optional_computed(Type::String).force_new())
        .attr("comment", AttrSchema::optional(Type::String).force_new());
    let cron = Schema::new()
        .attr("id", id())
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("schedule", AttrSchema::required(Type::String))
        .attr("command", AttrSchema::required(Type::String))
        .attr("user", AttrSchema::optional_computed(Type::String));
    let package = Schema::new()
        .attr("id", id())
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("version", AttrSchema::optional_computed(Type::String));
    let command = Schema::new()
        .attr("id", id())
        .attr("create", AttrSchema::required(Type::String).force_new())
        .attr("destroy", AttrSchema::optional(Type::String))
        .attr("triggers", AttrSchema::optional(Type::Map(Box::new(Type::String))).force_new())
        .attr("stdout", AttrSchema::computed(Type::String));
    let compose = Schema::new()
        .attr("id", id())
        .attr("directory", AttrSchema::required(Type::String).force_new())
        .attr("compose", AttrSchema::required(Type::String))
        .attr("env", AttrSchema::optional(Type::Map(Box::new(Type::String))).sensitive())
        .attr("env_sha256", AttrSchema::computed(Type::String))
        .attr("running", AttrSchema::optional_computed(Type::Bool))
        .attr("project_name", AttrSchema::optional_computed(Type::String).force_new());
    BTreeMap::from([
        ("vps_file".to_string(), file),
        ("vps_directory".to_string(), directory),
        ("vps_systemd_unit".to_string(), unit),
        ("vps_nginx_site".to_string(), site),
        ("vps_ufw".to_string(), ufw),
        ("vps_ufw_rule".to_string(), rule),
        ("vps_cron_job".to_string(), cron),
        ("vps_apt_package".to_string(), package),
        ("vps_command".to_string(), command),
        ("vps_compose_stack".to_string(), compose),
    ])
}

fn err(summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail)
}

fn at(k: &str) -> Vec<PathStep> {
    vec![PathStep::Attr(k.into())]
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `644`, `0644` and `u=rw…` aside, a mode is octal digits: shown as four.
fn normalize_mode(m: &str) -> Option<String> {
    let n = u32::from_str_radix(m.trim(), 8).ok().filter(|n| *n <= 0o7777)?;
    Some(format!("{n:04o}"))
}

fn simple_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) && !name.starts_with('.')
}

pub fn validate(req: &ValidateRequest) -> Vec<Diagnostic> {
    let c = req.config.deep_unmark();
    let mut out = Vec::new();
    if let Some(m) = attrs::string(&c, "mode") {
        if normalize_mode(&m).is_none() {
            out.push(err("Invalid mode", format!("{m:?} is not an octal file mode such as \"0644\".")).with_path(at("mode")));
        }
    }
    if let Some(p) = attrs::string(&c, "path").or_else(|| attrs::string(&c, "directory")) {
        if !p.starts_with('/') || p.split('/').any(|part| part == "..") {
            out.push(err("Invalid path", format!("{p:?} must be an absolute path without \"..\".")));
        }
    }
    match req.type_name.as_str() {
        "vps_file" => {
            let set = ["content", "sensitive_content", "source"].iter().filter(|k| c.get_attr(k).is_some_and(|v| !v.is_null())).count();
            if set != 1 && c.is_wholly_known() {
                out.push(err("Invalid file content", format!("vps_file needs exactly one of content, sensitive_content or source; {set} are set.")));
            }
        }
        "vps_systemd_unit" | "vps_nginx_site" | "vps_apt_package" => {
            if let Some(n) = attrs::string(&c, "name").filter(|n| !simple_name(n)) {
                out.push(err("Invalid name", format!("{n:?}: a name is letters, digits and -_.@, not starting with a dot.")).with_path(at("name")));
            }
        }
        "vps_cron_job" => {
            // cron ignores files in /etc/cron.d whose names hold anything else.
            if let Some(n) = attrs::string(&c, "name").filter(|n| n.is_empty() || !n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')) {
                out.push(err("Invalid name", format!("{n:?}: cron reads /etc/cron.d files named with letters, digits, - and _ only.")).with_path(at("name")));
            }
            if let Some(sch) = attrs::string(&c, "schedule") {
                let fields = sch.split_whitespace().count();
                if !(fields == 5 || fields == 1 && sch.trim().starts_with('@')) {
                    out.push(err("Invalid schedule", format!("{sch:?} is not five cron fields (or @daily and the like).")).with_path(at("schedule")));
                }
            }
            for k in ["command", "schedule", "user"] {
                if attrs::string(&c, k).is_some_and(|v| v.contains('\n')) {
                    out.push(err("Invalid cron job", format!("{k} must be one line.")).with_path(at(k)));
                }
            }
        }
        "vps_ufw_rule" => {
            if let Some(a) = attrs::string(&c, "action").filter(|a| !["allow", "deny", "reject", "limit"].contains(&a.as_str())) {
                out.push(err("Invalid action", format!("{a:?} is not one of allow, deny, reject, limit.")).with_path(at("action")));
            }
            if let Some(p) = attrs::string(&c, "protocol").filter(|p| !["tcp", "udp", "any"].contains(&p.as_str())) {
                out.push(err("Invalid protocol", format!("{p:?} is not one of tcp, udp, any.")).with_path(at("protocol")));
            }
            if let Some(p) = attrs::string(&c, "port") {
                let ok = p.split(':').count() <= 2 && p.split(':').all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
                if !ok {
                    out.push(err("Invalid port", format!("{p:?} is not a port or a range such as 8000:8010.")).with_path(at("port")));
                }
                if p.contains(':') && attrs::string(&c, "protocol").as_deref() == Some("any") {
                    out.push(err("Invalid port", "A port range needs protocol tcp or udp (ufw's rule).".into()).with_path(at("protocol")));
                }
            }
            if let Some(cm) = attrs::string(&c, "comment").filter(|cm| cm.contains('\n') || cm.contains('\'')) {
                out.push(err("Invalid comment", format!("{cm:?}: ufw takes one-line comments without single quotes.")).with_path(at("comment")));
            }
        }
        "vps_compose_stack" => {
            for (k, v) in string_map(c.get_attr("env")) {
                if !k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') || k.is_empty() {
                    out.push(err("Invalid env", format!("{k:?} is not a variable name (letters, digits, _).")).with_path(at("env")));
                }
                if (v.contains('\'') || v.contains('\n')) && v.contains('$') {
                    out.push(
                        err("Invalid env", format!("The value of {k} holds a quote or newline and a $: compose would interpolate it. Drop one of them."))
                            .with_path(at("env")),
                    );
                }
            }
        }
        "vps_ufw" => {
            for k in ["default_incoming", "default_outgoing"] {
                if let Some(v) = attrs::string(&c, k).filter(|v| !["allow", "deny", "reject"].contains(&v.as_str())) {
                    out.push(err("Invalid policy", format!("{v:?} is not one of allow, deny, reject.")).with_path(at(k)));
                }
            }
        }
        _ => {}
    }
    out
}

fn set_default(m: &mut BTreeMap<String, Value>, k: &str, v: Value) {
    if m.get(k).is_none_or(Value::is_null) {
        m.insert(k.to_string(), v);
    }
}

/// The bytes a file will hold, when the configuration says: content, sensitive content, or
/// a local source file read at plan time.
fn file_bytes(p: &Value) -> Option<Result<Vec<u8>, Diagnostic>> {
    let p = p.deep_unmark();
    if let Some(c) = attrs::string(&p, "content").or_else(|| attrs::string(&p, "sensitive_content")) {
        return Some(Ok(c.into_bytes()));
    }
    let src = attrs::string(&p, "source")?;
    Some(std::fs::read(&src).map_err(|e| err("Cannot read source", format!("{src}: {e}.")).with_path(at("source"))))
}

fn cron_content(p: &Value) -> String {
    let g = |k: &str| attrs::string(p, k).unwrap_or_default();
    format!(
        "# Managed by infra (vps_cron_job {}): hand edits show as drift.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n{} {} {}\n",
        g("name"),
        g("schedule").split_whitespace().collect::<Vec<_>>().join(" "),
        g("user"),
        g("command")
    )
}

/// `.env` text for compose: single-quoted values, which compose reads literally (except
/// `${VAR}`, which the standalone docker-compose still expands, as in any `.env`); a value
/// holding a single quote is double-quoted (`$` in it would be interpolated, so `validate`
/// refuses that pair).
fn env_content(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| {
            if v.contains('\'') || v.contains('\n') {
                format!("{k}=\"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
            } else {
                format!("{k}='{v}'\n")
            }
        })
        .collect()
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.map(Value::deep_unmark)
        .and_then(|v| v.as_map().map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()))
        .unwrap_or_default()
}

/// A compose project's name when none is given: the directory's last part, as compose itself
/// would name it (lowercase letters, digits, - and _).
fn default_project_name(dir: &str) -> String {
    let base = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("stack");
    base.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>().to_lowercase()
}

fn rule_spec(p: &Value) -> (String, String, String, String) {
    let g = |k: &str, d: &str| attrs::string(p, k).unwrap_or_else(|| d.to_string());
    (g("action", "allow"), g("protocol", "tcp"), g("port", ""), g("from", "any"))
}

fn rule_id(p: &Value) -> String {
    let (a, pr, po, f) = rule_spec(p);
    format!("{a} {pr} {po} {f}")
}

pub fn plan(req: PlanRequest) -> PlanResponse {
    let schema = schemas().remove(&req.type_name).unwrap_or_default();
    let mut cfg = req.config.clone();
    let mut diagnostics = Vec::new();
    if let Value::Object(m) = &mut cfg {
        match req.type_name.as_str() {
            "vps_file" | "vps_directory" => {
                let dir = req.type_name == "vps_directory";
                set_default(m, "mode", Value::string(if dir { "0755" } else { "0644" }));
                set_default(m, "owner", Value::string("root"));
                set_default(m, "group", Value::string("root"));
                if let Some(mode) = m.get("mode").and_then(|v| v.as_str().and_then(normalize_mode)) {
                    m.insert("mode".into(), Value::string(mode));
                }
                if let Some(p) = m.get("path").cloned() {
                    m.insert("id".into(), p);
                }
                if !dir {
                    let whole = Value::Object(m.clone());
                    let sha = if whole.is_wholly_known() {
                        match file_bytes(&whole) {
                            Some(Ok(b)) => Value::string(sha256_hex(&b)),
                            Some(Err(d)) => {
                                diagnostics.push(d);
                                Value::Unknown
                            }
                            None => Value::Unknown,
                        }
                    } else {
                        Value::Unknown
                    };
                    m.insert("content_sha256".into(), sha);
                }
            }
            "vps_systemd_unit" | "vps_nginx_site" | "vps_cron_job" | "vps_apt_package" => {
                if let Some(n) = m.get("name").cloned() {
                    m.insert("id".into(), n);
                }
                match req.type_name.as_str() {
                    "vps_systemd_unit" => {
                        set_default(m, "enabled", Value::Bool(true));
                        set_default(m, "active", Value::Bool(true));
                    }
                    "vps_nginx_site" => set_default(m, "enabled", Value::Bool(true)),
                    "vps_cron_job" => set_default(m, "user", Value::string("root")),
                    _ => {}
                }
            }
            "vps_ufw" => {
                m.insert("id".into(), Value::string("ufw"));
                set_default(m, "enabled", Value::Bool(true));
                set_default(m, "default_incoming", Value::string("deny"));
                set_default(m, "default_outgoing", Value::string("allow"));
            }
            "vps_ufw_rule" => {
                set_default(m, "action", Value::string("allow"));
                set_default(m, "protocol", Value::string("tcp"));
                set_default(m, "from", Value::string("any"));
                let whole = Value::Object(m.clone());
                if whole.get_attr("port").is_some_and(|p| p.as_str().is_some()) {
                    m.insert("id".into(), Value::string(rule_id(&whole)));
                }
            }
            "vps_compose_stack" => {
                if let Some(d) = m.get("directory").cloned() {
                    m.insert("id".into(), d.clone());
                    if let Some(dir) = d.as_str() {
                        set_default(m, "project_name", Value::string(default_project_name(dir)));
                    }
                }
                set_default(m, "running", Value::Bool(true));
                let env = m.get("env").cloned().unwrap_or(Value::Null);
                let sha = if env.is_wholly_known() { Value::string(sha256_hex(env_content(&string_map(Some(&env))).as_bytes())) } else { Value::Unknown };
                m.insert("env_sha256".into(), sha);
            }
            _ => {}
        }
    }
    let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &cfg);
    resp.diagnostics.extend(diagnostics);
    if let (Value::Object(m), "vps_command") = (&mut resp.planned, req.type_name.as_str()) {
        // A new run gets a new id; an in-place change (the destroy command) keeps the old one.
        if req.prior.is_none() || !resp.requires_replace.is_empty() {
            m.insert("id".into(), Value::Unknown);
            m.insert("stdout".into(), Value::Unknown);
        }
    }
    resp
}

/// Whether the port spec (`22`, `8000:8010`) covers `port`.
fn covers(spec: &str, port: u16) -> bool {
    match spec.split_once(':') {
        Some((a, b)) => matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a <= port && port <= b),
        None => spec.parse::<u16>() == Ok(port),
    }
}

/// Refuses a firewall that would cut the SSH session infra itself uses.
pub fn check_planned(req: &CheckPlannedRequest, ssh_port: u16) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let rules: Vec<Value> = req.objects.iter().filter(|o| o.type_name == "vps_ufw_rule").map(|o| o.value.deep_unmark()).collect();
    let reaches_ssh = |r: &Value| {
        let (_, proto, port, _) = rule_spec(r);
        proto != "udp" && covers(&port, ssh_port)
    };
    let allowed = rules.iter().any(|r| reaches_ssh(r) && matches!(rule_spec(r).0.as_str(), "allow" | "limit"));
    for (i, o) in req.objects.iter().enumerate() {
        let v = o.value.deep_unmark();
        if o.type_name == "vps_ufw_rule" && reaches_ssh(&v) && matches!(rule_spec(&v).0.as_str(), "deny" | "reject") && rule_spec(&v).3 == "any" {
            out.push((
                i,
                err(
                    "Rule would lock infra out",
                    format!("This rule {}s port {ssh_port}, the SSH port infra is connected to; the next run could not reach the host.", rule_spec(&v).0),
                ),
            ));
        }
        if o.type_name == "vps_ufw"
            && attrs::bool(&v, "enabled") == Some(true)
            && attrs::string(&v, "default_incoming").is_some_and(|d| d != "allow")
            && !allowed
        {
            out.push((
                i,
                err(
                    "Firewall would lock infra out",
                    format!("Enabling UFW with default_incoming = \"{}\" and no vps_ufw_rule allowing port {ssh_port}/tcp would cut the SSH connection infra is using. Add a rule such as vps_ufw_rule {{ port = \"{ssh_port}\" }} (and depends_on it).", attrs::string(&v, "default_incoming").unwrap_or_default()),
                ),
            ));
        }
    }
    out
}

/// Types read from the host (commands are not: their record is the truth).
pub fn is_probed(type_name: &str) -> bool {
    type_name != "vps_command" && schemas().contains_key(type_name)
}

fn unit_path(name: &str) -> String {
    format!("{UNIT_DIR}/{name}")
}

fn cron_path(name: &str) -> String {
    format!("{CRON_DIR}/{name}")
}

/// The shell lines that print an object's facts.
pub fn probe(type_name: &str, v: &Value) -> String {
    let g = |k: &str| attrs::string(v, k).unwrap_or_default();
    let expected = g("content_sha256");
    match type_name {
        "vps_file" => {
            // Secret or uploaded content is compared by hash only, never carried back.
            let want =
                if v.get_attr("sensitive_content").is_some_and(|c| !c.is_null()) || v.get_attr("source").is_some_and(|c| !c.is_null()) { "0" } else { "1" };
            format!("file '' {} {} {want}", quote(&g("path")), quote(&expected))
        }
        "vps_directory" => format!("file '' {} '' 0", quote(&g("path"))),
        "vps_systemd_unit" => {
            let sha = sha256_hex(g("content").as_bytes());
            format!("file '' {} {} 1\nunit '' {}", quote(&unit_path(&g("name"))), quote(&sha), quote(&g("name")))
        }
        "vps_nginx_site" => {
            let sha = sha256_hex(g("config").as_bytes());
            format!(
                "file '' {} {} 1\nfile 'enabled.' {} '' 0",
                quote(&format!("{SITES_AVAILABLE}/{}", g("name"))),
                quote(&sha),
                quote(&format!("{SITES_ENABLED}/{}", g("name")))
            )
        }
        "vps_cron_job" => {
            let sha = if v.get_attr("schedule").is_some_and(|s| s.as_str().is_some()) { sha256_hex(cron_content(v).as_bytes()) } else { String::new() };
            format!("file '' {} {} 1", quote(&cron_path(&g("name"))), quote(&sha))
        }
        "vps_apt_package" => format!("echo \"package $(dpkg-query -W -f='${{Status}}|${{Version}}' -- {} 2>/dev/null)\"", quote(&g("name"))),
        "vps_ufw" => "if command -v ufw >/dev/null; then echo \"status $(ufw status verbose 2>&1 | b64)\"; fi".to_string(),
        "vps_ufw_rule" => "echo \"rules $(grep -h '^### tuple ###' /etc/ufw/user.rules 2>/dev/null | b64)\"".to_string(),
        "vps_compose_stack" => {
            let dir = g("directory").trim_end_matches('/').to_string();
            let sha = sha256_hex(g("compose").as_bytes());
            format!(
                "file 'compose.' {} {} 1\nfile 'env.' {} '' 0\necho \"ps $({} 2>/dev/null | b64)\"",
                quote(&format!("{dir}/compose.yaml")),
                quote(&sha),
                quote(&format!("{dir}/.env")),
                compose_ps(&g("project_name"))
            )
        }
        _ => String::new(),
    }
}

fn decoded(facts: &Facts, key: &str) -> Option<String> {
    facts.get(key).and_then(|v| base64_decode(v)).and_then(|b| String::from_utf8(b).ok())
}

fn with(prior: &Value, fields: Vec<(&str, Value)>) -> Value {
    let mut m = match prior {
        Value::Object(m) => m.clone(),
        _ => Default::default(),
    };
    for (k, v) in fields {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

fn exists(facts: &Facts, prefix: &str) -> bool {
    facts.get(&format!("{prefix}exists")).map(String::as_str) == Some("1")
}

fn fact(facts: &Facts, k: &str) -> Value {
    facts.get(k).map(|v| Value::string(v.clone())).unwrap_or(Value::Null)
}

/// The text of a managed file: the recorded one when the hash matches, else what the host
/// holds (so the plan shows the hand edit).
fn text_of(facts: &Facts, prefix: &str, recorded: Option<String>, recorded_sha: &str) -> Value {
    if facts.get(&format!("{prefix}sha256")).map(String::as_str) == Some(recorded_sha) {
        if let Some(r) = recorded {
            return Value::string(r);
        }
    }
    match decoded(facts, &format!("{prefix}content")) {
        Some(t) => Value::string(t),
        None => recorded.map(Value::string).unwrap_or(Value::Null),
    }
}

/// The object as the host has it, or `None` when it is gone.
pub fn from_probe(type_name: &str, prior: &Value, facts: &Facts) -> Option<Value> {
    let g = |k: &str| attrs::string(prior, k);
    match type_name {
        "vps_file" => {
            if !exists(facts, "") {
                return None;
            }
            let regular = facts.get("kind").map(String::as_str) == Some("regular_file");
            let sha = if regular { fact(facts, "sha256") } else { Value::string("") };
            let mut fields = vec![
                ("id", Value::string(g("path").unwrap_or_default())),
                ("mode", facts.get("mode").and_then(|m| normalize_mode(m)).map(Value::string).unwrap_or(Value::Null)),
                ("owner", fact(facts, "owner")),
                ("group", fact(facts, "group")),
                ("content_sha256", sha),
            ];
            let secret = prior.get_attr("sensitive_content").is_some_and(|c| !c.is_null()) || prior.get_attr("source").is_some_and(|c| !c.is_null());
            if !secret {
                fields.push(("content", text_of(facts, "", g("content"), &g("content_sha256").unwrap_or_default())));
            }
            Some(with(prior, fields))
        }
        "vps_directory" => {
            if !exists(facts, "") || facts.get("kind").map(String::as_str) != Some("directory") {
                return None;
            }
            Some(with(
                prior,
                vec![
                    ("id", Value::string(g("path").unwrap_or_default())),
                    ("mode", facts.get("mode").and_then(|m| normalize_mode(m)).map(Value::string).unwrap_or(Value::Null)),
                    ("owner", fact(facts, "owner")),
                    ("group", fact(facts, "group")),
                ],
            ))
        }
        "vps_systemd_unit" => {
            if !exists(facts, "") {
                return None;
            }
            let recorded_sha = g("content").map(|c| sha256_hex(c.as_bytes())).unwrap_or_default();
            Some(with(
                prior,
                vec![
                    ("id", Value::string(g("name").unwrap_or_default())),
                    ("content", text_of(facts, "", g("content"), &recorded_sha)),
                    ("enabled", Value::Bool(facts.get("enabled").is_some_and(|e| e == "enabled"))),
                    ("active", Value::Bool(facts.get("active").is_some_and(|a| a == "active"))),
                ],
            ))
        }
        "vps_nginx_site" => {
            if !exists(facts, "") {
                return None;
            }
            let recorded_sha = g("config").map(|c| sha256_hex(c.as_bytes())).unwrap_or_default();
            Some(with(
                prior,
                vec![
                    ("id", Value::string(g("name").unwrap_or_default())),
                    ("config", text_of(facts, "", g("config"), &recorded_sha)),
                    ("enabled", Value::Bool(exists(facts, "enabled."))),
                ],
            ))
        }
        "vps_cron_job" => {
            if !exists(facts, "") {
                return None;
            }
            let recorded_sha =
                if prior.get_attr("schedule").is_some_and(|s| s.as_str().is_some()) { sha256_hex(cron_content(prior).as_bytes()) } else { String::new() };
            if facts.get("sha256").map(String::as_str) == Some(recorded_sha.as_str()) {
                return Some(with(prior, vec![("id", Value::string(g("name").unwrap_or_default()))]));
            }
            // Parse the job line back: five fields (or @keyword), the user, the command.
            let text = decoded(facts, "content").unwrap_or_default();
            let line = text.lines().rev().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.contains('=')).unwrap_or("");
            let words: Vec<&str> = line.split_whitespace().collect();
            let n = if words.first().is_some_and(|w| w.starts_with('@')) { 1 } else { 5 };
            let (schedule, user, command) = if words.len() > n + 1 {
                (words[..n].join(" "), words[n].to_string(), line.split_whitespace().skip(n + 1).collect::<Vec<_>>().join(" "))
            } else {
                (String::new(), String::new(), line.to_string())
            };
            Some(with(
                prior,
                vec![
                    ("id", Value::string(g("name").unwrap_or_default())),
                    ("schedule", Value::string(schedule)),
                    ("user", Value::string(user)),
                    ("command", Value::string(command)),
                ],
            ))
        }
        "vps_apt_package" => {
            let status = facts.get("package").cloned().unwrap_or_default();
            let (state, version) = status.split_once('|')?;
            if !state.ends_with(" installed") {
                return None;
            }
            Some(with(prior, vec![("id", Value::string(g("name").unwrap_or_default())), ("version", Value::string(version))]))
        }
        "vps_ufw" => {
            let status = decoded(facts, "status")?;
            let active = status.lines().any(|l| l.trim() == "Status: active");
            // `Default: deny (incoming), allow (outgoing), disabled (routed)`
            let defaults = status.lines().find_map(|l| l.strip_prefix("Default: ")).unwrap_or("");
            let policy = |dir: &str| {
                defaults
                    .split(", ")
                    .find(|p| p.ends_with(&format!("({dir})")))
                    .and_then(|p| p.split_whitespace().next())
                    .map(Value::string)
                    .unwrap_or(Value::Null)
            };
            Some(with(
                prior,
                vec![
                    ("id", Value::string("ufw")),
                    ("enabled", Value::Bool(active)),
                    ("default_incoming", policy("incoming")),
                    ("default_outgoing", policy("outgoing")),
                ],
            ))
        }
        "vps_ufw_rule" => {
            let tuples = decoded(facts, "rules").unwrap_or_default();
            let (action, proto, port, from) = rule_spec(prior);
            let src = if from == "any" { "0.0.0.0/0".to_string() } else { from.clone() };
            tuples.lines().find_map(|l| {
                // `### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368`
                let f: Vec<&str> = l.trim_start_matches("### tuple ###").split_whitespace().collect();
                let (a, p, dport, source) = (f.first()?, f.get(1)?, f.get(2)?, f.get(5)?);
                if *a != action || *p != proto || *dport != port || *source != src {
                    return None;
                }
                let comment = f.iter().find_map(|x| x.strip_prefix("comment=")).and_then(hex_decode).map(Value::string).unwrap_or(Value::Null);
                Some(with(prior, vec![("id", Value::string(rule_id(prior))), ("comment", comment)]))
            })
        }
        "vps_compose_stack" => {
            if !exists(facts, "compose.") {
                return None;
            }
            let recorded_sha = g("compose").map(|c| sha256_hex(c.as_bytes())).unwrap_or_default();
            Some(with(
                prior,
                vec![
                    ("id", Value::string(g("directory").unwrap_or_default())),
                    ("compose", text_of(facts, "compose.", g("compose"), &recorded_sha)),
                    ("env_sha256", facts.get("env.sha256").map(|s| Value::string(s.clone())).unwrap_or(Value::string(""))),
                    // Every service's container up: a stopped one is drift, and apply brings it back.
                    ("running", Value::Bool(decoded(facts, "ps").is_some_and(|ps| !ps.trim().is_empty() && ps.lines().all(|l| l.ends_with(" running"))))),
                ],
            ))
        }
        _ => Some(prior.clone()),
    }
}

fn hex_decode(h: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..h.len()).step_by(2).map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
    String::from_utf8(bytes?).ok()
}

/// Shell lines writing `bytes` to `path` atomically: a temp file in the same directory, mode
/// and ownership set, then a rename. A failure leaves the old file as it was.
fn write_file(path: &str, bytes: &[u8], mode: &str, owner: &str, group: &str) -> String {
    format!(
        "d=$(dirname -- {p})\nmkdir -p -- \"$d\"\ntmp=$(mktemp \"$d/.infra.XXXXXX\")\ntrap 'rm -f -- \"$tmp\"' EXIT\n{data} > \"$tmp\"\nchmod {mode} \"$tmp\"\nchown {owner}:{group} \"$tmp\"\nmv -f -- \"$tmp\" {p}\ntrap - EXIT\n",
        p = quote(path),
        data = data(bytes),
        mode = quote(mode),
        owner = quote(owner),
        group = quote(group),
    )
}

async fn run(conn: &Connection, what: &str, script: &str) -> Result<String, Diagnostic> {
    let out = conn.run(&format!("set -e\n{script}")).await?;
    if out.status != 0 {
        return Err(err(&format!("{what} failed"), format!("The host answered (exit {}): {}", out.status, out.stderr_text())));
    }
    Ok(out.stdout_text())
}

fn services(v: &Value, k: &str) -> Vec<String> {
    v.get_attr(k).and_then(Value::as_seq).map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Creates or updates an object; returns it as recorded.
pub async fn apply(conn: &Connection, type_name: &str, prior: Option<&Value>, planned: &Value) -> Result<Value, Diagnostic> {
    let _exclusive = match type_name {
        "vps_ufw" | "vps_ufw_rule" | "vps_apt_package" => Some(conn.exclusive.lock().await),
        _ => None,
    };
    let p = planned.deep_unmark();
    let g = |k: &str| attrs::string(&p, k).unwrap_or_default();
    let changed = |k: &str| prior.is_none_or(|o| !o.deep_unmark().get_attr(k).is_some_and(|v| v.equals(p.get_attr(k).unwrap_or(&Value::Null))));
    let mut recorded = planned.clone();
    match type_name {
        "vps_file" => {
            let bytes = file_bytes(&p).unwrap_or(Ok(Vec::new()))?;
            let mut script = write_file(&g("path"), &bytes, &g("mode"), &g("owner"), &g("group"));
            if changed("content_sha256") {
                // Only units that exist (a unit made later in the same apply starts with the new
                // file anyway). A stopped service being reloaded is started: the new file may be
                // what it was missing; a stopped one being restarted stays stopped.
                for s in services(&p, "reload_services") {
                    script.push_str(&format!("if systemctl cat -- {q} >/dev/null 2>&1; then systemctl reload-or-restart -- {q}; fi\n", q = quote(&s)));
                }
                for s in services(&p, "restart_services") {
                    script.push_str(&format!("if systemctl cat -- {q} >/dev/null 2>&1; then systemctl try-restart -- {q}; fi\n", q = quote(&s)));
                }
            }
            run(conn, &format!("Writing {}", g("path")), &script).await?;
        }
        "vps_directory" => {
            let path = quote(&g("path"));
            run(
                conn,
                &format!("Creating {}", g("path")),
                &format!("mkdir -p -- {path}\nchmod {} {path}\nchown {}:{} {path}\n", quote(&g("mode")), quote(&g("owner")), quote(&g("group"))),
            )
            .await?;
        }
        "vps_systemd_unit" => {
            let name = g("name");
            let q = quote(&name);
            let mut script = String::new();
            let content_changed = changed("content");
            if content_changed {
                script.push_str(&write_file(&unit_path(&name), g("content").as_bytes(), "0644", "root", "root"));
                script.push_str("systemctl daemon-reload\n");
            }
            script.push_str(&if attrs::bool(&p, "enabled") == Some(false) {
                format!("systemctl disable -- {q}\n")
            } else {
                format!("systemctl enable -- {q}\n")
            });
            if attrs::bool(&p, "active") == Some(false) {
                script.push_str(&format!("systemctl stop -- {q}\n"));
            } else if content_changed && prior.is_some() {
                script.push_str(&format!("systemctl restart -- {q}\n"));
            } else {
                script.push_str(&format!("systemctl start -- {q}\n"));
            }
            run(conn, &format!("Configuring unit {name}"), &script).await?;
            if attrs::bool(&p, "active") != Some(false) {
                check_running(conn, &name).await?;
            }
        }
        "vps_nginx_site" => {
            let name = g("name");
            let (avail, enabled) = (format!("{SITES_AVAILABLE}/{name}"), format!("{SITES_ENABLED}/{name}"));
            let link = if attrs::bool(&p, "enabled") == Some(false) {
                format!("rm -f -- {}", quote(&enabled))
            } else {
                format!("mkdir -p {SITES_ENABLED}\nln -sfn -- {} {}", quote(&avail), quote(&enabled))
            };
            let script = format!(
                "a={a}\ne={e}\nbak=''\nif [ -e \"$a\" ]; then bak=$(mktemp); cp -p -- \"$a\" \"$bak\"; fi\nlinked=0\nif [ -L \"$e\" ]; then linked=1; fi\n{write}{link}\nif ! out=$(nginx -t 2>&1); then\n  if [ -n \"$bak\" ]; then mv -f -- \"$bak\" \"$a\"; else rm -f -- \"$a\"; fi\n  if [ $linked = 1 ]; then ln -sfn -- \"$a\" \"$e\"; else rm -f -- \"$e\"; fi\n  printf '%s\\n' \"$out\" >&2\n  exit 3\nfi\nif [ -n \"$bak\" ]; then rm -f -- \"$bak\"; fi\nsystemctl reload nginx 2>/dev/null || nginx -s reload\n",
                a = quote(&avail),
                e = quote(&enabled),
                write = write_file(&avail, g("config").as_bytes(), "0644", "root", "root"),
            );
            let out = conn.run(&format!("set -e\n{script}")).await?;
            match out.status {
                0 => {}
                3 => {
                    return Err(err(
                        "nginx rejected the site",
                        format!("`nginx -t` failed with the new {name}, so the previous site was put back and nginx was not reloaded:\n{}", out.stderr_text()),
                    ))
                }
                n => return Err(err(&format!("Configuring site {name} failed"), format!("The host answered (exit {n}): {}", out.stderr_text()))),
            }
        }
        "vps_ufw" => {
            let mut enable = if attrs::bool(&p, "enabled") == Some(false) { "ufw disable".to_string() } else { "ufw --force enable".to_string() };
            if attrs::bool(&p, "enabled") != Some(false) && g("default_incoming") != "allow" {
                // The plan checked the configuration; check the host too, right before enabling.
                enable = format!(
                    "if ! grep -Eq '^### tuple ### (allow|limit) (tcp|any) ([0-9]+:)?{port}(:[0-9]+)? ' /etc/ufw/user.rules && ! grep -Eq '^### tuple ### (allow|limit) (tcp|any) [0-9]+:[0-9]+ ' /etc/ufw/user.rules; then echo 'no rule allows port {port}/tcp, the SSH session infra is using: not enabling the firewall' >&2; exit 4; fi\n{enable}",
                    port = conn.port
                );
            }
            run(
                conn,
                "Configuring UFW",
                &format!("ufw default {} incoming\nufw default {} outgoing\n{enable}\n", quote(&g("default_incoming")), quote(&g("default_outgoing"))),
            )
            .await?;
        }
        "vps_ufw_rule" => {
            run(conn, &format!("Adding UFW rule {}", rule_id(&p)), &format!("{}\n", ufw_rule_command(&p, false))).await?;
            if let Value::Object(m) = &mut recorded {
                m.insert("id".into(), Value::string(rule_id(&p)));
            }
        }
        "vps_cron_job" => {
            run(conn, &format!("Writing cron job {}", g("name")), &write_file(&cron_path(&g("name")), cron_content(&p).as_bytes(), "0644", "root", "root"))
                .await?;
        }
        "vps_apt_package" => {
            let spec = match attrs::string(&p, "version") {
                Some(v) => format!("{}={}", g("name"), v),
                None => g("name"),
            };
            let install = format!("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -- {}", quote(&spec));
            run(conn, &format!("Installing {}", g("name")), &format!("{install} >/dev/null || {{ apt-get update -q >/dev/null && {install} >/dev/null; }}\n"))
                .await?;
            let version = run(conn, "Reading the package version", &format!("dpkg-query -W -f='${{Version}}' -- {}\n", quote(&g("name")))).await?;
            if let Value::Object(m) = &mut recorded {
                m.insert("version".into(), Value::string(version.trim()));
            }
        }
        "vps_command" => {
            if prior.is_none() {
                let stdout = run(conn, "The create command", &g("create")).await?;
                let id = sha256_hex(format!("{}{:?}", g("create"), std::time::SystemTime::now()).as_bytes())[..16].to_string();
                if let Value::Object(m) = &mut recorded {
                    m.insert("id".into(), Value::string(id));
                    m.insert("stdout".into(), Value::string(stdout));
                }
            }
        }
        "vps_compose_stack" => {
            let dir = g("directory").trim_end_matches('/').to_string();
            let env = env_content(&string_map(planned.get_attr("env")));
            let mut script = write_file(&format!("{dir}/compose.yaml"), g("compose").as_bytes(), "0644", "root", "root");
            script.push_str(&write_file(&format!("{dir}/.env"), env.as_bytes(), "0600", "root", "root"));
            script.push_str(COMPOSE);
            script.push_str(&format!(
                "if ! out=$(dc -p {} --project-directory {d} -f {d}/compose.yaml --env-file {d}/.env up -d --remove-orphans 2>&1); then printf '%s\\n' \"$out\" | tail -n 20 >&2; exit 1; fi\n",
                quote(&g("project_name")),
                d = quote(&dir)
            ));
            script.push_str(&format!(
                "sleep 1\nif {ps} | grep -v ' running$' | grep -q .; then echo 'these services are not running:' >&2; {ps} | grep -v ' running$' >&2; exit 1; fi\n",
                ps = compose_ps(&g("project_name"))
            ));
            run(conn, &format!("Starting compose stack {dir}"), &script).await?;
        }
        other => return Err(err("Unknown resource type", format!("The vps provider has no resource type {other}."))),
    }
    Ok(recorded)
}

fn ufw_rule_command(p: &Value, delete: bool) -> String {
    let (action, proto, port, from) = rule_spec(p);
    let proto = if proto == "any" { String::new() } else { format!(" proto {}", quote(&proto)) };
    let comment = attrs::string(p, "comment").filter(|_| !delete).map(|c| format!(" comment {}", quote(&c))).unwrap_or_default();
    let verb = if delete { format!("ufw delete {}", quote(&action)) } else { format!("ufw {}", quote(&action)) };
    format!("{verb}{proto} from {} to any port {}{comment}", quote(&from), quote(&port))
}

/// A unit that does not stay up fails the apply, with its last journal lines.
async fn check_running(conn: &Connection, name: &str) -> Result<(), Diagnostic> {
    let q = quote(name);
    for _ in 0..10 {
        let state = run(conn, "Checking the unit", &format!("systemctl is-active -- {q} || true\n")).await?;
        match state.trim() {
            "active" => {
                // Restart=always units that crash come back "activating": look once more.
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                let again = run(conn, "Checking the unit", &format!("systemctl is-active -- {q} || true\n")).await?;
                if again.trim() == "active" {
                    return Ok(());
                }
            }
            "activating" | "reloading" => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            _ => break,
        }
    }
    let journal = run(conn, "Reading the journal", &format!("journalctl -u {q} -n 15 --no-pager 2>&1 || systemctl status -- {q} 2>&1 || true\n"))
        .await
        .unwrap_or_default();
    Err(err("Unit failed to start", format!("{name} is not running after the apply. Its last journal lines:\n{}", journal.trim_end())))
}

/// Removes what the object wrote and puts the service state back.
pub async fn delete(conn: &Connection, type_name: &str, prior: &Value) -> Result<(), Diagnostic> {
    let _exclusive = match type_name {
        "vps_ufw" | "vps_ufw_rule" | "vps_apt_package" => Some(conn.exclusive.lock().await),
        _ => None,
    };
    let p = prior.deep_unmark();
    let g = |k: &str| attrs::string(&p, k).unwrap_or_default();
    let script = match type_name {
        "vps_file" => {
            let mut s = format!("rm -f -- {}\n", quote(&g("path")));
            for svc in services(&p, "reload_services") {
                s.push_str(&format!("systemctl reload -- {} || true\n", quote(&svc)));
            }
            for svc in services(&p, "restart_services") {
                s.push_str(&format!("systemctl restart -- {} || true\n", quote(&svc)));
            }
            s
        }
        // Only an empty directory goes: what others put there is theirs. Managed children may
        // be going away in parallel (sibling resources), so give them a few seconds.
        "vps_directory" => {
            let q = quote(&g("path"));
            format!("i=0\nwhile [ -d {q} ] && ! rmdir -- {q} 2>/dev/null && [ $i -lt 10 ]; do i=$((i+1)); sleep 0.5; done\ntrue\n")
        }
        "vps_systemd_unit" => {
            let q = quote(&g("name"));
            format!(
                "systemctl disable --now -- {q} 2>/dev/null || true\nrm -f -- {}\nsystemctl daemon-reload\nsystemctl reset-failed -- {q} 2>/dev/null || true\n",
                quote(&unit_path(&g("name")))
            )
        }
        "vps_nginx_site" => format!(
            "rm -f -- {} {}\nif nginx -t >/dev/null 2>&1; then systemctl reload nginx 2>/dev/null || nginx -s reload; fi\n",
            quote(&format!("{SITES_ENABLED}/{}", g("name"))),
            quote(&format!("{SITES_AVAILABLE}/{}", g("name")))
        ),
        "vps_ufw" => "ufw --force disable\nufw default deny incoming\nufw default allow outgoing\n".to_string(),
        "vps_ufw_rule" => format!("{} || true\n", ufw_rule_command(&p, true)),
        "vps_cron_job" => format!("rm -f -- {}\n", quote(&cron_path(&g("name")))),
        "vps_apt_package" => format!("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -- {} >/dev/null\n", quote(&g("name"))),
        "vps_command" => match attrs::string(&p, "destroy") {
            Some(cmd) => cmd,
            None => return Ok(()),
        },
        "vps_compose_stack" => {
            let dir = g("directory").trim_end_matches('/').to_string();
            format!(
                "{COMPOSE}if [ -f {d}/compose.yaml ]; then dc -p {pn} --project-directory {d} -f {d}/compose.yaml --env-file {d}/.env down --remove-orphans >/dev/null; fi\nrm -f -- {d}/compose.yaml {d}/.env\nrmdir --ignore-fail-on-non-empty -- {d} 2>/dev/null || true\n",
                d = quote(&dir),
                pn = quote(&g("project_name"))
            )
        }
        other => return Err(err("Unknown resource type", format!("The vps provider has no resource type {other}."))),
    };
    run(conn, &format!("Deleting {type_name}"), &script).await.map(|_| ())
}

/// What an import starts from, by id: a path, a name, or a rule.
pub fn import_seed(type_name: &str, id: &str) -> Option<Value> {
    let key = match type_name {
        "vps_file" | "vps_directory" => "path",
        "vps_systemd_unit" | "vps_nginx_site" | "vps_cron_job" | "vps_apt_package" => "name",
        "vps_compose_stack" => "directory",
        "vps_ufw" => return Some(Value::object([("id", Value::string("ufw"))])),
        "vps_ufw_rule" => {
            // `allow tcp 22 any`, as the rule's id.
            let f: Vec<&str> = id.split_whitespace().collect();
            let [action, protocol, port, from] = f.as_slice() else { return None };
            return Some(Value::object([
                ("id", Value::string(id)),
                ("action", Value::string(*action)),
                ("protocol", Value::string(*protocol)),
                ("port", Value::string(*port)),
                ("from", Value::string(*from)),
                ("comment", Value::Null),
            ]));
        }
        _ => return None,
    };
    let mut fields = vec![("id", Value::string(id)), (key, Value::string(id))];
    if type_name == "vps_compose_stack" {
        fields.push(("project_name", Value::string(default_project_name(id))));
    }
    Some(Value::object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_normalize_to_four_octal_digits() {
        assert_eq!(normalize_mode("644").as_deref(), Some("0644"));
        assert_eq!(normalize_mode("0600").as_deref(), Some("0600"));
        assert_eq!(normalize_mode("1777").as_deref(), Some("1777"));
        assert_eq!(normalize_mode("u=rw"), None);
        assert_eq!(normalize_mode("99999"), None);
    }

    #[test]
    fn port_ranges_cover_the_ssh_port() {
        assert!(covers("22", 22) && covers("20:30", 22) && !covers("2222", 22) && !covers("23:30", 22));
    }

    #[test]
    fn env_values_are_literal() {
        let env = BTreeMap::from([("A".to_string(), "p@ss $HOME".to_string()), ("B".to_string(), "it's \"x\"".to_string())]);
        assert_eq!(env_content(&env), "A='p@ss $HOME'\nB=\"it's \\\"x\\\"\"\n");
    }

    #[test]
    fn a_ufw_tuple_matches_its_rule_and_decodes_the_comment() {
        let facts =
            Facts::from([("rules".to_string(), crate::transport::base64_encode(b"### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368\n"))]);
        let rule = Value::object([
            ("action", Value::string("allow")),
            ("protocol", Value::string("tcp")),
            ("port", Value::string("22")),
            ("from", Value::string("any")),
        ]);
        let read = from_probe("vps_ufw_rule", &rule, &facts).unwrap();
        assert_eq!(attrs::string(&read, "comment").as_deref(), Some("ssh"));
        assert_eq!(attrs::string(&read, "id").as_deref(), Some("allow tcp 22 any"));
        let other = Value::object([
            ("action", Value::string("allow")),
            ("protocol", Value::string("tcp")),
            ("port", Value::string("80")),
            ("from", Value::string("any")),
        ]);
        assert!(from_probe("vps_ufw_rule", &other, &facts).is_none());
    }

    #[test]
    fn quoting_survives_hostile_names() {
        assert_eq!(quote("it's a \"file\"\n$(rm -rf /)"), "'it'\\''s a \"file\"\n$(rm -rf /)'");
    }
}
