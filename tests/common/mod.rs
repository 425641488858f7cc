//! Helpers shared by the integration tests: run the real binary on a tree and
//! look things up in the `data/runs.json` it writes.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Run the real binary with `args` and assert it succeeded.
pub fn runboard_ok(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_runboard"))
        .args(args)
        .output()
        .expect("runboard runs");
    assert!(
        output.status.success(),
        "runboard {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Build `root` into `out` with `extra` flags and assert it succeeded.
pub fn build_with(root: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "build",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    runboard_ok(&args)
}

/// Build `root` into `out` with the real binary, assert it succeeded, and return runs.json.
pub fn build(root: &Path, out: &Path) -> Vec<Value> {
    build_with(root, out, &[]);
    let text = fs::read_to_string(out.join("data/runs.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The run at `path` (relative to ROOT).
pub fn run_by_path<'a>(runs: &'a [Value], path: &str) -> &'a Value {
    runs.iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no run at {path}"))
}

/// The summary of the series `name` of `run`.
pub fn metric<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {}", run["path"]))
}

/// Assert the run has no problems, showing them if it has.
pub fn no_problems(run: &Value) {
    assert_eq!(
        run["problems"].as_array().unwrap().len(),
        0,
        "{}: {}",
        run["path"],
        run["problems"]
    );
}

/// Write `text` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// `../shared/bench/gen_corpus.py` beside the project, as developers and CI have it.
pub fn gen_corpus_script() -> Option<std::path::PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_corpus.py");
    let python = Command::new("python3").arg("--version").output();
    (python.is_ok() && script.is_file()).then_some(script)
}

/// A generated corpus, built: its runs.json and gen_corpus's truth for it.
pub struct Generated {
    pub runs: Vec<Value>,
    pub truth: Value,
    _dir: tempfile::TempDir,
}

/// Generate `runs` runs of `format` with `points` points, build them, and
/// return both sides; `None` (with a note) where python3 or the script is missing.
pub fn gen_corpus(format: &str, runs: u32, points: u32) -> Option<Generated> {
    let Some(script) = gen_corpus_script() else {
        println!("note: python3 or gen_corpus.py missing; the gen_corpus part is skipped");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let (corpus, truth) = (dir.path().join("corpus"), dir.path().join("truth.json"));
    let output = Command::new("python3")
        .arg(script)
        .args([
            "--out",
            corpus.to_str().unwrap(),
            "--runs",
            &runs.to_string(),
        ])
        .args(["--points", &points.to_string(), "--formats", format])
        .args(["--truth", truth.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = build(&corpus, &dir.path().join("site"));
    let truth = serde_json::from_str(&fs::read_to_string(truth).unwrap()).unwrap();
    Some(Generated {
        runs,
        truth,
        _dir: dir,
    })
}

/// A TensorBoard event file as PyTorch's `SummaryWriter` writes it: a header
/// record at `start`, then one `simple_value` scalar per `(wall time, step, tag, value)`.
pub fn tfevents(start: f64, scalars: &[(f64, i64, &str, f32)]) -> Vec<u8> {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    fn bytes_field(number: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }
    fn masked(data: &[u8]) -> [u8; 4] {
        let crc = crc32c::crc32c(data);
        (crc.rotate_right(15).wrapping_add(0xa282_ead8)).to_le_bytes()
    }
    fn record(event: &[u8], out: &mut Vec<u8>) {
        let len = (event.len() as u64).to_le_bytes();
        out.extend_from_slice(&len);
        out.extend_from_slice(&masked(&len));
        out.extend_from_slice(event);
        out.extend_from_slice(&masked(event));
    }
    let mut file = Vec::new();
    let mut header = vec![0x09];
    header.extend_from_slice(&start.to_le_bytes());
    bytes_field(3, b"brain.Event:2", &mut header);
    record(&header, &mut file);
    for &(wall, step, tag, value) in scalars {
        let mut scalar = Vec::new();
        bytes_field(1, tag.as_bytes(), &mut scalar);
        scalar.push(0x15);
        scalar.extend_from_slice(&value.to_le_bytes());
        let mut summary = Vec::new();
        bytes_field(1, &scalar, &mut summary);
        let mut event = vec![0x09];
        event.extend_from_slice(&wall.to_le_bytes());
        event.push(0x10);
        varint(step as u64, &mut event);
        bytes_field(5, &summary, &mut event);
        record(&event, &mut file);
    }
    file
}

/// Every file of a tree with its bytes, by relative path.
pub fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap();
            out.insert(
                rel.to_string_lossy().into_owned(),
                fs::read(entry.path()).unwrap(),
            );
        }
    }
    out
}

/// Assert two trees hold the same files with the same bytes, naming the first difference.
pub fn assert_same_trees(a: &Path, b: &Path, what: &str) {
    let (ta, tb) = (tree_bytes(a), tree_bytes(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "{what}: different files"
    );
    for (rel, bytes) in &ta {
        assert!(bytes == &tb[rel], "{what}: {rel} differs");
    }
}
