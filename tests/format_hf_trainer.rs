//! The Hugging Face Trainer reader end to end: the real `trainer_state.json`
//! fixture, hand-made output folders (checkpoints only, checkpoints beside the
//! final state), and a gen_corpus tree checked against its truth file when
//! `python3` is available.

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{build, gen_corpus, metric, no_problems, run_by_path, tfevents, write};

fn real_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns/hf_trainer_state")
}

fn real_state() -> String {
    fs::read_to_string(real_fixture().join("aigoncharov__trainer_state_viz/trainer_state.json"))
        .unwrap()
}

#[test]
fn real_trainer_state_with_six_eval_datasets() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(&real_fixture(), &tmp.path().join("site"));
    assert_eq!(runs.len(), 1);
    let run = run_by_path(&runs, "aigoncharov__trainer_state_viz");
    assert_eq!(run["format"], "hf_trainer");
    assert_eq!(run["status"], "completed", "{}", run["status_reason"]);
    assert_eq!(
        run["problems"].as_array().unwrap().len(),
        0,
        "{}",
        run["problems"]
    );
    assert_eq!(run["params"]["global_step"], "12030");
    assert_eq!(run["params"]["max_steps"], "12030");

    let loss = metric(run, "loss");
    assert_eq!(
        (loss["family"].as_str(), loss["split"].as_str()),
        (Some("loss"), Some("train"))
    );
    assert_eq!(loss["points"], 30);
    assert_eq!(loss["first"], 1.1074);
    assert_eq!(loss["last_step"], 12030);
    let lr = metric(run, "learning_rate");
    assert_eq!(
        (lr["family"].as_str(), lr["points"].as_u64()),
        (Some("learning_rate"), Some(30))
    );
    assert_eq!(metric(run, "grad_norm")["family"], "grad_norm");

    // Six datasets evaluated at the same 31 steps (step 0 before any training).
    for g in 0..6 {
        let eval = metric(run, &format!("eval_g{g}_loss"));
        assert_eq!(
            (eval["family"].as_str(), eval["split"].as_str()),
            (Some("loss"), Some("val"))
        );
        assert_eq!(eval["points"], 31);
        let acc = metric(run, &format!("eval_g{g}_accuracy"));
        assert_eq!(
            (acc["family"].as_str(), acc["split"].as_str()),
            (Some("accuracy"), Some("val"))
        );
    }
    let g0 = metric(run, "eval_g0_loss");
    assert_eq!(g0["first"], 5.741583347320557);
    assert_eq!(g0["last_step"], 12030);
    assert!(g0["best"].as_f64().unwrap() < 1.2);
    assert_eq!(metric(run, "eval_g5_loss")["last"], 4.835134983062744);
}

#[test]
fn checkpoints_are_snapshots_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    let state = real_state();
    // Only checkpoints: the latest is read, the others are its artifacts.
    let early = state
        .replace("\"global_step\": 12030", "\"global_step\": 8000")
        .replace(
            "\"should_training_stop\": true",
            "\"should_training_stop\": false",
        );
    write(&root, "crashed/checkpoint-4000/trainer_state.json", &early);
    write(&root, "crashed/checkpoint-8000/trainer_state.json", &early);
    write(&root, "crashed/config.json", "{\"model_type\": \"gpt2\"}");
    write(&root, "crashed/training_args.bin", "\u{0}\u{1}pickle");
    // The final state beside checkpoints, and a summary file.
    write(&root, "done/trainer_state.json", &state);
    write(&root, "done/checkpoint-12030/trainer_state.json", &state);
    write(
        &root,
        "done/all_results.json",
        "{\"epoch\": 30.0, \"train_runtime\": 1234.5, \"train_loss\": NaN}\n",
    );
    write(
        &root,
        "done/README.md",
        "---\nlibrary_name: transformers\n---\n# card\n",
    );
    let runs = build(&root, &tmp.path().join("site"));
    let paths: Vec<&str> = runs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "{paths:?}");

    let crashed = run_by_path(&runs, "crashed");
    assert_eq!(crashed["format"], "hf_trainer");
    assert_eq!(crashed["status"], "running");
    let reason = crashed["status_reason"].as_str().unwrap();
    assert!(
        reason.contains("checkpoint-8000/")
            && reason.contains("global_step 8000 of max_steps 12030"),
        "{reason}"
    );
    assert_eq!(crashed["params"]["model_config.model_type"], "gpt2");
    assert_eq!(metric(crashed, "loss")["points"], 30);
    assert_eq!(crashed["problems"].as_array().unwrap().len(), 0);

    let done = run_by_path(&runs, "done");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["params"]["results.train_runtime"], "1234.5");
    assert_eq!(done["params"]["results.train_loss"], "NaN");
    assert_eq!(done["duration_seconds"], 1234.5);
    assert_eq!(done["problems"].as_array().unwrap().len(), 0);
}

