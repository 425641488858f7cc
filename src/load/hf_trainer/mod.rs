//! Hugging Face Trainer output folders: `trainer_state.json` and what lies beside it.
//!
//! The Trainer writes `trainer_state.json` into each `checkpoint-N/` as it
//! saves, and into the output folder itself when training ends
//! (`trainer.save_state()`). The checkpoint copies are snapshots of the same run,
//! never runs of their own: the top-level file is read when it exists, else the
//! latest checkpoint's (highest N), and the run is then marked as never closed.
//!
//! What becomes of each file:
//! - `trainer_state.json`: `log_history` becomes series and events (see
//!   [`history`]); every other key (`global_step`, `max_steps`, `best_metric`,
//!   `best_model_checkpoint`, `train_batch_size`, ...) becomes a top-level param.
//! - `all_results.json`, `train_results.json`, `eval_results.json`,
//!   `test_results.json`, `predict_results.json` and the final summary entry of
//!   `log_history`: one summary under the param `results` (first file wins on
//!   a key: they repeat each other); `train_runtime` is the run's duration.
//! - `config.json` (the model's config) and `adapter_config.json` (PEFT) go
//!   under `model_config` / `adapter_config`, apart from the training params.
//! - `checkpoint-N/` folders (already the run's artifacts) become checkpoint events.
//! - the model card `README.md` beside the state file read (else the run
//!   folder's) is kept on the run as front matter and markdown (see [`card`]).
//! - `training_args.bin` is a pickle: not read.
//! - TensorBoard event files the Trainer wrote under `runs/` are read by the
//!   TensorBoard reader and merged into this run, this run's record preferred
//!   ([`crate::load::merge`], with [`metric_name_from_tensorboard`]).
//!
//! Status: completed when `log_history` ends with the summary entry, when
//! `global_step` reached `max_steps`, or when the Trainer was told to stop
//! (`should_training_stop`, e.g. early stopping); running (never closed) when
//! only checkpoints exist; unknown otherwise, with the reason. The file holds
//! no wall-clock times, so points carry epochs and get wall times only from
//! TensorBoard files merged in.

mod card;
mod entries;
mod history;
mod json;

use crate::discover::FileEntry;
use crate::load::{FolderView, SourceText};
use crate::model::{ArtifactKind, Event, EventKind, Problem, Run, Status};
use card::{parse_model_card, CARD_FILE};
use entries::HistoryField;
use history::{read_log_history, whole_number, Summary};
use serde_json::{Map, Value};

const STATE_FILE: &str = "trainer_state.json";

/// Summary files the example scripts write with `trainer.save_metrics`, most complete first.
const RESULTS_FILES: &[&str] = &[
    "all_results.json",
    "train_results.json",
    "eval_results.json",
    "test_results.json",
    "predict_results.json",
];

/// Model description files and the param each is kept under.
const MODEL_FILES: &[(&str, &str)] = &[
    ("config.json", "model_config"),
    ("adapter_config.json", "adapter_config"),
];

/// What `trainer_state.json` keeps off its series: `epoch` is on every point,
/// the final summary's keys are the run's `results`.
const NOT_SERIES: &[&str] = &[
    "epoch",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "total_flos",
    "train_loss",
];

/// The `log_history` name of a scalar the Trainer's `TensorBoardCallback`
/// wrote to `runs/<date>_<host>/`: its `rewrite_logs` turned `eval_*` keys into
/// `eval/*`, `test_*` into `test/*` and every other key `k` into `train/k`, and
/// this undoes it (`train/loss` is `loss`, `eval/loss` is `eval_loss`). `None`
/// for what the state keeps off its series. See [`crate::load::merge`].
pub fn metric_name_from_tensorboard(tag: &str) -> Option<String> {
    let name = if let Some(key) = tag.strip_prefix("eval/") {
        format!("eval_{key}")
    } else if let Some(key) = tag.strip_prefix("test/") {
        format!("test_{key}")
    } else {
        tag.strip_prefix("train/").unwrap_or(tag).to_string()
    };
    (!NOT_SERIES.contains(&name.as_str())).then_some(name)
}

