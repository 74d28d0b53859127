//! Loading and validating configuration: parse each file (schema first), then check what a
//! schema cannot (unknown resource types and metrics, duplicate ids, bad regexes and dates),
//! collecting every problem before reporting.

mod catalog;
pub mod drift_ignore;
pub mod rollup;
pub mod security;
pub mod selector;
mod terraform_map;
pub mod types;
pub mod waiver;

use std::{
    collections::{BTreeMap, HashMap},
    fs,
    path::{Path, PathBuf},
};

pub use catalog::{AttributeSource, Catalog, DimensionError, Located, Namespace, Place, ResourceType};
pub use terraform_map::{Placement, Template, TerraformMapping};
pub use security::{Control, SecuritySettings};
pub use rollup::{member_prefix, RollupKey, ROLLUP_MEMBER_WORD};
pub use selector::Selector;
use time::Date;
pub use types::*;
pub use waiver::Waiver;
use waiver::expiry_lines;

use crate::{
    embedded,
    error::{Error, Problem, Result},
    json::parse_validated,
    model::{Inventory, Resource, ACCOUNT_REGION_TYPE},
};

/// Where configuration comes from: a directory on disk, with the built-in defaults for any file it lacks.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config_dir: Option<PathBuf>,
    pub policies_dir: Option<PathBuf>,
}

impl Sources {
    /// The CLI default: `./config` and `./policies` when they exist, the built-ins otherwise.
    pub fn from_flags(config: Option<PathBuf>, policies: Option<PathBuf>) -> Result<Self> {
        let pick = |flag: Option<PathBuf>, default: &str| -> Result<Option<PathBuf>> {
            match flag {
                Some(dir) if dir.is_dir() => Ok(Some(dir)),
                Some(dir) => Err(Error::Usage(format!("{}: not a directory", dir.display()))),
                None => Ok(Some(PathBuf::from(default)).filter(|d| d.is_dir())),
            }
        };
        Ok(Sources { config_dir: pick(config, "config")?, policies_dir: pick(policies, "policies")? })
    }
}

/// A policy after validation.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub description: String,
    pub resource_type: String,
    pub select: Vec<Selector>,
    /// The policy applies only where one of these metrics is published for the resource.
    pub when_published: Vec<PublishedMetric>,
    pub alarms: Vec<AlarmRule>,
    pub exemptions: Vec<CheckedExemption>,
    /// Where it was read from, so findings can point back at it.
    pub file: String,
    /// 1-based line of each alarm rule's `"id"` in `file`, by rule index.
    pub alarm_lines: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct CheckedExemption {
    pub resource: String,
    pub alarms: Vec<String>,
    pub waiver: Waiver,
}

/// Thresholds by resource type, then metric name.
pub type MetricThresholds = BTreeMap<String, BTreeMap<String, f64>>;

/// Severity routing and thresholds after validation.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub by_type: MetricThresholds,
    pub overrides: Vec<(Vec<Selector>, MetricThresholds)>,
    pub severities: BTreeMap<String, SeverityRoute>,
    pub tag_prefix: String,
    pub alarm_name_prefix: String,
    /// The alarm hygiene checks switched on, and their limits.
    pub hygiene: AlarmHygiene,
}

/// Everything a check or a generation needs besides the inventory.
#[derive(Debug, Clone)]
pub struct Settings {
    pub catalog: Catalog,
    pub policies: Vec<Policy>,
    pub thresholds: Thresholds,
    pub dashboards: DashboardConfigFile,
    pub audit: AuditLogSchemaFile,
    pub security: SecuritySettings,
    /// Roll-ups from `config/composites.json`; `None` without the file.
    pub composites: Option<CompositesFile>,
}

impl Settings {
    /// The `account:region` pseudo-resources ([`Inventory::account_regions`]) when a policy
    /// requires account-level alarms and the catalogue knows the type; otherwise none, so that
    /// inventories checked without such a policy count no extra resources.
    pub fn account_resources(&self, inventory: &Inventory) -> Vec<Resource> {
        let wanted = self.catalog.get(ACCOUNT_REGION_TYPE).is_some() && self.policies.iter().any(|p| p.resource_type == ACCOUNT_REGION_TYPE);
        if wanted {
            inventory.account_regions()
        } else {
            Vec::new()
        }
    }
}

