//! SIGINT and SIGTERM for the commands that take the state lock (plan, apply, destroy). The
//! handlers are installed before the lock is taken, and the lock is taken under the mutex the
//! handler takes, so no signal can end the process between taking the lock and releasing it.
//! Before an apply starts, a signal releases the lock and exits (nothing was changed); during
//! an apply, the first stops scheduling and lets in-flight operations finish, the second exits
//! at once, leaving the lock to be taken over as stale by the next run.

use crate::ops;
use infra_state::{Lock, LockInfo, LockOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::signal::unix::{signal, Signal, SignalKind};

pub struct Interrupts {
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    /// Written only under this mutex, and read by the handler under it.
    held: Mutex<Held>,
    /// Set by the first signal of an apply; the engine starts nothing new once it is.
    cancel: Arc<AtomicBool>,
}

#[derive(Default)]
struct Held {
    lock: Option<Lock>,
    applying: bool,
}

impl Interrupts {
    /// Installs the handlers; from here on SIGINT and SIGTERM no longer kill the process
    /// outright. Where signals cannot be watched, they keep their default action.
    pub fn install(rt: &tokio::runtime::Runtime) -> Interrupts {
        let shared = Arc::new(Shared::default());
        let streams = rt.block_on(async { (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) });
        let task = match streams {
            (Ok(int), Ok(term)) => Some(rt.spawn(handle(int, term, shared.clone()))),
            _ => None,
        };
        Interrupts { shared, task }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.shared.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the state lock for `op`, waiting up to `lock_timeout` (as the user spelled it), and
    /// keeps it until this is dropped. Answers the stale lock it took over, if any.
    pub fn lock(&self, backend: &ops::stack::StateBackend, op: &str, lock_timeout: &str, opts: LockOptions) -> ops::Result<Option<LockInfo>> {
        let timeout = ops::stack::lock_timeout_of(lock_timeout)?;
        infra_state::lock_with(&**backend, timeout, || {
            // Each attempt holds the mutex: the handler sees either no lock file of ours or
            // the guard that removes it.
            let mut held = self.held();
            Ok(backend.try_lock(op, opts)?.map(|guard| {
                let took_over = guard.took_over.clone();
                held.lock = Some(guard);
                took_over
            }))
        })
        .map_err(ops::stack::lock_error)
    }

    /// The apply starts: from now on a signal asks it to stop (the returned flag) instead of
    /// ending the process.
    pub fn start_apply(&self) -> Arc<AtomicBool> {
        self.held().applying = true;
        self.shared.cancel.clone()
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        drop(self.held().lock.take());
    }
}

/// One receiver per signal for the whole run: a fresh `ctrl_c()` only sees signals sent after
/// it is first polled, and an interrupt sent right after the first message was lost that way
/// (found by the signals test hanging in CI).
async fn handle(mut int: Signal, mut term: Signal, shared: Arc<Shared>) {
    let mut during_apply = 0;
    loop {
        let (name, code) = tokio::select! {
            Some(()) = int.recv() => ("Interrupt", 130),
            Some(()) = term.recv() => ("SIGTERM", 143),
            else => return,
        };
        let mut held = shared.held.lock().unwrap_or_else(PoisonError::into_inner);
        if !held.applying {
            // Nothing has been changed yet: release the lock (dropping the guard removes the
            // lock file) and stop now.
            let released = held.lock.take().is_some();
            if released {
                notice(&format!("{name} received before any change was made: the state lock is released. Exiting."));
            } else {
                notice(&format!("{name} received before any change was made. Exiting."));
            }
            std::process::exit(code);
        }
        drop(held);
        during_apply += 1;
        if during_apply == 1 {
            shared.cancel.store(true, Ordering::SeqCst);
            notice(&format!("{name} received. Waiting for in-flight operations to finish; nothing new will start. Interrupt again to stop at once."));
        } else {
            // State writes are atomic renames and each finished object is in the journal, so
            // the files on disk are whole. The lock stays: another run could otherwise read the
            // journal while this process still appends to it; the next run takes it over.
            notice("Two interrupts received. Exiting immediately.");
            std::process::exit(code);
        }
    }
}

/// One line to stderr in one write: stderr is unbuffered, and a notice formatted in pieces
/// would be cut by progress lines written to stdout meanwhile (both go to one terminal).
fn notice(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
}
