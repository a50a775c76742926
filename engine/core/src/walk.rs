//! The one walk over the configuration graph, shared by validate, plan, apply and the console:
//! [`walk`] and [`visit_node`] expand module instances and count/for_each and evaluate
//! variables, locals, outputs and module calls; a [`Visitor`] does the rest per node. Also
//! the store of values computed so far (per module instance), the evaluation scope over it,
//! and provider configuration.

use crate::addr::{InstanceKey, ModuleInstance};
use crate::graph::{module_at, ConfigGraph, NodeKind};
use infra_lang::config::{Module, ProviderRef, Resource};
use infra_lang::decode::decode_body;
use infra_lang::diag::{suggestion, Diagnostic, Diagnostics};
use infra_lang::eval::{eval, Phase, Scope};
use infra_lang::source::{SourceMap, Span};
use infra_lang::types::convert;
use infra_lang::value::Value;
use infra_provider::{ConfigureRequest, Provider, ProviderSchema, Registry};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How a resource or module call expands into instances.
#[derive(Clone, Debug, PartialEq)]
pub enum Expansion {
    Single,
    Count(usize),
    ForEach(BTreeMap<String, Value>),
}

impl Expansion {
    pub fn keys(&self) -> Vec<Option<InstanceKey>> {
        match self {
            Expansion::Single => vec![None],
            Expansion::Count(n) => (0..*n as i64).map(|i| Some(InstanceKey::Int(i))).collect(),
            Expansion::ForEach(m) => m.keys().map(|k| Some(InstanceKey::Str(k.clone()))).collect(),
        }
    }

