//! The build as two passes over the candidates, shaped so that memory is
//! bounded by the largest run rather than the number of runs, and each run
//! is read once.
//!
//! 1. **Read and draw** (in parallel): each candidate is read, its runs
//!    analyzed, and each run reduced to its digest ([`render::digest`]), which
//!    is all the shared pages need. When a site is written, each run's folder
//!    is drawn right away, under `.drawn/` in the staging folder, for the id
//!    and group page it will most likely get (its own slug, its group's page),
//!    and the run is dropped. With a cache, a candidate whose files have not
//!    changed is not read at all: its digests come from the cache.
//! 2. **Place** (in parallel): once ids and groups are known over all runs,
//!    each drawn folder is renamed to `runs/<id>`. The guesses rarely miss:
//!    a run alone in its group gets the page without a group link, kept as a
//!    [`render::Splice`]; a run whose id or group page another took first is
//!    read and drawn again, as is a run whose folder the cache lacks.
//!    Then the shared pages are made from the digests.
//!
//! Whether a folder was drawn once or twice does not change a byte of it.

use crate::analyze::{self, Analyzed};
use crate::cache::{self, Cache, Key, KeyMaker};
use crate::discover::Tree;
use crate::load::{self, Candidate};
use crate::model::{Problem, Run};
use crate::render::{self, compare, digest::digest, RunFolder, RunSite};
use crate::settings::Settings;
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Where drawn run folders wait, in the staging folder, until their ids are final.
pub const DRAWN: &str = ".drawn";

/// What both passes share.
pub struct Site<'a> {
    pub tree: &'a Tree,
    pub candidates: &'a [Candidate],
    pub settings: &'a Settings,
    pub cache: Option<&'a Cache>,
    /// `--group-by`: the param that groups runs instead of their folders.
    pub group_by: Option<&'a str>,
    /// Where run folders go; none when nothing is written (`runboard check`).
    pub pages: Option<RunSite<'a>>,
    pub progress: &'a crate::progress::Progress,
    /// The groups of the runs drawn so far in the first pass.
    pub drawn_groups: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// One candidate after the first pass.
pub struct Loaded {
    /// Where it is in the candidate list.
    pub candidate: usize,
    /// Its cache key (when there is a cache).
    pub key: Option<Key>,
    /// Its runs' digests, in reading order.
    pub digests: Vec<Analyzed>,
    /// Its runs' folders as drawn while reading; none for digests from the cache.
    pub drawn: Vec<Option<Drawn>>,
}

/// A run's folder drawn in the first pass, for the id and group page it
/// would get if no other run took them first.
pub struct Drawn {
    /// Where it is in the staging folder.
    dir: String,
    id: String,
    group_page: String,
    folder: RunFolder,
}

/// The first pass for one candidate.
pub fn load_candidate(site: &Site, (index, candidate): (usize, &Candidate)) -> Result<Loaded> {
    let key = site.cache.map(|cache| {
        let thresholds = format!("{:?}", site.settings.diagnostics);
        cache::candidate_key(site.tree, candidate, &thresholds, Some(&cache.file_hashes))
    });
    if let (Some(cache), Some(key)) = (site.cache, key) {
        if let Some(digests) = cache.digests(key) {
            return Ok(Loaded {
                candidate: index,
                key: Some(key),
                drawn: digests.iter().map(|_| None).collect(),
                digests,
            });
        }
    }
    // A file of many runs (a Trackio database) is one candidate: its runs
    // come a few at a time, drawn in parallel, and are dropped once drawn.
    let batch_size = rayon::current_num_threads().max(1) * 2;
    let mut done: Vec<Option<(Analyzed, Option<Drawn>)>> = Vec::new();
    let mut batch: Vec<(usize, Run)> = Vec::new();
    let mut failed = None;
    load::read_each(site.tree, candidate, &mut |position, run| {
        if failed.is_some() {
            return;
        }
        batch.push((position, run));
        if batch.len() >= batch_size {
            failed = draw_batch(site, index, std::mem::take(&mut batch), &mut done).err();
        }
    });
    if let Some(err) = failed {
        return Err(err);
    }
    draw_batch(site, index, batch, &mut done)?;
    let (digests, drawn): (Vec<Analyzed>, Vec<Option<Drawn>>) = done.into_iter().flatten().unzip();
    if let (Some(cache), Some(key)) = (site.cache, key) {
        cache.put_digests(key, &digests);
    }
    Ok(Loaded {
        candidate: index,
        key,
        digests,
        drawn,
    })
}

/// Analyze a few runs of a candidate in parallel, digest them and (when a
/// site is written) draw their folders; each into its place in `done`.
fn draw_batch(
    site: &Site,
    candidate: usize,
    batch: Vec<(usize, Run)>,
    done: &mut Vec<Option<(Analyzed, Option<Drawn>)>>,
) -> Result<()> {
    let made: Vec<(usize, Analyzed, Option<Drawn>)> = batch
        .into_par_iter()
        .map(|(position, run)| {
            let mut a = analyze::analyze(run, &site.settings.diagnostics);
            let d = digest(&a);
            let drawn = match &site.pages {
                Some(pages) => Some(draw(site, pages, candidate, position, &mut a)?),
                None => None,
            };
            Ok((position, d, drawn))
        })
        .collect::<Result<_>>()?;
    for (position, d, drawn) in made {
        if done.len() <= position {
            done.resize_with(position + 1, || None);
        }
        done[position] = Some((d, drawn));
    }
    Ok(())
}

