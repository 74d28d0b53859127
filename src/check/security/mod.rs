//! Security coverage: for each account, is there a multi-region CloudTrail trail delivering to the
//! configured CloudWatch Logs log group, and for each monitoring control of the chosen benchmark a
//! metric filter on that log group that detects the control's events, an alarm on the filter's
//! metric that fires on one event, and an action that reaches somebody? A pure function over the
//! inventory, a peer of the coverage check.
//!
//! "Detects the control's events" is decided by running the filter's pattern over the control's
//! sample CloudTrail events ([`FilterPattern`]): a filter covers a control when it matches every event
//! the control must alert on, whatever its spelling.

mod findings;

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    config::{waiver, Control, SecuritySettings},
    findings::Finding,
    model::{delivery::Delivery, filter_pattern::FilterPattern, Arn, ComparisonOperator, Inventory, LogMetricFilter, MetricAlarm, Trail},
    support::format_number,
};

/// What became of one control in one account; the first gap found, in the order trail, filter,
/// alarm, delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    Covered,
    /// Filter, alarm and delivery are in place, but no multi-region trail feeds the log group.
    NoTrail,
    /// The log group's region was not scanned, so its metric filters are unknown.
    NotScanned,
    NoFilter,
    NoAlarm,
    Unrouted,
    Exempted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlResult {
    pub account: String,
    /// The control's number in the benchmark.
    pub control: String,
    pub detection: String,
    pub title: String,
    pub status: ControlStatus,
    /// The metric filter that detects the control's events, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The alarm on its metric, if one fires on a single event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ControlResult {
    fn new(account: &str, control: &Control, status: ControlStatus) -> Self {
        ControlResult {
            account: account.to_string(),
            control: control.number.clone(),
            detection: control.detection.clone(),
            title: control.title.clone(),
            status,
            filter: None,
            alarm: None,
            detail: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SecuritySummary {
    pub benchmark: String,
    /// The CloudTrail log group the controls are checked on, per account (ARN).
    pub log_groups: Vec<String>,
    /// Controls that apply, in all accounts (exempted ones excluded).
    pub required: usize,
    pub covered: usize,
    pub exempted: usize,
    /// covered / required, floored to one decimal; 100 when nothing is required.
    pub coverage_percent: f64,
    pub controls: Vec<ControlResult>,
}

/// Where one account's detections live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupPlace {
    pub account: String,
    pub region: String,
    pub arn: String,
}

/// The accounts an inventory describes, sorted.
pub fn accounts(inventory: &Inventory) -> BTreeSet<&str> {
    let mut accounts: BTreeSet<&str> = inventory.scopes.iter().map(|s| s.account.as_str()).collect();
    accounts.extend(inventory.resources.iter().map(|r| r.account.as_str()));
    accounts.extend(inventory.trails.iter().map(|t| t.account.as_str()));
    accounts.retain(|a| !a.is_empty());
    accounts
}

/// The configured log group of `account`: in the configured region, else where the account's
/// trail delivers to a log group of that name, else in the account's first scanned region.
pub fn log_group_place(inventory: &Inventory, settings: &SecuritySettings, account: &str) -> LogGroupPlace {
    let from_trail = || {
        inventory
            .trails
            .iter()
            .filter(|t| t.account == account && t.log_group_name() == Some(settings.log_group.as_str()))
            .find_map(|t| t.log_group_region())
            .map(str::to_string)
    };
    let first_region = || {
        let scoped = inventory.scopes.iter().filter(|s| s.account == account).map(|s| s.region.as_str());
        let resources = inventory.resources.iter().filter(|r| r.account == account && !r.region.is_empty()).map(|r| r.region.as_str());
        scoped.min().or_else(|| resources.min()).unwrap_or("us-east-1").to_string()
    };
    let region = settings.region.clone().or_else(from_trail).unwrap_or_else(first_region);
    let partition = inventory
        .resources
        .iter()
        .find(|r| r.account == account)
        .and_then(|r| Arn::parse(&r.arn))
        .map_or("aws", |arn| arn.partition);
    let arn = format!("arn:{partition}:logs:{region}:{account}:log-group:{}", settings.log_group);
    LogGroupPlace { account: account.to_string(), region, arn }
}

/// Whether an alarm on a filter's metric fires on a single matching event: at or above 1 (or above
/// something less than 1) in one datapoint. A filter publishes 1 per matching event.
fn fires_on_one_event(alarm: &MetricAlarm) -> Result<(), String> {
    let threshold = alarm.threshold.unwrap_or(f64::INFINITY);
    let sensitive = match alarm.comparison_operator {
        ComparisonOperator::GreaterThanOrEqualToThreshold => threshold <= 1.0,
        ComparisonOperator::GreaterThanThreshold => threshold < 1.0,
        _ => false,
    };
    if !sensitive {
        return Err(format!(
            "alarm {:?} fires only when the metric is {} {}, not on one event",
            alarm.name,
            alarm.comparison_operator.as_str(),
            alarm.threshold.map_or("(no threshold)".to_string(), format_number)
        ));
    }
    let datapoints = alarm.datapoints_to_alarm.unwrap_or(alarm.evaluation_periods);
    if datapoints > 1 {
        return Err(format!("alarm {:?} needs {datapoints} breaching periods, so a single event never fires it", alarm.name));
    }
    Ok(())
}

pub struct SecurityOutcome {
    pub summary: SecuritySummary,
    pub findings: Vec<Finding>,
}

/// Alarms on a metric some filter of the configured log group publishes, by (account, region,
/// namespace, metric), sorted by name: only those matter, and the inventory may hold hundreds of
/// thousands of others.
type FilterAlarms<'a> = BTreeMap<(&'a str, &'a str, &'a str, &'a str), Vec<&'a MetricAlarm>>;

fn filter_alarms<'a>(inventory: &'a Inventory, settings: &SecuritySettings) -> FilterAlarms<'a> {
    let filter_metrics: FxHashSet<(&str, &str, &str, &str)> = inventory
        .log_metric_filters
        .iter()
        .filter(|f| f.log_group == settings.log_group)
        .flat_map(|f| f.metrics.iter().map(move |m| (f.account.as_str(), f.region.as_str(), m.namespace.as_str(), m.name.as_str())))
        .collect();
    let mut alarms_by_metric: FilterAlarms = BTreeMap::new();
    if filter_metrics.is_empty() {
        return alarms_by_metric;
    }
    for alarm in &inventory.alarms {
        if let (Some(namespace), Some(metric)) = (&alarm.namespace, &alarm.metric_name) {
            let key = (alarm.account.as_str(), alarm.region.as_str(), namespace.as_str(), metric.as_str());
            if filter_metrics.contains(&key) {
                alarms_by_metric.entry(key).or_default().push(alarm);
            }
        }
    }
    for alarms in alarms_by_metric.values_mut() {
        alarms.sort_by(|a, b| a.name.cmp(&b.name));
    }
    alarms_by_metric
}

