//! `infra force-unlock [-force] ID`: removes a state lock whose holder is gone.

use super::Cx;
use crate::ops;
use crate::out::Exit;
use infra_lang::diag::Diagnostic;
use infra_state::Unlock;

#[derive(clap::Args)]
pub struct Args {
    /// Remove the lock even when its holder is still running on this host (as Terraform's
    /// -force, this also means no question is asked).
    #[arg(long)]
    pub force: bool,
    /// The lock ID, as the error that reported the lock printed it.
    pub id: String,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    let how = if a.force { Unlock::Anyway } else { Unlock::UnlessRunning };
    backend.force_unlock(&a.id, how).map_err(|e| cx.fail(Diagnostic::error("Cannot unlock", format!("{e}."))))?;
    println!("infra state has been successfully unlocked!");
    Ok(0)
}
