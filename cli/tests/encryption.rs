//! State and plan encryption end to end, with the real binary: the state, its backup, the
//! apply journal and saved plans hold no plaintext secret; keys rotate with `fallback`; a plain
//! state migrates with the `unencrypted` fallback; `enforced` refuses plain writes; a wrong
//! passphrase changes nothing; `TF_ENCRYPTION` configures it too; `aws_kms` against moto's KMS.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const OLD: &str = "the old passphrase, long enough";
const NEW: &str = "the new passphrase, long enough";

fn infra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_infra"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("TF_ENCRYPTION");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let (code, text) = infra(dir, args, env);
    assert_eq!(code, 0, "infra {args:?} failed:\n{text}");
    text
}

/// A stack's encryption block: a pbkdf2 key provider and an aes_gcm method per name in
/// `providers` (passphrase from `var.NAME`), an `unencrypted` method `plain`, and the `state`
/// and `plan` blocks given.
fn stack(providers: &[&str], state: &str, plan: &str) -> String {
    let mut out = String::new();
    let mut kps = String::new();
    for p in providers {
        out.push_str(&format!("variable \"{p}\" {{\n  type      = string\n  sensitive = true\n}}\n"));
        kps.push_str(&format!(
            "    key_provider \"pbkdf2\" \"{p}\" {{\n      passphrase = var.{p}\n      iterations = 200000\n    }}\n    method \"aes_gcm\" \"{p}\" {{\n      keys = key_provider.pbkdf2.{p}\n    }}\n"
        ));
    }
    out.push_str(&format!("terraform {{\n  encryption {{\n{kps}    method \"unencrypted\" \"plain\" {{}}\n{state}{plan}  }}\n}}\n"));
    out
}

const RESOURCES: &str = "resource \"random_password\" \"p\" {\n  length  = 32\n  special = false\n}\n\noutput \"pw\" {\n  value     = random_password.p.result\n  sensitive = true\n}\n";

fn write(dir: &Path, main: &str, extra: &str) {
    std::fs::write(dir.join("main.tf"), format!("{main}\n{RESOURCES}\n{extra}")).unwrap();
}

fn envelope(path: &Path) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    assert_eq!(v["encryption_version"], "v0", "{} is not an encryption envelope: {v}", path.display());
    v
}

fn contains(path: &Path, secret: &str) -> bool {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).contains(secret)
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())).collect()
}

