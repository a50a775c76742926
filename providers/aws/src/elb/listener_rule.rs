//! `aws_lb_listener_rule`: read per listener (`DescribeRules`, paged), `DescribeTags` per 20
//! ARNs; the default rule is the listener's `default_action` and never a rule resource.
//! Import by rule ARN, which names its listener.

use super::*;
use crate::AwsProvider;
use elb::types::{
    HostHeaderConditionConfig, HttpHeaderConditionConfig, HttpRequestMethodConditionConfig, PathPatternConditionConfig, QueryStringConditionConfig,
    QueryStringKeyValuePair, RuleCondition, SourceIpConditionConfig,
};
use infra_provider::resource::with_id;

pub struct ListenerRule;

async fn describe_rules(c: &Clients, listeners: &[String]) -> Result<BTreeMap<String, elb::types::Rule>, Diagnostic> {
    let mut out = BTreeMap::new();
    for l in listeners {
        let mut marker: Option<String> = None;
        loop {
            match c.elb.describe_rules().listener_arn(l).page_size(400).set_marker(marker.clone()).send().await {
                Ok(page) => {
                    out.extend(page.rules().iter().filter(|r| r.is_default() != Some(true)).filter_map(|r| Some((r.rule_arn()?.to_string(), r.clone()))));
                    marker = page.next_marker().map(str::to_string);
                    if marker.is_none() {
                        break;
                    }
                }
                Err(e) if gone(code_of(&e)) => break,
                Err(e) => return Err(api_error("DescribeRules", &e)),
            }
        }
    }
    Ok(out)
}

/// `arn:…:listener-rule/app/NAME/LB/LISTENER/RULE` → `arn:…:listener/app/NAME/LB/LISTENER`.
fn rule_listener_arn(rule: &str) -> String {
    match rule.split_once(":listener-rule/") {
        Some((head, rest)) => {
            let parts: Vec<&str> = rest.split('/').collect();
            format!("{head}:listener/{}", parts[..parts.len().saturating_sub(1)].join("/"))
        }
        None => rule.to_string(),
    }
}

/// The condition blocks: (block, AWS field).
const CONDITIONS: &[(&str, &str)] = &[
    ("host_header", "host-header"),
    ("http_header", "http-header"),
    ("http_request_method", "http-request-method"),
    ("path_pattern", "path-pattern"),
    ("query_string", "query-string"),
    ("source_ip", "source-ip"),
];

