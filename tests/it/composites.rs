//! Composite roll-ups (`config/composites.json`): the configuration and its errors, the check
//! (members routed through the roll-up that notifies, `rollup-incomplete`), and generation (one
//! composite per application, severity and region over member alarms without actions, split
//! past CloudWatch's 10,240-character rule).

use std::{fs, path::Path, process::Command};

use crate::common::*;
use onwatch::{
    check::{evaluate, Evaluation, Status},
    config::{self, Settings, Sources},
    error::Error,
    findings::Code,
    generate::{self, composites::split_rules, GenerateOptions, GeneratedFile, Templates},
    model::{CompositeAlarm, Inventory, MetricAlarm},
};

const ROLLUPS: &str = r#"{ "tag": "app", "severities": ["warning"], "suppressor": { "alarm": "maintenance-window", "wait_period": 120, "extension_period": 300 } }"#;

/// The fixture configuration plus `composites.json` with `text`, in a scratch directory.
fn config_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("config")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    fs::write(dir.path().join("composites.json"), text).unwrap();
    dir
}

fn load(dir: &Path) -> onwatch::Result<Settings> {
    config::load(&Sources { config_dir: Some(dir.to_path_buf()), policies_dir: Some(fixtures().join("policies")) })
}

fn rollup_settings() -> Settings {
    let dir = config_dir(ROLLUPS);
    load(dir.path()).expect("the roll-up configuration is valid")
}

