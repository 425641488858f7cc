//! Weights & Biases run folders: `wandb/run-<date>_<time>-<id>/files/`.
//!
//! The run is the `run-*` folder; what is read lives in its `files/`
//! subfolder: `config.yaml` (every value wrapped as `{value, desc}`, unwrapped
//! here; `_wandb` internals skipped), `wandb-metadata.json` (start time,
//! program, host), `wandb-summary.json` (the final value of every metric) and
//! `output.log` (captured stdout, read only for a crash). The full history is
//! in the binary `.wandb` file, which is not read: a run shows one point per
//! metric, at the summary's `_step`.
//!
//! `summary` holds the pure parsers of the summary and the log; this module
//! owns the claim and the config and metadata files.

pub(crate) mod summary;

use crate::discover::FileEntry;
use crate::load::config::parse_yaml_params;
use crate::load::{lenient_json, FolderView, SourceText};
use crate::model::{Problem, Run, Status};
use serde_json::{Map, Value};

/// The files read, in order (config first: it names the run).
const FILES: &[&str] = &[
    "config.yaml",
    "wandb-metadata.json",
    "wandb-summary.json",
    "output.log",
];

/// Metadata keys worth keeping as params (under `wandb_metadata.*`).
const METADATA_KEYS: &[&str] = &[
    "program",
    "args",
    "host",
    "python",
    "os",
    "gpu",
    "gpu_count",
    "cpu_count",
];

/// Claim a `run-*` (or `offline-run-*`) folder whose `files/` holds a W&B
/// summary or metadata file; a real-copy `latest-run` is skipped when a
/// sibling `run-*` folder exists (it is the same run).
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let base = view.dir.rsplit('/').next().unwrap_or(view.dir);
    let is_run = base.starts_with("run-") || base.starts_with("offline-run-");
    if !is_run && base != "latest-run" {
        return Vec::new();
    }
    if base == "latest-run" && has_run_sibling(view) {
        return Vec::new();
    }
    let Some(files) = view.subfolder("files") else {
        return Vec::new();
    };
    let looks_like_object = |f: &FileEntry| {
        let head = view.head(f);
        head.trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
    };
    let marker = ["wandb-summary.json", "wandb-metadata.json"]
        .iter()
        .filter_map(|n| files.file(n))
        .any(looks_like_object);
    if !marker {
        return Vec::new();
    }
    FILES
        .iter()
        .filter_map(|n| files.file(n))
        .cloned()
        .collect()
}

/// True when the parent folder of `view` has a `run-*` subfolder.
fn has_run_sibling(view: &FolderView) -> bool {
    let parent = view.dir.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    view.tree.folder(parent).is_some_and(|f| {
        f.subdirs
            .iter()
            .any(|s| s.starts_with("run-") || s.starts_with("offline-run-"))
    })
}

/// Read a claimed run folder's files into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let folder = run.path.rsplit('/').next().unwrap_or("").to_string();
    if let Some((date, id)) = split_run_folder(&folder) {
        run.date = Some(date);
        run.name = id;
    }
    let mut has_summary = false;
    let mut crashed = false;
    for source in texts {
        match source.name.as_str() {
            "config.yaml" => read_config(&mut run, source),
            "wandb-metadata.json" => read_metadata(&mut run, source),
            "wandb-summary.json" => {
                has_summary = summary::read_summary(&mut run, source.text(), &source.rel);
            }
            "output.log" => {
                crashed = summary::read_output_log(&mut run, source.text(), &source.rel)
            }
            _ => {}
        }
    }
    if !crashed && run.status == Status::Unknown {
        run.status_reason = if has_summary {
            "W&B summary has final values; the history (.wandb binary) is not read".into()
        } else {
            "no W&B summary; the history (.wandb binary) is not read".into()
        };
    }
    vec![run]
}

/// `run-20260211_131227-eziofh0f` -> (`2026-02-11`, `eziofh0f`).
pub fn split_run_folder(name: &str) -> Option<(String, String)> {
    let rest = name
        .strip_prefix("offline-run-")
        .or_else(|| name.strip_prefix("run-"))?;
    let (stamp, id) = rest.split_once('-')?;
    let b = stamp.as_bytes();
    if b.len() < 8 || !b[..8].iter().all(u8::is_ascii_digit) || id.is_empty() {
        return None;
    }
    let date = format!("{}-{}-{}", &stamp[..4], &stamp[4..6], &stamp[6..8]);
    Some((date, id.to_string()))
}

