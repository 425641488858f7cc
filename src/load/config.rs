//! Run configuration files (`config.yaml`, `params.yaml`, `config.json`) as a params tree.
//!
//! Pure: text in, a nested `serde_json::Value` object and problems out. The
//! result is always an object, so callers can merge it into [`Run::params`]
//! without checking: a file that does not parse gives an empty object and an
//! error, a top level that is not a mapping is kept under `"value"` with a
//! warning. Also finds the run's own name among the usual config keys, and
//! which params file of a run folder to read, which every format shares.
//!
//! [`Run::params`]: crate::model::Run::params

use crate::discover::{FileEntry, Folder};
use crate::load::{file_named, SourceText};
use crate::model::{Problem, Run};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Keys that name a run when they sit at the top level or one level down, best first.
const NESTED_NAME_KEYS: [&str; 3] = ["run_name", "wandb_run_name", "experiment_name"];

/// Params files read beside a run's metrics, first found wins.
const PARAMS_FILES: &[&str] = &[
    "params.yaml",
    "params.yml",
    "config.yaml",
    "config.yml",
    "params.json",
    "config.json",
];

/// The params file of a run folder, if it has one (see [`PARAMS_FILES`] for the order).
pub(crate) fn params_file(folder: &Folder) -> Option<FileEntry> {
    PARAMS_FILES
        .iter()
        .find_map(|n| file_named(folder, n))
        .cloned()
}

/// Read a params file's text into the run (YAML or JSON by extension).
pub(crate) fn read_params(run: &mut Run, source: &SourceText) {
    let (params, problems) = if source.name.ends_with(".json") {
        parse_json_params(source.text(), &source.rel)
    } else {
        parse_yaml_params(source.text(), &source.rel)
    };
    merge_params(&mut run.params, params);
    run.problems.extend(problems);
}

/// Merge `extra` into `params`, keeping what is already there.
fn merge_params(params: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(from)) = (params, extra) {
        for (k, v) in from {
            into.entry(k).or_insert(v);
        }
    }
}

/// Parse a YAML config into a params object.
///
/// Only the first YAML document is read (a warning says so when there are
/// more). Merge keys (`<<: *base`) are applied. Keys that are not strings
/// (`1:`, `true:`) become their text; `.nan` and `.inf` become the strings
/// `"NaN"` and `"Infinity"` because JSON cannot hold them as numbers.
/// Deeper `[`/`{` nesting than this is refused before parsing: the YAML parser
/// takes quadratic time on it and refuses past 128 levels anyway.
const MAX_FLOW_DEPTH: usize = 128;

