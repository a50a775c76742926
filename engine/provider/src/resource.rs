//! One resource type, one file. A provider family implements [`Family`] once (its provider
//! block, how it connects, what it checks across objects) and [`ResourceType`] /
//! [`DataSource`] once per type, each in its own file, and lists them in one table.
//! [`Typed`] turns a family into a [`Provider`]: it routes every call by type name (an unknown
//! type is an error, never a default), and holds the create → converge → read back sequence
//! that every type shares, so it is written once.
//!
//! Adding a type: write its file, add one line to the family's table. See
//! `docs/provider-contract.md` for a worked example.

use crate::*;
use std::collections::BTreeMap;

/// The diagnostics of a failed step, and whether the call may have acted anyway. `?` turns a
/// single [`Diagnostic`] into one that certainly did not act.
#[derive(Clone, Debug, Default)]
pub struct Errors(pub Vec<Diagnostic>, pub Acted);

/// What a failed call did to the remote side, as far as the caller can tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Acted {
    /// The API answered with a refusal: nothing was done.
    #[default]
    No,
    /// The request went out and no answer says it was refused: a lost response, a timeout, a
    /// server error that is not throttling. A create that fails so may have made its object;
    /// [`Typed`] looks for it by its token before sending the create again.
    Maybe,
}

impl From<Diagnostic> for Errors {
    fn from(d: Diagnostic) -> Errors {
        Errors(vec![d], Acted::No)
    }
}

impl From<Vec<Diagnostic>> for Errors {
    fn from(d: Vec<Diagnostic>) -> Errors {
        Errors(d, Acted::No)
    }
}

impl Errors {
    /// `Ok(())` when there is nothing to report.
    pub fn check(diags: Vec<Diagnostic>) -> Result<(), Errors> {
        if diags.is_empty() {
            Ok(())
        } else {
            Err(Errors(diags, Acted::No))
        }
    }

    /// A failure whose request may have acted (see [`Acted::Maybe`]).
    pub fn maybe_acted(d: Diagnostic) -> Errors {
        Errors(vec![d], Acted::Maybe)
    }
}

/// How many times [`Typed`] sends a create whose earlier attempts may have acted without
/// making anything that its token finds, unless the family says otherwise
/// ([`Family::create_attempts`]).
pub const CREATE_ATTEMPTS: u32 = 4;

pub type Outcome<T> = Result<T, Errors>;

/// Everything a provider knows about one managed resource type. `C` is the family's
/// configured provider (its clients or connection, its default tags), passed to every call.
#[async_trait]
pub trait ResourceType<C: Sync + ?Sized>: Send + Sync {
    /// The type name users write (`aws_vpc`).
    fn name(&self) -> &'static str;

    /// Arguments and attributes, with defaults (`AttrSchema::default`) and force-new marks.
    fn schema(&self) -> Schema;

    /// Checks the schema cannot express (exclusive arguments, formats), with attribute paths.
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Plans a create (`prior` is `None`) or an update: the planned object, normalized so
    /// that a second plan after apply is empty. The default rule fills schema defaults and
    /// keeps computed attributes.
    fn plan(&self, _c: &C, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_helpers::default_plan(&self.schema(), prior, config)
    }

