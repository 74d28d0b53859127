//! Alarm hygiene (issue 11 item 6): alarms that exist but will not do their job. Evaluation
//! tests for each finding code on hand-built inventories, the configuration section and its
//! errors, report snapshots, and an emulator test proving the scanner reads what the checks need
//! (StateUpdatedTimestamp, and DescribeAlarmHistory only when the flapping check is on).

use std::path::Path;

use crate::common::*;
use crate::harness::{self, Emulator};
use onwatch::{
    check::evaluate,
    config::{ActionState, AlarmHygiene, Flapping, Settings},
    findings::{Code, Severity},
    model::*,
    report::{Document, Format, Options},
};
use time::macros::date;

fn with_hygiene(hygiene: AlarmHygiene) -> Settings {
    let mut settings = settings();
    settings.thresholds.hygiene = hygiene;
    settings
}

/// The fixture inventory as a scan of ACCOUNT/REGION would describe it: its metrics were listed.
fn scanned() -> Inventory {
    let mut inv = inventory();
    inv.scopes = vec![Scope { account: ACCOUNT.into(), region: REGION.into(), failed: None }];
    inv
}

fn metric(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Metric {
    Metric { namespace: namespace.into(), metric_name: name.into(), dimensions: tags(dimensions).into(), region: REGION.into(), account: ACCOUNT.into() }
}

fn query(id: &str, namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> MetricQuery {
    let metric = MetricStat { namespace: namespace.into(), metric_name: name.into(), dimensions: tags(dimensions).into(), period: 60, stat: "Sum".into() };
    MetricQuery { id: id.into(), expression: None, metric: Some(metric), return_data: false }
}

fn expression(id: &str, text: &str) -> MetricQuery {
    MetricQuery { id: id.into(), expression: Some(text.into()), metric: None, return_data: true }
}

/// (alarm, message) of the findings of `code`.
fn found(inv: &Inventory, settings: &Settings, today: time::Date, code: Code) -> Vec<(String, String)> {
    evaluate(inv, settings, today).findings.into_iter().filter(|f| f.code == code).map(|f| (f.alarm.unwrap_or_default(), f.message)).collect()
}

fn alarms_of(findings: &[(String, String)]) -> Vec<&str> {
    findings.iter().map(|(alarm, _)| alarm.as_str()).collect()
}

const HYGIENE_CODES: [Code; 4] = [Code::AlarmMetricAbsent, Code::AlarmStuckInsufficientData, Code::AlarmFlapping, Code::AlarmStateActionMissing];

/// An inventory where every hygiene check has something to find, and something to pass.
fn untidy() -> Inventory {
    let mut inv = scanned();
    covered_instance(&mut inv, "i-tidy");
    inv.metrics.push(metric("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-tidy")]));
    for alarm in inv.alarms.iter_mut() {
        alarm.ok_actions = alarm.alarm_actions.clone();
        alarm.state_changes = Some(vec!["2026-11-24T10:00:00Z".into()]);
    }
    // On a metric nothing publishes (a typo in the dimension value).
    let mut typo = cpu_alarm("i-tidy ", 80.0);
    typo.name = "i-tidy-cpu-typo".into();
    typo.ok_actions = typo.alarm_actions.clone();
    // INSUFFICIENT_DATA since 20 November, and no OK action.
    let mut stuck = cpu_alarm("i-tidy", 80.0);
    stuck.name = "i-tidy-cpu-stuck".into();
    stuck.state = Some(AlarmState::InsufficientData);
    stuck.state_updated_at = Some("2026-11-20T08:00:00Z".into());
    stuck.ok_actions.clear();
    // Six changes in the last week.
    let mut flapping = cpu_alarm("i-tidy", 80.0);
    flapping.name = "i-tidy-cpu-flapping".into();
    flapping.ok_actions = flapping.alarm_actions.clone();
    flapping.state_changes = Some((20..=25).map(|day| format!("2026-11-{day}T12:00:00Z")).collect());
    inv.alarms.extend([typo, stuck, flapping]);
    inv
}

fn all_on() -> AlarmHygiene {
    AlarmHygiene {
        metric_absent: true,
        insufficient_data_days: Some(3),
        flapping: Some(Flapping { max_changes: 4, window_days: 7 }),
        required_actions: vec![ActionState::Ok],
    }
}

