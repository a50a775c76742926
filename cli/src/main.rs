//! The `infra` command: `main` → `run() -> Result` → exit code. Commands parse arguments and
//! call the engine; the engine's hook is rendered here.

mod render;

use clap::{Parser, Subcommand};
use infra_core::addr::{parse_target, Target};
use infra_core::apply::{apply, ApplyOptions};
use infra_core::hooks::Hook;
use infra_core::plan::{plan, Action, Plan, PlanMode, PlanOptions};
use infra_core::state_io::Working;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_lang::value::{from_json, to_json, Value};
use infra_provider::Registry;
use infra_state::{LocalBackend, StateFile};
use render::Style;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "infra", version, about = "Declarative infrastructure from Terraform-language stacks")]
struct Cli {
    /// Run in this stack directory.
    #[arg(long, global = true, default_value = ".")]
    chdir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone, Default)]
struct VarArgs {
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Read variables from a .tfvars file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
}

#[derive(clap::Args, Clone)]
struct PlanArgs {
    #[command(flatten)]
    vars: VarArgs,
    /// Skip refreshing objects from their providers.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    refresh: bool,
    /// Only show (and apply) drift between state and reality (always a full refresh).
    #[arg(long)]
    refresh_only: bool,
    /// Also re-read attributes whose API reads one object per call (a VPC's DNS settings, a
    /// load balancer's attributes); a routine refresh reads only what batched calls return.
    #[arg(long)]
    refresh_full: bool,
    /// Plan to destroy everything.
    #[arg(long)]
    destroy: bool,
    /// Limit the plan to these resources and what they depend on.
    #[arg(long = "target", value_name = "ADDR")]
    targets: Vec<String>,
    /// Force replacement of this resource instance.
    #[arg(long = "replace", value_name = "ADDR")]
    replace: Vec<String>,
    /// How many provider operations run at once.
    #[arg(long, default_value_t = 10)]
    parallelism: usize,
    /// Wait this long for the state lock, e.g. 30s.
    #[arg(long, default_value = "0s")]
    lock_timeout: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show what apply would change.
    Plan {
        #[command(flatten)]
        args: PlanArgs,
        /// Save the plan to this file for `infra apply FILE`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Make the changes a plan describes.
    Apply {
        #[command(flatten)]
        args: PlanArgs,
        #[arg(long)]
        auto_approve: bool,
        /// A plan file saved with `plan --out`.
        plan_file: Option<PathBuf>,
    },
    /// Destroy everything the state records.
    Destroy {
        #[command(flatten)]
        args: PlanArgs,
        #[arg(long)]
        auto_approve: bool,
    },
    /// Check that the stack loads and its providers are built in (nothing to download).
    Init,
    /// Check the configuration without contacting providers.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// Show the root module's outputs.
    Output {
        name: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        raw: bool,
    },
    /// Show the state or a saved plan.
    Show {
        plan_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Inspect and edit the state.
    State {
        #[command(subcommand)]
        cmd: StateCmd,
    },
    /// Print the configuration graph in DOT.
    Graph,
    /// Rewrite stack files in canonical format.
    Fmt {
        #[arg(long)]
        check: bool,
        #[arg(long)]
        diff: bool,
    },
    /// Evaluate expressions read from stdin, one per line.
    Console {
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Remove a stale state lock.
    ForceUnlock { id: String },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum StateCmd {
    List,
    Show { address: String },
    Rm { addresses: Vec<String> },
    Mv { from: String, to: String },
}

/// Reserved (not committed) stack for the main work: enough for the deepest expression the
/// parser's input limits allow.
const STACK_BYTES: usize = 1 << 30;

/// An error already rendered for the user, with the exit code to use.
struct Exit(i32);

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("terraform", infra_provider_terraform::factory());
    r.register("local", infra_provider_local::factory());
    r.register("random", infra_provider_random::factory());
    r.register("aws", infra_provider_aws::factory());
    r.register("vps", infra_provider_vps::factory());
    r
}

struct Out {
    sources: SourceMap,
    base: PathBuf,
    style: Style,
}

impl Out {
    fn diags(&self, d: &Diagnostics) {
        let mut err = std::io::stderr().lock();
        for x in d.iter() {
            let _ = write!(err, "{}", render::diagnostic(x, &self.sources, &self.base, &self.style));
        }
    }
    fn fail(&self, d: impl Into<Diagnostics>) -> Exit {
        let mut d: Diagnostics = d.into();
        for x in &mut d.0 {
            x.detail = sentence(&x.detail);
        }
        self.diags(&d);
        Exit(1)
    }
}

fn main() {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`infra plan | head`) instead of failing on a broken pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Parsing and evaluation recurse along nested expressions; the input limits in
    // `infra_lang::parse` bound the depth, and this stack is sized for those bounds.
    let worker = std::thread::Builder::new().name("infra".into()).stack_size(STACK_BYTES).spawn(|| match run() {
        Ok(c) => c,
        Err(Exit(c)) => c,
    });
    let code = match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => 101,
        Err(e) => {
            eprintln!("infra: cannot start: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn run() -> Result<i32, Exit> {
    // Usage errors exit 1, as Terraform's do: exit 2 means "changes present" to
    // `--detailed-exitcode` users, so a mistyped flag must never look like it.
    let cli = match Cli::try_parse_from(terraform_style_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    // Like terraform -chdir: relative paths in the stack resolve against the stack directory.
    let early = Out { sources: SourceMap::new(), base: PathBuf::from("."), style: Style::from_env() };
    std::env::set_current_dir(&cli.chdir)
        .map_err(|e| early.fail(Diagnostic::error("Cannot change directory", format!("--chdir {} failed: {e}.", cli.chdir.display()))))?;
    let dir = std::env::current_dir().map_err(|e| early.fail(Diagnostic::error("Cannot read the working directory", e.to_string())))?;
    let out = Out { sources: SourceMap::new(), base: dir.clone(), style: Style::from_env() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| out.fail(Diagnostic::error("Cannot start", e.to_string())))?;
    match cli.command {
        Cmd::Version => {
            println!("infra v{}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "infra", &mut std::io::stdout());
            Ok(0)
        }
        Cmd::Init => {
            let ctx = load(&dir, &VarArgs::default(), Phase::Validate, &out)?;
            out.diags(&ctx.preflight);
            if ctx.preflight.has_errors() {
                return Err(Exit(1));
            }
            let backend = backend(&dir, &out)?;
            read_state(&backend, &out)?;
            println!("infra has been successfully initialized: providers are built in and the state ({}) is readable.", backend.path.display());
            Ok(0)
        }
        Cmd::Validate { json } => {
            let ctx = load(&dir, &VarArgs::default(), Phase::Validate, &out)?;
            let d = infra_core::validate(&ctx);
            if json {
                println!(
                    "{}",
                    serde_json::json!({"format_version": "1.0", "valid": !d.has_errors(), "error_count": d.iter().filter(|x| x.is_error()).count(), "diagnostics": d.iter().map(|x| diag_json(x, &out)).collect::<Vec<_>>()})
                );
            } else {
                out.diags(&d);
            }
            if d.has_errors() {
                return Err(Exit(1));
            }
            if !json {
                println!("Success! The configuration is valid.");
            }
            Ok(0)
        }
        Cmd::Plan { args, out: plan_out, detailed_exitcode } => {
            let stack = read_stack(&dir, &out);
            let backend = backend_for(&stack.0, &dir, &out)?;
            let _lock = lock(&backend, "plan", &args, &out)?;
            let state = read_state(&backend, &out)?;
            let ctx = load_stack(stack, &dir, &args.vars, Phase::Plan, &out)?;
            let p = rt.block_on(plan(&ctx, &state, &plan_options(&args, &out)?, &infra_core::hooks::NoHook)).map_err(|d| out.fail(d))?;
            out.diags(&p.warnings);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&plan_json(&p)).unwrap_or_default());
            } else {
                print!("{}", render::plan(&p, &out.style));
            }
            if let Some(file) = plan_out {
                save_plan(&file, &p, &args, &out)?;
                if !args.json {
                    println!("\nSaved the plan to: {}\nTo perform exactly these actions, run: infra apply {}", file.display(), file.display());
                }
            }
            Ok(if detailed_exitcode && p.has_changes() { 2 } else { 0 })
        }
        Cmd::Apply { mut args, auto_approve, plan_file } => {
            let stack = read_stack(&dir, &out);
            let backend = backend_for(&stack.0, &dir, &out)?;
            let mut saved: Option<serde_json::Value> = None;
            if let Some(f) = &plan_file {
                let bytes =
                    std::fs::read(f).map_err(|e| out.fail(Diagnostic::error("Cannot read plan file", format!("Reading {} failed: {e}.", f.display()))))?;
                let v: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| out.fail(Diagnostic::error("Invalid plan file", format!("{} is not a plan file saved by infra: {e}.", f.display()))))?;
                args = plan_args_from_file(&v, args);
                saved = Some(v);
            }
            let _lock = lock(&backend, "apply", &args, &out)?;
            let state = read_state(&backend, &out)?;
            if let Some(v) = &saved {
                let lineage = v["lineage"].as_str().unwrap_or_default();
                let serial = v["serial"].as_u64().unwrap_or(u64::MAX);
                if lineage != state.lineage || serial != state.serial {
                    return Err(out.fail(Diagnostic::error(
                        "Saved plan is stale",
                        format!(
                            "The plan was made against state lineage {lineage} serial {serial}, but the state is now lineage {} serial {}. Create a new plan.",
                            state.lineage, state.serial
                        ),
                    )));
                }
            }
            let mut ctx = load_stack(stack, &dir, &args.vars, Phase::Plan, &out)?;
            if let Some(v) = &saved {
                if let Some(vars) = v["variables"].as_object() {
                    ctx.input_vars = vars.iter().map(|(k, j)| (k.clone(), from_json(j))).collect();
                }
            }
            let p = rt.block_on(plan(&ctx, &state, &plan_options(&args, &out)?, &infra_core::hooks::NoHook)).map_err(|d| out.fail(d))?;
            out.diags(&p.warnings);
            if let Some(v) = &saved {
                let now = actions_json(&p);
                if v["actions"] != now {
                    return Err(out.fail(Diagnostic::error(
                        "Saved plan is stale",
                        "The objects changed since the plan was made, so applying it would not do what it showed. Create a new plan.",
                    )));
                }
            } else {
                print!("{}", render::plan(&p, &out.style));
            }
            if !p.has_changes() && p.mode != PlanMode::RefreshOnly {
                return Ok(0);
            }
            if saved.is_none() && !auto_approve && !confirm("apply", &out)? {
                return Ok(1);
            }
            ctx.phase = Phase::Apply;
            run_apply(&rt, ctx, p, backend, &args, &out)
        }
        Cmd::Destroy { mut args, auto_approve } => {
            args.destroy = true;
            let stack = read_stack(&dir, &out);
            let backend = backend_for(&stack.0, &dir, &out)?;
            let _lock = lock(&backend, "destroy", &args, &out)?;
            let state = read_state(&backend, &out)?;
            let mut ctx = load_stack(stack, &dir, &args.vars, Phase::Plan, &out)?;
            let p = rt.block_on(plan(&ctx, &state, &plan_options(&args, &out)?, &infra_core::hooks::NoHook)).map_err(|d| out.fail(d))?;
            print!("{}", render::plan(&p, &out.style));
            if !p.has_changes() {
                return Ok(0);
            }
            if !auto_approve && !confirm("destroy", &out)? {
                return Ok(1);
            }
            ctx.phase = Phase::Apply;
            run_apply(&rt, ctx, p, backend, &args, &out)
        }
        Cmd::Output { name, json, raw } => {
            let backend = backend(&dir, &out)?;
            let state = read_state(&backend, &out)?;
            match name {
                Some(n) => {
                    let Some(o) = state.outputs.get(&n) else {
                        return Err(out.fail(Diagnostic::error(
                            "Output not found",
                            format!("The output \"{n}\" is not in the state. Apply the stack, or check the name."),
                        )));
                    };
                    if json {
                        println!("{}", serde_json::to_string(&o.value).unwrap_or_default());
                    } else if raw {
                        match &o.value {
                            serde_json::Value::String(s) => print!("{s}"),
                            v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => print!("{v}"),
                            _ => {
                                return Err(out.fail(Diagnostic::error(
                                    "Unsupported value for raw output",
                                    format!("The output \"{n}\" is not a string, number or bool, so it cannot be printed raw. Use --json instead."),
                                )))
                            }
                        }
                    } else if o.sensitive {
                        println!("(sensitive value)");
                    } else {
                        println!("{}", render::value(&from_json(&o.value), 0));
                    }
                }
                None if json => {
                    let m: serde_json::Map<String, serde_json::Value> = state
                        .outputs
                        .iter()
                        .map(|(k, o)| (k.clone(), serde_json::json!({"sensitive": o.sensitive, "type": json_type(&o.value), "value": o.value})))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
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
        Cmd::Show { plan_file, json } => {
            if let Some(f) = plan_file {
                let text = std::fs::read_to_string(&f)
                    .map_err(|e| out.fail(Diagnostic::error("Cannot read plan file", format!("Reading {} failed: {e}.", f.display()))))?;
                if json {
                    println!("{text}");
                    return Ok(0);
                }
                return show_saved_plan(&f, &text, &out);
            }
            let backend = backend(&dir, &out)?;
            let state = read_state(&backend, &out)?;
            if json {
                println!("{}", String::from_utf8_lossy(&state.to_bytes()));
                return Ok(0);
            }
            let w = Working::from_state(&state).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            for (addr, inst) in &w.instances {
                println!(
                    "# {addr}:\n{} \"{}\" \"{}\" {}\n",
                    if addr.mode == infra_lang::config::Mode::Data { "data" } else { "resource" },
                    addr.type_name,
                    addr.name,
                    render::value(&inst.value, 0)
                );
            }
            Ok(0)
        }
        Cmd::State { cmd } => state_cmd(cmd, &dir, &out),
        Cmd::Graph => {
            let ctx = load(&dir, &VarArgs::default(), Phase::Validate, &out)?;
            print!("{}", ctx.graph.to_dot());
            Ok(0)
        }
        Cmd::Fmt { check, diff } => fmt_cmd(&dir, check, diff, &out),
        Cmd::Console { vars } => console(&dir, &vars, &out),
        Cmd::ForceUnlock { id } => {
            let backend = backend(&dir, &out)?;
            backend.force_unlock(&id).map_err(|e| out.fail(Diagnostic::error("Cannot unlock", e.to_string())))?;
            println!("infra state has been successfully unlocked!");
            Ok(0)
        }
    }
}

/// Error texts are lowercase by convention; a diagnostic's detail is a sentence.
fn sentence(s: &str) -> String {
    let first_word = s.split(' ').next().unwrap_or("");
    if !first_word.chars().all(|c| c.is_ascii_lowercase()) {
        // An identifier such as local_file or aws_vpc.main keeps its case.
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn json_type(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(_) => "string".into(),
        serde_json::Value::Number(_) => "number".into(),
        serde_json::Value::Bool(_) => "bool".into(),
        serde_json::Value::Null => "dynamic".into(),
        serde_json::Value::Array(a) => {
            serde_json::json!(["tuple", a.iter().map(json_type).collect::<Vec<_>>()])
        }
        serde_json::Value::Object(m) => serde_json::json!(["object", m.iter().map(|(k, v)| (k.clone(), json_type(v))).collect::<serde_json::Map<_, _>>()]),
    }
}

fn diag_json(d: &Diagnostic, out: &Out) -> serde_json::Value {
    let range = d.subject.as_ref().map(|s| {
        let p = out.sources.pos(s.file, s.range.start);
        serde_json::json!({"filename": out.sources.path(s.file).strip_prefix(&out.base).map(|p| p.display().to_string()).unwrap_or_default(), "start": {"line": p.line, "column": p.col, "byte": s.range.start}})
    });
    serde_json::json!({"severity": if d.is_error() {"error"} else {"warning"}, "summary": d.summary, "detail": d.detail, "range": range, "address": d.address})
}

/// The stack's configuration, read once per command (with the diagnostics of reading it).
fn read_stack(dir: &Path, out: &Out) -> (infra_lang::config::Module, Diagnostics) {
    infra_lang::config::load_module(&out.sources, dir)
}

fn backend(dir: &Path, out: &Out) -> Result<LocalBackend, Exit> {
    backend_for(&read_stack(dir, out).0, dir, out)
}

fn backend_for(module: &infra_lang::config::Module, dir: &Path, out: &Out) -> Result<LocalBackend, Exit> {
    let mut path = dir.join(infra_state::DEFAULT_STATE_FILE);
    if let Some(b) = &module.backend {
        if let Some(a) = b.body.attr("path") {
            match a.expr.expr.as_str() {
                Some(p) => path = dir.join(p),
                None => return Err(out.fail(Diagnostic::error("Invalid backend path", "The local backend's path must be a literal string."))),
            }
        }
    }
    Ok(LocalBackend::new(path))
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        _ => return None,
    })
}

fn lock(backend: &LocalBackend, op: &str, args: &PlanArgs, out: &Out) -> Result<infra_state::LockGuard, Exit> {
    let timeout = parse_duration(&args.lock_timeout)
        .ok_or_else(|| out.fail(Diagnostic::error("Invalid --lock-timeout", format!("{:?} is not a duration like 30s or 2m.", args.lock_timeout))))?;
    backend.lock(op, timeout).map_err(|e| out.fail(Diagnostic::error("Error acquiring the state lock", format!("{e}."))))
}

fn read_state(backend: &LocalBackend, out: &Out) -> Result<StateFile, Exit> {
    match backend.read() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Ok(StateFile::new()),
        Err(e) => Err(out.fail(Diagnostic::error("Failed to load state", format!("{e}.")))),
    }
}

fn plan_options(args: &PlanArgs, out: &Out) -> Result<PlanOptions, Exit> {
    let parse = |v: &[String]| -> Result<Vec<Target>, Exit> {
        v.iter().map(|t| parse_target(t).map_err(|e| out.fail(Diagnostic::error("Invalid target address", format!("{e}."))))).collect()
    };
    Ok(PlanOptions {
        mode: if args.destroy {
            PlanMode::Destroy
        } else if args.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        },
        refresh: args.refresh,
        refresh_full: args.refresh_full,
        targets: parse(&args.targets)?,
        replace: parse(&args.replace)?,
    })
}

/// Reads variables: INFRA_VAR_*, terraform.tfvars, *.auto.tfvars, then --var-file and --var in
/// order, later ones winning.
fn load(dir: &Path, vars: &VarArgs, phase: Phase, out: &Out) -> Result<infra_core::walk::Ctx, Exit> {
    load_stack(read_stack(dir, out), dir, vars, phase, out)
}

fn load_stack(stack: (infra_lang::config::Module, Diagnostics), dir: &Path, vars: &VarArgs, phase: Phase, out: &Out) -> Result<infra_core::walk::Ctx, Exit> {
    let (module, read_diags) = stack;
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let typed_raw = |name: &str, raw: &str| -> Value {
        let is_string = module
            .variables
            .get(name)
            .and_then(|v| v.ty.clone())
            .is_none_or(|t| matches!(t, infra_lang::Type::String | infra_lang::Type::Number | infra_lang::Type::Bool | infra_lang::Type::Any));
        if !is_string {
            if let Ok(e) = raw.parse::<hcl_edit::expr::Expression>() {
                if let Ok(v) = infra_lang::eval::eval_constant(&e) {
                    return v;
                }
            }
        }
        Value::string(raw)
    };
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("INFRA_VAR_") {
            values.insert(name.to_string(), typed_raw(name, &v));
        }
    }
    let mut files: Vec<PathBuf> = Vec::new();
    if dir.join("terraform.tfvars").exists() {
        files.push(dir.join("terraform.tfvars"));
    }
    let mut autos: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".auto.tfvars")).collect())
        .unwrap_or_default();
    autos.sort();
    files.extend(autos);
    files.extend(vars.var_files.iter().cloned());
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| out.fail(Diagnostic::error("Cannot read variables file", format!("Reading {} failed: {e}.", f.display()))))?;
        let (_, body) = infra_lang::parse::parse_source(&out.sources, &f, &text);
        let body = body.map_err(|d| out.fail(d))?;
        for attr in body.attributes() {
            match infra_lang::eval::eval_constant(&attr.value) {
                Ok(v) => {
                    values.insert(attr.key.as_str().to_string(), v);
                }
                Err(e) => return Err(out.fail(Diagnostic::error("Invalid variable value", format!("{e} (in {}).", f.display())))),
            }
        }
    }
    for kv in &vars.vars {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(out.fail(Diagnostic::error("Invalid --var", format!("{kv:?} is not NAME=VALUE."))));
        };
        values.insert(k.to_string(), typed_raw(k, v));
    }
    if phase != Phase::Validate {
        for (name, var) in &module.variables {
            if var.default.is_none() && !values.contains_key(name) && std::io::stdin().is_terminal() {
                eprint!("var.{name}\n  {}\n\n  Enter a value: ", var.description.clone().unwrap_or_default());
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                values.insert(name.clone(), typed_raw(name, line.trim_end_matches(['\n', '\r'])));
            }
        }
    }
    infra_core::from_module(module, read_diags, dir, &registry(), values, phase, &out.sources).map_err(|d| out.fail(d))
}

