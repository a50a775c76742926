//! Drift: what differs between the state and reality, as findings a team acts on. A full
//! refresh (the refresh-only plan, so the comparison is plan's own, on the values the provider
//! reports) gives the changed and missing objects; each changed object is diffed per
//! attribute path (nested blocks and embedded JSON inside); the providers' discovery lists
//! what exists in the scope the stack manages, and what no state records is unmanaged.
//! `lifecycle { ignore_changes }` attributes are not drift; ignore rules
//! (`.infradriftignore`, [`parse_ignore`]) hide findings and say which rule did.

use crate::addr::InstanceAddr;
use crate::hooks::Hook;
use crate::plan::{plan_keeping_providers, Action, Plan, PlanMode, PlanOptions};
use crate::walk::Ctx;
use infra_lang::config::{IgnoreChanges, Mode, ProviderRef};
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::value::Value;
use infra_provider::DiscoveryScopeRequest;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A managed object whose real attributes differ from the state.
    Changed,
    /// An object the state records that no longer exists.
    Missing,
    /// An object in the managed scope that no state records.
    Unmanaged,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Changed => "changed",
            Kind::Missing => "missing",
            Kind::Unmanaged => "unmanaged",
        }
    }
}

/// One attribute that differs: `before` is the recorded value, `after` the real one (`None`
/// when absent). Sensitive values are never carried: `sensitive` says one was there.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
    /// The ignore rule (index into [`Report::rules`]) that hides this change.
    pub ignored_by: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: Kind,
    /// The state address; `None` for unmanaged objects.
    pub address: Option<String>,
    pub provider: String,
    pub type_name: String,
    pub id: Option<String>,
    /// A name the object carries (its `name`, or its `Name` tag), to recognize it by.
    pub name: Option<String>,
    /// For changed objects: every attribute path that differs.
    pub changes: Vec<AttrChange>,
    /// The ignore rule that hides the whole finding.
    pub ignored_by: Option<usize>,
}

impl Finding {
    /// The attribute changes no rule hides.
    pub fn shown_changes(&self) -> impl Iterator<Item = &AttrChange> {
        self.changes.iter().filter(|c| c.ignored_by.is_none())
    }
}

/// Managed and unmanaged objects of one type, in the scope discovery listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub managed: usize,
    pub unmanaged: usize,
}

