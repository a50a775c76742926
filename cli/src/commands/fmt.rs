//! `infra fmt [--check] [--diff] [--recursive] [--list=false] [--write=false] [TARGET...]`:
//! rewrites .tf and .tfvars files in the canonical format `terraform fmt` writes, with its
//! flags, output (the names of changed files, unified diffs) and exit codes (3 for --check
//! with changes).

use super::Cx;
use crate::out::Exit;
use infra_lang::diag::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Change nothing; exit 3 when some file is not formatted (0 when all are).
    #[arg(long)]
    check: bool,
    /// Print the changes as unified diffs.
    #[arg(long)]
    diff: bool,
    /// Also format the stack files of subdirectories.
    #[arg(long)]
    recursive: bool,
    /// Print the names of the files whose formatting differs (default true).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    list: bool,
    /// Write the formatted text back to the files (default true; --check implies false).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    write: bool,
    /// Files or directories to format (default: the stack directory).
    targets: Vec<PathBuf>,
}

pub fn run(a: Args, cx: &Cx) -> Result<i32, Exit> {
    let out = &cx.out;
    let targets = if a.targets.is_empty() { vec![PathBuf::from(".")] } else { a.targets.clone() };
    let mut files = Vec::new();
    for t in &targets {
        if t.is_dir() {
            collect(t, a.recursive, &mut files)
                .map_err(|e| out.fail(Diagnostic::error("Cannot read directory", format!("Reading {} failed: {e}.", t.display()))))?;
        } else if t.is_file() {
            files.push(t.clone());
        } else {
            return Err(out.fail(Diagnostic::error("No file or directory at target", format!("There is no file or directory at {}.", t.display()))));
        }
    }
    let mut changed = false;
    let mut diags = Diagnostics::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| out.fail(Diagnostic::error("Cannot read file", format!("Reading {} failed: {e}.", f.display()))))?;
        let formatted = match infra_lang::format::format(&text) {
            Ok(t) => t,
            Err(mut d) => {
                d.detail = format!("{} ({})", d.detail, f.display());
                diags.push(d);
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed = true;
        let name = display_name(&f);
        if a.list {
            println!("{name}");
        }
        if a.write && !a.check {
            std::fs::write(&f, &formatted).map_err(|e| out.fail(Diagnostic::error("Cannot write file", format!("Writing {} failed: {e}.", f.display()))))?;
        }
        if a.diff {
            print!("{}", unified_diff(&text, &formatted, &format!("old/{name}"), &format!("new/{name}")));
        }
    }
    if diags.has_errors() {
        out.diags(&diags);
        return Err(Exit(1));
    }
    Ok(if a.check && changed { 3 } else { 0 })
}

/// The .tf and .tfvars files of `dir` in name order, then (with `recursive`) those of its
/// subdirectories; hidden directories (.terraform, .git) are skipped.
fn collect(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    let mut subdirs = Vec::new();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_dir() {
            if recursive && !name.starts_with('.') {
                subdirs.push(p);
            }
        } else if (name.ends_with(".tf") || name.ends_with(".tfvars")) && !name.starts_with('.') {
            files.push(p);
        }
    }
    for d in subdirs {
        collect(&d, recursive, files)?;
    }
    Ok(())
}

/// `main.tf`, `modules/x/main.tf`: the path as given, without a leading `./`.
fn display_name(p: &Path) -> String {
    p.strip_prefix(".").unwrap_or(p).display().to_string()
}

/// A unified diff (`diff -u` with these labels, three lines of context).
fn unified_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    // Longest common subsequence over lines, then the edit script.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    // (kind, old index, new index): ' ' both, '-' old only, '+' new only.
    let mut ops: Vec<(char, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i, j));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j));
            i += 1;
        } else {
            ops.push(('+', i, j));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changes: Vec<usize> = ops.iter().enumerate().filter(|(_, o)| o.0 != ' ').map(|(k, _)| k).collect();
    if changes.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    let mut k = 0;
    while k < changes.len() {
        let start = changes[k].saturating_sub(CONTEXT);
        let mut end = (changes[k] + CONTEXT + 1).min(ops.len());
        while k + 1 < changes.len() && changes[k + 1] <= end + CONTEXT {
            k += 1;
            end = (changes[k] + CONTEXT + 1).min(ops.len());
        }
        k += 1;
        let hunk = &ops[start..end];
        let old_n = hunk.iter().filter(|o| o.0 != '+').count();
        let new_n = hunk.iter().filter(|o| o.0 != '-').count();
        let range = |first: usize, n: usize| {
            if n == 1 {
                format!("{}", first + 1)
            } else if n == 0 {
                format!("{first},0")
            } else {
                format!("{},{n}", first + 1)
            }
        };
        out.push_str(&format!("@@ -{} +{} @@\n", range(hunk[0].1, old_n), range(hunk[0].2, new_n)));
        for (kind, i, j) in hunk {
            let line = if *kind == '+' { b[*j] } else { a[*i] };
            out.push(*kind);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn unified_diff_has_hunks_with_three_lines_of_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\n";
        assert_eq!(
            unified_diff(old, new, "old/x.tf", "new/x.tf"),
            "--- old/x.tf\n+++ new/x.tf\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -9,4 +9,4 @@\n i\n j\n k\n-l\n+L\n"
        );
        // Changes closer than twice the context share a hunk.
        assert_eq!(unified_diff("a\nb\nc\n", "a\nc\nd\n", "o", "n"), "--- o\n+++ n\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
        assert_eq!(unified_diff("x", "y", "o", "n"), "--- o\n+++ n\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n");
        assert_eq!(unified_diff("same\n", "same\n", "o", "n"), "");
    }
}
