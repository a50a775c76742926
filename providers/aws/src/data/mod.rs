//! The data sources (`aws_availability_zones`, `aws_ami`, `aws_caller_identity`, `aws_vpc`,
//! `aws_subnets`), one file each, and the `filter {}` / `tags` arguments they share.

use aws_sdk_ec2::types::Filter;
use infra_provider::*;

pub mod ami;
pub mod availability_zones;
pub mod caller_identity;
pub mod subnets;
pub mod vpc;

/// `filter { name values }` blocks as EC2 filters.
fn config_filters(cfg: &Value) -> Outcome<Vec<Filter>> {
    let mut out = Vec::new();
    for f in cfg.get_attr("filter").and_then(Value::as_seq).unwrap_or(&[]) {
        out.push(Filter::builder().name(attrs::req_string(f, "name")?).set_values(Some(attrs::strings(f, "values"))).build());
    }
    Ok(out)
}

/// `tags = {…}`: every tag must match.
fn tag_filters(cfg: &Value) -> Vec<Filter> {
    attrs::string_map(cfg, "tags").into_iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

/// The schema of `filter` blocks.
fn filter_block() -> BlockSchema {
    let filter = Schema::new().attr("name", AttrSchema::required(Type::String)).attr("values", AttrSchema::required(Type::List(Box::new(Type::String))));
    BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: filter }
}
