//! The `training.log` reader: captured trainer stdout, line by line.
//!
//! Each physical line is split at `\r` into segments (tqdm redraws), and a
//! [`LogReader`] carries what one line needs from the lines before it: the
//! step of the last train frame (where validation values and events belong),
//! whether we are inside the configuration header, printed sample text or a
//! traceback, and what the log has said about how the run ended. Recognising
//! a frame, a header field or an ending is left to [`frames`], [`header`] and
//! [`ending`]; this module decides which applies to a segment and records it.
//!
//! [`frames`]: super::frames
//! [`header`]: super::header
//! [`ending`]: super::ending

use super::ending::{is_error_line, Ending, FinalLosses, Traceback, COMPLETION_PHRASES};
use super::frames::{parse_frame, Frame};
use super::header::{read_header_line, store_header};
use super::{
    clip, leading_number, numbered_prefix, push_capped, MAX_MESSAGE_CHARS, TRAIN_SERIES,
    VALIDATION_SERIES,
};
use crate::load::lines::Lines;
use crate::model::{Event, EventKind, Point, Problem, Run};
use serde_json::{Map, Value};

/// Read `training.log` into `run`: train and validation points, events, `log_header` params and status.
pub fn read_training_log(run: &mut Run, text: &str, file: &str) {
    read_training_lines(run, Lines::from_str(text, file), file);
}

/// Read the lines of `training.log` into `run`, each split at `\r` into segments.
pub fn read_training_lines(run: &mut Run, lines: Lines<'_>, file: &str) {
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut log = LogReader::new(file);
    // Pieces, never whole lines: one physical line may hold millions of frames.
    let mut segments = lines.pieces();
    while let Some(segment) = segments.next_line() {
        // Empty pieces between `\r`s are cursor moves, not blank lines.
        if !segment.whole() && segment.text.trim().is_empty() {
            continue;
        }
        log.read_segment(run, segment.number, segment.text);
    }
    log.finish(run);
    run.problems.extend(segments.into_problems());
}

/// State carried from line to line while reading one `training.log`.
struct LogReader<'a> {
    file: &'a str,
    /// Step of the most recent train frame: where validation lines and events belong.
    step: Option<u64>,
    /// Inside the `Training configuration:` block, whose indented lines are its fields.
    in_header: bool,
    header: Map<String, Value>,
    /// A start event was recorded; later start lines add none.
    started: bool,
    /// Inside printed question/answer text, where `Validation loss:` is prose.
    in_sample_text: bool,
    traceback: Option<Traceback>,
    ending: Ending<'a>,
    final_losses: FinalLosses,
    /// The physical line last warned about a bad frame.
    warned_frame_line: usize,
    problem_count: usize,
    /// Wall time of the bars before the current one: tqdm's clock restarts with
    /// every bar (one per epoch), the run's does not.
    clock: BarClock,
}

/// Turns per-bar elapsed times into seconds since the first bar started.
#[derive(Default)]
struct BarClock {
    earlier_bars: f64,
    last: f64,
}

impl BarClock {
    fn wall_time(&mut self, elapsed: f64) -> f64 {
        if elapsed < self.last {
            self.earlier_bars += self.last;
        }
        self.last = elapsed;
        self.earlier_bars + elapsed
    }
}

impl<'a> LogReader<'a> {
    fn new(file: &'a str) -> Self {
        LogReader {
            file,
            step: None,
            in_header: false,
            header: Map::new(),
            started: false,
            in_sample_text: false,
            traceback: None,
            ending: Ending::new(file),
            final_losses: FinalLosses::default(),
            warned_frame_line: 0,
            problem_count: 0,
            clock: BarClock::default(),
        }
    }

