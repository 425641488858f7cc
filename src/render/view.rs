//! What templates see: small serializable views built from analyzed runs.
//!
//! Templates never get the model itself, so the model can change without
//! breaking user templates. Numbers are formatted here, once, so every page
//! and the markdown agree on how a value reads. Strings stay raw: Tera
//! escapes them in HTML templates.

use super::card::{model_card_view, ModelCardView};
use super::figures::{ChartView, ComparisonGroupView};
use super::table::{runs_table, RunsTable};
use crate::analyze::Analyzed;
use crate::model::{ArtifactKind, Severity, Status};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Events on a run page: the first three quarters and the last quarter of these.
const MAX_EVENTS_SHOWN: usize = 400;
/// Validation blocks on a run page: the latest ones.
const MAX_VALIDATIONS_SHOWN: usize = 50;

/// At most this many differing params are named where space is short (the PR summary's table).
const MAX_PARAM_COLUMNS: usize = 8;

/// The finite values of a run's main loss: train, else val (what sparklines draw).
pub fn main_loss_values(a: &Analyzed) -> Vec<f64> {
    use crate::model::{Family, Split};
    let series = a
        .run
        .series(Family::Loss, Split::Train)
        .or_else(|| a.run.series(Family::Loss, Split::Val));
    series
        .map(|s| {
            s.points
                .iter()
                .map(|p| p.value)
                .filter(|v| v.is_finite())
                .collect()
        })
        .unwrap_or_default()
}

/// The mean of each of up to `buckets` equal slices of `values`, with their
/// smallest and largest mean (for scaling a sparkline).
pub fn bucket_means(values: &[f64], buckets: usize) -> (Vec<f64>, f64, f64) {
    let n = buckets.min(values.len());
    let means: Vec<f64> = (0..n)
        .map(|i| {
            let lo = i * values.len() / n;
            let hi = ((i + 1) * values.len() / n).max(lo + 1);
            values[lo..hi].iter().sum::<f64>() / (hi - lo) as f64
        })
        .collect();
    let (min, max) = means
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    (means, min, max)
}

/// One diagnostic, as pages show it.
#[derive(Serialize)]
pub struct DiagnosticRow<'a> {
    pub code: &'a str,
    pub severity: &'static str,
    pub message: &'a str,
    pub step: Option<u64>,
}

impl<'a> DiagnosticRow<'a> {
    /// The message loses its opening `overfitting: ` where a badge already says it.
    pub(super) fn of(d: &'a crate::analyze::Diagnostic) -> DiagnosticRow<'a> {
        let said = d.code.replace('_', " ");
        let message = d
            .message
            .split_once(": ")
            .filter(|(lead, _)| *lead == said || said.starts_with(lead.trim_end_matches('s')))
            .map_or(d.message.as_str(), |(_, rest)| rest);
        DiagnosticRow {
            code: &d.code,
            severity: d.severity.as_str(),
            message,
            step: d.step,
        }
    }
}

/// The index's badges: warnings and errors, else `healthy` when the run is.
pub(super) fn diagnosis_badges(a: &Analyzed) -> Vec<DiagnosticRow<'_>> {
    let findings: Vec<DiagnosticRow> = a
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .map(DiagnosticRow::of)
        .collect();
    if !findings.is_empty() {
        return findings;
    }
    a.diagnostics
        .iter()
        .filter(|d| d.code == "healthy")
        .map(DiagnosticRow::of)
        .collect()
}

/// The index page.
#[derive(Serialize)]
pub struct IndexView<'a> {
    /// Relative path from this page to the site root (`""`).
    pub root: &'static str,
    pub title: &'a str,
    pub version: &'static str,
    pub table: RunsTable<'a>,
    pub total: usize,
    pub completed: usize,
    pub failed: usize,
    pub with_problems: usize,
    /// Per group of two or more runs, its runs overlaid on shared charts.
    pub comparisons: Vec<ComparisonGroupView<'a>>,
}

/// Build the index view: entries in input order, columns for the params that
/// differ; `comparisons` are rendered by the caller.
pub fn index_view<'a>(
    title: &'a str,
    runs: &'a [Analyzed],
    comparisons: Vec<ComparisonGroupView<'a>>,
) -> IndexView<'a> {
    let refs: Vec<&Analyzed> = runs.iter().collect();
    IndexView {
        root: "",
        title,
        version: env!("CARGO_PKG_VERSION"),
        table: runs_table(&refs),
        total: runs.len(),
        completed: runs
            .iter()
            .filter(|a| a.run.status == Status::Completed)
            .count(),
        failed: runs
            .iter()
            .filter(|a| a.run.status == Status::Failed)
            .count(),
        with_problems: runs
            .iter()
            .filter(|a| {
                a.run
                    .problems
                    .iter()
                    .any(|p| p.severity >= Severity::Warning)
            })
            .count(),
        comparisons,
    }
}

