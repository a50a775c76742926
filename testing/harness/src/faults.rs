//! The fault proxy (`tests/fault-proxy/fault_proxy.py`) between `infra` and a real API server:
//! started on a free loopback port, stopped on drop, its per-call log read back as JSON.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct FaultProxy {
    child: Child,
    pub url: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the proxy in front of `backend` with `args` (`--forbid-mutating`, `--hang-on OP`, …).
pub fn start_proxy(backend: &str, args: &[&str]) -> FaultProxy {
    let script = crate::workspace().join("tests/fault-proxy/fault_proxy.py");
    let dir = tempfile::tempdir().unwrap();
    let (log, out) = (dir.path().join("calls.jsonl"), dir.path().join("proxy.out"));
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["--backend", backend, "--log"])
        .arg(&log)
        .args(args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting python3 {}: {e}", script.display()));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| l.strip_prefix("listening on ")) {
            return FaultProxy { child, url: url.trim().to_string(), log, _dir: dir };
        }
        assert!(child.try_wait().ok().flatten().is_none(), "the fault proxy exited: {text}");
        assert!(Instant::now() < deadline, "the fault proxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl FaultProxy {
    /// Every call the proxy saw so far: `{op, service, mutating, fault, status}`.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Names of the calls that hit a fault of this kind (`forbidden`, `hang`, `lost`, …).
    pub fn faulted(&self, fault: &str) -> Vec<String> {
        self.calls().iter().filter(|c| c["fault"] == fault).map(|c| c["op"].as_str().unwrap_or_default().to_string()).collect()
    }

    /// Waits until a call hit a fault of this kind (a hang has begun).
    pub fn wait_for(&self, fault: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !self.faulted(fault).is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}
