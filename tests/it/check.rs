//! Evaluation cases: one or more per finding code, plus the classification and precedence rules.


use crate::common::*;
use onwatch::{
    check::Status,
    findings::{Code, Severity},
    model::*,
};

fn codes(evaluation: &onwatch::check::Evaluation) -> Vec<Code> {
    evaluation.findings.iter().map(|f| f.code).collect()
}

fn status_of(evaluation: &onwatch::check::Evaluation, resource_suffix: &str, rule: &str) -> Status {
    evaluation
        .requirements
        .iter()
        .find(|r| r.resource.ends_with(resource_suffix) && r.alarm_rule == rule)
        .unwrap_or_else(|| panic!("no requirement {rule} for {resource_suffix}"))
        .status
}

#[test]
fn fully_covered_instance_has_no_findings() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-good");
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![]);
    assert_eq!(evaluation.summary.required, 2);
    assert_eq!(evaluation.summary.covered, 2);
    assert_eq!(evaluation.summary.coverage_percent, 100.0);
}

#[test]
fn missing_alarm_names_metric_dimensions_and_policy() {
    let mut inv = inventory();
    inv.resources.push(instance("i-bare", &[]));
    inv.metrics.push(mem_metric("i-bare"));
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::MissingAlarm, Code::MissingAlarm]);
    let finding = &evaluation.findings[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.resource, "arn:aws:ec2:us-east-1:111111111111:instance/i-bare");
    assert!(finding.message.contains("AWS/EC2 CPUUtilization (InstanceId=i-bare) > 80"), "{}", finding.message);
    assert_eq!(finding.requirement.as_deref(), Some("ec2/cpu-high"));
    assert!(finding.origin.as_ref().unwrap().file.ends_with("ec2.json"));
    assert!(finding.origin.as_ref().unwrap().line > 1, "origin points at the rule, not the file head");
    assert_eq!(evaluation.summary.missing, 2);
    assert_eq!(evaluation.summary.coverage_percent, 0.0);
}

#[test]
fn matching_is_by_dimensions_not_by_alarm_name() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-a");
    inv.resources.push(instance("i-b", &[]));
    // Named after i-b, but watching i-a: does not cover i-b.
    let mut misleading = cpu_alarm("i-a", 80.0);
    misleading.name = "i-b-cpu".into();
    inv.alarms.push(misleading);
    let evaluation = run(&inv);
    assert_eq!(status_of(&evaluation, "i-b", "cpu-high"), Status::Missing);
    assert_eq!(status_of(&evaluation, "i-a", "cpu-high"), Status::Covered);
}

#[test]
fn alarm_in_another_region_or_account_does_not_cover() {
    let mut inv = inventory();
    inv.resources.push(instance("i-x", &[]));
    let mut other_region = cpu_alarm("i-x", 80.0);
    other_region.region = "eu-west-1".into();
    let mut other_account = cpu_alarm("i-x", 80.0);
    other_account.account = "222222222222".into();
    inv.alarms.extend([other_region, other_account]);
    let evaluation = run(&inv);
    assert_eq!(status_of(&evaluation, "i-x", "cpu-high"), Status::Missing);
    // And both alarms watch an instance the inventory does not hold in their region/account.
    assert_eq!(evaluation.summary.orphaned, 2);
}

fn misconfigured(change: impl FnOnce(&mut MetricAlarm)) -> onwatch::check::Evaluation {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-m");
    change(&mut inv.alarms[0]);
    run(&inv)
}

#[test]
fn threshold_mismatch() {
    let evaluation = misconfigured(|a| a.threshold = Some(70.0));
    assert_eq!(codes(&evaluation), vec![Code::ThresholdMismatch]);
    assert!(evaluation.findings[0].message.contains("threshold is 70, required 80 (from policy default)"), "{}", evaluation.findings[0].message);
    assert_eq!(status_of(&evaluation, "i-m", "cpu-high"), Status::Misconfigured);
    assert_eq!(evaluation.summary.misconfigured, 1);
}

