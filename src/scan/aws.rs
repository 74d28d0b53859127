//! The adapter between the AWS SDK and onwatch: the only module that sees SDK types. Each method
//! reads one source of one account and region, paginating at the API's largest page size, and
//! returns onwatch's own inventory types. Any call that fails after the SDK's retries becomes an
//! [`Error::Scan`] naming the account, region and IAM action.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_autoscaling as autoscaling;
use aws_sdk_cloudtrail as cloudtrail;
use aws_sdk_cloudwatch as cloudwatch;
use aws_sdk_cloudwatchlogs as logs;
use aws_sdk_resourcegroupstagging as tagging;
use aws_sdk_sns as sns;
use aws_smithy_runtime_api::{client::result::SdkError, http::Response};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::{StreamExt, TryStreamExt};

use super::{calls::CallLog, discovery::Place, net};
use crate::{
    config::Catalog,
    error::{Error, Result},
    model::{
        AlarmState, ComparisonOperator, CompositeAlarm, Dashboard, Dimensions, LogMetricFilter, Metric, MetricAlarm, MetricQuery, MetricStat, MetricTransformation,
        Resource, SnsTopic, Statistic, Subscription, Trail, TreatMissingData,
    },
};

/// Largest page sizes the APIs accept (ListMetrics, ListDashboards, ListTopics and
/// ListSubscriptionsByTopic have fixed pages of 500, 1000, 100 and 100).
pub const TAGGING_PAGE_SIZE: i32 = 100;
/// Resource type filters one GetResources request takes at most.
pub const TAGGING_MAX_TYPE_FILTERS: usize = 100;
pub const ALARMS_PAGE_SIZE: i32 = 100;
pub const METRIC_FILTERS_PAGE_SIZE: i32 = 50;
pub const ALARM_HISTORY_PAGE_SIZE: i32 = 100;
pub const AUTO_SCALING_GROUPS_PAGE_SIZE: i32 = 100;
/// Requests in flight at once for per-item calls (GetDashboard, GetTopicAttributes, ...) in one region.
const PER_ITEM_CONCURRENCY: usize = 8;
/// A backstop against a service that hands out new tokens for ever.
const MAX_PAGES: usize = 100_000;

/// The SDK clients of one account and region.
#[derive(Debug, Clone)]
pub struct AwsClients {
    tagging: tagging::Client,
    cloudwatch: cloudwatch::Client,
    sns: sns::Client,
    cloudtrail: cloudtrail::Client,
    logs: logs::Client,
    autoscaling: autoscaling::Client,
}

impl AwsClients {
    /// Clients for the account and region of `config`, recording every call in `calls`, reading
    /// responses within [`net::ResponseLimit`].
    pub fn new(config: &aws_config::SdkConfig, calls: &CallLog) -> Self {
        macro_rules! client {
            ($service:ident) => {
                $service::Client::from_conf(
                    $service::config::Builder::from(config).interceptor(calls.interceptor()).interceptor(net::ResponseLimit::default()).build(),
                )
            };
        }
        AwsClients {
            tagging: client!(tagging),
            cloudwatch: client!(cloudwatch),
            sns: client!(sns),
            cloudtrail: client!(cloudtrail),
            logs: client!(logs),
            autoscaling: client!(autoscaling),
        }
    }

    /// Clients built elsewhere (tests build them on a mocked HTTP layer).
    pub fn from_clients(
        tagging: tagging::Client,
        cloudwatch: cloudwatch::Client,
        sns: sns::Client,
        cloudtrail: cloudtrail::Client,
        logs: logs::Client,
        autoscaling: autoscaling::Client,
    ) -> Self {
        AwsClients { tagging, cloudwatch, sns, cloudtrail, logs, autoscaling }
    }

    /// Every resource of the catalogue's types that the Resource Groups Tagging API lists (those
    /// tagged now or before), asked for with the types' `tagging_filter`s, then those of the types
    /// another API lists (`listed_by`). No call for a source no type names.
    pub async fn resources(&self, at: &Place, catalog: &Catalog) -> Result<Vec<Resource>> {
        let (mut resources, groups) = futures_util::future::try_join(self.tagged(at, catalog), self.auto_scaling_groups(at, catalog)).await?;
        resources.extend(groups);
        Ok(resources)
    }

