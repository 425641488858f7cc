//! A page per group of two or more runs (`groups/<slug>/index.html`): what
//! differs between them (a table of params with runs as columns), their
//! curves overlaid (the comparison charts), and for a sweep, the result
//! against each swept param: "which value was best".
//!
//! This module decides what goes on the page; [`super::write_site_with`]
//! draws the charts and writes it.

use super::chart::{wants_log_scale, ChartLine, ChartSpec};
use super::compare::{Comparison, GroupComparison};
use super::figures::ComparisonView;
use super::seeds::{is_bookkeeping_key, is_seed_key};
use super::table::{runs_table, RunsTable};
use super::view::{capitalize, differing_param_keys, fmt_num};
use crate::analyze::Analyzed;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Sweep charts per group at most: the params with the most distinct values.
const MAX_SWEEP_CHARTS: usize = 4;
/// Runs shown as columns of the param-difference table; past this the table
/// would be wider than anyone reads, and the runs table has them all.
const MAX_DIFF_COLUMNS: usize = 40;
/// Param rows of that table at most.
const MAX_DIFF_ROWS: usize = 200;

/// The metric a sweep is judged by: best val loss when most runs have one, else final train loss.
struct SweepMetric {
    name: &'static str,
    value: fn(&Analyzed) -> Option<f64>,
}

const BEST_VAL: SweepMetric = SweepMetric {
    name: "best val loss",
    value: |a| a.headline.best_val_loss,
};
const FINAL_TRAIN: SweepMetric = SweepMetric {
    name: "final train loss",
    value: |a| a.headline.final_train_loss,
};

/// A param's value as a number: `0.0003`, `3e-4`, or the number a value
/// starts with (`5e-05 (cosine)`, as some logs write a learning rate).
fn numeric(value: &str) -> Option<f64> {
    let first = value.split_whitespace().next()?;
    first.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Learning rates are compared in ratios, so they get a log axis whatever their span.
fn is_rate_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    last == "lr"
        || last.contains("learning_rate")
        || last.ends_with("_lr")
        || last.starts_with("lr_")
}

/// The swept params of a group of three or more runs: configuration params
/// (not seeds, not bookkeeping) that half the runs or more have, with a
/// number in every run that has them and
/// three or more distinct values, or two when nothing else differs (an A/B
/// with seeds); most distinct values first. Two runs that differ in four
/// params are no sweep of any of them. `flats` are the runs' flattened params.
pub fn swept_params(flats: &[BTreeMap<String, String>]) -> Vec<String> {
    if flats.len() < 3 {
        return Vec::new();
    }
    let configured: Vec<String> = differing_param_keys(flats)
        .into_iter()
        .filter(|k| !is_seed_key(k) && !is_bookkeeping_key(k))
        .collect();
    let alone = configured.len() == 1;
    let mut swept: Vec<(usize, String)> = configured
        .into_iter()
        .filter_map(|k| {
            let values: Vec<Option<f64>> = flats
                .iter()
                .filter_map(|f| f.get(&k))
                .map(|v| numeric(v))
                .collect();
            // A param half the runs lack (other writers name it otherwise) sweeps only some of them.
            if values.iter().any(Option::is_none) || values.len() * 2 < flats.len() {
                return None;
            }
            let distinct: BTreeSet<u64> = values.iter().flatten().map(|v| v.to_bits()).collect();
            (distinct.len() >= 3 || (alone && distinct.len() == 2)).then_some((distinct.len(), k))
        })
        .collect();
    swept.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    swept
        .into_iter()
        .take(MAX_SWEEP_CHARTS)
        .map(|(_, k)| k)
        .collect()
}

/// One chart per swept param: each run's result against its value, the best
/// result at each value joined by a line, the best of all ringed.
pub fn sweep_charts(g: &GroupComparison) -> Vec<Comparison> {
    let with_val = g
        .members
        .iter()
        .filter(|a| a.headline.best_val_loss.is_some_and(f64::is_finite))
        .count();
    let metric = if with_val * 2 >= g.members.len() {
        BEST_VAL
    } else {
        FINAL_TRAIN
    };
    let flats: Vec<BTreeMap<String, String>> =
        g.members.iter().map(|a| a.run.flat_params()).collect();
    swept_params(&flats)
        .into_iter()
        .filter_map(|key| {
            let spec = sweep_spec(g, &flats, &key, &metric)?;
            Some(Comparison {
                path: format!("charts/{}-sweep-{}", g.slug, crate::slug(&key)),
                spec,
            })
        })
        .collect()
}

