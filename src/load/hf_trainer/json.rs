//! JSON as the Hugging Face Trainer writes it, read leniently.
//!
//! The Trainer saves with Python's `json.dumps`, which writes the bare tokens
//! `NaN`, `Infinity` and `-Infinity` for a diverged loss: not JSON. The shared
//! [`lenient_json`] swaps them for sentinel strings (never adding or removing a
//! newline, so serde's line numbers still point at the file) and turns them
//! back into numbers ([`number`]) or strings for params ([`plain`]).
//!
//! `trainer_state.json` is one document, so one broken byte would lose the whole
//! run. A small structural scan therefore records where each top-level value and
//! each `log_history` element starts and ends: entry lines for problems and
//! events, and, when the document does not parse (a writer killed mid-save), the
//! complete pieces before the damage are still read.

use super::entries::{self, HistoryField, Keys};
use crate::load::lenient_json;
pub(super) use crate::load::lenient_json::{kind_of, number, plain};
use serde_json::{Map, Value};

/// Why a text is not (entirely) valid JSON.
#[derive(Debug)]
pub(super) struct JsonError {
    /// 1-based line of the damage, when serde could tell.
    pub line: Option<usize>,
    /// What is wrong, without serde's `at line L column C` (columns shift with the swap).
    pub message: String,
    /// The text ends in the middle of a value: what a killed writer leaves.
    pub cut_short: bool,
}

/// A `trainer_state.json`, as much of it as could be read.
#[derive(Debug, Default)]
pub(super) struct StateDocument {
    /// The top-level object but `log_history` (empty when the top level is not an object).
    pub top: Map<String, Value>,
    /// The top level's `log_history`, if it has one.
    pub history: Option<HistoryField>,
    /// The key names of its entries.
    pub keys: Keys,
    /// Where each element of `log_history` starts (1-based line), in order; empty when unknown.
    pub entry_lines: Vec<usize>,
    /// Set when the text did not parse as a whole and only its complete pieces were read.
    pub error: Option<JsonError>,
}

/// Parse a whole JSON text (results files, `config.json`), non-finite tokens accepted.
pub(super) fn parse_value(text: &str) -> Result<Value, JsonError> {
    lenient_json::parse(text).map_err(|e| JsonError {
        line: e.line,
        message: e.message,
        cut_short: e.cut_short,
    })
}

/// Parse a `trainer_state.json`, salvaging its complete pieces when it is damaged.
pub(super) fn parse_state(text: &str) -> StateDocument {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let swapped = lenient_json::with_sentinels(text);
    let pieces = scan(&swapped);
    let mut keys = Keys::default();
    match entries::parse_top(&swapped, &mut keys) {
        Ok(Ok(top)) => {
            let entry_lines = if entries::listed(&top.history) == pieces.entries.len() {
                pieces.entries.iter().map(|e| e.line).collect()
            } else {
                Vec::new()
            };
            StateDocument {
                top: top.members,
                history: top.history,
                keys,
                entry_lines,
                error: None,
            }
        }
        Ok(Err(other)) => StateDocument {
            error: Some(JsonError {
                line: None,
                message: format!("the top level is {}, not an object", kind_of(&other)),
                cut_short: false,
            }),
            ..StateDocument::default()
        },
        Err(err) => salvage(&swapped, &pieces, json_error(&err)),
    }
}

fn json_error(err: &serde_json::Error) -> JsonError {
    let full = err.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(reason, _)| reason);
    JsonError {
        line: (err.line() > 0).then_some(err.line()),
        message: reason.to_string(),
        cut_short: err.is_eof(),
    }
}

/// The complete top-level values and `log_history` elements of a damaged document.
fn salvage(text: &str, pieces: &Pieces, error: JsonError) -> StateDocument {
    let parse = |start: usize, end: usize| {
        text.get(start..end)
            .and_then(|piece| serde_json::from_str::<Value>(piece).ok())
    };
    let mut top = Map::new();
    for (key, start, end) in &pieces.values {
        if key != "log_history" {
            if let Some(value) = parse(*start, *end) {
                top.insert(key.clone(), value);
            }
        }
    }
    let mut keys = Keys::default();
    let mut history = Vec::new();
    let mut entry_lines = Vec::new();
    for entry in &pieces.entries {
        let piece = entry.end.and_then(|end| text.get(entry.start..end));
        if let Some(element) = piece.and_then(|piece| entries::parse_element(piece, &mut keys)) {
            history.push(element);
            entry_lines.push(entry.line);
        }
    }
    StateDocument {
        top,
        history: pieces.saw_history.then_some(HistoryField::List(history)),
        keys,
        entry_lines,
        error: Some(error),
    }
}

