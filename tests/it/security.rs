//! Security coverage: every control's pattern against its sample CloudTrail events (CloudWatch
//! Logs' filter-pattern semantics), and the check's findings for hand-made accounts: each gap a
//! finding of its own code, naming the control.


use std::path::Path;

use onwatch::{
    check::evaluate,
    config::{self, Settings, Sources},
    findings::Code,
    model::*,
    check::security::ControlStatus,
    model::filter_pattern::FilterPattern,
};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const LOG_GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:security";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built-in configuration, with the benchmark chosen.
fn settings(benchmark: &str) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let file = dir.path().join("security_detections.json");
    let text = std::fs::read_to_string(&file).unwrap().replace("\"cis-5.0.0\"", &format!("{benchmark:?}"));
    std::fs::write(&file, text).unwrap();
    config::load(&Sources { config_dir: Some(dir.path().to_path_buf()), policies_dir: Some(root().join("policies")) }).unwrap()
}

fn trail(multi_region: bool, logging: bool, log_group: Option<&str>) -> Trail {
    Trail {
        name: "main".into(),
        arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"),
        account: ACCOUNT.into(),
        home_region: REGION.into(),
        multi_region,
        organization: false,
        log_group_arn: log_group.map(|name| format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*")),
        logging,
    }
}

fn filter(name: &str, pattern: &str, metric: &str) -> LogMetricFilter {
    LogMetricFilter {
        name: name.into(),
        log_group: "aws-cloudtrail-logs".into(),
        pattern: pattern.into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        metrics: vec![MetricTransformation { namespace: "CIS".into(), name: metric.into() }],
    }
}

fn alarm(name: &str, metric: &str, threshold: f64, actions: &[&str]) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        arn: None,
        region: REGION.into(),
        account: ACCOUNT.into(),
        description: None,
        namespace: Some("CIS".into()),
        metric_name: Some(metric.into()),
        dimensions: Dimensions::default(),
        statistic: Some(Statistic::Sum),
        extended_statistic: None,
        period: Some(300),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        comparison_operator: ComparisonOperator::GreaterThanOrEqualToThreshold,
        threshold: Some(threshold),
        treat_missing_data: None,
        actions_enabled: true,
        alarm_actions: actions.iter().map(|a| a.to_string()).collect(),
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        state: None,
        state_updated_at: None,
        state_changes: None,
        metrics: vec![],
        threshold_metric_id: None,
    }
}

/// An account whose trail is right and whose security topic reaches somebody, with the benchmark's
/// own filters and alarms for every control but those in `leave_out`.
fn account(settings: &Settings, leave_out: &[&str]) -> Inventory {
    let mut inventory = Inventory {
        version: SNAPSHOT_VERSION,
        scopes: vec![Scope { account: ACCOUNT.into(), region: REGION.into(), failed: None }],
        trails: vec![trail(true, true, Some("aws-cloudtrail-logs"))],
        sns_topics: vec![SnsTopic {
            arn: TOPIC.into(),
            region: REGION.into(),
            account: ACCOUNT.into(),
            kms_master_key_id: Some("alias/security".into()),
            subscriptions: vec![Subscription { protocol: "email".into(), endpoint: "sec@example.com".into(), confirmed: true }],
        }],
        ..Inventory::default()
    };
    for control in settings.security.controls.iter().filter(|c| !leave_out.contains(&c.detection.as_str())) {
        inventory.log_metric_filters.push(filter(&control.detection, &control.filter_pattern, &control.metric));
        inventory.alarms.push(alarm(&format!("{}-alarm", control.detection), &control.metric, 1.0, &[TOPIC]));
    }
    inventory
}

/// (code, control requirement) of every security finding.
fn security_findings(inventory: &Inventory, settings: &Settings) -> Vec<(Code, String)> {
    let evaluation = evaluate(inventory, settings, crate::common::today());
    evaluation
        .findings
        .iter()
        .filter(|f| f.code.as_str().starts_with("security-") || (f.code == Code::ExemptionExpired && f.resource == LOG_GROUP))
        .map(|f| (f.code, f.requirement.clone().unwrap_or_default()))
        .collect()
}

fn statuses(inventory: &Inventory, settings: &Settings) -> Vec<(String, ControlStatus)> {
    let summary = evaluate(inventory, settings, crate::common::today()).summary.security.unwrap();
    summary.controls.iter().map(|c| (c.detection.clone(), c.status)).collect()
}

