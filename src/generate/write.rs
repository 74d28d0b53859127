//! Writing a generated module safely: the directory locked against other runs, a deletion guard,
//! every file written aside before any is renamed into place (keeping the mode of the file it
//! replaces), stale generated files removed, the directory synced, and `--check` that writes
//! nothing and reads the module whole.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use super::{unified_diff, GeneratedFile, HEADER};
use crate::{
    error::{Error, Result},
    model::names::Region,
    output::{self, interrupt, LockKind},
};

#[cfg(test)]
mod tests {
    #[test]
    fn alarm_addresses_are_read_from_block_headers() {
        let text = "# x\nresource \"aws_cloudwatch_metric_alarm\" \"a_1\" {\n  alarm_name = \"resource \\\"aws_cloudwatch_metric_alarm\\\" \\\"no\\\"\"\n}\n\nresource \"aws_sns_topic\" \"t\" {\n}\nresource \"aws_cloudwatch_metric_alarm\" \"b-2\" {\n}\n";
        assert_eq!(super::alarm_addresses(text).into_iter().collect::<Vec<_>>(), ["a_1", "b-2"]);
    }

    #[test]
    fn an_alarm_block_s_provider_is_the_line_after_its_header() {
        let text = "resource \"aws_cloudwatch_metric_alarm\" \"a\" {\n  provider = aws.eu_west_1\n}\nresource \"aws_cloudwatch_metric_alarm\" \"b\" {\nresource \"aws_cloudwatch_metric_alarm\" \"c\" {\n  provider = aws.us_east_1\n}\n";
        let blocks = super::alarm_blocks(text);
        let expected = [("a", Some("aws.eu_west_1")), ("b", None), ("c", Some("aws.us_east_1"))];
        assert_eq!(blocks.iter().map(|(a, p)| (a.as_str(), p.as_deref())).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_failed_rename_restores_what_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = |path: &str, body: &str| super::GeneratedFile { path: path.into(), contents: format!("{}\n{body}\n", super::HEADER) };
        let old = [file("a.tf", "old a"), file("b.tf", "old b"), file("c.tf", "old c")];
        super::write_files(dir.path(), &old, &super::WriteOptions::default()).unwrap();
        let new = [file("a.tf", "new a"), file("b.tf", "new b"), file("c.tf", "new c"), file("d.tf", "new d")];
        let changes: Vec<&super::GeneratedFile> = new.iter().collect();
        let staging = super::stage(dir.path(), &changes).unwrap();
        // The third rename fails after two files were swapped.
        std::fs::remove_file(staging.dir.path().join("new/2")).unwrap();
        assert!(super::swap(staging, &[]).is_err());
        for (name, body) in [("a.tf", "old a"), ("b.tf", "old b"), ("c.tf", "old c")] {
            assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), format!("{}\n{body}\n", super::HEADER), "{name}");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 3, "no new file, no staging directory left: {names:?}");
    }

    #[test]
    fn hand_written_alarms_count_for_the_deletion_guard() {
        let dir = tempfile::tempdir().unwrap();
        let blocks: String = (0..50).map(|i| format!("resource \"aws_cloudwatch_metric_alarm\" \"hand_{i}\" {{\n}}\n")).collect();
        std::fs::write(dir.path().join("alarms.tf"), blocks).unwrap();
        let files = [super::GeneratedFile { path: "alarms.tf".into(), contents: format!("{}\n", super::HEADER) }];
        let on_disk = super::OnDisk::read(dir.path(), &files, false).unwrap();
        let error = super::guard(&on_disk, dir.path(), &files, &super::WriteOptions::default()).unwrap_err();
        assert!(error.to_string().contains("would delete 50 of the 50 alarms"), "{error}");
    }
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub allow_deletions: bool,
    /// Refuse to remove more than this share (percent) of the alarms already in the directory.
    pub max_deletion_percent: f64,
    /// How long to wait for another onwatch that holds the directory's lock.
    pub lock_wait: Duration,
    /// Regions a partial scan could not read (its failed scopes): removing an alarm there is
    /// refused whatever `allow_deletions` says, since nothing is known about them.
    pub failed_regions: Vec<String>,
}

/// The default of `--lock-wait`: longer than a 100k-resource generation takes to write.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { allow_deletions: false, max_deletion_percent: 20.0, lock_wait: DEFAULT_LOCK_WAIT, failed_regions: Vec::new() }
    }
}

/// What `--check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    UpToDate,
    /// A unified diff from what is on disk to what would be generated.
    Stale(String),
}

