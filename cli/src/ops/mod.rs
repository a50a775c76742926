//! What the commands do that is neither argument parsing nor rendering: finding the state,
//! loading the stack with its variables, planning, saving and reading plan files. Functions
//! take plain options and return data or diagnostics, so a test can call them without a
//! terminal; only the command modules print.

pub mod backend;
pub mod discover;
pub mod drift;
pub mod encryption;
pub mod import;
pub mod migrate;
pub mod plan;
pub mod planfile;
pub mod stack;
pub mod vars;

/// What an operation reports when it cannot go on; the command renders it once.
pub type Result<T> = std::result::Result<T, infra_lang::diag::Diagnostics>;
