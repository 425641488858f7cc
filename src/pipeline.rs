//! The build as two passes over the candidates, shaped so that memory is
//! bounded by the largest run rather than the number of runs.
//!
//! 1. **Read** (in parallel): each candidate is read and its runs analyzed,
//!    and each run is reduced to its digest ([`render::digest`]), which is all
//!    the shared pages need. A run's full data is kept for the second pass
//!    only while the runs kept fit in [`crate::Options::hold_bytes`]; the others are
//!    read again when their page is written. With a cache, a candidate whose
//!    files have not changed is not read at all: its digests come from the cache.
//! 2. **Write** (in parallel): once ids and groups are known, each run's folder
//!    is written (or, unchanged, restored from the cache) and its data dropped;
//!    then the shared pages are made from the digests.
//!
//! Which runs are kept depends on timing, but not the output: a run read again
//! is the run read the first time.

use crate::analyze::{self, Analyzed};
use crate::cache::{self, Cache, Key, KeyMaker};
use crate::discover::Tree;
use crate::load::{self, Candidate};
use crate::model::Problem;
use crate::render::{self, digest::digest, html::Theme, ChartOptions};
use crate::{output::Staging, settings::Settings};
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parsed runs held between the passes, in bytes (estimated), unless
/// [`crate::Options::hold_bytes`] says otherwise. A hundred runs of 5,000
/// points in every format fit (they are read once); beyond, runs are read
/// again. Measured on that corpus: holding none peaks at 107 MB, holding
/// them all at 186 MB.
pub const DEFAULT_HOLD_BYTES: usize = 64 << 20;

/// One candidate after the first pass.
pub struct Loaded {
    /// Where it is in the candidate list.
    pub candidate: usize,
    /// Its cache key (when there is a cache).
    pub key: Option<Key>,
    /// Its runs' digests, in reading order.
    pub digests: Vec<Analyzed>,
    /// Its runs' full data, where it was kept.
    pub full: Vec<Option<Analyzed>>,
}

/// What the first pass may keep, shared by the readers.
pub struct Holding(AtomicUsize);

impl Holding {
    pub fn new(bytes: usize) -> Holding {
        Holding(AtomicUsize::new(bytes))
    }

    /// Take `bytes` from what is left; false (taking nothing) when they do not fit.
    fn take(&self, bytes: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }
}

/// Roughly what an analyzed run occupies: its points, events and samples.
fn weight(a: &Analyzed) -> usize {
    let run = &a.run;
    let points: usize = run.metrics.iter().map(|s| s.points.len()).sum();
    let events: usize = run.events.iter().map(|e| e.message.len() + 96).sum();
    let samples: usize = run
        .samples
        .iter()
        .map(|s| s.question.len() + s.answer.len() + 96)
        .sum();
    points * std::mem::size_of::<crate::model::Point>() + events + samples
}

/// Read and analyze a candidate's runs.
fn read_analyzed(tree: &Tree, candidate: &Candidate, settings: &Settings) -> Vec<Analyzed> {
    load::read(tree, candidate)
        .into_iter()
        .map(|run| analyze::analyze(run, &settings.diagnostics))
        .collect()
}

/// The first pass for one candidate.
pub fn load_candidate(
    tree: &Tree,
    (index, candidate): (usize, &Candidate),
    settings: &Settings,
    cache: Option<&Cache>,
    holding: &Holding,
) -> Loaded {
    let key = cache.map(|_| {
        let thresholds = format!("{:?}", settings.diagnostics);
        cache::candidate_key(tree, candidate, &thresholds)
    });
    if let (Some(cache), Some(key)) = (cache, key) {
        if let Some(digests) = cache.digests(key) {
            return Loaded {
                candidate: index,
                key: Some(key),
                full: digests.iter().map(|_| None).collect(),
                digests,
            };
        }
    }
    let runs = read_analyzed(tree, candidate, settings);
    let digests: Vec<Analyzed> = runs.iter().map(digest).collect();
    if let (Some(cache), Some(key)) = (cache, key) {
        cache.put_digests(key, &digests);
    }
    let full = runs
        .into_iter()
        .map(|a| holding.take(weight(&a)).then_some(a))
        .collect();
    Loaded {
        candidate: index,
        key,
        digests,
        full,
    }
}

