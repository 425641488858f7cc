//! `overfitting`: val loss rising after its best while train loss falls, or
//! a final gap between them too wide to ignore.

use super::robust::{median, show};
use super::{diagnostic, Curves};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::Diagnostic;
use crate::model::{ArtifactKind, EventKind, Severity};

/// Train points around a step that stand for the train loss there.
const TRAIN_WINDOW: usize = 5;

/// A warning when val loss rose well above its best for several evaluations
/// while train loss kept falling (with the checkpoint to go back to), else a
/// warning or info when the final val/train gap is wide.
pub fn overfitting(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    if c.val_finite.is_empty() || c.train_finite.is_empty() {
        return None;
    }
    rising_after_best(c, t).or_else(|| final_gap(c, t))
}

fn rising_after_best(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    let val = &c.val_finite;
    if val.len() < 2 {
        return None;
    }
    let (best_index, &(best_step, best)) = val
        .iter()
        .enumerate()
        .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then(a.0.cmp(&b.0)))?;
    let &(last_step, last) = val.last()?;
    let evals_since = val.len() - 1 - best_index;
    let rise = (last - best) / best.abs().max(f64::MIN_POSITIVE);
    if evals_since < t.overfit_evals_since_best || rise < t.overfit_min_rise {
        return None;
    }
    let train_at_best = train_near(&c.train_finite, best_step)?;
    let train_at_end = train_near(&c.train_finite, last_step)?;
    if train_at_end >= train_at_best {
        return None;
    }
    let mut message = format!(
        "overfitting: {} rose {:.0}% from its best {} at step {best_step} to {} at step {last_step} \
         ({evals_since} evaluations since) while {} kept falling ({} → {})",
        Curves::label(c.val, "val loss"),
        rise * 100.0,
        show(best),
        show(last),
        Curves::label(c.train, "train loss"),
        show(train_at_best),
        show(train_at_end)
    );
    match closest_checkpoint(c, best_step) {
        Some((name, step)) => message.push_str(&format!(
            "; keep the checkpoint closest to the best: {name} (step {step})"
        )),
        None => message.push_str(&format!(
            "; early stopping at step {best_step} would have kept the best"
        )),
    }
    Some(diagnostic(
        "overfitting",
        Severity::Warning,
        message,
        Some(best_step),
    ))
}

fn final_gap(c: &Curves, t: &Thresholds) -> Option<Diagnostic> {
    // The val series' own last point, finite or not: a NaN end is divergence, not a gap.
    let last = c.val?.points.last()?;
    if !last.value.is_finite() {
        return None;
    }
    let train = train_near(&c.train_finite, last.step)?;
    if train <= 0.0 {
        return None;
    }
    let gap = (last.value - train) / train;
    let (severity, lead) = if gap > t.overfit_gap_warning {
        (Severity::Warning, "overfitting")
    } else if gap > t.overfit_gap_info {
        (Severity::Info, "watch the gap")
    } else {
        return None;
    };
    let message = format!(
        "{lead}: {} ends {:.0}% above {} ({} vs {} at step {})",
        Curves::label(c.val, "val loss"),
        gap * 100.0,
        Curves::label(c.train, "train loss"),
        show(last.value),
        show(train),
        last.step
    );
    Some(diagnostic(
        "overfitting",
        severity,
        message,
        Some(last.step),
    ))
}

/// The median of the last few train points at or before `step`; none when
/// training had logged nothing yet (MLX-LM evaluates at step 1, before any train report).
fn train_near(train: &[(u64, f64)], step: u64) -> Option<f64> {
    let upto = train.partition_point(|p| p.0 <= step);
    let window = &train[upto.saturating_sub(TRAIN_WINDOW)..upto];
    median(&window.iter().map(|p| p.1).collect::<Vec<_>>())
}

/// The saved checkpoint nearest to `step`: from checkpoint events, else from
/// checkpoint folders whose name ends in a number (`checkpoint-1500`).
fn closest_checkpoint(c: &Curves, step: u64) -> Option<(String, u64)> {
    let from_events = c
        .run
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Checkpoint)
        .filter_map(|e| e.step.map(|s| (checkpoint_name(&e.message), s)));
    let from_folders = c
        .run
        .artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Checkpoint)
        .filter_map(|a| {
            let name = a.path.rsplit('/').next().unwrap_or(&a.path);
            trailing_number(name).map(|s| (name.to_string(), s))
        });
    from_folders
        .chain(from_events)
        .min_by_key(|(_, s)| (s.abs_diff(step), *s))
}

/// What a checkpoint event saved: the path it names (`Saving checkpoint to
/// out/step_1000` -> `out/step_1000`), else its message quoted.
fn checkpoint_name(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let path = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, '"' | '\'' | '.' | ',' | ':' | '(' | ')')))
        .rfind(|w| w.contains('/') || w.to_ascii_lowercase().contains("checkpoint"));
    match path {
        Some(path) if !path.is_empty() => path.chars().take(120).collect(),
        _ => format!("\"{}\"", line.chars().take(80).collect::<String>()),
    }
}

/// `checkpoint-1500` -> 1500, `step_200` -> 200.
fn trailing_number(name: &str) -> Option<u64> {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_checkpoints_by_their_path() {
        assert_eq!(
            checkpoint_name("Saving checkpoint to output/checkpoints/step_1000"),
            "output/checkpoints/step_1000"
        );
        assert_eq!(
            checkpoint_name("Saved adapter weights to adapters/0000200_adapters.safetensors."),
            "adapters/0000200_adapters.safetensors"
        );
        assert_eq!(checkpoint_name("model saved"), "\"model saved\"");
        assert_eq!(trailing_number("checkpoint-1500"), Some(1500));
        assert_eq!(trailing_number("final"), None);
    }
}
