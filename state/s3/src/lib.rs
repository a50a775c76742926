//! `backend "s3"`: the state as one S3 object, written conditionally (`If-Match` on the ETag this
//! run last read or wrote, `If-None-Match: *` when it found none), a lock object `KEY.tflock`
//! created with `If-None-Match: *` and holding a lease its holder renews (heartbeat), the apply
//! journal as one object per durable step under `KEY.journal/`, and the bucket's object versions
//! as the state's history.
//!
//! The SDK is async and the backend trait is not: every request runs on this crate's own
//! runtime (one for the process, never dropped), and the caller waits on a channel. The caller
//! may be a worker thread of the CLI's runtime (the engine persists from async code); blocking
//! it on a channel is safe, starting a nested runtime there would not be.

use aws_sdk_s3::primitives::ByteStream;
use infra_state::backend::{segment_bytes, segment_text, state_bytes, state_from_bytes};
use infra_state::{Backend, JournalRecord, JournalSink, Lock, LockInfo, LockOptions, StateError, StateFile, StateVersion, Unlock};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// The backend block, as Terraform 1.11's `backend "s3"` spells it (plus infra's lease settings).
#[derive(Clone, Debug, PartialEq)]
pub struct S3Config {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub use_path_style: bool,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    pub workspace_key_prefix: String,
    pub use_lockfile: bool,
    /// How long a lock lives without renewal; the holder renews it every third of that.
    pub lock_lease: Duration,
    /// A lock silent this long is taken over without `--force-stale`; `None`: never.
    pub lock_stale_after: Option<Duration>,
}

/// Terraform's default `workspace_key_prefix`.
pub const DEFAULT_WORKSPACE_PREFIX: &str = "env:";

impl S3Config {
    /// Reads the backend's settings (`endpoints.s3` for the nested block). Unknown keys and
    /// wrong values are errors naming the key; `skip_*` flags are accepted (nothing here
    /// validates credentials or regions up front).
    pub fn from_settings(settings: &BTreeMap<String, String>) -> Result<S3Config, String> {
        let get = |k: &str| settings.get(k).filter(|v| !v.is_empty()).cloned();
        let flag = |k: &str, default: bool| -> Result<bool, String> {
            match settings.get(k).map(String::as_str) {
                None => Ok(default),
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(other) => Err(format!("{k} must be true or false, not {other:?}")),
            }
        };
        let duration = |k: &str| -> Result<Option<Duration>, String> {
            match settings.get(k) {
                None => Ok(None),
                Some(v) => parse_duration(v).map(Some).ok_or_else(|| format!("{k} must be a duration like 30s or 5m, not {v:?}")),
            }
        };
        const KNOWN: &[&str] = &[
            "bucket",
            "key",
            "region",
            "endpoint",
            "endpoints.s3",
            "use_path_style",
            "force_path_style",
            "profile",
            "access_key",
            "secret_key",
            "token",
            "encrypt",
            "kms_key_id",
            "workspace_key_prefix",
            "use_lockfile",
            "lock_lease",
            "lock_stale_after",
            "acl",
            "shared_config_files",
            "shared_credentials_files",
            "max_retries",
        ];
        for k in settings.keys() {
            if k == "dynamodb_table" {
                return Err("dynamodb_table: infra locks with the lock file in the bucket only; set use_lockfile = true instead".into());
            }
            if !KNOWN.contains(&k.as_str()) && !k.starts_with("skip_") && !k.starts_with("endpoints.") {
                return Err(format!("{k} is not a setting of the s3 backend"));
            }
        }
        let bucket = get("bucket").ok_or("bucket is required")?;
        let key = get("key").ok_or("key is required")?;
        if key.starts_with('/') || key.ends_with('/') {
            return Err(format!("key must not start or end with a slash ({key:?})"));
        }
        let workspace_key_prefix = settings.get("workspace_key_prefix").cloned().unwrap_or_else(|| DEFAULT_WORKSPACE_PREFIX.into());
        let lock_lease = duration("lock_lease")?.unwrap_or(Duration::from_secs(30));
        if lock_lease < Duration::from_secs(1) {
            return Err("lock_lease must be at least 1s".into());
        }
        Ok(S3Config {
            bucket,
            key,
            region: get("region"),
            endpoint: get("endpoints.s3").or_else(|| get("endpoint")),
            use_path_style: flag("use_path_style", false)? || flag("force_path_style", false)?,
            profile: get("profile"),
            access_key: get("access_key"),
            secret_key: get("secret_key"),
            token: get("token"),
            encrypt: flag("encrypt", false)?,
            kms_key_id: get("kms_key_id"),
            workspace_key_prefix,
            use_lockfile: flag("use_lockfile", false)?,
            lock_lease,
            lock_stale_after: duration("lock_stale_after")?,
        })
    }

