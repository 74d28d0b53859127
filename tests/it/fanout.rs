//! `for_each_dimension`: a policy alarm fanned out over the values of one extra dimension that the
//! account publishes (a disk alarm per mount path here, a Cognito alarm per app client in the pack),
//! or over the value pairs of two (an API Gateway alarm per resource and method).

use std::{fs, path::Path};

use crate::common::*;
use onwatch::{
    check::{evaluate, Status},
    config::{self, Settings, Sources},
    findings::Code,
    generate::{self, GenerateOptions, Templates},
    model::*,
};

const DISK_POLICY: &str = r#"{
  "id": "ec2-disk",
  "description": "Every mounted filesystem of every instance: disk usage, one alarm per path.",
  "resource_type": "ec2:instance",
  "alarms": [
    {
      "id": "disk-full",
      "namespace": "CWAgent",
      "metric": "disk_used_percent",
      "statistic": "Maximum",
      "period": 300,
      "evaluation_periods": 1,
      "datapoints_to_alarm": 1,
      "comparison": "GreaterThanThreshold",
      "threshold": 90,
      "treat_missing_data": "missing",
      "severity": "critical",
      "description": "A filesystem above 90% fills up soon.",
      "for_each_dimension": "path"
    }
  ]
}"#;

/// The fixture configuration with the disk policy beside the fixture policies.
fn settings_with(policy: &str) -> Result<Settings, onwatch::error::Error> {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    fs::create_dir(&policies).unwrap();
    for entry in fs::read_dir(fixtures().join("policies")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    fs::write(policies.join("ec2-disk.json"), policy).unwrap();
    config::load(&Sources { config_dir: Some(Path::new("tests/fixtures/config").to_path_buf()), policies_dir: Some(policies) })
}

fn disk_metric(instance_id: &str, path: &str) -> Metric {
    Metric {
        namespace: "CWAgent".into(),
        metric_name: "disk_used_percent".into(),
        dimensions: tags(&[("InstanceId", instance_id), ("path", path), ("fstype", "xfs")]).into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    }
}

fn disk_alarm(instance_id: &str, path: &str, threshold: f64) -> MetricAlarm {
    MetricAlarm {
        name: format!("{instance_id}-disk-{path}"),
        namespace: Some("CWAgent".into()),
        metric_name: Some("disk_used_percent".into()),
        dimensions: tags(&[("InstanceId", instance_id), ("path", path), ("fstype", "xfs")]).into(),
        statistic: Some(Statistic::Maximum),
        period: Some(300),
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        ..cpu_alarm(instance_id, threshold)
    }
}

/// An instance with two mounted paths, the root one alarmed correctly, `/data` not at all.
fn two_paths() -> Inventory {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-disks");
    inv.metrics.push(disk_metric("i-disks", "/"));
    inv.metrics.push(disk_metric("i-disks", "/data"));
    // Another instance's path must not become a requirement of this one.
    inv.metrics.push(disk_metric("i-other", "/scratch"));
    inv.alarms.push(disk_alarm("i-disks", "/", 90.0));
    inv
}

fn disk_requirements(evaluation: &onwatch::check::Evaluation) -> Vec<(String, Status)> {
    evaluation
        .requirements
        .iter()
        .filter(|r| r.alarm_rule == "disk-full")
        .map(|r| (r.sub_dimensions.iter().map(|s| format!("{}={}", s.name, s.value)).collect::<Vec<_>>().join(","), r.status))
        .collect()
}

#[test]
fn fan_out_requires_one_alarm_per_published_value_of_the_dimension() {
    let settings = settings_with(DISK_POLICY).unwrap();
    let evaluation = evaluate(&two_paths(), &settings, today());
    assert_eq!(disk_requirements(&evaluation), vec![("path=/".to_string(), Status::Covered), ("path=/data".to_string(), Status::Missing)]);
    let missing: Vec<_> = evaluation.findings.iter().filter(|f| f.code == Code::MissingAlarm).collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0].requirement.as_deref(), Some("ec2-disk/disk-full[path=/data]"));
    assert!(missing[0].message.contains("InstanceId=i-disks, path=/data"), "{}", missing[0].message);
}

