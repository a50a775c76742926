//! Elastic Container Service: `aws_ecs_cluster`, `aws_ecs_task_definition` and
//! `aws_ecs_service` (Fargate), with terraform-provider-aws names and defaults.
//!
//! `container_definitions` is kept in one canonical form (keys sorted, nulls and empty lists
//! dropped, AWS's defaults made explicit, environment sorted by name), pretty-printed so that a
//! change shows as a per-field line diff. It is sent to AWS as written (the request body is
//! completed after the SDK serializes it), so every container field AWS knows works, not only
//! those the SDK's types model. A task definition revision is immutable: refresh checks that it
//! is still ACTIVE and reads its tags; its content can only change by a new revision.
//!
//! Refresh: clusters 100 per `DescribeClusters`, services 10 per `DescribeServices` (per
//! cluster), task definitions one `DescribeTaskDefinition` each (ECS has no batch read for
//! them), run concurrently.
//!
//! A service that AWS reports without `deploymentConfiguration` (moto stores none) keeps the
//! configured deployment settings rather than showing a diff AWS never caused.

use crate::common::*;
use crate::config::Clients;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, ClusterSetting, ClusterSettingName, Compatibility, DeploymentCircuitBreaker, DeploymentConfiguration,
    EfsAuthorizationConfig, EfsAuthorizationConfigIam, EfsTransitEncryption, EfsVolumeConfiguration, HostVolumeProperties, LaunchType, LoadBalancer,
    NetworkConfiguration, NetworkMode, PropagateTags, ServiceField, Tag, TaskDefinitionField, Volume,
};
use infra_provider::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::Duration;

fn single(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::Single, min_items: 0, max_items: 1, force_new: false, schema }
}

fn set_of(schema: Schema, force_new: bool) -> BlockSchema {
    BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new, schema }
}

pub fn schemas() -> BTreeMap<String, Schema> {
    let s = AttrSchema::computed;
    let tags = || AttrSchema::optional(Type::Map(Box::new(Type::String)));
    let tags_all = || AttrSchema::computed(Type::Map(Box::new(Type::String)));
    let strings = || Type::Set(Box::new(Type::String));
    let setting = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("value", AttrSchema::required(Type::String));
    let cluster = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("tags", tags())
        .attr("tags_all", tags_all())
        .block("setting", set_of(setting, false));
    let auth = Schema::new().attr("access_point_id", AttrSchema::optional(Type::String)).attr("iam", AttrSchema::optional(Type::String));
    let efs = Schema::new()
        .attr("file_system_id", AttrSchema::required(Type::String))
        .attr("root_directory", AttrSchema::optional(Type::String))
        .attr("transit_encryption", AttrSchema::optional(Type::String))
        .attr("transit_encryption_port", AttrSchema::optional(Type::Number))
        .block("authorization_config", single(auth));
    let volume = Schema::new()
        .attr("name", AttrSchema::required(Type::String))
        .attr("host_path", AttrSchema::optional(Type::String))
        .block("efs_volume_configuration", single(efs));
    let task = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("arn_without_revision", s(Type::String))
        .attr("revision", s(Type::Number))
        .attr("family", AttrSchema::required(Type::String).force_new())
        .attr("container_definitions", AttrSchema::required(Type::String).force_new())
        .attr("cpu", AttrSchema::optional(Type::String).force_new())
        .attr("memory", AttrSchema::optional(Type::String).force_new())
        .attr("network_mode", AttrSchema::optional_computed(Type::String).force_new())
        .attr("requires_compatibilities", AttrSchema::optional(strings()).force_new())
        .attr("execution_role_arn", AttrSchema::optional(Type::String).force_new())
        .attr("task_role_arn", AttrSchema::optional(Type::String).force_new())
        .attr("tags", tags())
        .attr("tags_all", tags_all())
        .block("volume", set_of(volume, true));
    let network = Schema::new()
        .attr("subnets", AttrSchema::required(strings()))
        .attr("security_groups", AttrSchema::optional(strings()))
        .attr("assign_public_ip", AttrSchema::optional(Type::Bool));
    let lb = Schema::new()
        .attr("target_group_arn", AttrSchema::optional(Type::String))
        .attr("elb_name", AttrSchema::optional(Type::String))
        .attr("container_name", AttrSchema::required(Type::String))
        .attr("container_port", AttrSchema::required(Type::Number));
    let breaker = Schema::new().attr("enable", AttrSchema::required(Type::Bool)).attr("rollback", AttrSchema::required(Type::Bool));
    let service = Schema::new()
        .attr("id", s(Type::String))
        .attr("arn", s(Type::String))
        .attr("name", AttrSchema::required(Type::String).force_new())
        .attr("cluster", AttrSchema::optional_computed(Type::String).force_new())
        .attr("task_definition", AttrSchema::optional(Type::String))
        .attr("desired_count", AttrSchema::optional_computed(Type::Number))
        .attr("launch_type", AttrSchema::optional_computed(Type::String).force_new())
        .attr("platform_version", AttrSchema::optional_computed(Type::String))
        .attr("deployment_minimum_healthy_percent", AttrSchema::optional_computed(Type::Number))
        .attr("deployment_maximum_percent", AttrSchema::optional_computed(Type::Number))
        .attr("health_check_grace_period_seconds", AttrSchema::optional_computed(Type::Number))
        .attr("enable_execute_command", AttrSchema::optional_computed(Type::Bool))
        .attr("enable_ecs_managed_tags", AttrSchema::optional_computed(Type::Bool))
        .attr("propagate_tags", AttrSchema::optional_computed(Type::String))
        .attr("wait_for_steady_state", AttrSchema::optional_computed(Type::Bool))
        .attr("force_new_deployment", AttrSchema::optional(Type::Bool))
        .attr("tags", tags())
        .attr("tags_all", tags_all())
        .block("network_configuration", single(network))
        .block("load_balancer", set_of(lb, false))
        .block("deployment_circuit_breaker", single(breaker));
    BTreeMap::from([("aws_ecs_cluster".to_string(), cluster), ("aws_ecs_task_definition".to_string(), task), ("aws_ecs_service".to_string(), service)])
}

