//! Pull-request coverage of what a change adds: resources declared in Terraform source
//! (`check --terraform DIR`) and in plans (`check --plan FILE`) are checked against the policies
//! like live ones, without an inventory, and their findings point at the line that declares them.

use std::{fs, path::Path, process::Command};

use serde_json::Value;

use crate::common::fixtures;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn onwatch(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onwatch")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `check` with the shipped configuration and policies, and `extra`.
fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let config = root().join("config");
    let policies = root().join("policies");
    let mut args = vec!["check", "--as-of", "2026-11-25", "--config", config.to_str().unwrap(), "--policies", policies.to_str().unwrap()];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn json(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().unwrap().iter().collect()
}

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

const CHANGE: &str = r#"provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { team = "orders" }
  }
}

resource "aws_lambda_function" "orders" {
  function_name = "orders"
  role          = "arn:aws:iam::111111111111:role/orders"
  handler       = "main.handler"
  runtime       = "python3.12"
  filename      = "orders.zip"
}

resource "aws_db_instance" "orders" {
  identifier        = "orders-db"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
}
"#;

/// One alarm, written the way a team writes it: dimensions by reference to the resource.
#[allow(clippy::too_many_arguments)]
fn alarm(name: &str, namespace: &str, metric: &str, statistic: &str, period: u32, periods: u32, comparison: &str, threshold: &str, dimension: &str) -> String {
    let statistic = if statistic.starts_with('p') { format!("extended_statistic = \"{statistic}\"") } else { format!("statistic = \"{statistic}\"") };
    format!(
        r#"
resource "aws_cloudwatch_metric_alarm" "{name}" {{
  alarm_name          = "{name}"
  namespace           = "{namespace}"
  metric_name         = "{metric}"
  {statistic}
  period              = {period}
  evaluation_periods  = {periods}
  datapoints_to_alarm = {periods}
  comparison_operator = "{comparison}"
  threshold           = {threshold}
  treat_missing_data  = "{missing}"
  alarm_actions       = [aws_sns_topic.oncall.arn]
  dimensions = {{
    {dimension}
  }}
}}
"#,
        missing = if namespace == "AWS/RDS" || namespace == "AWS/EC2" { "missing" } else { "notBreaching" }
    )
}

/// The alarms the shipped policies require of the function, the database and the topic the
/// alarms notify (itself a new resource to watch), referencing them.
fn alarms() -> String {
    let function = "FunctionName = aws_lambda_function.orders.function_name";
    let database = "DBInstanceIdentifier = aws_db_instance.orders.identifier";
    let mut text = String::from(
        r#"
resource "aws_sns_topic" "oncall" {
  name = "oncall"
}

resource "aws_sns_topic_subscription" "oncall" {
  topic_arn = aws_sns_topic.oncall.arn
  protocol  = "email"
  endpoint  = "oncall@example.com"
}
"#,
    );
    for (name, metric, statistic, periods, comparison, threshold) in [
        ("orders-errors", "Errors", "Sum", 3, "GreaterThanThreshold", "1"),
        ("orders-throttles", "Throttles", "Sum", 5, "GreaterThanOrEqualToThreshold", "1"),
        ("orders-duration", "Duration", "p90", 15, "GreaterThanThreshold", "5000"),
        ("orders-concurrency", "ConcurrentExecutions", "Maximum", 10, "GreaterThanThreshold", "900"),
    ] {
        text.push_str(&alarm(name, "AWS/Lambda", metric, statistic, 60, periods, comparison, threshold, function));
    }
    for (name, metric, statistic, periods, comparison, threshold) in [
        ("orders-db-cpu", "CPUUtilization", "Average", 5, "GreaterThanThreshold", "90"),
        ("orders-db-storage", "FreeStorageSpace", "Minimum", 5, "LessThanThreshold", "10737418240"),
        ("orders-db-memory", "FreeableMemory", "Average", 15, "LessThanThreshold", "536870912"),
        ("orders-db-read-latency", "ReadLatency", "p90", 5, "GreaterThanThreshold", "0.02"),
        ("orders-db-write-latency", "WriteLatency", "p90", 5, "GreaterThanThreshold", "0.02"),
        ("orders-db-ebs-bytes", "EBSByteBalance%", "Average", 3, "LessThanThreshold", "10"),
        ("orders-db-ebs-io", "EBSIOBalance%", "Average", 3, "LessThanThreshold", "10"),
        ("orders-db-xids", "MaximumUsedTransactionIDs", "Average", 1, "GreaterThanThreshold", "1000000000"),
        ("orders-db-replica-lag", "ReplicaLag", "Maximum", 10, "GreaterThanThreshold", "60"),
        ("orders-db-buffer-cache", "BufferCacheHitRatio", "Average", 10, "LessThanThreshold", "80"),
        ("orders-db-history-list", "RollbackSegmentHistoryListLength", "Average", 5, "GreaterThanThreshold", "1000000"),
    ] {
        text.push_str(&alarm(name, "AWS/RDS", metric, statistic, 60, periods, comparison, threshold, database));
    }
    for (name, metric) in [
        ("oncall-failed", "NumberOfNotificationsFailed"),
        ("oncall-redrive-failed", "NumberOfNotificationsFailedToRedriveToDlq"),
        ("oncall-invalid-attributes", "NumberOfNotificationsFilteredOut-InvalidAttributes"),
        ("oncall-invalid-body", "NumberOfNotificationsFilteredOut-InvalidMessageBody"),
        ("oncall-redriven", "NumberOfNotificationsRedrivenToDlq"),
    ] {
        text.push_str(&alarm(name, "AWS/SNS", metric, "Sum", 60, 5, "GreaterThanThreshold", "0", "TopicName = aws_sns_topic.oncall.name"));
    }
    text
}

