//! `aws_appautoscaling_target`: one `DescribeScalableTargets` per service namespace and 50
//! resource ids (the API's limit). Tags by ARN, one call per target, only for targets that
//! carry tags in configuration or state (an untagged target costs no call; moto 5.2.5 has no
//! tag operations for this API), skipped on a routine refresh. A target is unique per
//! namespace, resource and dimension, so an interrupted create is found by that key. `RegisterScalableTarget` creates and updates (min and max capacity, the role and the
//! suspended state change in place). As in terraform-provider-aws the id is the resource id and
//! the import id `service-namespace/resource-id/scalable-dimension`.

use super::*;
use crate::AwsProvider;
use aws_sdk_applicationautoscaling::types::{ScalableTarget, SuspendedState};
use infra_provider::resource::with_id;

pub struct Target;

/// (namespace, resource id, dimension) of an object.
fn key(v: &Value) -> (String, String, String) {
    let s = |k| attrs::string(v, k).unwrap_or_default();
    (s("service_namespace"), attrs::string(v, "resource_id").unwrap_or_else(|| id_of(v)), s("scalable_dimension"))
}

/// The targets of `keys`, found by namespace in chunks of 50 resource ids.
async fn describe_targets(c: &Clients, keys: &[(String, String, String)]) -> Result<BTreeMap<(String, String, String), ScalableTarget>, Diagnostic> {
    let mut by_ns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (ns, rid, _) in keys {
        by_ns.entry(ns.as_str()).or_default().push(rid.clone());
    }
    let mut out = BTreeMap::new();
    for (ns, mut rids) in by_ns {
        rids.sort();
        rids.dedup();
        for chunk in rids.chunks(50) {
            let mut pages = c
                .autoscaling
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::from(ns))
                .set_resource_ids(Some(chunk.to_vec()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for t in page.map_err(|e| api_error("DescribeScalableTargets", &e))?.scalable_targets() {
                    out.insert(
                        (t.service_namespace().as_str().to_string(), t.resource_id().to_string(), t.scalable_dimension().as_str().to_string()),
                        t.clone(),
                    );
                }
            }
        }
    }
    Ok(out)
}

fn suspended_value(s: Option<&SuspendedState>) -> Value {
    let Some(s) = s else { return Value::List(Vec::new()) };
    // AWS reports all three as false when nothing is suspended: no block, as configured.
    let flags = [s.dynamic_scaling_in_suspended(), s.dynamic_scaling_out_suspended(), s.scheduled_scaling_suspended()];
    if flags.iter().all(|f| *f != Some(true)) {
        return Value::List(Vec::new());
    }
    let b = |f: Option<bool>| Value::Bool(f.unwrap_or(false));
    Value::List(vec![Value::object([
        ("dynamic_scaling_in_suspended", b(flags[0])),
        ("dynamic_scaling_out_suspended", b(flags[1])),
        ("scheduled_scaling_suspended", b(flags[2])),
    ])])
}