/// The canonical form of `container_definitions`, or why it is not valid.
pub fn normalize_container_definitions(text: &str, network_mode: Option<&str>) -> Result<String, String> {
    let parsed: Json = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Json::Array(containers) = parsed else { return Err("not a JSON array of container definitions".into()) };
    let mut out = Vec::new();
    for (i, c) in containers.into_iter().enumerate() {
        let Json::Object(mut c) = prune(c) else { return Err(format!("element {i} is not an object")) };
        if !c.get("name").is_some_and(Json::is_string) {
            return Err(format!("element {i} has no \"name\""));
        }
        if !c.get("image").is_some_and(Json::is_string) {
            return Err(format!("element {i} has no \"image\""));
        }
        c.entry("essential").or_insert(Json::Bool(true));
        if c.get("cpu").and_then(Json::as_i64) == Some(0) {
            c.remove("cpu");
        }
        if let Some(Json::Array(ports)) = c.get_mut("portMappings") {
            for p in ports.iter_mut().filter_map(Json::as_object_mut) {
                p.entry("protocol").or_insert(Json::String("tcp".into()));
                let same = p.get("hostPort") == p.get("containerPort");
                if network_mode == Some("awsvpc") && same || p.get("hostPort").and_then(Json::as_i64) == Some(0) {
                    p.remove("hostPort");
                }
            }
        }
        for key in ["environment", "secrets"] {
            if let Some(Json::Array(items)) = c.get_mut(key) {
                items.sort_by(|a, b| a.get("name").and_then(Json::as_str).cmp(&b.get("name").and_then(Json::as_str)));
            }
        }
        if let Some(Json::Array(mounts)) = c.get_mut("mountPoints") {
            for m in mounts.iter_mut().filter_map(Json::as_object_mut) {
                if m.get("readOnly") == Some(&Json::Bool(false)) {
                    m.remove("readOnly");
                }
            }
        }
        out.push(Json::Object(c));
    }
    serde_json::to_string_pretty(&Json::Array(out)).map_err(|e| e.to_string())
}

/// Drops nulls and empty lists and objects, at every depth.
fn prune(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(|o| o.is_empty())))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

pub fn validate(req: &ValidateRequest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if req.type_name == "aws_ecs_task_definition" {
        if let Some(text) = attrs::string(&req.config, "container_definitions") {
            if let Err(e) = normalize_container_definitions(&text, attrs::string(&req.config, "network_mode").as_deref()) {
                out.push(
                    err("Invalid container_definitions", format!("container_definitions is {e}."))
                        .with_path(vec![PathStep::Attr("container_definitions".into())]),
                );
            }
        }
        let fargate = strings(req.config.get_attr("requires_compatibilities")).iter().any(|c| c == "FARGATE");
        if fargate && attrs::string(&req.config, "network_mode").is_some_and(|m| m != "awsvpc") {
            out.push(
                err("Invalid network_mode", "Fargate task definitions need network_mode = \"awsvpc\".".into())
                    .with_path(vec![PathStep::Attr("network_mode".into())]),
            );
        }
        if fargate && req.config.is_wholly_known() && (attrs::string(&req.config, "cpu").is_none() || attrs::string(&req.config, "memory").is_none()) {
            out.push(err("Missing task size", "Fargate task definitions need cpu and memory at the task level.".into()));
        }
    }
    if req.type_name == "aws_ecs_service" {
        let fargate = attrs::string(&req.config, "launch_type").as_deref() == Some("FARGATE");
        if fargate && req.config.get_attr("network_configuration").is_some_and(Value::is_null) {
            out.push(err("Missing network_configuration", "Fargate services need a network_configuration block (awsvpc networking).".into()));
        }
    }
    out
}

pub fn plan(req: PlanRequest, default_tags: &BTreeMap<String, String>) -> PlanResponse {
    let schema = schemas().remove(&req.type_name).unwrap_or_default();
    let mut cfg = req.config.clone();
    if let Value::Object(m) = &mut cfg {
        match req.type_name.as_str() {
            "aws_ecs_task_definition" => {
                let mode = m.get("network_mode").and_then(Value::as_str).map(str::to_string);
                if let Some(text) = m.get("container_definitions").and_then(|v| v.deep_unmark().as_str().map(str::to_string)) {
                    if let Ok(n) = normalize_container_definitions(&text, mode.as_deref()) {
                        let sensitive = m.get("container_definitions").is_some_and(Value::contains_sensitive);
                        m.insert("container_definitions".into(), Value::string(n).mark_if(sensitive));
                    }
                }
                set_default(m, "network_mode", Value::string("bridge"));
            }
            "aws_ecs_service" => {
                set_default(m, "desired_count", Value::int(0));
                set_default(m, "launch_type", Value::string("EC2"));
                set_default(m, "deployment_minimum_healthy_percent", Value::int(100));
                set_default(m, "deployment_maximum_percent", Value::int(200));
                set_default(m, "health_check_grace_period_seconds", Value::int(0));
                set_default(m, "enable_execute_command", Value::Bool(false));
                set_default(m, "enable_ecs_managed_tags", Value::Bool(false));
                set_default(m, "propagate_tags", Value::string("NONE"));
                set_default(m, "wait_for_steady_state", Value::Bool(false));
                if m.get("launch_type").and_then(Value::as_str) == Some("FARGATE") {
                    set_default(m, "platform_version", Value::string("LATEST"));
                }
                if let Some(Value::Object(n)) = m.get_mut("network_configuration") {
                    set_default(n, "assign_public_ip", Value::Bool(false));
                    set_default(n, "security_groups", Value::Set(Vec::new()));
                }
            }
            _ => {}
        }
    }
    let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &cfg);
    if let (Value::Object(m), "aws_ecs_task_definition") = (&mut resp.planned, req.type_name.as_str()) {
        // Tags change in place; anything else registers a new revision.
        if req.prior.is_some() && resp.requires_replace.is_empty() {
            if let Some(p) = &req.prior {
                for k in ["id", "arn", "arn_without_revision", "revision"] {
                    if let Some(v) = p.get_attr(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
            }
        }
    }
    plan_tags_all(&mut resp.planned, default_tags);
    resp
}

fn ecs_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))))
}

