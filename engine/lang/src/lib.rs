//! The Terraform language as infra reads it: source files with spans, diagnostics, values with
//! unknown and sensitive marks, type constraints and conversions, the configuration model of a
//! stack, the expression evaluator and the function library. Nothing here talks to a provider
//! or prints.

pub mod config;
pub mod decode;
pub mod diag;
pub mod encryption;
pub mod eval;
pub mod expr;
pub mod format;
pub mod funcs;
pub mod parse;
pub mod refs;
pub mod robustness;
pub mod schema;
pub mod source;
pub mod typeexpr;
pub mod types;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};
pub use types::Type;
pub use value::Value;
