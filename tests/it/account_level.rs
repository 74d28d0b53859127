//! Account-level requirements: policies on the `account:region` pseudo-type require their alarms
//! once per scanned (account, region), checked against dimensionless alarms, generated without a
//! dimensions block, and reported like any other requirement.

use std::path::Path;

use crate::common::*;
use onwatch::{
    check::{evaluate, Status},
    config::{self, Sources},
    findings::Code,
    generate::{self, GenerateOptions, Templates},
    model::*,
};

fn builtin_settings() -> config::Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&Sources { config_dir: Some(root.join("config")), policies_dir: Some(root.join("policies")) }).unwrap()
}

/// An alarm on an account-level metric (no dimensions) that satisfies `lambda-account/claimed-concurrency-high`.
fn claimed_concurrency_alarm(region: &str, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: format!("claimed-concurrency-{region}"),
        region: region.into(),
        namespace: Some("AWS/Lambda".into()),
        metric_name: Some("ClaimedAccountConcurrency".into()),
        dimensions: Dimensions::default(),
        statistic: Some(Statistic::Maximum),
        period: Some(60),
        evaluation_periods: 10,
        datapoints_to_alarm: Some(10),
        treat_missing_data: Some(TreatMissingData::NotBreaching),
        ..cpu_alarm("unused", threshold)
    }
}

fn scoped(regions: &[&str]) -> Inventory {
    let mut inv = inventory();
    inv.scopes = regions.iter().map(|region| Scope { account: ACCOUNT.into(), region: region.to_string(), failed: None }).collect();
    inv
}

fn account_requirements(evaluation: &onwatch::check::Evaluation, rule: &str) -> Vec<(String, Status)> {
    evaluation
        .requirements
        .iter()
        .filter(|r| r.resource_type == ACCOUNT_REGION_TYPE && r.alarm_rule == rule)
        .map(|r| (r.region.clone(), r.status))
        .collect()
}

#[test]
fn account_level_alarms_are_required_once_per_scanned_account_and_region() {
    let settings = builtin_settings();
    let mut inv = scoped(&["us-east-1", "eu-west-1"]);
    inv.alarms.push(claimed_concurrency_alarm("us-east-1", 900.0));
    let evaluation = evaluate(&inv, &settings, today());
    let mut found = account_requirements(&evaluation, "claimed-concurrency-high");
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found, vec![("eu-west-1".to_string(), Status::Missing), ("us-east-1".to_string(), Status::Covered)]);
    let missing: Vec<_> = evaluation.findings.iter().filter(|f| f.code == Code::MissingAlarm && f.resource.contains(":eu-west-1:")).collect();
    assert!(missing.iter().any(|f| f.message.contains("claimed-concurrency-high")), "{missing:#?}");
    assert_eq!(evaluation.summary.by_type[ACCOUNT_REGION_TYPE].resources, 2);
    // Three DynamoDB and one Lambda account-level alarm per pair.
    assert_eq!(evaluation.requirements.iter().filter(|r| r.resource_type == ACCOUNT_REGION_TYPE).count(), 2 * 4);
}

#[test]
fn an_account_level_alarm_with_the_wrong_settings_is_misconfigured_and_not_orphaned() {
    let settings = builtin_settings();
    let mut inv = scoped(&["us-east-1"]);
    inv.alarms.push(claimed_concurrency_alarm("us-east-1", 990.0));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(account_requirements(&evaluation, "claimed-concurrency-high"), vec![("us-east-1".to_string(), Status::Misconfigured)]);
    assert!(evaluation.findings.iter().any(|f| f.code == Code::ThresholdMismatch));
    assert!(!evaluation.findings.iter().any(|f| f.code == Code::OrphanedAlarm), "{:#?}", evaluation.findings);
}

#[test]
fn an_alarm_on_a_per_function_metric_does_not_cover_the_account_level_requirement() {
    let settings = builtin_settings();
    let mut inv = scoped(&["us-east-1"]);
    let mut per_function = claimed_concurrency_alarm("us-east-1", 900.0);
    per_function.dimensions = tags(&[("Resource", "checkout:live")]).into();
    inv.alarms.push(per_function);
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(account_requirements(&evaluation, "claimed-concurrency-high"), vec![("us-east-1".to_string(), Status::Missing)]);
}

#[test]
fn without_scopes_the_pairs_come_from_the_resources() {
    let settings = builtin_settings();
    let mut inv = inventory();
    inv.resources.push(queue("orders", &[]));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(account_requirements(&evaluation, "user-errors"), vec![(REGION.to_string(), Status::Missing)]);
    // No policy on the pseudo-type (the fixture pack): no pseudo-resources, no extra counts.
    let fixture = run(&inv);
    assert!(!fixture.summary.by_type.contains_key(ACCOUNT_REGION_TYPE));
}

#[test]
fn account_level_alarms_are_generated_without_dimensions_per_region() {
    let settings = builtin_settings();
    let inv = scoped(&["us-east-1", "eu-west-1"]);
    let evaluation = evaluate(&inv, &settings, today());
    let files = generate::generate(&inv, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    let alarms = &files.iter().find(|f| f.path == "alarms.tf").expect("alarms.tf").contents;
    hcl::from_str::<hcl::Body>(alarms).expect("alarms.tf parses");
    let account_level: Vec<&str> = alarms.split("\nresource ").filter(|block| block.contains("\"ClaimedAccountConcurrency\"")).collect();
    assert_eq!(account_level.len(), 2, "one per region");
    for block in account_level {
        assert!(!block.contains("dimensions"), "account-level alarms carry no dimensions: {block}");
    }
}
