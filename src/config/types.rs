//! What the configuration files say, as parsed. Every struct rejects unknown keys; the
//! JSON Schemas under `schemas/` are generated from these types, so the two cannot disagree.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{ComparisonOperator, Statistic, TreatMissingData};

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
    /// The ARN of a resource of this type as a template: `{partition}`, `{region}`, `{account}`
    /// and the named groups of `arn_resource` (`arn:{partition}:ec2:{region}:{account}:instance/{InstanceId}`).
    /// An ARN is of this type when its resource part matches `arn_resource` and the template
    /// rebuilds it exactly; loading checks that it rebuilds every example.
    pub arn: String,
    /// The Resource Groups Tagging API resource type filter that lists this type (`ec2:instance`,
    /// or a whole service: `sqs`). Without one, the scanner finds the type only through its metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagging_filter: Option<String>,
    /// The API that lists this type where the Tagging API does not: `autoscaling:DescribeAutoScalingGroups`
    /// (Auto Scaling groups are not Tagging API resources). One of the listings the scanner knows
    /// (`config::catalog::LISTINGS`); it reads the ARN, tags and attributes from the listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_by: Option<String>,
    /// Real-shaped ARNs of this type: each must match `arn_resource`, be rebuilt by `arn` and be
    /// of no other type; tests compute every namespace's dimensions from them. Every type of the
    /// shipped catalogue has one; optional in a custom catalogue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub example_arns: Vec<String>,
    /// The CloudWatch namespaces that carry this type's metrics.
    pub namespaces: BTreeMap<String, NamespaceSpec>,
    /// How resources of this type are read from Terraform (source blocks and plan JSON): one
    /// entry per Terraform resource type that creates one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terraform: Vec<TerraformSpec>,
}

/// One Terraform resource type that declares resources of a catalogued type. Values are
/// templates over the resource's Terraform arguments and attributes: `{function_name}`,
/// `{tags.Name}`, `{cluster|basename}` (the text after the last `/`, for an argument that takes a
/// name or an ARN), and `{partition}`, `{region}`, `{account}` of where it is deployed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TerraformSpec {
    /// The Terraform resource type (`aws_db_instance`).
    #[schemars(regex(pattern = r"^aws_[a-z0-9_]+$"))]
    pub resource: String,
    /// Only blocks whose arguments have these values are of this type (`load_balancer_type`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
    /// The provider's value of an argument the block leaves unset (`load_balancer_type` is `application`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaults: BTreeMap<String, String>,
    /// The name the resource has in AWS, to merge a declared resource with a live one when its ARN is known only after apply.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// Every named group of `arn_resource`: its value, so that dimensions can be formed when the ARN is known only after apply.
    pub captures: BTreeMap<String, String>,
    /// Resource attributes (selectors, `{attr:Name}` dimension templates) that Terraform gives.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Attributes Terraform computes from the others (an ECS cluster's `id` is its ARN), for references to them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub computed: BTreeMap<String, String>,
    /// The region of a global service's metrics (CloudFront publishes in `us-east-1`), whatever the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
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
    /// The dimension names that mark a metric as one resource's, so that the scanner adds the
    /// resource when the Tagging API does not list it: a metric with exactly these dimensions
    /// (no more) names the resource whose ARN `arn` builds from their values. Each is one of
    /// `dimensions`, with at most one placeholder in its template; together they give every
    /// group of `arn` (or `{arn}` itself). Empty: this namespace's metrics discover nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<String>,
    /// Who publishes these metrics when AWS does not by itself (`cloudwatch-agent`).
    /// Requirements on such metrics also check that the metric exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_by: Option<String>,
    /// Attributes that which metrics a resource publishes tell: attribute name, then value, then
    /// the metrics only resources with that value publish (`ProtocolType`: `WEBSOCKET` for
    /// `ConnectCount`, `HTTP` for `4xx`). The scanner sets the attribute when the resource's metrics
    /// name exactly one value's; a value given otherwise (snapshot, Terraform) is kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes_by_metric: BTreeMap<String, BTreeMap<String, Vec<String>>>,
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
    /// The policy applies to a selected resource only where the account publishes one of these
    /// metrics for it (in ListMetrics, with the resource's dimensions of that namespace): a service
    /// the account may not use, such as EventBridge Scheduler's account-level metrics. Empty:
    /// every selected resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when_published: Vec<PublishedMetric>,
    pub alarms: Vec<AlarmRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<Exemption>,
}