#[test]
fn a_function_and_a_database_without_alarms_fail_at_their_lines_without_an_inventory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", CHANGE);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("terraform: 2 resources declared in tf and not yet live, checked"), "{stderr}");
    let report = json(dir.path(), "report.json");
    assert_eq!(report["summary"]["declared_resources"], 2, "{report}");
    assert_eq!(report["summary"]["declared_without_alarms"], 2, "{report}");
    let missing: Vec<&Value> = findings(&report).into_iter().filter(|f| f["code"] == "missing-alarm").collect();
    let function_line = format!("tf/main.tf:{}", line_of(CHANGE, "resource \"aws_lambda_function\""));
    let database_line = format!("tf/main.tf:{}", line_of(CHANGE, "resource \"aws_db_instance\""));
    let at = |requirement: &str| missing.iter().find(|f| f["requirement"] == requirement).unwrap_or_else(|| panic!("no {requirement} in {report}"));
    let storage = at("rds-db/free-storage-low");
    assert_eq!(storage["location"], database_line.as_str());
    assert_eq!(storage["terraform_address"], "aws_db_instance.orders");
    assert_eq!(storage["resource"], "arn:aws:rds:eu-west-1:${account}:db:orders-db");
    assert!(storage["message"].as_str().unwrap().contains("DBInstanceIdentifier=orders-db"), "{storage}");
    let errors = at("lambda-function/errors");
    assert_eq!(errors["location"], function_line.as_str());
    assert_eq!(errors["terraform_address"], "aws_lambda_function.orders");
    assert_eq!(missing.len(), 15, "4 function and 11 database alarms: {report}");

    // Text and Markdown show the line; SARIF points there.
    let (_, text, _) = check(dir.path(), &["--terraform", "tf"]);
    assert!(text.contains(&format!("  at: {database_line} (aws_db_instance.orders)")), "{text}");
    let (_, markdown, _) = check(dir.path(), &["--terraform", "tf", "--format", "markdown"]);
    assert!(markdown.starts_with("**This change adds 2 resources to watch, 2 without their alarms.**"), "{markdown}");
    assert!(markdown.contains(&format!("`aws_db_instance.orders` at `{database_line}`")), "{markdown}");
    let (_, sarif, _) = check(dir.path(), &["--terraform", "tf", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let storage = results.iter().find(|r| r["message"]["text"].as_str().unwrap().contains("FreeStorageSpace")).unwrap();
    let location = &storage["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "tf/main.tf");
    assert_eq!(location["region"]["startLine"], line_of(CHANGE, "resource \"aws_db_instance\""));
    assert_eq!(storage["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "aws_db_instance.orders");
}

#[test]
fn alarms_referencing_the_new_resources_make_the_check_pass() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", CHANGE);
    write(dir.path(), "tf/alarms.tf", &alarms());
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    let report = json(dir.path(), "report.json");
    assert_eq!(code, 0, "{stdout}{stderr}{report}");
    assert_eq!(report["summary"]["declared_resources"], 3, "the function, the database and the topic: {report}");
    assert_eq!(report["summary"]["covered"], 20, "{report}");
    assert_eq!(report["summary"]["declared_not_live"], 20, "{report}");
    assert_eq!(report["summary"]["declared_without_alarms"].as_u64().unwrap_or(0), 0, "left out when zero: {report}");
    let codes: Vec<&str> = findings(&report).iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(!codes.contains(&"missing-alarm") && !codes.contains(&"orphaned-alarm"), "{codes:?}");

    // A wrong threshold on the storage alarm is a finding at the alarm's line.
    let text = alarms().replace("threshold           = 10737418240", "threshold           = 1073741824");
    write(dir.path(), "tf/alarms.tf", &text);
    let (_, _, _) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    let report = json(dir.path(), "report.json");
    let mismatch = findings(&report).into_iter().find(|f| f["code"] == "threshold-mismatch").unwrap_or_else(|| panic!("{report}"));
    assert_eq!(mismatch["resource"], "arn:aws:rds:eu-west-1:${account}:db:orders-db", "{mismatch}");
    assert_eq!(mismatch["location"], format!("tf/main.tf:{}", line_of(CHANGE, "resource \"aws_db_instance\"")));
}

#[test]
fn an_instance_id_known_only_after_apply_matches_an_alarm_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "provider \"aws\" {{\n  region = \"eu-west-1\"\n}}\n\nresource \"aws_instance\" \"web\" {{\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}}\n{}{}",
        alarms().split("\nresource \"aws_cloudwatch_metric_alarm\"").next().unwrap(),
        alarm("web-cpu", "AWS/EC2", "CPUUtilization", "Average", 300, 3, "GreaterThanThreshold", "80", "InstanceId = aws_instance.web.id")
    );
    write(dir.path(), "tf/main.tf", &source);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "the memory and disk alarms are still missing: {stdout}{stderr}");
    let report = json(dir.path(), "report.json");
    let requirements: Vec<&str> = findings(&report).iter().filter(|f| f["code"] == "missing-alarm").map(|f| f["requirement"].as_str().unwrap()).collect();
    assert!(!requirements.is_empty() && !requirements.iter().any(|r| r.contains("cpu")), "{requirements:?}");
    let other = findings(&report).into_iter().find(|f| f["code"] == "missing-alarm").unwrap();
    assert_eq!(other["resource"], "arn:aws:ec2:eu-west-1:${account}:instance/${aws_instance.web.id}");
    assert_eq!(other["terraform_address"], "aws_instance.web");
}

#[test]
fn local_modules_for_each_count_and_default_tags_are_read_and_remote_modules_noted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tf/main.tf",
        "provider \"aws\" {\n  region = \"eu-west-1\"\n  default_tags {\n    tags = { \"onwatch:Errors\" = \"5\" }\n  }\n}\n\nmodule \"app\" {\n  source = \"./modules/app\"\n}\n\nmodule \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
    );
    let module = r#"variable "names" {
  default = ["a", "b"]
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(var.names)
  function_name = "fn-${each.key}"
  role          = "arn:aws:iam::111111111111:role/fn"
}

resource "aws_sqs_queue" "jobs" {
  count = 2
  name  = "jobs-${count.index}"
}
"#;
    write(dir.path(), "tf/modules/app/main.tf", module);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("module.vpc (source \"terraform-aws-modules/vpc/aws\") is not read: only local module sources are followed"), "{stderr}");
    let report = json(dir.path(), "report.json");
    assert_eq!(report["summary"]["declared_resources"], 4, "{report}");
    let all = findings(&report);
    let errors = all.iter().find(|f| f["requirement"] == "lambda-function/errors" && f["resource"].as_str().unwrap().ends_with(":function:fn-b")).unwrap();
    assert_eq!(errors["terraform_address"], "module.app.aws_lambda_function.fn[\"b\"]");
    assert_eq!(errors["location"], format!("tf/modules/app/main.tf:{}", line_of(module, "resource \"aws_lambda_function\"")));
    // The provider's default_tags reach the module's resources: the threshold tag applies.
    assert!(errors["message"].as_str().unwrap().contains("> 5 "), "{errors}");
    let queue = all.iter().find(|f| f["terraform_address"] == "module.app.aws_sqs_queue.jobs[1]").unwrap_or_else(|| panic!("{report}"));
    assert_eq!(queue["resource"], "arn:aws:sqs:eu-west-1:${account}:jobs-1");
}

