//! The stack's state and plan encryption: the `terraform { encryption { ... } }` block merged
//! with `TF_ENCRYPTION` (which overrides it, as OpenTofu), its attributes evaluated with the
//! root module's input variables (`var.passphrase` from `TF_VAR_passphrase`, the variable files
//! or a default), and turned into `infra_state::encryption` targets.

use super::Result;
use infra_lang::config::Module;
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::encryption::{key_provider_ref, method_ref, EncryptionBlock, Named, TargetBlock};
use infra_lang::eval::{MapScope, Phase};
use infra_lang::expr::Expr;
use infra_lang::source::SourceMap;
use infra_lang::value::Value;
use infra_state::encryption::{Encryption, KeyProvider, Method, NamedMethod, Pbkdf2, Target};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The encryption the stack in `dir` configures; none when neither the configuration nor
/// `TF_ENCRYPTION` has any. `vars` and `var_files` are the command's `--var` and `--var-file`
/// (as OpenTofu, they reach the encryption settings too; empty for commands without them).
pub fn resolve(module: &Module, dir: &Path, vars: &[String], var_files: &[std::path::PathBuf]) -> Result<Encryption> {
    let env = match std::env::var("TF_ENCRYPTION") {
        Ok(text) if !text.trim().is_empty() => Some(from_env(&text)?),
        _ => None,
    };
    let config = match &module.encryption {
        Some(b) => {
            let mut diags = Diagnostics::new();
            let c = infra_lang::encryption::decode(&b.body, b.span.clone(), &mut diags);
            if diags.has_errors() {
                return Err(diags);
            }
            Some(c)
        }
        None => None,
    };
    let block = match (&config, env) {
        (None, None) => return Ok(Encryption::default()),
        (Some(c), None) => c.clone(),
        (None, Some(e)) => e,
        (Some(c), Some(e)) => c.merge(&e),
    };
    Resolver::new(module, dir, &block, vars, var_files)?.encryption().map_err(|d| {
        // What TF_ENCRYPTION gave has no span a renderer could quote.
        Diagnostics(
            d.0.into_iter()
                .map(|d| match &d.subject {
                    Some(s) if s.file.0 == u32::MAX => Diagnostic { subject: None, context: None, detail: format!("{} (From TF_ENCRYPTION.)", d.detail), ..d },
                    _ => d,
                })
                .collect(),
        )
    })
}

/// `TF_ENCRYPTION`'s content. Its diagnostics say where they come from in words: the text is
/// not a file the renderer could quote.
fn from_env(text: &str) -> Result<EncryptionBlock> {
    let sources = SourceMap::new();
    infra_lang::encryption::from_env_text(&sources, text).map_err(|d| {
        Diagnostics(
            d.0.into_iter()
                .map(|d| {
                    let line = d.subject.as_ref().map(|s| format!(" (line {})", sources.pos(s.file, s.range.start).line)).unwrap_or_default();
                    Diagnostic { subject: None, context: None, detail: format!("{} In TF_ENCRYPTION{line}.", d.detail), ..d }
                })
                .collect(),
        )
    })
}

struct Resolver<'a> {
    block: &'a EncryptionBlock,
    scope: MapScope,
    providers: BTreeMap<(String, String), (String, Arc<dyn KeyProvider>)>,
}

fn invalid(summary: &str, detail: String, at: Option<infra_lang::source::Span>) -> Diagnostics {
    Diagnostic::error(summary, detail).with_subject(at).into()
}

