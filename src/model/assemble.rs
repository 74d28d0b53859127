//! The one canonical order of an inventory: what the scanner's parts (one per account and region)
//! become, and what `onwatch merge` rebuilds from several snapshots, so that a merge of shards is
//! byte-identical to one scan of the same scopes.

use super::{CompositeAlarm, Dashboard, Inventory, LogMetricFilter, Metric, MetricAlarm, Resource, Scope, SnsTopic, Trail, SNAPSHOT_VERSION};

/// What one (account, region) holds. Dashboards and trails belong to the account; they sit in the
/// part of the region they were read in.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopePart {
    pub scope: Scope,
    pub resources: Vec<Resource>,
    pub alarms: Vec<MetricAlarm>,
    pub composite_alarms: Vec<CompositeAlarm>,
    pub metrics: Vec<Metric>,
    pub dashboards: Vec<Dashboard>,
    pub topics: Vec<SnsTopic>,
    pub trails: Vec<Trail>,
    pub metric_filters: Vec<LogMetricFilter>,
}

impl ScopePart {
    /// A scope that holds nothing (yet).
    pub fn new(scope: Scope) -> Self {
        ScopePart {
            scope,
            resources: Vec::new(),
            alarms: Vec::new(),
            composite_alarms: Vec::new(),
            metrics: Vec::new(),
            dashboards: Vec::new(),
            topics: Vec::new(),
            trails: Vec::new(),
            metric_filters: Vec::new(),
        }
    }
}

fn scope_key(scope: &Scope) -> (&str, &str) {
    (&scope.account, &scope.region)
}

/// Joins the parts in a fixed order, whatever order they finished (or were merged) in.
pub fn assemble(mut parts: Vec<ScopePart>, generated_at: Option<String>) -> Inventory {
    parts.sort_by(|a, b| scope_key(&a.scope).cmp(&scope_key(&b.scope)));
    let mut inventory = Inventory { version: SNAPSHOT_VERSION, generated_at, ..Inventory::default() };
    // Sized once: growing by doubling would copy a merged organisation's items several times.
    let total = |count: fn(&ScopePart) -> usize| parts.iter().map(count).sum::<usize>();
    inventory.scopes.reserve(parts.len());
    inventory.resources.reserve(total(|p| p.resources.len()));
    inventory.alarms.reserve(total(|p| p.alarms.len()));
    inventory.composite_alarms.reserve(total(|p| p.composite_alarms.len()));
    inventory.metrics.reserve(total(|p| p.metrics.len()));
    inventory.dashboards.reserve(total(|p| p.dashboards.len()));
    inventory.sns_topics.reserve(total(|p| p.topics.len()));
    inventory.trails.reserve(total(|p| p.trails.len()));
    inventory.log_metric_filters.reserve(total(|p| p.metric_filters.len()));
    for part in parts {
        inventory.scopes.push(part.scope);
        inventory.resources.extend(part.resources);
        inventory.alarms.extend(part.alarms);
        inventory.composite_alarms.extend(part.composite_alarms);
        inventory.metrics.extend(part.metrics);
        inventory.dashboards.extend(part.dashboards);
        inventory.sns_topics.extend(part.topics);
        inventory.trails.extend(part.trails);
        inventory.log_metric_filters.extend(part.metric_filters);
    }
    // Global resources (CloudFront) can be listed from more than one region: keep the first.
    inventory.resources.sort_by(|a, b| a.arn.cmp(&b.arn));
    inventory.resources.dedup_by(|a, b| a.arn == b.arn);
    inventory.alarms.sort_by(|a, b| (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name)));
    inventory.composite_alarms.sort_by(|a, b| (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name)));
    inventory.metrics.sort_by(|a, b| {
        (&a.account, &a.region, &a.namespace, &a.metric_name, &a.dimensions).cmp(&(&b.account, &b.region, &b.namespace, &b.metric_name, &b.dimensions))
    });
    inventory.metrics.dedup();
    inventory.dashboards.sort_by(|a, b| (&a.account, &a.name).cmp(&(&b.account, &b.name)));
    inventory.sns_topics.sort_by(|a, b| a.arn.cmp(&b.arn));
    inventory.trails.sort_by(|a, b| (&a.account, &a.arn).cmp(&(&b.account, &b.arn)));
    inventory.log_metric_filters.sort_by(|a, b| (&a.account, &a.region, &a.log_group, &a.name).cmp(&(&b.account, &b.region, &b.log_group, &b.name)));
    inventory.scopes.sort();
    inventory
}

/// The accounts an inventory holds anything of (a scope or a resource), sorted.
pub fn accounts(inventory: &Inventory) -> Vec<String> {
    let mut accounts: Vec<String> =
        inventory.scopes.iter().map(|s| s.account.clone()).chain(inventory.resources.iter().map(|r| r.account.clone())).collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
}

/// What `inventory` holds of one account: the inventory a scan of that account alone writes.
pub fn of_account(inventory: &Inventory, account: &str) -> Inventory {
    fn mine<T: Clone>(items: &[T], account: &str, of: impl Fn(&T) -> &str) -> Vec<T> {
        items.iter().filter(|item| of(item) == account).cloned().collect()
    }
    Inventory {
        schema: None,
        version: inventory.version,
        generated_at: inventory.generated_at.clone(),
        scopes: mine(&inventory.scopes, account, |s| &s.account),
        resources: mine(&inventory.resources, account, |r| &r.account),
        alarms: mine(&inventory.alarms, account, |a| &a.account),
        composite_alarms: mine(&inventory.composite_alarms, account, |a| &a.account),
        metrics: mine(&inventory.metrics, account, |m| &m.account),
        dashboards: mine(&inventory.dashboards, account, |d| &d.account),
        sns_topics: mine(&inventory.sns_topics, account, |t| &t.account),
        trails: mine(&inventory.trails, account, |t| &t.account),
        log_metric_filters: mine(&inventory.log_metric_filters, account, |f| &f.account),
    }
}
