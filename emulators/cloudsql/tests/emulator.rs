//! The emulator over HTTP with its real PostgreSQL: an instance's whole life, validation and
//! error shapes, and a restart of the emulator.

use infra_test_harness::cloudsql::{self, CloudSql, Options};
use serde_json::{json, Value};
use std::path::Path;

const P: &str = "proj-1";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cloudsql-emulator"))
}

fn instance_body(name: &str) -> Value {
    json!({"name": name, "databaseVersion": "POSTGRES_16", "region": "europe-west1", "rootPassword": "root-pw",
           "settings": {"tier": "db-custom-2-7680", "edition": "ENTERPRISE", "userLabels": {"app": "attendee"}}})
}

use cloudsql::psql;

fn create_instance(emu: &CloudSql, name: &str) -> Value {
    emu.mutate(P, "POST", &format!("/v1/projects/{P}/instances"), Some(&instance_body(name)));
    let (status, inst) = emu.call("GET", &format!("/v1/projects/{P}/instances/{name}"), None);
    assert_eq!(status, 200, "{inst}");
    inst
}

fn assert_google_error(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["errors"][0]["reason"], reason, "{body}");
    assert_eq!(body["error"]["errors"][0]["domain"], "global", "{body}");
    assert!(body["error"]["status"].is_string() && body["error"]["message"].is_string(), "{body}");
}

