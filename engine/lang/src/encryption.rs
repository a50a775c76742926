//! The `terraform { encryption { ... } }` block, as OpenTofu (1.7+) users write it, and the
//! same content from the `TF_ENCRYPTION` environment variable (HCL, or JSON), merged as
//! OpenTofu merges them: the environment's blocks override the configuration's of the same
//! type and name, attribute by attribute.
//!
//! This is syntax only: attribute expressions (a passphrase from `var.passphrase`) are
//! evaluated by the caller, which builds the byte-level layer (`infra_state::encryption`).

use crate::config::{convert_body, traversal_text, Attr, Block, Body};
use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::Expr;
use crate::source::{SourceMap, Span};

/// A `key_provider "TYPE" "NAME"` or `method "TYPE" "NAME"` block.
#[derive(Clone, Debug)]
pub struct Named {
    pub kind: String,
    pub name: String,
    pub body: Body,
    pub span: Option<Span>,
}

impl Named {
    /// `key_provider.pbkdf2.main`, `method.aes_gcm.main`: how references and OpenTofu's
    /// envelope metadata name it.
    pub fn addr(&self, what: &str) -> String {
        format!("{what}.{}.{}", self.kind, self.name)
    }
}

/// A `state` or `plan` block, or a `fallback` inside one.
#[derive(Clone, Debug, Default)]
pub struct TargetBlock {
    pub method: Option<Expr>,
    /// Every `enforced` given (configuration and environment): enforced when any is true.
    pub enforced: Vec<Expr>,
    pub fallback: Option<Box<TargetBlock>>,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Default)]
pub struct EncryptionBlock {
    pub key_providers: Vec<Named>,
    pub methods: Vec<Named>,
    pub state: Option<TargetBlock>,
    pub plan: Option<TargetBlock>,
    pub span: Option<Span>,
}

/// The method a target names: `method.aes_gcm.main` → `("aes_gcm", "main")`.
pub fn method_ref(expr: &Expr) -> Option<(String, String)> {
    reference(expr, "method")
}

/// The key provider a method's `keys` names: `key_provider.pbkdf2.main`.
pub fn key_provider_ref(expr: &Expr) -> Option<(String, String)> {
    reference(expr, "key_provider")
}

fn reference(expr: &Expr, root: &str) -> Option<(String, String)> {
    let text = traversal_text(expr)?;
    let mut parts = text.split('.');
    (parts.next() == Some(root)).then_some(())?;
    let (kind, name) = (parts.next()?, parts.next()?);
    parts.next().is_none().then(|| (kind.to_string(), name.to_string()))
}

/// Decodes an `encryption` block's body.
pub fn decode(body: &Body, span: Option<Span>, diags: &mut Diagnostics) -> EncryptionBlock {
    let mut out = EncryptionBlock { span, ..Default::default() };
    for a in &body.attrs {
        diags.push(
            Diagnostic::error(
                "Unsupported argument",
                format!("An encryption block takes key_provider, method, state and plan blocks, not an argument \"{}\".", a.name),
            )
            .with_subject(a.span.clone()),
        );
    }
    for b in &body.blocks {
        match b.kind.as_str() {
            "key_provider" | "method" => {
                if b.labels.len() != 2 {
                    diags.push(
                        Diagnostic::error(
                            "Wrong number of labels",
                            format!("A {} block takes 2 labels (its type and its name), but this one has {}.", b.kind, b.labels.len()),
                        )
                        .with_subject(b.span.clone()),
                    );
                    continue;
                }
                let n = Named { kind: b.labels[0].clone(), name: b.labels[1].clone(), body: b.body.clone(), span: b.span.clone() };
                let list = if b.kind == "method" { &mut out.methods } else { &mut out.key_providers };
                if list.iter().any(|o| o.kind == n.kind && o.name == n.name) {
                    diags.push(
                        Diagnostic::error("Duplicate block", format!("{} is declared twice in the encryption block.", n.addr(&b.kind)))
                            .with_subject(b.span.clone()),
                    );
                    continue;
                }
                list.push(n);
            }
            "state" | "plan" => {
                let t = decode_target(b, true, diags);
                let slot = if b.kind == "state" { &mut out.state } else { &mut out.plan };
                if slot.is_some() {
                    diags.push(Diagnostic::error("Duplicate block", format!("The encryption block has two {} blocks.", b.kind)).with_subject(b.span.clone()));
                }
                *slot = Some(t);
            }
            "remote_state_data_sources" => diags.push(
                Diagnostic::warning(
                    "Encryption of remote state data sources is not supported",
                    "infra has no terraform_remote_state data source yet; this remote_state_data_sources block is ignored.",
                )
                .with_subject(b.span.clone()),
            ),
            other => diags.push(
                Diagnostic::error("Unsupported block type", format!("An encryption block takes key_provider, method, state and plan blocks, not \"{other}\"."))
                    .with_subject(b.span.clone()),
            ),
        }
    }
    out
}