    fn read_segment(&mut self, run: &mut Run, line_no: usize, segment: &str) {
        let indented = segment.starts_with([' ', '\t']);
        let trimmed = segment.trim();
        if let Some(mut tb) = self.traceback.take() {
            if indented && !trimmed.is_empty() && parse_frame(segment).is_none() {
                tb.push(segment);
                self.traceback = Some(tb);
                return;
            }
            // Python ends a traceback with one unindented line: the exception.
            let is_exception = !trimmed.is_empty() && parse_frame(segment).is_none();
            self.close_traceback(run, tb, is_exception.then_some((line_no, trimmed)));
            if is_exception {
                return;
            }
        }
        if let Some(frame) = parse_frame(segment) {
            self.in_sample_text = false;
            self.in_header = false;
            self.read_frame(run, line_no, frame);
            return;
        }
        if self.in_header {
            if indented {
                read_header_line(&mut self.header, trimmed);
                return;
            }
            if !trimmed.is_empty() {
                self.in_header = false;
            }
        }
        if trimmed.is_empty() {
            self.in_sample_text = false;
            return;
        }
        self.read_text_line(run, line_no, trimmed);
    }

    fn read_frame(&mut self, run: &mut Run, line_no: usize, frame: Frame<'_>) {
        if !frame.counts_training_steps() {
            return;
        }
        let step = frame
            .step
            .unwrap_or_else(|| self.step.map_or(1, |s| s.saturating_add(1)));
        self.step = Some(step);
        let wall_time = frame.elapsed.map(|e| self.clock.wall_time(e));
        match frame.loss {
            Some(Ok(value)) => {
                let point = Point {
                    wall_time,
                    ..Point::at(step, value)
                };
                run.push_point(TRAIN_SERIES, self.file, point);
            }
            Some(Err(raw)) if self.warned_frame_line != line_no => {
                // One warning per physical line: a broken line may hold a thousand frames.
                self.warned_frame_line = line_no;
                let message = format!(
                    "expected a number after \"loss=\" in a progress frame, found {:?}",
                    clip(raw, 40)
                );
                self.problem(run, Problem::warning(self.file, Some(line_no), message));
            }
            _ => {}
        }
    }

    /// A line that is not a progress frame: the first kind it matches wins.
    fn read_text_line(&mut self, run: &mut Run, line_no: usize, line: &str) {
        if numbered_prefix(line, 'Q').is_some() || numbered_prefix(line, 'A').is_some() {
            self.in_sample_text = true;
        }
        let lower = line.to_ascii_lowercase();
        if line.starts_with("Training configuration:") {
            self.in_header = true;
            self.start(run, line_no, line);
        } else if line.contains("Traceback (most recent call last)") {
            self.traceback = Some(Traceback::new(line_no, line));
        } else if let Some(rest) = line.strip_prefix("Validation loss:") {
            self.read_validation_line(run, line_no, line, rest);
        } else if let Some(rest) = line.strip_prefix("Final training loss:") {
            self.final_losses.train = self
                .final_value(run, line_no, rest, "Final training loss:")
                .map(|v| (line_no, v));
            self.event(run, EventKind::Finish, line_no, line);
            self.ending.completion_line(line_no, line);
        } else if let Some(rest) = line.strip_prefix("Final validation loss:") {
            self.final_losses.validation = self
                .final_value(run, line_no, rest, "Final validation loss:")
                .map(|v| (line_no, v));
            self.event(run, EventKind::Finish, line_no, line);
        } else if lower.contains("saving") && lower.contains("checkpoint") {
            let step = checkpoint_step(line).or(self.step);
            self.event_at(run, EventKind::Checkpoint, step, line_no, line);
        } else if line.contains("Saving final model") || line.contains("Model saved to") {
            self.event(run, EventKind::Checkpoint, line_no, line);
        } else if COMPLETION_PHRASES.iter().any(|p| lower.contains(p)) {
            self.event(run, EventKind::Finish, line_no, line);
            self.ending.completion_line(line_no, line);
        } else if is_error_line(line) {
            self.event(run, EventKind::Error, line_no, line);
            self.ending.error_line(line_no, line);
        } else if line.contains("Warning:")
            || line.contains("UserWarning")
            || line.contains("WARNING")
        {
            self.event(run, EventKind::Warning, line_no, line);
        } else if line.contains("Starting training") {
            self.start(run, line_no, line);
        }
    }

