//! The SARIF report, checked by Microsoft's SARIF Multitool (`validate`): the SARIF 2.1.0 JSON
//! schema, the SARIF rules and GitHub code scanning's rules. Any error or warning fails.
//!
//! scripts/test.sh installs the Multitool and sets ONWATCH_SARIF_MULTITOOL; without it these
//! tests fail rather than skip. The broken-log tests prove the validator catches what it should.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

const MULTITOOL_VAR: &str = "ONWATCH_SARIF_MULTITOOL";

/// Rule options for the validator. SARIF2006 (UrisShouldBeReachable) would fetch every URI in
/// the log over the network; the suite stays offline, so it is off. Everything else is default.
const VALIDATION_CONFIG: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="SARIF2006.UrisShouldBeReachable.Options">
    <Property Key="RuleEnabled" Value="Disabled" Type="Driver.RuleEnabledState" />
  </Properties>
</Properties>
"#;

fn multitool() -> PathBuf {
    let path = std::env::var_os(MULTITOOL_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{MULTITOOL_VAR} is not set: run the tests with scripts/test.sh, which installs the SARIF Multitool and sets it")
    });
    assert!(path.is_file(), "{MULTITOOL_VAR}={} does not exist: run scripts/test.sh to install the SARIF Multitool", path.display());
    path
}

/// One result of the validator.
struct Problem {
    level: String,
    rule: String,
    text: String,
}

impl Problem {
    /// Errors and warnings fail the SARIF; notes are advice.
    fn blocking(&self) -> bool {
        self.level == "error" || self.level == "warning"
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.level, self.rule, self.text)
    }
}

fn listing<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> String {
    problems.into_iter().map(|p| format!("  {p}\n")).collect()
}

/// Runs `Sarif.Multitool validate` on `sarif` and returns what it found, read from its own
/// SARIF output (its exit code is 0 whether or not the input is valid).
fn validate(sarif: &Path) -> Vec<Problem> {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("validation.xml");
    fs::write(&config, VALIDATION_CONFIG).unwrap();
    let out = scratch.path().join("validation.sarif");
    let output = Command::new(multitool())
        .arg("validate")
        .arg(sarif)
        .args(["--rule-kind", "Sarif;Gh", "--level", "Error;Warning;Note", "--log", "ForceOverwrite"])
        .arg("--config")
        .arg(&config)
        .arg("--output")
        .arg(&out)
        .current_dir(scratch.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run the SARIF Multitool: {error}"));
    let console = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "SARIF Multitool validate failed ({}):\n{console}", output.status);
    let text = fs::read_to_string(&out).unwrap_or_else(|error| panic!("no validation output ({error}):\n{console}"));
    let log: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
    let run = &log["runs"][0];

    // The validator must have run to the end, or an empty result list means nothing.
    let invocations = run["invocations"].as_array().expect("validation log has invocations");
    assert!(!invocations.is_empty(), "validation log has no invocation:\n{console}");
    for invocation in invocations {
        assert_eq!(invocation["executionSuccessful"], true, "SARIF Multitool did not complete:\n{console}");
        for kind in ["toolExecutionNotifications", "toolConfigurationNotifications"] {
            for notification in invocation[kind].as_array().into_iter().flatten() {
                assert_ne!(notification["level"], "error", "SARIF Multitool {kind}: {notification}\n{console}");
            }
        }
    }

    let rules = run["tool"]["driver"]["rules"].as_array().cloned().unwrap_or_default();
    run["results"]
        .as_array()
        .expect("validation log has results")
        .iter()
        .map(|result| {
            let rule = result["ruleId"].as_str().unwrap_or("?").to_owned();
            // SARIF's default level for a result is "warning".
            let level = result["level"].as_str().unwrap_or("warning").to_owned();
            let message = &result["message"];
            let text = match message["text"].as_str() {
                Some(text) => text.to_owned(),
                None => {
                    let id = message["id"].as_str().unwrap_or_default();
                    let template = rules
                        .iter()
                        .find(|r| r["id"] == rule.as_str())
                        .and_then(|r| r["messageStrings"][id]["text"].as_str())
                        .unwrap_or(id);
                    let arguments = message["arguments"].as_array().cloned().unwrap_or_default();
                    arguments.iter().enumerate().fold(template.to_owned(), |text, (i, arg)| text.replace(&format!("{{{i}}}"), arg.as_str().unwrap_or_default()))
                }
            };
            Problem { level, rule, text }
        })
        .collect()
}

/// Writes onwatch's SARIF report for the example account into `dir` and returns its path.
fn onwatch_sarif(dir: &Path) -> PathBuf {
    let report = dir.join("onwatch.sarif");
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(["check", "--inventory", "examples/inventory.json", "--as-of", "2026-11-25", "--format", "sarif", "--output"])
        .arg(&report)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // The example account has error findings: exit 1, report written.
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    report
}

fn edit_sarif(path: &Path, change: impl FnOnce(&mut Value)) {
    let mut log: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    change(&mut log);
    fs::write(path, serde_json::to_string_pretty(&log).unwrap()).unwrap();
}

