//! `instances.*`: the `DatabaseInstance` resource, its defaults and validation, and the
//! operations that create, change, restart and delete its PostgreSQL server.

use crate::api::{Ctx, Reply};
use crate::app::App;
use crate::catalog;
use crate::error::ApiError;
use crate::operations::{self, check_idle, Job};
use crate::store::{self, Instance, NAME_REUSE_SECS};
use crate::util::{now_rfc3339, now_secs, random_hex};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const DEFAULT_REGION: &str = "us-central1";

/// Fields the API sets itself; a request's values for them are ignored.
const READ_ONLY: [&str; 14] = [
    "kind",
    "state",
    "etag",
    "selfLink",
    "connectionName",
    "ipAddresses",
    "serverCaCert",
    "createTime",
    "databaseInstalledVersion",
    "backendType",
    "instanceType",
    "project",
    "name",
    "rootPassword",
];

pub fn list(app: &App, _ctx: &Ctx, project: &str) -> Reply {
    let store = app.store();
    let items: Vec<Value> = store.instances.values().filter(|i| i.project == project).map(|i| i.resource.clone()).collect();
    let mut body = json!({"kind": "sql#instancesList"});
    if !items.is_empty() {
        body["items"] = Value::Array(items);
    }
    Reply::new("InstancesListResponse", body)
}

pub fn get(app: &App, project: &str, name: &str) -> Result<Reply, ApiError> {
    let store = app.store();
    let inst = store.instances.get(&store::key(project, name)).ok_or_else(ApiError::instance_not_found)?;
    Ok(Reply::new("DatabaseInstance", inst.resource.clone()))
}

pub fn insert(app: &Arc<App>, ctx: &Ctx, project: &str, body: Value) -> Result<Reply, ApiError> {
    let name = body["name"].as_str().ok_or_else(|| ApiError::invalid("Invalid request: instance name is required."))?.to_string();
    catalog::check_instance_name(&name)?;
    let version = body["databaseVersion"]
        .as_str()
        .ok_or_else(|| ApiError::invalid("Invalid request: databaseVersion is required (this emulator serves POSTGRES_* versions)."))?
        .to_string();
    catalog::check_database_version(&version)?;
    let region = body["region"].as_str().filter(|r| !r.is_empty()).unwrap_or(DEFAULT_REGION).to_string();
    let Some(requested) = body.get("settings").filter(|s| s.is_object()) else {
        return Err(ApiError::invalid("Invalid request: settings are required (settings.tier at least)."));
    };
    let settings = settings_from(requested, &version, &region);
    check_settings(&version, &settings)?;
    let master = body["masterInstanceName"].as_str().filter(|m| !m.is_empty()).map(str::to_string);
    let root_password = body["rootPassword"].as_str().filter(|p| !p.is_empty()).map(str::to_string);

    let mut store = app.store();
    let key = store::key(project, &name);
    if store.instances.contains_key(&key) {
        return Err(ApiError::conflict("instanceAlreadyExists", "The Cloud SQL instance already exists."));
    }
    let now = now_secs();
    store.prune(now);
    if let Some(at) = store.deleted.get(&key) {
        let days = NAME_REUSE_SECS.saturating_sub(now.saturating_sub(*at)).div_ceil(86_400);
        return Err(ApiError::conflict(
            "instanceAlreadyExists",
            format!(
                "The Cloud SQL instance already exists. When you delete an instance, you can't reuse the name of the deleted instance until one week from the deletion date (about {days} more day(s) for {name})."
            ),
        ));
    }
    // A read replica: of an existing, running primary of the same major version, in the same
    // project; its server is a streaming-replication standby of the primary's.
    let replica_of = match &master {
        None => None,
        Some(m) => {
            let primary = store
                .instances
                .get(&store::key(project, m))
                .ok_or_else(|| ApiError::not_found("instanceDoesNotExist", &format!("The Cloud SQL instance {m} (masterInstanceName) does not exist.")))?;
            if primary.resource["state"] != "RUNNABLE" || primary.resource["settings"]["activationPolicy"] == "NEVER" {
                return Err(ApiError::invalid(&format!("Invalid request: the primary instance {m} is not running.")));
            }
            if primary.resource["instanceType"] == "READ_REPLICA_INSTANCE" {
                return Err(ApiError::invalid(&format!("Invalid request: {m} is itself a read replica (this emulator makes replicas of primaries only).")));
            }
            if primary.resource["databaseVersion"] != json!(version) {
                return Err(ApiError::invalid(&format!(
                    "Invalid request: a read replica runs the primary's database version ({}), not {version}.",
                    primary.resource["databaseVersion"].as_str().unwrap_or("?")
                )));
            }
            Some((primary.address.clone(), primary.admin_password.clone()))
        }
    };
    let address = app.free_address(&store).ok_or_else(|| ApiError::internal("no free loopback address is left for another PostgreSQL server"))?;
    let zone = settings["locationPreference"]["zone"].as_str().unwrap_or_default().to_string();
    let mut resource = json!({
        "kind": "sql#instance",
        "state": "PENDING_CREATE",
        "databaseVersion": version,
        "settings": settings,
        "etag": random_hex(16),
        "ipAddresses": [{"type": "PRIMARY", "ipAddress": address}],
        "instanceType": "CLOUD_SQL_INSTANCE",
        "project": project,
        "region": region,
        "gceZone": zone,
        "backendType": "SECOND_GEN",
        "selfLink": format!("{}/v1/projects/{project}/instances/{name}", ctx.base_url),
        "connectionName": format!("{project}:{region}:{name}"),
        "name": name,
        "databaseInstalledVersion": app.pg.installed_version,
        "createTime": now_rfc3339(),
        "serviceAccountEmailAddress": format!("p{}-emulator@gcp-sa-cloud-sql.iam.gserviceaccount.com", project.len()),
        "sqlNetworkArchitecture": "NEW_NETWORK_ARCHITECTURE",
    });
    if settings["availabilityType"] == "REGIONAL" {
        resource["secondaryGceZone"] = json!(format!("{region}-b"));
    }
    if let Some(m) = &master {
        resource["instanceType"] = json!("READ_REPLICA_INSTANCE");
        resource["masterInstanceName"] = json!(m);
        let mut rc = json!({"kind": "sql#replicaConfiguration", "failoverTarget": false});
        if let Some(given) = body.get("replicaConfiguration").and_then(Value::as_object) {
            for k in ["failoverTarget", "cascadableReplica"] {
                if let Some(v) = given.get(k).filter(|v| v.is_boolean()) {
                    rc[k] = v.clone();
                }
            }
        }
        resource["replicaConfiguration"] = rc;
        if let Some(primary) = store.instances.get_mut(&store::key(project, m)) {
            let names = primary.resource["replicaNames"].as_array().cloned().unwrap_or_default();
            let mut names: Vec<Value> = names.into_iter().filter(|n| n != &json!(name)).collect();
            names.push(json!(name));
            primary.resource["replicaNames"] = Value::Array(names);
        }
    }
    decorate(&mut resource);
    let inst = Instance {
        project: project.to_string(),
        name: name.clone(),
        resource,
        address,
        // A standby is a copy of its primary's cluster, roles and passwords included.
        admin_password: replica_of.as_ref().map(|(_, pw)| pw.clone()).unwrap_or_else(|| random_hex(24)),
        busy: None,
        databases: Default::default(),
        user_types: Default::default(),
    };
    store.instances.insert(key, inst);
    Ok(operations::start(app, ctx, &mut store, project, &name, Job::CreateInstance { root_password, replica_of: replica_of.map(|(a, _)| a) }))
}