    /// The state object's key in `workspace` (Terraform's layout: the default workspace at
    /// `key`, the others at `PREFIX/NAME/key`).
    pub fn state_key(&self, workspace: &str) -> String {
        if workspace == "default" {
            self.key.clone()
        } else {
            format!("{}/{workspace}/{}", self.workspace_key_prefix, self.key)
        }
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    })
}

/// Requests sent and bytes uploaded by this process, for `bench/`.
pub static REQUESTS: AtomicU64 = AtomicU64::new(0);
pub static BYTES_SENT: AtomicU64 = AtomicU64::new(0);

fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("infra-s3").enable_all().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `fut` on the backend's runtime and waits for it.
fn block<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| "the S3 request was abandoned".to_string())
}

/// What this run knows of the state object: the precondition of its next write.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Unread,
    Absent,
    ETag(String),
}

pub struct S3Backend {
    cfg: S3Config,
    workspace: String,
    client: aws_sdk_s3::Client,
    seen: Arc<Mutex<Seen>>,
    /// The `state` target of the stack's encryption: seals the state object and each journal
    /// object before they are sent, opens them after they are read (see
    /// [`infra_state::encryption`]).
    crypt: Option<Arc<infra_state::encryption::Target>>,
}

/// An S3 error as one line: the service's code and message, else the transport's.
fn describe<E: std::error::Error + 'static>(e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let status = s.raw().status().as_u16();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m} (HTTP {status})"),
                (Some(c), None) => format!("{c} (HTTP {status})"),
                _ => format!("HTTP {status}"),
            }
        }
        other => {
            let mut text = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                text = format!("{text}: {s}");
                src = s.source();
            }
            text
        }
    }
}

