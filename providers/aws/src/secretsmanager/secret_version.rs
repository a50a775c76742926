//! `aws_secretsmanager_secret_version`: one version of a secret's value. Its id (and import
//! id, as terraform-provider-aws's) is `SECRET_ARN|VERSION_ID`. The value arguments are
//! sensitive: never printed. A version is immutable: a new value is a new version (replace);
//! only its staging labels change in place. Refresh: one `DescribeSecret` per secret (its
//! versions and their labels), whatever the number of versions; the value itself
//! (`GetSecretValue`) only for an import. The create passes its token as `ClientRequestToken`
//! (the version id): a create retried within a run makes no second version, and `adopt` finds
//! an interrupted one by that id (a run after a crash creates under a new token).
//!
//! `secret_string_wo` is accepted and sent; unlike Terraform's write-only arguments it is kept
//! in state (marked sensitive, like every value here) since infra has no write-only attributes.

use super::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_smithy_types::Blob;
use infra_provider::*;
use std::collections::BTreeSet;

pub struct SecretVersion;

/// The labels of every version of `secret`, `None` when the secret is gone.
async fn versions(c: &Clients, secret: String) -> Result<Option<(String, BTreeMap<String, Vec<String>>)>, Diagnostic> {
    match c.secrets.describe_secret().secret_id(&secret).send().await {
        Ok(d) if d.deleted_date().is_none() => {
            let map = d.version_ids_to_stages().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
            Ok(Some((d.arn().unwrap_or_default().to_string(), map)))
        }
        Ok(_) => Ok(None),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(api_error("DescribeSecret", &e)),
    }
}

fn split_id(id: &str) -> Option<(String, String)> {
    let (s, v) = id.split_once('|')?;
    (!s.is_empty() && !v.is_empty()).then(|| (s.to_string(), v.to_string()))
}

/// The secret and version of a recorded object: its id, else its arguments.
fn secret_and_version(o: &Value) -> Option<(String, String)> {
    split_id(&id_of(o)).or_else(|| Some((attrs::string(o, "secret_id")?, attrs::string(o, "version_id")?)))
}

/// A token AWS accepts (32 to 64 characters) from the create's.
fn request_token(token: &str) -> String {
    let t: String = token.chars().filter(char::is_ascii_alphanumeric).collect();
    if t.len() >= 32 {
        t.chars().take(64).collect()
    } else {
        format!("{t:0<32}")
    }
}

fn version_value(arn: &str, version: &str, stages: &[String], value: (Value, Value), known: &Value) -> Value {
    let keep = |k: &str| known.get_attr(k).filter(|v| !v.is_unknown()).cloned().unwrap_or(Value::Null);
    let wo = keep("secret_string_wo");
    Value::object([
        ("id", Value::string(format!("{arn}|{version}"))),
        ("arn", Value::string(arn)),
        ("secret_id", known.get_attr("secret_id").filter(|v| !v.is_unknown() && !v.is_null()).cloned().unwrap_or_else(|| Value::string(arn))),
        ("version_id", Value::string(version)),
        ("version_stages", string_set(stages.iter().cloned())),
        ("secret_string", value.0),
        ("secret_binary", value.1),
        ("has_secret_string_wo", Value::Bool(!wo.is_null())),
        ("secret_string_wo", wo),
        ("secret_string_wo_version", keep("secret_string_wo_version")),
    ])
}

