//! The `local` provider: `local_file`, `local_sensitive_file` and the `local_file` data source.
//! `read` looks at the file itself, so a file edited or deleted by hand is drift: the next plan
//! replaces or recreates it. Files are written through a temp file and a rename.

use async_trait::async_trait;
use base64::Engine;
use infra_provider::*;
use sha1::Digest;
use std::collections::BTreeMap;
use std::path::Path;

pub struct LocalProvider;

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(LocalProvider) as Box<dyn Provider>)
}

const HASHES: &[&str] = &["content_md5", "content_sha1", "content_sha256", "content_base64sha256", "content_sha512", "content_base64sha512"];

fn file_schema(sensitive: bool) -> Schema {
    let content = if sensitive { AttrSchema::optional(Type::String).force_new().sensitive() } else { AttrSchema::optional(Type::String).force_new() };
    let mut s = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("filename", AttrSchema::required(Type::String).force_new())
        .attr("content", content)
        .attr("content_base64", AttrSchema::optional(Type::String).force_new().sensitive_if(sensitive))
        .attr("source", AttrSchema::optional(Type::String).force_new())
        .attr("file_permission", AttrSchema::optional_computed(Type::String).force_new())
        .attr("directory_permission", AttrSchema::optional_computed(Type::String).force_new());
    if !sensitive {
        s = s.attr("sensitive_content", AttrSchema::optional(Type::String).force_new().sensitive());
    }
    // Hashes of a secret are not printed either.
    for h in HASHES {
        s = s.attr(h, AttrSchema::computed(Type::String).sensitive_if(sensitive));
    }
    s
}

trait SensitiveIf {
    fn sensitive_if(self, on: bool) -> Self;
}

impl SensitiveIf for AttrSchema {
    fn sensitive_if(self, on: bool) -> Self {
        if on {
            self.sensitive()
        } else {
            self
        }
    }
}

fn data_schema() -> Schema {
    let mut s = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("filename", AttrSchema::required(Type::String))
        .attr("content", AttrSchema::computed(Type::String))
        .attr("content_base64", AttrSchema::computed(Type::String));
    for h in HASHES {
        s = s.attr(h, AttrSchema::computed(Type::String));
    }
    s
}

fn hashes(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    vec![
        ("id", hex::encode(sha1::Sha1::digest(bytes))),
        ("content_md5", hex::encode(md5::Md5::digest(bytes))),
        ("content_sha1", hex::encode(sha1::Sha1::digest(bytes))),
        ("content_sha256", hex::encode(sha2::Sha256::digest(bytes))),
        ("content_base64sha256", b64(&sha2::Sha256::digest(bytes))),
        ("content_sha512", hex::encode(sha2::Sha512::digest(bytes))),
        ("content_base64sha512", b64(&sha2::Sha512::digest(bytes))),
    ]
}

fn err(summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail)
}

/// The bytes a local_file should hold, from whichever content argument is set.
fn desired_bytes(obj: &Value) -> Result<Option<Vec<u8>>, Diagnostic> {
    let o = obj.deep_unmark();
    if let Some(c) = attrs::string(&o, "content").or_else(|| attrs::string(&o, "sensitive_content")) {
        return Ok(Some(c.into_bytes()));
    }
    if let Some(b) = attrs::string(&o, "content_base64") {
        return base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map(Some)
            .map_err(|e| err("Invalid content_base64", format!("content_base64 is not valid base64: {e}.")));
    }
    if let Some(src) = attrs::string(&o, "source") {
        return std::fs::read(&src).map(Some).map_err(|e| err("Cannot read source", format!("Reading {src} failed: {e}.")));
    }
    Ok(None)
}

fn parse_mode(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777)
}

fn write_file(path: &Path, bytes: &[u8], file_mode: u32, dir_mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(dir_mode).create(dir)?;
    }
    let tmp = path.with_file_name(format!(".{}.infra-tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        f.set_permissions(std::fs::Permissions::from_mode(file_mode))?;
    }
    std::fs::rename(&tmp, path)
}

