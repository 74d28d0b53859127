//! Faults and page sizes, through the real SDK clients on a mocked HTTP layer (aws-smithy-mocks):
//! throttling, server errors, pagination that would loop, expired credentials, and the number of
//! calls a scan makes.
//!
//! The SDK's `test-util` features and aws-smithy-mocks are dev-dependencies of onwatch: they reach
//! test builds only (resolver 2), where they also turn on serde_json's `preserve_order`. onwatch's
//! written JSON and Terraform do not depend on it (`onwatch::json::sorted`), which the snapshot and
//! golden-file tests of this same binary check.

use std::{future::Future, time::Duration};

use aws_sdk_autoscaling as autoscaling;
use aws_sdk_cloudtrail as cloudtrail;
use aws_sdk_cloudwatch as cloudwatch;
use aws_sdk_cloudwatchlogs as logs;
use aws_sdk_resourcegroupstagging as tagging;
use aws_sdk_sns as sns;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use onwatch::{
    model::Inventory,
    scan::{scan_targets, scan_targets_allowing_failures, AwsClients, CallLog, Place, Target},
    Error,
};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";

fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // No hang: every scenario here finishes in seconds or fails.
    runtime.block_on(async { tokio::time::timeout(Duration::from_secs(60), future).await.expect("the scan hung") })
}

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny), |i, rule| i.with_rule(rule))
}

/// The scanner's own retry policy, with short backoffs so the tests stay fast.
fn retries() -> aws_smithy_types::retry::RetryConfig {
    onwatch::scan::retry_config().with_initial_backoff(Duration::from_millis(1)).with_max_backoff(Duration::from_millis(20))
}

/// Empty answers for every listing, after the rules a test cares about (the first match wins).
fn defaults() -> Vec<Rule> {
    vec![
        mock!(tagging::Client::get_resources).then_output(|| tagging::operation::get_resources::GetResourcesOutput::builder().build()),
        mock!(cloudwatch::Client::describe_alarms).then_output(|| cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder().build()),
        mock!(cloudwatch::Client::list_metrics).then_output(|| cloudwatch::operation::list_metrics::ListMetricsOutput::builder().build()),
        mock!(cloudwatch::Client::list_dashboards).then_output(|| cloudwatch::operation::list_dashboards::ListDashboardsOutput::builder().build()),
        mock!(sns::Client::list_topics).then_output(|| sns::operation::list_topics::ListTopicsOutput::builder().build()),
        mock!(cloudtrail::Client::describe_trails).then_output(|| cloudtrail::operation::describe_trails::DescribeTrailsOutput::builder().build()),
        mock!(logs::Client::describe_metric_filters)
            .then_output(|| logs::operation::describe_metric_filters::DescribeMetricFiltersOutput::builder().build()),
        mock!(autoscaling::Client::describe_auto_scaling_groups)
            .then_output(|| autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput::builder().build()),
    ]
}

/// Clients whose every call is answered by the first matching rule of `rules`, then by [`defaults`].
fn clients(rules: &[&Rule], calls: &CallLog) -> AwsClients {
    let defaults = defaults();
    let mut all: Vec<&Rule> = rules.to_vec();
    all.extend(defaults.iter());
    let time = aws_smithy_async::time::SharedTimeSource::new(aws_smithy_async::time::SystemTimeSource::new());
    // The same mocked HTTP layer, interceptors, retries and clock for every service's client.
    macro_rules! client {
        ($service:ident) => {
            $service::Client::from_conf(
                $service::Config::builder()
                    .with_test_defaults()
                    .region($service::config::Region::new(REGION))
                    .http_client(create_mock_http_client())
                    .interceptor(interceptor(&all))
                    .interceptor(calls.interceptor())
                    .retry_config(retries())
                    .time_source(time.clone())
                    .build(),
            )
        };
    }
    AwsClients::from_clients(client!(tagging), client!(cloudwatch), client!(sns), client!(cloudtrail), client!(logs), client!(autoscaling))
}

