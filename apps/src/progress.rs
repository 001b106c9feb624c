//! Progress on stderr: a spinner naming the current stage (read, build, run) with the
//! elapsed time, shown only when stderr is a terminal, and the `tracing` log lines printed
//! above it. When stderr is a file or pipe nothing but the log lines is written.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static SPINNER: OnceLock<ProgressBar> = OnceLock::new();

fn spinner() -> &'static ProgressBar {
    SPINNER.get_or_init(|| {
        if !std::io::stderr().is_terminal() {
            return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("a valid template"),
        );
        bar
    })
}

/// Shows `stage` on the spinner (starting it on first use).
pub fn stage(stage: impl Into<String>) {
    let bar = spinner();
    bar.set_message(stage.into());
    bar.enable_steady_tick(Duration::from_millis(120));
}

/// A progress bar of `len` steps on stderr, drawn only when `show` and stderr is a
/// terminal (hidden otherwise, so logs stay clean).
pub fn bar(len: u64, message: String, show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} steps, {per_sec}, eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// Removes the spinner.
pub fn finish() {
    if let Some(bar) = SPINNER.get() {
        bar.finish_and_clear();
    }
}

/// A stderr writer for `tracing` that prints above the spinner.
#[derive(Debug, Clone, Copy, Default)]
pub struct AboveSpinner;

impl Write for AboveSpinner {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match SPINNER.get() {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
