//! Human-readable text, coloured only when asked (the CLI asks when stdout is a terminal and
//! NO_COLOR is unset).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{plural, printable, Report};
use crate::findings::Severity;

pub fn render(report: &Report, color: bool) -> String {
    let paint = |style: Style, text: &str| if color { format!("{style}{text}{style:#}") } else { text.to_string() };
    let bold = Style::new().bold();
    let mut out = String::new();
    for finding in &report.evaluation.findings {
        let style = match finding.severity {
            Severity::Error => AnsiColor::Red.on_default().bold(),
            Severity::Warning => AnsiColor::Yellow.on_default().bold(),
            Severity::Info => AnsiColor::Cyan.on_default().bold(),
        };
        let _ = writeln!(out, "{}[{}] {}", paint(style, finding.severity.as_str()), finding.code, paint(bold, &printable(&finding.resource)));
        let _ = writeln!(out, "  {}", printable(&finding.message));
        let _ = writeln!(out, "  fix: {}", printable(&finding.remediation));
        if let Some(location) = &finding.location {
            let address = finding.terraform_address.as_deref().map(|a| format!(" ({})", printable(a))).unwrap_or_default();
            let _ = writeln!(out, "  at: {}{address}", printable(location));
        }
        if let Some(origin) = &finding.origin {
            let _ = writeln!(out, "  policy: {}:{}", printable(&origin.file), origin.line);
        }
        out.push('\n');
    }
    let s = &report.evaluation.summary;
    let _ = writeln!(out, "{}", paint(bold, &format!("Coverage {}% of {} required alarms", s.coverage_percent, s.required)));
    let _ = writeln!(
        out,
        "  {} resources: {} covered, {} missing, {} misconfigured, {} unresolved; {} exempted; {}",
        s.resources,
        s.covered,
        s.missing,
        s.misconfigured,
        s.unresolved,
        s.exempted,
        plural(s.orphaned, "orphaned alarm")
    );
    if s.declared_not_live > 0 {
        let _ = writeln!(out, "  {} covered by alarms declared in Terraform, not yet live", plural(s.declared_not_live, "requirement"));
    }
    if s.declared_resources > 0 {
        let _ = writeln!(out, "  the change adds {} to watch, {} without their alarms", plural(s.declared_resources, "resource"), s.declared_without_alarms);
    }
    if let Some(delta) = report.delta {
        let sign = if delta.coverage_change > 0.0 { "+" } else { "" };
        let _ = writeln!(
            out,
            "  against the baseline: coverage {}% -> {}% ({sign}{} points), {} introduced, {} fixed",
            delta.coverage_before,
            delta.coverage_after,
            delta.coverage_change,
            plural(delta.introduced.len(), "finding"),
            delta.fixed.len()
        );
    }
    if let Some(security) = &s.security {
        let _ = writeln!(
            out,
            "{}",
            paint(bold, &format!("Security detections {}% of {} {} controls", security.coverage_percent, security.required, security.benchmark))
        );
        let uncovered: Vec<String> = security
            .controls
            .iter()
            .filter(|c| !matches!(c.status, crate::check::security::ControlStatus::Covered | crate::check::security::ControlStatus::Exempted))
            .map(|c| printable(&c.control).into_owned())
            .collect();
        let _ = writeln!(
            out,
            "  {} covered, {} exempted; not covered: {}",
            security.covered,
            security.exempted,
            if uncovered.is_empty() { "none".to_string() } else { uncovered.join(", ") }
        );
    }
    if s.discovered_by_metrics > 0 {
        let _ = writeln!(out, "  {} found through their metrics (untagged)", plural(s.discovered_by_metrics, "resource"));
    }
    let errors = s.findings.get(&Severity::Error).copied().unwrap_or(0);
    let warnings = s.findings.get(&Severity::Warning).copied().unwrap_or(0);
    let infos = s.findings.get(&Severity::Info).copied().unwrap_or(0);
    let _ = writeln!(out, "  {}: {errors} error, {warnings} warning, {infos} info", plural(errors + warnings + infos, "finding"));
    if !s.by_type.is_empty() {
        let width = s.by_type.keys().map(String::len).max().unwrap_or(0).max(13);
        let _ = writeln!(out, "\n  {:<width$}  {:>9}  {:>8}  {:>7}  {:>7}  {:>13}  {:>8}  {:>8}", "resource type", "resources", "required", "covered", "missing", "misconfigured", "exempted", "coverage");
        for (name, c) in &s.by_type {
            let _ = writeln!(
                out,
                "  {:<width$}  {:>9}  {:>8}  {:>7}  {:>7}  {:>13}  {:>8}  {:>7}%",
                name, c.resources, c.required, c.covered, c.missing, c.misconfigured, c.exempted, c.coverage_percent
            );
        }
    }
    out
}
