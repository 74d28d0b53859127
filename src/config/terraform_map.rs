//! The catalogue's Terraform mapping, compiled: which Terraform resource types declare each
//! catalogued type, and templates that form its name, ARN, dimension captures and attributes
//! from the resource's Terraform values. Data, not code per type: the reader of source and the
//! reader of plans both hand values to [`TerraformMapping::render`].

use std::collections::{BTreeMap, HashSet};

use super::types::TerraformSpec;
use crate::error::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A Terraform argument or attribute (`function_name`, `tags.Name`); `basename` keeps what
    /// follows the last `/` (an argument that takes a name or an ARN).
    Value { name: String, basename: bool },
    Partition,
    Region,
    Account,
}

/// A parsed template such as `arn:{partition}:lambda:{region}:{account}:function:{function_name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

/// Where a declared resource is deployed, as far as it is known (unknown parts are tokens).
pub struct Placement<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// Splits `template` at its `{placeholder}`s: literal text goes to `literal`, each placeholder to
/// `placeholder` (the catalogue's dimension templates are read the same way).
pub(super) fn split<T>(template: &str, literal: impl Fn(String) -> T, mut placeholder: impl FnMut(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(literal(rest[..open].to_string()));
        }
        let close = rest[open..].find('}').ok_or_else(|| format!("unclosed {{ in {template:?}"))? + open;
        parts.push(placeholder(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(literal(rest.to_string()));
    }
    Ok(parts)
}

impl Template {
    fn parse(template: &str) -> Result<Template, String> {
        let parts = split(template, Part::Literal, |placeholder| {
            let (name, basename) = match placeholder.split_once('|') {
                None => (placeholder, false),
                Some((name, "basename")) => (name, true),
                Some((_, filter)) => return Err(format!("unknown filter {filter:?} in {template:?} (known: basename)")),
            };
            let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
            if !valid {
                return Err(format!("{{{placeholder}}} in {template:?} is not an argument name"));
            }
            Ok(match (name, basename) {
                ("partition", false) => Part::Partition,
                ("region", false) => Part::Region,
                ("account", false) => Part::Account,
                _ => Part::Value { name: name.to_string(), basename },
            })
        })?;
        Ok(Template(parts))
    }

    /// The Terraform values the template reads.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|part| match part {
            Part::Value { name, .. } => Some(name.as_str()),
            _ => None,
        })
    }

    /// The text, with each value from `value` (which gives a token such as
    /// `${aws_instance.web.id}` for one known only after apply).
    pub fn render(&self, placement: &Placement, value: &mut dyn FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Partition => out.push_str(placement.partition),
                Part::Region => out.push_str(placement.region),
                Part::Account => out.push_str(placement.account),
                Part::Value { name, basename } => {
                    let text = value(name);
                    out.push_str(if *basename { text.rsplit('/').next().unwrap_or(&text) } else { &text });
                }
            }
        }
        out
    }
}

/// One Terraform resource type that declares resources of a catalogued type, compiled.
#[derive(Debug, Clone)]
pub struct TerraformMapping {
    pub resource: String,
    pub when: BTreeMap<String, String>,
    pub defaults: BTreeMap<String, String>,
    pub name: Template,
    pub arn: Template,
    /// Per named group of the type's `arn_resource`.
    pub captures: Vec<(String, Template)>,
    pub attributes: Vec<(String, Template)>,
    pub computed: Vec<(String, Template)>,
    pub region: Option<String>,
}

impl TerraformMapping {
    /// Whether a block (its value of each `when` argument given by `value`, defaults applied) is of this mapping's type.
    pub fn applies(&self, value: &dyn Fn(&str) -> Option<String>) -> bool {
        self.when.iter().all(|(argument, wanted)| value(argument).or_else(|| self.defaults.get(argument).cloned()).as_deref() == Some(wanted))
    }

    /// Every Terraform argument the mapping reads (`tags.Name` read as `tags`), for the reader.
    pub fn arguments(&self) -> impl Iterator<Item = &str> {
        let templates = std::iter::once(&self.name)
            .chain(std::iter::once(&self.arn))
            .chain(self.captures.iter().chain(&self.attributes).chain(&self.computed).map(|(_, template)| template));
        templates
            .flat_map(Template::values)
            .chain(self.when.keys().map(String::as_str))
            .map(|name| name.split('.').next().unwrap_or(name))
            .chain(std::iter::once("tags"))
    }
}

/// Collects the problems of one mapping, each at its JSON path.
struct Problems<'a> {
    file: &'a str,
    at: String,
    found: Vec<Problem>,
}

impl Problems<'_> {
    fn push(&mut self, suffix: &str, message: String) {
        self.found.push(Problem { file: self.file.to_string(), json_path: format!("{}{suffix}", self.at), position: None, message });
    }

    fn template(&mut self, suffix: &str, text: &str) -> Option<Template> {
        Template::parse(text).map_err(|message| self.push(suffix, message)).ok()
    }

    fn templates(&mut self, field: &str, map: BTreeMap<String, String>) -> Vec<(String, Template)> {
        map.into_iter().filter_map(|(key, text)| Some((key.clone(), self.template(&format!(".{field}.{key}"), &text)?))).collect()
    }
}