#[test]
fn a_module_cycle_is_an_error_naming_the_call() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", "module \"a\" {\n  source = \"./a\"\n}\n");
    write(dir.path(), "tf/a/main.tf", "module \"b\" {\n  source = \"../b\"\n}\n");
    write(dir.path(), "tf/b/main.tf", "\nmodule \"a\" {\n  source = \"../a\"\n}\n");
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--output", "report.json"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("tf/b/main.tf:2: module.a calls a again, a module cycle"), "{stderr}");
    assert!(!dir.path().join("report.json").exists());
}

fn plans() -> std::path::PathBuf {
    fixtures().join("plans")
}

#[test]
fn a_plan_s_creates_updates_and_replacements_are_checked_and_its_deletes_drop_out() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plans().join("hand/changes.json");
    // Live: the function the plan deletes, an alarm on it, and the table it updates.
    let inventory = r#"{"version": 1,
      "scopes": [{"account": "111111111111", "region": "eu-west-1"}],
      "resources": [
        {"arn": "arn:aws:lambda:eu-west-1:111111111111:function:legacy", "type": "lambda:function", "region": "eu-west-1", "account": "111111111111"},
        {"arn": "arn:aws:dynamodb:eu-west-1:111111111111:table/sessions", "type": "dynamodb:table", "region": "eu-west-1", "account": "111111111111"}],
      "alarms": [{"name": "legacy-errors", "region": "eu-west-1", "account": "111111111111", "namespace": "AWS/Lambda", "metric_name": "Errors",
        "dimensions": {"FunctionName": "legacy"}, "statistic": "Sum", "period": 60, "evaluation_periods": 3, "comparison_operator": "GreaterThanThreshold",
        "threshold": 1, "actions_enabled": true, "alarm_actions": [], "ok_actions": [], "insufficient_data_actions": []}]}"#;
    write(dir.path(), "inventory.json", inventory);
    let plan_arg = plan.to_str().unwrap();
    let (code, stdout, stderr) = check(dir.path(), &["--inventory", "inventory.json", "--plan", plan_arg, "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("plan: 1 deleted; 1 resources and 0 alarms left the inventory"), "{stderr}");
    let report = json(dir.path(), "report.json");
    let all = findings(&report);
    let at = |address: &str| all.iter().filter(|f| f["terraform_address"] == address).collect::<Vec<_>>();
    // Created: the database (its ARN formed from the identifier and the inventory's account).
    let database = at("aws_db_instance.orders");
    assert!(database.iter().any(|f| f["requirement"] == "rds-db/free-storage-low"), "{report}");
    assert_eq!(database[0]["resource"], "arn:aws:rds:eu-west-1:111111111111:db:orders-db");
    assert_eq!(database[0]["location"], plan_arg);
    // Nested modules keep their addresses.
    assert!(!at("module.app.module.worker[0].aws_lambda_function.worker").is_empty(), "{report}");
    // Replaced: the queue is checked.
    assert!(!at("aws_sqs_queue.jobs").is_empty(), "{report}");
    // Updated and live: one resource, placed at the plan.
    assert!(all.iter().filter(|f| f["resource"] == "arn:aws:dynamodb:eu-west-1:111111111111:table/sessions").all(|f| f["terraform_address"] == "aws_dynamodb_table.sessions"));
    // Unknown after apply: the instance's CPU alarm matches it by reference.
    let web: Vec<&str> = at("aws_instance.web").iter().filter(|f| f["code"] == "missing-alarm").map(|f| f["requirement"].as_str().unwrap()).collect();
    assert!(!web.is_empty() && !web.iter().any(|r| r.contains("cpu")), "{web:?}");
    // Deleted: the function is gone, and the alarm left watching it is orphaned.
    assert!(!all.iter().any(|f| f["resource"] == "arn:aws:lambda:eu-west-1:111111111111:function:legacy"), "{report}");
    assert!(all.iter().any(|f| f["code"] == "orphaned-alarm" && f["alarm"] == "legacy-errors"), "{report}");
    // Not changed: left out. The created bucket is declared, but a new bucket publishes no request
    // metrics, so the request-metric alarms (one per published FilterId) require nothing of it.
    assert!(!all.iter().any(|f| f["terraform_address"] == "aws_s3_bucket.logs" || f["terraform_address"] == "aws_instance.old"));
    assert_eq!(report["summary"]["declared_resources"], 6, "db, instance, topic, worker, queue, bucket: {report}");

    // Without an inventory: the region comes from the plan's variables, the account is unknown.
    let (code, _, stderr) = check(dir.path(), &["--plan", plan_arg, "--format", "json", "--output", "alone.json"]);
    assert_eq!(code, 1, "{stderr}");
    let alone = json(dir.path(), "alone.json");
    assert!(findings(&alone).iter().any(|f| f["resource"] == "arn:aws:rds:eu-west-1:${account}:db:orders-db"), "{alone}");
}

#[test]
fn the_real_plans_are_read_and_their_new_resources_reported() {
    let dir = tempfile::tempdir().unwrap();
    // (file, the supported resources it creates or updates that a shipped policy selects)
    let expected: [(&str, &[&str]); 4] = [
        ("checkov-plan-provisioners.json", &["aws_instance.web"]),
        ("infracost-policy-upload.json", &["aws_dynamodb_table.autoscale_dynamodb_table", "aws_instance.web_app"]),
        ("overmind-terraform-example.json", &[]),
        // Its target group is read too (counted), but the target-group policies select by the
        // LoadBalancer attribute, which the block alone does not give: no finding.
        ("terraform-compliance-issue-249.json", &["module.alb.aws_alb.alb", "module.lambda_TFUpgradeTest.aws_lambda_function.lambda", "module.myapp-asg.aws_autoscaling_group.asg"]),
    ];
    let counted = |file: &str, addresses: &[&str]| addresses.len() as u64 + u64::from(file.starts_with("terraform-compliance"));
    for (file, addresses) in expected {
        let plan = plans().join(file);
        let (code, stdout, stderr) = check(dir.path(), &["--plan", plan.to_str().unwrap(), "--format", "json", "--output", "report.json", "--fail-on", "never"]);
        assert_eq!(code, 0, "{file}: {stdout}{stderr}");
        let report = json(dir.path(), "report.json");
        assert_eq!(report["summary"]["declared_resources"].as_u64().unwrap_or(0), counted(file, addresses), "{file}: {report}");
        let placed: std::collections::BTreeSet<&str> = findings(&report).iter().filter_map(|f| f["terraform_address"].as_str()).collect();
        for address in addresses {
            assert!(placed.contains(address), "{file}: no finding on {address}: {placed:?}");
        }
    }
}

#[test]
fn an_unsupported_or_malformed_plan_exits_2_naming_the_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    for (file, place) in [("format-2.json", "at $.format_version: plan JSON format version \"2.0\" is not supported"), ("malformed.json", "at $.resource_changes[0].change.actions")] {
        let plan = plans().join("hand").join(file);
        let (code, stdout, stderr) = check(dir.path(), &["--plan", plan.to_str().unwrap(), "--output", "report.json"]);
        assert_eq!(code, 2, "{file}: {stdout}{stderr}");
        assert!(stderr.contains(&format!("{}: {place}", plan.display())) || stderr.contains(&format!("{}:", plan.display())) && stderr.contains(place), "{file}: {stderr}");
        assert!(!dir.path().join("report.json").exists());
    }
}

