//! The resource type catalogue, compiled: ARN patterns as regexes, dimension templates parsed,
//! and, per namespace, the dimension-name sets that identify a resource.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use regex::{Captures, Regex};
use rustc_hash::FxHashMap;

use super::types::{ResourceTypesFile, ResourceTypeSpec};
use crate::{
    error::{Error, Problem, Result},
    model::{Arn, Dimensions, Resource},
};

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Capture(String),
    Arn,
    Region,
    Account,
    Attribute(String),
}

#[derive(Debug, Clone)]
pub struct Namespace {
    /// Dimension name and the template of its value.
    dimensions: Vec<(String, Vec<Part>)>,
    pub metrics: HashSet<String>,
    pub published_by: Option<String>,
}

impl Namespace {
    pub fn dimension_names(&self) -> impl Iterator<Item = &str> {
        self.dimensions.iter().map(|(name, _)| name.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct ResourceType {
    pub name: String,
    pub service: String,
    arn_resource: Regex,
    /// Real-shaped ARNs of the type, each matching `arn_resource`.
    pub example_arns: Vec<String>,
    pub namespaces: BTreeMap<String, Namespace>,
}

/// Why a resource's dimensions could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimensionError {
    ArnMismatch,
    MissingAttribute(String),
}

impl std::fmt::Display for DimensionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DimensionError::ArnMismatch => write!(f, "its ARN does not have the shape the resource type catalogue expects"),
            DimensionError::MissingAttribute(name) => write!(f, "it lacks the attribute {name:?}"),
        }
    }
}

impl ResourceType {
    pub fn knows_metric(&self, metric: &str) -> bool {
        self.namespaces.values().any(|ns| ns.metrics.contains(metric))
    }

    pub fn knows(&self, namespace: &str, metric: &str) -> bool {
        self.namespaces.get(namespace).is_some_and(|ns| ns.metrics.contains(metric))
    }

    /// Matches the resource's ARN against the type's pattern, once per resource.
    pub fn locate<'r>(&self, resource: &'r Resource) -> Result<Captures<'r>, DimensionError> {
        let arn = Arn::parse(&resource.arn).ok_or(DimensionError::ArnMismatch)?;
        self.arn_resource.captures(arn.resource).ok_or(DimensionError::ArnMismatch)
    }

    /// Appends `name=value␟` for each dimension identifying `resource` in `namespace`, in name order.
    pub fn push_identity(&self, namespace: &Namespace, resource: &Resource, captures: &Captures, key: &mut String) -> Result<(), DimensionError> {
        for (name, parts) in &namespace.dimensions {
            key.push_str(name);
            key.push('=');
            push_value(parts, resource, captures, key)?;
            key.push('\u{1f}');
        }
        Ok(())
    }

    /// The dimensions that identify `resource` in `namespace`, in name order.
    pub fn dimensions(&self, resource: &Resource, namespace: &str) -> Result<Dimensions, DimensionError> {
        let Some(spec) = self.namespaces.get(namespace) else {
            return Ok(Dimensions::default());
        };
        let captures = self.locate(resource)?;
        let mut dimensions = Dimensions::default();
        for (name, parts) in &spec.dimensions {
            let mut value = String::new();
            push_value(parts, resource, &captures, &mut value)?;
            dimensions.insert(name.as_str(), value);
        }
        Ok(dimensions)
    }
}

