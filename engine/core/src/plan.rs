//! Planning: refresh (batched per provider and type), then one action per resource instance
//! with the reason it was chosen, then an explicit execution graph (data) that apply runs.

use crate::addr::{InstanceAddr, InstanceKey, ModuleInstance, Target};
use crate::graph::{resolve_provider, NodeKind};
use crate::hooks::Hook;
/// The plan's types keep their old paths: callers name them `plan::Action`, `plan::Plan`.
pub use crate::plan_types::{Action, ExecGraph, ExecNode, GeneratedConfig, OutputChange, Plan, PlanMode, Reason, ResourceChange};
use crate::state_io::{Instance, OnExisting, Working};
use crate::walk::{self, decode_resource, scope, with_instance, Ctx, Expansion, Store};
use infra_lang::config::{IgnoreChanges, Mode, Module, ProviderRef, Resource};
use infra_lang::diag::{Diagnostic, Diagnostics, PathStep};
use infra_lang::refs::references;
use infra_lang::schema::Schema;
use infra_lang::value::Value;
use infra_provider::{
    AdoptRequest, CheckDeleteRequest, CheckPlannedRequest, ImportRequest, PlanRequest, PlannedObject, PrefetchRequest, Provider, ReadDataRequest,
    ReadManyRequest,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub mode: PlanMode,
    pub refresh: bool,
    /// Ask providers for a full refresh (`ReadManyRequest::full`); refresh-only plans always do.
    pub refresh_full: bool,
    pub targets: Vec<Target>,
    pub replace: Vec<Target>,
    /// Imports beside the configuration's import blocks (`infra import ADDR ID`).
    pub imports: Vec<(InstanceAddr, String)>,
    /// For an import block whose target has no resource block, read the object and write the
    /// block a person would (`Plan::generated`) instead of failing.
    pub generate_config: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: PlanMode::Normal,
            refresh: true,
            refresh_full: false,
            targets: Vec::new(),
            replace: Vec::new(),
            imports: Vec::new(),
            generate_config: false,
        }
    }
}

/// An import planned for one instance address: from an import block (its index in the root
/// module's `imports`) or from the command line.
#[derive(Clone, Debug)]
struct PendingImport {
    id: String,
    block: Option<usize>,
    used: bool,
}

/// Marks in `to` every path that is sensitive in `from` (the planned value), so that a value
/// that came from a sensitive variable stays hidden after a provider returns it unmarked.
/// Lists and tuples follow element by element; a set with a sensitive element is marked whole
/// (its order is the provider's).
pub fn carry_marks(from: &Value, to: Value) -> Value {
    let (f, marked) = from.unmark();
    let (t, already) = to.into_unmarked();
    let out = match (f, t) {
        (Value::Object(fm) | Value::Map(fm), Value::Object(mut tm)) => {
            carry_into(fm, &mut tm);
            Value::Object(tm)
        }
        (Value::Object(fm) | Value::Map(fm), Value::Map(mut tm)) => {
            carry_into(fm, &mut tm);
            Value::Map(tm)
        }
        (Value::List(fl) | Value::Tuple(fl), Value::List(tl)) => Value::List(carry_seq(fl, tl)),
        (Value::List(fl) | Value::Tuple(fl), Value::Tuple(tl)) => Value::Tuple(carry_seq(fl, tl)),
        (f, t @ Value::Set(_)) if f.contains_sensitive() => t.sensitive(),
        (_, t) => t,
    };
    if (marked || already) && !out.is_null() {
        out.sensitive()
    } else {
        out
    }
}

fn carry_into(from: &std::collections::BTreeMap<String, Value>, to: &mut std::collections::BTreeMap<String, Value>) {
    for (k, fv) in from {
        if fv.contains_sensitive() {
            if let Some(tv) = to.remove(k) {
                to.insert(k.clone(), carry_marks(fv, tv));
            }
        }
    }
}

fn carry_seq(from: &[Value], to: Vec<Value>) -> Vec<Value> {
    to.into_iter()
        .enumerate()
        .map(|(i, t)| match from.get(i) {
            Some(f) if f.contains_sensitive() => carry_marks(f, t),
            _ => t,
        })
        .collect()
}

/// Marks the attributes the schema declares sensitive, on a value a provider returned,
/// including those inside nested blocks.
pub fn mark_sensitive(v: Value, schema: Option<&Schema>) -> Value {
    let Some(schema) = schema else { return v };
    let (v, marked) = v.into_unmarked();
    let out = match v {
        Value::Object(mut m) => {
            for (name, a) in &schema.attributes {
                if a.sensitive {
                    if let Some(x) = m.remove(name) {
                        m.insert(name.clone(), if x.is_null() { x } else { x.sensitive() });
                    }
                }
            }
            for (name, b) in &schema.blocks {
                if let Some(x) = m.remove(name) {
                    let x = match x {
                        Value::List(items) => Value::List(items.into_iter().map(|i| mark_sensitive(i, Some(&b.schema))).collect()),
                        Value::Tuple(items) => Value::Tuple(items.into_iter().map(|i| mark_sensitive(i, Some(&b.schema))).collect()),
                        Value::Set(items) => Value::Set(items.into_iter().map(|i| mark_sensitive(i, Some(&b.schema))).collect()),
                        single @ Value::Object(_) => mark_sensitive(single, Some(&b.schema)),
                        other => other,
                    };
                    m.insert(name.clone(), x);
                }
            }
            Value::Object(m)
        }
        other => other,
    };
    out.mark_if(marked)
}

/// Maps a provider diagnostic's attribute path to the span of that argument in the
/// configuration: `cidr_block`, or `ingress[1].from_port` into the second `ingress` block.
pub fn attach_span(d: Diagnostic, r: &Resource, addr: &str) -> Diagnostic {
    let span = path_span(&r.body, &d.attr_path).or(r.span.clone());
    d.with_subject(span).with_address(addr)
}

fn path_span(body: &infra_lang::config::Body, path: &[PathStep]) -> Option<infra_lang::Span> {
    let (PathStep::Attr(name), rest) = path.split_first()? else { return None };
    if let Some(a) = body.attr(name) {
        return a.expr.span();
    }
    let blocks: Vec<&infra_lang::config::Block> = body.blocks.iter().filter(|b| &b.kind == name).collect();
    match rest.split_first() {
        Some((PathStep::Index(i), rest)) => {
            let block = blocks.get(usize::try_from(*i).ok()?)?;
            path_span(&block.body, rest).or(block.span.clone())
        }
        Some((PathStep::Attr(_), _)) => {
            let block = blocks.first()?;
            path_span(&block.body, rest).or(block.span.clone())
        }
        _ => blocks.first().and_then(|b| b.span.clone()),
    }
}

pub struct Planner<'a> {
    pub ctx: &'a Ctx,
    pub opts: &'a PlanOptions,
    pub hook: &'a dyn Hook,
    pub store: Store,
    pub working: Working,
    pub providers: BTreeMap<ProviderRef, Arc<dyn Provider>>,
    refreshed: BTreeSet<(String, String)>,
    /// Provider keys whose `prefetch` ran.
    prefetched: BTreeSet<String>,
    visited: BTreeSet<InstanceAddr>,
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<ResourceChange>,
    pub diags: Diagnostics,
    imports: BTreeMap<InstanceAddr, PendingImport>,
    /// Import blocks already evaluated (by index).
    imports_evaluated: BTreeSet<usize>,
    /// Resources planned in some module instance (`module.a[0].aws_vpc.main`).
    planned_resources: BTreeSet<String>,
    generated: Vec<crate::plan_types::GeneratedConfig>,
    moved: BTreeMap<InstanceAddr, String>,
    adopted: Vec<InstanceAddr>,
    dropped_intents: usize,
    /// Data sources read while planning.
    data: BTreeMap<InstanceAddr, Value>,
}

