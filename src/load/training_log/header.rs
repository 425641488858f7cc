//! The `Training configuration:` block at the head of a `training.log`: its
//! indented `Key: value` lines, kept under `params.log_header`.
//!
//! Keys are snake_cased (`Batch size` is `batch_size`) and values become
//! numbers when they read as one, so the header sits beside config files in
//! the params table. The first of a repeated key wins, and a `log_header`
//! already in params (a params file read first) is kept.

use crate::model::Run;
use serde_json::{Map, Value};

/// Key under `run.params` for the log's `Training configuration:` block.
const HEADER_KEY: &str = "log_header";

/// Add one indented header line (`Batch size: 8`) to `header`, unless its key is already there.
pub(super) fn read_header_line(header: &mut Map<String, Value>, trimmed: &str) {
    let Some((key, value)) = trimmed.split_once(':') else {
        return;
    };
    let key = snake_case(key);
    if !key.is_empty() {
        header
            .entry(key)
            .or_insert_with(|| header_value(value.trim()));
    }
}

/// Store a non-empty header under `params.log_header`, unless params already hold one.
pub(super) fn store_header(run: &mut Run, header: Map<String, Value>) {
    if !header.is_empty() {
        if let Value::Object(params) = &mut run.params {
            params.entry(HEADER_KEY).or_insert(Value::Object(header));
        }
    }
}

/// `Batch size` -> `batch_size`.
fn snake_case(key: &str) -> String {
    let lower = key.trim().to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("_")
}

/// A header value as a JSON number when it is one, else as text.
fn header_value(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let looks_numeric =
        text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    match text
        .parse::<f64>()
        .ok()
        .filter(|_| looks_numeric)
        .and_then(serde_json::Number::from_f64)
    {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::load::training_log::fixtures::{events, read_log, LOG};
    use crate::load::training_log::read_training_log;
    use crate::model::{EventKind, Run};

    #[test]
    fn header_ends_at_the_first_frame_and_hf_checkpoints_count() {
        let text =
            "Training configuration:\n  Batch size: 8\n\rTraining: 1%| | 1/9 [00:01, loss=2.0]\n  \
                    later: 5\nSaving model checkpoint to out/checkpoint-500\n";
        let run = read_log(text);
        assert_eq!(
            run.params["log_header"],
            serde_json::json!({"batch_size": 8})
        );
        assert_eq!(events(&run, EventKind::Checkpoint)[0].step, Some(500));
    }

    #[test]
    fn header_does_not_replace_existing_params() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        run.params = serde_json::json!({"log_header": "mine"});
        read_training_log(
            &mut run,
            "Training configuration:\n  Batch size: 8\nStarting training\n",
            LOG,
        );
        assert_eq!(run.params["log_header"], serde_json::json!("mine"));
    }
}
