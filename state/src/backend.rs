//! What every backend does, local or remote: read and conditionally write the state, take,
//! renew and release the lock, journal an apply, list the state's versions. The CLI and the
//! engine hold an `Arc<dyn Backend>` and never know which one they have.
//!
//! Bytes: every remote backend turns a state into bytes with [`state_bytes`] and back with
//! [`state_from_bytes`], and a journal segment with [`segment_bytes`] / [`segment_text`]; these
//! are the one place a layer over the bytes (encryption) goes.

use crate::journal::JournalRecord;
use crate::local::{Holder, LocalBackend, LockGuard, LockInfo, StateError, Unlock};
use crate::schema::StateFile;
use std::time::{Duration, Instant};

pub use chrono::{DateTime, Utc};

/// The bytes a backend stores for `state`.
pub fn state_bytes(state: &StateFile) -> Vec<u8> {
    state.to_bytes()
}

/// The state stored as `bytes`.
pub fn state_from_bytes(bytes: &[u8]) -> Result<StateFile, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("it is empty".into());
    }
    StateFile::from_slice(bytes)
}

/// The bytes of a journal segment holding `records` (one JSON line each).
pub fn segment_bytes(records: &[JournalRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        // A record is plain data: serializing it cannot fail.
        out.extend(serde_json::to_vec(r).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// The journal lines a segment's bytes hold.
pub fn segment_text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| format!("a journal segment is not text ({e})"))
}

/// One stored version of the state (S3 object versions; the local backend keeps one backup).
#[derive(Clone, Debug, PartialEq)]
pub struct StateVersion {
    pub id: String,
    pub modified: String,
    pub size: u64,
    pub latest: bool,
    /// Read from the version itself when asked for (`serial`, `lineage`), else `None`.
    pub serial: Option<u64>,
    pub lineage: Option<String>,
    /// Who wrote it: the backend records the lock holder in the object's metadata.
    pub who: Option<String>,
}

/// The apply's write-ahead journal, as the engine sees it.
pub trait JournalSink: Send {
    /// Records a change (not yet durable).
    fn append(&mut self, rec: &JournalRecord) -> std::io::Result<()>;
    /// Makes every appended record durable.
    fn sync(&mut self) -> std::io::Result<()>;
}

impl JournalSink for crate::Journal {
    fn append(&mut self, rec: &JournalRecord) -> std::io::Result<()> {
        crate::Journal::append(self, rec)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        crate::Journal::sync(self)
    }
}

/// A held lock: released (if still ours) when dropped.
pub struct Lock {
    pub info: LockInfo,
    /// The stale lock this one replaced.
    pub took_over: Option<LockInfo>,
    /// Dropped to release the lock (and stop its heartbeat).
    pub release: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock").field("info", &self.info).field("took_over", &self.took_over).finish()
    }
}

/// How a run may take a lock over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockOptions {
    /// `--force-stale`: take over a lock whose lease expired, whatever `lock_stale_after` says.
    pub force_stale: bool,
}

pub trait Backend: Send + Sync {
    /// Where the state lives, for messages: a path, or `s3://bucket/key`.
    fn location(&self) -> String;
    /// The state with any journal of an interrupted apply replayed on top; `None` when there is none.
    fn read(&self) -> Result<Option<StateFile>, StateError>;
    /// Writes the state in full. A remote backend writes conditionally on what it last read or
    /// wrote, so a writer that lost a race fails instead of overwriting.
    fn write(&self, state: &StateFile) -> Result<(), StateError>;
    /// One attempt at the lock; `Ok(None)` while someone else holds it.
    fn try_lock(&self, operation: &str, opts: LockOptions) -> Result<Option<Lock>, StateError>;
    fn lock_holder(&self) -> Result<Option<LockInfo>, StateError>;
    fn force_unlock(&self, id: &str, how: Unlock) -> Result<LockInfo, StateError>;
    /// The locks held on every workspace's state of this backend.
    fn locks(&self) -> Result<Vec<LockInfo>, StateError>;
    /// Writes `base` in full and starts the journal of an apply on top of it.
    fn begin_journal(&self, base: &StateFile) -> Result<Box<dyn JournalSink>, StateError>;
    /// Writes the final state and drops the journal it now contains.
    fn finish_journal(&self, state: &StateFile) -> Result<(), StateError>;
    /// Stored versions of the state, newest first.
    fn versions(&self) -> Result<Vec<StateVersion>, StateError>;
    fn read_version(&self, id: &str) -> Result<StateFile, StateError>;
    /// Why a held lock is not taken: `Some(message)` when it is stale and could be taken over.
    fn stale_reason(&self, _holder: &LockInfo) -> Option<String> {
        None
    }
}

