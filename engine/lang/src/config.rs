//! The configuration model of a stack: a root module and its child modules, each holding
//! variables, locals, outputs, resources, data sources, module calls, provider blocks, `moved`
//! and `import` blocks. Expressions stay unevaluated, with their spans.

use crate::diag::{suggestion, Diagnostic, Diagnostics};
/// Kept at its old path: `config::Expr` is how the other crates name it.
pub use crate::expr::Expr;
use crate::parse::parse_dir;
use crate::source::{FileId, SourceMap, Span};
use crate::typeexpr::parse_type;
use crate::types::Type;
use crate::value::Value;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{self as hs, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub expr: Expr,
    pub span: Option<Span>,
}

/// A block body with its attributes and nested blocks, in source order.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Block>,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().rev().find(|a| a.name == name)
    }
}

#[derive(Clone, Debug)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
    /// The block header: its type and labels.
    pub span: Option<Span>,
}

pub(crate) fn convert_body(file: FileId, body: &hs::Body) -> Body {
    let mut out = Body::default();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.attrs.push(Attr {
                name: a.key.as_str().to_string(),
                expr: Expr { file, expr: Arc::new(a.value.clone()) },
                span: a.key.span().map(|r| Span::new(file, r)),
            }),
            Structure::Block(b) => {
                let start = b.ident.span().map(|r| r.start).unwrap_or(0);
                let end = b.labels.last().and_then(|l| l.span()).or(b.ident.span()).map(|r| r.end).unwrap_or(start);
                out.blocks.push(Block {
                    kind: b.ident.as_str().to_string(),
                    labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
                    body: convert_body(file, &b.body),
                    span: Some(Span::new(file, start..end)),
                })
            }
        }
    }
    out
}

#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub ty: Option<Type>,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub depends_on: Vec<Expr>,
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Clone, Debug, Default)]
pub enum IgnoreChanges {
    #[default]
    None,
    All,
    Attrs(Vec<String>),
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub ignore_changes: IgnoreChanges,
    pub replace_triggered_by: Vec<Expr>,
}

/// `provider = aws.west` on a resource or in a module's `providers` map, and the key of a
/// provider configuration everywhere else (graph nodes, state, plans): the one place the text
/// `aws.west` is split and joined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
}

impl ProviderRef {
    /// Reads `aws` or `aws.west`.
    pub fn parse(key: &str) -> ProviderRef {
        match key.split_once('.') {
            Some((name, alias)) => ProviderRef { name: name.to_string(), alias: Some(alias.to_string()) },
            None => ProviderRef { name: key.to_string(), alias: None },
        }
    }
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}.{a}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub mode: Mode,
    pub ty: String,
    pub name: String,
    pub provider: Option<ProviderRef>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// The arguments and nested blocks, without meta-arguments.
    pub body: Body,
    pub span: Option<Span>,
}

impl Resource {
    /// `aws_vpc.main` or `data.aws_ami.ubuntu`.
    pub fn key(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.ty, self.name),
            Mode::Data => format!("data.{}.{}", self.ty, self.name),
        }
    }

    /// The provider name implied by the type: `aws` for `aws_vpc`.
    pub fn implied_provider(&self) -> String {
        implied_provider(&self.ty)
    }

    pub fn provider_ref(&self) -> ProviderRef {
        self.provider.clone().unwrap_or(ProviderRef { name: self.implied_provider(), alias: None })
    }
}

pub fn implied_provider(ty: &str) -> String {
    if ty == "terraform_data" {
        return "terraform".into();
    }
    ty.split('_').next().unwrap_or(ty).to_string()
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// Provider configurations passed in: child name → parent reference.
    pub providers: BTreeMap<String, ProviderRef>,
    pub inputs: BTreeMap<String, Attr>,
    pub span: Option<Span>,
    pub module: Arc<Module>,
}

