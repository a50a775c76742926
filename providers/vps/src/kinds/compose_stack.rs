//! `vps_compose_stack`: a docker compose project (its compose file and .env in a directory),
//! brought up and checked running; a stopped service is drift, and apply brings it back. The
//! compose file is the one Compose itself would pick in the directory (`compose.yaml`,
//! `compose.yml`, `docker-compose.yml`, `docker-compose.yaml`, the first that exists), so a
//! project made by hand with any of them is read and written in place; a new one is
//! `compose.yaml`.

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

/// The file names Compose looks up in a project directory, in its order (compose-go's
/// `DefaultFileNames`).
pub const COMPOSE_FILES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/// Shell lines setting `$cf` to the compose file of the directory `dir`: the first of
/// [`COMPOSE_FILES`] that exists, else `compose.yaml`.
fn find_compose_file(dir: &str) -> String {
    format!(
        "cf={d}/compose.yaml\nfor n in {names}; do if [ -f {d}/\"$n\" ]; then cf={d}/\"$n\"; break; fi; done\n",
        d = quote(dir),
        names = COMPOSE_FILES.join(" ")
    )
}

/// `service state` lines of a compose project's containers, by the label every compose
/// version sets (works whichever compose tool made them); `project` is a shell word.
fn compose_ps(project: &str) -> String {
    format!("docker ps -a --filter \"label=com.docker.compose.project=\"{project} --format '{{{{.Label \"com.docker.compose.service\"}}}} {{{{.State}}}}'")
}

/// Shell lines setting `$pn` to the project whose containers run from `dir` (the label
/// Compose sets to the project directory): `known` when it is one of them (or none runs
/// there), else the first by name, so a project started by hand under another name than its
/// directory's is read as it is.
fn find_project(dir: &str, known: &str) -> String {
    format!(
        "pn={k}\nfound=$(docker ps -a --filter {wd} --format '{{{{.Label \"com.docker.compose.project\"}}}}' 2>/dev/null | sort -u)\nif [ -n \"$found\" ] && ! printf '%s\\n' \"$found\" | grep -qxF -- \"$pn\"; then pn=$(printf '%s\\n' \"$found\" | head -n1); fi\n",
        k = quote(known),
        wd = quote(&format!("label=com.docker.compose.project.working_dir={dir}")),
    )
}

