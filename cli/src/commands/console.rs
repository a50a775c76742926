//! `infra console`: evaluates expressions read from stdin, one per line, against the state's
//! values and the stack's variables and locals.

use super::{Cx, VarArgs};
use crate::out::Exit;
use crate::{ops, render};
use infra_lang::eval::Phase;
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
    let console = infra_core::console::Console::new(&ctx, &state).map_err(|d| out.fail(d))?;
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
                match console.eval(&expr) {
                    Ok(v) => println!("{}", render::console_value(&v, 0)),
                    Err(d) => {
                        out.diags(&d);
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
