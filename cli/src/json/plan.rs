//! Terraform's JSON plan representation (format version 1.2) and state representation
//! (format version 1.0), as `infra plan --json`, `infra show --json PLANFILE` and
//! `infra show --json` print them: serde types of their own, documented in
//! `docs/json-output.md` and `docs/json-output.schema.json`.
//!
//! Differences from Terraform, on purpose: sensitive values are null where Terraform writes
//! them in clear (their `*_sensitive` marks are the same); `infra_version` is added, and
//! `terraform_version` names the Terraform release whose JSON this output matches, because
//! consumers (checkov among them) recognize a plan by that field.

use super::config::{ConfigurationJson, ModuleConfigJson};
use super::values::{after_unknown, full_provider_name, known, sensitive_as_bool, sensitive_marks};
use infra_core::addr::{InstanceAddr, ModuleInstance};
use infra_core::plan::{Action, Plan, Reason, ResourceChange};
use infra_core::state_io::Working;
use infra_lang::config::Mode;
use infra_lang::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

pub const PLAN_FORMAT_VERSION: &str = "1.2";
pub const STATE_FORMAT_VERSION: &str = "1.0";
/// The Terraform release whose JSON representations these match (`terraform_version`).
pub const TERRAFORM_COMPAT_VERSION: &str = "1.11.4";

/// `infra plan --json`, `infra show --json PLANFILE`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanJson {
    pub format_version: String,
    pub terraform_version: String,
    pub infra_version: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, VariableValueJson>,
    pub planned_values: ValuesJson,
    pub resource_drift: Vec<ResourceChangeJson>,
    pub resource_changes: Vec<ResourceChangeJson>,
    pub output_changes: BTreeMap<String, OutputChangeJson>,
    pub prior_state: StateJson,
    pub configuration: ConfigurationJson,
    pub relevant_attributes: Vec<RelevantAttributeJson>,
    pub timestamp: String,
    pub applyable: bool,
    pub complete: bool,
    pub errored: bool,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariableValueJson {
    /// Null for a sensitive variable.
    pub value: Json,
}

