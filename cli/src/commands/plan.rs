//! `infra plan`: what apply would change, optionally saved for `infra apply FILE`.

use super::{take_lock, Cx, PlanArgs};
use crate::interrupts::Interrupts;
use crate::out::Exit;
use crate::{json, ops, render};
use infra_lang::diag::Diagnostic;
use infra_lang::eval::Phase;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub args: PlanArgs,
    /// Save the plan to this file for `infra apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// For each import block whose target has no resource block, write one to this new .tf
    /// file in the stack directory, then plan with it.
    #[arg(long, value_name = "FILE")]
    pub generate_config_out: Option<PathBuf>,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Args { args, out: plan_out, detailed_exitcode, generate_config_out } = a;
    let out = &cx.out;
    if !args.destroy {
        super::require_config(
            cx,
            "Plan requires configuration to be present. Planning without a configuration would mark everything for destruction, which is normally not what is desired. If you would like to destroy everything, run plan with the --destroy option. Otherwise, create a configuration file (.tf file) and try again.",
        )?;
    }
    let generate = match &generate_config_out {
        Some(f) => Some(ops::import::check_generate_target(&cx.dir, f).map_err(|d| cx.fail(d))?),
        None => None,
    };
    let interrupts = Interrupts::install(&cx.rt);
    let stack = ops::stack::read_stack(&cx.dir, &out.sources);
    let backend = ops::stack::backend_for(&stack.0, &cx.dir, &args.vars.vars, &args.vars.var_files).map_err(|d| cx.fail(d))?;
    take_lock(cx, &interrupts, &backend, "plan", &args.lock_timeout, args.force_stale)?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    let mut ctx = ops::vars::load_stack(stack, &cx.dir, &args.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
    let request = args.request();
    let mut opts = ops::plan::options(&request).map_err(|d| cx.fail(d))?;
    opts.generate_config = generate.is_some();
    let mut p = ops::plan::plan_with(&cx.rt, &ctx, &state, &opts).map_err(|d| cx.fail(d))?;
    let mut wrote = None;
    if let (Some(path), false) = (&generate, p.generated.is_empty()) {
        // As Terraform does: write the blocks, then plan again with them as part of the stack.
        std::fs::write(path, ops::import::generated_file(&p.generated))
            .map_err(|e| cx.fail(Diagnostic::error("Cannot write generated configuration", format!("Writing {} failed: {e}.", path.display()))))?;
        wrote = generate_config_out.clone();
        let stack = ops::stack::read_stack(&cx.dir, &out.sources);
        ctx = ops::vars::load_stack(stack, &cx.dir, &args.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
        p = ops::plan::plan(&cx.rt, &ctx, &state, &request).map_err(|d| cx.fail(d))?;
    }
    out.diags(&p.warnings);
    let configuration = json::config::configuration(&ctx.config);
    let timestamp = json::values::rfc3339(std::time::SystemTime::now());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json::plan(&p, &configuration, &timestamp)).unwrap_or_default());
    } else {
        print!("{}", render::plan(&p, &out.style));
    }
    if let (Some(file), false) = (&wrote, args.json) {
        println!(
            "\ninfra has generated configuration and written it to {}. Please review the configuration and edit it as necessary before adding it to version control.",
            file.display()
        );
    }
    if let Some(file) = plan_out {
        let reads = ctx.file_reads.snapshot();
        let var_files = ops::vars::var_files(&cx.dir, &args.vars.var_files);
        let inputs = ops::planfile::config_files(&cx.dir, &ctx.config, &var_files, &reads).map_err(|d| cx.fail(d))?;
        let crypt = ops::encryption::resolve(&ctx.config, &cx.dir, &args.vars.vars, &args.vars.var_files).map_err(|d| cx.fail(d))?.plan;
        let doc = ops::planfile::from_plan(&p, &request, inputs, serde_json::to_value(&configuration).unwrap_or_default(), timestamp);
        ops::planfile::save(&file, &doc, crypt.as_deref()).map_err(|d| cx.fail(d))?;
        if !args.json {
            println!("\nSaved the plan to: {}", file.display());
            // TF_IN_AUTOMATION: the pipeline runs the next step; no hint for a person.
            if std::env::var_os("TF_IN_AUTOMATION").is_none_or(|v| v.is_empty()) {
                println!("To perform exactly these actions, run: infra apply {}", file.display());
            }
        }
    }
    Ok(if detailed_exitcode && p.has_changes() { 2 } else { 0 })
}
