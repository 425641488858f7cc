//! Comparison charts for the index: the runs of each group overlaid, one
//! chart per metric most of them have (val loss first, then train loss,
//! perplexity, accuracy), each run labelled by name.
//!
//! A dozen lines are still told apart by colour; past that, colour goes only
//! to the runs a reader compares against (the best one and a `baseline`) and
//! the rest are drawn as faded context, counted in the legend as `N others`.
//! Lines are smoothed without their raw values: a dozen raw lines are a haze,
//! and each run's own page has them.

use super::chart::{smooth_ema, ChartLine, ChartSpec, MIN_POINTS_TO_SMOOTH};
use super::seeds::{mean_and_band, seed_sets, SeedSet};
use crate::analyze::Analyzed;
use crate::model::{Family, Split};
use std::collections::{BTreeMap, BTreeSet};

/// Up to this many runs, each gets its own colour.
pub const MAX_DISTINCT_RUNS: usize = 12;

/// Evaluation lines of up to this many points get a dot per point; a dozen
/// runs of a hundred dots each would bury the lines.
const MAX_MARKED_EVALS: usize = 40;

/// The charts a group may get, in the order they are shown; at most
/// [`MAX_CHARTS_PER_GROUP`] of those most of its runs have.
pub const CANDIDATES: [(Family, Split); 6] = [
    (Family::Loss, Split::Val),
    (Family::Loss, Split::Train),
    (Family::Perplexity, Split::Val),
    (Family::Accuracy, Split::Val),
    (Family::Perplexity, Split::Train),
    (Family::Accuracy, Split::Train),
];
const MAX_CHARTS_PER_GROUP: usize = 4;

/// One group's comparison charts.
pub struct GroupComparison<'a> {
    /// The group as runs name it (`""` at the top level).
    pub group: &'a str,
    /// Unique among groups: names its charts and its page (`groups/<slug>/`).
    pub slug: String,
    /// The group's runs, in index order.
    pub members: Vec<&'a Analyzed>,
    /// Runs that differ only in their seed, drawn as one mean line each.
    pub seed_sets: Vec<SeedSet>,
    pub charts: Vec<Comparison>,
}

/// One comparison chart and where it goes in the site.
pub struct Comparison {
    /// Path of the chart without extension, relative to the site: `charts/lr-sweep-loss-val`.
    pub path: String,
    pub spec: ChartSpec,
}

/// Each group of two or more runs, by name, with a slug unique among them and its runs.
fn groups_of_two_or_more(runs: &[Analyzed]) -> Vec<(&str, String, Vec<&Analyzed>)> {
    let mut groups: BTreeMap<&str, Vec<&Analyzed>> = BTreeMap::new();
    for a in runs {
        groups.entry(a.run.group.as_str()).or_default().push(a);
    }
    let mut used_slugs = BTreeSet::new();
    groups
        .into_iter()
        .filter(|(_, members)| members.len() >= 2)
        .map(|(group, members)| {
            let base = group_slug(group);
            let mut slug = base.clone();
            for n in 2.. {
                if used_slugs.insert(slug.clone()) {
                    break;
                }
                slug = format!("{base}-{n}");
            }
            (group, slug, members)
        })
        .collect()
}

/// A group's slug, unless another group's took it first (then it gets `-2`, ...).
pub fn group_slug(group: &str) -> String {
    if group.is_empty() {
        "top-level".to_string()
    } else {
        crate::slug(group)
    }
}

/// The page of the group with this slug, from the site root.
pub fn group_page(slug: &str) -> String {
    format!("groups/{slug}/index.html")
}

/// Each group's page ([`group_page`]), for groups of two or more runs: the
/// groups [`comparisons`] returns, without drawing anything.
pub fn group_pages(runs: &[Analyzed]) -> BTreeMap<&str, String> {
    groups_of_two_or_more(runs)
        .into_iter()
        .map(|(group, slug, _)| (group, group_page(&slug)))
        .collect()
}

/// Comparison charts of every group with at least two runs, groups by name.
pub fn comparisons(runs: &[Analyzed], smoothing: f64) -> Vec<GroupComparison<'_>> {
    groups_of_two_or_more(runs)
        .into_iter()
        .map(|(group, slug, members)| {
            let sets = seed_sets(&members);
            let charts = CANDIDATES
                .iter()
                .filter(|(f, s)| {
                    members
                        .iter()
                        .filter(|a| a.run.series(*f, *s).is_some())
                        .count()
                        * 2
                        > members.len()
                })
                .take(MAX_CHARTS_PER_GROUP)
                .map(|&(family, split)| Comparison {
                    path: format!("charts/{slug}-{}-{}", family.as_str(), split.as_str()),
                    spec: comparison_spec(group, &members, &sets, family, split, smoothing),
                })
                .collect();
            GroupComparison {
                group,
                slug,
                members,
                seed_sets: sets,
                charts,
            }
        })
        .collect()
}