/// `infra show --json` (the state), and `prior_state` of a plan.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateJson {
    pub format_version: String,
    pub terraform_version: String,
    pub infra_version: String,
    /// Absent when the state is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<ValuesJson>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValuesJson {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, OutputValueJson>,
    pub root_module: ModuleValuesJson,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputValueJson {
    pub sensitive: bool,
    /// Absent when unknown; null when sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub value: Option<Json>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<Json>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleValuesJson {
    /// Absent for the root module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceValuesJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_modules: Vec<ModuleValuesJson>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResourceValuesJson {
    pub address: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Json>,
    pub provider_name: String,
    pub schema_version: u64,
    pub values: Json,
    pub sensitive_values: Json,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResourceChangeJson {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<String>,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Json>,
    /// Set on the deletion of a deposed object (left by an interrupted create-before-destroy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    pub provider_name: String,
    pub change: ChangeJson,
    /// Terraform's reason names (`replace_because_cannot_update`, ...); absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChangeJson {
    pub actions: Vec<String>,
    pub before: Json,
    pub after: Json,
    pub after_unknown: Json,
    pub before_sensitive: Json,
    pub after_sensitive: Json,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<Vec<Json>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<ImportingJson>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImportingJson {
    pub id: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputChangeJson {
    pub actions: Vec<String>,
    pub before: Json,
    /// Absent when known only after apply.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub after: Option<Json>,
    pub after_unknown: Json,
    pub before_sensitive: Json,
    pub after_sensitive: Json,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct RelevantAttributeJson {
    pub resource: String,
    pub attribute: Vec<String>,
}

/// A field that is present is `Some`, even when it is null (absent is `None`).
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// Terraform's JSON plan names: a replacement is two actions, in the order they run.
pub fn action_names(a: Action) -> Vec<String> {
    let names: &[&str] = match a {
        Action::NoOp => &["no-op"],
        Action::Create => &["create"],
        Action::Read => &["read"],
        Action::Update => &["update"],
        Action::Delete => &["delete"],
        Action::DeleteThenCreate => &["delete", "create"],
        Action::CreateThenDelete => &["create", "delete"],
    };
    names.iter().map(|s| s.to_string()).collect()
}

/// Terraform's `action_reason` names. They are part of the format, so a renamed engine variant
/// must not rename them. Reasons Terraform has no name for are left out, as Terraform leaves
/// out a change's reason when there is none (a deposed object's deletion carries `deposed`).
pub fn reason_name(r: &Reason) -> Option<&'static str> {
    Some(match r {
        Reason::None | Reason::DeleteBecauseDestroyMode | Reason::DeleteBecauseDeposed => return None,
        Reason::ReplaceBecauseCannotUpdate => "replace_because_cannot_update",
        Reason::ReplaceByRequest => "replace_by_request",
        Reason::ReplaceByTriggers => "replace_by_triggers",
        Reason::DeleteBecauseNoResourceConfig => "delete_because_no_resource_config",
        Reason::DeleteBecauseCountIndex => "delete_because_count_index",
        Reason::DeleteBecauseEachKey => "delete_because_each_key",
        Reason::DeleteBecauseNoModule => "delete_because_no_module",
        Reason::ReadBecauseConfigUnknown => "read_because_config_unknown",
        Reason::ReadBecauseDependencyPending => "read_because_dependency_pending",
    })
}

/// Full provider names by provider name, from the configuration's providers.
struct Providers(BTreeMap<String, String>);

impl Providers {
    fn of(config: &ConfigurationJson) -> Providers {
        Providers(config.provider_config.values().map(|p| (p.name.clone(), p.full_name.clone())).collect())
    }
    /// `aws` or `aws.west` (or `module.x:aws`) to `registry.terraform.io/hashicorp/aws`.
    fn full(&self, key: &str) -> String {
        let key = key.rsplit(':').next().unwrap_or(key);
        let name = key.split('.').next().unwrap_or(key);
        self.0.get(name).cloned().unwrap_or_else(|| full_provider_name(name, None))
    }
}

fn mode_name(m: Mode) -> String {
    if m == Mode::Data { "data" } else { "managed" }.to_string()
}

fn module_address(addr: &InstanceAddr) -> Option<String> {
    (!addr.module.is_root()).then(|| addr.module.to_string())
}

fn resource_change(c: &ResourceChange, deposed: Option<String>, providers: &Providers) -> ResourceChangeJson {
    let (before, after) = match c.action {
        Action::Create => (None, c.after.as_ref()),
        Action::Delete => (c.before.as_ref(), None),
        _ => (c.before.as_ref(), c.after.as_ref()),
    };
    ResourceChangeJson {
        address: c.addr.to_string(),
        module_address: module_address(&c.addr),
        previous_address: c.moved_from.clone(),
        mode: mode_name(c.addr.mode),
        type_name: c.addr.type_name.clone(),
        name: c.addr.name.clone(),
        index: c.addr.key.as_ref().map(|k| k.to_json()),
        deposed,
        provider_name: providers.full(&c.provider),
        change: ChangeJson {
            actions: action_names(c.action),
            before: before.map(known).unwrap_or(Json::Null),
            after: after.map(known).unwrap_or(Json::Null),
            after_unknown: after_unknown(after),
            before_sensitive: sensitive_marks(before),
            after_sensitive: sensitive_marks(after),
            replace_paths: c.replace_paths.iter().map(|p| vec![Json::String(p.clone())]).collect(),
            importing: c.importing.as_ref().map(|id| ImportingJson { id: id.clone() }),
        },
        action_reason: reason_name(&c.reason).map(str::to_string),
    }
}

/// Terraform's type expression for a value (`"string"`, `["list", "string"]`, ...).
fn type_of(v: &Value) -> Json {
    let elem = |items: &[Value]| items.first().map(type_of).unwrap_or_else(|| "dynamic".into());
    match v {
        Value::Sensitive(inner) => type_of(inner),
        Value::Null | Value::Unknown => "dynamic".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::List(i) => serde_json::json!(["list", elem(i)]),
        Value::Set(i) => serde_json::json!(["set", elem(i)]),
        Value::Tuple(i) => serde_json::json!(["tuple", i.iter().map(type_of).collect::<Vec<_>>()]),
        Value::Map(m) => serde_json::json!(["map", m.values().next().map(type_of).unwrap_or_else(|| "dynamic".into())]),
        Value::Object(m) => serde_json::json!(["object", m.iter().map(|(k, v)| (k.clone(), type_of(v))).collect::<serde_json::Map<_, _>>()]),
    }
}

fn output_value(v: &Value, sensitive: bool) -> OutputValueJson {
    let sensitive = sensitive || v.contains_sensitive();
    if !v.is_wholly_known() {
        return OutputValueJson { sensitive, value: None, type_name: None };
    }
    OutputValueJson { sensitive, value: Some(if sensitive { Json::Null } else { known(v) }), type_name: Some(type_of(v)) }
}

/// Resources grouped into the module tree Terraform writes (`root_module`, `child_modules`).
fn module_tree(mut resources: Vec<(ModuleInstance, ResourceValuesJson)>) -> ModuleValuesJson {
    resources.sort_by(|a, b| (a.0.to_string(), &a.1.address).cmp(&(b.0.to_string(), &b.1.address)));
    let modules: BTreeSet<Vec<String>> = resources
        .iter()
        .flat_map(|(m, _)| {
            let segs: Vec<String> = module_segments(m);
            (1..=segs.len()).map(move |n| segs[..n].to_vec())
        })
        .collect();
    fn build(path: &[String], modules: &BTreeSet<Vec<String>>, resources: &mut Vec<(ModuleInstance, ResourceValuesJson)>) -> ModuleValuesJson {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(resources).into_iter().partition(|(m, _)| module_segments(m) == path);
        *resources = rest;
        let children: Vec<Vec<String>> = modules.iter().filter(|m| m.len() == path.len() + 1 && m.starts_with(path)).cloned().collect();
        ModuleValuesJson {
            address: (!path.is_empty()).then(|| path.join(".")),
            resources: mine.into_iter().map(|(_, r)| r).collect(),
            child_modules: children.iter().map(|c| build(c, modules, resources)).collect(),
        }
    }
    build(&[], &modules, &mut resources)
}

/// `module.a[0]`, `module.b`: one segment per module call of the instance path.
fn module_segments(m: &ModuleInstance) -> Vec<String> {
    m.0.iter().map(|(name, key)| format!("module.{name}{}", key.as_ref().map(|k| k.to_string()).unwrap_or_default())).collect()
}

fn resource_values(addr: &InstanceAddr, provider: &str, v: &Value, depends_on: Vec<String>, providers: &Providers) -> (ModuleInstance, ResourceValuesJson) {
    (
        addr.module.clone(),
        ResourceValuesJson {
            address: addr.to_string(),
            mode: mode_name(addr.mode),
            type_name: addr.type_name.clone(),
            name: addr.name.clone(),
            index: addr.key.as_ref().map(|k| k.to_json()),
            provider_name: providers.full(provider),
            schema_version: 0,
            values: known(v),
            sensitive_values: sensitive_as_bool(v),
            depends_on,
        },
    )
}

fn state_values(w: &Working, providers: &Providers) -> ValuesJson {
    let resources = w.instances.iter().map(|(addr, inst)| resource_values(addr, &inst.provider, &inst.value, inst.dependencies.clone(), providers)).collect();
    ValuesJson { outputs: w.outputs.iter().map(|(k, (v, s))| (k.clone(), output_value(v, *s))).collect(), root_module: module_tree(resources) }
}

/// `infra show --json`: the state in Terraform's state representation.
pub fn state(w: &Working, config: Option<&ConfigurationJson>) -> StateJson {
    let providers = config.map(Providers::of).unwrap_or(Providers(BTreeMap::new()));
    let empty = w.instances.is_empty() && w.outputs.is_empty();
    StateJson {
        format_version: STATE_FORMAT_VERSION.to_string(),
        terraform_version: TERRAFORM_COMPAT_VERSION.to_string(),
        infra_version: env!("CARGO_PKG_VERSION").to_string(),
        values: (!empty).then(|| state_values(w, &providers)),
    }
}

/// The plan in Terraform's JSON plan representation. `config` is the configuration it was
/// made from (saved in the plan file), `timestamp` when it was made.
pub fn plan(p: &Plan, config: &ConfigurationJson, timestamp: &str) -> PlanJson {
    let providers = Providers::of(config);
    let mut changes: Vec<&ResourceChange> = p.changes.iter().collect();
    changes.sort_by(|a, b| a.addr.cmp(&b.addr));
    let mut resource_changes: Vec<ResourceChangeJson> = changes.iter().map(|c| resource_change(c, None, &providers)).collect();
    resource_changes.extend(p.deposed.iter().enumerate().map(|(i, c)| resource_change(c, Some(format!("{:08x}", i + 1)), &providers)));

    let mut planned: Vec<(ModuleInstance, ResourceValuesJson)> = Vec::new();
    for c in changes.iter().filter(|c| c.action != Action::Delete) {
        if let Some(after) = &c.after {
            planned.push(resource_values(&c.addr, &c.provider, after, c.dependencies.clone(), &providers));
        }
    }
    for (addr, v) in &p.data {
        if p.change(addr).is_none() {
            let provider = p.prior.instances.get(addr).map(|i| i.provider.clone()).unwrap_or_else(|| infra_lang::config::implied_provider(&addr.type_name));
            planned.push(resource_values(addr, &provider, v, Vec::new(), &providers));
        }
    }
    let planned_values = ValuesJson {
        outputs: p.outputs.iter().filter(|(_, o)| !o.after.is_null()).map(|(k, o)| (k.clone(), output_value(&o.after, o.sensitive))).collect(),
        root_module: module_tree(planned),
    };

    let output_changes = p
        .outputs
        .iter()
        .map(|(k, o)| {
            let actions = match &o.before {
                None => "create",
                Some(_) if o.after.is_null() => "delete",
                Some(b) if b.deep_unmark().equals(&o.after.deep_unmark()) && o.after.is_wholly_known() => "no-op",
                Some(_) => "update",
            };
            let shown = |v: &Value| if o.sensitive || v.contains_sensitive() { Json::Null } else { known(v) };
            let after_unknown = if o.after.is_unknown() {
                Json::Bool(true)
            } else if o.after.is_wholly_known() {
                Json::Bool(false)
            } else {
                super::values::unknown_as_bool(&o.after)
            };
            (
                k.clone(),
                OutputChangeJson {
                    actions: vec![actions.to_string()],
                    before: o.before.as_ref().map(shown).unwrap_or(Json::Null),
                    after: (!o.after.is_unknown()).then(|| shown(&o.after)),
                    after_unknown,
                    before_sensitive: Json::Bool(o.before.is_some() && o.sensitive),
                    after_sensitive: Json::Bool(o.sensitive),
                },
            )
        })
        .collect();

    PlanJson {
        format_version: PLAN_FORMAT_VERSION.to_string(),
        terraform_version: TERRAFORM_COMPAT_VERSION.to_string(),
        infra_version: env!("CARGO_PKG_VERSION").to_string(),
        variables: p
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), VariableValueJson { value: if v.contains_sensitive() || sensitive_variable(config, k) { Json::Null } else { known(v) } }))
            .collect(),
        planned_values,
        resource_drift: p.drift.iter().map(|c| resource_change(c, None, &providers)).collect(),
        resource_changes,
        output_changes,
        prior_state: StateJson {
            format_version: STATE_FORMAT_VERSION.to_string(),
            terraform_version: TERRAFORM_COMPAT_VERSION.to_string(),
            infra_version: env!("CARGO_PKG_VERSION").to_string(),
            values: Some(state_values(&p.prior, &providers)),
        },
        configuration: config.clone(),
        relevant_attributes: relevant_attributes(p, config),
        timestamp: timestamp.to_string(),
        applyable: p.has_changes(),
        complete: true,
        errored: false,
    }
}

