//! The resource type catalogue drives scanning: every type's ARN template, Tagging API filter and
//! discovery dimensions are data, checked at load, and a new type needs no code (issue 11).

use std::{collections::BTreeMap, fs, path::Path};

use crate::harness::{onwatch, text, tool, Emulator, ACCOUNT, REGION};
use onwatch::{
    config::{self, Catalog, DimensionError, ResourceType},
    model::{Arn, DiscoveredBy, Metric, Resource},
    scan::{arn::resource_type as type_of_arn, discovery, Place},
};
use serde_json::{json, Value};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A resource of the type at `arn`, with every attribute its dimension templates read set to a
/// made-up value (`attribute-NAME`), and its dimensions in `namespace`.
fn resource_with_dimensions(resource_type: &ResourceType, arn: &str, namespace: &str) -> (Resource, onwatch::model::Dimensions) {
    let parsed = Arn::parse(arn).unwrap();
    let mut resource = Resource {
        arn: arn.to_string(),
        resource_type: resource_type.name.clone(),
        region: parsed.region.to_string(),
        account: parsed.account.to_string(),
        tags: BTreeMap::new(),
        attributes: BTreeMap::new(),
        discovered_by: DiscoveredBy::Tagging,
    };
    loop {
        match resource_type.dimensions(&resource, namespace) {
            Ok(dimensions) => return (resource, dimensions),
            Err(DimensionError::MissingAttribute(name)) => {
                resource.attributes.insert(name.clone(), format!("attribute-{name}"));
            }
            Err(error) => panic!("{arn} in {namespace}: {error}"),
        }
    }
}

fn place_of(arn: &str) -> Place {
    let parsed = Arn::parse(arn).unwrap();
    // A global resource's metrics are listed in some region: any will do.
    let region = if parsed.region.is_empty() { REGION } else { parsed.region };
    Place { partition: parsed.partition.into(), account: parsed.account.into(), region: region.into() }
}

fn metric(namespace: &str, arn: &str, dimensions: impl IntoIterator<Item = (String, String)>) -> Metric {
    let place = place_of(arn);
    Metric { namespace: namespace.into(), metric_name: "Any".into(), dimensions: dimensions.into_iter().collect(), region: place.region, account: place.account }
}

/// Every example ARN classifies to its type and is rebuilt by the type's template; every
/// discovery set, computed from the example, inverts to that ARN and type; every `{attr:X}`
/// dimension is read back onto the resource from a metric that carries it.
fn assert_round_trips(catalog: &Catalog, needs_examples: bool) -> usize {
    let mut checked = 0;
    for resource_type in catalog.types() {
        let name = &resource_type.name;
        assert!(!needs_examples || !resource_type.example_arns.is_empty(), "{name} has no example ARN");
        for example in &resource_type.example_arns {
            assert_eq!(catalog.classify(example).map(|t| t.name.as_str()), Some(name.as_str()), "{example}");
            assert_eq!(resource_type.rebuild(example).as_deref(), Some(example.as_str()), "{example}");
            assert_eq!(type_of_arn(catalog, example).as_deref(), Some(name.as_str()), "{example}");
            for (namespace, spec) in &resource_type.namespaces {
                let (resource, dimensions) = resource_with_dimensions(resource_type, example, namespace);
                if !spec.discovery.is_empty() {
                    let names: Vec<(String, String)> = dimensions
                        .iter()
                        .filter(|(dimension, _)| spec.discovery.iter().any(|d| d == dimension))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    assert_eq!(names.len(), spec.discovery.len(), "{name} {namespace}: discovery names identifying dimensions");
                    let mut found = Vec::new();
                    let added = discovery::complete(&mut found, &[metric(namespace, example, names)], &place_of(example), catalog);
                    assert_eq!(added, 1, "{name} {namespace}: the discovery dimensions of {example} name it");
                    assert_eq!((found[0].arn.as_str(), found[0].resource_type.as_str()), (example.as_str(), name.as_str()));
                    assert_eq!(found[0].discovered_by, DiscoveredBy::Metrics);
                    checked += 1;
                }
                if !resource.attributes.is_empty() {
                    let all = dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string()));
                    let mut bare = vec![Resource { attributes: BTreeMap::new(), ..resource.clone() }];
                    discovery::complete(&mut bare, &[metric(namespace, example, all)], &place_of(example), catalog);
                    assert_eq!(bare[0].attributes, resource.attributes, "{name} {namespace}: attributes read back from the metric");
                    checked += 1;
                }
            }
        }
    }
    checked
}

