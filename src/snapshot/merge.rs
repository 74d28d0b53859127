//! `onwatch merge`: snapshots of disjoint (or agreeing) scopes, such as the shards of one scan,
//! combined into one inventory in the scanner's own order ([`model::assemble`]), so that the
//! merge of `scan --shard 1/N` .. `N/N` is byte-identical to one scan of the same scopes.
//!
//! - Every item belongs to the scope of its account and region; dashboards and trails belong to
//!   the account and are kept from the account's first region, where the scanner reads them.
//! - A scope held by two snapshots must be the same in both (its record, failed or not, and every
//!   item in it), else the merge fails naming both files and the scope.
//! - `generated_at` is the latest of the inputs': shards taken with one `SOURCE_DATE_EPOCH` merge
//!   to the single scan's value, and a merge is never dated before its newest part.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{
    error::{Error, Result},
    model::{assemble, Inventory, Scope, ScopePart},
};

type Key = (String, String);

/// One input's parts by scope, with the scopes it declares.
struct Split {
    parts: BTreeMap<Key, ScopePart>,
    declared: BTreeSet<Key>,
}

fn key(account: &str, region: &str) -> Key {
    (account.to_string(), region.to_string())
}

/// Distributes an inventory's items over its scopes (declared or implied by an item's account
/// and region).
fn split(inventory: Inventory) -> Split {
    let declared: BTreeSet<Key> = inventory.scopes.iter().map(|s| key(&s.account, &s.region)).collect();
    let mut parts: BTreeMap<Key, ScopePart> = BTreeMap::new();
    for scope in inventory.scopes {
        parts.insert(key(&scope.account, &scope.region), ScopePart::new(scope));
    }
    fn part<'a>(parts: &'a mut BTreeMap<Key, ScopePart>, account: &str, region: &str) -> &'a mut ScopePart {
        parts.entry(key(account, region)).or_insert_with(|| ScopePart::new(Scope { account: account.to_string(), region: region.to_string(), failed: None }))
    }
    for item in inventory.resources {
        part(&mut parts, &item.account.clone(), &item.region.clone()).resources.push(item);
    }
    for item in inventory.alarms {
        part(&mut parts, &item.account.clone(), &item.region.clone()).alarms.push(item);
    }
    for item in inventory.composite_alarms {
        part(&mut parts, &item.account.clone(), &item.region.clone()).composite_alarms.push(item);
    }
    for item in inventory.metrics {
        part(&mut parts, &item.account.clone(), &item.region.clone()).metrics.push(item);
    }
    for item in inventory.sns_topics {
        part(&mut parts, &item.account.clone(), &item.region.clone()).topics.push(item);
    }
    for item in inventory.log_metric_filters {
        part(&mut parts, &item.account.clone(), &item.region.clone()).metric_filters.push(item);
    }
    // Account-wide items sit in the account's first region of this input, where a scan reads them.
    let first = |parts: &BTreeMap<Key, ScopePart>, account: &str, fallback: &str| {
        parts.keys().find(|(a, _)| a == account).map_or_else(|| key(account, fallback), |k| k.clone())
    };
    for item in inventory.dashboards {
        let (account, region) = first(&parts, &item.account, &item.region);
        part(&mut parts, &account, &region).dashboards.push(item);
    }
    for item in inventory.trails {
        let (account, region) = first(&parts, &item.account, &item.home_region);
        part(&mut parts, &account, &region).trails.push(item);
    }
    Split { parts, declared }
}

fn describe(scope: &Key) -> String {
    format!("scope {}/{}", scope.0, scope.1)
}

/// What two parts of one scope differ in, for the message.
fn difference(a: &ScopePart, b: &ScopePart) -> &'static str {
    if a.scope != b.scope {
        "the scope record (failed or not) differs"
    } else if a.resources != b.resources {
        "its resources differ"
    } else if a.alarms != b.alarms || a.composite_alarms != b.composite_alarms {
        "its alarms differ"
    } else if a.metrics != b.metrics {
        "its metrics differ"
    } else if a.topics != b.topics {
        "its SNS topics differ"
    } else if a.metric_filters != b.metric_filters {
        "its metric filters differ"
    } else {
        "its account-wide dashboards or trails differ"
    }
}

