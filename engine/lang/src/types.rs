//! Type constraints (`string`, `list(number)`, `object({ a = optional(string, "x") })`, `any`)
//! and Terraform's conversions between values: `"1"` converts to `1`, `true` to `"true"`,
//! tuples to lists, objects to maps, and back where the shape allows.

use crate::value::{format_number, parse_number, Value};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Any,
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, ObjectAttr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectAttr {
    pub ty: Type,
    pub optional: bool,
    /// Default for an optional attribute (`optional(type, default)`).
    pub default: Option<Value>,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => write!(f, "any"),
            Type::Bool => write!(f, "bool"),
            Type::Number => write!(f, "number"),
            Type::String => write!(f, "string"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                write!(f, "tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, "])")
            }
            Type::Object(attrs) => {
                write!(f, "object({{")?;
                for (i, (k, a)) in attrs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if a.optional {
                        write!(f, "{k}=optional({})", a.ty)?;
                    } else {
                        write!(f, "{k}={}", a.ty)?;
                    }
                }
                write!(f, "}})")
            }
        }
    }
}

/// The exact type of a value, as the `type()` function and error messages show it.
pub fn type_of(v: &Value) -> Type {
    match v.unmark().0 {
        Value::Null | Value::Unknown => Type::Any,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::List(Box::new(items.first().map(type_of).unwrap_or(Type::Any))),
        Value::Set(items) => Type::Set(Box::new(items.first().map(type_of).unwrap_or(Type::Any))),
        Value::Tuple(items) => Type::Tuple(items.iter().map(type_of).collect()),
        Value::Map(m) => Type::Map(Box::new(m.values().next().map(type_of).unwrap_or(Type::Any))),
        Value::Object(m) => Type::Object(m.iter().map(|(k, v)| (k.clone(), ObjectAttr { ty: type_of(v), optional: false, default: None })).collect()),
        Value::Sensitive(_) => Type::Any,
    }
}

/// Converts `v` to type `ty` the way Terraform does for variables and arguments.
pub fn convert(v: &Value, ty: &Type) -> Result<Value, String> {
    let (inner, marked) = v.unmark();
    let out = convert_unmarked(inner, ty)?;
    Ok(out.mark_if(marked))
}

fn convert_unmarked(v: &Value, ty: &Type) -> Result<Value, String> {
    if matches!(v, Value::Null | Value::Unknown) || *ty == Type::Any {
        return Ok(v.clone());
    }
    match ty {
        Type::Any => Ok(v.clone()),
        Type::String => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::String(format_number(n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(format!("string required, but have {}", describe(v))),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => parse_number(s).map(Value::Number).ok_or_else(|| format!("a number is required, but \"{s}\" is not a number")),
            _ => Err(format!("number required, but have {}", describe(v))),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            Value::String(s) => Err(format!("a bool is required, but \"{s}\" is not true or false")),
            _ => Err(format!("bool required, but have {}", describe(v))),
        },
        Type::List(et) | Type::Set(et) => {
            let items = match v {
                Value::List(i) | Value::Tuple(i) | Value::Set(i) => i,
                _ => return Err(format!("{} required, but have {}", ty_kind(ty), describe(v))),
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(item, et).map_err(|e| format!("element {i}: {e}"))?);
            }
            let et_is_any = **et == Type::Any;
            if et_is_any {
                out = unify_elements(out)?;
            }
            if matches!(ty, Type::Set(_)) {
                Ok(Value::set(out))
            } else {
                Ok(Value::List(out))
            }
        }
        Type::Map(et) => {
            let items = match v {
                Value::Map(m) | Value::Object(m) => m,
                _ => return Err(format!("map required, but have {}", describe(v))),
            };
            let mut out = BTreeMap::new();
            for (k, item) in items {
                out.insert(k.clone(), convert(item, et).map_err(|e| format!("element \"{k}\": {e}"))?);
            }
            if **et == Type::Any {
                let keys: Vec<String> = out.keys().cloned().collect();
                let vals = unify_elements(out.into_values().collect())?;
                out = keys.into_iter().zip(vals).collect();
            }
            Ok(Value::Map(out.into()))
        }
        Type::Tuple(types) => {
            let items = match v {
                Value::List(i) | Value::Tuple(i) | Value::Set(i) => i,
                _ => return Err(format!("tuple required, but have {}", describe(v))),
            };
            if items.len() != types.len() {
                return Err(format!("tuple required with {} elements, but have {}", types.len(), items.len()));
            }
            let mut out = Vec::new();
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                out.push(convert(item, t).map_err(|e| format!("element {i}: {e}"))?);
            }
            Ok(Value::Tuple(out))
        }
        Type::Object(attrs) => {
            let items = match v {
                Value::Map(m) | Value::Object(m) => m,
                _ => return Err(format!("object required, but have {}", describe(v))),
            };
            let mut out = BTreeMap::new();
            let mut missing = Vec::new();
            for (name, attr) in attrs {
                match items.get(name) {
                    Some(item) if !(item.is_null() && attr.optional) => {
                        out.insert(name.clone(), convert(item, &attr.ty).map_err(|e| format!("attribute \"{name}\": {e}"))?);
                    }
                    _ if attr.optional => {
                        out.insert(name.clone(), attr.default.clone().unwrap_or(Value::Null));
                    }
                    _ => missing.push(format!("\"{name}\"")),
                }
            }
            // Every missing attribute at once, in Terraform's words.
            match missing.as_slice() {
                [] => Ok(Value::Object(out.into())),
                [one] => Err(format!("attribute {one} is required")),
                [first, last] => Err(format!("attributes {first} and {last} are required")),
                [init @ .., last] => Err(format!("attributes {}, and {last} are required", init.join(", "))),
            }
        }
    }
}

fn ty_kind(ty: &Type) -> &'static str {
    match ty {
        Type::List(_) => "list",
        Type::Set(_) => "set",
        _ => "collection",
    }
}

fn describe(v: &Value) -> String {
    match v.unmark().0 {
        Value::Object(_) => "object".into(),
        Value::Tuple(_) => "tuple".into(),
        other => other.type_name().into(),
    }
}

/// Brings the elements of a collection built from `any` to one type: if any is a string and
/// the others are primitives, all become strings, as Terraform unifies them.
pub fn unify_elements(items: Vec<Value>) -> Result<Vec<Value>, String> {
    let known: Vec<&Value> = items.iter().filter(|v| !v.is_null() && !v.is_unknown()).collect();
    let Some(first) = known.first() else {
        return Ok(items);
    };
    let first_kind = first.type_name();
    if known.iter().all(|v| v.type_name() == first_kind) {
        return Ok(items);
    }
    let all_primitive = known.iter().all(|v| matches!(v.type_name(), "string" | "number" | "bool"));
    if all_primitive {
        return items.iter().map(|v| convert(v, &Type::String)).collect();
    }
    let structural = known.iter().all(|v| matches!(v.type_name(), "object" | "map")) || known.iter().all(|v| matches!(v.type_name(), "tuple" | "list"));
    if structural {
        return Ok(items);
    }
    Err("all elements must have the same type".into())
}

/// The result type of `cond ? a : b`: both sides converted to one type where they differ.
pub fn unify_pair(a: Value, b: Value) -> (Value, Value) {
    let (ia, _) = a.unmark();
    let (ib, _) = b.unmark();
    let prim = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    if prim(ia) && prim(ib) && ia.type_name() != ib.type_name() {
        let ca = convert(&a, &Type::String).unwrap_or(a);
        let cb = convert(&b, &Type::String).unwrap_or(b);
        return (ca, cb);
    }
    (a, b)
}
