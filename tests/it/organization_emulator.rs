//! `scan --organization` end to end against the emulator: an organisation of 30 accounts seeded by
//! tests/emulator/organization.py, the role assumed in each (server.py refuses AssumeRole into a
//! role that does not exist, as AWS does), partial failure, and what check and generate make of it.

use std::{collections::BTreeSet, fs, path::Path, process::Command, time::Instant};

use crate::harness::{onwatch, text, tool, Emulator};
use onwatch::model::Inventory;
use serde_json::Value;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn seed(emulator: &Emulator, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/organization.py");
    let output = Command::new(tool("ONWATCH_PYTHON")).arg(script).args(["--endpoint", &emulator.endpoint]).args(args).output().unwrap();
    assert!(output.status.success(), "seeding failed:\n{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
    serde_json::from_slice(&output.stdout).expect("organization.py prints JSON")
}

fn scan(emulator: &Emulator, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["scan", "--organization", "--endpoint-url", &emulator.endpoint, "--region", REGIONS[0], "--region", REGIONS[1]];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

fn ids(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn scan_organization_finds_every_active_account_in_every_region() {
    let emulator = Emulator::private(); // cross-account: assumed roles must reach other accounts, which a per-account endpoint would pin
    let made = seed(&emulator, &["--accounts", "30", "--suspended", "1"]);
    let (active, suspended) = (ids(&made["active"]), ids(&made["suspended"]));
    assert_eq!(active.len(), 30);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let result = scan(&emulator, dir.path(), &["--output", "org.json", "--concurrency", "8"]);
    let elapsed = started.elapsed();
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}\nemulator:\n{}", emulator.stderr());
    eprintln!("scan --organization of 30 accounts x 2 regions: {:.1} s; {stderr}", elapsed.as_secs_f64());
    assert!(stderr.contains("scanned 30 accounts in 2 regions"), "{stderr}");
    assert!(stderr.contains(&format!("skipped {} (", suspended[0])) && stderr.contains("SUSPENDED"), "{stderr}");

    let inventory: Inventory = onwatch::snapshot::read(&dir.path().join("org.json")).unwrap();
    let scopes: BTreeSet<(String, String)> = inventory.scopes.iter().map(|s| (s.account.clone(), s.region.clone())).collect();
    let wanted: BTreeSet<(String, String)> = active.iter().flat_map(|a| REGIONS.iter().map(move |r| (a.clone(), r.to_string()))).collect();
    assert_eq!(scopes, wanted);
    assert!(inventory.scopes.iter().all(|s| s.failed.is_none()));
    // Each account's resources are read with that account's role, so they carry its id.
    for (account, queues) in made["queues"].as_object().unwrap() {
        for queue in ids(queues) {
            let found = inventory.resources.iter().find(|r| r.arn == queue).unwrap_or_else(|| panic!("{queue} not scanned"));
            assert_eq!(&found.account, account);
        }
        assert!(inventory.alarms.iter().any(|a| &a.account == account && a.region == REGIONS[0]), "no alarm of {account}");
    }
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn account_without_its_role_fails_the_scan_unless_partial_then_it_is_unknown() {
    let emulator = Emulator::private(); // cross-account: assumed roles must reach other accounts, which a per-account endpoint would pin
    let made = seed(&emulator, &["--accounts", "30", "--missing-role", "1"]);
    let missing = ids(&made["missing_role"])[0].clone();
    let dir = tempfile::tempdir().unwrap();

    let refused = scan(&emulator, dir.path(), &["--output", "org.json"]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sts:AssumeRole") && stderr.contains(&missing) && stderr.contains("AccessDenied"), "{stderr}");
    assert!(!dir.path().join("org.json").exists(), "a failed scan writes nothing");

    let partial = scan(&emulator, dir.path(), &["--output", "org.json", "--allow-partial"]);
    let stderr = text(&partial.stderr);
    assert_eq!(partial.status.code(), Some(1), "{stderr}");
    for region in REGIONS {
        assert!(stderr.contains(&format!("failed scope {missing}/{region}: ")), "{stderr}");
    }
    let inventory: Inventory = onwatch::snapshot::read(&dir.path().join("org.json")).unwrap();
    let failed: Vec<_> = inventory.scopes.iter().filter(|s| s.failed.is_some()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|s| s.account == missing && s.failed.as_deref().unwrap().contains("sts:AssumeRole")));
    assert_eq!(inventory.scopes.len(), 60);

    // check: the failed scopes are unknown (an error finding each), and nothing else is said of them.
    let check = onwatch(&["check", "--inventory", "org.json", "--format", "json", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let unknown: BTreeSet<&str> = findings.iter().filter(|f| f["code"] == "scope-unknown").map(|f| f["resource"].as_str().unwrap()).collect();
    assert_eq!(unknown, REGIONS.iter().map(|r| format!("{missing}/{r}")).collect::<BTreeSet<_>>().iter().map(String::as_str).collect());
    assert!(findings.iter().filter(|f| f["code"] == "scope-unknown").all(|f| f["severity"] == "error"));
    let about_missing = findings.iter().filter(|f| f["code"] != "scope-unknown" && f.to_string().contains(&missing)).count();
    assert_eq!(about_missing, 0, "no coverage or security finding for a failed scope");
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn generate_refuses_to_delete_alarms_in_a_failed_scope() {
    let emulator = Emulator::private(); // cross-account: assumed roles must reach other accounts, which a per-account endpoint would pin
    let made = seed(&emulator, &["--accounts", "3"]);
    let account = made["queues"].as_object().unwrap().keys().next().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let result = scan(&emulator, dir.path(), &["--output", "one.json", "--account", &account]);
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let first = onwatch(&["generate", "--inventory", "one.json", "--out", "module"], dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = fs::read_to_string(dir.path().join("module/alarms.tf")).unwrap();
    assert!(before.contains("provider            = aws.eu_west_1"), "the module has alarms in eu-west-1");

    // The same account with eu-west-1 failed: what was there is unknown, not gone.
    let mut snapshot: Value = serde_json::from_str(&fs::read_to_string(dir.path().join("one.json")).unwrap()).unwrap();
    for scope in snapshot["scopes"].as_array_mut().unwrap() {
        if scope["region"] == REGIONS[0] {
            scope["failed"] = "scan failed: tag:GetResources in eu-west-1: throttled".into();
        }
    }
    for list in ["resources", "alarms", "metrics", "sns_topics"] {
        if let Some(items) = snapshot[list].as_array_mut() {
            items.retain(|item| item["region"] != REGIONS[0]);
        }
    }
    fs::write(dir.path().join("partial.json"), serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    for extra in [&[][..], &["--allow-deletions"][..]] {
        let mut args = vec!["generate", "--inventory", "partial.json", "--out", "module"];
        args.extend_from_slice(extra);
        let refused = onwatch(&args, dir.path());
        let stderr = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("could not read") && stderr.contains("aws.eu_west_1"), "{stderr}");
        assert_eq!(fs::read_to_string(dir.path().join("module/alarms.tf")).unwrap(), before, "nothing written");
    }
}

#[test]
fn organization_account_filters_must_be_account_ids() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [("--account", "123"), ("--account", "12345"), ("--account", "1234567890123"), ("--exclude-account", "123"), ("--exclude-account", "12345678901x")] {
        let result = onwatch(&["scan", "--organization", flag, value, "--region", "us-east-1", "--output", "out.json"], dir.path());
        let stderr = text(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(flag) && stderr.contains(value) && stderr.contains("12 digits"), "{stderr}");
        assert!(!dir.path().join("out.json").exists());
    }
    let result = onwatch(&["scan", "--account", "123456789012", "--region", "us-east-1", "--output", "out.json"], dir.path());
    assert_eq!(result.status.code(), Some(2), "--account without --organization: {}", text(&result.stderr));
}

// ---------------------------------------------------------------------------------------------
// Pure checks of an inventory with a failed scope (no emulator).

/// An alarm watches the metrics of its own account and region, so whether its resource exists is
/// known exactly when that scope was scanned. In a scanned scope an alarm on a deleted resource
/// is orphaned, even beside a failed scope of the same account or region; an alarm placed in a
/// failed scope (a snapshot may carry one though a scan never writes it) watches a resource whose
/// existence is unknown: it is not called orphaned, and the scope's `scope-unknown` covers it.
#[test]
fn an_alarm_whose_resource_lies_in_a_failed_scope_is_unknown_not_orphaned() {
    use crate::common::{cpu_alarm, instance, run, ACCOUNT, REGION};
    use onwatch::{findings::Code, model::Scope};
    let other = "222222222222";
    let mut inventory = crate::common::inventory();
    inventory.scopes = vec![
        Scope { account: ACCOUNT.into(), region: REGION.into(), failed: None },
        Scope { account: ACCOUNT.into(), region: "eu-west-1".into(), failed: Some("cloudwatch:DescribeAlarms: Throttling".into()) },
        Scope { account: other.into(), region: REGION.into(), failed: Some("sts:AssumeRole: AccessDenied".into()) },
    ];
    inventory.resources.push(instance("i-live", &[]));
    // Deleted from a scanned scope: orphaned.
    inventory.alarms.push(cpu_alarm("i-deleted", 80.0));
    // In the failed scopes: unknown.
    let mut in_failed_region = cpu_alarm("i-elsewhere", 80.0);
    in_failed_region.region = "eu-west-1".into();
    let mut in_failed_account = cpu_alarm("i-other", 80.0);
    in_failed_account.account = other.into();
    inventory.alarms.extend([in_failed_region, in_failed_account]);

    let evaluation = run(&inventory);
    let orphaned: Vec<&str> = evaluation.findings.iter().filter(|f| f.code == Code::OrphanedAlarm).filter_map(|f| f.alarm.as_deref()).collect();
    assert_eq!(orphaned, ["i-deleted-cpu"], "{:#?}", evaluation.findings);
    assert_eq!(evaluation.summary.orphaned, 1);
    let unknown: Vec<&str> = evaluation.findings.iter().filter(|f| f.code == Code::ScopeUnknown).map(|f| f.resource.as_str()).collect();
    assert_eq!(unknown, [format!("{ACCOUNT}/eu-west-1"), format!("{other}/{REGION}")]);

    // The same inventory with every scope scanned calls all three orphaned: the rule is the scope's.
    for scope in &mut inventory.scopes {
        scope.failed = None;
    }
    assert_eq!(run(&inventory).summary.orphaned, 3);
}

/// The same rule for where an alarm notifies: a topic of a failed scope (a central alerting
/// account's that could not be read) is of unknown existence, not `alarm-topic-unknown`; a topic
/// missing from a scanned scope still is.
#[test]
fn an_alarm_notifying_a_topic_of_a_failed_scope_is_not_told_the_topic_is_unknown() {
    use crate::common::{covered_instance, run, ACCOUNT, REGION};
    use onwatch::{findings::Code, model::Scope};
    let central = "999999999999";
    let mut inventory = crate::common::inventory();
    inventory.scopes = vec![
        Scope { account: ACCOUNT.into(), region: REGION.into(), failed: None },
        Scope { account: central.into(), region: REGION.into(), failed: Some("sts:AssumeRole: AccessDenied".into()) },
    ];
    covered_instance(&mut inventory, "i-web");
    let central_topic = format!("arn:aws:sns:{REGION}:{central}:alerts");
    let gone_topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:deleted-topic");
    inventory.alarms[0].alarm_actions = vec![central_topic.clone()];
    inventory.alarms[1].alarm_actions = vec![gone_topic.clone()];
    let unknown_topics = |inventory: &onwatch::model::Inventory| -> Vec<String> {
        run(inventory).findings.iter().filter(|f| f.code == Code::AlarmTopicUnknown).map(|f| f.message.clone()).collect()
    };
    let found = unknown_topics(&inventory);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains(&gone_topic), "{found:#?}");
    // Scanned, the central account's missing topic is reported like any other.
    inventory.scopes[1].failed = None;
    let found = unknown_topics(&inventory);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().any(|m| m.contains(&central_topic)), "{found:#?}");
}
