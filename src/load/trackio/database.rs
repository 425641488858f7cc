//! A Trackio project database, `<project>.db` (SQLite), one run per run id.
//!
//! Tables read (columns looked up, not assumed, since they changed over versions):
//! - `metrics(run_id, timestamp, run_name, step, metrics)`: one row per log
//!   call, `metrics` a JSON object as text or bytes, non-finite values as the
//!   strings `"NaN"`, `"Infinity"`, `"-Infinity"`;
//! - `configs(run_id, run_name, config, created_at)`: the params, Trackio's
//!   own keys (`_Username`, `_Created`, `_Group`) kept under the param `trackio`;
//! - `system_metrics(run_id, timestamp, run_name, metrics)` when present: GPU
//!   and CPU readings, placed at the training step logged last before them.
//!
//! Older databases have no `run_id`: the run name is then the identity. The
//! file is deserialized into an in-memory, read-only connection, so reading
//! never creates journal or lock files beside the input; a write-ahead log
//! beside it (a run still writing) is not applied, and a warning says so.

use super::{
    add_entries, disambiguate_names, entry_run, file_run, time_of, Entry, DATABASE_FORMAT,
};
use crate::load::lenient_json;
use crate::load::mlflow::clock::date_prefix;
use crate::load::SourceText;
use crate::model::{Problem, Run};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, MAIN_DB};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// True when a file's head is an SQLite database whose schema names Trackio's columns.
pub(super) fn looks_like_database(head: &[u8]) -> bool {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    head.starts_with(super::SQLITE_MAGIC) && has(b"run_name") && has(b"metrics")
}

/// What the tables say about one run.
#[derive(Default)]
struct RunRows {
    name: String,
    config: Option<Map<String, Value>>,
    created_at: Option<String>,
    entries: Vec<Entry>,
    system: Vec<Entry>,
}

/// The runs of the collected rows, in order of first appearance.
#[derive(Default)]
struct Runs {
    order: Vec<RunRows>,
    index: HashMap<String, usize>,
}

impl Runs {
    fn get(&mut self, identity: String, name: String) -> &mut RunRows {
        let next = self.order.len();
        let i = *self.index.entry(identity).or_insert(next);
        if i == next {
            self.order.push(RunRows {
                name,
                ..RunRows::default()
            });
        }
        &mut self.order[i]
    }
}

/// Read every run of the database; a database that cannot be opened is one
/// run standing for the file, with the reason.
pub(super) fn read_database(base: &Run, source: &SourceText, has_wal: bool) -> Vec<Run> {
    let file = source.rel.as_str();
    let mut problems = Vec::new();
    let collected = match open(source.bytes()) {
        Ok(conn) => collect(&conn, file, &mut problems),
        Err(message) => {
            let mut run = file_run(base, file, DATABASE_FORMAT);
            run.problems.push(Problem::error(file, None, message));
            return vec![run];
        }
    };
    if has_wal {
        problems.push(Problem::warning(
            file,
            None,
            "a write-ahead log (-wal) lies beside the database: a run may still be writing, \
             and rows not yet checkpointed into the database are not read",
        ));
    }
    let stem = source
        .name
        .rsplit_once('.')
        .map_or(source.name.as_str(), |(s, _)| s);
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let group = if folder.is_empty() {
        stem.to_string()
    } else {
        format!("{folder}/{stem}")
    };
    let mut runs: Vec<Run> = collected
        .order
        .into_iter()
        .map(|rows| run_from_rows(rows, &group, file))
        .collect();
    disambiguate_names(&mut runs, file);
    match runs.first_mut() {
        Some(first) => {
            first.problems.splice(0..0, problems);
        }
        None => {
            let mut run = file_run(base, file, DATABASE_FORMAT);
            run.problems.extend(problems);
            run.problems
                .push(Problem::warning(file, None, "the database holds no runs"));
            runs.push(run);
        }
    }
    runs
}

/// An in-memory, read-only copy of the database.
fn open(bytes: &[u8]) -> Result<Connection, String> {
    let mut data = bytes.to_vec();
    // Bytes 18-19 say "WAL mode" (2); a deserialized database must be in
    // rollback mode (1) or SQLite refuses to read it.
    if data.len() >= 20 && data[18] == 2 && data[19] == 2 {
        data[18] = 1;
        data[19] = 1;
    }
    let fail = |e: rusqlite::Error| format!("not a readable SQLite database: {e}");
    let mut conn = Connection::open_in_memory().map_err(fail)?;
    conn.deserialize_read_exact(MAIN_DB, data.as_slice(), data.len(), true)
        .map_err(fail)?;
    // Touch the schema now, so a corrupt file fails here with one message.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(fail)?;
    Ok(conn)
}

