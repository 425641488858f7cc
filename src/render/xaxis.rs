//! Other x axes than the step: wall time since the start, epoch, and tokens
//! seen, when the run records them, so a loss can be read against the clock
//! or the data as well as the optimizer.
//!
//! A run seldom records these on every point (validation lines often carry a
//! step alone), so each axis is a map from step to x taken from the one series
//! that records it most, and a point without its own value is placed by linear
//! interpolation between the steps around it. Outside the map's steps nothing
//! is guessed: such a point is left off that view (the step view has it).

use crate::model::{Family, Point, Run, Series};

/// An x coordinate a chart can be drawn against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    Step,
    WallTime,
    Epoch,
    Tokens,
}

impl XAxis {
    /// For file names and element ids.
    pub fn key(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::WallTime => "wall_time",
            XAxis::Epoch => "epoch",
            XAxis::Tokens => "tokens",
        }
    }

    /// For people: the switch on the page.
    pub fn name(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::WallTime => "wall time",
            XAxis::Epoch => "epoch",
            XAxis::Tokens => "tokens",
        }
    }
}

/// How one run's steps map to another x coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct XMap {
    pub axis: XAxis,
    /// Under the axis, with its unit: `wall time (min)`.
    pub label: String,
    /// `(step, x)` by increasing step, one per step, x never decreasing.
    pairs: Vec<(u64, f64)>,
    /// x is divided by this when drawn (seconds to minutes or hours).
    unit: f64,
}

impl XMap {
    /// The x of `p` in display units: its own value when it has one, else
    /// interpolated from the map; `None` outside the map's steps.
    pub fn x_of(&self, p: &Point) -> Option<f64> {
        let own = match self.axis {
            XAxis::WallTime => p.wall_time,
            XAxis::Epoch => p.epoch,
            XAxis::Step | XAxis::Tokens => None,
        };
        let x = own
            .filter(|x| x.is_finite())
            .or_else(|| self.at_step(p.step))?;
        Some(x / self.unit)
    }

    /// `series` as `(x, value)` on this axis, points the map cannot place left off.
    pub fn line(&self, series: &Series) -> Vec<(f64, f64)> {
        series
            .points
            .iter()
            .filter_map(|p| Some((self.x_of(p)?, p.value)))
            .collect()
    }

    fn at_step(&self, step: u64) -> Option<f64> {
        let i = self.pairs.partition_point(|(s, _)| *s < step);
        let (s1, x1) = *self.pairs.get(i)?;
        if s1 == step {
            return Some(x1);
        }
        let (s0, x0) = *self.pairs.get(i.checked_sub(1)?)?;
        Some(x0 + (x1 - x0) * (step - s0) as f64 / (s1 - s0) as f64)
    }
}

/// The x axes besides the step that `run` can be drawn against, in the order
/// the page offers them: wall time, epoch, tokens.
pub fn alternatives(run: &Run) -> Vec<XMap> {
    let mut maps = Vec::new();
    if let Some(pairs) = richest(run, |p| p.wall_time) {
        let last = pairs.last().map_or(0.0, |p| p.1);
        let (unit, name) = match last {
            t if t < 120.0 => (1.0, "s"),
            t if t < 2.0 * 3600.0 => (60.0, "min"),
            t if t < 48.0 * 3600.0 => (3600.0, "h"),
            _ => (86_400.0, "days"),
        };
        maps.push(XMap {
            axis: XAxis::WallTime,
            label: format!("wall time ({name})"),
            pairs,
            unit,
        });
    }
    // An epoch that is the step (Keras CSV logs count by epoch) is no other view.
    if let Some(pairs) =
        richest(run, |p| p.epoch).filter(|p| p.iter().any(|(s, e)| *s as f64 != *e))
    {
        maps.push(XMap {
            axis: XAxis::Epoch,
            label: "epoch".into(),
            pairs,
            unit: 1.0,
        });
    }
    let tokens = run.metrics.iter().find(|s| is_token_count(s));
    if let Some(pairs) = tokens.and_then(|s| usable(s.points.iter().map(|p| (p.step, p.value)))) {
        maps.push(XMap {
            axis: XAxis::Tokens,
            label: "tokens".into(),
            pairs,
            unit: 1.0,
        });
    }
    maps
}

/// A cumulative count of tokens (`trained_tokens`, `num_input_tokens_seen`),
/// not a rate: the word `tokens` in a series that is not throughput.
fn is_token_count(series: &Series) -> bool {
    let lower = series.name.to_ascii_lowercase();
    series.family == Family::Other
        && lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "tokens")
}

