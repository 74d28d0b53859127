//! The neutral inventory model: one AWS account (or several), as the live scanner
//! and JSON snapshots both describe it. Checks, generation and drift only ever see
//! these types, never SDK types, so they can be tested by building an inventory by hand.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    arn::{alarm_arn, partition_of_region},
    Arn, Dimensions,
};

/// The snapshot format version this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// A snapshot of the monitoring-relevant state of one or more AWS accounts and regions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "onwatch inventory snapshot")]
pub struct Inventory {
    /// Editor hint pointing at this schema; ignored by onwatch.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Snapshot format version. onwatch reads version 1.
    pub version: u32,
    /// When the snapshot was taken (RFC 3339), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// The account and region pairs this snapshot covers completely.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// Resources, as the Resource Groups Tagging API (or metric discovery) reports them.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// CloudWatch metric alarms (DescribeAlarms, MetricAlarms).
    #[serde(default)]
    pub alarms: Vec<MetricAlarm>,
    /// CloudWatch composite alarms (DescribeAlarms, CompositeAlarms).
    #[serde(default)]
    pub composite_alarms: Vec<CompositeAlarm>,
    /// Metrics that exist in CloudWatch (ListMetrics). This is how onwatch knows
    /// the CloudWatch agent publishes memory and disk for an instance.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// CloudWatch dashboards.
    #[serde(default)]
    pub dashboards: Vec<Dashboard>,
    /// SNS topics with their subscriptions and encryption key.
    #[serde(default)]
    pub sns_topics: Vec<SnsTopic>,
    /// CloudTrail trails (DescribeTrails with shadow trails, GetTrailStatus), for the security check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trails: Vec<Trail>,
    /// CloudWatch Logs metric filters (DescribeMetricFilters), for the security check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_metric_filters: Vec<LogMetricFilter>,
}

/// The pseudo-type of account-level requirements: one resource per (account, region) the
/// inventory covers, for metrics AWS publishes without dimensions (DynamoDB account capacity,
/// Lambda ClaimedAccountConcurrency, EventBridge Scheduler quotas).
pub const ACCOUNT_REGION_TYPE: &str = "account:region";

impl Inventory {
    /// One `account:region` pseudo-resource per (account, region) pair: the snapshot's scopes,
    /// else (a hand-written snapshot) the pairs its resources live in. Its ARN is
    /// `arn:PARTITION:cloudwatch:REGION:ACCOUNT:account-region/REGION`, which no AWS resource has
    /// (the region again in the resource part, so generated alarm names differ per region).
    pub fn account_regions(&self) -> Vec<Resource> {
        let mut pairs: std::collections::BTreeSet<(&str, &str)> = self.scopes.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect();
        if pairs.is_empty() {
            pairs = self
                .resources
                .iter()
                .filter(|r| !r.account.is_empty() && !r.region.is_empty() && r.discovered_by != DiscoveredBy::Declared)
                .map(|r| (r.account.as_str(), r.region.as_str()))
                .collect();
        }
        pairs
            .into_iter()
            .map(|(account, region)| Resource {
                arn: format!("arn:{}:cloudwatch:{region}:{account}:account-region/{region}", partition_of_region(region)),
                resource_type: ACCOUNT_REGION_TYPE.to_string(),
                region: region.to_string(),
                account: account.to_string(),
                tags: BTreeMap::new(),
                attributes: BTreeMap::new(),
                discovered_by: DiscoveredBy::Tagging,
            })
            .collect()
    }
}

/// One account and region that was scanned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub account: String,
    pub region: String,
    /// Why this scope could not be read (the AWS operation, account, region and error), for a
    /// scan with `--allow-partial`; such a scope has no resources or alarms in the snapshot, and
    /// checks report it as unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// How a resource came into the inventory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DiscoveredBy {
    /// Listed by the Resource Groups Tagging API, or by the API of a type it does not list (the
    /// catalogue's `listed_by`: Auto Scaling groups), or written by hand in a snapshot.
    #[default]
    Tagging,
    /// Never tagged, so invisible to the Tagging API; found through the metrics it publishes.
    Metrics,
    /// Declared in Terraform (source or plan) and not live yet: checked before apply.
    Declared,
}

/// An AWS resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The resource's ARN.
    pub arn: String,
    /// Resource type as `service:type`, as the Tagging API names it (`ec2:instance`, `rds:db`,
    /// `lambda:function`). ARNs without a type segment get one: `sqs:queue`, `sns:topic`;
    /// load balancers are `elasticloadbalancing:loadbalancer/app` or `/net`.
    #[serde(rename = "type")]
    pub resource_type: String,
    pub region: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "unique_tags")]
    pub tags: BTreeMap<String, String>,
    /// Attributes that checks need and the ARN does not carry, by CloudWatch dimension name
    /// where one applies (a target group's `LoadBalancer`, an API stage's `ApiName`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "unique_attributes")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub discovered_by: DiscoveredBy,
}

