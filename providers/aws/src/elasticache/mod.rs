//! ElastiCache: `aws_elasticache_subnet_group`, `aws_elasticache_parameter_group` and
//! `aws_elasticache_replication_group`, with terraform-provider-aws names, defaults, ids and
//! import ids (the name, or the replication group id), and what they share: tags by ARN (the
//! intent tag marks a create until it is recorded), one `ListTagsForResource` per object, since
//! ElastiCache has no batched tag read, skipped on a routine refresh.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_elasticache::types::Tag;
use infra_provider::*;
use std::collections::BTreeMap;

pub mod parameter_group;
pub mod replication_group;
pub mod subnet_group;

fn ec_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

async fn tags_of(c: Clients, arn: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    let r = c.elasticache.list_tags_for_resource().resource_name(&arn).send().await.map_err(|e| api_error("ListTagsForResource", &e))?;
    Ok(r.tag_list().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect())
}

/// The tags of every object whose ARN is in `arns` (keyed by ARN): the recorded `tags_all` on a
/// routine refresh, else one call each.
async fn tags_by_arn(c: &Clients, objects: &[Value], arns: &[String], full: bool) -> Result<BTreeMap<String, BTreeMap<String, String>>, Diagnostic> {
    let recorded = |arn: &str| {
        objects
            .iter()
            .find(|o| attrs::string(o, "arn").as_deref() == Some(arn))
            .and_then(|o| o.get_attr("tags_all"))
            .filter(|t| t.as_map().is_some())
            .map(|t| attrs::map_of(Some(t)))
    };
    let (mut tags, missing) = split_recorded(arns, full, recorded);
    tags.extend(per_object(c, &missing, tags_of).await?);
    Ok(tags)
}

/// Brings the tags of `arn` from `prior`'s `tags_all` to `planned`'s.
async fn update_tags(c: &Clients, arn: &str, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    let (removed, set) = tag_changes(prior, planned);
    if !removed.is_empty() {
        c.elasticache
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| api_error("RemoveTagsFromResource", &e))?;
    }
    if !set.is_empty() {
        c.elasticache
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(ec_tags(&set, None)))
            .send()
            .await
            .map_err(|e| api_error("AddTagsToResource", &e))?;
    }
    Ok(())
}

async fn drop_intent_tag(c: &Clients, arn: &str) -> Result<(), Diagnostic> {
    c.elasticache
        .remove_tags_from_resource()
        .resource_name(arn)
        .tag_keys(INTENT_TAG)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("RemoveTagsFromResource", &e))
}

/// Whether an error code says the object is gone.
fn gone(code: Option<String>) -> bool {
    code.is_some_and(|c| c.ends_with("NotFoundFault") || c.ends_with("NotFound"))
}
