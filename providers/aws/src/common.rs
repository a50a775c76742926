//! What every AWS service shares: diagnostics for API errors, the create-intent tag, tag maps
//! (`tags` as configured versus `tags_all` with `default_tags`), polling for a state with a
//! deadline, and concurrent per-object reads.

use crate::config::Clients;
use infra_provider::*;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

pub use aws_smithy_runtime_api::client::result::SdkError;
pub use aws_smithy_runtime_api::http::Response as HttpResponse;
pub use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Tag carried by an object from its create call until the engine has recorded it, on APIs
/// without an idempotency token; `adopt` finds an interrupted create by it.
pub const INTENT_TAG: &str = "infra:create-intent";

/// An API error as a diagnostic naming the operation and AWS's code and message. An answer
/// that is not an AWS error (a proxy's or load balancer's page, an empty body) is reported by
/// its HTTP status and the start of its body. Errors that never reached AWS (no endpoint, no
/// credentials, a refused connection) have neither: their cause chain is the message.
pub fn api_error<E: ProvideErrorMetadata + std::error::Error + 'static>(op: &str, e: &SdkError<E, HttpResponse>) -> Diagnostic {
    if let Some(code) = e.code() {
        let message = e.message().unwrap_or("no message").trim_end_matches('.');
        if crate::retry::is_throttling(code) {
            return Diagnostic::error(
                "AWS API throttled",
                format!("{op} failed: {code}: {message}. AWS still refused the call after every retry: run again later, raise max_retries in the provider block, or lower -parallelism."),
            );
        }
        return Diagnostic::error("AWS API error", format!("{op} failed: {code}: {message}."));
    }
    if let Some(raw) = e.raw_response() {
        let body = raw.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let text: String = infra_provider::text::strip_markup(&body).chars().take(200).collect();
        let status = raw.status().as_u16();
        let said = if text.is_empty() { "an empty body".to_string() } else { format!("\"{text}\"") };
        return Diagnostic::error("AWS API call failed", format!("{op} failed: HTTP {status} with an answer that is not an AWS error: {said}."));
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    Diagnostic::error("AWS API call failed", format!("{op} failed: {}.", text.trim_end_matches('.')))
}

/// The error of a create call sent through [`Clients::once`](crate::config::Clients): one that
/// may have acted says so, and the engine's create looks for the object before sending it again.
pub fn create_error<E: ProvideErrorMetadata + std::error::Error + 'static>(op: &str, e: &SdkError<E, HttpResponse>) -> Errors {
    let d = api_error(op, e);
    if crate::retry::may_have_acted(e) {
        Errors::maybe_acted(d)
    } else {
        d.into()
    }
}

/// The error code of an SDK error, when AWS sent one.
pub fn code_of<E: ProvideErrorMetadata>(e: &E) -> Option<String> {
    e.code().map(str::to_string)
}

pub fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect())
}

pub fn string_set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
    Value::set(items.into_iter().map(|s| Value::string(s)).collect())
}

/// Whether the configuration sets `name` (a value, or one not known yet): for arguments that
/// exclude or need each other.
pub fn is_set(config: &Value, name: &str) -> bool {
    !matches!(config.get_attr(name), None | Some(Value::Null))
}

/// Terraform's "Conflicting configuration arguments" when `config` sets both `a` and `b`, at `b`;
/// `why`, when given, says what the second one does instead.
pub fn conflicting(config: &Value, a: &str, b: &str, why: Option<&str>) -> Option<Diagnostic> {
    (is_set(config, a) && is_set(config, b)).then(|| conflict_error(a, b, why))
}

/// The diagnostic of [`conflicting`], for a type that decides itself when `a` and `b` conflict.
pub fn conflict_error(a: &str, b: &str, why: Option<&str>) -> Diagnostic {
    let why = why.map(|w| format!(": {w}")).unwrap_or_default();
    Diagnostic::error("Conflicting configuration arguments", format!("The arguments {a} and {b} cannot both be set{why}.")).with_path(attrs::at(b))
}

pub fn opt_string(s: Option<&str>) -> Value {
    s.map(Value::string).unwrap_or(Value::Null)
}

pub fn opt_int<N: Into<i64>>(n: Option<N>) -> Value {
    n.map(|n| Value::int(n.into())).unwrap_or(Value::Null)
}

/// The distinct values of `key` among `objects`, sorted: the parents to read children by
/// (file systems of mount targets, load balancers of listeners).
pub fn unique(objects: &[Value], key: &str) -> Vec<String> {
    let mut v: Vec<String> = objects.iter().filter_map(|o| attrs::string(o, key)).collect();
    v.sort();
    v.dedup();
    v
}

/// `v`, or `other` when `v` is null.
pub fn or_if_null(v: Value, other: Value) -> Value {
    if v.is_null() {
        other
    } else {
        v
    }
}

