//! Builders for hand-made inventories and the fixture configuration.
#![allow(dead_code)]

pub mod iam;
pub mod module;

use std::{collections::BTreeMap, path::PathBuf};

use onwatch::{
    check::{evaluate, Evaluation},
    config::{self, Settings, Sources},
    model::*,
};

pub const ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";
pub const CRITICAL_TOPIC: &str = "arn:aws:sns:us-east-1:111111111111:alerts-critical";

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture configuration, loaded by a relative path (cargo runs tests from the package
/// root) so that file names in findings and reports do not depend on the checkout's location.
pub fn settings() -> Settings {
    let dir = std::path::Path::new("tests/fixtures");
    config::load(&Sources { config_dir: Some(dir.join("config")), policies_dir: Some(dir.join("policies")) })
        .expect("fixture configuration is valid")
}

pub fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 25)
}

pub fn run(inventory: &Inventory) -> Evaluation {
    evaluate(inventory, &settings(), today())
}

pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn instance(id: &str, tag_pairs: &[(&str, &str)]) -> Resource {
    Resource {
        arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}"),
        resource_type: "ec2:instance".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: tags(tag_pairs),
        attributes: BTreeMap::new(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

pub fn queue(name: &str, tag_pairs: &[(&str, &str)]) -> Resource {
    Resource {
        arn: format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"),
        resource_type: "sqs:queue".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: tags(tag_pairs),
        attributes: BTreeMap::new(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

/// An alarm that satisfies the fixture policy's `cpu-high` rule for `instance_id` at `threshold`.
pub fn cpu_alarm(instance_id: &str, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: format!("{instance_id}-cpu"),
        arn: None,
        region: REGION.into(),
        account: ACCOUNT.into(),
        description: None,
        namespace: Some("AWS/EC2".into()),
        metric_name: Some("CPUUtilization".into()),
        dimensions: tags(&[("InstanceId", instance_id)]).into(),
        statistic: Some(Statistic::Average),
        extended_statistic: None,
        period: Some(300),
        evaluation_periods: 3,
        datapoints_to_alarm: Some(3),
        comparison_operator: ComparisonOperator::GreaterThanThreshold,
        threshold: Some(threshold),
        treat_missing_data: Some(TreatMissingData::Missing),
        actions_enabled: true,
        alarm_actions: vec![CRITICAL_TOPIC.into()],
        ok_actions: vec![CRITICAL_TOPIC.into()],
        insufficient_data_actions: vec![],
        state: Some(AlarmState::Ok),
        state_updated_at: None,
        state_changes: None,
        metrics: vec![],
        threshold_metric_id: None,
    }
}

pub fn mem_alarm(instance_id: &str, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: format!("{instance_id}-mem"),
        namespace: Some("CWAgent".into()),
        metric_name: Some("mem_used_percent".into()),
        ..cpu_alarm(instance_id, threshold)
    }
}

pub fn mem_metric(instance_id: &str) -> Metric {
    Metric {
        namespace: "CWAgent".into(),
        metric_name: "mem_used_percent".into(),
        dimensions: tags(&[("InstanceId", instance_id)]).into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    }
}

pub fn topic(name: &str, confirmed: bool, key: Option<&str>) -> SnsTopic {
    SnsTopic {
        arn: format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}"),
        region: REGION.into(),
        account: ACCOUNT.into(),
        kms_master_key_id: key.map(str::to_string),
        subscriptions: vec![Subscription { protocol: "email".into(), endpoint: "oncall@example.com".into(), confirmed }],
    }
}

pub fn inventory() -> Inventory {
    Inventory {
        version: SNAPSHOT_VERSION,
        sns_topics: vec![topic("alerts-critical", true, Some("arn:aws:kms:us-east-1:111111111111:key/1234"))],
        ..Inventory::default()
    }
}

/// A healthy instance: both required alarms present and correct, and the agent publishing memory.
pub fn covered_instance(inv: &mut Inventory, id: &str) {
    inv.resources.push(instance(id, &[]));
    inv.alarms.push(cpu_alarm(id, 80.0));
    inv.alarms.push(mem_alarm(id, 85.0));
    inv.metrics.push(mem_metric(id));
}

/// A small account that exercises most finding codes, for report snapshots.
pub fn showcase() -> Inventory {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-good");
    inv.resources.push(instance("i-bare", &[("env", "prod"), ("Name", "web | \"edge\" <1>")]));
    covered_instance(&mut inv, "i-drift");
    inv.alarms.last_mut().unwrap().threshold = Some(70.0);
    inv.alarms.iter_mut().find(|a| a.name == "i-drift-cpu").unwrap().actions_enabled = false;
    inv.resources.push(instance("i-exempt", &[]));
    inv.resources.push(queue("orders", &[("env", "prod")]));
    inv.alarms.push(cpu_alarm("i-deleted", 80.0));
    inv.sns_topics.push(topic("legacy", false, None));
    let mut pending = mem_alarm("i-good", 85.0);
    pending.name = "i-good-mem-legacy".into();
    pending.alarm_actions = vec!["arn:aws:sns:us-east-1:111111111111:legacy".into()];
    inv.alarms.push(pending);
    inv
}

/// Runs the onwatch binary in `cwd`: exit code, stdout, stderr.
pub fn onwatch_in(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A scratch copy of the drift fixtures (tests/fixtures/terraform, drift_inventory.json) edited so
/// that `drift --terraform terraform --inventory inventory.json` finds one of each kind of drift:
/// a changed threshold, an alarm missing live, a dashboard body edited in the console, an
/// unmanaged alarm (the one finding without a Terraform line).
pub fn drifted_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["main.tf", "alerts/queues.tf"] {
        let target = dir.path().join("terraform").join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join("terraform").join(file), target).unwrap();
    }
    let edit = |path: PathBuf, from: &str, to: &str| {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{} lacks {from:?}", path.display());
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    let inventory = dir.path().join("inventory.json");
    std::fs::copy(fixtures().join("drift_inventory.json"), &inventory).unwrap();
    edit(inventory.clone(), "\"threshold\": 80", "\"threshold\": 95");
    edit(inventory.clone(), "On call: #ops", "On call: #platform");
    let unmanaged = r#""alarms": [{"name": "team-x-hand-made", "region": "us-east-1", "account": "111111111111", "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold"},"#;
    edit(inventory, "\"alarms\": [", unmanaged);
    edit(dir.path().join("terraform/alerts/queues.tf"), "orders = 300", "orders = 300\n    billing = 600");
    dir
}

/// The accounts of [`three_accounts`]: the showcase's, and two copies of it.
pub const THREE_ACCOUNTS: [&str; 3] = [ACCOUNT, "222222222222", "333333333333"];

/// An organisation of three accounts, each the [`showcase`] in us-east-1 (the copies' ARNs,
/// alarms and topics moved to their own account), the third also with eu-west-1, which failed to
/// scan (`scan --allow-partial`): its coverage is unknown.
pub fn three_accounts() -> Inventory {
    let text = serde_json::to_string(&showcase()).unwrap();
    let mut whole = Inventory { version: SNAPSHOT_VERSION, ..Inventory::default() };
    for account in THREE_ACCOUNTS {
        let copy: Inventory = serde_json::from_str(&text.replace(ACCOUNT, account)).unwrap();
        whole.scopes.push(Scope { account: account.into(), region: REGION.into(), failed: None });
        whole.resources.extend(copy.resources);
        whole.alarms.extend(copy.alarms);
        whole.metrics.extend(copy.metrics);
        whole.sns_topics.extend(copy.sns_topics);
    }
    let failed = "sts:AssumeRole in 333333333333 eu-west-1: AccessDenied: not authorized to perform sts:AssumeRole";
    whole.scopes.push(Scope { account: THREE_ACCOUNTS[2].into(), region: "eu-west-1".into(), failed: Some(failed.into()) });
    whole
}
