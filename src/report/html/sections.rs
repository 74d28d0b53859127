//! The page's sections other than the findings table: the headline figures, the change against a
//! baseline, the coverage charts (inline SVG), the security controls per account, the orphaned and
//! hygiene findings, and the drift summary.

use std::{collections::BTreeMap, fmt::Write};

use super::Esc;
use crate::{
    check::{
        baseline::{BaselineFinding, Delta},
        coverage_percent,
        drift::DriftReport,
        security::ControlStatus,
        Counts, Evaluation,
    },
    findings::{Code, Finding, Severity},
};

/// Findings about the account's upkeep rather than its coverage, listed apart.
const HYGIENE: &[Code] = &[
    Code::OrphanedAlarm,
    Code::AlarmTopicUnknown,
    Code::ExemptionExpired,
    Code::OptOutWithoutReason,
    Code::InvalidThresholdTag,
    Code::UnresolvedDimensions,
    Code::SecurityFilterUnsupported,
    Code::SecurityFilterNoisy,
];

/// Entries listed per group of the hygiene and baseline sections; the table has all of them.
const LISTED: usize = 100;

pub(super) fn check_headline(out: &mut String, evaluation: &Evaluation, inventory: &str, as_of: &str) {
    let s = &evaluation.summary;
    let verdict = match evaluation.worst() {
        Some(Severity::Error) => "error",
        Some(Severity::Warning) => "warning",
        _ => "clean",
    };
    let _ = writeln!(
        out,
        "<header class=\"masthead verdict-{verdict}\">\n<h1>onwatch: <span id=\"summary-coverage_percent\">{}</span>% alarm coverage</h1>\n\
         <p class=\"meta\">inventory <code>{}</code> · exemptions as of {}</p>\n</header>",
        s.coverage_percent,
        Esc(inventory),
        Esc(as_of)
    );
    let figures = [
        ("resources", "Resources", s.resources),
        ("required", "Required alarms", s.required),
        ("covered", "Covered", s.covered),
        ("missing", "Missing", s.missing),
        ("misconfigured", "Misconfigured", s.misconfigured),
        ("unresolved", "Unresolved", s.unresolved),
        ("exempted", "Exempted", s.exempted),
        ("orphaned", "Orphaned alarms", s.orphaned),
    ];
    push_figures(out, &figures);
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let count = s.findings.get(&severity).copied().unwrap_or(0);
        let name = severity.as_str();
        let _ = writeln!(out, "<div class=\"figure sev-{name}\"><dt>Findings: {name}</dt><dd id=\"summary-findings-{name}\">{count}</dd></div>");
    }
    out.push_str("</dl>\n");
    if s.declared_not_live > 0 {
        let _ = writeln!(out, "<p>{} requirements covered by alarms declared in Terraform and not yet live.</p>", s.declared_not_live);
    }
    if s.discovered_by_metrics > 0 {
        let _ = writeln!(out, "<p>{} resources found through their metrics (the Tagging API does not list them).</p>", s.discovered_by_metrics);
    }
    out.push_str("</section>\n");
}

/// Opens the summary section with its figures, each with the id `summary-FIELD` of its JSON field.
fn push_figures(out: &mut String, figures: &[(&str, &str, usize)]) {
    out.push_str("<section id=\"summary\" aria-labelledby=\"summary-title\">\n<h2 id=\"summary-title\">Summary</h2>\n<dl class=\"figures\">\n");
    for (field, label, value) in figures {
        let _ = writeln!(out, "<div class=\"figure figure-{field}\"><dt>{label}</dt><dd id=\"summary-{field}\">{value}</dd></div>");
    }
}

