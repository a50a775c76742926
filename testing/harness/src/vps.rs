//! Real SSH hosts for the vps provider's tests: an OpenSSH server in its own network namespace
//! (the machine itself, reached at its own address), installed with apt if missing. Keys are
//! generated per server; sshd logs at VERBOSE, so its log counts the sessions (round trips).

pub use crate::example;

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
    claim: PathBuf,
}

/// Where test processes claim their `10.200.N.0/30`: two test binaries on one machine (CI
/// beside a developer's run, or two checkouts) that picked the same subnet routed one's SSH to
/// the other's namespace.
const CLAIMS: &str = "/tmp/infra-test-netns";

/// Claims a free `N` (1 to 250): a claim file created exclusively, holding the claimer's pid;
/// a claim whose process is gone is taken over; a subnet some link already has is skipped.
fn claim_subnet() -> (usize, PathBuf) {
    std::fs::create_dir_all(CLAIMS).unwrap();
    let links = sh("ip -br addr");
    let start = std::process::id() as usize * 7 + NEXT.fetch_add(1, Ordering::SeqCst);
    for i in 0..250 {
        let n = (start + i) % 250 + 1;
        if links.contains(&format!(" 10.200.{n}.1/")) {
            continue;
        }
        let claim = Path::new(CLAIMS).join(n.to_string());
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&claim) {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(std::process::id().to_string().as_bytes()).unwrap();
                    return (n, claim);
                }
                Err(_) => {
                    let holder = std::fs::read_to_string(&claim).unwrap_or_default();
                    if holder.is_empty() || Path::new("/proc").join(holder.trim()).exists() {
                        break;
                    }
                    let _ = std::fs::remove_file(&claim);
                }
            }
        }
    }
    panic!("no free 10.200.N.0/30 subnet: every claim in {CLAIMS} is held by a live process");
}

// No `Default`: creating one makes a kernel network namespace, which a default value should not.
#[allow(clippy::new_without_default)]
impl Netns {
    pub fn new() -> Netns {
        let (n, claim) = claim_subnet();
        let name = format!("infra-{}-{n}", std::process::id());
        let veth = format!("iv{}h{n}", std::process::id() % 10000);
        let peer = format!("iv{}n{n}", std::process::id() % 10000);
        let (host_ip, ns_ip) = (format!("10.200.{n}.1"), format!("10.200.{n}.2"));
        sh(&format!(
            "ip netns add {name} && ip link add {veth} type veth peer name {peer} && ip link set {peer} netns {name} && ip addr add {host_ip}/30 dev {veth} && ip link set {veth} up && ip netns exec {name} ip addr add {ns_ip}/30 dev {peer} && ip netns exec {name} ip link set {peer} up && ip netns exec {name} ip link set lo up"
        ));
        Netns { name, host_ip, ns_ip, veth, claim }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.veth]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
        let _ = std::fs::remove_file(&self.claim);
    }
}

/// A key pair made by ssh-keygen: (private key path, public key line).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    keypair_of(dir, name, "ed25519")
}

/// A key pair of the given type (`ed25519`, `rsa`, `ecdsa`).
pub fn keypair_of(dir: &Path, name: &str, kind: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    sh(&format!("ssh-keygen -q -t {kind} -N '' -C {name} -f {}", path.display()));
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
    start_sshd_with("ed25519")
}

/// An sshd whose host key and client key are of type `kind`.
pub fn start_sshd_with(kind: &str) -> Sshd {
    start_sshd_configured(kind, "")
}

/// An sshd whose host key and client key are of type `kind`, with `extra` lines in its
/// configuration (`MaxSessions 3\n`).
pub fn start_sshd_configured(kind: &str, extra: &str) -> Sshd {
    ensure_package("/usr/sbin/sshd", "openssh-server");
    std::fs::create_dir_all("/run/sshd").unwrap();
    let netns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (host_key_path, host_key) = keypair_of(d, "host_key", kind);
    let (client_key, client_pub) = keypair_of(d, "client_key", kind);
    std::fs::write(d.join("authorized_keys"), format!("{client_pub}\n")).unwrap();
    let log = d.join("sshd.log");
    let config = d.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress {}\nPort 22\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\nAuthenticationMethods publickey\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\nAllowUsers root\nStrictModes no\nLogLevel VERBOSE\nSubsystem sftp internal-sftp\n{extra}",
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
        provider_block(&self.netns.ns_ip, &self.client_key, &self.host_key, extra)
    }
}

