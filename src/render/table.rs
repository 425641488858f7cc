//! The runs table the index and every group page show: a row per run with
//! its status, diagnosis, loss sparkline, loss numbers and the params that
//! differ; runs that differ only in their seed folded into one row of means
//! that expands to its runs.
//!
//! Each entry (a run, or a seed set and its runs) is one `<tbody>`, so the
//! page's script sorts and filters whole entries and a seed set's runs stay
//! under it.

use super::seeds::{is_bookkeeping_key, mean_std, seed_sets, SeedSet};
use super::view::{
    bucket_means, diagnosis_badges, differing_param_keys, fmt_num, fmt_opt, main_loss_values,
    DiagnosticRow,
};
use crate::analyze::Analyzed;
use crate::model::Status;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Param columns shown before "show all" is ticked.
const MAX_PARAM_COLUMNS: usize = 8;
/// Param columns at most, shown or behind "show all" (the page's size is bounded).
const MAX_ALL_PARAM_COLUMNS: usize = 40;

/// Width and height of a sparkline's box in whole units (drawn at half that
/// size, so integer points are half-pixel precise), and its most points.
const SPARK_BOX: (f64, f64) = (160.0, 40.0);
const SPARK_POINTS: usize = 32;

/// The table of some runs.
#[derive(Serialize)]
pub struct RunsTable<'a> {
    /// Param columns: those that differ first, then (behind "show all") those all runs share.
    pub param_columns: Vec<String>,
    /// How many of `param_columns` show before "show all" is ticked: the differing ones, up to 8.
    pub shown_params: usize,
    /// How many of `param_columns` differ between runs.
    pub differing_params: usize,
    /// Params in no column at all (past [`MAX_ALL_PARAM_COLUMNS`]).
    pub hidden_params: usize,
    pub entries: Vec<Entry<'a>>,
    /// Runs in the table (a seed set counts its runs).
    pub runs: usize,
}

/// A run, or a seed set: its row of means (kind `seeds`), then its runs (kind `member`).
#[derive(Serialize)]
pub struct Entry<'a> {
    pub seedset: bool,
    pub rows: Vec<RunRow<'a>>,
}

impl<'a> Entry<'a> {
    /// The seed set's row, when this entry is one.
    pub fn seeds(&self) -> Option<&RunRow<'a>> {
        self.rows.first().filter(|_| self.seedset)
    }

    /// The runs of the entry (without a seed set's row).
    pub fn runs(&self) -> &[RunRow<'a>] {
        &self.rows[usize::from(self.seedset)..]
    }
}

/// One row of the table.
#[derive(Serialize)]
pub struct RunRow<'a> {
    /// `run`, `seeds` (a seed set's row of means) or `member` (a run of a seed set).
    pub kind: &'static str,
    pub id: &'a str,
    /// Link to the run page from the site root. Made from the slug id (only
    /// `[a-z0-9.-]`), so templates print it `safe` rather than have `/`
    /// entity-escaped. Empty for a seed set's row.
    pub href: String,
    pub name: String,
    pub group: &'a str,
    /// The group's page from the site root (`groups/<slug>/index.html`), empty when it has none.
    pub group_href: String,
    pub date: Option<&'a str>,
    pub format: &'a str,
    pub status: &'static str,
    pub status_reason: String,
    /// Values of the param columns, in column order (`""` when absent).
    pub params: Vec<String>,
    pub final_train: String,
    pub best_train: String,
    pub final_val: String,
    pub best_val: String,
    pub best_val_step: String,
    pub gap: String,
    /// Raw numbers for sorting in the page.
    pub sort: SortKeys,
    pub problems: usize,
    pub errors: usize,
    /// Warning and error diagnostics as badges, or one `healthy` badge.
    pub diagnosis: Vec<DiagnosticRow<'a>>,
    /// The worst diagnostic severity (0 healthy or none, 1 info, 2 warning, 3 error), for sorting.
    pub diagnosis_rank: u8,
    /// Polyline points (`x,y x,y ...` in a 80x20 box) of the main loss, empty without one.
    pub spark: String,
    /// Which of final train, best train, final val, best val is the lowest of its column.
    pub best: [bool; 4],
    /// For a seed set's row: how many runs it stands for (0 for a run).
    pub seeds: usize,
    /// For a seed set's row: the seed param, and each loss cell's spread
    /// (`± 0.012 · 1.20 to 1.23`), shown on hover.
    pub seed_key: String,
    pub spread: [String; 4],
}

