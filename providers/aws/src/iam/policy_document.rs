//! Data source `aws_iam_policy_document`: `statement` blocks (and source / override documents)
//! to a policy document, computed offline with no API call, in terraform-provider-aws's exact
//! form: `Version`, `Id`, `Statement`; each statement's keys in its order (`Sid`, `Effect`,
//! `Action`, `NotAction`, `Resource`, `NotResource`, `Principal`, `NotPrincipal`,
//! `Condition`); one value as a string, several in reverse order; two-space indentation;
//! `id` the CRC-32 of the text.

use crate::AwsProvider;
use infra_provider::*;
use serde_json::Value as Json;

pub struct PolicyDocument;

/// JSON with its keys in the order written.
#[derive(Clone, Debug, PartialEq)]
enum J {
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// Anything else a source document holds (numbers, booleans), as its JSON text.
    Raw(String),
}

fn quote(s: &str) -> String {
    // Go's encoder escapes <, > and & (terraform-provider-aws writes with it).
    serde_json::to_string(s).unwrap_or_default().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn write(j: &J, indent: Option<usize>, out: &mut String) {
    let (nl, pad, pad_in, colon) = match indent {
        Some(d) => ("\n", "  ".repeat(d), "  ".repeat(d + 1), ": "),
        None => ("", String::new(), String::new(), ":"),
    };
    let deeper = indent.map(|d| d + 1);
    match j {
        J::Str(s) => out.push_str(&quote(s)),
        J::Raw(s) => out.push_str(s),
        J::Arr(items) if items.is_empty() => out.push_str("[]"),
        J::Obj(items) if items.is_empty() => out.push_str("{}"),
        J::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                out.push_str(if i > 0 { "," } else { "" });
                out.push_str(nl);
                out.push_str(&pad_in);
                write(x, deeper, out);
            }
            out.push_str(nl);
            out.push_str(&pad);
            out.push(']');
        }
        J::Obj(items) => {
            out.push('{');
            for (i, (k, x)) in items.iter().enumerate() {
                out.push_str(if i > 0 { "," } else { "" });
                out.push_str(nl);
                out.push_str(&pad_in);
                out.push_str(&quote(k));
                out.push_str(colon);
                write(x, deeper, out);
            }
            out.push_str(nl);
            out.push_str(&pad);
            out.push('}');
        }
    }
}

fn from_json(v: &Json) -> J {
    match v {
        Json::String(s) => J::Str(s.clone()),
        Json::Array(a) => J::Arr(a.iter().map(from_json).collect()),
        Json::Object(m) => J::Obj(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
        other => J::Raw(other.to_string()),
    }
}

/// A list of names as terraform-provider-aws writes it: one as a string, several in reverse
/// order.
fn names(mut v: Vec<String>) -> Option<J> {
    match v.len() {
        0 => None,
        1 => v.pop().map(J::Str),
        _ => {
            v.sort();
            v.dedup();
            v.reverse();
            Some(J::Arr(v.into_iter().map(J::Str).collect()))
        }
    }
}

fn strings(v: &Value, k: &str) -> Vec<String> {
    attrs::strings(v, k)
}

fn blocks<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get_attr(k).and_then(Value::as_seq).unwrap_or(&[])
}

/// `principals` / `not_principals` blocks: `"*"` for the one everyone principal, else type →
/// identifiers, types sorted.
fn principals(items: &[Value]) -> Option<J> {
    if items.is_empty() {
        return None;
    }
    let mut by_type: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in items {
        by_type.entry(attrs::string(p, "type").unwrap_or_default()).or_default().extend(strings(p, "identifiers"));
    }
    if by_type.len() == 1 && by_type.get("*").is_some_and(|ids| ids.iter().all(|i| i == "*")) {
        return Some(J::Str("*".into()));
    }
    Some(J::Obj(by_type.into_iter().filter_map(|(t, ids)| Some((t, names(ids)?))).collect()))
}

/// `condition` blocks: test → variable → values, both sorted.
fn conditions(items: &[Value]) -> Option<J> {
    if items.is_empty() {
        return None;
    }
    let mut by_test: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>> = Default::default();
    for c in items {
        let test = attrs::string(c, "test").unwrap_or_default();
        let var = attrs::string(c, "variable").unwrap_or_default();
        by_test.entry(test).or_default().entry(var).or_default().extend(strings(c, "values"));
    }
    Some(J::Obj(by_test.into_iter().map(|(t, vars)| (t, J::Obj(vars.into_iter().filter_map(|(k, v)| Some((k, names(v)?))).collect()))).collect()))
}

