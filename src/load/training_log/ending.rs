//! How a `training.log` says its run ended: error lines, Python tracebacks,
//! completion lines and the `Final ... loss:` summary.
//!
//! The last word wins: an error fails the run even after a completion line,
//! and a completion line after an error (a recovered OOM, a retried save)
//! completes it. A traceback is collected while its lines are indented and is
//! closed by the unindented exception line, which the reason quotes with its
//! place. `Final training loss:` and `Final validation loss:` restate the last
//! logged values rather than add points, so one that disagrees gets a note.

use super::{clip, leading_number, TRAIN_SERIES};
use crate::model::{Problem, Run, Severity, Status};

/// Lines that say training ended normally (matched case-insensitively).
pub(super) const COMPLETION_PHRASES: [&str; 3] = [
    "fine-tuning complete",
    "training complete",
    "training finished",
];
/// A traceback keeps this many lines; the rest are counted.
const MAX_TRACEBACK_LINES: usize = 200;

/// The values of the last `Final training loss:` and `Final validation loss:` lines, if any.
pub fn final_losses(text: &str) -> (Option<f64>, Option<f64>) {
    let mut train = None;
    let mut val = None;
    for line in text.split(['\n', '\r']).map(str::trim) {
        if let Some(rest) = line.strip_prefix("Final training loss:") {
            train = leading_number(rest).or(train);
        } else if let Some(rest) = line.strip_prefix("Final validation loss:") {
            val = leading_number(rest).or(val);
        }
    }
    (train, val)
}

/// A traceback being collected.
pub(super) struct Traceback {
    /// Line of `Traceback (most recent call last):`.
    pub(super) line: usize,
    lines: Vec<String>,
    omitted: usize,
}

impl Traceback {
    /// Start collecting at the `Traceback (most recent call last):` line.
    pub(super) fn new(line_no: usize, first: &str) -> Self {
        Traceback {
            line: line_no,
            lines: vec![first.to_string()],
            omitted: 0,
        }
    }

    /// Keep one indented line, or count it once [`MAX_TRACEBACK_LINES`] are kept.
    pub(super) fn push(&mut self, segment: &str) {
        if self.lines.len() < MAX_TRACEBACK_LINES {
            self.lines.push(segment.trim_end().to_string());
        } else {
            self.omitted += 1;
        }
    }

    /// The event message: the kept lines, how many were left out, and the exception line.
    pub(super) fn message(&self, exception_line: Option<&str>) -> String {
        let mut message = self.lines.join("\n");
        if self.omitted > 0 {
            message.push_str(&format!("\n  ... ({} more lines)", self.omitted));
        }
        if let Some(exception_line) = exception_line {
            message.push('\n');
            message.push_str(exception_line);
        }
        message
    }
}

/// What the log has said so far about how the run ended.
pub(super) struct Ending<'a> {
    file: &'a str,
    /// Why the run failed, from the last error seen.
    failure: Option<String>,
    /// Why the run completed, from the first completion line after the last error.
    completion: Option<String>,
}

impl<'a> Ending<'a> {
    pub(super) fn new(file: &'a str) -> Self {
        Ending {
            file,
            failure: None,
            completion: None,
        }
    }

    /// An error line such as `CUDA out of memory` or `ValueError: ...`.
    pub(super) fn error_line(&mut self, line_no: usize, line: &str) {
        self.fail(format!(
            "error line \"{}\" at {}:{line_no}",
            clip(line, 200),
            self.file
        ));
    }

    /// A traceback closed by its exception line.
    pub(super) fn traceback_exception(&mut self, line_no: usize, exception_line: &str) {
        let quoted = clip(exception_line, 200);
        self.fail(format!(
            "traceback ends with \"{quoted}\" at {}:{line_no}",
            self.file
        ));
    }

    /// A traceback cut off by a blank line, a progress frame or the end of the file.
    pub(super) fn traceback_without_exception(&mut self, traceback_line: usize) {
        self.fail(format!(
            "traceback without an exception line at {}:{traceback_line}",
            self.file
        ));
    }

    /// A completion line; only the first after the last error is the reason.
    pub(super) fn completion_line(&mut self, line_no: usize, line: &str) {
        if self.completion.is_none() {
            self.completion = Some(format!(
                "completion line \"{}\" at {}:{line_no}",
                clip(line, 200),
                self.file
            ));
        }
    }

    fn fail(&mut self, reason: String) {
        self.failure = Some(reason);
        self.completion = None;
    }

    /// The run's status and its reason once the whole log is read.
    pub(super) fn status(self) -> (Status, String) {
        let name = self.file.rsplit('/').next().unwrap_or(self.file);
        match (self.completion, self.failure) {
            (Some(reason), _) => (Status::Completed, reason),
            (None, Some(reason)) => (Status::Failed, reason),
            (None, None) => (
                Status::Unknown,
                format!("{name} ends without a completion line or error"),
            ),
        }
    }
}

/// The `Final ... loss:` values the log reported, and the last validation value it logged.
#[derive(Default)]
pub(super) struct FinalLosses {
    /// (line, value) of the last `Final training loss:` line that held a number.
    pub(super) train: Option<(usize, f64)>,
    /// (line, value) of the last `Final validation loss:` line that held a number.
    pub(super) validation: Option<(usize, f64)>,
    /// The last `Validation loss:` value of the log itself.
    pub(super) last_logged_validation: Option<f64>,
}