#[test]
fn an_instance_lives_creates_a_database_and_user_that_log_in_changes_tier_and_is_deleted() {
    let dir = cloudsql::data_dir();
    let emu = cloudsql::start(bin(), dir.path(), &Options::default());
    let base = format!("/v1/projects/{P}/instances/attendee-db");

    // Created with the official client's encoding: enums as numbers, answers as numbers.
    let mut body = instance_body("attendee-db");
    body["databaseVersion"] = json!(272);
    body["settings"]["edition"] = json!(2);
    let (status, op) = emu.call("POST", &format!("/v1/projects/{P}/instances?%24alt=json%3Benum-encoding%3Dint"), Some(&body));
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["status"], 1, "PENDING as a number: {op}");
    assert_eq!(op["operationType"], 3, "CREATE as a number: {op}");

    // A second mutation while the create runs: 409 operationInProgress, Google's shape.
    let (status, err) = emu.call("PATCH", &base, Some(&json!({"settings": {"tier": "db-custom-4-15360"}})));
    assert_eq!(status, 409);
    assert_google_error(&err, 409, "operationInProgress");

    let done = emu.wait(P, &op);
    assert!(done.get("error").is_none(), "{done}");
    assert!(done["startTime"].is_string() && done["endTime"].is_string(), "{done}");
    let (_, inst) = emu.call("GET", &base, None);
    assert_eq!(inst["state"], "RUNNABLE", "{inst}");
    assert_eq!(inst["databaseVersion"], "POSTGRES_16");
    assert_eq!(inst["connectionName"], format!("{P}:europe-west1:attendee-db"));
    assert_eq!(inst["settings"]["settingsVersion"], "1");
    assert_eq!(inst["settings"]["userLabels"]["app"], "attendee");
    assert!(inst["serverCaCert"]["cert"].as_str().is_some_and(|c| c.starts_with("-----BEGIN CERTIFICATE-----")), "{inst}");
    assert!(inst.get("rootPassword").is_none());
    assert_eq!(inst["ipAddresses"][0]["type"], "PRIMARY");
    let address = inst["ipAddresses"][0]["ipAddress"].as_str().unwrap_or_default().to_string();
    assert!(address.starts_with("127.0.0."), "{inst}");

    emu.mutate(P, "POST", &format!("{base}/databases"), Some(&json!({"name": "attendee"})));
    emu.mutate(P, "POST", &format!("{base}/users"), Some(&json!({"name": "attendee", "password": "it's-a-secret"})));
    let (_, dbs) = emu.call("GET", &format!("{base}/databases"), None);
    let names: Vec<&str> = dbs["items"].as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["attendee", "postgres"], "{dbs}");
    let (_, users) = emu.call("GET", &format!("{base}/users"), None);
    let names: Vec<&str> = users["items"].as_array().into_iter().flatten().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["attendee", "postgres"], "{users}");
    let (status, db) = emu.call("GET", &format!("{base}/databases/attendee"), None);
    assert_eq!((status, db["charset"].as_str()), (200, Some("UTF8")), "{db}");

    // The user logs in with its password over TCP and sees the database; the root password works.
    let seen = psql(&address, "attendee", "it's-a-secret", "attendee", "SELECT current_database() || ' ' || current_user");
    assert_eq!(seen.as_deref(), Ok("attendee attendee"));
    assert!(psql(&address, "attendee", "wrong", "attendee", "SELECT 1").is_err());
    assert_eq!(psql(&address, "postgres", "root-pw", "postgres", "SELECT 1").as_deref(), Ok("1"));
    // A new password through users.update (`?name=`).
    emu.mutate(P, "PUT", &format!("{base}/users?name=attendee&host="), Some(&json!({"password": "second"})));
    assert_eq!(psql(&address, "attendee", "second", "attendee", "SELECT 1").as_deref(), Ok("1"));
    let (status, err) = emu.call("POST", &format!("{base}/databases"), Some(&json!({"name": "attendee"})));
    assert_eq!(status, 400, "an existing database: {err}");
    // Work that fails in PostgreSQL ends the operation DONE with error.errors[].
    let (status, op) = emu.call("POST", &format!("{base}/databases"), Some(&json!({"name": "other", "charset": "BOGUS"})));
    assert_eq!(status, 200, "{op}");
    let failed = emu.wait(P, &op);
    let message = failed["error"]["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("BOGUS"), "{failed}");
    assert!(failed["error"]["errors"][0]["code"].is_string(), "{failed}");

    // Patch the tier: settingsVersion moves on; a stale one is refused.
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"tier": "db-custom-4-15360", "settingsVersion": "1"}})));
    let (_, inst) = emu.call("GET", &base, None);
    assert_eq!(inst["settings"]["tier"], "db-custom-4-15360");
    assert_eq!(inst["settings"]["settingsVersion"], "2");
    assert_eq!(inst["settings"]["userLabels"]["app"], "attendee", "a patch keeps what it does not name");
    // Database flags are the server's settings: max_connections needs a restart, work_mem a reload.
    let flags = json!({"settings": {"databaseFlags": [{"name": "max_connections", "value": "42"}, {"name": "work_mem", "value": "8192"}]}});
    emu.mutate(P, "PATCH", &base, Some(&flags));
    let show = |setting: &str| psql(&address, "attendee", "second", "attendee", &format!("SHOW {setting}"));
    assert_eq!(show("max_connections").as_deref(), Ok("42"));
    assert_eq!(show("work_mem").as_deref(), Ok("8MB"));
    let (status, err) = emu.call("PATCH", &base, Some(&json!({"settings": {"databaseFlags": [{"name": "max_connections", "value": "1"}]}})));
    assert_eq!(status, 400, "{err}");

    // Authorized networks are kept as given (every connection comes from loopback here).
    let networks = json!({"settings": {"ipConfiguration": {"authorizedNetworks": [{"name": "vps", "value": "203.0.113.7/32"}]}}});
    emu.mutate(P, "PATCH", &base, Some(&networks));
    let (_, inst) = emu.call("GET", &base, None);
    assert_eq!(inst["settings"]["ipConfiguration"]["authorizedNetworks"], json!([{"kind": "sql#aclEntry", "name": "vps", "value": "203.0.113.7/32"}]));
    assert_eq!(inst["settings"]["settingsVersion"], "4");
    let (status, err) = emu.call("PATCH", &base, Some(&json!({"settings": {"tier": "db-custom-2-7680", "settingsVersion": "1"}})));
    assert_eq!(status, 412, "{err}");
    let (status, err) = emu.call("PATCH", &base, Some(&json!({"settings": {"tier": "db-perf-optimized-N-2"}})));
    assert_eq!(status, 400, "an Enterprise Plus tier on Enterprise: {err}");

    // The server speaks TLS with serverCaCert; ENCRYPTED_ONLY refuses plain connections.
    let ssl =
        |mode: &str| psql(&format!("{address} sslmode={mode}"), "attendee", "second", "attendee", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert_eq!(ssl("require").as_deref(), Ok("t"));
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}}})));
    assert!(ssl("disable").is_err(), "a plain connection to an ENCRYPTED_ONLY instance");
    assert_eq!(ssl("require").as_deref(), Ok("t"));

    // Deletion protection refuses the delete; the instance and its server stay.
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"deletionProtectionEnabled": true}})));
    let (status, err) = emu.call("DELETE", &base, None);
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().is_some_and(|m| m.contains("protected")), "{err}");
    assert_eq!(psql(&address, "attendee", "second", "attendee", "SELECT 1").as_deref(), Ok("1"));

    // Unprotected, the delete stops the server and removes its data.
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"deletionProtectionEnabled": false}})));
    let pgdata = emu.data_dir.join("instances").join(P).join("attendee-db");
    assert!(!cloudsql::processes_mentioning(&pgdata.display().to_string()).is_empty(), "the server runs before the delete");
    emu.mutate(P, "DELETE", &base, None);
    let (status, err) = emu.call("GET", &base, None);
    assert_eq!(status, 404);
    assert_google_error(&err, 404, "instanceDoesNotExist");
    assert_eq!(err["error"]["status"], "NOT_FOUND");
    assert_eq!(cloudsql::processes_mentioning(&pgdata.display().to_string()), Vec::<String>::new());
    assert!(!pgdata.exists(), "{} is left", pgdata.display());
    assert!(psql(&address, "attendee", "second", "attendee", "SELECT 1").is_err());

    // The name stays reserved for a week.
    let (status, err) = emu.call("POST", &format!("/v1/projects/{P}/instances"), Some(&instance_body("attendee-db")));
    assert_eq!(status, 409);
    assert_google_error(&err, 409, "instanceAlreadyExists");
    assert!(err["error"]["message"].as_str().is_some_and(|m| m.contains("one week")), "{err}");
}

