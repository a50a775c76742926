//! The `vps` provider: a Debian host configured over SSH. Files, directories, systemd units,
//! nginx sites, UFW and its rules, cron jobs, apt packages, commands, docker compose stacks,
//! accounts and groups, and certbot certificates,
//! each read from the host itself, so hand edits show as drift.
//!
//! One connection per provider instance (per host), opened on first use and shared by every
//! call. Refresh costs one round trip per host: `prefetch` sends one script that stats and
//! hashes every managed path and queries every unit, rule and package, and `read_many` answers
//! from it. Writes go through a temp file and a rename on the host, never half-written.
//!
//! This file is the family (provider block, connection, the refresh cache, the firewall
//! lock-out check); each resource type is one file under `kinds/`, listed in `kinds/mod.rs`.

mod discover;
mod host;
mod kinds;
mod probe;
mod transport;

/// The compose file names a `vps_compose_stack` reads, as Compose looks them up.
pub use kinds::COMPOSE_FILES;

use async_trait::async_trait;
use infra_provider::*;
use kinds::Kind;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::OnceCell;
use transport::{Auth, Connection, Target, Trust};

pub struct VpsProvider {
    target: Mutex<Option<Target>>,
    connection: OnceCell<Result<Connection, Diagnostic>>,
    /// Objects read by `prefetch` or recorded by a write, by type and id, each answered once:
    /// `None` when the object is gone.
    prefetched: Mutex<BTreeMap<(String, String), Option<Value>>>,
    /// What discovery listed on the host (one round trip, every type), read on first use.
    inventory: OnceCell<Result<discover::Inventory, Diagnostic>>,
}

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(Typed(VpsProvider::unconfigured())) as Box<dyn Provider>)
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

// `Diagnostic` is the provider interface's error: large, and rare.
#[allow(clippy::result_large_err)]
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
    /// A provider instance before `configure` names its host.
    fn unconfigured() -> VpsProvider {
        VpsProvider { target: Mutex::new(None), connection: OnceCell::new(), prefetched: Mutex::new(BTreeMap::new()), inventory: OnceCell::new() }
    }

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

    /// The connection, for a write to the object `known` of type `type_name`. What the refresh
    /// read of the object is stale from now on: dropped, so a failed write's read back asks
    /// the host.
    async fn writing(&self, type_name: &str, known: &Value) -> Result<&Connection, Diagnostic> {
        if let Ok(mut cache) = self.prefetched.lock() {
            cache.remove(&(type_name.to_string(), attrs::string(known, "id").unwrap_or_default()));
        }
        self.connection().await
    }

    /// Records what a successful write made of an object, for the read back that follows it
    /// (see [`ResourceType::read_one`]): the write's script succeeded, so the object is what was
    /// planned, and a write keeps costing its one round trip. A failed write records nothing,
    /// so its read back asks the host what is there now.
    fn wrote(&self, type_name: &str, object: Value) -> Value {
        if let Ok(mut cache) = self.prefetched.lock() {
            cache.insert((type_name.to_string(), attrs::string(&object, "id").unwrap_or_default()), Some(object.clone()));
        }
        object
    }

    /// Reads objects of one kind: from what `prefetch` read (or a write recorded) when it has
    /// them all, else in one round trip.
    async fn read(&self, kind: &dyn Kind, objects: &[Value]) -> Outcome<Vec<Option<Value>>> {
        let mut answers: Vec<Option<Option<Value>>> = Vec::new();
        if let Ok(mut cache) = self.prefetched.lock() {
            for o in objects {
                answers.push(cache.remove(&(kind.name().to_string(), attrs::string(o, "id").unwrap_or_default())));
            }
        }
        if answers.len() == objects.len() && answers.iter().all(Option::is_some) {
            return Ok(answers.into_iter().flatten().collect());
        }
        let objects: Vec<(&dyn Kind, Value)> = objects.iter().map(|o| (kind, o.clone())).collect();
        Ok(self.read_objects(&objects).await?)
    }

    /// What exists of `type_name` on the host, for a drift report or `infra discover vps`:
    /// every type is listed by one script on the first call (with the files under the `paths`
    /// that call's filter names), the others answer from what it printed.
    async fn discovered(&self, type_name: &str, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let inventory = self
            .inventory
            .get_or_init(|| async {
                let out = self.connection().await?.run(&discover::script(&discover::paths(filter))).await?;
                if out.status != 0 {
                    return Err(Diagnostic::error(
                        "Listing the host failed",
                        format!("The discovery script exited with {}: {}", out.status, out.stderr_text()),
                    ));
                }
                Ok(discover::parse(&out.stdout_text()))
            })
            .await;
        match inventory {
            Ok(inv) => Ok(inv.objects(type_name, discover::include_defaults(filter), discover::for_import(filter))),
            Err(d) => Err(d.clone().into()),
        }
    }

    /// Reads objects (of any kinds) in one round trip.
    /// Every read is full: one round trip costs the same whatever it asks, so `full` (a hint for
    /// APIs that charge per object) changes nothing here.
    async fn read_objects(&self, objects: &[(&dyn Kind, Value)]) -> Result<Vec<Option<Value>>, Diagnostic> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.connection().await?;
        let script = probe::script(objects.iter().map(|(k, v)| k.probe(v)));
        let out = conn.run(&script).await?;
        if out.status != 0 {
            return Err(Diagnostic::error("Reading the host failed", format!("The inventory script exited with {}: {}", out.status, out.stderr_text())));
        }
        let sections = probe::parse(&out.stdout_text(), objects.len());
        Ok(objects.iter().zip(sections).map(|((k, v), facts)| k.read(v, &facts).map(|found| complete(found, &k.schema()))).collect())
    }
}

