//! `onwatch generate`: determinism, canonical layout (HashiCorp's hclfmt), injection safety,
//! the deletion guard, `--check`, template overrides, chat message shapes, and the dogfood module.


use std::{fs, path::Path, process::Command};

use crate::common::*;
use onwatch::{
    check::evaluate,
    config::{self, Sources},
    generate::{self, delivery, GenerateOptions, GeneratedFile, Templates, WriteOptions},
    model::Inventory,
};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn builtin_settings() -> config::Settings {
    config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap()
}

fn example() -> Inventory {
    onwatch::snapshot::read(&root().join("examples/inventory.json")).unwrap()
}

fn generate_for(inventory: &Inventory, settings: &config::Settings, all: bool) -> Vec<GeneratedFile> {
    let evaluation = evaluate(inventory, settings, today());
    generate::generate(inventory, settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all }).unwrap()
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path}")).contents
}

fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn hclfmt() -> String {
    std::env::var("ONWATCH_HCLFMT").expect("ONWATCH_HCLFMT is not set: run the suite with scripts/test.sh, which builds HashiCorp's hclfmt")
}

#[test]
#[ignore = "conformance: needs hclfmt; scripts/test.sh runs it"]
fn generated_files_are_in_canonical_terraform_fmt_layout() {
    let dir = tempfile::tempdir().unwrap();
    for files in [generate_for(&example(), &builtin_settings(), false), generate_for(&example(), &builtin_settings(), true)] {
        for f in files.iter().filter(|f| f.path.ends_with(".tf")) {
            let path = dir.path().join(&f.path);
            fs::write(&path, &f.contents).unwrap();
            let output = Command::new(hclfmt()).args(["-check", "-require-no-change"]).arg(&path).output().unwrap();
            assert!(output.status.success(), "{} is not canonical: {}", f.path, String::from_utf8_lossy(&output.stderr));
        }
    }
}

#[test]
#[ignore = "conformance: needs hclfmt; scripts/test.sh runs it"]
fn hclfmt_check_catches_misaligned_files() {
    // The conformance test above is only worth something if hclfmt rejects bad layout.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tf");
    fs::write(&path, "resource \"a\" \"b\" {\n  x = 1\n  longer = 2\n}\n").unwrap();
    assert!(!Command::new(hclfmt()).args(["-check", "-require-no-change"]).arg(&path).output().unwrap().status.success());
}

#[test]
fn output_is_byte_identical_and_independent_of_inventory_order() {
    let settings = builtin_settings();
    let first = generate_for(&example(), &settings, false);
    assert_eq!(first, generate_for(&example(), &settings, false));
    let mut shuffled = example();
    shuffled.resources.reverse();
    shuffled.alarms.reverse();
    shuffled.metrics.reverse();
    assert_eq!(first, generate_for(&shuffled, &settings, false), "reordering the inventory changed the output");
}

#[test]
fn every_file_carries_the_generated_header_and_no_secret() {
    let files = generate_for(&example(), &builtin_settings(), false);
    for f in files.iter().filter(|f| f.path.ends_with(".tf")) {
        assert!(f.contents.starts_with(generate::HEADER), "{} lacks the header", f.path);
        assert!(!f.contents.contains("hooks.slack.com") && !f.contents.contains("webhook.office.com"), "{} holds a webhook URL", f.path);
    }
    let variables = file(&files, "variables.tf");
    for name in ["slack_webhook_url", "teams_webhook_url"] {
        let block = variables.split(&format!("variable \"{name}\"")).nth(1).unwrap_or_else(|| panic!("no variable {name}"));
        let block = &block[..block.find("\n}").unwrap()];
        assert!(block.contains("sensitive   = true"), "{name} is not sensitive");
        assert!(!block.contains("default"), "{name} must not have a default");
    }
    assert!(file(&files, "alerting.tf").contains("invocation_endpoint              = var.slack_webhook_url"));
}

