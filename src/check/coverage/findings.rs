//! The coverage check's findings: one constructor per code, so each message and fix is written
//! in one place.

use super::{Mismatch, Threshold};
use crate::{
    config::{AlarmRule, CheckedExemption, Policy, RollupKey},
    findings::{Code, Finding, Origin},
    model::{
        arn::{alarm_arn, partition_of_region},
        delivery::DeliveryProblem,
        ComparisonOperator, MetricAlarm, Resource, Scope,
    },
    support::format_number,
};

/// The symbol of a comparison, for messages.
pub(super) fn comparison_symbol(op: ComparisonOperator) -> &'static str {
    use ComparisonOperator::*;
    match op {
        GreaterThanOrEqualToThreshold => ">=",
        GreaterThanThreshold => ">",
        LessThanThreshold => "<",
        LessThanOrEqualToThreshold => "<=",
        LessThanLowerOrGreaterThanUpperThreshold => "outside band",
        LessThanLowerThreshold => "below band",
        GreaterThanUpperThreshold => "above band",
    }
}

/// What a requirement asks for, as the messages describe it.
pub(super) struct Required<'a> {
    pub resource: &'a Resource,
    pub rule: &'a AlarmRule,
    /// `policy/rule`, with `[Dimension=value]` for a fanned-out requirement.
    pub requirement: std::borrow::Cow<'a, str>,
    pub policy: &'a str,
    pub origin: Origin,
}

/// What the required alarm watches (`AWS/EC2 CPUUtilization`, with a math alarm's expression)
/// and when it fires (`> 80`, `outside band of 2 standard deviations`).
fn condition(rule: &AlarmRule, threshold: f64) -> (String, String) {
    let watched = match &rule.expression {
        Some(expression) => format!("{} {} = {expression}", rule.namespace, rule.metric),
        None => format!("{} {}", rule.namespace, rule.metric),
    };
    let firing = match rule.anomaly_band {
        Some(_) => format!("{} of {} standard deviations", comparison_symbol(rule.comparison), format_number(threshold)),
        None => format!("{} {}", comparison_symbol(rule.comparison), format_number(threshold)),
    };
    (watched, firing)
}

/// The message of a missing alarm; also the requirement record's detail.
pub(super) fn missing_alarm_message(required: &Required, dimensions: &str, threshold: f64) -> String {
    let rule = required.rule;
    let (watched, firing) = condition(rule, threshold);
    format!("no alarm on {watched} ({dimensions}) {firing} for {} periods of {}s; required by {}", rule.evaluation_periods, rule.period, required.requirement)
}

pub(super) fn missing_alarm(required: &Required, message: String, threshold: f64) -> Finding {
    let rule = required.rule;
    Finding::new(
        Code::MissingAlarm,
        &required.resource.arn,
        message,
        {
            let (watched, firing) = condition(rule, threshold);
            format!("Create a {} alarm on {watched} {firing} (run `onwatch generate`), or add an exemption to policy {}.", rule.severity, required.policy)
        },
    )
    .with_type(&required.resource.resource_type)
    .with_requirement(required.requirement.to_string(), Some(required.origin.clone()))
}

/// A setting of an existing alarm that differs from its requirement.
pub(super) fn misconfigured(required: &Required, alarm: &MetricAlarm, mismatch: &Mismatch) -> Finding {
    Finding::new(
        mismatch.code,
        &required.resource.arn,
        format!("alarm {:?}: {}; required by {}", alarm.name, mismatch.message, required.requirement),
        format!("{} Update alarm {:?} accordingly (run `onwatch generate --all` to have Terraform own it).", mismatch.code.fix(), alarm.name),
    )
    .with_type(&required.resource.resource_type)
    .with_alarm(&alarm.name)
    .with_requirement(required.requirement.to_string(), Some(required.origin.clone()))
}

pub(super) fn agent_metrics_missing(resource: &Resource, publisher: &str, metrics: &[&str]) -> Finding {
    let metrics = metrics.join(", ");
    Finding::new(
        Code::AgentMetricsMissing,
        &resource.arn,
        format!("{publisher} publishes no {metrics} for this resource, so it cannot be alarmed on"),
        format!("Enable {publisher} for this resource so that it publishes {metrics}."),
    )
    .with_type(&resource.resource_type)
}

pub(super) fn invalid_threshold_tag(resource: &Resource, tag: &str, text: &str) -> Finding {
    Finding::new(
        Code::InvalidThresholdTag,
        &resource.arn,
        format!("tag {tag} = {text:?} is not a number; the configured threshold applies"),
        format!("Set tag {tag} to a plain number, or remove it."),
    )
    .with_type(&resource.resource_type)
}

