//! `aws_elasticache_replication_group`: `DescribeReplicationGroups` by id for one object, one
//! paged listing for many; what only the member clusters report (engine version, parameter
//! group, subnet group, security groups, maintenance window, port) from one paged
//! `DescribeCacheClusters` of the first member of each group, falling back to what was recorded
//! when the API does not list them. A group AWS reports as `deleting` is gone, as in
//! terraform-provider-aws. Node type, failover, Multi-AZ, snapshots, windows, parameter and
//! security groups, engine version and description change in place (`ModifyReplicationGroup`,
//! applied at once when `apply_immediately`), the number of cache clusters through
//! `IncreaseReplicaCount` / `DecreaseReplicaCount`.

use super::*;
use crate::AwsProvider;
use aws_sdk_elasticache::types::{
    CacheCluster, CloudWatchLogsDestinationDetails, ClusterMode, DestinationDetails, DestinationType, IpDiscovery, KinesisFirehoseDestinationDetails,
    LogDeliveryConfigurationRequest, LogFormat, LogType, NetworkType, ReplicationGroup as Group, TransitEncryptionMode,
};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct ReplicationGroup;

/// Replication groups among `ids` (every one when empty), without those being deleted.
async fn describe(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, Group>, Diagnostic> {
    describe_named!(
        c,
        ids,
        describe_replication_groups,
        replication_group_id,
        replication_groups,
        replication_group_id,
        "DescribeReplicationGroups",
        |g: &Group| g.status() != Some("deleting")
    )
}

/// The cache clusters among `ids`, from one paged listing.
async fn describe_clusters(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, CacheCluster>, Diagnostic> {
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut pages = c.elasticache.describe_cache_clusters().max_records(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        for cl in page.map_err(|e| api_error("DescribeCacheClusters", &e))?.cache_clusters() {
            if let Some(id) = cl.cache_cluster_id().filter(|id| ids.iter().any(|x| x == id)) {
                out.insert(id.to_string(), cl.clone());
            }
        }
    }
    Ok(out)
}

fn bool_text(b: Option<bool>) -> Value {
    b.map(|b| Value::string(if b { "true" } else { "false" })).unwrap_or(Value::Null)
}

fn prior_or(prior: Option<&Value>, k: &str, v: Value) -> Value {
    if v.is_null() {
        prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null)
    } else {
        v
    }
}

fn log_value(g: &Group) -> Value {
    Value::set(
        g.log_delivery_configurations()
            .iter()
            .map(|l| {
                let d = l.destination_details();
                let dest = d.and_then(|d| {
                    d.cloud_watch_logs_details().and_then(|x| x.log_group()).or_else(|| d.kinesis_firehose_details().and_then(|x| x.delivery_stream()))
                });
                Value::object([
                    ("destination", opt_string(dest)),
                    ("destination_type", opt_string(l.destination_type().map(|t| t.as_str()))),
                    ("log_format", opt_string(l.log_format().map(|t| t.as_str()))),
                    ("log_type", opt_string(l.log_type().map(|t| t.as_str()))),
                ])
            })
            .collect(),
    )
}

fn group_value(c: &Clients, g: &Group, cl: Option<&CacheCluster>, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let id = g.replication_group_id().unwrap_or_default();
    let cluster_enabled = g.cluster_enabled().unwrap_or(false);
    let first = g.node_groups().first();
    let primary = first.and_then(|n| n.primary_endpoint());
    let port = g.configuration_endpoint().or(primary).and_then(|e| e.port());
    // An unset port is AWS's default: it stays unset, as terraform-provider-aws suppresses it.
    let port = match prior.and_then(|p| p.get_attr("port")) {
        Some(Value::Null) if port.is_some_and(|p| p == 6379 || p == 11211) => Value::Null,
        _ => opt_int(port),
    };
    let enabled = |s: Option<&str>| s.map(|s| Value::Bool(s == "enabled" || s == "enabling")).unwrap_or(Value::Bool(false));
    let members: Vec<&str> = g.member_clusters().iter().map(String::as_str).collect();
    let p = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    Value::object([
        ("id", Value::string(id)),
        ("replication_group_id", Value::string(id)),
        ("arn", opt_string(g.arn())),
        ("description", opt_string(g.description())),
        ("apply_immediately", or_if_null(p("apply_immediately"), Value::Bool(false))),
        ("at_rest_encryption_enabled", bool_text(Some(g.at_rest_encryption_enabled().unwrap_or(false)))),
        ("auth_token", p("auth_token")),
        ("auth_token_update_strategy", p("auth_token_update_strategy")),
        ("auto_minor_version_upgrade", bool_text(g.auto_minor_version_upgrade().or_else(|| cl.and_then(|c| c.auto_minor_version_upgrade())).or(Some(true)))),
        ("automatic_failover_enabled", enabled(g.automatic_failover().map(|a| a.as_str()))),
        ("cluster_enabled", Value::Bool(cluster_enabled)),
        ("cluster_mode", prior_or(prior, "cluster_mode", opt_string(g.cluster_mode().map(|m| m.as_str())))),
        ("configuration_endpoint_address", opt_string(g.configuration_endpoint().and_then(|e| e.address()))),
        ("data_tiering_enabled", enabled(g.data_tiering().map(|d| d.as_str()))),
        ("engine", opt_string(g.engine().or_else(|| cl.and_then(|c| c.engine()))).or_if_null_with(p("engine"))),
        ("engine_version", engine_version(prior, cl.and_then(|c| c.engine_version()))),
        ("engine_version_actual", prior_or(prior, "engine_version_actual", opt_string(cl.and_then(|c| c.engine_version())))),
        ("final_snapshot_identifier", p("final_snapshot_identifier")),
        ("global_replication_group_id", opt_string(g.global_replication_group_info().and_then(|i| i.global_replication_group_id()))),
        ("ip_discovery", opt_string(g.ip_discovery().map(|i| i.as_str()))),
        ("kms_key_id", opt_string(g.kms_key_id())),
        ("log_delivery_configuration", log_value(g)),
        ("maintenance_window", prior_or(prior, "maintenance_window", opt_string(cl.and_then(|c| c.preferred_maintenance_window())))),
        ("member_clusters", string_set(members.iter().copied())),
        ("multi_az_enabled", enabled(g.multi_az().map(|m| m.as_str()))),
        ("network_type", opt_string(g.network_type().map(|n| n.as_str()))),
        ("node_type", opt_string(g.cache_node_type())),
        (
            "notification_topic_arn",
            cl.and_then(|c| c.notification_configuration()).and_then(|n| n.topic_arn()).map(Value::string).unwrap_or_else(|| p("notification_topic_arn")),
        ),
        ("num_cache_clusters", Value::int(members.len() as i64)),
        ("num_node_groups", Value::int(g.node_groups().len() as i64)),
        (
            "parameter_group_name",
            prior_or(prior, "parameter_group_name", opt_string(cl.and_then(|c| c.cache_parameter_group()).and_then(|p| p.cache_parameter_group_name()))),
        ),
        ("port", port),
        ("preferred_cache_cluster_azs", p("preferred_cache_cluster_azs")),
        ("primary_endpoint_address", opt_string(primary.and_then(|e| e.address()).filter(|_| !cluster_enabled))),
        ("reader_endpoint_address", opt_string(first.and_then(|n| n.reader_endpoint()).and_then(|e| e.address()).filter(|_| !cluster_enabled))),
        (
            "replicas_per_node_group",
            Value::int(first.map(|n| n.node_group_members().len().saturating_sub(1)).unwrap_or(members.len().saturating_sub(1)) as i64),
        ),
        (
            "security_group_ids",
            cl.map(|c| string_set(c.security_groups().iter().filter_map(|s| s.security_group_id()))).unwrap_or_else(|| p("security_group_ids")),
        ),
        (
            "security_group_names",
            cl.map(|c| string_set(c.cache_security_groups().iter().filter_map(|s| s.cache_security_group_name()))).unwrap_or_else(|| p("security_group_names")),
        ),
        ("snapshot_arns", p("snapshot_arns")),
        ("snapshot_name", p("snapshot_name")),
        ("snapshot_retention_limit", opt_int(g.snapshot_retention_limit())),
        ("snapshot_window", opt_string(g.snapshot_window())),
        ("subnet_group_name", prior_or(prior, "subnet_group_name", opt_string(cl.and_then(|c| c.cache_subnet_group_name())))),
        ("transit_encryption_enabled", Value::Bool(g.transit_encryption_enabled().unwrap_or(false))),
        ("transit_encryption_mode", opt_string(g.transit_encryption_mode().map(|m| m.as_str()))),
        ("user_group_ids", if g.user_group_ids().is_empty() { p("user_group_ids") } else { string_set(g.user_group_ids().iter().cloned()) }),
        tags,
        tags_all,
    ])
}

/// The engine version as configured when the running one is within it (`7.1` runs as `7.1.0`,
/// `7.x` as any 7), as terraform-provider-aws compares them; else the running one.
fn engine_version(prior: Option<&Value>, actual: Option<&str>) -> Value {
    let configured = prior.and_then(|p| p.get_attr("engine_version")).and_then(Value::as_str);
    match (configured, actual) {
        (Some(c), Some(a)) if a == c || a.starts_with(&format!("{}.", c.trim_end_matches(".x"))) => Value::string(c),
        (_, Some(a)) => Value::string(a),
        (Some(c), None) => Value::string(c),
        (None, None) => Value::Null,
    }
}

trait OrIfNull {
    fn or_if_null_with(self, other: Value) -> Value;
}

impl OrIfNull for Value {
    fn or_if_null_with(self, other: Value) -> Value {
        or_if_null(self, other)
    }
}

fn logs_of(p: &Value) -> Vec<LogDeliveryConfigurationRequest> {
    p.get_attr("log_delivery_configuration")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            let dest = attrs::string(l, "destination");
            let ty = attrs::string(l, "destination_type").unwrap_or_default();
            let details = if ty == "kinesis-firehose" {
                DestinationDetails::builder().kinesis_firehose_details(KinesisFirehoseDestinationDetails::builder().set_delivery_stream(dest).build()).build()
            } else {
                DestinationDetails::builder().cloud_watch_logs_details(CloudWatchLogsDestinationDetails::builder().set_log_group(dest).build()).build()
            };
            LogDeliveryConfigurationRequest::builder()
                .destination_type(DestinationType::from(ty.as_str()))
                .destination_details(details)
                .set_log_format(attrs::string(l, "log_format").map(|f| LogFormat::from(f.as_str())))
                .set_log_type(attrs::string(l, "log_type").map(|f| LogType::from(f.as_str())))
                .enabled(true)
                .build()
        })
        .collect()
}

