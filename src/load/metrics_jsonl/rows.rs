//! One parsed `metrics.jsonl` row into points: its step, time and epoch, and a
//! point per numeric field.
//!
//! Rows are read in file order and carry state (the last step, the first
//! time, how many problems so far), so a row without a usable `step` continues
//! from the previous one and wall time counts from the file's first row.

use super::tokens::metric_value;
use crate::model::{Point, Problem, Run};
use serde_json::{Map, Value};

/// Fields that describe a row rather than measure something.
const ROW_FIELDS: [&str; 4] = ["step", "time", "timestamp", "epoch"];

/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 50;

/// State carried from row to row while reading one file.
#[derive(Default)]
pub(super) struct RowReader<'a> {
    file: &'a str,
    last_step: Option<u64>,
    first_time: Option<f64>,
    warned_missing_step: bool,
    problem_count: usize,
}

impl<'a> RowReader<'a> {
    pub(super) fn new(file: &'a str) -> Self {
        RowReader {
            file,
            ..RowReader::default()
        }
    }

    /// Push a point for every numeric field of `row`, at the row's step.
    pub(super) fn read_row(&mut self, run: &mut Run, row: &Map<String, Value>, line_no: usize) {
        let step = match row.get("step") {
            Some(value) => match step_value(value) {
                Some(step) => step,
                None => {
                    let message = format!(
                        "\"step\" is not a non-negative integer ({}); using the next step",
                        value.to_string().chars().take(40).collect::<String>()
                    );
                    self.problem(run, Problem::warning(self.file, Some(line_no), message));
                    self.next_step()
                }
            },
            None => {
                if !self.warned_missing_step {
                    self.warned_missing_step = true;
                    let message =
                        "row has no \"step\"; using the previous step + 1 (reported once per file)";
                    self.problem(run, Problem::warning(self.file, Some(line_no), message));
                }
                self.next_step()
            }
        };
        self.last_step = Some(step);
        let time = row
            .get("time")
            .or_else(|| row.get("timestamp"))
            .and_then(metric_value)
            .filter(|t| t.is_finite());
        // Wall time counts from the first time this file records, so it is "seconds since start".
        let wall_time = time.map(|t| t - *self.first_time.get_or_insert(t));
        let epoch = row
            .get("epoch")
            .and_then(metric_value)
            .filter(|e| e.is_finite());
        let template = Point {
            step,
            value: 0.0,
            wall_time,
            epoch,
        };
        for (key, value) in row {
            if !ROW_FIELDS.contains(&key.as_str()) {
                push_metric(run, self.file, key, value, template);
            }
        }
    }

    fn next_step(&self) -> u64 {
        self.last_step.map_or(0, |s| s.saturating_add(1))
    }

    /// Record a problem, up to [`MAX_PROBLEMS_PER_FILE`] and one line for the rest.
    pub(super) fn problem(&mut self, run: &mut Run, problem: Problem) {
        self.problem_count += 1;
        if self.problem_count <= MAX_PROBLEMS_PER_FILE {
            run.problems.push(problem);
        } else if self.problem_count == MAX_PROBLEMS_PER_FILE + 1 {
            let message =
                format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
            run.problems
                .push(Problem::warning(self.file, None, message));
        }
    }
}

/// Push `value` (or, for an object, each numeric leaf under `name/`) as points.
fn push_metric(run: &mut Run, file: &str, name: &str, value: &Value, template: Point) {
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                push_metric(run, file, &format!("{name}/{key}"), inner, template);
            }
        }
        other => {
            // Strings, booleans, null and arrays are not measurements: skipped without a word.
            if let Some(v) = metric_value(other) {
                run.push_point(
                    name,
                    file,
                    Point {
                        value: v,
                        ..template
                    },
                );
            }
        }
    }
}

/// A row's `step` as a non-negative integer (`10`, `10.0` or `"10"`).
fn step_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            // `10.0` is a step; `10.5`, `-1` and `1e30` are not.
            (f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::metrics_jsonl::tests::{read, values};
    use crate::model::Severity;

    #[test]
    fn missing_step_counts_on_and_warns_once() {
        let run =
            read("{\"loss\": 3}\n{\"loss\": 2}\n{\"step\": 10, \"loss\": 1}\n{\"loss\": 0.5}\n");
        assert_eq!(
            values(&run, "loss"),
            vec![(0, 3.0), (1, 2.0), (10, 1.0), (11, 0.5)]
        );
        assert_eq!(run.problems.len(), 1);
        assert_eq!(run.problems[0].line, Some(1));
    }

    #[test]
    fn odd_steps_and_values() {
        let text =
            "{\"step\": 5.0, \"a\": 1, \"s\": \"text\", \"b\": true, \"n\": null, \"l\": [1]}\n\
                    {\"step\": -3, \"a\": 2}\n{\"step\": \"7\", \"a\": 3, \"q\": \"Infinity\"}\n\
                    {\"step\": 8, \"train\": {\"loss\": 0.5, \"inner\": {\"x\": 1}}}\n[1, 2]\n";
        let run = read(text);
        assert_eq!(values(&run, "a"), vec![(5, 1.0), (6, 2.0), (7, 3.0)]);
        assert_eq!(values(&run, "q")[0].1, f64::INFINITY);
        assert_eq!(values(&run, "train/loss"), vec![(8, 0.5)]);
        assert_eq!(values(&run, "train/inner/x"), vec![(8, 1.0)]);
        for skipped in ["s", "b", "n", "l"] {
            assert!(run.metrics.iter().all(|s| s.name != skipped), "{skipped}");
        }
        let lines: Vec<_> = run.problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            lines,
            vec![(Severity::Warning, Some(2)), (Severity::Warning, Some(5))]
        );
    }

    #[test]
    fn hf_log_history_dump_with_epoch_and_timestamp() {
        let text = "{\"step\": 770, \"epoch\": 1.98, \"loss\": 1.05, \"learning_rate\": 7.0e-08}\n\
                    {\"step\": 778, \"epoch\": 2.0, \"eval_loss\": 1.109, \"eval_runtime\": 56.8}\n\
                    {\"step\": 778, \"epoch\": 2.0, \"timestamp\": 1700000000.5, \"train_loss\": 1.167}\n";
        let run = read(text);
        assert!(run.problems.is_empty());
        let eval = &run
            .metrics
            .iter()
            .find(|s| s.name == "eval_loss")
            .unwrap()
            .points[0];
        assert_eq!(
            (eval.step, eval.epoch, eval.wall_time),
            (778, Some(2.0), None)
        );
        let train = &run
            .metrics
            .iter()
            .find(|s| s.name == "train_loss")
            .unwrap()
            .points[0];
        assert_eq!(train.wall_time, Some(0.0));
        assert!(run
            .metrics
            .iter()
            .all(|s| s.name != "epoch" && s.name != "timestamp"));
    }

    #[test]
    fn problems_are_capped_per_file() {
        let text = "not json\n".repeat(200) + "{\"step\": 1, \"a\": 1}\n";
        let run = read(&text);
        assert_eq!(run.problems.len(), MAX_PROBLEMS_PER_FILE + 1);
        assert_eq!(values(&run, "a"), vec![(1, 1.0)]);
    }
}
