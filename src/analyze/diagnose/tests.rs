//! Each diagnostic on small synthetic runs shaped like the real thing, with
//! a deterministic jitter so no check passes on a perfectly smooth curve only.

use super::*;
use crate::model::{Artifact, ArtifactKind, Event, EventKind, Point, Status};

/// Deterministic noise in [-1, 1].
fn jitter(i: u64) -> f64 {
    let x = (i.wrapping_mul(2_654_435_761) % 1000) as f64 / 500.0;
    x - 1.0
}

/// A run with `train(step)` logged every 10 steps up to `last`, and `val(step)`
/// every `eval_every` steps; 3% jitter on train, 0.5% on val.
fn run_with(
    last: u64,
    eval_every: u64,
    train: impl Fn(f64) -> f64,
    val: impl Fn(f64) -> f64,
) -> Run {
    let mut run = Run::new("exp/run", "exp", "test");
    for step in (10..=last).step_by(10) {
        let v = train(step as f64) * (1.0 + 0.03 * jitter(step));
        run.push_point("train/loss", "f", Point::at(step, v));
        if step % eval_every == 0 {
            let v = val(step as f64) * (1.0 + 0.005 * jitter(step + 7));
            run.push_point("val/loss", "f", Point::at(step, v));
        }
    }
    run.finish_metrics();
    run
}

fn decay(init: f64, floor: f64, tau: f64) -> impl Fn(f64) -> f64 {
    move |s| floor + (init - floor) * (-s / tau).exp()
}

fn codes(run: &Run) -> Vec<(String, Severity)> {
    diagnose(run, &Thresholds::default())
        .into_iter()
        .map(|d| (d.code, d.severity))
        .collect()
}

fn find(run: &Run, code: &str) -> Diagnostic {
    let all = diagnose(run, &Thresholds::default());
    all.iter()
        .find(|d| d.code == code)
        .cloned()
        .unwrap_or_else(|| panic!("no {code} in {all:#?}"))
}

fn has_warning(run: &Run, code: &str) -> bool {
    codes(run)
        .iter()
        .any(|(c, s)| c == code && *s >= Severity::Warning)
}

#[test]
fn a_healthy_run_is_healthy_and_nothing_else_warns() {
    let run = run_with(3000, 200, decay(3.5, 1.0, 500.0), |s| {
        decay(3.5, 1.0, 500.0)(s) * 1.02
    });
    let all = codes(&run);
    assert!(all.iter().all(|(_, s)| *s == Severity::Info), "{all:?}");
    let healthy = find(&run, "healthy");
    assert!(
        healthy.message.starts_with("healthy: train/loss 3."),
        "{}",
        healthy.message
    );
    assert!(
        healthy.message.contains("val/loss best"),
        "{}",
        healthy.message
    );
}

#[test]
fn val_rising_after_its_best_is_overfitting_with_the_checkpoint() {
    let train = decay(3.5, 0.5, 600.0);
    let mut run = run_with(3000, 250, &train, |s| {
        decay(3.5, 1.0, 600.0)(s)
            + if s > 1200.0 {
                (s - 1200.0) / 1500.0
            } else {
                0.0
            }
    });
    for step in [1000, 1500, 2000] {
        run.artifacts.push(Artifact {
            kind: ArtifactKind::Checkpoint,
            path: format!("exp/run/checkpoint-{step}"),
            bytes: 0,
            files: 1,
        });
    }
    let d = find(&run, "overfitting");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.step, Some(1250), "{}", d.message);
    assert!(d.message.contains("evaluations since"), "{}", d.message);
    assert!(
        d.message.contains("checkpoint-1000 (step 1000)"),
        "{}",
        d.message
    );
    assert!(!codes(&run).iter().any(|(c, _)| c == "healthy"));
}