/// Gather configs, metrics and system metrics per run.
fn collect(conn: &Connection, file: &str, problems: &mut Vec<Problem>) -> Runs {
    let mut runs = Runs::default();
    let mut bad_json = BadJson::default();
    let wanted = ["run_id", "run_name", "config", "created_at"];
    read_table(conn, file, "configs", &wanted, problems, |row| {
        let (identity, name) = identity(row);
        let config = row
            .get("config")
            .map(|text| parse_object(text, &mut bad_json));
        let created = row.get("created_at").map(|s| s.to_string());
        let run = runs.get(identity, name);
        if let Some(Some(config)) = config {
            run.config = Some(config);
        }
        run.created_at = run.created_at.take().or(created);
    });
    let wanted = ["run_id", "run_name", "step", "timestamp", "metrics"];
    read_table(conn, file, "metrics", &wanted, problems, |row| {
        let (identity, name) = identity(row);
        let values = row
            .get("metrics")
            .and_then(|t| parse_object(t, &mut bad_json));
        let step = row.get("step").and_then(|s| s.trim().parse::<u64>().ok());
        let time = time_of(
            row.get("timestamp")
                .map(|t| Value::String(t.to_string()))
                .as_ref(),
        );
        if let Some(values) = values {
            runs.get(identity, name)
                .entries
                .push(Entry { step, time, values });
        }
    });
    let wanted = ["run_id", "run_name", "timestamp", "metrics"];
    if has_table(conn, "system_metrics") {
        read_table(conn, file, "system_metrics", &wanted, problems, |row| {
            let (identity, name) = identity(row);
            let values = row
                .get("metrics")
                .and_then(|t| parse_object(t, &mut bad_json));
            let time = time_of(
                row.get("timestamp")
                    .map(|t| Value::String(t.to_string()))
                    .as_ref(),
            );
            if let Some(values) = values {
                runs.get(identity, name).system.push(Entry {
                    step: None,
                    time,
                    values,
                });
            }
        });
    }
    if let Some(message) = bad_json.message() {
        problems.push(Problem::warning(file, None, message));
    }
    runs
}

/// Rows whose JSON did not parse: counted, the first one quoted.
#[derive(Default)]
struct BadJson {
    count: usize,
    first: Option<String>,
}

impl BadJson {
    fn message(&self) -> Option<String> {
        let first = self.first.as_ref()?;
        Some(format!(
            "{} rows hold JSON that does not parse (first: {first}); they are skipped",
            self.count
        ))
    }
}

/// A JSON object from a text column; anything else is counted as bad.
fn parse_object(text: &str, bad: &mut BadJson) -> Option<Map<String, Value>> {
    match lenient_json::parse(text).map(lenient_json::plain) {
        Ok(Value::Object(map)) => Some(map),
        Ok(_) | Err(_) => {
            bad.count += 1;
            bad.first
                .get_or_insert_with(|| text.chars().take(80).collect());
            None
        }
    }
}

/// The run's identity (run id when the table has one, else its name) and name.
fn identity(row: &HashMap<&str, String>) -> (String, String) {
    let name = row.get("run_name").cloned().unwrap_or_default();
    match row.get("run_id") {
        Some(id) if !id.is_empty() => (format!("id:{id}"), name),
        _ => (format!("name:{name}"), name),
    }
}

fn has_table(conn: &Connection, table: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n > 0)
}

/// Call `each` with every row of `table` (in insertion order) as text by
/// column name, for the `wanted` columns that the table has.
fn read_table(
    conn: &Connection,
    file: &str,
    table: &str,
    wanted: &[&'static str],
    problems: &mut Vec<Problem>,
    mut each: impl FnMut(&HashMap<&str, String>),
) {
    let present = match columns(conn, table) {
        Ok(present) => present,
        Err(e) => {
            problems.push(Problem::warning(file, None, format!("table {table}: {e}")));
            return;
        }
    };
    let columns: Vec<&'static str> = wanted
        .iter()
        .copied()
        .filter(|c| present.iter().any(|p| p == c))
        .collect();
    if columns.is_empty() {
        return;
    }
    let sql = format!(
        "SELECT {} FROM \"{table}\" ORDER BY rowid",
        columns.join(", ")
    );
    let result = conn.prepare(&sql).and_then(|mut statement| {
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut fields = HashMap::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                if let Some(text) = text_of(row.get_ref(i)?) {
                    fields.insert(*name, text);
                }
            }
            each(&fields);
        }
        Ok(())
    });
    if let Err(e) = result {
        problems.push(Problem::warning(
            file,
            None,
            format!("table {table} could not be read to the end: {e}"),
        ));
    }
}

/// Column names of a table (none when it does not exist).
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = statement.query_map([table], |r| r.get::<_, String>(0))?;
    names.collect()
}

/// Any SQLite value as text: Trackio stores JSON as text or as bytes (orjson).
fn text_of(value: ValueRef) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(v) => Some(v.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

/// One run's rows into a run.
fn run_from_rows(rows: RunRows, group: &str, file: &str) -> Run {
    let name = if rows.name.trim().is_empty() {
        "unnamed".to_string()
    } else {
        rows.name.clone()
    };
    let mut run = entry_run(file, &name, group, DATABASE_FORMAT);
    let mut params = Map::new();
    let mut trackio = Map::new();
    for (key, value) in rows.config.unwrap_or_default() {
        match key.strip_prefix('_') {
            Some(own) if !value.is_null() => {
                trackio.insert(own.to_string(), value);
            }
            Some(_) => {}
            None => {
                params.insert(key, value);
            }
        }
    }
    let created = rows.created_at.or_else(|| {
        trackio
            .get("Created")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if !trackio.is_empty() {
        params.insert("trackio".into(), Value::Object(trackio));
    }
    run.params = Value::Object(params);
    run.date = created.as_deref().and_then(date_prefix);
    let start = created.as_deref().map(|c| Value::String(c.to_string()));
    let start = time_of(start.as_ref());
    run.started = created;
    let mut placed = add_entries(&mut run, &rows.entries, start, file);
    placed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let system: Vec<Entry> = rows
        .system
        .into_iter()
        .map(|mut entry| {
            entry.step = entry.time.map(|t| {
                let before = placed.partition_point(|(at, _)| *at <= t);
                placed
                    .get(before.saturating_sub(1))
                    .map_or(0, |(_, step)| *step)
            });
            entry
        })
        .collect();
    let start = start.or_else(|| placed.first().map(|(t, _)| *t));
    add_entries(&mut run, &system, start, file);
    run
}