#[test]
fn every_control_pattern_matches_the_events_it_must_and_no_others() {
    for benchmark in ["cis-1.2.0", "cis-1.4.0", "cis-3.0.0", "cis-5.0.0"] {
        let settings = settings(benchmark);
        let expected = if benchmark == "cis-1.2.0" { 14 } else { 15 };
        assert_eq!(settings.security.controls.len(), expected, "{benchmark}");
        for control in &settings.security.controls {
            assert!(!control.triggers.is_empty());
            // Parsed again from the text that is generated, not the catalogue's parse.
            let pattern = FilterPattern::parse(&control.filter_pattern).unwrap();
            for (description, event) in &control.triggers {
                assert!(pattern.matches(event), "{benchmark} {}: misses {description}", control.number);
                // CloudWatch Logs sees the event as text: the same answer from the raw JSON.
                assert!(pattern.matches_text(&event.to_string()), "{benchmark} {}: misses {description} as text", control.number);
            }
            let prescribed_broader = benchmark == "cis-1.2.0" && control.detection == "unauthorized-api-calls";
            for (description, event) in &control.ignores {
                if !prescribed_broader {
                    assert!(!pattern.matches(event), "{benchmark} {}: alerts on {description}", control.number);
                }
            }
            assert!(control.filter_pattern.len() <= 1024, "CloudWatch Logs' limit on a filter pattern");
        }
    }
}

#[test]
fn control_numbers_follow_each_benchmark() {
    let numbers = |benchmark: &str| settings(benchmark).security.controls.iter().map(|c| format!("{} {}", c.number, c.detection)).collect::<Vec<_>>();
    let old = numbers("cis-1.2.0");
    assert_eq!(old[0], "3.1 unauthorized-api-calls");
    assert_eq!(old[13], "3.14 vpc-changes");
    let new = numbers("cis-5.0.0");
    assert_eq!(new[2], "4.3 root-account-usage");
    assert_eq!(new[14], "4.15 organizations-changes");
}

#[test]
fn a_fully_covered_account_has_no_security_findings() {
    for benchmark in ["cis-1.2.0", "cis-5.0.0"] {
        let settings = settings(benchmark);
        let inventory = account(&settings, &[]);
        assert_eq!(security_findings(&inventory, &settings), vec![], "{benchmark}");
        let summary = evaluate(&inventory, &settings, crate::common::today()).summary.security.unwrap();
        assert_eq!((summary.required, summary.covered, summary.coverage_percent), (settings.security.controls.len(), settings.security.controls.len(), 100.0));
        assert_eq!(summary.log_groups, [LOG_GROUP]);
    }
}

#[test]
fn the_trail_must_be_multi_region_logging_and_deliver_to_the_log_group() {
    let settings = settings("cis-5.0.0");
    for (trails, why) in [
        (vec![], "no CloudTrail trail"),
        (vec![trail(false, true, Some("aws-cloudtrail-logs"))], "records one region only"),
        (vec![trail(true, false, Some("aws-cloudtrail-logs"))], "is not logging"),
        (vec![trail(true, true, None)], "delivers to no CloudWatch Logs log group"),
        (vec![trail(true, true, Some("other-group"))], "delivers to arn:aws:logs:us-east-1:123456789012:log-group:other-group:*"),
    ] {
        let mut inventory = account(&settings, &[]);
        inventory.trails = trails;
        let evaluation = evaluate(&inventory, &settings, crate::common::today());
        let finding = evaluation.findings.iter().find(|f| f.code == Code::SecurityTrailMissing).unwrap_or_else(|| panic!("{why}: no finding"));
        assert!(finding.message.contains(why), "{why}: {}", finding.message);
        assert_eq!(finding.resource, LOG_GROUP);
        // The detections exist, but see nothing: no control counts as covered.
        let summary = evaluation.summary.security.unwrap();
        assert_eq!(summary.covered, 0, "{why}");
        assert!(summary.controls.iter().all(|c| c.status == ControlStatus::NoTrail), "{why}");
    }
}