/// A card as `trainer.create_model_card()` writes it.
const TRAINER_CARD: &str = "---
library_name: transformers
license: apache-2.0
base_model: TinyLlama/TinyLlama-1.1B-Chat-v1.0
tags:
- generated_from_trainer
- sft
datasets:
- HuggingFaceH4/ultrachat_200k
model-index:
- name: tinyllama-sft
  results: []
---

<!-- This model card has been generated automatically according to the information the Trainer had access to. You
should probably proofread and complete it, then remove this comment. -->

# tinyllama-sft

This model is a fine-tuned version of [TinyLlama/TinyLlama-1.1B-Chat-v1.0](https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0) on the HuggingFaceH4/ultrachat_200k dataset.

## Training procedure

### Training results

| Training Loss | Epoch | Step | Validation Loss |
|:-------------:|:-----:|:----:|:---------------:|
| 1.4567        | 1.0   | 400  | 1.3456          |

### Framework versions

- Transformers 4.46.0
";

fn page_of(site: &Path, run: &serde_json::Value) -> String {
    fs::read_to_string(site.join(run["page"].as_str().unwrap())).unwrap()
}

#[test]
fn the_model_card_is_shown_on_the_run_page() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    write(&root, "sft/trainer_state.json", &real_state());
    write(&root, "sft/README.md", TRAINER_CARD);
    write(&root, "bad-card/trainer_state.json", &real_state());
    write(
        &root,
        "bad-card/README.md",
        "---\nlicense: [mit\n---\n# Still here\n",
    );
    let site = tmp.path().join("site");
    let runs = build(&root, &site);
    assert_eq!(runs.len(), 2);

    let sft = run_by_path(&runs, "sft");
    no_problems(sft);
    let card = &sft["model_card"];
    assert_eq!(card["file"], "sft/README.md");
    assert_eq!(
        card["front_matter"]["base_model"],
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    );
    assert_eq!(
        card["front_matter"]["tags"],
        "[\"generated_from_trainer\",\"sft\"]"
    );
    assert!(card.get("body").is_none(), "runs.json holds no card body");
    let page = page_of(&site, sft);
    assert!(page.contains("<h2>Model card</h2>"), "{page}");
    assert!(
        page.contains("<th>license</th><td>apache-2.0</td>"),
        "{page}"
    );
    assert!(page.contains("<h3>tinyllama-sft</h3>"), "{page}");
    assert!(
        page.contains("<td>1.4567</td>"),
        "the results table: {page}"
    );
    assert!(!page.contains("proofread"), "the HTML comment is dropped");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the site's own script"
    );
    let run_json =
        fs::read_to_string(site.join(format!("runs/{}/run.json", sft["id"].as_str().unwrap())))
            .unwrap();
    assert!(
        run_json.contains("\"body\":\"\\n<!-- This model card"),
        "run.json keeps the body as written"
    );

    // A card that does not parse costs a warning, never the run or its body.
    let bad = run_by_path(&runs, "bad-card");
    assert_eq!(bad["status"], "completed");
    let problems = bad["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (&problems[0]["severity"], &problems[0]["file"]),
        (&"warning".into(), &"bad-card/README.md".into())
    );
    assert!(problems[0]["line"].as_u64().is_some());
    assert!(page_of(&site, bad).contains("<h3>Still here</h3>"));
}

