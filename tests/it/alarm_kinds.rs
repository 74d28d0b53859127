//! Anomaly-detection and metric-math requirements (issue 11, items 3 and 4): loading and
//! refusing policies, matching alarms by band and by math, and generating `metric_query` blocks.

use std::{fs, path::Path};

use crate::common::today;
use onwatch::{
    check::{evaluate, Evaluation, Status},
    config::{self, Settings, Sources},
    findings::Code,
    generate::{self, GenerateOptions, Templates},
    model::{Inventory, MetricAlarm},
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn builtin() -> Settings {
    config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap()
}

fn example() -> Inventory {
    onwatch::snapshot::read(&root().join("examples/inventory.json")).unwrap()
}

fn requirement<'a>(evaluation: &'a Evaluation, function: &str, rule: &str) -> &'a onwatch::check::RequirementResult {
    evaluation
        .requirements
        .iter()
        .find(|r| r.resource.ends_with(&format!("function:{function}")) && r.alarm_rule == rule)
        .unwrap_or_else(|| panic!("no requirement {rule} for {function}"))
}

fn alarm<'a>(inventory: &'a mut Inventory, name: &str) -> &'a mut MetricAlarm {
    inventory.alarms.iter_mut().find(|a| a.name == name).unwrap()
}

const RATE: &str = "lambda-checkout-handler-error-rate";
const ANOMALY: &str = "lambda-checkout-handler-invocations-anomaly";

fn codes_for(evaluation: &Evaluation, alarm: &str) -> Vec<Code> {
    evaluation.findings.iter().filter(|f| f.alarm.as_deref() == Some(alarm)).map(|f| f.code).collect()
}

#[test]
fn math_requirement_is_covered_by_the_same_math_under_other_query_ids() {
    let evaluation = evaluate(&example(), &builtin(), today());
    let covered = requirement(&evaluation, "checkout-handler", "error-rate");
    assert_eq!((covered.status, covered.alarm.as_deref()), (Status::Covered, Some(RATE)), "{covered:?}");
    assert_eq!(codes_for(&evaluation, RATE), vec![]);
    // image-resizer is selected by its tag and has no rate alarm; report-generator is not selected.
    assert_eq!(requirement(&evaluation, "image-resizer", "error-rate").status, Status::Missing);
    assert!(!evaluation.requirements.iter().any(|r| r.resource.ends_with("report-generator") && r.alarm_rule == "error-rate"));
    let missing = evaluation.findings.iter().find(|f| f.code == Code::MissingAlarm && f.resource.ends_with("image-resizer") && f.message.contains("error-rate"));
    let missing = missing.expect("a missing-alarm finding for image-resizer's error rate");
    assert!(missing.message.contains("AWS/Lambda ErrorRate = 100 * errors / invocations (FunctionName=image-resizer) > 5"), "{}", missing.message);
}

#[test]
fn other_math_over_the_same_metrics_does_not_cover_and_other_settings_are_misconfigured() {
    let settings = builtin();
    let mut inventory = example();
    alarm(&mut inventory, RATE).metrics[0].expression = Some("100 * i / e".into());
    assert_eq!(requirement(&evaluate(&inventory, &settings, today()), "checkout-handler", "error-rate").status, Status::Missing);

    let mut inventory = example();
    alarm(&mut inventory, RATE).metrics[0].expression = Some("  100.0*e/i ".into());
    assert_eq!(requirement(&evaluate(&inventory, &settings, today()), "checkout-handler", "error-rate").status, Status::Covered, "spacing and 100.0");

    let mut inventory = example();
    let rate = alarm(&mut inventory, RATE);
    rate.metrics[1].metric.as_mut().unwrap().stat = "Average".into();
    rate.metrics[2].metric.as_mut().unwrap().period = 300;
    rate.threshold = Some(10.0);
    let evaluation = evaluate(&inventory, &settings, today());
    assert_eq!(requirement(&evaluation, "checkout-handler", "error-rate").status, Status::Misconfigured);
    assert_eq!(codes_for(&evaluation, RATE), vec![Code::ThresholdMismatch, Code::StatisticMismatch, Code::PeriodMismatch]);

    // The same math over another function's metrics answers nothing here.
    let mut inventory = example();
    for query in &mut alarm(&mut inventory, RATE).metrics {
        if let Some(metric) = &mut query.metric {
            metric.dimensions.insert("FunctionName", "report-generator");
        }
    }
    assert_eq!(requirement(&evaluate(&inventory, &settings, today()), "checkout-handler", "error-rate").status, Status::Missing);
}

