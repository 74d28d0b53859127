//! Drift: what the repository's Terraform declares against what the account has, per object.
//! Alarms are matched by name (and region, when the block's provider names one), dashboards by
//! name. A value Terraform leaves unresolved is reported as unresolved and never as drift.


use std::collections::BTreeMap;

use hcl::Value;
use rustc_hash::{FxHashMap, FxHashSet};
use schemars::JsonSchema;
use serde::Serialize;
use time::Date;

use crate::{
    findings::{Code, Finding},
    model::{Arn, CompositeAlarm, Dashboard, Inventory, MetricAlarm},
    terraform::{self, Declared, DeclaredResource, Kind, Resolved},
};
pub use crate::config::drift_ignore::IgnoreRule;
use crate::config::waiver::Judged;

mod findings;

/// The drift codes that count as drift (exit 1).
pub const DRIFT_CODES: [Code; 4] = [Code::DriftMissingLive, Code::DriftChanged, Code::DriftUnmanaged, Code::DriftDashboardBody];

/// Every code a drift report holds (the rules of its SARIF run).
pub const CODES: [Code; 6] = [Code::DriftMissingLive, Code::DriftChanged, Code::DriftUnmanaged, Code::DriftDashboardBody, Code::DriftUnresolved, Code::DriftIgnoreExpired];

#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// Only live alarms and dashboards whose name starts with one of these are reported as
    /// unmanaged; every unmatched one when empty.
    pub unmanaged_prefixes: Vec<String>,
    pub ignore: Vec<IgnoreRule>,
    /// The date ignore rules are judged against.
    pub today: Option<Date>,
    /// Values of references to declared resources (`aws_lambda_function.api.function_name`), for
    /// alarm dimensions; one known only after apply stays unresolved.
    pub references: Option<std::sync::Arc<terraform::watched::DeclaredInventory>>,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Change {
    pub field: String,
    pub declared: String,
    pub live: String,
}

/// One drift finding with its details.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DriftItem {
    #[serde(flatten)]
    pub finding: Finding,
    /// The Terraform address, for declared objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Unified diff of a dashboard body, declared → live, both normalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct DriftSummary {
    pub terraform_files: usize,
    pub declared_alarms: usize,
    pub declared_dashboards: usize,
    pub live_alarms: usize,
    pub live_dashboards: usize,
    /// Declared objects found live with no difference.
    pub in_sync: usize,
    pub missing_live: usize,
    pub changed: usize,
    pub unmanaged: usize,
    pub dashboard_body: usize,
    pub unresolved: usize,
    /// Findings left out by an ignore rule.
    pub ignored: usize,
    pub ignore_expired: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct DriftReport {
    pub summary: DriftSummary,
    pub items: Vec<DriftItem>,
}

impl DriftReport {
    /// Whether anything counts as drift (exit code 1).
    pub fn has_drift(&self) -> bool {
        self.items.iter().any(|item| DRIFT_CODES.contains(&item.finding.code))
    }
}

/// Either a comparable value or the reason it cannot be known.
type Field<T> = Result<T, String>;

fn resolved<'a>(resource: &'a DeclaredResource, argument: &str) -> Field<Option<&'a Value>> {
    match resource.get(argument) {
        None | Some(Resolved::Known(Value::Null)) => Ok(None),
        Some(Resolved::Known(value)) => Ok(Some(value)),
        Some(Resolved::Unresolved(reason)) => Err(reason.clone()),
    }
}

fn text(resource: &DeclaredResource, argument: &str) -> Field<Option<String>> {
    match resolved(resource, argument)? {
        None => Ok(None),
        Some(Value::String(s)) if terraform::holds_reference(s) => Err(format!("refers to {}", terraform::display(s))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(format!("not a string: {other}")),
    }
}

fn number(resource: &DeclaredResource, argument: &str) -> Field<Option<f64>> {
    match resolved(resource, argument)? {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| format!("{n} is not a number")),
        Some(Value::String(s)) => s.trim().parse::<f64>().map(Some).map_err(|_| format!("{s:?} is not a number")),
        Some(other) => Err(format!("not a number: {other}")),
    }
}

fn boolean(resource: &DeclaredResource, argument: &str) -> Field<Option<bool>> {
    match resolved(resource, argument)? {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(other) => Err(format!("not a boolean: {other}")),
    }
}

fn show<T: std::fmt::Display>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "(unset)".to_string(), |v| v.to_string())
}

fn show_number(value: Option<f64>) -> String {
    value.map_or_else(|| "(unset)".to_string(), crate::support::format_number)
}

/// Names of declared SNS topics, by (module, address), for references to their ARNs; and the
/// values of references to other declared resources, where drift has them.
struct Topics<'a> {
    names: FxHashMap<(usize, &'a str), Field<String>>,
    references: Option<&'a terraform::watched::DeclaredInventory>,
    /// Per module (index): its address prefix (`module.app.`).
    prefixes: Vec<&'a str>,
}

