//! Exports beside `data/runs.json` for scripts that want a flat table or the
//! seed tools' file:
//!
//! - `data/runs.csv`: one row per run, summary numbers then every param
//!   (flattened to dot keys, the union over runs in sorted order);
//! - `data/training_runs_comparison.json`: the schema the comparison scripts
//!   write (`timestamp`, `runs[]` of `run_name`, `run_path`, `timestamp`,
//!   `hyperparameters`, `training_metrics` with lists aligned by iteration
//!   (`null` where a series has no value at an iteration), `final_metrics`
//!   with `train_val_gap`, and `comparison_table` as text), so scripts
//!   written for that file keep working. Non-finite values are the strings
//!   `"NaN"`, `"Infinity"`, `"-Infinity"` as in runs.json; each run keeps at
//!   most [`MAX_ITERATIONS`] iterations (evenly, first and last always).
//!
//! Deterministic: the top-level `timestamp` is the latest start or end time of
//! any run, never the clock.

use crate::analyze::Analyzed;
use crate::model::{Family, Series, Split};
use crate::render::view::fmt_opt;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Iterations per run in the comparison file.
pub const MAX_ITERATIONS: usize = 2000;

/// `data/runs.csv`.
pub fn runs_csv(runs: &[Analyzed]) -> Result<String> {
    let flats: Vec<BTreeMap<String, String>> = runs.iter().map(|a| a.run.flat_params()).collect();
    let keys: BTreeSet<&String> = flats.iter().flat_map(|f| f.keys()).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "id",
        "name",
        "group",
        "path",
        "format",
        "status",
        "duration_seconds",
        "last_step",
        "final_train_loss",
        "best_train_loss",
        "final_val_loss",
        "best_val_loss",
        "best_val_step",
        "gap_percent",
        "diagnostics",
        "problems",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(keys.iter().map(|k| format!("params.{k}")));
    out.write_record(&header)?;
    for (a, flat) in runs.iter().zip(&flats) {
        let h = &a.headline;
        let number = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
        let findings: Vec<&str> = a
            .diagnostics
            .iter()
            .filter(|d| d.severity >= crate::model::Severity::Warning)
            .map(|d| d.code.as_str())
            .collect();
        let mut row = vec![
            a.run.id.clone(),
            a.run.name.clone(),
            a.run.group.clone(),
            a.run.path.clone(),
            a.run.format.clone(),
            a.run.status.as_str().to_string(),
            number(a.run.duration_seconds),
            h.last_step.map(|s| s.to_string()).unwrap_or_default(),
            number(h.final_train_loss),
            number(h.best_train_loss),
            number(h.final_val_loss),
            number(h.best_val_loss),
            h.best_val_step.map(|s| s.to_string()).unwrap_or_default(),
            number(h.gap_percent),
            findings.join(";"),
            a.run.problems.len().to_string(),
        ];
        row.extend(
            keys.iter()
                .map(|k| flat.get(*k).cloned().unwrap_or_default()),
        );
        out.write_record(&row)?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// `data/training_runs_comparison.json`.
pub fn comparison_json(runs: &[Analyzed]) -> Result<String> {
    let mut out = Vec::new();
    write_comparison_json(runs, &mut out)?;
    Ok(String::from_utf8(out)?)
}

/// [`comparison_json`] written to `out` a few runs at a time: for a thousand
/// runs it is over a hundred megabytes, too much to hold at once. The runs'
/// entries are made and formatted in parallel, a chunk at a time: written one
/// after another they were a quarter of a cached 1,000-run rebuild.
pub fn write_comparison_json(
    runs: &[Analyzed],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let timestamp = runs
        .iter()
        .flat_map(|a| [a.run.ended.as_deref(), a.run.started.as_deref()])
        .flatten()
        .max()
        .map_or(Value::Null, |t| Value::String(t.to_string()));
    // What serde_json's pretty printer writes for the document, its keys in
    // the sorted order a JSON object of them would have.
    out.write_all(b"{\n  \"comparison_table\": ")?;
    serde_json::to_writer(&mut *out, &comparison_table(runs))?;
    out.write_all(b",\n  \"runs\": [")?;
    let chunk = rayon::current_num_threads().max(1) * 8;
    for (c, runs_chunk) in runs.chunks(chunk).enumerate() {
        let entries: Vec<Vec<u8>> = runs_chunk
            .par_iter()
            .map(|a| pretty_at_depth_two(&comparison_run(a)))
            .collect();
        for (i, entry) in entries.iter().enumerate() {
            out.write_all(if c == 0 && i == 0 { b"\n" } else { b",\n" })?;
            out.write_all(entry)?;
        }
    }
    out.write_all(if runs.is_empty() { b"]" } else { b"\n  ]" })?;
    out.write_all(b",\n  \"timestamp\": ")?;
    serde_json::to_writer(&mut *out, &timestamp)?;
    out.write_all(b"\n}\n")
}

/// `value` pretty-printed as an element of the document's `runs` list: every
/// line indented by four spaces. Strings escape their newlines, so each raw
/// newline is the printer's.
fn pretty_at_depth_two(value: &Value) -> Vec<u8> {
    let text = serde_json::to_vec_pretty(value).unwrap_or_default();
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    out.extend_from_slice(b"    ");
    let mut rest = text.as_slice();
    while let Some(at) = memchr::memchr(b'\n', rest) {
        out.extend_from_slice(&rest[..=at]);
        out.extend_from_slice(b"    ");
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out
}

/// The series a comparison entry carries, by the seed tools' names.
fn chosen_series(a: &Analyzed) -> Vec<(&'static str, &Series)> {
    let run = &a.run;
    let first = |family: Family| run.metrics.iter().find(|s| s.family == family);
    let mut out = Vec::new();
    if let Some(s) = run.series(Family::Loss, Split::Train) {
        out.push(("train_loss", s));
    }
    if let Some(s) = run.series(Family::Loss, Split::Val) {
        out.push(("val_loss", s));
    }
    if let Some(s) = first(Family::LearningRate) {
        out.push(("learning_rate", s));
    }
    if let Some(s) = first(Family::Throughput) {
        out.push(("tokens_per_sec", s));
    }
    out
}

fn comparison_run(a: &Analyzed) -> Value {
    let series = chosen_series(a);
    let all: BTreeSet<u64> = series
        .iter()
        .flat_map(|(_, s)| s.points.iter().map(|p| p.step))
        .collect();
    let iterations = thin(all.into_iter().collect());
    let mut metrics = Map::new();
    metrics.insert("iterations".into(), json!(iterations));
    for (name, s) in &series {
        let by_step: BTreeMap<u64, f64> = s.points.iter().map(|p| (p.step, p.value)).collect();
        let values: Vec<Value> = iterations
            .iter()
            .map(|step| by_step.get(step).map_or(Value::Null, |v| number(*v)))
            .collect();
        metrics.insert((*name).into(), Value::Array(values));
    }
    let h = &a.headline;
    let gap = match (h.final_val_loss, h.final_train_loss) {
        (Some(v), Some(t)) if v.is_finite() && t.is_finite() => json!(v - t),
        _ => Value::Null,
    };
    let opt = |v: Option<f64>| v.map_or(Value::Null, number);
    json!({
        "run_name": a.run.name,
        "run_path": a.run.path,
        "timestamp": a.run.started,
        "hyperparameters": a.run.params,
        "training_metrics": metrics,
        "final_metrics": {
            "final_iteration": h.last_step,
            "final_train_loss": opt(h.final_train_loss),
            "final_val_loss": opt(h.final_val_loss),
            "best_val_loss": opt(h.best_val_loss),
            "best_val_iteration": h.best_val_step,
            "train_val_gap": gap,
            "status": a.run.status.as_str(),
        },
    })
}

/// At most [`MAX_ITERATIONS`] steps, evenly spaced, the first and last always kept.
fn thin(steps: Vec<u64>) -> Vec<u64> {
    if steps.len() <= MAX_ITERATIONS {
        return steps;
    }
    let last = steps.len() - 1;
    (0..MAX_ITERATIONS)
        .map(|i| steps[i * last / (MAX_ITERATIONS - 1)])
        .collect()
}

/// A number, or the runs.json spelling of a non-finite one.
fn number(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v.is_nan() {
        json!("NaN")
    } else if v > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

/// The plain-text table the seed tools print.
fn comparison_table(runs: &[Analyzed]) -> String {
    let width = runs
        .iter()
        .map(|a| a.run.name.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>12}  {:>12}  {:>12}  {:>10}",
        "Run", "Final train", "Final val", "Best val", "Gap"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 54));
    for a in runs {
        let h = &a.headline;
        let gap = h
            .gap_percent
            .map(|g| format!("{g:+.1}%"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<width$}  {:>12}  {:>12}  {:>12}  {:>10}",
            a.run.name,
            fmt_opt(h.final_train_loss),
            fmt_opt(h.final_val_loss),
            fmt_opt(h.best_val_loss),
            gap
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{analyze, Thresholds};
    use crate::model::{Point, Run};

    fn run(name: &str, lr: f64, val_at: &[(u64, f64)]) -> Analyzed {
        let mut r = Run::new(&format!("exp/{name}"), "exp", "test");
        r.id = name.into();
        r.params = json!({"optimizer": {"lr": lr}, "note": "a, \"quoted\" value"});
        r.started = Some(format!(
            "2026-03-0{}T10:00:00",
            if name == "b" { 2 } else { 1 }
        ));
        for step in [10, 20, 30, 40] {
            r.push_point("train/loss", "f", Point::at(step, 3.0 - step as f64 / 20.0));
        }
        for &(step, v) in val_at {
            r.push_point("val/loss", "f", Point::at(step, v));
        }
        r.finish_metrics();
        analyze(r, &Thresholds::default())
    }

    #[test]
    fn csv_has_one_row_per_run_and_every_param() {
        let runs = vec![run("a", 1e-4, &[(20, 2.5), (40, 1.9)]), run("b", 3e-4, &[])];
        let text = runs_csv(&runs).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        assert!(header.iter().any(|h| h == "params.optimizer.lr"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(&rows[0][col("params.optimizer.lr")], "0.0001");
        assert_eq!(
            &rows[0][col("params.note")],
            "a, \"quoted\" value",
            "quoting survives"
        );
        assert_eq!(&rows[0][col("best_val_loss")], "1.9");
        assert_eq!(&rows[1][col("best_val_loss")], "");
    }

    #[test]
    fn comparison_lists_are_aligned_by_iteration() {
        let runs = vec![
            run("a", 1e-4, &[(20, 2.5), (40, f64::NAN)]),
            run("b", 3e-4, &[]),
        ];
        let doc: Value = serde_json::from_str(&comparison_json(&runs).unwrap()).unwrap();
        assert_eq!(
            doc["timestamp"], "2026-03-02T10:00:00",
            "the latest run time, not the clock"
        );
        let a = &doc["runs"][0];
        assert_eq!(a["run_name"], "a");
        assert_eq!(a["hyperparameters"]["optimizer"]["lr"], 1e-4);
        let m = &a["training_metrics"];
        assert_eq!(m["iterations"], json!([10, 20, 30, 40]));
        assert_eq!(m["train_loss"], json!([2.5, 2.0, 1.5, 1.0]));
        assert_eq!(m["val_loss"], json!([null, 2.5, null, "NaN"]));
        assert_eq!(a["final_metrics"]["final_iteration"], 40);
        assert_eq!(
            a["final_metrics"]["train_val_gap"],
            Value::Null,
            "the final val is NaN"
        );
        assert!(doc["runs"][1]["training_metrics"].get("val_loss").is_none());
        let table = doc["comparison_table"].as_str().unwrap();
        assert!(
            table.starts_with("Run  ") && table.lines().count() == 4,
            "{table}"
        );
    }

    #[test]
    fn the_comparison_file_is_what_serde_would_pretty_print() {
        // Across chunk boundaries, empty, and with strings holding newlines.
        for count in [0, 1, 37] {
            let runs: Vec<Analyzed> = (0..count)
                .map(|i| run(&format!("r{i}\nline"), 1e-4, &[(20, 2.5 + i as f64)]))
                .collect();
            let whole = json!({
                "comparison_table": comparison_table(&runs),
                "runs": runs.iter().map(comparison_run).collect::<Vec<_>>(),
                "timestamp": runs.iter().flat_map(|a| [a.run.ended.clone(), a.run.started.clone()]).flatten().max(),
            });
            let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
            assert_eq!(comparison_json(&runs).unwrap(), expected, "{count} runs");
        }
    }

    #[test]
    fn long_series_are_thinned_keeping_the_ends() {
        let steps: Vec<u64> = (0..10_000).collect();
        let kept = thin(steps);
        assert_eq!(kept.len(), MAX_ITERATIONS);
        assert_eq!((kept[0], *kept.last().unwrap()), (0, 9_999));
    }
}
