//! `google_sql_database_instance`, as terraform-provider-google writes it, with three
//! differences on purpose: a destroy that deletion protection would refuse fails at plan time
//! (before any of its databases or users is deleted); a `database_version` change to a later
//! major version of the same engine is an in-place upgrade, and any other change says the data
//! goes with the replacement; and an interrupted create is resumed, not repeated: the name is
//! planned from the create's token when omitted and the instance carries the token as a label,
//! so the next run finds it, waits for its create operation to finish and records it.

use super::{first, jb, ji, js, many, one, or, plan_nested, project_of};
use crate::api::{enc, Method};
use crate::GoogleProvider;
use infra_provider::resource::{with_id, Acted};
use infra_provider::*;
use serde_json::{json, Map as JsonMap, Value as Json};
use std::collections::BTreeMap;

pub struct DatabaseInstance;

/// The label an instance carries from its create call on: the create's token, so `adopt`
/// tells our interrupted create from someone else's instance of the same name. Never shown in
/// `user_labels`.
pub const INTENT_LABEL: &str = "infra-create-intent";

/// The name of an instance whose configuration gives none: from the create's token, so every
/// retry of one create, and `adopt` after a crash, use the same name.
pub fn generated_name(token: &str) -> String {
    let hex: String = token.chars().filter(char::is_ascii_alphanumeric).take(20).collect::<String>().to_ascii_lowercase();
    format!("infra-{hex}")
}

fn s() -> fn(Type) -> AttrSchema {
    AttrSchema::optional
}

fn settings_schema() -> Schema {
    let s = s();
    let oc = AttrSchema::optional_computed;
    let retention =
        Schema::new().attr("retained_backups", AttrSchema::required(Type::Number)).attr("retention_unit", s(Type::String).default(Value::string("COUNT")));
    let backup = Schema::new()
        .attr("enabled", s(Type::Bool).default(Value::Bool(false)))
        .attr("start_time", oc(Type::String))
        .attr("point_in_time_recovery_enabled", s(Type::Bool).default(Value::Bool(false)))
        .attr("transaction_log_retention_days", oc(Type::Number))
        .attr("location", oc(Type::String))
        .block("backup_retention_settings", one(retention));
    let networks = Schema::new().attr("name", s(Type::String)).attr("value", AttrSchema::required(Type::String)).attr("expiration_time", s(Type::String));
    let ip = Schema::new()
        .attr("ipv4_enabled", s(Type::Bool).default(Value::Bool(true)))
        .attr("ssl_mode", oc(Type::String))
        .attr("private_network", s(Type::String))
        .block("authorized_networks", many(Nesting::Set, networks));
    let maintenance = Schema::new().attr("day", oc(Type::Number)).attr("hour", oc(Type::Number)).attr("update_track", oc(Type::String));
    let insights = Schema::new()
        .attr("query_insights_enabled", s(Type::Bool).default(Value::Bool(false)))
        .attr("query_string_length", s(Type::Number).default(Value::int(1024)))
        .attr("record_application_tags", s(Type::Bool).default(Value::Bool(false)))
        .attr("record_client_address", s(Type::Bool).default(Value::Bool(false)))
        .attr("query_plans_per_minute", oc(Type::Number));
    let flags = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("value", AttrSchema::required(Type::String));
    let location = Schema::new().attr("follow_gae_application", s(Type::String)).attr("zone", oc(Type::String)).attr("secondary_zone", oc(Type::String));
    Schema::new()
        // Cloud SQL's settingsVersion: read back, and sent with every settings change so that a
        // change made meanwhile by someone else is refused (412) instead of overwritten.
        .attr("version", AttrSchema::computed(Type::Number))
        .attr("tier", AttrSchema::required(Type::String))
        .attr("edition", oc(Type::String))
        .attr("availability_type", s(Type::String).default(Value::string("ZONAL")))
        .attr("disk_size", oc(Type::Number))
        .attr("disk_type", s(Type::String).default(Value::string("PD_SSD")))
        .attr("disk_autoresize", s(Type::Bool).default(Value::Bool(true)))
        .attr("disk_autoresize_limit", s(Type::Number).default(Value::int(0)))
        .attr("activation_policy", s(Type::String).default(Value::string("ALWAYS")))
        .attr("pricing_plan", s(Type::String).default(Value::string("PER_USE")))
        .attr("deletion_protection_enabled", s(Type::Bool).default(Value::Bool(false)))
        .attr("user_labels", s(Type::Map(Box::new(Type::String))))
        .block("database_flags", many(Nesting::List, flags))
        .block("backup_configuration", one(backup))
        .block("ip_configuration", one(ip))
        .block("maintenance_window", one(maintenance))
        .block("insights_config", one(insights))
        .block("location_preference", one(location))
}

fn obj(fields: &[(&str, Type)]) -> Type {
    Type::Object(fields.iter().map(|(k, t)| (k.to_string(), infra_lang::types::ObjectAttr { ty: t.clone(), optional: false, default: None })).collect())
}

/// The engine of a version (`POSTGRES_16` → POSTGRES, 16).
fn engine_version(v: &str) -> Option<(&str, Vec<u32>)> {
    let (engine, rest) = v.split_once('_')?;
    let nums: Option<Vec<u32>> = rest.split('_').map(|p| p.parse().ok()).collect();
    Some((engine, nums?))
}

/// Whether Cloud SQL upgrades `from` to `to` in place: a later major version of the same engine.
pub fn upgradable(from: &str, to: &str) -> bool {
    match (engine_version(from), engine_version(to)) {
        (Some((a, va)), Some((b, vb))) => a == b && vb > va,
        _ => false,
    }
}

/// The labels sent: `default_labels`, then `user_labels`.
fn labels(c: &GoogleProvider, settings: &Value) -> BTreeMap<String, String> {
    let mut all = c.default_labels();
    all.extend(attrs::string_map(settings, "user_labels"));
    all
}

