//! The resource type catalogue, compiled: ARN patterns as regexes, ARN and dimension templates
//! parsed, and per namespace the dimension-name sets that identify a resource, those that discover
//! one, and the attributes its metrics carry. Everything the scanner knows about a type is here.

mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use regex::{Captures, Regex};
use rustc_hash::FxHashMap;

pub use template::Place;
use template::{invert, parse_template, Bound, Part};

use super::{
    terraform_map::{self, TerraformMapping},
    types::{NamespaceSpec, ResourceTypeSpec, ResourceTypesFile},
};
use crate::{
    error::{Error, Problem, Result},
    model::{Arn, DiscoveredBy, Dimensions, Resource, ACCOUNT_REGION_TYPE},
};

/// The listings besides the Tagging API that the scanner calls for the types that name them
/// (`listed_by`): the scanner's call table holds each one's IAM action.
pub const LISTINGS: &[&str] = &["autoscaling:DescribeAutoScalingGroups"];

#[derive(Debug, Clone)]
pub struct Namespace {
    /// Dimension name and the template of its value.
    dimensions: Vec<(String, Vec<Part>)>,
    pub metrics: HashSet<String>,
    pub published_by: Option<String>,
    /// The dimension names of a metric that names one resource of the type; empty when none does.
    pub discovery: Vec<String>,
    /// Attribute, then value, then the metrics that tell it (`attributes_by_metric`).
    pub attributes_by_metric: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Namespace {
    pub fn dimension_names(&self) -> impl Iterator<Item = &str> {
        self.dimensions.iter().map(|(name, _)| name.as_str())
    }

    fn template(&self, dimension: &str) -> Option<&[Part]> {
        self.dimensions.iter().find(|(name, _)| name == dimension).map(|(_, parts)| parts.as_slice())
    }
}

#[derive(Debug, Clone)]
pub struct ResourceType {
    pub name: String,
    pub service: String,
    arn_resource: Regex,
    /// The `arn` template: literals, groups of `arn_resource`, partition, region and account.
    arn: Vec<Part>,
    /// The service the template names (`ec2`), which the type's ARNs have.
    arn_service: String,
    /// The Tagging API resource type filter that lists the type.
    pub tagging_filter: Option<String>,
    /// The API that lists the type where the Tagging API does not (one of [`LISTINGS`]).
    pub listed_by: Option<String>,
    /// Real-shaped ARNs of the type, each matching `arn_resource` and rebuilt by `arn`.
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

    /// Whether `arn` is of this type: its resource part matches `arn_resource` and the `arn`
    /// template rebuilds it exactly from its partition, region, account and groups.
    pub fn matches(&self, arn: &str) -> bool {
        self.rebuild(arn).is_some_and(|rebuilt| rebuilt == arn)
    }

    /// The ARN the `arn` template builds from `arn`'s own parts; `None` when its resource part
    /// does not match `arn_resource`.
    pub fn rebuild(&self, arn: &str) -> Option<String> {
        let parsed = Arn::parse(arn)?;
        let captures = self.arn_resource.captures(parsed.resource)?;
        let at = Place { partition: parsed.partition, region: parsed.region, account: parsed.account };
        self.build_arn(&at, |group| Some(captures.name(group).map_or("", |m| m.as_str())))
    }

    fn build_arn<'g>(&self, at: &Place, group: impl Fn(&str) -> Option<&'g str>) -> Option<String> {
        let mut arn = String::new();
        for part in &self.arn {
            match part {
                Part::Literal(text) => arn.push_str(text),
                Part::Capture(name) => arn.push_str(group(name)?),
                Part::Partition => arn.push_str(at.partition),
                Part::Region => arn.push_str(at.region),
                Part::Account => arn.push_str(at.account),
                Part::Arn | Part::Attribute(_) => return None,
            }
        }
        Some(arn)
    }

