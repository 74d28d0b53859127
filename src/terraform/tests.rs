use super::*;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn known(resource: &DeclaredResource, argument: &str) -> Value {
    match resource.get(argument) {
        Some(Resolved::Known(value)) => value.clone(),
        other => panic!("{argument} of {} is {other:?}", resource.address),
    }
}

fn unresolved(resource: &DeclaredResource, argument: &str) -> String {
    match resource.get(argument) {
        Some(Resolved::Unresolved(reason)) => reason.clone(),
        other => panic!("{argument} of {} is {other:?}, expected unresolved", resource.address),
    }
}

#[test]
fn literals_variables_tfvars_locals_and_templates_resolve() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        r#"
variable "threshold" { default = 80 }
variable "env" { default = "dev" }
variable "secret" {}
locals {
  prefix = "${local.team}-${var.env}"
  team   = "payments"
}
provider "aws" {
  alias  = "east"
  region = "us-east-1"
}
resource "aws_sns_topic" "alerts" {
  name = "${local.prefix}-alerts"
}
resource "aws_cloudwatch_metric_alarm" "cpu" {
  provider            = aws.east
  alarm_name          = "${local.prefix}-cpu"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.threshold
  alarm_description   = var.secret
  alarm_actions       = [aws_sns_topic.alerts.arn]
  dimensions = {
    InstanceId = "i-1"
  }
}
"#,
    );
    write(dir.path(), "terraform.tfvars", "env = \"prod\"\n");
    let declared = read_dir(dir.path()).unwrap();
    assert_eq!(declared.files, 1);
    let alarm = declared.of_kind(Kind::MetricAlarm).next().unwrap();
    assert_eq!(alarm.address, "aws_cloudwatch_metric_alarm.cpu");
    assert_eq!(alarm.line, 16);
    assert_eq!(alarm.region.as_deref(), Some("us-east-1"));
    assert_eq!(alarm.name().unwrap().as_deref(), Some("payments-prod-cpu"), "tfvars beat the default");
    assert_eq!(known(alarm, "threshold"), Value::from(80));
    assert_eq!(known(alarm, "dimensions").as_object().unwrap()["InstanceId"], Value::from("i-1"));
    let actions = known(alarm, "alarm_actions");
    assert_eq!(as_reference(actions.as_array().unwrap()[0].as_str().unwrap()), Some("aws_sns_topic.alerts.arn"));
    assert!(unresolved(alarm, "alarm_description").contains("secret"), "a variable without value stays unresolved");
    let topic = declared.of_kind(Kind::SnsTopic).next().unwrap();
    assert_eq!(topic.name().unwrap().as_deref(), Some("payments-prod-alerts"));
}

#[test]
fn jsonencode_of_literals_resolves_and_unknown_functions_do_not() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "d.tf",
        r#"
resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = "main"
  dashboard_body = jsonencode({ widgets = [{ type = "text", x = 0 }] })
}
resource "aws_cloudwatch_dashboard" "file" {
  dashboard_name = "from-file"
  dashboard_body = file("body.json")
}
"#,
    );
    let declared = read_dir(dir.path()).unwrap();
    let main = declared.resources.iter().find(|r| r.address.ends_with(".main")).unwrap();
    let body: serde_json::Value = serde_json::from_str(known(main, "dashboard_body").as_str().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"widgets": [{"type": "text", "x": 0}]}));
    let file = declared.resources.iter().find(|r| r.address.ends_with(".file")).unwrap();
    assert!(unresolved(file, "dashboard_body").contains("file"));
}

#[test]
fn static_count_and_for_each_expand_and_dynamic_ones_are_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.tf",
        r#"
