//! Runs that differ only in their seed: found among one group's runs, drawn
//! in comparison charts as one mean line with a min-max band, and listed as
//! one row that expands.
//!
//! "Only in their seed" ignores params that name or place a run (its name,
//! output folder, start time) and those a trainer writes about how it went
//! (`global_step`, `best_metric`): they differ between seeds without saying
//! anything about the configuration.

use crate::analyze::Analyzed;
use std::collections::BTreeMap;

/// Buckets of a seed set's mean line: two or three per horizontal pixel of
/// the index chart would be more than the eye gets; fewer would blur evals.
const MEAN_BUCKETS: usize = 300;

/// Runs of one group that share every configuration param but their seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSet {
    /// Positions in the group's member list, in order.
    pub members: Vec<usize>,
    /// What the set is called: the runs' common name, else their shared differing params.
    pub label: String,
    /// The seed param (`seed`, `training.seed`).
    pub seed_key: String,
}

/// A param key that holds a seed: `seed`, `training.seed`, `data_seed`, `random_state`.
pub fn is_seed_key(key: &str) -> bool {
    let last = last_segment(key);
    last == "seed" || last.ends_with("_seed") || last.ends_with("-seed") || last == "random_state"
}

/// A key that names, places or dates a run, or that records how the run went
/// (a trainer's `global_step`, a tracker's `results.best_val_loss`): not part
/// of what was configured.
pub fn is_bookkeeping_key(key: &str) -> bool {
    const NAMES: &[&str] = &[
        "name",
        "run_name",
        "run_id",
        "id",
        "experiment_id",
        "experiment_name",
        "exp_name",
        "output_dir",
        "logging_dir",
        "out_dir",
        "save_dir",
        "config",
        "hub_model_id",
        "created",
        "username",
        "user",
        "artifacts",
        "description",
        // What HF's trainer_state.json records about the run it finished.
        "global_step",
        "best_global_step",
        "best_metric",
        "best_model_checkpoint",
        "epoch",
        "total_flos",
        "num_input_tokens_seen",
        "trial_name",
    ];
    let last = last_segment(key);
    // Results some writers keep beside their config (`results.best_val_loss`, `summary.loss`).
    let outcome = key
        .split('.')
        .any(|part| matches!(part, "results" | "metrics" | "summary"))
        || last.starts_with("final_")
        || last.starts_with("best_")
        || last.ends_with("_loss")
        || last == "loss";
    NAMES.contains(&last.as_str())
        || outcome
        || last.ends_with("_dir")
        || last.ends_with("_path")
        || key.starts_with("tags.")
}

fn last_segment(key: &str) -> String {
    key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase()
}

/// The seed sets among `members` (one group's runs): two or more runs whose
/// params are the same but for bookkeeping and a seed key whose values all
/// differ. Runs without params never form a set: nothing says they share a
/// configuration.
pub fn seed_sets(members: &[&Analyzed]) -> Vec<SeedSet> {
    let flats: Vec<BTreeMap<String, String>> =
        members.iter().map(|a| a.run.flat_params()).collect();
    seed_sets_of(&flats, &names(members))
}

fn names<'a>(members: &[&'a Analyzed]) -> Vec<&'a str> {
    members.iter().map(|a| a.run.name.as_str()).collect()
}

