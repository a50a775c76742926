//! Application Auto Scaling: `aws_appautoscaling_target` and `aws_appautoscaling_policy`, with
//! terraform-provider-aws names, ids and import ids, and what they share: reads grouped by
//! service namespace (the API's batch key), tags by ARN.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use infra_provider::*;
use std::collections::{BTreeMap, HashMap};

pub mod policy;
pub mod target;

fn list1(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema }
}

fn set_of(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema }
}

/// The first item of a list block, if any.
fn first(v: &Value, k: &str) -> Option<Value> {
    v.get_attr(k).and_then(Value::as_seq).and_then(|s| s.first().cloned())
}

fn items(v: &Value, k: &str) -> Vec<Value> {
    v.get_attr(k).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default()
}

fn namespace(p: &Value) -> Result<ServiceNamespace, Diagnostic> {
    Ok(ServiceNamespace::from(attrs::req_string(p, "service_namespace")?.as_str()))
}

fn dimension(p: &Value) -> Result<ScalableDimension, Diagnostic> {
    Ok(ScalableDimension::from(attrs::req_string(p, "scalable_dimension")?.as_str()))
}

fn aas_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).chain(token.map(|t| (INTENT_TAG.to_string(), t.to_string()))).collect()
}

/// A target or policy that is not there, for a delete: AWS answers ObjectNotFoundException;
/// moto a ValidationException "No scalable target found …" / "No scaling policy found …".
fn gone<E: ProvideErrorMetadata>(e: &E) -> bool {
    match e.code() {
        Some("ObjectNotFoundException") => true,
        Some("ValidationException") => e.message().is_some_and(|m| m.starts_with("No scalable target") || m.starts_with("No scaling policy")),
        _ => false,
    }
}

async fn tags_of(c: Clients, arn: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    let r = c.autoscaling.list_tags_for_resource().resource_arn(&arn).send().await.map_err(|e| api_error("ListTagsForResource", &e))?;
    Ok(r.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
}

/// Splits an import id of `n` parts joined by `/` where the resource id in the middle holds
/// slashes itself (`ecs/service/cluster/name`): namespace first, the last `n - 2` parts after it.
fn split_import(id: &str, tail: usize, what: &str) -> Result<(String, String, Vec<String>), Diagnostic> {
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() < tail + 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(Diagnostic::error(
            "Invalid import id",
            format!("{id:?} is not {what}: for example ecs/service/my-cluster/my-service/ecs:service:DesiredCount."),
        ));
    }
    let rest = parts[parts.len() - tail..].iter().map(|s| s.to_string()).collect();
    Ok((parts[0].to_string(), parts[1..parts.len() - tail].join("/"), rest))
}
