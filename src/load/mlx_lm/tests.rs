//! Reading MLX-LM logs and adapter configs from strings: real files, gen_corpus shapes, odd shapes.

use super::*;
use crate::model::{EventKind, Severity, Status};
use serde_json::json;

const SMOKE_LOG: &str = include_str!(
    "../../../tests/fixtures/realruns/mlx_lm/WostGit__mlx-finetune/benchmark-results/paczero-mlxlm-smoke/train.log"
);
const WRAPPER_LOG: &str = include_str!(
    "../../../tests/fixtures/realruns/mlx_lm/WostGit__mlx-finetune/benchmark-logs/llama-3.2-1b-4bit/paczero-sst2-subset-128-20260531T221146Z.txt"
);
const NEW_CONFIG: &str = include_str!(
    "../../../tests/fixtures/realruns/mlx_adapter_config/openatlaspro-AI__mlx-lora-finetune/adapters/adapter_config.json"
);
const OLD_CONFIG: &str = include_str!(
    "../../../tests/fixtures/realruns/mlx_adapter_config/searlion__mlx-finetuning/adapters/adapter_config.json"
);

/// The newer table output, as rich writes it with colours.
const TABLE_LOG: &str = "\u{1b}[1m╭─ \u{1b}[1;35mmlx_lm.lora\u{1b}[0m ──────────────────────╮\n\
│  model           mlx-community/Qwen3-0.6B-4bit  │\n\
│  type            lora · 16 layers · rank 8     │\n\
│  batch · iters   4 · 1,000                     │\n\
╰────────────────────────────────────────────────╯\n\
  \u{1b}[1miter   train_loss     tok/s     tokens\u{1b}[0m\n\
  \u{1b}[38;5;244m   1\u{1b}[0m    \u{1b}[1;35mval\u{1b}[0m 2.914    3.21s\n\
  \u{1b}[38;5;244m 500\u{1b}[0m    \u{1b}[1;32m1.234 ▼\u{1b}[0m    1,234    612.5k\n\
  \u{1b}[1;32msave\u{1b}[0m  0000500_adapters.safetensors\n\
  1000    1.301 ▲      987    1225.0k\n\
  1000    val 1.402    2.50s\n\
train ██████████████████████████████ 100% ·  1,000/1,000\n";

fn base() -> Run {
    Run::new("runs/a", "runs", "mlx_lm")
}

fn text(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

fn read(log: &str) -> Vec<Run> {
    read_run(base(), &[text("runs/a/train.log", log)])
}

fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
    let series = run.metrics.iter().find(|s| s.name == name);
    let series = series.unwrap_or_else(|| panic!("no series {name}"));
    series.points.iter().map(|p| (p.step, p.value)).collect()
}

fn count(run: &Run, kind: EventKind) -> usize {
    run.events.iter().filter(|e| e.kind == kind).count()
}

#[test]
fn smoke_log_and_new_config() {
    let runs = read_run(
        base(),
        &[
            text("runs/a/adapters/adapter_config.json", NEW_CONFIG),
            text("runs/a/train.log", SMOKE_LOG),
        ],
    );
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.path, "runs/a");
    assert_eq!(values(run, "train_loss"), [(1, 5.919), (2, 6.213)]);
    assert_eq!(values(run, "val_loss"), [(1, 6.449), (2, 5.689)]);
    assert_eq!(values(run, "val_time_s"), [(1, 1.453), (2, 0.170)]);
    assert_eq!(values(run, "peak_mem_gb")[1], (2, 0.393));
    assert_eq!(values(run, "trained_tokens")[1], (2, 83.0));
    assert_eq!(values(run, "learning_rate")[0], (1, 1e-5));
    assert_eq!(run.metrics.len(), 8);
    assert_eq!(run.status, Status::Completed);
    assert!(
        run.status_reason.contains("Saved final weights"),
        "{}",
        run.status_reason
    );
    assert!(
        run.status_reason.ends_with("runs/a/train.log:20"),
        "{}",
        run.status_reason
    );
    assert_eq!(count(run, EventKind::Checkpoint), 1);
    assert_eq!(count(run, EventKind::Validation), 2);
    assert_eq!(count(run, EventKind::Warning), 1);
    assert_eq!(count(run, EventKind::Start), 1);
    // The config outranks the log (`iters: 2` printed by the smoke run).
    assert_eq!(run.params["lora_parameters"]["rank"], json!(8));
    assert_eq!(run.params["iters"], json!(600));
    assert_eq!(run.params["derived"]["effective_batch_size"], json!(4));
    assert_eq!(
        run.params["trainable_parameters"],
        json!("0.074% (0.367M/494.033M)")
    );
}

