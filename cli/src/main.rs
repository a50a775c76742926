//! The `infra` command: `main` → `run() -> Result` → exit code. `commands` parse arguments
//! and call `ops` or the engine; `render` and `json` shape what is printed.

mod commands;
mod drift_report;
mod interrupts;
mod json;
mod ops;
mod out;
mod progress;
mod render;

use infra_lang::diag::Diagnostic;
use infra_lang::source::SourceMap;
use out::{Exit, Out};
use render::Style;
use std::path::PathBuf;

/// Reserved (not committed) stack for the main work: enough for the deepest expression the
/// parser's input limits allow.
const STACK_BYTES: usize = 1 << 30;

fn main() {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`infra plan | head`) instead of failing on a broken pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Parsing and evaluation recurse along nested expressions; the input limits in
    // `infra_lang::parse` bound the depth, and this stack is sized for those bounds.
    let worker = std::thread::Builder::new().name("infra".into()).stack_size(STACK_BYTES).spawn(|| match run() {
        Ok(c) => c,
        Err(Exit(c)) => c,
    });
    let code = match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => 101,
        Err(e) => {
            eprintln!("infra: cannot start: {e}");
            1
        }
    };
    // For bench/: what the s3 backend sent.
    if std::env::var_os("INFRA_S3_STATS").is_some() {
        use std::sync::atomic::Ordering;
        eprintln!(
            "s3 backend: {} requests, {} bytes sent",
            infra_state_s3::REQUESTS.load(Ordering::Relaxed),
            infra_state_s3::BYTES_SENT.load(Ordering::Relaxed)
        );
    }
    std::process::exit(code);
}

fn run() -> Result<i32, Exit> {
    let cli = commands::parse();
    // Like terraform -chdir: relative paths in the stack resolve against the stack directory.
    let style = || Style { color: !cli.no_color && Style::from_env().color };
    let early = Out { sources: SourceMap::new(), base: PathBuf::from("."), style: style() };
    std::env::set_current_dir(&cli.chdir)
        .map_err(|e| early.fail(Diagnostic::error("Cannot change directory", format!("--chdir {} failed: {e}.", cli.chdir.display()))))?;
    let dir = std::env::current_dir().map_err(|e| early.fail(Diagnostic::error("Cannot read the working directory", e.to_string())))?;
    let out = Out { sources: SourceMap::new(), base: dir.clone(), style: style() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| out.fail(Diagnostic::error("Cannot start", e.to_string())))?;
    commands::run(cli.command, &commands::Cx { dir, out, rt })
}
