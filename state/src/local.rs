//! The local backend: one JSON file, written atomically, guarded by a lock file.

use crate::schema::StateFile;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub enum StateError {
    /// The file exists but cannot be used; it is left untouched.
    Corrupt {
        path: PathBuf,
        reason: String,
    },
    /// The journal of an interrupted apply cannot be replayed on the state beside it.
    CorruptJournal {
        path: PathBuf,
        state: PathBuf,
        reason: String,
    },
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    // Boxed: a `LockInfo` would make every `Result` of this crate large.
    Locked {
        path: PathBuf,
        holder: Box<LockInfo>,
    },
    LockMismatch {
        expected: String,
        found: Option<Box<LockInfo>>,
    },
    /// force-unlock of a lock whose holder is still running on this host.
    HolderRunning {
        holder: Box<LockInfo>,
    },
    /// The lock is held, and its holder is known to be gone (a lease that expired, a process
    /// that ended); taking it over needs `--force-stale` (or `lock_stale_after`).
    Stale {
        location: String,
        holder: Box<LockInfo>,
        reason: String,
    },
    /// A conditional write was refused: someone else wrote since this run read.
    Conflict {
        location: String,
        reason: String,
    },
    /// A remote store refused or failed a request.
    Remote {
        location: String,
        op: &'static str,
        message: String,
    },
    NoVersion {
        location: String,
        id: String,
        known: String,
    },
    /// The state (or journal) cannot be decrypted or encrypted as configured; nothing was
    /// written.
    Encryption {
        path: PathBuf,
        reason: String,
    },
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Corrupt { path, reason } => write!(
                f,
                "the state file {} cannot be read: {reason}. It was left untouched; restore it from {}.backup or fix it by hand",
                path.display(),
                path.display()
            ),
            StateError::CorruptJournal { path, state, reason } => write!(
                f,
                "the apply journal {} cannot be replayed on {}: {reason}. Nothing was changed. It holds what an interrupted apply finished after the state was last written in full; move it aside only if you are sure those objects are recorded elsewhere",
                path.display(),
                state.display()
            ),
            StateError::Io { path, op, source } => write!(f, "{op} {} failed: {source}", path.display()),
            StateError::Locked { path, holder } => {
                write!(
                    f,
                    "the state {} is locked by {} (pid {}, operation {}, since {}, lock ID {})",
                    path.display(),
                    holder.who,
                    holder.pid,
                    holder.operation,
                    holder.created,
                    holder.id
                )?;
                match holder.holder() {
                    Holder::Gone => write!(
                        f,
                        ", and that process is no longer running on this host. If it was killed, check the state, then run `infra force-unlock {}`",
                        holder.id
                    ),
                    Holder::Running => write!(f, ". That process is still running on this host: wait for it to finish, or use --lock-timeout"),
                    Holder::Unknown => {
                        write!(f, ". Wait for it to finish, use --lock-timeout, or run `infra force-unlock {}` if that process is gone", holder.id)
                    }
                }
            }
            StateError::HolderRunning { holder } => write!(
                f,
                "the lock {} is held by {} (pid {}, operation {}, since {}), and that process is still running on this host. Let it finish or stop it; `infra force-unlock -force {}` removes the lock anyway",
                holder.id, holder.who, holder.pid, holder.operation, holder.created, holder.id
            ),
            StateError::LockMismatch { expected, found: Some(h) } => {
                write!(f, "the lock ID {expected} does not match the current lock {} held by {}", h.id, h.who)
            }
            StateError::Stale { location, holder, reason } => write!(
                f,
                "the state {location} is locked by {} (pid {}, operation {}{}, since {}, lock ID {}), and that lock is stale: {reason}. If that run was killed, rerun with --force-stale to take the lock over (the state holds every object it finished), or run `infra force-unlock {}`",
                holder.who,
                holder.pid,
                holder.operation,
                holder.job.as_deref().map(|j| format!(", job {j}")).unwrap_or_default(),
                holder.created,
                holder.id,
                holder.id
            ),
            StateError::Conflict { location, reason } => write!(f, "the state {location} was not written: {reason}. Nothing was overwritten; run again to plan from the new state"),
            StateError::Remote { location, op, message } => write!(f, "{op} {location} failed: {message}"),
            StateError::NoVersion { location, id, known } => write!(f, "the state {location} has no version {id:?} (versions: {known})"),
            StateError::Encryption { path, reason } => write!(f, "{}: {reason}. Nothing was written", path.display()),
            StateError::LockMismatch { expected, found: None } => write!(f, "there is no lock to release (asked for lock ID {expected})"),
        }
    }
}