#[test]
fn anomaly_requirement_is_matched_by_its_band_and_a_wider_band_is_misconfigured() {
    let settings = builtin();
    let evaluation = evaluate(&example(), &settings, today());
    let wide = requirement(&evaluation, "checkout-handler", "invocations-anomaly");
    assert_eq!((wide.status, wide.alarm.as_deref(), wide.threshold), (Status::Misconfigured, Some(ANOMALY), 2.0), "{wide:?}");
    let finding = evaluation.findings.iter().find(|f| f.alarm.as_deref() == Some(ANOMALY)).unwrap();
    assert_eq!(finding.code, Code::ThresholdMismatch);
    assert!(finding.message.contains("anomaly band is 3 standard deviations wide, required 2"), "{}", finding.message);

    let mut inventory = example();
    alarm(&mut inventory, ANOMALY).metrics[0].expression = Some("ANOMALY_DETECTION_BAND(m1)".into());
    let evaluation = evaluate(&inventory, &settings, today());
    assert_eq!(requirement(&evaluation, "checkout-handler", "invocations-anomaly").status, Status::Covered, "the default width is 2");
    assert_eq!(codes_for(&evaluation, ANOMALY), vec![]);

    alarm(&mut inventory, ANOMALY).comparison_operator = onwatch::model::ComparisonOperator::GreaterThanUpperThreshold;
    let evaluation = evaluate(&inventory, &settings, today());
    assert_eq!(codes_for(&evaluation, ANOMALY), vec![Code::ComparisonMismatch]);

    // A band on another metric is no answer.
    let mut inventory = example();
    alarm(&mut inventory, ANOMALY).metrics[1].metric.as_mut().unwrap().metric_name = "Errors".into();
    assert_eq!(requirement(&evaluate(&inventory, &settings, today()), "checkout-handler", "invocations-anomaly").status, Status::Missing);
}

#[test]
fn kinds_do_not_answer_each_other() {
    let settings = builtin();
    let mut inventory = example();
    // A static alarm on Invocations is no anomaly alarm; the anomaly alarm is no Errors alarm.
    let mut fixed = alarm(&mut inventory, "lambda-checkout-handler-errors").clone();
    fixed.name = "static-invocations".into();
    fixed.metric_name = Some("Invocations".into());
    inventory.alarms.retain(|a| a.name != ANOMALY);
    inventory.alarms.push(fixed);
    let evaluation = evaluate(&inventory, &settings, today());
    assert_eq!(requirement(&evaluation, "checkout-handler", "invocations-anomaly").status, Status::Missing);
    let errors = requirement(&evaluation, "checkout-handler", "errors");
    assert_eq!((errors.status, errors.alarm.as_deref()), (Status::Covered, Some("lambda-checkout-handler-errors")), "the rate alarm reads Errors but is not the Errors alarm");
    // Math and anomaly alarms on a function that is gone are orphaned like any other.
    let mut inventory = example();
    inventory.resources.retain(|r| !r.arn.ends_with("function:checkout-handler"));
    let orphans: Vec<_> = evaluate(&inventory, &settings, today()).findings.into_iter().filter(|f| f.code == Code::OrphanedAlarm).filter_map(|f| f.alarm).collect();
    assert!(orphans.contains(&RATE.to_string()) && orphans.contains(&ANOMALY.to_string()), "{orphans:?}");
}

