//! `infra show [PLANFILE] [--json]`: the state, or what a saved plan will do.

use super::Cx;
use crate::out::Exit;
use crate::{json, ops, render};
use infra_core::state_io::Working;
use infra_lang::diag::Diagnostic;
use infra_lang::value::from_json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A plan saved with plan --out; without it, the state is shown.
    plan_file: Option<PathBuf>,
    /// Print as JSON, in the format of terraform show -json.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    if let Some(f) = a.plan_file {
        let crypt = ops::encryption::resolve(&ops::stack::read_stack(&cx.dir, &cx.out.sources).0, &cx.dir, &[], &[]).map_err(|d| cx.fail(d))?.plan;
        let doc = ops::planfile::read(&f, crypt.as_deref()).map_err(|d| cx.fail(d))?;
        let p = ops::planfile::to_plan(&doc).map_err(|d| cx.fail(d))?;
        // The file holds secrets in clear; what is shown of it is redacted as a plan is.
        if a.json {
            // A file from before the configuration was saved in it shows none.
            let config: json::config::ConfigurationJson = serde_json::from_value(doc.configuration.clone()).unwrap_or_default();
            println!("{}", serde_json::to_string_pretty(&json::plan(&p, &config, &doc.timestamp)).unwrap_or_default());
            return Ok(0);
        }
        println!("Saved plan for state lineage {} serial {} ({} mode):", doc.lineage, doc.serial, doc.mode.name());
        print!("{}", render::plan(&p, &cx.out.style));
        return Ok(0);
    }
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    let w = Working::from_state(&state).map_err(|e| cx.fail(Diagnostic::error("Invalid state", e)))?;
    if a.json {
        // The stack's providers give their full names; a stack that does not load gives none.
        let (module, _) = ops::stack::read_stack(&cx.dir, &cx.out.sources);
        let config = json::config::configuration(&module);
        println!("{}", serde_json::to_string_pretty(&json::state(&w, Some(&config))).unwrap_or_default());
        return Ok(0);
    }
    for (addr, inst) in &w.instances {
        println!(
            "# {addr}:\n{} \"{}\" \"{}\" {}\n",
            if addr.mode == infra_lang::config::Mode::Data { "data" } else { "resource" },
            addr.type_name,
            addr.name,
            render::value(&inst.value, 0)
        );
    }
    if !state.outputs.is_empty() {
        // As terraform show: the root module's outputs after the resources, sensitive ones masked.
        println!("\nOutputs:\n");
        for (k, o) in &state.outputs {
            let shown = if o.sensitive { "(sensitive value)".to_string() } else { render::value(&from_json(&o.value), 0) };
            println!("{k} = {shown}");
        }
    }
    Ok(0)
}