/// Claim a folder with a `trainer_state.json`, or with `checkpoint-N/trainer_state.json`
/// when the top-level one is missing; summaries and model config come first,
/// the model card beside the state file (else the folder's own) last.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let top = view
        .file(STATE_FILE)
        .filter(|f| looks_like_trainer_state(&view.head(f)));
    let (state, card) = match top {
        Some(state) => (state, view.file(CARD_FILE)),
        None => match latest_checkpoint_state(view) {
            Some((checkpoint, state)) => {
                (state, checkpoint.file(CARD_FILE).or(view.file(CARD_FILE)))
            }
            None => return started_without_state(view),
        },
    };
    let mut files: Vec<FileEntry> = MODEL_FILES
        .iter()
        .map(|(name, _)| *name)
        .chain(RESULTS_FILES.iter().copied())
        .filter_map(|name| view.file(name))
        .cloned()
        .collect();
    files.push(state.clone());
    files.extend(card.cloned());
    files
}

/// Weights in a folder mean a saved (or downloaded) model, not a training that never saved.
const WEIGHT_SUFFIXES: &[&str] = &[
    ".safetensors",
    ".pt",
    ".pth",
    ".gguf",
    ".ckpt",
    ".h5",
    ".msgpack",
];

/// An output folder where the Trainer wrote the model's `config.json` and the
/// model card at the start but no state and no checkpoint: a run killed
/// before its first save. Claimed as a run with no metrics (so it is seen),
/// unless it holds weights: then it is a model someone saved or downloaded.
fn started_without_state(view: &FolderView) -> Vec<FileEntry> {
    let (Some(config), Some(card)) = (view.file("config.json"), view.file(CARD_FILE)) else {
        return Vec::new();
    };
    let config_head = view.head(config);
    let card_head = view.head(card);
    let model_config =
        config_head.contains("\"architectures\"") || config_head.contains("\"model_type\"");
    let trainer_card = card_head.trim_start().starts_with("---")
        && (card_head.contains("library_name:") || card_head.contains("base_model:"));
    let has_weights = view.folder.files.iter().any(|f| {
        let lower = f.name.to_ascii_lowercase();
        WEIGHT_SUFFIXES.iter().any(|s| lower.ends_with(s))
            || (lower.ends_with(".bin") && lower != "training_args.bin")
    });
    if model_config && trainer_card && !has_weights {
        vec![config.clone(), card.clone()]
    } else {
        Vec::new()
    }
}

/// A JSON object with one of the Trainer's state keys near its start (keys are sorted).
fn looks_like_trainer_state(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head).trim_start();
    head.starts_with('{')
        && [
            "\"log_history\"",
            "\"global_step\"",
            "\"best_metric\"",
            "\"max_steps\"",
        ]
        .iter()
        .any(|key| head.contains(key))
}

/// The highest-numbered `checkpoint-N/` with a `trainer_state.json`, and that file.
fn latest_checkpoint_state<'a>(view: &FolderView<'a>) -> Option<(FolderView<'a>, &'a FileEntry)> {
    let mut numbered: Vec<(u64, &String)> = view
        .folder
        .subdirs
        .iter()
        .filter_map(|d| checkpoint_number(d).map(|n| (n, d)))
        .collect();
    numbered.sort();
    numbered.iter().rev().find_map(|(_, dir)| {
        let sub = view.subfolder(dir)?;
        let file = sub.file(STATE_FILE)?;
        looks_like_trainer_state(&sub.head(file)).then_some((sub, file))
    })
}

/// `checkpoint-500` -> 500.
fn checkpoint_number(name: &str) -> Option<u64> {
    name.strip_prefix("checkpoint-")?.parse().ok()
}

/// What the state file said about the run's end.
#[derive(Default)]
struct State {
    /// Every key but `log_history`, non-finite values as strings.
    header: Map<String, Value>,
    summary: Option<Summary>,
    global_step: Option<u64>,
    max_steps: Option<u64>,
    should_stop: bool,
    /// The checkpoint folder it was read from, when there was no top-level file.
    checkpoint: Option<String>,
    /// The file did not parse as a whole.
    damaged: bool,
}

