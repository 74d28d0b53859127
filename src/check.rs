//! The coverage check: a pure function from an inventory and validated settings to
//! requirement results and findings. Matching is hashed: alarms are indexed once by
//! (account, region, namespace, metric, identifying dimensions), so the cost grows
//! linearly with resources + alarms.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    config::{selector::all_match, AlarmRule, DimensionError, Policy, Settings},
    findings::{Code, Finding, Origin, Severity},
    inventory::{Inventory, MetricAlarm, Resource, SnsTopic, TreatMissingData},
};

/// What became of one requirement (one alarm a policy requires of one resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Covered,
    Missing,
    Misconfigured,
    Exempted,
    /// The resource's dimensions could not be computed, so no alarm could be matched.
    Unresolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequirementResult {
    pub resource: String,
    pub resource_type: String,
    pub policy: String,
    pub alarm_rule: String,
    pub status: Status,
    /// The existing alarm judged against the requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    /// The threshold required after config and tag overrides.
    pub threshold: f64,
    /// Why it is exempted, or what is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub resources: usize,
    pub required: usize,
    pub covered: usize,
    pub missing: usize,
    pub misconfigured: usize,
    pub exempted: usize,
    pub unresolved: usize,
    pub coverage_percent: f64,
}

impl Counts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Exempted => {
                self.exempted += 1;
                return;
            }
            Status::Covered => self.covered += 1,
            Status::Missing => self.missing += 1,
            Status::Misconfigured => self.misconfigured += 1,
            Status::Unresolved => self.unresolved += 1,
        }
        self.required += 1;
    }

    fn finish(&mut self) {
        // Nothing required is full coverage; one decimal keeps reports stable.
        self.coverage_percent =
            if self.required == 0 { 100.0 } else { (self.covered as f64 * 1000.0 / self.required as f64).floor() / 10.0 };
    }
}

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
    pub findings: BTreeMap<Severity, usize>,
    pub by_type: BTreeMap<String, Counts>,
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

/// `account ␟ region ␟ namespace ␟ name=value…`: identifies one resource in one namespace.
fn resource_key<'a>(account: &str, region: &str, namespace: &str, dimensions: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut key = String::with_capacity(96);
    for part in [account, region, namespace] {
        key.push_str(part);
        key.push('\u{1f}');
    }
    for (name, value) in dimensions {
        key.push_str(name);
        key.push('=');
        key.push_str(value);
        key.push('\u{1f}');
    }
    key
}

fn metric_key(resource_key: &str, metric: &str) -> String {
    let mut key = String::with_capacity(resource_key.len() + metric.len());
    key.push_str(resource_key);
    key.push_str(metric);
    key
}

fn alarm_arn(alarm: &MetricAlarm) -> String {
    alarm.arn.clone().unwrap_or_else(|| format!("arn:aws:cloudwatch:{}:{}:alarm:{}", alarm.region, alarm.account, alarm.name))
}

/// A difference between an alarm and its requirement.
struct Mismatch {
    code: Code,
    message: String,
}

