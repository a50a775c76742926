//! The provider interface: what the engine asks of a provider family (`local`, `aws`, `vps`,
//! …) and what it gets back. One request struct and one response struct per call; responses
//! carry diagnostics (with attribute paths the engine maps to spans), never a bare error.
//! Nothing here depends on a cloud SDK. See `docs/provider-contract.md`.

use async_trait::async_trait;
pub use infra_lang::diag::{Diagnostic, PathStep};
pub use infra_lang::schema::{AttrSchema, BlockSchema, Nesting, Schema};
pub use infra_lang::types::Type;
pub use infra_lang::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub mod hcl;
pub mod plan_helpers;
pub mod resource;
pub mod text;

pub use resource::{DataSource, Errors, Family, Outcome, ResourceType, Typed};

#[derive(Clone, Debug, Default)]
pub struct ProviderSchema {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}

#[derive(Clone, Debug)]
pub struct ConfigureRequest {
    /// The evaluated provider block (an object per the provider schema).
    pub config: Value,
}

#[derive(Clone, Debug, Default)]
pub struct ConfigureResponse {
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct ValidateRequest {
    pub type_name: String,
    /// True for a data source, false for a managed resource.
    pub data_source: bool,
    /// The configuration decoded against the schema; may contain unknown values.
    pub config: Value,
}

#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub type_name: String,
    /// The object as refreshed from the real world; `None` when it is to be created.
    pub prior: Option<Value>,
    /// The configuration decoded against the schema; may contain unknown values.
    pub config: Value,
}

#[derive(Clone, Debug, Default)]
pub struct PlanResponse {
    /// The object as it will be after apply; unknown where only apply can tell.
    pub planned: Value,
    /// Top-level attributes whose change forces replacement.
    pub requires_replace: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub type_name: String,
    pub planned: Value,
    /// Unique per intended object and stable across retries of the same intent: providers pass
    /// it to the API's idempotency mechanism (EC2 ClientToken, EFS CreationToken) or a tag, so
    /// an interrupted create can be found again by `adopt`.
    pub idempotency_token: String,
}