/// The built-in config and one policy file with `alarms`, loaded.
fn load_policy(alarms: serde_json::Value) -> Result<Settings, String> {
    let dir = tempfile::tempdir().unwrap();
    let policy = serde_json::json!({"id": "kinds", "description": "test", "resource_type": "lambda:function", "alarms": alarms});
    fs::write(dir.path().join("kinds.json"), serde_json::to_string_pretty(&policy).unwrap()).unwrap();
    config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(dir.path().to_path_buf()) }).map_err(|e| e.to_string())
}

fn rule(extra: serde_json::Value) -> serde_json::Value {
    let mut rule = serde_json::json!({
        "id": "r", "namespace": "AWS/Lambda", "metric": "Invocations", "statistic": "Sum", "period": 60,
        "evaluation_periods": 1, "datapoints_to_alarm": 1, "comparison": "GreaterThanThreshold",
        "treat_missing_data": "ignore", "severity": "warning", "description": "d"
    });
    for (key, value) in extra.as_object().unwrap() {
        if value.is_null() {
            rule.as_object_mut().unwrap().remove(key);
        } else {
            rule[key] = value.clone();
        }
    }
    rule
}

#[test]
fn bad_anomaly_and_math_rules_are_refused_naming_file_and_json_path() {
    let band = |extra| load_policy(serde_json::json!([rule(extra)]));
    assert!(band(serde_json::json!({"threshold": 1})).is_ok());
    assert!(band(serde_json::json!({"anomaly_band": 2, "comparison": "GreaterThanUpperThreshold"})).is_ok());
    let cases = [
        (serde_json::json!({"anomaly_band": 2}), "$.alarms[0].comparison", "GreaterThanThreshold is a static comparison"),
        (serde_json::json!({"threshold": 1, "anomaly_band": 2, "comparison": "LessThanLowerThreshold"}), "$.alarms[0].anomaly_band", "not both"),
        (serde_json::json!({"threshold": 1, "comparison": "LessThanLowerThreshold"}), "$.alarms[0].comparison", "give anomaly_band instead of threshold"),
        (serde_json::json!({}), "$.alarms[0].threshold", "give threshold"),
        (serde_json::json!({"anomaly_band": 0, "comparison": "LessThanLowerThreshold"}), "$.alarms[0].anomaly_band", "positive"),
        (
            serde_json::json!({"metric": "ErrorRate", "statistic": null, "threshold": 5, "expression": "100 * errors / calls", "metrics": {"errors": {"metric": "Errors", "statistic": "Sum"}}}),
            "$.alarms[0].expression",
            "names \"calls\", which metrics does not define",
        ),
        (
            serde_json::json!({"metric": "Errors", "statistic": null, "threshold": 5, "expression": "errors", "metrics": {"errors": {"metric": "Errors", "statistic": "Sum"}}}),
            "$.alarms[0].metric",
            "needs a name of its own",
        ),
        (
            serde_json::json!({"metric": "ErrorRate", "statistic": null, "threshold": 5, "expression": "e", "metrics": {"e": {"metric": "Nope", "statistic": "Sum"}}}),
            "$.alarms[0].metrics.e.metric",
            "unknown metric \"Nope\"",
        ),
        (
            serde_json::json!({"metric": "ErrorRate", "threshold": 5, "expression": "e", "metrics": {"e": {"metric": "Errors", "statistic": "Sum"}}}),
            "$.alarms[0]",
            "gives each metric's statistic under metrics",
        ),
        (serde_json::json!({"threshold": 5, "metrics": {"e": {"metric": "Errors", "statistic": "Sum"}}}), "$.alarms[0].metrics", "give expression too"),
        (
            serde_json::json!({"metric": "ErrorRate", "statistic": null, "anomaly_band": 2, "comparison": "LessThanLowerThreshold", "expression": "e", "metrics": {"e": {"metric": "Errors", "statistic": "Sum"}}}),
            "$.alarms[0].anomaly_band",
            "not on an expression",
        ),
    ];
    for (extra, path, message) in cases {
        let error = band(extra.clone()).expect_err(&extra.to_string());
        assert!(error.contains("kinds.json") && error.contains(path) && error.contains(message), "{extra}: want {path} {message:?}, got {error}");
    }
    // Query ids must be CloudWatch's: a lowercase letter first (the schema says so).
    let error = band(serde_json::json!({"metric": "ErrorRate", "statistic": null, "threshold": 5, "expression": "E", "metrics": {"E": {"metric": "Errors", "statistic": "Sum"}}})).unwrap_err();
    assert!(error.contains("kinds.json") && error.contains("$.alarms[0].metrics"), "{error}");
}

