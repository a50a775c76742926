//! `infra graph`: the configuration graph in DOT.

use super::{Cx, VarArgs};
use crate::ops;
use crate::out::Exit;
use infra_lang::eval::Phase;

pub fn run(cx: &Cx) -> Result<i32, Exit> {
    let ctx = ops::vars::load(&cx.dir, &VarArgs::default().load_options(Phase::Validate), &cx.out.sources).map_err(|d| cx.fail(d))?;
    print!("{}", ctx.graph.to_dot());
    Ok(0)
}
