//! runboard: turn a folder of ML training runs into a static report site.
//!
//! The pipeline, one module per stage: [`discover`] walks ROOT, [`load`] turns
//! candidates into normalized [`model::Run`]s, [`analyze`] summarizes them,
//! [`render`] makes pages, charts and markdown in memory, and [`output`] writes
//! the site atomically. [`build`] is that pipeline in a page.

pub mod analyze;
pub mod cache;
pub mod cli;
pub mod discover;
pub mod load;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod settings;

use analyze::Analyzed;
use anyhow::{bail, Context, Result};
use model::{Problem, Run, Severity};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What to build, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The experiments folder.
    pub root: PathBuf,
    /// Where the site goes; `None` reads and analyzes only (`runboard check`).
    pub out: Option<PathBuf>,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    /// Site title.
    pub title: String,
    /// Folder of templates that replace the built-in ones by name.
    pub templates: Option<PathBuf>,
    /// `name=value` threshold overrides, applied over ROOT's `runboard.toml`.
    pub set: Vec<String>,
    /// Chart smoothing weight, over ROOT's `runboard.toml` (`None`: the file's, else the default).
    pub smoothing: Option<f64>,
    /// Group runs by this param's value instead of by folder (`--group-by`).
    pub group_by: Option<String>,
    /// Ticked as sources are read and runs rendered; hidden unless the binary shows it.
    pub progress: progress::Progress,
    /// The build cache's folder ([`cache`]); `None` builds everything anew.
    pub cache: Option<PathBuf>,
}

impl Options {
    /// Options to read `root`, write nothing, and use every core: set the rest by field.
    pub fn new(root: impl Into<PathBuf>) -> Options {
        Options {
            root: root.into(),
            out: None,
            jobs: None,
            title: String::new(),
            templates: None,
            set: Vec::new(),
            smoothing: None,
            group_by: None,
            progress: progress::Progress::hidden(),
            cache: None,
        }
    }
}

/// What a build did, for the summary line and the exit code.
#[derive(Debug)]
pub struct BuildReport {
    /// Every run, analyzed, in index order.
    pub runs: Vec<Analyzed>,
    /// Things under ROOT deliberately not read (symlinks out of ROOT, unreadable entries).
    pub skipped: Vec<String>,
    /// Runs whose folders came unchanged from the build cache.
    pub reused: usize,
}

impl BuildReport {
    /// Runs with at least one warning or error (info notes are not problems to fix).
    pub fn runs_with_problems(&self) -> usize {
        self.runs
            .iter()
            .filter(|a| {
                a.run
                    .problems
                    .iter()
                    .any(|p| p.severity >= Severity::Warning)
            })
            .count()
    }

    /// True when any run has an error-level problem (`--strict` fails on it).
    pub fn has_errors(&self) -> bool {
        self.runs
            .iter()
            .any(|a| a.run.problems.iter().any(|p| p.severity == Severity::Error))
    }

    /// Every problem with the run it belongs to, in order.
    pub fn problems(&self) -> impl Iterator<Item = (&Run, &Problem)> {
        self.runs
            .iter()
            .flat_map(|a| a.run.problems.iter().map(move |p| (&a.run, p)))
    }
}

/// Read, analyze and (when `opts.out` is set) write the site. Fatal errors
/// only for the build as a whole; everything wrong with a run is on the run.
pub fn build(opts: &Options) -> Result<BuildReport> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = opts.jobs {
        pool = pool.num_threads(jobs.max(1));
    }
    let pool = pool.build().context("cannot start worker threads")?;
    let built = pool.install(|| build_in_pool(opts));
    opts.progress.finish();
    built
}