fn confirm(verb: &str, out: &Out) -> Result<bool, Exit> {
    if !std::io::stdin().is_terminal() {
        return Err(out.fail(Diagnostic::error(
            "No confirmation",
            format!("infra {verb} needs confirmation, but standard input is not a terminal. Use --auto-approve."),
        )));
    }
    print!("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim() != "yes" {
        println!("\n{} cancelled.", if verb == "destroy" { "Destroy" } else { "Apply" });
        return Ok(false);
    }
    Ok(true)
}

struct CliHook {
    style: Style,
}

impl Hook for CliHook {
    fn apply_start(&self, addr: &str, action: Action) {
        let verb = match action {
            Action::Delete => "Destroying...",
            Action::Create => "Creating...",
            Action::Read => "Reading...",
            _ => "Modifying...",
        };
        eprintln!("{}: {verb}", self.style.bold(addr));
    }
    fn apply_progress(&self, addr: &str, action: Action, elapsed: Duration) {
        let verb = match action {
            Action::Delete => "destroying",
            Action::Create => "creating",
            _ => "modifying",
        };
        eprintln!("{}: Still {verb}... [{}s elapsed]", self.style.bold(addr), elapsed.as_secs());
    }
    fn apply_done(&self, addr: &str, action: Action, elapsed: Duration, id: Option<&str>, error: Option<&Diagnostic>) {
        if error.is_some() {
            return;
        }
        let verb = match action {
            Action::Delete => "Destruction complete",
            Action::Create => "Creation complete",
            _ => "Modifications complete",
        };
        let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
        eprintln!("{}: {verb} after {}s{id}", self.style.bold(addr), elapsed.as_secs());
    }
    fn stopping(&self) {
        eprintln!("Stopping: in-flight operations are finishing.");
    }
}

