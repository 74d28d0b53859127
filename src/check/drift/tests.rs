use super::*;
use crate::model::{ComparisonOperator, Dimensions, Scope, Statistic, TreatMissingData};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

const TERRAFORM: &str = r#"
provider "aws" {
  alias  = "east"
  region = "us-east-1"
}
variable "unknown" {}
resource "aws_sns_topic" "alerts" {
  provider = aws.east
  name     = "alerts"
}
resource "aws_cloudwatch_metric_alarm" "cpu" {
  provider            = aws.east
  alarm_name          = "web-cpu"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  dimensions = {
    InstanceId = "i-1"
  }
}
resource "aws_cloudwatch_metric_alarm" "gone" {
  provider            = aws.east
  alarm_name          = "web-gone"
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
}
resource "aws_cloudwatch_metric_alarm" "vague" {
  provider            = aws.east
  alarm_name          = "web-vague"
  namespace           = "AWS/EC2"
  metric_name         = "NetworkIn"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.unknown
}
resource "aws_cloudwatch_dashboard" "main" {
  provider       = aws.east
  dashboard_name = "main"
  dashboard_body = jsonencode({ widgets = [{ type = "text", x = 0, properties = { markdown = "hello" } }] })
}
"#;

fn declared() -> Declared {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), TERRAFORM).unwrap();
    crate::terraform::read_dir(dir.path()).unwrap()
}

fn alarm(name: &str, metric: &str, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        arn: Some(format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}")),
        region: REGION.into(),
        account: ACCOUNT.into(),
        description: None,
        namespace: Some("AWS/EC2".into()),
        metric_name: Some(metric.into()),
        dimensions: Dimensions::default(),
        statistic: Some(Statistic::Sum),
        extended_statistic: None,
        period: Some(300),
        evaluation_periods: 1,
        datapoints_to_alarm: None,
        comparison_operator: ComparisonOperator::GreaterThanThreshold,
        threshold: Some(threshold),
        treat_missing_data: None,
        actions_enabled: true,
        alarm_actions: vec![],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        state: None,
        state_updated_at: None,
        state_changes: None,
        metrics: vec![],
        threshold_metric_id: None,
    }
}

