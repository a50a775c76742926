//! Generates one test function per data case under `tests/data/`, so each case passes or fails
//! on its own line.

fn main() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    println!("cargo:rerun-if-changed={}", data.display());
    let mut names: Vec<String> = std::fs::read_dir(&data)
        .map(|r| r.filter_map(|e| e.ok()).filter(|e| e.path().join("commands").exists()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    let mut out = String::new();
    for n in &names {
        let ident: String = n.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        out.push_str(&format!("#[test]\nfn case_{ident}() {{\n    check({n:?});\n}}\n\n"));
    }
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("cases.rs");
    std::fs::write(dest, out).unwrap_or_else(|e| panic!("cannot write the generated cases: {e}"));
}
