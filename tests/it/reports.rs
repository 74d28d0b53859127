//! Snapshot tests of every report format, and the Markdown size limit.


use crate::common::*;
use onwatch::report::{Document, Format, Options, GITHUB_COMMENT_LIMIT};

fn render(inventory: &onwatch::model::Inventory, format: Format) -> String {
    let evaluation = run(inventory);
    Document::coverage(&evaluation, None, "showcase.json", "2026-11-25".into()).render(format, &Options::default())
}

#[test]
fn text_report() {
    insta::assert_snapshot!(render(&showcase(), Format::Text));
}

#[test]
fn text_report_in_colour_uses_ansi_only_when_asked() {
    let evaluation = run(&showcase());
    let report = Document::coverage(&evaluation, None, "showcase.json", "2026-11-25".into());
    assert!(report.render(Format::Text, &Options { color: true }).contains("\u{1b}["));
    assert!(!report.render(Format::Text, &Options { color: false }).contains('\u{1b}'));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(render(&showcase(), Format::Json));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(render(&showcase(), Format::Markdown));
}

#[test]
fn sarif_report() {
    insta::assert_snapshot!(render(&showcase(), Format::Sarif));
}

#[test]
fn junit_report() {
    insta::assert_snapshot!(render(&showcase(), Format::Junit));
}

#[test]
fn markdown_stays_under_the_github_comment_limit_and_says_it_truncated() {
    let mut inv = inventory();
    for n in 0..3000 {
        inv.resources.push(instance(&format!("i-{n:05}"), &[]));
    }
    let markdown = render(&inv, Format::Markdown);
    assert!(markdown.chars().count() <= GITHUB_COMMENT_LIMIT, "{} characters", markdown.chars().count());
    assert!(markdown.len() <= GITHUB_COMMENT_LIMIT, "{} bytes", markdown.len());
    assert!(markdown.contains("**Truncated:**"), "no truncation line");
    assert!(markdown.starts_with("## ❌ onwatch: 0% alarm coverage"), "summary comes first");
    // Every <details> that was opened is closed.
    assert_eq!(markdown.matches("<details>").count(), markdown.matches("</details>").count());
    // A small report is not truncated.
    assert!(!render(&showcase(), Format::Markdown).contains("Truncated"));
}

#[test]
fn json_report_round_trips_the_evaluation() {
    let evaluation = run(&showcase());
    let json: serde_json::Value = serde_json::from_str(&render(&showcase(), Format::Json)).unwrap();
    let findings: Vec<onwatch::findings::Finding> = serde_json::from_value(json["findings"].clone()).unwrap();
    assert_eq!(findings, evaluation.findings);
    assert_eq!(json["summary"]["coverage_percent"], evaluation.summary.coverage_percent);
}

#[test]
fn reports_are_deterministic() {
    for format in [Format::Text, Format::Json, Format::Markdown, Format::Sarif, Format::Junit] {
        assert_eq!(render(&showcase(), format), render(&showcase(), format));
    }
}

#[test]
fn defect_11_control_characters_in_inventory_text_are_shown_escaped() {
    let mut inv = inventory();
    inv.resources.push(instance("i-1\u{1b}[31m\u{7}\u{1}\n[info] forged-finding", &[]));
    for format in [Format::Text, Format::Markdown] {
        let out = render(&inv, format);
        for c in ['\u{1b}', '\u{7}', '\u{1}'] {
            assert!(!out.contains(c), "{format:?} keeps {c:?}");
        }
        assert!(!out.lines().any(|l| l.starts_with("[info] forged-finding")), "{format:?} forges a line");
        assert!(out.contains("\\u{1b}[31m"), "{format:?} does not show ESC escaped");
    }
}

