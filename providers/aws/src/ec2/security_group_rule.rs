//! `aws_vpc_security_group_ingress_rule` and `aws_vpc_security_group_egress_rule`: one type,
//! listed twice in the table, with the direction as a field. On the rule-id API: one rule per
//! resource, read back by id with `DescribeSecurityGroupRules` (200 ids a call and page).

use super::*;

pub struct SecurityGroupRule {
    pub egress: bool,
}

describe_by_ids!(
    describe_sg_rules,
    describe_security_group_rules,
    "DescribeSecurityGroupRules",
    "security-group-rule-id",
    security_group_rules,
    security_group_rule_id,
    aws_sdk_ec2::types::SecurityGroupRule
);

/// The one rule a rule resource describes, in the form the inline rules use.
fn rule_of_resource(p: &Value) -> Outcome<Rule> {
    let one = |k: &str| attrs::string(p, k).into_iter().collect::<Vec<_>>();
    let protocol = normalize_protocol(&attrs::req_string(p, "ip_protocol")?);
    let all = protocol == "-1";
    Ok(Rule {
        from: if all { 0 } else { attrs::int(p, "from_port").unwrap_or(0) },
        to: if all { 0 } else { attrs::int(p, "to_port").unwrap_or(0) },
        protocol,
        description: attrs::string(p, "description").filter(|d| !d.is_empty()),
        cidrs: one("cidr_ipv4"),
        ipv6: one("cidr_ipv6"),
        prefix_lists: one("prefix_list_id"),
        groups: one("referenced_security_group_id"),
        own: false,
    })
}

