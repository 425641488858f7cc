//! `log_history`, the Trainer's list of logged dictionaries, into series and events.
//!
//! Train entries are `{loss, learning_rate, grad_norm, epoch, step}`; eval
//! entries carry `eval_*` keys, and with several eval datasets each one is its
//! own entry at the same step (`eval_g0_loss`, `eval_g1_loss`, ...). Every
//! numeric key other than `step` and `epoch` becomes a point of the series of
//! that name, so the source names are kept and family/split are recognised from
//! them; `epoch` goes into [`Point::epoch`]. Entries without a `step`
//! (`predict_*` after training) are placed at the last step seen. The final
//! summary entry (`train_runtime`, `train_loss`, `total_flos`) is a summary of
//! the whole run, not a point of the loss curve: it is handed back to the caller.
//! String, boolean and null values are not metrics and are passed over.

use super::entries::{Element, Entry, Keys};
use super::json::{kind_of, number};
use crate::model::{Event, EventKind, Point, Problem, Run};
use serde_json::{Map, Value};

/// The final summary entry of a `log_history`.
#[derive(Debug, Clone)]
pub(super) struct Summary {
    /// Its keys and values as written (`train_runtime`, `train_loss`, ...).
    pub values: Map<String, Value>,
    /// The step it was logged at.
    pub step: u64,
}

/// Read `log_history` entries into `run`: points, eval and finish events, problems.
///
/// `lines[i]` is the line where entry `i` starts, when known; `global_step` places
/// entries without a step when nothing came before them. Returns the last summary entry.
pub(super) fn read_log_history(
    run: &mut Run,
    keys: &Keys,
    history: &[Element],
    lines: &[usize],
    file: &str,
    global_step: Option<u64>,
) -> Option<Summary> {
    let mut summary = None;
    let mut last_step: Option<u64> = None;
    for (index, element) in history.iter().enumerate() {
        let line = lines.get(index).copied();
        let entry = match element {
            Element::Entry(pairs) => Entry::new(keys, pairs),
            Element::Other(other) => {
                let message = format!(
                    "log_history entry {} is {}, not an object; skipped",
                    index + 1,
                    kind_of(other)
                );
                run.problems.push(Problem::warning(file, line, message));
                continue;
            }
        };
        let step = match entry.get("step") {
            None => last_step.or(global_step).unwrap_or(0),
            Some(value) => match whole_number(value) {
                Some(step) => {
                    last_step = Some(step);
                    step
                }
                None => {
                    let message = format!(
                        "\"step\" is {value}, not a whole number of steps; entry {} skipped",
                        index + 1
                    );
                    run.problems.push(Problem::warning(file, line, message));
                    continue;
                }
            },
        };
        if is_summary(entry) {
            run.events.push(Event {
                kind: EventKind::Finish,
                step: Some(step),
                message: finish_message(entry, step),
                file: file.to_string(),
                line,
            });
            summary = Some(Summary {
                values: entry.to_map(),
                step,
            });
            continue;
        }
        let epoch = entry
            .get("epoch")
            .and_then(number)
            .filter(|e| e.is_finite());
        for (key, value) in entry.iter() {
            if key != "step" && key != "epoch" {
                push_values(run, key, value, file, step, epoch);
            }
        }
        if entry.iter().any(|(k, _)| k.starts_with("eval_")) {
            note_evaluation(run, entry, step, file, line);
        }
    }
    summary
}

/// A `step` value as a count: a non-negative whole number (`10` or `10.0`).
pub(super) fn whole_number(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
}

/// The Trainer's closing entry: `train_runtime`, `train_samples_per_second`, `total_flos`, `train_loss`.
fn is_summary(entry: Entry) -> bool {
    entry.contains_key("train_runtime") || entry.contains_key("total_flos")
}

