//! Names and input strictness (issue 15, defects 3, 4, 5 and 15): fields that become Terraform
//! identifiers are refused where they are read, at their JSON path, with exit 2 and nothing
//! written; values that look like onwatch's internal block marker stay values.

use std::{fs, path::Path, process::Command};

use onwatch::{
    check::evaluate,
    config::{self, Sources},
    error::{Error, Problem},
    generate::{self, GenerateOptions, GeneratedFile, Templates},
    snapshot,
};
use serde_json::{json, Value};

use crate::common::today;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn example_json() -> Value {
    serde_json::from_str(&fs::read_to_string(root().join("examples/inventory.json")).unwrap()).unwrap()
}

/// The problems of a refused input (panics on success or on another kind of error).
fn problems<T>(result: onwatch::Result<T>) -> Vec<Problem> {
    match result {
        Err(Error::Invalid(problems)) => problems,
        Err(other) => panic!("expected invalid input, got {other}"),
        Ok(_) => panic!("expected invalid input, it was accepted"),
    }
}

/// `onwatch generate` from `inventory` (written to `inventory.json` in a scratch directory, whose
/// `config/` is used when present) exits 2 naming each of `expected`, and writes no module.
fn assert_generate_refuses(dir: &Path, inventory: &Value, expected: &[&str]) {
    fs::write(dir.join("inventory.json"), serde_json::to_string_pretty(inventory).unwrap()).unwrap();
    let (code, _, stderr) = onwatch(&["generate", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--out", "out"], dir);
    assert_eq!(code, 2, "{stderr}");
    for fragment in expected {
        assert!(stderr.contains(fragment), "stderr lacks {fragment:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("out").exists(), "nothing may be written on bad input");
}

#[test]
fn defect_3_inventory_regions_accounts_and_dashboard_names_are_refused_at_their_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "x + file(pathexpand(path.root)).y";
    for region in [hostile, "", "eu west 1"] {
        let mut inventory = example_json();
        inventory["resources"][3]["region"] = json!(region);
        assert_generate_refuses(dir.path(), &inventory, &["inventory.json: at $.resources[3].region", "is not an AWS region name"]);
    }
    // Every field that becomes an identifier or an ARN part, all reported at once.
    let mut inventory = example_json();
    inventory["resources"][0]["account"] = json!("12345678901x");
    inventory["alarms"][2]["region"] = json!(hostile);
    inventory["scopes"][1]["region"] = json!("EU-WEST-1");
    inventory["dashboards"][0]["name"] = json!("shop prod\"}");
    inventory["trails"][1]["log_group_arn"] = json!(format!("arn:aws:logs:{hostile}:123456789012:log-group:aws-cloudtrail-logs:*"));
    inventory["sns_topics"][0]["region"] = json!("");
    inventory["log_metric_filters"][0]["account"] = json!("1");
    let expected = [
        "$.resources[0].account",
        "$.alarms[2].region",
        "$.scopes[1].region",
        "$.dashboards[0].name",
        "$.trails[1].log_group_arn",
        "$.sns_topics[0].region",
        "$.log_metric_filters[0].account",
    ];
    assert_generate_refuses(dir.path(), &inventory, &expected);
    let found = problems(snapshot::parse("inventory.json", inventory.to_string().as_bytes()));
    let mut paths: Vec<&str> = found.iter().map(|p| p.json_path.as_str()).collect();
    paths.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(paths, expected, "{found:?}");
    assert!(found.iter().all(|p| p.file == "inventory.json"));
    // The example itself passes the same rules.
    assert!(snapshot::parse("inventory.json", example_json().to_string().as_bytes()).is_ok());
}

#[test]
fn defect_3_scan_region_and_snapshot_region_share_one_rule() {
    for region in ["eu-west-1", "us-gov-west-1", "x + file(path.root).y", "", "eu-west-+1", "eu-west"] {
        let mut inventory = example_json();
        inventory["resources"][0]["region"] = json!(region);
        let snapshot_accepts = snapshot::parse("inventory.json", inventory.to_string().as_bytes()).is_ok();
        assert_eq!(snapshot_accepts, onwatch::scan::is_region_name(region), "{region:?}");
    }
}

/// A copy of the repository's configuration in `dir/config`, with `edit` applied to `file`.
fn config_with(dir: &Path, file: &str, edit: impl FnOnce(&mut Value)) {
    fs::create_dir_all(dir.join("config")).unwrap();
    for entry in fs::read_dir(root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.join("config").join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.join("config").join(file);
    let mut value: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut value);
    fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

#[test]
fn defect_4_severity_names_follow_a_name_pattern() {
    for name in ["x + file(pathexpand(path.root)).y", "", "crit-high", "9"] {
        let dir = tempfile::tempdir().unwrap();
        config_with(dir.path(), "alert_thresholds.json", |thresholds| {
            thresholds["severities"][name] = json!({"topic": "onwatch-extra"});
        });
        assert_generate_refuses(dir.path(), &example_json(), &["alert_thresholds.json: at $.severities", &format!("{name:?}")]);
        let sources = Sources { config_dir: Some(dir.path().join("config")), policies_dir: Some(root().join("policies")) };
        let found = problems(config::load(&sources));
        assert!(found.iter().all(|p| p.file.ends_with("alert_thresholds.json") && p.json_path == "$.severities"), "{found:?}");
    }
    // A well-formed new severity is accepted and named in the module.
    let dir = tempfile::tempdir().unwrap();
    config_with(dir.path(), "alert_thresholds.json", |thresholds| {
        thresholds["severities"]["high_urgency"] = json!({"topic": "onwatch-extra"});
    });
    let sources = Sources { config_dir: Some(dir.path().join("config")), policies_dir: Some(root().join("policies")) };
    let files = generate_files(&example_json(), &config::load(&sources).unwrap(), true);
    assert!(file(&files, "alerting.tf").contains("resource \"aws_sns_topic\" \"high_urgency_us_east_1\" {"));
}

fn generate_files(inventory: &Value, settings: &config::Settings, all: bool) -> Vec<GeneratedFile> {
    let inventory = snapshot::parse("inventory.json", inventory.to_string().as_bytes()).unwrap();
    let evaluation = evaluate(&inventory, settings, today());
    generate::generate(&inventory, settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all }).unwrap()
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path}")).contents
}

fn builtin_settings() -> config::Settings {
    config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap()
}

/// Every string an HCL body holds as a literal, evaluated (attributes of blocks at any depth).
fn literal_strings(text: &str) -> Vec<String> {
    use hcl::eval::Evaluate;
    fn collect(value: &hcl::Value, out: &mut Vec<String>) {
        match value {
            hcl::Value::String(s) => out.push(s.clone()),
            hcl::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            hcl::Value::Object(map) => map.values().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    fn walk(body: &hcl::Body, out: &mut Vec<String>) {
        for attribute in body.attributes() {
            if let Ok(value) = attribute.expr().evaluate(&hcl::eval::Context::new()) {
                collect(&value, out);
            }
        }
        body.blocks().for_each(|block| walk(block.body(), out));
    }
    let mut out = Vec::new();
    walk(&hcl::parse(text).unwrap(), &mut out);
    out
}

#[test]
fn defect_5_values_holding_the_block_marker_land_as_literals() {
    // The marker of today's code and the one a template places now (which holds NUL).
    let marker = "__onwatch_blocks_alarm_blocks__\u{0}onwatch-blocks:alarm_blocks\u{0}";
    for all in [true, false] {
        let mut inventory = example_json();
        for alarm in inventory["alarms"].as_array_mut().unwrap() {
            let name = format!("{}{marker}", alarm["name"].as_str().unwrap());
            alarm["arn"] = json!(format!("arn:aws:cloudwatch:{}:123456789012:alarm:{name}", alarm["region"].as_str().unwrap()));
            alarm["name"] = json!(name);
        }
        for filter in inventory["log_metric_filters"].as_array_mut().unwrap() {
            filter["name"] = json!(format!("{}{marker}", filter["name"].as_str().unwrap()));
        }
        inventory["resources"][31]["attributes"]["ApiName"] = json!(format!("shop-api{marker}"));
        let files = generate_files(&inventory, &builtin_settings(), all);
        // Every alarm the dashboards show comes back exactly, inside the dashboard body.
        let bodies: Vec<Value> = literal_strings(file(&files, "dashboards.tf")).iter().filter_map(|s| serde_json::from_str(s).ok()).collect();
        let shown: Vec<&str> = bodies
            .iter()
            .flat_map(|body| body["widgets"].as_array().unwrap())
            .filter_map(|widget| widget["properties"]["alarms"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(shown.iter().filter(|arn| arn.ends_with(marker)).count() >= 5, "all={all}: {shown:?}");
        // Filters that cover a control are named in a comment (without --all), escaped.
        if !all {
            assert!(file(&files, "security.tf").contains("covered by metric filter \"CloudTrailChanges__onwatch_blocks_alarm_blocks__\\0onwatch"));
        }
        let alarms = literal_strings(file(&files, "alarms.tf"));
        if all {
            assert!(alarms.iter().any(|s| *s == format!("shop-api{marker}")), "the API stage's dimension");
        }
        for f in &files {
            assert!(!f.contents.contains('\u{0}'), "{} holds a NUL", f.path);
        }
    }
}

#[test]
fn defect_15_duplicate_tag_keys_and_attributes_are_refused_like_duplicate_dimensions() {
    let text = fs::read_to_string(root().join("examples/inventory.json")).unwrap();
    let duplicated = text.replacen("\"tags\": {", "\"tags\": {\"env\": \"first\",", 1);
    assert_ne!(duplicated, text);
    let found = problems(snapshot::parse("inventory.json", duplicated.as_bytes()));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].json_path, "$.resources[0].tags");
    assert!(found[0].message.contains("duplicate tag key \"env\""), "{found:?}");
    let duplicated = text.replacen("\"attributes\": {", "\"attributes\": {\"InstanceId\": \"i-other\",", 1);
    assert_ne!(duplicated, text);
    let found = problems(snapshot::parse("inventory.json", duplicated.as_bytes()));
    assert!(found[0].json_path.ends_with("].attributes") && found[0].message.contains("duplicate attribute"), "{found:?}");
}

#[test]
fn defect_15_baseline_errors_name_the_json_path_of_the_failing_value() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("inventory.json"), r#"{"version": 1}"#).unwrap();
    fs::write(dir.path().join("bad.json"), r#"{"summary": {"coverage_percent": "high", "required": 1, "covered": 1}, "findings": []}"#).unwrap();
    let (code, _, stderr) = onwatch(&["check", "--inventory", "inventory.json", "--baseline", "bad.json"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.json") && stderr.contains("at $.summary.coverage_percent"), "{stderr}");
    assert!(stderr.contains("not an `onwatch check --format json` report"), "{stderr}");
}

#[test]
fn defect_15_a_truncated_inventory_reports_line_and_column_not_an_unknown_path() {
    let dir = tempfile::tempdir().unwrap();
    for (text, position) in [("{", "inventory.json:1:1: at $:"), ("{\"version\": 1, \"resources\": [", "inventory.json:1:29: at $.resources:")] {
        fs::write(dir.path().join("inventory.json"), text).unwrap();
        let (code, _, stderr) = onwatch(&["check", "--inventory", "inventory.json"], dir.path());
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(position), "{text:?}: {stderr}");
        assert!(!stderr.contains('?'), "{text:?}: {stderr}");
    }
}
