//! The unevaluated expression: a syntax tree shared cheaply between the configuration, the
//! evaluator and the reference collector, with the file it came from for spans.

use crate::source::{FileId, Span};
use hcl_edit::expr::Expression;
use hcl_edit::Span as _;
use std::sync::Arc;

/// An unevaluated expression and the file it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    pub file: FileId,
    pub expr: Arc<Expression>,
}

impl Expr {
    pub fn span(&self) -> Option<Span> {
        self.expr.span().map(|r| Span::new(self.file, r))
    }
}