fn build_in_pool(opts: &Options) -> Result<BuildReport> {
    let out = match &opts.out {
        Some(out) => Some(check_out_path(opts, out)?),
        None => None,
    };
    // Templates and thresholds are checked before any reading so a bad one fails fast.
    let theme = render::html::Theme::load(opts.templates.as_deref())?;
    let settings = load_settings(opts)?;
    let mut tree = discover::walk(&opts.root, out.as_deref())?;
    let mut skipped = std::mem::take(&mut tree.skipped);
    // The output folder is claimed before reading, so a bad --out fails fast.
    let staging = match &out {
        Some(out) => Some(output::Staging::new(out)?),
        None => None,
    };
    let cache = match (&opts.cache, &staging) {
        (Some(dir), Some(_)) => match cache::Cache::open(dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                skipped.push(format!("the build cache {}: {e}", dir.display()));
                None
            }
        },
        _ => None,
    };
    let candidates = load::find_candidates(&tree);
    let options = settings.chart_options();
    let site = pipeline::Site {
        tree: &tree,
        candidates: &candidates,
        settings: &settings,
        cache: cache.as_ref(),
        group_by: opts.group_by.as_deref(),
        pages: staging.as_ref().map(|staging| render::RunSite {
            theme: &theme,
            title: &opts.title,
            root: &tree.root,
            staging,
            options: &options,
        }),
        progress: &opts.progress,
        drawn_groups: Default::default(),
    };
    let stage = if site.pages.is_some() {
        "drawing"
    } else {
        "reading"
    };
    opts.progress.stage(stage, candidates.len());
    let mut loaded: Vec<pipeline::Loaded> = candidates
        .par_iter()
        .enumerate()
        .map(|c| {
            let loaded = pipeline::load_candidate(&site, c);
            opts.progress.tick();
            loaded
        })
        .collect::<Result<_>>()?;
    // Ids and groups are decided on the digests, over all runs, in index order.
    let mut digests: Vec<Analyzed> = loaded
        .iter_mut()
        .flat_map(|l| std::mem::take(&mut l.digests))
        .collect();
    assign_ids(digests.iter_mut().map(|a| &mut a.run));
    if let Some(key) = &opts.group_by {
        group_by_param(digests.iter_mut().map(|a| &mut a.run), key);
    }
    let mut reused = 0;
    if let (Some(pages), Some(staging)) = (&site.pages, &staging) {
        opts.progress.stage("placing", digests.len());
        let group_pages = render::compare::group_pages(&digests);
        let mut first = 0;
        let work: Vec<(pipeline::Loaded, std::ops::Range<usize>)> = loaded
            .into_iter()
            .map(|l| {
                let runs = first..first + l.drawn.len();
                first = runs.end;
                (l, runs)
            })
            .collect();
        let written: Vec<pipeline::Written> = work
            .into_par_iter()
            .map(|(l, runs)| {
                pipeline::write_candidate(&site, pages, &group_pages, l, &digests[runs])
            })
            .collect::<Result<_>>()?;
        let drawn = staging.folder(pipeline::DRAWN)?;
        if drawn.exists() {
            std::fs::remove_dir_all(&drawn)
                .with_context(|| format!("cannot remove {}", drawn.display()))?;
        }
        render::write_shared(
            &theme,
            &opts.title,
            &digests,
            staging,
            &options,
            cache.as_ref(),
        )?;
        for w in written {
            reused += w.reused;
            skipped.extend(w.notes);
        }
    }
    if let Some(staging) = staging {
        staging.commit()?;
        if let Some(cache) = &cache {
            cache.prune();
        }
    }
    Ok(BuildReport {
        runs: digests,
        skipped,
        reused,
    })
}

