//! Apply: runs a plan's execution graph on tokio with a parallelism bound. Each finished
//! object is written to state before its dependents start (writes that finish together are
//! committed together). A failed object stops only what depends on it. Cancellation starts
//! nothing new and lets in-flight work finish.

use crate::addr::{InstanceAddr, ModuleInstance};
use crate::hooks::Hook;
use crate::plan::{apply_ignore_changes, attach_span, carry_marks, mark_sensitive, resource_deps, Action, ExecNode, Plan, PlanMode};
use crate::state_io::{self, Instance, Working};
use crate::walk::{self, decode_resource, scope, with_instance, Ctx, Expansion, Store};
use infra_lang::config::{Mode, Module, ProviderRef};
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::value::Value;
use infra_provider::{CreateRequest, DeleteRequest, PlanRequest, Provider, ReadDataRequest, UpdateRequest};
use infra_state::{Backend, JournalSink, PendingCreate};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct ApplyOptions {
    pub parallelism: usize,
    /// Set to stop scheduling new work (first Ctrl-C).
    pub cancel: Arc<AtomicBool>,
    /// How often a slow operation reports progress.
    pub progress_every: Duration,
    /// Tests only: called at every step boundary, so a test can stop the run there (or kill
    /// the process) and check what a crash at that step leaves behind.
    pub fault_hook: Option<FaultHook>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { parallelism: 10, cancel: Arc::new(AtomicBool::new(false)), progress_every: Duration::from_secs(10), fault_hook: None }
    }
}

