//! The console's scope: expressions evaluated against the configuration and the state, for
//! `infra console`. Resources are their stored values; variables, locals, module calls and
//! outputs are evaluated over them by the one walk.

use crate::addr::{InstanceKey, ModuleInstance};
use crate::state_io::Working;
use crate::walk::{self, Ctx, Expansion, Store};
use infra_lang::config::{Expr, Module, Resource};
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::eval::eval;
use infra_lang::value::Value;

pub struct Console<'a> {
    ctx: &'a Ctx,
    store: Store,
}

impl<'a> Console<'a> {
    /// Reads the resources stored in `state` and evaluates the rest of the configuration over
    /// them. Evaluation errors are not reported here: a value that failed is unknown, and an
    /// expression that uses it says so.
    pub fn new(ctx: &'a Ctx, state: &infra_state::StateFile) -> Result<Console<'a>, Diagnostics> {
        let w = Working::from_state(state).map_err(|e| Diagnostics::from(Diagnostic::error("Invalid state", e)))?;
        let mut store = Store::default();
        for (a, inst) in &w.instances {
            store.set_instance(&a.module, &a.resource_key(), a.key.clone(), inst.value.clone());
        }
        // The stored instance keys say how each resource expanded.
        for res in store.modules.values_mut() {
            for (exp, insts) in res.resources.values_mut() {
                *exp = if insts.keys().all(Option::is_none) {
                    Expansion::Single
                } else if insts.keys().all(|k| matches!(k, Some(InstanceKey::Int(_)))) {
                    Expansion::Count(insts.len())
                } else {
                    Expansion::ForEach(
                        insts
                            .keys()
                            .filter_map(|k| match k {
                                Some(InstanceKey::Str(s)) => Some((s.clone(), Value::Null)),
                                _ => None,
                            })
                            .collect(),
                    )
                };
            }
        }
        let mut visitor = FromState { store };
        walk::run_to_end(walk::walk(ctx, |_| true, &mut visitor));
        Ok(Console { ctx, store: visitor.store })
    }

    /// Evaluates an expression in the root module.
    pub fn eval(&self, expr: &Expr) -> Result<Value, Diagnostics> {
        let root = ModuleInstance::root();
        eval(expr, &walk::scope(self.ctx, &self.store, &root, &self.ctx.config)).map_err(Diagnostics::from)
    }
}

/// Leaves resources as state has them.
struct FromState {
    store: Store,
}

impl walk::Visitor for FromState {
    fn with_store<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store)
    }

    fn report(&mut self, _diags: Diagnostics) {}

    fn expands_resources(&self) -> bool {
        false
    }

    async fn resource(&mut self, _node: usize, _mi: &ModuleInstance, _config: &Module, _r: &Resource, _expansion: Option<&Expansion>) -> bool {
        true
    }
}
