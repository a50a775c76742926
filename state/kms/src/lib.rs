//! `key_provider "aws_kms"`, as OpenTofu has it: each process asks KMS for one data key
//! (`GenerateDataKey` with the configured `kms_key_id` and `key_spec`), seals with its
//! plaintext and stores its encrypted form in the envelope's metadata (`ciphertext_blob`,
//! base64); reading asks KMS to `Decrypt` that blob. The SDK client is built as the aws
//! provider builds its own (region, profile, keys, the standard credential chain), on its own
//! thread and runtime, so callers need no async context.

use infra_state::encryption::KeyProvider;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub kms_key_id: String,
    /// `AES_256` or `AES_128`.
    pub key_spec: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    /// The KMS endpoint (`endpoints { kms = ... }`, else `AWS_ENDPOINT_URL_KMS`, else the
    /// SDK's own resolution).
    pub endpoint: Option<String>,
}

pub struct AwsKms {
    cfg: Config,
    sealing: OnceLock<(Vec<u8>, Json)>,
    opened: Mutex<HashMap<String, Vec<u8>>>,
}

impl std::fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKms").field("kms_key_id", &self.cfg.kms_key_id).field("key_spec", &self.cfg.key_spec).finish()
    }
}

impl AwsKms {
    pub fn new(cfg: Config) -> Result<AwsKms, String> {
        if cfg.kms_key_id.is_empty() {
            return Err("no kms_key_id provided".into());
        }
        if !matches!(cfg.key_spec.as_str(), "AES_256" | "AES_128") {
            return Err(format!("key_spec must be \"AES_256\" or \"AES_128\", not {:?}", cfg.key_spec));
        }
        Ok(AwsKms { cfg, sealing: OnceLock::new(), opened: Mutex::new(HashMap::new()) })
    }

    /// Runs one KMS call on a thread of its own with a runtime of its own.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(aws_sdk_kms::Client) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send>> + Send + 'static,
    ) -> Result<T, String> {
        let cfg = self.cfg.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("starting a runtime failed: {e}"))?;
            rt.block_on(async move { f(client(&cfg).await?).await })
        })
        .join()
        .map_err(|_| "the KMS call's thread panicked".to_string())?
    }
}

async fn client(cfg: &Config) -> Result<aws_sdk_kms::Client, String> {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as Tls};
    let http = aws_smithy_http_client::Builder::new().tls_provider(Tls::Rustls(CryptoMode::Ring)).build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(region) = &cfg.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &cfg.profile {
        loader = loader.profile_name(profile);
    }
    if let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) {
        loader = loader.credentials_provider(aws_credential_types::Credentials::from_keys(ak, sk, cfg.token.clone()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err("no AWS region: set region in the aws_kms key provider, or AWS_REGION in the environment".into());
    }
    let mut b = aws_sdk_kms::config::Builder::from(&sdk);
    if let Some(url) = cfg.endpoint.clone().or_else(|| std::env::var("AWS_ENDPOINT_URL_KMS").ok()) {
        b = b.endpoint_url(url);
    }
    Ok(aws_sdk_kms::Client::from_conf(b.build()))
}

fn sdk_error<E>(what: &str, e: aws_sdk_kms::error::SdkError<E>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match e.as_service_error().map(|s| (s.code().map(str::to_string), s.message().map(str::to_string))) {
        Some((code, message)) => format!("KMS {what} failed: {}: {}", code.unwrap_or_default(), message.unwrap_or_default()),
        None => format!("KMS {what} failed: {}", aws_sdk_kms::error::DisplayErrorContext(&e)),
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl KeyProvider for AwsKms {
    fn encryption_key(&self) -> Result<(Vec<u8>, Json), String> {
        if let Some(k) = self.sealing.get() {
            return Ok(k.clone());
        }
        let (key_id, spec) = (self.cfg.kms_key_id.clone(), self.cfg.key_spec.clone());
        let (plain, blob) = self.call(move |c| {
            Box::pin(async move {
                let out = c
                    .generate_data_key()
                    .key_id(key_id)
                    .key_spec(aws_sdk_kms::types::DataKeySpec::from(spec.as_str()))
                    .send()
                    .await
                    .map_err(|e| sdk_error("GenerateDataKey", e))?;
                let plain = out.plaintext.map(|b| b.into_inner()).ok_or("KMS GenerateDataKey returned no plaintext key")?;
                let blob = out.ciphertext_blob.map(|b| b.into_inner()).ok_or("KMS GenerateDataKey returned no ciphertext blob")?;
                Ok((plain, blob))
            })
        })?;
        let meta = serde_json::json!({ "ciphertext_blob": base64::Engine::encode(&b64(), &blob) });
        if let Ok(mut m) = self.opened.lock() {
            m.insert(meta.to_string(), plain.clone());
        }
        Ok(self.sealing.get_or_init(|| (plain, meta)).clone())
    }

    fn decryption_key(&self, meta: &Json) -> Result<Vec<u8>, String> {
        let cache_key = meta.to_string();
        if let Some(k) = self.opened.lock().ok().and_then(|m| m.get(&cache_key).cloned()) {
            return Ok(k);
        }
        let blob = meta.get("ciphertext_blob").and_then(Json::as_str).ok_or("its aws_kms metadata has no ciphertext_blob")?;
        let blob = base64::Engine::decode(&b64(), blob).map_err(|e| format!("its ciphertext_blob is not base64 ({e})"))?;
        let key_id = self.cfg.kms_key_id.clone();
        let plain = self.call(move |c| {
            Box::pin(async move {
                let out =
                    c.decrypt().key_id(key_id).ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob)).send().await.map_err(|e| sdk_error("Decrypt", e))?;
                out.plaintext.map(|b| b.into_inner()).ok_or_else(|| "KMS Decrypt returned no plaintext".to_string())
            })
        })?;
        if let Ok(mut m) = self.opened.lock() {
            m.insert(cache_key, plain.clone());
        }
        Ok(plain)
    }
}
