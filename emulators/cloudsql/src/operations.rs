//! Long-running operations: every mutation answers an `Operation` at once (PENDING), the work
//! runs in the background (RUNNING, half the configured delay later), and the operation ends
//! DONE, with `error.errors[]` when the work failed. One operation at a time per instance, as
//! Cloud SQL: a mutation of a busy instance is refused with 409 `operationInProgress`.

use crate::api::{Ctx, Reply};
use crate::app::App;
use crate::error::ApiError;
use crate::store::{self, Instance, Operation};
use crate::util::{now_rfc3339, now_secs, operation_name, random_hex};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The work an operation does on the instance's PostgreSQL, and what it records when done.
pub enum Job {
    CreateInstance {
        root_password: Option<String>,
        /// The primary's address, for a read replica.
        replica_of: Option<String>,
    },
    /// The instance as it will read once the operation is done (settingsVersion bumped).
    PatchInstance {
        new: Value,
    },
    DeleteInstance,
    Restart,
    CreateDatabase {
        name: String,
        charset: String,
        collation: String,
    },
    PatchDatabase {
        name: String,
        charset: String,
        collation: String,
    },
    DeleteDatabase {
        name: String,
    },
    CreateUser {
        name: String,
        password: Option<String>,
        user_type: String,
    },
    UpdateUser {
        name: String,
        password: Option<String>,
    },
    DeleteUser {
        name: String,
    },
}

impl Job {
    fn operation_type(&self) -> &'static str {
        match self {
            Job::CreateInstance { .. } => "CREATE",
            Job::PatchInstance { .. } => "UPDATE",
            Job::DeleteInstance => "DELETE",
            Job::Restart => "RESTART",
            Job::CreateDatabase { .. } => "CREATE_DATABASE",
            Job::PatchDatabase { .. } => "UPDATE_DATABASE",
            Job::DeleteDatabase { .. } => "DELETE_DATABASE",
            Job::CreateUser { .. } => "CREATE_USER",
            Job::UpdateUser { .. } => "UPDATE_USER",
            Job::DeleteUser { .. } => "DELETE_USER",
        }
    }
}

/// Refuses a mutation of an instance that has an operation running.
pub fn check_idle(inst: &Instance) -> Result<(), ApiError> {
    if inst.busy.is_some() {
        Err(ApiError::operation_in_progress())
    } else {
        Ok(())
    }
}

/// Records a PENDING operation on `instance` (which must exist in the store), marks the
/// instance busy and starts the work; returns the operation as the API answers it.
pub fn start(app: &Arc<App>, ctx: &Ctx, store: &mut store::Store, project: &str, instance: &str, job: Job) -> Reply {
    let name = operation_name();
    let resource = json!({
        "kind": "sql#operation",
        "name": name,
        "selfLink": format!("{}/v1/projects/{project}/operations/{name}", ctx.base_url),
        "targetLink": format!("{}/v1/projects/{project}/instances/{instance}", ctx.base_url),
        "targetId": instance,
        "targetProject": project,
        "status": "PENDING",
        "user": "cloudsql-emulator@localhost",
        "insertTime": now_rfc3339(),
        "operationType": job.operation_type(),
    });
    store.operations.push(Operation { project: project.to_string(), instance: instance.to_string(), resource: resource.clone() });
    if let Some(inst) = store.instances.get_mut(&store::key(project, instance)) {
        inst.busy = Some(name.clone());
    }
    app.save(store);
    let (app2, project, instance) = (app.clone(), project.to_string(), instance.to_string());
    tokio::spawn(async move { run(app2, project, instance, name, job).await });
    Reply::new("Operation", resource)
}