fn conditions_of(p: &Value) -> Vec<RuleCondition> {
    let mut out = Vec::new();
    for cond in p.get_attr("condition").and_then(Value::as_seq).unwrap_or(&[]) {
        let values = |b: &str| single_block(cond, b).map(|v| attrs::strings(&v, "values"));
        if let Some(v) = values("path_pattern") {
            out.push(
                RuleCondition::builder().field("path-pattern").path_pattern_config(PathPatternConditionConfig::builder().set_values(Some(v)).build()).build(),
            );
        }
        if let Some(v) = values("host_header") {
            out.push(
                RuleCondition::builder().field("host-header").host_header_config(HostHeaderConditionConfig::builder().set_values(Some(v)).build()).build(),
            );
        }
        if let Some(h) = single_block(cond, "http_header") {
            let cfg =
                HttpHeaderConditionConfig::builder().set_http_header_name(attrs::string(&h, "http_header_name")).set_values(Some(attrs::strings(&h, "values")));
            out.push(RuleCondition::builder().field("http-header").http_header_config(cfg.build()).build());
        }
        if let Some(v) = values("http_request_method") {
            let cfg = HttpRequestMethodConditionConfig::builder().set_values(Some(v)).build();
            out.push(RuleCondition::builder().field("http-request-method").http_request_method_config(cfg).build());
        }
        if let Some(v) = values("source_ip") {
            out.push(RuleCondition::builder().field("source-ip").source_ip_config(SourceIpConditionConfig::builder().set_values(Some(v)).build()).build());
        }
        let pairs: Vec<QueryStringKeyValuePair> = cond
            .get_attr("query_string")
            .and_then(Value::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(|q| QueryStringKeyValuePair::builder().set_key(attrs::string(q, "key")).set_value(attrs::string(q, "value")).build())
            .collect();
        if !pairs.is_empty() {
            out.push(
                RuleCondition::builder()
                    .field("query-string")
                    .query_string_config(QueryStringConditionConfig::builder().set_values(Some(pairs)).build())
                    .build(),
            );
        }
    }
    out
}

/// One condition as read: the block of its field, the others empty.
fn condition_value(cond: &RuleCondition) -> Option<Value> {
    let field = cond.field()?;
    let (block, _) = CONDITIONS.iter().find(|(_, f)| *f == field)?;
    // The typed config, or the older flat `Values` some servers still answer with.
    let or_flat = |v: Option<&[String]>| v.filter(|v| !v.is_empty()).unwrap_or(cond.values()).to_vec();
    let values = |v: Option<&[String]>| Value::List(vec![Value::object([("values", string_set(or_flat(v)))])]);
    let read = match *block {
        "host_header" => values(cond.host_header_config().map(|c| c.values())),
        "path_pattern" => values(cond.path_pattern_config().map(|c| c.values())),
        "http_request_method" => values(cond.http_request_method_config().map(|c| c.values())),
        "source_ip" => values(cond.source_ip_config().map(|c| c.values())),
        "http_header" => Value::List(vec![Value::object([
            ("http_header_name", opt_string(cond.http_header_config().and_then(|c| c.http_header_name()))),
            ("values", string_set(or_flat(cond.http_header_config().map(|c| c.values())))),
        ])]),
        _ => Value::set(
            cond.query_string_config()
                .map(|c| c.values())
                .unwrap_or_default()
                .iter()
                .map(|q| Value::object([("key", opt_string(q.key())), ("value", opt_string(q.value()))]))
                .collect(),
        ),
    };
    Some(Value::object(CONDITIONS.iter().map(|(b, _)| {
        let empty = if *b == "query_string" { Value::set(Vec::new()) } else { Value::List(Vec::new()) };
        (b.to_string(), if b == block { read.clone() } else { empty })
    })))
}

fn rule_value(c: &Clients, r: &elb::types::Rule, tags: &BTreeMap<String, String>, prior: Option<&Value>) -> Value {
    let arn = r.rule_arn().unwrap_or_default();
    let all = user_tags(tags.clone());
    let [tags, tags_all] = tag_attrs(&all, prior, &c.default_tags);
    let conditions = r.conditions().iter().filter_map(condition_value).collect();
    Value::object([
        ("id", Value::string(arn)),
        ("arn", Value::string(arn)),
        ("listener_arn", prior.and_then(|p| p.get_attr("listener_arn")).cloned().unwrap_or_else(|| Value::string(rule_listener_arn(arn)))),
        ("priority", r.priority().and_then(|p| p.parse::<i64>().ok()).map(Value::int).unwrap_or(Value::Null)),
        ("action", actions_value(r.actions(), prior.and_then(|p| p.get_attr("action")))),
        ("condition", Value::set(conditions)),
        tags,
        tags_all,
    ])
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for ListenerRule {
    fn name(&self) -> &'static str {
        "aws_lb_listener_rule"
    }

    fn schema(&self) -> Schema {
        let values = || list_block(1, Schema::new().attr("values", AttrSchema::required(string_set_type())));
        let header = Schema::new().attr("http_header_name", AttrSchema::required(Type::String)).attr("values", AttrSchema::required(string_set_type()));
        let query = Schema::new().attr("key", AttrSchema::optional(Type::String)).attr("value", AttrSchema::required(Type::String));
        let condition = Schema::new()
            .block("host_header", values())
            .block("http_header", list_block(1, header))
            .block("http_request_method", values())
            .block("path_pattern", values())
            .block("query_string", BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: query })
            .block("source_ip", values());
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("listener_arn", AttrSchema::required(Type::String).force_new())
            .attr("priority", AttrSchema::optional_computed(Type::Number))
            .attr("tags", tags_attr())
            .attr("tags_all", tags_all_attr())
            .block("action", actions_block(1, false))
            .block("condition", BlockSchema { nesting: Nesting::Set, min_items: 1, max_items: usize::MAX, force_new: false, schema: condition })
    }

    /// Each action has what its type needs; each condition sets exactly one of its blocks.
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = validate_actions(config, "action");
        for cond in config.get_attr("condition").and_then(Value::as_seq).unwrap_or(&[]) {
            let set = CONDITIONS.iter().filter(|(b, _)| cond.get_attr(b).and_then(Value::as_seq).is_some_and(|s| !s.is_empty())).count();
            if set != 1 && cond.is_wholly_known() {
                d.push(
                    Diagnostic::error(
                        "Invalid condition",
                        format!(
                            "A condition block sets exactly one of {}; this one sets {set}.",
                            CONDITIONS.iter().map(|(b, _)| *b).collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .with_path(attrs::at("condition")),
                );
            }
        }
        d
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            fill_actions(m, "action");
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let listener = attrs::req_string(p, "listener_arn")?;
        let priority = match int_of(p, "priority") {
            Some(n) => n,
            // As terraform-provider-aws: the next free priority after the listener's rules.
            None => describe_rules(c, std::slice::from_ref(&listener)).await?.values().filter_map(|r| r.priority()?.parse::<i32>().ok()).max().unwrap_or(0) + 1,
        };
        let out = c
            .once
            .elb
            .create_rule()
            .listener_arn(&listener)
            .priority(priority)
            .set_conditions(Some(conditions_of(p)))
            .set_actions(Some(actions_of(p, "action")?))
            .set_tags(Some(lb_tags(&attrs::string_map(p, "tags_all"), Some(token))))
            .send()
            .await
            .map_err(|e| create_error("CreateRule", &e))?;
        Ok(with_id(p, out.rules().first().and_then(|r| r.rule_arn()).unwrap_or_default()))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_rules(c, &unique(objects, "listener_arn")).await?;
        let present: Vec<String> = ids.iter().filter(|id| found.contains_key(*id)).cloned().collect();
        let tags = describe_tags(c, &present).await?;
        let none = BTreeMap::new();
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|r| rule_value(c, r, tags.get(id).unwrap_or(&none), Some(p)))).collect())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("listener_arn", Value::string(rule_listener_arn(id)))]))
    }

    // The listeners in scope (see `listeners_in_scope`), then one DescribeRules per listener
    // and page; default rules are the listeners' `default_action`, never listed.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let listeners: Vec<String> = super::listener::listeners_in_scope(c, filter).await?.into_keys().collect();
        let found = describe_rules(c, &listeners).await?;
        Ok(found.keys().map(|arn| crate::discover::discovered(arn, None, &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let c = c.clients()?;
        change_tags(c, prior, p).await?;
        let id = attrs::req_string(prior, "id")?;
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("condition") || changed("action") {
            c.elb
                .modify_rule()
                .rule_arn(&id)
                .set_conditions(Some(conditions_of(p)))
                .set_actions(Some(actions_of(p, "action")?))
                .send()
                .await
                .map_err(|e| api_error("ModifyRule", &e))?;
        }
        if let Some(priority) = int_of(p, "priority").filter(|_| changed("priority")) {
            let entry = elb::types::RulePriorityPair::builder().rule_arn(&id).priority(priority).build();
            c.elb.set_rule_priorities().rule_priorities(entry).send().await.map_err(|e| api_error("SetRulePriorities", &e))?;
        }
        Ok(())
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        match c.clients()?.elb.delete_rule().rule_arn(attrs::req_string(prior, "id")?).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(code_of(&e)) => Ok(()),
            Err(e) => Err(api_error("DeleteRule", &e).into()),
        }
    }

    /// The listener's rules, by the intent tag.
    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let candidates: Vec<String> = match attrs::string(planned, "listener_arn") {
            Some(l) => describe_rules(c, &[l]).await?.into_keys().collect(),
            None => Vec::new(),
        };
        Ok(find_by_intent(c, &candidates, token).await?.map(|arn| with_id(planned, &arn)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
