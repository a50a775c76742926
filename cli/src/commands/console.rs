//! `infra console`: evaluates expressions read from stdin, one per line, against the state's
//! values and the stack's variables and locals.

use super::{Cx, VarArgs};
use crate::out::Exit;
use crate::{ops, render};
use infra_core::state_io::Working;
use infra_lang::diag::Diagnostic;
use infra_lang::eval::Phase;
use infra_lang::value::Value;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    vars: VarArgs,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let (dir, out) = (&cx.dir, &cx.out);
    let mut ctx = ops::vars::load(dir, &a.vars.load_options(Phase::Validate), &out.sources).map_err(|d| out.fail(d))?;
    ctx.phase = Phase::Console;
    let backend = ops::stack::backend(dir, &out.sources).map_err(|d| out.fail(d))?;
    let state = ops::stack::read_state(&backend).map_err(|d| out.fail(d))?;
    let w = Working::from_state(&state).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
    let mut store = infra_core::walk::Store::default();
    // Resources are their stored values; variables and locals are evaluated.
    for (a, inst) in &w.instances {
        store.set_instance(&a.module, &a.resource_key(), a.key.clone(), inst.value.clone());
    }
    for res in store.modules.values_mut() {
        for (exp, insts) in res.resources.values_mut() {
            *exp = if insts.keys().all(Option::is_none) {
                infra_core::walk::Expansion::Single
            } else if insts.keys().all(|k| matches!(k, Some(infra_core::addr::InstanceKey::Int(_)))) {
                infra_core::walk::Expansion::Count(insts.len())
            } else {
                infra_core::walk::Expansion::ForEach(
                    insts
                        .keys()
                        .filter_map(|k| match k {
                            Some(infra_core::addr::InstanceKey::Str(s)) => Some((s.clone(), Value::Null)),
                            _ => None,
                        })
                        .collect(),
                )
            };
        }
    }
    let root = infra_core::addr::ModuleInstance::root();
    for &n in &ctx.graph.order {
        let id = &ctx.graph.nodes[n];
        if !id.module.is_empty() {
            continue;
        }
        match &id.kind {
            infra_core::graph::NodeKind::Var(v) => drop(infra_core::walk::eval_var(&ctx, &mut store, &root, &ctx.config, v)),
            infra_core::graph::NodeKind::Local(l) => drop(infra_core::walk::eval_local(&ctx, &mut store, &root, &ctx.config, l)),
            _ => {}
        }
    }
    let mut code = 0;
    for line in std::io::stdin().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (id, parsed) = infra_lang::parse::parse_expr_source(&out.sources, "<console-input>", &line);
        match parsed {
            Ok(e) => {
                let expr = infra_lang::config::Expr { file: id, expr: Arc::new(e) };
                let s = infra_core::walk::scope(&ctx, &store, &root, &ctx.config);
                match infra_lang::eval::eval(&expr, &s) {
                    Ok(v) => println!("{}", render::console_value(&v, 0)),
                    Err(d) => {
                        out.diags(&d.into());
                        code = 1;
                    }
                }
            }
            Err(d) => {
                out.diags(&d.into());
                code = 1;
            }
        }
    }
    Ok(code)
}
