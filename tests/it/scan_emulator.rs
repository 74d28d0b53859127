//! End to end against an AWS API emulator: moto's server seeded with a realistic account
//! (tests/emulator/seed.py), scanned by the onwatch binary through the real SDK clients, and checked.
//! Needs ONWATCH_MOTO_SERVER and ONWATCH_PYTHON, which scripts/test.sh sets.


use std::{collections::BTreeSet, fs};

use crate::harness::{onwatch, text, Emulator, REGION};
use onwatch::model::{DiscoveredBy, Inventory, Scope};
use serde_json::Value;

fn scan(emulator: &Emulator, dir: &std::path::Path, output: &str) -> Inventory {
    let result = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", output], dir);
    assert_eq!(result.status.code(), Some(0), "scan failed:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
    let stderr = text(&result.stderr);
    assert!(stderr.contains("scanned 1 account in 1 region"), "{stderr}");
    onwatch::snapshot::read(&dir.join(output)).expect("the scan writes a valid snapshot")
}

fn check(args: &[&str], dir: &std::path::Path) -> Value {
    let mut all = vec!["check", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"];
    all.extend_from_slice(args);
    let result = onwatch(&all, dir);
    assert_eq!(result.status.code(), Some(0), "check failed:\n{}", text(&result.stderr));
    serde_json::from_slice(&result.stdout).unwrap()
}

/// (code, resource, alarm) of every finding.
fn findings(report: &Value) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or_default().to_string();
            (field("code"), field("resource"), field("alarm"))
        })
        .collect()
}

