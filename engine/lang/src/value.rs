//! Values of the language: Terraform's dynamic values with an *unknown* marker (known after
//! apply) and a *sensitive* mark that sticks to whatever is computed from a marked value.
//! Maps and objects keep their keys sorted, as Terraform iterates them, and share their entries
//! between copies until one is changed ([`Map`]).

use bigdecimal::{BigDecimal, ToPrimitive, Zero};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;

/// The entries of a map or object: a sorted map whose copies share one allocation until one of
/// them is changed (copy on write). The engine copies each resource's object into its value
/// store, the change, the planned object and the execution graph; sharing makes those copies
/// cost a pointer instead of a tree each (a 10,000-resource plan held every object four to
/// five times). Reads go through `Deref` to the `BTreeMap`, writes through `DerefMut`.
#[derive(Clone, Default)]
pub struct Map(Arc<BTreeMap<String, Value>>);

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// The entries, copied only when another value still shares them.
    pub fn into_inner(self) -> BTreeMap<String, Value> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl Deref for Map {
    type Target = BTreeMap<String, Value>;
    fn deref(&self) -> &BTreeMap<String, Value> {
        &self.0
    }
}

impl DerefMut for Map {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Value> {
        Arc::make_mut(&mut self.0)
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<BTreeMap<String, Value>> for Map {
    fn from(m: BTreeMap<String, Value>) -> Map {
        Map(Arc::new(m))
    }
}

impl<const N: usize> From<[(String, Value); N]> for Map {
    fn from(items: [(String, Value); N]) -> Map {
        Map(Arc::new(BTreeMap::from(items)))
    }
}

impl From<Map> for BTreeMap<String, Value> {
    fn from(m: Map) -> BTreeMap<String, Value> {
        m.into_inner()
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(items: I) -> Map {
        Map(Arc::new(items.into_iter().collect()))
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, items: I) {
        Arc::make_mut(&mut self.0).extend(items)
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = std::collections::btree_map::IterMut<'a, String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        Arc::make_mut(&mut self.0).iter_mut()
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// A value that is only known after apply.
    Unknown,
    Bool(bool),
    Number(BigDecimal),
    String(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Elements kept sorted and unique.
    Set(Vec<Value>),
    Map(Map),
    Object(Map),
    /// A value marked sensitive: never rendered.
    Sensitive(Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn int(i: i64) -> Value {
        Value::Number(BigDecimal::from(i))
    }

    pub fn number_from_f64(f: f64) -> Option<Value> {
        if !f.is_finite() {
            return None;
        }
        BigDecimal::from_str(&format!("{f}")).ok().map(Value::Number)
    }

    pub fn object<I, K>(items: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(items.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort_by(compare_for_set);
        items.dedup();
        Value::Set(items)
    }

    pub fn sensitive(self) -> Value {
        match self {
            v @ Value::Sensitive(_) => v,
            v => Value::Sensitive(Box::new(v)),
        }
    }

    /// Marks `self` sensitive when `marked` is.
    pub fn mark_if(self, marked: bool) -> Value {
        if marked {
            self.sensitive()
        } else {
            self
        }
    }

    /// The value without its top-level sensitive mark, and whether it had one.
    pub fn unmark(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.unmark().0, true),
            v => (v, false),
        }
    }

    pub fn into_unmarked(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.into_unmarked().0, true),
            v => (v, false),
        }
    }

    /// Removes every sensitive mark, deep.
    pub fn deep_unmark(&self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.deep_unmark(),
            Value::List(v) => Value::List(v.iter().map(Value::deep_unmark).collect()),
            Value::Tuple(v) => Value::Tuple(v.iter().map(Value::deep_unmark).collect()),
            Value::Set(v) => Value::Set(v.iter().map(Value::deep_unmark).collect()),
            Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), v.deep_unmark())).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), v.deep_unmark())).collect()),
            v => v.clone(),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when the value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => v.iter().any(Value::contains_sensitive),
            Value::Map(m) | Value::Object(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmark().0, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unmark().0, Value::Unknown)
    }

    /// True when the value is known all the way down.
    pub fn is_wholly_known(&self) -> bool {
        match self.unmark().0 {
            Value::Unknown => false,
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmark().0 {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmark().0 {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&BigDecimal> {
        match self.unmark().0 {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(|n| if n.is_integer() { n.to_i64() } else { None })
    }

    /// Elements of a list, tuple or set.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self.unmark().0 {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmark().0 {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// Terraform's friendly name of the value's type, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self.unmark().0 {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Sensitive(_) => "sensitive",
        }
    }

    /// Structural equality that ignores marks and treats list/tuple and map/object alike, as
    /// the `==` operator does after type unification.
    pub fn equals(&self, other: &Value) -> bool {
        let (a, b) = (self.unmark().0, other.unmark().0);
        match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Number(x), Value::Number(y)) => x == y,
            (Value::String(x), Value::String(y)) => x == y,
            (Value::List(x) | Value::Tuple(x) | Value::Set(x), Value::List(y) | Value::Tuple(y) | Value::Set(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.equals(q))
            }
            (Value::Map(x) | Value::Object(x), Value::Map(y) | Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && v1.equals(v2))
            }
            _ => false,
        }
    }
}