/// Numbers behind the formatted cells, for client-side sorting; written
/// with 7 significant digits (`1.169811e0`), which sorts as well as 17 do at
/// less than half the bytes a thousand rows would spend on them.
#[derive(Serialize, Default, Clone, Copy)]
pub struct SortKeys {
    #[serde(serialize_with = "sort_number")]
    pub final_train: Option<f64>,
    #[serde(serialize_with = "sort_number")]
    pub best_train: Option<f64>,
    #[serde(serialize_with = "sort_number")]
    pub final_val: Option<f64>,
    #[serde(serialize_with = "sort_number")]
    pub best_val: Option<f64>,
    #[serde(serialize_with = "sort_number")]
    pub gap: Option<f64>,
}

fn sort_number<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&format!("{v:.6e}")),
        None => s.serialize_none(),
    }
}

impl SortKeys {
    fn of(a: &Analyzed) -> SortKeys {
        let h = &a.headline;
        SortKeys {
            final_train: finite(h.final_train_loss),
            best_train: finite(h.best_train_loss),
            final_val: finite(h.final_val_loss),
            best_val: finite(h.best_val_loss),
            gap: finite(h.gap_percent),
        }
    }

    fn losses(&self) -> [Option<f64>; 4] {
        [
            self.final_train,
            self.best_train,
            self.final_val,
            self.best_val,
        ]
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// The table of `runs` (in the order given), seed sets found within each group.
pub fn runs_table<'a>(runs: &[&'a Analyzed]) -> RunsTable<'a> {
    let flats: Vec<BTreeMap<String, String>> = runs.iter().map(|a| a.run.flat_params()).collect();
    let param_columns = param_columns(&flats);
    let differing = differing_param_keys(&flats).len().min(param_columns.len());
    let all_keys: BTreeSet<&String> = flats.iter().flat_map(|f| f.keys()).collect();
    let mut rows: Vec<Option<RunRow<'a>>> = runs
        .iter()
        .zip(&flats)
        .map(|(a, flat)| Some(run_row(a, flat, &param_columns)))
        .collect();
    let (sets, set_of) = sets_by_run(runs);
    let mut entries = Vec::new();
    for i in 0..runs.len() {
        let Some(set) = set_of.get(&i).map(|&s| &sets[s]) else {
            entries.extend(rows[i].take().map(|row| Entry {
                seedset: false,
                rows: vec![row],
            }));
            continue;
        };
        if set.members[0] == i {
            let members: Vec<&Analyzed> = set.members.iter().map(|&m| runs[m]).collect();
            let head = seed_row(&members, set, &param_columns, &flats[i]);
            let runs = set.members.iter().filter_map(|&m| rows[m].take());
            entries.push(Entry {
                seedset: true,
                rows: std::iter::once(head)
                    .chain(runs.map(|row| RunRow {
                        kind: "member",
                        ..row
                    }))
                    .collect(),
            });
        }
    }
    mark_column_bests(&mut entries);
    RunsTable {
        shown_params: differing.min(MAX_PARAM_COLUMNS),
        differing_params: differing,
        hidden_params: all_keys
            .iter()
            .filter(|k| !is_bookkeeping_key(k))
            .count()
            .saturating_sub(param_columns.len()),
        param_columns,
        entries,
        runs: runs.len(),
    }
}

impl RunsTable<'_> {
    /// Link each row's group to its page: `pages` maps a group to its page's
    /// path from the site root (slug-made, so templates print it `safe`).
    pub fn link_groups(&mut self, pages: &BTreeMap<&str, String>) {
        for row in self.entries.iter_mut().flat_map(|e| &mut e.rows) {
            row.group_href = pages.get(row.group).cloned().unwrap_or_default();
        }
    }
}

