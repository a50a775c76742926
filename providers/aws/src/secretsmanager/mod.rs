//! Secrets Manager: `aws_secretsmanager_secret` and `aws_secretsmanager_secret_version`, with
//! terraform-provider-aws names and import ids (the secret's ARN; `ARN|VERSION_ID`). A
//! secret's value is sensitive in the schema, so no plan, apply or `show` prints it.

use crate::common::*;
use aws_sdk_secretsmanager::types::Tag;
use std::collections::BTreeMap;

pub mod secret;
pub mod secret_version;

/// Whether an error says the secret does not exist (or is scheduled for deletion, for a read).
fn gone(e: &dyn ProvideErrorMetadata) -> bool {
    e.code() == Some("ResourceNotFoundException")
        || e.code() == Some("InvalidRequestException") && e.message().is_some_and(|m| m.contains("deleted") || m.contains("deletion"))
}

fn sm_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, `None` when it is not.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = B64.iter().position(|x| *x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "secret\u{0}\u{ff}"] {
            let e = super::base64_encode(s.as_bytes());
            assert_eq!(super::base64_decode(&e).as_deref(), Some(s.as_bytes()), "{e}");
        }
        assert_eq!(super::base64_encode(b"hello"), "aGVsbG8=");
        assert!(super::base64_decode("not base64!").is_none());
    }
}