pub const RESOURCE_TYPES_FILE: &str = "resource_types.json";
pub const THRESHOLDS_FILE: &str = "alert_thresholds.json";
pub const DASHBOARD_FILE: &str = "dashboard_config.json";
pub const AUDIT_FILE: &str = "audit_log_schema.json";
pub const SECURITY_FILE: &str = "security_detections.json";
pub const SECURITY_CONTROLS_FILE: &str = "security_controls.json";
/// Optional, with no built-in: without it nothing is rolled up.
pub const COMPOSITES_FILE: &str = "composites.json";

/// A file's text and the name to report it under.
struct Source {
    name: String,
    text: String,
}

/// `dir/name`, or the built-in file when the directory has no entry of that name. An entry that
/// is there but cannot be read (a broken symlink, a symlink loop, a directory, no permission)
/// is an error naming it, never a silent fallback to the built-in.
fn read_config_file(dir: Option<&Path>, name: &str) -> Result<Source> {
    if let Some(path) = dir.map(|dir| dir.join(name)) {
        if let Some(text) = read_if_present(&path)? {
            return Ok(Source { name: path.display().to_string(), text });
        }
    }
    let (_, text) = embedded::CONFIG
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("built-in {name} is embedded"));
    Ok(Source { name: format!("<built-in>/config/{name}"), text: text.to_string() })
}

/// `dir/name` when the directory has it; a file with no built-in.
fn read_optional_file(dir: Option<&Path>, name: &str) -> Result<Option<Source>> {
    let Some(path) = dir.map(|dir| dir.join(name)) else { return Ok(None) };
    Ok(read_if_present(&path)?.map(|text| Source { name: path.display().to_string(), text }))
}

/// The text of `path`; `None` only when there is no entry of that name at all. Whatever is
/// there (a broken symlink, a symlink loop, a directory) is read, so its error names it.
pub(crate) fn read_if_present(path: &Path) -> Result<Option<String>> {
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read { path: path.to_path_buf(), source }),
        Ok(_) => fs::read_to_string(path).map(Some).map_err(|source| Error::Read { path: path.to_path_buf(), source }),
    }
}

fn read_source(path: PathBuf) -> Result<Source> {
    let text = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
    Ok(Source { name: path.display().to_string(), text })
}

/// Every `*.json` entry of the policies directory, in name order. Each one is a policy: an entry
/// that cannot be read as a file (a broken symlink, a loop, a directory named `x.json`) is an
/// error naming it, never skipped.
fn read_policy_files(dir: Option<&Path>) -> Result<Vec<Source>> {
    let Some(dir) = dir else {
        return Ok(embedded::POLICIES
            .iter()
            .filter(|(name, _)| name.ends_with(".json"))
            .map(|(name, text)| Source { name: format!("<built-in>/policies/{name}"), text: text.to_string() })
            .collect());
    };
    let entries = fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    paths.into_iter().map(read_source).collect()
}

/// Loads and validates the resource type catalogue alone (`resource_types.json` of `config_dir`,
/// or the built-in one): what the scanner needs.
pub fn load_catalog(config_dir: Option<&Path>) -> Result<Catalog> {
    let source = read_config_file(config_dir, RESOURCE_TYPES_FILE)?;
    parse_validated::<ResourceTypesFile>(&source.name, &source.text).and_then(|file| Catalog::new(&source.name, file))
}

/// The alarm hygiene section of `alert_thresholds.json` alone (schema-checked), for `scan`, which
/// reads DescribeAlarmHistory only when the flapping check is on.
pub fn load_alarm_hygiene(config_dir: Option<&Path>) -> Result<AlarmHygiene> {
    let source = read_config_file(config_dir, THRESHOLDS_FILE)?;
    parse_validated::<ThresholdsFile>(&source.name, &source.text).map(|file| file.alarm_hygiene)
}

