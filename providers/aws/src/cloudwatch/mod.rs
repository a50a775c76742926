//! CloudWatch: `aws_cloudwatch_metric_alarm`, with terraform-provider-aws names and defaults.
//!
//! The SDK is pinned to the last release that speaks awsQuery (see `Cargo.toml`): moto does not
//! answer the CBOR protocol of later ones.

pub mod metric_alarm;