/// `instances.patch` (merge) and `instances.update` (`replace`: settings not given return to
/// their defaults).
pub fn patch(app: &Arc<App>, ctx: &Ctx, project: &str, name: &str, body: Value, replace: bool) -> Result<Reply, ApiError> {
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, name)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    let current = &inst.resource;
    if let Some(sv) = body["settings"].get("settingsVersion") {
        let given = sv.as_str().map(str::to_string).unwrap_or_else(|| sv.to_string());
        let now = current["settings"]["settingsVersion"].as_str().unwrap_or("0");
        if given != "0" && given != now {
            return Err(ApiError::new(
                412,
                "FAILED_PRECONDITION",
                "staleData",
                format!("The settings version {given} is out of date (the instance is at {now}): read the instance again and retry."),
            ));
        }
    }
    if let Some(region) = body["region"].as_str().filter(|r| !r.is_empty()) {
        if Some(region) != current["region"].as_str() {
            return Err(ApiError::invalid("Invalid request: the region of an instance cannot be changed."));
        }
    }
    let mut new = current.clone();
    let old_version = current["databaseVersion"].as_str().unwrap_or_default().to_string();
    if let Some(version) = body["databaseVersion"].as_str().filter(|v| *v != old_version) {
        catalog::check_database_version(version)?;
        let (from, to) = (catalog::postgres_major(&old_version).unwrap_or(0), catalog::postgres_major(version).unwrap_or(0));
        if to < from {
            return Err(ApiError::invalid(format!("Invalid request: cannot downgrade the database version from {old_version} to {version}.")));
        }
        // A major version upgrade: Cloud SQL upgrades in place; the local server keeps its
        // one installed major version, so only the reported version changes.
        new["databaseVersion"] = json!(version);
    }
    let version = new["databaseVersion"].as_str().unwrap_or_default().to_string();
    let region = new["region"].as_str().unwrap_or(DEFAULT_REGION).to_string();
    if let Value::Object(fields) = &body {
        for (k, v) in fields {
            if READ_ONLY.contains(&k.as_str()) || k == "settings" || k == "databaseVersion" || k == "region" {
                continue;
            }
            new[k.as_str()] = v.clone();
        }
    }
    if let Some(requested) = body.get("settings").filter(|s| s.is_object()) {
        let mut settings = if replace {
            let mut fresh = settings_from(requested, &version, &region);
            // What the API keeps through an update: where the instance is.
            fresh["locationPreference"] = current["settings"]["locationPreference"].clone();
            fresh
        } else {
            let mut merged = current["settings"].clone();
            merge(&mut merged, requested);
            merged
        };
        if requested.get("edition").is_none() && !replace {
            settings["edition"] = current["settings"]["edition"].clone();
        }
        new["settings"] = settings;
    }
    check_settings(&version, &new["settings"])?;
    let next = current["settings"]["settingsVersion"].as_str().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
    new["settings"]["settingsVersion"] = json!(next.to_string());
    if new["settings"]["availabilityType"] == "REGIONAL" && new.get("secondaryGceZone").is_none() {
        new["secondaryGceZone"] = json!(format!("{region}-b"));
    }
    decorate(&mut new);
    let name = name.to_string();
    Ok(operations::start(app, ctx, &mut store, project, &name, Job::PatchInstance { new }))
}