/// Param keys with at least two different values among the runs that have
/// them, most widely present first, and how many more there were. A key only
/// some runs have, with one value wherever it appears, says which format wrote
/// the run, not what differs. A string param that is different in every run
/// (a run name, a checkpoint path) says nothing a name doesn't, so it is left
/// out when there are more than two runs.
pub fn differing_params(flats: &[BTreeMap<String, String>]) -> (Vec<String>, usize) {
    let mut all = differing_param_keys(flats);
    let hidden = all.len().saturating_sub(MAX_PARAM_COLUMNS);
    all.truncate(MAX_PARAM_COLUMNS);
    (all, hidden)
}

/// Every differing param key (see [`differing_params`]), in column order.
pub fn differing_param_keys(flats: &[BTreeMap<String, String>]) -> Vec<String> {
    let keys: BTreeSet<&String> = flats.iter().flat_map(|f| f.keys()).collect();
    let mut differing: Vec<(usize, &String)> = Vec::new();
    for key in keys {
        let present: Vec<&String> = flats.iter().filter_map(|f| f.get(key)).collect();
        let distinct: BTreeSet<&String> = present.iter().copied().collect();
        if distinct.len() <= 1 {
            continue;
        }
        let all_unique_strings = present.len() > 2
            && distinct.len() == present.len()
            && present.iter().all(|v| v.parse::<f64>().is_err());
        if !all_unique_strings {
            differing.push((present.len(), key));
        }
    }
    differing.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    differing.into_iter().map(|(_, k)| k.clone()).collect()
}

/// A run page.
#[derive(Serialize)]
pub struct RunView<'a> {
    /// Relative path from this page to the site root (`"../../"`).
    pub root: &'static str,
    pub title: &'a str,
    pub version: &'static str,
    pub id: &'a str,
    pub name: &'a str,
    pub group: &'a str,
    /// The group's page from the site root, empty when the group has none (one run).
    pub group_href: String,
    pub path: &'a str,
    pub format: &'a str,
    pub date: Option<&'a str>,
    pub status: &'static str,
    pub status_reason: &'a str,
    pub started: Option<&'a str>,
    pub ended: Option<&'a str>,
    pub duration: Option<String>,
    pub sources: &'a [String],
    /// How the sources were combined, when the run has several formats' records.
    pub source_notes: &'a [String],
    pub cards: Vec<Card>,
    /// Model-quality charts (loss, accuracy, learning rate, ...), under "Curves".
    pub charts: Vec<ChartView>,
    /// Memory, throughput, time and GPU/CPU charts, under "System".
    pub system_charts: Vec<ChartView>,
    pub metrics: Vec<MetricRow<'a>>,
    pub params: Vec<(String, String)>,
    pub events: Vec<EventRow<'a>>,
    /// Events left off the page (they are all in run.json).
    pub events_hidden: usize,
    /// Earlier validation blocks left off the page.
    pub validations_hidden: usize,
    pub validations: Vec<ValidationBlock<'a>>,
    pub images: Vec<ArtifactRow>,
    pub folders: Vec<ArtifactRow>,
    pub problems: Vec<ProblemRow<'a>>,
    /// For a failed run, the traceback (or error line) that ended it, shown above the curves.
    pub failure: Option<EventRow<'a>>,
    /// The run's model card: front matter and sanitized HTML.
    pub model_card: Option<ModelCardView<'a>>,
    /// What the diagnostics found, most severe first.
    pub diagnostics: Vec<DiagnosticRow<'a>>,
}

/// A headline number.
#[derive(Serialize)]
pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub detail: String,
}

#[derive(Serialize)]
pub struct MetricRow<'a> {
    pub name: &'a str,
    pub family: &'static str,
    pub split: &'static str,
    pub points: usize,
    pub last: String,
    pub best: String,
    pub best_step: String,
    pub first_nonfinite_step: String,
}

#[derive(Serialize)]
pub struct EventRow<'a> {
    pub kind: String,
    pub step: Option<u64>,
    pub message: &'a str,
    /// `file:line`.
    pub place: String,
}

#[derive(Serialize)]
pub struct ValidationBlock<'a> {
    pub step: Option<u64>,
    /// The block's val loss, when known.
    pub loss: String,
    pub samples: Vec<(u32, &'a str, &'a str)>,
}