    fn read_validation_line(&mut self, run: &mut Run, line_no: usize, line: &str, rest: &str) {
        match leading_number(rest) {
            Some(value) => {
                let step = self.step.unwrap_or(0);
                run.push_point(VALIDATION_SERIES, self.file, Point::at(step, value));
                self.final_losses.last_logged_validation = Some(value);
                self.event(run, EventKind::Validation, line_no, line);
            }
            // In printed answers "Validation loss:" is prose, not a value.
            None if self.in_sample_text => {}
            None => {
                let message = format!(
                    "expected a number after \"Validation loss:\", found {:?}",
                    clip(rest.trim(), 40)
                );
                self.problem(run, Problem::warning(self.file, Some(line_no), message));
            }
        }
    }

    /// The number after a `Final ... loss:` label, with a warning when there is none.
    fn final_value(
        &mut self,
        run: &mut Run,
        line_no: usize,
        rest: &str,
        label: &str,
    ) -> Option<f64> {
        let value = leading_number(rest);
        if value.is_none() {
            let message = format!(
                "expected a number after \"{label}\", found {:?}",
                clip(rest.trim(), 40)
            );
            self.problem(run, Problem::warning(self.file, Some(line_no), message));
        }
        value
    }

    /// Record the traceback (and its exception line, if it had one) as events and as the run's failure.
    fn close_traceback(&mut self, run: &mut Run, tb: Traceback, exception: Option<(usize, &str)>) {
        let message = tb.message(exception.map(|(_, line)| line));
        self.event(run, EventKind::Traceback, tb.line, &message);
        match exception {
            Some((line_no, exception_line)) => {
                self.event(run, EventKind::Error, line_no, exception_line);
                self.ending.traceback_exception(line_no, exception_line);
            }
            None => self.ending.traceback_without_exception(tb.line),
        }
    }

    fn start(&mut self, run: &mut Run, line_no: usize, line: &str) {
        if !self.started {
            self.started = true;
            self.event(run, EventKind::Start, line_no, line);
        }
    }

    /// An event at the step of the last train frame.
    fn event(&self, run: &mut Run, kind: EventKind, line_no: usize, message: &str) {
        self.event_at(run, kind, self.step, line_no, message);
    }

    fn event_at(
        &self,
        run: &mut Run,
        kind: EventKind,
        step: Option<u64>,
        line_no: usize,
        message: &str,
    ) {
        let message = clip(message, MAX_MESSAGE_CHARS);
        run.events.push(Event {
            kind,
            step,
            message,
            file: self.file.to_string(),
            line: Some(line_no),
        });
    }

    fn problem(&mut self, run: &mut Run, problem: Problem) {
        push_capped(run, &mut self.problem_count, self.file, problem);
    }

    /// After the last line: close an open traceback, store the header, note
    /// disagreeing final losses and set the status.
    fn finish(mut self, run: &mut Run) {
        if let Some(tb) = self.traceback.take() {
            self.close_traceback(run, tb, None);
        }
        store_header(run, std::mem::take(&mut self.header));
        for problem in self.final_losses.disagreements(run, self.file) {
            self.problem(run, problem);
        }
        (run.status, run.status_reason) = self.ending.status();
    }
}