fn sg_rule_value(c: &Clients, r: &aws_sdk_ec2::types::SecurityGroupRule, prior: Option<&Value>) -> Value {
    let protocol = normalize_protocol(r.ip_protocol().unwrap_or("-1"));
    let all_ports = protocol == "-1";
    let port = |p: Option<i32>| if all_ports { Value::Null } else { p.map(|n| Value::int(n as i64)).unwrap_or(Value::Null) };
    let id = r.security_group_rule_id().unwrap_or_default().to_string();
    let all = tags_of(r.tags());
    Value::object([
        (
            "arn",
            Value::string(
                r.security_group_rule_arn()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:ec2:{}:{}:security-group-rule/{id}", c.region, r.group_owner_id().unwrap_or_default())),
            ),
        ),
        ("cidr_ipv4", opt_string(r.cidr_ipv4())),
        ("cidr_ipv6", opt_string(r.cidr_ipv6())),
        ("description", opt_string(r.description().filter(|d| !d.is_empty()))),
        ("from_port", port(r.from_port())),
        ("id", Value::string(id.clone())),
        ("ip_protocol", Value::string(protocol)),
        ("prefix_list_id", opt_string(r.prefix_list_id())),
        ("referenced_security_group_id", opt_string(r.referenced_group_info().and_then(|g| g.group_id()))),
        ("security_group_id", opt_string(r.group_id())),
        ("security_group_rule_id", Value::string(id)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("to_port", port(r.to_port())),
    ])
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for SecurityGroupRule {
    fn name(&self) -> &'static str {
        if self.egress {
            "aws_vpc_security_group_egress_rule"
        } else {
            "aws_vpc_security_group_ingress_rule"
        }
    }

    fn schema(&self) -> Schema {
        let opt = |t| AttrSchema::optional(t).force_new();
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("security_group_rule_id", AttrSchema::computed(Type::String))
            .attr("security_group_id", AttrSchema::required(Type::String).force_new())
            .attr("ip_protocol", AttrSchema::required(Type::String).force_new())
            .attr("from_port", opt(Type::Number))
            .attr("to_port", opt(Type::Number))
            .attr("cidr_ipv4", opt(Type::String))
            .attr("cidr_ipv6", opt(Type::String))
            .attr("prefix_list_id", opt(Type::String))
            .attr("referenced_security_group_id", opt(Type::String))
            .attr("description", opt(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let sources = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"];
        let set = sources.iter().filter(|k| is_set(config, k)).count();
        if set != 1 && config.is_wholly_known() {
            return vec![Diagnostic::error(
                "Invalid rule source",
                format!("{} needs exactly one of cidr_ipv4, cidr_ipv6, prefix_list_id or referenced_security_group_id; {set} are set.", self.name()),
            )];
        }
        Vec::new()
    }

    /// The protocol in canonical form; an all-protocol rule has no ports.
    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if let Some(p) = m.get("ip_protocol").and_then(|v| v.as_str().map(normalize_protocol)) {
                if p == "-1" {
                    m.insert("from_port".into(), Value::Null);
                    m.insert("to_port".into(), Value::Null);
                }
                m.insert("ip_protocol".into(), Value::string(p));
            }
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// Authorizes one rule. The response lists the rules created; if it does not name this one
    /// (moto lists only one of several), the group's rules are searched by the intent tag.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let egress = self.egress;
        let group = attrs::req_string(p, "security_group_id")?;
        let spec = tag_spec(aws_sdk_ec2::types::ResourceType::SecurityGroupRule, &attrs::string_map(p, "tags_all"), token);
        let perm = rule_of_resource(p)?.to_permission(&group);
        let sent = per_direction!(
            egress,
            c,
            (authorize_security_group_ingress, "AuthorizeSecurityGroupIngress"),
            (authorize_security_group_egress, "AuthorizeSecurityGroupEgress"),
            |b, name| b
                .group_id(&group)
                .ip_permissions(perm)
                .tag_specifications(spec)
                .send()
                .await
                .map(|out| out.security_group_rules().to_vec())
                .map_err(|e| delete_error(name, &e))
        );
        // A duplicate may be this very rule, authorized by a call re-sent after a lost answer:
        // then it carries this create's token.
        let (rules, duplicate) = match sent {
            Ok(rules) => (rules, None),
            Err((Some(code), d)) if code == "InvalidPermission.Duplicate" => (Vec::new(), Some(d)),
            Err((_, d)) => return Err(d.into()),
        };
        if let Some(id) = rules.iter().find_map(|r| r.security_group_rule_id()) {
            return Ok(with_id(p, id));
        }
        let filter = vec![Filter::builder().name("group-id").values(&group).build()];
        let found = describe_sg_rules(c, &[], filter).await?;
        let id = found
            .values()
            .find(|r| r.is_egress() == Some(egress) && r.tags().iter().any(|t| t.key() == Some(INTENT_TAG) && t.value() == Some(token)))
            .and_then(|r| r.security_group_rule_id().map(str::to_string))
            .ok_or_else(|| {
                duplicate
                    .unwrap_or_else(|| Diagnostic::error("Rule not found after create", format!("The rule authorized on {group} could not be found again.")))
            })?;
        Ok(with_id(p, &id))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_sg_rules(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|r| sg_rule_value(c, r, Some(p)))).collect())
    }

    /// The rules of this direction of the groups the filter's `security_group_id` names
    /// (comma-separated; nothing without it): what `infra discover aws` writes as rule
    /// resources for groups that admit each other. One DescribeSecurityGroupRules per page.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let groups: Vec<String> = filter.get("security_group_id").map(|g| g.split(',').map(str::to_string).collect()).unwrap_or_default();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let filters = vec![Filter::builder().name("group-id").set_values(Some(groups)).build()];
        let found = describe_sg_rules(c.clients()?, &[], filters).await?;
        Ok(found
            .values()
            .filter(|r| r.is_egress() == Some(self.egress))
            .map(|r| crate::discover::discovered(r.security_group_rule_id().unwrap_or_default(), None, &tags_of(r.tags())))
            .collect())
    }

    /// Every argument forces a new rule: only the tags change in place.
    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        Errors::check(update_tags(c, &attrs::req_string(prior, "id")?, prior, planned).await)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let (group, id) = (attrs::req_string(prior, "security_group_id")?, attrs::req_string(prior, "id")?);
        let egress = self.egress;
        delete_retrying(&id, || async {
            per_direction!(
                egress,
                c,
                (revoke_security_group_ingress, "RevokeSecurityGroupIngress"),
                (revoke_security_group_egress, "RevokeSecurityGroupEgress"),
                |b, name| b.group_id(&group).security_group_rule_ids(&id).send().await.map(|_| ()).map_err(|e| delete_error(name, &e))
            )
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_sg_rules(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
