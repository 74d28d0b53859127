//! The coverage check: a pure function from an inventory and validated settings to
//! requirement results and findings. Matching is hashed: alarms are indexed once by
//! (account, region, namespace, metric, identifying dimensions), so the cost grows
//! linearly with resources + alarms.

use std::collections::BTreeMap;

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
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

    fn merge(&mut self, other: &Counts) {
        self.resources += other.resources;
        self.required += other.required;
        self.covered += other.covered;
        self.missing += other.missing;
        self.misconfigured += other.misconfigured;
        self.exempted += other.exempted;
        self.unresolved += other.unresolved;
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
    /// Requirements covered by an alarm declared in the repository's Terraform and not yet live
    /// (`check --terraform`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub declared_not_live: usize,
    pub findings: BTreeMap<Severity, usize>,
    pub by_type: BTreeMap<String, Counts>,
    /// Security-detection coverage (CloudTrail, metric filters, alarms) of the chosen benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<crate::security::SecuritySummary>,
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

/// Appends `account ␟ region ␟ namespace ␟ name=value…` to `key`: identifies one resource in one namespace.
fn push_resource_key<'a>(key: &mut String, account: &str, region: &str, namespace: &str, dimensions: impl Iterator<Item = (&'a str, &'a str)>) {
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
}

fn resource_key<'a>(account: &str, region: &str, namespace: &str, dimensions: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut key = String::with_capacity(96);
    push_resource_key(&mut key, account, region, namespace, dimensions);
    key
}

fn alarm_arn(alarm: &MetricAlarm) -> String {
    alarm.arn.clone().unwrap_or_else(|| format!("arn:aws:cloudwatch:{}:{}:alarm:{}", alarm.region, alarm.account, alarm.name))
}

/// A difference between an alarm and its requirement, or a problem with its actions.
pub(crate) struct Mismatch {
    pub(crate) code: Code,
    pub(crate) message: String,
}

/// Where a required threshold came from, so messages can explain themselves.
#[derive(Clone, Copy)]
enum ThresholdSource {
    Tag,
    Override(usize),
    Config,
    Policy,
}

#[derive(Clone, Copy)]
struct Threshold {
    value: f64,
    source: ThresholdSource,
}

impl Threshold {
    fn describe(&self, tag: &str) -> String {
        match self.source {
            ThresholdSource::Tag => format!("tag {tag}"),
            ThresholdSource::Override(index) => format!("alert_thresholds.json overrides[{index}]"),
            ThresholdSource::Config => "alert_thresholds.json".to_string(),
            ThresholdSource::Policy => "policy default".to_string(),
        }
    }
}

/// A threshold as people write it: whole numbers without a fraction (the same form the
/// generated Terraform uses).
pub(crate) fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn same_threshold(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

/// What to keep besides findings and counts.
#[derive(Debug, Clone, Copy)]
pub struct EvaluateOptions {
    /// Keep one record per requirement (JUnit and generation need them; the other reports do not,
    /// and on large accounts they cost time and memory).
    pub requirements: bool,
    /// Threads to check resources with; 0 picks one per core for large inventories.
    pub threads: usize,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions { requirements: true, threads: 0 }
    }
}

/// Evaluates coverage of `inventory` under `settings` as of `today` (for exemption expiry).
pub fn evaluate(inventory: &Inventory, settings: &Settings, today: Date) -> Evaluation {
    evaluate_with(inventory, settings, today, EvaluateOptions::default())
}

pub fn evaluate_with(inventory: &Inventory, settings: &Settings, today: Date, options: EvaluateOptions) -> Evaluation {
    Checker::new(inventory, settings, today, options).run()
}

/// Per alarm rule, what does not depend on the resource.
struct RuleInfo {
    /// `<tag prefix><metric>`, the tag that overrides this rule's threshold.
    tag: String,
    /// The config's per-type threshold, else the policy default.
    base: Threshold,
    /// `policy/rule`.
    requirement: String,
}

