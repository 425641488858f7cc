//! The Trackio experiments dataset: one row per experiment.
//!
//! A row is `{experiment_id, name, description, created_at, status, metrics,
//! parameters, artifacts, logs, last_updated}`. `metrics` is a JSON string of
//! entries `{timestamp, step, metrics: {...}}` (older rows log flat entries
//! `{timestamp, step, loss, ...}`); `parameters` is the params; `artifacts`
//! (paths of saved checkpoints) and `description` are kept as params, since
//! the files they name are not part of the input; `logs` entries
//! `{timestamp, level, message}` become events. `status` is the run's status
//! (`paused` reads as running: it may go on); `created_at` is the start and
//! `last_updated` the end of a run that finished.
//!
//! Rows come as JSON lines or a JSON array ([`each_row`]) or from parquet
//! (`parquet_rows`); either way [`RowRuns`] makes each into its run as it
//! comes, so a dataset of many runs is never all in memory. Pure.

use super::DATASET_FORMAT;
use super::{add_entries, embedded, entry_run, file_run, time_of, Entry, FileRuns, Names};
use crate::load::lenient_json::whole_number;
use crate::load::lenient_json::{self, kind_of, plain};
use crate::load::lines::Lines;
use crate::load::mlflow::clock::date_prefix;
use crate::model::{Event, EventKind, Problem, Run, Status};
use serde_json::{Map, Value};

/// One experiment row and the line it starts on (none for parquet).
pub(super) struct Row {
    pub line: Option<usize>,
    pub fields: Map<String, Value>,
}

/// The longest row read from a streamed dataset: one row is one run, with
/// every logged entry in its `metrics` string.
pub(super) const MAX_ROW_BYTES: usize = 256 << 20;
/// Columns every experiments row has, before its long `metrics` string ends
/// (`parameters` comes after it, often beyond a file's head); detection wants all.
const COLUMNS: &[&str] = &["experiment_id", "created_at", "metrics"];
/// Event messages are clipped to this many characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// True when the head of a JSON lines or JSON array file shows an experiments row.
pub(super) fn looks_like_rows(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head).trim_start();
    (head.starts_with('{') || head.starts_with('[')) && names_its_columns(head)
}

/// True when a text (a file's head, or a parquet footer) names every column of a row.
pub(super) fn names_its_columns(text: &str) -> bool {
    COLUMNS.iter().all(|c| text.contains(c))
}

/// Hand each row of a JSON lines file, or a JSON array, to `each`, one at a
/// time; the problems (see [`each_line_row`]).
pub(super) fn each_row(text: &str, file: &str, mut each: impl FnMut(Row)) -> Vec<Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        let (rows, problems) = rows_from_array(text, file);
        rows.into_iter().for_each(each);
        return problems;
    }
    each_line_row(
        Lines::from_str(text, file).longest(usize::MAX),
        file,
        &mut each,
    )
}

/// Hand each row of JSON lines to `each`, one at a time, whether the file is
/// in memory or streamed from disk; the problems. A line that is not a JSON
/// object is a problem with its line number; a torn last line is the writer
/// being cut off mid-row.
pub(super) fn each_line_row(
    mut lines: Lines,
    file: &str,
    each: &mut dyn FnMut(Row),
) -> Vec<Problem> {
    let mut problems = Vec::new();
    // A row that did not parse is told apart as the last one only once the
    // next non-empty line comes, or none does.
    let mut unparsed: Option<(usize, lenient_json::JsonError)> = None;
    let said = |line: usize, err: lenient_json::JsonError, last: bool| {
        let message = if err.cut_short && last {
            "the last row is incomplete (the writer was cut off); it is not read".to_string()
        } else {
            format!("not valid JSON: {}; row skipped", err.message)
        };
        Problem::error(file, Some(line), message)
    };
    while let Some(line) = lines.next_line() {
        if line.text.trim().is_empty() {
            continue;
        }
        if let Some((at, err)) = unparsed.take() {
            problems.push(said(at, err, false));
        }
        let at = Some(line.number);
        match lenient_json::parse(line.text) {
            Ok(Value::Object(fields)) => each(Row { line: at, fields }),
            Ok(other) => problems.push(Problem::warning(
                file,
                at,
                format!(
                    "expected an experiment object, found {}; line skipped",
                    kind_of(&other)
                ),
            )),
            Err(err) => unparsed = Some((line.number, err)),
        }
    }
    if let Some((at, err)) = unparsed {
        problems.push(said(at, err, true));
    }
    problems.extend(lines.into_problems());
    problems
}

