//! `infra init`: the stack loads, its providers are built in and the state is readable.

use super::{Cx, VarArgs};
use crate::ops;
use crate::out::Exit;
use infra_lang::eval::Phase;

pub fn run(cx: &Cx) -> Result<i32, Exit> {
    let ctx = ops::vars::load(&cx.dir, &VarArgs::default().load_options(Phase::Validate), &cx.out.sources).map_err(|d| cx.fail(d))?;
    cx.out.diags(&ctx.preflight);
    if ctx.preflight.has_errors() {
        return Err(Exit(1));
    }
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    println!("infra has been successfully initialized: providers are built in and the state ({}) is readable.", backend.path.display());
    Ok(0)
}