/// What one account's check reads.
struct Scope<'a, 'i> {
    inventory: &'i Inventory,
    settings: &'a SecuritySettings,
    today: Date,
    delivery: &'a Delivery<'i>,
    alarms: &'a FilterAlarms<'i>,
}

pub fn evaluate(inventory: &Inventory, settings: &SecuritySettings, today: Date, delivery: &Delivery) -> Option<SecurityOutcome> {
    if !settings.enabled {
        return None;
    }
    let alarms = filter_alarms(inventory, settings);
    let scope = Scope { inventory, settings, today, delivery, alarms: &alarms };
    let mut out = SecurityOutcome { summary: SecuritySummary { benchmark: settings.benchmark.clone(), ..SecuritySummary::default() }, findings: Vec::new() };
    for account in accounts(inventory) {
        scope.check_account(account, &mut out);
    }
    out.summary.coverage_percent = crate::check::coverage_percent(out.summary.covered, out.summary.required);
    Some(out)
}

impl<'i> Scope<'_, 'i> {
    fn check_account(&self, account: &str, out: &mut SecurityOutcome) {
        let (inventory, settings) = (self.inventory, self.settings);
        let place = log_group_place(inventory, settings, account);
        out.summary.log_groups.push(place.arn.clone());
        // Metric filters are regional: without the log group's region they are unknown, and
        // reporting every control as missing would be wrong.
        let scanned = inventory.scopes.iter().all(|s| s.account != account) || inventory.scopes.iter().any(|s| s.account == account && s.region == place.region);
        if !scanned {
            out.findings.push(findings::region_not_scanned(settings, &place));
            for control in &settings.controls {
                out.summary.required += 1;
                let mut result = ControlResult::new(account, control, ControlStatus::NotScanned);
                result.detail = Some(format!("{} was not scanned", place.region));
                out.summary.controls.push(result);
            }
            return;
        }
        let trail_gap = trail_gap(inventory, settings, &place);
        if let Some(gap) = &trail_gap {
            out.findings.push(findings::trail_missing(settings, &place, gap));
        }
        let filters = self.parsed_filters(&place, out);
        // Filters that match some controls' events but also events those must not alert on.
        let mut noisy_filters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for control in &settings.controls {
            if let Some(result) = self.exempted(&place, control, out) {
                out.summary.exempted += 1;
                out.summary.controls.push(result);
                continue;
            }
            let result = self.check_control(&place, control, &filters, trail_gap.as_deref(), &mut noisy_filters, out);
            if result.status == ControlStatus::Covered {
                out.summary.covered += 1;
            }
            out.summary.required += 1;
            out.summary.controls.push(result);
        }
        for (filter, controls) in noisy_filters {
            out.findings.push(findings::filter_noisy(settings, &place, filter, &controls));
        }
    }

    /// The filters on the log group, in name order, parsed once; the ones onwatch cannot read are
    /// reported once.
    fn parsed_filters(&self, place: &LogGroupPlace, out: &mut SecurityOutcome) -> Vec<(&'i LogMetricFilter, FilterPattern)> {
        let mut on_group: Vec<&LogMetricFilter> = self
            .inventory
            .log_metric_filters
            .iter()
            .filter(|f| f.account == place.account && f.region == place.region && f.log_group == self.settings.log_group)
            .collect();
        on_group.sort_by(|a, b| a.name.cmp(&b.name));
        let mut filters = Vec::new();
        for filter in on_group {
            match FilterPattern::parse(&filter.pattern) {
                Ok(parsed) => filters.push((filter, parsed)),
                Err(error) => out.findings.push(findings::filter_unsupported(place, filter, &error.to_string())),
            }
        }
        filters
    }

    /// The control's result when a current exemption covers it; an expired one is reported.
    fn exempted(&self, place: &LogGroupPlace, control: &Control, out: &mut SecurityOutcome) -> Option<ControlResult> {
        let exemption = self.settings.exemptions.iter().find(|e| e.number == control.number)?;
        if exemption.waiver.judge(self.today) == waiver::Judged::Holds {
            let mut result = ControlResult::new(&place.account, control, ControlStatus::Exempted);
            result.detail = Some(exemption.waiver.describe());
            return Some(result);
        }
        out.findings.push(findings::exemption_expired(self.settings, place, control, exemption));
        None
    }

    /// Judges one control in one account, reporting its gap.
    fn check_control<'f>(
        &self,
        place: &LogGroupPlace,
        control: &Control,
        filters: &'f [(&'i LogMetricFilter, FilterPattern)],
        trail_gap: Option<&str>,
        noisy_filters: &mut BTreeMap<&'i str, Vec<String>>,
        out: &mut SecurityOutcome,
    ) -> ControlResult {
        let settings = self.settings;
        let mut result = ControlResult::new(&place.account, control, ControlStatus::Covered);
        // A filter covers the control when it matches every event the control must alert on and
        // none it must not; the benchmark's own pattern covers it even where it is broader (its
        // assessors require exactly that pattern).
        let mut covering: Vec<&'f (&'i LogMetricFilter, FilterPattern)> = Vec::new();
        let mut noisy: Vec<&str> = Vec::new();
        for pair in filters {
            let (filter, pattern) = (pair.0, &pair.1);
            if !control.triggers.iter().all(|(_, event)| pattern.matches(event)) {
                continue;
            }
            let prescribed = squeeze(&filter.pattern) == squeeze(&control.filter_pattern);
            match control.ignores.iter().find(|(_, event)| !prescribed && pattern.matches(event)) {
                None => covering.push(pair),
                Some((unwanted, _)) => {
                    noisy.push(&filter.name);
                    noisy_filters.entry(filter.name.as_str()).or_default().push(format!("{} (for example {unwanted})", control.number));
                }
            }
        }
        match judge(&covering, self.alarms, self.delivery) {
            Judged::NoFilter => {
                let detail = no_filter_detail(settings, control, filters, &noisy);
                out.findings.push(findings::filter_missing(settings, place, control, &detail));
                result.status = ControlStatus::NoFilter;
                result.detail = Some(detail);
            }
            Judged::NoAlarm { filter, why } => {
                let detail = format!("metric filter {:?} detects its events, but {why}", filter.name);
                out.findings.push(findings::alarm_missing(settings, place, control, filter, &detail));
                result.status = ControlStatus::NoAlarm;
                result.filter = Some(filter.name.clone());
                result.detail = Some(detail);
            }
            Judged::Unrouted { filter, alarm, why } => {
                let detail = format!("alarm {:?} on metric filter {:?} notifies nobody: {why}", alarm.name, filter.name);
                out.findings.push(findings::alarm_unrouted(settings, place, control, alarm, &detail));
                result.status = ControlStatus::Unrouted;
                result.filter = Some(filter.name.clone());
                result.alarm = Some(alarm.name.clone());
                result.detail = Some(detail);
            }
            Judged::Covered { filter, alarm } => {
                result.filter = Some(filter.name.clone());
                result.alarm = Some(alarm.name.clone());
                if let Some(gap) = trail_gap {
                    result.status = ControlStatus::NoTrail;
                    result.detail = Some(gap.to_string());
                }
            }
        }
        result
    }
}