/// Compiles `spec` (at `$.resource_types[type].terraform[index]`) against the named groups of the type's ARN pattern.
pub(super) fn compile(file: &str, type_name: &str, index: usize, spec: TerraformSpec, groups: &HashSet<String>) -> Result<TerraformMapping, Vec<Problem>> {
    let mut problems = Problems { file, at: format!("$.resource_types[{type_name:?}].terraform[{index}]"), found: Vec::new() };
    let name = problems.template(".name", &spec.name);
    let arn = problems.template(".arn", &spec.arn);
    let captures = problems.templates("captures", spec.captures);
    let attributes = problems.templates("attributes", spec.attributes);
    let computed = problems.templates("computed", spec.computed);
    let given: HashSet<&String> = captures.iter().map(|(group, _)| group).collect();
    let mut missing: Vec<&String> = groups.iter().filter(|group| !given.contains(group)).collect();
    missing.sort();
    if !missing.is_empty() {
        problems.push(".captures", format!("lacks the named groups of arn_resource {missing:?}"));
    }
    for (group, _) in captures.iter().filter(|(group, _)| !groups.contains(group)) {
        problems.push(&format!(".captures.{group}"), "is not a named group of arn_resource".into());
    }
    for argument in spec.when.keys().filter(|argument| !spec.defaults.contains_key(*argument)) {
        problems.push(&format!(".when.{argument}"), "needs its provider default in defaults (the block may leave it unset)".into());
    }
    match (problems.found.is_empty(), name, arn) {
        (true, Some(name), Some(arn)) => Ok(TerraformMapping {
            resource: spec.resource,
            when: spec.when,
            defaults: spec.defaults,
            name,
            arn,
            captures,
            attributes,
            computed,
            region: spec.region,
        }),
        _ => Err(problems.found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(arn: &str, captures: &[(&str, &str)]) -> TerraformSpec {
        TerraformSpec {
            resource: "aws_x".into(),
            when: BTreeMap::new(),
            defaults: BTreeMap::new(),
            name: "{name}".into(),
            arn: arn.into(),
            captures: captures.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            attributes: BTreeMap::new(),
            computed: BTreeMap::new(),
            region: None,
        }
    }

    fn groups(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn templates_render_values_placement_and_basename() {
        let template = Template::parse("arn:{partition}:ecs:{region}:{account}:service/{cluster|basename}/{name}").unwrap();
        let placement = Placement { partition: "aws", region: "eu-west-1", account: "111111111111" };
        let rendered = template.render(&placement, &mut |name| match name {
            "cluster" => "arn:aws:ecs:eu-west-1:111111111111:cluster/main".into(),
            other => other.to_uppercase(),
        });
        assert_eq!(rendered, "arn:aws:ecs:eu-west-1:111111111111:service/main/NAME");
        assert_eq!(template.values().collect::<Vec<_>>(), ["cluster", "name"]);
    }

    #[test]
    fn a_mapping_must_give_every_group_and_only_groups_and_parse() {
        let problems = compile("rt.json", "x:y", 0, spec("arn:{partition}:x:{region}", &[("Other", "{id}")]), &groups(&["Id"])).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.json_path.as_str()).collect();
        assert_eq!(paths, [r#"$.resource_types["x:y"].terraform[0].captures"#, r#"$.resource_types["x:y"].terraform[0].captures.Other"#]);
        assert!(problems[0].message.contains("\"Id\""), "{}", problems[0].message);

        let problems = compile("rt.json", "x:y", 1, spec("arn:{id|upper}", &[("Id", "{id")]), &groups(&["Id"])).unwrap_err();
        let messages: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.json_path, p.message)).collect();
        assert!(messages[0].contains("terraform[1].arn: unknown filter \"upper\""), "{messages:?}");
        assert!(messages[1].contains("terraform[1].captures.Id: unclosed {"), "{messages:?}");

        let mut discriminated = spec("arn:{id}", &[("Id", "{id}")]);
        discriminated.when.insert("load_balancer_type".into(), "network".into());
        let problems = compile("rt.json", "x:y", 0, discriminated, &groups(&["Id"])).unwrap_err();
        assert!(problems[0].json_path.ends_with(".when.load_balancer_type") && problems[0].message.contains("defaults"), "{problems:?}");
    }

    #[test]
    fn when_applies_with_the_provider_default() {
        let mut network = spec("arn:{arn_suffix}", &[("Id", "{arn_suffix}")]);
        network.when.insert("load_balancer_type".into(), "network".into());
        network.defaults.insert("load_balancer_type".into(), "application".into());
        let mapping = compile("rt.json", "x:y", 0, network, &groups(&["Id"])).unwrap();
        assert!(!mapping.applies(&|_| None));
        assert!(mapping.applies(&|_| Some("network".into())));
        let arguments: Vec<&str> = mapping.arguments().collect();
        assert!(arguments.contains(&"arn_suffix") && arguments.contains(&"load_balancer_type") && arguments.contains(&"tags"), "{arguments:?}");
    }
}
