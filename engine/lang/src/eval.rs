//! The expression evaluator: Terraform semantics over hcl-edit's syntax tree. Unknown values
//! propagate (an operation on an unknown is unknown), sensitive marks propagate (a result
//! computed from a sensitive value is sensitive), `try` and `can` are lazy, and every error
//! carries the span of the expression that caused it.

use crate::diag::{suggestion, Diagnostic};
use crate::expr::Expr;
/// Kept at its old path: callers name it `eval::Phase`.
pub use crate::funcs::Phase;
use crate::funcs::{self, FuncCtx};
use crate::source::{FileId, Span};
use crate::types::{convert, unify_elements, unify_pair, Type};
use crate::value::{compare_for_set, format_number, Value};
use bigdecimal::{BigDecimal, ToPrimitive, Zero};
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

/// Where references are looked up. `resolve` receives a root name and the attribute names that
/// statically follow it (`aws_vpc`, `["main", "id"]`) and answers the value together with how
/// many of those names it consumed; the evaluator applies the rest.
pub trait Scope {
    fn resolve(&self, root: &str, attrs: &[String], span: Option<Span>) -> Result<(Value, usize), Diagnostic>;
    /// Directory that relative paths in `file()` and friends resolve against.
    fn base_dir(&self) -> PathBuf;
    fn phase(&self) -> Phase;
    /// Where functions record the files they read; none unless the caller asks.
    fn file_reads(&self) -> Option<std::sync::Arc<funcs::FileReads>> {
        None
    }
}

/// A scope with no references at all: for constants such as variable defaults.
pub struct EmptyScope;

impl Scope for EmptyScope {
    fn resolve(&self, root: &str, _: &[String], span: Option<Span>) -> Result<(Value, usize), Diagnostic> {
        Err(Diagnostic::error("Variables not allowed", format!("The reference \"{root}\" is not allowed here: only literal values are.")).with_subject(span))
    }
    fn base_dir(&self) -> PathBuf {
        PathBuf::from(".")
    }
    fn phase(&self) -> Phase {
        Phase::Validate
    }
}

/// A scope holding a fixed set of names, e.g. the variables of `templatefile`.
pub struct MapScope {
    pub names: BTreeMap<String, Value>,
    pub base_dir: PathBuf,
    pub phase: Phase,
    pub reads: Option<std::sync::Arc<funcs::FileReads>>,
}

impl Scope for MapScope {
    fn resolve(&self, root: &str, _: &[String], span: Option<Span>) -> Result<(Value, usize), Diagnostic> {
        match self.names.get(root) {
            Some(v) => Ok((v.clone(), 0)),
            None => Err(Diagnostic::error("Unknown variable", format!("There is no variable named \"{root}\".{}", suggestion(root, self.names.keys())))
                .with_subject(span)),
        }
    }
    fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }
    fn phase(&self) -> Phase {
        self.phase
    }
    fn file_reads(&self) -> Option<std::sync::Arc<funcs::FileReads>> {
        self.reads.clone()
    }
}

pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, Diagnostic> {
    Evaluator::new(scope, expr.file).expr(&expr.expr)
}

/// Evaluates an expression that may not reference anything.
pub fn eval_constant(e: &Expression) -> Result<Value, String> {
    Evaluator::new(&EmptyScope, FileId(u32::MAX)).expr(e).map_err(|d| d.detail)
}

pub struct Evaluator<'a> {
    scope: &'a dyn Scope,
    file: FileId,
    /// Names bound by `for` expressions and template `for` directives, innermost last.
    locals: Vec<(String, Value)>,
}

fn err(summary: &str, detail: impl Into<String>, span: Option<Span>) -> Diagnostic {
    Diagnostic::error(summary, detail).with_subject(span)
}

impl<'a> Evaluator<'a> {
    pub fn new(scope: &'a dyn Scope, file: FileId) -> Evaluator<'a> {
        Evaluator { scope, file, locals: Vec::new() }
    }

    pub fn with_local(mut self, name: &str, value: Value) -> Evaluator<'a> {
        self.locals.push((name.to_string(), value));
        self
    }

