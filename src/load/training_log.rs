//! The file-based layout (`training_log`): `training.log` (captured trainer stdout) and `validation.txt`.
//!
//! A captured log is not a data format, so this reader recognises lines by
//! what they say: the `Training configuration:` header, tqdm frames (many per
//! physical line, joined by `\r`, each with `loss=X` in its postfix),
//! `Validation loss: X`, checkpoint saves, warnings, errors and Python
//! tracebacks. Line numbers are physical lines, so a `\r`-joined line of a
//! thousand frames is one line, as an editor shows it. `validation.txt` holds
//! the validation question/answer samples and fills validation points the log
//! does not have; its answers may themselves say `Validation loss: ...`, so
//! only the last numeric such line of a block is its value.
//!
//! Pure: text in, the [`Run`] filled; nothing here panics on any input.

use crate::model::{Event, EventKind, Point, Problem, Run, Sample, Severity, Status};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Series of the train loss read from tqdm postfixes.
const TRAIN_SERIES: &str = "loss";
/// Series of `Validation loss: X` lines (log and validation.txt).
const VALIDATION_SERIES: &str = "Validation loss";
/// Key under `run.params` for the log's `Training configuration:` block.
const HEADER_KEY: &str = "log_header";
/// Event messages are clipped to this many characters (a tqdm line can be 100 KB).
const MAX_MESSAGE_CHARS: usize = 2000;
/// A traceback keeps this many lines; the rest are counted.
const MAX_TRACEBACK_LINES: usize = 200;
/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 50;
/// Lines that say training ended normally (matched case-insensitively).
const COMPLETION_PHRASES: [&str; 3] = [
    "fine-tuning complete",
    "training complete",
    "training finished",
];

/// True when the head of a file named `training.log` is captured trainer stdout.
///
/// False for a Keras CSVLogger file of the same name (`epoch,loss,val_loss`)
/// and for an MLX-LM console log (`Iter N: Train loss X`), which another reader owns.
pub fn looks_like_training_log(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let first = head
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if looks_like_csv_header(first) {
        return false;
    }
    let has_loss_frames = head
        .split(['\r', '\n'])
        .any(|seg| is_frame(seg) && find_loss(seg).is_some());
    if !has_loss_frames && head.contains(": Train loss ") && head.contains("Iter ") {
        return false;
    }
    let markers = [
        "Training configuration:",
        "Starting training",
        "Validation loss:",
        "Saving checkpoint",
        "Traceback (most recent call last)",
    ];
    has_loss_frames || markers.iter().any(|m| head.contains(m))
}

/// `epoch,loss,val_loss`: comma-separated names and nothing else.
fn looks_like_csv_header(line: &str) -> bool {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    fields.len() >= 2
        && fields.iter().all(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | '(' | ')'))
        })
}

/// Read `training.log` into `run`: train and validation points, events, `log_header` params and status.
pub fn read_training_log(run: &mut Run, text: &str, file: &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut log = LogReader::new(file);
    for (line_no, line) in physical_lines(text) {
        let segments: Vec<&str> = line.split('\r').collect();
        for segment in &segments {
            // Empty pieces between `\r`s are cursor moves, not blank lines.
            if segments.len() > 1 && segment.trim().is_empty() {
                continue;
            }
            log.read_segment(run, line_no, segment);
        }
    }
    log.finish(run);
}

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

/// Lines numbered from 1, with a CRLF's `\r` removed.
fn physical_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// The number at the start of `text` (`0.9418`, `nan`, `inf`), ignoring what follows it.
fn leading_number(text: &str) -> Option<f64> {
    let token = text.split_whitespace().next()?;
    token.trim_end_matches([',', ';', ')']).parse().ok()
}

/// `Q3: ...` -> (3, "..."); same for `A3:` with `letter` 'A'.
fn numbered_prefix(line: &str, letter: char) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix(letter)?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    let tail = rest[digits_end..].strip_prefix(':')?;
    (digits_end > 0).then(|| (&rest[..digits_end], tail))
}