fn sweep_spec(
    g: &GroupComparison,
    flats: &[BTreeMap<String, String>],
    key: &str,
    metric: &SweepMetric,
) -> Option<ChartSpec> {
    // Each run's (value, result), and the value as its params write it, for the legend.
    let mut written: BTreeMap<u64, &str> = BTreeMap::new();
    let points: Vec<(f64, f64)> = g
        .members
        .iter()
        .zip(flats)
        .filter_map(|(a, flat)| {
            let text = flat.get(key)?;
            let x = numeric(text)?;
            written.entry(x.to_bits()).or_insert(text);
            Some((x, (metric.value)(a)?))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    let x_log = points.iter().all(|p| p.0 > 0.0)
        && (is_rate_key(key) || wants_log_scale(points.iter().map(|p| p.0)));
    // The best result at each value, joined in x order.
    let mut by_x: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for &(x, y) in &points {
        let slot = by_x.entry(x.to_bits()).or_insert((x, y));
        // A finite result replaces a non-finite one or a worse one.
        if y.is_finite() && (!slot.1.is_finite() || y < slot.1) {
            *slot = (x, y);
        }
    }
    let mut best_per_value: Vec<(f64, f64)> = by_x.into_values().collect();
    best_per_value.sort_by(|a, b| a.0.total_cmp(&b.0));
    let best = points
        .iter()
        .copied()
        .filter(|p| p.1.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let short = key.rsplit('.').next().unwrap_or(key);
    let several_per_value = best_per_value.len() < points.len();
    let mut lines = vec![ChartLine {
        label: match several_per_value {
            true => format!("best at each {short}"),
            false => "runs".to_string(),
        },
        points: best_per_value,
        markers: true,
        ..ChartLine::default()
    }];
    if several_per_value {
        lines.push(ChartLine {
            label: "each run".to_string(),
            points,
            scatter: true,
            ..ChartLine::default()
        });
    }
    let group_name = if g.group.is_empty() {
        "top level"
    } else {
        g.group
    };
    Some(ChartSpec {
        title: format!("{} by {short} · {group_name}", capitalize(metric.name)),
        x_label: format!("{key}{}", if x_log { " (log scale)" } else { "" }),
        y_label: metric.name.to_string(),
        lines,
        best,
        best_label: best
            .map(|(x, y)| {
                let value = written
                    .get(&x.to_bits())
                    .map_or_else(|| fmt_num(x), |v| v.to_string());
                format!("best {} at {short} = {value}", fmt_num(y))
            })
            .unwrap_or_default(),
        smoothing: 0.0,
        compares_runs: false,
        x_log,
    })
}

/// A group page.
#[derive(Serialize)]
pub struct GroupView<'a> {
    /// From this page to the site root.
    pub root: &'static str,
    pub title: &'a str,
    pub version: &'static str,
    pub heading: String,
    pub runs: usize,
    pub seed_sets: usize,
    pub table: RunsTable<'a>,
    pub diff: ParamDiff<'a>,
    pub sweeps: Vec<ComparisonView>,
    pub charts: Vec<ComparisonView>,
}

/// The param-difference table: a row per param that differs, a column per run.
#[derive(Serialize)]
pub struct ParamDiff<'a> {
    pub runs: Vec<DiffRun<'a>>,
    pub rows: Vec<DiffRow>,
    /// Runs and params left out past the table's bounds.
    pub more_runs: usize,
    pub more_rows: usize,
}

#[derive(Serialize)]
pub struct DiffRun<'a> {
    pub name: &'a str,
    /// From the site root (slug-made).
    pub href: String,
}

#[derive(Serialize)]
pub struct DiffRow {
    pub key: String,
    pub cells: Vec<DiffCell>,
}

#[derive(Serialize)]
pub struct DiffCell {
    pub value: String,
    /// Not the value most runs have: where this run departs from the others.
    pub odd: bool,
}