    /// The `each.value` for a for_each key.
    pub fn each_value(&self, key: &Option<InstanceKey>) -> Option<Value> {
        match (self, key) {
            (Expansion::ForEach(m), Some(InstanceKey::Str(k))) => m.get(k).cloned(),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ModuleValues {
    pub vars: BTreeMap<String, Value>,
    pub locals: BTreeMap<String, Value>,
    pub outputs: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, (Expansion, BTreeMap<Option<InstanceKey>, Value>)>,
    pub calls: BTreeMap<String, Expansion>,
}

#[derive(Clone, Debug, Default)]
pub struct Store {
    pub modules: BTreeMap<ModuleInstance, ModuleValues>,
}

impl Store {
    pub fn module_mut(&mut self, m: &ModuleInstance) -> &mut ModuleValues {
        self.modules.entry(m.clone()).or_default()
    }

    /// Every instance of the module at a static path, as expanded so far.
    pub fn instances_of(&self, path: &[String]) -> Vec<ModuleInstance> {
        let mut current = vec![ModuleInstance::root()];
        for name in path {
            let mut next = Vec::new();
            for mi in &current {
                if let Some(exp) = self.modules.get(mi).and_then(|mv| mv.calls.get(name)) {
                    for key in exp.keys() {
                        next.push(mi.child(name, key));
                    }
                }
            }
            current = next;
        }
        current
    }

    pub fn set_instance(&mut self, m: &ModuleInstance, resource: &str, key: Option<InstanceKey>, v: Value) {
        let mv = self.module_mut(m);
        let entry = mv.resources.entry(resource.to_string()).or_insert((Expansion::Single, BTreeMap::new()));
        entry.1.insert(key, v);
    }
}

/// Composes a resource's instances into the value a reference sees: an object, a tuple
/// (count) or an object keyed like for_each.
pub fn resource_value(exp: &Expansion, instances: &BTreeMap<Option<InstanceKey>, Value>) -> Value {
    match exp {
        Expansion::Single => instances.get(&None).cloned().unwrap_or(Value::Unknown),
        Expansion::Count(n) => Value::Tuple((0..*n as i64).map(|i| instances.get(&Some(InstanceKey::Int(i))).cloned().unwrap_or(Value::Unknown)).collect()),
        Expansion::ForEach(m) => {
            Value::Object(m.keys().map(|k| (k.clone(), instances.get(&Some(InstanceKey::Str(k.clone()))).cloned().unwrap_or(Value::Unknown))).collect())
        }
    }
}

/// Everything a walk needs that does not change during it.
pub struct Ctx {
    /// Errors found before evaluation (argument and block names against schemas); planning
    /// reports them together with its own.
    pub preflight: Diagnostics,
    pub config: Arc<Module>,
    pub sources: SourceMap,
    pub graph: ConfigGraph,
    pub root_dir: PathBuf,
    pub registry: Registry,
    pub phase: Phase,
    /// Root variable values given by the user (already parsed, not yet type-converted).
    pub input_vars: BTreeMap<String, Value>,
    pub schemas: BTreeMap<String, ProviderSchema>,
    /// The files `file`, `templatefile` and the other readers read during the run: a saved
    /// plan pins them with the configuration.
    pub file_reads: Arc<infra_lang::funcs::FileReads>,
    /// `terraform.workspace`: the workspace the command runs in.
    pub workspace: String,
}

impl Ctx {
    pub fn module(&self, path: &[String]) -> Option<&Module> {
        module_at(&self.config, path)
    }

    /// The schema of a provider family, fetched once.
    pub fn schema_for(&self, family: &str) -> Option<&ProviderSchema> {
        self.schemas.get(family)
    }
}

pub struct NodeScope<'a> {
    pub ctx: &'a Ctx,
    pub store: &'a Store,
    pub module: &'a ModuleInstance,
    pub config: &'a Module,
    pub each: Option<(Value, Value)>,
    pub count: Option<i64>,
}

fn undeclared(kind: &str, name: &str, candidates: impl IntoIterator<Item = impl AsRef<str>>, span: Option<Span>) -> Diagnostic {
    Diagnostic::error(
        format!("Reference to undeclared {kind}"),
        format!(
            "{} {kind} named \"{name}\" has not been declared in this module.{}",
            if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" },
            suggestion(name, candidates)
        ),
    )
    .with_subject(span)
}

impl Scope for NodeScope<'_> {
    fn resolve(&self, root: &str, attrs: &[String], span: Option<Span>) -> Result<(Value, usize), Diagnostic> {
        let mv = self.store.modules.get(self.module);
        let empty = ModuleValues::default();
        let mv = mv.unwrap_or(&empty);
        let a0 = attrs.first().map(String::as_str);
        let need =
            |what: &str| Diagnostic::error("Invalid reference", format!("A reference to \"{root}\" must be followed by {what}.")).with_subject(span.clone());
        match root {
            "var" => {
                let name = a0.ok_or_else(|| need("a variable name, like var.region"))?;
                if !self.config.variables.contains_key(name) {
                    return Err(undeclared("input variable", name, self.config.variables.keys(), span));
                }
                Ok((mv.vars.get(name).cloned().unwrap_or(Value::Unknown), 1))
            }
            "local" => {
                let name = a0.ok_or_else(|| need("a local value name, like local.tags"))?;
                if !self.config.locals.contains_key(name) {
                    return Err(undeclared("local value", name, self.config.locals.keys(), span));
                }
                Ok((mv.locals.get(name).cloned().unwrap_or(Value::Unknown), 1))
            }
            "module" => {
                let name = a0.ok_or_else(|| need("a module name"))?;
                let Some(call) = self.config.module_calls.get(name) else {
                    return Err(undeclared("module", name, self.config.module_calls.keys(), span));
                };
                if let Some(out) = attrs.get(1) {
                    if !call.module.outputs.contains_key(out) {
                        return Err(Diagnostic::error(
                            "Unsupported attribute",
                            format!("Module \"{name}\" has no output named \"{out}\".{}", suggestion(out, call.module.outputs.keys())),
                        )
                        .with_subject(span));
                    }
                }
                let Some(exp) = mv.calls.get(name) else { return Ok((Value::Unknown, 1)) };
                let outputs_of = |key: Option<InstanceKey>| {
                    let mi = self.module.child(name, key);
                    let outs = self.store.modules.get(&mi).map(|m| m.outputs.clone()).unwrap_or_default();
                    Value::Object(call.module.outputs.keys().map(|k| (k.clone(), outs.get(k).cloned().unwrap_or(Value::Unknown))).collect())
                };
                let v = match exp {
                    Expansion::Single => outputs_of(None),
                    Expansion::Count(n) => Value::Tuple((0..*n as i64).map(|i| outputs_of(Some(InstanceKey::Int(i)))).collect()),
                    Expansion::ForEach(m) => Value::Object(m.keys().map(|k| (k.clone(), outputs_of(Some(InstanceKey::Str(k.clone()))))).collect()),
                };
                Ok((v, 1))
            }
            "data" => {
                let (Some(ty), Some(name)) = (a0, attrs.get(1)) else { return Err(need("a data source type and name, like data.aws_ami.ubuntu")) };
                let key = format!("data.{ty}.{name}");
                if !self.config.resources.contains_key(&key) {
                    let names: Vec<String> = self.config.resources.keys().filter(|k| k.starts_with("data.")).cloned().collect();
                    return Err(undeclared("data source", &key, names, span));
                }
                Ok((mv.resources.get(&key).map(|(e, i)| resource_value(e, i)).unwrap_or(Value::Unknown), 2))
            }
            "path" => {
                let v = match a0 {
                    Some("module") => match self.config.dir.strip_prefix(&self.ctx.root_dir) {
                        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
                        Ok(rel) => rel.display().to_string(),
                        Err(_) => self.config.dir.display().to_string(),
                    },
                    Some("root") => ".".to_string(),
                    Some("cwd") => std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
                    _ => return Err(need("module, root or cwd")),
                };
                Ok((Value::String(v), 1))
            }
            "terraform" => match a0 {
                Some("workspace") => Ok((Value::string(self.ctx.workspace.clone()), 1)),
                _ => Err(need("workspace")),
            },
            "count" => match (self.count, a0) {
                (Some(i), Some("index")) => Ok((Value::int(i), 1)),
                (None, _) => Err(Diagnostic::error(
                    "Reference to \"count\" in non-counted context",
                    "The \"count\" object can only be used in resource and module blocks that set the count argument.",
                )
                .with_subject(span)),
                _ => Err(need("index")),
            },
            "each" => match (&self.each, a0) {
                (Some((k, _)), Some("key")) => Ok((k.clone(), 1)),
                (Some((_, v)), Some("value")) => Ok((v.clone(), 1)),
                (None, _) => Err(Diagnostic::error(
                    "Reference to \"each\" in context without for_each",
                    "The \"each\" object can be used only in module or resource blocks that set the for_each argument.",
                )
                .with_subject(span)),
                _ => Err(need("key or value")),
            },
            "self" => Err(Diagnostic::error(
                "Invalid \"self\" reference",
                "The \"self\" object is only available in provisioner and connection blocks, which infra does not support.",
            )
            .with_subject(span)),
            ty => {
                let Some(name) = a0 else {
                    return Err(Diagnostic::error(
                        "Invalid reference",
                        format!("A reference to a resource type must be followed by the resource name, like {ty}.main. There is no variable named \"{ty}\"."),
                    )
                    .with_subject(span));
                };
                let key = format!("{ty}.{name}");
                if !self.config.resources.contains_key(&key) {
                    let names: Vec<String> = self.config.resources.keys().filter(|k| !k.starts_with("data.")).cloned().collect();
                    return Err(Diagnostic::error(
                        "Reference to undeclared resource",
                        format!("A managed resource \"{ty}\" \"{name}\" has not been declared in this module.{}", suggestion(&key, names)),
                    )
                    .with_subject(span));
                }
                Ok((mv.resources.get(&key).map(|(e, i)| resource_value(e, i)).unwrap_or(Value::Unknown), 1))
            }
        }
    }

    fn base_dir(&self) -> PathBuf {
        self.ctx.root_dir.clone()
    }

    fn phase(&self) -> Phase {
        self.ctx.phase
    }

    fn file_reads(&self) -> Option<Arc<infra_lang::funcs::FileReads>> {
        Some(self.ctx.file_reads.clone())
    }
}

pub fn scope<'a>(ctx: &'a Ctx, store: &'a Store, module: &'a ModuleInstance, config: &'a Module) -> NodeScope<'a> {
    NodeScope { ctx, store, module, config, each: None, count: None }
}

/// Sets each.* / count.index for an instance.
pub fn with_instance<'a>(mut s: NodeScope<'a>, exp: &Expansion, key: &Option<InstanceKey>) -> NodeScope<'a> {
    match key {
        Some(InstanceKey::Int(i)) => s.count = Some(*i),
        Some(InstanceKey::Str(k)) => s.each = Some((Value::String(k.clone()), exp.each_value(key).unwrap_or(Value::Null))),
        None => {}
    }
    s
}

