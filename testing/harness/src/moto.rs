//! The moto harness shared by the AWS test files: installs moto into the target directory when
//! `INFRA_MOTO_SERVER` does not name one, starts one server per test on a free loopback port,
//! counts requests from its log, and calls its APIs directly (moto does not check signatures)
//! to look at what a stack made, or to make objects by hand for import tests.

pub use crate::example;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static INSTALL: Mutex<()> = Mutex::new(());

/// `moto_server`, from `INFRA_MOTO_SERVER` or a venv under the target directory.
pub fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("INFRA_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = crate::target_dir().join("moto-venv");
    let bin = venv.join("bin/moto_server");
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !bin.exists() {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "-q",
                    "moto[ec2,ecs,efs,elbv2,acm,s3,kms,iam,logs,ecr,secretsmanager,cloudwatch,applicationautoscaling,elasticache]",
                    "flask",
                    "flask-cors",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "installing moto into {} failed (python3 with venv and PyPI access are needed)", venv.display());
    }
    bin
}

pub struct Moto {
    child: Child,
    pub url: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts a moto server on a free port. A port found free can be taken by another test's
/// moto before ours binds it (ours then exits, and a bare connect check would reach theirs):
/// so ours counts as up only once its own log says it is listening, and a lost race retries
/// on another port.
pub fn start_moto() -> Moto {
    let bin = moto_server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moto.log");
    for _attempt in 0..10 {
        let port = free_port();
        let mut child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // moto's recorder keeps every request with its body: what the provider sent for
            // arguments moto accepts but ignores ([`Moto::request_bodies`]).
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"))
            // AWS's managed policies (AmazonECSTaskExecutionRolePolicy), as a real account has.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let listening = format!("Running on http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break; // lost the port: try another
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(&listening) && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Moto { child, url: format!("http://127.0.0.1:{port}"), log, _dir: dir };
            }
            assert!(Instant::now() < deadline, "moto did not start: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("moto could not bind a port in 10 attempts: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

impl Moto {
    /// API requests moto has answered so far (every service; not moto's own control API).
    pub fn requests(&self) -> usize {
        self.request_lines().len()
    }

    /// The request lines of moto's log (`"GET /path HTTP/1.1" 200`), in order.
    pub fn request_lines(&self) -> Vec<String> {
        let f = std::fs::File::open(&self.log).unwrap();
        BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .map(|l| strip_colors(&l))
            .filter(|l| ["\"GET /", "\"POST /", "\"PUT /", "\"DELETE /"].iter().any(|m| l.contains(m)) && !l.contains("/moto-api"))
            .collect()
    }

    /// The bodies of the requests moto has answered so far, in order, decoded (query strings
    /// of the EC2 and ELB APIs, JSON of ECS and EFS), from moto's recorder.
    pub fn request_bodies(&self) -> Vec<String> {
        let Some(dir) = self.log.parent() else { return Vec::new() };
        let text = std::fs::read_to_string(dir.join("recording.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|e| {
                let body = e["body"].as_str().unwrap_or_default().to_string();
                if e["body_encoded"].as_bool() == Some(true) {
                    String::from_utf8_lossy(&decode_base64(&body)).into_owned()
                } else {
                    body
                }
            })
            .collect()
    }

    /// The recorded query-API requests (EC2, ELB) whose `Action` is `action`, each as its
    /// decoded parameters.
    pub fn query_requests(&self, action: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        self.request_bodies()
            .iter()
            .map(|b| b.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect::<std::collections::BTreeMap<_, _>>())
            .filter(|m| m.get("Action").is_some_and(|a| a == action))
            .collect()
    }

    /// One raw HTTP call, signed for `service` as far as moto looks (the credential scope names
    /// the service); returns the body.
    pub fn call(&self, service: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        self.call_in("us-east-1", service, method, path, headers, body)
    }

    /// [`Moto::call`] in another region (each region is separate state in moto).
    pub fn call_in(&self, region: &str, service: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        let script = "import sys, json, urllib.request\nurl, method, service, body, region = sys.argv[1:6]\nheaders = json.loads(sys.argv[6])\nheaders['Authorization'] = 'AWS4-HMAC-SHA256 Credential=test/20260101/' + region + '/' + service + '/aws4_request, SignedHeaders=host, Signature=x'\nreq = urllib.request.Request(url, data=body.encode() if body else None, headers=headers, method=method)\ntry:\n    print(urllib.request.urlopen(req).read().decode())\nexcept urllib.error.HTTPError as e:\n    print(e.read().decode())";
        let headers: serde_json::Map<String, serde_json::Value> =
            headers.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(format!("{}{path}", self.url))
            .arg(method)
            .arg(service)
            .arg(body)
            .arg(region)
            .arg(serde_json::Value::Object(headers).to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn query(&self, service: &str, version: &str, params: &[(&str, &str)]) -> String {
        self.query_in("us-east-1", service, version, params)
    }

    pub fn query_in(&self, region: &str, service: &str, version: &str, params: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        pairs.push(("Version".into(), version.into()));
        let body = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.call_in(region, service, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], &body)
    }

    /// The EC2 Query API; returns the XML.
    pub fn ec2(&self, params: &[(&str, &str)]) -> String {
        self.query("ec2", "2016-11-15", params)
    }

    /// The ELBv2 Query API; returns the XML.
    pub fn elbv2(&self, params: &[(&str, &str)]) -> String {
        self.query("elasticloadbalancing", "2015-12-01", params)
    }

    /// The ECS JSON API (`ListClusters`, `DescribeServices`, …); returns the JSON.
    pub fn ecs(&self, operation: &str, body: serde_json::Value) -> serde_json::Value {
        let target = format!("AmazonEC2ContainerServiceV20141113.{operation}");
        let text = self.call("ecs", "POST", "/", &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", &target)], &body.to_string());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("ECS {operation} answered {text}: {e}"))
    }

    /// The EFS REST API (`/2015-02-01/file-systems`, …); returns the JSON.
    pub fn efs(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let text = self.call("elasticfilesystem", method, &format!("/2015-02-01{path}"), &[("Content-Type", "application/json")], &body);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("EFS {method} {path} answered {text}: {e}"))
    }
}

/// moto colors the request lines of failed calls (`ESC[35m`…`ESC[0m`).
fn strip_colors(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(b: Option<&[u8]>) -> Option<u8> {
    std::str::from_utf8(b?).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if hex(bytes.get(i + 1..i + 3)).is_some() => {
                out.extend(hex(bytes.get(i + 1..i + 3)));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Credentials and retries for stacks that configure their provider from the environment.
pub fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_MAX_ATTEMPTS", "1"), ("AWS_EC2_METADATA_DISABLED", "true")]
}

pub fn provider_block(moto: &Moto) -> String {
    format!(
        "provider \"aws\" {{\n  region                      = \"us-east-1\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  max_retries                 = 0\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  endpoints {{\n    ec2 = \"{}\"\n  }}\n  default_tags {{\n    tags = {{ managed_by = \"infra\" }}\n  }}\n}}\n",
        moto.url
    )
}

pub fn infra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = Command::new(crate::infra_bin());
    c.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("AWS_PROFILE");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
