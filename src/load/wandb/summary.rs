//! The two text files of a W&B run that say how it ended:
//! `wandb-summary.json` (final metric values, step, runtime, end time) and
//! `output.log` (captured stdout: a Python traceback means it crashed).
//!
//! Pure: text (or, for a log, its lines) in, the [`Run`] filled; never panics
//! on any input.

use crate::load::lenient_json;
use crate::load::lines::{Line, Lines};
use crate::load::mlflow::clock::iso_from_unix_ms;
use crate::model::{Event, EventKind, Point, Problem, Run, Status};
use serde_json::Value;

/// Event messages are clipped to this many characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Read the summary: one point per numeric metric at `_step` (or 0),
/// `_runtime` as the duration and `_timestamp` as the end. True when it parsed.
pub fn read_summary(run: &mut Run, text: &str, file: &str) -> bool {
    let value = match lenient_json::parse(text) {
        Ok(v) => v,
        Err(e) => {
            let message = if e.cut_short {
                format!("incomplete JSON (cut short): {}", e.message)
            } else {
                format!("not valid JSON: {}", e.message)
            };
            run.problems.push(Problem::error(file, e.line, message));
            return false;
        }
    };
    let Value::Object(summary) = value else {
        run.problems
            .push(Problem::error(file, None, "expected a JSON object"));
        return false;
    };
    let number = |key: &str| summary.get(key).and_then(lenient_json::number);
    let step = number("_step")
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(0, |s| s as u64);
    let runtime = number("_runtime")
        .or_else(|| {
            summary
                .get("_wandb")
                .and_then(|w| w.get("runtime"))
                .and_then(lenient_json::number)
        })
        .filter(|r| r.is_finite() && *r >= 0.0);
    run.duration_seconds = runtime;
    if let Some(ts) = number("_timestamp").filter(|t| t.is_finite()) {
        run.ended = iso_from_unix_ms((ts * 1000.0).round() as i64);
        if run.started.is_none() {
            // No wandb-metadata.json: the start is the end less the runtime.
            let start = runtime.map(|r| ts - r);
            run.started = start.and_then(|s| iso_from_unix_ms((s * 1000.0).round() as i64));
        }
    }
    for (key, value) in &summary {
        if key.starts_with('_') {
            continue;
        }
        let Some(v) = lenient_json::number(value) else {
            continue; // strings, tables, histograms: not a scalar metric
        };
        let point = Point {
            step,
            value: v,
            wall_time: runtime,
            epoch: None,
        };
        run.push_point(key, file, point);
    }
    true
}

/// Look for a Python traceback in a captured log (`output.log`); on one, the
/// run failed with the exception line quoted. True when it found one.
pub fn read_output_log(run: &mut Run, text: &str, file: &str) -> bool {
    let mut lines = Lines::from_str(text, file).pieces();
    let mut traceback = LastTraceback::default();
    while let Some(piece) = lines.next_line() {
        traceback.push(&piece);
    }
    traceback.finish(run, file)
}

/// The first line of a Python traceback.
const TRACEBACK_MARKER: &str = "Traceback (most recent call last)";
/// How much of an exception line is kept (300 characters of it are quoted).
const MAX_EXCEPTION_BYTES: usize = 4096;

/// The last Python traceback of a captured log, found as its lines go by, so
/// that a streamed log is read once (the plain log reader shares it). Lines
/// come as [`Lines::pieces`]: the pieces of a line are joined back with `\r`.
#[derive(Default)]
pub struct LastTraceback {
    found: Option<Traceback>,
    /// The pieces of the current line so far are all blank.
    blank_so_far: bool,
}

/// A traceback being read: where it starts, its text so far, its exception line.
struct Traceback {
    line: usize,
    /// Its lines joined by `\n`, up to [`MAX_MESSAGE_CHARS`] characters.
    block: String,
    block_chars: usize,
    /// The first unindented, non-empty line after it, and that line's text so far.
    exception: Option<(usize, String)>,
}