#[test]
fn references_between_declared_resources_and_load_balancer_types_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let source = r#"provider "aws" {
  region = "eu-west-1"
}

resource "aws_ecs_cluster" "main" {
  name = "main"
}

resource "aws_ecs_service" "web" {
  name    = "web"
  cluster = aws_ecs_cluster.main.id
}

resource "aws_lb" "web" {
  name = "web"
}

resource "aws_lb" "edge" {
  name               = "edge"
  load_balancer_type = "network"
}
"#;
    write(dir.path(), "tf/main.tf", source);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report = json(dir.path(), "report.json");
    let resource = |address: &str| {
        findings(&report).into_iter().find(|f| f["terraform_address"] == address).map(|f| f["resource"].as_str().unwrap().to_string())
    };
    // The service's cluster is the cluster's ARN (its id), whose name the service's ARN takes.
    assert_eq!(resource("aws_ecs_service.web").as_deref(), Some("arn:aws:ecs:eu-west-1:${account}:service/main/web"), "{report}");
    // load_balancer_type tells the types apart; unset is application. Their suffix is known after apply.
    assert_eq!(
        resource("aws_lb.web").as_deref(),
        Some("arn:aws:elasticloadbalancing:eu-west-1:${account}:loadbalancer/${aws_lb.web.arn_suffix}"),
        "{report}"
    );
    let types: std::collections::BTreeMap<&str, &str> = findings(&report)
        .into_iter()
        .filter_map(|f| Some((f["terraform_address"].as_str()?, f["resource_type"].as_str()?)))
        .collect();
    assert_eq!(types.get("aws_lb.web"), Some(&"elasticloadbalancing:loadbalancer/app"), "{types:?}");
    assert_eq!(types.get("aws_lb.edge"), Some(&"elasticloadbalancing:loadbalancer/net"), "{types:?}");
}

#[test]
fn references_to_one_count_or_for_each_instance_match_that_instance() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "provider \"aws\" {{\n  region = \"eu-west-1\"\n}}\n\nresource \"aws_instance\" \"web\" {{\n  count         = 2\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}}\n\n\
         resource \"aws_instance\" \"api\" {{\n  for_each      = toset([\"a\", \"b\"])\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}}\n{}{}{}",
        alarms().split("\nresource \"aws_cloudwatch_metric_alarm\"").next().unwrap(),
        alarm("web-0-cpu", "AWS/EC2", "CPUUtilization", "Average", 300, 3, "GreaterThanThreshold", "80", "InstanceId = aws_instance.web[0].id"),
        alarm("api-a-cpu", "AWS/EC2", "CPUUtilization", "Average", 300, 3, "GreaterThanThreshold", "80", "InstanceId = aws_instance.api[\"a\"].id")
    );
    write(dir.path(), "tf/main.tf", &source);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report = json(dir.path(), "report.json");
    let cpu_missing: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["code"] == "missing-alarm" && f["requirement"].as_str().unwrap().contains("cpu"))
        .map(|f| f["terraform_address"].as_str().unwrap())
        .collect();
    // Each alarm covers the one instance it names, not its siblings.
    assert_eq!(cpu_missing.len(), 2, "{report}");
    assert!(cpu_missing.contains(&"aws_instance.web[1]") && cpu_missing.contains(&"aws_instance.api[\"b\"]"), "{cpu_missing:?}");
    let orphaned = findings(&report).iter().filter(|f| f["code"] == "orphaned-alarm").count();
    assert_eq!(orphaned, 0, "{report}");
}

