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
//! Older databases have no `run_id`: the run name is then the identity. Runs
//! are made a few at a time ([`BATCH_ROWS`]): a first pass over the tables
//! finds the runs and counts their rows, then each batch of runs is made from
//! one more pass, whose rows of other runs are skipped unparsed, and handed
//! over, so that a database of a thousand runs never holds them all. The
//! file is deserialized into an in-memory, read-only connection, so reading
//! never creates journal or lock files beside the input; a write-ahead log
//! beside it (a run still writing) is not applied, and a warning says so.

use super::{entry_run, file_run, time_of, Adder, Entry, FileRuns, Names, DATABASE_FORMAT};
use crate::load::lenient_json;
use crate::load::mlflow::clock::date_prefix;
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

/// Metric and system rows of the runs made in one pass: at about 15 values a
/// row, some 15 MB of points.
const BATCH_ROWS: usize = 20_000;

/// The tables of rows, in the order of [`Runs::owners`].
const TABLES: [&str; 2] = ["metrics", "system_metrics"];
const METRICS: usize = 0;
const SYSTEM: usize = 1;

/// What the first pass learns about one run.
#[derive(Default)]
struct RunRows {
    name: String,
    config: Option<Map<String, Value>>,
    created_at: Option<String>,
    /// It has a row in `configs` (so it is a run even with no metrics).
    configured: bool,
    /// Its rows in `metrics` and `system_metrics`.
    rows: usize,
    /// Where its rows of each table lie: the place of the first, and the
    /// rowids of the first and the last.
    spans: [Option<Span>; 2],
}

/// Rows of a table from the one at place `first` (in rowid order), whose
/// rowid is `rowids.0`, to the one of rowid `rowids.1`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    first: usize,
    rowids: (i64, i64),
}

impl Span {
    fn cover(self, other: Span) -> Span {
        Span {
            first: self.first.min(other.first),
            rowids: (
                self.rowids.0.min(other.rowids.0),
                self.rowids.1.max(other.rowids.1),
            ),
        }
    }
}

/// The runs of the database, in order of first appearance.
#[derive(Default)]
struct Runs {
    order: Vec<RunRows>,
    index: HashMap<String, usize>,
    /// The run of each row of `metrics` and of `system_metrics`, in rowid order.
    owners: [Vec<usize>; 2],
    /// Every rowid of the table is an integer, so a run's rows can be found
    /// by their rowids (a column of its own named `rowid` could hold anything).
    ranged: [bool; 2],
}

impl Runs {
    fn get(&mut self, identity: String, name: String) -> &mut RunRows {
        let i = self.place(identity, name);
        &mut self.order[i]
    }

    fn place(&mut self, identity: String, name: String) -> usize {
        let next = self.order.len();
        let i = *self.index.entry(identity).or_insert(next);
        if i == next {
            self.order.push(RunRows {
                name,
                ..RunRows::default()
            });
        }
        i
    }
}

/// Read the runs of the database, handing each over as it is made; a
/// database that cannot be opened is one run standing for the file, with the reason.
pub(super) fn read_database(
    base: &Run,
    file: &str,
    name: &str,
    opened: Result<Connection, String>,
    has_wal: bool,
    out: &mut FileRuns,
) {
    read_in_batches(base, file, name, opened, has_wal, out, BATCH_ROWS);
}