    async fn tagged(&self, at: &Place, catalog: &Catalog) -> Result<Vec<Resource>> {
        const ACTION: &str = "tag:GetResources";
        let filters = catalog.tagging_filters();
        let mut resources = Vec::new();
        for chunk in filters.chunks(TAGGING_MAX_TYPE_FILTERS) {
            let chunk = chunk.iter().map(|filter| filter.to_string()).collect();
            let mut pages =
                self.tagging.get_resources().set_resource_type_filters(Some(chunk)).into_paginator().page_size(TAGGING_PAGE_SIZE).send();
            let mut tokens = Tokens::default();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| failed(at, ACTION, e))?;
                tokens.check(at, ACTION, page.pagination_token())?;
                for mapping in page.resource_tag_mapping_list() {
                    let Some(arn) = mapping.resource_arn() else { continue };
                    let parsed = crate::model::Arn::parse(arn);
                    let resource_type = super::arn::resource_type(catalog, arn).unwrap_or_else(|| "unknown:unknown".to_string());
                    let pick = |value: Option<&str>, default: &str| value.filter(|v| !v.is_empty()).unwrap_or(default).to_string();
                    resources.push(Resource {
                        arn: arn.to_string(),
                        resource_type,
                        region: pick(parsed.map(|a| a.region), &at.region),
                        account: pick(parsed.map(|a| a.account), &at.account),
                        tags: mapping.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                        attributes: BTreeMap::new(),
                        discovered_by: Default::default(),
                    });
                }
            }
        }
        Ok(resources)
    }

    /// Auto Scaling groups (not Tagging API resources), with their tags and capacities as
    /// attributes, when a catalogue type is `listed_by` DescribeAutoScalingGroups.
    async fn auto_scaling_groups(&self, at: &Place, catalog: &Catalog) -> Result<Vec<Resource>> {
        const ACTION: &str = "autoscaling:DescribeAutoScalingGroups";
        if !catalog.is_listed_by(ACTION) {
            return Ok(Vec::new());
        }
        let mut pages = self.autoscaling.describe_auto_scaling_groups().max_records(AUTO_SCALING_GROUPS_PAGE_SIZE).into_paginator().send();
        let mut tokens = Tokens::default();
        let mut resources = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for group in page.auto_scaling_groups() {
                let Some(arn) = group.auto_scaling_group_arn() else { continue };
                let Some(resource_type) = super::arn::resource_type(catalog, arn) else { continue };
                let capacities = [("DesiredCapacity", group.desired_capacity()), ("MinSize", group.min_size()), ("MaxSize", group.max_size())];
                resources.push(Resource {
                    arn: arn.to_string(),
                    resource_type,
                    region: at.region.clone(),
                    account: at.account.clone(),
                    tags: group.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect(),
                    attributes: capacities.into_iter().filter_map(|(name, value)| Some((name.to_string(), value?.to_string()))).collect(),
                    discovered_by: Default::default(),
                });
            }
        }
        Ok(resources)
    }

    /// Metric and composite alarms.
    pub async fn alarms(&self, at: &Place) -> Result<(Vec<MetricAlarm>, Vec<CompositeAlarm>)> {
        const ACTION: &str = "cloudwatch:DescribeAlarms";
        let mut pages = self
            .cloudwatch
            .describe_alarms()
            .alarm_types(cloudwatch::types::AlarmType::MetricAlarm)
            .alarm_types(cloudwatch::types::AlarmType::CompositeAlarm)
            .into_paginator()
            .page_size(ALARMS_PAGE_SIZE)
            .send();
        let mut tokens = Tokens::default();
        let (mut metric_alarms, mut composite_alarms) = (Vec::new(), Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for alarm in page.metric_alarms() {
                metric_alarms.push(metric_alarm(alarm, at)?);
            }
            for alarm in page.composite_alarms() {
                composite_alarms.push(CompositeAlarm {
                    name: alarm.alarm_name().unwrap_or_default().to_string(),
                    arn: alarm.alarm_arn().map(str::to_string),
                    region: at.region.clone(),
                    account: at.account.clone(),
                    alarm_rule: alarm.alarm_rule().unwrap_or_default().to_string(),
                    actions_enabled: alarm.actions_enabled().unwrap_or(true),
                    alarm_actions: alarm.alarm_actions().to_vec(),
                    ok_actions: alarm.ok_actions().to_vec(),
                    state: alarm.state_value().and_then(state),
                });
            }
        }
        Ok((metric_alarms, composite_alarms))
    }

    /// When each metric alarm changed state in the last `days` days (DescribeAlarmHistory,
    /// StateUpdate items, the whole region at once rather than one call per alarm), by alarm name.
    pub async fn alarm_history(&self, at: &Place, days: u32) -> Result<BTreeMap<String, Vec<String>>> {
        const ACTION: &str = "cloudwatch:DescribeAlarmHistory";
        let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
        let start = aws_smithy_types::DateTime::from_secs(now.secs() - i64::from(days) * 86_400);
        let mut pages = self
            .cloudwatch
            .describe_alarm_history()
            .history_item_type(cloudwatch::types::HistoryItemType::StateUpdate)
            .start_date(start)
            .end_date(now)
            .into_paginator()
            .page_size(ALARM_HISTORY_PAGE_SIZE)
            .send();
        let mut tokens = Tokens::default();
        let mut changes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for item in page.alarm_history_items() {
                if let (Some(name), Some(when)) = (item.alarm_name(), item.timestamp()) {
                    changes.entry(name.to_string()).or_default().push(rfc3339(when));
                }
            }
        }
        for times in changes.values_mut() {
            times.sort_unstable();
        }
        Ok(changes)
    }

    /// Every metric CloudWatch lists (those with data in the last two weeks), in every namespace.
    pub async fn metrics(&self, at: &Place) -> Result<Vec<Metric>> {
        const ACTION: &str = "cloudwatch:ListMetrics";
        let mut pages = self.cloudwatch.list_metrics().into_paginator().send();
        let mut tokens = Tokens::default();
        let mut metrics = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for metric in page.metrics() {
                let (Some(namespace), Some(metric_name)) = (metric.namespace(), metric.metric_name()) else { continue };
                metrics.push(Metric {
                    namespace: namespace.to_string(),
                    metric_name: metric_name.to_string(),
                    dimensions: dimensions(metric.dimensions()),
                    region: at.region.clone(),
                    account: at.account.clone(),
                });
            }
        }
        Ok(metrics)
    }

    /// Dashboards with their bodies.
    pub async fn dashboards(&self, at: &Place) -> Result<Vec<Dashboard>> {
        const ACTION: &str = "cloudwatch:ListDashboards";
        let mut pages = self.cloudwatch.list_dashboards().into_paginator().send();
        let mut tokens = Tokens::default();
        let mut entries = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for entry in page.dashboard_entries() {
                if let Some(name) = entry.dashboard_name() {
                    entries.push((name.to_string(), entry.dashboard_arn().map(str::to_string)));
                }
            }
        }
        futures_util::stream::iter(entries)
            .map(|(name, arn)| async move {
                let output = self
                    .cloudwatch
                    .get_dashboard()
                    .dashboard_name(&name)
                    .send()
                    .await
                    .map_err(|e| failed(at, "cloudwatch:GetDashboard", e))?;
                Ok::<_, Error>(Dashboard {
                    arn: arn.or_else(|| output.dashboard_arn().map(str::to_string)),
                    name,
                    region: at.region.clone(),
                    account: at.account.clone(),
                    body: output.dashboard_body().map(str::to_string),
                })
            })
            .buffer_unordered(PER_ITEM_CONCURRENCY)
            .try_collect()
            .await
    }

    /// SNS topics with their KMS key and subscriptions.
    pub async fn topics(&self, at: &Place) -> Result<Vec<SnsTopic>> {
        const ACTION: &str = "sns:ListTopics";
        let mut pages = self.sns.list_topics().into_paginator().send();
        let mut tokens = Tokens::default();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            arns.extend(page.topics().iter().filter_map(|t| t.topic_arn()).map(str::to_string));
        }
        futures_util::stream::iter(arns)
            .map(|arn| async move {
                let attributes = self
                    .sns
                    .get_topic_attributes()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| failed(at, "sns:GetTopicAttributes", e))?;
                let kms_master_key_id =
                    attributes.attributes().and_then(|a| a.get("KmsMasterKeyId")).filter(|k| !k.is_empty()).cloned();
                Ok::<_, Error>(SnsTopic {
                    subscriptions: self.subscriptions(at, &arn).await?,
                    arn,
                    region: at.region.clone(),
                    account: at.account.clone(),
                    kms_master_key_id,
                })
            })
            .buffer_unordered(PER_ITEM_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Trails this account sees, shadow copies of multi-region and organization trails included,
    /// each with its logging status.
    pub async fn trails(&self, at: &Place) -> Result<Vec<Trail>> {
        let listed = self
            .cloudtrail
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| failed(at, "cloudtrail:DescribeTrails", e))?;
        futures_util::stream::iter(listed.trail_list().to_vec())
            .map(|trail| async move {
                let arn = trail.trail_arn().unwrap_or_default().to_string();
                // By ARN: a shadow trail's status can only be read that way.
                let status = self
                    .cloudtrail
                    .get_trail_status()
                    .name(&arn)
                    .send()
                    .await
                    .map_err(|e| failed(at, "cloudtrail:GetTrailStatus", e))?;
                Ok::<_, Error>(Trail {
                    name: trail.name().unwrap_or_default().to_string(),
                    account: at.account.clone(),
                    home_region: trail.home_region().unwrap_or(&at.region).to_string(),
                    multi_region: trail.is_multi_region_trail().unwrap_or(false),
                    organization: trail.is_organization_trail().unwrap_or(false),
                    log_group_arn: trail.cloud_watch_logs_log_group_arn().filter(|a| !a.is_empty()).map(str::to_string),
                    logging: status.is_logging().unwrap_or(false),
                    arn,
                })
            })
            .buffer_unordered(PER_ITEM_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Every CloudWatch Logs metric filter in the region.
    pub async fn metric_filters(&self, at: &Place) -> Result<Vec<LogMetricFilter>> {
        const ACTION: &str = "logs:DescribeMetricFilters";
        let mut pages = self.logs.describe_metric_filters().into_paginator().page_size(METRIC_FILTERS_PAGE_SIZE).send();
        let mut tokens = Tokens::default();
        let mut filters = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for filter in page.metric_filters() {
                filters.push(LogMetricFilter {
                    name: filter.filter_name().unwrap_or_default().to_string(),
                    log_group: filter.log_group_name().unwrap_or_default().to_string(),
                    pattern: filter.filter_pattern().unwrap_or_default().to_string(),
                    region: at.region.clone(),
                    account: at.account.clone(),
                    metrics: filter
                        .metric_transformations()
                        .iter()
                        .map(|m| MetricTransformation { namespace: m.metric_namespace().to_string(), name: m.metric_name().to_string() })
                        .collect(),
                });
            }
        }
        Ok(filters)
    }

    async fn subscriptions(&self, at: &Place, topic_arn: &str) -> Result<Vec<Subscription>> {
        const ACTION: &str = "sns:ListSubscriptionsByTopic";
        let mut pages = self.sns.list_subscriptions_by_topic().topic_arn(topic_arn).into_paginator().send();
        let mut tokens = Tokens::default();
        let mut subscriptions = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(at, ACTION, e))?;
            tokens.check(at, ACTION, page.next_token())?;
            for subscription in page.subscriptions() {
                subscriptions.push(Subscription {
                    protocol: subscription.protocol().unwrap_or_default().to_string(),
                    endpoint: subscription.endpoint().unwrap_or_default().to_string(),
                    // A pending subscription's ARN is the text "PendingConfirmation".
                    confirmed: subscription.subscription_arn().is_some_and(|arn| arn.starts_with("arn:")),
                });
            }
        }
        subscriptions.sort_by(|a, b| (&a.protocol, &a.endpoint, a.confirmed).cmp(&(&b.protocol, &b.endpoint, b.confirmed)));
        Ok(subscriptions)
    }
}