fn decode_target(b: &Block, top: bool, diags: &mut Diagnostics) -> TargetBlock {
    let mut t = TargetBlock { span: b.span.clone(), ..Default::default() };
    for a in &b.body.attrs {
        match a.name.as_str() {
            "method" => t.method = Some(a.expr.clone()),
            "enforced" if top => t.enforced.push(a.expr.clone()),
            other => diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "A {} block takes {}, not \"{other}\".",
                        b.kind,
                        if top { "method, enforced and a fallback block" } else { "method and a fallback block" }
                    ),
                )
                .with_subject(a.span.clone()),
            ),
        }
    }
    for f in &b.body.blocks {
        if f.kind != "fallback" {
            diags.push(
                Diagnostic::error("Unsupported block type", format!("A {} block takes a fallback block only, not \"{}\".", b.kind, f.kind))
                    .with_subject(f.span.clone()),
            );
            continue;
        }
        if t.fallback.is_some() {
            diags.push(
                Diagnostic::error("Duplicate block", format!("A {} block takes one fallback block (nest a fallback in it for more).", b.kind))
                    .with_subject(f.span.clone()),
            );
            continue;
        }
        t.fallback = Some(Box::new(decode_target(f, false, diags)));
    }
    t
}

fn merge_body(base: &Body, over: &Body) -> Body {
    let mut attrs: Vec<Attr> = base.attrs.iter().filter(|a| over.attr(&a.name).is_none()).cloned().collect();
    attrs.extend(over.attrs.iter().cloned());
    let mut blocks: Vec<Block> = base.blocks.iter().filter(|b| !over.blocks.iter().any(|o| o.kind == b.kind)).cloned().collect();
    blocks.extend(over.blocks.iter().cloned());
    Body { attrs, blocks }
}

fn merge_named(base: &[Named], over: &[Named]) -> Vec<Named> {
    let mut out: Vec<Named> = base.to_vec();
    for o in over {
        match out.iter_mut().find(|b| b.kind == o.kind && b.name == o.name) {
            Some(b) => b.body = merge_body(&b.body, &o.body),
            None => out.push(o.clone()),
        }
    }
    out
}

fn merge_target(base: Option<&TargetBlock>, over: Option<&TargetBlock>) -> Option<TargetBlock> {
    match (base, over) {
        (None, o) => o.cloned(),
        (b, None) => b.cloned(),
        (Some(b), Some(o)) => Some(TargetBlock {
            method: o.method.clone().or_else(|| b.method.clone()),
            enforced: b.enforced.iter().chain(&o.enforced).cloned().collect(),
            fallback: o.fallback.clone().or_else(|| b.fallback.clone()),
            span: o.span.clone().or_else(|| b.span.clone()),
        }),
    }
}

impl EncryptionBlock {
    /// The configuration's block with `over` (the environment's) merged in, as OpenTofu merges
    /// them: key providers and methods by type and name, attribute by attribute; a target's
    /// method and fallback replaced; enforced when either says so.
    pub fn merge(&self, over: &EncryptionBlock) -> EncryptionBlock {
        EncryptionBlock {
            key_providers: merge_named(&self.key_providers, &over.key_providers),
            methods: merge_named(&self.methods, &over.methods),
            state: merge_target(self.state.as_ref(), over.state.as_ref()),
            plan: merge_target(self.plan.as_ref(), over.plan.as_ref()),
            span: self.span.clone().or_else(|| over.span.clone()),
        }
    }
}

