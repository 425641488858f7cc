//! The W&B reader end to end: the real TinyLM run folder (a summary only),
//! and a hand-made `wandb/` folder with a full run (wrapped config, metadata,
//! summary), a crashed run whose `output.log` ends in a traceback, and a
//! real-copy `latest-run` that must not become a second run.

use std::path::Path;

mod common;
use common::{build, metric, no_problems, run_by_path, write};

#[test]
fn real_tinylm_summary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realruns/wandb");
    let tmp = tempfile::tempdir().unwrap();
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 1);
    let run = run_by_path(
        &runs,
        "AuroraEchos__TinyLM/wandb/run-20260211_131227-eziofh0f",
    );
    assert_eq!(run["format"], "wandb");
    assert_eq!(run["name"], "eziofh0f");
    assert_eq!(run["date"], "2026-02-11");
    assert_eq!(run["status"], "unknown");
    assert_eq!(
        run["status_reason"],
        "W&B summary has final values; the history (.wandb binary) is not read"
    );
    assert_eq!(run["ended"], "2026-02-11T06:56:58.710Z");
    assert_eq!(run["duration_seconds"], 6270.051630008);
    let names: Vec<&str> = run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "train/loss",
            "val/loss",
            "val/ppl",
            "train/lr",
            "update_step"
        ]
    );
    let loss = metric(run, "val/loss");
    assert_eq!(
        (&loss["family"], &loss["split"]),
        (&"loss".into(), &"val".into())
    );
    assert_eq!(loss["points"], 1);
    assert_eq!(loss["last"], 3.487562326192856);
    assert_eq!(loss["last_step"], 53560);
    assert_eq!(metric(run, "val/ppl")["family"], "perplexity");
    assert_eq!(metric(run, "train/lr")["family"], "learning_rate");
    no_problems(run);
}

const CONFIG: &str = "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    python_version: 3.10.12\n    cli_version: 0.16.0\nlearning_rate:\n  desc: null\n  value: 0.0003\nbatch_size:\n  desc: null\n  value: 32\nwandb:\n  desc: null\n  value:\n    run_name: tiny-lr3e-4\n";
const METADATA: &str = r#"{"os": "Linux", "python": "3.10.12", "startedAt": "2026-03-01T10:00:00.000000", "program": "/home/u/train.py", "args": ["--lr", "3e-4"], "host": "gpu-node-1", "email": "someone@example.com", "gpu_count": 1}"#;

#[test]
fn hand_made_wandb_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let ok = "wandb/run-20260301_100000-okrun123/files";
    write(&root, &format!("{ok}/config.yaml"), CONFIG);
    write(&root, &format!("{ok}/wandb-metadata.json"), METADATA);
    write(
        &root,
        &format!("{ok}/wandb-summary.json"),
        r#"{"train/loss": 1.25, "eval/accuracy": 0.8, "_step": 400, "_runtime": 120.5, "_timestamp": 1772359320.5, "samples": {"_type": "table-file"}}"#,
    );
    write(
        &root,
        &format!("{ok}/output.log"),
        "epoch 1\nepoch 2\ndone\n",
    );
    // A real copy of the same run, as some file systems leave it.
    write(
        &root,
        "wandb/latest-run/files/wandb-summary.json",
        r#"{"train/loss": 1.25, "_step": 400}"#,
    );
    let bad = "wandb/run-20260302_090000-crash999/files";
    write(
        &root,
        &format!("{bad}/wandb-summary.json"),
        r#"{"train/loss": NaN, "_step": 12}"#,
    );
    write(
        &root,
        &format!("{bad}/output.log"),
        "step 10\r\nTraceback (most recent call last):\r\n  File \"train.py\", line 88, in <module>\r\n    loss.backward()\r\ntorch.OutOfMemoryError: CUDA out of memory.\r\n",
    );
    let runs = build(&root, &tmp.path().join("site"));
    assert_eq!(runs.len(), 2, "{runs:?}");

    let run = run_by_path(&runs, "wandb/run-20260301_100000-okrun123");
    assert_eq!(run["format"], "wandb");
    assert_eq!(run["name"], "tiny-lr3e-4");
    assert_eq!(run["started"], "2026-03-01T10:00:00.000000");
    let params = run["params"].as_object().unwrap();
    assert_eq!(params["learning_rate"], "0.0003");
    assert_eq!(params["batch_size"], "32");
    assert_eq!(params["wandb_metadata.host"], "gpu-node-1");
    assert_eq!(params["wandb_metadata.program"], "/home/u/train.py");
    assert!(params
        .keys()
        .all(|k| !k.starts_with("_wandb") && !k.contains("email")));
    assert_eq!(run["status"], "unknown");
    assert_eq!(metric(run, "train/loss")["last_step"], 400);
    let acc = metric(run, "eval/accuracy");
    assert_eq!(
        (&acc["family"], &acc["split"]),
        (&"accuracy".into(), &"val".into())
    );
    assert_eq!(run["metrics"].as_array().unwrap().len(), 2);
    no_problems(run);

    let run = run_by_path(&runs, "wandb/run-20260302_090000-crash999");
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["status_reason"],
        "torch.OutOfMemoryError: CUDA out of memory. (wandb/run-20260302_090000-crash999/files/output.log:5)"
    );
    assert_eq!(metric(run, "train/loss")["last"], "NaN");
    no_problems(run);
}
