//! `aws_ami`: images by owners, filters and `name_regex`; several matches need `most_recent`,
//! as in terraform-provider-aws.

use super::{config_filters, filter_block};
use crate::common::*;
use crate::AwsProvider;
use infra_provider::*;

pub struct Ami;

/// A name matcher for `name_regex`, on the regex crate the language already uses.
fn name_matcher(pattern: &str) -> Result<impl Fn(&str) -> bool, String> {
    let re = regex::Regex::new(pattern).map_err(|e| format!("{pattern:?} is not a valid regular expression: {e}"))?;
    Ok(move |s: &str| re.is_match(s))
}

#[async_trait::async_trait]
impl DataSource<AwsProvider> for Ami {
    fn name(&self) -> &'static str {
        "aws_ami"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("image_id", AttrSchema::computed(Type::String))
            .attr("owners", AttrSchema::optional(Type::List(Box::new(Type::String))))
            .attr("most_recent", AttrSchema::optional(Type::Bool))
            .attr("name_regex", AttrSchema::optional(Type::String))
            .attr("name", AttrSchema::computed(Type::String))
            .attr("description", AttrSchema::computed(Type::String))
            .attr("architecture", AttrSchema::computed(Type::String))
            .attr("creation_date", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .block("filter", filter_block())
    }

    async fn read(&self, c: &AwsProvider, cfg: &Value) -> Outcome<Value> {
        let c = c.clients()?;
        let out = c
            .ec2
            .describe_images()
            .set_owners(Some(attrs::strings(cfg, "owners")).filter(|o| !o.is_empty()))
            .set_filters(Some(config_filters(cfg)?).filter(|f| !f.is_empty()))
            .send()
            .await
            .map_err(|e| api_error("DescribeImages", &e))?;
        let name_regex = match attrs::string(cfg, "name_regex").map(|r| name_matcher(&r)) {
            Some(Err(e)) => return Err(Diagnostic::error("Invalid name_regex", format!("{e}.")).with_path(attrs::at("name_regex")).into()),
            Some(Ok(r)) => Some(r),
            None => None,
        };
        let mut images: Vec<&aws_sdk_ec2::types::Image> =
            out.images().iter().filter(|i| name_regex.as_ref().is_none_or(|r| r(i.name().unwrap_or_default()))).collect();
        images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
        let chosen = match images.as_slice() {
            [] => {
                return Err(Diagnostic::error(
                    "Your query returned no results",
                    "No AMI matches the owners and filters given. Please change your search criteria and try again.",
                )
                .into())
            }
            [one] => *one,
            [.., newest] if attrs::bool(cfg, "most_recent") == Some(true) => *newest,
            many => {
                return Err(Diagnostic::error(
                    "Your query returned more than one result",
                    format!("{} AMIs match. Please try a more specific search criteria, or set most_recent = true.", many.len()),
                )
                .into())
            }
        };
        let mut m = cfg.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), opt_string(chosen.image_id()));
        m.insert("image_id".into(), opt_string(chosen.image_id()));
        m.insert("name".into(), opt_string(chosen.name()));
        m.insert("description".into(), opt_string(chosen.description()));
        m.insert("architecture".into(), opt_string(chosen.architecture().map(|a| a.as_str())));
        m.insert("creation_date".into(), opt_string(chosen.creation_date()));
        m.insert("owner_id".into(), opt_string(chosen.owner_id()));
        Ok(Value::Object(m.into()))
    }
}
