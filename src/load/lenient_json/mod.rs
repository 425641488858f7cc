//! Whole JSON documents as Python writes them: `NaN`, `Infinity`, `-Infinity`.
//!
//! Python's `json.dump` writes those bare tokens for a diverged loss or an
//! empty `min()`; they are not JSON, so serde_json rejects the file. They are
//! swapped for sentinel strings before parsing (the swap never adds or removes
//! a newline, so line numbers still point at the file, and error columns are
//! mapped back to the text as written) and read back as numbers by [`number`],
//! or as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` for params by
//! [`plain`].
//!
//! [`parse_object`] (in `object`) also walks a top-level object member by
//! member, one element at a time inside array members, to give the line of
//! each member and element (for problems and events) and, when the document is
//! damaged (a writer killed mid-save), to keep the complete pieces before the
//! damage. The walk hands each value to serde_json's stream deserializer, so
//! there is no JSON grammar of our own here.
//!
//! Shared by the readers of whole JSON files; a reader that needs something
//! else of a document (the Trainer's salvage of `log_history`) builds on these.

use serde_json::Value;
use std::borrow::Cow;

mod object;
pub use object::{parse_object, Document};

/// Sentinels start with an escaped NUL, which no real key or value holds.
pub const SENTINEL_PREFIX: &str = "\u{0}runboard:";

/// Python's non-finite tokens, their sentinel JSON strings, and their values.
/// `-Infinity` comes before `Infinity` so the sign is taken with it.
const NON_FINITE: [(&str, &str, f64); 3] = [
    (
        "-Infinity",
        "\"\\u0000runboard:-Infinity\"",
        f64::NEG_INFINITY,
    ),
    ("Infinity", "\"\\u0000runboard:Infinity\"", f64::INFINITY),
    ("NaN", "\"\\u0000runboard:NaN\"", f64::NAN),
];

/// Why a text is not (entirely) valid JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    /// 1-based line of the damage, when serde could tell.
    pub line: Option<usize>,
    /// 1-based byte column on that line, in the text as written.
    pub column: Option<usize>,
    /// What is wrong, without serde's `at line L column C`.
    pub message: String,
    /// The text ends in the middle of a value: what a killed writer leaves.
    pub cut_short: bool,
}

/// The number a value stands for: a JSON number, or a non-finite token or
/// string (`NaN`, `Infinity`, `-Infinity`).
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.strip_prefix(SENTINEL_PREFIX).unwrap_or(s);
            NON_FINITE
                .iter()
                .find(|(token, _, _)| *token == s)
                .map(|&(_, _, v)| v)
        }
        _ => None,
    }
}

/// A step or count: a whole, non-negative number (`10`, `10.0`, `"10"` is not one).
pub fn whole_number(value: &Value) -> Option<u64> {
    let v = number(value)?;
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e18).then_some(v as u64)
}

/// The value with sentinels turned into the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn plain(value: Value) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix(SENTINEL_PREFIX) {
            Some(token) => Value::String(token.to_string()),
            None => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(plain).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, plain(v))).collect()),
        other => other,
    }
}

/// What a value is, in words, for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.starts_with(SENTINEL_PREFIX) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The text with bare non-finite tokens swapped for sentinel strings (same
/// newlines), for a reader that scans the structure itself before serde parses it.
pub fn with_sentinels(text: &str) -> Cow<'_, str> {
    swap_non_finite(text).0
}

/// Parse a whole JSON text (BOM allowed), non-finite tokens accepted.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (swapped, shifts) = swap_non_finite(text);
    serde_json::from_str(&swapped).map_err(|e| json_error(&e, text, &shifts))
}

fn json_error(err: &serde_json::Error, original: &str, shifts: &[(usize, usize)]) -> JsonError {
    let full = err.to_string();
    let message = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(reason, _)| reason)
        .to_string();
    let (line, column) = if err.line() > 0 {
        (
            Some(err.line()),
            Some(original_column(original, shifts, err.line(), err.column())),
        )
    } else {
        (None, None)
    };
    JsonError {
        line,
        column,
        message,
        cut_short: err.is_eof(),
    }
}

