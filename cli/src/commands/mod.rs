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
pub mod workspace;

use crate::interrupts::Interrupts;
use crate::ops;
use crate::out::{Exit, Out};
use clap::{Parser, Subcommand};
use infra_core::plan::PlanMode;
use infra_lang::eval::Phase;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "infra", about = "Declarative infrastructure from Terraform-language stacks")]
pub struct Cli {
    /// Run in this stack directory (Terraform's -chdir=DIR, before or after the command).
    #[arg(long, global = true, default_value = ".")]
    pub chdir: PathBuf,
    /// Print without color codes (as NO_COLOR does).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Ask on the terminal for variables that have no value; --input=false (or TF_INPUT=0)
    /// never asks and reports the missing variables instead.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub input: bool,
    /// Take the state lock for commands that write state (default true); --lock=false skips
    /// it, which is safe only when nothing else can run on the same state.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub lock: bool,
    /// Show warnings as one summary line each instead of in full.
    #[arg(long, global = true)]
    pub compact_warnings: bool,
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
    /// Check that the stack loads and its providers are built in (nothing to download);
    /// configure the backend (-backend-config) and move state between backends (-migrate-state).
    Init(init::Args),
    /// Separate states of one stack: list, new, select, show, delete.
    Workspace(workspace::Args),
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
    /// Print the version (the same as --version).
    Version(version::Args),
}

pub use crate::out::{globals, Globals};

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
        ops::vars::LoadOptions {
            vars: self.vars.clone(),
            var_files: self.var_files.clone(),
            phase,
            prompt_missing: globals().input && std::io::stdin().is_terminal(),
        }
    }
}

#[derive(clap::Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Refresh objects from their providers before planning (the default); --refresh=false
    /// plans from the state as recorded, without reading the real objects.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
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
    /// Take over a state lock whose lease expired (its holder stopped renewing it).
    #[arg(long)]
    pub force_stale: bool,
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
fn take_lock(cx: &Cx, interrupts: &Interrupts, backend: &ops::stack::StateBackend, op: &str, lock_timeout: &str, force_stale: bool) -> Result<(), Exit> {
    if !globals().lock {
        return Ok(());
    }
    if let Some(stale) = interrupts.lock(backend, op, lock_timeout, infra_state::LockOptions { force_stale }).map_err(|d| cx.fail(d))? {
        cx.out.diags(&ops::stack::stale_lock_warning(backend, &stale).into());
    }
    Ok(())
}

/// Terraform's "No configuration files" error, for a command run where there is nothing to
/// plan or check (a wrong directory is the usual cause).
fn require_config(cx: &Cx, detail: &str) -> Result<(), Exit> {
    match infra_lang::parse::stack_files(&cx.dir) {
        Ok(files) if files.is_empty() => Err(cx.fail(infra_lang::diag::Diagnostic::error("No configuration files", detail))),
        _ => Ok(()),
    }
}

/// Parses the command line, exiting as clap does for help and usage errors.
pub fn parse() -> Cli {
    // Usage errors exit 1, as Terraform's do: exit 2 means "changes present" to
    // `--detailed-exitcode` users, so a mistyped flag must never look like it.
    let args = with_env_args(std::env::args_os().collect(), |name| std::env::var(name).ok());
    match Cli::try_parse_from(terraform_style_args(args.into_iter())) {
        Ok(cli) => {
            let input = input_enabled(cli.input, std::env::var("TF_INPUT").ok());
            crate::out::set_globals(Globals { input, lock: cli.lock, compact_warnings: cli.compact_warnings });
            cli
        }
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    }
}

pub fn run(cmd: Cmd, cx: &Cx) -> Result<i32, Exit> {
    match cmd {
        Cmd::Version(a) => version::run(a),
        Cmd::Completions(a) => completions::run(a),
        Cmd::Init(a) => init::run(a, cx),
        Cmd::Workspace(a) => workspace::run(a, cx),
        Cmd::Providers(a) => providers::run(a, cx),
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

/// Whether missing variables may be asked for: not with --input=false, nor with TF_INPUT set
/// to 0 or false (as Terraform reads it).
fn input_enabled(flag: bool, tf_input: Option<String>) -> bool {
    flag && !tf_input.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "0" | "false"))
}