    fn span_of(&self, e: &impl hcl_edit::Span) -> Option<Span> {
        if self.file.0 == u32::MAX {
            return None;
        }
        e.span().map(|r| Span::new(self.file, r))
    }

    fn local(&self, name: &str) -> Option<Value> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    pub fn expr(&mut self, e: &Expression) -> Result<Value, Diagnostic> {
        match e {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let text = n.as_repr().map(|r| r.to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| n.value().to_string());
                BigDecimal::from_str(text.trim())
                    .map_err(|_| format!("\"{text}\" is not a valid number"))
                    .and_then(crate::value::checked_number)
                    .map(Value::Number)
                    .map_err(|m| err("Invalid number", format!("{m}."), self.span_of(e)))
            }
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.expr(item)?);
                }
                Ok(Value::Tuple(out))
            }
            Expression::Object(obj) => {
                let mut out = BTreeMap::new();
                let mut unknown_key = false;
                for (k, v) in obj.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => Value::String(i.as_str().to_string()),
                        hcl_edit::expr::ObjectKey::Expression(Expression::Variable(v)) => Value::String(v.as_str().to_string()),
                        hcl_edit::expr::ObjectKey::Expression(ke) => self.expr(ke)?,
                    };
                    let (key, _) = key.into_unmarked();
                    if key.is_unknown() {
                        unknown_key = true;
                        continue;
                    }
                    let key = convert(&key, &Type::String)
                        .ok()
                        .and_then(|k| k.as_str().map(str::to_string))
                        .ok_or_else(|| err("Invalid object key", "An object key must be a string.", self.span_of(k)))?;
                    let value = self.expr(v.expr())?;
                    out.insert(key, value);
                }
                if unknown_key {
                    return Ok(Value::Unknown);
                }
                Ok(Value::Object(out.into()))
            }
            Expression::StringTemplate(t) => self.template(t, self.span_of(e)),
            Expression::HeredocTemplate(h) => self.template(&h.template, self.span_of(e)),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(v) => self.reference(v.as_str(), &[], self.span_of(e)),
            Expression::Traversal(t) => self.traversal(t),
            Expression::Conditional(c) => {
                let cond = self.expr(&c.cond_expr)?;
                let (cond, marked) = cond.into_unmarked();
                if cond.is_unknown() {
                    return Ok(Value::Unknown.mark_if(marked));
                }
                let b = convert(&cond, &Type::Bool).ok().and_then(|v| v.as_bool()).ok_or_else(|| {
                    err(
                        "Incorrect condition type",
                        format!("The condition expression must be a bool, but it is {}.", cond.type_name()),
                        self.span_of(&c.cond_expr),
                    )
                })?;
                let (chosen, other) = if b { (&c.true_expr, &c.false_expr) } else { (&c.false_expr, &c.true_expr) };
                let chosen_v = self.expr(chosen)?;
                // The other branch only shapes the result type; its errors do not count.
                let result = match self.expr(other) {
                    Ok(other_v) => {
                        let (a, _) = if b {
                            unify_pair(chosen_v, other_v)
                        } else {
                            let (x, y) = unify_pair(other_v, chosen_v);
                            (y, x)
                        };
                        a
                    }
                    Err(_) => chosen_v,
                };
                Ok(result.mark_if(marked))
            }
            Expression::FuncCall(call) => self.call(call, self.span_of(e)),
            Expression::UnaryOp(op) => {
                let v = self.expr(&op.expr)?;
                let (v, marked) = v.into_unmarked();
                if v.is_unknown() {
                    return Ok(Value::Unknown.mark_if(marked));
                }
                let span = self.span_of(e);
                let out = match op.operator.value() {
                    UnaryOperator::Neg => Value::Number(-self.number(&v, span)?),
                    UnaryOperator::Not => Value::Bool(!self.boolean(&v, span)?),
                };
                Ok(out.mark_if(marked))
            }
            Expression::BinaryOp(op) => self.binary_chain(op),
            Expression::ForExpr(f) => self.for_expr(f, self.span_of(e)),
        }
    }

    fn number(&self, v: &Value, span: Option<Span>) -> Result<BigDecimal, Diagnostic> {
        match convert(v, &Type::Number) {
            Ok(Value::Number(n)) => Ok(n),
            Ok(other) if other.is_null() => Err(err("Invalid operand", "Unsuitable value for operand: a number is required, but it is null.", span)),
            _ => Err(err("Invalid operand", format!("Unsuitable value for operand: a number is required, but it is {}.", v.type_name()), span)),
        }
    }

    fn boolean(&self, v: &Value, span: Option<Span>) -> Result<bool, Diagnostic> {
        match convert(v, &Type::Bool) {
            Ok(Value::Bool(b)) => Ok(b),
            _ => Err(err("Invalid operand", format!("Unsuitable value for operand: a bool is required, but it is {}.", v.type_name()), span)),
        }
    }

    /// Binary operators are left-associative, so a long chain nests along its left side: walk
    /// that spine with a loop, not recursion, so that chain length does not cost stack.
    fn binary_chain(&mut self, top: &hcl_edit::expr::BinaryOp) -> Result<Value, Diagnostic> {
        let mut spine = vec![top];
        while let Expression::BinaryOp(inner) = &spine[spine.len() - 1].lhs_expr {
            spine.push(inner);
        }
        let innermost = spine[spine.len() - 1];
        let mut acc = self.expr(&innermost.lhs_expr)?;
        for op in spine.iter().rev() {
            acc = self.binary(op.operator.value(), acc, &op.lhs_expr, &op.rhs_expr, self.span_of(*op))?;
        }
        Ok(acc)
    }

    /// Applies `op` to an already evaluated left operand (`lhs` is only used for positions).
    fn binary(&mut self, op: &BinaryOperator, l: Value, lhs: &Expression, rhs: &Expression, span: Option<Span>) -> Result<Value, Diagnostic> {
        // Logical operators short-circuit on a known deciding value.
        if matches!(op, BinaryOperator::And | BinaryOperator::Or) {
            let (lv, lm) = l.into_unmarked();
            if !lv.is_unknown() {
                let lb = self.boolean(&lv, self.span_of(lhs))?;
                if (*op == BinaryOperator::And && !lb) || (*op == BinaryOperator::Or && lb) {
                    return Ok(Value::Bool(lb).mark_if(lm));
                }
            }
            let r = self.expr(rhs)?;
            let (rv, rm) = r.into_unmarked();
            if lv.is_unknown() || rv.is_unknown() {
                return Ok(Value::Unknown.mark_if(lm || rm));
            }
            let rb = self.boolean(&rv, self.span_of(rhs))?;
            return Ok(Value::Bool(rb).mark_if(lm || rm));
        }
        let r = self.expr(rhs)?;
        let (lv, lm) = l.into_unmarked();
        let (rv, rm) = r.into_unmarked();
        let marked = lm || rm;
        if matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) {
            if !lv.is_wholly_known() || !rv.is_wholly_known() {
                return Ok(Value::Unknown.mark_if(marked));
            }
            let eq = lv.deep_unmark().equals(&rv.deep_unmark());
            return Ok(Value::Bool(if *op == BinaryOperator::Eq { eq } else { !eq }).mark_if(marked));
        }
        if lv.is_unknown() || rv.is_unknown() {
            return Ok(Value::Unknown.mark_if(marked));
        }
        let a = self.number(&lv, self.span_of(lhs))?;
        let b = self.number(&rv, self.span_of(rhs))?;
        let out = match op {
            BinaryOperator::Plus => Value::Number(a + b),
            BinaryOperator::Minus => Value::Number(a - b),
            BinaryOperator::Mul => Value::Number(a * b),
            BinaryOperator::Div => {
                if b.is_zero() {
                    return Err(err("Division by zero", "The right-hand side of a division is zero.", span));
                }
                Value::Number(divide(&a, &b))
            }
            BinaryOperator::Mod => {
                if b.is_zero() {
                    return Err(err("Division by zero", "The right-hand side of a modulo is zero.", span));
                }
                Value::Number(a % b)
            }
            BinaryOperator::Less => Value::Bool(a < b),
            BinaryOperator::LessEq => Value::Bool(a <= b),
            BinaryOperator::Greater => Value::Bool(a > b),
            BinaryOperator::GreaterEq => Value::Bool(a >= b),
            BinaryOperator::Eq | BinaryOperator::NotEq | BinaryOperator::And | BinaryOperator::Or => Value::Null,
        };
        if let Value::Number(n) = &out {
            if let Err(m) = crate::value::checked_number(n.clone()) {
                return Err(err("Number out of range", format!("The result of this operation is out of range: {m}."), span));
            }
        }
        Ok(out.mark_if(marked))
    }

    fn reference(&mut self, root: &str, attrs: &[String], span: Option<Span>) -> Result<Value, Diagnostic> {
        if let Some(v) = self.local(root) {
            return Ok(v);
        }
        self.scope.resolve(root, attrs, span).map(|(v, _)| v)
    }

    fn traversal(&mut self, t: &hcl_edit::expr::Traversal) -> Result<Value, Diagnostic> {
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let (value, consumed) = match &t.expr {
            Expression::Variable(root) if self.local(root.as_str()).is_none() => {
                let attrs: Vec<String> = ops
                    .iter()
                    .map_while(|o| match o {
                        TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
                        _ => None,
                    })
                    .collect();
                let span = t.span().map(|r| Span::new(self.file, r)).filter(|_| self.file.0 != u32::MAX);
                self.scope.resolve(root.as_str(), &attrs, span)?
            }
            other => (self.expr(other)?, 0),
        };
        self.apply_ops(value, &t.operators[consumed..])
    }

    fn apply_ops(&mut self, mut value: Value, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Result<Value, Diagnostic> {
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            let span = self.span_of(op);
            match op.value() {
                TraversalOperator::GetAttr(name) => value = get_attr(value, name.as_str(), span)?,
                TraversalOperator::Index(e) => {
                    let key = self.expr(e)?;
                    value = index(value, key, span)?;
                }
                TraversalOperator::LegacyIndex(n) => value = index(value, Value::int(*n.value() as i64), span)?,
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(op.value(), TraversalOperator::FullSplat(_));
                    let rest_end =
                        if full { ops.len() } else { i + 1 + ops[i + 1..].iter().take_while(|o| matches!(o.value(), TraversalOperator::GetAttr(_))).count() };
                    let rest = &ops[i + 1..rest_end];
                    let (v, marked) = value.into_unmarked();
                    let items = match v {
                        Value::Unknown => return Ok(Value::Unknown.mark_if(marked)),
                        Value::Null => Vec::new(),
                        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items,
                        other => vec![other],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.apply_ops(item, rest)?);
                    }
                    value = Value::Tuple(out).mark_if(marked);
                    i = rest_end;
                    continue;
                }
            }
            i += 1;
        }
        Ok(value)
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr, span: Option<Span>) -> Result<Value, Diagnostic> {
        let coll = self.expr(&f.intro.collection_expr)?;
        let (coll, marked) = coll.into_unmarked();
        let pairs: Vec<(Value, Value)> = match coll {
            Value::Unknown => return Ok(Value::Unknown.mark_if(marked)),
            Value::List(items) | Value::Tuple(items) => items.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
            Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Map(m) | Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            Value::Null => {
                return Err(err(
                    "Iteration over null value",
                    "A null value cannot be used as the collection in a 'for' expression.",
                    self.span_of(&f.intro.collection_expr),
                ))
            }
            other => {
                return Err(err(
                    "Iteration over non-iterable value",
                    format!("A value of type {} cannot be used as the collection in a 'for' expression.", other.type_name()),
                    self.span_of(&f.intro.collection_expr),
                ))
            }
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut tuple = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut any_unknown = false;
        for (k, v) in pairs {
            let depth = self.locals.len();
            if let Some(kv) = &key_var {
                self.locals.push((kv.clone(), k.mark_if(marked)));
            }
            self.locals.push((value_var.clone(), v.mark_if(marked)));
            let result = self.for_item(f, &mut tuple, &mut object, &mut groups, &mut any_unknown, span.clone());
            self.locals.truncate(depth);
            result?;
        }
        if any_unknown {
            return Ok(Value::Unknown.mark_if(marked));
        }
        let out = if f.key_expr.is_some() {
            if f.grouping {
                Value::Object(groups.into_iter().map(|(k, v)| (k, Value::Tuple(v))).collect())
            } else {
                Value::Object(object.into())
            }
        } else {
            Value::Tuple(tuple)
        };
        Ok(out.mark_if(marked))
    }

    fn for_item(
        &mut self,
        f: &hcl_edit::expr::ForExpr,
        tuple: &mut Vec<Value>,
        object: &mut BTreeMap<String, Value>,
        groups: &mut BTreeMap<String, Vec<Value>>,
        any_unknown: &mut bool,
        span: Option<Span>,
    ) -> Result<(), Diagnostic> {
        if let Some(cond) = &f.cond {
            let c = self.expr(&cond.expr)?;
            if c.is_unknown() {
                *any_unknown = true;
                return Ok(());
            }
            if !self.boolean(c.unmark().0, self.span_of(&cond.expr))? {
                return Ok(());
            }
        }
        match &f.key_expr {
            None => tuple.push(self.expr(&f.value_expr)?),
            Some(ke) => {
                let k = self.expr(ke)?;
                if k.is_unknown() {
                    *any_unknown = true;
                    return Ok(());
                }
                let key = convert(k.unmark().0, &Type::String)
                    .ok()
                    .and_then(|k| k.as_str().map(str::to_string))
                    .ok_or_else(|| err("Invalid object key", "The key expression of a 'for' expression must produce a string.", self.span_of(ke)))?;
                let v = self.expr(&f.value_expr)?;
                if f.grouping {
                    groups.entry(key).or_default().push(v);
                } else if object.contains_key(&key) {
                    return Err(err(
                        "Duplicate object key",
                        format!("Two different items produced the key \"{key}\" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key."),
                        span,
                    ));
                } else {
                    object.insert(key, v);
                }
            }
        }
        Ok(())
    }

    fn template(&mut self, t: &Template, span: Option<Span>) -> Result<Value, Diagnostic> {
        // A template that is a single interpolation yields the value itself, not a string.
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            return self.expr(&i.expr);
        }
        let mut marked = false;
        let mut unknown = false;
        let s = self.template_string(t, false, false, &mut marked, &mut unknown, span)?;
        if unknown {
            return Ok(Value::Unknown.mark_if(marked));
        }
        Ok(Value::String(s).mark_if(marked))
    }

    fn template_string(
        &mut self,
        t: &Template,
        strip_leading: bool,
        strip_trailing: bool,
        marked: &mut bool,
        unknown: &mut bool,
        span: Option<Span>,
    ) -> Result<String, Diagnostic> {
        let elems: Vec<&Element> = t.iter().collect();
        let mut out = String::new();
        for (i, el) in elems.iter().enumerate() {
            match el {
                Element::Literal(lit) => {
                    let mut s: &str = lit.value();
                    let prev_strips = i == 0 && strip_leading || i > 0 && strips_following(elems[i - 1]);
                    let next_strips = i + 1 == elems.len() && strip_trailing || i + 1 < elems.len() && strips_preceding(elems[i + 1]);
                    if prev_strips {
                        s = s.trim_start();
                    }
                    if next_strips {
                        s = s.trim_end();
                    }
                    out.push_str(s);
                }
                Element::Interpolation(interp) => {
                    let v = self.expr(&interp.expr)?;
                    let (v, m) = v.into_unmarked();
                    *marked |= m || v.contains_sensitive();
                    if v.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    if v.is_null() {
                        return Err(err(
                            "Invalid template interpolation value",
                            "The expression result is null. Cannot include a null value in a string template.",
                            self.span_of(&interp.expr),
                        ));
                    }
                    match convert(&v.deep_unmark(), &Type::String) {
                        Ok(Value::String(s)) => out.push_str(&s),
                        _ => {
                            return Err(err(
                                "Invalid template interpolation value",
                                format!("Cannot include a {} value in a string template; it must be a string, number or bool.", v.type_name()),
                                self.span_of(&interp.expr),
                            ))
                        }
                    }
                }
                Element::Directive(d) => match &**d {
                    Directive::If(ifd) => {
                        let c = self.expr(&ifd.if_expr.cond_expr)?;
                        let (c, m) = c.into_unmarked();
                        *marked |= m;
                        if c.is_unknown() {
                            *unknown = true;
                            continue;
                        }
                        let b = self.boolean(&c, self.span_of(&ifd.if_expr.cond_expr))?;
                        let endif_strip = ifd.endif_expr.strip.strip_start();
                        if b {
                            let trailing = match &ifd.else_expr {
                                Some(e) => e.strip.strip_start(),
                                None => endif_strip,
                            };
                            out.push_str(&self.template_string(
                                &ifd.if_expr.template,
                                ifd.if_expr.strip.strip_end(),
                                trailing,
                                marked,
                                unknown,
                                span.clone(),
                            )?);
                        } else if let Some(e) = &ifd.else_expr {
                            out.push_str(&self.template_string(&e.template, e.strip.strip_end(), endif_strip, marked, unknown, span.clone())?);
                        }
                    }
                    Directive::For(ford) => {
                        let fe = &ford.for_expr;
                        let coll = self.expr(&fe.collection_expr)?;
                        let (coll, m) = coll.into_unmarked();
                        *marked |= m;
                        let pairs: Vec<(Value, Value)> = match coll {
                            Value::Unknown => {
                                *unknown = true;
                                continue;
                            }
                            Value::List(items) | Value::Tuple(items) => items.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
                            Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
                            Value::Map(m) | Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                            other => {
                                return Err(err(
                                    "Iteration over non-iterable value",
                                    format!("A value of type {} cannot be iterated by a template for directive.", other.type_name()),
                                    self.span_of(&fe.collection_expr),
                                ))
                            }
                        };
                        for (k, v) in pairs {
                            let depth = self.locals.len();
                            if let Some(kv) = &fe.key_var {
                                self.locals.push((kv.as_str().to_string(), k));
                            }
                            self.locals.push((fe.value_var.as_str().to_string(), v));
                            let r =
                                self.template_string(&fe.template, fe.strip.strip_end(), ford.endfor_expr.strip.strip_start(), marked, unknown, span.clone());
                            self.locals.truncate(depth);
                            out.push_str(&r?);
                        }
                    }
                },
            }
        }
        Ok(out)
    }

    fn call(&mut self, call: &hcl_edit::expr::FuncCall, span: Option<Span>) -> Result<Value, Diagnostic> {
        let name = call.name.name.as_str();
        if call.name.is_namespaced() {
            return Err(err(
                "Call to unknown function",
                format!(
                    "Provider-defined functions such as \"{}::{name}\" are not supported.",
                    call.name.namespace.iter().map(|n| n.as_str()).collect::<Vec<_>>().join("::")
                ),
                span,
            ));
        }
        let arg_exprs: Vec<&Expression> = call.args.iter().collect();
        match name {
            "try" => {
                if arg_exprs.is_empty() {
                    return Err(err("Invalid function argument", "try needs at least one argument.", span));
                }
                let mut last = None;
                for a in &arg_exprs {
                    match self.expr(a) {
                        Ok(v) if !v.is_wholly_known() => return Ok(Value::Unknown),
                        Ok(v) => return Ok(v),
                        Err(d) => last = Some(d),
                    }
                }
                let detail = last.map(|d| d.detail).unwrap_or_default();
                return Err(err(
                    "Error in function call",
                    format!("Call to function \"try\" failed: no expression succeeded. The last one failed with: {detail}"),
                    span,
                ));
            }
            "can" => {
                let [a] = arg_exprs.as_slice() else {
                    return Err(err("Invalid function argument", "can takes exactly one argument.", span));
                };
                return Ok(match self.expr(a) {
                    Ok(v) if !v.is_wholly_known() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            _ => {}
        }
        let mut args = Vec::with_capacity(arg_exprs.len());
        for a in &arg_exprs {
            args.push(self.expr(a)?);
        }
        if call.args.expand_final() {
            if let Some(last) = args.pop() {
                let (last, m) = last.into_unmarked();
                match last {
                    Value::Unknown => return Ok(Value::Unknown.mark_if(m)),
                    Value::List(items) | Value::Tuple(items) | Value::Set(items) => args.extend(items.into_iter().map(|v| v.mark_if(m))),
                    _ => {
                        return Err(err(
                            "Invalid expanding argument value",
                            "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                            span,
                        ))
                    }
                }
            }
        }
        let ctx = FuncCtx { base_dir: self.scope.base_dir(), phase: self.scope.phase(), reads: self.scope.file_reads() };
        funcs::call(name, args, &ctx).map_err(|e| match e {
            funcs::FuncError::Unknown => err(
                "Call to unknown function",
                format!("There is no function named \"{name}\".{}", suggestion(name, funcs::NAMES.iter().copied())),
                self.span_of(&call.name.name),
            ),
            funcs::FuncError::Failed(msg) => err("Error in function call", format!("Call to function \"{name}\" failed: {msg}."), span),
            // As Terraform: the subject is the argument at fault, or the first one too many.
            funcs::FuncError::Arity { want, got } if got > want => err(
                "Too many function arguments",
                format!("Function \"{name}\" expects only {want} argument{}.", if want == 1 { "" } else { "s" }),
                arg_exprs.get(want).and_then(|e| self.span_of(*e)).or(span),
            ),
            funcs::FuncError::Arity { want, .. } => {
                err("Not enough function arguments", format!("Function \"{name}\" expects at least {want} argument{}.", if want == 1 { "" } else { "s" }), span)
            }
            funcs::FuncError::Arg { index, msg } => {
                // After an expanding argument (`f(xs...)`) the values no longer line up with
                // the expressions: the call is the subject then.
                let at = if call.args.expand_final() && index + 1 >= arg_exprs.len() { None } else { arg_exprs.get(index).and_then(|e| self.span_of(*e)) };
                err("Invalid function argument", format!("Invalid value for argument {} of \"{name}\": {msg}.", index + 1), at.or(span))
            }
        })
    }
}

fn strips_following(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(d) => match &**d {
            Directive::If(i) => i.endif_expr.strip.strip_end(),
            Directive::For(f) => f.endfor_expr.strip.strip_end(),
        },
        Element::Literal(_) => false,
    }
}

fn strips_preceding(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(d) => match &**d {
            Directive::If(i) => i.if_expr.strip.strip_start(),
            Directive::For(f) => f.for_expr.strip.strip_start(),
        },
        Element::Literal(_) => false,
    }
}

