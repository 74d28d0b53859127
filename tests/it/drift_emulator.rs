//! End to end on the emulator (issue 6): the Terraform onwatch generates for a seeded account is
//! "applied" to moto through the SDK (tests/emulator/apply.py creates exactly the alarms and
//! dashboards read back from the generated files), then one threshold is changed, one alarm
//! deleted and one added by hand: `onwatch drift` reports exactly those three and exits 1; with
//! no change it exits 0. Needs ONWATCH_MOTO_SERVER and ONWATCH_PYTHON, which scripts/test.sh sets.


use std::{path::Path, process::Command};

use crate::harness::{onwatch, text, tool, Emulator, REGION};
use onwatch::{check::drift, terraform};

fn scan(emulator: &Emulator, dir: &Path, output: &str) -> onwatch::model::Inventory {
    let result = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", output], dir);
    assert_eq!(result.status.code(), Some(0), "scan failed:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
    onwatch::snapshot::read(&dir.join(output)).unwrap()
}

fn edit(emulator: &Emulator, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/apply.py");
    let output = Command::new(tool("ONWATCH_PYTHON")).arg(script).args(["--endpoint", &emulator.endpoint, "--region", REGION]).args(args).output().unwrap();
    assert!(output.status.success(), "apply.py {args:?} failed:\n{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
    text(&output.stdout)
}

/// `drift` against a fresh scan: (exit code, (code, alarm) of every drift finding except unresolved ones).
fn drift(emulator: &Emulator, dir: &Path, scan_name: &str) -> (i32, Vec<(String, String)>, serde_json::Value) {
    scan(emulator, dir, scan_name);
    let result = onwatch(&["drift", "--terraform", "generated", "--inventory", scan_name, "--unmanaged-prefix", "onwatch-", "--format", "json"], dir);
    let report: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap_or_else(|_| panic!("no JSON report:\n{}", text(&result.stderr)));
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] != "drift-unresolved")
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["alarm"].as_str().unwrap_or_default().to_string()))
        .collect();
    found.sort();
    (result.status.code().unwrap_or(-1), found, report)
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn drift_reports_exactly_the_hand_edits_of_an_applied_module() {
    let emulator = Emulator::start();
    emulator.seed(&[]);
    let dir = tempfile::tempdir().unwrap();
    let inventory = scan(&emulator, dir.path(), "before.json");

    let result = onwatch(&["generate", "--inventory", "before.json", "--out", "generated", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(result.status.code(), Some(0), "generate failed:\n{}", text(&result.stderr));

    // The test's "terraform apply": exactly what the generated files declare, resolved by onwatch's reader.
    let declared = terraform::read_dir(&dir.path().join("generated")).unwrap();
    let plan = drift::declared_as_live(&declared, &inventory);
    assert!(plan.skipped.is_empty(), "every generated alarm resolves: {:?}", plan.skipped);
    assert!(plan.alarms.len() >= 5, "the seeded account lacks alarms, so some are generated: {}", plan.alarms.len());
    let dashboards: Vec<serde_json::Value> = declared
        .of_kind(terraform::Kind::Dashboard)
        .map(|d| serde_json::json!({"name": d.name().unwrap().unwrap(), "body": d.string("dashboard_body").unwrap().unwrap()}))
        .collect();
    assert!(!dashboards.is_empty());
    let plan_json = serde_json::json!({"alarms": plan.alarms, "dashboards": dashboards});
    std::fs::write(dir.path().join("plan.json"), plan_json.to_string()).unwrap();
    let plan_path = dir.path().join("plan.json");
    edit(&emulator, &["apply", plan_path.to_str().unwrap()]);

    let (code, found, report) = drift(&emulator, dir.path(), "applied.json");
    assert_eq!(found, Vec::<(String, String)>::new(), "{report:#}");
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["in_sync"].as_u64().unwrap() as usize, plan.alarms.len() + dashboards.len(), "{:#}", report["summary"]);

    let mut names: Vec<&str> = plan.alarms.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    let (changed, deleted) = (names[0], names[1]);
    edit(&emulator, &["set-threshold", changed, "12345"]);
    edit(&emulator, &["delete", deleted]);
    edit(&emulator, &["add", "onwatch-added-by-hand"]);

    let (code, found, report) = drift(&emulator, dir.path(), "edited.json");
    assert_eq!(
        found,
        [
            ("drift-changed".to_string(), changed.to_string()),
            ("drift-missing-live".to_string(), deleted.to_string()),
            ("drift-unmanaged".to_string(), "onwatch-added-by-hand".to_string()),
        ],
        "{report:#}"
    );
    assert_eq!(code, 1);
    let changed_item = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "drift-changed").unwrap();
    assert_eq!(changed_item["changes"].as_array().unwrap().len(), 1, "{changed_item:#}");
    assert_eq!(changed_item["changes"][0]["field"], "threshold");
    assert_eq!(changed_item["changes"][0]["live"], "12345");
}