/// A JSON array of rows (a dataset exported with `to_json(lines=False)`).
fn rows_from_array(text: &str, file: &str) -> (Vec<Row>, Vec<Problem>) {
    let mut problems = Vec::new();
    let items = match lenient_json::parse(text) {
        Ok(Value::Array(items)) => items,
        Ok(other) => {
            let message = format!("expected a list of experiments, found {}", kind_of(&other));
            return (Vec::new(), vec![Problem::error(file, Some(1), message)]);
        }
        Err(err) => {
            let message = format!("not valid JSON: {}; no rows read", err.message);
            return (Vec::new(), vec![Problem::error(file, err.line, message)]);
        }
    };
    let mut rows = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(fields) => rows.push(Row { line: None, fields }),
            other => problems.push(Problem::warning(
                file,
                None,
                format!(
                    "item {index} is {}, not an experiment; skipped",
                    kind_of(&other)
                ),
            )),
        }
    }
    (rows, problems)
}

/// Make each row that `rows` hands over into its run, and hand that to
/// `out` at once. `rows` returns the file's problems: they go to the first
/// run, which waits in its place until the file is read (or to a run
/// standing for the file when it gave none).
pub(super) fn read_rows(
    base: &Run,
    file: &str,
    out: &mut FileRuns,
    rows: impl FnOnce(&mut dyn FnMut(Row)) -> Vec<Problem>,
) {
    let mut runs = RowRuns::new(file);
    let problems = rows(&mut |row| runs.add(&row, out));
    runs.finish(base, problems, out);
}

/// A file's rows made into runs one by one (see [`read_rows`]).
struct RowRuns<'f> {
    file: &'f str,
    group: String,
    count: usize,
    names: Names,
    first: Option<(usize, Run)>,
}