fn statement(s: &Value) -> J {
    let mut out: Vec<(String, J)> = Vec::new();
    let mut put = |k: &str, v: Option<J>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    put("Sid", attrs::string(s, "sid").filter(|x| !x.is_empty()).map(J::Str));
    put("Effect", Some(J::Str(attrs::string(s, "effect").unwrap_or_else(|| "Allow".into()))));
    put("Action", names(strings(s, "actions")));
    put("NotAction", names(strings(s, "not_actions")));
    put("Resource", names(strings(s, "resources")));
    put("NotResource", names(strings(s, "not_resources")));
    put("Principal", principals(blocks(s, "principals")));
    put("NotPrincipal", principals(blocks(s, "not_principals")));
    put("Condition", conditions(blocks(s, "condition")));
    J::Obj(out)
}

/// A statement of a source or override document, with its keys in terraform-provider-aws's order.
fn reorder(s: &J) -> J {
    const ORDER: [&str; 9] = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];
    let J::Obj(items) = s else { return s.clone() };
    let mut out: Vec<(String, J)> = Vec::new();
    for k in ORDER {
        if let Some((_, v)) = items.iter().find(|(x, _)| x == k) {
            out.push((k.to_string(), v.clone()));
        }
    }
    J::Obj(out)
}

fn sid(s: &J) -> Option<String> {
    let J::Obj(items) = s else { return None };
    items.iter().find(|(k, _)| k == "Sid").and_then(|(_, v)| if let J::Str(s) = v { Some(s.clone()).filter(|s| !s.is_empty()) } else { None })
}

/// Adds `s`, replacing the statement of the same `Sid` when there is one.
fn merge(into: &mut Vec<J>, s: J) {
    match sid(&s).and_then(|id| into.iter().position(|x| sid(x).as_deref() == Some(&id))) {
        Some(i) => into[i] = s,
        None => into.push(s),
    }
}

/// The statements of a document given as JSON text.
fn parsed_statements(text: &str, what: &str) -> Result<Vec<J>, Diagnostic> {
    let v: Json = serde_json::from_str(text)
        .map_err(|e| Diagnostic::error("Invalid policy document", format!("{what} is not valid JSON: {e}.")).with_path(attrs::at(what)))?;
    Ok(match v.get("Statement") {
        Some(Json::Array(a)) => a.iter().map(|s| reorder(&from_json(s))).collect(),
        Some(one @ Json::Object(_)) => vec![reorder(&from_json(one))],
        _ => Vec::new(),
    })
}

