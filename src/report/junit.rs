//! JUnit XML: one test case per requirement (grouped in a suite per resource type), plus a
//! suite for findings that belong to no requirement (orphaned alarms, alarm actions, ...).

use std::{collections::BTreeMap, fmt::Write};

use super::Report;
use crate::check::{RequirementResult, Status};

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

pub fn render(report: &Report) -> String {
    let evaluation = report.evaluation;
    let mut suites: BTreeMap<&str, Vec<&RequirementResult>> = BTreeMap::new();
    for requirement in &evaluation.requirements {
        suites.entry(&requirement.resource_type).or_default().push(requirement);
    }
    let other: Vec<_> = evaluation.findings.iter().filter(|f| f.requirement.is_none()).collect();

    let total = evaluation.requirements.len() + other.len();
    let failed = evaluation.requirements.iter().filter(|r| is_failure(r)).count() + other.len();
    let skipped = evaluation.requirements.iter().filter(|r| r.status == Status::Exempted).count();
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
            let name = format!("{} {}/{}", r.resource, r.policy, r.alarm_rule);
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

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_drops_illegal_characters() {
        assert_eq!(xml("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(xml("bell\u{7}"), "bell\u{FFFD}");
    }
}
