//! `experiments.md`: the notes people keep by hand, written for them.
//!
//! One section per run, in the shape of a hand-kept experiment log:
//! `## name (date)` and a few bullet lines, then its diagnostics, most severe
//! first. Every string from a run is
//! escaped so that a hostile name renders as text on GitHub and elsewhere.

use crate::analyze::Analyzed;
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
    for a in runs {
        run_section(&mut md, a);
    }
    md
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
    fn empty_tree_says_so() {
        assert!(experiments_md("X", &[]).contains("No runs were found."));
    }
}