impl<'a> Topics<'a> {
    fn with_references(declared: &'a Declared, references: Option<&'a terraform::watched::DeclaredInventory>) -> Self {
        let prefixes = declared.module_info.iter().map(|m| m.prefix.as_str()).collect();
        Topics { references, prefixes, ..Topics::new(declared) }
    }

    /// The static value of a dimension that refers to a declared resource.
    fn reference(&self, module: usize, text: &str) -> Field<String> {
        let value = self.references.and_then(|r| r.substitute(self.prefixes.get(module).copied().unwrap_or(""), text));
        match value {
            Some(value) if !terraform::watched::holds_token(&value) => Ok(value),
            _ => Err(format!("refers to {}", terraform::display(text))),
        }
    }

    fn new(declared: &'a Declared) -> Self {
        let names = declared
            .of_kind(Kind::SnsTopic)
            .map(|topic| {
                let name = match topic.name() {
                    Ok(Some(name)) => Ok(name),
                    Ok(None) => Err(format!("{} has no static name (name_prefix or generated)", topic.address)),
                    Err(reason) => Err(format!("the name of {} is unresolved: {reason}", topic.address)),
                };
                ((topic.module, topic.address.as_str()), name)
            })
            .collect();
        Topics { names, references: None, prefixes: Vec::new() }
    }

    /// Resolves one action: a literal ARN, or a reference to a declared topic's ARN, which is
    /// built from the topic's name and the live alarm's partition, region and account.
    fn action(&self, module: usize, action: &Value, live_arn: &str, region: &str, account: &str) -> Field<String> {
        let Value::String(text) = action else { return Err(format!("action is not a string: {action}")) };
        if !terraform::holds_reference(text) {
            return Ok(text.clone());
        }
        let target = terraform::as_reference(text).ok_or_else(|| format!("action {} is not a plain reference", terraform::display(text)))?;
        let Some(address) = target.strip_suffix(".arn").filter(|a| a.starts_with("aws_sns_topic.")) else {
            return Err(format!("action refers to {target}, which onwatch cannot resolve"));
        };
        match self.names.get(&(module, address)) {
            Some(Ok(name)) => {
                let partition = Arn::parse(live_arn).map_or("aws", |arn| arn.partition);
                Ok(format!("arn:{partition}:sns:{region}:{account}:{name}"))
            }
            Some(Err(reason)) => Err(reason.clone()),
            None => Err(format!("{address} is not declared in the same module")),
        }
    }

    fn actions(&self, resource: &DeclaredResource, argument: &str, live_arn: &str, region: &str, account: &str) -> Field<Vec<String>> {
        let mut out = match resolved(resource, argument)? {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().map(|item| self.action(resource.module, item, live_arn, region, account)).collect::<Field<Vec<String>>>()?
            }
            Some(other) => return Err(format!("not a list: {other}")),
        };
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// Collects the differences and unresolved fields of one declared object against its live twin.
#[derive(Default)]
struct Comparison {
    changes: Vec<Change>,
    unresolved: Vec<(String, String)>,
}

impl Comparison {
    fn field<T: PartialEq>(&mut self, name: &str, declared: Field<T>, live: T, render: impl Fn(&T) -> String) {
        match declared {
            Err(reason) => self.unresolved.push((name.to_string(), reason)),
            Ok(declared) if declared != live => {
                self.changes.push(Change { field: name.to_string(), declared: render(&declared), live: render(&live) })
            }
            Ok(_) => {}
        }
    }
}

fn compare_metric_alarm(topics: &Topics, declared: &DeclaredResource, live: &MetricAlarm) -> Comparison {
    let mut c = Comparison::default();
    let arn = live.arn.clone().unwrap_or_default();
    c.field("alarm_description", text(declared, "alarm_description"), live.description.clone(), show);
    c.field("namespace", text(declared, "namespace"), live.namespace.clone(), show);
    c.field("metric_name", text(declared, "metric_name"), live.metric_name.clone(), show);
    c.field("statistic", text(declared, "statistic"), live.statistic.map(|s| s.as_str().to_string()), show);
    c.field("extended_statistic", text(declared, "extended_statistic"), live.extended_statistic.clone(), show);
    c.field("period", number(declared, "period"), live.period.map(f64::from), |v| show_number(*v));
    let evaluation = number(declared, "evaluation_periods");
    c.field("evaluation_periods", evaluation.clone(), Some(f64::from(live.evaluation_periods)), |v| show_number(*v));
    // Unset datapoints mean "all of the evaluation periods", on both sides.
    let datapoints = number(declared, "datapoints_to_alarm").and_then(|d| Ok(d.or(evaluation?)));
    c.field("datapoints_to_alarm", datapoints, Some(f64::from(live.datapoints_to_alarm.unwrap_or(live.evaluation_periods))), |v| show_number(*v));
    c.field("comparison_operator", text(declared, "comparison_operator"), Some(live.comparison_operator.as_str().to_string()), show);
    match number(declared, "threshold") {
        Err(reason) => c.unresolved.push(("threshold".into(), reason)),
        Ok(declared) => {
            let same = match (declared, live.threshold) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (a, b) => a == b,
            };
            if !same {
                c.changes.push(Change { field: "threshold".into(), declared: show_number(declared), live: show_number(live.threshold) });
            }
        }
    }
    c.field(
        "treat_missing_data",
        text(declared, "treat_missing_data").map(|t| t.unwrap_or_else(|| "missing".into())),
        live.treat_missing_data.map_or("missing", |t| t.as_str()).to_string(),
        Clone::clone,
    );
    c.field("actions_enabled", boolean(declared, "actions_enabled").map(|b| b.unwrap_or(true)), live.actions_enabled, bool::to_string);
    for (field, live_actions) in [
        ("alarm_actions", &live.alarm_actions),
        ("ok_actions", &live.ok_actions),
        ("insufficient_data_actions", &live.insufficient_data_actions),
    ] {
        let mut live_actions = live_actions.clone();
        live_actions.sort();
        live_actions.dedup();
        c.field(field, topics.actions(declared, field, &arn, &live.region, &live.account), live_actions, |v| format!("[{}]", v.join(", ")));
    }
    let dimensions: Field<BTreeMap<String, String>> = match resolved(declared, "dimensions") {
        Err(reason) => Err(reason),
        Ok(None) => Ok(BTreeMap::new()),
        Ok(Some(Value::Object(map))) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) if terraform::holds_reference(s) => topics.reference(declared.module, s).map(|v| (k.clone(), v)).map_err(|r| format!("dimension {k} {r}")),
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                other => Err(format!("dimension {k} is not a string: {other}")),
            })
            .collect(),
        Ok(Some(other)) => Err(format!("not a map: {other}")),
    };
    let live_dimensions: BTreeMap<String, String> = live.dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    c.field("dimensions", dimensions, live_dimensions, |m| {
        format!("{{{}}}", m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
    });
    c
}

