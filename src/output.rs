//! Writing output files atomically: write beside the target, then rename over it, so a crash
//! never leaves a half-written file.

use std::{io::Write, path::Path};

use crate::error::{Error, Result};

/// Writes one diagnostic line to standard error, ignoring failures: stderr on a full disk or a
/// closed pipe must never become a panic (`eprintln!` panics) nor change the exit code.
pub fn diagnostic(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// Like [`write_atomic`], streaming the contents from `fill`. A target that exists and is not a
/// regular file (`/dev/null`, a FIFO) is written in place: renaming over it would replace it.
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    if is_device(path) {
        return write_in_place(path, fill);
    }
    let file = stage(path, fill)?;
    file.persist(path).map_err(|e| Error::Write { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// Writes several files as one: each is written completely beside its target first, and only
/// when all of them are are they renamed into place, so a failure to write one (a full disk, a
/// missing permission) replaces none. Device targets are written in place, after the renames.
pub fn write_all_atomic(files: &[(&Path, &[u8])]) -> Result<()> {
    let (devices, regular): (Vec<_>, Vec<_>) = files.iter().partition(|(path, _)| is_device(path));
    let staged = regular.iter().map(|(path, contents)| Ok((*path, stage(path, |out| out.write_all(contents))?))).collect::<Result<Vec<_>>>()?;
    for (path, file) in staged {
        file.persist(path).map_err(|e| Error::Write { path: path.to_path_buf(), source: e.error })?;
    }
    for (path, contents) in devices {
        write_in_place(path, |out| out.write_all(contents))?;
    }
    Ok(())
}

fn is_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

fn write_in_place(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    let mut file = std::fs::OpenOptions::new().write(true).open(path).map_err(error)?;
    fill(&mut file).and_then(|()| file.flush()).map_err(error)
}

/// The contents of `path`, complete and synced in a temporary file beside it, to be renamed over it.
fn stage(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<tempfile::NamedTempFile> {
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, &mut file);
        fill(&mut buffered).and_then(|()| buffered.flush()).map_err(error)?;
    }
    file.as_file().sync_all().map_err(error)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_existing_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/report.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(entries.len(), 1, "temporary files left behind");
    }

    #[test]
    fn several_files_are_replaced_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a.json"), dir.path().join("b/c.sarif"));
        write_all_atomic(&[(&first, b"one"), (&second, b"two")]).unwrap();
        assert_eq!((std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap()), ("one".into(), "two".into()));
        // A file where a directory should be: the second cannot be staged, so the first is not replaced.
        let blocked = dir.path().join("a.json/x.xml");
        let error = write_all_atomic(&[(&first, b"new"), (&blocked, b"three")]).unwrap_err();
        assert!(error.to_string().contains("a.json/x.xml"), "{error}");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "one");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "temporary files left behind");
    }

    #[test]
    fn device_targets_are_written_in_place_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let metadata = std::fs::metadata("/dev/null").unwrap();
        assert!(!metadata.is_file(), "/dev/null was replaced by a regular file");
    }
}