fn has_intent(tags: &[Tag], token: &str) -> bool {
    tags.iter().any(|t| t.key() == Some(INTENT_TAG) && t.value() == Some(token))
}

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
            // Keyed by what was asked: an ARN or a name.
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
        tags,
        tags_all,
    ])
}

fn settings_of(p: &Value) -> Vec<ClusterSetting> {
    p.get_attr("setting")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|s| {
            ClusterSetting::builder()
                .name(ClusterSettingName::from(attrs::string(s, "name").unwrap_or_default().as_str()))
                .set_value(attrs::string(s, "value"))
                .build()
        })
        .collect()
}

async fn describe_task_definition(c: &Clients, id: String) -> Result<Option<(aws_sdk_ecs::types::TaskDefinition, Vec<Tag>)>, Diagnostic> {
    match c.ecs.describe_task_definition().task_definition(&id).include(TaskDefinitionField::Tags).send().await {
        Ok(r) => Ok(r.task_definition().filter(|t| t.status().is_none_or(|s| s.as_str() == "ACTIVE")).map(|t| (t.clone(), r.tags().to_vec()))),
        Err(e) if code_of(&e).as_deref() == Some("ClientException") && e.message().is_some_and(|m| m.contains("not") || m.contains("Unable")) => Ok(None),
        Err(e) => Err(api_error("DescribeTaskDefinition", &e)),
    }
}

/// The JSON of a container definition as AWS reports it, for import; fields outside this list
/// are not read back (a revision's content never changes, so refresh keeps the recorded text).
fn container_json(d: &aws_sdk_ecs::types::ContainerDefinition) -> Json {
    use serde_json::json;
    let ports: Vec<Json> = d
        .port_mappings()
        .iter()
        .map(|p| json!({"containerPort": p.container_port(), "hostPort": p.host_port(), "protocol": p.protocol().map(|x| x.as_str()), "name": p.name(), "appProtocol": p.app_protocol().map(|x| x.as_str())}))
        .collect();
    let env: Vec<Json> = d.environment().iter().map(|e| json!({"name": e.name(), "value": e.value()})).collect();
    let secrets: Vec<Json> = d.secrets().iter().map(|s| json!({"name": s.name(), "valueFrom": s.value_from()})).collect();
    let mounts: Vec<Json> =
        d.mount_points().iter().map(|m| json!({"sourceVolume": m.source_volume(), "containerPath": m.container_path(), "readOnly": m.read_only()})).collect();
    let logs = d.log_configuration().map(|l| json!({"logDriver": l.log_driver().as_str(), "options": l.options()}));
    let health = d
        .health_check()
        .map(|h| json!({"command": h.command(), "interval": h.interval(), "timeout": h.timeout(), "retries": h.retries(), "startPeriod": h.start_period()}));
    let depends: Vec<Json> = d.depends_on().iter().map(|x| json!({"containerName": x.container_name(), "condition": x.condition().as_str()})).collect();
    json!({
        "name": d.name(), "image": d.image(), "cpu": d.cpu(), "memory": d.memory(), "memoryReservation": d.memory_reservation(),
        "essential": d.essential(), "portMappings": ports, "environment": env, "secrets": secrets, "mountPoints": mounts,
        "command": d.command(), "entryPoint": d.entry_point(), "workingDirectory": d.working_directory(), "user": d.user(),
        "logConfiguration": logs, "healthCheck": health, "readonlyRootFilesystem": d.readonly_root_filesystem(),
        "stopTimeout": d.stop_timeout(), "dependsOn": depends,
    })
}

fn volume_value(v: &aws_sdk_ecs::types::Volume) -> Value {
    let efs = v.efs_volume_configuration().map(|e| {
        let auth = e
            .authorization_config()
            .map(|a| Value::object([("access_point_id", opt_string(a.access_point_id())), ("iam", opt_string(a.iam().map(|x| x.as_str())))]));
        Value::object([
            ("file_system_id", Value::string(e.file_system_id())),
            ("root_directory", opt_string(e.root_directory())),
            ("transit_encryption", opt_string(e.transit_encryption().map(|x| x.as_str()))),
            ("transit_encryption_port", opt_int(e.transit_encryption_port())),
            ("authorization_config", auth.unwrap_or(Value::Null)),
        ])
    });
    Value::object([
        ("name", opt_string(v.name())),
        ("host_path", opt_string(v.host().and_then(|h| h.source_path()))),
        ("efs_volume_configuration", efs.unwrap_or(Value::Null)),
    ])
}

