//! `aws_ecs_cluster`: one `DescribeClusters` per 100 clusters (tags and settings included).
//! Its id is its ARN.

use super::*;
use crate::AwsProvider;
use aws_sdk_ecs::types::{
    ClusterConfiguration, ClusterField, ClusterServiceConnectDefaultsRequest, ClusterSetting, ClusterSettingName, ExecuteCommandConfiguration,
    ExecuteCommandLogConfiguration, ExecuteCommandLogging, ManagedStorageConfiguration,
};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct Cluster;

/// Clusters among `ids` (ARNs or names), keyed by what was asked; INACTIVE ones are gone.
async fn describe_clusters(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, aws_sdk_ecs::types::Cluster>, Diagnostic> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let resp = c
            .ecs
            .describe_clusters()
            .set_clusters(Some(chunk.to_vec()))
            .include(ClusterField::Tags)
            .include(ClusterField::Settings)
            .send()
            .await
            .map_err(|e| api_error("DescribeClusters", &e))?;
        for cl in resp.clusters().iter().filter(|cl| cl.status() != Some("INACTIVE")) {
            if let Some(key) = chunk.iter().find(|k| Some(k.as_str()) == cl.cluster_arn() || Some(k.as_str()) == cl.cluster_name()) {
                out.insert(key.clone(), cl.clone());
            }
        }
    }
    Ok(out)
}

fn cluster_value(c: &Clients, cl: &aws_sdk_ecs::types::Cluster, prior: Option<&Value>) -> Value {
    let arn = cl.cluster_arn().unwrap_or_default();
    let all = tag_map(cl.tags());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    // AWS lists containerInsights even when nobody set it; "disabled" is its default.
    let configured: Vec<String> =
        prior.and_then(|p| p.get_attr("setting")).and_then(Value::as_seq).unwrap_or(&[]).iter().filter_map(|s| attrs::string(s, "name")).collect();
    let settings = cl
        .settings()
        .iter()
        .filter_map(|s| Some((s.name()?.as_str().to_string(), s.value()?.to_string())))
        .filter(|(n, v)| v != "disabled" || configured.contains(n))
        .map(|(n, v)| Value::object([("name", Value::string(n)), ("value", Value::string(v))]))
        .collect();
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("name", opt_string(cl.cluster_name())),
        ("setting", Value::set(settings)),
        ("configuration", configuration_value(cl.configuration(), prior)),
        (
            "service_connect_defaults",
            Value::List(
                cl.service_connect_defaults().and_then(|d| d.namespace()).map(|n| Value::object([("namespace", Value::string(n))])).into_iter().collect(),
            ),
        ),
        tags,
        tags_all,
    ])
}

fn list(v: Option<Value>) -> Value {
    Value::List(v.into_iter().collect())
}

/// `configuration` as read: when configured or AWS reports one.
fn configuration_value(cfg: Option<&ClusterConfiguration>, prior: Option<&Value>) -> Value {
    let configured = prior.and_then(|p| single_block(p, "configuration")).is_some();
    let Some(cfg) = cfg.filter(|c| configured || c.execute_command_configuration().is_some() || c.managed_storage_configuration().is_some()) else {
        return Value::List(Vec::new());
    };
    let exec = cfg.execute_command_configuration().map(|e| {
        let logs = e.log_configuration().map(|l| {
            Value::object([
                ("cloud_watch_encryption_enabled", Value::Bool(l.cloud_watch_encryption_enabled())),
                ("cloud_watch_log_group_name", opt_string(l.cloud_watch_log_group_name())),
                ("s3_bucket_encryption_enabled", Value::Bool(l.s3_encryption_enabled())),
                ("s3_bucket_name", opt_string(l.s3_bucket_name())),
                ("s3_key_prefix", opt_string(l.s3_key_prefix())),
            ])
        });
        Value::object([("kms_key_id", opt_string(e.kms_key_id())), ("logging", opt_string(e.logging().map(|l| l.as_str()))), ("log_configuration", list(logs))])
    });
    let storage = cfg.managed_storage_configuration().map(|m| {
        Value::object([
            ("fargate_ephemeral_storage_kms_key_id", opt_string(m.fargate_ephemeral_storage_kms_key_id())),
            ("kms_key_id", opt_string(m.kms_key_id())),
        ])
    });
    list(Some(Value::object([("execute_command_configuration", list(exec)), ("managed_storage_configuration", list(storage))])))
}

fn configuration_of(p: &Value) -> Option<ClusterConfiguration> {
    let cfg = single_block(p, "configuration")?;
    let exec = single_block(&cfg, "execute_command_configuration").map(|e| {
        let logs = single_block(&e, "log_configuration").map(|l| {
            ExecuteCommandLogConfiguration::builder()
                .set_cloud_watch_encryption_enabled(attrs::bool(&l, "cloud_watch_encryption_enabled"))
                .set_cloud_watch_log_group_name(attrs::string(&l, "cloud_watch_log_group_name"))
                .set_s3_encryption_enabled(attrs::bool(&l, "s3_bucket_encryption_enabled"))
                .set_s3_bucket_name(attrs::string(&l, "s3_bucket_name"))
                .set_s3_key_prefix(attrs::string(&l, "s3_key_prefix"))
                .build()
        });
        ExecuteCommandConfiguration::builder()
            .set_kms_key_id(attrs::string(&e, "kms_key_id"))
            .set_logging(attrs::string(&e, "logging").map(|l| ExecuteCommandLogging::from(l.as_str())))
            .set_log_configuration(logs)
            .build()
    });
    let storage = single_block(&cfg, "managed_storage_configuration").map(|m| {
        ManagedStorageConfiguration::builder()
            .set_kms_key_id(attrs::string(&m, "kms_key_id"))
            .set_fargate_ephemeral_storage_kms_key_id(attrs::string(&m, "fargate_ephemeral_storage_kms_key_id"))
            .build()
    });
    Some(ClusterConfiguration::builder().set_execute_command_configuration(exec).set_managed_storage_configuration(storage).build())
}

