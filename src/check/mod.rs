//! The checks: pure functions from the model and validated settings to findings. Three families
//! are peers, each with its own module of finding constructors:
//!
//! - [`coverage`]: every resource a policy selects has the alarms the policy names, set right,
//!   notifying somebody; alarms left watching nothing are orphaned.
//! - [`security`]: the CIS monitoring controls (CloudTrail, metric filters, their alarms).
//! - [`drift`]: declared Terraform against what is live.
//!
//! [`evaluate`] runs coverage and security over one inventory and combines them into one
//! [`Evaluation`]; drift compares two models and has its own entry point.

pub mod accounts;
pub mod baseline;
pub mod coverage;
pub mod declared;
pub mod drift;
pub mod hygiene;
pub mod security;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

pub use accounts::AccountRow;
pub use coverage::{Counts, RequirementResult, Status};
pub use declared::{overlay_declared, DeclaredInput, DeclaredOverlay};

use crate::{
    config::Settings,
    findings::{Finding, Severity},
    model::{delivery::Delivery, DiscoveredBy, Inventory},
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Resources in the inventory, of every type.
    pub resources: usize,
    /// Requirements that apply (exempted ones excluded).
    pub required: usize,
    pub covered: usize,
    pub missing: usize,
    pub misconfigured: usize,
    pub unresolved: usize,
    pub orphaned: usize,
    pub exempted: usize,
    /// covered / required, floored to one decimal; 100 when nothing is required.
    pub coverage_percent: f64,
    /// Resources found through their metrics because the Tagging API does not list them.
    pub discovered_by_metrics: usize,
    /// Requirements covered by an alarm declared in the repository's Terraform and not yet live
    /// (`check --terraform`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub declared_not_live: usize,
    /// Resources declared in Terraform (`check --terraform`, `--plan`) that are not live: what the change adds to watch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub declared_resources: usize,
    /// Of those, the ones a policy requires an alarm of that they do not have.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub declared_without_alarms: usize,
    pub findings: BTreeMap<Severity, usize>,
    pub by_type: BTreeMap<String, Counts>,
    /// One row per account, when the inventory holds more than one (failed accounts included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountRow>,
    /// Security-detection coverage (CloudTrail, metric filters, alarms) of the chosen benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<security::SecuritySummary>,
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evaluation {
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub requirements: Vec<RequirementResult>,
}

impl Evaluation {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// What to keep besides findings and counts.
#[derive(Debug, Clone, Copy)]
pub struct EvaluateOptions {
    /// Keep one record per requirement (JUnit, HTML and generation need them; the other reports
    /// do not, and on large accounts they cost time and memory).
    pub requirements: bool,
    /// Threads to check resources with; 0 picks one per core for large inventories.
    pub threads: usize,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions { requirements: true, threads: 0 }
    }
}

/// covered / required as a percentage floored to one decimal (so reports stay stable); nothing
/// required is full coverage.
pub fn coverage_percent(covered: usize, required: usize) -> f64 {
    if required == 0 {
        100.0
    } else {
        (covered as f64 * 1000.0 / required as f64).floor() / 10.0
    }
}

/// The inventory without its failed scopes (borrowed when none failed), and the failed ones.
enum Known<'i> {
    All(&'i Inventory),
    Partial(Box<Inventory>, Vec<crate::model::Scope>),
}

impl Known<'_> {
    fn as_ref(&self) -> &Inventory {
        match self {
            Known::All(inventory) => inventory,
            Known::Partial(inventory, _) => inventory,
        }
    }
}

fn known_scopes(inventory: &Inventory) -> Known<'_> {
    if inventory.scopes.iter().all(|s| s.failed.is_none()) {
        return Known::All(inventory);
    }
    let mut known = inventory.clone();
    let (failed, scanned): (Vec<_>, Vec<_>) = std::mem::take(&mut known.scopes).into_iter().partition(|s| s.failed.is_some());
    known.scopes = scanned;
    Known::Partial(Box::new(known), failed)
}

fn failed_scopes<'k>(known: &'k Known<'_>) -> &'k [crate::model::Scope] {
    match known {
        Known::All(_) => &[],
        Known::Partial(_, failed) => failed,
    }
}

/// One `scope-unknown` finding per failed scope.
fn unknown_scopes(failed: &[crate::model::Scope]) -> Vec<Finding> {
    failed.iter().map(|scope| coverage::findings::scope_unknown(scope, scope.failed.as_deref().unwrap_or_default())).collect()
}

/// Evaluates coverage and security of `inventory` under `settings` as of `today` (for exemption expiry).
pub fn evaluate(inventory: &Inventory, settings: &Settings, today: Date) -> Evaluation {
    evaluate_with(inventory, settings, today, EvaluateOptions::default())
}

pub fn evaluate_with(whole: &Inventory, settings: &Settings, today: Date, options: EvaluateOptions) -> Evaluation {
    // A failed scope holds no data: it is left out of the checks (never "missing everything")
    // and reported as unknown instead.
    let known = known_scopes(whole);
    let inventory = known.as_ref();
    let delivery = Delivery::with_failed(inventory, failed_scopes(&known));
    let coverage = coverage::evaluate(inventory, settings, today, options, &delivery, failed_scopes(&known));
    let security = security::evaluate(inventory, &settings.security, today, &delivery);

    let overall = coverage.by_type.values().fold(Counts::default(), |mut all, counts| {
        all.merge(counts);
        all
    });
    let mut summary = Summary {
        resources: inventory.resources.len(),
        required: overall.required,
        covered: overall.covered,
        missing: overall.missing,
        misconfigured: overall.misconfigured,
        unresolved: overall.unresolved,
        exempted: overall.exempted,
        orphaned: coverage.orphaned,
        coverage_percent: coverage_percent(overall.covered, overall.required),
        discovered_by_metrics: inventory.resources.iter().filter(|r| r.discovered_by == DiscoveredBy::Metrics).count(),
        by_type: coverage.by_type,
        ..Summary::default()
    };
    let mut findings = coverage.findings;
    findings.extend(hygiene::evaluate(inventory, &settings.thresholds.hygiene, today));
    findings.extend(unknown_scopes(failed_scopes(&known)));
    if let Some(security) = security {
        findings.extend(security.findings);
        summary.security = Some(security.summary);
    }
    // Each family produced its findings in a canonical order (resource ARN, alarm name, control);
    // a stable sort by severity and code keeps that order within each code.
    let mut findings: Vec<Finding> = findings.into_iter().map(Finding::seal).collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)));
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        summary.findings.insert(severity, findings.iter().filter(|f| f.severity == severity).count());
    }
    summary.accounts = accounts::rows(whole, failed_scopes(&known), &coverage.by_account, &findings);
    Evaluation { summary, findings, requirements: coverage.requirements }
}