/// The line where flow brackets first nest deeper than [`MAX_FLOW_DEPTH`]
/// (outside quotes and comments), if they do.
fn too_deep_flow_nesting(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some(index + 1);
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

pub fn parse_yaml_params(text: &str, file: &str) -> (Value, Vec<Problem>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Vec::new();
    if let Some(line) = too_deep_flow_nesting(text) {
        let message = format!("not read: brackets nested deeper than {MAX_FLOW_DEPTH} levels");
        problems.push(Problem::error(file, Some(line), message));
        return (empty_object(), problems);
    }
    let mut documents = serde_yaml_ng::Deserializer::from_str(text);
    let Some(first) = documents.next() else {
        return (empty_object(), problems);
    };
    let mut yaml = match serde_yaml_ng::Value::deserialize(first) {
        Ok(value) => value,
        Err(err) => {
            let line = err.location().map(|l| l.line());
            problems.push(Problem::error(file, line, format!("not valid YAML: {err}")));
            return (empty_object(), problems);
        }
    };
    if let Err(err) = yaml.apply_merge() {
        let line = err.location().map(|l| l.line());
        problems.push(Problem::warning(
            file,
            line,
            format!("YAML merge key (<<) not applied: {err}"),
        ));
    }
    let mut extra_documents = 0;
    for document in documents {
        extra_documents += 1;
        if let Err(err) = serde::de::IgnoredAny::deserialize(document) {
            let line = err.location().map(|l| l.line());
            let message =
                format!("a later YAML document does not parse ({err}); only the first is read");
            problems.push(Problem::warning(file, line, message));
            // After an error the document iterator repeats it forever.
            break;
        }
    }
    if extra_documents > 0 {
        problems.push(Problem::warning(
            file,
            None,
            format!(
                "holds {} YAML documents; only the first is read",
                extra_documents + 1
            ),
        ));
    }
    let value = yaml_to_json(yaml);
    (into_object(value, file, "YAML", &mut problems), problems)
}

/// Parse a JSON config into a params object (same contract as [`parse_yaml_params`]).
pub fn parse_json_params(text: &str, file: &str) -> (Value, Vec<Problem>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Vec::new();
    if text.trim().is_empty() {
        // An empty params file means "no params", the same as an empty YAML file.
        return (empty_object(), problems);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => (into_object(value, file, "JSON", &mut problems), problems),
        Err(err) => {
            let line = (err.line() > 0).then_some(err.line());
            problems.push(Problem::error(file, line, format!("not valid JSON: {err}")));
            (empty_object(), problems)
        }
    }
}

/// The run's own name from its params, if it records one.
///
/// Looks at the top level first (`run_name`, `name`, `wandb_run_name`,
/// `experiment_name`, in that order), then one level down in any nested
/// object (`training_config.wandb_run_name`). A nested `name` is not taken:
/// it usually names something else (`optimizer.name: adamw`).
pub fn run_name_from_params(params: &Value) -> Option<String> {
    let top = params.as_object()?;
    let top_keys = ["run_name", "name", "wandb_run_name", "experiment_name"];
    if let Some(name) = top_keys.iter().find_map(|k| name_value(top.get(*k))) {
        return Some(name);
    }
    NESTED_NAME_KEYS.iter().find_map(|key| {
        top.values()
            .filter_map(Value::as_object)
            .find_map(|nested| name_value(nested.get(*key)))
    })
}

/// A usable name: a non-empty string, or a number written as text.
fn name_value(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// Make sure params are an object: null is empty, anything else is kept under `"value"`.
fn into_object(value: Value, file: &str, format: &str, problems: &mut Vec<Problem>) -> Value {
    match value {
        Value::Object(_) => value,
        Value::Null => empty_object(),
        other => {
            problems.push(Problem::warning(
                file,
                None,
                format!("the top level of this {format} file is not a mapping; it is kept under \"value\""),
            ));
            let mut map = Map::new();
            map.insert("value".to_string(), other);
            Value::Object(map)
        }
    }
}

fn yaml_to_json(yaml: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => yaml_number_to_json(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                map.insert(yaml_key_text(key), yaml_to_json(value));
            }
            Value::Object(map)
        }
        // `!!python/tuple [1, 2]` and friends: the tag says how Python built it, the value is what matters.
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_number_to_json(n: &serde_yaml_ng::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        match serde_json::Number::from_f64(f) {
            Some(number) => Value::Number(number),
            // JSON has no NaN or infinity; keep them the way the model serializes them.
            None if f.is_nan() => Value::String("NaN".to_string()),
            None if f > 0.0 => Value::String("Infinity".to_string()),
            None => Value::String("-Infinity".to_string()),
        }
    }
}

/// Text of a mapping key; JSON object keys must be strings.
fn yaml_key_text(key: serde_yaml_ng::Value) -> String {
    match yaml_to_json(key) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_with_its_line() {
        let deep = format!("a: 1\nb: {}", "[".repeat(100_000));
        let started = std::time::Instant::now();
        let (value, problems) = parse_yaml_params(&deep, "c.yaml");
        assert!(started.elapsed().as_secs() < 2);
        assert_eq!(value, empty_object());
        assert_eq!(problems[0].line, Some(2));
        let fine = "a: [[1, 2], {b: '[[['}]  # [[[\n";
        assert!(parse_yaml_params(fine, "c.yaml").1.is_empty());
    }
    use crate::model::Severity;
    use serde_json::json;

    #[test]
    fn yaml_nested_config_becomes_object() {
        let text =
            "training_config:\n  batch_size: 16\n  learning_rate: 0.001\n  use_wandb: false\n  \
                    wandb_run_name: tt-heal-0000\ndevice_config:\n  mesh_shape: [1, 1]\n";
        let (value, problems) = parse_yaml_params(text, "r/config.yaml");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(value["training_config"]["batch_size"], json!(16));
        assert_eq!(value["training_config"]["learning_rate"], json!(0.001));
        assert_eq!(value["training_config"]["use_wandb"], json!(false));
        assert_eq!(value["device_config"]["mesh_shape"], json!([1, 1]));
    }

    #[test]
    fn bad_yaml_is_an_error_with_its_line() {
        let text = "a: 1\nb: 2\nc: [unclosed\nd: 4\n";
        let (value, problems) = parse_yaml_params(text, "r/config.yaml");
        assert_eq!(value, json!({}));
        assert_eq!(problems.len(), 1);
        let p = &problems[0];
        assert_eq!(p.severity, Severity::Error);
        assert_eq!(p.file, "r/config.yaml");
        assert!(p.line.is_some_and(|l| (3..=5).contains(&l)), "{p:?}");
        assert!(p.message.starts_with("not valid YAML"), "{}", p.message);
    }

    #[test]
    fn bad_yaml_indentation_points_at_the_line() {
        let text = "a:\n  b: 1\n c: 2\n";
        let (_, problems) = parse_yaml_params(text, "x.yaml");
        assert_eq!(problems[0].severity, Severity::Error);
        assert_eq!(problems[0].line, Some(3), "{:?}", problems[0]);
    }

    #[test]
    fn yaml_scalar_top_level_is_kept_under_value() {
        let (value, problems) = parse_yaml_params("just a string\n", "p.yaml");
        assert_eq!(value, json!({"value": "just a string"}));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Warning);
        let (value, _) = parse_yaml_params("- 1\n- 2\n", "p.yaml");
        assert_eq!(value, json!({"value": [1, 2]}));
    }

    #[test]
    fn empty_yaml_is_an_empty_object_without_problems() {
        for text in ["", "\n\n", "# only a comment\n", "~\n", "\u{feff}"] {
            let (value, problems) = parse_yaml_params(text, "p.yaml");
            assert_eq!(value, json!({}), "{text:?}");
            assert!(problems.is_empty(), "{text:?}: {problems:?}");
        }
    }

    #[test]
    fn yaml_odd_keys_and_values_survive() {
        let text =
            "1: one\ntrue: yes\nlr: .nan\nclip: .inf\nlow: -.inf\nbig: 18446744073709551615\n\
                    t: !!python/tuple [1, 2]\nwin: 'C:\\runs\\a'\r\n";
        let (value, problems) = parse_yaml_params(text, "args.yaml");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(value["1"], json!("one"));
        assert_eq!(value["true"], json!("yes"));
        assert_eq!(value["lr"], json!("NaN"));
        assert_eq!(value["clip"], json!("Infinity"));
        assert_eq!(value["low"], json!("-Infinity"));
        assert_eq!(value["big"], json!(18446744073709551615u64));
        assert_eq!(value["t"], json!([1, 2]));
        assert_eq!(value["win"], json!("C:\\runs\\a"));
    }

    #[test]
    fn yaml_merge_keys_and_extra_documents() {
        let text = "base: &b\n  lr: 0.1\nrun:\n  <<: *b\n  seed: 1\n---\nother: 2\n";
        let (value, problems) = parse_yaml_params(text, "p.yaml");
        assert_eq!(value["run"], json!({"lr": 0.1, "seed": 1}));
        assert!(value.get("other").is_none());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Warning);
        assert!(
            problems[0].message.contains("2 YAML documents"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn broken_later_yaml_document_is_a_warning() {
        let (value, problems) = parse_yaml_params("a: 1\n---\nb: [\n", "p.yaml");
        assert_eq!(value, json!({"a": 1}));
        assert_eq!(problems[0].severity, Severity::Warning);
        assert_eq!(problems[0].line, Some(4));
    }

    #[test]
    fn json_config_and_its_errors() {
        let (value, problems) = parse_json_params(
            "{\"lora_parameters\": {\"rank\": 8}, \"iters\": 2}",
            "a.json",
        );
        assert!(problems.is_empty());
        assert_eq!(value["lora_parameters"]["rank"], json!(8));

        let (value, problems) = parse_json_params("{\n  \"a\": 1,\n  \"b\": \n}\n", "a.json");
        assert_eq!(value, json!({}));
        assert_eq!(problems[0].severity, Severity::Error);
        assert_eq!(problems[0].line, Some(4));
        assert!(problems[0].message.starts_with("not valid JSON"));

        let (value, problems) = parse_json_params("[1, 2]", "a.json");
        assert_eq!(value, json!({"value": [1, 2]}));
        assert_eq!(problems[0].severity, Severity::Warning);

        let (value, problems) = parse_json_params("  \n", "a.json");
        assert_eq!(value, json!({}));
        assert!(problems.is_empty());
    }

    #[test]
    fn run_name_prefers_top_level_keys() {
        assert_eq!(
            run_name_from_params(&json!({"run_name": "a", "name": "b"})),
            Some("a".into())
        );
        assert_eq!(
            run_name_from_params(&json!({"name": "b", "wandb_run_name": "c"})),
            Some("b".into())
        );
        assert_eq!(
            run_name_from_params(&json!({"experiment_name": "e"})),
            Some("e".into())
        );
        assert_eq!(
            run_name_from_params(
                &json!({"name": "top", "training_config": {"wandb_run_name": "nested"}})
            ),
            Some("top".into())
        );
    }

    #[test]
    fn run_name_looks_one_level_down_but_not_for_name() {
        let params = json!({"training_config": {"wandb_run_name": "tt-heal-0000"}, "optimizer": {"name": "adamw"}});
        assert_eq!(run_name_from_params(&params), Some("tt-heal-0000".into()));
        assert_eq!(
            run_name_from_params(&json!({"optimizer": {"name": "adamw"}})),
            None
        );
        assert_eq!(
            run_name_from_params(&json!({"a": {"b": {"run_name": "too deep"}}})),
            None
        );
        assert_eq!(
            run_name_from_params(&json!({"run_name": "  ", "name": null})),
            None
        );
        assert_eq!(run_name_from_params(&json!("not an object")), None);
        assert_eq!(
            run_name_from_params(&json!({"run_name": 7})),
            Some("7".into())
        );
    }

    #[test]
    fn gen_corpus_config_reads_and_names_the_run() {
        let text = "training_config:\n  model_type: llama\n  seed: 1337\n  learning_rate: 0.001\n  \
                    checkpoint_dir: checkpoints_tt-heal-lr0.001-bs16-0000\n  wandb_project: trickster-finetune\n  \
                    wandb_run_name: tt-heal-lr0.001-bs16-0000\neval_config:\n  top_p: 1.0\n";
        let (value, problems) = parse_yaml_params(text, "config.yaml");
        assert!(problems.is_empty());
        assert_eq!(
            run_name_from_params(&value),
            Some("tt-heal-lr0.001-bs16-0000".into())
        );
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = b"ab:- \n\t{}[]&*!|>'\"#%@`,?\r\x00\xff";
        let mut state: u64 = 0x1234_5678;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let (value, _) = parse_yaml_params(&text, "g.yaml");
            assert!(value.is_object());
            let (value, _) = parse_json_params(&text, "g.json");
            assert!(value.is_object());
        }
    }
}
