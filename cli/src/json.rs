//! The `--json` output shapes, version 1.0 (`docs/json-output.md`): serde types of their own,
//! separate from engine types, with explicit names for actions and reasons.
//!
//! Fields are declared in alphabetical order because the output has always had its keys sorted.

use infra_core::plan::{Action, Plan, Reason, ResourceChange};
use infra_lang::diag::Diagnostic;
use infra_lang::source::SourceMap;
use infra_lang::value::{to_json, Value};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

pub const FORMAT_VERSION: &str = "1.0";

/// `infra plan --json`.
#[derive(Serialize)]
pub struct PlanJson {
    pub format_version: &'static str,
    pub has_changes: bool,
    pub infra_version: &'static str,
    pub output_changes: BTreeMap<String, OutputChangeJson>,
    pub resource_changes: Vec<ResourceChangeJson>,
    pub resource_drift: Vec<ResourceChangeJson>,
}

#[derive(Serialize)]
pub struct ResourceChangeJson {
    pub action_reason: &'static str,
    pub address: String,
    pub change: ChangeJson,
    pub index: Option<Json>,
    pub mode: &'static str,
    pub module_address: Option<String>,
    pub name: String,
    pub provider_name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Serialize)]
pub struct ChangeJson {
    pub actions: Vec<&'static str>,
    pub after: Json,
    pub before: Json,
    pub replace_paths: Vec<Vec<String>>,
}

#[derive(Serialize)]
pub struct OutputChangeJson {
    pub after: Json,
    pub after_sensitive: bool,
    pub before: Option<Json>,
}

/// One entry of `infra output --json` (Terraform's shape).
#[derive(Serialize)]
pub struct OutputJson {
    pub sensitive: bool,
    #[serde(rename = "type")]
    pub type_name: Json,
    pub value: Json,
}

/// `infra validate --json`.
#[derive(Serialize)]
pub struct ValidateJson {
    pub diagnostics: Vec<DiagnosticJson>,
    pub error_count: usize,
    pub format_version: &'static str,
    pub valid: bool,
}

#[derive(Serialize)]
pub struct DiagnosticJson {
    pub address: Option<String>,
    pub detail: String,
    pub range: Option<RangeJson>,
    pub severity: &'static str,
    pub summary: String,
}

#[derive(Serialize)]
pub struct RangeJson {
    pub filename: String,
    pub start: PosJson,
}

#[derive(Serialize)]
pub struct PosJson {
    pub byte: usize,
    pub column: usize,
    pub line: usize,
}

/// Terraform's JSON plan names: a replacement is two actions, in the order they run.
pub fn action_names(a: Action) -> Vec<&'static str> {
    match a {
        Action::NoOp => vec!["no-op"],
        Action::Create => vec!["create"],
        Action::Read => vec!["read"],
        Action::Update => vec!["update"],
        Action::Delete => vec!["delete"],
        Action::DeleteThenCreate => vec!["delete", "create"],
        Action::CreateThenDelete => vec!["create", "delete"],
    }
}

/// The names `docs/json-output.md` lists; they are part of the format, so a renamed engine
/// variant must not rename them.
pub fn reason_name(r: &Reason) -> &'static str {
    match r {
        Reason::None => "None",
        Reason::ReplaceBecauseCannotUpdate => "ReplaceBecauseCannotUpdate",
        Reason::ReplaceByRequest => "ReplaceByRequest",
        Reason::ReplaceByTriggers => "ReplaceByTriggers",
        Reason::DeleteBecauseNoResourceConfig => "DeleteBecauseNoResourceConfig",
        Reason::DeleteBecauseCountIndex => "DeleteBecauseCountIndex",
        Reason::DeleteBecauseEachKey => "DeleteBecauseEachKey",
        Reason::DeleteBecauseNoModule => "DeleteBecauseNoModule",
        Reason::DeleteBecauseDestroyMode => "DeleteBecauseDestroyMode",
        Reason::DeleteBecauseDeposed => "DeleteBecauseDeposed",
        Reason::ReadBecauseConfigUnknown => "ReadBecauseConfigUnknown",
        Reason::ReadBecauseDependencyPending => "ReadBecauseDependencyPending",
    }
}

pub fn plan(p: &Plan) -> PlanJson {
    let mut sorted: Vec<&ResourceChange> = p.changes.iter().collect();
    sorted.sort_by(|a, b| a.addr.cmp(&b.addr));
    PlanJson {
        format_version: FORMAT_VERSION,
        has_changes: p.has_changes(),
        infra_version: env!("CARGO_PKG_VERSION"),
        output_changes: p
            .outputs
            .iter()
            .map(|(k, o)| {
                (
                    k.clone(),
                    OutputChangeJson {
                        after: to_json(&redacted(&o.after)),
                        after_sensitive: o.sensitive,
                        before: o.before.as_ref().map(|b| to_json(&redacted(b))),
                    },
                )
            })
            .collect(),
        resource_changes: sorted.into_iter().map(resource_change).collect(),
        resource_drift: p.drift.iter().map(resource_change).collect(),
    }
}