/// A metric whose presence in the account makes a policy apply (`when_published`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishedMetric {
    pub namespace: String,
    pub metric: String,
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
    /// The metric; for an `expression`, the name of the expression's result (`ErrorRate`), which
    /// threshold tags use (`onwatch:ErrorRate`) and which must not be a catalogued metric.
    pub metric: String,
    /// Metric math instead of one metric: an expression over the `metrics` ids
    /// (`100 * errors / invocations`), evaluated for the resource's dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The metrics an `expression` names, keyed by the id it uses them by (a lowercase letter,
    /// then letters, digits and `_`, as CloudWatch query ids must be).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^[a-z][A-Za-z0-9_]{0,254}$"}))]
    pub metrics: BTreeMap<String, MathMetric>,
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
    /// Absent exactly when `anomaly_band` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// An anomaly-detection band this many standard deviations wide instead of a static
    /// threshold (`ANOMALY_DETECTION_BAND(m1, N)`); needs a band comparison
    /// (`LessThanLowerOrGreaterThanUpperThreshold`, `GreaterThanUpperThreshold`, `LessThanLowerThreshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_band: Option<f64>,
    pub treat_missing_data: TreatMissingData,
    /// Alert severity, a key of `severities` in `config/alert_thresholds.json`; decides routing.
    pub severity: String,
    /// Why this alarm matters and why this threshold.
    pub description: String,
    /// Extra dimensions to fan out on: one name (`UserPoolClient`, `Route`, `TunnelIpAddress`) or a
    /// list of them (`["Resource", "Method"]`): one requirement per distinct value (per combination
    /// of values) among the account's metrics on this namespace, metric and the resource's
    /// dimensions that carry all of them; the alarm carries the resource's dimensions and these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each_dimension: Option<FanOut>,
}

/// `for_each_dimension`: one dimension name, or several fanned out together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FanOut {
    One(#[schemars(regex(pattern = r"^[^\s].{0,254}$"))] String),
    /// Up to 10 distinct names, each combination of their values one requirement.
    Many(#[schemars(length(min = 1, max = 10), inner(regex(pattern = r"^[^\s].{0,254}$")))] Vec<String>),
}

impl FanOut {
    /// The dimension names, in the policy's order.
    pub fn names(&self) -> &[String] {
        match self {
            FanOut::One(name) => std::slice::from_ref(name),
            FanOut::Many(names) => names,
        }
    }
}

impl AlarmRule {
    /// The metrics the alarm reads: those of its expression, else its one metric.
    pub fn source_metrics(&self) -> Vec<&str> {
        match self.expression {
            Some(_) => self.metrics.values().map(|m| m.metric.as_str()).collect(),
            None => vec![self.metric.as_str()],
        }
    }

    /// The static threshold, or the band width of an anomaly rule: what `threshold` reports.
    pub fn default_threshold(&self) -> f64 {
        self.threshold.or(self.anomaly_band).unwrap_or_default()
    }
}

/// One metric of a metric-math alarm rule: in the rule's namespace, for the resource's dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MathMetric {
    pub metric: String,
    pub statistic: Statistic,
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
    /// Alert severities and where each is routed. A severity's name starts generated alarm names
    /// and names Terraform resources: a lowercase letter, then up to 63 lowercase letters, digits and `_`.
    #[schemars(extend("propertyNames" = {"pattern": crate::model::names::SEVERITY_PATTERN}))]
    pub severities: BTreeMap<String, SeverityRoute>,
    /// Tags under this prefix tune one resource: `<prefix><MetricName>` = a number overrides
    /// that metric's threshold, `<prefix>ignore` = a reason opts the resource out.
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
    /// Generated alarms are named `<prefix>-<severity>-...`; delivery rules match on that prefix.
    #[serde(default = "default_alarm_name_prefix")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub alarm_name_prefix: String,
    /// Alarm hygiene checks over every metric alarm (not only the ones policies require): each is
    /// off until set here.
    #[serde(default, skip_serializing_if = "AlarmHygiene::is_off")]
    pub alarm_hygiene: AlarmHygiene,
}

/// `alarm_hygiene` in `config/alert_thresholds.json`: which hygiene findings to report, and their limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmHygiene {
    /// Report `alarm-metric-absent` for alarms whose metric ListMetrics does not list (severity
    /// info: metrics published only on events are absent legitimately).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metric_absent: bool,
    /// Report `alarm-stuck-insufficient-data` for an alarm whose state has been INSUFFICIENT_DATA
    /// for more than this many days (from its StateUpdatedTimestamp, as of `--as-of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32", range(min = 1, max = 3650))]
    pub insufficient_data_days: Option<u32>,
    /// Report `alarm-flapping`; turns on the scanner's reading of DescribeAlarmHistory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Flapping")]
    pub flapping: Option<Flapping>,
    /// States every alarm must have an action for (`alarm-state-action-missing`), as AWS Config's
    /// cloudwatch-alarm-action-check: `OK`, `INSUFFICIENT_DATA`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true))]
    pub required_actions: Vec<ActionState>,
}

