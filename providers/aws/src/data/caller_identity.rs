//! `aws_caller_identity`: who the credentials are (STS GetCallerIdentity).

use crate::common::*;
use crate::AwsProvider;
use infra_provider::*;

pub struct CallerIdentity;

#[async_trait::async_trait]
impl DataSource<AwsProvider> for CallerIdentity {
    fn name(&self) -> &'static str {
        "aws_caller_identity"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("account_id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("user_id", AttrSchema::computed(Type::String))
    }

    async fn read(&self, c: &AwsProvider, _config: &Value) -> Outcome<Value> {
        let o = c.clients()?.sts.get_caller_identity().send().await.map_err(|e| api_error("GetCallerIdentity", &e))?;
        Ok(Value::object([
            ("id", opt_string(o.account())),
            ("account_id", opt_string(o.account())),
            ("arn", opt_string(o.arn())),
            ("user_id", opt_string(o.user_id())),
        ]))
    }
}
