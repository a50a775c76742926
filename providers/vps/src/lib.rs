//! The `vps` provider: a Debian host configured over SSH. Files, directories, systemd units,
//! nginx sites, UFW and its rules, cron jobs, apt packages, commands and docker compose stacks,
//! each read from the host itself, so hand edits show as drift.
//!
//! One connection per provider instance (per host), opened on first use and shared by every
//! call. Refresh costs one round trip per host: `prefetch` sends one script that stats and
//! hashes every managed path and queries every unit, rule and package, and `read_many` answers
//! from it. Writes go through a temp file and a rename on the host, never half-written.

mod host;
mod kinds;
mod probe;
mod transport;

use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::OnceCell;
use transport::{Auth, Connection, Target, Trust};

pub struct VpsProvider {
    target: Mutex<Option<Target>>,
    connection: OnceCell<Result<Connection, Diagnostic>>,
    /// Objects read by `prefetch`, by type and id: `None` when the object is gone.
    prefetched: Mutex<BTreeMap<(String, String), Option<Value>>>,
}

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| {
        Box::new(VpsProvider { target: Mutex::new(None), connection: OnceCell::new(), prefetched: Mutex::new(BTreeMap::new()) }) as Box<dyn Provider>
    })
}

fn provider_schema() -> Schema {
    let s = AttrSchema::optional;
    Schema::new()
        .attr("host", AttrSchema::required(Type::String))
        .attr("port", s(Type::Number))
        .attr("user", s(Type::String))
        .attr("private_key_file", s(Type::String))
        .attr("private_key", AttrSchema::optional(Type::String).sensitive())
        .attr("agent", s(Type::Bool))
        .attr("host_key", s(Type::String))
        .attr("known_hosts_file", s(Type::String))
        .attr("sudo", s(Type::Bool))
        .attr("connect_timeout", s(Type::Number))
}

fn target_of(cfg: &Value) -> Result<Target, Diagnostic> {
    let cfg = cfg.deep_unmark();
    let at = |k: &str| vec![PathStep::Attr(k.to_string())];
    let host = attrs::string(&cfg, "host").ok_or_else(|| Diagnostic::error("No host", "The vps provider needs host.").with_path(at("host")))?;
    let port = attrs::int(&cfg, "port").unwrap_or(22);
    let port = u16::try_from(port).map_err(|_| Diagnostic::error("Invalid port", format!("{port} is not a TCP port.")).with_path(at("port")))?;
    let auth = match (attrs::string(&cfg, "private_key_file"), attrs::string(&cfg, "private_key"), attrs::bool(&cfg, "agent")) {
        (Some(f), None, None | Some(false)) => Auth::KeyFile(f),
        (None, Some(k), None | Some(false)) => Auth::Key(k),
        (None, None, Some(true)) => Auth::Agent,
        (None, None, _) => return Err(Diagnostic::error("No SSH credentials", "Set one of private_key_file, private_key or agent = true.")),
        _ => return Err(Diagnostic::error("Conflicting SSH credentials", "Set only one of private_key_file, private_key or agent = true.")),
    };
    let trust = match (attrs::string(&cfg, "host_key"), attrs::string(&cfg, "known_hosts_file")) {
        (Some(k), None) => {
            transport::parse_key_line(&k).map_err(|e| {
                Diagnostic::error("Invalid host_key", format!("host_key is not a public key line such as \"ssh-ed25519 AAAA…\": {e}."))
                    .with_path(at("host_key"))
            })?;
            Trust::Pinned(k)
        }
        (None, Some(f)) => Trust::KnownHostsFile(f),
        (None, None) => {
            return Err(Diagnostic::error(
                "No host key to verify",
                "Set host_key (the server's public key line, as ssh-keyscan prints it) or known_hosts_file: infra never trusts an unknown host key.",
            ))
        }
        (Some(_), Some(_)) => return Err(Diagnostic::error("Conflicting host key settings", "Set host_key or known_hosts_file, not both.")),
    };
    Ok(Target {
        host,
        port,
        user: attrs::string(&cfg, "user").unwrap_or_else(|| "root".to_string()),
        auth,
        trust,
        sudo: attrs::bool(&cfg, "sudo").unwrap_or(false),
        connect_timeout: Duration::from_secs(attrs::int(&cfg, "connect_timeout").unwrap_or(30).clamp(1, 3600) as u64),
    })
}

impl VpsProvider {
    async fn connection(&self) -> Result<&Connection, Diagnostic> {
        let target = self.target.lock().ok().and_then(|t| t.clone());
        let conn = self
            .connection
            .get_or_init(|| async move {
                match target {
                    Some(t) => Connection::open(&t).await,
                    None => Err(Diagnostic::error("Provider not configured", "The vps provider was used before it was configured; this is a bug in infra.")),
                }
            })
            .await;
        conn.as_ref().map_err(Clone::clone)
    }

    /// Reads objects (of any types) in one round trip.
    /// Every read is full: one round trip costs the same whatever it asks, so `full` (a hint for
    /// APIs that charge per object) changes nothing here.
    async fn read_objects(&self, objects: &[(String, Value)]) -> Result<Vec<Option<Value>>, Diagnostic> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.connection().await?;
        let script = probe::script(objects.iter().map(|(t, v)| kinds::probe(t, v)));
        let out = conn.run(&script).await?;
        if out.status != 0 {
            return Err(Diagnostic::error("Reading the host failed", format!("The inventory script exited with {}: {}", out.status, out.stderr_text())));
        }
        let sections = probe::parse(&out.stdout_text(), objects.len());
        let schemas = kinds::schemas();
        Ok(objects.iter().zip(sections).map(|((t, v), facts)| kinds::from_probe(t, v, &facts).map(|found| complete(found, schemas.get(t)))).collect())
    }
}

