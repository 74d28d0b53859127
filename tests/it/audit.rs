//! The audit trail's tamper resistance, in a policy-simulation style: the generated module's
//! policies (table resource policy, the writer's role, its trust policy, the key policy) are read
//! back from the HCL `onwatch generate` writes, rendered as IAM JSON the way the AWS provider does,
//! and evaluated for the requests that matter: the writer may only insert, nobody but the
//! break-glass role may update, delete or loosen anything.


use crate::common::{
    iam::{evaluate, Decision, Request},
    module::Module,
};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/onwatch-audit-log";
const WRITER: &str = "arn:aws:iam::123456789012:role/onwatch-audit-writer";
const BREAK_GLASS: &str = "arn:aws:iam::123456789012:role/onwatch-audit-break-glass";
const ADMIN: &str = "arn:aws:iam::123456789012:role/platform-admin";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/audit";
const STATE_MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:onwatch-audit-writer";

/// The module generated for the example account, read back with what apply would resolve.
fn module() -> Module {
    Module::read(crate::common::module::example_module(false).path())
        .known("aws_dynamodb_table.audit.arn", TABLE)
        .known("aws_kms_key.audit.arn", KEY)
        .known("aws_sfn_state_machine.audit.arn", STATE_MACHINE)
        .known("aws_sqs_queue.audit_undelivered.arn", "arn:aws:sqs:us-east-1:123456789012:onwatch-audit-undelivered")
}

/// An administrator's identity policy: everything on DynamoDB and KMS.
fn admin_policy() -> Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kms:*"], "Resource": "*"}]})
}

const RECORD: &[&str] = &["alarm_arn", "event_id", "event_time", "kind", "resource", "old_state", "new_state", "reason", "account", "region", "expires_at"];

