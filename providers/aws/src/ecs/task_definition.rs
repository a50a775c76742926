//! `aws_ecs_task_definition`. `container_definitions` is kept in one canonical form (keys
//! sorted, nulls and empty lists dropped, AWS's defaults made explicit, environment sorted by
//! name), pretty-printed so that a change shows as a per-field line diff. It is sent to AWS as
//! written (the request body is completed after the SDK serializes it), so every container
//! field AWS knows works, not only those the SDK's types model.
//!
//! A revision is immutable: a routine refresh only checks that it is still ACTIVE (by listing,
//! 100 a page) and keeps what was recorded; a full one reads each revision with
//! `DescribeTaskDefinition` (no batch API), concurrently. Its content can only change by a new
//! revision; its id is the family, its tags hang on the revision's ARN.

use super::*;
use crate::AwsProvider;
use aws_sdk_ecs::types::{
    Compatibility, CpuArchitecture, DockerVolumeConfiguration, EfsAuthorizationConfig, EfsAuthorizationConfigIam, EfsTransitEncryption, EfsVolumeConfiguration,
    EphemeralStorage, FSxWindowsFileServerAuthorizationConfig, FSxWindowsFileServerVolumeConfiguration, HostVolumeProperties, IpcMode, KeyValuePair,
    NetworkMode, OsFamily, PidMode, ProxyConfiguration, ProxyConfigurationType, Scope, TaskDefinitionField, TaskDefinitionPlacementConstraint,
    TaskDefinitionPlacementConstraintType, Volume,
};
use infra_provider::resource::with_id;
use serde_json::Value as Json;

pub struct TaskDefinition;

/// The canonical form of `container_definitions`, or why it is not valid.
fn normalize_container_definitions(text: &str, network_mode: Option<&str>) -> Result<String, String> {
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

/// A volume with the values AWS fills in: an EFS configuration's `root_directory` `"/"`, a
/// Docker volume's `task` scope and `local` driver, `configure_at_launch` false.
fn fill_efs_root(volume: Value) -> Value {
    let Value::Object(mut v) = volume else { return volume };
    attrs::set_default(&mut v, "configure_at_launch", Value::Bool(false));
    for_items(&mut v, "efs_volume_configuration", &mut |e| attrs::set_default(e, "root_directory", Value::string("/")));
    for_items(&mut v, "docker_volume_configuration", &mut |d| {
        attrs::set_default(d, "scope", Value::string("task"));
        attrs::set_default(d, "driver", Value::string("local"));
    });
    Value::Object(v)
}

fn string_map(m: Option<&std::collections::HashMap<String, String>>) -> Value {
    m.map(|m| map_value(&m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())).unwrap_or(Value::Null)
}

fn list(v: Option<Value>) -> Value {
    Value::List(v.into_iter().collect())
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
            ("authorization_config", list(auth)),
        ])
    });
    // AWS's defaults where it reports none (moto echoes what was sent).
    let docker = v.docker_volume_configuration().map(|d| {
        Value::object([
            ("autoprovision", d.autoprovision().map(Value::Bool).unwrap_or(Value::Null)),
            ("driver", Value::string(d.driver().unwrap_or("local"))),
            ("driver_opts", string_map(d.driver_opts())),
            ("labels", string_map(d.labels())),
            ("scope", Value::string(d.scope().map(|s| s.as_str()).unwrap_or("task"))),
        ])
    });
    let fsx = v.fsx_windows_file_server_volume_configuration().map(|f| {
        let auth = f
            .authorization_config()
            .map(|a| Value::object([("credentials_parameter", Value::string(a.credentials_parameter())), ("domain", Value::string(a.domain()))]));
        Value::object([
            ("file_system_id", Value::string(f.file_system_id())),
            ("root_directory", Value::string(f.root_directory())),
            ("authorization_config", list(auth)),
        ])
    });
    Value::object([
        ("name", opt_string(v.name())),
        ("host_path", opt_string(v.host().and_then(|h| h.source_path()))),
        ("configure_at_launch", Value::Bool(v.configured_at_launch().unwrap_or(false))),
        ("efs_volume_configuration", list(efs)),
        ("docker_volume_configuration", list(docker)),
        ("fsx_windows_file_server_volume_configuration", list(fsx)),
    ])
}

