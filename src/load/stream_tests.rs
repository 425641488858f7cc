//! Streaming and reading whole give the same runs.
//!
//! Every candidate of the fixture trees, of a tree of awkward files written
//! here (BOM, CRLF, invalid UTF-8, torn last lines, tracebacks at the end),
//! and of a gen_corpus tree (where python3 and the script are there) is read
//! twice: with nothing streamed, and with every line-based file streamed
//! (threshold 0). The runs must be identical, metrics, events, params and
//! problems; and each format that streams must have had a file streamed, so a
//! format that stops naming its files cannot pass by comparing whole reads
//! with whole reads.

use super::{find_candidates, read_streaming_above, Candidate};
use crate::discover::{walk, Tree};
use crate::model::Run;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Formats whose readers stream their line-based files.
const STREAMING: &[&str] = &[
    "metrics_jsonl",
    "training_log",
    "mlx_lm",
    "plain_log",
    "csv_logs",
    "mlflow",
    "dvclive",
    "trackio",
];

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A run as JSON, its problems in a fixed order: a streamed file reports
/// invalid UTF-8 when it meets it, a whole read before its reader starts.
fn comparable(run: &Run) -> serde_json::Value {
    let mut run = run.clone();
    run.problems
        .sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
    serde_json::to_value(&run).expect("a run serializes")
}

/// The line-based files of a candidate and its guests.
fn streamed_files(candidate: &Candidate) -> usize {
    let own = candidate
        .files
        .iter()
        .filter(|f| (candidate.format.lines)(&candidate.dir, &f.rel))
        .count();
    own + candidate.guests.iter().map(streamed_files).sum::<usize>()
}

/// Read every candidate of `root` both ways; the formats that streamed a file.
fn assert_streaming_changes_nothing(root: &Path) -> BTreeSet<&'static str> {
    let tree: Tree = walk(root, None).expect("fixture tree");
    let mut streamed = BTreeSet::new();
    for candidate in find_candidates(&tree) {
        let whole = read_streaming_above(&tree, &candidate, u64::MAX);
        let streaming = read_streaming_above(&tree, &candidate, 0);
        assert_eq!(whole.len(), streaming.len(), "{candidate:?}");
        for (a, b) in whole.iter().zip(&streaming) {
            assert_eq!(
                comparable(a),
                comparable(b),
                "{candidate:?} in {}",
                root.display()
            );
        }
        if streamed_files(&candidate) > 0 {
            streamed.insert(candidate.format.name);
        }
    }
    streamed
}

#[test]
fn fixtures_read_alike_streamed_and_whole() {
    let mut streamed = BTreeSet::new();
    for root in ["example_experiments", "tests/fixtures"] {
        streamed.extend(assert_streaming_changes_nothing(&manifest(root)));
    }
    for format in [
        "training_log",
        "metrics_jsonl",
        "mlx_lm",
        "plain_log",
        "csv_logs",
        "mlflow",
    ] {
        if STREAMING.contains(&format) {
            assert!(streamed.contains(format), "no {format} file was streamed");
        }
    }
}

/// Write `files` (path, bytes) under `root`.
fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// One run per streaming format, each file as awkward as it can be.
const AWKWARD: &[(&str, &[u8])] = &[
    (
        "jsonl/metrics.jsonl",
        b"\xEF\xBB\xBF{\"step\": 1, \"loss\": 2.0}\r\n\r\n{\"step\": 2, \"l\xffss\": 1.5}\r\n\
          {\"step\": 3, \"loss\": }\n{\"step\": 4, \"loss\": NaN}\n{\"step\": 5, \"loss\": 1.",
    ),
    (
        "tt/training.log",
        b"Training configuration:\r\n  Batch size: 8\r\nStarting training\r\n\
          \rTraining:  50%|#  | 1/2 [00:01<00:01, 1it/s, loss=2.5]\rTraining: 100%|##| 2/2 [00:02<00:00, 1it/s, loss=x\xff]\r\n\
          Validation loss: 2.2\r\nTraceback (most recent call last):\r\n  File \"t.py\", line 1\r\n\
          RuntimeError: out of memory",
    ),
    (
        "tt/validation.txt",
        b"====\nValidation at step 2\n====\nQ1: why\nA1: because \xfe\nValidation loss: 2.0\n\
          Validation at step x\nValidation at step 4\nQ1: and\n",
    ),
    ("blank/training.log", b"\0\0\n  \r\n"),
    (
        "mlx/train.log",
        b"Starting training..., iters: 4\r\n\
          Iter 1: Val loss 2.900, Val took 1.0s\r\n\
          Iter 2: Train loss 2.500, Learning Rate 1.000e-05, It/sec 1.0, Tokens/sec 99, Trained Tokens 99, Peak mem 1.0 GB\n\
          Iter 3: Train loss 2.\xff00, Learning Rate 1.000e-05\n\
          Iter 4: Train loss 2.1",
    ),
    (
        "plain/run.log",
        b"iter 0: loss 10.9, time 900.1ms, mfu -100.00%\r\niter 10: loss 3.2, time 120.0ms, mfu 12.3%\r\n\
          2024-01-01 12:00:00,123 - WARNING - disk \xff full\r\nstep 10: train loss 3.1, val loss 3.3\n\
          Traceback (most recent call last):\n  File \"train.py\", line 9\n\rKeyboardInterrupt\r",
    ),
    (
        "csv/metrics.csv",
        b"\xEF\xBB\xBFepoch,step,train_loss,val_loss\r\n0,9,3.7,\r\n0,19,\xff,3.9\r\n\
          epoch,step,train_loss,val_loss\r\n1,29,\"3.1\",\r\n1,39",
    ),
    (
        "mlflow/mlruns/0/abc/meta.yaml",
        b"experiment_id: '0'\nrun_id: abc\nrun_uuid: abc\nstart_time: 1664364007025\nstatus: 1\n",
    ),
    (
        "mlflow/mlruns/0/abc/metrics/loss",
        b"1664364007310 3.27 0\r\n1664364008000 nan 1\nbad line\n1664364009000 \xff 2\n1664364010000 2.5",
    ),
    (
        "tk/data/train.jsonl",
        concat!(
            "\u{feff}",
            r#"{"experiment_id": "e1", "name": "a", "created_at": "2026-01-01T00:00:00", "status": "completed", "metrics": "[{\"step\": 1, \"metrics\": {\"loss\": 2.0}}]"}"#,
            "\r\n\r\n[1]\r\n",
            r#"{"experiment_id": "e2", "name": "a", "created_at": "2026-01-01T00:00:00", "metrics": "[{\"step\": 1, \"loss\": 3.0}]"}"#,
            "\n{not json\n",
            r#"{"experiment_id": "e3", "name": "b", "created_at": "2026-01-01T00:00:00", "metrics": "[{\"step\": 2, \"loss\": 1.0}]"}"#,
            "\n",
            r#"{"experiment_id": "e4", "metr"#,
        )
        .as_bytes(),
    ),
    (
        "dv/dvclive/plots/metrics/train/loss.tsv",
        b"timestamp\tstep\tloss\r\n1769969350551\t10\t3.77\r\n1769969361102\tx\t2\n1769969361200\t30\t\xff\n1769969361300\t40",
    ),
];