#[async_trait]
impl Provider for LocalProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            resources: BTreeMap::from([("local_file".to_string(), file_schema(false)), ("local_sensitive_file".to_string(), file_schema(true))]),
            data_sources: BTreeMap::from([("local_file".to_string(), data_schema())]),
            ..Default::default()
        }
    }

    fn validate(&self, req: &ValidateRequest) -> Vec<Diagnostic> {
        if req.data_source {
            return Vec::new();
        }
        let (type_name, config) = (&req.type_name, &req.config);
        let set: Vec<&str> =
            ["content", "sensitive_content", "content_base64", "source"].into_iter().filter(|k| config.get_attr(k).is_some_and(|v| !v.is_null())).collect();
        let mut out = Vec::new();
        if set.len() != 1 {
            out.push(
                err(
                    "Invalid combination of arguments",
                    format!(
                        "{type_name} needs exactly one of content, sensitive_content, content_base64 or source; {} set.",
                        if set.is_empty() { "none is".to_string() } else { set.join(", ") + " are" }
                    ),
                )
                .with_path(vec![PathStep::Attr("content".into())]),
            );
        }
        for k in ["file_permission", "directory_permission"] {
            if let Some(p) = attrs::string(config, k) {
                if parse_mode(&p).is_none() {
                    out.push(
                        err("Invalid permission", format!("{k} must be an octal mode such as \"0644\", not {p:?}.")).with_path(vec![PathStep::Attr(k.into())]),
                    );
                }
            }
        }
        out
    }

    /// As the schema says, without the permissions the type defaults to.
    fn to_hcl(&self, req: ToHclRequest) -> ToHclResponse {
        let sensitive = req.type_name == "local_sensitive_file";
        let default_mode = if sensitive { "0700" } else { "0777" };
        let mut state = req.state.clone();
        if let Value::Object(m) = &mut state {
            for k in ["file_permission", "directory_permission"] {
                if m.get(k).and_then(|v| v.as_str().map(str::to_string)).as_deref() == Some(default_mode) {
                    m.insert(k.into(), Value::Null);
                }
            }
        }
        ToHclResponse { body: Some(infra_provider::hcl::body(&file_schema(sensitive), &state)), diagnostics: Vec::new() }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let sensitive = req.type_name == "local_sensitive_file";
        let schema = file_schema(sensitive);
        let mut config = req.config.clone();
        if let Value::Object(m) = &mut config {
            let default_mode = if sensitive { "0700" } else { "0777" };
            for k in ["file_permission", "directory_permission"] {
                if m.get(k).is_none_or(Value::is_null) {
                    m.insert(k.into(), Value::string(default_mode));
                }
            }
        }
        let mut resp = plan_helpers::default_plan(&schema, req.prior.as_ref(), &config);
        // The hashes are known at plan time when the content is given inline; a `source`
        // file is only read at apply.
        let inline = ["content", "sensitive_content", "content_base64"].iter().any(|k| config.get_attr(k).is_some_and(|v| !v.is_null()));
        let bytes = if inline { desired_bytes(&config).ok().flatten() } else { None };
        if let (Value::Object(m), Some(bytes)) = (&mut resp.planned, bytes) {
            for (k, v) in hashes(&bytes) {
                m.insert(k.into(), Value::string(v));
            }
        }
        resp
    }

    fn journals_creates(&self) -> bool {
        false
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        // File I/O blocks (a source may even be a FIFO): keep it off the async workers.
        blocking(move || create_blocking(req), |e| CreateResponse { state: None, diagnostics: vec![e] }).await
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        // Every argument is force-new, so an update only carries state forward.
        UpdateResponse { state: Some(req.planned), diagnostics: Vec::new() }
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let filename = attrs::string(&req.prior, "filename").unwrap_or_default();
        match std::fs::remove_file(&filename) {
            Ok(()) => DeleteResponse::default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DeleteResponse::default(),
            Err(e) => DeleteResponse { diagnostics: vec![err("Cannot delete file", format!("Removing {filename} failed: {e}."))] },
        }
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        blocking(move || read_many_blocking(req), |e| ReadManyResponse { objects: Vec::new(), diagnostics: vec![e] }).await
    }

    async fn read_data(&self, req: ReadDataRequest) -> ReadDataResponse {
        let filename = attrs::string(&req.config, "filename").unwrap_or_default();
        match std::fs::read(&filename) {
            Ok(bytes) => {
                let mut m: BTreeMap<String, Value> = BTreeMap::new();
                m.insert("filename".into(), Value::string(filename));
                m.insert("content".into(), Value::string(String::from_utf8_lossy(&bytes).into_owned()));
                m.insert("content_base64".into(), Value::string(base64::engine::general_purpose::STANDARD.encode(&bytes)));
                for (k, v) in hashes(&bytes) {
                    m.insert(k.into(), Value::string(v));
                }
                ReadDataResponse { state: Value::Object(m.into()), diagnostics: Vec::new() }
            }
            Err(e) => ReadDataResponse { state: Value::Null, diagnostics: vec![err("Cannot read file", format!("Reading {filename} failed: {e}."))] },
        }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let bytes = match std::fs::read(&req.id) {
            Ok(b) => b,
            Err(e) => return ImportResponse { state: None, diagnostics: vec![err("Cannot import file", format!("Reading {} failed: {e}.", req.id))] },
        };
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&req.id).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o644);
        let mut m: BTreeMap<String, Value> = file_schema(req.type_name == "local_sensitive_file").attributes.keys().map(|k| (k.clone(), Value::Null)).collect();
        m.insert("filename".into(), Value::string(req.id.clone()));
        m.insert("content".into(), Value::string(String::from_utf8_lossy(&bytes).into_owned()));
        m.insert("file_permission".into(), Value::string(format!("{mode:04o}")));
        m.insert("directory_permission".into(), Value::string("0777"));
        for (k, v) in hashes(&bytes) {
            m.insert(k.into(), Value::string(v));
        }
        ImportResponse { state: Some(Value::Object(m.into())), diagnostics: Vec::new() }
    }
}

