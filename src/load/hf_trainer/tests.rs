//! Tests of the whole reader on strings, its claim on small trees, and no-panic loops.

use super::*;
use crate::model::{Artifact, Family, Severity, Split};
use serde_json::json;

const REAL: &str = include_str!(
    "../../../tests/fixtures/realruns/hf_trainer_state/aigoncharov__trainer_state_viz/trainer_state.json"
);

fn source(rel: &str, text: &str) -> SourceText {
    SourceText::from_text(rel, text)
}

fn read(texts: &[SourceText]) -> Run {
    let mut run = Run::new("out", "", "hf_trainer");
    for n in [400, 800] {
        run.artifacts.push(Artifact {
            kind: ArtifactKind::Checkpoint,
            path: format!("out/checkpoint-{n}"),
            bytes: 1,
            files: 1,
        });
    }
    let mut runs = read_run(run, texts);
    assert_eq!(runs.len(), 1);
    let mut run = runs.remove(0);
    run.finish_metrics();
    run
}

fn state(history: &str, global_step: u64, max_steps: u64, stop: bool) -> String {
    format!(
        "{{\n  \"best_metric\": 0.9,\n  \"best_model_checkpoint\": \"out/checkpoint-400\",\n  \"global_step\": {global_step},\n  \
         \"log_history\": [\n{history}\n  ],\n  \"max_steps\": {max_steps},\n  \"stateful_callbacks\": {{\"TrainerControl\": \
         {{\"args\": {{\"should_training_stop\": {stop}}}}}}},\n  \"train_batch_size\": 8\n}}\n"
    )
}

const HISTORY: &str =
    "    {\"epoch\": 0.5, \"learning_rate\": 1e-4, \"loss\": 2.0, \"step\": 400},\n    \
    {\"epoch\": 0.5, \"eval_loss\": 1.9, \"step\": 400},\n    \
    {\"epoch\": 1.0, \"learning_rate\": 5e-5, \"loss\": 1.5, \"step\": 800}";

#[test]
fn real_file_six_eval_datasets_and_completed_by_steps() {
    let run = read(&[source("out/trainer_state.json", REAL)]);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.status, Status::Completed, "{}", run.status_reason);
    assert!(run
        .status_reason
        .contains("global_step 12030 of max_steps 12030"));
    let loss = run.series(Family::Loss, Split::Train).unwrap();
    assert_eq!((loss.name.as_str(), loss.points.len()), ("loss", 30));
    assert_eq!((loss.points[0].step, loss.points[0].value), (401, 1.1074));
    assert_eq!(loss.points[0].epoch, Some(1.0));
    for g in 0..6 {
        let name = format!("eval_g{g}_loss");
        let s = run.metrics.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            (s.family, s.split, s.points.len()),
            (Family::Loss, Split::Val, 31)
        );
        assert_eq!(s.points[0].step, 0);
    }
    assert_eq!(run.params["global_step"], json!(12030));
    assert_eq!(run.params["best_metric"], json!(null));
    assert!(run.params.get("log_history").is_none());
    let evals = run
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Validation)
        .count();
    assert_eq!(evals, 31, "one event per eval step, not per dataset");
    assert_eq!(run.duration_seconds, None);
}

#[test]
fn summary_results_and_model_config() {
    let history = format!(
        "{HISTORY},\n    {{\"epoch\": 1.0, \"step\": 800, \"total_flos\": 1.2e15, \"train_loss\": 1.7, \"train_runtime\": 99.5}}"
    );
    let run = read(&[
        source(
            "out/config.json",
            "{\"model_type\": \"llama\", \"hidden_size\": 2048}",
        ),
        source(
            "out/all_results.json",
            "{\"epoch\": 1.0, \"eval_loss\": NaN, \"train_loss\": 1.7}",
        ),
        source(
            "out/eval_results.json",
            "{\"eval_loss\": 5.0, \"eval_samples\": 10}",
        ),
        source("out/trainer_state.json", &state(&history, 800, 1000, false)),
    ]);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.status, Status::Completed);
    assert!(
        run.status_reason
            .contains("final summary entry at step 800"),
        "{}",
        run.status_reason
    );
    assert_eq!(run.duration_seconds, Some(99.5));
    let results = &run.params["results"];
    assert_eq!(results["eval_loss"], json!("NaN"), "all_results wins");
    assert_eq!(results["eval_samples"], json!(10));
    assert_eq!(results["train_runtime"], json!(99.5));
    assert!(results.get("step").is_none());
    assert_eq!(run.params["model_config"]["model_type"], json!("llama"));
    assert_eq!(run.params["train_batch_size"], json!(8));
    assert_eq!(run.params["max_steps"], json!(1000));
    let loss = run.metrics.iter().find(|s| s.name == "loss").unwrap();
    assert_eq!(
        loss.points.len(),
        2,
        "the summary's train_loss is not a point"
    );
    assert!(run
        .metrics
        .iter()
        .all(|s| s.name != "train_loss" && s.name != "total_flos"));
    let events: Vec<_> = run.events.iter().map(|e| (e.kind, e.step)).collect();
    assert_eq!(
        events,
        vec![
            (EventKind::Validation, Some(400)),
            (EventKind::Checkpoint, Some(400)),
            (EventKind::Checkpoint, Some(800)),
            (EventKind::Finish, Some(800)),
        ]
    );
    assert_eq!(
        run.events[1].message,
        "saved checkpoint-400 (best_model_checkpoint)"
    );
    assert_eq!(run.events[0].line, Some(7));
}

