//! The state lock knows its holder: a lock left by a process of this host that is gone is
//! taken over with a warning, and force-unlock refuses a holder that still runs unless forced.

use std::path::Path;
use std::process::{Command, Output};

const STACK: &str = "resource \"terraform_data\" \"x\" {\n  input = 1\n}\n";

fn infra(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infra")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    assert_eq!(unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) }, 0);
    let len = buf.iter().position(|&b| b == 0).unwrap();
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

/// Writes the lock file another run on this host would have left.
fn plant_lock(dir: &Path, id: &str, pid: u32) {
    let info = serde_json::json!({
        "ID": id, "Operation": "apply", "Who": format!("alice@{}", hostname()), "Pid": pid,
        "Version": "0.1.0", "Created": "2026-01-01T00:00:00Z", "Path": "infra.tfstate",
    });
    std::fs::write(dir.join("infra.tfstate.lock.info"), info.to_string()).unwrap();
}

fn stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), STACK).unwrap();
    dir
}

#[test]
fn plan_takes_over_a_lock_whose_process_is_gone_and_says_so() {
    let dir = stack();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    plant_lock(dir.path(), "0f0f0f0f-dead-4000-8000-000000000000", pid);
    let plan = infra(dir.path(), &["plan"]);
    let err = stderr(&plan);
    assert!(plan.status.success(), "{err}");
    assert!(err.contains("Warning: Taking over a stale state lock"), "{err}");
    for part in ["lock ID 0f0f0f0f-dead-4000-8000-000000000000", &format!("pid {pid}"), "operation apply", "since 2026-01-01T00:00:00Z", "no longer running"] {
        assert!(err.contains(part), "the warning names {part:?}: {err}");
    }
    assert!(String::from_utf8_lossy(&plan.stdout).contains("Plan: 1 to add"));
    assert!(!dir.path().join("infra.tfstate.lock.info").exists(), "the lock taken over is released at the end");
}

#[test]
fn force_unlock_refuses_a_holder_that_still_runs_unless_forced() {
    let dir = stack();
    let mut holder = Command::new("sleep").arg("30").spawn().unwrap();
    let id = "11111111-a1a1-4000-8000-000000000000";
    plant_lock(dir.path(), id, holder.id());
    let lock = dir.path().join("infra.tfstate.lock.info");

    // A running holder's lock is not taken over.
    let plan = infra(dir.path(), &["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(stderr(&plan).contains("still running on this host"), "{}", stderr(&plan));

    let refused = infra(dir.path(), &["force-unlock", id]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains(&format!("pid {}", holder.id())) && stderr(&refused).contains("still running on this host"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains(&format!("infra force-unlock -force {id}")), "{}", stderr(&refused));
    assert!(lock.exists(), "a refused force-unlock leaves the lock");

    // Terraform's one-dash spelling, and ours.
    let forced = infra(dir.path(), &["force-unlock", "-force", id]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!lock.exists());
    plant_lock(dir.path(), id, holder.id());
    let forced = infra(dir.path(), &["force-unlock", "--force", id]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!lock.exists());
    holder.kill().unwrap();
    holder.wait().unwrap();
}

#[test]
fn force_unlock_of_a_holder_that_is_gone_needs_no_force() {
    let dir = stack();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    plant_lock(dir.path(), "22222222-b2b2-4000-8000-000000000000", pid);
    let unlock = infra(dir.path(), &["force-unlock", "22222222-b2b2-4000-8000-000000000000"]);
    assert!(unlock.status.success(), "{}", stderr(&unlock));
    assert!(!dir.path().join("infra.tfstate.lock.info").exists());
}

#[test]
fn the_lock_file_is_private_while_held() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A FIFO as a data source's file holds the plan while the test looks at the lock.
    std::fs::write(dir.path().join("main.tf"), "data \"local_file\" \"wait\" {\n  filename = \"in.fifo\"\n}\n").unwrap();
    let fifo = std::ffi::CString::new(dir.path().join("in.fifo").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra")).arg("plan").current_dir(dir.path()).env("NO_COLOR", "1").spawn().unwrap();
    let lock = dir.path().join("infra.tfstate.lock.info");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !lock.exists() {
        assert!(std::time::Instant::now() < deadline, "the plan never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mode = std::fs::metadata(&lock).unwrap().permissions().mode() & 0o777;
    std::fs::write(dir.path().join("in.fifo"), "go\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(mode, 0o600);
}
