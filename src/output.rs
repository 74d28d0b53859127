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
    write_pipelined(file.as_file_mut(), fill).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    Ok((target, file))
}

/// Streams what `fill` writes into `file` in 1 MiB chunks, the writes done by a second thread:
/// for a large output (a merged snapshot of 300 MB) the kernel's copy into the page cache costs
/// as much as formatting it, and the two now overlap. Written chunks come back to be refilled.
/// The writer's error (a full disk) wins over the broken pipe it leaves `fill` with.
fn write_pipelined(file: &mut fs::File, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    use std::sync::mpsc::{channel, sync_channel};
    std::thread::scope(|scope| {
        let (send, receive) = sync_channel::<Vec<u8>>(2);
        let (give_back, take_back) = channel::<Vec<u8>>();
        let writer = scope.spawn(move || {
            receive.into_iter().try_for_each(|mut chunk| {
                file.write_all(&chunk)?;
                chunk.clear();
                let _ = give_back.send(chunk);
                Ok(())
            })
        });
        let mut chunks = ChunkSender { chunk: Vec::with_capacity(CHUNK), send, take_back };
        let filled = fill(&mut chunks).and_then(|()| chunks.flush());
        drop(chunks);
        let written = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written.and(filled)
    })
}

const CHUNK: usize = 1 << 20;

/// The filling side of [`write_pipelined`]: full chunks go to the writer thread.
struct ChunkSender {
    chunk: Vec<u8>,
    send: std::sync::mpsc::SyncSender<Vec<u8>>,
    take_back: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Write for ChunkSender {
    // At most a chunk at a time (`write_all` loops), so one large write is not copied whole.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let taken = bytes.len().min(CHUNK - self.chunk.len());
        self.chunk.extend_from_slice(&bytes[..taken]);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let next = self.take_back.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.chunk, next);
        self.send.send(full).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the output's writer stopped"))
    }
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
    fn output_larger_than_a_chunk_arrives_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let big: Vec<u8> = (0..CHUNK * 3 + 12_345).map(|i| (i % 251) as u8).collect();
        // One write larger than several chunks, then many small ones across chunk borders.
        write_atomic_with(&path, |out| {
            out.write_all(&big)?;
            (0..100_000u32).try_for_each(|i| write!(out, "{i},"))
        })
        .unwrap();
        let written = fs::read(&path).unwrap();
        let tail: String = (0..100_000u32).map(|i| format!("{i},")).collect();
        assert_eq!(written.len(), big.len() + tail.len());
        assert!(written[..big.len()] == big[..], "the large write was reordered or cut");
        assert_eq!(&written[big.len()..], tail.as_bytes());
    }

    #[test]
    fn an_error_while_filling_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kept.json");
        write_atomic(&path, b"old").unwrap();
        let error = write_atomic_with(&path, |out| {
            out.write_all(&vec![b'x'; CHUNK * 2])?;
            Err(std::io::Error::other("serialisation failed"))
        })
        .unwrap_err();
        assert!(error.to_string().contains("serialisation failed"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "temporary files left behind");
    }

    #[test]
    fn device_targets_are_written_in_place_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let metadata = std::fs::metadata("/dev/null").unwrap();
        assert!(!metadata.is_file(), "/dev/null was replaced by a regular file");
    }
}
