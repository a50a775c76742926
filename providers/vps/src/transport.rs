//! One SSH connection per host (russh), shared by every object on it and by parallel work:
//! each remote step is one `exec` channel running `sh -s` with its script on stdin (one round
//! trip), so no argument goes through a second round of shell parsing. Host keys are verified against
//! the pinned `host_key` or a `known_hosts_file`; an unknown or changed key is refused with its
//! SHA256 fingerprint. `sudo = true` runs every script through `sudo -n sh -s`.
//!
//! A step runs whole or not at all, whatever happens to infra or the connection (see
//! [`whole`]): a killed apply leaves each object as a finished step left it, which the next
//! refresh reads. At most [`MAX_CHANNELS`] steps are open at once, under sshd's `MaxSessions`.

use infra_provider::Diagnostic;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::{client, ChannelMsg};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach and trust a host, from the provider block.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: Auth,
    pub trust: Trust,
    pub sudo: bool,
    pub connect_timeout: Duration,
}

#[derive(Clone, Debug)]
pub enum Auth {
    KeyFile(String),
    /// Key content (sensitive): parsed in memory, never written out.
    Key(String),
    /// The agent at `SSH_AUTH_SOCK`.
    Agent,
}

#[derive(Clone, Debug)]
pub enum Trust {
    /// A public key line (`ssh-ed25519 AAAA… [comment]`), as `ssh-keyscan` prints it without the
    /// host name.
    Pinned(String),
    KnownHostsFile(String),
}

/// The outcome of one remote script.
#[derive(Debug, Default)]
pub struct Output {
    pub status: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

struct Checker {
    target: Target,
    /// Why the key was refused, for the diagnostic (russh only reports "unknown key").
    refusal: Arc<Mutex<Option<String>>>,
}

fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
        let t = &self.target;
        let verdict = match &t.trust {
            Trust::Pinned(line) => match parse_key_line(line) {
                Ok(pinned) if pinned.key_data() == key.key_data() => Ok(()),
                Ok(pinned) => Err(format!(
                    "The host key of {}:{} is {}, not the pinned {} ({}). If the host was rebuilt, update host_key; otherwise someone may be intercepting the connection.",
                    t.host,
                    t.port,
                    fingerprint(key),
                    fingerprint(&pinned),
                    pinned.algorithm()
                )),
                Err(e) => Err(format!("host_key is not a public key line such as \"ssh-ed25519 AAAA…\": {e}.")),
            },
            Trust::KnownHostsFile(path) => match russh::keys::check_known_hosts_path(&t.host, t.port, key, path) {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("{}:{} offered host key {} ({}), which {path} does not list for it. Add it (ssh-keyscan) after checking it out of band.", t.host, t.port, fingerprint(key), key.algorithm())),
                Err(russh::keys::Error::KeyChanged { line }) => Err(format!(
                    "The host key of {}:{} changed: it is now {}, not the key on line {line} of {path}. If the host was rebuilt, update that line; otherwise someone may be intercepting the connection.",
                    t.host,
                    t.port,
                    fingerprint(key)
                )),
                Err(e) => Err(format!("Cannot read known_hosts_file {path}: {e}.")),
            },
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(why) => {
                if let Ok(mut r) = self.refusal.lock() {
                    *r = Some(why);
                }
                Ok(false)
            }
        }
    }
}

/// `ssh-ed25519 AAAA… comment` (or with a leading host field, as in known_hosts).
pub fn parse_key_line(line: &str) -> Result<PublicKey, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let start = fields.iter().position(|f| f.starts_with("ssh-") || f.starts_with("ecdsa-") || f.starts_with("sk-")).ok_or("no key type")?;
    let data = fields.get(start + 1).ok_or("no key data")?;
    russh::keys::parse_public_key_base64(data).map_err(|e| e.to_string())
}

/// How long one TCP connect waits for an answer before the next try, on a fresh socket.
const TCP_TRY: Duration = Duration::from_secs(4);

