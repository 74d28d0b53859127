//! The resource type catalogue, compiled: ARN patterns as regexes, dimension templates parsed,
//! and, per namespace, the dimension-name sets that identify a resource.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use regex::{Captures, Regex};
use rustc_hash::FxHashMap;

use super::{
    terraform_map::{self, TerraformMapping},
    types::{ResourceTypesFile, ResourceTypeSpec},
};
use crate::{
    error::{Error, Problem, Result},
    model::{Arn, DiscoveredBy, Dimensions, Resource},
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
    /// The Terraform resource types that declare resources of this type.
    pub terraform: Vec<TerraformMapping>,
}

/// Where the values of a resource's ARN groups come from.
pub enum Located<'r> {
    Arn(Captures<'r>),
    /// A resource declared in Terraform whose ARN is known only after apply: its groups are
    /// attributes of the same names, formed from its Terraform values.
    Declared,
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
    pub fn locate<'r>(&self, resource: &'r Resource) -> Result<Located<'r>, DimensionError> {
        let captures = Arn::parse(&resource.arn).and_then(|arn| self.arn_resource.captures(arn.resource));
        match captures {
            Some(captures) => Ok(Located::Arn(captures)),
            None if resource.discovered_by == DiscoveredBy::Declared => Ok(Located::Declared),
            None => Err(DimensionError::ArnMismatch),
        }
    }

    /// The named groups of the type's ARN pattern.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.arn_resource.capture_names().flatten()
    }

    /// Appends `name=value␟` for each dimension identifying `resource` in `namespace`, in name order.
    pub fn push_identity(&self, namespace: &Namespace, resource: &Resource, captures: &Located, key: &mut String) -> Result<(), DimensionError> {
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

fn push_value(parts: &[Part], resource: &Resource, captures: &Located, out: &mut String) -> Result<(), DimensionError> {
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Capture(group) => match captures {
                Located::Arn(captures) => out.push_str(captures.name(group).map_or("", |m| m.as_str())),
                Located::Declared => out.push_str(resource.attributes.get(group).ok_or_else(|| DimensionError::MissingAttribute(group.clone()))?),
            },
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
    /// Per Terraform resource type, the catalogued types it may declare (told apart by `when`).
    terraform: FxHashMap<String, Vec<String>>,
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
        let terraform = terraform_index(file, &types, &mut problems);
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
        Ok(Catalog { types, identities, terraform })
    }

    /// The catalogued type and mapping of a Terraform resource, given its values of the
    /// mapping's `when` arguments; `None` for a Terraform type the catalogue does not map.
    pub fn of_terraform(&self, resource_type: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<(&ResourceType, &TerraformMapping)> {
        self.terraform.get(resource_type)?.iter().find_map(|name| {
            let catalogued = &self.types[name];
            catalogued.terraform.iter().find(|m| m.resource == resource_type && m.applies(value)).map(|mapping| (catalogued, mapping))
        })
    }

    /// Every mapped Terraform resource type with the arguments its mappings read, for the reader.
    pub fn terraform_arguments(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for mapping in self.types.values().flat_map(|t| &t.terraform) {
            out.entry(mapping.resource.clone()).or_default().extend(mapping.arguments().map(str::to_string));
        }
        out
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
    let mut terraform = Vec::new();
    for (index, mapping) in spec.terraform.into_iter().enumerate() {
        match terraform_map::compile(file, name, index, mapping, &groups) {
            Ok(mapping) => terraform.push(mapping),
            Err(mut found) => problems.append(&mut found),
        }
    }
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
        (true, Some(arn_resource)) => {
            Ok(ResourceType { name: name.to_string(), service: spec.service, arn_resource, example_arns: spec.example_arns, namespaces, terraform })
        }
        _ => Err(problems),
    }
}

fn parse_template(template: &str, groups: &HashSet<String>) -> Result<Vec<Part>, String> {
    terraform_map::split(template, Part::Literal, |placeholder| {
        Ok(match placeholder {
            "arn" => Part::Arn,
            "region" => Part::Region,
            "account" => Part::Account,
            _ => match placeholder.strip_prefix("attr:") {
                Some(attribute) if !attribute.is_empty() => Part::Attribute(attribute.to_string()),
                _ if groups.contains(placeholder) => Part::Capture(placeholder.to_string()),
                _ => return Err(format!("{{{placeholder}}} is neither a named group of arn_resource nor arn, region, account or attr:NAME")),
            },
        })
    })
}

/// Per Terraform resource type, the catalogued types that map it; two mappings of one Terraform
/// type must be told apart by their `when`.
fn terraform_index(file: &str, types: &FxHashMap<String, ResourceType>, problems: &mut Vec<Problem>) -> FxHashMap<String, Vec<String>> {
    let mut index: FxHashMap<String, Vec<String>> = FxHashMap::default();
    let mut seen: HashMap<(&str, &BTreeMap<String, String>), &str> = HashMap::new();
    let mut names: Vec<&String> = types.keys().collect();
    names.sort();
    for name in names {
        for (position, mapping) in types[name].terraform.iter().enumerate() {
            if let Some(other) = seen.insert((&mapping.resource, &mapping.when), name) {
                problems.push(Problem {
                    file: file.to_string(),
                    json_path: format!("$.resource_types[{name:?}].terraform[{position}]"),
                    position: None,
                    message: format!("{other} already maps {} with the same when", mapping.resource),
                });
            }
            let entry = index.entry(mapping.resource.clone()).or_default();
            if !entry.contains(name) {
                entry.push(name.clone());
            }
        }
    }
    index
}