/// `config.yaml`: unwrap `{value: X, desc: ...}` and drop `_wandb`.
fn read_config(run: &mut Run, source: &SourceText) {
    let (params, problems) = parse_yaml_params(source.text(), &source.rel);
    run.problems.extend(problems);
    let Value::Object(map) = params else {
        return;
    };
    let unwrapped: Map<String, Value> = map
        .into_iter()
        .filter(|(k, _)| k != "_wandb" && k != "wandb_version")
        .map(|(k, v)| (k, unwrap_value(v)))
        .collect();
    if let Some(name) = config_run_name(&unwrapped) {
        run.name = name;
    }
    merge(&mut run.params, unwrapped);
}

/// W&B wraps each config value as `{value: X, desc: null}`.
fn unwrap_value(value: Value) -> Value {
    match value {
        Value::Object(mut m)
            if m.contains_key("value") && m.keys().all(|k| k == "value" || k == "desc") =>
        {
            m.remove("value").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// `wandb.run_name` (nested or dotted) or `wandb_run_name` in the config.
fn config_run_name(config: &Map<String, Value>) -> Option<String> {
    let candidates = [
        config.get("wandb").and_then(|w| w.get("run_name")),
        config.get("wandb.run_name"),
        config.get("wandb").and_then(|w| w.get("name")),
    ];
    candidates.into_iter().flatten().find_map(|v| {
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
    })
}

/// `wandb-metadata.json`: start time and a few keys under `wandb_metadata`.
fn read_metadata(run: &mut Run, source: &SourceText) {
    let value = match lenient_json::parse(source.text()) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("not valid JSON: {}", e.message);
            run.problems
                .push(Problem::warning(&source.rel, e.line, message));
            return;
        }
    };
    let Value::Object(meta) = value else {
        let message = "expected a JSON object";
        run.problems
            .push(Problem::warning(&source.rel, None, message));
        return;
    };
    if let Some(started) = meta.get("startedAt").and_then(Value::as_str) {
        run.started = Some(started.to_string());
        if run.date.is_none() && started.len() >= 10 {
            run.date = started.get(..10).map(str::to_string);
        }
    }
    if let Some(name) = meta.get("display_name").and_then(Value::as_str) {
        if !name.trim().is_empty() {
            run.name = name.trim().to_string();
        }
    }
    let kept: Map<String, Value> = METADATA_KEYS
        .iter()
        .filter_map(|k| {
            meta.get(*k)
                .map(|v| (k.to_string(), lenient_json::plain(v.clone())))
        })
        .collect();
    if !kept.is_empty() {
        let mut wrapper = Map::new();
        wrapper.insert("wandb_metadata".into(), Value::Object(kept));
        merge(&mut run.params, wrapper);
    }
}

/// Add keys of `extra` not already in `params`.
fn merge(params: &mut Value, extra: Map<String, Value>) {
    if !params.is_object() {
        *params = Value::Object(Map::new());
    }
    if let Value::Object(into) = params {
        for (k, v) in extra {
            into.entry(k).or_insert(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> SourceText {
        SourceText::from_text(&format!("wandb/run-20260211_131227-abc/files/{name}"), text)
    }

    #[test]
    fn splits_run_folder_names() {
        assert_eq!(
            split_run_folder("run-20260211_131227-eziofh0f"),
            Some(("2026-02-11".into(), "eziofh0f".into()))
        );
        assert_eq!(split_run_folder("latest-run"), None);
        assert_eq!(split_run_folder("run-abc"), None);
    }

    #[test]
    fn unwraps_config_and_reads_metadata() {
        let config = "wandb_version: 1\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.16.0\n\
                      lr:\n  desc: null\n  value: 0.001\nwandb:\n  desc: null\n  value:\n    run_name: tiny-a\n";
        let meta = r#"{"startedAt": "2026-02-11T13:12:27.5Z", "program": "train.py", "host": "gpu1", "email": "x@y"}"#;
        let run = Run::new("wandb/run-20260211_131227-abc", "wandb", "wandb");
        let run = &read_run(
            run,
            &[
                source("config.yaml", config),
                source("wandb-metadata.json", meta),
            ],
        )[0];
        assert_eq!(run.params["lr"], 0.001);
        assert!(run.params.get("_wandb").is_none());
        assert_eq!(run.params["wandb_metadata"]["program"], "train.py");
        assert!(run.params["wandb_metadata"].get("email").is_none());
        assert_eq!(run.name, "tiny-a");
        assert_eq!(run.date.as_deref(), Some("2026-02-11"));
        assert_eq!(run.started.as_deref(), Some("2026-02-11T13:12:27.5Z"));
        assert!(run.problems.is_empty(), "{:?}", run.problems);
    }
}
