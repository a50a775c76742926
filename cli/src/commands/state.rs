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
    /// List the resource instances the state records.
    List,
    /// Show one resource instance's attributes.
    Show {
        /// The instance's address, like aws_vpc.main or module.net.aws_subnet.a["x"].
        address: String,
    },
    /// Forget resource instances (the real objects are left alone).
    Rm {
        /// The addresses of the instances (or whole resources and modules) to forget.
        addresses: Vec<String>,
    },
    /// Move a resource instance to another address, as after renaming it.
    Mv {
        /// The address the state records now.
        from: String,
        /// The new address.
        to: String,
    },
    /// Write infra's state from a Terraform state (format version 4). Never changes FILE.
    Migrate(MigrateArgs),
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The Terraform state: a terraform.tfstate or the output of terraform state pull (default:
    /// the stack's local backend path when it holds a Terraform state, else terraform.tfstate).
    file: Option<std::path::PathBuf>,
    /// Write what can be migrated even when some objects cannot (unsupported types); they are
    /// listed, and the exit code is 0.
    #[arg(long)]
    allow_partial: bool,
    /// Replace an existing infra state (its previous version is kept as the backup).
    #[arg(long)]
    force: bool,
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
        StateCmd::Migrate(m) => migrate(m, cx, &backend),
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

fn migrate(m: MigrateArgs, cx: &Cx, backend: &LocalBackend) -> Result<i32, Exit> {
    let out = &cx.out;
    let file = match m.file {
        Some(f) => f,
        None => {
            let stack = ops::stack::read_stack(&cx.dir, &out.sources);
            ops::stack::terraform_state_path(&stack.0, &cx.dir).unwrap_or_else(|| cx.dir.join("terraform.tfstate"))
        }
    };
    let shown = file.strip_prefix(&cx.dir).unwrap_or(&file).display().to_string();
    let bytes = std::fs::read(&file).map_err(|e| cx.fail(Diagnostic::error("Cannot read the Terraform state", format!("Reading {shown} failed: {e}."))))?;
    if file.canonicalize().ok() == backend.path.canonicalize().ok() {
        return Err(cx.fail(Diagnostic::error(
            "Migration would overwrite its source",
            format!("infra's state for this stack is {shown} itself. Point the backend elsewhere or migrate another file."),
        )));
    }
    let _lock = lock(backend, "state migrate", out)?;
    if let Some(existing) = read_state_if_any(backend, out)? {
        if !m.force {
            return Err(cx.fail(Diagnostic::error(
                "State already exists",
                format!(
                    "{} already holds infra's state ({} objects, serial {}). Nothing was written. Use --force to replace it (its previous version is kept as {}).",
                    backend.path.strip_prefix(&cx.dir).unwrap_or(&backend.path).display(),
                    existing.resources.iter().map(|r| r.instances.len()).sum::<usize>(),
                    existing.serial,
                    backend.backup_path().strip_prefix(&cx.dir).unwrap_or(&backend.backup_path()).display()
                ),
            )));
        }
    }
    let migrated = ops::migrate::migrate(&bytes, &shown, &ops::stack::registry()).map_err(|d| cx.fail(d))?;
    out.diags(&infra_lang::diag::Diagnostics(migrated.notes));
    if !migrated.skipped.is_empty() {
        eprintln!("Not migrated:");
        for (addr, why) in &migrated.skipped {
            eprintln!("  {addr}: {why}");
        }
        if !m.allow_partial {
            return Err(cx.fail(Diagnostic::error(
                "Objects cannot be migrated",
                format!("{} object(s) listed above cannot be migrated, so nothing was written. Rerun with --allow-partial to migrate the rest; the objects left out stay unmanaged by infra.", migrated.skipped.len()),
            )));
        }
    }
    backend.write(&migrated.state).map_err(|e| cx.fail(Diagnostic::error("Failed to persist state", e.to_string())))?;
    let version = if migrated.terraform_version.is_empty() { String::new() } else { format!(" (Terraform {})", migrated.terraform_version) };
    println!(
        "Migrated {} object(s) and {} output(s) from {shown}{version} to {}.{}",
        migrated.objects,
        migrated.state.outputs.len(),
        backend.path.strip_prefix(&cx.dir).unwrap_or(&backend.path).display(),
        if migrated.skipped.is_empty() { String::new() } else { format!(" {} object(s) were left out.", migrated.skipped.len()) }
    );
    println!("{shown} was not changed. Run infra plan: it should show no changes.");
    Ok(0)
}

fn read_state_if_any(backend: &LocalBackend, out: &Out) -> Result<Option<StateFile>, Exit> {
    ops::stack::read_state_if_any(backend).map_err(|d| out.fail(d))
}
