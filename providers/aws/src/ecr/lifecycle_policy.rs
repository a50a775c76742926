//! `aws_ecr_lifecycle_policy`: the lifecycle policy of one repository, whose name is its id
//! and import id. `policy` is compared by meaning. ECR has no batch read of policies: one
//! `GetLifecyclePolicy` per repository, concurrently. `PutLifecyclePolicy` is idempotent, so an
//! interrupted create simply runs again.

use super::*;
use crate::iam::{plan_policy, policy_value, validate_policy};
use crate::AwsProvider;
use infra_provider::resource::with_id;

pub struct LifecyclePolicy;

async fn get_policy(c: &Clients, repo: String) -> Result<Option<(String, String)>, Diagnostic> {
    match c.ecr.get_lifecycle_policy().repository_name(&repo).send().await {
        Ok(r) => Ok(r.lifecycle_policy_text().map(|t| (t.to_string(), r.registry_id().unwrap_or_default().to_string()))),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(api_error("GetLifecyclePolicy", &e)),
    }
}

async fn put_policy(c: &Clients, repo: &str, p: &Value) -> Result<(), Diagnostic> {
    c.ecr
        .put_lifecycle_policy()
        .repository_name(repo)
        .lifecycle_policy_text(attrs::req_string(p, "policy")?)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("PutLifecyclePolicy", &e))
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for LifecyclePolicy {
    fn name(&self) -> &'static str {
        "aws_ecr_lifecycle_policy"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("repository", AttrSchema::required(Type::String).force_new())
            .attr("policy", AttrSchema::required(Type::String))
            .attr("registry_id", AttrSchema::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_policy(config, "policy")
    }

    fn plan(&self, _c: &AwsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut resp = plan_helpers::default_plan(&self.schema(), prior, config);
        plan_policy(&mut resp.planned, prior, "policy");
        resp
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let repo = attrs::req_string(p, "repository")?;
        put_policy(c.clients()?, &repo, p).await?;
        Ok(with_id(p, &repo))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let ids: Vec<String> = objects.iter().map(id_of).filter(|i| !i.is_empty()).collect();
        let found = per_object(c, &ids, |c, repo| async move { get_policy(&c, repo).await }).await?;
        Ok(objects
            .iter()
            .map(|o| {
                let id = id_of(o);
                let (text, registry) = found.get(&id).cloned().flatten()?;
                Some(Value::object([
                    ("id", Value::string(&id)),
                    ("repository", Value::string(&id)),
                    ("registry_id", Value::string(registry)),
                    ("policy", policy_value(&text, Some(o), "policy")),
                ]))
            })
            .collect())
    }

    // A repository holds one policy: the one an interrupted create put is adopted (the plan then
    // shows any difference from the configuration as an update, as a second put would make it).
    async fn adopt(&self, c: &AwsProvider, _token: &str, planned: &Value) -> Outcome<Option<Value>> {
        let repo = attrs::req_string(planned, "repository")?;
        Ok(get_policy(c.clients()?, repo.clone()).await?.map(|_| with_id(planned, &repo)))
    }

    // Every repository of the registry that has a policy.
    async fn discover(&self, c: &AwsProvider, _filter: &BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        let c = c.clients()?;
        let repos: Vec<String> = describe_repositories(c, &[]).await?.into_keys().collect();
        let found = per_object(c, &repos, |c, repo| async move { get_policy(&c, repo).await }).await?;
        Ok(found.into_iter().filter(|(_, p)| p.is_some()).map(|(r, _)| crate::discover::discovered(&r, Some(&r), &BTreeMap::new())).collect())
    }

    async fn update(&self, c: &AwsProvider, prior: &Value, p: &Value) -> Outcome<()> {
        Ok(put_policy(c.clients()?, &attrs::req_string(prior, "id")?, p).await?)
    }

    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        match c.clients()?.ecr.delete_lifecycle_policy().repository_name(attrs::req_string(prior, "id")?).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("DeleteLifecyclePolicy", &e).into()),
        }
    }
}
