//! A top-level JSON object read member by member, with lines, salvaging a damaged text.
//!
//! Each member's value, and each element of an array member, goes through
//! serde_json's stream deserializer on its own, so the walk knows the line
//! where every piece starts and, when the text breaks off (a writer killed
//! mid-save), which pieces before the damage were complete. Whether the text
//! is valid, and the error when it is not, is still serde's whole-text verdict.

use super::{json_error, kind_of, swap_non_finite, JsonError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A top-level JSON object, as much of it as could be read, with lines.
#[derive(Debug, Default)]
pub struct Document {
    /// The top-level members (empty when the top level is not an object).
    pub top: Map<String, Value>,
    /// The 1-based line of each member's key.
    pub member_lines: BTreeMap<String, usize>,
    /// For each array member, the 1-based line where each element starts.
    pub element_lines: BTreeMap<String, Vec<usize>>,
    /// Set when the text did not parse as a whole; `top` then holds the
    /// complete members before the damage, and of an array member cut
    /// in the middle, its complete elements.
    pub error: Option<JsonError>,
}

/// Parse a text whose top level should be an object, with the line of each
/// member and array element; a damaged text keeps its complete pieces.
pub fn parse_object(text: &str) -> Document {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (swapped, shifts) = swap_non_finite(text);
    let mut doc = Document::default();
    if walk_object(&swapped, &mut doc) {
        // The walk checks the top level's grammar and serde each value: the text is valid.
        return doc;
    }
    // Damaged, or not an object: serde's verdict on the whole text says where and why.
    match serde_json::from_str::<Value>(&swapped) {
        Ok(Value::Object(top)) => {
            // Cannot happen for a valid text; keep serde's reading, without lines.
            doc = Document {
                top,
                ..Document::default()
            };
        }
        Ok(other) => {
            doc = Document::default();
            doc.error = Some(JsonError {
                line: Some(1),
                column: None,
                message: format!("the top level is {}, not an object", kind_of(&other)),
                cut_short: false,
            });
        }
        Err(err) => doc.error = Some(json_error(&err, text, &shifts)),
    }
    doc
}

/// A cursor over the text that counts lines as it moves.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl Cursor<'_> {
    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !b.is_ascii_whitespace() {
                break;
            }
            self.line += usize::from(b == b'\n');
            self.pos += 1;
        }
    }

    /// The next non-blank byte, consumed when it is `want`.
    fn eat(&mut self, want: u8) -> bool {
        self.skip_whitespace();
        let found = self.text.as_bytes().get(self.pos) == Some(&want);
        self.pos += usize::from(found);
        found
    }

    /// The line of the next non-blank byte.
    fn line_after_blanks(&mut self) -> usize {
        self.skip_whitespace();
        self.line
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.as_bytes().get(self.pos).copied()
    }

    /// One complete JSON value (serde's own parser), or `None` at damage.
    fn value(&mut self) -> Option<Value> {
        self.skip_whitespace();
        let rest = self.text.get(self.pos..)?;
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let value = stream.next()?.ok()?;
        let end = self.pos + stream.byte_offset();
        self.line += self.text[self.pos..end].matches('\n').count();
        self.pos = end;
        Some(value)
    }

    /// True when the next byte closes the current value (`,` or `close`),
    /// so a number cut at the end of the text is not taken as whole.
    fn value_ended(&mut self, close: u8) -> bool {
        matches!(self.peek(), Some(b) if b == b',' || b == close)
    }
}

/// Walk a top-level object into `doc`; true when it ended cleanly.
fn walk_object(text: &str, doc: &mut Document) -> bool {
    let mut cur = Cursor {
        text,
        pos: 0,
        line: 1,
    };
    if !cur.eat(b'{') {
        return false;
    }
    if cur.eat(b'}') {
        return cur.peek().is_none();
    }
    loop {
        let key_line = cur.line_after_blanks();
        let Some(Value::String(key)) = cur.value() else {
            return false;
        };
        if !cur.eat(b':') {
            return false;
        }
        let value = if cur.peek() == Some(b'[') {
            let (items, lines, complete) = walk_array(&mut cur);
            doc.element_lines.insert(key.clone(), lines);
            if !complete {
                doc.member_lines.insert(key.clone(), key_line);
                doc.top.insert(key, Value::Array(items));
                return false;
            }
            Value::Array(items)
        } else {
            match cur.value() {
                Some(v) if cur.value_ended(b'}') => v,
                _ => return false,
            }
        };
        doc.member_lines.insert(key.clone(), key_line);
        doc.top.insert(key, value);
        if cur.eat(b',') {
            continue;
        }
        return cur.eat(b'}') && cur.peek().is_none();
    }
}

/// The complete elements of an array at the cursor, their lines, and whether it closed.
fn walk_array(cur: &mut Cursor) -> (Vec<Value>, Vec<usize>, bool) {
    let (mut items, mut lines) = (Vec::new(), Vec::new());
    cur.eat(b'[');
    if cur.eat(b']') {
        return (items, lines, true);
    }
    loop {
        let line = cur.line_after_blanks();
        match cur.value() {
            Some(v) if cur.value_ended(b']') => {
                items.push(v);
                lines.push(line);
            }
            _ => return (items, lines, false),
        }
        if cur.eat(b',') {
            continue;
        }
        return (items, lines, cur.eat(b']'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::lenient_json::number;
    use serde_json::json;

    #[test]
    fn members_and_elements_have_lines() {
        let text = "\u{feff}{\r\n  \"config\": {\"lr\": 1},\r\n  \"history\": [\r\n    {\"loss\": NaN},\r\n    {\r\n      \"loss\": 2\r\n    }\r\n  ],\r\n  \"best\": Infinity\r\n}\r\n";
        let doc = parse_object(text);
        assert!(doc.error.is_none(), "{:?}", doc.error);
        assert_eq!(doc.member_lines["config"], 2);
        assert_eq!(doc.member_lines["best"], 9);
        assert_eq!(doc.element_lines["history"], vec![4, 5]);
        assert_eq!(number(&doc.top["best"]), Some(f64::INFINITY));
    }

    #[test]
    fn a_cut_document_keeps_its_complete_pieces() {
        let text = "{\n  \"start\": \"x\",\n  \"history\": [\n    {\"loss\": 1.5},\n    {\"loss\": 1.2},\n    {\"loss\": 1.";
        let doc = parse_object(text);
        let error = doc.error.expect("an error");
        assert!(error.cut_short);
        assert_eq!(error.line, Some(6));
        assert_eq!(doc.top["start"], json!("x"));
        assert_eq!(doc.top["history"].as_array().unwrap().len(), 2);
        assert_eq!(doc.element_lines["history"], vec![4, 5]);
        // A number cut at the very end is not taken as complete.
        let doc = parse_object("{\"a\": 1, \"b\": 2.5");
        assert_eq!(doc.top.get("b"), None);
        assert_eq!(doc.top["a"], json!(1));
    }

    #[test]
    fn odd_top_levels() {
        let doc = parse_object("[1, 2]");
        assert!(doc.top.is_empty());
        assert!(doc.error.unwrap().message.contains("a list"));
        assert!(parse_object("").error.unwrap().cut_short);
        let doc = parse_object("{}");
        assert!(doc.error.is_none() && doc.top.is_empty());
        let doc = parse_object("{\"a\": 1} x");
        assert!(doc.error.is_some());
    }
}