impl Coverage {
    /// managed / (managed + unmanaged), as a percentage; 100 when nothing exists.
    pub fn percent(&self) -> f64 {
        let all = self.managed + self.unmanaged;
        if all == 0 {
            100.0
        } else {
            100.0 * self.managed as f64 / all as f64
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// `address PATTERN`: changed or missing objects whose address matches.
    Address,
    /// `type PATTERN`: every finding of a matching type.
    Type,
    /// `attribute ADDRESS_PATTERN PATH_PATTERN`: attribute changes (a path and everything under it).
    Attribute,
    /// `unmanaged TYPE_PATTERN ID_PATTERN`: unmanaged objects by type and id (or name).
    Unmanaged,
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Address => "address",
            RuleKind::Type => "type",
            RuleKind::Attribute => "attribute",
            RuleKind::Unmanaged => "unmanaged",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreRule {
    pub kind: RuleKind,
    pub patterns: Vec<String>,
    pub reason: String,
    /// Where the rule was written (`.infradriftignore:3`).
    pub origin: String,
}

impl IgnoreRule {
    /// The rule as written, without its reason.
    pub fn text(&self) -> String {
        format!("{} {}", self.kind.name(), self.patterns.join(" "))
    }
}

/// Reads ignore rules: one a line, `KIND PATTERN... # reason`; blank lines and lines starting
/// with `#` are comments. Patterns use `*` (any run of characters) and `?`. Every rule needs a
/// reason, which the report shows when the rule hides something.
pub fn parse_ignore(text: &str, file: &str) -> Result<Vec<IgnoreRule>, Diagnostics> {
    let mut rules = Vec::new();
    let mut diags = Diagnostics::new();
    for (n, line) in text.lines().enumerate() {
        let origin = format!("{file}:{}", n + 1);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (rule, reason) = match line.split_once(" #") {
            Some((r, why)) => (r.trim(), why.trim()),
            None => (line, ""),
        };
        let mut words = rule.split_whitespace();
        let kind = match words.next() {
            Some("address") => RuleKind::Address,
            Some("type") => RuleKind::Type,
            Some("attribute") => RuleKind::Attribute,
            Some("unmanaged") => RuleKind::Unmanaged,
            other => {
                diags.push(Diagnostic::error(
                    "Invalid drift ignore rule",
                    format!("{origin}: a rule starts with address, type, attribute or unmanaged, not {:?}.", other.unwrap_or_default()),
                ));
                continue;
            }
        };
        let patterns: Vec<String> = words.map(str::to_string).collect();
        let want = match kind {
            RuleKind::Address | RuleKind::Type => 1,
            RuleKind::Attribute | RuleKind::Unmanaged => 2,
        };
        if patterns.len() != want {
            diags.push(Diagnostic::error(
                "Invalid drift ignore rule",
                format!("{origin}: a {} rule takes {want} pattern(s), this one has {}.", kind.name(), patterns.len()),
            ));
            continue;
        }
        if reason.is_empty() {
            diags.push(Diagnostic::error(
                "Drift ignore rule without a reason",
                format!("{origin}: say why after a #, e.g. `{rule} # autoscaling owns it`; the report shows it when the rule hides something."),
            ));
            continue;
        }
        rules.push(IgnoreRule { kind, patterns, reason: reason.to_string(), origin });
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(rules)
    }
}

/// Glob matching with `*` and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A path step: an attribute or map key, or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn path_text(steps: &[Step]) -> String {
    let mut s = String::new();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Key(k) if i == 0 => s.push_str(k),
            Step::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                s.push('.');
                s.push_str(k);
            }
            Step::Key(k) => s.push_str(&format!("[{}]", serde_json::to_string(k).unwrap_or_default())),
            Step::Index(n) => s.push_str(&format!("[{n}]")),
        }
    }
    s
}

/// The steps of a path written as `a.b["c"][0]` (as `ignore_changes` and the report write
/// them). Indexes and keys compare by their text.
fn parse_path(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => out.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let mut inner = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    inner.push(d);
                }
                out.push(inner.trim_matches('"').to_string());
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `path` is `prefix` or lies under it.
fn under(path: &str, prefix: &str) -> bool {
    let (p, q) = (parse_path(path), parse_path(prefix));
    p.len() >= q.len() && p.iter().zip(&q).all(|(a, b)| a == b)
}

/// Every attribute path where `after` (real) differs from `before` (recorded): objects and
/// maps key by key, lists index by index, sets element by element (a removed element has no
/// `after`, an added one no `before`), and strings holding JSON objects or arrays (container
/// definitions, policies) parsed and diffed inside. Strings whose JSON is equal are equal (key
/// order, spacing). A sensitive value anywhere is one change with no values.
pub fn diff(before: &Value, after: &Value) -> Vec<AttrChange> {
    let mut out = Vec::new();
    diff_into(&mut Vec::new(), Some(before), Some(after), &mut out);
    out
}

fn absent(v: Option<&Value>) -> bool {
    v.is_none_or(|v| v.deep_unmark().is_null())
}

