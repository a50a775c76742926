//! References collected from the syntax tree, with their spans: the edges of the resource
//! graph. Names bound by `for` expressions and template `for` directives are not references.

use crate::expr::Expr;
use crate::source::{FileId, Span};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The root name: `var`, `local`, `aws_vpc`, `data`, `module`, `each`, …
    pub root: String,
    /// The attribute names that statically follow the root.
    pub attrs: Vec<String>,
    pub span: Option<Span>,
}

impl Reference {
    /// `aws_vpc.main.id` style text of the static part.
    pub fn text(&self) -> String {
        std::iter::once(self.root.as_str()).chain(self.attrs.iter().map(String::as_str)).collect::<Vec<_>>().join(".")
    }
}

pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut bound = Vec::new();
    walk(&expr.expr, expr.file, &mut bound, &mut out);
    out
}

fn push_ref(root: &str, ops: &[&TraversalOperator], span: Option<std::ops::Range<usize>>, file: FileId, bound: &[String], out: &mut Vec<Reference>) {
    if bound.iter().any(|b| b == root) {
        return;
    }
    let attrs = ops
        .iter()
        .map_while(|o| match o {
            TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
            _ => None,
        })
        .collect();
    out.push(Reference { root: root.to_string(), attrs, span: span.map(|r| Span::new(file, r)) });
}

fn walk(e: &Expression, file: FileId, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match e {
        Expression::Variable(v) => push_ref(v.as_str(), &[], v.span(), file, bound, out),
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                push_ref(v.as_str(), &ops, t.span(), file, bound, out);
            } else {
                walk(&t.expr, file, bound, out);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(ix) = op.value() {
                    walk(ix, file, bound, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|i| walk(i, file, bound, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(ke) = k {
                    if !matches!(ke, Expression::Variable(_)) {
                        walk(ke, file, bound, out);
                    }
                }
                walk(v.expr(), file, bound, out);
            }
        }
        Expression::StringTemplate(t) => walk_template(t, file, bound, out),
        Expression::HeredocTemplate(h) => walk_template(&h.template, file, bound, out),
        Expression::Parenthesis(p) => walk(p.inner(), file, bound, out),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, file, bound, out);
            walk(&c.true_expr, file, bound, out);
            walk(&c.false_expr, file, bound, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| walk(a, file, bound, out)),
        Expression::UnaryOp(u) => walk(&u.expr, file, bound, out),
        Expression::BinaryOp(b) => {
            // Chains nest on the left: loop along them instead of recursing.
            let mut cur = b;
            loop {
                walk(&cur.rhs_expr, file, bound, out);
                match &cur.lhs_expr {
                    Expression::BinaryOp(inner) => cur = inner,
                    other => {
                        walk(other, file, bound, out);
                        break;
                    }
                }
            }
        }
        Expression::ForExpr(f) => {
            walk(&f.intro.collection_expr, file, bound, out);
            let depth = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.as_str().to_string());
            }
            bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                walk(k, file, bound, out);
            }
            walk(&f.value_expr, file, bound, out);
            if let Some(c) = &f.cond {
                walk(&c.expr, file, bound, out);
            }
            bound.truncate(depth);
        }
        Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
    }
}

fn walk_template(t: &Template, file: FileId, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for el in t.iter() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk(&i.expr, file, bound, out),
            Element::Directive(d) => match &**d {
                Directive::If(i) => {
                    walk(&i.if_expr.cond_expr, file, bound, out);
                    walk_template(&i.if_expr.template, file, bound, out);
                    if let Some(e) = &i.else_expr {
                        walk_template(&e.template, file, bound, out);
                    }
                }
                Directive::For(f) => {
                    walk(&f.for_expr.collection_expr, file, bound, out);
                    let depth = bound.len();
                    if let Some(k) = &f.for_expr.key_var {
                        bound.push(k.as_str().to_string());
                    }
                    bound.push(f.for_expr.value_var.as_str().to_string());
                    walk_template(&f.for_expr.template, file, bound, out);
                    bound.truncate(depth);
                }
            },
        }
    }
}

/// References of every attribute in a body and its nested blocks (including `dynamic` blocks,
/// whose iterator names are bound inside their `content`).
pub fn body_references(body: &crate::config::Body) -> Vec<Reference> {
    let mut out = Vec::new();
    body_refs(body, &mut Vec::new(), &mut out);
    out
}

fn body_refs(body: &crate::config::Body, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for a in &body.attrs {
        walk(&a.expr.expr, a.expr.file, bound, out);
    }
    for b in &body.blocks {
        if b.kind == "dynamic" {
            let iterator =
                b.body.attr("iterator").and_then(|a| crate::config::traversal_text(&a.expr)).or_else(|| b.labels.first().cloned()).unwrap_or_default();
            for a in &b.body.attrs {
                if a.name != "iterator" {
                    walk(&a.expr.expr, a.expr.file, bound, out);
                }
            }
            bound.push(iterator);
            for inner in &b.body.blocks {
                body_refs(&inner.body, bound, out);
            }
            bound.pop();
        } else {
            body_refs(&b.body, bound, out);
        }
    }
}
