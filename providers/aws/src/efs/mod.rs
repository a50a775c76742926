//! Elastic File System: `aws_efs_file_system`, `aws_efs_mount_target` and
//! `aws_efs_backup_policy`, with terraform-provider-aws names and defaults, and what they share.
//!
//! Creates are idempotent by `CreationToken` (the create's token unless `creation_token` is
//! set); the intent tag also marks the file system, so `adopt` never takes over one a user made
//! by hand with the same token. A mount target is unique per file system and zone, so an
//! interrupted create is found by its subnet.

use crate::common::*;
use aws_sdk_efs::types::Tag;
use infra_provider::*;
use std::collections::BTreeMap;

pub mod backup_policy;
pub mod file_system;
pub mod mount_target;

/// Tags for EFS calls, with the intent tag when `token` is given.
fn efs_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Result<Vec<Tag>, Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))) {
        out.push(Tag::builder().key(k).value(v).build().map_err(|e| Diagnostic::error("Invalid tag", e.to_string()))?);
    }
    Ok(out)
}

/// Whether an error code says the object (or its file system) does not exist.
fn gone(code: Option<String>) -> bool {
    code.is_some_and(|c| c.ends_with("NotFound"))
}