    /// Refuses, at plan time, a delete the API would refuse (deletion protection).
    fn check_delete(&self, _prior: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Refuses, at plan time, a create the API would refuse for a reason only the API can tell
    /// (a name Cloud SQL still reserves after a delete). Called for planned creates only (and
    /// the new object of a replacement), never for a no-op or an update, so a routine plan
    /// costs nothing more; it may read, never change.
    async fn check_create(&self, _c: &C, _planned: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// The create call itself. Returns the object as far as the create knows it, with at least
    /// its `id`; [`Typed`] then calls [`ResourceType::converge`] and reads the object back.
    /// `token` is stable across retries of one intent: pass it to the API's idempotency
    /// mechanism or an intent tag, so [`ResourceType::adopt`] can find the object again. A
    /// failure whose request may have acted is returned with [`Errors::maybe_acted`]: the
    /// object is then looked for by its token before the create is sent again.
    async fn create(&self, c: &C, planned: &Value, token: &str) -> Outcome<Value>;

    /// Everything the create call cannot take (attributes set by later calls, attachments,
    /// waits), right after the create call. An adopted object is not converged here: adoption
    /// runs while planning and only reads, so the plan shows what completing the object takes
    /// (an update from what exists to the planned object) and apply does it through `update`.
    /// It does run on an object found by its token after a create whose answer was lost:
    /// that object is as fresh as the create call left it, since nothing else ran on it.
    async fn converge(&self, _c: &C, _created: &Value, _planned: &Value) -> Outcome<()> {
        Ok(())
    }

    /// Refreshes many objects in as few API calls as the API allows: one answer per object,
    /// in order, `None` for an object that no longer exists. When `full` is false the type may
    /// keep recorded values of attributes that cost one call per object.
    async fn read_many(&self, c: &C, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>>;

    /// Reads one object after a create, an update or for an import. `known` is what is known
    /// of it (the created or planned object, or just `{id}` for an import).
    async fn read_one(&self, c: &C, known: &Value) -> Outcome<Option<Value>> {
        let mut found = self.read_many(c, std::slice::from_ref(known), true).await?;
        Ok(found.pop().flatten())
    }

    /// Updates in place; [`Typed`] reads the object back afterwards, failed or not.
    async fn update(&self, c: &C, prior: &Value, planned: &Value) -> Outcome<()>;

    /// Deletes and waits until the API no longer tracks dependents; a missing object is success.
    async fn delete(&self, c: &C, prior: &Value) -> Outcome<()>;

    /// The object to read for an import by id: `{id}` unless the type's ids carry more
    /// (`cluster/service`).
    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id))]))
    }

    /// Finds the object an interrupted create made under `token`, if any. Read-only: it runs
    /// while planning, which never changes anything, and after a create that may have acted
    /// ([`Acted::Maybe`]) before the create is sent again. A type whose create is not
    /// idempotent must find its objects here, or a lost answer makes a second one.
    async fn adopt(&self, _c: &C, _token: &str, _planned: &Value) -> Outcome<Option<Value>> {
        Ok(None)
    }

    /// Drops whatever marked the create intent once the object is durably recorded.
    async fn confirm_create(&self, _c: &C, _state: &Value, _token: &str) -> Outcome<()> {
        Ok(())
    }

    /// Lists what exists of this type within `filter` (drift reports, bulk import).
    async fn discover(&self, _c: &C, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        Err(unsupported("discovery", self.name()).into())
    }

    /// An object as terraform-provider-<family> recorded it (reduced to this schema), as this
    /// type records it: ids that differ are rewritten here.
    fn upgrade_terraform_state(&self, attributes: Value, _schema_version: u64) -> Outcome<Value> {
        Ok(attributes)
    }

    /// The body of the resource block a person would write for `state`.
    fn to_hcl(&self, state: &Value) -> String {
        hcl::body(&self.schema(), state)
    }
}

/// A data source: read-only, one call per configuration.
#[async_trait]
pub trait DataSource<C: Sync + ?Sized>: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }
    async fn read(&self, c: &C, config: &Value) -> Outcome<Value>;
}

/// What a provider family implements once, beside its types.
#[async_trait]
pub trait Family: Send + Sync + Sized + 'static {
    /// The family's name, as in `provider "aws"`.
    fn name(&self) -> &'static str;
    fn provider_schema(&self) -> Schema;
    /// The family's resource types: its one table.
    fn resources(&self) -> &'static [&'static dyn ResourceType<Self>];
    fn data_sources(&self) -> &'static [&'static dyn DataSource<Self>];
    async fn configure(&self, config: &Value) -> Outcome<()>;

    /// See [`Provider::journals_creates`].
    fn journals_creates(&self) -> bool {
        true
    }
    /// See [`Provider::check_planned`].
    fn check_planned(&self, _req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        Vec::new()
    }
    /// See [`Provider::prefetch`].
    async fn prefetch(&self, _req: PrefetchRequest) {}

    /// See [`Provider::discovery_scope`].
    fn discovery_scope(&self, _req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
        Vec::new()
    }
    /// How many times a create that may have acted, and whose object its token does not find,
    /// is sent (the family's retry setting, where it has one).
    fn create_attempts(&self) -> u32 {
        CREATE_ATTEMPTS
    }
}

