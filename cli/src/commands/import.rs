//! `infra import ADDR ID`: reads an existing object by its id and records it in state under an
//! address the configuration declares, as `terraform import` does.

use super::{take_lock, Cx, VarArgs};
use crate::interrupts::Interrupts;
use crate::ops;
use crate::out::Exit;
use infra_lang::diag::Diagnostic;
use infra_lang::eval::Phase;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Wait this long for the state lock, e.g. 30s.
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
    /// The resource instance to import into: aws_vpc.main, aws_subnet.private[0],
    /// module.net.aws_vpc.this.
    pub address: String,
    /// The object's id, in the form its type documents (aws_ecs_service: cluster/service).
    pub id: String,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let out = &cx.out;
    let addr = ops::import::address(&a.address).map_err(|d| cx.fail(d))?;
    if a.id.is_empty() {
        return Err(cx.fail(Diagnostic::error("Invalid import id", "The id to import must not be empty.")));
    }
    let interrupts = Interrupts::install(&cx.rt);
    let stack = ops::stack::read_stack(&cx.dir, &out.sources);
    let backend = ops::stack::backend_for(&stack.0, &cx.dir, &a.vars.vars, &a.vars.var_files).map_err(|d| cx.fail(d))?;
    take_lock(cx, &interrupts, &backend, "import", &a.lock_timeout, false)?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    let ctx = ops::vars::load_stack(stack, &cx.dir, &a.vars.load_options(Phase::Plan), &out.sources).map_err(|d| cx.fail(d))?;
    println!("{addr}: Importing from ID {}...", infra_provider::hcl::quote(&a.id));
    let new = ops::import::import(&cx.rt, &ctx, &state, &addr, &a.id).map_err(|d| cx.fail(d))?;
    backend.write(&new).map_err(|e| cx.fail(Diagnostic::error("Failed to persist state", e.to_string())))?;
    println!("{addr}: Import complete");
    println!(
        "\n{}\n\nThe object imported is shown above. It is now in the infra state and will henceforth be managed by infra.",
        out.style.green(&out.style.bold("Import successful!"))
    );
    Ok(0)
}