/// Differing params first, then the rest that are configuration (not
/// bookkeeping), most widely present first, up to [`MAX_ALL_PARAM_COLUMNS`].
fn param_columns(flats: &[BTreeMap<String, String>]) -> Vec<String> {
    let mut columns = differing_param_keys(flats);
    let taken: BTreeSet<String> = columns.iter().cloned().collect();
    let mut shared: Vec<(usize, &String)> = flats
        .iter()
        .flat_map(|f| f.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| !taken.contains(*k) && !is_bookkeeping_key(k))
        .map(|k| (flats.iter().filter(|f| f.contains_key(k)).count(), k))
        .collect();
    shared.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    columns.extend(shared.into_iter().map(|(_, k)| k.clone()));
    columns.truncate(MAX_ALL_PARAM_COLUMNS);
    columns
}

/// The seed sets among `runs`, found group by group, their members as
/// positions in `runs`; and for each run in a set, which set.
fn sets_by_run(runs: &[&Analyzed]) -> (Vec<SeedSet>, BTreeMap<usize, usize>) {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, a) in runs.iter().enumerate() {
        groups.entry(a.run.group.as_str()).or_default().push(i);
    }
    let (mut sets, mut set_of) = (Vec::new(), BTreeMap::new());
    for positions in groups.values() {
        let members: Vec<&Analyzed> = positions.iter().map(|&i| runs[i]).collect();
        for mut set in seed_sets(&members) {
            set.members = set.members.iter().map(|&m| positions[m]).collect();
            for &i in &set.members {
                set_of.insert(i, sets.len());
            }
            sets.push(set);
        }
    }
    (sets, set_of)
}

fn run_row<'a>(a: &'a Analyzed, flat: &BTreeMap<String, String>, columns: &[String]) -> RunRow<'a> {
    let h = &a.headline;
    RunRow {
        kind: "run",
        id: &a.run.id,
        href: format!("runs/{}/index.html", a.run.id),
        name: a.run.name.clone(),
        group: &a.run.group,
        group_href: String::new(),
        date: a.run.date.as_deref(),
        format: &a.run.format,
        status: a.run.status.as_str(),
        status_reason: a.run.status_reason.clone(),
        params: columns
            .iter()
            .map(|k| flat.get(k).cloned().unwrap_or_default())
            .collect(),
        final_train: fmt_opt(h.final_train_loss),
        best_train: fmt_opt(h.best_train_loss),
        final_val: fmt_opt(h.final_val_loss),
        best_val: fmt_opt(h.best_val_loss),
        best_val_step: h.best_val_step.map(|s| s.to_string()).unwrap_or_default(),
        gap: h
            .gap_percent
            .map(|g| format!("{g:+.1}%"))
            .unwrap_or_default(),
        sort: SortKeys::of(a),
        problems: a.run.problems.len(),
        errors: a.run.error_count(),
        diagnosis: diagnosis_badges(a),
        diagnosis_rank: diagnosis_rank(a),
        spark: spark_points(&main_loss_values(a)),
        best: [false; 4],
        seeds: 0,
        seed_key: String::new(),
        spread: Default::default(),
    }
}

fn diagnosis_rank(a: &Analyzed) -> u8 {
    a.diagnostics
        .iter()
        .filter(|d| d.code != "healthy")
        .map(|d| d.severity as u8 + 1)
        .max()
        .unwrap_or(0)
}

