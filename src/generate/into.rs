//! `generate --into DIR`: the alarms the resources declared in the repository's Terraform need,
//! written as one onwatch-owned file into that Terraform directory ([`INTO_FILE`]), so that they
//! land in the same pull request as the resources and `check --terraform DIR` passes before apply.
//!
//! Where a dimension is known only after apply (an instance's `id`), the alarm refers to the
//! declared resource's attribute (`InstanceId = aws_instance.web[0].id`), which `check` matches
//! by reference. A reference is written only from validated Terraform identifiers and an
//! instance key re-escaped as an HCL literal; every other value is a literal (`hcl::string`).
//! The alarms notify one SNS topic per severity, declared in the same file (`onwatch_<severity>`),
//! named and subscribed as `alert_thresholds.json` routes that severity, encrypted with a
//! customer-managed key CloudWatch may use. A severity routed to no e-mail gets its topic without
//! a subscriber, as in the `--out` module, and standard error says so.

use std::collections::{BTreeSet, HashMap};

use super::{alarm_context, hcl, severity, templates::tidy, AlarmContext, GenerateOptions, GeneratedFile, HEADER};
use crate::{
    check::{Evaluation, Status},
    config::{AlarmRule, Settings},
    error::{Error, Result},
    model::{
        arn::partition_of_region,
        names::TerraformIdentifier,
        DiscoveredBy, Inventory, Resource,
    },
};

/// The one file `--into` writes into the Terraform directory.
pub const INTO_FILE: &str = "onwatch_alarms.tf";

/// The catalogue type of the topics the file declares.
const TOPIC_TYPE: &str = "sns:topic";

/// What `--into` generates: the file, and what it left out (one line each, for standard error).
#[derive(Debug)]
pub struct Into {
    pub files: Vec<GeneratedFile>,
    pub notes: Vec<String>,
}

/// The topics the file declares, added to `inventory` as declared resources (unless the file, read
/// back as part of the directory, already declares them), so that they get their own alarms too.
/// `account` and `region` are those of the declared resources.
pub fn add_topics(inventory: &mut Inventory, settings: &Settings) {
    let Some(first) = inventory.resources.iter().filter(|r| r.discovered_by == DiscoveredBy::Declared).min_by(|a, b| a.arn.cmp(&b.arn)) else {
        return;
    };
    let (account, region) = (first.account.clone(), first.region.clone());
    let partition = partition_of_region(&region);
    let known: BTreeSet<String> = inventory.resources.iter().map(|r| r.arn.clone()).collect();
    for route in settings.thresholds.severities.values() {
        let arn = format!("arn:{partition}:sns:{region}:{account}:{}", route.topic);
        if !known.contains(&arn) {
            inventory.resources.push(Resource {
                arn,
                resource_type: TOPIC_TYPE.into(),
                region: region.clone(),
                account: account.clone(),
                tags: Default::default(),
                attributes: Default::default(),
                discovered_by: DiscoveredBy::Declared,
            });
        }
    }
}

/// The file for the declared resources of `inventory` (those `add_topics` added included).
pub fn generate_into(inventory: &Inventory, settings: &Settings, evaluation: &Evaluation, options: &GenerateOptions) -> Result<Into> {
    let declared: HashMap<&str, &Resource> =
        inventory.resources.iter().filter(|r| r.discovered_by == DiscoveredBy::Declared).map(|r| (r.arn.as_str(), r)).collect();
    let rules: HashMap<(&str, &str), &AlarmRule> =
        settings.policies.iter().flat_map(|p| p.alarms.iter().map(move |rule| ((p.id.as_str(), rule.id.as_str()), rule))).collect();
    let existing: BTreeSet<&str> = inventory.alarms.iter().map(|a| a.name.as_str()).collect();
    let mut notes = Vec::new();
    let mut unrouted = BTreeSet::new();
    let mut blocks: Vec<(TerraformIdentifier, String)> = Vec::new();
    for requirement in evaluation.requirements.iter().filter(|r| !matches!(r.status, Status::Exempted | Status::Unresolved)) {
        let (Some(resource), Some(rule)) = (declared.get(requirement.resource.as_str()), rules.get(&(requirement.policy.as_str(), requirement.alarm_rule.as_str())))
        else {
            continue;
        };
        if settings.thresholds.severities.get(&rule.severity).is_none_or(|route| route.email.is_empty()) {
            unrouted.insert(rule.severity.as_str());
        }
        let named = without_tokens(resource);
        let name = super::alarm_name(&settings.thresholds.alarm_name_prefix, &severity(&rule.severity)?, &requirement.policy, &named, &rule.id)?;
        // An alarm this file declared before covers its requirement now: keep declaring it.
        let wanted = options.all || existing.contains(name.as_str()) || matches!(requirement.status, Status::Missing | Status::Misconfigured);
        if !wanted {
            continue;
        }
        // This file's alarm blocks are single-metric; the `--out` module's template writes the
        // metric_query blocks a math or anomaly rule needs.
        if rule.expression.is_some() || rule.anomaly_band.is_some() {
            notes.push(format!("generate --into: no alarm {name}: {}/{} is a metric-math or anomaly-band rule, which --into does not write yet", requirement.policy, rule.id));
            continue;
        }
        let catalogued = settings.catalog.get(&resource.resource_type).expect("requirements only exist for catalogued types");
        let dimensions = catalogued.dimensions(resource, &rule.namespace).map_err(|e| Error::Usage(format!("{}: {e}", resource.arn)))?;
        let Some(dimensions) = dimensions.into_iter().map(|(key, value)| expression(&value).map(|value| (key, value))).collect::<Option<Vec<_>>>() else {
            notes.push(format!("generate --into: no alarm {name}: a dimension of {} is known only after apply and is not one attribute of a block of this module", resource.arn));
            continue;
        };
        let context = alarm_context(settings, requirement, &named, rule, name)?;
        blocks.push((context.address.clone(), alarm_block(&context, &topic_address(&rule.severity)?, &dimensions)));
    }
    for severity in unrouted {
        notes.push(format!(
            "generate --into: alert_thresholds.json routes {severity} to no e-mail: its topic has no subscriber (check reports alarm-topic-unconfirmed; Slack and Teams delivery is the --out module's)"
        ));
    }
    blocks.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = blocks.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::Usage(format!("two generated alarms would share the address {}", pair[0].0.as_str())));
    }
    let mut body = topic_blocks(settings)?;
    for (_, block) in &blocks {
        body.push_str(block);
    }
    let contents = tidy(HEADER, &body);
    hcl::parse_back(INTO_FILE, &contents).map_err(Error::Generate)?;
    Ok(Into { files: vec![GeneratedFile { path: INTO_FILE.into(), contents }], notes })
}