/// Where the pieces of a document lie: byte offsets into the (swapped) text.
#[derive(Debug, Default)]
struct Pieces {
    /// Complete top-level values: key, start, end (exclusive).
    values: Vec<(String, usize, usize)>,
    /// Elements of the top-level `log_history` array, complete or not.
    entries: Vec<Element>,
    /// A `log_history` array was opened.
    saw_history: bool,
}

#[derive(Debug)]
struct Element {
    start: usize,
    /// Exclusive end, once the element is closed.
    end: Option<usize>,
    /// 1-based line of its first byte.
    line: usize,
}

/// One pass over the text tracking strings and nesting; never fails.
///
/// Strings are skipped with `memchr` to their closing quote, bytes that are
/// not structure in a tight loop, and lines are counted only up to where an
/// element starts: a Trainer's state is mostly keys and indentation, and a
/// byte-at-a-time walk was 6% of a build.
fn scan(text: &str) -> Pieces {
    let bytes = text.as_bytes();
    let mut structure = Structure::default();
    let mut lines = LineCounter::default();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if !STRUCTURAL[usize::from(b)] && !structure.waiting_for_a_start() {
            // Indentation, numbers and literals change nothing here: skip them in a tight loop.
            i += 1;
            while bytes.get(i).is_some_and(|&b| !STRUCTURAL[usize::from(b)]) {
                i += 1;
            }
            continue;
        }
        if !b.is_ascii_whitespace() {
            structure.visit(text, i, || lines.line_at(bytes, i));
            if b == b'"' {
                let close = string_end(bytes, i + 1);
                if close < bytes.len() {
                    structure.string_closed(text, i, close);
                }
                i = close;
            }
        }
        i += 1;
    }
    structure.pieces
}

/// What the scan knows outside strings: the nesting, the top-level key and
/// value under way, and where `log_history`'s elements are.
#[derive(Default)]
struct Structure {
    pieces: Pieces,
    depth: usize,
    expect_key: bool,
    after_colon: bool,
    key: Option<String>,
    value_start: Option<usize>,
    in_history: bool,
    element_pending: bool,
}

impl Structure {
    /// The next byte that is not whitespace starts a top-level value or a
    /// `log_history` element, so it matters even when it is not structure.
    fn waiting_for_a_start(&self) -> bool {
        (self.depth == 1 && self.after_colon)
            || (self.in_history && self.depth == 2 && self.element_pending)
    }

