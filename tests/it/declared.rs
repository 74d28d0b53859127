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
    // Not catalogued, not changed: left out.
    assert!(!all.iter().any(|f| f["terraform_address"] == "aws_s3_bucket.logs" || f["terraform_address"] == "aws_instance.old"));
    assert_eq!(report["summary"]["declared_resources"], 5, "db, instance, topic, worker, queue: {report}");

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
    let api = "\nresource \"aws_instance\" \"api\" {\n  for_each      = toset([\"a\", \"b\"])\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}\n";
    write(dir.path(), "tf/main.tf", &format!("{CHANGE}{WEB}{api}"));
    let (code, stdout, stderr) = generate_into(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let path = dir.path().join("tf/onwatch_alarms.tf");
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