fn run_apply(rt: &tokio::runtime::Runtime, ctx: infra_core::walk::Ctx, p: Plan, backend: LocalBackend, args: &PlanArgs, out: &Out) -> Result<i32, Exit> {
    let cancel = Arc::new(AtomicBool::new(false));
    let c2 = cancel.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            c2.store(true, Ordering::SeqCst);
            eprintln!("Interrupt received. Waiting for in-flight operations to finish; nothing new will start. Interrupt again to stop at once.");
            if tokio::signal::ctrl_c().await.is_ok() {
                // Second interrupt: stop now. State writes are atomic renames, so the file on
                // disk is the last complete version.
                eprintln!("Two interrupts received. Exiting immediately.");
                std::process::exit(130);
            }
        }
    });
    let destroy = p.mode == PlanMode::Destroy;
    let res = rt.block_on(apply(
        Arc::new(ctx),
        p,
        backend,
        ApplyOptions { parallelism: args.parallelism, cancel, ..Default::default() },
        Arc::new(CliHook { style: Style::from_env() }),
    ));
    out.diags(&res.diagnostics);
    if res.cancelled {
        eprintln!("{}", out.style.red("Apply interrupted: the state records everything that finished."));
        return Err(Exit(1));
    }
    if res.diagnostics.has_errors() {
        return Err(Exit(1));
    }
    if destroy {
        println!("\n{} Resources: {} destroyed.", out.style.green(&out.style.bold("Destroy complete!")), res.destroyed);
    } else {
        println!(
            "\n{} Resources: {} added, {} changed, {} destroyed.",
            out.style.green(&out.style.bold("Apply complete!")),
            res.added,
            res.changed,
            res.destroyed
        );
        if !res.outputs.is_empty() {
            println!("\nOutputs:\n");
            for (k, (v, sens)) in &res.outputs {
                println!("{k} = {}", if *sens { "<sensitive>".to_string() } else { render::value(v, 0) });
            }
        }
    }
    Ok(0)
}