#[test]
fn every_catalogue_type_round_trips_through_its_arn_template_and_discovery() {
    let builtin = config::load_catalog(None).unwrap();
    let checked = assert_round_trips(&builtin, true);
    assert!(checked >= 20, "discovery and attribute sets checked: {checked}");
    let fixture = config::load_catalog(Some(&repo().join("tests/fixtures/config"))).unwrap();
    assert_round_trips(&fixture, false);

    // The filters the scanner asks the Tagging API for, straight from the catalogue.
    let filters = builtin.tagging_filters();
    assert!(filters.contains(&"ec2:instance") && filters.contains(&"sqs") && filters.contains(&"elasticloadbalancing:loadbalancer"), "{filters:?}");
    assert!(filters.windows(2).all(|w| w[0] < w[1]), "sorted, once each: {filters:?}");
    assert_eq!(filters.len(), builtin.types().filter_map(|t| t.tagging_filter.as_deref()).collect::<std::collections::BTreeSet<_>>().len());
}

#[test]
fn discovery_takes_exactly_the_named_dimensions_and_only_arns_of_the_type() {
    let catalog = config::load_catalog(None).unwrap();
    let at = Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    let discovered = |namespace: &str, dimensions: &[(&str, &str)]| {
        let metric = Metric {
            namespace: namespace.into(),
            metric_name: "Any".into(),
            dimensions: dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            region: REGION.into(),
            account: ACCOUNT.into(),
        };
        let mut found = Vec::new();
        discovery::complete(&mut found, &[metric], &at, &catalog);
        found.into_iter().map(|r| (r.arn, r.resource_type)).collect::<Vec<_>>()
    };
    // EBS discovers on VolumeId alone though it identifies by VolumeId and InstanceId.
    assert_eq!(discovered("AWS/EBS", &[("VolumeId", "vol-0a1b2c3d4e5f60001")]).len(), 1);
    assert!(discovered("AWS/EBS", &[("VolumeId", "vol-0a1b2c3d4e5f60001"), ("InstanceId", "i-0a1b2c3d4e5f60001")]).is_empty());
    // An Aurora cluster discovers on DBClusterIdentifier, identifies with Role=WRITER.
    let cluster = discovered("AWS/RDS", &[("DBClusterIdentifier", "orders-aurora")]);
    assert_eq!(cluster, [(format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders-aurora"), "rds:cluster".to_string())]);
    assert!(discovered("AWS/RDS", &[("DBClusterIdentifier", "orders-aurora"), ("Role", "WRITER")]).is_empty());
    // The CloudWatch agent's metrics never add an instance.
    assert!(discovered("CWAgent", &[("InstanceId", "i-0a1b2c3d4e5f60001")]).is_empty());
    // Values that do not build an ARN of the namespace's type add nothing: an NLB in the ALB
    // namespace, an instance id of the wrong shape, CloudFront outside its Global region.
    assert!(discovered("AWS/ApplicationELB", &[("LoadBalancer", "net/edge/50dc6c495c0c9189")]).is_empty());
    assert!(discovered("AWS/EC2", &[("InstanceId", "web-1")]).is_empty());
    assert!(discovered("AWS/CloudFront", &[("DistributionId", "E2ABCDEFGHIJKL"), ("Region", "us-east-1")]).is_empty());
    assert_eq!(discovered("AWS/CloudFront", &[("DistributionId", "E2ABCDEFGHIJKL"), ("Region", "Global")])[0].0, format!("arn:aws:cloudfront::{ACCOUNT}:distribution/E2ABCDEFGHIJKL"));
    // Step Functions metrics carry the ARN itself; it is kept only when it is a state machine's.
    assert_eq!(discovered("AWS/States", &[("StateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:fulfil")]).len(), 1);
    assert!(discovered("AWS/States", &[("StateMachineArn", "arn:aws:states:us-east-1:123456789012:activity:fulfil")]).is_empty());
}

/// `onwatch validate --config config` in `dir`: exit code and stderr.
fn validate(dir: &Path) -> (Option<i32>, String) {
    let output = onwatch(&["validate", "--config", "config"], dir);
    (output.status.code(), text(&output.stderr))
}

fn write_catalogue(dir: &Path, types: Value) {
    fs::create_dir_all(dir.join("config")).unwrap();
    fs::write(dir.join("config/resource_types.json"), serde_json::to_string_pretty(&json!({ "resource_types": types })).unwrap()).unwrap();
}

#[test]
fn a_template_that_does_not_rebuild_its_examples_or_discover_the_arn_is_refused_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut builtin: Value = serde_json::from_str(&fs::read_to_string(repo().join("config/resource_types.json")).unwrap()).unwrap();
    let types = builtin["resource_types"].as_object_mut().unwrap();
    // Typos a hand-written entry makes: a template that drops a separator, a discovery set
    // missing a group of the ARN, a filter of another service, two types claiming one ARN.
    types["ec2:instance"]["arn"] = json!("arn:{partition}:ec2:{region}:{account}:instance{InstanceId}");
    types["ecs:service"]["namespaces"]["AWS/ECS"]["discovery"] = json!(["ServiceName"]);
    types["ec2:volume"]["namespaces"]["AWS/EBS"]["discovery"] = json!(["VolumeId", "Nope"]);
    types["kinesis:stream"]["tagging_filter"] = json!("firehose:deliverystream");
    let mut twin = types["sqs:queue"].clone();
    twin["namespaces"]["AWS/SQS"]["dimensions"] = json!({ "QueueName": "{QueueName}", "Twin": "yes" });
    types.insert("sqs:twin".into(), twin);
    write_catalogue(dir.path(), builtin["resource_types"].take());
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        r#"config/resource_types.json: at $.resource_types["ec2:instance"].example_arns[0]: the arn template rebuilds "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60001" as "arn:aws:ec2:us-east-1:123456789012:instancei-0a1b2c3d4e5f60001""#,
        r#"at $.resource_types["ecs:service"].namespaces["AWS/ECS"].discovery: these dimensions do not give the ARN's group(s) ClusterName"#,
        r#"at $.resource_types["ec2:volume"].namespaces["AWS/EBS"].discovery[1]: Nope is not one of this namespace's dimensions"#,
        r#"at $.resource_types["kinesis:stream"].tagging_filter: "firehose:deliverystream" is not a Tagging API filter of the ARN's service"#,
        r#"at $.resource_types["sqs:queue"].example_arns[0]: "arn:aws:sqs:us-east-1:123456789012:orders" is of type sqs:twin too"#,
    ] {
        assert!(stderr.contains(expected), "expected {expected}\nin:\n{stderr}");
    }
    // The same catalogue stops a scan before any AWS call.
    let scan = onwatch(&["scan", "--config", "config", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9", "--output", "out.json"], dir.path());
    assert_eq!(scan.status.code(), Some(2), "{}", text(&scan.stderr));
    assert!(text(&scan.stderr).contains("config/resource_types.json: at "), "{}", text(&scan.stderr));
    assert!(!dir.path().join("out.json").exists());
}

/// A type the built-in catalogue lacks: Kinesis Data Firehose delivery streams.
const NEW_TYPE: &str = "firehose:deliverystream";

fn new_type_entry() -> Value {
    json!({
        "service": "Firehose",
        "arn_resource": "^deliverystream/(?P<DeliveryStreamName>[A-Za-z0-9_.-]{1,64})$",
        "arn": "arn:{partition}:firehose:{region}:{account}:deliverystream/{DeliveryStreamName}",
        "tagging_filter": "firehose:deliverystream",
        "example_arns": ["arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks"],
        "namespaces": {
            "AWS/Firehose": {
                "dimensions": { "DeliveryStreamName": "{DeliveryStreamName}" },
                "discovery": ["DeliveryStreamName"],
                "metrics": ["DeliveryToS3.DataFreshness", "DeliveryToS3.Success", "ThrottledRecords"]
            }
        }
    })
}

fn new_type_policy() -> Value {
    json!({
        "id": "firehose-delivery-stream",
        "description": "Every Firehose delivery stream: data older than 15 minutes has not reached S3.",
        "resource_type": NEW_TYPE,
        "alarms": [{
            "id": "s3-freshness",
            "namespace": "AWS/Firehose",
            "metric": "DeliveryToS3.DataFreshness",
            "statistic": "Maximum",
            "period": 300,
            "evaluation_periods": 1,
            "datapoints_to_alarm": 1,
            "comparison": "GreaterThanThreshold",
            "threshold": 900,
            "treat_missing_data": "missing",
            "severity": "warning",
            "description": "Delivery to S3 lags by more than 15 minutes."
        }]
    })
}

/// Two delivery streams in the emulator: `clicks` tagged, with its alarm to seed.py's `alerts`
/// topic; `legacy` untagged,
/// visible only through its metrics.
const SEED_NEW_TYPE: &str = r#"
import sys, boto3
endpoint, region = sys.argv[1], sys.argv[2]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
firehose = session.client("firehose", endpoint_url=endpoint)
cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
alerts = "arn:aws:sns:%s:%s:alerts" % (region, account)  # seed.py's confirmed, encrypted topic
s3 = {"RoleARN": "arn:aws:iam::%s:role/firehose" % account, "BucketARN": "arn:aws:s3:::onwatch-seed-trail-%s" % account}
firehose.create_delivery_stream(DeliveryStreamName="clicks", ExtendedS3DestinationConfiguration=s3, Tags=[{"Key": "team", "Value": "data"}])
firehose.create_delivery_stream(DeliveryStreamName="legacy", ExtendedS3DestinationConfiguration=s3)
cloudwatch.put_metric_data(Namespace="AWS/Firehose", MetricData=[
    {"MetricName": "DeliveryToS3.DataFreshness", "Dimensions": [{"Name": "DeliveryStreamName", "Value": name}], "Value": 60.0}
    for name in ("clicks", "legacy")
])
cloudwatch.put_metric_alarm(AlarmName="clicks-freshness", Namespace="AWS/Firehose", MetricName="DeliveryToS3.DataFreshness",
    Dimensions=[{"Name": "DeliveryStreamName", "Value": "clicks"}], Statistic="Maximum", Period=300, EvaluationPeriods=1,
    DatapointsToAlarm=1, ComparisonOperator="GreaterThanThreshold", Threshold=900, TreatMissingData="missing",
    AlarmActions=[alerts], OKActions=[alerts])
"#;

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn a_new_resource_type_in_a_config_directory_is_scanned_checked_and_generated() {
    let builtin = config::load_catalog(None).unwrap();
    assert!(builtin.get(NEW_TYPE).is_none(), "the type is new: the built-in catalogue does not have it");
    let emulator = Emulator::start();
    emulator.seed(&[]);
    let seeded = std::process::Command::new(tool("ONWATCH_PYTHON")).args(["-c", SEED_NEW_TYPE, &emulator.endpoint, REGION]).output().unwrap();
    assert!(seeded.status.success(), "seeding failed:\n{}\nemulator:\n{}", text(&seeded.stderr), emulator.stderr());

    // Data only: the built-in catalogue plus one entry, and one policy, in the working directory.
    let dir = tempfile::tempdir().unwrap();
    let mut catalogue: Value = serde_json::from_str(&fs::read_to_string(repo().join("config/resource_types.json")).unwrap()).unwrap();
    catalogue["resource_types"].as_object_mut().unwrap().insert(NEW_TYPE.into(), new_type_entry());
    write_catalogue(dir.path(), catalogue["resource_types"].take());
    fs::create_dir(dir.path().join("policies")).unwrap();
    fs::write(dir.path().join("policies/firehose.json"), new_type_policy().to_string()).unwrap();

    let scanned = onwatch(&["scan", "--config", "config", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "inventory.json"], dir.path());
    assert_eq!(scanned.status.code(), Some(0), "{}\nemulator:\n{}", text(&scanned.stderr), emulator.stderr());
    let inventory = onwatch::snapshot::read(&dir.path().join("inventory.json")).unwrap();
    let stream = |name: &str| {
        let arn = format!("arn:aws:firehose:{REGION}:{}:deliverystream/{name}", emulator.account);
        inventory.resources.iter().find(|r| r.arn == arn).unwrap_or_else(|| panic!("no {arn} in {:#?}", inventory.resources)).clone()
    };
    let (clicks, legacy) = (stream("clicks"), stream("legacy"));
    assert_eq!((clicks.resource_type.as_str(), clicks.discovered_by), (NEW_TYPE, DiscoveredBy::Tagging));
    assert_eq!(clicks.tags.get("team").map(String::as_str), Some("data"));
    assert_eq!((legacy.resource_type.as_str(), legacy.discovered_by), (NEW_TYPE, DiscoveredBy::Metrics));
    // The built-in types are scanned as before.
    assert!(inventory.resources.iter().any(|r| r.resource_type == "ec2:instance" && r.discovered_by == DiscoveredBy::Tagging));

    // Without the entry (the built-in catalogue), the scanner does not ask for the type at all.
    let elsewhere = tempfile::tempdir().unwrap();
    let plain = onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "plain.json"], elsewhere.path());
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let plain = onwatch::snapshot::read(&elsewhere.path().join("plain.json")).unwrap();
    assert!(!plain.resources.iter().any(|r| r.arn.contains(":firehose:")), "{:#?}", plain.resources);

    // Checked: clicks has its alarm, legacy is missing it.
    let checked = onwatch(&["check", "--inventory", "inventory.json", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
    let report: Value = serde_json::from_slice(&checked.stdout).unwrap();
    let counts = &report["summary"]["by_type"][NEW_TYPE];
    assert_eq!((&counts["resources"], &counts["required"], &counts["covered"], &counts["missing"]), (&json!(2), &json!(2), &json!(1), &json!(1)), "{report:#}");
    let missing: Vec<&Value> = report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "missing-alarm").collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["resource"], legacy.arn.as_str());

    // Generated: one alarm for legacy, on its dimension.
    let generated = onwatch(&["generate", "--inventory", "inventory.json", "--out", "generated", "--as-of", "2026-11-25"], dir.path());
    assert_eq!(generated.status.code(), Some(0), "{}", text(&generated.stderr));
    let module: String = fs::read_dir(dir.path().join("generated"))
        .unwrap()
        .map(|entry| fs::read_to_string(entry.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(module.contains("DeliveryToS3.DataFreshness"), "{module}");
    assert!(module.contains(r#"DeliveryStreamName = "legacy""#), "{module}");
    assert!(!module.contains(r#"DeliveryStreamName = "clicks""#), "clicks is covered: {module}");
}
