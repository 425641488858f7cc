//! What each reader detects, in words: `runboard formats` prints this table.
//!
//! Kept apart from the `FORMATS` table so that adding a reader is one line
//! there and one entry here; a test keeps the two in step.

/// (format name, how it is detected, what is read).
pub const DESCRIPTIONS: &[(&str, &str, &str)] = &[
    ("mlflow", "a folder with meta.yaml (run_id) and metrics/, params/ or tags/ (MLflow file store)", "metrics with timestamps and repeated steps, params, tags, status codes, start/end"),
    ("dvclive", "a folder holding dvclive/ (params.yaml, metrics.json, plots/metrics/**.tsv)", "TSV series with timestamps, params, final metrics"),
    ("sacred", "runs/N/ with run.json (Sacred FileStorageObserver)", "config.json params, metrics.json series, status and fail_trace, cout.txt errors"),
    ("tensorboard", "events.out.tfevents.* files (TFRecord + Event protobufs), train/ and validation/ subfolders as one run", "scalar summaries (simple_value or TF2 tensors) with step and wall time"),
    ("wandb", "wandb/run-<date>-<id>/files/ (or offline-run-*) with wandb-summary.json or wandb-metadata.json; config.yaml and output.log when there", "unwrapped config, final summary values, metadata, crash from output.log; not the binary history"),
    ("hf_trainer", "trainer_state.json (or the latest checkpoint-N/trainer_state.json)", "log_history series with epochs, eval datasets, results files, model config, the model card README.md"),
    ("mlx_lm", "any file whose head has MLX-LM `Iter N: Train loss` / `Val loss` lines or its table output", "train/val loss, learning rate, throughput, memory, test loss; adapter_config.json params"),
    ("trackio", "a .jsonl/.json/.parquet whose rows have experiment_id, created_at and metrics (Trackio's experiments dataset), or a .db SQLite file with Trackio's metrics/configs tables", "one run per row or per run id: metric entries with step and time, params, status, logs as events; NaN/Infinity strings kept"),
    ("json_runs", "experiment_logs/experiment_*.json (metrics_history) or training_runs_comparison.json", "one run per log file, or several runs per comparison file, paired by iteration"),
    ("metrics_jsonl", "metrics.jsonl (or a .jsonl whose first object has a step key) beside params.yaml/config.yaml", "every numeric key per step, time and epoch; NaN/Infinity kept"),
    ("csv_logs", "a CSV whose header has an epoch or step column and a loss/metric column (Lightning, Keras, Ultralytics)", "every numeric column per step or epoch; hparams.yaml/args.yaml params"),
    ("plain_log", "a .log/.txt/.out/.err file whose head and tail hold at least three known lines (nanoGPT, modded-nanogpt, `Epoch N/M`, key=value, torchtune tqdm), one a metric line", "train/val loss and timing per step; the training script's own source is never read as metrics"),
    ("training_log", "training.log of captured trainer stdout (tqdm frames, Validation loss lines) and/or validation.txt", "train loss per frame, val loss, checkpoints, tracebacks, validation Q/A samples, config.yaml"),
];

/// The description of a format, if it has one.
pub fn describe(name: &str) -> Option<(&'static str, &'static str)> {
    DESCRIPTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, detects, reads)| (*detects, *reads))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_format_is_described() {
        for format in super::super::FORMATS {
            assert!(
                super::describe(format.name).is_some(),
                "{} has no description in catalog.rs",
                format.name
            );
        }
    }
}