/// Loads and validates all configuration. Every problem across all files is reported at once.
pub fn load(sources: &Sources) -> Result<Settings> {
    let config_dir = sources.config_dir.as_deref();
    let mut problems = Vec::new();
    let mut collect = |result: Result<()>| match result {
        Ok(()) => {}
        Err(Error::Invalid(found)) => problems.extend(found),
        Err(other) => problems.push(Problem { file: String::new(), json_path: "$".into(), position: None, message: other.to_string() }),
    };

    let catalog_source = read_config_file(config_dir, RESOURCE_TYPES_FILE)?;
    let thresholds_source = read_config_file(config_dir, THRESHOLDS_FILE)?;
    let dashboard_source = read_config_file(config_dir, DASHBOARD_FILE)?;
    let audit_source = read_config_file(config_dir, AUDIT_FILE)?;
    let security_source = read_config_file(config_dir, SECURITY_FILE)?;
    let controls_source = read_config_file(config_dir, SECURITY_CONTROLS_FILE)?;
    let policy_sources = read_policy_files(sources.policies_dir.as_deref())?;
    let composites_source = read_optional_file(config_dir, COMPOSITES_FILE)?;

    let catalog_file = parse_validated::<ResourceTypesFile>(&catalog_source.name, &catalog_source.text);
    let thresholds_file = parse_validated::<ThresholdsFile>(&thresholds_source.name, &thresholds_source.text);
    let dashboards = parse_validated::<DashboardConfigFile>(&dashboard_source.name, &dashboard_source.text);
    let audit = parse_validated::<AuditLogSchemaFile>(&audit_source.name, &audit_source.text);
    let security_file = parse_validated::<SecurityDetectionsFile>(&security_source.name, &security_source.text);
    let controls_file = parse_validated::<SecurityControlsFile>(&controls_source.name, &controls_source.text);
    let policy_files: Vec<_> =
        policy_sources.iter().map(|s| parse_validated::<PolicyFile>(&s.name, &s.text).map(|p| (s, p))).collect();

    // A broken catalogue makes every later check meaningless; stop at its problems.
    let catalog = catalog_file.and_then(|file| Catalog::new(&catalog_source.name, file))?;

    let mut thresholds = None;
    collect(thresholds_file.and_then(|file| {
        thresholds = Some(check_thresholds(&thresholds_source.name, file, &catalog)?);
        Ok(())
    }));
    let mut checked_dashboards = None;
    collect(dashboards.and_then(|file| {
        check_dashboards(&dashboard_source.name, &file, &catalog)?;
        checked_dashboards = Some(file);
        Ok(())
    }));
    let mut checked_audit = None;
    collect(audit.and_then(|file| {
        check_audit(&audit_source.name, &file)?;
        checked_audit = Some(file);
        Ok(())
    }));

    let severities = thresholds.as_ref().map(|t: &Thresholds| t.severities.clone());
    let mut checked_security = None;
    let both = match (controls_file, security_file) {
        (Ok(controls), Ok(security)) => Ok((controls, security)),
        (Err(Error::Invalid(mut a)), Err(Error::Invalid(b))) => {
            a.extend(b);
            Err(Error::Invalid(a))
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    collect(both.and_then(|(controls, security)| {
        checked_security =
            Some(security::check_security(&controls_source.name, controls, &security_source.name, &security_source.text, security, severities.as_ref())?);
        Ok(())
    }));
    let mut composites = None;
    if let Some(source) = &composites_source {
        collect(rollup::check(&source.name, &source.text, severities.as_ref()).map(|file| composites = Some(file)));
    }
    let mut policies = Vec::new();
    let mut seen_ids: HashMap<String, String> = HashMap::new();
    for parsed in policy_files {
        collect(parsed.and_then(|(source, file)| {
            if let Some(first) = seen_ids.get(&file.id) {
                return Err(Error::invalid(&source.name, "$.id", format!("duplicate policy id {:?}, first defined in {first}", file.id)));
            }
            seen_ids.insert(file.id.clone(), source.name.clone());
            if let Some(policy) = check_policy(source, file, &catalog, severities.as_ref())? {
                policies.push(policy);
            }
            Ok(())
        }));
    }

    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    policies.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Settings {
        catalog,
        policies,
        thresholds: thresholds.expect("no problems means thresholds parsed"),
        dashboards: checked_dashboards.expect("no problems means dashboards parsed"),
        audit: checked_audit.expect("no problems means audit schema parsed"),
        security: checked_security.expect("no problems means security settings parsed"),
        composites,
    })
}

fn check_metric_map(
    file: &str,
    path: &str,
    map: &MetricThresholds,
    catalog: &Catalog,
    problems: &mut Vec<Problem>,
) {
    for (resource_type, metrics) in map {
        let Some(spec) = catalog.get(resource_type) else {
            problems.push(problem(file, format!("{path}[{resource_type:?}]"), format!("unknown resource type {resource_type:?}")));
            continue;
        };
        for metric in metrics.keys() {
            if !spec.knows_metric(metric) {
                problems.push(problem(
                    file,
                    format!("{path}[{resource_type:?}].{metric}"),
                    format!("unknown metric {metric:?} for {resource_type}"),
                ));
            }
        }
    }
}

fn problem(file: &str, json_path: String, message: String) -> Problem {
    Problem { file: file.to_string(), json_path, position: None, message }
}

fn finish<T>(problems: Vec<Problem>, value: T) -> Result<T> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(Error::Invalid(problems))
    }
}