fn actions_json(p: &Plan) -> serde_json::Value {
    serde_json::Value::Array(p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| serde_json::json!([c.addr.to_string(), c.action.verb()])).collect())
}

fn plan_json(p: &Plan) -> serde_json::Value {
    let change = |c: &infra_core::plan::ResourceChange| {
        let actions: Vec<&str> = match c.action {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Read => vec!["read"],
            Action::Update => vec!["update"],
            Action::Delete => vec!["delete"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
        };
        let redact = |v: &Option<Value>| v.as_ref().map(|v| to_json(&redacted(v))).unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "address": c.addr.to_string(),
            "module_address": if c.addr.module.is_root() { serde_json::Value::Null } else { c.addr.module.to_string().into() },
            "mode": if c.addr.mode == infra_lang::config::Mode::Data { "data" } else { "managed" },
            "type": c.addr.type_name,
            "name": c.addr.name,
            "index": c.addr.key.as_ref().map(|k| k.to_json()),
            "provider_name": c.provider,
            "change": {"actions": actions, "before": redact(&c.before), "after": redact(&c.after), "replace_paths": c.replace_paths.iter().map(|p| vec![p]).collect::<Vec<_>>()},
            "action_reason": format!("{:?}", c.reason),
        })
    };
    let mut sorted: Vec<&infra_core::plan::ResourceChange> = p.changes.iter().collect();
    sorted.sort_by(|a, b| a.addr.cmp(&b.addr));
    serde_json::json!({
        "format_version": "1.0",
        "infra_version": env!("CARGO_PKG_VERSION"),
        "resource_changes": sorted.into_iter().map(change).collect::<Vec<_>>(),
        "resource_drift": p.drift.iter().map(change).collect::<Vec<_>>(),
        "output_changes": p.outputs.iter().map(|(k, o)| (k.clone(), serde_json::json!({"before": o.before.as_ref().map(|b| to_json(&redacted(b))), "after": to_json(&redacted(&o.after)), "after_sensitive": o.sensitive}))).collect::<serde_json::Map<_, _>>(),
        "has_changes": p.has_changes(),
    })
}

