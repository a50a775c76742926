//! The `aws` provider. Configuration as terraform-provider-aws users write it (or none at all:
//! the standard environment and profiles apply); one module per AWS service: `ec2` (VPC
//! networking and instances, and the data sources), `efs`, `ecs` and `elb` (ELBv2).
//! This file routes each call to the service that owns the type, and holds the create / update /
//! adopt sequence the EFS, ECS and ELBv2 modules share: call, finish (attributes the create
//! call cannot take, waits), read back. Reads are batched per type; see each module.

mod common;
mod config;
mod ec2;
mod ecs;
mod efs;
mod elb;

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

#[derive(Clone, Copy, PartialEq)]
enum Service {
    Ec2,
    Efs,
    Ecs,
    Elb,
}

fn service_of(type_name: &str) -> Service {
    if type_name.starts_with("aws_efs_") {
        Service::Efs
    } else if type_name.starts_with("aws_ecs_") {
        Service::Ecs
    } else if type_name == "aws_lb" || type_name.starts_with("aws_lb_") {
        Service::Elb
    } else {
        Service::Ec2
    }
}

async fn call_create(c: &config::Clients, svc: Service, type_name: &str, p: &Value, token: &str) -> Result<String, Diagnostic> {
    match svc {
        Service::Efs => efs::create(c, type_name, p, token).await,
        Service::Ecs => ecs::create(c, type_name, p, token).await,
        _ => elb::create(c, type_name, p, token).await,
    }
}

async fn call_finish(c: &config::Clients, svc: Service, type_name: &str, id: &str, p: &Value) -> Result<(), Diagnostic> {
    match svc {
        Service::Efs => efs::finish_create(c, type_name, id, p).await,
        Service::Ecs => ecs::finish_create(c, type_name, id, p).await,
        _ => elb::finish_create(c, type_name, id, p).await,
    }
}

async fn call_read_one(c: &config::Clients, svc: Service, type_name: &str, id: &str, prior: Option<&Value>) -> Result<Option<Value>, Diagnostic> {
    match svc {
        Service::Efs => efs::read_one(c, type_name, id, prior).await,
        Service::Ecs => ecs::read_one(c, type_name, id, prior).await,
        _ => elb::read_one(c, type_name, id, prior).await,
    }
}

