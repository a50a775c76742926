//! Planning cases as data, checked at the engine API: one folder per case under
//! `tests/cases/` (`main.tf`, optional `state.json`), the plan rendered as compact text
//! (address, action, reason, execution order) and compared with the case's `plan.txt`.
//! `UPDATE_EXPECT=1` rewrites the snapshots.

use infra_core::apply::{apply, ApplyOptions, FaultAction, FaultPoint};
use infra_core::plan::{plan, ExecNode, Plan, PlanOptions, ResourceChange};
use infra_core::walk::Ctx;
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_provider::Registry;
use infra_state::{LocalBackend, StateFile};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(case)
}

fn load(dir: &Path) -> Ctx {
    let mut registry = Registry::new();
    registry.register("terraform", infra_provider_terraform::factory());
    infra_core::load(dir, &registry, BTreeMap::new(), Phase::Plan, &SourceMap::new()).unwrap_or_else(|d| panic!("{d:?}"))
}

/// The case's starting state, in a backend of its own so that nothing writes into the case.
fn backend(case: &str, tmp: &Path) -> LocalBackend {
    let path = tmp.join("infra.tfstate");
    if let Ok(text) = std::fs::read_to_string(case_dir(case).join("state.json")) {
        std::fs::write(&path, text).unwrap();
    }
    LocalBackend::new(path)
}

async fn plan_of(ctx: &Ctx, state: &StateFile) -> Plan {
    plan(ctx, state, &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap_or_else(|d| panic!("{d:?}"))
}

fn change_line(c: &ResourceChange) -> String {
    format!("{} {} {:?}", c.addr, c.action.verb(), c.reason) + if c.action.is_replace() { format!(" ({})", c.action.symbol()) } else { String::new() }.as_str()
}

/// The plan as text: every change that does something, then the execution order of the
/// resource operations, each with the operations it waits for.
fn render(ctx: &Ctx, p: &Plan) -> String {
    let mut out = String::new();
    for c in p.changes.iter().filter(|c| c.action != infra_core::plan::Action::NoOp) {
        out += &format!("{}\n", change_line(c));
    }
    for c in &p.deposed {
        out += &format!("{} (deposed object)\n", change_line(c));
    }
    let name = |e: usize| -> Option<String> {
        match &p.exec.nodes[e] {
            ExecNode::Config(n) => match &ctx.graph.nodes[*n].kind {
                infra_core::graph::NodeKind::Resource(_) => Some(format!("apply {}", ctx.graph.nodes[*n])),
                _ => None,
            },
            ExecNode::Delete(a) => {
                let old = p.change(a).is_some_and(|c| c.action == infra_core::plan::Action::CreateThenDelete);
                Some(format!("delete {a}{}", if old { " (old object)" } else { "" }))
            }
            ExecNode::DeleteDeposed(i) => p.deposed.get(*i).map(|c| format!("delete {} (deposed object)", c.addr)),
        }
    };
    // The nearest shown operations each one waits for, looking through the hidden ones.
    let waits_for = |e: usize| -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack = p.exec.deps[e].clone();
        while let Some(d) = stack.pop() {
            if !seen.insert(d) {
                continue;
            }
            match name(d) {
                Some(n) => {
                    found.insert(n);
                }
                None => stack.extend(p.exec.deps[d].iter().copied()),
            }
        }
        found
    };
    // Kahn's order, ties broken by name, so the text does not depend on node numbering.
    let n = p.exec.nodes.len();
    let mut waiting: Vec<usize> = p.exec.deps.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<(String, usize)> = (0..n).filter(|&i| waiting[i] == 0).map(|i| (name(i).unwrap_or_default(), i)).collect();
    out += "order:\n";
    while let Some((_, e)) = ready.pop_first() {
        if let Some(shown) = name(e) {
            let waits: Vec<String> = waits_for(e).into_iter().collect();
            out += &format!("  {shown}{}\n", if waits.is_empty() { String::new() } else { format!(" after {}", waits.join(", ")) });
        }
        for (i, deps) in p.exec.deps.iter().enumerate() {
            if deps.contains(&e) {
                waiting[i] -= 1;
                if waiting[i] == 0 {
                    ready.insert((name(i).unwrap_or_default(), i));
                }
            }
        }
    }
    out
}

async fn check(case: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let state = backend(case, tmp.path()).read().unwrap().unwrap_or_default();
    let ctx = load(&case_dir(case));
    let p = plan_of(&ctx, &state).await;
    expect_test::expect_file![case_dir(case).join("plan.txt")].assert_eq(&render(&ctx, &p));
}

#[tokio::test]
async fn replace_destroy_first() {
    check("replace-destroy-first").await;
}

#[tokio::test]
async fn replace_create_before_destroy() {
    check("replace-create-before-destroy").await;
}

#[tokio::test]
async fn create_before_destroy_is_inherited_by_what_it_depends_on() {
    check("cbd-inheritance").await;
}

#[tokio::test]
async fn count_shrink_deletes_dependents_first() {
    check("count-shrink").await;
}

/// A create-before-destroy replacement stopped between its create and its delete leaves the
/// old object deposed in state; the next plan deletes it.
#[tokio::test]
async fn interrupted_create_before_destroy_leaves_a_deposed_object() {
    let case = "deposed";
    check(case).await;
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(case, tmp.path());
    let state = backend.read().unwrap().unwrap();
    let ctx = Arc::new(load(&case_dir(case)));
    let p = plan_of(&ctx, &state).await;
    let hook: infra_core::apply::FaultHook = Arc::new(|point| match point {
        FaultPoint::BeforeDelete { addr: "terraform_data.db" } => FaultAction::Stop,
        _ => FaultAction::Continue,
    });
    let res = apply(ctx.clone(), p, backend.clone(), ApplyOptions { fault_hook: Some(hook), ..Default::default() }, Arc::new(infra_core::hooks::NoHook)).await;
    assert!(res.diagnostics.has_errors(), "the stop is reported");
    assert_eq!(res.added, 1, "the new object was created before the stop");

    let state = backend.read().unwrap().unwrap();
    let p = plan_of(&ctx, &state).await;
    expect_test::expect_file![case_dir(case).join("plan-after-stop.txt")].assert_eq(&render(&ctx, &p));
}
