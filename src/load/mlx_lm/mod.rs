//! MLX-LM LoRA runs (`mlx_lm`): the captured console output of `mlx_lm.lora`
//! and the `adapter_config.json` it writes into its adapter folder.
//!
//! The log is recognised by what it says, whatever its name: `Iter N: Train
//! loss X, ...` / `Iter N: Val loss X, ...` reports, `Starting training...,
//! iters: N`, or the newer table output and header panel. Its run is the
//! folder holding it; the adapter folder (`adapters/` or another model-like
//! subfolder) is an artifact of that run, and its `adapter_config.json`
//! (every training argument, `lora_parameters.rank` among them) gives the
//! params. A folder with an MLX adapter config but no log is still a run
//! (params only) when nothing else in it looks like a log another format reads.
//!
//! Params, highest precedence first: `adapter_config.json`, then what the log
//! printed (the command line's flags, the header panel, a wrapper's `key=value`
//! header, `iters:`). `derived.effective_batch_size` is batch size times
//! gradient accumulation steps when both are known. One log may hold several
//! trainings (see [`log`]); several logs in one folder are one run each.
//!
//! This module is the format's face: detection ([`claim`]) and assembling
//! runs ([`read_run`]). [`log`] reads a log into [`segment`]s, one per
//! training; [`lines`] recognises `Iter N:` reports and ending lines, [`table`]
//! the newer table output and [`header`] what wrapper scripts print.

mod header;
mod lines;
mod log;
mod segment;
mod table;

use crate::discover::{FileEntry, Folder};
use crate::load::config::parse_json_params;
use crate::load::{artifact_kind_of_folder, FolderView, SourceText};
use crate::model::{ArtifactKind, Run};
use lines::{after_prefix, iter_line, strip_ansi};
use serde_json::{Map, Value};
use table::{is_panel_title, table_row, TableRow};

/// The adapter config `mlx_lm.lora` writes beside its weights.
const ADAPTER_CONFIG: &str = "adapter_config.json";
/// Extensions of files that are never console logs (sources, docs, data, weights).
const NOT_LOGS: &str = "md rst py ipynb json yaml yml toml cfg ini sh jsonl csv tsv html htm js \
                        safetensors npz npy bin pt pth gguf png jpg jpeg gif svg webp pdf zip gz tar";
/// A folder with more candidate files than this is sniffed only where names suggest a log.
const MAX_SNIFFED: usize = 256;
/// Parts of file names that suggest a console log.
const LOG_NAME_HINTS: &[&str] = &["log", "train", "lora", "mlx", "out", "run"];
/// Extensions of files other formats read as runs: a folder with one is not an adapter-only run.
const OTHER_RUN_FILES: &[&str] = &["log", "txt", "out", "err", "jsonl", "csv", "tsv"];

/// Claim MLX-LM console logs of this folder (or of its adapter folder) and the adapter config.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let folder = view.folder;
    let own_config = view
        .file(ADAPTER_CONFIG)
        .filter(|f| looks_like_mlx_adapter_config(&view.head(f)));
    let adapter_folder = adapter_subfolder(view);
    let mut logs = mlx_logs(view, folder);
    if logs.is_empty() {
        if let Some((sub, _)) = &adapter_folder {
            logs = mlx_logs(sub, sub.folder);
        }
    }
    let config = own_config
        .cloned()
        .or_else(|| adapter_folder.map(|(_, config)| config));
    if logs.is_empty() {
        let adapter_only = own_config.is_none() && config.is_some() && !has_other_run_files(folder);
        if !adapter_only {
            return Vec::new();
        }
    }
    config.into_iter().chain(logs).collect()
}

/// Turn the claimed texts into runs: the adapter config's params on every run of every log.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let mut config = Map::new();
    let mut logs = Vec::new();
    for source in texts {
        if source.name == ADAPTER_CONFIG {
            let (params, problems) = parse_json_params(source.text(), &source.rel);
            if let Value::Object(params) = params {
                merge_missing(&mut config, params);
            }
            run.problems.extend(problems);
        } else {
            logs.push(source);
        }
    }
    if logs.is_empty() {
        run.params = Value::Object(finish_params(config.clone(), Map::new()));
        run.status_reason = format!("no MLX-LM log beside {ADAPTER_CONFIG}; params only");
        return vec![run];
    }
    let several_logs = logs.len() > 1;
    let mut runs = Vec::new();
    for source in &logs {
        let mut base = run.clone();
        if several_logs {
            base.path = source.rel.clone();
            base.name = file_stem(&source.name).to_string();
            // Each run keeps the config and its own log, not its neighbours'.
            let other_log = |file: &str| logs.iter().any(|l| l.rel == file && l.rel != source.rel);
            base.sources.retain(|s| !other_log(s));
            base.problems.retain(|p| !other_log(&p.file));
        }
        let found = log::read_log(&base, source.lines(), &source.rel);
        let several_trainings = found.len() > 1;
        for (i, mut one) in found.into_iter().enumerate() {
            let from_log = match std::mem::take(&mut one.params) {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            if several_trainings {
                one.path = format!("{}#{}", source.rel, i + 1);
                one.name = training_name(&from_log)
                    .unwrap_or_else(|| format!("{}#{}", file_stem(&source.name), i + 1));
            }
            one.params = Value::Object(finish_params(config.clone(), from_log));
            runs.push(one);
        }
    }
    runs
}

