//! `backend "s3"` and workspaces against moto's S3 (which enforces `If-None-Match` and
//! `If-Match` on PutObject): two applies sharing one state, a lock holder killed with SIGKILL,
//! migration local → S3 → local, workspaces under `workspace_key_prefix`, object versions.

use infra_test_harness::moto::{aws_env, start_moto, Moto};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "tfstate-team";
const KEY: &str = "team/app.tfstate";

fn bucket(moto: &Moto) {
    moto.call("s3", "PUT", &format!("/{BUCKET}"), &[], "");
    // Versioning through boto3 from moto's own venv (a hand-made PutBucketVersioning call is
    // not routed by moto's server).
    let python = infra_test_harness::moto::moto_server().with_file_name("python");
    let script = format!(
        "import boto3\nboto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').put_bucket_versioning(Bucket='{BUCKET}', VersioningConfiguration={{'Status': 'Enabled'}})",
        moto.url
    );
    let out = Command::new(python).arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn backend_block(moto: &Moto, extra: &str) -> String {
    format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket         = \"{BUCKET}\"\n    key            = \"{KEY}\"\n    region         = \"us-east-1\"\n    use_path_style = true\n    use_lockfile   = true\n    skip_credentials_validation = true\n    endpoints {{\n      s3 = \"{}\"\n    }}\n{extra}  }}\n}}\n",
        moto.url
    )
}

const RESOURCES: &str = "variable \"n\" {\n  default = 3\n}\n\nresource \"terraform_data\" \"n\" {\n  count = var.n\n  input = \"${terraform.workspace}-${count.index}\"\n}\n\noutput \"ws\" {\n  value = terraform.workspace\n}\n";

fn stack(moto: &Moto, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), format!("{}\n{RESOURCES}", backend_block(moto, extra))).unwrap();
    dir
}

fn cmd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_infra"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("AWS_PROFILE").env_remove("INFRA_WORKSPACE").env_remove("TF_WORKSPACE");
    for (k, v) in aws_env().into_iter().chain(env.iter().copied()) {
        c.env(k, v);
    }
    c
}

fn infra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    cmd(dir, args, env).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(o: Output) -> String {
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    t
}

/// The state object as moto holds it now.
fn state_in_s3(moto: &Moto, key: &str) -> serde_json::Value {
    let body = moto.call("s3", "GET", &format!("/{BUCKET}/{key}"), &[], "");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{key}: {e}: {body}"))
}

fn keys(moto: &Moto) -> Vec<String> {
    let xml = moto.call("s3", "GET", &format!("/{BUCKET}?list-type=2"), &[], "");
    let re = regex::Regex::new("<Key>([^<]*)</Key>").unwrap();
    re.captures_iter(&xml).map(|c| c[1].to_string()).collect()
}

