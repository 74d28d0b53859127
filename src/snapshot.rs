//! Reading, writing and merging inventory snapshots.

pub mod merge;

use std::{fs, path::Path};

use crate::{
    error::{Error, Problem, Result},
    json::parse_fast,
    model::{
        names::{AccountId, DashboardName, NameError, Region},
        Arn, Inventory, SNAPSHOT_VERSION,
    },
};

/// Reads a snapshot, rejecting unknown keys, wrong types, unsupported versions and names that
/// are not names (every region, account and dashboard name: they become Terraform identifiers
/// and ARN parts).
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
    let problems = name_problems(name, &inventory);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(inventory)
}

/// Collects the fields refused by the rules of `model::names`, each at its JSON path.
struct NameCheck<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

impl NameCheck<'_> {
    fn field<T>(&mut self, parse: fn(&str) -> Result<T, NameError>, value: &str, path: impl FnOnce() -> String) {
        if let Err(error) = parse(value) {
            self.problems.push(Problem { file: self.file.to_string(), json_path: path(), position: None, message: error.to_string() });
        }
    }

    /// A timestamp the hygiene checks compare with `--as-of`: RFC 3339 (`2026-12-03T18:00:00Z`).
    fn time(&mut self, value: &str, path: impl FnOnce() -> String) {
        if time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).is_err() {
            let message = format!("{value:?} is not an RFC 3339 timestamp (such as 2026-12-03T18:00:00Z)");
            self.problems.push(Problem { file: self.file.to_string(), json_path: path(), position: None, message });
        }
    }

    /// The `account` and `region` of item `index` of `section`.
    fn place(&mut self, section: &str, index: usize, account: &str, region: &str) {
        self.field(AccountId::parse, account, || format!("$.{section}[{index}].account"));
        self.field(Region::parse, region, || format!("$.{section}[{index}].region"));
    }
}

fn name_problems(file: &str, inventory: &Inventory) -> Vec<Problem> {
    let mut check = NameCheck { file, problems: Vec::new() };
    for (index, scope) in inventory.scopes.iter().enumerate() {
        check.place("scopes", index, &scope.account, &scope.region);
    }
    for (index, resource) in inventory.resources.iter().enumerate() {
        check.place("resources", index, &resource.account, &resource.region);
    }
    for (index, alarm) in inventory.alarms.iter().enumerate() {
        check.place("alarms", index, &alarm.account, &alarm.region);
        if let Some(when) = &alarm.state_updated_at {
            check.time(when, || format!("$.alarms[{index}].state_updated_at"));
        }
        for (at, when) in alarm.state_changes.iter().flatten().enumerate() {
            check.time(when, || format!("$.alarms[{index}].state_changes[{at}]"));
        }
    }
    for (index, alarm) in inventory.composite_alarms.iter().enumerate() {
        check.place("composite_alarms", index, &alarm.account, &alarm.region);
    }
    for (index, metric) in inventory.metrics.iter().enumerate() {
        check.place("metrics", index, &metric.account, &metric.region);
    }
    for (index, dashboard) in inventory.dashboards.iter().enumerate() {
        check.place("dashboards", index, &dashboard.account, &dashboard.region);
        check.field(DashboardName::parse, &dashboard.name, || format!("$.dashboards[{index}].name"));
    }
    for (index, topic) in inventory.sns_topics.iter().enumerate() {
        check.place("sns_topics", index, &topic.account, &topic.region);
    }
    for (index, filter) in inventory.log_metric_filters.iter().enumerate() {
        check.place("log_metric_filters", index, &filter.account, &filter.region);
    }
    for (index, trail) in inventory.trails.iter().enumerate() {
        check.field(AccountId::parse, &trail.account, || format!("$.trails[{index}].account"));
        check.field(Region::parse, &trail.home_region, || format!("$.trails[{index}].home_region"));
        // The log group's region is where the security detections are generated.
        if let Some(arn) = &trail.log_group_arn {
            let region = Arn::parse(arn).map_or(arn.as_str(), |arn| arn.region);
            check.field(Region::parse, region, || format!("$.trails[{index}].log_group_arn"));
        }
    }
    check.problems
}

/// Writes a snapshot with the formatting of [`to_json`], streamed (a merged organisation is
/// hundreds of megabytes: it is not held as text too).
pub fn write_json(out: &mut dyn std::io::Write, inventory: &Inventory) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    serde_json::to_writer_pretty(&mut out, inventory)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Serializes a snapshot with stable formatting.
pub fn to_json(inventory: &Inventory) -> String {
    let mut text = serde_json::to_string_pretty(inventory).expect("inventories serialize");
    text.push('\n');
    text
}