#[test]
fn wrapper_log_counts_quoted_lines_once() {
    let runs = read(WRAPPER_LOG);
    assert_eq!(
        runs.len(),
        1,
        "the result summary is folded into the training"
    );
    let run = &runs[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    let train = values(run, "train_loss");
    assert_eq!(train.len(), 128);
    assert_eq!(train[0], (1, 5.303));
    assert_eq!(train[127], (128, 0.927));
    assert_eq!(values(run, "val_loss"), [(1, 6.388), (128, 0.773)]);
    assert_eq!(values(run, "trained_tokens")[127], (128, 8789.0));
    assert_eq!(count(run, EventKind::Finish), 1);
    assert_eq!(count(run, EventKind::Checkpoint), 1);
    assert_eq!(run.status, Status::Completed);
    let params = &run.params;
    assert_eq!(params["subset_size"], json!(128));
    assert_eq!(
        params["models"],
        json!(["mlx-community/Llama-3.2-1B-Instruct-4bit"])
    );
    assert_eq!(params["MODEL_SLUG"], json!("llama-3.2-1b-4bit"));
    assert_eq!(params["package_mlx-lm"], json!("0.31.3"));
    // From the command line: `--iters 128 --batch-size 1 --val-batches 1`.
    assert_eq!(params["iters"], json!(128));
    assert_eq!(params["val_batches"], json!(1));
    assert_eq!(params["train"], json!(true));
    assert_eq!(
        params["combined_result_file"],
        json!("benchmark-results/paczero_subset_results.json")
    );
    assert!(
        params.get("derived").is_none(),
        "no accumulation steps printed"
    );
}

#[test]
fn old_minimal_config_alone_is_a_params_only_run() {
    let runs = read_run(
        base(),
        &[text("runs/a/adapters/adapter_config.json", OLD_CONFIG)],
    );
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        run.params,
        json!({"num_layers": 8, "lora_parameters": {"rank": 8, "scale": 10.0, "dropout": 0.0}})
    );
    assert!(run.metrics.is_empty());
    assert_eq!(run.status, Status::Unknown);
    assert!(run.status_reason.contains("params only"));
}

#[test]
fn gen_corpus_shapes_crash_nan_and_accumulation() {
    let config = r#"{"batch_size": 8, "grad_accumulation_steps": 4, "iters": 2000, "lora_parameters": {"rank": 8}}"#;
    let log = "Loading pretrained model\nFetching 12 files: 100%|██████████| 12/12 [00:00<00:00, 9000.00it/s]\n\
        Starting training..., iters: 2000\nIter 1: Val loss 2.821, Val took 28.928s\n\
        Iter 10: Train loss 2.600, Learning Rate 4.400e-05, It/sec 1.344, Tokens/sec 40624.457, Trained Tokens 327680, Peak mem 9.760 GB\n\
        Iter 20: Train loss nan, Learning Rate 8.400e-05, It/sec 1.344, Tokens/sec 39903.965, Trained Tokens 655360, Peak mem 9.760 GB\n\
        Iter 20: Val loss nan, Val took 28.928s\n\
        libc++abi: terminating due to uncaught exception of type std::runtime_error: [METAL] Command buffer execution failed: Insufficient Memory\n";
    let runs = read_run(
        base(),
        &[
            text("runs/a/adapters/adapter_config.json", config),
            text("runs/a/training_output.log", log),
        ],
    );
    let run = &runs[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.status, Status::Failed);
    assert!(
        run.status_reason.contains("libc++abi"),
        "{}",
        run.status_reason
    );
    assert!(values(run, "train_loss")[1].1.is_nan());
    assert_eq!(run.params["derived"]["effective_batch_size"], json!(32));
    let error = run
        .events
        .iter()
        .find(|e| e.kind == EventKind::Error)
        .unwrap();
    assert_eq!((error.step, error.line), (Some(20), Some(8)));
}

