//! The Cloud SQL Admin v1 REST client: one hyper client (the build's one HTTP stack), Google's
//! JSON error shape turned into diagnostics, retries by what a call may have done, long-running
//! operations polled until DONE, and mutations of one instance run one at a time.

use crate::auth::Auth;
pub use crate::http::{enc, http_client, Http};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use infra_provider::resource::Acted;
use infra_provider::*;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An answer that is not a success, as the API (or whatever answered) gave it.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// 0 when no HTTP answer came back (refused connection, reset, timeout).
    pub status: u16,
    /// Google's `error.errors[0].reason` (`operationInProgress`, `instanceAlreadyExists`) or
    /// `error.status` (`NOT_FOUND`).
    pub reason: String,
    pub message: String,
}

impl ApiError {
    pub fn not_found(&self) -> bool {
        self.status == 404
    }

    /// Refused before the API acted, and worth sending again: rate limits.
    fn throttled(&self) -> bool {
        self.status == 429 || self.reason == "rateLimitExceeded" || self.reason == "RESOURCE_EXHAUSTED"
    }

    /// The instance is busy with another operation.
    fn in_progress(&self) -> bool {
        self.status == 409 && self.reason == "operationInProgress"
    }

    /// No answer, or a server error: a request may have acted.
    fn transient(&self) -> bool {
        self.status == 0 || self.status >= 500
    }

    pub fn diagnostic(&self, op: &str) -> Diagnostic {
        let message = self.message.trim_end_matches('.');
        match self.status {
            0 => Diagnostic::error("Cloud SQL API call failed", format!("{op} failed: {message}.")),
            s if self.reason.is_empty() => Diagnostic::error("Cloud SQL API call failed", format!("{op} failed: HTTP {s}: {message}.")),
            s => Diagnostic::error("Cloud SQL API error", format!("{op} failed: HTTP {s} {}: {message}.", self.reason)),
        }
    }
}

/// Reads Google's error shape, `{"error": {"code", "message", "status", "errors": [{"reason"}]}}`;
/// anything else (a proxy's page, an empty body) is reported by its status and the start of
/// its text.
pub fn parse_error(status: u16, body: &[u8]) -> ApiError {
    let parsed: Option<Json> = serde_json::from_slice(body).ok();
    if let Some(e) = parsed.as_ref().and_then(|j| j.get("error")).filter(|e| e.is_object()) {
        let reason = e.pointer("/errors/0/reason").and_then(Json::as_str).or_else(|| e.get("status").and_then(Json::as_str)).unwrap_or_default().to_string();
        let message = e.get("message").and_then(Json::as_str).unwrap_or("no message").to_string();
        return ApiError { status, reason, message };
    }
    let text = infra_provider::text::strip_markup(&String::from_utf8_lossy(body));
    let said = if text.is_empty() { "an empty body".to_string() } else { format!("\"{}\"", text.chars().take(200).collect::<String>()) };
    ApiError { status, reason: String::new(), message: format!("an answer that is not a Google API error: {said}") }
}

/// The diagnostics of a DONE operation that failed: one per `error.errors[]`, with its code.
pub fn operation_errors(op: &Json, what: &str) -> Vec<Diagnostic> {
    let errors = op.pointer("/error/errors").and_then(Json::as_array).cloned().unwrap_or_default();
    errors
        .iter()
        .map(|e| {
            let code = e.get("code").and_then(Json::as_str).unwrap_or("UNKNOWN");
            let message = e.get("message").and_then(Json::as_str).unwrap_or("no message").trim_end_matches('.');
            let name = op.get("name").and_then(Json::as_str).unwrap_or("?");
            Diagnostic::error("Cloud SQL operation failed", format!("{what} failed: {code}: {message} (operation {name})."))
        })
        .collect()
}

pub struct Api {
    http: Http,
    /// The versioned base URL, ending in `/` (`https://sqladmin.googleapis.com/v1/`).
    base: String,
    auth: Auth,
    pub project: String,
    /// Per-instance locks: Cloud SQL runs one operation per instance at a time.
    locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// How long a 409 operationInProgress is retried, and an operation waited for.
    pub busy_limit: Duration,
    pub operation_limit: Duration,
    /// The first pause between polls of an operation (then doubling to ten times that, at most
    /// 10 s: 2 s to 10 s for Google, 0.2 s to 2 s for a local endpoint).
    pub first_poll: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn hyper(self) -> hyper::Method {
        match self {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
            Method::Put => hyper::Method::PUT,
            Method::Patch => hyper::Method::PATCH,
            Method::Delete => hyper::Method::DELETE,
        }
    }

    /// Sending it twice does what sending it once does (an insert does not: it is a POST).
    fn idempotent(self) -> bool {
        self != Method::Post
    }
}