/// A finished Trainer's state: loss and learning rate at steps 10 and 20, an eval at 20, the summary.
const SMALL_STATE: &str = r#"{"global_step": 20, "max_steps": 20, "log_history": [
  {"epoch": 0.5, "learning_rate": 1e-4, "loss": 2.5, "step": 10},
  {"epoch": 1.0, "learning_rate": 5e-5, "loss": 2.0, "step": 20},
  {"epoch": 1.0, "eval_loss": 2.2, "step": 20},
  {"epoch": 1.0, "step": 20, "total_flos": 1e12, "train_loss": 2.25, "train_runtime": 30.0}
]}"#;

/// What the Trainer's TensorBoardCallback logged for [`SMALL_STATE`] (float32
/// values, so not quite the state's), plus a scalar only the events have.
fn trainer_events(start: f64) -> Vec<u8> {
    let mut scalars = Vec::new();
    for (step, loss, lr, epoch) in [(10, 2.5, 1e-4, 0.5), (20, 2.0, 5e-5, 1.0)] {
        let wall = start + step as f64;
        scalars.extend([
            (wall, step, "train/loss", loss),
            (wall, step, "train/learning_rate", lr),
            (wall, step, "train/epoch", epoch),
            (wall, step, "train/tokens_per_second", 900.0),
        ]);
    }
    let end = start + 25.0;
    scalars.extend([
        (end, 20, "eval/loss", 2.2),
        (end, 20, "train/train_runtime", 30.0),
        (end, 20, "train/train_loss", 2.25),
        (end, 20, "train/total_flos", 1e12),
    ]);
    tfevents(start, &scalars)
}

