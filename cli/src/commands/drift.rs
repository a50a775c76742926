//! `infra drift`: what changed outside infra, what went missing, and what exists in the
//! managed scope without being managed. Exit 0 no drift, 2 drift, 1 error.

use super::{take_lock, Cx, VarArgs};
use crate::interrupts::Interrupts;
use crate::out::Exit;
use crate::{drift_report, ops};
use infra_lang::eval::Phase;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// What the managed objects contain: their VPCs, their clusters, their hosts.
    Managed,
    /// Every object of the stack's types in its region.
    Region,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Limit the report to these resources (and what they depend on).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Wait this long for the state lock, e.g. 30s.
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
    /// Where to look for unmanaged objects.
    #[arg(long, value_enum, default_value_t = Scope::Managed)]
    pub scope: Scope,
    /// Also report objects the cloud makes by itself (default security groups, main route
    /// tables, the default VPC; on a VPS host, what Debian packages ship).
    #[arg(long)]
    pub include_defaults: bool,
    /// Do not look for unmanaged objects.
    #[arg(long)]
    pub no_unmanaged: bool,
    /// Read ignore rules from this file instead of the stack's .infradriftignore.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Also list what ignore rules hid, with the rule.
    #[arg(long)]
    pub show_ignored: bool,
    /// Print the report as JSON (docs/drift-json.md).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the report as Markdown for a pull request comment or an issue.
    #[arg(long)]
    pub markdown: bool,
    /// Accept the real values of changed and missing objects into the state (as
    /// `apply --refresh-only`); unmanaged objects stay unmanaged.
    #[arg(long)]
    pub fix_state: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let out = &cx.out;
    let interrupts = Interrupts::install(&cx.rt);
    let stack = ops::stack::read_stack(&cx.dir, &out.sources);
    let backend = ops::stack::backend_for(&stack.0, &cx.dir, &a.vars.vars, &a.vars.var_files).map_err(|d| cx.fail(d))?;
    take_lock(cx, &interrupts, &backend, "drift", &a.lock_timeout, false)?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    let ctx = ops::vars::load_stack(stack, &cx.dir, &a.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
    let request = ops::drift::Request {
        targets: a.targets.clone(),
        region: a.scope == Scope::Region,
        include_defaults: a.include_defaults,
        no_unmanaged: a.no_unmanaged,
        ignore_file: a.ignore_file.clone(),
    };
    let report = ops::drift::drift(&cx.rt, &ctx, &state, &cx.dir, &request).map_err(|d| cx.fail(d))?;
    out.diags(&report.plan.warnings);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&drift_report::json(&report, a.show_ignored)).unwrap_or_default());
    } else if a.markdown {
        let name = cx.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        print!("{}", drift_report::markdown(&report, &name, a.show_ignored, drift_report::MARKDOWN_LIMIT));
    } else {
        print!("{}", drift_report::human(&report, &out.style, a.show_ignored));
    }
    let code = if report.has_drift() { 2 } else { 0 };
    let managed_drift = report.shown().any(|f| f.kind != infra_core::drift::Kind::Unmanaged);
    if a.fix_state && managed_drift {
        let args = super::PlanArgs {
            vars: a.vars.clone(),
            refresh: true,
            refresh_only: true,
            refresh_full: true,
            destroy: false,
            targets: a.targets.clone(),
            replace: Vec::new(),
            parallelism: 10,
            lock_timeout: a.lock_timeout.clone(),
            force_stale: false,
            json: false,
        };
        let mut ctx = ctx;
        ctx.phase = Phase::Apply;
        if !a.json && !a.markdown {
            println!("\nAccepting the real values into the state (--fix-state).");
        }
        super::apply::run_apply(cx, &interrupts, ctx, report.plan, backend, &args)?;
    }
    Ok(code)
}
