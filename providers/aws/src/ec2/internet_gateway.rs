//! `aws_internet_gateway`: one `DescribeInternetGateways` per 200 ids and page; attached to
//! its VPC after the create, moved by detach and attach.

use super::*;

pub struct InternetGateway;

describe_by_ids!(
    describe_igws,
    describe_internet_gateways,
    "DescribeInternetGateways",
    "internet-gateway-id",
    internet_gateways,
    internet_gateway_id,
    aws_sdk_ec2::types::InternetGateway
);

fn igw_value(c: &Clients, g: &aws_sdk_ec2::types::InternetGateway, prior: Option<&Value>) -> Value {
    let id = g.internet_gateway_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let all = tags_of(g.tags());
    let vpc = g.attachments().iter().find_map(|a| a.vpc_id()).map(Value::string).unwrap_or(Value::Null);
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:internet-gateway/{id}", c.region))),
        ("id", Value::string(id)),
        ("owner_id", Value::string(owner)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", vpc),
    ])
}

/// Attaches the gateway; one already attached to this VPC (by a call re-sent after a lost
/// answer, or an interrupted run) is done.
async fn attach_igw(c: &Clients, id: &str, vpc: &str) -> Result<(), Diagnostic> {
    match c.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("Resource.AlreadyAssociated") && attached_vpc(c, id).await?.as_deref() == Some(vpc) => Ok(()),
        Err(e) => Err(api_error("AttachInternetGateway", &e)),
    }
}

async fn attached_vpc(c: &Clients, id: &str) -> Result<Option<String>, Diagnostic> {
    let out = c.ec2.describe_internet_gateways().internet_gateway_ids(id).send().await.map_err(|e| api_error("DescribeInternetGateways", &e))?;
    Ok(out.internet_gateways().iter().flat_map(|g| g.attachments()).find_map(|a| a.vpc_id().map(str::to_string)))
}

async fn detach_igw(c: &Clients, id: &str, vpc: &str) -> Result<(), Diagnostic> {
    match c.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code().is_some_and(|code| code == "Gateway.NotAttached" || code.ends_with(".NotFound")) => Ok(()),
        Err(e) => Err(api_error("DetachInternetGateway", &e)),
    }
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for InternetGateway {
    fn name(&self) -> &'static str {
        "aws_internet_gateway"
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_timeouts(config)
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("vpc_id", AttrSchema::optional_computed(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("timeouts", timeouts_block(&["create", "update", "delete"]))
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let out = c
            .clients()?
            .once
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::InternetGateway, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateInternetGateway", &e))?;
        Ok(with_id(p, out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default()))
    }

    /// The attachment to its VPC.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        if let Some(vpc) = attrs::string(planned, "vpc_id") {
            attach_igw(c.clients()?, &attrs::req_string(created, "id")?, &vpc).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_igws(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|g| igw_value(c, g, Some(p)))).collect())
    }

    // One DescribeInternetGateways (filtered by attached VPC) for the whole scope; the default
    // VPC's gateway is AWS's.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let scope = crate::discover::vpcs(filter).map(|v| vec![Filter::builder().name("attachment.vpc-id").set_values(Some(v)).build()]).unwrap_or_default();
        let found = describe_igws(c, &[], scope).await?;
        let defaults: Vec<String> = if crate::discover::include_defaults(filter) {
            Vec::new()
        } else {
            let out = c
                .ec2
                .describe_vpcs()
                .filters(Filter::builder().name("is-default").values("true").build())
                .send()
                .await
                .map_err(|e| api_error("DescribeVpcs", &e))?;
            out.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect()
        };
        Ok(found
            .values()
            .filter(|g| !g.attachments().iter().any(|a| a.vpc_id().is_some_and(|v| defaults.iter().any(|d| d == v))))
            .map(|g| crate::discover::discovered(g.internet_gateway_id().unwrap_or_default(), None, &tags_of(g.tags())))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        // Moving the gateway: detach from the old VPC, attach to the new one.
        let (old_vpc, new_vpc) = (attrs::string(prior, "vpc_id"), attrs::string(planned, "vpc_id"));
        if old_vpc != new_vpc {
            let detached = match &old_vpc {
                Some(v) => detach_igw(c, &id, v).await,
                None => Ok(()),
            };
            let step = match (detached, &new_vpc) {
                (Ok(()), Some(v)) => attach_igw(c, &id, v).await,
                (result, _) => result,
            };
            diagnostics.extend(step.err());
        }
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let vpc = attrs::string(prior, "vpc_id");
        delete_retrying(&id, || async {
            if let Some(vpc) = &vpc {
                detach_igw(c, &id, vpc).await.map_err(|d| (None, d))?;
            }
            c.ec2.delete_internet_gateway().internet_gateway_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DeleteInternetGateway", &e))
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_igws(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