/// `terraform_data.n[i]` → its id, from a state document.
fn ids(state: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in state["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            out.push((
                format!("{}.{}[{}]", r["type"].as_str().unwrap(), r["name"].as_str().unwrap(), i["index_key"]),
                i["attributes"]["id"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out.sort();
    out
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lock_put(moto: &Moto) -> bool {
    moto.request_lines().iter().any(|l| l.contains(&format!("PUT /{BUCKET}/{KEY}.tflock")))
}

fn signal(child: &Child, sig: i32) {
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn two_applies_sharing_one_state_never_both_write() {
    let moto = start_moto();
    bucket(&moto);
    let a = stack(&moto, "");
    let b = stack(&moto, "");
    let n = &["-var", "n=300"][..];
    ok(infra(a.path(), &["init"], &[]));
    ok(infra(b.path(), &["init"], &[]));
    // A takes the lock and is frozen while it holds it: B fails at once naming A.
    let first = cmd(a.path(), &[&["apply", "-auto-approve"][..], n].concat(), &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for("the first apply's lock", || lock_put(&moto));
    signal(&first, libc::SIGSTOP);
    let refused = infra(b.path(), &[&["apply", "-auto-approve"][..], n].concat(), &[]);
    let err = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("Error acquiring the state lock"), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())) && err.contains("operation apply"), "the refusal names the holder: {err}");
    let locks = ok(infra(b.path(), &["state", "locks"], &[]));
    assert!(locks.contains(&format!("pid {}", first.id())) && locks.contains(&format!("s3://{BUCKET}/{KEY}")), "{locks}");
    signal(&first, libc::SIGCONT);
    // B again, waiting for the lock this time, while A finishes: B plans from A's state.
    let waiting =
        cmd(b.path(), &[&["apply", "-auto-approve", "-lock-timeout=120s"][..], n].concat(), &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let first = first.wait_with_output().unwrap();
    let waiting = waiting.wait_with_output();
    let first_text = ok(first);
    assert!(first_text.contains("Resources: 300 added"), "{first_text}");
    let second = ok(waiting.unwrap());
    assert!(second.contains("No changes"), "the waiting run planned from the state the first one wrote: {second}");
    let state = state_in_s3(&moto, KEY);
    let ids = ids(&state);
    assert_eq!(ids.len(), 300, "one object per address, never two");
    let mut unique: Vec<_> = ids.iter().map(|(_, id)| id.clone()).collect();
    unique.dedup();
    assert_eq!(unique.len(), 300);
    assert_eq!(
        keys(&moto).iter().filter(|k| k.contains(".journal/") || k.ends_with(".tflock")).count(),
        0,
        "no journal segment nor lock left: {:?}",
        keys(&moto)
    );
}

#[test]
fn a_lock_holder_killed_mid_apply_is_reported_stale_and_force_stale_finishes_with_everything_it_created() {
    let moto = start_moto();
    bucket(&moto);
    let dir = stack(&moto, "    lock_lease = \"2s\"\n");
    ok(infra(dir.path(), &["init"], &[]));
    let n = &["-var", "n=300"][..];
    let mut killed =
        cmd(dir.path(), &[&["apply", "-auto-approve", "-parallelism=4"][..], n].concat(), &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let segments = || moto.request_lines().iter().filter(|l| l.contains(".journal/") && l.contains("\"PUT ")).count();
    wait_for("journal segments of the first run", || segments() >= 20);
    signal(&killed, libc::SIGKILL);
    killed.wait().unwrap();
    // What the killed run recorded: the next run, from anywhere, sees it (the journal replayed).
    let pulled: serde_json::Value = serde_json::from_str(&ok(infra(dir.path(), &["state", "pull"], &[]))).unwrap();
    let created = ids(&pulled);
    assert!(created.len() >= 19 && created.len() < 300, "{} objects recorded before the kill", created.len());
    std::thread::sleep(Duration::from_secs(3));
    let stale = infra(dir.path(), &[&["plan"][..], n].concat(), &[]);
    let err = text(&stale);
    assert_eq!(stale.status.code(), Some(1), "{err}");
    assert!(err.contains("that lock is stale") && err.contains("stopped renewing it"), "{err}");
    assert!(err.contains(&format!("pid {}", killed.id())) && err.contains("--force-stale"), "the report names the holder and the way out: {err}");
    let done = ok(infra(dir.path(), &[&["apply", "-auto-approve", "--force-stale"][..], n].concat(), &[]));
    assert!(done.contains("Taking over a stale state lock"), "{done}");
    assert!(done.contains(&format!("Resources: {} added", 300 - created.len())), "only what the killed run did not finish is created: {done}");
    let after = ids(&state_in_s3(&moto, KEY));
    assert_eq!(after.len(), 300);
    for (addr, id) in &created {
        assert!(after.contains(&(addr.clone(), id.clone())), "{addr} keeps the object the killed run created ({id})");
    }
}

#[test]
fn lock_stale_after_takes_a_silent_lock_over_without_the_flag() {
    let moto = start_moto();
    bucket(&moto);
    let dir = stack(&moto, "    lock_lease = \"1s\"\n");
    ok(infra(dir.path(), &["init", "-backend-config", "lock_stale_after=2s"], &[]));
    let mut killed =
        cmd(dir.path(), &["apply", "-auto-approve", "-var", "n=300", "-parallelism=2"], &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for("the first run's lock", || lock_put(&moto));
    signal(&killed, libc::SIGKILL);
    killed.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let done = ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=300"], &[]));
    assert!(done.contains("Taking over a stale state lock") && done.contains("stopped renewing its lease"), "{done}");
    assert_eq!(ids(&state_in_s3(&moto, KEY)).len(), 300);
}

#[test]
fn migration_local_to_s3_and_back_keeps_lineage_and_serial_and_refuses_another_lineage() {
    let moto = start_moto();
    bucket(&moto);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), RESOURCES).unwrap();
    ok(infra(dir.path(), &["apply", "-auto-approve"], &[]));
    let local: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("infra.tfstate")).unwrap()).unwrap();
    // The s3 block, with the endpoint given at init as -backend-config (a file and a KEY=VALUE).
    std::fs::write(
        dir.path().join("main.tf"),
        format!("terraform {{\n  backend \"s3\" {{\n    key = \"{KEY}\"\n    use_lockfile = true\n  }}\n}}\n\n{RESOURCES}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s3.tfbackend"),
        format!("bucket = \"{BUCKET}\"\nregion = \"us-east-1\"\nuse_path_style = true\nendpoints = {{ s3 = \"{}\" }}\n", moto.url),
    )
    .unwrap();
    let refused = infra(dir.path(), &["init", "-backend-config=s3.tfbackend"], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("-migrate-state"), "{}", text(&refused));
    assert!(!keys(&moto).contains(&KEY.to_string()), "nothing was copied without -migrate-state");
    ok(infra(dir.path(), &["init", "-backend-config=s3.tfbackend", "-backend-config", "skip_region_validation=true", "-migrate-state"], &[]));
    let remote = state_in_s3(&moto, KEY);
    assert_eq!((&remote["lineage"], &remote["serial"]), (&local["lineage"], &local["serial"]));
    assert_eq!(ids(&remote), ids(&local));
    // A change on S3 (plain commands reuse the -backend-config values init saved).
    ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=4"], &[]));
    let remote = state_in_s3(&moto, KEY);
    assert_eq!(remote["lineage"], local["lineage"]);
    assert!(remote["serial"].as_u64() > local["serial"].as_u64());
    // Back to local.
    std::fs::write(dir.path().join("main.tf"), RESOURCES).unwrap();
    ok(infra(dir.path(), &["init", "-migrate-state"], &[]));
    let back: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("infra.tfstate")).unwrap()).unwrap();
    assert_eq!((&back["lineage"], &back["serial"]), (&remote["lineage"], &remote["serial"]));
    assert_eq!(ids(&back), ids(&remote));
    // Another stack's state (another lineage) is never migrated over this one.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("main.tf"), RESOURCES).unwrap();
    ok(infra(other.path(), &["apply", "-auto-approve"], &[]));
    std::fs::write(other.path().join("main.tf"), format!("{}\n{RESOURCES}", backend_block(&moto, ""))).unwrap();
    let clash = infra(other.path(), &["init", "-migrate-state"], &[]);
    assert_eq!(clash.status.code(), Some(1), "{}", text(&clash));
    assert!(text(&clash).contains("Refusing to migrate over another state"), "{}", text(&clash));
    assert_eq!(state_in_s3(&moto, KEY), remote, "the S3 state was not touched");
}