/// [`read_database`], making about `batch_rows` rows' worth of runs per pass.
pub(super) fn read_in_batches(
    base: &Run,
    file: &str,
    name: &str,
    opened: Result<Connection, String>,
    has_wal: bool,
    out: &mut FileRuns,
    batch_rows: usize,
) {
    let conn = match opened {
        Ok(conn) => conn,
        Err(message) => {
            let mut run = file_run(base, file, DATABASE_FORMAT);
            run.problems.push(Problem::error(file, None, message));
            out.push(run);
            return;
        }
    };
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let group = if folder.is_empty() {
        stem.to_string()
    } else {
        format!("{folder}/{stem}")
    };
    let mut problems = Vec::new();
    let mut bad_json = BadJson::default();
    let runs = find_runs(&conn, file, &mut problems, &mut bad_json);
    let mut names = Names::default();
    let mut first: Option<(usize, Run)> = None;
    let mut from = 0;
    while from < runs.order.len() {
        let mut to = from + 1;
        let mut rows = runs.order[from].rows;
        while to < runs.order.len() && rows + runs.order[to].rows <= batch_rows {
            rows += runs.order[to].rows;
            to += 1;
        }
        let batch = Batch {
            conn: &conn,
            file,
            group: &group,
            runs: &runs,
            range: from..to,
        };
        for mut run in batch.make(&mut problems, &mut bad_json) {
            names.place(&mut run, file);
            match first {
                None => first = Some((out.reserve(), run)),
                Some(_) => out.push(run),
            }
        }
        from = to;
    }
    if let Some(message) = bad_json.message() {
        problems.push(Problem::warning(file, None, message));
    }
    if has_wal {
        problems.push(Problem::warning(
            file,
            None,
            "a write-ahead log (-wal) lies beside the database: a run may still be writing, \
             and rows not yet checkpointed into the database are not read",
        ));
    }
    // Every pass reads each table: a table that fails, fails each time.
    let mut seen = Vec::new();
    problems.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    match first {
        Some((place, mut first)) => {
            first.problems.splice(0..0, problems);
            out.put(place, first);
        }
        None => {
            let mut run = file_run(base, file, DATABASE_FORMAT);
            run.problems.extend(problems);
            run.problems
                .push(Problem::warning(file, None, "the database holds no runs"));
            out.push(run);
        }
    }
}

/// An in-memory, read-only copy of the database.
pub(super) fn open(bytes: &[u8]) -> Result<Connection, String> {
    // Bytes 18-19 say "WAL mode" (2); a deserialized database must be in
    // rollback mode (1) or SQLite refuses to read it.
    let mut header = bytes[..bytes.len().min(20)].to_vec();
    if header.len() == 20 && header[18] == 2 && header[19] == 2 {
        header[18] = 1;
        header[19] = 1;
    }
    let data = std::io::Read::chain(header.as_slice(), &bytes[header.len()..]);
    let fail = |e: rusqlite::Error| format!("not a readable SQLite database: {e}");
    let mut conn = Connection::open_in_memory().map_err(fail)?;
    conn.deserialize_read_exact(MAIN_DB, data, bytes.len(), true)
        .map_err(fail)?;
    // Touch the schema now, so a corrupt file fails here with one message.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(fail)?;
    Ok(conn)
}

/// The first pass: every run's config, and how many rows it has.
fn find_runs(
    conn: &Connection,
    file: &str,
    problems: &mut Vec<Problem>,
    bad_json: &mut BadJson,
) -> Runs {
    let mut runs = Runs::default();
    let wanted = ["run_id", "run_name", "config", "created_at"];
    read_table(
        conn,
        file,
        "configs",
        &wanted,
        problems,
        None,
        |_| true,
        |_, _, row| {
            let (identity, name) = identity(row);
            let config = row.get("config").map(|text| parse_object(text, bad_json));
            let created = row.get("created_at").map(|s| s.to_string());
            let run = runs.get(identity, name);
            run.configured = true;
            if let Some(Some(config)) = config {
                run.config = Some(config);
            }
            run.created_at = run.created_at.take().or(created);
        },
    );
    for (t, table) in TABLES.iter().enumerate() {
        if t == SYSTEM && !has_table(conn, table) {
            continue;
        }
        // A cheap column besides the identity, so that a table without one still has rows.
        let wanted = [
            "run_id",
            "run_name",
            if t == SYSTEM { "timestamp" } else { "step" },
        ];
        let mut owners = Vec::new();
        let mut ranged = true;
        read_table(
            conn,
            file,
            table,
            &wanted,
            problems,
            None,
            |_| true,
            |ordinal, rowid, row| {
                let (identity, name) = identity(row);
                let i = runs.place(identity, name);
                let run = &mut runs.order[i];
                run.rows += 1;
                match rowid {
                    Some(rowid) => {
                        let here = Span {
                            first: ordinal,
                            rowids: (rowid, rowid),
                        };
                        run.spans[t] = Some(run.spans[t].map_or(here, |span| span.cover(here)));
                    }
                    None => ranged = false,
                }
                owners.push(i);
            },
        );
        runs.owners[t] = owners;
        runs.ranged[t] = ranged;
    }
    runs
}

/// Runs `range` of the database, made from one more pass over its tables.
struct Batch<'a> {
    conn: &'a Connection,
    file: &'a str,
    group: &'a str,
    runs: &'a Runs,
    range: std::ops::Range<usize>,
}