#[test]
fn requests_are_validated_as_cloud_sql_does_and_errors_have_googles_shape() {
    let dir = cloudsql::data_dir();
    let emu = cloudsql::start(bin(), dir.path(), &Options::default());
    let insert = |body: Value| emu.call("POST", &format!("/v1/projects/{P}/instances"), Some(&body));
    for name in ["1db", "Db", "db_1", "db-", &"d".repeat(99)] {
        let (status, err) = insert(instance_body(name));
        assert_eq!(status, 400, "{name}: {err}");
        assert_google_error(&err, 400, "invalid");
    }
    let mut mysql = instance_body("db");
    mysql["databaseVersion"] = json!("MYSQL_8_0");
    assert_eq!(insert(mysql).0, 400);
    // PostgreSQL 16 defaults to Enterprise Plus, where custom tiers do not exist.
    let mut plus = instance_body("db");
    plus["settings"].as_object_mut().map(|s| s.remove("edition"));
    let (status, err) = insert(plus);
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().is_some_and(|m| m.contains("ENTERPRISE_PLUS")), "{err}");
    let mut no_tier = instance_body("db");
    no_tier["settings"] = json!({});
    assert_eq!(insert(no_tier).0, 400);
    let (status, err) = emu.call("POST", &format!("/v1/projects/{P}/instances"), None);
    assert_eq!(status, 400, "{err}");
    let (status, err) = http_raw(&emu, "POST", &format!("/v1/projects/{P}/instances"), "{not json");
    assert_eq!(status, 400, "{err}");

    let (status, err) = emu.call("GET", &format!("/v1/projects/{P}/operations/no-such-op"), None);
    assert_eq!(status, 404);
    assert_google_error(&err, 404, "operationDoesNotExist");
    let (status, err) = emu.call("DELETE", &format!("/v1/projects/{P}/instances/missing"), None);
    assert_eq!(status, 404);
    assert_google_error(&err, 404, "instanceDoesNotExist");
    let (status, _) = emu.call("GET", "/v1/nothing/here", None);
    assert_eq!(status, 404);

    let (status, tiers) = emu.call("GET", &format!("/v1/projects/{P}/tiers"), None);
    assert_eq!(status, 200);
    assert!(tiers["items"].as_array().is_some_and(|t| t.iter().any(|t| t["tier"] == "db-f1-micro")), "{tiers}");
    let (status, flags) = emu.call("GET", "/v1/flags?databaseVersion=POSTGRES_16", None);
    assert_eq!(status, 200);
    assert!(flags["items"].as_array().is_some_and(|f| f.iter().any(|f| f["name"] == "max_connections")), "{flags}");
    let (_, list) = emu.call("GET", &format!("/sql/v1beta4/projects/{P}/instances"), None);
    assert_eq!(list["kind"], "sql#instancesList", "{list}");
}

fn http_raw(emu: &CloudSql, method: &str, path: &str, body: &str) -> (u16, String) {
    cloudsql::http(&emu.addr, method, path, Some(body))
}

