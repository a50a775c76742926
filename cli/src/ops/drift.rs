//! Drift: the ignore rules of a stack and the engine call, with plain options in and the
//! report out.

use super::Result;
use infra_core::drift::{parse_ignore, DriftOptions, IgnoreRule, Report};
use infra_core::walk::Ctx;
use infra_lang::diag::Diagnostic;
use infra_state::StateFile;
use std::path::Path;

/// The stack's ignore file: `.infradriftignore` next to its `*.tf` files.
pub const IGNORE_FILE: &str = ".infradriftignore";

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub targets: Vec<String>,
    pub region: bool,
    pub include_defaults: bool,
    pub no_unmanaged: bool,
    /// An ignore file other than the stack's `.infradriftignore`.
    pub ignore_file: Option<std::path::PathBuf>,
}

/// The ignore rules: the file named, or the stack's `.infradriftignore` when there is one.
pub fn rules(dir: &Path, file: Option<&Path>) -> Result<Vec<IgnoreRule>> {
    let path = match file {
        Some(f) => dir.join(f),
        None => dir.join(IGNORE_FILE),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let shown = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
            parse_ignore(&text, &shown)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => Ok(Vec::new()),
        Err(e) => Err(Diagnostic::error("Cannot read the drift ignore file", format!("{}: {e}.", path.display())).into()),
    }
}

/// Refreshes the stack in full and reports its drift.
pub fn drift(rt: &tokio::runtime::Runtime, ctx: &Ctx, state: &StateFile, dir: &Path, r: &Request) -> Result<Report> {
    let plan = super::plan::options(&super::plan::Request {
        mode: infra_core::plan::PlanMode::RefreshOnly,
        refresh: true,
        refresh_full: true,
        targets: r.targets.clone(),
        replace: Vec::new(),
    })?;
    let opts = DriftOptions {
        plan,
        region: r.region,
        include_defaults: r.include_defaults,
        no_unmanaged: r.no_unmanaged,
        rules: rules(dir, r.ignore_file.as_deref())?,
    };
    rt.block_on(infra_core::drift::drift(ctx, state, &opts, &infra_core::hooks::NoHook))
}
