//! `aws_instance`: one `DescribeInstances` per 200 ids and page (terminated instances count
//! as gone). RunInstances takes a ClientToken, but moto ignores it (and answers 500 to the
//! client-token filter), so instances carry the intent tag like the other EC2 types.

use super::*;

pub struct Instance;

/// Live instances among `ids` (or matching `filters`), keyed by id: terminated ones are gone.
async fn describe_instances(c: &Clients, ids: &[String], filters: Vec<Filter>) -> Result<BTreeMap<String, aws_sdk_ec2::types::Instance>, Diagnostic> {
    let mut out = BTreeMap::new();
    let chunks: Vec<Vec<String>> = if ids.is_empty() { vec![Vec::new()] } else { ids.chunks(CHUNK).map(<[String]>::to_vec).collect() };
    for chunk in chunks {
        let mut req = c.ec2.describe_instances().set_filters(Some(filters.clone()));
        if !chunk.is_empty() {
            req = req.filters(Filter::builder().name("instance-id").set_values(Some(chunk)).build());
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeInstances", &e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                let gone = i.state().and_then(|s| s.name()).is_some_and(|n| matches!(n.as_str(), "terminated" | "shutting-down"));
                if let (Some(id), false) = (i.instance_id(), gone) {
                    out.insert(id.to_string(), i.clone());
                }
            }
        }
    }
    Ok(out)
}

fn instance_value(c: &Clients, i: &aws_sdk_ec2::types::Instance, prior: Option<&Value>) -> Value {
    let id = i.instance_id().unwrap_or_default().to_string();
    let all = tags_of(i.tags());
    let groups = Value::set(i.security_groups().iter().filter_map(|g| g.group_id().map(Value::string)).collect());
    Value::object([
        ("ami", opt_string(i.image_id())),
        ("arn", Value::string(format!("arn:aws:ec2:{}::instance/{id}", c.region))),
        ("availability_zone", opt_string(i.placement().and_then(|p| p.availability_zone()))),
        ("id", Value::string(id)),
        ("instance_state", opt_string(i.state().and_then(|s| s.name()).map(|n| n.as_str()))),
        ("instance_type", opt_string(i.instance_type().map(|t| t.as_str()))),
        ("key_name", opt_string(i.key_name())),
        ("private_ip", opt_string(i.private_ip_address())),
        ("public_ip", opt_string(i.public_ip_address())),
        ("subnet_id", opt_string(i.subnet_id())),
        ("tags", own_tags(&all, prior.and_then(|p| p.get_attr("tags")), &c.default_tags)),
        ("tags_all", map_value(&all)),
        // AWS does not return user data with the instance; the configured value stands.
        ("user_data", prior.and_then(|p| p.get_attr("user_data")).cloned().unwrap_or(Value::Null)),
        ("vpc_security_group_ids", groups),
    ])
}

/// Polls until the instance reaches `want` (or disappears, for "terminated"), up to 10 min.
async fn wait_instance(c: &Clients, id: &str, want: &str) -> Result<(), Diagnostic> {
    wait_for(&format!("instance {id} reaching state {want}"), Duration::from_secs(600), Duration::from_secs(2), || async {
        let out = c.ec2.describe_instances().instance_ids(id).send().await;
        let state = match &out {
            Ok(o) => o.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string())),
            Err(e) if e.code().is_some_and(|c| c.ends_with(".NotFound")) => None,
            Err(e) => return Err(api_error("DescribeInstances", e)),
        };
        Ok(match state.as_deref() {
            Some(s) if s == want => Some(()),
            None if want == "terminated" => Some(()),
            _ => None,
        })
    })
    .await
}