    /// The ARN a metric of `namespace` names when its dimensions are exactly the namespace's
    /// `discovery` ones: their values inverted through their templates, built by `arn`.
    fn invert_discovery(&self, namespace: &Namespace, dimensions: &Dimensions, at: &Place) -> Option<String> {
        if namespace.discovery.is_empty() || dimensions.len() != namespace.discovery.len() {
            return None;
        }
        let mut bound = Bound::default();
        for name in &namespace.discovery {
            invert(namespace.template(name)?, dimensions.get(name)?, at, &mut bound)?;
        }
        match bound.arn {
            Some(arn) => Some(arn.to_string()),
            None => self.build_arn(at, |group| bound.group(group)),
        }
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
            Part::Partition => out.push_str(Arn::parse(&resource.arn).map_or("", |arn| arn.partition)),
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

/// An attribute that a namespace's metrics carry for resources of one type (a dimension whose
/// template is `{attr:Name}`), and how to tell from the other dimensions which resource it is.
#[derive(Debug, Clone)]
pub struct AttributeSource {
    pub resource_type: String,
    pub attribute: String,
    /// The dimension whose value is the attribute.
    dimension: String,
    /// Every identifying dimension of the namespace: a metric carries the attribute only with all of them.
    names: Vec<String>,
    /// The identifying dimensions that are not attributes, inverted into the resource's key.
    keys: Vec<(String, Vec<Part>)>,
    /// The groups those dimensions carry, in name order, and whether they carry the whole ARN.
    key_groups: Vec<String>,
    key_arn: bool,
}

impl AttributeSource {
    /// The attribute's value in a metric's dimensions, with the key of the resource it belongs to.
    pub fn read<'d>(&self, dimensions: &'d Dimensions, at: &Place) -> Option<(String, &'d str)> {
        if !self.names.iter().all(|name| dimensions.contains_key(name)) {
            return None;
        }
        let mut bound = Bound::default();
        for (name, parts) in &self.keys {
            invert(parts, dimensions.get(name)?, at, &mut bound)?;
        }
        let value = dimensions.get(&self.dimension).filter(|value| !value.is_empty())?;
        let groups = self.key_groups.iter().map(|group| bound.group(group));
        Some((self.key(groups, bound.arn)?, value))
    }

    /// The key of a resource of the type, as [`read`](Self::read) computes it from metrics.
    pub fn key_of(&self, resource_type: &ResourceType, resource: &Resource) -> Option<String> {
        // Attributes fill resources that are listed (metrics name them), not ones only declared.
        let Located::Arn(captures) = resource_type.locate(resource).ok()? else { return None };
        let groups = self.key_groups.iter().map(|group| captures.name(group).map(|m| m.as_str()));
        self.key(groups, Some(&resource.arn))
    }

    fn key<'v>(&self, groups: impl Iterator<Item = Option<&'v str>>, arn: Option<&str>) -> Option<String> {
        let mut key = String::new();
        for (name, value) in self.key_groups.iter().zip(groups) {
            key.push_str(name);
            key.push('=');
            key.push_str(value?);
            key.push('\u{1f}');
        }
        if self.key_arn {
            key.push_str(arn?);
        }
        Some(key)
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    types: FxHashMap<String, ResourceType>,
    /// Per namespace, the identifying dimension-name sets of every type, largest first.
    identities: HashMap<String, Vec<Vec<String>>>,
    /// Per ARN service, the types whose `arn` template names it, in name order.
    by_service: HashMap<String, Vec<String>>,
    /// Per namespace, the types that discover resources from its metrics, in name order.
    discoverers: HashMap<String, Vec<String>>,
    /// The attributes that metrics carry, and their indexes by namespace and by type.
    attribute_sources: Vec<AttributeSource>,
    sources_by_namespace: HashMap<String, Vec<usize>>,
    sources_by_type: HashMap<String, Vec<usize>>,
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
        let mut identities: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for ((namespace, set), _) in owners {
            identities.entry(namespace).or_default().push(set.into_iter().collect());
        }
        for sets in identities.values_mut() {
            sets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
        // Checked over the types that compiled, so that every problem is reported at once.
        let catalog = index(types, identities, terraform);
        problems.extend(catalog.ambiguous_examples(file));
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        Ok(catalog)
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

    /// The type of the resource `arn` names: the first type, in name order, whose `arn_resource`
    /// matches its resource part and whose `arn` template rebuilds it. `None` for an ARN of no
    /// catalogued type.
    pub fn classify(&self, arn: &str) -> Option<&ResourceType> {
        let service = Arn::parse(arn)?.service;
        self.by_service.get(service)?.iter().map(|name| &self.types[name]).find(|t| t.matches(arn))
    }

    /// Whether a type of the catalogue is listed by `listing` (one of [`LISTINGS`]).
    pub fn is_listed_by(&self, listing: &str) -> bool {
        self.types.values().any(|t| t.listed_by.as_deref() == Some(listing))
    }

    /// Every type's Tagging API resource type filter, once each, sorted.
    pub fn tagging_filters(&self) -> Vec<&str> {
        let filters: BTreeSet<&str> = self.types.values().filter_map(|t| t.tagging_filter.as_deref()).collect();
        filters.into_iter().collect()
    }

    /// The resource a metric names, when its dimensions are exactly a type's `discovery` ones in
    /// `namespace` and the ARN they build is classified as that type.
    pub fn discover(&self, namespace: &str, dimensions: &Dimensions, at: &Place) -> Option<(&ResourceType, String)> {
        for name in self.discoverers.get(namespace)? {
            let resource_type = &self.types[name];
            let Some(arn) = resource_type.invert_discovery(&resource_type.namespaces[namespace], dimensions, at) else { continue };
            if self.classify(&arn).is_some_and(|found| found.name == resource_type.name) {
                return Some((resource_type, arn));
            }
        }
        None
    }

    /// The attributes the metrics of `namespace` carry (`{attr:Name}` dimensions).
    pub fn attribute_sources(&self, namespace: &str) -> impl Iterator<Item = &AttributeSource> {
        self.sources_by_namespace.get(namespace).into_iter().flatten().map(|&index| &self.attribute_sources[index])
    }

    /// The attributes metrics carry for resources of `resource_type`, in every namespace.
    pub fn attribute_sources_of(&self, resource_type: &str) -> impl Iterator<Item = &AttributeSource> {
        self.sources_by_type.get(resource_type).into_iter().flatten().map(|&index| &self.attribute_sources[index])
    }

    /// The dimensions of `dimensions` that identify a resource in `namespace`: the largest
    /// identifying set they contain. `None` when the namespace is not in the catalogue or no set fits
    /// (a custom metric, or an aggregate alarm across resources).
    pub fn identity<'d>(&self, namespace: &str, dimensions: &'d Dimensions) -> Option<impl Iterator<Item = (&'d str, &'d str)> + use<'_, 'd>> {
        let sets = self.identities.get(namespace)?;
        // The empty set (account-level metrics) identifies only a metric without dimensions, not an
        // aggregate over resources that lacks the identifying ones.
        let set = sets.iter().find(|set| (!set.is_empty() || dimensions.is_empty()) && set.iter().all(|name| dimensions.contains_key(name)))?;
        Some(dimensions.iter().filter(move |(name, _)| set.iter().any(|s| s == name)))
    }

    /// Example ARNs that two types claim: the scanner would name them after the first.
    fn ambiguous_examples(&self, file: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut names: Vec<&String> = self.types.keys().collect();
        names.sort_unstable();
        for name in names {
            for (index, example) in self.types[name].example_arns.iter().enumerate() {
                let service = Arn::parse(example).map_or("", |arn| arn.service);
                let others = self.by_service.get(service).into_iter().flatten().filter(|other| *other != name);
                for other in others.filter(|other| self.types[*other].matches(example)) {
                    problems.push(Problem {
                        file: file.into(),
                        json_path: format!("$.resource_types[{name:?}].example_arns[{index}]"),
                        position: None,
                        message: format!("{example:?} is of type {other} too: its arn_resource and arn match it"),
                    });
                }
            }
        }
        problems
    }
}

/// The catalogue with its lookups: types by ARN service, discoverers and attribute sources by namespace.
fn index(types: FxHashMap<String, ResourceType>, identities: HashMap<String, Vec<Vec<String>>>, terraform: FxHashMap<String, Vec<String>>) -> Catalog {
    let mut names: Vec<&String> = types.keys().collect();
    names.sort_unstable();
    let mut by_service: HashMap<String, Vec<String>> = HashMap::new();
    let mut discoverers: HashMap<String, Vec<String>> = HashMap::new();
    let mut attribute_sources = Vec::new();
    let mut sources_by_namespace: HashMap<String, Vec<usize>> = HashMap::new();
    let mut sources_by_type: HashMap<String, Vec<usize>> = HashMap::new();
    for name in names {
        let resource_type = &types[name];
        by_service.entry(resource_type.arn_service.clone()).or_default().push(name.clone());
        for (namespace, ns) in &resource_type.namespaces {
            if !ns.discovery.is_empty() {
                discoverers.entry(namespace.clone()).or_default().push(name.clone());
            }
            for source in sources_of(name, ns) {
                sources_by_namespace.entry(namespace.clone()).or_default().push(attribute_sources.len());
                sources_by_type.entry(name.clone()).or_default().push(attribute_sources.len());
                attribute_sources.push(source);
            }
        }
    }
    Catalog { types, identities, by_service, discoverers, attribute_sources, sources_by_namespace, sources_by_type, terraform }
}

fn sources_of(resource_type: &str, namespace: &Namespace) -> Vec<AttributeSource> {
    let keys: Vec<(String, Vec<Part>)> =
        namespace.dimensions.iter().filter(|(_, parts)| !parts.iter().any(|p| matches!(p, Part::Attribute(_)))).cloned().collect();
    let key_groups: BTreeSet<String> =
        keys.iter().flat_map(|(_, parts)| parts.iter().filter_map(|p| if let Part::Capture(g) = p { Some(g.clone()) } else { None })).collect();
    let key_arn = keys.iter().any(|(_, parts)| parts.contains(&Part::Arn));
    let names: Vec<String> = namespace.dimension_names().map(str::to_string).collect();
    let mut sources = Vec::new();
    for (dimension, parts) in &namespace.dimensions {
        if let [Part::Attribute(attribute)] = parts.as_slice() {
            sources.push(AttributeSource {
                resource_type: resource_type.to_string(),
                attribute: attribute.clone(),
                dimension: dimension.clone(),
                names: names.clone(),
                keys: keys.clone(),
                key_groups: key_groups.iter().cloned().collect(),
                key_arn,
            });
        }
    }
    sources
}

fn compile(file: &str, name: &str, spec: ResourceTypeSpec) -> Result<ResourceType, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |suffix: String| format!("$.resource_types[{name:?}]{suffix}");
    let mut problem = |suffix: String, message: String| problems.push(Problem { file: file.into(), json_path: at(suffix), position: None, message });
    let arn_resource = match Regex::new(&spec.arn_resource) {
        Ok(regex) => Some(regex),
        Err(error) => {
            problem(".arn_resource".into(), format!("invalid regex: {error}"));
            None
        }
    };
    if !name.contains(':') {
        problem(String::new(), "resource types are named service:type".into());
    }
    let groups: HashSet<String> =
        arn_resource.iter().flat_map(|r| r.capture_names().flatten().map(str::to_string)).collect();
    let arn = compile_arn(&spec.arn, &groups).map_err(|message| problem(".arn".into(), message)).ok();
    if let (Some(filter), Some((_, service))) = (&spec.tagging_filter, &arn) {
        if filter.split(':').next() != Some(service.as_str()) || filter.contains(char::is_whitespace) || filter.split(':').count() > 2 {
            problem(".tagging_filter".into(), format!("{filter:?} is not a Tagging API filter of the ARN's service: {service} or {service}:TYPE"));
        }
    }
    if let Some(listing) = spec.listed_by.as_deref().filter(|listing| !LISTINGS.contains(listing)) {
        problem(".listed_by".into(), format!("{listing:?} is not a listing the scanner knows (known: {})", LISTINGS.join(", ")));
    }
    let mut namespaces = BTreeMap::new();
    for (namespace, ns) in spec.namespaces {
        let account_level = name == ACCOUNT_REGION_TYPE;
        let compiled = compile_namespace(&ns, account_level, &groups, arn.as_ref().map(|(parts, _)| parts.as_slice()), &mut |suffix, message| {
            problem(format!(".namespaces[{namespace:?}]{suffix}"), message)
        });
        namespaces.insert(namespace, compiled);
    }
    let mut terraform = Vec::new();
    let mut terraform_problems = Vec::new();
    for (index, mapping) in spec.terraform.into_iter().enumerate() {
        match terraform_map::compile(file, name, index, mapping, &groups) {
            Ok(mapping) => terraform.push(mapping),
            Err(mut found) => terraform_problems.append(&mut found),
        }
    }
    let resource_type = match (arn_resource, arn) {
        (Some(arn_resource), Some((arn, arn_service))) => Some(ResourceType {
            name: name.to_string(),
            service: spec.service,
            arn_resource,
            arn,
            arn_service,
            tagging_filter: spec.tagging_filter,
            listed_by: spec.listed_by,
            example_arns: spec.example_arns,
            namespaces,
            terraform,
        }),
        _ => None,
    };
    for (index, example) in resource_type.iter().flat_map(|t| t.example_arns.iter().enumerate()) {
        let message = match resource_type.as_ref().and_then(|t| t.rebuild(example)) {
            None => format!("{example:?} is not an ARN whose resource part matches arn_resource"),
            Some(rebuilt) if rebuilt != *example => format!("the arn template rebuilds {example:?} as {rebuilt:?}"),
            Some(_) => continue,
        };
        problem(format!(".example_arns[{index}]"), message);
    }
    problems.append(&mut terraform_problems);
    match (problems.is_empty(), resource_type) {
        (true, Some(resource_type)) => Ok(resource_type),
        _ => Err(problems),
    }
}

