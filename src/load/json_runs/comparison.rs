//! A runs comparison, `training_runs_comparison.json`: several runs side by side.
//!
//! Each entry of `runs` is a run at `<file>#<run_name>`: `hyperparameters`
//! (without `null`s) and `run_path` are its params, `final_metrics` goes under
//! the param `results`, and `training_metrics` holds its series as parallel
//! lists keyed by `iterations`.
//!
//! Those lists are not always aligned by index. The script that writes them
//! parses a training log's validation lines first, appending each validation
//! iteration to `iterations` and its value to `val_loss`, then its train
//! lines, appending only the iterations not seen yet. So `iterations` is the
//! k validation iterations followed by the train-only ones; the validation
//! lists pair with the first k, the train lists with the rest. When a train
//! report falls on a validation iteration, the script writes its train loss by
//! position over another iteration's value while the per-line lists
//! (`learning_rate`, `tokens_per_sec`, ...) grow by one: the train lists then
//! disagree in length, and none of them is read (a warning says why) rather
//! than guessed. When every list is as long as `iterations`, they are aligned
//! by index. Any other length is a problem and that list is not read.
//!
//! With empty `training_metrics`, the run's final values are single points at
//! `final_iteration` (named as written: `final_train_loss`, ...). The entry's
//! `timestamp` is when the comparison was made, not when the run ran: it is
//! not read. Status is left to the planned steps (`hyperparameters.iters`).

use super::{file_run, COMPARISON_FORMAT};
use crate::load::lenient_json::{kind_of, number, plain, whole_number, Document};
use crate::load::SourceText;
use crate::model::{classify, Point, Problem, Run, Split};
use serde_json::{Map, Value};

/// Read every entry of `runs` into its run; file-level problems go to the first.
pub(super) fn read_comparison(base: &Run, doc: Document, source: &SourceText) -> Vec<Run> {
    let file = source.rel.as_str();
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut problems = Vec::new();
    if let Some(err) = &doc.error {
        let message = if err.cut_short {
            format!(
                "the file is cut short ({}); the complete runs before it are still read",
                err.message
            )
        } else {
            format!(
                "not valid JSON: {}; the complete runs before it are still read",
                err.message
            )
        };
        problems.push(Problem::error(file, err.line, message));
    }
    let lines = doc.element_lines.get("runs").map_or(&[][..], Vec::as_slice);
    let entries = match doc.top.get("runs") {
        Some(Value::Array(entries)) => entries.as_slice(),
        other => {
            if doc.error.is_none() {
                let what = other.map_or("missing", kind_of);
                let message = format!("\"runs\" is {what}, not a list; no runs read");
                problems.push(Problem::warning(
                    file,
                    doc.member_lines.get("runs").copied(),
                    message,
                ));
            }
            &[]
        }
    };
    let mut runs: Vec<Run> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let line = lines.get(index).copied();
        let Value::Object(entry) = entry else {
            let message = format!(
                "runs entry {} is {}, not an object; skipped",
                index + 1,
                kind_of(entry)
            );
            problems.push(Problem::warning(file, line, message));
            continue;
        };
        let name = match entry.get("run_name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => format!("run {}", index + 1),
        };
        let mut path = format!("{file}#{name}");
        if runs.iter().any(|r| r.path == path) {
            path = format!("{path}-{}", index + 1);
        }
        let mut run = Run::new(&path, folder, COMPARISON_FORMAT);
        run.name = name;
        run.sources = vec![file.to_string()];
        read_entry(&mut run, entry, file, line);
        runs.push(run);
    }
    if runs.is_empty() {
        let mut run = file_run(base, file, COMPARISON_FORMAT);
        run.group = folder.to_string();
        if problems.is_empty() {
            problems.push(Problem::warning(file, None, "the comparison holds no runs"));
        }
        runs.push(run);
    }
    runs[0].problems.splice(0..0, problems);
    runs
}

/// One entry of `runs` into `run`.
fn read_entry(run: &mut Run, entry: &Map<String, Value>, file: &str, line: Option<usize>) {
    let mut params = Map::new();
    match entry.get("hyperparameters") {
        Some(Value::Object(h)) => params.extend(without_nulls(h)),
        None | Some(Value::Null) => {}
        Some(other) => {
            let message = format!(
                "\"hyperparameters\" of {} is {}, not an object; not read",
                run.name,
                kind_of(other)
            );
            run.problems.push(Problem::warning(file, line, message));
        }
    }
    if let Some(path) = entry.get("run_path").filter(|p| p.is_string()) {
        params.insert("run_path".to_string(), path.clone());
    }
    let finals = match entry.get("final_metrics") {
        Some(Value::Object(f)) => without_nulls(f),
        _ => Map::new(),
    };
    if !finals.is_empty() {
        params.insert("results".to_string(), Value::Object(finals.clone()));
    }
    run.params = plain(Value::Object(params));
    let read_any = match entry.get("training_metrics") {
        Some(Value::Object(lists)) => read_lists(run, lists, file, line),
        None | Some(Value::Null) => false,
        Some(other) => {
            let message = format!(
                "\"training_metrics\" is {}, not an object; not read",
                kind_of(other)
            );
            run.problems.push(Problem::warning(file, line, message));
            false
        }
    };
    if !read_any {
        read_final_points(run, &finals, file, line);
    }
    run.status_reason = "the comparison records no end of run".to_string();
}

