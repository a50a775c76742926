//! `aws_subnet`: one `DescribeSubnets` per 200 ids and page; `map_public_ip_on_launch` is set
//! after the create (CreateSubnet cannot take it). Subnets of one VPC with overlapping CIDR
//! blocks are refused at plan time (`check_planned`), for both.

use super::*;
use aws_sdk_ec2::types::AttributeBooleanValue;

pub struct Subnet;

fn subnet_value(v: &aws_sdk_ec2::types::Subnet, prior: Option<&Value>, defaults: &BTreeMap<String, String>) -> Value {
    let all = tags_of(v.tags());
    Value::object([
        ("arn", Value::string(v.subnet_arn().unwrap_or_default())),
        ("availability_zone", Value::string(v.availability_zone().unwrap_or_default())),
        ("availability_zone_id", Value::string(v.availability_zone_id().unwrap_or_default())),
        ("cidr_block", Value::string(v.cidr_block().unwrap_or_default())),
        ("id", Value::string(v.subnet_id().unwrap_or_default())),
        ("map_public_ip_on_launch", Value::Bool(v.map_public_ip_on_launch().unwrap_or(false))),
        ("owner_id", Value::string(v.owner_id().unwrap_or_default())),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), defaults)),
        ("tags_all", map_value(&all)),
        ("vpc_id", Value::string(v.vpc_id().unwrap_or_default())),
    ])
}

async fn set_public_ip(c: &Clients, id: &str, on: bool) -> Result<(), Diagnostic> {
    c.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifySubnetAttribute", &e))
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Subnet {
    fn name(&self) -> &'static str {
        "aws_subnet"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("vpc_id", AttrSchema::required(Type::String).force_new())
            .attr("cidr_block", AttrSchema::required(Type::String).force_new())
            .attr("availability_zone", AttrSchema::optional_computed(Type::String).force_new())
            .attr("availability_zone_id", AttrSchema::computed(Type::String))
            .attr("map_public_ip_on_launch", AttrSchema::optional_computed(Type::Bool).default(Value::Bool(false)))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_cidr_block(config)
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
            .create_subnet()
            .vpc_id(attrs::req_string(p, "vpc_id")?)
            .cidr_block(attrs::req_string(p, "cidr_block")?)
            .set_availability_zone(attrs::string(p, "availability_zone"))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Subnet, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateSubnet", &e))?;
        Ok(with_id(p, out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default()))
    }

    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        if attrs::bool(planned, "map_public_ip_on_launch") == Some(true) {
            set_public_ip(c.clients()?, &attrs::req_string(created, "id")?, true).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_subnets(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|s| subnet_value(s, Some(p), &c.default_tags))).collect())
    }

    // One DescribeSubnets (filtered by VPC) for the whole scope.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_subnets(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found
            .values()
            .filter(|s| crate::discover::include_defaults(filter) || s.default_for_az() != Some(true))
            .map(|s| crate::discover::discovered(s.subnet_id().unwrap_or_default(), None, &tags_of(s.tags())))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        if let Some(on) = attrs::bool(planned, "map_public_ip_on_launch").filter(|v| attrs::bool(prior, "map_public_ip_on_launch") != Some(*v)) {
            diagnostics.extend(set_public_ip(c, &id, on).await.err());
        }
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async { c.ec2.delete_subnet().subnet_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DeleteSubnet", &e)) }).await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_subnets(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}

/// An IPv4 CIDR block as (network, prefix length), when it is one.
fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let ip: u32 = ip.parse::<std::net::Ipv4Addr>().ok()?.into();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((ip & mask, len))
}

fn cidrs_overlap(a: (u32, u8), b: (u32, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a.0 & mask == b.0 & mask
}

/// Subnets of one VPC whose CIDR blocks overlap: AWS refuses the second with
/// `InvalidSubnet.Conflict`; say so at plan time, for both.
pub fn check_planned(req: &CheckPlannedRequest) -> Vec<(usize, Diagnostic)> {
    let known: Vec<(usize, String, String, (u32, u8))> = req
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.type_name == "aws_subnet")
        .filter_map(|(i, o)| {
            let o = o.value.deep_unmark();
            let cidr = attrs::string(&o, "cidr_block")?;
            Some((i, attrs::string(&o, "vpc_id")?, cidr.clone(), parse_cidr(&cidr)?))
        })
        .collect();
    let mut out = Vec::new();
    for (n, (i, vpc, cidr, net)) in known.iter().enumerate() {
        for (j, other_vpc, other, other_net) in &known[n + 1..] {
            if vpc == other_vpc && cidrs_overlap(*net, *other_net) {
                // Blame the subnet this plan creates or changes (the later one if both).
                let changing = |k: usize| req.objects.get(k).is_none_or(|o| o.changing);
                let (blamed, mine, theirs) = if changing(*j) || !changing(*i) { (*j, other, cidr) } else { (*i, cidr, other) };
                out.push((
                    blamed,
                    Diagnostic::error(
                        "Overlapping subnets",
                        format!("This subnet's CIDR block {mine} overlaps {theirs}, another subnet of {vpc}; AWS would refuse it."),
                    )
                    .with_path(attrs::at("cidr_block")),
                ));
            }
        }
    }
    out
}
