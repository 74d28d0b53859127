//! The audit trail end to end on the emulator: the table and the Express state machine that
//! `onwatch generate` declares are deployed to moto as declared (the state machine's definition
//! evaluated from the generated HCL), alarm state changes and a security detection are run
//! through it in the shape the generated EventBridge targets deliver, and `onwatch audit list`
//! reads them back through the SDK. moto runs the state machine (its ASL interpreter, JSONata by
//! jsonata-python) against its own DynamoDB, conditional writes included.


use std::{path::Path, process::Command};

use crate::harness::{onwatch, text, tool, Emulator, ACCOUNT, REGION};
use serde_json::{json, Value};

fn python(emulator: &Emulator, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/audit.py");
    let output = Command::new(tool("ONWATCH_PYTHON")).arg(script).args(["--endpoint", &emulator.endpoint, "--region", REGION]).args(args).output().unwrap();
    assert!(output.status.success(), "audit.py {args:?} failed:\n{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
    serde_json::from_slice(&output.stdout).unwrap()
}

const INSTANCE: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60002";
const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:onwatch-warning-ec2-instance-i-0a1b2c3d4e5f60002-cpu-high";

/// A "CloudWatch Alarm State Change" event as EventBridge delivers it.
fn state_change(id: &str, time: &str, previous: &str, state: &str, reason: &str) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [ALARM],
        "detail": {
            "alarmName": "onwatch-warning-ec2-instance-i-0a1b2c3d4e5f60002-cpu-high",
            "state": {"value": state, "reason": reason, "timestamp": time},
            "previousState": {"value": previous, "reason": "earlier", "timestamp": "2026-11-25T08:00:00.000+0000"},
            "configuration": {
                "description": format!("Required by onwatch policy ec2-instance/cpu-high for {INSTANCE}: AWS recommended alarm."),
                "metrics": [{"id": "m", "metricStat": {"metric": {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": {"InstanceId": "i-0a1b2c3d4e5f60002"}}, "period": 300, "stat": "Average"}, "returnData": true}]
            }
        }
    })
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn alerts_raised_and_resolved_are_recorded_once_and_listed() {
    // A server of its own: moto's Step Functions interpreter makes the state machine's DynamoDB
    // calls on its port without an account, so they land in moto's default account.
    let emulator = Emulator::private();
    let dir = tempfile::tempdir().unwrap();
    let generated = crate::common::module::example_module(false);

    // What audit.tf declares, as apply would see it.
    let module = crate::common::module::Module::read(generated.path())
        .known("aws_dynamodb_table.audit.arn", "arn:aws:dynamodb:us-east-1:123456789012:table/onwatch-audit-log")
        .known("aws_kms_key.audit.arn", "arn:aws:kms:us-east-1:123456789012:key/audit");
    let table = module.block("resource", "aws_dynamodb_table", "audit");
    let attribute_type = |name: &Value| {
        table.body().blocks().filter(|b| b.identifier() == "attribute").find(|b| &module.attribute(b, "name") == name).map(|b| module.attribute(b, "type")).unwrap()
    };
    let (hash, range) = (module.attribute(table, "hash_key"), module.attribute(table, "range_key"));
    let machine = module.block("resource", "aws_sfn_state_machine", "audit");
    assert_eq!(module.attribute(machine, "type"), "EXPRESS");
    let plan = json!({
        "table": module.attribute(table, "name"),
        "hash_key": {"name": hash, "type": attribute_type(&hash)},
        "range_key": {"name": range, "type": attribute_type(&range)},
        "role": "onwatch-audit-writer",
        "assume_role_policy": module.policy_document("audit_writer_assume").to_string(),
        "state_machine": module.attribute(machine, "name"),
        "definition": module.attribute(machine, "definition"),
    });
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    let deployed = python(&emulator, &["deploy", dir.path().join("plan.json").to_str().unwrap()]);
    let machine_arn = deployed["state_machine"].as_str().unwrap().to_string();

    // The generated target wraps each event with its input template, as EventBridge will.
    let target = module.block("resource", "aws_cloudwatch_event_target", "audit");
    let transformer = target.body().blocks().find(|b| b.identifier() == "input_transformer").unwrap();
    let template = module.attribute(transformer, "input_template").as_str().unwrap().to_string();
    let deliver = |event: &Value| -> Value { serde_json::from_str(&template.replace("<aws.events.event.json>", &event.to_string())).unwrap() };

    let hostile = "Threshold Crossed: 1 datapoint [97.5 (25/11/26 09:55:00)] was >= 80.0 \"quoted\" ${var.x} %{if}\nnext line";
    let raised = state_change("1d6b1d8a-0001-4000-8000-000000000001", "2026-11-25T10:00:00Z", "OK", "ALARM", hostile);
    let resolved = state_change("1d6b1d8a-0002-4000-8000-000000000002", "2026-11-25T10:20:00Z", "ALARM", "OK", "Threshold Crossed: back below");
    // A redelivery of the first event with other content: must not overwrite the record.
    let mut forged = raised.clone();
    forged["detail"]["state"]["reason"] = json!("rewritten by a replay");
    // A security detection from an EventBridge rule (its target adds the rule's ARN).
    let detection = json!({
        "rule": "arn:aws:events:us-east-1:123456789012:rule/onwatch-security-cis-root-account-usage",
        "event": {
            "version": "0", "id": "1d6b1d8a-0003-4000-8000-000000000003", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
            "account": ACCOUNT, "time": "2026-11-25T11:00:00Z", "region": REGION, "resources": [],
            "detail": {"eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "sourceIPAddress": "203.0.113.7",
                       "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"}}
        }
    });
    let inputs = json!([deliver(&raised), deliver(&resolved), deliver(&forged), detection]);
    std::fs::write(dir.path().join("inputs.json"), inputs.to_string()).unwrap();
    let runs = python(&emulator, &["run", &machine_arn, dir.path().join("inputs.json").to_str().unwrap()]);
    for (index, run) in runs.as_array().unwrap().iter().enumerate() {
        assert_eq!(run["status"], "SUCCEEDED", "execution {index}: {run:#}\n{}", emulator.stderr());
    }
    assert!(runs[2]["output"].as_str().unwrap().contains("ConditionalCheckFailed"), "the replay stopped at the condition: {:#}", runs[2]);

    // The items as stored: literal strings, the event's own id, a TTL 400 days after the event.
    let items = python(&emulator, &["items", "onwatch-audit-log"]);
    assert_eq!(items.as_array().unwrap().len(), 3, "{items:#}");
    let item = |id: &str| items.as_array().unwrap().iter().find(|i| i["event_id"]["S"] == id).unwrap_or_else(|| panic!("no record {id}")).clone();
    let first = item("1d6b1d8a-0001-4000-8000-000000000001");
    assert_eq!(first["alarm_arn"]["S"], ALARM);
    assert_eq!(first["reason"]["S"], hostile, "the first write stays as it was, every character literal");
    assert_eq!(first["resource"]["S"], INSTANCE, "onwatch's alarms name their resource");
    assert_eq!((first["old_state"]["S"].as_str(), first["new_state"]["S"].as_str(), first["kind"]["S"].as_str()), (Some("OK"), Some("ALARM"), Some("alert-raised")));
    let event_time = time::OffsetDateTime::parse("2026-11-25T10:00:00Z", &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp();
    assert_eq!(first["expires_at"]["N"], (event_time + 400 * 86_400).to_string(), "the event time plus 400 days");
    assert_eq!(item("1d6b1d8a-0002-4000-8000-000000000002")["kind"]["S"], "alert-resolved");
    let detected = item("1d6b1d8a-0003-4000-8000-000000000003");
    assert_eq!(detected["kind"]["S"], "security-detection");
    assert_eq!(detected["alarm_arn"]["S"], "arn:aws:events:us-east-1:123456789012:rule/onwatch-security-cis-root-account-usage");
    assert_eq!(detected["resource"]["S"], "arn:aws:iam::123456789012:root");
    assert_eq!(detected["reason"]["S"], "iam.amazonaws.com CreateAccessKey by arn:aws:iam::123456789012:root from 203.0.113.7");

    // onwatch audit list reads them back through the SDK, oldest first.
    let list = |args: &[&str]| -> (i32, String) {
        let mut all = vec!["audit", "list", "--endpoint-url", &emulator.endpoint, "--region", REGION];
        all.extend_from_slice(args);
        let result = onwatch(&all, dir.path());
        (result.status.code().unwrap_or(-1), format!("{}{}", text(&result.stdout), text(&result.stderr)))
    };
    let (code, out) = list(&["--since", "10000d", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let listing: Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = listing["records"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["alert-raised", "alert-resolved", "security-detection"]);
    assert_eq!(listing["records"][0]["reason"], hostile);
    assert_eq!(listing["table"], "onwatch-audit-log");
    let (_, out) = list(&["--since", "10000d", "--resource", INSTANCE, "--format", "json"]);
    let about: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(about["records"].as_array().unwrap().len(), 2, "the instance's raise and resolve");
    let (_, out) = list(&["--since", "10000d", "--resource", ALARM, "--format", "json"]);
    let by_alarm: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(by_alarm["records"].as_array().unwrap().len(), 2, "the alarm's records, by its key");
    let (code, out) = list(&["--since", "10000d"]);
    assert_eq!(code, 0);
    assert!(out.contains("OK -> ALARM") && out.contains("onwatch-warning-ec2-instance-i-0a1b2c3d4e5f60002-cpu-high"), "{out}");
    assert!(out.contains("3 records from onwatch-audit-log"), "{out}");
    // --report: both formats from one read of the table, as --format writes them (`since` is
    // relative to now, so JSON is compared without it).
    let (code, stdout) = list(&["--since", "10000d", "--report", "json=listing.json", "--report", "text=listing.txt"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, out, "--format (text) still goes to standard output");
    assert_eq!(std::fs::read_to_string(dir.path().join("listing.txt")).unwrap(), out);
    let mut reported: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("listing.json")).unwrap()).unwrap();
    let mut printed = listing.clone();
    for json in [&mut reported, &mut printed] {
        json.as_object_mut().unwrap().remove("since").expect("the listing names its since bound");
    }
    assert_eq!(reported, printed);
    let (_, out) = list(&["--since", "1m"]);
    assert!(out.contains("no audit records"), "records from 2026-11-25 are older than a minute: {out}");
    // A table that does not exist is an error naming the call and region, with exit code 2.
    let (code, out) = list(&["--table", "no-such-table"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("dynamodb:Scan in us-east-1"), "{out}");
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn the_audit_rule_matches_changes_into_and_out_of_alarm_only() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let module = crate::common::module::Module::read(crate::common::module::example_module(false).path());
    let rule = module.block("resource", "aws_cloudwatch_event_rule", "audit");
    let pattern: Value = serde_json::from_str(module.attribute(rule, "event_pattern").as_str().unwrap()).unwrap();
    let cases: Vec<(Value, bool)> = vec![
        (state_change("a", "2026-11-25T10:00:00Z", "OK", "ALARM", "up"), true),
        (state_change("b", "2026-11-25T10:00:00Z", "INSUFFICIENT_DATA", "ALARM", "up"), true),
        (state_change("c", "2026-11-25T10:00:00Z", "ALARM", "OK", "down"), true),
        (state_change("f", "2026-11-25T10:00:00Z", "ALARM", "INSUFFICIENT_DATA", "no data while alerting"), true),
        (state_change("d", "2026-11-25T10:00:00Z", "INSUFFICIENT_DATA", "OK", "data arrived"), false),
        (state_change("e", "2026-11-25T10:00:00Z", "OK", "INSUFFICIENT_DATA", "no data"), false),
    ];
    let request: Vec<Value> = cases.iter().map(|(event, _)| json!({"pattern": pattern, "event": event})).collect();
    std::fs::write(dir.path().join("cases.json"), Value::Array(request).to_string()).unwrap();
    let results = python(&emulator, &["match", dir.path().join("cases.json").to_str().unwrap()]);
    let got: Vec<bool> = results.as_array().unwrap().iter().map(|r| r.as_bool().unwrap()).collect();
    assert_eq!(got, cases.iter().map(|(_, want)| *want).collect::<Vec<_>>());
}