#[test]
fn a_restarted_emulator_finds_its_instances_and_starts_their_servers() {
    let dir = cloudsql::data_dir();
    let mut emu = cloudsql::start(bin(), dir.path(), &Options::default());
    let inst = create_instance(&emu, "kept");
    let base = format!("/v1/projects/{P}/instances/kept");
    emu.mutate(P, "POST", &format!("{base}/users"), Some(&json!({"name": "app", "password": "pw-1"})));
    let address = inst["ipAddresses"][0]["ipAddress"].as_str().unwrap_or_default().to_string();
    let pgdata = emu.data_dir.join("instances").join(P).join("kept").display().to_string();

    // restart, and activationPolicy NEVER / ALWAYS stop and start the server.
    emu.mutate(P, "POST", &format!("{base}/restart"), None);
    assert_eq!(psql(&address, "app", "pw-1", "postgres", "SELECT 1").as_deref(), Ok("1"));
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"activationPolicy": "NEVER"}})));
    assert!(psql(&address, "app", "pw-1", "postgres", "SELECT 1").is_err());
    let (status, err) = emu.call("GET", &format!("{base}/users"), None);
    assert_eq!(status, 400, "users of a stopped instance: {err}");
    emu.mutate(P, "PATCH", &base, Some(&json!({"settings": {"activationPolicy": "ALWAYS"}})));
    assert_eq!(psql(&address, "app", "pw-1", "postgres", "SELECT 1").as_deref(), Ok("1"));

    emu.stop();
    assert_eq!(cloudsql::processes_mentioning(&pgdata), Vec::<String>::new(), "SIGTERM stops the servers");
    assert!(psql(&address, "app", "pw-1", "postgres", "SELECT 1").is_err());

    let emu = cloudsql::start(bin(), dir.path(), &Options::default());
    let (status, again) = emu.call("GET", &base, None);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["state"], "RUNNABLE");
    assert_eq!(again["ipAddresses"], inst["ipAddresses"]);
    assert_eq!(psql(&address, "app", "pw-1", "postgres", "SELECT current_user").as_deref(), Ok("app"));
    let (_, ops) = emu.call("GET", &format!("/v1/projects/{P}/operations?instance=kept"), None);
    assert_eq!(ops["items"].as_array().map(Vec::len), Some(5), "{ops}");
    assert_eq!(ops["items"][0]["operationType"], "UPDATE", "newest first: {ops}");

    // Another process took the address while the emulator was down: the server moves to a
    // free one, and the API says where.
    drop(emu);
    let squatter = std::net::TcpListener::bind((address.as_str(), 5432)).expect("bind the instance's address");
    let emu = cloudsql::start(bin(), dir.path(), &Options::default());
    let (_, moved) = emu.call("GET", &base, None);
    let new_address = moved["ipAddresses"][0]["ipAddress"].as_str().unwrap_or_default().to_string();
    assert_ne!(new_address, address, "{moved}");
    assert_eq!(psql(&new_address, "app", "pw-1", "postgres", "SELECT current_user").as_deref(), Ok("app"));
    drop(squatter);
}

/// Nothing a client sends may crash the emulator: malformed and hostile bodies get an error or
/// an operation, and the emulator keeps answering.
#[test]
fn hostile_requests_get_answers_not_crashes() {
    let dir = cloudsql::data_dir();
    let emu = cloudsql::start(bin(), dir.path(), &Options { op_delay_ms: 0 });
    let bodies = [
        "[]".to_string(),
        "\"text\"".to_string(),
        "null".to_string(),
        "{\"name\": 5, \"settings\": []}".to_string(),
        "{\"name\": \"ok-name\", \"databaseVersion\": -1, \"settings\": {\"tier\": 7}}".to_string(),
        "{\"name\": \"ok-name\", \"databaseVersion\": \"POSTGRES_16\", \"settings\": \"db-f1-micro\"}".to_string(),
        "{\"name\": \"ok-name\", \"databaseVersion\": 999999999999, \"settings\": {\"tier\": \"db-custom-99999999999999999999-1\", \"edition\": \"ENTERPRISE\"}}".to_string(),
        "{\"name\": \"ok-name\", \"databaseVersion\": \"POSTGRES_16\", \"settings\": {\"tier\": \"db-f1-micro\", \"edition\": \"ENTERPRISE\", \"backupConfiguration\": {\"startTime\": \"éé:0\"}}}".to_string(),
        format!("{{\"name\": \"{}\"}}", "é".repeat(200)),
        format!("{}{}", "{\"settings\":".repeat(200), "}".repeat(200)),
        "{".to_string(),
    ];
    let paths = [
        format!("/v1/projects/{P}/instances"),
        format!("/v1/projects/{P}/instances/missing"),
        format!("/v1/projects/{P}/instances/missing/databases"),
        format!("/v1/projects/{P}/instances/missing/users?name=%ZZ"),
        "/v1/projects/..%2F..%2Fetc/instances".to_string(),
        "/v1/projects/%00/instances".to_string(),
    ];
    for path in &paths {
        for method in ["POST", "PATCH", "PUT", "DELETE", "GET"] {
            for body in &bodies {
                let (status, text) = cloudsql::http(&emu.addr, method, path, Some(body));
                assert!((200..600).contains(&status), "{method} {path} {body}: no answer");
                let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path} {body}: {text}: {e}"));
                if status != 200 {
                    assert!(json["error"]["code"].is_number(), "{method} {path}: {json}");
                }
            }
        }
    }
    let (status, _) = emu.call("GET", &format!("/v1/projects/{P}/instances"), None);
    assert_eq!(status, 200);
}