impl AlarmHygiene {
    pub fn is_off(&self) -> bool {
        *self == AlarmHygiene::default()
    }
}

/// When an alarm flaps: more than `max_changes` state changes within the last `window_days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flapping {
    /// State changes allowed within the window; one more is flapping.
    #[schemars(range(min = 1, max = 100000))]
    pub max_changes: u32,
    /// Days of history, ending with the `--as-of` day (CloudWatch keeps 30 days of alarm history).
    #[schemars(range(min = 1, max = 30))]
    pub window_days: u32,
}

/// An alarm state other than ALARM whose action list `required_actions` names (ALARM's own is
/// `alarm-no-actions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum ActionState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Ok => "OK",
            ActionState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
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

/// `config/audit_log_schema.json`: the shape of the tamper-resistant audit table and where it lives.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch audit log schema")]
pub struct AuditLogSchemaFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Generate the audit table and the pipeline that records every alert raised and resolved.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]{3,255}$"))]
    pub table_name: String,
    /// The region of the table and its pipeline [default: the first region of the generated module].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"))]
    pub region: Option<String>,
    pub partition_key: KeyAttribute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttribute>,
    /// Attributes every record carries, beyond the keys.
    pub attributes: Vec<RecordAttribute>,
    /// Attribute holding the expiry time (epoch seconds) for DynamoDB TTL; its value is `expires_at`.
    pub ttl_attribute: String,
    /// How long records are kept: the TTL is the event time plus this many days.
    #[schemars(range(min = 1))]
    pub retention_days: u32,
    /// ARN of the role allowed to update and delete records, for break-glass only.
    pub break_glass_role_arn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAttribute {
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"))]
    pub name: String,
    #[serde(rename = "type")]
    pub attribute_type: KeyType,
    /// What the key holds.
    pub value: RecordField,
}

/// DynamoDB key attribute types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KeyType {
    S,
    N,
    B,
}

impl AuditLogSchemaFile {
    /// Every attribute a record holds, keys first, with what it holds.
    pub fn record_attributes(&self) -> Vec<(String, RecordField)> {
        let mut attributes = vec![(self.partition_key.name.clone(), self.partition_key.value)];
        attributes.extend(self.sort_key.as_ref().map(|k| (k.name.clone(), k.value)));
        attributes.extend(self.attributes.iter().map(|a| (a.name.clone(), a.value)));
        attributes
    }
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAttribute {
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"))]
    pub name: String,
    /// What the attribute holds.
    pub value: RecordField,
    pub description: String,
}

/// The facts an audit record can hold; the pipeline fills each from the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordField {
    /// The alarm's ARN; for an EventBridge security detection, the rule's ARN.
    Alarm,
    /// The EventBridge event id: unique per event, so a redelivered event is not recorded twice.
    EventId,
    /// When it happened (RFC 3339, from the event).
    Time,
    /// `alert-raised`, `alert-resolved`, `alert-changed` or `security-detection`.
    Kind,
    /// The resource the alarm watches (its ARN for onwatch's alarms, else its dimensions); for a
    /// detection, the principal that made the call.
    Resource,
    OldState,
    /// `ALARM` (raised), `OK` (resolved), `INSUFFICIENT_DATA`; `DETECTED` for a detection.
    NewState,
    /// CloudWatch's state reason; for a detection, the call, the caller and the source address.
    Reason,
    Account,
    Region,
    /// Epoch seconds after which DynamoDB TTL removes the record (a number).
    ExpiresAt,
}

impl RecordField {
    pub const ALL: &'static [RecordField] = &[
        RecordField::Alarm,
        RecordField::EventId,
        RecordField::Time,
        RecordField::Kind,
        RecordField::Resource,
        RecordField::OldState,
        RecordField::NewState,
        RecordField::Reason,
        RecordField::Account,
        RecordField::Region,
        RecordField::ExpiresAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordField::Alarm => "alarm",
            RecordField::EventId => "event_id",
            RecordField::Time => "time",
            RecordField::Kind => "kind",
            RecordField::Resource => "resource",
            RecordField::OldState => "old_state",
            RecordField::NewState => "new_state",
            RecordField::Reason => "reason",
            RecordField::Account => "account",
            RecordField::Region => "region",
            RecordField::ExpiresAt => "expires_at",
        }
    }

    /// The DynamoDB type the field is stored as.
    pub fn key_type(self) -> KeyType {
        if self == RecordField::ExpiresAt {
            KeyType::N
        } else {
            KeyType::S
        }
    }
}

