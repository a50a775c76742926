//! `aws_vpc`. Refresh is one `DescribeVpcs` per 200 ids and page (an id filter, so a deleted
//! VPC is simply absent); the DNS settings have no batch API: two `DescribeVpcAttribute` per
//! VPC, concurrently, and only on a full refresh (a routine one keeps the recorded values).

use super::*;
use aws_sdk_ec2::types::{AttributeBooleanValue, Tenancy};

pub struct Vpc;

fn vpc_value(c: &Clients, v: &aws_sdk_ec2::types::Vpc, dns: (Option<bool>, Option<bool>), prior: Option<&Value>) -> Value {
    let id = v.vpc_id().unwrap_or_default().to_string();
    let owner = v.owner_id().unwrap_or_default().to_string();
    let all = tags_of(v.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region))),
        ("cidr_block", Value::string(v.cidr_block().unwrap_or_default())),
        ("enable_dns_hostnames", dns.1.map(Value::Bool).unwrap_or(Value::Null)),
        ("enable_dns_support", dns.0.map(Value::Bool).unwrap_or(Value::Null)),
        ("id", Value::string(id)),
        ("instance_tenancy", Value::string(v.instance_tenancy().map(|t| t.as_str()).unwrap_or("default"))),
        ("owner_id", Value::string(owner)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
    ])
}

async fn set_vpc_dns(c: &Clients, id: &str, support: Option<bool>, hostnames: Option<bool>) -> Result<(), Diagnostic> {
    if let Some(s) = support {
        c.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(s).build())
            .send()
            .await
            .map_err(|e| api_error("ModifyVpcAttribute", &e))?;
    }
    if let Some(h) = hostnames {
        c.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(h).build())
            .send()
            .await
            .map_err(|e| api_error("ModifyVpcAttribute", &e))?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Vpc {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("cidr_block", AttrSchema::required(Type::String).force_new())
            .attr("instance_tenancy", AttrSchema::optional_computed(Type::String).force_new().default(Value::string("default")))
            .attr("enable_dns_support", AttrSchema::optional_computed(Type::Bool).default(Value::Bool(true)))
            .attr("enable_dns_hostnames", AttrSchema::optional_computed(Type::Bool).default(Value::Bool(false)))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_cidr_block(config);
        if let Some(len) = attrs::string(config, "cidr_block").and_then(|c| c.split_once('/').and_then(|(_, l)| l.parse::<u8>().ok())) {
            if !(16..=28).contains(&len) {
                out.push(
                    Diagnostic::error("Invalid CIDR block", format!("A VPC's CIDR block must be between /16 and /28, not /{len}."))
                        .with_path(attrs::at("cidr_block")),
                );
            }
        }
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let out = c
            .once
            .ec2
            .create_vpc()
            .cidr_block(attrs::req_string(p, "cidr_block")?)
            .instance_tenancy(Tenancy::from(attrs::string(p, "instance_tenancy").unwrap_or_else(|| "default".into()).as_str()))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Vpc, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateVpc", &e))?;
        Ok(with_id(p, out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default()))
    }

    /// The DNS settings CreateVpc cannot take, where they differ from AWS's defaults.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let support = attrs::bool(planned, "enable_dns_support").filter(|s| !s);
        let hostnames = attrs::bool(planned, "enable_dns_hostnames").filter(|h| *h);
        Ok(set_vpc_dns(c.clients()?, &attrs::req_string(created, "id")?, support, hostnames).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_vpcs(c, &ids, Vec::new()).await?;
        // The DNS settings cost two calls per VPC: a routine refresh keeps the recorded ones.
        let recorded = |id: &String| -> Option<(Option<bool>, Option<bool>)> {
            let prior = objects.get(ids.iter().position(|i| i == id)?)?;
            Some((Some(attrs::bool(prior, "enable_dns_support")?), Some(attrs::bool(prior, "enable_dns_hostnames")?)))
        };
        let mut dns: BTreeMap<String, (Option<bool>, Option<bool>)> =
            if full { BTreeMap::new() } else { found.keys().filter_map(|id| Some((id.clone(), recorded(id)?))).collect() };
        let missing: Vec<String> = found.keys().filter(|id| !dns.contains_key(*id)).cloned().collect();
        dns.extend(per_object(c, &missing, |c, id| async move { dns_attributes(&c, &id).await }).await?);
        Ok(ids.iter().zip(objects).map(|(id, prior)| found.get(id).map(|v| vpc_value(c, v, dns.get(id).copied().unwrap_or_default(), Some(prior)))).collect())
    }

    // One DescribeVpcs for the region; the default VPC is AWS's.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_vpcs(c.clients()?, &[], Vec::new()).await?;
        Ok(found
            .values()
            .filter(|v| crate::discover::include_defaults(filter) || v.is_default() != Some(true))
            .map(|v| crate::discover::discovered(v.vpc_id().unwrap_or_default(), None, &tags_of(v.tags())))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        let changed = |k: &str| attrs::bool(planned, k).filter(|v| attrs::bool(prior, k) != Some(*v));
        diagnostics.extend(set_vpc_dns(c, &id, changed("enable_dns_support"), changed("enable_dns_hostnames")).await.err());
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async { c.ec2.delete_vpc().vpc_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DeleteVpc", &e)) }).await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_vpcs(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
