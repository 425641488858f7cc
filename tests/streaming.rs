//! Large logs are streamed: the peak memory of a build follows what it
//! parsed, not the size of the file.
//!
//! Each test writes a file of more than 100 MB whose parsed data is small (a
//! few numbers per long line), builds it with the real binary and watches
//! the child's peak resident memory (`VmHWM` in `/proc/<pid>/status`, polled
//! every 5 ms while it runs: a lower bound of the peak, but a file read whole
//! stays resident for its whole parse, many polls long, so it is always seen).
//! Read whole, the peak would exceed the file's size (127 MB for these
//! 110 MB files before streaming); streamed, it must stay below half of it
//! (about 30 MB). Linux only: elsewhere they say so and pass. Each takes
//! about a second in release (the files go to a temporary folder). Set
//! `RUNBOARD_BIN_FOR_TEST` to an older build to see them fail. The readers
//! are checked streamed against whole on small files in `load::stream_tests`.

mod common;
use common::{metric, run_by_path};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Size of the generated files.
const TARGET_BYTES: usize = 110 << 20;

/// Build `root` into `out` and return runs.json and the highest VmHWM seen, in bytes.
fn build_watching_memory(root: &Path, out: &Path) -> Option<(Vec<serde_json::Value>, u64)> {
    if !Path::new("/proc/self/status").exists() {
        println!("note: no /proc; the memory check is skipped");
        return None;
    }
    let binary =
        std::env::var("RUNBOARD_BIN_FOR_TEST").unwrap_or(env!("CARGO_BIN_EXE_runboard").into());
    let mut child = Command::new(binary)
        .args([
            "build",
            root.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--quiet", "--jobs", "1"])
        .spawn()
        .expect("runboard runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        }) {
            peak = peak.max(kb * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "build failed");
    assert!(peak > 0, "no VmHWM was read");
    let text = std::fs::read_to_string(out.join("data/runs.json")).unwrap();
    Some((serde_json::from_str(&text).unwrap(), peak))
}

/// Write `head`, then what `line` writes for steps 1, 2, ... until the file
/// holds `TARGET_BYTES`; its size and the number of steps.
fn write_big(path: &Path, head: &str, mut line: impl FnMut(u64, &mut String)) -> (u64, u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(head.as_bytes()).unwrap();
    let (mut written, mut steps, mut buf) = (head.len(), 0, String::new());
    while written < TARGET_BYTES {
        steps += 1;
        buf.clear();
        line(steps, &mut buf);
        file.write_all(buf.as_bytes()).unwrap();
        written += buf.len();
    }
    file.flush().unwrap();
    (written as u64, steps)
}

#[test]
fn a_big_metrics_jsonl_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let note = "x".repeat(2000);
    let (size, steps) = write_big(&root.join("big/metrics.jsonl"), "", |step, out| {
        let loss = 4.0 / (step as f64).sqrt();
        writeln!(
            out,
            "{{\"step\": {step}, \"loss\": {loss}, \"note\": \"{note}\"}}"
        )
        .unwrap();
    });
    let Some((runs, peak)) = build_watching_memory(&root, &dir.path().join("site")) else {
        return;
    };
    let run = run_by_path(&runs, "big");
    assert_eq!(metric(run, "loss")["points"], steps, "every line was read");
    assert!(peak < size / 2, "peak {peak} bytes for a {size}-byte file");
    println!("metrics.jsonl of {size} bytes, {steps} steps: peak {peak} bytes");
}

#[test]
fn a_training_log_of_one_huge_tqdm_line_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let description = "Training (a long description of the run) ".repeat(40);
    let head = "Training configuration:\n  Batch size: 8\nStarting training\n";
    let (size, steps) = write_big(&root.join("big/training.log"), head, |step, out| {
        let loss = 4.0 / (step as f64).sqrt();
        write!(
            out,
            "\r{description}: 50%|#####     | {step}/9999999 [00:{:02}<00:01, 9.9it/s, loss={loss:.5}]",
            step % 60
        )
        .unwrap();
    });
    // One physical line of 110 MB: over the 16 MiB line limit, so only its
    // \r-separated frames can be read, one at a time.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("big/training.log"))
        .unwrap();
    file.write_all(b"\nTraining complete\n").unwrap();
    let Some((runs, peak)) = build_watching_memory(&root, &dir.path().join("site")) else {
        return;
    };
    let run = run_by_path(&runs, "big");
    assert_eq!(metric(run, "loss")["points"], steps, "every frame was read");
    assert_eq!(run["status"], "completed");
    assert!(peak < size / 2, "peak {peak} bytes for a {size}-byte file");
    println!("training.log of {size} bytes, {steps} frames: peak {peak} bytes");
}
