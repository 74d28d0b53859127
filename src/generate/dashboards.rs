//! CloudWatch dashboard bodies and the Grafana dashboard with the same panels. Bodies are
//! built as JSON values (sorted keys), so they are deterministic, and split into numbered
//! dashboards to stay within CloudWatch's limits.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::{config::Settings, model::Resource};

/// CloudWatch allows 500 widgets per dashboard and 100 alarms per alarm-status widget; the body
/// must stay under 1 MB, for which we keep a margin.
const MAX_ALARMS_PER_WIDGET: usize = 100;
const MAX_BODY_BYTES: usize = 900_000;
const WIDGET_WIDTH: u32 = 12;
const WIDGET_HEIGHT: u32 = 6;

/// One graph for one region: the metric lines of up to `max_metrics_per_widget` resources.
struct Graph {
    title: String,
    region: String,
    namespace: String,
    metric: String,
    statistic: &'static str,
    period: u32,
    /// Each resource's dimensions, in name order.
    lines: Vec<Vec<(String, String)>>,
}

/// Graphs per resource type, in the config's order of types and graphs.
fn graphs(settings: &Settings, resources: &[&Resource]) -> Vec<(String, Vec<Graph>)> {
    let max = settings.dashboards.max_metrics_per_widget.max(1) as usize;
    let mut out = Vec::new();
    for (resource_type, service) in &settings.dashboards.services {
        let Some(spec) = settings.catalog.get(resource_type) else { continue };
        let mut by_region: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for resource in resources.iter().filter(|r| &r.resource_type == resource_type) {
            by_region.entry(&resource.region).or_default().push(resource);
        }
        let mut type_graphs = Vec::new();
        for graph in &service.graphs {
            for (region, members) in &by_region {
                let lines: Vec<Vec<(String, String)>> = members
                    .iter()
                    .filter_map(|r| spec.dimensions(r, &graph.namespace).ok())
                    .map(|dims| dims.into_iter().collect())
                    .collect();
                let chunks = lines.len().div_ceil(max);
                for (index, chunk) in lines.chunks(max).enumerate() {
                    let title = if chunks > 1 { format!("{} ({region}, {}/{chunks})", graph.title, index + 1) } else { format!("{} ({region})", graph.title) };
                    type_graphs.push(Graph {
                        title,
                        region: region.to_string(),
                        namespace: graph.namespace.clone(),
                        metric: graph.metric.clone(),
                        statistic: graph.statistic.as_str(),
                        period: graph.period,
                        lines: chunk.to_vec(),
                    });
                }
            }
        }
        if !type_graphs.is_empty() {
            out.push((spec.service.clone(), type_graphs));
        }
    }
    out
}

fn slug(text: &str) -> String {
    let slug: String = text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' }).collect();
    slug.trim_matches('-').to_string()
}

/// Lays widgets out two per row and splits them into dashboards within the limits.
fn paginate(name: &str, widgets: Vec<Value>, max_widgets: usize, range: &str) -> Vec<(String, String)> {
    let mut pages: Vec<Vec<Value>> = vec![Vec::new()];
    let mut size = 0;
    for widget in widgets {
        let widget_size = widget.to_string().len() + 64;
        let page = pages.last_mut().unwrap();
        if !page.is_empty() && (page.len() >= max_widgets || size + widget_size > MAX_BODY_BYTES) {
            pages.push(Vec::new());
            size = 0;
        }
        size += widget_size;
        pages.last_mut().unwrap().push(widget);
    }
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(index, page)| {
            let placed: Vec<Value> = page
                .into_iter()
                .enumerate()
                .map(|(i, mut widget)| {
                    widget["x"] = json!((i as u32 % 2) * WIDGET_WIDTH);
                    widget["y"] = json!((i as u32 / 2) * WIDGET_HEIGHT);
                    widget["width"] = json!(WIDGET_WIDTH);
                    widget["height"] = json!(WIDGET_HEIGHT);
                    widget
                })
                .collect();
            let title = if count > 1 { format!("{name}-{}", index + 1) } else { name.to_string() };
            let body = crate::json::sorted(json!({ "start": range, "periodOverride": "inherit", "widgets": placed }));
            (title, body.to_string())
        })
        .collect()
}

/// CloudWatch dashboards: an overview of alarm states, then metric graphs per service.
/// `alarm_arns` are the alarms that cover requirements, generated or existing.
pub fn cloudwatch(settings: &Settings, resources: &[&Resource], alarm_arns: &[String]) -> Vec<(String, String)> {
    let config = &settings.dashboards;
    let prefix = &config.name_prefix;
    let max_widgets = config.max_widgets_per_dashboard.max(1) as usize;
    let mut dashboards = Vec::new();
    if config.overview && !alarm_arns.is_empty() {
        let chunks = alarm_arns.len().div_ceil(MAX_ALARMS_PER_WIDGET);
        let widgets = alarm_arns
            .chunks(MAX_ALARMS_PER_WIDGET)
            .enumerate()
            .map(|(index, chunk)| {
                let title = if chunks > 1 { format!("Alarms {}/{chunks}", index + 1) } else { "Alarms".to_string() };
                json!({ "type": "alarm", "properties": { "title": title, "alarms": chunk, "sortBy": "stateUpdatedTimestamp", "states": [] } })
            })
            .collect();
        dashboards.extend(paginate(&format!("{prefix}-overview"), widgets, max_widgets, &config.default_range));
    }
    for (service, graphs) in graphs(settings, resources) {
        let widgets = graphs
            .into_iter()
            .map(|graph| {
                let metrics: Vec<Value> = graph
                    .lines
                    .iter()
                    .map(|dims| {
                        let mut line = vec![json!(graph.namespace), json!(graph.metric)];
                        for (name, value) in dims {
                            line.push(json!(name));
                            line.push(json!(value));
                        }
                        Value::Array(line)
                    })
                    .collect();
                json!({ "type": "metric", "properties": {
                    "title": graph.title, "region": graph.region, "metrics": metrics,
                    "stat": graph.statistic, "period": graph.period, "view": "timeSeries", "stacked": false
                } })
            })
            .collect();
        dashboards.extend(paginate(&format!("{prefix}-{}", slug(&service)), widgets, max_widgets, &config.default_range));
    }
    dashboards
}

