//! Interrupting an apply: the first SIGINT starts nothing new and lets in-flight work finish,
//! then saves and exits non-zero; a second SIGINT exits at once without corrupting the state.
//! A FIFO named as a `local_file` source makes one create block until the test writes to it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STACK: &str = r#"
resource "local_file" "fast" {
  filename = "fast.txt"
  content  = "fast\n"
}

resource "local_file" "slow" {
  filename = "slow.txt"
  source   = "in.fifo"
}

resource "terraform_data" "after_slow" {
  input = local_file.slow.id
}
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), STACK).unwrap();
    let fifo = std::ffi::CString::new(dir.path().join("in.fifo").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo failed");
    dir
}

fn start_apply(dir: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    // Progress goes to stdout and notices to stderr: read both, as a terminal shows them.
    let (reader, writer) = std::io::pipe().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    panic!("never saw {needle:?}; saw {seen:?}");
}

fn sigint(child: &Child) {
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
}

/// Waits until the process catches SIGINT (Linux reports caught signals in /proc).
fn wait_for_handlers(child: &Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let caught = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok()).unwrap_or(0);
        if caught & (1 << (libc::SIGINT - 1)) != 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the process never installed its SIGINT handler");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn state_addresses(dir: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_infra")).args(["state", "list"]).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "state list failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn first_interrupt_finishes_in_flight_work_and_starts_nothing_new() {
    let dir = setup();
    let (mut child, rx) = start_apply(dir.path());
    wait_for(&rx, "local_file.slow: Creating...");
    sigint(&child);
    wait_for(&rx, "Interrupt received");
    // Release the blocked create: it must finish and be recorded.
    std::fs::OpenOptions::new().write(true).open(dir.path().join("in.fifo")).unwrap().write_all(b"slow\n").unwrap();
    let status = child.wait().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(1), "an interrupted apply exits 1; stderr tail: {rest:?}");
    assert!(!rest.iter().any(|l| l.contains("after_slow: Creating")), "nothing new may start after the interrupt: {rest:?}");
    let state = state_addresses(dir.path());
    assert!(state.contains(&"local_file.slow".to_string()) && state.contains(&"local_file.fast".to_string()), "{state:?}");
    assert!(!state.contains(&"terraform_data.after_slow".to_string()), "{state:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("slow.txt")).unwrap(), "slow\n");
}

#[test]
fn second_interrupt_exits_at_once_and_the_state_file_stays_whole() {
    let dir = setup();
    let (mut child, rx) = start_apply(dir.path());
    wait_for(&rx, "local_file.slow: Creating...");
    wait_for(&rx, "local_file.fast: Creation complete");
    sigint(&child);
    wait_for(&rx, "Interrupt received");
    sigint(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // The state file parses and records what finished before the interrupts.
    let state = state_addresses(dir.path());
    assert_eq!(state, vec!["local_file.fast".to_string()]);
    // Unblock the FIFO so no thread of ours is left waiting.
    let _ = std::fs::OpenOptions::new().write(true).custom_flags_nonblock().open(dir.path().join("in.fifo"));
}

#[test]
fn sigterm_during_an_apply_stops_it_like_an_interrupt() {
    let dir = setup();
    let (mut child, rx) = start_apply(dir.path());
    wait_for(&rx, "local_file.slow: Creating...");
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    wait_for(&rx, "SIGTERM received. Waiting for in-flight operations to finish");
    std::fs::OpenOptions::new().write(true).open(dir.path().join("in.fifo")).unwrap().write_all(b"slow\n").unwrap();
    let status = child.wait().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(1), "a stopped apply exits 1; stderr tail: {rest:?}");
    assert!(!rest.iter().any(|l| l.contains("after_slow: Creating")), "nothing new may start after SIGTERM: {rest:?}");
    let state = state_addresses(dir.path());
    assert!(state.contains(&"local_file.slow".to_string()) && !state.contains(&"terraform_data.after_slow".to_string()), "{state:?}");
    assert!(!dir.path().join("infra.tfstate.lock.info").exists(), "a stopped apply releases the lock");
}