#[test]
fn state_backup_journal_and_plan_hold_no_plaintext_and_every_command_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let enc =
        stack(&["k"], "    state {\n      method   = method.aes_gcm.k\n      enforced = true\n    }\n", "    plan {\n      method = method.aes_gcm.k\n    }\n");
    let env = [("TF_VAR_k", OLD)];
    write(d, &enc, "");
    ok(d, &["apply", "--auto-approve"], &env);
    let secret = ok(d, &["output", "-raw", "pw"], &env);
    assert_eq!(secret.trim().len(), 32, "{secret}");
    let secret = secret.trim();
    let state = d.join("infra.tfstate");
    let meta = envelope(&state)["meta"]["key_provider.pbkdf2.k"].clone();
    assert_eq!(meta["iterations"], 200000);
    assert_eq!(meta["hash_function"], "sha512");
    assert!(!contains(&state, secret));

    // A saved plan carries the prior state (with the secret): it is sealed under `plan`.
    write(
        d,
        &enc,
        "resource \"terraform_data\" \"a\" {\n  input = random_password.p.result\n}\n\nresource \"terraform_data\" \"b\" {\n  input = terraform_data.a.id\n}\n",
    );
    ok(d, &["plan", "-out", "tf.plan"], &env);
    envelope(&d.join("tf.plan"));
    assert!(!contains(&d.join("tf.plan"), secret));
    let shown = ok(d, &["show", "tf.plan"], &env);
    assert!(shown.contains("terraform_data.a will be created"), "{shown}");

    // Killed after terraform_data.b's create: the journal holds terraform_data.a (whose input
    // is the secret), sealed line by line.
    let (code, text) = infra(d, &["apply", "--auto-approve", "tf.plan"], &[("TF_VAR_k", OLD), ("INFRA_TEST_ABORT_AFTER_CREATE", "terraform_data.b")]);
    assert_ne!(code, 0, "{text}");
    let journal = std::fs::read_to_string(d.join("infra.tfstate.journal")).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    assert!(lines.len() >= 2, "header and terraform_data.a: {journal}");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["encryption_version"], "v0", "{l}");
    }
    assert!(!journal.contains(secret) && !journal.contains("terraform_data"), "{journal}");
    let backup = d.join("infra.tfstate.backup");
    envelope(&backup);
    assert!(!contains(&backup, secret) && !contains(&state, secret));
    let lock = std::fs::read(d.join("infra.tfstate.lock.info")).unwrap();
    let id = serde_json::from_slice::<serde_json::Value>(&lock).unwrap()["ID"].as_str().unwrap().to_string();
    ok(d, &["force-unlock", &id], &env);

    // The journal opens and replays: terraform_data.a is in state.
    let list = ok(d, &["state", "list"], &env);
    assert!(list.contains("terraform_data.a") && list.contains("random_password.p"), "{list}");
    ok(d, &["apply", "--auto-approve"], &env);
    let shown = ok(d, &["show"], &env);
    assert!(shown.contains("terraform_data.b"), "{shown}");
    assert!(!d.join("infra.tfstate.journal").exists());
    for f in ["infra.tfstate", "infra.tfstate.backup"] {
        envelope(&d.join(f));
        assert!(!contains(&d.join(f), secret), "{f}");
    }
}

#[test]
fn keys_rotate_with_a_fallback_and_the_old_key_is_then_not_needed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let env = [("TF_VAR_old", OLD), ("TF_VAR_new", NEW)];
    write(d, &stack(&["old"], "    state {\n      method = method.aes_gcm.old\n    }\n", ""), "");
    ok(d, &["apply", "--auto-approve"], &env);
    assert!(envelope(&d.join("infra.tfstate"))["meta"].get("key_provider.pbkdf2.old").is_some());

    // Rotation: the new method first, the old one as fallback; the next write uses the new key.
    let rotating =
        stack(&["new", "old"], "    state {\n      method = method.aes_gcm.new\n      fallback {\n        method = method.aes_gcm.old\n      }\n    }\n", "");
    write(d, &rotating, "resource \"terraform_data\" \"x\" {}\n");
    ok(d, &["apply", "--auto-approve"], &env);
    let meta = envelope(&d.join("infra.tfstate"))["meta"].clone();
    assert!(meta.get("key_provider.pbkdf2.new").is_some() && meta.get("key_provider.pbkdf2.old").is_none(), "{meta}");

    // The old key is no longer needed: the new one alone reads the state.
    write(d, &stack(&["new"], "    state {\n      method = method.aes_gcm.new\n    }\n", ""), "resource \"terraform_data\" \"x\" {}\n");
    let list = ok(d, &["state", "list"], &[("TF_VAR_new", NEW)]);
    assert!(list.contains("terraform_data.x"), "{list}");
    // And the old key alone no longer does.
    write(d, &stack(&["old"], "    state {\n      method = method.aes_gcm.old\n    }\n", ""), "resource \"terraform_data\" \"x\" {}\n");
    let (code, text) = infra(d, &["state", "list"], &[("TF_VAR_old", OLD)]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("key_provider.pbkdf2.new") && text.contains("fallback"), "{text}");
}