impl std::error::Error for StateError {}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Pid")]
    pub pid: u32,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
    /// The CI job that runs the holder, when the environment names one.
    #[serde(rename = "Job", default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// A remote lock's lease: the holder renews it every third of `lease_seconds`; when
    /// `renewed` is older than the lease, the lock is stale.
    #[serde(rename = "Renewed", default, skip_serializing_if = "Option::is_none")]
    pub renewed: Option<String>,
    #[serde(rename = "LeaseSeconds", default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u64>,
}

/// This host's name; `None` when the system does not say (then no lock counts as this host's).
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..len]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// What this process can tell about a lock's holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// It ran on this host and its process is still running (or its pid was reused).
    Running,
    /// It ran on this host and its process is gone: the lock is stale.
    Gone,
    /// It ran on another host, or did not say which process it is: nothing here can tell
    /// whether it is still running.
    Unknown,
}

impl LockInfo {
    /// Whether the holder is alive, as far as this host can see. A lock taken on another host
    /// is always `Unknown`: its processes are not ours to see. Shared (team) state will need
    /// heartbeats or a lease that expires before another host's lock can be taken over.
    pub fn holder(&self) -> Holder {
        let same_host = self.who.rsplit_once('@').is_some_and(|(_, h)| Some(h) == hostname().as_deref());
        match i32::try_from(self.pid) {
            Ok(pid) if same_host && pid > 0 => match process_exists(pid) {
                Some(true) => Holder::Running,
                Some(false) => Holder::Gone,
                None => Holder::Unknown,
            },
            _ => Holder::Unknown,
        }
    }

    /// True when the holder ran on this host and its process is gone.
    pub fn is_stale(&self) -> bool {
        self.holder() == Holder::Gone
    }

    pub fn new(operation: &str, path: &Path) -> LockInfo {
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        let host = hostname().unwrap_or_else(|| "localhost".into());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            path: path.display().to_string(),
            job: ci_job(),
            renewed: None,
            lease_seconds: None,
        }
    }

    /// A holder that could not be read.
    pub fn unknown() -> LockInfo {
        LockInfo {
            id: "unknown".into(),
            operation: "unknown".into(),
            who: "unknown".into(),
            pid: 0,
            version: String::new(),
            created: String::new(),
            path: String::new(),
            job: None,
            renewed: None,
            lease_seconds: None,
        }
    }

    /// How long ago the lease expired; `None` while it runs or when the lock has no lease.
    pub fn lease_expired_for(&self, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
        let renewed = chrono::DateTime::parse_from_rfc3339(self.renewed.as_deref()?).ok()?;
        let silent = (now - renewed.with_timezone(&chrono::Utc)).to_std().ok()?;
        silent.checked_sub(Duration::from_secs(self.lease_seconds?)).filter(|d| !d.is_zero())
    }

    /// How long the holder has not renewed its lease.
    pub fn silent_for(&self, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
        let renewed = chrono::DateTime::parse_from_rfc3339(self.renewed.as_deref()?).ok()?;
        (now - renewed.with_timezone(&chrono::Utc)).to_std().ok()
    }
}

/// The CI job running this process, when a known CI names it.
fn ci_job() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(repo), Some(run)) = (var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
        return Some(format!("github {repo} run {run}"));
    }
    if let Some(url) = var("CI_JOB_URL").or_else(|| var("BUILD_URL")) {
        return Some(url);
    }
    var("INFRA_LOCK_JOB")
}

