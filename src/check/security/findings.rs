//! The security check's findings: one constructor per code.

use super::LogGroupPlace;
use crate::{
    config::{security::ControlExemptionChecked, Control, SecuritySettings},
    findings::{Code, Finding},
    model::{LogMetricFilter, MetricAlarm},
};

/// `benchmark/number`, the requirement a control's findings name.
pub(super) fn requirement(settings: &SecuritySettings, control: &Control) -> String {
    format!("{}/{}", settings.benchmark, control.number)
}

pub(super) fn region_not_scanned(settings: &SecuritySettings, place: &LogGroupPlace) -> Finding {
    Finding::new(
        Code::SecurityRegionNotScanned,
        &place.arn,
        format!(
            "the inventory does not cover {} in {}, where log group {} is, so its metric filters are unknown",
            place.region, place.account, settings.log_group
        ),
        format!("Scan {} too (`--region {}`), or set region in {} to where the log group is.", place.region, place.region, settings.file),
    )
}

pub(super) fn trail_missing(settings: &SecuritySettings, place: &LogGroupPlace, gap: &str) -> Finding {
    Finding::new(
        Code::SecurityTrailMissing,
        &place.arn,
        format!("no multi-region CloudTrail trail that is logging delivers to log group {} in {}: {gap}", settings.log_group, place.region),
        format!(
            "Create a multi-region trail (or an organization trail) that delivers to {} and start logging, or set log_group in {} to the log group your trail delivers to.",
            settings.log_group, settings.file
        ),
    )
    .with_requirement(format!("{}/trail", settings.benchmark), None)
}

pub(super) fn filter_unsupported(place: &LogGroupPlace, filter: &LogMetricFilter, error: &str) -> Finding {
    Finding::new(
        Code::SecurityFilterUnsupported,
        &place.arn,
        format!("metric filter {:?} has a pattern onwatch cannot evaluate ({error}), so it counts for no control", filter.name),
        "Rewrite the pattern as a JSON filter pattern ({ $.field = \"value\" && ... }), or leave it: onwatch generates its own filters for the controls it leaves uncovered.",
    )
}

pub(super) fn exemption_expired(settings: &SecuritySettings, place: &LogGroupPlace, control: &Control, exemption: &ControlExemptionChecked) -> Finding {
    Finding::new(
        Code::ExemptionExpired,
        &place.arn,
        format!("exemption of {} expired on {} ({}); its findings are reported again", control.label(&settings.benchmark), exemption.waiver.expires, exemption.waiver.reason),
        format!("Cover the control, or renew the exemption in {} with a new expiry date.", settings.file),
    )
    .with_requirement(requirement(settings, control), None)
}

pub(super) fn filter_missing(settings: &SecuritySettings, place: &LogGroupPlace, control: &Control, detail: &str) -> Finding {
    Finding::new(
        Code::SecurityFilterMissing,
        &place.arn,
        format!("{} {}: {detail}", control.label(&settings.benchmark), control.title),
        format!("Run `onwatch generate` (it writes the metric filter and alarm), or add a metric filter with the pattern {}.", control.filter_pattern),
    )
    .with_requirement(requirement(settings, control), None)
}

pub(super) fn alarm_missing(settings: &SecuritySettings, place: &LogGroupPlace, control: &Control, filter: &LogMetricFilter, detail: &str) -> Finding {
    Finding::new(
        Code::SecurityAlarmMissing,
        &place.arn,
        format!("{} {}: {detail}", control.label(&settings.benchmark), control.title),
        format!(
            "Create an alarm on {} >= 1 (Sum, one period of 5 minutes) notifying the {} topic, or run `onwatch generate`.",
            metric_names(filter),
            settings.severity
        ),
    )
    .with_requirement(requirement(settings, control), None)
}

pub(super) fn alarm_unrouted(settings: &SecuritySettings, place: &LogGroupPlace, control: &Control, alarm: &MetricAlarm, detail: &str) -> Finding {
    Finding::new(
        Code::SecurityAlarmUnrouted,
        &place.arn,
        format!("{} {}: {detail}", control.label(&settings.benchmark), control.title),
        format!(
            "Point alarm {:?} at an SNS topic with a confirmed subscription (the {} topic onwatch generates), with its actions enabled.",
            alarm.name, settings.severity
        ),
    )
    .with_alarm(&alarm.name)
    .with_requirement(requirement(settings, control), None)
}

pub(super) fn filter_noisy(settings: &SecuritySettings, place: &LogGroupPlace, filter: &str, controls: &[String]) -> Finding {
    let one = controls.len() == 1;
    Finding::new(
        Code::SecurityFilterNoisy,
        &place.arn,
        format!(
            "metric filter {filter:?} matches every event of {} {}, but also events {} must not alert on, so it counts for none: {}",
            settings.benchmark,
            if one { "control" } else { "controls" },
            if one { "it" } else { "they" },
            controls.join("; ")
        ),
        "Narrow the pattern to one control's events (the security-filter-missing findings name each control's pattern), or delete the filter and run `onwatch generate`.",
    )
}

/// `namespace/name` of the metrics a filter publishes.
pub(super) fn metric_names(filter: &LogMetricFilter) -> String {
    filter.metrics.iter().map(|m| format!("{}/{}", m.namespace, m.name)).collect::<Vec<_>>().join(", ")
}
