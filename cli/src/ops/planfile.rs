//! Saved plans (`plan --out`, `apply FILE`, `show FILE`): the plan file from a plan and the
//! plan back from the file, the digest of the configuration inputs, writing and reading the
//! file, and the checks that refuse a plan the configuration or the state has moved past.

use super::plan::Request;
use super::Result;
use infra_core::addr::{parse_target, InstanceAddr};
use infra_core::plan::{Action, ExecGraph, OutputChange, Plan, PlanMode, Reason, ResourceChange};
use infra_core::state_io::Working;
use infra_lang::config::Module;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::value::{apply_sensitive_paths, apply_unknown_paths, from_json, sensitive_paths, to_json, unknown_paths, Value};
use infra_state::planfile::{sha256_hex, DataRead, PlanFile, PlanFileMode, PlanValue, PlannedChange, PlannedOutput, PLAN_FORMAT_VERSION};
use infra_state::StateFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A value with its unknowns and sensitive paths, as the file holds it.
pub fn plan_value(v: &Value) -> PlanValue {
    PlanValue { value: to_json(v), unknown: unknown_paths(v), sensitive: sensitive_paths(v) }
}

/// The value back, unknowns and sensitive marks restored.
pub fn value(pv: &PlanValue) -> Value {
    apply_sensitive_paths(apply_unknown_paths(from_json(&pv.value), &pv.unknown), &pv.sensitive)
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::DeleteThenCreate => "delete-then-create",
        Action::CreateThenDelete => "create-then-delete",
        Action::Delete => "delete",
    }
}

fn parse_action(s: &str) -> Option<Action> {
    [Action::NoOp, Action::Create, Action::Read, Action::Update, Action::DeleteThenCreate, Action::CreateThenDelete, Action::Delete]
        .into_iter()
        .find(|a| action_name(*a) == s)
}

fn reason_name(r: &Reason) -> String {
    format!("{r:?}")
}

fn planned_change(c: &ResourceChange) -> PlannedChange {
    PlannedChange {
        address: c.addr.to_string(),
        provider: c.provider.clone(),
        action: action_name(c.action).to_string(),
        reason: reason_name(&c.reason),
        before: c.before.as_ref().map(plan_value),
        after: c.after.as_ref().map(plan_value),
        replace_paths: c.replace_paths.clone(),
        importing: c.importing.clone(),
        moved_from: c.moved_from.clone(),
        dependencies: c.dependencies.clone(),
        config_unknown: c.config_unknown,
    }
}

fn invalid(what: String) -> Diagnostics {
    Diagnostic::error("Invalid plan file", format!("The plan file {what}. Create a new plan.")).into()
}

fn instance_addr(s: &str) -> Result<InstanceAddr> {
    let t = parse_target(s).map_err(|e| invalid(format!("names {s:?}, which is not an instance address ({e})")))?;
    match t.resource {
        Some((mode, type_name, name)) => Ok(InstanceAddr { module: t.module, mode, type_name, name, key: t.key }),
        None => Err(invalid(format!("names {s:?}, which is not an instance address"))),
    }
}

fn resource_change(c: &PlannedChange) -> Result<ResourceChange> {
    Ok(ResourceChange {
        addr: instance_addr(&c.address)?,
        provider: c.provider.clone(),
        action: parse_action(&c.action).ok_or_else(|| invalid(format!("has an unknown action {:?} for {}", c.action, c.address)))?,
        reason: Reason::ALL
            .iter()
            .find(|r| reason_name(r) == c.reason)
            .cloned()
            .ok_or_else(|| invalid(format!("has an unknown reason {:?} for {}", c.reason, c.address)))?,
        before: c.before.as_ref().map(value),
        after: c.after.as_ref().map(value),
        replace_paths: c.replace_paths.clone(),
        importing: c.importing.clone(),
        moved_from: c.moved_from.clone(),
        dependencies: c.dependencies.clone(),
        config_unknown: c.config_unknown,
    })
}