#[derive(Clone, Debug)]
pub struct ProviderBlock {
    pub name: String,
    pub alias: Option<String>,
    pub body: Body,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Import {
    /// The target without a computed index: `aws_vpc.main`, `module.net.aws_subnet.a[0]`.
    pub to: String,
    /// A computed index of the target (`aws_vpc.main[each.key]`), evaluated per instance.
    pub to_index: Option<Expr>,
    /// The span of `to`, for diagnostics about the target.
    pub to_span: Option<Span>,
    pub id: Expr,
    pub for_each: Option<Expr>,
    pub provider: Option<ProviderRef>,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub kind: String,
    pub body: Body,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    /// Keyed by `type.name` for managed resources and `data.type.name` for data sources.
    pub resources: BTreeMap<String, Resource>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    pub providers: Vec<ProviderBlock>,
    pub required_providers: BTreeMap<String, String>,
    pub backend: Option<Backend>,
    /// `terraform { encryption { ... } }` (OpenTofu's state and plan encryption), decoded by
    /// `crate::encryption::decode` (which imports this module, not the reverse).
    pub encryption: Option<Block>,
    pub moved: Vec<Moved>,
    pub imports: Vec<Import>,
}

/// Loads the module in `dir` and, recursively, the local modules it calls.
pub fn load_module(sources: &SourceMap, dir: &Path) -> (Module, Diagnostics) {
    load_module_depth(sources, dir, 0)
}

fn load_module_depth(sources: &SourceMap, dir: &Path, depth: usize) -> (Module, Diagnostics) {
    let (files, mut diags) = parse_dir(sources, dir);
    let mut module = Module { dir: dir.to_path_buf(), ..Module::default() };
    for file in files {
        let body = convert_body(file.id, &file.body);
        for attr in &body.attrs {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!("An argument named \"{}\" is not expected at the top level of a stack file. Put it inside a block such as locals.", attr.name),
                )
                .with_subject(attr.span.clone()),
            );
        }
        for block in body.blocks {
            decode_top_block(sources, &mut module, block, depth, &mut diags);
        }
    }
    (module, diags)
}

const TOP_BLOCKS: &[&str] = &["terraform", "provider", "variable", "locals", "output", "resource", "data", "module", "moved", "import", "check", "removed"];

fn label_count_error(block: &Block, want: usize, what: &str) -> Diagnostic {
    Diagnostic::error(
        "Wrong number of labels",
        format!("A {} block takes {want} label{} ({what}), but this one has {}.", block.kind, if want == 1 { "" } else { "s" }, block.labels.len()),
    )
    .with_subject(block.span.clone())
}

