//! `trainer_state.json` parsed with `log_history` as compact entries instead
//! of `serde_json` maps.
//!
//! A Trainer's state is thousands of small dictionaries with the same handful
//! of keys. As `serde_json::Value`s each was a `BTreeMap` with an owned
//! `String` per key, and building and dropping them was most of the cost of
//! reading the file, itself a sixth of a 100-run build. Here each key name is
//! kept once per document ([`Keys`]) and an entry is a short vector of (key,
//! value), sorted by name with the last of a repeated key kept, as the map
//! held them: everything downstream sees the same entries in the same order.
//! Values are still `serde_json::Value`s, read by serde_json from the same
//! text, so numbers, errors and their lines are serde_json's own.

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

/// The key names of a document's entries, each kept once.
#[derive(Debug, Default)]
pub(super) struct Keys {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

/// Up to this many names a key is looked for by comparing, not hashing: a
/// Trainer logs a dozen or so, and hashing each key was 1.5% of a build.
const FEW_NAMES: usize = 32;

impl Keys {
    fn id(&mut self, name: &str) -> u32 {
        if self.names.len() <= FEW_NAMES {
            if let Some(id) = self.names.iter().position(|n| n == name) {
                return id as u32;
            }
        } else if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// An element of `log_history`.
#[derive(Debug)]
pub(super) enum Element {
    /// An object: its keys and values, sorted by key name.
    Entry(Vec<(u32, Value)>),
    /// Anything else, kept to say what it is.
    Other(Value),
}

/// What the top level's `log_history` holds.
#[derive(Debug)]
pub(super) enum HistoryField {
    List(Vec<Element>),
    Other(Value),
}

/// How many elements a document's `log_history` list holds (0 for none, or
/// for one that is not a list).
pub(super) fn listed(history: &Option<HistoryField>) -> usize {
    match history {
        Some(HistoryField::List(elements)) => elements.len(),
        _ => 0,
    }
}

/// An entry seen with its key names.
#[derive(Clone, Copy)]
pub(super) struct Entry<'h> {
    names: &'h [String],
    pairs: &'h [(u32, Value)],
}

impl<'h> Entry<'h> {
    pub fn new(keys: &'h Keys, pairs: &'h [(u32, Value)]) -> Self {
        Entry {
            names: &keys.names,
            pairs,
        }
    }

    /// Keys and values, in key order.
    pub fn iter(self) -> impl Iterator<Item = (&'h str, &'h Value)> {
        let names = self.names;
        self.pairs
            .iter()
            .map(move |(id, value)| (names[*id as usize].as_str(), value))
    }

    pub fn get(self, name: &str) -> Option<&'h Value> {
        self.iter().find(|(key, _)| *key == name).map(|(_, v)| v)
    }

    pub fn contains_key(self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn to_map(self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

/// A document's top level: its members but `log_history`, and that.
#[derive(Debug, Default)]
pub(super) struct Top {
    pub members: Map<String, Value>,
    pub history: Option<HistoryField>,
}

/// Parse a whole document; `Err(value)` when its top level is not an object.
pub(super) fn parse_top(
    text: &str,
    keys: &mut Keys,
) -> Result<Result<Top, Value>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let top = TopSeed(keys).deserialize(&mut de)?;
    de.end()?;
    Ok(top)
}

/// Parse one element of `log_history` on its own (a piece of a damaged document).
pub(super) fn parse_element(text: &str, keys: &mut Keys) -> Option<Element> {
    let mut de = serde_json::Deserializer::from_str(text);
    let element = ElementSeed(keys).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(element)
}

/// The rest of a value whose first token a visitor has seen, as a `Value`:
/// what an element that is not an object, or a `log_history` that is not a
/// list, is kept as. Rare, so plain.
struct Whole;

impl Whole {
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }

    fn seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
}

/// The scalar `visit_*` methods, each keeping its value whole through `$wrap`.
macro_rules! scalars_kept_whole {
    ($wrap:expr) => {
        fn visit_bool<E: Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Value::Bool(v)))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(Value::String(v.to_string())))
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
    };
}

struct TopSeed<'k>(&'k mut Keys);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Result<Top, Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Result<Top, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    scalars_kept_whole!(Err);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Whole::seq(seq).map(Err)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut top = Top::default();
        while let Some(key) = map.next_key::<String>()? {
            if key == "log_history" {
                top.history = Some(map.next_value_seed(HistorySeed(self.0))?);
            } else {
                top.members.insert(key, map.next_value()?);
            }
        }
        Ok(Ok(top))
    }
}

struct HistorySeed<'k>(&'k mut Keys);

impl<'de> DeserializeSeed<'de> for HistorySeed<'_> {
    type Value = HistoryField;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HistorySeed<'_> {
    type Value = HistoryField;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    scalars_kept_whole!(HistoryField::Other);
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Whole::map(map).map(HistoryField::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element_seed(ElementSeed(self.0))? {
            elements.push(element);
        }
        Ok(HistoryField::List(elements))
    }
}

struct ElementSeed<'k>(&'k mut Keys);

