//! The `aws` provider. Configuration as terraform-provider-aws users write it (or none at all:
//! the standard environment and profiles apply). One file per resource type and data source,
//! grouped by AWS service (`ec2`, `efs`, `ecs`, `elb` for ELBv2, `iam`, `logs`, `ecr`,
//! `secretsmanager`, `data`), listed in the one
//! table in `types`; [`Typed`] routes every call by type name and holds the create → converge →
//! read back sequence. This file is the family itself: the provider block, the clients, and
//! the checks across objects. Reads are batched per type; see each type's file.

mod appautoscaling;
mod cloudwatch;
mod common;
mod config;
mod data;
mod discover;
mod ec2;
mod ecr;
mod ecs;
mod efs;
mod elasticache;
mod elb;
mod iam;
mod logs;
mod retry;
mod secretsmanager;
mod types;

use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub struct AwsProvider {
    clients: OnceLock<config::Clients>,
}

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(Typed(AwsProvider { clients: OnceLock::new() })) as Box<dyn Provider>)
}

fn not_configured() -> Diagnostic {
    Diagnostic::error("Provider not configured", "The aws provider was used before it was configured; this is a bug in infra.")
}

impl AwsProvider {
    /// The SDK clients; an error before `configure`.
    pub(crate) fn clients(&self) -> Result<&config::Clients, Diagnostic> {
        self.clients.get().ok_or_else(not_configured)
    }

    /// `default_tags` of the provider block (none before `configure`), for planning `tags_all`.
    pub(crate) fn default_tags(&self) -> BTreeMap<String, String> {
        self.clients.get().map(|c| c.default_tags.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Family for AwsProvider {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn provider_schema(&self) -> Schema {
        config::schema()
    }

    fn resources(&self) -> &'static [&'static dyn ResourceType<Self>] {
        types::RESOURCES
    }

    fn data_sources(&self) -> &'static [&'static dyn DataSource<Self>] {
        types::DATA_SOURCES
    }

    async fn configure(&self, config: &Value) -> Outcome<()> {
        let c = config::Clients::from_config(config).await?;
        let _ = self.clients.set(c);
        Ok(())
    }

    fn check_planned(&self, req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        ec2::subnet::check_planned(req)
    }

    /// `max_retries` + 1, as for every other call.
    fn discovery_scope(&self, req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
        discover::scope(req)
    }

    fn create_attempts(&self) -> u32 {
        self.clients.get().map_or(infra_provider::resource::CREATE_ATTEMPTS, |c| c.attempts)
    }
}
