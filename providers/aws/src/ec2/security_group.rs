//! `aws_security_group` with inline `ingress` / `egress` blocks: one `DescribeSecurityGroups`
//! per 200 ids and page; rules compared as sets in the canonical form of `ec2::Rule`. A
//! direction with neither blocks nor the argument is not managed (standalone rule resources may
//! manage it), and `egress = []` removes every egress rule, as in terraform-provider-aws, whose
//! schema makes the rules attributes that may be written as blocks.

use super::*;

pub struct SecurityGroup;

const SG_DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

describe_by_ids!(
    describe_security_groups,
    describe_security_groups,
    "DescribeSecurityGroups",
    "group-id",
    security_groups,
    group_id,
    aws_sdk_ec2::types::SecurityGroup
);

fn rule_schema() -> Schema {
    let list = || AttrSchema::optional(Type::List(Box::new(Type::String)));
    Schema::new()
        .attr("from_port", AttrSchema::required(Type::Number))
        .attr("to_port", AttrSchema::required(Type::Number))
        .attr("protocol", AttrSchema::required(Type::String))
        .attr("cidr_blocks", list())
        .attr("ipv6_cidr_blocks", list())
        .attr("prefix_list_ids", list())
        .attr("security_groups", AttrSchema::optional(Type::Set(Box::new(Type::String))))
        .attr("self", AttrSchema::optional(Type::Bool))
        .attr("description", AttrSchema::optional(Type::String))
}

fn rules_of(v: &Value, block: &str) -> Vec<Rule> {
    canonical(v.get_attr(block).and_then(Value::as_seq).map(|s| s.iter().map(Rule::from_value).collect()).unwrap_or_default())
}

fn rules_value(rules: &[Rule]) -> Value {
    Value::set(rules.iter().map(Rule::to_value).collect())
}

fn security_group_value(c: &Clients, g: &aws_sdk_ec2::types::SecurityGroup, prior: Option<&Value>) -> Value {
    let id = g.group_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let all = tags_of(g.tags());
    Value::object([
        ("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:security-group/{id}", c.region))),
        ("description", Value::string(g.description().unwrap_or_default())),
        ("egress", rules_value(&rules_from_permissions(g.ip_permissions_egress(), &id))),
        ("id", Value::string(id.clone())),
        ("ingress", rules_value(&rules_from_permissions(g.ip_permissions(), &id))),
        ("name", Value::string(g.group_name().unwrap_or_default())),
        // The recorded prefix while the name still starts with it.
        (
            "name_prefix",
            prior
                .and_then(|p| attrs::string(p, "name_prefix"))
                .filter(|prefix| g.group_name().is_some_and(|n| n.starts_with(prefix.as_str())))
                .map(Value::string)
                .unwrap_or(Value::Null),
        ),
        ("owner_id", Value::string(owner)),
        ("revoke_rules_on_delete", prior.and_then(|p| p.get_attr("revoke_rules_on_delete")).cloned().unwrap_or(Value::Null)),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        ("vpc_id", g.vpc_id().map(Value::string).unwrap_or(Value::Null)),
    ])
}

/// The egress rule AWS adds to every new VPC group, which Terraform removes unless configured.
fn default_egress() -> Rule {
    Rule { cidrs: vec!["0.0.0.0/0".into()], ..Rule::empty("-1".into(), 0, 0, None) }
}

/// Revokes and authorizes rules of one direction. A rule already as wanted (authorized by a
/// call re-sent after a lost answer, or by an interrupted run) is not an error: the batch is
/// then sent rule by rule, skipping those.
async fn change_rules(c: &Clients, id: &str, egress: bool, revoke: &[Rule], authorize: &[Rule]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (rules, add) in [(revoke, false), (authorize, true)] {
        if rules.is_empty() {
            continue;
        }
        let perms: Vec<_> = rules.iter().map(|r| r.to_permission(id)).collect();
        let already = if add { "InvalidPermission.Duplicate" } else { "InvalidPermission.NotFound" };
        match send_rules(c, id, egress, add, perms.clone()).await {
            Ok(()) => {}
            Err((Some(code), _)) if code == already && perms.len() > 1 => {
                for perm in perms {
                    match send_rules(c, id, egress, add, vec![perm]).await {
                        Err((code, d)) if code.as_deref() != Some(already) => diags.push(d),
                        _ => {}
                    }
                }
            }
            Err((Some(code), _)) if code == already => {}
            Err((_, d)) => diags.push(d),
        }
    }
    diags
}

async fn send_rules(c: &Clients, id: &str, egress: bool, add: bool, perms: Vec<aws_sdk_ec2::types::IpPermission>) -> Result<(), DeleteError> {
    if add {
        per_direction!(
            egress,
            c,
            (authorize_security_group_ingress, "AuthorizeSecurityGroupIngress"),
            (authorize_security_group_egress, "AuthorizeSecurityGroupEgress"),
            |b, name| b.group_id(id).set_ip_permissions(Some(perms)).send().await.map(|_| ()).map_err(|e| delete_error(name, &e))
        )
    } else {
        per_direction!(
            egress,
            c,
            (revoke_security_group_ingress, "RevokeSecurityGroupIngress"),
            (revoke_security_group_egress, "RevokeSecurityGroupEgress"),
            |b, name| b.group_id(id).set_ip_permissions(Some(perms)).send().await.map(|_| ()).map_err(|e| delete_error(name, &e))
        )
    }
}