#[test]
fn fan_out_alarm_on_another_value_does_not_cover() {
    let settings = settings_with(DISK_POLICY).unwrap();
    let mut inv = two_paths();
    inv.alarms.retain(|a| a.metric_name.as_deref() != Some("disk_used_percent"));
    inv.alarms.push(disk_alarm("i-disks", "/data", 95.0));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(disk_requirements(&evaluation), vec![("path=/".to_string(), Status::Missing), ("path=/data".to_string(), Status::Misconfigured)]);
    let mismatch = evaluation.findings.iter().find(|f| f.code == Code::ThresholdMismatch).expect("threshold mismatch on /data");
    assert_eq!(mismatch.requirement.as_deref(), Some("ec2-disk/disk-full[path=/data]"));
}

#[test]
fn fan_out_with_no_published_value_requires_nothing() {
    let settings = settings_with(DISK_POLICY).unwrap();
    let mut inv = inventory();
    covered_instance(&mut inv, "i-nodisk");
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(disk_requirements(&evaluation), vec![]);
    assert_eq!(evaluation.summary.required, 2);
}

#[test]
fn fan_out_generates_one_alarm_per_value_with_the_extra_dimension() {
    let settings = settings_with(DISK_POLICY).unwrap();
    let inv = two_paths();
    let evaluation = evaluate(&inv, &settings, today());
    let files = generate::generate(&inv, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all: true }).unwrap();
    let all: String = files.iter().map(|f| f.contents.as_str()).collect();
    for path in ["/", "/data"] {
        let name = format!("\"onwatch-critical-ec2-disk-i-disks-disk-full-{path}\"");
        assert!(all.contains(&name), "no alarm named {name}");
        assert!(all.contains(&format!("path       = \"{path}\"")) || all.contains(&format!("path = \"{path}\"")), "no dimension path = {path}");
    }
    assert!(!all.contains("/scratch"), "another instance's path leaked into this one's alarms");
}

#[test]
fn fan_out_on_an_identifying_dimension_is_refused_with_its_json_path() {
    let error = settings_with(&DISK_POLICY.replace("\"for_each_dimension\": \"path\"", "\"for_each_dimension\": \"InstanceId\"")).expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("ec2-disk.json") && text.contains("$.alarms[0].for_each_dimension"), "{text}");
}

/// The shipped configuration and pack.
fn builtin() -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    config::load(&Sources { config_dir: Some(root.join("config")), policies_dir: Some(root.join("policies")) }).unwrap()
}

fn ecs_service(tag_pairs: &[(&str, &str)]) -> Resource {
    Resource {
        arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/main/web"),
        resource_type: "ecs:service".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: tags(tag_pairs),
        attributes: Default::default(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn insights_metric(metric: &str, container: Option<&str>) -> Metric {
    let mut dims = vec![("ClusterName", "main"), ("ServiceName", "web")];
    dims.extend(container.map(|c| ("ContainerName", c)));
    Metric { namespace: "ECS/ContainerInsights".into(), metric_name: metric.into(), dimensions: tags(&dims).into(), region: REGION.into(), account: ACCOUNT.into() }
}

fn container_cpu_alarm(container: &str) -> MetricAlarm {
    MetricAlarm {
        name: format!("web-{container}-cpu"),
        namespace: Some("ECS/ContainerInsights".into()),
        metric_name: Some("ContainerCpuUtilization".into()),
        dimensions: tags(&[("ClusterName", "main"), ("ServiceName", "web"), ("ContainerName", container)]).into(),
        statistic: Some(Statistic::Average),
        period: Some(60),
        evaluation_periods: 5,
        datapoints_to_alarm: Some(5),
        ..cpu_alarm("unused", 80.0)
    }
}

fn requirements_of<'e>(evaluation: &'e onwatch::check::Evaluation, policy: &str) -> Vec<(&'e str, Option<&'e str>, Status)> {
    evaluation
        .requirements
        .iter()
        .filter(|r| r.policy == policy)
        .map(|r| (r.alarm_rule.as_str(), r.sub_dimensions.first().map(|s| s.value.as_str()), r.status))
        .collect()
}

#[test]
fn container_insights_policies_apply_only_to_services_tagged_for_them() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(ecs_service(&[]));
    inv.metrics.push(insights_metric("ContainerCpuUtilization", Some("app")));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(requirements_of(&evaluation, "ecs-service-container-insights"), vec![]);
    assert_eq!(requirements_of(&evaluation, "ecs-service-enhanced-observability"), vec![]);
}

#[test]
fn enhanced_observability_fans_out_per_container_and_a_container_alarm_covers_only_its_container() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(ecs_service(&[("onwatch:container-insights", "enhanced")]));
    for container in ["app", "sidecar"] {
        inv.metrics.push(insights_metric("ContainerCpuUtilization", Some(container)));
    }
    inv.metrics.push(insights_metric("ContainerCpuUtilization", None));
    inv.alarms.push(container_cpu_alarm("app"));
    let evaluation = evaluate(&inv, &settings, today());
    let cpu: Vec<_> = requirements_of(&evaluation, "ecs-service-enhanced-observability").into_iter().filter(|r| r.0 == "container-cpu-utilization-high").collect();
    assert_eq!(cpu, vec![("container-cpu-utilization-high", Some("app"), Status::Covered), ("container-cpu-utilization-high", Some("sidecar"), Status::Missing)]);
    // The service-wide Container Insights alarm on the same metric is not covered by one container's alarm.
    let service_wide = requirements_of(&evaluation, "ecs-service-container-insights").into_iter().find(|r| r.0 == "container-cpu-utilization-high").unwrap();
    assert_eq!(service_wide, ("container-cpu-utilization-high", None, Status::Missing));
}