variable "queues" { default = { orders = 100, billing = 50 } }
resource "aws_cloudwatch_metric_alarm" "counted" {
  count      = 2
  alarm_name = "counted-${count.index}"
}
resource "aws_cloudwatch_metric_alarm" "each" {
  for_each   = var.queues
  alarm_name = "${each.key}-backlog"
  threshold  = each.value
}
resource "aws_cloudwatch_metric_alarm" "set" {
  for_each   = toset(["a", "b", "a"])
  alarm_name = "set-${each.value}"
}
resource "aws_cloudwatch_metric_alarm" "dynamic" {
  for_each   = data.aws_instances.all.ids
  alarm_name = "x-${each.key}"
}
"#,
    );
    let declared = read_dir(dir.path()).unwrap();
    let names: Vec<(String, Result<Option<String>, String>)> =
        declared.of_kind(Kind::MetricAlarm).map(|r| (r.address.clone(), r.name())).collect();
    assert_eq!(names[0], ("aws_cloudwatch_metric_alarm.counted[0]".into(), Ok(Some("counted-0".into()))));
    assert_eq!(names[1], ("aws_cloudwatch_metric_alarm.counted[1]".into(), Ok(Some("counted-1".into()))));
    assert_eq!(names[2], ("aws_cloudwatch_metric_alarm.each[\"billing\"]".into(), Ok(Some("billing-backlog".into()))));
    assert_eq!(names[3].1, Ok(Some("orders-backlog".into())));
    assert_eq!(names[4].1, Ok(Some("set-a".into())));
    assert_eq!(names[5].1, Ok(Some("set-b".into())));
    assert_eq!(names.len(), 7);
    assert_eq!(names[6].0, "aws_cloudwatch_metric_alarm.dynamic");
    assert!(names[6].1.as_ref().unwrap_err().contains("for_each is not static"), "{:?}", names[6].1);
    let billing = declared.resources.iter().find(|r| r.address.contains("billing")).unwrap();
    assert_eq!(known(billing, "threshold"), Value::from(50));
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.tf", "resource \"aws_sns_topic\" \"a\" {\n  name = \"a\"\n}\n");
    write(dir.path(), "nested/broken.tf", "resource \"aws_sns_topic\" \"b\" {\n  name = \"b\n}\n");
    let error = read_dir(dir.path()).unwrap_err().to_string();
    let expected = format!("{}:2:", dir.path().join("nested/broken.tf").display());
    assert!(error.starts_with(&expected), "{error}");
    assert!(matches!(read_dir(dir.path()), Err(Error::Syntax { line: 2, .. })));
}

#[test]
fn modules_are_scoped_by_directory_and_hidden_directories_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/main.tf", "variable \"n\" { default = \"a\" }\nresource \"aws_sns_topic\" \"t\" { name = var.n }\n");
    write(dir.path(), "b/main.tf", "variable \"n\" { default = \"b\" }\nresource \"aws_sns_topic\" \"t\" { name = var.n }\n");
    write(dir.path(), ".terraform/modules/x/main.tf", "resource \"aws_sns_topic\" \"t\" { name = \"cached\" }\n");
    let declared = read_dir(dir.path()).unwrap();
    let names: Vec<_> = declared.resources.iter().map(|r| (declared.modules[r.module].clone(), r.name().unwrap().unwrap())).collect();
    assert_eq!(names, [(PathBuf::from("a"), "a".to_string()), (PathBuf::from("b"), "b".to_string())]);
}

#[test]
fn a_utf8_byte_order_mark_at_file_start_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bom.tf", "\u{feff}resource \"aws_sns_topic\" \"t\" {\n  name = \"with-bom\"\n}\n");
    let declared = read_dir(dir.path()).unwrap();
    let topic = declared.of_kind(Kind::SnsTopic).next().unwrap();
    assert_eq!(topic.name().unwrap().as_deref(), Some("with-bom"));
    assert_eq!(topic.line, 1);
}

#[test]
fn fifty_blocks_of_count_100000_hit_the_instance_bound_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..50).map(|i| format!("resource \"aws_cloudwatch_metric_alarm\" \"a{i}\" {{\n  count = 100000\n  alarm_name = \"a-${{count.index}}\"\n}}\n")).collect();
    write(dir.path(), "many.tf", &text);
    let started = std::time::Instant::now();
    match read_dir(dir.path()) {
        Err(Error::TerraformBound { file, line, message }) => {
            assert!(file.ends_with("many.tf"), "{file}");
            assert_eq!(line, 9, "the third block, the first past the default bound of 200,000");
            assert!(message.contains("instances"), "{message}");
        }
        other => panic!("expected the instance bound, got {:?}", other.map(|d| d.resources.len())),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}

/// `a0 = "x"`, then `a{i+1} = [local.a{i}, local.a{i}]` up to `a{depth}`, one per line from line 2.
fn doubling_locals(depth: usize) -> String {
    let mut text = String::from("locals {\n  a0 = \"x\"\n");
    for i in 0..depth {
        text.push_str(&format!("  a{} = [local.a{i}, local.a{i}]\n", i + 1));
    }
    text + "}\n"
}