async fn run(app: Arc<App>, project: String, instance: String, op: String, job: Job) {
    let half = app.op_delay / 2;
    tokio::time::sleep(half).await;
    let snapshot = {
        let mut store = app.store();
        if let Some(o) = store.operation_mut(&project, &op) {
            o.resource["status"] = json!("RUNNING");
            o.resource["startTime"] = json!(now_rfc3339());
        }
        app.save(&store);
        store.instances.get(&store::key(&project, &instance)).cloned()
    };
    let outcome = match snapshot {
        None => Err("the instance is gone".to_string()),
        Some(inst) => {
            let app2 = app.clone();
            let job_ref = Arc::new(job);
            let job2 = job_ref.clone();
            let result = tokio::task::spawn_blocking(move || {
                app2.working.fetch_add(1, Ordering::SeqCst);
                let result =
                    if app2.shutting_down.load(Ordering::SeqCst) { Err("the emulator is shutting down".to_string()) } else { execute(&app2, &inst, &job2) };
                app2.working.fetch_sub(1, Ordering::SeqCst);
                result
            })
            .await
            .unwrap_or_else(|e| Err(format!("the work failed: {e}")));
            tokio::time::sleep(app.op_delay.saturating_sub(half)).await;
            finish(&app, &project, &instance, &job_ref, result)
        }
    };
    let mut store = app.store();
    if let Some(o) = store.operation_mut(&project, &op) {
        o.resource["status"] = json!("DONE");
        o.resource["endTime"] = json!(now_rfc3339());
        if let Err(message) = &outcome {
            o.resource["error"] =
                json!({"kind": "sql#operationErrors", "errors": [{"kind": "sql#operationError", "code": "INTERNAL_ERROR", "message": message}]});
        }
    }
    if let Some(inst) = store.instances.get_mut(&store::key(&project, &instance)) {
        if inst.busy.as_deref() == Some(op.as_str()) {
            inst.busy = None;
        }
    }
    app.save(&store);
}

/// What the operation changes in the store once its work is over (the work's result decides).
fn finish(app: &App, project: &str, instance: &str, job: &Job, result: Result<Option<Value>, String>) -> Result<(), String> {
    let key = store::key(project, instance);
    let mut store = app.store();
    let failed = result.is_err();
    match job {
        Job::CreateInstance { .. } if failed => {
            store.instances.remove(&key);
        }
        Job::DeleteInstance if failed => {
            if let Some(inst) = store.instances.get_mut(&key) {
                inst.resource["state"] = json!("RUNNABLE");
            }
        }
        Job::DeleteInstance => {
            let gone = store.instances.remove(&key);
            store.deleted.insert(key.clone(), now_secs());
            // A replica leaves its primary's replicaNames.
            if let Some(m) = gone.as_ref().and_then(|g| g.resource["masterInstanceName"].as_str()) {
                if let Some(primary) = store.instances.get_mut(&store::key(project, m)) {
                    if let Some(names) = primary.resource["replicaNames"].as_array_mut() {
                        names.retain(|n| n != instance);
                    }
                    if primary.resource["replicaNames"].as_array().is_some_and(Vec::is_empty) {
                        if let Some(o) = primary.resource.as_object_mut() {
                            o.remove("replicaNames");
                        }
                    }
                }
            }
        }
        _ if failed => {}
        _ => {
            let Some(inst) = store.instances.get_mut(&key) else { return Err("the instance is gone".to_string()) };
            let extra = result.as_ref().ok().cloned().flatten();
            match job {
                Job::CreateInstance { .. } => {
                    inst.resource["state"] = json!("RUNNABLE");
                    if let Some(cert) = extra {
                        inst.resource["serverCaCert"] = cert;
                    }
                }
                Job::PatchInstance { new } => inst.resource = new.clone(),
                Job::CreateDatabase { name, charset, collation } | Job::PatchDatabase { name, charset, collation } => {
                    inst.databases.insert(name.clone(), (charset.clone(), collation.clone()));
                }
                Job::DeleteDatabase { name } => {
                    inst.databases.remove(name);
                }
                Job::CreateUser { name, user_type, .. } => {
                    inst.user_types.insert(name.clone(), user_type.clone());
                }
                Job::DeleteUser { name } => {
                    inst.user_types.remove(name);
                }
                _ => {}
            }
            inst.resource["etag"] = json!(random_hex(16));
        }
    }
    app.save(&store);
    result.map(|_| ())
}