/// Where the required threshold came from, for messages that explain themselves.
struct Threshold {
    value: f64,
    source: String,
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn same_threshold(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Evaluates coverage of `inventory` under `settings` as of `today` (for exemption expiry).
pub fn evaluate(inventory: &Inventory, settings: &Settings, today: Date) -> Evaluation {
    Checker::new(inventory, settings, today).run()
}

struct Checker<'a> {
    inventory: &'a Inventory,
    settings: &'a Settings,
    today: Date,
    topics: HashMap<&'a str, &'a SnsTopic>,
    /// Per alarm: its resource key, when its namespace and dimensions identify a catalogued resource.
    alarm_resource_keys: Vec<Option<String>>,
    alarms_by_metric: HashMap<String, Vec<usize>>,
    metrics_present: HashSet<String>,
    policies_by_type: HashMap<&'a str, Vec<&'a Policy>>,
    composite_children: HashSet<&'a str>,
    findings: Vec<Finding>,
    requirements: Vec<RequirementResult>,
}

impl<'a> Checker<'a> {
    fn new(inventory: &'a Inventory, settings: &'a Settings, today: Date) -> Self {
        let catalog = &settings.catalog;
        let mut alarm_resource_keys = Vec::with_capacity(inventory.alarms.len());
        let mut alarms_by_metric: HashMap<String, Vec<usize>> = HashMap::with_capacity(inventory.alarms.len());
        for (index, alarm) in inventory.alarms.iter().enumerate() {
            let key = match (&alarm.namespace, &alarm.metric_name) {
                (Some(namespace), Some(metric)) => catalog.identity(namespace, &alarm.dimensions).map(|identity| {
                    let key = resource_key(&alarm.account, &alarm.region, namespace, identity.into_iter());
                    alarms_by_metric.entry(metric_key(&key, metric)).or_default().push(index);
                    key
                }),
                _ => None,
            };
            alarm_resource_keys.push(key);
        }
        let metrics_present = inventory
            .metrics
            .iter()
            .filter_map(|metric| {
                let identity = catalog.identity(&metric.namespace, &metric.dimensions)?;
                let key = resource_key(&metric.account, &metric.region, &metric.namespace, identity.into_iter());
                Some(metric_key(&key, &metric.metric_name))
            })
            .collect();
        let mut policies_by_type: HashMap<&str, Vec<&Policy>> = HashMap::new();
        for policy in &settings.policies {
            policies_by_type.entry(policy.resource_type.as_str()).or_default().push(policy);
        }
        Checker {
            inventory,
            settings,
            today,
            topics: inventory.sns_topics.iter().map(|t| (t.arn.as_str(), t)).collect(),
            alarm_resource_keys,
            alarms_by_metric,
            metrics_present,
            policies_by_type,
            composite_children: composite_children(inventory),
            findings: Vec::new(),
            requirements: Vec::new(),
        }
    }

    fn run(mut self) -> Evaluation {
        let mut known_resources: HashSet<String> = HashSet::with_capacity(self.inventory.resources.len() * 2);
        let action_problems: Vec<Vec<Mismatch>> = self.inventory.alarms.iter().map(|alarm| self.action_problems(alarm)).collect();

        for resource in &self.inventory.resources {
            self.check_resource(resource, &action_problems, &mut known_resources);
        }

        let mut orphaned = 0;
        for (index, alarm) in self.inventory.alarms.iter().enumerate() {
            let arn = alarm_arn(alarm);
            match &self.alarm_resource_keys[index] {
                Some(key) if !known_resources.contains(key) => {
                    orphaned += 1;
                    let watched: Vec<String> = alarm.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    self.findings.push(
                        Finding::new(
                            Code::OrphanedAlarm,
                            &arn,
                            format!(
                                "alarm {:?} watches {} {} in {}, which is not in the inventory",
                                alarm.name,
                                alarm.namespace.as_deref().unwrap_or(""),
                                watched.join(", "),
                                alarm.region
                            ),
                            format!("Delete alarm {:?} if its resource is gone; otherwise make sure the scan sees the resource.", alarm.name),
                        )
                        .with_alarm(&alarm.name),
                    );
                }
                _ => {
                    for problem in &action_problems[index] {
                        self.findings.push(
                            Finding::new(problem.code, &arn, problem.message.clone(), problem.code.fix()).with_alarm(&alarm.name),
                        );
                    }
                }
            }
        }
        self.finish(orphaned)
    }