/// Every attribute of the schema present (null when unset), as a decoded configuration has
/// them: an imported object then compares equal to its configuration.
fn complete(v: Value, schema: Option<&Schema>) -> Value {
    match (v, schema) {
        (Value::Object(mut m), Some(s)) => {
            for k in s.attributes.keys() {
                m.entry(k.clone()).or_insert(Value::Null);
            }
            Value::Object(m.into())
        }
        (v, _) => v,
    }
}

#[async_trait]
impl Provider for VpsProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema { provider: provider_schema(), resources: kinds::schemas(), data_sources: host::schemas() }
    }

    async fn configure(&self, req: ConfigureRequest) -> ConfigureResponse {
        // A host address may only be known after apply (an instance's IP): connect lazily.
        if !req.config.is_wholly_known() {
            return ConfigureResponse::default();
        }
        match target_of(&req.config) {
            Ok(t) => {
                if let Ok(mut slot) = self.target.lock() {
                    *slot = Some(t);
                }
                ConfigureResponse::default()
            }
            Err(d) => ConfigureResponse { diagnostics: vec![d] },
        }
    }

    fn validate(&self, req: &ValidateRequest) -> Vec<Diagnostic> {
        kinds::validate(req)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        kinds::plan(req)
    }

    /// Objects on a host cannot leak: each is found again by its path or name.
    fn journals_creates(&self) -> bool {
        false
    }

    fn check_planned(&self, req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        let ssh_port = self.target.lock().ok().and_then(|t| t.as_ref().map(|t| t.port)).unwrap_or(22);
        kinds::check_planned(req, ssh_port)
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let conn = match self.connection().await {
            Ok(c) => c,
            Err(d) => return CreateResponse { state: None, diagnostics: vec![d] },
        };
        match kinds::apply(conn, &req.type_name, None, &req.planned).await {
            Ok(v) => CreateResponse { state: Some(v), diagnostics: Vec::new() },
            Err(d) => CreateResponse { state: None, diagnostics: vec![d] },
        }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        let conn = match self.connection().await {
            Ok(c) => c,
            Err(d) => return UpdateResponse { state: None, diagnostics: vec![d] },
        };
        match kinds::apply(conn, &req.type_name, Some(&req.prior), &req.planned).await {
            Ok(v) => UpdateResponse { state: Some(v), diagnostics: Vec::new() },
            // What failed was put back where the kind can (nginx): the prior object stands.
            Err(d) => UpdateResponse { state: Some(req.prior), diagnostics: vec![d] },
        }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let conn = match self.connection().await {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: vec![d] },
        };
        DeleteResponse { diagnostics: kinds::delete(conn, &req.type_name, &req.prior).await.err().into_iter().collect() }
    }

    async fn prefetch(&self, req: PrefetchRequest) {
        let objects: Vec<(String, Value)> = req.objects.into_iter().filter(|(t, _)| kinds::is_probed(t)).collect();
        if let Ok(found) = self.read_objects(&objects).await {
            if let Ok(mut cache) = self.prefetched.lock() {
                for ((t, v), f) in objects.into_iter().zip(found) {
                    cache.insert((t, attrs::string(&v, "id").unwrap_or_default()), f);
                }
            }
        }
        // On failure read_many asks again and reports the error where it belongs.
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        let mut answers: Vec<Option<Option<Value>>> = Vec::new();
        if let Ok(mut cache) = self.prefetched.lock() {
            for o in &req.objects {
                answers.push(cache.remove(&(req.type_name.clone(), attrs::string(&o.deep_unmark(), "id").unwrap_or_default())));
            }
        }
        if answers.len() == req.objects.len() && answers.iter().all(Option::is_some) {
            return ReadManyResponse { objects: answers.into_iter().flatten().collect(), diagnostics: Vec::new() };
        }
        if !kinds::is_probed(&req.type_name) {
            // Commands have nothing to read on the host: the recorded run stands.
            return ReadManyResponse { objects: req.objects.into_iter().map(Some).collect(), diagnostics: Vec::new() };
        }
        let objects: Vec<(String, Value)> = req.objects.iter().map(|o| (req.type_name.clone(), o.deep_unmark())).collect();
        match self.read_objects(&objects).await {
            Ok(found) => ReadManyResponse { objects: found, diagnostics: Vec::new() },
            Err(d) => ReadManyResponse { objects: Vec::new(), diagnostics: vec![d] },
        }
    }

    async fn read_data(&self, req: ReadDataRequest) -> ReadDataResponse {
        match self.connection().await {
            Ok(conn) => host::read(conn, &req).await,
            Err(d) => ReadDataResponse { state: Value::Null, diagnostics: vec![d] },
        }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let Some(seed) = kinds::import_seed(&req.type_name, &req.id) else {
            return ImportResponse {
                state: None,
                diagnostics: vec![Diagnostic::error("Import not supported", format!("{} cannot be imported.", req.type_name))],
            };
        };
        match self.read_objects(&[(req.type_name.clone(), seed)]).await {
            Ok(mut found) => match found.pop().flatten() {
                Some(v) => ImportResponse { state: Some(v), diagnostics: Vec::new() },
                None => ImportResponse {
                    state: None,
                    diagnostics: vec![Diagnostic::error(
                        "Cannot import non-existent remote object",
                        format!("No {} {} exists on the host.", req.type_name, req.id),
                    )],
                },
            },
            Err(d) => ImportResponse { state: None, diagnostics: vec![d] },
        }
    }
}
