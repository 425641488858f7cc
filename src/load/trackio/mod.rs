//! Trackio: the experiments dataset and the local project database.
//!
//! Trackio (Hugging Face's local-first tracker) leaves runs in two shapes,
//! each holding many runs in one file:
//!
//! - the experiments dataset ([`dataset`]), `Run::format` `trackio`: one row
//!   per experiment (`experiment_id, name, description, created_at, status,
//!   metrics, parameters, artifacts, logs, last_updated`) whose `metrics`,
//!   `parameters`, `artifacts` and `logs` are JSON documents stored as
//!   strings. Stored as JSON lines, a JSON array, or parquet
//!   (`data/train-*.parquet`, decoded in [`parquet_rows`]).
//! - the project database ([`database`]), `Run::format` `trackio_db`:
//!   `<project>.db` (SQLite) with `metrics(run_id, timestamp, run_name, step,
//!   metrics)`, `configs(run_id, run_name, config, created_at)` and, in newer
//!   versions, `system_metrics`. Older databases have no `run_id`: the run
//!   name is the identity. The database is opened from its bytes in memory,
//!   so nothing is ever written beside the input.
//!
//! Each run's path is `<file>#<name>`; a dataset's runs are grouped under the
//! dataset folder (`data/` left out), a database's under `<folder>/<project>`.
//! Both shapes log entries of `{step, timestamp, metrics}`, turned into points
//! by [`add_entries`].

mod database;
mod dataset;
mod parquet_rows;
#[cfg(test)]
mod tests;

use crate::discover::FileEntry;
use crate::load::lenient_json::number;
use crate::load::mlflow::clock::unix_seconds_from_iso;
use crate::load::{FolderView, SourceText};
use crate::model::{Point, Problem, Run};
use serde_json::{Map, Value};

/// `Run::format` of a run from the experiments dataset.
const DATASET_FORMAT: &str = "trackio";
/// `Run::format` of a run from a project database.
const DATABASE_FORMAT: &str = "trackio_db";
/// What an SQLite database file starts with.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// What a parquet file starts (and ends) with.
const PARQUET_MAGIC: &[u8] = b"PAR1";
/// Suffix of SQLite's write-ahead log beside a database.
const WAL_SUFFIX: &str = "-wal";

/// Claim the dataset files (`.jsonl`, `.json`, `.parquet`) and project
/// databases (`.db`) of a folder that show Trackio's columns or tables, with
/// the write-ahead log beside a database (only to say it is there).
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let mut files = Vec::new();
    for file in &view.folder.files {
        let lower = file.name.to_ascii_lowercase();
        let ours = if lower.ends_with(".jsonl") || lower.ends_with(".json") {
            dataset::looks_like_rows(&view.head(file))
        } else if lower.ends_with(".parquet") {
            view.head(file).as_bytes().starts_with(PARQUET_MAGIC)
                && dataset::names_its_columns(&view.tail(file))
        } else if lower.ends_with(".db") || lower.ends_with(".sqlite") {
            database::looks_like_database(view.head(file).as_bytes())
        } else {
            false
        };
        if ours {
            files.push(file.clone());
            let wal = format!("{}{WAL_SUFFIX}", file.name);
            if let Some(log) = view.file(&wal).filter(|f| f.size > 0) {
                files.push(log.clone());
            }
        }
    }
    files
}

/// Read every claimed file into its runs, in claim order.
pub fn read_run(base: Run, sources: &[SourceText]) -> Vec<Run> {
    let mut runs = Vec::new();
    for source in sources {
        if source.name.ends_with(WAL_SUFFIX) {
            continue;
        }
        let has_wal = sources
            .iter()
            .any(|s| s.rel == format!("{}{WAL_SUFFIX}", source.rel));
        let mut from_file = if source.bytes().starts_with(SQLITE_MAGIC) {
            database::read_database(&base, source, has_wal)
        } else if source.bytes().starts_with(PARQUET_MAGIC) {
            let (rows, stopped) = parquet_rows::rows_from_parquet(source.bytes());
            let problems = stopped
                .map(|why| Problem::error(&source.rel, None, why))
                .into_iter()
                .collect();
            dataset::runs_from_rows(&base, rows, problems, &source.rel)
        } else {
            let (rows, problems) = dataset::rows_from_text(source.text(), &source.rel);
            dataset::runs_from_rows(&base, rows, problems, &source.rel)
        };
        // IO problems (unreadable, not UTF-8) concern every run of the file.
        let io: Vec<&Problem> = base
            .problems
            .iter()
            .filter(|p| p.file == source.rel)
            .collect();
        for run in &mut from_file {
            run.problems.splice(0..0, io.iter().map(|p| (*p).clone()));
        }
        runs.extend(from_file);
    }
    let unread: Vec<&str> = base
        .sources
        .iter()
        .filter(|rel| !sources.iter().any(|s| &s.rel == *rel))
        .map(String::as_str)
        .collect();
    for rel in unread {
        let mut run = file_run(&base, rel, DATASET_FORMAT);
        run.problems
            .extend(base.problems.iter().filter(|p| p.file == rel).cloned());
        runs.push(run);
    }
    runs
}

