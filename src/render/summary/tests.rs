use super::*;
use crate::analyze::{analyze, Thresholds};
use crate::model::{Point, Run};

/// A run whose train loss falls from 3 to `end` and whose val loss ends at `val`.
fn run(name: &str, params: serde_json::Value, end: f64, val: f64) -> Analyzed {
    let mut r = Run::new(&format!("exp/{name}"), "exp", "test");
    r.id = format!("exp-{name}");
    r.params = params;
    for i in 0..=20u64 {
        let t = i as f64 / 20.0;
        r.push_point("train/loss", "f", Point::at(i * 10, 3.0 + (end - 3.0) * t));
    }
    r.push_point("val/loss", "f", Point::at(200, val));
    r.finish_metrics();
    analyze(r, &Thresholds::default())
}

fn sweep() -> Vec<Analyzed> {
    vec![
        run(
            "lr-1e-4",
            serde_json::json!({"lr": 1e-4, "model": "llama", "seed": 1}),
            1.5,
            1.6,
        ),
        run(
            "baseline",
            serde_json::json!({"lr": 3e-4, "model": "llama", "seed": 1}),
            1.2,
            1.3,
        ),
        run(
            "lr-1e-3",
            serde_json::json!({"lr": 1e-3, "model": "llama", "seed": 1}),
            1.0,
            1.04,
        ),
    ]
}

#[test]
fn starts_with_the_marker_and_a_headline_against_the_baseline() {
    let md = summary_md("Sweep", &sweep(), &SummaryOptions::default()).unwrap();
    assert!(md.starts_with("<!-- runboard-summary -->\n"));
    let headline = md.lines().find(|l| l.starts_with("**3 runs**")).unwrap();
    assert!(
        headline.contains("best: **lr-1e-3** best val loss 1.0400"),
        "{headline}"
    );
    // 1.04 against the baseline's 1.3: 20% lower.
    assert!(
        headline.contains("↓ 20.0% vs baseline baseline"),
        "{headline}"
    );
}

#[test]
fn the_table_ranks_runs_and_shows_only_differing_params() {
    let md = summary_md("Sweep", &sweep(), &SummaryOptions::default()).unwrap();
    let header = md.lines().find(|l| l.starts_with("| Run |")).unwrap();
    assert!(header.contains("`lr`"), "{header}");
    assert!(
        !header.contains("`model`") && !header.contains("`seed`"),
        "same everywhere: {header}"
    );
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| lr-") || l.starts_with("| baseline"))
        .collect();
    assert!(
        rows[0].starts_with("| lr-1e-3 |") && rows[2].starts_with("| lr-1e-4 |"),
        "{rows:?}"
    );
    assert!(rows[1].contains("| baseline |"), "{rows:?}");
    assert!(rows[2].contains("↑ 23.1%"), "{rows:?}");
}

#[test]
fn a_missing_baseline_lists_the_closest_names() {
    let opts = SummaryOptions {
        baseline: Some("baselin".into()),
        ..SummaryOptions::default()
    };
    let err = summary_md("S", &sweep(), &opts).unwrap_err();
    assert!(
        err.starts_with("baseline \"baselin\" not found; closest run names: \"baseline\""),
        "{err}"
    );
    let named = SummaryOptions {
        baseline: Some("lr-1e-4".into()),
        ..SummaryOptions::default()
    };
    let md = summary_md("S", &sweep(), &named).unwrap();
    assert!(md.contains("vs baseline lr-1e-4"));
}

#[test]
fn long_lists_are_trimmed_to_the_limit_keeping_the_best() {
    let runs: Vec<Analyzed> = (0..500)
        .map(|i| {
            let end = 1.0 + (i % 97) as f64 / 100.0;
            run(
                &format!("run-{i:03}"),
                serde_json::json!({"lr": i, "seed": i % 3}),
                end,
                end + 0.1,
            )
        })
        .collect();
    let opts = SummaryOptions {
        max_chars: 6000,
        ..SummaryOptions::default()
    };
    let md = summary_md("Big", &runs, &opts).unwrap();
    assert!(md.chars().count() <= 6000, "{}", md.chars().count());
    assert!(md.contains("left out to stay within the comment size limit"));
    assert!(
        md.contains("| run-000 |"),
        "the best run (lowest loss) is kept"
    );
    let full = summary_md("Big", &runs, &SummaryOptions::default()).unwrap();
    assert!(full.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert!(full.contains("<details><summary>"));
}

#[test]
fn names_are_escaped_and_findings_come_first() {
    let mut runs = sweep();
    runs.push(run(
        "<img src=x onerror=alert(1)>",
        serde_json::json!({"lr": 5}),
        3.0,
        9.0,
    ));
    let md = summary_md("S", &runs, &SummaryOptions::default()).unwrap();
    assert!(!md.contains("<img"), "{md}");
    let first_finding = md
        .find("- ⚠️")
        .or_else(|| md.find("- ❌"))
        .expect("a finding");
    assert!(first_finding < md.find("| Run |").unwrap());
}

#[test]
fn sparklines_and_mermaid() {
    let runs = sweep();
    let spark = sparkline(&runs[0]);
    assert_eq!(spark.chars().count(), 16);
    assert!(spark.starts_with('█') && spark.ends_with('▁'), "{spark}");
    let opts = SummaryOptions {
        mermaid: true,
        base_url: Some("https://me.github.io/proj/".into()),
        ..SummaryOptions::default()
    };
    let md = summary_md("S", &runs, &opts).unwrap();
    assert!(md.contains("```mermaid\nxychart-beta\n"));
    assert_eq!(md.matches("    line [").count(), 3);
    assert!(
        md.contains("](https://me.github.io/proj/runs/exp-lr-1e-3/loss.png)"),
        "{md}"
    );
    let plain = summary_md("S", &runs, &SummaryOptions::default()).unwrap();
    assert!(
        !plain.contains("](") && !plain.contains("mermaid"),
        "no images without --base-url"
    );
}

#[test]
fn edit_distance_counts_edits() {
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("same", "same"), 0);
}