#[test]
fn only_missing_and_misconfigured_alarms_unless_all() {
    let settings = builtin_settings();
    let evaluation = evaluate(&example(), &settings, today());
    let wrong = evaluation
        .requirements
        .iter()
        .filter(|r| matches!(r.status, onwatch::check::Status::Missing | onwatch::check::Status::Misconfigured))
        .count();
    let applicable = evaluation.requirements.iter().filter(|r| !matches!(r.status, onwatch::check::Status::Exempted | onwatch::check::Status::Unresolved)).count();
    let count = |files: &[GeneratedFile]| file(files, "alarms.tf").matches("resource \"aws_cloudwatch_metric_alarm\"").count();
    assert_eq!(count(&generate_for(&example(), &settings, false)), wrong);
    assert_eq!(count(&generate_for(&example(), &settings, true)), applicable);
}

#[test]
fn alarms_onwatch_created_stay_declared_once_they_cover() {
    let settings = settings();
    let mut inv = inventory();
    inv.resources.push(instance("i-new", &[]));
    inv.metrics.push(mem_metric("i-new"));
    let first = generate_for(&inv, &settings, false);
    let alarms = file(&first, "alarms.tf");
    assert_eq!(alarms.matches("resource \"aws_cloudwatch_metric_alarm\"").count(), 2);
    // "Apply": the alarms now exist under the generated names, so the check finds them covered.
    let name = |rule: &str| format!("onwatch-warning-ec2-i-new-{rule}");
    for (rule, mut alarm) in [("cpu-high", cpu_alarm("i-new", 80.0)), ("mem-high", mem_alarm("i-new", 85.0))] {
        alarm.name = name(rule);
        assert!(alarms.contains(&format!("\"{}\"", alarm.name)), "{} not generated", alarm.name);
        inv.alarms.push(alarm);
    }
    assert_eq!(evaluate(&inv, &settings, today()).summary.covered, 2);
    assert_eq!(generate_for(&inv, &settings, false), first, "covered onwatch alarms must not be dropped");
}

/// Evaluates an expression that must be a literal (no variables, no interpolation).
fn literal(expression: &hcl::Expression) -> hcl::Value {
    use hcl::eval::Evaluate;
    expression.evaluate(&hcl::eval::Context::new()).unwrap_or_else(|e| panic!("not a literal: {e}"))
}

fn alarm_attribute(alarms_tf: &str, name: &str) -> Vec<hcl::Value> {
    let body = hcl::parse(alarms_tf).unwrap();
    body.blocks()
        .filter(|b| b.identifier() == "resource")
        .flat_map(|b| b.body().attributes().filter(|a| a.key() == name).map(|a| literal(a.expr())).collect::<Vec<_>>())
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Any string from the inventory or config lands in the HCL as exactly that literal.
    #[test]
    fn hostile_strings_land_as_literals(value in "(\\$\\{|%\\{|\"|\\\\|\n|\r|\t|\u{1}|\u{7f}|é|中|🔥|[a-z ]|\\}|\\$|%){0,24}") {
        let mut settings = settings();
        settings.policies[0].alarms[0].description = value.clone();
        let mut inv = inventory();
        let mut target_group = instance("x", &[]);
        target_group.resource_type = "elasticloadbalancing:targetgroup".into();
        target_group.arn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123abcd".into();
        target_group.attributes.insert("LoadBalancer".into(), value.clone());
        inv.resources.push(target_group);
        inv.resources.push(instance("i-1", &[]));
        let files = generate_for(&inv, &settings, false);
        let alarms = file(&files, "alarms.tf");
        let dimensions = alarm_attribute(alarms, "dimensions");
        proptest::prop_assert!(dimensions.iter().any(|d| d.as_object().and_then(|o| o.get("LoadBalancer")) == Some(&hcl::Value::String(value.clone()))));
        let descriptions = alarm_attribute(alarms, "alarm_description");
        proptest::prop_assert!(descriptions.iter().any(|d| d.as_str().is_some_and(|s| s.ends_with(&format!(": {value}")))), "{descriptions:?}");
    }
}