fn generate_with(inventory: &Inventory, settings: &Settings) -> Vec<GeneratedFile> {
    let evaluation = evaluate(inventory, settings, today());
    generate::generate(inventory, settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap()
}

fn alarms_tf(files: &[GeneratedFile]) -> &str {
    &files.iter().find(|f| f.path == "alarms.tf").expect("alarms.tf").contents
}

fn codes(evaluation: &Evaluation) -> Vec<Code> {
    evaluation.findings.iter().map(|f| f.code).collect()
}

/// A covered instance of application `app` whose two alarms have no actions of their own.
fn member_instance(inv: &mut Inventory, id: &str, app: &str) {
    covered_instance(inv, id);
    inv.resources.last_mut().unwrap().tags.insert("app".into(), app.into());
    for alarm in inv.alarms.iter_mut().filter(|a| a.name.starts_with(&format!("{id}-"))) {
        alarm.alarm_actions.clear();
        alarm.ok_actions.clear();
    }
}

fn composite(name: &str, rule: &str, actions: &[&str]) -> CompositeAlarm {
    CompositeAlarm {
        name: name.into(),
        arn: None,
        region: REGION.into(),
        account: ACCOUNT.into(),
        alarm_rule: rule.into(),
        actions_enabled: true,
        alarm_actions: actions.iter().map(|a| a.to_string()).collect(),
        ok_actions: vec![],
        state: None,
    }
}

const PARENT: &str = "onwatch-warning-rollup-shop-app";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_composites_config_is_reported_with_file_and_json_path() {
    let dir = config_dir(r#"{ "tag": " ", "severities": ["warning", "page-me", "warning"], "suppressor": { "alarm": " ", "wait_period": 60, "extension_period": 60 } }"#);
    let Err(Error::Invalid(problems)) = load(dir.path()) else { panic!("a bad composites.json must be refused") };
    let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.json_path.as_str(), p.message.as_str())).collect();
    assert!(problems.iter().all(|p| p.file.ends_with("composites.json")), "{problems:#?}");
    assert!(found.iter().any(|(path, m)| *path == "$.severities[1]" && m.contains("unknown severity \"page-me\"") && m.contains("critical, warning")), "{found:#?}");
    assert!(found.iter().any(|(path, m)| *path == "$.severities[2]" && m.contains("listed twice")), "{found:#?}");
    assert!(found.iter().any(|(path, _)| *path == "$.tag"), "{found:#?}");
    assert!(found.iter().any(|(path, _)| *path == "$.suppressor.alarm"), "{found:#?}");
    // What the schema refuses: a key it does not know, a wait period of 0.
    let dir = config_dir(r#"{ "tag": "app", "severities": ["warning"], "per": "team", "suppressor": { "alarm": "m", "wait_period": 0, "extension_period": 60 } }"#);
    let Err(Error::Invalid(problems)) = load(dir.path()) else { panic!("the schema must refuse it") };
    assert!(problems.iter().all(|p| p.file.ends_with("composites.json")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.json_path.contains("per") || p.message.contains("per")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.json_path.starts_with("$.suppressor") && p.message.contains("\"wait_period\":0")), "{problems:#?}");
}

#[test]
fn a_severity_named_member_is_refused_while_rolling_up() {
    let dir = config_dir(ROLLUPS);
    let thresholds = dir.path().join("alert_thresholds.json");
    let text = fs::read_to_string(&thresholds).unwrap().replace("\"warning\": { \"topic\"", "\"member\": { \"topic\"");
    fs::write(&thresholds, text).unwrap();
    fs::write(dir.path().join("composites.json"), r#"{ "tag": "app", "severities": ["critical"] }"#).unwrap();
    let Err(Error::Invalid(problems)) = load(dir.path()) else { panic!("a severity named member must be refused") };
    assert!(problems.iter().any(|p| p.file.ends_with("composites.json") && p.json_path == "$.severities" && p.message.contains("\"member\"")), "{problems:#?}");
}

#[test]
fn bad_composites_config_exits_2_and_generate_writes_nothing() {
    let dir = config_dir(r#"{ "tag": "app", "severities": ["sev1"] }"#);
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("inventory.json");
    fs::write(&inventory, serde_json::to_string(&inventory_with_shop()).unwrap()).unwrap();
    let out = work.path().join("generated");
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch"))
        .args(["generate", "--inventory"])
        .arg(&inventory)
        .arg("--config")
        .arg(dir.path())
        .arg("--policies")
        .arg(fixtures().join("policies"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("composites.json") && stderr.contains("$.severities[0]") && stderr.contains("sev1"), "{stderr}");
    assert!(!out.exists(), "nothing may be written on a configuration error");
}

// ---------------------------------------------------------------------------------------------
// Check
// ---------------------------------------------------------------------------------------------

fn inventory_with_shop() -> Inventory {
    let mut inv = inventory();
    member_instance(&mut inv, "i-a", "shop");
    member_instance(&mut inv, "i-b", "shop");
    inv
}

fn rollup_over(names: &[&str]) -> CompositeAlarm {
    let rule = names.iter().map(|n| format!("ALARM(\"{n}\")")).collect::<Vec<_>>().join(" OR ");
    composite(PARENT, &rule, &[CRITICAL_TOPIC])
}

#[test]
fn members_notifying_only_through_a_routing_rollup_are_covered() {
    let settings = rollup_settings();
    let mut inv = inventory_with_shop();
    inv.composite_alarms.push(rollup_over(&["i-a-cpu", "i-a-mem", "i-b-cpu", "i-b-mem"]));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(codes(&evaluation), vec![], "{:#?}", evaluation.findings);
    assert!(evaluation.requirements.iter().all(|r| r.status == Status::Covered), "{:#?}", evaluation.requirements);
    // The roll-up's topic has no confirmed subscription: the members reach nobody, and say why.
    inv.sns_topics[0].subscriptions[0].confirmed = false;
    let evaluation = evaluate(&inv, &settings, today());
    let unconfirmed: Vec<_> = evaluation.findings.iter().filter(|f| f.code == Code::AlarmTopicUnconfirmed).collect();
    assert_eq!(unconfirmed.len(), 4, "{:#?}", evaluation.findings);
    assert!(unconfirmed[0].message.contains("notifies only through its composites") && unconfirmed[0].message.contains(PARENT), "{}", unconfirmed[0].message);
    assert!(evaluation.requirements.iter().all(|r| r.status == Status::Misconfigured));
    // Actions disabled on the roll-up.
    inv.sns_topics[0].subscriptions[0].confirmed = true;
    inv.composite_alarms[0].actions_enabled = false;
    assert_eq!(codes(&evaluate(&inv, &settings, today())), vec![Code::AlarmActionsDisabled; 4]);
}

#[test]
fn members_of_a_split_rollup_are_routed_through_its_parts() {
    let settings = rollup_settings();
    let mut inv = inventory_with_shop();
    inv.composite_alarms.push(composite("onwatch-member-warning-rollup-shop-app-1", r#"ALARM("i-a-cpu") OR ALARM("i-a-mem")"#, &[]));
    inv.composite_alarms.push(composite("onwatch-member-warning-rollup-shop-app-2", r#"ALARM("i-b-cpu") OR ALARM("i-b-mem")"#, &[]));
    inv.composite_alarms.push(rollup_over(&["onwatch-member-warning-rollup-shop-app-1", "onwatch-member-warning-rollup-shop-app-2"]));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(codes(&evaluation), vec![], "{:#?}", evaluation.findings);
    assert_eq!(evaluation.summary.covered, 4);
    // A part that the parent does not reference routes nothing.
    inv.composite_alarms[2].alarm_rule = r#"ALARM("onwatch-member-warning-rollup-shop-app-1")"#.into();
    let evaluation = evaluate(&inv, &settings, today());
    let no_actions: Vec<_> = evaluation.findings.iter().filter(|f| f.code == Code::AlarmNoActions).filter_map(|f| f.alarm.as_deref()).collect();
    assert_eq!(no_actions, ["i-b-cpu", "i-b-mem"], "{:#?}", evaluation.findings);
}

#[test]
fn rollup_incomplete_when_the_rollup_is_absent_leaves_members_out_or_names_missing_alarms() {
    let settings = rollup_settings();
    let mut inv = inventory_with_shop();
    // The members have their own actions here, so only the roll-up is wrong.
    for alarm in &mut inv.alarms {
        alarm.alarm_actions = vec![CRITICAL_TOPIC.into()];
    }
    let incomplete = |inv: &Inventory| -> Vec<onwatch::findings::Finding> {
        evaluate(inv, &settings, today()).findings.into_iter().filter(|f| f.code == Code::RollupIncomplete).collect()
    };
    let absent = incomplete(&inv);
    assert_eq!(absent.len(), 1, "{absent:#?}");
    assert_eq!(absent[0].alarm.as_deref(), Some(PARENT));
    assert_eq!(absent[0].resource, format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{PARENT}"));
    assert!(absent[0].message.contains("does not exist") && absent[0].message.contains("4 member alarms") && absent[0].message.contains("\"i-b-mem\""), "{}", absent[0].message);

    inv.composite_alarms.push(rollup_over(&["i-a-cpu", "i-a-mem", "i-b-cpu", "i-gone-cpu"]));
    let partial = incomplete(&inv);
    assert_eq!(partial.len(), 1, "{partial:#?}");
    let message = &partial[0].message;
    assert!(message.contains("leaves out 1 alarms") && message.contains("\"i-b-mem\""), "{message}");
    assert!(message.contains("refers to 1 alarms that do not exist: \"i-gone-cpu\""), "{message}");

    inv.composite_alarms[0] = rollup_over(&["i-a-cpu", "i-a-mem", "i-b-cpu", "i-b-mem"]);
    assert_eq!(incomplete(&inv), vec![]);
    // Another application is another roll-up; an untagged resource belongs to none.
    member_instance(&mut inv, "i-c", "search");
    covered_instance(&mut inv, "i-untagged");
    for alarm in &mut inv.alarms {
        alarm.alarm_actions = vec![CRITICAL_TOPIC.into()];
    }
    let other = incomplete(&inv);
    assert_eq!(other.iter().filter_map(|f| f.alarm.as_deref()).collect::<Vec<_>>(), ["onwatch-warning-rollup-search-app"], "{other:#?}");
    // Without composites.json nothing is a roll-up.
    assert!(!codes(&run(&inv)).contains(&Code::RollupIncomplete));
}

// ---------------------------------------------------------------------------------------------
// Generate
// ---------------------------------------------------------------------------------------------

/// Instances of application `shop` with no alarms yet, and one of no application.
fn bare_shop(count: usize) -> Inventory {
    let mut inv = inventory();
    for n in 0..count {
        let id = format!("i-{n:017}");
        inv.resources.push(instance(&id, &[("app", "shop")]));
        inv.metrics.push(mem_metric(&id));
    }
    inv.resources.push(instance("i-loner", &[]));
    inv.metrics.push(mem_metric("i-loner"));
    inv
}

/// An attribute of a block as the literal it must be (no references, no interpolation).
fn literal(block: &hcl::Block, key: &str) -> Option<hcl::Value> {
    use hcl::eval::Evaluate;
    let attribute = block.body.attributes().find(|a| a.key.as_str() == key)?;
    Some(attribute.expr.evaluate(&hcl::eval::Context::new()).unwrap_or_else(|e| panic!("{key} is not a literal: {e}")))
}

fn resources<'a>(body: &'a hcl::Body, kind: &'a str) -> impl Iterator<Item = &'a hcl::Block> + 'a {
    body.blocks().filter(move |b| b.identifier.as_str() == "resource" && b.labels.first().is_some_and(|l| l.as_str() == kind))
}

/// The composite alarms of a generated alarms.tf: name, rule, whether it has alarm actions, and
/// how many resources it depends on.
fn composites_of(alarms_tf: &str) -> Vec<(String, String, Option<()>, usize)> {
    let body: hcl::Body = hcl::from_str(alarms_tf).unwrap();
    resources(&body, "aws_cloudwatch_composite_alarm")
        .map(|b| {
            let text = |key: &str| literal(b, key).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| panic!("no {key}"));
            let attribute = |key: &str| b.body.attributes().find(|a| a.key.as_str() == key).map(|a| a.expr.clone());
            let depends = match attribute("depends_on") {
                Some(hcl::Expression::Array(items)) => items.len(),
                _ => 0,
            };
            (text("alarm_name"), text("alarm_rule"), attribute("alarm_actions").map(|_| ()), depends)
        })
        .collect()
}

/// The metric alarms of a generated alarms.tf, applied: each becomes an inventory alarm of its
/// name on its instance (with the fixture's settings), with or without actions as generated.
fn applied(inv: &mut Inventory, alarms_tf: &str) {
    let body: hcl::Body = hcl::from_str(alarms_tf).unwrap();
    for block in resources(&body, "aws_cloudwatch_metric_alarm") {
        let name = literal(block, "alarm_name").and_then(|v| v.as_str().map(str::to_string)).unwrap();
        let dimensions = literal(block, "dimensions").expect("an instance alarm has dimensions");
        let instance = dimensions.as_object().and_then(|d| d.get("InstanceId")).and_then(|v| v.as_str()).expect("an instance alarm").to_string();
        let mut alarm: MetricAlarm = if name.ends_with("-mem-high") { mem_alarm(&instance, 85.0) } else { cpu_alarm(&instance, 80.0) };
        alarm.name = name;
        if !block.body.attributes().any(|a| a.key.as_str() == "alarm_actions") {
            alarm.alarm_actions.clear();
            alarm.ok_actions.clear();
        }
        inv.alarms.push(alarm);
    }
    for (name, rule, actions, _) in composites_of(alarms_tf) {
        inv.composite_alarms.push(composite(&name, &rule, if actions.is_some() { &[CRITICAL_TOPIC] } else { &[] }));
    }
}

#[test]
fn generated_rollup_module_snapshot() {
    let files = generate_with(&bare_shop(2), &rollup_settings());
    let alarms = alarms_tf(&files);
    insta::assert_snapshot!("rollup_alarms_tf", alarms);
    let composites = composites_of(alarms);
    assert_eq!(composites.len(), 1, "{composites:#?}");
    let (name, rule, actions, depends) = &composites[0];
    assert_eq!(*depends, 4, "the roll-up waits for the members it names");
    assert_eq!(name, PARENT);
    assert!(actions.is_some(), "the roll-up carries the notification");
    assert_eq!(rule.matches("ALARM(\"onwatch-member-warning-ec2-").count(), 4, "{rule}");
    assert!(!rule.contains("i-loner"), "an untagged instance is no member: {rule}");
    // Members have no actions; the untagged instance's alarms keep theirs.
    let blocks: Vec<&str> = alarms.split("\nresource ").collect();
    for block in blocks.iter().filter(|b| b.starts_with("\"aws_cloudwatch_metric_alarm\"")) {
        let member = block.contains("\"onwatch-member-warning-");
        assert_eq!(block.contains("alarm_actions"), !member, "{block}");
        assert!(block.contains("actions_enabled     = true") || block.contains("actions_enabled = true"), "{block}");
    }
    assert!(alarms.contains("actions_suppressor {") && alarms.contains("\"maintenance-window\""), "{alarms}");
    // The same inputs in any order: the same bytes.
    let mut shuffled = bare_shop(2);
    shuffled.resources.reverse();
    assert_eq!(generate_with(&shuffled, &rollup_settings()), files);
}

#[test]
fn without_composites_json_nothing_is_rolled_up() {
    let inv = bare_shop(2);
    let alarms = generate_with(&inv, &crate::common::settings()).into_iter().find(|f| f.path == "alarms.tf").unwrap().contents;
    assert!(!alarms.contains("aws_cloudwatch_composite_alarm") && !alarms.contains("-member-"), "{alarms}");
    assert_eq!(alarms.matches("alarm_actions").count(), 6);
}

#[test]
fn the_generated_rollup_once_applied_routes_every_member() {
    let settings = rollup_settings();
    let mut inv = bare_shop(3);
    let before = evaluate(&inv, &settings, today());
    assert_eq!(before.summary.covered, 0);
    let files = generate_with(&inv, &settings);
    applied(&mut inv, alarms_tf(&files));
    let after = evaluate(&inv, &settings, today());
    assert_eq!(codes(&after), vec![], "{:#?}", after.findings);
    assert_eq!(after.summary.covered, 8);
    // Dropping one member from the applied roll-up is caught.
    let parent = inv.composite_alarms.iter_mut().find(|c| c.name == PARENT).unwrap();
    parent.alarm_rule = parent.alarm_rule.split(" OR ").skip(1).collect::<Vec<_>>().join(" OR ");
    let codes_now = codes(&evaluate(&inv, &settings, today()));
    assert!(codes_now.contains(&Code::RollupIncomplete) && codes_now.contains(&Code::AlarmNoActions), "{codes_now:?}");
}

#[test]
fn a_rollup_past_10240_characters_is_split_into_parts_under_one_parent() {
    let settings = rollup_settings();
    let mut inv = bare_shop(150);
    let files = generate_with(&inv, &settings);
    let alarms = alarms_tf(&files);
    let composites = composites_of(alarms);
    let (parents, parts): (Vec<_>, Vec<_>) = composites.iter().partition(|(name, ..)| name == PARENT);
    assert_eq!(parents.len(), 1);
    assert!(parts.len() >= 2, "300 members of ~70 characters each need several parts: {}", parts.len());
    for (name, rule, actions, depends) in &composites {
        let wanted = if name == PARENT { parts.len() } else { rule.matches("ALARM(").count() };
        assert_eq!(*depends, wanted, "{name} waits for exactly what its rule names");
        assert!(rule.len() <= 10_240, "{name}: {} characters", rule.len());
        assert_eq!(actions.is_some(), name == PARENT, "only the parent notifies: {name}");
    }
    for (n, (name, ..)) in parts.iter().enumerate() {
        assert!(name.starts_with("onwatch-member-warning-rollup-shop-app-"), "{name}");
        assert!(parents[0].1.contains(&format!("ALARM(\"{name}\")")), "part {n} is not in the parent's rule");
    }
    let mut members: Vec<&str> = parts.iter().flat_map(|(_, rule, ..)| rule.split(" OR ")).collect();
    let count = members.len();
    members.sort_unstable();
    members.dedup();
    assert_eq!((count, members.len()), (300, 300), "every member in exactly one part");
    applied(&mut inv, alarms);
    let after = evaluate(&inv, &settings, today());
    assert_eq!(codes(&after), vec![], "{:#?}", after.findings.iter().take(3).collect::<Vec<_>>());
    assert_eq!(after.summary.covered, 302);
}

#[test]
fn rules_split_greedily_at_the_limit_and_refuse_a_name_alone_too_long() {
    let names: Vec<String> = ["a", "bb", "c"].iter().map(|s| s.to_string()).collect();
    // `ALARM("a") OR ALARM("bb")` is 25 characters.
    let rules = split_rules(&names, 25).unwrap();
    assert_eq!(rules.iter().map(|(r, range)| (r.as_str(), range.clone())).collect::<Vec<_>>(), [("ALARM(\"a\") OR ALARM(\"bb\")", 0..2), ("ALARM(\"c\")", 2..3)]);
    let rules = split_rules(&names, 24).unwrap();
    assert_eq!(rules.len(), 3);
    assert!(split_rules(&["x".repeat(20)], 24).is_err());
    // Quotes and backslashes in a name are escaped inside the rule's string.
    assert_eq!(split_rules(&["a\"b\\c".to_string()], 100).unwrap()[0].0, r#"ALARM("a\"b\\c")"#);
}

#[test]
fn hostile_application_values_land_as_literals() {
    let mut inv = bare_shop(0);
    inv.resources.push(instance("i-x", &[("app", "x\") OR ALARM(\"y ${file(\"/etc/passwd\")} %{ if true }")]));
    inv.metrics.push(mem_metric("i-x"));
    let alarms = generate_with(&inv, &rollup_settings()).into_iter().find(|f| f.path == "alarms.tf").unwrap().contents;
    let composites = composites_of(&alarms);
    assert_eq!(composites.len(), 1);
    assert!(composites[0].0.contains("${file("), "the value stays a literal in the name: {}", composites[0].0);
    assert_eq!(composites[0].1.matches("ALARM(").count(), 2, "{}", composites[0].1);
}

#[test]
#[ignore = "conformance: needs hclfmt and Checkov; scripts/test.sh runs it"]
fn the_rollup_module_is_canonical_and_passes_checkov() {
    let hclfmt = std::env::var("ONWATCH_HCLFMT").expect("ONWATCH_HCLFMT is not set: run the suite with scripts/test.sh, which builds HashiCorp's hclfmt");
    let dir = tempfile::tempdir().unwrap();
    for f in generate_with(&bare_shop(150), &rollup_settings()).iter().filter(|f| f.path.ends_with(".tf")) {
        let path = dir.path().join(&f.path);
        fs::write(&path, &f.contents).unwrap();
        let output = Command::new(&hclfmt).args(["-check", "-require-no-change"]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{} is not canonical: {}", f.path, String::from_utf8_lossy(&output.stderr));
    }
    let report = crate::iac_scan::scan(dir.path());
    let failed = crate::iac_scan::checks(&report, "failed_checks");
    assert_eq!(failed, vec![], "{:#}", report["results"]["failed_checks"]);
    // Checkov has no check of composite alarms; its actions-enabled check (CKV_AWS_319) passes on
    // every metric alarm, the members without actions included (their actions stay enabled).
    let passed = crate::iac_scan::checks(&report, "passed_checks");
    let alarms_tf = fs::read_to_string(dir.path().join("alarms.tf")).unwrap();
    let members = alarms_tf.matches("alarm_name          = \"onwatch-member-warning-ec2-").count();
    assert_eq!(members, 300);
    let checked = passed.iter().filter(|(c, r)| c == "CKV_AWS_319" && r.starts_with("aws_cloudwatch_metric_alarm.ec2_")).count();
    assert_eq!(checked, alarms_tf.matches("resource \"aws_cloudwatch_metric_alarm\"").count());
}

#[test]
fn check_terraform_counts_a_generated_rollup_before_it_is_applied() {
    let config = config_dir(ROLLUPS);
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("inventory.json"), serde_json::to_string(&bare_shop(2)).unwrap()).unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_onwatch"))
            .args(args)
            .args(["--inventory", "inventory.json", "--config"])
            .arg(config.path())
            .arg("--policies")
            .arg(fixtures().join("policies"))
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(matches!(output.status.code(), Some(0 | 1)), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&["generate", "--out", "generated"]);
    // Findings on the members or the roll-up (the module's audit alarm is an orphan here either way).
    let codes_of = |report: &str| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_str(report).unwrap();
        let ours = |f: &serde_json::Value| f["alarm"].as_str().is_some_and(|a| a.starts_with("onwatch-member-") || a == PARENT);
        report["findings"].as_array().unwrap().iter().filter(|f| ours(f)).map(|f| f["code"].as_str().unwrap().to_string()).collect()
    };
    let declared = codes_of(&run(&["check", "--terraform", "generated", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"]));
    // The fixture's warning topic has no subscription: the members say so through their roll-up.
    assert_eq!(declared, vec!["alarm-topic-unconfirmed"; 4], "the declared roll-up is what the declared members notify through");
    let thresholds = config.path().join("alert_thresholds.json");
    let subscribed = fs::read_to_string(&thresholds).unwrap().replace("\"topic\": \"alerts-warning\"", "\"topic\": \"alerts-warning\", \"email\": [\"shop@example.com\"]");
    fs::write(&thresholds, subscribed).unwrap();
    run(&["generate", "--out", "generated"]);
    let declared = codes_of(&run(&["check", "--terraform", "generated", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"]));
    assert_eq!(declared, Vec::<String>::new(), "the declared roll-up routes its declared members");
    // The same module without its roll-up: the members notify nobody, and the roll-up is missing.
    let alarms = work.path().join("generated/alarms.tf");
    let text = fs::read_to_string(&alarms).unwrap();
    let cut = text.find("resource \"aws_cloudwatch_composite_alarm\"").expect("a roll-up");
    fs::write(&alarms, &text[..cut]).unwrap();
    let without = codes_of(&run(&["check", "--terraform", "generated", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"]));
    assert_eq!(without.iter().filter(|c| *c == "alarm-no-actions").count(), 4, "{without:?}");
    assert_eq!(without.iter().filter(|c| *c == "rollup-incomplete").count(), 1, "{without:?}");
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn on_the_emulator_a_generated_rollup_once_applied_routes_its_members() {
    use crate::harness::{onwatch as run, text, tool, Emulator};
    let emulator = Emulator::start();
    emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::create_dir(dir.path().join("config")).unwrap();
    for entry in fs::read_dir(root.join("config")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join("config").join(entry.file_name())).unwrap();
    }
    fs::write(dir.path().join("config/composites.json"), r#"{ "tag": "team", "severities": ["critical", "warning"] }"#).unwrap();
    let ok = |args: &[&str]| {
        let result = run(args, dir.path());
        assert_eq!(result.status.code(), Some(0), "{args:?}:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
        text(&result.stdout)
    };
    ok(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "before.json"]);
    ok(&["generate", "--inventory", "before.json", "--config", "config", "--out", "generated", "--as-of", "2026-11-25"]);
    // "Apply" what the module declares, as onwatch's Terraform reader resolves it.
    let inventory = onwatch::snapshot::read(&dir.path().join("before.json")).unwrap();
    let declared = onwatch::terraform::read_dir(&dir.path().join("generated")).unwrap();
    let plan = onwatch::check::drift::declared_as_live(&declared, &inventory);
    let rollups: Vec<&str> = plan.composite_alarms.iter().map(|c| c.name.as_str()).filter(|n| !n.contains("-member-")).collect();
    assert!(rollups.contains(&"onwatch-critical-rollup-shop-team") || rollups.contains(&"onwatch-warning-rollup-shop-team"), "{rollups:?}");
    let plan_json = serde_json::json!({"alarms": plan.alarms, "composite_alarms": plan.composite_alarms, "dashboards": [], "topics": plan.topics});
    fs::write(dir.path().join("plan.json"), plan_json.to_string()).unwrap();
    let apply = Command::new(tool("ONWATCH_PYTHON"))
        .arg(root.join("tests/emulator/apply.py"))
        .args(["--endpoint", &emulator.endpoint, "--region", REGION, "apply"])
        .arg(dir.path().join("plan.json"))
        .output()
        .unwrap();
    assert!(apply.status.success(), "apply.py failed:\n{}\nemulator:\n{}", text(&apply.stderr), emulator.stderr());

    ok(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "after.json"]);
    let after = onwatch::snapshot::read(&dir.path().join("after.json")).unwrap();
    for name in &rollups {
        let live = after.composite_alarms.iter().find(|c| c.name == *name).unwrap_or_else(|| panic!("{name} was not scanned"));
        assert!(!live.alarm_actions.is_empty() && live.alarm_rule.contains("ALARM(\""), "{live:#?}");
    }
    let members = after.alarms.iter().filter(|a| a.name.starts_with("onwatch-member-")).count();
    assert!(members > 0 && after.alarms.iter().filter(|a| a.name.starts_with("onwatch-member-")).all(|a| a.alarm_actions.is_empty()));
    let report: serde_json::Value =
        serde_json::from_str(&ok(&["check", "--inventory", "after.json", "--config", "config", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"])).unwrap();
    let about_rollups: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "rollup-incomplete" || f["alarm"].as_str().is_some_and(|a| a.starts_with("onwatch-member-")))
        .collect();
    assert_eq!(about_rollups, Vec::<&serde_json::Value>::new(), "{members} members, all routed through their roll-ups");
}