impl<'a> Resolver<'a> {
    fn new(module: &Module, dir: &Path, block: &'a EncryptionBlock, vars: &[String], var_files: &[std::path::PathBuf]) -> Result<Resolver<'a>> {
        let opts = super::vars::LoadOptions { vars: vars.to_vec(), var_files: var_files.to_vec(), phase: Phase::Plan, prompt_missing: false };
        // Parsed apart from the command's own sources: a variable file's diagnostic keeps its
        // words and loses a place that would point into the wrong file.
        let given = super::vars::input_values(module, dir, &opts, &SourceMap::new())
            .map_err(|d| Diagnostics(d.0.into_iter().map(|d| Diagnostic { subject: None, context: None, ..d }).collect()))?;
        let mut vars: BTreeMap<String, Value> = BTreeMap::new();
        for (name, v) in &module.variables {
            if let Some(value) = given.get(name).cloned().or_else(|| v.default.clone()) {
                vars.insert(name.clone(), value);
            }
        }
        let scope =
            MapScope { names: BTreeMap::from([("var".to_string(), Value::object(vars))]), base_dir: dir.to_path_buf(), phase: Phase::Plan, reads: None };
        Ok(Resolver { block, scope, providers: BTreeMap::new() })
    }

    fn encryption(mut self) -> Result<Encryption> {
        let state = match &self.block.state {
            Some(t) => Some(Arc::new(self.target("state", t)?)),
            None => None,
        };
        let plan = match &self.block.plan {
            Some(t) => Some(Arc::new(self.target("plan", t)?)),
            None => None,
        };
        Ok(Encryption { state, plan })
    }

    fn eval(&self, e: &Expr) -> Result<Value> {
        let v = infra_lang::eval::eval(e, &self.scope).map_err(|d| {
            let hint = "Encryption settings may use input variables (var.NAME from --var, TF_VAR_NAME, a variable file or a default) and literal values only.";
            Diagnostics::from(Diagnostic { detail: format!("{} {hint}", d.detail), ..d })
        })?;
        Ok(v.deep_unmark())
    }

    fn string(&self, body: &infra_lang::config::Body, name: &str, what: &str) -> Result<Option<String>> {
        let Some(a) = body.attr(name) else { return Ok(None) };
        match self.eval(&a.expr)? {
            v if v.is_null() => Ok(None),
            v => match v.as_str() {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(invalid("Invalid encryption setting", format!("{what}'s {name} must be a string, not a {}.", v.type_name()), a.expr.span())),
            },
        }
    }

    fn number(&self, body: &infra_lang::config::Body, name: &str, what: &str, default: u32) -> Result<u32> {
        let Some(a) = body.attr(name) else { return Ok(default) };
        let v = self.eval(&a.expr)?;
        v.as_i64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| invalid("Invalid encryption setting", format!("{what}'s {name} must be a whole number of 0 or more."), a.expr.span()))
    }

    fn only(&self, n: &Named, what: &str, allowed: &[&str], blocks: &[&str]) -> Result<()> {
        for a in &n.body.attrs {
            if !allowed.contains(&a.name.as_str()) {
                return Err(invalid(
                    "Unsupported argument",
                    format!("{what} takes {}; infra does not support \"{}\".", allowed.join(", "), a.name),
                    a.span.clone(),
                ));
            }
        }
        for b in &n.body.blocks {
            if !blocks.contains(&b.kind.as_str()) {
                return Err(invalid("Unsupported block type", format!("{what} takes no \"{}\" block.", b.kind), b.span.clone()));
            }
        }
        Ok(())
    }

