//! Elastic Container Service: `aws_ecs_cluster`, `aws_ecs_task_definition` and
//! `aws_ecs_service` (Fargate), with terraform-provider-aws names and defaults, and what they
//! share: tags by ARN (the intent tag marks a create until it is recorded) and block schemas.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_ecs::types::Tag;
use infra_provider::*;
use std::collections::BTreeMap;

pub mod cluster;
pub mod service;
pub mod task_definition;

/// A list block of at most `max_items` (terraform-plugin-sdk's `MaxItems: 1` blocks).
fn list_of(schema: Schema, max_items: usize) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, min_items: 0, max_items, force_new: false, schema }
}

/// Runs `f` on every item of the list block `name` of `m` (to fill defaults).
fn for_items(m: &mut BTreeMap<String, Value>, name: &str, f: &mut dyn FnMut(&mut BTreeMap<String, Value>)) {
    if let Some(Value::List(items)) = m.get_mut(name) {
        for item in items.iter_mut() {
            if let Value::Object(o) = item {
                f(&mut **o);
            }
        }
    }
}

fn set_of(schema: Schema, force_new: bool) -> BlockSchema {
    BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new, schema }
}

/// Tags for ECS calls, with the intent tag when `token` is given.
fn ecs_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))))
}

fn has_intent(tags: &[Tag], token: &str) -> bool {
    tags.iter().any(|t| t.key() == Some(INTENT_TAG) && t.value() == Some(token))
}

/// The ARN an object's tags hang on: `arn`, else its id (an ARN for clusters and services).
fn arn_of(v: &Value) -> Outcome<String> {
    match attrs::string(v, "arn") {
        Some(arn) => Ok(arn),
        None => Ok(attrs::req_string(v, "id")?),
    }
}

/// Brings the tags from `prior`'s `tags_all` to `planned`'s; stops at the first error.
async fn update_tags(c: &Clients, prior: &Value, planned: &Value) -> Outcome<()> {
    let arn = arn_of(prior)?;
    let (removed, set) = tag_changes(prior, planned);
    if !removed.is_empty() {
        c.ecs.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
    }
    if !set.is_empty() {
        c.ecs.tag_resource().resource_arn(&arn).set_tags(Some(ecs_tags(&set, None))).send().await.map_err(|e| api_error("TagResource", &e))?;
    }
    Ok(())
}

/// Whether an error says the cluster or service is gone (or going).
fn gone(e: &dyn ProvideErrorMetadata) -> bool {
    matches!(e.code(), Some("ClusterNotFoundException" | "ServiceNotFoundException" | "ServiceNotActiveException"))
}

/// Drops the intent tag once the engine has recorded the object.
async fn drop_intent_tag(c: &Clients, arn: &str) -> Result<(), Diagnostic> {
    c.ecs.untag_resource().resource_arn(arn).tag_keys(INTENT_TAG).send().await.map(|_| ()).map_err(|e| api_error("UntagResource", &e))
}
