//! Everything the site contains, made in memory and handed to [`crate::output`].
//!
//! Pages come from Tera templates ([`html`]) fed by view structs ([`view`],
//! [`figures`]), charts from plotters ([`chart`]) after [`curves`] (a run's
//! charts) and [`compare`] (the index's comparisons) decide what goes on them,
//! markdown from [`markdown`] and [`summary`], model cards made into safe HTML
//! by [`card`]. Nothing here reads an input file: the only input bytes that
//! reach the site are image artifacts, copied by path through the staging
//! writer.

pub mod card;
pub mod chart;
pub mod compare;
pub mod curves;
pub mod diff;
pub mod digest;
pub mod exports;
pub mod figures;
pub mod groups;
pub mod html;
pub mod markdown;
pub mod seeds;
pub mod summary;
pub mod table;
pub mod view;
pub mod xaxis;

use crate::analyze::{Analyzed, Diagnostic, Headline, SeriesSummary};
use crate::cache::Cache;
use crate::model::Problem;
use crate::output::Staging;
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// TensorBoard's default-ish smoothing: enough to read a noisy loss, little enough
/// that a spike still shows in the smoothed line.
pub const DEFAULT_SMOOTHING: f64 = 0.6;

/// How charts are drawn, as a user may choose it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartOptions {
    /// TensorBoard's EMA weight for noisy curves, 0 (off: raw values only) to
    /// 0.999; default [`DEFAULT_SMOOTHING`]. Learning rate, memory and time
    /// charts are never smoothed, nor lines of fewer than
    /// [`chart::MIN_POINTS_TO_SMOOTH`] points.
    pub smoothing: f64,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            smoothing: DEFAULT_SMOOTHING,
        }
    }
}

/// Write the site's shared files into `staging`: assets, group pages with
/// their charts, the index, experiments.md and the exports, all made from
/// the runs' digests ([`digest`]), in index order. Run folders are written
/// one by one by [`write_run`].
pub fn write_shared(
    theme: &html::Theme,
    title: &str,
    digests: &[Analyzed],
    staging: &Staging,
    options: &ChartOptions,
    cache: Option<&Cache>,
) -> Result<()> {
    for (rel, bytes) in html::ASSETS {
        staging.write(rel, bytes)?;
    }
    staging.write(".nojekyll", b"")?;
    let group_pages = compare::group_pages(digests);
    // The exports need nothing the charts make: written beside them, since
    // this is the one stretch of a build that is not spread over runs.
    let (comparisons, exported) = rayon::join(
        || write_groups(theme, title, digests, staging, options, cache),
        || -> Result<()> {
            staging.write(
                "experiments.md",
                markdown::experiments_md(title, digests).as_bytes(),
            )?;
            staging.write("data/runs.json", runs_json(digests)?.as_bytes())?;
            staging.write("data/runs.csv", exports::runs_csv(digests)?.as_bytes())?;
            staging.write_with("data/training_runs_comparison.json", |out| {
                exports::write_comparison_json(digests, out)
            })
        },
    );
    exported?;
    let mut index_view = view::index_view(title, digests, comparisons?);
    index_view.table.link_groups(&group_pages);
    let index = theme.render("index.html", &index_view)?;
    staging.write("index.html", index.as_bytes())?;
    Ok(())
}

/// What every run folder of a build shares.
pub struct RunSite<'a> {
    pub theme: &'a html::Theme,
    pub title: &'a str,
    /// ROOT, where image artifacts are copied from.
    pub root: &'a Path,
    pub staging: &'a Staging,
    pub options: &'a ChartOptions,
}

/// One run's folder as written.
#[derive(Debug, Default)]
pub struct RunFolder {
    /// Images that could not be copied.
    pub notes: Vec<String>,
    /// When asked for: how the page would read with no group page, as a
    /// [`Splice`] of the page written.
    pub lone: Option<Splice>,
}