/// Moves the labels of `version` from `from` to `to` (AWSCURRENT is only ever added: AWS moves
/// it away from another version itself, and cannot leave a secret without one).
async fn set_stages(c: &Clients, secret: &str, version: &str, from: &BTreeSet<String>, to: &BTreeSet<String>) -> Result<(), Diagnostic> {
    for stage in to.difference(from) {
        c.secrets
            .update_secret_version_stage()
            .secret_id(secret)
            .version_stage(stage)
            .move_to_version_id(version)
            .send()
            .await
            .map_err(|e| api_error("UpdateSecretVersionStage", &e))?;
    }
    for stage in from.difference(to).filter(|s| *s != "AWSCURRENT") {
        c.secrets
            .update_secret_version_stage()
            .secret_id(secret)
            .version_stage(stage)
            .remove_from_version_id(version)
            .send()
            .await
            .map_err(|e| api_error("UpdateSecretVersionStage", &e))?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for SecretVersion {
    fn name(&self) -> &'static str {
        "aws_secretsmanager_secret_version"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("version_id", AttrSchema::computed(Type::String))
            .attr("secret_id", AttrSchema::required(Type::String).force_new())
            .attr("secret_string", AttrSchema::optional(Type::String).force_new().sensitive())
            .attr("secret_binary", AttrSchema::optional(Type::String).force_new().sensitive())
            .attr("secret_string_wo", AttrSchema::optional(Type::String).force_new().sensitive())
            .attr("secret_string_wo_version", AttrSchema::optional(Type::Number).force_new())
            .attr("has_secret_string_wo", AttrSchema::computed(Type::Bool))
            .attr("version_stages", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let set: Vec<&str> =
            ["secret_string", "secret_binary", "secret_string_wo"].into_iter().filter(|k| config.get_attr(k).is_some_and(|v| !v.is_null())).collect();
        let mut out = Vec::new();
        if set.len() > 1 {
            out.push(
                Diagnostic::error("Conflicting arguments", format!("{} cannot be set together: a version holds one value.", set.join(" and ")))
                    .with_path(attrs::at(set[1])),
            );
        }
        if attrs::string(config, "secret_binary").is_some_and(|b| base64_decode(&b).is_none()) {
            out.push(Diagnostic::error("Invalid value", "secret_binary must be base64 (write it with base64encode()).").with_path(attrs::at("secret_binary")));
        }
        out
    }

    fn plan(&self, _c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            let wo = m.get("secret_string_wo").is_some_and(|v| !v.is_null());
            m.insert("has_secret_string_wo".into(), Value::Bool(wo));
        }
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let secret = attrs::req_string(p, "secret_id")?;
        let binary = match attrs::string(p, "secret_binary") {
            Some(b) => Some(Blob::new(
                base64_decode(&b).ok_or_else(|| Diagnostic::error("Invalid value", "secret_binary must be base64.").with_path(attrs::at("secret_binary")))?,
            )),
            None => None,
        };
        let stages = attrs::strings(p, "version_stages");
        let out = c
            .secrets
            .put_secret_value()
            .secret_id(&secret)
            .client_request_token(request_token(token))
            .set_secret_string(attrs::string(p, "secret_string").or_else(|| attrs::string(p, "secret_string_wo")))
            .set_secret_binary(binary)
            .set_version_stages(Some(stages).filter(|s| !s.is_empty()))
            .send()
            .await
            .map_err(|e| create_error("PutSecretValue", &e))?;
        let arn = out.arn().unwrap_or(&secret).to_string();
        Ok(infra_provider::resource::with_id(p, &format!("{arn}|{}", out.version_id().unwrap_or_default())))
    }

    // The version an interrupted create made has its token as version id; the create sent again
    // after a crash carries a new token, so without this it would make a second version.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let secret = attrs::req_string(planned, "secret_id")?;
        let version = request_token(token);
        let Some((arn, map)) = versions(c.clients()?, secret).await? else { return Ok(None) };
        Ok(map.contains_key(&version).then(|| infra_provider::resource::with_id(planned, &format!("{arn}|{version}"))))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let mut secrets: Vec<String> = objects.iter().filter_map(secret_and_version).map(|(s, _)| s).collect();
        secrets.sort();
        secrets.dedup();
        let found = per_object(c, &secrets, |c, s| async move { versions(&c, s).await }).await?;
        let mut out = Vec::new();
        for o in objects {
            let Some((secret, version)) = secret_and_version(o) else {
                out.push(None);
                continue;
            };
            let Some((arn, map)) = found.get(&secret).cloned().flatten() else {
                out.push(None);
                continue;
            };
            // A version without labels is deprecated: AWS may drop it any time; gone for us.
            let Some(stages) = map.get(&version).filter(|s| !s.is_empty()) else {
                out.push(None);
                continue;
            };
            let recorded = (o.get_attr("secret_string").cloned().unwrap_or(Value::Null), o.get_attr("secret_binary").cloned().unwrap_or(Value::Null));
            let value = if full && recorded.0.is_null() && recorded.1.is_null() && o.get_attr("secret_string_wo").is_none_or(Value::is_null) {
                match c.secrets.get_secret_value().secret_id(&arn).version_id(&version).send().await {
                    Ok(v) => (opt_string(v.secret_string()), v.secret_binary().map(|b| Value::string(base64_encode(b.as_ref()))).unwrap_or(Value::Null)),
                    Err(e) if gone(&e) => {
                        out.push(None);
                        continue;
                    }
                    Err(e) => return Err(api_error("GetSecretValue", &e).into()),
                }
            } else {
                recorded
            };
            out.push(Some(version_value(&arn, &version, stages, value, o)));
        }
        Ok(out)
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        match split_id(id) {
            Some((s, v)) => Ok(Value::object([("id", Value::string(id)), ("secret_id", Value::string(s)), ("version_id", Value::string(v))])),
            None => Err(Diagnostic::error("Invalid import id", format!("{id:?} is not SECRET_ARN|VERSION_ID.")).into()),
        }
    }

    // The AWSCURRENT version of every secret.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let mut out = Vec::new();
        let mut pages = c.secrets.list_secrets().max_results(100).into_paginator().send();
        while let Some(page) = pages.next().await {
            for s in page.map_err(|e| api_error("ListSecrets", &e))?.secret_list() {
                let (Some(arn), None) = (s.arn(), s.deleted_date()) else { continue };
                for (version, stages) in s.secret_versions_to_stages().into_iter().flatten() {
                    if stages.iter().any(|x| x == "AWSCURRENT") {
                        out.push(crate::discover::discovered(&format!("{arn}|{version}"), s.name(), &BTreeMap::new()));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let Some((secret, version)) = secret_and_version(prior) else { return Ok(()) };
        let Some(want) = p.get_attr("version_stages").filter(|v| !v.is_unknown() && !v.is_null()) else { return Ok(()) };
        let want: BTreeSet<String> = want.as_seq().unwrap_or(&[]).iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        let have: BTreeSet<String> = attrs::strings(prior, "version_stages").into_iter().collect();
        Ok(set_stages(c.clients()?, &secret, &version, &have, &want).await?)
    }

    /// Its labels removed (AWS then deletes the version); AWSCURRENT cannot be removed, so the
    /// current version stays until a newer one takes the label.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let Some((secret, version)) = secret_and_version(prior) else { return Ok(()) };
        let Some((_, map)) = versions(c, secret.clone()).await? else { return Ok(()) };
        let have: BTreeSet<String> = map.get(&version).cloned().unwrap_or_default().into_iter().collect();
        match set_stages(c, &secret, &version, &have, &BTreeSet::new()).await {
            Err(d) if d.detail.contains("ResourceNotFoundException") => Ok(()),
            other => Ok(other?),
        }
    }
}
