//! Plain text training logs (`plain_log`), read conservatively.
//!
//! A captured stdout is not a format, so only line shapes that are sure to be
//! metrics are read (see `lines`): nanoGPT, modded-nanogpt, `Epoch N/M - ...`,
//! `key=value | key=value` and torchtune's tqdm descriptions inside `\r`
//! frames, each possibly behind a Python logging prefix. A file is claimed only
//! when it has a log-ish name (`.log`, `.txt`, `.out`, `.err`) and its head and
//! tail (8 KB each) hold at least three such lines, one of them a metric line:
//! a README is not a run, and a log whose training script comes first (the
//! modded-nanogpt records) still shows its metrics at the end. When unsure,
//! nothing is claimed and the file stays a plain file.
//!
//! Each log file of a folder is one run (path = the file) unless the folder
//! has just one (path = the folder). A Python traceback fails the run; planned
//! steps (`step:N/M`) become the `train_steps` param so the status can be
//! inferred from them. A log is read as [`Lines`] pieces (split at `\r`), the
//! same way from memory or streamed from a large file; the traceback is found
//! on the way ([`LastTraceback`]), so only a log that starts with its script's
//! source is read twice.

mod lines;

use crate::discover::FileEntry;
use crate::load::lines::Lines;
use crate::load::wandb::summary::LastTraceback;
use crate::load::{FolderView, SourceText};
use crate::model::{Event, EventKind, Point, Run, Status};
use lines::{parse_line, strip_logging_prefix};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

/// How much of a file's end the claim sniffs, besides the head.
const TAIL_BYTES: u64 = 8 * 1024;
/// Event messages are clipped to this many characters.
const MAX_MESSAGE_CHARS: usize = 500;
/// Files whose folder belongs to another format that comes later or reads them itself.
const OTHER_FORMATS_FILES: &[&str] = &[
    "training.log",
    "validation.txt",
    "wandb-summary.json",
    "wandb-metadata.json",
];

/// Claim the log-ish files of a folder that sniff as plain training logs.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let folder = view.folder;
    if folder
        .files
        .iter()
        .any(|f| OTHER_FORMATS_FILES.contains(&f.name.as_str()))
    {
        return Vec::new();
    }
    folder
        .files
        .iter()
        .filter(|f| has_log_name(&f.name))
        .filter(|f| looks_like_plain_log(&view.head(f), &read_tail(f)))
        .cloned()
        .collect()
}

