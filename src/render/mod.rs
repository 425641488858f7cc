//! Everything the site contains, made in memory and handed to [`crate::output`].
//!
//! Pages come from Tera templates ([`html`]) fed by view structs ([`view`]),
//! charts from plotters ([`chart`]), markdown from [`markdown`]. Nothing here
//! reads an input file: the only input bytes that reach the site are image
//! artifacts, copied by path through the staging writer.

pub mod chart;
pub mod html;
pub mod markdown;
pub mod view;

use crate::analyze::{Analyzed, Diagnostic, Headline, SeriesSummary};
use crate::model::{Family, Problem, Split};
use crate::output::Staging;
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Write every page, chart, asset and export of the site into `staging`.
/// Returns notes on what could not be included (an image that vanished).
pub fn write_site(
    theme: &html::Theme,
    title: &str,
    runs: &[Analyzed],
    root: &Path,
    staging: &Staging,
) -> Result<Vec<String>> {
    for (rel, bytes) in html::ASSETS {
        staging.write(rel, bytes)?;
    }
    staging.write(".nojekyll", b"")?;
    let notes: Vec<Vec<String>> = runs
        .par_iter()
        .map(|a| write_run(theme, title, a, root, staging))
        .collect::<Result<_>>()?;
    let index = theme.render("index.html", &view::index_view(title, runs))?;
    staging.write("index.html", index.as_bytes())?;
    staging.write(
        "experiments.md",
        markdown::experiments_md(title, runs).as_bytes(),
    )?;
    staging.write("data/runs.json", runs_json(runs)?.as_bytes())?;
    Ok(notes.into_iter().flatten().collect())
}

/// One run's folder: page, charts (PNG beside the page, SVG inline), run.json, images.
fn write_run(
    theme: &html::Theme,
    title: &str,
    a: &Analyzed,
    root: &Path,
    staging: &Staging,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let dir = format!("runs/{}", a.run.id);
    let mut charts = Vec::new();
    for spec in chart_specs(a) {
        let family = spec.0;
        let chart::Rendered { svg, png, .. } = chart::render_svg_and_png(&spec.1)
            .map_err(|e| anyhow!("chart {} of run {}: {e}", family.as_str(), a.run.id))?;
        let png_name = format!("{}.png", family.as_str());
        staging.write(&format!("{dir}/{png_name}"), &png)?;
        charts.push(view::ChartView {
            title: family.title().to_string(),
            family: family.as_str(),
            svg,
            png: png_name,
        });
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
    let page = theme.render("run.html", &view::run_view(title, a, charts))?;
    staging.write(&format!("{dir}/index.html"), page.as_bytes())?;
    let json = serde_json::to_string_pretty(&a.run)?;
    staging.write(&format!("{dir}/run.json"), json.as_bytes())?;
    Ok(notes)
}

/// One chart per metric family: every series of the family on it, val with markers.
pub fn chart_specs(a: &Analyzed) -> Vec<(Family, chart::ChartSpec)> {
    let mut by_family: BTreeMap<Family, Vec<&crate::model::Series>> = BTreeMap::new();
    for s in &a.run.metrics {
        by_family.entry(s.family).or_default().push(s);
    }
    by_family
        .into_iter()
        .map(|(family, series)| {
            let lines = series
                .iter()
                .map(|s| chart::ChartLine {
                    label: s.name.clone(),
                    points: s.points.iter().map(|p| (p.step as f64, p.value)).collect(),
                    markers: s.split == Split::Val || s.split == Split::Test,
                    faded: false,
                })
                .collect();
            let spec = chart::ChartSpec {
                title: format!("{} · {}", family.title(), a.run.name),
                x_label: "step".to_string(),
                y_label: family.title().to_lowercase(),
                lines,
                best: best_val_point(a, family),
                ..chart::ChartSpec::default()
            };
            (family, spec)
        })
        .collect()
}

/// The best point of the family's val series (or its only series), to mark on the chart.
fn best_val_point(a: &Analyzed, family: Family) -> Option<(f64, f64)> {
    // "Best" means something for model quality only; the lowest learning rate
    // or the highest throughput is no checkpoint to keep.
    if !matches!(family, Family::Loss | Family::Perplexity | Family::Accuracy) {
        return None;
    }
    let in_family: Vec<&SeriesSummary> = a
        .summaries
        .iter()
        .filter(|s| s.family == family.as_str())
        .collect();
    let pick = in_family
        .iter()
        .find(|s| s.split == "val")
        .or(if in_family.len() == 1 {
            in_family.first()
        } else {
            None
        });
    pick.and_then(|s| Some((s.best_step? as f64, s.best?)))
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
        })
        .collect();
    let mut json = serde_json::to_string_pretty(&rows)?;
    json.push('\n');
    Ok(json)
}