/// `Some(true)` when a process with this pid exists (a zombie counts, and so does a process of
/// another user), `Some(false)` when none does, `None` when the system cannot say.
fn process_exists(pid: i32) -> Option<bool> {
    // Signal 0 checks existence and permission without sending anything.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return Some(true);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ESRCH) => Some(false),
        Some(libc::EPERM) => Some(true),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub struct LocalBackend {
    pub path: PathBuf,
    /// The `state` target of the stack's encryption: seals the state, its backup and each
    /// journal line; `None` writes them plain.
    pub crypt: Option<std::sync::Arc<crate::encryption::Target>>,
}

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    lock_path: PathBuf,
    pub info: LockInfo,
    /// The stale lock this one replaced: its holder ran on this host and was gone.
    pub took_over: Option<LockInfo>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours (force-unlock may have replaced it).
        let _ = replace_lock_if(&self.lock_path, |held| Ok(held.is_some_and(|h| h.id == self.info.id)), None);
    }
}

/// What `force-unlock` may remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlock {
    /// Not a lock whose holder is still running on this host.
    UnlessRunning,
    /// Any lock with the given ID (`force-unlock -force`).
    Anyway,
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io { path: path.to_path_buf(), op, source }
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend { path: path.into(), crypt: None }
    }

    /// The same backend, its files sealed and opened by `crypt` (see [`crate::encryption`]).
    pub fn with_encryption(mut self, crypt: Option<std::sync::Arc<crate::encryption::Target>>) -> LocalBackend {
        self.crypt = crypt;
        self
    }

    fn crypt_error(&self, path: &Path) -> impl Fn(crate::encryption::CryptError) -> StateError {
        let path = path.to_path_buf();
        move |e| StateError::Encryption { path: path.clone(), reason: e.0 }
    }

    pub fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock.info")
    }

    pub fn backup_path(&self) -> PathBuf {
        sibling(&self.path, ".backup")
    }

    pub fn journal_path(&self) -> PathBuf {
        sibling(&self.path, ".journal")
    }

    /// Reads the state; `Ok(None)` when there is none yet. A journal left by an interrupted
    /// apply is replayed on top (see [`crate::journal`]).
    pub fn read(&self) -> Result<Option<StateFile>, StateError> {
        let base = self.read_file()?;
        let journal = match fs::read(self.journal_path()) {
            Ok(t) => match &self.crypt {
                Some(c) => String::from_utf8_lossy(&c.open_lines(&t).map_err(self.crypt_error(&self.journal_path()))?).into_owned(),
                None => String::from_utf8_lossy(&t).into_owned(),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(base),
            Err(e) => return Err(io(&self.journal_path(), "reading")(e)),
        };
        match crate::journal::replay(base.clone(), &journal) {
            Ok(Some(s)) => Ok(Some(s)),
            Ok(None) => Ok(base),
            Err(reason) => Err(StateError::CorruptJournal { path: self.journal_path(), state: self.path.clone(), reason }),
        }
    }

    fn read_file(&self) -> Result<Option<StateFile>, StateError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path, "reading")(e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(StateError::Corrupt { path: self.path.clone(), reason: "it is empty".into() });
        }
        let bytes = match &self.crypt {
            Some(c) => c.open(&bytes).map_err(self.crypt_error(&self.path))?,
            None => bytes,
        };
        StateFile::from_slice(&bytes).map(Some).map_err(|reason| StateError::Corrupt { path: self.path.clone(), reason })
    }

    /// Starts the journal of an apply on top of `base`, which this writes in full first.
    pub fn begin_journal(&self, base: &StateFile) -> Result<crate::Journal, StateError> {
        self.write(base)?;
        crate::Journal::create_sealed(&self.journal_path(), base, self.crypt.clone()).map_err(io(&self.journal_path(), "creating"))
    }

    /// Ends an apply: writes the full state, then drops the journal it now contains.
    pub fn finish_journal(&self, state: &StateFile) -> Result<(), StateError> {
        self.write(state)?;
        match fs::remove_file(self.journal_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&self.journal_path(), "removing")(e)),
        }
    }

    /// Writes the state atomically: readers see the old file or the new one, never a mix, and
    /// a crash at any point leaves one of them intact. The previous version becomes the backup.
    pub fn write(&self, state: &StateFile) -> Result<(), StateError> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // Encrypted, the state is sealed before anything is touched: a refusal (enforced) or a
        // key that fails leaves every file as it was.
        let sealed = match &self.crypt {
            Some(c) => {
                let mut plain = Vec::new();
                state.write_to(&mut plain).map_err(io(&self.path, "serializing"))?;
                Some(c.seal(&plain).map_err(self.crypt_error(&self.path))?)
            }
            None => None,
        };
        fs::create_dir_all(dir).map_err(io(dir, "creating directory"))?;
        if self.path.exists() {
            let backup = self.backup_path();
            let tmp_backup = sibling(&backup, &format!(".tmp{}", std::process::id()));
            match &self.crypt {
                // The backup is sealed under the current method too, so a state written before
                // a rotation (or plain, before encryption) does not linger beside it.
                Some(c) => {
                    let old = fs::read(&self.path).map_err(io(&self.path, "reading"))?;
                    let resealed = match c.open(&old) {
                        Ok(plain) => c.seal(&plain).map_err(self.crypt_error(&backup))?,
                        Err(_) => old,
                    };
                    let mut f = create_private(&tmp_backup)?;
                    f.write_all(&resealed).map_err(io(&tmp_backup, "writing"))?;
                }
                None => {
                    fs::copy(&self.path, &tmp_backup).map_err(io(&tmp_backup, "writing"))?;
                }
            }
            sync_file(&tmp_backup)?;
            fs::rename(&tmp_backup, &backup).map_err(io(&backup, "renaming to"))?;
        }
        let tmp = sibling(&self.path, &format!(".tmp{}", std::process::id()));
        {
            let mut f = std::io::BufWriter::with_capacity(1 << 16, create_private(&tmp)?);
            match &sealed {
                Some(bytes) => f.write_all(bytes),
                None => state.write_to(&mut f),
            }
            .and_then(|_| f.flush())
            .map_err(io(&tmp, "writing"))?;
            let f = f.into_inner().map_err(|e| io(&tmp, "writing")(e.into_error()))?;
            f.sync_all().map_err(io(&tmp, "syncing"))?;
        }
        fs::rename(&tmp, &self.path).map_err(io(&self.path, "renaming to"))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir, "syncing directory"))?;
        Ok(())
    }

    /// Takes the lock, waiting up to `timeout` for another holder to release it. A stale lock
    /// (its holder ran on this host and is gone) is taken over: see [`Self::try_lock`].
    pub fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError> {
        self.lock_with(timeout, || self.try_lock(operation))
    }

    /// Retries `attempt` (normally [`Self::try_lock`]) until it takes the lock or `timeout`
    /// passes. A caller whose signal handler must release the lock wraps each attempt in the
    /// mutex that handler takes, so the guard is never outside the handler's sight.
    pub fn lock_with<T>(&self, timeout: Duration, mut attempt: impl FnMut() -> Result<Option<T>, StateError>) -> Result<T, StateError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(taken) = attempt()? {
                return Ok(taken);
            }
            if Instant::now() >= deadline {
                let holder = self.lock_holder().unwrap_or_else(LockInfo::unknown);
                return Err(StateError::Locked { path: self.path.clone(), holder: Box::new(holder) });
            }
            std::thread::sleep(Duration::from_millis(200).min(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))));
        }
    }

    /// One attempt at the lock; `Ok(None)` while someone else holds it. A lock whose holder
    /// ran on this host and is no longer running is replaced by this one (`took_over` on the
    /// guard names it); of several runs racing to do so, one wins and the others find its
    /// lock. A lock from another host is never taken over: this host cannot see whether that
    /// process still runs (shared team state will need a heartbeat or an expiring lease).
    pub fn try_lock(&self, operation: &str) -> Result<Option<LockGuard>, StateError> {
        let lock_path = self.lock_path();
        if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io(dir, "creating directory"))?;
        }
        // A few rounds: a round that finds the file changed meanwhile (its holder released it,
        // or another run took it over) looks again.
        for _ in 0..4 {
            let info = LockInfo::new(operation, &self.path);
            if create_lock(&lock_path, &info)? {
                return Ok(Some(LockGuard { lock_path, info, took_over: None }));
            }
            let Some(stale) = self.lock_holder().filter(LockInfo::is_stale) else {
                return Ok(None);
            };
            // Ours is written in full beside it, then renamed over it: the lock path is never
            // empty, so no run can slip in between the stale lock and ours.
            let ours = sibling(&lock_path, &format!(".{}.tmp", info.id));
            write_lock_file(&ours, &info)?;
            let replaced = replace_lock_if(&lock_path, |held| Ok(held.is_some_and(|h| h.id == stale.id && h.is_stale())), Some(&ours));
            if replaced.as_ref().is_ok_and(|r| *r) {
                return Ok(Some(LockGuard { lock_path, info, took_over: Some(stale) }));
            }
            let _ = fs::remove_file(&ours);
            replaced?;
        }
        Ok(None)
    }

    pub fn lock_holder(&self) -> Option<LockInfo> {
        fs::read(self.lock_path()).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Removes the lock with this ID, answering what it held. Unless told `Unlock::Anyway`, a
    /// lock whose holder still runs on this host is refused.
    pub fn force_unlock(&self, id: &str, how: Unlock) -> Result<LockInfo, StateError> {
        let mut removed = None;
        let check = |held: Option<&LockInfo>| match held {
            Some(h) if h.id == id => {
                if how == Unlock::UnlessRunning && h.holder() == Holder::Running {
                    return Err(StateError::HolderRunning { holder: Box::new(h.clone()) });
                }
                removed = Some(h.clone());
                Ok(true)
            }
            found => Err(StateError::LockMismatch { expected: id.to_string(), found: found.cloned().map(Box::new) }),
        };
        replace_lock_if(&self.lock_path(), check, None)?;
        removed.ok_or_else(|| StateError::LockMismatch { expected: id.to_string(), found: None })
    }
}