/// The map from the series that records `coordinate` on the most points.
fn richest(run: &Run, coordinate: impl Fn(&Point) -> Option<f64>) -> Option<Vec<(u64, f64)>> {
    let count = |s: &Series| s.points.iter().filter(|p| coordinate(p).is_some()).count();
    let series = run
        .metrics
        .iter()
        .map(|s| (count(s), s))
        .filter(|(n, _)| *n >= 2)
        // max_by_key keeps the last of equals; reverse so the first in display order wins.
        .rev()
        .max_by_key(|(n, _)| *n)?
        .1;
    usable(
        series
            .points
            .iter()
            .filter_map(|p| Some((p.step, coordinate(p)?))),
    )
}

/// `(step, x)` pairs as a map: finite x only, the first of each step; `None`
/// unless x never goes back (a restarted clock is no axis) and moves at all.
fn usable(pairs: impl Iterator<Item = (u64, f64)>) -> Option<Vec<(u64, f64)>> {
    let mut out: Vec<(u64, f64)> = Vec::new();
    for (step, x) in pairs.filter(|(_, x)| x.is_finite()) {
        match out.last() {
            Some(&(s, _)) if s == step => continue,
            Some(&(_, last)) if x < last => return None,
            _ => out.push((step, x)),
        }
    }
    let moves = out.len() >= 2 && out.last()?.1 > out.first()?.1;
    moves.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: u64, value: f64, wall_time: Option<f64>, epoch: Option<f64>) -> Point {
        Point {
            step,
            value,
            wall_time,
            epoch,
        }
    }

    fn run_with(series: Vec<(&str, Vec<Point>)>) -> Run {
        let mut run = Run::new("r", "", "x");
        for (name, points) in series {
            for p in points {
                run.push_point(name, "f", p);
            }
        }
        run.finish_metrics();
        run
    }

    #[test]
    fn wall_time_and_epoch_place_points_without_their_own() {
        let train = (1..=10)
            .map(|i| point(i * 10, 1.0, Some(i as f64 * 1200.0), Some(i as f64 / 10.0)))
            .collect();
        let val = vec![
            point(50, 2.0, None, None),
            point(55, 2.0, None, None),
            point(200, 2.0, None, None),
        ];
        let run = run_with(vec![("train/loss", train), ("val/loss", val)]);
        let maps = alternatives(&run);
        let axes: Vec<XAxis> = maps.iter().map(|m| m.axis).collect();
        assert_eq!(axes, vec![XAxis::WallTime, XAxis::Epoch]);
        assert_eq!(maps[0].label, "wall time (h)");
        let val_series = run.metrics.iter().find(|s| s.name == "val/loss").unwrap();
        // Step 50 is at 6000 s; 55 halfway to step 60; 200 is past the map.
        let xs: Vec<f64> = maps[0].line(val_series).iter().map(|p| p.0).collect();
        assert_eq!(xs.len(), 2);
        assert!((xs[0] - 6000.0 / 3600.0).abs() < 1e-12 && (xs[1] - 6600.0 / 3600.0).abs() < 1e-12);
        let epochs: Vec<f64> = maps[1].line(val_series).iter().map(|p| p.0).collect();
        assert!((epochs[1] - 0.55).abs() < 1e-12, "{epochs:?}");
    }

    #[test]
    fn a_token_count_is_an_axis_and_a_rate_is_not() {
        let tokens = (1..=5)
            .map(|i| point(i, i as f64 * 1000.0, None, None))
            .collect();
        let rate = (1..=5).map(|i| point(i, 500.0, None, None)).collect();
        let loss = (1..=5).map(|i| point(i, 1.0, None, None)).collect();
        let run = run_with(vec![("tokens_per_sec", rate), ("train_loss", loss)]);
        assert!(alternatives(&run).is_empty());
        let run = run_with(vec![
            ("trained_tokens", tokens),
            ("train_loss", run.metrics[0].points.clone()),
        ]);
        let maps = alternatives(&run);
        assert_eq!(maps.len(), 1);
        assert_eq!(
            (maps[0].axis, maps[0].label.as_str()),
            (XAxis::Tokens, "tokens")
        );
    }

    #[test]
    fn an_epoch_equal_to_the_step_or_a_clock_that_restarts_is_no_axis() {
        let by_epoch = (1..=5)
            .map(|i| {
                point(
                    i,
                    1.0,
                    Some([1.0, 2.0, 3.0, 1.0, 2.0][i as usize - 1]),
                    Some(i as f64),
                )
            })
            .collect();
        assert!(alternatives(&run_with(vec![("loss", by_epoch)])).is_empty());
    }
}