/// A seed set's row: each loss the mean of its runs' (spread on hover), the
/// status theirs when they agree, every warning any of them has, the
/// sparkline of their mean loss, the params they share.
fn seed_row<'a>(
    members: &[&'a Analyzed],
    set: &SeedSet,
    columns: &[String],
    first_flat: &BTreeMap<String, String>,
) -> RunRow<'a> {
    let keys: Vec<SortKeys> = members.iter().map(|a| SortKeys::of(a)).collect();
    let column = |pick: fn(&SortKeys) -> Option<f64>| {
        let values: Vec<Option<f64>> = keys.iter().map(pick).collect();
        (mean_std(&values), values)
    };
    let cells = [
        column(|k| k.final_train),
        column(|k| k.best_train),
        column(|k| k.final_val),
        column(|k| k.best_val),
    ];
    let spread = |(stats, values): &(Option<(f64, f64)>, Vec<Option<f64>>)| match stats {
        None => String::new(),
        Some((_, std)) => {
            let finite: Vec<f64> = values.iter().flatten().copied().collect();
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!(
                "mean of {} runs · ± {} (std) · {} to {}",
                finite.len(),
                fmt_num(*std),
                fmt_num(lo),
                fmt_num(hi)
            )
        }
    };
    let mean = |i: usize| cells[i].0.map(|(m, _)| m);
    let statuses: BTreeSet<&str> = members.iter().map(|a| a.run.status.as_str()).collect();
    let status = match statuses.len() {
        1 => members[0].run.status.as_str(),
        _ if members.iter().any(|a| a.run.status == Status::Failed) => Status::Failed.as_str(),
        _ => "mixed",
    };
    let mut seen = BTreeSet::new();
    let mut diagnosis: Vec<DiagnosticRow> = members
        .iter()
        .flat_map(|a| diagnosis_badges(a))
        .filter(|d| seen.insert(d.code))
        .collect();
    if diagnosis.len() > 1 {
        diagnosis.retain(|d| d.code != "healthy");
    }
    let losses: Vec<Vec<f64>> = members.iter().map(|a| main_loss_values(a)).collect();
    let first = members[0];
    let gap = match (mean(2), mean(0)) {
        (Some(val), Some(train)) if train != 0.0 => Some((val - train) / train * 100.0),
        _ => None,
    };
    RunRow {
        kind: "seeds",
        id: &first.run.id,
        href: String::new(),
        name: set.label.clone(),
        group: &first.run.group,
        group_href: String::new(),
        date: None,
        format: &first.run.format,
        status,
        status_reason: format!("{} runs that differ only in their seed", members.len()),
        params: columns
            .iter()
            .map(|k| first_flat.get(k).cloned().unwrap_or_default())
            .collect(),
        final_train: fmt_opt(mean(0)),
        best_train: fmt_opt(mean(1)),
        final_val: fmt_opt(mean(2)),
        best_val: fmt_opt(mean(3)),
        best_val_step: String::new(),
        gap: gap.map(|g| format!("{g:+.1}%")).unwrap_or_default(),
        sort: SortKeys {
            final_train: mean(0),
            best_train: mean(1),
            final_val: mean(2),
            best_val: mean(3),
            gap,
        },
        problems: members.iter().map(|a| a.run.problems.len()).sum(),
        errors: members.iter().map(|a| a.run.error_count()).sum(),
        diagnosis_rank: members.iter().map(|a| diagnosis_rank(a)).max().unwrap_or(0),
        diagnosis,
        spark: spark_points(&mean_curve(&losses)),
        best: [false; 4],
        seeds: members.len(),
        seed_key: set.seed_key.clone(),
        spread: [0, 1, 2, 3].map(|i| spread(&cells[i])),
    }
}

/// The mean of several loss curves at [`SPARK_POINTS`] positions along each.
fn mean_curve(curves: &[Vec<f64>]) -> Vec<f64> {
    let means: Vec<Vec<f64>> = curves
        .iter()
        .filter(|c| c.len() >= 2)
        .map(|c| bucket_means(c, SPARK_POINTS).0)
        .filter(|m| m.len() == SPARK_POINTS)
        .collect();
    (0..SPARK_POINTS.min(means.first().map_or(0, Vec::len)))
        .map(|i| means.iter().map(|m| m[i]).sum::<f64>() / means.len() as f64)
        .collect()
}