/// The file for a plan made by `r`, pinning the configuration inputs `config_files`.
/// `configuration` is the configuration's JSON representation and `timestamp` when the plan
/// was made, both kept for `show --json FILE`.
pub fn from_plan(p: &Plan, r: &Request, config_files: BTreeMap<String, String>, configuration: serde_json::Value, timestamp: String) -> PlanFile {
    PlanFile {
        format_version: PLAN_FORMAT_VERSION,
        infra_version: env!("CARGO_PKG_VERSION").to_string(),
        lineage: p.lineage.clone(),
        serial: p.serial,
        mode: match p.mode {
            PlanMode::Normal => PlanFileMode::Normal,
            PlanMode::Destroy => PlanFileMode::Destroy,
            PlanMode::RefreshOnly => PlanFileMode::RefreshOnly,
        },
        refresh: r.refresh,
        refresh_full: r.refresh_full,
        targets: r.targets.clone(),
        replace: r.replace.clone(),
        variables: p.variables.iter().map(|(k, v)| (k.clone(), plan_value(v))).collect(),
        config_files,
        prior_state: p.prior.to_state(),
        changes: p.changes.iter().map(planned_change).collect(),
        deposed: p.deposed.iter().map(planned_change).collect(),
        drift: p.drift.iter().map(planned_change).collect(),
        data: p.data.iter().map(|(a, v)| DataRead { address: a.to_string(), value: plan_value(v) }).collect(),
        outputs: p
            .outputs
            .iter()
            .map(|(k, o)| (k.clone(), PlannedOutput { before: o.before.as_ref().map(plan_value), after: plan_value(&o.after), sensitive: o.sensitive }))
            .collect(),
        adopted: p.adopted.iter().map(ToString::to_string).collect(),
        dropped_intents: p.dropped_intents,
        timestamp,
        configuration,
        body_sha256: String::new(),
    }
}

/// The plan the file holds, without its execution graph (`infra_core::plan::rebuild_exec`
/// makes it from the configuration).
pub fn to_plan(doc: &PlanFile) -> Result<Plan> {
    let prior = Working::from_state(&doc.prior_state).map_err(|e| invalid(format!("holds an invalid prior state: {e}")))?;
    let changes = doc.changes.iter().map(resource_change).collect::<Result<Vec<_>>>()?;
    let index = changes.iter().enumerate().map(|(i, c)| (c.addr.clone(), i)).collect();
    let mut data = BTreeMap::new();
    for d in &doc.data {
        data.insert(instance_addr(&d.address)?, value(&d.value));
    }
    let targets = doc.targets.iter().map(|t| parse_target(t).map_err(|e| invalid(format!("has an invalid target {t:?} ({e})")))).collect::<Result<Vec<_>>>()?;
    Ok(Plan {
        mode: request(doc).mode,
        changes,
        drift: doc.drift.iter().map(resource_change).collect::<Result<Vec<_>>>()?,
        outputs: doc
            .outputs
            .iter()
            .map(|(k, o)| (k.clone(), OutputChange { before: o.before.as_ref().map(value), after: value(&o.after), sensitive: o.sensitive }))
            .collect(),
        prior,
        lineage: doc.lineage.clone(),
        serial: doc.serial,
        variables: variables(doc),
        targets,
        exec: ExecGraph::default(),
        warnings: Diagnostics::new(),
        index,
        deposed: doc.deposed.iter().map(resource_change).collect::<Result<Vec<_>>>()?,
        adopted: doc.adopted.iter().map(|a| instance_addr(a)).collect::<Result<Vec<_>>>()?,
        dropped_intents: doc.dropped_intents,
        data,
        generated: Vec::new(),
    })
}

/// The request the file records (what `show` reports and apply rebuilds the graph with).
pub fn request(doc: &PlanFile) -> Request {
    Request {
        mode: match doc.mode {
            PlanFileMode::Normal => PlanMode::Normal,
            PlanFileMode::Destroy => PlanMode::Destroy,
            PlanFileMode::RefreshOnly => PlanMode::RefreshOnly,
        },
        refresh: doc.refresh,
        refresh_full: doc.refresh_full,
        targets: doc.targets.clone(),
        replace: doc.replace.clone(),
    }
}

pub fn variables(doc: &PlanFile) -> BTreeMap<String, Value> {
    doc.variables.iter().map(|(k, v)| (k.clone(), value(v))).collect()
}