/// Creates the lock file (mode 0600) holding `info`; `false` when one exists already. It is
/// written in full under a name of its own and linked into place, so a run killed at any
/// moment never leaves a lock file without its holder: such a file could be neither waited
/// for, taken over nor force-unlocked.
fn create_lock(path: &Path, info: &LockInfo) -> Result<bool, StateError> {
    let ours = sibling(path, &format!(".{}.tmp", info.id));
    write_lock_file(&ours, info)?;
    let linked = fs::hard_link(&ours, path);
    let _ = fs::remove_file(&ours);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        // A file system without hard links: create it in place (a kill between creating and
        // writing it can then leave it empty).
        Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EOPNOTSUPP | libc::ENOSYS | libc::EXDEV)) => create_lock_in_place(path, info),
        Err(e) => Err(io(path, "creating lock")(e)),
    }
}

/// Writes `info` to a new file of this process's own (mode 0600), synced.
fn write_lock_file(path: &Path, info: &LockInfo) -> Result<(), StateError> {
    let mut f = create_private(path)?;
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| {
        let _ = fs::remove_file(path);
        io(path, "writing")(e)
    })
}

fn create_lock_in_place(path: &Path, info: &LockInfo) -> Result<bool, StateError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io(path, "creating lock")(e)),
    };
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    let written = {
        use std::os::unix::fs::PermissionsExt;
        // The mode given to open is narrowed by the umask; say 0600 exactly, as for the state.
        f.set_permissions(fs::Permissions::from_mode(0o600)).and_then(|_| f.write_all(&body)).and_then(|_| f.sync_all())
    };
    if let Err(e) = written {
        // A lock file without its holder could be neither waited for nor force-unlocked.
        let _ = fs::remove_file(path);
        return Err(io(path, "writing")(e));
    }
    Ok(true)
}

