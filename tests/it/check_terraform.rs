//! `check --terraform` (alarms declared in the repository count as coverage before apply) and
//! `check --baseline` (the change a pull request makes).


use std::{fs, path::Path, process::Command};

use crate::common::fixtures;

fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

const INVENTORY: &str = r#"{"version": 1,
  "scopes": [{"account": "111111111111", "region": "us-east-1"}],
  "resources": [{"arn": "arn:aws:ec2:us-east-1:111111111111:instance/i-1", "type": "ec2:instance", "region": "us-east-1", "account": "111111111111"}]}"#;

/// The alarms the fixture policy requires of i-1 (cpu-high, and mem-high at the configured 85),
/// as a pull request would add them.
const PULL_REQUEST: &str = r#"
resource "aws_sns_topic" "critical" {
  name = "alerts-critical"
}

resource "aws_sns_topic_subscription" "oncall" {
  topic_arn = aws_sns_topic.critical.arn
  protocol  = "email"
  endpoint  = "oncall@example.com"
}

resource "aws_cloudwatch_metric_alarm" "i1_cpu" {
  alarm_name          = "i-1-cpu"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  alarm_actions       = [aws_sns_topic.critical.arn]
  ok_actions          = [aws_sns_topic.critical.arn]
  dimensions = {
    InstanceId = "i-1"
  }
}

resource "aws_cloudwatch_metric_alarm" "i1_mem" {
  alarm_name          = "i-1-mem"
  namespace           = "CWAgent"
  metric_name         = "mem_used_percent"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 85
  alarm_actions       = [aws_sns_topic.critical.arn]
  ok_actions          = [aws_sns_topic.critical.arn]
  dimensions = {
    InstanceId = "i-1"
  }
}
"#;

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("inventory.json"), INVENTORY).unwrap();
    fs::create_dir_all(dir.path().join("terraform")).unwrap();
    fs::write(dir.path().join("terraform/alarms.tf"), PULL_REQUEST).unwrap();
    dir
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let config = fixtures().join("config");
    let policies = fixtures().join("policies");
    let mut args = vec!["check", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--config", config.to_str().unwrap(), "--policies", policies.to_str().unwrap()];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

fn json(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

#[test]
fn a_declared_alarm_turns_the_missing_alarm_green_before_apply() {
    let dir = workspace();
    let (code, stdout, _) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("[missing-alarm]"), "{stdout}");

    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "terraform", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("terraform: 2 alarms declared in terraform and not yet live"), "{stderr}");
    let report = json(dir.path(), "report.json");
    assert_eq!(report["summary"]["covered"], 2);
    assert_eq!(report["summary"]["declared_not_live"], 2);
    let codes: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(!codes.contains(&"missing-alarm") && !codes.iter().any(|c| c.starts_with("alarm-topic")), "{codes:?}");
}

#[test]
fn a_declared_alarm_with_the_wrong_threshold_is_still_a_finding() {
    let dir = workspace();
    let text = PULL_REQUEST.replace("threshold           = 80", "threshold           = 99");
    fs::write(dir.path().join("terraform/alarms.tf"), text).unwrap();
    let (_, stdout, _) = check(dir.path(), &["--terraform", "terraform"]);
    assert!(stdout.contains("[threshold-mismatch]") && stdout.contains("threshold is 99, required 80"), "{stdout}");
}

#[test]
fn the_baseline_delta_shows_coverage_and_findings_fixed_and_introduced() {
    let dir = workspace();
    assert_eq!(check(dir.path(), &["--format", "json", "--output", "baseline.json", "--fail-on", "never"]).0, 0);
    // The pull request adds the CPU alarm and a second instance without alarms.
    let inventory = INVENTORY.replace("\"resources\": [", r#""resources": [{"arn": "arn:aws:ec2:us-east-1:111111111111:instance/i-2", "type": "ec2:instance", "region": "us-east-1", "account": "111111111111"},"#);
    fs::write(dir.path().join("inventory.json"), inventory).unwrap();
    let (code, _, stderr) = check(dir.path(), &["--terraform", "terraform", "--baseline", "baseline.json", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stderr}");
    let delta = json(dir.path(), "report.json")["delta"].clone();
    assert_eq!(delta["coverage_before"], 0.0);
    assert_eq!(delta["coverage_after"], 50.0);
    assert_eq!(delta["coverage_change"], 50.0);
    let resources = |list: &serde_json::Value| -> Vec<(String, String)> {
        list.as_array().unwrap().iter().map(|f| (f["code"].as_str().unwrap().to_string(), f["resource"].as_str().unwrap().to_string())).collect()
    };
    let i1 = ("missing-alarm".to_string(), "arn:aws:ec2:us-east-1:111111111111:instance/i-1".to_string());
    assert_eq!(resources(&delta["fixed"]), [i1.clone(), i1.clone()], "cpu-high and mem-high");
    assert!(!resources(&delta["introduced"]).contains(&i1));
    assert!(resources(&delta["introduced"]).contains(&("missing-alarm".to_string(), "arn:aws:ec2:us-east-1:111111111111:instance/i-2".to_string())));

    let (_, markdown, _) = check(dir.path(), &["--terraform", "terraform", "--baseline", "baseline.json", "--format", "markdown"]);
    assert!(markdown.starts_with("## ❌ This change: coverage 0% → 50% (+50 points)"), "{markdown}");
    assert!(markdown.contains("**Fixed**") && markdown.contains("**Introduced**"), "{markdown}");

    fs::write(dir.path().join("bad.json"), "{\"summary\": 1}").unwrap();
    let (code, _, stderr) = check(dir.path(), &["--baseline", "bad.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.json") && stderr.contains("not an `onwatch check --format json` report"), "{stderr}");
}

#[test]
fn a_provider_region_that_is_not_a_region_name_exits_two_naming_file_and_line() {
    let dir = workspace();
    let provider = "provider \"aws\" {\n  region = \"x + file(\\\"/etc/passwd\\\")\"\n}\n";
    fs::write(dir.path().join("terraform/provider.tf"), provider).unwrap();
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "terraform", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("terraform/provider.tf:2: the region of provider aws: \"x + file(\\\"/etc/passwd\\\")\" is not an AWS region name"), "{stderr}");
    assert!(!dir.path().join("report.json").exists());
}