pub(super) fn exemption_expired(resource: &Resource, policy: &Policy, index: usize, exemption: &CheckedExemption) -> Finding {
    Finding::new(
        Code::ExemptionExpired,
        &resource.arn,
        format!("exemption in policy {} expired on {} ({}); its findings are reported again", policy.id, exemption.waiver.expires, exemption.waiver.reason),
        format!("Fix the findings, or renew the exemption in {} with a new expiry date.", policy.file),
    )
    .with_type(&resource.resource_type)
    .with_requirement(format!("{}/exemptions[{index}]", policy.id), Some(exemption.waiver.origin.clone()))
}

pub(super) fn opt_out_without_reason(resource: &Resource, tag_prefix: &str) -> Finding {
    Finding::new(
        Code::OptOutWithoutReason,
        &resource.arn,
        format!("tag {tag_prefix}ignore is set without a reason, so the resource is still checked"),
        format!("Set tag {tag_prefix}ignore to the reason this resource needs no alarms."),
    )
    .with_type(&resource.resource_type)
}

pub(super) fn unresolved_dimensions(resource: &Resource, namespace: &str, why: &str) -> Finding {
    Finding::new(
        Code::UnresolvedDimensions,
        &resource.arn,
        format!("cannot compute {namespace} dimensions for this {}: {why}", resource.resource_type),
        Code::UnresolvedDimensions.fix(),
    )
    .with_type(&resource.resource_type)
}

pub(super) fn orphaned_alarm(alarm: &MetricAlarm) -> Finding {
    let watched: Vec<String> = alarm.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Finding::new(
        Code::OrphanedAlarm,
        alarm.arn(),
        format!(
            "alarm {:?} watches {} {} in {}, which is not in the inventory",
            alarm.name,
            alarm.namespace.as_deref().unwrap_or(""),
            watched.join(", "),
            alarm.region
        ),
        format!("Delete alarm {:?} if its resource is gone; otherwise make sure the scan sees the resource.", alarm.name),
    )
    .with_alarm(&alarm.name)
}

/// An alarm whose notifications reach nobody, reported once per alarm.
pub(super) fn undelivered(alarm: &MetricAlarm, problem: &DeliveryProblem) -> Finding {
    Finding::new(problem.code, alarm.arn(), problem.message.clone(), problem.code.fix()).with_alarm(&alarm.name)
}

/// The message of a threshold that differs, naming where the required one came from.
pub(super) fn threshold_message(actual: Option<f64>, required: &Threshold, tag: &str) -> String {
    format!(
        "threshold is {}, required {} (from {})",
        actual.map_or("absent".to_string(), format_number),
        format_number(required.value),
        required.describe(tag)
    )
}

/// An (account, region) that a partial scan could not read: unknown, never clean.
pub(crate) fn scope_unknown(scope: &Scope, failure: &str) -> Finding {
    Finding::new(
        Code::ScopeUnknown,
        format!("{}/{}", scope.account, scope.region),
        format!("account {} region {} was not scanned, so its coverage and security are unknown: {failure}", scope.account, scope.region),
        Code::ScopeUnknown.fix(),
    )
}

pub(super) fn band_message(actual: f64, required: f64) -> String {
    format!("anomaly band is {} standard deviations wide, required {} (policy default)", format_number(actual), format_number(required))
}

/// What is wrong with one configured roll-up, for [`rollup_incomplete`].
pub(super) enum RollupGap<'a> {
    /// No composite alarm of the roll-up's name exists; these alarms would be its members.
    Absent { members: Vec<&'a str> },
    /// The composite exists: the members its rule (and the parts it references) leaves out, and
    /// the alarms it references that do not exist.
    Incomplete { left_out: Vec<&'a str>, dangling: Vec<&'a str> },
}

/// A roll-up of `config/composites.json` that does not notify for all of its members.
pub(super) fn rollup_incomplete(key: &RollupKey, tag: &str, name: &str, gap: &RollupGap) -> Finding {
    let what = format!("roll-up {name:?} ({tag}={:?}, severity {}, {})", key.value, key.severity, key.region);
    let quoted = |names: &[&str]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
    let message = match gap {
        RollupGap::Absent { members } => format!("{what} does not exist, so nothing notifies for its {} member alarms: {}", members.len(), quoted(members)),
        RollupGap::Incomplete { left_out, dangling } => {
            let mut parts = Vec::new();
            if !left_out.is_empty() {
                parts.push(format!("leaves out {} alarms of its application and severity: {}", left_out.len(), quoted(left_out)));
            }
            if !dangling.is_empty() {
                parts.push(format!("refers to {} alarms that do not exist: {}", dangling.len(), quoted(dangling)));
            }
            format!("{what} {}", parts.join("; it "))
        }
    };
    Finding::new(Code::RollupIncomplete, alarm_arn(partition_of_region(&key.region), &key.region, &key.account, name), message, Code::RollupIncomplete.fix()).with_alarm(name)
}
