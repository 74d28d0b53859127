//! The S3, S3 Object Lambda, Route 53 health check and EventBridge Scheduler alarms of AWS's
//! "Recommended alarms" page, and NAT's dropped-packet rate (issue 11 item 1): each type checked
//! against hand-built inventories and generated, and `when_published`, which requires a policy only
//! where the account publishes a metric.

use std::{fs, path::Path};

use crate::common::*;
use onwatch::{
    check::{evaluate, Evaluation, Status},
    config::{self, Settings, Sources},
    generate::{self, GenerateOptions, Templates},
    model::*,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn builtin() -> Settings {
    config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap()
}

fn resource(arn: &str, resource_type: &str, region: &str) -> Resource {
    Resource {
        arn: arn.into(),
        resource_type: resource_type.into(),
        region: region.into(),
        account: ACCOUNT.into(),
        tags: Default::default(),
        attributes: Default::default(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn metric(region: &str, namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Metric {
    Metric { namespace: namespace.into(), metric_name: name.into(), dimensions: tags(dimensions).into(), region: region.into(), account: ACCOUNT.into() }
}

#[allow(clippy::too_many_arguments)]
fn alarm(name: &str, region: &str, namespace: &str, metric: &str, dimensions: &[(&str, &str)], statistic: Statistic, period: u32, points: u32, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        region: region.into(),
        namespace: Some(namespace.into()),
        metric_name: Some(metric.into()),
        dimensions: tags(dimensions).into(),
        statistic: Some(statistic),
        period: Some(period),
        evaluation_periods: points,
        datapoints_to_alarm: Some(points),
        treat_missing_data: Some(TreatMissingData::NotBreaching),
        ..cpu_alarm("unused", threshold)
    }
}

/// (rule, fan-out value, region, status) of the policy's requirements, sorted.
fn found(evaluation: &Evaluation, policy: &str) -> Vec<(String, Option<String>, String, Status)> {
    let mut found: Vec<_> = evaluation
        .requirements
        .iter()
        .filter(|r| r.policy == policy)
        .map(|r| (r.alarm_rule.clone(), r.sub_dimensions.first().map(|s| s.value.clone()), r.region.clone(), r.status))
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    found
}

fn generated(inventory: &Inventory, settings: &Settings, evaluation: &Evaluation) -> String {
    let files = generate::generate(inventory, settings, evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    files.iter().map(|f| f.contents.as_str()).collect()
}

fn scoped(regions: &[&str]) -> Inventory {
    let mut inv = inventory();
    inv.scopes = regions.iter().map(|region| Scope { account: ACCOUNT.into(), region: region.to_string(), failed: None }).collect();
    inv
}

#[test]
fn scheduler_alarms_are_required_only_where_the_account_publishes_scheduler_metrics() {
    let settings = builtin();
    let mut inv = scoped(&["us-east-1", "eu-west-1"]);
    inv.metrics.push(metric("eu-west-1", "AWS/Scheduler", "InvocationAttemptCount", &[]));
    // An error metric alone is not use: without InvocationAttemptCount nothing is required in us-east-1.
    inv.metrics.push(metric("us-east-1", "AWS/Scheduler", "TargetErrorCount", &[]));
    inv.alarms.push(alarm("scheduler-dropped", "eu-west-1", "AWS/Scheduler", "InvocationDroppedCount", &[], Statistic::Sum, 60, 1, 0.0));
    let evaluation = evaluate(&inv, &settings, today());
    let eu = |rule: &str, status| (rule.to_string(), None, "eu-west-1".to_string(), status);
    assert_eq!(
        found(&evaluation, "scheduler-account"),
        vec![
            eu("dead-letter-failed", Status::Missing),
            eu("invocation-dropped", Status::Covered),
            eu("invocation-throttled", Status::Missing),
            eu("target-error-throttled", Status::Missing),
        ]
    );
    let module = generated(&inv, &settings, &evaluation);
    for metric in ["TargetErrorThrottledCount", "InvocationThrottleCount", "InvocationsFailedToBeSentToDeadLetterCount"] {
        assert_eq!(module.matches(&format!("metric_name         = \"{metric}\"")).count(), 1, "one {metric} alarm, in eu-west-1:\n{module}");
    }
    assert!(!module.contains("\"InvocationDroppedCount\""), "the covered requirement is not generated again");
}

#[test]
fn a_when_published_metric_the_type_does_not_publish_is_refused_at_its_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let policy = fs::read_to_string(root().join("policies/scheduler-account.json")).unwrap().replace("\"InvocationAttemptCount\"", "\"InvocationAttempts\"");
    fs::write(dir.path().join("scheduler-account.json"), policy).unwrap();
    let error = config::load(&Sources { config_dir: Some(root().join("config")), policies_dir: Some(dir.path().to_path_buf()) }).unwrap_err().to_string();
    assert!(error.contains("scheduler-account.json") && error.contains("$.when_published[0]") && error.contains("InvocationAttempts"), "{error}");
}

#[test]
fn s3_request_metric_alarms_fan_out_per_filter_id_and_buckets_without_request_metrics_need_none() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(resource("arn:aws:s3:::orders-invoices", "s3:bucket", REGION));
    inv.resources.push(resource("arn:aws:s3:::static-assets", "s3:bucket", REGION));
    for filter in ["EntireBucket", "images"] {
        for name in ["4xxErrors", "5xxErrors", "AllRequests"] {
            inv.metrics.push(metric(REGION, "AWS/S3", name, &[("BucketName", "orders-invoices"), ("FilterId", filter)]));
        }
    }
    // Storage metrics are daily and carry StorageType: they ask for no request alarm.
    inv.metrics.push(metric(REGION, "AWS/S3", "BucketSizeBytes", &[("BucketName", "static-assets"), ("StorageType", "StandardStorage")]));
    let entire = [("BucketName", "orders-invoices"), ("FilterId", "EntireBucket")];
    inv.alarms.push(alarm("invoices-5xx", REGION, "AWS/S3", "5xxErrors", &entire, Statistic::Average, 60, 15, 0.05));
    // A bucket-wide alarm at AWS's 1% would not cover a per-configuration requirement at 5%.
    inv.alarms.push(alarm("invoices-4xx", REGION, "AWS/S3", "4xxErrors", &entire, Statistic::Average, 60, 15, 0.01));
    let evaluation = evaluate(&inv, &settings, today());
    let row = |rule: &str, filter: &str, status| (rule.to_string(), Some(filter.to_string()), REGION.to_string(), status);
    assert_eq!(
        found(&evaluation, "s3-bucket-request-metrics"),
        vec![
            row("request-4xx-errors", "EntireBucket", Status::Misconfigured),
            row("request-4xx-errors", "images", Status::Missing),
            row("request-5xx-errors", "EntireBucket", Status::Covered),
            row("request-5xx-errors", "images", Status::Missing),
        ]
    );
    assert!(evaluation.requirements.iter().all(|r| !r.resource.ends_with("static-assets")), "no request metrics, no requirement");
    let module = generated(&inv, &settings, &evaluation);
    assert!(module.contains("FilterId   = \"images\""), "{module}");
    assert_eq!(module.matches("metric_name         = \"5xxErrors\"").count(), 1, "only the images 5xx alarm is missing");
}

#[test]
fn nat_dropped_packets_are_a_rate_of_the_gateway_traffic_in_metric_math() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(resource("arn:aws:ec2:us-east-1:111111111111:natgateway/nat-0a1b2c3d4e5f60001", "ec2:natgateway", REGION));
    let evaluation = evaluate(&inv, &settings, today());
    assert!(found(&evaluation, "nat-gateway").contains(&("packets-dropped".to_string(), None, REGION.to_string(), Status::Missing)));
    let module = generated(&inv, &settings, &evaluation);
    assert!(module.contains("expression  = \"100 * dropped / (from_source + from_destination)\""), "{module}");
    for metric in ["PacketsDropCount", "PacketsInFromSource", "PacketsInFromDestination"] {
        assert!(module.contains(&format!("metric_name = \"{metric}\"")), "{metric} queried:\n{module}");
    }
    assert!(module.contains("threshold           = 0.01"), "{module}");
}

#[test]
fn route53_health_checks_are_checked_and_generated_in_us_east_1_where_their_metrics_are() {
    let settings = builtin();
    let mut inv = inventory();
    let id = "abcdef11-2222-3333-4444-555555fedcba";
    inv.resources.push(resource(&format!("arn:aws:route53:::healthcheck/{id}"), "route53:healthcheck", "us-east-1"));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(found(&evaluation, "route53-health-check"), vec![("unhealthy".to_string(), None, "us-east-1".to_string(), Status::Missing)]);
    let module = generated(&inv, &settings, &evaluation);
    assert!(module.contains(&format!("HealthCheckId = \"{id}\"")) && module.contains("treat_missing_data  = \"breaching\""), "{module}");

    let mut inv = inv.clone();
    let mut healthy = alarm("api-health", "us-east-1", "AWS/Route53", "HealthCheckStatus", &[("HealthCheckId", id)], Statistic::Average, 60, 3, 1.0);
    healthy.comparison_operator = ComparisonOperator::LessThanThreshold;
    healthy.treat_missing_data = Some(TreatMissingData::Breaching);
    inv.alarms.push(healthy);
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(found(&evaluation, "route53-health-check")[0].3, Status::Covered, "{:#?}", evaluation.findings);
}

#[test]
fn object_lambda_access_points_need_their_data_source_and_alarm_on_both_dimensions() {
    let settings = builtin();
    let mut inv = inventory();
    let data_source = "arn:aws:s3:us-east-1:111111111111:accesspoint/invoices";
    let mut point = resource("arn:aws:s3-object-lambda:us-east-1:111111111111:accesspoint/invoices-redacted", "s3-object-lambda:accesspoint", REGION);
    point.discovered_by = DiscoveredBy::Metrics;
    point.attributes.insert("DataSourceARN".into(), data_source.into());
    inv.resources.push(point.clone());
    let evaluation = evaluate(&inv, &settings, today());
    let rules: Vec<_> = found(&evaluation, "s3-object-lambda-access-point").into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(
        rules,
        vec![
            ("lambda-response-4xx".to_string(), Status::Missing),
            ("request-4xx-errors".to_string(), Status::Missing),
            ("request-5xx-errors".to_string(), Status::Missing)
        ]
    );
    let module = generated(&inv, &settings, &evaluation);
    assert_eq!(module.matches(&format!("DataSourceARN   = \"{data_source}\"")).count(), 3, "{module}");

    // Without its data source the dimensions cannot be formed: unresolved, and said why.
    let mut inv = inventory();
    point.attributes.clear();
    inv.resources.push(point);
    let evaluation = evaluate(&inv, &settings, today());
    assert!(found(&evaluation, "s3-object-lambda-access-point").iter().all(|r| r.3 == Status::Unresolved));
    assert!(evaluation.findings.iter().any(|f| f.message.contains("DataSourceARN")), "{:#?}", evaluation.findings);
}

/// Puts what AWS would hold for the four services into an emulator account: a tagged bucket with a
/// request-metrics configuration, a tagged Route 53 health check, an Object Lambda Access Point's
/// metrics and Scheduler's account-level metric (moto publishes no metrics: PutMetricData).
const SEED: &str = r#"
import json, sys
import boto3
endpoint = sys.argv[1]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
client = lambda name: session.client(name, endpoint_url=endpoint)
s3 = client("s3")
s3.create_bucket(Bucket="orders-invoices")
s3.put_bucket_tagging(Bucket="orders-invoices", Tagging={"TagSet": [{"Key": "team", "Value": "payments"}]})
s3.put_bucket_metrics_configuration(Bucket="orders-invoices", Id="EntireBucket", MetricsConfiguration={"Id": "EntireBucket"})
route53 = client("route53")
check = route53.create_health_check(CallerReference="api-public", HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "api.example.com", "Port": 443, "ResourcePath": "/health"})["HealthCheck"]["Id"]
route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check, AddTags=[{"Key": "Name", "Value": "api-public"}])
account = client("sts").get_caller_identity()["Account"]
source = f"arn:aws:s3:us-east-1:{account}:accesspoint/invoices"
metrics = {
    "AWS/S3": [(name, {"BucketName": "orders-invoices", "FilterId": "EntireBucket"}) for name in ("4xxErrors", "5xxErrors")],
    "AWS/Route53": [("HealthCheckStatus", {"HealthCheckId": check})],
    "AWS/S3ObjectLambda": [(name, {"AccessPointName": "invoices-redacted", "DataSourceARN": source}) for name in ("4xxErrors", "5xxErrors", "LambdaResponse4xx")],
    "AWS/Scheduler": [("InvocationAttemptCount", {})],
}
cloudwatch = client("cloudwatch")
for namespace, data in metrics.items():
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": n, "Dimensions": [{"Name": k, "Value": v} for k, v in d.items()], "Value": 1.0} for n, d in data])
json.dump({"health_check": check, "data_source": source}, sys.stdout)
"#;

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn scan_finds_buckets_health_checks_object_lambda_access_points_and_scheduler_use_and_check_requires_their_alarms() {
    use crate::harness::{onwatch, text, tool, Emulator};
    let emulator = Emulator::start();
    let seeded = std::process::Command::new(tool("ONWATCH_PYTHON")).args(["-c", SEED, &emulator.endpoint]).output().unwrap();
    assert!(seeded.status.success(), "seeding failed:\n{}\nemulator:\n{}", text(&seeded.stderr), emulator.stderr());
    let made: serde_json::Value = serde_json::from_slice(&seeded.stdout).unwrap();
    let check_id = made["health_check"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", "us-east-1", "--output", "inventory.json"], dir.path());
    assert_eq!(result.status.code(), Some(0), "scan failed:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
    let inventory = onwatch::snapshot::read(&dir.path().join("inventory.json")).unwrap();
    let resource = |arn: &str| inventory.resources.iter().find(|r| r.arn == arn).unwrap_or_else(|| panic!("no {arn} in {:#?}", inventory.resources));
    let bucket = resource("arn:aws:s3:::orders-invoices");
    assert_eq!((bucket.resource_type.as_str(), bucket.discovered_by, bucket.account.as_str()), ("s3:bucket", DiscoveredBy::Tagging, emulator.account.as_str()));
    let health = resource(&format!("arn:aws:route53:::healthcheck/{check_id}"));
    assert_eq!((health.resource_type.as_str(), health.region.as_str()), ("route53:healthcheck", "us-east-1"));
    let point = resource(&format!("arn:aws:s3-object-lambda:us-east-1:{}:accesspoint/invoices-redacted", emulator.account));
    assert_eq!((point.resource_type.as_str(), point.discovered_by), ("s3-object-lambda:accesspoint", DiscoveredBy::Metrics));
    assert_eq!(point.attributes.get("DataSourceARN").map(String::as_str), made["data_source"].as_str(), "read off the access point's metrics");

    let evaluation = evaluate(&inventory, &builtin(), today());
    let rules = |policy: &str| found(&evaluation, policy).into_iter().map(|r| (r.0, r.1, r.3)).collect::<Vec<_>>();
    let missing = |rule: &str, sub: Option<&str>| (rule.to_string(), sub.map(str::to_string), Status::Missing);
    assert_eq!(rules("s3-bucket-request-metrics"), vec![missing("request-4xx-errors", Some("EntireBucket")), missing("request-5xx-errors", Some("EntireBucket"))]);
    assert_eq!(rules("route53-health-check"), vec![missing("unhealthy", None)]);
    assert_eq!(rules("s3-object-lambda-access-point").len(), 3);
    assert_eq!(rules("scheduler-account").len(), 4, "the account publishes InvocationAttemptCount");
    let module = generated(&inventory, &builtin(), &evaluation);
    assert!(module.contains(&format!("HealthCheckId = \"{check_id}\"")) && module.contains("FilterId   = \"EntireBucket\""), "{module}");
}

const DECLARED: &str = r#"provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "invoices" {
  bucket = "orders-invoices"
}

resource "aws_route53_health_check" "api" {
  fqdn = "api.example.com"
  type = "HTTPS"
  tags = {
    Name = "api-public"
  }
}

resource "aws_s3control_object_lambda_access_point" "redacted" {
  name = "invoices-redacted"
  configuration {
    supporting_access_point = "arn:aws:s3:eu-west-1:123456789012:accesspoint/invoices"
  }
}
"#;

#[test]
fn terraform_declares_buckets_health_checks_and_object_lambda_access_points() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.tf"), DECLARED).unwrap();
    let (code, stdout, stderr) = onwatch_in(dir.path(), &["check", "--terraform", ".", "--format", "json", "--fail-on", "never"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("terraform: 3 resources declared in . and not yet live, checked"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings: Vec<(String, String)> =
        report["findings"].as_array().unwrap().iter().map(|f| (f["code"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string())).collect();
    // The health check's alarm is required (its id known after apply); the new bucket publishes no
    // request metrics yet, so it needs none; the access point's data source is in a nested block.
    assert!(findings.iter().any(|(c, m)| c == "missing-alarm" && m.contains("HealthCheckId=${aws_route53_health_check.api.id}")), "{findings:#?}");
    assert!(findings.iter().any(|(c, m)| c == "unresolved-dimensions" && m.contains("DataSourceARN")), "{findings:#?}");
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(report["summary"]["declared_resources"], 3);
}