/// Why no filter detects a control: the noisy filters that match too much, else the closest
/// partial match and what it misses, else that none matches.
fn no_filter_detail(settings: &SecuritySettings, control: &Control, filters: &[(&LogMetricFilter, FilterPattern)], noisy: &[&str]) -> String {
    if !noisy.is_empty() {
        let names: Vec<String> = noisy.iter().map(|n| format!("{n:?}")).collect();
        let (noun, verb) = if names.len() == 1 { ("metric filter", "matches") } else { ("metric filters", "match") };
        return format!("{noun} {} {verb} its events but also events it must not alert on", names.join(", "));
    }
    let partial = filters
        .iter()
        .map(|(filter, pattern)| {
            let missed: Vec<&str> = control.triggers.iter().filter(|(_, event)| !pattern.matches(event)).map(|(d, _)| d.as_str()).collect();
            (missed.len(), filter, missed)
        })
        .filter(|(missed, _, _)| *missed < control.triggers.len())
        .min_by_key(|(missed, filter, _)| (*missed, &filter.name));
    match partial {
        Some((_, filter, missed)) => {
            let shown: Vec<&str> = missed.iter().take(5).copied().collect();
            let more = if missed.len() > shown.len() { format!(" and {} more", missed.len() - shown.len()) } else { String::new() };
            format!(
                "metric filter {:?} matches {} of its {} events; it misses {}{more}",
                filter.name,
                control.triggers.len() - missed.len(),
                control.triggers.len(),
                shown.join("; ")
            )
        }
        None => format!("no metric filter on log group {} matches its events", settings.log_group),
    }
}