/// Settings from ROOT's `runboard.toml` (when there is one), then the flags.
fn load_settings(opts: &Options) -> Result<settings::Settings> {
    let path = opts.root.join(settings::CONFIG_FILE);
    let mut loaded = match std::fs::read_to_string(&path) {
        Ok(text) => settings::Settings::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => settings::Settings::default(),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    for assignment in &opts.set {
        loaded
            .diagnostics
            .set(assignment)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    if let Some(weight) = opts.smoothing {
        loaded.charts.smoothing =
            settings::check_smoothing(weight).map_err(|e| anyhow::anyhow!("--smoothing: {e}"))?;
    }
    Ok(loaded)
}

/// The output folder may sit inside ROOT (it is skipped), but must never be
/// ROOT or contain it: replacing it would delete the experiments.
fn check_out_path(opts: &Options, out: &std::path::Path) -> Result<PathBuf> {
    let out_abs = discover::absolute(out)
        .with_context(|| format!("cannot resolve output path {}", out.display()))?;
    if let Ok(root) = opts.root.canonicalize() {
        if root.starts_with(&out_abs) {
            bail!(
                "output folder {} would contain ROOT {}; choose another --out",
                out.display(),
                opts.root.display()
            );
        }
    }
    Ok(out_abs)
}

/// Give every run a unique id: the slug of its path, suffixed on a clash.
fn assign_ids<'a>(runs: impl Iterator<Item = &'a mut Run>) {
    let mut seen = BTreeSet::new();
    for run in runs {
        let base = id_of(run);
        let mut id = base.clone();
        let mut n = 2;
        while !seen.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        run.id = id;
    }
}

/// A run's id unless another run took it first: the slug of its path.
pub fn id_of(run: &Run) -> String {
    if run.id.is_empty() {
        slug(&run.path)
    } else {
        slug(&run.id)
    }
}

/// Longest slug kept whole; a folder name may be 255 bytes, `runs/<id>` must fit too.
const MAX_SLUG: usize = 80;

/// Put each run in the group `KEY=value` of its value of param `key` (the
/// flattened key, else the first key whose last part is `key`), or in
/// `KEY unset` when it has none.
pub fn group_by_param<'a>(runs: impl Iterator<Item = &'a mut Run>, key: &str) {
    for run in runs {
        let flat = run.flat_params();
        let value = flat.get(key).or_else(|| {
            flat.iter()
                .find(|(k, _)| k.rsplit('.').next() == Some(key))
                .map(|(_, v)| v)
        });
        run.group = match value {
            Some(v) => format!("{key}={v}"),
            None => format!("{key} unset"),
        };
    }
}

/// Lower-case ASCII letters, digits and single dashes; `run` when nothing is
/// left. A long one is cut and given a short hash of the whole text, so two
/// long paths that share a beginning stay apart.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '.' && out.chars().last().is_some_and(|l| l.is_ascii_digit()) {
            out.push('.');
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches(['-', '.']).to_string();
    if out.len() > MAX_SLUG {
        out.truncate(MAX_SLUG);
        let cut = out.trim_end_matches(['-', '.']).len();
        out.truncate(cut);
        out = format!("{out}-{:08x}", fnv1a(text) as u32);
    }
    if out.is_empty() {
        "run".to_string()
    } else {
        out
    }
}

/// FNV-1a: a stable hash (unlike std's, the same in every build and process).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_readable() {
        assert_eq!(slug("lr-sweep/lr-1e-4"), "lr-sweep-lr-1e-4");
        assert_eq!(
            slug("successful/2026-03-02_tinyllama-base"),
            "successful-2026-03-02-tinyllama-base"
        );
        assert_eq!(slug("<script>alert(1)</script>"), "script-alert-1-script");
        assert_eq!(slug("../.."), "run");
        assert_eq!(slug("lr 0.5"), "lr-0.5");
        let (a, b) = ("x".repeat(200) + "/a", "x".repeat(200) + "/b");
        assert!(slug(&a).len() <= MAX_SLUG + 9);
        assert_ne!(slug(&a), slug(&b), "long paths stay distinct");
        assert_eq!(slug(&a), slug(&a), "and stable");
    }

    #[test]
    fn group_by_a_param_by_its_full_key_or_its_last_part() {
        let mut runs = [
            Run::new("a", "x", "f"),
            Run::new("b", "x", "f"),
            Run::new("c", "y", "f"),
        ];
        runs[0].params = serde_json::json!({"optimizer": {"lr": 0.001}});
        runs[1].params = serde_json::json!({"optimizer": {"lr": 0.0003}});
        group_by_param(runs.iter_mut(), "lr");
        let groups: Vec<&str> = runs.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["lr=0.001", "lr=0.0003", "lr unset"]);
        group_by_param(runs.iter_mut(), "optimizer.lr");
        assert_eq!(runs[0].group, "optimizer.lr=0.001");
    }

    #[test]
    fn clashing_ids_get_suffixes() {
        let mut runs = vec![
            Run::new("a b", "", "x"),
            Run::new("a-b", "", "x"),
            Run::new("a_b", "", "x"),
        ];
        assign_ids(runs.iter_mut());
        let ids: Vec<String> = runs.into_iter().map(|r| r.id).collect();
        assert_eq!(ids, vec!["a-b", "a-b-2", "a-b-3"]);
    }
}