/// Evaluates a variable of one module instance: from the user (root) or the module call
/// (stored by [`eval_module_call`]), else its default; then type conversion, nullability and
/// validations.
pub fn eval_var(ctx: &Ctx, store: &mut Store, mi: &ModuleInstance, config: &Module, name: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(var) = config.variables.get(name) else {
        return diags;
    };
    let given = if mi.is_root() { ctx.input_vars.get(name).cloned() } else { store.modules.get(mi).and_then(|m| m.vars.get(name).cloned()) };
    let mut value = match (given, &var.default) {
        (Some(v), _) if !(v.is_null() && !var.nullable && var.default.is_some()) => v,
        (Some(_), Some(d)) | (None, Some(d)) => d.clone(),
        (_, None) => {
            if ctx.phase == Phase::Validate {
                Value::Unknown
            } else {
                diags.push(
                    Diagnostic::error("No value for required variable", format!("The input variable \"{name}\" is not set, and has no default value. Use --var {name}=..., a .tfvars file or INFRA_VAR_{name} to provide it."))
                        .with_subject(var.span.clone()),
                );
                Value::Unknown
            }
        }
    };
    if let Some(ty) = &var.ty {
        match convert(&value, ty) {
            Ok(v) => value = v,
            Err(e) => {
                diags.push(
                    Diagnostic::error("Invalid value for input variable", format!("The given value is not suitable for var.{name}: {e}."))
                        .with_subject(var.span.clone()),
                );
                value = Value::Unknown;
            }
        }
    }
    if value.is_null() && !var.nullable {
        diags.push(
            Diagnostic::error("Required variable not set", format!("The variable \"{name}\" is not nullable, and null was given."))
                .with_subject(var.span.clone()),
        );
    }
    if var.sensitive {
        value = value.sensitive();
    }
    store.module_mut(mi).vars.insert(name.to_string(), value.clone());
    if !value.is_wholly_known() {
        return diags;
    }
    for v in &var.validations {
        let s = scope(ctx, store, mi, config);
        match eval(&v.condition, &s) {
            Ok(c) if c.as_bool() == Some(false) => {
                let msg = eval(&v.error_message, &s).ok().and_then(|m| m.as_str().map(str::to_string)).unwrap_or_else(|| "validation failed".into());
                diags.push(
                    Diagnostic::error("Invalid value for variable", format!("{msg} (This was checked by the validation rule of var.{name}.)"))
                        .with_subject(v.condition.span()),
                );
            }
            Ok(_) => {}
            Err(d) => diags.push(d),
        }
    }
    diags
}