/// A pattern without its whitespace, to compare spellings.
fn squeeze(pattern: &str) -> String {
    pattern.chars().filter(|c| !c.is_whitespace()).collect()
}

enum Judged<'a> {
    NoFilter,
    NoAlarm { filter: &'a LogMetricFilter, why: String },
    Unrouted { filter: &'a LogMetricFilter, alarm: &'a MetricAlarm, why: String },
    Covered { filter: &'a LogMetricFilter, alarm: &'a MetricAlarm },
}

/// The best any covering filter gets: covered beats unrouted beats no alarm.
fn judge<'a>(
    covering: &[&'a (&'a LogMetricFilter, FilterPattern)],
    alarms_by_metric: &FilterAlarms<'a>,
    delivery: &Delivery,
) -> Judged<'a> {
    let mut best = Judged::NoFilter;
    let rank = |judged: &Judged| match judged {
        Judged::NoFilter => 0,
        Judged::NoAlarm { .. } => 1,
        Judged::Unrouted { .. } => 2,
        Judged::Covered { .. } => 3,
    };
    for filter in covering.iter().map(|pair| &pair.0) {
        let alarms: Vec<&MetricAlarm> = filter
            .metrics
            .iter()
            .flat_map(|m| {
                alarms_by_metric.get(&(filter.account.as_str(), filter.region.as_str(), m.namespace.as_str(), m.name.as_str())).into_iter().flatten()
            })
            .copied()
            .collect();
        // Each alarm judged once: a routed alarm that fires on one event covers the control;
        // else the first that fires is unrouted; else none is sensitive enough.
        let mut insensitive = Vec::new();
        let mut first_unrouted = None;
        let mut covering_alarm = None;
        for alarm in alarms {
            match fires_on_one_event(alarm) {
                Err(why) => insensitive.push(why),
                Ok(()) => match routed(alarm, delivery) {
                    Ok(()) => {
                        covering_alarm = Some(alarm);
                        break;
                    }
                    Err(why) => {
                        first_unrouted.get_or_insert((alarm, why));
                    }
                },
            }
        }
        let mut judged = match (covering_alarm, first_unrouted) {
            (Some(alarm), _) => Judged::Covered { filter, alarm },
            (None, Some((alarm, why))) => Judged::Unrouted { filter, alarm, why },
            (None, None) if insensitive.is_empty() => Judged::NoAlarm { filter, why: format!("no alarm watches its metric {}", findings::metric_names(filter)) },
            (None, None) => Judged::NoAlarm { filter, why: insensitive.join("; ") },
        };
        if rank(&judged) > rank(&best) {
            std::mem::swap(&mut best, &mut judged);
        }
        if matches!(best, Judged::Covered { .. }) {
            break;
        }
    }
    best
}