/// When `check` (given what the lock file holds, `None` when there is none or it cannot be
/// read) says so, renames `replacement` over the lock file, or removes it when there is no
/// replacement; answers whether it did. Whoever replaces or removes a lock file (a takeover,
/// force-unlock, a guard dropped) holds an flock on it and checks, under that flock, that the
/// path still names the file it locked: of two runs that both saw the same stale lock, the
/// second finds the first one's lock in its place and leaves it.
fn replace_lock_if(path: &Path, check: impl FnOnce(Option<&LockInfo>) -> Result<bool, StateError>, replacement: Option<&Path>) -> Result<bool, StateError> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsRawFd;
    // The file changes under us only when another run replaces it; bound the retries anyway.
    for _ in 0..16 {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return check(None).map(|_| false),
            Err(e) => return Err(io(path, "opening")(e)),
        };
        // Released when `file` is closed, at the end of this iteration.
        while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(io(path, "locking")(e));
            }
        }
        let locked = file.metadata().map_err(io(path, "reading"))?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == locked.dev() && now.ino() == locked.ino() => {}
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(path, "reading")(e)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(path, "reading"))?;
        let held = serde_json::from_slice::<LockInfo>(&bytes).ok();
        if !check(held.as_ref())? {
            return Ok(false);
        }
        return match replacement {
            Some(new) => fs::rename(new, path).map(|_| true).map_err(io(path, "renaming to")),
            None => fs::remove_file(path).map(|_| true).map_err(io(path, "removing")),
        };
    }
    Ok(false)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn create_private(path: &Path) -> Result<File, StateError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(path).map_err(io(path, "creating"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io(path, "setting permissions on"))?;
    }
    Ok(f)
}