    /// The byte at `i`, outside strings and not whitespace (a string's
    /// opening quote included); `line` gives its line, asked only when an
    /// element starts there.
    fn visit(&mut self, text: &str, i: usize, line: impl FnOnce() -> usize) {
        let Some(&b) = text.as_bytes().get(i) else {
            return;
        };
        if self.depth == 1 && self.after_colon {
            self.after_colon = false;
            self.value_start = Some(i);
            let is_history = self.key.as_deref() == Some("log_history");
            if b == b'[' && is_history && !self.pieces.saw_history {
                (self.in_history, self.element_pending) = (true, true);
                self.pieces.saw_history = true;
                self.depth += 1;
                return;
            }
        }
        if self.in_history && self.depth == 2 && self.element_pending && b != b']' {
            self.pieces.entries.push(Element {
                start: i,
                end: None,
                line: line(),
            });
            self.element_pending = false;
        }
        match b {
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth == 1 {
                    self.expect_key = b == b'{';
                }
            }
            b'}' | b']' => {
                if self.in_history && self.depth == 3 {
                    self.close_element(i + 1);
                } else if self.in_history && self.depth == 2 {
                    self.close_element(i);
                    self.in_history = false;
                } else if self.depth == 1 {
                    self.finish_value(text, i);
                }
                self.depth = self.depth.saturating_sub(1);
            }
            b',' if self.depth == 1 => {
                self.finish_value(text, i);
                self.expect_key = true;
            }
            b',' if self.in_history && self.depth == 2 => {
                self.close_element(i);
                self.element_pending = true;
            }
            b':' if self.depth == 1 => (self.expect_key, self.after_colon) = (false, true),
            _ => {}
        }
    }

    /// The string whose quotes are at `open` and `close` ended: a top-level key, maybe.
    fn string_closed(&mut self, text: &str, open: usize, close: usize) {
        if self.depth == 1 && self.expect_key {
            self.key = text
                .get(open..=close)
                .and_then(|k| serde_json::from_str(k).ok());
        }
    }

    fn close_element(&mut self, end: usize) {
        if let Some(last) = self.pieces.entries.last_mut() {
            last.end.get_or_insert(end);
        }
    }

    fn finish_value(&mut self, text: &str, end: usize) {
        if let (Some(k), Some(s)) = (self.key.take(), self.value_start.take()) {
            let trimmed = s + text.get(s..end).map_or(0, |v| v.trim_end().len());
            self.pieces.values.push((k, s, trimmed));
        }
    }
}

/// The bytes that can change the scan's state outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut k = 0;
    let bytes = b"\"{}[],:";
    while k < bytes.len() {
        table[bytes[k] as usize] = true;
        k += 1;
    }
    table
};

/// Index of the quote closing a string whose body starts at `from`, or the
/// text's length when the string is never closed.
fn string_end(bytes: &[u8], mut from: usize) -> usize {
    loop {
        let rest = bytes.get(from..).unwrap_or_default();
        match memchr::memchr2(b'"', b'\\', rest) {
            None => return bytes.len(),
            Some(at) if rest[at] == b'"' => return from + at,
            // A backslash escapes the byte after it, whatever it is.
            Some(at) => from += at + 2,
        }
    }
}