fn check_thresholds(file: &str, parsed: ThresholdsFile, catalog: &Catalog) -> Result<Thresholds> {
    let mut problems = Vec::new();
    check_metric_map(file, "$.thresholds", &parsed.thresholds, catalog, &mut problems);
    let mut overrides = Vec::new();
    for (index, rule) in parsed.overrides.into_iter().enumerate() {
        check_metric_map(file, &format!("$.overrides[{index}].thresholds"), &rule.thresholds, catalog, &mut problems);
        let selectors = parse_selectors(file, &format!("$.overrides[{index}].when"), &rule.when, &mut problems);
        overrides.push((selectors, rule.thresholds));
    }
    if parsed.severities.is_empty() {
        problems.push(problem(file, "$.severities".into(), "at least one severity is required".into()));
    }
    for name in parsed.severities.keys().filter(|name| !crate::model::names::is_severity_name(name)) {
        let message = format!("severity name {name:?} must be a lowercase letter, then up to 63 lowercase letters, digits or _");
        problems.push(problem(file, format!("$.severities[{name:?}]"), message));
    }
    let mut topics: HashMap<&str, &str> = HashMap::new();
    for (name, route) in &parsed.severities {
        if let Err(error) = crate::model::names::SeverityName::parse(name) {
            problems.push(problem(file, "$.severities".into(), error.to_string()));
        }
        if let Some(other) = topics.insert(&route.topic, name) {
            problems.push(problem(
                file,
                format!("$.severities.{name}.topic"),
                format!("topic {:?} is already used by severity {other:?}", route.topic),
            ));
        }
        for (index, email) in route.email.iter().enumerate() {
            if !email.contains('@') || email.chars().any(char::is_whitespace) {
                problems.push(problem(file, format!("$.severities.{name}.email[{index}]"), format!("{email:?} is not an email address")));
            }
        }
    }
    let tag_prefix = parsed.tag_prefix;
    let alarm_name_prefix = parsed.alarm_name_prefix;
    let hygiene = parsed.alarm_hygiene;
    finish(problems, Thresholds { by_type: parsed.thresholds, overrides, severities: parsed.severities, tag_prefix, alarm_name_prefix, hygiene })
}

fn parse_selectors(file: &str, path: &str, raw: &[String], problems: &mut Vec<Problem>) -> Vec<Selector> {
    raw.iter()
        .enumerate()
        .filter_map(|(index, text)| match Selector::parse(text) {
            Ok(selector) => Some(selector),
            Err(message) => {
                problems.push(problem(file, format!("{path}[{index}]"), message));
                None
            }
        })
        .collect()
}

fn check_dashboards(file: &str, parsed: &DashboardConfigFile, catalog: &Catalog) -> Result<()> {
    let mut problems = Vec::new();
    for (resource_type, service) in &parsed.services {
        let Some(spec) = catalog.get(resource_type) else {
            problems.push(problem(file, format!("$.services[{resource_type:?}]"), format!("unknown resource type {resource_type:?}")));
            continue;
        };
        for (index, graph) in service.graphs.iter().enumerate() {
            if !spec.knows(&graph.namespace, &graph.metric) {
                problems.push(problem(
                    file,
                    format!("$.services[{resource_type:?}].graphs[{index}]"),
                    format!("unknown metric {}/{} for {resource_type}", graph.namespace, graph.metric),
                ));
            }
        }
    }
    finish(problems, ())
}