#[test]
fn the_cli_refuses_a_bad_expression_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    let alarms = serde_json::json!([rule(serde_json::json!({"metric": "ErrorRate", "statistic": null, "threshold": 5, "expression": "x / y", "metrics": {"x": {"metric": "Errors", "statistic": "Sum"}}}))]);
    let policy = serde_json::json!({"id": "kinds", "description": "test", "resource_type": "lambda:function", "alarms": alarms});
    fs::write(dir.path().join("policies/kinds.json"), policy.to_string()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_onwatch")).args(["validate", "--policies", "policies"]).current_dir(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("policies/kinds.json") && stderr.contains("$.alarms[0].expression") && stderr.contains("\"y\""), "{stderr}");
}

/// The generated blocks of the alarms with `metric_query`, in the order written.
fn query_blocks(all: bool) -> String {
    let (inventory, settings) = (example(), builtin());
    let evaluation = evaluate(&inventory, &settings, today());
    let files = generate::generate(&inventory, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all }).unwrap();
    let alarms = files.iter().filter(|f| f.path.starts_with("alarms")).map(|f| f.contents.as_str()).collect::<String>();
    alarms.split("\nresource ").filter(|block| block.contains("metric_query")).map(|block| format!("resource {}\n", block.trim_end())).collect()
}

#[test]
fn math_and_anomaly_alarms_are_generated_with_metric_queries() {
    let blocks = query_blocks(false);
    // The misconfigured band, the missing rate and the NAT gateway's missing dropped-packet rate:
    // not the covered rate alarm.
    assert_eq!(blocks.matches("resource \"aws_cloudwatch_metric_alarm\"").count(), 3, "{blocks}");
    assert!(blocks.contains("\"100 * dropped / (from_source + from_destination)\""), "{blocks}");
    assert!(blocks.contains("threshold_metric_id = \"ad1\"") && blocks.contains("\"ANOMALY_DETECTION_BAND(m1, 2)\""), "{blocks}");
    assert!(blocks.contains("\"100 * errors / invocations\"") && blocks.contains("\"image-resizer\""), "{blocks}");
    assert!(!blocks.contains("\n  namespace ") && !blocks.contains("\n  period "), "no top-level metric beside metric_query");
    insta::assert_snapshot!("metric_query_alarms", blocks);
    assert_eq!(query_blocks(true).matches("resource \"aws_cloudwatch_metric_alarm\"").count(), 4, "with --all, the covered rate alarm too");
}

#[test]
fn generated_math_and_anomaly_alarms_cover_their_requirements() {
    // What generate writes, read back as the alarms AWS would hold, answers each requirement.
    let settings = builtin();
    let mut inventory = example();
    inventory.alarms.retain(|a| a.name != RATE && a.name != ANOMALY);
    let mut rate = example().alarms.into_iter().find(|a| a.name == RATE).unwrap();
    // The generated shape: e1 = the policy's expression over its own ids.
    rate.metrics[0].id = "e1".into();
    rate.metrics[0].expression = Some("100 * errors / invocations".into());
    rate.metrics[1].id = "errors".into();
    rate.metrics[2].id = "invocations".into();
    inventory.alarms.push(rate);
    let evaluation = evaluate(&inventory, &settings, today());
    assert_eq!(requirement(&evaluation, "checkout-handler", "error-rate").status, Status::Covered);
}