#[test]
fn comparison_mismatch() {
    let evaluation = misconfigured(|a| a.comparison_operator = ComparisonOperator::LessThanThreshold);
    assert_eq!(codes(&evaluation), vec![Code::ComparisonMismatch]);
    assert_eq!(evaluation.findings[0].severity, Severity::Error);
}

#[test]
fn statistic_mismatch_including_percentiles() {
    let evaluation = misconfigured(|a| a.statistic = Some(Statistic::Maximum));
    assert_eq!(codes(&evaluation), vec![Code::StatisticMismatch]);
    let evaluation = misconfigured(|a| {
        a.statistic = None;
        a.extended_statistic = Some("p99".into());
    });
    assert_eq!(codes(&evaluation), vec![Code::StatisticMismatch]);
    assert!(evaluation.findings[0].message.contains("statistic is p99, required Average"));
}

#[test]
fn period_mismatch() {
    let evaluation = misconfigured(|a| a.period = Some(60));
    assert_eq!(codes(&evaluation), vec![Code::PeriodMismatch]);
}

#[test]
fn evaluation_mismatch_covers_periods_and_datapoints() {
    assert_eq!(codes(&misconfigured(|a| a.evaluation_periods = 5)), vec![Code::EvaluationMismatch]);
    assert_eq!(codes(&misconfigured(|a| a.datapoints_to_alarm = Some(1))), vec![Code::EvaluationMismatch]);
    // Absent datapoints default to the evaluation periods, as in CloudWatch.
    assert_eq!(codes(&misconfigured(|a| a.datapoints_to_alarm = None)), vec![]);
}

#[test]
fn treat_missing_data_mismatch_is_info_and_still_covered() {
    let evaluation = misconfigured(|a| a.treat_missing_data = Some(TreatMissingData::Breaching));
    assert_eq!(codes(&evaluation), vec![Code::TreatMissingDataMismatch]);
    assert_eq!(evaluation.findings[0].severity, Severity::Info);
    assert_eq!(status_of(&evaluation, "i-m", "cpu-high"), Status::Covered);
}

#[test]
fn actions_disabled() {
    let evaluation = misconfigured(|a| a.actions_enabled = false);
    assert_eq!(codes(&evaluation), vec![Code::AlarmActionsDisabled]);
    assert_eq!(status_of(&evaluation, "i-m", "cpu-high"), Status::Misconfigured);
    assert_eq!(evaluation.findings[0].alarm.as_deref(), Some("i-m-cpu"));
}

#[test]
fn no_alarm_action() {
    let evaluation = misconfigured(|a| a.alarm_actions.clear());
    assert_eq!(codes(&evaluation), vec![Code::AlarmNoActions]);
    assert_eq!(status_of(&evaluation, "i-m", "cpu-high"), Status::Misconfigured);
}

#[test]
fn composite_alarm_children_need_no_actions_of_their_own() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-c");
    inv.alarms[0].alarm_actions.clear();
    inv.composite_alarms.push(CompositeAlarm {
        name: "web-tier".into(),
        arn: None,
        region: REGION.into(),
        account: ACCOUNT.into(),
        alarm_rule: "ALARM(\"i-c-cpu\") OR ALARM(other)".into(),
        actions_enabled: true,
        alarm_actions: vec![CRITICAL_TOPIC.into()],
        ok_actions: vec![],
        state: None,
    });
    assert_eq!(codes(&run(&inv)), vec![]);
    // Without actions on the composite, the child does notify nobody.
    inv.composite_alarms[0].alarm_actions.clear();
    assert_eq!(codes(&run(&inv)), vec![Code::AlarmNoActions]);
}

#[test]
fn topic_with_only_pending_subscriptions() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-t");
    inv.sns_topics.push(topic("legacy", false, None));
    inv.alarms[0].alarm_actions = vec!["arn:aws:sns:us-east-1:111111111111:legacy".into()];
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::AlarmTopicUnconfirmed]);
    assert_eq!(status_of(&evaluation, "i-t", "cpu-high"), Status::Misconfigured);
}