pub(super) fn delta(out: &mut String, delta: &Delta) {
    let sign = if delta.coverage_change > 0.0 { "+" } else { "" };
    let _ = writeln!(
        out,
        "<section id=\"delta\" aria-labelledby=\"delta-title\">\n<h2 id=\"delta-title\">Against the baseline</h2>\n\
         <p class=\"delta\">Coverage <span id=\"delta-coverage_before\">{}</span>% → <span id=\"delta-coverage_after\">{}</span>% \
         (<span id=\"delta-coverage_change\">{sign}{}</span> points); covered {} → {} of {} → {} required; \
         <span id=\"delta-introduced\">{}</span> introduced, <span id=\"delta-fixed\">{}</span> fixed.</p>",
        delta.coverage_before,
        delta.coverage_after,
        delta.coverage_change,
        delta.covered_before,
        delta.covered_after,
        delta.required_before,
        delta.required_after,
        delta.introduced.len(),
        delta.fixed.len()
    );
    for (title, list) in [("Introduced", &delta.introduced), ("Fixed", &delta.fixed)] {
        if !list.is_empty() {
            let _ = writeln!(out, "<details class=\"group\"><summary>{title} ({})</summary>\n<ul>", list.len());
            for finding in list.iter().take(LISTED) {
                push_baseline_item(out, finding);
            }
            push_more(out, list.len());
            out.push_str("</ul></details>\n");
        }
    }
    out.push_str("</section>\n");
}

fn push_baseline_item(out: &mut String, finding: &BaselineFinding) {
    let _ = writeln!(
        out,
        "<li><span class=\"sev sev-{}\">{}</span> <code>{}</code> <span class=\"name\">{}</span>: {}</li>",
        finding.severity.as_str(),
        finding.severity.as_str(),
        finding.code,
        Esc(&finding.resource),
        Esc(&finding.message)
    );
}

fn push_more(out: &mut String, total: usize) {
    if total > LISTED {
        let _ = writeln!(out, "<li class=\"more\">… and {} more (the findings table has them all)</li>", total - LISTED);
    }
}

/// Coverage by resource type, by account and by region. Accounts and regions come from the
/// requirement records, which an evaluation made without them lacks.
pub(super) fn coverage_charts(out: &mut String, evaluation: &Evaluation) {
    let s = &evaluation.summary;
    out.push_str("<section id=\"coverage\" aria-labelledby=\"coverage-title\">\n<h2 id=\"coverage-title\">Coverage</h2>\n");
    out.push_str(
        "<p class=\"legend\"><span class=\"key covered\"></span>covered <span class=\"key misconfigured\"></span>misconfigured \
         <span class=\"key missing\"></span>missing <span class=\"key unresolved\"></span>unresolved</p>\n",
    );
    bar_chart(out, "by-type", "By resource type", s.by_type.iter().map(|(name, counts)| (name.as_str(), counts.clone())));
    if evaluation.requirements.is_empty() && s.required > 0 {
        out.push_str("<p class=\"empty\">Coverage by account and by region needs the requirement records, which this evaluation did not keep.</p>\n");
    } else {
        let (by_account, by_region) = counts_by_place(evaluation);
        bar_chart(out, "by-account", "By account", by_account.into_iter());
        bar_chart(out, "by-region", "By region", by_region.into_iter());
    }
    out.push_str("</section>\n");
}

fn counts_by_place(evaluation: &Evaluation) -> (BTreeMap<&str, Counts>, BTreeMap<&str, Counts>) {
    let (mut by_account, mut by_region) = (BTreeMap::<&str, Counts>::new(), BTreeMap::<&str, Counts>::new());
    for requirement in &evaluation.requirements {
        by_account.entry(requirement.account.as_str()).or_default().add(requirement.status);
        by_region.entry(requirement.region.as_str()).or_default().add(requirement.status);
    }
    for counts in by_account.values_mut().chain(by_region.values_mut()) {
        counts.coverage_percent = coverage_percent(counts.covered, counts.required);
    }
    (by_account, by_region)
}