/// Sensitive values are left out of JSON output; unknowns are null there.
fn redacted(v: &Value) -> Value {
    match v {
        Value::Sensitive(_) => Value::string("(sensitive value)"),
        Value::List(i) => Value::List(i.iter().map(redacted).collect()),
        Value::Tuple(i) => Value::Tuple(i.iter().map(redacted).collect()),
        Value::Set(i) => Value::Set(i.iter().map(redacted).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect()),
        other => other.clone(),
    }
}

fn save_plan(file: &Path, p: &Plan, args: &PlanArgs, out: &Out) -> Result<(), Exit> {
    let doc = serde_json::json!({
        "format_version": 1,
        "lineage": p.lineage,
        "serial": p.serial,
        "mode": format!("{:?}", p.mode),
        "targets": args.targets,
        "replace": args.replace,
        "refresh": args.refresh,
        "refresh_full": args.refresh_full,
        "variables": p.variables.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>(),
        "actions": actions_json(p),
    });
    let tmp = file.with_extension("tmp");
    let written = std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap_or_default()).and_then(|_| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, file)
    });
    written.map_err(|e| out.fail(Diagnostic::error("Cannot save plan", format!("Writing {} failed: {e}.", file.display()))))
}

/// `infra show PLANFILE`: the actions a saved plan will take, and what it is bound to.
fn show_saved_plan(file: &Path, text: &str, out: &Out) -> Result<i32, Exit> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| out.fail(Diagnostic::error("Invalid plan file", format!("{} is not a plan file saved by infra: {e}.", file.display()))))?;
    let actions = doc["actions"].as_array().cloned().unwrap_or_default();
    println!(
        "Saved plan for state lineage {} serial {} ({} mode):\n",
        doc["lineage"].as_str().unwrap_or("?"),
        doc["serial"],
        doc["mode"].as_str().unwrap_or("?")
    );
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    for a in &actions {
        let (addr, verb) = (a[0].as_str().unwrap_or("?"), a[1].as_str().unwrap_or("?"));
        let shown = match verb {
            "create" => {
                add += 1;
                "created"
            }
            "update" => {
                change += 1;
                "updated in-place"
            }
            "delete" => {
                destroy += 1;
                "destroyed"
            }
            "replace" => {
                add += 1;
                destroy += 1;
                "replaced"
            }
            "read" => "read during apply",
            _ => verb,
        };
        println!("  # {addr} will be {shown}");
    }
    println!("\nPlan: {add} to add, {change} to change, {destroy} to destroy.");
    Ok(0)
}