/// The customer-managed key CloudWatch may publish with (the AWS-managed SNS key does not allow
/// it), and per routed severity a topic encrypted with it, its policy and its e-mail
/// subscriptions. The account is Terraform's (`aws_caller_identity`): the source does not say it.
fn topic_blocks(settings: &Settings) -> Result<String> {
    let mut out = String::from(DELIVERY);
    for (name, route) in &settings.thresholds.severities {
        let address = topic_address(name)?;
        out.push_str(&format!(
            "resource \"aws_sns_topic\" \"{address}\" {{\n  name = {}\n  kms_master_key_id = aws_kms_key.onwatch_alerts.arn\n}}\n\n",
            hcl::string(&route.topic)
        ));
        out.push_str(&TOPIC_POLICY.replace("TOPIC", address.as_str()));
        for email in &route.email {
            let hash = format!("{:08x}", crate::support::stable_hash(&[email]) as u32);
            out.push_str(&format!(
                "resource \"aws_sns_topic_subscription\" \"{address}_email_{hash}\" {{\n  topic_arn = aws_sns_topic.{address}.arn\n  protocol = \"email\"\n  endpoint = {}\n}}\n\n",
                hcl::string(email)
            ));
        }
    }
    Ok(out)
}

const DELIVERY: &str = r#"data "aws_caller_identity" "onwatch" {}

data "aws_partition" "onwatch" {}

data "aws_iam_policy_document" "onwatch_alerts_key" {
  # checkov:skip=CKV_AWS_109: a key policy's "*" resource is this key only; account administration of the key is delegated to IAM
  # checkov:skip=CKV_AWS_111: a key policy's "*" resource is this key only; writes are limited to the services and condition below
  # checkov:skip=CKV_AWS_356: a key policy's "*" resource is this key only

  statement {
    sid = "AccountAdministers"
    actions = ["kms:*"]
    resources = ["*"]

    principals {
      type = "AWS"
      identifiers = ["arn:${data.aws_partition.onwatch.partition}:iam::${data.aws_caller_identity.onwatch.account_id}:root"]
    }
  }

  statement {
    sid = "AlarmsPublish"
    actions = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test = "StringEquals"
      variable = "aws:SourceAccount"
      values = [data.aws_caller_identity.onwatch.account_id]
    }
  }
}

resource "aws_kms_key" "onwatch_alerts" {
  description = "onwatch alert topics: CloudWatch alarms may publish (the AWS-managed SNS key does not allow them)"
  enable_key_rotation = true
  deletion_window_in_days = 30
  policy = data.aws_iam_policy_document.onwatch_alerts_key.json
}

"#;

