//! `aws_cloudwatch_metric_alarm`: one `DescribeAlarms` per 100 alarm names; tags by ARN, one
//! `ListTagsForResource` per alarm (CloudWatch has no batched tag read), skipped on a routine
//! refresh. `PutMetricAlarm` creates and updates (it replaces the whole alarm, so every setting,
//! the threshold among them, changes in place); the id and import id is the alarm name.

use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, StandardUnit, Statistic, Tag};
use infra_provider::resource::with_id;
use infra_provider::*;
use std::collections::BTreeMap;

pub struct Alarm;

/// A number attribute as the API's float.
pub(crate) fn float(v: &Value, k: &str) -> Option<f64> {
    v.get_attr(k).and_then(Value::as_number).and_then(|n| n.to_string().parse().ok())
}

/// A number attribute as the API's 32-bit integer.
pub(crate) fn int32(v: &Value, k: &str) -> Option<i32> {
    attrs::int(v, k).and_then(|n| i32::try_from(n).ok())
}

fn float_value(f: Option<f64>) -> Value {
    f.and_then(Value::number_from_f64).unwrap_or(Value::Null)
}

fn seq(v: &Value, k: &str) -> Vec<Value> {
    v.get_attr(k).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default()
}

fn dimensions_of(m: &BTreeMap<String, String>) -> Option<Vec<Dimension>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build()).collect())
}

fn dimensions_value(d: &[Dimension]) -> Value {
    if d.is_empty() {
        return Value::Null;
    }
    map_value(&d.iter().filter_map(|d| Some((d.name()?.to_string(), d.value().unwrap_or_default().to_string()))).collect())
}

fn queries_of(p: &Value) -> Result<Vec<MetricDataQuery>, Diagnostic> {
    let mut out = Vec::new();
    for q in seq(p, "metric_query") {
        let metric = seq(&q, "metric").into_iter().next();
        let stat = match metric {
            Some(m) => Some(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .set_namespace(attrs::string(&m, "namespace"))
                            .metric_name(attrs::req_string(&m, "metric_name")?)
                            .set_dimensions(dimensions_of(&attrs::string_map(&m, "dimensions")))
                            .build(),
                    )
                    .set_period(int32(&m, "period"))
                    .set_stat(attrs::string(&m, "stat"))
                    .set_unit(attrs::string(&m, "unit").map(|u| StandardUnit::from(u.as_str())))
                    .build(),
            ),
            None => None,
        };
        out.push(
            MetricDataQuery::builder()
                .id(attrs::req_string(&q, "id")?)
                .set_metric_stat(stat)
                .set_expression(attrs::string(&q, "expression"))
                .set_label(attrs::string(&q, "label"))
                .set_return_data(attrs::bool(&q, "return_data"))
                .set_period(int32(&q, "period"))
                .set_account_id(attrs::string(&q, "account_id"))
                .build(),
        );
    }
    Ok(out)
}

fn queries_value(qs: &[MetricDataQuery]) -> Value {
    Value::set(
        qs.iter()
            .map(|q| {
                let metric: Vec<Value> = q
                    .metric_stat()
                    .map(|s| {
                        let m = s.metric();
                        Value::object([
                            ("dimensions", dimensions_value(m.map(|m| m.dimensions()).unwrap_or_default())),
                            ("metric_name", opt_string(m.and_then(|m| m.metric_name()))),
                            ("namespace", opt_string(m.and_then(|m| m.namespace()))),
                            ("period", opt_int(s.period())),
                            ("stat", opt_string(s.stat())),
                            ("unit", opt_string(s.unit().map(|u| u.as_str()))),
                        ])
                    })
                    .into_iter()
                    .collect();
                Value::object([
                    ("account_id", opt_string(q.account_id())),
                    ("expression", opt_string(q.expression())),
                    ("id", opt_string(q.id())),
                    ("label", opt_string(q.label())),
                    ("period", opt_int(q.period())),
                    ("return_data", q.return_data().map(Value::Bool).unwrap_or(Value::Null)),
                    ("metric", Value::List(metric)),
                ])
            })
            .collect(),
    )
}