fn plan_args_from_file(v: &serde_json::Value, mut args: PlanArgs) -> PlanArgs {
    let strings = |k: &str| v[k].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default();
    args.targets = strings("targets");
    args.replace = strings("replace");
    args.destroy = v["mode"] == "Destroy";
    args.refresh_only = v["mode"] == "RefreshOnly";
    // The saved plan already refreshed; applying it compares against that result.
    args.refresh = v["refresh"].as_bool().unwrap_or(true);
    args.refresh_full = v["refresh_full"].as_bool().unwrap_or(false);
    args
}

fn state_cmd(cmd: StateCmd, dir: &Path, out: &Out) -> Result<i32, Exit> {
    let backend = backend(dir, out)?;
    let find = |w: &Working, a: &str| -> Result<Vec<infra_core::addr::InstanceAddr>, Exit> {
        let t = parse_target(a).map_err(|e| out.fail(Diagnostic::error("Invalid address", format!("{e}."))))?;
        Ok(w.instances.keys().filter(|i| t.matches(i)).cloned().collect())
    };
    match cmd {
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
            let _lock = backend.lock("state rm", Duration::ZERO).map_err(|e| out.fail(Diagnostic::error("Error acquiring the state lock", format!("{e}."))))?;
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
            let _lock = backend.lock("state mv", Duration::ZERO).map_err(|e| out.fail(Diagnostic::error("Error acquiring the state lock", format!("{e}."))))?;
            let s = read_state(&backend, out)?;
            let mut w = Working::from_state(&s).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
            let src = find(&w, &from)?;
            let from_instance = parse_target(&from).map(|t| t.key.is_some()).unwrap_or(false);
            let dst = parse_target(&to).map_err(|e| out.fail(Diagnostic::error("Invalid address", format!("{e}."))))?;
            let Some((mode, ty, name)) = dst.resource.clone() else {
                return Err(out.fail(Diagnostic::error("Invalid address", "The destination must be a resource address.")));
            };
            if src.is_empty() {
                return Err(out.fail(Diagnostic::error("Invalid source address", format!("No matching objects found for {from}."))));
            }
            for a in src {
                let new = infra_core::addr::InstanceAddr {
                    module: dst.module.clone(),
                    mode,
                    type_name: ty.clone(),
                    name: name.clone(),
                    key: if dst.key.is_some() || from_instance { dst.key.clone() } else { a.key.clone() },
                };
                if w.instances.contains_key(&new) {
                    return Err(out.fail(Diagnostic::error("Destination exists", format!("{new} is already in the state. Nothing was moved."))));
                }
                if let Some(i) = w.instances.remove(&a) {
                    w.instances.insert(new.clone(), i);
                    println!("Move \"{a}\" to \"{new}\"");
                }
            }
            w.serial += 1;
            backend.write(&w.to_state()).map_err(|e| out.fail(Diagnostic::error("Failed to persist state", e.to_string())))?;
            Ok(0)
        }
    }
}