struct Checker<'a> {
    inventory: &'a Inventory,
    settings: &'a Settings,
    today: Date,
    options: EvaluateOptions,
    topics: FxHashMap<&'a str, &'a SnsTopic>,
    /// Per alarm: the id of its resource key, when its namespace and dimensions identify a catalogued resource.
    alarm_resources: Vec<Option<u32>>,
    /// Resource keys, interned: alarms, metrics and resources meet on these ids.
    keys: FxHashMap<String, u32>,
    alarms_by_metric: FxHashMap<(u32, &'a str), Vec<u32>>,
    metrics_present: FxHashSet<(u32, &'a str)>,
    /// Indices into `settings.policies`, by resource type.
    policies_by_type: FxHashMap<&'a str, Vec<usize>>,
    rules: Vec<Vec<RuleInfo>>,
    composite_children: FxHashSet<&'a str>,
    opt_out_tag: String,
}

/// What checking a share of the resources produces; shares are checked in parallel and merged in order.
#[derive(Default)]
struct Output<'a> {
    findings: Vec<Finding>,
    requirements: Vec<RequirementResult>,
    counts: FxHashMap<&'a str, Counts>,
    /// Interned resource keys of the resources seen, for orphan detection.
    known: FxHashSet<u32>,
}

impl<'a> Output<'a> {
    fn absorb(&mut self, other: Output<'a>) {
        self.findings.extend(other.findings);
        self.requirements.extend(other.requirements);
        for (name, counts) in other.counts {
            self.counts.entry(name).or_default().merge(&counts);
        }
        self.known.extend(other.known);
    }
}

/// Below this many resources one thread is faster than starting more.
const PARALLEL_THRESHOLD: usize = 4096;

impl<'a> Checker<'a> {
    fn new(inventory: &'a Inventory, settings: &'a Settings, today: Date, options: EvaluateOptions) -> Self {
        let catalog = &settings.catalog;
        let mut keys: FxHashMap<String, u32> = FxHashMap::default();
        let mut intern = |key: String| -> u32 {
            let next = keys.len() as u32;
            *keys.entry(key).or_insert(next)
        };
        let mut alarm_resources = Vec::with_capacity(inventory.alarms.len());
        let mut alarms_by_metric: FxHashMap<(u32, &str), Vec<u32>> = FxHashMap::default();
        alarms_by_metric.reserve(inventory.alarms.len());
        for (index, alarm) in inventory.alarms.iter().enumerate() {
            let id = match (&alarm.namespace, &alarm.metric_name) {
                (Some(namespace), Some(metric)) => catalog.identity(namespace, &alarm.dimensions).map(|identity| {
                    let id = intern(resource_key(&alarm.account, &alarm.region, namespace, identity));
                    alarms_by_metric.entry((id, metric.as_str())).or_default().push(index as u32);
                    id
                }),
                _ => None,
            };
            alarm_resources.push(id);
        }
        let metrics_present = inventory
            .metrics
            .iter()
            .filter_map(|metric| {
                let identity = catalog.identity(&metric.namespace, &metric.dimensions)?;
                let id = intern(resource_key(&metric.account, &metric.region, &metric.namespace, identity));
                Some((id, metric.metric_name.as_str()))
            })
            .collect();
        let mut policies_by_type: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let thresholds = &settings.thresholds;
        let mut rules = Vec::with_capacity(settings.policies.len());
        for (index, policy) in settings.policies.iter().enumerate() {
            policies_by_type.entry(policy.resource_type.as_str()).or_default().push(index);
            let configured = thresholds.by_type.get(&policy.resource_type);
            rules.push(
                policy
                    .alarms
                    .iter()
                    .map(|rule| RuleInfo {
                        tag: format!("{}{}", thresholds.tag_prefix, rule.metric),
                        base: match configured.and_then(|m| m.get(&rule.metric)) {
                            Some(&value) => Threshold { value, source: ThresholdSource::Config },
                            None => Threshold { value: rule.threshold, source: ThresholdSource::Policy },
                        },
                        requirement: format!("{}/{}", policy.id, rule.id),
                    })
                    .collect(),
            );
        }
        Checker {
            inventory,
            settings,
            today,
            options,
            topics: inventory.sns_topics.iter().map(|t| (t.arn.as_str(), t)).collect(),
            alarm_resources,
            keys,
            alarms_by_metric,
            metrics_present,
            policies_by_type,
            rules,
            composite_children: composite_children(inventory),
            opt_out_tag: format!("{}ignore", thresholds.tag_prefix),
        }
    }