/// See [`ApplyOptions::fault_hook`].
pub type FaultHook = Arc<dyn Fn(FaultPoint<'_>) -> FaultAction + Send + Sync>;

/// A step boundary of an apply, named by the instance address (`aws_vpc.main[0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPoint<'a> {
    /// The create intent is durable; the provider's create has not been called.
    BeforeCreate { addr: &'a str },
    /// The provider's create returned; nothing about it is in state yet.
    AfterCreate { addr: &'a str },
    /// The provider's delete is about to be called (for the old half of a replacement too).
    BeforeDelete { addr: &'a str },
    /// A journal record about this instance was appended (not yet synced).
    AfterJournalWrite { addr: &'a str },
}

/// What the run does at a fault point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    Continue,
    /// Stop as a crash at this point would: the step's remaining work (the provider call,
    /// the state record) is not done, nothing new is scheduled, and the run reports an error.
    /// After a journal write the record stays; only scheduling stops.
    Stop,
}

#[derive(Debug, Default)]
pub struct ApplyResult {
    pub diagnostics: Diagnostics,
    pub cancelled: bool,
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    pub outputs: BTreeMap<String, (Value, bool)>,
}

struct Run {
    ctx: Arc<Ctx>,
    plan: Plan,
    store: Mutex<Store>,
    working: Mutex<Working>,
    backend: Arc<dyn Backend>,
    /// The apply's write-ahead journal: every change to `working` is appended here.
    journal: Mutex<Option<Box<dyn JournalSink>>>,
    /// Bumped on every change to `working`; `written` is the newest change that is durable.
    version: AtomicU64,
    written: AtomicU64,
    write_lock: tokio::sync::Mutex<()>,
    providers: tokio::sync::Mutex<BTreeMap<ProviderRef, Arc<dyn Provider>>>,
    sem: tokio::sync::Semaphore,
    hook: Arc<dyn Hook>,
    opts: ApplyOptions,
    diags: Mutex<Diagnostics>,
    counts: Mutex<(usize, usize, usize)>,
}

enum Change {
    Upsert(InstanceAddr, Instance),
    Remove(InstanceAddr),
    PendingAdd(PendingCreate),
    PendingRemove(String),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    fn error(&self, d: Diagnostic) {
        lock(&self.diags).push(d);
    }

    /// Asks the test hook whether to go on past `point`; on a stop, cancels the run.
    fn fault(&self, point: FaultPoint<'_>) -> bool {
        let Some(hook) = &self.opts.fault_hook else {
            return true;
        };
        if hook(point) == FaultAction::Continue {
            return true;
        }
        self.opts.cancel.store(true, Ordering::SeqCst);
        self.error(Diagnostic::error("Apply stopped by a test hook", format!("The run was stopped at {point:?}.")));
        false
    }

    /// Makes every change made so far durable; concurrent callers share one fsync.
    async fn persist(&self) -> bool {
        let wanted = self.version.load(Ordering::SeqCst);
        let _g = self.write_lock.lock().await;
        if self.written.load(Ordering::SeqCst) >= wanted {
            return true;
        }
        let v = self.version.load(Ordering::SeqCst);
        let synced = match lock(&self.journal).as_mut() {
            Some(j) => j.sync(),
            None => Ok(()),
        };
        match synced {
            Ok(()) => {
                self.written.store(v, Ordering::SeqCst);
                true
            }
            Err(e) => {
                self.error(Diagnostic::error(
                    "Failed to persist state",
                    format!("Syncing the state journal failed: {e}. The objects created so far exist; state could not record them."),
                ));
                false
            }
        }
    }

    /// Changes the working state and appends the matching journal record.
    fn record(&self, change: Change) {
        let addr = match &change {
            Change::Upsert(a, _) | Change::Remove(a) => a.to_string(),
            Change::PendingAdd(p) => p.address.clone(),
            Change::PendingRemove(token) => {
                lock(&self.working).pending.iter().find(|p| &p.idempotency_token == token).map(|p| p.address.clone()).unwrap_or_default()
            }
        };
        let rec = {
            let mut w = lock(&self.working);
            match change {
                Change::Upsert(addr, inst) => {
                    let rec = state_io::upsert_record(&addr, &inst);
                    w.instances.insert(addr, inst);
                    rec
                }
                Change::Remove(addr) => {
                    w.instances.remove(&addr);
                    state_io::remove_record(&addr)
                }
                Change::PendingAdd(p) => {
                    w.pending.push(p.clone());
                    infra_state::JournalRecord::PendingAdd { pending: p }
                }
                Change::PendingRemove(token) => {
                    w.pending.retain(|p| p.idempotency_token != token);
                    infra_state::JournalRecord::PendingRemove { idempotency_token: token }
                }
            }
        };
        let appended = match lock(&self.journal).as_mut() {
            Some(j) => match j.append(&rec) {
                Ok(()) => true,
                Err(e) => {
                    self.error(Diagnostic::error("Failed to persist state", format!("Appending to the state journal failed: {e}.")));
                    false
                }
            },
            None => false,
        };
        self.version.fetch_add(1, Ordering::SeqCst);
        if appended {
            self.fault(FaultPoint::AfterJournalWrite { addr: &addr });
        }
    }

    async fn provider(&self, key: &ProviderRef) -> Option<Arc<dyn Provider>> {
        let mut map = self.providers.lock().await;
        if let Some(p) = map.get(key) {
            return Some(p.clone());
        }
        let snapshot = lock(&self.store).clone();
        match walk::configure_provider(&self.ctx, &snapshot, key).await {
            Ok(p) => {
                map.insert(key.clone(), p.clone());
                Some(p)
            }
            Err(d) => {
                lock(&self.diags).extend(d);
                None
            }
        }
    }

    /// Runs a provider call, reporting progress while it is slow.
    async fn timed<F: std::future::Future>(&self, addr: &str, action: Action, fut: F) -> F::Output {
        let _permit = self.sem.acquire().await;
        let started = Instant::now();
        tokio::pin!(fut);
        let mut tick = tokio::time::interval(self.opts.progress_every);
        tick.tick().await;
        loop {
            tokio::select! {
                out = &mut fut => return out,
                _ = tick.tick() => self.hook.apply_progress(addr, action, started.elapsed()),
            }
        }
    }

    async fn run_node(self: Arc<Self>, node: usize) -> bool {
        match self.plan.exec.nodes[node].clone() {
            ExecNode::Delete(addr) => match self.plan.change(&addr).cloned() {
                Some(change) => self.delete(&addr, change).await,
                None => true,
            },
            ExecNode::DeleteDeposed(i) => match self.plan.deposed.get(i).cloned() {
                Some(change) => self.delete(&change.addr.clone(), change).await,
                None => true,
            },
            ExecNode::Config(n) => self.config_node(n).await,
        }
    }

    async fn config_node(&self, n: usize) -> bool {
        walk::visit_node(&self.ctx, n, &mut Applying(self)).await
    }

    /// Applies every instance of a resource in one module instance (the walk has expanded them).
    async fn resource(&self, node: usize, mi: &ModuleInstance, config: &Module, r: &infra_lang::config::Resource, exp: &Expansion) -> bool {
        let key_ref = crate::graph::resolve_provider(&self.ctx.config, &mi.static_path(), r);
        let provider_key = key_ref.to_string();
        let family = key_ref.name.clone();
        let schema =
            self.ctx.schemas.get(&family).and_then(|s| if r.mode == Mode::Managed { s.resources.get(&r.ty) } else { s.data_sources.get(&r.ty) }).cloned();
        let Some(provider) = self.provider(&key_ref).await else {
            return false;
        };
        let deps = resource_deps(&self.ctx, node);
        let mut tasks = Vec::new();
        for key in exp.keys() {
            let addr = InstanceAddr { module: mi.clone(), mode: r.mode, type_name: r.ty.clone(), name: r.name.clone(), key: key.clone() };
            let change = self.plan.change(&addr).cloned();
            let prior = lock(&self.working).instances.get(&addr).map(|i| i.value.clone());
            let action = change.as_ref().map(|c| c.action).unwrap_or(Action::NoOp);
            if r.mode == Mode::Managed && action == Action::NoOp {
                lock(&self.store).set_instance(mi, &r.key(), key.clone(), prior.or_else(|| change.and_then(|c| c.after)).unwrap_or(Value::Unknown));
                continue;
            }
            // A data source read while planning keeps the value the plan was made with.
            if r.mode == Mode::Data && action != Action::Read {
                if let Some(v) = self.plan.data.get(&addr) {
                    lock(&self.store).set_instance(mi, &r.key(), key.clone(), v.clone());
                    continue;
                }
            }
            let config_unknown = change.as_ref().is_some_and(|c| c.config_unknown);
            let shown = change.and_then(|c| c.after);
            // The configuration is evaluated again only where the plan could not: a data source
            // read now, or an instance whose configuration had values known only after apply,
            // which upstream results now give. Otherwise the planned value is applied as shown.
            let needs_config = r.mode == Mode::Data || config_unknown || shown.is_none();
            let cfg = if needs_config {
                let store = lock(&self.store);
                let s = with_instance(scope(&self.ctx, &store, mi, config), exp, &key);
                decode_resource(&self.ctx, &s, r, &addr.to_string()).map(Some)
            } else {
                Ok(None)
            };
            let cfg = match cfg {
                Ok(c) => c,
                Err(d) => {
                    lock(&self.diags).extend(d);
                    return false;
                }
            };
            tasks.push((addr, key, action, prior, shown, cfg));
        }
        // Instances of one resource run in parallel, bounded by the semaphore.
        let results = futures_join(tasks.into_iter().map(|(addr, key, action, prior, shown, cfg)| {
            let provider = provider.clone();
            let schema = schema.clone();
            let deps = deps.clone();
            let provider_key = provider_key.clone();
            async move {
                let v = if r.mode == Mode::Data {
                    self.read_data(&addr, &provider, cfg.unwrap_or_default(), schema.as_ref(), r).await
                } else {
                    let planned = Planned { shown, config: cfg };
                    self.apply_instance(&addr, action, prior, planned, &provider, &provider_key, schema.as_ref(), deps, r).await
                };
                (key, v)
            }
        }))
        .await;
        let mut ok = true;
        for (key, v) in results {
            match v {
                Some(v) => lock(&self.store).set_instance(mi, &r.key(), key, v),
                None => ok = false,
            }
        }
        ok
    }

    async fn read_data(
        &self,
        addr: &InstanceAddr,
        provider: &Arc<dyn Provider>,
        cfg: Value,
        schema: Option<&infra_lang::schema::Schema>,
        r: &infra_lang::config::Resource,
    ) -> Option<Value> {
        let resp = provider.read_data(ReadDataRequest { type_name: addr.type_name.clone(), config: cfg }).await;
        let failed = resp.diagnostics.iter().any(|d| d.is_error());
        for d in resp.diagnostics {
            self.error(attach_span(d, r, &addr.to_string()));
        }
        if failed {
            return None;
        }
        Some(mark_sensitive(resp.state, schema))
    }

    /// The value the plan showed for an instance, completed where it had unknowns: the
    /// configuration (evaluated now, with upstream results known) is planned again, and the
    /// result must agree with every value the plan knew.
    async fn final_planned(
        &self,
        addr: &InstanceAddr,
        plan_prior: Option<&Value>,
        planned: Planned,
        provider: &Arc<dyn Provider>,
        schema: Option<&infra_lang::schema::Schema>,
        r: &infra_lang::config::Resource,
    ) -> Option<Value> {
        let name = addr.to_string();
        let (shown, cfg) = match planned {
            Planned { shown: Some(shown), config: None } => return Some(shown),
            Planned { shown, config: Some(cfg) } => (shown.unwrap_or(Value::Unknown), cfg),
            Planned { shown: None, config: None } => {
                self.error(
                    Diagnostic::error("Internal error", format!("apply has neither a planned value nor the configuration of {name}."))
                        .with_address(name.clone()),
                );
                return None;
            }
        };
        let cfg = match plan_prior {
            Some(prior) => apply_ignore_changes(cfg, Some(prior), &r.lifecycle.ignore_changes),
            None => cfg,
        };
        let resp = provider.plan(PlanRequest { type_name: addr.type_name.clone(), prior: plan_prior.cloned(), config: cfg }).await;
        if resp.diagnostics.iter().any(|d| d.is_error()) {
            for d in resp.diagnostics {
                self.error(attach_span(d, r, &name));
            }
            return None;
        }
        let replanned = carry_marks(&shown, mark_sensitive(resp.planned, schema));
        let differ = inconsistencies(&shown, &replanned);
        if !differ.is_empty() {
            self.error(
                Diagnostic::error(
                    "Provider produced inconsistent final plan",
                    format!(
                        "When completing the plan for {name} with the values now known, the provider planned values that differ from the plan that was shown: {}. Nothing was changed for {name}. This is a bug in the provider; report it to the provider's maintainers, and plan again.",
                        differ.join("; ")
                    ),
                )
                .with_subject(r.span.clone())
                .with_address(name.clone()),
            );
            return None;
        }
        Some(replanned)
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_instance(
        &self,
        addr: &InstanceAddr,
        action: Action,
        prior: Option<Value>,
        planned: Planned,
        provider: &Arc<dyn Provider>,
        provider_key: &str,
        schema: Option<&infra_lang::schema::Schema>,
        deps: Vec<String>,
        r: &infra_lang::config::Resource,
    ) -> Option<Value> {
        let name = addr.to_string();
        let creating = matches!(action, Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete);
        let plan_prior = if creating { None } else { prior.clone() };
        let planned_value = self.final_planned(addr, plan_prior.as_ref(), planned, provider, schema, r).await?;
        // What the provider must give back: every value known here.
        let expected = planned_value.clone();
        // Providers answer unmarked values: what was sensitive in the plan stays so in state.
        let marks = planned_value.contains_sensitive().then(|| planned_value.clone());
        let remark = |v: Value| match &marks {
            Some(m) => carry_marks(m, mark_sensitive(v, schema)),
            None => mark_sensitive(v, schema),
        };
        let started = Instant::now();
        let shown_action = if creating { Action::Create } else { Action::Update };
        self.hook.apply_start(&name, shown_action);
        let mut confirm_token = None;
        let (state, diags) = if creating {
            let token = uuid::Uuid::new_v4().to_string();
            confirm_token = Some(token.clone());
            if provider.journals_creates() {
                self.record(Change::PendingAdd(PendingCreate {
                    address: name.clone(),
                    provider: provider_key.to_string(),
                    type_name: addr.type_name.clone(),
                    idempotency_token: token.clone(),
                    started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    planned: Some(infra_lang::value::to_json(&planned_value)),
                }));
                if !self.persist().await {
                    return None;
                }
            }
            if !self.fault(FaultPoint::BeforeCreate { addr: &name }) {
                return None;
            }
            let resp = self
                .timed(
                    &name,
                    Action::Create,
                    provider.create(CreateRequest { type_name: addr.type_name.clone(), planned: planned_value, idempotency_token: token.clone() }),
                )
                .await;
            if !self.fault(FaultPoint::AfterCreate { addr: &name }) {
                return None;
            }
            if provider.journals_creates() {
                self.record(Change::PendingRemove(token.clone()));
            }
            (resp.state, resp.diagnostics)
        } else {
            let resp = self
                .timed(
                    &name,
                    Action::Update,
                    provider.update(UpdateRequest { type_name: addr.type_name.clone(), prior: prior.clone().unwrap_or_default(), planned: planned_value }),
                )
                .await;
            (resp.state, resp.diagnostics)
        };
        let mut failed = diags.iter().any(|d| d.is_error());
        let mut first_error = diags.iter().find(|d| d.is_error()).cloned();
        for d in diags {
            let op = if creating { "create" } else { "update" };
            let d = Diagnostic { detail: format!("{} This happened while infra was trying to {op} {name}.", d.detail.trim_end()), ..d };
            self.error(attach_span(d, r, &name));
        }
        // The object is recorded as the provider returned it (below) either way; a value
        // that differs from a known planned one fails the run, as in Terraform.
        if let (false, Some(new)) = (failed, &state) {
            let differ = inconsistencies(&expected, new);
            if !differ.is_empty() {
                let d = Diagnostic::error(
                    "Provider produced an inconsistent result after apply",
                    format!(
                        "When applying changes to {name}, provider \"{provider_key}\" produced an unexpected new value: {}. The object is recorded in state as the provider returned it. This is a bug in the provider; report it to the provider's maintainers.",
                        differ.join("; ")
                    ),
                )
                .with_subject(r.span.clone())
                .with_address(name.clone());
                failed = true;
                first_error = Some(d.clone());
                self.error(d);
            }
        }
        if let Some(new) = &state {
            let new = remark(new.clone());
            let cbd = r.lifecycle.create_before_destroy;
            // The object a create-before-destroy replacement supersedes is recorded as deposed
            // in the same record, so it is never lost if the run stops before deleting it.
            let mut deposed = lock(&self.working).instances.get(addr).map(|i| i.deposed.clone()).unwrap_or_default();
            if action == Action::CreateThenDelete {
                deposed.extend(prior.clone());
            }
            self.record(Change::Upsert(
                addr.clone(),
                Instance { provider: provider_key.to_string(), value: new, dependencies: deps.clone(), create_before_destroy: cbd, deposed },
            ));
        }
        let persisted = self.persist().await;
        if let (true, true, Some(recorded), Some(token)) = (persisted, provider.journals_creates(), &state, &confirm_token) {
            let resp = provider
                .confirm_create(infra_provider::ConfirmCreateRequest {
                    type_name: addr.type_name.clone(),
                    state: recorded.clone(),
                    idempotency_token: token.clone(),
                })
                .await;
            for d in resp.diagnostics {
                self.error(Diagnostic { severity: infra_lang::Severity::Warning, ..d }.with_address(name.clone()));
            }
        }
        let id = state.as_ref().and_then(|s| s.get_attr("id")).and_then(|v| v.as_str().map(str::to_string));
        self.hook.apply_done(&name, shown_action, started.elapsed(), id.as_deref(), first_error.as_ref());
        if failed || !persisted {
            return None;
        }
        let mut counts = lock(&self.counts);
        if creating {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        state.map(remark)
    }

    /// Deletes the object a change names: the current instance, or (create-before-destroy and
    /// leftovers) a deposed object, which is then removed from the instance's deposed list.
    async fn delete(&self, addr: &InstanceAddr, change: crate::plan::ResourceChange) -> bool {
        let deposed = change.action == Action::CreateThenDelete || change.reason == crate::plan::Reason::DeleteBecauseDeposed;
        let name = if deposed { format!("{addr} (deposed object)") } else { addr.to_string() };
        let Some(provider) = self.provider(&ProviderRef::parse(&change.provider)).await else {
            return false;
        };
        let prior = change.before.clone().unwrap_or_default();
        if !self.fault(FaultPoint::BeforeDelete { addr: &addr.to_string() }) {
            return false;
        }
        let started = Instant::now();
        self.hook.apply_start(&name, Action::Delete);
        let resp = self.timed(&name, Action::Delete, provider.delete(DeleteRequest { type_name: addr.type_name.clone(), prior: prior.clone() })).await;
        let first_error = resp.diagnostics.iter().find(|d| d.is_error()).cloned();
        for d in resp.diagnostics {
            let d = Diagnostic { detail: format!("{} This happened while infra was trying to delete {name}.", d.detail.trim_end()), ..d };
            self.error(d.with_address(name.clone()));
        }
        if first_error.is_none() {
            if deposed {
                let current = lock(&self.working).instances.get(addr).cloned();
                if let Some(mut inst) = current {
                    let gone = prior.deep_unmark();
                    if let Some(pos) = inst.deposed.iter().position(|d| d.deep_unmark().equals(&gone)) {
                        inst.deposed.remove(pos);
                    }
                    self.record(Change::Upsert(addr.clone(), inst));
                }
            } else {
                self.record(Change::Remove(addr.clone()));
            }
        }
        let persisted = self.persist().await;
        self.hook.apply_done(&name, Action::Delete, started.elapsed(), None, first_error.as_ref());
        if first_error.is_none() {
            lock(&self.counts).2 += 1;
        }
        first_error.is_none() && persisted
    }
}

/// What apply knows of an instance's planned value: the value the plan showed and, when the
/// plan could not evaluate all of its configuration, the configuration evaluated now.
struct Planned {
    shown: Option<Value>,
    config: Option<Value>,
}

/// Where `actual` differs from a value `planned` knew, as `.path: was X, but now Y` (sensitive
/// values are not shown). Unknown planned values may become anything; a set holding unknowns
/// is not compared element by element (its order is the provider's).
pub fn inconsistencies(planned: &Value, actual: &Value) -> Vec<String> {
    fn shown(v: &Value, hidden: bool) -> String {
        if hidden || v.contains_sensitive() {
            "(sensitive value)".to_string()
        } else {
            match v.unmark().0 {
                Value::Unknown => "(known after apply)".to_string(),
                other => infra_lang::value::to_json(other).to_string(),
            }
        }
    }
    fn walk(p: &Value, a: &Value, path: &mut String, hidden: bool, out: &mut Vec<String>) {
        let hidden = hidden || p.is_sensitive() || a.is_sensitive();
        let (pv, av) = (p.unmark().0, a.unmark().0);
        let differs = |out: &mut Vec<String>, path: &str| {
            let at = if path.is_empty() { "the object".to_string() } else { path.to_string() };
            out.push(format!("{at}: was {}, but now {}", shown(p, hidden), shown(a, hidden)));
        };
        match (pv, av) {
            (Value::Unknown, _) => {}
            (Value::Object(pm) | Value::Map(pm), Value::Object(am) | Value::Map(am)) => {
                let keys: std::collections::BTreeSet<&String> = pm.keys().chain(am.keys()).collect();
                for k in keys {
                    let len = path.len();
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && matches!(pv, Value::Object(_)) {
                        path.push('.');
                        path.push_str(k);
                    } else {
                        path.push_str(&format!("[{}]", serde_json::Value::String(k.clone())));
                    }
                    match (pm.get(k), am.get(k)) {
                        (Some(x), Some(y)) => walk(x, y, path, hidden, out),
                        (Some(x), None) if !x.is_null() && !x.is_unknown() => walk(x, &Value::Null, path, hidden, out),
                        (None, Some(y)) if !y.is_null() => walk(&Value::Null, y, path, hidden, out),
                        _ => {}
                    }
                    path.truncate(len);
                }
            }
            (Value::Set(_), _) if !p.is_wholly_known() => {}
            (Value::List(ps) | Value::Tuple(ps) | Value::Set(ps), Value::List(xs) | Value::Tuple(xs) | Value::Set(xs)) => {
                if ps.len() != xs.len() {
                    differs(out, path);
                    return;
                }
                for (i, (x, y)) in ps.iter().zip(xs).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(x, y, path, hidden, out);
                    path.truncate(len);
                }
            }
            _ => {
                if !pv.equals(av) {
                    differs(out, path);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(planned, actual, &mut String::new(), false, &mut out);
    out
}

/// Apply's part of the walk: the walker evaluates and expands, the run applies resources.
struct Applying<'a>(&'a Run);

impl walk::Visitor for Applying<'_> {
    fn with_store<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut lock(&self.0.store))
    }

    fn report(&mut self, diags: Diagnostics) {
        lock(&self.0.diags).extend(diags);
    }

    async fn provider(&mut self, key: &ProviderRef) -> bool {
        self.0.provider(key).await.is_some()
    }

    async fn before_resource(&mut self, _node: usize, mi: &ModuleInstance, r: &infra_lang::config::Resource) -> bool {
        self.0.provider(&crate::graph::resolve_provider(&self.0.ctx.config, &mi.static_path(), r)).await.is_some()
    }

    async fn resource(&mut self, node: usize, mi: &ModuleInstance, config: &Module, r: &infra_lang::config::Resource, expansion: Option<&Expansion>) -> bool {
        match expansion {
            Some(exp) => self.0.resource(node, mi, config, r, exp).await,
            None => true,
        }
    }
}

async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    // Poll all futures concurrently on this task (they borrow from the node).
    let futs: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..futs.len()).map(|_| None).collect();
    let mut futs: Vec<Option<std::pin::Pin<Box<F>>>> = futs.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, slot) in futs.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        outputs[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Applies `plan` against `backend`, starting from the plan's prior state.
pub async fn apply(ctx: Arc<Ctx>, plan: Plan, backend: impl Into<Arc<dyn Backend>>, opts: ApplyOptions, hook: Arc<dyn Hook>) -> ApplyResult {
    let backend: Arc<dyn Backend> = backend.into();
    let mut working = plan.prior.clone();
    working.serial = plan.serial + 1;
    // The starting point (refreshed, moved, imported, adopted) is written in full; from there on
    // each finished object is one journal record.
    let journal = match backend.begin_journal(&working.to_state()) {
        Ok(j) => Some(j),
        Err(e) => {
            return ApplyResult { diagnostics: Diagnostic::error("Failed to persist state", format!("{e}. Nothing was changed.")).into(), ..Default::default() }
        }
    };
    let n = plan.exec.nodes.len();
    let refresh_only = plan.mode == PlanMode::RefreshOnly;
    let run = Arc::new(Run {
        sem: tokio::sync::Semaphore::new(opts.parallelism.max(1)),
        ctx,
        plan,
        store: Mutex::new(Store::default()),
        working: Mutex::new(working),
        backend,
        journal: Mutex::new(journal),
        version: AtomicU64::new(0),
        written: AtomicU64::new(0),
        write_lock: tokio::sync::Mutex::new(()),
        providers: tokio::sync::Mutex::new(BTreeMap::new()),
        hook,
        opts,
        diags: Mutex::new(Diagnostics::new()),
        counts: Mutex::new((0, 0, 0)),
    });
    let mut cancelled = false;
    if !refresh_only {
        let mut waiting: Vec<usize> = run.plan.exec.deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, ds) in run.plan.exec.deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let mut blocked = vec![false; n];
        let mut set = tokio::task::JoinSet::new();
        let mut started = vec![false; n];
        let spawn = |set: &mut tokio::task::JoinSet<(usize, bool)>, i: usize| {
            let r = run.clone();
            set.spawn(async move { (i, r.run_node(i).await) });
        };
        for i in 0..n {
            if waiting[i] == 0 {
                started[i] = true;
                spawn(&mut set, i);
            }
        }
        while let Some(joined) = set.join_next().await {
            let (i, ok) = match joined {
                Ok(v) => v,
                Err(e) => {
                    run.error(Diagnostic::error("Internal error", format!("an apply task failed: {e}")));
                    continue;
                }
            };
            if !ok {
                // Everything downstream of a failure is skipped.
                let mut stack = dependents[i].clone();
                while let Some(d) = stack.pop() {
                    if !blocked[d] {
                        blocked[d] = true;
                        stack.extend(dependents[d].iter().copied());
                    }
                }
            }
            if run.opts.cancel.load(Ordering::SeqCst) {
                if !cancelled {
                    run.hook.stopping();
                }
                cancelled = true;
                continue;
            }
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && !blocked[d] && !started[d] {
                    started[d] = true;
                    spawn(&mut set, d);
                }
            }
        }
        cancelled |= run.opts.cancel.load(Ordering::SeqCst);
        let stuck: Vec<usize> = (0..n).filter(|&i| !started[i] && !blocked[i]).collect();
        if !cancelled && !stuck.is_empty() {
            run.error(Diagnostic::error(
                "Apply could not finish",
                format!(
                    "{} planned operations never became ready to run (first: {:?}). Nothing after them was applied.",
                    stuck.len(),
                    run.plan.exec.nodes[stuck[0]]
                ),
            ));
        }
    }
    // Root outputs, once everything they need has run.
    let all_ok = !lock(&run.diags).has_errors() && !cancelled;
    let outputs: BTreeMap<String, (Value, bool)> = if refresh_only {
        run.plan.prior.outputs.clone()
    } else {
        let store = lock(&run.store);
        store
            .modules
            .get(&ModuleInstance::root())
            .map(|m| {
                m.outputs
                    .iter()
                    // A null output is not stored, as in Terraform: absent from `output`,
                    // `output --json` and the state.
                    .filter(|(_, v)| v.is_wholly_known() && !v.is_null())
                    .map(|(k, v)| (k.clone(), (v.clone(), run.ctx.config.outputs.get(k).is_some_and(|o| o.sensitive))))
                    .collect()
            })
            .unwrap_or_default()
    };
    if all_ok || refresh_only {
        let destroy = run.plan.mode == PlanMode::Destroy;
        lock(&run.working).outputs = if destroy { BTreeMap::new() } else { outputs.clone() };
    }
    run.persist().await;
    let final_state = {
        let mut w = lock(&run.working);
        w.serial += 1;
        w.to_state()
    };
    lock(&run.journal).take();
    if let Err(e) = run.backend.finish_journal(&final_state) {
        run.error(Diagnostic::error(
            "Failed to persist state",
            format!("{e}. The journal next to the state file still holds every change; the next run replays it."),
        ));
    }
    let (added, changed, destroyed) = *lock(&run.counts);
    let diagnostics = lock(&run.diags).clone();
    ApplyResult { diagnostics, cancelled, added, changed, destroyed, outputs }
}