fn check_audit(file: &str, parsed: &AuditLogSchemaFile) -> Result<()> {
    let mut problems = Vec::new();
    let mut names: Vec<&str> = vec![&parsed.partition_key.name];
    names.extend(parsed.sort_key.as_ref().map(|k| k.name.as_str()));
    names.extend(parsed.attributes.iter().map(|a| a.name.as_str()));
    let mut sorted = names.clone();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        if pair[0] == pair[1] {
            problems.push(problem(file, "$.attributes".into(), format!("attribute {:?} is defined twice", pair[0])));
        }
    }
    problems.extend(check_audit_fields(file, parsed));
    if !parsed.break_glass_role_arn.starts_with("arn:") || !parsed.break_glass_role_arn.contains(":role/") {
        problems.push(problem(file, "$.break_glass_role_arn".into(), "must be an IAM role ARN".into()));
    }
    finish(problems, ())
}

/// The audit record's layout: every field held at most once, the ones each record needs held,
/// key types matching what they hold, the event id a key, the TTL attribute holding `expires_at`.
fn check_audit_fields(file: &str, parsed: &AuditLogSchemaFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut fields: BTreeMap<RecordField, &str> = BTreeMap::new();
    let keys = std::iter::once(&parsed.partition_key).chain(parsed.sort_key.as_ref());
    for (key, path) in keys.zip(["$.partition_key", "$.sort_key"]) {
        if key.attribute_type != key.value.key_type() {
            problems.push(problem(
                file,
                format!("{path}.type"),
                format!("{} holds {}, stored as {}", key.name, key.value.as_str(), key.value.key_type().as_str()),
            ));
        }
        if let Some(other) = fields.insert(key.value, &key.name) {
            problems.push(problem(file, format!("{path}.value"), format!("{} is already held by {other}", key.value.as_str())));
        }
    }
    for (index, attribute) in parsed.attributes.iter().enumerate() {
        if let Some(other) = fields.insert(attribute.value, &attribute.name) {
            problems.push(problem(file, format!("$.attributes[{index}].value"), format!("{} is already held by {other}", attribute.value.as_str())));
        }
    }
    for required in [RecordField::Alarm, RecordField::EventId, RecordField::Time, RecordField::NewState] {
        if !fields.contains_key(&required) {
            problems.push(problem(file, "$.attributes".into(), format!("no attribute holds {}, which every record needs", required.as_str())));
        }
    }
    // Keys identify one event: the event id must be one of them, or a redelivered event could
    // not be told from a new one.
    let key_fields: Vec<RecordField> = std::iter::once(parsed.partition_key.value).chain(parsed.sort_key.as_ref().map(|k| k.value)).collect();
    if !key_fields.contains(&RecordField::EventId) {
        problems.push(problem(file, "$.partition_key".into(), "the event_id must be the partition or the sort key, so each event is one record".into()));
    }
    if fields.get(&RecordField::ExpiresAt) != Some(&parsed.ttl_attribute.as_str()) {
        problems.push(problem(file, "$.ttl_attribute".into(), format!("{:?} must be the attribute that holds expires_at", parsed.ttl_attribute)));
    }
    problems
}

/// An expression rule: its result's name is no catalogued metric, every id it names is defined,
/// every defined metric is catalogued.
fn check_math_metrics(file: &str, index: usize, rule: &AlarmRule, spec: &ResourceType, resource_type: &str, problems: &mut Vec<Problem>) {
    let at = |field: &str| format!("$.alarms[{index}]{field}");
    if spec.knows(&rule.namespace, &rule.metric) {
        problems.push(problem(file, at(".metric"), format!("{:?} is a metric of {}: an expression's result needs a name of its own (ErrorRate)", rule.metric, rule.namespace)));
    }
    let expression = rule.expression.as_deref().unwrap_or_default();
    for name in crate::model::math::expression_names(expression) {
        if !rule.metrics.contains_key(name) {
            problems.push(problem(file, at(".expression"), format!("the expression names {name:?}, which metrics does not define")));
        }
    }
    for (id, metric) in &rule.metrics {
        if !spec.knows(&rule.namespace, &metric.metric) {
            problems.push(problem(file, at(&format!(".metrics.{id}.metric")), format!("unknown metric {:?} in {} for {resource_type}", metric.metric, rule.namespace)));
        }
    }
}

