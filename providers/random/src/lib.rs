//! The `random` provider: random_id, random_string, random_password (sensitive) and
//! random_pet. Values are generated once at create and kept until a `keepers` change (or any
//! other argument change) replaces them.

use async_trait::async_trait;
use base64::Engine;
use infra_provider::*;
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::BTreeMap;

pub struct RandomProvider;

pub fn factory() -> ProviderFactory {
    std::sync::Arc::new(|| Box::new(RandomProvider) as Box<dyn Provider>)
}

fn keepers() -> AttrSchema {
    AttrSchema::optional(Type::Map(Box::new(Type::String))).force_new()
}

fn string_schema(sensitive: bool) -> Schema {
    let result = if sensitive { AttrSchema::computed(Type::String).sensitive() } else { AttrSchema::computed(Type::String) };
    let mut s = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("keepers", keepers())
        .attr("length", AttrSchema::required(Type::Number).force_new())
        .attr("special", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("upper", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("lower", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("numeric", AttrSchema::optional_computed(Type::Bool).force_new())
        .attr("min_special", AttrSchema::optional_computed(Type::Number).force_new())
        .attr("min_upper", AttrSchema::optional_computed(Type::Number).force_new())
        .attr("min_lower", AttrSchema::optional_computed(Type::Number).force_new())
        .attr("min_numeric", AttrSchema::optional_computed(Type::Number).force_new())
        .attr("override_special", AttrSchema::optional(Type::String).force_new())
        .attr("result", result);
    if sensitive {
        s = s.attr("bcrypt_hash", AttrSchema::computed(Type::String).sensitive());
    }
    s
}

fn schemas() -> BTreeMap<String, Schema> {
    BTreeMap::from([
        (
            "random_id".to_string(),
            Schema::new()
                .attr("id", AttrSchema::computed(Type::String))
                .attr("keepers", keepers())
                .attr("byte_length", AttrSchema::required(Type::Number).force_new())
                .attr("prefix", AttrSchema::optional(Type::String).force_new())
                .attr("b64_url", AttrSchema::computed(Type::String))
                .attr("b64_std", AttrSchema::computed(Type::String))
                .attr("hex", AttrSchema::computed(Type::String))
                .attr("dec", AttrSchema::computed(Type::String)),
        ),
        ("random_string".to_string(), string_schema(false)),
        ("random_password".to_string(), string_schema(true)),
        (
            "random_pet".to_string(),
            Schema::new()
                .attr("id", AttrSchema::computed(Type::String))
                .attr("keepers", keepers())
                .attr("length", AttrSchema::optional_computed(Type::Number).force_new())
                .attr("prefix", AttrSchema::optional(Type::String).force_new())
                .attr("separator", AttrSchema::optional_computed(Type::String).force_new()),
        ),
    ])
}

const ADJECTIVES: &[&str] = &[
    "able", "bold", "brave", "calm", "clever", "cool", "eager", "fair", "fast", "fine", "glad", "good", "happy", "keen", "kind", "light", "lucky", "merry",
    "neat", "nice", "proud", "quick", "quiet", "rapid", "ready", "sharp", "smart", "steady", "sure", "swift", "tidy", "vital", "warm", "wise",
];
const NAMES: &[&str] = &[
    "badger", "beaver", "bison", "camel", "cat", "condor", "crane", "deer", "dingo", "dove", "eagle", "falcon", "ferret", "finch", "fox", "gecko", "heron",
    "ibis", "jackal", "koala", "lemur", "lynx", "marmot", "mole", "newt", "otter", "owl", "panda", "puma", "quail", "raven", "robin", "seal", "stork", "tapir",
    "toad", "trout", "viper", "wolf", "yak", "zebra",
];

fn set_default(m: &mut BTreeMap<String, Value>, k: &str, v: Value) {
    if m.get(k).is_none_or(Value::is_null) {
        m.insert(k.to_string(), v);
    }
}

fn generate_string(m: &BTreeMap<String, Value>) -> Result<String, String> {
    let get_b = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(true);
    let get_n = |k: &str| m.get(k).and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
    let length = get_n("length");
    let special: Vec<char> =
        m.get("override_special").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "!@#$%&*()-_=+[]{}<>:?".into()).chars().collect();
    let classes: [(bool, Vec<char>, usize); 4] = [
        (get_b("upper"), ('A'..='Z').collect(), get_n("min_upper")),
        (get_b("lower"), ('a'..='z').collect(), get_n("min_lower")),
        (get_b("numeric"), ('0'..='9').collect(), get_n("min_numeric")),
        (get_b("special"), special, get_n("min_special")),
    ];
    let mut rng = rand::rngs::OsRng;
    let mut out: Vec<char> = Vec::new();
    let mut pool: Vec<char> = Vec::new();
    for (on, chars, min) in &classes {
        if *on && !chars.is_empty() {
            pool.extend(chars);
            for _ in 0..*min {
                out.push(chars[rng.gen_range(0..chars.len())]);
            }
        }
    }
    if pool.is_empty() {
        return Err("at least one character class must be enabled".into());
    }
    if out.len() > length {
        return Err(format!("length ({length}) must be at least the sum of the min_* arguments ({})", out.len()));
    }
    while out.len() < length {
        out.push(pool[rng.gen_range(0..pool.len())]);
    }
    out.shuffle(&mut rng);
    Ok(out.into_iter().collect())
}

#[async_trait]
impl Provider for RandomProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema { resources: schemas(), ..Default::default() }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let schema = schemas().remove(&req.type_name).unwrap_or_default();
        let mut config = req.config.clone();
        if let Value::Object(m) = &mut config {
            match req.type_name.as_str() {
                "random_pet" => {
                    set_default(m, "length", Value::int(2));
                    set_default(m, "separator", Value::string("-"));
                }
                "random_string" | "random_password" => {
                    for k in ["special", "upper", "lower", "numeric"] {
                        set_default(m, k, Value::Bool(true));
                    }
                    for k in ["min_special", "min_upper", "min_lower", "min_numeric"] {
                        set_default(m, k, Value::int(0));
                    }
                }
                _ => {}
            }
        }
        plan_helpers::default_plan(&schema, req.prior.as_ref(), &config)
    }

    fn journals_creates(&self) -> bool {
        false
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let Value::Object(mut m) = req.planned.deep_unmark() else {
            return CreateResponse { state: None, diagnostics: vec![Diagnostic::error("Invalid object", "the planned object is not an object")] };
        };
        let mut rng = rand::rngs::OsRng;
        match req.type_name.as_str() {
            "random_id" => {
                let n = m.get("byte_length").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=1024).contains(&n) {
                    return CreateResponse {
                        state: None,
                        diagnostics: vec![Diagnostic::error("Invalid byte_length", "byte_length must be between 1 and 1024.")],
                    };
                }
                let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                let prefix = m.get("prefix").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
                let hexs = hex::encode(&bytes);
                let dec = bytes.iter().fold(Vec::<u8>::from([0]), |acc, b| mul_add(&acc, 256, *b as u32));
                m.insert("b64_url".into(), Value::string(format!("{prefix}{url}")));
                m.insert("b64_std".into(), Value::string(format!("{prefix}{}", base64::engine::general_purpose::STANDARD.encode(&bytes))));
                m.insert("hex".into(), Value::string(format!("{prefix}{hexs}")));
                m.insert("dec".into(), Value::string(format!("{prefix}{}", dec.iter().rev().map(|d| char::from(b'0' + d)).collect::<String>())));
                m.insert("id".into(), Value::string(url));
            }
            "random_string" | "random_password" => {
                let s = match generate_string(&m) {
                    Ok(s) => s,
                    Err(e) => return CreateResponse { state: None, diagnostics: vec![Diagnostic::error("Invalid random string settings", format!("{e}."))] },
                };
                if req.type_name == "random_password" {
                    let hash = bcrypt::hash(&s, bcrypt::DEFAULT_COST).unwrap_or_default();
                    m.insert("bcrypt_hash".into(), Value::string(hash).sensitive());
                    m.insert("id".into(), Value::string("none"));
                    m.insert("result".into(), Value::string(s).sensitive());
                } else {
                    m.insert("id".into(), Value::string(s.clone()));
                    m.insert("result".into(), Value::string(s));
                }
            }
            "random_pet" => {
                let len = m.get("length").and_then(Value::as_i64).unwrap_or(2).max(1) as usize;
                let sep = m.get("separator").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "-".into());
                let mut words: Vec<String> = (0..len - 1).map(|_| ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())].to_string()).collect();
                words.push(NAMES[rng.gen_range(0..NAMES.len())].to_string());
                if let Some(p) = m.get("prefix").and_then(|v| v.as_str().map(str::to_string)) {
                    words.insert(0, p);
                }
                m.insert("id".into(), Value::string(words.join(&sep)));
            }
            other => {
                return CreateResponse {
                    state: None,
                    diagnostics: vec![Diagnostic::error("Unknown resource type", format!("The random provider has no resource type {other}."))],
                }
            }
        }
        CreateResponse { state: Some(Value::Object(m)), diagnostics: Vec::new() }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        // Every argument is force-new except keepers' absence; an update only restates config.
        let mut state = req.prior.clone();
        if let (Value::Object(m), Some(planned)) = (&mut state, req.planned.as_map()) {
            for (k, v) in planned {
                if !v.is_unknown() {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        UpdateResponse { state: Some(state), diagnostics: Vec::new() }
    }

    async fn delete(&self, _req: DeleteRequest) -> DeleteResponse {
        DeleteResponse::default()
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        ReadManyResponse { objects: req.objects.into_iter().map(Some).collect(), diagnostics: Vec::new() }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        if req.type_name != "random_id" {
            return ImportResponse {
                state: None,
                diagnostics: vec![Diagnostic::error(
                    "Import not supported",
                    format!("{} cannot be imported; only random_id can (by its b64_url value).", req.type_name),
                )],
            };
        }
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(req.id.as_bytes()) else {
            return ImportResponse { state: None, diagnostics: vec![Diagnostic::error("Invalid import id", "A random_id import id is its b64_url value.")] };
        };
        let dec = bytes.iter().fold(Vec::<u8>::from([0]), |acc, b| mul_add(&acc, 256, *b as u32));
        let state = Value::object([
            ("id", Value::string(req.id.clone())),
            ("byte_length", Value::int(bytes.len() as i64)),
            ("b64_url", Value::string(req.id)),
            ("b64_std", Value::string(base64::engine::general_purpose::STANDARD.encode(&bytes))),
            ("hex", Value::string(hex::encode(&bytes))),
            ("dec", Value::string(dec.iter().rev().map(|d| char::from(b'0' + d)).collect::<String>())),
            ("keepers", Value::Null),
            ("prefix", Value::Null),
        ]);
        ImportResponse { state: Some(state), diagnostics: Vec::new() }
    }
}

/// Little-endian decimal digits times `mul` plus `add`: big integers without a bignum crate.
fn mul_add(digits: &[u8], mul: u32, add: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(digits.len() + 3);
    let mut carry = add;
    for d in digits {
        let v = *d as u32 * mul + carry;
        out.push((v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    while out.len() > 1 && out.last() == Some(&0) {
        out.pop();
    }
    out
}
