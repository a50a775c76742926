//! `aws_appautoscaling_policy`: one `DescribeScalingPolicies` per service namespace and 50 policy
//! names, matched by resource, dimension and name. `PutScalingPolicy` creates and updates (every
//! setting in place); as in terraform-provider-aws the id is the policy name and the import id
//! `service-namespace/resource-id/scalable-dimension/policy-name`. A policy is unique per
//! resource, dimension and name, so an interrupted create is found by that key.

use super::*;
use crate::AwsProvider;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, MetricDimension, MetricStatistic, MetricType, PolicyType,
    PredefinedMetricSpecification, ScalingPolicy, StepAdjustment, StepScalingPolicyConfiguration, TargetTrackingMetric, TargetTrackingMetricDataQuery,
    TargetTrackingMetricDimension, TargetTrackingMetricStat, TargetTrackingScalingPolicyConfiguration,
};
use infra_provider::resource::with_id;

pub struct Policy;

type Key = (String, String, String, String);

fn key(v: &Value) -> Key {
    let s = |k| attrs::string(v, k).unwrap_or_default();
    (s("service_namespace"), s("resource_id"), s("scalable_dimension"), attrs::string(v, "name").unwrap_or_else(|| id_of(v)))
}

fn key_of(p: &ScalingPolicy) -> Key {
    (p.service_namespace().as_str().into(), p.resource_id().into(), p.scalable_dimension().as_str().into(), p.policy_name().into())
}