/// The recorded id of an object to look up; an object without one is simply not found.
pub fn id_of(v: &Value) -> String {
    attrs::string(v, "id").unwrap_or_default()
}

/// Tags as AWS reports them, without the intent tag and AWS's own `aws:` tags.
pub fn user_tags<I: IntoIterator<Item = (String, String)>>(tags: I) -> BTreeMap<String, String> {
    tags.into_iter().filter(|(k, _)| k != INTENT_TAG && !k.starts_with("aws:")).collect()
}

/// `tags` as configured: the object's tags without those only `default_tags` sets.
pub fn own_tags(all: &BTreeMap<String, String>, prior_tags: Option<&Value>, defaults: &BTreeMap<String, String>) -> Value {
    let prior = attrs::map_of(prior_tags);
    let own: BTreeMap<String, String> =
        all.iter().filter(|(k, v)| prior.contains_key(*k) || defaults.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if own.is_empty() && prior_tags.is_none_or(Value::is_null) {
        Value::Null
    } else {
        map_value(&own)
    }
}

/// `tags` and `tags_all` of a read object.
pub fn tag_attrs(all: &BTreeMap<String, String>, prior: Option<&Value>, defaults: &BTreeMap<String, String>) -> [(&'static str, Value); 2] {
    [("tags", own_tags(all, prior.and_then(|p| p.get_attr("tags")), defaults)), ("tags_all", map_value(all))]
}

/// `tags_all` = `default_tags` merged with `tags`, known whenever `tags` is.
pub fn plan_tags_all(planned: &mut Value, default_tags: &BTreeMap<String, String>) {
    if let Value::Object(m) = planned {
        if !m.contains_key("tags_all") {
            return;
        }
        let tags = m.get("tags").cloned().unwrap_or(Value::Null);
        let all = if tags.is_unknown() {
            Value::Unknown
        } else {
            let mut all = default_tags.clone();
            all.extend(attrs::map_of(Some(&tags)));
            keep_marks(&tags, map_value(&all))
        };
        m.insert("tags_all".into(), all);
    }
}

/// `tags_all` with the sensitive marks of `tags`: a tag from a sensitive value stays hidden in
/// `tags_all` too (the engine only carries marks along the same path).
fn keep_marks(tags: &Value, all: Value) -> Value {
    let (inner, whole) = tags.unmark();
    match (all, inner.as_map()) {
        (all, _) if whole => all.sensitive(),
        (Value::Map(mut m), Some(t)) => {
            for (k, v) in t.iter().filter(|(_, v)| v.contains_sensitive()) {
                if let Some(x) = m.remove(k) {
                    m.insert(k.clone(), if v.is_null() { x } else { x.sensitive() });
                }
            }
            Value::Map(m)
        }
        (all, _) => all,
    }
}

/// Tag keys to remove and tags to set, going from `old` to `new`.
pub fn tag_changes(prior: &Value, planned: &Value) -> (Vec<String>, BTreeMap<String, String>) {
    let (old, new) = (attrs::string_map(prior, "tags_all"), attrs::string_map(planned, "tags_all"));
    let removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    let changed = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    (removed, changed)
}

/// A nested block as configured (`Nesting::Single` decodes to an object or null) or as a
/// one-element list.
pub fn single_block(v: &Value, name: &str) -> Option<Value> {
    match v.get_attr(name) {
        Some(Value::Object(_)) => v.get_attr(name).cloned(),
        Some(x) => x.as_seq().and_then(|s| s.first().cloned()),
        None => None,
    }
}

/// The `timeouts` block of a type whose terraform-provider-aws schema has one: optional
/// duration strings for the operations named (`create`, `update`, `delete`, `read`).
pub fn timeouts_block(ops: &[&str]) -> BlockSchema {
    let schema = ops.iter().fold(Schema::new(), |s, op| s.attr(op, AttrSchema::optional(Type::String)));
    BlockSchema { nesting: Nesting::Single, min_items: 0, max_items: 1, force_new: false, schema }
}

/// A Go duration as Terraform writes timeouts (`"10m"`, `"1h30m"`, `"45s"`, `"1.5h"`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit..];
    }
    Some(Duration::from_secs_f64(total))
}

/// How long `op` may wait: the `timeouts` block's value, or terraform-provider-aws's default.
pub fn timeout(v: &Value, op: &str, default: Duration) -> Duration {
    single_block(v, "timeouts").and_then(|t| attrs::string(&t, op)).and_then(|s| parse_duration(&s)).unwrap_or(default)
}