#[test]
fn hygiene_is_off_by_default_so_existing_reports_keep_their_findings() {
    let inv = untidy();
    let evaluation = run(&inv);
    assert!(evaluation.findings.iter().all(|f| !HYGIENE_CODES.contains(&f.code)), "{:#?}", evaluation.findings);
    assert!(settings().thresholds.hygiene.is_off(), "the fixture configuration has no alarm_hygiene section");
    let on = evaluate(&inv, &with_hygiene(all_on()), today());
    for code in HYGIENE_CODES {
        assert!(on.findings.iter().any(|f| f.code == code), "{code} once switched on");
    }
}

#[test]
fn hygiene_metric_absent_reports_alarms_whose_metric_is_not_listed() {
    let settings = with_hygiene(AlarmHygiene { metric_absent: true, ..AlarmHygiene::default() });
    let mut inv = scanned();
    covered_instance(&mut inv, "i-1"); // the memory metric is listed, CPU is not
    // The same metric with one more dimension is another metric: still absent.
    inv.metrics.push(metric("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-1"), ("AutoScalingGroupName", "g")]));
    // An alarm in a region the snapshot does not cover is not judged.
    let mut elsewhere = cpu_alarm("i-2", 80.0);
    elsewhere.region = "us-west-2".into();
    inv.alarms.push(elsewhere);
    let found = found(&inv, &settings, today(), Code::AlarmMetricAbsent);
    assert_eq!(alarms_of(&found), ["i-1-cpu"]);
    assert!(found[0].1.contains("AWS/EC2 CPUUtilization (InstanceId=i-1)") && found[0].1.contains(ACCOUNT), "{}", found[0].1);
    assert_eq!(Code::AlarmMetricAbsent.severity(), Severity::Info, "metrics published only on events are absent legitimately");

    // Listed now: nothing to report.
    inv.metrics.push(metric("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-1")]));
    assert_eq!(found_codes(&inv, &settings), 0);
}

fn found_codes(inv: &Inventory, settings: &Settings) -> usize {
    evaluate(inv, settings, today()).findings.iter().filter(|f| HYGIENE_CODES.contains(&f.code)).count()
}

#[test]
fn hygiene_metric_absent_judges_each_metric_of_math_and_anomaly_alarms() {
    let settings = with_hygiene(AlarmHygiene { metric_absent: true, ..AlarmHygiene::default() });
    let mut inv = scanned();
    let f = [("FunctionName", "checkout")];
    inv.metrics.push(metric("AWS/Lambda", "Invocations", &f));
    let mut rate = cpu_alarm("unused", 5.0);
    (rate.name, rate.namespace, rate.metric_name, rate.dimensions) = ("checkout-error-rate".into(), None, None, Dimensions::default());
    rate.metrics = vec![expression("rate", "100 * errors / calls"), query("errors", "AWS/Lambda", "Errors", &f), query("calls", "AWS/Lambda", "Invocations", &f)];
    let mut band = rate.clone();
    band.name = "checkout-invocations-band".into();
    band.metrics = vec![query("m1", "AWS/Lambda", "Invocations", &f), expression("ad1", "ANOMALY_DETECTION_BAND(m1, 2)")];
    band.threshold_metric_id = Some("ad1".into());
    inv.alarms.extend([rate, band]);
    let found = found(&inv, &settings, today(), Code::AlarmMetricAbsent);
    assert_eq!(alarms_of(&found), ["checkout-error-rate"], "the band's one metric is listed");
    assert!(found[0].1.contains("AWS/Lambda Errors (FunctionName=checkout)") && !found[0].1.contains("Invocations"), "{}", found[0].1);
}

#[test]
fn hygiene_stuck_insufficient_data_counts_days_to_as_of() {
    let settings = with_hygiene(AlarmHygiene { insufficient_data_days: Some(3), ..AlarmHygiene::default() });
    let inv = untidy();
    let late = found(&inv, &settings, date!(2026 - 11 - 25), Code::AlarmStuckInsufficientData);
    assert_eq!(alarms_of(&late), ["i-tidy-cpu-stuck"]);
    assert!(late[0].1.contains("since 2026-11-20 (5 days, more than the 3 allowed)"), "{}", late[0].1);
    // Three days is not more than three: judged against --as-of, not the clock.
    assert!(found(&inv, &settings, date!(2026 - 11 - 23), Code::AlarmStuckInsufficientData).is_empty());
    // The same timestamp on an alarm in OK is not stuck.
    let mut ok = inv.clone();
    ok.alarms.iter_mut().for_each(|a| a.state = Some(AlarmState::Ok));
    assert!(found(&ok, &settings, date!(2026 - 11 - 25), Code::AlarmStuckInsufficientData).is_empty());
}