fn compare_composite_alarm(topics: &Topics, declared: &DeclaredResource, live: &CompositeAlarm) -> Comparison {
    let mut c = Comparison::default();
    let arn = live.arn.clone().unwrap_or_default();
    c.field("alarm_rule", text(declared, "alarm_rule"), Some(live.alarm_rule.clone()), show);
    c.field("actions_enabled", boolean(declared, "actions_enabled").map(|b| b.unwrap_or(true)), live.actions_enabled, bool::to_string);
    for (field, live_actions) in [("alarm_actions", &live.alarm_actions), ("ok_actions", &live.ok_actions)] {
        let mut live_actions = live_actions.clone();
        live_actions.sort();
        live_actions.dedup();
        c.field(field, topics.actions(declared, field, &arn, &live.region, &live.account), live_actions, |v| format!("[{}]", v.join(", ")));
    }
    c
}

/// JSON with object keys sorted at every level, pretty-printed: equal bodies print equal.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<&String, serde_json::Value> = map.iter().map(|(k, v)| (k, canonical(v))).collect();
            serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// `Ok(None)` when the bodies are the same JSON; `Ok(Some(diff))` when not; `Err` when the
/// declared body cannot be known.
fn compare_dashboard(declared: &DeclaredResource, live: &Dashboard) -> Field<Option<String>> {
    let Some(live_body) = &live.body else { return Err("the live dashboard body was not read".into()) };
    let Some(body) = text(declared, "dashboard_body")? else { return Err("dashboard_body is not set".into()) };
    let declared_json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("dashboard_body is not JSON: {e}"))?;
    let live_json: serde_json::Value = serde_json::from_str(live_body).map_err(|e| format!("the live body is not JSON: {e}"))?;
    let (declared_json, live_json) = (canonical(&declared_json), canonical(&live_json));
    if declared_json == live_json {
        return Ok(None);
    }
    let (a, b) = (serde_json::to_string_pretty(&declared_json).unwrap() + "\n", serde_json::to_string_pretty(&live_json).unwrap() + "\n");
    let diff = similar::TextDiff::from_lines(&a, &b);
    Ok(Some(diff.unified_diff().context_radius(3).header(&format!("terraform: {}", declared.address), &format!("live: {}", live.name)).to_string()))
}

fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    crate::model::arn::alarm_arn(crate::model::arn::partition_of_region(region), region, account, name)
}

/// The live objects, indexed by name, and which of them a declaration claimed.
struct Live<'a> {
    inventory: &'a Inventory,
    metric_by_name: FxHashMap<&'a str, Vec<usize>>,
    composite_by_name: FxHashMap<&'a str, Vec<usize>>,
    dashboard_by_name: FxHashMap<&'a str, Vec<usize>>,
    metric_claimed: Vec<bool>,
    composite_claimed: Vec<bool>,
    dashboard_claimed: Vec<bool>,
    scanned_regions: FxHashSet<&'a str>,
}

