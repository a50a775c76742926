//! Data-driven end-to-end cases. Each folder under `tests/data/` holds a stack (or a
//! `source.txt` naming one elsewhere in the repository), a `commands` script and an
//! `expected.txt` transcript of running it with the real `infra` binary in a scratch copy.
//! `UPDATE_EXPECT=1 cargo test -p infra-cli --test cases` rewrites the transcripts; review
//! the diff before committing.
//!
//! In `commands`, each line is `infra` arguments, or `! shell command`; `< file` feeds a file
//! to standard input; `#` starts a comment. Progress lines of parallel work are sorted, unless
//! the script has a `# keep-order` line (for cases whose order is fully determined).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n == "expected.txt" || n == "commands" || n == "source.txt" || n == "normalize" || n == "out" || n.starts_with("infra.tfstate") {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn normalize(text: &str, dir: &Path, keep_order: bool) -> String {
    let t = text.replace(&dir.display().to_string(), "$DIR");
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").unwrap();
    let secs = regex::Regex::new(r"after \d+s").unwrap();
    let t = uuid.replace_all(&t, "<uuid>");
    let t = secs.replace_all(&t, "after Ns");
    let stamp = regex::Regex::new(r#""timestamp": "[0-9T:-]+Z""#).unwrap();
    let t = stamp.replace_all(&t, r#""timestamp": "<timestamp>""#);
    let t = t.into_owned();
    if keep_order {
        t
    } else {
        sort_progress_runs(&t)
    }
}

/// Parallel work reports progress in any order: sort each run of progress lines.
fn sort_progress_runs(text: &str) -> String {
    let progress = regex::Regex::new(
        r"^\S.*: (Creating\.\.\.|Creation complete|Destroying\.\.\.|Destruction complete|Modifying\.\.\.|Modifications complete|Reading\.\.\.)",
    )
    .unwrap();
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for line in text.lines() {
        if progress.is_match(line) {
            run.push(line.to_string());
            continue;
        }
        run.sort();
        out.append(&mut run);
        out.push(line.to_string());
    }
    run.sort();
    out.append(&mut run);
    out.join("\n") + "\n"
}

fn run_case(case: &Path) -> Result<(), String> {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("stack");
    let source = case.join("source.txt");
    if source.exists() {
        let rel = std::fs::read_to_string(&source).unwrap();
        copy_dir(&repo_root().join(rel.trim()), &dir);
    }
    copy_dir(case, &dir);
    let dir = dir.canonicalize().unwrap();
    let script = std::fs::read_to_string(case.join("commands")).map_err(|e| format!("{}: no commands file: {e}", case.display()))?;
    let mut transcript = String::new();
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmdline, stdin) = match line.split_once(" < ") {
            Some((c, f)) => (c.trim(), Some(dir.join(f.trim()))),
            None => (line, None),
        };
        let mut cmd = if let Some(shell) = cmdline.strip_prefix("! ") {
            let mut c = Command::new("sh");
            c.arg("-c").arg(shell);
            c
        } else {
            let mut c = Command::new(env!("CARGO_BIN_EXE_infra"));
            c.args(shell_words(cmdline));
            c
        };
        cmd.current_dir(&dir).env("NO_COLOR", "1").env("INFRA", env!("CARGO_BIN_EXE_infra")).env_remove("INFRA_TEST_ABORT_AFTER_CREATE");
        cmd.stdin(match &stdin {
            Some(f) => Stdio::from(std::fs::File::open(f).map_err(|e| format!("stdin file {}: {e}", f.display()))?),
            None => Stdio::null(),
        });
        let out = cmd.output().unwrap();
        let shown = if cmdline.starts_with("! ") { cmdline.to_string() } else { format!("infra {cmdline}") };
        transcript.push_str(&format!(
            "$ {shown}{}\n",
            stdin.as_ref().map(|_| line.split_once(" < ").map(|(_, f)| format!(" < {f}")).unwrap_or_default()).unwrap_or_default()
        ));
        transcript.push_str(&String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.is_empty() {
            transcript.push_str("--- stderr\n");
            transcript.push_str(&err);
        }
        transcript.push_str(&format!("[exit {}]\n\n", out.status.code().unwrap_or(-1)));
    }
    let keep_order = script.lines().any(|l| l.trim() == "# keep-order");
    let mut transcript = normalize(&transcript, &dir, keep_order);
    // A case's own `normalize` file: lines of `REGEX => REPLACEMENT` for values it cannot fix.
    if let Ok(rules) = std::fs::read_to_string(case.join("normalize")) {
        for rule in rules.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let (re, with) = rule.split_once(" => ").ok_or_else(|| format!("{}: bad normalize rule {rule:?}", case.display()))?;
            let re = regex::Regex::new(re).map_err(|e| format!("{}: bad normalize regex: {e}", case.display()))?;
            transcript = re.replace_all(&transcript, with).into_owned();
        }
    }
    let expected_path = case.join("expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &transcript).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if expected != transcript {
        let mut diff = String::new();
        for (i, (a, b)) in expected.lines().zip(transcript.lines()).enumerate() {
            if a != b {
                diff = format!("first difference at line {}:\n  expected: {a}\n  actual:   {b}", i + 1);
                break;
            }
        }
        if diff.is_empty() {
            diff = format!("expected {} lines, got {}", expected.lines().count(), transcript.lines().count());
        }
        return Err(format!("{}: transcript differs ({diff}). Run with UPDATE_EXPECT=1 to refresh and review the diff.", case.display()));
    }
    Ok(())
}

fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ') => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// Runs one case by folder name; the test functions are generated by `build.rs`.
fn check(name: &str) {
    if let Err(e) = run_case(&repo_root().join("tests/data").join(name)) {
        panic!("{e}");
    }
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));
