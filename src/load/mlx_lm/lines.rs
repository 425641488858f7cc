//! What one line of MLX-LM console output says: the `Iter N:` reports.
//!
//! `mlx_lm.lora` prints `Iter N: Label value, Label value, ...` reports (older
//! versions print fewer fields, forks print more) and a `Test loss X, Test ppl
//! Y.` line; this module finds them, splits their fields and gives each a
//! stable series name. [`table`] reads the newer table output and its header
//! panel, [`header`] what wrapper scripts print around a run. Every function
//! takes one line with ANSI escapes already removed ([`strip_ansi`]) and keeps
//! no state, so each is tested on strings.
//!
//! A marker counts only when the text before it has no quote character: a log
//! that repeats its own lines inside JSON strings (`"tail_30_lines": ["Iter
//! 5: ..."]`) or a script that prints them (`print(f"Iter {it}: ...")`) must
//! not be read twice or at all, while a timestamp or a `[run-id (pid 7)]`
//! prefix is fine.
//!
//! [`table`]: super::table
//! [`header`]: super::header

use std::borrow::Cow;

/// Remove ANSI escape sequences (colours, cursor moves, titles) from a line.
pub(super) fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameter and intermediate bytes, then one final byte in `@`..=`~`.
            Some('[') => {
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC-backslash.
            Some(']') => {
                while let Some(n) = chars.next() {
                    if n == '\u{7}' {
                        break;
                    }
                    if n == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            // Character-set selection: ESC ( B.
            Some('(' | ')') => {
                chars.next();
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// `marker` and what follows it, when the text before it holds no quote.
pub(super) fn after_prefix<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let at = line.find(marker)?;
    (!line[..at].contains(['"', '\''])).then(|| &line[at..])
}

/// `Iter N: body` -> (N, body), after an unquoted prefix.
pub(super) fn iter_line(line: &str) -> Option<(u64, &str)> {
    for (at, _) in line.match_indices("Iter ") {
        if line[..at].contains(['"', '\'']) {
            return None;
        }
        let rest = &line[at + "Iter ".len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 || !rest[digits..].starts_with(':') {
            continue;
        }
        let step = rest[..digits].parse().ok()?;
        return Some((step, rest[digits + 1..].trim()));
    }
    None
}

/// The metrics of a report body: `Train loss 5.303, Learning Rate 1.000e-05, ..., Peak mem 0.974 GB`.
///
/// Fields are split at `, ` (a thousands separator has no space after its comma);
/// a field without a trailing number (`Epoch 1/3`, a line cut short) is skipped.
pub(super) fn report_fields(body: &str) -> Vec<(String, f64)> {
    body.split(", ")
        .filter_map(|field| {
            let (label, value, unit) = split_field(field)?;
            Some((metric_name(label, unit), value))
        })
        .collect()
}

/// `Peak mem 0.974 GB` -> (`Peak mem`, 0.974, `GB`); `Val took 1.435s` -> (`Val took`, 1.435, `s`).
fn split_field(field: &str) -> Option<(&str, f64, &str)> {
    let field = field.trim().trim_end_matches('.');
    let (head, last) = field.rsplit_once(char::is_whitespace)?;
    if let Some((value, unit)) = number_with_unit(last) {
        let label = head.trim();
        return (!label.is_empty()).then_some((label, value, unit));
    }
    // The unit as its own word: `0.974 GB`.
    let unit = last;
    if !matches!(unit, "GB" | "MB" | "KB" | "GiB" | "MiB" | "s" | "ms" | "%") {
        return None;
    }
    let (label, number) = head.trim_end().rsplit_once(char::is_whitespace)?;
    let value = parse_number(number)?;
    let label = label.trim();
    (!label.is_empty()).then_some((label, value, unit))
}

/// `1.435s` -> (1.435, `s`); `0.5` -> (0.5, ``); `nan` -> (NaN, ``).
fn number_with_unit(token: &str) -> Option<(f64, &str)> {
    if let Some(value) = parse_number(token) {
        return Some((value, ""));
    }
    ["ms", "s", "GB", "MB", "%"].iter().find_map(|unit| {
        let number = token.strip_suffix(unit)?;
        Some((parse_number(number)?, *unit))
    })
}

/// A number as Python prints it: `1,234.5`, `1.000e-05`, `nan`, `inf`.
pub(super) fn parse_number(token: &str) -> Option<f64> {
    let first = token.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.' | 'n' | 'N' | 'i' | 'I')) {
        return None;
    }
    without_thousands(token)?.parse().ok()
}

/// `1,234.5` -> `1234.5`; None when the commas are not thousands separators (`0,1`).
pub(super) fn without_thousands(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains(',') {
        return Some(Cow::Borrowed(text));
    }
    let unsigned = text.trim_start_matches(['-', '+']);
    let whole = unsigned.split(['.', 'e', 'E']).next().unwrap_or("");
    let groups: Vec<&str> = whole.split(',').collect();
    let valid = (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && !unsigned[whole.len()..].contains(',');
    valid.then(|| Cow::Owned(text.replace(',', "")))
}

/// The stable series name for a printed label and unit (`Peak mem` + `GB` -> `peak_mem_gb`).
pub(super) fn metric_name(label: &str, unit: &str) -> String {
    let lower = label.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = lower.to_ascii_lowercase();
    let base = match lower.as_str() {
        "train loss" => "train_loss",
        "val loss" | "validation loss" => "val_loss",
        "learning rate" | "lr" => "learning_rate",
        "it/sec" | "it/s" | "iterations/sec" => "it_per_sec",
        "tokens/sec" | "tok/s" | "tokens/s" => "tokens_per_sec",
        "trained tokens" => "trained_tokens",
        "peak mem" | "peak memory" => "peak_mem",
        "val took" => "val_time",
        "test loss" => "test_loss",
        "test ppl" => "test_ppl",
        _ => "",
    };
    let mut name = if base.is_empty() {
        snake_case(&lower)
    } else {
        base.to_string()
    };
    match unit {
        "" => {}
        "%" => name.push_str("_pct"),
        unit => {
            name.push('_');
            name.push_str(&unit.to_ascii_lowercase());
        }
    }
    name
}

/// `Grad norm` -> `grad_norm`, `Samples/sec` -> `samples_per_sec`.
pub(super) fn snake_case(text: &str) -> String {
    let text = text.replace('/', " per ");
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "value".to_string()
    } else {
        out
    }
}

/// Lines that end a process whatever printed them (matched anywhere after an unquoted prefix).
pub(super) const FATAL_PHRASES: [&str; 7] = [
    "libc++abi: terminating",
    "Command buffer execution failed",
    "Segmentation fault",
    "Killed: 9",
    "zsh: killed",
    "out of memory",
    "Abort trap: 6",
];
/// Lines that end training normally.
pub(super) const FINAL_SAVE_PHRASES: [&str; 2] =
    ["Saved final weights", "Saved final adapter weights"];

/// An uncaught exception printed without a traceback: `ValueError: ...` at the start of a line.
pub(super) fn is_exception_line(line: &str) -> bool {
    let Some((name, _)) = line.split_once(": ") else {
        return false;
    };
    name.len() > "Error".len()
        && (name.ends_with("Error") || name.ends_with("Exception"))
        && name
            .rsplit('.')
            .next()
            .is_some_and(|class| class.starts_with(|c: char| c.is_ascii_uppercase()))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

pub(super) fn is_warning(line: &str, trimmed: &str) -> bool {
    trimmed.starts_with("Warning:")
        || trimmed.starts_with("WARNING")
        || [
            "[WARNING]",
            "UserWarning:",
            "FutureWarning:",
            "DeprecationWarning:",
        ]
        .iter()
        .any(|m| after_prefix(line, m).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{classify, Family, Split};

    #[test]
    fn strips_colours_and_titles() {
        let line = "\u{1b}[1;38;2;0;128;0m  10\u{1b}[0m    \u{1b}]0;title\u{7}ok\u{1b}(B";
        assert_eq!(strip_ansi(line), "  10    ok");
        assert_eq!(strip_ansi("plain"), "plain");
        assert_eq!(strip_ansi("cut \u{1b}[1;3"), "cut ");
    }

    #[test]
    fn iter_lines_with_prefixes_but_not_inside_strings() {
        let line = "Iter 5: Train loss 3.158, Learning Rate 1.000e-05";
        assert_eq!(
            iter_line(line),
            Some((5, "Train loss 3.158, Learning Rate 1.000e-05"))
        );
        assert_eq!(
            iter_line("[run-id/step/4 (pid 79246)] Iter 12: Val loss 1.0, Val took 2.0s").unwrap(),
            (12, "Val loss 1.0, Val took 2.0s")
        );
        assert_eq!(
            iter_line("2026-05-31 22:11:46 Iterations: 4, Iter 7: Val loss 1").map(|r| r.0),
            Some(7)
        );
        assert_eq!(
            iter_line("      \"Iter 128: Val loss 0.773, Val took 0.223s\","),
            None
        );
        assert_eq!(
            iter_line("print(f\"Iter {it}: Train loss {loss:.3f}\")"),
            None
        );
        assert_eq!(iter_line("Iter : x"), None);
        assert_eq!(iter_line("Iter 99999999999999999999: x"), None);
    }

    #[test]
    fn report_fields_of_every_version() {
        let new = "Train loss 5.303, Learning Rate 1.000e-05, It/sec 0.354, Tokens/sec 31.537, \
                   Trained Tokens 89, Peak mem 0.974 GB";
        let fields = report_fields(new);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "train_loss",
                "learning_rate",
                "it_per_sec",
                "tokens_per_sec",
                "trained_tokens",
                "peak_mem_gb"
            ]
        );
        assert_eq!(fields[1].1, 1e-5);
        assert_eq!(fields[5].1, 0.974);
        let old = report_fields("Train loss 0.828, It/sec 0.523, Tokens/sec 1,201.825");
        assert_eq!(old[2], ("tokens_per_sec".to_string(), 1201.825));
        let val = report_fields("Val loss 6.449, Val took 1.453s");
        assert_eq!(
            val,
            [("val_loss".into(), 6.449), ("val_time_s".into(), 1.453)]
        );
        let test = report_fields("Test loss 1.234, Test ppl 3.434.");
        assert_eq!(
            test,
            [("test_loss".into(), 1.234), ("test_ppl".into(), 3.434)]
        );
        let fork = report_fields("Train loss nan, Grad norm inf, Epoch 1/3, Samples/sec 4");
        assert!(fork[0].1.is_nan());
        assert_eq!(fork[1], ("grad_norm".into(), f64::INFINITY));
        assert_eq!(fork[2], ("samples_per_sec".into(), 4.0));
        assert_eq!(fork.len(), 3);
        assert!(report_fields("Train loss 1.2, Learning Ra").len() == 1);
        assert!(report_fields("").is_empty());
    }

    #[test]
    fn metric_names_classify_into_the_right_family_and_split() {
        let expected = [
            ("train_loss", Family::Loss, Split::Train),
            ("val_loss", Family::Loss, Split::Val),
            ("test_loss", Family::Loss, Split::Test),
            ("test_ppl", Family::Perplexity, Split::Test),
            ("learning_rate", Family::LearningRate, Split::Other),
            ("it_per_sec", Family::Throughput, Split::Other),
            ("tokens_per_sec", Family::Throughput, Split::Other),
            ("peak_mem_gb", Family::Memory, Split::Other),
            ("val_time_s", Family::Time, Split::Val),
            ("trained_tokens", Family::Other, Split::Train),
        ];
        for (name, family, split) in expected {
            assert_eq!(classify(name), (family, split), "{name}");
        }
    }

    #[test]
    fn ending_lines() {
        assert!(is_exception_line(
            "ValueError: Dataset must have at least batch_size=4"
        ));
        assert!(is_exception_line("mlx.core.RuntimeError: boom"));
        assert!(!is_exception_line("  ValueError: indented"));
        assert!(!is_exception_line("Error: too short a name"));
        assert!(!is_exception_line("Val loss: 1.0"));
        let fatal = "libc++abi: terminating due to uncaught exception of type std::runtime_error";
        assert!(FATAL_PHRASES
            .iter()
            .any(|p| after_prefix(fatal, p).is_some()));
        assert!(is_warning(
            "Warning: You are sending unauthenticated requests",
            "Warning: ..."
        ));
        let long = "[WARNING] Some sequences are longer than 512 tokens.";
        assert!(is_warning(long, long));
        assert!(!is_warning("\"[WARNING] quoted\"", "\"[WARNING] quoted\""));
    }
}
