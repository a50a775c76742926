//! Which backend holds the stack's state, in which workspace: the `backend` block, the
//! `-backend-config` values `infra init` saved in `.infra/backend.json`, and the selected
//! workspace (`INFRA_WORKSPACE`, `TF_WORKSPACE`, else `.infra/environment`, else `default`).

use super::Result;
use infra_lang::config::Module;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_state::Backend;
use infra_state_s3::{S3Backend, S3Config};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// infra's own directory in the stack (Terraform's is `.terraform`).
pub const DOT_DIR: &str = ".infra";
/// The directory of the local backend's non-default workspaces (Terraform's is `terraform.tfstate.d`).
pub const WORKSPACE_DIR: &str = "infra.tfstate.d";

/// A backend as configured, before a workspace is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Spec {
    /// The default workspace's state file.
    Local(PathBuf),
    S3(S3Config),
}

impl Spec {
    pub fn kind(&self) -> &'static str {
        match self {
            Spec::Local(_) => "local",
            Spec::S3(_) => "s3",
        }
    }

    /// The local backend's state file in `workspace`: `infra.tfstate.d/NAME/FILE` beside the stack.
    pub fn local_path(dir: &Path, default: &Path, workspace: &str) -> PathBuf {
        if workspace == "default" {
            return default.to_path_buf();
        }
        let file = default.file_name().map(PathBuf::from).unwrap_or_else(|| infra_state::DEFAULT_STATE_FILE.into());
        dir.join(WORKSPACE_DIR).join(workspace).join(file)
    }

    /// Opens the state of `workspace`.
    /// The backend of `workspace`, its state (and journal) sealed and opened by `crypt`, the
    /// `state` target of the stack's encryption.
    pub fn open(&self, dir: &Path, workspace: &str, crypt: Option<Arc<infra_state::encryption::Target>>) -> Result<Arc<dyn Backend>> {
        match self {
            Spec::Local(p) => Ok(Arc::new(infra_state::LocalBackend::new(Spec::local_path(dir, p, workspace)).with_encryption(crypt))),
            Spec::S3(cfg) => S3Backend::new(cfg.clone(), workspace)
                .map(|b| Arc::new(b.with_encryption(crypt)) as Arc<dyn Backend>)
                .map_err(|e| Diagnostic::error("Cannot configure the s3 backend", format!("{e}.")).into()),
        }
    }

    /// Every workspace this backend holds a state for (`default` always).
    pub fn workspaces(&self, dir: &Path) -> Result<Vec<String>> {
        match self {
            Spec::Local(_) => {
                let mut names = vec!["default".to_string()];
                if let Ok(entries) = std::fs::read_dir(dir.join(WORKSPACE_DIR)) {
                    let mut more: Vec<String> =
                        entries.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect();
                    more.sort();
                    names.extend(more);
                }
                Ok(names)
            }
            Spec::S3(cfg) => S3Backend::new(cfg.clone(), "default")
                .map_err(|e| Diagnostic::error("Cannot configure the s3 backend", format!("{e}.")))?
                .workspaces()
                .map_err(|e| Diagnostic::error("Cannot list workspaces", format!("{e}.")).into()),
        }
    }

    pub fn delete_workspace(&self, dir: &Path, name: &str) -> Result<()> {
        match self {
            Spec::Local(_) => {
                let d = dir.join(WORKSPACE_DIR).join(name);
                std::fs::remove_dir_all(&d).map_err(|e| Diagnostic::error("Cannot delete the workspace", format!("removing {}: {e}.", d.display())).into())
            }
            Spec::S3(cfg) => S3Backend::new(cfg.clone(), name)
                .map_err(|e| Diagnostic::error("Cannot configure the s3 backend", format!("{e}.")))?
                .delete_workspace(name)
                .map_err(|e| Diagnostic::error("Cannot delete the workspace", format!("{e}.")).into()),
        }
    }
}

/// The workspace commands run in.
pub fn current_workspace(dir: &Path) -> Result<String> {
    for var in ["INFRA_WORKSPACE", "TF_WORKSPACE"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                check_workspace_name(&v).map_err(|d| Diagnostics::from(d.with_detail_suffix(&format!(" (from {var})"))))?;
                return Ok(v);
            }
        }
    }
    match std::fs::read_to_string(dir.join(DOT_DIR).join("environment")) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Ok("default".into()),
    }
}

