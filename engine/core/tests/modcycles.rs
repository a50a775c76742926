//! No circular imports between the modules of any crate of the workspace: runs
//! `engine/tools/modcycles.py` over their sources.

#[test]
fn engine_crates_have_no_circular_module_imports() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/modcycles.py");
    let out = std::process::Command::new("python3").arg(&script).output().unwrap_or_else(|e| panic!("running python3 {}: {e}", script.display()));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
