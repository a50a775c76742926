//! `aws_route_table_association`: read by association id through the tables that hold them
//! (one `DescribeRouteTables` per 200 ids and page). It cannot carry a tag: its create is
//! idempotent instead (associating what is already associated with the same table returns that
//! association).

use super::*;

pub struct RouteTableAssociation;

/// Associations by id, from the route tables that hold them (one call per 200 ids).
async fn describe_associations(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, aws_sdk_ec2::types::RouteTableAssociation>, Diagnostic> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let filter = Filter::builder().name("association.route-table-association-id").set_values(Some(chunk.to_vec())).build();
        let mut pages = c.ec2.describe_route_tables().filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeRouteTables", &e))?;
            for rt in page.route_tables() {
                for a in rt.associations() {
                    if let Some(id) = a.route_table_association_id().filter(|id| chunk.iter().any(|c| c == id)) {
                        out.insert(id.to_string(), a.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

fn association_value(a: &aws_sdk_ec2::types::RouteTableAssociation) -> Value {
    Value::object([
        ("gateway_id", opt_string(a.gateway_id())),
        ("id", Value::string(a.route_table_association_id().unwrap_or_default())),
        ("route_table_id", Value::string(a.route_table_id().unwrap_or_default())),
        ("subnet_id", opt_string(a.subnet_id())),
    ])
}

/// The association of `table` with the subnet or gateway of `p`, if there is one.
async fn find_in_table(c: &Clients, table: &str, p: &Value) -> Result<Option<aws_sdk_ec2::types::RouteTableAssociation>, Diagnostic> {
    let (subnet, gateway) = (attrs::string(p, "subnet_id"), attrs::string(p, "gateway_id"));
    let found = describe_route_tables(c, &[table.to_string()], Vec::new()).await?;
    Ok(found
        .get(table)
        .and_then(|rt| rt.associations().iter().find(|a| a.subnet_id().map(str::to_string) == subnet && a.gateway_id().map(str::to_string) == gateway))
        .cloned())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for RouteTableAssociation {
    fn name(&self) -> &'static str {
        "aws_route_table_association"
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_timeouts(config)
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("route_table_id", AttrSchema::required(Type::String))
            .attr("subnet_id", AttrSchema::optional(Type::String).force_new())
            .attr("gateway_id", AttrSchema::optional(Type::String).force_new())
            .block("timeouts", timeouts_block(&["create", "update", "delete"]))
    }

    /// Associates the table with a subnet or gateway. Associating what is already associated
    /// with the same table counts as done, so a create retried after a crash does not fail.
    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let table = attrs::req_string(p, "route_table_id")?;
        let (subnet, gateway) = (attrs::string(p, "subnet_id"), attrs::string(p, "gateway_id"));
        let id = match c.ec2.associate_route_table().route_table_id(&table).set_subnet_id(subnet).set_gateway_id(gateway).send().await {
            Ok(out) => out.association_id().unwrap_or_default().to_string(),
            Err(e) if e.code() == Some("Resource.AlreadyAssociated") => find_in_table(c, &table, p)
                .await?
                .and_then(|a| a.route_table_association_id().map(str::to_string))
                .ok_or_else(|| api_error("AssociateRouteTable", &e))?,
            Err(e) => return Err(api_error("AssociateRouteTable", &e).into()),
        };
        Ok(with_id(p, &id))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_associations(c.clients()?, &ids).await?;
        Ok(ids.iter().map(|id| found.get(id).map(association_value)).collect())
    }

    // One DescribeRouteTables (filtered by VPC) for the whole scope; a main route table's
    // implicit association is AWS's.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_route_tables(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found
            .values()
            .flat_map(|t| t.associations())
            .filter(|a| a.main() != Some(true))
            .filter_map(|a| a.route_table_association_id())
            .map(|id| crate::discover::discovered(id, None, &BTreeMap::new()))
            .collect())
    }

    /// terraform-provider-aws imports by `subnet-id/rtb-id` or `gateway-id/rtb-id`; an
    /// association id (`rtbassoc-…`) is read as it is.
    fn import_seed(&self, id: &str) -> Outcome<Value> {
        match id.split_once('/') {
            Some((target, table)) if !target.is_empty() && table.starts_with("rtb-") => {
                let key = if target.starts_with("subnet-") { "subnet_id" } else { "gateway_id" };
                Ok(Value::object([("id", Value::string(id)), ("route_table_id", Value::string(table)), (key, Value::string(target))]))
            }
            Some(_) => Err(Diagnostic::error(
                "Invalid import id",
                format!("An aws_route_table_association is imported by subnet-id/rtb-id, gateway-id/rtb-id or its association id, not {id:?}."),
            )
            .into()),
            None => Ok(Value::object([("id", Value::string(id))])),
        }
    }

    /// By id; after an in-place update the association has a new id
    /// (ReplaceRouteTableAssociation), so it is then found in its new table instead.
    async fn read_one(&self, c: &AwsProvider, known: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let id = id_of(known);
        if let Some(a) = describe_associations(c, std::slice::from_ref(&id)).await?.get(&id) {
            return Ok(Some(association_value(a)));
        }
        match attrs::string(known, "route_table_id") {
            Some(table) if known.get_attr("subnet_id").is_some() || known.get_attr("gateway_id").is_some() => {
                Ok(find_in_table(c, &table, known).await?.as_ref().map(association_value))
            }
            _ => Ok(None),
        }
    }

    /// A new table for the same subnet: ReplaceRouteTableAssociation gives a new id.
    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let (id, table) = (attrs::req_string(prior, "id")?, attrs::req_string(planned, "route_table_id")?);
        c.ec2
            .replace_route_table_association()
            .association_id(&id)
            .route_table_id(&table)
            .send()
            .await
            .map_err(|e| api_error("ReplaceRouteTableAssociation", &e))?;
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async {
            c.ec2.disassociate_route_table().association_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DisassociateRouteTable", &e))
        })
        .await
    }
}