fn has(findings: &BTreeSet<(String, String, String)>, code: &str, resource: &str, alarm: &str) -> bool {
    findings.iter().any(|(c, r, a)| c == code && r.ends_with(resource) && (alarm.is_empty() || a == alarm))
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn scan_reads_the_account_and_check_finds_its_gaps() {
    let emulator = Emulator::start();
    let made = emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    let inventory = scan(&emulator, dir.path(), "inventory.json");
    let instance = |name: &str| made["instances"][name].as_str().unwrap().to_string();
    let (web, batch, untagged) = (instance("web"), instance("batch"), instance("untagged"));

    assert_eq!(inventory.scopes, [Scope { account: emulator.account.clone(), region: REGION.into(), failed: None }]);
    assert_eq!(inventory.generated_at.as_deref(), Some("2025-11-25T00:00:00Z"));

    // Resources: tagged ones through the Tagging API, untagged ones through their metrics.
    let resource = |suffix: &str| {
        inventory.resources.iter().find(|r| r.arn.ends_with(suffix)).unwrap_or_else(|| panic!("no resource {suffix} in {:#?}", inventory.resources))
    };
    let web_resource = resource(&format!(":instance/{web}"));
    assert_eq!(web_resource.resource_type, "ec2:instance");
    assert_eq!(web_resource.tags.get("Name").map(String::as_str), Some("web"));
    assert_eq!(web_resource.discovered_by, DiscoveredBy::Tagging);
    assert_eq!(resource(&format!(":instance/{untagged}")).discovered_by, DiscoveredBy::Metrics);
    let account = &emulator.account;
    assert_eq!(resource(&format!(":sqs:us-east-1:{account}:legacy-jobs")).discovered_by, DiscoveredBy::Metrics);
    for (suffix, resource_type) in [
        (":db:orders-db", "rds:db"),
        (&format!(":sqs:us-east-1:{account}:orders"), "sqs:queue"),
        (":table/sessions", "dynamodb:table"),
        (":function:checkout", "lambda:function"),
    ] {
        let found = resource(suffix);
        assert_eq!((found.resource_type.as_str(), found.discovered_by), (resource_type, DiscoveredBy::Tagging), "{suffix}");
    }
    let balancer = made["load_balancer"]["dimension"].as_str().unwrap();
    assert_eq!(resource(balancer).resource_type, "elasticloadbalancing:loadbalancer/app");
    let group = resource(made["target_group"]["dimension"].as_str().unwrap());
    assert_eq!(group.resource_type, "elasticloadbalancing:targetgroup");
    assert_eq!(group.attributes.get("LoadBalancer").map(String::as_str), Some(balancer), "filled from the target group's metrics");
    // API Gateway v2 stages from their metrics alone, their protocol told by which metrics they publish.
    for (suffix, protocol) in [("/apis/f6g7h8i9j0/stages/$default", "HTTP"), ("/apis/k1l2m3n4o5/stages/prod", "WEBSOCKET")] {
        let stage = resource(suffix);
        assert_eq!((stage.resource_type.as_str(), stage.discovered_by), ("apigateway:apis/stages", DiscoveredBy::Metrics), "{suffix}");
        assert_eq!(stage.attributes.get("ProtocolType").map(String::as_str), Some(protocol), "{suffix}");
        assert_eq!(stage.account, *account, "{suffix}: the stage's ARN has no account; the scan's scope gives it");
    }
    // Auto Scaling groups come from DescribeAutoScalingGroups, with their tags and capacities.
    let asg = resource(made["auto_scaling_group"]["arn"].as_str().unwrap());
    assert_eq!((asg.resource_type.as_str(), asg.discovered_by), ("autoscaling:autoScalingGroup", DiscoveredBy::Tagging));
    assert!(asg.arn.ends_with(":autoScalingGroupName/web-asg"), "{}", asg.arn);
    assert_eq!(asg.tags.get("team").map(String::as_str), Some("shop"));
    assert_eq!((asg.attributes.get("DesiredCapacity").map(String::as_str), asg.attributes.get("MaxSize").map(String::as_str)), (Some("0"), Some("4")));
    // The pager queue has neither tags nor metrics: invisible, as in AWS.
    assert!(!inventory.resources.iter().any(|r| r.arn.ends_with(":oncall-pager")));
    let mut arns: Vec<&str> = inventory.resources.iter().map(|r| r.arn.as_str()).collect();
    arns.dedup();
    assert!(arns.windows(2).all(|w| w[0] < w[1]), "resources are sorted by ARN, once each");

    // Alarms, metric and composite.
    let names: Vec<&str> = inventory.alarms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["batch-cpu", "batch-status", "checkout-error-rate", "checkout-errors", "checkout-invocations-band", "cis-iam-policy-changes", "cis-root-usage", "gone-cpu", "orders-db-cpu", "web-attached-ebs", "web-cpu", "web-disk", "web-memory", "web-status", "web-tg-healthy"]
    );
    let web_cpu = inventory.alarms.iter().find(|a| a.name == "web-cpu").unwrap();
    assert_eq!(web_cpu.namespace.as_deref(), Some("AWS/EC2"));
    assert_eq!(web_cpu.dimensions.get("InstanceId"), Some(web.as_str()));
    assert_eq!((web_cpu.threshold, web_cpu.period, web_cpu.evaluation_periods), (Some(80.0), Some(300), 3));
    assert_eq!(web_cpu.statistic, Some(onwatch::model::Statistic::Average));
    assert_eq!(web_cpu.alarm_actions, [made["topics"]["alerts"].as_str().unwrap()]);
    assert_eq!(web_cpu.arn.as_deref(), Some(format!("arn:aws:cloudwatch:us-east-1:{account}:alarm:web-cpu").as_str()));
    let composite = |name: &str| inventory.composite_alarms.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no composite {name}"));
    assert_eq!(inventory.composite_alarms.len(), 2);
    assert_eq!(composite("web-down").alarm_rule, r#"ALARM("web-cpu") AND ALARM("web-status")"#);
    assert_eq!(composite("checkout-rollup").alarm_actions, [made["topics"]["alerts"].as_str().unwrap()]);
    // Metric math and anomaly alarms: their queries and threshold query, as DescribeAlarms gives them.
    let alarm = |name: &str| inventory.alarms.iter().find(|a| a.name == name).unwrap();
    let rate = alarm("checkout-error-rate");
    assert_eq!((rate.namespace.as_deref(), rate.metric_name.as_deref(), rate.threshold_metric_id.as_deref()), (None, None, None));
    let queries: Vec<(&str, Option<&str>, Option<&str>, bool)> =
        rate.metrics.iter().map(|q| (q.id.as_str(), q.expression.as_deref(), q.metric.as_ref().map(|m| m.metric_name.as_str()), q.return_data)).collect();
    assert_eq!(queries, [("rate", Some("100*failed/calls"), None, true), ("failed", None, Some("Errors"), false), ("calls", None, Some("Invocations"), false)]);
    let calls = rate.metrics[2].metric.as_ref().unwrap();
    assert_eq!((calls.namespace.as_str(), calls.stat.as_str(), calls.period, calls.dimensions.get("FunctionName")), ("AWS/Lambda", "Sum", 60, Some("checkout")));
    let band = alarm("checkout-invocations-band");
    assert_eq!(band.threshold_metric_id.as_deref(), Some("ad1"));
    assert_eq!(band.metrics[0].expression.as_deref(), Some("ANOMALY_DETECTION_BAND(m1, 3)"));
    assert_eq!(band.comparison_operator, onwatch::model::ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold);

    // Metrics, including the CloudWatch agent's.
    assert!(inventory.metrics.iter().any(|m| m.namespace == "CWAgent" && m.metric_name == "mem_used_percent" && m.dimensions.get("InstanceId") == Some(web.as_str())));
    assert!(!inventory.metrics.iter().any(|m| m.namespace == "CWAgent" && m.dimensions.get("InstanceId") == Some(batch.as_str())));

    // Dashboards with their bodies.
    assert_eq!(inventory.dashboards.len(), 1);
    assert_eq!(inventory.dashboards[0].name, "ops");
    assert!(inventory.dashboards[0].body.as_deref().unwrap().contains("widgets"));

    // SNS topics: keys and subscription states.
    let topic = |name: &str| inventory.sns_topics.iter().find(|t| t.arn.ends_with(&format!(":{name}"))).unwrap();
    let alerts = topic("alerts");
    assert_eq!(alerts.kms_master_key_id.as_deref(), Some("alias/onwatch-alerts"));
    let states: Vec<(&str, bool)> = alerts.subscriptions.iter().map(|s| (s.protocol.as_str(), s.confirmed)).collect();
    assert_eq!(states, [("email", false), ("sqs", true)]);
    assert!(!topic("alerts-nobody").has_confirmed_subscription());
    assert!(topic("alerts-aws-key").uses_aws_managed_key());

    // The check, end to end, on the snapshot.
    let report = check(&["--inventory", "inventory.json"], dir.path());
    let found = findings(&report);
    assert!(has(&found, "threshold-mismatch", &batch, "batch-cpu"), "{found:#?}");
    // Notification problems are reported on the alarm.
    assert!(has(&found, "alarm-topic-unconfirmed", ":alarm:batch-cpu", "batch-cpu"), "{found:#?}");
    assert!(has(&found, "alarm-topic-aws-managed-key", ":alarm:batch-status", "batch-status"), "{found:#?}");
    assert!(has(&found, "agent-metrics-missing", &batch, ""), "{found:#?}");
    assert!(has(&found, "missing-alarm", &untagged, ""), "{found:#?}");
    assert!(has(&found, "missing-alarm", ":legacy-jobs", ""), "{found:#?}");
    let messages_of = |resource: &str| -> Vec<String> {
        report["findings"].as_array().unwrap().iter().filter(|f| f["resource"].as_str().is_some_and(|r| r.ends_with(resource))).filter_map(|f| f["message"].as_str().map(str::to_string)).collect()
    };
    let websocket = messages_of("/apis/k1l2m3n4o5/stages/prod");
    assert!(websocket.iter().any(|m| m.contains("apigateway-websocket-stage/route-integration-latency-p90[Route=$connect]")), "{websocket:#?}");
    assert!(!websocket.iter().any(|m| m.contains("apigateway-http-stage/")), "a WebSocket stage needs no HTTP alarms: {websocket:#?}");
    let http = messages_of("/apis/f6g7h8i9j0/stages/$default");
    assert!(http.iter().any(|m| m.contains("apigateway-http-stage/5xx-rate")), "{http:#?}");
    assert!(has(&found, "alarm-no-actions", ":alarm:orders-db-cpu", "orders-db-cpu"), "{found:#?}");
    assert!(has(&found, "orphaned-alarm", ":alarm:gone-cpu", "gone-cpu"), "{found:#?}");
    // The rate under other query ids covers the pack's error-rate requirement; the band is too wide;
    // neither lacks actions, since the composite roll-up notifies for them.
    assert!(has(&found, "threshold-mismatch", ":function:checkout", "checkout-invocations-band"), "{found:#?}");
    let messages: Vec<&str> = report["findings"].as_array().unwrap().iter().filter_map(|f| f["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("lambda-function/throttles")), "checkout still lacks its throttles alarm: {messages:#?}");
    assert!(!messages.iter().any(|m| m.contains("ErrorRate")), "{messages:#?}");
    assert!(!found.iter().any(|(_, _, alarm)| alarm == "checkout-error-rate"), "{found:#?}");
    assert!(!found.iter().any(|(code, r, _)| code == "alarm-no-actions" && r.contains(":alarm:checkout-")), "{found:#?}");
    assert!(!found.iter().any(|(_, r, _)| r.ends_with(&web)), "web is fully covered: {found:#?}");
    // The group publishes GroupInServiceCapacity and has no alarm on it.
    assert!(has(&found, "missing-alarm", ":autoScalingGroupName/web-asg", ""), "{found:#?}");
    assert_eq!(report["summary"]["discovered_by_metrics"], 4);
    assert_eq!(report["summary"]["orphaned"], 1);

    // Scanning the same account again gives the same bytes.
    scan(&emulator, dir.path(), "again.json");
    assert_eq!(fs::read(dir.path().join("inventory.json")).unwrap(), fs::read(dir.path().join("again.json")).unwrap());
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn check_live_finds_what_scan_then_check_finds() {
    let emulator = Emulator::start();
    emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    scan(&emulator, dir.path(), "inventory.json");
    let from_snapshot = check(&["--inventory", "inventory.json"], dir.path());
    let live = check(&["--live", "--endpoint-url", &emulator.endpoint, "--region", REGION], dir.path());
    assert_eq!(live["findings"], from_snapshot["findings"]);
    assert_eq!(live["summary"], from_snapshot["summary"]);
    assert_eq!(live["requirements"], from_snapshot["requirements"]);

    // generate --live writes the same module as generate --inventory.
    let generate = |source: &[&str], out: &str| {
        let mut args = vec!["generate", "--out", out, "--as-of", "2026-11-25"];
        args.extend_from_slice(source);
        let result = onwatch(&args, dir.path());
        assert_eq!(result.status.code(), Some(0), "generate failed:\n{}", text(&result.stderr));
    };
    generate(&["--inventory", "inventory.json"], "from-snapshot");
    generate(&["--live", "--endpoint-url", &emulator.endpoint, "--region", REGION], "from-live");
    let files = |out: &str| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = fs::read_dir(dir.path().join(out))
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read_to_string(&p).unwrap_or_default()))
            .collect();
        files.sort();
        files
    };
    assert_eq!(files("from-live"), files("from-snapshot"));
}
