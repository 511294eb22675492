//! Progress bars for long commands (`check --all`, `sources import`,
//! `digest send`), on stderr and only for a person watching.
//!
//! stdout carries JSON for scripts and stays clean; stderr gets a bar with
//! counts and an ETA only when it is a terminal and `--quiet` was not given.
//! Redirected to a file or a pipe (CI, systemd, cron), nothing extra is
//! written: no escape codes, no carriage returns in logs.
//!
//! Usage from a command:
//! ```ignore
//! let bar = Progress::new(sources.len() as u64, "Checking", "sources");
//! for s in sources { …; bar.inc(1); }
//! bar.finish();
//! ```

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `{prefix} [bar] 12/300 sources, 4.1/s, ETA 1m 10s  current item`.
const TEMPLATE: &str = "{prefix:>10.cyan.bold} [{bar:30}] {pos}/{len} {unit} ({per_sec}, ETA {eta}) {wide_msg}";

/// `--quiet`, set once by the CLI before any command runs. A process-wide
/// presentation switch (like a terminal's colour setting), so a command deep
/// in a call chain can show progress without threading a flag through it.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Called by the CLI with the value of `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress may be drawn: stderr is a terminal and not `--quiet`.
pub fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A progress bar that draws nothing when stderr is not a person's terminal.
/// Cheap to clone; clones drive the same bar (checks finishing on several tasks).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `len` steps named `prefix` (e.g. "Checking"), counting `unit`
    /// (e.g. "sources"), on stderr when [`enabled`].
    pub fn new(len: u64, prefix: &str, unit: &str) -> Progress {
        let target = if enabled() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Progress::with_target(len, prefix, unit, target)
    }

    /// A bar drawing to `target` (tests hand in their own terminal).
    pub fn with_target(len: u64, prefix: &str, unit: &str, target: ProgressDrawTarget) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len), target);
        // The template is a constant: a failure here is a programming error
        // caught by the tests, and the default style is a fine fallback.
        if let Ok(style) = ProgressStyle::with_template(&TEMPLATE.replace("{unit}", unit)) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(prefix.to_owned());
        // Redraws the ETA while one slow item (a 30 s fetch) holds the count still.
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress { bar }
    }

    /// A bar that never draws.
    pub fn hidden() -> Progress {
        Progress { bar: ProgressBar::hidden() }
    }

    /// Whether anything is being drawn.
    pub fn is_visible(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// One (or `n`) more items done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Names the current item (a URL, a digest period) after the counts.
    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Prints a line to stderr above the bar without tearing it; when the
    /// bar is hidden, the line is printed as is.
    pub fn println(&self, line: impl AsRef<str>) {
        if self.bar.is_hidden() {
            eprintln!("{}", line.as_ref());
        } else {
            self.bar.println(line.as_ref());
        }
    }

    /// Leaves the final counts on screen (the elapsed time is in the rate).
    pub fn finish(&self) {
        self.bar.set_message("");
        self.bar.finish();
    }

    /// The position so far (for tests and summaries).
    pub fn position(&self) -> u64 {
        self.bar.position()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_still_counts() {
        let p = Progress::hidden();
        assert!(!p.is_visible());
        p.inc(3);
        assert_eq!(p.position(), 3);
        p.finish();
    }

    #[test]
    fn the_template_is_valid() {
        assert!(ProgressStyle::with_template(&TEMPLATE.replace("{unit}", "sources")).is_ok());
    }

    /// A terminal that keeps what was drawn on it.
    #[derive(Debug, Default, Clone)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<String>>);

    impl indicatif::TermLike for Recorder {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_terminal_sees_counts_the_unit_and_an_eta() {
        let term = Recorder::default();
        let p = Progress::with_target(3, "Checking", "sources", ProgressDrawTarget::term_like(Box::new(term.clone())));
        assert!(p.is_visible());
        p.set_message("https://example.org/a");
        p.inc(1);
        p.println("a line above the bar");
        p.inc(2);
        p.finish();
        let drawn = term.0.lock().unwrap().clone();
        for needle in ["Checking", "3/3 sources", "ETA", "a line above the bar"] {
            assert!(drawn.contains(needle), "{needle:?} not in {drawn:?}");
        }
    }

    #[test]
    fn a_test_runner_without_a_terminal_gets_no_bar() {
        // `cargo test` captures stderr: it is never a terminal here.
        if std::io::stderr().is_terminal() {
            eprintln!("skipped: stderr is a terminal in this run");
            return;
        }
        assert!(!Progress::new(5, "Checking", "sources").is_visible());
    }
}