#[test]
fn each_gap_is_its_own_finding_naming_its_control() {
    let settings = settings("cis-5.0.0");
    let mut inventory = account(&settings, &["root-account-usage"]);
    // IAM changes: the alarm notifies a topic nobody confirmed.
    inventory.sns_topics.push(SnsTopic {
        arn: "arn:aws:sns:us-east-1:123456789012:nobody".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        kms_master_key_id: None,
        subscriptions: vec![Subscription { protocol: "email".into(), endpoint: "x@example.com".into(), confirmed: false }],
    });
    inventory.alarms.iter_mut().find(|a| a.name == "iam-policy-changes-alarm").unwrap().alarm_actions = vec!["arn:aws:sns:us-east-1:123456789012:nobody".into()];
    // CloudTrail changes: no alarm at all; KMS: an alarm that needs five events.
    inventory.alarms.retain(|a| a.name != "cloudtrail-changes-alarm");
    inventory.alarms.iter_mut().find(|a| a.name == "cmk-disable-or-deletion-alarm").unwrap().threshold = Some(5.0);
    // VPC changes: the alarm's actions are off.
    inventory.alarms.iter_mut().find(|a| a.name == "vpc-changes-alarm").unwrap().actions_enabled = false;

    let found = security_findings(&inventory, &settings);
    assert_eq!(
        found,
        [
            (Code::SecurityFilterMissing, "cis-5.0.0/4.3".to_string()),
            (Code::SecurityAlarmMissing, "cis-5.0.0/4.5".to_string()),
            (Code::SecurityAlarmMissing, "cis-5.0.0/4.7".to_string()),
            (Code::SecurityAlarmUnrouted, "cis-5.0.0/4.4".to_string()),
            (Code::SecurityAlarmUnrouted, "cis-5.0.0/4.14".to_string()),
        ]
    );
    let evaluation = evaluate(&inventory, &settings, crate::common::today());
    let message = |code: Code, control: &str| {
        evaluation.findings.iter().find(|f| f.code == code && f.requirement.as_deref() == Some(control)).unwrap().message.clone()
    };
    assert!(message(Code::SecurityFilterMissing, "cis-5.0.0/4.3").contains("Usage of the root user"));
    assert!(message(Code::SecurityFilterMissing, "cis-5.0.0/4.3").contains("Security Hub CloudWatch.1"));
    assert!(message(Code::SecurityAlarmMissing, "cis-5.0.0/4.7").contains("GreaterThanOrEqualToThreshold 5"));
    assert!(message(Code::SecurityAlarmUnrouted, "cis-5.0.0/4.4").contains("no confirmed subscription"));
    assert!(message(Code::SecurityAlarmUnrouted, "cis-5.0.0/4.14").contains("actions disabled"));
    let statuses = statuses(&inventory, &settings);
    let status = |detection: &str| statuses.iter().find(|(d, _)| d == detection).unwrap().1;
    assert_eq!(status("root-account-usage"), ControlStatus::NoFilter);
    assert_eq!(status("cloudtrail-changes"), ControlStatus::NoAlarm);
    assert_eq!(status("iam-policy-changes"), ControlStatus::Unrouted);
    assert_eq!(status("nacl-changes"), ControlStatus::Covered);
}

