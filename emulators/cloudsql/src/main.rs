//! `cloudsql-emulator`: a local Cloud SQL Admin API (v1 REST) whose instances are real
//! PostgreSQL servers, each on its own loopback address. `main` → `run() -> Result` → exit code.
//! The API itself is the library (`lib.rs`).

use app::App;
use clap::Parser;
use cloudsql_emulator::{api, app, pg, store, util};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A local Cloud SQL Admin API (v1 REST: instances, databases, users, operations, tiers, flags)
/// backed by real PostgreSQL servers.
///
/// Every instance is a PostgreSQL server started with initdb/pg_ctl (Debian's PostgreSQL; the
/// requested databaseVersion is reported, the server is the locally installed major version),
/// listening on its own loopback address 127.0.0.X on --pg-port, which the API reports as the
/// instance's PRIMARY IP address. Databases and users are created in it for real.
///
/// AUTHENTICATION: any bearer token (or none) is accepted; do not expose this server beyond
/// loopback.
#[derive(Parser)]
#[command(name = "cloudsql-emulator", version)]
struct Args {
    /// Address to serve the API on, e.g. 127.0.0.1:9050 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:9050")]
    listen: SocketAddr,
    /// Where instances, operations and PostgreSQL data directories are kept; a restart of the
    /// emulator with the same directory finds its instances and starts their servers again.
    #[arg(long)]
    data_dir: PathBuf,
    /// How long an operation takes from PENDING to DONE (RUNNING half-way).
    #[arg(long, default_value_t = 1000)]
    op_delay_ms: u64,
    /// The port each instance's PostgreSQL listens on (each on its own loopback address).
    #[arg(long, default_value_t = 5432)]
    pg_port: u16,
    /// Directory of initdb, pg_ctl, postgres and psql (default: the newest /usr/lib/postgresql/*/bin).
    #[arg(long)]
    pg_bin: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cloudsql-emulator: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudsql-emulator: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let pg = pg::Postgres::find(args.pg_bin)?;
    std::fs::create_dir_all(&args.data_dir).map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize().map_err(|e| format!("cannot resolve {}: {e}", args.data_dir.display()))?;
    pg.searchable_dir(&data_dir)?;
    if !pg.can_reach(&data_dir) {
        return Err(format!(
            "the postgres OS user cannot reach {}: make its parent directories searchable (chmod o+x) or pick another --data-dir",
            data_dir.display()
        ));
    }
    let store = store::Store::load(&data_dir)?;
    let app = Arc::new(App::new(data_dir, pg, args.pg_port, Duration::from_millis(args.op_delay_ms), store));
    let recovered = tokio::task::spawn_blocking({
        let app = app.clone();
        move || recover(&app)
    })
    .await
    .map_err(|e| format!("restarting the instances failed: {e}"))?;
    let result = serve(app.clone(), args.listen, recovered).await;
    stop_all(&app).await;
    result
}

/// After a restart: operations that were running end with an error, and every instance's
/// server is started again (or found still running).
fn recover(app: &App) -> usize {
    let mut store = app.store();
    for op in store.operations.iter_mut().filter(|o| o.resource["status"] != "DONE") {
        op.resource["status"] = json!("DONE");
        op.resource["endTime"] = json!(util::now_rfc3339());
        op.resource["error"] = json!({"kind": "sql#operationErrors", "errors": [{"kind": "sql#operationError", "code": "INTERNAL_ERROR",
            "message": "the emulator stopped while this operation was running"}]});
    }
    let mut started = 0;
    let mut to_start = Vec::new();
    let keys: Vec<String> = store.instances.keys().cloned().collect();
    for key in keys {
        let Some(inst) = store.instances.get_mut(&key) else { continue };
        inst.busy = None;
        match inst.resource["state"].as_str() {
            Some("PENDING_CREATE") => inst.resource["state"] = json!("FAILED"),
            Some("PENDING_DELETE") => inst.resource["state"] = json!("RUNNABLE"),
            _ => {}
        }
        if inst.resource["state"] != "RUNNABLE" || inst.resource["settings"]["activationPolicy"] == "NEVER" {
            continue;
        }
        let pgdata = store::pgdata(&app.data_dir, &inst.project, &inst.name);
        if app.pg.running(&pgdata) {
            started += 1;
        } else {
            to_start.push((inst.project.clone(), inst.name.clone(), inst.address.clone()));
        }
    }
    app.save(&store);
    drop(store);
    for (project, name, address) in to_start {
        match app.start_server(&project, &name, &address) {
            Ok(_) => started += 1,
            Err(e) => eprintln!("cloudsql-emulator: cannot start instance {project}/{name}: {e}"),
        }
    }
    started
}

async fn serve(app: Arc<App>, listen: SocketAddr, recovered: usize) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot read the listening address: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot catch SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot catch SIGINT: {e}"))?;
    // Tests and scripts wait for this line.
    println!("cloudsql-emulator listening on http://{local} (PostgreSQL {}, {recovered} instance(s) running)", app.pg.major());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let app = app.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| api::handle(app.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    Ok(())
}

/// Stops every instance's server (on SIGTERM/SIGINT and on exit).
async fn stop_all(app: &Arc<App>) {
    app.shutting_down.store(true, Ordering::SeqCst);
    // Work already running (an initdb, a server starting) finishes first, or its server
    // would outlive the emulator.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while app.working.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dirs: Vec<PathBuf> = app.store().instances.values().map(|i| store::pgdata(&app.data_dir, &i.project, &i.name)).collect();
    let stops: Vec<_> = dirs
        .into_iter()
        .map(|d| {
            let app = app.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = app.pg.stop(&d) {
                    eprintln!("cloudsql-emulator: {e}");
                }
            })
        })
        .collect();
    for s in stops {
        let _ = s.await;
    }
}