pub fn eval_local(ctx: &Ctx, store: &mut Store, mi: &ModuleInstance, config: &Module, name: &str) -> Diagnostics {
    let Some(l) = config.locals.get(name) else {
        return Diagnostics::new();
    };
    let (v, d) = match eval(&l.expr, &scope(ctx, store, mi, config)) {
        Ok(v) => (v, Diagnostics::new()),
        Err(d) => (Value::Unknown, d.into()),
    };
    store.module_mut(mi).locals.insert(name.to_string(), v);
    d
}

pub fn eval_output(ctx: &Ctx, store: &mut Store, mi: &ModuleInstance, config: &Module, name: &str) -> Diagnostics {
    let Some(o) = config.outputs.get(name) else {
        return Diagnostics::new();
    };
    let mut diags = Diagnostics::new();
    let v = match eval(&o.value, &scope(ctx, store, mi, config)) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            Value::Unknown
        }
    };
    if mi.is_root() && v.contains_sensitive() && !o.sensitive {
        diags.push(
            Diagnostic::error(
                "Output refers to sensitive values",
                format!("Output \"{name}\" includes sensitive values. Set sensitive = true in the output block to confirm that you intend to export it."),
            )
            .with_subject(o.span.clone()),
        );
    }
    let v = if o.sensitive { v.sensitive() } else { v };
    store.module_mut(mi).outputs.insert(name.to_string(), v);
    diags
}