/// The resources a config node depends on, as resource addresses: the nearest ones, found
/// through locals, variables, outputs and module boundaries. Delete ordering chains through
/// them, so transitive ones are not stored (they would make state quadratic in size).
pub fn resource_deps(ctx: &Ctx, node: usize) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = ctx.graph.deps[node].clone();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        let id = &ctx.graph.nodes[n];
        match &id.kind {
            NodeKind::Resource(k) if !k.starts_with("data.") => {
                let prefix: String = id.module.iter().map(|m| format!("module.{m}.")).collect();
                out.insert(format!("{prefix}{k}"));
            }
            NodeKind::Provider(_) => {}
            _ => stack.extend(ctx.graph.deps[n].iter().copied()),
        }
    }
    out.into_iter().collect()
}

fn static_resource(addr: &InstanceAddr) -> String {
    let prefix: String = addr.module.static_path().iter().map(|m| format!("module.{m}.")).collect();
    format!("{prefix}{}", addr.resource_key())
}

pub async fn plan(ctx: &Ctx, state: &infra_state::StateFile, opts: &PlanOptions, hook: &dyn Hook) -> Result<Plan, Diagnostics> {
    plan_keeping_providers(ctx, state, opts, hook).await.map(|(p, _)| p)
}

/// The configured provider instances a plan used, by provider reference.
pub type Providers = BTreeMap<ProviderRef, Arc<dyn Provider>>;

/// [`plan`], also handing back the provider instances it configured: a drift report asks the
/// same instances what exists around the managed objects, without configuring them again.
pub async fn plan_keeping_providers(ctx: &Ctx, state: &infra_state::StateFile, opts: &PlanOptions, hook: &dyn Hook) -> Result<(Plan, Providers), Diagnostics> {
    let working = Working::from_state(state).map_err(|e| Diagnostics::from(Diagnostic::error("Invalid state", e)))?;
    let mut p = Planner {
        ctx,
        opts,
        hook,
        store: Store::default(),
        working,
        providers: BTreeMap::new(),
        refreshed: BTreeSet::new(),
        prefetched: BTreeSet::new(),
        visited: BTreeSet::new(),
        changes: Vec::new(),
        drift: Vec::new(),
        diags: ctx.preflight.clone(),
        imports: opts.imports.iter().map(|(a, id)| (a.clone(), PendingImport { id: id.clone(), block: None, used: false })).collect(),
        imports_evaluated: BTreeSet::new(),
        planned_resources: BTreeSet::new(),
        generated: Vec::new(),
        moved: BTreeMap::new(),
        adopted: Vec::new(),
        dropped_intents: 0,
        data: BTreeMap::new(),
    };
    p.apply_moves();
    let stored = check_stored_types(ctx, &p.working);
    if stored.has_errors() {
        // Nothing could be planned for such an object, and a refresh-only apply would rewrite
        // the state around it: stop before any provider is called.
        p.diags.extend(stored);
        return Err(p.diags);
    }
    let allowed = allowed_nodes(ctx, opts);
    walk::walk(ctx, |n| allowed.contains(&n), &mut p).await;
    p.finish_imports().await;
    p.orphans().await;
    p.check_deletes().await;
    p.check_planned().await;
    if p.diags.has_errors() {
        return Err(p.diags);
    }
    let mut outputs = BTreeMap::new();
    if let Some(root) = p.store.modules.get(&ModuleInstance::root()) {
        for (k, v) in &root.outputs {
            let sensitive = ctx.config.outputs.get(k).is_some_and(|o| o.sensitive);
            let after = if opts.mode == PlanMode::Destroy { Value::Null } else { v.clone() };
            let before = p.working.outputs.get(k).map(|(v, _)| v.clone());
            // Null is not stored: absent before and null after is no change (as in Terraform).
            if before.is_none() && after.is_null() {
                continue;
            }
            outputs.insert(k.clone(), OutputChange { before, after, sensitive });
        }
    }
    if opts.mode == PlanMode::Destroy {
        for (k, (v, s)) in &p.working.outputs {
            outputs.entry(k.clone()).or_insert(OutputChange { before: Some(v.clone()), after: Value::Null, sensitive: *s });
        }
    }
    inherit_create_before_destroy(&mut p.changes);
    let mut exec = build_exec(ctx, &p.changes, &p.working, &allowed, opts.mode);
    if let Err(cycle) = exec.check_acyclic() {
        return Err(Diagnostic::error(
            "Cycle in the execution plan",
            format!("The planned operations wait on each other in a loop ({cycle}). This is a bug in infra's ordering rules; please report it with the plan."),
        )
        .into());
    }
    let root_vars = p.store.modules.get(&ModuleInstance::root()).map(|m| m.vars.clone()).unwrap_or_default();
    let deposed = p.deposed_changes();
    let mut warnings = Diagnostics(p.diags.0.into_iter().filter(|d| !d.is_error()).collect());
    if !opts.targets.is_empty() {
        warnings.push(Diagnostic::warning(
            "Resource targeting is in effect",
            "This plan may not cover every change in the configuration, and its outputs may be incomplete. Use --target for exceptional situations only, then plan without it.",
        ));
    }
    let index = p.changes.iter().enumerate().map(|(i, c)| (c.addr.clone(), i)).collect();
    add_deposed_deletes(ctx, &mut exec, &deposed);
    let providers = std::mem::take(&mut p.providers);
    let plan = Plan {
        index,
        deposed,
        adopted: std::mem::take(&mut p.adopted),
        dropped_intents: p.dropped_intents,
        mode: opts.mode,
        changes: p.changes,
        drift: p.drift,
        outputs,
        lineage: state.lineage.clone(),
        serial: state.serial,
        prior: p.working,
        variables: root_vars,
        targets: opts.targets.clone(),
        exec,
        warnings,
        data: p.data,
        generated: p.generated,
    };
    Ok((plan, providers))
}

/// Rebuilds the execution graph (and the index) of a plan read back from a saved plan file:
/// the graph is a function of the configuration, the changes and the prior state, so the file
/// does not store it.
pub fn rebuild_exec(ctx: &Ctx, p: &mut Plan) -> Result<(), Diagnostics> {
    let opts = PlanOptions { mode: p.mode, targets: p.targets.clone(), ..PlanOptions::default() };
    let allowed = allowed_nodes(ctx, &opts);
    let mut exec = build_exec(ctx, &p.changes, &p.prior, &allowed, p.mode);
    if let Err(cycle) = exec.check_acyclic() {
        return Err(Diagnostic::error(
            "Cycle in the execution plan",
            format!("The planned operations wait on each other in a loop ({cycle}). This is a bug in infra's ordering rules; please report it with the plan."),
        )
        .into());
    }
    add_deposed_deletes(ctx, &mut exec, &p.deposed);
    p.exec = exec;
    p.index = p.changes.iter().enumerate().map(|(i, c)| (c.addr.clone(), i)).collect();
    Ok(())
}

