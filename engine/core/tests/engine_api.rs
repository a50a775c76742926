//! The engine through its public API, as the CLI uses it but with a recording hook: progress
//! reports for slow operations, the plan as data (actions, reasons, execution order), and the
//! test hook at apply's step boundaries.

use infra_core::apply::{apply, ApplyOptions};
use infra_core::hooks::Hook;
use infra_core::plan::{plan, Action, ExecNode, PlanOptions};
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_provider::Registry;
use infra_state::{LocalBackend, StateFile};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Hook for Recorder {
    fn apply_start(&self, addr: &str, action: Action) {
        self.events.lock().unwrap().push(format!("start {addr} {}", action.verb()));
    }
    fn apply_progress(&self, addr: &str, _action: Action, _elapsed: Duration) {
        self.events.lock().unwrap().push(format!("progress {addr}"));
    }
    fn apply_done(&self, addr: &str, action: Action, _elapsed: Duration, _id: Option<&str>, error: Option<&infra_lang::Diagnostic>) {
        self.events.lock().unwrap().push(format!("done {addr} {} {}", action.verb(), if error.is_some() { "error" } else { "ok" }));
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("local", infra_provider_local::factory());
    r.register("terraform", infra_provider_terraform::factory());
    r
}

/// Loads a stack. Relative file names in these stacks are absolute-ized by the test itself,
/// since tests share one process working directory.
fn load(dir: &std::path::Path, phase: Phase) -> infra_core::walk::Ctx {
    infra_core::load(dir, &registry(), BTreeMap::new(), phase, &SourceMap::new()).unwrap_or_else(|d| panic!("{d:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_create_reports_progress_until_it_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo_path = dir.path().join("in.fifo");
    let stack = format!(
        "resource \"local_file\" \"slow\" {{\n  filename = \"{}\"\n  source   = \"{}\"\n}}\n",
        dir.path().join("slow.txt").display(),
        fifo_path.display()
    );
    std::fs::write(dir.path().join("main.tf"), stack).unwrap();
    let fifo = std::ffi::CString::new(fifo_path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &StateFile::new(), &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        std::fs::write(fifo_path, "done\n").unwrap();
    });
    let opts = ApplyOptions { progress_every: Duration::from_millis(100), ..Default::default() };
    let res = apply(Arc::new(ctx), p, LocalBackend::new(dir.path().join("infra.tfstate")), opts, recorder.clone()).await;
    writer.join().unwrap();
    assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
    let events = recorder.events.lock().unwrap().clone();
    let progress = events.iter().filter(|e| *e == "progress local_file.slow").count();
    assert!(progress >= 2, "a create blocked for 0.7 s reports progress every 0.1 s: {events:?}");
    assert_eq!(events.first().map(String::as_str), Some("start local_file.slow create"));
    assert_eq!(events.last().map(String::as_str), Some("done local_file.slow create ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_before_destroy_orders_the_execution_graph() {
    let dir = tempfile::tempdir().unwrap();
    let stack = |trigger: &str| {
        format!("resource \"terraform_data\" \"db\" {{\n  triggers_replace = \"{trigger}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n\nresource \"terraform_data\" \"app\" {{\n  input = terraform_data.db.id\n}}\n")
    };
    std::fs::write(dir.path().join("main.tf"), stack("1")).unwrap();
    let backend = LocalBackend::new(dir.path().join("infra.tfstate"));
    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &StateFile::new(), &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let res = apply(Arc::new(ctx), p, backend.clone(), ApplyOptions::default(), Arc::new(Recorder::default())).await;
    assert!(!res.diagnostics.has_errors());

    std::fs::write(dir.path().join("main.tf"), stack("2")).unwrap();
    let state = backend.read().unwrap().unwrap();
    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &state, &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let db = p.changes.iter().find(|c| c.addr.name == "db").unwrap();
    assert_eq!(db.action, Action::CreateThenDelete);
    assert_eq!(db.replace_paths, vec!["triggers_replace".to_string()]);
    let app = p.changes.iter().find(|c| c.addr.name == "app").unwrap();
    assert_eq!(app.action, Action::Update, "app follows the new db id in place");
    // The old db is deleted only after the new one exists and app has moved to it.
    let delete = p.exec.nodes.iter().position(|n| matches!(n, ExecNode::Delete(a) if a.name == "db")).unwrap();
    let config_of = |name: &str| {
        p.exec.nodes.iter().position(|n| matches!(n, ExecNode::Config(i) if ctx.graph.nodes[*i].to_string() == format!("terraform_data.{name}"))).unwrap()
    };
    assert!(p.exec.deps[delete].contains(&config_of("db")) && p.exec.deps[delete].contains(&config_of("app")), "{:?}", p.exec);

    let recorder = Arc::new(Recorder::default());
    let res = apply(Arc::new(ctx), p, backend.clone(), ApplyOptions::default(), recorder.clone()).await;
    assert!(!res.diagnostics.has_errors());
    let events = recorder.events.lock().unwrap().clone();
    let pos = |e: &str| events.iter().position(|x| x == e).unwrap_or_else(|| panic!("{e} missing from {events:?}"));
    assert!(pos("done terraform_data.db create ok") < pos("start terraform_data.app update"));
    assert!(pos("done terraform_data.app update ok") < pos("start terraform_data.db (deposed object) delete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_hook_sees_every_step_boundary_and_a_stop_before_create_creates_nothing() {
    use infra_core::apply::{FaultAction, FaultPoint};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n").unwrap();
    let backend = LocalBackend::new(dir.path().join("infra.tfstate"));
    let run = |stop_before_create: bool| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let hook: infra_core::apply::FaultHook = Arc::new(move |point| {
            seen2.lock().unwrap().push(format!("{point:?}"));
            if stop_before_create && matches!(point, FaultPoint::BeforeCreate { .. }) {
                FaultAction::Stop
            } else {
                FaultAction::Continue
            }
        });
        (seen, ApplyOptions { fault_hook: Some(hook), ..Default::default() })
    };

    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &StateFile::new(), &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let (seen, opts) = run(true);
    let res = apply(Arc::new(ctx), p, backend.clone(), opts, Arc::new(Recorder::default())).await;
    assert!(res.diagnostics.has_errors(), "a stop is reported as an error");
    assert_eq!(seen.lock().unwrap().clone(), vec!["BeforeCreate { addr: \"terraform_data.a\" }"]);
    assert!(backend.read().unwrap().unwrap().resources.is_empty(), "nothing was created");

    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &backend.read().unwrap().unwrap(), &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let (seen, opts) = run(false);
    let res = apply(Arc::new(ctx), p, backend.clone(), opts, Arc::new(Recorder::default())).await;
    assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec!["BeforeCreate { addr: \"terraform_data.a\" }", "AfterCreate { addr: \"terraform_data.a\" }", "AfterJournalWrite { addr: \"terraform_data.a\" }",]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sees_stored_resources_and_evaluates_the_rest_over_them() {
    let dir = tempfile::tempdir().unwrap();
    let stack = "variable \"v\" {\n  default = \"x\"\n}\n\nlocals {\n  l = \"${var.v}-1\"\n}\n\nresource \"terraform_data\" \"a\" {\n  count = 2\n  input = \"${local.l}-${count.index}\"\n}\n\nmodule \"m\" {\n  source = \"./m\"\n  in     = terraform_data.a[1].output\n}\n";
    std::fs::write(dir.path().join("main.tf"), stack).unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::write(dir.path().join("m/main.tf"), "variable \"in\" {}\n\noutput \"out\" {\n  value = upper(var.in)\n}\n").unwrap();
    let backend = LocalBackend::new(dir.path().join("infra.tfstate"));
    let ctx = load(dir.path(), Phase::Plan);
    let p = plan(&ctx, &StateFile::new(), &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap();
    let res = apply(Arc::new(ctx), p, backend.clone(), ApplyOptions::default(), Arc::new(Recorder::default())).await;
    assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);

    let sources = SourceMap::new();
    let ctx = infra_core::load(dir.path(), &registry(), BTreeMap::new(), Phase::Console, &sources).unwrap_or_else(|d| panic!("{d:?}"));
    let console = infra_core::console::Console::new(&ctx, &backend.read().unwrap().unwrap()).unwrap();
    let eval = |text: &str| {
        let (file, e) = infra_lang::parse::parse_expr_source(&sources, "<test>", text);
        let expr = infra_lang::config::Expr { file, expr: Arc::new(e.unwrap()) };
        console.eval(&expr).unwrap_or_else(|d| panic!("{text}: {d:?}"))
    };
    assert_eq!(eval("local.l"), infra_lang::Value::string("x-1"));
    assert_eq!(eval("length(terraform_data.a)"), infra_lang::Value::int(2));
    assert_eq!(eval("terraform_data.a[1].output"), infra_lang::Value::string("x-1-1"));
    assert_eq!(eval("module.m.out"), infra_lang::Value::string("X-1-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_object_of_a_type_no_provider_knows_stops_every_plan_mode_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"kept\" {\n  input = 1\n}\n").unwrap();
    let ctx = load(dir.path(), Phase::Plan);
    let object = |ty: &str, name: &str, provider: &str| serde_json::json!({"mode": "managed", "type": ty, "name": name, "provider": provider, "instances": [{"attributes": {"id": "x"}}]});
    let state = serde_json::json!({
        "format_version": 1, "infra_version": "0.1.0", "serial": 3, "lineage": "l-1", "outputs": {}, "pending": [],
        "resources": [
            object("terraform_data", "kept", "terraform"),
            object("terraform_gone", "old", "terraform"),
            object("google_thing", "g", "google"),
        ],
    });
    let state = StateFile::from_slice(state.to_string().as_bytes()).unwrap();
    for mode in [infra_core::plan::PlanMode::Normal, infra_core::plan::PlanMode::RefreshOnly, infra_core::plan::PlanMode::Destroy] {
        let opts = PlanOptions { mode, ..Default::default() };
        let Err(diags) = plan(&ctx, &state, &opts, &infra_core::hooks::NoHook).await else { panic!("{mode:?}: planned around unknown types") };
        let errors: Vec<(Option<String>, String)> = diags.iter().filter(|d| d.is_error()).map(|d| (d.address.clone(), d.detail.clone())).collect();
        assert_eq!(errors.len(), 2, "{mode:?}: {errors:?}");
        assert_eq!(errors[0].0.as_deref(), Some("google_thing.g"));
        assert!(errors[0].1.contains("\"google\", which this build of infra does not include"), "{}", errors[0].1);
        assert_eq!(errors[1].0.as_deref(), Some("terraform_gone.old"));
        assert!(errors[1].1.contains("of type \"terraform_gone\", which the provider \"terraform\" does not support"), "{}", errors[1].1);
        assert!(errors[1].1.contains("infra state rm terraform_gone.old"), "{}", errors[1].1);
    }
}