#[test]
fn state_push_guards_lineage_and_serial_and_history_reads_old_versions() {
    let moto = start_moto();
    bucket(&moto);
    let dir = stack(&moto, "");
    ok(infra(dir.path(), &["init"], &[]));
    ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=1"], &[]));
    let first = ok(infra(dir.path(), &["state", "pull"], &[]));
    ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=2"], &[]));
    let history = ok(infra(dir.path(), &["state", "history"], &[]));
    let first_doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    let line = history.lines().find(|l| l.split_whitespace().nth(2) == Some(&first_doc["serial"].to_string())).unwrap_or_else(|| panic!("{history}"));
    let id = line.split_whitespace().next().unwrap();
    let old: serde_json::Value = serde_json::from_str(&ok(infra(dir.path(), &["state", "show", "--version", id], &[]))).unwrap();
    assert_eq!(ids(&old).len(), 1, "version {id} is the state after the first apply");
    // An older serial is refused; so is another lineage; --force pushes anyway.
    std::fs::write(dir.path().join("old.tfstate"), &first).unwrap();
    let refused = infra(dir.path(), &["state", "push", "old.tfstate"], &[]);
    assert!(text(&refused).contains("Refusing to push an older state"), "{}", text(&refused));
    let mut foreign = first_doc.clone();
    foreign["lineage"] = "another-state".into();
    foreign["serial"] = 99.into();
    std::fs::write(dir.path().join("foreign.tfstate"), foreign.to_string()).unwrap();
    let refused = infra(dir.path(), &["state", "push", "foreign.tfstate"], &[]);
    assert!(text(&refused).contains("Refusing to push a state of another lineage"), "{}", text(&refused));
    assert_eq!(ids(&state_in_s3(&moto, KEY)).len(), 2, "nothing was written");
    ok(infra(dir.path(), &["state", "push", "--force", "old.tfstate"], &[]));
    assert_eq!(ids(&state_in_s3(&moto, KEY)).len(), 1);
}

