//! String functions: chomp endswith format formatlist indent join lower regex regexall replace
//! split startswith strrev substr title trim trimprefix trimspace trimsuffix upper.

use super::{arity, int_arg, list_of_strings, seq_arg, str_arg, FResult, FuncError};
use crate::types::{convert, Type};
use crate::value::{format_number, Value};
use bigdecimal::ToPrimitive;
use std::collections::BTreeMap;

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "chomp" => arity(a, 1).and_then(|_| Ok(Value::String(str_arg(a, 0)?.trim_end_matches(['\n', '\r']).to_string()))),
        "endswith" => arity(a, 2).and_then(|_| Ok(Value::Bool(str_arg(a, 0)?.ends_with(&str_arg(a, 1)?)))),
        "startswith" => arity(a, 2).and_then(|_| Ok(Value::Bool(str_arg(a, 0)?.starts_with(&str_arg(a, 1)?)))),
        "lower" => arity(a, 1).and_then(|_| Ok(Value::String(str_arg(a, 0)?.to_lowercase()))),
        "upper" => arity(a, 1).and_then(|_| Ok(Value::String(str_arg(a, 0)?.to_uppercase()))),
        "title" => arity(a, 1).and_then(|_| Ok(Value::String(title(&str_arg(a, 0)?)))),
        "strrev" => arity(a, 1).and_then(|_| Ok(Value::String(str_arg(a, 0)?.chars().rev().collect()))),
        "trimspace" => arity(a, 1).and_then(|_| Ok(Value::String(str_arg(a, 0)?.trim().to_string()))),
        "trim" => arity(a, 2).and_then(|_| {
            let cut: Vec<char> = str_arg(a, 1)?.chars().collect();
            Ok(Value::String(str_arg(a, 0)?.trim_matches(|c| cut.contains(&c)).to_string()))
        }),
        "trimprefix" => arity(a, 2).and_then(|_| {
            let s = str_arg(a, 0)?;
            let p = str_arg(a, 1)?;
            Ok(Value::String(s.strip_prefix(p.as_str()).unwrap_or(&s).to_string()))
        }),
        "trimsuffix" => arity(a, 2).and_then(|_| {
            let s = str_arg(a, 0)?;
            let p = str_arg(a, 1)?;
            Ok(Value::String(s.strip_suffix(p.as_str()).unwrap_or(&s).to_string()))
        }),
        "indent" => arity(a, 2).and_then(|_| {
            let n = int_arg(a, 0)?;
            if n > 10_000 {
                return Err("the number of spaces is limited to 10000".into());
            }
            let pad = " ".repeat(n.max(0) as usize);
            let s = str_arg(a, 1)?;
            Ok(Value::String(s.split('\n').enumerate().map(|(i, l)| if i == 0 { l.to_string() } else { format!("{pad}{l}") }).collect::<Vec<_>>().join("\n")))
        }),
        "join" => join(a),
        "split" => arity(a, 2).and_then(|_| {
            let sep = str_arg(a, 0)?;
            let s = str_arg(a, 1)?;
            if s.is_empty() {
                return Ok(Value::List(vec![Value::String(String::new())]));
            }
            if sep.is_empty() {
                return Ok(list_of_strings(s.chars().map(String::from).collect()));
            }
            Ok(list_of_strings(s.split(sep.as_str()).map(str::to_string).collect()))
        }),
        "substr" => arity(a, 3).and_then(|_| substr(&str_arg(a, 0)?, int_arg(a, 1)?, int_arg(a, 2)?)),
        "replace" => arity(a, 3).and_then(|_| replace(&str_arg(a, 0)?, &str_arg(a, 1)?, &str_arg(a, 2)?)),
        "regex" => arity(a, 2).and_then(|_| regex_one(&str_arg(a, 0)?, &str_arg(a, 1)?)),
        "regexall" => arity(a, 2).and_then(|_| regex_all(&str_arg(a, 0)?, &str_arg(a, 1)?)),
        "format" => {
            if a.is_empty() {
                return Some(Err("format needs a format string".into()));
            }
            str_arg(a, 0).and_then(|f| format(&f, &a[1..]).map(Value::String))
        }
        "formatlist" => formatlist(a),
        _ => return None,
    })
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if at_word_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !c.is_alphanumeric() && c != '\'';
    }
    out
}