fn diff_into(path: &mut Vec<Step>, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<AttrChange>) {
    if absent(before) && absent(after) {
        return;
    }
    if let (Some(b), Some(a)) = (before, after) {
        if b.deep_unmark().equals(&a.deep_unmark()) {
            return;
        }
    }
    let leaf = |path: &Vec<Step>, out: &mut Vec<AttrChange>| {
        let sensitive = before.is_some_and(Value::contains_sensitive) || after.is_some_and(Value::contains_sensitive);
        out.push(AttrChange {
            path: path_text(path),
            before: if sensitive { None } else { before.filter(|v| !v.is_null()).cloned() },
            after: if sensitive { None } else { after.filter(|v| !v.is_null()).cloned() },
            sensitive,
            ignored_by: None,
        });
    };
    if before.is_some_and(Value::is_sensitive) || after.is_some_and(Value::is_sensitive) {
        return leaf(path, out);
    }
    match (before, after) {
        (Some(Value::Object(b) | Value::Map(b)), Some(Value::Object(a) | Value::Map(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for k in keys {
                path.push(Step::Key(k.clone()));
                diff_into(path, b.get(k), a.get(k), out);
                path.pop();
            }
        }
        // A set on either side (the state file keeps sets as JSON arrays) compares as a set.
        (Some(Value::Set(b)), Some(Value::Set(a) | Value::List(a) | Value::Tuple(a))) | (Some(Value::List(b) | Value::Tuple(b)), Some(Value::Set(a))) => {
            let has = |set: &[Value], v: &Value| set.iter().any(|x| x.deep_unmark().equals(&v.deep_unmark()));
            for gone in b.iter().filter(|v| !has(a, v)) {
                diff_into(path, Some(gone), None, out);
            }
            for new in a.iter().filter(|v| !has(b, v)) {
                diff_into(path, None, Some(new), out);
            }
        }
        (Some(Value::List(b) | Value::Tuple(b)), Some(Value::List(a) | Value::Tuple(a))) => {
            for i in 0..b.len().max(a.len()) {
                path.push(Step::Index(i));
                diff_into(path, b.get(i), a.get(i), out);
                path.pop();
            }
        }
        (Some(Value::String(b)), Some(Value::String(a))) => match (embedded_json(b), embedded_json(a)) {
            (Some(jb), Some(ja)) if jb == ja => {}
            (Some(jb), Some(ja)) => diff_into(path, Some(&infra_lang::value::from_json(&jb)), Some(&infra_lang::value::from_json(&ja)), out),
            _ => leaf(path, out),
        },
        _ => leaf(path, out),
    }
}

/// A string holding a JSON object or array.
fn embedded_json(s: &str) -> Option<serde_json::Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// What `infra drift` was asked.
#[derive(Clone, Debug, Default)]
pub struct DriftOptions {
    /// Targets and refresh settings; the mode is always refresh-only, with a full refresh.
    pub plan: PlanOptions,
    /// Discover every object of the stack's types in its region, not only in managed scopes.
    pub region: bool,
    pub include_defaults: bool,
    /// Skip discovery: report only changed and missing objects.
    pub no_unmanaged: bool,
    pub rules: Vec<IgnoreRule>,
}

/// A drift report: every finding (ignored ones too, marked), coverage per discovered type,
/// and the refresh-only plan behind it (`--fix-state` applies it).
#[derive(Clone, Debug)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub coverage: BTreeMap<String, Coverage>,
    pub rules: Vec<IgnoreRule>,
    /// `discover` calls made (one per type in scope).
    pub listings: usize,
    pub plan: Plan,
}

impl Report {
    /// The findings no rule hides.
    pub fn shown(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.ignored_by.is_none())
    }

    /// True exactly when the report shows a finding: the exit code follows this, so a run
    /// never exits 2 with a report that says no drift.
    pub fn has_drift(&self) -> bool {
        self.shown().next().is_some()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.shown().filter(|f| f.kind == kind).count()
    }

    pub fn ignored(&self) -> usize {
        self.findings.iter().filter(|f| f.ignored_by.is_some()).count() + self.shown().flat_map(|f| &f.changes).filter(|c| c.ignored_by.is_some()).count()
    }
}

fn object_name(v: &Value) -> Option<String> {
    let v = v.deep_unmark();
    v.get_attr("name").and_then(Value::as_str).or_else(|| v.get_attr("tags").and_then(|t| t.get_attr("Name")).and_then(Value::as_str)).map(str::to_string)
}