/// A `--var` given with a saved plan: accepted when it repeats the value the plan was made
/// with (OpenTofu's encryption settings may need it to open the file), refused otherwise, as
/// Terraform refuses it, since the plan applies the values it recorded.
pub fn check_cli_vars(doc: &PlanFile, module: &Module, dir: &Path, vars: &[String], sources: &infra_lang::source::SourceMap) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let opts = super::vars::LoadOptions { vars: vars.to_vec(), var_files: vec![], phase: infra_lang::eval::Phase::Plan, prompt_missing: false };
    let given = super::vars::input_values(module, dir, &opts, sources)?;
    let planned = variables(doc);
    let mut diags = Diagnostics::new();
    for name in vars.iter().filter_map(|v| v.split_once('=').map(|(n, _)| n.trim())) {
        let same = match (given.get(name), planned.get(name)) {
            (Some(g), Some(p)) => {
                // A --var arrives as text: compared once converted to the variable's type.
                let ty = module.variables.get(name).and_then(|v| v.ty.clone()).unwrap_or(infra_lang::Type::Any);
                let g = infra_lang::types::convert(g, &ty).unwrap_or_else(|_| g.clone());
                g.deep_unmark() == p.clone().deep_unmark()
            }
            _ => false,
        };
        if !same {
            diags.push(Diagnostic::error(
                "Can't change variable when applying a saved plan",
                format!("The variable {name} cannot be set to a different value with --var when applying a saved plan file, because a saved plan includes the variable values that were set when it was created. Make a new plan with the new value instead."),
            ));
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// How a configuration input is named in the file: relative to the stack directory when it
/// lies below it, else absolute.
fn input_name(dir: &Path, path: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match path.strip_prefix(&dir) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

fn input_path(dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

fn is_config_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && (name.ends_with(".tf") || name.ends_with(".hcl") || name.ends_with(".tf.json"))
}

fn module_dirs(m: &Module, out: &mut Vec<PathBuf>) {
    if !out.contains(&m.dir) {
        out.push(m.dir.clone());
    }
    for call in m.module_calls.values() {
        module_dirs(&call.module, out);
    }
}

/// The digest of every configuration input of the stack in `dir`: each `.tf`, `.hcl` and
/// `.tf.json` file of the root module and of every local module it calls, the variable files,
/// and the files functions read while planning (`reads`, already digested).
pub fn config_files(dir: &Path, root: &Module, var_files: &[PathBuf], reads: &BTreeMap<PathBuf, String>) -> Result<BTreeMap<String, String>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = Vec::new();
    module_dirs(root, &mut dirs);
    for d in dirs {
        let listed = std::fs::read_dir(&d).map_err(|e| Diagnostic::error("Cannot read stack directory", format!("Reading {} failed: {e}.", d.display())))?;
        let mut here: Vec<PathBuf> = listed.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file() && is_config_file(p)).collect();
        here.sort();
        files.extend(here);
    }
    files.extend(var_files.iter().cloned());
    let mut out = BTreeMap::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Diagnostic::error("Cannot read file", format!("Reading {} failed: {e}.", f.display())))?;
        out.insert(input_name(dir, &f), sha256_hex(&bytes));
    }
    for (path, digest) in reads {
        out.insert(input_name(dir, path), digest.clone());
    }
    Ok(out)
}

/// A saved plan applies only to the configuration it was made from: every input it recorded
/// must be unchanged, and the stack must have no configuration file it did not record.
pub fn check_config(doc: &PlanFile, dir: &Path, root: &Module) -> Result<()> {
    let mut now = config_files(dir, root, &super::vars::var_files(dir, &[]), &BTreeMap::new())?;
    for name in doc.config_files.keys() {
        if !now.contains_key(name) {
            if let Ok(bytes) = std::fs::read(input_path(dir, name)) {
                now.insert(name.clone(), sha256_hex(&bytes));
            }
        }
    }
    let names: std::collections::BTreeSet<&String> = doc.config_files.keys().chain(now.keys()).collect();
    for name in names {
        let what = match (doc.config_files.get(name), now.get(name)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => format!("{name} changed"),
            (Some(_), None) => format!("{name} was removed or can no longer be read"),
            (None, _) => format!("{name} was added"),
        };
        return Err(Diagnostic::error(
            "Saved plan does not match the configuration",
            format!("{what} since the plan was made, so applying the plan would not apply what was reviewed. Nothing was changed. Create a new plan with infra plan --out."),
        )
        .into());
    }
    Ok(())
}