fn by_name<'a>(names: impl Iterator<Item = &'a str>) -> FxHashMap<&'a str, Vec<usize>> {
    let mut index: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, name) in names.enumerate() {
        index.entry(name).or_default().push(i);
    }
    index
}

/// A live object that no declaration claimed.
pub(super) struct Unclaimed<'a> {
    word: &'static str,
    resource_type: &'static str,
    name: &'a str,
    arn: String,
    region: &'a str,
}

impl<'a> Live<'a> {
    fn new(inventory: &'a Inventory) -> Self {
        Live {
            inventory,
            metric_by_name: by_name(inventory.alarms.iter().map(|a| a.name.as_str())),
            composite_by_name: by_name(inventory.composite_alarms.iter().map(|a| a.name.as_str())),
            dashboard_by_name: by_name(inventory.dashboards.iter().map(|d| d.name.as_str())),
            metric_claimed: vec![false; inventory.alarms.len()],
            composite_claimed: vec![false; inventory.composite_alarms.len()],
            dashboard_claimed: vec![false; inventory.dashboards.len()],
            scanned_regions: inventory.scopes.iter().map(|s| s.region.as_str()).collect(),
        }
    }

    /// The live objects of `resource`'s kind named `name`, in its provider's region if it names one.
    fn candidates(&self, resource: &DeclaredResource, name: &str) -> Vec<usize> {
        let (index, region_of): (_, &dyn Fn(usize) -> &'a str) = match resource.kind {
            Kind::MetricAlarm => (&self.metric_by_name, &|i| self.inventory.alarms[i].region.as_str()),
            Kind::CompositeAlarm => (&self.composite_by_name, &|i| self.inventory.composite_alarms[i].region.as_str()),
            _ => (&self.dashboard_by_name, &|i| self.inventory.dashboards[i].region.as_str()),
        };
        let in_region = |&i: &usize| resource.region.as_deref().is_none_or(|r| r == region_of(i));
        index.get(name).map(|list| list.iter().copied().filter(in_region).collect()).unwrap_or_default()
    }

    /// Claims live object `index` for `resource` and compares the two: the differences, the live ARN
    /// and, for a dashboard, the body diff.
    fn compare(&mut self, topics: &Topics, resource: &DeclaredResource, index: usize) -> (Comparison, String, Option<String>) {
        match resource.kind {
            Kind::MetricAlarm => {
                self.metric_claimed[index] = true;
                let live = &self.inventory.alarms[index];
                (compare_metric_alarm(topics, resource, live), live.arn.clone().unwrap_or_else(|| alarm_arn(&live.region, &live.account, &live.name)), None)
            }
            Kind::CompositeAlarm => {
                self.composite_claimed[index] = true;
                let live = &self.inventory.composite_alarms[index];
                (compare_composite_alarm(topics, resource, live), live.arn.clone().unwrap_or_else(|| alarm_arn(&live.region, &live.account, &live.name)), None)
            }
            _ => {
                self.dashboard_claimed[index] = true;
                let live = &self.inventory.dashboards[index];
                let mut comparison = Comparison::default();
                let diff = compare_dashboard(resource, live).unwrap_or_else(|reason| {
                    comparison.unresolved.push(("dashboard_body".into(), reason));
                    None
                });
                (comparison, dashboard_arn(live), diff)
            }
        }
    }

    /// The live objects no declaration claimed, among those `reported` keeps, in ARN order.
    fn unclaimed(&self, reported: impl Fn(&str) -> bool) -> Vec<Unclaimed<'a>> {
        let inventory = self.inventory;
        let mut out = Vec::new();
        for (alarm, _) in inventory.alarms.iter().zip(&self.metric_claimed).filter(|(a, claimed)| !**claimed && reported(&a.name)) {
            let arn = alarm.arn.clone().unwrap_or_else(|| alarm_arn(&alarm.region, &alarm.account, &alarm.name));
            out.push(Unclaimed { word: "alarm", resource_type: "aws_cloudwatch_metric_alarm", name: &alarm.name, arn, region: &alarm.region });
        }
        for (alarm, _) in inventory.composite_alarms.iter().zip(&self.composite_claimed).filter(|(a, claimed)| !**claimed && reported(&a.name)) {
            let arn = alarm.arn.clone().unwrap_or_else(|| alarm_arn(&alarm.region, &alarm.account, &alarm.name));
            out.push(Unclaimed { word: "composite alarm", resource_type: "aws_cloudwatch_composite_alarm", name: &alarm.name, arn, region: &alarm.region });
        }
        for (dashboard, _) in inventory.dashboards.iter().zip(&self.dashboard_claimed).filter(|(d, claimed)| !**claimed && reported(&d.name)) {
            let arn = dashboard_arn(dashboard);
            out.push(Unclaimed { word: "dashboard", resource_type: "aws_cloudwatch_dashboard", name: &dashboard.name, arn, region: &dashboard.region });
        }
        out.sort_by(|a, b| (a.arn.as_str(), a.region).cmp(&(b.arn.as_str(), b.region)));
        out
    }
}

