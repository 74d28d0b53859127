//! Reading and writing inventory snapshots.

use std::{fs, path::Path};

use crate::{
    error::{Error, Result},
    model::{Inventory, SNAPSHOT_VERSION},
    json::parse_fast,
};

/// Reads a snapshot, rejecting unknown keys, wrong types and unsupported versions.
pub fn read(path: &Path) -> Result<Inventory> {
    let bytes = fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    parse(&path.display().to_string(), &bytes)
}

pub fn parse(name: &str, bytes: &[u8]) -> Result<Inventory> {
    let inventory: Inventory = parse_fast(name, bytes)?;
    if inventory.version != SNAPSHOT_VERSION {
        return Err(Error::invalid(
            name,
            "$.version",
            format!("snapshot version {} is not supported (this onwatch reads version {SNAPSHOT_VERSION})", inventory.version),
        ));
    }
    Ok(inventory)
}

/// Serializes a snapshot with stable formatting.
pub fn to_json(inventory: &Inventory) -> String {
    let mut text = serde_json::to_string_pretty(inventory).expect("inventories serialize");
    text.push('\n');
    text
}