    fn check_resource(&mut self, resource: &'a Resource, action_problems: &[Vec<Mismatch>], known: &mut HashSet<String>) {
        let Some(resource_type) = self.settings.catalog.get(&resource.resource_type) else {
            return;
        };
        let mut dimensions: BTreeMap<&str, Result<(String, BTreeMap<String, String>), DimensionError>> = BTreeMap::new();
        for namespace in resource_type.namespaces.keys() {
            let resolved = resource_type.dimensions(resource, namespace).map(|dims| {
                let key = resource_key(&resource.account, &resource.region, namespace, dims.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                known.insert(key.clone());
                (key, dims)
            });
            dimensions.insert(namespace.as_str(), resolved);
        }

        let Some(policies) = self.policies_by_type.get(resource.resource_type.as_str()).cloned() else {
            return;
        };
        let prefix = &self.settings.thresholds.tag_prefix;
        let opt_out = match resource.tags.get(&format!("{prefix}ignore")) {
            Some(reason) if !reason.trim().is_empty() => Some(reason.as_str()),
            Some(_) => {
                self.findings.push(
                    Finding::new(
                        Code::OptOutWithoutReason,
                        &resource.arn,
                        format!("tag {prefix}ignore is set without a reason, so the resource is still checked"),
                        format!("Set tag {prefix}ignore to the reason this resource needs no alarms."),
                    )
                    .with_type(&resource.resource_type),
                );
                None
            }
            None => None,
        };

        let mut unresolved_reported = HashSet::new();
        // Metrics a publisher other than AWS must emit, grouped by that publisher.
        let mut absent_metrics: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut expired_reported = HashSet::new();
        let mut bad_tags_reported = HashSet::new();
        for policy in policies.iter().copied() {
            if !all_match(&policy.select, &resource.tags, &resource.attributes) {
                continue;
            }
            for (rule_index, rule) in policy.alarms.iter().enumerate() {
                let requirement = format!("{}/{}", policy.id, rule.id);
                let origin = Some(Origin { file: policy.file.clone(), line: policy.alarm_lines[rule_index] });
                let threshold = self.threshold(resource, rule, &mut bad_tags_reported);
                let mut result = RequirementResult {
                    resource: resource.arn.clone(),
                    resource_type: resource.resource_type.clone(),
                    policy: policy.id.clone(),
                    alarm_rule: rule.id.clone(),
                    status: Status::Missing,
                    alarm: None,
                    threshold: threshold.value,
                    detail: None,
                };

                if let Some(reason) = opt_out {
                    result.status = Status::Exempted;
                    result.detail = Some(format!("opted out by tag {prefix}ignore: {reason}"));
                    self.requirements.push(result);
                    continue;
                }
                if let Some(reason) = self.exemption(policy, resource, rule, &mut expired_reported) {
                    result.status = Status::Exempted;
                    result.detail = Some(reason);
                    self.requirements.push(result);
                    continue;
                }

                let key = match dimensions.get(rule.namespace.as_str()) {
                    Some(Ok((key, _))) => key,
                    Some(Err(error)) => {
                        if unresolved_reported.insert(rule.namespace.clone()) {
                            self.findings.push(
                                Finding::new(
                                    Code::UnresolvedDimensions,
                                    &resource.arn,
                                    format!("cannot compute {} dimensions for this {}: {error}", rule.namespace, resource.resource_type),
                                    Code::UnresolvedDimensions.fix(),
                                )
                                .with_type(&resource.resource_type),
                            );
                        }
                        result.status = Status::Unresolved;
                        result.detail = Some(error.to_string());
                        self.requirements.push(result);
                        continue;
                    }
                    None => unreachable!("validated policies only name the type's namespaces"),
                };
                let key = metric_key(key, &rule.metric);

                if let Some(publisher) = &resource_type.namespaces[&rule.namespace].published_by {
                    let absent = absent_metrics.entry(publisher.as_str()).or_default();
                    if !self.metrics_present.contains(&key) && !absent.contains(&rule.metric.as_str()) {
                        absent.push(&rule.metric);
                    }
                }

                let candidates = self.alarms_by_metric.get(&key).map(Vec::as_slice).unwrap_or_default();
                let best = candidates
                    .iter()
                    .map(|&index| {
                        let alarm = &self.inventory.alarms[index];
                        let mismatches = settings_mismatches(alarm, rule, &threshold);
                        let serious = mismatches.iter().filter(|m| m.code.severity() > Severity::Info).count() + action_problems[index].len();
                        (serious, mismatches.len(), &alarm.name, alarm, mismatches, index)
                    })
                    .min_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));

                match best {
                    None => {
                        result.status = Status::Missing;
                        let dims: Vec<String> = dimensions[rule.namespace.as_str()]
                            .as_ref()
                            .map(|(_, d)| d.iter().map(|(k, v)| format!("{k}={v}")).collect())
                            .unwrap_or_default();
                        let message = format!(
                            "no alarm on {} {} ({}) {} {} for {} periods of {}s; required by {requirement}",
                            rule.namespace,
                            rule.metric,
                            dims.join(", "),
                            comparison_symbol(rule.comparison),
                            format_number(threshold.value),
                            rule.evaluation_periods,
                            rule.period
                        );
                        result.detail = Some(message.clone());
                        self.findings.push(
                            Finding::new(
                                Code::MissingAlarm,
                                &resource.arn,
                                message,
                                format!(
                                    "Create a {} alarm on {} {} {} {} (run `onwatch generate`), or add an exemption to policy {}.",
                                    rule.severity,
                                    rule.namespace,
                                    rule.metric,
                                    comparison_symbol(rule.comparison),
                                    format_number(threshold.value),
                                    policy.id
                                ),
                            )
                            .with_type(&resource.resource_type)
                            .with_requirement(requirement, origin),
                        );
                    }
                    Some((serious, _, _, alarm, mismatches, index)) => {
                        result.alarm = Some(alarm.name.clone());
                        result.status = if serious == 0 { Status::Covered } else { Status::Misconfigured };
                        let mut details: Vec<String> = mismatches.iter().map(|m| m.message.clone()).collect();
                        details.extend(action_problems[index].iter().map(|m| m.message.clone()));
                        if !details.is_empty() {
                            result.detail = Some(details.join("; "));
                        }
                        for mismatch in mismatches {
                            self.findings.push(
                                Finding::new(
                                    mismatch.code,
                                    &resource.arn,
                                    format!("alarm {:?}: {}; required by {requirement}", alarm.name, mismatch.message),
                                    format!("{} Update alarm {:?} accordingly (run `onwatch generate --all` to have Terraform own it).", mismatch.code.fix(), alarm.name),
                                )
                                .with_type(&resource.resource_type)
                                .with_alarm(&alarm.name)
                                .with_requirement(requirement.clone(), origin.clone()),
                            );
                        }
                    }
                }
                self.requirements.push(result);
            }
        }

