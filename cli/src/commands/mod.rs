//! The command line: one module per command, each parsing its own arguments and calling `ops`
//! or the engine; the options several commands share live here.

pub mod apply;
pub mod completions;
pub mod console;
pub mod destroy;
pub mod discover;
pub mod drift;
pub mod fmt;
pub mod force_unlock;
pub mod graph;
pub mod import;
pub mod init;
pub mod output;
pub mod plan;
pub mod providers;
pub mod show;
pub mod state;
pub mod validate;
pub mod version;

use crate::interrupts::Interrupts;
use crate::ops;
use crate::out::{Exit, Out};
use clap::{Parser, Subcommand};
use infra_core::plan::PlanMode;
use infra_lang::eval::Phase;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "infra", version, about = "Declarative infrastructure from Terraform-language stacks")]
pub struct Cli {
    /// Run in this stack directory.
    #[arg(long, global = true, default_value = ".")]
    pub chdir: PathBuf,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Show what apply would change.
    Plan(plan::Args),
    /// Make the changes a plan describes.
    Apply(apply::Args),
    /// Destroy everything the state records.
    Destroy(destroy::Args),
    /// Report drift: objects changed outside infra, missing, or unmanaged in the managed scope.
    Drift(drift::Args),
    /// List what exists in a cloud and write a stack that imports it.
    Discover(discover::Args),
    /// Check that the stack loads and its providers are built in (nothing to download).
    Init,
    /// Check the configuration without contacting providers.
    Validate(validate::Args),
    /// Record an existing object in state under an address the configuration declares.
    Import(import::Args),
    /// Show the root module's outputs.
    Output(output::Args),
    /// Show the state or a saved plan.
    Show(show::Args),
    /// Inspect and edit the state.
    State(state::Args),
    /// Print the configuration graph in DOT.
    Graph,
    /// Rewrite stack files in canonical format.
    Fmt(fmt::Args),
    /// Evaluate expressions read from stdin, one per line.
    Console(console::Args),
    /// Remove a state lock whose holder is gone.
    ForceUnlock(force_unlock::Args),
    /// Show the built-in providers, or print their schemas (`providers schema --json`).
    Providers(providers::Args),
    /// Print shell completions.
    Completions(completions::Args),
    /// Print the version.
    Version,
}

