//! The state file format, version 1. These types are the on-disk schema: they change only with
//! `format_version`, separately from engine types.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StateFile {
    pub format_version: u32,
    pub infra_version: String,
    /// Incremented on every write.
    pub serial: u64,
    /// Identifies one state's history; a saved plan only applies to the lineage it was made on.
    pub lineage: String,
    /// Required: a state without it is refused rather than read as empty (the next apply would
    /// create everything a second time).
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Creates that were started but not yet recorded: resolved on the next run by adoption.
    #[serde(default)]
    pub pending: Vec<PendingCreate>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    /// Module instance path: empty for the root, `module.net` or `module.net["a"]` below it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    /// `managed` or `data`.
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    /// The provider configuration that manages it: `aws` or `aws.west`.
    pub provider: String,
    pub instances: Vec<InstanceState>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceState {
    /// The `count` index (a number) or `for_each` key (a string); absent for single instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<serde_json::Value>,
    pub attributes: Json,
    /// Paths (lists of keys and indexes) of sensitive values inside `attributes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<Vec<serde_json::Value>>,
    /// Addresses of the resources this one was created from, for destroy ordering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// Objects replaced create-before-destroy whose deletion has not finished: the next plan
    /// deletes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<DeposedObject>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeposedObject {
    pub attributes: Json,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<Vec<serde_json::Value>>,
}

/// An object's attributes, held as their compact JSON text. A state of 10,000 objects read
/// as `serde_json::Value` trees took about five times the file's size, and the caller keeps
/// the state for the whole plan beside the engine's own view of it; the text takes its size.
/// It is written as the value it holds, so the file's layout does not depend on it.
#[derive(Clone, Debug)]
pub struct Json(Box<str>);

impl Json {
    pub fn new(v: &serde_json::Value) -> Json {
        Json(v.to_string().into_boxed_str())
    }

    /// The value; text that is not JSON (it never is: it was parsed or serialized to get here)
    /// reads as null.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Json {
        Json::new(&v)
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        serde_json::Value::deserialize(d).map(|v| Json::new(&v))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputState {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PendingCreate {
    /// Full instance address, e.g. `aws_instance.web[0]`.
    pub address: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub idempotency_token: String,
    pub started_at: String,
    /// The planned object (unknowns as null), so that adoption can look for the object by what
    /// the create asked for (a name, a creation token, a subnet) when the API has no token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<serde_json::Value>,
}

impl StateFile {
    pub fn new() -> StateFile {
        StateFile {
            format_version: FORMAT_VERSION,
            infra_version: env!("CARGO_PKG_VERSION").to_string(),
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            resources: Vec::new(),
            outputs: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Parses a state file's bytes; a wrong version or broken JSON is an error naming the file.
    /// The version is checked by a first pass that keeps nothing, then the schema is read
    /// straight from the bytes: going through a `serde_json::Value` tree held the whole state
    /// twice while loading.
    pub fn from_slice(bytes: &[u8]) -> Result<StateFile, String> {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| format!("it is not valid JSON ({e})"))?;
        #[derive(Deserialize)]
        struct Probe {
            format_version: Option<serde_json::Value>,
            terraform_version: Option<serde::de::IgnoredAny>,
        }
        let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let probe = if is_object {
            serde_json::from_slice::<Probe>(bytes).map_err(|e| format!("its contents do not match the state schema ({e})"))?
        } else {
            Probe { format_version: None, terraform_version: None }
        };
        match probe.format_version.as_ref().and_then(serde_json::Value::as_u64) {
            Some(v) if v == FORMAT_VERSION as u64 => {}
            Some(v) => return Err(format!("it has format_version {v}, and this build of infra reads only version {FORMAT_VERSION}; use a newer infra")),
            None if probe.terraform_version.is_some() => {
                return Err("it is a Terraform state file; infra does not read Terraform state directly (import the resources instead)".into())
            }
            None => return Err("it has no format_version field".into()),
        }
        let state: StateFile = serde_json::from_slice(bytes).map_err(|e| format!("its contents do not match the state schema ({e})"))?;
        if state.lineage.trim().is_empty() {
            return Err("its lineage is empty (every state has one, and saved plans are checked against it)".into());
        }
        if state.serial == u64::MAX {
            return Err(format!("its serial is {}, the largest there is: the next write could not increase it", u64::MAX));
        }
        Ok(state)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = self.write_to(&mut out);
        out
    }

    /// Writes the file's text (pretty JSON and a final newline) to `w` as it is produced, so
    /// that saving a large state needs no second copy of it in memory.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    }
}

impl Default for StateFile {
    fn default() -> Self {
        StateFile::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_held_as_text_write_the_same_file_as_before() {
        let attrs = serde_json::json!({"id": "x", "input": {"n": 12345678901234567890123_u128, "f": 0.5, "list": [1, "a", null]}});
        let mut s = StateFile::new();
        s.resources.push(ResourceState {
            module: String::new(),
            mode: "managed".into(),
            type_name: "terraform_data".into(),
            name: "r".into(),
            provider: "terraform".into(),
            instances: vec![InstanceState {
                index_key: None,
                attributes: attrs.clone().into(),
                sensitive_attributes: Vec::new(),
                dependencies: Vec::new(),
                create_before_destroy: false,
                deposed: Vec::new(),
            }],
        });
        let text = s.to_bytes();
        // Pretty-printed in place, at the depth of an instance's attributes, as a tree was.
        let pretty = serde_json::to_string_pretty(&attrs).unwrap().replace('\n', "\n          ");
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(&format!("\"attributes\": {pretty}")), "{text}");
        let back = StateFile::from_slice(text.as_bytes()).unwrap();
        assert_eq!(back.resources[0].instances[0].attributes.value(), attrs);
        assert_eq!(back, s);
    }
}

#[cfg(test)]
mod checks {
    use super::StateFile;

    fn read(text: &str) -> Result<StateFile, String> {
        StateFile::from_slice(text.as_bytes())
    }

    #[test]
    fn a_state_without_resources_is_refused_not_read_as_empty() {
        let err = read(r#"{"format_version": 1, "infra_version": "0.1.0", "serial": 3, "lineage": "abc"}"#).unwrap_err();
        assert!(err.contains("missing field `resources`"), "{err}");
        assert!(read(r#"{"format_version": 1, "infra_version": "0.1.0", "serial": 3, "lineage": "abc", "resources": []}"#).is_ok());
    }

    #[test]
    fn an_empty_lineage_or_a_serial_that_cannot_grow_is_refused() {
        let err = read(r#"{"format_version": 1, "infra_version": "0.1.0", "serial": 3, "lineage": " ", "resources": []}"#).unwrap_err();
        assert!(err.contains("lineage is empty"), "{err}");
        let err = read(r#"{"format_version": 1, "infra_version": "0.1.0", "serial": 18446744073709551615, "lineage": "abc", "resources": []}"#).unwrap_err();
        assert!(err.contains("the next write could not increase it"), "{err}");
    }
}
