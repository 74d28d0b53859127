//! What the Tagging API cannot tell, read from the metrics CloudWatch lists, as the resource type
//! catalogue (`config/resource_types.json`) says.
//!
//! - Resources that were never tagged are invisible to the Tagging API, but AWS services publish
//!   metrics for them. A metric whose dimensions are exactly a namespace's `discovery` ones
//!   (`AWS/EC2` with exactly `InstanceId`, `AWS/SQS` with exactly `QueueName`, ...) names a
//!   resource: the dimension values, inverted through their templates, build its ARN with the
//!   type's `arn` template, and the ARN is kept when the catalogue classifies it as that type.
//!   When it is not already in the inventory, it is added, marked [`DiscoveredBy::Metrics`].
//! - Attributes the check needs and the ARN lacks (`{attr:Name}` dimension templates): a target
//!   group's `LoadBalancer`, an EBS volume's `InstanceId`, an API Gateway stage's `ApiName`, read
//!   from the metrics that carry every identifying dimension, when exactly one resource of the
//!   type has the key the other dimensions give and exactly one value was seen for it (an API
//!   stage's metrics carry the stage name but not the REST API id, so two stages of one name are
//!   ambiguous).
//!
//! Pure functions over onwatch's own types, so they are tested without AWS.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::{
    config::{self, Catalog},
    model::{DiscoveredBy, Metric, Resource},
};

/// Where the metrics came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub account: String,
    pub region: String,
}

impl Place {
    fn borrowed(&self) -> config::Place<'_> {
        config::Place { partition: &self.partition, region: &self.region, account: &self.account }
    }
}

/// Adds the resources that only the metrics reveal, and fills the attributes the ARN lacks.
/// Returns how many resources were added. `resources` and `metrics` are those of one account
/// and region.
pub fn complete(resources: &mut Vec<Resource>, metrics: &[Metric], place: &Place, catalog: &Catalog) -> usize {
    let at = place.borrowed();
    let known: HashSet<&str> = resources.iter().map(|r| r.arn.as_str()).collect();
    let mut found: BTreeMap<String, Resource> = BTreeMap::new();
    for metric in metrics {
        let Some((resource_type, arn)) = catalog.discover(&metric.namespace, &metric.dimensions, &at) else { continue };
        if known.contains(arn.as_str()) || found.contains_key(&arn) {
            continue;
        }
        let resource = Resource {
            arn: arn.clone(),
            resource_type: resource_type.name.clone(),
            region: place.region.clone(),
            account: place.account.clone(),
            tags: BTreeMap::new(),
            attributes: BTreeMap::new(),
            discovered_by: DiscoveredBy::Metrics,
        };
        found.insert(arn, resource);
    }
    let added = found.len();
    resources.extend(found.into_values());
    fill_attributes(resources, metrics, &at, catalog);
    fill_attributes_by_metric(resources, metrics, catalog);
    added
}

/// `name=value␟...` of identifying dimensions, in name order.
fn identity_key<'d>(dimensions: impl Iterator<Item = (&'d str, &'d str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = dimensions.collect();
    pairs.sort_unstable();
    pairs.iter().map(|(name, value)| format!("{name}={value}\u{1f}")).collect()
}

/// Sets the attributes that the metrics a resource publishes tell (a catalogue namespace's
/// `attributes_by_metric`: a WebSocket API stage publishes `ConnectCount`, an HTTP one `4xx`),
/// when they tell exactly one value; a value the resource has already is kept.
fn fill_attributes_by_metric(resources: &mut [Resource], metrics: &[Metric], catalog: &Catalog) {
    let telling: HashSet<&str> = resources
        .iter()
        .filter_map(|r| catalog.get(&r.resource_type))
        .flat_map(|t| t.namespaces.iter().filter(|(_, ns)| !ns.attributes_by_metric.is_empty()).map(|(name, _)| name.as_str()))
        .collect();
    if telling.is_empty() {
        return;
    }
    let mut published: HashMap<(&str, String), HashSet<&str>> = HashMap::new();
    for metric in metrics.iter().filter(|m| telling.contains(m.namespace.as_str())) {
        let Some(identity) = catalog.identity(&metric.namespace, &metric.dimensions) else { continue };
        published.entry((metric.namespace.as_str(), identity_key(identity))).or_default().insert(metric.metric_name.as_str());
    }
    for resource in resources.iter_mut() {
        let Some(resource_type) = catalog.get(&resource.resource_type) else { continue };
        for (namespace, spec) in resource_type.namespaces.iter().filter(|(_, ns)| !ns.attributes_by_metric.is_empty()) {
            let Ok(dimensions) = resource_type.dimensions(resource, namespace) else { continue };
            let Some(names) = published.get(&(namespace.as_str(), identity_key(dimensions.iter()))) else { continue };
            for (attribute, values) in &spec.attributes_by_metric {
                let told: Vec<&String> = values.iter().filter(|(_, metrics)| metrics.iter().any(|m| names.contains(m.as_str()))).map(|(value, _)| value).collect();
                if let [value] = told.as_slice() {
                    resource.attributes.entry(attribute.clone()).or_insert_with(|| (*value).clone());
                }
            }
        }
    }
}

/// Per (type, attribute, resource key): the values the metrics carry, or how many resources have the key.
type ByKey<'c, T> = HashMap<(&'c str, &'c str, String), T>;

