//! Declared resources as inventory resources: the catalogue's Terraform mapping applied to what
//! the source reader or the plan reader found, so that a resource a pull request adds is checked
//! against the policies like a live one.
//!
//! A value known only after apply (an instance's `id`, a name Terraform generates) becomes a
//! token, `${module.app.aws_instance.web.id}`: the text an alarm's reference to it also becomes,
//! so that `dimensions = { InstanceId = aws_instance.web.id }` matches the instance by reference.
//! A resource whose ARN holds a token is located through the captures its mapping forms.

use std::collections::BTreeMap;

use hcl::Value;
use rustc_hash::FxHashMap;

use super::{Declared, Resolved, WatchedResource, REF_END, REF_START};
use crate::{
    config::{Catalog, Placement, Template, TerraformMapping},
    model::{arn::partition_of_region, DiscoveredBy, Resource},
};

/// The account of a resource checked without an inventory (the ARN is then known only after apply).
pub const UNKNOWN_ACCOUNT: &str = "${account}";
/// The region of a resource whose provider's region is not static.
pub const UNKNOWN_REGION: &str = "${region}";

/// Whether `text` holds a token of a value known only after apply.
pub fn holds_token(text: &str) -> bool {
    text.contains("${")
}

/// Where declared resources are deployed when their Terraform does not say: the inventory's one
/// account and region, else unknown.
#[derive(Debug, Clone)]
pub struct Scope {
    pub account: String,
    pub region: Option<String>,
}

/// Where a declared resource is in the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// The Terraform address, module path included (`module.app.aws_db_instance.main`).
    pub address: String,
    /// `file:line`, or the file alone where the line is unknown (a plan).
    pub location: String,
    /// The name it has in AWS, or a token.
    pub name: String,
    /// Per named ARN group formed from one value (`InstanceId` from `id`): the reference to that
    /// value, so that merging with a live resource can give references its live value.
    pub identity: Vec<(String, String)>,
}

/// Declared resources and the values of references to them.
#[derive(Debug, Default)]
pub struct DeclaredInventory {
    pub resources: Vec<Resource>,
    /// Per resource (same index).
    pub origins: Vec<Origin>,
    /// Module-qualified reference (`module.app.aws_lambda_function.orders.function_name`) → its
    /// value, or a token when it is known only after apply.
    pub references: FxHashMap<String, String>,
    pub notes: Vec<String>,
}

impl DeclaredInventory {
    /// `text` with each reference made in the module at `prefix` replaced by its value; `None`
    /// when one refers to something onwatch does not know.
    pub fn substitute(&self, prefix: &str, text: &str) -> Option<String> {
        substitute(text, prefix, Some(&self.references), false)
    }
}

/// Replaces each reference in `text` by its value in `references` (or by its token when
/// `tokens` is set or there is no table yet).
fn substitute(text: &str, prefix: &str, references: Option<&FxHashMap<String, String>>, tokens: bool) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(REF_START) {
        out.push_str(&rest[..start]);
        let end = rest[start..].find(REF_END)? + start;
        let key = format!("{prefix}{}", &rest[start + REF_START.len_utf8()..end]);
        match references.and_then(|table| table.get(&key)) {
            Some(value) => out.push_str(value),
            None if tokens || references.is_none() => out.push_str(&format!("${{{key}}}")),
            None => return None,
        }
        rest = &rest[end + REF_END.len_utf8()..];
    }
    out.push_str(rest);
    Some(out)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One watched resource's values as the templates read them.
struct Values<'a> {
    resource: &'a WatchedResource,
    mapping: &'a TerraformMapping,
    /// The module-qualified address, for tokens.
    address: String,
    prefix: &'a str,
    tags: BTreeMap<String, String>,
    references: Option<&'a FxHashMap<String, String>>,
}

impl Values<'_> {
    fn token(&self, name: &str) -> String {
        format!("${{{}.{name}}}", self.address)
    }

    fn get(&self, name: &str) -> String {
        if let Some(key) = name.strip_prefix("tags.") {
            return self.tags.get(key).cloned().unwrap_or_else(|| self.token(name));
        }
        let known = match self.resource.arguments.get(name) {
            Some(Resolved::Known(value)) => scalar(value),
            _ => None,
        };
        match known {
            Some(text) => substitute(&text, self.prefix, self.references, true).unwrap_or_else(|| self.token(name)),
            None => self.mapping.defaults.get(name).cloned().unwrap_or_else(|| self.token(name)),
        }
    }

    fn render(&self, template: &Template, placement: &Placement, arn: Option<&str>) -> String {
        template.render(placement, &mut |name| match (name, arn) {
            ("arn", Some(arn)) => arn.to_string(),
            _ => self.get(name),
        })
    }
}