fn scan(rules: &[&Rule], calls: &CallLog) -> Result<Inventory, Error> {
    let place = Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    let target = Target { place, clients: clients(rules, calls), account_wide: true, alarm_history_days: None };
    let catalog = onwatch::config::load_catalog(None).unwrap();
    block_on(scan_targets(vec![target], &catalog, 4, false))
}

fn resources_page(arns: &[String], token: Option<&str>) -> tagging::operation::get_resources::GetResourcesOutput {
    let mappings = arns.iter().map(|arn| {
        tagging::types::ResourceTagMapping::builder()
            .resource_arn(arn)
            .tags(tagging::types::Tag::builder().key("team").value("shop").build().unwrap())
            .build()
    });
    tagging::operation::get_resources::GetResourcesOutput::builder()
        .set_resource_tag_mapping_list(Some(mappings.collect()))
        .set_pagination_token(token.map(str::to_string))
        .build()
}

fn queue_arns(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("arn:aws:sqs:{REGION}:{ACCOUNT}:queue-{n:05}")).collect()
}

fn json_error(code: &str, message: &str) -> String {
    format!(r#"{{"__type":"{code}","message":"{message}"}}"#)
}

/// The IAM action and message of a failed call, of the scanner or of the audit reader.
fn call_error<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, String) {
    match result {
        Err(error @ (Error::Scan { .. } | Error::Audit { .. })) => {
            let (Error::Scan { action, .. } | Error::Audit { action, .. }) = &error else { unreachable!() };
            (action.clone(), error.to_string())
        }
        other => panic!("expected a scan or audit error, got {other:?}"),
    }
}

#[test]
fn throttled_calls_are_retried_and_give_the_same_result() {
    let page = || resources_page(&queue_arns(0..3), None);
    let calm = mock!(tagging::Client::get_resources).then_output(page);
    let expected = scan(&[&calm], &CallLog::new()).unwrap();

    let throttled = mock!(tagging::Client::get_resources)
        .sequence()
        .http_status(400, Some(json_error("ThrottlingException", "Rate exceeded")))
        .times(2)
        .output(page)
        .build();
    let calls = CallLog::new();
    let inventory = scan(&[&throttled], &calls).unwrap();
    assert_eq!(inventory.resources, expected.resources);
    assert_eq!(inventory.resources.len(), 3);
    let counts = calls.counts();
    let get_resources = counts[&("Resource Groups Tagging API".to_string(), "GetResources".to_string())];
    assert_eq!((get_resources.executions, get_resources.attempts), (1, 3), "two throttled attempts, then success");
}

#[test]
fn a_persistent_server_error_fails_the_scan_naming_the_call() {
    let broken = mock!(cloudwatch::Client::describe_alarms).sequence().http_status(500, None).repeatedly().build();
    let calls = CallLog::new();
    let (action, message) = call_error(scan(&[&broken], &calls));
    assert_eq!(action, "cloudwatch:DescribeAlarms");
    assert!(message.starts_with("scan failed: cloudwatch:DescribeAlarms in 123456789012/eu-west-1: "), "{message}");
    assert!(message.contains("500"), "the SDK's error is shown: {message}");
    let counts = calls.counts();
    let attempts = counts[&("CloudWatch".to_string(), "DescribeAlarms".to_string())].attempts;
    assert_eq!(attempts, 6, "retried up to the configured maximum, then given up");
}

