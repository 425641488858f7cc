//! `runboard summary` through the binary: the comment body on stdout, the
//! marker, a clear error for a missing baseline, GITHUB_STEP_SUMMARY, and a
//! 500-run gen_corpus tree within GitHub's 65,536-character limit.

use std::path::Path;
use std::process::Command;

mod common;

fn summary(root: &Path, extra: &[&str], env: Option<(&str, &Path)>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runboard"));
    cmd.arg("summary").arg(root).args(extra);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("example_experiments")
}

#[test]
fn example_summary_leads_with_the_marker_and_findings() {
    let out = summary(&examples(), &[], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("<!-- runboard-summary -->\n"));
    assert!(
        md.contains("**12 runs** · best: **tinyllama-long**"),
        "{md}"
    );
    let errors = md.find("- ❌ **").unwrap();
    assert!(errors < md.find("| Run |").unwrap());
    let diverged_row = md.lines().find(|l| l.starts_with("| diverged |")).unwrap();
    let first_row = md
        .lines()
        .position(|l| l.starts_with("| tinyllama-long |"))
        .unwrap();
    let diverged_at = md.lines().position(|l| l == diverged_row).unwrap();
    assert!(
        diverged_at > first_row + 5,
        "runs with errors rank after sound ones"
    );
}

#[test]
fn a_missing_baseline_is_an_error_with_suggestions() {
    let out = summary(&examples(), &["--baseline", "lr-3e4"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("baseline \"lr-3e4\" not found; closest run names: \"lr-3e-4\""),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn step_summary_appends_to_the_named_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("step.md");
    std::fs::write(&file, "earlier\n").unwrap();
    let out = summary(
        &examples(),
        &["--step-summary", "--baseline", "lr-3e-4"],
        Some(("GITHUB_STEP_SUMMARY", &file)),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("earlier\n<!-- runboard-summary -->"));
    assert!(text.contains("vs baseline lr-3e-4"));
}

#[test]
fn five_hundred_runs_fit_in_a_comment() {
    let Some(script) = common::gen_corpus_script() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    let gen = Command::new("python3")
        .arg(script)
        .args([
            "--out",
            root.to_str().unwrap(),
            "--runs",
            "500",
            "--points",
            "50",
            "--formats",
            "jsonl,tt,mlflow",
        ])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let out = summary(&root, &[], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
    assert!(md.contains("**500 runs**"));
    let small = summary(&root, &["--max-chars", "8000"], None);
    let small = String::from_utf8(small.stdout).unwrap();
    assert!(small.chars().count() <= 8000);
    assert!(small.contains("left out to stay within the comment size limit"));
    // The best run of the full summary is still the first row of the trimmed one.
    let first_row = |md: &str| {
        md.lines()
            .find(|l| l.starts_with("| ") && !l.starts_with("| Run"))
            .map(str::to_string)
    };
    assert_eq!(first_row(&md), first_row(&small));
}

#[test]
fn compare_prints_a_diff_of_two_runs() {
    let root = examples();
    let run = |a: &str, b: &str| {
        Command::new(env!("CARGO_BIN_EXE_runboard"))
            .args(["compare", a, b, "--root", root.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = run("lr-1e-4", "lr-3e-4");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| `optimizer.lr` | 0.0001 | 0.0003 |"), "{md}");
    assert!(
        md.contains("| `val/loss` | 1.8285 | 1.0973 | ↓ 40.0% |"),
        "{md}"
    );
    assert!(md.contains("warning: underfitting"));
    let missing = run("lr-1e-4", "nope");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("run \"nope\" not found"));
}

#[test]
fn the_site_exports_runs_csv_and_the_comparison_file() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let runs = common::build(&examples(), &site);
    let csv = std::fs::read_to_string(site.join("data/runs.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        runs.len() + 1,
        "a header and one row per run"
    );
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("id,name,group,path,format,status"));
    let text = std::fs::read_to_string(site.join("data/training_runs_comparison.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["runs"].as_array().unwrap().len(), runs.len());
    let long = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_name"] == "tinyllama-long")
        .unwrap();
    let m = &long["training_metrics"];
    let n = m["iterations"].as_array().unwrap().len();
    assert!(
        n > 0
            && m["train_loss"].as_array().unwrap().len() == n
            && m["val_loss"].as_array().unwrap().len() == n
    );
    assert!(long["final_metrics"]["train_val_gap"].as_f64().unwrap() > 1.0);
}

#[test]
fn the_index_filters_highlights_bests_and_draws_sparklines() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    common::build(&examples(), &site);
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("<div class=\"table-tools\" hidden>"),
        "no filter box without the script"
    );
    assert!(index.contains("class=\"run-filter\""));
    assert_eq!(
        index.matches("<polyline points=").count(),
        13,
        "one sparkline per run with a loss (12), and the seed set's mean"
    );
    // tinyllama-long has the lowest best val loss (0.9548) of the examples.
    let row_start = index.find(">tinyllama-long</a>").unwrap();
    let row = &index[row_start..row_start + index[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("class=\"best\" data-value=\"9.548"), "{row}");
    assert_eq!(
        index.matches("<td class=\"best\"").count(),
        4,
        "one best run per loss column (a lone seed set has no other set to beat)"
    );
    // The differing params show first; every param is a column, the rest behind a
    // checkbox that needs no script (style.css hides columns past `shown-N`).
    let total = index.matches("<th data-sort=\"auto\"").count();
    let shown: usize = index
        .split("class=\"runs sortable shown-")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(shown, 8, "eight differing params show");
    assert!(total > shown && index.contains(&format!("Show all {total} params")));
    assert!(
        index.find("id=\"all-params-index\"").unwrap()
            < index.find("class=\"table-wrap\"").unwrap()
    );
}
