//! Markdown for a pull-request comment: the summary table first, details collapsed, and the
//! whole kept under GitHub's comment limit with an explicit truncation line. Coverage and drift.

use std::fmt::Write;

use super::{plural, printable, Coverage, Document, Options, Printer, Section, TOOL_VERSION};
use crate::{
    check::drift::{DriftItem, DriftReport},
    findings::Severity,
};

pub struct Markdown;

impl Printer for Markdown {
    const NAME: &'static str = "markdown";
    const SECTIONS: &'static [Section] = &[Section::Coverage, Section::Drift];

    fn write(document: &Document, _: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if let Some(coverage) = &document.coverage {
            out.write_all(coverage_markdown(document, coverage, GITHUB_COMMENT_LIMIT).as_bytes())?;
        }
        if let Some(drift) = document.drift {
            out.write_all(drift_markdown(document, drift, GITHUB_COMMENT_LIMIT).as_bytes())?;
        }
        Ok(())
    }
}

/// GitHub rejects comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the closing lines and the truncation notice.
const RESERVE: usize = 512;

/// The per-account rows of a multi-account inventory (none for one account), in at most `budget`
/// characters: an organisation's rows would not fit a comment, so the rest are counted, not shown.
fn accounts_markdown(out: &mut String, rows: &[crate::check::AccountRow], budget: usize) {
    if rows.is_empty() {
        return;
    }
    let start = out.len();
    let _ = writeln!(out, "| Account | Resources | Required | Covered | Missing | Misconfigured | Coverage | Errors | Warnings | Info | Unknown regions |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (shown, row) in rows.iter().enumerate() {
        if out.len() - start > budget {
            let _ = writeln!(out, "\n{} not shown; the JSON report has every row.", plural(rows.len() - shown, "more account"));
            break;
        }
        let count = |severity| row.findings.get(&severity).copied().unwrap_or(0);
        let unknown = if row.unknown_regions.is_empty() { String::new() } else { format!("⚠️ {}", cell(&row.unknown_regions.join(", "))) };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {}% | {} | {} | {} | {unknown} |",
            code_cell(&row.account),
            row.resources,
            row.required,
            row.covered,
            row.missing,
            row.misconfigured,
            row.coverage_percent,
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info)
        );
    }
    out.push('\n');
}

fn coverage_markdown(document: &Document, report: &Coverage, limit: usize) -> String {
    let s = &report.evaluation.summary;
    let mut out = String::new();
    if s.declared_resources > 0 {
        let _ = writeln!(
            out,
            "**This change adds {} to watch, {} without their alarms.**\n",
            plural(s.declared_resources, "resource"),
            s.declared_without_alarms
        );
    }
    if let Some(delta) = report.delta {
        write_delta(&mut out, delta, limit / 4);
    }
    let verdict = match report.evaluation.worst() {
        Some(Severity::Error) => "❌",
        Some(Severity::Warning) => "⚠️",
        _ => "✅",
    };
    let _ = writeln!(out, "## {verdict} onwatch: {}% alarm coverage\n", s.coverage_percent);
    let _ = writeln!(out, "| Required | Covered | Missing | Misconfigured | Unresolved | Exempted | Orphaned alarms |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    if s.declared_not_live > 0 {
        let _ = writeln!(out, "{} covered by alarms declared in Terraform and not yet live.\n", plural(s.declared_not_live, "requirement"));
    }
    let _ = writeln!(out, "| {} | {} | {} | {} | {} | {} | {} |\n", s.required, s.covered, s.missing, s.misconfigured, s.unresolved, s.exempted, s.orphaned);
    if !s.by_type.is_empty() {
        let _ = writeln!(out, "| Resource type | Resources | Required | Covered | Missing | Misconfigured | Coverage |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for (name, c) in &s.by_type {
            let _ = writeln!(out, "| `{name}` | {} | {} | {} | {} | {} | {}% |", c.resources, c.required, c.covered, c.missing, c.misconfigured, c.coverage_percent);
        }
        out.push('\n');
    }
    accounts_markdown(&mut out, &s.accounts, limit / 4);

    if let Some(security) = &s.security {
        let _ = writeln!(out, "### Security detections: {}% of {} `{}` controls\n", security.coverage_percent, security.required, security.benchmark);
        let _ = writeln!(out, "| Account | Control | Status | Metric filter | Alarm |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in &security.controls {
            let status = serde_json::to_value(c.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let mark = if matches!(c.status, crate::check::security::ControlStatus::Covered) { "✅" } else if matches!(c.status, crate::check::security::ControlStatus::Exempted) { "➖" } else { "❌" };
            let _ = writeln!(
                out,
                "| {} | {} {} | {mark} {status} | {} | {} |",
                cell(&c.account),
                cell(&c.control),
                cell(&c.title),
                c.filter.as_deref().map(code_cell).unwrap_or_default(),
                c.alarm.as_deref().map(code_cell).unwrap_or_default()
            );
        }
        out.push('\n');
    }

    let findings = &report.evaluation.findings;
    let mut shown = 0;
    'sections: for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let group: Vec<_> = findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let title = match severity {
            Severity::Error => "Errors",
            Severity::Warning => "Warnings",
            Severity::Info => "Info",
        };
        let header = format!("<details><summary>{title} ({})</summary>\n\n| Code | Resource | Finding | Fix |\n|---|---|---|---|\n", group.len());
        if out.len() + header.len() + RESERVE > limit {
            break;
        }
        out.push_str(&header);
        for finding in group {
            let resource = match &finding.location {
                Some(location) => format!("{} at {}", code_cell(finding.terraform_address.as_deref().unwrap_or(&finding.resource)), code_cell(location)),
                None => code_cell(&finding.resource),
            };
            let row = format!("| `{}` | {} | {} | {} |\n", finding.code, resource, cell(&finding.message), cell(&finding.remediation));
            if out.len() + row.len() + RESERVE > limit {
                out.push_str("\n</details>\n");
                break 'sections;
            }
            out.push_str(&row);
            shown += 1;
        }
        out.push_str("\n</details>\n\n");
    }
    if shown < findings.len() {
        let _ = writeln!(
            out,
            "\n**Truncated:** {} of {} not shown to stay under GitHub's {limit}-character comment limit; the full list is in the JSON or SARIF report.",
            plural(findings.len() - shown, "finding"),
            findings.len()
        );
    }
    let _ = writeln!(out, "\n<sub>onwatch {TOOL_VERSION} · inventory `{}` · exemptions as of {}</sub>", cell(document.inventory), document.as_of);
    out
}