/// Numbers become points; nested objects become `outer/inner` names; the rest is skipped.
fn push_values(
    run: &mut Run,
    name: &str,
    value: &Value,
    file: &str,
    step: u64,
    epoch: Option<f64>,
) {
    if let Value::Object(inner) = value {
        for (key, value) in inner {
            push_values(run, &format!("{name}/{key}"), value, file, step, epoch);
        }
    } else if let Some(v) = number(value) {
        let point = Point {
            step,
            value: v,
            wall_time: None,
            epoch,
        };
        run.push_point(name, file, point);
    }
}

/// One validation event per eval step; datasets logged at the same step join it.
fn note_evaluation(run: &mut Run, entry: Entry, step: u64, file: &str, line: Option<usize>) {
    let losses: Vec<String> = entry
        .iter()
        .filter(|(k, _)| k.starts_with("eval_") && k.ends_with("loss"))
        .filter_map(|(k, v)| number(v).map(|v| format!("{k} {}", short(v))))
        .collect();
    if let Some(last) = run.events.last_mut() {
        if last.kind == EventKind::Validation && last.step == Some(step) && last.file == file {
            if !losses.is_empty() {
                let sep = if last.message.ends_with(&format!("step {step}")) {
                    ": "
                } else {
                    ", "
                };
                last.message = format!("{}{sep}{}", last.message, losses.join(", "));
            }
            return;
        }
    }
    let mut message = format!("evaluation at step {step}");
    if !losses.is_empty() {
        message = format!("{message}: {}", losses.join(", "));
    }
    run.events.push(Event {
        kind: EventKind::Validation,
        step: Some(step),
        message,
        file: file.to_string(),
        line,
    });
}

fn finish_message(entry: Entry, step: u64) -> String {
    let mut message = format!("training finished at step {step}");
    let parts: Vec<String> = [("train_loss", ""), ("train_runtime", " s")]
        .iter()
        .filter_map(|(key, unit)| {
            let v = entry.get(key).and_then(number)?;
            Some(format!("{key} {}{unit}", short(v)))
        })
        .collect();
    if !parts.is_empty() {
        message = format!("{message}: {}", parts.join(", "));
    }
    message
}