fn dashboard_arn(dashboard: &Dashboard) -> String {
    let partition = crate::model::arn::partition_of_region(&dashboard.region);
    dashboard.arn.clone().unwrap_or_else(|| crate::model::arn::dashboard_arn(partition, &dashboard.account, &dashboard.name))
}

/// Compares what `declared` says with what `inventory` has.
pub fn drift(declared: &Declared, inventory: &Inventory, options: &DriftOptions) -> DriftReport {
    let topics = Topics::with_references(declared, options.references.as_deref());
    let mut live = Live::new(inventory);
    let mut items: Vec<DriftItem> = Vec::new();
    let mut summary = DriftSummary {
        terraform_files: declared.files,
        live_alarms: inventory.alarms.len() + inventory.composite_alarms.len(),
        live_dashboards: inventory.dashboards.len(),
        ..DriftSummary::default()
    };
    let mut unresolved_names = 0usize;
    for resource in &declared.resources {
        match resource.kind {
            Kind::MetricAlarm | Kind::CompositeAlarm => summary.declared_alarms += 1,
            Kind::Dashboard => summary.declared_dashboards += 1,
            _ => continue,
        }
        match resource.name() {
            Ok(Some(name)) => summary.in_sync += match_declared(&topics, &mut live, resource, &name, &mut items),
            Ok(None) => {
                unresolved_names += 1;
                items.push(findings::unnamed(resource));
            }
            Err(reason) => {
                unresolved_names += 1;
                items.push(findings::name_unresolved(resource, &reason));
            }
        }
    }
    // Unmanaged: live objects no declaration claims. When some declared names are unresolved,
    // any of them may be one of those, so they are reported as unresolved instead.
    let reported = |name: &str| options.unmanaged_prefixes.is_empty() || options.unmanaged_prefixes.iter().any(|p| name.starts_with(p.as_str()));
    items.extend(live.unclaimed(reported).iter().map(|object| findings::unmanaged(object, unresolved_names)));
    apply_ignore_rules(&mut items, &mut summary, options);
    finish(items, summary)
}

/// Matches one named declaration against the live objects, pushing its findings; returns how
/// many live objects it matched with no difference.
fn match_declared(topics: &Topics, live: &mut Live, resource: &DeclaredResource, name: &str, items: &mut Vec<DriftItem>) -> usize {
    let kind_word = match resource.kind {
        Kind::MetricAlarm => "alarm",
        Kind::CompositeAlarm => "composite alarm",
        _ => "dashboard",
    };
    if let Some(region) = &resource.region {
        if !live.scanned_regions.is_empty() && !live.scanned_regions.contains(region.as_str()) {
            items.push(findings::region_not_scanned(resource, kind_word, name, region));
            return 0;
        }
    }
    let candidates = live.candidates(resource, name);
    if candidates.is_empty() {
        items.push(findings::missing_live(resource, kind_word, name));
        return 0;
    }
    let mut in_sync = 0;
    for index in candidates {
        let (comparison, live_arn, body_diff) = live.compare(topics, resource, index);
        let clean = comparison.changes.is_empty() && body_diff.is_none();
        if !comparison.unresolved.is_empty() {
            items.push(findings::fields_unresolved(resource, kind_word, name, &comparison.unresolved));
        }
        if let Some(diff) = body_diff {
            items.push(findings::dashboard_body(resource, name, live_arn.clone(), diff));
        }
        if !comparison.changes.is_empty() {
            items.push(findings::changed(resource, kind_word, name, live_arn, comparison.changes));
        }
        in_sync += usize::from(clean);
    }
    in_sync
}

/// Seals the findings, counts them by code and sorts them most severe first.
fn finish(mut items: Vec<DriftItem>, mut summary: DriftSummary) -> DriftReport {
    for item in &mut items {
        item.finding = std::mem::replace(&mut item.finding, Finding::new(Code::DriftUnresolved, "", "", "")).seal();
        match item.finding.code {
            Code::DriftMissingLive => summary.missing_live += 1,
            Code::DriftChanged => summary.changed += 1,
            Code::DriftUnmanaged => summary.unmanaged += 1,
            Code::DriftDashboardBody => summary.dashboard_body += 1,
            Code::DriftUnresolved => summary.unresolved += 1,
            Code::DriftIgnoreExpired => summary.ignore_expired += 1,
            _ => {}
        }
    }
    items.sort_by(|a, b| b.finding.severity.cmp(&a.finding.severity).then_with(|| a.finding.code.cmp(&b.finding.code)));
    DriftReport { summary, items }
}

