//! The function library, with results equal to Terraform's for the same inputs. `call` handles
//! what all functions share: unknown arguments give unknown results, sensitive arguments give
//! sensitive results, and impure functions are unknown while planning.

mod collection;
mod encoding;
mod filesystem;
mod hash;
mod network;
mod numeric;
mod string;
mod time;
mod yaml;

use crate::value::Value;
use bigdecimal::BigDecimal;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// When an evaluation happens. Impure functions (`timestamp`, `uuid`, `bcrypt`) give unknown
/// values while planning, as in Terraform, so that plans stay stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Validate,
    Plan,
    Apply,
    Console,
}

/// What a function call may see besides its arguments.
pub struct FuncCtx {
    pub base_dir: PathBuf,
    pub phase: Phase,
    /// Where `file`, `templatefile` and the other readers record what they read, when the
    /// caller wants to know (a saved plan pins those files).
    pub reads: Option<std::sync::Arc<FileReads>>,
}

/// The files functions read during a run: path to the SHA-256 (hex) of the bytes read.
#[derive(Debug, Default)]
pub struct FileReads(std::sync::Mutex<BTreeMap<PathBuf, String>>);

impl FileReads {
    pub fn record(&self, path: &std::path::Path, bytes: &[u8]) {
        use sha2::Digest;
        let digest: String = sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), digest);
    }

    /// Every file read so far with its digest, by path.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Debug)]
pub enum FuncError {
    Unknown,
    Failed(String),
    /// The call has `got` arguments where the function takes `want`: the diagnostic points at
    /// the first extra argument (or the call when one is missing), as Terraform's does.
    Arity {
        want: usize,
        got: usize,
    },
    /// Argument `index` (from 0) is the wrong kind of value: the diagnostic points at it.
    Arg {
        index: usize,
        msg: String,
    },
}

impl From<String> for FuncError {
    fn from(s: String) -> FuncError {
        FuncError::Failed(s)
    }
}

impl From<&str> for FuncError {
    fn from(s: &str) -> FuncError {
        FuncError::Failed(s.to_string())
    }
}

pub type FResult = Result<Value, FuncError>;

pub const NAMES: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    "base64decode",
    "base64encode",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "urlencode",
    "yamldecode",
    "yamlencode",
    "abspath",
    "basename",
    "dirname",
    "file",
    "filebase64",
    "fileexists",
    "fileset",
    "pathexpand",
    "templatefile",
    "formatdate",
    "timeadd",
    "timecmp",
    "timestamp",
    "base64sha256",
    "bcrypt",
    "filesha256",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "uuid",
    "uuidv5",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "can",
    "try",
    "nonsensitive",
    "sensitive",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "type",
    "issensitive",
    "filebase64sha256",
    "filemd5",
    "filesha1",
    "filesha512",
];

/// Functions whose result changes between calls: unknown while planning.
const IMPURE: &[&str] = &["timestamp", "uuid", "bcrypt"];

/// Functions that look inside collection elements and so need them known.
const DEEP: &[&str] = &[
    "jsonencode",
    "yamlencode",
    "sort",
    "distinct",
    "toset",
    "contains",
    "setunion",
    "setintersection",
    "setsubtract",
    "setproduct",
    "index",
    "compact",
    "sum",
    "alltrue",
    "anytrue",
    "join",
    "flatten",
    "format",
    "formatlist",
    "transpose",
    "tostring",
    "tonumber",
    "tobool",
    "coalesce",
    "templatefile",
    "zipmap",
    "max",
    "min",
];

