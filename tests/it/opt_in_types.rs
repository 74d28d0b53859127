//! The pack's opt-in and newer types, each with AWS's recommended settings: Lambda Insights
//! (`lambda-function-insights`), EKS clusters with Container Insights (`eks-cluster-container-insights`),
//! Auto Scaling groups, PrivateLink interface endpoints, ECS container instances. Each is checked
//! from a hand-built inventory against the shipped pack, and generated.

use std::path::Path;

use crate::common::*;
use onwatch::{
    check::{evaluate, Evaluation, Status},
    config::{self, Settings, Sources},
    findings::Code,
    generate::{self, GenerateOptions, Templates},
    model::*,
};

/// The shipped configuration and pack.
fn builtin() -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&Sources { config_dir: Some(root.join("config")), policies_dir: Some(root.join("policies")) }).unwrap()
}

fn resource(arn: String, resource_type: &str, tag_pairs: &[(&str, &str)]) -> Resource {
    Resource {
        arn,
        resource_type: resource_type.into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: tags(tag_pairs),
        attributes: Default::default(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn metric(namespace: &str, name: &str, dims: &[(&str, &str)]) -> Metric {
    Metric { namespace: namespace.into(), metric_name: name.into(), dimensions: tags(dims).into(), region: REGION.into(), account: ACCOUNT.into() }
}

/// An alarm on `namespace`/`metric` with `dims`, the other settings given.
fn alarm(name: &str, namespace: &str, metric: &str, dims: &[(&str, &str)], statistic: Statistic, periods: u32, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        namespace: Some(namespace.into()),
        metric_name: Some(metric.into()),
        dimensions: tags(dims).into(),
        statistic: Some(statistic),
        period: Some(60),
        evaluation_periods: periods,
        datapoints_to_alarm: Some(periods),
        ..cpu_alarm("unused", threshold)
    }
}

/// (rule, fan-out value, status) of every requirement of `policy`.
fn requirements_of<'e>(evaluation: &'e Evaluation, policy: &str) -> Vec<(&'e str, Option<&'e str>, Status)> {
    let mut found: Vec<_> = evaluation
        .requirements
        .iter()
        .filter(|r| r.policy == policy)
        .map(|r| (r.alarm_rule.as_str(), r.sub_dimensions.first().map(|s| s.value.as_str()), r.status))
        .collect();
    found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    found
}

fn generated(inv: &Inventory, settings: &Settings, evaluation: &Evaluation) -> String {
    let files = generate::generate(inv, settings, evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    files.iter().map(|f| f.contents.as_str()).collect()
}

fn function(name: &str, tag_pairs: &[(&str, &str)]) -> Resource {
    resource(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"), "lambda:function", tag_pairs)
}

#[test]
fn lambda_insights_memory_alarm_applies_only_to_tagged_functions_with_aws_settings() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(function("plain", &[]));
    inv.resources.push(function("covered", &[("onwatch:lambda-insights", "on")]));
    inv.resources.push(function("bare", &[("onwatch:lambda-insights", "on")]));
    for name in ["plain", "covered", "bare"] {
        inv.metrics.push(metric("LambdaInsights", "memory_utilization", &[("function_name", name)]));
    }
    inv.alarms.push(alarm("covered-memory", "LambdaInsights", "memory_utilization", &[("function_name", "covered")], Statistic::Average, 10, 90.0));
    let evaluation = evaluate(&inv, &settings, today());
    let found: Vec<_> = evaluation.requirements.iter().filter(|r| r.policy == "lambda-function-insights").map(|r| (r.resource.rsplit(':').next().unwrap(), r.status)).collect();
    assert_eq!(found.len(), 2, "only the two tagged functions: {found:?}");
    assert!(found.contains(&("covered", Status::Covered)) && found.contains(&("bare", Status::Missing)), "{found:?}");
    let all = generated(&inv, &settings, &evaluation);
    assert!(all.contains("function_name = \"bare\""), "the missing alarm is generated on the function_name dimension");
    assert!(all.contains("namespace           = \"LambdaInsights\"") && all.contains("evaluation_periods  = 10"), "AWS's settings in the generated alarm");
    assert!(!all.contains("function_name = \"plain\""), "an untagged function gets no Lambda Insights alarm");
}

#[test]
fn a_lambda_function_tagged_for_insights_that_publishes_none_is_told_why() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(function("silent", &[("onwatch:lambda-insights", "on")]));
    let evaluation = evaluate(&inv, &settings, today());
    let why = evaluation.findings.iter().find(|f| f.code == Code::AgentMetricsMissing).expect("agent-metrics-missing");
    assert!(why.message.contains("lambda-insights publishes no memory_utilization"), "{}", why.message);
    assert!(why.resource.ends_with(":function:silent"), "{}", why.resource);
}

fn eks_cluster(tag_pairs: &[(&str, &str)]) -> Resource {
    resource(format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/shop"), "eks:cluster", tag_pairs)
}

#[test]
fn eks_cluster_with_container_insights_requires_the_node_alarms_and_generates_them() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(eks_cluster(&[("onwatch:container-insights", "enabled")]));
    for name in ["node_cpu_utilization", "node_memory_utilization", "node_filesystem_utilization"] {
        inv.metrics.push(metric("ContainerInsights", name, &[("ClusterName", "shop")]));
    }
    inv.alarms.push(alarm("shop-node-cpu", "ContainerInsights", "node_cpu_utilization", &[("ClusterName", "shop")], Statistic::Maximum, 5, 80.0));
    // AWS's statistic is Maximum (the hottest node): an Average alarm hides one hot node.
    inv.alarms.push(alarm("shop-node-memory", "ContainerInsights", "node_memory_utilization", &[("ClusterName", "shop")], Statistic::Average, 5, 80.0));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(
        requirements_of(&evaluation, "eks-cluster-container-insights"),
        vec![
            ("node-cpu-utilization-high", None, Status::Covered),
            ("node-filesystem-utilization-high", None, Status::Missing),
            ("node-memory-utilization-high", None, Status::Misconfigured),
        ]
    );
    assert!(evaluation.findings.iter().any(|f| f.code == Code::StatisticMismatch && f.alarm.as_deref() == Some("shop-node-memory")), "{:#?}", evaluation.findings);
    let all = generated(&inv, &settings, &evaluation);
    assert!(all.contains("metric_name         = \"node_filesystem_utilization\""), "the missing node alarm is generated");
    assert!(all.contains("ClusterName = \"shop\""), "on the cluster's dimension");
}

#[test]
fn eks_clusters_without_the_tag_need_nothing_and_tagged_ones_without_metrics_are_told_why() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(eks_cluster(&[]));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(requirements_of(&evaluation, "eks-cluster-container-insights"), vec![]);
    inv.resources[0].tags = tags(&[("onwatch:container-insights", "enabled")]);
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(requirements_of(&evaluation, "eks-cluster-container-insights").len(), 3);
    let why = evaluation.findings.iter().find(|f| f.code == Code::AgentMetricsMissing).expect("agent-metrics-missing");
    assert!(why.message.contains("container-insights publishes no node_cpu_utilization, node_memory_utilization, node_filesystem_utilization"), "{}", why.message);
}