#[test]
fn traceback_after_prefixes_fails_the_run() {
    let log = "2026-03-01 10:00:00 Starting training..., iters: 100\n\
        2026-03-01 10:00:10 Iter 10: Train loss 2.0, It/sec 1.0, Tokens/sec 100.0\n\
        2026-03-01 10:00:20 Iter 20: Train loss 1.5, It/sec 1.0, Tokens/sec 100.0\n\
        2026-03-01 10:00:21 Traceback (most recent call last):\n\
        2026-03-01 10:00:21   File \"lora.py\", line 3, in <module>\n\
        2026-03-01 10:00:21 RuntimeError: [metal::malloc] Attempting to allocate 9 bytes\n";
    let run = &read(log)[0];
    assert_eq!(run.status, Status::Failed);
    assert!(
        run.status_reason.contains("RuntimeError: [metal::malloc]"),
        "{}",
        run.status_reason
    );
    assert_eq!(count(run, EventKind::Traceback), 1);
    assert_eq!(run.started.as_deref(), Some("2026-03-01 10:00:00"));
    assert_eq!(run.duration_seconds, Some(21.0));
    assert_eq!(run.date.as_deref(), Some("2026-03-01"));
    let loss = &run
        .metrics
        .iter()
        .find(|s| s.name == "train_loss")
        .unwrap()
        .points;
    assert_eq!(loss[1].wall_time, Some(20.0));
}

#[test]
fn old_versions_run_prefixes_and_test_lines() {
    let log =
        "[run-7/step/4 (pid 79246)] Iter 1: Train loss 2.345, It/sec 0.538, Tokens/sec 203.582\r\n\
        [run-7/step/4 (pid 79246)] Iter 2: Val loss 2.100, Val took 29.715s\r\n\
        [run-7/step/4 (pid 79246)] Saved final adapter weights to adapters.npz.\r\n\
        Testing\r\nTest loss 1.234, Test ppl 3.434.\r\n";
    let run = &read(log)[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(values(run, "test_loss"), [(2, 1.234)]);
    assert_eq!(values(run, "test_ppl"), [(2, 3.434)]);
    assert_eq!(values(run, "tokens_per_sec"), [(1, 203.582)]);
    assert_eq!(run.status, Status::Completed);
}

#[test]
fn newer_table_output_with_colours() {
    let run = &read(TABLE_LOG)[0];
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(values(run, "train_loss"), [(500, 1.234), (1000, 1.301)]);
    assert_eq!(
        values(run, "tokens_per_sec"),
        [(500, 1234.0), (1000, 987.0)]
    );
    assert_eq!(
        values(run, "trained_tokens"),
        [(500, 612500.0), (1000, 1225000.0)]
    );
    assert_eq!(values(run, "val_loss"), [(1, 2.914), (1000, 1.402)]);
    assert_eq!(values(run, "val_time_s")[1], (1000, 2.5));
    assert_eq!(
        run.events
            .iter()
            .find(|e| e.kind == EventKind::Checkpoint)
            .unwrap()
            .step,
        Some(500)
    );
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.params["iters"], json!(1000));
    assert_eq!(run.params["lora_parameters"]["rank"], json!(8));
}

#[test]
fn a_log_of_two_trainings_gives_two_runs() {
    let one = "MODEL=org/first-model\nLoading pretrained model\nStarting training..., iters: 2\n\
        Iter 1: Train loss 3.0\nIter 2: Train loss 2.0\nSaved final weights to a.\n";
    let two = "MODEL=org/second-model\nLoading pretrained model\nStarting training..., iters: 2\n\
        Iter 1: Train loss 4.0\nTraceback (most recent call last):\n  File \"x\"\nValueError: boom\n";
    let log = format!("batch_size=2\n{one}{two}");
    let runs = read(&log);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].path, "runs/a/train.log#1");
    assert_eq!(runs[1].name, "second-model");
    assert_eq!(runs[0].status, Status::Completed);
    assert_eq!(runs[1].status, Status::Failed);
    assert_eq!(values(&runs[1], "train_loss"), [(1, 4.0)]);
    assert_eq!(
        runs[1].params["batch_size"],
        json!(2),
        "the header is shared"
    );
    assert_eq!(runs[1].params["MODEL"], json!("org/second-model"));
}