fn decode_top_block(sources: &SourceMap, m: &mut Module, block: Block, depth: usize, diags: &mut Diagnostics) {
    match block.kind.as_str() {
        "terraform" => decode_terraform(m, &block, diags),
        "provider" => {
            if block.labels.len() != 1 {
                return diags.push(label_count_error(&block, 1, "the provider name"));
            }
            let alias = block.body.attr("alias").and_then(|a| literal_string(&a.expr));
            let mut body = block.body.clone();
            body.attrs.retain(|a| a.name != "alias" && a.name != "version");
            m.providers.push(ProviderBlock { name: block.labels[0].clone(), alias, body, span: block.span.clone() });
        }
        "variable" => decode_variable(m, &block, diags),
        "locals" => {
            for attr in &block.body.attrs {
                if let Some(prev) = m.locals.get(&attr.name) {
                    diags.push(
                        Diagnostic::error(
                            "Duplicate local value definition",
                            format!("A local value named \"{}\" was already defined. Local value names must be unique within a module.", attr.name),
                        )
                        .with_subject(attr.span.clone())
                        .with_context(prev.span.clone()),
                    );
                    continue;
                }
                m.locals.insert(attr.name.clone(), Local { name: attr.name.clone(), expr: attr.expr.clone(), span: attr.span.clone() });
            }
            for b in &block.body.blocks {
                diags.push(
                    Diagnostic::error("Unexpected block", "A locals block only holds arguments. Move this block out of it.").with_subject(b.span.clone()),
                );
            }
        }
        "output" => decode_output(m, &block, diags),
        "resource" | "data" => decode_resource(m, &block, diags),
        "module" => decode_module_call(sources, m, &block, depth, diags),
        "moved" => {
            let from = block.body.attr("from").and_then(|a| traversal_text(&a.expr));
            let to = block.body.attr("to").and_then(|a| traversal_text(&a.expr));
            match (from, to) {
                (Some(from), Some(to)) => m.moved.push(Moved { from, to, span: block.span.clone() }),
                _ => diags.push(
                    Diagnostic::error("Invalid moved block", "A moved block needs from and to, each an address such as aws_vpc.old.").with_subject(
                        // The argument at fault where it is written, else the block.
                        ["from", "to"]
                            .iter()
                            .filter_map(|n| block.body.attr(n))
                            .find(|a| traversal_text(&a.expr).is_none())
                            .and_then(|a| a.expr.span())
                            .or_else(|| block.span.clone()),
                    ),
                ),
            }
        }
        "import" => {
            let to_attr = block.body.attr("to");
            let to = to_attr.and_then(|a| import_target(&a.expr));
            let to_span = to_attr.and_then(|a| a.expr.span());
            let id = block.body.attr("id").map(|a| a.expr.clone());
            let provider = block.body.attr("provider").and_then(|a| provider_ref(&a.expr));
            let for_each = block.body.attr("for_each").map(|a| a.expr.clone());
            let bad_to = to_attr.is_some() && to.is_none();
            match (to, id) {
                (Some((to, to_index)), Some(id)) => m.imports.push(Import { to, to_index, to_span, id, for_each, provider, span: block.span.clone() }),
                _ => diags.push(
                    Diagnostic::error("Invalid import block", "An import block needs to (a resource address) and id (the object's id in the provider).")
                        // A `to` that is not an address is the fault; a missing argument, the block's.
                        .with_subject(if bad_to { to_span.clone() } else { None }.or_else(|| block.span.clone())),
                ),
            }
        }
        "check" | "removed" => diags.push(
            Diagnostic::warning("Block not supported yet", format!("infra does not support {} blocks yet; this block is ignored.", block.kind))
                .with_subject(block.span.clone()),
        ),
        other => diags.push(
            Diagnostic::error("Unsupported block type", format!("Blocks of type \"{other}\" are not expected here.{}", suggestion(other, TOP_BLOCKS)))
                .with_subject(block.span.clone()),
        ),
    }
}

fn decode_terraform(m: &mut Module, block: &Block, diags: &mut Diagnostics) {
    for b in &block.body.blocks {
        match b.kind.as_str() {
            "required_providers" => {
                for a in &b.body.attrs {
                    let source = match &*a.expr.expr {
                        Expression::Object(obj) => obj
                            .iter()
                            .find(|(k, _)| object_key_name(k).as_deref() == Some("source"))
                            .and_then(|(_, v)| v.expr().as_str().map(str::to_string))
                            .unwrap_or_else(|| a.name.clone()),
                        Expression::String(s) => s.as_str().to_string(),
                        _ => a.name.clone(),
                    };
                    m.required_providers.insert(a.name.clone(), source);
                }
            }
            "backend" => {
                if m.backend.is_some() {
                    diags.push(Diagnostic::error("Duplicate backend configuration", "A module may declare only one backend.").with_subject(b.span.clone()));
                }
                let kind = b.labels.first().cloned().unwrap_or_default();
                if kind != "local" && kind != "s3" {
                    diags.push(
                        Diagnostic::error(
                            "Unsupported backend",
                            format!("infra supports the \"local\" and \"s3\" backends, not \"{kind}\". Use backend \"s3\" {{ ... }} or backend \"local\" {{ path = \"...\" }}."),
                        )
                        .with_subject(b.span.clone()),
                    );
                }
                m.backend = Some(Backend { kind, body: b.body.clone(), span: b.span.clone() });
            }
            "cloud" => diags.push(Diagnostic::error("Unsupported block", "infra has no cloud integration. Use a backend block.").with_subject(b.span.clone())),
            "encryption" => {
                if m.encryption.is_some() {
                    diags.push(
                        Diagnostic::error("Duplicate encryption configuration", "A module may declare only one encryption block.").with_subject(b.span.clone()),
                    );
                }
                m.encryption = Some(b.clone());
            }
            _ => {}
        }
    }
}

