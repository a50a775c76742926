//! The `--json` output shapes (`docs/json-output.md`): serde types of their own, separate
//! from engine types. Plans and state follow Terraform's JSON representations (`plan`,
//! `config`, `values`); `validate --json` and `output --json` are here.
//!
//! The fields of `validate --json` are declared in alphabetical order because that output has
//! always had its keys sorted.

pub mod config;
pub mod plan;
mod schema;
pub mod values;

pub use plan::{plan, state};

use infra_lang::diag::Diagnostic;
use infra_lang::source::SourceMap;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

pub const FORMAT_VERSION: &str = "1.0";

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
        let r = RangeJson { filename: "main.tf".into(), start: PosJson { byte: 3, column: 2, line: 1 } };
        let d = DiagnosticJson { address: None, detail: "d".into(), range: Some(r), severity: "error", summary: "s".into() };
        let v = ValidateJson { diagnostics: vec![d], error_count: 1, format_version: FORMAT_VERSION, valid: false };
        let literal = serde_json::json!({"format_version": "1.0", "valid": false, "error_count": 1, "diagnostics": [{"severity": "error", "summary": "s", "detail": "d", "range": {"filename": "main.tf", "start": {"line": 1, "column": 2, "byte": 3}}, "address": null}]});
        assert_eq!(serde_json::to_string(&v).unwrap_or_default(), literal.to_string());
    }
}