/// The work itself, on a blocking thread: processes and SQL.
fn execute(app: &App, inst: &Instance, job: &Job) -> Result<Option<Value>, String> {
    let pgdata = store::pgdata(&app.data_dir, &inst.project, &inst.name);
    let sql = |db: &str, text: &str| app.pg.sql(&inst.address, app.pg_port, &inst.admin_password, db, text);
    match job {
        Job::CreateInstance { root_password, replica_of } => {
            let made = match replica_of {
                Some(primary) => create_replica(app, inst, primary),
                None => create_server(app, inst, root_password.as_deref()),
            };
            if made.is_err() {
                let _ = app.pg.stop(&pgdata);
                let _ = std::fs::remove_dir_all(store::instance_dir(&app.data_dir, &inst.project, &inst.name));
            }
            made.map(Some)
        }
        Job::PatchInstance { new } => {
            let ssl_only = ssl_only(new);
            if ssl_only != crate::operations::ssl_only(&inst.resource) {
                app.pg.write_hba(&pgdata, ssl_only)?;
                if app.pg.running(&pgdata) {
                    app.pg.reload(&pgdata)?;
                }
            }
            let (flags, restart) = crate::catalog::server_flags(&new["settings"]);
            let (old_flags, old_restart) = crate::catalog::server_flags(&inst.resource["settings"]);
            if flags != old_flags {
                app.pg.write_flags(&pgdata, &flags)?;
                if app.pg.running(&pgdata) {
                    if restart != old_restart {
                        app.pg.stop(&pgdata)?;
                        app.start_server(&inst.project, &inst.name, &inst.address)?;
                    } else {
                        app.pg.reload(&pgdata)?;
                    }
                }
            }
            match new["settings"]["activationPolicy"].as_str() {
                Some("NEVER") => app.pg.stop(&pgdata)?,
                _ if !app.pg.running(&pgdata) => {
                    app.start_server(&inst.project, &inst.name, &inst.address)?;
                }
                _ => {}
            }
            Ok(None)
        }
        Job::DeleteInstance => {
            app.pg.stop(&pgdata)?;
            let dir = store::instance_dir(&app.data_dir, &inst.project, &inst.name);
            match std::fs::remove_dir_all(&dir) {
                // An instance whose create never got as far as its directory (FAILED).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove {}: {e}", dir.display())),
                Ok(()) => {}
            }
            Ok(None)
        }
        Job::Restart => {
            app.pg.stop(&pgdata)?;
            app.start_server(&inst.project, &inst.name, &inst.address)?;
            Ok(None)
        }
        Job::CreateDatabase { name, charset, .. } => {
            let locale = if charset.eq_ignore_ascii_case("UTF8") { String::new() } else { " LC_COLLATE 'C' LC_CTYPE 'C'".to_string() };
            sql(
                "postgres",
                &format!(
                    "CREATE DATABASE {} OWNER cloudsqlsuperuser ENCODING {} TEMPLATE template0{locale};",
                    crate::util::ident(name),
                    crate::util::literal(charset)
                ),
            )?;
            Ok(None)
        }
        Job::PatchDatabase { .. } => Ok(None),
        Job::DeleteDatabase { name } => sql("postgres", &format!("DROP DATABASE {};", crate::util::ident(name))).map(|_| None),
        Job::CreateUser { name, password, .. } => sql("postgres", &crate::pg::Postgres::create_user_sql(name, password.as_deref())).map(|_| None),
        Job::UpdateUser { name, password } => {
            let text = match password {
                Some(p) => format!("ALTER ROLE {} PASSWORD {};", crate::util::ident(name), crate::util::literal(p)),
                None => format!("ALTER ROLE {} PASSWORD NULL;", crate::util::ident(name)),
            };
            sql("postgres", &text).map(|_| None)
        }
        Job::DeleteUser { name } => sql("postgres", &format!("DROP ROLE {};", crate::util::ident(name))).map(|_| None),
    }
}