/// One horizontal bar per group: covered, misconfigured, missing and unresolved as shares of the
/// group's required alarms, drawn in a 1000-unit-wide SVG that stretches to the row.
fn bar_chart<'a>(out: &mut String, id: &str, title: &str, groups: impl Iterator<Item = (&'a str, Counts)>) {
    let _ = writeln!(out, "<figure class=\"chart\" id=\"chart-{id}\">\n<figcaption>{title}</figcaption>");
    let mut any = false;
    for (name, counts) in groups {
        any = true;
        let label = if name.is_empty() { "(none)" } else { name };
        let _ = write!(
            out,
            "<div class=\"bar\"><span class=\"label\">{}</span><svg viewBox=\"0 0 1000 20\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}: {}% of {} covered\">",
            Esc(label),
            Esc(label),
            counts.coverage_percent,
            counts.required
        );
        let mut x = 0;
        for (class, count) in [("covered", counts.covered), ("misconfigured", counts.misconfigured), ("missing", counts.missing), ("unresolved", counts.unresolved)] {
            if count == 0 {
                continue;
            }
            let width = count * 1000 / counts.required.max(1);
            let _ = write!(out, "<rect class=\"{class}\" x=\"{x}\" y=\"0\" width=\"{width}\" height=\"20\"><title>{class}: {count}</title></rect>");
            x += width;
        }
        if counts.required == 0 {
            out.push_str("</svg><span class=\"value\">nothing required</span></div>\n");
        } else {
            let _ = writeln!(out, "</svg><span class=\"value\">{}% · {} of {}</span></div>", counts.coverage_percent, counts.covered, counts.required);
        }
    }
    if !any {
        out.push_str("<p class=\"empty\">Nothing required.</p>\n");
    }
    out.push_str("</figure>\n");
}

/// One row per account of a multi-account inventory (no section for one account). Each cell has
/// the `data-field` of its JSON field, so the browser test can hold the page to the JSON report.
pub(super) fn accounts(out: &mut String, evaluation: &Evaluation) {
    let rows = &evaluation.summary.accounts;
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"accounts\" aria-labelledby=\"accounts-title\">\n<h2 id=\"accounts-title\">By account</h2>\n\
         <div class=\"table-wrap\"><table class=\"controls\" id=\"accounts-table\">\n<thead><tr><th scope=\"col\">Account</th>\
         <th scope=\"col\">Resources</th><th scope=\"col\">Required</th><th scope=\"col\">Covered</th><th scope=\"col\">Missing</th>\
         <th scope=\"col\">Misconfigured</th><th scope=\"col\">Coverage</th><th scope=\"col\">Errors</th><th scope=\"col\">Warnings</th>\
         <th scope=\"col\">Info</th><th scope=\"col\">Unknown regions</th></tr></thead><tbody>"
    );
    for row in rows {
        let account = if row.account.is_empty() { "(none)" } else { &row.account };
        let _ = write!(out, "<tr><th scope=\"row\" data-label=\"Account\" data-field=\"account\"><code>{}</code></th>", Esc(account));
        for (label, field, value) in [
            ("Resources", "resources", row.resources),
            ("Required", "required", row.required),
            ("Covered", "covered", row.covered),
            ("Missing", "missing", row.missing),
            ("Misconfigured", "misconfigured", row.misconfigured),
        ] {
            let _ = write!(out, "<td data-label=\"{label}\" data-field=\"{field}\">{value}</td>");
        }
        let _ = write!(out, "<td data-label=\"Coverage\" data-field=\"coverage_percent\">{}%</td>", row.coverage_percent);
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            let name = severity.as_str();
            let count = row.findings.get(&severity).copied().unwrap_or(0);
            let label = match severity {
                Severity::Error => "Errors",
                Severity::Warning => "Warnings",
                Severity::Info => "Info",
            };
            let _ = write!(out, "<td data-label=\"{label}\" data-field=\"findings-{name}\" class=\"sev-{name}\">{count}</td>");
        }
        let unknown = if row.unknown_regions.is_empty() {
            "—".to_string()
        } else {
            format!("<span class=\"status uncovered\">{}</span>", Esc(&row.unknown_regions.join(", ")))
        };
        let _ = writeln!(out, "<td data-label=\"Unknown regions\" data-field=\"unknown_regions\">{unknown}</td></tr>");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// The benchmark's controls, one table per account.
