//! Reading a plan: the JSON of `terraform show -json PLANFILE` (Terraform's documented JSON
//! output format, `format_version` 0.1 to 1.x) as the same [`Declared`] model the source reader
//! gives. Resources being created or updated (replacements included) are read from
//! `resource_changes[].change.after`; a value `after_unknown` marks as known only after apply
//! becomes a reference when the configuration's expression for it names exactly one attribute
//! (`aws_instance.web.id`), else stays unresolved. Deleted resources are listed by their ARN so
//! that they drop out of the inventory. Nested modules are walked by their addresses.

use std::{collections::BTreeMap, path::Path};

use hcl::Value;
use serde::Deserialize;
use serde_json::Value as Json;

use super::{reference, Declared, DeclaredResource, Kind, ModuleInfo, Resolved, Watch, WatchedResource};
use crate::error::{Error, Problem, Result};

#[derive(Deserialize)]
struct PlanFile {
    format_version: String,
    #[serde(default)]
    resource_changes: Vec<ResourceChange>,
    #[serde(default)]
    configuration: Option<Configuration>,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
}

#[derive(Deserialize)]
struct Variable {
    #[serde(default)]
    value: Json,
}

#[derive(Deserialize)]
struct ResourceChange {
    address: String,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(rename = "type")]
    resource_type: String,
    change: Change,
}

#[derive(Deserialize)]
struct Change {
    actions: Vec<String>,
    #[serde(default)]
    before: Json,
    #[serde(default)]
    after: Json,
    #[serde(default)]
    after_unknown: Json,
}

#[derive(Deserialize, Default)]
struct Configuration {
    #[serde(default)]
    provider_config: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    root_module: ConfigModule,
}

#[derive(Deserialize)]
struct ProviderConfig {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expressions: BTreeMap<String, Json>,
}

#[derive(Deserialize, Default)]
struct ConfigModule {
    #[serde(default)]
    resources: Vec<ConfigResource>,
    #[serde(default)]
    module_calls: BTreeMap<String, ModuleCall>,
}

#[derive(Deserialize)]
struct ModuleCall {
    #[serde(default)]
    module: ConfigModule,
}

#[derive(Deserialize)]
struct ConfigResource {
    address: String,
    #[serde(default)]
    expressions: BTreeMap<String, Json>,
}

/// A resource the plan deletes (and does not create again).
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    pub resource_type: String,
    /// Its full address (`module.app.aws_instance.web`).
    pub address: String,
    /// Its ARN before the change, when the plan holds it.
    pub arn: Option<String>,
    /// Its name, for alarms (`alarm_name`).
    pub alarm_name: Option<String>,
}

/// What a plan changes.
#[derive(Debug, Default)]
pub struct Plan {
    pub declared: Declared,
    pub deleted: Vec<Deleted>,
    /// Resource changes read (every action, every type).
    pub changes: usize,
}

/// The `format_version`s read: 0.1 (Terraform 0.12) up to every 1.x.
fn supported(version: &str) -> bool {
    let mut parts = version.split('.');
    match (parts.next().and_then(|p| p.parse::<u32>().ok()), parts.next().and_then(|p| p.parse::<u32>().ok())) {
        (Some(0), Some(minor)) => minor >= 1,
        (Some(1), Some(_)) => true,
        _ => false,
    }
}

fn invalid(file: &str, json_path: &str, message: String) -> Error {
    Error::Invalid(vec![Problem { file: file.to_string(), json_path: json_path.to_string(), position: None, message }])
}

/// Reads the plan JSON at `path`, keeping the monitoring resources and those of the types `watch` names.
pub fn read(path: &Path, watch: &Watch) -> Result<Plan> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let file = path.display().to_string();
    let plan: PlanFile = match crate::json::parse_fast(&file, &bytes) {
        Ok(plan) => plan,
        Err(error) => {
            // A future format may be shaped differently: say that, rather than where its shape breaks.
            #[derive(Deserialize)]
            struct Version {
                format_version: Option<String>,
            }
            if let Ok(Version { format_version: Some(version) }) = serde_json::from_slice::<Version>(&bytes) {
                if !supported(&version) {
                    return Err(unsupported(&file, &version));
                }
            }
            return Err(error);
        }
    };
    if !supported(&plan.format_version) {
        return Err(unsupported(&file, &plan.format_version));
    }
    let configuration = plan.configuration.unwrap_or_default();
    let mut expressions = BTreeMap::new();
    index_configuration(&configuration.root_module, "", &mut expressions);
    let region = provider_region(&configuration, &plan.variables);
    let mut reader = Reader { file, watch, expressions, region, out: Plan { changes: plan.resource_changes.len(), ..Plan::default() }, modules: BTreeMap::new() };
    for (index, change) in plan.resource_changes.iter().enumerate() {
        reader.change(index, change)?;
    }
    Ok(reader.out)
}

