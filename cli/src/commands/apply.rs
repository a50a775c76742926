//! `infra apply [PLANFILE]`: makes the changes a plan describes, a fresh one (after
//! confirmation) or one saved by `plan --out`; also the apply run `destroy` shares.

use super::{take_lock, Cx, PlanArgs};
use crate::interrupts::Interrupts;
use crate::ops::stack::StateBackend;
use crate::out::Exit;
use crate::{ops, progress, render};
use infra_core::apply::{apply, ApplyOptions};
use infra_core::plan::{Plan, PlanMode};
use infra_lang::diag::Diagnostic;
use infra_lang::eval::Phase;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub args: PlanArgs,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// A plan file saved with `plan --out`.
    pub plan_file: Option<PathBuf>,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Args { args, auto_approve, plan_file } = a;
    let out = &cx.out;
    if plan_file.is_none() && !args.destroy {
        super::require_config(
            cx,
            "Apply requires configuration to be present. Applying without a configuration would mark everything for destruction, which is normally not what is desired. If you would like to destroy everything, run infra destroy instead.",
        )?;
    }
    let interrupts = Interrupts::install(&cx.rt);
    let stack = ops::stack::read_stack(&cx.dir, &out.sources);
    let backend = ops::stack::backend_for(&stack.0, &cx.dir, &args.vars.vars, &args.vars.var_files).map_err(|d| cx.fail(d))?;
    let saved = match &plan_file {
        Some(f) => {
            let crypt = ops::encryption::resolve(&stack.0, &cx.dir, &args.vars.vars, &args.vars.var_files).map_err(|d| cx.fail(d))?.plan;
            let doc = ops::planfile::read(f, crypt.as_deref()).map_err(|d| cx.fail(d))?;
            ops::planfile::check_cli_vars(&doc, &stack.0, &cx.dir, &args.vars.vars, &out.sources).map_err(|d| cx.fail(d))?;
            Some(doc)
        }
        None => None,
    };
    // A saved plan applies only to the configuration it was made from: refused before the
    // lock is taken or anything is read from providers.
    if let Some(doc) = &saved {
        ops::planfile::check_config(doc, &cx.dir, &stack.0).map_err(|d| cx.fail(d))?;
    }
    take_lock(cx, &interrupts, &backend, "apply", &args.lock_timeout, args.force_stale)?;
    let state = match (ops::stack::read_state_if_any(&backend).map_err(|d| cx.fail(d))?, &saved) {
        (Some(state), _) => state,
        (None, Some(doc)) => ops::planfile::fresh_state(doc),
        (None, None) => infra_state::StateFile::new(),
    };
    let p = match &saved {
        Some(doc) => {
            ops::planfile::check_state(doc, &state).map_err(|d| cx.fail(d))?;
            // The variables are the plan's: nothing is read from the terminal or the environment.
            let load = ops::vars::LoadOptions { vars: vec![], var_files: vec![], phase: Phase::Plan, prompt_missing: false };
            let mut ctx = ops::vars::load_stack(stack, &cx.dir, &load, &out.sources).map_err(|d| cx.fail(d))?;
            ctx.input_vars = ops::planfile::variables(doc);
            let mut p = ops::planfile::to_plan(doc).map_err(|d| cx.fail(d))?;
            infra_core::plan::rebuild_exec(&ctx, &mut p).map_err(|d| cx.fail(d))?;
            (ctx, p)
        }
        None => {
            let ctx = ops::vars::load_stack(stack, &cx.dir, &args.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
            let p = ops::plan::plan(&cx.rt, &ctx, &state, &args.request()).map_err(|d| cx.fail(d))?;
            out.diags(&p.warnings);
            print!("{}", render::plan(&p, &out.style));
            (ctx, p)
        }
    };
    let (mut ctx, p) = p;
    if !p.has_changes() && p.mode != PlanMode::RefreshOnly {
        return Ok(0);
    }
    if saved.is_none() && !auto_approve && !confirm("apply", cx)? {
        return Ok(1);
    }
    ctx.phase = Phase::Apply;
    run_apply(cx, &interrupts, ctx, p, backend, &args)
}

