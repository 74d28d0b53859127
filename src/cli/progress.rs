//! What the command line writes on standard error besides errors: notes (what was written, what
//! was left out) and progress bars. `--quiet` silences both; bars are drawn only on a terminal.

use std::{
    io::IsTerminal,
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::Duration,
};

use crate::{output::diagnostic, support::Progress};

/// Set once from `--quiet`, before any command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// An informational line on standard error, unless `--quiet`. Errors never go through here.
pub(crate) fn note(message: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        diagnostic(message);
    }
}

/// Whether to draw progress: standard error is a terminal and `--quiet` is not given.
pub(crate) fn wanted() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A bar on standard error showing the stage of long work and its steps, or nothing. Each stage
/// gets a bar of its own, set up before it is drawn (changing one in place draws every half-set
/// state); the last is cleared when dropped, before the command's closing note.
pub(crate) struct Bar {
    enabled: bool,
    current: Mutex<Option<indicatif::ProgressBar>>,
}

impl Bar {
    pub(crate) fn new() -> Self {
        Bar { enabled: wanted(), current: Mutex::new(None) }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<indicatif::ProgressBar>> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` with the bar off the screen, for work that draws its own (a live scan).
    pub(crate) fn suspend<R>(&self, work: impl FnOnce() -> R) -> R {
        match self.current().as_ref() {
            Some(bar) => bar.suspend(work),
            None => work(),
        }
    }
}

impl Progress for Bar {
    fn stage(&self, what: &str, steps: u64) {
        if !self.enabled {
            return;
        }
        // A stage of unknown length shows a spinner, one of known length a bar with its count.
        let template = if steps == 0 { "{spinner} {msg} {elapsed}" } else { "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}" };
        let style = indicatif::ProgressStyle::with_template(template).map_or_else(|_| indicatif::ProgressStyle::default_spinner(), |s| s.progress_chars("=> "));
        let mut current = self.current();
        if let Some(previous) = current.take() {
            previous.finish_and_clear();
        }
        let bar = indicatif::ProgressBar::with_draw_target(Some(steps), indicatif::ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        *current = Some(bar);
    }

    fn advance(&self, steps: u64) {
        if let Some(bar) = self.current().as_ref() {
            bar.inc(steps);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.current().take() {
            bar.finish_and_clear();
        }
    }
}