/// Read a claimed folder's texts into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let mut models = Map::new();
    let mut results = Map::new();
    let mut state = None;
    for source in texts {
        if source.name == STATE_FILE {
            state = Some(read_state(&mut run, source));
        } else if source.name == CARD_FILE {
            let (card, problems) = parse_model_card(source.text(), &source.rel);
            run.problems.extend(problems);
            run.model_card = Some(card);
        } else if let Some((_, key)) = MODEL_FILES.iter().find(|(n, _)| *n == source.name) {
            if let Some(value) = read_json_file(&mut run, source) {
                models.insert(key.to_string(), value);
            }
        } else if RESULTS_FILES.contains(&source.name.as_str()) {
            match read_json_file(&mut run, source) {
                Some(Value::Object(map)) => map.into_iter().for_each(|(k, v)| {
                    results.entry(k).or_insert(v);
                }),
                Some(other) => run.problems.push(Problem::warning(
                    &source.rel,
                    None,
                    format!(
                        "holds {}, not an object of results; not read",
                        json::kind_of(&other)
                    ),
                )),
                None => {}
            }
        }
    }
    let state = state.unwrap_or_default();
    if let Some(summary) = &state.summary {
        for (k, v) in &summary.values {
            if k != "step" {
                results
                    .entry(k.clone())
                    .or_insert_with(|| json::plain(v.clone()));
            }
        }
    }
    run.duration_seconds = results
        .get("train_runtime")
        .and_then(json::number)
        .filter(|s| s.is_finite() && *s >= 0.0);
    let mut params = state.header.clone();
    if !results.is_empty() {
        params.entry("results").or_insert(Value::Object(results));
    }
    for (key, value) in models {
        params.entry(key).or_insert(value);
    }
    if let Value::Object(existing) = &mut run.params {
        for (k, v) in params {
            existing.entry(k).or_insert(v);
        }
    }
    push_checkpoint_events(&mut run, &state);
    // Evaluation, then the save of that step (the Trainer's order), and the finish last.
    run.events
        .sort_by_key(|e| (e.step.unwrap_or(u64::MAX), e.kind == EventKind::Finish));
    let read_state = texts.iter().any(|t| t.name == STATE_FILE);
    let claimed_state = read_state || run.sources.iter().any(|s| s.ends_with(STATE_FILE));
    decide_status(&mut run, &state, read_state, claimed_state);
    vec![run]
}

/// Parse one small JSON file; a problem with its line when it does not parse.
fn read_json_file(run: &mut Run, source: &SourceText) -> Option<Value> {
    match json::parse_value(source.text()) {
        Ok(value) => Some(json::plain(value)),
        Err(err) => {
            let message = format!("not valid JSON: {}; not read", err.message);
            run.problems
                .push(Problem::error(&source.rel, err.line, message));
            None
        }
    }
}

/// Read `trainer_state.json`: series, events and problems into `run`; the rest returned.
fn read_state(run: &mut Run, source: &SourceText) -> State {
    let file = source.rel.as_str();
    let doc = json::parse_state(source.text());
    let header: Map<String, Value> = doc
        .top
        .into_iter()
        .map(|(k, v)| (k, json::plain(v)))
        .collect();
    let global_step = header.get("global_step").and_then(whole_number);
    let mut state = State {
        global_step,
        max_steps: header.get("max_steps").and_then(whole_number),
        should_stop: header
            .get("stateful_callbacks")
            .and_then(|c| c.pointer("/TrainerControl/args/should_training_stop"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        checkpoint: checkpoint_folder(&run.path, file),
        damaged: doc.error.is_some(),
        ..State::default()
    };
    if let Some(err) = &doc.error {
        let kept = entries::listed(&doc.history);
        let what = if err.cut_short {
            "the file ends in the middle of its JSON (cut short while being written?)"
        } else {
            "not valid JSON"
        };
        let message = format!(
            "{what}: {}; read the {kept} log_history entries that are whole",
            err.message
        );
        run.problems.push(Problem::error(file, err.line, message));
    }
    match &doc.history {
        Some(HistoryField::List(elements)) => {
            let lines = &doc.entry_lines;
            state.summary = read_log_history(run, &doc.keys, elements, lines, file, global_step);
        }
        Some(HistoryField::Other(other)) => run.problems.push(Problem::error(
            file,
            None,
            format!(
                "\"log_history\" is {}, not a list; no metrics read",
                json::kind_of(other)
            ),
        )),
        None if doc.error.is_none() => run.problems.push(Problem::warning(
            file,
            None,
            "has no \"log_history\"; no metrics read",
        )),
        None => {}
    }
    state.header = header;
    state
}

/// `checkpoint-600` when `file` lies in a checkpoint folder of the run folder `dir`.
fn checkpoint_folder(dir: &str, file: &str) -> Option<String> {
    let inside = if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)?.strip_prefix('/')?
    };
    let (folder, _) = inside.split_once('/')?;
    checkpoint_number(folder).map(|_| folder.to_string())
}

