//! One entry point that pushes arbitrary text through everything a stack file meets before any
//! provider is involved: parsing as a file and as an expression, and evaluating every attribute.
//! The fuzz target (`fuzz/`) and the hostile-input tests call it; it must never panic.

use crate::eval::{Evaluator, MapScope, Phase};
use crate::source::SourceMap;
use std::collections::BTreeMap;

/// Returns how many evaluations succeeded (the rest produced diagnostics).
pub fn exercise(text: &str) -> usize {
    let sources = SourceMap::new();
    let scope = MapScope { names: BTreeMap::new(), base_dir: std::env::temp_dir(), phase: Phase::Console, reads: None };
    let mut ok = 0;
    let (file, body) = crate::parse::parse_source(&sources, std::path::Path::new("fuzz.tf"), text);
    if let Ok(body) = body {
        let mut stack = vec![&body];
        while let Some(b) = stack.pop() {
            for s in b.iter() {
                match s {
                    hcl_edit::structure::Structure::Attribute(a) => {
                        if Evaluator::new(&scope, file).expr(&a.value).is_ok() {
                            ok += 1;
                        }
                    }
                    hcl_edit::structure::Structure::Block(bl) => stack.push(&bl.body),
                }
            }
        }
        let _ = crate::format::format(text);
    }
    let (file, expr) = crate::parse::parse_expr_source(&sources, "fuzz-expr", text);
    if let Ok(e) = expr {
        if Evaluator::new(&scope, file).expr(&e).is_ok() {
            ok += 1;
        }
    }
    ok
}