#[test]
fn trainer_state_and_its_tensorboard_files_are_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    write(&root, "out/trainer_state.json", SMALL_STATE);
    let events = "out/runs/Mar01_10-00-00_host/events.out.tfevents.1709287200.host.1.0";
    write(&root, events, "");
    fs::write(root.join(events), trainer_events(1_709_287_200.0)).unwrap();
    // Not below a Trainer run: TensorBoard runs of their own.
    let alone = "solo/runs/x/events.out.tfevents.1709287200.host.2.0";
    write(&root, alone, "");
    fs::write(root.join(alone), trainer_events(1_709_287_200.0)).unwrap();
    write(&root, "side/hf/trainer_state.json", SMALL_STATE);
    let beside = "side/runs/y/events.out.tfevents.1709287200.host.3.0";
    write(&root, beside, "");
    fs::write(root.join(beside), trainer_events(1_709_287_200.0)).unwrap();
    let site = tmp.path().join("site");
    let runs = build(&root, &site);
    let mut paths: Vec<&str> = runs.iter().map(|r| r["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["out", "side/hf", "side/runs/y", "solo/runs/x"]);
    assert_eq!(run_by_path(&runs, "solo/runs/x")["format"], "tensorboard");
    assert_eq!(run_by_path(&runs, "side/runs/y")["format"], "tensorboard");
    assert_eq!(
        metric(run_by_path(&runs, "solo/runs/x"), "train/loss")["points"],
        2
    );

    let run = run_by_path(&runs, "out");
    no_problems(run);
    assert_eq!(run["format"], "hf_trainer");
    assert_eq!(run["status"], "completed");
    let mut names: Vec<&str> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["eval_loss", "learning_rate", "loss", "tokens_per_second"],
        "one series per metric; epoch and the summary stay off the series"
    );
    assert_eq!(metric(run, "loss")["points"], 2);
    assert_eq!(
        metric(run, "learning_rate")["first"],
        1e-4,
        "the state's value, not float32's"
    );
    assert_eq!(metric(run, "tokens_per_second")["points"], 2);
    assert_eq!(
        run["duration_seconds"], 30.0,
        "train_runtime, not the events' span"
    );
    assert_eq!(run["started"], "2024-03-01T10:00:00.000Z");

    let id = run["id"].as_str().unwrap();
    let whole: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(site.join(format!("runs/{id}/run.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        whole["sources"],
        serde_json::json!(["out/trainer_state.json", format!("{events}")])
    );
    let loss = whole["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "loss")
        .unwrap();
    assert_eq!(loss["source"], "out/trainer_state.json");
    assert_eq!(
        loss["points"][1]["wall_time"], 20.0,
        "wall time from the events"
    );
    assert_eq!(loss["points"][1]["epoch"], 1.0);
    let note = whole["source_notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("runs/Mar01_10-00-00_host (tensorboard) is part of this hf_trainer run."),
        "{note}"
    );
    assert!(
        note.contains("trainer_state.json is the Trainer's own record"),
        "{note}"
    );
    let page = page_of(&site, run);
    assert!(
        page.contains("Only in tensorboard, added: tokens_per_second."),
        "{page}"
    );
}

#[test]
fn an_output_folder_killed_before_its_first_save_is_a_run_that_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    let config = r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}"#;
    let card =
        "---\nlibrary_name: transformers\nbase_model: TinyLlama/TinyLlama-1.1B\n---\n\n# sft\n";
    write(&root, "sft/config.json", config);
    write(&root, "sft/README.md", card);
    // A downloaded model (weights beside the same two files) is no run.
    write(&root, "models/llama/config.json", config);
    write(&root, "models/llama/README.md", card);
    write(&root, "models/llama/model.safetensors", "weights");
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = run_by_path(&runs, "sft");
    assert_eq!(run["format"], "hf_trainer");
    assert_eq!(run["status"], "running");
    assert!(run["status_reason"]
        .as_str()
        .unwrap()
        .contains("saved nothing"));
    assert!(
        run["metrics"].as_array().unwrap().is_empty(),
        "no invented metrics"
    );
    assert_eq!(
        run["model_card"]["front_matter"]["library_name"],
        "transformers"
    );
    let crashed = &run["diagnostics"][0];
    assert_eq!(
        (crashed["code"].as_str(), crashed["severity"].as_str()),
        (Some("crashed"), Some("warning"))
    );
}

#[test]
fn gen_corpus_runs_match_their_truth() {
    let Some(generated) = gen_corpus("hf", 20, 100) else {
        return;
    };
    let (runs, truth) = (generated.runs, generated.truth);
    let mut matched = 0;
    for t in truth["runs"].as_array().unwrap() {
        let path = t["path"].as_str().unwrap();
        let run = runs
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(run["format"], "hf_trainer");
        if run["metrics"].as_array().unwrap().is_empty() {
            // A crash before the first save leaves only config.json and the card.
            assert_eq!(t["scenario"], "crashed", "{path}");
            assert_eq!(run["status"], "running", "{path}");
            continue;
        }
        assert_eq!(
            run["problems"].as_array().unwrap().len(),
            0,
            "{path}: {}",
            run["problems"]
        );
        let loss = metric(run, "loss");
        assert_eq!(
            (loss["family"].as_str(), loss["split"].as_str()),
            (Some("loss"), Some("train"))
        );
        let eval = metric(run, "eval_loss");
        assert_eq!(eval["split"], "val");
        assert!(run["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["name"] != "train_loss"));
        if t["completed"] == true {
            assert_eq!(run["status"], "completed", "{path}");
            assert_eq!(loss["last_step"], t["last_step"], "{path}");
            assert_eq!(eval["best_step"], t["best_val_step"], "{path}");
            assert_eq!(
                loss["first_nonfinite_step"], t["first_nonfinite_step"],
                "{path}"
            );
            assert!(run["duration_seconds"].as_f64().unwrap() > 0.0);
            matched += 1;
        } else {
            // Only checkpoints remain: what came after the last save is lost.
            assert_eq!(run["status"], "running", "{path}");
            assert!(
                loss["last_step"].as_u64() <= t["last_step"].as_u64(),
                "{path}"
            );
        }
    }
    let total = truth["runs"].as_array().unwrap().len();
    println!("gen_corpus: {matched} of {total} runs matched their truth exactly");
    assert!(matched >= 15, "only {matched} completed runs matched");
}
