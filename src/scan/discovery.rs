//! What the Tagging API cannot tell, read from the metrics CloudWatch lists.
//!
//! - Resources that were never tagged are invisible to the Tagging API, but AWS services publish
//!   metrics for them. A metric whose dimensions identify one resource (`AWS/EC2` with exactly
//!   `InstanceId`, `AWS/SQS` with exactly `QueueName`, ...) names a resource; when its ARN is not
//!   already in the inventory, it is added, marked [`DiscoveredBy::Metrics`].
//! - Attributes the check needs and the ARN lacks: a target group's `LoadBalancer` (from the
//!   `TargetGroup`+`LoadBalancer` metrics of the ELB namespaces), an EBS volume's `InstanceId`
//!   (from `AWS/EBS` `VolumeId`+`InstanceId`), and an API Gateway stage's `ApiName` (from
//!   `AWS/ApiGateway` `ApiName`+`Stage`, only when exactly one API has a stage of that name,
//!   since the metrics do not carry the REST API id).
//!
//! Pure functions over onwatch's own types, so they are tested without AWS.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::arn::resource_type;
use crate::model::{Arn, DiscoveredBy, Metric, Resource};

/// Where the metrics came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub account: String,
    pub region: String,
}

/// How a metric's dimensions (exactly these names) map to the ARN of one resource.
struct Rule {
    namespace: &'static str,
    dimensions: &'static [&'static str],
    /// Builds the ARN's resource part from the dimension values, in `dimensions` order;
    /// `None` when the values do not have the expected shape.
    resource: fn(&[&str]) -> Option<String>,
    service: &'static str,
    /// Whether the ARN carries no region (CloudFront).
    global: bool,
}

const RULES: &[Rule] = &[
    Rule { namespace: "AWS/EC2", dimensions: &["InstanceId"], resource: |v| Some(format!("instance/{}", v[0])), service: "ec2", global: false },
    Rule { namespace: "AWS/EBS", dimensions: &["VolumeId"], resource: |v| Some(format!("volume/{}", v[0])), service: "ec2", global: false },
    Rule { namespace: "AWS/RDS", dimensions: &["DBInstanceIdentifier"], resource: |v| Some(format!("db:{}", v[0])), service: "rds", global: false },
    Rule { namespace: "AWS/RDS", dimensions: &["DBClusterIdentifier"], resource: |v| Some(format!("cluster:{}", v[0])), service: "rds", global: false },
    Rule { namespace: "AWS/Lambda", dimensions: &["FunctionName"], resource: |v| Some(format!("function:{}", v[0])), service: "lambda", global: false },
    Rule { namespace: "AWS/DynamoDB", dimensions: &["TableName"], resource: |v| Some(format!("table/{}", v[0])), service: "dynamodb", global: false },
    Rule { namespace: "AWS/SQS", dimensions: &["QueueName"], resource: |v| Some(v[0].to_string()), service: "sqs", global: false },
    Rule { namespace: "AWS/SNS", dimensions: &["TopicName"], resource: |v| Some(v[0].to_string()), service: "sns", global: false },
    Rule {
        namespace: "AWS/ApplicationELB",
        dimensions: &["LoadBalancer"],
        resource: |v| v[0].starts_with("app/").then(|| format!("loadbalancer/{}", v[0])),
        service: "elasticloadbalancing",
        global: false,
    },
    Rule {
        namespace: "AWS/NetworkELB",
        dimensions: &["LoadBalancer"],
        resource: |v| v[0].starts_with("net/").then(|| format!("loadbalancer/{}", v[0])),
        service: "elasticloadbalancing",
        global: false,
    },
    Rule {
        namespace: "AWS/ApplicationELB",
        dimensions: &["LoadBalancer", "TargetGroup"],
        resource: |v| v[1].starts_with("targetgroup/").then(|| v[1].to_string()),
        service: "elasticloadbalancing",
        global: false,
    },
    Rule {
        namespace: "AWS/NetworkELB",
        dimensions: &["LoadBalancer", "TargetGroup"],
        resource: |v| v[1].starts_with("targetgroup/").then(|| v[1].to_string()),
        service: "elasticloadbalancing",
        global: false,
    },
    Rule { namespace: "AWS/ECS", dimensions: &["ClusterName"], resource: |v| Some(format!("cluster/{}", v[0])), service: "ecs", global: false },
    Rule {
        namespace: "AWS/ECS",
        dimensions: &["ClusterName", "ServiceName"],
        resource: |v| Some(format!("service/{}/{}", v[0], v[1])),
        service: "ecs",
        global: false,
    },
    Rule { namespace: "AWS/ElastiCache", dimensions: &["CacheClusterId"], resource: |v| Some(format!("cluster:{}", v[0])), service: "elasticache", global: false },
    Rule { namespace: "AWS/Kinesis", dimensions: &["StreamName"], resource: |v| Some(format!("stream/{}", v[0])), service: "kinesis", global: false },
    Rule {
        namespace: "AWS/CloudFront",
        dimensions: &["DistributionId", "Region"],
        resource: |v| (v[1] == "Global").then(|| format!("distribution/{}", v[0])),
        service: "cloudfront",
        global: true,
    },
];

