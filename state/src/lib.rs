//! State: what infra knows exists. The versioned on-disk schema ([`StateFile`]) and the local
//! backend: atomic writes (temp file in the same directory, fsync, rename, fsync of the
//! directory), mode 0600, the previous version kept as a backup, and a lock file naming its
//! holder (taken over when that holder ran on this host and is gone). `encryption` seals and opens the bytes of the state, its backup, the
//! journal and plan files as OpenTofu does. This crate knows nothing about providers or the language.

pub mod backend;
pub mod encryption;
pub mod journal;
pub mod local;
pub mod planfile;
pub mod schema;

pub use backend::{lock_with, Backend, JournalSink, Lock, LockOptions, StateVersion};
pub use journal::{Journal, JournalRecord};
pub use local::{Holder, LocalBackend, LockGuard, LockInfo, StateError, Unlock};
pub use schema::{DeposedObject, InstanceState, Json, OutputState, PendingCreate, ResourceState, StateFile, FORMAT_VERSION};

/// The default state file name in the stack directory. It differs from Terraform's
/// `terraform.tfstate` on purpose, so infra never overwrites a Terraform state by accident.
pub const DEFAULT_STATE_FILE: &str = "infra.tfstate";