/// A page written to a file, told as the other page it could have been:
/// the bytes `at..at + cut` of the file replaced by `put`. Both pages are
/// rendered in full and only their difference kept, so a spliced file is
/// byte for byte the other page.
#[derive(Debug, Clone, PartialEq)]
pub struct Splice {
    at: usize,
    cut: usize,
    put: String,
}

/// The longest difference a [`Splice`] keeps: the crumbs line of the built-in
/// template is about 200 bytes; a template that uses the group link all over
/// its page gets none, and such a run is drawn again when it needs one.
const MAX_SPLICE: usize = 4096;

impl Splice {
    /// `from` turned into `to`, when they differ in one short stretch.
    fn between(from: &str, to: &str) -> Option<Splice> {
        let (a, b) = (from.as_bytes(), to.as_bytes());
        let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let tail = a[head..]
            .iter()
            .rev()
            .zip(b[head..].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let (mut at, mut tail) = (head, tail);
        // Cut on character boundaries, so `put` is text.
        while !to.is_char_boundary(at) || !from.is_char_boundary(at) {
            at -= 1;
        }
        while !to.is_char_boundary(b.len() - tail) || !from.is_char_boundary(a.len() - tail) {
            tail -= 1;
        }
        let put = &to[at..to.len() - tail];
        let cut = a.len() - tail - at;
        (put.len().max(cut) <= MAX_SPLICE).then(|| Splice {
            at,
            cut,
            put: put.to_string(),
        })
    }

    /// Apply to the file at `path` (which must be the page it was made from).
    pub fn apply(&self, path: &Path) -> Result<()> {
        let mut bytes =
            std::fs::read(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        if bytes.len() < self.at + self.cut {
            return Err(anyhow!("{} is not the page it was", path.display()));
        }
        bytes.splice(self.at..self.at + self.cut, self.put.bytes());
        std::fs::write(path, bytes).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
    }
}

/// One run's folder, `dir` (`runs/<id>`, or where it is made before its id
/// is final): page, charts (PNG beside the page, SVG inline), run.json,
/// images. `group_page` is the run's group page, when its group has one;
/// with `lone_too`, the page without it is rendered as well and returned as
/// a [`Splice`].
pub fn write_run(
    site: &RunSite,
    a: &Analyzed,
    dir: &str,
    group_page: Option<&str>,
    lone_too: bool,
) -> Result<RunFolder> {
    let RunSite {
        theme,
        title,
        root,
        staging,
        options,
    } = *site;
    let mut notes = Vec::new();
    let (mut charts, mut system_charts) = (Vec::new(), Vec::new());
    for chart in curves::run_charts(a, options.smoothing) {
        let key = chart.kind.key();
        let failed = |e: String| anyhow!("chart {key} of run {}: {e}", a.run.id);
        // PNGs are for markdown and pull requests: the curves get one; system
        // charts and the other x axes are seen on the page, as SVG only, which
        // costs a tenth of a PNG to make.
        let (svg, png_name) = match chart.kind.is_system() {
            true => (
                chart::render_svg(&chart.spec).map_err(failed)?,
                String::new(),
            ),
            false => {
                let drawn = chart::render_svg_and_png(&chart.spec).map_err(failed)?;
                let png_name = format!("{key}.png");
                staging.write(&format!("{dir}/{png_name}"), &drawn.png)?;
                (drawn.svg, png_name)
            }
        };
        let mut alternates = Vec::new();
        for (axis, spec) in &chart.alternates {
            let svg = chart::render_svg(spec).map_err(failed)?;
            let name = format!("{key}-by-{}.svg", axis.key());
            staging.write(&format!("{dir}/{name}"), svg.as_bytes())?;
            alternates.push(figures::AltChartView {
                axis: axis.key(),
                label: axis.name(),
                file: name,
            });
        }
        let shown = figures::ChartView {
            title: chart.kind.title().to_string(),
            family: key,
            svg,
            png: png_name,
            alternates,
        };
        match chart.kind.is_system() {
            true => system_charts.push(shown),
            false => charts.push(shown),
        }
    }
    for (i, art) in a.run.artifacts.iter().enumerate() {
        if art.kind == crate::model::ArtifactKind::Image {
            // An image that vanished since the walk costs its picture, not the build.
            let copied = staging.copy(
                &root.join(&art.path),
                &format!("{dir}/{}", view::image_href(i, &art.path)),
            );
            if let Err(err) = copied {
                notes.push(format!("{}: image not copied: {err:#}", art.path));
            }
        }
    }
    let mut view = view::run_view(title, a, charts, system_charts);
    view.group_href = group_page.unwrap_or_default().to_string();
    let page = theme.render("run.html", &view)?;
    let lone = match (lone_too, group_page) {
        (true, Some(_)) => {
            view.group_href.clear();
            Splice::between(&page, &theme.render("run.html", &view)?)
        }
        _ => None,
    };
    staging.write(&format!("{dir}/index.html"), page.as_bytes())?;
    // Streamed to the file: as one string, a long run's JSON was the build's peak memory.
    // Compact: indented, it was twice the size and most of a big site's bytes
    // (2.2 of 2.8 GB for 1,000 runs of 5,000 steps), and its writing a build's
    // largest cost after the charts; `jq .` indents it for reading.
    staging.write_with(&format!("{dir}/run.json"), |out| {
        serde_json::to_writer(&mut *out, &a.run).map_err(std::io::Error::other)?;
        std::io::Write::write_all(out, b"\n")
    })?;
    Ok(RunFolder { notes, lone })
}

/// Every group of two or more runs gets a page (`groups/<slug>/index.html`)
/// with its comparison and sweep charts, drawn as SVG and PNG files under
/// `charts/` (pages load them lazily, so a big site's pages stay small).
/// Returns the index's view of each group that has comparison charts.
fn write_groups<'a>(
    theme: &html::Theme,
    title: &'a str,
    runs: &'a [Analyzed],
    staging: &Staging,
    options: &ChartOptions,
    cache: Option<&Cache>,
) -> Result<Vec<figures::ComparisonGroupView<'a>>> {
    let groups = compare::comparisons(runs, options.smoothing);
    let sweeps: Vec<Vec<compare::Comparison>> = groups.iter().map(groups::sweep_charts).collect();
    let all: Vec<&compare::Comparison> = groups
        .iter()
        .flat_map(|g| &g.charts)
        .chain(sweeps.iter().flatten())
        .collect();
    let heights: Vec<u32> = all
        .par_iter()
        .map(|c| {
            let (svg, png) = (format!("{}.svg", c.path), format!("{}.png", c.path));
            // A chart is all its spec says: one whose spec is unchanged is reused.
            let key = cache.map(|_| {
                let mut key = crate::cache::KeyMaker::new("chart");
                key.bytes(&crate::cache::tool_fingerprint().to_le_bytes())
                    .number(c.spec.lines.len() as u64);
                c.spec.fingerprint(&mut key);
                key.finish()
            });
            let files = (staging.folder(&svg)?, staging.folder(&png)?);
            if let (Some(cache), Some(key)) = (cache, key) {
                if let Some(height) = cache.restore_chart(key, &files.0, &files.1) {
                    return Ok(height);
                }
            }
            let drawn = chart::render_svg_and_png(&c.spec)
                .map_err(|e| anyhow!("comparison chart {}: {e}", c.path))?;
            staging.write(&svg, drawn.svg.as_bytes())?;
            staging.write(&png, &drawn.png)?;
            if let (Some(cache), Some(key)) = (cache, key) {
                cache.store_chart(key, &files.0, &files.1, drawn.height);
            }
            Ok(drawn.height)
        })
        .collect::<Result<_>>()?;
    let height: BTreeMap<&str, u32> = all.iter().map(|c| c.path.as_str()).zip(heights).collect();
    let views = |charts: &[compare::Comparison]| -> Vec<figures::ComparisonView> {
        charts
            .iter()
            .map(|c| figures::ComparisonView::of(&c.spec, &c.path, height[c.path.as_str()]))
            .collect()
    };
    let mut index_views = Vec::new();
    for (g, sweep) in groups.iter().zip(&sweeps) {
        let page = compare::group_page(&g.slug);
        let charts = views(&g.charts);
        let view = groups::group_view(title, g, charts.clone(), views(sweep));
        staging.write(&page, theme.render("group.html", &view)?.as_bytes())?;
        if !charts.is_empty() {
            index_views.push(figures::ComparisonGroupView::of(g, page, charts));
        }
    }
    Ok(index_views)
}