fn decode_variable(m: &mut Module, block: &Block, diags: &mut Diagnostics) {
    if block.labels.len() != 1 {
        return diags.push(label_count_error(block, 1, "the variable name"));
    }
    let name = block.labels[0].clone();
    let body = &block.body;
    let mut ty = None;
    if let Some(a) = body.attr("type") {
        match parse_type(&a.expr.expr) {
            Ok(t) => ty = Some(t),
            Err(e) => diags.push(Diagnostic::error("Invalid type specification", format!("{e}.")).with_subject(a.expr.span())),
        }
    }
    let mut default = None;
    if let Some(a) = body.attr("default") {
        match crate::eval::eval_constant(&a.expr.expr) {
            Ok(v) => {
                let v = match &ty {
                    Some(t) => match crate::types::convert(&v, t) {
                        Ok(v) => v,
                        Err(e) => {
                            diags.push(
                                Diagnostic::error(
                                    "Invalid default value for variable",
                                    format!("This default value is not compatible with the variable's type constraint: {e}."),
                                )
                                .with_subject(a.expr.span()),
                            );
                            v
                        }
                    },
                    None => v,
                };
                default = Some(v);
            }
            Err(e) => {
                diags.push(Diagnostic::error("Variables not allowed", format!("A variable default must be a literal value: {e}.")).with_subject(a.expr.span()))
            }
        }
    }
    let bool_attr = |n: &str, d: bool| body.attr(n).and_then(|a| a.expr.expr.as_bool()).unwrap_or(d);
    let mut validations = Vec::new();
    for b in &body.blocks {
        if b.kind == "validation" {
            match (b.body.attr("condition"), b.body.attr("error_message")) {
                (Some(c), Some(e)) => validations.push(Validation { condition: c.expr.clone(), error_message: e.expr.clone() }),
                _ => diags
                    .push(Diagnostic::error("Invalid validation block", "A validation block needs condition and error_message.").with_subject(b.span.clone())),
            }
        }
    }
    for a in &body.attrs {
        if !["type", "default", "description", "sensitive", "nullable", "ephemeral"].contains(&a.name.as_str()) {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{}\" is not expected in a variable block.{}",
                        a.name,
                        suggestion(&a.name, ["type", "default", "description", "sensitive", "nullable"])
                    ),
                )
                .with_subject(a.span.clone()),
            );
        }
    }
    if m.variables.contains_key(&name) {
        diags.push(
            Diagnostic::error(
                "Duplicate variable declaration",
                format!("A variable named \"{name}\" was already declared. Variable names must be unique within a module."),
            )
            .with_subject(block.span.clone()),
        );
    }
    m.variables.insert(
        name.clone(),
        Variable {
            name,
            ty,
            default,
            description: body.attr("description").and_then(|a| literal_string(&a.expr)),
            sensitive: bool_attr("sensitive", false),
            nullable: bool_attr("nullable", true),
            validations,
            span: block.span.clone(),
        },
    );
}

