//! The saved plan file (`infra plan --out FILE`), version 2: the on-disk schema, separate from
//! engine types, beside the state schema because a saved plan is bound to one state's lineage
//! and serial and carries the refreshed state it was made from.
//!
//! A plan file pins what was reviewed: the digest of every configuration input, the prior
//! state, and for every instance its action and planned value (unknowns and sensitive paths
//! included), so that applying it never plans a known value again. It holds secrets (planned
//! values, variables): it is written readable only by its owner.
//!
//! `body_sha256` is the SHA-256 of the file's own body; a file edited by hand (or truncated)
//! no longer matches it and is refused. It detects edits and corruption, not a forger who
//! recomputes it: protect plan files as you protect the state.

use crate::StateFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PLAN_FORMAT_VERSION: u32 = 2;

/// A value as a plan holds it: its JSON (unknowns written as null), with the paths of the
/// unknowns and of the sensitive values inside it, as lists of keys and indexes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PlanValue {
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<Vec<serde_json::Value>>,
}

/// One instance's planned change.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedChange {
    pub address: String,
    /// The provider configuration: `aws` or `aws.west`.
    pub provider: String,
    /// `no-op`, `create`, `read`, `update`, `delete-then-create`, `create-then-delete`,
    /// `delete`.
    pub action: String,
    /// Why the action was chosen (`ReplaceBecauseCannotUpdate`, `DeleteBecauseEachKey`, ...);
    /// `None` when nothing needs saying.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<PlanValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<PlanValue>,
    /// Attributes whose change forced the replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// The configuration had values known only after apply: apply plans the instance again
    /// with them, and the result must agree with `after`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub config_unknown: bool,
}

/// A data source read while planning: applying uses this value, it does not read again.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DataRead {
    pub address: String,
    pub value: PlanValue,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<PlanValue>,
    pub after: PlanValue,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// The plan's mode.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum PlanFileMode {
    #[serde(rename = "Normal")]
    Normal,
    #[serde(rename = "Destroy")]
    Destroy,
    #[serde(rename = "RefreshOnly")]
    RefreshOnly,
}