/// Runs blocking file work on tokio's blocking pool; a panic there becomes a diagnostic.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static, on_panic: impl FnOnce(Diagnostic) -> T) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) => on_panic(err("Internal error", format!("The local provider's file operation failed: {e}."))),
    }
}

fn create_blocking(req: CreateRequest) -> CreateResponse {
    let planned = req.planned;
    let bytes = match desired_bytes(&planned) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return CreateResponse {
                state: None,
                diagnostics: vec![err("Missing content", "local_file needs content, sensitive_content, content_base64 or source.".into())],
            }
        }
        Err(d) => return CreateResponse { state: None, diagnostics: vec![d] },
    };
    let filename = attrs::string(&planned, "filename").unwrap_or_default();
    let fmode = attrs::string(&planned, "file_permission").and_then(|p| parse_mode(&p)).unwrap_or(0o777);
    let dmode = attrs::string(&planned, "directory_permission").and_then(|p| parse_mode(&p)).unwrap_or(0o777);
    if let Err(e) = write_file(Path::new(&filename), &bytes, fmode, dmode) {
        return CreateResponse { state: None, diagnostics: vec![err("Cannot write file", format!("Writing {filename} failed: {e}."))] };
    }
    let mut state = planned;
    if let Value::Object(m) = &mut state {
        for (k, v) in hashes(&bytes) {
            m.insert(k.into(), Value::string(v));
        }
    }
    CreateResponse { state: Some(state), diagnostics: Vec::new() }
}

fn read_many_blocking(req: ReadManyRequest) -> ReadManyResponse {
    let mut objects = Vec::with_capacity(req.objects.len());
    for prior in req.objects {
        let filename = attrs::string(&prior, "filename").unwrap_or_default();
        let bytes = match std::fs::read(&filename) {
            Ok(b) => b,
            Err(_) => {
                objects.push(None);
                continue;
            }
        };
        let mut now = prior.clone();
        let stored_id = attrs::string(&prior, "id");
        let actual = hashes(&bytes);
        if stored_id.as_deref() != Some(actual[0].1.as_str()) {
            // Edited by hand: report what is there now, so the plan shows the drift.
            if let Value::Object(m) = &mut now {
                for (k, v) in &actual {
                    m.insert((*k).into(), Value::string(v.clone()));
                }
                let text = String::from_utf8(bytes.clone());
                let was_sensitive = m.get("content").is_some_and(Value::contains_sensitive) || req.type_name == "local_sensitive_file";
                if m.get("content").is_some_and(|v| !v.is_null())
                    || m.get("sensitive_content").is_none_or(Value::is_null)
                        && m.get("content_base64").is_none_or(Value::is_null)
                        && m.get("source").is_none_or(Value::is_null)
                {
                    match text {
                        Ok(t) => {
                            m.insert("content".into(), Value::string(t).mark_if(was_sensitive));
                        }
                        Err(_) => {
                            m.insert("content_base64".into(), Value::string(base64::engine::general_purpose::STANDARD.encode(&bytes)));
                        }
                    }
                } else if m.get("sensitive_content").is_some_and(|v| !v.is_null()) {
                    m.insert("sensitive_content".into(), Value::string(String::from_utf8_lossy(&bytes).into_owned()).sensitive());
                }
            }
        }
        objects.push(Some(now));
    }
    ReadManyResponse { objects, diagnostics: Vec::new() }
}
