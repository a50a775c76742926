//! State and plan encryption as OpenTofu (1.7+) writes it: a byte-level layer between the
//! serialized state, backup, journal line or plan file and the storage that holds it.
//!
//! An encrypted payload is OpenTofu's JSON envelope:
//!
//! ```json
//! {"meta":{"key_provider.pbkdf2.main":{"salt":"…","iterations":600000,"hash_function":"sha512","key_length":32}},
//!  "encrypted_data":"…","encryption_version":"v0"}
//! ```
//!
//! `meta` holds, per key provider address, what the provider needs to find the key again (a
//! PBKDF2 salt and parameters, a KMS-encrypted data key); `encrypted_data` is base64 of the
//! AES-GCM nonce (12 bytes), ciphertext and tag, as Go's `gcm.Seal(nonce, nonce, data, nil)`
//! lays them out. Data that is not an envelope is plain, and is read only when the target's
//! method chain holds an `unencrypted` method (the migration fallback).
//!
//! A [`Target`] (`state` or `plan`) seals with its first method and opens with each method of
//! its chain in turn (primary, then fallbacks), so a state written under the previous key is
//! read and the next write uses the new one.
//!
//! Unlike OpenTofu, a process derives (or asks KMS for) one encryption key with one salt and
//! uses it for every write it makes (each with a fresh random nonce): an apply seals one
//! journal line per finished object, and a PBKDF2 derivation per line would cost more than the
//! apply.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// The envelope version OpenTofu writes and reads.
pub const ENCRYPTION_VERSION: &str = "v0";

/// Why data could not be sealed or opened. The text says what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CryptError(pub String);

impl std::fmt::Display for CryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CryptError {}

/// A key provider: where a method's key comes from.
pub trait KeyProvider: Send + Sync + std::fmt::Debug {
    /// The key new data is sealed with and the metadata written beside it. One process gets
    /// the same pair on every call.
    fn encryption_key(&self) -> Result<(Vec<u8>, Json), String>;
    /// The key that `meta` (written by [`KeyProvider::encryption_key`], maybe by another
    /// process or another tool) stands for.
    fn decryption_key(&self, meta: &Json) -> Result<Vec<u8>, String>;
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    meta: BTreeMap<String, Json>,
    encrypted_data: String,
    #[serde(default)]
    encryption_version: String,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    use ring::rand::SecureRandom;
    let mut out = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut out).map_err(|_| format!("the system could not provide {n} random bytes"))?;
    Ok(out)
}

/// PBKDF2's pseudo-random function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    pub fn parse(name: &str) -> Result<Hash, String> {
        match name {
            "sha256" => Ok(Hash::Sha256),
            "sha512" => Ok(Hash::Sha512),
            other => Err(format!("hash_function must be \"sha256\" or \"sha512\", not {other:?}")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha512 => "sha512",
        }
    }
    fn algorithm(self) -> ring::pbkdf2::Algorithm {
        match self {
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

/// OpenTofu's limits and defaults for the `pbkdf2` key provider.
pub mod pbkdf2_defaults {
    pub const KEY_LENGTH: u32 = 32;
    pub const ITERATIONS: u32 = 600_000;
    pub const SALT_LENGTH: u32 = 32;
    pub const HASH_FUNCTION: &str = "sha512";
    pub const MIN_ITERATIONS: u32 = 200_000;
    pub const MIN_PASSPHRASE: usize = 16;
}

/// `key_provider "pbkdf2"`: a key derived from a passphrase, its salt and parameters stored in
/// the metadata (`salt` base64, `iterations`, `hash_function`, `key_length`, as OpenTofu).
pub struct Pbkdf2 {
    passphrase: String,
    key_length: u32,
    iterations: u32,
    hash: Hash,
    salt_length: u32,
}

/// Derived keys, shared by every provider of the process with the same passphrase: the state
/// and plan targets, and each command's own reading of the configuration, derive once.
/// Keyed by a digest of the passphrase and the parameters (or the metadata read).
fn derived() -> &'static Mutex<HashMap<String, (Vec<u8>, Json)>> {
    static DERIVED: OnceLock<Mutex<HashMap<String, (Vec<u8>, Json)>>> = OnceLock::new();
    DERIVED.get_or_init(|| Mutex::new(HashMap::new()))
}

impl std::fmt::Debug for Pbkdf2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbkdf2").field("key_length", &self.key_length).field("iterations", &self.iterations).field("hash", &self.hash).finish()
    }
}