fn decode_output(m: &mut Module, block: &Block, diags: &mut Diagnostics) {
    if block.labels.len() != 1 {
        return diags.push(label_count_error(block, 1, "the output name"));
    }
    let name = block.labels[0].clone();
    let Some(value) = block.body.attr("value") else {
        return diags
            .push(Diagnostic::error("Missing required argument", format!("Output \"{name}\" needs a value argument.")).with_subject(block.span.clone()));
    };
    for a in &block.body.attrs {
        if !["value", "sensitive", "description", "depends_on", "ephemeral"].contains(&a.name.as_str()) {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{}\" is not expected in an output block.{}",
                        a.name,
                        suggestion(&a.name, ["value", "sensitive", "description", "depends_on"])
                    ),
                )
                .with_subject(a.span.clone()),
            );
        }
    }
    if m.outputs.contains_key(&name) {
        diags.push(
            Diagnostic::error("Duplicate output definition", format!("An output named \"{name}\" was already defined.")).with_subject(block.span.clone()),
        );
    }
    m.outputs.insert(
        name.clone(),
        Output {
            name,
            value: value.expr.clone(),
            sensitive: block.body.attr("sensitive").and_then(|a| a.expr.expr.as_bool()).unwrap_or(false),
            description: block.body.attr("description").and_then(|a| literal_string(&a.expr)),
            depends_on: list_items(block.body.attr("depends_on")),
            span: block.span.clone(),
        },
    );
}

fn list_items(attr: Option<&Attr>) -> Vec<Expr> {
    match attr.map(|a| (&*a.expr.expr, a.expr.file)) {
        Some((Expression::Array(items), file)) => items.iter().map(|e| Expr { file, expr: Arc::new(e.clone()) }).collect(),
        _ => Vec::new(),
    }
}

fn decode_resource(m: &mut Module, block: &Block, diags: &mut Diagnostics) {
    if block.labels.len() != 2 {
        return diags.push(label_count_error(block, 2, "the type and the name"));
    }
    let mode = if block.kind == "data" { Mode::Data } else { Mode::Managed };
    let mut body = Body::default();
    let mut count = None;
    let mut for_each = None;
    let mut provider = None;
    let mut depends_on = Vec::new();
    let mut lifecycle = Lifecycle::default();
    for a in &block.body.attrs {
        match a.name.as_str() {
            "count" => count = Some(a.expr.clone()),
            "for_each" => for_each = Some(a.expr.clone()),
            "depends_on" => depends_on = list_items(Some(a)),
            "provider" => match provider_ref(&a.expr) {
                Some(p) => provider = Some(p),
                None => diags.push(
                    Diagnostic::error("Invalid provider reference", "The provider argument takes a provider name and optional alias, like aws.west.")
                        .with_subject(a.expr.span()),
                ),
            },
            _ => body.attrs.push(a.clone()),
        }
    }
    for b in &block.body.blocks {
        match b.kind.as_str() {
            "lifecycle" if mode == Mode::Managed => decode_lifecycle(&mut lifecycle, b, diags),
            "provisioner" | "connection" => diags.push(
                Diagnostic::warning(
                    "Provisioners are not supported",
                    "infra does not run provisioners; use a vps_command resource instead. This block is ignored.",
                )
                .with_subject(b.span.clone()),
            ),
            _ => body.blocks.push(b.clone()),
        }
    }
    if count.is_some() && for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.",
            )
            .with_subject(block.body.attr("for_each").and_then(|a| a.span.clone()).or_else(|| block.span.clone())),
        );
    }
    let r = Resource {
        mode,
        ty: block.labels[0].clone(),
        name: block.labels[1].clone(),
        provider,
        count,
        for_each,
        depends_on,
        lifecycle,
        body,
        span: block.span.clone(),
    };
    let key = r.key();
    if let Some(prev) = m.resources.get(&key) {
        diags.push(
            Diagnostic::error(
                "Duplicate resource configuration",
                format!("A {} block for {key} was already declared. Names must be unique per type within a module.", block.kind),
            )
            .with_subject(block.span.clone())
            .with_context(prev.span.clone()),
        );
        return;
    }
    m.resources.insert(key, r);
}

