//! TensorBoard event files (`events.out.tfevents.*`): scalar summaries.
//!
//! A run is a folder with event files, directly or in split subfolders: Keras
//! writes `train/` and `validation/` beside each other, one run with two
//! splits, so a file in `validation/` gives series named `validation/<tag>`
//! (which `classify` reads as the validation split). PyTorch's
//! `SummaryWriter` (and the Hugging Face Trainer's `runs/<date>_<host>/`)
//! writes tags such as `train/loss` into one folder; they are kept as written.
//! A params file beside the events (`params.yaml`, ..., or Lightning's
//! `hparams.yaml`) is read as usual. The Trainer's folders are read here like
//! any other and then merged into its `hf_trainer` run ([`crate::load::merge`]).
//!
//! Event files are binary: the reader gets their bytes. `record` splits the TFRecord
//! framing (checksums, torn tails) and `event` decodes the protobufs; this
//! module turns their scalars into points with times relative to the run's
//! first event. Pure apart from the claim's directory listing.

mod event;
mod record;
#[cfg(test)]
mod tests;

use crate::discover::FileEntry;
use crate::load::config::{params_file, read_params};
use crate::load::mlflow::clock::iso_from_unix_ms;
use crate::load::{FolderView, SourceText};
use crate::model::{Point, Problem, Run};
use event::Scalar;
use std::collections::HashMap;

/// Subfolders that hold one split of a run (Keras' `TensorBoard` callback).
const SPLIT_FOLDERS: &[&str] = &["train", "validation", "val", "eval", "test"];
/// What a Git LFS pointer file starts with.
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// True for a TensorBoard event file name (`events.out.tfevents.<time>.<host>...`).
pub fn is_event_file(name: &str) -> bool {
    name.contains("tfevents")
}

/// Claim a folder with event files of its own or in split subfolders, and its params file.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    if is_split_of_parent_run(view) {
        return Vec::new();
    }
    let events = |folder: &crate::discover::Folder| -> Vec<FileEntry> {
        folder
            .files
            .iter()
            .filter(|f| is_event_file(&f.name))
            .cloned()
            .collect()
    };
    let mut files = events(view.folder);
    for sub in SPLIT_FOLDERS {
        if let Some(split) = view.subfolder(sub) {
            files.extend(events(split.folder));
        }
    }
    if files.is_empty() {
        return Vec::new();
    }
    // PyTorch Lightning writes `hparams.yaml` beside its event files.
    let params = params_file(view.folder).or_else(|| view.file("hparams.yaml").cloned());
    params.into_iter().chain(files).collect()
}

/// True for `train/` (or another split folder) whose parent claims it as a split.
fn is_split_of_parent_run(view: &FolderView) -> bool {
    let (parent, name) = view.dir.rsplit_once('/').unwrap_or(("", view.dir));
    if view.dir.is_empty() || !SPLIT_FOLDERS.contains(&name) {
        return false;
    }
    view.tree.dirs.contains_key(parent)
}

/// Read a claimed folder: params first, then every event file into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let mut files = Vec::new();
    for source in texts {
        if is_event_file(&source.name) {
            let prefix = split_prefix(&run.path, &source.rel);
            files.push(read_event_file(source.bytes(), &source.rel, &prefix));
        } else {
            read_params(&mut run, source);
        }
    }
    fill_run(&mut run, files);
    vec![run]
}

/// `train` for `<run>/train/events...`, empty for a file in the run folder itself.
fn split_prefix(run_path: &str, rel: &str) -> String {
    let inside = if run_path.is_empty() {
        rel
    } else {
        rel.strip_prefix(run_path)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(rel)
    };
    inside
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_string())
        .unwrap_or_default()
}

/// One scalar as read, with its absolute wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Its series: an index into [`EventFile::names`].
    pub name: usize,
    pub step: u64,
    pub value: f64,
    pub wall_time: Option<f64>,
}