/// The account, partition and ARN of the caller, from STS GetCallerIdentity.
pub async fn caller_identity(config: &aws_config::SdkConfig, calls: &CallLog, label: &Place) -> Result<(String, String)> {
    let client = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config).interceptor(calls.interceptor()).interceptor(net::ResponseLimit::default()).build(),
    );
    let identity = client.get_caller_identity().send().await.map_err(|e| failed(label, "sts:GetCallerIdentity", e))?;
    let account = identity.account().unwrap_or_default().to_string();
    let partition = identity
        .arn()
        .and_then(crate::model::Arn::parse)
        .map(|arn| arn.partition.to_string())
        .unwrap_or_else(|| "aws".to_string());
    if account.is_empty() {
        return Err(scan_error(label, "sts:GetCallerIdentity", "the response names no account".to_string()));
    }
    Ok((account, partition))
}

/// Pagination tokens seen so far in one listing: a token handed out twice means the listing
/// would loop, and a listing past `max_pages` pages does not end; either fails the listing
/// rather than hanging it or silently cutting it short. Also the audit reader's.
pub(crate) struct Tokens {
    /// What the API calls its token, for messages (`pagination token`, `LastEvaluatedKey`).
    name: &'static str,
    max_pages: usize,
    seen: HashSet<String>,
    pages: usize,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens::new("pagination token", MAX_PAGES)
    }
}

