//! Sacred's `metrics.json`: `{name: {steps: [...], timestamps: [...], values: [...]}}`,
//! three parallel lists per metric (`_run.log_scalar(name, value, step)`).
//!
//! Timestamps are naive ISO 8601 in UTC; wall time counts from the run's
//! `start_time` (or, without one, from the earliest timestamp). Values that
//! Python wrote as `NaN`/`Infinity` are kept; a value that is not a number
//! (a jsonpickled numpy scalar, say) is skipped with one warning per metric.

use crate::load::lenient_json::{self, Document};
use crate::load::mlflow::clock;
use crate::model::{Point, Problem, Run};
use serde_json::Value;

/// Read every metric of `metrics.json` into `run`.
pub(super) fn read_metrics(run: &mut Run, text: &str, file: &str, start_seconds: Option<f64>) {
    let doc = lenient_json::parse_object(text);
    if let Some(err) = &doc.error {
        let kept = if doc.top.is_empty() {
            String::new()
        } else {
            format!("; the {} metrics before it are read", doc.top.len())
        };
        let message = format!("not valid JSON: {}{kept}", err.message);
        run.problems.push(Problem::error(file, err.line, message));
    }
    let times = |entry: &Value| -> Vec<Option<f64>> {
        list(entry, "timestamps")
            .iter()
            .map(|t| t.as_str().and_then(clock::unix_seconds_from_iso))
            .collect()
    };
    let earliest = doc.top.values().flat_map(times).flatten().reduce(f64::min);
    let base = start_seconds.or(earliest);
    for (name, entry) in &doc.top {
        read_metric(run, &doc, file, name, entry, &times(entry), base);
    }
}

fn read_metric(
    run: &mut Run,
    doc: &Document,
    file: &str,
    name: &str,
    entry: &Value,
    times: &[Option<f64>],
    base: Option<f64>,
) {
    let line = doc.member_lines.get(name).copied();
    if !entry.is_object() {
        let message = format!(
            "metric {name:?} is {}, not an object with steps and values; skipped",
            lenient_json::kind_of(entry)
        );
        run.problems.push(Problem::warning(file, line, message));
        return;
    }
    let (steps, values) = (list(entry, "steps"), list(entry, "values"));
    if steps.len() != values.len() {
        let message = format!(
            "metric {name:?} has {} steps but {} values; the first {} are read",
            steps.len(),
            values.len(),
            steps.len().min(values.len())
        );
        run.problems.push(Problem::warning(file, line, message));
    }
    let mut skipped = 0;
    for (i, (step, value)) in steps.iter().zip(values).enumerate() {
        let (Some(step), Some(value)) = (step_of(step), lenient_json::number(value)) else {
            skipped += 1;
            continue;
        };
        let wall_time = times
            .get(i)
            .copied()
            .flatten()
            .zip(base)
            .map(|(t, b)| t - b);
        let point = Point {
            step,
            value,
            wall_time,
            epoch: None,
        };
        run.push_point(name, file, point);
    }
    if skipped > 0 {
        let message = format!(
            "metric {name:?}: {skipped} entries without a numeric value or a non-negative \
             integer step were skipped"
        );
        run.problems.push(Problem::warning(file, line, message));
    }
}

/// The list `key` of a metric entry (empty when missing or not a list).
fn list<'a>(entry: &'a Value, key: &str) -> &'a [Value] {
    entry
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A step: a non-negative integer, or a float with no fractional part.
fn step_of(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        let f = value.as_f64()?;
        (f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
    })
}
