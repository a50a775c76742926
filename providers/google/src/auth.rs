//! Access tokens, as terraform-provider-google finds them: `access_token` (or
//! `GOOGLE_OAUTH_ACCESS_TOKEN`), then `credentials` (service-account or authorized-user JSON,
//! as content or a path; or `GOOGLE_CREDENTIALS`), then Application Default Credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's `application_default_credentials.json`, the
//! metadata server). A local plain-HTTP endpoint (the Cloud SQL emulator) with none of these
//! gets no token at all.

use crate::http::Http;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use infra_provider::*;
use serde_json::Value as Json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const METADATA: &str = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";

pub enum Source {
    /// No Authorization header (a local emulator).
    Anonymous,
    Token(String),
    ServiceAccount {
        email: String,
        key: Box<ring::signature::RsaKeyPair>,
        token_uri: String,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
    },
    Metadata,
}

pub struct Auth {
    pub source: Source,
    cache: tokio::sync::Mutex<Option<(String, Instant)>>,
}

fn bad(what: &str, detail: String) -> Diagnostic {
    Diagnostic::error("Invalid Google credentials", format!("{what}: {detail}"))
}

/// Reads a credentials file's JSON (service account or authorized user). `from` names where
/// it came from, for diagnostics. The project id of a service account comes back too.
pub fn parse_credentials(text: &str, from: &str) -> Result<(Source, Option<String>), Diagnostic> {
    let j: Json = serde_json::from_str(text).map_err(|e| bad(from, format!("not JSON ({e}); give the key file's content or its path.")))?;
    let s = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
    match s("type").as_deref() {
        Some("service_account") => {
            let (Some(email), Some(pem)) = (s("client_email"), s("private_key")) else {
                return Err(bad(from, "a service account key needs client_email and private_key.".into()));
            };
            use rustls_pki_types::pem::PemObject;
            let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
                .map_err(|e| bad(from, format!("private_key is not a PKCS#8 PEM key ({e}).")))?;
            let key =
                ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| bad(from, format!("private_key is not an RSA key ({e}).")))?;
            Ok((Source::ServiceAccount { email, key: Box::new(key), token_uri: s("token_uri").unwrap_or_else(|| TOKEN_URI.into()) }, s("project_id")))
        }
        Some("authorized_user") => match (s("client_id"), s("client_secret"), s("refresh_token")) {
            (Some(client_id), Some(client_secret), Some(refresh_token)) => {
                Ok((Source::AuthorizedUser { client_id, client_secret, refresh_token }, s("quota_project_id")))
            }
            _ => Err(bad(from, "authorized_user credentials need client_id, client_secret and refresh_token.".into())),
        },
        other => Err(bad(
            from,
            format!(
                "credentials of type {:?} are not supported; use a service account key or gcloud's application default credentials.",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// `credentials` is the JSON itself or a path to it.
pub fn read_credentials(value: &str, from: &str) -> Result<(Source, Option<String>), Diagnostic> {
    if value.trim_start().starts_with('{') {
        return parse_credentials(value, from);
    }
    let text = std::fs::read_to_string(value).map_err(|e| bad(from, format!("cannot read {value}: {e}.")))?;
    parse_credentials(&text, &format!("{from} ({value})"))
}

/// Base64url without padding, as JWTs want.
fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// The signed JWT a service account trades for an access token (RFC 7523).
pub fn assertion(email: &str, key: &ring::signature::RsaKeyPair, token_uri: &str, now: u64) -> Result<String, Diagnostic> {
    let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({"iss": email, "scope": SCOPE, "aud": token_uri, "iat": now, "exp": now + 3600});
    let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
        .map_err(|_| Diagnostic::error("Cannot sign token request", "the service account key could not sign the token request."))?;
    Ok(format!("{input}.{}", b64(&sig)))
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", crate::http::enc(v))).collect::<Vec<_>>().join("&")
}

impl Auth {
    pub fn new(source: Source) -> Auth {
        let cache = match &source {
            Source::Token(t) => Some((t.clone(), Instant::now() + Duration::from_secs(100 * 365 * 86400))),
            _ => None,
        };
        Auth { source, cache: tokio::sync::Mutex::new(cache) }
    }

    /// The bearer token for the next call (`None`: send none), fetched again a minute before
    /// it expires.
    pub async fn token(&self, http: &Http) -> Result<Option<String>, Diagnostic> {
        if matches!(self.source, Source::Anonymous) {
            return Ok(None);
        }
        let mut cache = self.cache.lock().await;
        if let Some((t, until)) = cache.as_ref() {
            if Instant::now() + Duration::from_secs(60) < *until {
                return Ok(Some(t.clone()));
            }
        }
        let (token, lifetime) = self.fetch(http).await?;
        *cache = Some((token.clone(), Instant::now() + lifetime));
        Ok(Some(token))
    }

    async fn fetch(&self, http: &Http) -> Result<(String, Duration), Diagnostic> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (req, what) = match &self.source {
            Source::Anonymous | Source::Token(_) => {
                return Err(Diagnostic::error("Expired access token", "the access_token given has expired; give a fresh one."))
            }
            Source::ServiceAccount { email, key, token_uri } => {
                let jwt = assertion(email, key, token_uri, now)?;
                let body = form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &jwt)]);
                (
                    hyper::Request::post(token_uri.as_str()).header("content-type", "application/x-www-form-urlencoded").body(Full::new(Bytes::from(body))),
                    "service account token",
                )
            }
            Source::AuthorizedUser { client_id, client_secret, refresh_token } => {
                let body =
                    form(&[("grant_type", "refresh_token"), ("client_id", client_id), ("client_secret", client_secret), ("refresh_token", refresh_token)]);
                (
                    hyper::Request::post(TOKEN_URI).header("content-type", "application/x-www-form-urlencoded").body(Full::new(Bytes::from(body))),
                    "user token refresh",
                )
            }
            Source::Metadata => (hyper::Request::get(METADATA).header("metadata-flavor", "Google").body(Full::new(Bytes::new())), "metadata server token"),
        };
        let fail = |detail: String| {
            let hint = if matches!(self.source, Source::Metadata) {
                " No credentials were configured, so the metadata server was asked: set credentials or access_token in the google provider block, GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`."
            } else {
                ""
            };
            Diagnostic::error("Cannot get a Google access token", format!("{what} failed: {detail}.{hint}"))
        };
        let req = req.map_err(|e| fail(e.to_string()))?;
        let resp = tokio::time::timeout(Duration::from_secs(30), http.request(req))
            .await
            .map_err(|_| fail("no answer within 30 seconds".into()))?
            .map_err(|e| fail(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(|e| fail(e.to_string()))?.to_bytes();
        let j: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
        if !(200..300).contains(&status) {
            let said = j
                .get("error_description")
                .or_else(|| j.get("error"))
                .map(|e| e.to_string())
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            return Err(fail(format!("HTTP {status}: {said}")));
        }
        let token = j.get("access_token").and_then(Json::as_str).ok_or_else(|| fail("the answer holds no access_token".into()))?;
        let secs = j.get("expires_in").and_then(Json::as_u64).unwrap_or(3600);
        Ok((token.to_string(), Duration::from_secs(secs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_of_the_wrong_kind_say_what_is_supported() {
        let e = parse_credentials(r#"{"type":"external_account"}"#, "credentials").err().map(|d| d.detail).unwrap_or_default();
        assert!(e.contains("\"external_account\" are not supported"), "{e}");
        let e = parse_credentials("not json", "credentials").err().map(|d| d.detail).unwrap_or_default();
        assert!(e.starts_with("credentials: not JSON"), "{e}");
        let e = read_credentials("/nonexistent/key.json", "credentials").err().map(|d| d.detail).unwrap_or_default();
        assert!(e.contains("cannot read /nonexistent/key.json"), "{e}");
    }

    #[test]
    fn authorized_user_credentials_are_read() {
        let (s, _) = parse_credentials(r#"{"type":"authorized_user","client_id":"a","client_secret":"b","refresh_token":"c"}"#, "adc")
            .unwrap_or_else(|d| panic!("{}", d.detail));
        assert!(matches!(s, Source::AuthorizedUser { .. }));
    }

    #[test]
    fn a_form_is_url_encoded() {
        assert_eq!(form(&[("a", "x y"), ("b", "1+2")]), "a=x%20y&b=1%2B2");
    }
}