#[test]
fn coverage_is_judged_by_what_a_pattern_matches_not_how_it_is_spelled() {
    let settings = settings("cis-5.0.0");
    let mut inventory = account(&settings, &["cloudtrail-changes", "console-authentication-failures", "security-group-changes", "root-account-usage"]);
    // Other spellings and orders of the same conditions cover their controls.
    inventory.log_metric_filters.push(filter("trail", "{($.eventName=StopLogging)||($.eventName=DeleteTrail)||($.eventName=UpdateTrail)||($.eventName=CreateTrail)||($.eventName=StartLogging)}", "T"));
    inventory.log_metric_filters.push(filter("auth", r#"{ $.errorMessage = "Failed authentication" && $.eventName = "ConsoleLogin" }"#, "A"));
    // A filter missing two of the six security group calls does not.
    inventory.log_metric_filters.push(filter("sg", "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }", "S"));
    // A root filter that forgets the AWS-service exclusion alerts on service events: not counted.
    inventory.log_metric_filters.push(filter("root", r#"{ $.userIdentity.type = "Root" }"#, "R"));
    for (name, metric) in [("trail-alarm", "T"), ("auth-alarm", "A"), ("sg-alarm", "S"), ("root-alarm", "R")] {
        inventory.alarms.push(alarm(name, metric, 1.0, &[TOPIC]));
    }
    let statuses = statuses(&inventory, &settings);
    let status = |detection: &str| statuses.iter().find(|(d, _)| d == detection).unwrap().1;
    assert_eq!(status("cloudtrail-changes"), ControlStatus::Covered);
    assert_eq!(status("console-authentication-failures"), ControlStatus::Covered);
    assert_eq!(status("security-group-changes"), ControlStatus::NoFilter);
    assert_eq!(status("root-account-usage"), ControlStatus::NoFilter);
    let evaluation = evaluate(&inventory, &settings, crate::common::today());
    let sg = evaluation.findings.iter().find(|f| f.requirement.as_deref() == Some("cis-5.0.0/4.10")).unwrap();
    assert!(sg.message.contains("matches 4 of its 6 events; it misses AuthorizeSecurityGroupEgress"), "{}", sg.message);
    let noisy = evaluation.findings.iter().find(|f| f.code == Code::SecurityFilterNoisy).unwrap();
    assert!(noisy.message.contains("\"root\"") && noisy.message.contains("4.3"), "{}", noisy.message);
}

#[test]
fn an_older_benchmarks_own_pattern_covers_it_even_where_it_is_broader() {
    // CIS 1.2.0's unauthorized-API pattern also alerts on S3 log delivery's HeadBucket probes,
    // which later versions exclude; under 1.2.0 it is what the assessors require.
    let old = settings("cis-1.2.0");
    let inventory = account(&old, &[]);
    assert_eq!(security_findings(&inventory, &old), vec![]);
    // The same filter under 5.0.0 is too broad to count.
    let new = settings("cis-5.0.0");
    let mut inventory = account(&new, &["unauthorized-api-calls"]);
    let pattern = old.security.controls.iter().find(|c| c.detection == "unauthorized-api-calls").unwrap().filter_pattern.clone();
    inventory.log_metric_filters.push(filter("unauthorized", &pattern, "U"));
    inventory.alarms.push(alarm("unauthorized-alarm", "U", 1.0, &[TOPIC]));
    let found = security_findings(&inventory, &new);
    assert!(found.contains(&(Code::SecurityFilterMissing, "cis-5.0.0/4.1".into())), "{found:?}");
    assert!(found.iter().any(|(code, _)| *code == Code::SecurityFilterNoisy), "{found:?}");
}

#[test]
fn an_unscanned_log_group_region_is_unknown_not_missing() {
    let settings = settings("cis-5.0.0");
    let mut inventory = account(&settings, &[]);
    // The trail delivers to us-east-1, but only eu-west-1 was scanned: no filters could be seen.
    inventory.scopes = vec![Scope { account: ACCOUNT.into(), region: "eu-west-1".into(), failed: None }];
    inventory.log_metric_filters.clear();
    let found = security_findings(&inventory, &settings);
    assert_eq!(found, [(Code::SecurityRegionNotScanned, String::new())]);
    assert!(statuses(&inventory, &settings).iter().all(|(_, status)| *status == ControlStatus::NotScanned));
}

#[test]
fn unreadable_patterns_are_reported_once_and_count_for_nothing() {
    let settings = settings("cis-5.0.0");
    let mut inventory = account(&settings, &[]);
    inventory.log_metric_filters.push(filter("flow", "[version, account, eni, source, destination, srcport, destport=\"22\"]", "F"));
    inventory.log_metric_filters.push(filter("broken", "{ $.eventName = ", "B"));
    let found = security_findings(&inventory, &settings);
    assert_eq!(found, [(Code::SecurityFilterUnsupported, String::new()), (Code::SecurityFilterUnsupported, String::new())]);
}

#[test]
fn exemptions_hold_until_they_expire() {
    let mut settings = settings("cis-5.0.0");
    let inventory = account(&settings, &["organizations-changes"]);
    settings.security.exemptions.push(onwatch::config::security::ControlExemptionChecked {
        number: "4.15".into(),
        waiver: onwatch::config::Waiver {
            reason: "single account, no AWS Organizations".into(),
            expires: time::macros::date!(2026 - 12 - 31),
            origin: onwatch::findings::Origin { file: "config/security_detections.json".into(), line: 1 },
        },
    });
    assert_eq!(security_findings(&inventory, &settings), vec![]);
    let summary = evaluate(&inventory, &settings, crate::common::today()).summary.security.unwrap();
    assert_eq!((summary.required, summary.exempted, summary.covered), (14, 1, 14));
    settings.security.exemptions[0].waiver.expires = time::macros::date!(2026 - 11 - 01);
    let found = security_findings(&inventory, &settings);
    assert_eq!(found, [(Code::SecurityFilterMissing, "cis-5.0.0/4.15".into()), (Code::ExemptionExpired, "cis-5.0.0/4.15".into())]);
}

#[test]
fn switched_off_means_no_security_check() {
    let mut settings = settings("cis-5.0.0");
    settings.security.enabled = false;
    let evaluation = evaluate(&Inventory { version: 1, ..Inventory::default() }, &settings, crate::common::today());
    assert!(evaluation.summary.security.is_none());
    assert!(evaluation.findings.iter().all(|f| !f.code.as_str().starts_with("security-")));
}

#[test]
fn the_example_accounts_security_report() {
    let settings = config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap();
    let inventory = onwatch::snapshot::read(&root().join("examples/inventory.json")).unwrap();
    let evaluation = evaluate(&inventory, &settings, crate::common::today());
    insta::assert_json_snapshot!("example_security_summary", evaluation.summary.security);
    let report = onwatch::report::Document::coverage(&evaluation, None, "examples/inventory.json", "2026-11-25".into());
    let options = onwatch::report::Options::default();
    let markdown = report.render(onwatch::report::Format::Markdown, &options);
    let table: String = markdown.lines().skip_while(|l| !l.starts_with("### Security")).take_while(|l| !l.starts_with("<details>")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("example_security_markdown", table);
    let junit = report.render(onwatch::report::Format::Junit, &options);
    let suite: String = junit.lines().skip_while(|l| !l.contains("security controls")).take_while(|l| !l.contains("other findings")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("example_security_junit", suite);
}
