//! yamldecode as Terraform 1.11 decodes YAML (its go-cty-yaml v1.1 resolver): YAML 1.1 booleans
//! (`y`, `yes`, `on`... → true) and nulls (`~`, `null`...), YAML 1.2 integers (`0o17`, `0x1F`, no
//! `_`), timestamps as RFC 3339 strings, `<<` merge keys — all for plain (unquoted) scalars only:
//! a quoted scalar is always a string. serde_yaml hides whether a scalar was quoted, so this
//! walks libyaml's event stream (unsafe-libyaml, the parser serde_yaml itself uses).

use super::{FResult, FuncError};
use crate::value::{checked_number, format_number, Value};
use bigdecimal::BigDecimal;
use std::collections::{BTreeMap, BTreeSet};
use std::mem::MaybeUninit;
use std::str::FromStr;
use unsafe_libyaml as sys;

const STR: &str = "tag:yaml.org,2002:str";
const BINARY: &str = "tag:yaml.org,2002:binary";
const BOOL: &str = "tag:yaml.org,2002:bool";
const INT: &str = "tag:yaml.org,2002:int";
const FLOAT: &str = "tag:yaml.org,2002:float";
const NULL: &str = "tag:yaml.org,2002:null";
const TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";
const MAP: &str = "tag:yaml.org,2002:map";
const SEQ: &str = "tag:yaml.org,2002:seq";

pub fn decode(src: &str) -> FResult {
    let src = if src.is_empty() { "\n" } else { src };
    let mut p = Parser::new(src);
    let mut d = Decoder { anchors: BTreeMap::new(), pending: BTreeSet::new() };
    let (ev, at) = p.next()?;
    if !matches!(ev, Event::StreamStart) {
        return Err(at.err("missing stream start token"));
    }
    let (ev, at) = p.next()?;
    if !matches!(ev, Event::DocumentStart) {
        return Err(at.err("missing start of document"));
    }
    let v = d.value(&mut p)?;
    let (ev, at) = p.next()?;
    match ev {
        Event::DocumentEnd => {}
        Event::DocumentStart => return Err(at.err("only a single document is allowed")),
        _ => return Err(at.err("unexpected extra content after value")),
    }
    let (ev, at) = p.next()?;
    if !matches!(ev, Event::StreamEnd) {
        return Err(at.err("unexpected extra content after value"));
    }
    Ok(v)
}

/// Where an event starts (0-based, as libyaml counts).
#[derive(Clone, Copy)]
struct At {
    line: u64,
    column: u64,
}

impl At {
    fn err(self, msg: impl std::fmt::Display) -> FuncError {
        FuncError::Failed(format!("on line {}, column {}: {msg}", self.line + 1, self.column + 1))
    }
}

enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias(String),
    Scalar { anchor: Option<String>, tag: Option<String>, value: String, quoted: bool },
    SequenceStart { anchor: Option<String>, tag: Option<String> },
    SequenceEnd,
    MappingStart { anchor: Option<String>, tag: Option<String> },
    MappingEnd,
}

/// A libyaml parser over an owned copy of the input. Boxed: libyaml keeps a pointer to the
/// parser itself as its read handler's data, so it must not move.
struct Parser {
    sys: Box<MaybeUninit<sys::yaml_parser_t>>,
    input: Box<[u8]>,
    init: bool,
    failed: bool,
}

impl Parser {
    fn new(src: &str) -> Parser {
        let mut p = Parser { sys: Box::new(MaybeUninit::uninit()), input: src.as_bytes().into(), init: false, failed: false };
        // SAFETY: the parser is initialized in place in its box before any other use; the
        // input bytes live in `p.input`, whose heap allocation outlives the parser (dropped
        // after `yaml_parser_delete` in Drop) and never moves.
        unsafe {
            let ptr = p.sys.as_mut_ptr();
            if sys::yaml_parser_initialize(ptr).fail {
                p.failed = true;
                return p;
            }
            p.init = true;
            sys::yaml_parser_set_encoding(ptr, sys::YAML_UTF8_ENCODING);
            sys::yaml_parser_set_input_string(ptr, p.input.as_ptr(), p.input.len() as u64);
        }
        p
    }