/// `*.log`, `*.txt`, `*.out`, `*.err`.
fn has_log_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".log", ".txt", ".out", ".err"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// The last few KB of a file beyond its head (empty when small or unreadable).
fn read_tail(file: &FileEntry) -> String {
    if file.size <= TAIL_BYTES {
        return String::new();
    }
    let mut buf = Vec::new();
    let read = std::fs::File::open(&file.real).and_then(|mut f| {
        f.seek(SeekFrom::Start(file.size - TAIL_BYTES))?;
        f.take(TAIL_BYTES).read_to_end(&mut buf)
    });
    if read.is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// At least three known lines (metric lines or Python logging lines) in the
/// head and tail, one of them a metric line.
pub fn looks_like_plain_log(head: &str, tail: &str) -> bool {
    let (mut metric, mut logging) = (0, 0);
    for text in [head, tail] {
        for frame in text.split(['\n', '\r']) {
            if parse_line(frame).is_some() {
                metric += 1;
            } else if strip_logging_prefix(frame).is_some() {
                logging += 1;
            }
        }
    }
    metric >= 1 && metric + logging >= 3
}

/// Read a claimed folder's logs: one run per file, or the folder's run when it has one.
pub fn read_run(run: Run, texts: &[SourceText]) -> Vec<Run> {
    if texts.len() <= 1 {
        let mut run = run;
        if let Some(source) = texts.first() {
            read_plain_lines(&mut run, || source.lines(), &source.rel);
        }
        return vec![run];
    }
    texts
        .iter()
        .map(|source| {
            let mut one = run.clone();
            one.path = source.rel.clone();
            one.group = run.path.clone();
            one.name = source
                .name
                .rsplit_once('.')
                .map_or(source.name.as_str(), |(stem, _)| stem)
                .to_string();
            one.sources = vec![source.rel.clone()];
            one.problems.retain(|p| p.file == source.rel);
            read_plain_lines(&mut one, || source.lines(), &source.rel);
            one
        })
        .collect()
}

/// Every claimed file is a log, read line by line (and streamed when large).
pub fn by_lines(_dir: &str, _rel: &str) -> bool {
    true
}

/// Read one log's text into `run`: points, logging events, the ending.
pub fn read_plain_log(run: &mut Run, text: &str, file: &str) {
    read_plain_lines(run, || Lines::from_str(text, file), file);
}

/// Read one log into `run` from its lines, which `open` gives from the start
/// each time: a log that begins with its training script's source is read
/// twice, first to find where that source ends.
fn read_plain_lines<'s>(run: &mut Run, open: impl Fn() -> Lines<'s>, file: &str) {
    let source_end = end_of_leading_source(open());
    let mut last_step: HashMap<String, u64> = HashMap::new();
    let mut counter = 0u64;
    let mut planned: Map<String, Value> = Map::new();
    let mut traceback = LastTraceback::default();
    let mut frames = open().pieces();
    while let Some(frame) = frames.next_line() {
        traceback.push(&frame);
        if frame.number <= source_end {
            continue;
        }
        if let Some(parsed) = parse_line(frame.text) {
            let step = parsed.step.unwrap_or(counter);
            counter = step + 1;
            if let Some((key, n)) = parsed.planned {
                planned.entry(key).or_insert(Value::from(n));
            }
            for (name, value) in parsed.values {
                // tqdm redraws the same step several times: keep its first value.
                if last_step.get(&name) == Some(&step) {
                    continue;
                }
                last_step.insert(name.clone(), step);
                let point = Point {
                    step,
                    value,
                    wall_time: None,
                    epoch: parsed.epoch,
                };
                run.push_point(&name, file, point);
            }
        } else if let Some((level, message)) = strip_logging_prefix(frame.text) {
            push_logging_event(run, level, message, file, frame.number);
        }
    }
    run.problems.extend(frames.into_problems());
    if let Value::Object(params) = &mut run.params {
        for (k, v) in planned {
            params.entry(k).or_insert(v);
        }
    }
    if !traceback.finish(run, file) && run.status == Status::Unknown {
        decide_epoch_status(run);
    }
}

/// Warnings, errors and checkpoint saves from Python logging lines.
fn push_logging_event(run: &mut Run, level: &str, message: &str, file: &str, line: usize) {
    let lower = message.to_ascii_lowercase();
    let kind = match level {
        "WARNING" | "WARN" => EventKind::Warning,
        "ERROR" | "CRITICAL" => EventKind::Error,
        _ if lower.contains("checkpoint") && lower.contains("saved") => EventKind::Checkpoint,
        _ => return,
    };
    run.events.push(Event {
        kind,
        step: None,
        message: message.trim().chars().take(MAX_MESSAGE_CHARS).collect(),
        file: file.to_string(),
        line: Some(line),
    });
}

/// `Epoch N/M` logs: reaching epoch M completes the run. Other logs keep an
/// unknown status for the planned-steps check, with a reason of their own.
fn decide_epoch_status(run: &mut Run) {
    let planned = run.params.get("epochs").and_then(Value::as_u64);
    let last_epoch = run
        .metrics
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.epoch))
        .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))));
    if let (Some(planned), Some(last)) = (planned, last_epoch) {
        if planned > 0 && last >= planned as f64 {
            run.status = Status::Completed;
            run.status_reason = format!("reached its planned {planned} epochs");
            return;
        }
    }
    run.status_reason = "plain text log: no traceback, and nothing says it finished".into();
}

/// Lines up to this number are the training script's own source, which some
/// logs (modded-nanogpt records) start with: its f-strings look like log
/// lines. Only a log whose first line is code is read to its end for this.
fn end_of_leading_source(mut lines: Lines<'_>) -> usize {
    let is_code = |l: &str| {
        l.starts_with("import ")
            || (l.starts_with("from ") && l.contains(" import "))
            || l.starts_with("def ")
            || l.starts_with("class ")
            || l.starts_with("@")
            || l.starts_with("#!")
    };
    let mut last_code = loop {
        match lines.next_line() {
            None => return 0,
            Some(l) if l.text.trim().is_empty() => continue,
            Some(l) if is_code(l.text) => break l.number,
            Some(l) if l.text.starts_with('#') || l.text.starts_with("\"\"\"") => break 0,
            Some(_) => return 0,
        }
    };
    while let Some(l) = lines.next_line() {
        if is_code(l.text) {
            last_code = l.number;
        }
    }
    last_code
}

#[cfg(test)]
mod tests;