/// Every object the state records (and every create left pending) must be of a type its
/// provider knows: it could not be refreshed, updated or deleted otherwise. Objects whose
/// resource is in the configuration are left to the configuration's own check, which already
/// reports an unknown type there.
fn check_stored_types(ctx: &Ctx, working: &Working) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut check = |addr: &str, provider: &str, ty: &str| {
        let family = ProviderRef::parse(provider).name;
        let problem = match ctx.schemas.get(&family) {
            None => {
                let known: Vec<&str> = ctx.schemas.keys().map(String::as_str).collect();
                format!(
                    "The state records {addr}, of type \"{ty}\" from the provider \"{family}\", which this build of infra does not include (it has {}).",
                    known.join(", ")
                )
            }
            Some(schema) if !schema.resources.contains_key(ty) => {
                format!("The state records {addr}, of type \"{ty}\", which the provider \"{family}\" does not support.")
            }
            Some(_) => return,
        };
        diags.push(
            Diagnostic::error(
                "Unsupported resource type in state",
                format!(
                    "{problem} infra can neither refresh, change nor delete it, so nothing was planned and the state was left as it is. Use a build of infra that supports {ty}, or, once the object is deleted or managed elsewhere, run `infra state rm {addr}`."
                ),
            )
            .with_address(addr),
        );
    };
    for (addr, inst) in &working.instances {
        let configured = ctx.module(&addr.module.static_path()).is_some_and(|m| m.resources.contains_key(&addr.resource_key()));
        if addr.mode == Mode::Managed && !configured {
            check(&addr.to_string(), &inst.provider, &addr.type_name);
        }
    }
    for pc in &working.pending {
        check(&pc.address, &pc.provider, &pc.type_name);
    }
    diags
}

/// Config nodes to walk: everything, or with --target the targets and what they depend on.
pub fn allowed_nodes(ctx: &Ctx, opts: &PlanOptions) -> BTreeSet<usize> {
    if opts.targets.is_empty() {
        return (0..ctx.graph.nodes.len()).collect();
    }
    let mut seeds = Vec::new();
    for (i, id) in ctx.graph.nodes.iter().enumerate() {
        let hit = opts.targets.iter().any(|t| {
            let static_mod: Vec<String> = t.module.static_path();
            match (&t.resource, &id.kind) {
                (Some((mode, ty, name)), NodeKind::Resource(k)) => {
                    let key = if *mode == Mode::Data { format!("data.{ty}.{name}") } else { format!("{ty}.{name}") };
                    id.module == static_mod && *k == key
                }
                (None, _) => id.module.starts_with(&static_mod) && !static_mod.is_empty(),
                _ => false,
            }
        });
        if hit {
            seeds.push(i);
        }
    }
    ctx.graph.ancestors(&seeds)
}