/// One tqdm progress frame.
struct Frame<'a> {
    /// The bar's description (`Training`), lower-cased by the reader when needed.
    description: &'a str,
    /// `N` of `N/M` (or of `Nit` when the total is unknown).
    step: Option<u64>,
    /// The `loss=X` postfix: its parsed value, or the text that did not parse.
    loss: Option<Result<f64, &'a str>>,
}

/// A tqdm frame has a bar (`%|`) or a rate inside brackets (`[00:02, 4.28it/s]`).
fn is_frame(segment: &str) -> bool {
    segment.contains("%|")
        || segment.split_once('[').is_some_and(|(_, tail)| {
            tail.contains("it/s") || tail.contains("s/it") || tail.contains("it]")
        })
}

fn parse_frame(segment: &str) -> Option<Frame<'_>> {
    if !is_frame(segment) {
        return None;
    }
    let bar_end = segment.find(['|', '[']).unwrap_or(segment.len());
    let description = segment[..bar_end].split(':').next().unwrap_or("").trim();
    let before_postfix = segment.split('[').next().unwrap_or("");
    let step = before_postfix
        .split(|c: char| c.is_whitespace() || c == '|')
        .filter_map(|token| match token.split_once('/') {
            Some((n, _)) => n.parse::<u64>().ok(),
            None => token.strip_suffix("it").and_then(|n| n.parse::<u64>().ok()),
        })
        .next_back();
    Some(Frame {
        description,
        step,
        loss: find_loss(segment),
    })
}

/// The value of a `loss=` key (not `val_loss=`) in a tqdm postfix.
fn find_loss(segment: &str) -> Option<Result<f64, &str>> {
    let mut from = 0;
    while let Some(found) = segment[from..].find("loss=") {
        let at = from + found;
        from = at + "loss=".len();
        let is_own_key = segment[..at]
            .chars()
            .next_back()
            .map_or(true, |c| !(c.is_alphanumeric() || c == '_'));
        if is_own_key {
            let rest = &segment[from..];
            let raw = rest.split([',', ']', ' ']).next().unwrap_or("").trim();
            return Some(raw.parse::<f64>().map_err(|_| raw));
        }
    }
    None
}

/// A traceback being collected.
struct Traceback {
    line: usize,
    lines: Vec<String>,
    omitted: usize,
}

