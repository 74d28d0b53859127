//! `onwatch init`: the configuration it writes is the built-in one (same validation, same
//! findings), with published schemas; it replaces nothing without --force and then writes
//! nothing at all; its CI workflows are the examples and use only flags that exist.

use std::{fs, path::Path, path::PathBuf};

use onwatch::init::SCHEMA_BASE_URL;

use crate::{ci_examples::parsed_onwatch_commands, cli::onwatch, generate::snapshot_tree};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The report of the example account, checked in `cwd` with whatever `./config` and `./policies` it has.
fn example_report(cwd: &Path) -> String {
    let inventory = root().join("examples/inventory.json");
    let args = ["check", "--inventory", inventory.to_str().unwrap(), "--format", "json", "--as-of", "2026-11-25", "--fail-on", "never"];
    let (code, stdout, stderr) = onwatch(&args, cwd);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn init_writes_the_built_in_configuration_with_published_schemas() {
    let scratch = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = onwatch(&["init", "repo"], scratch.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let repo = scratch.path().join("repo");
    let tree = snapshot_tree(&repo);
    let count = |dir: &str| tree.keys().filter(|path| path.starts_with(dir)).count();
    let shipped = |dir: &str| fs::read_dir(root().join(dir)).unwrap().count();
    assert_eq!((count("config/"), count("policies/")), (shipped("config"), shipped("policies")), "every built-in file: {:?}", tree.keys());
    assert!(tree.contains_key("README.md"));
    let files = shipped("config") + shipped("policies") + 1;
    assert_eq!(tree.len(), files, "no CI files unless asked: {:?}", tree.keys());
    assert!(stderr.contains(&format!("wrote {files} files")), "{stderr}");

    // Every JSON file names its schema by the published URL and a stable name of the catalog.
    let catalog: serde_json::Value = serde_json::from_str(&fs::read_to_string(root().join("schemas/catalog.json")).unwrap()).unwrap();
    let stable: Vec<&str> = catalog["schemas"].as_array().unwrap().iter().map(|s| s["url"].as_str().unwrap().trim_start_matches("./")).collect();
    for (path, bytes) in tree.iter().filter(|(path, _)| path.ends_with(".json")) {
        let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let url = value["$schema"].as_str().unwrap_or_else(|| panic!("{path} has no $schema"));
        let name = url.strip_prefix(&format!("{SCHEMA_BASE_URL}/")).unwrap_or_else(|| panic!("{path}: {url} is not published"));
        assert!(stable.contains(&name), "{path}: {name} is not in schemas/catalog.json");
    }
    let readme = String::from_utf8(tree["README.md"].clone()).unwrap();
    for file in ["config/alert_thresholds.json", "config/dashboard_config.json", "config/security_detections.json", "policies/"] {
        assert!(readme.contains(file), "the README does not say what {file} is for");
    }

    // The written files are what onwatch reads there, and they are the built-ins: the same
    // validation summary and the same findings, only the policy files named differently.
    let built_in = tempfile::tempdir().unwrap();
    let validate = |cwd: &Path| onwatch(&["validate"], cwd);
    let (written, defaults) = (validate(&repo), validate(built_in.path()));
    assert_eq!((written.0, defaults.0), (0, 0), "{}{}", written.2, defaults.2);
    assert_eq!(written.1, defaults.1);
    let report = example_report(&repo);
    assert!(report.contains("\"policies/") && !report.contains("<built-in>/policies/"), "the written policies were not read");
    let findings: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(findings["findings"].as_array().unwrap().len() > 50, "the example account has findings");
    assert_eq!(report, example_report(built_in.path()).replace("<built-in>/", ""));
}

#[test]
fn an_existing_file_stops_init_before_it_writes_anything_unless_forced() {
    let repo = tempfile::tempdir().unwrap();
    fs::create_dir(repo.path().join("config")).unwrap();
    fs::write(repo.path().join("config/alert_thresholds.json"), "mine").unwrap();
    let before = snapshot_tree(repo.path());
    let (code, stdout, stderr) = onwatch(&["init", "--ci", "github"], repo.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("config/alert_thresholds.json: exists") && stderr.contains("--force"), "{stderr}");
    assert_eq!(snapshot_tree(repo.path()), before, "nothing may be written");

    // Something in the way of a directory stops it as well.
    let blocked = tempfile::tempdir().unwrap();
    fs::write(blocked.path().join("policies"), "a file").unwrap();
    let (code, _, stderr) = onwatch(&["init", "--force"], blocked.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("policies: is in the way"), "{stderr}");
    assert_eq!(snapshot_tree(blocked.path()).len(), 1, "nothing may be written");

    let (code, _, stderr) = onwatch(&["init", "--ci", "github", "--force"], repo.path());
    assert_eq!(code, 0, "{stderr}");
    let thresholds = fs::read_to_string(repo.path().join("config/alert_thresholds.json")).unwrap();
    assert!(thresholds.contains("\"severities\""), "--force replaces the file: {thresholds}");
    // The built-ins, the README and the five GitHub workflows.
    let shipped = |dir: &str| fs::read_dir(root().join(dir)).unwrap().count();
    assert_eq!(snapshot_tree(repo.path()).len(), shipped("config") + shipped("policies") + 1 + 5);
    let leftovers: Vec<_> = fs::read_dir(repo.path().join("config")).unwrap().map(|e| e.unwrap().file_name()).filter(|n| !n.to_string_lossy().ends_with(".json")).collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

#[test]
fn init_writes_the_example_ci_whose_commands_parse() {
    for (ci, expected) in [
        (
            "github",
            vec![
                ".github/workflows/onwatch-drift.yml",
                ".github/workflows/onwatch-fork-check.yml",
                ".github/workflows/onwatch-fork-publish.yml",
                ".github/workflows/onwatch-generate.yml",
                ".github/workflows/onwatch-pull-request.yml",
            ],
        ),
        ("gitlab", vec![".gitlab-ci.yml"]),
    ] {
        let repo = tempfile::tempdir().unwrap();
        let (code, _, stderr) = onwatch(&["init", ".", "--ci", ci], repo.path());
        assert_eq!(code, 0, "{stderr}");
        let tree = snapshot_tree(repo.path());
        let written: Vec<&str> = tree.keys().map(String::as_str).filter(|p| p.ends_with(".yml")).collect();
        assert_eq!(written, expected);
        for path in written {
            let text = std::str::from_utf8(&tree[path]).unwrap();
            let example = root().join("examples/ci").join(ci).join(Path::new(path).file_name().unwrap());
            assert_eq!(text, fs::read_to_string(&example).unwrap(), "{path} is not {}", example.display());
            let value: serde_norway::Value = serde_norway::from_str(text).unwrap_or_else(|e| panic!("{path}: invalid YAML: {e}"));
            let commands = parsed_onwatch_commands(Path::new(path), &value);
            if path.ends_with("onwatch-fork-publish.yml") {
                // It runs in the repository's context with a token that writes: no code of the fork, onwatch included.
                assert!(commands.is_empty(), "{path} runs {commands:?}");
            } else {
                assert!(commands.len() >= 2, "{path} runs {commands:?}");
            }
        }
    }
}