pub fn delete(app: &Arc<App>, ctx: &Ctx, project: &str, name: &str) -> Result<Reply, ApiError> {
    let mut store = app.store();
    let inst = store.instances.get_mut(&store::key(project, name)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    if let Some(replicas) = inst.resource["replicaNames"].as_array().filter(|r| !r.is_empty()) {
        let names: Vec<&str> = replicas.iter().filter_map(Value::as_str).collect();
        return Err(ApiError::invalid(&format!("Invalid request: the instance has read replicas ({}); delete them first.", names.join(", "))));
    }
    if inst.resource["settings"]["deletionProtectionEnabled"] == true {
        return Err(ApiError::new(
            400,
            "FAILED_PRECONDITION",
            "deletionProtectionEnabled",
            "The instance is protected. Please disable the deletion protection and try again. To disable deletion protection, update the instance settings with deletionProtectionEnabled set to false.",
        ));
    }
    inst.resource["state"] = json!("PENDING_DELETE");
    Ok(operations::start(app, ctx, &mut store, project, name, Job::DeleteInstance))
}

pub fn restart(app: &Arc<App>, ctx: &Ctx, project: &str, name: &str) -> Result<Reply, ApiError> {
    let mut store = app.store();
    let inst = store.instances.get(&store::key(project, name)).ok_or_else(ApiError::instance_not_found)?;
    check_idle(inst)?;
    if inst.resource["settings"]["activationPolicy"] == "NEVER" {
        return Err(ApiError::invalid("Invalid request since instance is not running."));
    }
    Ok(operations::start(app, ctx, &mut store, project, name, Job::Restart))
}

/// The settings of a new instance: Cloud SQL's defaults under what the request gives.
fn settings_from(requested: &Value, version: &str, region: &str) -> Value {
    let mut edition = requested["edition"].as_str().filter(|e| !e.is_empty() && *e != "EDITION_UNSPECIFIED").unwrap_or(catalog::default_edition(version));
    if edition.is_empty() {
        edition = "ENTERPRISE";
    }
    let mut settings = json!({
        "kind": "sql#settings",
        "settingsVersion": "1",
        "tier": "",
        "edition": edition,
        "availabilityType": "ZONAL",
        "pricingPlan": "PER_USE",
        "replicationType": "SYNCHRONOUS",
        "activationPolicy": "ALWAYS",
        "dataDiskSizeGb": "10",
        "dataDiskType": "PD_SSD",
        "storageAutoResize": true,
        "storageAutoResizeLimit": "0",
        "backupConfiguration": {
            "kind": "sql#backupConfiguration",
            "enabled": false,
            "startTime": "00:00",
            "pointInTimeRecoveryEnabled": false,
            "transactionLogRetentionDays": 7,
            "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": 7},
            "transactionalLogStorageState": "CLOUD_STORAGE",
            "backupTier": "STANDARD",
        },
        "ipConfiguration": {
            "ipv4Enabled": true,
            "requireSsl": false,
            "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
            "serverCaMode": "GOOGLE_MANAGED_INTERNAL_CA",
        },
        "locationPreference": {"kind": "sql#locationPreference", "zone": format!("{region}-a")},
        "maintenanceWindow": {"kind": "sql#maintenanceWindow", "hour": 0, "day": 0},
        "deletionProtectionEnabled": false,
        "connectorEnforcement": "NOT_REQUIRED",
    });
    if edition == "ENTERPRISE_PLUS" {
        settings["dataCacheConfig"] = json!({"dataCacheEnabled": true});
    }
    let mut requested = requested.clone();
    if let Some(obj) = requested.as_object_mut() {
        obj.remove("settingsVersion");
        obj.remove("kind");
    }
    merge(&mut settings, &requested);
    settings["edition"] = json!(edition);
    settings
}