/// The param-difference table of `members`.
pub fn param_diff<'a>(members: &[&'a Analyzed]) -> ParamDiff<'a> {
    let shown = &members[..members.len().min(MAX_DIFF_COLUMNS)];
    let flats: Vec<BTreeMap<String, String>> =
        members.iter().map(|a| a.run.flat_params()).collect();
    let keys = differing_param_keys(&flats);
    let rows = keys
        .iter()
        .take(MAX_DIFF_ROWS)
        .map(|key| {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &flats {
                *counts
                    .entry(f.get(key).map_or("", String::as_str))
                    .or_default() += 1;
            }
            let common = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(v, _)| *v)
                .unwrap_or("");
            let unanimous_majority = counts.get(common).copied().unwrap_or(0) * 2 > flats.len();
            DiffRow {
                key: key.clone(),
                cells: flats[..shown.len()]
                    .iter()
                    .map(|f| {
                        let value = f.get(key).cloned().unwrap_or_default();
                        DiffCell {
                            odd: unanimous_majority && value != common,
                            value,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    ParamDiff {
        runs: shown
            .iter()
            .map(|a| DiffRun {
                name: &a.run.name,
                href: format!("runs/{}/index.html", a.run.id),
            })
            .collect(),
        rows,
        more_runs: members.len() - shown.len(),
        more_rows: keys.len().saturating_sub(MAX_DIFF_ROWS),
    }
}

/// The page of group `g`, its charts already drawn as `charts` and `sweeps`.
pub fn group_view<'a>(
    title: &'a str,
    g: &GroupComparison<'a>,
    charts: Vec<ComparisonView>,
    sweeps: Vec<ComparisonView>,
) -> GroupView<'a> {
    GroupView {
        root: "../../",
        title,
        version: env!("CARGO_PKG_VERSION"),
        heading: match g.group {
            "" => "Top level".to_string(),
            name => name.to_string(),
        },
        runs: g.members.len(),
        seed_sets: g.seed_sets.len(),
        table: runs_table(&g.members),
        diff: param_diff(&g.members),
        sweeps,
        charts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, Run};

    fn run(name: &str, params: serde_json::Value, best_val: f64) -> Analyzed {
        let mut run = Run::new(&format!("sweep/{name}"), "sweep", "x");
        run.params = params;
        for step in 1..=4 {
            run.push_point("train/loss", "f", Point::at(step, 3.0 - step as f64 * 0.1));
            run.push_point(
                "val/loss",
                "f",
                Point::at(step, best_val + (4 - step) as f64),
            );
        }
        run.finish_metrics();
        crate::analyze::analyze(run, &crate::analyze::Thresholds::default())
    }

    fn group<'a>(members: Vec<&'a Analyzed>) -> GroupComparison<'a> {
        GroupComparison {
            group: "sweep",
            slug: "sweep".into(),
            seed_sets: Vec::new(),
            members,
            charts: Vec::new(),
        }
    }

    #[test]
    fn a_learning_rate_sweep_is_plotted_on_a_log_axis_with_the_best_ringed() {
        use serde_json::json;
        let runs = [
            run(
                "a",
                json!({"optimizer": {"lr": "1e-4"}, "seed": 1, "global_step": 10}),
                1.6,
            ),
            run(
                "b",
                json!({"optimizer": {"lr": "3e-4"}, "seed": 2, "global_step": 11}),
                1.2,
            ),
            run(
                "c",
                json!({"optimizer": {"lr": "1e-3"}, "seed": 3, "global_step": 12}),
                1.9,
            ),
            run(
                "d",
                json!({"optimizer": {"lr": "3e-4"}, "seed": 4, "global_step": 13}),
                1.3,
            ),
        ];
        let g = group(runs.iter().collect());
        let flats: Vec<_> = g.members.iter().map(|a| a.run.flat_params()).collect();
        assert_eq!(
            swept_params(&flats),
            ["optimizer.lr"],
            "not seed, not global_step"
        );
        let charts = sweep_charts(&g);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].path, "charts/sweep-sweep-optimizer-lr");
        let spec = &charts[0].spec;
        assert!(spec.x_log && spec.title.starts_with("Best val loss by lr"));
        assert_eq!(spec.best, Some((3e-4, 1.2)));
        assert_eq!(spec.best_label, "best 1.2000 at lr = 3e-4");
        // Two runs at 3e-4: the line joins the best of each value, every run is a dot.
        assert_eq!(
            spec.lines[0].points,
            vec![(1e-4, 1.6), (3e-4, 1.2), (1e-3, 1.9)]
        );
        assert!(spec.lines[1].scatter && spec.lines[1].points.len() == 4);
    }

    #[test]
    fn the_diff_table_has_only_differing_params_and_marks_the_odd_value() {
        use serde_json::json;
        let runs = [
            run("a", json!({"lr": 0.1, "bs": 32, "model": "m"}), 1.0),
            run("b", json!({"lr": 0.1, "bs": 64, "model": "m"}), 1.0),
            run(
                "c",
                json!({"lr": 0.1, "bs": 32, "model": "m", "warmup": 5}),
                1.0,
            ),
        ];
        let refs: Vec<&Analyzed> = runs.iter().collect();
        let diff = param_diff(&refs);
        let keys: Vec<&str> = diff.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["bs"],
            "lr and model are shared; warmup is in one run only"
        );
        let odd: Vec<bool> = diff.rows[0].cells.iter().map(|c| c.odd).collect();
        assert_eq!(odd, [false, true, false]);
        assert_eq!(diff.runs[1].name, "b");
    }
}