fn fmt_cmd(dir: &Path, check: bool, diff: bool, out: &Out) -> Result<i32, Exit> {
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

fn console(dir: &Path, vars: &VarArgs, out: &Out) -> Result<i32, Exit> {
    let mut ctx = load(dir, vars, Phase::Validate, out)?;
    ctx.phase = Phase::Console;
    let backend = backend(dir, out)?;
    let state = read_state(&backend, out)?;
    let w = Working::from_state(&state).map_err(|e| out.fail(Diagnostic::error("Invalid state", e)))?;
    let mut store = infra_core::walk::Store::default();
    // Resources are their stored values; variables and locals are evaluated.
    for (a, inst) in &w.instances {
        store.set_instance(&a.module, &a.resource_key(), a.key.clone(), inst.value.clone());
    }
    for res in store.modules.values_mut() {
        for (exp, insts) in res.resources.values_mut() {
            *exp = if insts.keys().all(Option::is_none) {
                infra_core::walk::Expansion::Single
            } else if insts.keys().all(|k| matches!(k, Some(infra_core::addr::InstanceKey::Int(_)))) {
                infra_core::walk::Expansion::Count(insts.len())
            } else {
                infra_core::walk::Expansion::ForEach(
                    insts
                        .keys()
                        .filter_map(|k| match k {
                            Some(infra_core::addr::InstanceKey::Str(s)) => Some((s.clone(), Value::Null)),
                            _ => None,
                        })
                        .collect(),
                )
            };
        }
    }
    let root = infra_core::addr::ModuleInstance::root();
    for &n in &ctx.graph.order {
        let id = &ctx.graph.nodes[n];
        if !id.module.is_empty() {
            continue;
        }
        match &id.kind {
            infra_core::graph::NodeKind::Var(v) => drop(infra_core::walk::eval_var(&ctx, &mut store, &root, &ctx.config, v)),
            infra_core::graph::NodeKind::Local(l) => drop(infra_core::walk::eval_local(&ctx, &mut store, &root, &ctx.config, l)),
            _ => {}
        }
    }
    let mut code = 0;
    for line in std::io::stdin().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (id, parsed) = infra_lang::parse::parse_expr_source(&out.sources, "<console-input>", &line);
        match parsed {
            Ok(e) => {
                let expr = infra_lang::config::Expr { file: id, expr: Arc::new(e) };
                let s = infra_core::walk::scope(&ctx, &store, &root, &ctx.config);
                match infra_lang::eval::eval(&expr, &s) {
                    Ok(v) => println!("{}", render::console_value(&v, 0)),
                    Err(d) => {
                        out.diags(&d.into());
                        code = 1;
                    }
                }
            }
            Err(d) => {
                out.diags(&d.into());
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Terraform spells long options with one dash (`-var`, `-auto-approve`, `-out=tf.plan`,
/// `-detailed-exitcode`): accept that spelling too. Single letters stay short options; nothing
/// after `--` is touched.
fn terraform_style_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
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