fn comparison_spec(
    group: &str,
    members: &[&Analyzed],
    sets: &[SeedSet],
    family: Family,
    split: Split,
    smoothing: f64,
) -> ChartSpec {
    let colored = highlighted(members);
    let best = (members.len() > MAX_DISTINCT_RUNS)
        .then(|| best_run(members))
        .flatten();
    let labels = labels(group, members);
    let set_of: BTreeMap<usize, &SeedSet> = sets
        .iter()
        .flat_map(|s| s.members.iter().map(move |&i| (i, s)))
        .collect();
    let markers = |len: usize| split != Split::Train && len <= MAX_MARKED_EVALS;
    // What the chart smooths: lines of MIN_POINTS_TO_SMOOTH points or more, never
    // a marker line (their few evaluations are worth seeing as they are).
    let smoothed = |len: usize| smoothing > 0.0 && !markers(len) && len >= MIN_POINTS_TO_SMOOTH;
    let lines = members
        .iter()
        .zip(labels)
        .enumerate()
        .filter_map(|(i, (a, label))| {
            let best_mark = |label: String, is_best: bool| match is_best {
                true => format!("{label} (best)"),
                false => label,
            };
            if let Some(set) = set_of.get(&i) {
                // A seed set is drawn once, where its first run is.
                if set.members[0] != i {
                    return None;
                }
                // Each seed smoothed as a single run would be, so the set's
                // line reads like the others; then their mean and spread.
                let series: Vec<Vec<(f64, f64)>> = set
                    .members
                    .iter()
                    .filter_map(|&m| {
                        let points = &members[m].run.series(family, split)?.points;
                        let raw: Vec<(f64, f64)> =
                            points.iter().map(|p| (p.step as f64, p.value)).collect();
                        Some(match smoothed(raw.len()) {
                            true => smooth_ema(&raw, smoothing),
                            false => raw,
                        })
                    })
                    .collect();
                if series.is_empty() {
                    return None;
                }
                let series: Vec<&[(f64, f64)]> = series.iter().map(Vec::as_slice).collect();
                let (mean, band) = mean_and_band(&series);
                let label = format!("{} · mean of {} seeds", set.label, series.len());
                return Some(ChartLine {
                    label: best_mark(label, set.members.iter().any(|m| best == Some(*m))),
                    markers: markers(mean.len()),
                    points: mean,
                    band,
                    faded: !set.members.iter().any(|&m| colored[m]),
                    scatter: false,
                    thinned_from: None,
                });
            }
            let series = a.run.series(family, split)?;
            Some(ChartLine {
                label: best_mark(label, best == Some(i)),
                points: series
                    .points
                    .iter()
                    .map(|p| (p.step as f64, p.value))
                    .collect(),
                markers: markers(series.points.len()),
                faded: !colored[i],
                band: Vec::new(),
                scatter: false,
                thinned_from: a
                    .summaries
                    .iter()
                    .find(|s| s.name == series.name && s.points > series.points.len())
                    .map(|s| (s.points, s.nonfinite_points)),
            })
        })
        .collect();
    let group_name = if group.is_empty() { "top level" } else { group };
    ChartSpec {
        title: format!("{} ({}) · {group_name}", family.title(), split.as_str()),
        x_label: "step".into(),
        y_label: format!("{} {}", split.as_str(), family.title().to_lowercase()),
        lines,
        best: None,
        best_label: String::new(),
        smoothing,
        compares_runs: true,
        x_log: false,
    }
}

/// Which runs get a colour: all of them up to [`MAX_DISTINCT_RUNS`]; beyond,
/// only the best run (lowest final val loss, else lowest final train loss)
/// and any run named `baseline`.
pub fn highlighted(members: &[&Analyzed]) -> Vec<bool> {
    if members.len() <= MAX_DISTINCT_RUNS {
        return vec![true; members.len()];
    }
    let best = best_run(members);
    members
        .iter()
        .enumerate()
        .map(|(i, a)| Some(i) == best || is_baseline(&a.run.name))
        .collect()
}