fn unique_tags<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    unique_keys(deserializer, "tag key")
}

fn unique_attributes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    unique_keys(deserializer, "attribute")
}

/// An object of strings whose keys must differ: a map would keep the last of two equal keys and
/// hide the conflict (dimensions and fields are refused the same way).
fn unique_keys<'de, D: serde::Deserializer<'de>>(deserializer: D, what: &'static str) -> Result<BTreeMap<String, String>, D::Error> {
    struct Visitor(&'static str);
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an object of {}s to strings", self.0)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("duplicate {} {key:?}", self.0)));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Visitor(what))
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// CloudWatch alarm states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

/// CloudWatch comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    /// Whether the operator compares with an anomaly-detection band rather than a static threshold.
    pub fn is_band(self) -> bool {
        matches!(self, Self::LessThanLowerOrGreaterThanUpperThreshold | Self::LessThanLowerThreshold | Self::GreaterThanUpperThreshold)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Self::GreaterThanThreshold => "GreaterThanThreshold",
            Self::LessThanThreshold => "LessThanThreshold",
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::LessThanLowerOrGreaterThanUpperThreshold => "LessThanLowerOrGreaterThanUpperThreshold",
            Self::LessThanLowerThreshold => "LessThanLowerThreshold",
            Self::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }
}

/// CloudWatch simple statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Statistic {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Average => "Average",
            Self::Sum => "Sum",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
            Self::SampleCount => "SampleCount",
        }
    }
}

/// How an alarm treats missing data points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    Breaching,
    NotBreaching,
    Ignore,
    Missing,
}

impl TreatMissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Breaching => "breaching",
            Self::NotBreaching => "notBreaching",
            Self::Ignore => "ignore",
            Self::Missing => "missing",
        }
    }
}

/// A CloudWatch metric alarm, with what DescribeAlarms returns that matters for coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricAlarm {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub region: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Absent for metric-math and anomaly-detection alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default)]
    pub dimensions: Dimensions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    /// A percentile such as `p99`, used instead of `statistic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    pub evaluation_periods: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    pub comparison_operator: ComparisonOperator,
    /// Absent for anomaly-detection alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<TreatMissingData>,
    #[serde(default = "yes")]
    pub actions_enabled: bool,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default)]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AlarmState>,
    /// When the state last changed (DescribeAlarms `StateUpdatedTimestamp`), RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_updated_at: Option<String>,
    /// When the alarm changed state within the history the scan read (DescribeAlarmHistory,
    /// StateUpdate items), RFC 3339 UTC, oldest first; absent when the history was not read
    /// (`alarm_hygiene.flapping` off), empty when it was read and the alarm did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_changes: Option<Vec<String>>,
    /// The metric data queries of a metric-math or anomaly-detection alarm (DescribeAlarms `Metrics`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricQuery>,
    /// The query whose band is the threshold of an anomaly-detection alarm (`ThresholdMetricId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_metric_id: Option<String>,
}

/// One metric data query of an alarm: a metric (`MetricStat`) or an expression over other queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricQuery {
    /// The query id other queries' expressions name (`m1`, `errors`).
    pub id: String,
    /// A metric math expression (`100 * errors / invocations`, `ANOMALY_DETECTION_BAND(m1, 2)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The metric this query reads, when it is not an expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricStat>,
    /// Whether the alarm evaluates this query's result (AWS's default: true).
    #[serde(default = "yes")]
    pub return_data: bool,
}

/// A metric, its statistic and period, as a query reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricStat {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Dimensions,
    pub period: u32,
    /// A statistic (`Sum`) or a percentile (`p99`).
    pub stat: String,
}

impl MetricAlarm {
    /// The alarm's ARN: as the account reported it, else built in its region's partition.
    pub fn arn(&self) -> String {
        self.arn.clone().unwrap_or_else(|| alarm_arn(partition_of_region(&self.region), &self.region, &self.account, &self.name))
    }
}

fn yes() -> bool {
    true
}

/// A CloudWatch composite alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompositeAlarm {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub region: String,
    pub account: String,
    /// The rule expression, e.g. `ALARM("a") OR ALARM("b")`.
    pub alarm_rule: String,
    #[serde(default = "yes")]
    pub actions_enabled: bool,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default)]
    pub ok_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AlarmState>,
}

/// A metric that exists in CloudWatch (has had data in the last two weeks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Dimensions,
    pub region: String,
    pub account: String,
}

/// A CloudWatch dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub region: String,
    pub account: String,
    /// The dashboard body (JSON text), when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// An SNS topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnsTopic {
    pub arn: String,
    pub region: String,
    pub account: String,
    /// The topic's `KmsMasterKeyId` attribute: a key ID, key ARN or alias; absent when unencrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
}