#[test]
fn tagged_service_without_container_insights_metrics_is_told_why() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(ecs_service(&[("onwatch:container-insights", "enabled")]));
    let evaluation = evaluate(&inv, &settings, today());
    let why = evaluation.findings.iter().find(|f| f.code == Code::AgentMetricsMissing).expect("agent-metrics-missing");
    assert!(why.message.contains("container-insights") && why.message.contains("TaskCpuUtilization"), "{}", why.message);
    let rules: Vec<_> = requirements_of(&evaluation, "ecs-service-container-insights").into_iter().map(|r| r.0).collect();
    assert_eq!(rules.len(), 6, "{rules:?}");
}

fn user_pool() -> Resource {
    Resource {
        arn: format!("arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/us-east-1_AbC123dEf"),
        resource_type: "cognito-idp:userpool".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: Default::default(),
        attributes: Default::default(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn cognito_metric(metric: &str, client: &str) -> Metric {
    Metric {
        namespace: "AWS/Cognito".into(),
        metric_name: metric.into(),
        dimensions: tags(&[("UserPool", "us-east-1_AbC123dEf"), ("UserPoolClient", client)]).into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    }
}

#[test]
fn cognito_user_pool_requires_throttling_alarms_per_app_client_with_aws_settings() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(user_pool());
    for client in ["5r2mobileclient", "Admin"] {
        for metric in ["SignInThrottles", "SignUpThrottles", "TokenRefreshThrottles"] {
            inv.metrics.push(cognito_metric(metric, client));
        }
    }
    inv.alarms.push(MetricAlarm {
        name: "pool-signin-throttles-admin".into(),
        namespace: Some("AWS/Cognito".into()),
        metric_name: Some("SignInThrottles".into()),
        dimensions: tags(&[("UserPool", "us-east-1_AbC123dEf"), ("UserPoolClient", "Admin")]).into(),
        statistic: Some(Statistic::Sum),
        period: Some(60),
        evaluation_periods: 5,
        datapoints_to_alarm: Some(5),
        comparison_operator: ComparisonOperator::GreaterThanThreshold,
        ..cpu_alarm("unused", 0.0)
    });
    let evaluation = evaluate(&inv, &settings, today());
    let found = requirements_of(&evaluation, "cognito-user-pool");
    assert_eq!(found.len(), 6, "{found:?}");
    assert!(found.contains(&("sign-in-throttled", Some("Admin"), Status::Covered)), "{found:?}");
    assert!(found.contains(&("sign-in-throttled", Some("5r2mobileclient"), Status::Missing)), "{found:?}");
    assert_eq!(found.iter().filter(|r| r.2 == Status::Covered).count(), 1);
    let files = generate::generate(&inv, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    let all: String = files.iter().map(|f| f.contents.as_str()).collect();
    assert!(all.contains("UserPoolClient = \"5r2mobileclient\""), "no per-client dimension in the generated alarms");
    assert_eq!(all.matches("metric_name         = \"SignUpThrottles\"").count(), 2, "one sign-up alarm per client");
}

fn rest_stage() -> Resource {
    Resource {
        arn: "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod".into(),
        resource_type: "apigateway:stage".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: Default::default(),
        attributes: [("ApiName".to_string(), "orders-api".to_string())].into(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn method_dims(method: Option<(&str, &str)>) -> Dimensions {
    let mut dims = vec![("ApiName", "orders-api"), ("Stage", "prod")];
    if let Some((resource, verb)) = method {
        dims.extend([("Resource", resource), ("Method", verb)]);
    }
    tags(&dims).into()
}

fn latency_metric(method: Option<(&str, &str)>) -> Metric {
    Metric { namespace: "AWS/ApiGateway".into(), metric_name: "Latency".into(), dimensions: method_dims(method), region: REGION.into(), account: ACCOUNT.into() }
}

fn latency_alarm(name: &str, dimensions: Dimensions) -> MetricAlarm {
    MetricAlarm {
        name: name.into(),
        namespace: Some("AWS/ApiGateway".into()),
        metric_name: Some("Latency".into()),
        dimensions,
        statistic: None,
        extended_statistic: Some("p90".into()),
        period: Some(60),
        evaluation_periods: 5,
        datapoints_to_alarm: Some(5),
        comparison_operator: ComparisonOperator::GreaterThanOrEqualToThreshold,
        ..cpu_alarm("unused", 2500.0)
    }
}

/// A REST stage with detailed metrics on three (resource, method) pairs, one of them alarmed.
fn stage_with_methods() -> Inventory {
    let mut inv = inventory();
    inv.resources.push(rest_stage());
    inv.metrics.push(latency_metric(None));
    for pair in [("/orders", "GET"), ("/orders", "POST"), ("/items/{id}", "GET")] {
        inv.metrics.push(latency_metric(Some(pair)));
    }
    // A metric with the resource but no method names no pair.
    inv.metrics.push(Metric { dimensions: tags(&[("ApiName", "orders-api"), ("Stage", "prod"), ("Resource", "/health")]).into(), ..latency_metric(None) });
    inv.alarms.push(latency_alarm("orders-get-latency", method_dims(Some(("/orders", "GET")))));
    inv
}

fn method_requirements(evaluation: &onwatch::check::Evaluation) -> Vec<(Vec<(String, String)>, Status)> {
    evaluation
        .requirements
        .iter()
        .filter(|r| r.policy == "apigateway-stage-methods" && r.alarm_rule == "latency-p90")
        .map(|r| (r.sub_dimensions.iter().map(|s| (s.name.clone(), s.value.clone())).collect(), r.status))
        .collect()
}

fn pair(resource: &str, method: &str) -> Vec<(String, String)> {
    vec![("Resource".to_string(), resource.to_string()), ("Method".to_string(), method.to_string())]
}

#[test]
fn two_dimension_fan_out_requires_one_alarm_per_published_pair() {
    let settings = builtin();
    let evaluation = evaluate(&stage_with_methods(), &settings, today());
    assert_eq!(
        method_requirements(&evaluation),
        vec![(pair("/items/{id}", "GET"), Status::Missing), (pair("/orders", "GET"), Status::Covered), (pair("/orders", "POST"), Status::Missing)]
    );
    let missing: Vec<_> = evaluation.findings.iter().filter(|f| f.code == Code::MissingAlarm && f.requirement.as_deref().is_some_and(|r| r.starts_with("apigateway-stage-methods/"))).collect();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    assert_eq!(missing[1].requirement.as_deref(), Some("apigateway-stage-methods/latency-p90[Resource=/orders, Method=POST]"));
    assert!(missing[1].message.contains("ApiName=orders-api, Stage=prod, Resource=/orders, Method=POST"), "{}", missing[1].message);
    // The method's alarm does not cover the stage-wide latency requirement on the same metric.
    let stage = evaluation.requirements.iter().find(|r| r.policy == "apigateway-stage" && r.alarm_rule == "latency-p90").unwrap();
    assert_eq!(stage.status, Status::Missing);
}

#[test]
fn two_dimension_fan_out_is_covered_only_by_an_alarm_on_both_values() {
    let settings = builtin();
    let mut inv = stage_with_methods();
    inv.alarms.clear();
    // One alarm on the resource only (every method), one on the right method of another resource.
    inv.alarms.push(latency_alarm("orders-any", tags(&[("ApiName", "orders-api"), ("Stage", "prod"), ("Resource", "/orders")]).into()));
    inv.alarms.push(latency_alarm("items-get", method_dims(Some(("/items/{id}", "GET")))));
    let evaluation = evaluate(&inv, &settings, today());
    assert_eq!(
        method_requirements(&evaluation),
        vec![(pair("/items/{id}", "GET"), Status::Covered), (pair("/orders", "GET"), Status::Missing), (pair("/orders", "POST"), Status::Missing)]
    );
    let stage = evaluation.requirements.iter().find(|r| r.policy == "apigateway-stage" && r.alarm_rule == "latency-p90").unwrap();
    assert_eq!(stage.status, Status::Missing, "an alarm on one resource is not the stage's");
}

#[test]
fn two_dimension_fan_out_generates_one_alarm_per_pair_with_both_dimensions() {
    let settings = builtin();
    let inv = stage_with_methods();
    let evaluation = evaluate(&inv, &settings, today());
    let files = generate::generate(&inv, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    let all: String = files.iter().map(|f| f.contents.as_str()).collect();
    assert!(all.contains("\"onwatch-warning-apigateway-stage-methods-a1b2c3d4e5/stages/prod-latency-p90-/orders-POST\""), "no alarm for /orders POST:\n{all}");
    assert!(all.contains("\"onwatch-warning-apigateway-stage-methods-a1b2c3d4e5/stages/prod-latency-p90-/items/{id}-GET\""), "no alarm for /items/{{id}} GET");
    assert!(!all.contains("latency-p90-/orders-GET\""), "the covered pair was generated again");
    assert!(!all.contains("/health"), "a metric without a method became a requirement");
    let block = all.split("resource \"aws_cloudwatch_metric_alarm\"").find(|b| b.contains("latency-p90-/orders-POST")).unwrap();
    for dimension in ["Resource = \"/orders\"", "Method   = \"POST\"", "ApiName  = \"orders-api\"", "Stage    = \"prod\""] {
        assert!(block.contains(dimension), "no {dimension} in:\n{block}");
    }
}

#[test]
fn fan_out_lists_are_checked_name_by_name_with_json_paths() {
    let policy = |fan_out: &str| DISK_POLICY.replace("\"for_each_dimension\": \"path\"", &format!("\"for_each_dimension\": {fan_out}"));
    let settings = settings_with(&policy(r#"["path", "fstype"]"#)).unwrap();
    let rule = &settings.policies.iter().find(|p| p.id == "ec2-disk").unwrap().alarms[0];
    assert_eq!(rule.for_each_dimension.as_ref().unwrap().names(), ["path", "fstype"]);
    for (fan_out, path, words) in [
        (r#"["path", "path"]"#, "$.alarms[0].for_each_dimension[1]", "twice"),
        (r#"["path", "InstanceId"]"#, "$.alarms[0].for_each_dimension[1]", "already identifies"),
    ] {
        let text = settings_with(&policy(fan_out)).expect_err("refused").to_string();
        assert!(text.contains("ec2-disk.json") && text.contains(path) && text.contains(words), "{fan_out}: {text}");
    }
    let text = settings_with(&policy("[]")).expect_err("an empty list is refused").to_string();
    assert!(text.contains("ec2-disk.json") && text.contains("for_each_dimension"), "{text}");
}

#[test]
fn two_dimension_fan_out_alarm_on_a_pair_with_a_one_dimension_rule_covers_neither() {
    // A pair's alarm carries both dimensions; a rule fanned out on the first alone wants an alarm on that value only.
    let one = DISK_POLICY;
    let two = one.replace("\"id\": \"ec2-disk\"", "\"id\": \"ec2-disk-two\"").replace("\"for_each_dimension\": \"path\"", "\"for_each_dimension\": [\"path\", \"fstype\"]");
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    fs::create_dir(&policies).unwrap();
    for entry in fs::read_dir(fixtures().join("policies")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    fs::write(policies.join("ec2-disk.json"), one).unwrap();
    fs::write(policies.join("ec2-disk-two.json"), &two).unwrap();
    let settings = config::load(&Sources { config_dir: Some(Path::new("tests/fixtures/config").to_path_buf()), policies_dir: Some(policies) }).unwrap();
    let mut inv = inventory();
    covered_instance(&mut inv, "i-disks");
    inv.metrics.push(disk_metric("i-disks", "/"));
    inv.alarms.push(disk_alarm("i-disks", "/", 90.0));
    let evaluation = evaluate(&inv, &settings, today());
    let found: Vec<(&str, usize, Status)> =
        evaluation.requirements.iter().filter(|r| r.alarm_rule == "disk-full").map(|r| (r.policy.as_str(), r.sub_dimensions.len(), r.status)).collect();
    // The alarm carries path and fstype: it is the pair's, not the path-only requirement's.
    assert_eq!(found, vec![("ec2-disk", 1, Status::Missing), ("ec2-disk-two", 2, Status::Covered)]);
}

fn v2_stage(api: &str, protocol: Option<&str>) -> Resource {
    Resource {
        arn: format!("arn:aws:apigateway:us-east-1::/apis/{api}/stages/$default"),
        resource_type: "apigateway:apis/stages".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        tags: Default::default(),
        attributes: protocol.map(|p| ("ProtocolType".to_string(), p.to_string())).into_iter().collect(),
        discovered_by: DiscoveredBy::Tagging,
    }
}

fn v2_metric(api: &str, metric: &str, route: Option<&str>) -> Metric {
    let mut dims = vec![("ApiId", api), ("Stage", "$default")];
    dims.extend(route.map(|r| ("Route", r)));
    Metric { namespace: "AWS/ApiGateway".into(), metric_name: metric.into(), dimensions: tags(&dims).into(), region: REGION.into(), account: ACCOUNT.into() }
}

#[test]
fn api_gateway_v2_stages_get_the_alarms_of_their_protocol_and_per_route_fan_out() {
    let settings = builtin();
    let mut inv = inventory();
    inv.resources.push(v2_stage("f6g7h8i9j0", Some("HTTP")));
    inv.resources.push(v2_stage("k1l2m3n4o5", Some("WEBSOCKET")));
    inv.resources.push(v2_stage("u1v2w3x4y5", None));
    inv.metrics.push(v2_metric("f6g7h8i9j0", "Latency", Some("GET /orders")));
    for route in ["$connect", "sendmessage"] {
        inv.metrics.push(v2_metric("k1l2m3n4o5", "IntegrationLatency", Some(route)));
    }
    let evaluation = evaluate(&inv, &settings, today());
    let of = |api: &str| -> Vec<String> {
        let mut found: Vec<String> = evaluation
            .requirements
            .iter()
            .filter(|r| r.resource.contains(api))
            .map(|r| format!("{}/{}{}", r.policy, r.alarm_rule, r.sub_dimensions.iter().map(|s| format!("[{}={}]", s.name, s.value)).collect::<String>()))
            .collect();
        found.sort();
        found
    };
    let http = [
        "apigateway-http-stage/4xx-rate",
        "apigateway-http-stage/5xx-rate",
        "apigateway-http-stage/latency-p90",
        "apigateway-http-stage/route-latency-p90[Route=GET /orders]",
    ];
    assert_eq!(of("f6g7h8i9j0"), http);
    assert_eq!(
        of("k1l2m3n4o5"),
        [
            "apigateway-websocket-stage/client-error-rate",
            "apigateway-websocket-stage/execution-error-rate",
            "apigateway-websocket-stage/integration-latency-p90",
            "apigateway-websocket-stage/route-integration-latency-p90[Route=$connect]",
            "apigateway-websocket-stage/route-integration-latency-p90[Route=sendmessage]",
        ]
    );
    // A stage whose protocol nothing told is taken for HTTP, the common kind.
    assert_eq!(of("u1v2w3x4y5"), http[..3]);
    let files = generate::generate(&inv, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions::default()).unwrap();
    let all: String = files.iter().map(|f| f.contents.as_str()).collect();
    assert!(all.contains("Route = \"$connect\"") || all.contains("Route   = \"$connect\""), "no per-route dimension");
    assert!(all.contains("metric_name         = \"5xx\""), "no HTTP 5xx alarm");
    assert!(all.contains("ApiId = \"k1l2m3n4o5\"") || all.contains("ApiId   = \"k1l2m3n4o5\""), "no ApiId dimension");
}
