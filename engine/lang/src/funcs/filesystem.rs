//! Filesystem functions: abspath basename dirname file filebase64 fileexists fileset pathexpand
//! templatefile. Relative paths resolve against the stack directory.

use super::{arity, map_arg, str_arg, FResult, FuncCtx, FuncError};
use crate::value::Value;
use base64::Engine;
use std::path::{Path, PathBuf};

pub fn call(name: &str, a: &[Value], ctx: &FuncCtx) -> Option<FResult> {
    Some(match name {
        "abspath" => arity(a, 1).and_then(|_| {
            let p = resolve(ctx, &str_arg(a, 0)?);
            Ok(Value::String(normalize(&p).to_string_lossy().into_owned()))
        }),
        "basename" => arity(a, 1).and_then(|_| {
            let s = str_arg(a, 0)?;
            let t = s.trim_end_matches('/');
            Ok(Value::String(if t.is_empty() && !s.is_empty() { "/".into() } else { t.rsplit('/').next().unwrap_or("").to_string() }))
        }),
        "dirname" => arity(a, 1).and_then(|_| {
            let s = str_arg(a, 0)?;
            Ok(Value::String(match s.rfind('/') {
                Some(0) => "/".into(),
                Some(i) => s[..i].to_string(),
                None => ".".into(),
            }))
        }),
        "pathexpand" => arity(a, 1).and_then(|_| {
            let s = str_arg(a, 0)?;
            let home = std::env::var("HOME").unwrap_or_default();
            Ok(Value::String(if s == "~" {
                home
            } else if let Some(rest) = s.strip_prefix("~/") {
                format!("{home}/{rest}")
            } else {
                s
            }))
        }),
        "file" => arity(a, 1).and_then(|_| {
            let bytes = read(ctx, &str_arg(a, 0)?)?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| "contents of the file are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents".into())
        }),
        "filebase64" => arity(a, 1).and_then(|_| Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(read(ctx, &str_arg(a, 0)?)?)))),
        "fileexists" => arity(a, 1).and_then(|_| {
            let p = resolve(ctx, &str_arg(a, 0)?);
            match std::fs::metadata(&p) {
                Ok(m) if m.is_file() => Ok(Value::Bool(true)),
                Ok(_) => Err(FuncError::Failed(format!("{} is not a regular file", p.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
                Err(e) => Err(FuncError::Failed(format!("failed to stat {}: {e}", p.display()))),
            }
        }),
        "fileset" => arity(a, 2).and_then(|_| fileset(ctx, &str_arg(a, 0)?, &str_arg(a, 1)?)),
        "templatefile" => arity(a, 2).and_then(|_| {
            let text = String::from_utf8(read(ctx, &str_arg(a, 0)?)?).map_err(|_| FuncError::Failed("template file is not valid UTF-8".into()))?;
            let vars = map_arg(a, 1)?;
            // modcycles: allowed. The one import from the function library back into the
            // evaluator is the language's own recursion: a template is an expression.
            crate::eval::eval_template_text(&text, vars, ctx).map_err(FuncError::Failed)
        }),
        _ => return None,
    })
}

pub(crate) fn resolve(ctx: &FuncCtx, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        ctx.base_dir.join(path)
    }
}

pub(crate) fn read(ctx: &FuncCtx, p: &str) -> Result<Vec<u8>, FuncError> {
    let path = resolve(ctx, p);
    let bytes = std::fs::read(&path).map_err(|e| FuncError::Failed(format!("no file exists at {p:?}: {e}")))?;
    if let Some(reads) = &ctx.reads {
        reads.record(&path, &bytes);
    }
    Ok(bytes)
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn fileset(ctx: &FuncCtx, dir: &str, pattern: &str) -> FResult {
    let root = resolve(ctx, dir);
    let glob =
        globset::GlobBuilder::new(pattern).literal_separator(true).build().map_err(|e| FuncError::Failed(format!("invalid pattern: {e}")))?.compile_matcher();
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).follow_links(false).into_iter().filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(&root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if glob.is_match(&rel) {
                out.push(Value::String(rel));
            }
        }
    }
    Ok(Value::set(out))
}