/// `values` as polyline points (integers) in the [`SPARK_BOX`], bucket means of up to
/// [`SPARK_POINTS`]; empty with fewer than two values.
pub fn spark_points(values: &[f64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let (means, min, max) = bucket_means(values, SPARK_POINTS);
    let (w, h) = SPARK_BOX;
    let n = means.len();
    means
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 / (n - 1) as f64 * w;
            let y = if max > min {
                2.0 + (max - v) / (max - min) * (h - 4.0)
            } else {
                h / 2.0
            };
            format!("{},{}", x.round(), y.round())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Flag the lowest finite value of each loss column among the runs (ties:
/// every such row), and a seed set's row when its mean is the lowest mean.
fn mark_column_bests(entries: &mut [Entry]) {
    for column in 0..4 {
        let lowest = |rows: &mut dyn Iterator<Item = &RunRow>| {
            let values: Vec<f64> = rows.filter_map(|r| r.sort.losses()[column]).collect();
            (values.len() >= 2).then(|| values.into_iter().fold(f64::INFINITY, f64::min))
        };
        let run_best = lowest(&mut entries.iter().flat_map(|e| e.runs()));
        let set_best = lowest(&mut entries.iter().filter_map(|e| e.seeds()));
        for row in entries.iter_mut().flat_map(|e| &mut e.rows) {
            let best = if row.kind == "seeds" {
                set_best
            } else {
                run_best
            };
            row.best[column] = best.is_some() && row.sort.losses()[column] == best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, Run};

    fn run(name: &str, lr: &str, seed: &str, final_loss: f64) -> Analyzed {
        let mut run = Run::new(&format!("sweep/{name}"), "sweep", "x");
        run.params = serde_json::json!({"optimizer": {"lr": lr}, "seed": seed, "model": "m"});
        for step in 1..=5 {
            let v = final_loss + (5 - step) as f64;
            run.push_point("train/loss", "f", Point::at(step, v));
            run.push_point("val/loss", "f", Point::at(step, v + 0.5));
        }
        run.finish_metrics();
        crate::analyze::analyze(run, &crate::analyze::Thresholds::default())
    }

    #[test]
    fn seed_runs_fold_into_one_row_of_means_that_keeps_its_runs() {
        let runs = [
            run("lr-3e-4", "0.0003", "42", 1.0),
            run("lr-1e-3", "0.001", "42", 2.0),
            run("lr-3e-4-seed1", "0.0003", "1", 1.2),
            run("lr-3e-4-seed2", "0.0003", "2", 1.4),
        ];
        let refs: Vec<&Analyzed> = runs.iter().collect();
        let table = runs_table(&refs);
        assert_eq!(table.entries.len(), 2, "a seed set and a run");
        let set = &table.entries[0];
        let head = set.seeds().expect("the first entry is the seed set");
        assert_eq!((head.name.as_str(), head.seeds), ("lr-3e-4", 3));
        assert_eq!(head.seed_key, "seed");
        assert_eq!(
            head.sort.final_train,
            Some(1.2),
            "the mean of 1.0, 1.2, 1.4"
        );
        assert_eq!(
            head.spread[0],
            "mean of 3 runs · ± 0.2000 (std) · 1.0000 to 1.4000"
        );
        let names: Vec<&str> = set.runs().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["lr-3e-4", "lr-3e-4-seed1", "lr-3e-4-seed2"]);
        assert!(table.entries[1].seeds().is_none());
        assert!(set.runs().iter().all(|r| r.kind == "member"));
        // The lowest single run and the lowest set are each marked.
        assert!(set.runs()[0].best[0] && !set.runs()[1].best[0]);
        assert!(!head.best[0], "a lone set has no other set to beat");
        // Only lr differs: the seed differs too but is shown, `model` is behind "show all".
        assert_eq!(table.param_columns, ["optimizer.lr", "seed", "model"]);
        assert_eq!(table.shown_params, 2);
    }

    #[test]
    fn sparkline_points_fill_the_box_downward_for_a_falling_loss() {
        let pts = spark_points(&[4.0, 3.0, 2.0, 1.0]);
        assert_eq!(pts, "0,2 53,14 107,26 160,38");
        assert_eq!(spark_points(&[1.0]), "");
    }
}