/// The passphrase given with `-var` (no environment, no file) opens the state and the plan;
/// a saved plan applies with the same `-var` and refuses a different value.
#[test]
fn a_passphrase_given_with_var_seals_and_opens_state_and_plan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let enc =
        stack(&["k"], "    state {\n      method   = method.aes_gcm.k\n      enforced = true\n    }\n", "    plan {\n      method = method.aes_gcm.k\n    }\n");
    write(d, &enc, "");
    let var = format!("k={OLD}");
    ok(d, &["apply", "-auto-approve", "-var", &var], &[]);
    envelope(&d.join("infra.tfstate"));
    ok(d, &["plan", "-var", &var, "-out", "p.plan"], &[]);
    envelope(&d.join("p.plan"));
    // Without the passphrase the encryption cannot be set up (the variable has no value).
    let (code, text) = infra(d, &["plan", "-input=false"], &[]);
    assert_eq!(code, 1, "{text}");
    let other = format!("k={NEW}");
    let (code, text) = infra(d, &["apply", "-var", &other, "p.plan"], &[]);
    assert_eq!(code, 1, "{text}");
    let (code, text) = infra(d, &["apply", "-var", &var, "p.plan"], &[]);
    assert_eq!(code, 0, "{text}");
}

/// With a saved plan, `-var` may repeat the plan's value but never change it.
#[test]
fn a_saved_plan_refuses_a_var_that_changes_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), "variable \"n\" {\n  type = number\n}\n\nresource \"terraform_data\" \"x\" {\n  input = var.n\n}\n").unwrap();
    ok(d, &["plan", "-var", "n=1", "-out", "p.plan"], &[]);
    let (code, text) = infra(d, &["apply", "-var", "n=2", "p.plan"], &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Can't change variable when applying a saved plan") && text.contains("The variable n cannot"), "{text}");
    assert!(!d.join("infra.tfstate").exists() || !contains(&d.join("infra.tfstate"), "terraform_data"));
    let text = ok(d, &["apply", "-var", "n=1", "p.plan"], &[]);
    assert!(text.contains("1 added"), "{text}");
}

#[test]
fn a_plain_state_migrates_with_the_unencrypted_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), RESOURCES).unwrap();
    ok(d, &["apply", "--auto-approve"], &[]);
    let secret = ok(d, &["output", "-raw", "pw"], &[]);
    let secret = secret.trim();
    assert!(contains(&d.join("infra.tfstate"), secret), "a plain state holds the secret");

    let env = [("TF_VAR_k", OLD)];
    // Encryption without the fallback refuses the plain state, and says how to migrate.
    write(d, &stack(&["k"], "    state {\n      method = method.aes_gcm.k\n    }\n", ""), "");
    let (code, text) = infra(d, &["plan"], &env);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not encrypted") && text.contains("method.unencrypted"), "{text}");

    write(
        d,
        &stack(&["k"], "    state {\n      method = method.aes_gcm.k\n      fallback {\n        method = method.unencrypted.plain\n      }\n    }\n", ""),
        "resource \"terraform_data\" \"x\" {}\n",
    );
    ok(d, &["apply", "--auto-approve"], &env);
    for f in ["infra.tfstate", "infra.tfstate.backup"] {
        envelope(&d.join(f));
        assert!(!contains(&d.join(f), secret), "{f} still holds the secret");
    }
    assert_eq!(ok(d, &["output", "-raw", "pw"], &env).trim(), secret);
}

#[test]
fn enforced_refuses_to_write_a_plain_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &stack(&["k"], "    state {\n      method   = method.unencrypted.plain\n      enforced = true\n    }\n", ""), "");
    let (code, text) = infra(d, &["apply", "--auto-approve"], &[("TF_VAR_k", OLD)]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("enforced") && text.contains("refuses to write it unencrypted"), "{text}");
    assert!(!d.join("infra.tfstate").exists());
}

#[test]
fn a_wrong_passphrase_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &stack(&["k"], "    state {\n      method = method.aes_gcm.k\n    }\n", ""), "");
    ok(d, &["apply", "--auto-approve"], &[("TF_VAR_k", OLD)]);
    // A second write, so there is a backup to compare too.
    write(d, &stack(&["k"], "    state {\n      method = method.aes_gcm.k\n    }\n", ""), "resource \"terraform_data\" \"x\" {}\n");
    ok(d, &["apply", "--auto-approve"], &[("TF_VAR_k", OLD)]);
    let before = files(d);
    assert!(before.contains_key("infra.tfstate.backup"));
    for args in [&["plan"][..], &["apply", "--auto-approve"], &["state", "list"], &["destroy", "--auto-approve"], &["show"]] {
        let (code, text) = infra(d, args, &[("TF_VAR_k", "not the passphrase at all")]);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(text.contains("the key is wrong"), "{args:?}: {text}");
        assert_eq!(files(d), before, "{args:?} changed the directory");
    }
}