fn object_id(v: &Value) -> Option<String> {
    v.deep_unmark().get_attr("id").and_then(Value::as_str).map(str::to_string)
}

/// Refreshes everything (in full), diffs what changed, lists what exists around the managed
/// objects, and applies the ignore rules.
pub async fn drift(ctx: &Ctx, state: &infra_state::StateFile, opts: &DriftOptions, hook: &dyn Hook) -> Result<Report, Diagnostics> {
    let plan_opts = PlanOptions { mode: PlanMode::RefreshOnly, refresh: true, refresh_full: true, ..opts.plan.clone() };
    let (plan, providers) = plan_keeping_providers(ctx, state, &plan_opts, hook).await?;
    let mut findings = Vec::new();
    for c in &plan.drift {
        if c.addr.mode != Mode::Managed {
            continue;
        }
        let ignore = ctx.module(&c.addr.module.static_path()).and_then(|m| m.resources.get(&c.addr.resource_key())).map(|r| &r.lifecycle.ignore_changes);
        let id = c.before.as_ref().and_then(object_id);
        let name = c.before.as_ref().and_then(object_name);
        let base = Finding {
            kind: Kind::Changed,
            address: Some(c.addr.to_string()),
            provider: c.provider.clone(),
            type_name: c.addr.type_name.clone(),
            id,
            name,
            changes: Vec::new(),
            ignored_by: None,
        };
        match (c.action, &c.before, &c.after) {
            (Action::Delete, _, _) => findings.push(Finding { kind: Kind::Missing, ..base }),
            (_, Some(b), Some(a)) => {
                if matches!(ignore, Some(IgnoreChanges::All)) {
                    continue;
                }
                let ignored: &[String] = match ignore {
                    Some(IgnoreChanges::Attrs(v)) => v,
                    _ => &[],
                };
                // Computed-only attributes (hashes, ARNs, statuses) follow from the arguments or
                // from the cloud: drift is reported on what a configuration can set, so an
                // ignored argument does not come back through what is derived from it.
                let family = ProviderRef::parse(&c.provider).name;
                let schema = ctx.schemas.get(&family).and_then(|s| s.resources.get(&c.addr.type_name));
                let settable = |path: &str| {
                    let top = parse_path(path).into_iter().next().unwrap_or_default();
                    schema.is_none_or(|s| s.attributes.get(&top).is_none_or(|a| a.required || a.optional))
                };
                let changes: Vec<AttrChange> = diff(b, a).into_iter().filter(|ch| settable(&ch.path) && !ignored.iter().any(|p| under(&ch.path, p))).collect();
                if !changes.is_empty() {
                    findings.push(Finding { changes, ..base });
                }
            }
            _ => {}
        }
    }
    let mut coverage = BTreeMap::new();
    let mut listings = 0;
    let mut diags = Diagnostics::new();
    if !opts.no_unmanaged {
        // Every id the state records, per type: whatever provider instance lists an object,
        // it is managed when some state entry of its type has its id.
        let mut managed_ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (addr, inst) in &plan.prior.instances {
            if addr.mode == Mode::Managed {
                if let Some(id) = object_id(&inst.value) {
                    managed_ids.entry(addr.type_name.as_str()).or_default().insert(id);
                }
            }
        }
        for (key, provider) in &providers {
            let key_text = key.to_string();
            let managed: Vec<(String, Value)> = plan
                .prior
                .instances
                .iter()
                .filter(|(a, i)| a.mode == Mode::Managed && i.provider == key_text && in_targets(&opts.plan, a))
                .map(|(a, i)| (a.type_name.clone(), i.value.deep_unmark()))
                .collect();
            if managed.is_empty() {
                continue;
            }
            let requests =
                provider.discovery_scope(&DiscoveryScopeRequest { managed: managed.clone(), region: opts.region, include_defaults: opts.include_defaults });
            for req in requests {
                listings += 1;
                let ty = req.type_name.clone();
                let resp = provider.discover(req).await;
                let failed = resp.diagnostics.iter().any(Diagnostic::is_error);
                if failed && !managed.iter().any(|(t, _)| *t == ty) {
                    // A type the stack does not use (listed because hand-made objects of any
                    // type may sit in a managed VPC): a listing it may not be allowed to make
                    // (read-only credentials without that service) is a warning, not a failure.
                    for d in resp.diagnostics {
                        let detail = format!("{} Unmanaged {ty} objects are not reported in this run.", d.detail.trim_end());
                        diags.push(Diagnostic { severity: infra_lang::diag::Severity::Warning, detail, ..d });
                    }
                    continue;
                }
                diags.extend(Diagnostics(resp.diagnostics));
                if failed {
                    continue;
                }
                let cov: &mut Coverage = coverage.entry(ty.clone()).or_default();
                cov.managed = managed.iter().filter(|(t, _)| *t == ty).count();
                let ids = managed_ids.get(ty.as_str());
                for obj in resp.objects {
                    let Some(id) = object_id(&obj) else { continue };
                    if ids.is_some_and(|s| s.contains(&id)) {
                        continue;
                    }
                    cov.unmanaged += 1;
                    findings.push(Finding {
                        kind: Kind::Unmanaged,
                        address: None,
                        provider: key_text.clone(),
                        type_name: ty.clone(),
                        name: object_name(&obj),
                        id: Some(id),
                        changes: Vec::new(),
                        ignored_by: None,
                    });
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    for f in &mut findings {
        apply_rules(f, &opts.rules);
    }
    findings.sort_by(|a, b| (a.kind, &a.address, &a.type_name, &a.id).cmp(&(b.kind, &b.address, &b.type_name, &b.id)));
    let mut plan = plan;
    plan.warnings.extend(diags);
    Ok(Report { findings, coverage, rules: opts.rules.clone(), listings, plan })
}

fn in_targets(opts: &PlanOptions, a: &InstanceAddr) -> bool {
    opts.targets.is_empty() || opts.targets.iter().any(|t| t.matches(a))
}

/// Marks what the rules hide: a whole finding (address, type, unmanaged rules, or an attribute
/// rule that hides every change of it) or single attribute changes.
pub fn apply_rules(f: &mut Finding, rules: &[IgnoreRule]) {
    let addr = f.address.clone().unwrap_or_default();
    for (i, r) in rules.iter().enumerate() {
        let hit = match r.kind {
            RuleKind::Type => glob(&r.patterns[0], &f.type_name),
            RuleKind::Address => f.kind != Kind::Unmanaged && glob(&r.patterns[0], &addr),
            RuleKind::Unmanaged => {
                f.kind == Kind::Unmanaged && glob(&r.patterns[0], &f.type_name) && [&f.id, &f.name].into_iter().flatten().any(|s| glob(&r.patterns[1], s))
            }
            RuleKind::Attribute => {
                if f.kind == Kind::Changed && glob(&r.patterns[0], &addr) {
                    for c in f.changes.iter_mut().filter(|c| c.ignored_by.is_none()) {
                        if path_matches(&r.patterns[1], &c.path) {
                            c.ignored_by = Some(i);
                        }
                    }
                }
                false
            }
        };
        if hit && f.ignored_by.is_none() {
            f.ignored_by = Some(i);
        }
    }
    if f.kind == Kind::Changed && f.ignored_by.is_none() && !f.changes.is_empty() && f.changes.iter().all(|c| c.ignored_by.is_some()) {
        f.ignored_by = f.changes[0].ignored_by;
    }
}

/// A path pattern matches the path or any path under a matching prefix (`tags` hides
/// `tags.Name`).
fn path_matches(pattern: &str, path: &str) -> bool {
    if glob(pattern, path) {
        return true;
    }
    path.char_indices().any(|(i, c)| (c == '.' || c == '[') && i > 0 && glob(pattern, &path[..i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(v: &[AttrChange]) -> Vec<&str> {
        v.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn nested_blocks_maps_and_embedded_json_are_diffed_inside() {
        let defs = |image: &str, order: bool| {
            if order {
                format!(r#"[{{"name":"backend","image":"{image}","environment":[{{"name":"A","value":"1"}}]}}]"#)
            } else {
                format!(r#"[{{"environment":[{{"value":"1","name":"A"}}],"image":"{image}","name":"backend"}}]"#)
            }
        };
        let obj = |tag: &str, image: &str, order: bool, port: i64| {
            Value::object([
                ("tags", Value::Map([("Name".to_string(), Value::string(tag))].into())),
                ("container_definitions", Value::string(defs(image, order))),
                ("ingress", Value::set(vec![Value::object([("from_port", Value::int(port))])])),
                ("egress", if order { Value::Tuple(vec![Value::int(1), Value::int(2)]) } else { Value::set(vec![Value::int(2), Value::int(1)]) }),
                ("network", Value::List(vec![Value::object([("subnets", Value::List(vec![Value::string("a")]))])])),
            ])
        };
        // JSON key order alone is not drift.
        assert!(diff(&obj("a", "x:1", true, 80), &obj("a", "x:1", false, 80)).is_empty());
        let d = diff(&obj("a", "x:1", true, 80), &obj("b", "x:2", false, 22));
        assert_eq!(paths(&d), ["container_definitions[0].image", "ingress", "ingress", "tags.Name"]);
        assert_eq!(d[0].before, Some(Value::string("x:1")));
        assert_eq!(d[0].after, Some(Value::string("x:2")));
        assert!(d[1].after.is_none() && d[2].before.is_none(), "a set element removed, one added: {d:?}");
    }

    #[test]
    fn sensitive_values_are_never_carried() {
        let b = Value::object([("password", Value::string("old").sensitive())]);
        let a = Value::object([("password", Value::string("new").sensitive())]);
        let d = diff(&b, &a);
        assert_eq!(d.len(), 1);
        assert!(d[0].sensitive && d[0].before.is_none() && d[0].after.is_none());
    }

    #[test]
    fn ignore_rules_need_a_reason_and_match_by_glob() {
        let rules = parse_ignore(
            "# comment\naddress aws_ecs_service.* # autoscaling\nattribute aws_vpc.main tags # tagging bot\nunmanaged aws_instance i-* # bastions\n",
            ".infradriftignore",
        )
        .unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[1].origin, ".infradriftignore:3");
        let err = parse_ignore("type aws_vpc\n", "f").unwrap_err();
        assert_eq!(err.0[0].summary, "Drift ignore rule without a reason");
        assert!(parse_ignore("nope x # y\n", "f").is_err());
        assert!(glob("aws_*.b?", "aws_vpc.bx") && !glob("aws_*.b", "aws_vpc.bx"));
        let mut f = Finding {
            kind: Kind::Changed,
            address: Some("aws_vpc.main".into()),
            provider: "aws".into(),
            type_name: "aws_vpc".into(),
            id: None,
            name: None,
            changes: diff(
                &Value::object([("tags", Value::Map([("Name".to_string(), Value::string("a"))].into())), ("cidr", Value::string("1"))]),
                &Value::object([("tags", Value::Map([("Name".to_string(), Value::string("b"))].into())), ("cidr", Value::string("2"))]),
            ),
            ignored_by: None,
        };
        apply_rules(&mut f, &rules);
        assert_eq!(f.ignored_by, None, "cidr still shows");
        assert_eq!(f.changes.iter().map(|c| c.ignored_by).collect::<Vec<_>>(), [None, Some(1)]);
    }

    #[test]
    fn ignore_changes_paths_cover_what_lies_under_them() {
        assert!(under("tags.Name", "tags") && under("tags.Name", "tags[\"Name\"]") && !under("tags_all.Name", "tags"));
    }
}