#[test]
fn topic_encrypted_with_aws_managed_key() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-k");
    inv.sns_topics.push(topic("old-ops", true, Some("alias/aws/sns")));
    inv.alarms[1].alarm_actions = vec!["arn:aws:sns:us-east-1:111111111111:old-ops".into()];
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::AlarmTopicAwsManagedKey]);
    assert_eq!(status_of(&evaluation, "i-k", "mem-high"), Status::Misconfigured);
}

#[test]
fn topic_not_in_inventory() {
    let evaluation = misconfigured(|a| a.alarm_actions = vec!["arn:aws:sns:us-east-1:111111111111:deleted".into()]);
    assert_eq!(codes(&evaluation), vec![Code::AlarmTopicUnknown]);
}

#[test]
fn non_sns_actions_count_as_actions() {
    let evaluation = misconfigured(|a| a.alarm_actions = vec!["arn:aws:automate:us-east-1:ec2:recover".into()]);
    assert_eq!(codes(&evaluation), vec![]);
}

#[test]
fn best_of_several_alarms_is_judged() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-two");
    let mut wrong = cpu_alarm("i-two", 50.0);
    wrong.name = "a-first-by-name".into();
    wrong.alarm_actions.clear();
    wrong.actions_enabled = true;
    inv.alarms.push(wrong);
    let evaluation = run(&inv);
    assert_eq!(status_of(&evaluation, "i-two", "cpu-high"), Status::Covered);
    // The stray alarm still notifies nobody, and says so.
    assert_eq!(codes(&evaluation), vec![Code::AlarmNoActions]);
}

#[test]
fn orphaned_alarm_for_deleted_instance_and_queue() {
    let mut inv = inventory();
    inv.alarms.push(cpu_alarm("i-deleted", 80.0));
    let mut queue_alarm = cpu_alarm("x", 1.0);
    queue_alarm.name = "gone-queue-age".into();
    queue_alarm.namespace = Some("AWS/SQS".into());
    queue_alarm.metric_name = Some("ApproximateAgeOfOldestMessage".into());
    queue_alarm.dimensions = tags(&[("QueueName", "gone")]).into();
    inv.alarms.push(queue_alarm);
    // A custom-namespace alarm cannot be judged orphaned.
    let mut custom = cpu_alarm("x", 1.0);
    custom.name = "custom".into();
    custom.namespace = Some("MyApp".into());
    inv.alarms.push(custom);
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::OrphanedAlarm, Code::OrphanedAlarm]);
    assert_eq!(evaluation.summary.orphaned, 2);
    assert!(evaluation.findings[0].message.contains("InstanceId=i-deleted") || evaluation.findings[1].message.contains("InstanceId=i-deleted"));
}

#[test]
fn agent_disk_alarm_with_extra_dimensions_is_not_orphaned() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-disk");
    let mut disk = mem_alarm("i-disk", 90.0);
    disk.name = "i-disk-root".into();
    disk.metric_name = Some("disk_used_percent".into());
    disk.dimensions = tags(&[("InstanceId", "i-disk"), ("path", "/"), ("device", "nvme0n1p1"), ("fstype", "xfs")]).into();
    inv.alarms.push(disk);
    assert_eq!(codes(&run(&inv)), vec![]);
}

#[test]
fn agent_metrics_missing() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-noagent");
    inv.metrics.clear();
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::AgentMetricsMissing]);
    assert!(evaluation.findings[0].message.contains("mem_used_percent"));
}