/// [`seed_sets`] on flattened params and names.
pub fn seed_sets_of(flats: &[BTreeMap<String, String>], names: &[&str]) -> Vec<SeedSet> {
    let mut classes: BTreeMap<Vec<(&str, &str)>, Vec<usize>> = BTreeMap::new();
    for (i, flat) in flats.iter().enumerate() {
        let config: Vec<(&str, &str)> = flat
            .iter()
            .filter(|(k, _)| !is_seed_key(k) && !is_bookkeeping_key(k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if !config.is_empty() {
            classes.entry(config).or_default().push(i);
        }
    }
    let mut sets: Vec<SeedSet> = classes
        .into_values()
        .filter(|members| members.len() >= 2)
        .filter_map(|members| {
            let seed_key = seed_key_of(flats, &members)?;
            Some(SeedSet {
                label: label_of(flats, names, &members),
                members,
                seed_key,
            })
        })
        .collect();
    sets.sort_by_key(|s| s.members[0]);
    sets
}

/// The seed key every member has, with a different value in each.
fn seed_key_of(flats: &[BTreeMap<String, String>], members: &[usize]) -> Option<String> {
    let first = &flats[members[0]];
    first
        .keys()
        .filter(|k| is_seed_key(k))
        .find(|key| {
            let values: Vec<Option<&String>> =
                members.iter().map(|&i| flats[i].get(*key)).collect();
            let distinct: std::collections::BTreeSet<&Option<&String>> = values.iter().collect();
            values.iter().all(Option::is_some) && distinct.len() == values.len()
        })
        .cloned()
}

/// The members' common name (`lr-3e-4` of `lr-3e-4-seed1`, `lr-3e-4-seed2`),
/// else the params that set them apart from the rest of the group, else the
/// first member's name.
fn label_of(flats: &[BTreeMap<String, String>], names: &[&str], members: &[usize]) -> String {
    let first = names[members[0]];
    let common = members.iter().fold(first.len(), |len, &i| {
        first
            .bytes()
            .zip(names[i].bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let mut prefix =
        first[..floor_char_boundary(first, common)].trim_end_matches(['-', '_', ' ', '.', '/']);
    for word in ["seed", "s"] {
        if let Some(rest) = prefix.strip_suffix(word) {
            if rest.ends_with(['-', '_', ' ', '.']) {
                prefix = rest.trim_end_matches(['-', '_', ' ', '.']);
            }
        }
    }
    if prefix.chars().count() >= 3 {
        return prefix.to_string();
    }
    let mine = &flats[members[0]];
    let telling: Vec<String> = super::view::differing_param_keys(flats)
        .into_iter()
        .filter(|k| !is_seed_key(k) && !is_bookkeeping_key(k))
        .filter_map(|k| Some(format!("{}={}", last_segment(&k), mine.get(&k)?)))
        .take(3)
        .collect();
    match telling.is_empty() {
        true => first.to_string(),
        false => telling.join(", "),
    }
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A spread around a line: `(x, low, high)`.
pub type Band = Vec<(f64, f64, f64)>;

/// The mean of several runs' series (`(step, value)`, in step order) and its
/// min-max band, on up to [`MEAN_BUCKETS`] buckets of step: each run's
/// points in a bucket are averaged, then the runs' averages give the mean,
/// low and high at the bucket's mean step. A run whose bucket is all
/// non-finite makes the mean non-finite there, so a seed that diverged
/// breaks the line rather than vanishing from it.
pub fn mean_and_band(series: &[&[(f64, f64)]]) -> (Vec<(f64, f64)>, Band) {
    let steps = || {
        series
            .iter()
            .flat_map(|s| s.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
    };
    let first = steps().fold(f64::INFINITY, f64::min);
    let last = steps().fold(f64::NEG_INFINITY, f64::max);
    if !(first.is_finite() && last.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    let longest = series.iter().map(|s| s.len()).max().unwrap_or(0);
    let buckets = MEAN_BUCKETS.min(longest).max(1);
    let span = (last - first).max(f64::MIN_POSITIVE);
    let bucket_of = |x: f64| ((((x - first) / span) * buckets as f64) as usize).min(buckets - 1);
    // Per run and bucket: (sum of finite values, finite count, all count).
    let mut runs: Vec<Vec<(f64, usize, usize)>> = vec![vec![(0.0, 0, 0); buckets]; series.len()];
    let mut step_sum = vec![(0.0f64, 0usize); buckets];
    for (r, points) in series.iter().enumerate() {
        for &(x, value) in points.iter().filter(|p| p.0.is_finite()) {
            let b = bucket_of(x);
            step_sum[b].0 += x;
            step_sum[b].1 += 1;
            let cell = &mut runs[r][b];
            cell.2 += 1;
            if value.is_finite() {
                cell.0 += value;
                cell.1 += 1;
            }
        }
    }
    let (mut mean, mut band) = (Vec::new(), Vec::new());
    for b in 0..buckets {
        let (sum, count) = step_sum[b];
        if count == 0 {
            continue;
        }
        let x = sum / count as f64;
        let values: Vec<f64> = runs
            .iter()
            .filter(|cells| cells[b].2 > 0)
            .map(|cells| match cells[b].1 {
                0 => f64::NAN,
                n => cells[b].0 / n as f64,
            })
            .collect();
        let m = values.iter().sum::<f64>() / values.len() as f64;
        mean.push((x, m));
        if m.is_finite() {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            band.push((x, lo, hi));
        } else {
            band.push((x, f64::NAN, f64::NAN));
        }
    }
    (mean, band)
}

/// Mean and sample standard deviation of the finite values, when there are any.
pub fn mean_std(values: &[Option<f64>]) -> Option<(f64, f64)> {
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if finite.is_empty() {
        return None;
    }
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = match finite.len() {
        1 => 0.0,
        _ => finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0),
    };
    Some((mean, var.sqrt()))
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
    fn runs_that_differ_only_in_seed_form_a_set() {
        let flats = vec![
            flat(&[
                ("optimizer.lr", "0.0003"),
                ("seed", "42"),
                ("output_dir", "a"),
            ]),
            flat(&[
                ("optimizer.lr", "0.001"),
                ("seed", "42"),
                ("output_dir", "b"),
            ]),
            flat(&[
                ("optimizer.lr", "0.0003"),
                ("seed", "1"),
                ("output_dir", "c"),
            ]),
            flat(&[
                ("optimizer.lr", "0.0003"),
                ("seed", "2"),
                ("global_step", "900"),
            ]),
            // Same lr and seed as the first: a rerun, not another seed.
            flat(&[("optimizer.lr", "0.001"), ("seed", "42")]),
        ];
        let names = [
            "lr-3e-4",
            "lr-1e-3",
            "lr-3e-4-seed1",
            "lr-3e-4-seed2",
            "lr-1e-3-again",
        ];
        let sets = seed_sets_of(&flats, &names);
        assert_eq!(
            sets,
            vec![SeedSet {
                members: vec![0, 2, 3],
                label: "lr-3e-4".into(),
                seed_key: "seed".into(),
            }]
        );
    }

    #[test]
    fn a_set_without_a_common_name_is_labelled_by_its_params() {
        let flats = vec![
            flat(&[("train.lr", "0.1"), ("train.seed", "0")]),
            flat(&[("train.lr", "0.1"), ("train.seed", "1")]),
            flat(&[("train.lr", "0.2"), ("train.seed", "0")]),
        ];
        let sets = seed_sets_of(&flats, &["alpha", "beta", "gamma"]);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].label, "lr=0.1");
        assert_eq!(sets[0].seed_key, "train.seed");
        // No params at all: nothing says the runs share a configuration.
        assert!(seed_sets_of(&[flat(&[]), flat(&[])], &["a", "b"]).is_empty());
        assert!(
            is_seed_key("data_seed")
                && is_seed_key("cfg.random_state")
                && !is_seed_key("seeds_file")
        );
    }

    fn series(values: &[(u64, f64)]) -> Vec<(f64, f64)> {
        values.iter().map(|&(s, v)| (s as f64, v)).collect()
    }

    #[test]
    fn mean_and_band_follow_the_seeds() {
        let a = series(&[(10, 3.0), (20, 2.0), (30, 1.0)]);
        let b = series(&[(10, 5.0), (20, 4.0), (30, 3.0)]);
        let (mean, band) = mean_and_band(&[&a, &b]);
        assert_eq!(mean, vec![(10.0, 4.0), (20.0, 3.0), (30.0, 2.0)]);
        assert_eq!(
            band,
            vec![(10.0, 3.0, 5.0), (20.0, 2.0, 4.0), (30.0, 1.0, 3.0)]
        );
        // A seed that diverged breaks the mean where it did.
        let c = series(&[(10, 3.0), (20, f64::NAN), (30, f64::NAN)]);
        let (mean, band) = mean_and_band(&[&a, &c]);
        assert_eq!(mean[0], (10.0, 3.0));
        assert!(mean[1].1.is_nan() && band[1].1.is_nan());
        // A long series is bucketed, the mean staying between the runs.
        let long_a: Vec<(f64, f64)> = (1..=10_000).map(|s| (s as f64, 1.0)).collect();
        let long_b: Vec<(f64, f64)> = (1..=10_000).map(|s| (s as f64, 3.0)).collect();
        let (mean, band) = mean_and_band(&[&long_a, &long_b]);
        assert_eq!(mean.len(), MEAN_BUCKETS);
        assert!(mean.iter().all(|p| p.1 == 2.0));
        assert!(band.iter().all(|b| b.1 == 1.0 && b.2 == 3.0));
        assert_eq!(mean_and_band(&[]), (vec![], vec![]));
    }

    #[test]
    fn mean_and_std_of_finite_values() {
        assert_eq!(
            mean_std(&[Some(1.0), Some(3.0), None, Some(f64::NAN)]),
            Some((2.0, 2f64.sqrt()))
        );
        assert_eq!(mean_std(&[None]), None);
    }
}