#[derive(Deserialize)]
struct Pbkdf2Meta {
    salt: String,
    iterations: u32,
    hash_function: String,
    key_length: u32,
}

impl Pbkdf2 {
    /// Checks the parameters as OpenTofu does (passphrase of 16 characters or more, 200,000
    /// iterations or more).
    pub fn new(passphrase: &str, key_length: u32, iterations: u32, hash_function: &str, salt_length: u32) -> Result<Pbkdf2, String> {
        use pbkdf2_defaults::*;
        if passphrase.is_empty() {
            return Err("no passphrase provided".into());
        }
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(format!("the passphrase is too short (minimum {MIN_PASSPHRASE} characters)"));
        }
        if key_length == 0 {
            return Err("key_length must be larger than zero".into());
        }
        if iterations < MIN_ITERATIONS {
            return Err(format!("iterations is dangerously low ({iterations} < {MIN_ITERATIONS}): refusing to derive a key"));
        }
        if salt_length == 0 {
            return Err("salt_length must be larger than zero".into());
        }
        let hash = Hash::parse(hash_function)?;
        Ok(Pbkdf2 { passphrase: passphrase.to_string(), key_length, iterations, hash, salt_length })
    }

    fn sealing_key(&self) -> String {
        self.cache_key(&format!("seal {} {} {} {}", self.key_length, self.iterations, self.hash.name(), self.salt_length))
    }

    fn cache_key(&self, what: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.passphrase.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex} {what}")
    }

    fn derive(&self, salt: &[u8], iterations: u32, hash: Hash, key_length: u32) -> Result<Vec<u8>, String> {
        let iterations = std::num::NonZeroU32::new(iterations).ok_or("the metadata names 0 iterations")?;
        if key_length == 0 || key_length > 1024 {
            return Err(format!("the metadata names a key length of {key_length}"));
        }
        let mut key = vec![0u8; key_length as usize];
        ring::pbkdf2::derive(hash.algorithm(), iterations, salt, self.passphrase.as_bytes(), &mut key);
        Ok(key)
    }
}

impl KeyProvider for Pbkdf2 {
    fn encryption_key(&self) -> Result<(Vec<u8>, Json), String> {
        let sealing = self.sealing_key();
        let mut cache = derived().lock().map_err(|_| "the key cache is poisoned".to_string())?;
        if let Some(k) = cache.get(&sealing) {
            return Ok(k.clone());
        }
        let salt = random_bytes(self.salt_length as usize)?;
        let key = self.derive(&salt, self.iterations, self.hash, self.key_length)?;
        let meta = serde_json::json!({
            "salt": base64::Engine::encode(&b64(), &salt),
            "iterations": self.iterations,
            "hash_function": self.hash.name(),
            "key_length": self.key_length,
        });
        // The key it derives opens what it seals without deriving again.
        cache.insert(self.cache_key(&meta.to_string()), (key.clone(), Json::Null));
        cache.insert(sealing, (key.clone(), meta.clone()));
        Ok((key, meta))
    }

    fn decryption_key(&self, meta: &Json) -> Result<Vec<u8>, String> {
        let cache_key = self.cache_key(&meta.to_string());
        if let Some((k, _)) = derived().lock().ok().and_then(|m| m.get(&cache_key).cloned()) {
            return Ok(k);
        }
        let m: Pbkdf2Meta = serde_json::from_value(meta.clone()).map_err(|e| format!("its pbkdf2 metadata is not readable ({e})"))?;
        let salt = base64::Engine::decode(&b64(), &m.salt).map_err(|e| format!("its pbkdf2 salt is not base64 ({e})"))?;
        let key = self.derive(&salt, m.iterations, Hash::parse(&m.hash_function)?, m.key_length)?;
        if let Ok(mut c) = derived().lock() {
            c.insert(cache_key, (key.clone(), Json::Null));
            // A key read under this provider's own parameters also seals this run's writes
            // (its salt is as fresh as the file it came from): one derivation per run, not two.
            let same = m.iterations == self.iterations
                && m.key_length == self.key_length
                && m.hash_function == self.hash.name()
                && salt.len() == self.salt_length as usize;
            if same {
                c.entry(self.sealing_key()).or_insert_with(|| (key.clone(), meta.clone()));
            }
        }
        Ok(key)
    }
}