#[test]
fn defect_7_doubling_locals_stop_at_the_value_bound_naming_the_local() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", &doubling_locals(30));
    let started = std::time::Instant::now();
    match read_dir(dir.path()) {
        Err(Error::TerraformBound { file, line, message }) => {
            assert!(file.ends_with("main.tf"), "{file}");
            // a19 holds 2^20 - 1 = 1,048,575 elements, the first past the bound of 1,000,000.
            assert_eq!(line, 21, "{message}");
            assert!(message.starts_with("local.a19: a value of more than 1000000 elements"), "{message}");
        }
        other => panic!("expected the value bound, got {:?}", other.map(|d| d.resources.len())),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn defect_7_shared_values_are_read_whole_below_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let text = doubling_locals(3) + "resource \"aws_cloudwatch_metric_alarm\" \"a\" {\n  alarm_name = \"a\"\n  dimensions = { X = local.a3[1][0][1] }\n  alarm_description = jsonencode(local.a2)\n}\n";
    write(dir.path(), "main.tf", &text);
    let declared = read_dir(dir.path()).unwrap();
    let alarm = declared.of_kind(Kind::MetricAlarm).next().unwrap();
    assert_eq!(known(alarm, "dimensions").as_object().unwrap()["X"], Value::from("x"));
    assert_eq!(known(alarm, "alarm_description"), Value::from(r#"[["x","x"],["x","x"]]"#));
}

#[test]
fn defect_7_four_thousand_locals_in_reverse_order_resolve_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("locals {\n");
    for i in 0..4000 {
        // Plain references and templates alternate: both are resolved once each, in order.
        let value = if i % 2 == 0 { format!("local.a{}", i + 1) } else { format!("\"${{local.a{}}}\"", i + 1) };
        text.push_str(&format!("  a{i} = {value}\n"));
    }
    text.push_str("  a4000 = \"end\"\n}\nresource \"aws_sns_topic\" \"t\" {\n  name = local.a0\n}\n");
    write(dir.path(), "main.tf", &text);
    let started = std::time::Instant::now();
    let declared = read_dir(dir.path()).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(declared.of_kind(Kind::SnsTopic).next().unwrap().name().unwrap().as_deref(), Some("end"));
    assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn defect_7_a_cycle_of_locals_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", "locals {\n  free = \"x\"\n  b = local.c\n  a = \"${local.b}-a\"\n  c = [local.a]\n  d = local.a\n}\n");
    match read_dir(dir.path()) {
        Err(Error::TerraformInvalid { file, line, message }) => {
            assert!(file.ends_with("main.tf"), "{file}");
            assert_eq!(line, 3, "{message}");
            assert_eq!(message, "local.b refers to itself: local.b → local.c → local.a → local.b");
        }
        other => panic!("expected a cycle error, got {:?}", other.map(|d| d.resources.len())),
    }
}

#[test]
fn defect_16_a_number_beyond_f64_is_read_and_stays_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", "resource \"aws_cloudwatch_metric_alarm\" \"a\" {\n  alarm_name = \"a\"\n  threshold = 1e400\n  period = -1E+400\n  evaluation_periods = 1e300\n}\n");
    let declared = read_dir(dir.path()).unwrap();
    let alarm = declared.of_kind(Kind::MetricAlarm).next().unwrap();
    let reason = unresolved(alarm, "threshold");
    assert!(reason.contains("the number 1e400 is beyond the range of a 64-bit float"), "{reason}");
    assert!(unresolved(alarm, "period").contains("-1E+400"));
    assert_eq!(known(alarm, "evaluation_periods"), Value::from(hcl::Number::from_f64(1e300).unwrap()), "numbers within f64 are numbers");
}

fn nested_list(depth: usize) -> String {
    format!("locals {{\n  deep = {}1{}\n}}\nresource \"aws_sns_topic\" \"t\" {{\n  name = \"t\"\n}}\n", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn defect_16_seventy_levels_of_nesting_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", &nested_list(70));
    let declared = read_dir(dir.path()).unwrap();
    assert_eq!(declared.of_kind(Kind::SnsTopic).count(), 1);
}

#[test]
fn defect_16_a_hundred_thousand_levels_are_a_syntax_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", &nested_list(100_000));
    match read_dir(dir.path()) {
        Err(Error::Syntax { file, line, message, .. }) => {
            assert!(file.ends_with("main.tf"), "{file}");
            assert_eq!(line, 2);
            assert!(message.contains("nested levels"), "{message}");
        }
        other => panic!("expected a syntax error, got {:?}", other.map(|d| d.resources.len())),
    }
}

#[test]
fn a_provider_region_that_is_not_a_region_name_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", "provider \"aws\" {\n  alias = \"x\"\n  region = \"x + file(\\\"/etc/passwd\\\")\"\n}\n");
    match read_dir(dir.path()) {
        Err(Error::TerraformInvalid { file, line, message }) => {
            assert!(file.ends_with("main.tf"), "{file}");
            assert_eq!(line, 3);
            assert!(message.starts_with("the region of provider aws.x: \"x + file"), "{message}");
        }
        other => panic!("expected an invalid region, got {:?}", other.map(|d| d.resources.len())),
    }
}