/// One string field of an input: where it is read from, the JSON path a refusal must name, how to
/// put a value there, and the generated file it must come back in when accepted (as the whole
/// literal, or inside one).
struct Field {
    file: &'static str,
    json_path: &'static str,
    edit: fn(&mut Value, &str),
    shows_in: Option<(&'static str, bool)>,
}

/// Every string field that becomes a name, and the others that land in the module.
fn fields() -> Vec<Field> {
    let field = |file, json_path, edit, shows_in| Field { file, json_path, edit, shows_in };
    vec![
        field("inventory.json", "$.resources[0].region", |v, s| v["resources"][0]["region"] = s.into(), Some(("providers.tf", true))),
        field("inventory.json", "$.resources[0].account", |v, s| v["resources"][0]["account"] = s.into(), None),
        field("inventory.json", "$.scopes[0].region", |v, s| v["scopes"][0]["region"] = s.into(), None),
        field("inventory.json", "$.alarms[0].region", |v, s| v["alarms"][0]["region"] = s.into(), None),
        field("inventory.json", "$.alarms[0].name", |v, s| v["alarms"][0]["name"] = s.into(), None),
        field("inventory.json", "$.dashboards[0].name", |v, s| v["dashboards"][0]["name"] = s.into(), None),
        field("inventory.json", "$.trails[1].home_region", |v, s| v["trails"][1]["home_region"] = s.into(), None),
        field("inventory.json", "$.log_metric_filters[0].name", |v, s| v["log_metric_filters"][0]["name"] = s.into(), None),
        field("inventory.json", "$.resources[0].tags", |v, s| v["resources"][0]["tags"]["Name"] = s.into(), None),
        field("inventory.json", "$.resources[31].attributes", |v, s| v["resources"][31]["attributes"]["ApiName"] = s.into(), Some(("alarms.tf", true))),
        field("config/alert_thresholds.json", "$.severities", |v, s| v["severities"][s] = serde_json::json!({"topic": "onwatch-extra"}), Some(("alerting.tf", true))),
        field("config/alert_thresholds.json", "$.severities.critical.topic", |v, s| v["severities"]["critical"]["topic"] = s.into(), Some(("alerting.tf", true))),
        field("config/alert_thresholds.json", "$.severities.critical.email[0]", |v, s| v["severities"]["critical"]["email"][0] = s.into(), Some(("alerting.tf", true))),
        field("config/alert_thresholds.json", "$.alarm_name_prefix", |v, s| v["alarm_name_prefix"] = s.into(), Some(("alarms.tf", false))),
        field("policies/ec2-instance.json", "$.id", |v, s| v["id"] = s.into(), Some(("alarms.tf", false))),
        field("policies/ec2-instance.json", "$.alarms[0].id", |v, s| v["alarms"][0]["id"] = s.into(), Some(("alarms.tf", false))),
        field("policies/ec2-instance.json", "$.alarms[0].description", |v, s| v["alarms"][0]["description"] = s.into(), Some(("alarms.tf", false))),
        field("config/security_detections.json", "$.region", |v, s| v["region"] = s.into(), Some(("providers.tf", true))),
        field("config/security_detections.json", "$.log_group", |v, s| v["log_group"] = s.into(), Some(("security.tf", true))),
        field("config/security_detections.json", "$.metric_namespace", |v, s| v["metric_namespace"] = s.into(), Some(("security.tf", true))),
        field("config/audit_log_schema.json", "$.region", |v, s| v["region"] = s.into(), Some(("providers.tf", true))),
        field("config/audit_log_schema.json", "$.table_name", |v, s| v["table_name"] = s.into(), Some(("audit.tf", true))),
        field("config/dashboard_config.json", "$.name_prefix", |v, s| v["name_prefix"] = s.into(), Some(("dashboards.tf", false))),
    ]
}

/// The example account with `value` put into `field`: the problems of the refused input, or the
/// module generated (with `--all`) from the accepted one.
fn load_and_generate(field: &Field, value: &str) -> Result<Vec<GeneratedFile>, Vec<onwatch::error::Problem>> {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["config", "policies"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in fs::read_dir(root().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, dir.path().join(sub).join(path.file_name().unwrap())).unwrap();
        }
    }
    let path = if field.file == "inventory.json" { root().join("examples/inventory.json") } else { dir.path().join(field.file) };
    let mut document: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    (field.edit)(&mut document, value);
    let text = serde_json::to_string_pretty(&document).unwrap();
    let mut inventory_text = fs::read_to_string(root().join("examples/inventory.json")).unwrap();
    if field.file == "inventory.json" {
        inventory_text = text;
    } else {
        fs::write(&path, text).unwrap();
    }
    let refused = |error: onwatch::Error| match error {
        onwatch::Error::Invalid(problems) => problems,
        other => panic!("{}: expected a refusal naming the place, got: {other}", field.json_path),
    };
    let inventory = onwatch::snapshot::parse("inventory.json", inventory_text.as_bytes()).map_err(refused)?;
    let sources = Sources { config_dir: Some(dir.path().join("config")), policies_dir: Some(dir.path().join("policies")) };
    let settings = config::load(&sources).map_err(refused)?;
    let evaluation = evaluate(&inventory, &settings, today());
    let files = generate::generate(&inventory, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all: true });
    Ok(files.unwrap_or_else(|e| panic!("{}: accepted {value:?} at load, then generation failed: {e}", field.json_path)))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

    /// Every string field, hostile: refused where it is read (exit 2, naming file and JSON path),
    /// or written into the module as exactly that literal (every file is parsed back on the way).
    #[test]
    fn hostile_values_are_refused_at_load_or_land_as_literals(
        value in "(\\$\\{|%\\{|\"|\\\\|\n|\u{0}|\u{1}|é|🔥|[a-z]|[0-9]| |-|_|\\.|@|:|/|x \\+ file\\(path\\.root\\)\\.y|__onwatch_blocks_alarm_blocks__|us-east-1){0,12}",
        index in 0..23usize,
    ) {
        let fields = fields();
        let field = &fields[index % fields.len()];
        match load_and_generate(field, &value) {
            Err(problems) => proptest::prop_assert!(
                problems.iter().any(|p| p.file.ends_with(field.file) && p.json_path.starts_with(field.json_path)),
                "{value:?} in {} was refused elsewhere: {problems:?}", field.json_path
            ),
            Ok(files) => {
                if let Some((path, whole)) = field.shows_in {
                    let literal = generate::hcl::string(&value);
                    let expected = if whole { literal.as_str() } else { &literal[1..literal.len() - 1] };
                    proptest::prop_assert!(file(&files, path).contains(expected), "{value:?} in {} is not the literal {expected} in {path}", field.json_path);
                }
            }
        }
    }
}