fn status<E>(e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn who() -> String {
    LockInfo::new("", std::path::Path::new("")).who
}

impl S3Backend {
    /// The same backend, its objects sealed and opened by `crypt`.
    pub fn with_encryption(mut self, crypt: Option<Arc<infra_state::encryption::Target>>) -> S3Backend {
        self.crypt = crypt;
        self
    }

    fn seal(&self, key: &str, plain: Vec<u8>) -> Result<Vec<u8>, StateError> {
        match &self.crypt {
            None => Ok(plain),
            Some(c) => c.seal(&plain).map_err(|e| StateError::Encryption { path: self.url(key).into(), reason: e.to_string() }),
        }
    }

    fn open(&self, key: &str, bytes: Vec<u8>) -> Result<Vec<u8>, StateError> {
        match &self.crypt {
            None => Ok(bytes),
            Some(c) => c.open(&bytes).map_err(|e| StateError::Encryption { path: self.url(key).into(), reason: e.to_string() }),
        }
    }

    /// Builds the client the way the aws provider does (providers/aws/src/config.rs): one
    /// hyper 1 + rustls (ring) HTTP client, the standard credentials chain unless the block
    /// gives keys, the profile and region from the block, an endpoint override.
    pub fn new(cfg: S3Config, workspace: &str) -> Result<S3Backend, String> {
        let c = cfg.clone();
        let client = block(async move {
            use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as Tls};
            let http = aws_smithy_http_client::Builder::new().tls_provider(Tls::Rustls(CryptoMode::Ring)).build_https();
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
            if let Some(p) = &c.profile {
                loader = loader.profile_name(p);
            }
            if let Some(r) = &c.region {
                loader = loader.region(aws_config::Region::new(r.clone()));
            }
            if let (Some(ak), Some(sk)) = (&c.access_key, &c.secret_key) {
                loader = loader.credentials_provider(aws_credential_types::Credentials::from_keys(ak, sk, c.token.clone()));
            }
            let sdk = loader.load().await;
            let mut b = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(c.use_path_style);
            if let Some(url) = &c.endpoint {
                b = b.endpoint_url(url);
            }
            if sdk.region().is_none() {
                b = b.region(aws_config::Region::new("us-east-1"));
            }
            aws_sdk_s3::Client::from_conf(b.build())
        })?;
        Ok(S3Backend { cfg, workspace: workspace.to_string(), client, seen: Arc::new(Mutex::new(Seen::Unread)), crypt: None })
    }

    pub fn config(&self) -> &S3Config {
        &self.cfg
    }

    fn key(&self) -> String {
        self.cfg.state_key(&self.workspace)
    }

    fn lock_key(&self) -> String {
        format!("{}.tflock", self.key())
    }

    fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.key())
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.cfg.bucket)
    }

    fn remote(&self, key: &str, op: &'static str, message: String) -> StateError {
        StateError::Remote { location: self.url(key), op, message }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The object's bytes and ETag; `None` when there is none.
    fn get(&self, key: &str, version: Option<&str>) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let req = self.client.get_object().bucket(&self.cfg.bucket).key(key).set_version_id(version.map(str::to_string));
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let res = block(async move {
            match req.send().await {
                Ok(out) => {
                    let etag = out.e_tag.clone().unwrap_or_default();
                    match out.body.collect().await {
                        Ok(b) => Ok(Some((b.into_bytes().to_vec(), etag))),
                        Err(e) => Err(format!("reading the body: {e}")),
                    }
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || status(&e) == Some(404) => Ok(None),
                Err(e) => Err(describe(&e)),
            }
        })
        .and_then(|r| r);
        res.map_err(|m| self.remote(key, "reading", m))
    }

    /// Puts `body` at `key` under a precondition; `Ok(None)` when the precondition failed.
    fn put(&self, key: &str, body: Vec<u8>, cond: &Seen, meta: &[(&str, String)]) -> Result<Option<String>, StateError> {
        BYTES_SENT.fetch_add(body.len() as u64, Ordering::Relaxed);
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let mut req = self.client.put_object().bucket(&self.cfg.bucket).key(key).content_type("application/json").body(ByteStream::from(body));
        req = match cond {
            Seen::Absent => req.if_none_match("*"),
            Seen::ETag(e) => req.if_match(e),
            Seen::Unread => req,
        };
        if self.cfg.encrypt || self.cfg.kms_key_id.is_some() {
            match &self.cfg.kms_key_id {
                Some(k) => req = req.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms).ssekms_key_id(k),
                None => req = req.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256),
            }
        }
        for (k, v) in meta {
            req = req.metadata(*k, v);
        }
        let res = block(async move {
            match req.send().await {
                Ok(out) => Ok(Some(out.e_tag.unwrap_or_default())),
                Err(e) if status(&e) == Some(412) => Ok(None),
                // A conditional create racing another one may answer 409 (ConditionalRequestConflict).
                Err(e) if status(&e) == Some(409) => Ok(None),
                Err(e) => Err(describe(&e)),
            }
        })
        .and_then(|r| r);
        res.map_err(|m| self.remote(key, "writing", m))
    }

    fn delete(&self, key: &str) -> Result<(), StateError> {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let req = self.client.delete_object().bucket(&self.cfg.bucket).key(key);
        block(async move { req.send().await.map(|_| ()).map_err(|e| describe(&e)) }).and_then(|r| r).map_err(|m| self.remote(key, "deleting", m))
    }

    /// Every key under `prefix`, in key order.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let client = self.client.clone();
        let (bucket, p) = (self.cfg.bucket.clone(), prefix.to_string());
        let res = block(async move {
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                let out = client.list_objects_v2().bucket(&bucket).prefix(&p).set_continuation_token(token).send().await.map_err(|e| describe(&e))?;
                keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
                match out.next_continuation_token() {
                    Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => break,
                }
            }
            Ok::<_, String>(keys)
        })
        .and_then(|r| r);
        res.map_err(|m| self.remote(prefix, "listing", m))
    }

    /// Reads the state object alone (no journal), remembering its ETag for the next write.
    fn read_object(&self) -> Result<Option<StateFile>, StateError> {
        let key = self.key();
        match self.get(&key, None)? {
            None => {
                *self.seen() = Seen::Absent;
                Ok(None)
            }
            Some((bytes, etag)) => {
                *self.seen() = Seen::ETag(etag);
                let bytes = self.open(&key, bytes)?;
                state_from_bytes(&bytes).map(Some).map_err(|reason| StateError::Corrupt { path: self.url(&key).into(), reason })
            }
        }
    }

    /// The journal segments under the state, grouped by the journal they belong to, in order.
    fn journals(&self) -> Result<BTreeMap<String, Vec<String>>, StateError> {
        let prefix = self.journal_prefix();
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for k in self.list(&prefix)? {
            if let Some((group, _seq)) = k[prefix.len()..].rsplit_once('/') {
                groups.entry(group.to_string()).or_default().push(k.clone());
            }
        }
        Ok(groups)
    }

    /// The workspaces whose states live in this bucket under this key.
    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let mut names = vec!["default".to_string()];
        let prefix = format!("{}/", self.cfg.workspace_key_prefix);
        let suffix = format!("/{}", self.cfg.key);
        for k in self.list(&prefix)? {
            if let Some(name) = k[prefix.len()..].strip_suffix(&suffix) {
                if !name.is_empty() && !name.contains('/') && !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        Ok(names)
    }

    /// Deletes a workspace's state object (a delete marker in a versioned bucket: its versions
    /// stay).
    pub fn delete_workspace(&self, name: &str) -> Result<(), StateError> {
        self.delete(&self.cfg.state_key(name))
    }

    fn lock_info(&self, operation: &str) -> LockInfo {
        let mut info = LockInfo::new(operation, std::path::Path::new(&self.url(&self.key())));
        info.renewed = Some(now());
        info.lease_seconds = Some(self.cfg.lock_lease.as_secs().max(1));
        info
    }

    fn start_lock(&self, info: LockInfo, etag: String, took_over: Option<LockInfo>) -> Lock {
        let held = Arc::new(HeldLock {
            client: self.client.clone(),
            bucket: self.cfg.bucket.clone(),
            key: self.lock_key(),
            info: Mutex::new(info.clone()),
            etag: Mutex::new(etag),
            stop: Arc::new(AtomicBool::new(false)),
            task: Mutex::new(None),
        });
        let every = self.cfg.lock_lease / 3;
        let h = held.clone();
        if let Ok(rt) = runtime() {
            let task = rt.spawn(async move { h.heartbeat(every.max(Duration::from_millis(300))).await });
            *held.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        }
        Lock { info, took_over, release: Box::new(Release(held)) }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Set by [`stop_heartbeats_for_tests`]: every heartbeat of this process stops renewing, as a
/// killed holder's would.
static HEARTBEATS_STOPPED: AtomicBool = AtomicBool::new(false);

/// Stops every heartbeat of this process (for tests of a holder that went silent).
pub fn stop_heartbeats_for_tests() {
    HEARTBEATS_STOPPED.store(true, Ordering::SeqCst);
}

/// A lock this process holds: its heartbeat renews the lease until it is released.
struct HeldLock {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    info: Mutex<LockInfo>,
    etag: Mutex<String>,
    stop: Arc<AtomicBool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl HeldLock {
    async fn heartbeat(&self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if self.stop.load(Ordering::SeqCst) || HEARTBEATS_STOPPED.load(Ordering::SeqCst) {
                return;
            }
            let (body, etag) = {
                let mut info = self.info.lock().unwrap_or_else(PoisonError::into_inner);
                info.renewed = Some(now());
                (serde_json::to_vec_pretty(&*info).unwrap_or_default(), self.etag.lock().unwrap_or_else(PoisonError::into_inner).clone())
            };
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            let sent = self.client.put_object().bucket(&self.bucket).key(&self.key).if_match(&etag).body(ByteStream::from(body)).send().await;
            match sent {
                Ok(out) => *self.etag.lock().unwrap_or_else(PoisonError::into_inner) = out.e_tag.unwrap_or_default(),
                Err(e) if status(&e) == Some(412) || status(&e) == Some(404) => {
                    // Taken over (or force-unlocked) while this run still runs: its state
                    // writes are conditional and will be refused; say so now.
                    eprintln!(
                        "Warning: the state lock s3://{}/{} is no longer this run's: it was taken over or force-unlocked. This run's remaining state writes will be refused.",
                        self.bucket, self.key
                    );
                    return;
                }
                Err(e) => eprintln!("Warning: renewing the state lock s3://{}/{} failed: {}; retrying.", self.bucket, self.key, describe(&e)),
            }
        }
    }
}

struct Release(Arc<HeldLock>);

impl Drop for Release {
    fn drop(&mut self) {
        let held = self.0.clone();
        held.stop.store(true, Ordering::SeqCst);
        if let Some(t) = held.task.lock().unwrap_or_else(PoisonError::into_inner).take() {
            t.abort();
        }
        // Removed only while it is still ours: a takeover or force-unlock replaced it otherwise.
        let _ = block(async move {
            let id = held.info.lock().unwrap_or_else(PoisonError::into_inner).id.clone();
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            let Ok(out) = held.client.get_object().bucket(&held.bucket).key(&held.key).send().await else { return };
            let etag = out.e_tag().map(str::to_string);
            let Ok(body) = out.body.collect().await else { return };
            if serde_json::from_slice::<LockInfo>(&body.into_bytes()).is_ok_and(|h| h.id == id) {
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                // Conditional on the object read: a lock another run took over between the read
                // and the delete (its lease had expired) has another ETag and stays.
                let _ = held.client.delete_object().bucket(&held.bucket).key(&held.key).set_if_match(etag).send().await;
            }
        });
    }
}

/// The lock disabled (`use_lockfile = false`, as Terraform without a lock table): nothing held.
struct NoLock;

impl Backend for S3Backend {
    fn location(&self) -> String {
        self.url(&self.key())
    }

    fn read(&self) -> Result<Option<StateFile>, StateError> {
        let base = self.read_object()?;
        let mut result = base.clone();
        for (group, keys) in self.journals()? {
            let mut text = String::new();
            for k in &keys {
                let Some((bytes, _)) = self.get(k, None)? else { continue };
                let bytes = self.open(k, bytes)?;
                text.push_str(&segment_text(&bytes).map_err(|reason| StateError::Corrupt { path: self.url(k).into(), reason })?);
            }
            match infra_state::journal::replay(base.clone(), &text) {
                Ok(Some(s)) => result = Some(s),
                Ok(None) => {}
                Err(reason) => {
                    return Err(StateError::CorruptJournal {
                        path: self.url(&format!("{}{group}/", self.journal_prefix())).into(),
                        state: self.location().into(),
                        reason,
                    })
                }
            }
        }
        Ok(result)
    }

    fn write(&self, state: &StateFile) -> Result<(), StateError> {
        let key = self.key();
        let mut cond = self.seen().clone();
        if cond == Seen::Unread {
            // A write without a read first: conditional on what is there now.
            cond = match self.get(&key, None)? {
                None => Seen::Absent,
                Some((_, etag)) => Seen::ETag(etag),
            };
        }
        let meta = [("infra-serial", state.serial.to_string()), ("infra-lineage", state.lineage.clone()), ("infra-who", who())];
        let sealed = self.seal(&key, state_bytes(state))?;
        match self.put(&key, sealed, &cond, &meta)? {
            Some(etag) => {
                *self.seen() = Seen::ETag(etag);
                Ok(())
            }
            None => Err(StateError::Conflict {
                location: self.location(),
                reason: match cond {
                    Seen::Absent => "another run created it after this one found none (If-None-Match refused the write)".into(),
                    _ => "another run wrote it after this one read it (its ETag changed; If-Match refused the write)".into(),
                },
            }),
        }
    }

    fn try_lock(&self, operation: &str, opts: LockOptions) -> Result<Option<Lock>, StateError> {
        if !self.cfg.use_lockfile {
            let info = self.lock_info(operation);
            return Ok(Some(Lock { info, took_over: None, release: Box::new(NoLock) }));
        }
        let key = self.lock_key();
        for _ in 0..4 {
            let info = self.lock_info(operation);
            let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
            if let Some(etag) = self.put(&key, body, &Seen::Absent, &[])? {
                return Ok(Some(self.start_lock(info, etag, None)));
            }
            let Some((bytes, etag)) = self.get(&key, None)? else { continue };
            let held: LockInfo = serde_json::from_slice(&bytes).unwrap_or_else(|_| LockInfo::unknown());
            let Some(silent) = held.silent_for(chrono::Utc::now()).filter(|_| held.lease_expired_for(chrono::Utc::now()).is_some()) else {
                return Ok(None);
            };
            let allowed = opts.force_stale || self.cfg.lock_stale_after.is_some_and(|after| silent >= after);
            if !allowed {
                return Ok(None);
            }
            let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
            return Ok(self.put(&key, body, &Seen::ETag(etag), &[])?.map(|etag| self.start_lock(info, etag, Some(held))));
        }
        Ok(None)
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.get(&self.lock_key(), None)?.map(|(b, _)| serde_json::from_slice(&b).unwrap_or_else(|_| LockInfo::unknown())))
    }

    fn force_unlock(&self, id: &str, _how: Unlock) -> Result<LockInfo, StateError> {
        // Nothing here can see another host's processes: the lock ID is the check, as in Terraform.
        match self.lock_holder()? {
            Some(h) if h.id == id => {
                self.delete(&self.lock_key())?;
                Ok(h)
            }
            found => Err(StateError::LockMismatch { expected: id.to_string(), found: found.map(Box::new) }),
        }
    }

    fn locks(&self) -> Result<Vec<LockInfo>, StateError> {
        let mut out = Vec::new();
        for ws in self.workspaces()? {
            let key = format!("{}.tflock", self.cfg.state_key(&ws));
            if let Some((b, _)) = self.get(&key, None)? {
                out.push(serde_json::from_slice(&b).unwrap_or_else(|_| LockInfo::unknown()));
            }
        }
        Ok(out)
    }

    fn begin_journal(&self, base: &StateFile) -> Result<Box<dyn JournalSink>, StateError> {
        self.write(base)?;
        let prefix = format!("{}{}/{:020}/", self.journal_prefix(), base.lineage, base.serial);
        // `INFRA_S3_JOURNAL=rewrite` (for bench/ only): each durable step rewrites the whole
        // state conditionally instead of adding a segment.
        let rewrite = std::env::var("INFRA_S3_JOURNAL").is_ok_and(|v| v == "rewrite");
        let mut sink =
            S3Journal { backend: Arc::new(self.handle()), prefix, seq: 0, pending: Vec::new(), rewrite: rewrite.then(|| (base.clone(), String::new())) };
        sink.pending.push(JournalRecord::Header { lineage: base.lineage.clone(), base_serial: base.serial });
        sink.sync().map_err(|e| self.remote(&self.journal_prefix(), "writing", e.to_string()))?;
        Ok(Box::new(sink))
    }

    fn finish_journal(&self, state: &StateFile) -> Result<(), StateError> {
        self.write(state)?;
        for keys in self.journals()?.into_values() {
            for k in keys {
                self.delete(&k)?;
            }
        }
        Ok(())
    }

    fn versions(&self) -> Result<Vec<StateVersion>, StateError> {
        let key = self.key();
        let client = self.client.clone();
        let (bucket, k) = (self.cfg.bucket.clone(), key.clone());
        let res = block(async move {
            // Every page: the prefix also lists the lock and the journal objects beside the state.
            let mut listed = Vec::new();
            let (mut key_marker, mut version_marker) = (None, None);
            loop {
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                let out = client
                    .list_object_versions()
                    .bucket(&bucket)
                    .prefix(&k)
                    .set_key_marker(key_marker.take())
                    .set_version_id_marker(version_marker.take())
                    .send()
                    .await
                    .map_err(|e| describe(&e))?;
                listed.extend(out.versions().iter().filter(|v| v.key() == Some(k.as_str())).cloned());
                if out.is_truncated() != Some(true) || out.next_key_marker().is_none() {
                    break;
                }
                key_marker = out.next_key_marker().map(str::to_string);
                version_marker = out.next_version_id_marker().map(str::to_string);
            }
            let mut versions = Vec::new();
            for v in listed.iter() {
                let id = v.version_id().unwrap_or("null").to_string();
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                let head = client.head_object().bucket(&bucket).key(&k).version_id(&id).send().await.ok();
                let meta = head.as_ref().and_then(|h| h.metadata().cloned()).unwrap_or_default();
                versions.push(StateVersion {
                    id,
                    modified: v.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                    size: v.size().unwrap_or(0).max(0) as u64,
                    latest: v.is_latest() == Some(true),
                    serial: meta.get("infra-serial").and_then(|s| s.parse().ok()),
                    lineage: meta.get("infra-lineage").cloned(),
                    who: meta.get("infra-who").cloned(),
                });
            }
            Ok::<_, String>(versions)
        })
        .and_then(|r| r);
        let mut versions = res.map_err(|m| self.remote(&key, "listing versions of", m))?;
        versions.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.latest.cmp(&a.latest)));
        Ok(versions)
    }

    fn read_version(&self, id: &str) -> Result<StateFile, StateError> {
        let key = self.key();
        match self.get(&key, Some(id)) {
            Ok(Some((bytes, _))) => state_from_bytes(&self.open(&key, bytes)?).map_err(|reason| StateError::Corrupt { path: self.url(&key).into(), reason }),
            Ok(None) => Err(StateError::NoVersion { location: self.location(), id: id.into(), known: "see `infra state history`".into() }),
            Err(StateError::Remote { message, .. }) if message.contains("HTTP 400") || message.contains("NoSuchVersion") => {
                Err(StateError::NoVersion { location: self.location(), id: id.into(), known: "see `infra state history`".into() })
            }
            Err(e) => Err(e),
        }
    }

    fn stale_reason(&self, holder: &LockInfo) -> Option<String> {
        let now = chrono::Utc::now();
        holder.lease_expired_for(now)?;
        let silent = holder.silent_for(now)?;
        Some(format!(
            "its holder stopped renewing it {}s ago (lease {}s){}",
            silent.as_secs(),
            holder.lease_seconds.unwrap_or(0),
            match self.cfg.lock_stale_after {
                Some(a) => format!("; it is taken over without --force-stale once silent for {}s (lock_stale_after)", a.as_secs()),
                None => String::new(),
            }
        ))
    }
}