fn without_nulls(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `final_metrics` as single points at `final_iteration`.
fn read_final_points(run: &mut Run, finals: &Map<String, Value>, file: &str, line: Option<usize>) {
    let values: Vec<(&String, f64)> = finals
        .iter()
        .filter(|(k, _)| k.as_str() != "final_iteration")
        .filter_map(|(k, v)| number(v).map(|n| (k, n)))
        .collect();
    if values.is_empty() {
        return;
    }
    let Some(step) = finals.get("final_iteration").and_then(whole_number) else {
        let message = "final_metrics has no whole-number final_iteration; its values are kept under the param \"results\" only";
        run.problems.push(Problem::warning(file, line, message));
        return;
    };
    for (name, value) in values {
        run.push_point(name, file, Point::at(step, value));
    }
}

/// The parallel lists of `training_metrics` as series; true when any list was read.
fn read_lists(
    run: &mut Run,
    metrics: &Map<String, Value>,
    file: &str,
    line: Option<usize>,
) -> bool {
    let lists: Vec<(&str, &[Value])> = metrics
        .iter()
        .filter(|(k, _)| k.as_str() != "iterations")
        .filter_map(|(k, v)| match v {
            Value::Array(items) if !items.is_empty() => Some((k.as_str(), items.as_slice())),
            _ => None,
        })
        .collect();
    if lists.is_empty() {
        return false;
    }
    let Some(iterations) = metrics.get("iterations").and_then(Value::as_array) else {
        let message = "training_metrics has lists but no \"iterations\" list; they are not read";
        run.problems.push(Problem::warning(file, line, message));
        return false;
    };
    let steps: Vec<Option<u64>> = iterations.iter().map(whole_number).collect();
    if steps.iter().any(Option::is_none) {
        let message =
            "\"iterations\" holds values that are not whole numbers; their positions are skipped";
        run.problems.push(Problem::warning(file, line, message));
    }
    let n = steps.len();
    let is_val = |name: &str| classify(name).1 == Split::Val;
    let k = lists
        .iter()
        .find(|(name, _)| *name == "val_loss")
        .or_else(|| lists.iter().find(|(name, _)| is_val(name)))
        .map_or(0, |(_, items)| items.len());
    let mut read_any = false;
    if k == 0 || k >= n {
        for (name, items) in &lists {
            if items.len() == n {
                read_any |= push_list(run, name, items, &steps, file, line);
            } else {
                let message = format!(
                    "\"{name}\" has {} values for {n} iterations; not read",
                    items.len()
                );
                run.problems.push(Problem::warning(file, line, message));
            }
        }
        return read_any;
    }
    let (val_steps, train_steps) = steps.split_at(k);
    for (name, items) in lists.iter().filter(|(name, _)| is_val(name)) {
        if items.len() == k {
            read_any |= push_list(run, name, items, val_steps, file, line);
        } else {
            let message = format!(
                "\"{name}\" has {} values for the {k} validation iterations listed first; not read",
                items.len()
            );
            run.problems.push(Problem::warning(file, line, message));
        }
    }
    let train: Vec<&(&str, &[Value])> = lists.iter().filter(|(name, _)| !is_val(name)).collect();
    if train.iter().all(|(_, items)| items.len() == n - k) {
        for (name, items) in train {
            read_any |= push_list(run, name, items, train_steps, file, line);
        }
    } else {
        let lengths: Vec<String> = train
            .iter()
            .map(|(name, items)| format!("{name} {}", items.len()))
            .collect();
        let message = format!(
            "the train lists ({}) do not all match the {} train-only iterations after the {k} validation ones: \
             a train report on a validation iteration was written over another iteration's value, so no train list is read",
            lengths.join(", "),
            n - k
        );
        run.problems.push(Problem::warning(file, line, message));
    }
    read_any
}

/// Pair a list with its steps by position; true when a point was added.
fn push_list(
    run: &mut Run,
    name: &str,
    items: &[Value],
    steps: &[Option<u64>],
    file: &str,
    line: Option<usize>,
) -> bool {
    let mut added = false;
    let mut wrong = 0;
    for (item, step) in items.iter().zip(steps) {
        match (number(item), step) {
            (Some(value), Some(step)) => {
                run.push_point(name, file, Point::at(*step, value));
                added = true;
            }
            (None, _) if !item.is_null() => wrong += 1,
            _ => {}
        }
    }
    if wrong > 0 {
        let message = format!("\"{name}\" holds {wrong} values that are not numbers; skipped");
        run.problems.push(Problem::warning(file, line, message));
    }
    added
}