fn decode_lifecycle(l: &mut Lifecycle, b: &Block, diags: &mut Diagnostics) {
    for a in &b.body.attrs {
        match a.name.as_str() {
            "create_before_destroy" | "prevent_destroy" => match a.expr.expr.as_bool() {
                Some(v) if a.name == "create_before_destroy" => l.create_before_destroy = v,
                Some(v) => l.prevent_destroy = v,
                None => diags.push(
                    Diagnostic::error("Invalid lifecycle argument", format!("{} must be the literal true or false.", a.name)).with_subject(a.expr.span()),
                ),
            },
            "ignore_changes" => match &*a.expr.expr {
                Expression::Variable(v) if v.as_str() == "all" => l.ignore_changes = IgnoreChanges::All,
                Expression::Array(items) => {
                    let mut names = Vec::new();
                    for item in items.iter() {
                        match traversal_text(&Expr { file: a.expr.file, expr: Arc::new(item.clone()) }) {
                            Some(t) => names.push(t),
                            None => diags.push(
                                Diagnostic::error("Invalid ignore_changes", "Each ignore_changes item is an attribute name, like tags.")
                                    .with_subject(a.expr.span()),
                            ),
                        }
                    }
                    l.ignore_changes = IgnoreChanges::Attrs(names);
                }
                _ => diags.push(
                    Diagnostic::error("Invalid ignore_changes", "ignore_changes is a list of attribute names, or the keyword all.").with_subject(a.expr.span()),
                ),
            },
            "replace_triggered_by" => l.replace_triggered_by = list_items(Some(a)),
            other => diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{other}\" is not expected in a lifecycle block.{}",
                        suggestion(other, ["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"])
                    ),
                )
                .with_subject(a.span.clone()),
            ),
        }
    }
}

const MAX_MODULE_DEPTH: usize = 32;

fn decode_module_call(sources: &SourceMap, m: &mut Module, block: &Block, depth: usize, diags: &mut Diagnostics) {
    if block.labels.len() != 1 {
        return diags.push(label_count_error(block, 1, "the module name"));
    }
    let name = block.labels[0].clone();
    let Some(source) = block.body.attr("source").and_then(|a| literal_string(&a.expr)) else {
        return diags.push(
            Diagnostic::error("Missing required argument", format!("Module \"{name}\" needs a source argument, a literal path like \"./modules/net\"."))
                .with_subject(block.body.attr("source").and_then(|a| a.expr.span()).or_else(|| block.span.clone())),
        );
    };
    if !(source.starts_with("./") || source.starts_with("../")) {
        return diags.push(
            Diagnostic::error(
                "Unsupported module source",
                format!("infra loads local modules only (a path starting with ./ or ../), not \"{source}\". Vendor the module into the stack."),
            )
            .with_subject(block.body.attr("source").and_then(|a| a.expr.span())),
        );
    }
    if depth >= MAX_MODULE_DEPTH {
        return diags.push(
            Diagnostic::error(
                "Module nesting too deep",
                format!("Modules call each other more than {MAX_MODULE_DEPTH} levels deep; this is probably a module calling itself."),
            )
            .with_subject(block.span.clone()),
        );
    }
    let dir = normalize_path(&m.dir.join(&source));
    if !dir.is_dir() {
        return diags.push(
            Diagnostic::error("Module not found", format!("The module directory {} does not exist. Check the source path.", dir.display()))
                .with_subject(block.body.attr("source").and_then(|a| a.expr.span())),
        );
    }
    let (child, child_diags) = load_module_depth(sources, &dir, depth + 1);
    diags.extend(child_diags);
    let mut inputs = BTreeMap::new();
    let mut count = None;
    let mut for_each = None;
    let mut depends_on = Vec::new();
    let mut providers = BTreeMap::new();
    for a in &block.body.attrs {
        match a.name.as_str() {
            "source" | "version" => {}
            "count" => count = Some(a.expr.clone()),
            "for_each" => for_each = Some(a.expr.clone()),
            "depends_on" => depends_on = list_items(Some(a)),
            "providers" => {
                if let Expression::Object(obj) = &*a.expr.expr {
                    for (k, v) in obj.iter() {
                        let key = match k {
                            hcl_edit::expr::ObjectKey::Ident(i) => ProviderRef { name: i.as_str().to_string(), alias: None },
                            hcl_edit::expr::ObjectKey::Expression(e) => match provider_ref(&Expr { file: a.expr.file, expr: Arc::new(e.clone()) }) {
                                Some(p) => p,
                                None => continue,
                            },
                        };
                        if let Some(target) = provider_ref(&Expr { file: a.expr.file, expr: Arc::new(v.expr().clone()) }) {
                            providers.insert(key.to_string(), target);
                        }
                    }
                }
            }
            _ => {
                if !child.variables.contains_key(&a.name) {
                    diags.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!("Module \"{name}\" has no variable named \"{}\".{}", a.name, suggestion(&a.name, child.variables.keys())),
                        )
                        .with_subject(a.span.clone()),
                    );
                }
                inputs.insert(a.name.clone(), a.clone());
            }
        }
    }
    for (vname, var) in &child.variables {
        if var.default.is_none() && !inputs.contains_key(vname) {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument \"{vname}\" is required by module \"{name}\", but no definition was found."),
                )
                .with_subject(block.span.clone()),
            );
        }
    }
    if count.is_some() && for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.",
            )
            .with_subject(block.body.attr("for_each").and_then(|a| a.span.clone()).or_else(|| block.span.clone())),
        );
    }
    m.module_calls
        .insert(name.clone(), ModuleCall { name, source, count, for_each, depends_on, providers, inputs, span: block.span.clone(), module: Arc::new(child) });
}