impl S3Backend {
    /// Another handle on the same state (same client, same ETag), for the journal.
    fn handle(&self) -> S3Backend {
        S3Backend { cfg: self.cfg.clone(), workspace: self.workspace.clone(), client: self.client.clone(), seen: self.seen.clone(), crypt: self.crypt.clone() }
    }
}

/// The apply journal in S3: each durable step is one new object (created with
/// `If-None-Match: *`) holding the records appended since the previous step, so a run killed
/// at any moment leaves whole segments only, and the next run, anywhere, replays them.
struct S3Journal {
    backend: Arc<S3Backend>,
    prefix: String,
    seq: u64,
    pending: Vec<JournalRecord>,
    /// The rewrite strategy (measured in bench/): the base state and every record since.
    rewrite: Option<(StateFile, String)>,
}

impl JournalSink for S3Journal {
    fn append(&mut self, rec: &JournalRecord) -> std::io::Result<()> {
        self.pending.push(rec.clone());
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some((base, text)) = &mut self.rewrite {
            if self.seq > 0 {
                text.push_str(&segment_text(&segment_bytes(&self.pending)).map_err(std::io::Error::other)?);
                let header = segment_text(&segment_bytes(&[JournalRecord::Header { lineage: base.lineage.clone(), base_serial: base.serial }]))
                    .map_err(std::io::Error::other)?;
                let state = infra_state::journal::replay(Some(base.clone()), &format!("{header}{text}"))
                    .map_err(std::io::Error::other)?
                    .unwrap_or_else(|| base.clone());
                // Same serial as the base: the final write bumps it, as with segments.
                let mut state = state;
                state.serial = base.serial;
                self.backend.write(&state).map_err(|e| std::io::Error::other(e.to_string()))?;
                self.pending.clear();
                return Ok(());
            }
        }
        let key = format!("{}{:08}", self.prefix, self.seq);
        let sealed = self.backend.seal(&key, segment_bytes(&self.pending)).map_err(std::io::Error::other)?;
        match self.backend.put(&key, sealed, &Seen::Absent, &[]) {
            Ok(Some(_)) => {
                self.seq += 1;
                self.pending.clear();
                Ok(())
            }
            Ok(None) => Err(std::io::Error::other(format!("the journal segment {} exists already: another run writes this state", self.backend.url(&key)))),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }
}
