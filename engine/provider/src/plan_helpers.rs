//! The default planning rule, shared by providers that need nothing special.

use crate::{PlanResponse, Schema, Value};
use infra_lang::schema::Nesting;
use std::collections::BTreeMap;

/// Planned object = configuration, with schema defaults in place of null optional arguments,
/// each computed attribute the configuration leaves null
/// taken from the prior object (or unknown on create). Force-new attributes that differ from
/// the prior object are reported as requiring replacement.
pub fn default_plan(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlanResponse {
    let mut planned = BTreeMap::new();
    let mut requires_replace = Vec::new();
    let replacing = |prior: Option<&Value>, requires_replace: &[String]| prior.is_none() || !requires_replace.is_empty();
    for (name, a) in &schema.attributes {
        let mut cfg = config.get_attr(name).cloned().unwrap_or(Value::Null);
        if cfg.is_null() {
            if let Some(d) = &a.default {
                cfg = d.clone();
            }
        }
        let old = prior.and_then(|p| p.get_attr(name));
        if a.force_new {
            if let Some(old) = old {
                if cfg.is_unknown() || (!cfg.is_null() || !a.computed) && !cfg.deep_unmark().equals(&old.deep_unmark()) {
                    requires_replace.push(name.clone());
                }
            }
        }
        planned.insert(name.clone(), cfg);
    }
    for (name, b) in &schema.blocks {
        let cfg = config.get_attr(name).cloned().unwrap_or(match b.nesting {
            Nesting::Single => Value::Null,
            _ => Value::List(Vec::new()),
        });
        if b.force_new {
            if let Some(old) = prior.and_then(|p| p.get_attr(name)) {
                if !cfg.deep_unmark().equals(&old.deep_unmark()) {
                    requires_replace.push(name.clone());
                }
            }
        }
        planned.insert(name.clone(), cfg);
    }
    // Computed values survive an in-place update; a replacement recomputes them.
    let replace = replacing(prior, &requires_replace);
    for (name, a) in &schema.attributes {
        if a.computed && planned.get(name).is_some_and(Value::is_null) {
            let v = match prior.and_then(|p| p.get_attr(name)) {
                Some(old) if !replace => old.clone(),
                _ => Value::Unknown,
            };
            planned.insert(name.clone(), v);
        }
    }
    PlanResponse { planned: Value::Object(planned.into()), requires_replace, diagnostics: Vec::new() }
}
