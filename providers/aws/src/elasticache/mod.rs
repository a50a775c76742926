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

/// The objects of one kind among `names` (every one when empty), keyed by name, those `keep`
/// accepts: one call by name for a single object (a missing one is no error), else one paged
/// listing. `$op` is the Describe call, `$by` its name filter, `$list` the answer's list and
/// `$name` an object's name.
macro_rules! describe_named {
    ($c:expr, $names:expr, $op:ident, $by:ident, $list:ident, $name:ident, $api:literal, $keep:expr) => {{
        let (c, names): (&Clients, &[String]) = ($c, $names);
        let keep = $keep;
        let mut out = BTreeMap::new();
        if let [one] = names {
            match c.elasticache.$op().$by(one).send().await {
                Ok(r) => {
                    for g in r.$list().iter().filter(|g| keep(g)) {
                        if let Some(n) = g.$name() {
                            out.insert(n.to_string(), g.clone());
                        }
                    }
                }
                Err(e) if gone(code_of(&e)) => {}
                Err(e) => return Err(api_error($api, &e)),
            }
        } else {
            let mut pages = c.elasticache.$op().max_records(100).into_paginator().send();
            while let Some(page) = pages.next().await {
                for g in page.map_err(|e| api_error($api, &e))?.$list().iter().filter(|g| keep(g)) {
                    if let Some(n) = g.$name().filter(|n| names.is_empty() || names.iter().any(|x| x == n)) {
                        out.insert(n.to_string(), g.clone());
                    }
                }
            }
        }
        Ok(out)
    }};
}

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
