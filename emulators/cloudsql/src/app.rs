//! The emulator's shared state: the store behind one lock, the PostgreSQL binaries, the
//! options, and the loopback addresses handed to instances.

use crate::pg::Postgres;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub struct App {
    pub data_dir: PathBuf,
    pub pg: Postgres,
    /// The port every instance's server listens on, each on its own address.
    pub pg_port: u16,
    /// How long an operation takes from PENDING to DONE.
    pub op_delay: Duration,
    store: Mutex<Store>,
    pub shutting_down: AtomicBool,
    /// Operations whose work (processes, SQL) is running now: shutdown waits for them, so no
    /// server starts after every server was stopped.
    pub working: AtomicUsize,
}

impl App {
    pub fn new(data_dir: PathBuf, pg: Postgres, pg_port: u16, op_delay: Duration, store: Store) -> App {
        App { data_dir, pg, pg_port, op_delay, store: Mutex::new(store), shutting_down: AtomicBool::new(false), working: AtomicUsize::new(0) }
    }

    /// The store; a panic elsewhere while holding it leaves it usable (every change is whole).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the store; a failure is reported, not fatal (the state in memory stays right).
    pub fn save(&self, store: &Store) {
        if let Err(e) = store.save(&self.data_dir) {
            eprintln!("cloudsql-emulator: {e}");
        }
    }

    /// Starts an instance's server on its address; when another process took that address
    /// (another emulator on this machine), on a new one, recorded in the store and in the
    /// instance's `ipAddresses`. Returns the address.
    pub fn start_server(&self, project: &str, name: &str, address: &str) -> Result<String, String> {
        let pgdata = crate::store::pgdata(&self.data_dir, project, name);
        let mut address = address.to_string();
        for _attempt in 0..5 {
            match self.pg.start(&pgdata, &address, self.pg_port) {
                Ok(()) => return Ok(address),
                Err(e) if e.contains("could not bind") || e.contains("already in use") => {
                    let mut store = self.store();
                    let Some(next) = self.free_address(&store) else { return Err(e) };
                    if let Some(inst) = store.instances.get_mut(&crate::store::key(project, name)) {
                        inst.address = next.clone();
                        if let Some(ip) = inst.resource["ipAddresses"].get_mut(0) {
                            ip["ipAddress"] = serde_json::json!(next);
                        }
                    }
                    self.save(&store);
                    address = next;
                }
                Err(e) => return Err(e),
            }
        }
        Err(format!("no loopback address could be bound for instance {name}"))
    }

    /// A loopback address (127.0.0.2 to 127.0.0.254) where nothing listens on the PostgreSQL
    /// port and no instance of this emulator is placed. Several emulators on one machine
    /// start their search at different points (by pid) so they rarely race for one address.
    pub fn free_address(&self, store: &Store) -> Option<String> {
        let start = std::process::id() as usize % 253;
        (0..253)
            .map(|i| format!("127.0.0.{}", 2 + (start + i) % 253))
            .filter(|a| !store.instances.values().any(|inst| &inst.address == a))
            .find(|a| std::net::TcpListener::bind((a.as_str(), self.pg_port)).is_ok())
    }
}
