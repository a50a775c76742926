//! `infra providers` and `infra providers schema --json`: the built-in providers, and their
//! schemas in the shape `terraform providers schema -json` prints (editors and linters read
//! it): `format_version`, then per provider address its `provider` block and every resource
//! type's and data source's `block` with `attributes` (cty types, required / optional /
//! computed / sensitive) and `block_types` (`nesting_mode`, `min_items`, `max_items`).

use super::Cx;
use crate::json::values::full_provider_name;
use crate::ops;
use crate::out::Exit;
use infra_lang::types::Type;
use infra_provider::{AttrSchema, Nesting, Schema};
use serde_json::{json, Map, Value as Json};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Print the schemas of the built-in providers.
    Schema(SchemaArgs),
}

#[derive(clap::Args)]
pub struct SchemaArgs {
    /// Print machine-readable JSON (the only format, as in Terraform; required).
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let registry = ops::stack::registry();
    match a.command {
        None => {
            println!("Providers built into infra:");
            for name in registry.names() {
                println!("- provider[{}]", full_provider_name(name, None));
            }
            Ok(0)
        }
        Some(Sub::Schema(s)) => {
            if !s.json {
                return Err(cx.fail(infra_lang::diag::Diagnostic::error(
                    "The --json flag is required",
                    "The providers schema command prints JSON only: run `infra providers schema --json`.",
                )));
            }
            let mut schemas = Map::new();
            for name in registry.names() {
                let Some(factory) = registry.get(name) else { continue };
                let s = factory().schema();
                let resources: Map<String, Json> = s.resources.iter().map(|(t, s)| (t.clone(), versioned(s))).collect();
                let data: Map<String, Json> = s.data_sources.iter().map(|(t, s)| (t.clone(), versioned(s))).collect();
                schemas.insert(
                    full_provider_name(name, None),
                    json!({"provider": versioned(&s.provider), "resource_schemas": resources, "data_source_schemas": data}),
                );
            }
            println!("{}", json!({"format_version": "1.0", "provider_schemas": schemas}));
            Ok(0)
        }
    }
}

fn versioned(s: &Schema) -> Json {
    json!({"version": 0, "block": block(s)})
}

/// One schema block as Terraform writes it: flags only when true, item limits only when set.
pub fn block(s: &Schema) -> Json {
    let mut out = Map::new();
    // A block that may be written as an argument is, in Terraform's schema, an optional and
    // computed attribute holding a collection of objects.
    let as_attributes: Vec<(String, AttrSchema)> =
        s.attr_blocks.iter().filter_map(|n| Some((n.clone(), AttrSchema::optional_computed(s.block_collection_type(n)?)))).collect();
    if !s.attributes.is_empty() || !as_attributes.is_empty() {
        let attrs: Map<String, Json> = s
            .attributes
            .iter()
            .chain(as_attributes.iter().map(|(n, a)| (n, a)))
            .map(|(n, a)| {
                let mut m = Map::new();
                m.insert("type".into(), cty(&a.ty));
                for (flag, on) in [("required", a.required), ("optional", a.optional), ("computed", a.computed), ("sensitive", a.sensitive)] {
                    if on {
                        m.insert(flag.into(), Json::Bool(true));
                    }
                }
                if !a.description.is_empty() {
                    m.insert("description".into(), Json::String(a.description.clone()));
                    m.insert("description_kind".into(), Json::String("plain".into()));
                }
                (n.clone(), Json::Object(m))
            })
            .collect();
        out.insert("attributes".into(), Json::Object(attrs));
    }
    if s.blocks.keys().any(|n| !s.attr_blocks.contains(n)) {
        let blocks: Map<String, Json> = s
            .blocks
            .iter()
            .filter(|(n, _)| !s.attr_blocks.contains(*n))
            .map(|(n, b)| {
                let mode = match b.nesting {
                    Nesting::Single => "single",
                    Nesting::List => "list",
                    Nesting::Set => "set",
                };
                let mut m = Map::new();
                m.insert("nesting_mode".into(), Json::String(mode.into()));
                m.insert("block".into(), block(&b.schema));
                if b.min_items > 0 && b.nesting != Nesting::Single {
                    m.insert("min_items".into(), json!(b.min_items));
                }
                if b.max_items > 0 && b.max_items != usize::MAX && b.nesting != Nesting::Single {
                    m.insert("max_items".into(), json!(b.max_items));
                }
                (n.clone(), Json::Object(m))
            })
            .collect();
        out.insert("block_types".into(), Json::Object(blocks));
    }
    if !s.description.is_empty() {
        out.insert("description".into(), Json::String(s.description.clone()));
        out.insert("description_kind".into(), Json::String("plain".into()));
    }
    Json::Object(out)
}

/// A type in cty's JSON form: `"string"`, `["list", "string"]`, `["object", {…}]`.
pub fn cty(t: &Type) -> Json {
    match t {
        Type::Any => json!("dynamic"),
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::List(e) => json!(["list", cty(e)]),
        Type::Set(e) => json!(["set", cty(e)]),
        Type::Map(e) => json!(["map", cty(e)]),
        Type::Tuple(es) => json!(["tuple", es.iter().map(cty).collect::<Vec<_>>()]),
        Type::Object(attrs) => {
            let m: Map<String, Json> = attrs.iter().map(|(n, a)| (n.clone(), cty(&a.ty))).collect();
            let optional: Vec<&String> = attrs.iter().filter(|(_, a)| a.optional).map(|(n, _)| n).collect();
            if optional.is_empty() {
                json!(["object", m])
            } else {
                json!(["object", m, optional])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_provider::{AttrSchema, BlockSchema};

    #[test]
    fn a_block_is_written_as_terraform_writes_it() {
        let inner = Schema::new().attr("bucket", AttrSchema::required(Type::String));
        let s = Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("password", AttrSchema::optional(Type::String).sensitive())
            .attr("tags", AttrSchema::optional_computed(Type::Map(Box::new(Type::String))))
            .block("access_logs", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema: inner.clone() })
            .block("rule", BlockSchema { nesting: Nesting::Set, min_items: 1, max_items: usize::MAX, force_new: false, schema: inner });
        let want = json!({
            "attributes": {
                "id": {"type": "string", "computed": true},
                "password": {"type": "string", "optional": true, "sensitive": true},
                "tags": {"type": ["map", "string"], "optional": true, "computed": true},
            },
            "block_types": {
                "access_logs": {"nesting_mode": "list", "max_items": 1, "block": {"attributes": {"bucket": {"type": "string", "required": true}}}},
                "rule": {"nesting_mode": "set", "min_items": 1, "block": {"attributes": {"bucket": {"type": "string", "required": true}}}},
            }
        });
        assert_eq!(block(&s), want);
    }
}
