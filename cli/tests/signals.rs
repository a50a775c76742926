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
    // The killed process still holds the lock; the error says it is gone, and force-unlock frees it.
    let locked = Command::new(env!("CARGO_BIN_EXE_infra")).args(["plan"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(locked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&locked.stderr).contains("no longer running on this host"), "{}", String::from_utf8_lossy(&locked.stderr));
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("infra.tfstate.lock.info")).unwrap()).unwrap();
    let id = info["ID"].as_str().unwrap().to_string();
    let unlock = Command::new(env!("CARGO_BIN_EXE_infra")).args(["force-unlock", &id]).current_dir(dir.path()).output().unwrap();
    assert!(unlock.status.success());
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