#[test]
fn the_final_gap_grades_overfitting() {
    let wide = run_with(3000, 300, decay(3.0, 1.0, 400.0), |s| {
        decay(3.0, 1.0, 400.0)(s) * 1.25
    });
    assert!(has_warning(&wide, "overfitting"));
    assert!(
        find(&wide, "overfitting").message.contains("ends 2"),
        "gap in percent"
    );
    let watch = run_with(3000, 300, decay(3.0, 1.0, 400.0), |s| {
        decay(3.0, 1.0, 400.0)(s) * 1.09
    });
    let d = find(&watch, "overfitting");
    assert_eq!(d.severity, Severity::Info);
    assert!(d.message.starts_with("watch the gap"), "{}", d.message);
}

#[test]
fn a_loss_that_barely_falls_is_underfitting() {
    let run = run_with(3000, 300, decay(3.5, 1.0, 30000.0), |s| {
        decay(3.5, 1.0, 30000.0)(s) * 1.05
    });
    let d = find(&run, "underfitting");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("fell only"), "{}", d.message);
}

#[test]
fn a_loss_still_falling_steeply_is_underfitting() {
    // Linear fall from 4 to 2: half its start, but no sign of slowing down.
    let run = run_with(
        3000,
        300,
        |s| 4.0 - 2.0 * s / 3000.0,
        |s| 4.1 - 2.0 * s / 3000.0,
    );
    let d = find(&run, "underfitting");
    assert!(d.message.contains("still falling steeply"), "{}", d.message);
}