#[derive(Serialize)]
pub struct ArtifactRow {
    pub kind: &'static str,
    pub path: String,
    /// Link to the copy in the site (images only); sanitized by [`image_href`], printed `safe`.
    pub href: Option<String>,
    pub size: String,
    pub files: u64,
}

#[derive(Serialize)]
pub struct ProblemRow<'a> {
    pub severity: &'static str,
    pub place: String,
    pub message: &'a str,
}

/// Where a run's image artifact is copied in the site, relative to its page.
pub fn image_href(index: usize, path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("files/{index}-{safe}")
}

/// Build a run page's view; `charts` and `system_charts` are rendered by the caller.
pub fn run_view<'a>(
    title: &'a str,
    a: &'a Analyzed,
    charts: Vec<ChartView>,
    system_charts: Vec<ChartView>,
) -> RunView<'a> {
    let run = &a.run;
    let h = &a.headline;
    let mut cards = vec![
        Card {
            label: "Final train loss",
            value: fmt_opt(h.final_train_loss),
            detail: step_detail(h.last_step),
        },
        Card {
            label: "Final val loss",
            value: fmt_opt(h.final_val_loss),
            detail: String::new(),
        },
        Card {
            label: "Best val loss",
            value: fmt_opt(h.best_val_loss),
            detail: h
                .best_val_step
                .map(|s| format!("at step {s}"))
                .unwrap_or_default(),
        },
        Card {
            label: "Val − train gap",
            value: h
                .gap_percent
                .map(|g| format!("{g:+.1}%"))
                .unwrap_or_else(|| "—".into()),
            detail: "of the final train loss".into(),
        },
    ];
    cards.retain(|c| c.value != "—");
    let metrics = a
        .summaries
        .iter()
        .map(|s| MetricRow {
            name: &s.name,
            family: s.family.as_str(),
            split: s.split.as_str(),
            points: s.points,
            last: fmt_opt(s.last),
            best: fmt_opt(s.best),
            best_step: s.best_step.map(|v| v.to_string()).unwrap_or_default(),
            first_nonfinite_step: s
                .first_nonfinite_step
                .map(|v| v.to_string())
                .unwrap_or_default(),
        })
        .collect();
    // A run that logged a warning per step would make a page nobody can open:
    // show the first and last events and leave the rest to run.json.
    let shown = |i: &usize| {
        *i < MAX_EVENTS_SHOWN - MAX_EVENTS_SHOWN / 4
            || *i >= run.events.len().saturating_sub(MAX_EVENTS_SHOWN / 4)
    };
    let events_hidden = run.events.len().saturating_sub(MAX_EVENTS_SHOWN);
    let events = run
        .events
        .iter()
        .enumerate()
        .filter(|(i, _)| events_hidden == 0 || shown(i))
        .map(|(_, e)| EventRow {
            kind: format!("{:?}", e.kind).to_lowercase(),
            step: e.step,
            message: &e.message,
            place: place(&e.file, e.line),
        })
        .collect();
    let artifact_row = |(i, art): (usize, &crate::model::Artifact)| ArtifactRow {
        kind: match art.kind {
            ArtifactKind::Image => "image",
            ArtifactKind::Model => "model",
            ArtifactKind::Checkpoint => "checkpoint",
            ArtifactKind::File => "file",
        },
        path: art.path.clone(),
        href: (art.kind == ArtifactKind::Image).then(|| image_href(i, &art.path)),
        size: fmt_bytes(art.bytes),
        files: art.files,
    };
    let (images, folders): (Vec<ArtifactRow>, Vec<ArtifactRow>) = run
        .artifacts
        .iter()
        .enumerate()
        .map(artifact_row)
        .partition(|r| r.href.is_some());
    let problems = run
        .problems
        .iter()
        .map(|p| ProblemRow {
            severity: p.severity.as_str(),
            place: place(&p.file, p.line),
            message: &p.message,
        })
        .collect();
    let mut validations = validation_blocks(a);
    RunView {
        root: "../../",
        title,
        version: env!("CARGO_PKG_VERSION"),
        id: &run.id,
        name: &run.name,
        group: &run.group,
        group_href: String::new(),
        path: &run.path,
        format: &run.format,
        date: run.date.as_deref(),
        status: run.status.as_str(),
        status_reason: &run.status_reason,
        started: run.started.as_deref(),
        ended: run.ended.as_deref(),
        duration: run.duration_seconds.map(fmt_duration),
        sources: &run.sources,
        source_notes: &run.source_notes,
        cards,
        charts,
        system_charts,
        metrics,
        params: run.flat_params().into_iter().collect(),
        events,
        failure: failure_event(run),
        events_hidden,
        validations_hidden: validations.len().saturating_sub(MAX_VALIDATIONS_SHOWN),
        validations: validations.split_off(validations.len().saturating_sub(MAX_VALIDATIONS_SHOWN)),
        images,
        folders,
        problems,
        model_card: run.model_card.as_ref().map(model_card_view),
        diagnostics: a.diagnostics.iter().map(DiagnosticRow::of).collect(),
    }
}

