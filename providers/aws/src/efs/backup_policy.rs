//! `aws_efs_backup_policy`: one per file system, whose id it shares. No batch API: one
//! `DescribeBackupPolicy` per file system, concurrently, and only on a full refresh.
//! PutBackupPolicy is idempotent, so an interrupted create simply runs again.

use super::gone;
use crate::common::*;
use crate::config::Clients;
use crate::AwsProvider;
use aws_sdk_efs::types::{BackupPolicy as Policy, Status};
use infra_provider::resource::with_id;
use infra_provider::*;

pub struct BackupPolicy;

async fn backup_status(c: &Clients, fs: &str) -> Result<Option<String>, Diagnostic> {
    match c.efs.describe_backup_policy().file_system_id(fs).send().await {
        Ok(r) => Ok(r.backup_policy().map(|p| p.status().as_str().to_string())),
        // A file system that never had a policy reports PolicyNotFound: backups are disabled.
        Err(e) if code_of(&e).as_deref() == Some("PolicyNotFound") => Ok(Some("DISABLED".into())),
        Err(e) if gone(code_of(&e)) => Ok(None),
        Err(e) => Err(api_error("DescribeBackupPolicy", &e)),
    }
}

fn backup_value(fs: &str, status: &str) -> Value {
    Value::object([
        ("id", Value::string(fs)),
        ("file_system_id", Value::string(fs)),
        ("backup_policy", Value::List(vec![Value::object([("status", Value::string(status))])])),
    ])
}

fn policy_status(p: &Value) -> String {
    single_block(p, "backup_policy").and_then(|b| attrs::string(&b, "status")).unwrap_or_else(|| "ENABLED".into())
}

async fn put_backup_policy(c: &Clients, fs: &str, status: &str) -> Result<(), Diagnostic> {
    let policy = Policy::builder().status(Status::from(status)).build().map_err(|e| Diagnostic::error("Invalid backup policy", e.to_string()))?;
    c.efs.put_backup_policy().file_system_id(fs).backup_policy(policy).send().await.map(|_| ()).map_err(|e| api_error("PutBackupPolicy", &e))
}

#[async_trait::async_trait]
impl ResourceType<AwsProvider> for BackupPolicy {
    fn name(&self) -> &'static str {
        "aws_efs_backup_policy"
    }

    fn schema(&self) -> Schema {
        let policy = Schema::new().attr("status", AttrSchema::required(Type::String));
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("file_system_id", AttrSchema::required(Type::String).force_new())
            .block("backup_policy", BlockSchema { nesting: Nesting::List, min_items: 1, max_items: 1, force_new: false, schema: policy })
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match single_block(config, "backup_policy").and_then(|b| attrs::string(&b, "status")) {
            Some(status) if !["ENABLED", "DISABLED"].contains(&status.as_str()) => {
                vec![Diagnostic::error("Invalid value", format!("status is {status:?}; expected ENABLED or DISABLED.")).with_path(vec![
                    PathStep::Attr("backup_policy".into()),
                    PathStep::Index(0),
                    PathStep::Attr("status".into()),
                ])]
            }
            _ => Vec::new(),
        }
    }

    async fn create(&self, c: &AwsProvider, p: &Value, _token: &str) -> Outcome<Value> {
        let fs = attrs::req_string(p, "file_system_id")?;
        put_backup_policy(c.clients()?, &fs, &policy_status(p)).await?;
        Ok(with_id(p, &fs))
    }

    async fn read_many(&self, c: &AwsProvider, objects: &[Value], full: bool) -> Outcome<Vec<Option<Value>>> {
        let c = c.clients()?;
        let filesystems = unique(objects, "file_system_id");
        let (mut status, missing) = split_recorded(&filesystems, full, |fs| {
            let o = objects.iter().find(|o| attrs::string(o, "file_system_id").as_deref() == Some(fs))?;
            Some(Some(single_block(o, "backup_policy").and_then(|b| attrs::string(&b, "status"))?))
        });
        status.extend(per_object(c, &missing, |c, fs| async move { backup_status(&c, &fs).await }).await?);
        Ok(objects
            .iter()
            .map(|o| {
                let fs = attrs::string(o, "file_system_id").unwrap_or_default();
                status.get(&fs).cloned().flatten().map(|s| backup_value(&fs, &s))
            })
            .collect())
    }

    /// By id, which is the file system's (an import knows nothing else).
    async fn read_one(&self, c: &AwsProvider, known: &Value) -> Outcome<Option<Value>> {
        let id = id_of(known);
        Ok(backup_status(c.clients()?, &id).await?.map(|s| backup_value(&id, &s)))
    }

    async fn update(&self, c: &AwsProvider, _prior: &Value, p: &Value) -> Outcome<()> {
        Ok(put_backup_policy(c.clients()?, &attrs::req_string(p, "file_system_id")?, &policy_status(p)).await?)
    }

    /// Backups off; the file system went first, so did its policy.
    async fn delete(&self, c: &AwsProvider, prior: &Value) -> Outcome<()> {
        match put_backup_policy(c.clients()?, &attrs::req_string(prior, "file_system_id")?, "DISABLED").await {
            Err(d) if d.detail.contains("FileSystemNotFound") => Ok(()),
            other => Ok(other?),
        }
    }
}