fn fill_attributes(resources: &mut [Resource], metrics: &[Metric], at: &config::Place, catalog: &Catalog) {
    let mut seen: ByKey<BTreeSet<&str>> = HashMap::new();
    for metric in metrics {
        for source in catalog.attribute_sources(&metric.namespace) {
            if let Some((key, value)) = source.read(&metric.dimensions, at) {
                seen.entry((&source.resource_type, &source.attribute, key)).or_default().insert(value);
            }
        }
    }
    if seen.is_empty() {
        return;
    }
    // A key that two resources have tells neither apart (two API stages of one name).
    let mut keyed: BTreeSet<(usize, (&str, &str, String))> = BTreeSet::new();
    for (index, resource) in resources.iter().enumerate() {
        let Some(resource_type) = catalog.get(&resource.resource_type) else { continue };
        for source in catalog.attribute_sources_of(&resource.resource_type) {
            if let Some(key) = source.key_of(resource_type, resource) {
                keyed.insert((index, (&source.resource_type, &source.attribute, key)));
            }
        }
    }
    let mut holders: ByKey<usize> = HashMap::new();
    for (_, key) in &keyed {
        *holders.entry(key.clone()).or_default() += 1;
    }
    for (index, key) in keyed {
        let Some(values) = seen.get(&key).filter(|values| values.len() == 1 && holders[&key] == 1) else { continue };
        let value = values.iter().next().expect("one value").to_string();
        resources[index].attributes.entry(key.1.to_string()).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::arn::resource_type;

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

    fn catalog() -> Catalog {
        config::load_catalog(None).unwrap()
    }

    fn tagged(arn: &str) -> Resource {
        Resource {
            arn: arn.into(),
            resource_type: resource_type(&catalog(), arn).unwrap(),
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
        let added = complete(&mut resources, &metrics, &place(), &catalog());
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
        complete(&mut resources, &metrics, &place(), &catalog());
        let attribute = |arn: &str, name: &str| resources.iter().find(|r| r.arn == arn).unwrap().attributes.get(name).cloned();
        assert_eq!(attribute(group, "LoadBalancer").as_deref(), Some("app/web/50dc6c495c0c9188"));
        assert_eq!(attribute(shared, "LoadBalancer"), None, "two load balancers: ambiguous");
        assert_eq!(attribute(volume, "InstanceId").as_deref(), Some("i-0000000000000000a"));
        assert_eq!(attribute(stage, "ApiName").as_deref(), Some("shop"));
        assert_eq!(attribute(twin_a, "ApiName"), None, "two stages named live: ambiguous");
    }

    #[test]
    fn v2_stages_are_discovered_and_their_protocol_told_by_the_metrics_they_publish() {
        let http = "arn:aws:apigateway:eu-west-1::/apis/f6g7h8i9j0/stages/$default";
        let socket = "arn:aws:apigateway:eu-west-1::/apis/k1l2m3n4o5/stages/prod";
        let both = "arn:aws:apigateway:eu-west-1::/apis/p1q2r3s4t5/stages/prod";
        let mut declared = tagged("arn:aws:apigateway:eu-west-1::/apis/u1v2w3x4y5/stages/live");
        declared.attributes.insert("ProtocolType".into(), "HTTP".into());
        let mut resources = vec![tagged(http), declared.clone()];
        let stage = |api: &'static str, stage: &'static str| [("ApiId", api), ("Stage", stage)];
        let metrics = vec![
            metric("AWS/ApiGateway", "4xx", &stage("f6g7h8i9j0", "$default")),
            metric("AWS/ApiGateway", "Latency", &[("ApiId", "f6g7h8i9j0"), ("Stage", "$default"), ("Route", "GET /orders")]),
            metric("AWS/ApiGateway", "ConnectCount", &stage("k1l2m3n4o5", "prod")),
            metric("AWS/ApiGateway", "MessageCount", &[("ApiId", "k1l2m3n4o5"), ("Stage", "prod"), ("Route", "$connect")]),
            metric("AWS/ApiGateway", "5xx", &stage("p1q2r3s4t5", "prod")),
            metric("AWS/ApiGateway", "ExecutionError", &stage("p1q2r3s4t5", "prod")),
            metric("AWS/ApiGateway", "ConnectCount", &stage("u1v2w3x4y5", "live")),
        ];
        let added = complete(&mut resources, &metrics, &place(), &catalog());
        assert_eq!(added, 2, "the WebSocket stage and the ambiguous one are discovered from their metrics");
        let found = |arn: &str| resources.iter().find(|r| r.arn == arn).unwrap_or_else(|| panic!("{arn} not in {resources:#?}"));
        assert_eq!(found(socket).resource_type, "apigateway:apis/stages");
        assert_eq!(found(socket).discovered_by, DiscoveredBy::Metrics);
        let protocol = |arn: &str| found(arn).attributes.get("ProtocolType").cloned();
        assert_eq!(protocol(http).as_deref(), Some("HTTP"));
        assert_eq!(protocol(socket).as_deref(), Some("WEBSOCKET"));
        assert_eq!(protocol(both), None, "metrics of both protocols tell neither");
        assert_eq!(protocol(&declared.arn).as_deref(), Some("HTTP"), "a value the resource has is kept");
    }
}
