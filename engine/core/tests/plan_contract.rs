//! The plan is a contract: apply sends the values the plan showed (planning again only to
//! resolve what was unknown, and refusing a provider that then plans otherwise), uses the data
//! source values the plan read, and fails with Terraform's "Provider produced an inconsistent
//! result after apply" when a provider returns something else than a known planned value,
//! recording the object as it really is. Driven by a test-double provider, `double`.

use async_trait::async_trait;
use infra_core::apply::{apply, ApplyOptions, ApplyResult};
use infra_core::plan::{plan, Plan, PlanOptions};
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_provider::*;
use infra_state::LocalBackend;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Calls the double has answered, shared by every instance of it in a test process: each test
/// uses its own type names, so counts do not mix.
static PLANS: AtomicUsize = AtomicUsize::new(0);
static READS: AtomicUsize = AtomicUsize::new(0);

/// `double_echo`: stores `input`; `double_shout` returns `input` upper-cased (a provider that
/// normalizes at apply what it did not normalize in its plan); `double_stamp`: `stamp` is the
/// number of plan calls so far (a plan that is not a function of its inputs).
/// `data.double_counter`: `n` counts reads.
struct Double;

fn schema(stamp: bool) -> Schema {
    let s = Schema::new()
        .attr("id", AttrSchema::computed(Type::String))
        .attr("input", AttrSchema::optional(Type::String))
        .attr("secret", AttrSchema::optional(Type::String).sensitive());
    if stamp {
        s.attr("stamp", AttrSchema::computed(Type::Number))
    } else {
        s
    }
}

#[async_trait]
impl Provider for Double {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            resources: BTreeMap::from([
                ("double_echo".to_string(), schema(false)),
                ("double_shout".to_string(), schema(false)),
                ("double_stamp".to_string(), schema(true)),
            ]),
            data_sources: BTreeMap::from([("double_counter".to_string(), Schema::new().attr("n", AttrSchema::computed(Type::Number)))]),
            ..Default::default()
        }
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let stamp = req.type_name == "double_stamp";
        let mut resp = plan_helpers::default_plan(&schema(stamp), req.prior.as_ref(), &req.config);
        if let (true, Value::Object(m)) = (stamp, &mut resp.planned) {
            m.insert("stamp".into(), Value::int(PLANS.fetch_add(1, Ordering::SeqCst) as i64 + 1));
        }
        resp
    }

    fn journals_creates(&self) -> bool {
        false
    }

    async fn create(&self, req: CreateRequest) -> CreateResponse {
        let mut state = req.planned.deep_unmark();
        if let Value::Object(m) = &mut state {
            m.insert("id".into(), Value::string("obj-1"));
            if req.type_name == "double_shout" {
                for k in ["input", "secret"] {
                    if let Some(s) = m.get(k).and_then(Value::as_str).map(str::to_uppercase) {
                        m.insert(k.into(), Value::string(s));
                    }
                }
            }
        }
        CreateResponse { state: Some(state), diagnostics: Vec::new() }
    }

    async fn update(&self, req: UpdateRequest) -> UpdateResponse {
        UpdateResponse { state: Some(req.planned.deep_unmark()), diagnostics: Vec::new() }
    }

    async fn delete(&self, _req: DeleteRequest) -> DeleteResponse {
        DeleteResponse::default()
    }

    async fn read_many(&self, req: ReadManyRequest) -> ReadManyResponse {
        ReadManyResponse { objects: req.objects.into_iter().map(Some).collect(), diagnostics: Vec::new() }
    }

    async fn read_data(&self, _req: ReadDataRequest) -> ReadDataResponse {
        let n = READS.fetch_add(1, Ordering::SeqCst) + 1;
        ReadDataResponse { state: Value::object([("n", Value::int(n as i64))]), diagnostics: Vec::new() }
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("double", Arc::new(|| Box::new(Double) as Box<dyn Provider>));
    r.register("terraform", infra_provider_terraform::factory());
    r
}

struct Run {
    dir: tempfile::TempDir,
    ctx: Arc<infra_core::walk::Ctx>,
}

fn stack(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), text).unwrap();
    let ctx = infra_core::load(dir.path(), &registry(), BTreeMap::new(), Phase::Plan, &SourceMap::new()).unwrap_or_else(|d| panic!("{d:?}"));
    Run { dir, ctx: Arc::new(ctx) }
}