impl LastTraceback {
    /// Take the next piece of the log.
    pub fn push(&mut self, piece: &Line<'_>) {
        if piece.first {
            self.blank_so_far = true;
        }
        let starts = self.blank_so_far && piece.text.trim_start().starts_with(TRACEBACK_MARKER);
        self.blank_so_far &= piece.text.trim().is_empty();
        if starts {
            let mut found = Traceback {
                line: piece.number,
                block: String::new(),
                block_chars: 0,
                exception: None,
            };
            found.append("", piece.text);
            self.found = Some(found);
            return;
        }
        let Some(found) = self.found.as_mut() else {
            return;
        };
        let separator = if piece.first { "\n" } else { "\r" };
        match &mut found.exception {
            // The rest of the exception line is part of it and of the block.
            Some((line, text)) if *line == piece.number && !piece.first => {
                if text.len() < MAX_EXCEPTION_BYTES {
                    text.push('\r');
                    text.push_str(piece.text);
                }
                found.append(separator, piece.text);
            }
            Some(_) => {}
            None => {
                found.append(separator, piece.text);
                // A line that starts with `\r` is not empty and not indented.
                let is_exception = piece.first
                    && match piece.text {
                        "" => !piece.last,
                        text => !text.starts_with([' ', '\t']),
                    };
                if is_exception {
                    let mut text = piece.text.to_string();
                    if text.len() > MAX_EXCEPTION_BYTES {
                        let cut = (0..=MAX_EXCEPTION_BYTES)
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0);
                        text.truncate(cut);
                    }
                    found.exception = Some((piece.number, text));
                }
            }
        }
    }

    /// Record the traceback, if there was one, as an event and the run's
    /// failure with its exception line quoted. True when there was one.
    pub fn finish(self, run: &mut Run, file: &str) -> bool {
        let Some(found) = self.found else {
            return false;
        };
        run.events.push(Event {
            kind: EventKind::Traceback,
            step: None,
            message: found.block,
            file: file.to_string(),
            line: Some(found.line),
        });
        run.status = Status::Failed;
        run.status_reason = match found.exception {
            Some((line, text)) => {
                let quoted: String = text.trim().chars().take(300).collect();
                format!("{quoted} ({file}:{line})")
            }
            None => format!(
                "Python traceback without an exception line ({file}:{})",
                found.line
            ),
        };
        true
    }
}

impl Traceback {
    /// Add `separator` and `text` to the block, as far as it has room.
    fn append(&mut self, separator: &str, text: &str) {
        for c in separator.chars().chain(text.chars()) {
            if self.block_chars == MAX_MESSAGE_CHARS {
                return;
            }
            self.block.push(c);
            self.block_chars += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = r#"{"val/ppl":32.7061235923697,"_timestamp":1.7707930187095954e+09,"train/lr":5.000000173725579e-05,"train/loss":3.0047056674957275,"_step":53560,"_wandb":{"runtime":6270},"update_step":53560,"val/loss":3.487562326192856,"_runtime":6270.051630008}"#;

    fn run() -> Run {
        Run::new("wandb/run-1", "wandb", "wandb")
    }

    #[test]
    fn reads_the_real_summary() {
        let mut r = run();
        assert!(read_summary(&mut r, REAL, "s.json"));
        let names: Vec<&str> = r.metrics.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "train/loss",
                "train/lr",
                "update_step",
                "val/loss",
                "val/ppl"
            ]
        );
        assert!(r
            .metrics
            .iter()
            .all(|s| s.points.len() == 1 && s.points[0].step == 53560));
        assert_eq!(r.duration_seconds, Some(6270.051630008));
        assert_eq!(r.ended.as_deref(), Some("2026-02-11T06:56:58.710Z"));
        assert_eq!(r.started.as_deref(), Some("2026-02-11T05:12:28.658Z"));
        assert!(r.problems.is_empty());
    }

