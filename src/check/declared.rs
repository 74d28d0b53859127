//! What `check --terraform` and `check --plan` add to the inventory: the resources the
//! repository declares (checked against the policies like live ones), and the alarms, SNS topics
//! and metric filters it declares that are not live yet (counted as coverage before apply).
//!
//! With an inventory, a declared resource and a live one are one resource when their ARNs are
//! equal, or, for an ARN known only after apply, when they are of the same type and name.
//! Without one, everything is about what the repository declares, in an account known only after apply.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{drift, Evaluation, Status};
use crate::{
    config::{Catalog, Located},
    findings::{Code, Severity},
    model::{Arn, Inventory, Resource},
    terraform::{
        plan::Deleted,
        watched::{self, holds_token, Origin, Scope, UNKNOWN_ACCOUNT, UNKNOWN_REGION},
        Declared,
    },
};

/// What a check reads from Terraform besides the inventory.
pub struct DeclaredInput<'a> {
    pub declared: &'a Declared,
    /// Resources a plan deletes.
    pub deleted: &'a [Deleted],
    /// The directory or plan file, for notes.
    pub source: &'a str,
    pub catalog: &'a Catalog,
    /// Whether an inventory (a snapshot or a scan) was given.
    pub live: bool,
}

/// What was added, so that the evaluation can say where its findings are declared.
pub struct DeclaredOverlay {
    /// Names of the declared alarms added.
    alarms: FxHashSet<String>,
    /// One line per thing worth telling the user (what was counted, what was left out and why).
    pub notes: Vec<String>,
    /// Resource or alarm ARN → its Terraform address and `file:line`.
    origins: FxHashMap<String, (String, String)>,
    /// ARNs of the declared resources that are not live.
    added: FxHashSet<String>,
    live: bool,
}

fn unique<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let set: std::collections::BTreeSet<&str> = values.collect();
    (set.len() == 1).then(|| set.into_iter().next().unwrap().to_string())
}

/// Takes what a plan deletes out of the inventory; returns how many resources and alarms went.
fn drop_deleted(inventory: &mut Inventory, deleted: &[Deleted]) -> (usize, usize) {
    let arns: FxHashSet<&str> = deleted.iter().filter_map(|d| d.arn.as_deref()).collect();
    let alarms: FxHashSet<&str> = deleted.iter().filter_map(|d| d.alarm_name.as_deref()).collect();
    let (resources_before, alarms_before) = (inventory.resources.len(), inventory.alarms.len());
    inventory.resources.retain(|r| !arns.contains(r.arn.as_str()));
    inventory.alarms.retain(|a| !alarms.contains(a.name.as_str()) && !a.arn.as_deref().is_some_and(|arn| arns.contains(arn)));
    (resources_before - inventory.resources.len(), alarms_before - inventory.alarms.len())
}

/// Names a live resource may have: its `Name` tag and the segments of its ARN's resource part
/// (a load balancer's `app/web/50dc6c495c0c9188` is named `web`).
fn live_names(resource: &Resource) -> Vec<&str> {
    let mut names: Vec<&str> = resource.tags.get("Name").map(String::as_str).into_iter().collect();
    if let Some(arn) = Arn::parse(&resource.arn) {
        names.extend(arn.resource.split(['/', ':']).filter(|s| !s.is_empty()));
    }
    names
}

