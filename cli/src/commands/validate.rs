//! `infra validate [--json]`: the configuration checked without contacting providers.

use super::{Cx, VarArgs};
use crate::out::Exit;
use crate::{json, ops};
use infra_lang::eval::Phase;

#[derive(clap::Args)]
pub struct Args {
    /// Print the result as JSON, in the format of terraform validate -json.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    // Terraform itself says Success! here (hashicorp/terraform#23731), which hides a wrong
    // directory; infra says what plan says.
    let detail = format!("The directory {} contains no configuration files (.tf or .tf.json).", cx.dir.display());
    let d = match infra_lang::parse::stack_files(&cx.dir) {
        Ok(files) if files.is_empty() => infra_lang::diag::Diagnostic::error("No configuration files", detail).into(),
        // With --json every diagnostic is part of the JSON document, those of loading the
        // stack too, as terraform validate -json reports them.
        _ => match ops::vars::load(&cx.dir, &VarArgs::default().load_options(Phase::Validate), &cx.out.sources) {
            Ok(ctx) => infra_core::validate(&ctx),
            Err(d) if a.json => d,
            Err(d) => return Err(cx.fail(d)),
        },
    };
    if a.json {
        println!("{}", serde_json::to_string(&json::validate(&d, &cx.out.sources, &cx.out.base)).unwrap_or_default());
    } else {
        cx.out.diags(&d);
    }
    if d.has_errors() {
        return Err(Exit(1));
    }
    if !a.json {
        println!("Success! The configuration is valid.");
    }
    Ok(0)
}