/// Evaluates `count` / `for_each` of a resource or module call into an expansion.
pub fn expand(
    s: &NodeScope,
    count: Option<&infra_lang::config::Expr>,
    for_each: Option<&infra_lang::config::Expr>,
    what: &str,
) -> Result<Expansion, Diagnostic> {
    if let Some(c) = count {
        let v = eval(c, s)?;
        if v.is_unknown() {
            return Err(Diagnostic::error("Invalid count argument", format!("The \"count\" value of {what} depends on values that cannot be determined until apply, so infra cannot predict how many instances will be created. Use --target to first apply only the resources that the count depends on.")).with_subject(c.span()));
        }
        let n = convert(&v, &infra_lang::Type::Number).ok().and_then(|n| n.as_i64());
        return match n {
            Some(n) if n >= 0 => Ok(Expansion::Count(n as usize)),
            _ => Err(Diagnostic::error(
                "Invalid count argument",
                format!("The given \"count\" argument value is unsuitable: must be a whole number greater than or equal to zero, not {}.", v.type_name()),
            )
            .with_subject(c.span())),
        };
    }
    if let Some(fe) = for_each {
        let v = eval(fe, s)?;
        if v.contains_sensitive() {
            return Err(Diagnostic::error(
                "Invalid for_each argument",
                "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: the keys would be shown in the plan.",
            )
            .with_subject(fe.span()));
        }
        if !v.is_wholly_known() && (v.is_unknown() || v.as_seq().is_some()) {
            return Err(Diagnostic::error("Invalid for_each argument", format!("The \"for_each\" value of {what} depends on resource attributes that cannot be determined until apply, so infra cannot predict how many instances will be created. Use --target to first apply the resources that for_each depends on.")).with_subject(fe.span()));
        }
        return match v {
            Value::Map(m) | Value::Object(m) => Ok(Expansion::ForEach(m.into())),
            Value::Set(items) => {
                let mut m = BTreeMap::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => {
                            m.insert(s.to_string(), item.clone());
                        }
                        None => return Err(Diagnostic::error("Invalid for_each set argument", "The given \"for_each\" argument value is unsuitable: a set used in for_each must contain strings.").with_subject(fe.span())),
                    }
                }
                Ok(Expansion::ForEach(m))
            }
            Value::List(_) | Value::Tuple(_) => Err(Diagnostic::error(
                "Invalid for_each argument",
                "The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type tuple. Convert it with toset() or build a map with a for expression.",
            )
            .with_subject(fe.span())),
            Value::Null => Err(Diagnostic::error("Invalid for_each argument", "The given \"for_each\" argument value is null. A map, or set of strings, is allowed.").with_subject(fe.span())),
            other => Err(Diagnostic::error("Invalid for_each argument", format!("The given \"for_each\" argument value is unsuitable: a map or set of strings is required, not {}.", other.type_name())).with_subject(fe.span())),
        };
    }
    Ok(Expansion::Single)
}

/// Expands a module call and evaluates its inputs into the child instances' variables.
pub fn eval_module_call(ctx: &Ctx, store: &mut Store, mi: &ModuleInstance, config: &Module, name: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(call) = config.module_calls.get(name) else {
        return diags;
    };
    let exp = match expand(&scope(ctx, store, mi, config), call.count.as_ref(), call.for_each.as_ref(), &format!("module.{name}")) {
        Ok(e) => e,
        Err(d) => {
            diags.push(d);
            return diags;
        }
    };
    let mut inputs = Vec::new();
    for key in exp.keys() {
        let s = with_instance(scope(ctx, store, mi, config), &exp, &key);
        let mut vars = BTreeMap::new();
        for (vname, attr) in &call.inputs {
            match eval(&attr.expr, &s) {
                Ok(v) => {
                    vars.insert(vname.clone(), v);
                }
                Err(d) => diags.push(d),
            }
        }
        inputs.push((mi.child(name, key), vars));
    }
    store.module_mut(mi).calls.insert(name.to_string(), exp);
    for (child, vars) in inputs {
        store.module_mut(&child).vars.extend(vars);
    }
    diags
}