fn task_value(c: &Clients, t: &aws_sdk_ecs::types::TaskDefinition, tags: &[Tag], prior: Option<&Value>) -> Value {
    let arn = t.task_definition_arn().unwrap_or_default();
    let all = tag_map(tags);
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let mode = t.network_mode().map(|m| m.as_str().to_string());
    // The recorded text stands for the revision's content (immutable); only an import reads it.
    let definitions = match prior.and_then(|p| p.get_attr("container_definitions")).filter(|v| v.as_str().is_some()) {
        Some(v) => v.clone(),
        None => {
            let text = Json::Array(t.container_definitions().iter().map(container_json).collect()).to_string();
            Value::string(normalize_container_definitions(&text, mode.as_deref()).unwrap_or(text))
        }
    };
    let compat: Vec<String> = t.requires_compatibilities().iter().map(|c| c.as_str().to_string()).collect();
    Value::object([
        ("id", opt_string(t.family())),
        ("arn", Value::string(arn)),
        ("arn_without_revision", Value::string(arn.rsplit_once(':').map(|(a, _)| a).unwrap_or(arn))),
        ("revision", Value::int(t.revision().into())),
        ("family", opt_string(t.family())),
        ("container_definitions", definitions),
        ("cpu", opt_string(t.cpu())),
        ("memory", opt_string(t.memory())),
        ("network_mode", opt_string(mode.as_deref())),
        (
            "requires_compatibilities",
            if compat.is_empty() && prior.and_then(|p| p.get_attr("requires_compatibilities")).is_none_or(Value::is_null) {
                Value::Null
            } else {
                string_set(compat)
            },
        ),
        ("execution_role_arn", opt_string(t.execution_role_arn())),
        ("task_role_arn", opt_string(t.task_role_arn())),
        ("volume", Value::set(t.volumes().iter().map(volume_value).collect())),
        tags,
        tags_all,
    ])
}

fn volumes_of(p: &Value) -> Result<Vec<Volume>, Diagnostic> {
    let mut out = Vec::new();
    for v in p.get_attr("volume").and_then(Value::as_seq).unwrap_or(&[]) {
        let mut b = Volume::builder().set_name(attrs::string(v, "name"));
        if let Some(path) = attrs::string(v, "host_path") {
            b = b.host(HostVolumeProperties::builder().source_path(path).build());
        }
        if let Some(e) = single_block(v, "efs_volume_configuration").filter(|e| !e.is_null()) {
            let mut eb = EfsVolumeConfiguration::builder()
                .set_file_system_id(attrs::string(&e, "file_system_id"))
                .set_root_directory(attrs::string(&e, "root_directory"))
                .set_transit_encryption(attrs::string(&e, "transit_encryption").map(|t| EfsTransitEncryption::from(t.as_str())))
                .set_transit_encryption_port(attrs::int(&e, "transit_encryption_port").and_then(|n| i32::try_from(n).ok()));
            if let Some(a) = single_block(&e, "authorization_config").filter(|a| !a.is_null()) {
                eb = eb.authorization_config(
                    EfsAuthorizationConfig::builder()
                        .set_access_point_id(attrs::string(&a, "access_point_id"))
                        .set_iam(attrs::string(&a, "iam").map(|i| EfsAuthorizationConfigIam::from(i.as_str())))
                        .build(),
                );
            }
            b = b.efs_volume_configuration(eb.build().map_err(|e| err("Invalid volume", e.to_string()))?);
        }
        out.push(b.build());
    }
    Ok(out)
}

/// Puts the configured container definitions, as written, into the serialized request body.
fn with_container_definitions(body: &[u8], definitions: &Json) -> Option<Vec<u8>> {
    let mut request: Json = serde_json::from_slice(body).ok()?;
    request.as_object_mut()?.insert("containerDefinitions".into(), definitions.clone());
    serde_json::to_vec(&request).ok()
}

async fn register_task_definition(c: &Clients, p: &Value, token: &str) -> Result<String, Diagnostic> {
    let text = attrs::string(p, "container_definitions").unwrap_or_default();
    let definitions: Json =
        serde_json::from_str(&text).map_err(|e| err("Invalid container_definitions", format!("container_definitions is not valid JSON: {e}.")))?;
    let compat: Vec<Compatibility> = strings(p.get_attr("requires_compatibilities")).iter().map(|c| Compatibility::from(c.as_str())).collect();
    let out = c
        .ecs
        .register_task_definition()
        .set_family(attrs::string(p, "family"))
        .set_container_definitions(Some(Vec::new()))
        .set_cpu(attrs::string(p, "cpu"))
        .set_memory(attrs::string(p, "memory"))
        .set_network_mode(attrs::string(p, "network_mode").map(|m| NetworkMode::from(m.as_str())))
        .set_requires_compatibilities(Some(compat).filter(|c| !c.is_empty()))
        .set_execution_role_arn(attrs::string(p, "execution_role_arn"))
        .set_task_role_arn(attrs::string(p, "task_role_arn"))
        .set_volumes(Some(volumes_of(p)?).filter(|v| !v.is_empty()))
        .set_tags(Some(ecs_tags(&string_map(p.get_attr("tags_all")), Some(token))))
        .customize()
        .mutate_request(move |req| {
            let completed = req.body().bytes().and_then(|b| with_container_definitions(b, &definitions));
            if let Some(body) = completed {
                req.headers_mut().insert("content-length", body.len().to_string());
                *req.body_mut() = aws_smithy_types::body::SdkBody::from(body);
            }
        })
        .send()
        .await
        .map_err(|e| api_error("RegisterTaskDefinition", &e))?;
    Ok(out.task_definition().and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string())
}

