//! CloudWatch Logs: `aws_cloudwatch_log_group`, with terraform-provider-aws names, defaults and
//! import id (the group's name).

pub mod log_group;

/// Whether an error code says the log group does not exist.
fn gone(e: &dyn crate::common::ProvideErrorMetadata) -> bool {
    e.code() == Some("ResourceNotFoundException")
}
