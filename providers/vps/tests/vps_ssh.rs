//! The vps provider against a real OpenSSH server in a network namespace (the machine itself):
//! files, directories, commands, import, drift from hand edits, one round trip per refresh,
//! refused keys, and names that would break a naively quoted shell.

use infra_test_harness::vps::*;
use std::os::unix::fs::PermissionsExt;

/// A directory and a file whose names hold spaces, quotes and a newline-free `$(…)`.
fn hostile_dir(root: &std::path::Path) -> String {
    root.join("app dir 'quoted' $(touch pwned)").display().to_string()
}

fn stack(sshd: &Sshd, dir: &str, marker: &str, content: &str) -> String {
    format!(
        r#"{}
resource "vps_directory" "app" {{
  path = {dir:?}
  mode = "0750"
}}

resource "vps_file" "config" {{
  path    = "${{vps_directory.app.path}}/it's \"config\".txt"
  content = {content:?}
  mode    = "640"
}}

resource "vps_file" "secret" {{
  path              = "${{vps_directory.app.path}}/secret.env"
  sensitive_content = "TOKEN=hunter2\n"
  mode              = "0600"
}}

resource "vps_command" "hello" {{
  create  = "printf 'hello from %s' \"$(hostname)\""
  destroy = "touch {marker}"
}}

output "hello" {{
  value = vps_command.hello.stdout
}}
"#,
        sshd.provider_block("")
    )
}

#[test]
fn files_directories_and_commands_apply_read_back_in_one_round_trip_and_show_hand_edits() {
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = hostile_dir(root.path());
    let content = "line one\nit's \"quoted\" $(not run) `nor this`\n\ttabbed\n";
    std::fs::write(work.path().join("main.tf"), stack(&sshd, &dir, &root.path().join("destroyed").display().to_string(), content)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Resources: 4 added"), "{out}");
    assert!(out.contains(&format!("hello = \"hello from {}\"", sh("hostname").trim())), "{out}");

    // What landed on the host (the same machine) is exactly what was asked.
    let file = format!("{dir}/it's \"config\".txt");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o7777, 0o640);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777, 0o750);
    assert_eq!(std::fs::metadata(format!("{dir}/secret.env")).unwrap().permissions().mode() & 0o7777, 0o600);
    assert!(!root.path().join("pwned").exists() && !work.path().join("pwned").exists(), "no name was run as a command");
    assert!(!out.contains("hunter2"), "secret content is never printed:\n{out}");

    // A refresh of every object on the host is one round trip.
    let before = sshd.sessions();
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(sshd.sessions() - before, 1, "one SSH session for the whole refresh");
    // A drift report adds one round trip for the listing of every type on the host (what this
    // machine holds beyond the stack decides the exit code: 0 or 2, never an error).
    let before = sshd.sessions();
    let (code, out) = infra(work.path(), &["drift", "--json"]);
    assert!(code == 0 || code == 2, "{out}");
    assert!(out.contains("\"listings\": 7"), "one listing per type: {out}");
    assert_eq!(sshd.sessions() - before, 2, "one SSH session for the refresh, one for the seven listings");

    // Hand edits are drift: the plan names the file and shows the change; apply restores it.
    std::fs::write(&file, "edited by hand\n").unwrap();
    std::fs::write(format!("{dir}/secret.env"), "TOKEN=leaked\n").unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, out) = infra(work.path(), &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_file.config") && out.contains("edited by hand") && out.contains("vps_directory.app") && out.contains("\"0777\""), "{out}");
    assert!(out.contains("vps_file.secret") && !out.contains("leaked"), "a sensitive file's drift shows without its content:\n{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    assert_eq!(std::fs::read_to_string(format!("{dir}/secret.env")).unwrap(), "TOKEN=hunter2\n");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777, 0o750);
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);

    // Destroy removes what it wrote and runs the destroy command.
    let (code, out) = infra(work.path(), &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(!std::path::Path::new(&dir).exists(), "the directory is gone");
    assert!(root.path().join("destroyed").exists(), "the destroy command ran");
}

