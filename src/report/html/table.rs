//! The findings table: filters by severity, code, resource type and account, a search by name,
//! the first page rendered here, and every row in a JSON data island that `page.js` pages through.
//! A row expands (`<details>`) to the message, the remediation and the policy line (or, for drift,
//! the Terraform declaration) behind it. `page.js` builds its rows exactly as [`push_row`] does.

use std::{borrow::Cow, collections::BTreeMap, fmt::Write};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{island_text, push_json_island, Esc};
use crate::{
    check::{drift::DriftItem, drift::DriftReport, Evaluation},
    findings::{Finding, Severity},
    model::arn::Arn,
};

/// Rows rendered before the script takes over, and per page after.
pub(super) const PAGE_SIZE: usize = 100;

/// Severities in the order the filter lists them; a row holds its severity's index.
const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

/// The words that differ between the check and the drift page.
#[derive(Clone, Copy)]
pub(super) struct Labels {
    pub title: &'static str,
    /// What the origin of a finding is: the policy line, or the Terraform declaration.
    pub origin: &'static str,
    /// What the finding's `requirement` is: the policy rule, or the Terraform address.
    pub requirement: &'static str,
}

impl Labels {
    pub const CHECK: Labels = Labels { title: "Findings", origin: "Required by", requirement: "requires" };
    pub const DRIFT: Labels = Labels { title: "Drift items", origin: "Declared at", requirement: "declared as" };
}

/// One row: a finding, the account it belongs to, and for drift its declaration's details.
pub(super) struct Row<'a> {
    finding: &'a Finding,
    account: &'a str,
    drift: Option<&'a DriftItem>,
}

pub(super) fn check_rows(evaluation: &Evaluation) -> Vec<Row<'_>> {
    // An ARN may hold no account (API Gateway, S3); the requirement records know the resource's.
    let mut accounts: Option<FxHashMap<&str, &str>> = None;
    let mut rows = Vec::with_capacity(evaluation.findings.len());
    for finding in &evaluation.findings {
        let account = match arn_account(&finding.resource) {
            Some(account) => account,
            None => accounts
                .get_or_insert_with(|| evaluation.requirements.iter().map(|r| (r.resource.as_str(), r.account.as_str())).collect())
                .get(finding.resource.as_str())
                .copied()
                .unwrap_or(""),
        };
        rows.push(Row { finding, account, drift: None });
    }
    rows
}

fn arn_account(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|arn| arn.account).filter(|account| !account.is_empty())
}

pub(super) fn drift_rows(report: &DriftReport) -> Vec<Row<'_>> {
    report.items.iter().map(|item| Row { finding: &item.finding, account: arn_account(&item.finding.resource).unwrap_or(""), drift: Some(item) }).collect()
}

/// The distinct values of one filter, sorted, with how many rows have each.
struct Choices<'a>(BTreeMap<&'a str, usize>);

impl<'a> Choices<'a> {
    fn of(rows: &[Row<'a>], value: impl Fn(&Row<'a>) -> &'a str) -> Self {
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(value(row)).or_insert(0) += 1;
        }
        Choices(counts)
    }

    /// The values as the data island lists them.
    fn listed(&self) -> Vec<Cow<'a, str>> {
        self.0.keys().copied().map(island_text).collect()
    }

    fn index(&self) -> FxHashMap<&'a str, usize> {
        self.0.keys().enumerate().map(|(index, value)| (*value, index)).collect()
    }
}

fn resource_type<'a>(row: &Row<'a>) -> &'a str {
    row.finding.resource_type.as_deref().unwrap_or("")
}

/// The section: heading, filters, the count, the first page and the pager.
pub(super) fn render(out: &mut String, rows: &[Row], labels: Labels) {
    let _ = writeln!(out, "<section id=\"findings\" aria-labelledby=\"findings-title\">\n<h2 id=\"findings-title\">{} ({})</h2>", labels.title, rows.len());
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">None.</p>\n</section>\n");
        return;
    }
    filters(out, rows);
    let shown = rows.len().min(PAGE_SIZE);
    let _ = writeln!(out, "<p id=\"findings-count\" aria-live=\"polite\">{}</p>", count_text(shown, rows.len()));
    out.push_str(
        "<div class=\"table-wrap\"><table id=\"findings-table\" data-severity=\"\" data-query=\"\">\n<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Code</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">Account</th><th scope=\"col\">Resource</th></tr></thead>\n<tbody id=\"findings-body\">\n",
    );
    for row in &rows[..shown] {
        push_row(out, row, labels);
    }
    out.push_str("</tbody>\n</table></div>\n");
    let more = if rows.len() > shown { "" } else { " disabled" };
    let _ = writeln!(
        out,
        "<nav class=\"pager\" aria-label=\"Pages\"><button type=\"button\" id=\"page-prev\" disabled>Previous</button>\
         <button type=\"button\" id=\"page-next\"{more}>Next</button></nav>\n</section>"
    );
}