/// In-place changes: the instance type (stop, modify, start) and the security groups.
async fn update_instance(c: &Clients, id: &str, prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let new_type = attrs::string(planned, "instance_type").filter(|t| attrs::string(prior, "instance_type").as_ref() != Some(t));
    if let Some(new_type) = new_type {
        let step = async {
            c.ec2.stop_instances().instance_ids(id).send().await.map_err(|e| api_error("StopInstances", &e))?;
            wait_instance(c, id, "stopped").await?;
            let t = aws_sdk_ec2::types::AttributeValue::builder().value(new_type).build();
            c.ec2.modify_instance_attribute().instance_id(id).instance_type(t).send().await.map_err(|e| api_error("ModifyInstanceAttribute", &e))?;
            c.ec2.start_instances().instance_ids(id).send().await.map_err(|e| api_error("StartInstances", &e))?;
            wait_instance(c, id, "running").await
        };
        if let Err(d) = step.await {
            diags.push(d);
        }
    }
    let groups = |v: &Value| v.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(v, "vpc_security_group_ids"));
    if let Some(new) = groups(planned).filter(|g| !g.is_empty() && Some(g) != groups(prior).as_ref()) {
        if let Err(e) = c.ec2.modify_instance_attribute().instance_id(id).set_groups(Some(new)).send().await {
            diags.push(api_error("ModifyInstanceAttribute", &e));
        }
    }
    diags
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for Instance {
    fn name(&self) -> &'static str {
        "aws_instance"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("arn", AttrSchema::computed(Type::String))
            .attr("ami", AttrSchema::required(Type::String).force_new())
            .attr("instance_type", AttrSchema::required(Type::String))
            .attr("subnet_id", AttrSchema::optional_computed(Type::String).force_new())
            .attr("availability_zone", AttrSchema::computed(Type::String))
            .attr("key_name", AttrSchema::optional(Type::String).force_new())
            .attr("user_data", AttrSchema::optional(Type::String).force_new())
            .attr("vpc_security_group_ids", AttrSchema::optional_computed(Type::Set(Box::new(Type::String))))
            .attr("private_ip", AttrSchema::computed(Type::String))
            .attr("public_ip", AttrSchema::computed(Type::String))
            .attr("instance_state", AttrSchema::computed(Type::String))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    /// RunInstances, then waiting until the instance runs.
    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let c = c.clients()?;
        let groups = p.get_attr("vpc_security_group_ids").and_then(Value::as_seq).map(|_| attrs::strings(p, "vpc_security_group_ids"));
        let out = c
            .once
            .ec2
            .run_instances()
            .image_id(attrs::req_string(p, "ami")?)
            .instance_type(aws_sdk_ec2::types::InstanceType::from(attrs::req_string(p, "instance_type")?.as_str()))
            .min_count(1)
            .max_count(1)
            .client_token(token)
            .set_subnet_id(attrs::string(p, "subnet_id"))
            .set_key_name(attrs::string(p, "key_name"))
            .set_user_data(attrs::string(p, "user_data").map(|u| aws_smithy_types::base64::encode(u.as_bytes())))
            .set_security_group_ids(groups.filter(|g| !g.is_empty()))
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Instance, &attrs::string_map(p, "tags_all"), token))
            .send()
            .await
            .map_err(|e| create_error("RunInstances", &e))?;
        let id = out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string();
        wait_instance(c, &id, "running").await?;
        Ok(with_id(p, &id))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_instances(c, &ids, Vec::new()).await?;
        Ok(ids.iter().zip(objects).map(|(id, p)| found.get(id).map(|i| instance_value(c, i, Some(p)))).collect())
    }

    // One DescribeInstances (filtered by VPC) for the whole scope.
    async fn discover(&self, c: &AwsProvider, filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_instances(c.clients()?, &[], crate::discover::vpc_filters(filter)).await?;
        Ok(found.values().map(|i| crate::discover::discovered(i.instance_id().unwrap_or_default(), None, &tags_of(i.tags()))).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        let mut diagnostics = update_tags(c, &id, prior, planned).await;
        diagnostics.extend(update_instance(c, &id, prior, planned).await.into_iter().next());
        Errors::check(diagnostics)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let c = c.clients()?;
        let id = attrs::req_string(prior, "id")?;
        delete_retrying(&id, || async {
            match c.ec2.terminate_instances().instance_ids(&id).send().await {
                Ok(_) => wait_instance(c, &id, "terminated").await.map_err(|d| (None, d)),
                Err(e) => Err(delete_error("TerminateInstances", &e)),
            }
        })
        .await
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let found = describe_instances(c.clients()?, &[], intent_filter(token)).await?;
        Ok(found.keys().next().map(|id| with_id(planned, id)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        Ok(drop_intent_tag(c.clients()?, state).await?)
    }
}
