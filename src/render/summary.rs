//! `runboard summary`: GitHub-flavoured markdown for a pull-request comment.
//!
//! Shape, in order: a hidden marker (`<!-- runboard-summary -->`) so a CI step
//! can find and update its one comment; a one-line headline (how many runs,
//! the best and its value, its change against the baseline); warnings and
//! errors from the diagnostics; a table of the top runs with only the params
//! that differ, the main metric with its change against the baseline (arrow
//! and percent) and a unicode sparkline of the main loss; optionally chart
//! images (absolute URLs only: GitHub shows no relative or `data:` images in
//! comments) and a mermaid `xychart-beta`; the remaining runs inside
//! `<details>`. The whole never exceeds `max_chars` (GitHub's comment limit is
//! 65,536): rows are dropped from the end, and the text says how many.
//!
//! Pure: analyzed runs in, a string out; every run-derived string is escaped.

use crate::analyze::Analyzed;
use crate::model::{Family, Severity, Split};
use crate::render::markdown::escape_md;
use crate::render::view::{bucket_means, capitalize, differing_params, fmt_num, main_loss_values};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The hidden line a CI step looks for to update its comment.
pub const MARKER: &str = "<!-- runboard-summary -->";
/// GitHub's limit on a comment body.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// Sparkline glyphs, lowest to highest.
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Points in a sparkline.
const SPARK_WIDTH: usize = 16;
/// Findings listed above the table (errors first); the rest are counted.
const MAX_FINDINGS: usize = 15;
/// Runs drawn in the mermaid chart, and points per line there.
const MERMAID_RUNS: usize = 5;
const MERMAID_POINTS: usize = 20;

/// What the summary should contain.
#[derive(Debug, Clone)]
pub struct SummaryOptions {
    /// Run to compare against (name, id or path); default a run named
    /// `baseline`, else the best run.
    pub baseline: Option<String>,
    /// Hard limit on the output's length in characters.
    pub max_chars: usize,
    /// Where the site is published, for absolute chart image URLs.
    pub base_url: Option<String>,
    /// Add a mermaid `xychart-beta` of the main loss of the top runs.
    pub mermaid: bool,
    /// Rows in the top-runs table.
    pub top: usize,
}

impl Default for SummaryOptions {
    fn default() -> SummaryOptions {
        SummaryOptions {
            baseline: None,
            max_chars: GITHUB_COMMENT_LIMIT,
            base_url: None,
            mermaid: false,
            top: 10,
        }
    }
}

/// The metric runs are ranked by: best val loss when any run has one, else final train loss.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    BestVal,
    FinalTrain,
}

impl Metric {
    fn of(runs: &[Analyzed]) -> Metric {
        if runs
            .iter()
            .any(|a| finite(a.headline.best_val_loss).is_some())
        {
            Metric::BestVal
        } else {
            Metric::FinalTrain
        }
    }
    fn label(self) -> &'static str {
        match self {
            Metric::BestVal => "best val loss",
            Metric::FinalTrain => "final train loss",
        }
    }
    fn value(self, a: &Analyzed) -> Option<f64> {
        finite(match self {
            Metric::BestVal => a.headline.best_val_loss,
            Metric::FinalTrain => a.headline.final_train_loss,
        })
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// Find the baseline run by name, id or path; the error lists the closest names.
pub fn find_baseline<'a>(runs: &'a [Analyzed], wanted: &str) -> Result<&'a Analyzed, String> {
    if let Some(found) = runs
        .iter()
        .find(|a| a.run.name == wanted || a.run.id == wanted || a.run.path == wanted)
    {
        return Ok(found);
    }
    let mut names: Vec<(usize, &str)> = runs
        .iter()
        .map(|a| (edit_distance(wanted, &a.run.name), a.run.name.as_str()))
        .collect();
    names.sort();
    names.dedup_by(|a, b| a.1 == b.1);
    let closest: Vec<String> = names
        .iter()
        .take(5)
        .map(|(_, n)| format!("{n:?}"))
        .collect();
    Err(if closest.is_empty() {
        format!("baseline {wanted:?} not found: there are no runs")
    } else {
        format!(
            "baseline {wanted:?} not found; closest run names: {}",
            closest.join(", ")
        )
    })
}

