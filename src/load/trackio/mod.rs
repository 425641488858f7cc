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
use crate::load::{FolderView, RunSink, SourceText};
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

/// Which claimed files are read line by line when large: the datasets of
/// JSON lines (a row at a time; a JSON array is read whole).
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    rel.to_ascii_lowercase().ends_with(".jsonl")
}

/// Read every claimed file into its runs, in claim order (see [`read_each`]).
pub fn read_run(base: Run, sources: &[SourceText]) -> Vec<Run> {
    RunSink::collect(|sink| read_each(base, sources, sink))
}

/// Read the claimed files one at a time, handing over each run as it is made.
pub fn read_each(base: Run, sources: &[SourceText], sink: &mut RunSink) {
    let mut unread = Vec::new();
    for source in sources {
        if source.name.ends_with(WAL_SUFFIX) {
            continue;
        }
        let has_wal = sources
            .iter()
            .any(|s| s.rel == format!("{}{WAL_SUFFIX}", source.rel));
        // IO problems (unreadable, not UTF-8) concern every run of the file.
        let mut io: Vec<Problem> = base
            .problems
            .iter()
            .filter(|p| p.file == source.rel)
            .cloned()
            .collect();
        let streamed = source.to_stream().filter(|s| !starts_an_array(s));
        if let Some(streamed) = streamed {
            // A large dataset of JSON lines: a row at a time from disk.
            let lines = streamed.lines().longest(dataset::MAX_ROW_BYTES);
            let mut out = FileRuns { sink, io };
            dataset::read_rows(&base, &source.rel, &mut out, |each| {
                dataset::each_line_row(lines, &source.rel, each)
            });
            continue;
        }
        let loaded = match source.load() {
            Ok((loaded, warning)) => {
                io.extend(warning);
                loaded
            }
            Err(problem) => {
                let mut run = file_run(&base, &source.rel, DATASET_FORMAT);
                run.problems.extend(io);
                run.problems.push(problem);
                unread.push(run);
                continue;
            }
        };
        let mut out = FileRuns { sink, io };
        if loaded.bytes().starts_with(SQLITE_MAGIC) {
            let opened = database::open(loaded.bytes());
            drop(loaded);
            database::read_database(&base, &source.rel, &source.name, opened, has_wal, &mut out);
        } else if loaded.bytes().starts_with(PARQUET_MAGIC) {
            let (rows, stopped) = parquet_rows::rows_from_parquet(loaded.bytes());
            drop(loaded);
            dataset::read_rows(&base, &source.rel, &mut out, |each| {
                rows.into_iter().for_each(each);
                stopped
                    .map(|why| Problem::error(&source.rel, None, why))
                    .into_iter()
                    .collect()
            });
        } else {
            dataset::read_rows(&base, &source.rel, &mut out, |each| {
                dataset::each_row(loaded.text(), &source.rel, each)
            });
        }
    }
    let read: Vec<&str> = sources.iter().map(|s| s.rel.as_str()).collect();
    for rel in base
        .sources
        .iter()
        .filter(|rel| !read.contains(&rel.as_str()))
    {
        let mut run = file_run(&base, rel, DATASET_FORMAT);
        run.problems
            .extend(base.problems.iter().filter(|p| &p.file == rel).cloned());
        unread.push(run);
    }
    for run in unread {
        sink.push(run);
    }
}

/// True when a streamed file opens a JSON array (which is read whole).
fn starts_an_array(source: &SourceText) -> bool {
    let mut head = Vec::new();
    use std::io::Read;
    let read = source.reader().map(|r| r.take(8192).read_to_end(&mut head));
    if !matches!(read, Ok(Ok(_))) {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    let head = head.strip_prefix('\u{feff}').unwrap_or(&head);
    head.trim_start().starts_with('[')
}

/// One file's runs on their way to the sink: each gets the problems of
/// reading the file first.
struct FileRuns<'s, 'a> {
    sink: &'s mut RunSink<'a>,
    io: Vec<Problem>,
}

impl FileRuns<'_, '_> {
    fn reserve(&mut self) -> usize {
        self.sink.reserve()
    }

    fn put(&mut self, place: usize, mut run: Run) {
        run.problems.splice(0..0, self.io.iter().cloned());
        self.sink.put(place, run);
    }

    fn push(&mut self, run: Run) {
        let place = self.reserve();
        self.put(place, run);
    }
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
#[derive(Default)]
struct Names(std::collections::HashMap<String, usize>);

impl Names {
    /// Give `run`, the next of `file`'s runs, its own path.
    fn place(&mut self, run: &mut Run, file: &str) {
        let count = self.0.entry(run.name.clone()).or_insert(0);
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

/// Turn entries into points (see [`Adder`]); returns the time and step of
/// each entry that has a time, for placing system metrics.
fn add_entries(
    run: &mut Run,
    entries: &[Entry],
    start: Option<f64>,
    file: &str,
) -> Vec<(f64, u64)> {
    let mut adder = Adder::new(start);
    for entry in entries {
        adder.add(run, entry, file);
    }
    adder.finish(run, file)
}

/// Turns entries into points one at a time: at the entry's step (its
/// position when it has none), with wall time relative to `start` (else the
/// first entry's time) and the entry's `epoch`. Values that are no numbers
/// (images, tables, text) are counted in one note rather than dropped silently.
pub(super) struct Adder {
    start: Option<f64>,
    position: usize,
    skipped: usize,
    placed: Vec<(f64, u64)>,
}

impl Adder {
    pub(super) fn new(start: Option<f64>) -> Adder {
        Adder {
            start,
            position: 0,
            skipped: 0,
            placed: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, run: &mut Run, entry: &Entry, file: &str) {
        let step = entry.step.unwrap_or(self.position as u64);
        self.position += 1;
        if self.start.is_none() {
            self.start = entry.time;
        }
        let wall_time = entry.time.zip(self.start).map(|(t, s)| t - s);
        if let Some(time) = entry.time {
            self.placed.push((time, step));
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
                None => self.skipped += 1,
            }
        }
    }

    /// The note on values that were not numbers; the time and step of each
    /// entry that had a time.
    pub(super) fn finish(self, run: &mut Run, file: &str) -> Vec<(f64, u64)> {
        if self.skipped > 0 {
            let message = format!(
                "{} logged values are not numbers (media, tables or text); they are not charted",
                self.skipped
            );
            run.problems.push(Problem::info(file, None, message));
        }
        self.placed
    }
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
