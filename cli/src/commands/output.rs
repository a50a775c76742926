//! `infra output [NAME] [--json|--raw]`: the root module's outputs from the state.

use super::Cx;
use crate::out::Exit;
use crate::{json, ops, render};
use infra_lang::diag::Diagnostic;
use infra_lang::value::from_json;

#[derive(clap::Args)]
pub struct Args {
    /// Print only this output's value (a sensitive one too, as Terraform does: naming it is
    /// asking for it).
    name: Option<String>,
    /// Print as JSON: every output with its type and sensitivity, or the named one's value.
    #[arg(long)]
    json: bool,
    /// Print the named output's string, number or bool as is, without quotes or newline.
    #[arg(long)]
    raw: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Args { name, json, raw } = a;
    let backend = ops::stack::backend(&cx.dir, &cx.out.sources).map_err(|d| cx.fail(d))?;
    let state = ops::stack::read_state(&backend).map_err(|d| cx.fail(d))?;
    match name {
        Some(n) => {
            let Some(o) = state.outputs.get(&n) else {
                return Err(
                    // Terraform's words: a null output is not in the state either.
                    cx.fail(Diagnostic::error(
                        format!("Output \"{n}\" not found"),
                        "The output variable requested could not be found in the state file. If you recently added this to your configuration, be sure to run `infra apply`, since the state won't be updated with new output variables until that command is run.",
                    ))
                );
            };
            if json {
                println!("{}", serde_json::to_string(&o.value).unwrap_or_default());
            } else if raw {
                match &o.value {
                    serde_json::Value::String(s) => print!("{s}"),
                    v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => print!("{v}"),
                    _ => {
                        return Err(cx.fail(Diagnostic::error(
                            "Unsupported value for raw output",
                            format!("The output \"{n}\" is not a string, number or bool, so it cannot be printed raw. Use --json instead."),
                        )))
                    }
                }
            } else {
                println!("{}", render::value(&from_json(&o.value), 0));
            }
        }
        None if json => {
            println!("{}", serde_json::to_string_pretty(&json::outputs(&state.outputs)).unwrap_or_default());
        }
        None => {
            for (k, o) in &state.outputs {
                let shown = if o.sensitive { "<sensitive>".to_string() } else { render::value(&from_json(&o.value), 0) };
                println!("{k} = {shown}");
            }
        }
    }
    Ok(0)
}
