//! The Cloud SQL harness: installs PostgreSQL when `initdb` is missing, builds and starts the
//! `cloudsql-emulator` (one per test, on a free port, with its data directory under
//! `target/tmp`), speaks plain HTTP to it, and waits for its operations.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

static INSTALL: Mutex<()> = Mutex::new(());

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb`: the emulator's own lookup.
pub fn postgres_bin() -> Option<PathBuf> {
    cloudsql_emulator::newest_postgres()
}

/// PostgreSQL's binaries, installed with `apt-get install -y postgresql` when missing.
pub fn ensure_postgres() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = postgres_bin() {
        return bin;
    }
    let apt = |args: &[&str]| Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status().is_ok_and(|s| s.success());
    let ok = apt(&["install", "-y", "-q", "postgresql"]) || (apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "postgresql"]));
    assert!(ok, "installing PostgreSQL with `apt-get install -y postgresql` failed (root and apt access are needed)");
    // Debian's package starts a cluster on 5432 where it can: the emulator's instances use
    // 127.0.0.2 and up, so it does not matter, but it is not ours to leave running.
    for entry in std::fs::read_dir("/etc/postgresql").into_iter().flatten().filter_map(Result::ok) {
        let version = entry.file_name().to_string_lossy().into_owned();
        let _ = Command::new("pg_ctlcluster").args([version.as_str(), "main", "stop"]).status();
    }
    postgres_bin().unwrap_or_else(|| panic!("PostgreSQL was installed but no /usr/lib/postgresql/*/bin/initdb exists"))
}

/// The `cloudsql-emulator` binary of the running test's profile, built with
/// `cargo build -p cloudsql-emulator` when missing or older than its sources.
pub fn emulator_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = crate::profile_dir();
        let bin = profile.join("cloudsql-emulator");
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let src = crate::workspace().join("emulators/cloudsql");
        if built.is_none_or(|b| newest(&src).is_some_and(|s| s > b)) {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut c = Command::new(cargo);
            c.args(["build", "-p", "cloudsql-emulator", "--manifest-path"])
                .arg(crate::workspace().join("Cargo.toml"))
                .arg("--target-dir")
                .arg(crate::target_dir());
            match profile.file_name().and_then(|n| n.to_str()).unwrap_or("debug") {
                "debug" => {}
                "release" => {
                    c.arg("--release");
                }
                other => {
                    c.args(["--profile", other]);
                }
            }
            let status = c.status().unwrap_or_else(|e| panic!("cannot run cargo to build cloudsql-emulator: {e}"));
            assert!(status.success(), "building cloudsql-emulator for the tests failed ({status})");
        }
        bin
    })
}

fn newest(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() && e.file_name() != "tests" {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") || e.file_name() == "Cargo.toml" {
                newest = newest.max(std::fs::metadata(&p).and_then(|m| m.modified()).ok());
            }
        }
    }
    newest
}

/// A data directory the `postgres` OS user can pass through (under `target/tmp`, since
/// `/tmp/.tmpXXXX` directories are private to their owner).
pub fn data_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix("cloudsql-").tempdir_in(crate::target_tmp()).unwrap_or_else(|e| panic!("cannot make a data directory: {e}"));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap_or_else(|e| panic!("cannot chmod the data directory: {e}"));
    dir
}

pub struct Options {
    /// `--op-delay-ms`: how long each operation takes.
    pub op_delay_ms: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options { op_delay_ms: 200 }
    }
}

/// A running emulator. Dropping it stops it with SIGTERM (which stops its PostgreSQL servers).
pub struct CloudSql {
    child: Option<Child>,
    _stdout: Option<BufReader<ChildStdout>>,
    pub url: String,
    /// host:port
    pub addr: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

/// Starts `bin` on a free port, keeping its state in `dir/data` and its log in
/// `dir/emulator.log` (`dir` from [`data_dir`]; start again on the same `dir` to restart).
pub fn start(bin: &Path, dir: &Path, opts: &Options) -> CloudSql {
    ensure_postgres();
    let log = dir.join("emulator.log");
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--op-delay-ms", &opts.op_delay_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display())))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout pipe")));
    let mut line = String::new();
    let _ = stdout.read_line(&mut line);
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("cloudsql-emulator did not start: {line}{}", std::fs::read_to_string(&log).unwrap_or_default());
    };
    let addr = url.trim_start_matches("http://").to_string();
    CloudSql { child: Some(child), _stdout: Some(stdout), url, addr, data_dir: dir.join("data"), log }
}

impl CloudSql {
    /// SIGTERM, then waits for the emulator to stop its servers and exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGKILL: the emulator dies without stopping its servers (a crash); the next emulator on
    /// the same directory finds them running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// One call; returns the status and the JSON body (`Null` when empty).
    pub fn call(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
        let (status, text) = http(&self.addr, method, path, body.map(|b| b.to_string()).as_deref());
        let json = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path} answered {status} with {text}: {e}"))
        };
        (status, json)
    }

    /// Polls an operation (as a mutation answered it) until DONE; returns it.
    pub fn wait(&self, project: &str, op: &serde_json::Value) -> serde_json::Value {
        let name = op["name"].as_str().unwrap_or_else(|| panic!("not an operation: {op}"));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, op) = self.call("GET", &format!("/v1/projects/{project}/operations/{name}"), None);
            assert_eq!(status, 200, "{op}");
            if op["status"] == "DONE" {
                return op;
            }
            assert!(Instant::now() < deadline, "operation {name} is not DONE after 120 s: {op}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A mutation that must succeed: sends it, waits for its operation, checks it has no error.
    pub fn mutate(&self, project: &str, method: &str, path: &str, body: Option<&serde_json::Value>) -> serde_json::Value {
        let (status, op) = self.call(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {op}");
        let done = self.wait(project, &op);
        assert!(done.get("error").is_none(), "{method} {path} failed: {done}");
        done
    }
}

impl Drop for CloudSql {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A minimal HTTP/1.1 call over one connection (`Connection: close`); returns status and body.
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer any-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap_or_else(|e| panic!("cannot send to {addr}: {e}"));
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap_or_else(|e| panic!("cannot read from {addr}: {e}"));
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// Logs in to an instance's server over TCP with a password (libpq's `sslmode=prefer`; add
/// ` sslmode=...` to `address` for another) and runs one query; returns its output (`-A -t`:
/// unaligned, no headers) or psql's error.
pub fn psql(address: &str, user: &str, password: &str, db: &str, sql: &str) -> Result<String, String> {
    let bin = ensure_postgres().join("psql");
    let out = Command::new(bin)
        .args(["-X", "-A", "-t", "-c", sql])
        .arg(format!("host={address} port=5432 user={user} dbname={db} connect_timeout=10"))
        .env("PGPASSWORD", password)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Command lines of running processes that mention `needle` (e.g. a data directory).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let out = Command::new("ps").args(["-eo", "args"]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    out.lines().filter(|l| l.contains(needle) && !l.starts_with("ps ")).map(str::to_string).collect()
}
