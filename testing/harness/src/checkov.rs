//! checkov, the policy-as-code scanner, as a real consumer of `infra show --json`: installed
//! into the target directory when `INFRA_CHECKOV` does not name one (as moto is), run offline
//! on a JSON plan, its failed checks read back.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static INSTALL: Mutex<()> = Mutex::new(());

/// `checkov`, from `INFRA_CHECKOV` or a venv under the target directory.
pub fn checkov_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("INFRA_CHECKOV") {
        return PathBuf::from(p);
    }
    let venv = crate::target_dir().join("checkov-venv");
    let bin = venv.join("bin/checkov");
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !bin.exists() {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip")).args(["install", "-q", "checkov"]).status().is_ok_and(|s| s.success());
        assert!(ok, "installing checkov into {} failed (python3 with venv and PyPI access are needed)", venv.display());
    }
    bin
}

/// The failed checks checkov reports for a JSON plan file, as `(check id, resource address)`,
/// sorted. `--skip-download` keeps it offline (it would fetch guideline names otherwise).
pub fn failed_checks(plan_json: &Path) -> Vec<(String, String)> {
    let out =
        Command::new(checkov_bin()).args(["--framework", "terraform_plan", "-o", "json", "--quiet", "--skip-download", "-f"]).arg(plan_json).output().unwrap();
    // checkov exits 1 when a check fails; a run that read nothing prints a bare summary.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov printed no JSON ({e}): {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    let reports = match report {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut failed: Vec<(String, String)> = reports
        .iter()
        .flat_map(|r| r["results"]["failed_checks"].as_array().cloned().unwrap_or_default())
        .map(|f| (f["check_id"].as_str().unwrap_or_default().to_string(), f["resource"].as_str().unwrap_or_default().to_string()))
        .collect();
    failed.sort();
    failed
}
