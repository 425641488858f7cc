//! End-to-end for the MLX-LM reader (`mlx_lm`): build the real MLX logs and
//! adapter configs, and a small gen_corpus tree when python3 is there, with
//! the real binary; check `data/runs.json` run by run.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{build, gen_corpus_script, metric, run_by_path};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns")
}

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

/// The eight series of a current `mlx_lm.lora` log, sorted.
const FULL_SERIES: [&str; 8] = [
    "it_per_sec",
    "learning_rate",
    "peak_mem_gb",
    "tokens_per_sec",
    "train_loss",
    "trained_tokens",
    "val_loss",
    "val_time_s",
];

fn assert_full_series(run: &Value) {
    assert_eq!(metric_names(run), FULL_SERIES, "{}", run["path"]);
    let kinds = [
        ("train_loss", "loss", "train"),
        ("val_loss", "loss", "val"),
        ("learning_rate", "learning_rate", "other"),
        ("it_per_sec", "throughput", "other"),
        ("tokens_per_sec", "throughput", "other"),
        ("peak_mem_gb", "memory", "other"),
        ("val_time_s", "time", "val"),
        ("trained_tokens", "other", "train"),
    ];
    for (name, family, split) in kinds {
        let m = metric(run, name);
        assert_eq!(
            (m["family"].as_str(), m["split"].as_str()),
            (Some(family), Some(split)),
            "{name}"
        );
    }
}

#[test]
fn real_logs_and_adapter_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    for sub in ["mlx_lm", "mlx_adapter_config"] {
        copy_tree(&fixtures().join(sub), &root.join(sub));
    }
    // A run folder the way mlx_lm.lora leaves it: the log beside adapters/adapter_config.json.
    let paired = root.join("paired");
    copy_tree(
        &fixtures().join("mlx_adapter_config/openatlaspro-AI__mlx-lora-finetune"),
        &paired,
    );
    fs::copy(
        fixtures()
            .join("mlx_lm/WostGit__mlx-finetune/benchmark-results/paczero-mlxlm-smoke/train.log"),
        paired.join("train.log"),
    )
    .unwrap();
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(
        runs.len(),
        5,
        "{:#?}",
        runs.iter().map(|r| &r["path"]).collect::<Vec<_>>()
    );
    for run in &runs {
        assert_eq!(run["format"], "mlx_lm", "{}", run["path"]);
        assert_eq!(
            run["problems"].as_array().unwrap().len(),
            0,
            "{}",
            run["problems"]
        );
    }

    let wrapper = run_by_path(
        &runs,
        "mlx_lm/WostGit__mlx-finetune/benchmark-logs/llama-3.2-1b-4bit",
    );
    assert_full_series(wrapper);
    let train = metric(wrapper, "train_loss");
    // 128 once, not 128 plus the Iter lines repeated in the JSON tails.
    assert_eq!(train["points"], 128);
    assert_eq!(
        (train["first"].as_f64(), train["last"].as_f64()),
        (Some(5.303), Some(0.927))
    );
    assert_eq!(train["last_step"], 128);
    let val = metric(wrapper, "val_loss");
    assert_eq!(
        (
            val["points"].as_u64(),
            val["best"].as_f64(),
            val["best_step"].as_u64()
        ),
        (Some(2), Some(0.773), Some(128))
    );
    assert_eq!(metric(wrapper, "trained_tokens")["last"], 8789.0);
    assert_eq!(wrapper["status"], "completed");
    assert_eq!(wrapper["params"]["subset_size"], "128");
    assert_eq!(wrapper["params"]["iters"], "128");
    assert_eq!(wrapper["params"]["MODEL_SLUG"], "llama-3.2-1b-4bit");

    let smoke = run_by_path(
        &runs,
        "mlx_lm/WostGit__mlx-finetune/benchmark-results/paczero-mlxlm-smoke",
    );
    assert_full_series(smoke);
    assert_eq!(metric(smoke, "train_loss")["points"], 2);
    assert_eq!(metric(smoke, "val_loss")["first"], 6.449);
    assert_eq!(metric(smoke, "peak_mem_gb")["last"], 0.393);
    assert_eq!(smoke["status"], "completed");

    let paired = run_by_path(&runs, "paired");
    assert_full_series(paired);
    assert_eq!(paired["params"]["lora_parameters.rank"], "8");
    assert_eq!(paired["params"]["derived.effective_batch_size"], "4");
    assert_eq!(
        paired["params"]["model"],
        "mlx-community/Qwen2.5-0.5B-Instruct-4bit"
    );

    let newer = run_by_path(
        &runs,
        "mlx_adapter_config/openatlaspro-AI__mlx-lora-finetune",
    );
    assert_eq!(newer["metrics"].as_array().unwrap().len(), 0);
    assert_eq!(newer["status"], "unknown");
    assert_eq!(newer["params"]["optimizer_config.muon"], "{}");
    assert_eq!(newer["params"]["grad_accumulation_steps"], "1");
    let old = run_by_path(&runs, "mlx_adapter_config/searlion__mlx-finetuning");
    assert_eq!(old["params"]["lora_parameters.rank"], "8");
    assert_eq!(old["params"]["num_layers"], "8");
    assert!(old["params"].get("derived.effective_batch_size").is_none());
}