/// State carried from line to line while reading one `training.log`.
struct LogReader<'a> {
    file: &'a str,
    /// Step of the most recent train frame: where validation lines and events belong.
    step: Option<u64>,
    in_header: bool,
    header: Map<String, Value>,
    started: bool,
    /// Inside printed question/answer text, where `Validation loss:` is prose.
    in_sample_text: bool,
    traceback: Option<Traceback>,
    /// Why the run failed, from the last error seen.
    failure: Option<String>,
    /// Why the run completed, from the first completion line after the last error.
    completion: Option<String>,
    final_train: Option<(usize, f64)>,
    final_val: Option<(usize, f64)>,
    last_log_validation: Option<f64>,
    warned_frame_line: usize,
    problem_count: usize,
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
            failure: None,
            completion: None,
            final_train: None,
            final_val: None,
            last_log_validation: None,
            warned_frame_line: 0,
            problem_count: 0,
        }
    }

    fn read_segment(&mut self, run: &mut Run, line_no: usize, segment: &str) {
        let indented = segment.starts_with([' ', '\t']);
        let trimmed = segment.trim();
        if let Some(mut tb) = self.traceback.take() {
            if indented && !trimmed.is_empty() && parse_frame(segment).is_none() {
                if tb.lines.len() < MAX_TRACEBACK_LINES {
                    tb.lines.push(segment.trim_end().to_string());
                } else {
                    tb.omitted += 1;
                }
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
                self.read_header_line(trimmed);
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
        let description = frame.description.to_ascii_lowercase();
        // Evaluation bars count eval batches, not training steps.
        if ["val", "eval", "test"]
            .iter()
            .any(|w| description.contains(w))
        {
            return;
        }
        if frame.loss.is_none() && !description.contains("train") {
            return;
        }
        let step = frame
            .step
            .unwrap_or_else(|| self.step.map_or(1, |s| s.saturating_add(1)));
        self.step = Some(step);
        match frame.loss {
            Some(Ok(value)) => run.push_point(TRAIN_SERIES, self.file, Point::at(step, value)),
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

    fn read_header_line(&mut self, trimmed: &str) {
        let Some((key, value)) = trimmed.split_once(':') else {
            return;
        };
        let key = snake_case(key);
        if !key.is_empty() {
            self.header
                .entry(key)
                .or_insert_with(|| header_value(value.trim()));
        }
    }

    fn read_text_line(&mut self, run: &mut Run, line_no: usize, line: &str) {
        if numbered_prefix(line, 'Q').is_some() || numbered_prefix(line, 'A').is_some() {
            self.in_sample_text = true;
        }
        let lower = line.to_ascii_lowercase();
        if line.starts_with("Training configuration:") {
            self.in_header = true;
            self.start(run, line_no, line);
        } else if line.contains("Traceback (most recent call last)") {
            self.traceback = Some(Traceback {
                line: line_no,
                lines: vec![line.to_string()],
                omitted: 0,
            });
        } else if let Some(rest) = line.strip_prefix("Validation loss:") {
            self.read_validation_line(run, line_no, line, rest);
        } else if let Some(rest) = line.strip_prefix("Final training loss:") {
            self.final_train = self
                .final_value(run, line_no, rest, "Final training loss:")
                .map(|v| (line_no, v));
            self.event(run, EventKind::Finish, line_no, line);
            self.complete(line_no, line);
        } else if let Some(rest) = line.strip_prefix("Final validation loss:") {
            self.final_val = self
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
            self.complete(line_no, line);
        } else if is_error_line(line) {
            self.event(run, EventKind::Error, line_no, line);
            self.fail(format!(
                "error line \"{}\" at {}:{line_no}",
                clip(line, 200),
                self.file
            ));
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
                self.last_log_validation = Some(value);
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

    fn close_traceback(&mut self, run: &mut Run, tb: Traceback, exception: Option<(usize, &str)>) {
        let mut message = tb.lines.join("\n");
        if tb.omitted > 0 {
            message.push_str(&format!("\n  ... ({} more lines)", tb.omitted));
        }
        if let Some((_, exception_line)) = exception {
            message.push('\n');
            message.push_str(exception_line);
        }
        self.event(run, EventKind::Traceback, tb.line, &message);
        match exception {
            Some((line_no, exception_line)) => {
                self.event(run, EventKind::Error, line_no, exception_line);
                let quoted = clip(exception_line, 200);
                self.fail(format!(
                    "traceback ends with \"{quoted}\" at {}:{line_no}",
                    self.file
                ));
            }
            None => self.fail(format!(
                "traceback without an exception line at {}:{}",
                self.file, tb.line
            )),
        }
    }

    fn start(&mut self, run: &mut Run, line_no: usize, line: &str) {
        if !self.started {
            self.started = true;
            self.event(run, EventKind::Start, line_no, line);
        }
    }

    fn fail(&mut self, reason: String) {
        self.failure = Some(reason);
        self.completion = None;
    }

    fn complete(&mut self, line_no: usize, line: &str) {
        if self.completion.is_none() {
            self.completion = Some(format!(
                "completion line \"{}\" at {}:{line_no}",
                clip(line, 200),
                self.file
            ));
        }
    }

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

    fn finish(mut self, run: &mut Run) {
        if let Some(tb) = self.traceback.take() {
            self.close_traceback(run, tb, None);
        }
        if !self.header.is_empty() {
            if let Value::Object(params) = &mut run.params {
                params
                    .entry(HEADER_KEY)
                    .or_insert(Value::Object(std::mem::take(&mut self.header)));
            }
        }
        self.check_final_losses(run);
        let name = self.file.rsplit('/').next().unwrap_or(self.file);
        (run.status, run.status_reason) = match (self.completion.take(), self.failure.take()) {
            (Some(reason), _) => (Status::Completed, reason),
            (None, Some(reason)) => (Status::Failed, reason),
            (None, None) => (
                Status::Unknown,
                format!("{name} ends without a completion line or error"),
            ),
        };
    }

    /// A final loss that disagrees with the last logged one is worth a note, not a series.
    fn check_final_losses(&mut self, run: &mut Run) {
        let last_train = run
            .metrics
            .iter()
            .find(|s| s.name == TRAIN_SERIES)
            .and_then(|s| s.points.iter().max_by_key(|p| p.step))
            .map(|p| p.value);
        let checks = [
            (
                self.final_train,
                last_train,
                "Final training loss",
                "train loss",
            ),
            (
                self.final_val,
                self.last_log_validation,
                "Final validation loss",
                "validation loss",
            ),
        ];
        for (reported, logged, label, what) in checks {
            if let (Some((line_no, reported)), Some(logged)) = (reported, logged) {
                if !same_loss(reported, logged) {
                    let message =
                        format!("{label} {reported} differs from the last logged {what} {logged}");
                    let problem = Problem::new(Severity::Info, self.file, Some(line_no), message);
                    self.problem(run, problem);
                }
            }
        }
    }
}

/// Equal as printed with four decimals; NaN matches NaN.
fn same_loss(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
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

/// Out of memory, killed by the OS, or an unindented `SomethingError: ...` line.
fn is_error_line(line: &str) -> bool {
    if line.contains("out of memory") || line.contains("OutOfMemoryError") {
        return true;
    }
    let killed = line.match_indices("Killed").any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + "Killed".len()..].chars().next();
        before.map_or(true, |c| !c.is_alphanumeric())
            && after.map_or(true, |c| !c.is_alphanumeric())
    });
    let name = line.split(':').next().unwrap_or("");
    let is_exception_name = name.len() > "Error".len()
        && (name.ends_with("Error") || name.ends_with("Exception") || name == "KeyboardInterrupt")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    killed || is_exception_name
}

/// `Batch size` -> `batch_size`.
fn snake_case(key: &str) -> String {
    let lower = key.trim().to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("_")
}

/// A header value as a JSON number when it is one, else as text.
fn header_value(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let looks_numeric =
        text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    match text
        .parse::<f64>()
        .ok()
        .filter(|_| looks_numeric)
        .and_then(serde_json::Number::from_f64)
    {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_string()),
    }
}

/// At most `max` characters, marked with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn push_capped(run: &mut Run, count: &mut usize, file: &str, problem: Problem) {
    *count += 1;
    if *count <= MAX_PROBLEMS_PER_FILE {
        run.problems.push(problem);
    } else if *count == MAX_PROBLEMS_PER_FILE + 1 {
        let message =
            format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
        run.problems.push(Problem::warning(file, None, message));
    }
}

/// Read `validation.txt` into `run`: samples, and validation points for steps the log lacks.
pub fn read_validation(run: &mut Run, text: &str, file: &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut known_steps: HashSet<u64> = run
        .metrics
        .iter()
        .filter(|s| s.name == VALIDATION_SERIES)
        .flat_map(|s| s.points.iter().map(|p| p.step))
        .collect();
    let mut problem_count = 0;
    let mut blocks: Vec<Block> = Vec::new();
    for (line_no, line) in physical_lines(text) {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Validation at step") {
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let step = digits.parse().ok();
            if step.is_none() {
                let message = format!("cannot read the step of {:?}", clip(trimmed, 80));
                push_capped(
                    run,
                    &mut problem_count,
                    file,
                    Problem::warning(file, Some(line_no), message),
                );
            }
            blocks.push(Block {
                header_line: line_no,
                step,
                lines: Vec::new(),
            });
        } else if trimmed.len() >= 3 && trimmed.chars().all(|c| c == '=') {
            // `====` rules frame the block headers; they are never part of an answer.
        } else if let Some(block) = blocks.last_mut() {
            block.lines.push((line_no, line));
        }
    }
    if blocks.is_empty() && !text.trim().is_empty() {
        let message = "no \"Validation at step N\" block; nothing read";
        push_capped(
            run,
            &mut problem_count,
            file,
            Problem::warning(file, None, message),
        );
    }
    for block in &blocks {
        read_block(run, block, file, &mut known_steps, &mut problem_count);
    }
}

