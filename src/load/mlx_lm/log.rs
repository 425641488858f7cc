//! Reading one MLX-LM console log, line by line, into one run per training.
//!
//! Physical lines are split at bare `\r` (progress bars redraw in place, see
//! [`Lines::pieces`]) and cleared of ANSI colours; each piece goes to the
//! recognisers in [`lines`]. The lines come from memory or, for a large log,
//! streamed from disk alike.
//! A [`Segment`] is one training: a wrapper script that loops over models
//! prints several into one file, so a new segment begins when a training
//! starts again (`Loading pretrained model`, `Starting training...`, the
//! header panel or table, an iteration number going back) after the current
//! one has points, or when a finished one is followed by more `key=value`
//! lines. What a wrapper printed before the first training (its header) is
//! shared by all of them; a last segment without points (a result summary) is
//! folded into the one before it.
//!
//! The last word on how a training ended wins, as in the `training_log`
//! reader: `Saved final weights` (or the table's progress bar reaching its
//! total) completes it, a traceback or fatal error line fails it.
//!
//! [`lines`]: super::lines

use super::header::{cli_flags, key_value, leading_timestamp, scalar};
use super::lines::{
    after_prefix, is_exception_line, is_warning, iter_line, report_fields, strip_ansi,
    FATAL_PHRASES, FINAL_SAVE_PHRASES,
};
use super::merge_missing;
use super::segment::{clip, fold_into, into_run, Segment, Traceback};
use super::table::{is_panel_title, panel_params, panel_row, table_row, TableRow};
use crate::load::lines::Lines;
use crate::model::{Event, EventKind, Point, Problem, Run, Status};
use serde_json::{Map, Value};

/// Event messages are clipped to this many characters.
const MAX_MESSAGE_CHARS: usize = 2000;
/// After this many problems in one file the rest are counted in one line.
const MAX_PROBLEMS: usize = 50;

/// Read the lines of one log into its runs (at least one), each a copy of
/// `base` filled from the log; the problems of reading the file go on each.
pub(super) fn read_log(base: &Run, lines: Lines<'_>, file: &str) -> Vec<Run> {
    let mut reader = LogReader::new(base, file);
    let mut pieces = lines.pieces();
    while let Some(piece) = pieces.next_line() {
        // Empty pieces between `\r`s are cursor moves, not blank lines.
        if !piece.whole() && piece.text.trim().is_empty() {
            continue;
        }
        reader.read_piece(piece.number, &strip_ansi(piece.text), piece.cut);
    }
    let problems = pieces.into_problems();
    let mut runs = reader.finish();
    for run in &mut runs {
        run.problems.extend(problems.iter().cloned());
    }
    runs
}

struct LogReader<'a> {
    base: &'a Run,
    file: &'a str,
    done: Vec<Segment>,
    current: Segment,
    /// What the first training's lines said before its first point: the wrapper's header.
    shared: Option<Map<String, Value>>,
    /// The table header was seen, so bare number rows are table rows.
    table: bool,
    traceback: Option<Traceback>,
    problems: usize,
}

impl<'a> LogReader<'a> {
    fn new(base: &'a Run, file: &'a str) -> Self {
        LogReader {
            base,
            file,
            done: Vec::new(),
            current: Segment::new(base),
            shared: None,
            table: false,
            traceback: None,
            problems: 0,
        }
    }