/// Services grouped by cluster, 10 per `DescribeServices`. Keyed by service ARN.
async fn describe_services(c: &Clients, by_cluster: &BTreeMap<String, Vec<String>>) -> Result<BTreeMap<String, aws_sdk_ecs::types::Service>, Diagnostic> {
    let mut out = BTreeMap::new();
    for (cluster, services) in by_cluster {
        for chunk in services.chunks(10) {
            let resp = c.ecs.describe_services().cluster(cluster).set_services(Some(chunk.to_vec())).include(ServiceField::Tags).send().await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) if code_of(&e).as_deref() == Some("ClusterNotFoundException") => continue,
                Err(e) => return Err(api_error("DescribeServices", &e)),
            };
            for s in resp.services().iter().filter(|s| s.status() == Some("ACTIVE")) {
                if let Some(arn) = s.service_arn() {
                    out.insert(arn.to_string(), s.clone());
                }
            }
        }
    }
    Ok(out)
}

/// A cluster or task definition reference as configured, when it names what AWS reports.
fn same_reference(configured: &str, arn: &str) -> bool {
    let tail = arn.rsplit_once('/').map(|(_, t)| t).unwrap_or(arn);
    configured == arn || configured == tail || tail.split_once(':').is_some_and(|(family, _)| family == configured)
}

fn keep_reference(prior: Option<&Value>, key: &str, arn: Option<&str>) -> Value {
    match (prior.and_then(|p| attrs::string(p, key)), arn) {
        (Some(p), Some(a)) if same_reference(&p, a) => Value::string(p),
        (_, a) => opt_string(a),
    }
}

fn service_value(c: &Clients, s: &aws_sdk_ecs::types::Service, prior: Option<&Value>) -> Value {
    let arn = s.service_arn().unwrap_or_default();
    let all = tag_map(s.tags());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let keep = |k: &str| prior.and_then(|p| p.get_attr(k)).cloned().unwrap_or(Value::Null);
    let network = s.network_configuration().and_then(|n| n.awsvpc_configuration()).map(|a| {
        Value::object([
            ("subnets", string_set(a.subnets().iter().cloned())),
            ("security_groups", string_set(a.security_groups().iter().cloned())),
            ("assign_public_ip", Value::Bool(a.assign_public_ip().is_some_and(|p| p.as_str() == "ENABLED"))),
        ])
    });
    let lbs = s
        .load_balancers()
        .iter()
        .map(|l| {
            Value::object([
                ("target_group_arn", opt_string(l.target_group_arn())),
                ("elb_name", opt_string(l.load_balancer_name())),
                ("container_name", opt_string(l.container_name())),
                ("container_port", opt_int(l.container_port())),
            ])
        })
        .collect();
    let deployment = s.deployment_configuration();
    let (min, max, breaker) = match deployment {
        Some(d) => (
            opt_int(d.minimum_healthy_percent()),
            opt_int(d.maximum_percent()),
            d.deployment_circuit_breaker()
                .map(|b| Value::object([("enable", Value::Bool(b.enable())), ("rollback", Value::Bool(b.rollback()))]))
                .unwrap_or(Value::Null),
        ),
        None => (keep("deployment_minimum_healthy_percent"), keep("deployment_maximum_percent"), keep("deployment_circuit_breaker")),
    };
    let grace = match s.health_check_grace_period_seconds() {
        Some(g) => Value::int(g.into()),
        None => keep("health_check_grace_period_seconds"),
    };
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("name", opt_string(s.service_name())),
        ("cluster", keep_reference(prior, "cluster", s.cluster_arn())),
        ("task_definition", keep_reference(prior, "task_definition", s.task_definition())),
        ("desired_count", Value::int(s.desired_count().into())),
        ("launch_type", opt_string(s.launch_type().map(|l| l.as_str()))),
        ("platform_version", or_if_null(opt_string(s.platform_version()), keep("platform_version"))),
        ("deployment_minimum_healthy_percent", min),
        ("deployment_maximum_percent", max),
        ("deployment_circuit_breaker", breaker),
        ("health_check_grace_period_seconds", grace),
        ("enable_execute_command", Value::Bool(s.enable_execute_command())),
        ("enable_ecs_managed_tags", Value::Bool(s.enable_ecs_managed_tags())),
        ("propagate_tags", Value::string(s.propagate_tags().map(|p| p.as_str()).unwrap_or("NONE"))),
        // Not AWS settings: how infra applies, carried over.
        ("wait_for_steady_state", or_if_null(keep("wait_for_steady_state"), Value::Bool(false))),
        ("force_new_deployment", keep("force_new_deployment")),
        ("network_configuration", network.unwrap_or(Value::Null)),
        ("load_balancer", Value::set(lbs)),
        tags,
        tags_all,
    ])
}

fn network_of(p: &Value) -> Result<Option<NetworkConfiguration>, Diagnostic> {
    let Some(n) = single_block(p, "network_configuration").filter(|n| !n.is_null()) else { return Ok(None) };
    let public = if attrs::bool(&n, "assign_public_ip") == Some(true) { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(strings(n.get_attr("subnets"))))
        .set_security_groups(Some(strings(n.get_attr("security_groups"))))
        .assign_public_ip(public)
        .build()
        .map_err(|e| err("Invalid network_configuration", e.to_string()))?;
    Ok(Some(NetworkConfiguration::builder().awsvpc_configuration(vpc).build()))
}