/// The `.tf` files a write or a comparison looks at, each read once and kept only as what is
/// needed of it: a large module's `alarms.tf` is hundreds of megabytes, and the hand-written
/// check, the deletion guard, the list of stale files and the comparison all look at it.
struct OnDisk {
    /// Every `.tf` file directly in the directory, and every `.tf` target of the files to write.
    files: BTreeMap<PathBuf, TfFile>,
    /// The `.tf` files directly in the directory, sorted.
    in_dir: Vec<PathBuf>,
}

struct TfFile {
    /// It starts with the onwatch header.
    generated: bool,
    /// Its alarm blocks (see [`alarm_blocks`]).
    alarm_blocks: Vec<(String, Option<String>)>,
    /// It holds exactly what is to be written there.
    unchanged: bool,
    /// Its text, kept for a diff when it is not unchanged and the caller asked for it.
    text: Option<String>,
}

impl OnDisk {
    /// Reads the `.tf` files; with `keep_text`, the text of each that differs from `files`.
    fn read(dir: &Path, files: &[GeneratedFile], keep_text: bool) -> Result<Self> {
        let wanted: BTreeMap<PathBuf, &str> = files.iter().map(|f| (dir.join(&f.path), f.contents.as_str())).collect();
        let read = |path: &Path| -> Result<TfFile> {
            let text = fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
            let unchanged = wanted.get(path).is_some_and(|contents| *contents == text);
            Ok(TfFile { generated: text.starts_with(HEADER), alarm_blocks: alarm_blocks(&text), unchanged, text: (keep_text && !unchanged).then_some(text) })
        };
        let mut on_disk = OnDisk { files: BTreeMap::new(), in_dir: Vec::new() };
        match fs::read_dir(dir) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.map_err(|source| Error::Read { path: dir.to_path_buf(), source })?.path();
                    if path.extension().is_some_and(|e| e == "tf") && path.is_file() {
                        on_disk.files.insert(path.clone(), read(&path)?);
                        on_disk.in_dir.push(path);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(on_disk),
            Err(source) => return Err(Error::Read { path: dir.to_path_buf(), source }),
        }
        on_disk.in_dir.sort();
        for target in wanted.keys().filter(|path| path.extension().is_some_and(|e| e == "tf")) {
            if !on_disk.files.contains_key(target) && target.is_file() {
                let file = read(target)?;
                on_disk.files.insert(target.clone(), file);
            }
        }
        Ok(on_disk)
    }

    /// Generated `.tf` files already in the directory (they start with the onwatch header).
    fn generated(&self) -> impl Iterator<Item = (&PathBuf, &TfFile)> {
        self.in_dir.iter().filter_map(|path| Some((path, self.files.get(path)?))).filter(|(_, file)| file.generated)
    }

    /// `.tf` files at a generated file's name that onwatch did not write (no header): they are
    /// never replaced, and their alarms count for the deletion guard.
    fn hand_written_targets<'a>(&'a self, dir: &Path, files: &[GeneratedFile]) -> Vec<(PathBuf, &'a TfFile)> {
        files
            .iter()
            .filter(|f| f.path.ends_with(".tf"))
            .map(|f| dir.join(&f.path))
            .filter_map(|target| {
                let file = self.files.get(&target)?;
                (!file.generated).then_some((target, file))
            })
            .collect()
    }

    /// The alarm blocks of the generated files already in the directory.
    fn existing_alarm_blocks(&self) -> Vec<(String, Option<String>)> {
        self.generated().flat_map(|(_, file)| file.alarm_blocks.iter().cloned()).collect()
    }

    /// `path` holds what is to be written there: for a `.tf` file as read, for another (small) file read now.
    fn unchanged(&self, path: &Path, contents: &str) -> bool {
        match self.files.get(path) {
            Some(file) => file.unchanged,
            None => fs::read_to_string(path).is_ok_and(|current| current == contents),
        }
    }

    /// What `path` holds now, for a diff (empty if missing or not text); `None` if it is unchanged.
    fn differing_text(&self, path: &Path, contents: &str) -> Option<std::borrow::Cow<'_, str>> {
        match self.files.get(path) {
            Some(file) if file.unchanged => None,
            Some(file) => Some(std::borrow::Cow::Borrowed(file.text.as_deref().unwrap_or_default())),
            None => {
                let current = fs::read_to_string(path).unwrap_or_default();
                (current != contents).then_some(std::borrow::Cow::Owned(current))
            }
        }
    }
}