    fn run(self) -> Evaluation {
        let action_problems: Vec<Vec<Mismatch>> = self.inventory.alarms.iter().map(|alarm| self.action_problems(alarm)).collect();

        // Resources in ARN order, so findings come out in a canonical order whatever the
        // inventory's, split into one share per core.
        let mut resources: Vec<&Resource> = self.inventory.resources.iter().collect();
        resources.sort_unstable_by(|a, b| (&a.arn, &a.region).cmp(&(&b.arn, &b.region)));
        let threads = match self.options.threads {
            0 if resources.len() < PARALLEL_THRESHOLD => 1,
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(8),
            n => n,
        };
        let share = resources.len().div_ceil(threads).max(1);
        let check = |resources: &[&'a Resource]| {
            let mut out = Output::default();
            let mut key = String::with_capacity(128);
            for resource in resources {
                self.check_resource(resource, &action_problems, &mut out, &mut key);
            }
            out
        };
        let mut out = if threads == 1 {
            check(&resources)
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = resources.chunks(share).map(|part| scope.spawn(move || check(part))).collect();
                let mut merged = Output::default();
                for handle in handles {
                    merged.absorb(handle.join().expect("checking threads do not panic"));
                }
                merged
            })
        };

        let mut alarms: Vec<usize> = (0..self.inventory.alarms.len()).collect();
        alarms.sort_unstable_by_key(|&index| {
            let alarm = &self.inventory.alarms[index];
            (&alarm.account, &alarm.region, &alarm.name)
        });
        let mut orphaned = 0;
        for index in alarms {
            let alarm = &self.inventory.alarms[index];
            match self.alarm_resources[index] {
                Some(id) if !out.known.contains(&id) => {
                    orphaned += 1;
                    let watched: Vec<String> = alarm.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    out.findings.push(
                        Finding::new(
                            Code::OrphanedAlarm,
                            alarm_arn(alarm),
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
                        out.findings.push(
                            Finding::new(problem.code, alarm_arn(alarm), problem.message.clone(), problem.code.fix()).with_alarm(&alarm.name),
                        );
                    }
                }
            }
        }
        self.finish(out, orphaned)
    }

    /// Records the outcome of one requirement.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        out: &mut Output<'a>,
        resource: &'a Resource,
        (policy, rule): (usize, usize),
        status: Status,
        alarm: Option<&str>,
        threshold: f64,
        detail: impl FnOnce() -> Option<String>,
    ) {
        out.counts.entry(resource.resource_type.as_str()).or_default().add(status);
        if self.options.requirements {
            let policy = &self.settings.policies[policy];
            out.requirements.push(RequirementResult {
                resource: resource.arn.clone(),
                resource_type: resource.resource_type.clone(),
                policy: policy.id.clone(),
                alarm_rule: policy.alarms[rule].id.clone(),
                status,
                alarm: alarm.map(str::to_string),
                threshold,
                detail: detail(),
            });
        }
    }

    fn origin(&self, policy: usize, rule: usize) -> Option<Origin> {
        let policy = &self.settings.policies[policy];
        Some(Origin { file: policy.file.clone(), line: policy.alarm_lines[rule] })
    }

    fn check_resource(&self, resource: &'a Resource, action_problems: &[Vec<Mismatch>], out: &mut Output<'a>, key: &mut String) {
        let Some(resource_type) = self.settings.catalog.get(&resource.resource_type) else {
            return;
        };
        // Per namespace: the interned resource key when any alarm or metric shares it (`None`
        // when none does), or why the dimensions cannot be computed.
        let located = resource_type.locate(resource);
        let mut dimensions: Vec<(&str, Result<Option<u32>, DimensionError>)> = Vec::with_capacity(resource_type.namespaces.len());
        for (name, namespace) in &resource_type.namespaces {
            let resolved = located.as_ref().map_err(Clone::clone).and_then(|captures| {
                key.clear();
                push_resource_key(key, &resource.account, &resource.region, name, std::iter::empty());
                resource_type.push_identity(namespace, resource, captures, key)?;
                let id = self.keys.get(key.as_str()).copied();
                if let Some(id) = id {
                    out.known.insert(id);
                }
                Ok(id)
            });
            dimensions.push((name.as_str(), resolved));
        }

        let Some(policies) = self.policies_by_type.get(resource.resource_type.as_str()) else {
            return;
        };
        let prefix = &self.settings.thresholds.tag_prefix;
        let opt_out = match resource.tags.get(&self.opt_out_tag) {
            Some(reason) if !reason.trim().is_empty() => Some(reason.as_str()),
            Some(_) => {
                out.findings.push(
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

        let mut unresolved_reported: Vec<&str> = Vec::new();
        // Metrics a publisher other than AWS must emit, grouped by that publisher.
        let mut absent_metrics: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut expired_reported = Vec::new();
        let mut bad_tags_reported = Vec::new();
        for &policy_index in policies {
            let policy = &self.settings.policies[policy_index];
            if !all_match(&policy.select, &resource.tags, &resource.attributes) {
                continue;
            }
            for (rule_index, rule) in policy.alarms.iter().enumerate() {
                let at = (policy_index, rule_index);
                let threshold = self.threshold(out, resource, at, &mut bad_tags_reported);

                if let Some(reason) = opt_out {
                    self.record(out, resource, at, Status::Exempted, None, threshold.value, || Some(format!("opted out by tag {prefix}ignore: {reason}")));
                    continue;
                }
                if let Some(reason) = self.exemption(out, policy_index, resource, rule, &mut expired_reported) {
                    self.record(out, resource, at, Status::Exempted, None, threshold.value, || Some(reason));
                    continue;
                }

                let resolved = &dimensions.iter().find(|(ns, _)| *ns == rule.namespace).expect("validated policies only name the type's namespaces").1;
                let id = match resolved {
                    Ok(id) => *id,
                    Err(error) => {
                        if !unresolved_reported.contains(&rule.namespace.as_str()) {
                            unresolved_reported.push(&rule.namespace);
                            out.findings.push(
                                Finding::new(
                                    Code::UnresolvedDimensions,
                                    &resource.arn,
                                    format!("cannot compute {} dimensions for this {}: {error}", rule.namespace, resource.resource_type),
                                    Code::UnresolvedDimensions.fix(),
                                )
                                .with_type(&resource.resource_type),
                            );
                        }
                        let detail = error.to_string();
                        self.record(out, resource, at, Status::Unresolved, None, threshold.value, || Some(detail));
                        continue;
                    }
                };

                if let Some(publisher) = &resource_type.namespaces[&rule.namespace].published_by {
                    let present = id.is_some_and(|id| self.metrics_present.contains(&(id, rule.metric.as_str())));
                    let absent = absent_metrics.entry(publisher.as_str()).or_default();
                    if !present && !absent.contains(&rule.metric.as_str()) {
                        absent.push(&rule.metric);
                    }
                }

                let candidates = id.and_then(|id| self.alarms_by_metric.get(&(id, rule.metric.as_str()))).map(Vec::as_slice).unwrap_or_default();
                let best = candidates
                    .iter()
                    .map(|&index| {
                        let alarm = &self.inventory.alarms[index as usize];
                        let mismatches = settings_mismatches(alarm, rule, &threshold, &self.rules[policy_index][rule_index].tag);
                        let serious =
                            mismatches.iter().filter(|m| m.code.severity() > Severity::Info).count() + action_problems[index as usize].len();
                        (serious, mismatches.len(), &alarm.name, alarm, mismatches, index as usize)
                    })
                    .min_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));

                let requirement = &self.rules[policy_index][rule_index].requirement;
                match best {
                    None => {
                        let message = format!(
                            "no alarm on {} {} ({}) {} {} for {} periods of {}s; required by {requirement}",
                            rule.namespace,
                            rule.metric,
                            resource_type
                                .dimensions(resource, &rule.namespace)
                                .map(|dims| dims.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
                                .unwrap_or_default(),
                            comparison_symbol(rule.comparison),
                            format_number(threshold.value),
                            rule.evaluation_periods,
                            rule.period
                        );
                        let finding = Finding::new(
                            Code::MissingAlarm,
                            &resource.arn,
                            message.clone(),
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
                        .with_requirement(requirement.clone(), self.origin(policy_index, rule_index));
                        out.findings.push(finding);
                        self.record(out, resource, at, Status::Missing, None, threshold.value, || Some(message));
                    }
                    Some((serious, _, _, alarm, mismatches, index)) => {
                        let status = if serious == 0 { Status::Covered } else { Status::Misconfigured };
                        for mismatch in &mismatches {
                            let finding = Finding::new(
                                mismatch.code,
                                &resource.arn,
                                format!("alarm {:?}: {}; required by {requirement}", alarm.name, mismatch.message),
                                format!("{} Update alarm {:?} accordingly (run `onwatch generate --all` to have Terraform own it).", mismatch.code.fix(), alarm.name),
                            )
                            .with_type(&resource.resource_type)
                            .with_alarm(&alarm.name)
                            .with_requirement(requirement.clone(), self.origin(policy_index, rule_index));
                            out.findings.push(finding);
                        }
                        self.record(out, resource, at, status, Some(&alarm.name), threshold.value, || {
                            let details: Vec<&str> =
                                mismatches.iter().chain(&action_problems[index]).map(|m| m.message.as_str()).collect();
                            (!details.is_empty()).then(|| details.join("; "))
                        });
                    }
                }
            }
        }

        for (publisher, metrics) in absent_metrics.into_iter().filter(|(_, metrics)| !metrics.is_empty()) {
            out.findings.push(
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
    fn threshold(&self, out: &mut Output, resource: &Resource, (policy, rule): (usize, usize), bad_tags_reported: &mut Vec<usize>) -> Threshold {
        let info = &self.rules[policy][rule];
        if let Some(text) = resource.tags.get(&info.tag) {
            match text.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => return Threshold { value, source: ThresholdSource::Tag },
                _ => {
                    // Report each bad tag once per resource, though several rules may read it.
                    let first = (0..=policy).flat_map(|p| self.rules[p].iter()).position(|r| r.tag == info.tag).unwrap_or(0);
                    if !bad_tags_reported.contains(&first) {
                        bad_tags_reported.push(first);
                        let tag = &info.tag;
                        out.findings.push(
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
        let thresholds = &self.settings.thresholds;
        let metric = &self.settings.policies[policy].alarms[rule].metric;
        for (index, (selectors, map)) in thresholds.overrides.iter().enumerate().rev() {
            if let Some(&value) = map.get(&resource.resource_type).and_then(|m| m.get(metric)) {
                if all_match(selectors, &resource.tags, &resource.attributes) {
                    return Threshold { value, source: ThresholdSource::Override(index) };
                }
            }
        }
        self.rules[policy][rule].base
    }

    /// The reason the requirement is exempted, if a current exemption covers it. Expired
    /// exemptions are reported (once per resource) and do not exempt.
    fn exemption(&self, out: &mut Output, policy_index: usize, resource: &Resource, rule: &AlarmRule, expired_reported: &mut Vec<(usize, usize)>) -> Option<String> {
        let policy: &Policy = &self.settings.policies[policy_index];
        for (index, exemption) in policy.exemptions.iter().enumerate() {
            if !crate::config::selector::glob_match(&exemption.resource, &resource.arn)
                || !(exemption.alarms.is_empty() || exemption.alarms.contains(&rule.id))
            {
                continue;
            }
            if self.today <= exemption.expires {
                return Some(format!("exempted until {}: {}", exemption.expires, exemption.reason));
            }
            // Report an expired exemption once per resource, though it names several rules.
            if !expired_reported.contains(&(policy_index, index)) {
                expired_reported.push((policy_index, index));
                out.findings.push(
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
        delivery_problems(alarm, &self.topics, self.is_composite_child(alarm))
    }

    fn is_composite_child(&self, alarm: &MetricAlarm) -> bool {
        self.composite_children.contains(alarm.name.as_str())
    }

    fn finish(self, mut out: Output<'a>, orphaned: usize) -> Evaluation {
        let mut summary = Summary { resources: self.inventory.resources.len(), orphaned, ..Summary::default() };
        let is_composite_child = |alarm: &MetricAlarm| self.is_composite_child(alarm);
        let context = crate::security::Context { topics: &self.topics, is_composite_child: &is_composite_child };
        if let Some(security) = crate::security::evaluate(self.inventory, &self.settings.security, self.today, &context) {
            out.findings.extend(security.findings);
            summary.security = Some(security.summary);
        }
        let mut by_type = out.counts;
        for resource in &self.inventory.resources {
            if resource.discovered_by == crate::inventory::DiscoveredBy::Metrics {
                summary.discovered_by_metrics += 1;
            }
            if self.settings.catalog.get(&resource.resource_type).is_some() {
                by_type.entry(resource.resource_type.as_str()).or_default().resources += 1;
            }
        }
        let mut overall = Counts::default();
        for (name, mut counts) in by_type {
            overall.merge(&counts);
            counts.finish();
            summary.by_type.insert(name.to_string(), counts);
        }
        overall.finish();
        summary.required = overall.required;
        summary.covered = overall.covered;
        summary.missing = overall.missing;
        summary.misconfigured = overall.misconfigured;
        summary.unresolved = overall.unresolved;
        summary.exempted = overall.exempted;
        summary.coverage_percent = overall.coverage_percent;

        // Findings were produced resource by resource in ARN order (and alarm by alarm in name
        // order); a stable sort by severity and code keeps that order within each code.
        let mut findings: Vec<Finding> = out.findings.into_iter().map(Finding::seal).collect();
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)));
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            summary.findings.insert(severity, findings.iter().filter(|f| f.severity == severity).count());
        }
        Evaluation { summary, findings, requirements: out.requirements }
    }
}

/// Problems with where an alarm's notifications go. A metric alarm without actions is fine when a
/// composite alarm with actions watches it (`composite_child`).
pub(crate) fn delivery_problems(alarm: &MetricAlarm, topics: &FxHashMap<&str, &SnsTopic>, composite_child: bool) -> Vec<Mismatch> {
    let mut problems = Vec::new();
    if alarm.alarm_actions.is_empty() {
        if !composite_child {
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
        match topics.get(action.as_str()) {
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

/// Names of metric alarms referenced by a composite alarm that has actions of its own: they
/// need none themselves.
fn composite_children(inventory: &Inventory) -> FxHashSet<&str> {
    static RULE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let rule = RULE.get_or_init(|| Regex::new(r#"(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)"#).unwrap());
    let mut children = FxHashSet::default();
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

fn settings_mismatches(alarm: &MetricAlarm, rule: &AlarmRule, threshold: &Threshold, tag: &str) -> Vec<Mismatch> {
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
                threshold.describe(tag)
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
