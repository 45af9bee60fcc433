//! Progress bars for long work, drawn on stderr only when it is a terminal
//! and `-q` was not given (indicatif hides them in pipes and CI logs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use venomqa_learner::LearnProgress;
use venomqa_replayer::Progress;

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

/// The bar of a replay: journeys calibrated, then tests exercised of
/// those planned, with requests, findings and the time spent of the
/// budget; each finding is said on its own line above the bar.
pub struct Running {
    bar: ProgressBar,
    budget_seconds: u64,
}

impl Running {
    /// A bar for a run whose time budget is `budget_seconds`.
    pub fn new(budget_seconds: u64) -> Running {
        let bar = bar(0, "{msg} [{bar:24}] {pos}/{len}");
        Running { bar, budget_seconds }
    }

    /// Follows one step of the run.
    pub fn update(&self, progress: Progress) {
        let spent = self.bar.elapsed().as_secs();
        let budget = self.budget_seconds;
        match progress {
            Progress::Calibrated { done, of } => {
                self.bar.set_length(of as u64);
                self.bar.set_position(done as u64);
                self.bar.set_message(format!("calibrating journeys ({spent}s of {budget}s)"));
            }
            Progress::Explored { cases, of, requests, findings } => {
                self.bar.set_length(of as u64);
                self.bar.set_position(cases as u64);
                self.bar.set_message(format!(
                    "tests · {requests} requests · {findings} found ({spent}s of {budget}s)"
                ));
            }
            Progress::Searched { depth, paths, open, states, transitions, requests, findings } => {
                self.bar.set_length(paths + open as u64);
                self.bar.set_position(paths);
                self.bar.set_message(format!(
                    "exploring · depth {depth} · {states} states · {transitions} transitions · {requests} requests · {findings} found ({spent}s of {budget}s)"
                ));
            }
            Progress::Shrinking { oracle, action, .. } => {
                self.bar
                    .set_message(format!("shrinking {oracle} on {action} ({spent}s of {budget}s)"));
            }
            Progress::Found(finding) => {
                let action = finding.actions.last().map(String::as_str).unwrap_or("");
                self.bar.suspend(|| {
                    eprintln!("  found: {} on {action} ({})", finding.oracle, finding.mutation)
                });
            }
            _ => {}
        }
    }

    /// Takes the bar off the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `venomqa record`'s live line: exchanges captured and dropped so far.
pub struct Counter {
    bar: ProgressBar,
}

impl Counter {
    /// A spinner line on stderr, hidden when quiet or not a terminal.
    pub fn new() -> Counter {
        let bar = bar(0, "{spinner} {msg} ({elapsed})");
        bar.set_message("recording: nothing captured yet");
        Counter { bar }
    }

    /// The counts now.
    pub fn show(&self, written: u64, dropped: u64) {
        let dropped = if dropped == 0 { String::new() } else { format!(", {dropped} dropped") };
        self.bar.set_message(format!("recording: {written} exchanges captured{dropped}"));
        self.bar.tick();
    }

    /// Takes the line off the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