    fn next(&mut self) -> Result<(Event, At), FuncError> {
        if self.failed {
            return Err(self.syntax_error());
        }
        let mut ev = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialized (`failed` is false); on success libyaml fills the
        // event, which is read according to its type and then freed exactly once.
        unsafe {
            if sys::yaml_parser_parse(self.sys.as_mut_ptr(), ev.as_mut_ptr()).fail {
                self.failed = true;
                return Err(self.syntax_error());
            }
            let e = &*ev.as_ptr();
            let at = At { line: e.start_mark.line, column: e.start_mark.column };
            let out = match e.type_ {
                sys::YAML_STREAM_START_EVENT => Event::StreamStart,
                sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
                sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                sys::YAML_ALIAS_EVENT => Event::Alias(cstr(e.data.alias.anchor).unwrap_or_default()),
                sys::YAML_SCALAR_EVENT => {
                    let s = e.data.scalar;
                    let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                    Event::Scalar {
                        anchor: cstr(s.anchor),
                        tag: cstr(s.tag),
                        value: String::from_utf8_lossy(bytes).into_owned(),
                        quoted: matches!(s.style, sys::YAML_SINGLE_QUOTED_SCALAR_STYLE | sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE),
                    }
                }
                sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart { anchor: cstr(e.data.sequence_start.anchor), tag: cstr(e.data.sequence_start.tag) },
                sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                sys::YAML_MAPPING_START_EVENT => Event::MappingStart { anchor: cstr(e.data.mapping_start.anchor), tag: cstr(e.data.mapping_start.tag) },
                sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                _ => {
                    sys::yaml_event_delete(ev.as_mut_ptr());
                    return Err(at.err("unexpected parser event"));
                }
            };
            sys::yaml_event_delete(ev.as_mut_ptr());
            Ok((out, at))
        }
    }

    /// libyaml's own error fields are private to unsafe-libyaml; serde_yaml runs the same
    /// parser and reports the same problem with its position.
    fn syntax_error(&self) -> FuncError {
        let src = String::from_utf8_lossy(&self.input);
        match serde_yaml::from_str::<serde_yaml::Value>(&src) {
            Err(e) => match e.location() {
                Some(l) => {
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    FuncError::Failed(format!("on line {}, column {}: {msg}", l.line(), l.column()))
                }
                None => FuncError::Failed(e.to_string()),
            },
            Ok(_) => FuncError::Failed("invalid YAML syntax".into()),
        }
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        if self.init {
            // SAFETY: initialized in `new` (`init`), deleted exactly once.
            unsafe { sys::yaml_parser_delete(self.sys.as_mut_ptr()) }
        }
    }
}

/// SAFETY: `p` is null or a NUL-terminated string owned by a live libyaml event.
unsafe fn cstr(p: *const u8) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let c = unsafe { std::ffi::CStr::from_ptr(p as *const std::ffi::c_char) };
    Some(String::from_utf8_lossy(c.to_bytes()).into_owned())
}

struct Decoder {
    anchors: BTreeMap<String, Value>,
    pending: BTreeSet<String>,
}

impl Decoder {
    fn value(&mut self, p: &mut Parser) -> FResult {
        let (ev, at) = p.next()?;
        self.from_event(ev, at, p)
    }