/// The ARN of the resource a metric identifies, if its namespace and dimension names match a rule.
/// Step Functions metrics carry the state machine's ARN itself.
fn arn_of(metric: &Metric, place: &Place) -> Option<String> {
    let names: Vec<&str> = metric.dimensions.iter().map(|(name, _)| name).collect();
    if metric.namespace == "AWS/States" && names == ["StateMachineArn"] {
        let arn = metric.dimensions.get("StateMachineArn")?;
        return Arn::parse(arn).is_some().then(|| arn.to_string());
    }
    let rule = RULES.iter().find(|r| r.namespace == metric.namespace && r.dimensions == names.as_slice())?;
    let values: Vec<&str> = rule.dimensions.iter().filter_map(|name| metric.dimensions.get(name)).collect();
    if values.iter().any(|v| v.is_empty()) {
        return None;
    }
    let resource = (rule.resource)(&values)?;
    let region = if rule.global { "" } else { place.region.as_str() };
    Some(format!("arn:{}:{}:{}:{}:{}", place.partition, rule.service, region, place.account, resource))
}

/// The one value of `pairs` for `key`, when there is exactly one.
fn unique<'a>(pairs: &BTreeMap<&'a str, BTreeSet<&'a str>>, key: &str) -> Option<&'a str> {
    match pairs.get(key) {
        Some(values) if values.len() == 1 => values.iter().next().copied(),
        _ => None,
    }
}