#[test]
fn workspaces_keep_separate_states_under_the_prefix() {
    let moto = start_moto();
    bucket(&moto);
    let dir = stack(&moto, "");
    ok(infra(dir.path(), &["init"], &[]));
    ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=1"], &[]));
    ok(infra(dir.path(), &["workspace", "new", "staging"], &[]));
    assert_eq!(ok(infra(dir.path(), &["workspace", "show"], &[])).trim(), "staging");
    let staged = ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=2"], &[]));
    assert!(staged.contains("Resources: 2 added") && staged.contains("ws = \"staging\""), "{staged}");
    // The environment selects too (INFRA_WORKSPACE, TF_WORKSPACE).
    ok(infra(dir.path(), &["workspace", "select", "default"], &[]));
    let prod = ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=3"], &[("TF_WORKSPACE", "production")]));
    assert!(prod.contains("Resources: 3 added") && prod.contains("ws = \"production\""), "{prod}");
    let list = ok(infra(dir.path(), &["workspace", "list"], &[]));
    assert_eq!(list.lines().collect::<Vec<_>>(), ["* default", "  production", "  staging"], "{list}");
    let inputs = |key: &str| -> Vec<String> {
        let s = state_in_s3(&moto, key);
        s["resources"][0]["instances"].as_array().unwrap().iter().map(|i| i["attributes"]["input"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(inputs(KEY), ["default-0"]);
    assert_eq!(inputs(&format!("env:/staging/{KEY}")), ["staging-0", "staging-1"]);
    assert_eq!(inputs(&format!("env:/production/{KEY}")), ["production-0", "production-1", "production-2"]);
    let refused = infra(dir.path(), &["workspace", "delete", "staging"], &[]);
    assert!(text(&refused).contains("records 2 object(s)"), "{}", text(&refused));
    ok(infra(dir.path(), &["destroy", "-auto-approve"], &[("INFRA_WORKSPACE", "staging")]));
    ok(infra(dir.path(), &["workspace", "delete", "staging"], &[]));
    assert_eq!(ok(infra(dir.path(), &["workspace", "list"], &[])).lines().collect::<Vec<_>>(), ["* default", "  production"]);
}

#[test]
fn local_workspaces_live_in_infra_tfstate_d() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), RESOURCES).unwrap();
    ok(infra(dir.path(), &["workspace", "new", "staging"], &[]));
    ok(infra(dir.path(), &["apply", "-auto-approve", "-var", "n=2"], &[]));
    let staged: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("infra.tfstate.d/staging/infra.tfstate")).unwrap()).unwrap();
    assert_eq!(ids(&staged).len(), 2);
    assert!(!dir.path().join("infra.tfstate").exists(), "the default workspace's state is untouched");
    assert_eq!(ok(infra(dir.path(), &["workspace", "list"], &[])).lines().collect::<Vec<_>>(), ["  default", "* staging"]);
    let bad = infra(dir.path(), &["workspace", "new", "a/b"], &[]);
    assert!(text(&bad).contains("Invalid workspace name"), "{}", text(&bad));
}

