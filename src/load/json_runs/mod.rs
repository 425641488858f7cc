//! Whole-file JSON run records: experiment tracker logs and run comparisons.
//!
//! Two dialects, both one JSON document per file, both written by Python's
//! `json.dump` (so `NaN`/`Infinity` tokens appear, see [`lenient_json`]):
//!
//! - `experiment_json` ([`experiment`]): an experiment tracker's log,
//!   `experiment_logs/experiment_<name>_<YYYYmmdd_HHMMSS>.json`, one run per
//!   file and usually many files in one folder: `config`, `start_time`,
//!   `end_time`, `duration_seconds`, `metrics_history` and `best_*`/`final_*`.
//! - `runs_comparison_json` ([`comparison`]): `training_runs_comparison.json`,
//!   a script's side-by-side of several runs: `{timestamp, runs: [{run_name,
//!   run_path, hyperparameters, training_metrics, final_metrics}], comparison_table}`.
//!
//! A folder is claimed when any of its `.json` files sniffs as either dialect;
//! each file then becomes its own run(s), with its own path: the file path
//! without `.json` for an experiment log, `<file>#<run_name>` for each entry of
//! a comparison. An experiment log's group is the group of the folder holding
//! it (`lr-sweep` for `lr-sweep/experiment_logs/`), so a sweep's runs stay
//! together; a comparison's runs are grouped under the comparison's folder.
//!
//! [`lenient_json`]: crate::load::lenient_json

mod comparison;
mod experiment;
#[cfg(test)]
mod tests;

use crate::discover::FileEntry;
use crate::load::lenient_json::parse_object;
use crate::load::{FolderView, RunSink, SourceText};
use crate::model::{Problem, Run};
use rayon::prelude::*;

/// `Run::format` of an experiment tracker log.
const EXPERIMENT_FORMAT: &str = "experiment_json";
/// `Run::format` of a run of a comparison file.
const COMPARISON_FORMAT: &str = "runs_comparison_json";
/// How much of a file the dialect sniff looks at (the same as a claim's head).
const HEAD_BYTES: usize = 8 * 1024;

/// Which of the two documents a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Experiment,
    Comparison,
}

/// Claim the `.json` files of a folder that sniff as an experiment log or a
/// runs comparison, in name order.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    view.folder
        .files
        .iter()
        .filter(|f| f.name.to_ascii_lowercase().ends_with(".json"))
        .filter(|f| dialect_of(&view.head(f)).is_some())
        .cloned()
        .collect()
}

/// Read every claimed file into its runs, in order (see [`read_each`]).
pub fn read_run(base: Run, texts: &[SourceText]) -> Vec<Run> {
    RunSink::collect(|sink| read_each(base, texts, sink))
}

/// Read the claimed files a few at a time, in parallel, handing over each
/// file's runs as they are made. A file that could not be read still gives
/// a run that carries the problem.
pub fn read_each(base: Run, texts: &[SourceText], sink: &mut RunSink) {
    let loose: Vec<Problem> = base
        .problems
        .iter()
        .filter(|p| !base.sources.contains(&p.file))
        .cloned()
        .collect();
    // The first run takes the folder's loose problems, and its images when it
    // is the only run: it waits, in its place, until the files are read.
    let mut first: Option<(usize, Run)> = None;
    let mut count = 0;
    // A sweep's folder may hold hundreds of logs: a few at a time, so that
    // only those are in memory.
    for files in base.sources.chunks(rayon::current_num_threads().max(1) * 2) {
        let per_file: Vec<Vec<Run>> = files
            .par_iter()
            .map(|rel| read_one(&base, texts, rel))
            .collect();
        for run in per_file.into_iter().flatten() {
            count += 1;
            match first {
                None => first = Some((sink.reserve(), run)),
                Some(_) => sink.push(run),
            }
        }
    }
    if let Some((place, mut run)) = first {
        run.problems.extend(loose);
        if count == 1 {
            // Images beside a lone log are that run's; beside many, nobody's in particular.
            run.artifacts = base.artifacts.clone();
        }
        sink.put(place, run);
    }
}

/// The runs of the claimed file `rel`, with the problems of reading it first.
fn read_one(base: &Run, texts: &[SourceText], rel: &str) -> Vec<Run> {
    let mut from_file = match texts.iter().find(|t| t.rel == rel).map(SourceText::load) {
        Some(Ok((source, warning))) => {
            let mut runs = read_file(base, &source);
            for run in &mut runs {
                run.problems.splice(0..0, warning.iter().cloned());
            }
            runs
        }
        Some(Err(problem)) => {
            let mut run = file_run(base, rel, EXPERIMENT_FORMAT);
            run.problems.push(problem);
            vec![run]
        }
        None => vec![file_run(base, rel, EXPERIMENT_FORMAT)],
    };
    // IO problems (unreadable, not UTF-8) concern every run of the file.
    let io: Vec<&Problem> = base.problems.iter().filter(|p| p.file == rel).collect();
    for run in &mut from_file {
        run.problems.splice(0..0, io.iter().map(|p| (*p).clone()));
    }
    from_file
}

/// One file's runs: one for an experiment log, one per entry of a comparison.
fn read_file(base: &Run, source: &SourceText) -> Vec<Run> {
    let doc = parse_object(source.text());
    match dialect_of(head(source.text())) {
        Some(Dialect::Comparison) => comparison::read_comparison(base, doc, source),
        _ => {
            let mut run = file_run(base, &source.rel, EXPERIMENT_FORMAT);
            experiment::read_experiment(&mut run, &doc, &source.rel);
            vec![run]
        }
    }
}

/// A run for a whole file: its path without `.json`, in the folder's group.
fn file_run(base: &Run, rel: &str, format: &str) -> Run {
    let path = rel.strip_suffix(".json").unwrap_or(rel);
    let mut run = Run::new(path, &base.group, format);
    run.sources = vec![rel.to_string()];
    run
}

/// The first [`HEAD_BYTES`] of a text, cut at a character boundary.
fn head(text: &str) -> &str {
    let mut end = text.len().min(HEAD_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Which dialect the head of a file shows, if any (the head may be cut anywhere).
fn dialect_of(head: &str) -> Option<Dialect> {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head).trim_start();
    if !head.starts_with('{') {
        return None;
    }
    let has = |key: &str| has_key(head, key);
    if has("metrics_history")
        || (has("config") && has("start_time") && (has("end_time") || has("duration_seconds")))
    {
        Some(Dialect::Experiment)
    } else if has("runs")
        && has("run_name")
        && ["training_metrics", "final_metrics", "hyperparameters"]
            .iter()
            .any(|k| has(k))
    {
        Some(Dialect::Comparison)
    } else {
        None
    }
}

/// True when `"key"` appears as an object key (followed by a colon, not escaped
/// inside a string); a head cut right after the key counts.
fn has_key(text: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    text.match_indices(&quoted).any(|(at, _)| {
        let after = text[at + quoted.len()..].trim_start();
        !text[..at].ends_with('\\') && (after.is_empty() || after.starts_with(':'))
    })
}
