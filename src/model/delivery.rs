//! Whether an alarm's notifications reach somebody: the delivery rules every check family shares
//! (an alarm's actions enabled, an SNS topic that exists, is not encrypted with the AWS-managed key
//! CloudWatch cannot use, and has a confirmed subscription; or a composite alarm that notifies).

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{Arn, Inventory, MetricAlarm, Scope, SnsTopic};
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
    /// Names of metric alarms a composite alarm with actions of its own watches.
    composite_children: FxHashSet<&'a str>,
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
        Delivery {
            topics: inventory.sns_topics.iter().map(|t| (t.arn.as_str(), t)).collect(),
            composite_children: composite_children(inventory),
            unknown: failed.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect(),
        }
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
        self.composite_children.contains(alarm.name.as_str())
    }

    /// Problems with where an alarm's notifications go; empty when they reach somebody.
    pub fn problems(&self, alarm: &MetricAlarm) -> Vec<DeliveryProblem> {
        let mut problems = Vec::new();
        if alarm.alarm_actions.is_empty() {
            if !self.is_composite_child(alarm) {
                problems.push(DeliveryProblem { code: Code::AlarmNoActions, message: format!("alarm {:?} has no alarm action", alarm.name) });
            }
            return problems;
        }
        if !alarm.actions_enabled {
            problems.push(DeliveryProblem { code: Code::AlarmActionsDisabled, message: format!("alarm {:?} has its actions disabled", alarm.name) });
        }
        for action in alarm.alarm_actions.iter().filter(|action| action.contains(":sns:")) {
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
                problems.push(DeliveryProblem { code, message: format!("alarm {:?} notifies {action}, {why}", alarm.name) });
            }
        }
        problems
    }
}

/// Names of metric alarms referenced by a composite alarm that has actions of its own.
fn composite_children(inventory: &Inventory) -> FxHashSet<&str> {
    static RULE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let rule = RULE.get_or_init(|| Regex::new(r#"(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)"#).expect("the rule pattern compiles"));
    let mut children = FxHashSet::default();
    for composite in inventory.composite_alarms.iter().filter(|c| c.actions_enabled && !c.alarm_actions.is_empty()) {
        for capture in rule.captures_iter(&composite.alarm_rule) {
            let name = capture.get(1).map_or("", |m| m.as_str());
            children.insert(name.rsplit_once(":alarm:").map_or(name, |(_, short)| short));
        }
    }
    children
}