/// Runs `args` on a stack whose plan blocks reading a FIFO, once the lock is taken.
fn start_blocked_in_plan(args: &[&str]) -> (tempfile::TempDir, Child, std::sync::mpsc::Receiver<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "data \"local_file\" \"wait\" {\n  filename = \"in.fifo\"\n}\n\nresource \"terraform_data\" \"x\" {\n  input = data.local_file.wait.content\n}\n",
    )
    .unwrap();
    let fifo = std::ffi::CString::new(dir.path().join("in.fifo").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo failed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.path().join("infra.tfstate.lock.info").exists() {
        assert!(Instant::now() < deadline, "the run never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    (dir, child, rx)
}

#[test]
fn a_signal_before_the_apply_starts_releases_the_lock_and_changes_nothing() {
    for (args, signal, code, name) in [(&["apply", "--auto-approve"][..], libc::SIGTERM, 143, "SIGTERM"), (&["plan"][..], libc::SIGINT, 130, "Interrupt")] {
        let (dir, mut child, rx) = start_blocked_in_plan(args);
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        wait_for(&rx, &format!("{name} received before any change was made: the state lock is released"));
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
        assert!(!dir.path().join("infra.tfstate.lock.info").exists(), "{args:?} released the lock");
        assert!(!dir.path().join("infra.tfstate").exists(), "{args:?} wrote no state");
    }
}

#[test]
fn an_interrupt_while_waiting_for_the_lock_leaves_the_holder_s_lock_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
    let lock = dir.path().join("infra.tfstate.lock.info");
    // Held by this test process, which is running.
    let mut host = [0u8; 256];
    assert_eq!(unsafe { libc::gethostname(host.as_mut_ptr().cast(), host.len()) }, 0);
    let host = String::from_utf8_lossy(&host[..host.iter().position(|&b| b == 0).unwrap()]).into_owned();
    let held = serde_json::json!({"ID": "held", "Operation": "apply", "Who": format!("t@{host}"), "Pid": std::process::id(), "Version": "0.1.0", "Created": "2026-01-01T00:00:00Z", "Path": "infra.tfstate"});
    std::fs::write(&lock, held.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["destroy", "--auto-approve", "--lock-timeout", "60s"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_handlers(&child);
    std::thread::sleep(Duration::from_millis(200));
    sigint(&child);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(10), "the wait for the lock stops at the interrupt");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), held.to_string(), "the other holder's lock is untouched");
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

#[test]
fn a_killed_apply_loses_nothing_the_journal_is_replayed() {
    let dir = setup();
    let (mut child, rx) = start_apply(dir.path());
    wait_for(&rx, "local_file.slow: Creating...");
    wait_for(&rx, "local_file.fast: Creation complete");
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    child.wait().unwrap();
    assert!(dir.path().join("infra.tfstate.journal").exists(), "a killed apply leaves its journal");
    // The next read replays it: the finished object is in state, the blocked one is not.
    assert_eq!(state_addresses(dir.path()), vec!["local_file.fast".to_string()]);
    // The killed process left its lock; it is gone, so the next run takes the lock over and says so.
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("infra.tfstate.lock.info")).unwrap()).unwrap();
    let id = info["ID"].as_str().unwrap().to_string();
    let plan = Command::new(env!("CARGO_BIN_EXE_infra")).args(["plan"]).current_dir(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&plan.stderr);
    assert!(plan.status.success(), "{err}");
    assert!(err.contains("Taking over a stale state lock") && err.contains(&id) && err.contains(&format!("pid {}", child.id())), "{err}");
    assert!(!dir.path().join("infra.tfstate.lock.info").exists());
    // A later apply finishes the job and folds the journal into the state file.
    std::fs::remove_file(dir.path().join("in.fifo")).unwrap();
    std::fs::write(dir.path().join("in.fifo"), "now a plain file\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_infra")).args(["apply", "--auto-approve"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Resources: 2 added"), "fast must not be created twice: {}", String::from_utf8_lossy(&out.stdout));
    assert!(!dir.path().join("infra.tfstate.journal").exists());
    let mut all = state_addresses(dir.path());
    all.sort();
    assert_eq!(all, vec!["local_file.fast", "local_file.slow", "terraform_data.after_slow"]);
}
