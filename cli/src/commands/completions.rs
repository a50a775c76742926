//! `infra completions SHELL`: shell completions generated from the command definitions.

use crate::out::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: clap_complete::Shell,
}

pub fn run(a: Args) -> Result<i32, Exit> {
    use clap::CommandFactory;
    clap_complete::generate(a.shell, &mut super::Cli::command(), "infra", &mut std::io::stdout());
    Ok(0)
}
