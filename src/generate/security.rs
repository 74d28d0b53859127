//! What `security.tf` and `audit.tf` are rendered from: the benchmark's detections the account
//! lacks (metric filters and alarms on the CloudTrail log group, optionally EventBridge rules),
//! and the tamper-resistant audit table with the pipeline that fills it.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{refused, region, severity, truncate, MAX_ALARM_DESCRIPTION};
use crate::{
    check::security::ControlStatus,
    check::Evaluation,
    config::{AuditLogSchemaFile, RecordField, Settings},
    error::Result,
    model::names::{AlarmName, ProviderRef, Region, TerraformIdentifier},
};

#[derive(Debug, Serialize)]
pub(super) struct DetectionContext {
    address: TerraformIdentifier,
    control: String,
    title: String,
    filter_name: String,
    pattern: String,
    metric: String,
    alarm_name: AlarmName,
    description: String,
}

#[derive(Debug, Serialize)]
pub(super) struct RuleContext {
    address: TerraformIdentifier,
    provider: ProviderRef,
    name: AlarmName,
    description: String,
    /// The event pattern, written as a multi-line HCL object by `{{hcl_pretty event_pattern 2}}`.
    event_pattern: Value,
    /// The SNS topic resource (address) of the security severity in the rule's region.
    topic: TerraformIdentifier,
    /// Also record the detection in the audit table (rules in the audit region).
    audit: bool,
    /// `{"rule": <this rule's ARN>, "event": <the event>}`, as the state machine expects it.
    audit_input: String,
}

#[derive(Debug, Serialize)]
pub(super) struct SecurityContext {
    enabled: bool,
    benchmark: String,
    benchmark_title: String,
    provider: ProviderRef,
    region: Region,
    log_group: String,
    namespace: String,
    topic: TerraformIdentifier,
    detections: Vec<DetectionContext>,
    /// Controls left out because the account covers them already, for the file's comment.
    covered: Vec<String>,
    rules: Vec<RuleContext>,
}