#[test]
fn status_from_steps_and_stop_flag() {
    let run = read(&[source(
        "out/trainer_state.json",
        &state(HISTORY, 800, 2000, false),
    )]);
    assert_eq!(run.status, Status::Unknown);
    assert!(
        run.status_reason
            .contains("global_step 800 of max_steps 2000"),
        "{}",
        run.status_reason
    );
    let run = read(&[source(
        "out/trainer_state.json",
        &state(HISTORY, 800, 2000, true),
    )]);
    assert_eq!(run.status, Status::Completed);
    assert!(run.status_reason.contains("should_training_stop"));
}

#[test]
fn a_checkpoint_snapshot_is_a_run_never_closed() {
    let run = read(&[source(
        "out/checkpoint-800/trainer_state.json",
        &state(HISTORY, 800, 2000, false),
    )]);
    assert_eq!(run.status, Status::Running);
    assert!(
        run.status_reason
            .contains("no top-level trainer_state.json")
            && run.status_reason.contains("checkpoint-800/"),
        "{}",
        run.status_reason
    );
    let run = read(&[source(
        "out/checkpoint-800/trainer_state.json",
        &state(HISTORY, 800, 800, false),
    )]);
    assert_eq!(run.status, Status::Completed);
    assert!(
        run.status_reason.contains("read from checkpoint-800/"),
        "{}",
        run.status_reason
    );
    assert_eq!(
        checkpoint_folder("", "checkpoint-5/trainer_state.json").as_deref(),
        Some("checkpoint-5")
    );
    assert_eq!(checkpoint_folder("a", "a/trainer_state.json"), None);
}

#[test]
fn damaged_files_are_problems_with_lines() {
    let cut = state(HISTORY, 800, 2000, false);
    let cut = &cut[..cut.find("\"step\": 800").unwrap()];
    let run = read(&[
        source("out/config.json", "{\"a\": }"),
        source("out/all_results.json", "[1]"),
        source("out/trainer_state.json", cut),
    ]);
    let problems: Vec<_> = run
        .problems
        .iter()
        .map(|p| (p.severity, p.file.as_str(), p.line))
        .collect();
    assert_eq!(
        problems,
        vec![
            (Severity::Error, "out/config.json", Some(1)),
            (Severity::Warning, "out/all_results.json", None),
            (Severity::Error, "out/trainer_state.json", Some(8)),
        ]
    );
    assert!(
        run.problems[2].message.contains("cut short"),
        "{}",
        run.problems[2].message
    );
    assert!(run.problems[2]
        .message
        .contains("read the 2 log_history entries"));
    assert_eq!(
        run.metrics
            .iter()
            .find(|s| s.name == "loss")
            .unwrap()
            .points
            .len(),
        1
    );
    assert_eq!(run.status, Status::Unknown);
    assert!(
        run.status_reason.contains("damaged"),
        "{}",
        run.status_reason
    );
    assert_eq!(run.params["global_step"], json!(800));
    assert!(run.params.get("model_config").is_none());
}

#[test]
fn wrong_types_in_the_header_and_history() {
    let text = "{\"global_step\": \"800\", \"log_history\": {\"loss\": 1}, \"max_steps\": -1}";
    let run = read(&[source("out/trainer_state.json", text)]);
    assert_eq!(run.problems.len(), 1);
    assert!(run.problems[0].message.contains("is an object, not a list"));
    assert_eq!(run.status, Status::Unknown);
    assert!(
        run.status_reason.contains("no global_step"),
        "{}",
        run.status_reason
    );
    let run = read(&[source("out/trainer_state.json", "{\"global_step\": 3}")]);
    assert_eq!(run.problems[0].severity, Severity::Warning);
    // Claimed but unreadable (the IO problem is on the run already).
    let mut claimed = Run::new("out", "", "hf_trainer");
    claimed.sources.push("out/trainer_state.json".into());
    let run = read_run(claimed, &[]).remove(0);
    assert_eq!(run.status_reason, "trainer_state.json could not be read");
    // Never written: a folder with only the model config and card.
    let run = read(&[]);
    assert_eq!(run.status, Status::Running);
    assert!(
        run.status_reason.contains("saved nothing"),
        "{}",
        run.status_reason
    );
}