fn unsupported(file: &str, version: &str) -> Error {
    invalid(file, "$.format_version", format!("plan JSON format version {version:?} is not supported (onwatch reads 0.1 to 1.x)"))
}

/// The configuration's expressions of every resource, by module path without instance keys
/// (`module.a.module.b.aws_x.y`).
fn index_configuration<'a>(module: &'a ConfigModule, prefix: &str, out: &mut BTreeMap<String, &'a BTreeMap<String, Json>>) {
    for resource in &module.resources {
        out.insert(format!("{prefix}{}", resource.address), &resource.expressions);
    }
    for (name, call) in &module.module_calls {
        index_configuration(&call.module, &format!("{prefix}module.{name}."), out);
    }
}

/// The default AWS provider's region: a constant, or a variable the plan gives.
fn provider_region(configuration: &Configuration, variables: &BTreeMap<String, Variable>) -> Option<String> {
    let provider = configuration.provider_config.get("aws").filter(|p| p.name == "aws" || p.name.is_empty())?;
    let region = provider.expressions.get("region")?;
    if let Some(Json::String(region)) = region.get("constant_value") {
        return Some(region.clone());
    }
    let references = region.get("references")?.as_array()?;
    let variable = references.iter().filter_map(Json::as_str).find_map(|r| r.strip_prefix("var."))?;
    variables.get(variable)?.value.as_str().map(str::to_string)
}

/// `module.a[0].module.b["x"].aws_x.y[2]` without instance keys: `module.a.module.b.aws_x.y`.
fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn to_hcl(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .or_else(|| n.as_f64().and_then(hcl::Number::from_f64).map(Value::Number))
            .unwrap_or(Value::Null),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_hcl).collect()),
        Json::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect()),
    }
}

/// The attribute references of an expression (`aws_instance.web.id`, not `aws_instance.web` nor `var.x`).
fn attribute_references(expression: Option<&Json>) -> Vec<&str> {
    let Some(references) = expression.and_then(|e| e.get("references")).and_then(Json::as_array) else { return Vec::new() };
    let mut found: Vec<&str> = references
        .iter()
        .filter_map(Json::as_str)
        .filter(|r| !r.starts_with("var.") && !r.starts_with("local.") && !r.starts_with("module.") && !r.starts_with("data.") && !r.starts_with("each."))
        .filter(|r| without_keys(r).split('.').count() >= 3)
        .collect();
    found.sort();
    found.dedup();
    // `aws_instance.web[0].id` and `aws_instance.web.id` name the same attribute; keep the precise one.
    let precise: Vec<&str> = found.iter().copied().filter(|r| r.contains('[') || !found.iter().any(|o| o.contains('[') && without_keys(o) == *r)).collect();
    precise
}

/// `after` with each value `after_unknown` marks replaced: by the one attribute the expression
/// refers to, or `None` (unresolved) when it refers to none or several.
fn resolve_unknown(after: &Json, unknown: &Json, reference_to: Option<&str>) -> Option<Value> {
    match unknown {
        Json::Bool(true) => reference_to.map(|r| Value::String(reference(r))),
        Json::Array(marks) => {
            let items = after.as_array().map(Vec::as_slice).unwrap_or_default();
            let length = items.len().max(marks.len());
            (0..length).map(|i| resolve_unknown(items.get(i).unwrap_or(&Json::Null), marks.get(i).unwrap_or(&Json::Bool(false)), reference_to)).collect::<Option<Vec<_>>>().map(Value::Array)
        }
        Json::Object(marks) => {
            let mut map: hcl::Map<String, Value> = after.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect()).unwrap_or_default();
            for (key, mark) in marks {
                let value = resolve_unknown(after.get(key).unwrap_or(&Json::Null), mark, reference_to)?;
                map.insert(key.clone(), value);
            }
            Some(Value::Object(map))
        }
        _ => Some(to_hcl(after)),
    }
}

struct Reader<'a> {
    file: String,
    watch: &'a Watch,
    expressions: BTreeMap<String, &'a BTreeMap<String, Json>>,
    region: Option<String>,
    out: Plan,
    /// Module address → index into `out.declared.modules`.
    modules: BTreeMap<String, usize>,
}

