//! Crashes at the worst moments lose nothing: the state journal and deposed objects.

use std::process::Command;

fn infra(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_infra"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_crash_between_create_and_delete_of_a_replacement_leaves_a_deposed_object_that_the_next_run_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let stack = |content: &str| {
        format!("resource \"local_file\" \"cfg\" {{\n  filename = \"cfg-${{sha1(\"{content}\")}}.txt\"\n  content  = \"{content}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n")
    };
    std::fs::write(dir.path().join("main.tf"), stack("one")).unwrap();
    assert!(infra(dir.path(), &["apply", "--auto-approve"], &[]).status.success());
    let old_file = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).find(|n| n.starts_with("cfg-")).unwrap();

    std::fs::write(dir.path().join("main.tf"), stack("two")).unwrap();
    let crashed = infra(dir.path(), &["apply", "--auto-approve"], &[("INFRA_TEST_ABORT_BEFORE_DELETE", "local_file.cfg")]);
    assert!(!crashed.status.success(), "{}", text(&crashed));
    // Both files exist: the new one was created, the old one not yet deleted.
    assert!(dir.path().join(&old_file).exists());
    let lock = std::fs::read(dir.path().join("infra.tfstate.lock.info")).unwrap();
    let id = serde_json::from_slice::<serde_json::Value>(&lock).unwrap()["ID"].as_str().unwrap().to_string();
    assert!(infra(dir.path(), &["force-unlock", &id], &[]).status.success());

    // The next plan knows about the superseded object and deletes it; nothing else changes.
    let plan = infra(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    let shown = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{shown}");
    assert!(shown.contains("# local_file.cfg (deposed object) will be destroyed"), "{shown}");
    assert!(shown.contains("Plan: 0 to add, 0 to change, 1 to destroy."), "{shown}");
    let apply = infra(dir.path(), &["apply", "--auto-approve"], &[]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(!dir.path().join(&old_file).exists(), "the deposed object's file is gone");
    assert_eq!(infra(dir.path(), &["plan", "--detailed-exitcode"], &[]).status.code(), Some(0));
}
