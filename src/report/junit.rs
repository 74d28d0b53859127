//! JUnit XML: one test case per requirement (grouped in a suite per resource type), plus a
//! suite for findings that belong to no requirement (orphaned alarms, alarm actions, ...).

use std::{collections::BTreeMap, fmt::Write};

use super::{Coverage, Document, Options, Printer, Section};
use crate::check::{RequirementResult, Status};

pub struct Junit;

impl Printer for Junit {
    const NAME: &'static str = "junit";
    const SECTIONS: &'static [Section] = &[Section::Coverage];
    const NEEDS_REQUIREMENTS: bool = true;

    fn write(document: &Document, _: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match &document.coverage {
            Some(coverage) => out.write_all(render(coverage).as_bytes()),
            None => Ok(()),
        }
    }
}

fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            // XML 1.0 cannot carry other control characters at all, even escaped.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

fn is_failure(requirement: &RequirementResult) -> bool {
    matches!(requirement.status, Status::Missing | Status::Misconfigured | Status::Unresolved)
}

fn render(report: &Coverage) -> String {
    let evaluation = report.evaluation;
    let mut suites: BTreeMap<&str, Vec<&RequirementResult>> = BTreeMap::new();
    for requirement in &evaluation.requirements {
        suites.entry(&requirement.resource_type).or_default().push(requirement);
    }
    let other: Vec<_> = evaluation.findings.iter().filter(|f| f.requirement.is_none()).collect();
    let security = security_cases(report);

    let total = evaluation.requirements.len() + other.len() + security.len();
    let failed = evaluation.requirements.iter().filter(|r| is_failure(r)).count()
        + other.len()
        + security.iter().filter(|c| matches!(c.outcome, Outcome::Failed(..))).count();
    let skipped = evaluation.requirements.iter().filter(|r| r.status == Status::Exempted).count()
        + security.iter().filter(|c| matches!(c.outcome, Outcome::Skipped(_))).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"onwatch\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\">");
    for (resource_type, requirements) in &suites {
        let failed = requirements.iter().filter(|r| is_failure(r)).count();
        let skipped = requirements.iter().filter(|r| r.status == Status::Exempted).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\">",
            xml(resource_type),
            requirements.len()
        );
        for r in requirements {
            let name = testcase_name(r);
            let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\"", xml(resource_type), xml(&name));
            match r.status {
                Status::Covered => out.push_str("/>\n"),
                Status::Exempted => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", xml(r.detail.as_deref().unwrap_or("exempted")));
                }
                Status::Missing | Status::Misconfigured | Status::Unresolved => {
                    let message = match r.status {
                        Status::Missing => "required alarm is missing".to_string(),
                        Status::Misconfigured => format!("alarm {} is misconfigured", r.alarm.as_deref().unwrap_or("")),
                        _ => "dimensions could not be resolved".to_string(),
                    };
                    let detail = r.detail.clone().unwrap_or_else(|| message.clone());
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        match r.status {
                            Status::Missing => "missing",
                            Status::Misconfigured => "misconfigured",
                            _ => "unresolved",
                        },
                        xml(&message),
                        xml(&detail)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    if let Some(summary) = &evaluation.summary.security {
        let failed = security.iter().filter(|c| matches!(c.outcome, Outcome::Failed(..))).count();
        let skipped = security.iter().filter(|c| matches!(c.outcome, Outcome::Skipped(_))).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"security controls {}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\">",
            xml(&summary.benchmark),
            security.len()
        );
        for case in &security {
            let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\"", xml(&summary.benchmark), xml(&case.name));
            match &case.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Skipped(why) => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", xml(why));
                }
                Outcome::Failed(kind, why) => {
                    let _ = writeln!(out, ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>", xml(why), xml(why));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    if !other.is_empty() {
        let _ = writeln!(out, "  <testsuite name=\"other findings\" tests=\"{0}\" failures=\"{0}\" errors=\"0\" skipped=\"0\">", other.len());
        for finding in other {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{} {}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                finding.code,
                xml(&finding.resource),
                finding.code,
                finding.code,
                xml(&finding.message),
                xml(&finding.remediation)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

enum Outcome {
    Passed,
    Skipped(String),
    Failed(&'static str, String),
}

struct Case {
    name: String,
    outcome: Outcome,
}

/// Per account: the trail, then each control of the benchmark.
fn security_cases(report: &Coverage) -> Vec<Case> {
    let Some(summary) = &report.evaluation.summary.security else { return Vec::new() };
    let mut cases = Vec::new();
    for log_group in &summary.log_groups {
        let account = crate::model::Arn::parse(log_group).map_or("", |arn| arn.account);
        let trail = report.evaluation.findings.iter().find(|f| f.code == crate::findings::Code::SecurityTrailMissing && &f.resource == log_group);
        cases.push(Case {
            name: format!("{log_group} multi-region CloudTrail trail"),
            outcome: trail.map_or(Outcome::Passed, |f| Outcome::Failed("security-trail-missing", f.message.clone())),
        });
        for control in summary.controls.iter().filter(|c| c.account == account) {
            use crate::check::security::ControlStatus::*;
            let why = || control.detail.clone().unwrap_or_default();
            let outcome = match control.status {
                Covered => Outcome::Passed,
                Exempted => Outcome::Skipped(why()),
                NoTrail => Outcome::Failed("security-trail-missing", why()),
                NotScanned => Outcome::Failed("security-region-not-scanned", why()),
                NoFilter => Outcome::Failed("security-filter-missing", why()),
                NoAlarm => Outcome::Failed("security-alarm-missing", why()),
                Unrouted => Outcome::Failed("security-alarm-unrouted", why()),
            };
            cases.push(Case { name: format!("{account} {} {}", control.control, control.title), outcome });
        }
    }
    cases
}

/// `<resource> <policy>/<rule>`, with `[Dimension=value]` for a fanned-out requirement.
fn testcase_name(r: &RequirementResult) -> String {
    match r.sub_dimensions.as_slice() {
        [] => format!("{} {}/{}", r.resource, r.policy, r.alarm_rule),
        subs => {
            let values: Vec<String> = subs.iter().map(|sub| format!("{}={}", sub.name, sub.value)).collect();
            format!("{} {}/{}[{}]", r.resource, r.policy, r.alarm_rule, values.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_drops_illegal_characters() {
        assert_eq!(xml("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(xml("bell\u{7}"), "bell\u{FFFD}");
    }
}