/// The summary markdown.
pub fn summary_md(title: &str, runs: &[Analyzed], opts: &SummaryOptions) -> Result<String, String> {
    let metric = Metric::of(runs);
    let mut ranked: Vec<&Analyzed> = runs.iter().collect();
    // Best first; runs with an error diagnosis (crashed, diverged) after the
    // sound ones whatever their value, runs without the metric last.
    let has_error = |a: &Analyzed| a.diagnostics.iter().any(|d| d.severity == Severity::Error);
    ranked.sort_by(|a, b| {
        has_error(a)
            .cmp(&has_error(b))
            .then_with(|| match (metric.value(a), metric.value(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    let baseline = match &opts.baseline {
        Some(wanted) => Some(find_baseline(runs, wanted)?),
        None => runs
            .iter()
            .find(|a| a.run.name.eq_ignore_ascii_case("baseline"))
            .or(ranked.first().copied()),
    };
    let base_value = baseline.and_then(|b| metric.value(b));
    let flats: Vec<BTreeMap<String, String>> = ranked.iter().map(|a| a.run.flat_params()).collect();
    let (param_columns, _) = differing_params(&flats);

    let mut head = String::new();
    let _ = writeln!(head, "{MARKER}");
    let _ = writeln!(head, "### {}\n", escape_md(title));
    let _ = writeln!(
        head,
        "{}\n",
        headline(&ranked, metric, baseline, base_value)
    );
    findings(&mut head, &ranked);
    if opts.mermaid {
        mermaid(&mut head, &ranked);
    }
    if let (Some(url), Some(best)) = (&opts.base_url, ranked.first()) {
        let url = url.trim_end_matches('/');
        if best.summaries.iter().any(|s| s.family == Family::Loss) {
            let _ = writeln!(
                head,
                "![loss of {}]({url}/runs/{}/loss.png)\n",
                escape_md(&best.run.name),
                best.run.id
            );
        }
        let _ = writeln!(head, "[Full report]({url}/index.html)\n");
    }

    let header = table_header(metric, &param_columns);
    let rows: Vec<String> = ranked
        .iter()
        .zip(&flats)
        .map(|(a, flat)| table_row(a, flat, metric, base_value, baseline, &param_columns))
        .collect();
    Ok(fit(head, &header, &rows, opts.top, opts.max_chars))
}

/// Put the top rows in the table and the rest in `<details>`, dropping rows
/// from the end until the whole fits in `max_chars`.
fn fit(head: String, header: &str, rows: &[String], top: usize, max_chars: usize) -> String {
    let mut kept = rows.len();
    loop {
        let text = assemble(&head, header, &rows[..kept], top, rows.len() - kept);
        if text.chars().count() <= max_chars {
            return text;
        }
        if kept == 0 {
            // Even the head alone is too long: cut it, keeping the marker.
            let note = "\n…(cut to fit)\n";
            let room = max_chars.saturating_sub(note.chars().count());
            let cut: String = text.chars().take(room).collect();
            return format!("{cut}{note}");
        }
        // Drop a tenth at a time on long lists, one at a time near the fit.
        kept -= (kept / 10).max(1);
    }
}

fn assemble(head: &str, header: &str, rows: &[String], top: usize, left_out: usize) -> String {
    let mut out = head.to_string();
    if rows.is_empty() && left_out == 0 {
        out.push_str("No runs were found.\n");
        return out;
    }
    let shown = rows.len().min(top);
    out.push_str(header);
    for row in &rows[..shown] {
        out.push_str(row);
    }
    if rows.len() > shown {
        let _ = writeln!(
            out,
            "\n<details><summary>{} more run{}</summary>\n",
            rows.len() - shown,
            if rows.len() - shown == 1 { "" } else { "s" }
        );
        out.push_str(header);
        for row in &rows[shown..] {
            out.push_str(row);
        }
        out.push_str("\n</details>\n");
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n{left_out} more run{} left out to stay within the comment size limit.",
            if left_out == 1 { " was" } else { "s were" }
        );
    }
    out
}

fn headline(
    ranked: &[&Analyzed],
    metric: Metric,
    baseline: Option<&Analyzed>,
    base_value: Option<f64>,
) -> String {
    let n = ranked.len();
    let mut line = format!("**{n} run{}**", if n == 1 { "" } else { "s" });
    if let Some(best) = ranked.first() {
        if let Some(v) = metric.value(best) {
            let _ = write!(
                line,
                " · best: **{}** {} {}",
                escape_md(&best.run.name),
                metric.label(),
                fmt_num(v)
            );
            if let (Some(base), Some(b)) = (baseline, base_value) {
                if !std::ptr::eq(*best, base) {
                    let _ = write!(
                        line,
                        " ({} vs baseline {})",
                        delta(v, b),
                        escape_md(&base.run.name)
                    );
                }
            }
        }
    }
    let count = |severity: Severity| {
        ranked
            .iter()
            .filter(|a| a.diagnostics.iter().any(|d| d.severity == severity))
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if errors > 0 {
        let _ = write!(line, " · {errors} with errors");
    }
    if warnings > 0 {
        let _ = write!(line, " · {warnings} with warnings");
    }
    line
}

/// Warnings and errors first, one line per finding.
fn findings(out: &mut String, ranked: &[&Analyzed]) {
    let mut lines = Vec::new();
    for severity in [Severity::Error, Severity::Warning] {
        for a in ranked {
            for d in a.diagnostics.iter().filter(|d| d.severity == severity) {
                let mark = if severity == Severity::Error {
                    "❌"
                } else {
                    "⚠️"
                };
                lines.push(format!(
                    "- {mark} **{}**: {}",
                    escape_md(&a.run.name),
                    escape_md(&d.message)
                ));
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    for line in lines.iter().take(MAX_FINDINGS) {
        let _ = writeln!(out, "{line}");
    }
    if lines.len() > MAX_FINDINGS {
        let _ = writeln!(
            out,
            "- … and {} more findings in the report",
            lines.len() - MAX_FINDINGS
        );
    }
    out.push('\n');
}

fn table_header(metric: Metric, params: &[String]) -> String {
    let mut cols = vec![
        "Run".to_string(),
        "Status".into(),
        capitalize(metric.label()),
        "Δ vs baseline".into(),
        "Loss".into(),
    ];
    cols.extend(params.iter().map(|p| format!("`{}`", p.replace('`', "'"))));
    let mut out = format!("| {} |\n", cols.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(cols.len()));
    out
}

fn table_row(
    a: &Analyzed,
    flat: &BTreeMap<String, String>,
    metric: Metric,
    base_value: Option<f64>,
    baseline: Option<&Analyzed>,
    params: &[String],
) -> String {
    let value = metric.value(a);
    let change = match (value, base_value, baseline) {
        (_, _, Some(b)) if std::ptr::eq(a, b) => "baseline".to_string(),
        (Some(v), Some(b), _) => delta(v, b),
        _ => String::new(),
    };
    let mut cells = vec![
        escape_md(&a.run.name),
        a.run.status.as_str().to_string(),
        value.map(fmt_num).unwrap_or_default(),
        change,
        sparkline(a),
    ];
    cells.extend(
        params
            .iter()
            .map(|k| flat.get(k).map(|v| escape_md(v)).unwrap_or_default()),
    );
    format!("| {} |\n", cells.join(" | "))
}

/// `↓ 5.2%` (better, lower) or `↑ 3.0%` against the baseline value.
pub(crate) fn delta(value: f64, base: f64) -> String {
    if base == 0.0 {
        return fmt_num(value - base);
    }
    let percent = (value - base) / base.abs() * 100.0;
    let arrow = if percent < 0.0 {
        "↓"
    } else if percent > 0.0 {
        "↑"
    } else {
        "="
    };
    format!("{arrow} {:.1}%", percent.abs())
}

/// The main loss (train, else val) as eight-level unicode bars.
pub fn sparkline(a: &Analyzed) -> String {
    let values = main_loss_values(a);
    if values.len() < 2 {
        return String::new();
    }
    let (buckets, min, max) = bucket_means(&values, SPARK_WIDTH);
    buckets
        .iter()
        .map(|v| {
            let level = if max > min {
                (v - min) / (max - min) * 7.0
            } else {
                0.0
            };
            SPARKS[level.round().clamp(0.0, 7.0) as usize]
        })
        .collect()
}

/// A mermaid `xychart-beta` of the main loss of the top runs, sampled at common steps.
fn mermaid(out: &mut String, ranked: &[&Analyzed]) {
    let lines: Vec<(&Analyzed, Vec<(u64, f64)>)> = ranked
        .iter()
        .take(MERMAID_RUNS)
        .filter_map(|a| {
            let s = a.run.series(Family::Loss, Split::Train)?;
            let pts: Vec<(u64, f64)> = s
                .points
                .iter()
                .filter(|p| p.value.is_finite())
                .map(|p| (p.step, p.value))
                .collect();
            (pts.len() >= 2).then_some((*a, pts))
        })
        .collect();
    let Some(last) = lines
        .iter()
        .filter_map(|(_, p)| p.last().map(|p| p.0))
        .max()
    else {
        return;
    };
    let steps: Vec<u64> = (1..=MERMAID_POINTS as u64)
        .map(|i| last * i / MERMAID_POINTS as u64)
        .collect();
    let _ = writeln!(
        out,
        "```mermaid\nxychart-beta\n    title \"Train loss of the top runs\""
    );
    let _ = writeln!(
        out,
        "    x-axis \"step\" [{}]",
        steps
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "    y-axis \"loss\"");
    for (_, pts) in &lines {
        let values: Vec<String> = steps
            .iter()
            .map(|&s| {
                // The last value logged at or before the step (the first one before any).
                let i = pts.partition_point(|p| p.0 <= s);
                format!("{:.4}", pts[i.saturating_sub(1)].1)
            })
            .collect();
        let _ = writeln!(out, "    line [{}]", values.join(", "));
    }
    let names: Vec<String> = lines.iter().map(|(a, _)| escape_md(&a.run.name)).collect();
    let _ = writeln!(
        out,
        "```\n\nLines, in order: {} (a run that ended early holds its last value).\n",
        names.join(", ")
    );
}

/// Levenshtein distance, for "did you mean" lists.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
