//! The index at 1,000 runs: its HTML stays under about 2 MB however long the
//! runs are, and no image loads until it is scrolled to. Built through the
//! library (no charts drawn: the index only links to them), so it is quick.

use runboard::analyze::{analyze, Analyzed, Thresholds};
use runboard::model::{Point, Run};
use runboard::render::{compare, figures, html::Theme, view};

/// 1,000 runs in 10 groups: a 5,000-point train loss and 25 val points
/// each, a dozen params of which a few differ, every fourth trio of runs the
/// same config under three seeds.
fn thousand_runs() -> Vec<Analyzed> {
    (0..1000)
        .map(|i| {
            let group = format!("sweep-{}", i / 100);
            let mut run = Run::new(&format!("{group}/run-{i:04}"), &group, "metrics_jsonl");
            run.id = format!("{group}-run-{i:04}");
            let config = i / 3;
            run.params = serde_json::json!({
                "optimizer": {"lr": 1e-4 * (1 + config % 7) as f64, "name": "adamw", "betas": [0.9, 0.95]},
                "data": {"batch_size": 8 << (config % 3), "seq_len": 1024, "dataset": "fineweb-edu-10B"},
                "model": "HuggingFaceTB/SmolLM3-3B",
                "seed": i % 3,
                "max_steps": 5000,
                "warmup_steps": 100 * (config % 4),
                "weight_decay": 0.1,
                "output_dir": format!("/checkpoints/run-{i:04}"),
            });
            for step in 1..=5000u64 {
                let v = 1.0 + 3.0 / (1.0 + step as f64 / 300.0) + (i % 17) as f64 * 0.01;
                run.push_point("train/loss", "metrics.jsonl", Point::at(step, v));
                if step % 200 == 0 {
                    run.push_point("val/loss", "metrics.jsonl", Point::at(step, v + 0.1));
                }
            }
            run.finish_metrics();
            analyze(run, &Thresholds::default())
        })
        .collect()
}

#[test]
fn a_thousand_run_index_stays_small_and_loads_images_lazily() {
    let runs = thousand_runs();
    let groups = compare::comparisons(&runs, 0.6);
    let comparisons = groups
        .iter()
        .map(|g| {
            let charts = g
                .charts
                .iter()
                .map(|c| figures::ComparisonView::of(&c.spec, &c.path, 360))
                .collect();
            figures::ComparisonGroupView::of(g, format!("groups/{}/index.html", g.slug), charts)
        })
        .collect();
    let theme = Theme::load(None).unwrap();
    let html = theme
        .render(
            "index.html",
            &view::index_view("Experiments", &runs, comparisons),
        )
        .unwrap();
    assert!(
        html.len() < 2_000_000,
        "the index is {} bytes at 1,000 runs",
        html.len()
    );
    // Trios of seeds; six of them straddle two groups (at 100, 200, 400, 500,
    // 700, 800), leaving a pair on one side and a lone run on the other.
    assert_eq!(
        html.matches("<tr class=\"member\">").count(),
        327 * 3 + 6 * 2
    );
    let images: Vec<&str> = html.split("<img ").skip(1).collect();
    assert_eq!(images.len(), 20, "two comparison charts per group");
    for img in images {
        let tag = img.split('>').next().unwrap();
        assert!(
            tag.contains("loading=\"lazy\"") && tag.contains("height=\""),
            "{tag}"
        );
    }
    eprintln!("index.html at 1,000 runs: {} bytes", html.len());
}