        for (publisher, metrics) in absent_metrics.into_iter().filter(|(_, metrics)| !metrics.is_empty()) {
            self.findings.push(
                Finding::new(
                    Code::AgentMetricsMissing,
                    &resource.arn,
                    format!("{publisher} publishes no {} for this resource, so it cannot be alarmed on", metrics.join(", ")),
                    format!("Enable {publisher} for this resource so that it publishes {}.", metrics.join(", ")),
                )
                .with_type(&resource.resource_type),
            );
        }
    }

    /// The required threshold: a resource tag beats the config's tag overrides, which beat the
    /// config's per-type thresholds, which beat the policy default.
    fn threshold(&mut self, resource: &Resource, rule: &AlarmRule, bad_tags_reported: &mut HashSet<String>) -> Threshold {
        let thresholds = &self.settings.thresholds;
        let tag = format!("{}{}", thresholds.tag_prefix, rule.metric);
        if let Some(text) = resource.tags.get(&tag) {
            match text.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => return Threshold { value, source: format!("tag {tag}") },
                _ => {
                    if bad_tags_reported.insert(tag.clone()) {
                        self.findings.push(
                            Finding::new(
                                Code::InvalidThresholdTag,
                                &resource.arn,
                                format!("tag {tag} = {text:?} is not a number; the configured threshold applies"),
                                format!("Set tag {tag} to a plain number, or remove it."),
                            )
                            .with_type(&resource.resource_type),
                        );
                    }
                }
            }
        }
        let lookup = |map: &BTreeMap<String, BTreeMap<String, f64>>| map.get(&resource.resource_type).and_then(|m| m.get(&rule.metric)).copied();
        for (index, (selectors, map)) in thresholds.overrides.iter().enumerate().rev() {
            if all_match(selectors, &resource.tags, &resource.attributes) {
                if let Some(value) = lookup(map) {
                    return Threshold { value, source: format!("alert_thresholds.json overrides[{index}]") };
                }
            }
        }
        if let Some(value) = lookup(&thresholds.by_type) {
            return Threshold { value, source: "alert_thresholds.json".to_string() };
        }
        Threshold { value: rule.threshold, source: "policy default".to_string() }
    }

    /// The reason the requirement is exempted, if a current exemption covers it. Expired
    /// exemptions are reported (once per resource) and do not exempt.
    fn exemption(&mut self, policy: &Policy, resource: &Resource, rule: &AlarmRule, expired_reported: &mut HashSet<(String, usize)>) -> Option<String> {
        for (index, exemption) in policy.exemptions.iter().enumerate() {
            if !crate::config::selector::glob_match(&exemption.resource, &resource.arn)
                || !(exemption.alarms.is_empty() || exemption.alarms.contains(&rule.id))
            {
                continue;
            }
            if self.today <= exemption.expires {
                return Some(format!("exempted until {}: {}", exemption.expires, exemption.reason));
            }
            if expired_reported.insert((policy.id.clone(), index)) {
                self.findings.push(
                    Finding::new(
                        Code::ExemptionExpired,
                        &resource.arn,
                        format!("exemption in policy {} expired on {} ({}); its findings are reported again", policy.id, exemption.expires, exemption.reason),
                        format!("Fix the findings, or renew the exemption in {} with a new expiry date.", policy.file),
                    )
                    .with_type(&resource.resource_type)
                    .with_requirement(format!("{}/exemptions[{index}]", policy.id), Some(Origin { file: policy.file.clone(), line: policy.exemption_lines[index] })),
                );
            }
        }
        None
    }

    /// Problems with where an alarm's notifications go, found once per alarm.
    fn action_problems(&self, alarm: &MetricAlarm) -> Vec<Mismatch> {
        let mut problems = Vec::new();
        if alarm.alarm_actions.is_empty() {
            if !self.is_composite_child(alarm) {
                problems.push(Mismatch { code: Code::AlarmNoActions, message: format!("alarm {:?} has no alarm action", alarm.name) });
            }
            return problems;
        }
        if !alarm.actions_enabled {
            problems.push(Mismatch { code: Code::AlarmActionsDisabled, message: format!("alarm {:?} has its actions disabled", alarm.name) });
        }
        for action in &alarm.alarm_actions {
            if !action.contains(":sns:") {
                continue;
            }
            match self.topics.get(action.as_str()) {
                None => problems.push(Mismatch {
                    code: Code::AlarmTopicUnknown,
                    message: format!("alarm {:?} notifies {action}, which is not in the inventory", alarm.name),
                }),
                Some(topic) if topic.uses_aws_managed_key() => problems.push(Mismatch {
                    code: Code::AlarmTopicAwsManagedKey,
                    message: format!("alarm {:?} notifies {action}, encrypted with alias/aws/sns, which CloudWatch cannot publish to", alarm.name),
                }),
                Some(topic) if !topic.has_confirmed_subscription() => problems.push(Mismatch {
                    code: Code::AlarmTopicUnconfirmed,
                    message: format!("alarm {:?} notifies {action}, which has no confirmed subscription", alarm.name),
                }),
                Some(_) => {}
            }
        }
        problems
    }

    fn is_composite_child(&self, alarm: &MetricAlarm) -> bool {
        self.composite_children.contains(alarm.name.as_str())
    }

    fn finish(mut self, orphaned: usize) -> Evaluation {
        let mut summary = Summary { resources: self.inventory.resources.len(), orphaned, ..Summary::default() };
        summary.discovered_by_metrics =
            self.inventory.resources.iter().filter(|r| r.discovered_by == crate::inventory::DiscoveredBy::Metrics).count();
        for resource in &self.inventory.resources {
            if self.settings.catalog.get(&resource.resource_type).is_some() {
                summary.by_type.entry(resource.resource_type.clone()).or_default().resources += 1;
            }
        }
        let mut overall = Counts::default();
        for requirement in &self.requirements {
            overall.add(requirement.status);
            summary.by_type.entry(requirement.resource_type.clone()).or_default().add(requirement.status);
        }
        overall.finish();
        for counts in summary.by_type.values_mut() {
            counts.finish();
        }
        summary.required = overall.required;
        summary.covered = overall.covered;
        summary.missing = overall.missing;
        summary.misconfigured = overall.misconfigured;
        summary.unresolved = overall.unresolved;
        summary.exempted = overall.exempted;
        summary.coverage_percent = overall.coverage_percent;

        let mut findings: Vec<Finding> = self.findings.into_iter().map(Finding::seal).collect();
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.code.cmp(&b.code))
                .then_with(|| a.resource.cmp(&b.resource))
                .then_with(|| a.alarm.cmp(&b.alarm))
                .then_with(|| a.requirement.cmp(&b.requirement))
        });
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            summary.findings.insert(severity, findings.iter().filter(|f| f.severity == severity).count());
        }
        self.requirements.sort_by(|a, b| (&a.resource, &a.policy, &a.alarm_rule).cmp(&(&b.resource, &b.policy, &b.alarm_rule)));
        Evaluation { summary, findings, requirements: self.requirements }
    }
}

