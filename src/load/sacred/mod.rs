//! Sacred's `FileStorageObserver`: `runs/<id>/` with `config.json`,
//! `run.json`, `metrics.json` and `cout.txt`, one folder per run.
//!
//! What becomes of each file:
//! - `config.json`: the params, as written (`NaN` tokens accepted).
//! - `run.json` ([`record`]): status, start and stop times, the failure
//!   trace (a Traceback event; its last line is the failed run's reason), and
//!   the host (`host.cpu`, `host.gpus`, ...; captured `ENV` left out) and a
//!   non-null `result` as params. The run is named `<experiment name> #<id>`.
//! - `metrics.json` ([`metrics`]): a series per metric; a failed run keeps
//!   every point it logged.
//! - `cout.txt`, the captured output: never params; each error line
//!   (`ERROR - ...`, `SomethingError: ...`, out of memory) becomes an Error
//!   event, up to [`MAX_COUT_EVENTS`], except the trace's own last line.
//!
//! `info.json` (free-form `_run.info`) and the `_sources/` and `_resources/`
//! folders beside the runs are not read.

mod metrics;
mod record;

use crate::discover::FileEntry;
use crate::load::lenient_json;
use crate::load::{FolderView, SourceText};
use crate::model::{Event, EventKind, Problem, Run};
use serde_json::Value;

/// The files of a run folder, in reading order (`run.json` is required).
const RUN_FILES: [&str; 4] = ["config.json", "run.json", "metrics.json", "cout.txt"];
/// Error events taken from `cout.txt` at most.
const MAX_COUT_EVENTS: usize = 20;

/// Claim a folder whose `run.json` sniffs as Sacred's.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let is_sacred = view
        .file("run.json")
        .is_some_and(|f| looks_like_sacred_run(&view.head(f)));
    if !is_sacred {
        return Vec::new();
    }
    RUN_FILES
        .iter()
        .filter_map(|n| view.file(n))
        .cloned()
        .collect()
}

/// A JSON object with Sacred's `experiment` key and one of its run keys
/// (keys are sorted, so both sit near the start).
pub fn looks_like_sacred_run(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head).trim_start();
    let key = |k: &str| head.contains(&format!("\"{k}\":"));
    head.starts_with('{')
        && key("experiment")
        && (key("command") || key("heartbeat") || key("start_time"))
}

/// Read a claimed run folder into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let by_name = |name: &str| texts.iter().find(|t| t.name == name);
    if let Some(config) = by_name("config.json") {
        read_config(&mut run, config.text(), &config.rel);
    }
    let record = match by_name("run.json") {
        Some(source) => record::read_record(&mut run, source.text(), &source.rel),
        None => {
            run.status_reason = "run.json could not be read".to_string();
            record::Record::default()
        }
    };
    if let Some(experiment) = &record.experiment {
        run.name = format!("{experiment} #{}", run.name);
    }
    if let Some(source) = by_name("metrics.json") {
        metrics::read_metrics(&mut run, source.text(), &source.rel, record.start_seconds);
    }
    if let Some(source) = by_name("cout.txt") {
        read_cout(
            &mut run,
            source.text(),
            &source.rel,
            record.error_line.as_deref(),
        );
    }
    vec![run]
}

/// `config.json` as the params object.
fn read_config(run: &mut Run, text: &str, file: &str) {
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return;
    }
    match lenient_json::parse(text).map(lenient_json::plain) {
        Ok(Value::Object(config)) => run.params = Value::Object(config),
        Ok(other) => {
            let message = format!(
                "the top level is {}, not an object; it is kept under \"value\"",
                lenient_json::kind_of(&other)
            );
            run.problems.push(Problem::warning(file, None, message));
            run.params = serde_json::json!({ "value": other });
        }
        Err(err) => {
            let message = format!("not valid JSON: {}", err.message);
            run.problems.push(Problem::error(file, err.line, message));
        }
    }
}

/// An Error event per error line of the captured output.
fn read_cout(run: &mut Run, text: &str, file: &str, trace_line: Option<&str>) {
    let mut found = 0;
    for (index, raw) in text.split('\n').enumerate() {
        // A progress bar redraws with bare CR; the last frame is what was left on screen.
        let line = raw
            .rsplit('\r')
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        if !is_error_line(line) || Some(line) == trace_line {
            continue;
        }
        found += 1;
        if found > MAX_COUT_EVENTS {
            continue;
        }
        run.events.push(Event {
            kind: EventKind::Error,
            step: None,
            message: line.chars().take(500).collect(),
            file: file.to_string(),
            line: Some(index + 1),
        });
    }
    if found > MAX_COUT_EVENTS {
        let message =
            format!("{found} error lines; only the first {MAX_COUT_EVENTS} are shown as events");
        run.problems.push(Problem::new(
            crate::model::Severity::Info,
            file,
            None,
            message,
        ));
    }
}

/// `ERROR - exp - Failed after 0:00:57!`, `RuntimeError: ...`, `CUDA out of memory`.
fn is_error_line(line: &str) -> bool {
    if line.starts_with("ERROR") || line.to_ascii_lowercase().contains("out of memory") {
        return true;
    }
    // A Python exception line: a dotted identifier ending in Error or Exception, then a colon.
    let Some((head, _)) = line.split_once(':') else {
        return false;
    };
    !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (head.ends_with("Error") || head.ends_with("Exception"))
}

#[cfg(test)]
mod tests;