impl FinalLosses {
    /// An info problem for each final loss that differs from the last logged one.
    pub(super) fn disagreements(&self, run: &Run, file: &str) -> Vec<Problem> {
        let last_train = run
            .metrics
            .iter()
            .find(|s| s.name == TRAIN_SERIES)
            .and_then(|s| s.points.iter().max_by_key(|p| p.step))
            .map(|p| p.value);
        let checks = [
            (self.train, last_train, "Final training loss", "train loss"),
            (
                self.validation,
                self.last_logged_validation,
                "Final validation loss",
                "validation loss",
            ),
        ];
        let mut problems = Vec::new();
        for (reported, logged, label, what) in checks {
            if let (Some((line_no, reported)), Some(logged)) = (reported, logged) {
                if !same_loss(reported, logged) {
                    let message =
                        format!("{label} {reported} differs from the last logged {what} {logged}");
                    problems.push(Problem::new(Severity::Info, file, Some(line_no), message));
                }
            }
        }
        problems
    }
}

/// Equal as printed with four decimals; NaN matches NaN.
fn same_loss(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
}

/// Out of memory, killed by the OS, or an unindented `SomethingError: ...` line.
pub(super) fn is_error_line(line: &str) -> bool {
    if line.contains("out of memory") || line.contains("OutOfMemoryError") {
        return true;
    }
    let killed = line.match_indices("Killed").any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + "Killed".len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    });
    let name = line.split(':').next().unwrap_or("");
    let is_exception_name = name.len() > "Error".len()
        && (name.ends_with("Error") || name.ends_with("Exception") || name == "KeyboardInterrupt")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    killed || is_exception_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::training_log::fixtures::{
        events, gen_corpus_log, read_log, values, CRASHED_ENDING, LOG,
    };
    use crate::model::EventKind;

    #[test]
    fn gen_corpus_crashed_run_fails_with_the_exception_quoted() {
        let text = gen_corpus_log(CRASHED_ENDING);
        let run = read_log(&text);
        let traceback_line = text
            .lines()
            .position(|l| l.starts_with("Traceback"))
            .unwrap()
            + 1;
        let tracebacks = events(&run, EventKind::Traceback);
        assert_eq!(tracebacks.len(), 1);
        assert_eq!(tracebacks[0].line, Some(traceback_line));
        assert!(tracebacks[0]
            .message
            .starts_with("Traceback (most recent call last):\n  File"));
        assert!(tracebacks[0]
            .message
            .contains("    loss.backward()\nRuntimeError: TT_FATAL"));
        let errors = events(&run, EventKind::Error);
        assert_eq!(
            errors.len(),
            1,
            "the exception line is one error, not two: {errors:?}"
        );
        assert_eq!(errors[0].line, Some(traceback_line + 5));
        assert_eq!(run.status, Status::Failed);
        assert!(run
            .status_reason
            .contains("\"RuntimeError: TT_FATAL @ device.cpp:233: out of memory"));
        assert!(
            run.status_reason
                .contains(&format!("{LOG}:{}", traceback_line + 5)),
            "{}",
            run.status_reason
        );
        assert_eq!(values(&run, "loss").len(), 6);
    }

    #[test]
    fn error_lines_warnings_and_which_ending_wins() {
        let run = read_log("Starting training\nUserWarning: foo\nWARNING: bar\nCUDA out of memory. Tried to allocate\n");
        assert_eq!(events(&run, EventKind::Warning).len(), 2);
        assert_eq!(run.status, Status::Failed);
        assert!(
            run.status_reason.contains("CUDA out of memory") && run.status_reason.contains(":4")
        );

        let run = read_log("step 1\nKilled\n");
        assert_eq!(
            (run.status, events(&run, EventKind::Error).len()),
            (Status::Failed, 1)
        );
        let run = read_log("Skilled worker\nKilledProcess\n");
        assert_eq!(run.status, Status::Unknown);
        assert_eq!(
            run.status_reason,
            "training.log ends without a completion line or error"
        );

        // A recovered error followed by a normal end is a completed run.
        let run = read_log("torch.cuda.OutOfMemoryError: retrying\nTraining finished\n");
        assert_eq!(run.status, Status::Completed);
        let run = read_log("Training complete\nValueError: could not save\n");
        assert_eq!(run.status, Status::Failed);
    }

    #[test]
    fn traceback_at_end_of_file_or_before_a_blank_line() {
        let run = read_log("Traceback (most recent call last):\n  File \"x.py\", line 1");
        assert_eq!(events(&run, EventKind::Traceback).len(), 1);
        assert_eq!(run.status, Status::Failed);
        assert!(run.status_reason.contains(":1"), "{}", run.status_reason);
        let run = read_log(
            "Traceback (most recent call last):\n  File \"x.py\"\n\nValidation loss: 1.0\n",
        );
        assert_eq!(events(&run, EventKind::Error).len(), 0);
        assert_eq!(values(&run, "Validation loss"), vec![(0, 1.0)]);
    }

    #[test]
    fn final_losses_that_disagree_get_a_note() {
        let text = "\rTraining: 1%| | 1/9 [00:01, loss=2.0]\nValidation loss: 3.0\nFinal training loss: 2.0\n\
                    Final validation loss: 2.5\n";
        let run = read_log(text);
        assert_eq!(run.problems.len(), 1, "{:?}", run.problems);
        assert_eq!(
            (run.problems[0].severity, run.problems[0].line),
            (Severity::Info, Some(4))
        );
        assert_eq!(values(&run, "Validation loss"), vec![(1, 3.0)]);
        assert_eq!(events(&run, EventKind::Finish).len(), 2);
        assert_eq!(
            final_losses("Final training loss: nan\r\nFinal validation loss: x")
                .0
                .map(f64::is_nan),
            Some(true)
        );
    }
}