fn sensitive_variable(config: &ConfigurationJson, name: &str) -> bool {
    config.root_module.variables.get(name).is_some_and(|v| v.sensitive)
}

/// The resource attributes that resources with changes and the outputs read, as Terraform
/// lists them (`{"resource": "aws_vpc.main", "attribute": ["id"]}`).
fn relevant_attributes(p: &Plan, config: &ConfigurationJson) -> Vec<RelevantAttributeJson> {
    let changed: BTreeSet<String> = p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| config_address(&c.addr)).collect();
    let mut refs: Vec<String> = Vec::new();
    fn walk_module(m: &ModuleConfigJson, prefix: &str, changed: &BTreeSet<String>, refs: &mut Vec<String>) {
        for r in &m.resources {
            if changed.contains(&format!("{prefix}{}", r.address)) {
                for e in r.expressions.values() {
                    collect_references(e, refs);
                }
            }
        }
        for o in m.outputs.values() {
            collect_references(&o.expression, refs);
        }
        for (name, call) in &m.module_calls {
            walk_module(&call.module, &format!("{prefix}module.{name}."), changed, refs);
        }
    }
    walk_module(&config.root_module, "", &changed, &mut refs);
    let mut out: BTreeSet<RelevantAttributeJson> = BTreeSet::new();
    for r in refs {
        let parts: Vec<&str> = r.split('.').collect();
        let n = match parts.first() {
            Some(&("var" | "local" | "module" | "each" | "count" | "path" | "self" | "terraform")) | None => continue,
            Some(&"data") => 3,
            Some(_) => 2,
        };
        if parts.len() > n {
            out.insert(RelevantAttributeJson { resource: parts[..n].join("."), attribute: parts[n..].iter().map(|s| s.to_string()).collect() });
        }
    }
    out.into_iter().collect()
}

fn collect_references(e: &Json, out: &mut Vec<String>) {
    match e {
        Json::Object(m) => {
            if let Some(Json::Array(rs)) = m.get("references") {
                out.extend(rs.iter().filter_map(|r| r.as_str().map(str::to_string)));
            }
            for (k, v) in m {
                if k != "references" && k != "constant_value" {
                    collect_references(v, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}

/// The address of the resource's configuration: module calls without instance keys.
fn config_address(addr: &InstanceAddr) -> String {
    let mut s: String = addr.module.0.iter().map(|(name, _)| format!("module.{name}.")).collect();
    if addr.mode == Mode::Data {
        s.push_str("data.");
    }
    s.push_str(&format!("{}.{}", addr.type_name, addr.name));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_named_as_documented() {
        let doc = include_str!("../../../docs/json-output.md");
        for r in Reason::ALL.iter().filter_map(reason_name) {
            assert!(doc.contains(&format!("`{r}`")), "{r} is not in docs/json-output.md");
        }
        assert_eq!(action_names(Action::CreateThenDelete), ["create", "delete"]);
    }
}
