//! Input variables and the loaded stack: TF_VAR_* (as Terraform reads them), INFRA_VAR_*,
//! terraform.tfvars, *.auto.tfvars, then --var-file and --var in order, later ones winning.

use super::Result;
use infra_core::walk::Ctx;
use infra_lang::config::Module;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_lang::value::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct LoadOptions {
    /// `NAME=VALUE` pairs from `--var`, in command-line order.
    pub vars: Vec<String>,
    pub var_files: Vec<PathBuf>,
    pub phase: Phase,
    /// Ask on stderr/stdin for a required variable nobody set (only when stdin is a terminal,
    /// and never while validating).
    pub prompt_missing: bool,
}

/// The variable files a run reads, in the order later ones win: `terraform.tfvars`, then
/// `*.auto.tfvars` by name, then each `--var-file`.
pub fn var_files(dir: &Path, given: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    if dir.join("terraform.tfvars").exists() {
        files.push(dir.join("terraform.tfvars"));
    }
    let mut autos: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".auto.tfvars")).collect())
        .unwrap_or_default();
    autos.sort();
    files.extend(autos);
    files.extend(given.iter().cloned());
    files
}

/// Reads the stack in `dir` and loads it with its variables.
pub fn load(dir: &Path, opts: &LoadOptions, sources: &SourceMap) -> Result<Ctx> {
    load_stack(super::stack::read_stack(dir, sources), dir, opts, sources)
}

/// Loads a stack already read (so the command could find its backend first).
pub fn load_stack(stack: (Module, Diagnostics), dir: &Path, opts: &LoadOptions, sources: &SourceMap) -> Result<Ctx> {
    let (module, read_diags) = stack;
    let values = input_values(&module, dir, opts, sources)?;
    let workspace = super::backend::current_workspace(dir)?;
    let mut ctx = infra_core::from_module(module, read_diags, dir, &super::stack::registry(), values, opts.phase, sources)?;
    ctx.workspace = workspace;
    Ok(ctx)
}

/// The root module's input variables as given (environment, variable files, `--var`, the
/// prompt), before defaults and type conversion.
pub fn input_values(module: &Module, dir: &Path, opts: &LoadOptions, sources: &SourceMap) -> Result<BTreeMap<String, Value>> {
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
    // TF_VAR_ first, so that INFRA_VAR_ wins where both name a variable.
    let env: Vec<(String, String)> = std::env::vars().collect();
    for prefix in ["TF_VAR_", "INFRA_VAR_"] {
        for (k, v) in &env {
            if let Some(name) = k.strip_prefix(prefix) {
                values.insert(name.to_string(), typed_raw(name, v));
            }
        }
    }
    for f in var_files(dir, &opts.var_files) {
        let text = std::fs::read_to_string(&f).map_err(|e| Diagnostic::error("Cannot read variables file", format!("Reading {} failed: {e}.", f.display())))?;
        let (_, body) = infra_lang::parse::parse_source(sources, &f, &text);
        let body = body?;
        for attr in body.attributes() {
            match infra_lang::eval::eval_constant(&attr.value) {
                Ok(v) => {
                    values.insert(attr.key.as_str().to_string(), v);
                }
                Err(e) => return Err(Diagnostic::error("Invalid variable value", format!("{e} (in {}).", f.display())).into()),
            }
        }
    }
    for kv in &opts.vars {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(Diagnostic::error("Invalid --var", format!("{kv:?} is not NAME=VALUE.")).into());
        };
        values.insert(k.to_string(), typed_raw(k, v));
    }
    if opts.phase != Phase::Validate && opts.prompt_missing {
        for (name, var) in &module.variables {
            if var.default.is_none() && !values.contains_key(name) {
                eprint!("var.{name}\n  {}\n\n  Enter a value: ", var.description.clone().unwrap_or_default());
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                values.insert(name.clone(), typed_raw(name, line.trim_end_matches(['\n', '\r'])));
            }
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_variable_sources_win() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
        write("main.tf", "variable \"a\" {}\nvariable \"b\" {}\nvariable \"n\" {\n  type = list(number)\n}\n");
        write("terraform.tfvars", "a = \"tfvars\"\nb = \"tfvars\"\n");
        write("x.auto.tfvars", "b = \"auto\"\n");
        let opts = LoadOptions { vars: vec!["a=flag".into(), "n=[1, 2]".into()], var_files: vec![], phase: Phase::Validate, prompt_missing: false };
        let sources = SourceMap::new();
        let ctx = load(dir.path(), &opts, &sources).map_err(|d| d.0[0].summary.clone());
        let vars = ctx.map(|c| c.input_vars);
        let vars = vars.as_ref().ok();
        assert_eq!(vars.and_then(|v| v.get("a")), Some(&Value::string("flag")));
        assert_eq!(vars.and_then(|v| v.get("b")), Some(&Value::string("auto")));
        assert!(matches!(vars.and_then(|v| v.get("n")), Some(Value::Tuple(_) | Value::List(_))), "{:?}", vars.and_then(|v| v.get("n")));
    }

    #[test]
    fn a_var_without_equals_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let opts = LoadOptions { vars: vec!["nope".into()], var_files: vec![], phase: Phase::Validate, prompt_missing: false };
        let err = load(dir.path(), &opts, &SourceMap::new()).err().map(|d| d.0[0].summary.clone());
        assert_eq!(err.as_deref(), Some("Invalid --var"));
    }
}