#[test]
fn a_separate_test_invocation_belongs_to_the_training_before_it() {
    let log = "Loading pretrained model\nStarting training..., iters: 2\nIter 2: Train loss 2.0\n\
        Saved final weights to a.\nLoading pretrained model\nTesting\nTest loss 1.5, Test ppl 4.482.\n";
    let runs = read(log);
    assert_eq!(runs.len(), 1);
    assert_eq!(values(&runs[0], "test_ppl"), [(2, 4.482)]);
    assert_eq!(runs[0].status, Status::Completed);
}

#[test]
fn several_logs_in_one_folder_are_one_run_each() {
    let runs = read_run(
        base(),
        &[
            text("runs/a/adapters/adapter_config.json", OLD_CONFIG),
            text("runs/a/first.log", "Iter 1: Train loss 1.0\n"),
            text("runs/a/second.txt", "Iter 1: Train loss 2.0\n"),
        ],
    );
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[1].path.as_str(), runs[1].name.as_str()),
        ("runs/a/second.txt", "second")
    );
    assert_eq!(runs[1].params["num_layers"], json!(8));
}

#[test]
fn torn_last_line_warns_and_drops_the_cut_number() {
    let run = &read("Iter 1: Train loss 2.0, It/sec 1.5\nIter 2: Train loss 1.9, It/sec 1.")[0];
    assert_eq!(values(run, "train_loss"), [(1, 2.0), (2, 1.9)]);
    assert_eq!(values(run, "it_per_sec"), [(1, 1.5)]);
    assert_eq!(run.problems.len(), 1);
    assert_eq!(run.problems[0].severity, Severity::Warning);
    assert!(run.problems[0].message.contains("incomplete"));
}

#[test]
fn sniffs_logs_and_rejects_other_formats() {
    assert!(looks_like_mlx_log(SMOKE_LOG));
    assert!(looks_like_mlx_log(
        &WRAPPER_LOG[..8192.min(WRAPPER_LOG.len())]
    ));
    assert!(looks_like_mlx_log(TABLE_LOG));
    assert!(looks_like_mlx_log(
        "\u{feff}Loading pretrained model\nStarting training..., iters: 5\n"
    ));
    let training_log = "Training configuration:\n  Batch size: 8\nStarting training...\n\
        Epoch 1:  10%|█         | 10/100 [00:01<00:09, loss=2.31]\rEpoch 1:  20%|██        | 20/100 [00:02<00:08, loss=2.1]\n\
        Validation loss: 2.05\n";
    assert!(!looks_like_mlx_log(training_log));
    let nanogpt = "print0(f\"step:{step}/{train_steps} val_loss:{val_loss:.4f}\")\n\
        step:0/1750 val_loss:10.8258 train_time:0ms step_avg:nanms\n";
    assert!(!looks_like_mlx_log(nanogpt));
    let json_tail = "{\"tail_30_lines\": [\n  \"Iter 128: Val loss 0.773, Val took 0.223s\",\n]}";
    assert!(!looks_like_mlx_log(json_tail));
    assert!(!looks_like_mlx_log(
        "print(f\"Iter {it}: Train loss {loss:.3f}\")\n"
    ));
    assert!(!looks_like_mlx_log("epoch,loss,val_loss\n0,1,2\n"));
}

#[test]
fn adapter_config_sniff_tells_mlx_from_peft() {
    assert!(looks_like_mlx_adapter_config(NEW_CONFIG));
    assert!(looks_like_mlx_adapter_config(OLD_CONFIG));
    let peft = r#"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]}"#;
    assert!(!looks_like_mlx_adapter_config(peft));
}

#[test]
fn mangled_fixtures_never_panic() {
    let mut state: u64 = 7;
    for fixture in [SMOKE_LOG, WRAPPER_LOG, TABLE_LOG, NEW_CONFIG] {
        let bytes = fixture.as_bytes();
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let cut_text = String::from_utf8_lossy(&bytes[..cut]);
            let _ = looks_like_mlx_log(&cut_text);
            read_run(
                base(),
                &[
                    text("r/adapters/adapter_config.json", &cut_text),
                    text("r/t.log", &cut_text),
                ],
            );
            let mut flipped = bytes.to_vec();
            for _ in 0..8 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (state >> 33) as usize % flipped.len();
                flipped[at] = (state >> 20) as u8;
            }
            let flipped = String::from_utf8_lossy(&flipped);
            let _ = looks_like_mlx_log(&flipped);
            read(&flipped);
        }
    }
}
