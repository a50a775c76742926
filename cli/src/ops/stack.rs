//! The stack directory's configuration, its backend, the state lock and the state itself.

use super::Result;
use infra_lang::config::Module;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::source::SourceMap;
use infra_provider::Registry;
use infra_state::{Backend, Lock, LockInfo, LockOptions, StateError, StateFile};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The state of the stack's selected workspace, wherever it lives.
pub type StateBackend = Arc<dyn Backend>;

/// Every provider built into the binary.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("terraform", infra_provider_terraform::factory());
    r.register("local", infra_provider_local::factory());
    r.register("random", infra_provider_random::factory());
    r.register("aws", infra_provider_aws::factory());
    r.register("vps", infra_provider_vps::factory());
    r.register("google", infra_provider_google::factory());
    r
}

/// The stack's configuration, read once per command (with the diagnostics of reading it).
pub fn read_stack(dir: &Path, sources: &SourceMap) -> (Module, Diagnostics) {
    infra_lang::config::load_module(sources, dir)
}

pub fn backend(dir: &Path, sources: &SourceMap) -> Result<StateBackend> {
    backend_for(&read_stack(dir, sources).0, dir, &[], &[])
}

/// The stack's state in the selected workspace (see [`super::backend`]); `vars` and `var_files`
/// are the command's `--var` and `--var-file`, which the encryption settings may use.
pub fn backend_for(module: &Module, dir: &Path, vars: &[String], var_files: &[std::path::PathBuf]) -> Result<StateBackend> {
    let spec = super::backend::configured(module, dir)?;
    // The state target of the stack's encryption seals the state, its backup and the journal.
    spec.open(dir, &super::backend::current_workspace(dir)?, super::encryption::resolve(module, dir, vars, var_files)?.state)
}

/// The local backend's state file for the default workspace. A `backend "local"` path that
/// holds Terraform's own state (a stack Terraform ran) is left to Terraform: infra's state is
/// then `infra.tfstate` beside it, where `infra state migrate` writes it.
pub fn local_state_path(module: &Module, dir: &Path) -> Result<std::path::PathBuf> {
    let mut path = dir.join(infra_state::DEFAULT_STATE_FILE);
    if let Some(p) = backend_path(module, dir)? {
        path = if is_terraform_state(&p) { p.parent().unwrap_or(dir).join(infra_state::DEFAULT_STATE_FILE) } else { p };
    }
    Ok(path)
}

fn backend_path(module: &Module, dir: &Path) -> Result<Option<std::path::PathBuf>> {
    let Some(a) = module.backend.as_ref().filter(|b| b.kind == "local").and_then(|b| b.body.attr("path")) else { return Ok(None) };
    match a.expr.expr.as_str() {
        Some(p) => Ok(Some(dir.join(p))),
        None => Err(Diagnostic::error("Invalid backend path", "The local backend's path must be a literal string.").with_subject(a.expr.span()).into()),
    }
}

/// The Terraform state the stack's `backend "local"` names, if it holds one.
pub fn terraform_state_path(module: &Module, dir: &Path) -> Option<std::path::PathBuf> {
    backend_path(module, dir).ok().flatten().filter(|p| is_terraform_state(p))
}

/// Whether `path` holds a Terraform state: its first key is `version` (Terraform writes it
/// first), or it names a `terraform_version` near its start; infra's state starts with
/// `format_version`. Only the file's start is read.
pub fn is_terraform_state(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let rest = text.trim_start().strip_prefix('{').unwrap_or("").trim_start();
    !rest.starts_with("\"format_version\"") && (rest.starts_with("\"version\"") || rest.contains("\"terraform_version\""))
}

pub fn parse_duration(s: &str) -> Option<Duration> {
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

/// Takes the state lock for `op`, waiting up to `lock_timeout` (as the user spelled it). The
/// commands that watch for interrupts take it through `Interrupts::lock` instead.
pub fn lock(backend: &StateBackend, op: &str, lock_timeout: &str, opts: LockOptions) -> Result<Lock> {
    infra_state::lock_with(&**backend, lock_timeout_of(lock_timeout)?, || backend.try_lock(op, opts)).map_err(lock_error)
}

/// `--lock-timeout` as the user spelled it.
pub fn lock_timeout_of(lock_timeout: &str) -> Result<Duration> {
    parse_duration(lock_timeout)
        .ok_or_else(|| Diagnostic::error("Invalid --lock-timeout", format!("{lock_timeout:?} is not a duration like 30s or 2m.")).into())
}

pub fn lock_error(e: StateError) -> Diagnostics {
    Diagnostic::error("Error acquiring the state lock", format!("{e}.")).into()
}

/// What a run says when it took over a lock whose holder is gone.
pub fn stale_lock_warning(backend: &StateBackend, stale: &LockInfo) -> Diagnostic {
    let why = match stale.silent_for(chrono_now()) {
        Some(silent) if stale.lease_seconds.is_some() => format!("its holder stopped renewing its lease {}s ago", silent.as_secs()),
        _ => "its process is no longer running on this host".to_string(),
    };
    Diagnostic::warning(
        "Taking over a stale state lock",
        format!(
            "The state {} was locked by {} (pid {}, operation {}, since {}, lock ID {}), but {why}, so this run took the lock over. If that run was killed during an apply, the state holds what it finished: review the plan before applying it.",
            backend.location(),
            stale.who,
            stale.pid,
            stale.operation,
            stale.created,
            stale.id
        ),
    )
}

/// The state, or a new empty one when there is none yet.
fn chrono_now() -> infra_state::backend::DateTime<infra_state::backend::Utc> {
    infra_state::backend::Utc::now()
}

pub fn read_state(backend: &StateBackend) -> Result<StateFile> {
    Ok(read_state_if_any(backend)?.unwrap_or_else(StateFile::new))
}

/// The state, or `None` when nothing was ever written.
pub fn read_state_if_any(backend: &StateBackend) -> Result<Option<StateFile>> {
    backend.read().map_err(|e| Diagnostic::error("Failed to load state", format!("{e}.")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_read_as_documented() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("1h"), None);
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn backend_path_comes_from_the_stack() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("main.tf"), "terraform {\n  backend \"local\" {\n    path = \"other.tfstate\"\n  }\n}\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let sources = SourceMap::new();
        let b = backend(dir.path(), &sources).map_err(|d| d.0[0].summary.clone());
        assert_eq!(b.map(|b| b.location()), Ok(dir.path().join("other.tfstate").display().to_string()));
        let none: StateBackend = Arc::new(infra_state::LocalBackend::new(dir.path().join("none.tfstate")));
        assert_eq!(read_state(&none).map(|s| s.serial).ok(), Some(StateFile::new().serial));
    }
}
