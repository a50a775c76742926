//! `infra fmt [--check] [--diff]`: rewrites stack and .tfvars files in canonical format.

use super::Cx;
use crate::out::Exit;
use crate::render;
use infra_lang::diag::{Diagnostic, Diagnostics};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    check: bool,
    #[arg(long)]
    diff: bool,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Args { check, diff } = a;
    let (dir, out) = (&cx.dir, &cx.out);
    let mut files = infra_lang::parse::stack_files(dir).map_err(|e| out.fail(Diagnostic::error("Cannot read directory", e.to_string())))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "tfvars")));
    }
    files.sort();
    let mut changed = false;
    let mut diags = Diagnostics::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| out.fail(Diagnostic::error("Cannot read file", format!("Reading {} failed: {e}.", f.display()))))?;
        let formatted = match infra_lang::format::format(&text) {
            Ok(t) => t,
            Err(mut d) => {
                d.detail = format!("{} ({})", d.detail, f.display());
                diags.push(d);
                continue;
            }
        };
        if formatted != text {
            changed = true;
            let name = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
            println!("{name}");
            if diff {
                print!("{}", render::line_diff(&text, &formatted, "", &out.style));
            }
            if !check {
                std::fs::write(&f, formatted).map_err(|e| out.fail(Diagnostic::error("Cannot write file", format!("Writing {} failed: {e}.", f.display()))))?;
            }
        }
    }
    if diags.has_errors() {
        out.diags(&diags);
        return Err(Exit(1));
    }
    Ok(if check && changed { 3 } else { 0 })
}