fn load_balancers_of(p: &Value) -> Vec<LoadBalancer> {
    p.get_attr("load_balancer")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            LoadBalancer::builder()
                .set_target_group_arn(attrs::string(l, "target_group_arn"))
                .set_load_balancer_name(attrs::string(l, "elb_name"))
                .set_container_name(attrs::string(l, "container_name"))
                .set_container_port(attrs::int(l, "container_port").and_then(|n| i32::try_from(n).ok()))
                .build()
        })
        .collect()
}

fn deployment_of(p: &Value) -> DeploymentConfiguration {
    let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok());
    let breaker = single_block(p, "deployment_circuit_breaker").filter(|b| !b.is_null()).map(|b| {
        DeploymentCircuitBreaker::builder().enable(attrs::bool(&b, "enable").unwrap_or(false)).rollback(attrs::bool(&b, "rollback").unwrap_or(false)).build()
    });
    DeploymentConfiguration::builder()
        .set_minimum_healthy_percent(int("deployment_minimum_healthy_percent"))
        .set_maximum_percent(int("deployment_maximum_percent"))
        .set_deployment_circuit_breaker(breaker)
        .build()
}

fn cluster_of(p: &Value) -> String {
    attrs::string(p, "cluster").unwrap_or_else(|| "default".into())
}

fn group_by_cluster(objects: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in objects {
        out.entry(cluster_of(o)).or_default().push(id_of(o));
    }
    out
}

pub async fn read_many(c: &Clients, type_name: &str, objects: &[Value], full: bool) -> Result<Vec<Option<Value>>, Diagnostic> {
    let ids: Vec<String> = objects.iter().map(id_of).collect();
    match type_name {
        "aws_ecs_cluster" => {
            let found = describe_clusters(c, &ids).await?;
            Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|cl| cluster_value(c, cl, Some(p)))).collect())
        }
        "aws_ecs_task_definition" if !full => {
            // A revision's content never changes: a routine refresh only checks that it is still
            // ACTIVE, by listing (100 a page, stopping once all are seen), and keeps its tags.
            let arns: Vec<String> = objects.iter().map(|o| attrs::string(o, "arn").unwrap_or_else(|| id_of(o))).collect();
            let mut wanted: std::collections::BTreeSet<String> = arns.iter().cloned().collect();
            let mut active = std::collections::BTreeSet::new();
            let mut pages = c.ecs.list_task_definitions().status(aws_sdk_ecs::types::TaskDefinitionStatus::Active).max_results(100).into_paginator().send();
            while let Some(page) = pages.next().await {
                for arn in page.map_err(|e| api_error("ListTaskDefinitions", &e))?.task_definition_arns() {
                    if wanted.remove(arn) {
                        active.insert(arn.clone());
                    }
                }
                if wanted.is_empty() {
                    break;
                }
            }
            Ok(arns.iter().zip(objects).map(|(arn, p)| active.contains(arn).then(|| p.clone())).collect())
        }
        "aws_ecs_task_definition" => {
            let arns: Vec<String> = objects.iter().map(|o| attrs::string(o, "arn").unwrap_or_else(|| id_of(o))).collect();
            let found = per_object(c, &arns, |c, arn| async move { describe_task_definition(&c, arn).await }).await?;
            Ok(arns.iter().zip(objects).map(|(arn, p)| found.get(arn).cloned().flatten().map(|(t, tags)| task_value(c, &t, &tags, Some(p)))).collect())
        }
        "aws_ecs_service" => {
            let found = describe_services(c, &group_by_cluster(objects)).await?;
            Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|s| service_value(c, s, Some(p)))).collect())
        }
        other => Err(unknown_type(other)),
    }
}