/// An encryption method of a target's chain.
#[derive(Clone, Debug)]
pub enum Method {
    /// `method "unencrypted"`: plain data, for migrating to or from encryption.
    Unencrypted,
    /// `method "aes_gcm"` with its `keys` provider, named by its address
    /// (`key_provider.pbkdf2.main`), which keys the envelope's metadata.
    AesGcm { keys_addr: String, keys: Arc<dyn KeyProvider> },
}

/// One method of a chain with the address the configuration gave it (`method.aes_gcm.new`).
#[derive(Clone, Debug)]
pub struct NamedMethod {
    pub addr: String,
    pub method: Method,
}

/// What is encrypted one way: `state` (the state, its backup and the apply journal) or `plan`
/// (saved plan files).
#[derive(Clone, Debug)]
pub struct Target {
    /// `state` or `plan`, for messages.
    pub name: String,
    /// The method new data is sealed with, then the fallbacks, in order.
    pub chain: Vec<NamedMethod>,
    /// `enforced = true`: never write plain data.
    pub enforced: bool,
}

/// Whether `bytes` are an encryption envelope (of any version).
pub fn is_sealed(bytes: &[u8]) -> bool {
    envelope(bytes).is_some()
}

fn envelope(bytes: &[u8]) -> Option<Envelope> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice::<Envelope>(bytes).ok().filter(|e| !e.encryption_version.is_empty())
}

fn aes_gcm_seal(key: &[u8], plain: &[u8]) -> Result<Vec<u8>, String> {
    use aes_gcm::aead::{Aead, KeyInit};
    let nonce = random_bytes(12)?;
    let nonce_ga = aes_gcm::Nonce::from_slice(&nonce);
    let sealed = match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key).map_err(|e| e.to_string())?.encrypt(nonce_ga, plain),
        24 => aes_gcm::AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(key).map_err(|e| e.to_string())?.encrypt(nonce_ga, plain),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|e| e.to_string())?.encrypt(nonce_ga, plain),
        n => return Err(key_length_error(n)),
    }
    .map_err(|_| "AES-GCM encryption failed".to_string())?;
    let mut out = nonce;
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn key_length_error(n: usize) -> String {
    format!("its key is {n} bytes long, and AES-GCM takes 16, 24 or 32 bytes (set the key provider's key_length, or key_spec AES_128/AES_256)")
}

/// `None` when the key does not open it (wrong key, or the data was changed).
fn aes_gcm_open(key: &[u8], data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    use aes_gcm::aead::{Aead, KeyInit};
    if data.len() < 12 + 16 {
        return Err("its encrypted data is too short to be AES-GCM output".into());
    }
    let (nonce, body) = data.split_at(12);
    let nonce = aes_gcm::Nonce::from_slice(nonce);
    let opened = match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key).map_err(|e| e.to_string())?.decrypt(nonce, body),
        24 => aes_gcm::AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(key).map_err(|e| e.to_string())?.decrypt(nonce, body),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|e| e.to_string())?.decrypt(nonce, body),
        n => return Err(key_length_error(n)),
    };
    Ok(opened.ok())
}

