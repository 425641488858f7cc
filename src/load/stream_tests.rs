//! Streaming and reading whole give the same runs.
//!
//! Every candidate of the fixture trees (and of a gen_corpus tree, where
//! python3 and the script are there) is read twice: with nothing streamed,
//! and with every line-based file streamed (threshold 0). The runs must be
//! identical, metrics, events, params and problems; and each format that
//! streams must have had a file streamed, so a format that stops naming its
//! files cannot pass by comparing whole reads with whole reads.

use super::{find_candidates, read_streaming_above, Candidate};
use crate::discover::{walk, Tree};
use crate::model::Run;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Formats whose readers stream their line-based files.
const STREAMING: &[&str] = &[
    "metrics_jsonl",
    "training_log",
    "mlx_lm",
    "plain_log",
    "csv_logs",
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
