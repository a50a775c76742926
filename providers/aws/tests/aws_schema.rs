//! Issue 15 point 0: `infra providers schema --json` against the schemas terraform-provider-aws
//! 5.100 reports (`../shared/reference/aws-5.100-schema.json`, copied here as
//! `data/aws-5.100-schema.json` so that a clean clone has it). For every supported type, every
//! argument, attribute and block, at every depth: the name, the type, required / optional /
//! computed / sensitive, the nesting mode and the item limits. No moto: the real binary prints
//! the schemas and the test compares.

use infra_test_harness::moto::infra;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Types whose schema does not match the reference yet (none since every supported type matches). A type listed
/// here that matches fails too, so the list only shrinks.
const INCOMPLETE: &[&str] = &[];

fn reference() -> Json {
    let text = include_str!("data/aws-5.100-schema.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("the reference schema is not JSON: {e}"))
}

fn infra_schemas() -> Json {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = infra(dir.path(), &["providers", "schema", "--json"], &[]);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("providers schema --json is not JSON ({e}): {out}"))
}

fn flag(j: &Json, k: &str) -> bool {
    j.get(k).and_then(Json::as_bool).unwrap_or(false)
}

/// Where `ours` differs from `theirs` (one block), as `path: what` lines.
fn differences(path: &str, theirs: &Json, ours: &Json, out: &mut Vec<String>) {
    let empty = serde_json::Map::new();
    let attrs = |b: &Json| b.get("attributes").and_then(Json::as_object).cloned().unwrap_or_else(|| empty.clone());
    let blocks = |b: &Json| b.get("block_types").and_then(Json::as_object).cloned().unwrap_or_else(|| empty.clone());
    let (ta, oa, tb, ob) = (attrs(theirs), attrs(ours), blocks(theirs), blocks(ours));
    for (name, t) in &ta {
        let Some(o) = oa.get(name) else {
            out.push(format!(
                "{path}{name}: {} (attribute) missing",
                if ob.contains_key(name) { "a block here, but Terraform's is an attribute;" } else { "" }
            ));
            continue;
        };
        if t.get("type") != o.get("type") {
            out.push(format!("{path}{name}: type {} where Terraform has {}", o["type"], t["type"]));
        }
        for k in ["required", "optional", "computed", "sensitive"] {
            // terraform-plugin-sdk marks every `id` and `tags_all` optional as well as computed,
            // an artifact of the SDK: setting either means nothing, so infra's are computed only.
            let artifact = k == "optional" && path.is_empty() && (name == "id" || name == "tags_all") && flag(o, "computed");
            if flag(t, k) != flag(o, k) && !artifact {
                out.push(format!("{path}{name}: {k} is {} where Terraform has {}", flag(o, k), flag(t, k)));
            }
        }
    }
    for name in oa.keys().filter(|n| !ta.contains_key(*n) && !tb.contains_key(*n)) {
        out.push(format!("{path}{name}: not in Terraform's schema"));
    }
    for (name, t) in &tb {
        let Some(o) = ob.get(name) else {
            out.push(format!("{path}{name}: {} (block) missing", if oa.contains_key(name) { "an attribute here, but Terraform's is a block;" } else { "" }));
            continue;
        };
        for k in ["nesting_mode", "min_items", "max_items"] {
            if t.get(k) != o.get(k) {
                out.push(format!("{path}{name}: {k} {} where Terraform has {}", o.get(k).unwrap_or(&Json::Null), t.get(k).unwrap_or(&Json::Null)));
            }
        }
        differences(&format!("{path}{name}."), &t["block"], &o["block"], out);
    }
    for name in ob.keys().filter(|n| !tb.contains_key(*n) && !ta.contains_key(*n)) {
        out.push(format!("{path}{name}: block not in Terraform's schema"));
    }
}

#[test]
fn every_supported_type_has_terraform_provider_aws_5_100_schema() {
    let reference = reference();
    let ours = infra_schemas();
    assert_eq!(ours["format_version"], "1.0");
    let aws = &ours["provider_schemas"]["registry.terraform.io/hashicorp/aws"];
    let resources = aws["resource_schemas"].as_object().unwrap_or_else(|| panic!("no aws resource_schemas: {aws}"));
    assert_eq!(resources.len(), 35, "{:?}", resources.keys().collect::<Vec<_>>());
    for other in ["registry.terraform.io/hashicorp/local", "registry.terraform.io/hashicorp/random", "terraform.io/builtin/terraform"] {
        assert!(ours["provider_schemas"][other]["resource_schemas"].is_object(), "{other} missing");
    }
    let mut report = BTreeMap::new();
    for (name, schema) in resources {
        let theirs = &reference["resource_schemas"][name];
        assert!(theirs.is_object(), "{name} is not in the reference");
        assert_eq!(schema["version"], 0);
        let mut out = Vec::new();
        differences("", &theirs["block"], &schema["block"], &mut out);
        report.insert(name.clone(), out);
    }
    let mut failures = Vec::new();
    for (name, out) in &report {
        match (INCOMPLETE.contains(&name.as_str()), out.is_empty()) {
            (false, false) => failures.push(format!("{name} differs from terraform-provider-aws 5.100:\n  {}", out.join("\n  "))),
            (true, true) => failures.push(format!("{name} matches the reference now: take it off INCOMPLETE")),
            _ => {}
        }
    }
    let left: usize = report.values().map(Vec::len).sum();
    eprintln!("differences left on the incomplete types: {left}");
    for (name, out) in report.iter().filter(|(n, _)| INCOMPLETE.contains(&n.as_str())) {
        eprintln!("{name}: {}", out.len());
        if std::env::var_os("INFRA_SCHEMA_DETAIL").is_some() {
            for line in out {
                eprintln!("  {line}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The comparison itself finds what differs (a missing argument, a flag, a nesting mode).
#[test]
fn the_comparison_finds_a_missing_argument_a_flag_and_a_nesting_mode() {
    let theirs: Json = serde_json::json!({
        "attributes": {"a": {"type": "string", "optional": true}, "b": {"type": "bool", "required": true}},
        "block_types": {"c": {"nesting_mode": "list", "max_items": 1, "block": {"attributes": {"d": {"type": "number", "optional": true}}}}}
    });
    let ours: Json = serde_json::json!({
        "attributes": {"b": {"type": "bool", "optional": true}},
        "block_types": {"c": {"nesting_mode": "single", "block": {"attributes": {"d": {"type": "number", "optional": true}}}}}
    });
    let mut out = Vec::new();
    differences("", &theirs, &ours, &mut out);
    assert_eq!(
        out,
        [
            "a:  (attribute) missing",
            "b: required is false where Terraform has true",
            "b: optional is true where Terraform has false",
            "c: nesting_mode \"single\" where Terraform has \"list\"",
            "c: max_items null where Terraform has 1",
        ]
    );
    let mut none = Vec::new();
    differences("", &theirs, &theirs, &mut none);
    assert!(none.is_empty(), "{none:?}");
}
