//! `aws_subnet`: one `DescribeSubnets` per 200 ids and page; the launch settings
//! (`map_public_ip_on_launch`, DNS64, resource name DNS records...) are set after the create,
//! one `ModifySubnetAttribute` each (CreateSubnet cannot take them). Subnets of one VPC with overlapping CIDR
//! blocks are refused at plan time (`check_planned`), for both.

use super::*;
use aws_sdk_ec2::types::AttributeBooleanValue;

pub struct Subnet;

fn subnet_value(v: &aws_sdk_ec2::types::Subnet, prior: Option<&Value>, defaults: &BTreeMap<String, String>) -> Value {
    let all = tags_of(v.tags());
    let dns = v.private_dns_name_options_on_launch();
    let ipv6 = v
        .ipv6_cidr_block_association_set()
        .iter()
        .find(|a| !matches!(a.ipv6_cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()), Some("disassociated" | "disassociating" | "failed")));
    // Optional arguments without a default that AWS reports as false or 0 when unset: null
    // unless the configuration has them, as terraform-provider-aws treats zero values.
    let kept = |k: &str, v: Value, unset: bool| if unset && prior.and_then(|p| p.get_attr(k)).is_none_or(Value::is_null) { Value::Null } else { v };
    let owned = v.map_customer_owned_ip_on_launch().unwrap_or(false);
    let lni = v.enable_lni_at_device_index().unwrap_or(0);
    Value::object([
        ("arn", Value::string(v.subnet_arn().unwrap_or_default())),
        ("assign_ipv6_address_on_creation", Value::Bool(v.assign_ipv6_address_on_creation().unwrap_or(false))),
        ("availability_zone", Value::string(v.availability_zone().unwrap_or_default())),
        ("availability_zone_id", Value::string(v.availability_zone_id().unwrap_or_default())),
        ("cidr_block", opt_string(v.cidr_block())),
        ("customer_owned_ipv4_pool", opt_string(v.customer_owned_ipv4_pool())),
        ("enable_dns64", Value::Bool(v.enable_dns64().unwrap_or(false))),
        ("enable_lni_at_device_index", kept("enable_lni_at_device_index", Value::int(i64::from(lni)), lni == 0)),
        ("enable_resource_name_dns_a_record_on_launch", Value::Bool(dns.and_then(|d| d.enable_resource_name_dns_a_record()).unwrap_or(false))),
        ("enable_resource_name_dns_aaaa_record_on_launch", Value::Bool(dns.and_then(|d| d.enable_resource_name_dns_aaaa_record()).unwrap_or(false))),
        ("id", Value::string(v.subnet_id().unwrap_or_default())),
        ("ipv6_cidr_block", opt_string(ipv6.and_then(|a| a.ipv6_cidr_block()))),
        ("ipv6_cidr_block_association_id", opt_string(ipv6.and_then(|a| a.association_id()))),
        ("ipv6_native", Value::Bool(v.ipv6_native().unwrap_or(false))),
        ("map_customer_owned_ip_on_launch", kept("map_customer_owned_ip_on_launch", Value::Bool(owned), !owned)),
        ("map_public_ip_on_launch", Value::Bool(v.map_public_ip_on_launch().unwrap_or(false))),
        ("outpost_arn", opt_string(v.outpost_arn())),
        ("owner_id", Value::string(v.owner_id().unwrap_or_default())),
        ("private_dns_hostname_type_on_launch", opt_string(dns.and_then(|d| d.hostname_type()).map(|h| h.as_str()))),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), defaults)),
        ("tags_all", map_value(&all)),
        ("vpc_id", Value::string(v.vpc_id().unwrap_or_default())),
    ])
}