fn apply_ignore_rules(items: &mut Vec<DriftItem>, summary: &mut DriftSummary, options: &DriftOptions) {
    if options.ignore.is_empty() {
        return;
    }
    let today = options.today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let (current, expired): (Vec<&IgnoreRule>, Vec<&IgnoreRule>) = options.ignore.iter().partition(|rule| rule.waiver.judge(today) == Judged::Holds);
    items.retain_mut(|item| {
        let name = item.finding.alarm.clone().unwrap_or_default();
        let code = item.finding.code;
        for rule in current.iter().filter(|rule| rule.applies(code, &name)) {
            if item.finding.code == Code::DriftChanged && !rule.fields.is_empty() {
                let before = item.changes.len();
                item.changes.retain(|change| !rule.fields.contains(&change.field));
                if !item.changes.is_empty() {
                    if item.changes.len() < before {
                        summary.ignored += 1;
                        findings::reword_changed(&mut item.finding, &item.changes);
                    }
                    continue;
                }
            }
            summary.ignored += 1;
            return false;
        }
        true
    });
    items.extend(expired.into_iter().map(findings::ignore_expired));
}

/// Declared alarms (and the SNS topics they notify) that the inventory does not have yet, as
/// live objects, so `check --terraform` can count them as coverage ("declared, not yet live").
/// Alarms go to the inventory's account and to their provider's region (else the inventory's
/// only region). An alarm with any unresolved value is left out, as is everything when the
/// inventory covers several accounts. Subscriptions declared for a new topic are taken as confirmed.
pub struct DeclaredAsLive {
    pub alarms: Vec<MetricAlarm>,
    /// Declared composite alarms that are not live (roll-ups), their rules and actions resolved.
    pub composite_alarms: Vec<CompositeAlarm>,
    pub topics: Vec<crate::model::SnsTopic>,
    /// Declared CloudWatch Logs metric filters that are not live (security detections).
    pub log_metric_filters: Vec<crate::model::LogMetricFilter>,
    /// Declared alarms left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Per alarm (same index): its Terraform address and `file:line`.
    pub origins: Vec<(String, String)>,
}

pub fn declared_as_live(declared: &Declared, inventory: &Inventory) -> DeclaredAsLive {
    declared_as_live_with(declared, inventory, &AsLive::default())
}

/// What [`declared_as_live_with`] falls back on, and how it resolves references to declared resources.
#[derive(Default)]
pub struct AsLive<'a> {
    /// The account when the inventory has none (checking without an inventory).
    pub account: Option<String>,
    /// The region when neither the provider nor the inventory gives one.
    pub region: Option<String>,
    /// Values of references to declared resources, for alarm dimensions (`aws_instance.web.id`).
    pub references: Option<&'a terraform::watched::DeclaredInventory>,
}