async fn describe_policies(c: &Clients, keys: &[Key]) -> Result<BTreeMap<Key, ScalingPolicy>, Diagnostic> {
    let mut by_ns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for k in keys {
        by_ns.entry(k.0.as_str()).or_default().push(k.3.clone());
    }
    let mut out = BTreeMap::new();
    for (ns, mut names) in by_ns {
        names.sort();
        names.dedup();
        for chunk in names.chunks(50) {
            let mut pages = c
                .autoscaling
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::from(ns))
                .set_policy_names(Some(chunk.to_vec()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for p in page.map_err(|e| api_error("DescribeScalingPolicies", &e))?.scaling_policies() {
                    let k = key_of(p);
                    if keys.contains(&k) {
                        out.insert(k, p.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

fn float(v: &Value, k: &str) -> Option<f64> {
    v.get_attr(k).and_then(Value::as_number).and_then(|n| n.to_string().parse().ok())
}

fn int32(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Result<T, Diagnostic> {
    r.map_err(|e| Diagnostic::error("Invalid scaling policy", format!("{what}: {e}.")))
}

/// A bound as Terraform writes it: a string holding a number, empty for none.
fn bound(v: &Value, k: &str) -> Result<Option<f64>, Diagnostic> {
    match attrs::string(v, k).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| Diagnostic::error("Invalid value", format!("{k} = {s:?} is not a number."))),
    }
}

fn bound_value(f: Option<f64>) -> Value {
    f.map(|f| Value::string(if f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", f as i64) } else { f.to_string() })).unwrap_or(Value::Null)
}

fn dims_of(v: &Value) -> Vec<(String, String)> {
    items(v, "dimensions").iter().filter_map(|d| Some((attrs::string(d, "name")?, attrs::string(d, "value")?))).collect()
}

fn dims_value<'a>(d: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    Value::set(d.map(|(n, v)| Value::object([("name", Value::string(n)), ("value", Value::string(v))])).collect())
}

fn step_config(p: &Value) -> Result<Option<StepScalingPolicyConfiguration>, Diagnostic> {
    let Some(s) = first(p, "step_scaling_policy_configuration") else { return Ok(None) };
    let mut steps = Vec::new();
    for a in items(&s, "step_adjustment") {
        steps.push(built(
            StepAdjustment::builder()
                .set_metric_interval_lower_bound(bound(&a, "metric_interval_lower_bound")?)
                .set_metric_interval_upper_bound(bound(&a, "metric_interval_upper_bound")?)
                .set_scaling_adjustment(int32(&a, "scaling_adjustment"))
                .build(),
            "step_adjustment",
        )?);
    }
    Ok(Some(
        StepScalingPolicyConfiguration::builder()
            .set_adjustment_type(attrs::string(&s, "adjustment_type").map(|t| AdjustmentType::from(t.as_str())))
            .set_cooldown(int32(&s, "cooldown"))
            .set_metric_aggregation_type(attrs::string(&s, "metric_aggregation_type").map(|t| MetricAggregationType::from(t.as_str())))
            .set_min_adjustment_magnitude(int32(&s, "min_adjustment_magnitude"))
            .set_step_adjustments(Some(steps).filter(|s| !s.is_empty()))
            .build(),
    ))
}

fn customized(m: &Value) -> Result<CustomizedMetricSpecification, Diagnostic> {
    let mut dims = Vec::new();
    for (n, v) in dims_of(m) {
        dims.push(built(MetricDimension::builder().name(n).value(v).build(), "dimensions")?);
    }
    let mut queries = Vec::new();
    for q in items(m, "metrics") {
        let stat = match first(&q, "metric_stat") {
            Some(st) => {
                let metric = first(&st, "metric").unwrap_or(Value::Null);
                let mut mdims = Vec::new();
                for (n, v) in dims_of(&metric) {
                    mdims.push(built(TargetTrackingMetricDimension::builder().name(n).value(v).build(), "dimensions")?);
                }
                let metric = TargetTrackingMetric::builder()
                    .set_metric_name(attrs::string(&metric, "metric_name"))
                    .set_namespace(attrs::string(&metric, "namespace"))
                    .set_dimensions(Some(mdims).filter(|d| !d.is_empty()))
                    .build();
                Some(built(
                    TargetTrackingMetricStat::builder().metric(metric).set_stat(attrs::string(&st, "stat")).set_unit(attrs::string(&st, "unit")).build(),
                    "metric_stat",
                )?)
            }
            None => None,
        };
        queries.push(built(
            TargetTrackingMetricDataQuery::builder()
                .set_id(attrs::string(&q, "id"))
                .set_expression(attrs::string(&q, "expression"))
                .set_label(attrs::string(&q, "label"))
                .set_return_data(attrs::bool(&q, "return_data"))
                .set_metric_stat(stat)
                .build(),
            "metrics",
        )?);
    }
    Ok(CustomizedMetricSpecification::builder()
        .set_metric_name(attrs::string(m, "metric_name"))
        .set_namespace(attrs::string(m, "namespace"))
        .set_statistic(attrs::string(m, "statistic").map(|s| MetricStatistic::from(s.as_str())))
        .set_unit(attrs::string(m, "unit"))
        .set_dimensions(Some(dims).filter(|d| !d.is_empty()))
        .set_metrics(Some(queries).filter(|q| !q.is_empty()))
        .build())
}

fn tracking_config(p: &Value) -> Result<Option<TargetTrackingScalingPolicyConfiguration>, Diagnostic> {
    let Some(t) = first(p, "target_tracking_scaling_policy_configuration") else { return Ok(None) };
    let predefined = match first(&t, "predefined_metric_specification") {
        Some(m) => Some(built(
            PredefinedMetricSpecification::builder()
                .set_predefined_metric_type(attrs::string(&m, "predefined_metric_type").map(|t| MetricType::from(t.as_str())))
                .set_resource_label(attrs::string(&m, "resource_label"))
                .build(),
            "predefined_metric_specification",
        )?),
        None => None,
    };
    let custom = first(&t, "customized_metric_specification").map(|m| customized(&m)).transpose()?;
    Ok(Some(built(
        TargetTrackingScalingPolicyConfiguration::builder()
            .set_target_value(float(&t, "target_value"))
            .set_predefined_metric_specification(predefined)
            .set_customized_metric_specification(custom)
            .set_scale_in_cooldown(int32(&t, "scale_in_cooldown"))
            .set_scale_out_cooldown(int32(&t, "scale_out_cooldown"))
            .set_disable_scale_in(attrs::bool(&t, "disable_scale_in"))
            .build(),
        "target_tracking_scaling_policy_configuration",
    )?))
}

fn step_value(s: Option<&StepScalingPolicyConfiguration>) -> Value {
    let Some(s) = s else { return Value::List(Vec::new()) };
    let steps = s
        .step_adjustments()
        .iter()
        .map(|a| {
            Value::object([
                ("metric_interval_lower_bound", bound_value(a.metric_interval_lower_bound())),
                ("metric_interval_upper_bound", bound_value(a.metric_interval_upper_bound())),
                ("scaling_adjustment", Value::int(a.scaling_adjustment().into())),
            ])
        })
        .collect();
    Value::List(vec![Value::object([
        ("adjustment_type", opt_string(s.adjustment_type().map(|t| t.as_str()))),
        ("cooldown", opt_int(s.cooldown())),
        ("metric_aggregation_type", opt_string(s.metric_aggregation_type().map(|t| t.as_str()))),
        ("min_adjustment_magnitude", opt_int(s.min_adjustment_magnitude())),
        ("step_adjustment", Value::set(steps)),
    ])])
}

fn custom_value(m: &CustomizedMetricSpecification) -> Value {
    let metrics = m
        .metrics()
        .iter()
        .map(|q| {
            let stat: Vec<Value> = q
                .metric_stat()
                .map(|st| {
                    let metric: Vec<Value> = st
                        .metric()
                        .map(|mm| {
                            Value::object([
                                ("metric_name", opt_string(mm.metric_name())),
                                ("namespace", opt_string(mm.namespace())),
                                ("dimensions", dims_value(mm.dimensions().iter().map(|d| (d.name(), d.value())))),
                            ])
                        })
                        .into_iter()
                        .collect();
                    Value::object([("stat", Value::string(st.stat())), ("unit", opt_string(st.unit())), ("metric", Value::List(metric))])
                })
                .into_iter()
                .collect();
            Value::object([
                ("expression", opt_string(q.expression())),
                ("id", Value::string(q.id())),
                ("label", opt_string(q.label())),
                ("return_data", q.return_data().map(Value::Bool).unwrap_or(Value::Null)),
                ("metric_stat", Value::List(stat)),
            ])
        })
        .collect();
    Value::object([
        ("metric_name", opt_string(m.metric_name())),
        ("namespace", opt_string(m.namespace())),
        ("statistic", opt_string(m.statistic().map(|s| s.as_str()))),
        ("unit", opt_string(m.unit())),
        ("dimensions", dims_value(m.dimensions().iter().map(|d| (d.name(), d.value())))),
        ("metrics", Value::set(metrics)),
    ])
}

fn tracking_value(t: Option<&TargetTrackingScalingPolicyConfiguration>) -> Value {
    let Some(t) = t else { return Value::List(Vec::new()) };
    let predefined: Vec<Value> = t
        .predefined_metric_specification()
        .map(|m| {
            Value::object([("predefined_metric_type", Value::string(m.predefined_metric_type().as_str())), ("resource_label", opt_string(m.resource_label()))])
        })
        .into_iter()
        .collect();
    let custom: Vec<Value> = t.customized_metric_specification().map(custom_value).into_iter().collect();
    Value::List(vec![Value::object([
        ("disable_scale_in", t.disable_scale_in().map(Value::Bool).unwrap_or(Value::Null)),
        ("scale_in_cooldown", opt_int(t.scale_in_cooldown())),
        ("scale_out_cooldown", opt_int(t.scale_out_cooldown())),
        ("target_value", Value::number_from_f64(t.target_value()).unwrap_or(Value::Null)),
        ("customized_metric_specification", Value::List(custom)),
        ("predefined_metric_specification", Value::List(predefined)),
    ])])
}

fn policy_value(p: &ScalingPolicy) -> Value {
    Value::object([
        ("id", Value::string(p.policy_name())),
        ("name", Value::string(p.policy_name())),
        ("arn", Value::string(p.policy_arn())),
        ("alarm_arns", Value::List(p.alarms().iter().map(|a| Value::string(a.alarm_arn())).collect())),
        ("policy_type", Value::string(p.policy_type().as_str())),
        ("resource_id", Value::string(p.resource_id())),
        ("scalable_dimension", Value::string(p.scalable_dimension().as_str())),
        ("service_namespace", Value::string(p.service_namespace().as_str())),
        ("step_scaling_policy_configuration", step_value(p.step_scaling_policy_configuration())),
        ("target_tracking_scaling_policy_configuration", tracking_value(p.target_tracking_scaling_policy_configuration())),
    ])
}

async fn put(c: &Clients, p: &Value) -> Outcome<()> {
    c.autoscaling
        .put_scaling_policy()
        .policy_name(attrs::req_string(p, "name")?)
        .service_namespace(namespace(p)?)
        .resource_id(attrs::req_string(p, "resource_id")?)
        .scalable_dimension(dimension(p)?)
        .set_policy_type(attrs::string(p, "policy_type").map(|t| PolicyType::from(t.as_str())))
        .set_step_scaling_policy_configuration(step_config(p)?)
        .set_target_tracking_scaling_policy_configuration(tracking_config(p)?)
        .send()
        .await
        .map_err(|e| api_error("PutScalingPolicy", &e))?;
    Ok(())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Policy {
    fn name(&self) -> &'static str {
        "aws_appautoscaling_policy"
    }

    fn schema(&self) -> Schema {
        let (o, r) = (AttrSchema::optional, AttrSchema::required);
        let dims = || Schema::new().attr("name", r(Type::String)).attr("value", r(Type::String));
        let step_adjustment = Schema::new()
            .attr("metric_interval_lower_bound", o(Type::String))
            .attr("metric_interval_upper_bound", o(Type::String))
            .attr("scaling_adjustment", r(Type::Number));
        let step = Schema::new()
            .attr("adjustment_type", o(Type::String))
            .attr("cooldown", o(Type::Number))
            .attr("metric_aggregation_type", o(Type::String))
            .attr("min_adjustment_magnitude", o(Type::Number))
            .block("step_adjustment", set_of(step_adjustment));
        let metric = Schema::new().attr("metric_name", r(Type::String)).attr("namespace", r(Type::String)).block("dimensions", set_of(dims()));
        let metric_stat = Schema::new()
            .attr("stat", r(Type::String))
            .attr("unit", o(Type::String))
            .block("metric", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: 1, force_new: false, schema: metric });
        let metrics = Schema::new()
            .attr("expression", o(Type::String))
            .attr("id", r(Type::String))
            .attr("label", o(Type::String))
            .attr("return_data", o(Type::Bool))
            .block("metric_stat", list1(metric_stat));
        let custom = Schema::new()
            .attr("metric_name", o(Type::String))
            .attr("namespace", o(Type::String))
            .attr("statistic", o(Type::String))
            .attr("unit", o(Type::String))
            .block("dimensions", set_of(dims()))
            .block("metrics", set_of(metrics));
        let predefined = Schema::new().attr("predefined_metric_type", r(Type::String)).attr("resource_label", o(Type::String));
        let tracking = Schema::new()
            .attr("disable_scale_in", o(Type::Bool))
            .attr("scale_in_cooldown", o(Type::Number))
            .attr("scale_out_cooldown", o(Type::Number))
            .attr("target_value", r(Type::Number))
            .block("customized_metric_specification", list1(custom))
            .block("predefined_metric_specification", list1(predefined));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("alarm_arns", AttrSchema::computed(Type::List(Box::new(Type::String))))
            .attr("name", r(Type::String).force_new())
            .attr("policy_type", AttrSchema::optional(Type::String).default(Value::string("StepScaling")))
            .attr("resource_id", r(Type::String).force_new())
            .attr("scalable_dimension", r(Type::String).force_new())
            .attr("service_namespace", r(Type::String).force_new())
            .block("step_scaling_policy_configuration", list1(step))
            .block("target_tracking_scaling_policy_configuration", list1(tracking))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let has = |k: &str| config.get_attr(k).and_then(Value::as_seq).is_some_and(|s| !s.is_empty());
        let ty = attrs::string(config, "policy_type").unwrap_or_else(|| "StepScaling".into());
        let mut out = Vec::new();
        if ty == "TargetTrackingScaling" && has("step_scaling_policy_configuration")
            || ty == "StepScaling" && has("target_tracking_scaling_policy_configuration")
        {
            out.push(
                Diagnostic::error(
                    "Configuration does not match policy_type",
                    format!(
                        "policy_type {ty:?} takes {} only.",
                        if ty == "StepScaling" { "step_scaling_policy_configuration" } else { "target_tracking_scaling_policy_configuration" }
                    ),
                )
                .with_path(attrs::at("policy_type")),
            );
        }
        out
    }

    fn plan(&self, _c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            match prior {
                None => {
                    m.insert("id".into(), config.get_attr("name").cloned().unwrap_or(Value::Unknown));
                }
                // A changed policy is put again: AWS replaces the alarms of a target tracking
                // policy (and moto the policy's ARN too).
                Some(prior) if !prior.deep_unmark().equals(&Value::Object(m.clone()).deep_unmark()) => {
                    m.insert("alarm_arns".into(), Value::Unknown);
                    m.insert("arn".into(), Value::Unknown);
                }
                Some(_) => {}
            }
        }
        resp
    }

    /// `PutScalingPolicy` is an upsert: an existing policy of the name would be taken over
    /// silently, so it is refused here and left to `infra import`.
    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let k = key(p);
        if describe_policies(c, std::slice::from_ref(&k)).await?.contains_key(&k) {
            return Err(Diagnostic::error(
                "Scaling policy already exists",
                format!("{} already exists on {}: import it (infra import ADDR {}/{}/{}/{}).", k.3, k.1, k.0, k.1, k.2, k.3),
            )
            .with_path(attrs::at("name"))
            .into());
        }
        put(c, p).await?;
        Ok(with_id(p, &k.3))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let keys: Vec<Key> = objects.iter().map(key).collect();
        let found = describe_policies(c.clients()?, &keys).await?;
        Ok(keys.iter().map(|k| found.get(k).map(policy_value)).collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        let (ns, rid, rest) = split_import(id, 2, "service-namespace/resource-id/scalable-dimension/policy-name")?;
        Ok(Value::object([
            ("id", Value::string(rest[1].clone())),
            ("name", Value::string(rest[1].clone())),
            ("service_namespace", Value::string(ns)),
            ("resource_id", Value::string(rid)),
            ("scalable_dimension", Value::string(rest[0].clone())),
        ]))
    }

    async fn update(&self, c: &AwsProvider, _prior: &Value, p: &Value) -> Outcome<()> {
        put(c.clients()?, p).await
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        match c
            .autoscaling
            .delete_scaling_policy()
            .policy_name(attrs::req_string(prior, "name")?)
            .service_namespace(namespace(prior)?)
            .resource_id(attrs::req_string(prior, "resource_id")?)
            .scalable_dimension(dimension(prior)?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteScalingPolicy", &e).into()),
        }
    }

    /// The policy at the planned key: it did not exist when the create was sent.
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let k = key(planned);
        Ok(describe_policies(c.clients()?, std::slice::from_ref(&k)).await?.contains_key(&k).then(|| with_id(planned, &k.3)))
    }

    // One paged DescribeScalingPolicies for ECS, as the targets.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.autoscaling.describe_scaling_policies().service_namespace(ServiceNamespace::Ecs).into_paginator().send();
        while let Some(page) = pages.next().await {
            for p in page.map_err(|e| api_error("DescribeScalingPolicies", &e))?.scaling_policies() {
                let id = format!("{}/{}/{}/{}", p.service_namespace().as_str(), p.resource_id(), p.scalable_dimension().as_str(), p.policy_name());
                out.push(crate::discover::discovered(&id, Some(p.policy_name()), &BTreeMap::new()));
            }
        }
        Ok(out)
    }
}