impl Tokens {
    pub(crate) fn new(name: &'static str, max_pages: usize) -> Self {
        Tokens { name, max_pages, seen: HashSet::new(), pages: 0 }
    }

    /// Pages recorded so far.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// Records one page and the token it handed out; the message says why the listing stops.
    pub(crate) fn page(&mut self, next: Option<&str>) -> Result<(), String> {
        self.pages += 1;
        if let Some(token) = next.filter(|t| !t.is_empty()) {
            if !self.seen.insert(token.to_string()) {
                return Err(format!(
                    "page {} returned {} {} a second time; the listing would loop, so it stops",
                    self.pages,
                    self.name,
                    net::excerpt(&format!("{token:?}"))
                ));
            }
            if self.pages >= self.max_pages {
                return Err(format!("more than {} pages; the listing does not end", self.max_pages));
            }
        }
        Ok(())
    }

    fn check(&mut self, at: &Place, action: &str, next: Option<&str>) -> Result<()> {
        self.page(next).map_err(|message| scan_error(at, action, message))
    }
}

fn scan_error(at: &Place, action: &str, message: String) -> Error {
    Error::Scan { account: at.account.clone(), region: at.region.clone(), action: action.to_string(), message }
}

/// An SDK error as a scan error, with a hint for the failures people can fix.
fn failed<E>(at: &Place, action: &str, error: SdkError<E, Response>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    scan_error(at, action, describe_error(action, error))
}

