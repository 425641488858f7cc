//! MLflow's file store: `mlruns/<experiment id>/<run id>/`, one folder per run.
//!
//! A run folder holds `meta.yaml` (name, status, start and end in
//! milliseconds), `params/<name>` and `tags/<name>` (one value per file),
//! `metrics/<name>` (one `timestamp value step` line per logged value) and
//! `artifacts/`. Names with `/` are subfolders (`metrics/train/loss` is the
//! metric `train/loss`). The experiment's own `meta.yaml`, one folder up,
//! gives the experiment's name.
//!
//! What becomes of each file:
//! - run `meta.yaml`: status (1 RUNNING, 2 SCHEDULED, 3 FINISHED, 4 FAILED,
//!   5 KILLED), start and end as ISO 8601 UTC, duration, and the run name
//!   (`run_name`, or `name` in MLflow 1.x, which also writes `run_uuid`).
//! - `tags/mlflow.runName`: the run's name, over `meta.yaml`'s; other tags go
//!   under the param `tags` (the bulky `mlflow.log-model.history` is left out).
//! - `params/<name>`: a string param each, kept as written (`[224, 224, 3]`
//!   stays text: MLflow stores every param as a string).
//! - `metrics/<name>`: a series each; repeated steps are all kept in file
//!   order; wall time counts from the run's start time.
//! - the experiment's `meta.yaml`: its `name` replaces `mlruns/<id>` in the
//!   run's group (`project/mlruns/0` becomes `project/Default`).
//!
//! Files under `artifacts/` and `outputs/` are what the run logged, never read.

pub(crate) mod clock;
mod files;

use crate::discover::FileEntry;
use crate::load::config::parse_yaml_params;
use crate::load::{FolderView, SourceText};
use crate::model::{Point, Problem, Run, Status};
use files::{parse_metric_lines, single_value, MetricLine};
use serde_json::{Map, Value};

/// The subfolders of a run folder that are read, in reading order.
const READ_FOLDERS: [&str; 3] = ["params", "tags", "metrics"];
/// Tags that are not worth a param: the run name (used as the name) and bulky JSON.
const SKIPPED_TAGS: [&str; 2] = ["mlflow.runName", "mlflow.log-model.history"];

/// Claim a run folder: a `meta.yaml` with a run id, beside `metrics/`,
/// `params/` or `tags/`. The experiment's `meta.yaml` comes first, then the
/// run's, then every file below `params/`, `tags/` and `metrics/`.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let Some(meta) = view.file("meta.yaml") else {
        return Vec::new();
    };
    let has_store_folder = READ_FOLDERS
        .iter()
        .any(|d| view.folder.subdirs.iter().any(|s| s == d));
    if !has_store_folder || !looks_like_run_meta(&view.head(meta)) {
        return Vec::new();
    }
    let experiment_meta = view
        .dir
        .rsplit_once('/')
        .map_or((!view.dir.is_empty()).then_some(""), |(parent, _)| {
            Some(parent)
        });
    let experiment_meta = experiment_meta
        .and_then(|parent| view.tree.folder(parent))
        .and_then(|folder| folder.files.iter().find(|f| f.name == "meta.yaml"));
    let mut out: Vec<FileEntry> = experiment_meta.into_iter().cloned().collect();
    out.push(meta.clone());
    for sub in READ_FOLDERS {
        out.extend(files_below(view, sub));
    }
    out
}

/// Every file at any depth below the subfolder `sub` of the view, sorted by path.
fn files_below(view: &FolderView, sub: &str) -> Vec<FileEntry> {
    let top = join(view.dir, sub);
    let prefix = format!("{top}/");
    view.tree
        .dirs
        .range(top.clone()..)
        .take_while(|(dir, _)| dir.starts_with(&top))
        .filter(|(dir, _)| **dir == top || dir.starts_with(&prefix))
        .flat_map(|(_, folder)| folder.files.iter().cloned())
        .collect()
}

/// True when a `meta.yaml` head has a run id key (`run_id`, or `run_uuid` in MLflow 1.x).
pub fn looks_like_run_meta(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    head.lines()
        .any(|l| l.starts_with("run_uuid:") || l.starts_with("run_id:"))
}

/// The files read line by line (and streamed when large): the metric files.
pub fn by_lines(dir: &str, rel: &str) -> bool {
    rel.strip_prefix(&join(dir, "metrics"))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Read a claimed run folder into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let own_meta = join(&run.path, "meta.yaml");
    let [params_dir, tags_dir, metrics_dir] = READ_FOLDERS.map(|d| join(&run.path, d) + "/");
    let mut params = Map::new();
    let mut tags = Map::new();
    let mut tag_name = None;
    let mut meta = None;
    let mut metric_files = Vec::new();
    for source in texts {
        if source.rel == own_meta {
            meta = Some(read_meta(&mut run, source.text(), &source.rel));
        } else if let Some(name) = source.rel.strip_prefix(&params_dir) {
            params.insert(name.to_string(), Value::String(single_value(source.text())));
        } else if let Some(name) = source.rel.strip_prefix(&tags_dir) {
            let value = single_value(source.text());
            if name == "mlflow.runName" {
                tag_name = Some(value);
            } else if !SKIPPED_TAGS.contains(&name) {
                tags.insert(name.to_string(), Value::String(value));
            }
        } else if let Some(name) = source.rel.strip_prefix(&metrics_dir) {
            let (lines, problems) = parse_metric_lines(source.lines(), &source.rel);
            run.problems.extend(problems);
            metric_files.push((name.to_string(), source.rel.clone(), lines));
        } else if source.name == "meta.yaml" {
            read_experiment_meta(&mut run, source.text(), &source.rel);
        }
    }
    if !tags.is_empty() && !params.contains_key("tags") {
        params.insert("tags".to_string(), Value::Object(tags));
    }
    run.params = Value::Object(params);
    let meta = meta.unwrap_or_default();
    if let Some(name) = tag_name
        .or(meta.name.clone())
        .filter(|n| !n.trim().is_empty())
    {
        run.name = name.trim().to_string();
    }
    set_times(&mut run, &meta);
    set_status(&mut run, &meta, &own_meta);
    push_metrics(&mut run, &metric_files, meta.start_ms);
    vec![run]
}

