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
    Locked {
        path: PathBuf,
        holder: LockInfo,
    },
    LockMismatch {
        expected: String,
        found: Option<LockInfo>,
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
                if holder.is_stale() {
                    write!(
                        f,
                        ", and that process is no longer running on this host. If it was killed, check the state, then run `infra force-unlock {}`",
                        holder.id
                    )
                } else {
                    write!(f, ". Wait for it to finish, use --lock-timeout, or run `infra force-unlock {}` if that process is gone", holder.id)
                }
            }
            StateError::LockMismatch { expected, found: Some(h) } => {
                write!(f, "the lock ID {expected} does not match the current lock {} held by {}", h.id, h.who)
            }
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
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

impl LockInfo {
    /// True when the holder ran on this host and its process is gone.
    pub fn is_stale(&self) -> bool {
        let same_host = self.who.rsplit_once('@').is_some_and(|(_, h)| h == hostname());
        same_host && self.pid != 0 && !Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    pub fn new(operation: &str, path: &Path) -> LockInfo {
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        let host = hostname();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            path: path.display().to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct LocalBackend {
    pub path: PathBuf,
}

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    lock_path: PathBuf,
    pub info: LockInfo,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours (force-unlock may have replaced it).
        if let Ok(bytes) = fs::read(&self.lock_path) {
            if serde_json::from_slice::<LockInfo>(&bytes).map(|l| l.id == self.info.id).unwrap_or(false) {
                let _ = fs::remove_file(&self.lock_path);
            }
        }
    }
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io { path: path.to_path_buf(), op, source }
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend { path: path.into() }
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
        let journal = match fs::read_to_string(self.journal_path()) {
            Ok(t) => t,
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
        StateFile::from_slice(&bytes).map(Some).map_err(|reason| StateError::Corrupt { path: self.path.clone(), reason })
    }

    /// Starts the journal of an apply on top of `base`, which this writes in full first.
    pub fn begin_journal(&self, base: &StateFile) -> Result<crate::Journal, StateError> {
        self.write(base)?;
        crate::Journal::create(&self.journal_path(), base).map_err(io(&self.journal_path(), "creating"))
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
        fs::create_dir_all(dir).map_err(io(dir, "creating directory"))?;
        if self.path.exists() {
            let backup = self.backup_path();
            let tmp_backup = sibling(&backup, &format!(".tmp{}", std::process::id()));
            fs::copy(&self.path, &tmp_backup).map_err(io(&tmp_backup, "writing"))?;
            sync_file(&tmp_backup)?;
            fs::rename(&tmp_backup, &backup).map_err(io(&backup, "renaming to"))?;
        }
        let tmp = sibling(&self.path, &format!(".tmp{}", std::process::id()));
        {
            let mut f = std::io::BufWriter::with_capacity(1 << 16, create_private(&tmp)?);
            state.write_to(&mut f).and_then(|_| f.flush()).map_err(io(&tmp, "writing"))?;
            let f = f.into_inner().map_err(|e| io(&tmp, "writing")(e.into_error()))?;
            f.sync_all().map_err(io(&tmp, "syncing"))?;
        }
        fs::rename(&tmp, &self.path).map_err(io(&self.path, "renaming to"))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir, "syncing directory"))?;
        Ok(())
    }

    /// Takes the lock, waiting up to `timeout` for another holder to release it.
    pub fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError> {
        let lock_path = self.lock_path();
        if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io(dir, "creating directory"))?;
        }
        let info = LockInfo::new(operation, &self.path);
        let deadline = Instant::now() + timeout;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&lock_path) {
                Ok(mut f) => {
                    let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
                    f.write_all(&body).and_then(|_| f.sync_all()).map_err(io(&lock_path, "writing"))?;
                    return Ok(LockGuard { lock_path, info });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if Instant::now() >= deadline {
                        let holder = self.lock_holder().unwrap_or_else(|| LockInfo {
                            id: "unknown".into(),
                            operation: "unknown".into(),
                            who: "unknown".into(),
                            pid: 0,
                            version: String::new(),
                            created: String::new(),
                            path: String::new(),
                        });
                        return Err(StateError::Locked { path: self.path.clone(), holder });
                    }
                    std::thread::sleep(Duration::from_millis(200).min(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))));
                }
                Err(e) => return Err(io(&lock_path, "creating lock")(e)),
            }
        }
    }

    pub fn lock_holder(&self) -> Option<LockInfo> {
        fs::read(self.lock_path()).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Removes a lock left by a process that is gone, if its ID matches.
    pub fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        match self.lock_holder() {
            Some(h) if h.id == id => fs::remove_file(self.lock_path()).map_err(io(&self.lock_path(), "removing")),
            found => Err(StateError::LockMismatch { expected: id.to_string(), found }),
        }
    }
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
        assert!(b.force_unlock("wrong-id").is_err());
        b.force_unlock(&guard.info.id).unwrap();
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
}