impl<'de> DeserializeSeed<'de> for ElementSeed<'_> {
    type Value = Element;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_> {
    type Value = Element;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    scalars_kept_whole!(Element::Other);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Whole::seq(seq).map(Element::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(id) = map.next_key_seed(KeySeed(&mut *self.0))? {
            pairs.push((id, map.next_value()?));
        }
        // A map's order and its "last of a repeated key wins".
        let names = &self.0.names;
        pairs.sort_by(|a, b| names[a.0 as usize].cmp(&names[b.0 as usize]));
        pairs.reverse();
        pairs.dedup_by_key(|pair| pair.0);
        pairs.reverse();
        Ok(Element::Entry(pairs))
    }
}

struct KeySeed<'k>(&'k mut Keys);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<u32, E> {
        Ok(self.0.id(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text read as `serde_json::Value` and as entries: every member,
    /// every entry's keys in the same order with the same values (the last of a
    /// repeated key, escaped keys decoded, nested objects whole), and every
    /// element that is not an object.
    #[test]
    fn entries_are_the_maps_serde_json_builds() {
        let text = r#"{"max_steps": 9, "log_history": [
            {"step": 1, "loss": 2.5, "epoch": 0.1, "loss": 2.25},
            {"\u0073tep": 2, "eval": {"b": 1, "a": [2]}, "zeta": null, "Alpha": "x"},
            [1, {"loss": 3}], "odd", 4, null, true, {},
            {"grad_norm": "\u0000runboard:NaN", "step": 3}
        ], "best_metric": null, "log_history_extra": {"log_history": 1}}"#;
        let whole: Value = serde_json::from_str(text).unwrap();
        let mut keys = Keys::default();
        let top = parse_top(text, &mut keys).unwrap().unwrap();
        let mut members = whole.as_object().unwrap().clone();
        let Some(Value::Array(expected)) = members.remove("log_history") else {
            panic!("the test's text has a log_history list");
        };
        assert_eq!(top.members, members);
        let Some(HistoryField::List(elements)) = &top.history else {
            panic!("{:?}", top.history);
        };
        assert_eq!(elements.len(), expected.len());
        for (element, expected) in elements.iter().zip(&expected) {
            let got = match element {
                Element::Entry(pairs) => Value::Object(Entry::new(&keys, pairs).to_map()),
                Element::Other(other) => other.clone(),
            };
            assert_eq!(&got, expected);
            if let (Element::Entry(pairs), Value::Object(map)) = (element, expected) {
                let ours: Vec<&str> = Entry::new(&keys, pairs).iter().map(|(k, _)| k).collect();
                assert_eq!(ours, map.keys().map(String::as_str).collect::<Vec<_>>());
            }
        }
        assert_eq!(
            Entry::new(
                &keys,
                match &elements[0] {
                    Element::Entry(pairs) => pairs,
                    Element::Other(_) => panic!("the first element is an object"),
                }
            )
            .get("loss"),
            Some(&Value::from(2.25))
        );
    }

    /// Past the few names looked for by comparing, names are hashed: either
    /// way a name has one id.
    #[test]
    fn a_name_has_one_id_however_many_there_are() {
        let mut keys = Keys::default();
        let first: Vec<u32> = (0..80).map(|i| keys.id(&format!("k{i}"))).collect();
        let again: Vec<u32> = (0..80).rev().map(|i| keys.id(&format!("k{i}"))).collect();
        assert_eq!(first, (0..80).collect::<Vec<_>>());
        assert_eq!(again, (0..80).rev().collect::<Vec<_>>());
        assert_eq!(keys.names.len(), 80);
    }

    #[test]
    fn other_shapes_are_kept_whole() {
        let mut keys = Keys::default();
        assert_eq!(
            parse_top("[1, {\"a\": 2}]", &mut keys)
                .unwrap()
                .unwrap_err(),
            serde_json::json!([1, {"a": 2}])
        );
        assert_eq!(
            parse_top("\"s\"", &mut keys).unwrap().unwrap_err(),
            serde_json::json!("s")
        );
        let top = parse_top("{\"log_history\": {\"x\": 1}}", &mut keys)
            .unwrap()
            .unwrap();
        assert!(matches!(
            top.history,
            Some(HistoryField::Other(Value::Object(_)))
        ));
        let top = parse_top("{\"log_history\": 5, \"log_history\": [{}]}", &mut keys)
            .unwrap()
            .unwrap();
        assert!(matches!(top.history, Some(HistoryField::List(ref l)) if l.len() == 1));
        let err =
            parse_top("{\"log_history\": [{\"step\": 1}, {\"step\": ]}", &mut keys).unwrap_err();
        let plain =
            serde_json::from_str::<Value>("{\"log_history\": [{\"step\": 1}, {\"step\": ]}")
                .unwrap_err();
        assert_eq!(err.to_string(), plain.to_string());
        assert!(parse_element("{\"step\": 1} x", &mut keys).is_none());
        assert!(
            matches!(parse_element(" {\"step\": 1} ", &mut keys), Some(Element::Entry(p)) if p.len() == 1)
        );
    }
}
