//! The JSON Schemas under `schemas/` are generated from the Rust types; these tests keep the
//! committed files current and check the shipped files against them.
//! Regenerate with `UPDATE_SCHEMAS=1 cargo test --test it schemas::`.

use std::{fs, path::PathBuf};

use onwatch::schemas::shipped_schemas;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    for (name, schema) in shipped_schemas() {
        let path = root().join("schemas").join(name);
        let expected = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            fs::write(&path, &expected).unwrap();
            continue;
        }
        let committed = fs::read_to_string(&path).unwrap_or_else(|_| panic!("{name} missing; run UPDATE_SCHEMAS=1 cargo test --test it schemas::"));
        assert_eq!(committed, expected, "{name} is stale; run UPDATE_SCHEMAS=1 cargo test --test it schemas::");
    }
}

fn validate(schema_name: &str, file: PathBuf) {
    let schema: Value = serde_json::from_str(&fs::read_to_string(root().join("schemas").join(schema_name)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&instance).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{} violates {schema_name}: {errors:#?}", file.display());
}

#[test]
fn shipped_files_validate_against_their_schemas() {
    validate("inventory.schema.json", root().join("examples/inventory.json"));
    validate("resource_types.schema.json", root().join("config/resource_types.json"));
    validate("alert_thresholds.schema.json", root().join("config/alert_thresholds.json"));
    validate("dashboard_config.schema.json", root().join("config/dashboard_config.json"));
    validate("audit_log_schema.schema.json", root().join("config/audit_log_schema.json"));
    let mut policies = 0;
    for entry in fs::read_dir(root().join("policies")).unwrap() {
        validate("policy.schema.json", entry.unwrap().path());
        policies += 1;
    }
    assert!(policies >= 15, "the default pack has {policies} policies");
}

#[test]
fn schemas_reject_unknown_keys() {
    let schema: Value = serde_json::from_str(&fs::read_to_string(root().join("schemas/policy.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut policy: Value = serde_json::from_str(&fs::read_to_string(root().join("tests/fixtures/policies/ec2.json")).unwrap()).unwrap();
    assert!(validator.is_valid(&policy));
    policy["alarms"][0]["threshhold"] = Value::from(1);
    assert!(!validator.is_valid(&policy));
}
