//! The catalogue's templates (`{Group}`, `{arn}`, `{partition}`, `{region}`, `{account}`,
//! `{attr:Name}` between literals): parsed once, filled forwards (an ARN's groups into a
//! dimension value or an ARN) and inverted (a dimension value back into the groups it carries).

use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Literal(String),
    Capture(String),
    Arn,
    Partition,
    Region,
    Account,
    Attribute(String),
}

impl Part {
    pub(super) fn is_placeholder(&self) -> bool {
        !matches!(self, Part::Literal(_))
    }
}

pub(super) fn parse_template(template: &str, groups: &HashSet<String>) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_string()));
        }
        let close = rest[open..].find('}').ok_or_else(|| format!("unclosed {{ in {template:?}"))? + open;
        let placeholder = &rest[open + 1..close];
        parts.push(match placeholder {
            "arn" => Part::Arn,
            "partition" => Part::Partition,
            "region" => Part::Region,
            "account" => Part::Account,
            _ => match placeholder.strip_prefix("attr:") {
                Some(attribute) if !attribute.is_empty() => Part::Attribute(attribute.to_string()),
                _ if groups.contains(placeholder) => Part::Capture(placeholder.to_string()),
                _ => {
                    return Err(format!(
                        "{{{placeholder}}} is neither a named group of arn_resource nor arn, partition, region, account or attr:NAME"
                    ))
                }
            },
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// Where an ARN or a metric belongs: what `{partition}`, `{region}` and `{account}` stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// What inverting dimension values bound: named groups, and the whole ARN (`{arn}`).
#[derive(Debug, Default)]
pub(super) struct Bound<'v> {
    pub(super) groups: Vec<(&'v str, &'v str)>,
    pub(super) arn: Option<&'v str>,
}

impl<'v> Bound<'v> {
    pub(super) fn group(&self, name: &str) -> Option<&'v str> {
        self.groups.iter().find(|(group, _)| *group == name).map(|(_, value)| *value)
    }

    /// Records `group = value`; `None` when the group is already bound to another value.
    fn bind(&mut self, group: &'v str, value: &'v str) -> Option<()> {
        match self.group(group) {
            Some(known) => (known == value).then_some(()),
            None => {
                self.groups.push((group, value));
                Some(())
            }
        }
    }
}

/// Inverts a template of at most one placeholder against `value`: the literals around the
/// placeholder must be there, and what they enclose (not empty) binds it. `{partition}`,
/// `{region}` and `{account}` must be `at`'s; an attribute binds nothing. `None` when `value`
/// does not have the template's shape.
pub(super) fn invert<'v>(parts: &'v [Part], value: &'v str, at: &Place, bound: &mut Bound<'v>) -> Option<()> {
    let placeholder = parts.iter().position(Part::is_placeholder);
    let (before, after) = match placeholder {
        Some(index) => (&parts[..index], &parts[index + 1..]),
        None => (parts, &parts[parts.len()..]),
    };
    let mut rest = value;
    for part in before {
        rest = rest.strip_prefix(literal(part)?)?;
    }
    for part in after.iter().rev() {
        rest = rest.strip_suffix(literal(part)?)?;
    }
    let Some(index) = placeholder else { return rest.is_empty().then_some(()) };
    if rest.is_empty() {
        return None;
    }
    match &parts[index] {
        Part::Capture(group) => bound.bind(group, rest),
        Part::Arn if bound.arn.is_none_or(|known| known == rest) => {
            bound.arn = Some(rest);
            Some(())
        }
        Part::Partition => (rest == at.partition).then_some(()),
        Part::Region => (rest == at.region).then_some(()),
        Part::Account => (rest == at.account).then_some(()),
        Part::Attribute(_) => Some(()),
        Part::Arn | Part::Literal(_) => None,
    }
}

fn literal(part: &Part) -> Option<&str> {
    match part {
        Part::Literal(text) => Some(text),
        _ => None,
    }
}
