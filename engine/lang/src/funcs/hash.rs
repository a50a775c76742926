//! Hash and crypto functions: base64sha256 bcrypt filesha256 (and the other file* hashes) md5
//! sha1 sha256 sha512 uuid uuidv5.

use super::filesystem::read;
use super::{arity, int_arg, str_arg, FResult, FuncCtx, FuncError};
use crate::value::Value;
use base64::Engine;
use sha1::Digest;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn call(name: &str, a: &[Value], ctx: &FuncCtx) -> Option<FResult> {
    let data = |a: &[Value]| -> Result<Vec<u8>, FuncError> {
        arity(a, 1)?;
        if name.starts_with("file") {
            read(ctx, &str_arg(a, 0)?)
        } else {
            Ok(str_arg(a, 0)?.into_bytes())
        }
    };
    Some(match name {
        "md5" | "filemd5" => data(a).map(|d| Value::String(hex(&md5::Md5::digest(&d)))),
        "sha1" | "filesha1" => data(a).map(|d| Value::String(hex(&sha1::Sha1::digest(&d)))),
        "sha256" | "filesha256" => data(a).map(|d| Value::String(hex(&sha2::Sha256::digest(&d)))),
        "sha512" | "filesha512" => data(a).map(|d| Value::String(hex(&sha2::Sha512::digest(&d)))),
        "base64sha256" | "filebase64sha256" => data(a).map(|d| Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&d)))),
        "uuid" => arity(a, 0).map(|_| Value::String(uuid::Uuid::new_v4().to_string())),
        "uuidv5" => arity(a, 2).and_then(|_| {
            let ns = str_arg(a, 0)?;
            let ns = match ns.as_str() {
                "dns" => uuid::Uuid::NAMESPACE_DNS,
                "url" => uuid::Uuid::NAMESPACE_URL,
                "oid" => uuid::Uuid::NAMESPACE_OID,
                "x500" => uuid::Uuid::NAMESPACE_X500,
                other => uuid::Uuid::parse_str(other).map_err(|_| FuncError::Failed(format!("uuidv5() doesn't support namespace {other:?}")))?,
            };
            Ok(Value::String(uuid::Uuid::new_v5(&ns, str_arg(a, 1)?.as_bytes()).to_string()))
        }),
        "bcrypt" => {
            if a.is_empty() || a.len() > 2 {
                return Some(Err("bcrypt takes a string and an optional cost".into()));
            }
            let cost = if a.len() == 2 { int_arg(a, 1) } else { Ok(10) };
            cost.and_then(|c| {
                let s = str_arg(a, 0)?;
                bcrypt::hash(s, c as u32).map(Value::String).map_err(|e| FuncError::Failed(format!("error occured generating password {e}")))
            })
        }
        _ => return None,
    })
}
