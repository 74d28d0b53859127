//! SARIF 2.1.0 for GitHub code scanning: one run per section. Coverage findings with a policy
//! behind them point at the policy file and line, drift findings at the Terraform file and line
//! that declares the object; the others at the inventory file. Every code is a rule.

use serde_json::{json, Value};

use super::{Document, Options, Printer, Section, INFORMATION_URI, TOOL_NAME, TOOL_VERSION};
use crate::{
    check::drift,
    findings::{Code, Finding, Severity},
};

pub struct Sarif;

impl Printer for Sarif {
    const NAME: &'static str = "sarif";
    const SECTIONS: &'static [Section] = &[Section::Coverage, Section::Drift];

    fn write(document: &Document, _: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut runs = Vec::new();
        if let Some(coverage) = &document.coverage {
            let results = coverage.evaluation.findings.iter().map(|finding| result(finding, Code::ALL, document.inventory));
            runs.push(run(Code::ALL, results.collect(), "onwatch/coverage/"));
        }
        if let Some(report) = document.drift {
            // The finding's message already names each changed field with both values.
            let results = report.items.iter().map(|item| result(&item.finding, &drift::CODES, document.inventory));
            runs.push(run(&drift::CODES, results.collect(), "onwatch/drift/"));
        }
        let log = crate::json::sorted(json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": runs,
        }));
        serde_json::to_writer_pretty(&mut *out, &log)?;
        out.write_all(b"\n")
    }
}

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

fn rule(code: &Code) -> Value {
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
}

/// One result of a run whose rules are `rules`.
fn result(finding: &Finding, rules: &[Code], inventory: &str) -> Value {
    let rule_index = rules.iter().position(|c| *c == finding.code).expect("every finding's code is a rule of its run");
    // A declared resource's finding points at its block, so code scanning annotates the pull
    // request's diff there; others at the policy line, else the inventory.
    let declared = finding.location.as_deref().map(|location| match location.rsplit_once(':') {
        Some((file, line)) if line.parse::<usize>().is_ok() => (artifact_uri(file), line.parse::<usize>().unwrap_or(1).max(1)),
        _ => (artifact_uri(location), 1),
    });
    let (uri, line) = match (declared, &finding.origin) {
        (Some(declared), _) => declared,
        (None, Some(origin)) => (artifact_uri(&origin.file), origin.line.max(1)),
        (None, None) => (artifact_uri(inventory), 1),
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
}

fn run(rules: &[Code], results: Vec<Value>, automation_id: &str) -> Value {
    json!({
        "tool": { "driver": {
            "name": TOOL_NAME,
            "version": TOOL_VERSION,
            "semanticVersion": TOOL_VERSION,
            "informationUri": INFORMATION_URI,
            "rules": rules.iter().map(rule).collect::<Vec<_>>(),
        }},
        "automationDetails": { "id": automation_id },
        "columnKind": "unicodeCodePoints",
        "results": results,
    })
}