/// An SDK error's message, led by a hint for the failures people can fix. The cause is the
/// error's chain of messages, the HTTP status and, for a response that is not an AWS error,
/// an excerpt of its body: one line of at most [`net::MAX_EXCERPT_CHARS`] characters each, never
/// the raw response.
pub(crate) fn describe_error<E>(action: &str, error: SdkError<E, Response>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut message = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(error) = cause {
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&error.to_string());
        cause = error.source();
    }
    let mut message = net::excerpt(&message);
    if let Some(response) = error.raw_response() {
        message.push_str(&format!(" (HTTP {})", response.status().as_u16()));
        let body = response.body().bytes().map(String::from_utf8_lossy).filter(|b| !b.trim().is_empty());
        if let Some(body) = body.filter(|_| error.code().is_none()) {
            message.push_str(&format!("; response body: {}", net::excerpt(&body)));
        }
    }
    let hint = match error.code() {
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired") => Some(
            "the AWS credentials have expired: refresh them (for example `aws sso login`, or a new session token) and scan again".to_string(),
        ),
        Some("InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidSignatureException" | "SignatureDoesNotMatch" | "AuthFailure") => {
            Some("the AWS credentials are not valid here (an opt-in region that the account has not enabled answers this way too)".to_string())
        }
        Some("AccessDenied" | "AccessDeniedException" | "AuthorizationError" | "UnauthorizedOperation") => {
            Some(format!("the credentials lack {action}: grant the policy that `onwatch iam-policy` prints"))
        }
        _ if matches!(&error, SdkError::TimeoutError(_)) || matches!(&error, SdkError::DispatchFailure(f) if f.is_timeout()) => {
            Some("no answer in time: the endpoint is unreachable, stalled or too slow (`--timeout SECONDS` sets the bound on each call)".to_string())
        }
        _ => None,
    };
    if let Some(hint) = hint {
        message = format!("{hint}\n  cause: {message}");
    }
    message
}

fn dimensions(dimensions: &[cloudwatch::types::Dimension]) -> Dimensions {
    dimensions.iter().filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string()))).collect()
}

fn state(value: &cloudwatch::types::StateValue) -> Option<AlarmState> {
    use cloudwatch::types::StateValue::*;
    match value {
        Ok => Some(AlarmState::Ok),
        Alarm => Some(AlarmState::Alarm),
        InsufficientData => Some(AlarmState::InsufficientData),
        _ => None,
    }
}