#[test]
fn other_formats_logs_are_not_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let tt = root.join("tt-run");
    fs::create_dir_all(&tt).unwrap();
    fs::write(
        tt.join("training.log"),
        "Training configuration:\n  Batch size: 8\nStarting training...\n\
         Epoch 1:  10%|█         | 10/100 [00:01<00:09, loss=2.31]\rEpoch 1:  20%|██        | 20/100 [00:02<00:08, loss=2.1]\n\
         Validation loss: 2.05\n",
    )
    .unwrap();
    let nano = root.join("nanogpt");
    fs::create_dir_all(&nano).unwrap();
    fs::write(
        nano.join("log.txt"),
        "print0(f\"step:{step}/{train_steps} val_loss:{val_loss:.4f}\")\n\
         step:0/1750 val_loss:10.8258 train_time:0ms step_avg:nanms\n",
    )
    .unwrap();
    let peft = root.join("peft-run/adapters");
    fs::create_dir_all(&peft).unwrap();
    fs::write(
        peft.join("adapter_config.json"),
        r#"{"peft_type": "LORA", "r": 8}"#,
    )
    .unwrap();
    let runs = build(&root, &tmp.path().join("site"));
    assert!(runs.iter().all(|r| r["format"] != "mlx_lm"), "{runs:#?}");
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let _python = Command::new("python3").arg("--version").output();
    let Some(script) = gen_corpus_script() else {
        println!("note: python3 or gen_corpus.py missing; gen_corpus part skipped");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    let truth_file = tmp.path().join("truth.json");
    let status = Command::new("python3")
        .arg(&script)
        .args([
            "--out",
            root.to_str().unwrap(),
            "--runs",
            "12",
            "--points",
            "60",
        ])
        .args(["--formats", "mlx", "--truth", truth_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let truth: Value = serde_json::from_str(&fs::read_to_string(&truth_file).unwrap()).unwrap();
    let runs = build(&root, &tmp.path().join("site"));
    let truth = truth["runs"].as_array().unwrap();
    assert_eq!(runs.len(), truth.len());
    for t in truth {
        let run = run_by_path(&runs, t["path"].as_str().unwrap());
        let path = &run["path"];
        assert_eq!(run["format"], "mlx_lm");
        assert_eq!(run["name"], t["name"]);
        assert_full_series(run);
        assert_eq!(
            run["problems"].as_array().unwrap().len(),
            0,
            "{path}: {}",
            run["problems"]
        );
        let completed = t["completed"].as_bool().unwrap();
        let expected = if completed { "completed" } else { "failed" };
        assert_eq!(run["status"], expected, "{path}: {}", run["status_reason"]);
        let train = metric(run, "train_loss");
        let last_step = t["last_step"].as_u64().unwrap();
        let logged_last = train["last_step"].as_u64().unwrap();
        assert!(
            logged_last <= last_step && logged_last + 10 > last_step,
            "{path}: {logged_last}"
        );
        assert_eq!(
            train["first_nonfinite_step"], t["first_nonfinite_step"],
            "{path}"
        );
        if let Some(best) = t["best_val_loss"].as_f64() {
            let val = metric(run, "val_loss");
            // Printed with three decimals; the initial `Iter 1` evaluation is not in the truth.
            assert!(
                (val["best"].as_f64().unwrap() - best).abs() <= 5e-4,
                "{path}: {val} vs {best}"
            );
        }
        let params = &run["params"];
        let tp = &t["params"];
        assert_eq!(params["batch_size"], tp["batch_size"].to_string());
        assert_eq!(
            params["grad_accumulation_steps"],
            tp["gradient_accumulation_steps"].to_string()
        );
        let lr: f64 = params["learning_rate"].as_str().unwrap().parse().unwrap();
        assert_eq!(lr, tp["learning_rate"].as_f64().unwrap());
        let effective = tp["batch_size"].as_u64().unwrap()
            * tp["gradient_accumulation_steps"].as_u64().unwrap();
        assert_eq!(
            params["derived.effective_batch_size"],
            effective.to_string()
        );
        assert_eq!(params["model"], tp["model"]);
    }
}
