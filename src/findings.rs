//! Findings: the closed set of codes, their severities, and the finding records checks emit.

use schemars::JsonSchema;

use crate::support::stable_hash;
use serde::{Deserialize, Serialize};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $summary:literal, $fix:literal;)*) => {
        /// Every finding code onwatch can emit. Codes are stable: renaming one is a breaking change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum Code {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One line: what the finding means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// How to resolve findings of this code in general.
            pub fn fix(self) -> &'static str {
                match self { $(Code::$variant => $fix,)* }
            }
        }
    };
}

codes! {
    MissingAlarm = "missing-alarm", Error,
        "A coverage policy requires an alarm that the resource does not have.",
        "Create the alarm (`onwatch generate` writes the Terraform for it), or exempt the resource in the policy with a reason and an expiry date.";
    ThresholdMismatch = "threshold-mismatch", Warning,
        "The alarm's threshold differs from the policy's (after config and tag overrides).",
        "Set the alarm's threshold to the required value, or change the threshold in config/alert_thresholds.json or with an `onwatch:<Metric>` tag on the resource.";
    ComparisonMismatch = "comparison-mismatch", Error,
        "The alarm compares in a different direction than the policy requires, so it may never fire.",
        "Set the alarm's comparison operator to the one the policy requires.";
    StatisticMismatch = "statistic-mismatch", Warning,
        "The alarm uses a different statistic (or percentile) than the policy requires.",
        "Set the alarm's statistic to the one the policy requires.";
    PeriodMismatch = "period-mismatch", Warning,
        "The alarm evaluates over a different period than the policy requires.",
        "Set the alarm's period to the one the policy requires.";
    EvaluationMismatch = "evaluation-mismatch", Warning,
        "The alarm's evaluation periods or datapoints to alarm differ from the policy's.",
        "Set evaluation periods and datapoints to alarm to the policy's values.";
    TreatMissingDataMismatch = "treat-missing-data-mismatch", Info,
        "The alarm treats missing data differently than the policy recommends.",
        "Set the alarm's treat-missing-data to the policy's value.";
    AlarmActionsDisabled = "alarm-actions-disabled", Error,
        "The alarm's actions are disabled: it changes state but notifies nobody.",
        "Enable the alarm's actions (`aws cloudwatch enable-alarm-actions`), or set actions_enabled = true in Terraform.";
    AlarmNoActions = "alarm-no-actions", Error,
        "The alarm has no alarm action: it changes state but notifies nobody.",
        "Add an alarm action (and an OK action) to the SNS topic of the alarm's severity.";
    AlarmTopicUnconfirmed = "alarm-topic-unconfirmed", Error,
        "The alarm notifies an SNS topic with no confirmed subscription, so nobody receives it.",
        "Confirm a subscription on the topic (check the pending email) or subscribe an endpoint that is confirmed.";
    AlarmTopicAwsManagedKey = "alarm-topic-aws-managed-key", Error,
        "The alarm notifies an SNS topic encrypted with the AWS-managed key alias/aws/sns, which CloudWatch cannot use: notifications are silently dropped.",
        "Encrypt the topic with a customer-managed KMS key whose key policy allows cloudwatch.amazonaws.com to use it (onwatch generate writes one).";
    AlarmTopicUnknown = "alarm-topic-unknown", Warning,
        "The alarm notifies an SNS topic that is not in the inventory (deleted, or in an account that was not scanned).",
        "Point the action at an existing topic, or include the topic's account and region in the scan.";
    OrphanedAlarm = "orphaned-alarm", Warning,
        "The alarm watches a resource that is not in the inventory, most likely one that was deleted.",
        "Delete the alarm if the resource is gone; if the resource exists, make sure the scan sees it (tag it, or scan its account and region).";
    RollupIncomplete = "rollup-incomplete", Error,
        "A roll-up configured in config/composites.json is missing, or its composite alarm leaves out alarms of the application and severity it rolls up, or refers to alarms that do not exist: those alarms notify nobody through it.",
        "Run `onwatch generate` (it writes each roll-up over all its members) and apply it, or add the alarms the message names to the composite's rule.";
    AgentMetricsMissing = "agent-metrics-missing", Warning,
        "Metrics that AWS does not publish by itself (EC2 memory and disk from the CloudWatch agent, Container Insights, Lambda Insights) are absent for this resource, so they cannot be alarmed on.",
        "Enable the publisher the message names for this resource (install the CloudWatch agent with memory and disk metrics; turn on Container Insights or Lambda Insights).";
    ExemptionExpired = "exemption-expired", Warning,
        "An exemption has passed its expiry date; the findings it suppressed are reported again.",
        "Fix the findings, or renew the exemption with a new reason and expiry date.";
    OptOutWithoutReason = "opt-out-without-reason", Warning,
        "The resource carries the opt-out tag without a reason, so the opt-out is not honoured.",
        "Set the opt-out tag's value to the reason the resource needs no alarms.";
    InvalidThresholdTag = "invalid-threshold-tag", Warning,
        "A threshold override tag on the resource is not a number; the configured threshold is used instead.",
        "Set the tag's value to a plain number (for example 90).";
    ScopeUnknown = "scope-unknown", Error,
        "An account and region could not be scanned (a scan with --allow-partial recorded it as failed), so nothing is known there: it is neither clean nor missing alarms.",
        "Fix the failure the message names (grant the role, create it in the account, or retry after throttling) and scan again.";
    UnresolvedDimensions = "unresolved-dimensions", Warning,
        "onwatch cannot compute the resource's CloudWatch dimensions, so its alarms cannot be checked.",
        "Make sure the scan records the attribute named in the message, or fix the resource type's arn_resource pattern in config/resource_types.json.";
    SecurityTrailMissing = "security-trail-missing", Error,
        "No multi-region CloudTrail trail that is logging delivers to the configured CloudWatch Logs log group, so no security detection sees the account's API calls.",
        "Create a multi-region (or organization) trail that delivers to the log group and start logging, or set log_group in config/security_detections.json to the log group your trail delivers to.";
    SecurityRegionNotScanned = "security-region-not-scanned", Warning,
        "The region of the CloudTrail log group was not scanned, so its metric filters, and the security controls, are unknown.",
        "Scan the log group's region too, or set region in config/security_detections.json to where the log group is.";
    SecurityFilterMissing = "security-filter-missing", Error,
        "No metric filter on the CloudTrail log group matches the events a benchmark monitoring control must detect.",
        "Run `onwatch generate` (it writes the metric filter and its alarm), or add a metric filter with the pattern the message names.";
    SecurityAlarmMissing = "security-alarm-missing", Error,
        "A metric filter detects the control's events, but no alarm on its metric fires on a single event.",
        "Create an alarm on the filter's metric, Sum >= 1 over one period, notifying the security topic (`onwatch generate` writes one).";
    SecurityAlarmUnrouted = "security-alarm-unrouted", Error,
        "The alarm of a security control notifies nobody: no action, actions disabled, or a topic without a confirmed subscription.",
        "Point the alarm at an SNS topic with a confirmed subscription, with its actions enabled.";
    SecurityFilterUnsupported = "security-filter-unsupported", Warning,
        "A metric filter on the CloudTrail log group has a pattern onwatch cannot evaluate, so it counts for no control.",
        "Rewrite it as a JSON filter pattern, or leave it: onwatch generates its own filters for controls it leaves uncovered.";
    SecurityFilterNoisy = "security-filter-noisy", Warning,
        "A metric filter on the CloudTrail log group matches a control's events but also events it must not alert on (a pattern that matches nearly everything), so it counts for no control.",
        "Narrow the pattern to one control's events, or delete the filter and let `onwatch generate` write the benchmark's patterns.";
    AlarmMetricAbsent = "alarm-metric-absent", Info,
        "The alarm watches a metric (namespace, name and dimensions) that ListMetrics does not list in its account and region: nothing published it in the last two weeks, so the alarm cannot fire unless the metric is published only on events (errors, throttles, 5XX).",
        "Fix the alarm's namespace, metric name or dimensions to a metric the resource publishes; if the metric appears only when something goes wrong, set treat-missing-data to notBreaching and keep the alarm.";
    AlarmStuckInsufficientData = "alarm-stuck-insufficient-data", Warning,
        "The alarm has been in INSUFFICIENT_DATA for longer than config/alert_thresholds.json's alarm_hygiene allows: it is evaluating no data and would miss the condition it watches.",
        "Check that the alarm's metric and dimensions match what the resource publishes (see alarm-metric-absent), or delete the alarm if its resource is gone.";
    AlarmFlapping = "alarm-flapping", Warning,
        "The alarm changed state more often than config/alert_thresholds.json's alarm_hygiene allows within its window: on-call learns to ignore it.",
        "Require more datapoints to alarm (M out of N), lengthen the period, move the threshold away from the metric's normal range, or roll the alarm into a composite alarm.";
    AlarmStateActionMissing = "alarm-state-action-missing", Warning,
        "The alarm has no action for a state that config/alert_thresholds.json's alarm_hygiene.required_actions requires one for (OK or INSUFFICIENT_DATA), as AWS Config's cloudwatch-alarm-action-check requires.",
        "Add an OK action (and an INSUFFICIENT_DATA action where required) to the alarm, notifying the topic of its alarm action.";
    DriftMissingLive = "drift-missing-live", Error,
        "An alarm or dashboard declared in the repository's Terraform does not exist in the account.",
        "Run `terraform apply`, or remove the declaration if the object was deleted on purpose.";
    DriftChanged = "drift-changed", Error,
        "A live alarm differs from its Terraform declaration: it was edited outside Terraform.",
        "Run `terraform apply` to restore the declared values, or copy the edits into the Terraform.";
    DriftUnmanaged = "drift-unmanaged", Warning,
        "A live alarm or dashboard is not declared in any Terraform read.",
        "Import it into Terraform, delete it, or leave it out with --unmanaged-prefix or a drift ignore rule.";
    DriftDashboardBody = "drift-dashboard-body", Error,
        "A live dashboard's body differs from its Terraform declaration (compared as normalized JSON).",
        "Run `terraform apply` to restore the declared body, or copy the console edits into the Terraform.";
    DriftUnresolved = "drift-unresolved", Info,
        "A declared value cannot be known before apply (a data source, an unknown variable, a dynamic for_each), so it was not compared.",
        "Nothing to do, or give the value a static form (a literal, a variable default or a .tfvars value).";
    DriftIgnoreExpired = "drift-ignore-expired", Warning,
        "A drift ignore rule has passed its expiry date; the drift it ignored is reported again.",
        "Fix the drift, or renew the rule in config/drift_ignore.json with a new reason and expiry date.";
}