    fn read_piece(&mut self, line_no: usize, line: &str, torn: bool) {
        let line = line.trim_end();
        if let Some((text, seconds)) = leading_timestamp(line) {
            let seg = &mut self.current;
            seg.first_time.get_or_insert((text.to_string(), seconds));
            seg.last_time = Some((text.to_string(), seconds));
            seg.now = Some(seconds);
        }
        if let Some(mut tb) = self.traceback.take() {
            let body = line.get(tb.prefix_len..).unwrap_or(line);
            if body.starts_with([' ', '\t']) && !body.trim().is_empty() {
                tb.push(body);
                self.traceback = Some(tb);
                return;
            }
            // Python ends a traceback with one unindented line: the exception.
            let exception = body.trim();
            if !exception.is_empty() && iter_line(line).is_none() {
                self.close_traceback(tb, Some((line_no, exception)));
                return;
            }
            self.close_traceback(tb, None);
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        if let Some((step, body)) = iter_line(line) {
            self.read_report(line_no, step, body, torn);
        } else if let Some(row) =
            table_row(trimmed).filter(|r| self.table || *r == TableRow::Header)
        {
            self.read_table_row(line_no, row, trimmed);
        } else if is_panel_title(trimmed) {
            self.boundary();
        } else if let Some((label, value)) = panel_row(trimmed) {
            panel_params(label, value, &mut self.current.params);
        } else if let Some(rest) = after_prefix(line, "Test loss ") {
            self.read_test(rest);
        } else if FINAL_SAVE_PHRASES
            .iter()
            .any(|p| after_prefix(line, p).is_some())
        {
            self.event(EventKind::Finish, line_no, trimmed);
            let reason = format!(
                "completion line \"{}\" at {}:{line_no}",
                clip(trimmed, 200),
                self.file
            );
            self.current.ending = Some((Status::Completed, reason));
        } else if let Some(rest) = after_prefix(line, "Traceback (most recent call last)") {
            self.traceback = Some(Traceback::new(line_no, line.len() - rest.len(), rest));
        } else if FATAL_PHRASES
            .iter()
            .any(|p| after_prefix(line, p).is_some())
            || is_exception_line(line)
            || trimmed == "Killed"
        {
            self.error(
                line_no,
                trimmed,
                format!("error line \"{}\"", clip(trimmed, 200)),
            );
        } else if let Some((key, value)) = key_value(line) {
            self.read_key_value(key, value, line);
        } else if let Some(flags) = cli_flags(line) {
            merge_missing(&mut self.current.params, flags);
        } else {
            self.read_message(line_no, line, trimmed);
        }
    }

    /// Lines `mlx_lm.lora` prints around training, and warnings.
    fn read_message(&mut self, line_no: usize, line: &str, trimmed: &str) {
        if let Some(rest) = after_prefix(line, "Starting training..., iters:") {
            self.boundary();
            let iters = rest["Starting training..., iters:".len()..].trim();
            self.current.params.entry("iters").or_insert(scalar(iters));
            if !self.current.started {
                self.current.started = true;
                self.event(EventKind::Start, line_no, trimmed);
            }
        } else if after_prefix(line, "Loading pretrained model").is_some() {
            self.boundary();
        } else if let Some(rest) = after_prefix(line, "Trainable parameters:") {
            let value = rest["Trainable parameters:".len()..].trim();
            self.current
                .params
                .entry("trainable_parameters")
                .or_insert(Value::from(value));
        } else if let Some(rest) = after_prefix(line, "Loading configuration file ") {
            let value = rest["Loading configuration file ".len()..].trim();
            self.current
                .params
                .entry("config")
                .or_insert(Value::from(value));
        } else if is_warning(line, trimmed) && self.current.warnings.insert(trimmed.to_string()) {
            self.event(EventKind::Warning, line_no, trimmed);
        }
    }

    /// `Test loss X, Test ppl Y.`: at the last iteration of the training it tests.
    fn read_test(&mut self, rest: &str) {
        let fields = report_fields(rest);
        match self.done.last_mut() {
            // A separate `--test` invocation after training tests the adapter just trained.
            Some(previous) if !self.current.has_points => {
                let step = previous.step.unwrap_or(0);
                for (name, value) in fields {
                    previous
                        .run
                        .push_point(&name, self.file, Point::at(step, value));
                }
            }
            _ => {
                let step = self.current.step.unwrap_or(0);
                for (name, value) in fields {
                    self.point(&name, step, value);
                }
            }
        }
    }

    fn read_report(&mut self, line_no: usize, step: u64, body: &str, torn: bool) {
        self.step_to(step);
        if body.starts_with("Saved adapter weights") {
            let message = format!("Iter {step}: {body}");
            self.event(EventKind::Checkpoint, line_no, &message);
            return;
        }
        let mut fields = report_fields(body);
        if torn {
            // The writer stopped mid-line: the last number may be cut short.
            fields.pop();
            self.problem(Problem::warning(
                self.file,
                Some(line_no),
                "last line is incomplete: the writer was probably killed",
            ));
        }
        if fields.is_empty() && !torn {
            let message = format!("no value in \"Iter {step}: {}\"", clip(body, 80));
            self.problem(Problem::warning(self.file, Some(line_no), message));
        }
        let is_validation = fields.iter().any(|(name, _)| name == "val_loss");
        for (name, value) in fields {
            self.point(&name, step, value);
        }
        if is_validation {
            let message = format!("Iter {step}: {body}");
            self.event(EventKind::Validation, line_no, &message);
        }
    }

    fn read_table_row(&mut self, line_no: usize, row: TableRow, trimmed: &str) {
        match row {
            TableRow::Header => {
                self.boundary();
                self.table = true;
            }
            TableRow::Train {
                step,
                loss,
                tokens_per_sec,
                trained_tokens,
            } => {
                self.step_to(step);
                self.point("train_loss", step, loss);
                self.point("tokens_per_sec", step, tokens_per_sec);
                self.point("trained_tokens", step, trained_tokens);
            }
            TableRow::Val {
                step,
                loss,
                seconds,
            } => {
                self.step_to(step);
                self.point("val_loss", step, loss);
                self.point("val_time_s", step, seconds);
                self.event(EventKind::Validation, line_no, trimmed);
            }
            TableRow::Save { step, .. } => {
                let seg = &mut self.current;
                seg.step = step.or(seg.step);
                self.event(EventKind::Checkpoint, line_no, trimmed);
            }
            TableRow::Progress { done, total } => {
                if done == total && total > 0 {
                    self.event(EventKind::Finish, line_no, trimmed);
                    let reason = format!(
                        "the progress bar reached {done}/{total} at {}:{line_no}",
                        self.file
                    );
                    self.current.ending = Some((Status::Completed, reason));
                }
            }
        }
    }

    /// Move to iteration `step`; an iteration number going back starts another training.
    fn step_to(&mut self, step: u64) {
        if self.current.step.is_some_and(|last| step < last) {
            self.boundary();
        }
        self.current.step = Some(step);
    }

    fn read_key_value(&mut self, key: &str, value: &str, line: &str) {
        if self.current.has_points && self.current.ending.is_some() {
            self.boundary();
        }
        if !value.is_empty() {
            self.current
                .params
                .entry(key.to_string())
                .or_insert_with(|| scalar(value));
        }
        if let Some(flags) = cli_flags(line) {
            merge_missing(&mut self.current.params, flags);
        }
    }

    /// A training starts here: a new segment if the current one already has points.
    fn boundary(&mut self) {
        if self.current.has_points {
            let next = Segment::new(self.base);
            self.done.push(std::mem::replace(&mut self.current, next));
        }
    }

    fn point(&mut self, name: &str, step: u64, value: f64) {
        let seg = &mut self.current;
        if !seg.has_points {
            seg.has_points = true;
            if self.done.is_empty() && self.shared.is_none() {
                self.shared = Some(seg.params.clone());
            }
        }
        let wall_time = match (seg.now, &seg.first_time) {
            (Some(now), Some((_, first))) => Some(now - first),
            _ => None,
        };
        let point = Point {
            step,
            value,
            wall_time,
            epoch: None,
        };
        seg.run.push_point(name, self.file, point);
    }

    fn close_traceback(&mut self, tb: Traceback, exception: Option<(usize, &str)>) {
        let message = tb.message(exception.map(|(_, line)| line));
        self.event(EventKind::Traceback, tb.line, &message);
        match exception {
            Some((line_no, exception)) => {
                let reason = format!("traceback ends with \"{}\"", clip(exception, 200));
                self.error(line_no, exception, reason);
            }
            None => {
                let reason = format!(
                    "traceback without an exception line at {}:{}",
                    self.file, tb.line
                );
                self.current.ending = Some((Status::Failed, reason));
            }
        }
    }

    /// An error line: an event and, for now, the run's failure.
    fn error(&mut self, line_no: usize, line: &str, reason: String) {
        self.event(EventKind::Error, line_no, line);
        let reason = format!("{reason} at {}:{line_no}", self.file);
        self.current.ending = Some((Status::Failed, reason));
    }

    fn event(&mut self, kind: EventKind, line_no: usize, message: &str) {
        let seg = &mut self.current;
        seg.run.events.push(Event {
            kind,
            step: seg.step,
            message: clip(message, MAX_MESSAGE_CHARS).to_string(),
            file: self.file.to_string(),
            line: Some(line_no),
        });
    }

    fn problem(&mut self, problem: Problem) {
        self.problems += 1;
        if self.problems <= MAX_PROBLEMS {
            self.current.run.problems.push(problem);
        }
    }

    /// The segments as runs, the last one folded into its predecessor when it has no points.
    fn finish(mut self) -> Vec<Run> {
        if let Some(tb) = self.traceback.take() {
            self.close_traceback(tb, None);
        }
        if self.problems > MAX_PROBLEMS {
            let message = format!(
                "{} more problems in this file not shown",
                self.problems - MAX_PROBLEMS
            );
            self.current
                .run
                .problems
                .push(Problem::warning(self.file, None, message));
        }
        let mut segments = self.done;
        match segments.last_mut() {
            Some(previous) if !self.current.has_points => fold_into(previous, self.current),
            _ => segments.push(self.current),
        }
        let shared = self.shared.unwrap_or_default();
        let name = self.file.rsplit('/').next().unwrap_or(self.file);
        segments
            .into_iter()
            .enumerate()
            .map(|(i, seg)| into_run(seg, (i > 0).then_some(&shared), name))
            .collect()
    }
}