pub fn select_workspace(dir: &Path, name: &str) -> Result<()> {
    let d = dir.join(DOT_DIR);
    std::fs::create_dir_all(&d)
        .and_then(|_| std::fs::write(d.join("environment"), format!("{name}\n")))
        .map_err(|e| Diagnostic::error("Cannot select the workspace", format!("writing {}: {e}.", d.join("environment").display())).into())
}

/// Terraform's rule: a workspace name is a URL path segment without slashes.
pub fn check_workspace_name(name: &str) -> std::result::Result<(), Diagnostic> {
    let ok = !name.is_empty() && name != "." && name != ".." && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Diagnostic::error("Invalid workspace name", format!("{name:?} is not a valid workspace name: use letters, digits, '-', '_' and '.'.")))
    }
}

trait DetailSuffix {
    fn with_detail_suffix(self, s: &str) -> Self;
}

impl DetailSuffix for Diagnostic {
    fn with_detail_suffix(mut self, s: &str) -> Self {
        self.detail.push_str(s);
        self
    }
}

/// The `backend` block's settings as strings (`endpoints { s3 = ... }` as `endpoints.s3`).
/// Values must be literals, as in Terraform.
pub fn block_settings(module: &Module) -> Result<Option<(String, BTreeMap<String, String>)>> {
    let Some(b) = module.backend.as_ref() else { return Ok(None) };
    let mut out = BTreeMap::new();
    for a in &b.body.attrs {
        let v = literal(&a.expr.expr).ok_or_else(|| {
            Diagnostic::error(
                "Invalid backend setting",
                format!("The {} backend's {} must be a literal value: backend settings cannot use variables or expressions.", b.kind, a.name),
            )
            .with_subject(a.expr.span())
        })?;
        match v {
            Literal::Scalar(s) => {
                out.insert(a.name.clone(), s);
            }
            Literal::Object(m) => {
                for (k, v) in m {
                    out.insert(format!("{}.{k}", a.name), v);
                }
            }
        }
    }
    for blk in &b.body.blocks {
        for a in &blk.body.attrs {
            let Some(Literal::Scalar(v)) = literal(&a.expr.expr) else {
                return Err(Diagnostic::error("Invalid backend setting", format!("{}.{} must be a literal string.", blk.kind, a.name))
                    .with_subject(a.expr.span())
                    .into());
            };
            out.insert(format!("{}.{}", blk.kind, a.name), v);
        }
    }
    Ok(Some((b.kind.clone(), out)))
}

enum Literal {
    Scalar(String),
    Object(BTreeMap<String, String>),
}

fn literal(e: &hcl_edit::expr::Expression) -> Option<Literal> {
    use hcl_edit::expr::Expression as E;
    match e {
        E::String(s) => Some(Literal::Scalar(s.value().to_string())),
        E::Bool(b) => Some(Literal::Scalar(b.value().to_string())),
        E::Number(n) => Some(Literal::Scalar(n.value().to_string())),
        E::Object(o) => {
            let mut m = BTreeMap::new();
            for (k, v) in o.iter() {
                let key = match k {
                    hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(E::String(s)) => s.value().to_string(),
                    _ => return None,
                };
                let Some(Literal::Scalar(v)) = literal(v.expr()) else { return None };
                m.insert(key, v);
            }
            Some(Literal::Object(m))
        }
        E::Parenthesis(p) => literal(p.inner()),
        _ => None,
    }
}

