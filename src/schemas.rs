//! The JSON Schemas onwatch ships under `schemas/`, generated from the Rust types that read each
//! file (a test fails when the files on disk go stale). Above every layer whose files it lists.

use serde_json::Value;

use crate::json::schema_of;

/// Every schema shipped under `schemas/`, by file name.
pub fn shipped_schemas() -> Vec<(&'static str, Value)> {
    use crate::{config::drift_ignore::DriftIgnoreFile, config::types::*, model::Inventory};
    vec![
        ("inventory.schema.json", schema_of::<Inventory>()),
        ("policy.schema.json", schema_of::<PolicyFile>()),
        ("resource_types.schema.json", schema_of::<ResourceTypesFile>()),
        ("alert_thresholds.schema.json", schema_of::<ThresholdsFile>()),
        ("dashboard_config.schema.json", schema_of::<DashboardConfigFile>()),
        ("audit_log_schema.schema.json", schema_of::<AuditLogSchemaFile>()),
        ("drift_ignore.schema.json", schema_of::<DriftIgnoreFile>()),
        ("security_detections.schema.json", schema_of::<SecurityDetectionsFile>()),
        ("security_controls.schema.json", schema_of::<SecurityControlsFile>()),
        ("composites.schema.json", schema_of::<CompositesFile>()),
    ]
}


/// Which files each shipped schema describes, as editor glob patterns (the catalog's `fileMatch`).
fn file_match(schema_file: &str) -> Vec<&'static str> {
    match schema_file {
        "inventory.schema.json" => vec!["**/inventory*.json"],
        "policy.schema.json" => vec!["**/policies/*.json"],
        "resource_types.schema.json" => vec!["**/config/resource_types.json"],
        "alert_thresholds.schema.json" => vec!["**/config/alert_thresholds.json"],
        "dashboard_config.schema.json" => vec!["**/config/dashboard_config.json"],
        "audit_log_schema.schema.json" => vec!["**/config/audit_log_schema.json"],
        "drift_ignore.schema.json" => vec!["**/config/drift_ignore.json"],
        "security_detections.schema.json" => vec!["**/config/security_detections.json"],
        "security_controls.schema.json" => vec!["**/config/security_controls.json"],
        "composites.schema.json" => vec!["**/config/composites.json"],
        _ => vec![],
    }
}

/// `schemas/catalog.json` in SchemaStore's catalog format: every shipped schema under its stable
/// file name (URLs relative to the catalog), with its title, description and the files it matches.
pub fn schema_catalog() -> Value {
    let schemas: Vec<Value> = shipped_schemas()
        .into_iter()
        .map(|(name, schema)| {
            serde_json::json!({
                "name": schema.get("title").cloned().unwrap_or_else(|| Value::from(name)),
                "description": schema.get("description").cloned().unwrap_or_else(|| Value::from("")),
                "fileMatch": file_match(name),
                "url": format!("./{name}"),
            })
        })
        .collect();
    crate::json::sorted(serde_json::json!({"$schema": "https://json.schemastore.org/schema-catalog.json", "version": 1, "schemas": schemas}))
}
