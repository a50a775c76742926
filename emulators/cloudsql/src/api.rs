//! The HTTP side: reads a request, routes it by method and path (`/v1/...` and the same paths
//! under `/sql/v1beta4/...`), and writes the JSON answer or Google's error shape. Any bearer
//! token (or none) is accepted.

use crate::app::App;
use crate::error::ApiError;
use crate::{catalog, databases, instances, operations, schema, users};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;

const MAX_BODY: usize = 4 << 20;

/// A successful answer and the schema it follows (for `enum-encoding=int`).
pub struct Reply {
    pub schema: &'static str,
    pub body: Value,
}

impl Reply {
    pub fn new(schema: &'static str, body: Value) -> Reply {
        Reply { schema, body }
    }
}

/// What a handler needs from the request besides its path and body.
pub struct Ctx {
    /// `http://HOST:PORT`, as the client reached the emulator (for `selfLink`s).
    pub base_url: String,
    pub query: Vec<(String, String)>,
}

impl Ctx {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }
}

pub async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let host = req.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
    let query = parse_query(&raw_query);
    let ints = query.iter().any(|(k, v)| k == "$alt" && v.contains("enum-encoding=int"));
    let ctx = Ctx { base_url: format!("http://{host}"), query };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(error_response(&ApiError::bad_request("the request body is too large or was cut off"))),
    };
    let result = route(&app, &method, &path, &ctx, &body).await;
    Ok(match result {
        Ok(mut reply) => {
            if ints {
                schema::encode_ints(reply.schema, &mut reply.body);
            }
            json_response(StatusCode::OK, &reply.body)
        }
        Err(e) => error_response(&e),
    })
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json; charset=UTF-8"));
    resp
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    json_response(StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &e.to_json())
}

fn parse_body(body: &Bytes, schema: &str) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let mut v: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid JSON payload received. {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request("Invalid JSON payload received. The body must be a JSON object."));
    }
    schema::normalize(schema, &mut v);
    Ok(v)
}

async fn route(app: &Arc<App>, method: &Method, path: &str, ctx: &Ctx, body: &Bytes) -> Result<Reply, ApiError> {
    let rest = path.strip_prefix("/v1/").or_else(|| path.strip_prefix("/sql/v1beta4/")).ok_or_else(no_such_method)?;
    let seg: Vec<String> = rest.trim_end_matches('/').split('/').map(percent_decode).collect();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    if let ["projects", project, ..] = seg.as_slice() {
        catalog::check_project(project)?;
    }
    match (method.clone(), seg.as_slice()) {
        (Method::GET, ["flags"]) => {
            let version = ctx.param("databaseVersion").map(|v| {
                schema::enum_name("DatabaseInstance", "databaseVersion", &v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(v)))
                    .unwrap_or_else(|| v.to_string())
            });
            Ok(Reply::new("FlagsListResponse", catalog::flags(version.as_deref())))
        }
        (Method::GET, ["projects", _, "tiers"]) => Ok(Reply::new("TiersListResponse", catalog::tiers("us-central1"))),
        (Method::GET, ["projects", p, "instances"]) => Ok(instances::list(app, ctx, p)),
        (Method::POST, ["projects", p, "instances"]) => instances::insert(app, ctx, p, parse_body(body, "DatabaseInstance")?),
        (Method::GET, ["projects", p, "instances", i]) => instances::get(app, p, i),
        (Method::PATCH, ["projects", p, "instances", i]) => instances::patch(app, ctx, p, i, parse_body(body, "DatabaseInstance")?, false),
        (Method::PUT, ["projects", p, "instances", i]) => instances::patch(app, ctx, p, i, parse_body(body, "DatabaseInstance")?, true),
        (Method::DELETE, ["projects", p, "instances", i]) => instances::delete(app, ctx, p, i),
        (Method::POST, ["projects", p, "instances", i, "restart"]) => instances::restart(app, ctx, p, i),
        (Method::GET, ["projects", p, "instances", i, "databases"]) => databases::list(app, ctx, p, i).await,
        (Method::POST, ["projects", p, "instances", i, "databases"]) => databases::insert(app, ctx, p, i, parse_body(body, "Database")?).await,
        (Method::GET, ["projects", p, "instances", i, "databases", d]) => databases::get(app, ctx, p, i, d).await,
        (Method::PATCH | Method::PUT, ["projects", p, "instances", i, "databases", d]) => {
            databases::patch(app, ctx, p, i, d, parse_body(body, "Database")?).await
        }
        (Method::DELETE, ["projects", p, "instances", i, "databases", d]) => databases::delete(app, ctx, p, i, d).await,
        (Method::GET, ["projects", p, "instances", i, "users"]) => users::list(app, ctx, p, i).await,
        (Method::POST, ["projects", p, "instances", i, "users"]) => users::insert(app, ctx, p, i, parse_body(body, "User")?).await,
        (Method::PUT, ["projects", p, "instances", i, "users"]) => users::update(app, ctx, p, i, parse_body(body, "User")?).await,
        (Method::DELETE, ["projects", p, "instances", i, "users"]) => users::delete(app, ctx, p, i).await,
        (Method::GET, ["projects", p, "instances", i, "users", u]) => users::get(app, ctx, p, i, u).await,
        (Method::GET, ["projects", p, "operations"]) => {
            let max = ctx.param("maxResults").and_then(|m| m.parse().ok());
            Ok(operations::list(app, p, ctx.param("instance"), max))
        }
        (Method::GET, ["projects", p, "operations", op]) => operations::get(app, p, op),
        _ => Err(no_such_method()),
    }
}

fn no_such_method() -> ApiError {
    ApiError::not_found(
        "notFound",
        "The requested URL was not found on this server (the emulator implements instances, databases, users, operations, tiers and flags).",
    )
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_parameters_are_decoded() {
        let q = super::parse_query("%24alt=json%3Benum-encoding%3Dint&name=a%40b&host=");
        assert_eq!(q[0], ("$alt".to_string(), "json;enum-encoding=int".to_string()));
        assert_eq!(q[1].1, "a@b");
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%4"), "%4");
    }
}