/// `config/security_detections.json`: which benchmark's security detections to generate and
/// check, on which CloudTrail log group, and where their alarms go.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch security detections")]
pub struct SecurityDetectionsFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Check and generate the detections.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A benchmark of `config/security_controls.json` (`cis-3.0.0`).
    pub benchmark: String,
    /// The CloudWatch Logs log group the account's multi-region CloudTrail trail delivers to.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_./#-]{1,512}$"))]
    pub log_group: String,
    /// The log group's region [default: the region of the trail's log group, else the first region].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"))]
    pub region: Option<String>,
    /// The alert severity (a key of `severities` in `config/alert_thresholds.json`) whose topic the
    /// detection alarms notify.
    pub severity: String,
    /// The CloudWatch namespace of the metrics the filters publish.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_./#:-]{1,255}$"))]
    pub metric_namespace: String,
    /// Also generate EventBridge rules for the same events, delivered to the security topic (and the
    /// audit table) in seconds rather than after the alarm's period.
    #[serde(default)]
    pub eventbridge_rules: bool,
    /// Controls knowingly left uncovered, each with a reason and an expiry date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<ControlExemption>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlExemption {
    /// The control's number in the chosen benchmark (`4.15`) or its detection id (`organizations-changes`).
    pub control: String,
    pub reason: String,
    /// Last day the exemption holds (`YYYY-MM-DD`, UTC).
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub expires: String,
}

/// `config/security_controls.json`: the security detections onwatch knows, and how each benchmark
/// version numbers them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch security control catalogue")]
pub struct SecurityControlsFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Benchmarks by id (`cis-3.0.0`).
    pub benchmarks: BTreeMap<String, BenchmarkSpec>,
    /// A CloudTrail record every sample event is merged onto (JSON merge patch, RFC 7386).
    pub sample_base: serde_json::Value,
    /// Detections by id (`root-account-usage`).
    pub detections: BTreeMap<String, DetectionSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkSpec {
    pub title: String,
    /// The benchmark's monitoring controls, in its order.
    pub controls: Vec<ControlSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    /// The control's number in this benchmark (`4.3`).
    pub number: String,
    /// The detection that implements it.
    pub detection: String,
    /// This benchmark's own pattern, where it differs from the detection's (and the assessors of
    /// this version require it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectionSpec {
    pub title: String,
    /// The AWS Security Hub control that checks it (`CloudWatch.1`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<String>,
    /// Name of the metric the filter publishes.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]{1,255}$"))]
    pub metric: String,
    /// The CloudWatch Logs filter pattern.
    pub filter_pattern: String,
    /// Why this pattern, where the benchmark and the assessors differ.
    pub rationale: String,
    /// The EventBridge event pattern matching the same CloudTrail events.
    pub event_pattern: serde_json::Value,
    /// The events come from global services (IAM, sign-in, Organizations), which EventBridge
    /// delivers in us-east-1 only.
    #[serde(default)]
    pub global: bool,
    /// CloudTrail events the detection must match (merge patches onto `sample_base`).
    pub triggers: Vec<SampleEvent>,
    /// CloudTrail events it must not match.
    pub ignores: Vec<SampleEvent>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleEvent {
    pub description: String,
    /// A JSON merge patch onto `sample_base`.
    pub event: serde_json::Value,
}

/// `config/composites.json` (optional): roll-ups. Per value of an application tag and per
/// severity, one composite alarm over the members' alarms carries the notification; the members
/// onwatch generates have no actions of their own.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch composite roll-ups")]
pub struct CompositesFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The resource tag that names the application (`app`): resources with the same value roll up together.
    #[schemars(length(min = 1, max = 128))]
    pub tag: String,
    /// Severities rolled up (keys of `alert_thresholds.json`'s `severities`); other severities notify per alarm.
    #[schemars(length(min = 1))]
    pub severities: Vec<String>,
    /// Mutes the roll-ups while another alarm (a maintenance window) is in ALARM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressor: Option<SuppressorFile>,
}

/// A composite alarm's actions suppressor.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressorFile {
    /// Name (or ARN) of the alarm whose ALARM state suppresses the roll-ups' actions.
    #[schemars(length(min = 1, max = 255))]
    pub alarm: String,
    /// Seconds a roll-up that goes into ALARM waits for the suppressor to go into ALARM too before it notifies.
    #[schemars(range(min = 1))]
    pub wait_period: u32,
    /// Seconds the roll-up stays suppressed after the suppressor leaves ALARM.
    #[schemars(range(min = 1))]
    pub extension_period: u32,
}