/// The alarm resources a generated file declares: address, and the provider on the line after
/// the header. Generated files are in canonical layout (checked with hclfmt in the suite), so
/// every block header starts its own line; a line scan is exact for them, and much cheaper than
/// parsing megabytes of HCL again.
fn alarm_blocks(text: &str) -> Vec<(String, Option<String>)> {
    const PREFIX: &str = "resource \"aws_cloudwatch_metric_alarm\" \"";
    let mut found = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((address, _)) = line.strip_prefix(PREFIX).and_then(|rest| rest.split_once('"')) else { continue };
        let provider = lines.peek().and_then(|l| l.trim().strip_prefix("provider")).map(|l| l.trim_start().trim_start_matches('=').trim().to_string());
        found.push((address.to_string(), provider));
    }
    found
}

fn alarm_addresses(text: &str) -> BTreeSet<String> {
    alarm_blocks(text).into_iter().map(|(address, _)| address).collect()
}

/// Addresses of the alarms the generated files already in `dir` declare.
pub fn existing_alarm_addresses(dir: &Path) -> Result<BTreeSet<String>> {
    Ok(OnDisk::read(dir, &[], false)?.existing_alarm_blocks().into_iter().map(|(address, _)| address).collect())
}

/// Refuses to replace a file onwatch did not write: a hand-written `alarms.tf` is someone's work.
fn refuse_hand_written(on_disk: &OnDisk, dir: &Path, files: &[GeneratedFile]) -> Result<()> {
    match on_disk.hand_written_targets(dir, files).first() {
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
fn guard(on_disk: &OnDisk, dir: &Path, files: &[GeneratedFile], options: &WriteOptions) -> Result<()> {
    let existing = on_disk.existing_alarm_blocks();
    let mut before: BTreeSet<String> = existing.iter().map(|(address, _)| address.clone()).collect();
    for (_, file) in on_disk.hand_written_targets(dir, files) {
        before.extend(file.alarm_blocks.iter().map(|(address, _)| address.clone()));
    }
    if before.is_empty() {
        return Ok(());
    }
    let mut after = BTreeSet::new();
    for file in files.iter().filter(|f| f.path.ends_with(".tf")) {
        after.extend(alarm_addresses(&file.contents));
    }
    let removed: Vec<&String> = before.difference(&after).collect();
    guard_failed_regions(dir, &existing, &removed, &options.failed_regions)?;
    if options.allow_deletions {
        return Ok(());
    }
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

/// Refuses to remove an alarm of the generated files (`existing`) whose provider is a region that
/// the scan could not read.
fn guard_failed_regions(dir: &Path, existing: &[(String, Option<String>)], removed: &[&String], failed_regions: &[String]) -> Result<()> {
    if failed_regions.is_empty() || removed.is_empty() {
        return Ok(());
    }
    // Regions were validated when the snapshot was read; one that is not a region names no provider.
    let providers: BTreeSet<String> = failed_regions.iter().filter_map(|r| Region::parse(r).ok()).map(|r| r.provider().to_string()).collect();
    let removed: BTreeSet<&str> = removed.iter().map(|s| s.as_str()).collect();
    let endangered: Vec<(&String, &String)> = existing
        .iter()
        .filter_map(|(address, provider)| Some((address, provider.as_ref()?)))
        .filter(|(address, provider)| removed.contains(address.as_str()) && providers.contains(*provider))
        .collect();
    match endangered.first() {
        None => Ok(()),
        Some((address, provider)) => Err(Error::Refused(format!(
            "refusing to write {}: the new module would delete {} alarm{} in a region the scan could not read (failed scope), e.g. {address} ({provider}); \
             nothing is known there, so nothing is deleted there, not even with --allow-deletions: scan that region again",
            dir.display(),
            endangered.len(),
            if endangered.len() == 1 { "" } else { "s" },
        ))),
    }
}

/// What [`write_files`] refuses before it changes anything (a hand-written file in the way, too
/// many deletions), checked alone: for several modules written in one run, all are checked first.
pub fn preflight(dir: &Path, files: &[GeneratedFile], options: &WriteOptions) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let on_disk = OnDisk::read(dir, files, false)?;
    refuse_hand_written(&on_disk, dir, files)?;
    guard(&on_disk, dir, files, options)
}

/// Writes `files` into `dir` as one change: the directory is locked (another run waits), every
/// target is checked first (no hand-written file, no directory in the way), the whole module is
/// staged in a temporary directory inside `dir`, then each file is renamed into place, the file
/// it replaces moved aside; if a rename fails, everything already swapped is put back, so the old
/// module stays whole. Generated `.tf` files no longer produced are removed in the same change.
/// A signal before the renames removes the staging; during them, they finish. Returns the paths
/// that changed.
pub fn write_files(dir: &Path, files: &[GeneratedFile], options: &WriteOptions) -> Result<Vec<String>> {
    let _writing = interrupt::Writing::begin()?;
    fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let _lock = output::lock_dir(dir, LockKind::Exclusive, options.lock_wait)?;
    let on_disk = OnDisk::read(dir, files, false)?;
    refuse_hand_written(&on_disk, dir, files)?;
    guard(&on_disk, dir, files, options)?;
    let wanted: BTreeSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    let stale: Vec<PathBuf> = on_disk.generated().map(|(path, _)| path.clone()).filter(|p| !wanted.contains(p)).collect();
    let changes: Vec<&GeneratedFile> = files.iter().filter(|f| !on_disk.unchanged(&dir.join(&f.path), &f.contents)).collect();
    drop(on_disk);
    if changes.is_empty() && stale.is_empty() {
        return Ok(Vec::new());
    }
    check_targets(dir, &changes)?;
    let staging = stage(dir, &changes)?;
    let changed_dirs: BTreeSet<PathBuf> = staging.slots.iter().map(|slot| output::parent_dir(&slot.target).to_path_buf()).chain([dir.to_path_buf()]).collect();
    interrupt::checkpoint()?;
    swap(staging, &stale)?;
    sync_dirs(&changed_dirs)?;
    let mut changed: Vec<String> = changes.iter().map(|f| f.path.clone()).collect();
    changed.extend(stale.iter().map(|path| path.strip_prefix(dir).unwrap_or(path).display().to_string()));
    Ok(changed)
}

/// Everything that could stop a rename, found before any file changes: a directory (or anything
/// not a file) where a generated file goes, or a parent directory that cannot be made.
fn check_targets(dir: &Path, changes: &[&GeneratedFile]) -> Result<()> {
    for file in changes {
        let target = dir.join(&file.path);
        let resolved = output::follow_symlinks(&target).map_err(|source| Error::Write { path: target.clone(), source })?;
        if fs::symlink_metadata(&resolved).is_ok_and(|m| m.is_dir()) {
            let source = std::io::Error::new(std::io::ErrorKind::IsADirectory, "a directory is where this generated file goes");
            return Err(Error::Write { path: target, source });
        }
        fs::create_dir_all(target.parent().unwrap_or(dir)).map_err(|source| Error::Write { path: target.clone(), source })?;
    }
    Ok(())
}

/// Makes the renames durable: without it a power cut after the run can bring back old files.
fn sync_dirs(dirs: &BTreeSet<PathBuf>) -> Result<()> {
    for synced in dirs {
        output::sync_dir(synced).map_err(|source| Error::Write { path: synced.clone(), source })?;
    }
    Ok(())
}

/// A changed file's place: `target` is the file the rename replaces (a symlink's target, so the
/// link stays a link) and `staged` holds the new contents on the same file system: in the staging
/// directory, or for a target reached through a link, beside that target.
struct Slot {
    target: PathBuf,
    staged: PathBuf,
    /// The staged file beside a link's target, removed if it is never renamed into place.
    beside: Option<tempfile::TempPath>,
}

/// The staging directory (`new/N` is the Nth changed file, `old/` receives what it replaces) and
/// every changed file's [`Slot`].
struct Staging {
    dir: tempfile::TempDir,
    slots: Vec<Slot>,
}

/// Writes the new contents aside, each with the mode of the file it replaces (a new file's is what
/// the umask leaves), into a staging directory inside `dir`, so the renames are atomic.
fn stage(dir: &Path, changes: &[&GeneratedFile]) -> Result<Staging> {
    let error = |source| Error::Write { path: dir.to_path_buf(), source };
    let staging = tempfile::Builder::new().prefix(".onwatch-staging-").tempdir_in(dir).map_err(error)?;
    fs::create_dir(staging.path().join("new")).map_err(error)?;
    fs::create_dir(staging.path().join("old")).map_err(error)?;
    let mut slots = Vec::new();
    for (index, file) in changes.iter().enumerate() {
        let path = dir.join(&file.path);
        let error = |source| Error::Write { path: path.clone(), source };
        interrupt::checkpoint()?;
        let target = output::follow_symlinks(&path).map_err(error)?;
        let (mut staged, slot) = if target == path {
            let staged = staging.path().join("new").join(index.to_string());
            let handle = fs::File::create(&staged).map_err(error)?;
            if let Ok(existing) = fs::metadata(&target).map(|m| m.permissions()) {
                handle.set_permissions(existing).map_err(error)?;
            }
            (handle, Slot { target, staged, beside: None })
        } else {
            let (handle, beside) = output::temporary_beside(&target).map_err(error)?.into_parts();
            (handle, Slot { target, staged: beside.to_path_buf(), beside: Some(beside) })
        };
        staged.write_all(file.contents.as_bytes()).map_err(error)?;
        staged.sync_all().map_err(error)?;
        slots.push(slot);
    }
    Ok(Staging { dir: staging, slots })
}

/// Moves `target` to `backup`, if it exists.
fn move_aside(target: &Path, backup: &Path) -> Result<Option<PathBuf>> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => {
            fs::rename(target, backup).map_err(|source| Error::Write { path: target.to_path_buf(), source })?;
            Ok(Some(backup.to_path_buf()))
        }
    }
}

