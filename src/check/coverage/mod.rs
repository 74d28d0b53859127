//! The coverage check: a pure function from an inventory and validated settings to requirement
//! results and findings. Matching is hashed: alarms are indexed once by (account, region,
//! namespace, metric, identifying dimensions), so the cost grows linearly with resources + alarms.

pub(crate) mod findings;

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
};

use rustc_hash::{FxHashMap, FxHashSet};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use super::{coverage_percent, EvaluateOptions};
use crate::{
    config::{
        selector::{all_match, glob_match},
        waiver::Judged,
        AlarmRule, DimensionError, PublishedMetric, ResourceType, RollupKey, Settings,
    },
    findings::{Code, Finding, Origin, Severity},
    model::{
        delivery::{rule_references, Delivery, DeliveryProblem},
        math::{canonical_expression, AlarmKind},
        CompositeAlarm, Dimensions, Inventory, MetricAlarm, MetricStat, Resource, Scope, Statistic, TreatMissingData,
    },
    support::{par_chunks, par_chunks_on},
};
use findings::Required;

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
    /// The resource's account and region (an ARN may lack them: S3, API Gateway, CloudFront).
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
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
    /// For a policy alarm with `for_each_dimension`: the value of each of its dimensions this
    /// requirement is for, in the rule's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_dimensions: Vec<SubDimension>,
}

/// The value of one of a policy alarm's `for_each_dimension` dimensions (`UserPoolClient` = `6f...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubDimension {
    pub name: String,
    pub value: String,
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
    pub(crate) fn add(&mut self, status: Status) {
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

    pub(crate) fn merge(&mut self, other: &Counts) {
        self.resources += other.resources;
        self.required += other.required;
        self.covered += other.covered;
        self.missing += other.missing;
        self.misconfigured += other.misconfigured;
        self.exempted += other.exempted;
        self.unresolved += other.unresolved;
    }
}

/// What the coverage check found.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub requirements: Vec<RequirementResult>,
    /// Counts per catalogued resource type, coverage percentages computed.
    pub by_type: BTreeMap<String, Counts>,
    /// Requirement counts per account (`resources` left 0: the rows count every resource, catalogued or not).
    pub by_account: BTreeMap<String, Counts>,
    pub orphaned: usize,
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

/// A setting of an alarm that differs from its requirement.
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