/// A total order used to keep set elements sorted: strings, numbers and bools by value, the
/// rest by their JSON text.
pub fn compare_for_set(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.unmark().0, b.unmark().0) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (x, y) => to_json(x).to_string().cmp(&to_json(y).to_string()),
    }
}

/// Formats a number as Terraform does: integers without a fraction, others in their shortest
/// plain decimal form.
pub fn format_number(n: &BigDecimal) -> String {
    if n.is_zero() {
        return "0".into();
    }
    let n = n.normalized();
    if n.is_integer() {
        return n.with_scale(0).to_string();
    }
    n.to_plain_string()
}

/// Numbers are arbitrary-precision but not unbounded: more digits than this, before or after
/// the point, are refused, so that printing a hostile `1e999999999999` cannot exhaust memory.
pub const MAX_DIGITS: i64 = 1000;

/// The number, if it fits within [`MAX_DIGITS`].
pub fn checked_number(n: BigDecimal) -> Result<BigDecimal, String> {
    let (digits, scale) = (n.digits() as i64, n.fractional_digit_count());
    let integer_digits = digits - scale;
    if integer_digits > MAX_DIGITS || scale > MAX_DIGITS {
        return Err(format!("the number has more than {MAX_DIGITS} digits"));
    }
    Ok(n)
}

pub fn parse_number(s: &str) -> Option<BigDecimal> {
    let t = s.trim();
    if t.is_empty() || t.starts_with('+') && t.len() == 1 {
        return None;
    }
    // Terraform accepts decimal literals with an optional exponent, nothing else (no hex, no inf).
    let ok = t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !ok {
        return None;
    }
    BigDecimal::from_str(t).ok().and_then(|n| checked_number(n).ok())
}

/// The JSON form of a value, as stored in state and shown by `--json`. Sensitive marks are
/// dropped (callers record sensitive paths separately); unknowns become null.
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Unknown => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            let text = format_number(n);
            serde_json::from_str::<serde_json::Number>(&text).map(serde_json::Value::Number).unwrap_or(serde_json::Value::String(text))
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => serde_json::Value::Array(v.iter().map(to_json).collect()),
        Value::Map(m) | Value::Object(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Sensitive(inner) => to_json(inner),
    }
}

/// Reads JSON without a schema: arrays become tuples, objects become objects.
pub fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => BigDecimal::from_str(&n.to_string()).map(Value::Number).unwrap_or(Value::Null),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Tuple(a.iter().map(from_json).collect()),
        serde_json::Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// Paths (as JSON arrays of keys and indexes) of every sensitive value inside `v`.
pub fn sensitive_paths(v: &Value) -> Vec<Vec<serde_json::Value>> {
    paths_where(v, &|v| (matches!(v, Value::Sensitive(_)), v))
}

/// Paths (as in [`sensitive_paths`]) of every unknown value inside `v`, looking through
/// sensitive marks: with [`to_json`], which writes unknowns as null, they keep a planned value
/// whole.
pub fn unknown_paths(v: &Value) -> Vec<Vec<serde_json::Value>> {
    paths_where(v, &|v| {
        let v = v.unmark().0;
        (matches!(v, Value::Unknown), v)
    })
}