#[test]
fn tf_encryption_in_the_environment_configures_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), RESOURCES).unwrap();
    let json = format!(
        r#"{{"key_provider": {{"pbkdf2": {{"env": {{"passphrase": "{OLD}", "iterations": 200000}}}}}}, "method": {{"aes_gcm": {{"env": {{"keys": "key_provider.pbkdf2.env"}}}}}}, "state": {{"method": "method.aes_gcm.env", "enforced": true}}}}"#
    );
    ok(d, &["apply", "--auto-approve"], &[("TF_ENCRYPTION", &json)]);
    assert!(envelope(&d.join("infra.tfstate"))["meta"].get("key_provider.pbkdf2.env").is_some());
    let list = ok(d, &["state", "list"], &[("TF_ENCRYPTION", &json)]);
    assert!(list.contains("random_password.p"), "{list}");
    let (code, text) = infra(d, &["state", "list"], &[]);
    assert_eq!(code, 1, "without TF_ENCRYPTION the state is unreadable: {text}");
    // HCL in the environment overrides the configuration's passphrase (by type and name).
    write(d, &stack(&["env"], "    state {\n      method = method.aes_gcm.env\n    }\n", ""), "");
    let hcl = format!("key_provider \"pbkdf2\" \"env\" {{\n  passphrase = \"{OLD}\"\n}}\n");
    let list = ok(d, &["state", "list"], &[("TF_ENCRYPTION", &hcl), ("TF_VAR_env", "a passphrase the environment overrides")]);
    assert!(list.contains("random_password.p"), "{list}");
}

#[test]
fn aws_kms_data_keys_from_motos_kms() {
    use infra_test_harness::moto;
    let m = moto::start_moto();
    let created = m.call("kms", "POST", "/", &[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.CreateKey")], "{}");
    let key_id =
        serde_json::from_str::<serde_json::Value>(&created).unwrap()["KeyMetadata"]["KeyId"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kms = |key: &str| {
        format!(
            "terraform {{\n  encryption {{\n    key_provider \"aws_kms\" \"k\" {{\n      kms_key_id = \"{key}\"\n      key_spec   = \"AES_256\"\n      region     = \"us-east-1\"\n      endpoints {{\n        kms = \"{}\"\n      }}\n    }}\n    method \"aes_gcm\" \"k\" {{\n      keys = key_provider.aws_kms.k\n    }}\n    state {{\n      method   = method.aes_gcm.k\n      enforced = true\n    }}\n  }}\n}}\n",
            m.url
        )
    };
    write(d, &kms(&key_id), "");
    let env = moto::aws_env();
    ok(d, &["apply", "--auto-approve"], &env);
    let secret = ok(d, &["output", "-raw", "pw"], &env);
    assert_eq!(secret.trim().len(), 32);
    let state = d.join("infra.tfstate");
    let blob = envelope(&state)["meta"]["key_provider.aws_kms.k"]["ciphertext_blob"].as_str().unwrap_or_default().to_string();
    assert!(!blob.is_empty());
    assert!(!contains(&state, secret.trim()));
    // Another process reads it through KMS Decrypt.
    let list = ok(d, &["state", "list"], &env);
    assert!(list.contains("random_password.p"), "{list}");
    // A key KMS does not have is a clear error, and nothing is written.
    let other = tempfile::tempdir().unwrap();
    write(other.path(), &kms("11111111-2222-3333-4444-555555555555"), "");
    let (code, text) = infra(other.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("KMS GenerateDataKey failed"), "{text}");
    assert!(!other.path().join("infra.tfstate").exists());
}