pub(super) fn security(out: &mut String, evaluation: &Evaluation) {
    let Some(security) = &evaluation.summary.security else {
        return;
    };
    let _ = writeln!(
        out,
        "<section id=\"security\" aria-labelledby=\"security-title\">\n<h2 id=\"security-title\">Security detections</h2>\n\
         <p><span id=\"security-coverage_percent\">{}</span>% of {} <code>{}</code> controls covered ({} exempted).</p>",
        security.coverage_percent,
        security.required,
        Esc(&security.benchmark),
        security.exempted
    );
    let mut by_account: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for control in &security.controls {
        by_account.entry(control.account.as_str()).or_default().push(control);
    }
    for (account, controls) in by_account {
        let covered = controls.iter().filter(|c| c.status == ControlStatus::Covered).count();
        let _ = writeln!(
            out,
            "<h3>Account {}: {covered} of {} covered</h3>\n<div class=\"table-wrap\"><table class=\"controls\">\n\
             <thead><tr><th scope=\"col\">Control</th><th scope=\"col\">Status</th><th scope=\"col\">Metric filter</th><th scope=\"col\">Alarm</th></tr></thead><tbody>",
            Esc(account),
            controls.len()
        );
        for c in controls {
            let status = serde_json::to_value(c.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let class = match c.status {
                ControlStatus::Covered => "covered",
                ControlStatus::Exempted => "exempted",
                _ => "uncovered",
            };
            let _ = writeln!(
                out,
                "<tr><td data-label=\"Control\">{} {}</td><td data-label=\"Status\"><span class=\"status {class}\">{status}</span></td>\
                 <td data-label=\"Metric filter\">{}</td><td data-label=\"Alarm\">{}</td></tr>",
                Esc(&c.control),
                Esc(&c.title),
                Esc(c.filter.as_deref().unwrap_or("—")),
                Esc(c.alarm.as_deref().unwrap_or("—"))
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");
}

/// Orphaned alarms and the other upkeep findings, grouped by code.
pub(super) fn hygiene(out: &mut String, findings: &[Finding]) {
    out.push_str("<section id=\"hygiene\" aria-labelledby=\"hygiene-title\">\n<h2 id=\"hygiene-title\">Orphaned alarms and hygiene</h2>\n");
    let mut any = false;
    for code in HYGIENE {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.code == *code).collect();
        if group.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(out, "<details class=\"group\" id=\"hygiene-{code}\"><summary><code>{code}</code> ({}): {}</summary>\n<ul>", group.len(), Esc(code.summary()));
        for finding in group.iter().take(LISTED) {
            let alarm = finding.alarm.as_deref().map(|alarm| format!(" (alarm {})", Esc(alarm))).unwrap_or_default();
            let _ = writeln!(out, "<li><span class=\"name\">{}</span>{alarm}: {}</li>", Esc(&finding.resource), Esc(&finding.message));
        }
        push_more(out, group.len());
        out.push_str("</ul></details>\n");
    }
    if !any {
        out.push_str("<p class=\"empty\">None.</p>\n");
    }
    out.push_str("</section>\n");
}

pub(super) fn drift_headline(out: &mut String, report: &DriftReport, terraform: &str, inventory: &str, as_of: &str) {
    let s = &report.summary;
    let (class, verdict) = if report.has_drift() { ("error", "drift") } else { ("clean", "no drift") };
    let _ = writeln!(
        out,
        "<header class=\"masthead verdict-{class}\">\n<h1>onwatch: {verdict}</h1>\n<p class=\"meta\">terraform <code>{}</code> · inventory <code>{}</code> · ignore rules as of {}</p>\n</header>",
        Esc(terraform),
        Esc(inventory),
        Esc(as_of)
    );
    let figures = [
        ("declared_alarms", "Declared alarms", s.declared_alarms),
        ("declared_dashboards", "Declared dashboards", s.declared_dashboards),
        ("in_sync", "In sync", s.in_sync),
        ("missing_live", "Missing live", s.missing_live),
        ("changed", "Changed", s.changed),
        ("dashboard_body", "Dashboard bodies differ", s.dashboard_body),
        ("unmanaged", "Unmanaged", s.unmanaged),
        ("unresolved", "Unresolved", s.unresolved),
        ("ignored", "Ignored", s.ignored),
    ];
    push_figures(out, &figures);
    out.push_str("</dl>\n");
    let _ = writeln!(out, "<p>{} Terraform files read; {} live alarms and {} live dashboards.</p>", s.terraform_files, s.live_alarms, s.live_dashboards);
    if s.ignore_expired > 0 {
        let _ = writeln!(out, "<p>{} expired ignore rules (listed below).</p>", s.ignore_expired);
    }
    out.push_str("</section>\n");
}
