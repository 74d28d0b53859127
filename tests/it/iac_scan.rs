//! The generated module against an IaC security scanner: Checkov (from PyPI; scripts/test.sh
//! installs it) must find nothing to fail for the resource types onwatch writes. The rules that do
//! not fit are skipped in the generated HCL with the reason next to them, and the test pins that
//! list; the scanner's checks for encryption with customer-managed keys, key rotation, PITR, log
//! retention and enabled alarm actions must have run and passed. A module with PITR and key
//! rotation switched off must fail, or the scan proves nothing.


use std::{collections::BTreeSet, path::Path, process::Command};

use serde_json::Value;

fn checkov() -> String {
    std::env::var("ONWATCH_CHECKOV").expect("ONWATCH_CHECKOV is not set: run the suite with scripts/test.sh, which installs Checkov")
}

fn module_dir() -> tempfile::TempDir {
    crate::common::module::example_module(true)
}

/// Runs Checkov on `dir` offline and returns its results.
pub(crate) fn scan(dir: &Path) -> Value {
    let output = Command::new(checkov())
        .args(["--directory"])
        .arg(dir)
        .args(["--framework", "terraform", "--output", "json", "--skip-download"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    // Exit code 1 means failed checks; the JSON says which.
    assert!(matches!(output.status.code(), Some(0 | 1)), "checkov did not run:\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(report["check_type"], "terraform", "{report:#}");
    assert_eq!(report["summary"]["parsing_errors"], 0, "{:#}", report["summary"]);
    report
}

pub(crate) fn checks(report: &Value, kind: &str) -> Vec<(String, String)> {
    report["results"][kind]
        .as_array()
        .map(|list| list.iter().map(|c| (c["check_id"].as_str().unwrap().to_string(), c["resource"].as_str().unwrap().to_string())).collect())
        .unwrap_or_default()
}

/// Rules that do not fit, each skipped in the generated HCL with its reason: a KMS key policy's
/// `"*"` resource means the key itself, and Step Functions' log delivery and X-Ray tracing accept
/// no narrower resource.
const SKIPPED: &[(&str, &str)] = &[
    ("CKV_AWS_109", "aws_iam_policy_document.alerts_key_eu_west_1"),
    ("CKV_AWS_109", "aws_iam_policy_document.alerts_key_us_east_1"),
    ("CKV_AWS_109", "aws_iam_policy_document.audit_key"),
    ("CKV_AWS_111", "aws_iam_policy_document.alerts_key_eu_west_1"),
    ("CKV_AWS_111", "aws_iam_policy_document.alerts_key_us_east_1"),
    ("CKV_AWS_111", "aws_iam_policy_document.audit_key"),
    ("CKV_AWS_111", "aws_iam_policy_document.audit_writer"),
    ("CKV_AWS_356", "aws_iam_policy_document.alerts_key_eu_west_1"),
    ("CKV_AWS_356", "aws_iam_policy_document.alerts_key_us_east_1"),
    ("CKV_AWS_356", "aws_iam_policy_document.audit_key"),
    ("CKV_AWS_356", "aws_iam_policy_document.audit_writer"),
];

/// Checks that must have run and passed, by resource type.
const REQUIRED: &[(&str, &str)] = &[
    ("CKV_AWS_119", "aws_dynamodb_table"),     // encrypted with a customer-managed key
    ("CKV_AWS_28", "aws_dynamodb_table"),      // point-in-time recovery
    ("CKV_AWS_7", "aws_kms_key"),              // key rotation
    ("CKV_AWS_33", "aws_kms_key"),             // no wildcard principal in the key policy
    ("CKV_AWS_158", "aws_cloudwatch_log_group"), // encrypted with KMS
    ("CKV_AWS_338", "aws_cloudwatch_log_group"), // retention of at least a year
    ("CKV_AWS_319", "aws_cloudwatch_metric_alarm"), // alarm actions enabled
    ("CKV_AWS_26", "aws_sns_topic"),           // encrypted
    ("CKV_AWS_27", "aws_sqs_queue"),           // encrypted
    ("CKV_AWS_284", "aws_sfn_state_machine"),  // X-Ray tracing
    ("CKV_AWS_285", "aws_sfn_state_machine"),  // execution history logging
];

#[test]
#[ignore = "conformance: needs Checkov; scripts/test.sh runs it"]
fn the_generated_module_passes_checkov() {
    let dir = module_dir();
    let report = scan(dir.path());
    assert_eq!(checks(&report, "failed_checks"), vec![], "{:#}", report["results"]["failed_checks"]);
    let skipped: BTreeSet<(String, String)> = checks(&report, "skipped_checks").into_iter().collect();
    let expected: BTreeSet<(String, String)> = SKIPPED.iter().map(|(c, r)| (c.to_string(), r.to_string())).collect();
    assert_eq!(skipped, expected, "every skip is a documented one");
    for skip in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skip["check_result"]["suppress_comment"].as_str().unwrap_or_default();
        assert!(reason.trim().len() > 20, "a skip needs its reason: {skip:#}");
    }
    let passed = checks(&report, "passed_checks");
    for (check, resource_type) in REQUIRED {
        let on: Vec<&String> = passed.iter().filter(|(c, r)| c == check && r.starts_with(&format!("{resource_type}."))).map(|(_, r)| r).collect();
        assert!(!on.is_empty(), "{check} did not pass on any {resource_type}");
    }
    // Every alarm of the module was checked, the audit and security ones included.
    let alarms = passed.iter().filter(|(c, _)| c == "CKV_AWS_319").count();
    let declared = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap().matches("resource \"aws_cloudwatch_metric_alarm\"").count())
        .sum::<usize>();
    assert_eq!(alarms, declared);
}

#[test]
#[ignore = "conformance: needs Checkov; scripts/test.sh runs it"]
fn checkov_fails_a_module_without_pitr_or_key_rotation() {
    let dir = module_dir();
    let audit = dir.path().join("audit.tf");
    let text = std::fs::read_to_string(&audit).unwrap();
    let weakened = text.replacen("point_in_time_recovery {\n    enabled = true", "point_in_time_recovery {\n    enabled = false", 1).replacen(
        "enable_key_rotation     = true",
        "enable_key_rotation     = false",
        1,
    );
    assert_ne!(weakened, text);
    std::fs::write(&audit, weakened).unwrap();
    let failed: BTreeSet<String> = checks(&scan(dir.path()), "failed_checks").into_iter().map(|(c, _)| c).collect();
    assert!(failed.contains("CKV_AWS_28") && failed.contains("CKV_AWS_7"), "{failed:?}");
}
