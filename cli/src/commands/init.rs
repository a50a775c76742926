//! `infra init [-backend-config KEY=VALUE|FILE]... [-migrate-state] [-reconfigure]`: the stack
//! loads, its providers are built in, the backend is configured (its `-backend-config` values
//! saved in `.infra/backend.json`) and its state is readable. When the backend changed since the
//! last init (local to s3, s3 to local), `-migrate-state` copies every workspace's state to the
//! new one, keeping lineage and serial, and refuses when the target holds another lineage.

use super::{Cx, VarArgs};
use crate::ops;
use crate::ops::backend::{Saved, Spec};
use crate::out::Exit;
use infra_lang::diag::Diagnostic;
use infra_lang::eval::Phase;
use infra_state::LockOptions;
use std::collections::BTreeMap;

#[derive(clap::Args, Default)]
pub struct Args {
    /// A backend setting, KEY=VALUE, or a file of them; repeatable (later ones win).
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
    /// Copy the state of every workspace from the previous backend into the new one.
    #[arg(long)]
    pub migrate_state: bool,
    /// Use the new backend configuration without copying any state into it.
    #[arg(long)]
    pub reconfigure: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let ctx = ops::vars::load(&cx.dir, &VarArgs::default().load_options(Phase::Validate), &cx.out.sources).map_err(|d| cx.fail(d))?;
    cx.out.diags(&ctx.preflight);
    if ctx.preflight.has_errors() {
        return Err(Exit(1));
    }
    let module = &ctx.config;
    let mut overrides = BTreeMap::new();
    for arg in &a.backend_config {
        overrides.extend(ops::backend::backend_config_arg(arg, &cx.dir).map_err(|d| cx.fail(d))?);
    }
    let kind = module.backend.as_ref().map(|b| b.kind.clone()).unwrap_or_else(|| "local".into());
    let saved = ops::backend::read_saved(&cx.dir).map_err(|d| cx.fail(d))?;
    if overrides.is_empty() {
        // A plain `init` keeps what the last one was given for the same backend.
        if let Some(s) = saved.as_ref().filter(|s| s.kind == kind) {
            overrides = s.settings.clone();
        }
    }
    let new = ops::backend::spec(module, &cx.dir, &overrides).map_err(|d| cx.fail(d))?;
    let crypt = ops::encryption::resolve(module, &cx.dir, &[], &[]).map_err(|d| cx.fail(d))?.state;
    // The backend the state was in before: what the last init saved, else the local default.
    let old = match &saved {
        Some(s) if s.kind == "s3" => match infra_state_s3::S3Config::from_settings(&s.resolved) {
            Ok(c) => Some(Spec::S3(c)),
            Err(_) => None,
        },
        Some(s) => s.resolved.get("path").map(|p| Spec::Local(p.into())),
        None => Some(Spec::Local(ops::stack::local_state_path(module, &cx.dir).map_err(|d| cx.fail(d))?)),
    };
    if let Some(old) = old.filter(|o| *o != new && !a.reconfigure) {
        let holds_state = old.workspaces(&cx.dir).map_err(|d| cx.fail(d))?.into_iter().any(|ws| {
            old.open(&cx.dir, &ws, crypt.clone())
                .ok()
                .and_then(|b| b.read().ok().flatten())
                .is_some_and(|s| !s.resources.is_empty() || !s.outputs.is_empty() || s.serial > 0)
        });
        if holds_state {
            if !a.migrate_state {
                return Err(cx.fail(Diagnostic::error(
                    "Backend configuration changed",
                    format!(
                        "The {} backend holds state, and the stack now uses the {} backend. Run infra init -migrate-state to copy every workspace's state into it, or infra init -reconfigure to use it without copying anything.",
                        old.kind(),
                        new.kind()
                    ),
                )));
            }
            migrate(cx, &old, &new, crypt.clone())?;
        }
    }
    let resolved = match &new {
        Spec::Local(p) => BTreeMap::from([("path".to_string(), p.display().to_string())]),
        Spec::S3(_) => {
            let mut all = ops::backend::block_settings(module).map_err(|d| cx.fail(d))?.map(|(_, s)| s).unwrap_or_default();
            all.extend(overrides.clone());
            all
        }
    };
    ops::backend::write_saved(&cx.dir, &Saved { kind: new.kind().to_string(), settings: overrides, resolved }).map_err(|d| cx.fail(d))?;
    let workspace = ops::backend::current_workspace(&cx.dir).map_err(|d| cx.fail(d))?;
    let backend = new.open(&cx.dir, &workspace, crypt.clone()).map_err(|d| cx.fail(d))?;
    ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    if new.kind() != "local" {
        println!("Successfully configured the backend \"{}\"!", new.kind());
    }
    println!("infra has been successfully initialized: providers are built in and the state ({}) is readable.", backend.location());
    Ok(0)
}

/// Copies every workspace's state from `old` to `new`, each under both backends' locks. A
/// target holding another lineage is refused before anything is written; one already holding
/// this state (same lineage, same or newer serial) is left as it is.
fn migrate(cx: &Cx, old: &Spec, new: &Spec, crypt: Option<std::sync::Arc<infra_state::encryption::Target>>) -> Result<(), Exit> {
    let mut plan = Vec::new();
    for ws in old.workspaces(&cx.dir).map_err(|d| cx.fail(d))? {
        let from = old.open(&cx.dir, &ws, crypt.clone()).map_err(|d| cx.fail(d))?;
        let to = new.open(&cx.dir, &ws, crypt.clone()).map_err(|d| cx.fail(d))?;
        let from_lock = ops::stack::lock(&from, "migrate-state", "0s", LockOptions::default()).map_err(|d| cx.fail(d))?;
        let to_lock = ops::stack::lock(&to, "migrate-state", "0s", LockOptions::default()).map_err(|d| cx.fail(d))?;
        let Some(state) = ops::stack::read_state_if_any(&from).map_err(|d| cx.fail(d))? else { continue };
        match ops::stack::read_state_if_any(&to).map_err(|d| cx.fail(d))? {
            Some(there) if there.lineage != state.lineage && (!there.resources.is_empty() || there.serial > 0) => {
                return Err(cx.fail(Diagnostic::error(
                    "Refusing to migrate over another state",
                    format!(
                        "{} already holds a state of lineage {:?} (serial {}), and {} has lineage {:?}: they are different states. Nothing was copied. Move one of them aside first.",
                        to.location(),
                        there.lineage,
                        there.serial,
                        from.location(),
                        state.lineage
                    ),
                )))
            }
            Some(there) if there.lineage == state.lineage && there.serial >= state.serial => {
                println!("Workspace {ws:?}: {} already holds serial {} of this state; left as it is.", to.location(), there.serial);
                continue;
            }
            _ => {}
        }
        plan.push((ws, from, to, state, from_lock, to_lock));
    }
    for (ws, from, to, state, _from_lock, _to_lock) in plan {
        to.write(&state).map_err(|e| cx.fail(Diagnostic::error("Failed to migrate state", format!("{e}."))))?;
        println!("Workspace {ws:?}: copied lineage {} serial {} from {} to {}.", state.lineage, state.serial, from.location(), to.location());
    }
    Ok(())
}