/// Reads one `-backend-config` argument: `KEY=VALUE`, or a file of `KEY = VALUE` lines (HCL).
pub fn backend_config_arg(arg: &str, dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some((k, v)) = arg.split_once('=') {
        if !k.trim().is_empty() && !k.contains('/') && !Path::new(arg).exists() {
            out.insert(k.trim().to_string(), v.trim().to_string());
            return Ok(out);
        }
    }
    let path = dir.join(arg);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Diagnostic::error("Invalid -backend-config", format!("{arg:?} is neither KEY=VALUE nor a readable file ({}: {e}).", path.display())))?;
    let body: hcl_edit::structure::Body =
        text.parse().map_err(|e: hcl_edit::parser::Error| Diagnostic::error("Invalid -backend-config file", format!("{}: {e}", path.display())))?;
    for s in body.iter() {
        match s {
            hcl_edit::structure::Structure::Attribute(a) => match literal(&a.value) {
                Some(Literal::Scalar(v)) => {
                    out.insert(a.key.as_str().to_string(), v);
                }
                Some(Literal::Object(m)) => {
                    for (k, v) in m {
                        out.insert(format!("{}.{k}", a.key.as_str()), v);
                    }
                }
                None => {
                    return Err(
                        Diagnostic::error("Invalid -backend-config file", format!("{}: {} must be a literal value.", path.display(), a.key.as_str())).into()
                    )
                }
            },
            hcl_edit::structure::Structure::Block(b) => {
                for a in b.body.iter().filter_map(|s| s.as_attribute()) {
                    let Some(Literal::Scalar(v)) = literal(&a.value) else {
                        return Err(Diagnostic::error(
                            "Invalid -backend-config file",
                            format!("{}: {}.{} must be a literal.", path.display(), b.ident.as_str(), a.key.as_str()),
                        )
                        .into());
                    };
                    out.insert(format!("{}.{}", b.ident.as_str(), a.key.as_str()), v);
                }
            }
        }
    }
    Ok(out)
}

/// What `infra init` saved: the backend kind and the `-backend-config` values.
#[derive(serde::Serialize, serde::Deserialize, Default, Clone, Debug, PartialEq)]
pub struct Saved {
    pub kind: String,
    /// The `-backend-config` values.
    pub settings: BTreeMap<String, String>,
    /// Every setting (block and `-backend-config`), to find the previous backend's state
    /// when the block changes.
    #[serde(default)]
    pub resolved: BTreeMap<String, String>,
}

pub fn saved_path(dir: &Path) -> PathBuf {
    dir.join(DOT_DIR).join("backend.json")
}

pub fn read_saved(dir: &Path) -> Result<Option<Saved>> {
    match std::fs::read(saved_path(dir)) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Diagnostic::error("Invalid saved backend configuration", format!("{}: {e}. Run infra init again.", saved_path(dir).display())).into()),
        Err(_) => Ok(None),
    }
}

pub fn write_saved(dir: &Path, saved: &Saved) -> Result<()> {
    let p = saved_path(dir);
    let body = serde_json::to_vec_pretty(saved).unwrap_or_default();
    let written = std::fs::create_dir_all(dir.join(DOT_DIR)).and_then(|_| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        // The settings may hold keys: private, as the state is.
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&p)?;
        f.write_all(&body)
    });
    written.map_err(|e| Diagnostic::error("Cannot save the backend configuration", format!("{}: {e}.", p.display())).into())
}

/// The backend the stack's configuration names, with `overrides` (from `-backend-config`, or
/// those `infra init` saved) on top of the block's settings.
pub fn spec(module: &Module, dir: &Path, overrides: &BTreeMap<String, String>) -> Result<Spec> {
    let Some((kind, mut settings)) = block_settings(module)? else {
        return Ok(Spec::Local(super::stack::local_state_path(module, dir)?));
    };
    match kind.as_str() {
        "s3" => {
            settings.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
            let span = module.backend.as_ref().and_then(|b| b.span.clone());
            S3Config::from_settings(&settings)
                .map(Spec::S3)
                .map_err(|e| Diagnostic::error("Invalid s3 backend configuration", format!("{e}.")).with_subject(span).into())
        }
        _ => Ok(Spec::Local(super::stack::local_state_path(module, dir)?)),
    }
}

/// The stack's backend as configured now, with the `-backend-config` values `infra init` saved
/// (ignored when the block's kind changed since: `init` must run again, and says so).
pub fn configured(module: &Module, dir: &Path) -> Result<Spec> {
    let kind = module.backend.as_ref().map(|b| b.kind.as_str()).unwrap_or("local");
    let saved = read_saved(dir)?.unwrap_or_default();
    let overrides = if saved.kind == kind { saved.settings } else { BTreeMap::new() };
    spec(module, dir, &overrides)
}
