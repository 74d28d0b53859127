//! The security-detection settings after validation: the chosen benchmark's controls, resolved
//! against the catalogue, each with its filter pattern parsed and its sample events built.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::{problem, types::*, SeverityRoute, Waiver};
use crate::{
    error::{Problem, Result},
    json::merge_patch,
    model::filter_pattern::FilterPattern,
};

/// One control of the chosen benchmark, with everything the check and the generator need.
#[derive(Debug, Clone)]
pub struct Control {
    /// Its number in the benchmark (`4.3`).
    pub number: String,
    /// The detection id (`root-account-usage`): stable across benchmark versions, so it names
    /// what onwatch generates.
    pub detection: String,
    pub title: String,
    pub security_hub: Option<String>,
    pub metric: String,
    pub filter_pattern: String,
    pub pattern: FilterPattern,
    pub event_pattern: Value,
    pub global: bool,
    /// Sample CloudTrail events it must match, by description.
    pub triggers: Vec<(String, Value)>,
    /// Sample CloudTrail events it must not match.
    pub ignores: Vec<(String, Value)>,
}

impl Control {
    /// `cis-3.0.0 4.3 (Security Hub CloudWatch.1)`, for messages.
    pub fn label(&self, benchmark: &str) -> String {
        match &self.security_hub {
            Some(hub) => format!("{benchmark} {} (Security Hub {hub})", self.number),
            None => format!("{benchmark} {}", self.number),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ControlExemptionChecked {
    /// The control's number in the benchmark.
    pub number: String,
    pub waiver: Waiver,
}

#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub enabled: bool,
    /// `cis-3.0.0`.
    pub benchmark: String,
    pub benchmark_title: String,
    pub controls: Vec<Control>,
    pub log_group: String,
    pub region: Option<String>,
    pub severity: String,
    pub metric_namespace: String,
    pub eventbridge_rules: bool,
    pub exemptions: Vec<ControlExemptionChecked>,
    /// Where the settings were read from, for messages.
    pub file: String,
}

/// Validates the catalogue (every pattern parses and detects its own samples) and the settings
/// against it; every problem in both files is collected.
pub fn check_security(
    catalogue_file: &str,
    catalogue: SecurityControlsFile,
    settings_file: &str,
    settings_text: &str,
    settings: SecurityDetectionsFile,
    severities: Option<&BTreeMap<String, SeverityRoute>>,
) -> Result<SecuritySettings> {
    let mut problems: Vec<Problem> = Vec::new();
    if !catalogue.sample_base.is_object() {
        problems.push(problem(catalogue_file, "$.sample_base".into(), "must be a CloudTrail record (a JSON object)".into()));
    }
    let detections = check_detections(catalogue_file, &catalogue, &mut problems);
    check_benchmarks(catalogue_file, &catalogue, &detections, &mut problems);
    let (benchmark_title, controls) = select_controls(settings_file, &catalogue, &settings, &detections, &mut problems);
    if let Some(severities) = severities {
        if !severities.contains_key(&settings.severity) {
            let known: Vec<&str> = severities.keys().map(String::as_str).collect();
            problems.push(problem(
                settings_file,
                "$.severity".into(),
                format!("unknown severity {:?} (config/alert_thresholds.json defines {})", settings.severity, known.join(", ")),
            ));
        }
    }
    let exemptions = check_exemptions(settings_file, settings_text, &settings, &controls, &mut problems);
    super::finish(
        problems,
        SecuritySettings {
            enabled: settings.enabled,
            benchmark: settings.benchmark,
            benchmark_title,
            controls,
            log_group: settings.log_group,
            region: settings.region,
            severity: settings.severity,
            metric_namespace: settings.metric_namespace,
            eventbridge_rules: settings.eventbridge_rules,
            exemptions,
            file: settings_file.to_string(),
        },
    )
}

/// Every detection of the catalogue, its pattern parsed and checked against its own samples.
fn check_detections(catalogue_file: &str, catalogue: &SecurityControlsFile, problems: &mut Vec<Problem>) -> BTreeMap<String, Control> {
    let mut detections: BTreeMap<String, Control> = BTreeMap::new();
    let mut metrics: HashSet<&str> = HashSet::new();
    for (id, spec) in &catalogue.detections {
        let at = |field: &str| format!("$.detections[{id:?}]{field}");
        if !metrics.insert(spec.metric.as_str()) {
            problems.push(problem(catalogue_file, at(".metric"), format!("metric {:?} is used by another detection", spec.metric)));
        }
        if !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            problems.push(problem(catalogue_file, at(""), "detection ids are lowercase words joined by '-'".into()));
        }
        if !spec.event_pattern.is_object() {
            problems.push(problem(catalogue_file, at(".event_pattern"), "must be an EventBridge event pattern (a JSON object)".into()));
        }
        let pattern = match FilterPattern::parse(&spec.filter_pattern) {
            Ok(pattern) => pattern,
            Err(error) => {
                problems.push(problem(catalogue_file, at(".filter_pattern"), format!("not a filter pattern: {error}")));
                continue;
            }
        };
        let build = |samples: &[SampleEvent]| -> Vec<(String, Value)> {
            samples
                .iter()
                .map(|sample| {
                    let mut event = catalogue.sample_base.clone();
                    merge_patch(&mut event, &sample.event);
                    (sample.description.clone(), event)
                })
                .collect()
        };
        let (triggers, ignores) = (build(&spec.triggers), build(&spec.ignores));
        if triggers.is_empty() {
            problems.push(problem(catalogue_file, at(".triggers"), "a detection needs at least one event it must match".into()));
        }
        // The catalogue's own patterns must detect its own samples: the check trusts both.
        for (index, (description, event)) in triggers.iter().enumerate() {
            if !pattern.matches(event) {
                problems.push(problem(catalogue_file, at(&format!(".triggers[{index}]")), format!("the filter pattern does not match {description:?}")));
            }
        }
        for (index, (description, event)) in ignores.iter().enumerate() {
            if pattern.matches(event) {
                problems.push(problem(catalogue_file, at(&format!(".ignores[{index}]")), format!("the filter pattern matches {description:?}")));
            }
        }
        detections.insert(
            id.clone(),
            Control {
                number: String::new(),
                detection: id.clone(),
                title: spec.title.clone(),
                security_hub: spec.security_hub.clone(),
                metric: spec.metric.clone(),
                filter_pattern: spec.filter_pattern.clone(),
                pattern,
                event_pattern: spec.event_pattern.clone(),
                global: spec.global,
                triggers,
                ignores,
            },
        );
    }
    detections
}

/// The benchmarks' controls name known detections, once each, and their own patterns match the
/// detections' samples.
fn check_benchmarks(catalogue_file: &str, catalogue: &SecurityControlsFile, detections: &BTreeMap<String, Control>, problems: &mut Vec<Problem>) {
    for (benchmark, spec) in &catalogue.benchmarks {
        let mut numbers = HashSet::new();
        for (index, control) in spec.controls.iter().enumerate() {
            let at = format!("$.benchmarks[{benchmark:?}].controls[{index}]");
            if !numbers.insert(control.number.as_str()) {
                problems.push(problem(catalogue_file, format!("{at}.number"), format!("control {} is listed twice", control.number)));
            }
            let Some(detection) = detections.get(&control.detection) else {
                if !catalogue.detections.contains_key(&control.detection) {
                    problems.push(problem(catalogue_file, format!("{at}.detection"), format!("unknown detection {:?}", control.detection)));
                }
                continue;
            };
            if let Some(text) = &control.filter_pattern {
                match FilterPattern::parse(text) {
                    Err(error) => problems.push(problem(catalogue_file, format!("{at}.filter_pattern"), format!("not a filter pattern: {error}"))),
                    // Only the events it must match: an older version's prescribed pattern may be
                    // broader (its noise is why later versions narrowed it).
                    Ok(pattern) => {
                        for (description, _) in detection.triggers.iter().filter(|(_, event)| !pattern.matches(event)) {
                            problems.push(problem(catalogue_file, format!("{at}.filter_pattern"), format!("does not match {description:?}")));
                        }
                    }
                }
            }
        }
    }

}

/// The chosen benchmark's title and controls, each resolved against its detection.
fn select_controls(
    settings_file: &str,
    catalogue: &SecurityControlsFile,
    settings: &SecurityDetectionsFile,
    detections: &BTreeMap<String, Control>,
    problems: &mut Vec<Problem>,
) -> (String, Vec<Control>) {
    let mut controls = Vec::new();
    let mut benchmark_title = String::new();
    match catalogue.benchmarks.get(&settings.benchmark) {
        None => {
            let known: Vec<&str> = catalogue.benchmarks.keys().map(String::as_str).collect();
            problems.push(problem(
                settings_file,
                "$.benchmark".into(),
                format!("unknown benchmark {:?} (known: {})", settings.benchmark, known.join(", ")),
            ));
        }
        Some(spec) => {
            benchmark_title = spec.title.clone();
            for control in &spec.controls {
                let Some(detection) = detections.get(&control.detection) else { continue };
                let mut resolved = Control { number: control.number.clone(), ..detection.clone() };
                if let Some(text) = &control.filter_pattern {
                    if let Ok(pattern) = FilterPattern::parse(text) {
                        resolved.filter_pattern = text.clone();
                        resolved.pattern = pattern;
                    }
                }
                controls.push(resolved);
            }
        }
    }
    (benchmark_title, controls)
}

fn check_exemptions(
    settings_file: &str,
    settings_text: &str,
    settings: &SecurityDetectionsFile,
    controls: &[Control],
    problems: &mut Vec<Problem>,
) -> Vec<ControlExemptionChecked> {
    let mut exemptions = Vec::new();
    let lines = super::waiver::expiry_lines(settings_text, "exemptions", settings.exemptions.len());
    for (index, exemption) in settings.exemptions.iter().enumerate() {
        let at = format!("$.exemptions[{index}]");
        let control = controls.iter().find(|c| c.number == exemption.control || c.detection == exemption.control);
        if control.is_none() && !controls.is_empty() {
            problems.push(problem(settings_file, format!("{at}.control"), format!("{} has no control {:?}", settings.benchmark, exemption.control)));
        }
        let waiver = Waiver::check(settings_file, &at, "exemption", &exemption.reason, &exemption.expires, lines[index], problems);
        if let (Some(waiver), Some(control)) = (waiver, control) {
            exemptions.push(ControlExemptionChecked { number: control.number.clone(), waiver });
        }
    }
    exemptions
}