fn push_value(parts: &[Part], resource: &Resource, captures: &Captures, out: &mut String) -> Result<(), DimensionError> {
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Capture(group) => out.push_str(captures.name(group).map_or("", |m| m.as_str())),
            Part::Arn => out.push_str(&resource.arn),
            Part::Region => out.push_str(&resource.region),
            Part::Account => out.push_str(&resource.account),
            Part::Attribute(attribute) => match resource.attributes.get(attribute) {
                Some(found) => out.push_str(found),
                None => return Err(DimensionError::MissingAttribute(attribute.clone())),
            },
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Catalog {
    types: FxHashMap<String, ResourceType>,
    /// Per namespace, the identifying dimension-name sets of every type, largest first.
    identities: HashMap<String, Vec<Vec<String>>>,
}

impl Catalog {
    pub fn new(file: &str, parsed: ResourceTypesFile) -> Result<Self> {
        let mut problems = Vec::new();
        let mut types = FxHashMap::default();
        let mut owners: HashMap<(String, BTreeSet<String>), String> = HashMap::new();
        for (name, spec) in parsed.resource_types {
            match compile(file, &name, spec) {
                Ok(compiled) => {
                    for (namespace, ns) in &compiled.namespaces {
                        let set: BTreeSet<String> = ns.dimension_names().map(str::to_string).collect();
                        if let Some(other) = owners.insert((namespace.clone(), set), name.clone()) {
                            problems.push(Problem {
                                file: file.to_string(),
                                json_path: format!("$.resource_types[{name:?}].namespaces[{namespace:?}].dimensions"),
                                position: None,
                                message: format!("{other} already identifies its resources in {namespace} by the same dimensions"),
                            });
                        }
                    }
                    types.insert(name, compiled);
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let mut identities: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for ((namespace, set), _) in owners {
            identities.entry(namespace).or_default().push(set.into_iter().collect());
        }
        for sets in identities.values_mut() {
            sets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
        Ok(Catalog { types, identities })
    }

    pub fn get(&self, resource_type: &str) -> Option<&ResourceType> {
        self.types.get(resource_type)
    }

    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.values()
    }

    /// The dimensions of `dimensions` that identify a resource in `namespace`: the largest
    /// identifying set they contain. `None` when the namespace is not in the catalogue or no set fits
    /// (a custom metric, or an aggregate alarm across resources).
    pub fn identity<'d>(&self, namespace: &str, dimensions: &'d Dimensions) -> Option<impl Iterator<Item = (&'d str, &'d str)> + use<'_, 'd>> {
        let sets = self.identities.get(namespace)?;
        let set = sets.iter().find(|set| set.iter().all(|name| dimensions.contains_key(name)))?;
        Some(dimensions.iter().filter(move |(name, _)| set.iter().any(|s| s == name)))
    }
}

fn compile(file: &str, name: &str, spec: ResourceTypeSpec) -> Result<ResourceType, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |suffix: String| format!("$.resource_types[{name:?}]{suffix}");
    let arn_resource = match Regex::new(&spec.arn_resource) {
        Ok(regex) => Some(regex),
        Err(error) => {
            problems.push(Problem { file: file.into(), json_path: at(".arn_resource".into()), position: None, message: format!("invalid regex: {error}") });
            None
        }
    };
    if let Some(regex) = &arn_resource {
        for (index, example) in spec.example_arns.iter().enumerate() {
            if !Arn::parse(example).is_some_and(|arn| regex.is_match(arn.resource)) {
                let message = format!("{example:?} is not an ARN whose resource part matches arn_resource");
                problems.push(Problem { file: file.into(), json_path: at(format!(".example_arns[{index}]")), position: None, message });
            }
        }
    }
    if !name.contains(':') {
        problems.push(Problem { file: file.into(), json_path: at(String::new()), position: None, message: "resource types are named service:type".into() });
    }
    let groups: HashSet<String> =
        arn_resource.iter().flat_map(|r| r.capture_names().flatten().map(str::to_string)).collect();
    let mut namespaces = BTreeMap::new();
    for (namespace, ns) in spec.namespaces {
        let mut dimensions = Vec::new();
        for (dimension, template) in ns.dimensions {
            match parse_template(&template, &groups) {
                Ok(parts) => dimensions.push((dimension, parts)),
                Err(message) => problems.push(Problem {
                    file: file.into(),
                    json_path: at(format!(".namespaces[{namespace:?}].dimensions.{dimension}")),
                    position: None,
                    message,
                }),
            }
        }
        if dimensions.is_empty() {
            problems.push(Problem {
                file: file.into(),
                json_path: at(format!(".namespaces[{namespace:?}].dimensions")),
                position: None,
                message: "at least one identifying dimension is required".into(),
            });
        }
        namespaces.insert(namespace, Namespace { dimensions, metrics: ns.metrics.into_iter().collect(), published_by: ns.published_by });
    }
    match (problems.is_empty(), arn_resource) {
        (true, Some(arn_resource)) => Ok(ResourceType { name: name.to_string(), service: spec.service, arn_resource, example_arns: spec.example_arns, namespaces }),
        _ => Err(problems),
    }
}

fn parse_template(template: &str, groups: &HashSet<String>) -> Result<Vec<Part>, String> {
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
            "region" => Part::Region,
            "account" => Part::Account,
            _ => match placeholder.strip_prefix("attr:") {
                Some(attribute) if !attribute.is_empty() => Part::Attribute(attribute.to_string()),
                _ if groups.contains(placeholder) => Part::Capture(placeholder.to_string()),
                _ => return Err(format!("{{{placeholder}}} is neither a named group of arn_resource nor arn, region, account or attr:NAME")),
            },
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Ok(parts)
}