/// A [`Family`] as a [`Provider`].
pub struct Typed<F: Family>(pub F);

fn unknown_type(family: &str, type_name: &str, kind: &str) -> Diagnostic {
    Diagnostic::error(format!("Unsupported {kind}"), format!("The {family} provider has no {kind} {type_name:?}."))
}

/// `v` with its `id` set.
/// The pause before attempt `n + 1` of a create that may have acted: exponential from half a
/// second, capped at 8 seconds, with jitter so that parallel creates do not retry in step.
fn backoff(n: u32) -> std::time::Duration {
    let base = 500u64.saturating_mul(1 << n.min(4)).min(8_000);
    let jitter = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_nanos())) % (base / 2 + 1);
    std::time::Duration::from_millis(base / 2 + jitter)
}

/// `read` with the `timeouts` block of `known`: the waits a configuration sets are no API
/// object's attribute, so no read reports them, and they stay as configured (as in Terraform).
fn keep_timeouts<C: Sync + ?Sized>(t: &dyn ResourceType<C>, read: Value, known: &Value) -> Value {
    match read {
        Value::Object(mut m) if t.schema().blocks.contains_key("timeouts") => {
            m.insert("timeouts".into(), known.get_attr("timeouts").cloned().unwrap_or(Value::Null));
            Value::Object(m)
        }
        other => other,
    }
}

pub fn with_id(v: &Value, id: &str) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), Value::string(id));
    } else {
        v = Value::object([("id", Value::string(id))]);
    }
    v
}

impl<F: Family> Typed<F> {
    pub fn resource(&self, type_name: &str) -> Result<&'static dyn ResourceType<F>, Diagnostic> {
        self.0.resources().iter().copied().find(|t| t.name() == type_name).ok_or_else(|| unknown_type(self.0.name(), type_name, "resource type"))
    }

    pub fn data_source(&self, type_name: &str) -> Result<&'static dyn DataSource<F>, Diagnostic> {
        self.0.data_sources().iter().copied().find(|t| t.name() == type_name).ok_or_else(|| unknown_type(self.0.name(), type_name, "data source"))
    }

    /// Converges a created object and reads it back. Once the object exists it is
    /// always returned (read back, or as created), errors or not, so it is never orphaned.
    async fn converge_and_read(&self, t: &dyn ResourceType<F>, created: Value, planned: &Value) -> (Option<Value>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        if let Err(Errors(d, _)) = t.converge(&self.0, &created, planned).await {
            diagnostics.extend(d);
        }
        match t.read_one(&self.0, &created).await {
            Ok(Some(v)) => (Some(keep_timeouts(t, v, planned)), diagnostics),
            other => {
                match other {
                    Err(Errors(d, _)) => diagnostics.extend(d),
                    _ => diagnostics.push(Diagnostic::error(
                        "Object vanished",
                        format!("{} {} was created but cannot be read back.", t.name(), attrs::string(&created, "id").unwrap_or_default()),
                    )),
                }
                (Some(created), diagnostics)
            }
        }
    }
}

