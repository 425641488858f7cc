//! End-to-end for the CSV loggers (`csv_logs`): real Keras and Ultralytics
//! files, hand-written Lightning versions and decoy CSVs, and a generated
//! Lightning corpus checked against its truth file, built with the real binary.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{build, gen_corpus_script, metric, run_by_path};

fn metric_names(run: &Value) -> Vec<String> {
    let mut names: Vec<String> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// (family, split, points, first, last, best, best_step) of one metric.
fn summary(run: &Value, name: &str) -> (String, String, u64, f64, f64, f64, u64) {
    let m = metric(run, name);
    (
        m["family"].as_str().unwrap().to_string(),
        m["split"].as_str().unwrap().to_string(),
        m["points"].as_u64().unwrap(),
        m["first"].as_f64().unwrap(),
        m["last"].as_f64().unwrap(),
        m["best"].as_f64().unwrap(),
        m["best_step"].as_u64().unwrap(),
    )
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn write(path: PathBuf, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const LIGHTNING: &str = "epoch,lr-AdamW,step,train_loss,val_loss,val_acc\n\
                         0,0.0001,9,3.7,,\n0,0.0002,19,3.5,,\n0,,19,,3.9,0.02\n\
                         1,0.0003,29,3.1,,\n1,0.0,39,2.9,,\n1,,39,,3.2,0.2\n";

#[test]
fn real_and_hand_written_csv_logs() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    for dir in ["keras_csvlogger", "yolo_results"] {
        copy_tree(&fixtures.join(dir), &root.join(dir));
    }
    let exp = root.join("lightning/exp1/lightning_logs");
    write(exp.join("version_0/hparams.yaml"), "{}\n");
    write(exp.join("version_0/metrics.csv"), LIGHTNING);
    write(exp.join("version_1/hparams.yaml"), "max_epochs: 5\n");
    write(exp.join("version_1/metrics.csv"), LIGHTNING);
    write(root.join("datasets/data.csv"), "id,text,label\n1,hello,0\n");
    write(root.join("datasets/loss.csv"), "epoch,name\n0,loss\n");
    write(
        root.join("tb_export/run-.-tag-loss.csv"),
        "Wall time,Step,Value\n1700000000.5,10,0.5\n",
    );
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(
        runs.len(),
        4,
        "{:#?}",
        runs.iter().map(|r| &r["path"]).collect::<Vec<_>>()
    );
    for run in &runs {
        let problems = run["problems"].as_array().unwrap();
        assert!(problems.is_empty(), "{}: {problems:?}", run["path"]);
    }

    let keras = run_by_path(
        &runs,
        "keras_csvlogger/4hmetcakmak__BraTS2020CapstoneProject",
    );
    assert_eq!(keras["format"], "keras_csv");
    assert_eq!(keras["status"], "unknown");
    assert_eq!(
        metric_names(keras),
        [
            "accuracy",
            "dice_coef",
            "loss",
            "lr",
            "mean_io_u_5",
            "precision",
            "val_accuracy",
            "val_dice_coef",
            "val_loss",
            "val_mean_io_u_5",
            "val_precision"
        ]
    );
    let (family, split, points, first, last, best, best_step) = summary(keras, "val_loss");
    assert_eq!(
        (family.as_str(), split.as_str(), points),
        ("loss", "val", 24)
    );
    assert_eq!((first, last), (0.05463637784123421, 0.034485723823308945));
    assert_eq!((best, best_step), (0.0344739630818367, 13));
    let lr = metric(keras, "lr");
    assert_eq!(
        (lr["family"].as_str(), lr["split"].as_str()),
        (Some("learning_rate"), Some("other"))
    );
    assert_eq!(
        (lr["first"].as_f64(), lr["last"].as_f64()),
        (Some(0.001), Some(1e-06))
    );
    assert_eq!(lr["last_step"], 23);
    assert_eq!(summary(keras, "val_accuracy").0, "accuracy");

    let yolo = run_by_path(
        &runs,
        "yolo_results/102y__Gallstone-Detection-using-YOLO-v11",
    );
    assert_eq!(yolo["format"], "ultralytics_csv");
    assert_eq!(yolo["name"], "train", "args.yaml names the run");
    assert_eq!(yolo["status"], "completed", "{}", yolo["status_reason"]);
    assert_eq!(yolo["params"]["epochs"], "10");
    assert_eq!(yolo["params"]["save_dir"], "runs\\segment\\train");
    assert_eq!(yolo["duration_seconds"].as_f64(), Some(6229.92));
    assert_eq!(yolo["metrics"].as_array().unwrap().len(), 19);
    assert!(yolo["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["name"] != "time"));
    let (family, split, points, first, last, _, _) = summary(yolo, "train/box_loss");
    assert_eq!(
        (family.as_str(), split.as_str(), points),
        ("loss", "train", 10)
    );
    assert_eq!((first, last), (1.49295, 0.98836));
    assert_eq!(metric(yolo, "train/box_loss")["last_step"], 10);
    assert_eq!(summary(yolo, "val/seg_loss").1, "val");
    assert_eq!(
        metric(yolo, "metrics/mAP50-95(M)")["last"].as_f64(),
        Some(0.6148)
    );
    assert_eq!(metric(yolo, "lr/pg0")["family"], "learning_rate");

    let v0 = run_by_path(&runs, "lightning/exp1/lightning_logs/version_0");
    assert_eq!(v0["format"], "lightning_csv");
    assert_eq!(
        (v0["name"].as_str(), v0["group"].as_str()),
        (Some("exp1/version_0"), Some("lightning"))
    );
    assert_eq!(
        metric_names(v0),
        ["lr-AdamW", "train_loss", "val_acc", "val_loss"]
    );
    assert_eq!(
        summary(v0, "val_loss"),
        ("loss".into(), "val".into(), 2, 3.9, 3.2, 3.2, 40)
    );
    assert_eq!(summary(v0, "train_loss").2, 4);
    assert_eq!(summary(v0, "val_acc").0, "accuracy");
    assert_eq!(v0["status"], "unknown");
    let v1 = run_by_path(&runs, "lightning/exp1/lightning_logs/version_1");
    assert_eq!(v1["status"], "unknown");
    assert!(
        v1["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("last epoch 1 (counted from 0) of 5 planned"),
        "{}",
        v1["status_reason"]
    );
}

#[test]
fn generated_lightning_runs_match_their_truth() {
    let Some(script) = gen_corpus_script() else {
        println!("note: gen_corpus.py not found; generated-corpus check skipped");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (root, truth_file) = (tmp.path().join("corpus"), tmp.path().join("truth.json"));
    let status = Command::new("python3")
        .arg(&script)
        .args([
            "--out",
            root.to_str().unwrap(),
            "--runs",
            "30",
            "--points",
            "200",
        ])
        .args(["--formats", "csv", "--truth", truth_file.to_str().unwrap()])
        .output();
    match status {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "gen_corpus failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            println!("note: python3 is missing; generated-corpus check skipped");
            return;
        }
    }
    let runs = build(&root, &tmp.path().join("site"));
    let truth: Value = serde_json::from_str(&fs::read_to_string(&truth_file).unwrap()).unwrap();
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    for t in truth {
        let path = format!("{}/lightning_logs/version_0", t["path"].as_str().unwrap());
        let run = run_by_path(&runs, &path);
        let name = t["name"].as_str().unwrap();
        assert_eq!(run["format"], "lightning_csv", "{name}");
        assert_eq!(run["name"], format!("{name}/version_0"));
        assert!(
            run["problems"].as_array().unwrap().is_empty(),
            "{name}: {}",
            run["problems"]
        );
        // A run that crashed before its first evaluation has empty val columns, hence no val series.
        let has_val = t["best_val_step"].is_u64();
        let mut expected = vec!["lr-AdamW", "train_loss"];
        if has_val {
            expected.extend(["val_acc", "val_loss"]);
        }
        assert_eq!(metric_names(run), expected, "{name}");
        // Lightning's step counts from 0 (the simulator writes step s as s - 1) and runboard
        // adds the 1 back; it logs every 10 steps (2000 steps, 200 points), so a crash
        // between logs loses the tail.
        let last_step = t["last_step"].as_u64().unwrap() / 10 * 10;
        assert_eq!(metric(run, "train_loss")["last_step"], last_step, "{name}");
        let completed = t["completed"].as_bool().unwrap();
        let expected = if completed { "completed" } else { "unknown" };
        assert_eq!(run["status"], expected, "{name}: {}", run["status_reason"]);
        if let Some(step) = t["best_val_step"].as_u64() {
            let val = metric(run, "val_loss");
            assert_eq!(
                (val["family"].as_str(), val["split"].as_str()),
                (Some("loss"), Some("val"))
            );
            assert_eq!(val["best_step"], step, "{name}: the truth's step exactly");
            let best = t["best_val_loss"].as_f64().unwrap();
            assert!(
                (val["best"].as_f64().unwrap() - best).abs() < 1e-12,
                "{name}"
            );
        }
        if let Some(step) = t["first_nonfinite_step"].as_u64() {
            assert_eq!(
                metric(run, "train_loss")["first_nonfinite_step"],
                step,
                "{name}"
            );
        }
        let lr = t["params"]["learning_rate"].as_f64().unwrap();
        assert_eq!(
            run["params"]["lr"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
            lr
        );
        assert_eq!(metric(run, "lr-AdamW")["family"], "learning_rate");
    }
}
