//! The one HTTP client the provider uses (hyper on rustls with ring, the build's one stack) and
//! query encoding: shared by the API client and the token sources.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use infra_provider::*;

pub type Http = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The one HTTP client: HTTPS with the system's roots (rustls on ring), plain HTTP for a local
/// endpoint such as the Cloud SQL emulator.
pub fn http_client() -> Result<Http, Diagnostic> {
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| Diagnostic::error("Cannot load TLS roots", format!("the system's certificate roots cannot be read: {e}.")))?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new()).build(tls))
}

/// Percent-encodes one path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
