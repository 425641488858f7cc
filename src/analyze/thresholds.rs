//! Every number the diagnostics judge by, in one place, with its default.
//!
//! A project tunes them in `runboard.toml` at ROOT (a `[diagnostics]` table,
//! read by `crate::settings`)
//! or for one build with `--set name=value`; the README lists them. Unknown
//! names are errors, so a typo never silently keeps a default.

use serde::{Deserialize, Serialize};

/// Thresholds of the diagnostics. Fractions are of the value they compare to
/// (0.15 = 15%); counts are evaluations or points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// `overfitting` warning when the final (val - train) / train gap exceeds this.
    pub overfit_gap_warning: f64,
    /// `overfitting` info ("watch the gap") when the final gap exceeds this.
    pub overfit_gap_info: f64,
    /// `overfitting` warning when the best val loss is at least this many
    /// evaluations before the last one...
    pub overfit_evals_since_best: usize,
    /// ...and the last val loss is above the best by at least this fraction.
    pub overfit_min_rise: f64,
    /// `underfitting` when the train loss fell by less than this fraction of its start.
    pub underfit_min_drop: f64,
    /// `underfitting` when, at the rate of the last fifth of the run, another
    /// run's length would drop the loss by more than this fraction of what it
    /// has dropped so far ("still falling steeply").
    pub underfit_still_falling: f64,
    /// `diverged` when the smoothed loss climbs above this multiple of its
    /// running minimum and above its start (non-finite values always count).
    pub diverge_factor: f64,
    /// `loss_spike` when a point exceeds its local median by this many robust
    /// standard deviations (MAD × 1.4826)...
    pub spike_sigmas: f64,
    /// ...and by at least this fraction of the local median.
    pub spike_min_rise: f64,
    /// `plateau` looks at this last fraction of the run...
    pub plateau_fraction: f64,
    /// ...and fires when the loss improved by less than this fraction there.
    pub plateau_min_improvement: f64,
    /// Fewer points than this in a series: too few to judge trends.
    pub min_points: usize,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            overfit_gap_warning: 0.15,
            overfit_gap_info: 0.05,
            overfit_evals_since_best: 3,
            overfit_min_rise: 0.05,
            underfit_min_drop: 0.15,
            underfit_still_falling: 0.35,
            diverge_factor: 3.0,
            spike_sigmas: 8.0,
            spike_min_rise: 0.5,
            plateau_fraction: 0.25,
            plateau_min_improvement: 0.01,
            min_points: 10,
        }
    }
}

/// The `[diagnostics]` table of a TOML text (other tables are
/// `crate::settings`' business).
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    diagnostics: Thresholds,
}

impl Thresholds {
    /// The thresholds of a `runboard.toml` text (defaults for what it leaves out).
    pub fn from_toml(text: &str) -> Result<Thresholds, String> {
        toml::from_str::<ConfigFile>(text)
            .map(|c| c.diagnostics)
            .map_err(|e| e.to_string())
    }

    /// Apply one `name=value` override (from `--set`).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("expected name=value, got {assignment:?}"))?;
        let (name, value) = (name.trim(), value.trim());
        let text = format!("[diagnostics]\n{name} = {value}\n");
        let parsed = Thresholds::from_toml(&text)
            .map_err(|e| format!("--set {name}={value}: {}", e.lines().last().unwrap_or(&e)))?;
        // Copy over only the one field that was named: reading it back through
        // serde keeps the names in one place (the struct) instead of a match.
        let mut merged = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        let given = serde_json::to_value(&parsed).map_err(|e| e.to_string())?;
        merged[name] = given[name].clone();
        *self = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_what_it_names() {
        let t = Thresholds::from_toml("[diagnostics]\noverfit_gap_warning = 0.2\n").unwrap();
        assert_eq!(t.overfit_gap_warning, 0.2);
        assert_eq!(t.underfit_min_drop, Thresholds::default().underfit_min_drop);
        assert_eq!(Thresholds::from_toml("").unwrap(), Thresholds::default());
    }

    #[test]
    fn typos_and_wrong_types_are_errors() {
        let err = Thresholds::from_toml("[diagnostics]\noverfit_gap = 0.2\n").unwrap_err();
        assert!(err.contains("overfit_gap"), "{err}");
        assert!(Thresholds::from_toml("[diagnostics]\nmin_points = \"ten\"\n").is_err());
    }

    #[test]
    fn set_changes_one_value() {
        let mut t = Thresholds::default();
        t.set("plateau_fraction = 0.3").unwrap();
        t.set("min_points=20").unwrap();
        assert_eq!((t.plateau_fraction, t.min_points), (0.3, 20));
        assert_eq!(t.spike_sigmas, Thresholds::default().spike_sigmas);
        assert!(t.set("nonsense=1").is_err());
        assert!(t.set("plateau_fraction").is_err());
        assert!(t.set("min_points=-1").is_err());
    }
}
