//! `experiments.md`: the notes people keep by hand, written for them.
//!
//! A table of every run and the best run of each group first, then one
//! section per run, in the shape of a hand-kept experiment log:
//! `## name (date)` and a few bullet lines, then its diagnostics, most severe
//! first. Every string from a run is
//! escaped so that a hostile name renders as text on GitHub and elsewhere.

use crate::analyze::Analyzed;
use crate::model::Severity;
use crate::render::view::{fmt_duration, fmt_num, fmt_opt};
use std::fmt::Write;

/// The whole `experiments.md`.
pub fn experiments_md(title: &str, runs: &[Analyzed]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", escape_md(title));
    if runs.is_empty() {
        md.push_str("No runs were found.\n");
        return md;
    }
    let _ = writeln!(
        md,
        "{} run{}.\n",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    overview(&mut md, runs);
    best_per_group(&mut md, runs);
    for a in runs {
        run_section(&mut md, a);
    }
    md
}

/// One table of every run: the header a reader scans before the sections.
fn overview(md: &mut String, runs: &[Analyzed]) {
    md.push_str("| Run | Group | Status | Diagnosis | Final train loss | Best val loss |\n");
    md.push_str("|---|---|---|---|---|---|\n");
    for a in runs {
        let h = &a.headline;
        let findings: Vec<&str> = a
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .map(|d| d.code.as_str())
            .collect();
        let diagnosis = if findings.is_empty() {
            let healthy = a.diagnostics.iter().any(|d| d.code == "healthy");
            if healthy {
                "healthy".to_string()
            } else {
                String::new()
            }
        } else {
            findings.join(", ")
        };
        let best_val = match (h.best_val_loss, h.best_val_step) {
            (Some(v), Some(step)) => format!("{} @ {step}", fmt_num(v)),
            _ => fmt_opt(h.best_val_loss),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {diagnosis} | {} | {best_val} |",
            escape_md(&a.run.name),
            escape_md(&a.run.group),
            a.run.status.as_str(),
            fmt_opt(h.final_train_loss),
        );
    }
    md.push('\n');
}

/// The best run of each group of two or more (lowest best val loss, else
/// final train loss; runs with an error diagnosis are not candidates).
fn best_per_group(md: &mut String, runs: &[Analyzed]) {
    let mut groups: std::collections::BTreeMap<&str, Vec<&Analyzed>> = Default::default();
    for a in runs {
        groups.entry(a.run.group.as_str()).or_default().push(a);
    }
    let mut lines = Vec::new();
    for (group, members) in groups.iter().filter(|(_, m)| m.len() >= 2) {
        let key = |a: &Analyzed| {
            a.headline
                .best_val_loss
                .or(a.headline.final_train_loss)
                .filter(|v| v.is_finite())
        };
        let sound = members
            .iter()
            .filter(|a| !a.diagnostics.iter().any(|d| d.severity == Severity::Error))
            .filter_map(|a| key(a).map(|v| (v, *a)));
        if let Some((value, best)) = sound.min_by(|x, y| x.0.total_cmp(&y.0)) {
            let what = if best.headline.best_val_loss.is_some() {
                "best val loss"
            } else {
                "final train loss"
            };
            let group = if group.is_empty() {
                "(top level)".to_string()
            } else {
                escape_md(group)
            };
            lines.push(format!(
                "- **{group}**: {} ({what} {})",
                escape_md(&best.run.name),
                fmt_num(value)
            ));
        }
    }
    if !lines.is_empty() {
        md.push_str("**Best run per group:**\n\n");
        for line in lines {
            let _ = writeln!(md, "{line}");
        }
        md.push('\n');
    }
}

fn run_section(md: &mut String, a: &Analyzed) {
    let run = &a.run;
    let h = &a.headline;
    let _ = match &run.date {
        Some(date) => writeln!(md, "## {} ({})\n", escape_md(&run.name), escape_md(date)),
        None => writeln!(md, "## {}\n", escape_md(&run.name)),
    };
    let config = run
        .sources
        .iter()
        .find(|s| s.ends_with(".yaml") || s.ends_with(".yml") || s.ends_with(".json"))
        .unwrap_or(&run.path);
    let _ = writeln!(md, "- **Config:** {}", escape_md(config));
    if !run.group.is_empty() {
        let _ = writeln!(md, "- **Group:** {}", escape_md(&run.group));
    }
    if let Some(d) = run.duration_seconds {
        let _ = writeln!(md, "- **Duration:** {}", fmt_duration(d));
    }
    let _ = writeln!(
        md,
        "- **Final loss:** train {}, val {}",
        fmt_opt(h.final_train_loss),
        fmt_opt(h.final_val_loss)
    );
    let _ = writeln!(
        md,
        "- **Status:** {} ({})",
        run.status.as_str(),
        escape_md(&run.status_reason)
    );
    let _ = writeln!(md, "- **Result:** {}", result_line(a));
    if !a.diagnostics.is_empty() {
        md.push_str("- **Diagnostics:**\n");
        // Messages open with what they are ("overfitting: ...") and carry their steps.
        for d in &a.diagnostics {
            let _ = writeln!(md, "  - {}: {}", d.severity.as_str(), escape_md(&d.message));
        }
    }
    let errors = run.error_count();
    if !run.problems.is_empty() {
        let _ = writeln!(
            md,
            "- **Problems:** {} ({} error{}); first: {}",
            run.problems.len(),
            errors,
            if errors == 1 { "" } else { "s" },
            escape_md(&run.problems[0].to_string())
        );
    }
    md.push('\n');
}

/// One line saying how the run came out.
fn result_line(a: &Analyzed) -> String {
    let h = &a.headline;
    if let Some(step) = a
        .summaries
        .iter()
        .filter_map(|s| s.first_nonfinite_step)
        .min()
    {
        return format!("a metric became non-finite at step {step}");
    }
    match (h.best_val_loss, h.best_val_step) {
        (Some(best), Some(step)) => {
            let mut line = format!("best val loss {} at step {step}", fmt_num(best));
            if let Some(gap) = h.gap_percent {
                let _ = write!(line, "; final val − train gap {gap:+.1}%");
            }
            line
        }
        _ => match h.best_train_loss {
            Some(best) => format!("best train loss {} (no validation loss)", fmt_num(best)),
            None => "no loss recorded".to_string(),
        },
    }
}

/// Escape text for markdown: HTML-significant characters become entities and
/// markdown punctuation is backslash-escaped, so a name is always shown as text.
pub fn escape_md(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        match c {
            // GitHub autolinks `scheme://` and `www.`: an entity breaks the pattern
            // and still shows the character, so a name never becomes a link.
            ':' if after == Some('/') => out.push_str("&#58;"),
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push_str("&#46;")
            }
            '@' => out.push_str("&#64;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // `snake_case` inside a word never emphasizes (GFM), so keep file names readable.
            '_' if word(before) && word(after) => out.push(c),
            '!' if after != Some('[') => out.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_markdown() {
        assert_eq!(
            escape_md("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape_md("a_b *c* _d_ done!"), "a_b \\*c\\* \\_d\\_ done!");
        assert_eq!(escape_md("![x](y)"), "\\!\\[x\\](y)");
        assert_eq!(
            escape_md("see https://x.io www.y.io a@b.c"),
            "see https&#58;//x.io www&#46;y.io a&#64;b.c"
        );
    }

    #[test]
    fn header_table_and_best_per_group() {
        use crate::analyze::{analyze, Thresholds};
        use crate::model::{Point, Run};
        let runs: Vec<Analyzed> = [("a", 1.5), ("b|x", 1.2), ("c", 0.9)]
            .iter()
            .map(|(name, val)| {
                let mut r = Run::new(&format!("sweep/{name}"), "sweep", "test");
                r.push_point("train/loss", "f", Point::at(10, 2.0));
                r.push_point("val/loss", "f", Point::at(10, *val));
                r.finish_metrics();
                analyze(r, &Thresholds::default())
            })
            .collect();
        let md = experiments_md("T", &runs);
        assert!(
            md.contains("| Run | Group | Status | Diagnosis | Final train loss | Best val loss |")
        );
        assert!(
            md.contains("| b\\|x | sweep |"),
            "pipes in names are escaped: {md}"
        );
        assert!(md.contains("- **sweep**: c (best val loss 0.9000)"), "{md}");
        assert!(md.find("**Best run per group:**").unwrap() < md.find("## a").unwrap());
    }

    #[test]
    fn empty_tree_says_so() {
        assert!(experiments_md("X", &[]).contains("No runs were found."));
    }
}