#[test]
fn alarm_names_are_unique_and_within_limits() {
    let files = generate_for(&example(), &builtin_settings(), true);
    let names = alarm_attribute(file(&files, "alarms.tf"), "alarm_name");
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        let name = name.as_str().unwrap();
        assert!(name.chars().count() <= 255 && !name.is_empty());
        assert!(seen.insert(name.to_string()), "duplicate alarm name {name}");
    }
    for description in alarm_attribute(file(&files, "alarms.tf"), "alarm_description") {
        assert!(description.as_str().unwrap().chars().count() <= 1024);
    }
}

/// Fills an EventBridge input template the way EventBridge does: each `<name>` becomes the JSON
/// value at its path, unescaped. A placeholder inside quotes gets the raw string, which is why
/// our templates keep every placeholder outside quotes.
fn transform(template: &str, event: &Value) -> String {
    let mut out = template.to_string();
    for (name, path) in delivery::INPUT_PATHS {
        let mut value = event;
        for segment in path.trim_start_matches("$.").split('.') {
            value = &value[segment];
        }
        let quoted = format!("\"<{name}>\"");
        if out.contains(&quoted) {
            out = out.replace(&quoted, &format!("\"{}\"", value.as_str().unwrap()));
        }
        out = out.replace(&format!("<{name}>"), &value.to_string());
    }
    out
}

