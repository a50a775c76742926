//! Numeric functions: abs ceil floor log max min parseint pow signum.

use super::{arity, int_arg, num_arg, str_arg, FResult, FuncError};
use crate::value::Value;
use bigdecimal::{BigDecimal, RoundingMode, Signed, ToPrimitive, Zero};

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "abs" => arity(a, 1).and_then(|_| Ok(Value::Number(num_arg(a, 0)?.abs()))),
        "ceil" => arity(a, 1).and_then(|_| Ok(Value::Number(num_arg(a, 0)?.with_scale_round(0, RoundingMode::Ceiling)))),
        "floor" => arity(a, 1).and_then(|_| Ok(Value::Number(num_arg(a, 0)?.with_scale_round(0, RoundingMode::Floor)))),
        "signum" => arity(a, 1).and_then(|_| {
            let n = num_arg(a, 0)?;
            Ok(Value::int(if n.is_zero() {
                0
            } else if n.is_negative() {
                -1
            } else {
                1
            }))
        }),
        "max" | "min" => minmax(name == "max", a),
        "pow" => arity(a, 2).and_then(|_| float2(a, f64::powf)),
        "log" => arity(a, 2).and_then(|_| float2(a, |x, b| x.ln() / b.ln())),
        "parseint" => arity(a, 2).and_then(|_| parseint(a)),
        _ => return None,
    })
}

fn minmax(max: bool, a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err("must pass at least one number".into());
    }
    let mut best = num_arg(a, 0)?;
    for i in 1..a.len() {
        let n = num_arg(a, i)?;
        if (max && n > best) || (!max && n < best) {
            best = n;
        }
    }
    Ok(Value::Number(best))
}

fn float2(a: &[Value], f: impl Fn(f64, f64) -> f64) -> FResult {
    let x = num_arg(a, 0)?.to_f64().ok_or("number out of range")?;
    let y = num_arg(a, 1)?.to_f64().ok_or("number out of range")?;
    let r = f(x, y);
    if r.fract() == 0.0 && r.abs() < 1e15 {
        return Ok(Value::Number(BigDecimal::from(r as i64)));
    }
    Value::number_from_f64(r).ok_or_else(|| FuncError::Failed("result is not a finite number".into()))
}

fn parseint(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let base = int_arg(a, 1)?;
    if !(2..=62).contains(&base) {
        return Err("base must be a whole number between 2 and 62 inclusive".into());
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return Err(format!("cannot parse {s:?} as a base {base} integer").into());
    }
    let mut acc = BigDecimal::zero();
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => -1,
        };
        if d < 0 || d >= base {
            return Err(format!("cannot parse {s:?} as a base {base} integer").into());
        }
        acc = acc * BigDecimal::from(base) + BigDecimal::from(d);
    }
    Ok(Value::Number(if neg { -acc } else { acc }))
}