/// Exact where the quotient terminates; otherwise rounded to the shortest f64 text, which is what
/// Terraform users see for 1/3.
fn divide(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    let q = a / b;
    if &(&q * b) == a {
        return q.normalized();
    }
    match (a.to_f64(), b.to_f64()) {
        (Some(x), Some(y)) if (x / y).is_finite() => BigDecimal::from_str(&format!("{}", x / y)).unwrap_or(q),
        _ => q,
    }
}

pub fn get_attr(value: Value, name: &str, span: Option<Span>) -> Result<Value, Diagnostic> {
    let (v, marked) = value.into_unmarked();
    let out = match v {
        Value::Unknown => Value::Unknown,
        Value::Null => {
            return Err(err(
                "Attempt to get attribute from null value",
                format!("This value is null, so it does not have any attributes (looking up \"{name}\")."),
                span,
            ))
        }
        Value::Object(mut m) => match m.remove(name) {
            Some(v) => v,
            None => {
                return Err(err(
                    "Unsupported attribute",
                    format!("This object does not have an attribute named \"{name}\".{}", suggestion(name, m.keys())),
                    span,
                ))
            }
        },
        Value::Map(mut m) => match m.remove(name) {
            Some(v) => v,
            None => return Err(err("Missing map element", format!("This map does not have an element with the key \"{name}\"."), span)),
        },
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => {
            return Err(err(
                "Unsupported attribute",
                format!("This value does not have any attributes. To get \"{name}\" of every element, use a splat: [*].{name}."),
                span,
            ))
        }
        other => return Err(err("Unsupported attribute", format!("Can't access attributes on a primitive-typed value ({}).", other.type_name()), span)),
    };
    Ok(out.mark_if(marked))
}