fn service_connect_defaults_of(p: &Value) -> Outcome<Option<ClusterServiceConnectDefaultsRequest>> {
    let Some(d) = single_block(p, "service_connect_defaults") else { return Ok(None) };
    let req = ClusterServiceConnectDefaultsRequest::builder().namespace(attrs::req_string(&d, "namespace")?).build();
    Ok(Some(req.map_err(|e| Diagnostic::error("Invalid service_connect_defaults", e.to_string()))?))
}

fn settings_of(p: &Value) -> Outcome<Vec<ClusterSetting>> {
    let mut out = Vec::new();
    for s in p.get_attr("setting").and_then(Value::as_seq).unwrap_or(&[]) {
        out.push(ClusterSetting::builder().name(ClusterSettingName::from(attrs::req_string(s, "name")?.as_str())).set_value(attrs::string(s, "value")).build());
    }
    Ok(out)
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Cluster {
    fn name(&self) -> &'static str {
        "aws_ecs_cluster"
    }

    fn schema(&self) -> Schema {
        let setting = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("value", AttrSchema::required(Type::String));
        let opt = AttrSchema::optional;
        let logs = Schema::new()
            .attr("cloud_watch_encryption_enabled", opt(Type::Bool))
            .attr("cloud_watch_log_group_name", opt(Type::String))
            .attr("s3_bucket_encryption_enabled", opt(Type::Bool))
            .attr("s3_bucket_name", opt(Type::String))
            .attr("s3_key_prefix", opt(Type::String));
        let exec = Schema::new().attr("kms_key_id", opt(Type::String)).attr("logging", opt(Type::String)).block("log_configuration", list_of(logs, 1));
        let storage = Schema::new().attr("fargate_ephemeral_storage_kms_key_id", opt(Type::String)).attr("kms_key_id", opt(Type::String));
        let configuration = Schema::new().block("execute_command_configuration", list_of(exec, 1)).block("managed_storage_configuration", list_of(storage, 1));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("setting", set_of(setting, false))
            .block("configuration", list_of(configuration, 1))
            .block("service_connect_defaults", list_of(Schema::new().attr("namespace", AttrSchema::required(Type::String)), 1))
    }

    /// Execute-command logging is `DEFAULT` unless set, and its encryption flags off, as
    /// AWS reports them.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            for_items(m, "configuration", &mut |cf| {
                for_items(cf, "execute_command_configuration", &mut |e| {
                    attrs::set_default(e, "logging", Value::string("DEFAULT"));
                    for_items(e, "log_configuration", &mut |l| {
                        attrs::set_default(l, "cloud_watch_encryption_enabled", Value::Bool(false));
                        attrs::set_default(l, "s3_bucket_encryption_enabled", Value::Bool(false));
                    });
                });
            });
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let out = c
            .clients()?
            .once
            .ecs
            .create_cluster()
            .set_cluster_name(attrs::string(p, "name"))
            .set_settings(Some(settings_of(p)?).filter(|s| !s.is_empty()))
            .set_configuration(configuration_of(p))
            .set_service_connect_defaults(service_connect_defaults_of(p)?)
            .set_tags(Some(ecs_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateCluster", &e))?;
        Ok(with_id(p, out.cluster().and_then(|c| c.cluster_arn()).unwrap_or_default()))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_clusters(c, &ids).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|cl| cluster_value(c, cl, Some(p)))).collect())
    }

    // One paged ListClusters (a cluster has no VPC: every one in the region).
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.ecs.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            for arn in page.map_err(|e| api_error("ListClusters", &e))?.cluster_arns() {
                out.push(crate::discover::discovered(arn, arn.rsplit('/').next(), &BTreeMap::new()));
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        update_tags(c, prior, p).await?;
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if ["setting", "configuration", "service_connect_defaults"].iter().any(|k| changed(k)) {
            let id = attrs::req_string(prior, "id")?;
            c.ecs
                .update_cluster()
                .cluster(&id)
                .set_settings(Some(settings_of(p)?).filter(|_| changed("setting")))
                .set_configuration(configuration_of(p).filter(|_| changed("configuration")))
                .set_service_connect_defaults(service_connect_defaults_of(p)?.filter(|_| changed("service_connect_defaults")))
                .send()
                .await
                .map_err(|e| api_error("UpdateCluster", &e))?;
        }
        Ok(())
    }

    /// Waits for what AWS must finish first: its services drained.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(prior, "id")?);
        wait_for(&format!("cluster {id} being deletable (its services drained)"), Duration::from_secs(1200), Duration::from_secs(5), || async {
            match c.ecs.delete_cluster().cluster(&id).send().await {
                Ok(_) => Ok(Some(())),
                Err(e) if gone(&e) => Ok(Some(())),
                Err(e) if matches!(e.code(), Some("ClusterContainsServicesException" | "ClusterContainsTasksException" | "UpdateInProgressException")) => {
                    Ok(None)
                }
                Err(e) => Err(api_error("DeleteCluster", &e)),
            }
        })
        .await?;
        Ok(())
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let name = attrs::req_string(planned, "name")?;
        let found = describe_clusters(c.clients()?, std::slice::from_ref(&name)).await?;
        Ok(found.get(&name).filter(|cl| has_intent(cl.tags(), token)).and_then(|cl| cl.cluster_arn()).map(|arn| with_id(planned, arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, &attrs::req_string(state, "id")?).await?)
    }
}
