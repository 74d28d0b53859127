//! Embeds the bundled defaults (`config/`, `policies/`, `templates/`) so the binary runs
//! with none of them on disk.

use std::{env, fs, path::Path};

fn main() {
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded.rs");
    let mut code = String::new();
    for (constant, dir) in [("CONFIG", "config"), ("POLICIES", "policies"), ("TEMPLATES", "templates")] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files: Vec<_> = fs::read_dir(dir)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        files.sort();
        code.push_str(&format!("pub const {constant}: &[(&str, &str)] = &[\n"));
        for path in files {
            let name = path.file_name().unwrap().to_str().unwrap();
            // Relative to the manifest, so the generated code does not depend on where the
            // checkout (or another worktree sharing the target directory) lives.
            code.push_str(&format!("    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),\n", format!("/{dir}/{name}")));
        }
        code.push_str("];\n");
    }
    fs::write(out, code).unwrap();
}
