//! The provider block (`region`, `profile`, keys, `endpoints { ec2 efs ecs elbv2 sts iam logs ecr
//! secretsmanager cloudwatch applicationautoscaling elasticache }`, `default_tags {}`,
//! `max_retries`, the `skip_*` flags) turned into SDK clients. With no block at all, the
//! standard chain applies: `AWS_REGION`, `AWS_ENDPOINT_URL`, profiles, SSO, IMDS.

use infra_provider::*;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub efs: aws_sdk_efs::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    /// The same services for create calls that are not idempotent: throttling is retried, a
    /// call that may have acted never is (see `retry.rs`).
    pub once: Once,
    /// Attempts per call (`max_retries` + 1).
    pub attempts: u32,
    pub region: String,
    pub default_tags: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct Once {
    pub ec2: aws_sdk_ec2::Client,
    pub efs: aws_sdk_efs::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub elasticache: aws_sdk_elasticache::Client,
}

pub fn schema() -> Schema {
    let s = |a| AttrSchema::optional(a);
    let endpoints = Schema::new()
        .attr("ec2", s(Type::String))
        .attr("efs", s(Type::String))
        .attr("ecs", s(Type::String))
        .attr("elbv2", s(Type::String))
        .attr("sts", s(Type::String))
        .attr("iam", s(Type::String))
        .attr("logs", s(Type::String))
        .attr("ecr", s(Type::String))
        .attr("secretsmanager", s(Type::String))
        .attr("cloudwatch", s(Type::String))
        .attr("applicationautoscaling", s(Type::String))
        .attr("elasticache", s(Type::String));
    let default_tags = Schema::new().attr("tags", s(Type::Map(Box::new(Type::String))));
    Schema::new()
        .attr("region", s(Type::String))
        .attr("profile", s(Type::String))
        .attr("access_key", s(Type::String))
        .attr("secret_key", AttrSchema::optional(Type::String).sensitive())
        .attr("token", AttrSchema::optional(Type::String).sensitive())
        .attr("max_retries", s(Type::Number))
        .attr("skip_credentials_validation", s(Type::Bool))
        .attr("skip_metadata_api_check", s(Type::Bool))
        .attr("skip_requesting_account_id", s(Type::Bool))
        .attr("skip_region_validation", s(Type::Bool))
        .block("endpoints", BlockSchema { nesting: Nesting::Single, min_items: 0, max_items: 1, force_new: false, schema: endpoints })
        .block("default_tags", BlockSchema { nesting: Nesting::Single, min_items: 0, max_items: 1, force_new: false, schema: default_tags })
}

fn string(v: &Value, k: &str) -> Option<String> {
    attrs::string(&v.deep_unmark(), k)
}

impl Clients {
    pub async fn from_config(cfg: &Value) -> Result<Clients, Diagnostic> {
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as Tls};
        let http = aws_smithy_http_client::Builder::new().tls_provider(Tls::Rustls(CryptoMode::Ring)).build_https();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
        if let Some(region) = string(cfg, "region") {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(profile) = string(cfg, "profile") {
            loader = loader.profile_name(profile);
        }
        if let (Some(ak), Some(sk)) = (string(cfg, "access_key"), string(cfg, "secret_key")) {
            loader = loader.credentials_provider(aws_credential_types::Credentials::from_keys(ak, sk, string(cfg, "token")));
        }
        let retry = crate::retry::config(cfg.get_attr("max_retries").and_then(Value::as_i64));
        let attempts = retry.max_attempts();
        loader = loader.retry_config(retry);
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(Diagnostic::error("No AWS region", "Set region in the aws provider block, or AWS_REGION in the environment."));
        };
        let endpoint = |service: &str| cfg.get_attr("endpoints").and_then(|e| string(e, service));
        macro_rules! client {
            ($sdk:ident, $service:literal) => {{
                client!($sdk, $service, |b| b)
            }};
            ($sdk:ident, $service:literal, $more:expr) => {{
                let mut b = $sdk::config::Builder::from(&sdk);
                if let Some(url) = endpoint($service) {
                    b = b.endpoint_url(url);
                }
                $sdk::Client::from_conf($more(b).build())
            }};
        }
        macro_rules! once {
            ($sdk:ident, $service:literal) => {
                client!($sdk, $service, |b: $sdk::config::Builder| b.retry_classifier(crate::retry::OnlyThrottling))
            };
        }
        let default_tags = cfg
            .get_attr("default_tags")
            .and_then(|d| d.get_attr("tags"))
            .and_then(Value::as_map)
            .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
            .unwrap_or_default();
        Ok(Clients {
            ec2: client!(aws_sdk_ec2, "ec2"),
            efs: client!(aws_sdk_efs, "efs"),
            ecs: client!(aws_sdk_ecs, "ecs"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elbv2"),
            sts: client!(aws_sdk_sts, "sts"),
            iam: client!(aws_sdk_iam, "iam"),
            logs: client!(aws_sdk_cloudwatchlogs, "logs"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            secrets: client!(aws_sdk_secretsmanager, "secretsmanager"),
            cloudwatch: client!(aws_sdk_cloudwatch, "cloudwatch"),
            autoscaling: client!(aws_sdk_applicationautoscaling, "applicationautoscaling"),
            elasticache: client!(aws_sdk_elasticache, "elasticache"),
            once: Once {
                ec2: once!(aws_sdk_ec2, "ec2"),
                efs: once!(aws_sdk_efs, "efs"),
                ecs: once!(aws_sdk_ecs, "ecs"),
                elb: once!(aws_sdk_elasticloadbalancingv2, "elbv2"),
                iam: once!(aws_sdk_iam, "iam"),
                logs: once!(aws_sdk_cloudwatchlogs, "logs"),
                ecr: once!(aws_sdk_ecr, "ecr"),
                secrets: once!(aws_sdk_secretsmanager, "secretsmanager"),
                elasticache: once!(aws_sdk_elasticache, "elasticache"),
            },
            attempts,
            region,
            default_tags,
        })
    }
}
