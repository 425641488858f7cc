//! One run when a folder holds several sources: which format's run takes in
//! which other's, and how their records are merged.
//!
//! A Hugging Face Trainer output folder holds `trainer_state.json` and, with
//! the Trainer's default logging, TensorBoard event files under
//! `runs/<date>_<host>/`: two records of one training, never two runs.
//! [`ABSORPTIONS`] is the table of such pairs: the host format's run takes in
//! the guest format's runs found in a named subfolder of its folder (at any
//! depth below it). Discovery ([`super::find_candidates`]) attaches guests to
//! their host's candidate, [`super::read`] reads each with its own reader, and
//! [`absorb`] merges them here, so the readers know nothing of each other.
//!
//! The host's record is preferred, for the reason each rule states:
//! - a metric both have keeps the host's points; the guest's copy is not
//!   added, but its wall times fill the host's points at the same steps;
//! - a metric only the guest has is added, under the host's name for it;
//! - a guest value the host keeps elsewhere on purpose (HF's `epoch`, on every
//!   point, and its final summary, under `results`) is not made a series;
//! - start, end, duration, date and params come from the guest only where the
//!   host has none; the status stays the host's; the guest's sources, problems,
//!   events and artifacts join the host's.
//!
//! A note on the run ([`crate::model::Run::source_notes`]) says what was kept
//! and what was added.

use super::hf_trainer;
use super::mlflow::clock::{iso_from_unix_ms, unix_seconds_from_iso};
use crate::model::Run;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A host format whose runs take in a guest format's runs found below them.
pub struct Absorption {
    /// The format whose run is kept.
    pub host: &'static str,
    /// The format whose runs become part of it.
    pub guest: &'static str,
    /// The subfolder of the host's run folder the guest's runs are in, at any depth.
    pub under: &'static str,
    /// Why the host's record wins, in words for the run's note.
    pub preferred_because: &'static str,
    /// The host's name for a guest metric; `None` when the host keeps that
    /// value elsewhere (then it is no series).
    pub metric_name: fn(&str) -> Option<String>,
}

/// Which format absorbs which, and where.
pub static ABSORPTIONS: &[Absorption] = &[Absorption {
    host: "hf_trainer",
    guest: "tensorboard",
    under: "runs",
    preferred_because: "trainer_state.json is the Trainer's own record",
    metric_name: hf_trainer::metric_name_from_tensorboard,
}];

/// The host folder and rule a run of `guest` format at `dir` belongs to: the
/// nearest ancestor claimed by a rule's host whose `under` subfolder holds `dir`.
pub fn host_of<'a>(
    dir: &'a str,
    guest: &str,
    claimed: impl Fn(&str) -> Option<&'static str>,
) -> Option<(&'a str, &'static Absorption)> {
    let mut splits = vec![("", dir)];
    splits.extend(
        dir.match_indices('/')
            .map(|(i, _)| (&dir[..i], &dir[i + 1..])),
    );
    splits.into_iter().rev().find_map(|(ancestor, inside)| {
        let first = inside.split('/').next()?;
        let host = claimed(ancestor)?;
        ABSORPTIONS
            .iter()
            .find(|r| r.guest == guest && r.host == host && r.under == first)
            .map(|rule| (ancestor, rule))
    })
}

/// Merge `guests` (runs read by `rule.guest`) into the run of `runs` at
/// `host_dir`; with no such run they stay runs of their own.
pub fn absorb(runs: &mut Vec<Run>, host_dir: &str, guests: Vec<Run>, rule: &Absorption) {
    let Some(at) = runs.iter().position(|r| r.path == host_dir) else {
        runs.extend(guests);
        return;
    };
    let host = &mut runs[at];
    let host_names: HashSet<String> = host.metrics.iter().map(|s| s.name.clone()).collect();
    let clock = GuestClock::of(&guests);
    let mut walls: HashMap<String, BTreeMap<u64, f64>> = HashMap::new();
    let mut note = Note::default();
    for (guest, offset) in guests.into_iter().zip(clock.offsets.iter()) {
        note.folders
            .push(path_inside(&guest.path, host_dir).to_string());
        for series in guest.metrics {
            let Some(name) = (rule.metric_name)(&series.name) else {
                note.not_series.insert(series.name);
                continue;
            };
            if host_names.contains(&name) {
                let by_step = walls.entry(name.clone()).or_default();
                for p in &series.points {
                    if let Some(wall) = p.wall_time {
                        by_step.entry(p.step).or_insert(wall + offset);
                    }
                }
                note.kept.insert(name);
            } else {
                for mut point in series.points {
                    point.wall_time = point.wall_time.map(|w| w + offset);
                    host.push_point(&name, &series.source, point);
                }
                note.added.insert(name);
            }
        }
        take_run_facts(
            host,
            guest.sources,
            guest.problems,
            guest.events,
            guest.artifacts,
        );
        take_absent_params(host, guest.params);
    }
    note.wall_times = fill_wall_times(host, &walls);
    clock.fill_times(host);
    host.source_notes.push(note.text(rule));
}

