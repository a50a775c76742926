//! Planning: what the user asked for (mode, refresh, targets) and the engine call.

use super::Result;
use infra_core::addr::{parse_target, Target};
use infra_core::plan::{Plan, PlanMode, PlanOptions};
use infra_core::walk::Ctx;
use infra_lang::diag::Diagnostic;
use infra_state::StateFile;

/// A plan request as the user spelled it (addresses not parsed yet); also what a saved plan
/// file records, so applying it plans the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub mode: PlanMode,
    pub refresh: bool,
    pub refresh_full: bool,
    pub targets: Vec<String>,
    pub replace: Vec<String>,
}

/// The engine's options; an address that does not parse is an error naming it.
pub fn options(r: &Request) -> Result<PlanOptions> {
    let parse = |v: &[String]| -> Result<Vec<Target>> {
        v.iter().map(|t| parse_target(t).map_err(|e| Diagnostic::error("Invalid target address", format!("{e}.")).into())).collect()
    };
    Ok(PlanOptions {
        mode: r.mode,
        refresh: r.refresh,
        refresh_full: r.refresh_full,
        targets: parse(&r.targets)?,
        replace: parse(&r.replace)?,
        ..PlanOptions::default()
    })
}

/// Plans the loaded stack against `state`.
pub fn plan(rt: &tokio::runtime::Runtime, ctx: &Ctx, state: &StateFile, r: &Request) -> Result<Plan> {
    plan_with(rt, ctx, state, &options(r)?)
}

/// Plans with options beyond what a saved plan records (imports from the command line,
/// configuration generation).
pub fn plan_with(rt: &tokio::runtime::Runtime, ctx: &Ctx, state: &StateFile, opts: &PlanOptions) -> Result<Plan> {
    rt.block_on(infra_core::plan::plan(ctx, state, opts, &infra_core::hooks::NoHook))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_target_names_itself() {
        let r = Request { mode: PlanMode::Normal, refresh: true, refresh_full: false, targets: vec!["not an address".into()], replace: vec![] };
        let err = options(&r).err().map(|d| d.0[0].summary.clone());
        assert_eq!(err.as_deref(), Some("Invalid target address"));
        let r = Request { targets: vec!["terraform_data.a".into()], ..r };
        assert_eq!(options(&r).map(|o| o.targets.len()).ok(), Some(1));
    }
}
