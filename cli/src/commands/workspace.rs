//! `infra workspace list|new|select|show|delete`: separate states of one stack (staging,
//! production). The local backend keeps them in `infra.tfstate.d/NAME/`, the s3 backend under
//! `workspace_key_prefix/NAME/key`; the selection is `.infra/environment`, overridden by
//! `INFRA_WORKSPACE` or `TF_WORKSPACE`.

use super::Cx;
use crate::ops;
use crate::ops::backend::{check_workspace_name, current_workspace, select_workspace};
use crate::out::Exit;
use clap::Subcommand;
use infra_lang::diag::Diagnostic;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: WorkspaceCmd,
}

#[derive(Subcommand)]
pub enum WorkspaceCmd {
    /// The workspaces, the selected one marked with `*`.
    List,
    /// The selected workspace's name.
    Show,
    /// Create a workspace and select it.
    New {
        /// The new workspace's name (letters, digits, `-` and `_`).
        name: String,
        /// Start it from this state file instead of an empty state.
        #[arg(long)]
        state: Option<std::path::PathBuf>,
    },
    /// Select a workspace.
    Select {
        /// The workspace to select.
        name: String,
        /// Create it when it does not exist.
        #[arg(long)]
        or_create: bool,
    },
    /// Delete a workspace's state. Refused for the selected workspace, and for one whose state
    /// still records objects unless --force.
    Delete {
        /// The workspace to delete.
        name: String,
        /// Delete it even though its state still records objects (they are left in the cloud).
        #[arg(long)]
        force: bool,
    },
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let out = &cx.out;
    let (module, _) = ops::stack::read_stack(&cx.dir, &out.sources);
    let spec = ops::backend::configured(&module, &cx.dir).map_err(|d| cx.fail(d))?;
    let crypt = ops::encryption::resolve(&module, &cx.dir, &[], &[]).map_err(|d| cx.fail(d))?.state;
    let current = current_workspace(&cx.dir).map_err(|d| cx.fail(d))?;
    let from_env = ["INFRA_WORKSPACE", "TF_WORKSPACE"].iter().find(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()));
    match a.cmd {
        WorkspaceCmd::Show => {
            println!("{current}");
            Ok(0)
        }
        WorkspaceCmd::List => {
            let mut names = spec.workspaces(&cx.dir).map_err(|d| cx.fail(d))?;
            if !names.contains(&current) {
                names.push(current.clone());
            }
            for n in names {
                println!("{} {n}", if n == current { "*" } else { " " });
            }
            Ok(0)
        }
        WorkspaceCmd::New { name, state } => {
            check_workspace_name(&name).map_err(|d| cx.fail(d))?;
            if spec.workspaces(&cx.dir).map_err(|d| cx.fail(d))?.contains(&name) {
                return Err(cx.fail(Diagnostic::error(
                    "Workspace already exists",
                    format!("Workspace {name:?} already exists. Select it with infra workspace select {name}."),
                )));
            }
            let backend = spec.open(&cx.dir, &name, crypt.clone()).map_err(|d| cx.fail(d))?;
            let initial = match state {
                Some(f) => {
                    let bytes = std::fs::read(&f).map_err(|e| cx.fail(Diagnostic::error("Cannot read the state", format!("{}: {e}.", f.display()))))?;
                    infra_state::StateFile::from_slice(&bytes).map_err(|e| cx.fail(Diagnostic::error("Invalid state", format!("{}: {e}.", f.display()))))?
                }
                None => infra_state::StateFile::new(),
            };
            // The new workspace exists once its (empty) state does: `list` finds it from there.
            backend.write(&initial).map_err(|e| cx.fail(Diagnostic::error("Cannot create the workspace", format!("{e}."))))?;
            if let Some(var) = from_env {
                println!("Created workspace {name:?}; {var} selects the workspace, so it was not selected.");
                return Ok(0);
            }
            select(cx, &name, None)?;
            println!("Created and switched to workspace {name:?}!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"infra plan\" infra will not see any existing state\nfor this configuration.");
            Ok(0)
        }
        WorkspaceCmd::Select { name, or_create } => {
            check_workspace_name(&name).map_err(|d| cx.fail(d))?;
            if !spec.workspaces(&cx.dir).map_err(|d| cx.fail(d))?.contains(&name) {
                if !or_create {
                    return Err(cx.fail(Diagnostic::error(
                        "Workspace doesn't exist",
                        format!("Workspace {name:?} doesn't exist. You can create it with infra workspace new {name}, or select it with --or-create."),
                    )));
                }
                let backend = spec.open(&cx.dir, &name, crypt.clone()).map_err(|d| cx.fail(d))?;
                backend.write(&infra_state::StateFile::new()).map_err(|e| cx.fail(Diagnostic::error("Cannot create the workspace", format!("{e}."))))?;
                println!("Created workspace {name:?}.");
            }
            select(cx, &name, from_env)?;
            println!("Switched to workspace {name:?}.");
            Ok(0)
        }
        WorkspaceCmd::Delete { name, force } => {
            if name == "default" {
                return Err(cx.fail(Diagnostic::error("Cannot delete the default workspace", "The default workspace always exists.")));
            }
            if name == current {
                return Err(cx.fail(Diagnostic::error(
                    "Workspace is selected",
                    format!("Workspace {name:?} is your active workspace: select another one before deleting it."),
                )));
            }
            if !spec.workspaces(&cx.dir).map_err(|d| cx.fail(d))?.contains(&name) {
                return Err(cx.fail(Diagnostic::error("Workspace doesn't exist", format!("Workspace {name:?} doesn't exist."))));
            }
            let backend = spec.open(&cx.dir, &name, crypt.clone()).map_err(|d| cx.fail(d))?;
            // Its lock is taken so no run is applying to it while it goes.
            let _lock = ops::stack::lock(&backend, "workspace delete", "0s", infra_state::LockOptions::default()).map_err(|d| cx.fail(d))?;
            let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
            let objects: usize = state.resources.iter().filter(|r| r.mode == "managed").map(|r| r.instances.len()).sum();
            if objects > 0 && !force {
                return Err(cx.fail(Diagnostic::error(
                    "Workspace is not empty",
                    format!(
                        "Workspace {name:?} records {objects} object(s). Destroy them first (infra destroy in that workspace), or use --force to forget them."
                    ),
                )));
            }
            drop(_lock);
            spec.delete_workspace(&cx.dir, &name).map_err(|d| cx.fail(d))?;
            println!("Deleted workspace {name:?}!");
            Ok(0)
        }
    }
}

fn select(cx: &Cx, name: &str, from_env: Option<&&str>) -> Result<(), Exit> {
    if let Some(var) = from_env {
        return Err(cx.fail(Diagnostic::error(
            "Workspace set in the environment",
            format!("{var} selects the workspace; unset it to select {name:?} with infra workspace select."),
        )));
    }
    select_workspace(&cx.dir, name).map_err(|d| cx.fail(d))
}