/// One `Validation at step N` block of validation.txt.
struct Block<'t> {
    header_line: usize,
    step: Option<u64>,
    lines: Vec<(usize, &'t str)>,
}

/// A question/answer pair being collected.
struct PendingSample {
    index: u32,
    line: usize,
    question: Vec<String>,
    answer: Option<Vec<String>>,
}

fn read_block(
    run: &mut Run,
    block: &Block<'_>,
    file: &str,
    known_steps: &mut HashSet<u64>,
    problems: &mut usize,
) {
    let value_at = block
        .lines
        .iter()
        .rposition(|(_, l)| block_value(l).is_some());
    let mut pending: Option<PendingSample> = None;
    let mut position = 0u32;
    for (i, &(line_no, line)) in block.lines.iter().enumerate() {
        if Some(i) == value_at {
            flush_sample(run, pending.take(), block.step, file);
            continue;
        }
        if let Some((digits, rest)) = numbered_prefix(line, 'Q') {
            flush_sample(run, pending.take(), block.step, file);
            position += 1;
            let index = digits.parse().unwrap_or(position);
            pending = Some(PendingSample {
                index,
                line: line_no,
                question: vec![rest.to_string()],
                answer: None,
            });
        } else if let Some((digits, rest)) = numbered_prefix(line, 'A') {
            let sample = pending.get_or_insert_with(|| PendingSample {
                index: digits.parse().unwrap_or(position),
                line: line_no,
                question: Vec::new(),
                answer: None,
            });
            sample
                .answer
                .get_or_insert_with(Vec::new)
                .push(rest.to_string());
        } else if let Some(sample) = pending.as_mut() {
            match sample.answer.as_mut() {
                Some(answer) => answer.push(line.to_string()),
                None => sample.question.push(line.to_string()),
            }
        }
    }
    flush_sample(run, pending, block.step, file);
    let Some(value_at) = value_at else {
        let message = "validation block has no \"Validation loss: <number>\" line";
        push_capped(
            run,
            problems,
            file,
            Problem::warning(file, Some(block.header_line), message),
        );
        return;
    };
    let (line_no, line) = block.lines[value_at];
    let value = block_value(line).unwrap_or(f64::NAN);
    // The log is read first; validation.txt only fills the steps it lacks.
    if let Some(step) = block.step.filter(|s| known_steps.insert(*s)) {
        run.push_point(VALIDATION_SERIES, file, Point::at(step, value));
        let message = clip(line.trim(), MAX_MESSAGE_CHARS);
        let event = Event {
            kind: EventKind::Validation,
            step: Some(step),
            message,
            file: file.into(),
            line: Some(line_no),
        };
        run.events.push(event);
    }
}

