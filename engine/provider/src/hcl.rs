//! Writing configuration for an existing object: the body of the resource block a person would
//! write, from the type's schema and the object's attributes. Only arguments a user can set
//! appear (computed-only attributes never do), nulls and schema defaults are left out, and
//! nested blocks are written as blocks. A sensitive value is never written: the argument reads
//! `null # sensitive`, as Terraform writes it, for the user to fill from wherever the secret
//! lives (a variable, a secret store); the file holds no secret.

use crate::{Schema, Value};
use infra_lang::schema::Nesting;

/// The body of a block for `state` under `schema`, indented two spaces, one argument a line.
pub fn body(schema: &Schema, state: &Value) -> String {
    let mut out = String::new();
    write_body(&mut out, schema, state, 1);
    out
}

fn write_body(out: &mut String, schema: &Schema, state: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    let settable: Vec<(&String, &Value, bool)> = schema
        .attributes
        .iter()
        .filter(|(_, a)| a.required || a.optional)
        .filter_map(|(k, a)| state.get_attr(k).map(|v| (k, v, a)))
        .filter(|(_, v, a)| !v.is_null() && a.default.as_ref().is_none_or(|d| !d.equals(v)))
        .filter(|(_, v, _)| !is_empty_collection(v))
        .map(|(k, v, a)| (k, v, a.sensitive || v.contains_sensitive()))
        .collect();
    let width = settable.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    for (k, v, secret) in settable {
        if secret {
            out.push_str(&format!("{pad}{k:<width$} = null # sensitive\n"));
        } else {
            out.push_str(&format!("{pad}{k:<width$} = {}\n", expr(v, depth)));
        }
    }
    for (name, b) in &schema.blocks {
        let Some(v) = state.get_attr(name) else { continue };
        let items: Vec<&Value> = match (b.nesting, v.as_seq()) {
            (Nesting::Single, _) if v.as_map().is_some() => vec![v],
            (_, Some(items)) => items.iter().collect(),
            _ => Vec::new(),
        };
        for item in items {
            out.push_str(&format!("\n{pad}{name} {{\n"));
            write_body(out, &b.schema, item, depth + 1);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
}

fn is_empty_collection(v: &Value) -> bool {
    v.as_seq().is_some_and(<[Value]>::is_empty) || v.as_map().is_some_and(|m| m.is_empty())
}

/// A value as an HCL expression.
pub fn expr(v: &Value, depth: usize) -> String {
    let (v, _) = v.unmark();
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.normalized().to_string(),
        Value::String(s) => quote(s),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            format!("[{}]", items.iter().map(|i| expr(i, depth)).collect::<Vec<_>>().join(", "))
        }
        Value::Map(m) | Value::Object(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let pad = "  ".repeat(depth + 1);
            let width = m.keys().map(|k| key(k).len()).max().unwrap_or(0);
            let lines: Vec<String> = m.iter().map(|(k, v)| format!("{pad}{:<width$} = {}", key(k), expr(v, depth + 1))).collect();
            format!("{{\n{}\n{}}}", lines.join("\n"), "  ".repeat(depth))
        }
        Value::Sensitive(inner) => expr(inner, depth),
    }
}

fn key(k: &str) -> String {
    let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A quoted HCL string: escapes, and `${`/`%{` doubled so nothing is interpolated.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttrSchema, BlockSchema, Type};

    #[test]
    fn writes_settable_arguments_and_blocks_only() {
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String))
            .attr("port", AttrSchema::optional(Type::Number).default(Value::int(80)))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .block(
                "check",
                BlockSchema {
                    nesting: Nesting::Single,
                    min_items: 0,
                    max_items: 1,
                    force_new: false,
                    schema: Schema::new().attr("path", AttrSchema::optional(Type::String)),
                },
            );
        let state = Value::object([
            ("id", Value::string("x-1")),
            ("name", Value::string("a \"b\" ${c}")),
            ("port", Value::int(80)),
            ("tags", Value::Map([("Name".to_string(), Value::string("web"))].into())),
            ("check", Value::object([("path", Value::string("/health"))])),
        ]);
        let want = "  name = \"a \\\"b\\\" $${c}\"\n  tags = {\n    Name = \"web\"\n  }\n\n  check {\n    path = \"/health\"\n  }\n";
        assert_eq!(body(&schema, &state), want);
    }

    #[test]
    fn a_sensitive_value_is_never_written() {
        let schema = Schema::new()
            .attr("name", AttrSchema::required(Type::String))
            .attr("password", AttrSchema::optional(Type::String).sensitive())
            .attr("note", AttrSchema::optional(Type::String));
        let state = Value::object([("name", Value::string("app")), ("password", Value::string("hunter2")), ("note", Value::string("s3cr3t").sensitive())]);
        let written = body(&schema, &state);
        assert_eq!(written, "  name     = \"app\"\n  note     = null # sensitive\n  password = null # sensitive\n");
        assert!(!written.contains("hunter2") && !written.contains("s3cr3t"));
    }
}