    fn from_event(&mut self, ev: Event, at: At, p: &mut Parser) -> FResult {
        match ev {
            Event::Scalar { anchor, tag, value, quoted } => {
                self.begin(&anchor);
                let v = resolve(tag.as_deref(), &value, quoted).map_err(|e| at.err(e))?;
                self.complete(anchor, &v);
                Ok(v)
            }
            Event::Alias(name) => {
                if self.pending.contains(&name) {
                    return Err(at.err(format!("cannot refer to anchor {} from inside its own definition", quote(&name))));
                }
                self.anchors.get(&name).cloned().ok_or_else(|| at.err(format!("reference to undefined anchor {}", quote(&name))))
            }
            Event::MappingStart { anchor, tag } => {
                if let Some(t) = tag.as_deref().filter(|t| *t != MAP) {
                    return Err(at.err(format!("can't interpret mapping as {t}")));
                }
                self.begin(&anchor);
                let v = self.mapping(p)?;
                self.complete(anchor, &v);
                Ok(v)
            }
            Event::SequenceStart { anchor, tag } => {
                if let Some(t) = tag.as_deref().filter(|t| *t != SEQ) {
                    return Err(at.err(format!("can't interpret sequence as {t}")));
                }
                self.begin(&anchor);
                let mut items = Vec::new();
                loop {
                    let (ev, at) = p.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.from_event(ev, at, p)?);
                }
                let v = Value::Tuple(items);
                self.complete(anchor, &v);
                Ok(v)
            }
            Event::DocumentStart => Err(at.err("only a single document is allowed")),
            Event::StreamEnd => Err(at.err("expecting value but found end of stream")),
            Event::MappingEnd => Err(at.err("expecting value but found end of mapping")),
            Event::SequenceEnd => Err(at.err("expecting value but found end of sequence")),
            Event::StreamStart | Event::DocumentEnd => Err(at.err("unexpected parser event")),
        }
    }

    fn mapping(&mut self, p: &mut Parser) -> FResult {
        let mut out = BTreeMap::new();
        loop {
            let (ev, at) = p.next()?;
            let (tag, value, quoted) = match ev {
                Event::MappingEnd => return Ok(Value::Object(out.into())),
                Event::Scalar { anchor, tag, value, quoted } => {
                    if anchor.is_some() {
                        self.begin(&anchor);
                        if let Ok(k) = resolve(tag.as_deref(), &value, quoted) {
                            self.complete(anchor, &k);
                        }
                    }
                    (tag, value, quoted)
                }
                _ => return Err(at.err("only strings are allowed as mapping keys")),
            };
            if tag.is_none() && !quoted && value == "<<" {
                // A merge key: the value's entries join this mapping.
                match self.value(p)? {
                    Value::Object(m) | Value::Map(m) => {
                        for (k, v) in m {
                            out.insert(k, v);
                        }
                    }
                    other => return Err(at.err(format!("cannot merge {} into mapping", friendly(&other)))),
                }
                continue;
            }
            let key = match resolve(tag.as_deref(), &value, quoted).map_err(|e| at.err(e))? {
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => format_number(&n),
                Value::Null => return Err(at.err("mapping key cannot be null")),
                _ => return Err(at.err("only strings are allowed as mapping keys")),
            };
            let v = self.value(p)?;
            out.insert(key, v);
        }
    }

    fn begin(&mut self, anchor: &Option<String>) {
        if let Some(a) = anchor {
            self.pending.insert(a.clone());
        }
    }

    fn complete(&mut self, anchor: Option<String>, v: &Value) {
        if let Some(a) = anchor {
            self.pending.remove(&a);
            self.anchors.insert(a, v.clone());
        }
    }
}

fn friendly(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Tuple(_) | Value::List(_) => "tuple",
        _ => "null",
    }
}

/// Go's %q for the plain ASCII names anchors and tags have.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The words YAML 1.1 resolves without a tag (go-cty-yaml's table).
fn word(s: &str) -> Option<Value> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => return None,
    })
}

