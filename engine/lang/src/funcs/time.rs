//! Date and time functions: formatdate timeadd timecmp timestamp, on RFC 3339 timestamps.

use super::{arity, str_arg, FResult, FuncError};
use crate::value::Value;
use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike, Utc};

pub fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "timestamp" => arity(a, 0).map(|_| Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))),
        "timeadd" => arity(a, 2).and_then(|_| {
            let t = parse_ts(&str_arg(a, 0)?)?;
            let d = parse_duration(&str_arg(a, 1)?)?;
            let out = t.checked_add_signed(d).ok_or("resulting time is out of range")?;
            Ok(Value::String(format_rfc3339(&out)))
        }),
        "timecmp" => arity(a, 2).and_then(|_| {
            let x = parse_ts(&str_arg(a, 0)?)?;
            let y = parse_ts(&str_arg(a, 1)?)?;
            Ok(Value::int(match x.cmp(&y) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }))
        }),
        "formatdate" => arity(a, 2).and_then(|_| formatdate(&str_arg(a, 0)?, &parse_ts(&str_arg(a, 1)?)?)),
        _ => return None,
    })
}

fn format_rfc3339(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_ts(s: &str) -> Result<DateTime<FixedOffset>, FuncError> {
    DateTime::parse_from_rfc3339(s).map_err(|_| FuncError::Failed(format!("not a valid RFC3339 timestamp: {s:?}")))
}

/// Go duration syntax: a sequence of decimal numbers with units ns us µs ms s m h.
fn parse_duration(s: &str) -> Result<chrono::Duration, FuncError> {
    let bad = || FuncError::Failed(format!("time: invalid duration {s:?}"));
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total_ns: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total_ns += n * mult;
        rest = &rest[unit_len..];
    }
    let d = chrono::Duration::nanoseconds(total_ns as i64);
    Ok(if neg { -d } else { d })
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

fn formatdate(spec: &str, t: &DateTime<FixedOffset>) -> FResult {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let close = chars[i + 1..].iter().position(|&c| c == '\'').map(|p| p + i + 1).ok_or("unterminated literal '")?;
            if close == i + 1 {
                out.push('\'');
            } else {
                out.extend(&chars[i + 1..close]);
            }
            i = close + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let token: String = chars[i..i + run].iter().collect();
        let off = t.offset().local_minus_utc();
        let (oh, om) = ((off.abs() / 3600), (off.abs() % 3600) / 60);
        let sign = if off < 0 { '-' } else { '+' };
        let h12 = if t.hour().is_multiple_of(12) { 12 } else { t.hour() % 12 };
        let piece = match token.as_str() {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year() % 100),
            "MMMM" => MONTHS[t.month0() as usize].to_string(),
            "MMM" => MONTHS[t.month0() as usize][..3].to_string(),
            "MM" => format!("{:02}", t.month()),
            "M" => t.month().to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "EEEE" => DAYS[t.weekday().num_days_from_monday() as usize].to_string(),
            "EEE" => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_string(),
            "hh" => format!("{:02}", t.hour()),
            "h" => t.hour().to_string(),
            "HH" => format!("{h12:02}"),
            "H" => h12.to_string(),
            "AA" => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            "aa" => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "ZZZZZ" => format!("{sign}{oh:02}:{om:02}"),
            "ZZZZ" => format!("{sign}{oh:02}{om:02}"),
            "ZZZ" => {
                if off == 0 {
                    "UTC".into()
                } else {
                    format!("{sign}{oh:02}{om:02}")
                }
            }
            "Z" => {
                if off == 0 {
                    "Z".into()
                } else {
                    format!("{sign}{oh:02}:{om:02}")
                }
            }
            other => return Err(FuncError::Failed(format!("invalid date format verb {other:?}: quote literal text with single quotes"))),
        };
        out.push_str(&piece);
        i += run;
    }
    Ok(Value::String(out))
}