/// When the guests' clocks started: their wall times count from their own
/// first event, so each is shifted to count from the earliest.
struct GuestClock {
    /// Seconds to add to each guest's wall times, in guest order.
    offsets: Vec<f64>,
    /// Earliest start and latest end of any guest (Unix seconds).
    span: Option<(f64, f64)>,
}

impl GuestClock {
    fn of(guests: &[Run]) -> GuestClock {
        let unix = |t: &Option<String>| t.as_deref().and_then(unix_seconds_from_iso);
        let starts: Vec<Option<f64>> = guests.iter().map(|g| unix(&g.started)).collect();
        let first = starts.iter().flatten().copied().reduce(f64::min);
        let last = guests
            .iter()
            .filter_map(|g| unix(&g.ended))
            .reduce(f64::max);
        GuestClock {
            offsets: starts
                .iter()
                .map(|s| s.zip(first).map_or(0.0, |(s, f)| s - f))
                .collect(),
            span: first.zip(last),
        }
    }

    /// Start, end and duration for a host that has none of its own.
    fn fill_times(&self, host: &mut Run) {
        let Some((first, last)) = self.span else {
            return;
        };
        let iso = |s: f64| iso_from_unix_ms((s * 1000.0).round() as i64);
        if host.started.is_none() && host.ended.is_none() {
            host.started = iso(first);
            host.ended = iso(last);
        }
        if host.duration_seconds.is_none() && last >= first {
            host.duration_seconds = Some(last - first);
        }
        if host.date.is_none() {
            host.date = host
                .started
                .as_ref()
                .and_then(|s| s.get(..10))
                .map(str::to_string);
        }
    }
}

/// The guest's files, problems, events and artifacts join the host's.
fn take_run_facts(
    host: &mut Run,
    sources: Vec<String>,
    problems: Vec<crate::model::Problem>,
    events: Vec<crate::model::Event>,
    artifacts: Vec<crate::model::Artifact>,
) {
    host.sources.extend(sources);
    host.problems.extend(problems);
    host.events.extend(events);
    for artifact in artifacts {
        if !host.artifacts.iter().any(|a| a.path == artifact.path) {
            host.artifacts.push(artifact);
        }
    }
}

/// Params the host does not have, by top-level key.
fn take_absent_params(host: &mut Run, params: serde_json::Value) {
    if let (serde_json::Value::Object(host), serde_json::Value::Object(guest)) =
        (&mut host.params, params)
    {
        for (key, value) in guest {
            host.entry(key).or_insert(value);
        }
    }
}

/// Give the host's points without a wall time the guest's at the same step.
/// Returns how many were filled.
fn fill_wall_times(host: &mut Run, walls: &HashMap<String, BTreeMap<u64, f64>>) -> usize {
    let mut filled = 0;
    for series in &mut host.metrics {
        let Some(by_step) = walls.get(&series.name) else {
            continue;
        };
        for point in series.points.iter_mut().filter(|p| p.wall_time.is_none()) {
            point.wall_time = by_step.get(&point.step).copied();
            filled += usize::from(point.wall_time.is_some());
        }
    }
    filled
}

/// What became of the guests' series, for the run's note.
#[derive(Default)]
struct Note {
    folders: Vec<String>,
    kept: BTreeSet<String>,
    added: BTreeSet<String>,
    not_series: BTreeSet<String>,
    wall_times: usize,
}

impl Note {
    /// A few sentences: what was read, which side won, what was added.
    fn text(&self, rule: &Absorption) -> String {
        let (host, guest) = (rule.host, rule.guest);
        let mut text = format!(
            "{} ({guest}) is part of this {host} run.",
            self.folders.join(", ")
        );
        if !self.kept.is_empty() {
            text += &format!(
                " Where both record a metric, the {host} points are kept, as {}: {}.",
                rule.preferred_because,
                names(&self.kept)
            );
        }
        if !self.added.is_empty() {
            text += &format!(" Only in {guest}, added: {}.", names(&self.added));
        }
        if !self.not_series.is_empty() {
            text += &format!(
                " Not made series ({host} keeps them elsewhere): {}.",
                names(&self.not_series)
            );
        }
        if self.wall_times > 0 {
            text += &format!(
                " Wall times of {} points come from {guest}.",
                self.wall_times
            );
        }
        text
    }
}

/// `runs/x` for `out/runs/x` inside `out`.
fn path_inside<'a>(path: &'a str, dir: &str) -> &'a str {
    if dir.is_empty() {
        return path;
    }
    path.strip_prefix(dir)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path)
}

/// `a, b, c` or `a, b, c, ... (N more)`.
fn names(set: &BTreeSet<String>) -> String {
    const SHOWN: usize = 8;
    let mut text = set
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if set.len() > SHOWN {
        text += &format!(", ... ({} more)", set.len() - SHOWN);
    }
    text
}

#[cfg(test)]
mod tests;
