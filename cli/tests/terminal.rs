//! Behaviour that depends on a terminal, checked through a real pseudo-terminal (`script`):
//! a missing required variable is prompted for, and apply asks for "yes".

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `infra ARGS` on a pty in `dir`, typing `input`; returns everything it printed.
fn on_terminal(dir: &std::path::Path, args: &str, input: &str) -> (String, i32) {
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_infra"));
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the script command (util-linux) runs commands on a pty");
    // Give the program time to reach its prompt before typing, as a person would.
    std::thread::sleep(std::time::Duration::from_millis(500));
    // A program that exits without asking has closed the pty: what is typed then goes nowhere.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&out.stdout).replace('\r', ""), out.status.code().unwrap_or(-1))
}

fn stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "variable \"n\" {\n  type        = number\n  description = \"How many\"\n}\n\nresource \"terraform_data\" \"x\" {\n  input = var.n * 2\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_missing_variable_is_prompted_for_on_a_terminal() {
    let dir = stack();
    let (out, code) = on_terminal(dir.path(), "plan", "21\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("var.n") && out.contains("How many") && out.contains("Enter a value:"), "{out}");
    assert!(out.contains("+ input            = 42"), "{out}");
}

#[test]
fn apply_on_a_terminal_asks_for_yes_and_anything_else_cancels() {
    let dir = stack();
    let (out, code) = on_terminal(dir.path(), "apply --var n=1", "no\n");
    assert!(out.contains("Only 'yes' will be accepted"), "{out}");
    assert!(out.contains("Apply cancelled."), "{out}");
    assert_eq!(code, 1);
    assert!(!dir.path().join("infra.tfstate").exists() || !std::fs::read_to_string(dir.path().join("infra.tfstate")).unwrap().contains("terraform_data"));
    let (out, code) = on_terminal(dir.path(), "apply --var n=1", "yes\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply complete! Resources: 1 added"), "{out}");
}

/// As Terraform: `-input=false` (or `TF_INPUT=0`) turns the approval prompt off too, so apply
/// and destroy without `-auto-approve` fail on a terminal without asking, changing nothing.
#[test]
fn input_false_on_a_terminal_refuses_apply_and_destroy_without_asking() {
    let dir = stack();
    let (out, code) = on_terminal(dir.path(), "apply -input=false -var n=1", "yes\n");
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("Enter a value"), "{out}");
    assert!(out.contains("input is disabled (-input=false or TF_INPUT=0)"), "{out}");
    assert!(!dir.path().join("infra.tfstate").exists() || !std::fs::read_to_string(dir.path().join("infra.tfstate")).unwrap().contains("terraform_data"));
    let (out, code) = on_terminal(dir.path(), "apply -auto-approve -var n=1", "");
    assert_eq!(code, 0, "{out}");
    let (out, code) = on_terminal(dir.path(), "destroy -input=false -var n=1", "yes\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Confirmation is needed to destroy, but input is disabled"), "{out}");
    assert!(std::fs::read_to_string(dir.path().join("infra.tfstate")).unwrap().contains("terraform_data"));
}