impl Target {
    /// Seals `plain` with the first method of the chain: an envelope, or the plain bytes when
    /// that method is `unencrypted` (refused when the target is enforced).
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, CryptError> {
        let Some(first) = self.chain.first() else {
            return if self.enforced { Err(self.enforced_error("no method")) } else { Ok(plain.to_vec()) };
        };
        match &first.method {
            Method::Unencrypted if self.enforced => Err(self.enforced_error(&first.addr)),
            Method::Unencrypted => Ok(plain.to_vec()),
            Method::AesGcm { keys_addr, keys } => {
                let fail = |e: String| CryptError(format!("encrypting the {} with {} ({keys_addr}) failed: {e}", self.name, first.addr));
                let (key, meta) = keys.encryption_key().map_err(fail)?;
                let data = aes_gcm_seal(&key, plain).map_err(fail)?;
                let env = Envelope {
                    meta: BTreeMap::from([(keys_addr.clone(), meta)]),
                    encrypted_data: base64::Engine::encode(&b64(), &data),
                    encryption_version: ENCRYPTION_VERSION.into(),
                };
                serde_json::to_vec(&env).map_err(|e| fail(e.to_string()))
            }
        }
    }

    fn enforced_error(&self, method: &str) -> CryptError {
        CryptError(format!(
            "encryption of the {} is enforced (enforced = true), and its method is {method}: infra refuses to write it unencrypted. Set the {} block's method to an encrypting method",
            self.name, self.name
        ))
    }

    /// Opens what [`Target::seal`] (or OpenTofu) wrote under any method of the chain: the
    /// primary first, then each fallback. Plain data is accepted only when the chain holds an
    /// `unencrypted` method.
    pub fn open(&self, bytes: &[u8]) -> Result<Vec<u8>, CryptError> {
        let Some(env) = envelope(bytes) else {
            if self.chain.iter().any(|m| matches!(m.method, Method::Unencrypted)) || self.chain.is_empty() {
                return Ok(bytes.to_vec());
            }
            return Err(CryptError(format!(
                "it is not encrypted, and the {} encryption configuration has no `unencrypted` method to read plain data with. To encrypt an existing plain {}, add `fallback {{ method = method.unencrypted.NAME }}` (with `method \"unencrypted\" \"NAME\" {{}}`) for one run",
                self.name, self.name
            )));
        };
        if env.encryption_version != ENCRYPTION_VERSION {
            return Err(CryptError(format!(
                "it was encrypted with envelope version {:?}, and this build reads version {ENCRYPTION_VERSION:?} only",
                env.encryption_version
            )));
        }
        let data = base64::Engine::decode(&b64(), &env.encrypted_data).map_err(|e| CryptError(format!("its encrypted_data is not base64 ({e})")))?;
        let written_with: Vec<&str> = env.meta.keys().map(String::as_str).collect();
        let mut tried = Vec::new();
        for m in &self.chain {
            let Method::AesGcm { keys_addr, keys } = &m.method else { continue };
            let Some(meta) = env.meta.get(keys_addr) else {
                tried.push(format!("{} uses {keys_addr}, which it was not written with", m.addr));
                continue;
            };
            let key = match keys.decryption_key(meta) {
                Ok(k) => k,
                Err(e) => {
                    tried.push(format!("{} could not get its key from {keys_addr}: {e}", m.addr));
                    continue;
                }
            };
            match aes_gcm_open(&key, &data) {
                Ok(Some(plain)) => return Ok(plain),
                Ok(None) => tried.push(format!(
                    "{} with {keys_addr}: the key is wrong (AES-GCM authentication failed: a different passphrase or key, or the data was changed)",
                    m.addr
                )),
                Err(e) => tried.push(format!("{} with {keys_addr}: {e}", m.addr)),
            }
        }
        if tried.is_empty() {
            tried.push(format!("the {} encryption configuration has no encrypting method", self.name));
        }
        Err(CryptError(format!(
            "it is encrypted (with {}), and no configured method could decrypt it: {}. If the key was rotated, keep the previous key provider and method as a `fallback` until the next write",
            written_with.join(", "),
            tried.join("; ")
        )))
    }

