//! The provider block (`project`, `region`, `zone`, `credentials`, `access_token`,
//! `sql_custom_endpoint`, `default_labels`) and the environment terraform-provider-google reads
//! (`GOOGLE_PROJECT`, `GOOGLE_REGION`, `GOOGLE_ZONE`, `GOOGLE_CREDENTIALS`,
//! `GOOGLE_APPLICATION_CREDENTIALS`, `GOOGLE_OAUTH_ACCESS_TOKEN`, `GOOGLE_SQL_CUSTOM_ENDPOINT`),
//! turned into the one API client. `zone` is accepted as terraform-provider-google users write
//! it; no Cloud SQL argument takes it yet.

use crate::api::{http_client, Api};
use crate::auth::{read_credentials, Auth, Source};
use infra_provider::*;
use std::collections::BTreeMap;

pub const DEFAULT_ENDPOINT: &str = "https://sqladmin.googleapis.com/v1/";

pub struct Client {
    pub api: Api,
    pub region: Option<String>,
    pub default_labels: BTreeMap<String, String>,
}

pub fn schema() -> Schema {
    let s = AttrSchema::optional;
    Schema::new()
        .attr("project", s(Type::String))
        .attr("region", s(Type::String))
        .attr("zone", s(Type::String))
        .attr("credentials", s(Type::String).sensitive())
        .attr("access_token", s(Type::String).sensitive())
        .attr("sql_custom_endpoint", s(Type::String))
        .attr("default_labels", s(Type::Map(Box::new(Type::String))))
}

/// The first of the block's value and the environment variables that is set and not empty.
fn setting(cfg: &Value, key: &str, env: &[&str]) -> Option<String> {
    attrs::string(&cfg.deep_unmark(), key).or_else(|| env.iter().find_map(|k| std::env::var(k).ok())).filter(|s| !s.is_empty())
}

/// The versioned base URL of an endpoint. terraform-provider-google's `sql_custom_endpoint`
/// names the v1beta4 base (`https://sqladmin.googleapis.com/sql/v1beta4/`), whose calls and
/// JSON for instances, databases, users and operations are those of v1; a bare origin
/// (`http://127.0.0.1:8080`) gets `v1/`.
pub fn base_url(endpoint: &str) -> Result<String, Diagnostic> {
    let e = endpoint.trim();
    let Some(rest) = e.strip_prefix("https://").or_else(|| e.strip_prefix("http://")) else {
        return Err(
            Diagnostic::error("Invalid sql_custom_endpoint", format!("{e:?} is not an http:// or https:// URL.")).with_path(attrs::at("sql_custom_endpoint"))
        );
    };
    let mut base = e.trim_end_matches('/').to_string();
    if !rest.trim_end_matches('/').contains('/') {
        base.push_str("/v1");
    }
    base.push('/');
    Ok(base)
}

/// Whether an endpoint is local plain HTTP, where a missing credential means none is needed.
fn local(base: &str) -> bool {
    base.starts_with("http://")
}

pub fn credentials(cfg: &Value, base: &str) -> Result<(Source, Option<String>), Diagnostic> {
    if let Some(t) = setting(cfg, "access_token", &["GOOGLE_OAUTH_ACCESS_TOKEN"]) {
        return Ok((Source::Token(t), None));
    }
    if let Some(c) = setting(cfg, "credentials", &["GOOGLE_CREDENTIALS", "GOOGLE_CLOUD_KEYFILE_JSON", "GCLOUD_KEYFILE_JSON"]) {
        return read_credentials(&c, "credentials").map_err(|d| d.with_path(attrs::at("credentials")));
    }
    if let Some(path) = setting(&Value::Null, "", &["GOOGLE_APPLICATION_CREDENTIALS"]) {
        return read_credentials(&path, "GOOGLE_APPLICATION_CREDENTIALS");
    }
    if local(base) {
        return Ok((Source::Anonymous, None));
    }
    let gcloud = std::env::var("CLOUDSDK_CONFIG")
        .ok()
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var("HOME").ok().map(|h| std::path::Path::new(&h).join(".config/gcloud")))
        .map(|d| d.join("application_default_credentials.json"));
    if let Some(p) = gcloud.filter(|p| p.exists()) {
        return read_credentials(&p.to_string_lossy(), "application default credentials");
    }
    Ok((Source::Metadata, None))
}

impl Client {
    pub fn from_config(cfg: &Value) -> Result<Client, Diagnostic> {
        let endpoint = setting(cfg, "sql_custom_endpoint", &["GOOGLE_SQL_CUSTOM_ENDPOINT"]);
        let base = base_url(endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT))?;
        let (source, key_project) = credentials(cfg, &base)?;
        let project =
            setting(cfg, "project", &["GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"]).or(key_project).unwrap_or_default();
        let region = setting(cfg, "region", &["GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"]);
        let default_labels = attrs::string_map(&cfg.deep_unmark(), "default_labels");
        Ok(Client { api: Api::new(http_client()?, base, Auth::new(source), project), region, default_labels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_their_version() {
        assert_eq!(base_url("http://127.0.0.1:8080").ok().as_deref(), Some("http://127.0.0.1:8080/v1/"));
        assert_eq!(base_url("http://127.0.0.1:8080/").ok().as_deref(), Some("http://127.0.0.1:8080/v1/"));
        assert_eq!(base_url("https://sqladmin.googleapis.com/sql/v1beta4/").ok().as_deref(), Some("https://sqladmin.googleapis.com/sql/v1beta4/"));
        assert_eq!(base_url(DEFAULT_ENDPOINT).ok().as_deref(), Some(DEFAULT_ENDPOINT));
        assert!(base_url("sqladmin.googleapis.com").is_err());
    }
}