/// Asks on the terminal; without one, the user must have said `--auto-approve`.
pub(super) fn confirm(verb: &str, cx: &Cx) -> Result<bool, Exit> {
    // As Terraform: -input=false (or TF_INPUT=0) disables the approval prompt too, so the
    // operation is taken as not approved and fails.
    if !crate::out::globals().input {
        return Err(cx.fail(Diagnostic::error(
            "No confirmation",
            format!(
                "Confirmation is needed to {verb}, but input is disabled (-input=false or TF_INPUT=0), so it is taken as not approved. Use --auto-approve."
            ),
        )));
    }
    if !std::io::stdin().is_terminal() {
        return Err(cx.fail(Diagnostic::error(
            "No confirmation",
            format!("infra {verb} needs confirmation, but standard input is not a terminal. Use --auto-approve."),
        )));
    }
    print!("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim() != "yes" {
        println!("\n{} cancelled.", if verb == "destroy" { "Destroy" } else { "Apply" });
        return Ok(false);
    }
    Ok(true)
}

/// Runs the plan with progress on stderr; the first interrupt lets in-flight operations finish,
/// the second exits at once (see `crate::interrupts`).
pub(super) fn run_apply(cx: &Cx, interrupts: &Interrupts, ctx: infra_core::walk::Ctx, p: Plan, backend: StateBackend, args: &PlanArgs) -> Result<i32, Exit> {
    let out = &cx.out;
    let cancel = interrupts.start_apply();
    let destroy = p.mode == PlanMode::Destroy;
    let res = cx.rt.block_on(apply(
        Arc::new(ctx),
        p,
        backend,
        ApplyOptions { parallelism: args.parallelism, cancel, fault_hook: crash_test_hook(), ..Default::default() },
        Arc::new(progress::CliHook { style: render::Style::from_env() }),
    ));
    out.diags(&res.diagnostics);
    if res.cancelled {
        eprintln!("{}", out.style.red("Apply interrupted: the state records everything that finished."));
        return Err(Exit(1));
    }
    if res.diagnostics.has_errors() {
        return Err(Exit(1));
    }
    if destroy {
        println!("\n{} Resources: {} destroyed.", out.style.green(&out.style.bold("Destroy complete!")), res.destroyed);
    } else {
        println!(
            "\n{} Resources: {} added, {} changed, {} destroyed.",
            out.style.green(&out.style.bold("Apply complete!")),
            res.added,
            res.changed,
            res.destroyed
        );
        if !res.outputs.is_empty() {
            println!("\nOutputs:\n");
            for (k, (v, sens)) in &res.outputs {
                println!("{k} = {}", if *sens { "<sensitive>".to_string() } else { render::value(v, 0) });
            }
        }
    }
    Ok(0)
}

/// The crash tests kill the process at a step of an apply: `INFRA_TEST_ABORT_AFTER_CREATE`
/// (between a provider's create and the state write) or `INFRA_TEST_ABORT_BEFORE_DELETE`
/// (between a create-before-destroy create and its delete), each naming an instance address.
/// Only the CLI reads these; the engine takes the hook.
fn crash_test_hook() -> Option<infra_core::apply::FaultHook> {
    let after_create = std::env::var("INFRA_TEST_ABORT_AFTER_CREATE").ok();
    let before_delete = std::env::var("INFRA_TEST_ABORT_BEFORE_DELETE").ok();
    if after_create.is_none() && before_delete.is_none() {
        return None;
    }
    Some(Arc::new(move |point| {
        use infra_core::apply::FaultPoint;
        let (wanted, addr) = match point {
            FaultPoint::AfterCreate { addr } => (&after_create, addr),
            FaultPoint::BeforeDelete { addr } => (&before_delete, addr),
            _ => return infra_core::apply::FaultAction::Continue,
        };
        if wanted.as_deref() == Some(addr) {
            std::process::abort();
        }
        infra_core::apply::FaultAction::Continue
    }))
}
