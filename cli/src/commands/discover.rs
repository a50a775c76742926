//! `infra discover aws`: lists what exists in a region and writes a stack for it (resources,
//! references between them, one `import` block per object), which then plans as imports only.

use super::Cx;
use crate::ops;
use crate::out::Exit;
use infra_lang::diag::Diagnostic;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cloud: Cloud,
}

#[derive(clap::Subcommand)]
pub enum Cloud {
    /// List an AWS region (VPCs, subnets, gateways, route tables, security groups, instances,
    /// EFS, load balancers) and write a stack that imports it.
    Aws(AwsArgs),
}

#[derive(clap::Args)]
pub struct AwsArgs {
    /// The region to list.
    #[arg(long)]
    pub region: String,
    /// Only objects in this VPC (repeatable).
    #[arg(long = "vpc-id", value_name = "ID")]
    pub vpc_ids: Vec<String>,
    /// Only objects with this tag (repeatable: all must match); untaggable objects stay when
    /// they reference one that does.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Only this type (repeatable), e.g. aws_subnet.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// One endpoint URL for every AWS service (an emulator such as moto); written into the
    /// provider block with the skip_* settings emulators need.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The shared-config profile to use; written into the provider block.
    #[arg(long)]
    pub profile: Option<String>,
    /// The provider's max_retries; written into the provider block.
    #[arg(long)]
    pub max_retries: Option<i64>,
    /// The directory to write the stack into (new, or without .tf files).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let Cloud::Aws(a) = a.cloud;
    let mut tags = Vec::new();
    for t in &a.tags {
        let Some((k, v)) = t.split_once('=') else {
            return Err(cx.fail(Diagnostic::error("Invalid tag filter", format!("--tag takes KEY=VALUE, not {t:?}."))));
        };
        tags.push((k.to_string(), v.to_string()));
    }
    let opts = ops::discover::AwsOptions {
        region: a.region,
        endpoint: a.endpoint,
        profile: a.profile,
        max_retries: a.max_retries,
        vpc_ids: a.vpc_ids,
        tags,
        types: a.types,
    };
    let found = ops::discover::discover_aws(&cx.rt, &ops::stack::registry(), &opts).map_err(|d| cx.fail(d))?;
    let dir = cx.dir.join(&a.out);
    ops::discover::write(&dir, &found).map_err(|d| cx.fail(d))?;
    println!("Discovered {} objects; wrote {} to {}.", found.objects, found.files.keys().cloned().collect::<Vec<_>>().join(", "), dir.display());
    println!("Run infra plan there: it should show only imports.");
    Ok(0)
}
