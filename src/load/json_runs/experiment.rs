//! An experiment tracker's log: `experiment_<name>_<YYYYmmdd_HHMMSS>.json`.
//!
//! What becomes of each key:
//! - `config` is the params; `notes` (when not empty) is kept as the param
//!   `notes`; `best_*`, `final_*` and any other top-level value go under the
//!   param `results` (`Infinity`/`NaN` as those strings).
//! - `start_time`, `end_time`, `duration_seconds` are the run's times.
//! - each `metrics_history` entry gives a point per numeric key at step
//!   `iteration` (`gradient_step` when there is no `iteration`), with
//!   `wallclock_time` as wall time; `null` values are no point. A key that
//!   only repeats a config value (`batch_size`, `context_length`) is no series.
//!   An entry with a validation value whose other values are all 0 is an
//!   evaluation entry: its zeros are not train points. Entries with a
//!   validation value are validation events.
//!
//! Status: failed when the log says so (`status`, `error`, `exception`,
//! `traceback`); completed when `end_time` is set; without `end_time`,
//! failed when the history stops short of the planned steps (`max_iters`),
//! completed when it reached them, unknown otherwise.

use crate::load::lenient_json::{kind_of, number, plain, whole_number, Document};
use crate::load::mlflow::clock::date_prefix;
use crate::load::PLANNED_STEPS_KEYS;
use crate::model::{classify, Event, EventKind, Point, Problem, Run, Split, Status};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Top-level keys read for what they are; every other key is a result.
const KNOWN_KEYS: &[&str] = &[
    "config",
    "start_time",
    "end_time",
    "duration_seconds",
    "metrics_history",
    "notes",
    "status",
    "error",
    "exception",
    "traceback",
];
/// Keys of a history entry that place a point rather than being one.
const PLACE_KEYS: &[&str] = &["iteration", "gradient_step", "wallclock_time", "epoch"];

/// Read a parsed experiment log into `run`.
pub(super) fn read_experiment(run: &mut Run, doc: &Document, file: &str) {
    if let Some(err) = &doc.error {
        let message = if err.cut_short {
            format!(
                "the file is cut short, the writer was probably killed mid-save ({}); its complete entries are still read",
                err.message
            )
        } else {
            format!(
                "not valid JSON: {}; the entries before it are still read",
                err.message
            )
        };
        run.problems.push(Problem::error(file, err.line, message));
    }
    name_and_date_from_file_name(run, file);
    read_params(run, doc, file);
    let top = &doc.top;
    let text = |key: &str| top.get(key).and_then(Value::as_str).map(str::to_string);
    run.started = text("start_time");
    run.ended = text("end_time").filter(|t| !t.trim().is_empty());
    run.duration_seconds = top
        .get("duration_seconds")
        .and_then(number)
        .filter(|d| d.is_finite() && *d >= 0.0);
    if run.date.is_none() {
        run.date = run.started.as_deref().and_then(date_prefix);
    }
    let config = top.get("config").and_then(Value::as_object);
    let last = match top.get("metrics_history") {
        Some(Value::Array(history)) => {
            let lines = doc.element_lines.get("metrics_history");
            read_history(
                run,
                history,
                lines.map_or(&[][..], Vec::as_slice),
                config,
                file,
            )
        }
        None | Some(Value::Null) => None,
        Some(other) => {
            let line = doc.member_lines.get("metrics_history").copied();
            let message = format!(
                "\"metrics_history\" is {}, not a list; no metrics read",
                kind_of(other)
            );
            run.problems.push(Problem::warning(file, line, message));
            None
        }
    };
    decide_status(run, doc, last, file);
}

/// `experiment_<name>_<YYYYmmdd_HHMMSS>` gives the name and the date.
fn name_and_date_from_file_name(run: &mut Run, file: &str) {
    let stem = file.rsplit('/').next().unwrap_or(file);
    let stem = stem.strip_suffix(".json").unwrap_or(stem);
    let mut name = stem.strip_prefix("experiment_").unwrap_or(stem);
    if let Some((rest, date)) = split_timestamp(name) {
        run.date = Some(date);
        name = rest;
    }
    if !name.is_empty() {
        run.name = name.to_string();
    }
}

