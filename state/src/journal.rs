//! The write-ahead journal of an apply: one JSON record per line, appended and fsynced as each
//! object finishes, so durability costs the size of the object, not of the whole state. The
//! full state is written at the start and end of an apply; a journal left behind by a killed
//! apply is replayed by the next read.

use crate::schema::{InstanceState, PendingCreate, ResourceState, StateFile};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum JournalRecord {
    /// First line: the state the records apply to.
    Header {
        lineage: String,
        base_serial: u64,
    },
    Upsert {
        #[serde(default)]
        module: String,
        mode: String,
        #[serde(rename = "type")]
        type_name: String,
        name: String,
        provider: String,
        instance: InstanceState,
    },
    Remove {
        #[serde(default)]
        module: String,
        mode: String,
        #[serde(rename = "type")]
        type_name: String,
        name: String,
        #[serde(default)]
        index_key: Option<serde_json::Value>,
    },
    PendingAdd {
        pending: PendingCreate,
    },
    PendingRemove {
        idempotency_token: String,
    },
}

pub struct Journal {
    file: File,
    pub path: PathBuf,
    /// Seals each line on its own (the state's encryption), so a line is durable alone.
    crypt: Option<std::sync::Arc<crate::encryption::Target>>,
}

impl Journal {
    /// Starts a journal for `base` (which must already be durable on disk).
    pub fn create(path: &Path, base: &StateFile) -> std::io::Result<Journal> {
        Journal::create_sealed(path, base, None)
    }

    /// [`Journal::create`], each line sealed by `crypt`.
    pub fn create_sealed(path: &Path, base: &StateFile, crypt: Option<std::sync::Arc<crate::encryption::Target>>) -> std::io::Result<Journal> {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut j = Journal { file: opts.open(path)?, path: path.to_path_buf(), crypt };
        j.append(&JournalRecord::Header { lineage: base.lineage.clone(), base_serial: base.serial })?;
        j.sync()?;
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(j)
    }

    /// Appends a record (not yet durable: call [`Journal::sync`]).
    pub fn append(&mut self, rec: &JournalRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
        if let Some(c) = &self.crypt {
            line = c.seal(&line).map_err(std::io::Error::other)?;
        }
        line.push(b'\n');
        self.file.write_all(&line)
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// Applies a journal's records to the state they were written against. Returns `None` when the
/// journal was written against an older serial of the same state (its records are already in
/// it). A journal of another lineage is an error: replaying it would mix two states, and
/// ignoring it could lose objects it records. A torn last line, from a crash mid-append, is
/// ignored.
pub fn replay(state: Option<StateFile>, text: &str) -> Result<Option<StateFile>, String> {
    let mut lines = text.lines().peekable();
    let Some(first) = lines.next() else { return Ok(None) };
    let JournalRecord::Header { lineage, base_serial } = serde_json::from_str(first).map_err(|e| format!("its first line is not a journal header ({e})"))?
    else {
        return Err("its first line is not a journal header".into());
    };
    let mut state = match state {
        Some(s) if s.lineage != lineage => {
            return Err(format!("it belongs to the state with lineage {lineage:?}, and the state file has lineage {:?}", s.lineage))
        }
        Some(s) if s.serial == base_serial => s,
        Some(_) => return Ok(None),
        None => {
            let mut s = StateFile::new();
            s.lineage = lineage;
            s.serial = base_serial;
            s
        }
    };
    while let Some(line) = lines.next() {
        let rec: JournalRecord = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(_) if lines.peek().is_none() => break,
            Err(e) => return Err(format!("a record in the middle of it is broken ({e})")),
        };
        apply_record(&mut state, rec);
    }
    state.serial = base_serial + 1;
    Ok(Some(state))
}

fn apply_record(state: &mut StateFile, rec: JournalRecord) {
    let find =
        |rs: &ResourceState, module: &str, mode: &str, ty: &str, name: &str| rs.module == module && rs.mode == mode && rs.type_name == ty && rs.name == name;
    match rec {
        JournalRecord::Header { .. } => {}
        JournalRecord::Upsert { module, mode, type_name, name, provider, instance } => {
            let idx = match state.resources.iter().position(|r| find(r, &module, &mode, &type_name, &name)) {
                Some(i) => i,
                None => {
                    state.resources.push(ResourceState { module, mode, type_name, name, provider: provider.clone(), instances: Vec::new() });
                    state.resources.len() - 1
                }
            };
            let r = &mut state.resources[idx];
            r.provider = provider;
            match r.instances.iter_mut().find(|i| i.index_key == instance.index_key) {
                Some(slot) => *slot = instance,
                None => r.instances.push(instance),
            }
        }
        JournalRecord::Remove { module, mode, type_name, name, index_key } => {
            for r in state.resources.iter_mut().filter(|r| find(r, &module, &mode, &type_name, &name)) {
                r.instances.retain(|i| i.index_key != index_key);
            }
            state.resources.retain(|r| !r.instances.is_empty());
        }
        JournalRecord::PendingAdd { pending } => state.pending.push(pending),
        JournalRecord::PendingRemove { idempotency_token } => state.pending.retain(|p| p.idempotency_token != idempotency_token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(v: i64) -> InstanceState {
        InstanceState {
            index_key: None,
            attributes: serde_json::json!({"v": v}).into(),
            sensitive_attributes: vec![],
            dependencies: vec![],
            create_before_destroy: false,
            deposed: vec![],
        }
    }

    #[test]
    fn replay_applies_records_and_ignores_a_torn_last_line() {
        let base = StateFile::new();
        let header = serde_json::to_string(&JournalRecord::Header { lineage: base.lineage.clone(), base_serial: base.serial }).unwrap();
        let up = |v| {
            serde_json::to_string(&JournalRecord::Upsert {
                module: String::new(),
                mode: "managed".into(),
                type_name: "t".into(),
                name: "a".into(),
                provider: "p".into(),
                instance: inst(v),
            })
            .unwrap()
        };
        let text = format!("{header}\n{}\n{}\n{{\"op\":\"ups", up(1), up(2));
        let s = replay(Some(base.clone()), &text).unwrap().unwrap();
        assert_eq!(s.resources.len(), 1);
        assert_eq!(s.resources[0].instances[0].attributes.value()["v"], 2);
        assert_eq!(s.serial, base.serial + 1);
    }

    #[test]
    fn a_journal_of_an_older_serial_is_ignored() {
        let mut base = StateFile::new();
        base.serial = 5;
        let header = serde_json::to_string(&JournalRecord::Header { lineage: base.lineage.clone(), base_serial: 4 }).unwrap();
        assert!(replay(Some(base), &format!("{header}\n")).unwrap().is_none());
    }

    #[test]
    fn a_journal_of_another_lineage_is_refused_not_ignored() {
        let base = StateFile::new();
        let header = serde_json::to_string(&JournalRecord::Header { lineage: "someone-else".into(), base_serial: base.serial }).unwrap();
        let err = replay(Some(base), &format!("{header}\n")).unwrap_err();
        assert!(err.contains("lineage \"someone-else\""), "{err}");
    }
}
