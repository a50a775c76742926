//! Cloud SQL: what its three types share. Ids in Terraform's import formats, the project an
//! object lives in, JSON fields read as values (int64 fields come as strings), and the
//! planning of computed attributes inside nested blocks.

pub mod database;
pub mod database_instance;
pub mod user;

use crate::GoogleProvider;
use infra_provider::*;
use serde_json::Value as Json;

/// The project of an object: its own `project`, else the provider's.
pub fn project_of(c: &GoogleProvider, v: &Value) -> Result<String, Diagnostic> {
    if let Some(p) = attrs::string(v, "project").filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    let p = c.client()?.api.project.clone();
    if p.is_empty() {
        return Err(Diagnostic::error("No Google project", "Set project in the google provider block or the resource, or GOOGLE_PROJECT in the environment.")
            .with_path(attrs::at("project")));
    }
    Ok(p)
}

/// The parts of an import id in one of Terraform's formats: `projects/P/instances/I[/kind/X]`,
/// `P/I[/X]` or (with the provider's project) `I[/X]`. `kind` is `databases` or `users`
/// (None for an instance). Returns (project or None, instance, child).
pub fn parse_id(id: &str, kind: Option<&str>) -> Result<(Option<String>, String, Option<String>), Diagnostic> {
    let parts: Vec<&str> = id.split('/').collect();
    let bad = || {
        let formats = match kind {
            None => "projects/P/instances/I, P/I or I",
            Some("databases") => "projects/P/instances/I/databases/D, instances/I/databases/D, P/I/D or I/D",
            Some(_) => "projects/P/instances/I/users/U, P/I/U, P/I/HOST/U or I/U",
        };
        Diagnostic::error("Invalid import id", format!("{id:?} is not an id of this type; use {formats}."))
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let s = |x: &str| x.to_string();
    match (kind, parts.as_slice()) {
        (None, ["projects", p, "instances", i]) | (None, [p, i]) => Ok((Some(s(p)), s(i), None)),
        (None, [i]) => Ok((None, s(i), None)),
        (Some(k), ["projects", p, "instances", i, kk, x]) if *kk == k => Ok((Some(s(p)), s(i), Some(s(x)))),
        (Some(k), ["instances", i, kk, x]) if *kk == k => Ok((None, s(i), Some(s(x)))),
        // The host of a MySQL user (P/I/HOST/U) plays no part for PostgreSQL.
        (Some("users"), [p, i, _host, x]) => Ok((Some(s(p)), s(i), Some(s(x)))),
        (Some(_), [p, i, x]) => Ok((Some(s(p)), s(i), Some(s(x)))),
        (Some(_), [i, x]) => Ok((None, s(i), Some(s(x)))),
        _ => Err(bad()),
    }
}

/// The seed of an import: the object's key attributes (project only when the id names it).
pub fn import_seed(id: &str, kind: Option<&str>, child_key: &str) -> Outcome<Value> {
    let (project, instance, child) = parse_id(id, kind)?;
    let mut m = std::collections::BTreeMap::new();
    if let Some(p) = project {
        m.insert("project".to_string(), Value::string(p));
    }
    match child {
        Some(x) => {
            m.insert("instance".into(), Value::string(instance));
            m.insert(child_key.into(), Value::string(x));
        }
        None => {
            m.insert("name".into(), Value::string(instance));
        }
    }
    Ok(Value::Object(m.into()))
}

pub fn js(j: &Json, key: &str) -> Value {
    j.get(key).and_then(Json::as_str).map(Value::string).unwrap_or(Value::Null)
}

pub fn jb(j: &Json, key: &str) -> Value {
    j.get(key).and_then(Json::as_bool).map(Value::Bool).unwrap_or(Value::Null)
}

/// An integer field: JSON numbers, or the strings int64 fields come as.
pub fn ji(j: &Json, key: &str) -> Value {
    match j.get(key) {
        Some(Json::Number(n)) => n.as_i64().map(Value::int).unwrap_or(Value::Null),
        Some(Json::String(s)) => s.parse::<i64>().map(Value::int).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `v`, or `d` when `v` is null: a default the API leaves out of its answer.
pub fn or(v: Value, d: Value) -> Value {
    if v.is_null() {
        d
    } else {
        v
    }
}

/// Plans the computed attributes of nested blocks, which the default rule leaves as
/// configured: an optional+computed attribute left null takes the prior block's value at the
/// same position (an update), or is unknown (a create). Defaults of nested attributes are
/// planned too.
pub fn plan_nested(schema: &Schema, config: &Value, prior: Option<&Value>) -> Value {
    let Value::Object(m) = config else { return config.clone() };
    let mut m = m.clone();
    for (name, a) in &schema.attributes {
        let v = m.get(name).cloned().unwrap_or(Value::Null);
        if !v.is_null() {
            continue;
        }
        if let Some(d) = &a.default {
            m.insert(name.clone(), d.clone());
        } else if a.computed {
            let old = prior.and_then(|p| p.get_attr(name)).cloned();
            m.insert(
                name.clone(),
                match old {
                    Some(o) if !o.is_null() || prior.is_some() => o,
                    _ => Value::Unknown,
                },
            );
        }
    }
    for (name, b) in &schema.blocks {
        let Some(items) = m.get(name).and_then(Value::as_seq).map(<[Value]>::to_vec) else { continue };
        let old = prior.and_then(|p| p.get_attr(name)).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
        let planned: Vec<Value> =
            items.iter().enumerate().map(|(i, it)| plan_nested(&b.schema, it, if b.nesting == Nesting::Set { None } else { old.get(i) })).collect();
        m.insert(name.clone(), if b.nesting == Nesting::Set { Value::set(planned) } else { Value::List(planned) });
    }
    Value::Object(m)
}

/// The first element of a list block (`settings`, `backup_configuration`).
pub fn first(v: &Value, name: &str) -> Option<Value> {
    v.get_attr(name).and_then(Value::as_seq).and_then(|s| s.first().cloned())
}

/// A `Nesting::List` block `max_items = 1`.
pub fn one(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema }
}

pub fn many(nesting: Nesting, schema: Schema) -> BlockSchema {
    BlockSchema { nesting, min_items: 0, max_items: 0, force_new: false, schema }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_import_ids_are_read() {
        let ok = |id: &str, kind| parse_id(id, kind).unwrap_or_else(|d| panic!("{}", d.detail));
        assert_eq!(ok("projects/p/instances/i", None), (Some("p".into()), "i".into(), None));
        assert_eq!(ok("p/i", None), (Some("p".into()), "i".into(), None));
        assert_eq!(ok("i", None), (None, "i".into(), None));
        assert_eq!(ok("projects/p/instances/i/databases/d", Some("databases")), (Some("p".into()), "i".into(), Some("d".into())));
        assert_eq!(ok("instances/i/databases/d", Some("databases")), (None, "i".into(), Some("d".into())));
        assert_eq!(ok("p/i/d", Some("databases")), (Some("p".into()), "i".into(), Some("d".into())));
        assert_eq!(ok("i/d", Some("databases")), (None, "i".into(), Some("d".into())));
        assert_eq!(ok("p/i/u", Some("users")), (Some("p".into()), "i".into(), Some("u".into())));
        assert_eq!(ok("p/i/%/u", Some("users")), (Some("p".into()), "i".into(), Some("u".into())));
        let e = parse_id("a/b/c", None).err().map(|d| d.detail).unwrap_or_default();
        assert!(e.contains("projects/P/instances/I, P/I or I"), "{e}");
        assert!(parse_id("p//d", Some("databases")).is_err());
    }

    #[test]
    fn int64_fields_come_as_strings() {
        let j = serde_json::json!({"a": "10", "b": 7, "c": "x"});
        assert_eq!(ji(&j, "a").as_i64(), Some(10));
        assert_eq!(ji(&j, "b").as_i64(), Some(7));
        assert!(ji(&j, "c").is_null() && ji(&j, "d").is_null());
    }
}
