//! The documented contract checked: the JSON plan example in `docs/json-output.md` and real
//! `plan --json` output both deserialize into the schema types with no field unknown
//! (`deny_unknown_fields`) or missing, and serialize back to the same JSON. A field added to
//! the output but not to the page (or the reverse) fails here.

#[cfg(test)]
mod tests {
    use crate::json::plan::PlanJson;
    use serde_json::Value as Json;

    fn documented_example() -> Json {
        let doc = include_str!("../../../docs/json-output.md");
        let start = doc.find("<!-- plan-example -->\n```json\n").map(|i| i + "<!-- plan-example -->\n```json\n".len());
        let end = doc.find("```\n<!-- end-plan-example -->");
        let text = match (start, end) {
            (Some(s), Some(e)) if s < e => &doc[s..e],
            _ => panic!("docs/json-output.md has no plan-example block"),
        };
        serde_json::from_str(text).unwrap_or_else(|e| panic!("the documented example is not JSON: {e}"))
    }

    /// `j` read strictly into the schema types and written back: every field known and
    /// every one kept.
    fn conforms(j: &Json) -> Result<(), String> {
        let typed: PlanJson = serde_json::from_value(j.clone()).map_err(|e| format!("does not follow the schema: {e}"))?;
        let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
        if &back != j {
            return Err(format!("loses or adds fields through the schema types:\n{}\nvs\n{}", j, back));
        }
        Ok(())
    }

    #[test]
    fn the_documented_plan_example_follows_the_schema_types() {
        if let Err(e) = conforms(&documented_example()) {
            panic!("docs/json-output.md's example {e}");
        }
    }

    #[test]
    fn the_documented_example_shows_every_field_the_types_can_write() {
        // Every key the example uses, at any depth, and every key the types define must be
        // there: a field added to a type without documenting it fails.
        fn keys(j: &Json, out: &mut std::collections::BTreeSet<String>) {
            match j {
                Json::Object(m) => {
                    for (k, v) in m {
                        out.insert(k.clone());
                        keys(v, out);
                    }
                }
                Json::Array(a) => a.iter().for_each(|v| keys(v, out)),
                _ => {}
            }
        }
        let mut documented = std::collections::BTreeSet::new();
        keys(&documented_example(), &mut documented);
        let source = [include_str!("plan.rs"), include_str!("config.rs")].concat();
        let field = regex_lite_fields(&source);
        for f in field {
            assert!(documented.contains(&f), "field `{f}` of the schema types is not in docs/json-output.md's example");
        }
    }

    /// The serialized names of the `pub` fields of the schema structs (`rename` honored).
    fn regex_lite_fields(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rename: Option<String> = None;
        for line in source.lines().map(str::trim) {
            if let Some(r) = line.strip_prefix("#[serde(rename = \"") {
                rename = r.split('"').next().map(str::to_string);
                continue;
            }
            if let Some(rest) = line.strip_prefix("pub ") {
                if let Some((name, _)) = rest.split_once(':') {
                    if !name.contains(' ') && !name.contains('(') {
                        out.push(rename.take().unwrap_or_else(|| name.to_string()));
                        continue;
                    }
                }
            }
            if !line.starts_with("#[") && !line.starts_with("///") {
                rename = None;
            }
        }
        out
    }

    #[test]
    fn plan_json_of_a_real_plan_follows_the_documented_schema() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
        let mut checked = 0;
        for case in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(case.path().join("expected.txt")).unwrap_or_default();
            // Every JSON plan printed by a case: a line `{` opening an object with
            // `"format_version": "1.2"` up to its closing `}` line.
            let mut rest = text.as_str();
            while let Some(i) = rest.find("{\n  \"format_version\": \"1.2\"") {
                let tail = &rest[i..];
                let end = tail.find("\n}\n").map(|e| e + 2).unwrap_or(tail.len());
                let j: Json = serde_json::from_str(&tail[..end]).unwrap_or_else(|e| panic!("{}: plan JSON does not parse: {e}", case.path().display()));
                if let Err(e) = conforms(&j) {
                    panic!("{}: plan --json output {e}", case.path().display());
                }
                checked += 1;
                rest = &tail[end..];
            }
        }
        assert!(checked >= 2, "no plan --json output found in tests/data");
    }
}