/// `Saving checkpoint to output/checkpoint_step_400` (or `checkpoint-400`) -> 400.
fn checkpoint_step(line: &str) -> Option<u64> {
    ["checkpoint_step_", "checkpoint-", "step_", "step-"]
        .iter()
        .find_map(|marker| {
            let (_, tail) = line.rsplit_once(marker)?;
            let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn wall_time_keeps_counting_across_bars() {
        let mut clock = BarClock::default();
        let times: Vec<f64> = [0.0, 5.0, 10.0, 2.0, 4.0]
            .iter()
            .map(|&e| clock.wall_time(e))
            .collect();
        assert_eq!(times, vec![0.0, 5.0, 10.0, 12.0, 14.0]);
    }

    #[test]
    fn tqdm_elapsed_becomes_wall_time_and_duration() {
        let log = "Training:  50%|█| 1/2 [00:05<00:05, 0.2it/s, loss=2.0]\rTraining: 100%|█| 2/2 [01:10<00:00, 0.2it/s, loss=1.0]\n";
        let mut run = Run::new("r", "", "training_log");
        read_training_log(&mut run, log, "r/training.log");
        let walls: Vec<Option<f64>> = run.metrics[0].points.iter().map(|p| p.wall_time).collect();
        assert_eq!(walls, vec![Some(5.0), Some(70.0)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::training_log::final_losses;
    use crate::load::training_log::fixtures::{
        events, gen_corpus_log, read_log, values, COMPLETED_ENDING, LOG,
    };
    use crate::model::{Severity, Status};

    #[test]
    fn gen_corpus_completed_run() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        run.params = serde_json::json!({"training_config": {"batch_size": 32}});
        read_training_log(&mut run, &gen_corpus_log(COMPLETED_ENDING), LOG);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "loss").len(), 6);
        assert_eq!(values(&run, "loss")[5], (60, 1.0));
        assert_eq!(
            values(&run, "Validation loss"),
            vec![(20, 2.5), (40, 2.0), (60, 1.5)]
        );
        let header = &run.params["log_header"];
        assert_eq!(header["batch_size"], serde_json::json!(32));
        assert_eq!(
            header["model"],
            serde_json::json!("meta-llama/Llama-3.2-1B")
        );
        assert_eq!(
            header["learning_rate"],
            serde_json::json!("0.0003 (cosine)")
        );
        assert_eq!(header["training_steps"], serde_json::json!(60));
        assert_eq!(
            run.params["training_config"]["batch_size"],
            serde_json::json!(32)
        );
        let checkpoints = events(&run, EventKind::Checkpoint);
        assert_eq!(checkpoints.len(), 3, "{checkpoints:?}");
        assert_eq!(checkpoints[0].step, Some(40));
        assert_eq!(events(&run, EventKind::Validation).len(), 3);
        assert_eq!(events(&run, EventKind::Validation)[0].step, Some(20));
        assert_eq!(events(&run, EventKind::Start).len(), 1);
        assert_eq!(run.status, Status::Completed);
        assert!(
            run.status_reason.contains("Fine-tuning complete"),
            "{}",
            run.status_reason
        );
        assert!(run.status_reason.contains(LOG), "{}", run.status_reason);
        assert_eq!(run.sources, vec![LOG.to_string()]);
        assert_eq!(
            final_losses(&gen_corpus_log(COMPLETED_ENDING)),
            (Some(1.0), Some(1.5))
        );
    }

    #[test]
    fn crlf_and_no_final_newline() {
        let text = "Starting training\r\n\rTraining:  50%|█████     | 5/10 [00:01<00:01, 5it/s, loss=2.5]\
                    \rTraining: 100%|██████████| 10/10 [00:02<00:00, 5it/s, loss=2.0]\r\nValidation loss: 2.2\r\n\
                    Training complete";
        let run = read_log(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "loss"), vec![(5, 2.5), (10, 2.0)]);
        assert_eq!(values(&run, "Validation loss"), vec![(10, 2.2)]);
        assert_eq!(run.status, Status::Completed);
        assert!(
            run.status_reason.contains(&format!("{LOG}:4")),
            "{}",
            run.status_reason
        );
    }

    #[test]
    fn unparsable_numbers_are_warnings_with_lines() {
        let text = "Starting training\nValidation loss: abc\n\rTraining: 1%| | 1/9 [00:01, loss=x]\
                    \rTraining: 2%| | 2/9 [00:01, loss=y]\nFinal training loss: ?\n";
        let run = read_log(text);
        let lines: Vec<_> = run.problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            lines,
            vec![
                (Severity::Warning, Some(2)),
                (Severity::Warning, Some(3)),
                (Severity::Warning, Some(4))
            ]
        );
        assert!(run.problems[0].message.contains("Validation loss:"));
        assert!(run.problems.iter().all(|p| p.file == LOG));
        assert!(values(&run, "loss").is_empty());
    }

    #[test]
    fn printed_answers_are_not_validation_values() {
        let text = "Q1: What is gravity?\nA1: Ah, gravity.\nValidation loss: is not a thing I know.\n\nValidation loss: 1.25\n";
        let run = read_log(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "Validation loss"), vec![(0, 1.25)]);
    }
}
