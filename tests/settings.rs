//! runboard.toml's [charts] table and --smoothing, through the binary.

use std::fs;
use std::path::Path;
use std::process::Command;

fn build(root: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_runboard"))
        .args([
            "build",
            root.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// The inline SVG of the run's loss chart.
fn run_page(site: &Path) -> String {
    fs::read_to_string(site.join("runs/a/index.html")).unwrap()
}

#[test]
fn smoothing_comes_from_the_file_and_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    fs::create_dir_all(root.join("a")).unwrap();
    let mut lines = String::new();
    for step in 1..=200u32 {
        let loss =
            1.0 + 2.0 * (-(step as f64) / 50.0).exp() + 0.05 * ((step * 7919 % 13) as f64 / 13.0);
        lines.push_str(&format!("{{\"step\": {step}, \"train/loss\": {loss}}}\n"));
    }
    fs::write(root.join("a/metrics.jsonl"), lines).unwrap();
    let site = tmp.path().join("site");

    assert!(build(&root, &site, &[]).status.success());
    assert!(run_page(&site).contains("smoothing 0.6"), "the default");

    fs::write(root.join("runboard.toml"), "[charts]\nsmoothing = 0.9\n").unwrap();
    assert!(build(&root, &site, &[]).status.success());
    assert!(run_page(&site).contains("smoothing 0.9"));

    assert!(build(&root, &site, &["--smoothing", "0"]).status.success());
    assert!(
        !run_page(&site).contains("smoothing 0"),
        "0 turns it off, over the file"
    );

    let bad = build(&root, &site, &["--smoothing", "1.5"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--smoothing"));
    fs::write(root.join("runboard.toml"), "[charts]\nsmooth = 0.9\n").unwrap();
    let typo = build(&root, &site, &[]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("smooth"));
}