#[derive(Debug, Serialize)]
pub(super) struct KeyContext {
    name: String,
    #[serde(rename = "type")]
    key_type: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ForwarderContext {
    address: TerraformIdentifier,
    provider: ProviderRef,
    region: Region,
}

#[derive(Debug, Serialize)]
pub(super) struct AuditContext {
    enabled: bool,
    provider: ProviderRef,
    region: Region,
    table_name: String,
    table_arn: String,
    hash_key: Option<KeyContext>,
    range_key: Option<KeyContext>,
    ttl_attribute: String,
    retention_days_text: String,
    /// CloudWatch Logs' service principal in the audit region (it encrypts the pipeline's logs).
    logs_principal: String,
    /// `kms:ViaService` of DynamoDB in the audit region.
    dynamodb_service: String,
    /// Attributes a record may carry: what the writer may write.
    attribute_names: Vec<String>,
    break_glass_role_arn: String,
    key_alias: String,
    writer_role_name: String,
    writer_role_arn: String,
    events_role_name: String,
    state_machine_name: String,
    state_machine_arn: String,
    /// The state machine's definition, written as a multi-line HCL object by `hcl_pretty`.
    definition: Value,
    log_group_name: String,
    log_group_arn: String,
    rule_name: String,
    dead_letter_queue: String,
    event_bus_arn: String,
    /// Regions whose alarm state changes are forwarded to the audit region's event bus.
    forwarders: Vec<ForwarderContext>,
    /// The SNS topic (address) that hears when the pipeline itself fails.
    topic: TerraformIdentifier,
    failed_alarm_name: AlarmName,
    dead_letter_alarm_name: AlarmName,
}

/// The audit table's region: the configured one, else where the security detections live (their
/// alarms are then recorded without forwarding), else the module's first region.
pub(super) fn audit_region(inventory: &crate::model::Inventory, settings: &Settings, primary: &str) -> String {
    if let Some(region) = &settings.audit.region {
        return region.clone();
    }
    let security = &settings.security;
    let detections = security
        .enabled
        .then(|| crate::check::security::accounts(inventory).into_iter().next().map(|account| crate::check::security::log_group_place(inventory, security, account).region))
        .flatten();
    detections.unwrap_or_else(|| primary.to_string())
}

/// The regions the security and audit files put resources in, besides the inventory's.
pub(super) fn regions(inventory: &crate::model::Inventory, settings: &Settings, primary: &str) -> Vec<String> {
    let mut regions = Vec::new();
    let security = &settings.security;
    if security.enabled {
        for account in crate::check::security::accounts(inventory) {
            regions.push(crate::check::security::log_group_place(inventory, security, account).region);
        }
        if security.eventbridge_rules && security.controls.iter().any(|c| c.global) {
            regions.push("us-east-1".to_string());
        }
    }
    if settings.audit.enabled {
        regions.push(audit_region(inventory, settings, primary));
    }
    regions
}

#[allow(clippy::too_many_arguments)]
pub(super) fn security_context(
    inventory: &crate::model::Inventory,
    settings: &Settings,
    evaluation: &Evaluation,
    account: &str,
    partition: &str,
    regions: &[Region],
    name_prefix: &str,
    all: bool,
    audit_region: Option<&Region>,
) -> Result<SecurityContext> {
    let security = &settings.security;
    let place = crate::check::security::log_group_place(inventory, security, account);
    let log_group_region = region(&place.region, "security log group region")?;
    let severity = severity(&security.severity)?;
    let mut context = SecurityContext {
        enabled: security.enabled,
        benchmark: security.benchmark.clone(),
        benchmark_title: security.benchmark_title.clone(),
        provider: log_group_region.provider(),
        topic: TerraformIdentifier::topic(&severity, &log_group_region),
        region: log_group_region,
        log_group: security.log_group.clone(),
        namespace: security.metric_namespace.clone(),
        detections: Vec::new(),
        covered: Vec::new(),
        rules: Vec::new(),
    };
    if !security.enabled {
        return Ok(context);
    }
    let results = evaluation.summary.security.as_ref().map(|s| s.controls.as_slice()).unwrap_or_default();
    for control in &security.controls {
        let filter_name = format!("{name_prefix}-cis-{}", control.detection);
        let alarm_name = AlarmName::joined(&[name_prefix, severity.as_str(), "cis", &control.detection]).map_err(|e| refused("security alarm", e))?;
        let result = results.iter().find(|r| r.account == account && r.control == control.number);
        let status = result.map_or(ControlStatus::NoFilter, |r| r.status);
        // onwatch's own detection covers the control once applied: keep declaring it.
        let ours = result.is_some_and(|r| r.filter.as_deref() == Some(filter_name.as_str()) || r.alarm.as_deref() == Some(alarm_name.as_str()));
        let covered_elsewhere = matches!(status, ControlStatus::Covered | ControlStatus::NoTrail) && !ours;
        // Unknown is not missing: a detection for a region nobody scanned could duplicate one.
        if matches!(status, ControlStatus::Exempted | ControlStatus::NotScanned) || (covered_elsewhere && !all) {
            let why = match (status, result.and_then(|r| r.filter.as_deref())) {
                (ControlStatus::Exempted, _) => "exempted".to_string(),
                (ControlStatus::NotScanned, _) => format!("{} was not scanned, so whether it is covered is unknown", place.region),
                (_, Some(filter)) => format!("covered by metric filter {filter:?}"),
                _ => "covered".to_string(),
            };
            context.covered.push(format!("{} {}: {why}", control.number, control.title));
            continue;
        }
        let label = control.label(&security.benchmark);
        let hub = control.security_hub.as_deref().map(|hub| format!(" (Security Hub {hub})")).unwrap_or_default();
        let address = TerraformIdentifier::snake(&["cis", &control.detection]).map_err(|e| refused("security detection", e))?;
        context.detections.push(DetectionContext {
            address: address.clone(),
            control: control.number.clone(),
            title: control.title.clone(),
            pattern: control.filter_pattern.clone(),
            metric: control.metric.clone(),
            description: truncate(
                &format!(
                    "{}, control {}{hub}: {}. One or more matching CloudTrail events in log group {} in five minutes. Generated by onwatch.",
                    security.benchmark_title, control.number, control.title, security.log_group
                ),
                MAX_ALARM_DESCRIPTION,
            ),
            filter_name,
            alarm_name: alarm_name.clone(),
        });
        if security.eventbridge_rules {
            let us_east_1 = [region("us-east-1", "global detections")?];
            let rule_regions = if control.global { &us_east_1[..] } else { regions };
            for region in rule_regions {
                // Named like the alarm: the chat delivery rules match on that severity prefix.
                let name = alarm_name.clone();
                let rule_arn = format!("arn:{partition}:events:{region}:{account}:rule/{name}");
                context.rules.push(RuleContext {
                    address: address.extended(&[region.label().as_str()]).map_err(|e| refused("security rule", e))?,
                    provider: region.provider(),
                    description: truncate(&format!("onwatch: {} ({label}), delivered as it happens", control.title), 512),
                    event_pattern: control.event_pattern.clone(),
                    topic: TerraformIdentifier::topic(&severity, region),
                    audit: audit_region == Some(region),
                    audit_input: format!("{{\"rule\": {}, \"event\": <aws.events.event.json>}}", serde_json::to_string(&rule_arn).unwrap()),
                    name,
                });
            }
        }
    }
    Ok(context)
}

pub(super) fn audit_context(settings: &Settings, account: &str, partition: &str, regions: &[Region], region: Region, name_prefix: &str) -> Result<AuditContext> {
    let audit = &settings.audit;
    let state_machine_name = format!("{name_prefix}-audit-writer");
    let log_group_name = format!("/aws/vendedlogs/states/{state_machine_name}");
    let severity = severity(&settings.security.severity)?;
    let alarm_name = |what: &str| AlarmName::joined(&[name_prefix, severity.as_str(), "audit", what]).map_err(|e| refused("audit alarm", e));
    let key = |k: &crate::config::KeyAttribute| KeyContext { name: k.name.clone(), key_type: k.attribute_type.as_str().to_string() };
    let forwarders = regions
        .iter()
        .filter(|r| **r != region)
        .map(|r| Ok(ForwarderContext { address: TerraformIdentifier::snake(&["audit_forward", r.as_str()]).map_err(|e| refused("audit forwarder", e))?, provider: r.provider(), region: r.clone() }))
        .collect::<Result<_>>()?;
    Ok(AuditContext {
        enabled: audit.enabled,
        provider: region.provider(),
        table_arn: format!("arn:{partition}:dynamodb:{region}:{account}:table/{}", audit.table_name),
        table_name: audit.table_name.clone(),
        hash_key: Some(key(&audit.partition_key)),
        range_key: audit.sort_key.as_ref().map(key),
        ttl_attribute: audit.ttl_attribute.clone(),
        retention_days_text: audit.retention_days.to_string(),
        logs_principal: format!("logs.{region}.amazonaws.com"),
        dynamodb_service: format!("dynamodb.{region}.amazonaws.com"),
        attribute_names: audit.record_attributes().into_iter().map(|(name, _)| name).collect(),
        break_glass_role_arn: audit.break_glass_role_arn.clone(),
        key_alias: audit_key_alias(name_prefix),
        writer_role_name: format!("{name_prefix}-audit-writer"),
        writer_role_arn: format!("arn:{partition}:iam::{account}:role/{name_prefix}-audit-writer"),
        events_role_name: format!("{name_prefix}-audit-events"),
        state_machine_arn: format!("arn:{partition}:states:{region}:{account}:stateMachine:{state_machine_name}"),
        definition: state_machine_definition(audit, partition),
        log_group_arn: format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}"),
        log_group_name,
        state_machine_name,
        rule_name: format!("{name_prefix}-audit-alarm-state"),
        dead_letter_queue: format!("{name_prefix}-audit-undelivered"),
        event_bus_arn: format!("arn:{partition}:events:{region}:{account}:event-bus/default"),
        forwarders,
        topic: TerraformIdentifier::topic(&severity, &region),
        failed_alarm_name: alarm_name("writer-failed")?,
        dead_letter_alarm_name: alarm_name("undelivered")?,
        region,
    })
}