/// The last traceback of a failed run, else its last error line.
fn failure_event(run: &crate::model::Run) -> Option<EventRow<'_>> {
    use crate::model::EventKind;
    if run.status != Status::Failed {
        return None;
    }
    let last_of = |kind: EventKind| run.events.iter().rev().find(|e| e.kind == kind);
    last_of(EventKind::Traceback)
        .or_else(|| last_of(EventKind::Error))
        .map(|e| EventRow {
            kind: format!("{:?}", e.kind).to_lowercase(),
            step: e.step,
            message: &e.message,
            place: place(&e.file, e.line),
        })
}

/// Samples grouped by the step of their validation block, with that step's val loss.
fn validation_blocks(a: &Analyzed) -> Vec<ValidationBlock<'_>> {
    let val = a
        .run
        .series(crate::model::Family::Loss, crate::model::Split::Val);
    let mut blocks: Vec<ValidationBlock> = Vec::new();
    for s in &a.run.samples {
        if blocks.last().is_none_or(|b| b.step != s.step) {
            let loss = val
                .and_then(|v| v.points.iter().find(|p| Some(p.step) == s.step))
                .map(|p| fmt_num(p.value))
                .unwrap_or_default();
            blocks.push(ValidationBlock {
                step: s.step,
                loss,
                samples: Vec::new(),
            });
        }
        if let Some(b) = blocks.last_mut() {
            b.samples.push((s.index, &s.question, &s.answer));
        }
    }
    blocks
}

/// `file:line`, `file`, or empty.
pub fn place(file: &str, line: Option<usize>) -> String {
    match line {
        Some(l) if !file.is_empty() => format!("{file}:{l}"),
        _ => file.to_string(),
    }
}

fn step_detail(step: Option<u64>) -> String {
    step.map(|s| format!("at step {s}")).unwrap_or_default()
}

/// A value as reports show it: 4 decimals in the usual range, scientific outside it.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// [`fmt_num`], with `—` for a missing value.
pub fn fmt_opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "—".into())
}

/// `1h 02m 03s`, `4m 05s`, `12.3s`.
pub fn fmt_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".into();
    }
    let s = seconds.round() as u64;
    match (s / 3600, (s / 60) % 60, s % 60) {
        (0, 0, _) => format!("{seconds:.1}s"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, sec) => format!("{h}h {m:02}m {sec:02}s"),
    }
}

/// `1.2 MB`, `512 B`.
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `text` with its first letter in upper case: `Best val loss`.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Severity of the worst problem, for badges.
pub fn worst(problems: &[crate::model::Problem]) -> Option<Severity> {
    problems.iter().map(|p| p.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_differing_params_become_columns() {
        let flats = vec![
            flat(&[("lr", "0.001"), ("seed", "1"), ("name", "a")]),
            flat(&[("lr", "0.0003"), ("seed", "1"), ("name", "b")]),
            flat(&[("lr", "0.0001"), ("seed", "1"), ("name", "c")]),
        ];
        assert_eq!(differing_params(&flats), (vec!["lr".to_string()], 0));
        // A key only some runs have, with one value, is not a difference.
        let mixed = vec![
            flat(&[("lr", "0.1")]),
            flat(&[("lr", "0.2"), ("seq_len", "1024")]),
            flat(&[("seq_len", "1024")]),
        ];
        assert_eq!(differing_params(&mixed).0, vec!["lr".to_string()]);
    }

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(fmt_num(1.23456), "1.2346");
        assert_eq!(fmt_num(0.0001), "1.000e-4");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_num(1234.5), "1234.5");
        assert_eq!(fmt_duration(3725.0), "1h 02m 05s");
        assert_eq!(fmt_duration(65.0), "1m 05s");
        assert_eq!(fmt_bytes(1_500_000), "1.5 MB");
        assert_eq!(
            image_href(2, "a/b/training curves.png"),
            "files/2-training_curves.png"
        );
    }
}