impl<'f> RowRuns<'f> {
    fn new(file: &'f str) -> RowRuns<'f> {
        RowRuns {
            file,
            group: dataset_group(file),
            count: 0,
            names: Names::default(),
            first: None,
        }
    }

    /// The next row into its run, handed over.
    fn add(&mut self, row: &Row, out: &mut FileRuns) {
        let mut run = run_from_row(row, self.count, &self.group, self.file);
        self.count += 1;
        self.names.place(&mut run, self.file);
        match self.first {
            None => self.first = Some((out.reserve(), run)),
            Some(_) => out.push(run),
        }
    }

    /// The file is read: hand over its first run with the file's `problems`.
    fn finish(self, base: &Run, problems: Vec<Problem>, out: &mut FileRuns) {
        match self.first {
            Some((place, mut first)) => {
                first.problems.splice(0..0, problems);
                out.put(place, first);
            }
            None => {
                let mut run = file_run(base, self.file, DATASET_FORMAT);
                run.problems.extend(problems);
                if run.problems.is_empty() {
                    run.problems.push(Problem::warning(
                        self.file,
                        None,
                        "no experiment rows in the file",
                    ));
                }
                out.push(run);
            }
        }
    }
}

/// `exp/trackio-experiments/data/train.jsonl` -> `exp/trackio-experiments`:
/// the dataset folder, `data/` being the Hub's layout inside it.
fn dataset_group(file: &str) -> String {
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    match folder.rsplit_once('/') {
        Some((parent, "data")) => parent.to_string(),
        None if folder == "data" => String::new(),
        _ => folder.to_string(),
    }
}

/// One row into a run.
fn run_from_row(row: &Row, index: usize, group: &str, file: &str) -> Run {
    let text = |key: &str| {
        row.fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name = text("name")
        .or_else(|| text("experiment_id"))
        .map_or_else(|| format!("row {}", index + 1), str::to_string);
    let mut run = entry_run(file, &name, group, DATASET_FORMAT);
    let mut params = Map::new();
    read_embedded(
        &mut run,
        row,
        "parameters",
        file,
        |value, run| match value {
            Value::Object(map) => params.extend(map),
            Value::Null => {}
            other => run.problems.push(Problem::warning(
                file,
                row.line,
                format!(
                    "\"parameters\" of {name:?} is {}, not an object",
                    kind_of(&other)
                ),
            )),
        },
    );
    for key in ["experiment_id", "description"] {
        if let Some(value) = text(key) {
            params.insert(key.to_string(), Value::String(value.to_string()));
        }
    }
    read_embedded(&mut run, row, "artifacts", file, |value, _| {
        if !matches!(&value, Value::Null) && value != Value::Array(Vec::new()) {
            params.insert("artifacts".into(), value);
        }
    });
    run.params = Value::Object(params);
    run.started = text("created_at").map(str::to_string);
    run.date = run.started.as_deref().and_then(date_prefix);
    read_status(&mut run, text("status"), text("last_updated"));
    let start = time_of(row.fields.get("created_at"));
    let mut entries = Vec::new();
    read_embedded(&mut run, row, "metrics", file, |value, run| {
        entries = metric_entries(value, run, row.line, file);
    });
    add_entries(&mut run, &entries, start, file);
    read_embedded(&mut run, row, "logs", file, |value, run| {
        read_logs(run, value, row.line, file);
    });
    run
}

/// Parse the JSON-in-a-string column `key` and hand it over; a column that
/// does not parse is a problem naming the row's line.
fn read_embedded(
    run: &mut Run,
    row: &Row,
    key: &str,
    file: &str,
    mut take: impl FnMut(Value, &mut Run),
) {
    let Some(value) = row.fields.get(key) else {
        return;
    };
    match embedded(value) {
        Ok(value) => take(value, run),
        Err(message) => run.problems.push(Problem::error(
            file,
            row.line,
            format!("the {key:?} column is not valid JSON ({message}); not read"),
        )),
    }
}

/// `status` as Trackio writes it; `last_updated` is the end of a run that stopped.
fn read_status(run: &mut Run, status: Option<&str>, last_updated: Option<&str>) {
    let Some(status) = status else {
        return;
    };
    run.status = match status.to_ascii_lowercase().as_str() {
        "completed" | "finished" => Status::Completed,
        "failed" | "crashed" | "error" => Status::Failed,
        "running" | "paused" => Status::Running,
        _ => Status::Unknown,
    };
    run.status_reason = format!("the dataset row says {status:?}");
    if matches!(run.status, Status::Completed | Status::Failed) {
        run.ended = last_updated.map(str::to_string);
    }
}

/// The entries of the `metrics` column: `{timestamp, step, metrics: {...}}`,
/// or older flat `{timestamp, step, name: value, ...}`.
fn metric_entries(value: Value, run: &mut Run, line: Option<usize>, file: &str) -> Vec<Entry> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Vec::new(),
        other => {
            let message = format!("\"metrics\" is {}, not a list of entries", kind_of(&other));
            run.problems.push(Problem::warning(file, line, message));
            return Vec::new();
        }
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut odd = 0usize;
    for item in items {
        let Value::Object(mut fields) = item else {
            odd += 1;
            continue;
        };
        let step = fields.get("step").and_then(whole_number);
        let time = time_of(fields.get("timestamp"));
        let values = match fields.remove("metrics") {
            Some(Value::Object(values)) => values,
            Some(_) => {
                odd += 1;
                continue;
            }
            None => fields,
        };
        entries.push(Entry { step, time, values });
    }
    if odd > 0 {
        let message = format!("{odd} metric entries are not objects; skipped");
        run.problems.push(Problem::warning(file, line, message));
    }
    entries
}

/// `logs` entries `{timestamp, level, message}` as events: errors and
/// warnings by level, the rest as start/finish when they say so.
fn read_logs(run: &mut Run, value: Value, line: Option<usize>, file: &str) {
    let Value::Array(items) = value else {
        return;
    };
    for item in items {
        let Value::Object(entry) = plain(item) else {
            continue;
        };
        let message = match entry.get("message") {
            Some(Value::String(m)) => m.chars().take(MAX_MESSAGE_CHARS).collect::<String>(),
            _ => continue,
        };
        let level = entry
            .get("level")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase();
        let lower = message.to_ascii_lowercase();
        let kind = match level.as_str() {
            "ERROR" | "CRITICAL" | "FATAL" => EventKind::Error,
            "WARNING" | "WARN" => EventKind::Warning,
            _ if lower.contains("started") || lower.contains("starting") => EventKind::Start,
            _ if lower.contains("checkpoint") || lower.contains("saved") => EventKind::Checkpoint,
            _ if lower.contains("completed") || lower.contains("finished") => EventKind::Finish,
            _ => continue,
        };
        run.events.push(Event {
            kind,
            step: entry.get("step").and_then(whole_number),
            message,
            file: file.to_string(),
            line,
        });
    }
}
