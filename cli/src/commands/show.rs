//! `infra show [PLANFILE] [--json]`: the state, or what a saved plan will do.

use super::Cx;
use crate::out::Exit;
use crate::{ops, render};
use infra_core::state_io::Working;
use infra_lang::diag::Diagnostic;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    plan_file: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    if let Some(f) = a.plan_file {
        let text = ops::planfile::read_text(&f).map_err(|d| cx.fail(d))?;
        if a.json {
            println!("{text}");
            return Ok(0);
        }
        let doc = ops::planfile::parse(&f, text.as_bytes()).map_err(|d| cx.fail(d))?;
        print!("{}", render::saved_plan(&doc));
        return Ok(0);
    }
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    if a.json {
        println!("{}", String::from_utf8_lossy(&state.to_bytes()));
        return Ok(0);
    }
    let w = Working::from_state(&state).map_err(|e| cx.fail(Diagnostic::error("Invalid state", e)))?;
    for (addr, inst) in &w.instances {
        println!(
            "# {addr}:\n{} \"{}\" \"{}\" {}\n",
            if addr.mode == infra_lang::config::Mode::Data { "data" } else { "resource" },
            addr.type_name,
            addr.name,
            render::value(&inst.value, 0)
        );
    }
    Ok(0)
}