/// What the API derives from settings: the address's type (`PRIVATE` without a public IP)
/// and the `kind` of each authorized network.
fn decorate(resource: &mut Value) {
    let private = resource["settings"]["ipConfiguration"]["ipv4Enabled"] == false;
    if let Some(ip) = resource.get_mut("ipAddresses").and_then(|a| a.get_mut(0)).and_then(Value::as_object_mut) {
        ip.insert("type".into(), json!(if private { "PRIVATE" } else { "PRIMARY" }));
    }
    let networks = resource.get_mut("settings").and_then(|s| s.get_mut("ipConfiguration")).and_then(|i| i.get_mut("authorizedNetworks"));
    if let Some(Value::Array(entries)) = networks {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            entry.insert("kind".into(), json!("sql#aclEntry"));
        }
    }
}

/// Merges `patch` into `target`: objects field by field, anything else replaced; `null`
/// removes a field.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => merge_maps(t, p),
        (t, p) => *t = p.clone(),
    }
}

fn merge_maps(t: &mut Map<String, Value>, p: &Map<String, Value>) {
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match t.get_mut(k) {
            // A map field (userLabels) is replaced whole, like a repeated field; messages merge.
            Some(existing) if existing.is_object() && v.is_object() && k != "userLabels" => merge(existing, v),
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What Cloud SQL checks in settings: tier for edition, enum values, flags, backup time.
fn check_settings(version: &str, s: &Value) -> Result<(), ApiError> {
    let tier = s["tier"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| ApiError::invalid("Invalid request: settings.tier is required."))?;
    let edition = s["edition"].as_str().unwrap_or("ENTERPRISE");
    if !matches!(edition, "ENTERPRISE" | "ENTERPRISE_PLUS") {
        return Err(ApiError::invalid(format!("Invalid request: Invalid value for field settings.edition: {edition}.")));
    }
    catalog::check_tier(tier, edition)?;
    if edition == "ENTERPRISE_PLUS" && catalog::postgres_major(version).is_some_and(|m| m < 12) {
        return Err(ApiError::invalid(format!("Invalid request: the ENTERPRISE_PLUS edition does not support {version}.")));
    }
    for (schema, field, value) in [
        ("Settings", "availabilityType", &s["availabilityType"]),
        ("Settings", "activationPolicy", &s["activationPolicy"]),
        ("Settings", "dataDiskType", &s["dataDiskType"]),
        ("Settings", "pricingPlan", &s["pricingPlan"]),
        ("IpConfiguration", "sslMode", &s["ipConfiguration"]["sslMode"]),
    ] {
        if value.is_null() {
            continue;
        }
        let names = crate::schema::enum_names(schema, field);
        let ok = value.as_str().is_some_and(|v| names.contains(&v) && !v.ends_with("_UNSPECIFIED"));
        if !ok {
            return Err(ApiError::invalid(format!("Invalid request: Invalid value for field {field}: {value}.")));
        }
    }
    if s["activationPolicy"] == "ON_DEMAND" {
        return Err(ApiError::invalid("Invalid request: the ON_DEMAND activation policy is only for first generation instances."));
    }
    if s["ipConfiguration"]["ipv4Enabled"] == false && s["ipConfiguration"]["privateNetwork"].as_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid("Invalid request: At least one of public IP or private IP (settings.ipConfiguration.privateNetwork) must be enabled."));
    }
    if let Some(size) = s["dataDiskSizeGb"].as_str() {
        if size.parse::<u64>().map_or(true, |gb| gb < 10) {
            return Err(ApiError::invalid(format!("Invalid request: dataDiskSizeGb ({size}) must be at least 10.")));
        }
    }
    if let Some(start) = s["backupConfiguration"]["startTime"].as_str() {
        let ok = start.len() == 5
            && start.as_bytes()[2] == b':'
            && start.get(..2).and_then(|h| h.parse::<u32>().ok()).is_some_and(|h| h < 24)
            && start.get(3..).and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m < 60);
        if !ok {
            return Err(ApiError::invalid(format!("Invalid request: backupConfiguration.startTime ({start}) must be HH:MM.")));
        }
    }
    if let Some(flags) = s["databaseFlags"].as_array() {
        for f in flags {
            catalog::check_flag(f["name"].as_str().unwrap_or_default(), f["value"].as_str().unwrap_or_default())?;
        }
    }
    Ok(())
}
