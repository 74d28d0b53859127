//! Alarm hygiene: alarms that exist but will not do their job. Every metric alarm is judged, not
//! only the ones policies require, and each check is off until `alarm_hygiene` in
//! `config/alert_thresholds.json` turns it on:
//!
//! - `alarm-metric-absent`: a metric the alarm reads is not in ListMetrics for its account and
//!   region (judged only in the inventory's scanned scopes, whose metrics were all listed);
//! - `alarm-stuck-insufficient-data`: INSUFFICIENT_DATA since longer than the configured days;
//! - `alarm-flapping`: more state changes than allowed within the window (the scan's history);
//! - `alarm-state-action-missing`: no OK or INSUFFICIENT_DATA action where one is required.
//!
//! Pure: times are judged against the `--as-of` day, never the clock.

pub mod findings;

use std::collections::HashSet;

use time::{format_description::well_known::Rfc3339, Date, Duration, OffsetDateTime};

use crate::{
    config::{ActionState, AlarmHygiene, Flapping},
    findings::Finding,
    model::{AlarmState, Dimensions, Inventory, MetricAlarm},
};

/// A metric as CloudWatch identifies it: namespace, name, the full dimension set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricKey<'a> {
    pub namespace: &'a str,
    pub metric_name: &'a str,
    pub dimensions: &'a Dimensions,
}

/// The hygiene findings of `inventory`'s metric alarms, ordered by alarm ARN within each code.
pub fn evaluate(inventory: &Inventory, hygiene: &AlarmHygiene, today: Date) -> Vec<Finding> {
    if hygiene.is_off() {
        return Vec::new();
    }
    let listed = hygiene.metric_absent.then(|| Listed::new(inventory));
    let mut alarms: Vec<&MetricAlarm> = inventory.alarms.iter().collect();
    alarms.sort_by_key(|a| a.arn());
    let mut out = Vec::new();
    for alarm in alarms {
        if let Some(listed) = &listed {
            let absent = listed.absent(alarm);
            if !absent.is_empty() {
                out.push(findings::metric_absent(alarm, &absent));
            }
        }
        if let Some(days) = hygiene.insufficient_data_days {
            if let Some((since, stuck)) = stuck_days(alarm, today).filter(|(_, stuck)| *stuck > i64::from(days)) {
                out.push(findings::stuck_insufficient_data(alarm, since, stuck, days));
            }
        }
        if let Some(flapping) = hygiene.flapping {
            if let Some(changes) = changes_in_window(alarm, flapping, today).filter(|n| *n > flapping.max_changes as usize) {
                out.push(findings::flapping(alarm, changes, flapping));
            }
        }
        let missing: Vec<ActionState> = hygiene.required_actions.iter().copied().filter(|state| actions(alarm, *state).is_empty()).collect();
        if !missing.is_empty() {
            out.push(findings::state_action_missing(alarm, &missing));
        }
    }
    out
}

/// The metrics ListMetrics listed, and the (account, region) scopes whose listing is complete.
struct Listed<'i> {
    metrics: HashSet<(&'i str, &'i str, MetricKey<'i>)>,
    scopes: HashSet<(&'i str, &'i str)>,
}

impl<'i> Listed<'i> {
    fn new(inventory: &'i Inventory) -> Self {
        let metrics = inventory
            .metrics
            .iter()
            .map(|m| (m.account.as_str(), m.region.as_str(), MetricKey { namespace: &m.namespace, metric_name: &m.metric_name, dimensions: &m.dimensions }))
            .collect();
        let scopes = inventory.scopes.iter().filter(|s| s.failed.is_none()).map(|s| (s.account.as_str(), s.region.as_str())).collect();
        Listed { metrics, scopes }
    }

    /// The metrics `alarm` reads that were not listed; none when its scope was not scanned.
    fn absent<'a>(&self, alarm: &'a MetricAlarm) -> Vec<MetricKey<'a>> {
        if !self.scopes.contains(&(alarm.account.as_str(), alarm.region.as_str())) {
            return Vec::new();
        }
        read_metrics(alarm).into_iter().filter(|key| !self.metrics.contains(&(alarm.account.as_str(), alarm.region.as_str(), *key))).collect()
    }
}

