//! `infra drift` on local files: changed (per attribute path, inside embedded JSON), missing,
//! ignore_changes and ignore rules, the three printers, exit codes that agree with the report,
//! and `--fix-state`.

use std::path::Path;
use std::process::{Command, Output};

const STACK: &str = r#"
resource "local_file" "a" {
  filename = "${path.module}/a.txt"
  content  = "hello"
}
resource "local_file" "b" {
  filename = "${path.module}/b.json"
  content  = "{\"k\": 1, \"j\": [1, 2]}"
}
resource "local_file" "c" {
  filename = "${path.module}/c.txt"
  content  = "x"
  lifecycle {
    ignore_changes = [content]
  }
}
"#;

fn infra(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infra")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn applied() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), STACK).unwrap();
    let o = infra(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    dir
}

fn json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["drift", "--json"];
    args.extend(extra);
    let o = infra(dir, &args);
    let doc = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr)));
    (code(&o), doc)
}

#[test]
fn drift_names_changed_paths_inside_json_and_missing_objects_and_exits_2() {
    let dir = applied();
    let d = dir.path();
    let (c, doc) = json(d, &[]);
    assert_eq!((c, &doc["drift"]), (0, &serde_json::json!(false)), "{doc}");
    // Key order and spacing alone are not drift: the JSON is compared, not the text.
    std::fs::write(d.join("b.json"), r#"{"j":[1,2],"k":1}"#).unwrap();
    // ...while a changed value inside is, at its path.
    std::fs::write(d.join("b.json"), r#"{"j":[1,3],"k":1}"#).unwrap();
    std::fs::remove_file(d.join("a.txt")).unwrap();
    // An ignore_changes attribute is not drift (nor what is computed from it).
    std::fs::write(d.join("c.txt"), "edited").unwrap();
    let (c, doc) = json(d, &[]);
    assert_eq!(c, 2, "{doc}");
    assert_eq!(doc["format_version"], "1.0");
    assert_eq!(doc["summary"], serde_json::json!({"changed": 1, "missing": 1, "unmanaged": 0, "ignored": 0}), "{doc}");
    let f = &doc["findings"];
    assert_eq!((&f[0]["kind"], &f[0]["address"]), (&"changed".into(), &"local_file.b".into()), "{doc}");
    assert_eq!(
        f[0]["changes"],
        serde_json::json!([{"path": "content.j[1]", "before": 2, "after": 3, "before_present": true, "after_present": true, "sensitive": false}])
    );
    assert_eq!((&f[1]["kind"], &f[1]["address"]), (&"missing".into(), &"local_file.a".into()), "{doc}");
    let o = infra(d, &["drift"]);
    assert_eq!(code(&o), 2);
    let human = stdout(&o);
    assert!(human.contains("Changed outside infra (1)") && human.contains("content.j[1]: 2 -> 3") && human.contains("- local_file.a"), "{human}");
    let o = infra(d, &["drift", "--markdown"]);
    let md = stdout(&o);
    assert!(md.contains("**Drift found: 1 changed, 1 missing, 0 unmanaged.**") && md.contains("<details>") && md.contains("| `local_file.b` |"), "{md}");
}

#[test]
fn a_report_that_says_no_drift_never_exits_2() {
    let dir = applied();
    let d = dir.path();
    std::fs::write(d.join("b.json"), r#"{"j":[1,3],"k":1}"#).unwrap();
    std::fs::remove_file(d.join("a.txt")).unwrap();
    // Rules hide both findings: the report says no drift, and the exit code agrees.
    std::fs::write(
        d.join(".infradriftignore"),
        "# what the app owns\nattribute local_file.b content.j # the app rewrites j\naddress local_file.a # scratch file\n",
    )
    .unwrap();
    for printer in [&["drift"][..], &["drift", "--markdown"], &["drift", "--json"]] {
        let o = infra(d, printer);
        let out = stdout(&o);
        assert_eq!(code(&o), 0, "{out}");
        assert!(out.contains("No drift") || out.contains("\"drift\": false"), "{out}");
        assert!(!out.contains("Drift found"), "{out}");
    }
    // The reasons show when the rules are used; --show-ignored lists what they hid.
    let out = stdout(&infra(d, &["drift"]));
    assert!(out.contains("(.infradriftignore:2): the app rewrites j") && out.contains("(.infradriftignore:3): scratch file"), "{out}");
    let (c, doc) = json(d, &["--show-ignored"]);
    assert_eq!(c, 0);
    assert_eq!(doc["findings"][0]["ignored_by"]["reason"], "the app rewrites j", "{doc}");
    assert_eq!(doc["findings"][1]["ignored_by"]["origin"], ".infradriftignore:3", "{doc}");
    assert_eq!(doc["summary"]["ignored"], 2);
    // A rule without a reason is refused, with exit 1.
    std::fs::write(d.join(".infradriftignore"), "address local_file.a\n").unwrap();
    let o = infra(d, &["drift"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("Drift ignore rule without a reason"));
}

#[test]
fn fix_state_accepts_reality_and_apply_puts_the_configuration_back() {
    let dir = applied();
    let d = dir.path();
    std::fs::write(d.join("b.json"), r#"{"j":[1,3],"k":1}"#).unwrap();
    std::fs::remove_file(d.join("a.txt")).unwrap();
    assert_eq!(code(&infra(d, &["drift", "--fix-state"])), 2);
    assert_eq!(json(d, &[]).0, 0, "the state holds what is real now");
    let o = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code(&o), 0);
    assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "hello");
    assert_eq!(json(d, &[]).0, 0);
    // Errors exit 1, never 2.
    std::fs::write(d.join("main.tf"), "resource \"local_file\" \"a\" {\n").unwrap();
    assert_eq!(code(&infra(d, &["drift"])), 1);
    assert_eq!(code(&infra(d, &["drift", "--target", "not an address"])), 1);
}

#[test]
fn markdown_stays_under_the_comment_limit_and_counts_what_it_left_out() {
    let mut stack = String::new();
    for i in 0..400 {
        // Long names, so that 400 rows do not fit.
        stack.push_str(&format!(
            "resource \"local_file\" \"f{i}_{}\" {{\n  filename = \"${{path.module}}/f{i}-{}.txt\"\n  content = \"x\"\n}}\n",
            "n".repeat(150),
            "n".repeat(120)
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), stack).unwrap();
    assert_eq!(code(&infra(d, &["apply", "--auto-approve", "--parallelism", "50"])), 0);
    for i in 0..400 {
        std::fs::remove_file(d.join(format!("f{i}-{}.txt", "n".repeat(120)))).unwrap();
    }
    let o = infra(d, &["drift", "--markdown"]);
    assert_eq!(code(&o), 2);
    let md = stdout(&o);
    assert!(md.len() <= 65_536, "{}", md.len());
    assert!(md.contains("**Drift found: 0 changed, 400 missing, 0 unmanaged.**"));
    let note = md.lines().find(|l| l.starts_with("_Truncated: ")).unwrap_or_else(|| panic!("no truncation note"));
    let left: usize = note.trim_start_matches("_Truncated: ").split(' ').next().unwrap().parse().unwrap();
    assert_eq!(md.matches("| `local_file.f").count() + left, 400, "{note}");
}