/// The files read line by line (and streamed when large): every log, not the adapter config.
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    rel.rsplit('/').next() != Some(ADAPTER_CONFIG)
}

/// Config params over log params, plus `derived.effective_batch_size`.
fn finish_params(
    mut params: Map<String, Value>,
    from_log: Map<String, Value>,
) -> Map<String, Value> {
    merge_missing(&mut params, from_log);
    let number = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| params.get(*k))
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
    };
    let batch = number(&["batch_size"]);
    let accumulation = number(&["grad_accumulation_steps", "gradient_accumulation_steps"]);
    if let (Some(batch), Some(accumulation)) = (batch, accumulation) {
        let product = batch * accumulation;
        let value = if product.fract() == 0.0 && product.abs() < 9e15 {
            Value::from(product as i64)
        } else {
            serde_json::Number::from_f64(product).map_or(Value::Null, Value::Number)
        };
        let derived = params
            .entry("derived")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(derived) = derived {
            derived.entry("effective_batch_size").or_insert(value);
        }
    }
    params
}

/// A wrapper's name for one training of a multi-model log (`MODEL_SLUG=...`, else the model).
fn training_name(params: &Map<String, Value>) -> Option<String> {
    ["MODEL_SLUG", "model_slug", "MODEL", "model"]
        .iter()
        .find_map(|k| params.get(*k)?.as_str())
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
}

/// Add the keys of `extra` that `into` lacks, recursing into objects both have.
pub(super) fn merge_missing(into: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (key, value) in extra {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(have)), Value::Object(more)) => merge_missing(have, more),
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The folder's files that sniff as MLX-LM console logs, by name.
///
/// In a folder of more than [`MAX_SNIFFED`] candidates (a dataset of text
/// files, not a run) only names that suggest a log are sniffed.
fn mlx_logs(view: &FolderView, folder: &Folder) -> Vec<FileEntry> {
    let candidates: Vec<&FileEntry> = folder
        .files
        .iter()
        .filter(|f| {
            let ext = extension(&f.name);
            f.size > 0 && !NOT_LOGS.split_whitespace().any(|n| n == ext)
        })
        .collect();
    let crowded = candidates.len() > MAX_SNIFFED;
    candidates
        .into_iter()
        .filter(|f| {
            !crowded
                || LOG_NAME_HINTS
                    .iter()
                    .any(|h| f.name.to_ascii_lowercase().contains(h))
        })
        .filter(|f| looks_like_mlx_log(&view.head(f)))
        .cloned()
        .collect()
}

/// The adapter folder below this one and its MLX `adapter_config.json`: `adapters/` first,
/// then any other model-like subfolder (`--adapter-path` may name it anything).
fn adapter_subfolder<'a>(view: &FolderView<'a>) -> Option<(FolderView<'a>, FileEntry)> {
    let preferred = view.folder.subdirs.iter().filter(|s| *s == "adapters");
    let others =
        view.folder.subdirs.iter().filter(|s| {
            *s != "adapters" && artifact_kind_of_folder(s) == Some(ArtifactKind::Model)
        });
    preferred.chain(others).find_map(|name| {
        let sub = view.subfolder(name)?;
        let config = sub
            .file(ADAPTER_CONFIG)
            .filter(|f| looks_like_mlx_adapter_config(&sub.head(f)))?
            .clone();
        Some((sub, config))
    })
}

/// True when a folder holds a file another format may read as a run (so an adapter alone is not ours).
fn has_other_run_files(folder: &Folder) -> bool {
    folder.files.iter().any(|f| {
        OTHER_RUN_FILES.contains(&extension(&f.name).as_str())
            || f.name.starts_with("events.out.tfevents")
            || f.name == "trainer_state.json"
    })
}

/// An MLX adapter config (`lora_parameters`, or `fine_tune_type` with `num_layers`), not a PEFT one.
pub fn looks_like_mlx_adapter_config(head: &str) -> bool {
    let mlx = head.contains("\"lora_parameters\"")
        || (head.contains("\"fine_tune_type\"") && head.contains("\"num_layers\""));
    mlx && !head.contains("\"peft_type\"")
}

/// True when the head of a file is MLX-LM console output: a train or val report,
/// `Starting training..., iters:`, or the newer table header or panel, outside quotes.
pub fn looks_like_mlx_log(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    head.split(['\n', '\r']).any(|piece| {
        let line = strip_ansi(piece);
        let trimmed = line.trim();
        iter_line(&line).is_some_and(|(_, body)| {
            body.starts_with("Train loss ") || body.starts_with("Val loss ")
        }) || after_prefix(&line, "Starting training..., iters:").is_some()
            || table_row(trimmed) == Some(TableRow::Header)
            || is_panel_title(trimmed)
    })
}

/// Lower-case extension of a file name (`train.LOG` -> `log`), empty when none.
fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn file_stem(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

#[cfg(test)]
mod tests;