#[test]
fn hygiene_flapping_counts_state_changes_within_the_window() {
    let flapping = |max_changes, window_days| with_hygiene(AlarmHygiene { flapping: Some(Flapping { max_changes, window_days }), ..AlarmHygiene::default() });
    let inv = untidy();
    let found6 = found(&inv, &flapping(4, 7), date!(2026 - 11 - 25), Code::AlarmFlapping);
    assert_eq!(alarms_of(&found6), ["i-tidy-cpu-flapping"]);
    assert!(found6[0].1.contains("changed state 6 times in 7 days (more than the 4 allowed)"), "{}", found6[0].1);
    assert!(found(&inv, &flapping(6, 7), date!(2026 - 11 - 25), Code::AlarmFlapping).is_empty(), "six is not more than six");
    // A two-day window ending 25 November holds two of the six.
    assert!(found(&inv, &flapping(2, 2), date!(2026 - 11 - 25), Code::AlarmFlapping).is_empty());
    assert_eq!(alarms_of(&found(&inv, &flapping(1, 2), date!(2026 - 11 - 25), Code::AlarmFlapping)), ["i-tidy-cpu-flapping"]);
    // History not read (a scan without the switch): not judged.
    let mut unread = inv.clone();
    unread.alarms.iter_mut().for_each(|a| a.state_changes = None);
    assert!(found(&unread, &flapping(1, 7), date!(2026 - 11 - 25), Code::AlarmFlapping).is_empty());
}

#[test]
fn hygiene_required_actions_as_aws_configs_alarm_action_check() {
    let required = |states: Vec<ActionState>| with_hygiene(AlarmHygiene { required_actions: states, ..AlarmHygiene::default() });
    let inv = untidy();
    let ok = found(&inv, &required(vec![ActionState::Ok]), today(), Code::AlarmStateActionMissing);
    assert_eq!(alarms_of(&ok), ["i-tidy-cpu-stuck"]);
    assert!(ok[0].1.contains("has no OK action"), "{}", ok[0].1);
    let both = found(&inv, &required(vec![ActionState::Ok, ActionState::InsufficientData]), today(), Code::AlarmStateActionMissing);
    assert_eq!(both.len(), inv.alarms.len(), "no alarm has an INSUFFICIENT_DATA action");
    assert!(both.iter().any(|(alarm, message)| alarm == "i-tidy-cpu-stuck" && message.contains("has no OK or INSUFFICIENT_DATA action")), "{both:?}");
}

#[test]
fn hygiene_findings_do_not_depend_on_the_inventory_order() {
    let settings = with_hygiene(all_on());
    let inv = untidy();
    let mut reversed = inv.clone();
    reversed.alarms.reverse();
    reversed.metrics.reverse();
    assert_eq!(evaluate(&inv, &settings, today()).findings, evaluate(&reversed, &settings, today()).findings);
}

fn report(format: Format) -> String {
    let evaluation = evaluate(&untidy(), &with_hygiene(all_on()), today());
    Document::coverage(&evaluation, None, "untidy.json", "2026-11-25".into()).render(format, &Options::default())
}

#[test]
fn hygiene_text_report() {
    insta::assert_snapshot!(report(Format::Text));
}

#[test]
fn hygiene_json_report() {
    insta::assert_snapshot!(report(Format::Json));
}

/// A configuration directory: the built-in alert_thresholds.json with `alarm_hygiene` set.
fn config_dir(dir: &Path, hygiene: serde_json::Value) -> std::path::PathBuf {
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/alert_thresholds.json");
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(builtin).unwrap()).unwrap();
    file.as_object_mut().unwrap().remove("$schema");
    file["alarm_hygiene"] = hygiene;
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("alert_thresholds.json"), serde_json::to_string_pretty(&file).unwrap()).unwrap();
    config
}

