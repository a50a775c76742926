//! `users.*`: the login roles of an instance's PostgreSQL server (the hidden `cloudsqladmin`
//! excepted), read from the server; passwords are set for real, so a client logs in with them.

use crate::api::{Ctx, Reply};
use crate::app::App;
use crate::databases::{query, running_instance};
use crate::error::ApiError;
use crate::operations::{self, check_idle, Job};
use crate::store::{self, Instance};
use serde_json::{json, Value};
use std::sync::Arc;

fn resource(inst: &Instance, name: &str) -> Value {
    let mut user = json!({
        "kind": "sql#user",
        "name": name,
        "host": "",
        "instance": inst.name,
        "project": inst.project,
        "etag": format!("{:x}", name.len() * 104_729),
    });
    // BUILT_IN is the enum's zero value, which the API leaves out.
    if let Some(t) = inst.user_types.get(name).filter(|t| *t != "BUILT_IN") {
        user["type"] = json!(t);
    }
    user
}

async fn server_users(app: &Arc<App>, inst: &Instance) -> Result<Vec<String>, ApiError> {
    let sql = format!("SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> '{}' ORDER BY rolname;", crate::pg::ADMIN_USER);
    Ok(query(app, inst, sql).await?.into_iter().filter_map(|r| r.into_iter().next()).collect())
}

fn user_name(ctx: &Ctx, body: &Value) -> Result<String, ApiError> {
    ctx.param("name")
        .or_else(|| body["name"].as_str())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid("Invalid request: user name is required (the `name` query parameter)."))
}

pub async fn list(app: &Arc<App>, _ctx: &Ctx, project: &str, instance: &str) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    let items: Vec<Value> = server_users(app, &inst).await?.iter().map(|n| resource(&inst, n)).collect();
    Ok(Reply::new("UsersListResponse", json!({"kind": "sql#usersList", "items": items})))
}

pub async fn get(app: &Arc<App>, _ctx: &Ctx, project: &str, instance: &str, name: &str) -> Result<Reply, ApiError> {
    let inst = running_instance(app, project, instance)?;
    if !server_users(app, &inst).await?.iter().any(|n| n == name) {
        return Err(ApiError::not_found("notFound", format!("User does not exist: {name}.")));
    }
    Ok(Reply::new("User", resource(&inst, name)))
}

pub async fn insert(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, body: Value) -> Result<Reply, ApiError> {
    let name = body["name"].as_str().filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("Invalid request: user name is required."))?.to_string();
    if name.len() > 63 || name.contains('\0') || name == crate::pg::ADMIN_USER {
        return Err(ApiError::invalid(format!("Invalid request: user name ({name}) is not allowed.")));
    }
    let user_type = body["type"].as_str().filter(|t| !t.is_empty()).unwrap_or("BUILT_IN").to_string();
    if !crate::schema::enum_names("User", "type").contains(&user_type.as_str()) {
        return Err(ApiError::invalid(format!("Invalid request: Invalid value for field type: {user_type}.")));
    }
    let password = body["password"].as_str().map(str::to_string).filter(|_| user_type == "BUILT_IN");
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    if server_users(app, &inst).await?.contains(&name) {
        return Err(ApiError::invalid(format!("Invalid request: failed to create user {name}. Detail: pq: role \"{name}\" already exists.")));
    }
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::CreateUser { name, password, user_type }))
}

/// `users.update` (`PUT .../users?name=NAME`): a new password.
pub async fn update(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str, body: Value) -> Result<Reply, ApiError> {
    let name = user_name(ctx, &body)?;
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    if !server_users(app, &inst).await?.contains(&name) {
        return Err(ApiError::not_found("notFound", format!("User does not exist: {name}.")));
    }
    let password = body["password"].as_str().map(str::to_string);
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::UpdateUser { name, password }))
}

/// `users.delete` (`DELETE .../users?name=NAME`).
pub async fn delete(app: &Arc<App>, ctx: &Ctx, project: &str, instance: &str) -> Result<Reply, ApiError> {
    let name = user_name(ctx, &Value::Null)?;
    let inst = running_instance(app, project, instance)?;
    check_idle(&inst)?;
    if !server_users(app, &inst).await?.contains(&name) {
        return Err(ApiError::not_found("notFound", format!("User does not exist: {name}.")));
    }
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, instance)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    Ok(operations::start(app, ctx, &mut store, project, instance, Job::DeleteUser { name }))
}