/// Every attribute of the schema present (null when unset), as a decoded configuration has
/// them: an imported object then compares equal to its configuration.
fn complete(v: Value, schema: &Schema) -> Value {
    match v {
        Value::Object(mut m) => {
            for k in schema.attributes.keys() {
                m.entry(k.clone()).or_insert(Value::Null);
            }
            Value::Object(m)
        }
        v => v,
    }
}

#[async_trait]
impl Family for VpsProvider {
    fn name(&self) -> &'static str {
        "vps"
    }

    fn provider_schema(&self) -> Schema {
        provider_schema()
    }

    fn resources(&self) -> &'static [&'static dyn ResourceType<Self>] {
        kinds::RESOURCES
    }

    fn data_sources(&self) -> &'static [&'static dyn DataSource<Self>] {
        host::DATA_SOURCES
    }

    async fn configure(&self, config: &Value) -> Outcome<()> {
        // A host address may only be known after apply (an instance's IP): connect lazily.
        if !config.is_wholly_known() {
            return Ok(());
        }
        let t = target_of(config)?;
        if let Ok(mut slot) = self.target.lock() {
            *slot = Some(t);
        }
        Ok(())
    }

    /// Objects on a host cannot leak: each is found again by its path or name.
    fn journals_creates(&self) -> bool {
        false
    }

    fn check_planned(&self, req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
        let ssh_port = self.target.lock().ok().and_then(|t| t.as_ref().map(|t| t.port)).unwrap_or(22);
        kinds::check_planned(req, ssh_port)
    }

    /// The host itself, once the stack manages anything on it (see `discover`).
    fn discovery_scope(&self, req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
        discover::scope(req)
    }

    async fn prefetch(&self, req: PrefetchRequest) {
        let objects: Vec<(&'static dyn Kind, Value)> = req.objects.into_iter().filter_map(|(t, v)| kinds::probed(&t).map(|k| (k, v))).collect();
        if let Ok(found) = self.read_objects(&objects).await {
            if let Ok(mut cache) = self.prefetched.lock() {
                for ((k, v), f) in objects.into_iter().zip(found) {
                    cache.insert((k.name().to_string(), attrs::string(&v, "id").unwrap_or_default()), f);
                }
            }
        }
        // On failure read_many asks again and reports the error where it belongs.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Typed<VpsProvider> {
        Typed(VpsProvider::unconfigured())
    }

    #[test]
    fn an_unknown_type_is_an_error() {
        let p = provider();
        assert!(p.resource("vps_nope").is_err());
        assert!(p.data_source("vps_nope").is_err());
        let d = p.validate(&ValidateRequest { type_name: "vps_nope".into(), config: Value::Null, data_source: false });
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].is_error());
    }

    /// The read back after a write costs no second round trip (a test counts sshd sessions);
    /// a write that fails leaves nothing behind, so its read back goes to the host.
    #[tokio::test]
    async fn a_successful_write_answers_its_read_back_once() {
        let p = provider();
        let kind = p.resource("vps_file").unwrap_or_else(|d| panic!("{d:?}"));
        let file = Value::object([("id", Value::string("/etc/motd")), ("path", Value::string("/etc/motd"))]);
        p.0.wrote("vps_file", file.clone());
        let read = kind.read_one(&p.0, &file).await.map_err(|e| e.0);
        assert!(matches!(&read, Ok(Some(v)) if v.equals(&file)), "{read:?}");
        let again = kind.read_one(&p.0, &file).await.map_err(|e| e.0);
        assert!(again.is_err_and(|d| d[0].summary == "Provider not configured"), "answered once, then the host is asked");
        p.0.wrote("vps_file", file.clone());
        let _ = p.0.writing("vps_file", &file).await;
        assert!(kind.read_one(&p.0, &file).await.is_err(), "a new write drops what the last one recorded");
    }

    #[test]
    fn the_schema_lists_every_kind_and_the_host() {
        let s = provider().schema();
        assert_eq!(s.resources.len(), 13);
        assert!(s.resources.contains_key("vps_compose_stack") && s.resources.contains_key("vps_ufw_rule"));
        assert_eq!(s.data_sources.keys().collect::<Vec<_>>(), ["vps_host"]);
    }
}