    /// The key provider a method names, built once.
    fn provider(&mut self, kind: &str, name: &str, at: Option<infra_lang::source::Span>) -> Result<(String, Arc<dyn KeyProvider>)> {
        if let Some(p) = self.providers.get(&(kind.to_string(), name.to_string())) {
            return Ok(p.clone());
        }
        let Some(n) = self.block.key_providers.iter().find(|k| k.kind == kind && k.name == name) else {
            return Err(invalid(
                "Reference to an undeclared key provider",
                format!("There is no key_provider \"{kind}\" \"{name}\" in the encryption configuration."),
                at,
            ));
        };
        let what = n.addr("key_provider");
        // OpenTofu 1.8+: the name the metadata is stored under, so a provider can be renamed.
        let meta_key = self.string(&n.body, "encrypted_metadata_alias", &what)?.unwrap_or_else(|| what.clone());
        let fail = |e: String| invalid("Invalid key provider", format!("{what}: {e}."), n.span.clone());
        let p: Arc<dyn KeyProvider> = match kind {
            "pbkdf2" => {
                use infra_state::encryption::pbkdf2_defaults as d;
                self.only(n, &what, &["passphrase", "key_length", "iterations", "salt_length", "hash_function", "encrypted_metadata_alias"], &[])?;
                let passphrase = self.string(&n.body, "passphrase", &what)?.unwrap_or_default();
                let p = Pbkdf2::new(
                    &passphrase,
                    self.number(&n.body, "key_length", &what, d::KEY_LENGTH)?,
                    self.number(&n.body, "iterations", &what, d::ITERATIONS)?,
                    &self.string(&n.body, "hash_function", &what)?.unwrap_or_else(|| d::HASH_FUNCTION.to_string()),
                    self.number(&n.body, "salt_length", &what, d::SALT_LENGTH)?,
                )
                .map_err(fail)?;
                Arc::new(p)
            }
            "aws_kms" => {
                self.only(
                    n,
                    &what,
                    &["kms_key_id", "key_spec", "region", "profile", "access_key", "secret_key", "token", "encrypted_metadata_alias"],
                    &["endpoints"],
                )?;
                let endpoint = match n.body.blocks.iter().find(|b| b.kind == "endpoints") {
                    Some(b) => self.string(&b.body, "kms", &format!("{what}'s endpoints"))?,
                    None => None,
                };
                let cfg = infra_state_kms::Config {
                    kms_key_id: self.string(&n.body, "kms_key_id", &what)?.unwrap_or_default(),
                    key_spec: self.string(&n.body, "key_spec", &what)?.unwrap_or_default(),
                    region: self.string(&n.body, "region", &what)?,
                    profile: self.string(&n.body, "profile", &what)?,
                    access_key: self.string(&n.body, "access_key", &what)?,
                    secret_key: self.string(&n.body, "secret_key", &what)?,
                    token: self.string(&n.body, "token", &what)?,
                    endpoint,
                };
                Arc::new(infra_state_kms::AwsKms::new(cfg).map_err(fail)?)
            }
            other => {
                return Err(invalid(
                    "Unsupported key provider",
                    format!("infra supports the pbkdf2 and aws_kms key providers, not \"{other}\"."),
                    n.span.clone(),
                ))
            }
        };
        self.providers.insert((kind.to_string(), name.to_string()), (meta_key.clone(), p.clone()));
        Ok((meta_key, p))
    }

    fn method(&mut self, e: &Expr) -> Result<NamedMethod> {
        let Some((kind, name)) = method_ref(e) else {
            return Err(invalid("Invalid method reference", "A target's method must be a reference like method.aes_gcm.NAME.".into(), e.span()));
        };
        let Some(n) = self.block.methods.iter().find(|m| m.kind == kind && m.name == name).cloned() else {
            return Err(invalid(
                "Reference to an undeclared method",
                format!("There is no method \"{kind}\" \"{name}\" in the encryption configuration."),
                e.span(),
            ));
        };
        let addr = n.addr("method");
        let method = match kind.as_str() {
            "unencrypted" => {
                self.only(&n, &addr, &[], &[])?;
                Method::Unencrypted
            }
            "aes_gcm" => {
                self.only(&n, &addr, &["keys"], &[])?;
                let Some(keys) = n.body.attr("keys") else {
                    return Err(invalid("Missing required argument", format!("{addr} needs keys = key_provider.TYPE.NAME."), n.span.clone()));
                };
                let Some((pk, pn)) = key_provider_ref(&keys.expr) else {
                    return Err(invalid(
                        "Invalid keys reference",
                        format!("{addr}'s keys must be a reference like key_provider.pbkdf2.NAME."),
                        keys.expr.span(),
                    ));
                };
                let (keys_addr, keys) = self.provider(&pk, &pn, keys.expr.span())?;
                Method::AesGcm { keys_addr, keys }
            }
            other => {
                return Err(invalid(
                    "Unsupported encryption method",
                    format!("infra supports the aes_gcm and unencrypted methods, not \"{other}\"."),
                    n.span.clone(),
                ))
            }
        };
        Ok(NamedMethod { addr, method })
    }

    fn target(&mut self, name: &str, t: &TargetBlock) -> Result<Target> {
        let mut chain = Vec::new();
        let mut at = Some(t);
        while let Some(t) = at {
            let Some(m) = &t.method else {
                return Err(invalid("Missing required argument", format!("The {name} block (and each fallback) needs a method."), t.span.clone()));
            };
            chain.push(self.method(m)?);
            at = t.fallback.as_deref();
        }
        let mut enforced = false;
        for e in &t.enforced {
            match self.eval(e)?.as_bool() {
                Some(b) => enforced |= b,
                None => return Err(invalid("Invalid encryption setting", format!("The {name} block's enforced must be true or false."), e.span())),
            }
        }
        Ok(Target { name: name.to_string(), chain, enforced })
    }
}