fn text_bool(p: &Value, k: &str) -> Option<bool> {
    attrs::string(p, k).and_then(|s| s.parse().ok()).or_else(|| attrs::bool(p, k))
}

fn int32(p: &Value, k: &str) -> Option<i32> {
    attrs::int(p, k).and_then(|n| i32::try_from(n).ok())
}

/// Waits until the group is `available` (a create, or a modification applied at once).
async fn wait_available(c: &Clients, id: &str, limit: Duration) -> Result<(), Diagnostic> {
    let ids = [id.to_string()];
    wait_for(&format!("replication group {id} becoming available"), limit, Duration::from_secs(5), || async {
        match describe(c, &ids).await?.get(id).and_then(|g| g.status().map(str::to_string)).as_deref() {
            Some("available") => Ok(Some(())),
            Some("create-failed") => Err(Diagnostic::error("Creation failed", format!("replication group {id} reached state create-failed."))),
            _ => Ok(None),
        }
    })
    .await
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for ReplicationGroup {
    fn name(&self) -> &'static str {
        "aws_elasticache_replication_group"
    }

    fn schema(&self) -> Schema {
        let (o, oc, s) = (AttrSchema::optional, AttrSchema::optional_computed, AttrSchema::computed);
        let strings = || Type::Set(Box::new(Type::String));
        let map = || Type::Map(Box::new(Type::String));
        let logs = Schema::new()
            .attr("destination", AttrSchema::required(Type::String))
            .attr("destination_type", AttrSchema::required(Type::String))
            .attr("log_format", AttrSchema::required(Type::String))
            .attr("log_type", AttrSchema::required(Type::String));
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("replication_group_id", AttrSchema::required(Type::String).force_new())
            .attr("description", AttrSchema::required(Type::String))
            .attr("apply_immediately", oc(Type::Bool))
            .attr("at_rest_encryption_enabled", oc(Type::String).force_new())
            .attr("auth_token", o(Type::String).sensitive())
            .attr("auth_token_update_strategy", o(Type::String))
            .attr("auto_minor_version_upgrade", oc(Type::String))
            .attr("automatic_failover_enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("cluster_enabled", s(Type::Bool))
            .attr("cluster_mode", oc(Type::String))
            .attr("configuration_endpoint_address", s(Type::String))
            .attr("data_tiering_enabled", oc(Type::Bool).force_new())
            .attr("engine", AttrSchema::optional(Type::String).force_new().default(Value::string("redis")))
            .attr("engine_version", oc(Type::String))
            .attr("engine_version_actual", s(Type::String))
            .attr("final_snapshot_identifier", o(Type::String))
            .attr("global_replication_group_id", oc(Type::String).force_new())
            .attr("ip_discovery", oc(Type::String))
            .attr("kms_key_id", o(Type::String).force_new())
            .attr("maintenance_window", oc(Type::String))
            .attr("member_clusters", s(strings()))
            .attr("multi_az_enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("network_type", oc(Type::String).force_new())
            .attr("node_type", oc(Type::String))
            .attr("notification_topic_arn", o(Type::String))
            .attr("num_cache_clusters", oc(Type::Number))
            .attr("num_node_groups", oc(Type::Number))
            .attr("parameter_group_name", oc(Type::String))
            .attr("port", o(Type::Number).force_new())
            .attr("preferred_cache_cluster_azs", o(Type::List(Box::new(Type::String))))
            .attr("primary_endpoint_address", s(Type::String))
            .attr("reader_endpoint_address", s(Type::String))
            .attr("replicas_per_node_group", oc(Type::Number))
            .attr("security_group_ids", oc(strings()))
            .attr("security_group_names", oc(strings()).force_new())
            .attr("snapshot_arns", o(strings()).force_new())
            .attr("snapshot_name", o(Type::String).force_new())
            .attr("snapshot_retention_limit", AttrSchema::optional(Type::Number).default(Value::int(0)))
            .attr("snapshot_window", oc(Type::String))
            .attr("subnet_group_name", oc(Type::String).force_new())
            .attr("transit_encryption_enabled", oc(Type::Bool))
            .attr("transit_encryption_mode", oc(Type::String))
            .attr("user_group_ids", o(strings()))
            .attr("tags", o(map()))
            .attr("tags_all", s(map()))
            .block("log_delivery_configuration", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: 2, force_new: false, schema: logs })
            .block("timeouts", timeouts_block(&["create", "delete", "update"]))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_timeouts(config);
        out.extend(conflicting(config, "num_cache_clusters", "num_node_groups", Some("the first sizes a group without cluster mode, the second one with it")));
        if attrs::bool(config, "automatic_failover_enabled") == Some(true) && attrs::int(config, "num_cache_clusters").is_some_and(|n| n < 2) {
            out.push(
                Diagnostic::error("Too few cache clusters", "automatic_failover_enabled needs num_cache_clusters of 2 or more: a replica to fail over to.")
                    .with_path(attrs::at("num_cache_clusters")),
            );
        }
        if attrs::bool(config, "multi_az_enabled") == Some(true) && attrs::bool(config, "automatic_failover_enabled") != Some(true) {
            out.push(
                Diagnostic::error("Multi-AZ needs automatic failover", "multi_az_enabled needs automatic_failover_enabled = true.")
                    .with_path(attrs::at("multi_az_enabled")),
            );
        }
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        // An unset port that AWS filled with its default stays as recorded (an import records
        // it), as terraform-provider-aws suppresses that difference.
        let mut config = config.clone();
        let recorded_port = prior.and_then(|p| p.get_attr("port")).filter(|p| p.as_i64().is_some_and(|p| p == 6379 || p == 11211)).cloned();
        if let (Value::Object(m), Some(port)) = (&mut config, recorded_port) {
            if m.get("port").is_none_or(Value::is_null) {
                m.insert("port".into(), port);
            }
        }
        let config = &config;
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            if prior.is_none() {
                m.insert("id".into(), config.get_attr("replication_group_id").cloned().unwrap_or(Value::Unknown));
            }
            // Without cluster mode the group has one node group; num_cache_clusters sizes it.
            if let Some(n) = config.get_attr("num_cache_clusters").and_then(Value::as_i64) {
                m.insert("replicas_per_node_group".into(), Value::int(n - 1));
                m.insert("num_node_groups".into(), Value::int(1));
                if prior.and_then(|p| p.get_attr("num_cache_clusters")).and_then(Value::as_i64) != Some(n) {
                    m.insert("member_clusters".into(), Value::Unknown);
                }
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let id = attrs::req_string(p, "replication_group_id")?;
        let strings = |k: &str| Some(attrs::strings(p, k)).filter(|v| !v.is_empty());
        // One node group of `num_cache_clusters` is asked for in AWS's equivalent form, one node
        // group with `num_cache_clusters - 1` replicas (moto 5.2.5 ignores NumCacheClusters
        // and makes a single node); with preferred_cache_cluster_azs, which go with
        // NumCacheClusters, as terraform-provider-aws sends it.
        let clusters = int32(p, "num_cache_clusters");
        let azs = !attrs::strings(p, "preferred_cache_cluster_azs").is_empty();
        c.clients()?
            .once
            .elasticache
            .create_replication_group()
            .replication_group_id(&id)
            .replication_group_description(attrs::req_string(p, "description")?)
            .set_engine(attrs::string(p, "engine"))
            .set_engine_version(attrs::string(p, "engine_version"))
            .set_cache_node_type(attrs::string(p, "node_type"))
            .set_num_cache_clusters(clusters.filter(|_| azs))
            .set_num_node_groups(int32(p, "num_node_groups").or(clusters.filter(|_| !azs).map(|_| 1)))
            .set_replicas_per_node_group(match clusters {
                Some(n) if !azs => Some(n - 1),
                Some(_) => None,
                None => int32(p, "replicas_per_node_group"),
            })
            .set_automatic_failover_enabled(attrs::bool(p, "automatic_failover_enabled"))
            .set_multi_az_enabled(attrs::bool(p, "multi_az_enabled"))
            .set_cache_parameter_group_name(attrs::string(p, "parameter_group_name"))
            .set_cache_subnet_group_name(attrs::string(p, "subnet_group_name"))
            .set_security_group_ids(strings("security_group_ids"))
            .set_cache_security_group_names(strings("security_group_names"))
            .set_preferred_cache_cluster_azs(strings("preferred_cache_cluster_azs"))
            .set_port(int32(p, "port"))
            .set_preferred_maintenance_window(attrs::string(p, "maintenance_window"))
            .set_notification_topic_arn(attrs::string(p, "notification_topic_arn"))
            .set_auto_minor_version_upgrade(text_bool(p, "auto_minor_version_upgrade"))
            .set_snapshot_retention_limit(int32(p, "snapshot_retention_limit"))
            .set_snapshot_window(attrs::string(p, "snapshot_window"))
            .set_snapshot_arns(strings("snapshot_arns"))
            .set_snapshot_name(attrs::string(p, "snapshot_name"))
            .set_auth_token(attrs::string(p, "auth_token"))
            .set_transit_encryption_enabled(attrs::bool(p, "transit_encryption_enabled"))
            .set_transit_encryption_mode(attrs::string(p, "transit_encryption_mode").map(|m| TransitEncryptionMode::from(m.as_str())))
            .set_at_rest_encryption_enabled(text_bool(p, "at_rest_encryption_enabled"))
            .set_kms_key_id(attrs::string(p, "kms_key_id"))
            .set_user_group_ids(strings("user_group_ids"))
            .set_data_tiering_enabled(attrs::bool(p, "data_tiering_enabled"))
            .set_network_type(attrs::string(p, "network_type").map(|n| NetworkType::from(n.as_str())))
            .set_ip_discovery(attrs::string(p, "ip_discovery").map(|n| IpDiscovery::from(n.as_str())))
            .set_cluster_mode(attrs::string(p, "cluster_mode").map(|n| ClusterMode::from(n.as_str())))
            .set_global_replication_group_id(attrs::string(p, "global_replication_group_id"))
            .set_log_delivery_configurations(Some(logs_of(p)).filter(|l| !l.is_empty()))
            .set_tags(Some(ec_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateReplicationGroup", &e))?;
        Ok(with_id(p, &id))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let id = attrs::req_string(created, "id")?;
        Ok(wait_available(c.clients()?, &id, timeout(planned, "create", Duration::from_secs(60 * 60))).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe(c, &ids).await?;
        let firsts: Vec<String> = found.values().filter_map(|g| g.member_clusters().first().cloned()).collect();
        let clusters = describe_clusters(c, &firsts).await?;
        let arns: Vec<String> = found.values().filter_map(|g| g.arn().map(str::to_string)).collect();
        let tags = tags_by_arn(c, objects, &arns, full).await?;
        let none = BTreeMap::new();
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, p)| {
                found.get(id).map(|g| {
                    let cl = g.member_clusters().first().and_then(|m| clusters.get(m));
                    group_value(c, g, cl, g.arn().and_then(|a| tags.get(a)).unwrap_or(&none), Some(p))
                })
            })
            .collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("port", Value::Unknown)]))
    }

    // One paged DescribeReplicationGroups (a group has no VPC of its own: every one in the
    // region).
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe(c.clients()?, &[]).await?;
        Ok(found.keys().map(|n| crate::discover::discovered(n, Some(n), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        let now = attrs::bool(p, "apply_immediately").unwrap_or(false);
        let limit = timeout(p, "update", Duration::from_secs(40 * 60));
        let modifiable = [
            "description",
            "node_type",
            "automatic_failover_enabled",
            "multi_az_enabled",
            "snapshot_retention_limit",
            "snapshot_window",
            "maintenance_window",
            "parameter_group_name",
            "security_group_ids",
            "engine_version",
            "notification_topic_arn",
            "auto_minor_version_upgrade",
            "user_group_ids",
            "auth_token",
            "log_delivery_configuration",
            "transit_encryption_enabled",
            "transit_encryption_mode",
            "ip_discovery",
            "cluster_mode",
        ];
        if modifiable.iter().any(|k| changed(k)) {
            let when = |k: &str| changed(k).then_some(());
            let old_users = attrs::strings(prior, "user_group_ids");
            let new_users = attrs::strings(p, "user_group_ids");
            let mut req = c
                .elasticache
                .modify_replication_group()
                .replication_group_id(&id)
                .apply_immediately(now)
                .set_replication_group_description(when("description").and(attrs::string(p, "description")))
                .set_cache_node_type(when("node_type").and(attrs::string(p, "node_type")))
                .set_automatic_failover_enabled(when("automatic_failover_enabled").and(attrs::bool(p, "automatic_failover_enabled")))
                .set_multi_az_enabled(when("multi_az_enabled").and(attrs::bool(p, "multi_az_enabled")))
                .set_snapshot_retention_limit(when("snapshot_retention_limit").map(|_| int32(p, "snapshot_retention_limit").unwrap_or(0)))
                .set_snapshot_window(when("snapshot_window").and(attrs::string(p, "snapshot_window")))
                .set_preferred_maintenance_window(when("maintenance_window").and(attrs::string(p, "maintenance_window")))
                .set_cache_parameter_group_name(when("parameter_group_name").and(attrs::string(p, "parameter_group_name")))
                .set_security_group_ids(when("security_group_ids").map(|_| attrs::strings(p, "security_group_ids")))
                .set_engine_version(when("engine_version").and(attrs::string(p, "engine_version")))
                .set_notification_topic_arn(when("notification_topic_arn").and(attrs::string(p, "notification_topic_arn")))
                .set_auto_minor_version_upgrade(when("auto_minor_version_upgrade").and(text_bool(p, "auto_minor_version_upgrade")))
                .set_transit_encryption_enabled(when("transit_encryption_enabled").and(attrs::bool(p, "transit_encryption_enabled")))
                .set_transit_encryption_mode(
                    when("transit_encryption_mode").and(attrs::string(p, "transit_encryption_mode")).map(|m| TransitEncryptionMode::from(m.as_str())),
                )
                .set_ip_discovery(when("ip_discovery").and(attrs::string(p, "ip_discovery")).map(|m| IpDiscovery::from(m.as_str())))
                .set_cluster_mode(when("cluster_mode").and(attrs::string(p, "cluster_mode")).map(|m| ClusterMode::from(m.as_str())))
                .set_log_delivery_configurations(when("log_delivery_configuration").map(|_| logs_of(p)));
            if changed("user_group_ids") {
                req = req
                    .set_user_group_ids_to_add(Some(new_users.iter().filter(|u| !old_users.contains(u)).cloned().collect()))
                    .set_user_group_ids_to_remove(Some(old_users.iter().filter(|u| !new_users.contains(u)).cloned().collect()));
            }
            if changed("auth_token") {
                req = req.set_auth_token(attrs::string(p, "auth_token")).set_auth_token_update_strategy(
                    attrs::string(p, "auth_token_update_strategy").map(|s| aws_sdk_elasticache::types::AuthTokenUpdateStrategyType::from(s.as_str())),
                );
            }
            req.send().await.map_err(|e| api_error("ModifyReplicationGroup", &e))?;
            wait_available(c, &id, limit).await?;
        }
        if changed("num_cache_clusters") {
            let (old, new) = (attrs::int(prior, "num_cache_clusters").unwrap_or(0), attrs::int(p, "num_cache_clusters").unwrap_or(0));
            let replicas = i32::try_from(new - 1).unwrap_or(0);
            if new > old {
                c.elasticache
                    .increase_replica_count()
                    .replication_group_id(&id)
                    .apply_immediately(true)
                    .new_replica_count(replicas)
                    .send()
                    .await
                    .map_err(|e| api_error("IncreaseReplicaCount", &e))?;
            } else {
                c.elasticache
                    .decrease_replica_count()
                    .replication_group_id(&id)
                    .apply_immediately(true)
                    .new_replica_count(replicas)
                    .send()
                    .await
                    .map_err(|e| api_error("DecreaseReplicaCount", &e))?;
            }
            wait_available(c, &id, limit).await?;
        }
        update_tags(c, &attrs::req_string(prior, "arn")?, prior, p).await?;
        Ok(())
    }

    /// Waits until AWS reports the group as deleting (or gone): the read treats it as gone from
    /// then on, and the subnet group's delete waits for the clusters still in it.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        let limit = timeout(prior, "delete", Duration::from_secs(45 * 60));
        wait_for(&format!("replication group {id} being deletable"), limit, Duration::from_secs(5), || async {
            match c
                .elasticache
                .delete_replication_group()
                .replication_group_id(&id)
                .set_final_snapshot_identifier(attrs::string(prior, "final_snapshot_identifier"))
                .send()
                .await
            {
                Ok(_) => Ok(Some(())),
                Err(e) if gone(code_of(&e)) => Ok(Some(())),
                Err(e) if code_of(&e).as_deref() == Some("InvalidReplicationGroupState") => Ok(None),
                Err(e) => Err(api_error("DeleteReplicationGroup", &e)),
            }
        })
        .await?;
        let ids = [id.clone()];
        wait_for(&format!("replication group {id} going away"), limit, Duration::from_secs(5), || async {
            Ok(describe(c, &ids).await?.is_empty().then_some(()))
        })
        .await?;
        Ok(())
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let id = attrs::req_string(planned, "replication_group_id")?;
        let Some(arn) = describe(c, std::slice::from_ref(&id)).await?.get(&id).and_then(|g| g.arn()).map(str::to_string) else { return Ok(None) };
        Ok((tags_of(c.clone(), arn).await?.get(INTENT_TAG).map(String::as_str) == Some(token)).then(|| with_id(planned, &id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, &attrs::req_string(state, "arn")?).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_engine_version_stands_for_the_patch_release_that_runs() {
        let prior = |v: &str| Value::object([("engine_version", Value::string(v))]);
        assert_eq!(engine_version(Some(&prior("7.1")), Some("7.1.0")).as_str(), Some("7.1"));
        assert_eq!(engine_version(Some(&prior("7.x")), Some("7.1.0")).as_str(), Some("7.x"));
        assert_eq!(engine_version(Some(&prior("6.2")), Some("7.1.0")).as_str(), Some("7.1.0"), "an upgrade made elsewhere shows");
        assert_eq!(engine_version(None, Some("7.1.0")).as_str(), Some("7.1.0"));
        assert_eq!(engine_version(Some(&prior("7.1")), None).as_str(), Some("7.1"));
    }
}