fn sync_file(path: &Path) -> Result<(), StateError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(io(path, "syncing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_private_keeps_backup_and_bumps_nothing_itself() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        assert!(b.read().unwrap().is_none());
        let mut s = StateFile::new();
        b.write(&s).unwrap();
        s.serial = 1;
        b.write(&s).unwrap();
        assert_eq!(b.read().unwrap().unwrap().serial, 1);
        let backup = StateFile::from_slice(&fs::read(b.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 0);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&b.path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn corrupt_and_future_state_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        fs::write(&b.path, "{ not json").unwrap();
        assert!(matches!(b.read(), Err(StateError::Corrupt { .. })));
        fs::write(&b.path, r#"{"format_version": 99, "serial": 1, "lineage": "x"}"#).unwrap();
        let err = b.read().unwrap_err().to_string();
        assert!(err.contains("format_version 99"), "{err}");
    }

    #[test]
    fn second_lock_fails_naming_the_holder_and_force_unlock_needs_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let guard = b.lock("apply", Duration::ZERO).unwrap();
        let err = b.lock("plan", Duration::from_millis(300)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&guard.info.id) && text.contains("apply"), "{text}");
        assert!(b.force_unlock("wrong-id", Unlock::Anyway).is_err());
        b.force_unlock(&guard.info.id, Unlock::Anyway).unwrap();
        drop(guard);
        b.lock("plan", Duration::ZERO).unwrap();
    }

    #[test]
    fn lock_timeout_waits_for_the_holder_to_finish() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let held = b.lock("apply", Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        let waited = b.lock("plan", Duration::from_secs(10));
        releaser.join().unwrap();
        assert!(waited.is_ok(), "the second run gets the lock once the first releases it: {waited:?}");
    }

    /// A lock file as another run would have left it.
    fn plant_lock(b: &LocalBackend, pid: u32, who: &str) -> LockInfo {
        let info = LockInfo { pid, who: who.to_string(), ..LockInfo::new("apply", &b.path) };
        fs::write(b.lock_path(), serde_json::to_vec(&info).unwrap()).unwrap();
        info
    }

    fn this_host() -> String {
        format!("someone@{}", hostname().unwrap())
    }

    /// The pid of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_lock_whose_process_is_gone_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let stale = plant_lock(&b, dead_pid(), &this_host());
        assert_eq!(stale.holder(), Holder::Gone);
        let guard = b.lock("plan", Duration::ZERO).unwrap();
        assert_eq!(guard.took_over.as_ref().map(|t| &t.id), Some(&stale.id));
        assert_eq!(b.lock_holder().map(|h| h.id), Some(guard.info.id.clone()));
        assert_eq!(guard.info.pid, std::process::id());
        drop(guard);
        assert!(!b.lock_path().exists(), "the lock taken over is released like any other");
    }

    #[test]
    fn a_lock_whose_process_runs_is_not_taken_over_nor_force_unlocked_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let live = plant_lock(&b, std::process::id(), &this_host());
        assert_eq!(live.holder(), Holder::Running);
        let err = b.lock("plan", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(&err, StateError::Locked { holder, .. } if holder.id == live.id), "{err}");
        assert!(err.to_string().contains("still running on this host"), "{err}");
        let refused = b.force_unlock(&live.id, Unlock::UnlessRunning).unwrap_err();
        assert!(matches!(&refused, StateError::HolderRunning { .. }), "{refused}");
        assert!(refused.to_string().contains(&format!("force-unlock -force {}", live.id)), "{refused}");
        assert_eq!(b.lock_holder().map(|h| h.id), Some(live.id.clone()), "a refused force-unlock leaves the lock");
        assert_eq!(b.force_unlock(&live.id, Unlock::Anyway).unwrap().id, live.id);
        assert!(!b.lock_path().exists());
    }

    #[test]
    fn a_lock_from_another_host_is_not_taken_over_even_if_its_pid_is_free_here() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let elsewhere = plant_lock(&b, dead_pid(), "alice@some-other-host.invalid");
        assert_eq!(elsewhere.holder(), Holder::Unknown);
        let err = b.lock("plan", Duration::ZERO).unwrap_err();
        assert!(matches!(&err, StateError::Locked { holder, .. } if holder.id == elsewhere.id), "{err}");
        // Nothing here can tell whether it runs, so force-unlock needs only the ID.
        b.force_unlock(&elsewhere.id, Unlock::UnlessRunning).unwrap();
        assert!(b.lock("plan", Duration::ZERO).unwrap().took_over.is_none());
    }

    #[test]
    fn a_stale_lock_is_taken_over_by_exactly_one_of_many_racing_runs() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        for _ in 0..20 {
            let stale = plant_lock(&b, dead_pid(), &this_host());
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let racers: Vec<_> = (0..8)
                .map(|_| {
                    let (b, barrier) = (b.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        b.try_lock("apply").unwrap()
                    })
                })
                .collect();
            let guards: Vec<LockGuard> = racers.into_iter().filter_map(|r| r.join().unwrap()).collect();
            assert_eq!(guards.len(), 1, "one run takes the stale lock over, the others find it held");
            assert_eq!(guards[0].took_over.as_ref().map(|t| &t.id), Some(&stale.id));
            assert_eq!(b.lock_holder().map(|h| h.id), Some(guards[0].info.id.clone()));
            drop(guards);
            assert!(!b.lock_path().exists());
        }
    }

    #[test]
    fn taking_and_taking_over_the_lock_leaves_no_other_file() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let files = || fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<Vec<_>>();
        let guard = b.lock("apply", Duration::ZERO).unwrap();
        assert_eq!(files(), ["infra.tfstate.lock.info"]);
        assert!(b.try_lock("plan").unwrap().is_none());
        assert_eq!(files(), ["infra.tfstate.lock.info"]);
        drop(guard);
        plant_lock(&b, dead_pid(), &this_host());
        let guard = b.lock("apply", Duration::ZERO).unwrap();
        assert!(guard.took_over.is_some());
        assert_eq!(files(), ["infra.tfstate.lock.info"]);
        drop(guard);
        assert!(files().is_empty());
    }

    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("infra.tfstate"));
        let _guard = b.lock("apply", Duration::ZERO).unwrap();
        assert_eq!(fs::metadata(b.lock_path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
