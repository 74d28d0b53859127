//! Whether an alarm's notifications reach somebody: the delivery rules every check family shares
//! (an alarm's actions enabled, an SNS topic that exists, is not encrypted with the AWS-managed key
//! CloudWatch cannot use, and has a confirmed subscription; or a composite alarm that notifies).

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{Arn, CompositeAlarm, Inventory, MetricAlarm, Scope, SnsTopic};
use crate::findings::Code;

/// One reason an alarm's notifications do not reach anybody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProblem {
    pub code: Code,
    pub message: String,
}

/// The inventory's topics and composite alarms, indexed once, to judge delivery.
pub struct Delivery<'a> {
    topics: FxHashMap<&'a str, &'a SnsTopic>,
    /// Per alarm name a composite alarm with actions watches (directly or through composites it
    /// watches): `None` when one of those composites delivers, else the first that does not.
    composite_children: FxHashMap<&'a str, Option<&'a CompositeAlarm>>,
    /// Scopes that failed to scan: whether a topic there exists is unknown.
    unknown: FxHashSet<(&'a str, &'a str)>,
}

impl<'a> Delivery<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        Delivery::with_failed(inventory, &[])
    }

    /// As [`Delivery::new`], knowing the scopes that failed to scan: a topic of one of them (a
    /// central alerting account's, say) is not "not in the inventory", its existence is unknown.
    pub fn with_failed(inventory: &'a Inventory, failed: &'a [Scope]) -> Self {
        let topics = inventory.sns_topics.iter().map(|t| (t.arn.as_str(), t)).collect();
        let unknown = failed.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect();
        let mut delivery = Delivery { topics, composite_children: FxHashMap::default(), unknown };
        delivery.composite_children = composite_children(inventory, &delivery);
        delivery
    }

    /// Whether `arn` lies in a scope that failed to scan.
    fn in_unknown_scope(&self, arn: &str) -> bool {
        !self.unknown.is_empty() && Arn::parse(arn).is_some_and(|arn| self.unknown.contains(&(arn.account, arn.region)))
    }

    pub fn topic(&self, arn: &str) -> Option<&'a SnsTopic> {
        self.topics.get(arn).copied()
    }

    /// Whether a composite alarm with actions watches this alarm, so it needs none itself.
    pub fn is_composite_child(&self, alarm: &MetricAlarm) -> bool {
        self.composite_children.contains_key(alarm.name.as_str())
    }

    /// Problems with where an alarm's notifications go; empty when they reach somebody. An alarm
    /// without actions is judged by the composite alarms that watch it: delivered when one of
    /// them delivers, else with the problems of the first.
    pub fn problems(&self, alarm: &MetricAlarm) -> Vec<DeliveryProblem> {
        if !alarm.alarm_actions.is_empty() {
            return self.action_problems("alarm", &alarm.name, alarm.actions_enabled, &alarm.alarm_actions);
        }
        match self.composite_children.get(alarm.name.as_str()) {
            None => vec![DeliveryProblem { code: Code::AlarmNoActions, message: format!("alarm {:?} has no alarm action", alarm.name) }],
            Some(None) => Vec::new(),
            Some(Some(composite)) => self
                .action_problems("composite alarm", &composite.name, composite.actions_enabled, &composite.alarm_actions)
                .into_iter()
                .map(|p| DeliveryProblem { code: p.code, message: format!("alarm {:?} notifies only through its composites, and {}", alarm.name, p.message) })
                .collect(),
        }
    }

    /// Problems of an alarm's (or a composite's) own actions.
    fn action_problems(&self, what: &str, name: &str, enabled: bool, actions: &[String]) -> Vec<DeliveryProblem> {
        let mut problems = Vec::new();
        if !enabled {
            problems.push(DeliveryProblem { code: Code::AlarmActionsDisabled, message: format!("{what} {name:?} has its actions disabled") });
        }
        for action in actions.iter().filter(|action| action.contains(":sns:")) {
            let problem = match self.topic(action) {
                None if self.in_unknown_scope(action) => None,
                None => Some((Code::AlarmTopicUnknown, "which is not in the inventory")),
                Some(topic) if topic.uses_aws_managed_key() => {
                    Some((Code::AlarmTopicAwsManagedKey, "encrypted with alias/aws/sns, which CloudWatch cannot publish to"))
                }
                Some(topic) if !topic.has_confirmed_subscription() => Some((Code::AlarmTopicUnconfirmed, "which has no confirmed subscription")),
                Some(_) => None,
            };
            if let Some((code, why)) = problem {
                problems.push(DeliveryProblem { code, message: format!("{what} {name:?} notifies {action}, {why}") });
            }
        }
        problems
    }
}

/// The alarm names a composite alarm's rule references (`ALARM("a") OR OK(b)`), an ARN's
/// reduced to its name.
pub fn rule_references(rule: &str) -> impl Iterator<Item = &str> {
    static RULE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let pattern = RULE.get_or_init(|| Regex::new(r#"(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)"#).expect("the rule pattern compiles"));
    pattern.captures_iter(rule).map(|capture| {
        let name = capture.get(1).map_or("", |m| m.as_str());
        name.rsplit_once(":alarm:").map_or(name, |(_, short)| short)
    })
}

/// The alarms (metric or composite, by name) each composite alarm with actions of its own
/// watches, directly or through the composites it watches (a roll-up split into parts under one
/// parent): `None` when some composite watching it delivers, else the first that does not.
fn composite_children<'a>(inventory: &'a Inventory, delivery: &Delivery<'a>) -> FxHashMap<&'a str, Option<&'a CompositeAlarm>> {
    let by_name: FxHashMap<&str, &CompositeAlarm> = inventory.composite_alarms.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut children: FxHashMap<&str, Option<&CompositeAlarm>> = FxHashMap::default();
    for root in inventory.composite_alarms.iter().filter(|c| !c.alarm_actions.is_empty()) {
        let delivers = delivery.action_problems("composite alarm", &root.name, root.actions_enabled, &root.alarm_actions).is_empty();
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let mut pending = vec![root];
        while let Some(composite) = pending.pop() {
            for name in rule_references(&composite.alarm_rule) {
                if !seen.insert(name) {
                    continue;
                }
                let entry = children.entry(name).or_insert(Some(root));
                if delivers {
                    *entry = None;
                }
                pending.extend(by_name.get(name).copied());
            }
        }
    }
    children
}