pub async fn read_one(c: &Clients, type_name: &str, id: &str, prior: Option<&Value>) -> Result<Option<Value>, Diagnostic> {
    match type_name {
        "aws_ecs_cluster" => Ok(describe_clusters(c, &[id.to_string()]).await?.get(id).map(|cl| cluster_value(c, cl, prior))),
        // Import and read-back are full reads.
        "aws_ecs_task_definition" => {
            // The recorded revision, not the family's newest.
            let target = prior.and_then(|p| attrs::string(p, "arn")).unwrap_or_else(|| id.to_string());
            Ok(describe_task_definition(c, target).await?.map(|(t, tags)| task_value(c, &t, &tags, prior)))
        }
        "aws_ecs_service" => {
            // Import ids are `cluster/service`, as in terraform-provider-aws; after a create it is the ARN.
            let (cluster, service) = match (prior.map(cluster_of), id.split_once('/')) {
                (Some(cl), _) => (cl, id.to_string()),
                (None, Some((cl, s))) if !id.starts_with("arn:") => (cl.to_string(), s.to_string()),
                _ => (service_cluster_from_arn(id).unwrap_or_else(|| "default".into()), id.to_string()),
            };
            let found = describe_services(c, &BTreeMap::from([(cluster, vec![service])])).await?;
            Ok(found.values().next().map(|s| service_value(c, s, prior)))
        }
        other => Err(unknown_type(other)),
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` names its cluster (new-style ARNs only).
fn service_cluster_from_arn(arn: &str) -> Option<String> {
    let rest = arn.split_once(":service/")?.1;
    rest.split_once('/').map(|(cluster, _)| cluster.to_string())
}

pub async fn create(c: &Clients, type_name: &str, p: &Value, token: &str) -> Result<String, Diagnostic> {
    let tags = ecs_tags(&string_map(p.get_attr("tags_all")), Some(token));
    match type_name {
        "aws_ecs_cluster" => c
            .ecs
            .create_cluster()
            .set_cluster_name(attrs::string(p, "name"))
            .set_settings(Some(settings_of(p)).filter(|s| !s.is_empty()))
            .set_tags(Some(tags))
            .send()
            .await
            .map(|o| o.cluster().and_then(|c| c.cluster_arn()).unwrap_or_default().to_string())
            .map_err(|e| api_error("CreateCluster", &e)),
        "aws_ecs_task_definition" => register_task_definition(c, p, token).await,
        "aws_ecs_service" => {
            let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok());
            c.ecs
                .create_service()
                .cluster(cluster_of(p))
                .set_service_name(attrs::string(p, "name"))
                .set_task_definition(attrs::string(p, "task_definition"))
                .set_desired_count(int("desired_count"))
                .set_launch_type(attrs::string(p, "launch_type").map(|l| LaunchType::from(l.as_str())))
                .set_platform_version(attrs::string(p, "platform_version"))
                .set_network_configuration(network_of(p)?)
                .set_load_balancers(Some(load_balancers_of(p)).filter(|l| !l.is_empty()))
                .deployment_configuration(deployment_of(p))
                .set_health_check_grace_period_seconds(
                    int("health_check_grace_period_seconds").filter(|_| p.get_attr("load_balancer").and_then(Value::as_seq).is_some_and(|l| !l.is_empty())),
                )
                .set_enable_execute_command(attrs::bool(p, "enable_execute_command"))
                .set_enable_ecs_managed_tags(attrs::bool(p, "enable_ecs_managed_tags"))
                .set_propagate_tags(attrs::string(p, "propagate_tags").map(|t| PropagateTags::from(t.as_str())))
                // CreateService's own idempotency token: a retried create returns the same service.
                .client_token(token.chars().take(36).collect::<String>())
                .set_tags(Some(tags))
                .send()
                .await
                .map(|o| o.service().and_then(|s| s.service_arn()).unwrap_or_default().to_string())
                .map_err(|e| api_error("CreateService", &e))
        }
        other => Err(unknown_type(other)),
    }
}

pub async fn finish_create(c: &Clients, type_name: &str, id: &str, p: &Value) -> Result<(), Diagnostic> {
    if type_name == "aws_ecs_service" && attrs::bool(p, "wait_for_steady_state") == Some(true) {
        return wait_steady(c, &cluster_of(p), id).await;
    }
    Ok(())
}

/// One deployment left and as many tasks running as desired.
async fn wait_steady(c: &Clients, cluster: &str, service: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("service {service} reaching a steady state"), Duration::from_secs(1200), Duration::from_secs(5), || async {
        let found = describe_services(c, &BTreeMap::from([(cluster.to_string(), vec![service.to_string()])])).await?;
        let Some(s) = found.values().next() else { return Err(err("Service vanished", format!("{service} is gone."))) };
        Ok((s.deployments().len() == 1 && s.running_count() == s.desired_count()).then_some(()))
    })
    .await
}

pub async fn update(c: &Clients, type_name: &str, prior: &Value, p: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    let arn = attrs::string(prior, "arn").unwrap_or_else(|| id.clone());
    let (removed, set) = tag_changes(prior, p);
    if !removed.is_empty() {
        c.ecs.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
    }
    if !set.is_empty() {
        c.ecs.tag_resource().resource_arn(&arn).set_tags(Some(ecs_tags(&set, None))).send().await.map_err(|e| api_error("TagResource", &e))?;
    }
    let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
    match type_name {
        "aws_ecs_cluster" if changed("setting") => {
            c.ecs.update_cluster().cluster(&id).set_settings(Some(settings_of(p))).send().await.map(|_| ()).map_err(|e| api_error("UpdateCluster", &e))
        }
        "aws_ecs_service" => {
            let settings = [
                "task_definition",
                "desired_count",
                "platform_version",
                "network_configuration",
                "load_balancer",
                "deployment_minimum_healthy_percent",
                "deployment_maximum_percent",
                "deployment_circuit_breaker",
                "health_check_grace_period_seconds",
                "enable_execute_command",
                "enable_ecs_managed_tags",
                "propagate_tags",
                "force_new_deployment",
            ];
            if settings.iter().any(|k| changed(k)) {
                let int = |k: &str| attrs::int(p, k).and_then(|n| i32::try_from(n).ok()).filter(|_| changed(k));
                c.ecs
                    .update_service()
                    .cluster(cluster_of(p))
                    .service(&id)
                    .set_task_definition(attrs::string(p, "task_definition").filter(|_| changed("task_definition")))
                    .set_desired_count(int("desired_count"))
                    .set_platform_version(attrs::string(p, "platform_version").filter(|_| changed("platform_version")))
                    .set_network_configuration(if changed("network_configuration") { network_of(p)? } else { None })
                    .set_load_balancers(Some(load_balancers_of(p)).filter(|_| changed("load_balancer")))
                    .set_deployment_configuration(
                        ["deployment_minimum_healthy_percent", "deployment_maximum_percent", "deployment_circuit_breaker"]
                            .iter()
                            .any(|k| changed(k))
                            .then(|| deployment_of(p)),
                    )
                    .set_health_check_grace_period_seconds(int("health_check_grace_period_seconds"))
                    .set_enable_execute_command(attrs::bool(p, "enable_execute_command").filter(|_| changed("enable_execute_command")))
                    .set_enable_ecs_managed_tags(attrs::bool(p, "enable_ecs_managed_tags").filter(|_| changed("enable_ecs_managed_tags")))
                    .set_propagate_tags(attrs::string(p, "propagate_tags").filter(|_| changed("propagate_tags")).map(|t| PropagateTags::from(t.as_str())))
                    .set_force_new_deployment(attrs::bool(p, "force_new_deployment").filter(|f| *f && changed("force_new_deployment")))
                    .send()
                    .await
                    .map_err(|e| api_error("UpdateService", &e))?;
            }
            if attrs::bool(p, "wait_for_steady_state") == Some(true) {
                wait_steady(c, &cluster_of(p), &id).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Deletes, waiting for what AWS must finish first: a service drains (scaled to zero, then
/// INACTIVE) before its cluster can go.
pub async fn delete(c: &Clients, type_name: &str, prior: &Value) -> Result<(), Diagnostic> {
    let id = id_of(prior);
    let gone = |e: &dyn ProvideErrorMetadata| matches!(e.code(), Some("ClusterNotFoundException" | "ServiceNotFoundException" | "ServiceNotActiveException"));
    match type_name {
        "aws_ecs_cluster" => {
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
            .await
        }
        "aws_ecs_task_definition" => {
            let arn = attrs::string(prior, "arn").unwrap_or(id);
            match c.ecs.deregister_task_definition().task_definition(&arn).send().await {
                Ok(_) => Ok(()),
                Err(e) if e.message().is_some_and(|m| m.contains("INACTIVE") || m.contains("not")) => Ok(()),
                Err(e) => Err(api_error("DeregisterTaskDefinition", &e)),
            }
        }
        "aws_ecs_service" => {
            let cluster = cluster_of(prior);
            if attrs::int(prior, "desired_count").unwrap_or(0) > 0 {
                match c.ecs.update_service().cluster(&cluster).service(&id).desired_count(0).send().await {
                    Ok(_) => {}
                    Err(e) if gone(&e) => return Ok(()),
                    Err(e) => return Err(api_error("UpdateService", &e)),
                }
            }
            match c.ecs.delete_service().cluster(&cluster).service(&id).force(true).send().await {
                Ok(_) => {}
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(api_error("DeleteService", &e)),
            }
            wait_for(&format!("service {id} becoming inactive"), Duration::from_secs(1200), Duration::from_secs(3), || async {
                Ok(describe_services(c, &BTreeMap::from([(cluster.clone(), vec![id.clone()])])).await?.is_empty().then_some(()))
            })
            .await
        }
        other => Err(unknown_type(other)),
    }
}

pub async fn adopt(c: &Clients, type_name: &str, token: &str, planned: &Value) -> Result<Option<String>, Diagnostic> {
    match type_name {
        "aws_ecs_cluster" => {
            let name = attrs::string(planned, "name").unwrap_or_default();
            Ok(describe_clusters(c, &[name.clone()])
                .await?
                .get(&name)
                .filter(|cl| has_intent(cl.tags(), token))
                .and_then(|cl| cl.cluster_arn().map(str::to_string)))
        }
        "aws_ecs_task_definition" => {
            // The newest revision of the family, if it is the one this create registered.
            let family = attrs::string(planned, "family").unwrap_or_default();
            Ok(describe_task_definition(c, family)
                .await?
                .filter(|(_, tags)| has_intent(tags, token))
                .and_then(|(t, _)| t.task_definition_arn().map(str::to_string)))
        }
        "aws_ecs_service" => {
            let name = attrs::string(planned, "name").unwrap_or_default();
            let found = describe_services(c, &BTreeMap::from([(cluster_of(planned), vec![name])])).await?;
            Ok(found.values().find(|s| has_intent(s.tags(), token)).and_then(|s| s.service_arn().map(str::to_string)))
        }
        _ => Ok(None),
    }
}

/// Every ECS type is tagged by ARN the same way.
pub async fn drop_intent_tag(c: &Clients, _type_name: &str, id: &str) -> Result<(), Diagnostic> {
    c.ecs.untag_resource().resource_arn(id).tag_keys(INTENT_TAG).send().await.map(|_| ()).map_err(|e| api_error("UntagResource", &e))
}

#[cfg(test)]
mod tests {
    use super::normalize_container_definitions as norm;

    #[test]
    fn what_aws_returns_normalizes_to_what_was_configured() {
        let configured =
            r#"[{"name":"app","image":"nginx:1.27","portMappings":[{"containerPort":80}],"environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]"#;
        let returned = r#"[{"cpu":0,"environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"essential":true,"image":"nginx:1.27","mountPoints":[],"name":"app","portMappings":[{"containerPort":80,"hostPort":80,"protocol":"tcp"}],"systemControls":[],"volumesFrom":[]}]"#;
        assert_eq!(norm(configured, Some("awsvpc")), norm(returned, Some("awsvpc")));
        // In bridge mode a host port equal to the container port is a choice, not a default.
        assert_ne!(norm(configured, Some("bridge")), norm(returned, Some("bridge")));
    }

    #[test]
    fn a_real_difference_survives_normalization() {
        let a = r#"[{"name":"app","image":"nginx:1.27","essential":false}]"#;
        let b = r#"[{"name":"app","image":"nginx:1.27"}]"#;
        assert_ne!(norm(a, None), norm(b, None));
    }

    #[test]
    fn invalid_definitions_say_why() {
        assert!(norm("{", None).unwrap_err().starts_with("not valid JSON"));
        assert_eq!(norm(r#"{"name":"x"}"#, None).unwrap_err(), "not a JSON array of container definitions");
        assert_eq!(norm(r#"[{"image":"x"}]"#, None).unwrap_err(), "element 0 has no \"name\"");
        assert_eq!(norm(r#"[{"name":"x"}]"#, None).unwrap_err(), "element 0 has no \"image\"");
    }
}