#[test]
fn a_reference_to_a_missing_block_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "{CHANGE}{}",
        alarm("orders-errors", "AWS/Lambda", "Errors", "Sum", 60, 3, "GreaterThanThreshold", "1", "FunctionName = aws_lambda_function.order.function_name")
    );
    write(dir.path(), "tf/main.tf", &source);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--output", "report.json"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let line = line_of(&source, "resource \"aws_cloudwatch_metric_alarm\"");
    assert!(stderr.contains(&format!("tf/main.tf:{line}: ")), "{stderr}");
    assert!(stderr.contains("aws_lambda_function.order, a resource block this module does not declare"), "{stderr}");
    assert!(!dir.path().join("report.json").exists());
    // A type the module declares no block of at all.
    write(dir.path(), "tf/main.tf", &source.replace("aws_lambda_function.order.", "aws_lambda_alias.orders."));
    let (code, _, stderr) = check(dir.path(), &["--terraform", "tf", "--output", "report.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("aws_lambda_alias.orders, a resource block this module does not declare"), "{stderr}");
}

/// The shipped configuration with every severity routed to an e-mail (the shipped one routes
/// `info` nowhere, which `check` reports on the alarms that notify it), in `dir/config`.
fn routed_config(dir: &Path) {
    for entry in fs::read_dir(root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        write(dir, &format!("config/{}", path.file_name().unwrap().to_str().unwrap()), &fs::read_to_string(&path).unwrap());
    }
    let mut thresholds: Value = json(dir, "config/alert_thresholds.json");
    thresholds["severities"]["info"]["email"] = serde_json::json!(["info@example.com"]);
    write(dir, "config/alert_thresholds.json", &serde_json::to_string_pretty(&thresholds).unwrap());
}

/// `generate --into tf` with the configuration of [`routed_config`] and the shipped policies.
fn generate_into(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    routed_config(dir);
    let policies = root().join("policies");
    let mut args = vec!["generate", "--as-of", "2026-11-25", "--config", "config", "--policies", policies.to_str().unwrap(), "--into", "tf"];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

/// `check` with the configuration of [`routed_config`].
fn check_routed(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    routed_config(dir);
    let policies = root().join("policies");
    let mut args = vec!["check", "--as-of", "2026-11-25", "--config", "config", "--policies", policies.to_str().unwrap()];
    args.extend_from_slice(extra);
    onwatch(&args, dir)
}

const WEB: &str = r#"
resource "aws_instance" "web" {
  count         = 2
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
}
"#;

#[test]
fn generate_into_writes_the_alarms_that_make_the_check_pass() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!("{CHANGE}{WEB}");
    write(dir.path(), "tf/main.tf", &source);
    let (code, stdout, stderr) = check_routed(dir.path(), &["--terraform", "tf"]);
    assert_eq!(code, 1, "the change without alarms fails: {stdout}{stderr}");

    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let written = fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap();
    assert!(written.starts_with("# Generated by `onwatch generate`."), "{written}");
    assert_eq!(fs::read_to_string(dir.path().join("tf/main.tf")).unwrap(), source, "hand-written files are never touched");
    // Known statically: a literal; known only after apply: a reference to that instance.
    assert!(written.contains("FunctionName = \"orders\""), "{written}");
    assert!(written.contains("DBInstanceIdentifier = \"orders-db\""), "{written}");
    assert!(written.contains("InstanceId = aws_instance.web[0].id") && written.contains("InstanceId = aws_instance.web[1].id"), "{written}");
    assert!(written.contains("resource \"aws_sns_topic\" \"onwatch_critical\""), "{written}");
    assert!(!written.contains("$${") && !written.contains("${aws_") && !written.contains("${account}"), "no token lands in the file: {written}");

    // The same check passes now: every declared resource, the topics included, has its alarms.
    let (code, stdout, stderr) = check_routed(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    let report = json(dir.path(), "report.json");
    assert_eq!(code, 0, "{stdout}{stderr}{report}");
    let codes: Vec<&str> = findings(&report).iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(!codes.contains(&"missing-alarm"), "{codes:?}");
    assert!(report["summary"]["covered"].as_u64().unwrap() >= 8 + 2, "{report}");

    // Deterministic, and --check agrees; a change to the source makes it stale.
    let (code, _, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 files, 0 changed"), "{stderr}");
    assert_eq!(fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap(), written);
    let (code, stdout, stderr) = generate_into(dir.path(), &["--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    write(dir.path(), "tf/main.tf", &source.replace("count         = 2", "count         = 3"));
    let (code, stdout, _) = generate_into(dir.path(), &["--check"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("+  InstanceId = aws_instance.web[2].id") || stdout.contains("aws_instance.web[2].id"), "{stdout}");
    assert_eq!(fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap(), written, "--check writes nothing");
}

#[test]
fn generate_into_never_replaces_a_hand_written_file_and_stops_at_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", CHANGE);
    write(dir.path(), "tf/onwatch_alarms.tf", "# mine\n");
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap(), "# mine\n");
    fs::remove_file(dir.path().join("tf/onwatch_alarms.tf")).unwrap();

    // A reference to a missing block: exit 2 naming the file and line, nothing written.
    let source = format!("{CHANGE}\nlocals {{\n  name = aws_db_instance.order.identifier\n}}\n");
    write(dir.path(), "tf/main.tf", &source);
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("tf/main.tf:{}:", line_of(&source, "  name = aws_db_instance.order"))), "{stderr}");
    assert!(!dir.path().join("tf/onwatch_alarms.tf").exists());
}

#[test]
#[ignore = "conformance: needs hclfmt; scripts/test.sh runs it"]
fn generate_into_writes_canonical_terraform_fmt_layout() {
    let hclfmt = std::env::var("ONWATCH_HCLFMT").expect("ONWATCH_HCLFMT is not set: run the suite with scripts/test.sh, which builds HashiCorp's hclfmt");
    let dir = tempfile::tempdir().unwrap();
    let path = into_fixture(dir.path());
    assert!(fs::read_to_string(&path).unwrap().contains("InstanceId = aws_instance.api[\"b\"].id"));
    let output = Command::new(hclfmt).args(["-check", "-require-no-change"]).arg(&path).output().unwrap();
    assert!(output.status.success(), "onwatch_alarms.tf is not canonical: {}", String::from_utf8_lossy(&output.stderr));
}

/// `--into` writes single-metric alarm blocks: a metric-math rule (the Lambda error rate, selected
/// by `onwatch:rates=on`) is left out and said on standard error, never written as an alarm on a
/// metric named after the rule's result.
#[test]
fn generate_into_leaves_out_metric_math_rules_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let tagged = CHANGE.replace("  filename      = \"orders.zip\"\n", "  filename      = \"orders.zip\"\n  tags          = { \"onwatch:rates\" = \"on\" }\n");
    assert_ne!(tagged, CHANGE, "the fixture's Lambda function gained the tag");
    write(dir.path(), "tf/main.tf", &tagged);
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("lambda-function-error-rate/") && stderr.contains("--into does not write yet"), "{stderr}");
    let written = fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap();
    assert!(!written.contains("ErrorRate"), "{written}");
    assert!(written.contains("FunctionName = \"orders\""), "the function's other alarms are written: {written}");
}

/// The end-to-end repository: a Lambda function named in the source and an RDS instance whose
/// identifier the provider generates at apply (so `--into` must refer to it), in the emulator's
/// region, tagged through `default_tags` (the scanner lists resources through the Tagging API).
const E2E: &str = r#"provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { team = "api" }
  }
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "arn:aws:iam::111111111111:role/api"
  handler       = "main.handler"
  runtime       = "python3.12"
  filename      = "api.zip"
}