#[test]
fn nan_is_divergence_at_its_step_with_the_grad_norm() {
    let mut run = run_with(1000, 100, decay(3.0, 1.0, 200.0), decay(3.1, 1.0, 200.0));
    for step in (10..=1000).step_by(10) {
        let g = if step < 700 { 1.0 } else { 1e4 };
        run.push_point("grad_norm", "f", Point::at(step, g));
    }
    run.push_point("train/loss", "f", Point::at(1010, f64::NAN));
    run.finish_metrics();
    let d = find(&run, "diverged");
    assert_eq!((d.severity, d.step), (Severity::Error, Some(1010)));
    assert!(
        d.message.contains("became NaN at step 1010"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("grad_norm rose from about 1 to 10000"),
        "{}",
        d.message
    );
    let all = codes(&run);
    assert!(
        !all.iter()
            .any(|(c, _)| c == "overfitting" || c == "healthy"),
        "{all:?}"
    );
}

#[test]
fn an_explosion_without_nan_is_divergence_where_it_left() {
    let run = run_with(
        2000,
        200,
        |s| {
            if s < 1200.0 {
                decay(3.0, 1.0, 200.0)(s)
            } else {
                1.0 * ((s - 1200.0) / 100.0).exp()
            }
        },
        |s| decay(3.1, 1.0, 200.0)(s),
    );
    let d = find(&run, "diverged");
    let step = d.step.unwrap();
    assert!((1200..=1400).contains(&step), "onset {step}: {}", d.message);
    assert!(
        d.message.contains("climbed from its minimum"),
        "{}",
        d.message
    );
}

#[test]
fn isolated_spikes_are_counted_once_each() {
    let base = decay(3.0, 1.0, 300.0);
    let run = run_with(
        3000,
        300,
        |s| match s as u64 {
            1000 => 4.0,
            1010 => 2.5,
            2000 => 3.5,
            _ => base(s),
        },
        |s| base(s) * 1.03,
    );
    let d = find(&run, "loss_spike");
    assert!(
        d.message.starts_with("loss spikes: 2 isolated spikes"),
        "{}",
        d.message
    );
    assert_eq!((d.step, d.severity), (Some(1000), Severity::Warning));
    // The noise of a healthy curve is no spike.
    let calm = run_with(3000, 300, &base, |s| base(s) * 1.03);
    assert!(!codes(&calm).iter().any(|(c, _)| c == "loss_spike"));
}

#[test]
fn a_converged_val_loss_is_a_plateau_note() {
    let run = run_with(3000, 100, decay(3.0, 1.0, 150.0), |s| {
        decay(3.0, 1.05, 150.0)(s)
    });
    let d = find(&run, "plateau");
    assert_eq!(d.severity, Severity::Info);
    assert!(
        d.message.contains("over the last 25% of the run"),
        "{}",
        d.message
    );
    assert!(
        codes(&run).iter().any(|(c, _)| c == "healthy"),
        "a plateau is advice, the run is fine"
    );
}

#[test]
fn a_failed_run_crashed_with_its_error_line() {
    let mut run = run_with(500, 100, decay(3.0, 1.0, 200.0), decay(3.1, 1.0, 200.0));
    run.status = Status::Failed;
    run.status_reason = "the process was killed".into();
    run.events.push(Event {
        kind: EventKind::Traceback,
        step: Some(500),
        message: "Traceback (most recent call last):\n  File \"t.py\", line 3\nRuntimeError: CUDA out of memory\n".into(),
        file: "exp/run/train.log".into(),
        line: Some(42),
    });
    let d = find(&run, "crashed");
    assert_eq!((d.severity, d.step), (Severity::Error, Some(500)));
    assert!(
        d.message
            .contains("\"RuntimeError: CUDA out of memory\" (exp/run/train.log:42)"),
        "{}",
        d.message
    );
    assert!(!codes(&run)
        .iter()
        .any(|(c, _)| c == "underfitting" || c == "healthy"));
}

#[test]
fn stopping_short_of_the_plan_is_a_crash_warning() {
    let mut run = run_with(1200, 200, decay(3.0, 1.0, 200.0), decay(3.1, 1.0, 200.0));
    run.params = serde_json::json!({"training": {"max_steps": 3000}});
    let d = find(&run, "crashed");
    assert_eq!((d.severity, d.step), (Severity::Warning, Some(1200)));
    assert!(
        d.message
            .contains("stopped at step 1200 of 3000 planned (40%)"),
        "{}",
        d.message
    );
    run.status = Status::Completed;
    assert!(
        !codes(&run).iter().any(|(c, _)| c == "crashed"),
        "early stopping said it completed"
    );
}

#[test]
fn too_little_data_is_not_called_healthy() {
    let mut run = Run::new("r", "", "test");
    run.push_point("loss", "f", Point::at(0, 3.2));
    run.finish_metrics();
    assert!(codes(&run).is_empty());
    let empty = Run::new("e", "", "test");
    assert!(codes(&empty).is_empty());
}

#[test]
fn mlx_style_val_at_step_one_is_no_gap() {
    // MLX-LM evaluates before training; the only val point precedes every train point.
    let mut run = run_with(600, 100_000, decay(3.5, 1.0, 100.0), |_| 0.0);
    run.push_point("val_loss", "f", Point::at(1, 4.3));
    run.finish_metrics();
    assert!(
        !codes(&run).iter().any(|(c, _)| c == "overfitting"),
        "{:?}",
        codes(&run)
    );
}

#[test]
fn thresholds_move_the_line() {
    let run = run_with(3000, 300, decay(3.0, 1.0, 400.0), |s| {
        decay(3.0, 1.0, 400.0)(s) * 1.25
    });
    let mut lenient = Thresholds::default();
    lenient.set("overfit_gap_warning=0.5").unwrap();
    let found = diagnose(&run, &lenient);
    let d = found.iter().find(|d| d.code == "overfitting").unwrap();
    assert_eq!(d.severity, Severity::Info);
}

#[test]
fn order_is_most_severe_first() {
    let mut run = run_with(1000, 100, decay(3.0, 1.0, 200.0), |s| {
        decay(3.0, 1.0, 200.0)(s) * 1.3
    });
    run.status = Status::Failed;
    run.status_reason = "killed".into();
    let found = diagnose(&run, &Thresholds::default());
    let severities: Vec<Severity> = found.iter().map(|d| d.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
    assert_eq!(found[0].code, "crashed");
}
