//! One training of a log, and what becomes of it: a run.
//!
//! A [`Segment`] collects the points, events and printed params of one
//! training while the log is read; [`into_run`] turns it into a [`Run`] once
//! the log is done, with the status the last ending line decided and the
//! start, end and duration from line timestamps. A trailing segment without
//! points (a wrapper's result summary) is folded into the one before it.

use super::merge_missing;
use crate::model::{Run, Status};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A traceback keeps this many lines.
const MAX_TRACEBACK_LINES: usize = 200;

/// One training found in the log.
pub(super) struct Segment {
    pub(super) run: Run,
    /// Params the log printed (command line, panel, header, `iters:`); adapter_config.json outranks them.
    pub(super) params: Map<String, Value>,
    /// The last iteration seen: where tests and events belong.
    pub(super) step: Option<u64>,
    /// Some point was logged: a line that starts a training now starts another segment.
    pub(super) has_points: bool,
    /// How it ended, as far as the log has said: the last word wins.
    pub(super) ending: Option<(Status, String)>,
    /// A start event was recorded.
    pub(super) started: bool,
    /// (text, seconds) of the first and last line timestamps, and the current one.
    pub(super) first_time: Option<(String, f64)>,
    pub(super) last_time: Option<(String, f64)>,
    pub(super) now: Option<f64>,
    /// Warnings already recorded: `[WARNING] Some sequences are longer ...` repeats every batch.
    pub(super) warnings: BTreeSet<String>,
}

impl Segment {
    pub(super) fn new(base: &Run) -> Segment {
        let mut run = base.clone();
        run.params = Value::Object(Map::new());
        Segment {
            run,
            params: Map::new(),
            step: None,
            has_points: false,
            ending: None,
            started: false,
            first_time: None,
            last_time: None,
            now: None,
            warnings: BTreeSet::new(),
        }
    }
}

/// A Python traceback being collected.
pub(super) struct Traceback {
    /// Line of `Traceback (most recent call last):`.
    pub(super) line: usize,
    /// Bytes of prefix (a timestamp) before `Traceback`, stripped from its other lines too.
    pub(super) prefix_len: usize,
    lines: Vec<String>,
    omitted: usize,
}

impl Traceback {
    pub(super) fn new(line: usize, prefix_len: usize, first: &str) -> Traceback {
        Traceback {
            line,
            prefix_len,
            lines: vec![first.to_string()],
            omitted: 0,
        }
    }

    /// Keep one indented line, or count it once [`MAX_TRACEBACK_LINES`] are kept.
    pub(super) fn push(&mut self, line: &str) {
        if self.lines.len() < MAX_TRACEBACK_LINES {
            self.lines.push(line.to_string());
        } else {
            self.omitted += 1;
        }
    }

    /// The event message: the kept lines, how many were left out, and the exception line.
    pub(super) fn message(&self, exception: Option<&str>) -> String {
        let mut message = self.lines.join("\n");
        if self.omitted > 0 {
            message.push_str(&format!("\n  ... ({} more lines)", self.omitted));
        }
        if let Some(exception) = exception {
            message.push('\n');
            message.push_str(exception);
        }
        message
    }
}

/// Fold a trailing segment without points (a wrapper's result summary) into the training before it.
pub(super) fn fold_into(previous: &mut Segment, trailing: Segment) {
    merge_missing(&mut previous.params, trailing.params);
    previous.run.events.extend(trailing.run.events);
    previous.run.problems.extend(trailing.run.problems);
    if previous.ending.is_none() {
        previous.ending = trailing.ending;
    }
    if trailing.last_time.is_some() {
        previous.last_time = trailing.last_time;
    }
}

pub(super) fn into_run(seg: Segment, shared: Option<&Map<String, Value>>, file_name: &str) -> Run {
    let mut run = seg.run;
    let mut params = seg.params;
    if let Some(shared) = shared {
        merge_missing(&mut params, shared.clone());
    }
    run.params = Value::Object(params);
    match seg.ending {
        Some((status, reason)) => {
            run.status = status;
            run.status_reason = reason;
        }
        None => {
            run.status_reason =
                format!("{file_name} ends without \"Saved final weights\" or an error");
        }
    }
    if let (Some((first, t0)), Some((last, t1))) = (seg.first_time, seg.last_time) {
        if run.date.is_none() {
            run.date = Some(first[..10].to_string());
        }
        run.duration_seconds = Some(t1 - t0);
        run.started = Some(first);
        run.ended = Some(last);
    }
    run
}

/// At most `max` characters of `text`.
pub(super) fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
