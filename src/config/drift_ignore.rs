//! Drift ignore rules (`config/drift_ignore.json`): what to leave out of drift reports, each with a
//! reason and an expiry date. An expired rule ignores nothing and is reported.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{selector::glob_match, waiver::expiry_lines, Waiver};
use crate::{
    error::{Error, Problem, Result},
    findings::Code,
};

/// The file, as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch drift ignore rules")]
pub struct DriftIgnoreFile {
    /// Editor hint pointing at this schema; ignored by onwatch.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub rules: Vec<IgnoreRuleFile>,
}

/// One rule: drift of the alarms or dashboards named by `name` is not reported until `expires`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRuleFile {
    /// Alarm or dashboard name; `*` matches any run of characters.
    pub name: String,
    /// Drift codes the rule ignores (`drift-changed`, `drift-unmanaged`, ...); all drift codes when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Code>,
    /// For `drift-changed`: only these fields (`threshold`, `alarm_actions`, ...); every field when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Why the drift is accepted.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Last day the rule applies (YYYY-MM-DD).
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub expires: String,
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct IgnoreRule {
    pub name: String,
    pub codes: Vec<Code>,
    pub fields: Vec<String>,
    pub waiver: Waiver,
}

impl IgnoreRule {
    pub fn applies(&self, code: Code, name: &str) -> bool {
        (self.codes.is_empty() || self.codes.contains(&code)) && glob_match(&self.name, name)
    }
}

/// The rules in `dir/drift_ignore.json`; none when the directory or file does not exist (a
/// broken symlink of that name is an error).
pub fn load(dir: Option<&Path>) -> Result<Vec<IgnoreRule>> {
    let Some(dir) = dir else { return Ok(Vec::new()) };
    let path = dir.join("drift_ignore.json");
    let Some(text) = super::read_if_present(&path)? else { return Ok(Vec::new()) };
    parse(&path.display().to_string(), &text)
}

/// Validates every rule before reporting, so all problems come out at once.
pub fn parse(file: &str, text: &str) -> Result<Vec<IgnoreRule>> {
    let parsed: DriftIgnoreFile = crate::json::parse_validated(file, text)?;
    let lines = expiry_lines(text, "rules", parsed.rules.len());
    let mut problems = Vec::new();
    let mut rules = Vec::new();
    for (index, rule) in parsed.rules.into_iter().enumerate() {
        let at = format!("$.rules[{index}]");
        if let Some(code) = rule.codes.iter().find(|c| !c.as_str().starts_with("drift-")) {
            problems.push(Problem { file: file.to_string(), json_path: format!("{at}.codes"), position: None, message: format!("{code} is not a drift code") });
        }
        if let Some(waiver) = Waiver::check(file, &at, "drift", &rule.reason, &rule.expires, lines[index], &mut problems) {
            rules.push(IgnoreRule { name: rule.name, codes: rule.codes, fields: rule.fields, waiver });
        }
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(Error::Invalid(problems))
    }
}
