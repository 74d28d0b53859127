//! The JSON Schemas under `schemas/` are generated from the Rust types; these tests keep the
//! committed files current and check the shipped files against them.
//! Regenerate with `UPDATE_SCHEMAS=1 cargo test --test it schemas::`.

use std::{fs, path::PathBuf};

use onwatch::schemas::{schema_catalog, shipped_schemas};
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

#[test]
fn committed_catalog_lists_every_shipped_schema() {
    let path = root().join("schemas/catalog.json");
    let catalog = schema_catalog();
    let expected = serde_json::to_string_pretty(&catalog).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        fs::write(&path, &expected).unwrap();
    }
    let committed = fs::read_to_string(&path).expect("schemas/catalog.json missing; run UPDATE_SCHEMAS=1 cargo test --test it schemas::");
    assert_eq!(committed, expected, "schemas/catalog.json is stale; run UPDATE_SCHEMAS=1 cargo test --test it schemas::");
    let mut on_disk: Vec<String> = fs::read_dir(root().join("schemas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = catalog["schemas"].as_array().unwrap().iter().map(|s| s["url"].as_str().unwrap().trim_start_matches("./").to_string()).collect();
    listed.sort();
    assert_eq!(listed, on_disk, "the catalog lists exactly the schema files under schemas/");
    for entry in catalog["schemas"].as_array().unwrap() {
        assert!(!entry["fileMatch"].as_array().unwrap().is_empty(), "{entry} matches no file");
        assert!(entry["name"].as_str().is_some_and(|n| n.starts_with("onwatch ")), "{entry} has no title");
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
