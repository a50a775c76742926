//! What is sent again, and when. Every client retries throttling (`RequestLimitExceeded`,
//! `Throttling`, `ThrottlingException`, 429…: refused before AWS acted) and transient failures
//! with capped exponential backoff and full jitter, up to `max_retries`. The clients in
//! [`Clients::once`](crate::config::Clients) carry the create calls that are not idempotent:
//! they still retry throttling, but a call that may have acted (a 5xx that is not throttling, a
//! timeout, a reset connection, an answer that cannot be read) is never re-sent blindly. Its
//! error says [`Acted::Maybe`], and the engine's create looks for the object by its token first.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::ErrorKind;
use std::time::Duration;

/// Retries when the provider block sets no `max_retries`: 9, so 10 attempts in all (about a
/// minute of backoff at most, against Terraform's 25 which can hold a run for many minutes).
pub const DEFAULT_MAX_RETRIES: u32 = 9;

/// The standard retry mode with our limits. Attempts: `max_retries` + 1 when the provider block
/// sets it, else `AWS_MAX_ATTEMPTS` (the SDKs' shared setting) when set, else 10.
pub fn config(max_retries: Option<i64>) -> aws_config::retry::RetryConfig {
    let from_env = || std::env::var("AWS_MAX_ATTEMPTS").ok().and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n >= 1);
    let attempts = match max_retries {
        Some(n) => u32::try_from(n.max(0)).unwrap_or(u32::MAX).saturating_add(1),
        None => from_env().unwrap_or(DEFAULT_MAX_RETRIES + 1),
    };
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

/// Runs after the SDK's classifiers: keeps a throttling verdict, forbids any other retry.
#[derive(Debug)]
pub struct OnlyThrottling;

impl ClassifyRetry for OnlyThrottling {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            RetryAction::RetryIndicated(RetryReason::RetryableError { kind: ErrorKind::ThrottlingError, .. }) => RetryAction::NoActionIndicated,
            p if p.should_retry() => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "infra: retry only throttling"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The error codes AWS uses for throttling (the SDK's list): a call refused so did not act.
pub fn is_throttling(code: &str) -> bool {
    aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
}

/// Whether a failed call may have acted: it was sent, and no error of AWS's says it was refused.
pub fn may_have_acted<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ConstructionFailure(_) => false,
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(d) => !d.is_user() && !refused_connection(e),
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let throttled = status == 429 || e.code().is_some_and(is_throttling);
            status >= 500 && !throttled
        }
        _ => true,
    }
}

/// A connection the endpoint refused: the request never left.
fn refused_connection(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = e.source();
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        cause = c.source();
    }
    false
}
