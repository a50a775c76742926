//! Apply progress on stdout, as Terraform prints it (diagnostics alone go to stderr): the engine's hook, printed in Terraform's words.

use crate::render::Style;
use infra_core::hooks::Hook;
use infra_core::plan::Action;
use infra_lang::diag::Diagnostic;
use std::time::Duration;

pub struct CliHook {
    pub style: Style,
}

impl Hook for CliHook {
    fn apply_start(&self, addr: &str, action: Action) {
        let verb = match action {
            Action::Delete => "Destroying...",
            Action::Create => "Creating...",
            Action::Read => "Reading...",
            _ => "Modifying...",
        };
        println!("{}: {verb}", self.style.bold(addr));
    }
    fn apply_progress(&self, addr: &str, action: Action, elapsed: Duration) {
        let verb = match action {
            Action::Delete => "destroying",
            Action::Create => "creating",
            _ => "modifying",
        };
        println!("{}: Still {verb}... [{}s elapsed]", self.style.bold(addr), elapsed.as_secs());
    }
    fn apply_done(&self, addr: &str, action: Action, elapsed: Duration, id: Option<&str>, error: Option<&Diagnostic>) {
        if error.is_some() {
            return;
        }
        let verb = match action {
            Action::Delete => "Destruction complete",
            Action::Create => "Creation complete",
            _ => "Modifications complete",
        };
        let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
        println!("{}: {verb} after {}s{id}", self.style.bold(addr), elapsed.as_secs());
    }
    fn stopping(&self) {
        println!("Stopping: in-flight operations are finishing.");
    }
}
