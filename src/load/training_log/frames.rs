//! tqdm progress frames: `Training:  10%|█ | 10/100 [00:01<00:09, 9.1it/s, loss=2.1]`.
//!
//! tqdm redraws its bar with `\r`, so one physical line of a log can hold
//! thousands of frames; the log reader splits them and this module reads one:
//! the bar's description, its step and its `loss=` postfix, and whether it
//! counts training steps at all (evaluation bars count eval batches). A loss
//! that does not parse is kept as its text, so the warning can quote it.

/// One tqdm progress frame.
pub(super) struct Frame<'a> {
    /// The bar's description (`Training`), as written.
    description: &'a str,
    /// `N` of `N/M` (or of `Nit` when the total is unknown).
    pub(super) step: Option<u64>,
    /// The `loss=X` postfix: its parsed value, or the text that did not parse.
    pub(super) loss: Option<Result<f64, &'a str>>,
    /// Seconds elapsed since the bar started: the `12:34` of `[12:34<56:00, ...]`.
    pub(super) elapsed: Option<f64>,
}

impl Frame<'_> {
    /// True for a bar of training steps: not an evaluation bar, and either
    /// reporting a loss or described as training.
    pub(super) fn counts_training_steps(&self) -> bool {
        let description = self.description.to_ascii_lowercase();
        // Evaluation bars count eval batches, not training steps.
        if ["val", "eval", "test"]
            .iter()
            .any(|w| description.contains(w))
        {
            return false;
        }
        self.loss.is_some() || description.contains("train")
    }
}

/// A tqdm frame has a bar (`%|`) or a rate inside brackets (`[00:02, 4.28it/s]`).
pub(super) fn is_frame(segment: &str) -> bool {
    segment.contains("%|")
        || segment.split_once('[').is_some_and(|(_, tail)| {
            tail.contains("it/s") || tail.contains("s/it") || tail.contains("it]")
        })
}

/// The frame in one `\r`-separated segment, or `None` when it is not one.
pub(super) fn parse_frame(segment: &str) -> Option<Frame<'_>> {
    if !is_frame(segment) {
        return None;
    }
    let bar_end = segment.find(['|', '[']).unwrap_or(segment.len());
    let description = segment[..bar_end].split(':').next().unwrap_or("").trim();
    let before_postfix = segment.split('[').next().unwrap_or("");
    let step = before_postfix
        .split(|c: char| c.is_whitespace() || c == '|')
        .filter_map(|token| match token.split_once('/') {
            Some((n, _)) => n.parse::<u64>().ok(),
            None => token.strip_suffix("it").and_then(|n| n.parse::<u64>().ok()),
        })
        .next_back();
    Some(Frame {
        description,
        step,
        loss: find_loss(segment),
        elapsed: find_elapsed(segment),
    })
}

/// tqdm's elapsed time, `[MM:SS<...` or `[H:MM:SS<...` (also `[MM:SS, ...` when
/// the total is unknown), in seconds.
pub(super) fn find_elapsed(segment: &str) -> Option<f64> {
    let (_, bracket) = segment.rsplit_once('[')?;
    let clock = bracket.split(['<', ',', ']']).next()?.trim();
    let mut seconds = 0.0;
    let mut parts = 0;
    for part in clock.split(':') {
        let n: u32 = part.parse().ok()?;
        seconds = seconds * 60.0 + f64::from(n);
        parts += 1;
    }
    (2..=3).contains(&parts).then_some(seconds)
}

/// The value of a `loss=` key (not `val_loss=`) in a tqdm postfix.
pub(super) fn find_loss(segment: &str) -> Option<Result<f64, &str>> {
    let mut from = 0;
    while let Some(found) = segment[from..].find("loss=") {
        let at = from + found;
        from = at + "loss=".len();
        let is_own_key = segment[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if is_own_key {
            let rest = &segment[from..];
            let raw = rest.split([',', ']', ' ']).next().unwrap_or("").trim();
            return Some(raw.parse::<f64>().map_err(|_| raw));
        }
    }
    None
}

#[cfg(test)]
mod elapsed_tests {
    use super::*;

    #[test]
    fn reads_tqdm_elapsed_time() {
        assert_eq!(
            find_elapsed("Training:  10%|█ | 10/100 [00:12<01:48, 0.8it/s, loss=2.1]"),
            Some(12.0)
        );
        assert_eq!(
            find_elapsed("Training: 50%|█| 5/10 [1:02:03<1:02:03, 1.3s/it, loss=2]"),
            Some(3723.0)
        );
        assert_eq!(
            find_elapsed("Training: 5it [00:07, 0.7it/s, loss=2]"),
            Some(7.0)
        );
        assert_eq!(
            find_elapsed("Training:   0%|          | 0/1000 [00:00<?, ?it/s]"),
            Some(0.0)
        );
        assert_eq!(find_elapsed("Training: [x<y]"), None);
        assert_eq!(find_elapsed("no bracket"), None);
    }
}

#[cfg(test)]
mod tests {
    use crate::load::training_log::fixtures::{events, read_log, values};
    use crate::model::EventKind;

    #[test]
    fn every_tqdm_frame_on_one_line_is_a_point() {
        let text = "Starting training\n\rTraining:   1%|          | 10/1000 [00:12<00:00, 0.82it/s, loss=3.4943]\
                    \rTraining:   2%|          | 20/1000 [00:24<00:00, 0.82it/s, loss=3.3699]\
                    \rTraining:   3%|          | 30/1000 [00:36<00:00, 0.82it/s, loss=3.0337]\n";
        let run = read_log(text);
        assert_eq!(
            values(&run, "loss"),
            vec![(10, 3.4943), (20, 3.3699), (30, 3.0337)]
        );
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(events(&run, EventKind::Start)[0].line, Some(1));
    }

    #[test]
    fn non_finite_losses_are_kept() {
        let text =
            "\rTraining: 1%| | 1/100 [00:01, loss=nan]\rTraining: 2%| | 2/100 [00:01, loss=inf]\
                    \rTraining: 3%| | 3/100 [00:01, loss=-inf]\nValidation loss: nan\n";
        let run = read_log(text);
        let loss = values(&run, "loss");
        assert!(loss[0].1.is_nan());
        assert_eq!((loss[1].1, loss[2].1), (f64::INFINITY, f64::NEG_INFINITY));
        assert!(values(&run, "Validation loss")[0].1.is_nan());
        assert!(run.problems.is_empty(), "{:?}", run.problems);
    }

    #[test]
    fn frames_without_totals_eval_bars_and_other_keys() {
        let text =
            "\rTraining: 7it [00:01, 5.0it/s, loss=2.0]\rTraining: [00:01, 5.0it/s, loss=1.9]\n\
                    \rEvaluating:  50%|█████     | 1/2 [00:00<00:00, loss=9.9]\n\
                    \rEpoch 1: 100%|██████████| 9/9 [00:01<00:00, val_loss=3.0, lr=1e-4]\n\
                    Validation loss: 1.5\n";
        let run = read_log(text);
        assert_eq!(values(&run, "loss"), vec![(7, 2.0), (8, 1.9)]);
        assert_eq!(values(&run, "Validation loss"), vec![(8, 1.5)]);
    }
}