impl Planner<'_> {
    fn apply_moves(&mut self) {
        for mv in &self.ctx.config.moved {
            let (Ok(from), Ok(to)) = (crate::addr::parse_target(&mv.from), crate::addr::parse_target(&mv.to)) else {
                self.diags.push(
                    Diagnostic::error("Invalid moved block", "The from and to addresses of a moved block must be resource addresses.")
                        .with_subject(mv.span.clone()),
                );
                continue;
            };
            // A destination that is not a resource moves nothing.
            let Ok(moves) = self.working.move_instances(&from, &to, OnExisting::Skip) else {
                continue;
            };
            for (old, new) in moves {
                self.moved.insert(new, old.to_string());
            }
        }
    }

    /// Evaluates the import blocks that target `resource` (`module.a.aws_vpc.main`, static
    /// path), or every one not evaluated yet when `resource` is `None`: in the root module's
    /// scope, once per `for_each` element, when the target is planned (the graph orders what
    /// the blocks reference before it).
    fn eval_imports(&mut self, resource: Option<&str>) {
        for (i, imp) in self.ctx.config.imports.iter().enumerate() {
            let target = match crate::addr::parse_target(&imp.to) {
                Ok(t @ Target { resource: Some((Mode::Managed, _, _)), .. }) => t,
                Ok(_) | Err(_) => {
                    if self.imports_evaluated.insert(i) {
                        self.diags.push(
                            Diagnostic::error(
                                "Invalid import address",
                                format!("The import target {} is not a managed resource address such as aws_vpc.main.", imp.to),
                            )
                            .with_subject(imp.to_span.clone().or(imp.span.clone())),
                        );
                    }
                    continue;
                }
            };
            let Some((_, ty, name)) = target.resource.clone() else { continue };
            let static_key = format!("{}{ty}.{name}", target.module.static_path().iter().map(|m| format!("module.{m}.")).collect::<String>());
            if resource.is_some_and(|r| r != static_key) || !self.imports_evaluated.insert(i) {
                continue;
            }
            let root = ModuleInstance::root();
            let mut found: Vec<(InstanceAddr, String)> = Vec::new();
            let mut diags = Diagnostics::new();
            {
                let s = scope(self.ctx, &self.store, &root, &self.ctx.config);
                let exp = match &imp.for_each {
                    Some(fe) => match walk::expand(&s, None, Some(fe), "this import block") {
                        Ok(e) => e,
                        Err(d) => {
                            self.diags.push(d);
                            continue;
                        }
                    },
                    None => Expansion::Single,
                };
                for k in exp.keys() {
                    let s = with_instance(scope(self.ctx, &self.store, &root, &self.ctx.config), &exp, &k);
                    let key = match &imp.to_index {
                        None => target.key.clone(),
                        Some(e) => match infra_lang::eval::eval(e, &s).map(|v| v.deep_unmark()) {
                            Ok(Value::String(k)) => Some(InstanceKey::Str(k)),
                            Ok(v) if v.as_i64().is_some() => v.as_i64().map(InstanceKey::Int),
                            Ok(v) => {
                                diags.push(
                                    Diagnostic::error(
                                        "Invalid import address",
                                        format!(
                                            "The index of an import target must be a known number or string, not {}.",
                                            if v.is_unknown() { "a value known only after apply" } else { v.type_name() }
                                        ),
                                    )
                                    .with_subject(e.span()),
                                );
                                continue;
                            }
                            Err(d) => {
                                diags.push(d);
                                continue;
                            }
                        },
                    };
                    let id = match infra_lang::eval::eval(&imp.id, &s).map(|v| v.deep_unmark()) {
                        Ok(Value::String(id)) if !id.is_empty() => id,
                        Ok(v) => {
                            let what = if v.is_unknown() {
                                "a value known only after apply"
                            } else if v.is_null() {
                                "null"
                            } else if v.as_str().is_some() {
                                "an empty string"
                            } else {
                                v.type_name()
                            };
                            diags.push(
                                Diagnostic::error(
                                    "Invalid import id",
                                    format!("The id of an import block must be a known, non-empty string when planning, not {what}."),
                                )
                                .with_subject(imp.id.span()),
                            );
                            continue;
                        }
                        Err(d) => {
                            diags.push(d);
                            continue;
                        }
                    };
                    let addr = InstanceAddr { module: target.module.clone(), mode: Mode::Managed, type_name: ty.clone(), name: name.clone(), key };
                    found.push((addr, id));
                }
            }
            self.diags.extend(diags);
            for (addr, id) in found {
                if let Some(prev) = self.imports.get(&addr) {
                    let other = if prev.block == Some(i) { "this block" } else { "another import" };
                    self.diags.push(
                        Diagnostic::error(
                            "Duplicate import configuration",
                            format!("{addr} is imported twice (also by {other}). An instance can be imported only once."),
                        )
                        .with_subject(imp.span.clone()),
                    );
                    continue;
                }
                self.imports.insert(addr, PendingImport { id, block: Some(i), used: false });
            }
        }
    }

    /// The span of what asked for the import of `addr`: its import block, if any.
    fn import_span(&self, addr: &InstanceAddr) -> Option<infra_lang::source::Span> {
        let b = self.imports.get(addr)?.block?;
        let imp = self.ctx.config.imports.get(b)?;
        imp.to_span.clone().or(imp.span.clone())
    }

    /// An object imported for `addr` must not be managed already at another address of its
    /// type: two addresses would then both own (and one day delete) the same object.
    /// The same object is the same `id` and the same value of every attribute that only a
    /// replacement changes (a `local_file`'s id is its content's hash: two files with the same
    /// content differ by `filename`).
    fn check_not_managed_elsewhere(&self, addr: &InstanceAddr, obj: &Value, schema: Option<&Schema>) -> Option<Diagnostic> {
        let id = obj.get_attr("id").and_then(|v| v.deep_unmark().as_str().map(str::to_string))?;
        let same = |v: &Value| {
            v.get_attr("id").is_some_and(|i| i.deep_unmark().as_str() == Some(id.as_str()))
                && schema.is_none_or(|s| {
                    s.force_new_attrs().all(|k| match (v.get_attr(k), obj.get_attr(k)) {
                        (Some(a), Some(b)) if a.is_wholly_known() && b.is_wholly_known() => a.deep_unmark().equals(&b.deep_unmark()),
                        _ => true,
                    })
                })
        };
        let (other, _) = self.working.instances.iter().find(|(a, i)| *a != addr && a.type_name == addr.type_name && same(&i.value))?;
        Some(
            Diagnostic::error(
                "Resource already managed",
                format!("The object {id} imported for {addr} is already managed by infra at {other}. Remove it from there first (infra state rm {other}) or move it (infra state mv {other} {addr})."),
            )
            .with_subject(self.import_span(addr))
            .with_address(addr.to_string()),
        )
    }

    /// After the walk: import blocks whose target was never planned. A target with no
    /// resource block gets its configuration generated when asked (`--generate-config-out`),
    /// else is an error; so is one whose resource has no instance with that key.
    async fn finish_imports(&mut self) {
        if self.opts.mode != PlanMode::Normal {
            return;
        }
        self.eval_imports(None);
        let unused: Vec<(InstanceAddr, String)> = self.imports.iter().filter(|(_, i)| !i.used).map(|(a, i)| (a.clone(), i.id.clone())).collect();
        for (addr, id) in unused {
            let span = self.import_span(&addr);
            let declared =
                crate::graph::module_at(&self.ctx.config, &addr.module.static_path()).is_some_and(|m| m.resources.contains_key(&addr.resource_key()));
            if declared {
                let resource = format!("{}{}", if addr.module.is_root() { String::new() } else { format!("{}.", addr.module) }, addr.resource_key());
                if self.planned_resources.contains(&resource) {
                    self.diags.push(
                        Diagnostic::error(
                            "Configuration for import target does not exist",
                            format!("The configuration for the given import target {addr} does not exist: {resource} has no instance with that key. Check its count or for_each."),
                        )
                        .with_subject(span),
                    );
                }
                // Otherwise it was left out (--target, a module instance that does not exist).
                continue;
            }
            if !self.opts.generate_config || !addr.module.is_root() || addr.key.is_some() {
                let why = if !self.opts.generate_config {
                    "Add a resource block for it, or run infra plan --generate-config-out=FILE to have one written."
                } else {
                    "Configuration can be generated only for a single resource of the root module (no module path, no index): write this one by hand."
                };
                self.diags.push(
                    Diagnostic::error(
                        "Configuration for import target does not exist",
                        format!("The configuration for the given import target {addr} does not exist. {why}"),
                    )
                    .with_subject(span),
                );
                continue;
            }
            let block = self.imports.get(&addr).and_then(|i| i.block).and_then(|b| self.ctx.config.imports.get(b));
            let family = addr.type_name.split('_').next().unwrap_or_default().to_string();
            let key = block.and_then(|b| b.provider.clone()).unwrap_or(ProviderRef { name: family, alias: None });
            let Some(provider) = self.provider(&key).await else { continue };
            let resp = provider.import(ImportRequest { type_name: addr.type_name.clone(), id: id.clone() }).await;
            for d in resp.diagnostics {
                self.diags.push(d.with_subject(span.clone()).with_address(addr.to_string()));
            }
            let Some(obj) = resp.state else { continue };
            let schema = self.schema_of(&key.name, &addr.type_name, Mode::Managed).cloned();
            if let Some(d) = self.check_not_managed_elsewhere(&addr, &obj, schema.as_ref()) {
                self.diags.push(d);
                continue;
            }
            let resp = provider.to_hcl(infra_provider::ToHclRequest { type_name: addr.type_name.clone(), state: obj });
            for d in resp.diagnostics {
                self.diags.push(d.with_subject(span.clone()).with_address(addr.to_string()));
            }
            if let Some(body) = resp.body {
                let provider =
                    if key.name == addr.type_name.split('_').next().unwrap_or_default() && key.alias.is_none() { None } else { Some(key.to_string()) };
                self.generated.push(crate::plan_types::GeneratedConfig { type_name: addr.type_name.clone(), name: addr.name.clone(), id, body, provider });
            }
        }
    }

    async fn provider(&mut self, key: &ProviderRef) -> Option<Arc<dyn Provider>> {
        if let Some(p) = self.providers.get(key) {
            return Some(p.clone());
        }
        match walk::configure_provider(self.ctx, &self.store, key).await {
            Ok(p) => {
                self.providers.insert(key.clone(), p.clone());
                Some(p)
            }
            Err(d) => {
                self.diags.extend(d);
                None
            }
        }
    }

    fn schema_of(&self, family: &str, ty: &str, mode: Mode) -> Option<&Schema> {
        self.ctx.schemas.get(family).and_then(|s| if mode == Mode::Managed { s.resources.get(ty) } else { s.data_sources.get(ty) })
    }

    /// Resolves interrupted creates, then refreshes every stored object of one provider and
    /// type in one batched call.
    async fn ensure_refreshed(&mut self, key: &ProviderRef, ty: &str) {
        let provider_key = key.to_string();
        let provider_key = provider_key.as_str();
        if !self.refreshed.insert((provider_key.to_string(), ty.to_string())) {
            return;
        }
        let Some(provider) = self.provider(key).await else {
            return;
        };
        let family = key.name.clone();
        let schema = self.schema_of(&family, ty, Mode::Managed).cloned();
        // Adopt objects whose create was interrupted before it was recorded.
        let pending: Vec<_> = self.working.pending.iter().filter(|p| p.provider == provider_key && p.type_name == ty).cloned().collect();
        for pc in pending {
            self.working.pending.retain(|p| p.idempotency_token != pc.idempotency_token);
            let Ok(t) = crate::addr::parse_target(&pc.address) else {
                continue;
            };
            let Some((mode, tty, name)) = t.resource else {
                continue;
            };
            let addr = InstanceAddr { module: t.module, mode, type_name: tty, name, key: t.key };
            if self.working.instances.contains_key(&addr) {
                continue;
            }
            let resp = provider
                .adopt(AdoptRequest {
                    type_name: ty.to_string(),
                    idempotency_token: pc.idempotency_token.clone(),
                    planned: pc.planned.as_ref().map(infra_lang::value::from_json).unwrap_or(Value::Null),
                })
                .await;
            self.diags.extend(Diagnostics(resp.diagnostics.into_iter().map(|d| d.with_address(addr.to_string())).collect()));
            if resp.state.is_some() {
                self.adopted.push(addr.clone());
            } else {
                self.dropped_intents += 1;
            }
            if let Some(obj) = resp.state {
                self.working.instances.insert(
                    addr,
                    Instance {
                        provider: provider_key.to_string(),
                        value: mark_sensitive(obj, schema.as_ref()),
                        dependencies: Vec::new(),
                        create_before_destroy: false,
                        deposed: Vec::new(),
                    },
                );
            }
        }
        if !self.opts.refresh {
            return;
        }
        if self.prefetched.insert(provider_key.to_string()) {
            let objects = self
                .working
                .instances
                .iter()
                .filter(|(a, i)| a.mode == Mode::Managed && i.provider == provider_key)
                .map(|(a, i)| (a.type_name.clone(), i.value.deep_unmark()))
                .collect();
            provider.prefetch(PrefetchRequest { objects, full: self.opts.refresh_full || self.opts.mode == PlanMode::RefreshOnly }).await;
        }
        let addrs: Vec<InstanceAddr> = self
            .working
            .instances
            .iter()
            .filter(|(a, i)| a.mode == Mode::Managed && a.type_name == ty && i.provider == provider_key)
            .map(|(a, _)| a.clone())
            .collect();
        if addrs.is_empty() {
            return;
        }
        let objects: Vec<Value> = addrs.iter().map(|a| self.working.instances[a].value.clone()).collect();
        let started = Instant::now();
        self.hook.refresh_start(ty, addrs.len());
        let resp = provider
            .read_many(ReadManyRequest { type_name: ty.to_string(), objects, full: self.opts.refresh_full || self.opts.mode == PlanMode::RefreshOnly })
            .await;
        self.hook.refresh_done(ty, addrs.len(), started.elapsed());
        if resp.diagnostics.iter().any(|d| d.is_error()) || resp.objects.len() != addrs.len() {
            for d in resp.diagnostics {
                self.diags.push(d);
            }
            if self.diags.has_errors() {
                return;
            }
            self.diags.push(Diagnostic::error(
                "Provider returned an invalid refresh",
                format!("The provider answered {} objects for {} requested {ty} objects.", resp.objects.len(), addrs.len()),
            ));
            return;
        }
        self.diags.extend(Diagnostics(resp.diagnostics));
        for (addr, now) in addrs.into_iter().zip(resp.objects) {
            let before = self.working.instances[&addr].value.clone();
            match now {
                None => {
                    self.working.instances.remove(&addr);
                    self.drift.push(drift_change(&addr, provider_key, Action::Delete, Some(before), None));
                }
                Some(v) => {
                    let v = mark_sensitive(v, schema.as_ref());
                    if !v.deep_unmark().equals(&before.deep_unmark()) {
                        self.drift.push(drift_change(&addr, provider_key, Action::Update, Some(before), Some(v.clone())));
                    }
                    if let Some(inst) = self.working.instances.get_mut(&addr) {
                        inst.value = v;
                    }
                }
            }
        }
    }

    /// Plans every instance of a resource in one module instance (the walk has expanded them).
    async fn plan_resource(&mut self, node: usize, mi: &ModuleInstance, config: &Module, r: &Resource, exp: &Expansion) {
        let key_ref = resolve_provider(&self.ctx.config, &mi.static_path(), r);
        let provider_key = key_ref.to_string();
        let family = key_ref.name.clone();
        let Some(provider) = self.provider(&key_ref).await else {
            return;
        };
        let deps = resource_deps(self.ctx, node);
        let schema = self.schema_of(&family, &r.ty, r.mode).cloned();
        if r.mode == Mode::Managed && self.opts.mode == PlanMode::Normal {
            let static_prefix: String = mi.static_path().iter().map(|m| format!("module.{m}.")).collect();
            self.eval_imports(Some(&format!("{static_prefix}{}", r.key())));
            self.planned_resources.insert(if mi.is_root() { r.key() } else { format!("{mi}.{}", r.key()) });
        }
        for key in exp.keys() {
            let addr = InstanceAddr { module: mi.clone(), mode: r.mode, type_name: r.ty.clone(), name: r.name.clone(), key: key.clone() };
            self.visited.insert(addr.clone());
            let prior_value = self.working.instances.get(&addr).map(|i| i.value.clone());
            if self.opts.mode == PlanMode::Destroy || self.opts.mode == PlanMode::RefreshOnly {
                self.store.set_instance(mi, &r.key(), key.clone(), prior_value.unwrap_or(Value::Unknown));
                continue;
            }
            let s = with_instance(scope(self.ctx, &self.store, mi, config), exp, &key);
            let cfg = match decode_resource(self.ctx, &s, r, &addr.to_string()) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.extend(d);
                    self.store.set_instance(mi, &r.key(), key.clone(), Value::Unknown);
                    continue;
                }
            };
            drop(s);
            for d in provider.validate(&infra_provider::ValidateRequest { type_name: r.ty.clone(), data_source: r.mode == Mode::Data, config: cfg.clone() }) {
                self.diags.push(attach_span(d, r, &addr.to_string()));
            }
            if r.mode == Mode::Data {
                let pending = self.depends_on_pending_change(mi, &deps);
                self.plan_data(mi, r, &addr, key, cfg, pending, &provider, &provider_key, schema.as_ref()).await;
                continue;
            }
            let mut prior_value = prior_value;
            let mut importing = None;
            let pending_import = self.imports.get_mut(&addr).map(|i| {
                i.used = true;
                i.id.clone()
            });
            if prior_value.is_none() {
                if let Some(id) = pending_import {
                    let resp = provider.import(ImportRequest { type_name: r.ty.clone(), id: id.clone() }).await;
                    let span = self.import_span(&addr);
                    for d in resp.diagnostics {
                        self.diags.push(match &span {
                            Some(s) => d.with_subject(Some(s.clone())).with_address(addr.to_string()),
                            None => attach_span(d, r, &addr.to_string()),
                        });
                    }
                    let resp_state = match resp.state {
                        Some(obj) => match self.check_not_managed_elsewhere(&addr, &obj, schema.as_ref()) {
                            Some(d) => {
                                self.diags.push(d);
                                None
                            }
                            None => Some(obj),
                        },
                        None => None,
                    };
                    if let Some(obj) = resp_state {
                        let obj = mark_sensitive(obj, schema.as_ref());
                        self.working.instances.insert(
                            addr.clone(),
                            Instance {
                                provider: provider_key.clone(),
                                value: obj.clone(),
                                dependencies: deps.clone(),
                                create_before_destroy: false,
                                deposed: Vec::new(),
                            },
                        );
                        prior_value = Some(obj);
                        importing = Some(id);
                    }
                }
            }
            let cfg = apply_ignore_changes(cfg, prior_value.as_ref(), &r.lifecycle.ignore_changes);
            let config_unknown = !cfg.is_wholly_known();
            let resp = provider.plan(PlanRequest { type_name: r.ty.clone(), prior: prior_value.clone(), config: cfg }).await;
            let had_errors = resp.diagnostics.iter().any(|d| d.is_error());
            for d in resp.diagnostics {
                self.diags.push(attach_span(d, r, &addr.to_string()));
            }
            if had_errors {
                self.store.set_instance(mi, &r.key(), key.clone(), Value::Unknown);
                continue;
            }
            let mut planned = mark_sensitive(resp.planned, schema.as_ref());
            let replace_requested = self.opts.replace.iter().any(|t| t.matches(&addr));
            let triggered = prior_value.is_some() && self.replace_triggered(mi, config, r, exp, &key);
            let (action, reason) = match &prior_value {
                None => (Action::Create, Reason::None),
                Some(_) if replace_requested => (replace_action(r), Reason::ReplaceByRequest),
                Some(_) if !resp.requires_replace.is_empty() => (replace_action(r), Reason::ReplaceBecauseCannotUpdate),
                Some(_) if triggered => (replace_action(r), Reason::ReplaceByTriggers),
                Some(prior) if prior.deep_unmark().equals(&planned.deep_unmark()) && planned.is_wholly_known() => (Action::NoOp, Reason::None),
                Some(_) => (Action::Update, Reason::None),
            };
            // The new object of a replacement is planned as a fresh create, as apply will create
            // it: its computed values show as known after apply, not as the old object's.
            if action.is_replace() {
                let cfg = match decode_resource(self.ctx, &with_instance(scope(self.ctx, &self.store, mi, config), exp, &key), r, &addr.to_string()) {
                    Ok(v) => v,
                    Err(d) => {
                        self.diags.extend(d);
                        continue;
                    }
                };
                let fresh = provider.plan(PlanRequest { type_name: r.ty.clone(), prior: None, config: cfg }).await;
                for d in fresh.diagnostics {
                    self.diags.push(attach_span(d, r, &addr.to_string()));
                }
                planned = mark_sensitive(fresh.planned, schema.as_ref());
            }
            if r.lifecycle.prevent_destroy && action.is_replace() {
                self.diags.push(
                    Diagnostic::error("Instance cannot be destroyed", format!("Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be replaced. To avoid this error, either disable prevent_destroy or change the plan so it does not replace it."))
                        .with_subject(r.span.clone())
                        .with_address(addr.to_string()),
                );
            }
            self.store.set_instance(mi, &r.key(), key.clone(), planned.clone());
            self.changes.push(ResourceChange {
                moved_from: self.moved.get(&addr).cloned(),
                addr,
                provider: provider_key.clone(),
                action,
                reason,
                before: prior_value,
                after: Some(planned),
                replace_paths: resp.requires_replace,
                importing,
                dependencies: deps.clone(),
                config_unknown,
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn plan_data(
        &mut self,
        mi: &ModuleInstance,
        r: &Resource,
        addr: &InstanceAddr,
        key: Option<InstanceKey>,
        cfg: Value,
        dependency_pending: bool,
        provider: &Arc<dyn Provider>,
        provider_key: &str,
        schema: Option<&Schema>,
    ) {
        // Read during apply when the configuration is not known yet, or when something it
        // depends on changes in this plan (it may read what that change makes).
        if !cfg.is_wholly_known() || dependency_pending {
            self.store.set_instance(mi, &r.key(), key, Value::Unknown);
            self.changes.push(ResourceChange {
                addr: addr.clone(),
                provider: provider_key.to_string(),
                action: Action::Read,
                reason: if dependency_pending { Reason::ReadBecauseDependencyPending } else { Reason::ReadBecauseConfigUnknown },
                before: None,
                after: Some(cfg),
                replace_paths: Vec::new(),
                importing: None,
                moved_from: None,
                dependencies: Vec::new(),
                config_unknown: false,
            });
            return;
        }
        let resp = provider.read_data(ReadDataRequest { type_name: r.ty.clone(), config: cfg }).await;
        let failed = resp.diagnostics.iter().any(|d| d.is_error());
        for d in resp.diagnostics {
            self.diags.push(attach_span(d, r, &addr.to_string()));
        }
        let v = if failed { Value::Unknown } else { mark_sensitive(resp.state, schema) };
        if !failed {
            self.data.insert(addr.clone(), v.clone());
        }
        self.store.set_instance(mi, &r.key(), key, v);
    }

    /// Deposed objects recorded in state (from an interrupted create-before-destroy): each is
    /// deleted, whatever else the plan does.
    fn deposed_changes(&self) -> Vec<ResourceChange> {
        if self.opts.mode == PlanMode::RefreshOnly {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (addr, inst) in &self.working.instances {
            if !self.opts.targets.is_empty() && !self.opts.targets.iter().any(|t| t.matches(addr)) {
                continue;
            }
            for d in &inst.deposed {
                out.push(ResourceChange {
                    addr: addr.clone(),
                    provider: inst.provider.clone(),
                    action: Action::Delete,
                    reason: Reason::DeleteBecauseDeposed,
                    before: Some(d.clone()),
                    after: None,
                    replace_paths: Vec::new(),
                    importing: None,
                    moved_from: None,
                    dependencies: inst.dependencies.clone(),
                    config_unknown: false,
                });
            }
        }
        out
    }

    /// True when one of the given resources (addresses as in `resource_deps`) has a planned
    /// change in this module instance.
    fn depends_on_pending_change(&self, mi: &ModuleInstance, deps: &[String]) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp && c.addr.module == *mi && deps.contains(&static_resource(&c.addr)))
    }

    /// True when a `replace_triggered_by` reference points at a resource that changes.
    fn replace_triggered(&self, mi: &ModuleInstance, _config: &Module, r: &Resource, _exp: &Expansion, _key: &Option<InstanceKey>) -> bool {
        for e in &r.lifecycle.replace_triggered_by {
            for rf in references(e) {
                let Some(name) = rf.attrs.first() else {
                    continue;
                };
                let (mode, ty, name) = if rf.root == "data" {
                    continue;
                } else {
                    (Mode::Managed, rf.root.clone(), name.clone())
                };
                if self
                    .changes
                    .iter()
                    .any(|c| c.addr.module == *mi && c.addr.mode == mode && c.addr.type_name == ty && c.addr.name == name && c.action != Action::NoOp)
                {
                    return true;
                }
            }
        }
        false
    }

    /// Every stored instance the configuration no longer has: deleted (or all, in destroy mode).
    async fn orphans(&mut self) {
        let addrs: Vec<InstanceAddr> = self.working.instances.keys().cloned().collect();
        for addr in addrs {
            if !self.opts.targets.is_empty() && !self.opts.targets.iter().any(|t| t.matches(&addr)) {
                continue;
            }
            let destroying = self.opts.mode == PlanMode::Destroy;
            if self.visited.contains(&addr) && !destroying {
                continue;
            }
            if self.opts.mode == PlanMode::RefreshOnly {
                continue;
            }
            let inst = self.working.instances[&addr].clone();
            if addr.mode == Mode::Data {
                // Data sources are not deleted, only forgotten.
                self.working.instances.remove(&addr);
                continue;
            }
            self.ensure_refreshed(&ProviderRef::parse(&inst.provider), &addr.type_name.clone()).await;
            let Some(inst) = self.working.instances.get(&addr).cloned() else {
                continue;
            };
            let reason = if destroying { Reason::DeleteBecauseDestroyMode } else { self.orphan_reason(&addr) };
            if let Some(r) = self.ctx.module(&addr.module.static_path()).and_then(|m| m.resources.get(&addr.resource_key())) {
                if r.lifecycle.prevent_destroy {
                    self.diags.push(
                        Diagnostic::error("Instance cannot be destroyed", format!("Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error, either disable prevent_destroy or change the plan so it does not destroy it."))
                            .with_subject(r.span.clone())
                            .with_address(addr.to_string()),
                    );
                }
            }
            self.changes.push(ResourceChange {
                addr: addr.clone(),
                provider: inst.provider.clone(),
                action: Action::Delete,
                reason,
                before: Some(inst.value.clone()),
                after: None,
                replace_paths: Vec::new(),
                importing: None,
                moved_from: self.moved.get(&addr).cloned(),
                dependencies: inst.dependencies.clone(),
                config_unknown: false,
            });
        }
    }

    /// Asks each provider whether it can delete what the plan deletes or replaces, so that a
    /// protected object stops the plan instead of a half-done apply.
    async fn check_deletes(&mut self) {
        let deleting: Vec<(InstanceAddr, String, Value)> = self
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete))
            .filter_map(|c| Some((c.addr.clone(), c.provider.clone(), c.before.clone()?)))
            .collect();
        for (addr, key, prior) in deleting {
            let Some(provider) = self.provider(&ProviderRef::parse(&key)).await else { continue };
            for d in provider.check_delete(&CheckDeleteRequest { type_name: addr.type_name.clone(), prior }) {
                let d = match self.ctx.module(&addr.module.static_path()).and_then(|m| m.resources.get(&addr.resource_key())) {
                    Some(r) => attach_span(d, r, &addr.to_string()),
                    None => d.with_address(addr.to_string()),
                };
                self.diags.push(d);
            }
        }
    }

    /// Lets each provider check the planned objects of a type together (conflicts between
    /// objects, such as overlapping subnets), before anything is applied.
    async fn check_planned(&mut self) {
        let mut groups: BTreeMap<String, Vec<(InstanceAddr, PlannedObject)>> = BTreeMap::new();
        for c in &self.changes {
            if let (Some(after), Mode::Managed) = (&c.after, c.addr.mode) {
                let object = PlannedObject { type_name: c.addr.type_name.clone(), value: after.clone(), changing: c.action != Action::NoOp };
                groups.entry(c.provider.clone()).or_default().push((c.addr.clone(), object));
            }
        }
        for (key, members) in groups {
            let Some(provider) = self.provider(&ProviderRef::parse(&key)).await else { continue };
            let objects = members.iter().map(|(_, o)| o.clone()).collect();
            for (i, d) in provider.check_planned(&CheckPlannedRequest { objects }) {
                let Some((addr, _)) = members.get(i) else { continue };
                let d = match self.ctx.module(&addr.module.static_path()).and_then(|m| m.resources.get(&addr.resource_key())) {
                    Some(r) => attach_span(d, r, &addr.to_string()),
                    None => d.with_address(addr.to_string()),
                };
                self.diags.push(d);
            }
        }
    }

    fn orphan_reason(&self, addr: &InstanceAddr) -> Reason {
        let Some(m) = self.ctx.module(&addr.module.static_path()) else {
            return Reason::DeleteBecauseNoModule;
        };
        if !self.store.modules.contains_key(&addr.module) {
            return Reason::DeleteBecauseNoModule;
        }
        match m.resources.get(&addr.resource_key()) {
            None => Reason::DeleteBecauseNoResourceConfig,
            Some(_) => match addr.key {
                Some(InstanceKey::Int(_)) => Reason::DeleteBecauseCountIndex,
                Some(InstanceKey::Str(_)) => Reason::DeleteBecauseEachKey,
                None => Reason::DeleteBecauseNoResourceConfig,
            },
        }
    }
}

