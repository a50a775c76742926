//! `infra destroy`: plans the destruction of everything the state records and applies it.

use super::apply::{confirm, run_apply};
use super::{take_lock, Cx, PlanArgs};
use crate::interrupts::Interrupts;
use crate::out::Exit;
use crate::{ops, render};
use infra_lang::eval::Phase;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub args: PlanArgs,
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Args { mut args, auto_approve } = a;
    args.destroy = true;
    let out = &cx.out;
    let interrupts = Interrupts::install(&cx.rt);
    let stack = ops::stack::read_stack(&cx.dir, &out.sources);
    let backend = ops::stack::backend_for(&stack.0, &cx.dir, &args.vars.vars, &args.vars.var_files).map_err(|d| cx.fail(d))?;
    take_lock(cx, &interrupts, &backend, "destroy", &args.lock_timeout, args.force_stale)?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    let mut ctx = ops::vars::load_stack(stack, &cx.dir, &args.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
    let p = ops::plan::plan(&cx.rt, &ctx, &state, &args.request()).map_err(|d| cx.fail(d))?;
    print!("{}", render::plan(&p, &out.style));
    if !p.has_changes() {
        return Ok(0);
    }
    if !auto_approve && !confirm("destroy", cx)? {
        return Ok(1);
    }
    ctx.phase = Phase::Apply;
    run_apply(cx, &interrupts, ctx, p, backend, &args)
}