/// Matches the script's wording, so the page reads the same before and after it runs.
fn count_text(shown: usize, total: usize) -> String {
    format!("Showing 1–{shown} of {total}")
}

fn filters(out: &mut String, rows: &[Row]) {
    out.push_str("<form id=\"filters\" class=\"filters\">\n");
    let severities = Choices::of(rows, |row| row.finding.severity.as_str());
    out.push_str("<label>Severity <select name=\"severity\"><option value=\"\">all</option>");
    for (index, severity) in SEVERITIES.iter().enumerate() {
        if let Some(count) = severities.0.get(severity.as_str()) {
            let _ = write!(out, "<option value=\"{index}\">{} ({count})</option>", severity.as_str());
        }
    }
    out.push_str("</select></label>\n");
    select(out, "code", "Code", &Choices::of(rows, |row| row.finding.code.as_str()));
    select(out, "type", "Type", &Choices::of(rows, resource_type));
    select(out, "account", "Account", &Choices::of(rows, |row| row.account));
    out.push_str("<label>Name <input type=\"search\" name=\"q\" placeholder=\"resource or alarm\"></label>\n</form>\n");
}

fn select(out: &mut String, name: &str, label: &str, choices: &Choices) {
    let _ = write!(out, "<label>{label} <select name=\"{name}\"><option value=\"\">all</option>");
    for (index, (value, count)) in choices.0.iter().enumerate() {
        let shown = if value.is_empty() { "(none)" } else { value };
        let _ = write!(out, "<option value=\"{index}\">{} ({count})</option>", Esc(shown));
    }
    out.push_str("</select></label>\n");
}

/// One table row; `page.js` (`rowElement`) builds the same.
fn push_row(out: &mut String, row: &Row, labels: Labels) {
    let f = row.finding;
    let severity = f.severity.as_str();
    let _ = write!(
        out,
        "<tr class=\"sev-{severity}\"><td data-label=\"Severity\"><span class=\"sev\">{severity}</span></td><td data-label=\"Code\"><code>{}</code></td>\
         <td data-label=\"Type\">{}</td><td data-label=\"Account\">{}</td><td data-label=\"Resource\"><details><summary><span class=\"name\">{}</span>",
        f.code,
        Esc(or_dash(resource_type(row))),
        Esc(or_dash(row.account)),
        Esc(&f.resource)
    );
    if let Some(requirement) = &f.requirement {
        let _ = write!(out, "<span class=\"also\">{} {}</span>", labels.requirement, Esc(requirement));
    }
    if let Some(alarm) = &f.alarm {
        let _ = write!(out, "<span class=\"also\">alarm {}</span>", Esc(alarm));
    }
    let _ = write!(out, "</summary><p>{}</p>", Esc(&f.message));
    if let Some(item) = row.drift {
        push_drift_details(out, item);
    }
    let _ = write!(out, "<p><strong>Fix:</strong> {}</p>", Esc(&f.remediation));
    if let Some(origin) = &f.origin {
        let _ = write!(out, "<p><strong>{}:</strong> <code>{}:{}</code></p>", labels.origin, Esc(&origin.file), origin.line);
    }
    out.push_str("</details></td></tr>\n");
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "—"
    } else {
        text
    }
}

/// The Terraform address, the changed fields and the dashboard diff of a drift item.
fn push_drift_details(out: &mut String, item: &DriftItem) {
    if let Some(address) = &item.address {
        let _ = write!(out, "<p><strong>Terraform:</strong> <code>{}</code></p>", Esc(address));
    }
    if !item.changes.is_empty() {
        out.push_str("<table class=\"changes\"><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Declared</th><th scope=\"col\">Live</th></tr></thead><tbody>");
        for change in &item.changes {
            let _ = write!(out, "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", Esc(&change.field), Esc(&change.declared), Esc(&change.live));
        }
        out.push_str("</tbody></table>");
    }
    if let Some(diff) = &item.diff {
        out.push_str("<pre class=\"diff\">");
        for line in diff.lines() {
            let _ = writeln!(out, "<span class=\"{}\">{}</span>", diff_class(line), Esc(line));
        }
        out.push_str("</pre>");
    }
}