/// Alarms among `names`, keyed by name (every alarm when `names` is empty).
async fn describe_alarms(c: &Clients, names: &[String]) -> Result<BTreeMap<String, MetricAlarm>, Diagnostic> {
    let mut out = BTreeMap::new();
    let chunks: Vec<Vec<String>> = if names.is_empty() { vec![Vec::new()] } else { names.chunks(100).map(<[String]>::to_vec).collect() };
    for chunk in chunks {
        let mut pages = c.cloudwatch.describe_alarms().set_alarm_names(Some(chunk).filter(|c| !c.is_empty())).max_records(100).into_paginator().send();
        while let Some(page) = pages.next().await {
            for a in page.map_err(|e| api_error("DescribeAlarms", &e))?.metric_alarms() {
                if let Some(n) = a.alarm_name() {
                    out.insert(n.to_string(), a.clone());
                }
            }
        }
    }
    Ok(out)
}

async fn tags_of(c: Clients, arn: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    let r = c.cloudwatch.list_tags_for_resource().resource_arn(&arn).send().await.map_err(|e| api_error("ListTagsForResource", &e))?;
    Ok(r.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect())
}

fn alarm_value(c: &Clients, a: &MetricAlarm, all_tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let all = user_tags(all_tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let set = |v: &[String]| if v.is_empty() { Value::Null } else { string_set(v.iter().cloned()) };
    Value::object([
        ("id", opt_string(a.alarm_name())),
        ("alarm_name", opt_string(a.alarm_name())),
        ("arn", opt_string(a.alarm_arn())),
        ("actions_enabled", Value::Bool(a.actions_enabled().unwrap_or(true))),
        ("alarm_actions", set(a.alarm_actions())),
        ("alarm_description", opt_string(a.alarm_description())),
        ("comparison_operator", opt_string(a.comparison_operator().map(|o| o.as_str()))),
        ("datapoints_to_alarm", opt_int(a.datapoints_to_alarm())),
        ("dimensions", dimensions_value(a.dimensions())),
        ("evaluate_low_sample_count_percentiles", opt_string(a.evaluate_low_sample_count_percentile())),
        ("evaluation_periods", opt_int(a.evaluation_periods())),
        ("extended_statistic", opt_string(a.extended_statistic())),
        ("insufficient_data_actions", set(a.insufficient_data_actions())),
        ("metric_name", opt_string(a.metric_name())),
        ("namespace", opt_string(a.namespace())),
        ("ok_actions", set(a.ok_actions())),
        ("period", opt_int(a.period())),
        ("statistic", opt_string(a.statistic().map(|s| s.as_str()))),
        ("threshold", float_value(a.threshold())),
        ("threshold_metric_id", opt_string(a.threshold_metric_id())),
        ("treat_missing_data", Value::string(a.treat_missing_data().unwrap_or("missing"))),
        ("unit", opt_string(a.unit().map(|u| u.as_str()))),
        ("metric_query", queries_value(a.metrics())),
        tags,
        tags_all,
    ])
}

/// The whole alarm as one `PutMetricAlarm` (create and every update).
async fn put_alarm(c: &Clients, p: &Value, tags: Option<Vec<Tag>>) -> Outcome<()> {
    let strings = |k: &str| Some(attrs::strings(p, k));
    c.cloudwatch
        .put_metric_alarm()
        .alarm_name(attrs::req_string(p, "alarm_name")?)
        .set_alarm_description(attrs::string(p, "alarm_description"))
        .actions_enabled(attrs::bool(p, "actions_enabled").unwrap_or(true))
        .set_alarm_actions(strings("alarm_actions"))
        .set_ok_actions(strings("ok_actions"))
        .set_insufficient_data_actions(strings("insufficient_data_actions"))
        .set_metric_name(attrs::string(p, "metric_name"))
        .set_namespace(attrs::string(p, "namespace"))
        .set_statistic(attrs::string(p, "statistic").map(|s| Statistic::from(s.as_str())))
        .set_extended_statistic(attrs::string(p, "extended_statistic"))
        .set_dimensions(dimensions_of(&attrs::string_map(p, "dimensions")))
        .set_period(int32(p, "period"))
        .set_unit(attrs::string(p, "unit").map(|u| StandardUnit::from(u.as_str())))
        .set_evaluation_periods(int32(p, "evaluation_periods"))
        .set_datapoints_to_alarm(int32(p, "datapoints_to_alarm"))
        .set_threshold(float(p, "threshold"))
        .set_threshold_metric_id(attrs::string(p, "threshold_metric_id"))
        .comparison_operator(ComparisonOperator::from(attrs::req_string(p, "comparison_operator")?.as_str()))
        .set_treat_missing_data(attrs::string(p, "treat_missing_data"))
        .set_evaluate_low_sample_count_percentile(attrs::string(p, "evaluate_low_sample_count_percentiles"))
        .set_metrics(Some(queries_of(p)?).filter(|q| !q.is_empty()))
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| api_error("PutMetricAlarm", &e))?;
    Ok(())
}

