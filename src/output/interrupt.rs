//! SIGINT and SIGTERM during a write: the write stops at its next safe point (or, in the middle of
//! generate's renames, finishes them), removes what it staged, and the process exits 128 + the
//! signal number. Outside a write the process exits at once: there is nothing to clean up.
//!
//! The handler is signal-hook's iterator thread (ordinary code, not a signal handler); one atomic
//! word holds the number of writes in progress and the signal received, so a write either starts
//! before the signal is seen (and then stops itself) or never starts.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Low 32 bits: writes in progress. High 32 bits: the first signal received, 0 for none.
static STATE: AtomicU64 = AtomicU64::new(0);

fn signal_of(state: u64) -> Option<i32> {
    match (state >> 32) as i32 {
        0 => None,
        signal => Some(signal),
    }
}

/// The exit code of a process ended by `signal`, as a shell reports it: 130 for SIGINT, 143 for SIGTERM.
pub fn exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

/// The signal received while a write was in progress, if any: the caller exits with [`exit_code`].
pub fn pending() -> Option<i32> {
    signal_of(STATE.load(Ordering::SeqCst))
}

/// Starts the thread that handles SIGINT and SIGTERM. Only the command line calls it: a library
/// user keeps its own signal handling.
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::{consts::{SIGINT, SIGTERM}, iterator::Signals};
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new().name("onwatch-signals".into()).spawn(move || {
        for signal in signals.forever() {
            received(signal);
        }
    })?;
    Ok(())
}

#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}

/// Records the first signal; with no write in progress, exits now.
fn received(signal: i32) {
    let previous = STATE
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |state| match signal_of(state) {
            Some(_) => None,
            None => Some(state | (signal as u64) << 32),
        })
        .unwrap_or_else(|state| state);
    if previous & u64::from(u32::MAX) == 0 {
        std::process::exit(i32::from(exit_code(signal)));
    }
}

/// A write in progress: while one exists, a signal waits for [`checkpoint`] (or the end
/// of the write) instead of ending the process.
#[derive(Debug)]
pub struct Writing(());

impl Writing {
    /// Registers a write; fails if a signal has already arrived (the process is exiting).
    pub fn begin() -> Result<Writing> {
        STATE
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |state| match signal_of(state) {
                Some(_) => None,
                None => Some(state + 1),
            })
            .map(|_| Writing(()))
            .map_err(|state| Error::Interrupted { signal: signal_of(state).unwrap_or_default() })
    }

}

/// A safe point of a write: an error once a signal has arrived, so the write unwinds and its
/// temporary files and directories are dropped (removed) on the way out.
pub fn checkpoint() -> Result<()> {
    match pending() {
        Some(signal) => Err(Error::Interrupted { signal }),
        None => Ok(()),
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        STATE.fetch_sub(1, Ordering::SeqCst);
    }
}