/// The pause before attempt `n + 1`: exponential from `first`, capped, with jitter.
fn backoff(first: Duration, n: u32, cap: Duration) -> Duration {
    let base = first.saturating_mul(1 << n.min(6)).min(cap);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let ms = base.as_millis() as u64;
    Duration::from_millis(ms / 2 + u64::from(nanos) % (ms / 2 + 1))
}

impl Api {
    pub fn new(http: Http, base: String, auth: Auth, project: String) -> Api {
        let secs = |k: &str, d: u64| Duration::from_secs(std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d));
        let local = base.starts_with("http://");
        Api {
            http,
            base,
            auth,
            project,
            locks: Mutex::new(BTreeMap::new()),
            busy_limit: secs("INFRA_GOOGLE_BUSY_RETRY_SECONDS", 600),
            operation_limit: secs("INFRA_GOOGLE_OPERATION_TIMEOUT_SECONDS", 3600),
            first_poll: if local { Duration::from_millis(200) } else { Duration::from_secs(2) },
        }
    }

    /// One request, one answer: the parsed body of a success, or the error.
    async fn send(&self, method: Method, path: &str, body: Option<&Json>) -> Result<Json, ApiError> {
        let url = format!("{}{}", self.base, path);
        let mut req = hyper::Request::builder().method(method.hyper()).uri(&url).header("accept", "application/json");
        if let Some(token) = self.auth.token(&self.http).await.map_err(|d| ApiError { status: 0, reason: String::new(), message: d.detail })? {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(bytes)).map_err(|e| ApiError { status: 0, reason: String::new(), message: format!("bad request to {url}: {e}") })?;
        let resp = tokio::time::timeout(Duration::from_secs(120), self.http.request(req))
            .await
            .map_err(|_| ApiError { status: 0, reason: String::new(), message: format!("{url}: no answer within 120 seconds") })?
            .map_err(|e| {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                ApiError { status: 0, reason: String::new(), message: format!("{url}: {text}") }
            })?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError { status: 0, reason: String::new(), message: format!("reading the answer of {url}: {e}") })?
            .to_bytes();
        if !(200..300).contains(&status) {
            return Err(parse_error(status, &body));
        }
        if body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&body).map_err(|_| parse_error(status, &body))
    }

    /// A call with retries: throttling always; a server error or a lost answer only for calls
    /// that are safe to send twice; `operationInProgress` (the instance is busy) until
    /// `busy_limit`. A POST that may have acted comes back as [`Errors::maybe_acted`].
    pub async fn call(&self, op: &str, method: Method, path: &str, body: Option<&Json>) -> Result<Json, CallError> {
        let started = tokio::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            let e = match self.send(method, path, body).await {
                Ok(j) => return Ok(j),
                Err(e) => e,
            };
            let retry = if e.in_progress() {
                started.elapsed() < self.busy_limit
            } else if e.throttled() || (e.transient() && method.idempotent()) {
                attempt < 6
            } else {
                false
            };
            if !retry {
                let acted = if e.transient() && !method.idempotent() { Acted::Maybe } else { Acted::No };
                let diagnostic = if e.in_progress() {
                    Diagnostic::error(
                        "Cloud SQL instance busy",
                        format!(
                            "{op} failed: the instance was still running another operation after {} seconds of retries (HTTP 409 operationInProgress: {}). Run again once it has finished (gcloud sql operations list --instance=NAME shows it).",
                            started.elapsed().as_secs(),
                            e.message.trim_end_matches('.')
                        ),
                    )
                } else {
                    e.diagnostic(op)
                };
                return Err(CallError { diagnostic, error: e, acted });
            }
            let pause = if e.in_progress() {
                backoff(self.first_poll.max(Duration::from_millis(500)), attempt, Duration::from_secs(10))
            } else {
                backoff(Duration::from_millis(500), attempt, Duration::from_secs(20))
            };
            attempt += 1;
            tokio::time::sleep(pause).await;
        }
    }

    /// A read: `None` when the object does not exist.
    pub async fn get(&self, op: &str, path: &str) -> Result<Option<Json>, Errors> {
        match self.call(op, Method::Get, path, None).await {
            Ok(j) => Ok(Some(j)),
            Err(e) if e.error.not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every item of a listing, through its pages.
    pub async fn list(&self, op: &str, path: &str) -> Result<Option<Vec<Json>>, Errors> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let p = match &token {
                Some(t) => format!("{path}{}pageToken={}", if path.contains('?') { '&' } else { '?' }, enc(t)),
                None => path.to_string(),
            };
            let Some(page) = self.get(op, &p).await? else { return Ok(None) };
            items.extend(page.get("items").and_then(Json::as_array).cloned().unwrap_or_default());
            match page.get("nextPageToken").and_then(Json::as_str).filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(Some(items)),
            }
        }
    }

    /// Polls an operation until DONE, with backoff; transient poll errors are polled through.
    /// Returns the operation's own errors as diagnostics.
    pub async fn wait(&self, project: &str, op: &Json, what: &str) -> Result<Json, Errors> {
        let Some(name) = op.get("name").and_then(Json::as_str).map(str::to_string) else {
            return Ok(op.clone());
        };
        let started = tokio::time::Instant::now();
        let mut current = op.clone();
        let mut n = 0;
        loop {
            if current.get("status").and_then(Json::as_str) == Some("DONE") {
                let errors = operation_errors(&current, what);
                return if errors.is_empty() { Ok(current) } else { Err(errors.into()) };
            }
            if started.elapsed() > self.operation_limit {
                return Err(Diagnostic::error(
                    "Cloud SQL operation still running",
                    format!("{what} did not finish within {} seconds (operation {name}); the next apply waits for it again.", self.operation_limit.as_secs()),
                )
                .into());
            }
            tokio::time::sleep(backoff(self.first_poll, n, self.first_poll.saturating_mul(10).min(Duration::from_secs(10)))).await;
            n += 1;
            match self.call("operations.get", Method::Get, &format!("projects/{}/operations/{}", enc(project), enc(&name)), None).await {
                Ok(j) => current = j,
                Err(e) if e.error.transient() || e.error.throttled() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits for every operation on `instance` that is not DONE (one started by an earlier,
    /// interrupted run, a backup, maintenance).
    pub async fn wait_idle(&self, project: &str, instance: &str) -> Result<(), Errors> {
        let path = format!("projects/{}/operations?instance={}&maxResults=20", enc(project), enc(instance));
        let ops = match self.call("operations.list", Method::Get, &path, None).await {
            Ok(j) => j.get("items").and_then(Json::as_array).cloned().unwrap_or_default(),
            // An API without the listing (or one refusing the filter) has nothing to wait for.
            Err(e) if (400..500).contains(&e.error.status) && !e.error.throttled() && e.error.status != 409 => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for op in ops.iter().filter(|o| o.get("status").and_then(Json::as_str) != Some("DONE")) {
            let kind = op.get("operationType").and_then(Json::as_str).unwrap_or("an operation");
            // Its failure belongs to whoever started it; what matters here is that it ended.
            let _ = self.wait(project, op, &format!("{kind} of instance {instance}")).await;
        }
        Ok(())
    }

    /// The lock of one instance: mutations of one instance run one at a time.
    pub async fn lock(&self, project: &str, instance: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(format!("{project}/{instance}")).or_default().clone()
        };
        m.lock_owned().await
    }

    /// A mutation of `instance` (or of a database or user in it): under the instance's lock,
    /// then the call, then its operation waited for until DONE.
    pub async fn mutate(&self, project: &str, instance: &str, op: &str, method: Method, path: &str, body: Option<&Json>) -> Result<Json, Errors> {
        let _guard = self.lock(project, instance).await;
        let started = self.call(op, method, path, body).await.map_err(Errors::from)?;
        self.wait(project, &started, op).await
    }
}

/// A failed call: its diagnostic, the API's error, and whether it may have acted.
#[derive(Debug)]
pub struct CallError {
    pub diagnostic: Diagnostic,
    pub error: ApiError,
    pub acted: Acted,
}

impl From<CallError> for Errors {
    fn from(e: CallError) -> Errors {
        Errors(vec![e.diagnostic], e.acted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_give_their_reason_and_message() {
        let body = br#"{"error":{"code":409,"message":"Operation failed because another operation was already in progress.","status":"ABORTED","errors":[{"domain":"global","reason":"operationInProgress","message":"x"}]}}"#;
        let e = parse_error(409, body);
        assert!(e.in_progress());
        let d = e.diagnostic("instances.patch");
        assert_eq!(d.detail, "instances.patch failed: HTTP 409 operationInProgress: Operation failed because another operation was already in progress.");
        let e = parse_error(404, br#"{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}"#);
        assert!(e.not_found() && e.reason == "NOT_FOUND");
    }

    #[test]
    fn a_page_that_is_not_a_google_error_is_reported_by_status_and_text() {
        let e = parse_error(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>");
        assert!(e.transient());
        assert_eq!(e.diagnostic("instances.get").detail, "instances.get failed: HTTP 502: an answer that is not a Google API error: \"502 Bad Gateway\".");
        assert!(parse_error(500, b"").message.contains("an empty body"));
    }

    #[test]
    fn a_failed_operation_gives_one_diagnostic_per_error_with_its_code() {
        let op = json!({"name": "op-1", "status": "DONE", "error": {"errors": [{"code": "INVALID_TIER", "message": "Invalid tier."}, {"code": "X", "message": "y"}]}});
        let d = operation_errors(&op, "create of instance db");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].detail, "create of instance db failed: INVALID_TIER: Invalid tier (operation op-1).");
        assert!(operation_errors(&json!({"status": "DONE"}), "x").is_empty());
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(enc("a b/c"), "a%20b%2Fc");
        assert_eq!(enc("user@example.com"), "user%40example.com");
    }
}
