//! The saved plan file (`infra plan --out FILE`), version 1: the on-disk schema, separate from
//! engine types, beside the state schema because a saved plan is bound to one state's lineage
//! and serial.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PLAN_FORMAT_VERSION: u32 = 1;

/// Fields are declared in alphabetical order: files written before this type existed had their
/// keys sorted, and the file stays byte-for-byte the same.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    /// Every action other than no-op, in plan order: applying the file re-plans with the same
    /// inputs and refuses to go on unless this list comes out the same.
    pub actions: Vec<PlannedAction>,
    pub format_version: u32,
    /// The state the plan was made on: applying it refuses any other lineage or serial.
    pub lineage: String,
    pub mode: PlanFileMode,
    #[serde(default = "yes")]
    pub refresh: bool,
    #[serde(default)]
    pub refresh_full: bool,
    #[serde(default)]
    pub replace: Vec<String>,
    pub serial: u64,
    #[serde(default)]
    pub targets: Vec<String>,
    /// The input variables as planned, so apply does not read them again.
    #[serde(default)]
    pub variables: BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

/// One planned action: the instance address and the action's verb (`create`, `update`,
/// `replace`, `delete`, `read`), written as a two-element array.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedAction(pub String, pub String);

/// The plan's mode, spelled as version 1 files spell it.
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

impl PlanFile {
    /// The file's bytes: pretty JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing strings, numbers, maps and JSON values cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads a plan file's bytes; the error says why they are not a version 1 plan file.
    pub fn from_bytes(bytes: &[u8]) -> Result<PlanFile, String> {
        let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        match raw.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == PLAN_FORMAT_VERSION as u64 => {}
            Some(v) => return Err(format!("it has format_version {v}, and this build of infra reads only version {PLAN_FORMAT_VERSION}")),
            None => return Err("it has no format_version".into()),
        }
        serde_json::from_value(raw).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PlanFile {
        PlanFile {
            actions: vec![PlannedAction("terraform_data.a".into(), "create".into())],
            format_version: PLAN_FORMAT_VERSION,
            lineage: "l-1".into(),
            mode: PlanFileMode::RefreshOnly,
            refresh: true,
            refresh_full: false,
            replace: vec![],
            serial: 3,
            targets: vec!["terraform_data.a".into()],
            variables: BTreeMap::from([("v".to_string(), serde_json::json!(2))]),
        }
    }

    #[test]
    fn plan_file_keeps_the_version_1_shape() {
        // The literal is what the untyped writer produced: keys sorted, mode as a name.
        let expected = serde_json::json!({
            "actions": [["terraform_data.a", "create"]],
            "format_version": 1,
            "lineage": "l-1",
            "mode": "RefreshOnly",
            "refresh": true,
            "refresh_full": false,
            "replace": [],
            "serial": 3,
            "targets": ["terraform_data.a"],
            "variables": {"v": 2},
        });
        let bytes = sample().to_bytes();
        assert_eq!(String::from_utf8_lossy(&bytes), serde_json::to_string_pretty(&expected).unwrap_or_default());
        assert_eq!(PlanFile::from_bytes(&bytes), Ok(sample()));
    }

    #[test]
    fn plan_file_of_another_version_is_refused() {
        let text = br#"{"format_version": 2, "actions": [], "lineage": "x", "mode": "Normal", "serial": 1}"#;
        let err = PlanFile::from_bytes(text).err().unwrap_or_default();
        assert!(err.contains("format_version 2"), "{err}");
    }
}
