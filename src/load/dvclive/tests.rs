use super::*;
use crate::model::{Family, Split, Status};

fn text(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

fn read(path: &str, texts: &[SourceText]) -> Run {
    let group = path.rsplit_once('/').map_or("", |(g, _)| g);
    let mut runs = read_run(Run::new(path, group, "dvclive"), texts);
    assert_eq!(runs.len(), 1);
    let mut run = runs.remove(0);
    run.finish_metrics();
    run
}

fn points(run: &Run, name: &str) -> Vec<(u64, f64)> {
    let series = run
        .metrics
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name}"));
    series.points.iter().map(|p| (p.step, p.value)).collect()
}

/// A gen_corpus run, shortened: a diverged eval loss and NaN in `metrics.json`.
fn gen_corpus_texts(dir: &str) -> Vec<SourceText> {
    vec![
        text(
            &format!("{dir}/dvclive/params.yaml"),
            "lr: 0.0005\nbatch_size: 32\nepochs: 3\nmax_steps: 30\nseed: 1\n",
        ),
        text(
            &format!("{dir}/dvclive/metrics.json"),
            "{\n    \"train\": {\n        \"loss\": NaN\n    },\n    \"eval\": {\n        \"loss\": NaN\n    },\n    \"step\": 30\n}",
        ),
        text(
            &format!("{dir}/dvclive/plots/metrics/eval/loss.tsv"),
            "timestamp\tstep\tloss\n1769969361102\t20\t3.9\n1769969371102\t30\tnan\n",
        ),
        text(
            &format!("{dir}/dvclive/plots/metrics/train/loss.tsv"),
            "timestamp\tstep\tloss\n1769969350551\t10\t3.77\n1769969361102\t20\t3.87\n1769969371102\t30\tnan\n",
        ),
    ]
}

#[test]
fn gen_corpus_run_reads_params_series_and_times() {
    let run = read("lr-sweep/dv-0003", &gen_corpus_texts("lr-sweep/dv-0003"));
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.params["lr"], 0.0005);
    assert_eq!(run.params["max_steps"], 30);
    assert!(run.params.get("summary").is_none());
    assert_eq!(run.metrics.len(), 2);
    let train = points(&run, "train/loss");
    assert_eq!(&train[..2], &[(10, 3.77), (20, 3.87)]);
    assert!(train[2].1.is_nan());
    let eval = run.metrics.iter().find(|s| s.name == "eval/loss").unwrap();
    assert_eq!((eval.family, eval.split), (Family::Loss, Split::Val));
    assert_eq!(eval.points[0].wall_time, Some(10.551));
    assert_eq!(run.started.as_deref(), Some("2026-02-01T18:09:10.551Z"));
    assert_eq!(run.ended.as_deref(), Some("2026-02-01T18:09:31.102Z"));
    assert_eq!(run.duration_seconds, Some(20.551));
    assert_eq!(run.date.as_deref(), Some("2026-02-01"));
    assert_eq!(
        run.status,
        Status::Unknown,
        "left to planned-steps inference"
    );
    assert_eq!(run.status_reason, "DVCLive records no end of run");
}

#[test]
fn summary_only_metrics_become_points_and_other_values_params() {
    let run = read(
        "r",
        &[
            text("r/params.yaml", "lr: 0.1\nepochs: 9\n"),
            text("r/dvclive/params.yaml", "lr: 0.2\n"),
            text(
                "r/dvclive/metrics.json",
                "{\"test\": {\"acc\": 0.9, \"note\": \"ok\"}, \"epoch\": 3, \"best\": Infinity, \"x\": null}",
            ),
        ],
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.params["lr"], 0.2, "DVCLive's params win");
    assert_eq!(run.params["epochs"], 9);
    assert_eq!(points(&run, "test/acc"), vec![(0, 0.9)]);
    assert_eq!(points(&run, "epoch"), vec![(0, 3.0)]);
    assert_eq!(points(&run, "best"), vec![(0, f64::INFINITY)]);
    assert_eq!(run.params["summary"]["test/note"], "ok");
    assert_eq!(run.started, None);
}

#[test]
fn broken_metrics_json_is_an_error_with_its_line() {
    let run = read(
        "r",
        &[text(
            "r/dvclive/metrics.json",
            "{\n  \"a\": 1,\n  \"b\": \n",
        )],
    );
    assert_eq!(run.problems.len(), 1);
    assert!(run.problems[0].message.starts_with("not valid JSON"));
    assert!(run.problems[0].line.is_some());
    let run = read("r", &[text("r/dvclive/metrics.json", "[1]")]);
    assert_eq!(run.problems.len(), 1);
}

#[test]
fn metric_names_from_paths() {
    let name = metric_name;
    assert_eq!(
        name("a/b", "a/b/dvclive/plots/metrics/train/loss.tsv"),
        "train/loss"
    );
    assert_eq!(name("a", "a/results/plots/metrics/acc.tsv"), "acc");
    assert_eq!(name("", "plots/metrics/val/f1 score.tsv"), "val/f1 score");
    assert_eq!(name("", "dvclive/scalars/loss.tsv"), "loss");
    assert_eq!(
        name("r", "r/dvclive/scalars/plots/metrics/x.tsv"),
        "plots/metrics/x"
    );
}

#[test]
fn mangled_files_never_panic() {
    let originals = gen_corpus_texts("d");
    let mut state: u64 = 99;
    for original in &originals {
        let bytes = original.text().as_bytes();
        for cut in 0..=bytes.len() {
            let mut mangled = bytes[..cut].to_vec();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if !mangled.is_empty() {
                let at = (state >> 33) as usize % mangled.len();
                mangled[at] = (state >> 20) as u8;
            }
            let mangled = String::from_utf8_lossy(&mangled);
            let _ = tsv::looks_like_metric_tsv(&mangled);
            read("d", &[text(&original.rel, &mangled)]);
        }
    }
}