const ENDPOINT: &str = "vpce-0a1b2c3d4e5f60001";

/// The endpoint-level dimensions AWS/PrivateLinkEndpoints publishes, and `subnet` when given.
fn endpoint_dims(subnet: Option<&str>) -> Vec<(&'static str, &str)> {
    let mut dims = vec![("VPC Id", "vpc-0a1b2c3d"), ("VPC Endpoint Id", ENDPOINT), ("Endpoint Type", "Interface"), ("Service Name", "com.amazonaws.us-east-1.sqs")];
    dims.extend(subnet.map(|s| ("Subnet Id", s)));
    dims
}

#[test]
fn interface_endpoint_requires_a_packets_dropped_alarm_per_subnet_its_metrics_name() {
    let settings = builtin();
    let mut inv = inventory();
    let arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/{ENDPOINT}");
    inv.resources.push(resource(arn.clone(), "ec2:vpc-endpoint", &[]));
    // A gateway endpoint publishes nothing: no attribute, not selected, nothing said.
    inv.resources.push(resource(format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-0a1b2c3d4e5f6ffff"), "ec2:vpc-endpoint", &[]));
    inv.metrics.push(metric("AWS/PrivateLinkEndpoints", "PacketsDropped", &endpoint_dims(None)));
    for subnet in ["subnet-0aaa", "subnet-0bbb"] {
        inv.metrics.push(metric("AWS/PrivateLinkEndpoints", "PacketsDropped", &endpoint_dims(Some(subnet))));
    }
    let place = onwatch::scan::discovery::Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    onwatch::scan::discovery::complete(&mut inv.resources, &inv.metrics, &place, &settings.catalog);
    let endpoint = inv.resources.iter().find(|r| r.arn == arn).unwrap();
    assert_eq!(endpoint.attributes.get("EndpointType").map(String::as_str), Some("Interface"), "{:?}", endpoint.attributes);
    assert_eq!(endpoint.attributes.get("ServiceName").map(String::as_str), Some("com.amazonaws.us-east-1.sqs"));
    inv.alarms.push(alarm("sqs-endpoint-a-drops", "AWS/PrivateLinkEndpoints", "PacketsDropped", &endpoint_dims(Some("subnet-0aaa")), Statistic::Sum, 5, 0.0));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(
        requirements_of(&evaluation, "vpc-endpoint"),
        vec![("packets-dropped", Some("subnet-0aaa"), Status::Covered), ("packets-dropped", Some("subnet-0bbb"), Status::Missing)]
    );
    assert!(!evaluation.findings.iter().any(|f| f.code == Code::UnresolvedDimensions), "the gateway endpoint is not selected: {:#?}", evaluation.findings);
    let all = generated(&inv, &settings, &evaluation);
    for line in ["\"Subnet Id\"       = \"subnet-0bbb\"", "\"VPC Endpoint Id\" = \"vpce-0a1b2c3d4e5f60001\"", "\"Service Name\"    = \"com.amazonaws.us-east-1.sqs\""] {
        assert!(all.contains(line), "no {line} in the generated alarm:\n{all}");
    }
    assert!(!all.contains("subnet-0aaa\"\n"), "the covered subnet is not generated again");
}

#[test]
fn endpoint_service_fans_out_per_zone_behind_its_one_load_balancer_and_says_when_it_has_two() {
    let settings = builtin();
    let lb = |name: &str| format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/{name}/50dc6c495c0c9189");
    let service = |id: &str| resource(format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint-service/{id}"), "ec2:vpc-endpoint-service", &[]);
    let mut inv = inventory();
    inv.resources.push(service("vpce-svc-0a1b2c3d4e5f60001"));
    inv.resources.push(service("vpce-svc-0a1b2c3d4e5f60002"));
    for az in ["us-east-1a", "us-east-1b"] {
        inv.metrics.push(metric("AWS/PrivateLinkServices", "RstPacketsSent", &[("Service Id", "vpce-svc-0a1b2c3d4e5f60001"), ("Load Balancer Arn", &lb("edge")), ("Az", az)]));
    }
    for name in ["one", "two"] {
        inv.metrics.push(metric("AWS/PrivateLinkServices", "RstPacketsSent", &[("Service Id", "vpce-svc-0a1b2c3d4e5f60002"), ("Load Balancer Arn", &lb(name)), ("Az", "us-east-1a")]));
    }
    let place = onwatch::scan::discovery::Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    onwatch::scan::discovery::complete(&mut inv.resources, &inv.metrics, &place, &settings.catalog);
    let evaluation = evaluate(&inv, &settings, today());
    let found: Vec<_> = evaluation.requirements.iter().filter(|r| r.policy == "vpc-endpoint-service").map(|r| (r.resource.rsplit('/').next().unwrap(), r.sub_dimensions.first().map(|s| s.value.as_str()), r.status)).collect();
    assert!(found.contains(&("vpce-svc-0a1b2c3d4e5f60001", Some("us-east-1a"), Status::Missing)), "{found:?}");
    assert!(found.contains(&("vpce-svc-0a1b2c3d4e5f60001", Some("us-east-1b"), Status::Missing)), "{found:?}");
    assert!(found.contains(&("vpce-svc-0a1b2c3d4e5f60002", None, Status::Unresolved)), "two load balancers: {found:?}");
    let why = evaluation.findings.iter().find(|f| f.code == Code::UnresolvedDimensions).expect("unresolved-dimensions for the service behind two load balancers");
    assert!(why.resource.ends_with("vpce-svc-0a1b2c3d4e5f60002") && why.message.contains("LoadBalancerArn"), "{}", why.message);
    let all = generated(&inv, &settings, &evaluation);
    assert!(all.contains(&format!("\"Load Balancer Arn\" = \"{}\"", lb("edge"))) && all.contains("Az                  = \"us-east-1b\""), "{all}");
}

#[test]
fn container_instances_are_discovered_from_container_insights_and_need_a_filesystem_alarm() {
    let settings = builtin();
    let mut inv = inventory();
    let id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    inv.metrics.push(metric("ECS/ContainerInsights", "instance_filesystem_utilization", &[("ClusterName", "main"), ("ContainerInstanceId", id), ("InstanceId", "i-0a1b2c3d4e5f60001")]));
    let place = onwatch::scan::discovery::Place { partition: "aws".into(), account: ACCOUNT.into(), region: REGION.into() };
    let added = onwatch::scan::discovery::complete(&mut inv.resources, &inv.metrics, &place, &settings.catalog);
    assert_eq!(added, 1);
    let instance = &inv.resources[0];
    assert_eq!(instance.arn, format!("arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/main/{id}"));
    assert_eq!(instance.resource_type, "ecs:container-instance");
    assert_eq!(instance.attributes.get("InstanceId").map(String::as_str), Some("i-0a1b2c3d4e5f60001"));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(requirements_of(&evaluation, "ecs-container-instance"), vec![("instance-filesystem-utilization-high", None, Status::Missing)]);
    let all = generated(&inv, &settings, &evaluation);
    assert!(all.contains("ContainerInstanceId = \"0a1b2c3d4e5f60718293a4b5c6d7e8f9\"") && all.contains("InstanceId          = \"i-0a1b2c3d4e5f60001\""), "{all}");
}

fn auto_scaling_group(name: &str, tag_pairs: &[(&str, &str)]) -> Resource {
    let arn = format!("arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b:autoScalingGroupName/{name}");
    resource(arn, "autoscaling:autoScalingGroup", tag_pairs)
}

#[test]
fn auto_scaling_group_needs_an_in_service_capacity_alarm_whose_floor_a_tag_sets() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(auto_scaling_group("web", &[("onwatch:GroupInServiceCapacity", "2")]));
    inv.resources.push(auto_scaling_group("batch", &[]));
    for name in ["web", "batch"] {
        inv.metrics.push(metric("AWS/AutoScaling", "GroupInServiceCapacity", &[("AutoScalingGroupName", name)]));
    }
    let mut low = alarm("web-in-service", "AWS/AutoScaling", "GroupInServiceCapacity", &[("AutoScalingGroupName", "web")], Statistic::Average, 10, 1.0);
    low.comparison_operator = ComparisonOperator::LessThanThreshold;
    inv.alarms.push(low);
    let evaluation = evaluate(&inv, &settings, today());
    let found: Vec<_> = evaluation.requirements.iter().filter(|r| r.policy == "autoscaling-group").map(|r| (r.resource.rsplit('/').next().unwrap(), r.status, r.threshold)).collect();
    assert!(found.contains(&("web", Status::Misconfigured, 2.0)), "the tag's floor is 2, the alarm's 1: {found:?}");
    assert!(found.contains(&("batch", Status::Missing, 1.0)), "{found:?}");
    let all = generated(&inv, &settings, &evaluation);
    assert!(all.contains("AutoScalingGroupName = \"batch\"") && all.contains("treat_missing_data  = \"breaching\""), "{all}");
}

#[test]
fn auto_scaling_group_without_metrics_collection_is_told_why() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(auto_scaling_group("quiet", &[]));
    let evaluation = evaluate(&inv, &settings, today());
    let why = evaluation.findings.iter().find(|f| f.code == Code::AgentMetricsMissing).expect("agent-metrics-missing");
    assert!(why.message.contains("group-metrics-collection publishes no GroupInServiceCapacity"), "{}", why.message);
}

const DECLARED: &str = r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_eks_cluster" "shop" {
  name     = "shop"
  role_arn = "arn:aws:iam::111111111111:role/eks"
  vpc_config {
    subnet_ids = ["subnet-0aaa", "subnet-0bbb"]
  }
  tags = { "onwatch:container-insights" = "enabled" }
}