/// TF_CLI_ARGS and TF_CLI_ARGS_<command> (`TF_CLI_ARGS_plan`, `TF_CLI_ARGS_state_list`), as
/// Terraform reads them: their words go right after the command, the command-specific ones
/// first. `--version`/`-version`/`-v` alone are `version`.
pub fn with_env_args(mut args: Vec<std::ffi::OsString>, env: impl Fn(&str) -> Option<String>) -> Vec<std::ffi::OsString> {
    // The command: the first argument that is not an option (global options such as
    // -chdir=DIR come before it).
    let Some(at) = args.iter().skip(1).position(|a| !a.to_string_lossy().starts_with('-')).map(|p| p + 1) else {
        if args.len() == 2 && matches!(args[1].to_str(), Some("--version" | "-version" | "-v")) {
            args[1] = "version".into();
        }
        return args;
    };
    let verb = args[at].to_string_lossy().into_owned();
    // A command with subcommands (`state list`) is named by both words.
    let mut name = verb.clone();
    let mut end = at;
    if matches!(verb.as_str(), "state" | "workspace" | "providers") {
        if let Some(sub) = args.get(at + 1).map(|a| a.to_string_lossy().into_owned()).filter(|s| !s.starts_with('-')) {
            name = format!("{verb}_{}", sub.replace('-', "_"));
            end = at + 1;
        }
    }
    for var in ["TF_CLI_ARGS".to_string(), format!("TF_CLI_ARGS_{name}")] {
        if let Some(v) = env(&var) {
            let words = split_words(&v);
            args.splice(end + 1..end + 1, words.into_iter().map(std::ffi::OsString::from));
        }
    }
    args
}

/// Splits a TF_CLI_ARGS value into words as a shell does: spaces separate, quotes group,
/// a backslash escapes.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = s.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => cur.get_or_insert_with(String::new).extend(chars.next()),
            (Some(_), c) => cur.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            (None, '\\') => cur.get_or_insert_with(String::new).extend(chars.next()),
            (None, c) if c.is_whitespace() => out.extend(cur.take()),
            (None, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(cur);
    out
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
    fn tf_cli_args_go_after_the_command_specific_first() {
        let env = |name: &str| match name {
            "TF_CLI_ARGS" => Some("-no-color -input=false".to_string()),
            "TF_CLI_ARGS_plan" => Some("-var 'name=a b' -parallelism=3".to_string()),
            "TF_CLI_ARGS_state_list" => Some("-id=x".to_string()),
            _ => None,
        };
        let run = |v: &[&str]| -> Vec<String> {
            with_env_args(v.iter().map(|s| s.into()).collect(), env).into_iter().map(|s| s.to_string_lossy().into_owned()).collect()
        };
        assert_eq!(
            run(&["infra", "-chdir=x", "plan", "-out=p"]),
            ["infra", "-chdir=x", "plan", "-var", "name=a b", "-parallelism=3", "-no-color", "-input=false", "-out=p"]
        );
        assert_eq!(run(&["infra", "apply"]), ["infra", "apply", "-no-color", "-input=false"]);
        assert_eq!(run(&["infra", "state", "list"]), ["infra", "state", "list", "-id=x", "-no-color", "-input=false"]);
        assert_eq!(run(&["infra", "-version"]), ["infra", "version"]);
        assert_eq!(run(&["infra", "--version"]), ["infra", "version"]);
        assert_eq!(split_words(r#"a "b c" d\ e 'f"g'"#), ["a", "b c", "d e", "f\"g"]);
    }

    #[test]
    fn tf_input_zero_or_false_turns_prompts_off() {
        assert!(input_enabled(true, None));
        assert!(input_enabled(true, Some("1".into())));
        assert!(!input_enabled(true, Some("0".into())));
        assert!(!input_enabled(true, Some("FALSE".into())));
        assert!(!input_enabled(false, None));
    }

    #[test]
    fn every_command_and_option_has_help_text() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "infra", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }

    #[test]
    fn terraform_automation_flags_parse_one_and_two_dashes() {
        let parse = |v: &[&str]| Cli::try_parse_from(terraform_style_args(v.iter().map(|s| s.into())));
        let c = parse(&[
            "infra",
            "-chdir=x",
            "plan",
            "-no-color",
            "-input=false",
            "-lock=false",
            "-lock-timeout=30s",
            "-compact-warnings",
            "-parallelism=4",
            "-var-file=a.tfvars",
            "-refresh=false",
        ])
        .unwrap();
        assert!(c.no_color && !c.input && !c.lock && c.compact_warnings);
        assert!(
            matches!(c.command, Cmd::Plan(a) if a.args.lock_timeout == "30s" && a.args.parallelism == 4 && !a.args.refresh && a.args.vars.var_files.len() == 1)
        );
        let c = parse(&["infra", "apply", "--no-color", "--input", "--lock=true", "--auto-approve"]).unwrap();
        assert!(c.no_color && c.input && c.lock && !c.compact_warnings);
        assert!(matches!(parse(&["infra", "version", "-json"]).map(|c| c.command), Ok(Cmd::Version(_))));
        assert!(matches!(parse(&["infra", "validate", "-json", "-no-color"]).map(|c| c.command), Ok(Cmd::Validate(_))));
        assert!(matches!(parse(&["infra", "output", "-json", "-no-color"]).map(|c| c.command), Ok(Cmd::Output(_))));
        assert!(matches!(parse(&["infra", "fmt", "-recursive", "-check", "-diff", "-list=false", "-write=false"]).map(|c| c.command), Ok(Cmd::Fmt(_))));
        assert!(parse(&["infra", "plan", "-lock=maybe"]).is_err());
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
