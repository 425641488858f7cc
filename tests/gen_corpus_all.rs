//! Every gen_corpus.py format at once: `--runs 110 --formats all --truth T`
//! must build with every run of T in data/runs.json, read by the right
//! reader, with a train loss, the right end, and no spurious problems.

mod common;
use common::gen_corpus;
use serde_json::Value;

/// The `format` field runboard gives each gen_corpus format.
fn reader_of(format: &str) -> &'static [&'static str] {
    match format {
        "tt" => &["training_log"],
        "mlx" => &["mlx_lm"],
        "cs336" => &["experiment_json"],
        "hf" => &["hf_trainer"],
        "trackio" => &["trackio"],
        "trackiodb" => &["trackio_db"],
        "jsonl" => &["metrics_jsonl"],
        "dvclive" => &["dvclive"],
        "csv" => &["lightning_csv"],
        "mlflow" => &["mlflow"],
        "tb" => &["tensorboard"],
        _ => &[],
    }
}

fn find<'a>(runs: &'a [Value], t: &Value) -> Option<&'a Value> {
    let (name, path) = (t["name"].as_str()?, t["path"].as_str()?);
    runs.iter().find(|r| {
        let rpath = r["path"].as_str().unwrap_or("");
        r["name"] == name
            || rpath == format!("{path}#{name}")
            || (rpath.starts_with(&format!("{path}/"))
                && r["name"].as_str().unwrap_or("").starts_with(name))
            || rpath == path
    })
}

#[test]
fn every_format_of_gen_corpus_is_read() {
    let Some(generated) = gen_corpus("all", 110, 100) else {
        return;
    };
    let truth = generated.truth["runs"].as_array().unwrap();
    assert_eq!(truth.len(), 110);
    let mut seen_formats = std::collections::BTreeSet::new();
    for t in truth {
        let format = t["format"].as_str().unwrap();
        seen_formats.insert(format);
        let run = find(&generated.runs, t).unwrap_or_else(|| panic!("{} missing", t["path"]));
        let reader = run["format"].as_str().unwrap();
        assert!(
            reader_of(format).contains(&reader),
            "{}: read by {reader}",
            t["path"]
        );
        let completed = t["completed"].as_bool().unwrap();
        if completed {
            assert_eq!(
                run["status"], "completed",
                "{}: {}",
                t["path"], run["status_reason"]
            );
        } else {
            assert_ne!(run["status"], "completed", "{}", t["path"]);
        }
        // Problems only where the generator tore a file (a crashed writer).
        let problems = run["problems"].as_array().unwrap();
        if completed {
            assert!(problems.is_empty(), "{}: {problems:?}", t["path"]);
        } else {
            assert!(
                problems.iter().all(|p| p["severity"] != "error"),
                "{}: {problems:?}",
                t["path"]
            );
        }
        let metrics = run["metrics"].as_array().unwrap();
        if metrics.is_empty() {
            // Only an HF run that died before its first save has nothing to show.
            assert!(format == "hf" && !completed, "{}: no metrics", t["path"]);
            continue;
        }
        let train = metrics
            .iter()
            .find(|m| m["family"] == "loss" && m["split"] == "train")
            .unwrap_or_else(|| panic!("{}: no train loss", t["path"]));
        assert!(train["points"].as_u64().unwrap() >= 2, "{}", t["path"]);
        if completed {
            assert_eq!(train["last_step"], t["last_step"], "{}", t["path"]);
        }
    }
    assert_eq!(seen_formats.len(), 11, "every format: {seen_formats:?}");
}