impl PlanFileMode {
    pub fn name(self) -> &'static str {
        match self {
            PlanFileMode::Normal => "Normal",
            PlanFileMode::Destroy => "Destroy",
            PlanFileMode::RefreshOnly => "RefreshOnly",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    pub format_version: u32,
    /// The infra version that made the plan (informational: the format version decides).
    pub infra_version: String,
    /// The state the plan was made on: applying it refuses any other lineage or serial.
    pub lineage: String,
    pub serial: u64,
    pub mode: PlanFileMode,
    pub refresh: bool,
    pub refresh_full: bool,
    pub targets: Vec<String>,
    pub replace: Vec<String>,
    /// The root module's input variables as planned, so apply does not read them again.
    pub variables: BTreeMap<String, PlanValue>,
    /// Every configuration input, path (relative to the stack directory when below it) to
    /// the SHA-256 (hex) of its content: each `.tf`, `.hcl` and `.tf.json` file of the root
    /// and of every local module, the variable files used, and the files functions read
    /// while planning (`file`, `templatefile`, `filebase64`, ...). Applying refuses if any
    /// differs.
    pub config_files: BTreeMap<String, String>,
    /// The state the plan starts from: refreshed, with moves, imports and adoptions applied.
    pub prior_state: StateFile,
    /// Every instance the plan visited, no-ops included, in plan order.
    pub changes: Vec<PlannedChange>,
    /// Deletions of deposed objects (several may share an address).
    #[serde(default)]
    pub deposed: Vec<PlannedChange>,
    /// Objects that changed outside infra, found by refresh.
    #[serde(default)]
    pub drift: Vec<PlannedChange>,
    #[serde(default)]
    pub data: Vec<DataRead>,
    #[serde(default)]
    pub outputs: BTreeMap<String, PlannedOutput>,
    /// Instances an interrupted run created, found again by their create intent.
    #[serde(default)]
    pub adopted: Vec<String>,
    /// Create intents with nothing behind them; applying the plan drops them.
    #[serde(default)]
    pub dropped_intents: usize,
    /// When the plan was made (RFC 3339, UTC), for `show --json`'s `timestamp`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub timestamp: String,
    /// The configuration the plan was made from, in Terraform's JSON plan `configuration`
    /// shape (written by the CLI), so `show --json FILE` needs no stack directory.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub configuration: serde_json::Value,
    /// SHA-256 (hex) of the file written with this field empty.
    pub body_sha256: String,
}

/// The SHA-256 of `bytes` in hex, as plan files write digests.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl PlanFile {
    fn body_digest(&self) -> String {
        let body = PlanFile { body_sha256: String::new(), ..self.clone() };
        // Serializing strings, numbers, maps and JSON values cannot fail.
        sha256_hex(&serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The file's bytes: pretty JSON, with `body_sha256` set.
    pub fn to_bytes(&self) -> Vec<u8> {
        let sealed = PlanFile { body_sha256: self.body_digest(), ..self.clone() };
        serde_json::to_vec_pretty(&sealed).unwrap_or_default()
    }

    /// Reads a plan file's bytes; the error says why they are not a plan file this build can
    /// apply.
    pub fn from_bytes(bytes: &[u8]) -> Result<PlanFile, String> {
        let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("it is not JSON ({e})"))?;
        match raw.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == PLAN_FORMAT_VERSION as u64 => {}
            Some(1) => {
                return Err(format!(
                    "it has format_version 1, written by an older infra that did not record the planned values, and this build of infra reads only version {PLAN_FORMAT_VERSION}. Create a new plan"
                ))
            }
            Some(v) => return Err(format!("it has format_version {v}, and this build of infra reads only version {PLAN_FORMAT_VERSION}")),
            None => return Err("it has no format_version".into()),
        }
        let doc: PlanFile = serde_json::from_value(raw).map_err(|e| format!("it does not follow the plan file schema ({e})"))?;
        if doc.body_sha256 != doc.body_digest() {
            return Err(
                "its content does not match the digest infra wrote into it: it was edited or damaged after `infra plan` saved it. Create a new plan".into()
            );
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PlanFile {
        PlanFile {
            format_version: PLAN_FORMAT_VERSION,
            infra_version: "0.0.0".into(),
            lineage: "l-1".into(),
            serial: 3,
            mode: PlanFileMode::Normal,
            refresh: true,
            refresh_full: false,
            targets: vec![],
            replace: vec![],
            variables: BTreeMap::from([("v".to_string(), PlanValue { value: serde_json::json!(2), ..Default::default() })]),
            config_files: BTreeMap::from([("main.tf".to_string(), sha256_hex(b"x"))]),
            prior_state: StateFile::new(),
            changes: vec![PlannedChange {
                address: "terraform_data.a".into(),
                provider: "terraform".into(),
                action: "update".into(),
                reason: "None".into(),
                before: Some(PlanValue { value: serde_json::json!({"input": "one", "id": "x"}), ..Default::default() }),
                after: Some(PlanValue { value: serde_json::json!({"input": "two", "id": "x"}), ..Default::default() }),
                replace_paths: vec![],
                importing: None,
                moved_from: None,
                dependencies: vec![],
                config_unknown: false,
            }],
            deposed: vec![],
            drift: vec![],
            data: vec![],
            outputs: BTreeMap::new(),
            adopted: vec![],
            dropped_intents: 0,
            timestamp: String::new(),
            configuration: serde_json::Value::Null,
            body_sha256: String::new(),
        }
    }

    #[test]
    fn a_plan_file_round_trips() {
        let bytes = sample().to_bytes();
        let back = PlanFile::from_bytes(&bytes);
        assert_eq!(back.as_ref().map(|d| d.changes.clone()), Ok(sample().changes));
        assert_eq!(back.map(|d| d.body_sha256.len()), Ok(64));
    }

    #[test]
    fn a_plan_file_edited_by_hand_is_refused() {
        let text = String::from_utf8(sample().to_bytes()).unwrap_or_default();
        let edited = text.replace("\"two\"", "\"EVIL\"");
        assert_ne!(text, edited);
        let err = PlanFile::from_bytes(edited.as_bytes()).err().unwrap_or_default();
        assert!(err.contains("edited or damaged"), "{err}");
    }

    #[test]
    fn plan_files_of_other_versions_are_refused() {
        let text = br#"{"format_version": 3, "actions": [], "lineage": "x", "mode": "Normal", "serial": 1}"#;
        let err = PlanFile::from_bytes(text).err().unwrap_or_default();
        assert!(err.contains("format_version 3"), "{err}");
        let v1 = br#"{"format_version": 1, "actions": [], "lineage": "x", "mode": "Normal", "serial": 1}"#;
        let err = PlanFile::from_bytes(v1).err().unwrap_or_default();
        assert!(err.contains("older infra") && err.contains("Create a new plan"), "{err}");
    }
}