/// `onwatch drift` in one format on the drifted fixture workspace.
fn drift_report(format: &str) -> String {
    let dir = drifted_workspace();
    let args = ["drift", "--terraform", "terraform", "--inventory", "inventory.json", "--as-of", "2026-11-25", "--format", format];
    let (code, stdout, stderr) = onwatch_in(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    stdout
}

#[test]
fn drift_text_report() {
    insta::assert_snapshot!(drift_report("text"));
}

#[test]
fn drift_json_report() {
    insta::assert_snapshot!(drift_report("json"));
}

#[test]
fn drift_markdown_report() {
    insta::assert_snapshot!(drift_report("markdown"));
}

#[test]
fn drift_sarif_report() {
    insta::assert_snapshot!(drift_report("sarif"));
}

fn audit_records() -> Vec<onwatch::audit::AuditRecord> {
    let alarm = "arn:aws:cloudwatch:us-east-1:111111111111:alarm:onwatch-i-1-cpu-high";
    let resource = "arn:aws:ec2:us-east-1:111111111111:instance/i-1";
    let record = |time: &str, id: &str, old: &str, new: &str, reason: &str| onwatch::audit::AuditRecord {
        time: time.into(),
        kind: "alarm".into(),
        alarm: alarm.into(),
        resource: resource.into(),
        old_state: old.into(),
        new_state: new.into(),
        reason: reason.into(),
        account: ACCOUNT.into(),
        region: REGION.into(),
        event_id: id.into(),
        expires_at: Some(1_800_000_000),
    };
    vec![
        record("2026-11-24T10:00:00Z", "e-1", "OK", "ALARM", "Threshold Crossed: 1 datapoint [91.0] was greater than 80.0"),
        record("2026-11-24T10:05:00Z", "e-2", "ALARM", "OK", ""),
    ]
}

fn audit_listing(format: Format) -> String {
    let (records, query) = (audit_records(), onwatch::audit::Query { since: None, resource: Some("arn:aws:ec2:us-east-1:111111111111:instance/i-1".into()) });
    let listing = onwatch::report::AuditListing { records: &records, table: "onwatch-audit-log", region: "us-east-1", query: &query };
    Document::audit(listing).render(format, &Options::default())
}

#[test]
fn audit_text_listing() {
    insta::assert_snapshot!(audit_listing(Format::Text));
}

#[test]
fn audit_json_listing() {
    insta::assert_snapshot!(audit_listing(Format::Json));
}

// Multi-account reports: one row per account after the totals (none for one account, so the
// single-account snapshots above stay as they were).

fn three_accounts_report(format: Format) -> String {
    let evaluation = run(&three_accounts());
    Document::coverage(&evaluation, None, "organization.json", "2026-11-25".into()).render(format, &Options::default())
}

#[test]
fn three_account_text_report() {
    insta::assert_snapshot!(three_accounts_report(Format::Text));
}

#[test]
fn three_account_markdown_report() {
    insta::assert_snapshot!(three_accounts_report(Format::Markdown));
}

#[test]
fn three_account_json_report() {
    insta::assert_snapshot!(three_accounts_report(Format::Json));
}

#[test]
fn three_account_rows_match_the_totals_in_the_json_report() {
    let json: serde_json::Value = serde_json::from_str(&three_accounts_report(Format::Json)).unwrap();
    let summary = &json["summary"];
    let rows = summary["accounts"].as_array().unwrap();
    let accounts: Vec<&str> = rows.iter().map(|r| r["account"].as_str().unwrap()).collect();
    assert_eq!(accounts, THREE_ACCOUNTS);
    for field in ["resources", "required", "covered", "missing", "misconfigured"] {
        assert_eq!(rows.iter().map(|r| r[field].as_u64().unwrap()).sum::<u64>(), summary[field].as_u64().unwrap(), "{field}");
    }
    for severity in ["error", "warning", "info"] {
        assert_eq!(rows.iter().map(|r| r["findings"][severity].as_u64().unwrap()).sum::<u64>(), summary["findings"][severity].as_u64().unwrap(), "{severity}");
    }
    assert_eq!(rows[2]["unknown_regions"], serde_json::json!(["eu-west-1"]));
    assert!(rows[0].get("unknown_regions").is_none(), "an account scanned whole lists no unknown regions");
    // The failed region's scope-unknown error is the third account's, on top of the findings of the
    // second (the same copy of the showcase; the fixture policies exempt ARNs of the first only).
    assert_eq!(rows[2]["findings"]["error"].as_u64().unwrap(), rows[1]["findings"]["error"].as_u64().unwrap() + 1);
    // One account: no rows at all.
    let single: serde_json::Value = serde_json::from_str(&render(&showcase(), Format::Json)).unwrap();
    assert!(single["summary"].get("accounts").is_none());
}

#[test]
fn three_account_markdown_lists_a_bounded_number_of_accounts() {
    let mut inventory = three_accounts();
    for n in 0..2000 {
        let mut resource = instance(&format!("i-{n:05}"), &[]);
        let account = format!("{:012}", 400_000_000_000u64 + n);
        resource.arn = resource.arn.replace(ACCOUNT, &account);
        resource.account = account;
        inventory.resources.push(resource);
    }
    let evaluation = run(&inventory);
    let markdown = Document::coverage(&evaluation, None, "organization.json", "2026-11-25".into()).render(Format::Markdown, &Options::default());
    assert!(markdown.chars().count() <= GITHUB_COMMENT_LIMIT, "{} characters", markdown.chars().count());
    let shown = markdown.lines().filter(|line| line.starts_with("| `") && line.contains("` | ") && line.ends_with(" |") && line.matches('|').count() == 12).count();
    assert!(shown > 10 && shown < 2003, "{shown} account rows");
    assert!(markdown.contains(&format!("{} more accounts not shown; the JSON report has every row.", 2003 - shown)), "the truncation line");
}
