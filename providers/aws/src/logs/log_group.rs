//! `aws_cloudwatch_log_group`. Its id is its name. Refresh lists the groups, 50 a page
//! (`DescribeLogGroups`: one name prefix per call, so several groups are read by listing the
//! account, one by its name); tags are one `ListTagsForResource` per group, on a full refresh
//! only (a routine one keeps what was recorded). `retention_in_days` and `kms_key_id` change in
//! place; `skip_destroy` keeps the group in AWS when it leaves the state.

use super::gone;
use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_cloudwatchlogs::types::{LogGroup as Group, LogGroupClass};
use infra_provider::resource::with_id;
use infra_provider::*;
use std::collections::BTreeMap;

pub struct LogGroup;

/// The groups named `names` (every group when `names` is empty).
async fn describe(c: &Clients, names: &[String]) -> Result<BTreeMap<String, Group>, Diagnostic> {
    let mut out = BTreeMap::new();
    let mut pages = c.logs.describe_log_groups().set_log_group_name_prefix(match names {
        [one] => Some(one.clone()),
        _ => None,
    });
    let mut token: Option<String> = None;
    loop {
        pages = pages.set_next_token(token.take());
        let page = pages.clone().send().await.map_err(|e| api_error("DescribeLogGroups", &e))?;
        for g in page.log_groups() {
            if let Some(n) = g.log_group_name().filter(|n| names.is_empty() || names.iter().any(|x| x == n)) {
                out.insert(n.to_string(), g.clone());
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The ARN without the `:*` AWS appends for log streams (terraform-provider-aws records so).
fn arn_of(g: &Group) -> String {
    g.arn().unwrap_or_default().trim_end_matches(":*").to_string()
}

async fn tags_of(c: &Clients, arn: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    match c.logs.list_tags_for_resource().resource_arn(&arn).send().await {
        Ok(r) => Ok(user_tags(r.tags().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>()).unwrap_or_default())),
        Err(e) if gone(&e) => Ok(BTreeMap::new()),
        Err(e) => Err(api_error("ListTagsForResource", &e)),
    }
}

fn group_value(c: &Clients, g: &Group, all: &BTreeMap<String, String>, known: Option<&Value>) -> Value {
    let [tags, tags_all] = tag_attrs(all, known, &c.default_tags);
    let keep = |k: &str, default: Value| known.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(default);
    let name = g.log_group_name().unwrap_or_default();
    Value::object([
        ("id", Value::string(name)),
        ("arn", Value::string(arn_of(g))),
        ("name", Value::string(name)),
        ("name_prefix", keep("name_prefix", Value::Null)),
        ("retention_in_days", Value::int(i64::from(g.retention_in_days().unwrap_or(0)))),
        ("kms_key_id", opt_string(g.kms_key_id())),
        ("log_group_class", Value::string(g.log_group_class().map_or("STANDARD", |c| c.as_str()))),
        ("skip_destroy", keep("skip_destroy", Value::Bool(false))),
        tags,
        tags_all,
    ])
}

const RETENTION: [i64; 23] = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

async fn set_retention(c: &Clients, name: &str, days: i64) -> Result<(), Diagnostic> {
    if days == 0 {
        c.logs.delete_retention_policy().log_group_name(name).send().await.map(|_| ()).map_err(|e| api_error("DeleteRetentionPolicy", &e))
    } else {
        let days = i32::try_from(days).map_err(|_| Diagnostic::error("Invalid value", format!("retention_in_days {days} is out of range.")))?;
        c.logs.put_retention_policy().log_group_name(name).retention_in_days(days).send().await.map(|_| ()).map_err(|e| api_error("PutRetentionPolicy", &e))
    }
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for LogGroup {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_log_group"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("retention_in_days", AttrSchema::optional(Type::Number).default(Value::int(0)))
            .attr("kms_key_id", AttrSchema::optional(Type::String))
            .attr("log_group_class", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("STANDARD")))
            .attr("skip_destroy", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some(n) = config.get_attr("retention_in_days").and_then(Value::as_i64).filter(|n| !RETENTION.contains(n)) {
            let allowed: Vec<String> = RETENTION.iter().map(i64::to_string).collect();
            out.push(
                Diagnostic::error("Invalid value", format!("retention_in_days is {n}; expected one of {}.", allowed.join(", ")))
                    .with_path(attrs::at("retention_in_days")),
            );
        }
        if let Some(c) = attrs::string(config, "log_group_class").filter(|c| !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(&c.as_str())) {
            out.push(
                Diagnostic::error("Invalid value", format!("log_group_class is {c:?}; expected STANDARD, INFREQUENT_ACCESS or DELIVERY."))
                    .with_path(attrs::at("log_group_class")),
            );
        }
        out.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        crate::iam::plan_name(&mut resp.planned, prior);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let name = crate::iam::generated_name(p, token);
        let mut tags: std::collections::HashMap<String, String> = attrs::string_map(p, "tags_all").into_iter().collect();
        tags.insert(INTENT_TAG.into(), token.into());
        c.once
            .logs
            .create_log_group()
            .log_group_name(&name)
            .set_kms_key_id(attrs::string(p, "kms_key_id"))
            .set_log_group_class(attrs::string(p, "log_group_class").map(|x| LogGroupClass::from(x.as_str())))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| create_error("CreateLogGroup", &e))?;
        Ok(with_id(p, &name))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let days = planned.get_attr("retention_in_days").and_then(Value::as_i64).unwrap_or(0);
        if days != 0 {
            set_retention(c.clients()?, &attrs::req_string(created, "id")?, days).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe(c, &ids).await?;
        let present: Vec<String> = ids.iter().filter(|i| found.contains_key(*i)).cloned().collect();
        let (mut tags, missing) = split_recorded(&present, full, |id| {
            let o = objects.iter().find(|o| id_of(o) == id)?;
            o.get_attr("tags_all").filter(|t| !t.is_null() && !t.is_unknown()).map(|t| attrs::map_of(Some(t)))
        });
        let arns: Vec<String> = missing.iter().filter_map(|n| found.get(n)).map(arn_of).collect();
        let by_arn = per_object(c, &arns, |c, arn| async move { tags_of(&c, arn).await }).await?;
        for n in &missing {
            if let Some(t) = found.get(n).and_then(|g| by_arn.get(&arn_of(g))) {
                tags.insert(n.clone(), t.clone());
            }
        }
        Ok(ids.iter().zip(objects).map(|(id, o)| found.get(id).map(|g| group_value(c, g, &tags.get(id).cloned().unwrap_or_default(), Some(o)))).collect())
    }

    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe(c.clients()?, &[]).await?;
        Ok(found.keys().map(|n| crate::discover::discovered(n, Some(n), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("retention_in_days") {
            set_retention(c, &name, p.get_attr("retention_in_days").and_then(Value::as_i64).unwrap_or(0)).await?;
        }
        if changed("kms_key_id") {
            match attrs::string(p, "kms_key_id") {
                Some(k) => {
                    c.logs.associate_kms_key().log_group_name(&name).kms_key_id(k).send().await.map(|_| ()).map_err(|e| api_error("AssociateKmsKey", &e))?
                }
                None => c.logs.disassociate_kms_key().log_group_name(&name).send().await.map(|_| ()).map_err(|e| api_error("DisassociateKmsKey", &e))?,
            }
        }
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() || !set.is_empty() {
            let arn = attrs::req_string(prior, "arn")?;
            if !removed.is_empty() {
                c.logs.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
            }
            if !set.is_empty() {
                c.logs.tag_resource().resource_arn(&arn).set_tags(Some(set.into_iter().collect())).send().await.map_err(|e| api_error("TagResource", &e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        if attrs::bool(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        match c.clients()?.logs.delete_log_group().log_group_name(attrs::req_string(prior, "id")?).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteLogGroup", &e).into()),
        }
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let name = crate::iam::generated_name(planned, token);
        let Some(g) = describe(c, std::slice::from_ref(&name)).await?.remove(&name) else { return Ok(None) };
        let tags = match c.logs.list_tags_for_resource().resource_arn(arn_of(&g)).send().await {
            Ok(r) => r.tags().cloned().unwrap_or_default(),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListTagsForResource", &e).into()),
        };
        Ok((tags.get(INTENT_TAG).map(String::as_str) == Some(token)).then(|| with_id(planned, &name)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let arn = attrs::req_string(state, "arn")?;
        c.clients()?.logs.untag_resource().resource_arn(arn).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagResource", &e))?;
        Ok(())
    }
}