/// Merges named inventories (the name is the file, for messages). The result does not depend on
/// the order of `inputs`.
pub fn merge(inputs: Vec<(String, Inventory)>) -> Result<Inventory> {
    let mut generated_at: Option<(time::OffsetDateTime, String)> = None;
    let mut owner: BTreeMap<Key, String> = BTreeMap::new();
    let mut parts: BTreeMap<Key, ScopePart> = BTreeMap::new();
    let mut declared: BTreeSet<Key> = BTreeSet::new();
    for (name, mut inventory) in inputs {
        if let Some(text) = inventory.generated_at.take() {
            let when = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| Error::invalid(&name, "$.generated_at", format!("not an RFC 3339 time: {e}")))?;
            if generated_at.as_ref().is_none_or(|(latest, _)| when > *latest) {
                generated_at = Some((when, text));
            }
        }
        let split = split(inventory);
        declared.extend(split.declared);
        for (scope, part) in split.parts {
            match parts.get(&scope) {
                Some(held) if *held != part => {
                    let message = format!("{} is in both and {}", describe(&scope), difference(held, &part));
                    return Err(Error::Merge { first: owner[&scope].clone(), second: name, message });
                }
                Some(_) => {}
                None => {
                    owner.insert(scope.clone(), name.clone());
                    parts.insert(scope, part);
                }
            }
        }
    }
    keep_account_wide_in_first_region(&mut parts);
    let mut inventory = assemble(parts.into_values().collect(), generated_at.map(|(_, text)| text));
    inventory.scopes.retain(|s| declared.contains(&key(&s.account, &s.region)));
    Ok(inventory)
}

/// Dashboards and trails of an account come from its first region, as in one scan of all its
/// regions: another input that scanned a later region alone read them too.
fn keep_account_wide_in_first_region(parts: &mut BTreeMap<Key, ScopePart>) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for ((account, _), part) in parts.iter_mut() {
        if !seen.insert(account.clone()) {
            part.dashboards.clear();
            part.trails.clear();
        }
    }
}

#[derive(serde::Deserialize)]
struct VersionOnly {
    version: Option<u32>,
}

/// Reads and merges snapshot files: their versions must all be the same (else the two files that
/// differ are named, before any other problem), then each is read in full.
pub fn merge_files(paths: &[&Path]) -> Result<Inventory> {
    // Reading and parsing dominate (a 10k-resource snapshot is ~30 MB): one share of the files
    // per core, each file's bytes dropped as soon as it is parsed, so that at most one file per
    // core is held as text beside the parsed inventories.
    let read = crate::support::par_chunks(paths, 2, |share| share.iter().map(|path| read_one(path)).collect::<Vec<_>>());
    let read: Vec<Read> = read.into_iter().flatten().collect::<Result<_>>()?;
    let mut first_version: Option<(u32, &str)> = None;
    for file in &read {
        let Some(version) = file.version else { continue };
        match first_version {
            Some((seen, first)) if seen != version => {
                let message = format!("snapshot versions differ ({seen} and {version}): merge snapshots taken by one onwatch version");
                return Err(Error::Merge { first: first.to_string(), second: file.name.clone(), message });
            }
            Some(_) => {}
            None => first_version = Some((version, &file.name)),
        }
    }
    let inventories = read.into_iter().map(|file| file.inventory.map(|inventory| (file.name, inventory))).collect::<Result<Vec<_>>>()?;
    merge(inventories)
}

/// One snapshot file: its version (when it has one that can be read) and the parse of it.
struct Read {
    name: String,
    version: Option<u32>,
    inventory: Result<Inventory>,
}

