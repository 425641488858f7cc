//! One `metrics.jsonl` line into a JSON value, with Python's bare `NaN`,
//! `Infinity` and `-Infinity` tokens accepted.
//!
//! A thin layer over [`crate::load::lenient_json`], which swaps those tokens
//! for sentinels and maps error columns back to the line as written: a message
//! has to point at what the user sees in their file.

use crate::load::lenient_json;
use serde_json::Value;

/// A number, or a non-finite value written as a bare token or as the string `"NaN"`/`"Infinity"`.
pub(super) fn metric_value(value: &Value) -> Option<f64> {
    lenient_json::number(value)
}

/// Why a line did not parse.
pub(super) struct LineError {
    /// What is wrong, and at which column of the line as written.
    pub(super) text: String,
    /// The line ended in the middle of a value (what a killed writer leaves).
    pub(super) is_eof: bool,
}

/// Parse one line, accepting Python's `NaN`/`Infinity` tokens.
pub(super) fn parse_line(line: &str) -> Result<Value, LineError> {
    lenient_json::parse(line).map_err(|err| LineError {
        // The line number is ours to give; the column is the line's own.
        text: format!(
            "not valid JSON at column {}: {}",
            err.column.unwrap_or(1),
            err.message
        ),
        is_eof: err.cut_short,
    })
}

#[cfg(test)]
mod tests {
    use crate::load::metrics_jsonl::tests::{read, values};
    use crate::model::Severity;

    #[test]
    fn python_non_finite_tokens_are_kept() {
        let text = "{\"step\": 1660, \"train/loss\": NaN, \"train/grad_norm\": Infinity, \"x\": -Infinity, \
                    \"note\": \"NaN here is text: Infinity\"}\n{\"step\": 2000, \"val/loss\": NaN}\n";
        let run = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert!(values(&run, "train/loss")[0].1.is_nan());
        assert_eq!(values(&run, "train/grad_norm")[0].1, f64::INFINITY);
        assert_eq!(values(&run, "x")[0].1, f64::NEG_INFINITY);
        assert!(values(&run, "val/loss")[0].1.is_nan());
        assert!(run.metrics.iter().all(|s| s.name != "note"));
    }

    #[test]
    fn non_finite_lookalikes_stay_errors() {
        let run = read("{\"step\": 1, \"a\": NaNa}\n{\"step\": 2, \"b\": 1}\n");
        assert_eq!(run.problems.len(), 1);
        assert_eq!(run.problems[0].severity, Severity::Error);
        assert_eq!(run.problems[0].line, Some(1));
        assert!(
            run.problems[0].message.contains("column 18"),
            "{}",
            run.problems[0].message
        );
        assert_eq!(values(&run, "b"), vec![(2, 1.0)]);
    }
}