#[test]
fn hygiene_config_section_is_read_into_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let hygiene = serde_json::json!({"metric_absent": true, "insufficient_data_days": 3, "flapping": {"max_changes": 4, "window_days": 7}, "required_actions": ["OK"]});
    let config = config_dir(dir.path(), hygiene);
    let settings = onwatch::config::load(&onwatch::config::Sources { config_dir: Some(config.clone()), policies_dir: None }).unwrap();
    assert_eq!(settings.thresholds.hygiene, all_on());
    assert_eq!(onwatch::config::load_alarm_hygiene(Some(&config)).unwrap().flapping.map(|f| f.window_days), Some(7), "what scan reads");
}

#[test]
fn hygiene_config_bad_values_exit_2_naming_file_and_json_path() {
    for (hygiene, path) in [
        (serde_json::json!({"flapping": {"max_changes": 4, "window_days": 31}}), "alarm_hygiene.flapping.window_days"),
        (serde_json::json!({"flapping": {"max_changes": 0, "window_days": 7}}), "alarm_hygiene.flapping.max_changes"),
        (serde_json::json!({"insufficient_data_days": 0}), "alarm_hygiene.insufficient_data_days"),
        (serde_json::json!({"required_actions": ["ALARM"]}), "alarm_hygiene.required_actions"),
        (serde_json::json!({"required_actions": ["OK", "OK"]}), "alarm_hygiene.required_actions"),
        (serde_json::json!({"flaping": {"max_changes": 4, "window_days": 7}}), "alarm_hygiene"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        config_dir(dir.path(), hygiene.clone());
        let (code, stdout, stderr) = onwatch_in(dir.path(), &["validate", "--config", "config"]);
        assert_eq!(code, 2, "{hygiene}: {stdout}{stderr}");
        assert!(stderr.contains("alert_thresholds.json") && stderr.contains(path), "{hygiene}: {stderr}");
        // scan reads the same section, and refuses it before any AWS call.
        let (code, _, stderr) = onwatch_in(dir.path(), &["scan", "--config", "config", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--output", "out.json"]);
        assert_eq!(code, 2, "{hygiene}: {stderr}");
        assert!(stderr.contains(path) && !dir.path().join("out.json").exists(), "{hygiene}: {stderr}");
    }
}

#[test]
fn hygiene_snapshot_timestamps_must_be_rfc3339() {
    let mut inv = untidy();
    inv.alarms[1].state_updated_at = Some("last Tuesday".into());
    inv.alarms[2].state_changes = Some(vec!["2026-11-24T10:00:00Z".into(), "2026-11-24".into()]);
    let text = onwatch::snapshot::to_json(&inv);
    let error = onwatch::snapshot::parse("untidy.json", text.as_bytes()).unwrap_err().to_string();
    assert!(error.contains("untidy.json") && error.contains("$.alarms[1].state_updated_at") && error.contains("$.alarms[2].state_changes[1]"), "{error}");
    // And the fields round-trip.
    let inv = untidy();
    assert_eq!(onwatch::snapshot::parse("untidy.json", onwatch::snapshot::to_json(&inv).as_bytes()).unwrap(), inv);
}

#[test]
fn hygiene_explain_prints_each_new_code() {
    let dir = tempfile::tempdir().unwrap();
    for code in HYGIENE_CODES {
        let (exit, stdout, _) = onwatch_in(dir.path(), &["explain", code.as_str()]);
        assert_eq!(exit, 0);
        assert!(stdout.starts_with(&format!("{code} ({})", code.severity().as_str())) && stdout.contains(code.summary()) && stdout.contains(code.fix()), "{stdout}");
    }
    // The listing keeps its columns with the longest code (alarm-stuck-insufficient-data).
    let (_, listing, _) = onwatch_in(dir.path(), &["explain"]);
    let severity_at: std::collections::BTreeSet<usize> = listing.lines().map(|line| line.find(' ').unwrap() + line[line.find(' ').unwrap()..].find(|c: char| c != ' ').unwrap()).collect();
    assert_eq!(severity_at.len(), 1, "{listing}");
}

/// Runs tests/emulator/apply.py (`set-state NAME STATE...`).
fn set_state(emulator: &Emulator, name: &str, states: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/apply.py");
    let output = std::process::Command::new(harness::tool("ONWATCH_PYTHON"))
        .arg(script)
        .args(["--endpoint", &emulator.endpoint, "--region", harness::REGION, "set-state", name])
        .args(states)
        .output()
        .unwrap();
    assert!(output.status.success(), "apply.py failed:\n{}\nemulator:\n{}", harness::text(&output.stderr), emulator.stderr());
}

fn scan(emulator: &Emulator, dir: &Path, extra: &[&str], output: &str) -> Inventory {
    let mut args = vec!["scan", "--endpoint-url", &emulator.endpoint, "--region", harness::REGION, "--output", output];
    args.extend_from_slice(extra);
    let result = harness::onwatch(&args, dir);
    assert_eq!(result.status.code(), Some(0), "scan failed:\n{}\nemulator:\n{}", harness::text(&result.stderr), emulator.stderr());
    onwatch::snapshot::read(&dir.join(output)).unwrap()
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn hygiene_emulator_scan_reads_alarm_state_and_history_and_check_reports_them() {
    let emulator = Emulator::start();
    emulator.seed(&[]);
    set_state(&emulator, "web-cpu", &["ALARM", "OK", "ALARM", "OK", "ALARM"]);
    set_state(&emulator, "orders-db-cpu", &["INSUFFICIENT_DATA"]);
    let dir = tempfile::tempdir().unwrap();
    let today = time::OffsetDateTime::now_utc().date();

    // Without the switch: no history read.
    let plain = scan(&emulator, dir.path(), &[], "plain.json");
    assert!(plain.alarms.iter().all(|a| a.state_changes.is_none()), "no DescribeAlarmHistory without alarm_hygiene.flapping");

    // With it: every alarm's state changes of the window, and StateUpdatedTimestamp.
    let hygiene = serde_json::json!({"metric_absent": true, "insufficient_data_days": 2, "flapping": {"max_changes": 3, "window_days": 7}, "required_actions": ["OK"]});
    config_dir(dir.path(), hygiene);
    let inventory = scan(&emulator, dir.path(), &["--config", "config"], "inventory.json");
    let alarm = |name: &str| inventory.alarms.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no alarm {name}"));
    let web = alarm("web-cpu");
    assert_eq!(web.state_changes.as_ref().map(Vec::len), Some(5), "{web:#?}");
    assert!(web.state_changes.as_ref().unwrap().iter().all(|t| t.starts_with(&today.to_string()) && t.ends_with('Z')), "{:?}", web.state_changes);
    assert_eq!(alarm("web-status").state_changes.as_deref(), Some(&[][..]), "read, and no change");
    let db = alarm("orders-db-cpu");
    assert_eq!(db.state, Some(AlarmState::InsufficientData));
    assert!(db.state_updated_at.as_deref().is_some_and(|t| t.starts_with(&today.to_string())), "{:?}", db.state_updated_at);

    // The check, through the CLI, three days on: stuck more than two days.
    let as_of = (today + time::Duration::days(3)).to_string();
    let result = harness::onwatch(&["check", "--config", "config", "--inventory", "inventory.json", "--format", "json", "--fail-on", "never", "--as-of", &as_of], dir.path());
    assert_eq!(result.status.code(), Some(0), "{}", harness::text(&result.stderr));
    let report: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let of = |code: &str| -> Vec<String> {
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).map(|f| f["alarm"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(of("alarm-flapping"), ["web-cpu"]);
    assert_eq!(of("alarm-stuck-insufficient-data"), ["orders-db-cpu"]);
    let absent = of("alarm-metric-absent");
    assert!(absent.contains(&"gone-cpu".to_string()), "the deleted instance publishes nothing: {absent:?}");
    assert!(!absent.contains(&"web-memory".to_string()), "the agent publishes web's memory: {absent:?}");
    assert!(!of("alarm-state-action-missing").is_empty(), "the seeded alarms have no OK actions");
    // check --live reads the history too, under its own --config.
    let live = harness::onwatch(&["check", "--live", "--config", "config", "--endpoint-url", &emulator.endpoint, "--region", harness::REGION, "--format", "json", "--fail-on", "never"], dir.path());
    assert_eq!(live.status.code(), Some(0), "{}", harness::text(&live.stderr));
    let live: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    let flapping: Vec<&str> = live["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "alarm-flapping").map(|f| f["alarm"].as_str().unwrap()).collect();
    assert_eq!(flapping, ["web-cpu"]);
    // Flapping and stuck are warnings: --fail-on warning fails the check.
    let strict = harness::onwatch(&["check", "--config", "config", "--inventory", "inventory.json", "--fail-on", "warning", "--as-of", &as_of], dir.path());
    assert_eq!(strict.status.code(), Some(1));
}