#[derive(Clone, Debug, Default)]
pub struct CreateResponse {
    /// The new object; `None` when nothing was created.
    pub state: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct ConfirmCreateRequest {
    pub type_name: String,
    /// The object as recorded in state.
    pub state: Value,
    pub idempotency_token: String,
}

#[derive(Clone, Debug, Default)]
pub struct ConfirmCreateResponse {
    /// Reported as warnings: the object exists and is recorded either way.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub type_name: String,
    pub prior: Value,
    pub planned: Value,
}

#[derive(Clone, Debug, Default)]
pub struct UpdateResponse {
    /// The object after the update (the prior one when the update failed part way and the
    /// provider could not tell).
    pub state: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct DeleteRequest {
    pub type_name: String,
    pub prior: Value,
}

#[derive(Clone, Debug, Default)]
pub struct DeleteResponse {
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct CheckDeleteRequest {
    pub type_name: String,
    /// The object the plan would delete (or replace), as refreshed.
    pub prior: Value,
}

#[derive(Clone, Debug)]
pub struct CheckPlannedRequest {
    /// Every managed object of this provider instance as it will be after apply (unknown values
    /// included), with its type.
    pub objects: Vec<PlannedObject>,
}

#[derive(Clone, Debug)]
pub struct PlannedObject {
    pub type_name: String,
    pub value: Value,
    /// Whether this plan creates or changes it (a conflict is blamed on those).
    pub changing: bool,
}

#[derive(Clone, Debug)]
pub struct PrefetchRequest {
    /// Every recorded object of this provider instance that the plan will refresh, with its type.
    pub objects: Vec<(String, Value)>,
    pub full: bool,
}

#[derive(Clone, Debug)]
pub struct ReadManyRequest {
    pub type_name: String,
    /// Every object of this type the engine wants refreshed, as stored.
    pub objects: Vec<Value>,
    /// Re-read everything. When false (a routine plan), a provider may keep the stored value of
    /// attributes whose API reads one object per call, and read only what its batched calls
    /// return: refresh then costs O(N / page size) calls. Drift detection (`--refresh-only`)
    /// and `--refresh-full` set it.
    pub full: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ReadManyResponse {
    /// One entry per requested object, in order: `None` when the object no longer exists.
    pub objects: Vec<Option<Value>>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct ReadDataRequest {
    pub type_name: String,
    pub config: Value,
}

#[derive(Clone, Debug, Default)]
pub struct ReadDataResponse {
    pub state: Value,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub type_name: String,
    pub id: String,
}

#[derive(Clone, Debug)]
pub struct ImportManyRequest {
    pub type_name: String,
    /// The objects `discover` listed: each with its import `id`, and whatever else the listing
    /// knows that a read needs (a mount target's file system, a service's cluster).
    pub objects: Vec<Value>,
}

#[derive(Clone, Debug, Default)]
pub struct ImportResponse {
    pub state: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct FromTerraformRequest {
    pub type_name: String,
    /// The `schema_version` Terraform's provider recorded with the object.
    pub schema_version: u64,
    /// The object as Terraform recorded it, already reduced to this type's schema (arguments
    /// infra does not model dropped, nested blocks in this schema's nesting).
    pub attributes: Value,
}

#[derive(Clone, Debug, Default)]
pub struct FromTerraformResponse {
    pub attributes: Value,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct ToHclRequest {
    pub type_name: String,
    pub state: Value,
}

#[derive(Clone, Debug, Default)]
pub struct ToHclResponse {
    /// The body of the resource block a person would write for the object (arguments and
    /// nested blocks, indented two spaces), which plans with no changes against it.
    pub body: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct DiscoverRequest {
    pub type_name: String,
    pub filter: BTreeMap<String, String>,
}

/// What a drift report asks a provider instance: which `discover` calls cover the scope its
/// managed objects define (the VPCs and clusters a stack manages, or with `region` every
/// object of the types it uses in its region).
#[derive(Clone, Debug, Default)]
pub struct DiscoveryScopeRequest {
    /// Every managed object of this provider instance, as `(type, refreshed value)`.
    pub managed: Vec<(String, Value)>,
    /// List the whole region (or account) instead of what the managed objects contain.
    pub region: bool,
    /// Also report objects the cloud creates by itself (a VPC's default security group and
    /// main route table, the default VPC).
    pub include_defaults: bool,
}

#[derive(Clone, Debug, Default)]
pub struct DiscoverResponse {
    pub objects: Vec<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct AdoptRequest {
    pub type_name: String,
    pub idempotency_token: String,
    pub planned: Value,
}

#[derive(Clone, Debug, Default)]
pub struct AdoptResponse {
    /// The object created under this token by an interrupted run, if it exists.
    pub state: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

fn unsupported(what: &str, type_name: &str) -> Diagnostic {
    Diagnostic::error("Operation not supported", format!("The provider does not support {what} for {type_name}."))
}

/// One configured provider instance. All calls are async and may run concurrently.
#[async_trait]
pub trait Provider: Send + Sync {
    fn schema(&self) -> ProviderSchema;

    async fn configure(&self, _req: ConfigureRequest) -> ConfigureResponse {
        ConfigureResponse::default()
    }

    /// Checks a resource configuration beyond what the schema says, before any API call.
    fn validate(&self, _req: &ValidateRequest) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Plans a create or update. The default fills computed attributes from the prior object
    /// or marks them unknown, and reports force-new attributes that changed.
    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let schema = self.schema();
        match schema.resources.get(&req.type_name) {
            Some(s) => plan_helpers::default_plan(s, req.prior.as_ref(), &req.config),
            None => PlanResponse { planned: req.config, diagnostics: vec![unsupported("planning", &req.type_name)], ..Default::default() },
        }
    }

    /// Whether the engine records a create intent in state (and waits for it to be durable)
    /// before calling `create`. Providers whose objects cannot leak (nothing outside the
    /// state, or re-creation is harmless) return false and skip that write.
    fn journals_creates(&self) -> bool {
        true
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse;

    /// Called once a journaled create is durably recorded in state: the provider may now drop
    /// whatever marks the intent (an intent tag), since the object can no longer be lost.
    async fn confirm_create(&self, _req: ConfirmCreateRequest) -> ConfirmCreateResponse {
        ConfirmCreateResponse::default()
    }
    async fn update(&self, req: UpdateRequest) -> UpdateResponse;
    async fn delete(&self, req: DeleteRequest) -> DeleteResponse;

    /// Refuses, at plan time, a delete the real API would refuse (deletion protection), so a
    /// destroy stops before it has deleted anything rather than half way through. Errors fail
    /// the plan; the default allows every delete.
    fn check_delete(&self, _req: &CheckDeleteRequest) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Checks the planned objects of a provider instance together, at plan time, for conflicts
    /// no single object shows (two subnets of one VPC with overlapping CIDR blocks, a firewall
    /// that would lock out the SSH session). Diagnostics name the offending object by its index
    /// in `objects`.
    fn check_planned(&self, _req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        Vec::new()
    }

    /// Called once per provider instance before its first `read_many` of a plan, with every
    /// object it will be asked about, of every type: a provider whose reads cost a round trip
    /// each (SSH) reads them all at once here and answers `read_many` from that.
    async fn prefetch(&self, _req: PrefetchRequest) {}

    /// Refreshes many objects of one type, in as few API calls as the API allows.
    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse;

    async fn read_data(&self, req: ReadDataRequest) -> ReadDataResponse {
        ReadDataResponse { state: Value::Null, diagnostics: vec![unsupported("data sources", &req.type_name)] }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        ImportResponse { state: None, diagnostics: vec![unsupported("import", &req.type_name)] }
    }

    /// Reads many objects of one type by their import ids (`infra discover`): one answer per
    /// id, in order, `None` for an id that names nothing. The default imports them one by one;
    /// a provider with batched reads reads them all in as few calls as `read_many` does.
    async fn import_many(&self, req: ImportManyRequest) -> ReadManyResponse {
        let mut out = ReadManyResponse::default();
        for o in req.objects {
            let id = o.get_attr("id").and_then(Value::as_str).unwrap_or_default().to_string();
            let resp = self.import(ImportRequest { type_name: req.type_name.clone(), id }).await;
            let missing = resp.state.is_none();
            out.objects.push(resp.state);
            // An object gone since it was listed is no error here: it is simply not there.
            if !missing {
                out.diagnostics.extend(resp.diagnostics);
            }
        }
        out
    }

    async fn discover(&self, req: DiscoverRequest) -> DiscoverResponse {
        DiscoverResponse { objects: Vec::new(), diagnostics: vec![unsupported("discovery", &req.type_name)] }
    }

    /// The `discover` calls (one per type, each with its filter) that list what exists in the
    /// scope the managed objects define. Each discovered object carries at least its `id`, as
    /// `read_many` would record it, so the engine tells managed from unmanaged by id. The
    /// default discovers nothing: the provider has no scope to report on.
    fn discovery_scope(&self, _req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
        Vec::new()
    }

    /// An object recorded by Terraform's provider of the same name (`infra state migrate`), as
    /// this provider records it: where ids or values differ (a route's id), rewritten. The
    /// default takes the object as it is.
    fn upgrade_terraform_state(&self, req: FromTerraformRequest) -> FromTerraformResponse {
        FromTerraformResponse { attributes: req.attributes, diagnostics: Vec::new() }
    }

    /// The configuration a person would write for an existing object (`plan
    /// --generate-config-out`): only arguments a user can set, no conflicting ones, defaults
    /// left out, so that it plans with no changes.
    /// The default writes what the type's schema says a user can set (see [`hcl::body`]).
    fn to_hcl(&self, req: ToHclRequest) -> ToHclResponse {
        match self.schema().resources.get(&req.type_name) {
            Some(s) => ToHclResponse { body: Some(hcl::body(s, &req.state)), diagnostics: Vec::new() },
            None => ToHclResponse { body: None, diagnostics: vec![unsupported("configuration generation", &req.type_name)] },
        }
    }

    /// Finds an object created under `idempotency_token` by a run that stopped before it could
    /// record it, and returns it as it is (read-only: this runs while planning; the plan then
    /// shows the update that completes it). The default finds nothing: right for providers
    /// whose creates cannot leak.
    async fn adopt(&self, _req: AdoptRequest) -> AdoptResponse {
        AdoptResponse::default()
    }
}

/// Makes a fresh, unconfigured provider instance; one per `provider` block (and alias).
pub type ProviderFactory = Arc<dyn Fn() -> Box<dyn Provider> + Send + Sync>;

/// The provider families the CLI links in, by name (`terraform`, `local`, `random`, `aws`, …).
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<String, ProviderFactory>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register(&mut self, name: &str, factory: ProviderFactory) {
        self.factories.insert(name.to_string(), factory);
    }

    pub fn get(&self, name: &str) -> Option<&ProviderFactory> {
        self.factories.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.factories.keys()
    }
}

/// Typed reads of decoded objects for provider implementations. A required value that is
/// missing is a diagnostic naming the attribute, never an empty string sent to an API.
pub mod attrs {
    use super::{Diagnostic, PathStep, Value};
    use std::collections::BTreeMap;

    pub fn string(obj: &Value, name: &str) -> Option<String> {
        obj.get_attr(name).and_then(|v| v.as_str().map(str::to_string))
    }

    pub fn bool(obj: &Value, name: &str) -> Option<bool> {
        obj.get_attr(name).and_then(Value::as_bool)
    }

    pub fn int(obj: &Value, name: &str) -> Option<i64> {
        obj.get_attr(name).and_then(Value::as_i64)
    }

    fn missing(name: &str) -> Diagnostic {
        Diagnostic::error("Missing required argument", format!("The argument \"{name}\" has no value; set it in the configuration."))
            .with_path(vec![PathStep::Attr(name.to_string())])
    }

    /// A string the API call needs: an error naming the attribute when it is null.
    pub fn req_string(obj: &Value, name: &str) -> Result<String, Diagnostic> {
        string(obj, name).ok_or_else(|| missing(name))
    }

    pub fn req_int(obj: &Value, name: &str) -> Result<i64, Diagnostic> {
        int(obj, name).ok_or_else(|| missing(name))
    }

    pub fn req_bool(obj: &Value, name: &str) -> Result<bool, Diagnostic> {
        bool(obj, name).ok_or_else(|| missing(name))
    }

    /// The strings of a list or set attribute (empty when null).
    pub fn strings(obj: &Value, name: &str) -> Vec<String> {
        obj.get_attr(name).and_then(Value::as_seq).map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
    }

    /// A map(string) attribute (empty when null).
    pub fn string_map(obj: &Value, name: &str) -> BTreeMap<String, String> {
        map_of(obj.get_attr(name))
    }

    /// A map(string) value (empty when null or not a map).
    pub fn map_of(v: Option<&Value>) -> BTreeMap<String, String> {
        v.and_then(Value::as_map).map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()).unwrap_or_default()
    }

    /// Sets `k` to `v` when it is missing or null: a default the API applies.
    pub fn set_default(m: &mut BTreeMap<String, Value>, k: &str, v: Value) {
        if m.get(k).is_none_or(Value::is_null) {
            m.insert(k.to_string(), v);
        }
    }

    /// A path to a top-level attribute, for diagnostics.
    pub fn at(name: &str) -> Vec<PathStep> {
        vec![PathStep::Attr(name.to_string())]
    }
}
