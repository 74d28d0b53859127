//! The IAM policy `onwatch iam-policy` prints covers every AWS operation the scanner really calls:
//! a scan of the seeded emulator records each operation its SDK clients execute, and that set must
//! be in the policy. This binary holds one test only, because it sets the process environment
//! (the credential chain reads it), which must not race with other threads.


use std::collections::BTreeSet;

use crate::harness::{onwatch, text, Emulator, REGION};
use onwatch::scan::{self, ScanOptions, OPERATIONS};

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn every_call_of_a_scan_is_in_the_iam_policy() {
    let emulator = Emulator::start();
    emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_EC2_METADATA_DISABLED", "true")] {
        std::env::set_var(name, value);
    }
    std::env::set_var("AWS_CONFIG_FILE", dir.path().join("none"));
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"));
    for name in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"] {
        std::env::remove_var(name);
    }

    // With the flapping check on (alarm_hygiene.flapping), as the policy allows for every configuration.
    let options = ScanOptions { regions: vec![REGION.into()], endpoint_url: Some(emulator.endpoint.clone()), alarm_history_days: Some(14), ..ScanOptions::default() };
    let scan = scan::run(&options, &onwatch::config::load_catalog(None).unwrap()).unwrap();

    // What the scanner called, as IAM actions, against what the binary prints.
    assert_eq!(scan.calls.unlisted(), Vec::<String>::new(), "calls missing from scan::calls::OPERATIONS");
    let called: BTreeSet<&str> = OPERATIONS.iter().filter(|op| scan.calls.executions(op.action) > 0).map(|op| op.action).collect();
    let printed = onwatch(&["iam-policy"], dir.path());
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed.stderr));
    let policy: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(policy, scan::iam_policy());
    let allowed: BTreeSet<&str> = policy["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(called.is_subset(&allowed), "called {called:?}, allowed {allowed:?}");
    // And the policy asks for nothing the scanner does not use.
    assert_eq!(called, allowed, "every action in the policy is exercised by this scan");

    // The calls a small account takes: one page of each listing, and per-item calls for the
    // four topics, the one trail and the one dashboard.
    for (action, expected) in [
        ("sts:GetCallerIdentity", 1),
        ("tag:GetResources", 1),
        ("cloudwatch:DescribeAlarms", 1),
        ("cloudwatch:ListMetrics", 1),
        ("cloudwatch:DescribeAlarmHistory", 1),
        ("cloudwatch:ListDashboards", 1),
        ("cloudwatch:GetDashboard", 1),
        ("sns:ListTopics", 1),
        ("sns:GetTopicAttributes", 4),
        ("sns:ListSubscriptionsByTopic", 4),
        ("cloudtrail:DescribeTrails", 1),
        ("cloudtrail:GetTrailStatus", 1),
        ("logs:DescribeMetricFilters", 1),
        ("autoscaling:DescribeAutoScalingGroups", 1),
    ] {
        assert_eq!(scan.calls.executions(action), expected, "{action}");
    }

    // With the check off, the history is not read.
    let off = scan::run(&ScanOptions { alarm_history_days: None, ..options }, &onwatch::config::load_catalog(None).unwrap()).unwrap();
    assert_eq!(off.calls.executions("cloudwatch:DescribeAlarmHistory"), 0);
    assert_eq!(off.calls.executions("cloudwatch:DescribeAlarms"), 1);
}