/// The change this run makes against a baseline: coverage, then findings introduced and fixed,
/// within `budget` characters.
fn write_delta(out: &mut String, delta: &crate::check::baseline::Delta, budget: usize) {
    let start = out.len();
    let sign = if delta.coverage_change > 0.0 { "+" } else { "" };
    let verdict = if delta.introduced.iter().any(|f| f.severity == Severity::Error) { "❌" } else { "✅" };
    let _ = writeln!(
        out,
        "## {verdict} This change: coverage {}% → {}% ({sign}{} points), {} introduced, {} fixed\n",
        delta.coverage_before,
        delta.coverage_after,
        delta.coverage_change,
        plural(delta.introduced.len(), "finding"),
        delta.fixed.len()
    );
    for (title, list) in [("Introduced", &delta.introduced), ("Fixed", &delta.fixed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "**{title}**\n");
        let mut shown = 0;
        for finding in list.iter() {
            let row = format!("- `{}` {}: {}\n", finding.code, code_cell(&finding.resource), cell(&finding.message));
            if out.len() - start + row.len() > budget {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        if shown < list.len() {
            let _ = writeln!(out, "- … and {} more", list.len() - shown);
        }
        out.push('\n');
    }
    out.push_str("---\n\n");
}

fn drift_markdown(document: &Document, report: &DriftReport, limit: usize) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if report.has_drift() { "❌ onwatch: drift" } else { "✅ onwatch: no drift" };
    let _ = writeln!(out, "## {verdict}\n");
    let _ = writeln!(out, "| In sync | Missing live | Changed | Dashboard bodies | Unmanaged | Unresolved | Ignored |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(out, "| {} | {} | {} | {} | {} | {} | {} |\n", s.in_sync, s.missing_live, s.changed, s.dashboard_body, s.unmanaged, s.unresolved, s.ignored);
    let mut shown = 0;
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let group: Vec<&DriftItem> = report.items.iter().filter(|i| i.finding.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let title = match severity {
            Severity::Error => "Drift",
            Severity::Warning => "Warnings",
            Severity::Info => "Not compared",
        };
        let _ = writeln!(out, "<details><summary>{title} ({})</summary>\n", group.len());
        for item in group {
            let entry = drift_entry(item);
            if out.len() + entry.len() + RESERVE > limit {
                break;
            }
            out.push_str(&entry);
            shown += 1;
        }
        out.push_str("\n</details>\n\n");
    }
    if shown < report.items.len() {
        let _ = writeln!(out, "**Truncated:** {} of {} findings not shown; the full list is in the JSON or SARIF report.\n", report.items.len() - shown, report.items.len());
    }
    let terraform = document.terraform.unwrap_or_default();
    let _ = writeln!(out, "<sub>onwatch {TOOL_VERSION} · terraform `{}` · inventory `{}` · ignore rules as of {}</sub>", cell(terraform), cell(document.inventory), document.as_of);
    out
}

/// One drift finding as a list item: the changed fields, and a dashboard's diff.
fn drift_entry(item: &DriftItem) -> String {
    let mut entry = format!("- `{}` **{}**: {}\n", item.finding.code, cell(item.finding.alarm.as_deref().unwrap_or(&item.finding.resource)), cell(&item.finding.message));
    for change in &item.changes {
        let _ = writeln!(entry, "  - `{}`: declared `{}`, live `{}`", change.field, cell(&change.declared), cell(&change.live));
    }
    if let Some(diff) = &item.diff {
        let _ = writeln!(entry, "\n  ```diff\n{}  ```", diff.lines().map(|l| format!("  {}\n", printable(l).replace("```", "'''"))).collect::<String>());
    }
    entry
}

/// Escapes text for a table cell: no pipes, newlines or HTML can break the table out; other control
/// characters are shown escaped (defect 11).
fn cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => escaped.push_str("\\|"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '`' => escaped.push('\''),
            '\n' | '\r' | '\t' => escaped.push(' '),
            c => super::push_printable(&mut escaped, c),
        }
    }
    escaped
}

fn code_cell(text: &str) -> String {
    format!("`{}`", cell(text).replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<script>`x`"), "a\\|b c&lt;script&gt;'x'");
    }
}