/// A file that cannot be read fails the merge at once; one that does not parse fails it only
/// after the versions are compared (a version mismatch is the clearer message).
fn read_one(path: &Path) -> Result<Read> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let name = path.display().to_string();
    let inventory = super::parse(&name, &bytes);
    // A second pass over the text only for a file that failed (an unsupported version fails).
    let version = match &inventory {
        Ok(inventory) => Some(inventory.version),
        Err(_) => serde_json::from_slice::<VersionOnly>(&bytes).ok().and_then(|v| v.version),
    };
    Ok(Read { name, version, inventory })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Resource, SNAPSHOT_VERSION};
    use crate::scan::{shard::select, Shard};
    use proptest::prelude::*;
    use serde_json::json;

    const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

    /// What a scanner reads in one account and region: a queue, an alarm on it, a metric, a
    /// topic; and in the account's first region its dashboard and trail.
    fn part(account: &str, region: &str) -> ScopePart {
        let queue = format!("arn:aws:sqs:{region}:{account}:jobs");
        let first = region == REGIONS[0];
        let value = json!({
            "version": 1,
            "resources": [{ "arn": queue, "type": "sqs:queue", "region": region, "account": account, "tags": { "team": "a" } }],
            "alarms": [{ "name": format!("jobs-age-{region}"), "region": region, "account": account, "namespace": "AWS/SQS",
                        "metric_name": "ApproximateAgeOfOldestMessage", "dimensions": { "QueueName": "jobs" }, "statistic": "Maximum",
                        "period": 60, "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold", "threshold": 300.0 }],
            "metrics": [{ "namespace": "AWS/SQS", "metric_name": "NumberOfMessagesSent", "dimensions": { "QueueName": "jobs" }, "region": region, "account": account }],
            "sns_topics": [{ "arn": format!("arn:aws:sns:{region}:{account}:alerts"), "region": region, "account": account }],
            "dashboards": if first { json!([{ "name": "ops", "region": region, "account": account }]) } else { json!([]) },
            "trails": if first { json!([{ "name": "org", "arn": format!("arn:aws:cloudtrail:{region}:{account}:trail/org"), "account": account,
                                           "home_region": region, "multi_region": true, "logging": true }]) } else { json!([]) },
        });
        let inventory: Inventory = serde_json::from_value(value).expect("a valid inventory");
        ScopePart {
            scope: Scope { account: account.into(), region: region.into(), failed: None },
            resources: inventory.resources,
            alarms: inventory.alarms,
            composite_alarms: inventory.composite_alarms,
            metrics: inventory.metrics,
            dashboards: inventory.dashboards,
            topics: inventory.sns_topics,
            trails: inventory.trails,
            metric_filters: inventory.log_metric_filters,
        }
    }

    fn parts(accounts: usize) -> Vec<ScopePart> {
        (0..accounts).flat_map(|a| REGIONS.iter().map(move |r| part(&format!("{:012}", 210_987_654_321u64 + a as u64), r))).collect()
    }

    const AT: &str = "2026-12-01T10:00:00Z";

    /// The snapshots of `scan --shard 1/N` .. `N/N`, as the scanner assembles them.
    fn shards(accounts: usize, count: u32) -> Vec<(String, Inventory)> {
        (1..=count)
            .map(|index| {
                let mine = select(parts(accounts), Some(Shard { index, count }), |p| (p.scope.account.as_str(), p.scope.region.as_str()));
                (format!("shard-{index}.json"), assemble(mine, Some(AT.into())))
            })
            .collect()
    }

    fn json(inventory: &Inventory) -> String {
        crate::snapshot::to_json(inventory)
    }

    proptest! {
        #[test]
        fn shards_merged_in_any_order_are_the_single_scan(accounts in 1usize..12, count in 1u32..7, seed in any::<u64>()) {
            let single = json(&assemble(parts(accounts), Some(AT.into())));
            let mut inputs = shards(accounts, count);
            // A deterministic shuffle from the seed.
            let len = inputs.len();
            for i in (1..len).rev() {
                inputs.swap(i, (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize);
            }
            // A shard given twice agrees with itself.
            inputs.push(inputs[0].clone());
            prop_assert_eq!(json(&merge(inputs).unwrap()), single);
        }
    }

    #[test]
    fn generated_at_is_the_latest_of_the_inputs() {
        let mut inputs = shards(3, 2);
        inputs[0].1.generated_at = Some("2026-12-01T09:00:00Z".into());
        inputs[1].1.generated_at = Some("2026-12-01T11:00:00+01:00".into());
        assert_eq!(merge(inputs.clone()).unwrap().generated_at.as_deref(), Some("2026-12-01T11:00:00+01:00"));
        inputs[1].1.generated_at = Some("2026-12-01T11:00:00Z".into());
        assert_eq!(merge(inputs).unwrap().generated_at.as_deref(), Some("2026-12-01T11:00:00Z"));
    }

    fn conflict(a: Inventory, b: Inventory) -> String {
        let error = merge(vec![("a.json".into(), a), ("b.json".into(), b)]).expect_err("the scopes disagree");
        assert!(matches!(error, Error::Merge { .. }), "{error:?}");
        error.to_string()
    }

    #[test]
    fn a_scope_two_snapshots_hold_differently_is_refused_naming_both() {
        let whole = assemble(parts(2), Some(AT.into()));
        let account = whole.scopes[0].account.clone();

        let mut other = whole.clone();
        other.alarms[0].threshold = Some(301.0);
        let message = conflict(whole.clone(), other);
        assert!(message.contains("a.json and b.json") && message.contains(&format!("scope {account}/eu-west-1")) && message.contains("alarms differ"), "{message}");

        let mut failed = whole.clone();
        failed.scopes[1].failed = Some("AccessDenied".into());
        failed.resources.retain(|r| !(r.account == account && r.region == "us-east-1"));
        let message = conflict(whole.clone(), failed);
        assert!(message.contains(&format!("scope {account}/us-east-1")) && message.contains("scope record"), "{message}");

        let mut missing = whole.clone();
        missing.resources.retain(|r| r.region != "us-east-1" || r.account != account);
        assert!(conflict(missing, whole.clone()).contains("resources differ"));

        let mut extra = whole.clone();
        let mut resource: Resource = extra.resources[0].clone();
        resource.arn.push_str("-2");
        extra.resources.push(resource);
        assert!(conflict(whole, extra).contains("resources differ"));
    }

    #[test]
    fn a_failed_scope_merges_like_any_other() {
        let mut inputs = shards(3, 3);
        let (_, first) = inputs.iter_mut().find(|(_, inv)| !inv.scopes.is_empty()).unwrap();
        let failed = first.scopes[0].clone();
        first.scopes[0].failed = Some("sts:AssumeRole: AccessDenied".into());
        first.resources.retain(|r| (&r.account, &r.region) != (&failed.account, &failed.region));
        first.alarms.retain(|r| (&r.account, &r.region) != (&failed.account, &failed.region));
        first.metrics.retain(|r| (&r.account, &r.region) != (&failed.account, &failed.region));
        first.sns_topics.retain(|r| (&r.account, &r.region) != (&failed.account, &failed.region));
        first.dashboards.retain(|r| r.account != failed.account);
        first.trails.retain(|r| r.account != failed.account);
        let merged = merge(inputs).unwrap();
        let scope = merged.scopes.iter().find(|s| s.account == failed.account && s.region == failed.region).unwrap();
        assert_eq!(scope.failed.as_deref(), Some("sts:AssumeRole: AccessDenied"));
        assert!(!merged.resources.iter().any(|r| (&r.account, &r.region) == (&failed.account, &failed.region)));
    }

    #[test]
    fn snapshots_of_different_versions_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(&a, format!("{{\"version\": {SNAPSHOT_VERSION}, \"resources\": []}}")).unwrap();
        std::fs::write(&b, format!("{{\"version\": {}, \"resources\": []}}", SNAPSHOT_VERSION + 1)).unwrap();
        let message = merge_files(&[&a, &b]).unwrap_err().to_string();
        assert!(message.contains(&a.display().to_string()) && message.contains(&b.display().to_string()) && message.contains("versions differ"), "{message}");
        assert!(merge_files(&[&a, &a]).is_ok());
    }
}