#[allow(deprecated)] // inference accelerators, see `inference_accelerators`
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
    let kept = |k: &str| prior.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
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
        ("ipc_mode", opt_string(t.ipc_mode().map(|m| m.as_str()))),
        ("pid_mode", opt_string(t.pid_mode().map(|m| m.as_str()))),
        // Not reported by every server (moto): the recorded value stands then.
        ("enable_fault_injection", t.enable_fault_injection().map(Value::Bool).unwrap_or_else(|| kept("enable_fault_injection"))),
        ("skip_destroy", or_if_null(kept("skip_destroy"), Value::Bool(false))),
        ("track_latest", or_if_null(kept("track_latest"), Value::Bool(false))),
        ("ephemeral_storage", list(t.ephemeral_storage().map(|e| Value::object([("size_in_gib", Value::int(e.size_in_gib().into()))])))),
        (
            "inference_accelerator",
            Value::set(
                t.inference_accelerators()
                    .iter()
                    .map(|a| Value::object([("device_name", Value::string(a.device_name())), ("device_type", Value::string(a.device_type()))]))
                    .collect(),
            ),
        ),
        (
            "placement_constraints",
            Value::set(
                t.placement_constraints()
                    .iter()
                    .map(|c| Value::object([("expression", opt_string(c.expression())), ("type", opt_string(c.r#type().map(|t| t.as_str())))]))
                    .collect(),
            ),
        ),
        (
            "proxy_configuration",
            list(t.proxy_configuration().map(|x| {
                let props: BTreeMap<String, String> = x.properties().iter().filter_map(|p| Some((p.name()?.to_string(), p.value()?.to_string()))).collect();
                Value::object([
                    ("container_name", Value::string(x.container_name())),
                    ("properties", if props.is_empty() { Value::Null } else { map_value(&props) }),
                    ("type", opt_string(x.r#type().map(|t| t.as_str()))),
                ])
            })),
        ),
        (
            "runtime_platform",
            list(t.runtime_platform().map(|r| {
                Value::object([
                    ("cpu_architecture", opt_string(r.cpu_architecture().map(|c| c.as_str()))),
                    ("operating_system_family", opt_string(r.operating_system_family().map(|o| o.as_str()))),
                ])
            })),
        ),
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
        if let Some(d) = single_block(v, "docker_volume_configuration") {
            let map = |k: &str| d.get_attr(k).filter(|m| !m.is_null()).map(|m| attrs::map_of(Some(m)).into_iter().collect());
            b = b.docker_volume_configuration(
                DockerVolumeConfiguration::builder()
                    .set_autoprovision(attrs::bool(&d, "autoprovision"))
                    .set_driver(attrs::string(&d, "driver"))
                    .set_driver_opts(map("driver_opts"))
                    .set_labels(map("labels"))
                    .set_scope(attrs::string(&d, "scope").map(|s| Scope::from(s.as_str())))
                    .build(),
            );
        }
        if let Some(f) = single_block(v, "fsx_windows_file_server_volume_configuration") {
            let auth = single_block(&f, "authorization_config")
                .map(|a| {
                    FSxWindowsFileServerAuthorizationConfig::builder()
                        .set_credentials_parameter(attrs::string(&a, "credentials_parameter"))
                        .set_domain(attrs::string(&a, "domain"))
                        .build()
                })
                .transpose()
                .map_err(|e| Diagnostic::error("Invalid volume", e.to_string()))?;
            let cfg = FSxWindowsFileServerVolumeConfiguration::builder()
                .set_file_system_id(attrs::string(&f, "file_system_id"))
                .set_root_directory(attrs::string(&f, "root_directory"))
                .set_authorization_config(auth)
                .build()
                .map_err(|e| Diagnostic::error("Invalid volume", e.to_string()))?;
            b = b.fsx_windows_file_server_volume_configuration(cfg);
        }
        b = b.set_configured_at_launch(attrs::bool(v, "configure_at_launch"));
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
            b = b.efs_volume_configuration(eb.build().map_err(|e| Diagnostic::error("Invalid volume", e.to_string()))?);
        }
        out.push(b.build());
    }
    Ok(out)
}

/// AWS retired Elastic Inference (the SDK marks it deprecated); the argument is still
/// accepted, as terraform-provider-aws 5.100 does, and sent as AWS expects.
#[allow(deprecated)]
fn inference_accelerators(p: &Value) -> Result<Vec<aws_sdk_ecs::types::InferenceAccelerator>, Diagnostic> {
    let mut out = Vec::new();
    for a in p.get_attr("inference_accelerator").and_then(Value::as_seq).unwrap_or(&[]) {
        let built = aws_sdk_ecs::types::InferenceAccelerator::builder()
            .set_device_name(attrs::string(a, "device_name"))
            .set_device_type(attrs::string(a, "device_type"))
            .build();
        out.push(built.map_err(|e| Diagnostic::error("Invalid inference_accelerator", e.to_string()))?);
    }
    Ok(out)
}

fn placement_constraints(p: &Value) -> Vec<TaskDefinitionPlacementConstraint> {
    p.get_attr("placement_constraints")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            TaskDefinitionPlacementConstraint::builder()
                .set_type(attrs::string(c, "type").map(|t| TaskDefinitionPlacementConstraintType::from(t.as_str())))
                .set_expression(attrs::string(c, "expression"))
                .build()
        })
        .collect()
}

fn proxy_configuration(p: &Value) -> Result<Option<ProxyConfiguration>, Diagnostic> {
    let Some(x) = single_block(p, "proxy_configuration") else { return Ok(None) };
    let props: Vec<KeyValuePair> = attrs::string_map(&x, "properties").into_iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect();
    ProxyConfiguration::builder()
        .set_type(attrs::string(&x, "type").map(|t| ProxyConfigurationType::from(t.as_str())))
        .set_container_name(attrs::string(&x, "container_name"))
        .set_properties(Some(props).filter(|p| !p.is_empty()))
        .build()
        .map(Some)
        .map_err(|e| Diagnostic::error("Invalid proxy_configuration", e.to_string()))
}

/// Puts the configured container definitions, as written, into the serialized request body.
fn with_container_definitions(body: &[u8], definitions: &Json) -> Option<Vec<u8>> {
    let mut request: Json = serde_json::from_slice(body).ok()?;
    request.as_object_mut()?.insert("containerDefinitions".into(), definitions.clone());
    serde_json::to_vec(&request).ok()
}

/// Registers a revision: sent once (a re-sent call would register a second revision), so a
/// lost answer is found again by the intent tag.
#[allow(deprecated)] // inference accelerators, see `inference_accelerators`
async fn register_task_definition(c: &Clients, p: &Value, token: &str) -> Outcome<String> {
    let text = attrs::req_string(p, "container_definitions")?;
    let definitions: Json = serde_json::from_str(&text)
        .map_err(|e| Diagnostic::error("Invalid container_definitions", format!("container_definitions is not valid JSON: {e}.")))?;
    let compat: Vec<Compatibility> = attrs::strings(p, "requires_compatibilities").iter().map(|c| Compatibility::from(c.as_str())).collect();
    let out = c
        .once
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
        .set_ipc_mode(attrs::string(p, "ipc_mode").map(|m| IpcMode::from(m.as_str())))
        .set_pid_mode(attrs::string(p, "pid_mode").map(|m| PidMode::from(m.as_str())))
        .set_enable_fault_injection(attrs::bool(p, "enable_fault_injection"))
        .set_ephemeral_storage(
            single_block(p, "ephemeral_storage")
                .and_then(|e| attrs::int(&e, "size_in_gib"))
                .map(|n| EphemeralStorage::builder().size_in_gib(i32::try_from(n).unwrap_or(i32::MAX)).build()),
        )
        .set_inference_accelerators(Some(inference_accelerators(p)?).filter(|a| !a.is_empty()))
        .set_placement_constraints(Some(placement_constraints(p)).filter(|c| !c.is_empty()))
        .set_proxy_configuration(proxy_configuration(p)?)
        .set_runtime_platform(single_block(p, "runtime_platform").map(|r| {
            aws_sdk_ecs::types::RuntimePlatform::builder()
                .set_cpu_architecture(attrs::string(&r, "cpu_architecture").map(|c| CpuArchitecture::from(c.as_str())))
                .set_operating_system_family(attrs::string(&r, "operating_system_family").map(|o| OsFamily::from(o.as_str())))
                .build()
        }))
        .set_tags(Some(ecs_tags(&attrs::string_map(p, "tags_all"), Some(token))))
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
        .map_err(|e| create_error("RegisterTaskDefinition", &e))?;
    Ok(out.task_definition().and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string())
}

/// What a full read describes: the recorded revision, or with `track_latest` the family's
/// newest ACTIVE one.
fn read_target(known: &Value) -> String {
    match attrs::string(known, "family").filter(|_| attrs::bool(known, "track_latest") == Some(true)) {
        Some(family) => family,
        None => attrs::string(known, "arn").unwrap_or_else(|| id_of(known)),
    }
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for TaskDefinition {
    fn name(&self) -> &'static str {
        "aws_ecs_task_definition"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let (opt, oc, req) = (AttrSchema::optional, AttrSchema::optional_computed, AttrSchema::required);
        let map = || Type::Map(Box::new(Type::String));
        let auth = Schema::new().attr("access_point_id", opt(Type::String)).attr("iam", opt(Type::String));
        let efs = Schema::new()
            .attr("file_system_id", req(Type::String))
            .attr("root_directory", opt(Type::String))
            .attr("transit_encryption", opt(Type::String))
            .attr("transit_encryption_port", opt(Type::Number))
            .block("authorization_config", list_of(auth, 1));
        let docker = Schema::new()
            .attr("autoprovision", opt(Type::Bool))
            .attr("driver", oc(Type::String))
            .attr("driver_opts", opt(map()))
            .attr("labels", opt(map()))
            .attr("scope", oc(Type::String));
        let fsx_auth = Schema::new().attr("credentials_parameter", req(Type::String)).attr("domain", req(Type::String));
        let fsx = Schema::new()
            .attr("file_system_id", req(Type::String))
            .attr("root_directory", req(Type::String))
            .block("authorization_config", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: 1, force_new: false, schema: fsx_auth });
        let volume = Schema::new()
            .attr("name", req(Type::String))
            .attr("host_path", opt(Type::String))
            .attr("configure_at_launch", oc(Type::Bool))
            .block("efs_volume_configuration", list_of(efs, 1))
            .block("docker_volume_configuration", list_of(docker, 1))
            .block("fsx_windows_file_server_volume_configuration", list_of(fsx, 1));
        let replacing = |b: BlockSchema| BlockSchema { force_new: true, ..b };
        let proxy = Schema::new().attr("container_name", req(Type::String)).attr("properties", opt(map())).attr("type", opt(Type::String));
        let platform = Schema::new().attr("cpu_architecture", opt(Type::String)).attr("operating_system_family", opt(Type::String));
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("arn_without_revision", s(Type::String))
            .attr("revision", s(Type::Number))
            .attr("family", AttrSchema::required(Type::String).force_new())
            .attr("container_definitions", AttrSchema::required(Type::String).force_new())
            .attr("cpu", AttrSchema::optional(Type::String).force_new())
            .attr("memory", AttrSchema::optional(Type::String).force_new())
            .attr("network_mode", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("bridge")))
            .attr("requires_compatibilities", AttrSchema::optional(Type::Set(Box::new(Type::String))).force_new())
            .attr("execution_role_arn", AttrSchema::optional(Type::String).force_new())
            .attr("task_role_arn", AttrSchema::optional(Type::String).force_new())
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .attr("ipc_mode", opt(Type::String).force_new())
            .attr("pid_mode", opt(Type::String).force_new())
            .attr("enable_fault_injection", oc(Type::Bool).force_new())
            .attr("skip_destroy", opt(Type::Bool).default(Value::Bool(false)))
            .attr("track_latest", opt(Type::Bool).default(Value::Bool(false)))
            .block("volume", set_of(volume, true))
            .block("ephemeral_storage", replacing(list_of(Schema::new().attr("size_in_gib", req(Type::Number)), 1)))
            .block("inference_accelerator", set_of(Schema::new().attr("device_name", req(Type::String)).attr("device_type", req(Type::String)), true))
            .block(
                "placement_constraints",
                BlockSchema { max_items: 10, ..set_of(Schema::new().attr("expression", opt(Type::String)).attr("type", req(Type::String)), true) },
            )
            .block("proxy_configuration", replacing(list_of(proxy, 1)))
            .block("runtime_platform", replacing(list_of(platform, 1)))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some(text) = attrs::string(config, "container_definitions") {
            if let Err(e) = normalize_container_definitions(&text, attrs::string(config, "network_mode").as_deref()) {
                out.push(
                    Diagnostic::error("Invalid container_definitions", format!("container_definitions is {e}.")).with_path(attrs::at("container_definitions")),
                );
            }
        }
        let fargate = attrs::strings(config, "requires_compatibilities").iter().any(|c| c == "FARGATE");
        if fargate && attrs::string(config, "network_mode").is_some_and(|m| m != "awsvpc") {
            out.push(
                Diagnostic::error("Invalid network_mode", "Fargate task definitions need network_mode = \"awsvpc\".").with_path(attrs::at("network_mode")),
            );
        }
        if fargate && config.is_wholly_known() && (attrs::string(config, "cpu").is_none() || attrs::string(config, "memory").is_none()) {
            out.push(Diagnostic::error("Missing task size", "Fargate task definitions need cpu and memory at the task level."));
        }
        out
    }

    /// `container_definitions` in canonical form; tags change in place, anything else registers
    /// a new revision.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            let mode = m.get("network_mode").and_then(Value::as_str).map(str::to_string);
            if let Some(text) = m.get("container_definitions").and_then(|v| v.deep_unmark().as_str().map(str::to_string)) {
                if let Ok(n) = normalize_container_definitions(&text, mode.as_deref()) {
                    let sensitive = m.get("container_definitions").is_some_and(Value::contains_sensitive);
                    m.insert("container_definitions".into(), Value::string(n).mark_if(sensitive));
                }
            }
        }
        if let Value::Object(m) = &mut cfg {
            for_items(m, "proxy_configuration", &mut |x| attrs::set_default(x, "type", Value::string("APPMESH")));
        }
        if let Some(Value::Set(volumes)) = cfg.as_map().and_then(|m| m.get("volume")).cloned() {
            // An EFS volume without root_directory mounts the file system's root: AWS reports
            // "/", terraform-provider-aws's default.
            let filled: Vec<Value> = volumes.into_iter().map(fill_efs_root).collect();
            if let Value::Object(m) = &mut cfg {
                m.insert("volume".into(), Value::set(filled));
            }
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        if let (Value::Object(m), Some(p)) = (&mut resp.planned, prior) {
            if resp.requires_replace.is_empty() {
                for k in ["id", "arn", "arn_without_revision", "revision"] {
                    if let Some(v) = p.get_attr(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// Registers the revision; until the read back, its id is the revision's ARN.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        Ok(with_id(p, &register_task_definition(c.clients()?, p, token).await?))
    }

    // One paged ListTaskDefinitions (ACTIVE, newest first): the latest revision of each family,
    // as a person's configuration holds one block per family. Reported by ARN.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut latest: BTreeMap<String, (i64, String)> = BTreeMap::new();
        let mut pages = c.ecs.list_task_definitions().status(aws_sdk_ecs::types::TaskDefinitionStatus::Active).into_paginator().send();
        while let Some(page) = pages.next().await {
            for arn in page.map_err(|e| api_error("ListTaskDefinitions", &e))?.task_definition_arns() {
                let Some((family, rev)) = arn.rsplit('/').next().and_then(|s| s.rsplit_once(':')) else { continue };
                let rev = rev.parse::<i64>().unwrap_or(0);
                if latest.get(family).is_none_or(|(r, _)| *r < rev) {
                    latest.insert(family.to_string(), (rev, arn.clone()));
                }
            }
        }
        Ok(latest.into_iter().map(|(family, (_, arn))| crate::discover::discovered(&arn, Some(&family), &BTreeMap::new())).collect())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let arns: Vec<String> = objects.iter().map(|o| attrs::string(o, "arn").unwrap_or_else(|| id_of(o))).collect();
        if full {
            let targets: Vec<String> = objects.iter().map(read_target).collect();
            let found = per_object(c, &targets, |c, arn| async move { describe_task_definition(&c, arn).await }).await?;
            return Ok(targets
                .iter()
                .zip(objects)
                .map(|(target, p)| found.get(target).cloned().flatten().map(|(t, tags)| task_value(c, &t, &tags, Some(p))))
                .collect());
        }
        // A revision's content never changes: a routine refresh only checks that it is still
        // ACTIVE, by listing (stopping once all are seen), and keeps its tags.
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

    /// The recorded revision (with `track_latest`, the family's newest); a full read (import
    /// and read back).
    async fn read_one(&self, c: &AwsProvider, known: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        Ok(describe_task_definition(c, read_target(known)).await?.map(|(t, tags)| task_value(c, &t, &tags, Some(known))))
    }

    /// Only the tags can change in place.
    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        Ok(update_tags(c.clients()?, prior, p).await?)
    }

    /// Deregisters the revision, unless `skip_destroy` keeps it (then it only leaves the state).
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        if attrs::bool(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        let arn = arn_of(prior)?;
        match c.clients()?.ecs.deregister_task_definition().task_definition(&arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.message().is_some_and(|m| m.contains("INACTIVE") || m.contains("not")) => Ok(()),
            Err(e) => Err(api_error("DeregisterTaskDefinition", &e).into()),
        }
    }

    /// The newest revision of the family, if it is the one this create registered.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_task_definition(c.clients()?, attrs::req_string(planned, "family")?).await?;
        Ok(found.filter(|(_, tags)| has_intent(tags, token)).and_then(|(t, _)| t.task_definition_arn().map(|arn| with_id(planned, arn))))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, &arn_of(state)?).await?)
    }
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
