//! Writing output files atomically: write beside the target, then rename over it, so a crash
//! never leaves a half-written file. The replacement keeps the mode of the file it replaces (a new
//! file honours the umask), a symlink is written through to its target, the directory is synced
//! after the rename, and SIGINT/SIGTERM during the write remove the temporary file
//! ([`interrupt`]). Directories written by several files at once are locked ([`lock_dir`]).

pub mod interrupt;

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use crate::error::{Error, Result};
use interrupt::Writing;

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
    let _writing = Writing::begin()?;
    if is_device(path) {
        return write_in_place(path, fill);
    }
    let (target, file) = stage(path, fill)?;
    interrupt::checkpoint()?;
    persist(path, &target, file)
}

/// Writes several files as one: each is written completely beside its target first, and only
/// when all of them are are they renamed into place, so a failure to write one (a full disk, a
/// missing permission) replaces none. Device targets are written in place, after the renames.
pub fn write_all_atomic(files: &[(&Path, &[u8])]) -> Result<()> {
    let _writing = Writing::begin()?;
    let (devices, regular): (Vec<_>, Vec<_>) = files.iter().partition(|(path, _)| is_device(path));
    let staged = regular.iter().map(|(path, contents)| Ok((*path, stage(path, |out| out.write_all(contents))?))).collect::<Result<Vec<_>>>()?;
    interrupt::checkpoint()?;
    for (path, (target, file)) in staged {
        persist(path, &target, file)?;
    }
    for (path, contents) in devices {
        write_in_place(path, |out| out.write_all(contents))?;
    }
    Ok(())
}

/// The kernel follows the links here: /dev/stdout on a pipe is a link no path spells.
fn is_device(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

fn write_in_place(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    let mut file = fs::OpenOptions::new().write(true).open(path).map_err(error)?;
    fill(&mut file).and_then(|()| file.flush()).map_err(error)
}

/// The contents of `path`, complete and synced in a temporary file beside the file it names
/// (symlinks followed), to be renamed over it; with that target.
fn stage(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(PathBuf, tempfile::NamedTempFile)> {
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    let target = follow_symlinks(path).map_err(error)?;
    fs::create_dir_all(parent_dir(&target)).map_err(error)?;
    let mut file = temporary_beside(&target).map_err(error)?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, &mut file);
        fill(&mut buffered).and_then(|()| buffered.flush()).map_err(error)?;
    }
    file.as_file().sync_all().map_err(error)?;
    Ok((target, file))
}

/// Renames a staged file over its target and syncs the directory; errors name `path`, as given.
fn persist(path: &Path, target: &Path, file: tempfile::NamedTempFile) -> Result<()> {
    let error = |source| Error::Write { path: path.to_path_buf(), source };
    file.persist(target).map_err(|e| error(e.error))?;
    sync_dir(parent_dir(target)).map_err(error)
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The file `path` names once symlinks are followed; a dangling link names the file it points to,
/// which the write creates. Replacing the target, not the link, keeps the link a link.
pub fn follow_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    // Linux's own limit (MAXSYMLINKS): a loop of links is an error, not a hang.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = parent_dir(&path).join(link);
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// A temporary file in `target`'s directory (so the rename is atomic) with the mode the new file
/// must have: the mode of the file it replaces, or for a new file what the umask leaves of 0666,
/// as for any file a program creates (tempfile's own default, 0600, would hide a report).
pub fn temporary_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let existing = fs::metadata(target).ok().filter(fs::Metadata::is_file).map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(existing.clone().unwrap_or_else(|| std::os::unix::fs::PermissionsExt::from_mode(0o666)));
    let file = builder.tempfile_in(parent_dir(target))?;
    // Creation applies the umask to the existing mode too; set it exactly.
    if let Some(permissions) = existing {
        file.as_file().set_permissions(permissions)?;
    }
    Ok(file)
}

/// Makes the renames in `dir` durable: without it a power cut after exit can bring back the old
/// file. Cheap next to the data's own sync.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match fs::File::open(dir) {
        Ok(handle) => handle.sync_all(),
        // Some platforms cannot open a directory as a file; the data itself is synced.
        Err(_) => Ok(()),
    }
}

/// How [`lock_dir`] locks: writers exclusively, readers (`generate --check`) shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Exclusive,
    Shared,
}

/// A lock on a directory, released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct DirLock {
    _handle: fs::File,
}

/// Locks the directory itself (flock on the directory, so nothing is added to it): another
/// onwatch writing or checking the same directory waits for it, up to `wait`, then gets
/// [`Error::Locked`]. A signal while waiting ends the wait ([`Error::Interrupted`]).
pub fn lock_dir(dir: &Path, kind: LockKind, wait: Duration) -> Result<DirLock> {
    let error = |source| Error::Write { path: dir.to_path_buf(), source };
    let handle = fs::File::open(dir).map_err(error)?;
    let started = Instant::now();
    let mut announced = false;
    loop {
        let attempt = match kind {
            LockKind::Exclusive => handle.try_lock(),
            LockKind::Shared => handle.try_lock_shared(),
        };
        match attempt {
            Ok(()) => return Ok(DirLock { _handle: handle }),
            Err(fs::TryLockError::Error(source)) => return Err(error(source)),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() >= wait => {
                return Err(Error::Locked { path: dir.to_path_buf(), waited_seconds: started.elapsed().as_secs() });
            }
            Err(fs::TryLockError::WouldBlock) => {
                if !std::mem::replace(&mut announced, true) {
                    diagnostic(format_args!("{}: waiting for another onwatch to finish with this directory", dir.display()));
                }
                interrupt::checkpoint()?;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
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

    /// Issue 15 defect 14 at the function every `--output` uses (check, drift, scan, audit list).
    #[cfg(unix)]
    #[test]
    fn defect_14_replacing_keeps_the_mode_and_writes_through_a_link() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        write_atomic(&target, b"first").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o604)).unwrap();
        symlink("target.json", dir.path().join("link.json")).unwrap();
        write_atomic(&dir.path().join("link.json"), b"second").unwrap();
        assert!(fs::symlink_metadata(dir.path().join("link.json")).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read_to_string(&target).unwrap(), "second");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o604);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary left");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("b", dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let error = write_atomic(&dir.path().join("a"), b"x").unwrap_err();
        assert!(error.to_string().contains("too many levels of symbolic links"), "{error}");
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