resource "aws_db_instance" "main" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
}
"#;

/// Runs tests/emulator/apply.py against `emulator`; returns its standard output.
fn emulator_script(emulator: &crate::harness::Emulator, args: &[&str]) -> String {
    let script = root().join("tests/emulator/apply.py");
    let output = Command::new(crate::harness::tool("ONWATCH_PYTHON"))
        .arg(script)
        .args(["--endpoint", &emulator.endpoint, "--region", crate::harness::REGION])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "apply.py {args:?} failed:\n{}\nemulator:\n{}", String::from_utf8_lossy(&output.stderr), emulator.stderr());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The (requirement, Terraform address) of every missing-alarm finding of `report`.
fn missing_alarms(report: &Value) -> std::collections::BTreeSet<(String, String)> {
    findings(report)
        .into_iter()
        .filter(|f| f["code"] == "missing-alarm")
        .map(|f| (f["requirement"].as_str().unwrap().to_string(), f["terraform_address"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// One line per finding (code, severity, resource, alarm, requirement), for assertion messages.
fn brief(report: &Value) -> String {
    let field = |f: &Value, k: &str| f[k].as_str().unwrap_or("-").to_string();
    findings(report).iter().map(|f| format!("{} {} {} {} {}\n", field(f, "code"), field(f, "severity"), field(f, "resource"), field(f, "alarm"), field(f, "requirement"))).collect()
}

/// Issue 10's end to end: the change fails the check at both resources' lines; `generate --into`
/// makes it pass; after the emulator's "terraform apply" of the resources and the generated file
/// (references resolved to what the emulator created), a scan of the account passes the same
/// check live, covering as many requirements, and drift finds the applied alarms in sync.
#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn a_change_fails_then_passes_after_generate_into_and_the_applied_account_agrees() {
    use crate::harness::{Emulator, REGION};
    use onwatch::{check::drift, terraform};
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", E2E);

    // 1. Without alarms: exit 1, a missing alarm on each resource at the line of its block.
    let (code, stdout, stderr) = check_routed(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "before.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let before = json(dir.path(), "before.json");
    let lines = [
        ("aws_lambda_function.api", format!("tf/main.tf:{}", line_of(E2E, "resource \"aws_lambda_function\""))),
        ("aws_db_instance.main", format!("tf/main.tf:{}", line_of(E2E, "resource \"aws_db_instance\""))),
    ];
    for (address, line) in &lines {
        let mine: Vec<&Value> = findings(&before).into_iter().filter(|f| f["code"] == "missing-alarm" && f["terraform_address"] == *address).collect();
        assert!(!mine.is_empty(), "no missing alarm on {address}: {before}");
        assert!(mine.iter().all(|f| f["location"] == line.as_str()), "{address} at {line}: {mine:?}");
    }
    assert!(missing_alarms(&before).contains(&("rds-db/free-storage-low".into(), "aws_db_instance.main".into())), "{before}");
    assert!(missing_alarms(&before).contains(&("lambda-function/errors".into(), "aws_lambda_function.api".into())), "{before}");

    // 2. generate --into, then the same check passes.
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let written = fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap();
    assert!(written.contains("FunctionName = \"api\""), "{written}");
    assert!(written.contains("DBInstanceIdentifier = aws_db_instance.main.identifier"), "{written}");
    let (code, stdout, stderr) = check_routed(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "declared.json"]);
    let declared_report = json(dir.path(), "declared.json");
    assert_eq!(code, 0, "{stdout}{stderr}{declared_report}");
    assert_eq!(missing_alarms(&declared_report), Default::default(), "{declared_report}");
    let covered = declared_report["summary"]["covered"].as_u64().unwrap();
    assert!(covered as usize >= missing_alarms(&before).len(), "every alarm found missing is covered now: {declared_report}");

    // 3. "terraform apply": the resources, then exactly the alarms and topics the directory
    //    declares, read back by onwatch's reader, with references given the emulator's values.
    let resources = serde_json::json!([
        {"address": "aws_lambda_function.api", "arguments": {"function_name": "api", "handler": "main.handler", "runtime": "python3.12", "tags": {"team": "api"}}},
        {"address": "aws_db_instance.main", "arguments": {"engine": "postgres", "instance_class": "db.t3.micro", "allocated_storage": 20, "tags": {"team": "api"}}},
    ]);
    write(dir.path(), "resources.json", &resources.to_string());
    let values: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&emulator_script(&emulator, &["declare", dir.path().join("resources.json").to_str().unwrap()])).unwrap();
    let identifier = values["aws_db_instance.main.identifier"].clone();
    assert!(identifier.starts_with("terraform-"), "a generated identifier, as the provider makes: {values:?}");
    // Read as `check` and `generate --into` read it: the catalogue's arguments of declared resources kept.
    let catalog = onwatch::config::load_catalog(Some(&dir.path().join("config"))).unwrap();
    let watch = terraform::Watch { arguments: catalog.terraform_arguments() };
    let declared = terraform::read_dir_watching(&dir.path().join("tf"), &watch).unwrap();
    let references = terraform::watched::DeclaredInventory { references: values.into_iter().collect(), ..Default::default() };
    let context = drift::AsLive { account: Some(emulator.account.clone()), region: Some(REGION.into()), references: Some(&references) };
    let plan = drift::declared_as_live_with(&declared, &onwatch::model::Inventory::default(), &context);
    assert!(plan.skipped.is_empty(), "every generated alarm resolves: {:?}", plan.skipped);
    let database_alarms: Vec<&onwatch::model::MetricAlarm> = plan.alarms.iter().filter(|a| a.namespace.as_deref() == Some("AWS/RDS")).collect();
    assert!(!database_alarms.is_empty() && database_alarms.iter().all(|a| a.dimensions.get("DBInstanceIdentifier") == Some(identifier.as_str())), "{database_alarms:?}");
    // Every topic the file declares, also one no alarm notifies yet (onwatch-security), as Terraform would create it.
    let mut topics = plan.topics.clone();
    for topic in declared.of_kind(terraform::Kind::SnsTopic) {
        let arn = format!("arn:aws:sns:{REGION}:{}:{}", emulator.account, topic.name().unwrap().unwrap());
        if !topics.iter().any(|t| t.arn == arn) {
            topics.push(onwatch::model::SnsTopic { arn, region: REGION.into(), account: emulator.account.clone(), kms_master_key_id: None, subscriptions: vec![] });
        }
    }
    assert_eq!(topics.len(), 4, "a topic per severity: {topics:?}");
    write(dir.path(), "plan.json", &serde_json::json!({"alarms": plan.alarms, "dashboards": [], "topics": topics, "tags": {"team": "api"}}).to_string());
    emulator_script(&emulator, &["apply", dir.path().join("plan.json").to_str().unwrap()]);

    // 4. Scan the account. The live check agrees on everything the change adds: the function, the
    //    database and the topics are covered as the declared check counted them, and no finding is
    //    on them or on their alarms. What remains is the account's own, which no pull request
    //    declares: the account-level alarms (`account:region`) and the CIS trail and filters.
    let scanned = crate::harness::onwatch(&["scan", "--endpoint-url", &emulator.endpoint, "--region", REGION, "--output", "scanned.json"], dir.path());
    assert_eq!(scanned.status.code(), Some(0), "scan failed:\n{}", String::from_utf8_lossy(&scanned.stderr));
    let inventory = onwatch::snapshot::read(&dir.path().join("scanned.json")).unwrap();
    assert_eq!(inventory.scopes[0].account, emulator.account);
    assert_eq!(inventory.alarms.len(), plan.alarms.len(), "the scan reads back every applied alarm");
    let (code, stdout, stderr) = check_routed(dir.path(), &["--inventory", "scanned.json", "--format", "json", "--output", "live.json"]);
    let live_report = json(dir.path(), "live.json");
    assert_eq!(code, 1, "the account's own findings: {stdout}{stderr}{}", brief(&live_report));
    for kind in ["lambda:function", "rds:db", "sns:topic"] {
        let (live, declared) = (&live_report["summary"]["by_type"][kind], &declared_report["summary"]["by_type"][kind]);
        assert_eq!(live["resources"], declared["resources"], "{kind}: live {live} declared {declared}");
        assert_eq!(live["required"], declared["required"], "{kind}: live {live} declared {declared}");
        assert_eq!(live["covered"], live["required"], "{kind}: {live}");
        assert_eq!(live["coverage_percent"], 100.0, "{kind}: {live}");
    }
    let account_region = format!("arn:aws:cloudwatch:{REGION}:{}:account-region/{REGION}", emulator.account);
    let not_the_account_s: Vec<&Value> = findings(&live_report)
        .into_iter()
        .filter(|f| {
            let account_level = f["resource"] == account_region.as_str() && f["code"] == "missing-alarm";
            !account_level && !f["code"].as_str().unwrap().starts_with("security-")
        })
        .collect();
    assert!(not_the_account_s.is_empty(), "findings on what the change added:\n{}", brief(&live_report));
    assert!(findings(&live_report).iter().all(|f| f["alarm"].as_str().is_none_or(|a| !plan.alarms.iter().any(|p| p.name == a))), "{}", brief(&live_report));

    // 5. Drift between the directory and the scanned account: every applied alarm in sync, no
    //    drift. The database alarms' dimension refers to an identifier the provider generated at
    //    apply, which the source does not hold (onwatch reads no state): drift says it could not
    //    compare that one field, an info finding that is not drift.
    let result = crate::harness::onwatch(&["drift", "--terraform", "tf", "--inventory", "scanned.json", "--format", "json"], dir.path());
    let drift_report: Value = serde_json::from_slice(&result.stdout).unwrap_or_else(|_| panic!("no JSON report:\n{}", String::from_utf8_lossy(&result.stderr)));
    assert_eq!(result.status.code(), Some(0), "{drift_report:#}");
    let database: std::collections::BTreeSet<&str> = database_alarms.iter().map(|a| a.name.as_str()).collect();
    let unresolved: std::collections::BTreeSet<&str> = findings(&drift_report).iter().map(|f| f["alarm"].as_str().unwrap()).collect();
    assert_eq!(unresolved, database, "{drift_report:#}");
    for finding in findings(&drift_report) {
        assert_eq!(finding["code"], "drift-unresolved", "{finding:#}");
        let message = finding["message"].as_str().unwrap();
        assert!(message.contains("not compared: dimensions (dimension DBInstanceIdentifier refers to ${aws_db_instance.main.identifier})"), "only the dimension: {finding:#}");
    }
    assert_eq!(drift_report["summary"]["in_sync"].as_u64().unwrap() as usize, plan.alarms.len(), "{:#}", drift_report["summary"]);
}

/// The `--into` file over a change with a function, a database and `count`/`for_each` instances.
fn into_fixture(dir: &Path) -> std::path::PathBuf {
    let api = "\nresource \"aws_instance\" \"api\" {\n  for_each      = toset([\"a\", \"b\"])\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}\n";
    write(dir, "tf/main.tf", &format!("{CHANGE}{WEB}{api}"));
    let (code, stdout, stderr) = generate_into(dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    dir.join("tf/onwatch_alarms.tf")
}

/// Checkov over the whole directory, as a pull request's scan runs: nothing fails in the file
/// `--into` writes; its only skips are the key policy's, each with its reason in the file; the
/// checks on alarm actions, topic encryption and key rotation ran on every such block of it. The
/// hand-written resources do fail checks (the fixture is deliberately bare), so the scan read them.
#[test]
#[ignore = "conformance: needs Checkov; scripts/test.sh runs it"]
fn generate_into_writes_a_file_checkov_passes() {
    let dir = tempfile::tempdir().unwrap();
    let written = fs::read_to_string(into_fixture(dir.path())).unwrap();
    let report = crate::iac_scan::scan(&dir.path().join("tf"));
    let of = |kind: &str, file: &str| -> Vec<(String, String)> {
        report["results"][kind]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|c| c["file_path"].as_str().unwrap().ends_with(file))
                    .map(|c| (c["check_id"].as_str().unwrap().to_string(), c["resource"].as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(of("failed_checks", "/onwatch_alarms.tf"), vec![], "{:#}", report["results"]["failed_checks"]);
    assert!(!of("failed_checks", "/main.tf").is_empty(), "Checkov read the hand-written resources too: {:#}", report["summary"]);
    let skipped: std::collections::BTreeSet<(String, String)> = of("skipped_checks", "/onwatch_alarms.tf").into_iter().collect();
    let key_policy = "aws_iam_policy_document.onwatch_alerts_key".to_string();
    let expected: std::collections::BTreeSet<(String, String)> = ["CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"].iter().map(|c| (c.to_string(), key_policy.clone())).collect();
    assert_eq!(skipped, expected, "every skip is a documented one");
    for skip in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skip["check_result"]["suppress_comment"].as_str().unwrap_or_default();
        assert!(reason.trim().len() > 20, "a skip needs its reason: {skip:#}");
        assert!(written.contains(&format!("# checkov:skip={}:{reason}", skip["check_id"].as_str().unwrap())), "the reason is in the file: {skip:#}");
    }
    let passed = of("passed_checks", "/onwatch_alarms.tf");
    let count = |check: &str, resource_type: &str| passed.iter().filter(|(c, r)| c == check && r.starts_with(&format!("{resource_type}."))).count();
    let blocks = |resource_type: &str| written.matches(&format!("resource \"{resource_type}\"")).count();
    assert!(blocks("aws_cloudwatch_metric_alarm") > 20, "{written}");
    assert_eq!(count("CKV_AWS_319", "aws_cloudwatch_metric_alarm"), blocks("aws_cloudwatch_metric_alarm"), "alarm actions enabled, on every alarm");
    assert_eq!(count("CKV_AWS_26", "aws_sns_topic"), blocks("aws_sns_topic"), "every topic encrypted");
    assert_eq!(count("CKV_AWS_7", "aws_kms_key"), 1, "the key rotates");
}

/// The plan of [`E2E`] (`terraform show -json`, format 1.2): the function's name is known, the
/// database's identifier only after apply.
const E2E_PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.9.8",
  "resource_changes": [
    {
      "address": "aws_lambda_function.api", "mode": "managed", "type": "aws_lambda_function", "name": "api",
      "provider_name": "registry.terraform.io/hashicorp/aws",
      "change": {
        "actions": ["create"], "before": null,
        "after": { "function_name": "api", "handler": "main.handler", "runtime": "python3.12", "tags": null, "tags_all": { "team": "api" } },
        "after_unknown": { "arn": true, "id": true, "tags_all": {} }
      }
    },
    {
      "address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
      "provider_name": "registry.terraform.io/hashicorp/aws",
      "change": {
        "actions": ["create"], "before": null,
        "after": { "engine": "postgres", "instance_class": "db.t3.micro", "allocated_storage": 20, "tags": null, "tags_all": { "team": "api" } },
        "after_unknown": { "arn": true, "id": true, "identifier": true, "tags_all": {} }
      }
    }
  ],
  "configuration": {
    "provider_config": { "aws": { "name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "expressions": { "region": { "constant_value": "us-east-1" } } } },
    "root_module": {
      "resources": [
        { "address": "aws_lambda_function.api", "mode": "managed", "type": "aws_lambda_function", "name": "api", "provider_config_key": "aws",
          "expressions": { "function_name": { "constant_value": "api" } } },
        { "address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main", "provider_config_key": "aws",
          "expressions": { "engine": { "constant_value": "postgres" } } }
      ]
    }
  }
}"#;

/// Issue 10 item 6 from a plan: `generate --plan FILE --into DIR` writes into DIR the file that
/// `--into DIR` writes from the same change's source (byte for byte), references included, and
/// the source's check then passes.
#[test]
fn generate_into_from_a_plan_writes_what_the_source_gives() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", E2E);
    write(dir.path(), "plan.json", E2E_PLAN);
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let from_source = fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap();
    fs::remove_file(dir.path().join("tf/onwatch_alarms.tf")).unwrap();

    let (code, stdout, stderr) = generate_into(dir.path(), &["--plan", "plan.json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("plan: 2 resource changes in plan.json"), "{stderr}");
    let from_plan = fs::read_to_string(dir.path().join("tf/onwatch_alarms.tf")).unwrap();
    assert!(from_plan.contains("DBInstanceIdentifier = aws_db_instance.main.identifier"), "{from_plan}");
    assert!(from_plan.contains("FunctionName = \"api\""), "{from_plan}");
    assert_eq!(from_plan, from_source);
    let (code, stdout, stderr) = check_routed(dir.path(), &["--terraform", "tf"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // --check against the plan agrees; --plan needs --into.
    let (code, stdout, stderr) = generate_into(dir.path(), &["--plan", "plan.json", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = onwatch(&["generate", "--plan", "plan.json", "--inventory", "x.json"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--into"), "{stderr}");
}

/// An API Gateway v2 stage declared in Terraform is read as `apigateway:apis/stages`; its API's
/// `protocol_type` is not read (a cross-resource lookup the reader does not make), so it is held to
/// the HTTP alarms, the pack's default for a stage whose protocol nothing told.
#[test]
fn a_declared_api_gateway_v2_stage_is_checked_at_its_line() {
    const STAGE: &str = r#"provider "aws" {
  region = "eu-west-1"
}

resource "aws_apigatewayv2_api" "shop" {
  name          = "shop"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_stage" "live" {
  api_id = "f6g7h8i9j0"
  name   = "$default"
}
"#;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tf/main.tf", STAGE);
    let (code, stdout, stderr) = check(dir.path(), &["--terraform", "tf", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report = json(dir.path(), "report.json");
    assert_eq!(report["summary"]["declared_resources"], 1, "{report}");
    let missing: Vec<&Value> = findings(&report).into_iter().filter(|f| f["code"] == "missing-alarm").collect();
    let requirements: Vec<&str> = missing.iter().filter_map(|f| f["requirement"].as_str()).collect();
    assert_eq!(requirements, ["apigateway-http-stage/5xx-rate", "apigateway-http-stage/4xx-rate", "apigateway-http-stage/latency-p90"], "{report}");
    let line = format!("tf/main.tf:{}", line_of(STAGE, "resource \"aws_apigatewayv2_stage\""));
    for finding in &missing {
        assert_eq!(finding["location"], line.as_str());
        assert_eq!(finding["resource"], "arn:aws:apigateway:eu-west-1::/apis/f6g7h8i9j0/stages/$default");
        assert!(finding["message"].as_str().unwrap().contains("ApiId=f6g7h8i9j0, Stage=$default"), "{finding}");
    }
}
