//! `runboard compare RUN_A RUN_B`: a markdown diff of two runs.
//!
//! The params that differ (with those only one run has), the final and best
//! value of every metric both runs log with its change from A to B, and the
//! diagnostics of each. Pure; every run-derived string is escaped.

use crate::analyze::Analyzed;
use crate::render::markdown::escape_md;
use crate::render::summary::{delta, find_baseline};
use crate::render::view::fmt_opt;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Find both runs (by name, id or path) and diff them.
pub fn compare_md(runs: &[Analyzed], a: &str, b: &str) -> Result<String, String> {
    let find =
        |wanted: &str| find_baseline(runs, wanted).map_err(|e| e.replacen("baseline", "run", 1));
    Ok(diff(find(a)?, find(b)?))
}

/// The diff of two analyzed runs.
pub fn diff(a: &Analyzed, b: &Analyzed) -> String {
    let (na, nb) = (escape_md(&a.run.name), escape_md(&b.run.name));
    let mut md = String::new();
    let _ = writeln!(md, "### {na} → {nb}\n");
    for (name, run) in [(&na, a), (&nb, b)] {
        let _ = writeln!(
            md,
            "- **{name}**: {} ({}), `{}`",
            run.run.status.as_str(),
            escape_md(&run.run.format),
            escape_md(&run.run.path)
        );
    }
    md.push('\n');

    let (pa, pb) = (a.run.flat_params(), b.run.flat_params());
    let keys: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
    let differing: Vec<&String> = keys
        .into_iter()
        .filter(|k| pa.get(*k) != pb.get(*k))
        .collect();
    if differing.is_empty() {
        md.push_str("Params: the same.\n\n");
    } else {
        let _ = writeln!(md, "| Param | {na} | {nb} |\n|---|---|---|");
        for key in differing {
            let cell = |v: Option<&String>| v.map_or_else(|| "—".to_string(), |v| escape_md(v));
            let _ = writeln!(
                md,
                "| `{}` | {} | {} |",
                key.replace('`', "'"),
                cell(pa.get(key)),
                cell(pb.get(key))
            );
        }
        md.push('\n');
    }

    let mut rows = Vec::new();
    for sa in &a.summaries {
        let Some(sb) = b.summaries.iter().find(|s| s.name == sa.name) else {
            continue;
        };
        rows.push(format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            sa.name.replace('`', "'"),
            fmt_opt(sa.last),
            fmt_opt(sb.last),
            change(sa.last, sb.last),
            fmt_opt(sa.best),
            fmt_opt(sb.best),
            change(sa.best, sb.best)
        ));
    }
    if rows.is_empty() {
        md.push_str("No metric is logged by both runs.\n\n");
    } else {
        let _ = writeln!(
            md,
            "| Metric | final {na} | final {nb} | Δ | best {na} | best {nb} | Δ |\n|---|---|---|---|---|---|---|"
        );
        for row in rows {
            let _ = writeln!(md, "{row}");
        }
        md.push('\n');
    }

    for (name, run) in [(&na, a), (&nb, b)] {
        let _ = writeln!(md, "**Diagnostics of {name}:**");
        if run.diagnostics.is_empty() {
            md.push_str("- none\n");
        }
        for d in &run.diagnostics {
            let _ = writeln!(md, "- {}: {}", d.severity.as_str(), escape_md(&d.message));
        }
        md.push('\n');
    }
    md
}

/// `↓ 5.2%` from `a` to `b` (as the summary's deltas), empty unless both are finite.
fn change(a: Option<f64>, b: Option<f64>) -> String {
    match (a.filter(|v| v.is_finite()), b.filter(|v| v.is_finite())) {
        (Some(a), Some(b)) => delta(b, a),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{analyze, Thresholds};
    use crate::model::{Point, Run};

    fn run(name: &str, params: serde_json::Value, end: f64) -> Analyzed {
        let mut r = Run::new(&format!("exp/{name}"), "exp", "test");
        r.params = params;
        for i in 0..=20u64 {
            r.push_point(
                "train/loss",
                "f",
                Point::at(i * 10, 3.0 + (end - 3.0) * i as f64 / 20.0),
            );
        }
        r.finish_metrics();
        analyze(r, &Thresholds::default())
    }

    #[test]
    fn shows_differing_params_and_metric_changes() {
        let a = run(
            "a",
            serde_json::json!({"lr": 1e-4, "seed": 1, "only_a": "x"}),
            2.0,
        );
        let b = run("b<script>", serde_json::json!({"lr": 3e-4, "seed": 1}), 1.0);
        let md = diff(&a, &b);
        assert!(md.contains("| `lr` | 0.0001 | 0.0003 |"), "{md}");
        assert!(md.contains("| `only_a` | x | — |"), "{md}");
        assert!(!md.contains("`seed`"), "same in both");
        assert!(
            md.contains("| `train/loss` | 2.0000 | 1.0000 | ↓ 50.0% |"),
            "{md}"
        );
        assert!(!md.contains("<script>"));
        assert!(md.contains("**Diagnostics of a:**"));
    }

    #[test]
    fn unknown_runs_are_errors_with_suggestions() {
        let runs = vec![
            run("lr-1e-4", serde_json::json!({}), 2.0),
            run("lr-3e-4", serde_json::json!({}), 1.0),
        ];
        let err = compare_md(&runs, "lr-1e-4", "lr-3e4").unwrap_err();
        assert!(
            err.starts_with("run \"lr-3e4\" not found; closest run names: \"lr-3e-4\""),
            "{err}"
        );
        assert!(compare_md(&runs, "lr-1e-4", "lr-3e-4").is_ok());
    }
}
