//! Roll-ups (`config/composites.json`, optional): per (account, region, severity, value of an
//! application tag), one composite alarm over the members' alarms carries the notification. The
//! keys and names live here, below the check and generation, so both compute them the same way.

use std::collections::BTreeMap;

use super::{finish, problem, CompositesFile, SeverityRoute};
use crate::{
    error::Result,
    json::parse_validated,
    model::{
        names::{AlarmName, NameError, SeverityName},
        Resource,
    },
};

/// The word after the alarm name prefix that marks a roll-up member (`onwatch-member-...`); no
/// severity may be named so while roll-ups are configured, or its chat rule would match members.
pub const ROLLUP_MEMBER_WORD: &str = "member";

/// Which roll-up an alarm belongs to. Ordered so that roll-ups come out in a canonical order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub account: String,
    pub region: String,
    pub severity: String,
    /// The application tag's value.
    pub value: String,
}

impl CompositesFile {
    /// The roll-up of an alarm of `severity` on `resource`: none when the resource lacks the tag
    /// (or its value is blank) or the severity is not rolled up.
    pub fn rollup_of(&self, resource: &Resource, severity: &str) -> Option<RollupKey> {
        let value = resource.tags.get(&self.tag).filter(|v| !v.trim().is_empty())?;
        self.severities.iter().any(|s| s == severity).then(|| RollupKey {
            account: resource.account.clone(),
            region: resource.region.clone(),
            severity: severity.to_string(),
            value: value.clone(),
        })
    }

    /// The composite that notifies: `<prefix>-<severity>-rollup-<value>-<tag>`, which its
    /// severity's chat rule (`<prefix>-<severity>-`) matches.
    pub fn parent_name(&self, prefix: &str, key: &RollupKey) -> Result<AlarmName, NameError> {
        AlarmName::generated(prefix, &SeverityName::parse(&key.severity)?, "rollup", &key.value, &self.tag)
    }

    /// Part `n` (from 1) of a roll-up split past CloudWatch's rule limit:
    /// `<prefix>-member-<severity>-rollup-<value>-<tag>-<n>`, which no chat rule matches.
    pub fn part_name(&self, prefix: &str, key: &RollupKey, part: usize) -> Result<AlarmName, NameError> {
        AlarmName::generated(&member_prefix(prefix), &SeverityName::parse(&key.severity)?, "rollup", &key.value, &format!("{}-{part}", self.tag))
    }
}

/// The name prefix of members: `<prefix>-member`.
pub fn member_prefix(name_prefix: &str) -> String {
    format!("{name_prefix}-{ROLLUP_MEMBER_WORD}")
}

/// Parses and checks `composites.json`: roll-up severities must be routed severities, each named
/// once, and no severity may be called `member`.
pub(super) fn check(file: &str, text: &str, severities: Option<&BTreeMap<String, SeverityRoute>>) -> Result<CompositesFile> {
    let parsed = parse_validated::<CompositesFile>(file, text)?;
    let mut problems = Vec::new();
    for (index, name) in parsed.severities.iter().enumerate() {
        let path = format!("$.severities[{index}]");
        if parsed.severities[..index].contains(name) {
            problems.push(problem(file, path, format!("severity {name:?} is listed twice")));
        } else if let Some(known) = severities.filter(|known| !known.contains_key(name)) {
            let known = known.keys().cloned().collect::<Vec<_>>().join(", ");
            problems.push(problem(file, path, format!("unknown severity {name:?}; alert_thresholds.json defines {known}")));
        }
    }
    if severities.is_some_and(|known| known.contains_key(ROLLUP_MEMBER_WORD)) {
        let message = format!("a severity named {ROLLUP_MEMBER_WORD:?} in alert_thresholds.json would match roll-up members' names; rename it");
        problems.push(problem(file, "$.severities".into(), message));
    }
    if parsed.tag.trim().is_empty() {
        problems.push(problem(file, "$.tag".into(), "the application tag is blank".into()));
    }
    if let Some(suppressor) = &parsed.suppressor {
        if suppressor.alarm.trim().is_empty() {
            problems.push(problem(file, "$.suppressor.alarm".into(), "the suppressor alarm's name is blank".into()));
        }
    }
    finish(problems, parsed)
}
