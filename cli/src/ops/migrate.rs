//! `infra state migrate`: a Terraform state (format version 4: `terraform.tfstate` or `terraform
//! state pull`) to infra's state. Each object of a type a built-in provider offers keeps its
//! address (module path, count index or for_each key), provider configuration, dependencies and
//! sensitive paths; its attributes are reduced to infra's schema (arguments infra does not model
//! dropped, nested blocks in the schema's nesting) and handed to the provider's
//! `upgrade_terraform_state` for what differs (ids). Outputs are kept. Data sources are not migrated:
//! infra reads them again when planning.

use super::Result;
use infra_lang::diag::Diagnostic;
use infra_lang::schema::{Nesting, Schema};
use infra_lang::value::{from_json, to_json};
use infra_provider::{FromTerraformRequest, Registry};
use infra_state::{DeposedObject, InstanceState, Json, OutputState, ResourceState, StateFile};
use serde::Deserialize;
use serde_json::Value as J;
use std::collections::BTreeMap;

/// Terraform's state file, version 4, as far as migration reads it.
#[derive(Deserialize)]
struct TfState {
    version: u64,
    #[serde(default)]
    terraform_version: String,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    outputs: BTreeMap<String, TfOutput>,
    #[serde(default)]
    resources: Vec<TfResource>,
}

#[derive(Deserialize)]
struct TfOutput {
    value: J,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct TfResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    provider: String,
    #[serde(default)]
    instances: Vec<TfInstance>,
}