pub fn call(name: &str, args: Vec<Value>, ctx: &FuncCtx) -> FResult {
    if !NAMES.contains(&name) {
        return Err(FuncError::Unknown);
    }
    match name {
        "sensitive" => return one_arg(&args).map(|v| v.clone().sensitive()),
        "nonsensitive" => return one_arg(&args).map(Value::deep_unmark),
        "issensitive" => return one_arg(&args).map(|v| Value::Bool(v.contains_sensitive())),
        "type" => return one_arg(&args).map(|v| Value::String(crate::types::type_of(v).to_string())),
        _ => {}
    }
    let marked = args.iter().any(Value::contains_sensitive);
    let args: Vec<Value> = if marked { args.iter().map(Value::deep_unmark).collect() } else { args };
    if IMPURE.contains(&name) && ctx.phase == Phase::Plan {
        return Ok(Value::Unknown.mark_if(marked));
    }
    let needs_deep = DEEP.contains(&name);
    if args.iter().any(|a| if needs_deep { !a.is_wholly_known() } else { a.is_unknown() }) {
        return Ok(Value::Unknown.mark_if(marked));
    }
    let out = dispatch(name, &args, ctx)?;
    Ok(out.mark_if(marked))
}

fn dispatch(name: &str, a: &[Value], ctx: &FuncCtx) -> FResult {
    if let Some(r) = numeric::call(name, a) {
        return r;
    }
    if let Some(r) = string::call(name, a) {
        return r;
    }
    if let Some(r) = collection::call(name, a) {
        return r;
    }
    if let Some(r) = encoding::call(name, a) {
        return r;
    }
    if let Some(r) = filesystem::call(name, a, ctx) {
        return r;
    }
    if let Some(r) = time::call(name, a) {
        return r;
    }
    if let Some(r) = hash::call(name, a, ctx) {
        return r;
    }
    if let Some(r) = network::call(name, a) {
        return r;
    }
    Err(FuncError::Unknown)
}

// Argument helpers shared by the function modules.

pub(crate) fn arity(a: &[Value], n: usize) -> Result<(), FuncError> {
    if a.len() != n {
        return Err(FuncError::Arity { want: n, got: a.len() });
    }
    Ok(())
}

fn one_arg(a: &[Value]) -> Result<&Value, FuncError> {
    arity(a, 1)?;
    Ok(&a[0])
}

pub(crate) fn str_arg(a: &[Value], i: usize) -> Result<String, FuncError> {
    let v = a.get(i).ok_or_else(|| FuncError::Arity { want: i + 1, got: a.len() })?;
    if v.is_null() {
        return Err(FuncError::Arg { index: i, msg: "it must not be null".to_string() });
    }
    match crate::types::convert(v, &crate::types::Type::String) {
        Ok(Value::String(s)) => Ok(s),
        _ => Err(FuncError::Arg { index: i, msg: format!("it must be a string, not {}", v.type_name()) }),
    }
}

pub(crate) fn num_arg(a: &[Value], i: usize) -> Result<BigDecimal, FuncError> {
    let v = a.get(i).ok_or_else(|| FuncError::Arity { want: i + 1, got: a.len() })?;
    match crate::types::convert(v, &crate::types::Type::Number) {
        Ok(Value::Number(n)) => Ok(n),
        _ => Err(FuncError::Arg { index: i, msg: format!("it must be a number, not {}", v.type_name()) }),
    }
}

pub(crate) fn int_arg(a: &[Value], i: usize) -> Result<i64, FuncError> {
    let n = num_arg(a, i)?;
    use bigdecimal::ToPrimitive;
    if !n.is_integer() {
        return Err(FuncError::Arg { index: i, msg: "it must be a whole number".to_string() });
    }
    n.to_i64().ok_or_else(|| FuncError::Arg { index: i, msg: "it is too large".to_string() })
}

pub(crate) fn seq_arg(a: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    let v = a.get(i).ok_or_else(|| FuncError::Arity { want: i + 1, got: a.len() })?;
    v.as_seq().map(<[Value]>::to_vec).ok_or_else(|| FuncError::Arg { index: i, msg: format!("it must be a list, tuple or set, not {}", v.type_name()) })
}

pub(crate) fn map_arg(a: &[Value], i: usize) -> Result<BTreeMap<String, Value>, FuncError> {
    let v = a.get(i).ok_or_else(|| FuncError::Arity { want: i + 1, got: a.len() })?;
    v.as_map().cloned().ok_or_else(|| FuncError::Arg { index: i, msg: format!("it must be a map or object, not {}", v.type_name()) })
}

pub(crate) fn list_of_strings(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}
