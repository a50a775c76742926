//! `aws_vpc`. Refresh is one `DescribeVpcs` per 200 ids and page (an id filter, so a deleted
//! VPC is simply absent); the DNS settings and address usage metrics have no batch API: three
//! `DescribeVpcAttribute` per VPC, concurrently, and the ids of the default network ACL, main
//! route table and default security group one filtered Describe each for all VPCs, only on a
//! full refresh or when not yet recorded (a routine one keeps the recorded values).

use super::*;
use aws_sdk_ec2::types::{AttributeBooleanValue, Tenancy};

pub struct Vpc;

/// What a VPC's read costs calls beyond DescribeVpcs: its DNS settings and address usage
/// metrics (DescribeVpcAttribute each) and its default network ACL, main route table and
/// default security group (one filtered Describe each for all VPCs).
#[derive(Clone, Default)]
struct Extra {
    dns: (Option<bool>, Option<bool>),
    metrics: Option<bool>,
    acl: Option<String>,
    route_table: Option<String>,
    security_group: Option<String>,
}

fn vpc_value(c: &Clients, v: &aws_sdk_ec2::types::Vpc, x: &Extra, prior: Option<&Value>) -> Value {
    let id = v.vpc_id().unwrap_or_default().to_string();
    let owner = v.owner_id().unwrap_or_default().to_string();
    let all = tags_of(v.tags());
    let ipv6 = v
        .ipv6_cidr_block_association_set()
        .iter()
        .find(|a| !matches!(a.ipv6_cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()), Some("disassociated" | "disassociating" | "failed")));
    // What AWS does not report (IPAM pools, netmask lengths): as configured.
    let kept = |k: &str| prior.and_then(|p| p.get_attr(k)).cloned().unwrap_or(Value::Null);
    let generated = ipv6.is_some_and(|a| a.ipv6_pool().is_none_or(|p| p == "Amazon")) && kept("ipv6_ipam_pool_id").is_null();
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region))),
        ("assign_generated_ipv6_cidr_block", Value::Bool(generated)),
        ("cidr_block", Value::string(v.cidr_block().unwrap_or_default())),
        ("default_network_acl_id", opt_string(x.acl.as_deref())),
        ("default_route_table_id", opt_string(x.route_table.as_deref())),
        ("default_security_group_id", opt_string(x.security_group.as_deref())),
        ("dhcp_options_id", opt_string(v.dhcp_options_id())),
        ("enable_dns_hostnames", x.dns.1.map(Value::Bool).unwrap_or(Value::Null)),
        ("enable_dns_support", x.dns.0.map(Value::Bool).unwrap_or(Value::Null)),
        ("enable_network_address_usage_metrics", x.metrics.map(Value::Bool).unwrap_or(Value::Null)),
        ("id", Value::string(id)),
        ("instance_tenancy", Value::string(v.instance_tenancy().map(|t| t.as_str()).unwrap_or("default"))),
        ("ipv4_ipam_pool_id", kept("ipv4_ipam_pool_id")),
        ("ipv4_netmask_length", kept("ipv4_netmask_length")),
        ("ipv6_association_id", opt_string(ipv6.and_then(|a| a.association_id()))),
        ("ipv6_cidr_block", opt_string(ipv6.and_then(|a| a.ipv6_cidr_block()))),
        ("ipv6_cidr_block_network_border_group", opt_string(ipv6.and_then(|a| a.network_border_group()))),
        ("ipv6_ipam_pool_id", kept("ipv6_ipam_pool_id")),
        ("ipv6_netmask_length", kept("ipv6_netmask_length")),
        ("main_route_table_id", opt_string(x.route_table.as_deref())),
        ("owner_id", Value::string(owner)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
    ])
}

