//! Per-account rows of a multi-account evaluation: each account's resources, requirements,
//! findings by severity and the regions that failed to scan, computed once here so every printer
//! shows the same figures. An inventory of one account has no rows, so its reports stay as they are.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{coverage_percent, Counts};
use crate::{
    findings::{Finding, Severity},
    model::{Arn, Inventory, Scope},
};

/// One account's share of the evaluation; the rows of an evaluation add up to its summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountRow {
    pub account: String,
    /// Resources of the account in the inventory, of every type.
    pub resources: usize,
    pub required: usize,
    pub covered: usize,
    pub missing: usize,
    pub misconfigured: usize,
    /// covered / required, floored to one decimal; 100 when nothing is required.
    pub coverage_percent: f64,
    /// Findings about the account's resources, alarms and scopes, by severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Regions of the account that failed to scan (`scan --allow-partial`): their coverage is unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_regions: Vec<String>,
}

/// The rows of an evaluation of `inventory` (failed scopes included): none unless it holds more
/// than one account. `by_account` are the coverage check's requirement counts per account.
pub(super) fn rows(inventory: &Inventory, failed: &[Scope], by_account: &BTreeMap<String, Counts>, findings: &[Finding]) -> Vec<AccountRow> {
    let accounts = crate::model::accounts(inventory);
    if accounts.len() < 2 {
        return Vec::new();
    }
    let mut rows: BTreeMap<&str, AccountRow> =
        accounts.iter().map(|account| (account.as_str(), AccountRow { account: account.clone(), ..AccountRow::default() })).collect();
    for resource in &inventory.resources {
        row(&mut rows, &resource.account).resources += 1;
    }
    for (account, counts) in by_account {
        let row = row(&mut rows, account);
        (row.required, row.covered, row.missing, row.misconfigured) = (counts.required, counts.covered, counts.missing, counts.misconfigured);
    }
    let owners: FxHashMap<&str, &str> = inventory.resources.iter().map(|r| (r.arn.as_str(), r.account.as_str())).collect();
    for finding in findings {
        *row(&mut rows, account_of(finding, &owners)).findings.entry(finding.severity).or_default() += 1;
    }
    for scope in failed {
        row(&mut rows, &scope.account).unknown_regions.push(scope.region.clone());
    }
    rows.into_values()
        .map(|mut row| {
            for severity in [Severity::Error, Severity::Warning, Severity::Info] {
                row.findings.entry(severity).or_default();
            }
            row.coverage_percent = coverage_percent(row.covered, row.required);
            row.unknown_regions.sort();
            row
        })
        .collect()
}

fn row<'m, 'r>(rows: &'m mut BTreeMap<&'r str, AccountRow>, account: &'r str) -> &'m mut AccountRow {
    rows.entry(account).or_insert_with(|| AccountRow { account: account.to_string(), ..AccountRow::default() })
}

/// The account a finding is about: its resource's (an S3 or Route 53 ARN names none), else the
/// one its ARN names (alarms, log groups, `account:region`), else a scope's `ACCOUNT/REGION`.
fn account_of<'f>(finding: &'f Finding, owners: &FxHashMap<&'f str, &'f str>) -> &'f str {
    if let Some(account) = owners.get(finding.resource.as_str()) {
        return account;
    }
    match Arn::parse(&finding.resource) {
        Some(arn) => arn.account,
        None => finding.resource.split_once('/').map_or("", |(account, _)| account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        check::evaluate,
        config::{self, Sources},
        model::Inventory,
    };

    /// The example account three times over, as 123456789012, 210987654321 and 333333333333, the
    /// third's eu-west-1 failed (and so empty, as a scan with --allow-partial writes it).
    fn three_accounts() -> Inventory {
        let text = std::fs::read_to_string("examples/inventory.json").unwrap();
        let mut whole: Option<Inventory> = None;
        for account in ["123456789012", "210987654321", "333333333333"] {
            let copy = crate::snapshot::parse("example", text.replace("123456789012", account).as_bytes()).unwrap();
            match &mut whole {
                None => whole = Some(copy),
                Some(whole) => {
                    whole.scopes.extend(copy.scopes);
                    whole.resources.extend(copy.resources);
                    whole.alarms.extend(copy.alarms);
                    whole.composite_alarms.extend(copy.composite_alarms);
                    whole.metrics.extend(copy.metrics);
                    whole.dashboards.extend(copy.dashboards);
                    whole.sns_topics.extend(copy.sns_topics);
                    whole.trails.extend(copy.trails);
                    whole.log_metric_filters.extend(copy.log_metric_filters);
                }
            }
        }
        let mut whole = whole.unwrap();
        let failed = ("333333333333", "eu-west-1");
        let here = |account: &str, region: &str| (account, region) == failed;
        for scope in whole.scopes.iter_mut().filter(|s| here(&s.account, &s.region)) {
            scope.failed = Some("sts:AssumeRole: AccessDenied".into());
        }
        whole.resources.retain(|r| !here(&r.account, &r.region));
        whole.alarms.retain(|a| !here(&a.account, &a.region));
        whole.metrics.retain(|m| !here(&m.account, &m.region));
        whole.sns_topics.retain(|t| !here(&t.account, &t.region));
        whole.log_metric_filters.retain(|f| !here(&f.account, &f.region));
        whole
    }

    #[test]
    fn rows_add_up_to_the_summary() {
        let settings = config::load(&Sources { config_dir: None, policies_dir: None }).unwrap();
        let inventory = three_accounts();
        assert!(inventory.scopes.iter().any(|s| s.failed.is_some()), "the fixture has a failed scope");
        let summary = evaluate(&inventory, &settings, time::macros::date!(2026 - 11 - 25)).summary;
        let rows = &summary.accounts;
        assert_eq!(rows.iter().map(|r| r.account.as_str()).collect::<Vec<_>>(), ["123456789012", "210987654321", "333333333333"]);
        let sum = |field: fn(&AccountRow) -> usize| rows.iter().map(field).sum::<usize>();
        assert_eq!(sum(|r| r.resources), summary.resources);
        assert_eq!(sum(|r| r.required), summary.required);
        assert_eq!(sum(|r| r.covered), summary.covered);
        assert_eq!(sum(|r| r.missing), summary.missing);
        assert_eq!(sum(|r| r.misconfigured), summary.misconfigured);
        for (severity, total) in &summary.findings {
            assert_eq!(rows.iter().map(|r| r.findings[severity]).sum::<usize>(), *total, "{severity:?} findings");
        }
        assert!(summary.required > 0 && summary.findings.values().sum::<usize>() > 0, "the sums are of something");
        // The failed account's row: fewer resources (one region unknown) and that region named.
        let (first, third) = (&rows[0], &rows[2]);
        assert!(first.unknown_regions.is_empty());
        assert_eq!(third.unknown_regions, ["eu-west-1"]);
        assert!(third.resources < first.resources, "{} < {}", third.resources, first.resources);
        // The second copy has the first's resources; the policies' exemptions name the first's ARNs only.
        assert_eq!(rows[0].resources, rows[1].resources);
        assert!(rows[0].required < rows[1].required, "{} < {}", rows[0].required, rows[1].required);
    }

    #[test]
    fn one_account_has_no_rows() {
        let settings = config::load(&Sources { config_dir: None, policies_dir: None }).unwrap();
        let inventory = crate::snapshot::read(std::path::Path::new("examples/inventory.json")).unwrap();
        assert!(evaluate(&inventory, &settings, time::macros::date!(2026 - 11 - 25)).summary.accounts.is_empty());
    }
}
