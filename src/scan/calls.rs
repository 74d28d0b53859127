//! Every AWS operation the scanner calls, in one table. The IAM policy that `onwatch iam-policy`
//! prints is built from it, and every SDK client the scanner builds carries a [`CallLog`]
//! interceptor that records each operation it executes, so tests can prove that what the scanner
//! really calls is what the policy allows, and count the calls.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            context::{BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef},
            Intercept, SharedInterceptor,
        },
        orchestrator::Metadata,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::ConfigBag;

/// One operation the scanner calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The service name as the SDK reports it in its operation metadata.
    pub sdk_service: &'static str,
    /// The operation name (the API action).
    pub operation: &'static str,
    /// The IAM action that permits it; also how errors name the call (`cloudwatch:DescribeAlarms`).
    pub action: &'static str,
}

const fn op(sdk_service: &'static str, operation: &'static str, action: &'static str) -> Operation {
    Operation { sdk_service, operation, action }
}

/// Every operation the scanner calls in a scanned account, and nothing else. `sts:AssumeRole`
/// is not here: with `--role-arn` it is called by the credentials provider, with the caller's
/// own credentials, in the caller's account (see the README).
pub const OPERATIONS: &[Operation] = &[
    op("STS", "GetCallerIdentity", "sts:GetCallerIdentity"),
    op("Resource Groups Tagging API", "GetResources", "tag:GetResources"),
    op("CloudWatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
    op("CloudWatch", "ListMetrics", "cloudwatch:ListMetrics"),
    // Called only when the configuration turns the flapping check on (`alarm_hygiene.flapping`);
    // listed always, so that one policy serves every configuration.
    op("CloudWatch", "DescribeAlarmHistory", "cloudwatch:DescribeAlarmHistory"),
    op("CloudWatch", "ListDashboards", "cloudwatch:ListDashboards"),
    op("CloudWatch", "GetDashboard", "cloudwatch:GetDashboard"),
    op("SNS", "ListTopics", "sns:ListTopics"),
    op("SNS", "GetTopicAttributes", "sns:GetTopicAttributes"),
    op("SNS", "ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic"),
    op("CloudTrail", "DescribeTrails", "cloudtrail:DescribeTrails"),
    op("CloudTrail", "GetTrailStatus", "cloudtrail:GetTrailStatus"),
    op("CloudWatch Logs", "DescribeMetricFilters", "logs:DescribeMetricFilters"),
    op("Auto Scaling", "DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingGroups"),
];

/// What `scan --organization` calls with the caller's own credentials, in the management (or
/// delegated-administrator) account: listing the accounts, then assuming the role in each.
/// `ListAccountsForParent` and `ListOrganizationalUnitsForParent` serve `--ou` (child OUs included).
pub const ORGANIZATION_OPERATIONS: &[Operation] = &[
    op("Organizations", "ListAccounts", "organizations:ListAccounts"),
    op("Organizations", "ListAccountsForParent", "organizations:ListAccountsForParent"),
    op("Organizations", "ListOrganizationalUnitsForParent", "organizations:ListOrganizationalUnitsForParent"),
    op("STS", "AssumeRole", "sts:AssumeRole"),
];

/// The caller's policy for `scan --organization`: list the organisation, and assume `role_name`
/// in any account (of any partition). The member accounts' role gets [`iam_policy`].
pub fn organization_caller_policy(role_name: &str) -> serde_json::Value {
    let listing: Vec<&str> = ORGANIZATION_OPERATIONS.iter().map(|o| o.action).filter(|a| a.starts_with("organizations:")).collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "OnwatchListOrganization", "Effect": "Allow", "Action": listing, "Resource": "*" },
            { "Sid": "OnwatchAssumeScanRole", "Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": format!("arn:*:iam::*:role/{role_name}") }
        ]
    })
}

/// Every operation `onwatch audit list` calls on the audit table.
pub const AUDIT_OPERATIONS: &[Operation] = &[op("DynamoDB", "Scan", "dynamodb:Scan"), op("DynamoDB", "Query", "dynamodb:Query")];

/// The least-privilege policy of an audit reader: read the table `table`, and decrypt it through
/// DynamoDB with the audit key (`key_alias`). It can write nothing.
pub fn audit_reader_policy(table: &str, key_alias: &str) -> serde_json::Value {
    let actions: Vec<&str> = AUDIT_OPERATIONS.iter().map(|o| o.action).collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnwatchAuditRead",
                "Effect": "Allow",
                "Action": actions,
                "Resource": format!("arn:*:dynamodb:*:*:table/{table}")
            },
            {
                "Sid": "OnwatchAuditDecrypt",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringLike": { "kms:ViaService": "dynamodb.*.amazonaws.com" },
                    "ForAnyValue:StringEquals": { "kms:ResourceAliases": key_alias }
                }
            }
        ]
    })
}