/// [`declared_as_live`], with fallbacks and references resolved.
pub fn declared_as_live_with(declared: &Declared, inventory: &Inventory, context: &AsLive) -> DeclaredAsLive {
    let mut out = DeclaredAsLive { alarms: Vec::new(), composite_alarms: Vec::new(), topics: Vec::new(), log_metric_filters: Vec::new(), skipped: Vec::new(), origins: Vec::new() };
    let unique = |values: Vec<&str>| -> Option<String> {
        let set: std::collections::BTreeSet<&str> = values.into_iter().collect();
        (set.len() == 1).then(|| set.into_iter().next().unwrap().to_string())
    };
    let account = unique(inventory.scopes.iter().map(|s| s.account.as_str()).chain(inventory.resources.iter().map(|r| r.account.as_str())).collect())
        .or_else(|| context.account.clone());
    let only_region = unique(inventory.scopes.iter().map(|s| s.region.as_str()).chain(inventory.resources.iter().map(|r| r.region.as_str())).collect())
        .or_else(|| context.region.clone());
    let module_region = |resource: &DeclaredResource| declared.module_info.get(resource.module).and_then(|m| m.region.clone());
    let live: FxHashSet<(&str, &str)> = inventory.alarms.iter().map(|a| (a.region.as_str(), a.name.as_str())).collect();
    let live_topics: FxHashSet<&str> = inventory.sns_topics.iter().map(|t| t.arn.as_str()).collect();
    let topics = Topics::new(declared);
    let mut new_topics: BTreeMap<String, crate::model::SnsTopic> = BTreeMap::new();
    for resource in declared.of_kind(Kind::MetricAlarm) {
        let mut skip = |reason: String| out.skipped.push((resource.address.clone(), reason));
        let Some(account) = &account else {
            skip("the inventory does not cover exactly one account".into());
            continue;
        };
        let Some(region) = resource.region.clone().or_else(|| module_region(resource)).or_else(|| only_region.clone()) else {
            skip("its region is unknown".into());
            continue;
        };
        let name = match resource.name() {
            Ok(Some(name)) => name,
            Ok(None) => continue,
            Err(reason) => {
                skip(reason);
                continue;
            }
        };
        if live.contains(&(region.as_str(), name.as_str())) {
            continue;
        }
        let prefix = declared.module_info.get(resource.module).map_or("", |m| m.prefix.as_str());
        let dimension = |text: &str| context.references.and_then(|r| r.substitute(prefix, text));
        match alarm_from_declaration(&topics, resource, &name, account, &region, &dimension) {
            Ok(alarm) => {
                out.origins.push((format!("{prefix}{}", resource.address), location(resource)));
                add_topics(&mut new_topics, &live_topics, alarm.alarm_actions.iter().chain(&alarm.ok_actions), &region, account);
                out.alarms.push(alarm);
            }
            Err(reason) => skip(reason),
        }
    }
    let region_of = |resource: &DeclaredResource| resource.region.clone().or_else(|| module_region(resource)).or_else(|| only_region.clone());
    composites_as_live(declared, inventory, &topics, account.as_deref(), &region_of, &mut out);
    for composite in &out.composite_alarms {
        add_topics(&mut new_topics, &live_topics, composite.alarm_actions.iter().chain(&composite.ok_actions), &composite.region, &composite.account);
    }
    // A new topic counts as delivering when the repository subscribes something to it.
    for subscription in declared.of_kind(Kind::SnsSubscription) {
        let Ok(Some(target)) = resolved(subscription, "topic_arn") else { continue };
        for topic in new_topics.values_mut() {
            if topics.action(subscription.module, target, "", &topic.region, &topic.account).is_ok_and(|arn| arn == topic.arn) {
                topic.subscriptions.push(crate::model::Subscription {
                    protocol: text(subscription, "protocol").ok().flatten().unwrap_or_default(),
                    endpoint: text(subscription, "endpoint").ok().flatten().unwrap_or_default(),
                    confirmed: true,
                });
            }
        }
    }
    out.topics = new_topics.into_values().collect();
    let live_filters: FxHashSet<(&str, &str, &str)> =
        inventory.log_metric_filters.iter().map(|f| (f.region.as_str(), f.log_group.as_str(), f.name.as_str())).collect();
    for resource in declared.of_kind(Kind::LogMetricFilter) {
        let (Some(account), Some(region)) = (&account, resource.region.clone().or_else(|| module_region(resource)).or_else(|| only_region.clone())) else {
            out.skipped.push((resource.address.clone(), "its account or region is unknown".into()));
            continue;
        };
        let field = |name: &str| text(resource, name).and_then(|v| v.ok_or_else(|| format!("{name} is missing")));
        let filter = (|| {
            Ok::<_, String>(crate::model::LogMetricFilter {
                name: field("name")?,
                log_group: field("log_group_name")?,
                pattern: field("pattern")?,
                region: region.clone(),
                account: account.clone(),
                metrics: vec![crate::model::MetricTransformation {
                    namespace: field("metric_transformation.namespace")?,
                    name: field("metric_transformation.name")?,
                }],
            })
        })();
        match filter {
            Ok(filter) if live_filters.contains(&(filter.region.as_str(), filter.log_group.as_str(), filter.name.as_str())) => {}
            Ok(filter) => out.log_metric_filters.push(filter),
            Err(reason) => out.skipped.push((resource.address.clone(), reason)),
        }
    }
    out
}

/// The SNS topics among `actions` that are not live, as new topics without subscriptions yet.
fn add_topics<'a>(
    new_topics: &mut BTreeMap<String, crate::model::SnsTopic>,
    live_topics: &FxHashSet<&str>,
    actions: impl Iterator<Item = &'a String>,
    region: &str,
    account: &str,
) {
    for action in actions.filter(|action| action.contains(":sns:") && !live_topics.contains(action.as_str())) {
        new_topics.entry(action.clone()).or_insert_with(|| crate::model::SnsTopic {
            arn: action.clone(),
            region: region.to_string(),
            account: account.to_string(),
            kms_master_key_id: None,
            subscriptions: Vec::new(),
        });
    }
}