fn metric_alarm(alarm: &cloudwatch::types::MetricAlarm, at: &Place) -> Result<MetricAlarm> {
    use cloudwatch::types::{ComparisonOperator as Op, Statistic as Stat};
    let name = alarm.alarm_name().unwrap_or_default().to_string();
    let unsupported = |what: &str, value: &str| {
        scan_error(at, "cloudwatch:DescribeAlarms", format!("alarm {name:?} has {what} {value:?}, which this onwatch does not know"))
    };
    let comparison_operator = match alarm.comparison_operator() {
        Some(Op::GreaterThanOrEqualToThreshold) => ComparisonOperator::GreaterThanOrEqualToThreshold,
        Some(Op::GreaterThanThreshold) => ComparisonOperator::GreaterThanThreshold,
        Some(Op::LessThanThreshold) => ComparisonOperator::LessThanThreshold,
        Some(Op::LessThanOrEqualToThreshold) => ComparisonOperator::LessThanOrEqualToThreshold,
        Some(Op::LessThanLowerOrGreaterThanUpperThreshold) => ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold,
        Some(Op::LessThanLowerThreshold) => ComparisonOperator::LessThanLowerThreshold,
        Some(Op::GreaterThanUpperThreshold) => ComparisonOperator::GreaterThanUpperThreshold,
        Some(other) => return Err(unsupported("comparison operator", other.as_str())),
        None => return Err(unsupported("comparison operator", "")),
    };
    let statistic = match alarm.statistic() {
        None => None,
        Some(Stat::Average) => Some(Statistic::Average),
        Some(Stat::Sum) => Some(Statistic::Sum),
        Some(Stat::Minimum) => Some(Statistic::Minimum),
        Some(Stat::Maximum) => Some(Statistic::Maximum),
        Some(Stat::SampleCount) => Some(Statistic::SampleCount),
        Some(other) => return Err(unsupported("statistic", other.as_str())),
    };
    let treat_missing_data = match alarm.treat_missing_data() {
        None => None,
        Some("breaching") => Some(TreatMissingData::Breaching),
        Some("notBreaching") => Some(TreatMissingData::NotBreaching),
        Some("ignore") => Some(TreatMissingData::Ignore),
        Some("missing") => Some(TreatMissingData::Missing),
        Some(other) => return Err(unsupported("TreatMissingData", other)),
    };
    let count = |value: Option<i32>| value.and_then(|v| u32::try_from(v).ok());
    Ok(MetricAlarm {
        arn: alarm.alarm_arn().map(str::to_string),
        region: at.region.clone(),
        account: at.account.clone(),
        description: alarm.alarm_description().filter(|d| !d.is_empty()).map(str::to_string),
        namespace: alarm.namespace().map(str::to_string),
        metric_name: alarm.metric_name().map(str::to_string),
        dimensions: dimensions(alarm.dimensions()),
        statistic,
        extended_statistic: alarm.extended_statistic().map(str::to_string),
        period: count(alarm.period()),
        evaluation_periods: count(alarm.evaluation_periods()).unwrap_or(1),
        datapoints_to_alarm: count(alarm.datapoints_to_alarm()),
        comparison_operator,
        threshold: alarm.threshold(),
        treat_missing_data,
        actions_enabled: alarm.actions_enabled().unwrap_or(true),
        alarm_actions: alarm.alarm_actions().to_vec(),
        ok_actions: alarm.ok_actions().to_vec(),
        insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
        state: alarm.state_value().and_then(state),
        state_updated_at: alarm.state_updated_timestamp().map(rfc3339),
        state_changes: None,
        metrics: alarm.metrics().iter().map(metric_query).collect(),
        threshold_metric_id: alarm.threshold_metric_id().map(str::to_string),
        name,
    })
}

/// A timestamp as RFC 3339 UTC to the second (`2026-12-03T18:00:00Z`), so it sorts as text.
fn rfc3339(when: &aws_smithy_types::DateTime) -> String {
    aws_smithy_types::DateTime::from_secs(when.secs()).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default()
}

/// One account as AWS Organizations lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...
    pub status: String,
    /// From the account's ARN (`arn:aws:organizations::...`).
    pub partition: String,
}

