//! Human-readable text, coloured only when asked (the CLI asks when stdout is a terminal and
//! NO_COLOR is unset): coverage, drift and the audit listing.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{plural, printable, AuditListing, Coverage, Document, Options, Printer, Section};
use crate::{check::drift::DriftReport, findings::Severity};

pub struct Text;

impl Printer for Text {
    const NAME: &'static str = "text";
    const SECTIONS: &'static [Section] = &[Section::Coverage, Section::Drift, Section::Audit];

    fn write(document: &Document, options: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if let Some(coverage) = &document.coverage {
            out.write_all(coverage_text(coverage, options.color).as_bytes())?;
        }
        if let Some(drift) = document.drift {
            out.write_all(drift_text(drift).as_bytes())?;
        }
        if let Some(listing) = &document.audit {
            out.write_all(audit_text(listing).as_bytes())?;
        }
        Ok(())
    }
}

fn coverage_text(report: &Coverage, color: bool) -> String {
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
    accounts_text(&mut out, &s.accounts);
    out
}

/// The per-account rows of a multi-account inventory (none for one account).
fn accounts_text(out: &mut String, rows: &[crate::check::AccountRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {:<12}  {:>9}  {:>8}  {:>7}  {:>7}  {:>13}  {:>8}  {:>6}  {:>8}  {:>4}  unknown regions",
        "account", "resources", "required", "covered", "missing", "misconfigured", "coverage", "errors", "warnings", "info"
    );
    for row in rows {
        let count = |severity| row.findings.get(&severity).copied().unwrap_or(0);
        let unknown = if row.unknown_regions.is_empty() { "-".to_string() } else { row.unknown_regions.join(", ") };
        let _ = writeln!(
            out,
            "  {:<12}  {:>9}  {:>8}  {:>7}  {:>7}  {:>13}  {:>7}%  {:>6}  {:>8}  {:>4}  {}",
            printable(if row.account.is_empty() { "(none)" } else { &row.account }),
            row.resources,
            row.required,
            row.covered,
            row.missing,
            row.misconfigured,
            row.coverage_percent,
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info),
            printable(&unknown)
        );
    }
}

fn drift_text(report: &DriftReport) -> String {
    let mut out = String::new();
    for item in &report.items {
        let f = &item.finding;
        let _ = writeln!(out, "{}[{}] {}", f.severity.as_str(), f.code, printable(&f.resource));
        let _ = writeln!(out, "  {}", printable(&f.message));
        for change in &item.changes {
            let _ = writeln!(out, "    {}: declared {}, live {}", printable(&change.field), printable(&change.declared), printable(&change.live));
        }
        if let Some(diff) = &item.diff {
            for line in diff.lines() {
                let _ = writeln!(out, "    {}", printable(line));
            }
        }
        let _ = writeln!(out, "  fix: {}", printable(&f.remediation));
        if let Some(origin) = &f.origin {
            let _ = writeln!(out, "  at: {}:{}", printable(&origin.file), origin.line);
        }
        out.push('\n');
    }
    let s = &report.summary;
    let verdict = if report.has_drift() { "Drift" } else { "No drift" };
    let _ = writeln!(
        out,
        "{verdict}: {} declared alarms and {} dashboards in {} files; {} in sync, {} missing live, {} changed, {} dashboard bodies differ, {} unmanaged; {} unresolved, {} ignored",
        s.declared_alarms, s.declared_dashboards, s.terraform_files, s.in_sync, s.missing_live, s.changed, s.dashboard_body, s.unmanaged, s.unresolved, s.ignored
    );
    if s.ignore_expired > 0 {
        let _ = writeln!(out, "  {} expired ignore rules (reported above)", s.ignore_expired);
    }
    out
}

/// The audit listing for people: one line per record, oldest first.
fn audit_text(listing: &AuditListing) -> String {
    let (records, table) = (listing.records, listing.table);
    let mut out = String::new();
    if records.is_empty() {
        let _ = writeln!(out, "no audit records in {table} match");
        return out;
    }
    let alarm_name = |arn: &str| arn.rsplit_once(":alarm:").map_or(arn, |(_, name)| name).to_string();
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            let change = if r.old_state.is_empty() { r.new_state.clone() } else { format!("{} -> {}", r.old_state, r.new_state) };
            [one_line(&r.time), one_line(&r.kind), one_line(&change), one_line(&alarm_name(&r.alarm)), one_line(&r.resource)]
        })
        .collect();
    let headers = ["TIME", "KIND", "STATE", "ALARM", "RESOURCE"];
    let widths: Vec<usize> =
        (0..headers.len()).map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0).max(headers[i].len())).collect();
    let line = |cells: [&str; 5]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cells.len() {
                let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
            } else {
                text.push_str(cell);
            }
        }
        text.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(headers));
    for (row, record) in rows.iter().zip(records) {
        let _ = writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        if !record.reason.is_empty() {
            let _ = writeln!(out, "    {}", one_line(&record.reason));
        }
    }
    let _ = writeln!(out, "{} record{} from {table}", records.len(), if records.len() == 1 { "" } else { "s" });
    out
}

/// Text from AWS on one line, control characters shown as spaces, so a reason cannot forge lines.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditRecord, Query};

    fn listing_text(records: &[AuditRecord]) -> String {
        audit_text(&AuditListing { records, table: "audit", region: "us-east-1", query: &Query::default() })
    }

    #[test]
    fn audit_text_keeps_one_record_per_line() {
        let mut record = AuditRecord { time: "t".into(), new_state: "ALARM".into(), alarm: "arn:aws:cloudwatch:r:1:alarm:x".into(), ..Default::default() };
        record.reason = "line one\nforged line".into();
        let text = listing_text(&[record]);
        assert!(text.contains("    line one forged line\n"), "{text}");
        assert!(text.lines().nth(1).unwrap().contains("  x"), "{text}");
        assert_eq!(listing_text(&[]), "no audit records in audit match\n");
    }
}