/// A fan-out names further dimensions than the resource's own, each once.
fn check_fan_out<'a>(
    file: &str,
    at: &str,
    fan_out: &FanOut,
    identifying: impl Iterator<Item = &'a str>,
    resource_type: &str,
    namespace: &str,
    problems: &mut Vec<Problem>,
) {
    let identifying: Vec<&str> = identifying.collect();
    let names = fan_out.names();
    if names.is_empty() {
        problems.push(problem(file, at.to_string(), "for_each_dimension needs at least one dimension name".into()));
    }
    for (index, name) in names.iter().enumerate() {
        let here = match fan_out {
            FanOut::One(_) => at.to_string(),
            FanOut::Many(_) => format!("{at}[{index}]"),
        };
        if identifying.contains(&name.as_str()) {
            let message = format!("for_each_dimension {name:?} already identifies the {resource_type} resource in {namespace}: name a further dimension");
            problems.push(problem(file, here, message));
        } else if names[..index].contains(name) {
            problems.push(problem(file, here, format!("for_each_dimension names {name:?} twice")));
        }
    }
}

/// Exactly one of a static threshold and an anomaly band, each with its comparisons; statistics
/// on the rule for one metric, on the metrics for an expression.
fn check_alarm_kind(file: &str, index: usize, rule: &AlarmRule, problems: &mut Vec<Problem>) {
    let at = |field: &str| format!("$.alarms[{index}]{field}");
    let one_metric_statistic = rule.statistic.is_some() || rule.extended_statistic.is_some();
    match &rule.expression {
        Some(expression) => {
            if expression.trim().is_empty() || expression.len() > 1024 {
                problems.push(problem(file, at(".expression"), "an expression needs 1 to 1024 characters".into()));
            }
            if rule.metrics.is_empty() {
                problems.push(problem(file, at(".metrics"), "an expression needs the metrics it names".into()));
            }
            if one_metric_statistic {
                problems.push(problem(file, at(""), "an expression rule gives each metric's statistic under metrics, not statistic or extended_statistic".into()));
            }
            if rule.anomaly_band.is_some() {
                problems.push(problem(file, at(".anomaly_band"), "an anomaly band is drawn on one metric, not on an expression".into()));
            }
        }
        None => {
            if !rule.metrics.is_empty() {
                problems.push(problem(file, at(".metrics"), "metrics are the inputs of an expression: give expression too".into()));
            }
            if rule.statistic.is_some() == rule.extended_statistic.is_some() {
                problems.push(problem(file, at(""), "give exactly one of statistic and extended_statistic".into()));
            }
        }
    }
    match (rule.threshold, rule.anomaly_band) {
        (Some(_), Some(_)) => problems.push(problem(file, at(".anomaly_band"), "give either threshold or anomaly_band, not both".into())),
        (None, None) => problems.push(problem(file, at(".threshold"), "give threshold (or anomaly_band for an anomaly-detection alarm)".into())),
        (Some(threshold), None) => {
            if !threshold.is_finite() {
                problems.push(problem(file, at(".threshold"), "threshold must be a finite number".into()));
            }
            if rule.comparison.is_band() {
                problems.push(problem(file, at(".comparison"), format!("{} compares with an anomaly band: give anomaly_band instead of threshold", rule.comparison.as_str())));
            }
        }
        (None, Some(band)) => {
            if !(band.is_finite() && band > 0.0) {
                problems.push(problem(file, at(".anomaly_band"), "anomaly_band must be a positive number of standard deviations".into()));
            }
            if !rule.comparison.is_band() {
                problems.push(problem(file, at(".comparison"), format!("{} is a static comparison; an anomaly band needs LessThanLowerOrGreaterThanUpperThreshold, GreaterThanUpperThreshold or LessThanLowerThreshold", rule.comparison.as_str())));
            }
        }
    }
}