#[derive(clap::Args, Clone, Default)]
pub struct VarArgs {
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a .tfvars file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

impl VarArgs {
    pub fn load_options(&self, phase: Phase) -> ops::vars::LoadOptions {
        use std::io::IsTerminal;
        ops::vars::LoadOptions { vars: self.vars.clone(), var_files: self.var_files.clone(), phase, prompt_missing: std::io::stdin().is_terminal() }
    }
}

#[derive(clap::Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Skip refreshing objects from their providers.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
    /// Only show (and apply) drift between state and reality (always a full refresh).
    #[arg(long)]
    pub refresh_only: bool,
    /// Also re-read attributes whose API reads one object per call (a VPC's DNS settings, a
    /// load balancer's attributes); a routine refresh reads only what batched calls return.
    #[arg(long)]
    pub refresh_full: bool,
    /// Plan to destroy everything.
    #[arg(long)]
    pub destroy: bool,
    /// Limit the plan to these resources and what they depend on.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Force replacement of this resource instance.
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// How many provider operations run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Wait this long for the state lock, e.g. 30s.
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

impl PlanArgs {
    pub fn request(&self) -> ops::plan::Request {
        ops::plan::Request {
            mode: if self.destroy {
                PlanMode::Destroy
            } else if self.refresh_only {
                PlanMode::RefreshOnly
            } else {
                PlanMode::Normal
            },
            refresh: self.refresh,
            refresh_full: self.refresh_full,
            targets: self.targets.clone(),
            replace: self.replace.clone(),
        }
    }
}

/// What every command runs in: the stack directory (already the working directory), where
/// diagnostics go, and the async runtime for engine calls.
pub struct Cx {
    pub dir: PathBuf,
    pub out: Out,
    pub rt: tokio::runtime::Runtime,
}

impl Cx {
    /// Renders an operation's diagnostics once; the command then exits 1.
    pub fn fail(&self, d: impl Into<infra_lang::diag::Diagnostics>) -> Exit {
        self.out.fail(d)
    }
}

/// Takes the state lock for `op` with `interrupts` watching (installed before this, so no
/// signal finds the lock without its release), warning when it took over a stale lock.
fn take_lock(cx: &Cx, interrupts: &Interrupts, backend: &infra_state::LocalBackend, op: &str, lock_timeout: &str) -> Result<(), Exit> {
    if let Some(stale) = interrupts.lock(backend, op, lock_timeout).map_err(|d| cx.fail(d))? {
        cx.out.diags(&ops::stack::stale_lock_warning(backend, &stale).into());
    }
    Ok(())
}

/// Parses the command line, exiting as clap does for help and usage errors.
pub fn parse() -> Cli {
    // Usage errors exit 1, as Terraform's do: exit 2 means "changes present" to
    // `--detailed-exitcode` users, so a mistyped flag must never look like it.
    match Cli::try_parse_from(terraform_style_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    }
}

pub fn run(cmd: Cmd, cx: &Cx) -> Result<i32, Exit> {
    match cmd {
        Cmd::Version => version::run(),
        Cmd::Completions(a) => completions::run(a),
        Cmd::Providers(a) => providers::run(a, cx),
        Cmd::Init => init::run(cx),
        Cmd::Validate(a) => validate::run(a, cx),
        Cmd::Plan(a) => plan::run(a, cx),
        Cmd::Apply(a) => apply::run(a, cx),
        Cmd::Destroy(a) => destroy::run(a, cx),
        Cmd::Drift(a) => drift::run(a, cx),
        Cmd::Discover(a) => discover::run(a, cx),
        Cmd::Import(a) => import::run(a, cx),
        Cmd::Output(a) => output::run(a, cx),
        Cmd::Show(a) => show::run(a, cx),
        Cmd::State(a) => state::run(a, cx),
        Cmd::Graph => graph::run(cx),
        Cmd::Fmt(a) => fmt::run(a, cx),
        Cmd::Console(a) => console::run(a, cx),
        Cmd::ForceUnlock(a) => force_unlock::run(a, cx),
    }
}

/// Terraform spells long options with one dash (`-var`, `-auto-approve`, `-out=tf.plan`,
/// `-detailed-exitcode`): accept that spelling too. Single letters stay short options; nothing
/// after `--` is touched.
pub fn terraform_style_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut rest = false;
    for a in args {
        let converted = match a.to_str() {
            Some("--") => {
                rest = true;
                None
            }
            Some(s) if !rest && s.len() > 2 && s.starts_with('-') && !s.starts_with("--") && s[1..].chars().next().is_some_and(|c| c.is_ascii_lowercase()) => {
                let name = s[1..].split('=').next().unwrap_or_default();
                (name.len() > 1 && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')).then(|| format!("-{s}").into())
            }
            _ => None,
        };
        out.push(converted.unwrap_or(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        terraform_style_args(v.iter().map(|s| s.into())).into_iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn one_dash_long_options_become_two() {
        assert_eq!(args(&["infra", "-chdir=x", "apply", "-auto-approve", "-var", "a=b"]), ["infra", "--chdir=x", "apply", "--auto-approve", "--var", "a=b"]);
        assert_eq!(args(&["infra", "plan", "-h", "--", "-var"]), ["infra", "plan", "-h", "--", "-var"]);
    }

    #[test]
    fn every_command_parses_its_flags() {
        let parse = |v: &[&str]| Cli::try_parse_from(terraform_style_args(v.iter().map(|s| s.into()))).map(|c| c.command);
        assert!(matches!(parse(&["infra", "plan", "-out=tf.plan", "-detailed-exitcode"]), Ok(Cmd::Plan(a)) if a.detailed_exitcode && a.out.is_some()));
        assert!(matches!(parse(&["infra", "apply", "-refresh=false", "tf.plan"]), Ok(Cmd::Apply(a)) if !a.args.refresh && a.plan_file.is_some()));
        assert!(matches!(parse(&["infra", "state", "mv", "a.b", "a.c"]), Ok(Cmd::State(_))));
        assert!(matches!(parse(&["infra", "force-unlock", "123"]), Ok(Cmd::ForceUnlock(a)) if a.id == "123" && !a.force));
        assert!(matches!(parse(&["infra", "force-unlock", "-force", "123"]), Ok(Cmd::ForceUnlock(a)) if a.id == "123" && a.force));
        assert!(matches!(parse(&["infra", "force-unlock", "123", "--force"]), Ok(Cmd::ForceUnlock(a)) if a.id == "123" && a.force));
        assert!(
            matches!(parse(&["infra", "import", "-var", "a=b", "-var-file=x.tfvars", "aws_vpc.main", "vpc-1"]), Ok(Cmd::Import(a)) if a.address == "aws_vpc.main" && a.id == "vpc-1" && a.vars.vars == ["a=b"])
        );
        assert!(matches!(parse(&["infra", "plan", "-generate-config-out=gen.tf"]), Ok(Cmd::Plan(a)) if a.generate_config_out.is_some()));
        assert!(matches!(parse(&["infra", "state", "migrate", "-allow-partial", "terraform.tfstate"]), Ok(Cmd::State(_))));
        assert!(parse(&["infra", "plan", "--nope"]).is_err());
        assert!(matches!(parse(&["infra", "-chdir=x", "drift", "-json", "-var", "a=b", "-target", "aws_vpc.main", "-lock-timeout=5s", "-scope", "region"]),
            Ok(Cmd::Drift(a)) if a.json && a.targets.len() == 1 && a.lock_timeout == "5s" && a.scope == drift::Scope::Region && a.vars.vars == ["a=b"]));
        assert!(parse(&["infra", "drift", "--json", "--markdown"]).is_err());
    }
}