fn sample_event(reason: &str) -> Value {
    serde_json::json!({
        "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:onwatch-critical-rds-db-orders-db-free-storage-low"],
        "detail": {
            "alarmName": "onwatch-critical-rds-db-orders-db-free-storage-low",
            "state": { "value": "ALARM", "reason": reason, "timestamp": "2026-11-25T10:00:00.000+0000" },
            "previousState": { "value": "OK", "reason": "ok", "timestamp": "2026-11-25T09:00:00.000+0000" },
            "configuration": { "metrics": [] }
        }
    })
}

#[test]
fn slack_message_is_valid_json_of_the_shape_slack_accepts() {
    for reason in ["Threshold Crossed: 1 datapoint [9.1E9 (25/11/26 10:00:00)] was less than the threshold (1.0E10).", "quote \" backslash \\ newline \n tab \t"] {
        let message: Value = serde_json::from_str(&transform(delivery::SLACK_TEMPLATE, &sample_event(reason))).expect("valid JSON");
        assert_eq!(message["text"], "onwatch-critical-rds-db-orders-db-free-storage-low");
        let blocks = message["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        for block in blocks {
            assert_eq!(block["type"], "section");
            if let Some(text) = block.get("text") {
                assert!(["plain_text", "mrkdwn"].contains(&text["type"].as_str().unwrap()));
                assert!(text["text"].as_str().unwrap().len() <= 3000);
            }
            if let Some(fields) = block.get("fields") {
                let fields = fields.as_array().unwrap();
                assert!(fields.len() <= 10, "Slack allows 10 fields per section");
                assert!(fields.iter().all(|f| f["text"].is_string()));
            }
        }
        assert_eq!(blocks[1]["text"]["text"], reason);
    }
}

#[test]
fn teams_message_is_valid_json_of_the_shape_teams_accepts() {
    let reason = "quote \" and <angle> & \\ backslash";
    let message: Value = serde_json::from_str(&transform(delivery::TEAMS_TEMPLATE, &sample_event(reason))).expect("valid JSON");
    assert_eq!(message["type"], "message");
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert!(card["version"].is_string());
    let body = card["body"].as_array().unwrap();
    assert_eq!(body[1]["text"], reason);
    let facts = body[2]["facts"].as_array().unwrap();
    assert!(facts.iter().all(|f| f["title"].is_string() && f["value"].is_string()));
    assert_eq!(facts[0]["value"], "ALARM");
}

#[test]
fn placeholders_never_sit_inside_quotes() {
    for template in [delivery::SLACK_TEMPLATE, delivery::TEAMS_TEMPLATE] {
        for (name, _) in delivery::INPUT_PATHS {
            assert!(!template.contains(&format!("\"<{name}>\"")), "<{name}> is quoted; EventBridge would not escape it");
        }
    }
}

fn write(dir: &Path, files: &[GeneratedFile]) -> onwatch::Result<Vec<String>> {
    generate::write_files(dir, files, &WriteOptions::default())
}

#[test]
fn deletion_guard_refuses_to_empty_a_module() {
    let dir = tempfile::tempdir().unwrap();
    let settings = builtin_settings();
    write(dir.path(), &generate_for(&example(), &settings, false)).unwrap();
    let before = fs::read_to_string(dir.path().join("alarms.tf")).unwrap();
    let empty = Inventory { version: 1, ..Inventory::default() };
    let error = write(dir.path(), &generate_for(&empty, &settings, false)).unwrap_err();
    // The security detections and the audit trail's own alarms stay: they do not depend on resources.
    assert!(error.to_string().contains("would delete 160 of the 175 alarms"), "{error}");
    assert!(error.to_string().contains("--allow-deletions"));
    assert_eq!(fs::read_to_string(dir.path().join("alarms.tf")).unwrap(), before, "nothing may be written");
    let allowed = generate::write_files(dir.path(), &generate_for(&empty, &settings, false), &WriteOptions { allow_deletions: true, ..Default::default() });
    assert!(allowed.is_ok());
    assert!(!fs::read_to_string(dir.path().join("alarms.tf")).unwrap().contains("aws_cloudwatch_metric_alarm"));
}

