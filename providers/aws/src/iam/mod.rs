//! Identity and Access Management: `aws_iam_role`, `aws_iam_role_policy`,
//! `aws_iam_role_policy_attachment` and the offline data source `aws_iam_policy_document`,
//! with terraform-provider-aws names and import ids, and what they share: policy documents
//! compared by meaning (IAM answers them URL-encoded and reformatted, so text never matches),
//! tags, and the errors that say an object is gone. IAM is global: one endpoint for every region.

use crate::common::*;
use aws_sdk_iam::types::Tag;
use infra_provider::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub mod policy_document;
pub mod role;
pub mod role_policy;
pub mod role_policy_attachment;

/// Tags for IAM calls, with the intent tag when `token` is given.
fn iam_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Result<Vec<Tag>, Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))) {
        out.push(Tag::builder().key(k).value(v).build().map_err(|e| Diagnostic::error("Invalid tag", e.to_string()))?);
    }
    Ok(out)
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().map(|t| (t.key().to_string(), t.value().to_string())))
}

/// Whether an error code says the role or policy does not exist.
fn gone(e: &dyn ProvideErrorMetadata) -> bool {
    e.code() == Some("NoSuchEntity")
}

/// A document as IAM returns it: percent-encoded (RFC 3986) JSON.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The meaning of a policy document: keys in any order, a one-element list the same as its
/// element, lists of names (actions, resources, principals, condition values) as sets, and
/// statements in any order. `None` when it is not JSON.
pub fn canonical_policy(text: &str) -> Option<Json> {
    fn norm(v: Json, key: &str) -> Json {
        match v {
            Json::Object(m) => Json::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let n = norm(v, &k);
                        (k, n)
                    })
                    .collect(),
            ),
            Json::Array(a) => {
                let mut items: Vec<Json> = a.into_iter().map(|x| norm(x, key)).collect();
                items.sort_by_key(|x| x.to_string());
                items.dedup();
                if items.len() == 1 && key != "Statement" {
                    items.pop().unwrap_or(Json::Null)
                } else {
                    Json::Array(items)
                }
            }
            other => other,
        }
    }
    let v: Json = serde_json::from_str(text).ok()?;
    let mut v = norm(v, "");
    // A single statement object is a list of one.
    if let Some(s) = v.get_mut("Statement").filter(|s| s.is_object()) {
        *s = Json::Array(vec![s.take()]);
    }
    Some(v)
}

/// Whether two policy documents mean the same (both JSON, same canonical form).
pub fn same_policy(a: &str, b: &str) -> bool {
    a == b || matches!((canonical_policy(a), canonical_policy(b)), (Some(x), Some(y)) if x == y)
}

/// The document to record for what AWS reports: the `known` text when it means the same (so a
/// reformatted configuration plans nothing), else AWS's, decoded.
pub fn policy_value(reported: &str, known: Option<&Value>, key: &str) -> Value {
    let reported = if reported.starts_with('%') || reported.contains("%22") || reported.contains("%7B") { url_decode(reported) } else { reported.to_string() };
    match known.and_then(|k| attrs::string(k, key)) {
        Some(k) if same_policy(&k, &reported) => known.and_then(|k| k.get_attr(key)).cloned().unwrap_or(Value::Null),
        _ => Value::string(reported),
    }
}

/// In a plan: the prior document when the configured one means the same.
pub fn plan_policy(planned: &mut Value, prior: Option<&Value>, key: &str) {
    let (Some(p), Value::Object(m)) = (prior.and_then(|p| attrs::string(p, key)), planned) else { return };
    if m.get(key).and_then(|v| v.deep_unmark().as_str().map(str::to_string)).is_some_and(|c| same_policy(&c, &p)) {
        m.insert(key.into(), Value::string(p));
    }
}

/// A configured document that is not JSON, as a diagnostic on `key`.
pub fn validate_policy(config: &Value, key: &str) -> Vec<Diagnostic> {
    match attrs::string(config, key) {
        Some(text) if serde_json::from_str::<Json>(&text).is_err() => {
            vec![Diagnostic::error("Invalid policy document", format!("{key} is not valid JSON; write it with jsonencode() or data.aws_iam_policy_document."))
                .with_path(attrs::at(key))]
        }
        _ => Vec::new(),
    }
}

/// A name for an object whose configuration sets neither `name` nor `name_prefix`: the prefix
/// (terraform-provider-aws's `terraform-` when none) and a suffix from the create token, so a
/// create sent again names the same object.
pub fn generated_name(p: &Value, token: &str) -> String {
    if let Some(n) = attrs::string(p, "name") {
        return n;
    }
    let prefix = attrs::string(p, "name_prefix").unwrap_or_else(|| "terraform-".into());
    let suffix: String = token.chars().filter(char::is_ascii_alphanumeric).take(26).collect();
    format!("{prefix}{suffix}")
}

/// Plans `name`: unknown until created when only `name_prefix` (or nothing) is set, kept from
/// the prior object on an update; `name_prefix` stays null when `name` is set.
pub fn plan_name(planned: &mut Value, prior: Option<&Value>) {
    let Value::Object(m) = planned else { return };
    if m.get("name").is_some_and(|v| !v.is_null() && !v.is_unknown()) {
        if m.get("name_prefix").is_some_and(Value::is_unknown) {
            m.insert("name_prefix".into(), prior.and_then(|p| p.get_attr("name_prefix")).cloned().unwrap_or(Value::Null));
        }
        return;
    }
    match prior {
        Some(p) => {
            m.insert("name".into(), p.get_attr("name").cloned().unwrap_or(Value::Unknown));
        }
        None => {
            m.insert("name".into(), Value::Unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reformatted_or_reordered_policy_means_the_same_and_another_does_not() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let b = "{\n  \"Statement\": {\n    \"Action\": [\"sts:AssumeRole\"],\n    \"Principal\": {\"Service\": [\"ecs-tasks.amazonaws.com\"]},\n    \"Effect\": \"Allow\"\n  },\n  \"Version\": \"2012-10-17\"\n}";
        assert!(same_policy(a, b));
        assert!(same_policy(a, &url_decode("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D")));
        assert!(!same_policy(a, &a.replace("ecs-tasks", "ec2")));
        assert!(!same_policy(a, "not json"));
        let two = r#"{"Statement":[{"Effect":"Allow","Action":["b","a"],"Resource":"*"},{"Effect":"Deny","Action":"c","Resource":"*"}]}"#;
        let swapped = r#"{"Statement":[{"Effect":"Deny","Action":"c","Resource":"*"},{"Resource":"*","Effect":"Allow","Action":["a","b"]}]}"#;
        assert!(same_policy(two, swapped));
    }
}