/// The stack's state encrypted (OpenTofu's `encryption` block, a pbkdf2 passphrase) in S3:
/// neither the state object nor the journal objects a killed apply leaves hold the secret, and
/// a run on another copy of the stack (same passphrase) reads them back.
#[test]
fn an_encrypted_state_and_its_journal_objects_hold_no_plaintext_secret_in_s3() {
    let moto = start_moto();
    bucket(&moto);
    let encryption = "  encryption {\n    key_provider \"pbkdf2\" \"k\" {\n      passphrase = var.k\n      iterations = 200000\n    }\n    method \"aes_gcm\" \"k\" {\n      keys = key_provider.pbkdf2.k\n    }\n    state {\n      method   = method.aes_gcm.k\n      enforced = true\n    }\n  }\n";
    let main = format!(
        "{}\nterraform {{\n{encryption}}}\n\nvariable \"k\" {{\n  type      = string\n  sensitive = true\n}}\n\nresource \"random_password\" \"p\" {{\n  length  = 32\n  special = false\n}}\n\nresource \"terraform_data\" \"a\" {{\n  input = random_password.p.result\n}}\n\nresource \"terraform_data\" \"b\" {{\n  input = terraform_data.a.id\n}}\n\noutput \"pw\" {{\n  value     = random_password.p.result\n  sensitive = true\n}}\n",
        backend_block(&moto, "    lock_lease = \"2s\"\n")
    );
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        std::fs::write(d.path().join("main.tf"), &main).unwrap();
    }
    let env = [("TF_VAR_k", "a passphrase long enough for pbkdf2")];
    ok(infra(a.path(), &["init"], &env));
    // Killed after terraform_data.b's create: random_password and terraform_data.a are in the
    // journal objects only.
    let killed = infra(a.path(), &["apply", "-auto-approve"], &[env[0], ("INFRA_TEST_ABORT_AFTER_CREATE", "terraform_data.b")]);
    assert!(!killed.status.success(), "{}", text(&killed));
    let journal: Vec<String> = keys(&moto).into_iter().filter(|k| k.contains(".journal/")).collect();
    assert!(!journal.is_empty(), "the killed apply left no journal object: {:?}", keys(&moto));
    let journal_bodies: Vec<(String, String)> = journal.iter().map(|k| (k.clone(), moto.call("s3", "GET", &format!("/{BUCKET}/{k}"), &[], ""))).collect();
    assert!(journal_bodies.iter().all(|(_, body)| body.contains("\"encrypted_data\"")), "a journal object is not sealed: {journal_bodies:?}");
    // The other copy takes the killed run's lock over, replays the journal (it needs the
    // passphrase) and finishes.
    ok(infra(b.path(), &["init"], &env));
    std::thread::sleep(Duration::from_secs(3));
    ok(infra(b.path(), &["apply", "-auto-approve", "--force-stale"], &env));
    let secret = ok(infra(b.path(), &["output", "-raw", "pw"], &env));
    assert_eq!(secret.trim().len(), 32, "{secret}");
    // Every object the backend wrote, current and past versions alike, is sealed.
    let versions = moto.call("s3", "GET", &format!("/{BUCKET}?versions"), &[], "");
    let re = regex::Regex::new("<Key>([^<]*)</Key>\\s*<VersionId>([^<]*)</VersionId>").unwrap();
    let mut seen = 0;
    for c in re.captures_iter(&versions) {
        let body = moto.call("s3", "GET", &format!("/{BUCKET}/{}?versionId={}", &c[1], &c[2]), &[], "");
        assert!(!body.contains(secret.trim()), "{} holds the secret in clear: {body}", &c[1]);
        seen += 1;
    }
    assert!(seen >= 2, "expected the state's versions in the listing: {versions}");
    let state = moto.call("s3", "GET", &format!("/{BUCKET}/{KEY}"), &[], "");
    assert!(state.contains("\"encrypted_data\""), "the state object is not an encryption envelope: {state}");
    for (k, body) in &journal_bodies {
        assert!(!body.contains(secret.trim()), "{k} holds the secret in clear: {body}");
    }
    // Without the passphrase nothing reads it.
    let refused = infra(b.path(), &["state", "list"], &[("TF_VAR_k", "not the passphrase, also long enough")]);
    assert!(!refused.status.success(), "{}", text(&refused));
}