/// Adds the resources that only the metrics reveal, and fills the attributes the ARN lacks.
/// Returns how many resources were added. `resources` and `metrics` are those of one account
/// and region.
pub fn complete(resources: &mut Vec<Resource>, metrics: &[Metric], place: &Place) -> usize {
    let mut known: HashSet<String> = resources.iter().map(|r| r.arn.clone()).collect();
    let mut found: BTreeMap<String, Resource> = BTreeMap::new();
    for metric in metrics {
        let Some(arn) = arn_of(metric, place) else { continue };
        if known.contains(&arn) || found.contains_key(&arn) {
            continue;
        }
        let Some(resource_type) = resource_type(&arn) else { continue };
        found.insert(
            arn.clone(),
            Resource {
                arn,
                resource_type,
                region: place.region.clone(),
                account: place.account.clone(),
                tags: BTreeMap::new(),
                attributes: BTreeMap::new(),
                discovered_by: DiscoveredBy::Metrics,
            },
        );
    }
    let added = found.len();
    known.extend(found.keys().cloned());
    resources.extend(found.into_values());

    // Attribute sources: target group → load balancers, volume → instances, stage → API names.
    let mut load_balancers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut instances: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut api_names: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for metric in metrics {
        let dims = &metric.dimensions;
        match metric.namespace.as_str() {
            "AWS/ApplicationELB" | "AWS/NetworkELB" => {
                if let (Some(group), Some(balancer)) = (dims.get("TargetGroup"), dims.get("LoadBalancer")) {
                    load_balancers.entry(group).or_default().insert(balancer);
                }
            }
            "AWS/EBS" => {
                if let (Some(volume), Some(instance)) = (dims.get("VolumeId"), dims.get("InstanceId")) {
                    instances.entry(volume).or_default().insert(instance);
                }
            }
            "AWS/ApiGateway" => {
                if let (Some(stage), Some(api)) = (dims.get("Stage"), dims.get("ApiName")) {
                    api_names.entry(stage).or_default().insert(api);
                }
            }
            _ => {}
        }
    }
    // A stage name shared by several REST APIs in the inventory cannot be told apart by metrics.
    let mut stages_by_name: BTreeMap<String, usize> = BTreeMap::new();
    for resource in resources.iter().filter(|r| r.resource_type == "apigateway:stage") {
        if let Some(stage) = resource.arn.rsplit('/').next() {
            *stages_by_name.entry(stage.to_string()).or_default() += 1;
        }
    }
    for resource in resources.iter_mut() {
        let Some(arn) = Arn::parse(&resource.arn) else { continue };
        let (attribute, value) = match resource.resource_type.as_str() {
            "elasticloadbalancing:targetgroup" => ("LoadBalancer", unique(&load_balancers, arn.resource)),
            "ec2:volume" => ("InstanceId", arn.resource.strip_prefix("volume/").and_then(|id| unique(&instances, id))),
            "apigateway:stage" => {
                let stage = arn.resource.rsplit('/').next().unwrap_or_default();
                let alone = stages_by_name.get(stage) == Some(&1);
                ("ApiName", if alone { unique(&api_names, stage) } else { None })
            }
            _ => continue,
        };
        if let Some(value) = value {
            resource.attributes.entry(attribute.to_string()).or_insert_with(|| value.to_string());
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place { partition: "aws".into(), account: "123456789012".into(), region: "eu-west-1".into() }
    }

    fn metric(namespace: &str, name: &str, dims: &[(&str, &str)]) -> Metric {
        Metric {
            namespace: namespace.into(),
            metric_name: name.into(),
            dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
        }
    }

    fn tagged(arn: &str) -> Resource {
        Resource {
            arn: arn.into(),
            resource_type: resource_type(arn).unwrap(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            tags: [("team".to_string(), "web".to_string())].into(),
            attributes: BTreeMap::new(),
            discovered_by: DiscoveredBy::Tagging,
        }
    }

    #[test]
    fn untagged_resources_are_found_through_their_metrics_once() {
        let mut resources = vec![tagged("arn:aws:ec2:eu-west-1:123456789012:instance/i-0000000000000000a")];
        let metrics = vec![
            metric("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-0000000000000000a")]),
            metric("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-0000000000000000b")]),
            metric("AWS/EC2", "StatusCheckFailed", &[("InstanceId", "i-0000000000000000b")]),
            // Aggregates and finer-grained metrics name no single resource.
            metric("AWS/EC2", "CPUUtilization", &[("AutoScalingGroupName", "web")]),
            metric("AWS/Lambda", "Errors", &[("FunctionName", "checkout"), ("Resource", "checkout:live")]),
            metric("AWS/Lambda", "Errors", &[("FunctionName", "checkout")]),
            metric("AWS/SQS", "NumberOfMessagesSent", &[("QueueName", "legacy")]),
            metric("AWS/RDS", "CPUUtilization", &[("DBInstanceIdentifier", "orders")]),
            metric("AWS/DynamoDB", "ConsumedReadCapacityUnits", &[("TableName", "sessions")]),
            metric("AWS/ApplicationELB", "RequestCount", &[("LoadBalancer", "app/web/50dc6c495c0c9188")]),
            metric("AWS/States", "ExecutionsFailed", &[("StateMachineArn", "arn:aws:states:eu-west-1:123456789012:stateMachine:fulfil")]),
            metric("AWS/CloudFront", "Requests", &[("DistributionId", "E2ABCDEFGHIJKL"), ("Region", "Global")]),
            metric("CWAgent", "mem_used_percent", &[("InstanceId", "i-0000000000000000c")]),
        ];
        let added = complete(&mut resources, &metrics, &place());
        let found: Vec<(&str, &str)> = resources
            .iter()
            .filter(|r| r.discovered_by == DiscoveredBy::Metrics)
            .map(|r| (r.arn.as_str(), r.resource_type.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("arn:aws:cloudfront::123456789012:distribution/E2ABCDEFGHIJKL", "cloudfront:distribution"),
                ("arn:aws:dynamodb:eu-west-1:123456789012:table/sessions", "dynamodb:table"),
                ("arn:aws:ec2:eu-west-1:123456789012:instance/i-0000000000000000b", "ec2:instance"),
                (
                    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
                    "elasticloadbalancing:loadbalancer/app"
                ),
                ("arn:aws:lambda:eu-west-1:123456789012:function:checkout", "lambda:function"),
                ("arn:aws:rds:eu-west-1:123456789012:db:orders", "rds:db"),
                ("arn:aws:sqs:eu-west-1:123456789012:legacy", "sqs:queue"),
                ("arn:aws:states:eu-west-1:123456789012:stateMachine:fulfil", "states:stateMachine"),
            ]
        );
        assert_eq!(added, found.len());
    }

    #[test]
    fn attributes_come_from_metric_dimensions_when_unambiguous() {
        let group = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067";
        let shared = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/two-lbs/73e2d6bc24d8a068";
        let volume = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0000000000000000a";
        let stage = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod";
        let twin_a = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e6/stages/live";
        let twin_b = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e7/stages/live";
        let mut resources: Vec<Resource> = [group, shared, volume, stage, twin_a, twin_b].into_iter().map(tagged).collect();
        let metrics = vec![
            metric("AWS/ApplicationELB", "HealthyHostCount", &[("TargetGroup", "targetgroup/web-tg/73e2d6bc24d8a067"), ("LoadBalancer", "app/web/50dc6c495c0c9188")]),
            metric("AWS/ApplicationELB", "HealthyHostCount", &[("TargetGroup", "targetgroup/two-lbs/73e2d6bc24d8a068"), ("LoadBalancer", "app/a/50dc6c495c0c9181")]),
            metric("AWS/ApplicationELB", "HealthyHostCount", &[("TargetGroup", "targetgroup/two-lbs/73e2d6bc24d8a068"), ("LoadBalancer", "app/b/50dc6c495c0c9182")]),
            metric("AWS/EBS", "VolumeStalledIOCheck", &[("VolumeId", "vol-0000000000000000a"), ("InstanceId", "i-0000000000000000a")]),
            metric("AWS/ApiGateway", "Count", &[("ApiName", "shop"), ("Stage", "prod")]),
            metric("AWS/ApiGateway", "Count", &[("ApiName", "admin"), ("Stage", "live")]),
        ];
        complete(&mut resources, &metrics, &place());
        let attribute = |arn: &str, name: &str| resources.iter().find(|r| r.arn == arn).unwrap().attributes.get(name).cloned();
        assert_eq!(attribute(group, "LoadBalancer").as_deref(), Some("app/web/50dc6c495c0c9188"));
        assert_eq!(attribute(shared, "LoadBalancer"), None, "two load balancers: ambiguous");
        assert_eq!(attribute(volume, "InstanceId").as_deref(), Some("i-0000000000000000a"));
        assert_eq!(attribute(stage, "ApiName").as_deref(), Some("shop"));
        assert_eq!(attribute(twin_a, "ApiName"), None, "two stages named live: ambiguous");
    }
}