/// Evaluates a provider block and configures a fresh provider instance from it.
pub async fn configure_provider(ctx: &Ctx, store: &Store, key: &ProviderRef) -> Result<Arc<dyn Provider>, Diagnostics> {
    let (family, alias) = (key.name.clone(), key.alias.clone());
    let Some(factory) = ctx.registry.get(&family) else {
        let known: Vec<String> = ctx.registry.names().cloned().collect();
        return Err(Diagnostic::error(
            "Provider not available",
            format!("This stack needs the provider \"{family}\", which this build of infra does not include (it has {}).", known.join(", ")),
        )
        .into());
    };
    let provider: Arc<dyn Provider> = Arc::from(factory());
    let block = ctx.config.providers.iter().find(|p| p.name == family && p.alias == alias);
    if alias.is_some() && block.is_none() {
        return Err(Diagnostic::error(
            "Provider configuration not present",
            format!(
                "A resource refers to provider[\"{key}\"], but no provider block with alias \"{}\" exists. Add one to the root module.",
                alias.unwrap_or_default()
            ),
        )
        .into());
    }
    let schema = ctx.schemas.get(&family).map(|s| s.provider.clone()).unwrap_or_default();
    let root = ModuleInstance::root();
    let config_value = match block {
        Some(b) => {
            let s = scope(ctx, store, &root, &ctx.config);
            let (v, d) = decode_body(&b.body, &schema, &s, b.span.clone(), &format!("provider \"{family}\""));
            if d.has_errors() {
                return Err(d);
            }
            v
        }
        None => {
            let empty = infra_lang::config::Body::default();
            let s = scope(ctx, store, &root, &ctx.config);
            decode_body(&empty, &schema, &s, None, &format!("provider \"{family}\"")).0
        }
    };
    let resp = provider.configure(ConfigureRequest { config: config_value }).await;
    let mut diags = Diagnostics::new();
    for d in resp.diagnostics {
        diags.push(d.with_subject(block.and_then(|b| b.span.clone())));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(provider)
}

/// Decodes one resource instance's configuration against its schema.
pub fn decode_resource(ctx: &Ctx, s: &NodeScope, r: &Resource, addr: &str) -> Result<Value, Diagnostics> {
    let family = resolve_family(ctx, s.module, r);
    let schema = ctx.schemas.get(&family).and_then(|ps| match r.mode {
        infra_lang::config::Mode::Managed => ps.resources.get(&r.ty),
        infra_lang::config::Mode::Data => ps.data_sources.get(&r.ty),
    });
    let Some(schema) = schema else {
        let names: Vec<String> = ctx
            .schemas
            .get(&family)
            .map(|ps| match r.mode {
                infra_lang::config::Mode::Managed => ps.resources.keys().cloned().collect(),
                infra_lang::config::Mode::Data => ps.data_sources.keys().cloned().collect(),
            })
            .unwrap_or_default();
        let kind = if r.mode == infra_lang::config::Mode::Data { "data source" } else { "resource type" };
        return Err(Diagnostic::error(
            format!("Invalid {kind}"),
            format!("The provider \"{family}\" does not support {kind} \"{}\".{}", r.ty, suggestion(&r.ty, names)),
        )
        .with_subject(r.span.clone())
        .into());
    };
    let (v, d) = decode_body(&r.body, schema, s, r.span.clone(), addr);
    if d.has_errors() {
        return Err(d);
    }
    Ok(v)
}

/// The provider family of a resource (after `provider =` and module provider mapping).
pub fn resolve_family(ctx: &Ctx, mi: &ModuleInstance, r: &Resource) -> String {
    crate::graph::resolve_provider(&ctx.config, &mi.static_path(), r).name
}

/// What one walk does at the nodes only it knows how to handle: providers and resources. The
/// walker evaluates everything else the same way for every walk.
// The walk is generic, never `dyn`: whether its future is `Send` (apply spawns it) is checked
// where the concrete visitor is known, so the trait needs no `Send` bounds.
#[allow(async_fn_in_trait)]
pub trait Visitor {
    /// Runs `f` on the store of values computed so far.
    fn with_store<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> R;
    /// Takes the diagnostics of the walker's own evaluations.
    fn report(&mut self, diags: Diagnostics);
    /// Whether resources' count/for_each are evaluated; validation cannot know them.
    fn expands_resources(&self) -> bool {
        true
    }
    /// A provider configuration node. False blocks what depends on it.
    async fn provider(&mut self, _key: &ProviderRef) -> bool {
        true
    }
    /// Before a resource's instances are expanded in one module instance (refresh, provider
    /// configuration). False skips the resource there.
    async fn before_resource(&mut self, _node: usize, _mi: &ModuleInstance, _r: &Resource) -> bool {
        true
    }
    /// A resource in one module instance, with its instances (`None` when
    /// [`Visitor::expands_resources`] is false). False blocks what depends on it.
    async fn resource(&mut self, node: usize, mi: &ModuleInstance, config: &Module, r: &Resource, expansion: Option<&Expansion>) -> bool;
}

/// Walks the configuration graph in topological order, visiting the nodes `include` accepts.
pub async fn walk<V: Visitor>(ctx: &Ctx, include: impl Fn(usize) -> bool, v: &mut V) {
    for &n in &ctx.graph.order {
        if include(n) {
            visit_node(ctx, n, v).await;
        }
    }
}

/// Visits one configuration node for every instance of its module (apply runs nodes in the
/// order of its execution graph, so it calls this directly). False when something failed.
pub async fn visit_node<V: Visitor>(ctx: &Ctx, n: usize, v: &mut V) -> bool {
    let id = &ctx.graph.nodes[n];
    let Some(config) = ctx.module(&id.module) else {
        return true;
    };
    let instances = v.with_store(|s| s.instances_of(&id.module));
    match &id.kind {
        NodeKind::Provider(key) => v.provider(key).await,
        NodeKind::Resource(key) => {
            let Some(r) = config.resources.get(key) else {
                return true;
            };
            let mut ok = true;
            for mi in instances {
                ok &= visit_resource(ctx, n, &mi, config, r, v).await;
            }
            ok
        }
        kind => {
            let diags = v.with_store(|store| {
                let mut diags = Diagnostics::new();
                for mi in &instances {
                    diags.extend(match kind {
                        NodeKind::Var(name) => eval_var(ctx, store, mi, config, name),
                        NodeKind::Local(name) => eval_local(ctx, store, mi, config, name),
                        NodeKind::Output(name) => eval_output(ctx, store, mi, config, name),
                        NodeKind::ModuleCall(name) => eval_module_call(ctx, store, mi, config, name),
                        NodeKind::Provider(_) | NodeKind::Resource(_) => Diagnostics::new(),
                    });
                }
                diags
            });
            let ok = !diags.has_errors();
            v.report(diags);
            ok
        }
    }
}

async fn visit_resource<V: Visitor>(ctx: &Ctx, n: usize, mi: &ModuleInstance, config: &Module, r: &Resource, v: &mut V) -> bool {
    if !v.before_resource(n, mi, r).await {
        return false;
    }
    if !v.expands_resources() {
        return v.resource(n, mi, config, r, None).await;
    }
    let what = if mi.is_root() { r.key() } else { format!("{mi}.{}", r.key()) };
    let exp = match v.with_store(|s| expand(&scope(ctx, s, mi, config), r.count.as_ref(), r.for_each.as_ref(), &what).map_err(Diagnostics::from)) {
        Ok(e) => e,
        Err(d) => {
            v.report(d);
            return false;
        }
    };
    v.with_store(|s| s.module_mut(mi).resources.insert(r.key(), (exp.clone(), BTreeMap::new())));
    v.resource(n, mi, config, r, Some(&exp)).await
}

/// Runs a walk whose visitor never waits (validate, console) to its end.
pub fn run_to_end<F: std::future::Future>(fut: F) -> F::Output {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = std::task::Waker::from(Arc::new(Noop));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