pub fn index(value: Value, key: Value, span: Option<Span>) -> Result<Value, Diagnostic> {
    let (v, marked) = value.into_unmarked();
    let (key, key_marked) = key.into_unmarked();
    let marked = marked || key_marked;
    if v.is_unknown() || key.is_unknown() {
        return Ok(Value::Unknown.mark_if(marked));
    }
    let out = match v {
        Value::List(mut items) | Value::Tuple(mut items) => {
            let i = convert(&key, &Type::Number).ok().and_then(|k| k.as_i64());
            match i {
                Some(i) if i >= 0 && (i as usize) < items.len() => items.swap_remove(i as usize),
                Some(i) => {
                    return Err(err(
                        "Invalid index",
                        format!("The given key does not identify an element in this collection value: index {i} is out of range for {} elements.", items.len()),
                        span,
                    ))
                }
                None => return Err(err("Invalid index", "An index into a list or tuple must be a whole number.", span)),
            }
        }
        Value::Map(mut m) | Value::Object(mut m) => {
            let k = convert(&key, &Type::String).ok().and_then(|k| k.as_str().map(str::to_string));
            match k.and_then(|k| m.remove(&k).ok_or(k).map_err(Some).ok()) {
                Some(v) => v,
                None => {
                    let shown = match &key {
                        Value::String(s) => format!("\"{s}\""),
                        Value::Number(n) => format_number(n),
                        _ => key.type_name().to_string(),
                    };
                    return Err(err(
                        "Invalid index",
                        format!(
                            "The given key does not identify an element in this collection value: {shown} is not present.{}",
                            suggestion(key.as_str().unwrap_or(""), m.keys())
                        ),
                        span,
                    ));
                }
            }
        }
        Value::Set(_) => {
            return Err(err(
                "Invalid index",
                "Elements of a set are identified only by their value and don't have any separate index or key to select with.",
                span,
            ))
        }
        Value::Null => return Err(err("Attempt to index null value", "This value is null, so it does not have any indices.", span)),
        other => return Err(err("Invalid index", format!("This value does not have any indices: it is a {}.", other.type_name()), span)),
    };
    Ok(out.mark_if(marked))
}

/// Evaluates a template file's text with the given variables (the `templatefile` function).
pub fn eval_template_text(text: &str, vars: BTreeMap<String, Value>, ctx: &FuncCtx) -> Result<Value, String> {
    let tpl = hcl_edit::parser::parse_template(text).map_err(|e| format!("the template could not be parsed: {}", e.message()))?;
    let scope = MapScope { names: vars, base_dir: ctx.base_dir.clone(), phase: ctx.phase, reads: ctx.reads.clone() };
    let mut ev = Evaluator::new(&scope, FileId(u32::MAX));
    let mut marked = false;
    let mut unknown = false;
    let s = ev.template_string(&tpl, false, false, &mut marked, &mut unknown, None).map_err(|d| d.detail)?;
    if unknown {
        return Ok(Value::Unknown.mark_if(marked));
    }
    Ok(Value::String(s).mark_if(marked))
}

/// Sorted, unique elements for collections built from `for` over sets etc.
pub fn sorted_unique(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(compare_for_set);
    items.dedup_by(|a, b| a.equals(b));
    items
}

/// Elements of a tuple unified to one type, for functions returning lists.
pub fn as_list(items: Vec<Value>) -> Result<Value, String> {
    Ok(Value::List(unify_elements(items)?))
}