/// A TCP connection to the host by `deadline` (`None` when none answered in time), each try on
/// a fresh socket: a connect that gets no answer within [`TCP_TRY`] is tried again from another
/// local port. A host whose firewall was turned on while a connection was open (UFW: conntrack
/// picks the live connection up mid-stream, as if the server had opened it) may drop new
/// connections from that local port for minutes, or for days when it never sees that
/// connection close, and the kernel's own retries reuse the port. A refusal ends at once.
async fn tcp(t: &Target, deadline: tokio::time::Instant) -> std::io::Result<Option<tokio::net::TcpStream>> {
    let addrs: Vec<std::net::SocketAddr> = match tokio::time::timeout_at(deadline, tokio::net::lookup_host((t.host.as_str(), t.port))).await {
        Ok(found) => found?.collect(),
        Err(_) => return Ok(None),
    };
    loop {
        let (mut refused, mut silent) = (None, false);
        for addr in &addrs {
            let try_until = deadline.min(tokio::time::Instant::now() + TCP_TRY);
            match tokio::time::timeout_at(try_until, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(Some(stream));
                }
                Ok(Err(e)) => refused = Some(e),
                Err(_) if tokio::time::Instant::now() >= deadline => return Ok(None),
                Err(_) => silent = true,
            }
        }
        // Every address answered, with a refusal: no point in asking again.
        if !silent {
            return Err(refused.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "the host name has no address")));
        }
    }
}

/// A live, authenticated connection; each `run` is one round trip.
pub struct Connection {
    handle: client::Handle<Checker>,
    sudo: bool,
    /// The SSH port this session uses (a firewall must keep it open).
    pub port: u16,
    /// Held around steps whose tools are not safe to run concurrently on one host: `ufw`
    /// rewrites its rules file without a lock (two parallel `ufw allow` lose one rule), and
    /// dpkg refuses a second apt while one runs.
    pub exclusive: tokio::sync::Mutex<()>,
    /// One permit per open channel: see [`MAX_CHANNELS`].
    channels: tokio::sync::Semaphore,
    /// Our channels open now, and a signal when one closes: a server that refuses a channel
    /// while ours are open counts fewer sessions than [`MAX_CHANNELS`].
    open: std::sync::atomic::AtomicUsize,
    closed: tokio::sync::Notify,
}

/// Counts a channel as open for as long as it lives.
struct Open<'a>(&'a Connection);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.0.closed.notify_waiters();
    }
}

/// Steps open at once on one connection. OpenSSH refuses a session channel beyond
/// `MaxSessions` (10 by default) and counts one until its process has ended on the server,
/// slightly after the client saw it close; an apply runs 10 objects in parallel by default.
pub const MAX_CHANNELS: usize = 8;

fn fail(summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail)
}