/// Declared composite alarms the inventory does not have yet, as live ones, into `out`: a
/// generated roll-up routes its members before it is applied, as its alarms count as coverage.
fn composites_as_live(
    declared: &Declared,
    inventory: &Inventory,
    topics: &Topics,
    account: Option<&str>,
    region_of: &dyn Fn(&DeclaredResource) -> Option<String>,
    out: &mut DeclaredAsLive,
) {
    let live: FxHashSet<(&str, &str)> = inventory.composite_alarms.iter().map(|c| (c.region.as_str(), c.name.as_str())).collect();
    for resource in declared.of_kind(Kind::CompositeAlarm) {
        let (Some(account), Some(region)) = (account, region_of(resource)) else {
            out.skipped.push((resource.address.clone(), "its account or region is unknown".into()));
            continue;
        };
        let name = match resource.name() {
            Ok(Some(name)) if !live.contains(&(region.as_str(), name.as_str())) => name,
            Ok(_) => continue,
            Err(reason) => {
                out.skipped.push((resource.address.clone(), reason));
                continue;
            }
        };
        let arn = alarm_arn(&region, account, &name);
        let composite = (|| {
            Ok::<_, String>(CompositeAlarm {
                alarm_rule: text(resource, "alarm_rule").and_then(|v| v.ok_or_else(|| "alarm_rule is not set".to_string()))?,
                actions_enabled: boolean(resource, "actions_enabled")?.unwrap_or(true),
                alarm_actions: topics.actions(resource, "alarm_actions", &arn, &region, account).map_err(|r| format!("alarm_actions: {r}"))?,
                ok_actions: topics.actions(resource, "ok_actions", &arn, &region, account).map_err(|r| format!("ok_actions: {r}"))?,
                name: name.clone(),
                arn: Some(arn.clone()),
                region: region.clone(),
                account: account.to_string(),
                state: None,
            })
        })();
        match composite {
            Ok(composite) => out.composite_alarms.push(composite),
            Err(reason) => out.skipped.push((resource.address.clone(), reason)),
        }
    }
}

/// `file:line` of a declared block, or the file alone where the line is unknown (a plan).
fn location(resource: &DeclaredResource) -> String {
    if resource.line > 0 { format!("{}:{}", resource.file, resource.line) } else { resource.file.clone() }
}

/// `dimension` gives the value of a dimension that refers to a declared resource.
fn alarm_from_declaration(
    topics: &Topics,
    resource: &DeclaredResource,
    name: &str,
    account: &str,
    region: &str,
    dimension: &dyn Fn(&str) -> Option<String>,
) -> Field<MetricAlarm> {
    let whole = |value: Option<f64>, field: &str| -> Field<Option<u32>> {
        value.map(|v| if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) { Ok(v as u32) } else { Err(format!("{field} is not a whole number")) }).transpose()
    };
    let enumeration = |field: &str| -> Field<Option<serde_json::Value>> { Ok(text(resource, field).map_err(|r| format!("{field}: {r}"))?.map(serde_json::Value::String)) };
    let arn = alarm_arn(region, account, name);
    let dimensions = match resolved(resource, "dimensions")? {
        None => crate::model::Dimensions::default(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) if !terraform::holds_reference(s) => Ok((k.clone(), s.clone())),
                Value::String(s) => dimension(s).map(|v| (k.clone(), v)).ok_or_else(|| format!("dimension {k} refers to {}", terraform::display(s))),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                _ => Err(format!("dimension {k} is unresolved")),
            })
            .collect::<Field<Vec<(String, String)>>>()?
            .into_iter()
            .collect(),
        Some(other) => return Err(format!("dimensions is not a map: {other}")),
    };
    let comparison = enumeration("comparison_operator")?.ok_or("comparison_operator is not set")?;
    Ok(MetricAlarm {
        name: name.to_string(),
        arn: Some(arn.clone()),
        region: region.to_string(),
        account: account.to_string(),
        description: text(resource, "alarm_description").ok().flatten(),
        namespace: text(resource, "namespace").map_err(|r| format!("namespace: {r}"))?,
        metric_name: text(resource, "metric_name").map_err(|r| format!("metric_name: {r}"))?,
        dimensions,
        statistic: enumeration("statistic")?.map(serde_json::from_value).transpose().map_err(|e| format!("statistic: {e}"))?,
        extended_statistic: text(resource, "extended_statistic").map_err(|r| format!("extended_statistic: {r}"))?,
        period: whole(number(resource, "period")?, "period")?,
        evaluation_periods: whole(number(resource, "evaluation_periods")?, "evaluation_periods")?.ok_or("evaluation_periods is not set")?,
        datapoints_to_alarm: whole(number(resource, "datapoints_to_alarm")?, "datapoints_to_alarm")?,
        comparison_operator: serde_json::from_value(comparison).map_err(|e| format!("comparison_operator: {e}"))?,
        threshold: number(resource, "threshold").map_err(|r| format!("threshold: {r}"))?,
        treat_missing_data: enumeration("treat_missing_data")?.map(serde_json::from_value).transpose().map_err(|e| format!("treat_missing_data: {e}"))?,
        actions_enabled: boolean(resource, "actions_enabled")?.unwrap_or(true),
        alarm_actions: topics.actions(resource, "alarm_actions", &arn, region, account).map_err(|r| format!("alarm_actions: {r}"))?,
        ok_actions: topics.actions(resource, "ok_actions", &arn, region, account).map_err(|r| format!("ok_actions: {r}"))?,
        insufficient_data_actions: topics.actions(resource, "insufficient_data_actions", &arn, region, account).map_err(|r| format!("insufficient_data_actions: {r}"))?,
        state: None,
        state_updated_at: None,
        state_changes: None,
        metrics: vec![],
        threshold_metric_id: None,
    })
}

#[cfg(test)]
mod tests;
