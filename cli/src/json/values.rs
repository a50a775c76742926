//! Values as Terraform's JSON representations write them: unknowns left out of `after` and
//! marked in `after_unknown`, sensitive values left out (written as null, never in clear) and
//! marked in `*_sensitive`, provider names in their full form.

use infra_lang::value::{to_json, Value};
use serde_json::Value as Json;

/// The value with unknown object attributes left out, unknown elements null and sensitive
/// values null: what `before`, `after` and `values` hold.
pub fn known(v: &Value) -> Json {
    match v {
        Value::Unknown | Value::Sensitive(_) => Json::Null,
        Value::List(i) | Value::Tuple(i) | Value::Set(i) => Json::Array(i.iter().map(known).collect()),
        Value::Map(m) | Value::Object(m) => Json::Object(m.iter().filter(|(_, v)| !v.is_unknown()).map(|(k, v)| (k.clone(), known(v))).collect()),
        other => to_json(other),
    }
}

/// Terraform's `unknownAsBool`: `true` where a value is unknown; known primitives are `false`,
/// left out of objects; sequences keep one entry per element.
pub fn unknown_as_bool(v: &Value) -> Json {
    marks(v, &Value::is_unknown)
}

/// Terraform's `sensitiveAsBool`: `true` where a value is sensitive, in the same layout.
pub fn sensitive_as_bool(v: &Value) -> Json {
    marks(v, &Value::is_sensitive)
}

fn marks(v: &Value, hit: &dyn Fn(&Value) -> bool) -> Json {
    if hit(v) {
        return Json::Bool(true);
    }
    match v {
        Value::List(i) | Value::Tuple(i) | Value::Set(i) => Json::Array(i.iter().map(|x| marks(x, hit)).collect()),
        Value::Map(m) | Value::Object(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), marks(x, hit))).filter(|(_, j)| *j != Json::Bool(false)).collect()),
        Value::Sensitive(inner) => marks(inner, hit),
        _ => Json::Bool(false),
    }
}

/// `after_unknown` of a change: `{}` (or `false` for a null value) when the value is wholly
/// known, as Terraform writes it.
pub fn after_unknown(v: Option<&Value>) -> Json {
    match v {
        None | Some(Value::Null) => Json::Bool(false),
        Some(v) if v.is_wholly_known() => match v {
            Value::Map(_) | Value::Object(_) => Json::Object(Default::default()),
            _ => Json::Bool(false),
        },
        Some(v) => unknown_as_bool(v),
    }
}

/// `before_sensitive` / `after_sensitive` of a change: `false` for no value.
pub fn sensitive_marks(v: Option<&Value>) -> Json {
    match v {
        None | Some(Value::Null) => Json::Bool(false),
        Some(v) => sensitive_as_bool(v),
    }
}

/// The provider's full name, as Terraform writes `provider_name`: the source given in
/// `required_providers` (`hashicorp/aws` on the public registry), else the name in the
/// `hashicorp` namespace; `terraform` is built in.
pub fn full_provider_name(name: &str, source: Option<&str>) -> String {
    match source {
        Some(s) if s.split('/').count() == 3 => s.to_string(),
        Some(s) if s.split('/').count() == 2 => format!("registry.terraform.io/{s}"),
        _ if name == "terraform" => "terraform.io/builtin/terraform".to_string(),
        _ => format!("registry.terraform.io/hashicorp/{name}"),
    }
}

/// The time as RFC 3339 in UTC (`2026-12-01T02:57:23Z`), as `timestamp` is written.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_lang::value::Map;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map>())
    }

    #[test]
    fn unknowns_and_secrets_are_marks_never_values() {
        let v = obj(vec![
            ("id", Value::Unknown),
            ("name", Value::string("web")),
            ("tags", obj(vec![("Secret", Value::Sensitive(Box::new(Value::string("s3cr3t"))))])),
            ("cidrs", Value::List(vec![Value::string("0.0.0.0/0")])),
        ]);
        assert_eq!(known(&v), serde_json::json!({"name": "web", "tags": {"Secret": null}, "cidrs": ["0.0.0.0/0"]}));
        assert_eq!(unknown_as_bool(&v), serde_json::json!({"id": true, "tags": {}, "cidrs": [false]}));
        assert_eq!(sensitive_as_bool(&v), serde_json::json!({"tags": {"Secret": true}, "cidrs": [false]}));
        assert_eq!(after_unknown(Some(&obj(vec![("a", Value::string("x"))]))), serde_json::json!({}));
        assert_eq!(sensitive_marks(None), serde_json::json!(false));
    }

    #[test]
    fn provider_names_take_terraforms_full_form() {
        assert_eq!(full_provider_name("aws", None), "registry.terraform.io/hashicorp/aws");
        assert_eq!(full_provider_name("aws", Some("hashicorp/aws")), "registry.terraform.io/hashicorp/aws");
        assert_eq!(full_provider_name("terraform", None), "terraform.io/builtin/terraform");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_093_843);
        assert_eq!(rfc3339(t), "2026-12-01T02:57:23Z");
    }
}