/// One run being made.
struct Making {
    run: Run,
    /// Its start (seconds since the Unix epoch), when its config says.
    start: Option<f64>,
    metrics: Adder,
    system: Adder,
    /// It has a config row or a metric that parsed: a run, even if empty.
    real: bool,
}

impl Batch<'_> {
    /// The batch's runs, in order; a run whose rows all failed to parse, and
    /// that has no config, is none.
    fn make(&self, problems: &mut Vec<Problem>, bad_json: &mut BadJson) -> Vec<Run> {
        let mut making: Vec<Making> = self.runs.order[self.range.clone()]
            .iter()
            .map(|rows| begin(rows, self.group, self.file))
            .collect();
        self.scan(METRICS, problems, bad_json, |i, entry| {
            let m = &mut making[i];
            m.real = true;
            m.metrics.add(&mut m.run, &entry, self.file);
        });
        let mut placed: Vec<Vec<(f64, u64)>> = Vec::with_capacity(making.len());
        for m in &mut making {
            let adder = std::mem::replace(&mut m.metrics, Adder::new(None));
            let mut at = adder.finish(&mut m.run, self.file);
            at.sort_by(|a, b| a.0.total_cmp(&b.0));
            m.system = Adder::new(m.start.or_else(|| at.first().map(|(t, _)| *t)));
            placed.push(at);
        }
        self.scan(SYSTEM, problems, bad_json, |i, mut entry| {
            // A system reading belongs to the training step logged last before it.
            let at = &placed[i];
            entry.step = entry.time.map(|t| {
                let before = at.partition_point(|(when, _)| *when <= t);
                at.get(before.saturating_sub(1))
                    .map_or(0, |(_, step)| *step)
            });
            let m = &mut making[i];
            m.real = true;
            m.system.add(&mut m.run, &entry, self.file);
        });
        making
            .into_iter()
            .filter(|m| m.real)
            .map(|mut m| {
                m.system.finish(&mut m.run, self.file);
                m.run
            })
            .collect()
    }

    /// Hand each row of `table` that belongs to the batch, and whose metrics
    /// parse, to `each` as an entry, with its run's index in the batch.
    fn scan(
        &self,
        table: usize,
        problems: &mut Vec<Problem>,
        bad_json: &mut BadJson,
        mut each: impl FnMut(usize, Entry),
    ) {
        if self.runs.owners[table].is_empty() {
            return;
        }
        // The batch's rows are found by their place, learnt in the first pass.
        let slot = |ordinal: usize| {
            let i = *self.runs.owners[table].get(ordinal)?;
            self.range.contains(&i).then(|| i - self.range.start)
        };
        let wanted = ["step", "timestamp", "metrics"];
        let keep = |ordinal| slot(ordinal).is_some();
        // Only the stretch of rowids the batch's rows lie in is read: a pass
        // over the whole table for every batch made a database of many runs
        // cost the square of its rows.
        let span = self.runs.order[self.range.clone()]
            .iter()
            .filter_map(|run| run.spans[table])
            .reduce(Span::cover);
        if span.is_none() && self.runs.ranged[table] {
            return; // none of the batch's runs has a row here
        }
        read_table(
            self.conn,
            self.file,
            TABLES[table],
            &wanted,
            problems,
            span.filter(|_| self.runs.ranged[table]),
            keep,
            |ordinal, _, row| {
                let (Some(i), Some(values)) = (
                    slot(ordinal),
                    row.get("metrics").and_then(|t| parse_object(t, bad_json)),
                ) else {
                    return;
                };
                let step = row.get("step").and_then(|s| s.trim().parse::<u64>().ok());
                let time = time_of(
                    row.get("timestamp")
                        .map(|t| Value::String(t.to_string()))
                        .as_ref(),
                );
                each(i, Entry { step, time, values });
            },
        );
    }
}