impl Reader<'_> {
    fn module(&mut self, address: &str) -> usize {
        if let Some(&index) = self.modules.get(address) {
            return index;
        }
        let declared = &mut self.out.declared;
        declared.modules.push(if address.is_empty() { ".".into() } else { address.into() });
        let prefix = if address.is_empty() { String::new() } else { format!("{address}.") };
        declared.module_info.push(ModuleInfo { prefix, region: self.region.clone(), default_tags: BTreeMap::new() });
        self.modules.insert(address.to_string(), declared.modules.len() - 1);
        declared.modules.len() - 1
    }

    /// One argument of `change`: known, a reference, or unresolved.
    fn argument(&self, change: &ResourceChange, key: &str) -> Option<Resolved> {
        let (after, unknown) = (change.change.after.get(key), change.change.after_unknown.get(key));
        let marked = unknown.is_some_and(|u| *u != Json::Bool(false) && !u.is_null());
        if !marked {
            return after.filter(|v| !v.is_null()).map(|v| Resolved::Known(to_hcl(v)));
        }
        let expressions = self.expressions.get(&without_keys(&change.address));
        let references = attribute_references(expressions.and_then(|e| e.get(key)));
        let reference_to = match references.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        Some(match resolve_unknown(after.unwrap_or(&Json::Null), unknown.unwrap_or(&Json::Null), reference_to) {
            Some(value) => Resolved::Known(value),
            None if references.is_empty() => Resolved::Unresolved(format!("{key} is known only after apply")),
            None => Resolved::Unresolved(format!("{key} is known only after apply and refers to {}", references.join(", "))),
        })
    }

    fn change(&mut self, index: usize, change: &ResourceChange) -> Result<()> {
        if change.mode.as_deref().is_some_and(|mode| mode != "managed") {
            return Ok(());
        }
        let actions: Vec<&str> = change.change.actions.iter().map(String::as_str).collect();
        let creates = actions.iter().any(|a| *a == "create" || *a == "update");
        if actions == ["delete"] {
            let before = |key: &str| change.change.before.get(key).and_then(Json::as_str).map(str::to_string);
            self.out.deleted.push(Deleted { resource_type: change.resource_type.clone(), address: change.address.clone(), arn: before("arn"), alarm_name: before("alarm_name") });
            return Ok(());
        }
        if !creates {
            return Ok(());
        }
        if !change.change.after.is_object() {
            return Err(invalid(&self.file, &format!("$.resource_changes[{index}].change.after"), "a created or updated resource's after is not an object".into()));
        }
        let module_address = change.module_address.clone().unwrap_or_default();
        let address = change.address.strip_prefix(&format!("{module_address}.")).unwrap_or(&change.address).to_string();
        let module = self.module(&module_address);
        if let Some(kind) = Kind::from_type(&change.resource_type) {
            let mut arguments = BTreeMap::new();
            for &argument in kind.arguments() {
                let value = match argument.split_once('.') {
                    None => self.argument(change, argument),
                    Some((block, key)) => nested(change, block, key),
                };
                if let Some(value) = value {
                    arguments.insert(argument, value);
                }
            }
            let resource = DeclaredResource { kind, address: address.clone(), file: self.file.clone(), line: 0, module, region: None, arguments, unresolved: None };
            self.out.declared.resources.push(resource);
        }
        if let Some(names) = self.watch.arguments.get(&change.resource_type) {
            let mut arguments = BTreeMap::new();
            for name in names.iter().map(String::as_str).chain(["arn"]) {
                if let Some(value) = self.argument(change, name) {
                    arguments.insert(name.to_string(), value);
                }
            }
            // `tags_all` holds the provider's `default_tags` merged in.
            if let Some(all) = self.argument(change, "tags_all").filter(|v| matches!(v, Resolved::Known(Value::Object(_)))) {
                arguments.insert("tags".to_string(), all);
            }
            let resource_type = change.resource_type.clone();
            let resource = WatchedResource { resource_type, address, file: self.file.clone(), line: 0, module, region: None, arguments, unresolved: None };
            self.out.declared.watched.push(resource);
        }
        Ok(())
    }
}

/// `block.key` of a nested block (`metric_transformation.name`), known values only.
fn nested(change: &ResourceChange, block: &str, key: &str) -> Option<Resolved> {
    let value = change.change.after.get(block)?.as_array()?.first()?.get(key)?;
    (!value.is_null()).then(|| Resolved::Known(to_hcl(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_0_1_to_1_x_are_supported() {
        for version in ["0.1", "0.2", "1.0", "1.2", "1.17"] {
            assert!(supported(version), "{version}");
        }
        for version in ["0.0", "2.0", "1", "", "one.two"] {
            assert!(!supported(version), "{version}");
        }
    }

    #[test]
    fn instance_keys_come_off_addresses() {
        assert_eq!(without_keys(r#"module.a[0].module.b["x.y"].aws_instance.web[2]"#), "module.a.module.b.aws_instance.web");
    }

    #[test]
    fn references_keep_the_one_attribute_named() {
        let expression = serde_json::json!({"references": ["aws_instance.web[0].id", "aws_instance.web[0]", "aws_instance.web", "var.x"]});
        assert_eq!(attribute_references(Some(&expression)), ["aws_instance.web[0].id"]);
        let expression = serde_json::json!({"references": ["aws_sns_topic.a.arn", "aws_sns_topic.a", "aws_sns_topic.b.arn", "aws_sns_topic.b"]});
        assert_eq!(attribute_references(Some(&expression)), ["aws_sns_topic.a.arn", "aws_sns_topic.b.arn"]);
    }
}