    #[test]
    fn nan_strings_tables_and_damage() {
        let mut r = run();
        read_summary(
            &mut r,
            r#"{"loss": NaN, "table": {"_type": "table"}, "s": "x"}"#,
            "s",
        );
        assert_eq!(r.metrics.len(), 1);
        assert!(r.metrics[0].points[0].value.is_nan());
        assert_eq!(r.metrics[0].points[0].step, 0);
        let mut r = run();
        assert!(!read_summary(&mut r, r#"{"loss": 1.0, "#, "s"));
        assert_eq!(r.problems.len(), 1);
        let mut r = run();
        assert!(!read_summary(&mut r, "[1, 2]", "s"));
    }

    #[test]
    fn traceback_fails_the_run() {
        let log = "epoch 1\nTraceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    main()\nRuntimeError: CUDA out of memory\n";
        let mut r = run();
        assert!(read_output_log(&mut r, log, "files/output.log"));
        assert_eq!(r.status, Status::Failed);
        assert_eq!(
            r.status_reason,
            "RuntimeError: CUDA out of memory (files/output.log:5)"
        );
        assert_eq!(r.events[0].line, Some(2));
        let mut r = run();
        assert!(!read_output_log(&mut r, "all good\n", "o"));
        assert_eq!(r.status, Status::Unknown);
    }

    /// How the traceback was found before it was found line by line.
    fn whole_text_traceback(run: &mut Run, text: &str, file: &str) -> bool {
        let lines: Vec<&str> = text.lines().collect();
        let Some(start) = lines
            .iter()
            .rposition(|l| l.trim_start().starts_with(TRACEBACK_MARKER))
        else {
            return false;
        };
        let exception = lines
            .iter()
            .enumerate()
            .skip(start + 1)
            .find(|(_, l)| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('\t'));
        let end = exception.map_or(lines.len(), |(i, _)| i + 1);
        let block: String = lines[start..end].join("\n");
        run.events.push(Event {
            kind: EventKind::Traceback,
            step: None,
            message: block.chars().take(MAX_MESSAGE_CHARS).collect(),
            file: file.to_string(),
            line: Some(start + 1),
        });
        run.status = Status::Failed;
        run.status_reason = match exception {
            Some((i, line)) => {
                let quoted: String = line.trim().chars().take(300).collect();
                format!("{quoted} ({file}:{})", i + 1)
            }
            None => format!(
                "Python traceback without an exception line ({file}:{})",
                start + 1
            ),
        };
        true
    }

    #[test]
    fn line_by_line_finds_what_the_whole_text_search_found() {
        let words = [
            "Traceback (most recent call last):",
            "  Traceback (most recent call last):",
            "  File \"a.py\", line 1",
            "\tmain()",
            "ValueError: x",
            "During handling of the above exception, another exception occurred:",
            "",
            " ",
            "epoch 1",
            &"é".repeat(1500),
        ];
        let mut state: u64 = 5;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut found = 0;
        for len in 0..400 {
            let ending = ["\n", "\r\n"][next() % 2];
            let text: Vec<&str> = (0..len % 12).map(|_| words[next() % words.len()]).collect();
            let mut text = text.join(ending);
            if next() % 2 == 0 {
                text.push_str(ending);
            }
            let (mut old, mut new) = (run(), run());
            let was = whole_text_traceback(&mut old, &text, "o");
            assert_eq!(read_output_log(&mut new, &text, "o"), was, "{text:?}");
            assert_eq!(old.status_reason, new.status_reason, "{text:?}");
            assert_eq!(old.events.len(), new.events.len(), "{text:?}");
            for (a, b) in old.events.iter().zip(&new.events) {
                assert_eq!((&a.message, a.line), (&b.message, b.line), "{text:?}");
            }
            found += usize::from(was);
        }
        assert!(found > 100, "{found}");
    }

    #[test]
    fn mangled_inputs_never_panic() {
        let log = "Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: x\n";
        for text in [REAL, log] {
            for cut in 0..=text.len() {
                if let Some(t) = text.get(..cut) {
                    read_summary(&mut run(), t, "s");
                    read_output_log(&mut run(), t, "o");
                }
            }
            let mut bytes = text.as_bytes().to_vec();
            for i in 0..bytes.len() {
                bytes[i] ^= 0x5a;
                let t = String::from_utf8_lossy(&bytes);
                read_summary(&mut run(), &t, "s");
                read_output_log(&mut run(), &t, "o");
                bytes[i] ^= 0x5a;
            }
        }
    }
}