/// The value of a block's `Validation loss: 1.8395` line: a number and nothing else,
/// so an answer saying `Validation loss: 7 cats` is prose.
fn block_value(line: &str) -> Option<f64> {
    line.trim()
        .strip_prefix("Validation loss:")?
        .trim()
        .parse()
        .ok()
}

fn flush_sample(run: &mut Run, pending: Option<PendingSample>, step: Option<u64>, file: &str) {
    if let Some(p) = pending {
        run.samples.push(Sample {
            step,
            index: p.index,
            question: p.question.join("\n").trim().to_string(),
            answer: p.answer.unwrap_or_default().join("\n").trim().to_string(),
            file: file.to_string(),
            line: p.line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "runs/a/training.log";
    const VAL: &str = "runs/a/validation.txt";

    /// A gen_corpus.py `tt` run (eval every 20 steps, checkpoint every 40), cut to 60 steps.
    fn gen_corpus_log(ending: &str) -> String {
        let mut out = String::from(
            "Training configuration:\n  Model: meta-llama/Llama-3.2-1B\n  Batch size: 32\n  \
             Gradient accumulation: 1\n  Training steps: 60\n  Learning rate: 0.0003 (cosine)\n  \
             Scheduler type: cosine\nStarting training...\n============================================================\n",
        );
        for s in (10..=60).step_by(10) {
            let pct = 100 * s / 60;
            let bar = "█".repeat(pct / 10) + &" ".repeat(10 - pct / 10);
            out += &format!(
                "\rTraining: {pct:3}%|{bar}| {s}/60 [00:12<00:00, 0.82it/s, loss={:.4}]",
                4.0 - s as f64 / 20.0
            );
            if s % 20 == 0 {
                out += &format!("\n\nValidation loss: {:.4}\n\n", 3.0 - s as f64 / 40.0);
            }
            if s % 40 == 0 {
                out += &format!("\nSaving checkpoint to output/checkpoint_step_{s}\n");
            }
        }
        out + ending
    }

    const COMPLETED_ENDING: &str = "\nSaving final model to output/final_model\n\nTraining curves saved to \
        output/training_curves.png\n✅ Fine-tuning complete!\nFinal training loss: 1.0000\nFinal validation loss: \
        1.5000\nModel saved to: output/final_model\n";

    const CRASHED_ENDING: &str = "\nTraceback (most recent call last):\n  File \"finetune_trickster.py\", line 412, \
        in <module>\n    main()\n  File \"finetune_trickster.py\", line 377, in train\n    loss.backward()\n\
        RuntimeError: TT_FATAL @ device.cpp:233: out of memory: could not allocate 268435456 bytes\n";

    /// validation.txt as gen_corpus.py writes it: answers that say "Validation loss:" themselves.
    fn gen_corpus_validation(steps: &[(u64, &str)]) -> String {
        let mut v =
            "Trickster Fine-tuning - Validation Log\n".to_string() + &"=".repeat(60) + "\n\n";
        for (s, value) in steps {
            v += &format!("\n{0}\nValidation at step {s}\n{0}\n\n", "=".repeat(60));
            for (i, q) in ["What is gravity?", "Why is the sky blue?"]
                .iter()
                .enumerate()
            {
                v += &format!(
                    "Q{n}: {q}\nA{n}: Ah, {q} Step {s} says: it depends on the cat.\nValidation loss: is not a thing I know.\n\n",
                    n = i + 1
                );
            }
            v += &format!("Validation loss: {value}\n");
        }
        v
    }

    fn read_log(text: &str) -> Run {
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_training_log(&mut run, text, LOG);
        run
    }

    fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
        run.metrics
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.points.iter().map(|p| (p.step, p.value)).collect())
            .unwrap_or_default()
    }

    fn events(run: &Run, kind: EventKind) -> Vec<&Event> {
        run.events.iter().filter(|e| e.kind == kind).collect()
    }

    #[test]
    fn sniffs_captured_stdout_but_not_csv_or_mlx() {
        assert!(looks_like_training_log(&gen_corpus_log("")[..600]));
        assert!(looks_like_training_log(
            "\rTraining:  10%|█ | 10/100 [00:01<00:09, 9.1it/s, loss=2.1]"
        ));
        assert!(looks_like_training_log(
            "Loading data\nTraceback (most recent call last):\n"
        ));
        assert!(looks_like_training_log(
            "step 1\nSaving checkpoint to out/ckpt\n"
        ));
        assert!(!looks_like_training_log(
            "epoch,loss,val_loss\r\n0,0.5,0.6\r\n"
        ));
        assert!(!looks_like_training_log(
            "epoch,accuracy,dice_coef,loss,lr,mean_io_u_5,val_loss\r\n0,0.98,0.33,0.05,0.001,0.75,0.05\r\n"
        ));
        let mlx = "Loading pretrained model\nStarting training..., iters: 2\n\
                   Calculating loss...: 100%|██████████| 1/1 [00:01<00:00,  1.41s/it]\n\
                   Iter 1: Val loss 6.449, Val took 1.453s\nIter 1: Train loss 5.919, Learning Rate 1.000e-05\n";
        assert!(!looks_like_training_log(mlx));
        assert!(!looks_like_training_log(""));
        assert!(!looks_like_training_log(
            "step:1/100 val_loss:4.2 train_time:0ms"
        ));
    }

    #[test]
    fn every_tqdm_frame_on_one_line_is_a_point() {
        let text = "Starting training\n\rTraining:   1%|          | 10/1000 [00:12<00:00, 0.82it/s, loss=3.4943]\
                    \rTraining:   2%|          | 20/1000 [00:24<00:00, 0.82it/s, loss=3.3699]\
                    \rTraining:   3%|          | 30/1000 [00:36<00:00, 0.82it/s, loss=3.0337]\n";
        let run = read_log(text);
        assert_eq!(
            values(&run, "loss"),
            vec![(10, 3.4943), (20, 3.3699), (30, 3.0337)]
        );
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(events(&run, EventKind::Start)[0].line, Some(1));
    }

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
    fn header_ends_at_the_first_frame_and_hf_checkpoints_count() {
        let text =
            "Training configuration:\n  Batch size: 8\n\rTraining: 1%| | 1/9 [00:01, loss=2.0]\n  \
                    later: 5\nSaving model checkpoint to out/checkpoint-500\n";
        let run = read_log(text);
        assert_eq!(
            run.params["log_header"],
            serde_json::json!({"batch_size": 8})
        );
        assert_eq!(events(&run, EventKind::Checkpoint)[0].step, Some(500));
    }

    #[test]
    fn header_does_not_replace_existing_params() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        run.params = serde_json::json!({"log_header": "mine"});
        read_training_log(
            &mut run,
            "Training configuration:\n  Batch size: 8\nStarting training\n",
            LOG,
        );
        assert_eq!(run.params["log_header"], serde_json::json!("mine"));
    }

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
    fn non_finite_losses_are_kept() {
        let text =
            "\rTraining: 1%| | 1/100 [00:01, loss=nan]\rTraining: 2%| | 2/100 [00:01, loss=inf]\
                    \rTraining: 3%| | 3/100 [00:01, loss=-inf]\nValidation loss: nan\n";
        let run = read_log(text);
        let loss = values(&run, "loss");
        assert!(loss[0].1.is_nan());
        assert_eq!((loss[1].1, loss[2].1), (f64::INFINITY, f64::NEG_INFINITY));
        assert!(values(&run, "Validation loss")[0].1.is_nan());
        assert!(run.problems.is_empty(), "{:?}", run.problems);
    }

    #[test]
    fn frames_without_totals_eval_bars_and_other_keys() {
        let text =
            "\rTraining: 7it [00:01, 5.0it/s, loss=2.0]\rTraining: [00:01, 5.0it/s, loss=1.9]\n\
                    \rEvaluating:  50%|█████     | 1/2 [00:00<00:00, loss=9.9]\n\
                    \rEpoch 1: 100%|██████████| 9/9 [00:01<00:00, val_loss=3.0, lr=1e-4]\n\
                    Validation loss: 1.5\n";
        let run = read_log(text);
        assert_eq!(values(&run, "loss"), vec![(7, 2.0), (8, 1.9)]);
        assert_eq!(values(&run, "Validation loss"), vec![(8, 1.5)]);
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

    #[test]
    fn validation_txt_samples_and_values() {
        let text = gen_corpus_validation(&[(20, "2.5000"), (40, "2.0000")]);
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, &text, VAL);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "Validation loss"), vec![(20, 2.5), (40, 2.0)]);
        assert_eq!(run.samples.len(), 4);
        let first = &run.samples[0];
        assert_eq!(
            (first.step, first.index, first.file.as_str()),
            (Some(20), 1, VAL)
        );
        assert_eq!(first.question, "What is gravity?");
        assert_eq!(first.answer, "Ah, What is gravity? Step 20 says: it depends on the cat.\nValidation loss: is not a thing I know.");
        assert_eq!(
            text.lines().nth(first.line - 1),
            Some("Q1: What is gravity?")
        );
        let last = &run.samples[3];
        assert_eq!((last.step, last.index), (Some(40), 2));
        assert!(!last.answer.contains("2.0000"), "{}", last.answer);
        assert_eq!(events(&run, EventKind::Validation).len(), 2);
    }

    #[test]
    fn validation_txt_only_fills_gaps_left_by_the_log() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_training_log(&mut run, &gen_corpus_log(COMPLETED_ENDING), LOG);
        let text = gen_corpus_validation(&[
            (20, "9.0"),
            (40, "9.0"),
            (60, "9.0"),
            (80, "0.5"),
            (80, "0.7"),
        ]);
        read_validation(&mut run, &text, VAL);
        assert_eq!(
            values(&run, "Validation loss"),
            vec![(20, 2.5), (40, 2.0), (60, 1.5), (80, 0.5)]
        );
        assert_eq!(run.samples.len(), 10);
        assert_eq!(run.sources, vec![LOG.to_string(), VAL.to_string()]);
    }

    #[test]
    fn validation_block_without_value_and_multiline_answers() {
        let text = "====\r\nValidation at step 5\r\n====\r\nQ1: Tell me\r\na story\r\nA1: Once\r\n\r\nupon a time.\r\n\
                    Validation loss: 7 cats\r\nQ2: And?\r\nA2: The end.\r\n====\r\nValidation at step x\r\nQ1: q\r\n\
                    A1: a\r\nValidation loss: 1.0";
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, text, VAL);
        assert_eq!(run.samples[0].question, "Tell me\na story");
        assert_eq!(
            run.samples[0].answer,
            "Once\n\nupon a time.\nValidation loss: 7 cats"
        );
        assert_eq!(run.samples[1].answer, "The end.");
        assert_eq!(run.samples[2].step, None);
        let problems: Vec<_> = run
            .problems
            .iter()
            .map(|p| (p.line, p.file.as_str()))
            .collect();
        assert_eq!(problems, vec![(Some(13), VAL), (Some(2), VAL)]);
        assert!(run.problems[1].message.contains("no \"Validation loss"));
        assert!(values(&run, "Validation loss").is_empty());
    }

    #[test]
    fn validation_txt_without_blocks_is_a_warning() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, "Q1: hi\nA1: there\n", VAL);
        assert_eq!(run.problems.len(), 1);
        assert!(run.samples.is_empty());
        read_validation(&mut run, "\n\n", VAL);
        assert_eq!(run.problems.len(), 1);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let cases = [
            "",
            "\r",
            "\r\r\r\n\n",
            "\u{feff}",
            "loss=",
            "\rloss=1e999 %|",
            "Traceback (most recent call last):",
            "Training configuration:\n  : \n  ü: 1e400\n  big: 99999999999999999999999999\n",
            "\rTraining: 1%| | 99999999999999999999999/1 [loss=1]",
            "Validation at step 18446744073709551616\n",
            "Q1:\nA1:\nA2:\nQ",
            "Final training loss:",
            "Saving checkpoint checkpoint_step_",
            "Killed",
            "\u{0}\u{1}ÿ%|[it/s loss=é]\r\r",
        ];
        for text in cases {
            let mut run = read_log(text);
            read_validation(&mut run, text, VAL);
            let _ = looks_like_training_log(text);
            let _ = final_losses(text);
        }
        let big = read_log("\rTraining: 1%| | 1/100 [loss=1e999]\n  big: 1\n");
        assert_eq!(values(&big, "loss"), vec![(1, f64::INFINITY)]);
    }

    #[test]
    fn random_bytes_do_not_panic() {
        let alphabet =
            "Q1:A2 \n\r\t|%[]=/loss=nan0123456789.-ValidationTraceback Killed at step ✅█\u{0}";
        let chars: Vec<char> = alphabet.chars().collect();
        let words = [
            "Validation loss: ",
            "Validation at step ",
            "Traceback (most recent call last):\n",
            "  ",
            "loss=",
        ];
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for len in 0..300 {
            let mut text = String::new();
            for _ in 0..len {
                match next() % 10 {
                    0 => text.push_str(words[next() % words.len()]),
                    _ => text.push(chars[next() % chars.len()]),
                }
            }
            let mut run = read_log(&text);
            read_validation(&mut run, &text, VAL);
            let _ = looks_like_training_log(&text);
        }
    }
}
