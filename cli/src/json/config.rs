//! The `configuration` of Terraform's JSON plan: providers, and per module its resources with
//! the expressions of their arguments (`constant_value` for a literal, `references` for what
//! an expression reads), outputs, variables and module calls.

use super::values::full_provider_name;
use infra_lang::config::{Body, Module};
use infra_lang::expr::Expr;
use infra_lang::refs::{references, Reference};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationJson {
    pub provider_config: BTreeMap<String, ProviderConfigJson>,
    pub root_module: ModuleConfigJson,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfigJson {
    pub name: String,
    pub full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_address: Option<String>,
    /// Argument name to an expression object, or to a list of them for nested blocks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expressions: BTreeMap<String, Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleConfigJson {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, OutputConfigJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceConfigJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub module_calls: BTreeMap<String, ModuleCallJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, VariableConfigJson>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputConfigJson {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    pub expression: Json,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfigJson {
    pub address: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub provider_config_key: String,
    pub expressions: BTreeMap<String, Json>,
    pub schema_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_expression: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each_expression: Option<Json>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleCallJson {
    pub source: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expressions: BTreeMap<String, Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_expression: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each_expression: Option<Json>,
    pub module: ModuleConfigJson,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariableConfigJson {
    /// The default; a sensitive variable's default is left out.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "super::plan::present")]
    pub default: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// The configuration of the root module and the modules it calls.
pub fn configuration(root: &Module) -> ConfigurationJson {
    let mut providers = BTreeMap::new();
    provider_configs(root, "", &mut providers);
    ConfigurationJson { provider_config: providers, root_module: module(root) }
}

fn source_of<'a>(m: &'a Module, name: &str) -> Option<&'a str> {
    m.required_providers.get(name).map(String::as_str)
}

fn provider_configs(m: &Module, module_address: &str, out: &mut BTreeMap<String, ProviderConfigJson>) {
    let prefix = if module_address.is_empty() { String::new() } else { format!("{module_address}:") };
    for p in &m.providers {
        let key = match &p.alias {
            Some(a) => format!("{prefix}{}.{a}", p.name),
            None => format!("{prefix}{}", p.name),
        };
        out.insert(
            key,
            ProviderConfigJson {
                name: p.name.clone(),
                full_name: full_provider_name(&p.name, source_of(m, &p.name)),
                alias: p.alias.clone(),
                module_address: (!module_address.is_empty()).then(|| module_address.to_string()),
                expressions: body_expressions(&p.body),
            },
        );
    }
    // Providers used without a block of their own are configured with no arguments.
    for r in m.resources.values() {
        let pr = r.provider_ref();
        let key = format!("{prefix}{pr}");
        if module_address.is_empty() && !out.contains_key(&key) {
            out.insert(
                key,
                ProviderConfigJson {
                    name: pr.name.clone(),
                    full_name: full_provider_name(&pr.name, source_of(m, &pr.name)),
                    alias: pr.alias.clone(),
                    module_address: None,
                    expressions: BTreeMap::new(),
                },
            );
        }
    }
    for (name, call) in &m.module_calls {
        let addr = if module_address.is_empty() { format!("module.{name}") } else { format!("{module_address}.module.{name}") };
        provider_configs(&call.module, &addr, out);
    }
}

fn module(m: &Module) -> ModuleConfigJson {
    ModuleConfigJson {
        outputs: m
            .outputs
            .iter()
            .map(|(k, o)| {
                (
                    k.clone(),
                    OutputConfigJson {
                        sensitive: o.sensitive,
                        expression: expression(&o.value),
                        description: o.description.clone(),
                        depends_on: o.depends_on.iter().flat_map(reference_texts).collect(),
                    },
                )
            })
            .collect(),
        resources: m
            .resources
            .values()
            .map(|r| ResourceConfigJson {
                address: r.key(),
                mode: if r.mode == infra_lang::config::Mode::Data { "data" } else { "managed" }.to_string(),
                type_name: r.ty.clone(),
                name: r.name.clone(),
                provider_config_key: r.provider_ref().to_string(),
                expressions: body_expressions(&r.body),
                schema_version: 0,
                count_expression: r.count.as_ref().map(expression),
                for_each_expression: r.for_each.as_ref().map(expression),
                depends_on: r.depends_on.iter().flat_map(|e| references(e).first().map(resource_part)).collect(),
            })
            .collect(),
        module_calls: m
            .module_calls
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    ModuleCallJson {
                        source: c.source.clone(),
                        expressions: c.inputs.iter().map(|(n, a)| (n.clone(), expression(&a.expr))).collect(),
                        count_expression: c.count.as_ref().map(expression),
                        for_each_expression: c.for_each.as_ref().map(expression),
                        module: module(&c.module),
                        depends_on: c.depends_on.iter().flat_map(|e| references(e).first().map(resource_part)).collect(),
                    },
                )
            })
            .collect(),
        variables: m
            .variables
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    VariableConfigJson {
                        default: if v.sensitive { None } else { v.default.as_ref().map(super::values::known) },
                        description: v.description.clone(),
                        sensitive: v.sensitive,
                    },
                )
            })
            .collect(),
    }
}

/// Arguments to expression objects; nested blocks to lists of their bodies' expressions
/// (a `dynamic` block counts as one block of its content).
pub fn body_expressions(b: &Body) -> BTreeMap<String, Json> {
    let mut out: BTreeMap<String, Json> = b.attrs.iter().map(|a| (a.name.clone(), expression(&a.expr))).collect();
    for block in &b.blocks {
        let (kind, body) = if block.kind == "dynamic" {
            let content = block.body.blocks.iter().find(|c| c.kind == "content").map(|c| &c.body);
            (block.labels.first().cloned().unwrap_or_default(), content.cloned().unwrap_or_default())
        } else {
            (block.kind.clone(), block.body.clone())
        };
        let entry = out.entry(kind).or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(items) = entry {
            items.push(Json::Object(body_expressions(&body).into_iter().collect()));
        }
    }
    out
}

/// `{"constant_value": V}` for an expression that reads nothing, `{"references": [...]}` for
/// one that does, `{}` for one whose value cannot be known without evaluating it.
pub fn expression(e: &Expr) -> Json {
    let refs = references(e);
    let mut texts: Vec<String> = Vec::new();
    for r in &refs {
        for t in reference_texts_of(r) {
            if !texts.contains(&t) {
                texts.push(t);
            }
        }
    }
    if !texts.is_empty() {
        return serde_json::json!({ "references": texts });
    }
    match infra_lang::eval::eval_constant(&e.expr) {
        Ok(v) if v.is_wholly_known() && !v.contains_sensitive() => serde_json::json!({ "constant_value": infra_lang::value::to_json(&v) }),
        _ => serde_json::json!({}),
    }
}

fn reference_texts(e: &Expr) -> Vec<String> {
    references(e).iter().flat_map(reference_texts_of).collect()
}

/// What Terraform lists for one reference: the traversal, then the object it belongs to
/// (`aws_vpc.main.id`, `aws_vpc.main`).
fn reference_texts_of(r: &Reference) -> Vec<String> {
    let full = r.text();
    let base = resource_part(r);
    if base == full {
        vec![full]
    } else {
        vec![full, base]
    }
}

/// The referenced object: `aws_vpc.main`, `data.aws_ami.x`, `module.net`, `var.x`, `local.y`.
fn resource_part(r: &Reference) -> String {
    let take = if r.root == "data" { 3 } else { 2 };
    std::iter::once(r.root.as_str()).chain(r.attrs.iter().map(String::as_str)).take(take).collect::<Vec<_>>().join(".")
}
