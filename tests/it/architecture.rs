//! The crate's layers, read off the source: every module uses only modules of its own layer or
//! below, the module graph has no cycle, and the check families are peers that do not use each
//! other. ARCHITECTURE.md describes the same layers; this test is what keeps them true.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Bottom to top. A module may use modules of its own layer or a lower one.
const LAYERS: &[&[&str]] = &[
    &["support", "error", "embedded"],
    &["json", "output", "findings"],
    &["model"],
    &["config"],
    &["snapshot", "scan", "terraform", "audit"],
    &["check"],
    &["generate"],
    &["report"],
    &["schemas"],
    &["init"],
    &["cli"],
];

/// Sub-modules of `check` that must not use each other.
const CHECK_FAMILIES: &[&str] = &["coverage", "security", "drift", "hygiene"];

fn layer_of(module: &str) -> usize {
    LAYERS.iter().position(|layer| layer.contains(&module)).unwrap_or_else(|| panic!("module {module} is in no layer of tests/it/architecture.rs"))
}

/// The module path of a source file: `src/check/coverage/mod.rs` → `["check", "coverage"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

/// Source text without comments, string and character literals (each literal becomes `""` or
/// `' '`, keeping its line breaks), so that `crate::` in a doc comment or a message does not count
/// as a use and a `'{'` does not open a block.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let newlines = |slice: &[char]| "\n".repeat(slice.iter().filter(|c| **c == '\n').count());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == '*' && chars[j + 1] == '/').map_or(chars.len(), |j| j + 2);
            out.push_str(&newlines(&chars[i..end]));
            i = end;
        } else if c == 'r' && !after_ident && matches!(next, Some('"' | '#')) {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let body = i + 2 + hashes;
            let end = (body..chars.len()).find(|&j| chars[j] == '"' && chars[j + 1..].iter().take(hashes).filter(|c| **c == '#').count() == hashes).map_or(chars.len(), |j| j + 1 + hashes);
            out.push_str("\"\"");
            out.push_str(&newlines(&chars[i..end]));
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            out.push_str(&newlines(&chars[i..j.min(chars.len())]));
            i = j + 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{1F600}'); a lifetime has no closing quote.
            let end = if next == Some('\\') { (i + 3..chars.len()).find(|&j| chars[j] == '\'').map_or(chars.len(), |j| j + 1) } else { i + 3 };
            out.push_str("' '");
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Every path used under `crate::`, as segments (`crate::check::drift::x` → `["check", "drift", "x"]`),
/// including those inside `use crate::{a::b, c}` groups.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    fn ident(text: &str) -> (&str, &str) {
        let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
        (&text[..end], &text[end..])
    }
    fn group(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        // `text` starts after a `{`; returns how much of it the group spans.
        let mut at = 0;
        let mut current = prefix.to_vec();
        while at < text.len() {
            let rest = &text[at..];
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            if trimmed.starts_with('}') {
                return at + 1;
            }
            if trimmed.starts_with(',') {
                current = prefix.to_vec();
                at += 1;
                continue;
            }
            if let Some(inner) = trimmed.strip_prefix('{') {
                at += 1 + group(inner, &current, out);
                continue;
            }
            if let Some(after) = trimmed.strip_prefix("::") {
                at += 2;
                let _ = after;
                continue;
            }
            let (name, _) = ident(trimmed);
            if name.is_empty() {
                at += trimmed.chars().next().map_or(1, char::len_utf8);
                continue;
            }
            current.push(name.to_string());
            out.push(current.clone());
            at += name.len();
        }
        at
    }
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(found) = rest.find("crate::") {
        let after = &rest[found + "crate::".len()..];
        if let Some(inner) = after.strip_prefix('{') {
            let used = group(inner, &[], &mut out);
            rest = &inner[used.min(inner.len())..];
            continue;
        }
        let mut segments = Vec::new();
        let mut tail = after;
        loop {
            let (name, next) = ident(tail);
            if name.is_empty() {
                break;
            }
            segments.push(name.to_string());
            match next.strip_prefix("::") {
                Some(more) if !more.starts_with('{') => tail = more,
                Some(more) => {
                    let inner = &more[1..];
                    let used = group(inner, &segments, &mut out);
                    tail = &inner[used.min(inner.len())..];
                    break;
                }
                None => {
                    tail = next;
                    break;
                }
            }
        }
        if !segments.is_empty() {
            out.push(segments);
        }
        rest = tail;
    }
    out
}

fn source_files(src: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(src)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// Top-level module → the top-level modules it uses; and `check` family → families it uses.
fn graph() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, BTreeSet<String>>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut families: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in source_files(&src) {
        let path = module_path(&src, &file);
        let Some(module) = path.first() else { continue };
        let code = code_only(&fs::read_to_string(&file).unwrap());
        let uses = crate_paths(&code);
        let entry = top.entry(module.clone()).or_default();
        for used in &uses {
            if used[0] != *module {
                entry.insert(used[0].clone());
            }
        }
        if module == "check" && path.len() > 1 && CHECK_FAMILIES.contains(&path[1].as_str()) {
            let family = families.entry(path[1].clone()).or_default();
            for used in uses.iter().filter(|u| u[0] == "check" && u.len() > 1 && CHECK_FAMILIES.contains(&u[1].as_str()) && u[1] != path[1]) {
                family.insert(used[1].clone());
            }
            // `super::` from a family's own files reaches `check`, not a sibling; siblings would
            // be `super::super::x`, which the crate does not use.
            assert!(!code.contains("super::super::"), "{}: reaches a sibling check family through super::super", file.display());
        }
    }
    (top, families)
}

