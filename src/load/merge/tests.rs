//! The absorption table and the merge, on runs built here.

use super::*;
use crate::model::{Point, Split};

fn rule() -> &'static Absorption {
    &ABSORPTIONS[0]
}

fn point(step: u64, value: f64, wall: Option<f64>) -> Point {
    Point {
        wall_time: wall,
        ..Point::at(step, value)
    }
}

/// An HF run as its reader leaves it: no wall times, a duration from `train_runtime`.
fn hf_run() -> Run {
    let mut run = Run::new("out", "", "hf_trainer");
    run.sources.push("out/trainer_state.json".into());
    for step in [10, 20] {
        run.push_point("loss", "out/trainer_state.json", point(step, 2.0, None));
    }
    run.push_point("eval_loss", "out/trainer_state.json", point(20, 1.9, None));
    run.params = serde_json::json!({"global_step": 20});
    run
}

/// A TensorBoard run of the Trainer's `runs/` folder, started at `start` (Unix seconds).
fn tb_run(dir: &str, start: f64, steps: &[u64]) -> Run {
    let mut run = Run::new(dir, "out/runs", "tensorboard");
    let file = format!("{dir}/events.out.tfevents.1");
    run.sources.push(file.clone());
    for &step in steps {
        let wall = Some(step as f64 / 10.0);
        for tag in ["train/loss", "train/tokens_per_second", "train/epoch"] {
            run.push_point(tag, &file, point(step, 5.0, wall));
        }
    }
    run.push_point("eval/loss", &file, point(20, 9.9, Some(2.5)));
    run.push_point("train/train_runtime", &file, point(20, 99.0, Some(3.0)));
    let iso = |s: f64| iso_from_unix_ms((s * 1000.0) as i64);
    run.started = iso(start);
    run.ended = iso(start + 3.0);
    run.duration_seconds = Some(3.0);
    run.params = serde_json::json!({"global_step": 999, "from_tb": 1});
    run
}

fn series<'a>(run: &'a Run, name: &str) -> &'a crate::model::Series {
    run.metrics.iter().find(|s| s.name == name).unwrap()
}

#[test]
fn the_trainer_runs_folder_belongs_to_the_run_above_it() {
    let claimed = |dir: &str| match dir {
        "exp/out" | "" => Some("hf_trainer"),
        "exp/out/runs/x" | "exp/csv" => Some("tensorboard"),
        _ => None,
    };
    let host = |dir| host_of(dir, "tensorboard", claimed).map(|(h, _)| h);
    assert_eq!(host("exp/out/runs/x"), Some("exp/out"));
    assert_eq!(host("exp/out/runs"), Some("exp/out"));
    assert_eq!(
        host("exp/out/runs/x/1700000000.5"),
        Some("exp/out"),
        "add_hparams' subfolder"
    );
    assert_eq!(host("runs/x"), Some(""), "ROOT is the output folder");
    assert_eq!(host("exp/out/logs/x"), None, "only runs/");
    assert_eq!(host("exp/csv/runs/x"), None, "only below a Trainer run");
    assert_eq!(host("exp/other/x"), None);
    assert_eq!(
        host_of("exp/out/runs/x", "csv_logs", claimed).map(|(h, _)| h),
        None
    );
}

#[test]
fn the_trainer_names_of_its_tensorboard_tags() {
    let name = |tag| (rule().metric_name)(tag);
    assert_eq!(name("train/loss").as_deref(), Some("loss"));
    assert_eq!(
        name("train/learning_rate").as_deref(),
        Some("learning_rate")
    );
    assert_eq!(name("eval/loss").as_deref(), Some("eval_loss"));
    assert_eq!(
        name("eval/g0_accuracy").as_deref(),
        Some("eval_g0_accuracy")
    );
    assert_eq!(name("test/loss").as_deref(), Some("test_loss"));
    assert_eq!(name("custom/score").as_deref(), Some("custom/score"));
    for kept_elsewhere in [
        "train/epoch",
        "train/train_runtime",
        "train/total_flos",
        "train/train_loss",
    ] {
        assert_eq!(name(kept_elsewhere), None, "{kept_elsewhere}");
    }
}

#[test]
fn shared_metrics_keep_the_host_points_and_guest_only_ones_are_added() {
    let mut runs = vec![hf_run()];
    absorb(
        &mut runs,
        "out",
        vec![tb_run("out/runs/x", 1_700_000_000.0, &[10, 20])],
        rule(),
    );
    let run = &runs[0];
    let mut names: Vec<&str> = run.metrics.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["eval_loss", "loss", "tokens_per_second"]);
    let loss = series(run, "loss");
    assert_eq!(loss.points.len(), 2, "no duplicated points");
    assert!(
        loss.points.iter().all(|p| p.value == 2.0),
        "the state's values"
    );
    assert_eq!(loss.points[1].wall_time, Some(2.0), "the events' wall time");
    assert_eq!(loss.source, "out/trainer_state.json");
    assert_eq!(series(run, "eval_loss").points[0].value, 1.9);
    let tokens = series(run, "tokens_per_second");
    assert_eq!((tokens.split, tokens.points.len()), (Split::Other, 2));
    assert_eq!(tokens.source, "out/runs/x/events.out.tfevents.1");
    assert_eq!(
        run.sources,
        ["out/trainer_state.json", "out/runs/x/events.out.tfevents.1"]
    );
    assert_eq!(run.params["global_step"], 20, "the host's params win");
    assert_eq!(run.params["from_tb"], 1);
    assert_eq!(run.started.as_deref(), Some("2023-11-14T22:13:20.000Z"));
    assert_eq!(
        (run.duration_seconds, run.date.as_deref()),
        (Some(3.0), Some("2023-11-14"))
    );
    let note = &run.source_notes[0];
    for part in [
        "runs/x (tensorboard) is part of this hf_trainer run.",
        "the hf_trainer points are kept, as trainer_state.json is the Trainer's own record: eval_loss, loss.",
        "Only in tensorboard, added: tokens_per_second.",
        "keeps them elsewhere): train/epoch, train/train_runtime.",
        "Wall times of 3 points",
    ] {
        assert!(note.contains(part), "{part:?} not in {note}");
    }
}

#[test]
fn several_guests_count_wall_time_from_the_earliest_and_the_host_keeps_its_duration() {
    let mut host = hf_run();
    host.duration_seconds = Some(50.0);
    let mut runs = vec![host];
    let guests = vec![
        tb_run("out/runs/a", 1_700_000_000.0, &[10]),
        tb_run("out/runs/b", 1_700_000_100.0, &[30]),
    ];
    absorb(&mut runs, "out", guests, rule());
    let run = &runs[0];
    let tokens = series(run, "tokens_per_second");
    let walls: Vec<Option<f64>> = tokens.points.iter().map(|p| p.wall_time).collect();
    assert_eq!(walls, [Some(1.0), Some(103.0)], "b started 100 s after a");
    assert_eq!(run.duration_seconds, Some(50.0));
    assert_eq!(run.ended.as_deref(), Some("2023-11-14T22:15:03.000Z"));
    assert!(run.source_notes[0].starts_with("runs/a, runs/b (tensorboard)"));
}

#[test]
fn guests_without_their_host_run_stay_runs() {
    let mut runs = vec![Run::new("elsewhere", "", "hf_trainer")];
    absorb(
        &mut runs,
        "out",
        vec![tb_run("out/runs/x", 1.0, &[1])],
        rule(),
    );
    assert_eq!(runs.len(), 2);
    assert!(runs[0].source_notes.is_empty());
}
