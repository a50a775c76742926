//! The `google` provider: Cloud SQL for PostgreSQL (and MySQL) as terraform-provider-google
//! users write it. One file per resource type under its service (`sql/`), listed in the one
//! table in `types`; [`Typed`] routes every call by type name. This file is the family: the
//! provider block and the API client. `api` is the REST client (errors, retries, operations,
//! one mutation per instance at a time); `auth` finds the access token.

// `Diagnostic` is the error of every provider call in this repository; boxing it here alone
// would buy nothing.
#![allow(clippy::result_large_err)]

mod api;
mod auth;
mod config;
mod data;
mod http;
mod sql;
mod types;

use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Default)]
pub struct GoogleProvider {
    client: OnceLock<config::Client>,
    /// The errors of create operations that failed after their object came to exist (an
    /// instance left FAILED), by object: `create` returns the object so that it is recorded,
    /// never orphaned, and `converge` reports these.
    create_errors: std::sync::Mutex<BTreeMap<String, Vec<Diagnostic>>>,
}

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(Typed(GoogleProvider::default())) as Box<dyn Provider>)
}

impl GoogleProvider {
    /// The configured client; an error before `configure`.
    pub(crate) fn client(&self) -> Result<&config::Client, Diagnostic> {
        self.client
            .get()
            .ok_or_else(|| Diagnostic::error("Provider not configured", "The google provider was used before it was configured; this is a bug in infra."))
    }

    /// `default_labels` of the provider block.
    pub(crate) fn default_labels(&self) -> BTreeMap<String, String> {
        self.client.get().map(|c| c.default_labels.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Family for GoogleProvider {
    fn name(&self) -> &'static str {
        "google"
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
        let c = config::Client::from_config(config)?;
        let _ = self.client.set(c);
        Ok(())
    }
}