#[async_trait]
impl<F: Family> Provider for Typed<F> {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            provider: self.0.provider_schema(),
            resources: self.0.resources().iter().map(|t| (t.name().to_string(), t.schema())).collect(),
            data_sources: self.0.data_sources().iter().map(|t| (t.name().to_string(), t.schema())).collect(),
        }
    }

    async fn configure(&self, req: ConfigureRequest) -> ConfigureResponse {
        ConfigureResponse { diagnostics: self.0.configure(&req.config).await.err().map(|e| e.0).unwrap_or_default() }
    }

    fn validate(&self, req: &ValidateRequest) -> Vec<Diagnostic> {
        let config = req.config.deep_unmark();
        if req.data_source {
            self.data_source(&req.type_name).map_or_else(|d| vec![d], |t| t.validate(&config))
        } else {
            self.resource(&req.type_name).map_or_else(|d| vec![d], |t| t.validate(&config))
        }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        match self.resource(&req.type_name) {
            Ok(t) => {
                let mut resp = t.plan(&self.0, req.prior.as_ref(), &req.config);
                if req.prior.is_none() && !resp.diagnostics.iter().any(Diagnostic::is_error) {
                    let found = t.check_create(&self.0, &resp.planned).await;
                    resp.diagnostics.extend(found);
                }
                resp
            }
            Err(d) => PlanResponse { planned: req.config, diagnostics: vec![d], ..Default::default() },
        }
    }

    fn journals_creates(&self) -> bool {
        self.0.journals_creates()
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return CreateResponse { state: None, diagnostics: vec![d] },
        };
        let planned = req.planned.deep_unmark();
        let token = &req.idempotency_token;
        let mut attempt = 1;
        loop {
            let failed = match t.create(&self.0, &planned, token).await {
                Ok(created) => {
                    let (state, diagnostics) = self.converge_and_read(t, created, &planned).await;
                    return CreateResponse { state, diagnostics };
                }
                Err(Errors(diagnostics, Acted::No)) => return CreateResponse { state: None, diagnostics },
                Err(Errors(diagnostics, Acted::Maybe)) => diagnostics,
            };
            // The create may have made the object: look for it by its token before sending the
            // create again, so a lost answer never makes a second one. The pause also gives an
            // eventually consistent API time to list what it just made.
            tokio::time::sleep(backoff(attempt)).await;
            let mut found = t.adopt(&self.0, token, &planned).await;
            if matches!(found, Ok(None)) {
                // Listings can lag behind a create (EC2's Describe calls are eventually
                // consistent): look once more before sending a create that would make a second.
                tokio::time::sleep(backoff(attempt)).await;
                found = t.adopt(&self.0, token, &planned).await;
            }
            match found {
                Ok(Some(found)) => {
                    let (state, diagnostics) = self.converge_and_read(t, found, &planned).await;
                    return CreateResponse { state, diagnostics };
                }
                Ok(None) if attempt < self.0.create_attempts() => attempt += 1,
                Ok(None) => {
                    let mut diagnostics = failed;
                    diagnostics.push(Diagnostic::error(
                        "Create failed",
                        format!("{} was sent {attempt} times without an answer; nothing it made was found by its token, so nothing was left behind.", t.name()),
                    ));
                    return CreateResponse { state: None, diagnostics };
                }
                Err(Errors(more, _)) => {
                    // Neither made for sure nor surely not: the next plan looks again.
                    let mut diagnostics = failed;
                    diagnostics.extend(more);
                    return CreateResponse { state: None, diagnostics };
                }
            }
        }
    }

    async fn confirm_create(&self, req: ConfirmCreateRequest) -> ConfirmCreateResponse {
        let diagnostics = match self.resource(&req.type_name) {
            Ok(t) => t.confirm_create(&self.0, &req.state.deep_unmark(), &req.idempotency_token).await.err().map(|e| e.0).unwrap_or_default(),
            Err(d) => vec![d],
        };
        ConfirmCreateResponse { diagnostics }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return UpdateResponse { state: None, diagnostics: vec![d] },
        };
        let (prior, planned) = (req.prior.deep_unmark(), req.planned.deep_unmark());
        let mut diagnostics = t.update(&self.0, &prior, &planned).await.err().map(|e| e.0).unwrap_or_default();
        // The id survives an in-place update; read back with what the plan knew.
        let known = with_id(&planned, &attrs::string(&prior, "id").unwrap_or_default());
        match t.read_one(&self.0, &known).await {
            Ok(state) => UpdateResponse { state: state.map(|s| keep_timeouts(t, s, &planned)).or(Some(req.prior)), diagnostics },
            Err(Errors(d, _)) => {
                diagnostics.extend(d);
                UpdateResponse { state: Some(req.prior), diagnostics }
            }
        }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let diagnostics = match self.resource(&req.type_name) {
            Ok(t) => t.delete(&self.0, &req.prior.deep_unmark()).await.err().map(|e| e.0).unwrap_or_default(),
            Err(d) => vec![d],
        };
        DeleteResponse { diagnostics }
    }

    fn check_delete(&self, req: &CheckDeleteRequest) -> Vec<Diagnostic> {
        self.resource(&req.type_name).map_or_else(|d| vec![d], |t| t.check_delete(&req.prior.deep_unmark()))
    }

    fn check_planned(&self, req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        self.0.check_planned(req)
    }

    async fn prefetch(&self, req: PrefetchRequest) {
        self.0.prefetch(req).await
    }

    fn discovery_scope(&self, req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
        self.0.discovery_scope(req)
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
        };
        let objects: Vec<Value> = req.objects.iter().map(Value::deep_unmark).collect();
        match t.read_many(&self.0, &objects, req.full).await {
            Ok(found) if found.len() == objects.len() => ReadManyResponse {
                objects: found.into_iter().zip(&objects).map(|(f, known)| f.map(|v| keep_timeouts(t, v, known))).collect(),
                diagnostics: Vec::new(),
            },
            Ok(found) => ReadManyResponse {
                objects: Vec::new(),
                diagnostics: vec![Diagnostic::error(
                    "Provider bug",
                    format!("{} answered {} objects for {} asked; this is a bug in infra.", req.type_name, found.len(), objects.len()),
                )],
            },
            Err(Errors(diagnostics, _)) => ReadManyResponse { objects: Vec::new(), diagnostics },
        }
    }

    async fn read_data(&self, req: ReadDataRequest) -> ReadDataResponse {
        match self.data_source(&req.type_name) {
            Ok(t) => match t.read(&self.0, &req.config.deep_unmark()).await {
                Ok(state) => ReadDataResponse { state, diagnostics: Vec::new() },
                Err(Errors(diagnostics, _)) => ReadDataResponse { state: Value::Null, diagnostics },
            },
            Err(d) => ReadDataResponse { state: Value::Null, diagnostics: vec![d] },
        }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return ImportResponse { state: None, diagnostics: vec![d] },
        };
        let seed = match t.import_seed(&req.id) {
            Ok(s) => s,
            Err(Errors(diagnostics, _)) => return ImportResponse { state: None, diagnostics },
        };
        match t.read_one(&self.0, &seed).await {
            // As every read: the `timeouts` block (none yet) is part of the object.
            Ok(Some(v)) => ImportResponse { state: Some(keep_timeouts(t, v, &seed)), diagnostics: Vec::new() },
            Ok(None) => ImportResponse {
                state: None,
                diagnostics: vec![Diagnostic::error("Cannot import non-existent remote object", format!("No {} with id {} exists.", req.type_name, req.id))],
            },
            Err(Errors(diagnostics, _)) => ImportResponse { state: None, diagnostics },
        }
    }

    /// Every id's import seed, then one batched `read_many` (full) for them all.
    async fn import_many(&self, req: ImportManyRequest) -> ReadManyResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
        };
        let mut seeds = Vec::new();
        for o in &req.objects {
            let id = o.get_attr("id").and_then(Value::as_str).unwrap_or_default();
            match t.import_seed(id) {
                // What the listing knows beyond the id, but not its summary (`name`, `tags`).
                Ok(Value::Object(mut s)) => {
                    if let Value::Object(known) = o {
                        for (k, v) in known.iter().filter(|(k, _)| !["id", "name", "tags"].contains(&k.as_str())) {
                            s.insert(k.clone(), v.clone());
                        }
                    }
                    seeds.push(Value::Object(s));
                }
                Ok(s) => seeds.push(s),
                Err(Errors(diagnostics, _)) => return ReadManyResponse { objects: Vec::new(), diagnostics },
            }
        }
        self.read_many(ReadManyRequest { type_name: req.type_name, objects: seeds, full: true }).await
    }

    fn upgrade_terraform_state(&self, req: FromTerraformRequest) -> FromTerraformResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return FromTerraformResponse { attributes: Value::Null, diagnostics: vec![d] },
        };
        match t.upgrade_terraform_state(req.attributes, req.schema_version) {
            Ok(attributes) => FromTerraformResponse { attributes, diagnostics: Vec::new() },
            Err(Errors(diagnostics, _)) => FromTerraformResponse { attributes: Value::Null, diagnostics },
        }
    }

    fn to_hcl(&self, req: ToHclRequest) -> ToHclResponse {
        match self.resource(&req.type_name) {
            Ok(t) => ToHclResponse { body: Some(t.to_hcl(&req.state)), diagnostics: Vec::new() },
            Err(d) => ToHclResponse { body: None, diagnostics: vec![d] },
        }
    }

    async fn discover(&self, req: DiscoverRequest) -> DiscoverResponse {
        match self.resource(&req.type_name) {
            Ok(t) => match t.discover(&self.0, &req.filter).await {
                Ok(objects) => DiscoverResponse { objects, diagnostics: Vec::new() },
                Err(Errors(diagnostics, _)) => DiscoverResponse { objects: Vec::new(), diagnostics },
            },
            Err(d) => DiscoverResponse { objects: Vec::new(), diagnostics: vec![d] },
        }
    }

    async fn adopt(&self, req: AdoptRequest) -> AdoptResponse {
        let t = match self.resource(&req.type_name) {
            Ok(t) => t,
            Err(d) => return AdoptResponse { state: None, diagnostics: vec![d] },
        };
        let planned = req.planned.deep_unmark();
        // Read, never converge: this runs while planning. The plan then compares what exists
        // with the configuration, and apply's update completes the object.
        match t.adopt(&self.0, &req.idempotency_token, &planned).await {
            Ok(Some(found)) => match t.read_one(&self.0, &found).await {
                Ok(Some(state)) => AdoptResponse { state: Some(state), diagnostics: Vec::new() },
                Ok(None) => AdoptResponse { state: Some(found), diagnostics: Vec::new() },
                Err(Errors(diagnostics, _)) => AdoptResponse { state: Some(found), diagnostics },
            },
            Ok(None) => AdoptResponse::default(),
            Err(Errors(diagnostics, _)) => AdoptResponse { state: None, diagnostics },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A cloud of one type: objects by token, and a script of how each create call fails.
    #[derive(Default)]
    struct Cloud {
        objects: Mutex<Vec<String>>,
        calls: Mutex<u32>,
        /// For each create call in turn: whether it acts, and how it fails (None: it answers).
        script: Mutex<Vec<(bool, Option<Acted>)>>,
        /// How many lookups miss an object that exists (a listing that lags behind).
        lag: Mutex<u32>,
    }

    struct Thing;

    #[async_trait]
    impl ResourceType<Cloud> for Thing {
        fn name(&self) -> &'static str {
            "toy_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new()
        }
        async fn create(&self, c: &Cloud, planned: &Value, token: &str) -> Outcome<Value> {
            *c.calls.lock().unwrap() += 1;
            let (acts, fails) = {
                if c.script.lock().unwrap().is_empty() {
                    (true, None)
                } else {
                    c.script.lock().unwrap().remove(0)
                }
            };
            if acts {
                c.objects.lock().unwrap().push(token.to_string());
            }
            match fails {
                None => Ok(with_id(planned, token)),
                Some(acted) => Err(Errors(vec![Diagnostic::error("Lost", "no answer")], acted)),
            }
        }
        async fn read_many(&self, c: &Cloud, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
            let have = c.objects.lock().unwrap().clone();
            Ok(objects.iter().map(|o| attrs::string(o, "id").filter(|id| have.contains(id)).map(|_| o.clone())).collect())
        }
        async fn update(&self, _c: &Cloud, _prior: &Value, _planned: &Value) -> Outcome<()> {
            Ok(())
        }
        async fn delete(&self, _c: &Cloud, _prior: &Value) -> Outcome<()> {
            Ok(())
        }
        async fn adopt(&self, c: &Cloud, token: &str, planned: &Value) -> Outcome<Option<Value>> {
            let mut lag = c.lag.lock().unwrap();
            if *lag > 0 {
                *lag -= 1;
                return Ok(None);
            }
            Ok(c.objects.lock().unwrap().iter().find(|t| *t == token).map(|t| with_id(planned, t)))
        }
    }

    static THING: Thing = Thing;
    static TYPES: [&dyn ResourceType<Cloud>; 1] = [&THING];

    #[async_trait]
    impl Family for Cloud {
        fn name(&self) -> &'static str {
            "toy"
        }
        fn provider_schema(&self) -> Schema {
            Schema::new()
        }
        fn resources(&self) -> &'static [&'static dyn ResourceType<Self>] {
            &TYPES
        }
        fn data_sources(&self) -> &'static [&'static dyn DataSource<Self>] {
            &[]
        }
        async fn configure(&self, _config: &Value) -> Outcome<()> {
            Ok(())
        }
    }

    async fn create(script: Vec<(bool, Option<Acted>)>) -> (CreateResponse, u32, usize) {
        create_lagging(script, 0).await
    }

    async fn create_lagging(script: Vec<(bool, Option<Acted>)>, lag: u32) -> (CreateResponse, u32, usize) {
        let p = Typed(Cloud { script: Mutex::new(script), lag: Mutex::new(lag), ..Default::default() });
        let req = CreateRequest { type_name: "toy_thing".into(), planned: Value::object([("id", Value::Unknown)]), idempotency_token: "tok-1".into() };
        let resp = p.create(req).await;
        let calls = *p.0.calls.lock().unwrap();
        let objects = p.0.objects.lock().unwrap().len();
        (resp, calls, objects)
    }

    // Paused time: the backoff between attempts passes at once.
    #[tokio::test(start_paused = true)]
    async fn a_lost_answer_is_found_by_its_token_and_not_sent_again() {
        let (resp, calls, objects) = create(vec![(true, Some(Acted::Maybe))]).await;
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        assert_eq!(resp.state.as_ref().and_then(|s| attrs::string(s, "id")).as_deref(), Some("tok-1"));
        assert_eq!((calls, objects), (1, 1));
    }

    // Paused time: the backoff between attempts passes at once.
    #[tokio::test(start_paused = true)]
    async fn a_listing_that_lags_behind_the_create_is_asked_twice_before_a_second_create() {
        let (resp, calls, objects) = create_lagging(vec![(true, Some(Acted::Maybe))], 1).await;
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        assert_eq!((calls, objects), (1, 1));
    }

    // Paused time: the backoff between attempts passes at once.
    #[tokio::test(start_paused = true)]
    async fn a_call_that_may_have_acted_but_did_not_is_sent_again() {
        let (resp, calls, objects) = create(vec![(false, Some(Acted::Maybe)), (false, Some(Acted::Maybe))]).await;
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        assert!(resp.state.is_some());
        assert_eq!((calls, objects), (3, 1));
    }

    // Paused time: the backoff between attempts passes at once.
    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_not_sent_again_and_an_endless_outage_gives_up_with_nothing_made() {
        let (resp, calls, objects) = create(vec![(false, Some(Acted::No))]).await;
        assert!(resp.state.is_none());
        assert_eq!((calls, objects), (1, 0));

        let (resp, calls, objects) = create(vec![(false, Some(Acted::Maybe)); CREATE_ATTEMPTS as usize + 1]).await;
        assert!(resp.state.is_none());
        assert_eq!((calls, objects), (CREATE_ATTEMPTS, 0));
        let last = resp.diagnostics.last().map(|d| d.detail.clone()).unwrap_or_default();
        assert!(last.contains("was sent 4 times without an answer") && last.contains("nothing was left behind"), "{last}");
    }
}