#[test]
fn deletion_guard_allows_small_changes() {
    let dir = tempfile::tempdir().unwrap();
    let settings = builtin_settings();
    let mut inv = example();
    write(dir.path(), &generate_for(&inv, &settings, false)).unwrap();
    // Losing one resource drops a few alarms: under 20%.
    let gone = inv.resources.iter().position(|r| r.arn.ends_with(":db:analytics-db")).unwrap();
    inv.resources.remove(gone);
    assert!(write(dir.path(), &generate_for(&inv, &settings, false)).is_ok());
}

#[test]
fn a_failed_write_leaves_the_old_module_whole() {
    let dir = tempfile::tempdir().unwrap();
    let files = generate_for(&example(), &builtin_settings(), false);
    write(dir.path(), &files).unwrap();
    let before = fs::read_to_string(dir.path().join("alarms.tf")).unwrap();
    // A file where the grafana/ directory must go makes the last file unwritable.
    fs::remove_dir_all(dir.path().join("grafana")).unwrap();
    fs::write(dir.path().join("grafana"), "in the way").unwrap();
    let mut changed = files.clone();
    for f in &mut changed {
        f.contents.push_str("\n# changed\n");
    }
    assert!(write(dir.path(), &changed).is_err());
    assert_eq!(fs::read_to_string(dir.path().join("alarms.tf")).unwrap(), before, "no file may be replaced when another cannot be written");
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn check_mode_reports_stale_files_with_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let inventory = root().join("examples/inventory.json");
    let base = ["generate", "--inventory", inventory.to_str().unwrap(), "--as-of", "2026-11-25", "--out", out.to_str().unwrap()];
    let with = |extra: &[&'static str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let (code, _, _) = onwatch(&refs(&with(&["--check"])), root());
    assert_eq!(code, 1, "missing module is stale");
    assert!(!out.exists(), "--check must not write");
    assert_eq!(onwatch(&base, root()).0, 0);
    assert_eq!(onwatch(&refs(&with(&["--check"])), root()).0, 0);
    let alarms = out.join("alarms.tf");
    fs::write(&alarms, fs::read_to_string(&alarms).unwrap().replacen("threshold           = 80", "threshold           = 81", 1)).unwrap();
    let (code, stdout, _) = onwatch(&refs(&with(&["--check"])), root());
    assert_eq!(code, 1);
    assert!(stdout.contains("--- a/alarms.tf") && stdout.contains("-  threshold           = 81") && stdout.contains("+  threshold           = 80"), "{stdout}");
    // A generated file no template produces any more is stale too; a hand-written one is left alone.
    fs::write(out.join("old.tf"), format!("{}\n", generate::HEADER)).unwrap();
    fs::write(out.join("backend.tf"), "terraform {}\n").unwrap();
    assert_eq!(onwatch(&base, root()).0, 0);
    assert!(!out.join("old.tf").exists() && out.join("backend.tf").exists());
}

#[test]
fn deletion_guard_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let example = root().join("examples/inventory.json");
    assert_eq!(onwatch(&["generate", "--inventory", example.to_str().unwrap(), "--as-of", "2026-11-25", "--out", out.to_str().unwrap()], root()).0, 0);
    let empty = dir.path().join("empty.json");
    fs::write(&empty, r#"{"version": 1}"#).unwrap();
    let (code, _, stderr) = onwatch(&["generate", "--inventory", empty.to_str().unwrap(), "--out", out.to_str().unwrap()], root());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("refusing to write"), "{stderr}");
}

