//! DVCLive: a `dvclive/` folder beside a training script's outputs.
//!
//! DVCLive writes `dvclive/params.yaml` (`live.log_param`),
//! `dvclive/metrics.json` (the latest value of every metric, nested by `/`,
//! plus `step`) and one TSV per metric under `dvclive/plots/metrics/`
//! (`scalars/` in DVCLive 1.x), named by the metric's path:
//! `plots/metrics/train/loss.tsv` is the metric `train/loss`. The run is the
//! folder holding `dvclive/` (its name is the run's name); the `dvclive/`
//! folder is part of it. A `Live(dir=...)` folder under another name is
//! recognised by its metric TSVs, and ROOT may be the DVCLive folder itself.
//!
//! What becomes of each file:
//! - `dvclive/params.yaml`, then a DVC project's `params.yaml` beside
//!   `dvclive/`: params (DVCLive's own win on a key).
//! - each metric TSV: a series; wall time counts from the earliest timestamp
//!   of any TSV, and the first and last timestamps are the run's start and end.
//! - `metrics.json`: a number with no TSV of the same name (logged with
//!   `plot=False`) becomes a one-point series at the summary's `step`; other
//!   non-numbers go under the param `summary`.
//!
//! DVCLive records no end of run, so the status is left for the planned
//! steps in the params (`max_steps`, ...) to decide.

mod tsv;

use crate::discover::{FileEntry, Folder};
use crate::load::config::read_params;
use crate::load::lenient_json;
use crate::load::mlflow::clock;
use crate::load::{FolderView, SourceText};
use crate::model::{Point, Problem, Run};
use serde_json::{Map, Value};
use tsv::{looks_like_metric_tsv, parse_metric_lines, Row};

/// DVCLive's default folder name.
const LIVE_DIR: &str = "dvclive";
/// Where metric histories live inside the DVCLive folder (2.x and later, then 1.x).
const HISTORY_DIRS: [&str; 2] = ["plots/metrics", "scalars"];

/// Claim the folder holding a DVCLive folder (or ROOT when it is one): its
/// params files, `metrics.json`, then every metric TSV.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let live = if view.dir.is_empty() && has_metric_tsvs(view) {
        Some(FolderView {
            tree: view.tree,
            dir: view.dir,
            folder: view.folder,
        })
    } else {
        live_subfolder(view)
    };
    let Some(live) = live else {
        return Vec::new();
    };
    let mut files: Vec<FileEntry> = live.file("params.yaml").into_iter().cloned().collect();
    if live.dir != view.dir {
        files.extend(view.file("params.yaml").cloned());
    }
    files.extend(live.file("metrics.json").cloned());
    for history in HISTORY_DIRS {
        files.extend(tsv_files_below(&live, history));
    }
    files
}

/// `dvclive/` when it holds DVCLive files, else any subfolder with metric TSVs.
fn live_subfolder<'a>(view: &FolderView<'a>) -> Option<FolderView<'a>> {
    if let Some(live) = view.subfolder(LIVE_DIR) {
        let own_files = ["metrics.json", "params.yaml"]
            .iter()
            .any(|n| live.file(n).is_some());
        if own_files || has_metric_tsvs(&live) {
            return Some(live);
        }
    }
    view.folder
        .subdirs
        .iter()
        .filter(|s| s.as_str() != LIVE_DIR)
        .filter_map(|s| view.subfolder(s))
        .find(has_metric_tsvs)
}

/// True when the folder's `plots/metrics/` (or `scalars/`) holds a TSV that sniffs as DVCLive's.
fn has_metric_tsvs(view: &FolderView) -> bool {
    HISTORY_DIRS.iter().any(|history| {
        folders_below(view, history)
            .flat_map(|(_, folder)| folder.files.iter())
            .filter(|f| f.name.ends_with(".tsv"))
            .take(3)
            .any(|f| looks_like_metric_tsv(&view.head(f)))
    })
}

/// The folder `sub` of the view and every folder below it.
fn folders_below<'a>(
    view: &FolderView<'a>,
    sub: &str,
) -> impl Iterator<Item = (&'a String, &'a Folder)> {
    let top = join(view.dir, sub);
    let prefix = format!("{top}/");
    view.tree
        .dirs
        .range(top.clone()..)
        .take_while(move |(dir, _)| dir.starts_with(&top))
        .filter(move |(dir, _)| dir.len() == prefix.len() - 1 || dir.starts_with(&prefix))
}

fn tsv_files_below(view: &FolderView, sub: &str) -> Vec<FileEntry> {
    folders_below(view, sub)
        .flat_map(|(_, folder)| folder.files.iter())
        .filter(|f| f.name.ends_with(".tsv"))
        .cloned()
        .collect()
}

