//! `aws_availability_zones`: the region's zones (optionally by `state`), sorted by name.

use crate::common::*;
use crate::AwsProvider;
use aws_sdk_ec2::types::Filter;
use infra_provider::*;

pub struct AvailabilityZones;

#[async_trait::async_trait]
impl DataSource<AwsProvider> for AvailabilityZones {
    fn name(&self) -> &'static str {
        "aws_availability_zones"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("state", AttrSchema::optional(Type::String))
            .attr("names", AttrSchema::computed(Type::List(Box::new(Type::String))))
            .attr("zone_ids", AttrSchema::computed(Type::List(Box::new(Type::String))))
    }

    async fn read(&self, c: &AwsProvider, config: &Value) -> Outcome<Value> {
        let c = c.clients()?;
        let state = attrs::string(config, "state");
        let mut call = c.ec2.describe_availability_zones();
        if let Some(s) = &state {
            call = call.filters(Filter::builder().name("state").values(s).build());
        }
        let out = call.send().await.map_err(|e| api_error("DescribeAvailabilityZones", &e))?;
        let mut zones: Vec<(String, String)> =
            out.availability_zones().iter().map(|z| (z.zone_name().unwrap_or_default().to_string(), z.zone_id().unwrap_or_default().to_string())).collect();
        zones.sort();
        Ok(Value::object([
            ("id", Value::string(c.region.clone())),
            ("names", Value::List(zones.iter().map(|(n, _)| Value::string(n.clone())).collect())),
            ("state", state.map(Value::string).unwrap_or(Value::Null)),
            ("zone_ids", Value::List(zones.iter().map(|(_, i)| Value::string(i.clone())).collect())),
        ]))
    }
}
