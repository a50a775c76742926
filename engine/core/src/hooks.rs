//! The hook trait: how the engine reports progress. The engine never prints; the CLI's
//! printers and the tests' recorders implement this.

use crate::plan_types::Action;
use infra_lang::Diagnostic;
use std::time::Duration;

pub trait Hook: Send + Sync {
    fn refresh_start(&self, _type_name: &str, _count: usize) {}
    fn refresh_done(&self, _type_name: &str, _count: usize, _elapsed: Duration) {}
    fn apply_start(&self, _addr: &str, _action: Action) {}
    /// Called periodically while a slow operation runs.
    fn apply_progress(&self, _addr: &str, _action: Action, _elapsed: Duration) {}
    fn apply_done(&self, _addr: &str, _action: Action, _elapsed: Duration, _id: Option<&str>, _error: Option<&Diagnostic>) {}
    fn stopping(&self) {}
}

/// A hook that reports nothing.
pub struct NoHook;
impl Hook for NoHook {}