/// Renames the staged files into place and moves stale files aside; on the first failure puts
/// back everything already done. If even that fails, the previous files are kept and named.
fn swap(staging: Staging, stale: &[PathBuf]) -> Result<()> {
    let old = staging.dir.path().join("old");
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    // What a link's target is moved aside to: beside it, and removed once the swap is over.
    let mut beside_backups: Vec<tempfile::TempPath> = Vec::new();
    let mut apply = || -> Result<()> {
        for (index, slot) in staging.slots.iter().enumerate() {
            let backup = match slot.beside {
                None => old.join(index.to_string()),
                Some(_) => {
                    let error = |source| Error::Write { path: slot.target.clone(), source };
                    let beside = tempfile::Builder::new().prefix(".onwatch-old-").tempfile_in(output::parent_dir(&slot.target)).map_err(error)?;
                    beside_backups.push(beside.into_temp_path());
                    beside_backups.last().expect("just pushed").to_path_buf()
                }
            };
            done.push((slot.target.clone(), move_aside(&slot.target, &backup)?));
            fs::rename(&slot.staged, &slot.target).map_err(|source| Error::Write { path: slot.target.clone(), source })?;
        }
        for (index, path) in stale.iter().enumerate() {
            done.push((path.clone(), move_aside(path, &old.join((staging.slots.len() + index).to_string()))?));
        }
        Ok(())
    };
    let Err(error) = apply() else { return Ok(()) };
    let unrestored: Vec<String> = done.iter().rev().filter(|(target, backup)| !restore(target, backup.as_deref())).map(|(t, _)| t.display().to_string()).collect();
    if unrestored.is_empty() {
        return Err(error);
    }
    let kept: Vec<String> = beside_backups.into_iter().filter_map(|backup| backup.keep().ok()).map(|p| p.display().to_string()).collect();
    let kept_dir = staging.dir.keep();
    Err(Error::Generate(format!(
        "{error}; restoring {} failed too: the previous files are in {}/old{}",
        unrestored.join(", "),
        kept_dir.display(),
        if kept.is_empty() { String::new() } else { format!(" and {}", kept.join(", ")) }
    )))
}