impl std::str::FromStr for Code {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Code::ALL.iter().copied().find(|code| code.as_str() == text).ok_or_else(|| {
            format!("unknown finding code {text:?}; known codes: {}", Code::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
        })
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding comes from in the configuration, so reports can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The ARN of the resource (or of the alarm, for alarm-level findings).
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The alarm concerned, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    /// The requirement, as `policy-id/alarm-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    pub message: String,
    pub remediation: String,
    /// Stable identity across runs, for baselines and SARIF.
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The Terraform address of the resource or alarm, when it is declared in the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform_address: Option<String>,
    /// Where it is declared: `file:line`, or the plan file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Finding {
    pub fn new(code: Code, resource: impl Into<String>, message: impl Into<String>, remediation: impl Into<String>) -> Self {
        let resource = resource.into();
        Finding {
            code,
            severity: code.severity(),
            fingerprint: String::new(),
            resource,
            resource_type: None,
            alarm: None,
            requirement: None,
            message: message.into(),
            remediation: remediation.into(),
            origin: None,
            terraform_address: None,
            location: None,
        }
    }

    pub fn with_type(mut self, resource_type: &str) -> Self {
        self.resource_type = Some(resource_type.to_string());
        self
    }

    pub fn with_alarm(mut self, alarm: &str) -> Self {
        self.alarm = Some(alarm.to_string());
        self
    }

    pub fn with_requirement(mut self, requirement: String, origin: Option<Origin>) -> Self {
        self.requirement = Some(requirement);
        self.origin = origin;
        self
    }

    /// Computes the fingerprint from what identifies the finding (not its message, which may be reworded).
    pub fn seal(mut self) -> Self {
        let hash = stable_hash(&[
            self.code.as_str(),
            &self.resource,
            self.alarm.as_deref().unwrap_or(""),
            self.requirement.as_deref().unwrap_or(""),
        ]);
        self.fingerprint = format!("{hash:016x}");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{code} is not kebab-case");
            assert_eq!(code.as_str().parse::<Code>().unwrap(), *code);
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(code.summary().ends_with('.') && code.fix().ends_with('.'));
        }
        assert!("no-such-code".parse::<Code>().is_err());
    }

    #[test]
    fn code_list_is_a_visible_contract() {
        let listing: Vec<String> = Code::ALL.iter().map(|c| format!("{} ({})", c, c.severity().as_str())).collect();
        insta::assert_snapshot!(listing.join("\n"));
    }

}