/// A run with its name, params and start, before its rows.
fn begin(rows: &RunRows, group: &str, file: &str) -> Making {
    let name = if rows.name.trim().is_empty() {
        "unnamed".to_string()
    } else {
        rows.name.clone()
    };
    let mut run = entry_run(file, &name, group, DATABASE_FORMAT);
    let mut params = Map::new();
    let mut trackio = Map::new();
    for (key, value) in rows.config.clone().unwrap_or_default() {
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
    let created = rows.created_at.clone().or_else(|| {
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
    Making {
        run,
        start,
        metrics: Adder::new(start),
        system: Adder::new(None),
        real: rows.configured,
    }
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

/// Call `each` with every row of `table` (in rowid order), or of its `span`,
/// as text by column name, for the `wanted` columns that the table has, with
/// its place in that order and its rowid (if an integer); rows whose place
/// `keep` refuses are skipped unread.
#[allow(clippy::too_many_arguments)]
fn read_table(
    conn: &Connection,
    file: &str,
    table: &str,
    wanted: &[&'static str],
    problems: &mut Vec<Problem>,
    span: Option<Span>,
    keep: impl Fn(usize) -> bool,
    mut each: impl FnMut(usize, Option<i64>, &HashMap<&str, String>),
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
    let range = if span.is_some() {
        "WHERE rowid BETWEEN ?1 AND ?2"
    } else {
        "WHERE ?1 <= ?2" // the whole table
    };
    let (first, (low, high)) = span.map_or((0, (0, 0)), |s| (s.first, s.rowids));
    let sql = format!(
        "SELECT rowid, {} FROM \"{table}\" {range} ORDER BY rowid",
        columns.join(", ")
    );
    let result = conn.prepare(&sql).and_then(|mut statement| {
        let mut rows = statement.query([low, high])?;
        let mut ordinal = first;
        while let Some(row) = rows.next()? {
            ordinal += 1;
            if !keep(ordinal - 1) {
                continue;
            }
            let rowid = row.get::<_, i64>(0).ok();
            let mut fields = HashMap::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                if let Some(text) = text_of(row.get_ref(i + 1)?) {
                    fields.insert(*name, text);
                }
            }
            each(ordinal - 1, rowid, &fields);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn database(sql: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        conn
    }

    /// Each run's rows are found by their first place and their rowids, so a
    /// batch reads only the stretch of the table its runs lie in.
    #[test]
    fn the_first_pass_learns_where_each_runs_rows_lie() {
        let conn = database(
            "CREATE TABLE configs (run_name TEXT, config TEXT);
             CREATE TABLE metrics (run_name TEXT, step INTEGER, metrics TEXT);
             INSERT INTO metrics VALUES ('a', 1, '{}'), ('a', 2, '{}'), ('b', 1, '{}'),
                 ('b', 2, '{}'), ('a', 3, '{}'), ('c', 1, '{}');
             DELETE FROM metrics WHERE rowid = 2;",
        );
        let runs = find_runs(&conn, "x.db", &mut Vec::new(), &mut BadJson::default());
        let spans: Vec<Option<Span>> = runs.order.iter().map(|r| r.spans[METRICS]).collect();
        let span = |first, rowids| Some(Span { first, rowids });
        assert_eq!(spans, [span(0, (1, 5)), span(1, (3, 4)), span(4, (6, 6))]);
        assert_eq!(runs.ranged, [true, false], "no system_metrics table");
    }

    /// A table with a column of its own named `rowid` holding text: its rows
    /// cannot be found by rowid, so every batch reads the whole table.
    #[test]
    fn a_table_whose_rowid_is_not_an_integer_is_read_whole() {
        let conn = database(
            "CREATE TABLE configs (run_name TEXT, config TEXT);
             CREATE TABLE metrics (rowid TEXT, run_name TEXT, step INTEGER, metrics TEXT);
             INSERT INTO metrics VALUES ('x', 'a', 1, '{\"loss\": 1}'), ('y', 'b', 1, '{\"loss\": 2}'),
                 ('z', 'a', 2, '{\"loss\": 3}');",
        );
        let runs = find_runs(&conn, "x.db", &mut Vec::new(), &mut BadJson::default());
        assert!(!runs.ranged[METRICS]);
        let mut problems = Vec::new();
        let batch = Batch {
            conn: &conn,
            file: "x.db",
            group: "g",
            runs: &runs,
            range: 0..1,
        };
        let made = batch.make(&mut problems, &mut BadJson::default());
        assert!(problems.is_empty(), "{problems:?}");
        let loss = &made[0].metrics[0];
        let steps: Vec<u64> = loss.points.iter().map(|p| p.step).collect();
        assert_eq!((made[0].name.as_str(), steps), ("a", vec![1, 2]));
    }
}