/// Takes the lock, retrying until `timeout` passes. A lock that stays held ends in
/// [`StateError::Locked`] naming its holder (and saying when it is stale).
pub fn lock_with<T>(backend: &dyn Backend, timeout: Duration, mut attempt: impl FnMut() -> Result<Option<T>, StateError>) -> Result<T, StateError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(taken) = attempt()? {
            return Ok(taken);
        }
        if Instant::now() >= deadline {
            let holder = backend.lock_holder()?.unwrap_or_else(LockInfo::unknown);
            if let Some(reason) = backend.stale_reason(&holder) {
                return Err(StateError::Stale { location: backend.location(), holder: Box::new(holder), reason });
            }
            return Err(StateError::Locked { path: backend.location().into(), holder: Box::new(holder) });
        }
        std::thread::sleep(Duration::from_millis(200).min(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))));
    }
}

impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }
    fn read(&self) -> Result<Option<StateFile>, StateError> {
        LocalBackend::read(self)
    }
    fn write(&self, state: &StateFile) -> Result<(), StateError> {
        LocalBackend::write(self, state)
    }
    fn try_lock(&self, operation: &str, _opts: LockOptions) -> Result<Option<Lock>, StateError> {
        Ok(LocalBackend::try_lock(self, operation)?.map(|g: LockGuard| Lock { info: g.info.clone(), took_over: g.took_over.clone(), release: Box::new(g) }))
    }
    fn lock_holder(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(LocalBackend::lock_holder(self))
    }
    fn force_unlock(&self, id: &str, how: Unlock) -> Result<LockInfo, StateError> {
        LocalBackend::force_unlock(self, id, how)
    }
    fn locks(&self) -> Result<Vec<LockInfo>, StateError> {
        Ok(LocalBackend::lock_holder(self).into_iter().collect())
    }
    fn begin_journal(&self, base: &StateFile) -> Result<Box<dyn JournalSink>, StateError> {
        Ok(Box::new(LocalBackend::begin_journal(self, base)?))
    }
    fn finish_journal(&self, state: &StateFile) -> Result<(), StateError> {
        LocalBackend::finish_journal(self, state)
    }
    fn versions(&self) -> Result<Vec<StateVersion>, StateError> {
        let mut out = Vec::new();
        for (id, path, latest) in [("current", self.path.clone(), true), ("backup", self.backup_path(), false)] {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let s = std::fs::read(&path).ok().and_then(|b| state_from_bytes(&b).ok());
            let modified = meta.modified().ok().map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            out.push(StateVersion {
                id: id.into(),
                modified: modified.unwrap_or_default(),
                size: meta.len(),
                latest,
                serial: s.as_ref().map(|s| s.serial),
                lineage: s.map(|s| s.lineage),
                who: None,
            });
        }
        Ok(out)
    }
    fn read_version(&self, id: &str) -> Result<StateFile, StateError> {
        let path = match id {
            "current" => self.path.clone(),
            "backup" => self.backup_path(),
            _ => return Err(StateError::NoVersion { location: self.location(), id: id.into(), known: "current, backup".into() }),
        };
        let bytes = std::fs::read(&path).map_err(|source| StateError::Io { path: path.clone(), op: "reading", source })?;
        state_from_bytes(&bytes).map_err(|reason| StateError::Corrupt { path, reason })
    }
    fn stale_reason(&self, holder: &LockInfo) -> Option<String> {
        (holder.holder() == Holder::Gone).then(|| "its process is no longer running on this host".into())
    }
}

impl From<LocalBackend> for std::sync::Arc<dyn Backend> {
    fn from(b: LocalBackend) -> Self {
        std::sync::Arc::new(b)
    }
}