#[test]
fn sniffs_trainer_state_heads() {
    assert!(looks_like_trainer_state(
        "\u{feff}\n{\n  \"best_global_step\": null,\n  \"best_metric\""
    ));
    assert!(looks_like_trainer_state(
        "{\"epoch\": 1, \"global_step\": 5"
    ));
    assert!(!looks_like_trainer_state("{\"model_type\": \"llama\"}"));
    assert!(!looks_like_trainer_state("[\"log_history\"]"));
    assert!(!looks_like_trainer_state(""));
    assert_eq!(checkpoint_number("checkpoint-500"), Some(500));
    assert_eq!(checkpoint_number("checkpoint-best"), None);
    assert_eq!(checkpoint_number("checkpoint_500"), None);
}

#[test]
fn claims_top_level_state_or_the_latest_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let st = "{\"global_step\": 1, \"log_history\": []}";
    write("done/trainer_state.json", st);
    write("done/config.json", "{}");
    write("done/all_results.json", "{}");
    write("done/README.md", "# card");
    write("done/checkpoint-9/trainer_state.json", st);
    write("crashed/checkpoint-200/trainer_state.json", st);
    write("crashed/checkpoint-1000/trainer_state.json", st);
    write("crashed/checkpoint-3000/other.txt", "x");
    write("crashed/README.md", "# top card");
    write("crashed/checkpoint-1000/README.md", "# adapter card");
    write("stopped/checkpoint-5/trainer_state.json", st);
    write("stopped/README.md", "# top card");
    write("model/config.json", "{\"model_type\": \"llama\"}");
    write("other/trainer_state.json", "{\"model_type\": \"x\"}");
    let tree = crate::discover::walk(root, None).unwrap();
    let claimed = |dir: &str| -> Vec<String> {
        let folder = tree.folder(dir).unwrap();
        claim(&FolderView {
            tree: &tree,
            dir,
            folder,
        })
        .into_iter()
        .map(|f| f.rel)
        .collect()
    };
    assert_eq!(
        claimed("done"),
        vec![
            "done/config.json",
            "done/all_results.json",
            "done/trainer_state.json",
            "done/README.md"
        ]
    );
    // The card beside the state that is read, else the run folder's.
    assert_eq!(
        claimed("crashed"),
        vec![
            "crashed/checkpoint-1000/trainer_state.json",
            "crashed/checkpoint-1000/README.md"
        ]
    );
    assert_eq!(
        claimed("stopped"),
        vec![
            "stopped/checkpoint-5/trainer_state.json",
            "stopped/README.md"
        ]
    );
    assert_eq!(
        claimed("crashed/checkpoint-200"),
        vec!["crashed/checkpoint-200/trainer_state.json"]
    );
    assert!(claimed("model").is_empty());
    assert!(claimed("other").is_empty());
    assert!(claimed("").is_empty());
}

#[test]
fn the_model_card_is_kept_and_its_bad_front_matter_is_only_a_warning() {
    let card = "---\nlicense: apache-2.0\ntags: [a\n---\n# out\n";
    let run = read(&[
        source("out/trainer_state.json", &state(HISTORY, 800, 800, false)),
        source("out/README.md", card),
    ]);
    assert_eq!(
        run.status,
        Status::Completed,
        "the card never costs the run"
    );
    assert_eq!(run.metrics.len(), 3);
    let card = run.model_card.as_ref().unwrap();
    assert_eq!(
        (card.file.as_str(), card.body.as_str()),
        ("out/README.md", "# out\n")
    );
    assert_eq!(run.problems.len(), 1, "{:?}", run.problems);
    let p = &run.problems[0];
    assert_eq!(
        (p.severity, p.file.as_str()),
        (Severity::Warning, "out/README.md")
    );
    assert!(p.line.is_some(), "{p:?}");
}

#[test]
fn mangled_real_file_never_panics() {
    let mut state_rng: u64 = 7;
    let mut next = move || {
        state_rng = state_rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state_rng >> 33) as usize
    };
    let bytes = REAL.as_bytes();
    for cut in (0..bytes.len()).step_by(97) {
        let text = String::from_utf8_lossy(&bytes[..cut]);
        read(&[source("out/trainer_state.json", &text)]);
    }
    let noise = b"{}[]\":,0123456789.eE-+ NaNInfinity\\u\r\n\x00\xff";
    for _ in 0..200 {
        let mut mangled = bytes.to_vec();
        for _ in 0..1 + next() % 8 {
            let at = next() % mangled.len();
            mangled[at] = noise[next() % noise.len()];
        }
        let text = String::from_utf8_lossy(&mangled);
        let run = read(&[source("out/trainer_state.json", &text)]);
        assert!(run.params.is_object());
    }
    for len in 0..300 {
        let garbage: Vec<u8> = (0..len).map(|_| noise[next() % noise.len()]).collect();
        let text = String::from_utf8_lossy(&garbage);
        read(&[
            source("out/all_results.json", &text),
            source(
                "out/trainer_state.json",
                &format!("{{\"log_history\": [{text}"),
            ),
        ]);
        let _ = looks_like_trainer_state(&text);
    }
}