/// Reads `TF_ENCRYPTION`'s value: the content of an encryption block, in HCL or (starting with
/// `{`) in JSON, where blocks are objects keyed by their labels and `method`/`keys` are
/// reference strings, as OpenTofu reads it.
pub fn from_env_text(sources: &SourceMap, text: &str) -> Result<EncryptionBlock, Diagnostics> {
    let hcl = if text.trim_start().starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid TF_ENCRYPTION", format!("TF_ENCRYPTION starts with {{ but is not JSON: {e}."))))?;
        json_to_hcl(&json).map_err(|e| Diagnostics::from(Diagnostic::error("Invalid TF_ENCRYPTION", format!("{e}."))))?
    } else {
        text.to_string()
    };
    let (_, body) = crate::parse::parse_source(sources, std::path::Path::new("TF_ENCRYPTION"), &hcl);
    // Its nodes belong to no stack file: no span of theirs may point into one.
    let body = convert_body(crate::source::FileId(u32::MAX), &body?);
    let mut diags = Diagnostics::new();
    let block = decode(&body, None, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(block)
}

/// JSON syntax of an encryption block's content, written as HCL.
fn json_to_hcl(j: &serde_json::Value) -> Result<String, String> {
    let top = j.as_object().ok_or("TF_ENCRYPTION's JSON must be an object")?;
    let mut out = String::new();
    for (key, v) in top {
        match key.as_str() {
            "key_provider" | "method" => {
                let kinds = v.as_object().ok_or_else(|| format!("\"{key}\" must be an object of types"))?;
                for (kind, names) in kinds {
                    let names = names.as_object().ok_or_else(|| format!("\"{key}\".\"{kind}\" must be an object of names"))?;
                    for (name, body) in names {
                        out.push_str(&format!("{key} {} {} {{\n", hcl_string(kind), hcl_string(name)));
                        json_body(body, &mut out, &format!("{key}.{kind}.{name}"))?;
                        out.push_str("}\n");
                    }
                }
            }
            "state" | "plan" => {
                out.push_str(&format!("{key} {{\n"));
                json_body(v, &mut out, key)?;
                out.push_str("}\n");
            }
            other => {
                out.push_str(&format!("{other} {{\n"));
                json_body(v, &mut out, other)?;
                out.push_str("}\n");
            }
        }
    }
    Ok(out)
}

fn json_body(v: &serde_json::Value, out: &mut String, at: &str) -> Result<(), String> {
    let obj = v.as_object().ok_or_else(|| format!("{at} must be an object"))?;
    for (k, v) in obj {
        match (k.as_str(), v) {
            // References are strings in JSON syntax.
            ("method" | "keys", serde_json::Value::String(s)) => out.push_str(&format!("{k} = {s}\n")),
            ("fallback" | "endpoints", serde_json::Value::Object(_)) => {
                out.push_str(&format!("{k} {{\n"));
                json_body(v, out, &format!("{at}.{k}"))?;
                out.push_str("}\n");
            }
            (_, v) => out.push_str(&format!("{k} = {}\n", json_value(v))),
        }
    }
    Ok(())
}

fn json_value(v: &serde_json::Value) -> String {
    match v {
        // A JSON string is a template, as in OpenTofu's JSON syntax: "${var.x}" works.
        serde_json::Value::String(s) => hcl_string(s),
        serde_json::Value::Array(a) => format!("[{}]", a.iter().map(json_value).collect::<Vec<_>>().join(", ")),
        serde_json::Value::Object(o) => {
            format!("{{{}}}", o.iter().map(|(k, v)| format!("{} = {}", hcl_string(k), json_value(v))).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

/// A quoted HCL string whose `${` interpolations stay live.
fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (EncryptionBlock, Diagnostics) {
        let sources = SourceMap::new();
        let (file, body) = crate::parse::parse_source(&sources, std::path::Path::new("x.tf"), text);
        let body = convert_body(file, &body.unwrap_or_else(|d| panic!("{}", d.detail)));
        let mut diags = Diagnostics::new();
        (decode(&body, None, &mut diags), diags)
    }

    #[test]
    fn the_opentofu_syntax_decodes() {
        let (e, diags) = parse(
            r#"
key_provider "pbkdf2" "new" {
  passphrase = var.passphrase
}
key_provider "pbkdf2" "old" {
  passphrase = var.old
}
method "aes_gcm" "new" {
  keys = key_provider.pbkdf2.new
}
method "aes_gcm" "old" {
  keys = key_provider.pbkdf2.old
}
method "unencrypted" "migrate" {}
state {
  method   = method.aes_gcm.new
  enforced = true
  fallback {
    method = method.aes_gcm.old
    fallback {
      method = method.unencrypted.migrate
    }
  }
}
plan {
  method = method.aes_gcm.new
}
"#,
        );
        assert!(!diags.has_errors(), "{diags:?}");
        assert_eq!(e.key_providers.iter().map(|k| k.addr("key_provider")).collect::<Vec<_>>(), ["key_provider.pbkdf2.new", "key_provider.pbkdf2.old"]);
        let state = e.state.unwrap_or_default();
        assert_eq!(state.method.as_ref().and_then(method_ref), Some(("aes_gcm".into(), "new".into())));
        assert_eq!(state.enforced.len(), 1);
        let fb = state.fallback.unwrap_or_default();
        assert_eq!(fb.method.as_ref().and_then(method_ref), Some(("aes_gcm".into(), "old".into())));
        let fb2 = fb.fallback.unwrap_or_default();
        assert_eq!(fb2.method.as_ref().and_then(method_ref), Some(("unencrypted".into(), "migrate".into())));
        let keys = e.methods[0].body.attr("keys").map(|a| a.expr.clone());
        assert_eq!(keys.as_ref().and_then(key_provider_ref), Some(("pbkdf2".into(), "new".into())));
        assert!(e.plan.is_some());
    }

    #[test]
    fn mistakes_are_diagnostics() {
        let (_, diags) = parse("key_provider \"pbkdf2\" {}\nstate {\n  methd = 1\n}\nbogus {}\n");
        let text = format!("{diags:?}");
        assert!(text.contains("2 labels") && text.contains("methd") && text.contains("bogus"), "{text}");
    }

    #[test]
    fn the_environment_overrides_the_configuration_by_type_and_name() {
        let (base, _) = parse(
            "key_provider \"pbkdf2\" \"k\" {\n  passphrase = \"from the configuration\"\n  iterations = 300000\n}\nstate {\n  method = method.aes_gcm.a\n}\n",
        );
        let sources = SourceMap::new();
        let env = from_env_text(
            &sources,
            r#"{"key_provider": {"pbkdf2": {"k": {"passphrase": "from the environment"}}}, "state": {"enforced": true, "fallback": {"method": "method.unencrypted.m"}}}"#,
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        let m = base.merge(&env);
        let body = &m.key_providers[0].body;
        assert_eq!(body.attr("passphrase").and_then(|a| a.expr.expr.as_str().map(str::to_string)).as_deref(), Some("from the environment"));
        assert!(body.attr("iterations").is_some());
        let state = m.state.unwrap_or_default();
        assert_eq!(state.method.as_ref().and_then(method_ref), Some(("aes_gcm".into(), "a".into())));
        assert_eq!(state.enforced.len(), 1);
        assert_eq!(state.fallback.and_then(|f| f.method).as_ref().and_then(method_ref), Some(("unencrypted".into(), "m".into())));
        let hcl = from_env_text(&sources, "method \"aes_gcm\" \"a\" {\n  keys = key_provider.pbkdf2.k\n}\n").unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(hcl.methods.len(), 1);
    }
}