/// What the second pass needs besides the runs.
pub struct Site<'a> {
    pub tree: &'a Tree,
    pub candidates: &'a [Candidate],
    pub settings: &'a Settings,
    pub theme: &'a Theme,
    pub title: &'a str,
    pub options: &'a ChartOptions,
    pub staging: &'a Staging,
    pub cache: Option<&'a Cache>,
    pub group_pages: &'a BTreeMap<&'a str, String>,
    pub progress: &'a crate::progress::Progress,
}

/// What the second pass did for one candidate.
#[derive(Default)]
pub struct Written {
    /// Images that could not be copied.
    pub notes: Vec<String>,
    /// Runs whose folders came from the cache.
    pub reused: usize,
}

/// The second pass for one candidate: write each of its runs' folders, whose
/// final ids and groups are in `digests`.
pub fn write_candidate(site: &Site, loaded: Loaded, digests: &[Analyzed]) -> Result<Written> {
    let Loaded {
        candidate,
        key,
        mut full,
        ..
    } = loaded;
    let mut read_again: Option<Vec<Option<Analyzed>>> = None;
    let mut done = Written::default();
    for (position, d) in digests.iter().enumerate() {
        let group_page = site.group_pages.get(d.run.group.as_str());
        let dir = format!("runs/{}", d.run.id);
        let run_key = key.map(|k| run_key(site, k, position, d, group_page));
        if let (Some(cache), Some(run_key)) = (site.cache, run_key) {
            if cache.restore_run(run_key, &site.staging.folder(&dir)?) {
                full[position] = None;
                done.reused += 1;
                site.progress.tick();
                continue;
            }
        }
        let held = full.get_mut(position).and_then(Option::take);
        let mut run = match held {
            Some(a) => a,
            None => {
                let again = read_again.get_or_insert_with(|| {
                    let c = &site.candidates[candidate];
                    read_analyzed(site.tree, c, site.settings)
                        .into_iter()
                        .map(Some)
                        .collect()
                });
                again
                    .get_mut(position)
                    .and_then(Option::take)
                    .unwrap_or_else(|| changed_while_read(d))
            }
        };
        run.run.id.clone_from(&d.run.id);
        run.run.group.clone_from(&d.run.group);
        let written = render::write_run(
            site.theme,
            site.title,
            &run,
            &site.tree.root,
            site.staging,
            site.options,
            group_page,
        )?;
        drop(run);
        if let (Some(cache), Some(run_key), true) = (site.cache, run_key, written.is_empty()) {
            cache.store_run(run_key, &site.staging.folder(&dir)?);
        }
        done.notes.extend(written);
        site.progress.tick();
    }
    Ok(done)
}

/// The key of a run's folder: see [`crate::cache`].
fn run_key(
    site: &Site,
    digests_key: Key,
    position: usize,
    d: &Analyzed,
    page: Option<&String>,
) -> Key {
    let mut key = KeyMaker::new("run");
    key.bytes(&cache::tool_fingerprint().to_le_bytes())
        .bytes(&digests_key.0.to_le_bytes())
        .number(position as u64)
        .text(&d.run.id)
        .text(&d.run.group)
        .text(page.map_or("", String::as_str))
        .text(site.title)
        .bytes(&site.theme.fingerprint.to_le_bytes())
        .text(&format!("{:?}", site.options));
    key.finish()
}

/// A run that was there at the first reading and gone at the second (its
/// files changed in between): its page is made from its digest, and says so.
fn changed_while_read(d: &Analyzed) -> Analyzed {
    let mut a = d.clone();
    a.run.problems.push(Problem::warning(
        "",
        None,
        "the run's files changed while runboard read them; rebuild for its full page",
    ));
    a
}