impl Connection {
    pub async fn open(t: &Target) -> Result<Connection, Diagnostic> {
        let refusal = Arc::new(Mutex::new(None));
        let config = Arc::new(client::Config { inactivity_timeout: Some(Duration::from_secs(600)), ..Default::default() });
        let checker = Checker { target: t.clone(), refusal: refusal.clone() };
        let deadline = tokio::time::Instant::now() + t.connect_timeout;
        let timed_out = || fail("SSH connection timed out", format!("{}:{} did not answer within {} s.", t.host, t.port, t.connect_timeout.as_secs()));
        let stream = match tcp(t, deadline).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(timed_out()),
            Err(e) => return Err(fail("SSH connection failed", format!("{}:{}: {e}.", t.host, t.port))),
        };
        let connected = tokio::time::timeout_at(deadline, client::connect_stream(config, stream, checker)).await;
        let mut handle = match connected {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) => {
                let why = refusal.lock().ok().and_then(|r| r.clone());
                return Err(match why {
                    Some(why) => fail("Host key not trusted", why),
                    None => fail("SSH connection failed", format!("{}:{}: {e}.", t.host, t.port)),
                });
            }
            Ok(Ok(h)) => h,
        };
        let authenticated = match &t.auth {
            Auth::KeyFile(path) => {
                let key = russh::keys::load_secret_key(path, None).map_err(|e| fail("Cannot read the private key", format!("{path}: {e}.")))?;
                let hash = handle.best_supported_rsa_hash().await.ok().flatten().flatten();
                handle.authenticate_publickey(&t.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await.map(|r| r.success())
            }
            Auth::Key(content) => {
                let key =
                    russh::keys::decode_secret_key(content, None).map_err(|e| fail("Invalid private key", format!("private_key cannot be read: {e}.")))?;
                let hash = handle.best_supported_rsa_hash().await.ok().flatten().flatten();
                handle.authenticate_publickey(&t.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await.map(|r| r.success())
            }
            Auth::Agent => {
                let mut agent = russh::keys::agent::client::AgentClient::connect_env()
                    .await
                    .map_err(|e| fail("No SSH agent", format!("agent = true, but SSH_AUTH_SOCK does not reach an agent: {e}.")))?;
                let keys = agent.request_identities().await.map_err(|e| fail("SSH agent failed", format!("Listing the agent's keys failed: {e}.")))?;
                let mut ok = false;
                for key in keys {
                    let hash = handle.best_supported_rsa_hash().await.ok().flatten().flatten();
                    if handle.authenticate_publickey_with(&t.user, key, hash, &mut agent).await.is_ok_and(|r| r.success()) {
                        ok = true;
                        break;
                    }
                }
                Ok(ok)
            }
        };
        match authenticated {
            Ok(true) => Ok(Connection {
                handle,
                sudo: t.sudo,
                port: t.port,
                exclusive: tokio::sync::Mutex::new(()),
                channels: tokio::sync::Semaphore::new(MAX_CHANNELS),
                open: std::sync::atomic::AtomicUsize::new(0),
                closed: tokio::sync::Notify::new(),
            }),
            Ok(false) => Err(fail("SSH authentication failed", format!("{}@{}:{} refused the key.", t.user, t.host, t.port))),
            Err(e) => Err(fail("SSH authentication failed", format!("{}@{}:{}: {e}.", t.user, t.host, t.port))),
        }
    }

    /// Runs `script` with `sh -s` (through `sudo -n` when configured): the script travels on
    /// stdin, so its size is unbounded and no quoting layer can alter it. Data a script needs
    /// (file content) is embedded in it as base64 (`data()`). The script runs [`whole`].
    pub async fn run(&self, script: &str) -> Result<Output, Diagnostic> {
        let _permit = self.channels.acquire().await.map_err(|e| fail("SSH channel failed", format!("{e}.")))?;
        let (mut channel, _open) = self.open_channel().await?;
        let command = if self.sudo { "sudo -n sh -s" } else { "sh -s" };
        channel.exec(true, command).await.map_err(|e| fail("SSH exec failed", format!("{e}.")))?;
        channel.data(whole(script).as_bytes()).await.map_err(|e| fail("SSH exec failed", format!("Sending the script failed: {e}.")))?;
        channel.eof().await.map_err(|e| fail("SSH exec failed", format!("{e}.")))?;
        let mut out = Output::default();
        let mut status = None;
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, .. } => out.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                _ => {}
            }
        }
        out.status = status.unwrap_or(255);
        Ok(out)
    }

    /// A session channel. A server refuses one beyond its `MaxSessions`: while channels of
    /// ours are open, the next try waits for one of them to close; else (another client's
    /// sessions) it is asked again a few times, with a growing pause.
    async fn open_channel(&self) -> Result<(russh::Channel<client::Msg>, Open<'_>), Diagnostic> {
        let mut pause = Duration::from_millis(100);
        let mut refused_alone = 0;
        loop {
            let closed = self.closed.notified();
            match self.handle.channel_open_session().await {
                Ok(channel) => {
                    self.open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return Ok((channel, Open(self)));
                }
                Err(russh::Error::ChannelOpenFailure(_)) if self.open.load(std::sync::atomic::Ordering::SeqCst) > 0 => {
                    // The server may count a session a little after its channel closed here.
                    let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
                }
                Err(russh::Error::ChannelOpenFailure(_)) if refused_alone < 5 => {
                    refused_alone += 1;
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => {
                    return Err(fail(
                        "SSH channel failed",
                        format!("Opening a channel failed: {e}. If the server refuses sessions, check MaxSessions in its sshd_config (infra opens up to {MAX_CHANNELS} at once)."),
                    ))
                }
            }
        }
    }
}