/// The default network ACL, main route table and default security group of each VPC in
/// `ids`: one filtered Describe each, whatever the number of VPCs.
async fn defaults_of(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, Extra>, Diagnostic> {
    let mut out: BTreeMap<String, Extra> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let f = |k: &str, v: &[String]| Filter::builder().name(k).set_values(Some(v.to_vec())).build();
    let mut acls = c.ec2.describe_network_acls().filters(f("vpc-id", ids)).filters(f("default", &["true".into()])).into_paginator().send();
    while let Some(page) = acls.next().await {
        for a in page.map_err(|e| api_error("DescribeNetworkAcls", &e))?.network_acls() {
            if let (Some(v), Some(id)) = (a.vpc_id(), a.network_acl_id()) {
                out.entry(v.to_string()).or_default().acl = Some(id.to_string());
            }
        }
    }
    let mains = describe_route_tables(c, &[], vec![f("vpc-id", ids), f("association.main", &["true".into()])]).await?;
    for (id, t) in mains {
        if let Some(v) = t.vpc_id() {
            out.entry(v.to_string()).or_default().route_table = Some(id);
        }
    }
    let mut groups = c.ec2.describe_security_groups().filters(f("vpc-id", ids)).filters(f("group-name", &["default".into()])).into_paginator().send();
    while let Some(page) = groups.next().await {
        for g in page.map_err(|e| api_error("DescribeSecurityGroups", &e))?.security_groups() {
            if let (Some(v), Some(id)) = (g.vpc_id(), g.group_id()) {
                out.entry(v.to_string()).or_default().security_group = Some(id.to_string());
            }
        }
    }
    Ok(out)
}

async fn metrics_of(c: Clients, id: String) -> Result<Option<bool>, Diagnostic> {
    let r = c
        .ec2
        .describe_vpc_attribute()
        .vpc_id(&id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableNetworkAddressUsageMetrics)
        .send()
        .await
        .map_err(|e| api_error("DescribeVpcAttribute", &e))?;
    Ok(r.enable_network_address_usage_metrics().and_then(|a| a.value()))
}

async fn set_metrics(c: &Clients, id: &str, on: bool) -> Result<(), Diagnostic> {
    c.ec2
        .modify_vpc_attribute()
        .vpc_id(id)
        .enable_network_address_usage_metrics(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("ModifyVpcAttribute", &e))
}

/// Brings the VPC's IPv6 block to what `planned` asks: the current one (if any) let go, then
/// an Amazon-provided one or one from an IPAM pool associated.
async fn sync_ipv6(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Result<(), Diagnostic> {
    if let Some(assoc) = attrs::string(prior, "ipv6_association_id").filter(|a| !a.is_empty()) {
        c.ec2.disassociate_vpc_cidr_block().association_id(assoc).send().await.map_err(|e| api_error("DisassociateVpcCidrBlock", &e))?;
    }
    let generated = attrs::bool(planned, "assign_generated_ipv6_cidr_block") == Some(true);
    let pool = attrs::string(planned, "ipv6_ipam_pool_id");
    if !generated && pool.is_none() {
        return Ok(());
    }
    c.ec2
        .associate_vpc_cidr_block()
        .vpc_id(id)
        .set_amazon_provided_ipv6_cidr_block(generated.then_some(true))
        .set_ipv6_ipam_pool_id(pool)
        .set_ipv6_netmask_length(attrs::int(planned, "ipv6_netmask_length").and_then(|n| i32::try_from(n).ok()))
        .set_ipv6_cidr_block(attrs::string(planned, "ipv6_cidr_block").filter(|_| !generated))
        .set_ipv6_cidr_block_network_border_group(attrs::string(planned, "ipv6_cidr_block_network_border_group"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("AssociateVpcCidrBlock", &e))
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
        let computed = || AttrSchema::computed(Type::String);
        Schema::new()
            .attr("id", computed())
            .attr("arn", computed())
            .attr("owner_id", computed())
            .attr("cidr_block", AttrSchema::optional_computed(Type::String).force_new())
            .attr("ipv4_ipam_pool_id", AttrSchema::optional(Type::String).force_new())
            .attr("ipv4_netmask_length", AttrSchema::optional(Type::Number).force_new())
            .attr("assign_generated_ipv6_cidr_block", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("ipv6_cidr_block", AttrSchema::optional_computed(Type::String))
            .attr("ipv6_ipam_pool_id", AttrSchema::optional(Type::String))
            .attr("ipv6_netmask_length", AttrSchema::optional(Type::Number))
            .attr("ipv6_cidr_block_network_border_group", AttrSchema::optional_computed(Type::String))
            .attr("ipv6_association_id", computed())
            .attr("instance_tenancy", AttrSchema::optional(Type::String).force_new().default(Value::string("default")))
            .attr("enable_dns_support", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            .attr("enable_dns_hostnames", AttrSchema::optional_computed(Type::Bool).default(Value::Bool(false)))
            .attr("enable_network_address_usage_metrics", AttrSchema::optional_computed(Type::Bool))
            .attr("default_network_acl_id", computed())
            .attr("default_route_table_id", computed())
            .attr("default_security_group_id", computed())
            .attr("main_route_table_id", computed())
            .attr("dhcp_options_id", computed())
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    /// As a person writes it: an Amazon-provided IPv6 block is asked for, not named; metrics
    /// off (AWS's default) left out.
    fn to_hcl(&self, state: &Value) -> String {
        let mut state = state.clone();
        if let Value::Object(m) = &mut state {
            if m.get("assign_generated_ipv6_cidr_block") == Some(&Value::Bool(true)) || m.get("ipv6_ipam_pool_id").is_none_or(Value::is_null) {
                m.insert("ipv6_cidr_block".into(), Value::Null);
                m.insert("ipv6_cidr_block_network_border_group".into(), Value::Null);
            }
            if m.get("enable_network_address_usage_metrics") == Some(&Value::Bool(false)) {
                m.insert("enable_network_address_usage_metrics".into(), Value::Null);
            }
        }
        infra_provider::hcl::body(&self.schema(), &state)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_cidr_block(config);
        let set = |k: &str| is_set(config, k);
        if !set("cidr_block") && !set("ipv4_ipam_pool_id") && !config.get_attr("cidr_block").is_some_and(Value::is_unknown) {
            out.push(Diagnostic::error("Missing required argument", "A VPC needs cidr_block, or ipv4_ipam_pool_id to take one from an IPAM pool."));
        }
        if attrs::bool(config, "assign_generated_ipv6_cidr_block") == Some(true) && set("ipv6_ipam_pool_id") {
            out.push(
                Diagnostic::error(
                    "Conflicting configuration arguments",
                    "The arguments assign_generated_ipv6_cidr_block and ipv6_ipam_pool_id cannot both be set: the IPv6 block comes from Amazon or from a pool.",
                )
                .with_path(attrs::at("ipv6_ipam_pool_id")),
            );
        }
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
        // A new IPv6 source: the block and its association are AWS's to give.
        let sources = ["assign_generated_ipv6_cidr_block", "ipv6_ipam_pool_id", "ipv6_netmask_length"];
        if let (Some(prior), Value::Object(m)) = (prior, &mut resp.planned) {
            if sources.iter().any(|k| m.get(*k) != prior.get_attr(k)) {
                m.insert("ipv6_association_id".into(), Value::Unknown);
                for k in ["ipv6_cidr_block", "ipv6_cidr_block_network_border_group"] {
                    if config.get_attr(k).is_none_or(Value::is_null) {
                        m.insert(k.into(), Value::Unknown);
                    }
                }
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let out = c
            .once
            .ec2
            .create_vpc()
            .set_cidr_block(attrs::string(p, "cidr_block"))
            .set_ipv4_ipam_pool_id(attrs::string(p, "ipv4_ipam_pool_id"))
            .set_ipv4_netmask_length(attrs::int(p, "ipv4_netmask_length").and_then(|n| i32::try_from(n).ok()))
            .set_amazon_provided_ipv6_cidr_block(attrs::bool(p, "assign_generated_ipv6_cidr_block").filter(|g| *g))
            .set_ipv6_ipam_pool_id(attrs::string(p, "ipv6_ipam_pool_id"))
            .set_ipv6_netmask_length(attrs::int(p, "ipv6_netmask_length").and_then(|n| i32::try_from(n).ok()))
            .set_ipv6_cidr_block(attrs::string(p, "ipv6_cidr_block").filter(|_| attrs::string(p, "ipv6_ipam_pool_id").is_some()))
            .set_ipv6_cidr_block_network_border_group(attrs::string(p, "ipv6_cidr_block_network_border_group"))
            .instance_tenancy(Tenancy::from(attrs::string(p, "instance_tenancy").unwrap_or_else(|| "default".into()).as_str()))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Vpc, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateVpc", &e))?;
        Ok(with_id(p, out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default()))
    }

    /// The DNS settings CreateVpc cannot take, where they differ from AWS's defaults.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let (c, id) = (c.clients()?, attrs::req_string(created, "id")?);
        let support = attrs::bool(planned, "enable_dns_support").filter(|s| !s);
        let hostnames = attrs::bool(planned, "enable_dns_hostnames").filter(|h| *h);
        set_vpc_dns(c, &id, support, hostnames).await?;
        if attrs::bool(planned, "enable_network_address_usage_metrics") == Some(true) {
            set_metrics(c, &id, true).await?;
        }
        Ok(())
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_vpcs(c, &ids, Vec::new()).await?;
        // The DNS settings and metrics cost a call each per VPC, the default objects' ids a
        // call each for all: a routine refresh keeps what is recorded.
        let prior_of = |id: &String| objects.get(ids.iter().position(|i| i == id)?);
        let recorded = |id: &String| -> Option<Extra> {
            let p = prior_of(id)?;
            let s = |k: &str| attrs::string(p, k).filter(|v| !v.is_empty());
            Some(Extra {
                dns: (Some(attrs::bool(p, "enable_dns_support")?), Some(attrs::bool(p, "enable_dns_hostnames")?)),
                metrics: Some(attrs::bool(p, "enable_network_address_usage_metrics")?),
                acl: Some(s("default_network_acl_id")?),
                route_table: Some(s("default_route_table_id")?),
                security_group: Some(s("default_security_group_id")?),
            })
        };
        let mut extra: BTreeMap<String, Extra> = if full { BTreeMap::new() } else { found.keys().filter_map(|id| Some((id.clone(), recorded(id)?))).collect() };
        let missing: Vec<String> = found.keys().filter(|id| !extra.contains_key(*id)).cloned().collect();
        // One task per VPC for its three attribute calls.
        let attributes = per_object(c, &missing, |c, id| async move { Ok((dns_attributes(&c, &id).await?, metrics_of(c, id).await?)) }).await?;
        let defaults = defaults_of(c, &missing).await?;
        for id in &missing {
            let d = defaults.get(id).cloned().unwrap_or_default();
            let (dns, metrics) = attributes.get(id).copied().unwrap_or_default();
            extra.insert(id.clone(), Extra { dns, metrics, ..d });
        }
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, prior)| found.get(id).map(|v| vpc_value(c, v, &extra.get(id).cloned().unwrap_or_default(), Some(prior))))
            .collect())
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
        if let Some(on) = changed("enable_network_address_usage_metrics") {
            diagnostics.extend(set_metrics(c, &id, on).await.err());
        }
        let ipv6 = ["assign_generated_ipv6_cidr_block", "ipv6_ipam_pool_id", "ipv6_netmask_length", "ipv6_cidr_block"];
        if ipv6.iter().any(|k| planned.get_attr(k).is_some_and(|v| !v.is_unknown()) && planned.get_attr(k) != prior.get_attr(k)) {
            diagnostics.extend(sync_ipv6(c, &id, prior, planned).await.err());
        }
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
