//! AWS's "Recommended alarms" page as a test: every alarm on the page (as data in
//! `docs/research/recommended_alarms.json`) is in the shipped pack with AWS's settings, or listed
//! with a reason in `docs/research/pack_gaps.json`; a listed gap the pack in fact covers fails,
//! and the gaps stay at most 5% of the page.
//!
//! Policies are read as files (disabled ones too: an opt-in alarm ships disabled and still counts),
//! with the catalogue's dimension names per (type, namespace). An alarm matches a page entry on
//! type, namespace, metric, dimension names (the type's plus `for_each_dimension`), statistic or
//! percentile, period, datapoints, evaluation periods, comparison, and the threshold: AWS's where
//! the page gives one, the research's `suggested_default` where AWS leaves it to the workload.

use std::{collections::BTreeSet, fs, path::Path};

use serde_json::Value;

fn read(path: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn policies() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut paths: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    paths.sort();
    paths.into_iter().map(|p| serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap()).collect()
}

struct Page {
    alarms: Vec<Value>,
    gaps: Vec<(String, String)>,
    /// (page id, field, the pack's value): a page inconsistency the pack corrects on purpose.
    deviations: Vec<(String, String, Value)>,
}

fn page() -> Page {
    let alarms = read("docs/research/recommended_alarms.json")["alarms"].as_array().unwrap().clone();
    let gaps_file = read("docs/research/pack_gaps.json");
    let gaps = gaps_file["gaps"].as_array().unwrap().iter().map(|g| (g["id"].as_str().unwrap().to_string(), g["reason"].as_str().unwrap().to_string())).collect();
    let deviations = gaps_file["deviations"]
        .as_array()
        .map(|list| list.iter().map(|d| (d["id"].as_str().unwrap().to_string(), d["field"].as_str().unwrap().to_string(), d["pack"].clone())).collect())
        .unwrap_or_default();
    Page { alarms, gaps, deviations }
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// What the page says of `field`, unless a recorded deviation says what the pack holds instead.
fn expected<'a>(page: &'a Page, alarm: &'a Value, field: &str) -> &'a Value {
    let id = alarm["id"].as_str().unwrap();
    page.deviations.iter().find(|(d, f, _)| d == id && f == field).map_or(&alarm[field], |(_, _, pack)| pack)
}

/// Why `rule` (of a policy on `alarm`'s type) is not the page's alarm; `None` when it is.
fn difference(page: &Page, catalog: &Value, alarm: &Value, rule: &Value) -> Option<String> {
    let resource_type = alarm["resource_type"].as_str().unwrap();
    let namespace = alarm["namespace"].as_str().unwrap();
    // A metric-math rule answers a page alarm whose threshold AWS states as that math
    // (`metric math: 100 * PacketsDropCount / (...) > 0.01`) when it reads the page's metric.
    let formula = alarm["threshold_formula"].as_str().and_then(|f| f.strip_prefix("metric math: "));
    let math = rule["metrics"].as_object().filter(|_| rule["expression"].is_string() && formula.is_some());
    let math_metric = math.and_then(|metrics| metrics.values().find(|m| m["metric"] == alarm["metric"]));
    // A metric the page misspells (one the service does not publish) is a recorded deviation.
    if rule["namespace"] != alarm["namespace"] || (&rule["metric"] != expected(page, alarm, "metric") && math_metric.is_none()) {
        return Some("another metric".into());
    }
    if let (Some(metrics), Some(formula)) = (math.filter(|_| math_metric.is_some()), formula) {
        return math_difference(page, alarm, rule, metrics, formula);
    }
    let mut dimensions: BTreeSet<String> =
        catalog["resource_types"][resource_type]["namespaces"][namespace]["dimensions"].as_object().map(|d| d.keys().cloned().collect()).unwrap_or_default();
    // `for_each_dimension` is one name or a list of them.
    match &rule["for_each_dimension"] {
        Value::String(extra) => {
            dimensions.insert(extra.clone());
        }
        Value::Array(extras) => dimensions.extend(extras.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {}
    }
    let wanted: BTreeSet<String> = alarm["dimensions"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
    if dimensions != wanted {
        return Some(format!("dimensions {dimensions:?}, page {wanted:?}"));
    }
    let statistic = |v: &Value| v.as_str().map(str::to_string);
    if statistic(&rule["statistic"]) != statistic(expected(page, alarm, "statistic"))
        || statistic(&rule["extended_statistic"]) != statistic(expected(page, alarm, "extended_statistic"))
    {
        return Some(format!("statistic {} {}, page {} {}", rule["statistic"], rule["extended_statistic"], alarm["statistic"], alarm["extended_statistic"]));
    }
    for (field, page_field) in [("period", "period"), ("datapoints_to_alarm", "datapoints_to_alarm"), ("evaluation_periods", "evaluation_periods")] {
        if !same_number(&rule[field], expected(page, alarm, page_field)) {
            return Some(format!("{field} {}, page {}", rule[field], alarm[page_field]));
        }
    }
    if &rule["comparison"] != expected(page, alarm, "comparison") {
        return Some(format!("comparison {}, page {}", rule["comparison"], alarm["comparison"]));
    }
    let threshold = if alarm["threshold_kind"] == "static" { expected(page, alarm, "threshold") } else { expected(page, alarm, "suggested_default") };
    if !threshold.is_null() && !same_number(&rule["threshold"], threshold) {
        return Some(format!("threshold {}, page {threshold}", rule["threshold"]));
    }
    None
}

/// Why the metric-math `rule` is not the page's alarm stated as `formula` (`EXPR > N`): every metric
/// of the rule is named in the formula with the page's statistic, and period, datapoints,
/// comparison and threshold are the page's.
fn math_difference(page: &Page, alarm: &Value, rule: &Value, metrics: &serde_json::Map<String, Value>, formula: &str) -> Option<String> {
    let Some((expression, threshold)) = formula.rsplit_once(" > ") else { return Some(format!("the page's formula {formula:?} is not EXPRESSION > N")) };
    for metric in metrics.values() {
        let name = metric["metric"].as_str().unwrap();
        if !expression.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| word == name) {
            return Some(format!("{name} is not in the page's formula {formula:?}"));
        }
        if &metric["statistic"] != expected(page, alarm, "statistic") {
            return Some(format!("statistic of {name} {}, page {}", metric["statistic"], alarm["statistic"]));
        }
    }
    if metrics.len() != expression.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| w.starts_with(char::is_uppercase)).count() {
        return Some(format!("the rule reads {} metrics, the page's formula {formula:?} another number", metrics.len()));
    }
    for field in ["period", "datapoints_to_alarm", "evaluation_periods"] {
        if !same_number(&rule[field], expected(page, alarm, field)) {
            return Some(format!("{field} {}, page {}", rule[field], alarm[field]));
        }
    }
    if &rule["comparison"] != expected(page, alarm, "comparison") || alarm["comparison"] != "GreaterThanThreshold" {
        return Some(format!("comparison {}, page {} (formula {formula:?})", rule["comparison"], alarm["comparison"]));
    }
    let Ok(threshold) = threshold.trim().parse::<f64>() else { return Some(format!("the page's formula {formula:?} has no numeric threshold")) };
    if !same_number(&rule["threshold"], &Value::from(threshold)) {
        return Some(format!("threshold {}, page's formula {threshold}", rule["threshold"]));
    }
    None
}

/// Per page alarm: the `policy/rule` that holds it, or why none does.
fn judge(page: &Page) -> Vec<(String, Result<String, String>)> {
    let catalog = read("config/resource_types.json");
    let policies = policies();
    page.alarms
        .iter()
        .map(|alarm| {
            let mut why = Vec::new();
            for policy in policies.iter().filter(|p| p["resource_type"] == alarm["resource_type"]) {
                for rule in policy["alarms"].as_array().unwrap() {
                    match difference(page, &catalog, alarm, rule) {
                        None => return (alarm["id"].as_str().unwrap().to_string(), Ok(format!("{}/{}", policy["id"].as_str().unwrap(), rule["id"].as_str().unwrap()))),
                        Some(reason) if reason != "another metric" => why.push(format!("{}/{}: {reason}", policy["id"].as_str().unwrap(), rule["id"].as_str().unwrap())),
                        Some(_) => {}
                    }
                }
            }
            let why = if why.is_empty() { "no alarm on this metric for the type".to_string() } else { why.join("; ") };
            (alarm["id"].as_str().unwrap().to_string(), Err(why))
        })
        .collect()
}

#[test]
fn every_page_alarm_is_in_the_pack_with_aws_settings_or_a_listed_gap() {
    let page = page();
    assert_eq!(page.alarms.len(), 146, "the research lists the page's 146 alarms");
    let gaps: BTreeSet<&str> = page.gaps.iter().map(|(id, _)| id.as_str()).collect();
    let unlisted: Vec<String> = judge(&page).into_iter().filter_map(|(id, r)| r.err().filter(|_| !gaps.contains(id.as_str())).map(|why| format!("{id}: {why}"))).collect();
    assert!(unlisted.is_empty(), "page alarms neither in the pack with AWS's settings nor in pack_gaps.json:\n{}", unlisted.join("\n"));
}

#[test]
fn no_listed_gap_is_in_fact_covered_and_every_gap_is_a_page_alarm_with_a_reason() {
    let page = page();
    let ids: BTreeSet<&str> = page.alarms.iter().map(|a| a["id"].as_str().unwrap()).collect();
    for (id, reason) in &page.gaps {
        assert!(ids.contains(id.as_str()), "pack_gaps.json lists {id}, which is not on the page");
        assert!(!reason.trim().is_empty(), "pack_gaps.json: {id} has no reason");
    }
    let mut seen = BTreeSet::new();
    assert!(page.gaps.iter().all(|(id, _)| seen.insert(id)), "pack_gaps.json lists an id twice");
    let stale: Vec<String> =
        judge(&page).into_iter().filter(|(id, r)| r.is_ok() && page.gaps.iter().any(|(g, _)| g == id)).map(|(id, r)| format!("{id} (by {})", r.unwrap())).collect();
    assert!(stale.is_empty(), "stale gaps: the pack covers them now, remove them from pack_gaps.json:\n{}", stale.join("\n"));
    for (id, field, _) in &page.deviations {
        assert!(ids.contains(id.as_str()), "pack_gaps.json deviation {id}.{field} is not on the page");
    }
}

/// Issue 11's target is a pack that holds 95% of the page (at most 7 gaps). It is not there yet:
/// the gaps listed now are the most there may be, so coverage of the page can only grow. Lower
/// this bound as types are added; the message says how far the target is.
const MOST_GAPS: usize = 5;

#[test]
fn the_pack_gaps_only_shrink() {
    let page = page();
    let covered = judge(&page).iter().filter(|(_, r)| r.is_ok()).count();
    let percent = 100.0 * covered as f64 / page.alarms.len() as f64;
    let target = page.alarms.len() / 20;
    assert!(
        page.gaps.len() <= MOST_GAPS,
        "the pack holds {covered} of the page's {} alarms ({percent:.1}%) with {} gaps, more than the {MOST_GAPS} it had (target: {target}, 5%)",
        page.alarms.len(),
        page.gaps.len()
    );
}

#[test]
fn a_math_rule_answers_a_page_formula_only_with_its_metrics_statistic_and_threshold() {
    let page = Page { alarms: Vec::new(), gaps: Vec::new(), deviations: Vec::new() };
    let catalog = read("config/resource_types.json");
    let alarm = read("docs/research/recommended_alarms.json")["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "aws-natgateway-packetsdropcount--natgatewayid")
        .unwrap()
        .clone();
    let policy = read("policies/nat-gateway.json");
    let rule = policy["alarms"].as_array().unwrap().iter().find(|r| r["id"] == "packets-dropped").unwrap().clone();
    assert_eq!(difference(&page, &catalog, &alarm, &rule), None);
    let changed = |edit: &dyn Fn(&mut Value)| {
        let mut rule = rule.clone();
        edit(&mut rule);
        difference(&page, &catalog, &alarm, &rule)
    };
    assert!(changed(&|r| r["threshold"] = 0.1.into()).is_some_and(|why| why.contains("threshold")));
    assert!(changed(&|r| r["metrics"]["dropped"]["statistic"] = "Average".into()).is_some_and(|why| why.contains("statistic")));
    assert!(changed(&|r| r["metrics"]["from_source"]["metric"] = "BytesInFromSource".into()).is_some_and(|why| why.contains("formula")));
    assert!(changed(&|r| r["evaluation_periods"] = 15.into()).is_some());
    // Without the page's formula a math rule is another metric, as before.
    let mut plain = alarm.clone();
    plain["threshold_formula"] = Value::Null;
    assert_eq!(difference(&page, &catalog, &plain, &rule).as_deref(), Some("another metric"));
}