/// The `arn` template, and the literal service it names: an ARN built from groups, partition,
/// region and account.
fn compile_arn(template: &str, groups: &HashSet<String>) -> Result<(Vec<Part>, String), String> {
    let parts = parse_template(template, groups)?;
    if parts.iter().any(|part| matches!(part, Part::Arn | Part::Attribute(_))) {
        return Err("an ARN template is built from the groups of arn_resource, partition, region and account only".into());
    }
    match Arn::parse(template) {
        Some(arn) if !arn.service.is_empty() && !arn.service.contains(['{', '}']) => Ok((parts, arn.service.to_string())),
        _ => Err(format!("{template:?} is not an ARN template with a literal service (arn:{{partition}}:SERVICE:{{region}}:{{account}}:...)")),
    }
}

/// One namespace's dimension templates and discovery set, each problem reported at its path
/// below the namespace.
fn compile_namespace(ns: &NamespaceSpec, account_level: bool, groups: &HashSet<String>, arn: Option<&[Part]>, problem: &mut dyn FnMut(String, String)) -> Namespace {
    let mut dimensions = Vec::new();
    for (dimension, template) in &ns.dimensions {
        match parse_template(template, groups) {
            Ok(parts) => dimensions.push((dimension.clone(), parts)),
            Err(message) => problem(format!(".dimensions.{dimension}"), message),
        }
    }
    // Only account-level metrics (the account:region pseudo-type) are published without dimensions.
    if ns.dimensions.is_empty() && !account_level {
        problem(".dimensions".into(), format!("at least one identifying dimension is required (only {ACCOUNT_REGION_TYPE} metrics have none)"));
    }
    let namespace = Namespace {
        dimensions,
        metrics: ns.metrics.iter().cloned().collect(),
        published_by: ns.published_by.clone(),
        discovery: ns.discovery.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect(),
        attributes_by_metric: ns.attributes_by_metric.clone(),
    };
    for (attribute, values) in &ns.attributes_by_metric {
        for (value, metrics) in values {
            for (index, metric) in metrics.iter().enumerate().filter(|(_, metric)| !namespace.metrics.contains(*metric)) {
                problem(format!(".attributes_by_metric.{attribute}.{value}[{index}]"), format!("{metric:?} is not one of this namespace's metrics"));
            }
            let shared = values.iter().filter(|(other, _)| *other != value).flat_map(|(_, others)| others).find(|m| metrics.contains(m));
            if let Some(metric) = shared {
                problem(format!(".attributes_by_metric.{attribute}.{value}"), format!("{metric:?} tells two values of {attribute}"));
            }
        }
    }
    check_discovery(&ns.discovery, &namespace, arn, problem);
    namespace
}