#[test]
fn awkward_files_read_alike_streamed_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), AWKWARD);
    let streamed = assert_streaming_changes_nothing(dir.path());
    assert_eq!(streamed.len(), STREAMING.len(), "{streamed:?}");
    // Each file's invalid UTF-8 was met and said so once, both ways.
    let invalid = |rel: &str| {
        let (_, bytes) = AWKWARD.iter().find(|(r, _)| *r == rel).expect("a file");
        std::str::from_utf8(bytes).is_err()
    };
    let tree = walk(dir.path(), None).unwrap();
    for candidate in find_candidates(&tree) {
        for stream_above in [0, u64::MAX] {
            for run in read_streaming_above(&tree, &candidate, stream_above) {
                let said = run
                    .problems
                    .iter()
                    .filter(|p| p.message == "not valid UTF-8; invalid bytes replaced")
                    .count();
                let expected = run.sources.iter().filter(|s| invalid(s)).count();
                assert_eq!(said, expected, "{}: {:?}", run.path, run.problems);
                assert!(
                    !run.metrics.is_empty() || run.path == "blank",
                    "{}",
                    run.path
                );
            }
        }
    }
}

#[test]
fn a_gen_corpus_tree_reads_alike_streamed_and_whole() {
    let script = manifest("../shared/bench/gen_corpus.py");
    let python = Command::new("python3").arg("--version").output();
    if python.is_err() || !script.is_file() {
        println!("note: python3 or gen_corpus.py missing; the gen_corpus tree is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let formats = "tt,mlx,jsonl,dvclive,csv,mlflow,trackio,trackiodb,cs336";
    let output = Command::new("python3")
        .arg(script)
        .args(["--out", corpus.to_str().unwrap(), "--runs", "12"])
        .args(["--points", "150", "--formats", formats])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let streamed = assert_streaming_changes_nothing(&corpus);
    for format in STREAMING.iter().filter(|f| **f != "plain_log") {
        assert!(streamed.contains(format), "no {format} file was streamed");
    }
}

/// A few MB of log in each line shape: lines and frames straddle the 1 MiB
/// chunks the streamed files are read in, through the real readers.
#[test]
fn files_of_several_chunks_read_alike_streamed_and_whole() {
    use std::fmt::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::new();
    let mut frames = String::from("Starting training\n");
    let mut plain = String::new();
    for step in 1..=40_000u32 {
        let loss = 4.0 / f64::from(step).sqrt();
        writeln!(
            jsonl,
            "{{\"step\": {step}, \"train/loss\": {loss}, \"note\": \"é{step:07}\"}}"
        )
        .unwrap();
        write!(
            frames,
            "\rTraining:  {}%|#| {step}/40000 [00:{:02}<00:00, 9it/s, loss={loss:.5}]",
            step / 400,
            step % 60
        )
        .unwrap();
        writeln!(
            plain,
            "iter {step}: loss {loss:.5}, time 12.{step}ms, mfu 9.{step}%"
        )
        .unwrap();
    }
    frames.push_str("\nValidation loss: 1.5\nTraining complete\n");
    let files: [(&str, &[u8]); 3] = [
        ("jsonl/metrics.jsonl", jsonl.as_bytes()),
        ("tt/training.log", frames.as_bytes()),
        ("plain/train.log", plain.as_bytes()),
    ];
    assert!(files
        .iter()
        .all(|(_, b)| b.len() > 2 * super::lines::CHUNK_BYTES));
    write_tree(dir.path(), &files);
    let streamed = assert_streaming_changes_nothing(dir.path());
    assert_eq!(streamed.len(), 3, "{streamed:?}");
    let tree = walk(dir.path(), None).unwrap();
    for candidate in find_candidates(&tree) {
        let run = &read_streaming_above(&tree, &candidate, 0)[0];
        let points: usize = run.metrics.iter().map(|s| s.points.len()).sum();
        assert!(points >= 40_000, "{}: {points} points", run.path);
        assert!(run.problems.is_empty(), "{}: {:?}", run.path, run.problems);
    }
}
