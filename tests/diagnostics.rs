//! Diagnostics end to end: what example_experiments' runs are found to have,
//! on every surface (runs.json, run page, index, experiments.md); thresholds
//! from runboard.toml and --set; and precision/recall against gen_corpus's truth.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{build, gen_corpus};

fn runboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runboard"))
        .args(args)
        .output()
        .expect("runboard runs")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("example_experiments")
}

/// (code, severity, step) of each diagnostic of a run.
fn found(run: &Value) -> Vec<(String, String, Option<u64>)> {
    run["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["step"].as_u64(),
            )
        })
        .collect()
}

fn by_name<'a>(runs: &'a [Value], name: &str) -> &'a Value {
    runs.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no run {name}"))
}

#[test]
fn example_runs_get_the_diagnoses_their_logs_show() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let runs = build(&examples(), &site);
    let has = |name: &str, code: &str, severity: &str| {
        found(by_name(&runs, name))
            .iter()
            .any(|(c, s, _)| c == code && s == severity)
    };
    // The OOM traceback, the NaN at step 725, the val loss rising after step 800.
    assert!(has("tinyllama-oom", "crashed", "error"));
    let diverged = found(by_name(&runs, "diverged"));
    assert_eq!(diverged[0], ("diverged".into(), "error".into(), Some(725)));
    let long = by_name(&runs, "tinyllama-long");
    assert_eq!(
        found(long)[0],
        ("overfitting".into(), "warning".into(), Some(800))
    );
    let message = long["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("step_1000"),
        "names the checkpoint to keep: {message}"
    );
    assert!(has("torn-writer", "crashed", "error"));
    assert!(has("lr-1e-3", "loss_spike", "warning"));
    assert!(
        has("lr-1e-4", "underfitting", "warning"),
        "too small a learning rate"
    );
    assert!(has("lr-3e-4", "healthy", "info"));
    for healthy in [
        "lr-3e-4",
        "tinyllama-base",
        "corrupt-config",
        "tinyllama-crlf",
    ] {
        let worst = found(by_name(&runs, healthy));
        assert!(
            worst.iter().all(|(_, s, _)| s == "info"),
            "{healthy}: {worst:?}"
        );
    }

    // The run page leads with them, the index shows badges, experiments.md lists them.
    let page = fs::read_to_string(site.join(long["page"].as_str().unwrap())).unwrap();
    let diagnosis = page
        .find("<h2>Diagnosis</h2>")
        .expect("a Diagnosis section");
    assert!(
        diagnosis < page.find("Curves").unwrap(),
        "diagnosis before the curves"
    );
    assert!(page.contains("badge diag-overfitting sev-warning"));
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("badge diag-diverged sev-error"));
    assert!(index.contains("badge diag-healthy"));
    let md = fs::read_to_string(site.join("experiments.md")).unwrap();
    assert!(
        md.contains("- **Diagnostics:**\n  - error: diverged: train/loss became NaN at step 725")
    );
}

#[test]
fn thresholds_come_from_runboard_toml_and_set() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp");
    let run = root.join("a");
    fs::create_dir_all(&run).unwrap();
    // Val ends 20% above train: an overfitting warning by default (15%).
    let mut lines = String::new();
    for step in (10..=500).step_by(10) {
        let train = 1.0 + 2.0 * (-(step as f64) / 100.0).exp();
        lines.push_str(&format!("{{\"step\": {step}, \"train/loss\": {train}}}\n"));
        if step % 100 == 0 {
            lines.push_str(&format!(
                "{{\"step\": {step}, \"val/loss\": {}}}\n",
                train * 1.2
            ));
        }
    }
    fs::write(run.join("metrics.jsonl"), lines).unwrap();
    fs::write(run.join("params.yaml"), "lr: 0.1\n").unwrap();
    let severity = |runs: &[Value]| -> BTreeMap<String, String> {
        found(&runs[0])
            .into_iter()
            .map(|(c, s, _)| (c, s))
            .collect()
    };
    let site = tmp.path().join("site");
    assert_eq!(severity(&build(&root, &site))["overfitting"], "warning");

    fs::write(
        root.join("runboard.toml"),
        "[diagnostics]\noverfit_gap_warning = 0.3\n",
    )
    .unwrap();
    assert_eq!(severity(&build(&root, &site))["overfitting"], "info");

    let out = site.to_str().unwrap();
    let set = runboard(&[
        "build",
        root.to_str().unwrap(),
        "-o",
        out,
        "-q",
        "--set",
        "overfit_gap_info=0.25",
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let text = fs::read_to_string(site.join("data/runs.json")).unwrap();
    let runs: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(
        !severity(&runs).contains_key("overfitting"),
        "--set wins over the file"
    );

    // A typo is a fatal error naming the file, not a silent default.
    fs::write(
        root.join("runboard.toml"),
        "[diagnostics]\noverfit_gap = 0.3\n",
    )
    .unwrap();
    let bad = runboard(&["check", root.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("runboard.toml") && stderr.contains("overfit_gap"),
        "{stderr}"
    );
    fs::remove_file(root.join("runboard.toml")).unwrap();
    let bad_set = runboard(&["check", root.to_str().unwrap(), "--set", "min_points=many"]);
    assert_eq!(bad_set.status.code(), Some(1));
}

/// Precision and recall of the scored codes on a generated corpus (warnings
/// and errors count as flagged), as scripts/score_diagnostics.py measures them.
#[test]
fn gen_corpus_scenarios_are_diagnosed() {
    let Some(generated) = gen_corpus("all", 120, 150) else {
        return;
    };
    let expected = |scenario: &str| match scenario {
        "overfit" => Some("overfitting"),
        "underfit" => Some("underfitting"),
        "diverged" => Some("diverged"),
        "crashed" => Some("crashed"),
        _ => None,
    };
    let mut tally: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for t in generated.truth["runs"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let prefix = t["path"].as_str().unwrap();
        let Some(run) = generated.runs.iter().find(|r| {
            r["name"] == name
                || r["path"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{prefix}/"))
        }) else {
            continue; // a run that crashed before writing anything readable
        };
        let flagged: Vec<String> = found(run)
            .into_iter()
            .filter(|(_, s, _)| s != "info")
            .map(|(c, _, _)| c)
            .collect();
        let want = expected(t["scenario"].as_str().unwrap());
        for code in ["overfitting", "underfitting", "diverged", "crashed"] {
            let got = flagged.iter().any(|c| c == code);
            let entry = tally.entry(code).or_default();
            match (got, want == Some(code)) {
                (true, true) => entry[0] += 1,
                (true, false) => entry[1] += 1,
                (false, true) => entry[2] += 1,
                (false, false) => {}
            }
        }
        if let Some(step) = t["first_nonfinite_step"].as_u64() {
            let d = run["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["code"] == "diverged");
            assert_eq!(d.and_then(|d| d["step"].as_u64()), Some(step), "{name}");
        }
    }
    for (code, [tp, fp, fn_]) in &tally {
        let precision = *tp as f64 / (tp + fp).max(1) as f64;
        let recall = *tp as f64 / (tp + fn_).max(1) as f64;
        println!("{code}: precision {precision:.3} recall {recall:.3} ({tp} {fp} {fn_})");
        assert!(*tp > 0, "{code}: the corpus has cases of it");
        assert!(
            precision >= 0.9 && recall >= 0.9,
            "{code}: {precision:.3} / {recall:.3}"
        );
    }
}
