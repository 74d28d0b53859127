//! Roll-ups (`config/composites.json`): per (application tag value, severity, region), one
//! composite alarm over the members' alarms carries the notification. Members onwatch generates
//! have no actions and are named under `<prefix>-member-`, which no severity's chat rule
//! (`<prefix>-<severity>-`) matches, so a member notifies neither by SNS nor by chat: only its
//! roll-up does. A rule over CloudWatch's 10,240 characters is split into numbered child
//! composites (no actions, member-named) under one parent that notifies.

use std::{collections::BTreeMap, ops::Range};

use serde::Serialize;

use super::{refused, region, severity, KeyValue};
use crate::{
    config::{RollupKey, Settings},
    error::{Error, Result},
    model::names::{AlarmName, ProviderRef, TerraformIdentifier},
};

/// CloudWatch's limit on a composite alarm's rule.
pub const MAX_ALARM_RULE: usize = 10_240;

/// `ALARM("name")`, the name escaped for the rule string (`\` and `"`); HCL escaping comes on top.
pub fn alarm_term(name: &str) -> String {
    format!("ALARM(\"{}\")", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Names joined into `ALARM(...) OR ...` rules of at most `max` characters each, in order; with
/// each rule, the range of `names` it holds.
pub fn split_rules(names: &[String], max: usize) -> Result<Vec<(String, Range<usize>)>> {
    let mut rules: Vec<(String, Range<usize>)> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let term = alarm_term(name);
        if term.len() > max {
            return Err(Error::Generate(format!("alarm name {name:?} alone exceeds a composite rule's {max} characters")));
        }
        match rules.last_mut() {
            Some((rule, range)) if rule.len() + " OR ".len() + term.len() <= max => {
                rule.push_str(" OR ");
                rule.push_str(&term);
                range.end = index + 1;
            }
            _ => rules.push((term, index..index + 1)),
        }
    }
    Ok(rules)
}

#[derive(Debug, Serialize)]
pub(super) struct SuppressorContext {
    alarm: String,
    wait_period: u32,
    extension_period: u32,
}

#[derive(Debug, Serialize)]
pub(super) struct CompositeContext {
    address: TerraformIdentifier,
    provider: ProviderRef,
    name: AlarmName,
    description: String,
    rule: String,
    /// The severity's topic: the parent only.
    topic: Option<TerraformIdentifier>,
    suppressor: Option<SuppressorContext>,
    /// Resources that must exist before CloudWatch accepts the rule (generated members, child composites).
    depends_on: Vec<String>,
    tags: Vec<KeyValue>,
}

/// Members by roll-up: alarm name, and the Terraform address when this module declares it.
pub type Members = BTreeMap<RollupKey, BTreeMap<String, Option<String>>>;

/// The composite alarms of every roll-up, sorted by address.
pub(super) fn composite_contexts(settings: &Settings, members: &Members) -> Result<Vec<CompositeContext>> {
    let Some(config) = &settings.composites else { return Ok(Vec::new()) };
    let prefix = &settings.thresholds.alarm_name_prefix;
    let mut composites = Vec::new();
    for (key, names) in members {
        let (value, severity_name) = (&key.value, &key.severity);
        let severity = severity(severity_name)?;
        let region = region(&key.region, "roll-up region")?;
        let what = format!("roll-up {}={value:?} ({severity}, {region})", config.tag);
        let listed: Vec<String> = names.keys().cloned().collect();
        let addresses: Vec<Option<&String>> = names.values().map(Option::as_ref).collect();
        let depends = |range: Range<usize>| addresses[range].iter().flatten().map(|a| format!("aws_cloudwatch_metric_alarm.{a}")).collect::<Vec<_>>();
        let rules = split_rules(&listed, MAX_ALARM_RULE)?;
        let named = |name: std::result::Result<AlarmName, _>| name.map_err(|e| refused(&format!("{what}: alarm name"), e));
        let parent_name = named(config.parent_name(prefix, key))?;
        let address = |part: &str| TerraformIdentifier::hashed(&["rollup", value, severity_name], &[&config.tag, value, severity_name, &key.region, part]);
        let tags = |part: &str| {
            vec![KeyValue { key: "onwatch:rollup".into(), value: format!("{}={value}/{severity}", config.tag) }, KeyValue { key: "onwatch:part".into(), value: part.into() }]
        };
        let (parent_rule, parent_depends) = if let [(rule, range)] = rules.as_slice() {
            (rule.clone(), depends(range.clone()))
        } else {
            let mut children = Vec::new();
            for (index, (rule, range)) in rules.iter().enumerate() {
                let number = (index + 1).to_string();
                children.push(CompositeContext {
                    address: address(&number),
                    provider: region.provider(),
                    name: named(config.part_name(prefix, key, index + 1))?,
                    description: format!("onwatch {what}, part {number} of {}: notifies through {}", rules.len(), parent_name.as_str()),
                    rule: rule.clone(),
                    topic: None,
                    suppressor: None,
                    depends_on: depends(range.clone()),
                    tags: tags(&number),
                });
            }
            let names: Vec<String> = children.iter().map(|c| c.name.as_str().to_string()).collect();
            let parent_rule = split_rules(&names, MAX_ALARM_RULE)?;
            if parent_rule.len() > 1 {
                return Err(Error::Generate(format!("{what}: {} alarms need more than one level of composites; split the application tag", listed.len())));
            }
            let parent_depends = children.iter().map(|c| format!("aws_cloudwatch_composite_alarm.{}", c.address.as_str())).collect();
            composites.extend(children);
            (parent_rule[0].0.clone(), parent_depends)
        };
        composites.push(CompositeContext {
            address: address("parent"),
            provider: region.provider(),
            description: format!("onwatch {what}: notifies for its {} member alarms", listed.len()),
            name: parent_name,
            rule: parent_rule,
            topic: Some(TerraformIdentifier::topic(&severity, &region)),
            suppressor: config.suppressor.as_ref().map(|s| SuppressorContext { alarm: s.alarm.clone(), wait_period: s.wait_period, extension_period: s.extension_period }),
            depends_on: parent_depends,
            tags: tags("parent"),
        });
    }
    composites.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(composites)
}