/// What a run's `meta.yaml` says.
#[derive(Debug, Default)]
struct RunMeta {
    name: Option<String>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    /// The status as written: a number (file store) or a name.
    status: Option<Value>,
    deleted: bool,
    read: bool,
}

fn read_meta(run: &mut Run, text: &str, file: &str) -> RunMeta {
    let (value, problems) = parse_yaml_params(text, file);
    run.problems.extend(problems);
    let text_of = |key: &str| match value.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };
    let millis = |key: &str| match value.get(key) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    RunMeta {
        name: text_of("run_name").or_else(|| text_of("name")),
        start_ms: millis("start_time"),
        end_ms: millis("end_time"),
        status: value.get("status").filter(|v| !v.is_null()).cloned(),
        deleted: text_of("lifecycle_stage").as_deref() == Some("deleted"),
        read: value.as_object().is_some_and(|m| !m.is_empty()),
    }
}

/// The experiment's name replaces the store folders in the run's group.
fn read_experiment_meta(run: &mut Run, text: &str, file: &str) {
    let (value, problems) = parse_yaml_params(text, file);
    run.problems.extend(problems);
    let name = match value.get("name") {
        Some(Value::String(s)) => s.trim().trim_matches('/').to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return,
    };
    if !name.is_empty() {
        run.group = experiment_group(&run.group, &name);
    }
}

/// `project/mlruns/0` with experiment `Default` -> `project/Default`; the
/// experiment id folder and the store folder go. An experiment named like the
/// folder holding the store (`baseline/mlruns/1` named `baseline`) is not repeated.
fn experiment_group(group: &str, experiment: &str) -> String {
    let mut parts: Vec<&str> = group.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    parts.pop();
    if parts.last() != Some(&experiment) {
        parts.push(experiment);
    }
    parts.join("/")
}

fn set_times(run: &mut Run, meta: &RunMeta) {
    run.started = meta.start_ms.and_then(clock::iso_from_unix_ms);
    run.ended = meta.end_ms.and_then(clock::iso_from_unix_ms);
    if let (Some(start), Some(end)) = (meta.start_ms, meta.end_ms) {
        if end >= start {
            run.duration_seconds = Some((end - start) as f64 / 1000.0);
        }
    }
    if run.date.is_none() {
        run.date = run.started.as_ref().map(|s| s[..10].to_string());
    }
}

fn set_status(run: &mut Run, meta: &RunMeta, file: &str) {
    let code = match &meta.status {
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(status_name(s.trim())),
        Some(other) => Some(status_name(&other.to_string())),
        None => None,
    };
    let (status, reason) = match code.as_deref() {
        Some("FINISHED") => (Status::Completed, "meta.yaml: status FINISHED".to_string()),
        Some("FAILED") => (Status::Failed, "meta.yaml: status FAILED".to_string()),
        Some("KILLED") => (
            Status::Failed,
            "meta.yaml: status KILLED (the run was stopped)".to_string(),
        ),
        Some("RUNNING") if meta.end_ms.is_none() => (
            Status::Running,
            "meta.yaml: status RUNNING and no end_time: still running, or its process died \
             without closing the run"
                .to_string(),
        ),
        Some("RUNNING") => (Status::Running, "meta.yaml: status RUNNING".to_string()),
        Some("SCHEDULED") => (
            Status::Unknown,
            "meta.yaml: status SCHEDULED (the run never started)".to_string(),
        ),
        Some(other) => {
            let message = format!("unknown MLflow run status {other:?}");
            run.problems.push(Problem::warning(file, None, message));
            (Status::Unknown, format!("meta.yaml: status {other}"))
        }
        None if meta.read => (Status::Unknown, "meta.yaml records no status".to_string()),
        None => (Status::Unknown, "meta.yaml could not be read".to_string()),
    };
    run.status = status;
    run.status_reason = reason;
    if meta.deleted {
        run.status_reason
            .push_str(" (the run is deleted in MLflow)");
    }
}

/// MLflow's `RunStatus` name for a status as written (`3` or `FINISHED`).
fn status_name(written: &str) -> String {
    match written {
        "1" => "RUNNING".to_string(),
        "2" => "SCHEDULED".to_string(),
        "3" => "FINISHED".to_string(),
        "4" => "FAILED".to_string(),
        "5" => "KILLED".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

/// Push every metric file's lines; wall time counts from the run's start
/// (or, without one, from the earliest timestamp of any metric).
fn push_metrics(run: &mut Run, files: &[(String, String, Vec<MetricLine>)], start_ms: Option<i64>) {
    let earliest = files
        .iter()
        .flat_map(|(_, _, lines)| lines.iter().map(|l| l.timestamp))
        .min();
    let base = start_ms.or(earliest);
    for (name, rel, lines) in files {
        for line in lines {
            let point = Point {
                step: line.step,
                value: line.value,
                wall_time: base.map(|b| line.timestamp.saturating_sub(b) as f64 / 1000.0),
                epoch: None,
            };
            run.push_point(name, rel, point);
        }
    }
}

/// `dir/name`, or `name` when `dir` is ROOT.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests;