/// `aws` or `aws.west` as a provider reference.
pub fn provider_ref(expr: &Expr) -> Option<ProviderRef> {
    traversal_text(expr).map(|text| ProviderRef::parse(&text))
}

/// The text of a static traversal like `aws_vpc.main[0]`, or `None` for anything dynamic.
pub fn traversal_text(expr: &Expr) -> Option<String> {
    fn walk(e: &Expression) -> Option<String> {
        match e {
            Expression::Variable(v) => Some(v.as_str().to_string()),
            Expression::Traversal(t) => {
                let mut s = walk(&t.expr)?;
                for op in &t.operators {
                    match op.value() {
                        TraversalOperator::GetAttr(a) => {
                            s.push('.');
                            s.push_str(a.as_str());
                        }
                        TraversalOperator::Index(Expression::Number(n)) => s.push_str(&format!("[{}]", n.value())),
                        TraversalOperator::Index(Expression::String(k)) => s.push_str(&format!("[{:?}]", k.as_str())),
                        TraversalOperator::LegacyIndex(i) => s.push_str(&format!("[{}]", i.value())),
                        _ => return None,
                    }
                }
                Some(s)
            }
            _ => None,
        }
    }
    walk(&expr.expr)
}

/// An import block's `to`: the address as text, and the index expression when the last index
/// is computed (`aws_vpc.main[each.key]`) rather than literal.
fn import_target(expr: &Expr) -> Option<(String, Option<Expr>)> {
    if let Some(t) = traversal_text(expr) {
        return Some((t, None));
    }
    let Expression::Traversal(t) = &*expr.expr else { return None };
    let (last, rest) = t.operators.split_last()?;
    let TraversalOperator::Index(index) = last.value() else { return None };
    let mut base = (**t).clone();
    base.operators = rest.to_vec();
    let base = traversal_text(&Expr { file: expr.file, expr: Arc::new(Expression::Traversal(Box::new(base))) })?;
    Some((base, Some(Expr { file: expr.file, expr: Arc::new(index.clone()) })))
}

fn literal_string(expr: &Expr) -> Option<String> {
    expr.expr.as_str().map(str::to_string)
}

pub fn object_key_name(k: &hcl_edit::expr::ObjectKey) -> Option<String> {
    match k {
        hcl_edit::expr::ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        hcl_edit::expr::ObjectKey::Expression(e) => match e {
            Expression::String(s) => Some(s.as_str().to_string()),
            Expression::Variable(v) => Some(v.as_str().to_string()),
            _ => None,
        },
    }
}

/// `a/./b/../c` → `a/c`, without touching the filesystem (module paths are shown to users).
fn normalize_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
