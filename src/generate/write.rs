//! Writing a generated module safely: a deletion guard, every file written aside before any is
//! renamed into place, stale generated files removed, and `--check` that writes nothing.

use std::{
    collections::BTreeSet,
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use super::{unified_diff, GeneratedFile, HEADER};
use crate::error::{Error, Result};

#[cfg(test)]
mod tests {
    #[test]
    fn alarm_addresses_are_read_from_block_headers() {
        let text = "# x\nresource \"aws_cloudwatch_metric_alarm\" \"a_1\" {\n  alarm_name = \"resource \\\"aws_cloudwatch_metric_alarm\\\" \\\"no\\\"\"\n}\n\nresource \"aws_sns_topic\" \"t\" {\n}\nresource \"aws_cloudwatch_metric_alarm\" \"b-2\" {\n}\n";
        assert_eq!(super::alarm_addresses(text).into_iter().collect::<Vec<_>>(), ["a_1", "b-2"]);
    }

    #[test]
    fn hand_written_alarms_count_for_the_deletion_guard() {
        let dir = tempfile::tempdir().unwrap();
        let blocks: String = (0..50).map(|i| format!("resource \"aws_cloudwatch_metric_alarm\" \"hand_{i}\" {{\n}}\n")).collect();
        std::fs::write(dir.path().join("alarms.tf"), blocks).unwrap();
        let files = [super::GeneratedFile { path: "alarms.tf".into(), contents: format!("{}\n", super::HEADER) }];
        let error = super::guard(dir.path(), &files, &super::WriteOptions::default()).unwrap_err();
        assert!(error.to_string().contains("would delete 50 of the 50 alarms"), "{error}");
    }
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub allow_deletions: bool,
    /// Refuse to remove more than this share (percent) of the alarms already in the directory.
    pub max_deletion_percent: f64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { allow_deletions: false, max_deletion_percent: 20.0 }
    }
}

/// What `--check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    UpToDate,
    /// A unified diff from what is on disk to what would be generated.
    Stale(String),
}

