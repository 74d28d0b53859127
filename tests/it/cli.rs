//! The command-line contract: exit codes, bad-input messages, and that nothing is written on error.


use std::{fs, path::Path, process::Command};

use crate::common::fixtures;

pub(crate) fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A scratch directory holding a copy of the fixture configuration, to break one file at a time.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["config", "policies"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in fs::read_dir(fixtures().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, dir.path().join(sub).join(path.file_name().unwrap())).unwrap();
        }
    }
    fs::write(dir.path().join("inventory.json"), r#"{"version": 1}"#).unwrap();
    dir
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--output", "report.json", "--format", "json"];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

fn assert_error(dir: &Path, result: (i32, String, String), expected: &[&str]) {
    let (code, _, stderr) = result;
    assert_eq!(code, 2, "stderr: {stderr}");
    for fragment in expected {
        assert!(stderr.contains(fragment), "stderr lacks {fragment:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("report.json").exists(), "no output may be written on error");
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn clean_inventory_exits_zero_and_writes_the_report() {
    let dir = workspace();
    let (code, _, stderr) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    for key in ["resources", "required", "covered", "missing", "misconfigured", "orphaned", "exempted", "coverage_percent"] {
        assert!(report["summary"].get(key).is_some(), "summary lacks {key}");
    }
}

#[test]
fn findings_exit_one_unless_below_fail_on() {
    let dir = workspace();
    let inventory = r#"{"version": 1, "resources": [{"arn": "arn:aws:ec2:us-east-1:111111111111:instance/i-1", "type": "ec2:instance", "region": "us-east-1", "account": "111111111111"}]}"#;
    fs::write(dir.path().join("inventory.json"), inventory).unwrap();
    assert_eq!(check(dir.path(), &[]).0, 1);
    assert_eq!(check(dir.path(), &["--fail-on", "warning"]).0, 1);
    assert_eq!(check(dir.path(), &["--fail-on", "never"]).0, 0);
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let finding = &report["findings"][0];
    for key in ["code", "severity", "resource", "message", "remediation"] {
        assert!(finding.get(key).is_some(), "finding lacks {key}");
    }

    // Only a warning (agent metrics) left: fails at --fail-on warning, not at the default.
    let warning_only = r#"{"version": 1, "resources": [{"arn": "arn:aws:ec2:us-east-1:111111111111:instance/i-1", "type": "ec2:instance", "region": "us-east-1", "account": "111111111111", "tags": {"onwatch:ignore": "appliance"}}]}"#;
    fs::write(dir.path().join("inventory.json"), warning_only).unwrap();
    assert_eq!(check(dir.path(), &[]).0, 0);
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let dir = workspace();
    fs::write(dir.path().join("inventory.json"), "{\n  \"version\": 1,\n  \"resources\": [,]\n}").unwrap();
    assert_error(dir.path(), check(dir.path(), &[]), &["inventory.json:3:", "expected"]);
}

#[test]
fn inventory_type_errors_and_unknown_keys_name_the_json_path() {
    let dir = workspace();
    fs::write(dir.path().join("inventory.json"), r#"{"version": 1, "alarms": [{"name": "a", "region": "r", "account": "1", "evaluation_periods": "three", "comparison_operator": "GreaterThanThreshold"}]}"#).unwrap();
    assert_error(dir.path(), check(dir.path(), &[]), &["inventory.json", "$.alarms[0].evaluation_periods", "invalid type"]);
    fs::write(dir.path().join("inventory.json"), r#"{"version": 1, "resorces": []}"#).unwrap();
    assert_error(dir.path(), check(dir.path(), &[]), &["inventory.json", "unknown field `resorces`"]);
}

#[test]
fn unsupported_snapshot_version() {
    let dir = workspace();
    fs::write(dir.path().join("inventory.json"), r#"{"version": 7}"#).unwrap();
    assert_error(dir.path(), check(dir.path(), &[]), &["inventory.json", "$.version", "version 7 is not supported"]);
}

#[test]
fn threshold_of_the_wrong_type_names_file_and_path() {
    let dir = workspace();
    edit(&dir.path().join("policies/ec2.json"), "\"threshold\": 80", "\"threshold\": \"80\"");
    assert_error(dir.path(), check(dir.path(), &[]), &["policies/ec2.json", "$.alarms[0].threshold", "not of type"]);
}

#[test]
fn unknown_keys_in_config_are_rejected() {
    let dir = workspace();
    edit(&dir.path().join("config/alert_thresholds.json"), "\"severities\"", "\"colour\": 1, \"severities\"");
    assert_error(dir.path(), check(dir.path(), &[]), &["config/alert_thresholds.json", "colour"]);
}

#[test]
fn policy_naming_an_unknown_metric_or_resource_type() {
    let dir = workspace();
    edit(&dir.path().join("policies/ec2.json"), "\"metric\": \"CPUUtilization\"", "\"metric\": \"CPUUtilisation\"");
    edit(&dir.path().join("policies/sqs.json"), "\"resource_type\": \"sqs:queue\"", "\"resource_type\": \"sqs:queues\"");
    // Both problems are reported at once.
    assert_error(
        dir.path(),
        check(dir.path(), &[]),
        &["2 problems", "policies/ec2.json: at $.alarms[0].metric: unknown metric \"CPUUtilisation\"", "policies/sqs.json: at $.resource_type: unknown resource type \"sqs:queues\""],
    );
}

#[test]
fn duplicate_policy_ids() {
    let dir = workspace();
    fs::copy(dir.path().join("policies/ec2.json"), dir.path().join("policies/ec2-copy.json")).unwrap();
    assert_error(dir.path(), check(dir.path(), &[]), &["policies/ec2.json", "$.id", "duplicate policy id \"ec2\", first defined in", "ec2-copy.json"]);
}

#[test]
fn unknown_severity_and_bad_exemption_date() {
    let dir = workspace();
    edit(&dir.path().join("policies/ec2.json"), "\"severity\": \"warning\"", "\"severity\": \"sev1\"");
    edit(&dir.path().join("policies/ec2.json"), "2099-01-01", "2099-02-30");
    assert_error(dir.path(), check(dir.path(), &[]), &["$.alarms[0].severity: unknown severity \"sev1\"", "$.exemptions[0].expires"]);
}

#[test]
fn unreadable_inputs() {
    let dir = workspace();
    assert_error(dir.path(), onwatch(&["check", "--inventory", "missing.json"], dir.path()), &["missing.json: cannot read"]);
    fs::create_dir(dir.path().join("adir.json")).unwrap();
    assert_error(dir.path(), onwatch(&["check", "--inventory", "adir.json"], dir.path()), &["adir.json: cannot read"]);
    assert_error(dir.path(), onwatch(&["validate", "--config", "nowhere"], dir.path()), &["nowhere: not a directory"]);
}

#[test]
fn bad_usage_exits_two() {
    let dir = workspace();
    assert_eq!(onwatch(&["check"], dir.path()).0, 2);
    assert_eq!(onwatch(&["check", "--inventory", "inventory.json", "--format", "yaml"], dir.path()).0, 2);
    assert_error(dir.path(), onwatch(&["check", "--inventory", "inventory.json", "--as-of", "soon"], dir.path()), &["--as-of"]);
    assert_error(dir.path(), onwatch(&["explain", "no-such-code"], dir.path()), &["unknown finding code"]);
}

#[test]
fn explain_prints_every_code() {
    let dir = workspace();
    let (code, stdout, _) = onwatch(&["explain", "missing-alarm"], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.starts_with("missing-alarm (error)"));
    let (_, listing, _) = onwatch(&["explain"], dir.path());
    for finding_code in onwatch::findings::Code::ALL {
        assert!(listing.contains(finding_code.as_str()));
    }
}

#[test]
fn validate_reports_what_it_loaded() {
    let dir = workspace();
    let (code, stdout, stderr) = onwatch(&["validate"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "ok: 4 resource types, 3 policies with 4 alarm rules, 2 severities\n");
}

#[test]
fn runs_with_built_in_defaults_and_no_config_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = onwatch(&["validate"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

#[test]
fn help_is_a_visible_contract() {
    let dir = workspace();
    let (_, help, _) = onwatch(&["check", "--help"], dir.path());
    insta::assert_snapshot!(help);
}

#[test]
fn no_panic_on_truncated_or_corrupted_inventories() {
    let example = fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/inventory.json")).unwrap();
    let step = (example.len() / 300).max(1);
    for cut in (0..example.len()).step_by(step) {
        let _ = onwatch::snapshot::parse("cut.json", &example[..cut]);
        let mut corrupted = example.clone();
        corrupted[cut] = b"\"{}[],:0\\x"[cut % 10];
        let _ = onwatch::snapshot::parse("corrupted.json", &corrupted);
    }
    assert!(onwatch::snapshot::parse("whole.json", &example).is_ok());
}

/// Runs onwatch with its standard error on `stderr` (the terminal's `/dev/full`, or a pipe whose
/// reader is gone) and returns the exit code.
fn exit_code_with_stderr(args: &[&str], stderr: impl Into<std::process::Stdio>) -> i32 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(root).stdout(std::process::Stdio::null()).stderr(stderr).status().unwrap();
    status.code().unwrap_or(-1)
}

#[test]
fn a_failed_write_to_stderr_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/inventory.json");
    let generate = ["generate", "--inventory", example.to_str().unwrap(), "--as-of", "2026-11-25", "--out", out.to_str().unwrap()];
    let stale = [&generate[..], &["--check"]].concat();
    let missing = ["check", "--inventory", "/nonexistent/inventory.json"];
    let full = || fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let closed = || std::io::pipe().unwrap().1;
    assert_eq!(exit_code_with_stderr(&stale, full()), 1, "stale --check prints to stderr and exits 1");
    assert_eq!(exit_code_with_stderr(&stale, closed()), 1);
    assert_eq!(exit_code_with_stderr(&generate, full()), 0, "generate ends with a summary on stderr");
    assert!(out.join("alarms.tf").is_file(), "the module is written before the summary");
    fs::remove_dir_all(&out).unwrap();
    assert_eq!(exit_code_with_stderr(&generate, closed()), 0);
    assert!(out.join("alarms.tf").is_file());
    assert_eq!(exit_code_with_stderr(&missing, full()), 2, "an error message that cannot be written still exits 2");
    assert_eq!(exit_code_with_stderr(&missing, closed()), 2);
}

/// Issue 15, defect 3: a region or account that is not an AWS name became raw HCL (provider
/// aliases, resource labels); snapshots are now checked with `scan --region`'s rules at load.
#[test]
fn defect_3_inventory_region_and_account_are_validated_at_load() {
    let dir = workspace();
    let example = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/inventory.json")).unwrap();
    let hostile = example.replacen("\"region\": \"us-east-1\",", "\"region\": \"x + file(pathexpand(path.root)).y\",", 1);
    assert_ne!(hostile, example);
    fs::write(dir.path().join("inventory.json"), &hostile).unwrap();
    let index = serde_json::from_str::<serde_json::Value>(&hostile).unwrap()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["region"] == "x + file(pathexpand(path.root)).y")
        .expect("the hostile region is on a resource");
    assert_error(dir.path(), check(dir.path(), &[]), &[&format!("inventory.json: at $.resources[{index}].region"), "not an AWS region name"]);
    let out = dir.path().join("module");
    let (code, _, stderr) = onwatch(&["generate", "--inventory", "inventory.json", "--out", out.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("$.resources[{index}].region")), "{stderr}");
    assert!(!out.exists() || fs::read_dir(&out).unwrap().next().is_none(), "nothing may be generated");
    for (field, value) in [("region", ""), ("region", "eu west 1"), ("account", "12345"), ("account", "aws.x")] {
        let inventory = format!(r#"{{"version": 1, "alarms": [{{"name": "a", "region": "eu-west-1", "account": "123456789012", "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold", "{field}": {value:?}}}]}}"#);
        let inventory = inventory.replacen(&format!("\"{field}\": \"{}\", ", if field == "region" { "eu-west-1" } else { "123456789012" }), "", 1);
        fs::write(dir.path().join("inventory.json"), inventory).unwrap();
        assert_error(dir.path(), check(dir.path(), &[]), &[&format!("inventory.json: at $.alarms[0].{field}")]);
    }
}

/// Issue 15, defect 4: severity names became Terraform labels unchecked (and an empty one was
/// accepted); they now follow a name pattern, in the schema and in validation.
#[test]
fn defect_4_severity_names_follow_a_pattern() {
    for hostile in ["x + file(pathexpand(path.root)).y", "", "Warning", "1st", "a\\\"b"] {
        let dir = workspace();
        edit(&dir.path().join("config/alert_thresholds.json"), "\"warning\": {", &format!("\"warning\": {{}}, \"{hostile}\": {{"));
        let text = fs::read_to_string(dir.path().join("config/alert_thresholds.json")).unwrap();
        let text = text.replacen("\"warning\": {}, ", "\"warning\": {\"topic\": \"onwatch-warning-2\"}, ", 1);
        fs::write(dir.path().join("config/alert_thresholds.json"), text).unwrap();
        let result = check(dir.path(), &[]);
        assert_error(dir.path(), result.clone(), &["alert_thresholds.json", "$.severities"]);
        assert!(!result.2.contains("$.severities.warning"), "the valid name is not blamed:\n{}", result.2);
    }
}