/// Returns `None` for a disabled policy (still validated, so it can be switched on safely).
fn check_policy(
    source: &Source,
    parsed: PolicyFile,
    catalog: &Catalog,
    severities: Option<&BTreeMap<String, SeverityRoute>>,
) -> Result<Option<Policy>> {
    let file = source.name.as_str();
    let mut problems = Vec::new();
    let spec = catalog.get(&parsed.resource_type);
    if spec.is_none() {
        problems.push(problem(file, "$.resource_type".into(), format!("unknown resource type {:?}", parsed.resource_type)));
    }
    let select = parse_selectors(file, "$.select", &parsed.select, &mut problems);
    for (index, published) in parsed.when_published.iter().enumerate() {
        if spec.is_some_and(|spec| !spec.knows(&published.namespace, &published.metric)) {
            let message = format!("unknown metric {:?} in {:?} for {}", published.metric, published.namespace, parsed.resource_type);
            problems.push(problem(file, format!("$.when_published[{index}]"), message));
        }
    }
    let mut alarm_ids = HashMap::new();
    for (index, rule) in parsed.alarms.iter().enumerate() {
        let at = |field: &str| format!("$.alarms[{index}]{field}");
        if alarm_ids.insert(rule.id.as_str(), index).is_some() {
            problems.push(problem(file, at(".id"), format!("duplicate alarm id {:?}", rule.id)));
        }
        if let Some(spec) = spec {
            if !spec.namespaces.contains_key(&rule.namespace) {
                problems.push(problem(file, at(".namespace"), format!("namespace {:?} carries no metrics for {}", rule.namespace, parsed.resource_type)));
            } else if rule.expression.is_some() {
                check_math_metrics(file, index, rule, spec, &parsed.resource_type, &mut problems);
            } else if !spec.knows(&rule.namespace, &rule.metric) {
                problems.push(problem(file, at(".metric"), format!("unknown metric {:?} in {} for {}", rule.metric, rule.namespace, parsed.resource_type)));
            } else if let Some(fan_out) = &rule.for_each_dimension {
                check_fan_out(file, &at(".for_each_dimension"), fan_out, spec.namespaces[&rule.namespace].dimension_names(), &parsed.resource_type, &rule.namespace, &mut problems);
            }
        }
        check_alarm_kind(file, index, rule, &mut problems);
        if !(rule.period == 10 || rule.period == 30 || (rule.period >= 60 && rule.period % 60 == 0)) {
            problems.push(problem(file, at(".period"), format!("period {} is not 10, 30 or a multiple of 60", rule.period)));
        }
        if rule.evaluation_periods == 0 || rule.datapoints_to_alarm == 0 || rule.datapoints_to_alarm > rule.evaluation_periods {
            problems.push(problem(file, at(".datapoints_to_alarm"), "need 1 <= datapoints_to_alarm <= evaluation_periods".into()));
        }
        if let Some(severities) = severities {
            if !severities.contains_key(&rule.severity) {
                let known: Vec<_> = severities.keys().map(String::as_str).collect();
                problems.push(problem(file, at(".severity"), format!("unknown severity {:?} (config defines {})", rule.severity, known.join(", "))));
            }
        }
    }
    let mut exemptions = Vec::new();
    let lines = expiry_lines(&source.text, "exemptions", parsed.exemptions.len());
    for (index, exemption) in parsed.exemptions.into_iter().enumerate() {
        let at = format!("$.exemptions[{index}]");
        for (alarm_index, alarm) in exemption.alarms.iter().enumerate() {
            if !alarm_ids.contains_key(alarm.as_str()) {
                problems.push(problem(file, format!("{at}.alarms[{alarm_index}]"), format!("policy has no alarm {alarm:?}")));
            }
        }
        if let Some(waiver) = Waiver::check(file, &at, "exemption", &exemption.reason, &exemption.expires, lines[index], &mut problems) {
            exemptions.push(CheckedExemption { resource: exemption.resource, alarms: exemption.alarms, waiver });
        }
    }
    let alarm_lines = parsed.alarms.iter().map(|rule| line_of_id(&source.text, &rule.id)).collect();
    let policy = Policy {
        id: parsed.id,
        description: parsed.description,
        resource_type: parsed.resource_type,
        select,
        when_published: parsed.when_published,
        alarms: parsed.alarms,
        exemptions,
        file: file.to_string(),
        alarm_lines,
    };
    finish(problems, parsed.enabled.then_some(policy))
}

pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Finds the line declaring `"id": "<id>"` for an alarm rule, for SARIF locations; 1 if not found.
fn line_of_id(text: &str, id: &str) -> usize {
    let needle = format!("{:?}", id);
    let alarms_start = text.lines().position(|line| line.contains("\"alarms\"")).unwrap_or(0);
    text.lines()
        .enumerate()
        .skip(alarms_start)
        .find(|(_, line)| line.contains("\"id\"") && line.contains(&needle))
        .map_or(1, |(index, _)| index + 1)
}