#[test]
fn modules_only_use_their_own_layer_or_below() {
    let (top, _) = graph();
    let mut upward = Vec::new();
    for (module, uses) in &top {
        for used in uses {
            if layer_of(used) > layer_of(module) {
                upward.push(format!("{module} uses {used}"));
            }
        }
    }
    assert!(upward.is_empty(), "uses that point up the layers:\n  {}", upward.join("\n  "));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let (top, _) = graph();
    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit<'a>(node: &'a str, graph: &'a BTreeMap<String, BTreeSet<String>>, colour: &mut BTreeMap<&'a str, u8>, stack: &mut Vec<&'a str>) -> Option<Vec<String>> {
        match colour.get(node) {
            Some(1) => {
                let start = stack.iter().position(|n| *n == node).unwrap();
                let mut cycle: Vec<String> = stack[start..].iter().map(|n| n.to_string()).collect();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        colour.insert(node, 1);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, colour, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        colour.insert(node, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for node in top.keys() {
        if let Some(cycle) = visit(node, &top, &mut colour, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn check_families_are_peers() {
    let (_, families) = graph();
    assert_eq!(families.keys().map(String::as_str).collect::<Vec<_>>(), ["coverage", "drift", "hygiene", "security"], "every family was read");
    for (family, uses) in &families {
        assert!(uses.is_empty(), "check::{family} uses check::{}", uses.iter().cloned().collect::<Vec<_>>().join(", check::"));
    }
}

#[test]
fn the_reader_finds_uses_in_groups_and_paths() {
    let code = code_only("use crate::{\n    check::{self, drift},\n    config::{self, Sources},\n};\n// crate::cli in a comment\nlet x = crate::support::format_number(1.0); \"crate::report\";");
    let firsts: BTreeSet<String> = crate_paths(&code).into_iter().map(|p| p[0].clone()).collect();
    assert_eq!(firsts.into_iter().collect::<Vec<_>>(), ["check", "config", "support"]);
    let nested = crate_paths("use crate::check::{coverage::X, drift};");
    assert!(nested.iter().any(|p| p == &["check", "coverage", "X"]), "{nested:?}");
    assert!(nested.iter().any(|p| p == &["check", "drift"]), "{nested:?}");
}

/// Every function of `code` (as `code_only` left it) with its first line and its length in lines.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(found) = code[from..].find("fn ") {
        let at = from + found;
        from = at + 3;
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let name: String = code[at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some(open) = code[at..].find(['{', ';']).map(|i| at + i) else { break };
        if bytes[open] == b';' || name.is_empty() {
            continue;
        }
        let mut depth = 0usize;
        let close = (open..bytes.len())
            .find(|&j| {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .unwrap_or(bytes.len() - 1);
        let first = code[..at].matches('\n').count() + 1;
        let last = code[..close].matches('\n').count() + 1;
        out.push((name, first, last - first + 1));
    }
    out
}

/// Long functions mix deciding with writing messages; past 100 lines, split them.
#[test]
fn no_function_in_src_is_longer_than_100_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for file in source_files(&src) {
        for (name, line, length) in functions(&code_only(&fs::read_to_string(&file).unwrap())) {
            if length > 100 {
                long.push(format!("{}:{line}: fn {name} is {length} lines", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "functions over 100 lines:\n  {}", long.join("\n  "));
}

#[test]
fn the_function_reader_measures_bodies_and_skips_literals() {
    let code = code_only("fn a() {\n    let x = '{';\n    let q = '\\'';\n    let s = \"}\n\";\n}\ntrait T { fn b(&self); }\nfn c<'a>(x: &'a str) -> &'a str { r#\"}\"# ; x }\n");
    assert_eq!(functions(&code), [("a".to_string(), 1, 6), ("c".to_string(), 8, 1)]);
}

/// The README's "What onwatch promises about your files" names the tests that hold each clause:
/// every name must be a test that exists (a `*` ends a prefix several tests share).
#[test]
fn the_readme_promises_point_at_tests_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme.split("## What onwatch promises about your files").nth(1).expect("the README states its promises").split("\n## ").next().unwrap();
    let mut named = 0;
    for quoted in section.split('`').skip(1).step_by(2) {
        let (file, name) = match quoted.split_once(": ") {
            Some((path, name)) => (root.join(path), name),
            None => match quoted.split_once("::") {
                Some((module, name)) => (root.join("tests/it").join(format!("{module}.rs")), name),
                None => continue,
            },
        };
        let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("`{quoted}`: {}: {e}", file.display()));
        let found = match name.strip_suffix('*') {
            Some(prefix) => source.contains(&format!("fn {prefix}")),
            None => source.contains(&format!("fn {name}(")),
        };
        assert!(found, "README names `{quoted}`, which is not a test in {}", file.display());
        named += 1;
    }
    assert!(named >= 10, "the promises name their tests ({named} found)");
}