/// Draw a run's folder under [`DRAWN`], for its likely id and group page.
fn draw(
    site: &Site,
    pages: &RunSite,
    candidate: usize,
    position: usize,
    a: &mut Analyzed,
) -> Result<Drawn> {
    if let Some(key) = site.group_by {
        crate::group_by_param(std::iter::once(&mut a.run), key);
    }
    a.run.id = crate::id_of(&a.run);
    let group_page = compare::group_page(&compare::group_slug(&a.run.group));
    let dir = format!("{DRAWN}/{candidate}-{position}");
    // Only the first run drawn of a group may end up alone in it: a later
    // one knows its group has two runs, and so a page.
    let first_of_group = site
        .drawn_groups
        .lock()
        .map_or(true, |mut seen| seen.insert(a.run.group.clone()));
    let folder = render::write_run(pages, a, &dir, Some(&group_page), first_of_group)?;
    Ok(Drawn {
        dir,
        id: std::mem::take(&mut a.run.id),
        group_page,
        folder,
    })
}

/// What the second pass did for one candidate.
#[derive(Default)]
pub struct Written {
    /// Images that could not be copied.
    pub notes: Vec<String>,
    /// Runs whose folders came from the cache.
    pub reused: usize,
}

/// The second pass for one candidate: put each of its runs' folders at
/// `runs/<id>`, with the final ids and groups in `digests`: moved from where
/// the first pass drew it, restored from the cache, or else drawn again from
/// a second reading (which keeps only the runs it needs).
pub fn write_candidate(
    site: &Site,
    pages: &RunSite,
    group_pages: &BTreeMap<&str, String>,
    loaded: Loaded,
    digests: &[Analyzed],
) -> Result<Written> {
    let Loaded {
        candidate,
        key,
        mut drawn,
        ..
    } = loaded;
    let mut done = Written::default();
    let group_page = |d: &Analyzed| group_pages.get(d.run.group.as_str()).map(String::as_str);
    let run_key =
        |position: usize, d: &Analyzed| key.map(|k| run_key(pages, k, position, d, group_page(d)));
    let finished = |done: &mut Written, position: usize, d: &Analyzed, notes: Vec<String>| {
        if let (Some(cache), Some(run_key), true) =
            (site.cache, run_key(position, d), notes.is_empty())
        {
            cache.store_run(
                run_key,
                &pages.staging.folder(&format!("runs/{}", d.run.id))?,
            );
        }
        done.notes.extend(notes);
        site.progress.tick();
        Ok::<_, anyhow::Error>(())
    };
    let mut again = Vec::new();
    for (position, d) in digests.iter().enumerate() {
        let dir = format!("runs/{}", d.run.id);
        match drawn.get_mut(position).and_then(Option::take) {
            Some(first) => match place(pages, first, &dir, &d.run.id, group_page(d))? {
                Some(notes) => finished(&mut done, position, d, notes)?,
                None => again.push(position),
            },
            None => match (site.cache, run_key(position, d)) {
                (Some(cache), Some(run_key))
                    if cache.restore_run(run_key, &pages.staging.folder(&dir)?) =>
                {
                    done.reused += 1;
                    site.progress.tick();
                }
                _ => again.push(position),
            },
        }
    }
    if again.is_empty() {
        return Ok(done);
    }
    let draw_again = |done: &mut Written, position: usize, mut a: Analyzed| {
        let d = &digests[position];
        a.run.id.clone_from(&d.run.id);
        a.run.group.clone_from(&d.run.group);
        let dir = format!("runs/{}", d.run.id);
        let notes = render::write_run(pages, &a, &dir, group_page(d), false)?.notes;
        finished(done, position, d, notes)
    };
    let mut seen = vec![false; digests.len()];
    let mut failed = None;
    load::read_each(
        site.tree,
        &site.candidates[candidate],
        &mut |position, run| {
            if failed.is_some() || again.binary_search(&position).is_err() {
                return;
            }
            seen[position] = true;
            let a = analyze::analyze(run, &site.settings.diagnostics);
            failed = draw_again(&mut done, position, a).err();
        },
    );
    if let Some(err) = failed {
        return Err(err);
    }
    for position in again.into_iter().filter(|p| !seen[*p]) {
        draw_again(&mut done, position, changed_while_read(&digests[position]))?;
    }
    Ok(done)
}

/// Move a folder drawn in the first pass to `dir`, when it was drawn for
/// the run's final id and its page can become the one for `group_page`;
/// returns its notes, or `None` (having removed it) when it must be drawn again.
fn place(
    pages: &RunSite,
    first: Drawn,
    dir: &str,
    id: &str,
    group_page: Option<&str>,
) -> Result<Option<Vec<String>>> {
    let from = pages.staging.folder(&first.dir)?;
    let splice = match group_page {
        _ if first.id != id => Err(()),
        Some(page) if page == first.group_page => Ok(None),
        None => first.folder.lone.map(Some).ok_or(()),
        Some(_) => Err(()),
    };
    let Ok(splice) = splice else {
        std::fs::remove_dir_all(&from)
            .with_context(|| format!("cannot remove {}", from.display()))?;
        return Ok(None);
    };
    let to = pages.staging.folder(dir)?;
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::rename(&from, &to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
    if let Some(splice) = splice {
        splice.apply(&to.join("index.html"))?;
    }
    Ok(Some(first.folder.notes))
}

/// The key of a run's folder: see [`crate::cache`].
fn run_key(
    pages: &RunSite,
    digests_key: Key,
    position: usize,
    d: &Analyzed,
    page: Option<&str>,
) -> Key {
    let mut key = KeyMaker::new("run");
    key.bytes(&cache::tool_fingerprint().to_le_bytes())
        .bytes(&digests_key.0.to_le_bytes())
        .number(position as u64)
        .text(&d.run.id)
        .text(&d.run.group)
        .text(page.unwrap_or_default())
        .text(pages.title)
        .bytes(&pages.theme.fingerprint.to_le_bytes())
        .text(&format!("{:?}", pages.options));
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