impl Run {
    fn backend(&self) -> LocalBackend {
        LocalBackend::new(self.dir.path().join("infra.tfstate"))
    }

    async fn plan(&self) -> Plan {
        let state = self.backend().read().unwrap().unwrap_or_default();
        plan(&self.ctx, &state, &PlanOptions::default(), &infra_core::hooks::NoHook).await.unwrap_or_else(|d| panic!("{d:?}"))
    }

    async fn apply(&self, p: Plan) -> ApplyResult {
        apply(self.ctx.clone(), p, self.backend(), ApplyOptions::default(), Arc::new(infra_core::hooks::NoHook)).await
    }

    /// An attribute of an instance as state records it.
    fn stored(&self, addr: &str, attr: &str) -> Option<Value> {
        let state = self.backend().read().unwrap()?;
        let w = infra_core::state_io::Working::from_state(&state).unwrap();
        w.instances.iter().find(|(a, _)| a.to_string() == addr).and_then(|(_, i)| i.value.get_attr(attr).cloned())
    }
}

fn errors(res: &ApplyResult) -> String {
    res.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}\n", d.summary, d.detail)).collect()
}

#[tokio::test]
async fn a_provider_returning_another_value_than_planned_fails_and_state_holds_what_it_returned() {
    let run = stack("resource \"double_shout\" \"a\" {\n  input  = \"quiet\"\n  secret = \"hush\"\n}\n\nresource \"terraform_data\" \"after\" {\n  input = double_shout.a.id\n}\n");
    let p = run.plan().await;
    let res = run.apply(p).await;
    expect_test::expect![[r#"
        Provider produced an inconsistent result after apply: When applying changes to double_shout.a, provider "double" produced an unexpected new value: .input: was "quiet", but now "QUIET"; .secret: was (sensitive value), but now (sensitive value). The object is recorded in state as the provider returned it. This is a bug in the provider; report it to the provider's maintainers.
    "#]]
    .assert_eq(&errors(&res));
    assert_eq!(run.stored("double_shout.a", "input"), Some(Value::string("QUIET")), "the object is recorded as it really is");
    assert!(run.stored("double_shout.a", "secret").is_some_and(|v| v.is_sensitive()), "and its secret stays sensitive");
    assert_eq!(run.stored("terraform_data.after", "id"), None, "what depends on it did not run");
}

#[tokio::test]
async fn apply_sends_the_planned_value_and_does_not_plan_it_again() {
    let run = stack("resource \"double_stamp\" \"a\" {\n  input = \"x\"\n}\n");
    let p = run.plan().await;
    let shown = p.changes[0].after.as_ref().and_then(|v| v.get_attr("stamp")).cloned();
    let res = run.apply(p).await;
    assert_eq!(errors(&res), "");
    assert!(shown.is_some());
    assert_eq!(run.stored("double_stamp.a", "stamp"), shown, "the stamp the plan showed is the one applied");
}

#[tokio::test]
async fn unknowns_are_planned_again_at_apply_and_must_agree_with_what_was_shown() {
    // `input` is unknown while planning, so apply plans `b` again once `a` exists: the stamp
    // the plan showed then changes, which the plan did not allow.
    let run = stack("resource \"double_echo\" \"a\" {\n  input = \"x\"\n}\n\nresource \"double_stamp\" \"b\" {\n  input = double_echo.a.id\n}\n\nresource \"double_echo\" \"c\" {\n  input = double_echo.a.id\n}\n");
    let p = run.plan().await;
    let res = run.apply(p).await;
    let errs = errors(&res);
    assert!(errs.starts_with("Provider produced inconsistent final plan: When completing the plan for double_stamp.b with the values now known, the provider planned values that differ from the plan that was shown: .stamp: was "), "{errs}");
    assert_eq!(run.stored("double_stamp.b", "id"), None, "nothing was created for the inconsistent plan");
    assert_eq!(run.stored("double_echo.c", "input"), Some(Value::string("obj-1")), "an unknown resolved consistently is applied");
}

#[tokio::test]
async fn data_sources_read_while_planning_are_not_read_again() {
    let run = stack("data \"double_counter\" \"n\" {}\n\nresource \"terraform_data\" \"a\" {\n  input = data.double_counter.n.n\n}\n");
    let p = run.plan().await;
    let before = READS.load(Ordering::SeqCst);
    let res = run.apply(p).await;
    assert_eq!(errors(&res), "");
    assert_eq!(READS.load(Ordering::SeqCst), before, "apply used the value the plan read");
}