/// The class of a unified-diff line; `page.js` (`diffClass`) decides the same way.
fn diff_class(line: &str) -> &'static str {
    match line.as_bytes().first() {
        Some(b'+') => "add",
        Some(b'-') => "del",
        Some(b'@') => "hunk",
        _ => "ctx",
    }
}

/// Everything `page.js` needs, compact: filter values are listed once and rows hold their
/// indexes; remediations and origin files, which repeat, are interned in `texts`.
#[derive(Serialize)]
struct Data<'a> {
    page_size: usize,
    origin_label: &'static str,
    requirement_label: &'static str,
    severities: [&'static str; 3],
    codes: Vec<Cow<'a, str>>,
    types: Vec<Cow<'a, str>>,
    accounts: Vec<Cow<'a, str>>,
    texts: Vec<Cow<'a, str>>,
    /// `[severity, code, type, account, resource, alarm, message, remediation, file, line, drift,
    /// requirement]`, `file` -1 when there is no origin.
    rows: Vec<DataRow<'a>>,
}

type DataRow<'a> = (usize, usize, usize, usize, Cow<'a, str>, Option<Cow<'a, str>>, Cow<'a, str>, usize, i64, usize, Option<DriftData<'a>>, Option<Cow<'a, str>>);

#[derive(Serialize)]
struct DriftData<'a> {
    address: Option<Cow<'a, str>>,
    /// `[field, declared, live]`
    changes: Vec<[Cow<'a, str>; 3]>,
    /// The dashboard diff, line by line.
    diff: Option<Vec<Cow<'a, str>>>,
}

/// Appends the data island with every row.
pub(super) fn push_data(out: &mut String, rows: &[Row], labels: Labels) {
    if rows.is_empty() {
        return;
    }
    let codes = Choices::of(rows, |row| row.finding.code.as_str());
    let types = Choices::of(rows, resource_type);
    let accounts = Choices::of(rows, |row| row.account);
    let (code_index, type_index, account_index) = (codes.index(), types.index(), accounts.index());
    let mut texts = Interned::default();
    let data_rows = rows
        .iter()
        .map(|row| {
            let f = row.finding;
            let severity = SEVERITIES.iter().position(|s| *s == f.severity).expect("every severity is listed");
            let origin = f.origin.as_ref().map_or((-1, 0), |origin| (texts.index(&origin.file) as i64, origin.line));
            (
                severity,
                code_index[f.code.as_str()],
                type_index[resource_type(row)],
                account_index[row.account],
                island_text(&f.resource),
                f.alarm.as_deref().map(island_text),
                island_text(&f.message),
                texts.index(&f.remediation),
                origin.0,
                origin.1,
                row.drift.map(drift_data),
                f.requirement.as_deref().map(island_text),
            )
        })
        .collect();
    let data = Data {
        page_size: PAGE_SIZE,
        origin_label: labels.origin,
        requirement_label: labels.requirement,
        severities: SEVERITIES.map(Severity::as_str),
        codes: codes.listed(),
        types: types.listed(),
        accounts: accounts.listed(),
        texts: texts.values,
        rows: data_rows,
    };
    push_json_island(out, "findings-data", &serde_json::to_string(&data).expect("the data island serializes"));
}

fn drift_data(item: &DriftItem) -> DriftData<'_> {
    DriftData {
        address: item.address.as_deref().map(island_text),
        changes: item.changes.iter().map(|c| [island_text(&c.field), island_text(&c.declared), island_text(&c.live)]).collect(),
        diff: item.diff.as_deref().map(|diff| diff.lines().map(island_text).collect()),
    }
}

/// Repeated texts, each stored once, in order of first use.
#[derive(Default)]
struct Interned<'a> {
    values: Vec<Cow<'a, str>>,
    index: FxHashMap<&'a str, usize>,
}

impl<'a> Interned<'a> {
    fn index(&mut self, text: &'a str) -> usize {
        let next = self.values.len();
        *self.index.entry(text).or_insert_with(|| {
            self.values.push(island_text(text));
            next
        })
    }
}
