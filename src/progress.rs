//! What a person at a terminal sees while a build runs, and the line it ends with.
//!
//! [`Progress`] is a bar on stderr drawn by indicatif (which fits it to the
//! terminal's width and limits how often it redraws): runs being found, then
//! read, then rendered. It is a no-op unless [`Progress::on_stderr`] is asked
//! for it *and* stderr is a terminal, so `--quiet`, CI logs, pipes and tests get
//! nothing from here. The library only ticks it; the binary decides whether it
//! shows. [`summary_line`] is the one line a build or check ends with.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// Shown while ROOT is walked, before anything can be counted.
const FINDING: &str = "{spinner} finding runs ({elapsed})";
/// Shown while the found sources are read and the runs rendered.
const COUNTING: &str = "{prefix:>9} [{wide_bar}] {pos}/{len} ({elapsed})";

/// A build's progress bar, or nothing (the default). Clones share one bar.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Shows nothing: every method does nothing.
    pub fn hidden() -> Self {
        Progress::default()
    }

    /// A bar on stderr when `wanted` and stderr is a terminal, else [`Progress::hidden`].
    pub fn on_stderr(wanted: bool) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style(FINDING));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// True when a bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Start counting a stage (`reading` the sources found, `rendering` the runs) of `len` items.
    pub fn stage(&self, name: &'static str, len: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(len as u64);
            bar.set_position(0);
            bar.set_prefix(name);
            bar.set_style(style(COUNTING));
        }
    }

    /// One more item of the stage done.
    pub fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Take the bar off the terminal, leaving the screen as it was.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A template known to parse (a unit test checks them), else indicatif's plain bar.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// The line a build ends with, `Built 1000 runs (3 with problems) into site/ in 4.2s`,
/// then `; 999 unchanged, from the cache` when runs' folders were `reused`;
/// or `Checked ...` when nothing was written (`out` is `None`).
pub fn summary_line(
    runs: usize,
    with_problems: usize,
    reused: usize,
    out: Option<&Path>,
    elapsed: Duration,
) -> String {
    let noun = if runs == 1 { "run" } else { "runs" };
    let seconds = elapsed.as_secs_f64();
    match out {
        Some(out) => {
            let mut line = format!(
                "Built {runs} {noun} ({with_problems} with problems) into {}/ in {seconds:.1}s",
                out.display().to_string().trim_end_matches('/')
            );
            if reused > 0 {
                line.push_str(&format!("; {reused} unchanged, from the cache"));
            }
            line
        }
        None => format!("Checked {runs} {noun} ({with_problems} with problems) in {seconds:.1}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_reads_as_documented() {
        let took = Duration::from_millis(4_230);
        assert_eq!(
            summary_line(1000, 3, 0, Some(Path::new("site")), took),
            "Built 1000 runs (3 with problems) into site/ in 4.2s"
        );
        assert_eq!(
            summary_line(1000, 3, 999, Some(Path::new("site")), took),
            "Built 1000 runs (3 with problems) into site/ in 4.2s; 999 unchanged, from the cache"
        );
        assert_eq!(
            summary_line(1000, 3, 0, Some(Path::new("site/")), took),
            "Built 1000 runs (3 with problems) into site/ in 4.2s",
            "one slash however --out was spelled"
        );
        assert_eq!(
            summary_line(
                1,
                0,
                0,
                Some(Path::new("out/site")),
                Duration::from_millis(49)
            ),
            "Built 1 run (0 with problems) into out/site/ in 0.0s"
        );
        assert_eq!(
            summary_line(0, 0, 0, None, Duration::from_secs(125)),
            "Checked 0 runs (0 with problems) in 125.0s"
        );
    }

    #[test]
    fn templates_parse() {
        for template in [FINDING, COUNTING] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn hidden_progress_does_nothing() {
        let progress = Progress::hidden();
        assert!(!progress.is_shown());
        assert!(!Progress::on_stderr(false).is_shown());
        progress.stage("reading", 3);
        progress.tick();
        progress.finish();
    }
}
