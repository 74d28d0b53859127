//! The hygiene check's findings: one constructor per code.

use time::Date;

use super::MetricKey;
use crate::{
    config::{ActionState, Flapping},
    findings::{Code, Finding},
    model::MetricAlarm,
};

fn describe(key: &MetricKey) -> String {
    let dimensions: Vec<String> = key.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} {} ({})", key.namespace, key.metric_name, dimensions.join(", "))
}

pub(super) fn metric_absent(alarm: &MetricAlarm, absent: &[MetricKey]) -> Finding {
    let listed: Vec<String> = absent.iter().map(describe).collect();
    Finding::new(
        Code::AlarmMetricAbsent,
        alarm.arn(),
        format!(
            "alarm {:?} reads {}, which ListMetrics does not list in account {} region {}: no data in the last two weeks, so it cannot fire unless the metric is published only on events",
            alarm.name,
            listed.join(" and "),
            alarm.account,
            alarm.region
        ),
        format!("Point alarm {:?} at a metric the resource publishes (check namespace, name and every dimension), or keep it if the metric appears only on errors.", alarm.name),
    )
    .with_alarm(&alarm.name)
}

pub(super) fn stuck_insufficient_data(alarm: &MetricAlarm, since: Date, days: i64, allowed: u32) -> Finding {
    Finding::new(
        Code::AlarmStuckInsufficientData,
        alarm.arn(),
        format!("alarm {:?} has been in INSUFFICIENT_DATA since {since} ({days} days, more than the {allowed} allowed)", alarm.name),
        format!("Check that alarm {:?} watches a metric its resource publishes, or delete it if the resource is gone.", alarm.name),
    )
    .with_alarm(&alarm.name)
}

pub(super) fn flapping(alarm: &MetricAlarm, changes: usize, limit: Flapping) -> Finding {
    Finding::new(
        Code::AlarmFlapping,
        alarm.arn(),
        format!("alarm {:?} changed state {changes} times in {} days (more than the {} allowed)", alarm.name, limit.window_days, limit.max_changes),
        format!("Make alarm {:?} steadier: require M of N datapoints, lengthen its period, or move its threshold off the metric's normal range.", alarm.name),
    )
    .with_alarm(&alarm.name)
}

pub(super) fn state_action_missing(alarm: &MetricAlarm, missing: &[ActionState]) -> Finding {
    let states: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    Finding::new(
        Code::AlarmStateActionMissing,
        alarm.arn(),
        format!("alarm {:?} has no {} action, which alarm_hygiene.required_actions requires", alarm.name, states.join(" or ")),
        format!("Add {} actions to alarm {:?} (the topic of its alarm action).", states.join(" and "), alarm.name),
    )
    .with_alarm(&alarm.name)
}
