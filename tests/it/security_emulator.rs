//! Security detections end to end on the emulator: the seeded account (tests/emulator/seed.py) has
//! a multi-region trail into CloudWatch Logs with some controls covered and some missing; the
//! scanner reads trails and metric filters through the SDK, the check names each gap, and the
//! module `onwatch generate` writes, once "applied", closes every gap. The EventBridge patterns of
//! the detections are matched by the emulator's own EventBridge matcher against the same sample
//! CloudTrail events the filter patterns are tested with.


use std::{collections::BTreeMap, path::Path, process::Command};

use crate::harness::{onwatch, text, tool, Emulator, ACCOUNT, REGION};
use onwatch::{check::drift, terraform};
use serde_json::{json, Value};

fn scan(emulator: &Emulator, dir: &Path, output: &str) {
    let result = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", output], dir);
    assert_eq!(result.status.code(), Some(0), "scan failed:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
}

fn check(dir: &Path, inventory: &str) -> Value {
    let result = onwatch(&["check", "--inventory", inventory, "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"], dir);
    assert_eq!(result.status.code(), Some(0), "check failed:\n{}", text(&result.stderr));
    serde_json::from_slice(&result.stdout).unwrap()
}

fn python(emulator: &Emulator, script: &str, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator").join(script);
    let output = Command::new(tool("ONWATCH_PYTHON")).arg(script).args(["--endpoint", &emulator.endpoint, "--region", REGION]).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?} failed:\n{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn statuses(report: &Value) -> BTreeMap<String, String> {
    report["summary"]["security"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["control"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn the_check_finds_the_seeded_gaps_and_the_generated_module_closes_them() {
    let emulator = Emulator::start();
    let made = emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    scan(&emulator, dir.path(), "before.json");
    let inventory = onwatch::snapshot::read(&dir.path().join("before.json")).unwrap();
    assert_eq!(inventory.trails.len(), 1);
    let trail = &inventory.trails[0];
    assert_eq!((trail.arn.as_str(), trail.multi_region, trail.logging), (made["security"]["trail"].as_str().unwrap(), true, true));
    assert_eq!(trail.log_group_name(), Some("aws-cloudtrail-logs"));
    let names: Vec<&str> = inventory.log_metric_filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["cloudtrail-changes", "iam-policy-changes", "root-usage"]);

    let report = check(dir.path(), "before.json");
    let statuses = statuses(&report);
    assert_eq!(statuses["4.3"], "covered", "root usage: filter, alarm, confirmed topic");
    assert_eq!(statuses["4.4"], "unrouted", "IAM policy changes notify a topic nobody confirmed");
    assert_eq!(statuses["4.5"], "no-alarm", "CloudTrail changes have a filter but no alarm");
    assert_eq!(statuses.values().filter(|s| *s == "no-filter").count(), 12);
    let codes: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("security-"))
        .map(|f| (f["code"].as_str().unwrap(), f["requirement"].as_str().unwrap_or("")))
        .collect();
    assert!(codes.contains(&("security-alarm-unrouted", "cis-5.0.0/4.4")), "{codes:?}");
    assert!(codes.contains(&("security-alarm-missing", "cis-5.0.0/4.5")), "{codes:?}");
    assert!(codes.contains(&("security-filter-missing", "cis-5.0.0/4.1")), "{codes:?}");
    assert!(!codes.iter().any(|(c, _)| *c == "security-trail-missing"), "the seeded trail feeds the log group: {codes:?}");
    assert_eq!(report["summary"]["security"]["log_groups"][0], made["security"]["log_group"]);

    // Generate, then "apply" what the module declares (alarms, topics, metric filters) as read
    // back by onwatch's Terraform reader.
    let result = onwatch(&["generate", "--inventory", "before.json", "--out", "generated", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(result.status.code(), Some(0), "generate failed:\n{}", text(&result.stderr));
    let declared = terraform::read_dir(&dir.path().join("generated")).unwrap();
    let plan = drift::declared_as_live(&declared, &inventory);
    assert_eq!(plan.log_metric_filters.len(), 14, "every control but root usage, which the account covers");
    let plan_json = json!({"alarms": plan.alarms, "dashboards": [], "topics": plan.topics, "log_metric_filters": plan.log_metric_filters});
    std::fs::write(dir.path().join("plan.json"), plan_json.to_string()).unwrap();
    let applied = python(&emulator, "apply.py", &["apply", dir.path().join("plan.json").to_str().unwrap()]);
    assert_eq!(applied["log_metric_filters"], 14);

    scan(&emulator, dir.path(), "after.json");
    let report = check(dir.path(), "after.json");
    let security = &report["summary"]["security"];
    assert_eq!((security["required"].as_u64(), security["covered"].as_u64()), (Some(15), Some(15)), "{security:#}");
    assert!(
        !report["findings"].as_array().unwrap().iter().any(|f| f["code"].as_str().unwrap().starts_with("security-")),
        "{:#}",
        report["findings"]
    );
    // And the next generation keeps declaring onwatch's own detections, so applying it deletes none.
    let again = onwatch(&["generate", "--inventory", "after.json", "--out", "generated", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let redeclared = terraform::read_dir(&dir.path().join("generated")).unwrap();
    assert_eq!(redeclared.of_kind(terraform::Kind::LogMetricFilter).count(), 14, "onwatch's own filters stay declared once they cover");
}

/// The EventBridge envelope of a CloudTrail record, as EventBridge delivers it to rules.
fn envelope(record: &Value) -> Value {
    let source = record["eventSource"].as_str().unwrap().split('.').next().unwrap();
    let detail_type = if record["eventName"] == "ConsoleLogin" { "AWS Console Sign In via CloudTrail" } else { "AWS API Call via CloudTrail" };
    json!({
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": format!("aws.{source}"),
        "account": ACCOUNT,
        "time": record["eventTime"],
        "region": REGION,
        "resources": [],
        "detail": record,
    })
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn eventbridge_detections_match_the_same_events_as_the_filters() {
    let emulator = Emulator::start();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The built-in configuration with the EventBridge rules switched on.
    let config = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root.join("config")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, config.path().join(path.file_name().unwrap())).unwrap();
    }
    let detections = config.path().join("security_detections.json");
    let switched = std::fs::read_to_string(&detections).unwrap().replace("\"eventbridge_rules\": false", "\"eventbridge_rules\": true");
    std::fs::write(&detections, switched).unwrap();
    let settings = onwatch::config::load(&onwatch::config::Sources { config_dir: Some(config.path().to_path_buf()), policies_dir: None }).unwrap();
    assert!(settings.security.eventbridge_rules);

    // The patterns as generated: each rule's event_pattern, evaluated from the HCL.
    let dir = tempfile::tempdir().unwrap();
    let inventory_path = root.join("examples/inventory.json");
    let result = onwatch(
        &["generate", "--inventory", inventory_path.to_str().unwrap(), "--config", config.path().to_str().unwrap(), "--out", "generated", "--all", "--as-of", "2026-11-25"],
        dir.path(),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let module = crate::common::module::Module::read(&dir.path().join("generated"));
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for control in &settings.security.controls {
        let name = format!("onwatch-security-cis-{}", control.detection);
        let rules: Vec<_> = module.blocks("resource", "aws_cloudwatch_event_rule").filter(|b| module.attribute(b, "name") == name.as_str()).collect();
        let regions = if control.global { 1 } else { 2 };
        assert_eq!(rules.len(), regions, "{name}: one rule per region it applies to");
        let pattern: Value = serde_json::from_str(module.attribute(rules[0], "event_pattern").as_str().unwrap()).unwrap();
        assert_eq!(pattern, control.event_pattern, "{name}: generated as catalogued");
        for (description, event) in &control.triggers {
            cases.push(json!({"pattern": pattern, "event": envelope(event)}));
            expected.push((control.number.clone(), description.clone(), true));
        }
        for (description, event) in &control.ignores {
            cases.push(json!({"pattern": pattern, "event": envelope(event)}));
            expected.push((control.number.clone(), description.clone(), false));
        }
    }
    std::fs::write(dir.path().join("cases.json"), Value::Array(cases).to_string()).unwrap();
    let results = python(&emulator, "audit.py", &["match", dir.path().join("cases.json").to_str().unwrap()]);
    let mismatches: Vec<_> = expected
        .iter()
        .zip(results.as_array().unwrap())
        .filter(|((_, _, want), got)| got.as_bool() != Some(*want))
        .map(|((control, description, want), _)| format!("{control} {description}: expected {want}"))
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(expected.len() > 100, "{} sample events", expected.len());
}