/// Every metric an alarm reads: its one metric, or each metric of its queries (a metric-math
/// alarm's inputs, an anomaly band's metric); expressions read no metric of their own.
pub fn read_metrics(alarm: &MetricAlarm) -> Vec<MetricKey<'_>> {
    if let (Some(namespace), Some(metric_name)) = (&alarm.namespace, &alarm.metric_name) {
        return vec![MetricKey { namespace, metric_name, dimensions: &alarm.dimensions }];
    }
    alarm
        .metrics
        .iter()
        .filter_map(|query| query.metric.as_ref())
        .map(|stat| MetricKey { namespace: &stat.namespace, metric_name: &stat.metric_name, dimensions: &stat.dimensions })
        .collect()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// For an alarm in INSUFFICIENT_DATA: the day its state last changed, and the whole days from
/// then to `today`.
fn stuck_days(alarm: &MetricAlarm, today: Date) -> Option<(Date, i64)> {
    if alarm.state != Some(AlarmState::InsufficientData) {
        return None;
    }
    let since = parse_time(alarm.state_updated_at.as_deref()?)?.to_offset(time::UtcOffset::UTC).date();
    Some((since, (today - since).whole_days()))
}

/// State changes on the `window_days` days ending with `today`; none when the history was not read.
fn changes_in_window(alarm: &MetricAlarm, flapping: Flapping, today: Date) -> Option<usize> {
    let first = today - Duration::days(i64::from(flapping.window_days) - 1);
    let changes = alarm.state_changes.as_ref()?;
    Some(
        changes
            .iter()
            .filter_map(|text| parse_time(text))
            .map(|when| when.to_offset(time::UtcOffset::UTC).date())
            .filter(|day| (first..=today).contains(day))
            .count(),
    )
}

fn actions(alarm: &MetricAlarm, state: ActionState) -> &[String] {
    match state {
        ActionState::Ok => &alarm.ok_actions,
        ActionState::InsufficientData => &alarm.insufficient_data_actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn alarm(json: serde_json::Value) -> MetricAlarm {
        let mut base = serde_json::json!({
            "name": "a", "region": "us-east-1", "account": "111111111111", "evaluation_periods": 1,
            "comparison_operator": "GreaterThanThreshold", "namespace": "AWS/EC2", "metric_name": "CPUUtilization",
            "dimensions": {"InstanceId": "i-1"}
        });
        base.as_object_mut().unwrap().extend(json.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn hygiene_stuck_days_count_from_the_state_day_to_as_of() {
        let stuck = alarm(serde_json::json!({"state": "INSUFFICIENT_DATA", "state_updated_at": "2026-11-20T23:59:59Z"}));
        assert_eq!(stuck_days(&stuck, date!(2026 - 12 - 03)), Some((date!(2026 - 11 - 20), 13)));
        let ok = alarm(serde_json::json!({"state": "OK", "state_updated_at": "2026-11-20T23:59:59Z"}));
        assert_eq!(stuck_days(&ok, date!(2026 - 12 - 03)), None);
        // An offset other than Z is read in UTC.
        let offset = alarm(serde_json::json!({"state": "INSUFFICIENT_DATA", "state_updated_at": "2026-11-21T01:00:00+02:00"}));
        assert_eq!(stuck_days(&offset, date!(2026 - 12 - 03)), Some((date!(2026 - 11 - 20), 13)));
    }

    #[test]
    fn hygiene_flapping_window_ends_with_the_as_of_day() {
        let changes = ["2026-11-26T23:00:00Z", "2026-11-27T00:00:00Z", "2026-12-03T10:00:00Z", "2026-12-04T00:00:00Z"];
        let flapping = alarm(serde_json::json!({"state_changes": changes}));
        let window = Flapping { max_changes: 1, window_days: 7 };
        // 2026-11-27 .. 2026-12-03: the first change is a day too early, the last a day too late.
        assert_eq!(changes_in_window(&flapping, window, date!(2026 - 12 - 03)), Some(2));
        assert_eq!(changes_in_window(&alarm(serde_json::json!({})), window, date!(2026 - 12 - 03)), None, "history not read");
    }

    #[test]
    fn hygiene_math_alarms_read_each_query_metric() {
        let math = alarm(serde_json::json!({"namespace": null, "metric_name": null, "dimensions": {}, "metrics": [
            {"id": "e", "expression": "100 * errors / invocations"},
            {"id": "errors", "metric": {"namespace": "AWS/Lambda", "metric_name": "Errors", "dimensions": {"FunctionName": "f"}, "period": 60, "stat": "Sum"}, "return_data": false},
            {"id": "invocations", "metric": {"namespace": "AWS/Lambda", "metric_name": "Invocations", "dimensions": {"FunctionName": "f"}, "period": 60, "stat": "Sum"}, "return_data": false}
        ]}));
        let names: Vec<&str> = read_metrics(&math).iter().map(|k| k.metric_name).collect();
        assert_eq!(names, ["Errors", "Invocations"]);
    }
}
