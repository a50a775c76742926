//! `aws_ecr_repository`. Its id is its name. Refresh: `DescribeRepositories` (one by name,
//! several by listing, 1000 a page); tags one `ListTagsForResource` per repository on a full
//! refresh only. `image_tag_mutability` and `image_scanning_configuration` change in place;
//! `encryption_configuration` forces a new repository; `force_delete` deletes one that still
//! holds images.

use super::*;
use crate::AwsProvider;
use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability};
use infra_provider::resource::with_id;
use std::time::Duration;

pub struct EcrRepository;

async fn tags_of(c: &Clients, arn: String) -> Result<BTreeMap<String, String>, Diagnostic> {
    match c.ecr.list_tags_for_resource().resource_arn(&arn).send().await {
        Ok(r) => Ok(user_tags(r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())))),
        Err(e) if gone(&e) => Ok(BTreeMap::new()),
        Err(e) => Err(api_error("ListTagsForResource", &e)),
    }
}

fn list_block(v: &Value, k: &str) -> Vec<Value> {
    v.get_attr(k).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default()
}

fn repo_value(c: &Clients, r: &Repository, all: &BTreeMap<String, String>, known: Option<&Value>) -> Value {
    let [tags, tags_all] = tag_attrs(all, known, &c.default_tags);
    let keep = |k: &str, default: Value| known.and_then(|p| p.get_attr(k)).filter(|v| !v.is_unknown()).cloned().unwrap_or(default);
    let scan_on_push = r.image_scanning_configuration().is_some_and(|s| s.scan_on_push());
    let (etype, key) = r
        .encryption_configuration()
        .map_or(("AES256".to_string(), None), |e| (e.encryption_type().as_str().to_string(), e.kms_key().filter(|k| !k.is_empty())));
    let scanning = vec![Value::object([("scan_on_push", Value::Bool(scan_on_push))])];
    let encryption = vec![Value::object([("encryption_type", Value::string(etype)), ("kms_key", opt_string(key))])];
    Value::object([
        ("id", Value::string(r.repository_name().unwrap_or_default())),
        ("name", Value::string(r.repository_name().unwrap_or_default())),
        ("arn", opt_string(r.repository_arn())),
        ("registry_id", opt_string(r.registry_id())),
        ("repository_url", opt_string(r.repository_uri())),
        ("image_tag_mutability", Value::string(r.image_tag_mutability().map_or("MUTABLE", |m| m.as_str()))),
        ("image_scanning_configuration", Value::List(scanning)),
        ("encryption_configuration", Value::List(encryption)),
        ("force_delete", keep("force_delete", Value::Bool(false))),
        ("timeouts", keep("timeouts", Value::Null)),
        tags,
        tags_all,
    ])
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for EcrRepository {
    fn name(&self) -> &'static str {
        "aws_ecr_repository"
    }

    fn schema(&self) -> Schema {
        let s = AttrSchema::computed;
        let scanning = Schema::new().attr("scan_on_push", AttrSchema::required(Type::Bool));
        let encryption = Schema::new()
            .attr("encryption_type", AttrSchema::optional(Type::String).force_new().default(Value::string("AES256")))
            .attr("kms_key", AttrSchema::optional_computed(Type::String).force_new());
        Schema::new()
            .attr("id", s(Type::String))
            .attr("arn", s(Type::String))
            .attr("registry_id", s(Type::String))
            .attr("repository_url", s(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("force_delete", AttrSchema::optional(Type::Bool).default(Value::Bool(false)))
            .attr("image_tag_mutability", AttrSchema::optional(Type::String).default(Value::string("MUTABLE")))
            .attr("tags", AttrSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("tags_all", AttrSchema::computed(Type::Map(Box::new(Type::String))))
            .block("image_scanning_configuration", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: 1, force_new: false, schema: scanning })
            .block("encryption_configuration", BlockSchema { nesting: Nesting::List, min_items: 0, max_items: usize::MAX, force_new: true, schema: encryption })
            .block("timeouts", timeouts_block(&["delete"]))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut out = validate_timeouts(config);
        if let Some(m) = attrs::string(config, "image_tag_mutability")
            .filter(|m| !["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"].contains(&m.as_str()))
        {
            out.push(
                Diagnostic::error("Invalid value", format!("image_tag_mutability is {m:?}; expected MUTABLE or IMMUTABLE."))
                    .with_path(attrs::at("image_tag_mutability")),
            );
        }
        for e in list_block(config, "encryption_configuration") {
            if let Some(t) = attrs::string(&e, "encryption_type").filter(|t| !["AES256", "KMS", "KMS_DSSE"].contains(&t.as_str())) {
                out.push(
                    Diagnostic::error("Invalid value", format!("encryption_type is {t:?}; expected AES256, KMS or KMS_DSSE."))
                        .with_path(vec![PathStep::Attr("encryption_configuration".into()), PathStep::Attr("encryption_type".into())]),
                );
            }
        }
        out
    }

    fn plan(&self, c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            // A block left out is what AWS has (terraform-provider-aws suppresses the diff of a
            // missing optional block): the recorded one, or AWS's default on create.
            let defaults = [
                ("image_scanning_configuration", Value::object([("scan_on_push", Value::Bool(false))])),
                ("encryption_configuration", Value::object([("encryption_type", Value::string("AES256")), ("kms_key", Value::Null)])),
            ];
            for (k, default) in defaults {
                if m.get(k).and_then(Value::as_seq).is_none_or(<[Value]>::is_empty) {
                    let kept = prior.and_then(|p| p.get_attr(k)).filter(|v| v.as_seq().is_some_and(|s| !s.is_empty())).cloned();
                    m.insert(k.into(), kept.unwrap_or_else(|| Value::List(vec![default])));
                }
            }
            // An encryption block's defaults, as AWS reports them: AES256 has no key; KMS
            // without one uses AWS's managed key (the recorded one, or known once made).
            if let Some(Value::List(items)) = m.get("encryption_configuration").cloned() {
                let old = prior.and_then(|p| p.get_attr("encryption_configuration")).and_then(Value::as_seq).map(<[Value]>::to_vec).unwrap_or_default();
                let filled: Vec<Value> = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let Value::Object(mut e) = item else { return item };
                        attrs::set_default(&mut e, "encryption_type", Value::string("AES256"));
                        if e.get("kms_key").is_none_or(Value::is_null) {
                            let etype = e.get("encryption_type").and_then(Value::as_str).map(str::to_string);
                            let recorded = old.get(i).filter(|o| attrs::string(o, "encryption_type") == etype).and_then(|o| o.get_attr("kms_key")).cloned();
                            let key = if etype.as_deref() == Some("AES256") { Value::Null } else { recorded.unwrap_or(Value::Unknown) };
                            e.insert("kms_key".into(), key);
                        }
                        Value::Object(e)
                    })
                    .collect();
                m.insert("encryption_configuration".into(), Value::List(filled));
            }
        }
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, &cfg);
        plan_tags_all(&mut resp.planned, &c.default_tags());
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, token: &str) -> Outcome<Value> {
        let name = attrs::req_string(p, "name")?;
        let scanning = list_block(p, "image_scanning_configuration")
            .first()
            .map(|s| ImageScanningConfiguration::builder().scan_on_push(attrs::bool(s, "scan_on_push").unwrap_or(false)).build());
        let encryption = match list_block(p, "encryption_configuration").first() {
            Some(e) => Some(
                EncryptionConfiguration::builder()
                    .encryption_type(EncryptionType::from(attrs::string(e, "encryption_type").unwrap_or_else(|| "AES256".into()).as_str()))
                    .set_kms_key(attrs::string(e, "kms_key"))
                    .build()
                    .map_err(|e| Diagnostic::error("Invalid encryption configuration", e.to_string()))?,
            ),
            None => None,
        };
        c.clients()?
            .once
            .ecr
            .create_repository()
            .repository_name(&name)
            .set_image_tag_mutability(attrs::string(p, "image_tag_mutability").map(|m| ImageTagMutability::from(m.as_str())))
            .set_image_scanning_configuration(scanning)
            .set_encryption_configuration(encryption)
            .set_tags(Some(ecr_tags(&attrs::string_map(p, "tags_all"), Some(token))?))
            .send()
            .await
            .map_err(|e| create_error("CreateRepository", &e))?;
        Ok(with_id(p, &name))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).collect();
        let found = describe_repositories(c, &ids).await?;
        let present: Vec<String> = ids.iter().filter(|i| found.contains_key(*i)).cloned().collect();
        let (mut tags, missing) = split_recorded(&present, full, |id| {
            let o = objects.iter().find(|o| id_of(o) == id)?;
            o.get_attr("tags_all").filter(|t| !t.is_null() && !t.is_unknown()).map(|t| attrs::map_of(Some(t)))
        });
        let arns: Vec<String> = missing.iter().filter_map(|n| found.get(n)?.repository_arn().map(str::to_string)).collect();
        let by_arn = per_object(c, &arns, |c, arn| async move { tags_of(&c, arn).await }).await?;
        for n in &missing {
            if let Some(t) = found.get(n).and_then(|r| by_arn.get(r.repository_arn()?)) {
                tags.insert(n.clone(), t.clone());
            }
        }
        Ok(ids.iter().zip(objects).map(|(id, o)| found.get(id).map(|r| repo_value(c, r, &tags.get(id).cloned().unwrap_or_default(), Some(o)))).collect())
    }

    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let found = describe_repositories(c.clients()?, &[]).await?;
        Ok(found.keys().map(|n| crate::discover::discovered(n, Some(n), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let changed = |k: &str| p.get_attr(k).is_some_and(|v| !v.is_unknown() && prior.get_attr(k).is_none_or(|o| !o.equals(v)));
        if changed("image_tag_mutability") {
            c.ecr
                .put_image_tag_mutability()
                .repository_name(&name)
                .image_tag_mutability(ImageTagMutability::from(attrs::string(p, "image_tag_mutability").unwrap_or_else(|| "MUTABLE".into()).as_str()))
                .send()
                .await
                .map_err(|e| api_error("PutImageTagMutability", &e))?;
        }
        if changed("image_scanning_configuration") {
            let on = list_block(p, "image_scanning_configuration").first().and_then(|s| attrs::bool(s, "scan_on_push")).unwrap_or(false);
            c.ecr
                .put_image_scanning_configuration()
                .repository_name(&name)
                .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(on).build())
                .send()
                .await
                .map_err(|e| api_error("PutImageScanningConfiguration", &e))?;
        }
        let (removed, set) = tag_changes(prior, p);
        if !removed.is_empty() || !set.is_empty() {
            let arn = attrs::req_string(prior, "arn")?;
            if !removed.is_empty() {
                c.ecr.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed)).send().await.map_err(|e| api_error("UntagResource", &e))?;
            }
            if !set.is_empty() {
                c.ecr.tag_resource().resource_arn(&arn).set_tags(Some(ecr_tags(&set, None)?)).send().await.map_err(|e| api_error("TagResource", &e))?;
            }
        }
        Ok(())
    }

    /// With `force_delete`, images go with it; without, AWS refuses while images remain.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        let (c, name) = (c.clients()?, attrs::req_string(prior, "id")?);
        let force = attrs::bool(prior, "force_delete") == Some(true);
        match c.ecr.delete_repository().repository_name(&name).force(force).send().await {
            Ok(_) => {}
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(api_error("DeleteRepository", &e).into()),
        }
        wait_for(&format!("repository {name} going away"), timeout(prior, "delete", Duration::from_secs(1200)), Duration::from_secs(2), || async {
            Ok(describe_repositories(c, std::slice::from_ref(&name)).await?.is_empty().then_some(()))
        })
        .await?;
        Ok(())
    }

    async fn adopt(&self, c: &AwsProvider, token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let c = c.clients()?;
        let name = attrs::req_string(planned, "name")?;
        let Some(r) = describe_repositories(c, std::slice::from_ref(&name)).await?.remove(&name) else { return Ok(None) };
        let tags = match c.ecr.list_tags_for_resource().set_resource_arn(r.repository_arn().map(str::to_string)).send().await {
            Ok(t) => t.tags().to_vec(),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("ListTagsForResource", &e).into()),
        };
        Ok(tags.iter().any(|t| t.key() == INTENT_TAG && t.value() == token).then(|| with_id(planned, &name)))
    }

    async fn confirm_create(&self, c: &AwsProvider, state: &Value, _token: &str) -> Outcome<()> {
        let arn = attrs::req_string(state, "arn")?;
        c.clients()?.ecr.untag_resource().resource_arn(arn).tag_keys(INTENT_TAG).send().await.map_err(|e| api_error("UntagResource", &e))?;
        Ok(())
    }
}