/// Paths of the values `test` picks, walking into what `test` hands back for the others.
fn paths_where<'v>(v: &'v Value, test: &dyn Fn(&'v Value) -> (bool, &'v Value)) -> Vec<Vec<serde_json::Value>> {
    fn walk<'v>(v: &'v Value, test: &dyn Fn(&'v Value) -> (bool, &'v Value), path: &mut Vec<serde_json::Value>, out: &mut Vec<Vec<serde_json::Value>>) {
        let (hit, inner) = test(v);
        if hit {
            out.push(path.clone());
            return;
        }
        match inner {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(serde_json::Value::from(i));
                    walk(item, test, path, out);
                    path.pop();
                }
            }
            Value::Map(m) | Value::Object(m) => {
                for (k, item) in m {
                    path.push(serde_json::Value::String(k.clone()));
                    walk(item, test, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, test, &mut Vec::new(), &mut out);
    out
}

/// Puts unknowns back at the given paths (the inverse of [`unknown_paths`]); apply it before
/// [`apply_sensitive_paths`], which marks what it finds at a path.
pub fn apply_unknown_paths(v: Value, paths: &[Vec<serde_json::Value>]) -> Value {
    let mut v = v;
    for path in paths {
        v = set_path(v, path, &|_| Value::Unknown);
    }
    v
}

/// Puts sensitive marks back at the given paths (the inverse of [`sensitive_paths`]).
pub fn apply_sensitive_paths(v: Value, paths: &[Vec<serde_json::Value>]) -> Value {
    let mut v = v;
    for path in paths {
        v = mark_path(v, path);
    }
    v
}

fn mark_path(v: Value, path: &[serde_json::Value]) -> Value {
    set_path(v, path, &Value::sensitive)
}

/// Replaces the value at `path` by `f` of it; a path that leads nowhere changes nothing.
fn set_path(v: Value, path: &[serde_json::Value], f: &dyn Fn(Value) -> Value) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return f(v);
    };
    match v {
        Value::Map(mut m) | Value::Object(mut m) if first.is_string() => {
            let key = first.as_str().unwrap_or_default().to_string();
            if let Some(inner) = m.remove(&key) {
                m.insert(key, set_path(inner, rest, f));
            }
            Value::Object(m)
        }
        Value::List(mut items) | Value::Tuple(mut items) | Value::Set(mut items) if first.is_u64() => {
            let i = first.as_u64().unwrap_or(0) as usize;
            if i < items.len() {
                let inner = std::mem::replace(&mut items[i], Value::Null);
                items[i] = set_path(inner, rest, f);
            }
            Value::Tuple(items)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_terraform() {
        let n = |s: &str| format_number(&BigDecimal::from_str(s).unwrap());
        assert_eq!(n("2.000"), "2");
        assert_eq!(n("0.5"), "0.5");
        assert_eq!(n("1e3"), "1000");
        assert_eq!(n("123456789012345678901234567890"), "123456789012345678901234567890");
    }

    #[test]
    fn sensitive_paths_round_trip() {
        let v = Value::object([("a", Value::string("x").sensitive()), ("b", Value::int(1))]);
        let paths = sensitive_paths(&v);
        assert_eq!(paths, vec![vec![serde_json::Value::String("a".into())]]);
        let back = apply_sensitive_paths(v.deep_unmark(), &paths);
        assert!(back.get_attr("a").unwrap().is_sensitive());
        assert!(!back.get_attr("b").unwrap().is_sensitive());
    }

    #[test]
    fn a_changed_copy_of_an_object_leaves_the_original_alone() {
        let original = Value::object([("a", Value::int(1)), ("b", Value::object([("c", Value::string("x"))]))]);
        let mut copy = original.clone();
        let (Value::Object(a), Value::Object(b)) = (&original, &copy) else { panic!("objects") };
        assert!(Arc::ptr_eq(&a.0, &b.0), "a copy shares the entries");
        if let Value::Object(m) = &mut copy {
            m.insert("a".into(), Value::int(2));
        }
        assert_eq!(original.get_attr("a"), Some(&Value::int(1)));
        assert_eq!(copy.get_attr("a"), Some(&Value::int(2)));
        assert_eq!(original.get_attr("b"), copy.get_attr("b"));
        assert_ne!(original, copy);
        let entries: BTreeMap<String, Value> = original.as_map().unwrap().clone();
        assert_eq!(Value::Object(entries.into()), original);
    }
}