fn remove(value: &mut Value, key: &str) {
    assert!(value.as_object_mut().unwrap().remove(key).is_some(), "no {key:?} to remove");
}

/// Validates `report`, which must have results, and fails on any error or warning.
fn assert_passes(report: &Path) {
    let log: Value = serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty(), "the report should have findings to validate");

    let problems = validate(report);
    let (blocking, notes): (Vec<&Problem>, Vec<&Problem>) = problems.iter().partition(|p| p.blocking());
    let mut by_rule = std::collections::BTreeMap::<&str, usize>::new();
    for note in &notes {
        *by_rule.entry(note.rule.as_str()).or_default() += 1;
    }
    let by_rule: Vec<String> = by_rule.iter().map(|(rule, count)| format!("{rule} x{count}")).collect();
    eprintln!("SARIF Multitool: {} errors/warnings, {} notes ({})", blocking.len(), notes.len(), by_rule.join(", "));
    assert!(blocking.is_empty(), "SARIF Multitool reports {} errors/warnings in onwatch's SARIF:\n{}", blocking.len(), listing(blocking));
}

#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn onwatch_sarif_passes_the_multitool() {
    let dir = tempfile::tempdir().unwrap();
    assert_passes(&onwatch_sarif(dir.path()));
}

/// Drift's SARIF is its own run, built from the drift findings: checked the same way, on the
/// fixture workspace with one drift of each kind (one of them, unmanaged, without a Terraform line).
#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn drift_sarif_passes_the_multitool() {
    let dir = crate::common::drifted_workspace();
    let args = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--format", "sarif", "--output", "drift.sarif"];
    let (code, _, stderr) = crate::common::onwatch_in(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    let report = dir.path().join("drift.sarif");
    let log: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let run = &log["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "onwatch/drift/");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(rules.iter().all(|id| id.starts_with("drift-")) && rules.contains(&"drift-changed"), "{rules:?}");
    let results = run["results"].as_array().unwrap();
    for code in ["drift-changed", "drift-missing-live", "drift-dashboard-body", "drift-unmanaged"] {
        assert!(results.iter().any(|r| r["ruleId"] == code), "no {code} result");
    }
    for result in results {
        let rule = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], rules[rule], "ruleIndex points at the result's rule");
    }
    assert_passes(&report);
}

#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn multitool_reports_schema_violations() {
    let dir = tempfile::tempdir().unwrap();
    let report = onwatch_sarif(dir.path());
    edit_sarif(&report, |log| {
        remove(log, "version");
        remove(&mut log["runs"][0]["results"][0], "message");
    });
    let problems = validate(&report);
    let blocking: Vec<&Problem> = problems.iter().filter(|p| p.blocking()).collect();
    for property in ["'version'", "'message'"] {
        assert!(
            blocking.iter().any(|p| p.level == "error" && p.rule == "JSON1002" && p.text.contains(property)),
            "expected a JSON1002 error for the missing {property}; got:\n{}",
            listing(&problems)
        );
    }
}

#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn multitool_reports_github_code_scanning_violations() {
    let dir = tempfile::tempdir().unwrap();
    let report = onwatch_sarif(dir.path());
    edit_sarif(&report, |log| remove(&mut log["runs"][0]["tool"]["driver"]["rules"][0], "shortDescription"));
    let problems = validate(&report);
    assert!(
        problems.iter().any(|p| p.blocking() && p.rule == "GH2012" && p.text.contains("shortDescription")),
        "expected a GH2012 error for the rule without shortDescription; got:\n{}",
        listing(&problems)
    );
}

#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn multitool_reports_a_file_that_is_not_json() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("broken.sarif");
    fs::write(&report, "{\"version\": \"2.1.0\", \"runs\": [").unwrap();
    let problems = validate(&report);
    assert!(problems.iter().any(|p| p.level == "error" && p.rule == "JSON0001"), "expected a JSON0001 syntax error; got:\n{}", listing(&problems));
}

#[test]
#[ignore = "conformance: needs the SARIF Multitool; scripts/test.sh runs it"]
fn sarif_of_declared_resources_passes_the_multitool() {
    // Results point at the Terraform block (`tf/main.tf`, its line), not at an inventory file.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("tf")).unwrap();
    let source = "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nresource \"aws_lambda_function\" \"orders\" {\n  function_name = \"orders\"\n}\n\n\
                  resource \"aws_db_instance\" \"orders\" {\n  identifier = \"orders-db\"\n}\n";
    fs::write(dir.path().join("tf/main.tf"), source).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(["check", "--terraform", "tf", "--as-of", "2026-11-25", "--format", "sarif", "--output", "declared.sarif", "--config"])
        .arg(root.join("config"))
        .arg("--policies")
        .arg(root.join("policies"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let report = dir.path().join("declared.sarif");
    let log: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.iter().all(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tf/main.tf"));
    let problems = validate(&report);
    let blocking: Vec<&Problem> = problems.iter().filter(|p| p.blocking()).collect();
    assert!(blocking.is_empty(), "the Multitool rejects the SARIF of declared resources:\n{}", listing(blocking));
}