fn is_infinity(s: &str) -> bool {
    matches!(s, ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF")
}

/// The value of one scalar, as go-cty-yaml's resolver gives it.
fn resolve(tag: Option<&str>, src: &str, quoted: bool) -> Result<Value, String> {
    let mut tag = match tag {
        None => None,
        Some(t @ (STR | BINARY | BOOL | INT | FLOAT | NULL | TIMESTAMP)) => Some(t),
        Some(t) => return Err(format!("unsupported tag {}", quote(t))),
    };
    // The first character hints at what an untyped scalar may be.
    let hint = match src.as_bytes().first() {
        None => Some('N'),
        Some(b'+' | b'-') => Some('S'),
        Some(b'0'..=b'9') => Some('D'),
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => Some('M'),
        Some(b'.') => Some('.'),
        Some(_) => None,
    };
    if let (Some(hint), false) = (hint, matches!(tag, Some(STR | BINARY))) {
        if quoted {
            return Ok(Value::String(src.to_string()));
        }
        if let Some(v) = word(src) {
            return Ok(v);
        }
        if is_infinity(src) {
            return Err("infinity cannot be represented as a number here".into());
        }
        if tag.is_none() && matches!(src, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".into());
        }
        match hint {
            '.' => {
                if is_float(src) {
                    return number(src);
                }
            }
            'D' | 'S' => {
                if matches!(tag, None | Some(TIMESTAMP)) {
                    if let Some(t) = timestamp(src) {
                        return Ok(Value::String(t));
                    }
                }
                if is_int(src) {
                    tag = Some(INT);
                } else if is_float(src) {
                    tag = Some(FLOAT);
                }
            }
            _ => {}
        }
    }
    match tag {
        None | Some(STR) => Ok(Value::String(src.to_string())),
        Some(BINARY) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(src).map_err(|_| format!("cannot parse {} as {BINARY}: not valid base64", quote(src)))?;
            Ok(Value::String(src.to_string()))
        }
        Some(BOOL) => match word(src) {
            Some(v @ Value::Bool(_)) => Ok(v),
            _ => Err(format!("cannot parse {} as {BOOL}", quote(src))),
        },
        Some(t @ (INT | FLOAT)) => {
            let plain = src.replace('_', "");
            if is_float(&plain) {
                return number(&plain);
            }
            go_int(&plain).map(|n| Value::Number(BigDecimal::from(n))).ok_or_else(|| format!("cannot parse {} as {t}", quote(src)))
        }
        Some(TIMESTAMP) => timestamp(src).map(Value::String).ok_or_else(|| format!("cannot parse {} as {TIMESTAMP}", quote(src))),
        Some(_) => Ok(Value::Null),
    }
}

fn number(s: &str) -> Result<Value, String> {
    BigDecimal::from_str(s).map_err(|_| format!("cannot parse {} as a number", quote(s))).and_then(checked_number).map(Value::Number)
}

/// YAML 1.2 core integers: decimal, `0o` octal, `0x` hexadecimal, with an optional sign.
fn is_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if let Some(oct) = body.strip_prefix("0o") {
        !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
    } else if let Some(hex) = body.strip_prefix("0x") {
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mant),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mant_ok && exp_ok
}

/// Go's strconv.ParseInt/ParseUint with base 0 (64-bit): `0x`, `0o`, `0b` and leading-`0`
/// octal prefixes.
fn go_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let n = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        (n <= 1u128 << 63).then(|| -(n as i128))
    } else {
        (n <= u64::MAX as u128).then_some(n as i128)
    }
}

/// The timestamp forms go-cty-yaml accepts (`2006-1-2T15:4:5.999999999Z07:00`, the same with
/// `t`, `2006-1-2 15:4:5.999999999` in UTC, and `2006-1-2`), written back as RFC 3339 the way
/// Go formats it: whole seconds, `Z` for UTC.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let mut rest = &s[5..];
    let month = take_num(&mut rest, 1, 2)?;
    rest = rest.strip_prefix('-')?;
    let day = take_num(&mut rest, 1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut offset) = (0, 0, 0, 0i32);
    if !rest.is_empty() {
        let zoned = match rest.as_bytes()[0] {
            b'T' | b't' => true,
            b' ' => false,
            _ => return None,
        };
        rest = &rest[1..];
        h = take_num(&mut rest, 1, 2)?;
        rest = rest.strip_prefix(':')?;
        mi = take_num(&mut rest, 1, 2)?;
        rest = rest.strip_prefix(':')?;
        sec = take_num(&mut rest, 1, 2)?;
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return None;
            }
            rest = &frac[n..];
        }
        if zoned {
            if let Some(r) = rest.strip_prefix('Z') {
                rest = r;
            } else {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let z = rest.get(1..6)?;
                let zb = z.as_bytes();
                if zb[2] != b':' || !zb[..2].iter().chain(&zb[3..]).all(u8::is_ascii_digit) {
                    return None;
                }
                let (oh, om): (i32, i32) = (z[..2].parse().ok()?, z[3..].parse().ok()?);
                if oh > 24 || om > 59 {
                    return None;
                }
                offset = sign * (oh * 60 + om);
                rest = &rest[6..];
            }
        }
        if !rest.is_empty() {
            return None;
        }
    }
    let zone = if offset == 0 { "Z".to_string() } else { format!("{}{:02}:{:02}", if offset < 0 { '-' } else { '+' }, offset.abs() / 60, offset.abs() % 60) };
    Some(format!("{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{sec:02}{zone}"))
}