/// The alias of the audit trail's KMS key (readers need to decrypt with it).
pub fn audit_key_alias(name_prefix: &str) -> String {
    format!("alias/{name_prefix}-audit")
}

/// The JSONata expression (Step Functions' `{% %}` syntax) that computes one field of a record
/// from the state machine's input, `{"rule": <ARN, for EventBridge detections>, "event": <event>}`.
/// Alarm state changes come from `aws.cloudwatch`; everything else is a CloudTrail detection.
/// String fields never fail on a missing value: they become "".
pub fn field_expression(field: RecordField, retention_days: u32) -> String {
    const E: &str = "$states.input.event";
    let alarm = format!("{E}.source = 'aws.cloudwatch'");
    let text = |expression: String| format!("{{% ($x := {expression}; $exists($x) ? $string($x) : '') %}}");
    match field {
        RecordField::Alarm => text(format!("{alarm} ? {E}.resources[0] : $states.input.rule")),
        RecordField::EventId => text(format!("{E}.id")),
        RecordField::Time => text(format!("{E}.time")),
        RecordField::Account => text(format!("{E}.account")),
        RecordField::Region => text(format!("{E}.region")),
        RecordField::Kind => text(format!(
            "{alarm} ? ({E}.detail.state.value = 'ALARM' ? 'alert-raised' : ({E}.detail.state.value = 'OK' ? 'alert-resolved' : 'alert-changed')) : 'security-detection'"
        )),
        // onwatch's alarm descriptions name the resource's ARN ("... for arn:...: why"); other
        // alarms are known by their dimensions.
        RecordField::Resource => text(format!(
            "{alarm} ? ($m := $match($string({E}.detail.configuration.description), /for (arn:[^ ]+): /); $count($m) > 0 ? $m[0].groups[0] : $join($each({E}.detail.configuration.metrics[0].metricStat.metric.dimensions, function($v, $k) {{ $k & '=' & $v }}), ',')) : {E}.detail.userIdentity.arn"
        )),
        RecordField::OldState => text(format!("{alarm} ? {E}.detail.previousState.value : ''")),
        RecordField::NewState => text(format!("{alarm} ? {E}.detail.state.value : 'DETECTED'")),
        RecordField::Reason => text(format!(
            "{alarm} ? {E}.detail.state.reason : $join([{E}.detail.eventSource, {E}.detail.eventName, 'by', {E}.detail.userIdentity.arn, 'from', {E}.detail.sourceIPAddress, {E}.detail.errorCode], ' ')"
        )),
        RecordField::ExpiresAt => {
            format!("{{% $string($floor($toMillis({E}.time) / 1000) + {}) %}}", u64::from(retention_days) * 86_400)
        }
    }
}

