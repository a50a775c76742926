//! The `aws_vpc` data source: the one VPC matching its arguments (`id`, `cidr_block`,
//! `state`, `default`, `tags`, `filter` blocks).

use super::{config_filters, filter_block, tag_filters};
use crate::common::*;
use crate::ec2::{describe_vpcs, dns_attributes, tags_of};
use crate::AwsProvider;
use aws_sdk_ec2::types::Filter;
use infra_provider::*;

pub struct Vpc;

#[async_trait::async_trait]
impl DataSource<AwsProvider> for Vpc {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::optional_computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("cidr_block", AttrSchema::optional_computed(Type::String))
            .attr("default", AttrSchema::optional_computed(Type::Bool))
            .attr("state", AttrSchema::optional_computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("instance_tenancy", AttrSchema::computed(Type::String))
            .attr("enable_dns_support", AttrSchema::computed(Type::Bool))
            .attr("enable_dns_hostnames", AttrSchema::computed(Type::Bool))
            .attr("tags", AttrSchema::optional_computed(Type::Map(Box::new(Type::String))))
            .block("filter", filter_block())
    }

    async fn read(&self, c: &AwsProvider, cfg: &Value) -> Outcome<Value> {
        let c = c.clients()?;
        let mut filters = config_filters(cfg)?;
        for (k, name) in [("cidr_block", "cidr"), ("state", "state")] {
            if let Some(v) = attrs::string(cfg, k) {
                filters.push(Filter::builder().name(name).values(v).build());
            }
        }
        if let Some(d) = attrs::bool(cfg, "default") {
            filters.push(Filter::builder().name("is-default").values(d.to_string()).build());
        }
        filters.extend(tag_filters(cfg));
        let ids: Vec<String> = attrs::string(cfg, "id").into_iter().collect();
        let found = describe_vpcs(c, &ids, filters).await?;
        let Some((id, v)) = found.iter().next().filter(|_| found.len() == 1) else {
            return Err(Diagnostic::error(
                "Your query returned no results",
                format!("{} VPCs match the criteria; aws_vpc needs exactly one. Please change your search criteria and try again.", found.len()),
            )
            .into());
        };
        let (support, hostnames) = dns_attributes(c, id).await?;
        let owner = v.owner_id().unwrap_or_default();
        Ok(Value::object([
            ("id", Value::string(id.clone())),
            ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region))),
            ("cidr_block", opt_string(v.cidr_block())),
            ("default", Value::Bool(v.is_default().unwrap_or(false))),
            ("state", opt_string(v.state().map(|s| s.as_str()))),
            ("owner_id", Value::string(owner)),
            ("instance_tenancy", opt_string(v.instance_tenancy().map(|t| t.as_str()))),
            ("enable_dns_support", support.map(Value::Bool).unwrap_or(Value::Null)),
            ("enable_dns_hostnames", hostnames.map(Value::Bool).unwrap_or(Value::Null)),
            ("tags", map_value(&tags_of(v.tags()))),
            ("filter", cfg.get_attr("filter").cloned().unwrap_or(Value::Set(Vec::new()))),
        ]))
    }
}