/// The files read line by line (and streamed when large): the metric TSVs.
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    rel.ends_with(".tsv")
}

/// Read a claimed folder into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let mut histories: Vec<(String, &str, Vec<Row>)> = Vec::new();
    let mut summary = None;
    // DVCLive's own params first: on a key they win over the project's `params.yaml`.
    let project_params = join(&run.path, "params.yaml");
    let (project, own): (Vec<&SourceText>, Vec<&SourceText>) =
        texts.iter().partition(|t| t.rel == project_params);
    for source in own.into_iter().chain(project) {
        if source.name.ends_with(".tsv") {
            let (rows, problems) = parse_metric_lines(source.lines(), &source.rel);
            run.problems.extend(problems);
            histories.push((metric_name(&run.path, &source.rel), &source.rel, rows));
        } else if source.name == "metrics.json" {
            summary = Some(source);
        } else {
            read_params(&mut run, source);
        }
    }
    push_histories(&mut run, &histories);
    if let Some(source) = summary {
        read_summary(&mut run, source.text(), &source.rel);
    }
    run.status_reason = "DVCLive records no end of run".to_string();
    vec![run]
}

/// `exp/a/dvclive/plots/metrics/train/loss.tsv` in run `exp/a` -> `train/loss`.
fn metric_name(run_path: &str, rel: &str) -> String {
    let inside = if run_path.is_empty() {
        rel
    } else {
        rel.strip_prefix(run_path)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(rel)
    };
    let in_live = HISTORY_DIRS
        .iter()
        .find_map(|h| {
            inside.strip_prefix(&format!("{h}/")).or_else(|| {
                let (_, rest) = inside.split_once('/')?;
                rest.strip_prefix(&format!("{h}/"))
            })
        })
        .unwrap_or(inside);
    in_live.strip_suffix(".tsv").unwrap_or(in_live).to_string()
}

/// Push every history's rows; times count from the earliest timestamp of any of them.
fn push_histories(run: &mut Run, histories: &[(String, &str, Vec<Row>)]) {
    let times = || {
        histories
            .iter()
            .flat_map(|(_, _, rows)| rows.iter().filter_map(|r| r.timestamp_ms))
    };
    let first = times().reduce(f64::min);
    let last = times().reduce(f64::max);
    for (name, rel, rows) in histories {
        for row in rows {
            let point = Point {
                step: row.step,
                value: row.value,
                wall_time: row.timestamp_ms.zip(first).map(|(t, f)| (t - f) / 1000.0),
                epoch: None,
            };
            run.push_point(name, rel, point);
        }
    }
    let iso = |ms: Option<f64>| ms.and_then(|ms| clock::iso_from_unix_ms(ms as i64));
    run.started = iso(first);
    run.ended = iso(last);
    if let (Some(first), Some(last)) = (first, last) {
        run.duration_seconds = Some((last - first) / 1000.0);
    }
    if run.date.is_none() {
        run.date = run.started.as_ref().map(|s| s[..10].to_string());
    }
}

/// `metrics.json`: numbers not already plotted become one-point series; the rest are params.
fn read_summary(run: &mut Run, text: &str, file: &str) {
    let value = match lenient_json::parse(text) {
        Ok(value) => value,
        Err(err) => {
            let message = format!("not valid JSON: {}", err.message);
            run.problems.push(Problem::error(file, err.line, message));
            return;
        }
    };
    let Value::Object(top) = value else {
        let message = "the top level is not an object; not read";
        run.problems.push(Problem::warning(file, None, message));
        return;
    };
    let last_step = run
        .metrics
        .iter()
        .filter_map(|s| s.points.iter().map(|p| p.step).max())
        .max();
    let step = top
        .get("step")
        .and_then(Value::as_u64)
        .or(last_step)
        .unwrap_or(0);
    let mut leftovers = Map::new();
    for (key, value) in top {
        if key != "step" {
            push_summary(run, file, &key, value, step, &mut leftovers);
        }
    }
    if !leftovers.is_empty() {
        if let Value::Object(params) = &mut run.params {
            params
                .entry("summary")
                .or_insert(lenient_json::plain(Value::Object(leftovers)));
        }
    }
}

fn push_summary(
    run: &mut Run,
    file: &str,
    name: &str,
    value: Value,
    step: u64,
    leftovers: &mut Map<String, Value>,
) {
    if let Value::Object(fields) = value {
        for (key, value) in fields {
            push_summary(run, file, &format!("{name}/{key}"), value, step, leftovers);
        }
    } else if let Some(number) = lenient_json::number(&value) {
        if !run.metrics.iter().any(|s| s.name == name) {
            run.push_point(name, file, Point::at(step, number));
        }
    } else if !value.is_null() {
        leftovers.insert(name.to_string(), value);
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests;