/// Puts `backup` back at `target` (or removes the new `target` where there was none); true when it worked.
fn restore(target: &Path, backup: Option<&Path>) -> bool {
    match backup {
        Some(backup) => fs::rename(backup, target).is_ok(),
        None => fs::remove_file(target).is_ok() || !target.exists(),
    }
}

/// Compares `files` with what `dir` holds, writing nothing. A run writing `dir` is waited for (up
/// to `lock_wait`), so the comparison never sees a module half-replaced.
pub fn check_files(dir: &Path, files: &[GeneratedFile], lock_wait: Duration) -> Result<Drift> {
    let _lock = if dir.is_dir() { Some(output::lock_dir(dir, LockKind::Shared, lock_wait)?) } else { None };
    let on_disk = OnDisk::read(dir, files, true)?;
    let mut diff = String::new();
    let wanted: BTreeSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    for file in files {
        if let Some(current) = on_disk.differing_text(&dir.join(&file.path), &file.contents) {
            diff.push_str(&unified_diff(&file.path, &current, &file.contents));
        }
    }
    for (path, file) in on_disk.generated().filter(|(p, _)| !wanted.contains(*p)) {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        diff.push_str(&unified_diff(&name, file.text.as_deref().unwrap_or_default(), ""));
    }
    Ok(if diff.is_empty() { Drift::UpToDate } else { Drift::Stale(diff) })
}