fn join(a: &[Value]) -> FResult {
    if a.len() < 2 {
        return Err("join needs a separator and at least one list".into());
    }
    let sep = str_arg(a, 0)?;
    let mut parts = Vec::new();
    for i in 1..a.len() {
        for item in seq_arg(a, i)? {
            if item.is_null() {
                return Err("element is null: cannot join a null value".into());
            }
            match convert(&item, &Type::String) {
                Ok(Value::String(s)) => parts.push(s),
                _ => return Err(format!("element must be a string, not {}", item.type_name()).into()),
            }
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn substr(s: &str, offset: i64, length: i64) -> FResult {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let mut start = if offset < 0 { n + offset } else { offset };
    if start < 0 {
        start = 0;
    }
    if start > n {
        return Err("offset is out of range".into());
    }
    let end = if length < 0 { n } else { (start + length).min(n) };
    Ok(Value::String(chars[start as usize..end.max(start) as usize].iter().collect()))
}

fn replace(s: &str, search: &str, with: &str) -> FResult {
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let re = regex::Regex::new(&search[1..search.len() - 1]).map_err(|e| FuncError::Failed(format!("invalid regular expression: {e}")))?;
        return Ok(Value::String(re.replace_all(s, with).into_owned()));
    }
    Ok(Value::String(s.replace(search, with)))
}

fn captures_value(re: &regex::Regex, caps: &regex::Captures) -> Value {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Value::String(caps.get(0).map(|m| m.as_str().to_string()).unwrap_or_default());
    }
    if names.iter().all(Option::is_some) {
        let mut m = BTreeMap::new();
        for name in names.into_iter().flatten() {
            m.insert(name.to_string(), caps.name(name).map(|c| Value::String(c.as_str().to_string())).unwrap_or(Value::Null));
        }
        return Value::Object(m.into());
    }
    Value::Tuple((1..caps.len()).map(|i| caps.get(i).map(|c| Value::String(c.as_str().to_string())).unwrap_or(Value::Null)).collect())
}

fn regex_one(pattern: &str, s: &str) -> FResult {
    let re = regex::Regex::new(pattern).map_err(|e| FuncError::Failed(format!("invalid regular expression: {e}")))?;
    match re.captures(s) {
        Some(c) => Ok(captures_value(&re, &c)),
        None => Err("pattern did not match any part of the given string".into()),
    }
}

fn regex_all(pattern: &str, s: &str) -> FResult {
    let re = regex::Regex::new(pattern).map_err(|e| FuncError::Failed(format!("invalid regular expression: {e}")))?;
    Ok(Value::List(re.captures_iter(s).map(|c| captures_value(&re, &c)).collect()))
}

/// printf-style formatting with Terraform's verbs: %s %d %f %e %g %t %q %v %x %X %o %b %%.
pub fn format(f: &str, args: &[Value]) -> Result<String, FuncError> {
    let chars: Vec<char> = f.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i < chars.len() && chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while i < chars.len() && "+-# 0".contains(chars[i]) {
            flags.push(chars[i]);
            i += 1;
        }
        // Explicit argument index: %[2]s
        if i < chars.len() && chars[i] == '[' {
            let close = chars[i..].iter().position(|&c| c == ']').map(|p| p + i).ok_or("unclosed argument index")?;
            let idx: usize = chars[i + 1..close].iter().collect::<String>().parse().map_err(|_| "invalid argument index")?;
            next_arg = idx.saturating_sub(1);
            i = close + 1;
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        if width.len() > 4 {
            return Err("a format width is limited to 9999".into());
        }
        let mut precision: Option<usize> = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let mut p = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                p.push(chars[i]);
                i += 1;
            }
            if p.len() > 4 {
                return Err("a format precision is limited to 9999".into());
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(&verb) = chars.get(i) else {
            return Err("format string ends with an incomplete verb".into());
        };
        i += 1;
        let arg = args.get(next_arg).ok_or_else(|| FuncError::Failed(format!("not enough arguments for format string (verb %{verb})")))?;
        next_arg += 1;
        let text = format_verb(verb, arg, precision, &flags)?;
        let w: usize = width.parse().unwrap_or(0);
        let n = text.chars().count();
        if n < w {
            let pad = w - n;
            if flags.contains('-') {
                out.push_str(&text);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f' | 'e' | 'g') {
                let (sign, digits) = if let Some(d) = text.strip_prefix('-') { ("-", d.to_string()) } else { ("", text.clone()) };
                out.push_str(sign);
                out.push_str(&"0".repeat(pad));
                out.push_str(&digits);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&text);
            }
        } else {
            out.push_str(&text);
        }
    }
    if next_arg < args.len() && !f.contains("%[") {
        return Err(FuncError::Failed(format!("too many arguments; no verbs left to use for argument {}", next_arg + 1)));
    }
    Ok(out)
}