impl walk::Visitor for Planner<'_> {
    fn with_store<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store)
    }

    fn report(&mut self, diags: Diagnostics) {
        self.diags.extend(diags);
    }

    async fn provider(&mut self, key: &ProviderRef) -> bool {
        // Configured lazily by the first resource that needs it; here only checked.
        let _ = Planner::provider(self, key).await;
        true
    }

    async fn before_resource(&mut self, _node: usize, mi: &ModuleInstance, r: &Resource) -> bool {
        let key = resolve_provider(&self.ctx.config, &mi.static_path(), r);
        if r.mode == Mode::Managed {
            self.ensure_refreshed(&key, &r.ty).await;
        }
        Planner::provider(self, &key).await.is_some()
    }

    async fn resource(&mut self, node: usize, mi: &ModuleInstance, config: &Module, r: &Resource, expansion: Option<&Expansion>) -> bool {
        if let Some(exp) = expansion {
            self.plan_resource(node, mi, config, r, exp).await;
        }
        true
    }
}

/// Deposed objects are deleted once their provider is configured and, when the resource is
/// still configured, after its node has run.
fn add_deposed_deletes(ctx: &Ctx, g: &mut ExecGraph, deposed: &[ResourceChange]) {
    for (i, c) in deposed.iter().enumerate() {
        let mut deps = Vec::new();
        for (e, n) in g.nodes.iter().enumerate() {
            if let ExecNode::Config(ci) = n {
                let id = &ctx.graph.nodes[*ci];
                let is_provider = id.kind == NodeKind::Provider(ProviderRef::parse(&c.provider));
                let is_resource = id.module == c.addr.module.static_path() && id.kind == NodeKind::Resource(c.addr.resource_key());
                if is_provider || is_resource {
                    deps.push(e);
                }
            }
        }
        g.nodes.push(ExecNode::DeleteDeposed(i));
        g.deps.push(deps);
    }
}