/// Whether an alarm's notifications reach somebody.
fn routed(alarm: &MetricAlarm, delivery: &Delivery) -> Result<(), String> {
    let problems = delivery.problems(alarm);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.into_iter().map(|p| p.message).collect::<Vec<_>>().join("; "))
    }
}

/// Why no trail feeds the log group, or `None` when one does.
fn trail_gap(inventory: &Inventory, settings: &SecuritySettings, place: &LogGroupPlace) -> Option<String> {
    let trails: Vec<&Trail> = inventory.trails.iter().filter(|t| t.account == place.account).collect();
    let feeds = |t: &Trail| t.log_group_name() == Some(settings.log_group.as_str()) && t.log_group_region() == Some(place.region.as_str());
    if trails.iter().any(|t| t.multi_region && t.logging && feeds(t)) {
        return None;
    }
    if trails.is_empty() {
        return Some("the inventory holds no CloudTrail trail for this account".to_string());
    }
    let mut reasons: Vec<String> = trails
        .iter()
        .map(|t| {
            let mut wrong = Vec::new();
            if !t.multi_region {
                wrong.push("records one region only".to_string());
            }
            if !t.logging {
                wrong.push("is not logging".to_string());
            }
            match t.log_group_arn.as_deref() {
                None => wrong.push("delivers to no CloudWatch Logs log group".to_string()),
                Some(arn) if !feeds(t) => wrong.push(format!("delivers to {arn}")),
                Some(_) => {}
            }
            format!("trail {} {}", t.name, wrong.join(", "))
        })
        .collect();
    reasons.sort();
    Some(reasons.join("; "))
}
