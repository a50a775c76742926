//! Real SSH hosts for the vps provider's tests: an OpenSSH server in its own network namespace
//! (the machine itself, reached at its own address), installed with apt if missing. Keys are
//! generated per server; sshd logs at VERBOSE, so its log counts the sessions (round trips).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static INSTALL: Mutex<()> = Mutex::new(());
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(out.status.success(), "`{cmd}` failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Installs a Debian package on this machine unless `probe` exists.
pub fn ensure_package(probe: &str, packages: &str) {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !Path::new(probe).exists() {
        sh(&format!("DEBIAN_FRONTEND=noninteractive apt-get install -y -q {packages} >/dev/null 2>&1 || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q {packages} >/dev/null)"));
    }
}

/// A network namespace joined to this machine by a veth pair: `host_ip` here, `ns_ip` inside.
pub struct Netns {
    pub name: String,
    pub host_ip: String,
    pub ns_ip: String,
    veth: String,
}

impl Netns {
    pub fn new() -> Netns {
        let n = (std::process::id() as usize * 7 + NEXT.fetch_add(1, Ordering::SeqCst)) % 250 + 1;
        let name = format!("infra-{}-{n}", std::process::id());
        let veth = format!("iv{}h{n}", std::process::id() % 10000);
        let peer = format!("iv{}n{n}", std::process::id() % 10000);
        let (host_ip, ns_ip) = (format!("10.200.{n}.1"), format!("10.200.{n}.2"));
        sh(&format!(
            "ip netns add {name} && ip link add {veth} type veth peer name {peer} && ip link set {peer} netns {name} && ip addr add {host_ip}/30 dev {veth} && ip link set {veth} up && ip netns exec {name} ip addr add {ns_ip}/30 dev {peer} && ip netns exec {name} ip link set {peer} up && ip netns exec {name} ip link set lo up"
        ));
        Netns { name, host_ip, ns_ip, veth }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.veth]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// A key pair made by ssh-keygen: (private key path, public key line).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    sh(&format!("ssh-keygen -q -t ed25519 -N '' -C {name} -f {}", path.display()));
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_string())
}

pub struct Sshd {
    child: Child,
    pub netns: Netns,
    pub dir: tempfile::TempDir,
    /// The server's public host key line (`ssh-ed25519 AAAA… host`).
    pub host_key: String,
    pub client_key: PathBuf,
    pub log: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_sshd() -> Sshd {
    ensure_package("/usr/sbin/sshd", "openssh-server");
    std::fs::create_dir_all("/run/sshd").unwrap();
    let netns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (host_key_path, host_key) = keypair(d, "host_key");
    let (client_key, client_pub) = keypair(d, "client_key");
    std::fs::write(d.join("authorized_keys"), format!("{client_pub}\n")).unwrap();
    let log = d.join("sshd.log");
    let config = d.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress {}\nPort 22\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\nAuthenticationMethods publickey\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\nAllowUsers root\nStrictModes no\nLogLevel VERBOSE\nSubsystem sftp internal-sftp\n",
            netns.ns_ip,
            host_key_path.display(),
            d.join("sshd.pid").display(),
            d.join("authorized_keys").display()
        ),
    )
    .unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", &netns.name, "/usr/sbin/sshd", "-D", "-f"])
        .arg(&config)
        .arg("-E")
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((netns.ns_ip.as_str(), 22)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd { child, netns, dir, host_key, client_key, log }
}

impl Sshd {
    /// SSH sessions the server has started (each `exec` is one).
    pub fn sessions(&self) -> usize {
        std::fs::read_to_string(&self.log).unwrap_or_default().matches("Starting session: command").count()
    }

    /// `provider "vps"` for this server, `extra` lines added inside the block.
    pub fn provider_block(&self, extra: &str) -> String {
        let key_type_and_data: Vec<&str> = self.host_key.split_whitespace().take(2).collect();
        format!(
            "provider \"vps\" {{\n  host             = \"{}\"\n  user             = \"root\"\n  private_key_file = \"{}\"\n  host_key         = \"{}\"\n{extra}}}\n",
            self.netns.ns_ip,
            self.client_key.display(),
            key_type_and_data.join(" ")
        )
    }
}

pub fn infra(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infra")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
