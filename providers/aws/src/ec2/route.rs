//! `aws_route`, a standalone route: id `<route table id>_<destination>`, the import id
//! terraform-provider-aws uses. Read through the tables' `DescribeRouteTables`, batched. A route
//! is unique by table and destination, so an interrupted create is found by those and carries
//! no tag.

use super::*;

pub struct Route;

fn route_id(table: &str, destination: &str) -> String {
    format!("{table}_{destination}")
}

/// The standalone route's destination argument for each inline one.
const STANDALONE_DESTINATIONS: [(&str, &str); 3] = [
    ("cidr_block", "destination_cidr_block"),
    ("ipv6_cidr_block", "destination_ipv6_cidr_block"),
    ("destination_prefix_list_id", "destination_prefix_list_id"),
];

/// The route in the form inline `route` blocks use (`instance_id` is AWS's to report: a
/// route to an instance names its network interface).
fn as_inline_route(p: &Value) -> Value {
    let mut fields: Vec<(&str, Value)> = STANDALONE_DESTINATIONS.iter().map(|(i, s)| (*i, p.get_attr(s).cloned().unwrap_or(Value::Null))).collect();
    fields.extend(ROUTE_TARGETS.iter().map(|k| (*k, p.get_attr(k).cloned().unwrap_or(Value::Null))));
    Value::object(fields)
}

/// The route's destination, whichever kind it is.
fn destination(p: &Value) -> Option<String> {
    STANDALONE_DESTINATIONS.iter().find_map(|(_, s)| attrs::string(p, s).filter(|v| !v.is_empty()))
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
            let r = find_route(found.get(table)?.routes(), dest)?;
            let inline = inline_route(r);
            let mut fields = vec![
                ("id", Value::string(route_id(table, dest))),
                ("route_table_id", Value::string(table.clone())),
                ("instance_id", opt_string(r.instance_id())),
                ("instance_owner_id", opt_string(r.instance_owner_id())),
                ("origin", opt_string(r.origin().map(|o| o.as_str()))),
                ("state", opt_string(r.state().map(|o| o.as_str()))),
            ];
            for (i, s) in STANDALONE_DESTINATIONS {
                fields.push((s, inline.get_attr(i).cloned().unwrap_or(Value::Null)));
            }
            for k in ROUTE_TARGETS {
                fields.push((k, inline.get_attr(k).cloned().unwrap_or(Value::Null)));
            }
            Some(Value::object(fields))
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
        let dest = destination(&attributes).ok_or_else(|| Diagnostic::error("Cannot migrate aws_route", "The route records no destination."))?;
        Ok(with_id(&attributes, &route_id(&table, &dest)))
    }

    fn schema(&self) -> Schema {
        let targets = ROUTE_TARGETS.iter().filter(|k| **k != "network_interface_id").fold(Schema::new(), |s, k| s.attr(k, AttrSchema::optional(Type::String)));
        targets
            .attr("id", AttrSchema::computed(Type::String))
            .attr("route_table_id", AttrSchema::required(Type::String).force_new())
            .attr("destination_cidr_block", AttrSchema::optional(Type::String).force_new())
            .attr("destination_ipv6_cidr_block", AttrSchema::optional(Type::String).force_new())
            .attr("destination_prefix_list_id", AttrSchema::optional(Type::String).force_new())
            .attr("network_interface_id", AttrSchema::optional_computed(Type::String))
            .attr("instance_id", AttrSchema::computed(Type::String))
            .attr("instance_owner_id", AttrSchema::computed(Type::String))
            .attr("origin", AttrSchema::computed(Type::String))
            .attr("state", AttrSchema::computed(Type::String))
            .block("timeouts", timeouts_block(&["create", "update", "delete"]))
    }

    /// Exactly one destination and one target, as terraform-provider-aws requires.
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_timeouts(config);
        let set = |k: &str| is_set(config, k);
        let dests: Vec<&str> = STANDALONE_DESTINATIONS.iter().map(|(_, s)| *s).filter(|s| set(s)).collect();
        if dests.len() != 1 {
            out.push(Diagnostic::error(
                "Invalid route destination",
                format!(
                    "A route needs exactly one of destination_cidr_block, destination_ipv6_cidr_block and destination_prefix_list_id{}.",
                    if dests.is_empty() { String::new() } else { format!(", not {}", dests.join(" and ")) }
                ),
            ));
        }
        let targets: Vec<&str> = ROUTE_TARGETS.iter().copied().filter(|k| set(k)).collect();
        if targets.len() > 1 {
            out.push(Diagnostic::error("Invalid route target", format!("A route has one target, not {}.", targets.join(" and "))));
        }
        out
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let table = attrs::req_string(p, "route_table_id")?;
        let destination = destination(p).ok_or_else(|| Diagnostic::error("Invalid route destination", "The route has no destination."))?;
        put_route(c.clients()?, &table, &as_inline_route(p), false).await?;
        Ok(with_id(p, &route_id(&table, &destination)))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        Ok(read_routes(c.clients()?, &ids).await?)
    }

    // One DescribeRouteTables (filtered by VPC, paged) for the whole scope: every route of a
    // table `aws_route_table` discovers (main tables are AWS's), except the implicit `local`
    // route.
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
                if let Some(dest) = r.destination_cidr_block().or(r.destination_ipv6_cidr_block()).or(r.destination_prefix_list_id()) {
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
        let table = attrs::req_string(prior, "route_table_id")?;
        let dest = destination(prior).ok_or_else(|| Diagnostic::error("Invalid route destination", "The route records no destination."))?;
        delete_retrying(&attrs::req_string(prior, "id")?, || delete_route(c, &table, &dest)).await
    }

    /// A route is unique by table and destination: the one there with our target is ours.
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let dest = destination(planned).ok_or_else(|| Diagnostic::error("Invalid route destination", "The route has no destination."))?;
        let id = route_id(&attrs::req_string(planned, "route_table_id")?, &dest);
        let found = read_routes(c.clients()?, std::slice::from_ref(&id)).await?;
        Ok(match found.into_iter().flatten().next() {
            // Targets planned as unknown (an instance's interface) are AWS's to fill in.
            Some(r) if ROUTE_TARGETS.iter().all(|k| attrs::string(planned, k).is_none_or(|v| attrs::string(&r, k) == Some(v))) => Some(with_id(planned, &id)),
            _ => None,
        })
    }
}