#[test]
fn throttled_past_retries_is_a_failed_scope_when_partial_is_allowed() {
    let throttled = mock!(tagging::Client::get_resources)
        .sequence()
        .http_status(400, Some(json_error("ThrottlingException", "Rate exceeded")))
        .repeatedly()
        .build();
    let calm_arns: Vec<String> = (0..2).map(|n| format!("arn:aws:sqs:us-east-1:{ACCOUNT}:calm-{n}")).collect();
    let calm = mock!(tagging::Client::get_resources).then_output(move || resources_page(&calm_arns, None));
    let calls = CallLog::new();
    let place = |region: &str| Place { partition: "aws".into(), account: ACCOUNT.into(), region: region.into() };
    let targets = vec![
        Target { place: place(REGION), clients: clients(&[&throttled], &calls), account_wide: true, alarm_history_days: None },
        Target { place: place("us-east-1"), clients: clients(&[&calm], &calls), account_wide: false, alarm_history_days: None },
    ];
    let catalog = onwatch::config::load_catalog(None).unwrap();
    let inventory = block_on(scan_targets_allowing_failures(targets, &catalog, 4, false));
    assert_eq!(inventory.scopes.len(), 2);
    let failed = inventory.scopes.iter().find(|s| s.region == REGION).unwrap();
    let why = failed.failed.as_deref().expect("the throttled region is a failed scope");
    assert!(why.contains("tag:GetResources") && why.contains("ThrottlingException"), "{why}");
    let read = inventory.scopes.iter().find(|s| s.region == "us-east-1").unwrap();
    assert_eq!(read.failed, None);
    // The failed scope holds nothing; the other one holds what it read.
    assert!(inventory.resources.iter().all(|r| r.region != REGION));
    assert_eq!(inventory.resources.len(), 2, "{:?}", inventory.resources);
    let attempts = calls.counts()[&("Resource Groups Tagging API".to_string(), "GetResources".to_string())].attempts;
    assert_eq!(attempts, 6 + 1, "the throttled region retried up to the maximum, the other read once: {why}");
}

#[test]
fn a_pagination_token_handed_out_twice_fails_instead_of_looping() {
    // The same token for ever.
    let stuck = mock!(tagging::Client::get_resources).then_compute_output(|_| resources_page(&queue_arns(0..1), Some("again")));
    let (action, message) = call_error(scan(&[&stuck], &CallLog::new()));
    assert_eq!(action, "tag:GetResources");
    assert!(message.contains("pagination token \"again\" a second time"), "{message}");

    // A longer cycle: a, b, a, ...
    let cycle = mock!(cloudwatch::Client::list_metrics).then_compute_output(|input| {
        let next = if input.next_token() == Some("a") { "b" } else { "a" };
        cloudwatch::operation::list_metrics::ListMetricsOutput::builder().next_token(next).build()
    });
    let calls = CallLog::new();
    let (action, message) = call_error(scan(&[&cycle], &calls));
    assert_eq!(action, "cloudwatch:ListMetrics");
    assert!(message.contains("a second time"), "{message}");
    assert_eq!(calls.executions("cloudwatch:ListMetrics"), 3);
}

#[test]
fn empty_pages_are_followed_to_the_end() {
    let pages = mock!(tagging::Client::get_resources).then_compute_output(|input| match input.pagination_token() {
        None => resources_page(&[], Some("1")),
        Some("1") => resources_page(&[], Some("2")),
        Some("2") => resources_page(&queue_arns(0..2), Some("")),
        Some(other) => panic!("unexpected token {other}"),
    });
    let calls = CallLog::new();
    let inventory = scan(&[&pages], &calls).unwrap();
    assert_eq!(inventory.resources.len(), 2);
    assert_eq!(calls.executions("tag:GetResources"), 3);
}

#[test]
fn expired_credentials_are_named_as_such() {
    let expired = mock!(tagging::Client::get_resources)
        .then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(json_error("ExpiredTokenException", "The security token included in the request is expired")),
            )
        });
    let calls = CallLog::new();
    let (action, message) = call_error(scan(&[&expired], &calls));
    assert_eq!(action, "tag:GetResources");
    assert!(message.contains("the AWS credentials have expired: refresh them"), "{message}");
    assert!(message.contains("ExpiredTokenException"), "the cause is kept: {message}");
    assert_eq!(calls.executions("tag:GetResources"), 1);
}