fn format_verb(verb: char, arg: &Value, precision: Option<usize>, flags: &str) -> Result<String, FuncError> {
    let num = |arg: &Value| -> Result<bigdecimal::BigDecimal, FuncError> {
        match convert(arg, &Type::Number) {
            Ok(Value::Number(n)) => Ok(n),
            _ => Err(FuncError::Failed(format!("%{verb} requires a number, not {}", arg.type_name()))),
        }
    };
    Ok(match verb {
        's' => {
            let s = match convert(arg, &Type::String) {
                Ok(Value::String(s)) => s,
                _ if arg.is_null() => "null".to_string(),
                _ => serde_json::to_string(&crate::value::to_json(arg)).unwrap_or_default(),
            };
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        'v' => match arg.unmark().0 {
            Value::String(s) => s.clone(),
            Value::Number(n) => format_number(n),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            other => serde_json::to_string(&crate::value::to_json(other)).unwrap_or_default(),
        },
        'q' => match convert(arg, &Type::String) {
            Ok(Value::String(s)) => serde_json::to_string(&s).unwrap_or_default(),
            _ => return Err("%q requires a string".into()),
        },
        't' => match convert(arg, &Type::Bool) {
            Ok(Value::Bool(b)) => b.to_string(),
            _ => return Err("%t requires a bool".into()),
        },
        'd' => {
            let n = num(arg)?;
            if !n.is_integer() {
                return Err(FuncError::Failed(format!("%d requires an integer, not {}", format_number(&n))));
            }
            let s = format_number(&n);
            if flags.contains('+') && !s.starts_with('-') {
                format!("+{s}")
            } else {
                s
            }
        }
        'f' | 'F' => {
            let n = num(arg)?;
            let p = precision.unwrap_or(6);
            let r = n.with_scale_round(p as i64, bigdecimal::RoundingMode::HalfEven);
            let s = r.to_plain_string();
            if flags.contains('+') && !s.starts_with('-') {
                format!("+{s}")
            } else {
                s
            }
        }
        'e' | 'E' | 'g' | 'G' => {
            let f = num(arg)?.to_f64().unwrap_or(f64::NAN);
            let s = match (verb, precision) {
                ('e' | 'E', p) => go_exp(f, p.unwrap_or(6)),
                (_, Some(p)) => format!("{:.*}", p, f),
                _ => format!("{f}"),
            };
            if verb.is_uppercase() {
                s.to_uppercase()
            } else {
                s
            }
        }
        'x' | 'X' | 'o' | 'b' => {
            let n = num(arg)?;
            let i = n.to_i128().ok_or("integer out of range")?;
            let s = match verb {
                'x' => format!("{i:x}"),
                'X' => format!("{i:X}"),
                'o' => format!("{i:o}"),
                _ => format!("{i:b}"),
            };
            s
        }
        other => return Err(FuncError::Failed(format!("unsupported format verb %{other}"))),
    })
}

/// Go's %e form: mantissa, 'e', sign and at least two exponent digits.
fn go_exp(f: f64, p: usize) -> String {
    let s = format!("{:.*e}", p, f);
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn formatlist(a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err("formatlist needs a format string".into());
    }
    let f = str_arg(a, 0)?;
    let mut len: Option<usize> = None;
    for v in &a[1..] {
        if let Some(items) = v.as_seq() {
            match len {
                Some(l) if l != items.len() => return Err("all list arguments must have the same length".into()),
                _ => len = Some(items.len()),
            }
        }
    }
    let Some(n) = len else {
        return Ok(Value::List(vec![Value::String(format(&f, &a[1..])?)]));
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<Value> = a[1..].iter().map(|v| v.as_seq().map(|s| s[i].clone()).unwrap_or_else(|| v.clone())).collect();
        out.push(Value::String(format(&f, &row)?));
    }
    Ok(Value::List(out))
}
