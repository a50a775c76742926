//! One SSH connection per host (russh), shared by every object on it and by parallel work:
//! each remote step is one `exec` channel running `sh -s` with its script on stdin (one round
//! trip), so no argument goes through a second round of shell parsing. Host keys are verified against
//! the pinned `host_key` or a `known_hosts_file`; an unknown or changed key is refused with its
//! SHA256 fingerprint. `sudo = true` runs every script through `sudo -n sh -s`.

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
}

fn fail(summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail)
}

impl Connection {
    pub async fn open(t: &Target) -> Result<Connection, Diagnostic> {
        let refusal = Arc::new(Mutex::new(None));
        let config = Arc::new(client::Config { inactivity_timeout: Some(Duration::from_secs(600)), ..Default::default() });
        let checker = Checker { target: t.clone(), refusal: refusal.clone() };
        let addr = (t.host.clone(), t.port);
        let connected = tokio::time::timeout(t.connect_timeout, client::connect(config, addr, checker)).await;
        let mut handle = match connected {
            Err(_) => return Err(fail("SSH connection timed out", format!("{}:{} did not answer within {} s.", t.host, t.port, t.connect_timeout.as_secs()))),
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
            Ok(true) => Ok(Connection { handle, sudo: t.sudo, port: t.port, exclusive: tokio::sync::Mutex::new(()) }),
            Ok(false) => Err(fail("SSH authentication failed", format!("{}@{}:{} refused the key.", t.user, t.host, t.port))),
            Err(e) => Err(fail("SSH authentication failed", format!("{}@{}:{}: {e}.", t.user, t.host, t.port))),
        }
    }

    /// Runs `script` with `sh -s` (through `sudo -n` when configured): the script travels on
    /// stdin, so its size is unbounded and no quoting layer can alter it. Data a script needs
    /// (file content) is embedded in it as base64 (`data()`).
    pub async fn run(&self, script: &str) -> Result<Output, Diagnostic> {
        let mut channel = self.handle.channel_open_session().await.map_err(|e| fail("SSH channel failed", format!("Opening a channel failed: {e}.")))?;
        let command = if self.sudo { "sudo -n sh -s" } else { "sh -s" };
        channel.exec(true, command).await.map_err(|e| fail("SSH exec failed", format!("{e}.")))?;
        channel.data(script.as_bytes()).await.map_err(|e| fail("SSH exec failed", format!("Sending the script failed: {e}.")))?;
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