/// Names of metric alarms referenced by a composite alarm that has actions of its own: they
/// need none themselves.
fn composite_children(inventory: &Inventory) -> HashSet<&str> {
    static RULE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let rule = RULE.get_or_init(|| Regex::new(r#"(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)"#).unwrap());
    let mut children = HashSet::new();
    for composite in inventory.composite_alarms.iter().filter(|c| c.actions_enabled && !c.alarm_actions.is_empty()) {
        for capture in rule.captures_iter(&composite.alarm_rule) {
            let name = capture.get(1).unwrap().as_str();
            children.insert(name.rsplit_once(":alarm:").map_or(name, |(_, short)| short));
        }
    }
    children
}

fn comparison_symbol(op: crate::inventory::ComparisonOperator) -> &'static str {
    use crate::inventory::ComparisonOperator::*;
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

fn settings_mismatches(alarm: &MetricAlarm, rule: &AlarmRule, threshold: &Threshold) -> Vec<Mismatch> {
    let mut found = Vec::new();
    if alarm.comparison_operator != rule.comparison {
        found.push(Mismatch {
            code: Code::ComparisonMismatch,
            message: format!("comparison is {}, required {}", alarm.comparison_operator.as_str(), rule.comparison.as_str()),
        });
    }
    match alarm.threshold {
        Some(actual) if same_threshold(actual, threshold.value) => {}
        actual => found.push(Mismatch {
            code: Code::ThresholdMismatch,
            message: format!(
                "threshold is {}, required {} (from {})",
                actual.map_or("absent".to_string(), format_number),
                format_number(threshold.value),
                threshold.source
            ),
        }),
    }
    if alarm.statistic != rule.statistic || alarm.extended_statistic != rule.extended_statistic {
        let show = |s: Option<crate::inventory::Statistic>, e: &Option<String>| {
            s.map(|s| s.as_str().to_string()).or_else(|| e.clone()).unwrap_or_else(|| "absent".into())
        };
        found.push(Mismatch {
            code: Code::StatisticMismatch,
            message: format!("statistic is {}, required {}", show(alarm.statistic, &alarm.extended_statistic), show(rule.statistic, &rule.extended_statistic)),
        });
    }
    if alarm.period != Some(rule.period) {
        found.push(Mismatch {
            code: Code::PeriodMismatch,
            message: format!("period is {}, required {}s", alarm.period.map_or("absent".into(), |p| format!("{p}s")), rule.period),
        });
    }
    let datapoints = alarm.datapoints_to_alarm.unwrap_or(alarm.evaluation_periods);
    if alarm.evaluation_periods != rule.evaluation_periods || datapoints != rule.datapoints_to_alarm {
        found.push(Mismatch {
            code: Code::EvaluationMismatch,
            message: format!(
                "alarms on {datapoints} of {} periods, required {} of {}",
                alarm.evaluation_periods, rule.datapoints_to_alarm, rule.evaluation_periods
            ),
        });
    }
    let treat = alarm.treat_missing_data.unwrap_or(TreatMissingData::Missing);
    if treat != rule.treat_missing_data {
        found.push(Mismatch {
            code: Code::TreatMissingDataMismatch,
            message: format!("treats missing data as {}, recommended {}", treat.as_str(), rule.treat_missing_data.as_str()),
        });
    }
    found
}