#[derive(Deserialize)]
struct TfInstance {
    #[serde(default)]
    index_key: Option<J>,
    #[serde(default)]
    schema_version: u64,
    #[serde(default)]
    attributes: Option<J>,
    #[serde(default)]
    attributes_flat: Option<J>,
    #[serde(default)]
    sensitive_attributes: Vec<J>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    create_before_destroy: bool,
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// What migration made of a Terraform state.
pub struct Migrated {
    pub state: StateFile,
    pub terraform_version: String,
    /// Objects migrated (deposed ones included).
    pub objects: usize,
    /// Addresses of the objects left behind, each with why.
    pub skipped: Vec<(String, String)>,
    /// Things the user should know (tainted objects, data sources not migrated).
    pub notes: Vec<Diagnostic>,
}

/// `provider["registry.terraform.io/hashicorp/aws"].west` → (`aws`, Some(`west`)); the older
/// `module.x.provider.aws` form too.
fn provider_of(s: &str) -> Option<(String, Option<String>)> {
    let s = s.rsplit_once("provider").map(|(_, r)| r)?;
    let (source, rest) = if let Some(r) = s.strip_prefix("[\"") {
        let end = r.find("\"]")?;
        (&r[..end], &r[end + 2..])
    } else {
        let r = s.strip_prefix('.')?;
        r.split_once('.').unwrap_or((r, ""))
    };
    let family = source.rsplit('/').next()?.to_string();
    let alias = rest.trim_start_matches('.');
    Some((family, (!alias.is_empty()).then(|| alias.to_string())))
}

/// An object reduced to `schema`: its attributes (absent ones null) and its nested blocks in the
/// schema's nesting (Terraform records a single block as a list of one).
fn reduce(schema: &Schema, v: &J) -> J {
    let empty = serde_json::Map::new();
    let obj = v.as_object().unwrap_or(&empty);
    let mut out = serde_json::Map::new();
    for k in schema.attributes.keys() {
        out.insert(k.clone(), obj.get(k).cloned().unwrap_or(J::Null));
    }
    for (k, b) in &schema.blocks {
        let items: Vec<J> = match obj.get(k) {
            Some(J::Array(a)) => a.iter().map(|i| reduce(&b.schema, i)).collect(),
            Some(o @ J::Object(_)) => vec![reduce(&b.schema, o)],
            _ => Vec::new(),
        };
        out.insert(
            k.clone(),
            match b.nesting {
                Nesting::Single => items.into_iter().next().unwrap_or(J::Null),
                Nesting::List | Nesting::Set => J::Array(items),
            },
        );
    }
    J::Object(out)
}

/// A sensitive path as Terraform writes it (`[{"type":"get_attr","value":"tags"},{"type":"index",
/// "value":{"value":"Secret","type":"string"}}]`) as infra writes it (`["tags","Secret"]`),
/// following `schema` (a single block has no index); `None` for a path into what was dropped.
fn sensitive_path(schema: &Schema, path: &J) -> Option<Vec<J>> {
    let steps = path.as_array()?;
    let mut out = Vec::new();
    let mut at = Some(schema);
    let mut skip_index = false;
    for step in steps {
        match step.get("type").and_then(J::as_str) {
            Some("get_attr") => {
                let name = step.get("value")?.as_str()?;
                if let Some(s) = at {
                    if let Some(b) = s.blocks.get(name) {
                        skip_index = b.nesting == Nesting::Single;
                        at = Some(&b.schema);
                    } else if s.attributes.contains_key(name) {
                        at = None;
                    } else {
                        return None;
                    }
                }
                out.push(J::String(name.to_string()));
            }
            Some("index") => {
                let v = step.get("value")?.get("value")?.clone();
                if std::mem::take(&mut skip_index) {
                    continue;
                }
                out.push(v);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Migrates the Terraform state in `bytes` (read from `file`, named in messages).
pub fn migrate(bytes: &[u8], file: &str, registry: &Registry) -> Result<Migrated> {
    let invalid = |why: String| Diagnostic::error("Invalid Terraform state", format!("{file} {why}."));
    let head: J = serde_json::from_slice(bytes).map_err(|e| invalid(format!("is not JSON ({e})")))?;
    if head.get("format_version").is_some() {
        return Err(invalid("is already an infra state".into()).into());
    }
    match head.get("version").and_then(J::as_u64) {
        Some(4) => {}
        Some(v) => {
            return Err(invalid(format!(
                "has format version {v}; infra reads version 4 (Terraform 0.12 and later). Upgrade it with a Terraform of that line first (terraform apply -refresh-only)"
            ))
            .into())
        }
        None => return Err(invalid("has no version: it is not a Terraform state".into()).into()),
    }
    let tf: TfState = serde_json::from_value(head).map_err(|e| invalid(format!("does not have the shape of a version 4 state ({e})")))?;
    let _ = tf.version;
    let mut state = StateFile::new();
    if !tf.lineage.is_empty() {
        state.lineage = tf.lineage.clone();
    }
    state.serial = tf.serial;
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    let mut objects = 0;
    let mut data_sources = 0;
    let mut providers: BTreeMap<String, Option<Box<dyn infra_provider::Provider>>> = BTreeMap::new();
    for r in &tf.resources {
        let module = r.module.clone().unwrap_or_default();
        let resource = if module.is_empty() { format!("{}.{}", r.type_name, r.name) } else { format!("{module}.{}.{}", r.type_name, r.name) };
        let addr_of = |k: &Option<J>| match k {
            Some(J::Number(n)) => format!("{resource}[{n}]"),
            Some(J::String(s)) => format!("{resource}[{}]", J::String(s.clone())),
            _ => resource.clone(),
        };
        if r.mode == "data" {
            data_sources += 1;
            continue;
        }
        let Some((family, alias)) = provider_of(&r.provider) else {
            skipped.extend(r.instances.iter().map(|i| (addr_of(&i.index_key), format!("its provider {:?} cannot be read", r.provider))));
            continue;
        };
        let provider = providers.entry(family.clone()).or_insert_with(|| registry.get(&family).map(|f| f()));
        let Some(provider) = provider.as_ref() else {
            skipped.extend(r.instances.iter().map(|i| (addr_of(&i.index_key), format!("infra has no {family} provider"))));
            continue;
        };
        let Some(schema) = provider.schema().resources.get(&r.type_name).cloned() else {
            skipped.extend(r.instances.iter().map(|i| (addr_of(&i.index_key), format!("the {family} provider has no type {}", r.type_name))));
            continue;
        };
        let mut out = ResourceState {
            module,
            mode: "managed".into(),
            type_name: r.type_name.clone(),
            name: r.name.clone(),
            provider: match &alias {
                Some(a) => format!("{family}.{a}"),
                None => family.clone(),
            },
            instances: Vec::new(),
        };
        let mut deposed: Vec<(Option<J>, DeposedObject)> = Vec::new();
        for i in &r.instances {
            let addr = addr_of(&i.index_key);
            let Some(attrs) = &i.attributes else {
                let why = if i.attributes_flat.is_some() {
                    "it is recorded in the flat form of Terraform 0.11; refresh it with a current Terraform first (terraform apply -refresh-only)"
                } else {
                    "it records no attributes"
                };
                skipped.push((addr, why.into()));
                continue;
            };
            let reduced = reduce(&schema, attrs);
            let resp = provider.upgrade_terraform_state(FromTerraformRequest {
                type_name: r.type_name.clone(),
                schema_version: i.schema_version,
                attributes: from_json(&reduced),
            });
            if let Some(d) = resp.diagnostics.iter().find(|d| d.is_error()) {
                skipped.push((addr, format!("{}: {}", d.summary, d.detail)));
                continue;
            }
            let attributes = Json::new(&to_json(&resp.attributes));
            let sensitive_attributes: Vec<Vec<J>> = i.sensitive_attributes.iter().filter_map(|p| sensitive_path(&schema, p)).collect();
            objects += 1;
            if i.deposed.is_some() {
                deposed.push((i.index_key.clone(), DeposedObject { attributes, sensitive_attributes }));
                continue;
            }
            if i.status.as_deref() == Some("tainted") {
                notes.push(Diagnostic::warning(
                    "Tainted object migrated as it is",
                    format!("Terraform marked {addr} tainted (to be replaced); infra has no taint. Replace it with infra apply --replace='{addr}' if it is still wanted."),
                ));
            }
            out.instances.push(InstanceState {
                index_key: i.index_key.clone(),
                attributes,
                sensitive_attributes,
                dependencies: i.dependencies.clone(),
                create_before_destroy: i.create_before_destroy,
                deposed: Vec::new(),
            });
        }
        for (key, d) in deposed {
            match out.instances.iter_mut().find(|i| i.index_key == key) {
                Some(i) => i.deposed.push(d),
                None => {
                    objects -= 1;
                    skipped.push((addr_of(&key), "it is a deposed object with no current object at its address".into()));
                }
            }
        }
        if !out.instances.is_empty() {
            state.resources.push(out);
        }
    }
    if data_sources > 0 {
        notes.push(Diagnostic::warning(
            "Data sources not migrated",
            format!("{data_sources} data source(s) of the Terraform state are not migrated: infra reads them again when planning."),
        ));
    }
    state.outputs = tf.outputs.into_iter().map(|(k, o)| (k, OutputState { value: o.value, sensitive: o.sensitive })).collect();
    Ok(Migrated { state, terraform_version: tf.terraform_version, objects, skipped, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_addresses_read_as_terraform_writes_them() {
        assert_eq!(provider_of("provider[\"registry.terraform.io/hashicorp/aws\"]"), Some(("aws".into(), None)));
        assert_eq!(provider_of("provider[\"registry.terraform.io/hashicorp/aws\"].west"), Some(("aws".into(), Some("west".into()))));
        assert_eq!(provider_of("provider[\"terraform.io/builtin/terraform\"]"), Some(("terraform".into(), None)));
        assert_eq!(provider_of("module.net.provider.aws.east"), Some(("aws".into(), Some("east".into()))));
        assert_eq!(provider_of("nonsense"), None);
    }

    #[test]
    fn a_terraform_state_migrates_with_addresses_sensitive_paths_and_outputs() {
        let tf = serde_json::json!({
            "version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "l-1",
            "outputs": {"secret": {"value": "s", "type": "string", "sensitive": true}},
            "resources": [
                {"mode": "managed", "type": "terraform_data", "name": "a", "provider": "provider[\"terraform.io/builtin/terraform\"]",
                 "instances": [{"index_key": "k", "schema_version": 0, "attributes": {"id": "1", "input": {"value": "x", "type": "string"}, "output": null, "triggers_replace": null, "unknown_to_infra": 1},
                                "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]], "dependencies": ["terraform_data.b"]}]},
                {"mode": "managed", "type": "aws_s3_bucket", "name": "logs", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                 "instances": [{"schema_version": 0, "attributes": {"id": "logs"}}]},
                {"mode": "data", "type": "aws_caller_identity", "name": "me", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": []}
            ]
        });
        let m = migrate(tf.to_string().as_bytes(), "terraform.tfstate", &super::super::stack::registry()).map_err(|d| d.0[0].detail.clone());
        let m = m.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.objects, m.state.serial, m.state.lineage.as_str()), (1, 7, "l-1"));
        assert_eq!(m.skipped, vec![("aws_s3_bucket.logs".to_string(), "the aws provider has no type aws_s3_bucket".to_string())]);
        let r = &m.state.resources[0];
        assert_eq!((r.provider.as_str(), r.instances[0].index_key.clone()), ("terraform", Some(J::String("k".into()))));
        let attrs = r.instances[0].attributes.value();
        assert!(attrs.get("unknown_to_infra").is_none() && attrs["id"] == "1", "{attrs}");
        assert_eq!(r.instances[0].sensitive_attributes, vec![vec![J::String("input".into())]]);
        assert_eq!(r.instances[0].dependencies, ["terraform_data.b"]);
        assert!(m.state.outputs["secret"].sensitive);
        let err = migrate(br#"{"version": 3}"#, "old.tfstate", &super::super::stack::registry()).err().map(|d| d.0[0].detail.clone()).unwrap_or_default();
        assert!(err.contains("format version 3"), "{err}");
    }
}