/// A run standing for a whole file (when the file gave no runs, or could not be read).
fn file_run(base: &Run, rel: &str, format: &str) -> Run {
    let mut run = Run::new(rel, &base.group, format);
    run.sources = vec![rel.to_string()];
    run
}

/// One run of a multi-run file: `<file>#<name>`, read from `rel`.
fn entry_run(rel: &str, name: &str, group: &str, format: &str) -> Run {
    let mut run = Run::new(&format!("{rel}#{name}"), group, format);
    run.name = name.to_string();
    run.sources = vec![rel.to_string()];
    run
}

/// Two runs of a file with one name (a re-run logged again under its old
/// name) get `#2`, `#3`, ... so their paths and pages stay apart.
fn disambiguate_names(runs: &mut [Run], file: &str) {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for run in runs.iter_mut() {
        let count = seen.entry(run.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            run.path = format!("{file}#{}#{count}", run.name);
        }
    }
}

/// One logged entry: its step (when written), its time (seconds since the
/// Unix epoch, when parseable) and its values.
pub(super) struct Entry {
    pub step: Option<u64>,
    pub time: Option<f64>,
    pub values: Map<String, Value>,
}

/// Keys of an entry's values that place a point rather than being one.
const PLACE_KEYS: &[&str] = &["epoch", "step", "_step", "timestamp", "_timestamp"];

/// Turn entries into points: at the entry's step (its position when it has
/// none), with wall time relative to `start` (else the first entry's time)
/// and the entry's `epoch`. Values that are no numbers (images, tables, text)
/// are counted in one note rather than dropped silently. Returns the step of
/// each entry, for placing system metrics.
fn add_entries(
    run: &mut Run,
    entries: &[Entry],
    start: Option<f64>,
    file: &str,
) -> Vec<(f64, u64)> {
    let start = start.or_else(|| entries.iter().find_map(|e| e.time));
    let mut skipped = 0usize;
    let mut placed = Vec::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        let step = entry.step.unwrap_or(position as u64);
        let wall_time = entry.time.zip(start).map(|(t, s)| t - s);
        if let Some(time) = entry.time {
            placed.push((time, step));
        }
        let epoch = entry.values.get("epoch").and_then(number);
        for (name, value) in &entry.values {
            if PLACE_KEYS.contains(&name.as_str()) {
                continue;
            }
            match number(value) {
                Some(v) => run.push_point(
                    name,
                    file,
                    Point {
                        step,
                        value: v,
                        wall_time,
                        epoch,
                    },
                ),
                None if value.is_null() => {}
                None => skipped += 1,
            }
        }
    }
    if skipped > 0 {
        let message = format!(
            "{skipped} logged values are not numbers (media, tables or text); they are not charted"
        );
        run.problems.push(Problem::info(file, None, message));
    }
    placed
}

/// Seconds since the Unix epoch of an ISO 8601 time in a JSON value.
fn time_of(value: Option<&Value>) -> Option<f64> {
    value
        .and_then(Value::as_str)
        .and_then(unix_seconds_from_iso)
}

/// A JSON document that Trackio stores as a string (or, in some exports, as
/// the value itself).
fn embedded(value: &Value) -> Result<Value, String> {
    match value {
        Value::String(text) => crate::load::lenient_json::parse(text)
            .map(crate::load::lenient_json::plain)
            .map_err(|e| e.message),
        other => Ok(other.clone()),
    }
}
