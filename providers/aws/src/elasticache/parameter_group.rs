//! `aws_elasticache_parameter_group`: `DescribeCacheParameterGroups` by name for one object,
//! one paged listing for many; its `parameter` blocks are the parameters a user set
//! (`DescribeCacheParameters` with source `user`, one call per group). Parameters change in
//! place: `ModifyCacheParameterGroup` (20 a call) for those set, `ResetCacheParameterGroup` for
//! those removed.

use super::*;
use crate::AwsProvider;
use aws_sdk_elasticache::types::{CacheParameterGroup, ParameterNameValue};
use infra_provider::resource::with_id;

pub struct ParameterGroup;

const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

async fn describe(c: &Clients, names: &[String]) -> Result<BTreeMap<String, CacheParameterGroup>, Diagnostic> {
    describe_named!(
        c,
        names,
        describe_cache_parameter_groups,
        cache_parameter_group_name,
        cache_parameter_groups,
        cache_parameter_group_name,
        "DescribeCacheParameterGroups",
        |_: &CacheParameterGroup| true
    )
}

/// The parameters a user set in group `name`.
async fn user_parameters(c: Clients, name: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    let mut out = BTreeMap::new();
    let mut pages = c.elasticache.describe_cache_parameters().cache_parameter_group_name(&name).source("user").max_records(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        for p in page.map_err(|e| api_error("DescribeCacheParameters", &e))?.parameters() {
            if let Some(n) = p.parameter_name() {
                out.insert(n.to_string(), p.parameter_value().unwrap_or_default().to_string());
            }
        }
    }
    Ok(out)
}

fn params_of(p: &Value) -> BTreeMap<String, String> {
    p.get_attr("parameter")
        .and_then(Value::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|x| Some((attrs::string(x, "name")?, attrs::string(x, "value")?)))
        .collect()
}

fn group_value(c: &Clients, g: &CacheParameterGroup, params: &BTreeMap<String, String>, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let name = g.cache_parameter_group_name().unwrap_or_default();
    Value::object([
        ("id", Value::string(name)),
        ("name", Value::string(name)),
        ("arn", opt_string(g.arn())),
        ("description", opt_string(g.description())),
        ("family", opt_string(g.cache_parameter_group_family())),
        ("parameter", Value::set(params.iter().map(|(n, v)| Value::object([("name", Value::string(n)), ("value", Value::string(v))])).collect())),
        tags,
        tags_all,
    ])
}

async fn set_parameters(c: &Clients, name: &str, params: &BTreeMap<String, String>) -> Result<(), Diagnostic> {
    let all: Vec<ParameterNameValue> = params.iter().map(|(n, v)| ParameterNameValue::builder().parameter_name(n).parameter_value(v).build()).collect();
    for chunk in all.chunks(20) {
        c.elasticache
            .modify_cache_parameter_group()
            .cache_parameter_group_name(name)
            .set_parameter_name_values(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api_error("ModifyCacheParameterGroup", &e))?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for ParameterGroup {
    fn name(&self) -> &'static str {
        "aws_elasticache_parameter_group"
    }

    fn schema(&self) -> Schema {
        let map = || Type::Map(Box::new(Type::String));
        let parameter = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("value", AttrSchema::required(Type::String));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("family", AttrSchema::required(Type::String).force_new())
            .attr("description", AttrSchema::optional(Type::String).force_new().default(Value::string(DEFAULT_DESCRIPTION)))
            .attr("tags", AttrSchema::optional(map()))
            .attr("tags_all", AttrSchema::computed(map()))
            .block("parameter", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: parameter })
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut config = config.clone();
        // ElastiCache keeps the name in lower case, as terraform-provider-aws records it.
        let name = attrs::string(&config, "name");
        if let (Value::Object(m), Some(n)) = (&mut config, name) {
            m.insert("name".into(), Value::string(n.to_lowercase()));
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &config);
        if let (Value::Object(m), None) = (&mut resp.planned, prior) {
            m.insert("id".into(), config.get_attr("name").cloned().unwrap_or(Value::Unknown));
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let name = attrs::req_string(p, "name")?;
        c.clients()?
            .once
            .elasticache
            .create_cache_parameter_group()
            .cache_parameter_group_name(&name)
            .cache_parameter_group_family(attrs::req_string(p, "family")?)
            .description(attrs::string(p, "description").unwrap_or_else(|| DEFAULT_DESCRIPTION.into()))
            .set_tags(Some(ec_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateCacheParameterGroup", &e))?;
        Ok(with_id(p, &name))
    }

    /// The parameters, set after the create call (the create takes none).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let params = params_of(planned);
        if !params.is_empty() {
            set_parameters(c.clients()?, &attrs::req_string(created, "id")?, &params).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let names: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe(c, &names).await?;
        let present: Vec<String> = names.iter().filter(|n| found.contains_key(*n)).cloned().collect();
        let params = per_object(c, &present, user_parameters).await?;
        let arns: Vec<String> = found.values().filter_map(|g| g.arn().map(str::to_string)).collect();
        let tags = tags_by_arn(c, objects, &arns, full).await?;
        let none = BTreeMap::new();
        Ok(names
            .iter()
            .zip(objects)
            .map(|(n, p)| found.get(n).map(|g| group_value(c, g, params.get(n).unwrap_or(&none), g.arn().and_then(|a| tags.get(a)).unwrap_or(&none), Some(p))))
            .collect())
    }

    // One paged DescribeCacheParameterGroups, without AWS's own `default.*` groups.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe(c.clients()?, &[]).await?;
        Ok(found.keys().filter(|n| !n.starts_with("default.")).map(|n| crate::discover::discovered(n, Some(n), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let (old, new) = (params_of(prior), params_of(p));
        let removed: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
        for chunk in removed.chunks(20) {
            c.elasticache
                .reset_cache_parameter_group()
                .cache_parameter_group_name(&name)
                .set_parameter_name_values(Some(chunk.iter().map(|n| ParameterNameValue::builder().parameter_name(n).build()).collect()))
                .send()
                .await
                .map_err(|e| api_error("ResetCacheParameterGroup", &e))?;
        }
        let changed: BTreeMap<String, String> = new.into_iter().filter(|(k, v)| old.get(k) != Some(v)).collect();
        set_parameters(c, &name, &changed).await?;
        update_tags(c, &attrs::req_string(prior, "arn")?, prior, p).await?;
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        match c.elasticache.delete_cache_parameter_group().cache_parameter_group_name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) => Ok(()),
            Err(e) => Err(api_error("DeleteCacheParameterGroup", &e).into()),
        }
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let name = attrs::req_string(planned, "name")?;
        let Some(arn) = describe(c, std::slice::from_ref(&name)).await?.get(&name).and_then(|g| g.arn()).map(str::to_string) else { return Ok(None) };
        Ok((tags_of(c.clone(), arn).await?.get(INTENT_TAG).map(String::as_str) == Some(token)).then(|| with_id(planned, &name)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, &attrs::req_string(state, "arn")?).await?)
    }
}
