//! `vps_compose_stack`: a docker compose project (its compose.yaml and .env in a directory),
//! brought up and checked running; a stopped service is drift, and apply brings it back.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;

pub struct ComposeStack;

/// `docker compose` (the plugin), else `docker-compose` (the standalone tool Debian packages).
const COMPOSE: &str = "dc() { if docker compose version >/dev/null 2>&1; then docker compose \"$@\"; else docker-compose \"$@\"; fi; }\n";

/// `service state` lines of a compose project's containers, by the label every compose
/// version sets (works whichever compose tool made them).
fn compose_ps(project: &str) -> String {
    format!("docker ps -a --filter label=com.docker.compose.project={} --format '{{{{.Label \"com.docker.compose.service\"}}}} {{{{.State}}}}'", quote(project))
}

/// `.env` text for compose: single-quoted values, which compose reads literally (except
/// `${VAR}`, which the standalone docker-compose still expands, as in any `.env`); a value
/// holding a single quote is double-quoted (`$` in it would be interpolated, so `validate`
/// refuses that pair).
fn env_content(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| {
            if v.contains('\'') || v.contains('\n') {
                format!("{k}=\"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
            } else {
                format!("{k}='{v}'\n")
            }
        })
        .collect()
}

/// A compose project's name when none is given: the directory's last part, as compose itself
/// would name it (lowercase letters, digits, - and _).
fn default_project_name(dir: &str) -> String {
    let base = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("stack");
    base.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>().to_lowercase()
}

impl ComposeStack {
    async fn up(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let dir = attrs::req_string(p, "directory")?.trim_end_matches('/').to_string();
        let project = attrs::req_string(p, "project_name")?;
        let env = env_content(&attrs::string_map(p, "env"));
        let mut script = write_file(&format!("{dir}/compose.yaml"), attrs::req_string(p, "compose")?.as_bytes(), "0644", "root", "root");
        script.push_str(&write_file(&format!("{dir}/.env"), env.as_bytes(), "0600", "root", "root"));
        script.push_str(COMPOSE);
        script.push_str(&format!(
            "if ! out=$(dc -p {} --project-directory {d} -f {d}/compose.yaml --env-file {d}/.env up -d --remove-orphans 2>&1); then printf '%s\\n' \"$out\" | tail -n 20 >&2; exit 1; fi\n",
            quote(&project),
            d = quote(&dir)
        ));
        script.push_str(&format!(
            "sleep 1\nif {ps} | grep -v ' running$' | grep -q .; then echo 'these services are not running:' >&2; {ps} | grep -v ' running$' >&2; exit 1; fi\n",
            ps = compose_ps(&project)
        ));
        run(c.writing(self.name(), p).await?, &format!("Starting compose stack {dir}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for ComposeStack {
    fn name(&self) -> &'static str {
        "vps_compose_stack"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("directory", AttrSchema::required(Type::String).force_new())
            .attr("compose", AttrSchema::required(Type::String))
            .attr("env", AttrSchema::optional(Type::Map(Box::new(Type::String))).sensitive())
            .attr("env_sha256", AttrSchema::computed(Type::String))
            .attr("running", AttrSchema::optional(Type::Bool).default(Value::Bool(true)))
            .attr("project_name", AttrSchema::optional_computed(Type::String).force_new())
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_path(c, "directory", &mut out);
        for (k, v) in attrs::string_map(c, "env") {
            if !k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') || k.is_empty() {
                out.push(Diagnostic::error("Invalid env", format!("{k:?} is not a variable name (letters, digits, _).")).with_path(attrs::at("env")));
            }
            if (v.contains('\'') || v.contains('\n')) && v.contains('$') {
                out.push(
                    Diagnostic::error(
                        "Invalid env",
                        format!("The value of {k} holds a quote or newline and a $: compose would interpolate it. Drop one of them."),
                    )
                    .with_path(attrs::at("env")),
                );
            }
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if let Some(d) = m.get("directory").cloned() {
                m.insert("id".into(), d.clone());
                if let Some(dir) = d.as_str() {
                    attrs::set_default(m, "project_name", Value::string(default_project_name(dir)));
                }
            }
            let env = m.get("env").cloned().unwrap_or(Value::Null);
            let sha = if env.is_wholly_known() {
                Value::string(sha256_hex(env_content(&attrs::map_of(Some(&env.deep_unmark()))).as_bytes()))
            } else {
                Value::Unknown
            };
            m.insert("env_sha256".into(), sha);
        }
        plan_helpers::default_plan(&self.schema(), prior, &cfg)
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        self.up(c, planned).await?;
        Ok(c.wrote(self.name(), planned.clone()))
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.up(c, planned).await?;
        c.wrote(self.name(), planned.clone());
        Ok(())
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let dir = attrs::req_string(prior, "directory")?.trim_end_matches('/').to_string();
        let script = format!(
            "{COMPOSE}if [ -f {d}/compose.yaml ]; then dc -p {pn} --project-directory {d} -f {d}/compose.yaml --env-file {d}/.env down --remove-orphans >/dev/null; fi\nrm -f -- {d}/compose.yaml {d}/.env\nrmdir --ignore-fail-on-non-empty -- {d} 2>/dev/null || true\n",
            d = quote(&dir),
            pn = quote(&attrs::req_string(prior, "project_name")?)
        );
        run(c.writing(self.name(), prior).await?, "Deleting vps_compose_stack", &script).await?;
        Ok(())
    }

    /// What exists on the host, managed or not (drift reports; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    /// Text over several lines as a heredoc.
    fn to_hcl(&self, state: &Value) -> String {
        body_with_heredocs(&self.schema(), state)
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("directory", Value::string(id)), ("project_name", Value::string(default_project_name(id)))]))
    }
}

impl Kind for ComposeStack {
    fn probe(&self, v: &Value) -> String {
        let g = |k: &str| attrs::string(v, k).unwrap_or_default();
        let dir = g("directory").trim_end_matches('/').to_string();
        format!(
            "file 'compose.' {} {} 1\nfile 'env.' {} '' 0\necho \"ps $({} 2>/dev/null | b64)\"",
            quote(&format!("{dir}/compose.yaml")),
            quote(&sha256_hex(g("compose").as_bytes())),
            quote(&format!("{dir}/.env")),
            compose_ps(&g("project_name"))
        )
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "compose.") {
            return None;
        }
        Some(with(
            known,
            vec![
                ("id", Value::string(attrs::string(known, "directory").unwrap_or_default())),
                ("compose", text_of(facts, "compose.", attrs::string(known, "compose"), &recorded_sha(known, "compose"))),
                ("env_sha256", facts.get("env.sha256").map(|s| Value::string(s.clone())).unwrap_or(Value::string(""))),
                // Every service's container up: a stopped one is drift, and apply brings it back.
                ("running", Value::Bool(decoded(facts, "ps").is_some_and(|ps| !ps.trim().is_empty() && ps.lines().all(|l| l.ends_with(" running"))))),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_literal() {
        let env = BTreeMap::from([("A".to_string(), "p@ss $HOME".to_string()), ("B".to_string(), "it's \"x\"".to_string())]);
        assert_eq!(env_content(&env), "A='p@ss $HOME'\nB=\"it's \\\"x\\\"\"\n");
    }

    #[test]
    fn the_default_project_name_is_the_directory_as_compose_names_it() {
        assert_eq!(default_project_name("/srv/My App.v2/"), "myappv2");
        assert_eq!(ComposeStack.import_seed("/srv/Web").ok().and_then(|s| attrs::string(&s, "project_name")).as_deref(), Some("web"));
    }
}