/// The run with the lowest finite final val loss; without any, the lowest final train loss.
fn best_run(members: &[&Analyzed]) -> Option<usize> {
    let lowest = |final_loss: fn(&Analyzed) -> Option<f64>| {
        members
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((i, final_loss(a).filter(|v| v.is_finite())?)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(i, _)| i)
    };
    lowest(|a| a.headline.final_val_loss).or_else(|| lowest(|a| a.headline.final_train_loss))
}

/// `baseline`, `Baseline-v2`, `resnet_baseline`: the word, not a substring of another.
fn is_baseline(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "baseline")
}

/// Run names as legend labels; where two runs of the group share a name,
/// their paths within the group tell them apart.
fn labels(group: &str, members: &[&Analyzed]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for a in members {
        *seen.entry(a.run.name.as_str()).or_default() += 1;
    }
    members
        .iter()
        .map(|a| match seen[a.run.name.as_str()] {
            1 => a.run.name.clone(),
            _ => {
                let path = a.run.path.strip_prefix(group).unwrap_or(&a.run.path);
                path.trim_start_matches('/').to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, Run};

    fn run(group: &str, name: &str, final_val: Option<f64>, final_train: f64) -> Analyzed {
        let mut run = Run::new(&format!("{group}/{name}"), group, "x");
        for step in 1..=3 {
            run.push_point(
                "train/loss",
                "f",
                Point::at(step, final_train + 3.0 - step as f64),
            );
            if let Some(v) = final_val {
                run.push_point("val/loss", "f", Point::at(step, v + 3.0 - step as f64));
            }
        }
        run.finish_metrics();
        crate::analyze::analyze(run, &crate::analyze::Thresholds::default())
    }

    #[test]
    fn a_dozen_runs_each_get_a_colour_and_more_highlight_best_and_baseline() {
        let mut runs: Vec<Analyzed> = (0..12)
            .map(|i| run("sweep", &format!("r{i}"), Some(2.0 + i as f64), 1.0))
            .collect();
        let refs: Vec<&Analyzed> = runs.iter().collect();
        assert!(highlighted(&refs).iter().all(|h| *h));
        runs.push(run("sweep", "Baseline", Some(9.0), 1.0));
        runs.push(run("sweep", "r-best", Some(0.5), 1.0));
        let refs: Vec<&Analyzed> = runs.iter().collect();
        let lit: Vec<&str> = refs
            .iter()
            .zip(highlighted(&refs))
            .filter(|(_, h)| *h)
            .map(|(a, _)| a.run.name.as_str())
            .collect();
        assert_eq!(lit, vec!["Baseline", "r-best"]);
        let spec = comparison_spec("sweep", &refs, &[], Family::Loss, Split::Val, 0.6);
        assert_eq!(spec.lines.iter().filter(|l| !l.faded).count(), 2);
        assert!(spec.lines.iter().any(|l| l.label == "r-best (best)"));
        assert!(spec.compares_runs && spec.lines[0].markers);
    }

    #[test]
    fn without_val_loss_the_best_run_has_the_lowest_train_loss() {
        let runs = [
            run("g", "a", None, 3.0),
            run("g", "b", None, 1.0),
            run("g", "c", None, 2.0),
        ];
        let refs: Vec<&Analyzed> = runs.iter().collect();
        assert_eq!(best_run(&refs), Some(1));
        assert!(is_baseline("resnet_baseline") && !is_baseline("baselines"));
    }

    #[test]
    fn groups_of_two_or_more_get_charts_of_what_most_runs_have() {
        let runs = vec![
            run("sweep", "a", Some(2.0), 1.0),
            run("sweep", "b", Some(1.5), 1.0),
            run("sweep", "c", None, 1.0),
            run("alone", "x", Some(1.0), 1.0),
            run("pair", "y", None, 1.0),
            run("pair", "z", None, 2.0),
        ];
        let groups = comparisons(&runs, 0.6);
        let paths: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.group, g.charts.iter().map(|c| c.path.as_str()).collect()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("pair", vec!["charts/pair-loss-train"]),
                (
                    "sweep",
                    vec!["charts/sweep-loss-val", "charts/sweep-loss-train"]
                ),
            ]
        );
        let pair = &groups[0].charts[0].spec;
        let names: Vec<&str> = pair.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(names, vec!["y", "z"], "legends name runs");
    }

    #[test]
    fn runs_of_one_name_are_told_apart_by_path() {
        let mut runs = [run("g", "v0/a", None, 1.0), run("g", "v1/a", None, 1.0)];
        for a in &mut runs {
            a.run.name = "version_0".into();
        }
        let refs: Vec<&Analyzed> = runs.iter().collect();
        assert_eq!(labels("g", &refs), vec!["v0/a", "v1/a"]);
    }
}