/// The operation with this IAM action. Panics on an action missing from [`OPERATIONS`]: the
/// scanner only names actions from the table.
pub(crate) fn by_action(action: &str) -> &'static Operation {
    OPERATIONS
        .iter()
        .chain(AUDIT_OPERATIONS)
        .find(|o| o.action == action)
        .unwrap_or_else(|| panic!("{action} is not in scan::calls::OPERATIONS or AUDIT_OPERATIONS"))
}

/// The least-privilege, read-only IAM policy the scanner needs in every scanned account.
pub fn iam_policy() -> serde_json::Value {
    let mut actions: Vec<&str> = OPERATIONS.iter().map(|o| o.action).collect();
    actions.sort_unstable();
    actions.dedup();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OnwatchScanReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }]
    })
}

/// How often one operation was executed, and how many attempts (retries included) that took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCount {
    pub executions: u64,
    pub attempts: u64,
}

/// Counts every operation executed by the clients it is attached to, keyed by
/// (SDK service name, operation). Cheap to clone; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    counts: Arc<Mutex<BTreeMap<(String, String), CallCount>>>,
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The interceptor to add to an SDK client's configuration.
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(Recorder { log: self.clone() })
    }

    /// The counts so far, keyed by (SDK service name, operation).
    pub fn counts(&self) -> BTreeMap<(String, String), CallCount> {
        self.counts.lock().unwrap().clone()
    }

    /// Executions of one operation, by its IAM action (`cloudwatch:DescribeAlarms`).
    pub fn executions(&self, action: &str) -> u64 {
        let op = by_action(action);
        self.counts
            .lock()
            .unwrap()
            .get(&(op.sdk_service.to_string(), op.operation.to_string()))
            .map_or(0, |c| c.executions)
    }

    /// All executions, of every operation.
    pub fn total(&self) -> u64 {
        self.counts.lock().unwrap().values().map(|c| c.executions).sum()
    }

    /// Recorded operations that are not in [`OPERATIONS`] (so not in the IAM policy).
    pub fn unlisted(&self) -> Vec<String> {
        self.counts
            .lock()
            .unwrap()
            .keys()
            .filter(|(service, operation)| !OPERATIONS.iter().any(|o| o.sdk_service == service && o.operation == operation))
            .map(|(service, operation)| format!("{service}:{operation}"))
            .collect()
    }

    fn record(&self, cfg: &ConfigBag, execution: bool) {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(metadata) => (metadata.service().to_string(), metadata.name().to_string()),
            None => ("<unknown>".to_string(), "<unknown>".to_string()),
        };
        let mut counts = self.counts.lock().unwrap();
        let count = counts.entry((service, operation)).or_default();
        if execution {
            count.executions += 1;
        } else {
            count.attempts += 1;
        }
    }
}

#[derive(Debug)]
struct Recorder {
    log: CallLog,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "onwatch::scan::calls::Recorder"
    }

    // Once per operation, after the operation's metadata is in the config bag (it is not yet
    // there in `read_before_execution`).
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.log.record(cfg, true);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.log.record(cfg, false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_reader_only_reads_its_table() {
        let policy = audit_reader_policy("audit", "alias/x-audit");
        let statements = policy["Statement"].as_array().unwrap();
        let actions: Vec<&str> = statements.iter().flat_map(|s| s["Action"].as_array().unwrap()).map(|a| a.as_str().unwrap()).collect();
        assert_eq!(actions, ["dynamodb:Scan", "dynamodb:Query", "kms:Decrypt"]);
        // Any partition: the printed policy works in GovCloud and China as in the commercial partition.
        assert_eq!(statements[0]["Resource"], "arn:*:dynamodb:*:*:table/audit");
        assert_eq!(statements[1]["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"], "alias/x-audit");
    }

    #[test]
    fn policy_lists_every_action_once_and_only_reads() {
        let policy = iam_policy();
        let actions: Vec<&str> = policy["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert_eq!(actions.len(), OPERATIONS.len());
        for action in actions {
            let verb = action.split(':').nth(1).unwrap();
            assert!(["Get", "List", "Describe"].iter().any(|read| verb.starts_with(read)), "{action} is not read-only");
        }
    }
}
