//! Elastic Container Registry: `aws_ecr_repository` and `aws_ecr_lifecycle_policy`, with
//! terraform-provider-aws names, defaults and import ids (the repository's name for both).

use crate::common::*;
use crate::config::Clients;
use aws_sdk_ecr::types::{Repository, Tag};
use infra_provider::*;
use std::collections::BTreeMap;

pub mod lifecycle_policy;
pub mod repository;

/// Whether an error code says the repository (or its policy) does not exist.
fn gone(e: &dyn ProvideErrorMetadata) -> bool {
    matches!(e.code(), Some("RepositoryNotFoundException" | "LifecyclePolicyNotFoundException"))
}

fn ecr_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Result<Vec<Tag>, Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))) {
        out.push(Tag::builder().key(k).value(v).build().map_err(|e| Diagnostic::error("Invalid tag", e.to_string()))?);
    }
    Ok(out)
}

/// Repositories named `names`: one by name, several by listing the registry (a
/// `DescribeRepositories` naming one that is gone fails as a whole), 1000 a page.
async fn describe_repositories(c: &Clients, names: &[String]) -> Result<BTreeMap<String, Repository>, Diagnostic> {
    let mut out = BTreeMap::new();
    if let [one] = names {
        return match c.ecr.describe_repositories().repository_names(one).send().await {
            Ok(r) => Ok(r.repositories().iter().filter_map(|r| Some((r.repository_name()?.to_string(), r.clone()))).collect()),
            Err(e) if gone(&e) => Ok(out),
            Err(e) => Err(api_error("DescribeRepositories", &e)),
        };
    }
    let mut pages = c.ecr.describe_repositories().max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        for r in page.map_err(|e| api_error("DescribeRepositories", &e))?.repositories() {
            if let Some(n) = r.repository_name().filter(|n| names.is_empty() || names.iter().any(|x| x == n)) {
                out.insert(n.to_string(), r.clone());
            }
        }
    }
    Ok(out)
}
