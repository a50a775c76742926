//! Decoding a configuration body against a schema into one object value: arguments are
//! evaluated and converted to their declared types, nested and `dynamic` blocks expanded,
//! required ones checked. Unknown names are reported before evaluation by the engine's
//! preflight check against the same schema.

use crate::config::{traversal_text, Block, Body};
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{eval, Phase, Scope};
use crate::schema::{Nesting, Schema};
use crate::source::Span;
use crate::types::convert;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A scope that adds one name (a `dynamic` block's iterator) on top of another.
struct Layered<'a> {
    parent: &'a dyn Scope,
    name: String,
    value: Value,
}

impl Scope for Layered<'_> {
    fn resolve(&self, root: &str, attrs: &[String], span: Option<Span>) -> Result<(Value, usize), Diagnostic> {
        if root == self.name {
            return Ok((self.value.clone(), 0));
        }
        self.parent.resolve(root, attrs, span)
    }
    fn base_dir(&self) -> PathBuf {
        self.parent.base_dir()
    }
    fn phase(&self) -> Phase {
        self.parent.phase()
    }
    fn file_reads(&self) -> Option<std::sync::Arc<crate::funcs::FileReads>> {
        self.parent.file_reads()
    }
}

/// Decodes `body` into an object holding every attribute and block of `schema` (absent
/// optional ones as null). `what` names the object in messages, e.g. `aws_vpc.main`.
pub fn decode_body(body: &Body, schema: &Schema, scope: &dyn Scope, block_span: Option<Span>, what: &str) -> (Value, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = BTreeMap::new();
    // Blocks written as one argument (attributes as blocks), with the argument's span.
    let mut as_attr: BTreeMap<String, (Value, Option<Span>)> = BTreeMap::new();
    for attr in &body.attrs {
        if let Some(ty) = schema.attr_blocks.contains(&attr.name).then(|| schema.block_collection_type(&attr.name)).flatten() {
            match eval(&attr.expr, scope).and_then(|v| {
                convert(&v, &ty).map_err(|e| {
                    Diagnostic::error("Incorrect attribute value type", format!("Inappropriate value for attribute \"{}\": {e}.", attr.name))
                        .with_subject(attr.expr.span())
                })
            }) {
                Ok(v) => {
                    as_attr.insert(attr.name.clone(), (v, attr.span.clone()));
                }
                Err(d) => diags.push(d.with_address(what)),
            }
            continue;
        }
        // Unknown and computed-only names were reported before evaluation (preflight).
        let Some(spec) = schema.attributes.get(&attr.name) else { continue };
        if !spec.required && !spec.optional {
            continue;
        }
        match eval(&attr.expr, scope) {
            Ok(v) => match convert(&v, &spec.ty) {
                Ok(v) => {
                    let v = if spec.sensitive && !v.is_null() { v.sensitive() } else { v };
                    out.insert(attr.name.clone(), v);
                }
                Err(e) => diags.push(
                    Diagnostic::error("Incorrect attribute value type", format!("Inappropriate value for attribute \"{}\": {e}.", attr.name))
                        .with_subject(attr.expr.span())
                        .with_address(what),
                ),
            },
            Err(d) => diags.push(d.with_address(what)),
        }
    }
    for (name, spec) in &schema.attributes {
        if out.contains_key(name) || body.attr(name).is_some() {
            continue;
        }
        if spec.required {
            diags.push(
                Diagnostic::error("Missing required argument", format!("The argument \"{name}\" is required, but no definition was found in {what}."))
                    .with_subject(block_span.clone())
                    .with_address(what),
            );
        }
        out.insert(name.clone(), Value::Null);
    }
    // Nested blocks, in source order, with dynamic blocks expanded in place.
    let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut unknown_dynamic: Vec<String> = Vec::new();
    for block in &body.blocks {
        if block.kind == "dynamic" {
            match expand_dynamic(block, schema, scope, what, &mut diags) {
                Some((ty, Some(items))) => by_type.entry(ty).or_default().extend(items),
                Some((ty, None)) => unknown_dynamic.push(ty),
                None => {}
            }
            continue;
        }
        let Some(bs) = schema.blocks.get(&block.kind) else { continue };
        let (v, d) = decode_body(&block.body, &bs.schema, scope, block.span.clone(), what);
        diags.extend(d);
        by_type.entry(block.kind.clone()).or_default().push(v);
    }
    for (name, bs) in &schema.blocks {
        let written_as_blocks = unknown_dynamic.contains(name) || by_type.contains_key(name);
        if let Some((v, span)) = as_attr.remove(name) {
            if written_as_blocks {
                diags.push(
                    Diagnostic::error(
                        "Conflicting definitions",
                        format!(
                            "\"{name}\" is set both as an argument and with blocks in {what}: use one form, the argument (\"{name} = [...]\") or the blocks."
                        ),
                    )
                    .with_subject(span)
                    .with_address(what),
                );
            }
            out.insert(name.clone(), v);
            continue;
        }
        if unknown_dynamic.contains(name) {
            out.insert(name.clone(), Value::Unknown);
            continue;
        }
        if !written_as_blocks && schema.attr_blocks.contains(name) {
            // Neither blocks nor the argument: not managed, unlike `name = []`.
            out.insert(name.clone(), Value::Null);
            continue;
        }
        let items = by_type.remove(name).unwrap_or_default();
        if items.len() < bs.min_items || items.len() > bs.max_items {
            let detail = if bs.max_items == bs.min_items {
                format!("{what} needs exactly {} \"{name}\" block{}, but has {}.", bs.min_items, if bs.min_items == 1 { "" } else { "s" }, items.len())
            } else if items.len() < bs.min_items {
                format!("{what} needs at least {} \"{name}\" block{}, but has {}.", bs.min_items, if bs.min_items == 1 { "" } else { "s" }, items.len())
            } else {
                format!("{what} allows at most {} \"{name}\" block{}, but has {}.", bs.max_items, if bs.max_items == 1 { "" } else { "s" }, items.len())
            };
            diags.push(
                Diagnostic::error(if items.len() < bs.min_items { "Insufficient blocks" } else { "Too many blocks" }, detail)
                    .with_subject(block_span.clone())
                    .with_address(what),
            );
        }
        let v = match bs.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(items),
            Nesting::Set => Value::set(items),
        };
        out.insert(name.clone(), v);
    }
    (Value::Object(out.into()), diags)
}

