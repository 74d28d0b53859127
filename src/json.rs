//! Reading JSON input strictly: syntax errors with line and column, schema violations
//! with the JSON path of each (all of them, not just the first), then typed deserialization.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{pointer_to_path, Error, Problem, Result};

/// The JSON Schema of a type, as shipped under `schemas/`.
pub fn schema_of<T: JsonSchema>() -> Value {
    sorted(serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize"))
}

/// `value` with the keys of every object in sorted order, however serde_json was built: the AWS
/// SDK's test utilities turn on its `preserve_order` feature in test builds (only there), and
/// written JSON and Terraform must be the same bytes in the tests as in the shipped binary.
pub fn sorted(mut value: Value) -> Value {
    value.sort_all_objects();
    value
}

/// Parses `text` (from `file`) as `T`, validating it against `T`'s JSON Schema first so every
/// violation is reported with its path.
pub fn parse_validated<T: DeserializeOwned + JsonSchema + 'static>(file: &str, text: &str) -> Result<T> {
    let value: Value = serde_json::from_str(text).map_err(|e| syntax_problem(file, &e))?;
    let validator = validator_of::<T>();
    let mut problems: Vec<Problem> = validator
        .iter_errors(&value)
        .map(|error| Problem {
            file: file.to_string(),
            json_path: pointer_to_path(error.instance_path().as_str()),
            position: None,
            message: error.to_string(),
        })
        .collect();
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.json_path.cmp(&b.json_path).then_with(|| a.message.cmp(&b.message)));
        problems.dedup();
        return Err(Error::Invalid(problems));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        Error::Invalid(vec![Problem {
            file: file.to_string(),
            json_path: typed_path(&e.path().to_string()),
            position: None,
            message: e.inner().to_string(),
        }])
    })
}

/// `T`'s schema compiled once per process: compiling it (its patterns above all) costs far more
/// than validating a file, and the pack reads sixty policy files against one schema.
fn validator_of<T: JsonSchema + 'static>() -> &'static jsonschema::Validator {
    static VALIDATORS: OnceLock<Mutex<HashMap<TypeId, &'static jsonschema::Validator>>> = OnceLock::new();
    let mut validators = VALIDATORS.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    validators.entry(TypeId::of::<T>()).or_insert_with(|| {
        let validator = jsonschema::validator_for(&schema_of::<T>()).expect("generated schemas compile");
        Box::leak(Box::new(validator))
    })
}

/// Parses large inputs (inventories) straight into `T` without building a `Value` first;
/// `deny_unknown_fields` on the types gives the same strictness as the schema. The fast parser
/// runs first; only when it fails is the input parsed again to find the JSON path of the error.
pub fn parse_fast<T: DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let located = |error: &serde_json::Error, json_path: String| {
        let position = (error.line() > 0).then(|| (error.line(), error.column()));
        Error::Invalid(vec![Problem { file: file.to_string(), json_path, position, message: strip_position(&error.to_string()) }])
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| located(e.inner(), typed_path(&e.path().to_string())))?;
    deserializer.end().map_err(|e| located(&e, "$".to_string()))?;
    Ok(value)
}

fn syntax_problem(file: &str, error: &serde_json::Error) -> Error {
    Error::Invalid(vec![Problem {
        file: file.to_string(),
        json_path: "$".to_string(),
        position: Some((error.line(), error.column())),
        message: format!("invalid JSON: {}", strip_position(&error.to_string())),
    }])
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// serde_path_to_error's path as a JSONPath; a segment it could not name (`?`, where the input
/// ends or breaks before a key is read) and everything after it are left off.
fn typed_path(path: &str) -> String {
    let path = path.find('?').map_or(path, |at| path[..at].trim_end_matches('.'));
    if path == "." || path.is_empty() {
        "$".to_string()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}

/// Applies a JSON merge patch (RFC 7386) to `target`: objects merge key by key, `null` removes a
/// key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        // The RFC's own example (section 3).
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1]});
        merge_patch(&mut target, &json!({"a": {"b": 1}, "n": null}));
        assert_eq!(target, json!({"a": {"b": 1}}));
    }
}
