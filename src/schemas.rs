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
    ]
}