/// Expands one `dynamic "type" { for_each = ...; content { ... } }` block. Returns the block
/// type and its items, or `None` items when the collection is not known yet.
fn expand_dynamic(block: &Block, schema: &Schema, scope: &dyn Scope, what: &str, diags: &mut Diagnostics) -> Option<(String, Option<Vec<Value>>)> {
    let Some(ty) = block.labels.first().cloned() else {
        diags.push(
            Diagnostic::error("Missing block label", "A dynamic block needs the block type as its label, like dynamic \"ingress\".")
                .with_subject(block.span.clone()),
        );
        return None;
    };
    let Some(bs) = schema.blocks.get(&ty) else { return None };
    let Some(for_each) = block.body.attr("for_each") else {
        diags.push(Diagnostic::error("Missing required argument", "A dynamic block needs a for_each argument.").with_subject(block.span.clone()));
        return None;
    };
    let Some(content) = block.body.blocks.iter().find(|b| b.kind == "content") else {
        diags.push(
            Diagnostic::error("Missing content block", "A dynamic block needs a content block with the generated block's arguments.")
                .with_subject(block.span.clone()),
        );
        return None;
    };
    let iterator = block.body.attr("iterator").and_then(|a| traversal_text(&a.expr)).unwrap_or_else(|| ty.clone());
    let coll = match eval(&for_each.expr, scope) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let (coll, _) = coll.into_unmarked();
    let pairs: Vec<(Value, Value)> = match coll {
        Value::Unknown => return Some((ty, None)),
        Value::Null => Vec::new(),
        Value::List(items) | Value::Tuple(items) => items.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
        Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
        Value::Map(m) | Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        other => {
            diags.push(
                Diagnostic::error("Invalid dynamic for_each value", format!("Cannot use a {} value in for_each. A collection is required.", other.type_name()))
                    .with_subject(for_each.expr.span()),
            );
            return None;
        }
    };
    let mut items = Vec::new();
    for (k, v) in pairs {
        let layered = Layered { parent: scope, name: iterator.clone(), value: Value::object([("key", k), ("value", v)]) };
        let (item, d) = decode_body(&content.body, &bs.schema, &layered, content.span.clone(), what);
        diags.extend(d);
        items.push(item);
    }
    Some((ty, Some(items)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::MapScope;
    use crate::schema::{AttrSchema, BlockSchema};
    use crate::source::SourceMap;
    use crate::types::Type;

    /// The body of the first block in `src`.
    fn body(src: &str) -> Body {
        let sources = SourceMap::new();
        let (file, parsed) = crate::parse::parse_source(&sources, std::path::Path::new("t.tf"), src);
        let converted = crate::config::convert_body(file, &parsed.unwrap());
        converted.blocks.into_iter().next().unwrap().body
    }

    fn sg_schema() -> Schema {
        let rule = Schema::new().attr("port", AttrSchema::required(Type::Number)).attr("cidr", AttrSchema::optional(Type::String));
        Schema::new()
            .attr("name", AttrSchema::required(Type::String))
            .block("ingress", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: usize::MAX, force_new: false, schema: rule })
    }

    fn scope(ports: Value) -> MapScope {
        MapScope { names: [("ports".to_string(), ports)].into_iter().collect(), base_dir: std::env::temp_dir(), phase: Phase::Plan, reads: None }
    }

    #[test]
    fn dynamic_blocks_expand_with_their_iterator_next_to_static_ones() {
        let b = body(
            r#"resource "x" "y" {
  name = "web"
  ingress {
    port = 22
  }
  dynamic "ingress" {
    for_each = ports
    iterator = p
    content {
      port = p.value
      cidr = "10.0.${p.key}.0/24"
    }
  }
}"#,
        );
        let (v, d) = decode_body(&b, &sg_schema(), &scope(Value::Tuple(vec![Value::int(80), Value::int(443)])), None, "x.y");
        assert!(!d.has_errors(), "{d:?}");
        let ingress = v.get_attr("ingress").and_then(Value::as_seq).unwrap();
        let ports: Vec<i64> = ingress.iter().map(|i| i.get_attr("port").and_then(Value::as_i64).unwrap()).collect();
        assert_eq!(ports, vec![22, 80, 443]);
        assert_eq!(ingress[2].get_attr("cidr").and_then(|c| c.as_str().map(str::to_string)).as_deref(), Some("10.0.1.0/24"));
        assert!(ingress[0].get_attr("cidr").unwrap().is_null());
    }

    #[test]
    fn a_dynamic_block_over_an_unknown_collection_is_unknown() {
        let b = body(
            "resource \"x\" \"y\" {\n  name = \"web\"\n  dynamic \"ingress\" {\n    for_each = ports\n    content {\n      port = ingress.value\n    }\n  }\n}",
        );
        let (v, d) = decode_body(&b, &sg_schema(), &scope(Value::Unknown), None, "x.y");
        assert!(!d.has_errors());
        assert!(v.get_attr("ingress").unwrap().is_unknown());
    }

    #[test]
    fn wrong_types_and_missing_arguments_are_reported_together() {
        let b = body("resource \"x\" \"y\" {\n  ingress {\n    port = \"http\"\n  }\n}");
        let (_, d) = decode_body(&b, &sg_schema(), &scope(Value::Null), None, "x.y");
        let summaries: Vec<&str> = d.iter().map(|x| x.summary.as_str()).collect();
        assert_eq!(summaries, vec!["Missing required argument", "Incorrect attribute value type"], "{d:?}");
    }

    fn sg_attr_schema() -> Schema {
        let rule = Schema::new().attr("port", AttrSchema::required(Type::Number)).attr("cidr", AttrSchema::optional(Type::String));
        Schema::new()
            .attr("name", AttrSchema::required(Type::String))
            .attr_as_blocks("ingress", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: rule })
    }

    #[test]
    fn a_block_written_as_an_argument_decodes_as_the_same_blocks_would() {
        let schema = sg_attr_schema();
        let as_blocks =
            body("resource \"x\" \"y\" {\n  name = \"web\"\n  ingress {\n    port = 22\n  }\n  ingress {\n    port = 80\n    cidr = \"10.0.0.0/8\"\n  }\n}");
        let as_attr =
            body("resource \"x\" \"y\" {\n  name = \"web\"\n  ingress = [\n    { port = 80, cidr = \"10.0.0.0/8\" },\n    { port = 22, cidr = null },\n  ]\n}");
        let (a, d1) = decode_body(&as_blocks, &schema, &scope(Value::Null), None, "x.y");
        let (b, d2) = decode_body(&as_attr, &schema, &scope(Value::Null), None, "x.y");
        assert!(!d1.has_errors() && !d2.has_errors(), "{d1:?} {d2:?}");
        assert_eq!(a.get_attr("ingress").and_then(Value::as_seq).map(<[Value]>::len), Some(2));
        assert!(a.get_attr("ingress").unwrap().equals(b.get_attr("ingress").unwrap()), "{a:?}\n{b:?}");
    }

    #[test]
    fn an_empty_argument_is_an_empty_set_where_nothing_written_is_null() {
        let schema = sg_attr_schema();
        let (empty, d) = decode_body(&body("resource \"x\" \"y\" {\n  name = \"web\"\n  ingress = []\n}"), &schema, &scope(Value::Null), None, "x.y");
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(empty.get_attr("ingress").and_then(Value::as_seq).map(<[Value]>::len), Some(0));
        let (absent, d) = decode_body(&body("resource \"x\" \"y\" {\n  name = \"web\"\n}"), &schema, &scope(Value::Null), None, "x.y");
        assert!(!d.has_errors(), "{d:?}");
        assert!(absent.get_attr("ingress").unwrap().is_null());
        // An ordinary block left out is still empty, not null.
        let (plain, _) = decode_body(&body("resource \"x\" \"y\" {\n  name = \"web\"\n}"), &sg_schema(), &scope(Value::Null), None, "x.y");
        assert_eq!(plain.get_attr("ingress").and_then(Value::as_seq).map(<[Value]>::len), Some(0));
    }

    #[test]
    fn the_argument_form_needs_every_field_and_cannot_be_mixed_with_blocks() {
        let schema = sg_attr_schema();
        let (_, d) = decode_body(&body("resource \"x\" \"y\" {\n  name = \"web\"\n  ingress = [{ port = 22 }]\n}"), &schema, &scope(Value::Null), None, "x.y");
        let errs: Vec<String> = d.iter().map(|x| format!("{}: {}", x.summary, x.detail)).collect();
        assert_eq!(
            errs,
            vec!["Incorrect attribute value type: Inappropriate value for attribute \"ingress\": element 0: attribute \"cidr\" is required.".to_string()]
        );
        let src = "resource \"x\" \"y\" {\n  name = \"web\"\n  ingress = []\n  ingress {\n    port = 22\n  }\n}";
        let mixed = body(src);
        let (_, d) = decode_body(&mixed, &schema, &scope(Value::Null), None, "x.y");
        let summaries: Vec<&str> = d.iter().map(|x| x.summary.as_str()).collect();
        assert_eq!(summaries, vec!["Conflicting definitions"], "{d:?}");
        // At the argument.
        assert_eq!(d.iter().next().and_then(|x| x.subject.as_ref()).map(|s| s.range.start), src.find("ingress = []"), "{d:?}");
    }
}
