//! Baselines: a previous `onwatch check --format json` report, compared with this run to show
//! what a change does — coverage before and after, findings introduced and fixed (matched by
//! fingerprint, which survives rewording of messages).

use std::{collections::BTreeSet, path::Path};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    check::Evaluation,
    error::{Error, Problem, Result},
    findings::{Code, Finding, Severity},
};

/// What onwatch reads of a previous JSON report.
#[derive(Debug, Clone, Deserialize)]
pub struct Baseline {
    pub summary: BaselineSummary,
    pub findings: Vec<BaselineFinding>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BaselineSummary {
    pub coverage_percent: f64,
    pub required: usize,
    pub covered: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineFinding {
    pub code: Code,
    pub severity: Severity,
    pub resource: String,
    pub message: String,
    pub fingerprint: String,
}

impl From<&Finding> for BaselineFinding {
    fn from(finding: &Finding) -> Self {
        BaselineFinding {
            code: finding.code,
            severity: finding.severity,
            resource: finding.resource.clone(),
            message: finding.message.clone(),
            fingerprint: finding.fingerprint.clone(),
        }
    }
}

/// The change from the baseline to this run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Delta {
    pub coverage_before: f64,
    pub coverage_after: f64,
    /// Percentage points, one decimal.
    pub coverage_change: f64,
    pub covered_before: usize,
    pub covered_after: usize,
    pub required_before: usize,
    pub required_after: usize,
    /// Findings of this run that the baseline does not have.
    pub introduced: Vec<BaselineFinding>,
    /// Findings of the baseline that this run no longer has.
    pub fixed: Vec<BaselineFinding>,
}

pub fn read(path: &Path) -> Result<Baseline> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    // Located at the failing value's JSON path, like every other input.
    crate::json::parse_fast(&path.display().to_string(), &bytes).map_err(|error| match error {
        Error::Invalid(problems) => Error::Invalid(
            problems.into_iter().map(|p| Problem { message: format!("not an `onwatch check --format json` report: {}", p.message), ..p }).collect(),
        ),
        other => other,
    })
}

pub fn delta(baseline: &Baseline, evaluation: &Evaluation) -> Delta {
    let before: BTreeSet<&str> = baseline.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let after: BTreeSet<&str> = evaluation.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let summary = &evaluation.summary;
    Delta {
        coverage_before: baseline.summary.coverage_percent,
        coverage_after: summary.coverage_percent,
        coverage_change: ((summary.coverage_percent - baseline.summary.coverage_percent) * 10.0).round() / 10.0,
        covered_before: baseline.summary.covered,
        covered_after: summary.covered,
        required_before: baseline.summary.required,
        required_after: summary.required,
        introduced: evaluation.findings.iter().filter(|f| !before.contains(f.fingerprint.as_str())).map(BaselineFinding::from).collect(),
        fixed: baseline.findings.iter().filter(|f| !after.contains(f.fingerprint.as_str())).cloned().collect(),
    }
}
