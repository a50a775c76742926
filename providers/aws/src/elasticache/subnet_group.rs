//! `aws_elasticache_subnet_group`: `DescribeCacheSubnetGroups` by name for one object, one
//! paged listing for many. ElastiCache stores the name in lower case, as terraform-provider-aws
//! records it. A delete waits while a replication group AWS is still deleting holds the group
//! (`CacheSubnetGroupInUse`).

use super::*;
use crate::AwsProvider;
use aws_sdk_elasticache::types::CacheSubnetGroup;
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct SubnetGroup;

const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

async fn describe(c: &Clients, names: &[String]) -> Result<BTreeMap<String, CacheSubnetGroup>, Diagnostic> {
    describe_named!(
        c,
        names,
        describe_cache_subnet_groups,
        cache_subnet_group_name,
        cache_subnet_groups,
        cache_subnet_group_name,
        "DescribeCacheSubnetGroups",
        |_: &CacheSubnetGroup| true
    )
}

fn group_value(c: &Clients, g: &CacheSubnetGroup, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let name = g.cache_subnet_group_name().unwrap_or_default();
    Value::object([
        ("id", Value::string(name)),
        ("name", Value::string(name)),
        ("arn", opt_string(g.arn())),
        ("description", opt_string(g.cache_subnet_group_description())),
        ("subnet_ids", string_set(g.subnets().iter().filter_map(|s| s.subnet_identifier()))),
        ("vpc_id", opt_string(g.vpc_id())),
        tags,
        tags_all,
    ])
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for SubnetGroup {
    fn name(&self) -> &'static str {
        "aws_elasticache_subnet_group"
    }

    fn schema(&self) -> Schema {
        let map = || Type::Map(Box::new(Type::String));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("description", AttrSchema::optional(Type::String).default(Value::string(DEFAULT_DESCRIPTION)))
            .attr("subnet_ids", AttrSchema::required(Type::Set(Box::new(Type::String))))
            .attr("vpc_id", AttrSchema::computed(Type::String))
            .attr("tags", AttrSchema::optional(map()))
            .attr("tags_all", AttrSchema::computed(map()))
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut config = config.clone();
        // ElastiCache keeps the name in lower case: so does the plan, or it would never settle.
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
            .create_cache_subnet_group()
            .cache_subnet_group_name(&name)
            .cache_subnet_group_description(attrs::string(p, "description").unwrap_or_else(|| DEFAULT_DESCRIPTION.into()))
            .set_subnet_ids(Some(attrs::strings(p, "subnet_ids")))
            .set_tags(Some(ec_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateCacheSubnetGroup", &e))?;
        Ok(with_id(p, &name))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let names: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe(c, &names).await?;
        let arns: Vec<String> = found.values().filter_map(|g| g.arn().map(str::to_string)).collect();
        let tags = tags_by_arn(c, objects, &arns, full).await?;
        let none = BTreeMap::new();
        Ok(names
            .iter()
            .zip(objects)
            .map(|(n, p)| found.get(n).map(|g| group_value(c, g, g.arn().and_then(|a| tags.get(a)).unwrap_or(&none), Some(p))))
            .collect())
    }

    // One paged DescribeCacheSubnetGroups; with a VPC scope, the groups in those VPCs.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe(c.clients()?, &[]).await?;
        Ok(found
            .iter()
            .filter(|(n, g)| n.as_str() != "default" && crate::discover::in_vpcs(filter, g.vpc_id()))
            .map(|(n, _)| crate::discover::discovered(n, Some(n), &BTreeMap::new()))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("subnet_ids") || changed("description") {
            c.elasticache
                .modify_cache_subnet_group()
                .cache_subnet_group_name(&name)
                .set_cache_subnet_group_description(attrs::string(p, "description"))
                .set_subnet_ids(Some(attrs::strings(p, "subnet_ids")))
                .send()
                .await
                .map_err(|e| api_error("ModifyCacheSubnetGroup", &e))?;
        }
        update_tags(c, &attrs::req_string(prior, "arn")?, prior, p).await?;
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        wait_for(
            &format!("cache subnet group {name} being deletable (no cluster left in it)"),
            timeout(prior, "delete", Duration::from_secs(600)),
            Duration::from_secs(5),
            || async {
                match c.elasticache.delete_cache_subnet_group().cache_subnet_group_name(&name).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) if gone(code_of(&e)) => Ok(Some(())),
                    Err(e) if code_of(&e).as_deref() == Some("CacheSubnetGroupInUse") => Ok(None),
                    Err(e) => Err(api_error("DeleteCacheSubnetGroup", &e)),
                }
            },
        )
        .await?;
        Ok(())
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