fn cw_tags(tags: &BTreeMap<String, String>, token: Option<&str>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(token.map(|t| (INTENT_TAG, t))).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Alarm {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_metric_alarm"
    }

    fn schema(&self) -> Schema {
        let (o, s) = (AttrSchema::optional, AttrSchema::computed);
        let map = || Type::Map(Box::new(Type::String));
        let strings = || Type::Set(Box::new(Type::String));
        let metric = Schema::new()
            .attr("dimensions", o(map()))
            .attr("metric_name", AttrSchema::required(Type::String))
            .attr("namespace", o(Type::String))
            .attr("period", AttrSchema::required(Type::Number))
            .attr("stat", AttrSchema::required(Type::String))
            .attr("unit", o(Type::String));
        let query = Schema::new()
            .attr("account_id", o(Type::String))
            .attr("expression", o(Type::String))
            .attr("id", AttrSchema::required(Type::String))
            .attr("label", o(Type::String))
            .attr("period", o(Type::Number))
            .attr("return_data", o(Type::Bool))
            .block("metric", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema: metric });
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("alarm_name", AttrSchema::required(Type::String).force_new())
            .attr("actions_enabled", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            .attr("alarm_actions", o(strings()))
            .attr("alarm_description", o(Type::String))
            .attr("comparison_operator", AttrSchema::required(Type::String))
            .attr("datapoints_to_alarm", o(Type::Number))
            .attr("dimensions", o(map()))
            .attr("evaluate_low_sample_count_percentiles", AttrSchema::optional_computed(Type::String))
            .attr("evaluation_periods", AttrSchema::required(Type::Number))
            .attr("extended_statistic", o(Type::String))
            .attr("insufficient_data_actions", o(strings()))
            .attr("metric_name", o(Type::String))
            .attr("namespace", o(Type::String))
            .attr("ok_actions", o(strings()))
            .attr("period", o(Type::Number))
            .attr("statistic", o(Type::String))
            .attr("threshold", o(Type::Number))
            .attr("threshold_metric_id", o(Type::String))
            .attr("treat_missing_data", AttrSchema::optional(Type::String).default(Value::string("missing")))
            .attr("unit", o(Type::String))
            .attr("tags", o(map()))
            .attr("tags_all", s(map()))
            .block("metric_query", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: query })
    }

    /// As terraform-provider-aws: a single metric (`metric_name`) or `metric_query` blocks, not
    /// both; a threshold or a `threshold_metric_id`; a statistic or an extended statistic.
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let set = |k: &str| config.get_attr(k).is_some_and(|v| !v.is_null());
        let queries = config.get_attr("metric_query").and_then(Value::as_seq).is_some_and(|q| !q.is_empty());
        let err = |k: &str, detail: &str| Diagnostic::error("Invalid combination of arguments", detail.to_string()).with_path(attrs::at(k));
        if queries {
            for k in ["metric_name", "namespace", "period", "statistic", "extended_statistic", "dimensions"] {
                if set(k) {
                    out.push(err(k, &format!("{k} cannot be set with metric_query blocks: the queries name their metrics.")));
                }
            }
        } else if !set("metric_name") && !config.get_attr("metric_query").is_some_and(Value::is_unknown) {
            out.push(err("metric_name", "set metric_name (with namespace, period and statistic), or one or more metric_query blocks."));
        }
        out.extend(conflicting(config, "statistic", "extended_statistic", None));
        out.extend(conflicting(config, "threshold", "threshold_metric_id", None));
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let (Value::Object(m), None) = (&mut resp.planned, prior) {
            m.insert("id".into(), config.get_attr("alarm_name").cloned().unwrap_or(Value::Unknown));
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// `PutMetricAlarm` is an upsert by name: the intent tag marks the alarm until it is
    /// recorded, and `adopt` takes back only an alarm that carries this create's token.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let name = attrs::req_string(p, "alarm_name")?;
        if describe_alarms(c, std::slice::from_ref(&name)).await?.contains_key(&name) {
            return Err(Diagnostic::error(
                "Alarm already exists",
                format!("An alarm named {name:?} already exists in {}: import it (infra import ADDR {name}) or choose another alarm_name.", c.region),
            )
            .with_path(attrs::at("alarm_name"))
            .into());
        }
        put_alarm(c, p, Some(cw_tags(&attrs::string_map(p, "tags_all"), Some(token)))).await?;
        Ok(with_id(p, &name))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let names: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_alarms(c, &names).await?;
        let recorded = |name: &str| {
            objects.iter().find(|o| id_of(o) == name).and_then(|o| o.get_attr("tags_all")).filter(|t| t.as_map().is_some()).map(|t| attrs::map_of(Some(t)))
        };
        let (mut tags, missing) = split_recorded(&names.iter().filter(|n| found.contains_key(*n)).cloned().collect::<Vec<_>>(), full, recorded);
        let arns: BTreeMap<String, String> = missing.iter().filter_map(|n| Some((found.get(n)?.alarm_arn()?.to_string(), n.clone()))).collect();
        let by_arn = per_object(c, &arns.keys().cloned().collect::<Vec<_>>(), tags_of).await?;
        for (arn, t) in by_arn {
            if let Some(n) = arns.get(&arn) {
                tags.insert(n.clone(), t);
            }
        }
        Ok(names.iter().zip(objects).map(|(n, p)| found.get(n).map(|a| alarm_value(c, a, tags.get(n).unwrap_or(&BTreeMap::new()), Some(p)))).collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("tags", Value::Null)]))
    }

    // One paged DescribeAlarms (an alarm has no VPC: every one in the region).
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_alarms(c.clients()?, &[]).await?;
        Ok(found.keys().map(|n| crate::discover::discovered(n, Some(n), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let arn = attrs::req_string(prior, "arn")?;
        put_alarm(c, p, None).await?;
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() {
            c.cloudwatch.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
        }
        if !set.is_empty() {
            c.cloudwatch.tag_resource().resource_arn(&arn).set_tags(Some(cw_tags(&set, None))).send().await.map_err(|e| api_error("TagResource", &e))?;
        }
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        match c.cloudwatch.delete_alarms().alarm_names(&name).send().await {
            Ok(_) => Ok(()),
            Err(e) if code_of(&e).as_deref() == Some("ResourceNotFound") => Ok(()),
            Err(e) => Err(api_error("DeleteAlarms", &e).into()),
        }
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let name = attrs::req_string(planned, "alarm_name")?;
        let Some(arn) = describe_alarms(c, std::slice::from_ref(&name)).await?.get(&name).and_then(|a| a.alarm_arn()).map(str::to_string) else {
            return Ok(None);
        };
        let tags = tags_of(c.clone(), arn).await?;
        Ok((tags.get(INTENT_TAG).map(String::as_str) == Some(token)).then(|| with_id(planned, &name)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let arn = attrs::req_string(state, "arn")?;
        c.clients()?.cloudwatch.untag_resource().resource_arn(arn).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagResource", &e))?;
        Ok(())
    }
}