#[test]
fn valid_exemption_exempts_and_expired_one_comes_back() {
    let mut inv = inventory();
    inv.resources.push(instance("i-exempt", &[]));
    inv.resources.push(instance("i-expired", &[]));
    inv.metrics.extend([mem_metric("i-exempt"), mem_metric("i-expired")]);
    inv.alarms.push(mem_alarm("i-expired", 85.0));
    let evaluation = run(&inv);
    assert_eq!(status_of(&evaluation, "i-exempt", "cpu-high"), Status::Exempted);
    assert_eq!(status_of(&evaluation, "i-exempt", "mem-high"), Status::Exempted);
    assert_eq!(status_of(&evaluation, "i-expired", "cpu-high"), Status::Missing);
    assert_eq!(codes(&evaluation), vec![Code::MissingAlarm, Code::ExemptionExpired]);
    assert_eq!(evaluation.summary.exempted, 2);
    assert!(evaluation.findings[1].message.contains("expired on 2020-01-01 (load test)"));

    // The same exemption judged before its expiry still holds.
    let before = onwatch::check::evaluate(&inv, &settings(), time::macros::date!(2019 - 12 - 31));
    assert_eq!(status_of(&before, "i-expired", "cpu-high"), Status::Exempted);
    assert!(before.findings.is_empty());
}

#[test]
fn opt_out_tag_needs_a_reason() {
    let mut inv = inventory();
    inv.resources.push(instance("i-vendor", &[("onwatch:ignore", "vendor appliance")]));
    inv.resources.push(instance("i-lazy", &[("onwatch:ignore", " ")]));
    inv.metrics.extend([mem_metric("i-lazy")]);
    let evaluation = run(&inv);
    assert_eq!(status_of(&evaluation, "i-vendor", "cpu-high"), Status::Exempted);
    assert_eq!(status_of(&evaluation, "i-lazy", "cpu-high"), Status::Missing);
    assert_eq!(codes(&evaluation), vec![Code::MissingAlarm, Code::MissingAlarm, Code::OptOutWithoutReason]);
}

#[test]
fn threshold_precedence_tag_then_override_then_config_then_policy() {
    let mut inv = inventory();
    inv.resources.push(instance("i-tag", &[("env", "dev"), ("onwatch:CPUUtilization", "90")]));
    inv.resources.push(instance("i-dev", &[("env", "dev")]));
    inv.resources.push(instance("i-batch", &[("env", "dev"), ("team", "batch")]));
    inv.resources.push(instance("i-plain", &[]));
    let evaluation = run(&inv);
    let threshold = |suffix: &str, rule: &str| {
        evaluation.requirements.iter().find(|r| r.resource.ends_with(suffix) && r.alarm_rule == rule).unwrap().threshold
    };
    assert_eq!(threshold("i-tag", "cpu-high"), 90.0);
    assert_eq!(threshold("i-dev", "cpu-high"), 95.0);
    assert_eq!(threshold("i-batch", "cpu-high"), 99.0, "the later matching override wins");
    assert_eq!(threshold("i-plain", "cpu-high"), 80.0);
    assert_eq!(threshold("i-plain", "mem-high"), 85.0, "config thresholds beat the policy default of 90");
}

#[test]
fn invalid_threshold_tag_falls_back_and_is_reported() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-badtag");
    inv.resources[0].tags = tags(&[("onwatch:CPUUtilization", "ninety")]);
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::InvalidThresholdTag]);
    assert_eq!(status_of(&evaluation, "i-badtag", "cpu-high"), Status::Covered);
}

#[test]
fn selectors_limit_which_resources_a_policy_requires() {
    let mut inv = inventory();
    inv.resources.push(queue("orders", &[("env", "prod")]));
    inv.resources.push(queue("scratch", &[("env", "dev")]));
    let evaluation = run(&inv);
    assert_eq!(evaluation.requirements.len(), 1);
    assert_eq!(status_of(&evaluation, ":orders", "oldest-message"), Status::Missing);
}

