//! The google provider against the cloudsql-emulator and its real PostgreSQL: the
//! `examples/attendee-ems` stack end to end (apply, a login with the generated password, an
//! empty plan, an in-place change, a destroy refused at plan time, a destroy that leaves
//! nothing), an apply killed during the instance's create operation and resumed, a busy
//! instance and a failing operation, and import by Terraform's ids.

use infra_test_harness::cloudsql::*;
use infra_test_harness::example;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn env(cs: &CloudSql) -> Vec<(String, String)> {
    vec![
        ("GOOGLE_SQL_CUSTOM_ENDPOINT".into(), cs.url.clone()),
        ("GOOGLE_PROJECT".into(), "p".into()),
        ("GOOGLE_REGION".into(), "europe-west1".into()),
        ("NO_COLOR".into(), "1".into()),
    ]
}

fn command(cs: &CloudSql, d: &Path, args: &[&str], extra: &[(&str, &str)]) -> Command {
    let mut c = Command::new(infra_test_harness::infra_bin());
    c.args(args).current_dir(d).env_remove("GOOGLE_APPLICATION_CREDENTIALS").env_remove("GOOGLE_OAUTH_ACCESS_TOKEN").env_remove("GOOGLE_CREDENTIALS");
    for (k, v) in env(cs) {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

fn infra(cs: &CloudSql, d: &Path, args: &[&str]) -> (i32, String) {
    infra_with(cs, d, args, &[])
}

fn infra_with(cs: &CloudSql, d: &Path, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
    let out = command(cs, d, args, extra).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn instances(cs: &CloudSql) -> Vec<String> {
    let (status, list) = cs.call("GET", "/v1/projects/p/instances", None);
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().map(|a| a.iter().filter_map(|i| i["name"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn names(cs: &CloudSql, instance: &str, kind: &str) -> Vec<String> {
    let (status, list) = cs.call("GET", &format!("/v1/projects/p/instances/{instance}/{kind}"), None);
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().map(|a| a.iter().filter_map(|i| i["name"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn stack(tf: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    dir
}

#[test]
fn attendee_ems_applies_logs_in_plans_empty_updates_in_place_refuses_a_protected_destroy_and_destroys_everything() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let dir = example("attendee-ems");
    let d = dir.path();

    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 4 added, 0 changed, 0 destroyed."), "{out}");
    assert_eq!(instances(&cs), ["attendee-ems-db"]);

    // The generated password logs in to the real PostgreSQL, over SSL, and sees the database.
    let (code, url) = infra(&cs, d, &["output", "-raw", "database_url"]);
    assert_eq!(code, 0, "{url}");
    assert!(url.starts_with("postgresql://attendee:") && url.ends_with("/attendee?schema=public&sslmode=require"), "{url}");
    let psql = postgres_bin().unwrap().join("psql");
    let out = Command::new(psql)
        .arg(url.replace("schema=public&", ""))
        .args(["-Atc", "select current_database() || ' ' || current_user"])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "attendee attendee", "{}", String::from_utf8_lossy(&out.stderr));

    let (code, out) = infra(&cs, d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan after apply is empty:\n{out}");

    // The tier and the backup start time change in place.
    let change = ["--var", "tier=db-custom-4-15360", "--var", "backup_start_time=04:00"];
    let (code, out) = infra(&cs, d, &[&["apply", "--auto-approve"][..], &change].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{out}");
    let (_, inst) = cs.call("GET", "/v1/projects/p/instances/attendee-ems-db", None);
    assert_eq!(inst["settings"]["tier"], "db-custom-4-15360", "{inst}");
    assert_eq!(inst["settings"]["backupConfiguration"]["startTime"], "04:00", "{inst}");
    let (code, out) = infra(&cs, d, &[&["plan", "--detailed-exitcode"][..], &change].concat());
    assert_eq!(code, 0, "{out}");

    // deletion_protection stops the destroy at plan time: nothing is deleted, not even the
    // database and the user, which a destroy deletes first.
    let (code, out) = infra(&cs, d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Instance protected from deletion") && out.contains("before anything is deleted"), "{out}");
    assert_eq!(names(&cs, "attendee-ems-db", "databases").iter().filter(|n| *n == "attendee").count(), 1);
    assert!(names(&cs, "attendee-ems-db", "users").contains(&"attendee".to_string()));

    let off = ["--var", "deletion_protection=false"];
    let (code, out) = infra(&cs, d, &[&["apply", "--auto-approve"][..], &off].concat());
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&cs, d, &[&["destroy", "--auto-approve"][..], &off].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 4 destroyed."), "{out}");
    assert!(instances(&cs).is_empty());
    let data_path = cs.data_dir.to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !processes_mentioning(&data_path).iter().all(|p| !p.contains("postgres")) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(processes_mentioning(&data_path).iter().all(|p| !p.contains("postgres")), "{:?}", processes_mentioning(&data_path));
}

const UNNAMED: &str = r#"
resource "google_sql_database_instance" "db" {
  database_version    = "POSTGRES_16"
  deletion_protection = false
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
  }
}
"#;

#[test]
fn an_apply_killed_during_the_instance_create_is_resumed_and_makes_exactly_one_instance() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options { op_delay_ms: 6000 });
    let dir = stack(UNNAMED);
    let d = dir.path();

    let mut child = command(&cs, d, &["apply", "--auto-approve"], &[]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while instances(&cs).is_empty() {
        assert!(Instant::now() < deadline, "the apply made no instance");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Killed while Cloud SQL is still creating it (the operation takes 6 s).
    child.kill().unwrap();
    child.wait().unwrap();
    let made = instances(&cs);
    assert_eq!(made.len(), 1);
    assert!(made[0].starts_with("infra-"), "{made:?}");

    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(instances(&cs), made, "the same instance, not a second one");
    let (_, inst) = cs.call("GET", &format!("/v1/projects/p/instances/{}", made[0]), None);
    assert_eq!(inst["state"], "RUNNABLE", "the resumed apply waited for the create: {inst}");
    let (code, out) = infra(&cs, d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&cs, d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(instances(&cs).is_empty());
}

#[test]
fn a_busy_instance_and_a_failing_operation_give_clear_diagnostics() {
    let data = data_dir();
    // Long enough operations that the patch below still runs when infra, on a loaded machine, gets to its insert.
    let cs = start(emulator_bin(), data.path(), &Options { op_delay_ms: 10000 });
    let body =
        json!({"name": "busy", "databaseVersion": "POSTGRES_16", "region": "europe-west1", "settings": {"tier": "db-custom-2-7680", "edition": "ENTERPRISE"}});
    cs.mutate("p", "POST", "/v1/projects/p/instances", Some(&body));

    // Another operation holds the instance longer than infra retries 409 operationInProgress.
    let (status, op) = cs.call("PATCH", "/v1/projects/p/instances/busy", Some(&json!({"settings": {"userLabels": {"by": "hand"}}})));
    assert_eq!(status, 200, "{op}");
    let dir = stack("resource \"google_sql_database\" \"app\" {\n  name     = \"app\"\n  instance = \"busy\"\n}\n");
    let (code, out) = infra_with(&cs, dir.path(), &["apply", "--auto-approve"], &[("INFRA_GOOGLE_BUSY_RETRY_SECONDS", "1")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Cloud SQL instance busy") && out.contains("databases.insert failed: the instance was still running another operation"), "{out}");
    assert!(out.contains("HTTP 409 operationInProgress"), "{out}");
    cs.wait("p", &op);

    // A database the real PostgreSQL refuses fails its operation, and says why.
    let dir = stack("resource \"google_sql_database\" \"app\" {\n  name     = \"app\"\n  instance = \"busy\"\n  charset  = \"NO_SUCH_CHARSET\"\n}\n");
    let (code, out) = infra(&cs, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Cloud SQL operation failed") && out.contains("create of database app in instance busy failed: INTERNAL_ERROR"), "{out}");
    assert!(out.contains("not a valid encoding name"), "{out}");
}

#[test]
fn objects_made_by_hand_import_by_terraform_ids_with_an_empty_plan_after() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let body = json!({"name": "handmade", "databaseVersion": "POSTGRES_16", "region": "europe-west1", "settings": {"tier": "db-custom-2-7680", "edition": "ENTERPRISE"}});
    cs.mutate("p", "POST", "/v1/projects/p/instances", Some(&body));
    cs.mutate("p", "POST", "/v1/projects/p/instances/handmade/databases", Some(&json!({"name": "app"})));
    cs.mutate("p", "POST", "/v1/projects/p/instances/handmade/users", Some(&json!({"name": "appuser", "password": "s3cret-pass"})));

    let dir = stack(
        r#"
import {
  to = google_sql_database_instance.db
  id = "projects/p/instances/handmade"
}
import {
  to = google_sql_database.app
  id = "p/handmade/app"
}
import {
  to = google_sql_user.app
  id = "p/handmade/appuser"
}
resource "google_sql_database_instance" "db" {
  name             = "handmade"
  database_version = "POSTGRES_16"
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
  }
}
resource "google_sql_database" "app" {
  name     = "app"
  instance = google_sql_database_instance.db.name
}
resource "google_sql_user" "app" {
  name     = "appuser"
  instance = google_sql_database_instance.db.name
}
"#,
    );
    let d = dir.path();
    let (code, out) = infra(&cs, d, &["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 3 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&cs, d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");

    // The data sources read the same instance and the tiers.
    let dir = stack(
        "data \"google_sql_database_instance\" \"db\" {\n  name = \"handmade\"\n}\ndata \"google_sql_tiers\" \"all\" {}\n\
         output \"tier\" {\n  value = data.google_sql_database_instance.db.settings[0].tier\n}\n\
         output \"has_tiers\" {\n  value = length(data.google_sql_tiers.all.tiers) > 0\n}\n",
    );
    let (code, out) = infra(&cs, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("tier = \"db-custom-2-7680\"") && out.contains("has_tiers = true"), "{out}");
}

const TEN: &str = r#"
resource "google_sql_database_instance" "db" {
  name                = "ten"
  database_version    = "POSTGRES_15"
  deletion_protection = false
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
  }
}
resource "google_sql_database" "d" {
  count    = 10
  name     = "db${count.index}"
  instance = google_sql_database_instance.db.name
}
resource "google_sql_user" "u" {
  count    = 10
  name     = "user${count.index}"
  instance = google_sql_database_instance.db.name
  password = "password-${count.index}"
}
"#;

#[test]
fn a_no_op_plan_of_an_instance_with_10_databases_and_10_users_costs_3_calls_and_a_major_version_changes_in_place() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let dir = stack(TEN);
    let d = dir.path();
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 21 added"), "{out}");

    // Planning sends no mutating call, and reads each kind once: instances.get, databases.list, users.list.
    let proxy = infra_test_harness::faults::start_proxy(&cs.url, &["--forbid-mutating"]);
    let (code, out) = infra_with(&cs, d, &["plan", "--detailed-exitcode"], &[("GOOGLE_SQL_CUSTOM_ENDPOINT", &proxy.url)]);
    assert_eq!(code, 0, "{out}");
    let calls: Vec<String> = proxy.calls().iter().map(|c| c["op"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(calls.len(), 3, "{calls:?}");

    // POSTGRES_15 -> POSTGRES_16 is an in-place major version upgrade, announced, never a replacement.
    let upgraded = TEN.replace("POSTGRES_15", "POSTGRES_16");
    std::fs::write(d.join("main.tf"), &upgraded).unwrap();
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Major version upgrade") && out.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{out}");
    let (_, inst) = cs.call("GET", "/v1/projects/p/instances/ten", None);
    assert_eq!(inst["databaseVersion"], "POSTGRES_16", "{inst}");
    assert_eq!(names(&cs, "ten", "databases").iter().filter(|n| n.starts_with("db")).count(), 10);
    let (code, out) = infra(&cs, d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");

    // A downgrade replaces the instance, and the plan says the data goes with it.
    std::fs::write(d.join("main.tf"), TEN).unwrap();
    let (code, out) = infra(&cs, d, &["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Instance replaced: its data is deleted") && out.contains("must be replaced"), "{out}");
}

const REUSED: &str = r#"
resource "google_sql_database_instance" "db" {
  name                = "reused"
  database_version    = "POSTGRES_16"
  deletion_protection = false
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
  }
}
"#;

#[test]
fn a_name_deleted_less_than_a_week_ago_is_refused_at_plan_time_at_its_name_and_nothing_is_created() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let dir = stack(REUSED);
    let d = dir.path();
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&cs, d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(instances(&cs).is_empty());

    // The plan reads the name's last operation (the delete) and stops, at the name's line,
    // before anything is sent: one read, no mutation.
    let proxy = infra_test_harness::faults::start_proxy(&cs.url, &["--forbid-mutating"]);
    let (code, out) = infra_with(&cs, d, &["plan", "--detailed-exitcode"], &[("GOOGLE_SQL_CUSTOM_ENDPOINT", &proxy.url)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Error: Instance name reserved") && out.contains("on main.tf:3:"), "{out}");
    assert!(out.contains("An instance named reused was deleted from project p at") && out.contains("would be refused until about"), "{out}");
    let calls: Vec<String> = proxy.calls().iter().map(|c| c["op"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(calls.len(), 1, "{calls:?}");

    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Instance name reserved") && !out.contains("Creating"), "{out}");
    assert!(instances(&cs).is_empty(), "nothing was created");

    // Another name plans and applies as usual.
    std::fs::write(d.join("main.tf"), REUSED.replace("\"reused\"", "\"reused-2\"")).unwrap();
    let (code, out) = infra(&cs, d, &["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Plan: 1 to add"), "{out}");
}

const REPLICATED: &str = r#"
variable "root_password" {
  default = "first-root-pass"
}
variable "zone" {
  default = "europe-west1-c"
}
resource "google_sql_database_instance" "main" {
  name                = "main"
  database_version    = "POSTGRES_16"
  deletion_protection = false
  root_password       = var.root_password
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
    location_preference {
      zone = var.zone
    }
  }
}
resource "google_sql_database_instance" "replica" {
  name                 = "main-replica"
  master_instance_name = google_sql_database_instance.main.name
  database_version     = "POSTGRES_16"
  deletion_protection  = false
  settings {
    tier    = "db-custom-2-7680"
    edition = "ENTERPRISE"
  }
}
output "main_ip" {
  value = google_sql_database_instance.main.public_ip_address
}
output "replica_ip" {
  value = google_sql_database_instance.replica.public_ip_address
}
output "replica_type" {
  value = google_sql_database_instance.replica.instance_type
}
output "settings_version" {
  value = google_sql_database_instance.main.settings[0].version
}
"#;

#[test]
fn a_read_replica_streams_the_primary_root_password_logs_in_and_changes_and_a_stale_settings_version_is_refused() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let dir = stack(REPLICATED);
    let d = dir.path();
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let mut made = instances(&cs);
    made.sort();
    assert_eq!(made, ["main", "main-replica"]);
    let (_, main) = cs.call("GET", "/v1/projects/p/instances/main", None);
    assert_eq!(main["replicaNames"], json!(["main-replica"]), "{main}");
    assert_eq!(main["settings"]["locationPreference"]["zone"], "europe-west1-c", "{main}");
    let output = |name: &str| {
        let (code, v) = infra(&cs, d, &["output", "-raw", name]);
        assert_eq!(code, 0, "{v}");
        v.trim().to_string()
    };
    assert_eq!(output("replica_type"), "READ_REPLICA_INSTANCE");
    let version: i64 = output("settings_version").parse().unwrap();
    assert!(version >= 1, "{version}");

    // root_password is the postgres user's password; what it writes on the primary streams
    // to the replica, a hot standby of it.
    let (main_ip, replica_ip) = (output("main_ip"), output("replica_ip"));
    psql(&main_ip, "postgres", "first-root-pass", "postgres", "create table t (x int); insert into t values (42)").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match psql(&replica_ip, "postgres", "first-root-pass", "postgres", "select x from t") {
            Ok(v) if v == "42" => break,
            other => assert!(Instant::now() < deadline, "the replica never showed the row: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(psql(&replica_ip, "postgres", "first-root-pass", "postgres", "select pg_is_in_recovery()").unwrap(), "t");
    assert!(psql(&replica_ip, "postgres", "first-root-pass", "postgres", "insert into t values (1)").is_err(), "a replica is read-only");

    let (code, out) = infra(&cs, d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");

    // A new root_password is set on the postgres user in place.
    let (code, out) = infra(&cs, d, &["apply", "--auto-approve", "--var", "root_password=second-root-pass"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{out}");
    assert!(psql(&main_ip, "postgres", "second-root-pass", "postgres", "select 1").is_ok());
    assert!(psql(&main_ip, "postgres", "first-root-pass", "postgres", "select 1").is_err());

    // The settings change carries the version it was planned from: a change made by hand in
    // between makes Cloud SQL refuse it (412) instead of overwriting it.
    let pw = ["--var", "root_password=second-root-pass"];
    let (code, out) = infra(&cs, d, &[&["plan", "--out", "tfplan", "--var", "zone=europe-west1-d"][..], &pw].concat());
    assert_eq!(code, 0, "{out}");
    cs.mutate("p", "PATCH", "/v1/projects/p/instances/main", Some(&json!({"settings": {"userLabels": {"by": "hand"}}})));
    let (code, out) = infra(&cs, d, &["apply", "tfplan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("HTTP 412 staleData"), "{out}");
    let (_, main) = cs.call("GET", "/v1/projects/p/instances/main", None);
    assert_eq!(main["settings"]["locationPreference"]["zone"], "europe-west1-c", "{main}");
    let (code, out) = infra(&cs, d, &[&["apply", "--auto-approve", "--var", "zone=europe-west1-d"][..], &pw].concat());
    assert_eq!(code, 0, "{out}");
    let (_, main) = cs.call("GET", "/v1/projects/p/instances/main", None);
    assert_eq!(main["settings"]["locationPreference"]["zone"], "europe-west1-d", "{main}");
    let (code, out) = infra(&cs, d, &[&["plan", "--detailed-exitcode", "--var", "zone=europe-west1-d"][..], &pw].concat());
    assert_eq!(code, 0, "{out}");

    // The replica goes first, then the primary.
    let (code, out) = infra(&cs, d, &[&["destroy", "--auto-approve", "--var", "zone=europe-west1-d"][..], &pw].concat());
    assert_eq!(code, 0, "{out}");
    assert!(instances(&cs).is_empty());
}

/// Staging and production are two workspaces of the example: the workspace names the
/// environment (ZONAL in staging, REGIONAL in production) and the instance, each with its own
/// state.
#[test]
fn the_example_takes_its_environment_and_instance_name_from_the_workspace() {
    let data = data_dir();
    let cs = start(emulator_bin(), data.path(), &Options::default());
    let dir = example("attendee-ems");
    let d = dir.path();
    let (code, out) = infra(&cs, d, &["plan", "-no-color"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"attendee-ems-db\"") && out.contains("\"REGIONAL\"") && !out.contains("\"ZONAL\""), "{out}");
    let (code, out) = infra(&cs, d, &["workspace", "new", "staging"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&cs, d, &["plan", "-no-color"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"attendee-ems-staging-db\"") && out.contains("\"ZONAL\"") && !out.contains("\"REGIONAL\""), "{out}");
    // The environment given wins over the workspace's.
    let (code, out) = infra_with(&cs, d, &["plan", "-no-color"], &[("TF_VAR_environment", "production")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"attendee-ems-db\"") && out.contains("\"REGIONAL\""), "{out}");
    // Nothing was created by planning.
    assert!(instances(&cs).is_empty());
}