/// Generated `.tf` files already in `dir` (they start with the onwatch header).
fn generated_tf_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => return Err(Error::Read { path: dir.to_path_buf(), source }),
    };
    for entry in entries {
        let path = entry.map_err(|source| Error::Read { path: dir.to_path_buf(), source })?.path();
        if path.extension().is_some_and(|e| e == "tf") && path.is_file() {
            let text = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
            if text.starts_with(HEADER) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Addresses of the alarm resources a generated file declares. Generated files are in canonical
/// layout (checked with hclfmt in the suite), so every block header starts its own line; a line
/// scan is exact for them, and much cheaper than parsing megabytes of HCL again.
fn alarm_addresses(text: &str) -> BTreeSet<String> {
    const PREFIX: &str = "resource \"aws_cloudwatch_metric_alarm\" \"";
    text.lines()
        .filter_map(|line| line.strip_prefix(PREFIX))
        .filter_map(|rest| rest.split_once('"').map(|(address, _)| address.to_string()))
        .collect()
}

/// Addresses of the alarms the generated files already in `dir` declare.
pub fn existing_alarm_addresses(dir: &Path) -> Result<BTreeSet<String>> {
    let mut addresses = BTreeSet::new();
    for path in generated_tf_files(dir)? {
        let text = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        addresses.extend(alarm_addresses(&text));
    }
    Ok(addresses)
}

/// `.tf` files in `dir` at a generated file's name that onwatch did not write (no header), with
/// their text: they are never replaced, and their alarms count for the deletion guard.
fn hand_written_targets(dir: &Path, files: &[GeneratedFile]) -> Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for target in files.iter().filter(|f| f.path.ends_with(".tf")).map(|f| dir.join(&f.path)) {
        if !target.is_file() {
            continue;
        }
        let text = fs::read_to_string(&target).map_err(|source| Error::Read { path: target.clone(), source })?;
        if !text.starts_with(HEADER) {
            found.push((target, text));
        }
    }
    Ok(found)
}

/// Refuses to replace a file onwatch did not write: a hand-written `alarms.tf` is someone's work.
fn refuse_hand_written(dir: &Path, files: &[GeneratedFile]) -> Result<()> {
    match hand_written_targets(dir, files)?.first() {
        Some((path, _)) => Err(Error::Refused(format!(
            "{}: not written by onwatch (it does not start with the generated header), so it is never replaced; \
             move or rename it, or choose another --out",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// Refuses a generation that would remove too many of the alarms `dir` declares: an empty or
/// broken inventory must never silently delete a team's alarms.
fn guard(dir: &Path, files: &[GeneratedFile], options: &WriteOptions) -> Result<()> {
    let mut before = existing_alarm_addresses(dir)?;
    for (_, text) in hand_written_targets(dir, files)? {
        before.extend(alarm_addresses(&text));
    }
    if before.is_empty() || options.allow_deletions {
        return Ok(());
    }
    let mut after = BTreeSet::new();
    for file in files.iter().filter(|f| f.path.ends_with(".tf")) {
        after.extend(alarm_addresses(&file.contents));
    }
    let removed: Vec<&String> = before.difference(&after).collect();
    let percent = removed.len() as f64 * 100.0 / before.len() as f64;
    if percent > options.max_deletion_percent {
        let sample: Vec<&str> = removed.iter().take(5).map(|s| s.as_str()).collect();
        return Err(Error::Refused(format!(
            "refusing to write {}: the new module would delete {} of the {} alarms it declares now ({percent:.0}%, more than the {}% allowed), e.g. {}{}. \
             An empty or partial inventory looks like this. If the deletions are intended, run again with --allow-deletions.",
            dir.display(),
            removed.len(),
            before.len(),
            options.max_deletion_percent,
            sample.join(", "),
            if removed.len() > sample.len() { ", …" } else { "" }
        )));
    }
    Ok(())
}

/// Writes `files` into `dir`: every file is written to a temporary file beside its target first,
/// and only when all are written are they renamed into place, so a failure leaves the old module
/// whole and no file is ever half-written. Generated `.tf` files no longer produced are removed.
/// Returns the paths that changed.
pub fn write_files(dir: &Path, files: &[GeneratedFile], options: &WriteOptions) -> Result<Vec<String>> {
    refuse_hand_written(dir, files)?;
    guard(dir, files, options)?;
    let wanted: BTreeSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    let stale: Vec<PathBuf> = generated_tf_files(dir)?.into_iter().filter(|p| !wanted.contains(p)).collect();
    let mut staged = Vec::new();
    let mut changed = Vec::new();
    for file in files {
        let target = dir.join(&file.path);
        if fs::read_to_string(&target).is_ok_and(|current| current == file.contents) {
            continue;
        }
        let parent = target.parent().unwrap_or(dir);
        let error = |source| Error::Write { path: target.clone(), source };
        fs::create_dir_all(parent).map_err(error)?;
        let mut temporary = tempfile::NamedTempFile::new_in(parent).map_err(error)?;
        temporary.write_all(file.contents.as_bytes()).map_err(error)?;
        temporary.as_file().sync_all().map_err(error)?;
        staged.push((temporary, target));
        changed.push(file.path.clone());
    }
    for (temporary, target) in staged {
        temporary.persist(&target).map_err(|e| Error::Write { path: target.clone(), source: e.error })?;
    }
    for path in stale {
        fs::remove_file(&path).map_err(|source| Error::Write { path: path.clone(), source })?;
        changed.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
    }
    Ok(changed)
}

/// Compares `files` with what `dir` holds, writing nothing.
pub fn check_files(dir: &Path, files: &[GeneratedFile]) -> Result<Drift> {
    let mut diff = String::new();
    let wanted: BTreeSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    for file in files {
        let current = fs::read_to_string(dir.join(&file.path)).unwrap_or_default();
        if current != file.contents {
            diff.push_str(&unified_diff(&file.path, &current, &file.contents));
        }
    }
    for path in generated_tf_files(dir)?.into_iter().filter(|p| !wanted.contains(p)) {
        let current = fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        let name = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
        diff.push_str(&unified_diff(&name, &current, ""));
    }
    Ok(if diff.is_empty() { Drift::UpToDate } else { Drift::Stale(diff) })
}