/// `script` as the host runs it: whole or not at all, and to its end.
///
/// Whole: the script is the body of a function, which `sh` parses completely before running
/// any of it, so a script cut short in transit (infra killed while sending it) is a syntax
/// error, never its first half. To its end: a script used to stop at its first output line
/// after infra died (SIGPIPE on the closed channel), leaving an object half made that a refresh
/// may not see (a unit file rewritten but its service not restarted). Hangups and broken pipes
/// are ignored around it and its output is held in temporary files until it ends (when none can
/// be made, it writes to the channel as before; the script itself runs with SIGPIPE restored,
/// so its own pipelines behave as usual).
pub fn whole(script: &str) -> String {
    format!(
        "{{\ninfra_step() (\ntrap - PIPE\n{script}\n)\ntrap '' HUP PIPE\nif infra_o=$(mktemp \"${{TMPDIR:-/tmp}}/infra-step.XXXXXX\" 2>/dev/null) && infra_e=$(mktemp \"${{TMPDIR:-/tmp}}/infra-step.XXXXXX\" 2>/dev/null); then\n  infra_step </dev/null >\"$infra_o\" 2>\"$infra_e\"\n  infra_rc=$?\n  cat -- \"$infra_o\"\n  cat -- \"$infra_e\" >&2\n  rm -f -- \"$infra_o\" \"$infra_e\"\n  exit $infra_rc\nfi\ninfra_step </dev/null\n}}\n"
    )
}

pub fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// Shell code that writes `bytes` to its stdout: `data(b) | cmd`.
pub fn data(bytes: &[u8]) -> String {
    format!("printf '%s' '{}' | base64 -d", base64_encode(bytes))
}

/// A word for `sh`, whatever it contains (quotes, spaces, newlines).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::{tcp, whole, Auth, Target, Trust};
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// `sh -s` with `input` on stdin, in `dir`, with `TMPDIR` set: (status, stdout, stderr).
    fn sh(dir: &std::path::Path, tmpdir: &str, input: &[u8]) -> (i32, String, String) {
        let mut child = Command::new("sh")
            .arg("-s")
            .current_dir(dir)
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn a_step_cut_short_in_transit_runs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let script = whole("set -e\ntouch first\necho between\ntouch 'second'\n");
        for cut in 0..script.len() {
            let _ = std::fs::remove_file(dir.path().join("first"));
            let _ = std::fs::remove_file(dir.path().join("second"));
            sh(dir.path(), "/tmp", &script.as_bytes()[..cut]);
            let (a, b) = (dir.path().join("first").exists(), dir.path().join("second").exists());
            assert_eq!(a, b, "cut after {cut} bytes, half the step ran: {:?}", &script[..cut]);
        }
        assert_eq!(sh(dir.path(), "/tmp", script.as_bytes()).0, 0);
        assert!(dir.path().join("second").exists());
    }

    #[test]
    fn a_step_keeps_its_output_streams_exit_status_and_own_pipelines() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let script = whole("echo out\necho err >&2\nyes | head -n 2\nread x || echo 'stdin is empty'\nexit 3\n");
        let expected = (3, "out\ny\ny\nstdin is empty\n".to_string(), "err\n".to_string());
        assert_eq!(sh(dir.path(), &tmp.to_string_lossy(), script.as_bytes()), expected);
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the output files are removed");
        // Nowhere to hold the output: the step runs all the same, writing to the channel.
        assert_eq!(sh(dir.path(), "/nonexistent", script.as_bytes()), expected);
    }

    fn local(port: u16) -> Target {
        let connect_timeout = std::time::Duration::from_millis(1500);
        Target { host: "127.0.0.1".into(), port, user: "root".into(), auth: Auth::Agent, trust: Trust::Pinned(String::new()), sudo: false, connect_timeout }
    }

    #[tokio::test]
    async fn a_refused_connection_fails_at_once_and_a_silent_one_at_the_deadline() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let started = tokio::time::Instant::now();
        assert!(tcp(&local(closed), started + std::time::Duration::from_secs(5)).await.is_err(), "nothing listens: refused");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "a refusal is not asked again");

        // A listener whose queue is full drops new connections' SYNs: no answer at all.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let _queued = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let started = tokio::time::Instant::now();
        let silent = tcp(&local(port), started + std::time::Duration::from_millis(1500)).await;
        assert!(matches!(silent, Ok(None)), "{silent:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        drop(listener);
    }
}
