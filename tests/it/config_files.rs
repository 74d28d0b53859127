//! Configuration and policy files that are there but cannot be read: an error naming the path
//! (exit 2), never a silent fallback to the built-in file or a policy skipped (issue 15, defect 10).

use std::{fs, os::unix::fs::symlink, path::Path, process::Command};

fn validate(dir: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(["validate", "--config", "config", "--policies", "policies"]).current_dir(dir).output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// An empty config directory (so every file is the built-in one) and a copy of the built-in policy pack.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("config")).unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join("policies").join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn assert_names(result: (i32, String, String), path: &str, cause: &str) {
    let (code, stdout, stderr) = result;
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains(&format!("{path}: cannot read: ")), "names {path}: {stderr}");
    assert!(stderr.contains(cause), "says why ({cause}): {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_config_file_that_is_a_broken_symlink_or_a_loop_is_an_error_naming_it() {
    let dir = workspace();
    let (code, clean, stderr) = validate(dir.path());
    assert_eq!(code, 0, "the workspace itself is valid: {stderr}");

    let file = dir.path().join("config/alert_thresholds.json");
    symlink("missing.json", &file).unwrap();
    assert_names(validate(dir.path()), "config/alert_thresholds.json", "No such file");

    fs::remove_file(&file).unwrap();
    symlink("alert_thresholds.json", &file).unwrap();
    assert_names(validate(dir.path()), "config/alert_thresholds.json", "symbolic links");

    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    assert_names(validate(dir.path()), "config/alert_thresholds.json", "Is a directory");

    // drift's ignore file, read on its own, the same.
    fs::remove_dir(&file).unwrap();
    symlink("gone.json", dir.path().join("config/drift_ignore.json")).unwrap();
    let error = onwatch::config::drift_ignore::load(Some(&dir.path().join("config"))).unwrap_err().to_string();
    assert!(error.contains("config/drift_ignore.json: cannot read: "), "{error}");
    fs::remove_file(dir.path().join("config/drift_ignore.json")).unwrap();
    assert!(onwatch::config::drift_ignore::load(Some(&dir.path().join("config"))).unwrap().is_empty(), "absent is still no rules");
    assert_eq!(validate(dir.path()).1, clean, "and an absent file is still the built-in one");
}

#[test]
fn a_policy_entry_that_cannot_be_read_is_an_error_naming_it() {
    let dir = workspace();
    let (code, clean, stderr) = validate(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let policies = dir.path().join("policies");

    symlink("missing.json", policies.join("x.json")).unwrap();
    assert_names(validate(dir.path()), "policies/x.json", "No such file");
    fs::remove_file(policies.join("x.json")).unwrap();

    symlink("loop-b.json", policies.join("loop-a.json")).unwrap();
    symlink("loop-a.json", policies.join("loop-b.json")).unwrap();
    assert_names(validate(dir.path()), "policies/loop-a.json", "symbolic links");
    fs::remove_file(policies.join("loop-a.json")).unwrap();
    fs::remove_file(policies.join("loop-b.json")).unwrap();

    fs::create_dir(policies.join("x.json")).unwrap();
    assert_names(validate(dir.path()), "policies/x.json", "Is a directory");
    fs::remove_dir(policies.join("x.json")).unwrap();

    // Entries that are not policies by name are still not read, and the pack is whole again.
    fs::create_dir(policies.join("drafts")).unwrap();
    symlink("missing", policies.join("README")).unwrap();
    assert_eq!(validate(dir.path()), (0, clean, String::new()));
}
