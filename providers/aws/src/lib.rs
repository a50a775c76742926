//! The `aws` provider. Configuration as terraform-provider-aws users write it (or none at all:
//! the standard environment and profiles apply), and, so far, `aws_vpc`, `aws_subnet`,
//! `aws_internet_gateway`, `aws_route_table`, `aws_route_table_association`,
//! `aws_security_group`, `aws_vpc_security_group_ingress_rule`,
//! `aws_vpc_security_group_egress_rule`, `aws_instance`, and the `aws_availability_zones` and
//! `aws_ami` data sources.
//! Reads are batched: one `Describe*` per type and page, with an id filter (a filter, not an id
//! list, so that one deleted object does not fail the whole call).

mod config;
mod ec2;

use async_trait::async_trait;
use infra_provider::*;
use std::sync::OnceLock;

pub struct AwsProvider {
    clients: OnceLock<config::Clients>,
}

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(AwsProvider { clients: OnceLock::new() }) as Box<dyn Provider>)
}

fn not_configured() -> Diagnostic {
    Diagnostic::error("Provider not configured", "The aws provider was used before it was configured; this is a bug in infra.")
}

impl AwsProvider {
    fn clients(&self) -> Result<&config::Clients, Diagnostic> {
        self.clients.get().ok_or_else(not_configured)
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema { provider: config::schema(), resources: ec2::schemas(), data_sources: ec2::data_schemas() }
    }

    async fn configure(&self, req: ConfigureRequest) -> ConfigureResponse {
        match config::Clients::from_config(&req.config).await {
            Ok(c) => {
                let _ = self.clients.set(c);
                ConfigureResponse::default()
            }
            Err(d) => ConfigureResponse { diagnostics: vec![d] },
        }
    }

    fn validate(&self, req: &ValidateRequest) -> Vec<Diagnostic> {
        ec2::validate(req)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let default_tags = self.clients.get().map(|c| c.default_tags.clone()).unwrap_or_default();
        ec2::plan(req, &default_tags)
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        match self.clients() {
            Ok(c) => ec2::create(c, req).await,
            Err(d) => CreateResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn confirm_create(&self, req: ConfirmCreateRequest) -> ConfirmCreateResponse {
        match self.clients() {
            Ok(c) => ec2::confirm_create(c, req).await,
            Err(d) => ConfirmCreateResponse { diagnostics: vec![d] },
        }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        match self.clients() {
            Ok(c) => ec2::update(c, req).await,
            Err(d) => UpdateResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        match self.clients() {
            Ok(c) => ec2::delete(c, req).await,
            Err(d) => DeleteResponse { diagnostics: vec![d] },
        }
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        match self.clients() {
            Ok(c) => ec2::read_many(c, req).await,
            Err(d) => ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
        }
    }

    async fn read_data(&self, req: ReadDataRequest) -> ReadDataResponse {
        match self.clients() {
            Ok(c) => ec2::read_data(c, req).await,
            Err(d) => ReadDataResponse { state: Value::Null, diagnostics: vec![d] },
        }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        match self.clients() {
            Ok(c) => ec2::import(c, req).await,
            Err(d) => ImportResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn adopt(&self, req: AdoptRequest) -> AdoptResponse {
        match self.clients() {
            Ok(c) => ec2::adopt(c, req).await,
            Err(d) => AdoptResponse { state: None, diagnostics: vec![d] },
        }
    }
}