/// Finishes a create and reads the object back. Once the object exists it is always returned
/// (read back, or as planned with its id), errors or not, so it is never orphaned.
async fn finish_and_read(c: &config::Clients, svc: Service, type_name: &str, id: &str, p: &Value) -> (Option<Value>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    if let Err(d) = call_finish(c, svc, type_name, id, p).await {
        diagnostics.push(d);
    }
    match call_read_one(c, svc, type_name, id, Some(p)).await {
        Ok(Some(v)) => (Some(v), diagnostics),
        other => {
            match other {
                Err(d) => diagnostics.push(d),
                _ => diagnostics.push(common::err("Object vanished", format!("{type_name} {id} was created but cannot be read back."))),
            }
            let mut fallback = p.clone();
            if let Value::Object(m) = &mut fallback {
                m.insert("id".into(), Value::string(id));
            }
            (Some(fallback), diagnostics)
        }
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn schema(&self) -> ProviderSchema {
        let mut resources = ec2::schemas();
        resources.extend(efs::schemas());
        resources.extend(ecs::schemas());
        resources.extend(elb::schemas());
        ProviderSchema { provider: config::schema(), resources, data_sources: ec2::data_schemas() }
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
        match service_of(&req.type_name) {
            Service::Ec2 => ec2::validate(req),
            Service::Efs => efs::validate(req),
            Service::Ecs => ecs::validate(req),
            Service::Elb => elb::validate(req),
        }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let default_tags = self.clients.get().map(|c| c.default_tags.clone()).unwrap_or_default();
        match service_of(&req.type_name) {
            Service::Ec2 => ec2::plan(req, &default_tags),
            Service::Efs => efs::plan(req, &default_tags),
            Service::Ecs => ecs::plan(req, &default_tags),
            Service::Elb => elb::plan(req, &default_tags),
        }
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return CreateResponse { state: None, diagnostics: vec![d] },
        };
        let svc = service_of(&req.type_name);
        if svc == Service::Ec2 {
            return ec2::create(c, req).await;
        }
        let p = req.planned.deep_unmark();
        match call_create(c, svc, &req.type_name, &p, &req.idempotency_token).await {
            Ok(id) => {
                let (state, diagnostics) = finish_and_read(c, svc, &req.type_name, &id, &p).await;
                CreateResponse { state, diagnostics }
            }
            Err(d) => CreateResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn confirm_create(&self, req: ConfirmCreateRequest) -> ConfirmCreateResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return ConfirmCreateResponse { diagnostics: vec![d] },
        };
        let state = req.state.deep_unmark();
        // ECS task definitions are named by family; their tags hang on the revision's ARN.
        let id = attrs::string(&state, "arn").filter(|_| req.type_name == "aws_ecs_task_definition").unwrap_or_else(|| common::id_of(&state));
        let dropped = match service_of(&req.type_name) {
            Service::Ec2 => return ec2::confirm_create(c, req).await,
            Service::Efs => efs::drop_intent_tag(c, &req.type_name, &id).await,
            Service::Ecs => ecs::drop_intent_tag(c, &req.type_name, &id).await,
            Service::Elb => elb::drop_intent_tag(c, &req.type_name, &id).await,
        };
        ConfirmCreateResponse { diagnostics: dropped.err().into_iter().collect() }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return UpdateResponse { state: None, diagnostics: vec![d] },
        };
        let svc = service_of(&req.type_name);
        let (prior, planned) = (req.prior.deep_unmark(), req.planned.deep_unmark());
        let result = match svc {
            Service::Ec2 => return ec2::update(c, req).await,
            Service::Efs => efs::update(c, &req.type_name, &prior, &planned).await,
            Service::Ecs => ecs::update(c, &req.type_name, &prior, &planned).await,
            Service::Elb => elb::update(c, &req.type_name, &prior, &planned).await,
        };
        let mut diagnostics: Vec<Diagnostic> = result.err().into_iter().collect();
        let id = common::id_of(&prior);
        match call_read_one(c, svc, &req.type_name, &id, Some(&planned)).await {
            Ok(state) => UpdateResponse { state: state.or(Some(prior)), diagnostics },
            Err(d) => {
                diagnostics.push(d);
                UpdateResponse { state: Some(prior), diagnostics }
            }
        }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: vec![d] },
        };
        let prior = req.prior.deep_unmark();
        let result = match service_of(&req.type_name) {
            Service::Ec2 => return ec2::delete(c, req).await,
            Service::Efs => efs::delete(c, &req.type_name, &prior).await,
            Service::Ecs => ecs::delete(c, &req.type_name, &prior).await,
            Service::Elb => elb::delete(c, &req.type_name, &prior).await,
        };
        DeleteResponse { diagnostics: result.err().into_iter().collect() }
    }

    fn check_delete(&self, req: &CheckDeleteRequest) -> Vec<Diagnostic> {
        elb::check_delete(req)
    }

    fn check_planned(&self, req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        ec2::check_planned(req)
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
        };
        let objects: Vec<Value> = req.objects.iter().map(Value::deep_unmark).collect();
        let result = match service_of(&req.type_name) {
            Service::Ec2 => return ec2::read_many(c, req).await,
            Service::Efs => efs::read_many(c, &req.type_name, &objects, req.full).await,
            Service::Ecs => ecs::read_many(c, &req.type_name, &objects, req.full).await,
            Service::Elb => elb::read_many(c, &req.type_name, &objects, req.full).await,
        };
        match result {
            Ok(objects) => ReadManyResponse { objects, diagnostics: Vec::new() },
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
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return ImportResponse { state: None, diagnostics: vec![d] },
        };
        let svc = service_of(&req.type_name);
        if svc == Service::Ec2 {
            return ec2::import(c, req).await;
        }
        match call_read_one(c, svc, &req.type_name, &req.id, None).await {
            Ok(Some(v)) => ImportResponse { state: Some(v), diagnostics: Vec::new() },
            Ok(None) => ImportResponse {
                state: None,
                diagnostics: vec![common::err("Cannot import non-existent remote object", format!("No {} with id {} exists.", req.type_name, req.id))],
            },
            Err(d) => ImportResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn adopt(&self, req: AdoptRequest) -> AdoptResponse {
        let c = match self.clients() {
            Ok(c) => c,
            Err(d) => return AdoptResponse { state: None, diagnostics: vec![d] },
        };
        let svc = service_of(&req.type_name);
        let p = req.planned.deep_unmark();
        let found = match svc {
            Service::Ec2 => return ec2::adopt(c, req).await,
            Service::Efs => efs::adopt(c, &req.type_name, &req.idempotency_token, &p).await,
            Service::Ecs => ecs::adopt(c, &req.type_name, &req.idempotency_token, &p).await,
            Service::Elb => elb::adopt(c, &req.type_name, &req.idempotency_token, &p).await,
        };
        match found {
            Ok(Some(id)) => {
                let (state, diagnostics) = finish_and_read(c, svc, &req.type_name, &id, &p).await;
                AdoptResponse { state, diagnostics }
            }
            Ok(None) => AdoptResponse::default(),
            Err(d) => AdoptResponse { state: None, diagnostics: vec![d] },
        }
    }
}
