//! `infra discover aws` / `infra discover vps`: lists what exists in a region or on a host and
//! writes a stack for it (resources, references between them, one `import` block per object),
//! which then plans as imports only.

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
    /// EFS, load balancers, ECS, IAM roles, log groups, ECR, Secrets Manager) and write a stack
    /// that imports it.
    Aws(AwsArgs),
    /// List a host over SSH (systemd units and nginx sites and cron files not shipped by
    /// Debian packages, UFW and its rules, compose projects, files under --path) and write a
    /// stack that imports it.
    Vps(VpsArgs),
}

#[derive(clap::Args)]
pub struct VpsArgs {
    /// The host to reach over SSH (name or address).
    #[arg(long)]
    pub host: String,
    /// The SSH port (22 when not given).
    #[arg(long)]
    pub port: Option<i64>,
    /// The user to log in as (root when not given).
    #[arg(long)]
    pub user: Option<String>,
    /// The private key file to log in with.
    #[arg(long = "private-key-file", visible_alias = "identity-file", value_name = "FILE")]
    pub private_key_file: Option<String>,
    /// Log in with the keys of the running ssh-agent.
    #[arg(long)]
    pub agent: bool,
    /// The host's public key line, as ssh-keyscan prints it (`ssh-ed25519 AAAA…`).
    #[arg(long = "host-key", value_name = "KEY")]
    pub host_key: Option<String>,
    /// A known_hosts file holding the host's key.
    #[arg(long = "known-hosts-file", value_name = "FILE")]
    pub known_hosts_file: Option<String>,
    /// Run every command through sudo (a user other than root).
    #[arg(long)]
    pub sudo: bool,
    /// Also list the files and directories under this absolute path (repeatable), as vps_file
    /// and vps_directory.
    #[arg(long = "path", value_name = "PREFIX")]
    pub paths: Vec<String>,
    /// Only this type (repeatable), e.g. vps_compose_stack.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// The directory to write the stack into (new, or without .tf files).
    #[arg(long)]
    pub out: PathBuf,
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
    let a = match a.cloud {
        Cloud::Aws(a) => a,
        Cloud::Vps(v) => return run_vps(v, cx),
    };
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
    written(cx, &a.out, &found)
}

/// Writes the stack found and says where.
fn written(cx: &Cx, out: &std::path::Path, found: &ops::discover::Discovered) -> Result<i32, Exit> {
    let dir = cx.dir.join(out);
    ops::discover::write(&dir, found).map_err(|d| cx.fail(d))?;
    cx.out.diags(&infra_lang::diag::Diagnostics(found.warnings.clone()));
    println!("Discovered {} objects; wrote {} to {}.", found.objects, found.files.keys().cloned().collect::<Vec<_>>().join(", "), dir.display());
    println!("Run infra plan there: it should show only imports.");
    Ok(0)
}

fn run_vps(a: VpsArgs, cx: &Cx) -> Result<i32, Exit> {
    // Relative key and known_hosts files are written as absolute paths: the stack may be
    // planned from its own directory.
    let abs = |f: Option<String>| f.map(|f| if f.starts_with('/') { f } else { cx.dir.join(&f).display().to_string() });
    let opts = ops::discover::vps::VpsOptions {
        host: a.host,
        port: a.port,
        user: a.user,
        private_key_file: abs(a.private_key_file),
        agent: a.agent,
        host_key: a.host_key,
        known_hosts_file: abs(a.known_hosts_file),
        sudo: a.sudo,
        paths: a.paths,
        types: a.types,
    };
    let found = ops::discover::vps::discover_vps(&cx.rt, &ops::stack::registry(), &opts).map_err(|d| cx.fail(d))?;
    written(cx, &a.out, &found)
}