/// Moves a group's rules from `old` to `new` (both canonical), per direction; the first error.
async fn sync_rules(c: &Clients, id: &str, old: &Value, new: &Value) -> Result<(), Diagnostic> {
    let mut diags = Vec::new();
    for (block, egress) in [("ingress", false), ("egress", true)] {
        let (o, n) = (rules_of(old, block), rules_of(new, block));
        let revoke: Vec<Rule> = o.iter().filter(|r| !n.contains(r)).cloned().collect();
        let authorize: Vec<Rule> = n.iter().filter(|r| !o.contains(r)).cloned().collect();
        diags.extend(change_rules(c, id, egress, &revoke, &authorize).await);
    }
    diags.into_iter().next().map_or(Ok(()), Err)
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for SecurityGroup {
    fn name(&self) -> &'static str {
        "aws_security_group"
    }

    fn schema(&self) -> Schema {
        let rules = || BlockSchema { nesting: Nesting::Set, min_items: 0, max_items: usize::MAX, force_new: false, schema: rule_schema() };
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("owner_id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("name_prefix", AttrSchema::optional_computed(Type::String).force_new())
            .attr("description", AttrSchema::optional(Type::String).force_new().default(Value::string(SG_DEFAULT_DESCRIPTION)))
            .attr("vpc_id", AttrSchema::optional_computed(Type::String).force_new())
            .attr("revoke_rules_on_delete", AttrSchema::optional(Type::Bool))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .attr_as_blocks("ingress", rules())
            .attr_as_blocks("egress", rules())
            .block("timeouts", timeouts_block(&["create", "delete"]))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_timeouts(config);
        out.extend(conflicting(config, "name", "name_prefix", Some("name_prefix makes a name")));
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        if let Value::Object(m) = &mut resp.planned {
            // The configured rules in canonical form.
            for block in ["ingress", "egress"] {
                if let Some(v) = m.get(block).filter(|v| !v.is_null() && v.is_wholly_known()) {
                    let rules = canonical(v.as_seq().map(|s| s.iter().map(Rule::from_value).collect()).unwrap_or_default());
                    m.insert(block.to_string(), rules_value(&rules));
                }
            }
            // A direction with neither blocks nor the argument is not managed: it follows AWS
            // (`ingress = []` manages it: no rules).
            for block in ["ingress", "egress"] {
                if m.get(block).is_none_or(Value::is_null) {
                    let follow = prior.and_then(|p| p.get_attr(block)).cloned().unwrap_or(Value::Unknown);
                    m.insert(block.to_string(), follow);
                }
            }
        }
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        // Unnamed: the prefix (or infra-) and a suffix from the create token, as
        // terraform-provider-aws adds a unique suffix of 26 characters.
        let suffix = |n: usize| token.replace('-', "").chars().take(n).collect::<String>();
        let name = attrs::string(p, "name").unwrap_or_else(|| match attrs::string(p, "name_prefix") {
            Some(prefix) => format!("{prefix}{}", suffix(26)),
            None => format!("infra-{}", suffix(20)),
        });
        let out = c
            .clients()?
            .once
            .ec2
            .create_security_group()
            .group_name(name)
            .description(attrs::string(p, "description").unwrap_or_else(|| SG_DEFAULT_DESCRIPTION.into()))
            .set_vpc_id(attrs::string(p, "vpc_id"))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::SecurityGroup, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("CreateSecurityGroup", &e))?;
        Ok(with_id(p, out.group_id().unwrap_or_default()))
    }

    /// The configured rules. AWS gives every new VPC group an allow-all egress rule; the
    /// configuration decides.
    async fn converge(&self, c: &AwsProvider, created: &Value, planned: &Value) -> Outcome<()> {
        let mut start = Value::object([("ingress", Value::Null), ("egress", Value::Null)]);
        if attrs::string(planned, "vpc_id").is_some() || planned.get_attr("vpc_id").is_some_and(Value::is_unknown) {
            start = Value::object([("ingress", Value::Null), ("egress", rules_value(&[default_egress()]))]);
        }
        Ok(sync_rules(c.clients()?, &attrs::req_string(created, "id")?, &start, planned).await?)
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_security_groups(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|g| security_group_value(c, g, Some(p)))).collect())
    }

    // One DescribeSecurityGroups (filtered by VPC) for the whole scope.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_security_groups(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found
            .values()
            .filter(|g| crate::discover::include_defaults(filter) || g.group_name() != Some("default"))
            .map(|g| crate::discover::discovered(g.group_id().unwrap_or_default(), g.group_name(), &tags_of(g.tags())))
            .collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        diagnostics.extend(sync_rules(c, &id, prior, planned).await.err());
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        if attrs::bool(prior, "revoke_rules_on_delete") == Some(true) {
            let none = Value::object([("ingress", Value::Null), ("egress", Value::Null)]);
            sync_rules(c, &id, prior, &none).await?;
        }
        delete_retrying(&id, || async {
            c.ec2.delete_security_group().group_id(&id).send().await.map(|_| ()).map_err(|e| delete_error("DeleteSecurityGroup", &e))
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_security_groups(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
