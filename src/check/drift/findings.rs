//! Drift's findings: one constructor per code, so each message and fix is written in one place.

use super::{Change, DriftItem, IgnoreRule};
use crate::{
    findings::{Code, Finding, Origin},
    terraform::DeclaredResource,
};

fn declared_finding(code: Code, resource: &DeclaredResource, name: &str, resource_id: String, message: String, remediation: &str) -> Finding {
    let mut finding = Finding::new(code, resource_id, message, remediation)
        .with_type(resource.kind.resource_type())
        .with_requirement(resource.address.clone(), Some(Origin { file: resource.file.clone(), line: resource.line }));
    finding.alarm = Some(name.to_string());
    finding
}

fn declared_item(finding: Finding, resource: &DeclaredResource) -> DriftItem {
    DriftItem { finding, address: Some(resource.address.clone()), changes: Vec::new(), diff: None }
}

/// A declared object that cannot be compared: `message` says why.
pub(super) fn unresolved(resource: &DeclaredResource, name: &str, message: String) -> DriftItem {
    let fix = "Nothing to do, or give the value a static form (a literal, a variable default or a .tfvars value) so drift can compare it.";
    declared_item(declared_finding(Code::DriftUnresolved, resource, name, resource.address.clone(), message, fix), resource)
}

pub(super) fn unnamed(resource: &DeclaredResource) -> DriftItem {
    unresolved(resource, "", format!("{} has no name argument", resource.address))
}

pub(super) fn name_unresolved(resource: &DeclaredResource, reason: &str) -> DriftItem {
    unresolved(resource, "", format!("the name of {} is unresolved ({reason}), so it cannot be matched", resource.address))
}

pub(super) fn region_not_scanned(resource: &DeclaredResource, kind_word: &str, name: &str, region: &str) -> DriftItem {
    unresolved(resource, name, format!("{kind_word} {name:?} is declared in {region}, which the inventory does not cover"))
}

pub(super) fn fields_unresolved(resource: &DeclaredResource, kind_word: &str, name: &str, unresolved_fields: &[(String, String)]) -> DriftItem {
    let fields: Vec<String> = unresolved_fields.iter().map(|(field, reason)| format!("{field} ({reason})")).collect();
    unresolved(resource, name, format!("{kind_word} {name:?}: not compared: {}", fields.join("; ")))
}

pub(super) fn missing_live(resource: &DeclaredResource, kind_word: &str, name: &str) -> DriftItem {
    let where_ = resource.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
    let message = format!("{kind_word} {name:?} is declared in {}:{} but does not exist{where_}", resource.file, resource.line);
    let fix = "Run `terraform apply`, or remove the block if the object was deleted on purpose.";
    declared_item(declared_finding(Code::DriftMissingLive, resource, name, resource.address.clone(), message, fix), resource)
}

pub(super) fn dashboard_body(resource: &DeclaredResource, name: &str, live_arn: String, diff: String) -> DriftItem {
    let message = format!("dashboard {name:?} differs from {}:{} (normalized JSON; diff below)", resource.file, resource.line);
    let fix = "Run `terraform apply` to restore the declared body, or copy the console edits into the Terraform.";
    DriftItem { diff: Some(diff), ..declared_item(declared_finding(Code::DriftDashboardBody, resource, name, live_arn, message, fix), resource) }
}

/// `{file}:{line} in {fields}: {details}`: the part of a changed message an ignore rule rewrites.
fn changed_detail(file: &str, line: usize, changes: &[Change]) -> String {
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    let details: Vec<String> = changes.iter().map(|c| format!("{} is {} live, {} declared", c.field, c.live, c.declared)).collect();
    format!("{file}:{line} in {}: {}", fields.join(", "), details.join("; "))
}

pub(super) fn changed(resource: &DeclaredResource, kind_word: &str, name: &str, live_arn: String, changes: Vec<Change>) -> DriftItem {
    let message = format!("{kind_word} {name:?} differs from {}", changed_detail(&resource.file, resource.line, &changes));
    let fix = "Run `terraform apply` to restore the declared values, or copy the console edits into the Terraform.";
    DriftItem { changes, ..declared_item(declared_finding(Code::DriftChanged, resource, name, live_arn, message, fix), resource) }
}

/// Rewrites a drift-changed message after an ignore rule left some fields out.
pub(super) fn reword_changed(finding: &mut Finding, changes: &[Change]) {
    let Some(origin) = &finding.origin else { return };
    let marker = format!("{}:{} in ", origin.file, origin.line);
    if let Some(at) = finding.message.find(&marker) {
        finding.message = format!("{}{}", &finding.message[..at], changed_detail(&origin.file, origin.line, changes));
    }
}

/// A live object no declaration claims. With `unresolved_names` declared names unknown, it may
/// be one of those, so it is reported as unresolved rather than unmanaged.
pub(super) fn unmanaged(live: &super::Unclaimed, unresolved_names: usize) -> DriftItem {
    let super::Unclaimed { word, resource_type, name, arn, region } = live;
    let (code, message, fix) = if unresolved_names > 0 {
        (
            Code::DriftUnresolved,
            format!("{word} {name:?} in {region} matches no declaration, but {unresolved_names} declared names are unresolved and it may be one of them"),
            "Give the declared names a static form so drift can match them.",
        )
    } else {
        (
            Code::DriftUnmanaged,
            format!("{word} {name:?} in {region} is not declared in any Terraform read"),
            "Import it into Terraform (`terraform import`), delete it, or narrow the report with --unmanaged-prefix or an ignore rule.",
        )
    };
    let mut finding = Finding::new(code, arn.clone(), message, fix).with_type(resource_type);
    finding.alarm = Some(name.to_string());
    DriftItem { finding, address: None, changes: Vec::new(), diff: None }
}

pub(super) fn ignore_expired(rule: &IgnoreRule) -> DriftItem {
    let waiver = &rule.waiver;
    let mut finding = Finding::new(
        Code::DriftIgnoreExpired,
        format!("{}#{}", waiver.origin.file, rule.name),
        format!("drift ignore rule for {:?} expired on {} ({}); the drift it ignored is reported again", rule.name, waiver.expires, waiver.reason),
        format!("Fix the drift, or renew the rule in {} with a new expiry date.", waiver.origin.file),
    )
    .with_requirement(format!("drift_ignore/{}", rule.name), Some(waiver.origin.clone()));
    finding.alarm = Some(rule.name.clone());
    DriftItem { finding, address: None, changes: Vec::new(), diff: None }
}
