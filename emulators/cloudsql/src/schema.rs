//! The JSON encodings of the API's messages: clients of the official libraries send enums as
//! numbers (`$alt=json;enum-encoding=int`) and may send int64 fields as numbers; the emulator
//! works on names and strings, and answers numbers to a client that asked for them. What each
//! field holds comes from the discovery document (`schema_gen.rs`, written by
//! `tools/gen_enums.py`).

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

#[rustfmt::skip]
#[allow(clippy::all)]
mod schema_gen;

pub enum Kind {
    Enum(&'static [(i32, &'static str)]),
    Int64,
    Ref(&'static str),
}

fn fields() -> &'static HashMap<(&'static str, &'static str), &'static Kind> {
    static MAP: OnceLock<HashMap<(&'static str, &'static str), &'static Kind>> = OnceLock::new();
    MAP.get_or_init(|| schema_gen::FIELDS.iter().map(|(s, f, k)| ((*s, *f), k)).collect())
}

/// The enum names a field of a schema accepts (empty when it is not a known enum).
pub fn enum_names(schema: &str, field: &str) -> Vec<&'static str> {
    match fields().get(&(schema, field)) {
        Some(Kind::Enum(table)) => table.iter().map(|(_, n)| *n).collect(),
        _ => Vec::new(),
    }
}

/// The name of an enum value given as a name or a number.
pub fn enum_name(schema: &str, field: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let n = n.as_i64()?;
            match fields().get(&(schema, field)) {
                Some(Kind::Enum(table)) => table.iter().find(|(k, _)| i64::from(*k) == n).map(|(_, name)| name.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Rewrites a request body of `schema` in place: enum numbers to names, int64 numbers to
/// strings. A number that names no value of its enum is left as is (validation refuses it).
pub fn normalize(schema: &str, v: &mut Value) {
    walk(schema, v, Direction::ToNames, 0);
}

/// Rewrites a response of `schema` in place for a client that asked for `enum-encoding=int`.
pub fn encode_ints(schema: &str, v: &mut Value) {
    walk(schema, v, Direction::ToInts, 0);
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    ToNames,
    ToInts,
}

fn walk(schema: &str, v: &mut Value, dir: Direction, depth: usize) {
    // The schemas nest a few levels; a deeper body is not one the API defines.
    if depth > 32 {
        return;
    }
    let Value::Object(map) = v else { return };
    for (key, value) in map.iter_mut() {
        let Some(kind) = fields().get(&(schema, key.as_str())) else { continue };
        match value {
            Value::Array(items) => items.iter_mut().for_each(|item| convert(kind, item, dir, depth)),
            other => convert(kind, other, dir, depth),
        }
    }
}

fn convert(kind: &Kind, v: &mut Value, dir: Direction, depth: usize) {
    match (kind, dir) {
        (Kind::Enum(table), Direction::ToNames) => {
            if let Some(n) = v.as_i64() {
                if let Some((_, name)) = table.iter().find(|(k, _)| i64::from(*k) == n) {
                    *v = Value::String(name.to_string());
                }
            }
        }
        (Kind::Enum(table), Direction::ToInts) => {
            if let Some(s) = v.as_str() {
                if let Some((n, _)) = table.iter().find(|(_, name)| *name == s) {
                    *v = Value::from(*n);
                }
            }
        }
        (Kind::Int64, Direction::ToNames) => {
            if let Value::Number(n) = v {
                *v = Value::String(n.to_string());
            }
        }
        (Kind::Int64, Direction::ToInts) => {}
        (Kind::Ref(inner), _) => walk(inner, v, dir, depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn enum_numbers_become_names_and_back() {
        let mut v = json!({"databaseVersion": 272, "settings": {"tier": "db-f1-micro", "edition": 2, "dataDiskSizeGb": 10,
            "ipConfiguration": {"sslMode": 2}}});
        super::normalize("DatabaseInstance", &mut v);
        assert_eq!(v["databaseVersion"], "POSTGRES_16");
        assert_eq!(v["settings"]["edition"], "ENTERPRISE");
        assert_eq!(v["settings"]["dataDiskSizeGb"], "10");
        assert_eq!(v["settings"]["ipConfiguration"]["sslMode"], "ENCRYPTED_ONLY");
        super::encode_ints("DatabaseInstance", &mut v);
        assert_eq!(v["databaseVersion"], 272);
        assert_eq!(v["settings"]["edition"], 2);
    }

    #[test]
    fn unknown_enum_numbers_stay_numbers() {
        let mut v = json!({"status": 99});
        super::normalize("Operation", &mut v);
        assert_eq!(v["status"], 99);
    }
}