/// CRC-32 (IEEE), terraform-provider-aws's `StringHashcode`.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The document of a configuration: (pretty, minified).
fn document(cfg: &Value) -> Result<(String, String), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut list: Vec<J> = Vec::new();
    let mut version = None;
    let sources: Vec<(String, &str)> = attrs::string(cfg, "source_json")
        .map(|t| (t, "source_json"))
        .into_iter()
        .chain(strings(cfg, "source_policy_documents").into_iter().map(|t| (t, "source_policy_documents")))
        .collect();
    for (text, what) in &sources {
        match parsed_statements(text, what) {
            Ok(st) => {
                if version.is_none() {
                    version = serde_json::from_str::<Json>(text).ok().and_then(|v| v.get("Version").and_then(Json::as_str).map(str::to_string));
                }
                for s in st {
                    if let Some(id) = sid(&s).filter(|id| list.iter().any(|x| sid(x).as_deref() == Some(id))) {
                        diags.push(
                            Diagnostic::error(
                                "Duplicate statement id",
                                format!("the source documents hold two statements with Sid {id:?}; Sids must be unique."),
                            )
                            .with_path(attrs::at(what)),
                        );
                    }
                    list.push(s);
                }
            }
            Err(d) => diags.push(d),
        }
    }
    for s in blocks(cfg, "statement") {
        merge(&mut list, statement(s));
    }
    let overrides: Vec<(String, &str)> = attrs::string(cfg, "override_json")
        .map(|t| (t, "override_json"))
        .into_iter()
        .chain(strings(cfg, "override_policy_documents").into_iter().map(|t| (t, "override_policy_documents")))
        .collect();
    for (text, what) in &overrides {
        match parsed_statements(text, what) {
            Ok(st) => st.into_iter().for_each(|s| merge(&mut list, s)),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut doc = vec![("Version".to_string(), J::Str(attrs::string(cfg, "version").or(version).unwrap_or_else(|| "2012-10-17".into())))];
    if let Some(id) = attrs::string(cfg, "policy_id").filter(|s| !s.is_empty()) {
        doc.push(("Id".into(), J::Str(id)));
    }
    if !list.is_empty() {
        doc.push(("Statement".into(), J::Arr(list)));
    }
    let doc = J::Obj(doc);
    let (mut pretty, mut minified) = (String::new(), String::new());
    write(&doc, Some(0), &mut pretty);
    write(&doc, None, &mut minified);
    Ok((pretty, minified))
}

#[async_trait::async_trait]
impl DataSource<AwsProvider> for PolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }

    fn schema(&self) -> Schema {
        let list = |t| Type::List(Box::new(t));
        let set = |t| Type::Set(Box::new(t));
        let many = |schema| BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema };
        let principal = Schema::new().attr("type", AttrSchema::required(Type::String)).attr("identifiers", AttrSchema::required(set(Type::String)));
        let condition = Schema::new()
            .attr("test", AttrSchema::required(Type::String))
            .attr("variable", AttrSchema::required(Type::String))
            .attr("values", AttrSchema::required(list(Type::String)));
        let statement = Schema::new()
            .attr("sid", AttrSchema::optional(Type::String))
            .attr("effect", AttrSchema::optional(Type::String))
            .attr("actions", AttrSchema::optional(set(Type::String)))
            .attr("not_actions", AttrSchema::optional(set(Type::String)))
            .attr("resources", AttrSchema::optional(set(Type::String)))
            .attr("not_resources", AttrSchema::optional(set(Type::String)))
            .block("principals", many(principal.clone()))
            .block("not_principals", many(principal))
            .block("condition", many(condition));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("json", AttrSchema::computed(Type::String))
            .attr("minified_json", AttrSchema::computed(Type::String))
            .attr("version", AttrSchema::optional(Type::String))
            .attr("policy_id", AttrSchema::optional(Type::String))
            .attr("source_json", AttrSchema::optional(Type::String))
            .attr("override_json", AttrSchema::optional(Type::String))
            .attr("source_policy_documents", AttrSchema::optional(list(Type::String)))
            .attr("override_policy_documents", AttrSchema::optional(list(Type::String)))
            .block("statement", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: usize::MAX, force_new: false, schema: statement })
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (i, s) in blocks(config, "statement").iter().enumerate() {
            if let Some(e) = attrs::string(s, "effect").filter(|e| e != "Allow" && e != "Deny") {
                out.push(Diagnostic::error("Invalid value", format!("effect is {e:?}; expected Allow or Deny.")).with_path(vec![
                    PathStep::Attr("statement".into()),
                    PathStep::Index(i as i64),
                    PathStep::Attr("effect".into()),
                ]));
            }
        }
        out
    }

    /// No API call: the document is computed from the configuration alone.
    async fn read(&self, _c: &AwsProvider, config: &Value) -> Outcome<Value> {
        let (json, minified) = document(config).map_err(Errors::from)?;
        let mut v = config.clone();
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), Value::string(crc32(json.as_bytes()).to_string()));
            m.insert("json".into(), Value::string(json));
            m.insert("minified_json".into(), Value::string(minified));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> Value {
        Value::set(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn statements_become_terraform_provider_aws_json() {
        let principal = Value::object([("type", Value::string("Service")), ("identifiers", set(&["ecs-tasks.amazonaws.com"]))]);
        let s1 = Value::object([("actions", set(&["sts:AssumeRole"])), ("principals", Value::set(vec![principal]))]);
        let cond = Value::object([
            ("test", Value::string("StringEquals")),
            ("variable", Value::string("aws:SourceAccount")),
            ("values", Value::List(vec![Value::string("123")])),
        ]);
        let s2 = Value::object([
            ("sid", Value::string("Read")),
            ("effect", Value::string("Deny")),
            ("actions", set(&["secretsmanager:GetSecretValue", "kms:Decrypt"])),
            ("resources", set(&["*"])),
            ("condition", Value::set(vec![cond])),
        ]);
        let cfg = Value::object([("statement", Value::List(vec![s1, s2]))]);
        let (json, minified) = document(&cfg).unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(
            json,
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"sts:AssumeRole\",\n      \"Principal\": {\n        \"Service\": \"ecs-tasks.amazonaws.com\"\n      }\n    },\n    {\n      \"Sid\": \"Read\",\n      \"Effect\": \"Deny\",\n      \"Action\": [\n        \"secretsmanager:GetSecretValue\",\n        \"kms:Decrypt\"\n      ],\n      \"Resource\": \"*\",\n      \"Condition\": {\n        \"StringEquals\": {\n          \"aws:SourceAccount\": \"123\"\n        }\n      }\n    }\n  ]\n}"
        );
        assert_eq!(serde_json::from_str::<Json>(&json).ok(), serde_json::from_str::<Json>(&minified).ok());
        assert!(!minified.contains('\n') && !minified.contains(": "));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);

        // An override replaces the statement of the same Sid.
        let over = r#"{"Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let cfg2 = match cfg {
            Value::Object(mut m) => {
                m.insert("override_policy_documents".into(), Value::List(vec![Value::string(over)]));
                Value::Object(m)
            }
            other => other,
        };
        let (json, _) = document(&cfg2).unwrap_or_else(|d| panic!("{d:?}"));
        assert!(json.contains("s3:GetObject") && !json.contains("kms:Decrypt"), "{json}");
    }
}