/// A read replica: a base backup of the primary's running server (`pg_basebackup -R`, over
/// the replication connection the primary's `pg_hba.conf` allows the admin from loopback),
/// started as a hot standby that streams the primary's changes.
fn create_replica(app: &App, inst: &Instance, primary: &str) -> Result<Value, String> {
    let dir = store::instance_dir(&app.data_dir, &inst.project, &inst.name);
    for d in [app.data_dir.join("instances"), app.data_dir.join("instances").join(&inst.project), dir.clone()] {
        app.pg.searchable_dir(&d)?;
    }
    app.pg.give(&dir)?;
    let pgdata = dir.join("pgdata");
    app.pg.base_backup(primary, app.pg_port, &inst.admin_password, &pgdata)?;
    app.start_server(&inst.project, &inst.name, &inst.address)?;
    Ok(crate::pg::Postgres::server_ca_cert(&pgdata, &inst.name))
}

/// initdb, start, Cloud SQL's roles; returns the server certificate as `serverCaCert`.
fn create_server(app: &App, inst: &Instance, root_password: Option<&str>) -> Result<Value, String> {
    let dir = store::instance_dir(&app.data_dir, &inst.project, &inst.name);
    for d in [app.data_dir.join("instances"), app.data_dir.join("instances").join(&inst.project), dir.clone()] {
        app.pg.searchable_dir(&d)?;
    }
    let pgdata = dir.join("pgdata");
    app.pg.init(&pgdata, &inst.admin_password)?;
    app.pg.write_hba(&pgdata, ssl_only(&inst.resource))?;
    app.pg.write_flags(&pgdata, &crate::catalog::server_flags(&inst.resource["settings"]).0)?;
    let address = app.start_server(&inst.project, &inst.name, &inst.address)?;
    app.pg.sql(&address, app.pg_port, &inst.admin_password, "postgres", &crate::pg::Postgres::bootstrap_sql(root_password))?;
    if inst.resource["settings"]["activationPolicy"] == "NEVER" {
        app.pg.stop(&pgdata)?;
    }
    Ok(crate::pg::Postgres::server_ca_cert(&pgdata, &inst.name))
}

/// Whether the instance accepts encrypted connections only.
pub fn ssl_only(resource: &Value) -> bool {
    let ip = &resource["settings"]["ipConfiguration"];
    ip["requireSsl"] == true || matches!(ip["sslMode"].as_str(), Some("ENCRYPTED_ONLY" | "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"))
}

/// `operations.get`.
pub fn get(app: &App, project: &str, name: &str) -> Result<Reply, ApiError> {
    let store = app.store();
    store
        .operations
        .iter()
        .find(|o| o.project == project && o.resource["name"] == name)
        .map(|o| Reply::new("Operation", o.resource.clone()))
        .ok_or_else(|| ApiError::not_found("operationDoesNotExist", "The Cloud SQL operation does not exist."))
}

/// `operations.list`, newest first, for one instance when `instance` is given.
pub fn list(app: &App, project: &str, instance: Option<&str>, max_results: Option<usize>) -> Reply {
    let store = app.store();
    let items: Vec<Value> = store
        .operations
        .iter()
        .rev()
        .filter(|o| o.project == project && instance.is_none_or(|i| o.instance == i))
        .take(max_results.unwrap_or(usize::MAX))
        .map(|o| o.resource.clone())
        .collect();
    let mut body = json!({"kind": "sql#operationsList"});
    if !items.is_empty() {
        body["items"] = Value::Array(items);
    }
    Reply::new("OperationsListResponse", body)
}