/// One event per `checkpoint-N/` folder of the run, the best one marked.
fn push_checkpoint_events(run: &mut Run, state: &State) {
    let best = state
        .header
        .get("best_model_checkpoint")
        .and_then(Value::as_str)
        .map(|p| p.trim_end_matches(['/', '\\']))
        .and_then(|p| p.rsplit(['/', '\\']).next())
        .map(str::to_string);
    let mut events = Vec::new();
    for artifact in &run.artifacts {
        if artifact.kind != ArtifactKind::Checkpoint {
            continue;
        }
        let name = artifact.path.rsplit('/').next().unwrap_or(&artifact.path);
        let Some(step) = checkpoint_number(name) else {
            continue;
        };
        let mut message = format!("saved {name}");
        if best.as_deref() == Some(name) {
            message.push_str(" (best_model_checkpoint)");
        }
        events.push(Event {
            kind: EventKind::Checkpoint,
            step: Some(step),
            message,
            file: artifact.path.clone(),
            line: None,
        });
    }
    run.events.extend(events);
}

/// Decide the status from the summary entry, the step counters and where the file came from.
fn decide_status(run: &mut Run, state: &State, had_state: bool, claimed_state: bool) {
    let steps = match (state.global_step, state.max_steps) {
        (Some(g), Some(m)) => format!("global_step {g} of max_steps {m}"),
        (Some(g), None) => format!("global_step {g} (no max_steps)"),
        _ => "no global_step".to_string(),
    };
    let from = match &state.checkpoint {
        Some(c) => format!(" (read from {c}/: there is no top-level {STATE_FILE})"),
        None => String::new(),
    };
    let reached =
        matches!((state.global_step, state.max_steps), (Some(g), Some(m)) if m > 0 && g >= m);
    let (status, reason) = if !claimed_state {
        let reason = format!(
            "never closed: the output folder has the model's config.json and card but no \
             {STATE_FILE} and no checkpoint-N/: the Trainer saved nothing (killed before its \
             first save, or still before it)"
        );
        (Status::Running, reason)
    } else if !had_state {
        (Status::Unknown, format!("{STATE_FILE} could not be read"))
    } else if let Some(summary) = &state.summary {
        let reason = format!(
            "log_history ends with the Trainer's final summary entry at step {}{from}",
            summary.step
        );
        (Status::Completed, reason)
    } else if reached {
        (
            Status::Completed,
            format!("{steps}: reached its planned steps{from}"),
        )
    } else if state.should_stop {
        let reason = format!("the Trainer was told to stop (should_training_stop, e.g. early stopping) at {steps}{from}");
        (Status::Completed, reason)
    } else if let Some(c) = &state.checkpoint {
        let reason = format!(
            "never closed: no top-level {STATE_FILE} (the Trainer writes it when training ends); \
             the latest checkpoint, {c}/, is at {steps}: still running, or stopped early"
        );
        (Status::Running, reason)
    } else if state.damaged {
        (
            Status::Unknown,
            format!("{STATE_FILE} is damaged (see problems); {steps}"),
        )
    } else {
        (
            Status::Unknown,
            format!("{STATE_FILE} stops at {steps} with no final summary entry"),
        )
    };
    run.status = status;
    run.status_reason = reason;
}

#[cfg(test)]
mod tests;