/// Spreadsheet-style query ids: A..Z, AA, AB, ...
fn ref_id(mut index: usize) -> String {
    let mut id = Vec::new();
    loop {
        id.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    id.reverse();
    String::from_utf8(id).unwrap()
}

#[derive(Serialize)]
struct DataSource {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'static str,
}

const CLOUDWATCH: DataSource = DataSource { kind: "cloudwatch", uid: "${DS_CLOUDWATCH}" };

#[derive(Serialize)]
struct GridPos {
    h: u32,
    w: u32,
    x: u32,
    y: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target<'g> {
    ref_id: String,
    datasource: DataSource,
    query_mode: &'static str,
    metric_query_type: u8,
    metric_editor_mode: u8,
    namespace: &'g str,
    metric_name: &'g str,
    dimensions: BTreeMap<&'g str, &'g str>,
    statistic: &'static str,
    period: String,
    region: &'g str,
    match_exact: bool,
}

/// Grafana panels, typed rather than built as JSON values: at 100,000 resources the value tree
/// alone would take hundreds of megabytes.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Panel<'g> {
    Row {
        title: String,
        id: u32,
        collapsed: bool,
        #[serde(rename = "gridPos")]
        grid_pos: GridPos,
    },
    Timeseries {
        title: &'g str,
        id: u32,
        datasource: DataSource,
        #[serde(rename = "gridPos")]
        grid_pos: GridPos,
        targets: Vec<Target<'g>>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    name: &'static str,
    label: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    plugin_id: &'static str,
    plugin_name: &'static str,
}

#[derive(Serialize)]
struct TimeRange {
    from: &'static str,
    to: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaDashboard<'g> {
    #[serde(rename = "__inputs")]
    inputs: [Input; 1],
    title: String,
    uid: String,
    tags: [&'static str; 2],
    timezone: &'static str,
    schema_version: u32,
    time: TimeRange,
    panels: Vec<Panel<'g>>,
}

/// A Grafana dashboard (CloudWatch data source, chosen at import) with the same metric panels.
pub fn grafana(settings: &Settings, resources: &[&Resource]) -> String {
    let services = graphs(settings, resources);
    let mut panels = Vec::new();
    let mut y = 0;
    let mut id = 1;
    for (service, graphs) in &services {
        panels.push(Panel::Row { title: service.clone(), id, collapsed: false, grid_pos: GridPos { h: 1, w: 24, x: 0, y } });
        id += 1;
        y += 1;
        for (index, graph) in graphs.iter().enumerate() {
            let targets = graph
                .lines
                .iter()
                .enumerate()
                .map(|(n, dims)| Target {
                    ref_id: ref_id(n),
                    datasource: CLOUDWATCH,
                    query_mode: "Metrics",
                    metric_query_type: 0,
                    metric_editor_mode: 0,
                    namespace: &graph.namespace,
                    metric_name: &graph.metric,
                    dimensions: dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
                    statistic: graph.statistic,
                    period: graph.period.to_string(),
                    region: &graph.region,
                    match_exact: true,
                })
                .collect();
            let grid_pos = GridPos { h: 8, w: 12, x: (index as u32 % 2) * 12, y: y + (index as u32 / 2) * 8 };
            panels.push(Panel::Timeseries { title: &graph.title, id, datasource: CLOUDWATCH, grid_pos, targets });
            id += 1;
        }
        y += (graphs.len() as u32).div_ceil(2) * 8;
    }
    let prefix = &settings.dashboards.name_prefix;
    let dashboard = GrafanaDashboard {
        inputs: [Input { name: "DS_CLOUDWATCH", label: "CloudWatch", kind: "datasource", plugin_id: "cloudwatch", plugin_name: "CloudWatch" }],
        title: format!("{prefix} (generated by onwatch)"),
        uid: slug(&format!("{prefix}-onwatch")).chars().take(40).collect(),
        tags: ["onwatch", "generated"],
        timezone: "utc",
        schema_version: 39,
        time: TimeRange { from: "now-3h", to: "now" },
        panels,
    };
    let mut text = serde_json::to_string_pretty(&dashboard).expect("dashboards serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_ids_count_like_spreadsheet_columns() {
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(25), "Z");
        assert_eq!(ref_id(26), "AA");
        assert_eq!(ref_id(27), "AB");
        assert_eq!(ref_id(701), "ZZ");
        assert_eq!(ref_id(702), "AAA");
    }

    #[test]
    fn pages_respect_the_widget_limit() {
        let widgets: Vec<Value> = (0..5).map(|i| json!({ "type": "text", "properties": { "markdown": i.to_string() } })).collect();
        let pages = paginate("d", widgets, 2, "-PT3H");
        assert_eq!(pages.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["d-1", "d-2", "d-3"]);
        let body: Value = serde_json::from_str(&pages[0].1).unwrap();
        assert_eq!(body["widgets"][1]["x"], 12);
    }
}
