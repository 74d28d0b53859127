//! `--report FORMAT=PATH`: several reports from one run, each the bytes a separate
//! `--format FORMAT --output PATH` run writes; bad specs are usage errors that write nothing.

use std::{fs, path::Path};

use crate::common::{drifted_workspace, onwatch_in};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Runs `base` once with a `--report` per format, then once per format with `--format --output`,
/// and compares the files byte for byte, the exit codes, and the one run's standard output with
/// the text report.
fn one_run_matches_separate_runs(cwd: &Path, out: &Path, base: &[&str], formats: &[&str]) {
    let mut args: Vec<String> = base.iter().map(|a| a.to_string()).collect();
    for format in formats {
        args.push("--report".into());
        args.push(format!("{format}={}", out.join(format!("together.{format}")).display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = onwatch_in(cwd, &args);
    assert!(code == 0 || code == 1, "{stderr}");
    for format in formats {
        let separate = out.join(format!("separate.{format}"));
        let mut single = base.to_vec();
        let separate_arg = separate.display().to_string();
        single.extend(["--format", format, "--output", &separate_arg]);
        let (single_code, _, stderr) = onwatch_in(cwd, &single);
        assert_eq!(single_code, code, "{format}: {stderr}");
        let together = fs::read(out.join(format!("together.{format}"))).unwrap();
        assert!(!together.is_empty(), "{format} report is empty");
        assert!(together == fs::read(&separate).unwrap(), "--report {format}=... differs from --format {format} --output");
    }
    let (_, text, _) = onwatch_in(cwd, base);
    assert_eq!(stdout, text, "--format (text) still goes to standard output");
}

#[test]
fn check_writes_every_report_from_one_run_as_separate_runs_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let baseline = out.join("baseline.json");
    let inventory = ["check", "--inventory", "examples/inventory.json", "--as-of", "2026-11-25"];
    let baseline_arg = baseline.display().to_string();
    let (code, _, stderr) = onwatch_in(root(), &[&inventory[..], &["--format", "json", "--output", &baseline_arg, "--fail-on", "never"]].concat());
    assert_eq!(code, 0, "{stderr}");
    // A baseline without the first finding: the delta reports one finding introduced.
    let mut report: serde_json::Value = serde_json::from_str(&fs::read_to_string(&baseline).unwrap()).unwrap();
    report["findings"].as_array_mut().unwrap().remove(0);
    fs::write(&baseline, serde_json::to_string_pretty(&report).unwrap()).unwrap();

    let base = [&inventory[..], &["--baseline", &baseline_arg]].concat();
    one_run_matches_separate_runs(root(), out, &base, &["text", "json", "markdown", "sarif", "junit"]);
    let markdown = fs::read_to_string(out.join("together.markdown")).unwrap();
    assert!(markdown.contains("1 finding introduced"), "the baseline reached the Markdown report");
    let junit = fs::read_to_string(out.join("together.junit")).unwrap();
    assert!(junit.contains("<testcase classname=\"ec2:instance\""), "JUnit has its requirement records");
}

#[test]
fn drift_writes_every_report_from_one_run_as_separate_runs_do() {
    let dir = drifted_workspace();
    let out = tempfile::tempdir().unwrap();
    let base = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2026-11-25"];
    one_run_matches_separate_runs(dir.path(), out.path(), &base, &["text", "json", "markdown", "sarif"]);
}

#[test]
fn bad_report_specs_exit_two_naming_the_flag_and_write_nothing() {
    let dir = drifted_workspace();
    let check = ["check", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--report", "json=good.json"];
    let drift = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--report", "json=good.json"];
    let audit = ["audit", "list", "--region", "us-east-1", "--report", "json=good.json"];
    let before = files_in(dir.path());
    let cases: &[(&[&str], &[&str], &str)] = &[
        (&check, &["--report", "sarif"], "not FORMAT=PATH"),
        (&check, &["--report", "yaml=x.yaml"], "\"yaml\" is not a format of this command"),
        (&check, &["--report", "json="], "names no file"),
        (&check, &["--report", "sarif=good.json"], "two reports to the same file"),
        (&check, &["--report", "sarif=./good.json"], "two reports to the same file"),
        (&check, &["--output", "good.json"], "two reports to the same file"),
        (&drift, &["--report", "junit=x.xml"], "possible formats: text, json, markdown, sarif"),
        (&drift, &["--report", "text=good.json"], "two reports to the same file"),
        (&audit, &["--report", "markdown=x.md"], "possible formats: text, json"),
        (&audit, &["--report", "text=good.json"], "two reports to the same file"),
    ];
    for (command, extra, message) in cases {
        let args = [*command, *extra].concat();
        let (code, stdout, stderr) = onwatch_in(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("--report") && stderr.contains(message), "{args:?}: stderr lacks --report and {message:?}:\n{stderr}");
        assert_eq!(files_in(dir.path()), before, "{args:?} wrote a file");
    }
}

#[test]
fn a_report_that_cannot_be_written_replaces_none() {
    let dir = drifted_workspace();
    fs::write(dir.path().join("good.json"), "old").unwrap();
    fs::write(dir.path().join("blocker"), "a file where a directory should be").unwrap();
    let args = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--report", "json=good.json", "--report", "sarif=blocker/drift.sarif"];
    let (code, _, stderr) = onwatch_in(dir.path(), &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("blocker/drift.sarif: cannot write"), "{stderr}");
    assert_eq!(fs::read_to_string(dir.path().join("good.json")).unwrap(), "old", "the other report was replaced");
    let mut expected = vec!["blocker", "good.json", "inventory.json", "terraform"];
    expected.sort();
    assert_eq!(files_in(dir.path()), expected, "temporary files left behind");
}
