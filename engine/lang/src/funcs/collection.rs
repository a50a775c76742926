//! Collection functions: alltrue anytrue chunklist coalesce coalescelist compact concat contains
//! distinct element flatten index keys length lookup merge one range reverse setintersection
//! setproduct setsubtract setunion slice sort sum transpose values zipmap, and the conversions
//! tobool tolist tomap tonumber toset tostring.

use super::{arity, int_arg, map_arg, num_arg, seq_arg, str_arg, FResult, FuncError};
use crate::types::{convert, unify_elements, Type};
use crate::value::Value;
use bigdecimal::{BigDecimal, Zero};
use std::collections::BTreeMap;

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "length" => arity(a, 1).and_then(|_| length(&a[0])),
        "alltrue" | "anytrue" => arity(a, 1).and_then(|_| {
            let mut bools = Vec::new();
            for v in seq_arg(a, 0)? {
                bools.push(convert(&v, &Type::Bool).ok().and_then(|b| b.as_bool()).ok_or("elements must be bools")?);
            }
            Ok(Value::Bool(if name == "alltrue" { bools.iter().all(|b| *b) } else { bools.iter().any(|b| *b) }))
        }),
        "chunklist" => arity(a, 2).and_then(|_| {
            let items = seq_arg(a, 0)?;
            let size = int_arg(a, 1)?;
            if size < 0 {
                return Err("the size argument must be positive".into());
            }
            if size == 0 {
                return Ok(Value::List(vec![Value::List(items)]));
            }
            Ok(Value::List(items.chunks(size as usize).map(|c| Value::List(c.to_vec())).collect()))
        }),
        "coalesce" => {
            for v in a {
                if v.is_null() || v.as_str() == Some("") {
                    continue;
                }
                let unified = unify_elements(a.to_vec()).map_err(FuncError::from);
                return Some(unified.map(|_| v.clone()).map(|v| match (a.iter().any(|x| x.as_str().is_some()), &v) {
                    (true, Value::Number(_) | Value::Bool(_)) => convert(&v, &Type::String).unwrap_or(v),
                    _ => v,
                }));
            }
            Err("no non-null, non-empty-string arguments".into())
        }
        "coalescelist" => {
            for v in a {
                match v.as_seq() {
                    Some(items) if !items.is_empty() => return Some(Ok(v.clone())),
                    Some(_) => continue,
                    None => return Some(Err("all arguments must be lists or tuples".into())),
                }
            }
            Err("no non-empty list arguments".into())
        }
        "compact" => arity(a, 1).and_then(|_| {
            let items = seq_arg(a, 0)?;
            Ok(Value::List(items.into_iter().filter(|v| !v.is_null() && v.as_str() != Some("")).collect()))
        }),
        "concat" => {
            let mut out = Vec::new();
            for i in 0..a.len() {
                match seq_arg(a, i) {
                    Ok(items) => out.extend(items),
                    Err(e) => return Some(Err(e)),
                }
            }
            Ok(Value::Tuple(out)).map(|v| {
                if a.iter().all(|x| matches!(x, Value::List(_))) {
                    Value::List(v.as_seq().map(<[Value]>::to_vec).unwrap_or_default())
                } else {
                    v
                }
            })
        }
        "contains" => arity(a, 2).and_then(|_| Ok(Value::Bool(seq_arg(a, 0)?.iter().any(|v| v.equals(&a[1]))))),
        "distinct" => arity(a, 1).and_then(|_| {
            let mut out: Vec<Value> = Vec::new();
            for v in seq_arg(a, 0)? {
                if !out.iter().any(|o| o.equals(&v)) {
                    out.push(v);
                }
            }
            Ok(Value::List(out))
        }),
        "element" => arity(a, 2).and_then(|_| {
            let items = seq_arg(a, 0)?;
            if items.is_empty() {
                return Err("cannot use element function with an empty list".into());
            }
            let i = int_arg(a, 1)?;
            if i < 0 {
                return Err("cannot use element function with a negative index".into());
            }
            Ok(items[(i as usize) % items.len()].clone())
        }),
        "flatten" => arity(a, 1).and_then(|_| {
            let mut out = Vec::new();
            flatten(seq_arg(a, 0)?, &mut out);
            Ok(Value::Tuple(out))
        }),
        "index" => arity(a, 2).and_then(|_| {
            let items = seq_arg(a, 0)?;
            items.iter().position(|v| v.equals(&a[1])).map(|i| Value::int(i as i64)).ok_or_else(|| "item not found".into())
        }),
        "keys" => arity(a, 1).and_then(|_| {
            let m = map_arg(a, 0)?;
            let keys: Vec<Value> = m.keys().cloned().map(Value::String).collect();
            Ok(if matches!(a[0].unmark().0, Value::Map(_)) { Value::List(keys) } else { Value::Tuple(keys) })
        }),
        "values" => arity(a, 1).and_then(|_| {
            let m = map_arg(a, 0)?;
            let vals: Vec<Value> = m.into_values().collect();
            Ok(if matches!(a[0].unmark().0, Value::Map(_)) { Value::List(vals) } else { Value::Tuple(vals) })
        }),
        "lookup" => {
            if !(2..=3).contains(&a.len()) {
                return Some(Err("lookup takes a map, a key and an optional default".into()));
            }
            map_arg(a, 0).and_then(|m| {
                let k = str_arg(a, 1)?;
                match m.get(&k) {
                    Some(v) => Ok(v.clone()),
                    None => a.get(2).cloned().ok_or_else(|| FuncError::Failed(format!("lookup failed to find key \"{k}\""))),
                }
            })
        }
        "merge" => {
            let mut out = BTreeMap::new();
            let mut all_maps = true;
            for v in a {
                if v.is_null() {
                    continue;
                }
                match v.unmark().0 {
                    Value::Map(m) => out.extend(m.clone()),
                    Value::Object(m) => {
                        all_maps = false;
                        out.extend(m.clone())
                    }
                    _ => return Some(Err(format!("arguments must be maps or objects, got {}", v.type_name()).into())),
                }
            }
            Ok(if all_maps && !a.is_empty() { Value::Map(out.into()) } else { Value::Object(out.into()) })
        }
        "one" => arity(a, 1).and_then(|_| {
            let items = seq_arg(a, 0)?;
            match items.len() {
                0 => Ok(Value::Null),
                1 => Ok(items[0].clone()),
                n => Err(format!("must be a list, set, or tuple value with either zero or one elements, not {n}").into()),
            }
        }),
        "range" => range(a),
        "reverse" => arity(a, 1).and_then(|_| {
            let mut items = seq_arg(a, 0)?;
            items.reverse();
            Ok(if matches!(a[0].unmark().0, Value::Tuple(_)) { Value::Tuple(items) } else { Value::List(items) })
        }),
        "setunion" => sets(a).map(|sets| Value::set(sets.into_iter().flatten().collect())),
        "setintersection" => sets(a).map(|sets| {
            let mut iter = sets.into_iter();
            let first = iter.next().unwrap_or_default();
            let rest: Vec<Vec<Value>> = iter.collect();
            Value::set(first.into_iter().filter(|v| rest.iter().all(|s| s.iter().any(|x| x.equals(v)))).collect())
        }),
        "setsubtract" => arity(a, 2).and_then(|_| {
            let x = seq_arg(a, 0)?;
            let y = seq_arg(a, 1)?;
            Ok(Value::set(x.into_iter().filter(|v| !y.iter().any(|w| w.equals(v))).collect()))
        }),
        "setproduct" => sets(a).map(|sets| {
            let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
            for s in sets {
                let mut next = Vec::new();
                for prefix in &acc {
                    for v in &s {
                        let mut p = prefix.clone();
                        p.push(v.clone());
                        next.push(p);
                    }
                }
                acc = next;
            }
            let all_lists = a.iter().all(|v| matches!(v.unmark().0, Value::List(_) | Value::Tuple(_)));
            let rows: Vec<Value> = acc.into_iter().map(Value::Tuple).collect();
            if all_lists {
                Value::List(rows)
            } else {
                Value::set(rows)
            }
        }),
        "slice" => arity(a, 3).and_then(|_| {
            let items = seq_arg(a, 0)?;
            let (s, e) = (int_arg(a, 1)?, int_arg(a, 2)?);
            if s < 0 || e < s || e as usize > items.len() {
                return Err(format!("invalid slice indices {s}..{e} for a list of {} elements", items.len()).into());
            }
            Ok(Value::List(items[s as usize..e as usize].to_vec()))
        }),
        "sort" => arity(a, 1).and_then(|_| {
            let mut out = Vec::new();
            for v in seq_arg(a, 0)? {
                match convert(&v, &Type::String) {
                    Ok(Value::String(s)) => out.push(s),
                    _ => return Err("given list element must be a string".into()),
                }
            }
            out.sort();
            Ok(super::list_of_strings(out))
        }),
        "sum" => arity(a, 1).and_then(|_| {
            let items = seq_arg(a, 0)?;
            if items.is_empty() {
                return Err("cannot sum an empty list".into());
            }
            let mut total = BigDecimal::zero();
            for (i, v) in items.iter().enumerate() {
                total += num_arg(std::slice::from_ref(v), 0).map_err(|_| FuncError::Failed(format!("element {i} is not a number")))?;
            }
            Ok(Value::Number(total))
        }),
        "transpose" => arity(a, 1).and_then(|_| {
            let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in map_arg(a, 0)? {
                for item in v.as_seq().ok_or("values must be lists of strings")? {
                    out.entry(item.as_str().ok_or("values must be lists of strings")?.to_string()).or_default().push(k.clone());
                }
            }
            Ok(Value::Map(out.into_iter().map(|(k, v)| (k, super::list_of_strings(v))).collect()))
        }),
        "zipmap" => arity(a, 2).and_then(|_| {
            let keys = seq_arg(a, 0)?;
            let vals = seq_arg(a, 1)?;
            if keys.len() != vals.len() {
                return Err("number of keys and values must match".into());
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(vals) {
                let k = convert(k, &Type::String).ok().and_then(|k| k.as_str().map(str::to_string)).ok_or("keys must be strings")?;
                out.insert(k, v);
            }
            Ok(if matches!(a[1].unmark().0, Value::List(_)) { Value::Map(out.into()) } else { Value::Object(out.into()) })
        }),
        "tobool" => arity(a, 1).and_then(|_| convert(&a[0], &Type::Bool).map_err(FuncError::from)),
        "tonumber" => arity(a, 1).and_then(|_| convert(&a[0], &Type::Number).map_err(FuncError::from)),
        "tostring" => arity(a, 1).and_then(|_| match a[0].unmark().0 {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => convert(&a[0], &Type::String).map_err(FuncError::from),
            other => Err(format!("cannot convert {} to string", other.type_name()).into()),
        }),
        "tolist" => arity(a, 1).and_then(|_| convert(&a[0], &Type::List(Box::new(Type::Any))).map_err(FuncError::from)),
        "toset" => arity(a, 1).and_then(|_| convert(&a[0], &Type::Set(Box::new(Type::Any))).map_err(FuncError::from)),
        "tomap" => arity(a, 1).and_then(|_| convert(&a[0], &Type::Map(Box::new(Type::Any))).map_err(FuncError::from)),
        _ => return None,
    })
}