/// `name_20260201_150000` -> (`name`, `2026-02-01`).
fn split_timestamp(stem: &str) -> Option<(&str, String)> {
    let b = stem.as_bytes();
    let n = b.len();
    let stamp = n >= 16
        && b[n - 16] == b'_'
        && b[n - 7] == b'_'
        && b[n - 15..n - 7].iter().all(u8::is_ascii_digit)
        && b[n - 6..].iter().all(u8::is_ascii_digit);
    stamp.then(|| {
        let d = &stem[n - 15..n - 7];
        (
            &stem[..n - 16],
            format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]),
        )
    })
}

/// `config` as params, plus `notes` and the `results` summary.
fn read_params(run: &mut Run, doc: &Document, file: &str) {
    let mut params = Map::new();
    match doc.top.get("config") {
        Some(Value::Object(config)) => params = config.clone(),
        None | Some(Value::Null) => {}
        Some(other) => {
            let line = doc.member_lines.get("config").copied();
            let message = format!(
                "\"config\" is {}, not an object; kept under the param \"config\"",
                kind_of(other)
            );
            run.problems.push(Problem::warning(file, line, message));
            params.insert("config".to_string(), other.clone());
        }
    }
    if let Some(notes) = doc
        .top
        .get("notes")
        .filter(|n| n.as_str() != Some("") && !n.is_null())
    {
        params.insert("notes".to_string(), notes.clone());
    }
    let results: Map<String, Value> = doc
        .top
        .iter()
        .filter(|(k, v)| !KNOWN_KEYS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !results.is_empty() {
        params.insert("results".to_string(), Value::Object(results));
    }
    run.params = plain(Value::Object(params));
}

/// Where the history ended: the last entry's step, and how many steps were done by then.
#[derive(Debug, Clone, Copy)]
struct LastEntry {
    step: u64,
    done: u64,
}

/// Turn `metrics_history` into series and validation events.
fn read_history(
    run: &mut Run,
    history: &[Value],
    lines: &[usize],
    config: Option<&Map<String, Value>>,
    file: &str,
) -> Option<LastEntry> {
    let is_config_copy =
        |key: &str, v: f64| config.and_then(|c| c.get(key)).and_then(number) == Some(v);
    let mut staged: Vec<(String, Vec<Point>, bool)> = Vec::new(); // name, points, all a config copy
    let mut last = None;
    let mut splits: HashMap<String, bool> = HashMap::new();
    for (index, entry) in history.iter().enumerate() {
        let line = lines.get(index).copied();
        let Value::Object(entry) = entry else {
            let message = format!(
                "metrics_history entry {} is {}, not an object; skipped",
                index + 1,
                kind_of(entry)
            );
            run.problems.push(Problem::warning(file, line, message));
            continue;
        };
        let Some((step, done)) = entry_step(entry) else {
            let message = format!("metrics_history entry {} has no whole-number \"iteration\" or \"gradient_step\"; skipped", index + 1);
            run.problems.push(Problem::warning(file, line, message));
            continue;
        };
        last = Some(LastEntry { step, done });
        let place = |key: &str| entry.get(key).and_then(number).filter(|v| v.is_finite());
        let (wall_time, epoch) = (place("wallclock_time"), place("epoch"));
        // (key, value, is a validation value); a key's split is recognised once per file.
        let values: Vec<(&String, f64, bool)> = entry
            .iter()
            .filter(|(k, _)| !PLACE_KEYS.contains(&k.as_str()))
            .filter_map(|(k, v)| {
                let n = number(v)?;
                let is_val = match splits.get(k.as_str()) {
                    Some(&is_val) => is_val,
                    None => *splits
                        .entry(k.clone())
                        .or_insert(classify(k).1 == Split::Val),
                };
                Some((k, n, is_val))
            })
            .collect();
        let val: Vec<(&String, f64)> = values
            .iter()
            .filter(|v| v.2)
            .map(|&(k, v, _)| (k, v))
            .collect();
        let is_eval = !val.is_empty()
            && values
                .iter()
                .all(|&(k, v, is_val)| is_val || v == 0.0 || is_config_copy(k, v));
        for &(key, value, is_val) in &values {
            if is_eval && !is_val && value == 0.0 {
                continue;
            }
            let point = Point {
                step,
                value,
                wall_time,
                epoch,
            };
            let copy = is_config_copy(key, value);
            match staged.iter_mut().find(|(name, _, _)| name == key) {
                Some((_, points, all_copies)) => {
                    points.push(point);
                    *all_copies &= copy;
                }
                None => staged.push((key.clone(), vec![point], copy)),
            }
        }
        if !val.is_empty() {
            let parts: Vec<String> = val
                .iter()
                .map(|(k, v)| format!("{k} {}", short(*v)))
                .collect();
            run.events.push(Event {
                kind: EventKind::Validation,
                step: Some(step),
                message: format!("evaluation at step {step}: {}", parts.join(", ")),
                file: file.to_string(),
                line,
            });
        }
    }
    for (name, points, all_copies) in staged {
        if !all_copies {
            for point in points {
                run.push_point(&name, file, point);
            }
        }
    }
    last
}

/// The entry's step and the steps done by then: `gradient_step` when the log
/// has it (the count of optimizer steps, as every other reader's step is), else
/// the 0-based `iteration`.
fn entry_step(entry: &Map<String, Value>) -> Option<(u64, u64)> {
    let whole = |key: &str| entry.get(key).and_then(whole_number);
    match (whole("iteration"), whole("gradient_step")) {
        (Some(_), Some(done)) => Some((done, done)),
        (Some(iteration), None) => Some((iteration, iteration + 1)),
        (None, Some(done)) => Some((done, done)),
        (None, None) => None,
    }
}

/// A value for a message: short, non-finite values by name.
fn short(v: f64) -> String {
    if v.is_finite() {
        format!("{}", (v * 1e4).round() / 1e4)
    } else {
        format!("{v}")
    }
}

/// Failure marker, then `end_time`, then the steps against the plan.
fn decide_status(run: &mut Run, doc: &Document, last: Option<LastEntry>, file: &str) {
    let top = &doc.top;
    if let Some((key, text)) = failure_marker(top) {
        let first_line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&text)
            .trim();
        run.status = Status::Failed;
        run.status_reason = format!("\"{key}\": {first_line}");
        run.events.push(Event {
            kind: EventKind::Error,
            step: last.map(|l| l.step),
            message: text.clone(),
            file: file.to_string(),
            line: doc.member_lines.get(key).copied(),
        });
        return;
    }
    if let Some(ended) = &run.ended {
        run.status = Status::Completed;
        run.status_reason = format!("end_time is set ({ended})");
        run.events.push(Event {
            kind: EventKind::Finish,
            step: last.map(|l| l.step),
            message: format!("training finished at {ended}"),
            file: file.to_string(),
            line: doc.member_lines.get("end_time").copied(),
        });
        return;
    }
    let planned = planned_steps(&run.params);
    match (planned, last) {
        (Some(planned), Some(last)) if last.done < planned => {
            run.status = Status::Failed;
            run.status_reason = format!(
                "no end_time, and the history stops at step {} ({} of {planned} planned steps)",
                last.step, last.done
            );
        }
        (Some(planned), Some(_)) => {
            run.status = Status::Completed;
            run.status_reason =
                format!("reached its planned {planned} steps (no end_time recorded)");
        }
        _ if doc.error.as_ref().is_some_and(|e| e.cut_short) => {
            run.status = Status::Failed;
            run.status_reason = "no end_time, and the file is cut short".to_string();
        }
        _ => run.status_reason = "no end_time recorded".to_string(),
    }
}

/// A top-level key saying the run failed, and its text.
fn failure_marker(top: &Map<String, Value>) -> Option<(&'static str, String)> {
    if let Some(status) = top.get("status").and_then(Value::as_str) {
        let lower = status.to_ascii_lowercase();
        if ["fail", "error", "crash", "kill", "abort", "oom"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return Some(("status", status.to_string()));
        }
    }
    ["error", "exception", "traceback"]
        .into_iter()
        .find_map(|key| {
            let text = match top.get(key)? {
                Value::String(s) => s.clone(),
                Value::Array(lines) => lines
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(""),
                _ => return None,
            };
            (!text.trim().is_empty()).then_some((key, text))
        })
}

/// Planned steps from the params (`max_iters`, `max_steps`, ...), when known.
fn planned_steps(params: &Value) -> Option<u64> {
    let config = params.as_object()?;
    let nested = config.values().filter_map(Value::as_object);
    std::iter::once(config).chain(nested).find_map(|map| {
        PLANNED_STEPS_KEYS
            .iter()
            .find_map(|key| map.get(*key).and_then(whole_number))
            .filter(|&p| p > 0)
    })
}
