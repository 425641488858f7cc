//! `runboard.toml` at ROOT: a project's settings, read before any run.
//!
//! Two tables, both optional: `[diagnostics]` (the thresholds of
//! [`crate::analyze::Thresholds`]) and `[charts]` (`smoothing`). Unknown
//! tables and keys are errors, so a typo never silently keeps a default.
//! Flags win over the file: `--set name=value` for a threshold, `--smoothing W`.

use crate::analyze::Thresholds;
use crate::render::{ChartOptions, DEFAULT_SMOOTHING};
use serde::Deserialize;

/// The file at ROOT.
pub const CONFIG_FILE: &str = "runboard.toml";
/// The largest smoothing weight (1 would never move off the first value).
pub const MAX_SMOOTHING: f64 = 0.999;

/// Everything `runboard.toml` can say.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub diagnostics: Thresholds,
    #[serde(default)]
    pub charts: ChartSettings,
}

/// The `[charts]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChartSettings {
    /// TensorBoard's EMA weight, 0 (off) to 0.999.
    pub smoothing: f64,
}

impl Default for ChartSettings {
    fn default() -> ChartSettings {
        ChartSettings {
            smoothing: DEFAULT_SMOOTHING,
        }
    }
}

impl Settings {
    /// Parse a `runboard.toml` text.
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        let settings: Settings = toml::from_str(text).map_err(|e| e.to_string())?;
        check_smoothing(settings.charts.smoothing)?;
        Ok(settings)
    }

    /// The chart options these settings ask for.
    pub fn chart_options(&self) -> ChartOptions {
        ChartOptions {
            smoothing: self.charts.smoothing,
        }
    }
}

/// A smoothing weight must lie in 0..=0.999.
pub fn check_smoothing(weight: f64) -> Result<f64, String> {
    if (0.0..=MAX_SMOOTHING).contains(&weight) {
        Ok(weight)
    } else {
        Err(format!(
            "smoothing must be between 0 (off) and {MAX_SMOOTHING}, not {weight}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_are_optional_and_typos_are_errors() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.charts.smoothing, DEFAULT_SMOOTHING);
        assert_eq!(s.diagnostics, Thresholds::default());
        let s = Settings::from_toml("[charts]\nsmoothing = 0\n[diagnostics]\nmin_points = 20\n")
            .unwrap();
        assert_eq!((s.charts.smoothing, s.diagnostics.min_points), (0.0, 20));
        assert!(Settings::from_toml("[chart]\nsmoothing = 0.5\n").is_err());
        assert!(Settings::from_toml("[charts]\nsmooth = 0.5\n").is_err());
        let err = Settings::from_toml("[charts]\nsmoothing = 1.0\n").unwrap_err();
        assert!(err.contains("between 0 (off) and 0.999"), "{err}");
    }
}