#[test]
fn unresolved_dimensions_when_an_attribute_is_missing() {
    let mut inv = inventory();
    let mut target_group = queue("x", &[]);
    target_group.resource_type = "elasticloadbalancing:targetgroup".into();
    target_group.arn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123abcd".into();
    inv.resources.push(target_group.clone());
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![Code::UnresolvedDimensions]);
    assert!(evaluation.findings[0].message.contains("LoadBalancer"));
    assert_eq!(evaluation.summary.unresolved, 1);

    // With the attribute, the requirement resolves and a two-dimension alarm matches it.
    target_group.attributes.insert("LoadBalancer".into(), "app/web/99aa".into());
    inv.resources = vec![target_group];
    let mut alarm = cpu_alarm("x", 0.0);
    alarm.namespace = Some("AWS/ApplicationELB".into());
    alarm.metric_name = Some("UnHealthyHostCount".into());
    alarm.dimensions = tags(&[("TargetGroup", "targetgroup/web/0123abcd"), ("LoadBalancer", "app/web/99aa")]).into();
    alarm.statistic = Some(Statistic::Maximum);
    alarm.period = Some(60);
    alarm.evaluation_periods = 2;
    alarm.datapoints_to_alarm = Some(2);
    alarm.treat_missing_data = Some(TreatMissingData::NotBreaching);
    inv.alarms.push(alarm);
    let evaluation = run(&inv);
    assert_eq!(codes(&evaluation), vec![]);
    assert_eq!(evaluation.summary.covered, 1);
}

#[test]
fn per_type_summary_and_unknown_types() {
    let mut inv = inventory();
    covered_instance(&mut inv, "i-1");
    inv.resources.push(instance("i-2", &[]));
    inv.metrics.push(mem_metric("i-2"));
    let mut bucket = queue("b", &[]);
    bucket.resource_type = "s3:bucket".into();
    inv.resources.push(bucket);
    let evaluation = run(&inv);
    assert_eq!(evaluation.summary.resources, 3);
    let ec2 = &evaluation.summary.by_type["ec2:instance"];
    assert_eq!((ec2.resources, ec2.required, ec2.covered, ec2.missing), (2, 4, 2, 2));
    assert_eq!(ec2.coverage_percent, 50.0);
    assert!(!evaluation.summary.by_type.contains_key("s3:bucket"), "types outside the catalogue are not judged");
}

#[test]
fn findings_are_sorted_and_fingerprints_stable() {
    let mut inv = inventory();
    inv.resources.push(instance("i-b", &[]));
    inv.resources.push(instance("i-a", &[]));
    inv.alarms.push(cpu_alarm("i-gone", 80.0));
    let first = run(&inv);
    inv.resources.reverse();
    let second = run(&inv);
    assert_eq!(first, second, "inventory order must not change the result");
    let severities: Vec<_> = first.findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
    let fingerprints: std::collections::HashSet<_> = first.findings.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(fingerprints.len(), first.findings.len(), "fingerprints are unique");
}

#[test]
fn parallel_checking_gives_the_same_result_as_one_thread() {
    use onwatch::check::{evaluate_with, EvaluateOptions};
    let mut inv = inventory();
    for n in 0..600 {
        let id = format!("i-{n:05}");
        match n % 4 {
            0 => covered_instance(&mut inv, &id),
            1 => inv.resources.push(instance(&id, &[("env", "dev")])),
            2 => {
                covered_instance(&mut inv, &id);
                inv.alarms.last_mut().unwrap().threshold = Some(1.0);
            }
            _ => inv.alarms.push(cpu_alarm(&id, 80.0)),
        }
    }
    let settings = settings();
    let one = evaluate_with(&inv, &settings, today(), EvaluateOptions { requirements: true, threads: 1 });
    for threads in [2, 3, 7] {
        assert_eq!(evaluate_with(&inv, &settings, today(), EvaluateOptions { requirements: true, threads }), one, "{threads} threads");
    }
    assert_eq!(one.summary.orphaned, 150);
    assert!(one.summary.covered > 0 && one.summary.missing > 0 && one.summary.misconfigured > 0);
}