#[test]
fn templates_can_be_overridden_and_extended() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("extra.tf.hbs"), "locals {\n  alarm_count = {{hcl alarm_count}}\n}\n").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let settings = builtin_settings();
    let evaluation = evaluate(&example(), &settings, today());
    let files = generate::generate(&example(), &settings, &evaluation, &templates, &GenerateOptions::default()).unwrap();
    assert!(file(&files, "extra.tf").contains("alarm_count = 160"));

    // A template that renders broken HCL is refused before anything is written.
    fs::write(dir.path().join("versions.tf.hbs"), "terraform {\n").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let error = generate::generate(&example(), &settings, &evaluation, &templates, &GenerateOptions::default()).unwrap_err();
    assert!(error.to_string().contains("versions.tf: generated HCL does not parse"), "{error}");

    // Strict mode: a misspelt field is an error, not an empty string.
    fs::write(dir.path().join("versions.tf.hbs"), "# {{no_such_field}}\n").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    assert!(generate::generate(&example(), &settings, &evaluation, &templates, &GenerateOptions::default()).is_err());
}

#[test]
fn dashboards_split_within_cloudwatch_limits() {
    let settings = builtin_settings();
    let mut inv = inventory();
    for n in 0..3000 {
        inv.resources.push(instance(&format!("i-{n:08x}"), &[]));
    }
    let files = generate_for(&inv, &settings, false);
    let body = hcl::parse(file(&files, "dashboards.tf")).unwrap();
    let dashboards: Vec<_> = body.blocks().collect();
    assert!(dashboards.len() > 2, "expected numbered dashboards, got {}", dashboards.len());
    for block in dashboards {
        let body_text = block.body().attributes().find(|a| a.key() == "dashboard_body").map(|a| literal(a.expr())).unwrap();
        let body_text = body_text.as_str().unwrap();
        assert!(body_text.len() < 1_000_000);
        let parsed: Value = serde_json::from_str(body_text).unwrap();
        let widgets = parsed["widgets"].as_array().unwrap();
        assert!(widgets.len() <= settings.dashboards.max_widgets_per_dashboard as usize);
        for widget in widgets {
            if let Some(alarms) = widget["properties"]["alarms"].as_array() {
                assert!(alarms.len() <= 100);
            }
            if let Some(metrics) = widget["properties"]["metrics"].as_array() {
                assert!(metrics.len() <= settings.dashboards.max_metrics_per_widget as usize);
            }
        }
    }
    let grafana: Value = serde_json::from_str(file(&files, "grafana/onwatch.json")).unwrap();
    assert!(grafana["panels"].as_array().unwrap().len() > 10);
}

#[test]
fn dogfood_module_in_infrastructure_is_up_to_date() {
    let (code, stdout, stderr) = onwatch(
        &["generate", "--inventory", "examples/inventory.json", "--as-of", "2026-11-25", "--out", "infrastructure/generated", "--check"],
        root(),
    );
    assert_eq!(code, 0, "infrastructure/generated is stale; regenerate it with\n  onwatch generate --inventory examples/inventory.json --as-of 2026-11-25\n{stdout}{stderr}");
}

pub(crate) fn snapshot_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().display().to_string(), fs::read(e.path()).unwrap()))
        .collect()
}

#[test]
fn hand_written_files_are_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let blocks: String = (0..50).map(|i| format!("resource \"aws_cloudwatch_metric_alarm\" \"hand_{i}\" {{\n  alarm_name = \"hand-{i}\"\n}}\n\n")).collect();
    fs::write(out.join("alarms.tf"), blocks).unwrap();
    fs::write(out.join("variables.tf"), "variable \"mine\" {}\n").unwrap();
    fs::write(out.join("outputs.tf"), "output \"mine\" {\n  value = 1\n}\n").unwrap();
    let before = snapshot_tree(&out);
    let example = root().join("examples/inventory.json");
    let (code, _, stderr) = onwatch(&["generate", "--inventory", example.to_str().unwrap(), "--as-of", "2026-11-25", "--out", out.to_str().unwrap()], root());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not written by onwatch") && ["alarms.tf", "variables.tf", "outputs.tf"].iter().any(|n| stderr.contains(n)), "{stderr}");
    assert_eq!(snapshot_tree(&out), before, "nothing may be written");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 3, "no file or temporary may be added");
}