/// Each discovery dimension is an identifying one that can be inverted (at most one placeholder),
/// and together they give the ARN: `{arn}`, or every group the `arn` template uses.
fn check_discovery(discovery: &[String], namespace: &Namespace, arn: Option<&[Part]>, problem: &mut dyn FnMut(String, String)) {
    if discovery.is_empty() {
        return;
    }
    let mut captured = HashSet::new();
    let mut whole_arn = false;
    for (index, name) in discovery.iter().enumerate() {
        if discovery[..index].contains(name) {
            problem(format!(".discovery[{index}]"), format!("{name} is named twice"));
        }
        let Some(parts) = namespace.template(name) else {
            problem(format!(".discovery[{index}]"), format!("{name} is not one of this namespace's dimensions"));
            continue;
        };
        if parts.iter().filter(|part| part.is_placeholder()).count() > 1 {
            problem(format!(".discovery[{index}]"), format!("the template of {name} has more than one placeholder: its value cannot be split back"));
        }
        for part in parts {
            match part {
                Part::Capture(group) => {
                    captured.insert(group.as_str());
                }
                Part::Arn => whole_arn = true,
                _ => {}
            }
        }
    }
    let missing: Vec<&str> =
        arn.into_iter().flatten().filter_map(|part| if let Part::Capture(g) = part { Some(g.as_str()) } else { None }).filter(|g| !captured.contains(g)).collect();
    if !whole_arn && !missing.is_empty() {
        problem(".discovery".into(), format!("these dimensions do not give the ARN's group(s) {}", missing.join(", ")));
    }
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