/// `TOPIC` is replaced by the topic's address, a validated identifier.
const TOPIC_POLICY: &str = r#"data "aws_iam_policy_document" "TOPIC_topic" {
  statement {
    sid = "AlarmsPublish"
    actions = ["sns:Publish"]
    resources = [aws_sns_topic.TOPIC.arn]

    principals {
      type = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test = "StringEquals"
      variable = "aws:SourceAccount"
      values = [data.aws_caller_identity.onwatch.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "TOPIC" {
  arn = aws_sns_topic.TOPIC.arn
  policy = data.aws_iam_policy_document.TOPIC_topic.json
}

"#;

fn topic_address(severity_name: &str) -> Result<TerraformIdentifier> {
    let severity = severity(severity_name)?;
    TerraformIdentifier::parse(&format!("onwatch_{severity}")).map_err(|e| Error::Generate(format!("severity {severity}: {e}")))
}

fn alarm_block(alarm: &AlarmContext, topic: &TerraformIdentifier, dimensions: &[(String, String)]) -> String {
    let mut out = format!("resource \"aws_cloudwatch_metric_alarm\" \"{}\" {{\n", alarm.address.as_str());
    let mut line = |key: &str, value: String| out.push_str(&format!("  {key} = {value}\n"));
    line("alarm_name", hcl::string(alarm.name.as_str()));
    line("alarm_description", hcl::string(&alarm.description));
    line("namespace", hcl::string(&alarm.namespace));
    line("metric_name", hcl::string(&alarm.metric));
    if let Some(statistic) = &alarm.statistic {
        line("statistic", hcl::string(statistic));
    }
    if let Some(statistic) = &alarm.extended_statistic {
        line("extended_statistic", hcl::string(statistic));
    }
    line("period", alarm.period.to_string());
    line("evaluation_periods", alarm.evaluation_periods.to_string());
    line("datapoints_to_alarm", alarm.datapoints_to_alarm.to_string());
    line("comparison_operator", hcl::string(&alarm.comparison));
    line("threshold", hcl::number(alarm.threshold));
    line("treat_missing_data", hcl::string(&alarm.treat_missing_data));
    line("actions_enabled", "true".into());
    line("alarm_actions", format!("[aws_sns_topic.{}.arn]", topic.as_str()));
    line("ok_actions", format!("[aws_sns_topic.{}.arn]", topic.as_str()));
    out.push_str("\n  dimensions = {\n");
    for (key, value) in dimensions {
        out.push_str(&format!("    {} = {value}\n", hcl::key(key)));
    }
    out.push_str("  }\n\n  tags = {\n");
    for tag in &alarm.tags {
        out.push_str(&format!("    {} = {}\n", hcl::key(&tag.key), hcl::string(&tag.value)));
    }
    out.push_str("  }\n}\n\n");
    out
}

/// A dimension value as an HCL expression: a literal, or the reference to the one attribute whose
/// token it is; `None` for a value that holds a token onwatch cannot write as a reference.
fn expression(value: &str) -> Option<String> {
    if !crate::terraform::watched::holds_token(value) {
        return Some(hcl::string(value));
    }
    reference(value)
}

/// `${aws_instance.web["a"].id}` as `aws_instance.web["a"].id`: a type, a name and an attribute
/// that are Terraform identifiers, and an instance key that is a whole number or a string
/// (re-escaped as an HCL literal). Tokens of values in modules (`${module.app....}`) and of the
/// account or region are not references this module can make.
fn reference(value: &str) -> Option<String> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let (resource_type, rest) = inner.split_once('.')?;
    let (block, attribute) = rest.rsplit_once('.')?;
    let (name, key) = match block.find('[') {
        Some(at) => (&block[..at], Some(block[at..].strip_prefix('[')?.strip_suffix(']')?)),
        None => (block, None),
    };
    let identifier = |text: &str| TerraformIdentifier::parse(text).is_ok();
    if resource_type == "module" || resource_type == "data" || !(identifier(resource_type) && identifier(name) && identifier(attribute)) {
        return None;
    }
    let key = match key {
        None => String::new(),
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => format!("[{digits}]"),
        Some(quoted) => format!("[{}]", hcl::string(&serde_json::from_str::<String>(quoted).ok()?)),
    };
    Some(format!("{resource_type}.{name}{key}.{attribute}"))
}

/// `resource` with each token replaced by the address it stands for, made of name characters
/// (`${aws_instance.web["a"].id}` → `aws_instance-web-a`): the alarm's name and description are
/// literals, and the value behind the token is not known before apply.
fn without_tokens(resource: &Resource) -> Resource {
    let mut text = String::with_capacity(resource.arn.len());
    let mut rest = resource.arn.as_str();
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else { break };
        let token = &rest[start + 2..start + end];
        let address = token.rsplit_once('.').map_or(token, |(block, _)| block);
        let readable: String = address.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect();
        text.push_str(readable.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-").as_str());
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    Resource { arn: text, ..resource.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_built_from_identifiers_and_escaped_keys_only() {
        assert_eq!(reference("${aws_instance.web.id}").as_deref(), Some("aws_instance.web.id"));
        assert_eq!(reference("${aws_instance.web[0].id}").as_deref(), Some("aws_instance.web[0].id"));
        assert_eq!(reference("${aws_instance.web[\"a.b\"].id}").as_deref(), Some("aws_instance.web[\"a.b\"].id"));
        assert_eq!(reference("${aws_instance.web[\"${x}\"].id}").as_deref(), Some("aws_instance.web[\"$${x}\"].id"));
        for refused in ["${module.app.aws_instance.web.id}", "${account}", "x-${aws_instance.web.id}", "${aws_instance.we b.id}", "${aws_instance.web[x].id}"] {
            assert_eq!(reference(refused), None, "{refused}");
        }
        assert_eq!(expression("orders").as_deref(), Some("\"orders\""));
    }
}