#[test]
fn a_directory_in_place_of_a_generated_file_changes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = generate_for(&example(), &builtin_settings(), false);
    write(dir.path(), &files).unwrap();
    // The last .tf file written becomes a directory: on main every file before it was already replaced.
    let last = files.iter().rev().find(|f| f.path.ends_with(".tf")).unwrap();
    let in_the_way = dir.path().join(&last.path);
    fs::remove_file(&in_the_way).unwrap();
    fs::create_dir(&in_the_way).unwrap();
    fs::write(in_the_way.join("keep"), "mine").unwrap();
    let before = snapshot_tree(dir.path());
    let mut changed = files.clone();
    for f in &mut changed {
        f.contents.push_str("\n# changed\n");
    }
    let error = write(dir.path(), &changed).unwrap_err();
    assert!(error.to_string().contains(&last.path), "{error}");
    assert_eq!(snapshot_tree(dir.path()), before, "no file may change when one target cannot be replaced");
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

/// Issue 15, defect 5: a value spelling the internal block marker (an alarm name, a metric
/// filter name, an API stage's `ApiName`) spliced the alarm blocks into the wrong file, or was
/// dropped; markers are now framed by NUL, which no escaped value can carry.
#[test]
fn defect_5_values_spelling_the_block_marker_land_as_literals() {
    let settings = builtin_settings();
    for spelling in ["__onwatch_blocks_alarm_blocks__", "\u{0}onwatch-blocks:alarm_blocks\u{0}"] {
        let mut inventory = example();
        for alarm in &mut inventory.alarms {
            alarm.name = format!("zzprobe{spelling}{}", alarm.name);
        }
        for filter in &mut inventory.log_metric_filters {
            filter.name = format!("zzprobe{spelling}{}", filter.name);
        }
        for resource in &mut inventory.resources {
            if let Some(name) = resource.attributes.get_mut("ApiName") {
                *name = format!("zzprobe{spelling}{name}");
            }
        }
        // The stage's per-method metrics carry its ApiName too.
        for metric in &mut inventory.metrics {
            if let Some(name) = metric.dimensions.get("ApiName").map(str::to_string) {
                metric.dimensions.insert("ApiName", format!("zzprobe{spelling}{name}"));
            }
        }
        let clean = generate_for(&example(), &settings, true);
        let files = generate_for(&inventory, &settings, true);
        let escaped = onwatch::generate::hcl::string(spelling);
        let escaped = &escaped[1..escaped.len() - 1];
        let in_json = onwatch::generate::hcl::string(serde_json::to_string(spelling).unwrap()[1..].trim_end_matches('"'));
        let mut probes = 0;
        for generated in &files {
            let probe_count = generated.contents.matches("zzprobe").count();
            // HCL and JSON both escape NUL as \u0000; a dashboard body is JSON inside an HCL string.
            let literal_count = generated.contents.matches(&format!("zzprobe{escaped}")).count()
                + if escaped == spelling { 0 } else { generated.contents.matches(&format!("zzprobe{}", &in_json[1..in_json.len() - 1])).count() };
            assert_eq!(probe_count, literal_count, "{}: every probe is followed by its literal marker spelling", generated.path);
            assert!(!generated.contents.contains('\u{0}'), "{}: no raw NUL", generated.path);
            probes += probe_count;
            if generated.path.ends_with(".tf") {
                hcl::parse(&generated.contents).unwrap_or_else(|e| panic!("{}: {e}", generated.path));
            }
        }
        assert!(probes > 0, "the probe values reach the generated files");
        let blocks = |files: &[GeneratedFile]| file(files, "alarms.tf").matches("resource \"aws_cloudwatch_metric_alarm\"").count();
        assert_eq!(blocks(&files), blocks(&clean), "the alarm blocks are spliced once, into alarms.tf");
    }
}