fn take_num(rest: &mut &str, min: usize, max: usize) -> Option<u32> {
    let n = rest.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    let v = rest[..n].parse().ok()?;
    *rest = &rest[n..];
    Some(v)
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        match decode(s) {
            Ok(v) => format!("{v:?}"),
            Err(FuncError::Failed(e)) => format!("error: {e}"),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn yaml11_booleans_plain_only() {
        for w in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            assert_eq!(resolve(None, w, false), Ok(Value::Bool(true)), "{w}");
            assert_eq!(resolve(None, w, true), Ok(Value::String(w.into())), "{w} quoted");
        }
        for w in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            assert_eq!(resolve(None, w, false), Ok(Value::Bool(false)), "{w}");
            assert_eq!(resolve(None, w, true), Ok(Value::String(w.into())), "{w} quoted");
        }
        for w in ["yES", "oN", "tRUE", "nO", "Yess", "offf"] {
            assert_eq!(resolve(None, w, false), Ok(Value::String(w.into())), "{w}");
        }
    }

    #[test]
    fn numbers_timestamps_and_nulls() {
        let n = |s: &str| resolve(None, s, false);
        let num = |s: &str| Ok(Value::Number(BigDecimal::from_str(s).unwrap()));
        assert_eq!(n("0x1F"), num("31"));
        assert_eq!(n("0o17"), num("15"));
        assert_eq!(n("017"), num("17"));
        assert_eq!(n("-12"), num("-12"));
        assert_eq!(n("1.5e3"), num("1500"));
        assert_eq!(n(".5"), num("0.5"));
        assert_eq!(n("10_000"), Ok(Value::String("10_000".into())));
        assert_eq!(n("0b101"), Ok(Value::String("0b101".into())));
        assert_eq!(n("+"), Ok(Value::String("+".into())));
        assert_eq!(resolve(Some(INT), "0b101", false), num("5"));
        assert_eq!(resolve(Some(INT), "1_000", false), num("1000"));
        assert!(resolve(Some(INT), "abc", false).is_err());
        assert_eq!(n("2001-12-14"), Ok(Value::String("2001-12-14T00:00:00Z".into())));
        assert_eq!(n("2001-12-14t21:59:43.10-05:00"), Ok(Value::String("2001-12-14T21:59:43-05:00".into())));
        assert_eq!(n("2001-12-14 21:59:43.10"), Ok(Value::String("2001-12-14T21:59:43Z".into())));
        assert_eq!(n("2001-2-30"), Ok(Value::String("2001-2-30".into())));
        assert_eq!(resolve(None, "2001-12-14", true), Ok(Value::String("2001-12-14".into())));
        for w in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(n(w), Ok(Value::Null), "{w}");
        }
        assert_eq!(resolve(Some(STR), "yes", false), Ok(Value::String("yes".into())));
        assert_eq!(resolve(Some(BOOL), "on", false), Ok(Value::Bool(true)));
        assert!(resolve(Some(BOOL), "maybe", false).is_err());
        assert_eq!(n(".nan"), Err("floating point NaN is not supported".into()));
    }

    #[test]
    fn documents() {
        assert_eq!(d("b: [x, y]"), format!("{:?}", decode("{b: [x, true]}").unwrap_or(Value::Null)));
        assert_eq!(d("a: 1\n---\nb: 2\n"), "error: on line 2, column 1: unexpected extra content after value");
        assert!(d("a: *nope").contains("reference to undefined anchor \"nope\""));
        assert!(d("a: [1\n").starts_with("error: on line"), "{}", d("a: [1\n"));
        assert!(d("~: 1").contains("mapping key cannot be null"));
        assert!(d("a: &x\n  b: 1\nc:\n  <<: [*x]\n").contains("cannot merge tuple into mapping"));
    }
}