/// The organisation's accounts, with the caller's credentials: every account (ListAccounts), or
/// those under each of `parents` and their child OUs, recursively (ListAccountsForParent,
/// ListOrganizationalUnitsForParent). Sorted by id, each once.
pub async fn organization_accounts(config: &aws_config::SdkConfig, calls: &CallLog, label: &Place, parents: &[String]) -> Result<Vec<OrganizationAccount>> {
    use aws_sdk_organizations as org;
    let client = org::Client::from_conf(
        org::config::Builder::from(config).interceptor(calls.interceptor()).interceptor(net::ResponseLimit::default()).build(),
    );
    let mut accounts = Vec::new();
    if parents.is_empty() {
        const ACTION: &str = "organizations:ListAccounts";
        let mut pages = client.list_accounts().into_paginator().send();
        let mut tokens = Tokens::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(label, ACTION, e))?;
            tokens.check(label, ACTION, page.next_token())?;
            accounts.extend(page.accounts().iter().map(organization_account));
        }
    }
    let mut queue: Vec<String> = parents.to_vec();
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(parent) = queue.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        const ACCOUNTS: &str = "organizations:ListAccountsForParent";
        let mut pages = client.list_accounts_for_parent().parent_id(&parent).into_paginator().send();
        let mut tokens = Tokens::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(label, ACCOUNTS, e))?;
            tokens.check(label, ACCOUNTS, page.next_token())?;
            accounts.extend(page.accounts().iter().map(organization_account));
        }
        const UNITS: &str = "organizations:ListOrganizationalUnitsForParent";
        let mut pages = client.list_organizational_units_for_parent().parent_id(&parent).into_paginator().send();
        let mut tokens = Tokens::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(label, UNITS, e))?;
            tokens.check(label, UNITS, page.next_token())?;
            queue.extend(page.organizational_units().iter().filter_map(|unit| unit.id().map(str::to_string)));
        }
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    Ok(accounts)
}

#[allow(deprecated)] // `status` is what every partition answers today; `state` is newer.
fn organization_account(account: &aws_sdk_organizations::types::Account) -> OrganizationAccount {
    OrganizationAccount {
        id: account.id().unwrap_or_default().to_string(),
        name: account.name().unwrap_or_default().to_string(),
        status: account.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        partition: account.arn().and_then(crate::model::Arn::parse).map_or_else(|| "aws".to_string(), |arn| arn.partition.to_string()),
    }
}

/// Temporary credentials for `role_arn`, from STS AssumeRole with the caller's configuration;
/// a refusal (the role is missing, or does not trust the caller) names the account it was for.
pub async fn assume_role(
    config: &aws_config::SdkConfig,
    calls: &CallLog,
    label: &Place,
    role_arn: &str,
) -> Result<aws_credential_types::Credentials> {
    const ACTION: &str = "sts:AssumeRole";
    let client = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config).interceptor(calls.interceptor()).interceptor(net::ResponseLimit::default()).build(),
    );
    let output = client.assume_role().role_arn(role_arn).role_session_name("onwatch-scan").send().await.map_err(|e| {
        let message = describe_error(ACTION, e);
        scan_error(label, ACTION, format!("cannot assume {role_arn} (the role is missing in that account, or does not trust the caller): {message}"))
    })?;
    let Some(credentials) = output.credentials() else {
        return Err(scan_error(label, ACTION, format!("the response for {role_arn} holds no credentials")));
    };
    let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();
    Ok(aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        expiry,
        "onwatch-organization",
    ))
}

/// One of a metric-math or anomaly alarm's queries, as DescribeAlarms returns it.
fn metric_query(query: &cloudwatch::types::MetricDataQuery) -> MetricQuery {
    let metric = query.metric_stat().and_then(|stat| {
        let metric = stat.metric()?;
        Some(MetricStat {
            namespace: metric.namespace()?.to_string(),
            metric_name: metric.metric_name()?.to_string(),
            dimensions: dimensions(metric.dimensions()),
            period: stat.period().and_then(|p| u32::try_from(p).ok()).unwrap_or_default(),
            stat: stat.stat()?.to_string(),
        })
    });
    MetricQuery {
        id: query.id().unwrap_or_default().to_string(),
        expression: query.expression().map(str::to_string),
        metric,
        return_data: query.return_data().unwrap_or(true),
    }
}
