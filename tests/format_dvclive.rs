//! The DVCLive reader end to end: hand-made DVCLive folders (2.x and 1.x
//! layouts, a renamed `Live(dir=...)` folder, summary-only metrics) and a
//! gen_corpus tree checked against its truth file when `python3` is available.
//! No real DVCLive run is among the collected real files.

use serde_json::Value;

mod common;
use common::{build, gen_corpus, metric, no_problems, run_by_path, write};

fn metric_names(run: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn hand_made_dvclive_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    // DVCLive 3.x beside a DVC project's params.yaml, CRLF and a NaN summary.
    write(&root, "project/params.yaml", "lr: 0.5\nepochs: 9\n");
    write(
        &root,
        "project/dvclive/params.yaml",
        "lr: 0.01\nmax_steps: 3\n",
    );
    write(
        &root,
        "project/dvclive/metrics.json",
        "{\"train\": {\"loss\": NaN, \"acc\": 0.75}, \"test\": {\"f1\": 0.5}, \"step\": 3}",
    );
    write(
        &root,
        "project/dvclive/plots/metrics/train/loss.tsv",
        "timestamp\tstep\tloss\r\n1700000000000\t1\t2.5\r\n1700000001000\t2\t1.5\r\n1700000002000\t3\tnan\r\n",
    );
    write(
        &root,
        "project/dvclive/plots/metrics/train/acc.tsv",
        "timestamp\tstep\tacc\n1700000000000\t1\t0.5\n1700000002000\t3\t0.75",
    );
    write(&root, "project/dvclive/report.html", "<html></html>");
    // DVCLive 1.x under another name, no params.
    write(
        &root,
        "old/results/scalars/val_loss.tsv",
        "timestamp\tstep\tval_loss\n1600000000000\t10\t0.9\n1600000060000\t20\t0.8\n",
    );
    // A decoy: a TSV that is not DVCLive's.
    write(
        &root,
        "decoy/data/plots/metrics/table.tsv",
        "id\tname\n1\tx\n",
    );

    let runs = build(&root, &tmp.path().join("site"));
    let paths: Vec<&str> = runs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["old", "project"]);

    let project = run_by_path(&runs, "project");
    assert_eq!(project["format"], "dvclive");
    no_problems(project);
    assert_eq!(project["params"]["lr"], "0.01");
    assert_eq!(project["params"]["epochs"], "9");
    assert_eq!(
        project["status"], "completed",
        "{}",
        project["status_reason"]
    );
    assert_eq!(project["started"], "2023-11-14T22:13:20.000Z");
    assert_eq!(project["duration_seconds"], 2.0);
    assert_eq!(
        metric_names(project),
        vec!["test/f1", "train/acc", "train/loss"]
    );
    let loss = metric(project, "train/loss");
    assert_eq!(
        (loss["family"].as_str(), loss["split"].as_str()),
        (Some("loss"), Some("train"))
    );
    assert_eq!(
        (loss["points"].as_u64(), loss["first"].as_f64()),
        (Some(3), Some(2.5))
    );
    assert_eq!(loss["first_nonfinite_step"], 3);
    assert_eq!(loss["best"], 1.5);
    let acc = metric(project, "train/acc");
    assert_eq!(
        (acc["family"].as_str(), acc["points"].as_u64()),
        (Some("accuracy"), Some(2))
    );
    let f1 = metric(project, "test/f1");
    assert_eq!(
        (f1["split"].as_str(), f1["points"].as_u64()),
        (Some("test"), Some(1))
    );
    assert_eq!(
        (f1["last"].as_f64(), f1["last_step"].as_u64()),
        (Some(0.5), Some(3))
    );

    let old = run_by_path(&runs, "old");
    no_problems(old);
    assert_eq!(old["format"], "dvclive");
    assert_eq!(old["status"], "unknown");
    assert_eq!(old["status_reason"], "DVCLive records no end of run");
    let val = metric(old, "val_loss");
    assert_eq!(
        (val["split"].as_str(), val["points"].as_u64()),
        (Some("val"), Some(2))
    );
    assert_eq!(old["duration_seconds"], 60.0);
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let Some(generated) = gen_corpus("dvclive", 20, 100) else {
        return;
    };
    let (runs, truth) = (generated.runs, generated.truth);
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    let mut matched = 0;
    for t in truth {
        let path = t["path"].as_str().unwrap();
        let run = run_by_path(&runs, path);
        assert_eq!(run["format"], "dvclive");
        no_problems(run);
        assert_eq!(run["name"], t["name"]);
        let loss = metric(run, "train/loss");
        assert_eq!(
            (loss["family"].as_str(), loss["split"].as_str()),
            (Some("loss"), Some("train"))
        );
        assert_eq!(
            run["params"]["batch_size"],
            t["params"]["batch_size"].to_string()
        );
        let completed = t["completed"] == true;
        assert_eq!(
            run["status"],
            if completed { "completed" } else { "unknown" },
            "{path}"
        );
        assert!(run["duration_seconds"].as_f64().unwrap() > 0.0);
        let names = metric_names(run);
        let best_ok = if t["best_val_step"].is_null() {
            !names.contains(&"eval/loss")
        } else {
            let eval = metric(run, "eval/loss");
            assert_eq!(eval["split"], "val");
            eval["best_step"] == t["best_val_step"]
        };
        let last = loss["last_step"].as_u64().unwrap();
        let want_last = t["last_step"].as_u64().unwrap();
        let exact = last <= want_last
            && last + 10 > want_last
            && best_ok
            && loss["first_nonfinite_step"] == t["first_nonfinite_step"];
        matched += usize::from(exact);
    }
    println!(
        "gen_corpus: {matched} of {} dvclive runs matched their truth",
        truth.len()
    );
    assert_eq!(matched, truth.len());
}