pub fn infra(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(crate::infra_bin()).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

static ROOT_BUILD: Mutex<()> = Mutex::new(());

/// The first Debian mirror this machine's apt uses.
fn mirror() -> String {
    let sources = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default()
        + &std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    sources
        .lines()
        .find_map(|l| {
            l.strip_prefix("URIs: ")
                .map(|u| u.split_whitespace().next().unwrap_or_default().to_string())
                .or_else(|| l.strip_prefix("deb ").and_then(|r| r.split_whitespace().find(|w| w.starts_with("http")).map(str::to_string)))
        })
        .filter(|u| !u.contains("security"))
        .unwrap_or_else(|| "http://deb.debian.org/debian".into())
}

/// A Debian bookworm root with systemd, sshd, ufw, cron, nginx, fail2ban, logrotate and a
/// snakeoil certificate, built once with debootstrap
/// (about 2 minutes) under the target directory and reused; containers boot it with a
/// volatile overlay, so each starts clean.
pub fn debian_root() -> PathBuf {
    ensure_package("/usr/sbin/debootstrap", "debootstrap");
    ensure_package("/usr/bin/systemd-nspawn", "systemd-container");
    // The name carries the package list: a new list builds a new root.
    let root = crate::target_tmp().join("debian-bookworm-4");
    let _guard = ROOT_BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if root.join(".infra-complete").exists() {
        return root;
    }
    let building = root.with_extension("building");
    let _ = std::fs::remove_dir_all(&building);
    sh(&format!(
        "debootstrap --variant=minbase --include=systemd-sysv,openssh-server,ufw,cron,nginx-light,procps,iproute2,fail2ban,python3-systemd,ssl-cert,logrotate,curl,sudo bookworm {} {} >{}/debootstrap.log 2>&1 || (tail -20 {}/debootstrap.log; exit 1)",
        building.display(),
        mirror(),
        crate::target_tmp().display(),
        crate::target_tmp().display()
    ));
    // No network waits at boot, a known machine name, root logins by key.
    sh(&format!(
        "cd {b} && ln -sf /dev/null etc/systemd/system/systemd-networkd-wait-online.service && rm -f etc/hostname && echo debian-test > etc/hostname && mkdir -p root/.ssh && chmod 700 root/.ssh && sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin prohibit-password/' etc/ssh/sshd_config",
        b = building.display()
    ));
    std::fs::write(building.join(".infra-complete"), "").unwrap();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::rename(&building, &root).unwrap();
    root
}

/// A booted Debian (systemd as PID 1) in its own network namespace, reachable over SSH as root.
pub struct Debian {
    child: Child,
    pub netns: Netns,
    pub dir: tempfile::TempDir,
    pub host_key: String,
    pub client_key: PathBuf,
    pub log: PathBuf,
    /// The nspawn machine name, for whoever inspects a hung test (`machinectl`).
    #[allow(dead_code)]
    name: String,
}

impl Drop for Debian {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn boot_debian() -> Debian {
    let root = debian_root();
    let netns = Netns::new();
    let dir = tempfile::tempdir().unwrap();
    let (client_key, client_pub) = keypair(dir.path(), "client_key");
    // The overlay keeps the root clean: the key goes in through a bind mount.
    std::fs::write(dir.path().join("authorized_keys"), format!("{client_pub}\n")).unwrap();
    let host_key = std::fs::read_to_string(root.join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap().trim().to_string();
    let log = dir.path().join("console.log");
    let name = format!("infra-{}", netns.name.trim_start_matches("infra-"));
    let child = Command::new("systemd-nspawn")
        .args(["-b", "-D"])
        .arg(&root)
        .args(["--register=no", "--keep-unit", "--volatile=overlay", "-M", &name])
        .arg(format!("--network-namespace-path=/run/netns/{}", netns.name))
        .arg("--capability=CAP_NET_ADMIN,CAP_NET_RAW")
        .arg(format!("--bind-ro={}:/root/.ssh/authorized_keys", dir.path().join("authorized_keys").display()))
        .arg("--console=pipe")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("nspawn.err")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect((netns.ns_ip.as_str(), 22)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the Debian container did not start sshd: {}{}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(dir.path().join("nspawn.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Debian { child, netns, dir, host_key, client_key, log, name }
}

impl Debian {
    pub fn provider_block(&self, extra: &str) -> String {
        provider_block(&self.netns.ns_ip, &self.client_key, &self.host_key, extra)
    }

    /// Runs a command in the container over SSH with the system client (a second, independent
    /// client to check what infra did); returns stdout, whatever the exit status. A connection
    /// that gets no answer is made again from another local port: once UFW was turned on over
    /// live connections, the container's conntrack may drop new ones from their ports.
    pub fn ssh(&self, cmd: &str) -> String {
        for _ in 0..4 {
            let out = Command::new("ssh")
                .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
                .args(["-o", "ConnectTimeout=5", "-i"])
                .arg(&self.client_key)
                .arg(format!("root@{}", self.netns.ns_ip))
                .arg(cmd)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.code() == Some(255) && err.contains("timed out") {
                continue;
            }
            assert_ne!(out.status.code(), Some(255), "ssh to the container failed: {err}");
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        panic!("ssh to the container timed out four times");
    }
}

static IMAGE: Mutex<()> = Mutex::new(());

/// A tiny local image (no registry is reachable): a static busybox from Debian's
/// busybox-static in an otherwise empty image.
pub fn busybox_image() -> &'static str {
    const TAG: &str = "infra-test-busybox:1";
    let _guard = IMAGE.lock().unwrap_or_else(|e| e.into_inner());
    if Command::new("docker").args(["image", "inspect", TAG]).output().is_ok_and(|o| o.status.success()) {
        return TAG;
    }
    ensure_package("/bin/busybox", "busybox-static");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("/bin/busybox", dir.path().join("busybox")).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n").unwrap();
    sh(&format!("DOCKER_BUILDKIT=0 docker build -q -t {TAG} {} >/dev/null", dir.path().display()));
    TAG
}

/// `service state` of a compose project's containers, sorted.
pub fn compose_services(project: &str) -> Vec<String> {
    let out = sh(&format!(
        "docker ps -a --filter label=com.docker.compose.project={project} --format '{{{{.Label \"com.docker.compose.service\"}}}} {{{{.State}}}}'"
    ));
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

/// `provider "vps"` for a host, `extra` lines added inside the block.
fn provider_block(ip: &str, client_key: &Path, host_key: &str, extra: &str) -> String {
    let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    format!(
        "provider \"vps\" {{\n  host             = \"{ip}\"\n  user             = \"root\"\n  private_key_file = \"{}\"\n  host_key         = \"{}\"\n{extra}}}\n",
        client_key.display(),
        key.join(" ")
    )
}