fn length(v: &Value) -> FResult {
    Ok(Value::int(match v.unmark().0 {
        Value::String(s) => s.chars().count() as i64,
        Value::List(i) | Value::Tuple(i) | Value::Set(i) => i.len() as i64,
        Value::Map(m) | Value::Object(m) => m.len() as i64,
        Value::Null => return Err("argument must not be null".into()),
        other => return Err(format!("argument must be a string, a collection type, or a structural type, not {}", other.type_name()).into()),
    }))
}

fn flatten(items: Vec<Value>, out: &mut Vec<Value>) {
    for v in items {
        match v.unmark().0 {
            Value::List(i) | Value::Tuple(i) | Value::Set(i) => flatten(i.clone(), out),
            _ => out.push(v),
        }
    }
}

fn sets(a: &[Value]) -> Result<Vec<Vec<Value>>, FuncError> {
    if a.is_empty() {
        return Err("at least one set is required".into());
    }
    (0..a.len()).map(|i| seq_arg(a, i)).collect()
}

fn range(a: &[Value]) -> FResult {
    let (start, limit, step) = match a.len() {
        1 => (BigDecimal::zero(), num_arg(a, 0)?, BigDecimal::from(1)),
        2 => {
            let (s, l) = (num_arg(a, 0)?, num_arg(a, 1)?);
            let step = if l < s { BigDecimal::from(-1) } else { BigDecimal::from(1) };
            (s, l, step)
        }
        3 => (num_arg(a, 0)?, num_arg(a, 1)?, num_arg(a, 2)?),
        _ => return Err("range takes one to three arguments".into()),
    };
    if step.is_zero() {
        return Err("step must not be zero".into());
    }
    if (step > BigDecimal::zero() && limit < start) || (step < BigDecimal::zero() && limit > start) {
        return Err("the step direction must match the direction from start to limit".into());
    }
    let mut out = Vec::new();
    let mut cur = start;
    while (step > BigDecimal::zero() && cur < limit) || (step < BigDecimal::zero() && cur > limit) {
        if out.len() >= 1024 {
            return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
        }
        out.push(Value::Number(cur.clone()));
        cur += &step;
    }
    Ok(Value::List(out))
}