/// A replacement that creates first forces the resources it depends on to create first too:
/// otherwise the old dependency would have to go before the new dependent exists.
fn inherit_create_before_destroy(changes: &mut [ResourceChange]) {
    loop {
        let cbd: Vec<(String, Vec<String>)> =
            changes.iter().filter(|c| c.action == Action::CreateThenDelete).map(|c| (static_resource(&c.addr), c.dependencies.clone())).collect();
        let mut changed = false;
        for c in changes.iter_mut() {
            if c.action == Action::DeleteThenCreate && cbd.iter().any(|(_, deps)| deps.contains(&static_resource(&c.addr))) {
                c.action = Action::CreateThenDelete;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

fn replace_action(r: &Resource) -> Action {
    if r.lifecycle.create_before_destroy {
        Action::CreateThenDelete
    } else {
        Action::DeleteThenCreate
    }
}

fn drift_change(addr: &InstanceAddr, provider: &str, action: Action, before: Option<Value>, after: Option<Value>) -> ResourceChange {
    ResourceChange {
        addr: addr.clone(),
        provider: provider.to_string(),
        action,
        reason: Reason::None,
        before,
        after,
        replace_paths: Vec::new(),
        importing: None,
        moved_from: None,
        dependencies: Vec::new(),
        config_unknown: false,
    }
}

/// `ignore_changes`: the listed attributes keep their prior values.
pub(crate) fn apply_ignore_changes(cfg: Value, prior: Option<&Value>, ignore: &IgnoreChanges) -> Value {
    let Some(prior) = prior else { return cfg };
    let (Value::Object(mut m), Some(pm)) = (cfg.clone(), prior.as_map()) else {
        return cfg;
    };
    let names: Vec<String> = match ignore {
        IgnoreChanges::None => return cfg,
        IgnoreChanges::All => m.keys().cloned().collect(),
        IgnoreChanges::Attrs(a) => a.iter().map(|s| s.split(['.', '[']).next().unwrap_or(s).to_string()).collect(),
    };
    for n in names {
        if let Some(v) = pm.get(&n) {
            m.insert(n, v.clone());
        }
    }
    Value::Object(m)
}

/// Builds the execution graph: config nodes in dependency order, plus a delete node per
/// destroyed instance, ordered so dependents go first and replacements follow
/// create_before_destroy.
pub fn build_exec(ctx: &Ctx, changes: &[ResourceChange], working: &Working, allowed: &BTreeSet<usize>, mode: PlanMode) -> ExecGraph {
    let mut g = ExecGraph::default();
    let mut config_exec: BTreeMap<usize, usize> = BTreeMap::new();
    for &n in &ctx.graph.order {
        if !allowed.contains(&n) {
            continue;
        }
        if mode == PlanMode::Destroy && matches!(ctx.graph.nodes[n].kind, NodeKind::Resource(_) | NodeKind::Output(_)) {
            continue;
        }
        config_exec.insert(n, g.nodes.len());
        g.nodes.push(ExecNode::Config(n));
        g.deps.push(Vec::new());
    }
    for (&n, &e) in &config_exec {
        g.deps[e] = ctx.graph.deps[n].iter().filter_map(|d| config_exec.get(d).copied()).collect();
    }
    let resource_node = |addr: &InstanceAddr| -> Option<usize> {
        ctx.graph.index.get(&crate::graph::NodeId { module: addr.module.static_path(), kind: NodeKind::Resource(addr.resource_key()) }).copied()
    };
    // Delete nodes.
    let mut delete_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut deletes: Vec<(usize, &ResourceChange)> = Vec::new();
    for c in changes {
        if !matches!(c.action, Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete) {
            continue;
        }
        let e = g.nodes.len();
        g.nodes.push(ExecNode::Delete(c.addr.clone()));
        g.deps.push(Vec::new());
        // Providers (and what they read) must be ready before a delete.
        let provider_node = ctx.graph.index.get(&crate::graph::NodeId { module: Vec::new(), kind: NodeKind::Provider(ProviderRef::parse(&c.provider)) });
        if let Some(pe) = provider_node.and_then(|p| config_exec.get(p)) {
            g.deps[e].push(*pe);
        }
        delete_of.entry(static_resource(&c.addr)).or_default().push(e);
        deletes.push((e, c));
        let rn = resource_node(&c.addr).and_then(|n| config_exec.get(&n).copied());
        match (c.action, rn) {
            (Action::DeleteThenCreate, Some(rn)) => g.deps[rn].push(e),
            (Action::CreateThenDelete, Some(rn)) => {
                g.deps[e].push(rn);
                // Dependents move to the new object before the old one goes.
                for (other, deps) in g.deps.clone().iter().enumerate() {
                    if deps.contains(&rn) && matches!(g.nodes[other], ExecNode::Config(_)) {
                        g.deps[e].push(other);
                    }
                }
            }
            _ => {
                // An orphan goes after config resources that used to depend on it are updated.
                let me = static_resource(&c.addr);
                for (addr, inst) in &working.instances {
                    if inst.dependencies.contains(&me) {
                        if let Some(on) = resource_node(addr).and_then(|n| config_exec.get(&n)) {
                            g.deps[e].push(*on);
                        }
                    }
                }
            }
        }
    }
    // A delete waits for the deletes of everything that depends on it.
    for (e, c) in &deletes {
        let deps = working.instances.get(&c.addr).map(|i| i.dependencies.clone()).unwrap_or_else(|| c.dependencies.clone());
        for d in deps {
            for &target in delete_of.get(&d).into_iter().flatten() {
                if target != *e {
                    g.deps[target].push(*e);
                }
            }
        }
    }
    for d in &mut g.deps {
        d.sort();
        d.dedup();
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_lang::schema::{AttrSchema, BlockSchema, Nesting};
    use infra_lang::types::Type;

    #[test]
    fn sensitive_attributes_inside_nested_blocks_are_marked() {
        let inner = Schema::new().attr("password", AttrSchema::optional(Type::String).sensitive()).attr("user", AttrSchema::optional(Type::String));
        let schema = Schema::new().block("login", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 9, force_new: false, schema: inner });
        let v = Value::object([("login", Value::List(vec![Value::object([("password", Value::string("p")), ("user", Value::string("u"))])]))]);
        let marked = mark_sensitive(v, Some(&schema));
        let login = &marked.get_attr("login").unwrap().as_seq().unwrap()[0];
        assert!(login.get_attr("password").unwrap().is_sensitive());
        assert!(!login.get_attr("user").unwrap().is_sensitive());
    }

    #[test]
    fn nested_attribute_paths_point_into_the_right_block() {
        let sources = infra_lang::SourceMap::new();
        let dir = std::env::temp_dir().join(format!("infra-path-span-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), "resource \"x_sg\" \"a\" {\n  name = \"n\"\n  ingress {\n    port = 1\n  }\n  ingress {\n    port = 2\n  }\n}\n")
            .unwrap();
        let (m, d) = infra_lang::config::load_module(&sources, &dir);
        assert!(!d.has_errors());
        let r = &m.resources["x_sg.a"];
        let diag = Diagnostic::error("Bad port", "no").with_path(vec![PathStep::Attr("ingress".into()), PathStep::Index(1), PathStep::Attr("port".into())]);
        let span = attach_span(diag, r, "x_sg.a").subject.unwrap();
        assert_eq!(sources.pos(span.file, span.range.start).line, 7);
        let top = attach_span(Diagnostic::error("Bad", "no").with_path(vec![PathStep::Attr("name".into())]), r, "x_sg.a").subject.unwrap();
        assert_eq!(sources.pos(top.file, top.range.start).line, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod carry_marks_tests {
    use super::carry_marks;
    use infra_lang::value::Value;

    #[test]
    fn sensitive_paths_of_the_plan_survive_an_unmarked_provider_answer() {
        let planned = Value::object([
            ("id", Value::Unknown),
            ("content", Value::string("hunter2").sensitive()),
            ("tags", Value::Map([("a".to_string(), Value::string("x")), ("k".to_string(), Value::string("s").sensitive())].into())),
            ("list", Value::List(vec![Value::string("p"), Value::string("q").sensitive()])),
            ("plain", Value::string("v")),
        ]);
        let answered = Value::object([
            ("id", Value::string("f-1")),
            ("content", Value::string("hunter2")),
            ("tags", Value::Map([("a".to_string(), Value::string("x")), ("k".to_string(), Value::string("s"))].into())),
            ("list", Value::List(vec![Value::string("p"), Value::string("q")])),
            ("plain", Value::string("v")),
        ]);
        let out = carry_marks(&planned, answered);
        assert!(out.get_attr("content").is_some_and(Value::is_sensitive));
        assert!(!out.get_attr("id").is_some_and(Value::is_sensitive));
        assert!(!out.get_attr("plain").is_some_and(Value::is_sensitive));
        let tags = out.get_attr("tags").and_then(Value::as_map).cloned().unwrap_or_default();
        assert!(tags.get("k").is_some_and(Value::is_sensitive) && !tags.get("a").is_some_and(Value::is_sensitive));
        let list = out.get_attr("list").and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
        assert_eq!(list.iter().map(Value::is_sensitive).collect::<Vec<_>>(), vec![false, true]);
    }
}