#[test]
fn the_evaluator_follows_iam_rules() {
    // Without this, a permissive evaluator would pass every test below.
    let allow = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}]});
    let deny = serde_json::json!({"Statement": [{"Sid": "No", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": BREAK_GLASS}}}]});
    assert_eq!(evaluate(&[&allow], None, &Request::new(ADMIN, "s3:GetObject", "arn:aws:s3:::b/k")), Decision::Allow);
    assert_eq!(evaluate(&[&allow], None, &Request::new(ADMIN, "s3:PutObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
    assert_eq!(evaluate(&[&allow], None, &Request::new(ADMIN, "s3:GetObject", "arn:aws:s3:::other/k")), Decision::ImplicitDeny);
    assert_eq!(evaluate(&[&allow], Some(&deny), &Request::new(ADMIN, "s3:GetObject", "arn:aws:s3:::b/k")), Decision::ExplicitDeny("No".into()));
    assert_eq!(evaluate(&[&allow], Some(&deny), &Request::new(BREAK_GLASS, "s3:GetObject", "arn:aws:s3:::b/k")), Decision::Allow);
}

#[test]
fn only_the_writer_inserts_and_only_break_glass_changes_or_deletes() {
    let module = module();
    let table_policy = module.policy_document("audit_table");
    let writer_policy = module.policy_document("audit_writer");
    let resource_policy = module.attribute(module.block("resource", "aws_dynamodb_resource_policy", "audit"), "resource_arn");
    assert_eq!(resource_policy, TABLE, "the resource policy is attached to the audit table");
    let admin = admin_policy();
    let put = |principal| Request::new(principal, "dynamodb:PutItem", TABLE).with("dynamodb:Attributes", RECORD).with("dynamodb:ReturnValues", &["NONE"]);

    // The writer inserts records, with the record's attributes and nothing else.
    assert_eq!(evaluate(&[&writer_policy], Some(&table_policy), &put(WRITER)), Decision::Allow);
    let forged = Request::new(WRITER, "dynamodb:PutItem", TABLE).with("dynamodb:Attributes", &["alarm_arn", "event_id", "approved_by"]);
    assert_eq!(evaluate(&[&writer_policy], Some(&table_policy), &forged), Decision::ImplicitDeny, "an attribute outside the schema");
    let returning = put(WRITER).with("dynamodb:ReturnValues", &["ALL_OLD"]);
    assert_eq!(evaluate(&[&writer_policy], Some(&table_policy), &returning), Decision::ImplicitDeny, "a put that would read back what it replaced");
    // ... and can do nothing else, not even read.
    for action in ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DeleteTable"] {
        assert_ne!(evaluate(&[&writer_policy], Some(&table_policy), &Request::new(WRITER, action, TABLE)), Decision::Allow, "{action}");
    }

    // Nobody but break-glass updates, deletes, or loosens the table, whatever their IAM policy says.
    let tampering = [
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:DeleteTable",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy",
    ];
    for action in tampering {
        for principal in [ADMIN, WRITER, "arn:aws:iam::123456789012:root"] {
            let identity: &[&Value] = if principal == WRITER { &[&writer_policy] } else { &[&admin] };
            assert_eq!(
                evaluate(identity, Some(&table_policy), &Request::new(principal, action, TABLE)),
                Decision::ExplicitDeny("OnlyBreakGlassChangesOrDeletes".into()),
                "{principal} {action}"
            );
        }
        assert_eq!(evaluate(&[&admin], Some(&table_policy), &Request::new(BREAK_GLASS, action, TABLE)), Decision::Allow, "break-glass {action}");
    }
    // Inserting is the writer's alone: an administrator cannot add a forged record.
    assert_eq!(evaluate(&[&admin], Some(&table_policy), &put(ADMIN)), Decision::ExplicitDeny("OnlyTheWriterInserts".into()));
    assert_eq!(
        evaluate(&[&admin], Some(&table_policy), &Request::new(ADMIN, "dynamodb:PartiQLInsert", TABLE)),
        Decision::ExplicitDeny("OnlyTheWriterInserts".into())
    );
    // Reading stays possible for whoever IAM allows (auditors, `onwatch audit list`).
    for action in ["dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:DescribeTable"] {
        assert_eq!(evaluate(&[&admin], Some(&table_policy), &Request::new(ADMIN, action, TABLE)), Decision::Allow, "{action}");
    }
}

#[test]
fn only_the_audit_state_machine_becomes_the_writer() {
    let module = module();
    let trust = module.policy_document("audit_writer_assume");
    let assume = |principal, source: &'static str| {
        Request::new(principal, "sts:AssumeRole", WRITER).with("aws:SourceArn", &[source]).with("aws:SourceAccount", &[ACCOUNT])
    };
    assert_eq!(evaluate(&[], Some(&trust), &assume("states.amazonaws.com", STATE_MACHINE)), Decision::Allow);
    let other = "arn:aws:states:us-east-1:123456789012:stateMachine:something-else";
    assert_eq!(evaluate(&[], Some(&trust), &assume("states.amazonaws.com", other)), Decision::ImplicitDeny, "another state machine");
    assert_eq!(evaluate(&[], Some(&trust), &assume("lambda.amazonaws.com", STATE_MACHINE)), Decision::ImplicitDeny, "another service");
    assert_eq!(evaluate(&[&admin_policy()], Some(&trust), &assume(ADMIN, STATE_MACHINE)), Decision::ImplicitDeny, "a person");
}

#[test]
fn only_break_glass_can_destroy_the_audit_key() {
    let module = module();
    let key_policy = module.policy_document("audit_key");
    for action in ["kms:ScheduleKeyDeletion", "kms:DisableKey"] {
        assert_eq!(
            evaluate(&[&admin_policy()], Some(&key_policy), &Request::new(ADMIN, action, KEY)),
            Decision::ExplicitDeny("OnlyBreakGlassDestroysTheKey".into()),
            "{action}"
        );
        assert_eq!(evaluate(&[&admin_policy()], Some(&key_policy), &Request::new(BREAK_GLASS, action, KEY)), Decision::Allow, "{action}");
    }
    // The key stays administrable through IAM (the account root delegates), and the writer may
    // use it only through DynamoDB.
    assert_eq!(evaluate(&[&admin_policy()], Some(&key_policy), &Request::new(ADMIN, "kms:PutKeyPolicy", KEY)), Decision::Allow);
    let writer = module.policy_document("audit_writer");
    let through = |service: &'static str| Request::new(WRITER, "kms:GenerateDataKey", KEY).with("kms:ViaService", &[service]);
    assert_eq!(evaluate(&[&writer], Some(&key_policy), &through("dynamodb.us-east-1.amazonaws.com")), Decision::Allow);
    assert_eq!(evaluate(&[&writer], Some(&key_policy), &through("s3.us-east-1.amazonaws.com")), Decision::ImplicitDeny);
}

#[test]
fn the_table_keeps_its_protections() {
    let module = module();
    let table = module.block("resource", "aws_dynamodb_table", "audit");
    assert_eq!(module.attribute(table, "deletion_protection_enabled"), true);
    let nested = |name: &str, attribute: &str| {
        let block = table.body().blocks().find(|b| b.identifier() == name).unwrap_or_else(|| panic!("no {name} block"));
        module.attribute(block, attribute)
    };
    assert_eq!(nested("point_in_time_recovery", "enabled"), true);
    assert_eq!(nested("server_side_encryption", "enabled"), true);
    assert_eq!(nested("server_side_encryption", "kms_key_arn"), KEY, "the customer-managed audit key");
    assert_eq!(nested("ttl", "attribute_name"), "expires_at");
    assert_eq!(nested("ttl", "enabled"), true);
    let lifecycle = table.body().blocks().find(|b| b.identifier() == "lifecycle").unwrap();
    assert_eq!(module.attribute(lifecycle, "prevent_destroy"), true);
    let key = module.block("resource", "aws_kms_key", "audit");
    assert_eq!(module.attribute(key, "enable_key_rotation"), true);
}