resource "aws_autoscaling_group" "workers" {
  name             = "workers"
  min_size         = 2
  max_size         = 6
  desired_capacity = 2
}

resource "aws_vpc_endpoint" "sqs" {
  vpc_id            = "vpc-0a1b2c3d"
  service_name      = "com.amazonaws.us-east-1.sqs"
  vpc_endpoint_type = "Interface"
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id       = "vpc-0a1b2c3d"
  service_name = "com.amazonaws.us-east-1.s3"
}

resource "aws_vpc_endpoint_service" "partner" {
  acceptance_required        = true
  network_load_balancer_arns = ["arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/edge/50dc6c495c0c9189"]
}
"#;

#[test]
fn terraform_declares_eks_clusters_auto_scaling_groups_and_privatelink_for_the_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tf")).unwrap();
    std::fs::write(dir.path().join("tf/main.tf"), DECLARED).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (config, policies) = (root.join("config"), root.join("policies"));
    let args = ["check", "--as-of", "2026-11-25", "--config", config.to_str().unwrap(), "--policies", policies.to_str().unwrap()];
    let (code, stdout, stderr) = onwatch_in(dir.path(), &[&args[..], &["--terraform", "tf", "--format", "json", "--output", "report.json"]].concat());
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    // The gateway endpoint (s3, the provider's default type) is not an interface endpoint.
    assert_eq!(report["summary"]["declared_resources"], 4, "{report}");
    let findings = report["findings"].as_array().unwrap();
    let line = |start: &str| DECLARED.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    let at = |requirement: &str| findings.iter().find(|f| f["requirement"] == requirement).unwrap_or_else(|| panic!("no {requirement} in {report}"));
    let group = at("autoscaling-group/in-service-capacity-low");
    assert_eq!((group["terraform_address"].as_str(), group["location"].as_str()), (Some("aws_autoscaling_group.workers"), Some(format!("tf/main.tf:{}", line("resource \"aws_autoscaling_group\"")).as_str())));
    assert!(group["message"].as_str().unwrap().contains("AutoScalingGroupName=workers"), "{group}");
    let cluster = at("eks-cluster-container-insights/node-cpu-utilization-high");
    assert_eq!(cluster["terraform_address"], "aws_eks_cluster.shop");
    assert_eq!(cluster["resource"], "arn:aws:eks:us-east-1:${account}:cluster/shop");
}
