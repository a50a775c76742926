//! `infra state list|show|rm|mv`: inspecting and editing the state.

use super::Cx;
use crate::out::{Exit, Out};
use crate::{ops, render};
use clap::Subcommand;
use infra_core::addr::parse_target;
use infra_core::state_io::Working;
use infra_lang::diag::Diagnostic;
use infra_lang::value::Value;
use infra_state::{LocalBackend, LockGuard, StateFile};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: StateCmd,
}

#[derive(Subcommand)]
pub enum StateCmd {
    List,
    Show { address: String },
    Rm { addresses: Vec<String> },
    Mv { from: String, to: String },
}

fn read_state(backend: &LocalBackend, out: &Out) -> Result<StateFile, Exit> {
    ops::stack::read_state(backend).map_err(|d| out.fail(d))
}

/// The lock for a state edit: no waiting, and a warning when a stale lock was taken over.
fn lock(backend: &LocalBackend, op: &str, out: &Out) -> Result<LockGuard, Exit> {
    let guard = ops::stack::lock(backend, op, "0s").map_err(|d| out.fail(d))?;
    if let Some(stale) = &guard.took_over {
        out.diags(&ops::stack::stale_lock_warning(backend, stale).into());
    }
    Ok(guard)
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let out = &cx.out;
    let backend = ops::stack::backend(&cx.dir, &out.sources).map_err(|d| cx.fail(d))?;
    let find = |w: &Working, a: &str| -> Result<Vec<infra_core::addr::InstanceAddr>, Exit> {
        let t = parse_target(a).map_err(|e| out.fail(Diagnostic::error("Invalid address", format!("{e}."))))?;
        Ok(w.instances.keys().filter(|i| t.matches(i)).cloned().collect())
    };
    match a.cmd {
        StateCmd::List => {
            let s = read_state(&backend, out)?;
            let w = Working::from_state(&s).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            for a in w.instances.keys() {
                println!("{a}");
            }
            Ok(0)
        }
        StateCmd::Show { address } => {
            let s = read_state(&backend, out)?;
            let w = Working::from_state(&s).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            let found = find(&w, &address)?;
            let Some(a) = found.first() else {
                return Err(out.fail(Diagnostic::error(
                    "No instance found for the given address",
                    format!("{address} is not in the state. Use infra state list to see what is."),
                )));
            };
            let shown = match &w.instances[a].value {
                Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()),
                other => other.clone(),
            };
            println!("# {a}:\nresource \"{}\" \"{}\" {}", a.type_name, a.name, render::value(&shown, 0));
            Ok(0)
        }
        StateCmd::Rm { addresses } => {
            let _lock = lock(&backend, "state rm", out)?;
            let s = read_state(&backend, out)?;
            let mut w = Working::from_state(&s).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            let mut removed = 0;
            for a in &addresses {
                let found = find(&w, a)?;
                if found.is_empty() {
                    return Err(out.fail(Diagnostic::error("Invalid target address", format!("No matching objects found for {a}. Nothing was removed."))));
                }
                for f in found {
                    w.instances.remove(&f);
                    println!("Removed {f}");
                    removed += 1;
                }
            }
            w.serial += 1;
            backend.write(&w.to_state()).map_err(|e| out.fail(Diagnostic::error("Failed to persist state", e.to_string())))?;
            println!("Successfully removed {removed} resource instance(s).");
            Ok(0)
        }
        StateCmd::Mv { from, to } => {
            let _lock = lock(&backend, "state mv", out)?;
            let s = read_state(&backend, out)?;
            let mut w = Working::from_state(&s).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            let src = parse_target(&from).map_err(|e| out.fail(Diagnostic::error("Invalid address", format!("{e}."))))?;
            let dst = parse_target(&to).map_err(|e| out.fail(Diagnostic::error("Invalid address", format!("{e}."))))?;
            let moves = w.move_instances(&src, &dst, infra_core::state_io::OnExisting::Fail).map_err(|e| {
                out.fail(match e {
                    infra_core::state_io::MoveError::NotAResource => Diagnostic::error("Invalid address", "The destination must be a resource address."),
                    infra_core::state_io::MoveError::DestinationExists(new) => {
                        Diagnostic::error("Destination exists", format!("{new} is already in the state. Nothing was moved."))
                    }
                })
            })?;
            if moves.is_empty() {
                return Err(out.fail(Diagnostic::error("Invalid source address", format!("No matching objects found for {from}."))));
            }
            for (a, new) in moves {
                println!("Move \"{a}\" to \"{new}\"");
            }
            w.serial += 1;
            backend.write(&w.to_state()).map_err(|e| out.fail(Diagnostic::error("Failed to persist state", e.to_string())))?;
            Ok(0)
        }
    }
}
