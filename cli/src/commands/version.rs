//! `infra version [--json]` (also `infra --version`, `-version`, `-v`).

use crate::out::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Print the version as JSON, in the shape `terraform version -json` prints.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<i32, Exit> {
    let version = env!("CARGO_PKG_VERSION");
    let platform = platform();
    if a.json {
        // Terraform's keys; providers are built in, so there are no selections to list.
        let doc = serde_json::json!({
            "terraform_version": version,
            "platform": platform,
            "provider_selections": {},
            "terraform_outdated": false,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!("infra v{version}\non {platform}");
    }
    Ok(0)
}

/// `linux_amd64`, `darwin_arm64`...: Go's names for the OS and architecture, as Terraform prints.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}