fn tags(resource: &WatchedResource, defaults: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut tags = defaults.clone();
    if let Some(Resolved::Known(Value::Object(map))) = resource.arguments.get("tags") {
        for (key, value) in map {
            match scalar(value) {
                Some(text) if !super::holds_reference(&text) => {
                    tags.insert(key.clone(), text);
                }
                _ => {
                    tags.remove(key);
                }
            }
        }
    }
    tags
}

/// What one pass over the watched resources forms.
type Pass = (Vec<Resource>, Vec<Origin>, FxHashMap<String, String>);

/// The declared resources of `declared` whose Terraform type the catalogue maps.
pub fn declared_resources(declared: &Declared, catalog: &Catalog, scope: &Scope) -> DeclaredInventory {
    let mut notes = Vec::new();
    let mut classified = Vec::new();
    for resource in &declared.watched {
        if let Some(reason) = &resource.unresolved {
            notes.push(format!("terraform: {} not checked: {reason}", qualified(declared, resource)));
            continue;
        }
        let argument = |name: &str| match resource.arguments.get(name) {
            Some(Resolved::Known(value)) => scalar(value),
            _ => None,
        };
        if let Some((catalogued, mapping)) = catalog.of_terraform(&resource.resource_type, &argument) {
            classified.push((resource, catalogued.name.as_str(), mapping));
        }
    }
    // The first pass gives every reference a token; the second replaces references to other
    // declared resources by what the first formed (an ECS service's cluster, by the cluster's name).
    let (_, _, first) = pass(declared, &classified, scope, None);
    let (resources, origins, references) = pass(declared, &classified, scope, Some(&first));
    DeclaredInventory { resources, origins, references, notes }
}

fn qualified(declared: &Declared, resource: &WatchedResource) -> String {
    format!("{}{}", declared.module_info.get(resource.module).map_or("", |m| m.prefix.as_str()), resource.address)
}

fn pass(declared: &Declared, classified: &[(&WatchedResource, &str, &TerraformMapping)], scope: &Scope, references: Option<&FxHashMap<String, String>>) -> Pass {
    let mut out: Pass = (Vec::with_capacity(classified.len()), Vec::with_capacity(classified.len()), FxHashMap::default());
    for &(resource, type_name, mapping) in classified {
        let module = declared.module_info.get(resource.module).cloned().unwrap_or_default();
        let region = mapping.region.clone().or_else(|| resource.region.clone()).or(module.region).or_else(|| scope.region.clone());
        let region = region.unwrap_or_else(|| UNKNOWN_REGION.to_string());
        let placement = Placement { partition: partition_of_region(&region), region: &region, account: &scope.account };
        let values = Values {
            resource,
            mapping,
            address: format!("{}{}", module.prefix, resource.address),
            prefix: &module.prefix,
            tags: tags(resource, &module.default_tags),
            references,
        };
        let arn = values.render(&mapping.arn, &placement, None);
        let table = &mut out.2;
        for name in mapping.arguments().filter(|name| *name != "tags") {
            table.insert(format!("{}.{name}", values.address), values.get(name));
        }
        for (name, template) in &mapping.computed {
            table.insert(format!("{}.{name}", values.address), values.render(template, &placement, Some(&arn)));
        }
        table.insert(format!("{}.arn", values.address), arn.clone());
        let mut attributes: BTreeMap<String, String> = mapping
            .attributes
            .iter()
            .map(|(name, template)| (name.clone(), values.render(template, &placement, Some(&arn))))
            .filter(|(_, value)| !holds_token(value))
            .collect();
        if holds_token(&arn) {
            for (group, template) in &mapping.captures {
                attributes.insert(group.clone(), values.render(template, &placement, Some(&arn)));
            }
        }
        let identity = mapping
            .captures
            .iter()
            .filter_map(|(group, template)| match template.values().collect::<Vec<_>>().as_slice() {
                [name] if template.render(&placement, &mut |n| n.to_string()) == *name => Some((group.clone(), format!("{}.{name}", values.address))),
                _ => None,
            })
            .collect();
        let location = if resource.line > 0 { format!("{}:{}", resource.file, resource.line) } else { resource.file.clone() };
        let name = values.render(&mapping.name, &placement, Some(&arn));
        out.1.push(Origin { address: values.address.clone(), location, name, identity });
        out.0.push(Resource {
            arn,
            resource_type: type_name.to_string(),
            region,
            account: scope.account.clone(),
            tags: values.tags,
            attributes,
            discovered_by: DiscoveredBy::Declared,
        });
    }
    out
}
