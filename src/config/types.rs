//! What the configuration files say, as parsed. Every struct rejects unknown keys; the
//! JSON Schemas under `schemas/` are generated from these types, so the two cannot disagree.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::inventory::{ComparisonOperator, Statistic, TreatMissingData};

/// `config/resource_types.json`: the resource types onwatch understands, how to read their
/// CloudWatch dimensions off an ARN, and which metrics each namespace publishes for them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch resource type catalogue")]
pub struct ResourceTypesFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Keyed by resource type (`ec2:instance`).
    pub resource_types: BTreeMap<String, ResourceTypeSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceTypeSpec {
    /// Human name of the service, for reports and dashboards ("EC2", "RDS").
    pub service: String,
    /// A regular expression over the ARN's resource part (after `account:`). Named groups
    /// become placeholders for dimension templates.
    pub arn_resource: String,
    /// The CloudWatch namespaces that carry this type's metrics.
    pub namespaces: BTreeMap<String, NamespaceSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceSpec {
    /// Dimensions that identify one resource of this type in this namespace. Values are
    /// templates: `{Group}` is a named group of `arn_resource`, `{arn}` the whole ARN,
    /// `{region}`/`{account}` the resource's, and `{attr:Name}` a resource attribute.
    pub dimensions: BTreeMap<String, String>,
    /// The metrics this namespace publishes for the type; policies may only name these.
    pub metrics: Vec<String>,
    /// Who publishes these metrics when AWS does not by itself (`cloudwatch-agent`).
    /// Requirements on such metrics also check that the metric exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_by: Option<String>,
}

/// One coverage policy (`policies/*.json`): which resources it selects and which alarms each must have.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch coverage policy")]
pub struct PolicyFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Unique across all policy files; used in finding messages and exemptions.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub id: String,
    /// What the policy protects and why; for threshold choices AWS leaves to the workload, why this default.
    pub description: String,
    /// The resource type it applies to, as named in the resource type catalogue.
    pub resource_type: String,
    /// Tag selectors that must all hold: `key=value`, `key!=value`, `key` (present), `!key`
    /// (absent). Values may use `*` as a wildcard; `attr:Name` keys read resource attributes.
    /// Empty selects every resource of the type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// Set to false to ship a policy without enforcing it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    pub alarms: Vec<AlarmRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<Exemption>,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// One alarm every selected resource must have.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmRule {
    /// Unique within the policy (`cpu-high`).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub id: String,
    pub namespace: String,
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    /// A percentile such as `p99`, instead of `statistic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(p|tm|tc|ts|wm)\d{1,2}(\.\d{1,2})?$"))]
    pub extended_statistic: Option<String>,
    /// Seconds: 10, 30 or a multiple of 60.
    pub period: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub comparison: ComparisonOperator,
    /// The default threshold; `config/alert_thresholds.json` and resource tags may override it.
    pub threshold: f64,
    pub treat_missing_data: TreatMissingData,
    /// Alert severity, a key of `severities` in `config/alert_thresholds.json`; decides routing.
    pub severity: String,
    /// Why this alarm matters and why this threshold.
    pub description: String,
}

/// A reasoned, dated exception to a policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// The resource ARN; `*` matches any run of characters.
    pub resource: String,
    /// Alarm ids of this policy; empty exempts the resource from the whole policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
    pub reason: String,
    /// Last day the exemption holds (`YYYY-MM-DD`, UTC). After it, the findings come back.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub expires: String,
}

/// `config/alert_thresholds.json`: thresholds per metric, overrides per tag, and alert severities.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch alert thresholds")]
pub struct ThresholdsFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Thresholds by resource type, then metric name; these replace the policies' defaults.
    #[serde(default)]
    pub thresholds: BTreeMap<String, BTreeMap<String, f64>>,
    /// Applied in order to resources whose tags match; a later match wins.
    #[serde(default)]
    pub overrides: Vec<ThresholdOverride>,
    /// Alert severities and where each is routed.
    pub severities: BTreeMap<String, SeverityRoute>,
    /// Tags under this prefix tune one resource: `<prefix><MetricName>` = a number overrides
    /// that metric's threshold, `<prefix>ignore` = a reason opts the resource out.
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
    /// Generated alarms are named `<prefix>-<severity>-...`; delivery rules match on that prefix.
    #[serde(default = "default_alarm_name_prefix")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub alarm_name_prefix: String,
}

pub fn default_alarm_name_prefix() -> String {
    "onwatch".to_string()
}

pub fn default_tag_prefix() -> String {
    "onwatch:".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverride {
    /// Tag selectors, as in policies (`env=dev`).
    pub when: Vec<String>,
    pub thresholds: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where alerts of one severity go.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRoute {
    /// Name of the SNS topic alarms of this severity notify.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,256}$"))]
    pub topic: String,
    /// Email addresses subscribed to the topic.
    #[serde(default)]
    pub email: Vec<String>,
    /// Deliver to the Slack incoming webhook (the URL is a sensitive Terraform variable).
    #[serde(default)]
    pub slack: bool,
    /// Deliver to the Microsoft Teams incoming webhook (likewise a sensitive variable).
    #[serde(default)]
    pub teams: bool,
}

/// `config/dashboard_config.json`: the dashboards `onwatch generate` draws.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch dashboard configuration")]
pub struct DashboardConfigFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Prefix of every dashboard name.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,200}$"))]
    pub name_prefix: String,
    /// Draw an overview dashboard of alarm-status widgets.
    #[serde(default = "yes")]
    pub overview: bool,
    /// Metric graphs per service, keyed by resource type.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceDashboard>,
    /// Widgets per dashboard before a numbered continuation starts (CloudWatch allows 500).
    #[serde(default = "default_max_widgets")]
    #[schemars(range(min = 1, max = 500))]
    pub max_widgets_per_dashboard: u32,
    /// Metrics per graph before it is split (CloudWatch allows 500 per graph widget).
    #[serde(default = "default_max_metrics")]
    #[schemars(range(min = 1, max = 500))]
    pub max_metrics_per_widget: u32,
    /// Default time range shown, e.g. `-PT3H`.
    #[serde(default = "default_range")]
    pub default_range: String,
    /// Also write a Grafana dashboard JSON (CloudWatch data source) with the same panels.
    #[serde(default = "yes")]
    pub grafana: bool,
}

fn default_max_widgets() -> u32 {
    100
}
fn default_max_metrics() -> u32 {
    50
}
fn default_range() -> String {
    "-PT3H".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDashboard {
    /// One graph per entry; each plots the metric for every covered resource of the type.
    pub graphs: Vec<GraphSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    pub title: String,
    pub namespace: String,
    pub metric: String,
    pub statistic: Statistic,
    #[serde(default = "default_graph_period")]
    pub period: u32,
}

fn default_graph_period() -> u32 {
    300
}

/// `config/audit_log_schema.json`: the shape of the tamper-resistant audit table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch audit log schema")]
pub struct AuditLogSchemaFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]{3,255}$"))]
    pub table_name: String,
    pub partition_key: KeyAttribute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttribute>,
    /// Attributes every record carries, beyond the keys.
    pub attributes: Vec<RecordAttribute>,
    /// Attribute holding the expiry time (epoch seconds) for DynamoDB TTL.
    pub ttl_attribute: String,
    /// How long records are kept.
    #[schemars(range(min = 1))]
    pub retention_days: u32,
    /// ARN of the role allowed to update and delete records, for break-glass only.
    pub break_glass_role_arn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub attribute_type: KeyType,
}

/// DynamoDB key attribute types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KeyType {
    S,
    N,
    B,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAttribute {
    pub name: String,
    pub description: String,
}