/// The subnet attributes `ModifySubnetAttribute` sets, one per call (its rule): each that
/// `planned` has and `prior` (none on a create: every one that differs from AWS's default)
/// has otherwise, in the order terraform-provider-aws sends them.
async fn set_attributes(c: &Clients, id: &str, prior: Option<&Value>, planned: &Value) -> Vec<Diagnostic> {
    use aws_sdk_ec2::types::HostnameType;
    let b = |v: bool| AttributeBooleanValue::builder().value(v).build();
    let changed = |k: &str| match prior {
        Some(p) => planned.get_attr(k).filter(|v| !v.is_unknown() && !v.is_null()).filter(|v| p.get_attr(k) != Some(*v)).cloned(),
        None => planned.get_attr(k).filter(|v| !v.is_unknown() && !v.is_null() && **v != Value::Bool(false)).cloned(),
    };
    let mut diags = Vec::new();
    for key in [
        "map_customer_owned_ip_on_launch",
        "map_public_ip_on_launch",
        "enable_dns64",
        "enable_lni_at_device_index",
        "enable_resource_name_dns_aaaa_record_on_launch",
        "enable_resource_name_dns_a_record_on_launch",
        "private_dns_hostname_type_on_launch",
        "assign_ipv6_address_on_creation",
    ] {
        // The customer-owned pool goes with map_customer_owned_ip_on_launch, in one call
        // whenever either changes.
        let pool_changed = key == "map_customer_owned_ip_on_launch" && changed("customer_owned_ipv4_pool").is_some();
        let Some(v) = changed(key).or_else(|| planned.get_attr(key).filter(|_| pool_changed).filter(|v| !v.is_null() && !v.is_unknown()).cloned()) else {
            continue;
        };
        let call = c.ec2.modify_subnet_attribute().subnet_id(id);
        let call = match (key, &v) {
            ("map_customer_owned_ip_on_launch", Value::Bool(on)) => {
                call.map_customer_owned_ip_on_launch(b(*on)).set_customer_owned_ipv4_pool(attrs::string(planned, "customer_owned_ipv4_pool"))
            }
            ("map_public_ip_on_launch", Value::Bool(on)) => call.map_public_ip_on_launch(b(*on)),
            ("enable_dns64", Value::Bool(on)) => call.enable_dns64(b(*on)),
            ("enable_lni_at_device_index", _) => match attrs::int(planned, "enable_lni_at_device_index").and_then(|n| i32::try_from(n).ok()) {
                Some(n) => call.enable_lni_at_device_index(n),
                None => continue,
            },
            ("enable_resource_name_dns_aaaa_record_on_launch", Value::Bool(on)) => call.enable_resource_name_dns_aaaa_record_on_launch(b(*on)),
            ("enable_resource_name_dns_a_record_on_launch", Value::Bool(on)) => call.enable_resource_name_dns_a_record_on_launch(b(*on)),
            ("private_dns_hostname_type_on_launch", Value::String(h)) => call.private_dns_hostname_type_on_launch(HostnameType::from(h.as_str())),
            ("assign_ipv6_address_on_creation", Value::Bool(on)) => call.assign_ipv6_address_on_creation(b(*on)),
            _ => continue,
        };
        if let Err(e) = call.send().await {
            diags.push(api_error("ModifySubnetAttribute", &e));
        }
    }
    diags
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Subnet {
    fn name(&self) -> &'static str {
        "aws_subnet"
    }

    fn schema(&self) -> Schema {
        let flag = || AttrSchema::optional(Type::Bool).default(Value::Bool(false));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("vpc_id", AttrSchema::required(Type::String).force_new())
            .attr("cidr_block", AttrSchema::optional(Type::String).force_new())
            .attr("ipv6_cidr_block", AttrSchema::optional(Type::String).force_new())
            .attr("ipv6_cidr_block_association_id", AttrSchema::computed(Type::String))
            .attr("ipv6_native", flag().force_new())
            .attr("availability_zone", AttrSchema::optional_computed(Type::String).force_new())
            .attr("availability_zone_id", AttrSchema::optional_computed(Type::String).force_new())
            .attr("outpost_arn", AttrSchema::optional(Type::String).force_new())
            .attr("customer_owned_ipv4_pool", AttrSchema::optional(Type::String))
            .attr("map_customer_owned_ip_on_launch", AttrSchema::optional(Type::Bool))
            .attr("map_public_ip_on_launch", flag())
            .attr("assign_ipv6_address_on_creation", flag())
            .attr("enable_dns64", flag())
            .attr("enable_lni_at_device_index", AttrSchema::optional(Type::Number))
            .attr("enable_resource_name_dns_a_record_on_launch", flag())
            .attr("enable_resource_name_dns_aaaa_record_on_launch", flag())
            .attr("private_dns_hostname_type_on_launch", AttrSchema::optional_computed(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("timeouts", timeouts_block(&["create", "delete"]))
    }

    /// As a person writes it: the zone by name (never both zone arguments), AWS's default
    /// hostname type left out.
    fn to_hcl(&self, state: &Value) -> String {
        let mut state = state.clone();
        if let Value::Object(m) = &mut state {
            if m.get("availability_zone").is_some_and(|z| !z.is_null()) {
                m.insert("availability_zone_id".into(), Value::Null);
            }
            if m.get("private_dns_hostname_type_on_launch").and_then(Value::as_str) == Some("ip-name") {
                m.insert("private_dns_hostname_type_on_launch".into(), Value::Null);
            }
        }
        infra_provider::hcl::body(&self.schema(), &state)
    }

    /// An IPv4 block, unless the subnet is IPv6 only; one zone argument at most.
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_cidr_block(config);
        out.extend(validate_timeouts(config));
        let set = |k: &str| is_set(config, k);
        let native = attrs::bool(config, "ipv6_native") == Some(true);
        if !set("cidr_block") && !native && !config.get_attr("ipv6_native").is_some_and(Value::is_unknown) {
            out.push(Diagnostic::error("Missing required argument", "A subnet needs cidr_block, unless ipv6_native = true."));
        }
        out.extend(conflicting(config, "availability_zone", "availability_zone_id", None));
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
            .create_subnet()
            .vpc_id(attrs::req_string(p, "vpc_id")?)
            .set_cidr_block(attrs::string(p, "cidr_block"))
            .set_ipv6_cidr_block(attrs::string(p, "ipv6_cidr_block"))
            .set_ipv6_native(attrs::bool(p, "ipv6_native").filter(|n| *n))
            .set_outpost_arn(attrs::string(p, "outpost_arn"))
            .set_availability_zone(attrs::string(p, "availability_zone"))
            .set_availability_zone_id(attrs::string(p, "availability_zone_id"))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Subnet, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateSubnet", &e))?;
        Ok(with_id(p, out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default()))
    }

    /// What CreateSubnet cannot take: the attributes that differ from AWS's defaults.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let diags = set_attributes(c.clients()?, &attrs::req_string(created, "id")?, None, planned).await;
        Ok(Errors::check(diags)?)
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
        diagnostics.extend(set_attributes(c, &id, Some(prior), planned).await);
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