/// What one event file holds.
#[derive(Debug, Default)]
pub struct EventFile {
    pub rel: String,
    /// Each series' name (`<prefix>/<tag>`) once, in the order first read.
    pub names: Vec<String>,
    pub readings: Vec<Reading>,
    /// Earliest and latest wall time of any event (Unix seconds).
    pub span: Option<(f64, f64)>,
    pub problems: Vec<Problem>,
    /// It ended mid-record.
    pub torn: bool,
}

/// Read one event file's bytes: scalars under `<prefix>/<tag>`, problems for the rest.
pub fn read_event_file(bytes: &[u8], rel: &str, prefix: &str) -> EventFile {
    let mut out = EventFile {
        rel: rel.to_string(),
        ..EventFile::default()
    };
    if bytes.starts_with(LFS_POINTER) {
        out.problems.push(Problem::error(
            rel,
            None,
            "a Git LFS pointer, not the event data: fetch it with `git lfs pull`",
        ));
        return out;
    }
    let (records, issues) = record::split_records(bytes);
    for issue in issues {
        out.torn |= issue.torn;
        out.problems
            .push(Problem::warning(rel, None, issue.message));
    }
    // Tag bytes to their index in `out.names`: named once, not once a reading.
    let mut known: HashMap<Vec<u8>, usize> = HashMap::new();
    for rec in records {
        let event = match event::decode(rec.data) {
            Ok(event) => event,
            Err(e) => {
                let at = format!("record {} at byte {}", rec.number, rec.offset);
                out.problems.push(Problem::warning(
                    rel,
                    None,
                    format!("{at}: not an Event protobuf ({e}); skipped"),
                ));
                continue;
            }
        };
        let wall = Some(event.wall_time).filter(|w| w.is_finite() && *w > 0.0);
        if let Some(w) = wall {
            out.span = Some(out.span.map_or((w, w), |(a, b)| (a.min(w), b.max(w))));
        }
        for scalar in event::scalars(&event) {
            match scalar {
                Scalar::Number(tag, value) => {
                    let name = match known.get(tag) {
                        Some(&name) => name,
                        None => {
                            let tag_text = String::from_utf8_lossy(tag);
                            let name = out.names.len();
                            out.names.push(if prefix.is_empty() {
                                tag_text.into_owned()
                            } else {
                                format!("{prefix}/{tag_text}")
                            });
                            known.insert(tag.to_vec(), name);
                            name
                        }
                    };
                    out.readings.push(Reading {
                        name,
                        step: u64::try_from(event.step).unwrap_or(0),
                        value,
                        wall_time: wall,
                    });
                }
                Scalar::Unreadable(tag, why) => {
                    let tag = String::from_utf8_lossy(tag);
                    out.problems.push(Problem::warning(
                        rel,
                        None,
                        format!("record {}: scalar {tag:?}: {why}; skipped", rec.number),
                    ));
                }
            }
        }
    }
    out
}

/// Put the files' readings into `run` with times relative to its first event.
fn fill_run(run: &mut Run, files: Vec<EventFile>) {
    let span = files
        .iter()
        .filter_map(|f| f.span)
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    let start = span.map(|(a, _)| a);
    let mut torn = false;
    for file in files {
        torn |= file.torn;
        run.problems.extend(file.problems);
        // Each name's series is found once, not once a point.
        let series: Vec<usize> = file
            .names
            .iter()
            .map(|name| run.series_slot(name, &file.rel))
            .collect();
        for r in file.readings {
            let point = Point {
                step: r.step,
                value: r.value,
                wall_time: r.wall_time.zip(start).map(|(w, s)| w - s),
                epoch: None,
            };
            run.metrics[series[r.name]].points.push(point);
        }
    }
    if let Some((first, last)) = span {
        run.started = iso_from_unix_ms((first * 1000.0).round() as i64);
        run.ended = iso_from_unix_ms((last * 1000.0).round() as i64);
        run.duration_seconds = Some(last - first);
        if run.date.is_none() {
            run.date = run.started.as_ref().map(|s| s[..10].to_string());
        }
    }
    run.status_reason = if torn {
        "an event file ends mid-record: the writer was stopped".to_string()
    } else {
        "event files do not record how a run ended".to_string()
    };
}