/// API calls per 1,000 resources and per 1,000 alarms stay at the pagination minimum: the scanner
/// asks for the largest page each API allows, and the mocks honour the page size asked for.
#[test]
fn calls_stay_at_the_pagination_minimum() {
    const N: usize = 1000;
    let resources = mock!(tagging::Client::get_resources).then_compute_output(|input| {
        let size = input.resources_per_page().unwrap_or(50) as usize;
        let start: usize = input.pagination_token().map_or(0, |t| t.parse().unwrap());
        let end = (start + size).min(N);
        resources_page(&queue_arns(start..end), (end < N).then(|| end.to_string()).as_deref())
    });
    let alarms = mock!(cloudwatch::Client::describe_alarms).then_compute_output(|input| {
        assert_eq!(input.alarm_types(), [cloudwatch::types::AlarmType::MetricAlarm, cloudwatch::types::AlarmType::CompositeAlarm]);
        let size = input.max_records().unwrap_or(50) as usize;
        let start: usize = input.next_token().map_or(0, |t| t.parse().unwrap());
        let end = (start + size).min(N);
        let page = (start..end).map(|n| {
            cloudwatch::types::MetricAlarm::builder()
                .alarm_name(format!("alarm-{n:05}"))
                .namespace("AWS/SQS")
                .metric_name("ApproximateAgeOfOldestMessage")
                .dimensions(cloudwatch::types::Dimension::builder().name("QueueName").value(format!("queue-{n:05}")).build())
                .statistic(cloudwatch::types::Statistic::Maximum)
                .period(60)
                .evaluation_periods(15)
                .comparison_operator(cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
                .threshold(900.0)
                .build()
        });
        cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder()
            .set_metric_alarms(Some(page.collect()))
            .set_next_token((end < N).then(|| end.to_string()))
            .build()
    });
    // ListMetrics pages hold 500 metrics, a size no request can change.
    let metrics = mock!(cloudwatch::Client::list_metrics).then_compute_output(|input| {
        let start: usize = input.next_token().map_or(0, |t| t.parse().unwrap());
        let end = (start + 500).min(N);
        let page = (start..end).map(|n| {
            cloudwatch::types::Metric::builder()
                .namespace("AWS/SQS")
                .metric_name("ApproximateAgeOfOldestMessage")
                .dimensions(cloudwatch::types::Dimension::builder().name("QueueName").value(format!("queue-{n:05}")).build())
                .build()
        });
        cloudwatch::operation::list_metrics::ListMetricsOutput::builder()
            .set_metrics(Some(page.collect()))
            .set_next_token((end < N).then(|| end.to_string()))
            .build()
    });
    let calls = CallLog::new();
    let inventory = scan(&[&resources, &alarms, &metrics], &calls).unwrap();
    assert_eq!((inventory.resources.len(), inventory.alarms.len(), inventory.metrics.len()), (N, N, N));
    assert_eq!(calls.executions("tag:GetResources"), 10, "1,000 resources: 10 pages of 100");
    assert_eq!(calls.executions("cloudwatch:DescribeAlarms"), 10, "1,000 alarms: 10 pages of 100");
    assert_eq!(calls.executions("cloudwatch:ListMetrics"), 2, "1,000 metrics: 2 pages of 500");
    assert_eq!(calls.total(), 10 + 10 + 2 + 1 + 1 + 1 + 1 + 1, "plus one ListDashboards, ListTopics, DescribeTrails, DescribeMetricFilters and DescribeAutoScalingGroups");
}

#[test]
fn pending_subscriptions_are_unconfirmed_and_topics_keep_their_key() {
    let topic_arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts");
    let topics = {
        let topic_arn = topic_arn.clone();
        mock!(sns::Client::list_topics).then_output(move || {
            sns::operation::list_topics::ListTopicsOutput::builder().topics(sns::types::Topic::builder().topic_arn(&topic_arn).build()).build()
        })
    };
    let attributes = mock!(sns::Client::get_topic_attributes).then_output(|| {
        sns::operation::get_topic_attributes::GetTopicAttributesOutput::builder().attributes("KmsMasterKeyId", "alias/aws/sns").build()
    });
    let subscriptions = mock!(sns::Client::list_subscriptions_by_topic).then_output(|| {
        let subscription = |arn: &str, endpoint: &str| sns::types::Subscription::builder().subscription_arn(arn).protocol("email").endpoint(endpoint).build();
        sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicOutput::builder()
            .subscriptions(subscription("PendingConfirmation", "b@example.com"))
            .subscriptions(subscription("arn:aws:sns:eu-west-1:123456789012:alerts:1", "a@example.com"))
            .build()
    });
    let inventory = scan(&[&topics, &attributes, &subscriptions], &CallLog::new()).unwrap();
    let topic = &inventory.sns_topics[0];
    assert_eq!(topic.arn, topic_arn);
    assert!(topic.uses_aws_managed_key());
    let states: Vec<(&str, bool)> = topic.subscriptions.iter().map(|s| (s.endpoint.as_str(), s.confirmed)).collect();
    assert_eq!(states, [("a@example.com", true), ("b@example.com", false)]);
}

#[test]
fn metric_filters_are_read_at_the_largest_page_and_trails_with_their_status() {
    const N: usize = 1000;
    let filters = mock!(logs::Client::describe_metric_filters).then_compute_output(|input| {
        let start: usize = input.next_token().map_or(0, |t| t.parse().unwrap());
        let size = input.limit().unwrap() as usize;
        let page = (start..(start + size).min(N)).map(|n| {
            logs::types::MetricFilter::builder()
                .filter_name(format!("filter-{n:04}"))
                .log_group_name("aws-cloudtrail-logs")
                .filter_pattern("{ $.eventName = \"ConsoleLogin\" }")
                .metric_transformations(
                    logs::types::MetricTransformation::builder().metric_name(format!("m{n}")).metric_namespace("CISBenchmark").metric_value("1").build().unwrap(),
                )
                .build()
        });
        let next = (start + size < N).then(|| (start + size).to_string());
        logs::operation::describe_metric_filters::DescribeMetricFiltersOutput::builder().set_metric_filters(Some(page.collect())).set_next_token(next).build()
    });
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-audit");
    let trails = {
        let trail_arn = trail_arn.clone();
        mock!(cloudtrail::Client::describe_trails).then_output(move || {
            // A multi-region trail of another region, as every region lists it (a shadow trail).
            cloudtrail::operation::describe_trails::DescribeTrailsOutput::builder()
                .trail_list(
                    cloudtrail::types::Trail::builder()
                        .name("org-audit")
                        .trail_arn(&trail_arn)
                        .home_region("us-east-1")
                        .is_multi_region_trail(true)
                        .is_organization_trail(true)
                        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-cloudtrail-logs:*"))
                        .build(),
                )
                .build()
        })
    };
    let status = mock!(cloudtrail::Client::get_trail_status)
        .match_requests(move |input| input.name() == Some(trail_arn.as_str()))
        .then_output(|| cloudtrail::operation::get_trail_status::GetTrailStatusOutput::builder().is_logging(false).build());
    let calls = CallLog::new();
    let inventory = scan(&[&filters, &trails, &status], &calls).unwrap();
    assert_eq!(inventory.log_metric_filters.len(), N);
    assert_eq!(inventory.log_metric_filters[7].metrics[0].name, "m7");
    assert_eq!(calls.executions("logs:DescribeMetricFilters"), 20, "1,000 filters: 20 pages of 50");
    let trail = &inventory.trails[0];
    assert_eq!((trail.home_region.as_str(), trail.multi_region, trail.organization, trail.logging), ("us-east-1", true, true, false));
    assert_eq!(trail.log_group_name(), Some("aws-cloudtrail-logs"));
    assert_eq!(calls.executions("cloudtrail:GetTrailStatus"), 1, "by ARN, once per trail");

    // A trail whose status cannot be read fails the scan, naming the call.
    let broken = mock!(cloudtrail::Client::get_trail_status).sequence().http_status(500, None).repeatedly().build();
    let with_trail = mock!(cloudtrail::Client::describe_trails).then_output(|| {
        cloudtrail::operation::describe_trails::DescribeTrailsOutput::builder()
            .trail_list(cloudtrail::types::Trail::builder().name("t").trail_arn("arn:aws:cloudtrail:eu-west-1:123456789012:trail/t").build())
            .build()
    });
    let (action, message) = call_error(scan(&[&with_trail, &broken], &CallLog::new()));
    assert_eq!(action, "cloudtrail:GetTrailStatus");
    assert!(message.contains("123456789012/eu-west-1"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// The audit reader (`onwatch audit list`): a broken listing is an error naming the call, never
// shown as complete (issue 15, defect 12).
// ---------------------------------------------------------------------------------------------

mod audit {
    use std::collections::HashMap;

    use aws_sdk_dynamodb as dynamodb;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_smithy_mocks::{create_mock_http_client, mock, Rule};
    use onwatch::{audit::Query, scan::CallLog, Error};

    use super::{block_on, call_error, interceptor, retries, REGION};

    type Key = HashMap<String, AttributeValue>;

    fn client(rules: &[&Rule], calls: &CallLog) -> dynamodb::Client {
        dynamodb::Client::from_conf(
            dynamodb::Config::builder()
                .with_test_defaults()
                .region(dynamodb::config::Region::new(REGION))
                .http_client(create_mock_http_client())
                .interceptor(interceptor(rules))
                .interceptor(calls.interceptor())
                .retry_config(retries())
                .build(),
        )
    }

    fn key(id: &str) -> Key {
        [("alarm_arn".to_string(), AttributeValue::S("arn:aws:cloudwatch:eu-west-1:1:alarm:a".into())), ("event_id".to_string(), AttributeValue::S(id.into()))]
            .into_iter()
            .collect()
    }

    /// A page of `n` records numbered from `first`, continued at `next`.
    fn page(first: usize, n: usize, next: Option<Key>) -> dynamodb::operation::scan::ScanOutput {
        let items: Vec<Key> = (first..first + n).map(|i| key(&format!("{i:06}"))).collect();
        dynamodb::operation::scan::ScanOutput::builder().count(n as i32).set_items(Some(items)).set_last_evaluated_key(next).build()
    }

    fn read(rules: &[&Rule], query: &Query, max_pages: u32, calls: &CallLog) -> Result<Vec<onwatch::audit::Item>, Error> {
        let schema = onwatch::config::load(&Default::default()).unwrap().audit;
        block_on(onwatch::audit::dynamodb::read(&client(rules, calls), "audit", REGION, &schema, query, max_pages))
    }

    #[test]
    fn pages_are_followed_to_the_end() {
        let pages = mock!(dynamodb::Client::scan).then_compute_output(|input| match input.exclusive_start_key().and_then(|k| k.get("event_id")) {
            None => page(0, 2, Some(key("000001"))),
            Some(AttributeValue::S(id)) if id == "000001" => page(2, 0, Some(key("000002"))),
            Some(AttributeValue::S(id)) if id == "000002" => page(2, 3, None),
            Some(other) => panic!("unexpected key {other:?}"),
        });
        let calls = CallLog::new();
        let items = read(&[&pages], &Query::default(), 10, &calls).unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(calls.executions("dynamodb:Scan"), 3);
    }

    #[test]
    fn a_repeated_last_evaluated_key_fails_naming_the_call() {
        // The same key for ever (the SDK's paginator would stop silently on it).
        let stuck = mock!(dynamodb::Client::scan).then_compute_output(|_| page(0, 1, Some(key("again"))));
        let (action, message) = call_error(read(&[&stuck], &Query::default(), 100, &CallLog::new()));
        assert_eq!(action, "dynamodb:Scan");
        assert!(message.starts_with("reading the audit trail failed: dynamodb:Scan in eu-west-1: page 2 returned LastEvaluatedKey"), "{message}");
        assert!(message.contains("a second time"), "{message}");

        // A cycle, through Query (a listing by alarm ARN).
        let cycle = mock!(dynamodb::Client::query).then_compute_output(|input| {
            let at_a = input.exclusive_start_key().and_then(|k| k.get("event_id")) == Some(&AttributeValue::S("a".into()));
            dynamodb::operation::query::QueryOutput::builder().count(0).set_items(Some(Vec::new())).last_evaluated_key("event_id", AttributeValue::S(if at_a { "b" } else { "a" }.into())).build()
        });
        let by_alarm = Query { since: None, resource: Some("arn:aws:cloudwatch:eu-west-1:1:alarm:a".into()) };
        let calls = CallLog::new();
        let (action, message) = call_error(read(&[&cycle], &by_alarm, 100, &calls));
        assert_eq!(action, "dynamodb:Query");
        assert!(message.contains("a second time"), "{message}");
        assert_eq!(calls.executions("dynamodb:Query"), 3);
    }

    #[test]
    fn a_key_that_changes_for_ever_stops_at_the_page_bound() {
        let endless = mock!(dynamodb::Client::scan).then_compute_output(|input| {
            let n = match input.exclusive_start_key().and_then(|k| k.get("event_id")) {
                Some(AttributeValue::S(id)) => id.parse::<usize>().unwrap() + 1,
                _ => 0,
            };
            page(n, 1, Some(key(&n.to_string())))
        });
        let calls = CallLog::new();
        let (action, message) = call_error(read(&[&endless], &Query::default(), 25, &calls));
        assert_eq!(action, "dynamodb:Scan");
        assert!(message.contains("more than 25 pages; the listing does not end"), "{message}");
        assert_eq!(calls.executions("dynamodb:Scan"), 25);
    }

    #[test]
    fn an_empty_or_foreign_answer_is_an_error_not_an_empty_listing() {
        let answer = |body: &'static str| {
            mock!(dynamodb::Client::scan).then_http_response(move || {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(200).unwrap(),
                    aws_smithy_types::body::SdkBody::from(body),
                )
            })
        };
        for body in ["", "{}", r#"{"Count": 3}"#] {
            let (action, message) = call_error(read(&[&answer(body)], &Query::default(), 10, &CallLog::new()));
            assert_eq!(action, "dynamodb:Scan", "{body:?}");
            assert!(message.contains("holds no Items"), "{body:?}: {message}");
        }
        let (_, message) = call_error(read(&[&answer(r#"{"Count": 3, "Items": [], "ScannedCount": 3}"#)], &Query::default(), 10, &CallLog::new()));
        assert!(message.contains("says Count 3 but holds 0 items"), "{message}");
        let (_, message) = call_error(read(&[&answer("<html>\n<body>gateway</body>\n</html>")], &Query::default(), 10, &CallLog::new()));
        assert!(!message.contains('\n'), "one line: {message}");
        // A real empty table is an empty listing.
        let empty = answer(r#"{"Count": 0, "Items": [], "ScannedCount": 0}"#);
        assert!(read(&[&empty], &Query::default(), 10, &CallLog::new()).unwrap().is_empty());
    }
}

fn scan_with_history(rules: &[&Rule], calls: &CallLog, days: u32) -> Result<Inventory, Error> {
    let place = Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    let target = Target { place, clients: clients(rules, calls), account_wide: true, alarm_history_days: Some(days) };
    block_on(scan_targets(vec![target], &onwatch::config::load_catalog(None).unwrap(), 4, false))
}

fn history_alarm(name: &str) -> cloudwatch::types::MetricAlarm {
    cloudwatch::types::MetricAlarm::builder()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .comparison_operator(cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .evaluation_periods(1)
        .state_value(cloudwatch::types::StateValue::InsufficientData)
        .state_updated_timestamp(aws_smithy_types::DateTime::from_secs_and_nanos(1_764_028_800, 500_000_000))
        .build()
}

fn history_item(alarm: &str, secs: i64) -> cloudwatch::types::AlarmHistoryItem {
    cloudwatch::types::AlarmHistoryItem::builder()
        .alarm_name(alarm)
        .history_item_type(cloudwatch::types::HistoryItemType::StateUpdate)
        .timestamp(aws_smithy_types::DateTime::from_secs(secs))
        .build()
}

/// The flapping check's history: one region-wide listing of StateUpdate items since the window's
/// start, every page of it, sorted onto each alarm (none for an alarm without changes); a failure
/// fails the scan naming the IAM action.
#[test]
fn hygiene_alarm_history_is_paged_onto_each_alarm_and_its_failure_names_the_action() {
    use cloudwatch::operation::{describe_alarm_history::DescribeAlarmHistoryOutput, describe_alarms::DescribeAlarmsOutput};
    let alarms = mock!(cloudwatch::Client::describe_alarms)
        .then_output(|| DescribeAlarmsOutput::builder().metric_alarms(history_alarm("a")).metric_alarms(history_alarm("b")).build());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let window = move |input: &cloudwatch::operation::describe_alarm_history::DescribeAlarmHistoryInput| {
        let start = input.start_date().map(|d| d.secs()).unwrap_or(0);
        input.history_item_type() == Some(&cloudwatch::types::HistoryItemType::StateUpdate)
            && input.alarm_name().is_none()
            && (now - 7 * 86_400 - start).abs() < 120
            && input.max_records() == Some(100)
    };
    let first = mock!(cloudwatch::Client::describe_alarm_history)
        .match_requests(move |input| window(input) && input.next_token().is_none())
        .then_output(|| DescribeAlarmHistoryOutput::builder().alarm_history_items(history_item("a", 1_764_030_000)).alarm_history_items(history_item("a", 1_764_020_000)).next_token("p2").build());
    let second = mock!(cloudwatch::Client::describe_alarm_history)
        .match_requests(move |input| window(input) && input.next_token() == Some("p2"))
        .then_output(|| DescribeAlarmHistoryOutput::builder().alarm_history_items(history_item("a", 1_764_025_000)).build());
    let calls = CallLog::new();
    let inventory = scan_with_history(&[&alarms, &first, &second], &calls, 7).unwrap();
    let changes: Vec<(&str, Option<Vec<String>>)> = inventory.alarms.iter().map(|a| (a.name.as_str(), a.state_changes.clone())).collect();
    let expected = ["2025-11-24T21:33:20Z", "2025-11-24T22:56:40Z", "2025-11-25T00:20:00Z"].map(String::from).to_vec();
    assert_eq!(changes, [("a", Some(expected)), ("b", Some(vec![]))]);
    assert_eq!(inventory.alarms[0].state_updated_at.as_deref(), Some("2025-11-25T00:00:00Z"), "to the second");
    assert_eq!(calls.executions("cloudwatch:DescribeAlarmHistory"), 2);

    let denied = mock!(cloudwatch::Client::describe_alarm_history).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(json_error("AccessDenied", "not authorized to perform: cloudwatch:DescribeAlarmHistory")),
        )
    });
    let (action, message) = call_error(scan_with_history(&[&alarms, &denied], &CallLog::new(), 7));
    assert_eq!(action, "cloudwatch:DescribeAlarmHistory");
    assert!(message.contains(ACCOUNT) && message.contains(REGION), "{message}");
}
