//! What the emulator remembers, in `DATA_DIR/state.json` (written whole, atomically, after
//! every change): instances as the API shows them plus what only the emulator needs (the
//! loopback address, the admin password), operations, and the names of deleted instances,
//! which Cloud SQL does not let anyone reuse for a week.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How long a deleted instance's name stays reserved.
pub const NAME_REUSE_SECS: u64 = 7 * 24 * 3600;

#[derive(Serialize, Deserialize, Default)]
pub struct Store {
    /// Keyed by `project/name`.
    pub instances: BTreeMap<String, Instance>,
    /// Oldest first.
    pub operations: Vec<Operation>,
    /// `project/name` → when it was deleted (seconds since the epoch).
    pub deleted: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Instance {
    pub project: String,
    pub name: String,
    /// The `DatabaseInstance` as `instances.get` shows it.
    pub resource: Value,
    /// The loopback address the server listens on (port `Store`'s `pg_port`).
    pub address: String,
    pub admin_password: String,
    /// The operation now running on this instance, if any.
    #[serde(default)]
    pub busy: Option<String>,
    /// What the API was told about databases and users that PostgreSQL does not keep as
    /// given: database name → (charset, collation); user name → type.
    #[serde(default)]
    pub databases: BTreeMap<String, (String, String)>,
    #[serde(default)]
    pub user_types: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Operation {
    pub project: String,
    /// The instance it targets.
    pub instance: String,
    /// The `Operation` as `operations.get` shows it.
    pub resource: Value,
}

pub fn key(project: &str, name: &str) -> String {
    format!("{project}/{name}")
}

impl Store {
    pub fn load(dir: &Path) -> Result<Store, String> {
        let path = state_path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("cannot read {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let path = state_path(dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| format!("cannot encode the state: {e}"))?;
        // It holds each server's admin password: readable by the emulator's user only.
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
    }

    pub fn operation_mut(&mut self, project: &str, name: &str) -> Option<&mut Operation> {
        self.operations.iter_mut().find(|o| o.project == project && o.resource["name"] == name)
    }

    /// Forgets deleted names older than a week and keeps the newest 2000 operations.
    pub fn prune(&mut self, now: u64) {
        self.deleted.retain(|_, at| now.saturating_sub(*at) < NAME_REUSE_SECS);
        let excess = self.operations.len().saturating_sub(2000);
        self.operations.drain(..excess);
    }
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Where an instance's PostgreSQL data lives.
pub fn pgdata(dir: &Path, project: &str, name: &str) -> PathBuf {
    instance_dir(dir, project, name).join("pgdata")
}

pub fn instance_dir(dir: &Path, project: &str, name: &str) -> PathBuf {
    dir.join("instances").join(project).join(name)
}
