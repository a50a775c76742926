//! `aws_subnets`: the ids of the subnets matching `filter` blocks and `tags`.

use super::{config_filters, filter_block, tag_filters};
use crate::ec2::describe_subnets;
use crate::AwsProvider;
use infra_provider::*;

pub struct Subnets;

#[async_trait::async_trait]
impl DataSource<AwsProvider> for Subnets {
    fn name(&self) -> &'static str {
        "aws_subnets"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("ids", AttrSchema::computed(Type::List(Box::new(Type::String))))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .block("filter", filter_block())
    }

    async fn read(&self, c: &AwsProvider, config: &Value) -> Outcome<Value> {
        let c = c.clients()?;
        let mut filters = config_filters(config)?;
        filters.extend(tag_filters(config));
        let found = describe_subnets(c, &[], filters).await?;
        Ok(Value::object([
            ("id", Value::string(c.region.clone())),
            ("ids", Value::List(found.into_keys().map(Value::string).collect())),
            ("tags", config.get_attr("tags").cloned().unwrap_or(Value::Null)),
            ("filter", config.get_attr("filter").cloned().unwrap_or(Value::Set(Vec::new()))),
        ]))
    }
}
