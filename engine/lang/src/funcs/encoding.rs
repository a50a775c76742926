//! Encoding functions: base64decode base64encode csvdecode jsondecode jsonencode urlencode
//! yamldecode yamlencode.

use super::{arity, str_arg, FResult, FuncError};
use crate::value::{format_number, from_json, to_json, Value};
use base64::Engine;
use std::str::FromStr;

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "base64encode" => arity(a, 1).and_then(|_| Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(str_arg(a, 0)?)))),
        "base64decode" => arity(a, 1).and_then(|_| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(str_arg(a, 0)?.trim())
                .map_err(|e| FuncError::Failed(format!("failed to decode base64 data: {e}")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| "the result of decoding the provided string is not valid UTF-8".into())
        }),
        "jsonencode" => arity(a, 1).map(|_| Value::String(json_encode(&a[0]))),
        "jsondecode" => arity(a, 1).and_then(|_| {
            let s = str_arg(a, 0)?;
            let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| FuncError::Failed(format!("invalid JSON: {e}")))?;
            check_numbers(&j)?;
            Ok(from_json(&j))
        }),
        "urlencode" => arity(a, 1).and_then(|_| Ok(Value::String(urlencode(&str_arg(a, 0)?)))),
        "csvdecode" => arity(a, 1).and_then(|_| csvdecode(&str_arg(a, 0)?)),
        "yamldecode" => arity(a, 1).and_then(|_| super::yaml::decode(&str_arg(a, 0)?)),
        "yamlencode" => arity(a, 1).map(|_| {
            let mut out = String::new();
            yaml_emit(&a[0], 0, &mut out);
            if !out.ends_with('\n') {
                out.push('\n');
            }
            Value::String(out)
        }),
        _ => return None,
    })
}

fn check_numbers(j: &serde_json::Value) -> Result<(), FuncError> {
    match j {
        serde_json::Value::Number(n) => bigdecimal::BigDecimal::from_str(&n.to_string())
            .map_err(|_| format!("cannot represent {n} as a number"))
            .and_then(crate::value::checked_number)
            .map(|_| ())
            .map_err(FuncError::Failed),
        serde_json::Value::Array(a) => a.iter().try_for_each(check_numbers),
        serde_json::Value::Object(m) => m.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

/// Compact JSON with sorted keys and Go's HTML-safe escaping, as Terraform's jsonencode.
pub fn json_encode(v: &Value) -> String {
    let s = serde_json::to_string(&to_json(v)).unwrap_or_default();
    s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn csvdecode(s: &str) -> FResult {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(s.as_bytes());
    let headers: Vec<String> = rdr.headers().map_err(|e| FuncError::Failed(e.to_string()))?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| FuncError::Failed(e.to_string()))?;
        if rec.len() != headers.len() {
            return Err("every row must have the same number of fields as the header".into());
        }
        rows.push(Value::Object(headers.iter().cloned().zip(rec.iter().map(|f| Value::String(f.to_string()))).collect()));
    }
    Ok(Value::List(rows))
}

/// YAML in the style Terraform's yamlencode writes: double-quoted strings, block maps and
/// sequences, `[]` and `{}` for empty collections.
fn yaml_emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v.unmark().0 {
        Value::Map(m) | Value::Object(m) if !m.is_empty() => {
            for (k, item) in m {
                out.push_str(&pad);
                out.push_str(&yaml_scalar_str(k));
                out.push(':');
                yaml_child(item, indent, out, true);
            }
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item.unmark().0 {
                    Value::Map(m) | Value::Object(m) if !m.is_empty() => {
                        let mut first = true;
                        for (k, inner) in m {
                            if !first {
                                out.push_str(&" ".repeat(indent + 2));
                            }
                            first = false;
                            out.push_str(&yaml_scalar_str(k));
                            out.push(':');
                            yaml_child(inner, indent + 2, out, true);
                        }
                    }
                    Value::List(l) | Value::Tuple(l) | Value::Set(l) if !l.is_empty() => {
                        out.push('\n');
                        yaml_emit(item, indent + 2, out);
                    }
                    _ => {
                        out.push_str(&yaml_scalar(item));
                        out.push('\n');
                    }
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(v));
            out.push('\n');
        }
    }
}

fn yaml_child(item: &Value, indent: usize, out: &mut String, _in_map: bool) {
    match item.unmark().0 {
        Value::Map(m) | Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml_emit(item, indent + 2, out);
        }
        Value::List(l) | Value::Tuple(l) | Value::Set(l) if !l.is_empty() => {
            out.push('\n');
            yaml_emit(item, indent, out);
        }
        _ => {
            out.push(' ');
            out.push_str(&yaml_scalar(item));
            out.push('\n');
        }
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v.unmark().0 {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(n),
        Value::String(s) => yaml_scalar_str(s),
        Value::Map(_) | Value::Object(_) => "{}".into(),
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => "[]".into(),
        Value::Sensitive(_) => "null".into(),
    }
}

fn yaml_scalar_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}
