//! `databases.*`: the databases of an instance's PostgreSQL server, read from the server
//! itself (so one made with `psql` shows too, as in Cloud SQL), made and dropped by operations.

use crate::api::{Ctx, Reply};
use crate::app::App;
use crate::error::ApiError;
use crate::operations::{self, check_idle, Job};
use crate::store::{self, Instance};
use serde_json::{json, Value};
use std::sync::Arc;

pub const DEFAULT_CHARSET: &str = "UTF8";
pub const DEFAULT_COLLATION: &str = "en_US.UTF8";

/// The instance, if it exists and its server is up (Cloud SQL answers 400 otherwise).
pub fn running_instance(app: &App, project: &str, name: &str) -> Result<Instance, ApiError> {
    let store = app.store();
    let inst = store.instances.get(&store::key(project, name)).ok_or_else(ApiError::instance_not_found)?;
    if inst.resource["state"] != "RUNNABLE" || inst.resource["settings"]["activationPolicy"] == "NEVER" {
        return Err(ApiError::invalid("Invalid request since instance is not running."));
    }
    Ok(inst.clone())
}

/// Runs a query on the instance's server as the admin, off the async threads.
pub async fn query(app: &Arc<App>, inst: &Instance, sql: String) -> Result<Vec<Vec<String>>, ApiError> {
    let (app, address, password) = (app.clone(), inst.address.clone(), inst.admin_password.clone());
    tokio::task::spawn_blocking(move || app.pg.sql(&address, app.pg_port, &password, "postgres", &sql))
        .await
        .map_err(|e| ApiError::internal(format!("the query failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("the instance's server did not answer: {e}")))
}

fn resource(ctx: &Ctx, inst: &Instance, name: &str, server_charset: &str) -> Value {
    let (charset, collation) = inst.databases.get(name).cloned().unwrap_or_else(|| (server_charset.to_string(), DEFAULT_COLLATION.to_string()));
    json!({
        "kind": "sql#database",
        "name": name,
        "charset": charset,
        "collation": collation,
        "instance": inst.name,
        "project": inst.project,
        "etag": format!("{:x}", name.len() * 7919 + charset.len()),
        "selfLink": format!("{}/v1/projects/{}/instances/{}/databases/{name}", ctx.base_url, inst.project, inst.name),
    })
}

async fn server_databases(app: &Arc<App>, inst: &Instance) -> Result<Vec<(String, String)>, ApiError> {
    let rows = query(app, inst, "SELECT datname, pg_encoding_to_char(encoding) FROM pg_database WHERE NOT datistemplate ORDER BY datname;".into()).await?;
    Ok(rows.into_iter().filter_map(|r| Some((r.first()?.clone(), r.get(1).cloned().unwrap_or_default()))).collect())
}

pub async fn list(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    let items: Vec<Value> = server_databases(app, &inst).await?.iter().map(|(n, c)| resource(ctx, &inst, n, c)).collect();
    Ok(Reply::new("DatabasesListResponse", json!({"kind": "sql#databasesList", "items": items})))
}

pub async fn get(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, name: &str) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    let dbs = server_databases(app, &inst).await?;
    let (n, c) = dbs.iter().find(|(n, _)| n == name).ok_or_else(|| ApiError::not_found("notFound", "Not Found"))?;
    Ok(Reply::new("Database", resource(ctx, &inst, n, c)))
}

pub async fn insert(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, body: Value) -> Result<Reply, ApiError> {
    let name = body["name"].as_str().filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("Invalid request: database name is required."))?.to_string();
    if name.len() > 63 || name.contains('\0') {
        return Err(ApiError::invalid(format!("Invalid request: database name ({name}) must be 1 to 63 bytes.")));
    }
    let charset = body["charset"].as_str().filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CHARSET).to_string();
    let collation = body["collation"].as_str().filter(|c| !c.is_empty()).unwrap_or(DEFAULT_COLLATION).to_string();
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    if server_databases(app, &inst).await?.iter().any(|(n, _)| *n == name) {
        return Err(ApiError::invalid(format!("Invalid request: failed to create database {name}. Detail: pq: database \"{name}\" already exists.")));
    }
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::CreateDatabase { name, charset, collation }))
}

/// `databases.patch` / `update`: PostgreSQL cannot change a database's encoding, so only what
/// the API reports changes.
pub async fn patch(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, name: &str, body: Value) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    let dbs = server_databases(app, &inst).await?;
    let (_, server_charset) = dbs.iter().find(|(n, _)| n == name).ok_or_else(|| ApiError::not_found("notFound", "Not Found"))?;
    let (old_charset, old_collation) = inst.databases.get(name).cloned().unwrap_or_else(|| (server_charset.clone(), DEFAULT_COLLATION.to_string()));
    let charset = body["charset"].as_str().filter(|c| !c.is_empty()).map(str::to_string).unwrap_or(old_charset);
    let collation = body["collation"].as_str().filter(|c| !c.is_empty()).map(str::to_string).unwrap_or(old_collation);
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::PatchDatabase { name: name.to_string(), charset, collation }))
}

pub async fn delete(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, name: &str) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    if !server_databases(app, &inst).await?.iter().any(|(n, _)| n == name) {
        return Err(ApiError::not_found("notFound", "Not Found"));
    }
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::DeleteDatabase { name: name.to_string() }))
}