impl SnsTopic {
    /// CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key:
    /// its key policy does not let the CloudWatch service principal use it.
    pub fn uses_aws_managed_key(&self) -> bool {
        self.kms_master_key_id
            .as_deref()
            .is_some_and(|key| key == "alias/aws/sns" || key.ends_with(":alias/aws/sns"))
    }

    pub fn has_confirmed_subscription(&self) -> bool {
        self.subscriptions.iter().any(|s| s.confirmed)
    }
}

/// An SNS subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// `email`, `https`, `sqs`, `lambda`, ...
    pub protocol: String,
    pub endpoint: String,
    /// False while the subscription is `PendingConfirmation`.
    pub confirmed: bool,
}

/// A CloudTrail trail, as seen from the account it was listed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    /// The account the trail was listed in (an organization trail is listed in every member account).
    pub account: String,
    /// The region the trail was created in; a multi-region trail records every region's events there.
    pub home_region: String,
    pub multi_region: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organization: bool,
    /// `CloudWatchLogsLogGroupArn`: the log group the trail delivers to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
    /// `IsLogging` from GetTrailStatus: false when logging was stopped.
    pub logging: bool,
}

impl Trail {
    /// The name of the log group the trail delivers to, from its ARN
    /// (`arn:aws:logs:us-east-1:1:log-group:NAME:*`).
    pub fn log_group_name(&self) -> Option<&str> {
        let arn = Arn::parse(self.log_group_arn.as_deref()?)?;
        let name = arn.resource.strip_prefix("log-group:")?;
        Some(name.strip_suffix(":*").unwrap_or(name))
    }

    /// The region of the log group the trail delivers to.
    pub fn log_group_region(&self) -> Option<&str> {
        Arn::parse(self.log_group_arn.as_deref()?).map(|arn| arn.region)
    }
}

/// A CloudWatch Logs metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogMetricFilter {
    pub name: String,
    pub log_group: String,
    /// The filter pattern, as CloudWatch Logs stores it.
    pub pattern: String,
    pub region: String,
    pub account: String,
    /// The metrics the filter publishes (the API allows one).
    pub metrics: Vec<MetricTransformation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricTransformation {
    pub namespace: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn trail_log_group_is_read_off_its_arn() {
        let mut trail = Trail {
            name: "main".into(),
            arn: "arn:aws:cloudtrail:us-east-1:1:trail/main".into(),
            account: "1".into(),
            home_region: "us-east-1".into(),
            multi_region: true,
            organization: false,
            log_group_arn: Some("arn:aws:logs:eu-west-1:1:log-group:aws-cloudtrail-logs:*".into()),
            logging: true,
        };
        assert_eq!(trail.log_group_name(), Some("aws-cloudtrail-logs"));
        assert_eq!(trail.log_group_region(), Some("eu-west-1"));
        trail.log_group_arn = Some("arn:aws:logs:eu-west-1:1:log-group:/org/trail".into());
        assert_eq!(trail.log_group_name(), Some("/org/trail"));
        trail.log_group_arn = None;
        assert_eq!(trail.log_group_name(), None);
    }

    #[test]
    fn aws_managed_key_is_recognised_by_alias_and_alias_arn() {
        let mut topic = SnsTopic {
            arn: "arn:aws:sns:us-east-1:1:t".into(),
            region: "us-east-1".into(),
            account: "1".into(),
            kms_master_key_id: Some("alias/aws/sns".into()),
            subscriptions: vec![],
        };
        assert!(topic.uses_aws_managed_key());
        topic.kms_master_key_id = Some("arn:aws:kms:us-east-1:1:alias/aws/sns".into());
        assert!(topic.uses_aws_managed_key());
        topic.kms_master_key_id = Some("alias/onwatch".into());
        assert!(!topic.uses_aws_managed_key());
    }

    #[test]
    fn alarm_arns_are_built_in_the_partition_of_their_region() {
        let mut alarm: MetricAlarm = serde_json::from_value(serde_json::json!({
            "name": "cpu", "region": "us-gov-west-1", "account": "1", "evaluation_periods": 1,
            "comparison_operator": "GreaterThanThreshold"
        }))
        .unwrap();
        assert_eq!(alarm.arn(), "arn:aws-us-gov:cloudwatch:us-gov-west-1:1:alarm:cpu");
        alarm.region = "cn-north-1".into();
        assert_eq!(alarm.arn(), "arn:aws-cn:cloudwatch:cn-north-1:1:alarm:cpu");
        alarm.arn = Some("arn:aws:cloudwatch:us-east-1:1:alarm:as-reported".into());
        assert_eq!(alarm.arn(), "arn:aws:cloudwatch:us-east-1:1:alarm:as-reported");
    }
}