/// Every `timeouts` value is a duration Terraform accepts.
pub fn validate_timeouts(config: &Value) -> Vec<Diagnostic> {
    let Some(t) = single_block(config, "timeouts") else { return Vec::new() };
    let Some(m) = t.as_map() else { return Vec::new() };
    m.iter()
        .filter_map(|(op, v)| {
            let text = v.as_str()?;
            parse_duration(text).is_none().then(|| {
                Diagnostic::error("Invalid timeout", format!("timeouts.{op} = {text:?} is not a duration: write it as \"10m\", \"1h30m\" or \"45s\"."))
                    .with_path(vec![PathStep::Attr("timeouts".into()), PathStep::Attr(op.clone())])
            })
        })
        .collect()
}

/// Polls `check` every `every` until it answers `Some`, for at most `limit`. `what` names the
/// awaited state in the timeout diagnostic.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, every: Duration, mut check: F) -> Result<T, Diagnostic>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Diagnostic>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() + every > deadline {
            return Err(Diagnostic::error("Timed out", format!("{what} did not happen within {} seconds.", limit.as_secs())));
        }
        tokio::time::sleep(every).await;
    }
}

/// For a routine refresh (`full == false`): the ids whose per-object read can be skipped
/// because `recorded` finds what the last read stored, with that; the others still need a call.
pub fn split_recorded<T>(ids: &[String], full: bool, recorded: impl Fn(&str) -> Option<T>) -> (BTreeMap<String, T>, Vec<String>) {
    let mut kept = BTreeMap::new();
    let mut missing = Vec::new();
    for id in ids {
        match (!full).then(|| recorded(id)).flatten() {
            Some(v) => {
                kept.insert(id.clone(), v);
            }
            None => missing.push(id.clone()),
        }
    }
    (kept, missing)
}

/// Reads that have no batch API, one call per object: run concurrently, at most 16 in flight.
pub async fn per_object<T, F, Fut>(c: &Clients, ids: &[String], read: F) -> Result<BTreeMap<String, T>, Diagnostic>
where
    F: Fn(Clients, String) -> Fut,
    Fut: Future<Output = Result<T, Diagnostic>> + Send + 'static,
    T: Send + 'static,
{
    let mut out = BTreeMap::new();
    let mut set = tokio::task::JoinSet::new();
    let mut next = ids.iter();
    loop {
        while set.len() < 16 {
            let Some(id) = next.next() else { break };
            let (fut, id) = (read(c.clone(), id.clone()), id.clone());
            set.spawn(async move { (id, fut.await) });
        }
        match set.join_next().await {
            Some(Ok((id, r))) => {
                out.insert(id, r?);
            }
            Some(Err(e)) => return Err(Diagnostic::error("Internal error", format!("a read task failed: {e}."))),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_go_durations_with_the_type_default_when_unset() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("ten minutes"), None);
        let v = Value::object([("timeouts", Value::object([("create", Value::string("2m")), ("delete", Value::Null)]))]);
        assert_eq!(timeout(&v, "create", Duration::from_secs(600)), Duration::from_secs(120));
        assert_eq!(timeout(&v, "delete", Duration::from_secs(600)), Duration::from_secs(600));
        assert_eq!(timeout(&Value::object([("timeouts", Value::Null)]), "create", Duration::from_secs(7)), Duration::from_secs(7));
        let bad = Value::object([("timeouts", Value::object([("create", Value::string("10 minutes"))]))]);
        let d = validate_timeouts(&bad);
        assert_eq!(d.len(), 1);
        assert!(d[0].detail.contains("timeouts.create = \"10 minutes\" is not a duration"), "{:?}", d[0].detail);
    }

    #[test]
    fn a_sensitive_tag_stays_hidden_in_tags_all() {
        let tags = Value::Map([("Name".to_string(), Value::string("web")), ("Secret".to_string(), Value::string("s3cr3t").sensitive())].into_iter().collect());
        let mut planned = Value::object([("tags", tags), ("tags_all", Value::Unknown)]);
        let defaults: BTreeMap<String, String> = [("team".to_string(), "ops".to_string())].into_iter().collect();
        plan_tags_all(&mut planned, &defaults);
        let all = planned.get_attr("tags_all").and_then(Value::as_map).cloned().unwrap_or_default();
        assert_eq!(all.keys().cloned().collect::<Vec<_>>(), ["Name", "Secret", "team"]);
        assert!(matches!(all.get("Secret"), Some(Value::Sensitive(_))), "{all:?}");
        assert!(!all.get("Name").is_some_and(Value::contains_sensitive), "{all:?}");

        let mut whole =
            Value::object([("tags", Value::Map([("A".to_string(), Value::string("b"))].into_iter().collect()).sensitive()), ("tags_all", Value::Unknown)]);
        plan_tags_all(&mut whole, &BTreeMap::new());
        assert!(matches!(whole.get_attr("tags_all"), Some(Value::Sensitive(_))));
    }
}