/// A value for a message: four decimals at most, non-finite values by name.
fn short(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        let text = format!("{v:.4}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::hf_trainer::entries::HistoryField;
    use crate::load::hf_trainer::json::parse_state;
    use crate::model::{classify, Family, Severity, Split};

    fn read(text: &str) -> (Run, Option<Summary>) {
        let doc = parse_state(text);
        let Some(HistoryField::List(history)) = &doc.history else {
            panic!("no log_history list: {doc:?}");
        };
        let mut run = Run::new("r", "", "hf_trainer");
        let summary = read_log_history(
            &mut run,
            &doc.keys,
            history,
            &doc.entry_lines,
            "r/trainer_state.json",
            Some(30),
        );
        (run, summary)
    }

    fn points(run: &Run, name: &str) -> Vec<(u64, f64)> {
        let s = run.metrics.iter().find(|s| s.name == name).unwrap();
        s.points.iter().map(|p| (p.step, p.value)).collect()
    }

    #[test]
    fn train_eval_and_summary_entries() {
        let text = r#"{"log_history": [
  {"epoch": 0.5, "grad_norm": 5.5, "learning_rate": 1e-05, "loss": 1.1074, "step": 10},
  {"epoch": 0.5, "eval_loss": 1.2, "eval_runtime": 5.1, "step": 10},
  {"epoch": 1.0, "grad_norm": Infinity, "learning_rate": 0.0, "loss": NaN, "lr": 3e-4, "note": "warm", "step": 20},
  {"epoch": 1.0, "step": 20, "total_flos": 1.2e15, "train_loss": 1.16, "train_runtime": 64.5}
]}"#;
        let (run, summary) = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        let loss = points(&run, "loss");
        assert_eq!(loss[0], (10, 1.1074));
        assert!(loss[1].1.is_nan() && loss[1].0 == 20);
        assert_eq!(points(&run, "grad_norm")[1].1, f64::INFINITY);
        assert_eq!(points(&run, "lr"), vec![(20, 3e-4)]);
        assert_eq!(points(&run, "eval_loss"), vec![(10, 1.2)]);
        assert!(run
            .metrics
            .iter()
            .all(|s| !["train_loss", "note", "epoch", "step"].contains(&s.name.as_str())));
        let epochs: Vec<_> = run.metrics[0].points.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, vec![Some(0.5), Some(1.0)]);
        let summary = summary.unwrap();
        assert_eq!(
            (summary.step, summary.values["train_loss"].as_f64()),
            (20, Some(1.16))
        );
        let kinds: Vec<_> = run
            .events
            .iter()
            .map(|e| (e.kind, e.step, e.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EventKind::Validation, Some(10), Some(3)),
                (EventKind::Finish, Some(20), Some(5))
            ]
        );
        assert_eq!(
            run.events[0].message,
            "evaluation at step 10: eval_loss 1.2"
        );
        assert_eq!(
            run.events[1].message,
            "training finished at step 20: train_loss 1.16, train_runtime 64.5 s"
        );
    }

    #[test]
    fn several_eval_datasets_at_one_step_make_one_event() {
        let text = r#"{"log_history": [
  {"epoch": 0, "eval_g0_accuracy": 0.7, "eval_g0_loss": 5.74, "step": 0},
  {"epoch": 0, "eval_g1_accuracy": 0.4, "eval_g1_loss": 8.22, "step": 0},
  {"epoch": 1.0, "loss": 1.1, "step": 401}
]}"#;
        let (run, _) = read(text);
        assert_eq!(points(&run, "eval_g0_loss"), vec![(0, 5.74)]);
        assert_eq!(points(&run, "eval_g1_loss"), vec![(0, 8.22)]);
        assert_eq!(classify("eval_g1_loss"), (Family::Loss, Split::Val));
        assert_eq!(classify("eval_g1_accuracy"), (Family::Accuracy, Split::Val));
        assert_eq!(run.events.len(), 1);
        assert_eq!(
            run.events[0].message,
            "evaluation at step 0: eval_g0_loss 5.74, eval_g1_loss 8.22"
        );
    }

    #[test]
    fn predict_entries_without_step_and_bad_entries() {
        let text = r#"{"log_history": [
  7,
  {"loss": 2.0, "step": "10"},
  {"loss": 1.5, "step": 12.0, "extra": {"a": 1, "b": "x"}, "flag": true, "none": null},
  {"predict_loss": 1.7, "predict_runtime": 3.0}
]}"#;
        let (run, _) = read(text);
        assert_eq!(points(&run, "loss"), vec![(12, 1.5)]);
        assert_eq!(points(&run, "extra/a"), vec![(12, 1.0)]);
        assert_eq!(points(&run, "predict_loss"), vec![(12, 1.7)]);
        assert_eq!(classify("predict_loss").1, Split::Test);
        let problems: Vec<_> = run.problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            problems,
            vec![(Severity::Warning, Some(2)), (Severity::Warning, Some(3))]
        );
        assert!(run.problems[0]
            .message
            .contains("is a number, not an object"));
        assert!(
            run.problems[1].message.contains("\"step\" is \"10\""),
            "{}",
            run.problems[1].message
        );
        // Before any step, an entry without one goes to global_step.
        let (run, _) = read(r#"{"log_history": [{"predict_loss": 1.7}]}"#);
        assert_eq!(points(&run, "predict_loss"), vec![(30, 1.7)]);
    }

    #[test]
    fn whole_numbers_only() {
        use serde_json::json;
        assert_eq!(whole_number(&json!(5)), Some(5));
        assert_eq!(whole_number(&json!(5.0)), Some(5));
        for bad in [json!(-1), json!(2.5), json!("3"), json!(null), json!(1e30)] {
            assert_eq!(whole_number(&bad), None, "{bad}");
        }
    }
}