fn same_threshold(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks coverage of `inventory` under `settings` as of `today` (for exemption expiry). `failed`
/// are the scopes that could not be read: what an alarm watches there is unknown, never orphaned.
pub fn evaluate(inventory: &Inventory, settings: &Settings, today: Date, options: EvaluateOptions, delivery: &Delivery, failed: &[Scope]) -> Outcome {
    let account_regions = settings.account_resources(inventory);
    let mut checker = Checker::new(inventory, &account_regions, settings, today, options, delivery);
    checker.unknown = failed.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect();
    checker.run()
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

/// Per (resource key, metric, fan-out dimensions): the value combinations the account publishes.
type FanoutValues<'a> = FxHashMap<(u32, &'a str, &'a [String]), BTreeSet<Vec<&'a str>>>;

struct Checker<'a> {
    inventory: &'a Inventory,
    /// The `account:region` pseudo-resources account-level policies require alarms of.
    account_regions: &'a [Resource],
    settings: &'a Settings,
    today: Date,
    options: EvaluateOptions,
    /// Per alarm: why its notifications reach nobody (empty when they do), judged once.
    undelivered: Vec<Vec<DeliveryProblem>>,
    /// Per alarm: the id of its resource key, when its namespace and dimensions identify a catalogued resource.
    alarm_resources: Vec<Option<u32>>,
    /// Resource keys, interned: alarms, metrics and resources meet on these ids.
    keys: FxHashMap<String, u32>,
    alarms_by_metric: FxHashMap<(u32, &'a str), Vec<u32>>,
    metrics_present: FxHashSet<(u32, &'a str)>,
    /// Per (resource key, metric, fan-out dimensions): the values (one per dimension, in the
    /// rule's order) the account publishes together.
    fanout: FanoutValues<'a>,
    /// Per (namespace, metric): the dimensions some rule fans out on. An alarm carrying one of
    /// them watches one value (one container, one client) and covers no whole-resource requirement.
    fanned_by_metric: FxHashMap<(&'a str, &'a str), Vec<&'a str>>,
    /// Indices into `settings.policies`, by resource type.
    policies_by_type: FxHashMap<&'a str, Vec<usize>>,
    rules: Vec<Vec<RuleInfo>>,
    opt_out_tag: String,
    /// The (account, region) scopes that failed to scan: whether a resource there exists is unknown.
    unknown: FxHashSet<(&'a str, &'a str)>,
}

/// What checking a share of the resources produces; shares are checked in parallel and merged in order.
#[derive(Default)]
struct Output<'a> {
    findings: Vec<Finding>,
    requirements: Vec<RequirementResult>,
    /// Per (account, resource type).
    counts: FxHashMap<(&'a str, &'a str), Counts>,
    /// Interned resource keys of the resources seen, for orphan detection.
    known: FxHashSet<u32>,
    /// The covering alarm of each covered requirement that a configured roll-up rolls up.
    rollups: Vec<(RollupKey, &'a str)>,
}

impl<'a> Output<'a> {
    fn absorb(&mut self, other: Output<'a>) {
        self.findings.extend(other.findings);
        self.requirements.extend(other.requirements);
        for (key, counts) in other.counts {
            self.counts.entry(key).or_default().merge(&counts);
        }
        self.known.extend(other.known);
        self.rollups.extend(other.rollups);
    }
}

/// What is reported at most once per resource, though several rules may run into it.
#[derive(Default)]
struct Reported<'a> {
    unresolved: Vec<&'a str>,
    expired: Vec<(usize, usize)>,
    bad_tags: Vec<usize>,
    /// Metrics a publisher other than AWS must emit and does not, grouped by that publisher.
    absent_metrics: BTreeMap<&'a str, Vec<&'a str>>,
}

/// The fan-outs of the rules, by namespace: a metric carrying all of a fan-out's dimensions holds one combination of values.
fn fan_outs_by_namespace(settings: &Settings) -> FxHashMap<&str, Vec<&[String]>> {
    let mut fan_outs: FxHashMap<&str, Vec<&[String]>> = FxHashMap::default();
    for rule in settings.policies.iter().flat_map(|p| &p.alarms) {
        if let Some(fan_out) = &rule.for_each_dimension {
            let known = fan_outs.entry(rule.namespace.as_str()).or_default();
            if !known.contains(&fan_out.names()) {
                known.push(fan_out.names());
            }
        }
    }
    fan_outs
}

/// Per (namespace, metric): every dimension some rule fans out on.
fn fanned_by_metric(settings: &Settings) -> FxHashMap<(&str, &str), Vec<&str>> {
    let mut fanned_by_metric: FxHashMap<(&str, &str), Vec<&str>> = FxHashMap::default();
    for rule in settings.policies.iter().flat_map(|p| &p.alarms) {
        if let Some(fan_out) = &rule.for_each_dimension {
            let fanned = fanned_by_metric.entry((rule.namespace.as_str(), rule.metric.as_str())).or_default();
            for name in fan_out.names() {
                if !fanned.contains(&name.as_str()) {
                    fanned.push(name);
                }
            }
        }
    }
    fanned_by_metric
}

/// Below this many resources one thread is faster than starting more.
const PARALLEL_THRESHOLD: usize = 4096;

impl<'a> Checker<'a> {
    fn new(inventory: &'a Inventory, account_regions: &'a [Resource], settings: &'a Settings, today: Date, options: EvaluateOptions, delivery: &Delivery) -> Self {
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
            // A metric alarm is indexed by its metric; a math or anomaly alarm by each metric it queries.
            let metrics: Vec<(&str, &str, &Dimensions)> = match (&alarm.namespace, &alarm.metric_name) {
                (Some(namespace), Some(metric)) => vec![(namespace.as_str(), metric.as_str(), &alarm.dimensions)],
                _ => alarm.metrics.iter().filter_map(|q| q.metric.as_ref()).map(|m| (m.namespace.as_str(), m.metric_name.as_str(), &m.dimensions)).collect(),
            };
            let mut first = None;
            for (namespace, metric, dimensions) in metrics {
                let Some(identity) = catalog.identity(namespace, dimensions) else { continue };
                let id = intern(resource_key(&alarm.account, &alarm.region, namespace, identity));
                let entry = alarms_by_metric.entry((id, metric)).or_default();
                if entry.last() != Some(&(index as u32)) {
                    entry.push(index as u32);
                }
                first.get_or_insert(id);
            }
            alarm_resources.push(first);
        }
        let fan_outs = fan_outs_by_namespace(settings);
        let mut metrics_present = FxHashSet::default();
        let mut fanout: FanoutValues = FxHashMap::default();
        for metric in &inventory.metrics {
            let Some(identity) = catalog.identity(&metric.namespace, &metric.dimensions) else {
                continue;
            };
            let id = intern(resource_key(&metric.account, &metric.region, &metric.namespace, identity));
            metrics_present.insert((id, metric.metric_name.as_str()));
            for &names in fan_outs.get(metric.namespace.as_str()).into_iter().flatten() {
                let values: Option<Vec<&str>> = names.iter().map(|name| metric.dimensions.get(name)).collect();
                if let Some(values) = values {
                    fanout.entry((id, metric.metric_name.as_str(), names)).or_default().insert(values);
                }
            }
        }
        let fanned_by_metric = fanned_by_metric(settings);
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
                        base: match configured.and_then(|m| m.get(&rule.metric)).filter(|_| rule.anomaly_band.is_none()) {
                            Some(&value) => Threshold { value, source: ThresholdSource::Config },
                            None => Threshold { value: rule.default_threshold(), source: ThresholdSource::Policy },
                        },
                        requirement: format!("{}/{}", policy.id, rule.id),
                    })
                    .collect(),
            );
        }
        Checker {
            inventory,
            account_regions,
            settings,
            today,
            options,
            undelivered: inventory.alarms.iter().map(|alarm| delivery.problems(alarm)).collect(),
            alarm_resources,
            keys,
            alarms_by_metric,
            metrics_present,
            fanout,
            fanned_by_metric,
            policies_by_type,
            rules,
            opt_out_tag: format!("{}ignore", thresholds.tag_prefix),
            unknown: FxHashSet::default(),
        }
    }

    fn run(self) -> Outcome {
        // Resources in ARN order, so findings come out in a canonical order whatever the
        // inventory's, split into one share per core.
        let mut resources: Vec<&Resource> = self.inventory.resources.iter().chain(self.account_regions).collect();
        resources.sort_unstable_by(|a, b| (&a.arn, &a.region).cmp(&(&b.arn, &b.region)));
        let check = |resources: &[&'a Resource]| {
            let mut out = Output::default();
            let mut key = String::with_capacity(128);
            for resource in resources {
                self.check_resource(resource, &mut out, &mut key);
            }
            out
        };
        let mut out = Output::default();
        let shares = match self.options.threads {
            0 => par_chunks(&resources, PARALLEL_THRESHOLD, check),
            threads => par_chunks_on(&resources, threads, check),
        };
        for share in shares {
            out.absorb(share);
        }
        let orphaned = self.alarm_findings(&mut out);
        self.rollup_findings(&mut out);
        self.finish(out, orphaned)
    }

    /// Orphaned alarms, and the delivery problems of every other alarm, in (account, region, name)
    /// order. Returns the number orphaned.
    fn alarm_findings(&self, out: &mut Output) -> usize {
        let mut alarms: Vec<usize> = (0..self.inventory.alarms.len()).collect();
        alarms.sort_unstable_by_key(|&index| {
            let alarm = &self.inventory.alarms[index];
            (&alarm.account, &alarm.region, &alarm.name)
        });
        let mut orphaned = 0;
        for index in alarms {
            let alarm = &self.inventory.alarms[index];
            match self.alarm_resources[index] {
                Some(id) if !out.known.contains(&id) && !self.watches_unknown_scope(alarm) => {
                    orphaned += 1;
                    out.findings.push(findings::orphaned_alarm(alarm));
                }
                _ => out.findings.extend(self.undelivered[index].iter().map(|problem| findings::undelivered(alarm, problem))),
            }
        }
        orphaned
    }

    /// Whether the resource an alarm watches lies in a scope that failed to scan. Matching keys an
    /// alarm's resource by the alarm's own account and region (a CloudWatch alarm watches the
    /// metrics of its account and region), so that scope is the alarm's.
    fn watches_unknown_scope(&self, alarm: &MetricAlarm) -> bool {
        !self.unknown.is_empty() && self.unknown.contains(&(alarm.account.as_str(), alarm.region.as_str()))
    }

    /// Each configured roll-up that some covered requirement's alarm belongs to must exist and
    /// watch every such alarm (directly or through its parts), and only alarms that exist.
    fn rollup_findings(&self, out: &mut Output<'a>) {
        let Some(config) = &self.settings.composites else { return };
        let mut rollups: BTreeMap<RollupKey, BTreeSet<&str>> = BTreeMap::new();
        for (key, alarm) in std::mem::take(&mut out.rollups) {
            rollups.entry(key).or_default().insert(alarm);
        }
        let inventory = self.inventory;
        let composites: FxHashMap<(&str, &str, &str), &CompositeAlarm> =
            inventory.composite_alarms.iter().map(|c| ((c.account.as_str(), c.region.as_str(), c.name.as_str()), c)).collect();
        let alarms: FxHashSet<(&str, &str, &str)> = inventory.alarms.iter().map(|a| (a.account.as_str(), a.region.as_str(), a.name.as_str())).collect();
        for (key, members) in &rollups {
            let Ok(name) = config.parent_name(&self.settings.thresholds.alarm_name_prefix, key) else { continue };
            let at = |name: &'a str| (key.account.as_str(), key.region.as_str(), name);
            let gap = match composites.get(&(key.account.as_str(), key.region.as_str(), name.as_str())) {
                None => findings::RollupGap::Absent { members: members.iter().copied().collect() },
                Some(parent) => {
                    let watched = watched_alarms(parent, &|name| composites.get(&at(name)).copied());
                    let left_out: Vec<&str> = members.iter().copied().filter(|m| !watched.contains(m)).collect();
                    let dangling: Vec<&str> = watched.iter().copied().filter(|w| !alarms.contains(&at(w)) && !composites.contains_key(&at(w))).collect();
                    if left_out.is_empty() && dangling.is_empty() {
                        continue;
                    }
                    findings::RollupGap::Incomplete { left_out, dangling }
                }
            };
            out.findings.push(findings::rollup_incomplete(key, &config.tag, name.as_str(), &gap));
        }
    }

    fn finish(self, out: Output<'a>, orphaned: usize) -> Outcome {
        let (mut by_type, mut by_account) = (FxHashMap::<&str, Counts>::default(), BTreeMap::<String, Counts>::new());
        for ((account, resource_type), counts) in &out.counts {
            by_type.entry(resource_type).or_default().merge(counts);
            by_account.entry(account.to_string()).or_default().merge(counts);
        }
        for resource in self.inventory.resources.iter().chain(self.account_regions) {
            if self.settings.catalog.get(&resource.resource_type).is_some() {
                by_type.entry(resource.resource_type.as_str()).or_default().resources += 1;
            }
        }
        let percent = |mut counts: Counts| {
            counts.coverage_percent = coverage_percent(counts.covered, counts.required);
            counts
        };
        let by_type = by_type.into_iter().map(|(name, counts)| (name.to_string(), percent(counts))).collect();
        let by_account = by_account.into_iter().map(|(account, counts)| (account, percent(counts))).collect();
        Outcome { findings: out.findings, requirements: out.requirements, by_type, by_account, orphaned }
    }

    /// Records the outcome of one requirement.
    #[allow(clippy::too_many_arguments)]
    fn record(&self, out: &mut Output<'a>, resource: &'a Resource, at: (usize, usize), status: Status, alarm: Option<&str>, threshold: f64, detail: impl FnOnce() -> Option<String>) {
        self.record_sub(out, resource, at, &[], status, alarm, threshold, detail);
    }

    /// Records the outcome of one requirement, fanned out on `sub` when not empty.
    #[allow(clippy::too_many_arguments)]
    fn record_sub(
        &self,
        out: &mut Output<'a>,
        resource: &'a Resource,
        (policy, rule): (usize, usize),
        sub: &[(&str, &str)],
        status: Status,
        alarm: Option<&str>,
        threshold: f64,
        detail: impl FnOnce() -> Option<String>,
    ) {
        out.counts.entry((resource.account.as_str(), resource.resource_type.as_str())).or_default().add(status);
        if self.options.requirements {
            let policy = &self.settings.policies[policy];
            out.requirements.push(RequirementResult {
                resource: resource.arn.clone(),
                resource_type: resource.resource_type.clone(),
                account: resource.account.clone(),
                region: resource.region.clone(),
                policy: policy.id.clone(),
                alarm_rule: policy.alarms[rule].id.clone(),
                status,
                alarm: alarm.map(str::to_string),
                threshold,
                detail: detail(),
                sub_dimensions: sub.iter().map(|(name, value)| SubDimension { name: name.to_string(), value: value.to_string() }).collect(),
            });
        }
    }

    fn required(&self, resource: &'a Resource, (policy_index, rule_index): (usize, usize)) -> Required<'_> {
        let policy = &self.settings.policies[policy_index];
        Required {
            resource,
            rule: &policy.alarms[rule_index],
            requirement: Cow::Borrowed(&self.rules[policy_index][rule_index].requirement),
            policy: &policy.id,
            origin: Origin { file: policy.file.clone(), line: policy.alarm_lines[rule_index] },
        }
    }

    /// Per namespace of the resource's type: the interned resource key when any alarm or metric
    /// shares it (`None` when none does), or why the dimensions cannot be computed. Marks the
    /// keys found as known, for orphan detection.
    fn resolve_keys(&self, resource_type: &'a ResourceType, resource: &Resource, out: &mut Output, key: &mut String) -> Vec<(&'a str, Result<Option<u32>, DimensionError>)> {
        let located = resource_type.locate(resource);
        let mut resolved = Vec::with_capacity(resource_type.namespaces.len());
        for (name, namespace) in &resource_type.namespaces {
            let id = located.as_ref().map_err(Clone::clone).and_then(|captures| {
                key.clear();
                push_resource_key(key, &resource.account, &resource.region, name, std::iter::empty());
                resource_type.push_identity(namespace, resource, captures, key)?;
                let id = self.keys.get(key.as_str()).copied();
                if let Some(id) = id {
                    out.known.insert(id);
                }
                Ok(id)
            });
            resolved.push((name.as_str(), id));
        }
        resolved
    }

    /// The reason given with the opt-out tag, if the resource opted out with one.
    fn opt_out(&self, resource: &'a Resource, out: &mut Output) -> Option<&'a str> {
        match resource.tags.get(&self.opt_out_tag) {
            Some(reason) if !reason.trim().is_empty() => Some(reason.as_str()),
            Some(_) => {
                out.findings.push(findings::opt_out_without_reason(resource, &self.settings.thresholds.tag_prefix));
                None
            }
            None => None,
        }
    }

    fn check_resource(&self, resource: &'a Resource, out: &mut Output<'a>, key: &mut String) {
        let Some(resource_type) = self.settings.catalog.get(&resource.resource_type) else {
            return;
        };
        let keys = self.resolve_keys(resource_type, resource, out, key);
        let Some(policies) = self.policies_by_type.get(resource.resource_type.as_str()) else {
            return;
        };
        let opt_out = self.opt_out(resource, out);
        let mut reported = Reported::default();
        for &policy_index in policies {
            let policy = &self.settings.policies[policy_index];
            if !all_match(&policy.select, &resource.tags, &resource.attributes) || !self.publishes_any(&policy.when_published, &keys) {
                continue;
            }
            for rule_index in 0..policy.alarms.len() {
                let at = (policy_index, rule_index);
                let threshold = self.threshold(out, resource, at, &mut reported);
                let prefix = &self.settings.thresholds.tag_prefix;
                if let Some(reason) = opt_out {
                    self.record(out, resource, at, Status::Exempted, None, threshold.value, || Some(format!("opted out by tag {prefix}ignore: {reason}")));
                    continue;
                }
                if let Some(reason) = self.exemption(out, resource, at, &mut reported) {
                    self.record(out, resource, at, Status::Exempted, None, threshold.value, || Some(reason));
                    continue;
                }
                self.check_rule(resource_type, resource, at, threshold, &keys, out, &mut reported);
            }
        }
        for (publisher, metrics) in reported.absent_metrics.iter().filter(|(_, metrics)| !metrics.is_empty()) {
            out.findings.push(findings::agent_metrics_missing(resource, publisher, metrics));
        }
    }

    /// Whether the account publishes one of `wanted` for the resource whose keys are `keys`
    /// (true when the policy names none): a policy's `when_published`.
    fn publishes_any(&self, wanted: &[PublishedMetric], keys: &[(&str, Result<Option<u32>, DimensionError>)]) -> bool {
        wanted.is_empty()
            || wanted.iter().any(|metric| {
                keys.iter().any(|(namespace, id)| *namespace == metric.namespace && matches!(id, Ok(Some(id)) if self.metrics_present.contains(&(*id, metric.metric.as_str()))))
            })
    }

    /// Judges one requirement that applies: the best-matching alarm, or why there is none.
    #[allow(clippy::too_many_arguments)]
    fn check_rule(
        &self,
        resource_type: &'a ResourceType,
        resource: &'a Resource,
        at: (usize, usize),
        threshold: Threshold,
        keys: &[(&'a str, Result<Option<u32>, DimensionError>)],
        out: &mut Output<'a>,
        reported: &mut Reported<'a>,
    ) {
        let settings: &'a Settings = self.settings;
        let rule: &'a AlarmRule = &settings.policies[at.0].alarms[at.1];
        let resolved = &keys.iter().find(|(ns, _)| *ns == rule.namespace).expect("validated policies only name the type's namespaces").1;
        let id = match resolved {
            Ok(id) => *id,
            Err(error) => {
                if !reported.unresolved.contains(&rule.namespace.as_str()) {
                    reported.unresolved.push(&rule.namespace);
                    out.findings.push(findings::unresolved_dimensions(resource, &rule.namespace, &error.to_string()));
                }
                self.record(out, resource, at, Status::Unresolved, None, threshold.value, || Some(error.to_string()));
                return;
            }
        };
        if let Some(publisher) = &resource_type.namespaces[&rule.namespace].published_by {
            for metric in rule.source_metrics() {
                let present = id.is_some_and(|id| self.metrics_present.contains(&(id, metric)));
                let absent = reported.absent_metrics.entry(publisher.as_str()).or_default();
                if !present && !absent.contains(&metric) {
                    absent.push(metric);
                }
            }
        }
        match &rule.for_each_dimension {
            None => self.judge(resource_type, resource, at, threshold, id, &[], out),
            Some(fan_out) => {
                // One requirement per combination of values the account publishes; none when it publishes none.
                let names = fan_out.names();
                let combinations = id.and_then(|id| self.fanout.get(&(id, rule.metric.as_str(), names)));
                for values in combinations.into_iter().flatten() {
                    let sub: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(values.iter().copied()).collect();
                    self.judge(resource_type, resource, at, threshold, id, &sub, out);
                }
            }
        }
    }

    /// Judges one requirement (for one value of each of the rule's fan-out dimensions when `sub` is not empty).
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        resource_type: &'a ResourceType,
        resource: &'a Resource,
        at: (usize, usize),
        threshold: Threshold,
        id: Option<u32>,
        sub: &[(&'a str, &'a str)],
        out: &mut Output<'a>,
    ) {
        let mut required = self.required(resource, at);
        if !sub.is_empty() {
            let values: Vec<String> = sub.iter().map(|(name, value)| format!("{name}={value}")).collect();
            required.requirement = Cow::Owned(format!("{}[{}]", required.requirement, values.join(", ")));
        }
        let rule = required.rule;
        match self.best_alarm(id, at, &threshold, sub) {
            None => {
                let dimensions = resource_type
                    .dimensions(resource, &rule.namespace)
                    .map(|dims| dims.iter().chain(sub.iter().copied()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                let message = findings::missing_alarm_message(&required, &dimensions, threshold.value);
                out.findings.push(findings::missing_alarm(&required, message.clone(), threshold.value));
                self.record_sub(out, resource, at, sub, Status::Missing, None, threshold.value, || Some(message));
            }
            Some(best) => {
                let status = if best.serious == 0 { Status::Covered } else { Status::Misconfigured };
                let alarm = &self.inventory.alarms[best.index];
                // An alarm right in all but delivery is a roll-up member: a roll-up that leaves it out is why it notifies nobody.
                let settings_right = best.serious == self.undelivered[best.index].len();
                if let Some(key) = self.settings.composites.as_ref().filter(|_| settings_right).and_then(|c| c.rollup_of(resource, &rule.severity)) {
                    out.rollups.push((key, alarm.name.as_str()));
                }
                out.findings.extend(best.mismatches.iter().map(|mismatch| findings::misconfigured(&required, alarm, mismatch)));
                self.record_sub(out, resource, at, sub, status, Some(&alarm.name), threshold.value, || {
                    let details: Vec<&str> =
                        best.mismatches.iter().map(|m| m.message.as_str()).chain(self.undelivered[best.index].iter().map(|p| p.message.as_str())).collect();
                    (!details.is_empty()).then(|| details.join("; "))
                });
            }
        }
    }

    /// Of the alarms on the rule's metric for this resource, the one with the fewest serious
    /// problems (then fewest problems, then first by name); with `sub`, only alarms on those values
    /// of the fan-out dimensions and on no other dimension some rule fans out on.
    fn best_alarm(&self, id: Option<u32>, (policy, rule_index): (usize, usize), threshold: &Threshold, sub: &[(&str, &str)]) -> Option<Best> {
        let rule = &self.settings.policies[policy].alarms[rule_index];
        let id = id?;
        let first_metric = rule.source_metrics()[0];
        let candidates = self.alarms_by_metric.get(&(id, first_metric)).map(Vec::as_slice).unwrap_or_default();
        candidates
            .iter()
            .filter(|&&index| {
                let dimensions = &self.inventory.alarms[index as usize].dimensions;
                let fanned = self.fanned_by_metric.get(&(rule.namespace.as_str(), rule.metric.as_str()));
                sub.iter().all(|&(name, value)| dimensions.get(name) == Some(value))
                    && fanned.is_none_or(|fanned| fanned.iter().all(|d| !dimensions.contains_key(d) || sub.iter().any(|(name, _)| name == d)))
            })
            .filter_map(|&index| {
                let index = index as usize;
                let alarm = &self.inventory.alarms[index];
                let on_resource = |stat: &MetricStat| self.stat_resource(alarm, stat) == Some(id);
                let kind = kind_mismatches(alarm, rule, threshold, &self.rules[policy][rule_index].tag, &on_resource)?;
                let mut mismatches = comparison_mismatch(alarm, rule);
                mismatches.extend(kind);
                mismatches.extend(evaluation_mismatches(alarm, rule));
                let serious = mismatches.iter().filter(|m| m.code.severity() > Severity::Info).count() + self.undelivered[index].len();
                Some(Best { serious, index, mismatches })
            })
            .min_by(|a, b| {
                let name = |best: &Best| &self.inventory.alarms[best.index].name;
                (a.serious, a.mismatches.len(), name(a)).cmp(&(b.serious, b.mismatches.len(), name(b)))
            })
    }

    /// The interned resource key a query's metric is about, if any alarm or metric shares it.
    fn stat_resource(&self, alarm: &MetricAlarm, stat: &MetricStat) -> Option<u32> {
        let identity = self.settings.catalog.identity(&stat.namespace, &stat.dimensions)?;
        self.keys.get(&resource_key(&alarm.account, &alarm.region, &stat.namespace, identity)).copied()
    }

    /// The required threshold: a resource tag beats the config's tag overrides, which beat the
    /// config's per-type thresholds, which beat the policy default.
    fn threshold(&self, out: &mut Output, resource: &Resource, (policy, rule): (usize, usize), reported: &mut Reported) -> Threshold {
        let info = &self.rules[policy][rule];
        if self.settings.policies[policy].alarms[rule].anomaly_band.is_some() {
            // A band's width is the policy's: the metric's threshold tags and overrides set static thresholds.
            return info.base;
        }
        if let Some(text) = resource.tags.get(&info.tag) {
            match text.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => return Threshold { value, source: ThresholdSource::Tag },
                _ => {
                    // Report each bad tag once per resource, though several rules may read it.
                    let first = (0..=policy).flat_map(|p| self.rules[p].iter()).position(|r| r.tag == info.tag).unwrap_or(0);
                    if !reported.bad_tags.contains(&first) {
                        reported.bad_tags.push(first);
                        out.findings.push(findings::invalid_threshold_tag(resource, &info.tag, text));
                    }
                }
            }
        }
        let metric = &self.settings.policies[policy].alarms[rule].metric;
        for (index, (selectors, map)) in self.settings.thresholds.overrides.iter().enumerate().rev() {
            if let Some(&value) = map.get(&resource.resource_type).and_then(|m| m.get(metric)) {
                if all_match(selectors, &resource.tags, &resource.attributes) {
                    return Threshold { value, source: ThresholdSource::Override(index) };
                }
            }
        }
        info.base
    }

    /// The reason the requirement is exempted, if a current exemption covers it. Expired
    /// exemptions are reported (once per resource) and do not exempt.
    fn exemption(&self, out: &mut Output, resource: &Resource, (policy_index, rule_index): (usize, usize), reported: &mut Reported) -> Option<String> {
        let policy = &self.settings.policies[policy_index];
        let rule: &AlarmRule = &policy.alarms[rule_index];
        for (index, exemption) in policy.exemptions.iter().enumerate() {
            if !glob_match(&exemption.resource, &resource.arn) || !(exemption.alarms.is_empty() || exemption.alarms.contains(&rule.id)) {
                continue;
            }
            if exemption.waiver.judge(self.today) == Judged::Holds {
                return Some(exemption.waiver.describe());
            }
            // Report an expired exemption once per resource, though it names several rules.
            if !reported.expired.contains(&(policy_index, index)) {
                reported.expired.push((policy_index, index));
                out.findings.push(findings::exemption_expired(resource, policy, index, exemption));
            }
        }
        None
    }
}

/// The alarms a composite watches, directly or through the composites it references, by name.
fn watched_alarms<'a>(composite: &'a CompositeAlarm, lookup: &dyn Fn(&'a str) -> Option<&'a CompositeAlarm>) -> BTreeSet<&'a str> {
    let mut watched = BTreeSet::new();
    let mut pending = vec![composite];
    while let Some(composite) = pending.pop() {
        for name in rule_references(&composite.alarm_rule) {
            if watched.insert(name) {
                pending.extend(lookup(name));
            }
        }
    }
    watched
}

/// The alarm chosen for a requirement, with what is wrong with it.
struct Best {
    /// Problems above info: settings that differ and delivery that fails.
    serious: usize,
    /// Index into the inventory's alarms.
    index: usize,
    mismatches: Vec<Mismatch>,
}

/// The settings that depend on the alarm's kind (threshold or band, statistic, period), or `None`
/// when the alarm is of another kind or other math than the rule and so does not answer it at all.
fn kind_mismatches(alarm: &MetricAlarm, rule: &AlarmRule, threshold: &Threshold, tag: &str, on_resource: &dyn Fn(&MetricStat) -> bool) -> Option<Vec<Mismatch>> {
    let rule_stat = rule.statistic.map(|s| s.as_str().to_string()).or_else(|| rule.extended_statistic.clone()).unwrap_or_default();
    let mut found = Vec::new();
    match (alarm.kind(), &rule.expression, rule.anomaly_band) {
        (AlarmKind::Static, None, None) => return Some(static_mismatches(alarm, rule, threshold, tag)),
        (AlarmKind::Anomaly { metric, width }, None, Some(_)) => {
            if metric.namespace != rule.namespace || metric.metric_name != rule.metric || !on_resource(metric) {
                return None;
            }
            if !same_threshold(width, threshold.value) {
                found.push(Mismatch { code: Code::ThresholdMismatch, message: findings::band_message(width, threshold.value) });
            }
            stat_mismatches(&mut found, &[(&metric.stat, &rule_stat, metric.period)], rule.period);
        }
        (AlarmKind::Math { expression, metrics }, Some(required), None) => {
            let named = |id: &str| metrics.iter().find(|(query, _)| *query == id).map(|(_, stat)| *stat);
            let ours = canonical_expression(required, |id| rule.metrics.get(id).map(|m| format!("{}/{}", rule.namespace, m.metric)));
            let theirs = canonical_expression(expression, |id| {
                named(id).map(|stat| if on_resource(stat) { format!("{}/{}", stat.namespace, stat.metric_name) } else { format!("{id}@elsewhere") })
            });
            if ours != theirs {
                return None;
            }
            let pairs: Vec<(&str, &str, u32)> = rule
                .metrics
                .values()
                .filter_map(|m| {
                    let stat = metrics.iter().map(|(_, stat)| *stat).find(|stat| stat.metric_name == m.metric)?;
                    Some((stat.stat.as_str(), m.statistic.as_str(), stat.period))
                })
                .collect();
            stat_mismatches(&mut found, &pairs, rule.period);
            threshold_mismatch(&mut found, alarm, threshold, tag);
        }
        _ => return None,
    }
    Some(found)
}

/// Statistic and period of each metric a query reads against the rule's, each reported once.
fn stat_mismatches(found: &mut Vec<Mismatch>, pairs: &[(&str, &str, u32)], period: u32) {
    if let Some((actual, required, _)) = pairs.iter().find(|(actual, required, _)| actual != required) {
        found.push(Mismatch { code: Code::StatisticMismatch, message: format!("statistic is {actual}, required {required}") });
    }
    if let Some((_, _, actual)) = pairs.iter().find(|(_, _, actual)| *actual != period) {
        found.push(Mismatch { code: Code::PeriodMismatch, message: format!("period is {actual}s, required {period}s") });
    }
}

fn threshold_mismatch(found: &mut Vec<Mismatch>, alarm: &MetricAlarm, threshold: &Threshold, tag: &str) {
    match alarm.threshold {
        Some(actual) if same_threshold(actual, threshold.value) => {}
        actual => found.push(Mismatch { code: Code::ThresholdMismatch, message: findings::threshold_message(actual, threshold, tag) }),
    }
}

fn static_mismatches(alarm: &MetricAlarm, rule: &AlarmRule, threshold: &Threshold, tag: &str) -> Vec<Mismatch> {
    let mut found = Vec::new();
    threshold_mismatch(&mut found, alarm, threshold, tag);
    if alarm.statistic != rule.statistic || alarm.extended_statistic != rule.extended_statistic {
        let show = |s: Option<Statistic>, e: &Option<String>| s.map(|s| s.as_str().to_string()).or_else(|| e.clone()).unwrap_or_else(|| "absent".into());
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
    found
}

fn comparison_mismatch(alarm: &MetricAlarm, rule: &AlarmRule) -> Vec<Mismatch> {
    let mut found = Vec::new();
    if alarm.comparison_operator != rule.comparison {
        found.push(Mismatch {
            code: Code::ComparisonMismatch,
            message: format!("comparison is {}, required {}", alarm.comparison_operator.as_str(), rule.comparison.as_str()),
        });
    }
    found
}

/// The settings every kind of alarm has besides its comparison: evaluation, missing data.
fn evaluation_mismatches(alarm: &MetricAlarm, rule: &AlarmRule) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let datapoints = alarm.datapoints_to_alarm.unwrap_or(alarm.evaluation_periods);
    if alarm.evaluation_periods != rule.evaluation_periods || datapoints != rule.datapoints_to_alarm {
        found.push(Mismatch {
            code: Code::EvaluationMismatch,
            message: format!("alarms on {datapoints} of {} periods, required {} of {}", alarm.evaluation_periods, rule.datapoints_to_alarm, rule.evaluation_periods),
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