/// The live twin of a declared resource, by ARN, else by type and name when its ARN is known only after apply.
struct Twins<'a> {
    by_arn: FxHashMap<&'a str, usize>,
    by_name: FxHashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Twins<'a> {
    fn new(live: &'a [Resource], declared: &[Resource]) -> Self {
        let by_arn = live.iter().enumerate().map(|(i, r)| (r.arn.as_str(), i)).collect();
        let named_types: FxHashSet<&str> = declared.iter().filter(|r| holds_token(&r.arn)).map(|r| r.resource_type.as_str()).collect();
        let mut by_name: FxHashMap<(&str, &str), Vec<usize>> = FxHashMap::default();
        for (index, resource) in live.iter().enumerate().filter(|(_, r)| named_types.contains(r.resource_type.as_str())) {
            for name in live_names(resource) {
                let entry = by_name.entry((resource.resource_type.as_str(), name)).or_default();
                if !entry.contains(&index) {
                    entry.push(index);
                }
            }
        }
        Twins { by_arn, by_name }
    }

    fn find(&self, resource: &Resource, origin: &Origin) -> Option<usize> {
        if let Some(&index) = self.by_arn.get(resource.arn.as_str()) {
            return Some(index);
        }
        if !holds_token(&resource.arn) || holds_token(&origin.name) {
            return None;
        }
        match self.by_name.get(&(resource.resource_type.as_str(), origin.name.as_str()))?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// Adds what the repository declares and `inventory` lacks to `inventory`.
pub fn overlay_declared(inventory: &mut Inventory, input: &DeclaredInput) -> DeclaredOverlay {
    let mut notes = Vec::new();
    let (resources_deleted, alarms_deleted) = drop_deleted(inventory, input.deleted);
    if !input.deleted.is_empty() {
        notes.push(format!("plan: {} deleted; {resources_deleted} resources and {alarms_deleted} alarms left the inventory", input.deleted.len()));
    }
    let account = unique(inventory.scopes.iter().map(|s| s.account.as_str()).chain(inventory.resources.iter().map(|r| r.account.as_str())));
    let region = unique(inventory.scopes.iter().map(|s| s.region.as_str()).chain(inventory.resources.iter().map(|r| r.region.as_str())));
    let scope = Scope { account: account.unwrap_or_else(|| UNKNOWN_ACCOUNT.to_string()), region };
    let mut declared = watched::declared_resources(input.declared, input.catalog, &scope);
    notes.append(&mut declared.notes);
    notes.extend(input.declared.notes.iter().cloned());
    let (resources, origins) = (std::mem::take(&mut declared.resources), std::mem::take(&mut declared.origins));
    let mut overlay = DeclaredOverlay { alarms: FxHashSet::default(), notes, origins: FxHashMap::default(), added: FxHashSet::default(), live: input.live };
    let mut new = Vec::new();
    {
        let twins = Twins::new(&inventory.resources, &resources);
        for (resource, origin) in resources.into_iter().zip(origins) {
            match twins.find(&resource, &origin) {
                Some(index) => {
                    let live = &inventory.resources[index];
                    // References to the declared resource's identity now mean the live one's.
                    if let Some(Ok(Located::Arn(captures))) = input.catalog.get(&live.resource_type).map(|t| t.locate(live)) {
                        for (group, reference) in &origin.identity {
                            if let Some(value) = captures.name(group) {
                                declared.references.insert(reference.clone(), value.as_str().to_string());
                            }
                        }
                    }
                    overlay.origins.insert(live.arn.clone(), (origin.address, origin.location));
                }
                None => {
                    overlay.added.insert(resource.arn.clone());
                    overlay.origins.insert(resource.arn.clone(), (origin.address, origin.location));
                    new.push(resource);
                }
            }
        }
    }
    let context = drift::AsLive {
        account: (!input.live).then(|| UNKNOWN_ACCOUNT.to_string()),
        region: Some(UNKNOWN_REGION.to_string()),
        references: Some(&declared),
    };
    let added = drift::declared_as_live_with(input.declared, inventory, &context);
    let source = input.source;
    overlay.notes.extend(added.skipped.iter().map(|(address, reason)| format!("terraform: {address} not counted: {reason}")));
    overlay.notes.push(format!("terraform: {} resources declared in {source} and not yet live, checked", new.len()));
    overlay.notes.push(format!("terraform: {} alarms declared in {source} and not yet live, counted as coverage", added.alarms.len()));
    if !added.log_metric_filters.is_empty() {
        overlay.notes.push(format!(
            "terraform: {} metric filters declared in {source} and not yet live, counted for the security controls",
            added.log_metric_filters.len()
        ));
    }
    for (alarm, origin) in added.alarms.iter().zip(&added.origins) {
        overlay.origins.insert(alarm.arn(), origin.clone());
        overlay.alarms.insert(alarm.name.clone());
    }
    inventory.resources.extend(new);
    if !added.composite_alarms.is_empty() {
        overlay.notes.push(format!("terraform: {} composite alarms declared in {source} and not yet live, counted for delivery", added.composite_alarms.len()));
    }
    inventory.alarms.extend(added.alarms);
    inventory.composite_alarms.extend(added.composite_alarms);
    inventory.sns_topics.extend(added.topics);
    inventory.log_metric_filters.extend(added.log_metric_filters);
    overlay
}

impl DeclaredOverlay {
    /// Whether any declared alarm was added (then the evaluation needs requirement records to
    /// count [`super::Summary::declared_not_live`]).
    pub fn is_empty(&self) -> bool {
        self.alarms.is_empty()
    }

    /// Sets `declared_not_live`: requirements covered by a declared alarm.
    pub fn count(&self, evaluation: &mut Evaluation) {
        evaluation.summary.declared_not_live = evaluation
            .requirements
            .iter()
            .filter(|r| r.status == Status::Covered && r.alarm.as_ref().is_some_and(|a| self.alarms.contains(a)))
            .count();
    }

    /// Puts the Terraform address and `file:line` on the findings of declared resources and
    /// alarms, counts what the change adds, and, without an inventory, drops the orphaned-alarm
    /// findings of declared alarms (what they watch may be live and simply not read).
    pub fn place(&self, evaluation: &mut Evaluation) {
        if !self.live {
            let before = evaluation.findings.len();
            evaluation.findings.retain(|f| !(f.code == Code::OrphanedAlarm && f.alarm.as_ref().is_some_and(|a| self.alarms.contains(a))));
            let dropped = before - evaluation.findings.len();
            evaluation.summary.orphaned -= dropped.min(evaluation.summary.orphaned);
            for severity in [Severity::Error, Severity::Warning, Severity::Info] {
                evaluation.summary.findings.insert(severity, evaluation.findings.iter().filter(|f| f.severity == severity).count());
            }
        }
        let mut unwatched: FxHashSet<&str> = FxHashSet::default();
        for finding in &mut evaluation.findings {
            if let Some((address, location)) = self.origins.get(&finding.resource) {
                finding.terraform_address = Some(address.clone());
                finding.location = Some(location.clone());
            }
            if finding.code == Code::MissingAlarm {
                if let Some(arn) = self.added.get(finding.resource.as_str()) {
                    unwatched.insert(arn.as_str());
                }
            }
        }
        evaluation.summary.declared_resources = self.added.len();
        evaluation.summary.declared_without_alarms = unwatched.len();
    }
}