/// Writes the file atomically (temp file, rename), readable only by its owner from its first
/// byte: it holds the planned values and the input variables, secrets included.
pub fn save(file: &Path, doc: &PlanFile, crypt: Option<&infra_state::encryption::Target>) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp_name = file.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    // Sealed (the stack's `plan` encryption) before the file is created: a refusal writes nothing.
    let bytes = match crypt {
        Some(c) => {
            c.seal(&doc.to_bytes()).map_err(|e| Diagnostic::error("Cannot save plan", format!("Encrypting the plan for {} failed: {e}.", file.display())))?
        }
        None => doc.to_bytes(),
    };
    let written = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).and_then(|mut f| {
        use std::os::unix::fs::PermissionsExt;
        // A leftover temp file keeps its old mode: set it again.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    });
    written.map_err(|e| Diagnostic::error("Cannot save plan", format!("Writing {} failed: {e}.", file.display())).into())
}

pub fn parse(file: &Path, bytes: &[u8]) -> Result<PlanFile> {
    PlanFile::from_bytes(bytes).map_err(|e| Diagnostic::error("Invalid plan file", format!("{} cannot be applied: {e}.", file.display())).into())
}

pub fn read(file: &Path, crypt: Option<&infra_state::encryption::Target>) -> Result<PlanFile> {
    let bytes = std::fs::read(file).map_err(|e| Diagnostic::error("Cannot read plan file", format!("Reading {} failed: {e}.", file.display())))?;
    let bytes = match crypt {
        Some(c) => c.open(&bytes).map_err(|e| Diagnostic::error("Cannot decrypt plan file", format!("{} cannot be read: {e}.", file.display())))?,
        None if infra_state::encryption::is_sealed(&bytes) => {
            return Err(Diagnostic::error(
                "Cannot decrypt plan file",
                format!("{} is encrypted, and this stack configures no plan encryption (a plan block in terraform {{ encryption {{ ... }} }} or TF_ENCRYPTION) to read it with.", file.display()),
            )
            .into())
        }
        None => bytes,
    };
    parse(file, &bytes)
}

/// The state a saved plan applies to when no state exists yet. A plan made before the first
/// apply is bound to the lineage of a state nobody wrote (a new random one each run, so such a
/// plan was always refused as stale): while there is still no state, the apply starts the
/// plan's lineage instead.
pub fn fresh_state(doc: &PlanFile) -> StateFile {
    let mut state = StateFile::new();
    if doc.serial == state.serial {
        state.lineage = doc.lineage.clone();
    }
    state
}

/// A saved plan applies only to the state version it was made on.
pub fn check_state(doc: &PlanFile, state: &StateFile) -> Result<()> {
    if doc.lineage != state.lineage || doc.serial != state.serial {
        return Err(Diagnostic::error(
            "Saved plan is stale",
            format!(
                "The plan was made against state lineage {} serial {}, but the state is now lineage {} serial {}. Create a new plan.",
                doc.lineage, doc.serial, state.lineage, state.serial
            ),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(r: &Request) -> PlanFile {
        let mut prior = StateFile::new();
        prior.lineage = "l".into();
        prior.serial = 4;
        PlanFile {
            format_version: PLAN_FORMAT_VERSION,
            infra_version: "test".into(),
            lineage: "l".into(),
            serial: 4,
            mode: PlanFileMode::Destroy,
            refresh: r.refresh,
            refresh_full: r.refresh_full,
            targets: r.targets.clone(),
            replace: r.replace.clone(),
            variables: BTreeMap::new(),
            config_files: BTreeMap::new(),
            prior_state: prior,
            changes: vec![],
            deposed: vec![],
            drift: vec![],
            data: vec![],
            outputs: BTreeMap::new(),
            adopted: vec![],
            dropped_intents: 0,
            timestamp: String::new(),
            configuration: serde_json::Value::Null,
            body_sha256: String::new(),
        }
    }

    #[test]
    fn a_saved_plan_round_trips_its_request_and_is_written_0600() {
        let r = Request { mode: PlanMode::Destroy, refresh: false, refresh_full: true, targets: vec!["a.b".into()], replace: vec!["c.d".into()] };
        let doc = sample(&r);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("tf.plan");
        assert!(save(&file, &doc, None).is_ok());
        let back = read(&file, None).map_err(|d| d.0[0].summary.clone());
        assert_eq!(back.as_ref().map(request), Ok(r));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
        let mut state = StateFile::new();
        state.lineage = "l".into();
        state.serial = 4;
        assert!(check_state(&doc, &state).is_ok());
        state.serial = 5;
        assert_eq!(check_state(&doc, &state).err().map(|d| d.0[0].summary.clone()).as_deref(), Some("Saved plan is stale"));
    }

    #[test]
    fn planned_values_keep_their_unknowns_and_sensitive_paths() {
        let v = Value::object([
            ("id", Value::Unknown),
            ("secret", Value::string("s").sensitive()),
            ("later_secret", Value::Unknown.sensitive()),
            ("list", Value::List(vec![Value::string("a"), Value::Unknown])),
            ("plain", Value::string("p")),
        ]);
        let back = value(&plan_value(&v));
        assert!(back.get_attr("id").is_some_and(Value::is_unknown));
        assert!(back.get_attr("secret").is_some_and(Value::is_sensitive));
        let later = back.get_attr("later_secret").cloned().unwrap_or_default();
        assert!(later.is_sensitive() && later.is_unknown());
        assert!(back.get_attr("list").and_then(Value::as_seq).is_some_and(|l| l[1].is_unknown() && l[0].as_str() == Some("a")));
        assert_eq!(back.get_attr("plain").and_then(Value::as_str), Some("p"));
        assert_eq!(value(&plan_value(&Value::Unknown)), Value::Unknown);
    }

    #[test]
    fn a_changed_added_or_removed_configuration_file_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
        write("main.tf", "locals {\n  a = 1\n}\n");
        write("b.tf", "");
        let root = Module { dir: dir.path().to_path_buf(), ..Module::default() };
        let mut doc = sample(&Request { mode: PlanMode::Normal, refresh: true, refresh_full: false, targets: vec![], replace: vec![] });
        doc.config_files = config_files(dir.path(), &root, &[], &BTreeMap::new()).unwrap_or_default();
        assert_eq!(doc.config_files.keys().cloned().collect::<Vec<_>>(), vec!["b.tf".to_string(), "main.tf".to_string()]);
        assert!(check_config(&doc, dir.path(), &root).is_ok());
        let detail = |doc: &PlanFile| check_config(doc, dir.path(), &root).err().map(|d| d.0[0].detail.clone()).unwrap_or_default();
        write("main.tf", "locals {\n  a = 2\n}\n");
        assert!(detail(&doc).starts_with("main.tf changed since the plan was made"), "{}", detail(&doc));
        write("main.tf", "locals {\n  a = 1\n}\n");
        write("c.tf.json", "{}");
        assert!(detail(&doc).starts_with("c.tf.json was added"), "{}", detail(&doc));
        let _ = std::fs::remove_file(dir.path().join("c.tf.json"));
        let _ = std::fs::remove_file(dir.path().join("b.tf"));
        assert!(detail(&doc).starts_with("b.tf was removed"), "{}", detail(&doc));
    }

    #[test]
    fn a_plan_made_before_any_state_applies_to_the_first_one() {
        let doc = PlanFile {
            serial: StateFile::new().serial,
            lineage: "made-on-nothing".into(),
            ..sample(&Request { mode: PlanMode::Normal, refresh: true, refresh_full: false, targets: vec![], replace: vec![] })
        };
        assert!(check_state(&doc, &fresh_state(&doc)).is_ok());
        let later = PlanFile { serial: doc.serial + 1, ..doc };
        assert!(check_state(&later, &fresh_state(&later)).is_err());
    }

    #[test]
    fn a_file_that_is_not_a_plan_is_refused() {
        let err = parse(Path::new("x.plan"), b"{\"state\": 1}").err().map(|d| d.0[0].summary.clone());
        assert_eq!(err.as_deref(), Some("Invalid plan file"));
    }
}
