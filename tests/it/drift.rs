//! `onwatch drift`: exit codes, formats and errors, on the fixture Terraform in tests/fixtures/terraform.

use std::{fs, path::Path, process::Command};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A scratch directory with the fixture Terraform and inventory, to edit one thing at a time.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["main.tf", "alerts/queues.tf"] {
        let target = dir.path().join("terraform").join(file);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(root().join("tests/fixtures/terraform").join(file), target).unwrap();
    }
    fs::copy(root().join("tests/fixtures/drift_inventory.json"), dir.path().join("inventory.json")).unwrap();
    dir
}

fn drift(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2026-11-25"];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn an_account_as_declared_exits_zero() {
    let dir = workspace();
    let (code, stdout, stderr) = drift(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("No drift: 2 declared alarms and 1 dashboards in 2 files; 3 in sync"), "{stdout}");
}

#[test]
fn drift_exits_one_in_every_format() {
    let dir = workspace();
    edit(&dir.path().join("inventory.json"), "\"threshold\": 80", "\"threshold\": 95");
    edit(&dir.path().join("terraform/alerts/queues.tf"), "orders = 300", "orders = 300\n    billing = 600");
    let (code, stdout, _) = drift(dir.path(), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("error[drift-changed]") && stdout.contains("threshold: declared 80, live 95"), "{stdout}");
    assert!(stdout.contains("error[drift-missing-live]") && stdout.contains("\"billing-oldest-message\""), "{stdout}");

    let (code, _, stderr) = drift(dir.path(), &["--format", "json", "--output", "drift.json"]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.path().join("drift.json")).unwrap()).unwrap();
    assert_eq!(report["drift"], true);
    assert_eq!(report["summary"]["changed"], 1);
    assert_eq!(report["summary"]["missing_live"], 1);
    let changed = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "drift-changed").unwrap();
    assert_eq!(changed["changes"][0], serde_json::json!({"field": "threshold", "declared": "80", "live": "95"}));
    assert_eq!(changed["origin"]["file"], "terraform/main.tf");
    assert_eq!(changed["origin"]["line"], 15);
    assert_eq!(changed["fingerprint"].as_str().unwrap().len(), 16);

    let (code, sarif, _) = drift(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "drift-changed"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "terraform/main.tf"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 15));

    let (code, markdown, _) = drift(dir.path(), &["--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(markdown.starts_with("## ❌ onwatch: drift"), "{markdown}");
}

#[test]
fn a_dashboard_edited_in_the_console_shows_a_diff() {
    let dir = workspace();
    edit(&dir.path().join("inventory.json"), "On call: #ops", "On call: #platform");
    let (code, stdout, _) = drift(dir.path(), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("error[drift-dashboard-body]"), "{stdout}");
    assert!(stdout.contains("-        \"markdown\": \"On call: #ops\"") && stdout.contains("+        \"markdown\": \"On call: #platform\""), "{stdout}");
}

#[test]
fn unmanaged_alarms_and_ignore_rules_from_config() {
    let dir = workspace();
    edit(&dir.path().join("inventory.json"), "\"alarms\": [", r#""alarms": [{"name": "team-x-hand-made", "region": "us-east-1", "account": "111111111111", "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold"},"#);
    let (code, stdout, _) = drift(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(stdout.contains("warning[drift-unmanaged]") && stdout.contains("team-x-hand-made"), "{stdout}");
    assert_eq!(drift(dir.path(), &["--unmanaged-prefix", "onwatch-"]).0, 0, "outside the prefix");

    fs::create_dir_all(dir.path().join("config")).unwrap();
    let rule = r#"{"rules": [{"name": "team-x-*", "codes": ["drift-unmanaged"], "reason": "team x migrates in December", "expires": "2026-12-31"}]}"#;
    fs::write(dir.path().join("config/drift_ignore.json"), rule).unwrap();
    let (code, stdout, _) = drift(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 ignored"), "{stdout}");
    let args = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2027-01-01"];
    let (code, stdout, _) = onwatch(&args, dir.path());
    assert_eq!(code, 1);
    assert!(stdout.contains("warning[drift-ignore-expired]") && stdout.contains("warning[drift-unmanaged]"), "{stdout}");
}

#[test]
fn a_syntax_error_names_file_line_and_column_and_exits_two() {
    let dir = workspace();
    edit(&dir.path().join("terraform/alerts/queues.tf"), "period              = 60", "period              = = 60");
    let (code, stdout, stderr) = drift(dir.path(), &["--output", "drift.json"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("terraform/alerts/queues.tf:17:25: HCL syntax error"), "{stderr}");
    assert!(!dir.path().join("drift.json").exists());
    let (code, _, stderr) = onwatch(&["drift", "--terraform", "nowhere", "--inventory", "inventory.json"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("nowhere: not a directory"), "{stderr}");
}

/// Defect 11 for drift: a live alarm's name with ESC, BEL, SOH and a newline is
/// shown escaped in the text and Markdown reports, so they cannot colour the terminal or forge a line.
#[test]
fn defect_11_control_characters_in_drift_reports_are_shown_escaped() {
    let dir = workspace();
    let hostile = r#"team-x\u001b[31m\u0007\u0001\n[info] forged-finding"#;
    edit(&dir.path().join("inventory.json"), "\"alarms\": [", &format!(r#""alarms": [{{"name": "{hostile}", "region": "us-east-1", "account": "111111111111", "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold"}},"#));
    for format in ["text", "markdown"] {
        let (code, out, stderr) = drift(dir.path(), &["--format", format]);
        assert_eq!(code, 1, "{format}: {out}{stderr}");
        assert!(out.contains("drift-unmanaged") && out.contains("team-x"), "{format}: the hostile alarm is reported: {out}");
        for c in ['\u{1b}', '\u{7}', '\u{1}'] {
            assert!(!out.contains(c), "{format} keeps {c:?}: {out}");
        }
        assert!(!out.lines().any(|l| l.starts_with("[info] forged-finding")), "{format} forges a line: {out}");
        assert!(out.contains("\\u{1b}[31m"), "{format} does not show ESC escaped: {out}");
    }
}

/// Appends `text` to the fixture's `terraform/main.tf`, returning the line its first line lands on.
fn append(dir: &Path, text: &str) -> usize {
    let path = dir.join("terraform/main.tf");
    let before = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("{before}{text}")).unwrap();
    before.lines().count() + 1
}

/// `drift` under `/usr/bin/time`: the exit code, stderr, and the peak resident memory in MB.
fn drift_measured(dir: &Path, env: &[(&str, &str)]) -> (i32, String, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(time.exists(), "/usr/bin/time (Debian package `time`) measures the peak memory");
    let rss = dir.join("rss.txt");
    let output = Command::new(time)
        .arg("-o")
        .arg(&rss)
        .args(["-f", "%M", env!("CARGO_BIN_EXE_onwatch"), "drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2026-11-25"])
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .unwrap();
    // time writes "Command exited with non-zero status N" first when the command fails.
    let kilobytes: u64 = fs::read_to_string(&rss).unwrap().lines().last().unwrap().trim().parse().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned(), kilobytes / 1024)
}

/// `a0 = "x"`, then `a{i+1} = [local.a{i}, local.a{i}]`: 737 bytes at depth 24.
fn doubling_locals(depth: usize) -> String {
    let lines: String = (0..depth).map(|i| format!("  a{} = [local.a{i}, local.a{i}]\n", i + 1)).collect();
    format!("locals {{\n  a0 = \"x\"\n{lines}}}\n")
}

#[test]
fn defect_7_thirty_doubling_locals_exit_two_at_the_value_bound_in_bounded_memory() {
    let dir = workspace();
    let first = append(dir.path(), &doubling_locals(30));
    let started = std::time::Instant::now();
    let (code, stderr, megabytes) = drift_measured(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    // a19 is the first local past a million elements (2^20 - 1).
    let expected = format!("terraform/main.tf:{}: local.a19: a value of more than 1000000 elements", first + 20);
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(megabytes < 300, "peak {megabytes} MB");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn defect_7_thirty_doubling_locals_are_shared_not_copied_when_the_bound_allows_them() {
    let dir = workspace();
    append(dir.path(), &doubling_locals(30));
    // 2^31 - 1 elements in a30 pass: only sharing keeps that in memory.
    let (code, stderr, megabytes) = drift_measured(dir.path(), &[("ONWATCH_TERRAFORM_MAX_VALUE_ELEMENTS", "4000000000")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(megabytes < 300, "peak {megabytes} MB");
}

#[test]
fn defect_7_a_cycle_of_locals_exits_two_naming_file_and_line() {
    let dir = workspace();
    let first = append(dir.path(), "locals {\n  x = local.y\n  y = \"${local.x}-y\"\n}\n");
    let (code, stdout, stderr) = drift(dir.path(), &["--output", "drift.json"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("terraform/main.tf:{}: local.x refers to itself: local.x → local.y → local.x", first + 1)), "{stderr}");
    assert!(!dir.path().join("drift.json").exists());
}

#[test]
fn defect_16_a_threshold_beyond_f64_is_read_and_reported_unresolved() {
    let dir = workspace();
    edit(&dir.path().join("terraform/main.tf"), "threshold           = var.cpu_threshold", "threshold           = 1e400");
    let (code, stdout, stderr) = drift(dir.path(), &[]);
    assert_ne!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("the number 1e400 is beyond the range of a 64-bit float"), "{stdout}");
}

#[test]
fn defect_16_seventy_levels_of_nesting_are_read_and_a_hundred_thousand_refused_naming_the_line() {
    let nested = |depth: usize| format!("locals {{\n  deep = {}1{}\n}}\n", "[".repeat(depth), "]".repeat(depth));
    let dir = workspace();
    append(dir.path(), &nested(70));
    let (code, stdout, stderr) = drift(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let dir = workspace();
    let first = append(dir.path(), &nested(100_000));
    let (code, stdout, stderr) = drift(dir.path(), &["--output", "drift.json"]);
    assert_eq!(code, 2, "a crash is not a refusal: {stdout}{stderr}");
    assert!(stderr.contains(&format!("terraform/main.tf:{}:", first + 1)) && stderr.contains("nested levels"), "{stderr}");
    assert!(!dir.path().join("drift.json").exists());
}

/// An alarm written the way teams write it, its dimension a reference to the function it watches:
/// drift takes the function's name from its block and compares the alarm whole (no unresolved
/// field), and a live change to it is drift. A value known only after apply (a database's
/// generated identifier) is named as the reference it is.
#[test]
fn a_dimension_referring_to_a_declared_resource_is_compared_through_its_static_value() {
    let dir = tempfile::tempdir().unwrap();
    let source = r#"provider "aws" {
  region = "eu-west-1"
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "arn:aws:iam::111111111111:role/api"
}

resource "aws_db_instance" "main" {
  engine = "postgres"
}

resource "aws_cloudwatch_metric_alarm" "api_errors" {
  alarm_name          = "api-errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 1
  dimensions = {
    FunctionName = aws_lambda_function.api.function_name
  }
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "db-cpu"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = 90
  dimensions = {
    DBInstanceIdentifier = aws_db_instance.main.identifier
  }
}
"#;
    fs::create_dir_all(dir.path().join("terraform")).unwrap();
    fs::write(dir.path().join("terraform/main.tf"), source).unwrap();
    let alarm = |name: &str, namespace: &str, metric: &str, statistic: &str, periods: u32, threshold: u32, dimension: (&str, &str)| {
        serde_json::json!({"name": name, "region": "eu-west-1", "account": "111111111111", "namespace": namespace, "metric_name": metric,
            "dimensions": {dimension.0: dimension.1}, "statistic": statistic, "period": 60, "evaluation_periods": periods,
            "comparison_operator": "GreaterThanThreshold", "threshold": threshold, "actions_enabled": true,
            "alarm_actions": [], "ok_actions": [], "insufficient_data_actions": []})
    };
    let inventory = |function: &str| {
        serde_json::json!({"version": 1, "scopes": [{"account": "111111111111", "region": "eu-west-1"}], "resources": [], "alarms": [
            alarm("api-errors", "AWS/Lambda", "Errors", "Sum", 3, 1, ("FunctionName", function)),
            alarm("db-cpu", "AWS/RDS", "CPUUtilization", "Average", 5, 90, ("DBInstanceIdentifier", "terraform-20261203000001")),
        ]})
        .to_string()
    };
    fs::write(dir.path().join("inventory.json"), inventory("api")).unwrap();
    let report = |dir: &Path| -> (i32, serde_json::Value) {
        let (code, stdout, stderr) = drift(dir, &["--format", "json"]);
        (code, serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stdout}{stderr}")))
    };
    let (code, json) = report(dir.path());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["summary"]["in_sync"], 2, "{json:#}");
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the database alarm's dimension is uncompared: {json:#}");
    assert_eq!(findings[0]["alarm"], "db-cpu");
    assert!(findings[0]["message"].as_str().unwrap().contains("refers to ${aws_db_instance.main.identifier}"), "{json:#}");

    fs::write(dir.path().join("inventory.json"), inventory("api-v2")).unwrap();
    let (code, json) = report(dir.path());
    assert_eq!(code, 1, "{json:#}");
    let changed = json["findings"].as_array().unwrap().iter().find(|f| f["code"] == "drift-changed").unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(changed["alarm"], "api-errors");
    assert_eq!(changed["changes"][0]["field"], "dimensions", "{changed:#}");
}