/// The audit writer: one DynamoDB PutItem that only inserts (`attribute_not_exists` on the
/// partition key), so a record is never overwritten; a redelivered event finds its record and
/// stops there. Retries cover throttling.
pub fn state_machine_definition(audit: &AuditLogSchemaFile, partition: &str) -> Value {
    let mut item = Map::new();
    for (name, field) in audit.record_attributes() {
        item.insert(name, json!({ field.key_type().as_str(): field_expression(field, audit.retention_days) }));
    }
    crate::json::sorted(json!({
        "Comment": "onwatch audit trail: records every alarm state change and security detection once, and never overwrites a record.",
        "QueryLanguage": "JSONata",
        "StartAt": "Record",
        "States": {
            "Record": {
                "Type": "Task",
                "Resource": format!("arn:{partition}:states:::dynamodb:putItem"),
                "Arguments": {
                    "TableName": audit.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(#key)",
                    "ExpressionAttributeNames": { "#key": audit.partition_key.name },
                },
                "Retry": [{
                    "ErrorEquals": [
                        "DynamoDB.ProvisionedThroughputExceededException",
                        "DynamoDB.ThrottlingException",
                        "DynamoDB.RequestLimitExceeded",
                        "DynamoDB.InternalServerErrorException",
                    ],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 6,
                    "BackoffRate": 2,
                }],
                "Catch": [{ "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "Next": "AlreadyRecorded" }],
                "End": true,
            },
            "AlreadyRecorded": {
                "Type": "Succeed",
                "Comment": "A redelivered event: its record exists and stays as it was.",
            },
        },
    }))
}
