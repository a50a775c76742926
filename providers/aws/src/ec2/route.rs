//! `aws_route`, a standalone route: id `<route table id>_<destination>`, the import id
//! terraform-provider-aws uses. Read through the tables' `DescribeRouteTables`, batched. A route
//! is unique by table and destination, so an interrupted create is found by those and carries
//! no tag.

use super::*;

pub struct Route;

fn route_id(table: &str, destination: &str) -> String {
    format!("{table}_{destination}")
}

/// The route in the form inline `route` blocks use.
fn as_inline_route(p: &Value) -> Value {
    let mut fields = vec![("cidr_block", p.get_attr("destination_cidr_block").cloned().unwrap_or(Value::Null))];
    fields.extend(ROUTE_TARGETS.iter().map(|k| (*k, p.get_attr(k).cloned().unwrap_or(Value::Null))));
    Value::object(fields)
}

async fn read_routes(c: &Clients, ids: &[String]) -> Result<Vec<Option<Value>>, Diagnostic> {
    let parsed: Vec<Option<(String, String)>> = ids.iter().map(|id| id.split_once('_').map(|(t, d)| (t.to_string(), d.to_string()))).collect();
    let mut tables: Vec<String> = parsed.iter().flatten().map(|(t, _)| t.clone()).collect();
    tables.sort();
    tables.dedup();
    let found = describe_route_tables(c, &tables, Vec::new()).await?;
    Ok(parsed
        .iter()
        .map(|key| {
            let (table, dest) = key.as_ref()?;
            let r = found.get(table)?.routes().iter().find(|r| r.destination_cidr_block() == Some(dest.as_str()))?;
            Some(Value::object([
                ("id", Value::string(route_id(table, dest))),
                ("route_table_id", Value::string(table.clone())),
                ("destination_cidr_block", Value::string(dest.clone())),
                ("gateway_id", opt_string(r.gateway_id())),
                ("nat_gateway_id", opt_string(r.nat_gateway_id())),
                ("network_interface_id", opt_string(r.network_interface_id())),
                ("vpc_peering_connection_id", opt_string(r.vpc_peering_connection_id())),
                ("origin", opt_string(r.origin().map(|o| o.as_str()))),
                ("state", opt_string(r.state().map(|o| o.as_str()))),
            ]))
        })
        .collect())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Route {
    fn name(&self) -> &'static str {
        "aws_route"
    }

    /// terraform-provider-aws ids a route `r-<table><hash>`; infra `<table>_<destination>`.
    fn upgrade_terraform_state(&self, attributes: Value, _schema_version: u64) -> Outcome<Value> {
        let table = attrs::req_string(&attributes, "route_table_id")?;
        let dest = ["destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id"]
            .iter()
            .find_map(|k| attrs::string(&attributes, k).filter(|v| !v.is_empty()))
            .ok_or_else(|| Diagnostic::error("Cannot migrate aws_route", "The route records no destination."))?;
        Ok(with_id(&attributes, &route_id(&table, &dest)))
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("route_table_id", AttrSchema::required(Type::String).force_new())
            .attr("destination_cidr_block", AttrSchema::required(Type::String).force_new())
            .attr("gateway_id", AttrSchema::optional(Type::String))
            .attr("nat_gateway_id", AttrSchema::optional(Type::String))
            .attr("network_interface_id", AttrSchema::optional(Type::String))
            .attr("vpc_peering_connection_id", AttrSchema::optional(Type::String))
            .attr("origin", AttrSchema::computed(Type::String))
            .attr("state", AttrSchema::computed(Type::String))
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let table = attrs::req_string(p, "route_table_id")?;
        let destination = attrs::req_string(p, "destination_cidr_block")?;
        put_route(c.clients()?, &table, &as_inline_route(p), false).await?;
        Ok(with_id(p, &route_id(&table, &destination)))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        Ok(read_routes(c.clients()?, &ids).await?)
    }

    // One DescribeRouteTables (filtered by VPC, paged) for the whole scope: every route of a
    // table `aws_route_table` discovers (main tables are AWS's), except the implicit `local`
    // route and IPv6 or prefix-list destinations (not in this type's schema).
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_route_tables(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        let mut out = Vec::new();
        for (id, t) in &found {
            if !crate::discover::include_defaults(filter) && t.associations().iter().any(|a| a.main() == Some(true)) {
                continue;
            }
            for r in t.routes() {
                if r.origin().map(|o| o.as_str()) == Some("CreateRouteTable") || r.gateway_id() == Some("local") {
                    continue;
                }
                if let Some(dest) = r.destination_cidr_block() {
                    out.push(crate::discover::discovered(&route_id(id, dest), None, &BTreeMap::new()));
                }
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        Ok(put_route(c.clients()?, &attrs::req_string(planned, "route_table_id")?, &as_inline_route(planned), true).await?)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let (table, destination) = (attrs::req_string(prior, "route_table_id")?, attrs::req_string(prior, "destination_cidr_block")?);
        delete_retrying(&attrs::req_string(prior, "id")?, || async {
            c.ec2
                .delete_route()
                .route_table_id(&table)
                .destination_cidr_block(&destination)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| delete_error("DeleteRoute", &e))
        })
        .await
    }

    /// A route is unique by table and destination: the one there with our target is ours.
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let id = route_id(&attrs::req_string(planned, "route_table_id")?, &attrs::req_string(planned, "destination_cidr_block")?);
        let found = read_routes(c.clients()?, std::slice::from_ref(&id)).await?;
        Ok(match found.into_iter().flatten().next() {
            Some(r) if ROUTE_TARGETS.iter().all(|k| attrs::string(&r, k) == attrs::string(planned, k)) => Some(with_id(planned, &id)),
            _ => None,
        })
    }
}