/// The live account exactly as TERRAFORM declares it (web-gone included).
fn in_sync() -> Inventory {
    let mut cpu = alarm("web-cpu", "CPUUtilization", 80.0);
    cpu.statistic = Some(Statistic::Average);
    cpu.evaluation_periods = 3;
    cpu.datapoints_to_alarm = Some(3);
    cpu.treat_missing_data = Some(TreatMissingData::Breaching);
    cpu.alarm_actions = vec![format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts")];
    cpu.dimensions = [("InstanceId", "i-1")].into_iter().collect();
    let mut gone = alarm("web-gone", "StatusCheckFailed", 0.0);
    gone.statistic = Some(Statistic::Maximum);
    gone.period = Some(60);
    gone.evaluation_periods = 2;
    Inventory {
        version: 1,
        scopes: vec![Scope { account: ACCOUNT.into(), region: REGION.into(), failed: None }],
        alarms: vec![cpu, gone, alarm("web-vague", "NetworkIn", 5.0)],
        dashboards: vec![Dashboard {
            name: "main".into(),
            arn: None,
            region: REGION.into(),
            account: ACCOUNT.into(),
            // Same JSON, other key order and spacing.
            body: Some(r#"{"widgets": [{"x": 0, "properties": {"markdown": "hello"}, "type": "text"}]}"#.into()),
        }],
        ..Inventory::default()
    }
}

fn codes(report: &DriftReport) -> Vec<(Code, String)> {
    report.items.iter().map(|i| (i.finding.code, i.finding.alarm.clone().unwrap_or_default())).collect()
}

#[test]
fn an_account_as_declared_has_no_drift_and_unresolved_values_are_not_drift() {
    let report = drift(&declared(), &in_sync(), &DriftOptions::default());
    assert!(!report.has_drift(), "{:#?}", report.items);
    assert_eq!(codes(&report), [(Code::DriftUnresolved, "web-vague".to_string())]);
    assert!(report.items[0].finding.message.contains("threshold"), "{}", report.items[0].finding.message);
    assert_eq!(report.summary.in_sync, 4, "cpu, gone, vague (as far as known) and the dashboard");
    assert_eq!(report.summary.unresolved, 1);
}

#[test]
fn each_kind_of_drift_is_reported_with_its_fields() {
    let mut live = in_sync();
    live.alarms[0].threshold = Some(95.0);
    live.alarms[0].alarm_actions = vec![];
    live.alarms.remove(1);
    live.alarms.push(alarm("hand-made", "DiskReadOps", 1.0));
    live.dashboards[0].body = Some(r#"{"widgets": [{"type": "text", "x": 6, "properties": {"markdown": "hello"}}]}"#.into());
    live.dashboards.push(Dashboard { name: "console-made".into(), arn: None, region: REGION.into(), account: ACCOUNT.into(), body: None });
    let report = drift(&declared(), &live, &DriftOptions::default());
    assert!(report.has_drift());
    let mut found = codes(&report);
    found.sort();
    assert_eq!(
        found,
        [
            (Code::DriftMissingLive, "web-gone".to_string()),
            (Code::DriftChanged, "web-cpu".to_string()),
            (Code::DriftUnmanaged, "console-made".to_string()),
            (Code::DriftUnmanaged, "hand-made".to_string()),
            (Code::DriftDashboardBody, "main".to_string()),
            (Code::DriftUnresolved, "web-vague".to_string()),
        ]
    );
    let changed = report.items.iter().find(|i| i.finding.code == Code::DriftChanged).unwrap();
    let fields: Vec<(&str, &str, &str)> = changed.changes.iter().map(|c| (c.field.as_str(), c.declared.as_str(), c.live.as_str())).collect();
    assert_eq!(fields, [("threshold", "80", "95"), ("alarm_actions", "[arn:aws:sns:us-east-1:111111111111:alerts]", "[]")]);
    assert_eq!(changed.finding.origin.as_ref().unwrap().line, 11);
    let dashboard = report.items.iter().find(|i| i.finding.code == Code::DriftDashboardBody).unwrap();
    let diff = dashboard.diff.as_deref().unwrap();
    assert!(diff.contains("-      \"x\": 0") && diff.contains("+      \"x\": 6"), "{diff}");
    assert_eq!((report.summary.missing_live, report.summary.changed, report.summary.unmanaged, report.summary.dashboard_body), (1, 1, 2, 1));
}

#[test]
fn unmanaged_prefix_limits_what_is_reported() {
    let mut live = in_sync();
    live.alarms.push(alarm("team-a-cpu", "CPUUtilization", 1.0));
    live.alarms.push(alarm("other-cpu", "CPUUtilization", 1.0));
    let options = DriftOptions { unmanaged_prefixes: vec!["team-a-".into()], ..DriftOptions::default() };
    let report = drift(&declared(), &live, &options);
    let unmanaged: Vec<_> = report.items.iter().filter(|i| i.finding.code == Code::DriftUnmanaged).map(|i| i.finding.alarm.clone().unwrap()).collect();
    assert_eq!(unmanaged, ["team-a-cpu"]);
}

#[test]
fn ignore_rules_hide_drift_until_they_expire() {
    let mut live = in_sync();
    live.alarms[0].threshold = Some(95.0);
    live.alarms[0].period = Some(60);
    let rules = crate::config::drift_ignore::parse(
        "config/drift_ignore.json",
        r#"{"rules": [
  {"name": "web-*", "codes": ["drift-changed"], "fields": ["threshold"], "reason": "load test", "expires": "2026-12-01"}
]}"#,
    )
    .unwrap();
    let at = |date| DriftOptions { ignore: rules.clone(), today: Some(date), ..DriftOptions::default() };
    // Before expiry the threshold is left out, the period still reported.
    let report = drift(&declared(), &live, &at(time::macros::date!(2026 - 12 - 01)));
    let changed = report.items.iter().find(|i| i.finding.code == Code::DriftChanged).unwrap();
    assert_eq!(changed.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["period"]);
    assert!(!changed.finding.message.contains("threshold"), "{}", changed.finding.message);
    assert_eq!(report.summary.ignored, 1);
    // After expiry: both reported, plus the expired rule.
    let report = drift(&declared(), &live, &at(time::macros::date!(2026 - 12 - 02)));
    let changed = report.items.iter().find(|i| i.finding.code == Code::DriftChanged).unwrap();
    assert_eq!(changed.changes.len(), 2);
    let expired = report.items.iter().find(|i| i.finding.code == Code::DriftIgnoreExpired).unwrap();
    assert_eq!(expired.finding.origin.as_ref().unwrap().line, 2);
    assert_eq!(report.summary.ignore_expired, 1);
}

#[test]
fn ignore_rules_are_validated_all_at_once() {
    let error = crate::config::drift_ignore::parse("x.json", r#"{"rules": [{"name": "a", "reason": " ", "expires": "2026-13-01"}, {"name": "b", "codes": ["missing-alarm"], "reason": "r", "expires": "2026-01-01"}]}"#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("3 problems"), "{error}");
    assert!(error.contains("reason is empty") && error.contains("not a date") && error.contains("missing-alarm is not a drift code"), "{error}");
}

#[test]
fn unresolved_names_turn_unmanaged_into_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.tf"), "resource \"aws_cloudwatch_metric_alarm\" \"x\" {\n  alarm_name = data.x.name\n}\n").unwrap();
    let declared = crate::terraform::read_dir(dir.path()).unwrap();
    let mut live = in_sync();
    live.dashboards.clear();
    let report = drift(&declared, &live, &DriftOptions::default());
    assert!(!report.has_drift(), "{:#?}", report.items);
    assert!(report.items.iter().all(|i| i.finding.code == Code::DriftUnresolved));
    assert_eq!(report.items.len(), 4, "the unnamed declaration and three live alarms");
}

#[test]
fn codes_lists_every_drift_code() {
    for code in crate::findings::Code::ALL {
        assert_eq!(super::CODES.contains(code), code.as_str().starts_with("drift-"), "{code}");
    }
}
