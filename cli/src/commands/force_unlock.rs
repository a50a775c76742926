//! `infra force-unlock ID`: removes a stale state lock.

use super::Cx;
use crate::ops;
use crate::out::Exit;
use infra_lang::diag::Diagnostic;

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    backend.force_unlock(&a.id).map_err(|e| cx.fail(Diagnostic::error("Cannot unlock", e.to_string())))?;
    println!("infra state has been successfully unlocked!");
    Ok(0)
}
