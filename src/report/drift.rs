//! Drift report printers: text, JSON, Markdown (pull-request comment) and SARIF (through the
//! coverage report's SARIF printer, since drift findings are findings).

use std::fmt::Write;

use serde::Serialize;

use crate::{
    check::{
        drift::{DriftItem, DriftReport, DriftSummary},
        Evaluation,
    },
    findings::Severity,
    report::{markdown::cell, printable, Format, Report, GITHUB_COMMENT_LIMIT, TOOL_NAME, TOOL_VERSION},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftFormat {
    Text,
    Json,
    Markdown,
    Sarif,
    Html,
}

pub struct DriftPrinter<'a> {
    pub report: &'a DriftReport,
    /// The Terraform directory read.
    pub terraform: &'a str,
    /// The inventory, as the user named it.
    pub inventory: &'a str,
    pub as_of: String,
}

impl DriftPrinter<'_> {
    pub fn render(&self, format: DriftFormat) -> String {
        match format {
            DriftFormat::Text => self.text(),
            DriftFormat::Json => self.json(),
            DriftFormat::Markdown => self.markdown(GITHUB_COMMENT_LIMIT),
            DriftFormat::Html => super::html::drift_page(self.report, self.terraform, self.inventory, &self.as_of),
            DriftFormat::Sarif => {
                let evaluation = Evaluation {
                    summary: Default::default(),
                    findings: self.report.items.iter().map(|i| i.finding.clone()).collect(),
                    requirements: Vec::new(),
                };
                Report { evaluation: &evaluation, inventory: self.inventory, as_of: self.as_of.clone(), delta: None }.render(Format::Sarif, false)
            }
        }
    }

    fn json(&self) -> String {
        #[derive(Serialize)]
        struct Tool {
            name: &'static str,
            version: &'static str,
        }
        #[derive(Serialize)]
        struct Json<'r> {
            tool: Tool,
            terraform: &'r str,
            inventory: &'r str,
            as_of: &'r str,
            drift: bool,
            summary: &'r DriftSummary,
            findings: &'r [DriftItem],
        }
        let json = Json {
            tool: Tool { name: TOOL_NAME, version: TOOL_VERSION },
            terraform: self.terraform,
            inventory: self.inventory,
            as_of: &self.as_of,
            drift: self.report.has_drift(),
            summary: &self.report.summary,
            findings: &self.report.items,
        };
        serde_json::to_string_pretty(&json).expect("reports serialize") + "\n"
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for item in &self.report.items {
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
        let s = &self.report.summary;
        let verdict = if self.report.has_drift() { "Drift" } else { "No drift" };
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

    fn markdown(&self, limit: usize) -> String {
        let s = &self.report.summary;
        let mut out = String::new();
        let verdict = if self.report.has_drift() { "❌ onwatch: drift" } else { "✅ onwatch: no drift" };
        let _ = writeln!(out, "## {verdict}\n");
        let _ = writeln!(out, "| In sync | Missing live | Changed | Dashboard bodies | Unmanaged | Unresolved | Ignored |");
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(out, "| {} | {} | {} | {} | {} | {} | {} |\n", s.in_sync, s.missing_live, s.changed, s.dashboard_body, s.unmanaged, s.unresolved, s.ignored);
        let mut shown = 0;
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            let group: Vec<&DriftItem> = self.report.items.iter().filter(|i| i.finding.severity == severity).collect();
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
                let mut entry = format!("- `{}` **{}**: {}\n", item.finding.code, cell(item.finding.alarm.as_deref().unwrap_or(&item.finding.resource)), cell(&item.finding.message));
                for change in &item.changes {
                    let _ = writeln!(entry, "  - `{}`: declared `{}`, live `{}`", change.field, cell(&change.declared), cell(&change.live));
                }
                if let Some(diff) = &item.diff {
                    let _ = writeln!(entry, "\n  ```diff\n{}  ```", diff.lines().map(|l| format!("  {}\n", printable(l).replace("```", "'''"))).collect::<String>());
                }
                if out.len() + entry.len() + 512 > limit {
                    break;
                }
                out.push_str(&entry);
                shown += 1;
            }
            out.push_str("\n</details>\n\n");
        }
        if shown < self.report.items.len() {
            let _ = writeln!(out, "**Truncated:** {} of {} findings not shown; the full list is in the JSON or SARIF report.\n", self.report.items.len() - shown, self.report.items.len());
        }
        let _ = writeln!(out, "<sub>onwatch {TOOL_VERSION} · terraform `{}` · inventory `{}` · ignore rules as of {}</sub>", cell(self.terraform), cell(self.inventory), self.as_of);
        out
    }
}
