//! What every real-target test shares: the `infra` binary (built on demand, since only the CLI
//! crate's own tests get `CARGO_BIN_EXE_infra`), the target directory, and copies of the
//! repository's example stacks. `moto` and `vps` hold the AWS and SSH targets, `cloudsql` the
//! Cloud SQL emulator and its PostgreSQL.

pub mod checkov;
pub mod cloudsql;
pub mod faults;
pub mod moto;
pub mod vps;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The workspace root (this crate is `testing/harness`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The running test's profile directory (`target/debug`): test executables live in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("cannot locate the test executable: {e}"));
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| panic!("{} is not under target/<profile>/deps", exe.display()))
}

/// The target directory the tests were built in.
pub fn target_dir() -> PathBuf {
    profile_dir().parent().map(Path::to_path_buf).unwrap_or_else(|| panic!("{} has no parent", profile_dir().display()))
}

/// Scratch space that outlives one test (what `CARGO_TARGET_TMPDIR` is for the CLI crate's
/// tests): built Debian roots, logs.
pub fn target_tmp() -> PathBuf {
    let dir = target_dir().join("tmp");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The `infra` binary of the same profile and target directory as the running test. Built with
/// `cargo build -p infra-cli --bin infra` when missing or older than the workspace's sources, so
/// `cargo test -p infra-provider-aws` works alone; under `cargo test --workspace` the binary is
/// already fresh and nothing is built twice.
pub fn infra_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = profile_dir();
        let bin = profile.join("infra");
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        if built.is_none_or(|b| newest_source(&workspace()).is_some_and(|s| s > b)) {
            let name = profile.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut c = Command::new(cargo);
            c.args(["build", "-p", "infra-cli", "--bin", "infra", "--manifest-path"]).arg(workspace().join("Cargo.toml")).arg("--target-dir").arg(target_dir());
            match name.as_str() {
                "debug" => {}
                "release" => {
                    c.arg("--release");
                }
                other => {
                    c.args(["--profile", other]);
                }
            }
            let status = c.status().unwrap_or_else(|e| panic!("cannot run cargo to build infra: {e}"));
            assert!(status.success(), "building infra for the tests failed ({status})");
        }
        bin
    })
}

/// The newest modification time among the files the `infra` binary is built from.
fn newest_source(root: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut keep = |p: &Path| {
        if let Ok(t) = std::fs::metadata(p).and_then(|m| m.modified()) {
            newest = newest.max(Some(t));
        }
    };
    keep(&root.join("Cargo.toml"));
    keep(&root.join("Cargo.lock"));
    let mut dirs: Vec<PathBuf> = ["cli", "engine", "state", "providers"].iter().map(|d| root.join(d)).collect();
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                // Tests and benches are not part of the binary: editing them must not rebuild it.
                if name != "tests" && name != "benches" && name != "target" {
                    dirs.push(p);
                }
            } else if name == "Cargo.toml" || name == "build.rs" || p.extension().is_some_and(|x| x == "rs") {
                keep(&p);
            }
        }
    }
    newest
}

/// Copies an example stack into a fresh directory, so tests never write into the repository.
pub fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = workspace().join("examples").join(name);
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "tf") {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}