    /// Opens a journal: each line is sealed on its own. A last line that is not whole (a kill
    /// in the middle of an append) is dropped, as the journal's replay drops a torn plain line;
    /// a whole line that does not open is an error.
    pub fn open_lines(&self, text: &[u8]) -> Result<Vec<u8>, CryptError> {
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
        let mut out = Vec::with_capacity(text.len());
        for (i, line) in lines.iter().enumerate() {
            let last = i + 1 == lines.len();
            let whole = serde_json::from_slice::<Json>(line).is_ok();
            if last && !whole {
                break;
            }
            out.extend_from_slice(&self.open(line)?);
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// The encryption of one stack: the state target and the plan target.
#[derive(Clone, Debug, Default)]
pub struct Encryption {
    pub state: Option<Arc<Target>>,
    pub plan: Option<Arc<Target>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pbkdf2(pass: &str) -> Arc<dyn KeyProvider> {
        Arc::new(Pbkdf2::new(pass, 32, 200_000, "sha512", 32).unwrap_or_else(|e| panic!("{e}")))
    }

    fn target(chain: Vec<NamedMethod>, enforced: bool) -> Target {
        Target { name: "state".into(), chain, enforced }
    }

    fn aes(name: &str, provider: &str, keys: Arc<dyn KeyProvider>) -> NamedMethod {
        NamedMethod { addr: format!("method.aes_gcm.{name}"), method: Method::AesGcm { keys_addr: format!("key_provider.pbkdf2.{provider}"), keys } }
    }

    fn plain() -> NamedMethod {
        NamedMethod { addr: "method.unencrypted.migrate".into(), method: Method::Unencrypted }
    }

    #[test]
    fn sealed_data_is_an_opentofu_envelope_and_opens_again() {
        let t = target(vec![aes("a", "k", pbkdf2("correct horse battery staple"))], false);
        let sealed = t.seal(b"{\"secret\":\"hunter2-hunter2\"}").unwrap_or_default();
        let text = String::from_utf8_lossy(&sealed).to_string();
        assert!(!text.contains("hunter2"), "{text}");
        let env: Json = serde_json::from_slice(&sealed).unwrap_or_default();
        assert_eq!(env["encryption_version"], "v0");
        assert_eq!(env["meta"]["key_provider.pbkdf2.k"]["iterations"], 200_000);
        assert_eq!(env["meta"]["key_provider.pbkdf2.k"]["hash_function"], "sha512");
        assert_eq!(env["meta"]["key_provider.pbkdf2.k"]["key_length"], 32);
        let salt = env["meta"]["key_provider.pbkdf2.k"]["salt"].as_str().unwrap_or_default();
        assert_eq!(base64::Engine::decode(&b64(), salt).map(|s| s.len()), Ok(32));
        assert_eq!(t.open(&sealed), Ok(b"{\"secret\":\"hunter2-hunter2\"}".to_vec()));
        // A fresh process (a new provider) opens it from the metadata alone.
        let other = target(vec![aes("a", "k", pbkdf2("correct horse battery staple"))], false);
        assert_eq!(other.open(&sealed), Ok(b"{\"secret\":\"hunter2-hunter2\"}".to_vec()));
    }

    /// The layout OpenTofu's aes_gcm method uses: nonce (12 bytes) then ciphertext and tag;
    /// and PBKDF2-HMAC-SHA256's published test vector ("password", "salt", 2 iterations).
    #[test]
    fn aes_gcm_and_pbkdf2_follow_the_standards() {
        let p = Pbkdf2 { passphrase: "password".into(), key_length: 32, iterations: 2, hash: Hash::Sha256, salt_length: 4 };
        let key = p.derive(b"salt", 2, Hash::Sha256, 32).unwrap_or_default();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
        let meta = serde_json::json!({"salt": "c2FsdA==", "iterations": 2, "hash_function": "sha256", "key_length": 32});
        assert_eq!(p.decryption_key(&meta), Ok(key));
        let k = [7u8; 32];
        let sealed = aes_gcm_seal(&k, b"data").unwrap_or_default();
        assert_eq!(sealed.len(), 12 + 4 + 16);
        assert_eq!(aes_gcm_open(&k, &sealed), Ok(Some(b"data".to_vec())));
        assert_eq!(aes_gcm_open(&[8u8; 32], &sealed), Ok(None));
        for n in [16, 24] {
            let sealed = aes_gcm_seal(&vec![1u8; n], b"x").unwrap_or_default();
            assert_eq!(aes_gcm_open(&vec![1u8; n], &sealed), Ok(Some(b"x".to_vec())));
        }
        assert!(aes_gcm_seal(&[1u8; 20], b"x").is_err());
    }

    #[test]
    fn a_wrong_passphrase_is_a_clear_error() {
        let sealed = target(vec![aes("a", "k", pbkdf2("correct horse battery staple"))], false).seal(b"x").unwrap_or_default();
        let err = target(vec![aes("a", "k", pbkdf2("wrong horse battery staple!"))], false).open(&sealed).err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("the key is wrong") && err.contains("key_provider.pbkdf2.k"), "{err}");
    }

    #[test]
    fn fallback_opens_the_previous_key_and_seal_uses_the_new_one() {
        let old = pbkdf2("the old passphrase, long enough");
        let new = pbkdf2("the new passphrase, long enough");
        let before = target(vec![aes("old", "old", old.clone())], false).seal(b"state").unwrap_or_default();
        let rotating = target(vec![aes("new", "new", new.clone()), aes("old", "old", old)], false);
        assert_eq!(rotating.open(&before), Ok(b"state".to_vec()));
        let after = rotating.seal(b"state").unwrap_or_default();
        let env: Json = serde_json::from_slice(&after).unwrap_or_default();
        assert!(env["meta"].get("key_provider.pbkdf2.new").is_some() && env["meta"].get("key_provider.pbkdf2.old").is_none(), "{env}");
        // Without the fallback, the new key alone opens the new write but not the old one.
        let only_new = target(vec![aes("new", "new", new)], false);
        assert_eq!(only_new.open(&after), Ok(b"state".to_vec()));
        let err = only_new.open(&before).err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("key_provider.pbkdf2.old") && err.contains("fallback"), "{err}");
    }

    #[test]
    fn plain_data_needs_an_unencrypted_method_and_enforced_refuses_to_write_it() {
        let k = pbkdf2("correct horse battery staple");
        let strict = target(vec![aes("a", "k", k.clone())], false);
        let err = strict.open(b"{\"format_version\":1}").err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("not encrypted") && err.contains("method.unencrypted"), "{err}");
        let migrating = target(vec![aes("a", "k", k.clone()), plain()], false);
        assert_eq!(migrating.open(b"{\"format_version\":1}"), Ok(b"{\"format_version\":1}".to_vec()));
        assert!(is_sealed(&migrating.seal(b"{}").unwrap_or_default()));
        let decrypting = target(vec![plain(), aes("a", "k", k)], false);
        assert_eq!(decrypting.seal(b"{}"), Ok(b"{}".to_vec()));
        let enforced = target(vec![plain()], true);
        let err = enforced.seal(b"{}").err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("enforced"), "{err}");
    }

    #[test]
    fn journal_lines_open_one_by_one_and_a_torn_last_line_is_dropped() {
        let t = target(vec![aes("a", "k", pbkdf2("correct horse battery staple"))], false);
        let mut text = Vec::new();
        for l in ["{\"op\":\"header\"}", "{\"op\":\"upsert\"}"] {
            text.extend(t.seal(l.as_bytes()).unwrap_or_default());
            text.push(b'\n');
        }
        let torn = t.seal(b"{\"op\":\"remove\"}").unwrap_or_default();
        text.extend_from_slice(&torn[..torn.len() / 2]);
        assert_eq!(t.open_lines(&text), Ok(b"{\"op\":\"header\"}\n{\"op\":\"upsert\"}\n".to_vec()));
    }

    #[test]
    fn weak_pbkdf2_parameters_are_refused_as_opentofu_does() {
        assert!(Pbkdf2::new("short", 32, 600_000, "sha512", 32).err().unwrap_or_default().contains("too short"));
        assert!(Pbkdf2::new("long enough passphrase", 32, 1000, "sha512", 32).err().unwrap_or_default().contains("dangerously low"));
        assert!(Pbkdf2::new("long enough passphrase", 32, 600_000, "md5", 32).err().unwrap_or_default().contains("sha256"));
    }
}
