//! `infra state list|show|rm|mv|pull|push|history|locks`: inspecting and editing the state.

use super::Cx;
use crate::ops::stack::StateBackend;
use crate::out::{Exit, Out};
use crate::{ops, render};
use clap::Subcommand;
use infra_core::addr::parse_target;
use infra_core::state_io::Working;
use infra_lang::diag::Diagnostic;
use infra_lang::value::Value;
use infra_state::{Lock, LockOptions, StateFile};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: StateCmd,
}

#[derive(Subcommand)]
pub enum StateCmd {
    /// List the resource instances the state records.
    List,
    /// Show one resource instance's attributes (or, with --version and no address, that whole
    /// stored version of the state).
    Show {
        /// The instance's address, like aws_vpc.main or module.net.aws_subnet.a["x"].
        address: Option<String>,
        /// A stored version of the state (`infra state history` lists them).
        #[arg(long)]
        version: Option<String>,
    },
    /// Print the state (as stored, journal replayed) to standard output.
    Pull,
    /// Replace the state with FILE ("-" for standard input). Refused when FILE's lineage differs
    /// or its serial is lower than the stored state's, unless --force.
    Push {
        /// The state file to push ("-" for standard input).
        file: std::path::PathBuf,
        /// Push even when the lineage differs or the serial is lower.
        #[arg(long)]
        force: bool,
    },
    /// The stored versions of the state: version ID, time, serial, who wrote it.
    History,
    /// The state locks held now, in every workspace of the backend.
    Locks,
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

fn read_state(backend: &StateBackend, out: &Out) -> Result<StateFile, Exit> {
    ops::stack::read_state(backend).map_err(|d| out.fail(d))
}

/// The lock for a state edit: no waiting, and a warning when a stale lock was taken over.
fn lock(backend: &StateBackend, op: &str, out: &Out) -> Result<Lock, Exit> {
    let guard = ops::stack::lock(backend, op, "0s", LockOptions::default()).map_err(|d| out.fail(d))?;
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
        StateCmd::Pull => {
            let s = read_state(&backend, out)?;
            use std::io::Write;
            let _ = std::io::stdout().write_all(&s.to_bytes());
            Ok(0)
        }
        StateCmd::Push { file, force } => push(&file, force, cx, &backend),
        StateCmd::History => {
            let versions = backend.versions().map_err(|e| out.fail(Diagnostic::error("Cannot list state versions", format!("{e}."))))?;
            if versions.is_empty() {
                println!("No stored versions of {}.", backend.location());
                return Ok(0);
            }
            println!("{:<36}  {:<20}  {:>6}  {:<8}  WHO", "VERSION", "TIME", "SERIAL", "SIZE");
            for v in versions {
                println!(
                    "{:<36}  {:<20}  {:>6}  {:<8}  {}{}",
                    v.id,
                    v.modified,
                    v.serial.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                    v.size,
                    v.who.unwrap_or_else(|| "-".into()),
                    if v.latest { "  (current)" } else { "" }
                );
            }
            Ok(0)
        }
        StateCmd::Locks => {
            let locks = backend.locks().map_err(|e| out.fail(Diagnostic::error("Cannot list state locks", format!("{e}."))))?;
            if locks.is_empty() {
                println!("No state locks are held.");
                return Ok(0);
            }
            let now = infra_state::backend::Utc::now();
            for l in locks {
                let lease = match (l.silent_for(now), l.lease_expired_for(now)) {
                    (Some(s), Some(_)) => format!("STALE: not renewed for {}s", s.as_secs()),
                    (Some(s), None) => format!("renewed {}s ago", s.as_secs()),
                    _ => String::new(),
                };
                println!(
                    "{}  {}  {}  pid {}  {}  since {}{}  {}",
                    l.id,
                    l.path,
                    l.who,
                    l.pid,
                    l.operation,
                    l.created,
                    l.job.as_deref().map(|j| format!("  job {j}")).unwrap_or_default(),
                    lease
                );
            }
            Ok(0)
        }
        StateCmd::Show { address, version } => {
            let s = match &version {
                Some(id) => backend.read_version(id).map_err(|e| out.fail(Diagnostic::error("Cannot read the state version", format!("{e}."))))?,
                None => read_state(&backend, out)?,
            };
            let Some(address) = address else {
                if version.is_none() {
                    return Err(
                        out.fail(Diagnostic::error("Missing address", "infra state show needs an address (or --version ID to print a stored version)."))
                    );
                }
                use std::io::Write;
                let _ = std::io::stdout().write_all(&s.to_bytes());
                return Ok(0);
            };
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

/// `state push`: the lineage must match and the serial must not go back, unless `force`.
fn push(file: &std::path::Path, force: bool, cx: &Cx, backend: &StateBackend) -> Result<i32, Exit> {
    let out = &cx.out;
    let bytes = if file == std::path::Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| out.fail(Diagnostic::error("Cannot read the state to push", format!("standard input: {e}."))))?;
        b
    } else {
        std::fs::read(file).map_err(|e| out.fail(Diagnostic::error("Cannot read the state to push", format!("{}: {e}.", file.display()))))?
    };
    let mut new = StateFile::from_slice(&bytes).map_err(|e| out.fail(Diagnostic::error("Invalid state to push", format!("{}: {e}.", file.display()))))?;
    let _lock = lock(backend, "state push", out)?;
    if let Some(cur) = read_state_if_any(backend, out)? {
        if cur.lineage != new.lineage && !force {
            return Err(out.fail(Diagnostic::error(
                "Refusing to push a state of another lineage",
                format!(
                    "{} holds lineage {:?}, and {} has lineage {:?}: they are different states. Nothing was written. Use --force to replace it anyway.",
                    backend.location(),
                    cur.lineage,
                    file.display(),
                    new.lineage
                ),
            )));
        }
        if cur.serial > new.serial && !force {
            return Err(out.fail(Diagnostic::error(
                "Refusing to push an older state",
                format!(
                    "{} is at serial {}, and {} at serial {}: pushing it would lose the newer changes. Nothing was written. Use --force to replace it anyway.",
                    backend.location(),
                    cur.serial,
                    file.display(),
                    new.serial
                ),
            )));
        }
        if force && cur.serial >= new.serial {
            new.serial = cur.serial + 1;
        }
    }
    backend.write(&new).map_err(|e| out.fail(Diagnostic::error("Failed to persist state", format!("{e}."))))?;
    println!("Pushed lineage {} serial {} to {}.", new.lineage, new.serial, backend.location());
    Ok(0)
}

fn migrate(m: MigrateArgs, cx: &Cx, backend: &StateBackend) -> Result<i32, Exit> {
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
    if file.canonicalize().ok() == std::path::Path::new(&backend.location()).canonicalize().ok() {
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
                    shown_location(backend, cx),
                    existing.resources.iter().map(|r| r.instances.len()).sum::<usize>(),
                    existing.serial,
                    if backend.location().starts_with("s3://") { "an object version".to_string() } else { format!("{}.backup", shown_location(backend, cx)) }
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
        shown_location(backend, cx),
        if migrated.skipped.is_empty() { String::new() } else { format!(" {} object(s) were left out.", migrated.skipped.len()) }
    );
    println!("{shown} was not changed. Run infra plan: it should show no changes.");
    Ok(0)
}

/// The state's place, relative to the stack when it is a file in it.
fn shown_location(backend: &StateBackend, cx: &Cx) -> String {
    let loc = backend.location();
    std::path::Path::new(&loc).strip_prefix(&cx.dir).map(|p| p.display().to_string()).unwrap_or(loc)
}

fn read_state_if_any(backend: &StateBackend, out: &Out) -> Result<Option<StateFile>, Exit> {
    ops::stack::read_state_if_any(backend).map_err(|d| out.fail(d))
}
