//! Reading and writing inventory snapshots.

use std::{fs, path::Path};

use crate::{
    error::{Error, Problem, Result},
    model::{
        names::{is_account_id, is_region_name},
        Inventory, SNAPSHOT_VERSION,
    },
    json::parse_fast,
};

/// Reads a snapshot, rejecting unknown keys, wrong types and unsupported versions.
pub fn read(path: &Path) -> Result<Inventory> {
    let bytes = fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    parse(&path.display().to_string(), &bytes)
}

pub fn parse(name: &str, bytes: &[u8]) -> Result<Inventory> {
    let inventory: Inventory = parse_fast(name, bytes)?;
    if inventory.version != SNAPSHOT_VERSION {
        return Err(Error::invalid(
            name,
            "$.version",
            format!("snapshot version {} is not supported (this onwatch reads version {SNAPSHOT_VERSION})", inventory.version),
        ));
    }
    check_names(name, &inventory)?;
    Ok(inventory)
}

/// Rejects regions and accounts that are not AWS names: they become provider aliases and
/// resource labels in generated Terraform, so they follow the same rules as `scan --region`.
fn check_names(file: &str, inventory: &Inventory) -> Result<()> {
    let mut places: Vec<(String, &str, &str)> = Vec::new();
    for (index, scope) in inventory.scopes.iter().enumerate() {
        places.push((format!("$.scopes[{index}]"), &scope.region, &scope.account));
    }
    for (index, resource) in inventory.resources.iter().enumerate() {
        places.push((format!("$.resources[{index}]"), &resource.region, &resource.account));
    }
    for (index, alarm) in inventory.alarms.iter().enumerate() {
        places.push((format!("$.alarms[{index}]"), &alarm.region, &alarm.account));
    }
    for (index, alarm) in inventory.composite_alarms.iter().enumerate() {
        places.push((format!("$.composite_alarms[{index}]"), &alarm.region, &alarm.account));
    }
    for (index, metric) in inventory.metrics.iter().enumerate() {
        places.push((format!("$.metrics[{index}]"), &metric.region, &metric.account));
    }
    for (index, dashboard) in inventory.dashboards.iter().enumerate() {
        places.push((format!("$.dashboards[{index}]"), &dashboard.region, &dashboard.account));
    }
    for (index, topic) in inventory.sns_topics.iter().enumerate() {
        places.push((format!("$.sns_topics[{index}]"), &topic.region, &topic.account));
    }
    for (index, filter) in inventory.log_metric_filters.iter().enumerate() {
        places.push((format!("$.log_metric_filters[{index}]"), &filter.region, &filter.account));
    }
    let mut problems = Vec::new();
    let problem = |json_path: String, message: String| Problem { file: file.to_string(), json_path, position: None, message };
    for (index, trail) in inventory.trails.iter().enumerate() {
        if !is_region_name(&trail.home_region) {
            problems.push(problem(format!("$.trails[{index}].home_region"), format!("{:?} is not an AWS region name (like eu-west-1)", trail.home_region)));
        }
        if !is_account_id(&trail.account) {
            problems.push(problem(format!("$.trails[{index}].account"), format!("{:?} is not an AWS account id (12 digits)", trail.account)));
        }
    }
    for (path, region, account) in places {
        if !is_region_name(region) {
            problems.push(problem(format!("{path}.region"), format!("{region:?} is not an AWS region name (like eu-west-1)")));
        }
        if !is_account_id(account) {
            problems.push(problem(format!("{path}.account"), format!("{account:?} is not an AWS account id (12 digits)")));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

/// Serializes a snapshot with stable formatting.
pub fn to_json(inventory: &Inventory) -> String {
    let mut text = serde_json::to_string_pretty(inventory).expect("inventories serialize");
    text.push('\n');
    text
}