fn resource_change(c: &ResourceChange) -> ResourceChangeJson {
    let redact = |v: &Option<Value>| v.as_ref().map(|v| to_json(&redacted(v))).unwrap_or(Json::Null);
    ResourceChangeJson {
        action_reason: reason_name(&c.reason),
        address: c.addr.to_string(),
        change: ChangeJson {
            actions: action_names(c.action),
            after: redact(&c.after),
            before: redact(&c.before),
            replace_paths: c.replace_paths.iter().map(|p| vec![p.clone()]).collect(),
        },
        index: c.addr.key.as_ref().map(|k| k.to_json()),
        mode: if c.addr.mode == infra_lang::config::Mode::Data { "data" } else { "managed" },
        module_address: if c.addr.module.is_root() { None } else { Some(c.addr.module.to_string()) },
        name: c.addr.name.clone(),
        provider_name: c.provider.clone(),
        type_name: c.addr.type_name.clone(),
    }
}

/// Sensitive values are left out of JSON output; unknowns are null there.
fn redacted(v: &Value) -> Value {
    match v {
        Value::Sensitive(_) => Value::string("(sensitive value)"),
        Value::List(i) => Value::List(i.iter().map(redacted).collect()),
        Value::Tuple(i) => Value::Tuple(i.iter().map(redacted).collect()),
        Value::Set(i) => Value::Set(i.iter().map(redacted).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect()),
        other => other.clone(),
    }
}

pub fn outputs(outputs: &BTreeMap<String, infra_state::OutputState>) -> BTreeMap<String, OutputJson> {
    outputs.iter().map(|(k, o)| (k.clone(), OutputJson { sensitive: o.sensitive, type_name: json_type(&o.value), value: o.value.clone() })).collect()
}

/// Terraform's type expression for a JSON value, as `output --json` shows it.
fn json_type(v: &Json) -> Json {
    match v {
        Json::String(_) => "string".into(),
        Json::Number(_) => "number".into(),
        Json::Bool(_) => "bool".into(),
        Json::Null => "dynamic".into(),
        Json::Array(a) => serde_json::json!(["tuple", a.iter().map(json_type).collect::<Vec<_>>()]),
        Json::Object(m) => serde_json::json!(["object", m.iter().map(|(k, v)| (k.clone(), json_type(v))).collect::<serde_json::Map<_, _>>()]),
    }
}

pub fn validate(d: &infra_lang::diag::Diagnostics, sources: &SourceMap, base: &Path) -> ValidateJson {
    ValidateJson {
        diagnostics: d.iter().map(|x| diagnostic(x, sources, base)).collect(),
        error_count: d.iter().filter(|x| x.is_error()).count(),
        format_version: FORMAT_VERSION,
        valid: !d.has_errors(),
    }
}

fn diagnostic(d: &Diagnostic, sources: &SourceMap, base: &Path) -> DiagnosticJson {
    let range = d.subject.as_ref().map(|s| {
        let p = sources.pos(s.file, s.range.start);
        RangeJson {
            filename: sources.path(s.file).strip_prefix(base).map(|p| p.display().to_string()).unwrap_or_default(),
            start: PosJson { byte: s.range.start, column: p.col, line: p.line },
        }
    });
    DiagnosticJson {
        address: d.address.clone(),
        detail: d.detail.clone(),
        range,
        severity: if d.is_error() { "error" } else { "warning" },
        summary: d.summary.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_come_out_sorted_as_the_untyped_output_had_them() {
        let o = OutputChangeJson { after: "x".into(), after_sensitive: false, before: None };
        let r = RangeJson { filename: "main.tf".into(), start: PosJson { byte: 3, column: 2, line: 1 } };
        let d = DiagnosticJson { address: None, detail: "d".into(), range: Some(r), severity: "error", summary: "s".into() };
        let v = ValidateJson { diagnostics: vec![d], error_count: 1, format_version: FORMAT_VERSION, valid: false };
        let literal = serde_json::json!({"format_version": "1.0", "valid": false, "error_count": 1, "diagnostics": [{"severity": "error", "summary": "s", "detail": "d", "range": {"filename": "main.tf", "start": {"line": 1, "column": 2, "byte": 3}}, "address": null}]});
        assert_eq!(serde_json::to_string(&v).unwrap_or_default(), literal.to_string());
        let literal = serde_json::json!({"before": null, "after": "x", "after_sensitive": false});
        assert_eq!(serde_json::to_string(&o).unwrap_or_default(), literal.to_string());
    }

    #[test]
    fn reasons_are_named_as_documented() {
        let doc = include_str!("../../docs/json-output.md");
        let all = [
            Reason::None,
            Reason::ReplaceBecauseCannotUpdate,
            Reason::ReplaceByRequest,
            Reason::ReplaceByTriggers,
            Reason::DeleteBecauseNoResourceConfig,
            Reason::DeleteBecauseCountIndex,
            Reason::DeleteBecauseEachKey,
            Reason::DeleteBecauseNoModule,
            Reason::DeleteBecauseDestroyMode,
            Reason::DeleteBecauseDeposed,
            Reason::ReadBecauseConfigUnknown,
            Reason::ReadBecauseDependencyPending,
        ];
        for r in &all {
            assert!(doc.contains(&format!("`{}`", reason_name(r))), "{} is not in docs/json-output.md", reason_name(r));
        }
        assert_eq!(action_names(Action::CreateThenDelete), ["create", "delete"]);
    }
}
