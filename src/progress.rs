//! Progress bars for long work, drawn on stderr only when it is a terminal
//! and `-q` was not given (indicatif hides them in pipes and CI logs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use venomqa_learner::LearnProgress;

static QUIET: OnceLock<bool> = OnceLock::new();

/// `-q`: no progress bars for the whole process.
pub fn init(quiet: bool) {
    let _ = QUIET.set(quiet);
}

/// A bar on stderr, hidden when quiet or when stderr is not a terminal.
fn bar(total: u64, template: &str) -> ProgressBar {
    let target = if QUIET.get().copied().unwrap_or(false) {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `work` while a bar follows `progress` through the store's
/// `total` exchanges, pass by pass.
pub fn learning<T>(total: u64, progress: &LearnProgress, work: impl FnOnce() -> T) -> T {
    let bar = bar(total, "{msg:>12} [{bar:30}] {pos}/{len} exchanges ({elapsed})");
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_message(format!("pass {}/{}", progress.pass(), LearnProgress::PASSES));
                bar.set_position(progress.read());
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    });
    bar.finish_and_clear();
    result
}