/// A `.env` file's variables as Compose reads them: `KEY=value` lines (an `export ` before
/// the key allowed), blank lines and `#` comments skipped, single-quoted values literal,
/// double-quoted ones with `\\`, `\"` and `\n` escapes (a comment may follow either), unquoted
/// ones trimmed and cut at ` #`.
/// `None` for a line this does not understand (the variables are then not known).
fn parse_env(text: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let v = v.trim();
        // After a quoted value, only a comment may follow.
        let tail_ok = |tail: &str| tail.trim().is_empty() || tail.trim_start().starts_with('#');
        let value = if let Some(rest) = v.strip_prefix('\'') {
            let (inner, tail) = rest.split_once('\'')?;
            if !tail_ok(tail) {
                return None;
            }
            inner.to_string()
        } else if let Some(rest) = v.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = rest.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => match chars.next()?.1 {
                        'n' => s.push('\n'),
                        c @ ('\\' | '"' | '$') => s.push(c),
                        c => {
                            s.push('\\');
                            s.push(c);
                        }
                    },
                    c => s.push(c),
                }
            }
            if !tail_ok(rest.get(end?..).unwrap_or("")) {
                return None;
            }
            s
        } else {
            v.split(" #").next().unwrap_or("").trim_end().to_string()
        };
        out.insert(k.to_string(), value);
    }
    Some(out)
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
        let mut script = find_compose_file(&dir);
        script.push_str(&write_file_at("\"$cf\"", attrs::req_string(p, "compose")?.as_bytes(), "0644", "root", "root"));
        script.push_str(&write_file(&format!("{dir}/.env"), env.as_bytes(), "0600", "root", "root"));
        script.push_str(COMPOSE);
        script.push_str(&format!(
            "if ! out=$(dc -p {} --project-directory {d} -f \"$cf\" --env-file {d}/.env up -d --remove-orphans 2>&1); then printf '%s\\n' \"$out\" | tail -n 20 >&2; exit 1; fi\n",
            quote(&project),
            d = quote(&dir)
        ));
        script.push_str(&format!(
            "sleep 1\nif {ps} | grep -v ' running$' | grep -q .; then echo 'these services are not running:' >&2; {ps} | grep -v ' running$' >&2; exit 1; fi\n",
            ps = compose_ps(&quote(&project))
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
            let vars = |v: &Value| attrs::map_of(Some(&v.deep_unmark()));
            let prior_sha = prior.and_then(|p| attrs::string(p, "env_sha256").map(|sha| (vars(p.get_attr("env").unwrap_or(&Value::Null)), sha)));
            let sha = match prior_sha {
                // The same variables as the host's file holds (written by hand, maybe quoted
                // otherwise): nothing to rewrite.
                Some((held, sha)) if env.is_wholly_known() && held == vars(&env) => Value::string(sha),
                _ if env.is_wholly_known() => Value::string(sha256_hex(env_content(&vars(&env)).as_bytes())),
                _ => Value::Unknown,
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
            "{COMPOSE}{find}if [ -f \"$cf\" ]; then dc -p {pn} --project-directory {d} -f \"$cf\" down --remove-orphans >/dev/null; fi\nrm -f -- \"$cf\" {d}/.env\nrmdir --ignore-fail-on-non-empty -- {d} 2>/dev/null || true\n",
            find = find_compose_file(&dir),
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
            "{find}file 'compose.' \"$cf\" {} 1\nfile 'env.' {} {} 1\n{project}echo \"project $(printf '%s' \"$pn\" | b64)\"\necho \"ps $({} 2>/dev/null | b64)\"",
            quote(&sha256_hex(g("compose").as_bytes())),
            quote(&format!("{dir}/.env")),
            quote(&g("env_sha256")),
            compose_ps("\"$pn\""),
            find = find_compose_file(&dir),
            project = find_project(&dir, &g("project_name")),
        )
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "compose.") {
            return None;
        }
        let mut fields = vec![
            ("id", Value::string(attrs::string(known, "directory").unwrap_or_default())),
            ("compose", text_of(facts, "compose.", attrs::string(known, "compose"), &recorded_sha(known, "compose"))),
            // No .env is an empty one (what apply writes for no variables).
            ("env_sha256", Value::string(facts.get("env.sha256").cloned().unwrap_or_else(|| sha256_hex(b"")))),
            // Every service's container up: a stopped one is drift, and apply brings it back.
            ("running", Value::Bool(decoded(facts, "ps").is_some_and(|ps| !ps.trim().is_empty() && ps.lines().all(|l| l.ends_with(" running"))))),
        ];
        if let Some(project) = decoded(facts, "project").filter(|p| !p.is_empty()) {
            fields.push(("project_name", Value::string(project)));
        }
        // The file differs from what was recorded (or nothing was: an import): its variables,
        // as far as they can be read, so that the same variables in the configuration plan
        // nothing and other ones show as a change.
        if !exists(facts, "env.") {
            fields.push(("env", Value::Null));
        } else if let Some(text) = decoded(facts, "env.content") {
            let map = match parse_env(&text) {
                Some(vars) if vars.is_empty() => Value::Null,
                Some(vars) => Value::Map(vars.into_iter().map(|(k, v)| (k, Value::string(v))).collect()),
                // A file this cannot read: a variable no configuration can name (an empty
                // name), so the plan never takes it for the configured variables and rewrites it.
                None => Value::Map([(String::new(), Value::string(""))].into_iter().collect()),
            };
            fields.push(("env", map));
        }
        Some(with(known, fields))
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
    fn a_dot_env_reads_back_as_compose_reads_it() {
        let env =
            BTreeMap::from([("A".to_string(), "p@ss $HOME".to_string()), ("B".to_string(), "it's \"x\"\nline".to_string()), ("C".to_string(), String::new())]);
        assert_eq!(parse_env(&env_content(&env)), Some(env), "what apply writes reads back the same");
        let by_hand = "# comment\n\nexport TOKEN=abc # trailing\nNAME = \"two words\"\nQUOTED='a # b'\n";
        let want = BTreeMap::from([
            ("NAME".to_string(), "two words".to_string()),
            ("QUOTED".to_string(), "a # b".to_string()),
            ("TOKEN".to_string(), "abc".to_string()),
        ]);
        assert_eq!(parse_env(by_hand), Some(want));
        assert_eq!(parse_env("not a variable line\n"), None);
        assert_eq!(parse_env("X='unterminated\n"), None);
        assert_eq!(parse_env("X='a' b\n"), None);
        assert_eq!(parse_env("X=\"a \\\" # b\" # c\n").and_then(|m| m.get("X").cloned()).as_deref(), Some("a \" # b"));
    }

    /// A .env edited by hand is read back into `env`: the same variables written otherwise plan
    /// nothing, other ones (or a file that cannot be read) plan a rewrite.
    #[test]
    fn a_dot_env_edited_by_hand_plans_a_rewrite_only_when_its_variables_differ() {
        let provider = VpsProvider::unconfigured();
        let known = Value::object([
            ("id", Value::string("/srv/app")),
            ("directory", Value::string("/srv/app")),
            ("project_name", Value::string("app")),
            ("compose", Value::string("services: {}\n")),
            ("env_sha256", Value::string("recorded")),
        ]);
        let facts = |env: &str| {
            Facts::from([
                ("compose.exists".to_string(), "1".to_string()),
                ("compose.sha256".to_string(), sha256_hex(b"services: {}\n")),
                ("env.exists".to_string(), "1".to_string()),
                ("env.sha256".to_string(), sha256_hex(env.as_bytes())),
                ("env.content".to_string(), crate::transport::base64_encode(env.as_bytes())),
                ("project".to_string(), crate::transport::base64_encode(b"app")),
            ])
        };
        let config = |env: Option<&str>| {
            let env = env.map(|v| Value::Map([("TOKEN".to_string(), Value::string(v))].into_iter().collect())).unwrap_or(Value::Null);
            Value::object([
                ("directory", Value::string("/srv/app")),
                ("compose", Value::string("services: {}\n")),
                ("env", env),
                ("running", Value::Bool(true)),
            ])
        };
        let planned_sha = |env_file: &str, env: Option<&str>| {
            let prior = ComposeStack.read(&known, &facts(env_file)).unwrap_or(Value::Null);
            let planned = ComposeStack.plan(&provider, Some(&prior), &config(env)).planned;
            (attrs::string(&prior, "env_sha256"), attrs::string(&planned, "env_sha256"))
        };
        let (held, planned) = planned_sha("export TOKEN=\"abc\" # by hand\n", Some("abc"));
        assert_eq!(held, planned, "the same variable, quoted otherwise: nothing to rewrite");
        let (held, planned) = planned_sha("TOKEN=tampered\n", Some("abc"));
        assert_ne!(held, planned);
        assert_eq!(planned, Some(sha256_hex(b"TOKEN='abc'\n")));
        let (held, planned) = planned_sha("this is not a variable\n", None);
        assert_ne!(held, planned, "an unreadable file is rewritten");
        let absent = ComposeStack.read(&known, &Facts::from([("compose.exists".to_string(), "1".to_string())])).unwrap_or(Value::Null);
        assert_eq!(attrs::string(&absent, "env_sha256"), Some(sha256_hex(b"")), "no .env is an empty one");
        assert_eq!(attrs::string(&ComposeStack.plan(&provider, Some(&absent), &config(None)).planned, "env_sha256"), Some(sha256_hex(b"")));
    }

    #[test]
    fn the_default_project_name_is_the_directory_as_compose_names_it() {
        assert_eq!(default_project_name("/srv/My App.v2/"), "myappv2");
        assert_eq!(ComposeStack.import_seed("/srv/Web").ok().and_then(|s| attrs::string(&s, "project_name")).as_deref(), Some("web"));
    }
}