#[test]
fn an_existing_file_imports_by_path_with_an_empty_plan() {
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("by hand.conf");
    std::fs::write(&path, "made by hand\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let stack = format!(
        "{}\nimport {{\n  to = vps_file.hand\n  id = {path:?}\n}}\n\nresource \"vps_file\" \"hand\" {{\n  path    = {path:?}\n  content = \"made by hand\\n\"\n  mode    = \"0600\"\n}}\n",
        sshd.provider_block(""),
        path = path.display().to_string()
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}

#[test]
fn unknown_or_changed_host_keys_and_wrong_client_keys_are_refused() {
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let (_, impostor) = keypair(other.path(), "impostor");
    let (wrong_client, _) = keypair(other.path(), "wrong_client");
    let real_fingerprint = sh(&format!("echo '{}' | ssh-keygen -lf - | cut -d' ' -f2", sshd.host_key)).trim().to_string();
    let file = |block: String| format!("{block}\ndata \"vps_host\" \"this\" {{}}\n\noutput \"os\" {{\n  value = data.vps_host.this.os_id\n}}\n");

    // The right keys work (and the data source reads the host).
    std::fs::write(work.path().join("main.tf"), file(sshd.provider_block(""))).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("os = \"debian\""), "{out}");

    // A pinned key that is not the server's: refused, naming the fingerprint it saw.
    let pinned_wrong = sshd
        .provider_block("")
        .replace(&sshd.host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" "), &impostor.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    std::fs::write(work.path().join("main.tf"), file(pinned_wrong)).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Host key not trusted") && out.contains(&real_fingerprint), "{out}");

    // known_hosts: a changed key for this host, then no entry for it at all.
    let known = other.path().join("known_hosts");
    let with_known = |line: String| {
        std::fs::write(&known, line).unwrap();
        let block = sshd.provider_block("").replace(
            &format!("  host_key         = \"{}\"\n", sshd.host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")),
            &format!("  known_hosts_file = \"{}\"\n", known.display()),
        );
        std::fs::write(work.path().join("main.tf"), file(block)).unwrap();
        infra(work.path(), &["plan"])
    };
    let (code, out) = with_known(format!("{} {}\n", sshd.netns.ns_ip, impostor));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("changed") && out.contains(&real_fingerprint), "{out}");
    let (code, out) = with_known(format!("10.9.9.9 {}\n", sshd.host_key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not list") && out.contains(&real_fingerprint), "{out}");
    let (code, out) = with_known(format!("{} {}\n", sshd.netns.ns_ip, sshd.host_key));
    assert_eq!(code, 0, "{out}");
    // Hashed entries (ssh-keygen -H, HashKnownHosts) are read too.
    sh(&format!("ssh-keygen -q -H -f {} && rm -f {}.old", known.display(), known.display()));
    assert!(std::fs::read_to_string(&known).unwrap().starts_with("|1|"));
    let block = sshd.provider_block("").replace(
        &format!("  host_key         = \"{}\"\n", sshd.host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")),
        &format!("  known_hosts_file = \"{}\"\n", known.display()),
    );
    std::fs::write(work.path().join("main.tf"), file(block)).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 0, "{out}");

    // A client key the server does not know.
    let wrong = sshd.provider_block("").replace(&sshd.client_key.display().to_string(), &wrong_client.display().to_string());
    std::fs::write(work.path().join("main.tf"), file(wrong)).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("SSH authentication failed"), "{out}");
}

fn compose_stack(sshd: &Sshd, dir: &str, image: &str, worker: bool) -> String {
    let worker = if worker { format!("  worker:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n") } else { String::new() };
    format!(
        "{}\nresource \"vps_compose_stack\" \"app\" {{\n  directory    = {dir:?}\n  project_name = \"infratest\"\n  compose      = <<-EOT\n    services:\n      web:\n        image: {image}\n        command: [\"sleep\", \"3600\"]\n        environment:\n          GREETING: $${{GREETING}}\n          LITERAL: $${{LITERAL}}\n    {worker}  EOT\n  env = {{\n    GREETING = \"hello 'world'\"\n    LITERAL  = \"$HOME stays\"\n  }}\n}}\n",
        sshd.provider_block(""),
        worker = worker.replace("\n  ", "\n      ")
    )
}

#[test]
fn a_compose_stack_runs_updates_and_goes_down_on_the_local_engine() {
    let image = busybox_image();
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("stack").display().to_string();
    std::fs::write(work.path().join("main.tf"), compose_stack(&sshd, &dir, image, false)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(compose_services("infratest"), ["web running"]);
    assert!(!out.contains("hello 'world'"), "the env map is sensitive:\n{out}");
    assert_eq!(std::fs::metadata(format!("{dir}/.env")).unwrap().permissions().mode() & 0o777, 0o600);
    let container = sh("docker ps -q --filter label=com.docker.compose.project=infratest --filter label=com.docker.compose.service=web").trim().to_string();
    assert_eq!(
        sh(&format!("docker exec {container} /bin/busybox sh -c 'echo \"$GREETING|$LITERAL\"'")),
        "hello 'world'|$HOME stays\n",
        "values reach the service literally"
    );
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);

    // A changed stack is brought up to date; a stopped service is not the stack's business
    // until the compose file or env changes, but a hand edit of the env file is drift.
    std::fs::write(work.path().join("main.tf"), compose_stack(&sshd, &dir, image, true)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(compose_services("infratest"), ["web running", "worker running"]);
    std::fs::write(format!("{dir}/.env"), "GREETING=tampered\n").unwrap();
    let (code, out) = infra(work.path(), &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_compose_stack.app") && out.contains("env_sha256") && !out.contains("tampered"), "{out}");

    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    // A service stopped by hand is drift too; apply starts it again.
    sh("docker stop -t 1 $(docker ps -q --filter label=com.docker.compose.project=infratest --filter label=com.docker.compose.service=worker) >/dev/null");
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("~ running") && out.contains("false -> true"), "{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(compose_services("infratest"), ["web running", "worker running"]);

    // A compose project started by hand on the managed host is unmanaged drift, found by its
    // working directory; the managed one is not. (Other tests' projects may run meanwhile.)
    let by_hand = root.path().join("by-hand");
    std::fs::create_dir(&by_hand).unwrap();
    std::fs::write(by_hand.join("compose.yaml"), format!("services:\n  idle:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n")).unwrap();
    // The plugin or the standalone tool, as the provider picks.
    let dc = "dc() { if docker compose version >/dev/null 2>&1; then docker compose \"$@\"; else docker-compose \"$@\"; fi; }; dc";
    sh(&format!("cd {} && {dc} -p infrabyhand up -d 2>&1", by_hand.display()));
    let (code, out) = infra(work.path(), &["drift", "--json"]);
    sh(&format!("cd {} && {dc} -p infrabyhand down -t 1 2>&1", by_hand.display()));
    assert_eq!(code, 2, "{out}");
    // The report is stdout's one JSON document; stderr (warnings) follows it in `out`.
    let json = out.find('{').zip(out.rfind("\n}")).map(|(a, b)| &out[a..b + 2]).unwrap_or("");
    let report: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {out}"));
    let unmanaged: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unmanaged" && f["type"] == "vps_compose_stack")
        .map(|f| (f["id"].as_str().unwrap_or("").to_string(), f["name"].as_str().unwrap_or("").to_string()))
        .collect();
    assert!(unmanaged.contains(&(by_hand.display().to_string(), "infrabyhand".to_string())), "{unmanaged:?}\n{out}");
    assert!(!unmanaged.iter().any(|(id, _)| *id == dir), "the managed project is not unmanaged: {unmanaged:?}");

    // Destroy brings the stack down and removes its files.
    let (code, out) = infra(work.path(), &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(compose_services("infratest"), Vec::<String>::new());
    assert!(!std::path::Path::new(&dir).exists());
}

/// The blocks of a discovered file (`resource` or `import` blocks, split at their first line)
/// that mention `needle`: other tests' compose projects may run on this engine meanwhile.
fn blocks_mentioning(text: &str, start: &str, needle: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with(start) || parts.is_empty() {
            parts.push(String::new());
        }
        if let Some(last) = parts.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    let kept: Vec<String> = parts.iter().filter(|p| p.contains(needle)).map(|p| p.trim_end().to_string() + "\n").collect();
    kept.join("\n")
}

/// `infra discover vps` on compose projects started by hand with the usual commands: one from
/// a `docker-compose.yml` under a project name that is not its directory's, without `.env`;
/// one from a `compose.yml` with a `.env`. Both are written as `vps_compose_stack` blocks
/// (the secret left for the user to fill), plan as imports only, apply without touching the
/// containers, and the next plan is empty; a change is written to the project's own file.
#[test]
fn compose_projects_started_by_hand_are_discovered_imported_and_plan_clean() {
    let image = busybox_image();
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let plain = root.path().join("Hand App");
    let with_env = root.path().join("withenv");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&with_env).unwrap();
    let service = |name: &str| format!("  {name}:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n");
    std::fs::write(plain.join("docker-compose.yml"), format!("services:\n{}", service("idle"))).unwrap();
    std::fs::write(with_env.join("compose.yml"), format!("services:\n{}    environment:\n      GREETING: ${{GREETING}}\n", service("web"))).unwrap();
    std::fs::write(with_env.join(".env"), "# by hand\nGREETING=\"hello there\"\n").unwrap();
    let dc = "dc() { if docker compose version >/dev/null 2>&1; then docker compose \"$@\"; else docker-compose \"$@\"; fi; }; dc";
    sh(&format!("cd '{}' && {dc} -p infrahandmade up -d 2>&1", plain.display()));
    sh(&format!("cd '{}' && {dc} up -d 2>&1", with_env.display()));
    // Brought down whatever the test's outcome (the directories may be gone by then).
    struct Down(String);
    impl Drop for Down {
        fn drop(&mut self) {
            let _ = std::process::Command::new("sh").arg("-c").arg(&self.0).output();
        }
    }
    let _down = Down(
        "for p in infrahandmade withenv; do ids=$(docker ps -aq --filter label=com.docker.compose.project=$p); [ -z \"$ids\" ] || docker rm -f $ids; docker network rm ${p}_default; done >/dev/null 2>&1"
            .to_string(),
    );
    let container = |project: &str| sh(&format!("docker ps -q --filter label=com.docker.compose.project={project}")).trim().to_string();
    let before = (container("infrahandmade"), container("withenv"));
    assert!(!before.0.is_empty() && !before.1.is_empty(), "{before:?}");

    let key: Vec<&str> = sshd.host_key.split_whitespace().take(2).collect();
    let (ip, client_key, host_key) = (sshd.netns.ns_ip.clone(), sshd.client_key.display().to_string(), key.join(" "));
    let root_path = root.path().display().to_string();
    let args = [
        "discover",
        "vps",
        "--host",
        &ip,
        "--user",
        "root",
        "--private-key-file",
        &client_key,
        "--host-key",
        &host_key,
        "--type",
        "vps_compose_stack",
        "--type",
        "vps_file",
        "--path",
        &root_path,
        "--out",
        "stack",
    ];
    let (code, out) = infra(work.path(), &args);
    assert_eq!(code, 0, "{out}");
    let dir = work.path().join("stack");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    // The compose files and .env under the --path are the projects', not vps_files too.
    assert_eq!(names, ["compose.tf", "imports.tf", "provider.tf"]);
    // Only this test's projects (their directories are under `root`).
    let needle = root.path().display().to_string();
    let compose = blocks_mentioning(&std::fs::read_to_string(dir.join("compose.tf")).unwrap(), "resource ", &needle);
    let imports = blocks_mentioning(&std::fs::read_to_string(dir.join("imports.tf")).unwrap(), "import ", &needle);
    eprintln!("--- compose.tf\n{compose}--- imports.tf\n{imports}");
    let squashed = compose.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(squashed.matches("resource \"vps_compose_stack\"").count(), 2, "{compose}");
    assert!(squashed.contains("resource \"vps_compose_stack\" \"infrahandmade\""), "named after the project: {compose}");
    assert!(squashed.contains(&format!("directory = \"{}\"", plain.display())) && squashed.contains("project_name = \"infrahandmade\""), "{compose}");
    assert!(squashed.contains("compose = <<-EOT services: idle:") && squashed.contains("GREETING: $${GREETING}"), "the project's own files: {compose}");
    assert_eq!(squashed.matches("env = null # sensitive").count(), 1, "only the project with a .env has one, never its values: {compose}");
    assert!(!compose.contains("hello there"), "{compose}");
    assert_eq!(imports.matches("import {").count(), 2, "{imports}");
    std::fs::write(dir.join("compose.tf"), &compose).unwrap();
    std::fs::write(dir.join("imports.tf"), &imports).unwrap();
    let (fcode, fout) = infra(&dir, &["fmt", "-check"]);
    assert_eq!(fcode, 0, "{fout}");
    // The user fills the secret in, as the comment asks.
    let compose = compose.replace("null # sensitive", "{ GREETING = \"hello there\" }");
    std::fs::write(dir.join("compose.tf"), &compose).unwrap();

    let (code, out) = infra(&dir, &["plan", "--detailed-exitcode"]);
    let (acode, aout) = infra(&dir, &["apply", "--auto-approve"]);
    let (pcode, pout) = infra(&dir, &["plan", "--detailed-exitcode"]);
    let after = (container("infrahandmade"), container("withenv"));
    let files = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    let (plain_files, env_text) = (files(&plain), std::fs::read_to_string(with_env.join(".env")).unwrap_or_default());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    assert_eq!(acode, 0, "{aout}");
    assert_eq!(pcode, 0, "the next plan is empty:\n{pout}");
    assert_eq!(after, before, "importing recreated no container");
    assert_eq!(plain_files, ["docker-compose.yml"], "importing wrote nothing");
    assert_eq!(env_text, "# by hand\nGREETING=\"hello there\"\n");

    // A first change is written to the project's own file and brought up.
    let changed =
        std::fs::read_to_string(dir.join("compose.tf")).unwrap().replace("      idle:\n", "      idle:\n        labels:\n          changed: \"yes\"\n");
    assert!(changed.contains("changed: \"yes\""), "{changed}");
    std::fs::write(dir.join("compose.tf"), changed).unwrap();
    let (code, out) = infra(&dir, &["apply", "--auto-approve"]);
    let (pcode, pout) = infra(&dir, &["plan", "--detailed-exitcode"]);
    let written = std::fs::read_to_string(plain.join("docker-compose.yml")).unwrap_or_default();
    let plain_files = files(&plain);
    let label = sh(&format!("docker inspect -f '{{{{index .Config.Labels \"changed\"}}}}' {}", container("infrahandmade")));
    let (dcode, dout) = infra(&dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 changed"), "{out}");
    assert_eq!(pcode, 0, "{pout}");
    assert!(written.contains("changed: \"yes\""), "{written}");
    assert!(!plain_files.contains(&"compose.yaml".to_string()), "no second compose file: {plain_files:?}");
    assert_eq!(label.trim(), "yes");
    assert_eq!(dcode, 0, "{dout}");
    assert!(compose_services("infrahandmade").is_empty() && compose_services("withenv").is_empty());
}

/// An example's compose stack (`target`) applied to this machine's engine, reached over SSH,
/// with the local busybox image standing in for every service.
fn example_compose_on_the_local_engine(example_name: &str, target: &str, project: &str, images: &str, extra: &[&str]) {
    let image = busybox_image();
    let sshd = start_sshd();
    let dir = example(example_name);
    let root = tempfile::tempdir().unwrap();
    let key: Vec<&str> = sshd.host_key.split_whitespace().take(2).collect();
    let mut vars = vec![
        format!("host={}", sshd.netns.ns_ip),
        format!("private_key_file={}", sshd.client_key.display()),
        format!("host_key={}", key.join(" ")),
        format!("app_dir={}", root.path().join("app").display()),
        format!("images={}", images.replace("IMAGE", image)),
        "stand_in_command=[\"sleep\",\"3600\"]".to_string(),
    ];
    vars.extend(extra.iter().map(|s| s.to_string()));
    let mut args: Vec<String> = vec!["apply".into(), "--auto-approve".into(), "--target".into(), target.into()];
    args.extend(vars.iter().flat_map(|v| ["--var".to_string(), v.clone()]));
    let (code, out) = infra(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out}");
    assert!(compose_services(project).iter().all(|s| s.ends_with(" running")) && !compose_services(project).is_empty(), "{:?}", compose_services(project));
    let env = std::fs::read_to_string(root.path().join("app/.env")).unwrap();
    assert_eq!(std::fs::metadata(root.path().join("app/.env")).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!out.contains(env.lines().next().unwrap_or("none")), "secrets are not printed");
    args[0] = "destroy".into();
    let (code, out) = infra(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out}");
    assert!(compose_services(project).is_empty());
}

#[test]
fn the_finaiflow_compose_stack_runs_on_the_local_engine() {
    example_compose_on_the_local_engine(
        "finaiflow",
        "vps_compose_stack.app",
        "finaiflow",
        "{api=\"IMAGE\",postgres=\"IMAGE\",redis=\"IMAGE\",nginx=\"IMAGE\"}",
        &["http_port=18080", "https_port=18443"],
    );
}

#[test]
fn the_attendee_compose_stack_runs_on_the_local_engine() {
    let dirs = tempfile::tempdir().unwrap();
    let backups = format!("backups_dir={}", dirs.path().join("backups").display());
    let frontend = format!("frontend_dir={}", dirs.path().join("frontend").display());
    example_compose_on_the_local_engine(
        "attendee-ems-vps",
        "vps_compose_stack.app",
        "attendee",
        "{backend=\"IMAGE\",postgres=\"IMAGE\"}",
        &[&backups, &frontend],
    );
}

#[test]
fn keys_come_from_content_or_an_agent_and_aliases_reach_two_hosts() {
    let (one, two) = (start_sshd(), start_sshd());
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    // host one: the key's content (sensitive), never a file infra writes; host two: the agent.
    let agent_sock = root.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent").args(["-D", "-a"]).arg(&agent_sock).stdout(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !agent_sock.exists() {
        assert!(std::time::Instant::now() < deadline, "ssh-agent did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sh(&format!("SSH_AUTH_SOCK={} ssh-add -q {}", agent_sock.display(), two.client_key.display()));
    let block_one = one.provider_block("").replace(
        &format!("  private_key_file = \"{}\"\n", one.client_key.display()),
        &format!("  private_key      = file({:?})\n", one.client_key.display().to_string()),
    );
    let block_two =
        two.provider_block("  alias = \"two\"\n").replace(&format!("  private_key_file = \"{}\"\n", two.client_key.display()), "  agent            = true\n");
    let stack = format!(
        "{block_one}\n{block_two}\nresource \"vps_file\" \"one\" {{\n  path    = \"{r}/one.txt\"\n  content = \"one\\n\"\n}}\n\nresource \"vps_file\" \"two\" {{\n  provider = vps.two\n  path     = \"{r}/two.txt\"\n  content  = \"two\\n\"\n}}\n",
        r = root.path().display()
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let out = std::process::Command::new(infra_test_harness::infra_bin())
        .args(["apply", "--auto-approve"])
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .env("SSH_AUTH_SOCK", &agent_sock)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "the key content is never printed:\n{text}");
    assert_eq!(std::fs::read_to_string(root.path().join("one.txt")).unwrap(), "one\n");
    assert_eq!(std::fs::read_to_string(root.path().join("two.txt")).unwrap(), "two\n");
    assert_eq!(one.sessions(), 1, "each file went to its own host");
    assert_eq!(two.sessions(), 1);
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn the_host_can_come_from_another_resource_and_triggers_rerun_a_command() {
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("runs.log");
    // The address is only known once another resource exists (as an instance's IP would be).
    let stack = |release: &str| {
        let block = sshd.provider_block("").replace(&format!("host             = \"{}\"", sshd.netns.ns_ip), "host             = terraform_data.server.output");
        format!(
            "resource \"terraform_data\" \"server\" {{\n  input = \"{}\"\n}}\n\n{block}\nresource \"vps_command\" \"deploy\" {{\n  create   = \"echo {release} >> {log}; echo deployed {release}\"\n  triggers = {{ release = \"{release}\" }}\n}}\n\nresource \"vps_file\" \"from_source\" {{\n  path   = \"{r}/uploaded.txt\"\n  source = \"${{path.module}}/local.txt\"\n}}\n",
            sshd.netns.ns_ip,
            log = log.display(),
            r = root.path().display()
        )
    };
    std::fs::write(work.path().join("local.txt"), "uploaded as is\n").unwrap();
    std::fs::write(work.path().join("main.tf"), stack("v1")).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(root.path().join("uploaded.txt")).unwrap(), "uploaded as is\n");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
    // A changed trigger runs the command again; a changed source file uploads again.
    std::fs::write(work.path().join("main.tf"), stack("v2")).unwrap();
    std::fs::write(work.path().join("local.txt"), "second upload\n").unwrap();
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_command.deploy must be replaced") && out.contains("vps_file.from_source will be updated in-place"), "{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "v1\nv2\n");
    assert_eq!(std::fs::read_to_string(root.path().join("uploaded.txt")).unwrap(), "second upload\n");
    let (_, shown) = infra(work.path(), &["state", "show", "vps_command.deploy"]);
    assert!(shown.contains("deployed v2"), "{shown}");
}

#[test]
fn rsa_and_ecdsa_keys_work_as_well_as_ed25519() {
    for kind in ["rsa", "ecdsa"] {
        let sshd = start_sshd_with(kind);
        let work = tempfile::tempdir().unwrap();
        std::fs::write(
            work.path().join("main.tf"),
            format!("{}\ndata \"vps_host\" \"this\" {{}}\n\noutput \"arch\" {{\n  value = data.vps_host.this.architecture\n}}\n", sshd.provider_block("")),
        )
        .unwrap();
        let (code, out) = infra(work.path(), &["plan"]);
        assert_eq!(code, 0, "{kind}: {out}");
        assert!(out.contains(&format!("arch = \"{}\"", sh("uname -m").trim())), "{kind}: {out}");
    }
}

/// Issue 9: a step used to stop at its first output line after infra was killed (SIGPIPE on
/// the closed channel), leaving its object half made; it now runs to its end.
#[test]
fn a_step_runs_to_its_end_when_infra_is_killed_during_it() {
    let sshd = start_sshd();
    let work = tempfile::tempdir().unwrap();
    let marks = tempfile::tempdir().unwrap();
    let (started, finished) = (marks.path().join("started"), marks.path().join("finished"));
    std::fs::write(
        work.path().join("main.tf"),
        format!(
            "{}\nresource \"vps_command\" \"slow\" {{\n  create = \"touch {}; sleep 1; echo halfway; echo halfway >&2; touch {}\"\n}}\n",
            sshd.provider_block(""),
            started.display(),
            finished.display()
        ),
    )
    .unwrap();
    let mut apply = std::process::Command::new(infra_test_harness::infra_bin())
        .args(["apply", "--auto-approve"])
        .current_dir(work.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "the step did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    apply.kill().unwrap();
    apply.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !finished.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(finished.exists(), "the step stopped half way when infra was killed");
}

/// sshd refuses a session channel beyond its MaxSessions (10 by default, an apply's default
/// parallelism): steps wait for a channel instead of failing.
#[test]
fn more_steps_at_once_than_the_servers_max_sessions_wait_for_a_channel() {
    let sshd = start_sshd_configured("ed25519", "MaxSessions 3\n");
    let work = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let files: String =
        (0..16).map(|i| format!("resource \"vps_file\" \"f{i}\" {{\n  path    = \"{}/f{i}\"\n  content = \"{i}\\n\"\n}}\n\n", root.path().display())).collect();
    std::fs::write(work.path().join("main.tf"), format!("{}\n{files}", sshd.provider_block(""))).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve", "--parallelism", "16"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 16);
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}
