//! SARIF 2.1.0 for GitHub code scanning. Findings with a policy behind them point at the
//! policy file and line; the others at the inventory file. Every code is a rule.

use serde_json::{json, Value};

use super::{Report, INFORMATION_URI, TOOL_NAME, TOOL_VERSION};
use crate::findings::{Code, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Built-in files have no path in the user's repository; report them by their conventional one.
fn artifact_uri(file: &str) -> String {
    file.strip_prefix("<built-in>/").unwrap_or(file).replace('\\', "/")
}

pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str().split('-').map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": format!("{} {}", code.summary(), code.fix()) },
                "help": { "text": code.fix() },
                "helpUri": format!("{INFORMATION_URI}#finding-codes"),
                "defaultConfiguration": { "level": level(code.severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .evaluation
        .findings
        .iter()
        .map(|finding| {
            let rule_index = Code::ALL.iter().position(|c| *c == finding.code).unwrap();
            // A declared resource's finding points at its block, so code scanning annotates the
            // pull request's diff there; others at the policy line, else the inventory.
            let declared = finding.location.as_deref().map(|location| match location.rsplit_once(':') {
                Some((file, line)) if line.parse::<usize>().is_ok() => (artifact_uri(file), line.parse::<usize>().unwrap_or(1).max(1)),
                _ => (artifact_uri(location), 1),
            });
            let (uri, line) = match (declared, &finding.origin) {
                (Some(declared), _) => declared,
                (None, Some(origin)) => (artifact_uri(&origin.file), origin.line.max(1)),
                (None, None) => (artifact_uri(report.inventory), 1),
            };
            json!({
                "ruleId": finding.code.as_str(),
                "ruleIndex": rule_index,
                "level": level(finding.severity),
                "message": { "text": format!("{}: {} Fix: {}", finding.resource, finding.message, finding.remediation) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": line }
                    },
                    "logicalLocations": [{
                        "fullyQualifiedName": finding.terraform_address.as_deref().unwrap_or(&finding.resource),
                        "kind": "resource"
                    }]
                }],
                "partialFingerprints": { "onwatchFingerprint/v1": finding.fingerprint },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": TOOL_NAME,
                "version": TOOL_VERSION,
                "semanticVersion": TOOL_VERSION,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "automationDetails": { "id": "onwatch/coverage/" },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    text
}