fn put(m: &mut JsonMap<String, Json>, key: &str, v: Option<&Value>) {
    let Some(v) = v else { return };
    let j = match v {
        Value::String(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Number(_) => match v.as_i64() {
            Some(i) => json!(i),
            None => return,
        },
        _ => return,
    };
    m.insert(key.to_string(), j);
}

/// The API's `settings` for planned settings (null and unknown values left out: the API
/// keeps or decides them).
pub fn settings_json(settings: &Value, labels: &BTreeMap<String, String>) -> Json {
    let mut m = JsonMap::new();
    let g = |k: &str| settings.get_attr(k);
    put(&mut m, "tier", g("tier"));
    put(&mut m, "edition", g("edition"));
    put(&mut m, "availabilityType", g("availability_type"));
    put(&mut m, "dataDiskType", g("disk_type"));
    put(&mut m, "storageAutoResize", g("disk_autoresize"));
    put(&mut m, "activationPolicy", g("activation_policy"));
    put(&mut m, "pricingPlan", g("pricing_plan"));
    put(&mut m, "deletionProtectionEnabled", g("deletion_protection_enabled"));
    // int64 fields go as strings, as Google's JSON mapping writes them.
    for (k, api) in [("disk_size", "dataDiskSizeGb"), ("disk_autoresize_limit", "storageAutoResizeLimit")] {
        if let Some(i) = g(k).and_then(Value::as_i64) {
            m.insert(api.into(), json!(i.to_string()));
        }
    }
    m.insert("userLabels".into(), json!(labels));
    let flags: Vec<Json> = g("database_flags")
        .and_then(Value::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|f| json!({"name": attrs::string(f, "name"), "value": attrs::string(f, "value")}))
        .collect();
    m.insert("databaseFlags".into(), json!(flags));
    if let Some(b) = first(settings, "backup_configuration") {
        let mut bm = JsonMap::new();
        put(&mut bm, "enabled", b.get_attr("enabled"));
        put(&mut bm, "startTime", b.get_attr("start_time"));
        put(&mut bm, "pointInTimeRecoveryEnabled", b.get_attr("point_in_time_recovery_enabled"));
        put(&mut bm, "transactionLogRetentionDays", b.get_attr("transaction_log_retention_days"));
        put(&mut bm, "location", b.get_attr("location"));
        if let Some(r) = first(&b, "backup_retention_settings") {
            let mut rm = JsonMap::new();
            put(&mut rm, "retainedBackups", r.get_attr("retained_backups"));
            put(&mut rm, "retentionUnit", r.get_attr("retention_unit"));
            bm.insert("backupRetentionSettings".into(), Json::Object(rm));
        }
        m.insert("backupConfiguration".into(), Json::Object(bm));
    }
    if let Some(ip) = first(settings, "ip_configuration") {
        let mut im = JsonMap::new();
        put(&mut im, "ipv4Enabled", ip.get_attr("ipv4_enabled"));
        put(&mut im, "sslMode", ip.get_attr("ssl_mode"));
        put(&mut im, "privateNetwork", ip.get_attr("private_network"));
        let nets: Vec<Json> = ip
            .get_attr("authorized_networks")
            .and_then(Value::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|n| {
                let mut nm = JsonMap::new();
                nm.insert("kind".into(), json!("sql#aclEntry"));
                put(&mut nm, "name", n.get_attr("name"));
                put(&mut nm, "value", n.get_attr("value"));
                put(&mut nm, "expirationTime", n.get_attr("expiration_time"));
                Json::Object(nm)
            })
            .collect();
        im.insert("authorizedNetworks".into(), json!(nets));
        m.insert("ipConfiguration".into(), Json::Object(im));
    }
    if let Some(w) = first(settings, "maintenance_window") {
        let mut wm = JsonMap::new();
        put(&mut wm, "day", w.get_attr("day"));
        put(&mut wm, "hour", w.get_attr("hour"));
        put(&mut wm, "updateTrack", w.get_attr("update_track"));
        m.insert("maintenanceWindow".into(), Json::Object(wm));
    }
    if let Some(l) = first(settings, "location_preference") {
        let mut lm = JsonMap::new();
        put(&mut lm, "followGaeApplication", l.get_attr("follow_gae_application"));
        put(&mut lm, "zone", l.get_attr("zone"));
        put(&mut lm, "secondaryZone", l.get_attr("secondary_zone"));
        m.insert("locationPreference".into(), Json::Object(lm));
    }
    if let Some(i) = first(settings, "insights_config") {
        let mut q = JsonMap::new();
        put(&mut q, "queryInsightsEnabled", i.get_attr("query_insights_enabled"));
        put(&mut q, "queryStringLength", i.get_attr("query_string_length"));
        put(&mut q, "recordApplicationTags", i.get_attr("record_application_tags"));
        put(&mut q, "recordClientAddress", i.get_attr("record_client_address"));
        put(&mut q, "queryPlansPerMinute", i.get_attr("query_plans_per_minute"));
        m.insert("insightsConfig".into(), Json::Object(q));
    }
    Json::Object(m)
}

/// Whether the known settings hold block `name` (an import knows no settings: every block the
/// API reports is read).
fn wants(known: Option<&Value>, name: &str) -> bool {
    match known {
        Some(k) => k.get_attr(name).and_then(Value::as_seq).is_some_and(|s| !s.is_empty()),
        None => true,
    }
}

fn list_if(cond: bool, v: impl FnOnce() -> Value) -> Value {
    Value::List(if cond { vec![v()] } else { Vec::new() })
}

/// `settings` as read, shaped by what is known of them (the prior or planned settings).
pub fn settings_value(s: &Json, known: Option<&Value>, defaults: &BTreeMap<String, String>) -> Value {
    let labels: BTreeMap<String, String> = s
        .get("userLabels")
        .and_then(Json::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default();
    let known_labels = known.map(|k| attrs::string_map(k, "user_labels")).unwrap_or_default();
    let own: BTreeMap<String, Value> = labels
        .iter()
        .filter(|(k, v)| k.as_str() != INTENT_LABEL && (known_labels.contains_key(*k) || defaults.get(*k) != Some(*v)))
        .map(|(k, v)| (k.clone(), Value::string(v.clone())))
        .collect();
    let user_labels =
        if own.is_empty() && known.and_then(|k| k.get_attr("user_labels")).is_none_or(Value::is_null) { Value::Null } else { Value::Map(own.into()) };
    let empty = json!({});
    let b = s.get("backupConfiguration").unwrap_or(&empty);
    let backup = || {
        let r = b.get("backupRetentionSettings");
        let kb = known.and_then(|k| first(k, "backup_configuration"));
        let retention = list_if(r.is_some() && kb.as_ref().is_none_or(|kb| wants(Some(kb), "backup_retention_settings")), || {
            let r = r.unwrap_or(&empty);
            Value::object([("retained_backups", ji(r, "retainedBackups")), ("retention_unit", or(js(r, "retentionUnit"), Value::string("COUNT")))])
        });
        Value::object([
            ("enabled", or(jb(b, "enabled"), Value::Bool(false))),
            ("start_time", js(b, "startTime")),
            ("point_in_time_recovery_enabled", or(jb(b, "pointInTimeRecoveryEnabled"), Value::Bool(false))),
            ("transaction_log_retention_days", ji(b, "transactionLogRetentionDays")),
            ("location", js(b, "location")),
            ("backup_retention_settings", retention),
        ])
    };
    let ip = s.get("ipConfiguration").unwrap_or(&empty);
    let ip_value = || {
        let nets = ip.get("authorizedNetworks").and_then(Json::as_array).cloned().unwrap_or_default();
        let nonempty = |v: Value| if v.as_str() == Some("") { Value::Null } else { v };
        let nets = nets
            .iter()
            .map(|n| Value::object([("name", nonempty(js(n, "name"))), ("value", js(n, "value")), ("expiration_time", nonempty(js(n, "expirationTime")))]))
            .collect();
        Value::object([
            ("ipv4_enabled", or(jb(ip, "ipv4Enabled"), Value::Bool(false))),
            ("ssl_mode", js(ip, "sslMode")),
            ("private_network", nonempty(js(ip, "privateNetwork"))),
            ("authorized_networks", Value::set(nets)),
        ])
    };
    let w = s.get("maintenanceWindow");
    let q = s.get("insightsConfig");
    let l = s.get("locationPreference");
    let flags = s
        .get("databaseFlags")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| Value::object([("name", js(f, "name")), ("value", js(f, "value"))]))
        .collect();
    Value::object([
        ("version", ji(s, "settingsVersion")),
        ("tier", js(s, "tier")),
        ("edition", js(s, "edition")),
        ("availability_type", or(js(s, "availabilityType"), Value::string("ZONAL"))),
        ("disk_size", ji(s, "dataDiskSizeGb")),
        ("disk_type", or(js(s, "dataDiskType"), Value::string("PD_SSD"))),
        ("disk_autoresize", or(jb(s, "storageAutoResize"), Value::Bool(true))),
        ("disk_autoresize_limit", or(ji(s, "storageAutoResizeLimit"), Value::int(0))),
        ("activation_policy", or(js(s, "activationPolicy"), Value::string("ALWAYS"))),
        ("pricing_plan", or(js(s, "pricingPlan"), Value::string("PER_USE"))),
        ("deletion_protection_enabled", or(jb(s, "deletionProtectionEnabled"), Value::Bool(false))),
        ("user_labels", user_labels),
        ("database_flags", Value::List(flags)),
        ("backup_configuration", list_if(wants(known, "backup_configuration"), backup)),
        ("ip_configuration", list_if(wants(known, "ip_configuration"), ip_value)),
        (
            "maintenance_window",
            list_if(w.is_some() && wants(known, "maintenance_window"), || {
                let w = w.unwrap_or(&empty);
                Value::object([("day", ji(w, "day")), ("hour", ji(w, "hour")), ("update_track", js(w, "updateTrack"))])
            }),
        ),
        (
            "insights_config",
            list_if(q.is_some() && wants(known, "insights_config"), || {
                let q = q.unwrap_or(&empty);
                Value::object([
                    ("query_insights_enabled", or(jb(q, "queryInsightsEnabled"), Value::Bool(false))),
                    ("query_string_length", or(ji(q, "queryStringLength"), Value::int(1024))),
                    ("record_application_tags", or(jb(q, "recordApplicationTags"), Value::Bool(false))),
                    ("record_client_address", or(jb(q, "recordClientAddress"), Value::Bool(false))),
                    ("query_plans_per_minute", ji(q, "queryPlansPerMinute")),
                ])
            }),
        ),
        (
            "location_preference",
            list_if(l.is_some() && wants(known, "location_preference"), || {
                let l = l.unwrap_or(&empty);
                let nonempty = |v: Value| if v.as_str() == Some("") { Value::Null } else { v };
                Value::object([
                    ("follow_gae_application", nonempty(js(l, "followGaeApplication"))),
                    ("zone", js(l, "zone")),
                    ("secondary_zone", js(l, "secondaryZone")),
                ])
            }),
        ),
    ])
}

/// The whole object as read. `known` is what is known of it (prior, planned or an import seed).
pub fn instance_value(j: &Json, known: &Value, defaults: &BTreeMap<String, String>) -> Value {
    let name = js(j, "name");
    let ips: Vec<Json> = j.get("ipAddresses").and_then(Json::as_array).cloned().unwrap_or_default();
    let ip_of = |t: &str| ips.iter().find(|i| i.get("type").and_then(Json::as_str) == Some(t)).map(|i| js(i, "ipAddress")).unwrap_or(Value::string(""));
    let ip_address = Value::List(
        ips.iter().map(|i| Value::object([("ip_address", js(i, "ipAddress")), ("type", js(i, "type")), ("time_to_retire", js(i, "timeToRetire"))])).collect(),
    );
    let ca = j.get("serverCaCert").map(|c| {
        vec![Value::object([
            ("cert", js(c, "cert")),
            ("common_name", js(c, "commonName")),
            ("create_time", js(c, "createTime")),
            ("expiration_time", js(c, "expirationTime")),
            ("sha1_fingerprint", js(c, "sha1Fingerprint")),
        ])]
    });
    let known_settings = first(known, "settings");
    let settings = j.get("settings").map(|s| settings_value(s, known_settings.as_ref(), defaults));
    Value::object([
        ("id", name.clone()),
        ("name", name),
        ("project", js(j, "project")),
        ("region", js(j, "region")),
        ("database_version", js(j, "databaseVersion")),
        ("deletion_protection", or(known.get_attr("deletion_protection").cloned().unwrap_or(Value::Null), Value::Bool(true))),
        ("root_password", known.get_attr("root_password").cloned().unwrap_or(Value::Null)),
        ("master_instance_name", js(j, "masterInstanceName")),
        ("instance_type", js(j, "instanceType")),
        (
            "replica_names",
            Value::List(
                j.get("replicaNames").and_then(Json::as_array).map(|a| a.iter().filter_map(Json::as_str).map(Value::string).collect()).unwrap_or_default(),
            ),
        ),
        (
            "replica_configuration",
            // Cloud SQL reports it on every replica; it is read when the configuration sets it.
            list_if(
                j.get("replicaConfiguration").is_some() && known.get_attr("replica_configuration").and_then(Value::as_seq).is_some_and(|s| !s.is_empty()),
                || {
                    let rc = j.get("replicaConfiguration").cloned().unwrap_or(Json::Null);
                    let kb = known.get_attr("replica_configuration").and_then(Value::as_seq).and_then(|s| s.first().cloned()).unwrap_or(Value::Null);
                    // cascadable_replica is SQL Server's: kept as configured when the API leaves it out.
                    Value::object([
                        ("failover_target", or(jb(&rc, "failoverTarget"), kb.get_attr("failover_target").cloned().unwrap_or(Value::Null))),
                        ("cascadable_replica", or(jb(&rc, "cascadableReplica"), kb.get_attr("cascadable_replica").cloned().unwrap_or(Value::Null))),
                    ])
                },
            ),
        ),
        ("connection_name", js(j, "connectionName")),
        ("self_link", js(j, "selfLink")),
        ("service_account_email_address", js(j, "serviceAccountEmailAddress")),
        ("dns_name", or(js(j, "dnsName"), Value::string(""))),
        ("public_ip_address", ip_of("PRIMARY")),
        ("private_ip_address", ip_of("PRIVATE")),
        ("first_ip_address", ips.first().map(|i| js(i, "ipAddress")).unwrap_or(Value::string(""))),
        ("ip_address", ip_address),
        ("server_ca_cert", Value::List(ca.unwrap_or_default())),
        ("settings", Value::List(settings.into_iter().collect())),
    ])
}

/// How long Cloud SQL keeps the name of a deleted instance: "up to one week" in
/// terraform-provider-google's documentation of `name`, and what users meet (409
/// `instanceAlreadyExists` on a create with the name).
pub const NAME_RESERVED: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// When the instance of this name was deleted, from `operations.list?instance=NAME` (newest
/// first): the newest operation is a DELETE, DONE without errors. Anything else (an instance
/// that exists, is being created, or was never made) tells nothing.
pub fn deleted_at(ops: &[Json]) -> Option<(chrono::DateTime<chrono::Utc>, String)> {
    let newest = ops.first()?;
    let s = |k: &str| newest.get(k).and_then(Json::as_str);
    if s("operationType") != Some("DELETE") || s("status") != Some("DONE") || newest.get("error").is_some_and(|e| !e.is_null()) {
        return None;
    }
    let at = chrono::DateTime::parse_from_rfc3339(s("endTime").or(s("insertTime"))?).ok()?;
    Some((at.with_timezone(&chrono::Utc), s("name").unwrap_or("?").to_string()))
}

/// The plan-time refusal of a name deleted less than [`NAME_RESERVED`] before `now`.
pub fn reserved_name(name: &str, project: &str, ops: &[Json], now: chrono::DateTime<chrono::Utc>) -> Option<Diagnostic> {
    let (at, op) = deleted_at(ops)?;
    let free = at + NAME_RESERVED;
    if free <= now {
        return None;
    }
    Some(
        Diagnostic::error(
            "Instance name reserved",
            format!(
                "An instance named {name} was deleted from project {project} at {} (operation {op}). Cloud SQL keeps a deleted instance's name for about a week, so creating {name} would be refused until about {}. Choose another name, or leave name out and infra generates one.",
                at.format("%Y-%m-%d %H:%M UTC"),
                free.format("%Y-%m-%d %H:%M UTC"),
            ),
        )
        .with_path(attrs::at("name")),
    )
}

/// The built-in user whose password `root_password` is: `postgres` on PostgreSQL,
/// `sqlserver` on SQL Server, `root` on MySQL.
pub fn root_user(version: &str) -> &'static str {
    if version.starts_with("POSTGRES") {
        "postgres"
    } else if version.starts_with("SQLSERVER") {
        "sqlserver"
    } else {
        "root"
    }
}

