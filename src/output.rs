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
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut file = std::fs::OpenOptions::new().write(true).open(path).map_err(error)?;
        return fill(&mut file).and_then(|()| file.flush()).map_err(error);
    }
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
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
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
    fn device_targets_are_written_in_place_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let metadata = std::fs::metadata("/dev/null").unwrap();
        assert!(!metadata.is_file(), "/dev/null was replaced by a regular file");
    }
}
