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
        let doc = ops::planfile::read(&f).map_err(|d| cx.fail(d))?;
        let p = ops::planfile::to_plan(&doc).map_err(|d| cx.fail(d))?;
        // The file holds secrets in clear; what is shown of it is redacted as a plan is.
        if a.json {
            println!("{}", serde_json::to_string_pretty(&crate::json::plan(&p)).unwrap_or_default());
            return Ok(0);
        }
        println!("Saved plan for state lineage {} serial {} ({} mode):", doc.lineage, doc.serial, doc.mode.name());
        print!("{}", render::plan(&p, &cx.out.style));
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