/// 1-based line numbers of increasing byte offsets, counting each newline once.
#[derive(Default)]
struct LineCounter {
    counted_to: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], at: usize) -> usize {
        let span = bytes.get(self.counted_to..at).unwrap_or_default();
        self.newlines += span.iter().filter(|&&b| b == b'\n').count();
        self.counted_to = self.counted_to.max(at);
        self.newlines + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn non_finite_tokens_become_numbers_and_strings_stay() {
        let v = parse_value(
            "{\"a\": NaN, \"b\": -Infinity, \"c\": [Infinity], \"s\": \"NaN, Infinity\"}",
        )
        .unwrap();
        assert!(number(&v["a"]).unwrap().is_nan());
        assert_eq!(number(&v["b"]), Some(f64::NEG_INFINITY));
        assert_eq!(number(&v["c"][0]), Some(f64::INFINITY));
        assert_eq!(number(&v["s"]), None);
        assert_eq!(
            plain(v),
            json!({"a": "NaN", "b": "-Infinity", "c": ["Infinity"], "s": "NaN, Infinity"})
        );
        assert!(parse_value("{\"a\": NaNa}").is_err());
        assert!(parse_value("{\"a\": xNaN}").is_err());
    }

    #[test]
    fn entry_lines_follow_the_log_history_elements() {
        let text = "\u{feff}{\r\n  \"epoch\": 1.0,\r\n  \"log_history\": [\r\n    {\"loss\": NaN, \"step\": 1},\r\n    {\r\n      \"step\": 2\r\n    }\r\n  ],\r\n  \"max_steps\": 2\r\n}";
        let doc = parse_state(text);
        assert!(doc.error.is_none(), "{:?}", doc.error);
        assert_eq!(doc.entry_lines, vec![4, 5]);
        assert_eq!(doc.top["max_steps"], json!(2));
    }

    #[test]
    fn a_cut_document_keeps_its_complete_pieces() {
        let text = "{\n  \"global_step\": 30,\n  \"log_history\": [\n    {\"loss\": 1.5, \"step\": 10},\n    {\"loss\": 1.2, \"step\": 20},\n    {\"loss\": 1.";
        let doc = parse_state(text);
        let error = doc.error.as_ref().expect("an error");
        assert!(error.cut_short);
        assert_eq!(error.line, Some(6));
        assert_eq!(doc.top["global_step"], json!(30));
        assert_eq!(steps(&doc), vec![json!(10), json!(20)]);
        assert_eq!(doc.entry_lines, vec![4, 5]);
    }

    /// The `step` of each entry read (null for an entry without one).
    fn steps(doc: &StateDocument) -> Vec<Value> {
        let Some(HistoryField::List(elements)) = &doc.history else {
            panic!("no log_history list: {:?}", doc.history);
        };
        let step = |e: &entries::Element| match e {
            entries::Element::Entry(pairs) => entries::Entry::new(&doc.keys, pairs)
                .get("step")
                .cloned()
                .unwrap_or(Value::Null),
            entries::Element::Other(other) => other.clone(),
        };
        elements.iter().map(step).collect()
    }

    #[test]
    fn damage_in_the_middle_is_not_cut_short() {
        let text =
            "{\"log_history\": [{\"step\": 1}, {\"step\": }, {\"step\": 3}], \"max_steps\": 3}";
        let doc = parse_state(text);
        let error = doc.error.as_ref().unwrap();
        assert!(!error.cut_short);
        assert!(!error.message.contains("column"), "{}", error.message);
        assert_eq!(steps(&doc), vec![json!(1), json!(3)]);
        assert_eq!(doc.top["max_steps"], json!(3));
    }

    #[test]
    fn odd_top_levels() {
        let doc = parse_state("[1, 2]");
        assert!(doc.top.is_empty());
        assert!(doc.error.unwrap().message.contains("a list"));
        let doc = parse_state("");
        assert!(doc.error.unwrap().cut_short);
        let doc = parse_state("{\"log_history\": 5}");
        assert!(doc.error.is_none() && doc.entry_lines.is_empty());
    }

    #[test]
    fn the_skipping_scan_finds_what_a_bytewise_scan_finds() {
        let whole = "{\n  \"best_metric\": null,\n  \"log_history\": [\n    {\n      \"loss\": NaN,\n      \"note\": \"a \\\"quoted\\\" [x], {y}\\\\\",\n      \"step\": 1\n    },\n    {\"eval_loss\": 2.5, \"step\": 2},\n    [3], \"odd\", 4\n  ],\n  \"log_history\": [],\n  \"max_steps\": 9,\n  \"trial_params\": {\"a\": [1, {\"b\": \"]\"}]}\n}\n";
        let real = include_str!(
            "../../../tests/fixtures/realruns/hf_trainer_state/aigoncharov__trainer_state_viz/trainer_state.json"
        );
        assert_eq!(scan(whole).entries.len(), 5);
        assert!(scan(real).entries.len() > 10);
        for text in [whole, real] {
            // Every cut, as a killed writer leaves it, and the text with a stray backslash.
            let cuts = (0..=text.len()).filter(|&n| text.is_char_boundary(n));
            for n in cuts.step_by(1 + text.len() / 2000) {
                let (fast, slow) = (scan(&text[..n]), scan_bytewise(&text[..n]));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "cut at {n}");
            }
            let stray = text.replacen("\": ", "\\\": ", 1);
            assert_eq!(
                format!("{:?}", scan(&stray)),
                format!("{:?}", scan_bytewise(&stray))
            );
        }
    }

    /// The byte-at-a-time walk `scan` replaced, kept as its oracle: every
    /// byte looked at, strings followed escape by escape, every newline counted.
    fn scan_bytewise(text: &str) -> Pieces {
        let mut structure = Structure::default();
        let mut line = 1;
        let (mut in_string, mut escaped, mut string_start) = (false, false, 0);
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => {
                        in_string = false;
                        structure.string_closed(text, string_start, i);
                    }
                    _ => {}
                }
            } else if !b.is_ascii_whitespace() {
                structure.visit(text, i, || line);
                if b == b'"' {
                    (in_string, string_start) = (true, i);
                }
            }
        }
        structure.pieces
    }
}
