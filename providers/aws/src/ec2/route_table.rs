//! `aws_route_table` with inline `route` blocks: one `DescribeRouteTables` per 200 ids and
//! page. A table with neither `route` blocks nor the `route` argument leaves its routes to
//! `aws_route` resources, and `route = []` removes them, as in terraform-provider-aws.

use super::*;

pub struct RouteTable;

/// Routes as configured objects: the implicit `local` route (origin CreateRouteTable) is not
/// part of the configuration, as in terraform-provider-aws.
fn routes_value(rt: &aws_sdk_ec2::types::RouteTable) -> Value {
    let routes = rt
        .routes()
        .iter()
        // Neither the implicit local route nor those a propagating gateway adds.
        .filter(|r| !matches!(r.origin().map(|o| o.as_str()), Some("CreateRouteTable" | "EnableVgwRoutePropagation")) && r.gateway_id() != Some("local"))
        .map(inline_route)
        .collect();
    Value::set(routes)
}

fn route_table_value(c: &Clients, rt: &aws_sdk_ec2::types::RouteTable, prior: Option<&Value>) -> Value {
    let id = rt.route_table_id().unwrap_or_default().to_string();
    let owner = rt.owner_id().unwrap_or_default().to_string();
    let all = tags_of(rt.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:route-table/{id}", c.region))),
        ("id", Value::string(id)),
        ("owner_id", Value::string(owner)),
        ("propagating_vgws", Value::set(rt.propagating_vgws().iter().filter_map(|v| v.gateway_id()).map(Value::string).collect())),
        ("route", routes_value(rt)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", Value::string(rt.vpc_id().unwrap_or_default())),
    ])
}

fn vgws_of(v: &Value) -> Option<BTreeSet<String>> {
    v.get_attr("propagating_vgws").and_then(Value::as_seq).map(|s| s.iter().filter_map(|g| g.as_str().map(str::to_string)).collect())
}

/// Turns route propagation on for the gateways `new` adds and off for those it drops (an
/// unknown or unset `new` leaves them as they are).
async fn sync_vgws(c: &Clients, table: &str, old: Option<BTreeSet<String>>, new: Option<BTreeSet<String>>) -> Vec<Diagnostic> {
    let Some(new) = new else { return Vec::new() };
    let old = old.unwrap_or_default();
    let mut diags = Vec::new();
    for g in new.difference(&old) {
        if let Err(e) = c.ec2.enable_vgw_route_propagation().route_table_id(table).gateway_id(g).send().await {
            diags.push(api_error("EnableVgwRoutePropagation", &e));
        }
    }
    for g in old.difference(&new) {
        if let Err(e) = c.ec2.disable_vgw_route_propagation().route_table_id(table).gateway_id(g).send().await {
            diags.push(api_error("DisableVgwRoutePropagation", &e));
        }
    }
    diags
}

fn routes_of(v: &Value) -> Vec<Value> {
    v.get_attr("route").and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default()
}

/// Brings a table's routes from `old` to `new`, keyed by destination.
async fn sync_routes(c: &Clients, table: &str, old: &[Value], new: &[Value]) -> Vec<Diagnostic> {
    let old: BTreeMap<String, &Value> = old.iter().map(|r| (route_key(r).0, r)).collect();
    let new: BTreeMap<String, &Value> = new.iter().map(|r| (route_key(r).0, r)).collect();
    let mut diags = Vec::new();
    for (dest, r) in &new {
        let result = match old.get(dest) {
            None => put_route(c, table, r, false).await,
            Some(o) if route_key(o) != route_key(r) => put_route(c, table, r, true).await,
            Some(_) => Ok(()),
        };
        if let Err(d) = result {
            diags.push(d);
        }
    }
    for dest in old.keys().filter(|d| !new.contains_key(*d)) {
        if let Err((_, d)) = delete_route(c, table, dest).await {
            diags.push(d);
        }
    }
    diags
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for RouteTable {
    fn name(&self) -> &'static str {
        "aws_route_table"
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_timeouts(config)
    }

    fn schema(&self) -> Schema {
        let route = ROUTE_DESTINATIONS.iter().chain(ROUTE_TARGETS.iter()).fold(Schema::new(), |s, k| s.attr(k, AttrSchema::optional(Type::String)));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("vpc_id", AttrSchema::required(Type::String).force_new())
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .attr("propagating_vgws", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
            .attr_as_blocks("route", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: route })
            .block("timeouts", timeouts_block(&["create", "update", "delete"]))
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            // Neither blocks nor the argument: the routes follow AWS (`route = []` removes them).
            if m.get("route").is_none_or(Value::is_null) {
                m.insert("route".into(), prior.and_then(|p| p.get_attr("route")).cloned().unwrap_or(Value::Unknown));
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let out = c
            .clients()?
            .once
            .ec2
            .create_route_table()
            .vpc_id(attrs::req_string(p, "vpc_id")?)
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::RouteTable, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateRouteTable", &e))?;
        Ok(with_id(p, out.route_table().and_then(|r| r.route_table_id()).unwrap_or_default()))
    }

    /// The inline routes (CreateRouteTable takes none).
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(created, "id")?);
        let mut diags = sync_vgws(c, &id, None, vgws_of(planned)).await;
        diags.extend(sync_routes(c, &id, &[], &routes_of(planned)).await);
        match diags.into_iter().next() {
            Some(d) => Err(d.into()),
            None => Ok(()),
        }
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_route_tables(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|rt| route_table_value(c, rt, Some(p)))).collect())
    }

    // One DescribeRouteTables (filtered by VPC) for the whole scope; a VPC's main route table
    // is AWS's, not a finding.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_route_tables(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found
            .values()
            .filter(|t| crate::discover::include_defaults(filter) || !t.associations().iter().any(|a| a.main() == Some(true)))
            .map(|t| crate::discover::discovered(t.route_table_id().unwrap_or_default(), None, &tags_of(t.tags())))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        diagnostics.extend(sync_vgws(c, &id, vgws_of(prior), vgws_of(planned)).await);
        diagnostics.extend(sync_routes(c, &id, &routes_of(prior), &routes_of(planned)).await.into_iter().next());
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async {
            c.ec2.delete_route_table().route_table_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DeleteRouteTable", &e))
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_route_tables(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
