//! One `metrics.jsonl` line into a JSON value, with Python's bare `NaN`,
//! `Infinity` and `-Infinity` tokens accepted.
//!
//! serde_json rejects those tokens, so they are swapped for sentinel strings
//! before parsing and turned back into numbers by [`metric_value`]. The swap
//! shifts columns, so an error's column is mapped back to the line as written:
//! a message has to point at what the user sees in their file.

use serde_json::Value;

/// What a non-finite token is replaced with before parsing: a string no real
/// log would hold (it starts with an escaped NUL), mapped back to the number after.
const NON_FINITE_SENTINELS: [(&str, &str, f64); 3] = [
    (
        "-Infinity",
        "\"\\u0000runboard:-Infinity\"",
        f64::NEG_INFINITY,
    ),
    ("Infinity", "\"\\u0000runboard:Infinity\"", f64::INFINITY),
    ("NaN", "\"\\u0000runboard:NaN\"", f64::NAN),
];

/// A number, or a non-finite value written as a bare token or as the string `"NaN"`/`"Infinity"`.
pub(super) fn metric_value(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.strip_prefix("\u{0}runboard:").unwrap_or(s);
            match s {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ => None,
            }
        }
        _ => None,
    }
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
    let (parsed, shifts) = if line.contains("NaN") || line.contains("Infinity") {
        let (replaced, shifts) = replace_non_finite_tokens(line);
        (serde_json::from_str::<Value>(&replaced), shifts)
    } else {
        (serde_json::from_str::<Value>(line), Vec::new())
    };
    parsed.map_err(|err| {
        let column = original_column(err.column(), &shifts);
        let full = err.to_string();
        // serde says "at line 1 column N" of the one line it saw; the line number is ours to give.
        let reason = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(reason, _)| reason);
        LineError {
            text: format!("not valid JSON at column {column}: {reason}"),
            is_eof: err.is_eof(),
        }
    })
}

/// Replace bare `NaN`, `Infinity`, `-Infinity` outside strings with sentinel strings.
///
/// Returns the new text and, for each replacement, (its end in the new text,
/// bytes added so far), so error columns can be mapped back.
fn replace_non_finite_tokens(line: &str) -> (String, Vec<(usize, usize)>) {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 64);
    let mut shifts = Vec::new();
    let mut copied_up_to = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut previous_significant = b'\0';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let at_value_position = matches!(previous_significant, b':' | b',' | b'[' | b'\0');
        let token = NON_FINITE_SENTINELS.iter().find(|(token, _, _)| {
            let end = i + token.len();
            at_value_position
                && bytes[i..].starts_with(token.as_bytes())
                && !bytes
                    .get(end)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        });
        if let Some((token, sentinel, _)) = token {
            out.push_str(&line[copied_up_to..i]);
            out.push_str(sentinel);
            i += token.len();
            copied_up_to = i;
            let added = shifts.last().map_or(0, |&(_, added)| added) + sentinel.len() - token.len();
            shifts.push((out.len(), added));
            previous_significant = b'"';
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if !b.is_ascii_whitespace() {
            previous_significant = b;
        }
        i += 1;
    }
    out.push_str(&line[copied_up_to..]);
    (out, shifts)
}

/// Map a 1-based column in the replaced text back to the original line.
fn original_column(column: usize, shifts: &[(usize, usize)]) -> usize {
    let added = shifts
        .iter()
        .take_while(|&&(end, _)| end < column)
        .last()
        .map_or(0, |&(_, added)| added);
    column.saturating_sub(added).max(1)
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