fn target_value(c: &Clients, t: &ScalableTarget, all_tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let all = user_tags(all_tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    Value::object([
        ("id", Value::string(t.resource_id())),
        ("arn", opt_string(t.scalable_target_arn())),
        ("max_capacity", Value::int(t.max_capacity().into())),
        ("min_capacity", Value::int(t.min_capacity().into())),
        ("resource_id", Value::string(t.resource_id())),
        ("role_arn", Value::string(t.role_arn())),
        ("scalable_dimension", Value::string(t.scalable_dimension().as_str())),
        ("service_namespace", Value::string(t.service_namespace().as_str())),
        ("suspended_state", suspended_value(t.suspended_state())),
        tags,
        tags_all,
    ])
}

fn suspended_of(p: &Value) -> Option<SuspendedState> {
    let s = first(p, "suspended_state")?;
    Some(
        SuspendedState::builder()
            .set_dynamic_scaling_in_suspended(attrs::bool(&s, "dynamic_scaling_in_suspended"))
            .set_dynamic_scaling_out_suspended(attrs::bool(&s, "dynamic_scaling_out_suspended"))
            .set_scheduled_scaling_suspended(attrs::bool(&s, "scheduled_scaling_suspended"))
            .build(),
    )
}

async fn register(c: &Clients, p: &Value, tags: Option<HashMap<String, String>>) -> Outcome<Option<String>> {
    let cap = |k: &str| -> Result<i32, Diagnostic> {
        i32::try_from(attrs::req_int(p, k)?).map_err(|_| Diagnostic::error("Invalid value", format!("{k} is out of range.")).with_path(attrs::at(k)))
    };
    let out = c
        .autoscaling
        .register_scalable_target()
        .service_namespace(namespace(p)?)
        .resource_id(attrs::req_string(p, "resource_id")?)
        .scalable_dimension(dimension(p)?)
        .min_capacity(cap("min_capacity")?)
        .max_capacity(cap("max_capacity")?)
        .set_role_arn(attrs::string(p, "role_arn"))
        .set_suspended_state(suspended_of(p))
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| api_error("RegisterScalableTarget", &e))?;
    Ok(out.scalable_target_arn().map(str::to_string))
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Target {
    fn name(&self) -> &'static str {
        "aws_appautoscaling_target"
    }

    fn schema(&self) -> Schema {
        let (o, r) = (AttrSchema::optional, AttrSchema::required);
        let map = || Type::Map(Box::new(Type::String));
        let suspended = Schema::new()
            .attr("dynamic_scaling_in_suspended", o(Type::Bool))
            .attr("dynamic_scaling_out_suspended", o(Type::Bool))
            .attr("scheduled_scaling_suspended", o(Type::Bool));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("max_capacity", r(Type::Number))
            .attr("min_capacity", r(Type::Number))
            .attr("resource_id", r(Type::String).force_new())
            .attr("role_arn", AttrSchema::optional_computed(Type::String))
            .attr("scalable_dimension", r(Type::String).force_new())
            .attr("service_namespace", r(Type::String).force_new())
            .attr("tags", o(map()))
            .attr("tags_all", AttrSchema::computed(map()))
            .block("suspended_state", list1(suspended))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match (attrs::int(config, "min_capacity"), attrs::int(config, "max_capacity")) {
            (Some(min), Some(max)) if min > max => vec![Diagnostic::error(
                "Invalid capacity",
                format!("min_capacity ({min}) is greater than max_capacity ({max}); the target cannot scale within those bounds."),
            )
            .with_path(attrs::at("min_capacity"))],
            _ => Vec::new(),
        }
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let (Value::Object(m), None) = (&mut resp.planned, prior) {
            m.insert("id".into(), config.get_attr("resource_id").cloned().unwrap_or(Value::Unknown));
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// `RegisterScalableTarget` is an upsert: a target that already exists would be taken
    /// over silently, so it is refused here and left to `infra import`.
    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let k = key(p);
        if describe_targets(c, std::slice::from_ref(&k)).await?.contains_key(&k) {
            return Err(Diagnostic::error(
                "Scalable target already exists",
                format!("{} {} is already registered with {}: import it (infra import ADDR {}/{}/{}).", k.0, k.1, k.2, k.0, k.1, k.2),
            )
            .with_path(attrs::at("resource_id"))
            .into());
        }
        let tags = attrs::string_map(p, "tags_all");
        register(c, p, Some(aas_tags(&tags, None)).filter(|t| !t.is_empty())).await?;
        Ok(with_id(p, &k.1))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let keys: Vec<_> = objects.iter().map(key).collect();
        let found = describe_targets(c, &keys).await?;
        let tagged = |p: &Value| !attrs::string_map(p, "tags_all").is_empty() || !attrs::string_map(p, "tags").is_empty();
        let arns: Vec<String> =
            keys.iter().zip(objects).filter(|(_, p)| tagged(p)).filter_map(|(k, _)| found.get(k)?.scalable_target_arn().map(str::to_string)).collect();
        let recorded = |arn: &str| {
            objects
                .iter()
                .find(|o| attrs::string(o, "arn").as_deref() == Some(arn))
                .and_then(|o| o.get_attr("tags_all"))
                .filter(|t| t.as_map().is_some())
                .map(|t| attrs::map_of(Some(t)))
        };
        let (mut tags, missing) = split_recorded(&arns, full, recorded);
        tags.extend(per_object(c, &missing, tags_of).await?);
        let none = BTreeMap::new();
        Ok(keys
            .iter()
            .zip(objects)
            .map(|(k, p)| found.get(k).map(|t| target_value(c, t, t.scalable_target_arn().and_then(|a| tags.get(a)).unwrap_or(&none), Some(p))))
            .collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        let (ns, rid, rest) = split_import(id, 1, "service-namespace/resource-id/scalable-dimension")?;
        Ok(Value::object([
            ("id", Value::string(rid.clone())),
            ("service_namespace", Value::string(ns)),
            ("resource_id", Value::string(rid)),
            ("scalable_dimension", Value::string(rest[0].clone())),
        ]))
    }

    // One paged DescribeScalableTargets for ECS (the only namespace the provider's stacks
    // scale); a target has no VPC: every one in the region.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.autoscaling.describe_scalable_targets().service_namespace(ServiceNamespace::Ecs).into_paginator().send();
        while let Some(page) = pages.next().await {
            for t in page.map_err(|e| api_error("DescribeScalableTargets", &e))?.scalable_targets() {
                let id = format!("{}/{}/{}", t.service_namespace().as_str(), t.resource_id(), t.scalable_dimension().as_str());
                let mut v = crate::discover::discovered(&id, Some(t.resource_id()), &BTreeMap::new());
                if let Value::Object(m) = &mut v {
                    m.insert("service_namespace".into(), Value::string(t.service_namespace().as_str()));
                    m.insert("resource_id".into(), Value::string(t.resource_id()));
                    m.insert("scalable_dimension".into(), Value::string(t.scalable_dimension().as_str()));
                }
                out.push(v);
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        register(c, p, None).await?;
        let arn = attrs::req_string(prior, "arn")?;
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() {
            c.autoscaling.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
        }
        if !set.is_empty() {
            c.autoscaling.tag_resource().resource_arn(&arn).set_tags(Some(aas_tags(&set, None))).send().await.map_err(|e| api_error("TagResource", &e))?;
        }
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        match c
            .autoscaling
            .deregister_scalable_target()
            .service_namespace(namespace(prior)?)
            .resource_id(attrs::req_string(prior, "resource_id")?)
            .scalable_dimension(dimension(prior)?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeregisterScalableTarget", &e).into()),
        }
    }

    /// The target at the planned key: it did not exist when the create was sent (`create`
    /// checks), so one there now is the create's.
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let k = key(planned);
        Ok(describe_targets(c.clients()?, std::slice::from_ref(&k)).await?.contains_key(&k).then(|| with_id(planned, &k.1)))
    }

    fn to_hcl(&self, state: &Value) -> String {
        hcl::body(&self.schema(), state)
    }
}