/// Map serde's column in the swapped text back to the text as written.
fn original_column(original: &str, shifts: &[(usize, usize)], line: usize, column: usize) -> usize {
    // The swap adds no newline, so line `line` starts after the same newline in both texts.
    let line_start = if line <= 1 {
        0
    } else {
        original
            .match_indices('\n')
            .nth(line - 2)
            .map_or(original.len(), |(i, _)| i + 1)
    };
    let added_until = |limit: &dyn Fn(usize, usize) -> bool| {
        shifts
            .iter()
            .take_while(|&&(end, added)| limit(end, added))
            .last()
            .map_or(0, |&(_, added)| added)
    };
    let swapped_line_start = line_start + added_until(&|end, _| end <= line_start);
    let swapped_at = swapped_line_start + column.saturating_sub(1);
    let added = added_until(&|end, added| end + added <= swapped_at);
    swapped_at.saturating_sub(added).saturating_sub(line_start) + 1
}

/// Replace bare `NaN`, `Infinity`, `-Infinity` in value position outside strings.
///
/// Returns the text and, per replacement, (its end in the original text, bytes added so far).
fn swap_non_finite(text: &str) -> (Cow<'_, str>, Vec<(usize, usize)>) {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return (Cow::Borrowed(text), Vec::new());
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 256);
    let mut shifts: Vec<(usize, usize)> = Vec::new();
    let (mut copied, mut i) = (0, 0);
    let (mut in_string, mut escaped) = (false, false);
    let mut previous = b'\0';
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
        let value_position = matches!(previous, b':' | b',' | b'[' | b'\0');
        let token = NON_FINITE.iter().find(|(token, _, _)| {
            value_position
                && bytes[i..].starts_with(token.as_bytes())
                && !bytes
                    .get(i + token.len())
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        });
        if let Some((token, sentinel, _)) = token {
            out.push_str(&text[copied..i]);
            out.push_str(sentinel);
            i += token.len();
            copied = i;
            let added = shifts.last().map_or(0, |&(_, a)| a) + sentinel.len() - token.len();
            shifts.push((i, added));
            previous = b'"';
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if !b.is_ascii_whitespace() {
            previous = b;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    (Cow::Owned(out), shifts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn non_finite_tokens_become_numbers_and_strings_stay() {
        let v =
            parse("{\"a\": NaN, \"b\": -Infinity, \"c\": [Infinity], \"s\": \"NaN, Infinity\"}")
                .unwrap();
        assert!(number(&v["a"]).unwrap().is_nan());
        assert_eq!(number(&v["b"]), Some(f64::NEG_INFINITY));
        assert_eq!(number(&v["c"][0]), Some(f64::INFINITY));
        assert_eq!(number(&v["s"]), None);
        assert_eq!(kind_of(&v["a"]), "a number");
        assert_eq!(
            plain(v),
            json!({"a": "NaN", "b": "-Infinity", "c": ["Infinity"], "s": "NaN, Infinity"})
        );
        assert!(parse("{\"a\": NaNa}").is_err());
        assert!(parse("{\"a\": xNaN}").is_err());
        assert_eq!(number(&json!("Infinity")), Some(f64::INFINITY));
        assert_eq!(with_sentinels("[NaN]\n"), "[\"\\u0000runboard:NaN\"]\n");
    }

    #[test]
    fn error_columns_point_at_the_text_as_written() {
        let err = parse("{\"a\": NaN, \"b\": }").unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(17)));
        assert!(!err.message.contains("line"), "{}", err.message);
        let err = parse("{\"a\": NaN,\n \"b\": Infinity, \"c\": x}").unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(22)));
        // What metrics_jsonl reports for a look-alike token, column for column.
        let err = parse("{\"step\": 1, \"a\": NaNa}").unwrap_err();
        assert_eq!(err.column, Some(18));
        let err = parse("{\"a\": [1, 2").unwrap_err();
        assert!(err.cut_short);
    }

    #[test]
    fn mangled_text_never_panics() {
        let base = "{\"a\": [1, NaN, {\"b\": -Infinity}], \"s\": \"\\\"é\\\\\", \"n\": null}\r\n";
        for cut in 0..=base.len() {
            if let Some(text) = base.get(..cut) {
                let _ = parse(text);
                let _ = parse_object(text);
            }
        }
        let mut bytes = base.as_bytes().to_vec();
        for i in 0..bytes.len() {
            bytes[i] ^= 0x5a;
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse(&text);
            let _ = parse_object(&text);
            bytes[i] ^= 0x5a;
        }
    }
}