/// One object of `data/runs.json`.
#[derive(Serialize)]
struct RunSummary<'a> {
    id: &'a str,
    name: &'a str,
    format: &'a str,
    path: &'a str,
    group: &'a str,
    date: Option<&'a str>,
    status: &'static str,
    status_reason: &'a str,
    started: Option<&'a str>,
    ended: Option<&'a str>,
    #[serde(serialize_with = "crate::model::serialize_opt_f64")]
    duration_seconds: Option<f64>,
    page: String,
    params: BTreeMap<String, String>,
    headline: &'a Headline,
    metrics: &'a [SeriesSummary],
    diagnostics: &'a [Diagnostic],
    problems: &'a [Problem],
    model_card: Option<CardSummary<'a>>,
}

/// A model card in `data/runs.json`: its front matter only (the body is in run.json).
#[derive(Serialize)]
struct CardSummary<'a> {
    file: &'a str,
    front_matter: BTreeMap<String, String>,
}

/// `data/runs.json`: one summary object per run, in index order.
pub fn runs_json(runs: &[Analyzed]) -> Result<String> {
    let rows: Vec<RunSummary> = runs
        .iter()
        .map(|a| RunSummary {
            id: &a.run.id,
            name: &a.run.name,
            format: &a.run.format,
            path: &a.run.path,
            group: &a.run.group,
            date: a.run.date.as_deref(),
            status: a.run.status.as_str(),
            status_reason: &a.run.status_reason,
            started: a.run.started.as_deref(),
            ended: a.run.ended.as_deref(),
            duration_seconds: a.run.duration_seconds,
            page: format!("runs/{}/index.html", a.run.id),
            params: a.run.flat_params(),
            headline: &a.headline,
            metrics: &a.summaries,
            diagnostics: &a.diagnostics,
            problems: &a.run.problems,
            model_card: a.run.model_card.as_ref().map(|card| CardSummary {
                file: &card.file,
                front_matter: card.flat_front_matter(),
            }),
        })
        .collect();
    let mut json = serde_json::to_string_pretty(&rows)?;
    json.push('\n');
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spliced(from: &str, splice: &Splice) -> String {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("page.html");
        std::fs::write(&path, from).unwrap();
        splice.apply(&path).unwrap();
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn a_splice_turns_one_page_into_the_other() {
        let with = "<p>All runs / <a href=\"g/ü.html\">ü</a></p><h1>x</h1>";
        let without = "<p>All runs / <span>ü</span></p><h1>x</h1>";
        for (from, to) in [(with, without), (without, with), (with, with)] {
            let splice = Splice::between(from, to).unwrap();
            assert!(splice.put.len() < to.len() || from == to);
            assert_eq!(spliced(from, &splice), to);
        }
        // Differences that share a multi-byte character's first bytes still cut on characters.
        let splice = Splice::between("aé", "aè").unwrap();
        assert_eq!(spliced("aé", &splice), "aè");
    }

    #[test]
    fn pages_that_differ_all_over_keep_no_splice() {
        let from = format!("a{}b", "x".repeat(MAX_SPLICE));
        let to = format!("c{}d", "x".repeat(MAX_SPLICE));
        assert_eq!(Splice::between(&from, &to), None);
        let tmp = tempfile::tempdir().unwrap();
        let short = tmp.path().join("short.html");
        std::fs::write(&short, "a").unwrap();
        let splice = Splice::between("abc", "a").unwrap();
        assert!(
            splice.apply(&short).is_err(),
            "not the page it was made from"
        );
    }
}