fn label_of(j: &Json) -> Option<&str> {
    j.pointer(&format!("/settings/userLabels/{INTENT_LABEL}")).and_then(Json::as_str)
}

fn path(project: &str, name: &str) -> String {
    format!("projects/{}/instances/{}", enc(project), enc(name))
}

async fn get(c: &GoogleProvider, project: &str, name: &str) -> Result<Option<Json>, Errors> {
    c.client()?.api.get("instances.get", &path(project, name)).await
}

#[async_trait::async_trait]
impl ResourceType<GoogleProvider> for DatabaseInstance {
    fn name(&self) -> &'static str {
        "google_sql_database_instance"
    }

    fn schema(&self) -> Schema {
        let c = AttrSchema::computed;
        let ip = obj(&[("ip_address", Type::String), ("type", Type::String), ("time_to_retire", Type::String)]);
        let ca = obj(&[
            ("cert", Type::String),
            ("common_name", Type::String),
            ("create_time", Type::String),
            ("expiration_time", Type::String),
            ("sha1_fingerprint", Type::String),
        ]);
        Schema::new()
            .attr("id", c(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("project", AttrSchema::optional_computed(Type::String).force_new())
            .attr("region", AttrSchema::optional_computed(Type::String).force_new())
            .attr("database_version", AttrSchema::required(Type::String))
            .attr("deletion_protection", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            // The password of the engine's built-in user (`postgres`), set by the create and,
            // when it changes, by users.update of that user. The API never returns it.
            .attr("root_password", AttrSchema::optional(Type::String).sensitive())
            // Read replicas: the primary's name (a change replaces the replica), the type Cloud
            // SQL reports (READ_REPLICA_INSTANCE), and the primary's replicas.
            .attr("master_instance_name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("instance_type", AttrSchema::optional_computed(Type::String))
            .attr("replica_names", c(Type::List(Box::new(Type::String))))
            .block("replica_configuration", {
                let rc = Schema::new()
                    .attr("failover_target", AttrSchema::optional(Type::Bool).force_new())
                    .attr("cascadable_replica", AttrSchema::optional(Type::Bool));
                one(rc)
            })
            .attr("connection_name", c(Type::String))
            .attr("self_link", c(Type::String))
            .attr("service_account_email_address", c(Type::String))
            .attr("dns_name", c(Type::String))
            .attr("public_ip_address", c(Type::String))
            .attr("private_ip_address", c(Type::String))
            .attr("first_ip_address", c(Type::String))
            .attr("ip_address", c(Type::List(Box::new(ip))))
            .attr("server_ca_cert", c(Type::List(Box::new(ca))))
            .block("settings", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: 1, force_new: false, schema: settings_schema() })
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = Vec::new();
        if let Some(n) = attrs::string(config, "name") {
            let ok = n.len() <= 98
                && n.starts_with(|c: char| c.is_ascii_lowercase())
                && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !n.ends_with('-');
            if !ok {
                d.push(
                    Diagnostic::error(
                        "Invalid instance name",
                        format!(
                            "{n:?}: a Cloud SQL instance name is lowercase letters, digits and hyphens, starts with a letter and does not end with a hyphen."
                        ),
                    )
                    .with_path(attrs::at("name")),
                );
            }
        }
        d
    }

    fn plan(&self, c: &GoogleProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        let provider = c.client.get();
        if let Value::Object(m) = &mut resp.planned {
            // Project and region come from the provider when the resource gives none.
            for (k, from) in
                [("project", provider.map(|p| p.api.project.clone()).filter(|p| !p.is_empty())), ("region", provider.and_then(|p| p.region.clone()))]
            {
                if m.get(k).is_some_and(Value::is_unknown) && prior.is_none() {
                    if let Some(v) = from {
                        m.insert(k.into(), Value::string(v));
                    }
                }
            }
            let cfg_settings = first(config, "settings").unwrap_or(Value::Object(Default::default()));
            let prior_settings = prior.and_then(|p| first(p, "settings"));
            let mut planned = plan_nested(&settings_schema(), &cfg_settings, prior_settings.as_ref());
            // Blocks the configuration leaves out are Cloud SQL's to set, as in
            // terraform-provider-google (optional and computed): what exists stands, so an
            // imported instance plans no change for them.
            if let (Value::Object(pm), Some(ps)) = (&mut planned, prior_settings.as_ref()) {
                for b in ["backup_configuration", "ip_configuration", "maintenance_window", "insights_config", "location_preference"] {
                    let left_out = pm.get(b).and_then(Value::as_seq).is_none_or(<[Value]>::is_empty);
                    if let Some(old) = ps.get_attr(b).filter(|o| left_out && o.as_seq().is_some_and(|s| !s.is_empty())) {
                        pm.insert(b.into(), old.clone());
                    }
                }
            }
            // A settings change, or a major version upgrade (an instances.patch too), makes
            // Cloud SQL count a new settings version.
            let upgrading = prior
                .and_then(|p| attrs::string(p, "database_version"))
                .is_some_and(|old| attrs::string(config, "database_version").is_some_and(|new| new != old));
            if let (Value::Object(pm), true) = (&mut planned, upgrading) {
                pm.insert("version".into(), Value::Unknown);
            }
            if let (Value::Object(pm), Some(ps)) = (&mut planned, prior_settings.as_ref()) {
                let without = |v: &Value| match v {
                    Value::Object(o) => Value::Object(o.iter().filter(|(k, _)| k.as_str() != "version").map(|(k, v)| (k.clone(), v.clone())).collect()),
                    other => other.clone(),
                };
                if !without(&Value::Object(pm.clone())).equals(&without(ps)) {
                    pm.insert("version".into(), Value::Unknown);
                }
            }
            m.insert("settings".into(), Value::List(vec![planned]));
        }
        // A major version upgrade is in place; anything else replaces the instance, and says
        // what that costs.
        if let (Some(old), Some(new)) = (prior.and_then(|p| attrs::string(p, "database_version")), attrs::string(config, "database_version")) {
            if old != new {
                if upgradable(&old, &new) {
                    resp.diagnostics.push(
                        Diagnostic::warning(
                            "Major version upgrade",
                            format!("database_version goes from {old} to {new} in place: Cloud SQL upgrades the instance (it is unavailable while it does; take a backup first)."),
                        )
                        .with_path(attrs::at("database_version")),
                    );
                } else {
                    resp.requires_replace.push("database_version".into());
                    resp.diagnostics.push(
                        Diagnostic::warning(
                            "Instance replaced: its data is deleted",
                            format!("Cloud SQL cannot change {old} to {new} in place, so the instance is deleted and created again, and every database in it goes with it. Export the data first."),
                        )
                        .with_path(attrs::at("database_version")),
                    );
                }
            }
        }
        resp
    }

    fn check_delete(&self, prior: &Value) -> Vec<Diagnostic> {
        let name = attrs::string(prior, "name").unwrap_or_default();
        let mut d = Vec::new();
        if attrs::bool(prior, "deletion_protection") != Some(false) {
            d.push(
                Diagnostic::error(
                    "Instance protected from deletion",
                    format!("google_sql_database_instance {name} has deletion_protection = true, so the plan stops here, before anything is deleted (its databases and users included). Set deletion_protection = false and apply, then destroy."),
                )
                .with_path(attrs::at("deletion_protection")),
            );
        }
        if first(prior, "settings").and_then(|s| attrs::bool(&s, "deletion_protection_enabled")) == Some(true) {
            d.push(Diagnostic::error(
                "Instance protected from deletion",
                format!("google_sql_database_instance {name} has settings.deletion_protection_enabled = true (Cloud SQL's own protection), so Cloud SQL would refuse the delete; nothing was deleted. Set it to false and apply, then destroy."),
            ));
        }
        d
    }

    /// A configured name whose instance was deleted less than a week ago is refused here, at
    /// plan time, rather than by the create after everything before it has been applied. One
    /// `operations.list?instance=NAME&maxResults=1` per planned create of a named instance;
    /// an API that answers it with an error or without the delete leaves the refusal to the
    /// create, which says the same.
    async fn check_create(&self, c: &GoogleProvider, planned: &Value) -> Vec<Diagnostic> {
        let (Some(name), Ok(project), Ok(cl)) = (attrs::string(planned, "name"), project_of(c, planned), c.client()) else { return Vec::new() };
        let path = format!("projects/{}/operations?instance={}&maxResults=1", enc(&project), enc(&name));
        let ops = match cl.api.call("operations.list", Method::Get, &path, None).await {
            Ok(j) => j.get("items").and_then(Json::as_array).cloned().unwrap_or_default(),
            Err(_) => return Vec::new(),
        };
        reserved_name(&name, &project, &ops, chrono::Utc::now()).into_iter().collect()
    }

    async fn create(&self, c: &GoogleProvider, planned: &Value, token: &str) -> Outcome<Value> {
        let cl = c.client()?;
        let project = project_of(c, planned)?;
        let name = attrs::string(planned, "name").unwrap_or_else(|| generated_name(token));
        let settings = first(planned, "settings").unwrap_or(Value::Null);
        let mut labels = labels(c, &settings);
        labels.insert(INTENT_LABEL.into(), token.to_ascii_lowercase());
        let mut body = json!({
            "name": name,
            "project": project,
            "databaseVersion": attrs::req_string(planned, "database_version")?,
            "settings": settings_json(&settings, &labels),
        });
        if let Some(r) = attrs::string(planned, "region") {
            body["region"] = json!(r);
        }
        if let Some(p) = attrs::string(planned, "root_password") {
            body["rootPassword"] = json!(p);
        }
        if let Some(m) = attrs::string(planned, "master_instance_name") {
            body["masterInstanceName"] = json!(m);
        }
        if let Some(t) = attrs::string(planned, "instance_type") {
            body["instanceType"] = json!(t);
        }
        if let Some(rc) = first(planned, "replica_configuration") {
            let mut m = JsonMap::new();
            put(&mut m, "failoverTarget", rc.get_attr("failover_target"));
            put(&mut m, "cascadableReplica", rc.get_attr("cascadable_replica"));
            body["replicaConfiguration"] = Json::Object(m);
        }
        let _guard = cl.api.lock(&project, &name).await;
        let op = match cl.api.call("instances.insert", Method::Post, &format!("projects/{}/instances", enc(&project)), Some(&body)).await {
            Ok(op) => op,
            Err(e) if e.error.status == 409 && e.error.reason != "operationInProgress" => {
                // Ours from an earlier attempt (the label says so): found by adopt and waited for.
                return match get(c, &project, &name).await? {
                    Some(j) if label_of(&j) == Some(&token.to_ascii_lowercase()) => Err(Errors(vec![e.diagnostic], Acted::Maybe)),
                    Some(_) => Err(Diagnostic::error(
                        "Instance name taken",
                        format!("an instance named {name} already exists in project {project} and was not made by this configuration; import it (infra import google_sql_database_instance.NAME {project}/{name}) or choose another name."),
                    )
                    .with_path(attrs::at("name"))
                    .into()),
                    None => Err(Diagnostic::error(
                        "Instance name reserved",
                        format!("Cloud SQL refused the name {name} in project {project} ({}); no instance of that name exists, so it was deleted recently: Cloud SQL keeps a deleted instance's name for about a week. Choose another name.", e.error.message.trim_end_matches('.')),
                    )
                    .with_path(attrs::at("name"))
                    .into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        if let Err(Errors(diagnostics, acted)) = cl.api.wait(&project, &op, &format!("create of instance {name}")).await {
            // A failed create may leave the instance (FAILED): record it, and report the
            // failure from converge, rather than leave it outside the state.
            match get(c, &project, &name).await {
                Ok(Some(_)) => {
                    c.create_errors.lock().unwrap_or_else(|p| p.into_inner()).insert(format!("{project}/{name}"), diagnostics);
                }
                _ => return Err(Errors(diagnostics, acted)),
            }
        }
        let mut v = with_id(planned, &name);
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), Value::string(&name));
            m.insert("project".into(), Value::string(&project));
        }
        Ok(v)
    }

    async fn converge(&self, c: &GoogleProvider, created: &Value, _planned: &Value) -> Outcome<()> {
        let key = format!("{}/{}", attrs::string(created, "project").unwrap_or_default(), attrs::string(created, "name").unwrap_or_default());
        let failed = c.create_errors.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        match failed {
            Some(d) => Err(d.into()),
            None => Ok(()),
        }
    }

    /// One instances.get for one object, else one instances.list per project and page.
    async fn read_many(&self, c: &GoogleProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let defaults = c.default_labels();
        if let [one] = objects {
            let project = project_of(c, one)?;
            let name = attrs::string(one, "name").or_else(|| attrs::string(one, "id")).unwrap_or_default();
            return Ok(vec![get(c, &project, &name).await?.map(|j| instance_value(&j, one, &defaults))]);
        }
        let mut by_project: BTreeMap<String, BTreeMap<String, Json>> = BTreeMap::new();
        for o in objects {
            let p = project_of(c, o)?;
            if !by_project.contains_key(&p) {
                let items = c.client()?.api.list("instances.list", &format!("projects/{}/instances", enc(&p))).await?.unwrap_or_default();
                by_project
                    .insert(p.clone(), items.into_iter().filter_map(|j| j.get("name").and_then(Json::as_str).map(str::to_string).map(|n| (n, j))).collect());
            }
        }
        objects
            .iter()
            .map(|o| {
                let p = project_of(c, o)?;
                let name = attrs::string(o, "name").unwrap_or_default();
                Ok(by_project.get(&p).and_then(|m| m.get(&name)).map(|j| instance_value(j, o, &defaults)))
            })
            .collect()
    }

    async fn update(&self, c: &GoogleProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let cl = c.client()?;
        let project = project_of(c, prior)?;
        let name = attrs::req_string(prior, "name")?;
        let _guard = cl.api.lock(&project, &name).await;
        // An adopted instance may still be creating; anything else running ends first.
        cl.api.wait_idle(&project, &name).await?;
        let (old_v, new_v) = (attrs::string(prior, "database_version"), attrs::req_string(planned, "database_version")?);
        let upgrade = old_v.as_deref() != Some(new_v.as_str());
        if upgrade {
            let op = cl.api.call("instances.patch", Method::Patch, &path(&project, &name), Some(&json!({"databaseVersion": new_v}))).await?;
            cl.api.wait(&project, &op, &format!("major version upgrade of instance {name} to {new_v}")).await?;
        }
        let (old_s, new_s) = (first(prior, "settings").unwrap_or(Value::Null), first(planned, "settings").unwrap_or(Value::Null));
        if !old_s.equals(&new_s) {
            let mut body = json!({"settings": settings_json(&new_s, &labels(c, &new_s))});
            // The version the change was planned from: Cloud SQL refuses the patch (412) if the
            // settings changed since, as terraform-provider-google sends it. (After this run's own
            // major version upgrade, which counts a version, it is left out.)
            if let Some(v) = attrs::int(&old_s, "version").filter(|_| !upgrade) {
                body["settings"]["settingsVersion"] = json!(v.to_string());
            }
            let op = cl.api.call("instances.patch", Method::Patch, &path(&project, &name), Some(&body)).await?;
            cl.api.wait(&project, &op, &format!("update of instance {name}")).await?;
        }
        let new_root = attrs::string(planned, "root_password");
        if new_root.is_some() && new_root != attrs::string(prior, "root_password") {
            let user = root_user(&new_v);
            let body = json!({"name": user, "password": new_root});
            let path = format!("{}/users?name={}", path(&project, &name), enc(user));
            let op = cl.api.call("users.update", Method::Put, &path, Some(&body)).await?;
            cl.api.wait(&project, &op, &format!("password change of user {user} in instance {name}")).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &GoogleProvider, prior: &Value) -> Outcome<()> {
        let d = self.check_delete(prior);
        if !d.is_empty() {
            return Err(d.into());
        }
        let cl = c.client()?;
        let project = project_of(c, prior)?;
        let name = attrs::req_string(prior, "name")?;
        let _guard = cl.api.lock(&project, &name).await;
        cl.api.wait_idle(&project, &name).await?;
        match cl.api.call("instances.delete", Method::Delete, &path(&project, &name), None).await {
            Ok(op) => {
                cl.api.wait(&project, &op, &format!("delete of instance {name}")).await?;
                Ok(())
            }
            Err(e) if e.error.not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        super::import_seed(id, None, "name")
    }

    /// The instance an interrupted create made: its name (configured, or planned from the
    /// token) carrying the token's label. Its create operation, if still running, is waited
    /// for here (polling only reads), so the run resumes on the same operation instead of
    /// creating a second instance.
    async fn adopt(&self, c: &GoogleProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let cl = c.client()?;
        let project = project_of(c, planned)?;
        let name = attrs::string(planned, "name").unwrap_or_else(|| generated_name(token));
        let Some(j) = get(c, &project, &name).await? else { return Ok(None) };
        if label_of(&j) != Some(&token.to_ascii_lowercase()) {
            return Ok(None);
        }
        cl.api.wait_idle(&project, &name).await?;
        let mut v = with_id(planned, &name);
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), Value::string(&name));
            m.insert("project".into(), Value::string(&project));
        }
        Ok(Some(v))
    }

    async fn discover(&self, c: &GoogleProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let project = match filter.get("project") {
            Some(p) => p.clone(),
            None => project_of(c, &Value::Null)?,
        };
        let items = c.client()?.api.list("instances.list", &format!("projects/{}/instances", enc(&project))).await?.unwrap_or_default();
        let known = Value::object([("deletion_protection", Value::Bool(true))]);
        Ok(items.iter().map(|j| instance_value(j, &known, &c.default_labels())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_upgrades_are_in_place_and_downgrades_are_not() {
        assert!(upgradable("POSTGRES_15", "POSTGRES_16"));
        assert!(upgradable("MYSQL_5_7", "MYSQL_8_0"));
        assert!(!upgradable("POSTGRES_16", "POSTGRES_15"));
        assert!(!upgradable("POSTGRES_16", "MYSQL_8_0"));
        assert!(!upgradable("SQLSERVER_2019_STANDARD", "SQLSERVER_2019_ENTERPRISE"));
    }

    #[test]
    fn a_generated_name_is_a_valid_name_stable_for_a_token() {
        let n = generated_name("3F2A9C1E-4B7D-4E2A-9F10-0123456789ab");
        assert_eq!(n, "infra-3f2a9c1e4b7d4e2a9f10");
        assert_eq!(n, generated_name("3F2A9C1E-4B7D-4E2A-9F10-0123456789ab"));
        assert!(DatabaseInstance.validate(&Value::object([("name", Value::string(n))])).is_empty());
        assert_eq!(DatabaseInstance.validate(&Value::object([("name", Value::string("Bad_Name"))])).len(), 1);
    }

    #[test]
    fn a_name_deleted_less_than_a_week_ago_is_reserved_and_says_until_when() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let op = |kind: &str, end: &str| json!({"name": "op-1", "operationType": kind, "status": "DONE", "endTime": end});
        let d = reserved_name("db", "p", &[op("DELETE", "2026-11-28T09:30:00.000Z")], now).expect("reserved");
        assert_eq!(
            d.detail,
            "An instance named db was deleted from project p at 2026-11-28 09:30 UTC (operation op-1). Cloud SQL keeps a deleted instance's name for about a week, so creating db would be refused until about 2026-12-05 09:30 UTC. Choose another name, or leave name out and infra generates one."
        );
        assert_eq!(d.attr_path, attrs::at("name"));
        // Older than a week, a newest operation that is not the delete, a failed delete, none.
        assert!(reserved_name("db", "p", &[op("DELETE", "2026-11-24T11:59:00Z")], now).is_none());
        assert!(reserved_name("db", "p", &[op("CREATE", "2026-11-30T09:30:00Z"), op("DELETE", "2026-11-29T09:30:00Z")], now).is_none());
        let mut failed = op("DELETE", "2026-11-30T09:30:00Z");
        failed["error"] = json!({"errors": [{"code": "X", "message": "y"}]});
        assert!(reserved_name("db", "p", &[failed], now).is_none());
        assert!(reserved_name("db", "p", &[], now).is_none());
    }

    #[test]
    fn deletion_protection_refuses_the_delete_at_plan_time() {
        let prior = Value::object([("name", Value::string("db")), ("deletion_protection", Value::Bool(true))]);
        let d = DatabaseInstance.check_delete(&prior);
        assert_eq!(d.len(), 1);
        assert!(d[0].detail.contains("before anything is deleted (its databases and users included)"), "{}", d[0].detail);
        assert!(DatabaseInstance.check_delete(&Value::object([("name", Value::string("db")), ("deletion_protection", Value::Bool(false))])).is_empty());
    }

    #[test]
    fn settings_go_to_the_api_and_come_back_the_same() {
        let settings = Value::object([
            ("tier", Value::string("db-custom-2-7680")),
            ("availability_type", Value::string("REGIONAL")),
            ("disk_size", Value::int(20)),
            ("user_labels", Value::Map([("app".to_string(), Value::string("ems"))].into_iter().collect())),
            ("database_flags", Value::List(vec![Value::object([("name", Value::string("max_connections")), ("value", Value::string("100"))])])),
            (
                "backup_configuration",
                Value::List(vec![Value::object([
                    ("enabled", Value::Bool(true)),
                    ("start_time", Value::string("03:00")),
                    ("point_in_time_recovery_enabled", Value::Bool(true)),
                    ("transaction_log_retention_days", Value::int(7)),
                    ("backup_retention_settings", Value::List(Vec::new())),
                ])]),
            ),
            (
                "ip_configuration",
                Value::List(vec![Value::object([
                    ("ipv4_enabled", Value::Bool(true)),
                    ("ssl_mode", Value::string("ENCRYPTED_ONLY")),
                    ("authorized_networks", Value::set(vec![Value::object([("name", Value::string("vps")), ("value", Value::string("203.0.113.7/32"))])])),
                ])]),
            ),
        ]);
        let mut labels = BTreeMap::new();
        labels.insert("app".to_string(), "ems".to_string());
        labels.insert("team".to_string(), "ops".to_string());
        labels.insert(INTENT_LABEL.to_string(), "tok".to_string());
        let j = settings_json(&settings, &labels);
        assert_eq!(j["dataDiskSizeGb"], json!("20"));
        assert_eq!(j["backupConfiguration"]["startTime"], json!("03:00"));
        assert_eq!(j["ipConfiguration"]["authorizedNetworks"][0]["value"], json!("203.0.113.7/32"));
        let defaults: BTreeMap<String, String> = [("team".to_string(), "ops".to_string())].into_iter().collect();
        let back = settings_value(&j, Some(&settings), &defaults);
        assert_eq!(back.get_attr("user_labels").and_then(Value::as_map).map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["app".to_string()]));
        assert_eq!(first(&back, "backup_configuration").and_then(|b| attrs::int(&b, "transaction_log_retention_days")), Some(7));
        assert_eq!(first(&back, "ip_configuration").and_then(|b| attrs::string(&b, "ssl_mode")).as_deref(), Some("ENCRYPTED_ONLY"));
        assert!(back.get_attr("maintenance_window").and_then(Value::as_seq).is_some_and(<[Value]>::is_empty));
    }
}
