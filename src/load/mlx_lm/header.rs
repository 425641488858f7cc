//! What a wrapper script prints around an MLX-LM run: its `key=value`
//! header, the command line it ran, and timestamps at the start of lines.
//!
//! Values are read as JSON where they look like it (numbers, thousands
//! separators, Python's `True`/`None`, JSON lists) and kept as text otherwise,
//! so `package_mlx=0.31.2` stays a version string.

use super::lines::{after_prefix, parse_number, without_thousands};
use serde_json::{Map, Value};

/// `key=value` at the very start of a line, as a wrapper script's header prints it.
pub(super) fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let mut chars = key.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && key.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    valid.then(|| (key, value.trim()))
}

/// A printed value as JSON: numbers, booleans, None/null, JSON lists and objects, else text.
/// Thousands separators are read as numbers (`1,000` is 1000).
pub(super) fn scalar(text: &str) -> Value {
    let text = text.trim();
    match text {
        "true" | "True" => return Value::Bool(true),
        "false" | "False" => return Value::Bool(false),
        "None" | "null" => return Value::Null,
        _ => {}
    }
    let numeric = text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ".,-+eE".contains(c));
    if let Some(plain) = without_thousands(text).filter(|_| numeric) {
        if let Ok(i) = plain.parse::<i64>() {
            return Value::from(i);
        }
        if let Some(n) = plain
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    if text.starts_with(['[', '{']) {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            return value;
        }
    }
    Value::from(text)
}

/// The flags of an `mlx_lm.lora` / `mlx_lm lora` command line, as params
/// (`--batch-size 1` -> `batch_size: 1`, a bare `--train` -> `true`, `-c x.yaml` -> `config`).
pub(super) fn cli_flags(line: &str) -> Option<Map<String, Value>> {
    let rest = ["mlx_lm.lora", "mlx_lm lora"]
        .iter()
        .find_map(|m| after_prefix(line, m).map(|r| &r[m.len()..]))?;
    let words = shell_words(rest);
    let mut flags = Map::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let name = match word.strip_prefix("--") {
            Some(name) => name,
            None if word == "-c" => "config",
            None => continue,
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        if name.is_empty() {
            continue;
        }
        let value = match inline {
            Some(v) => scalar(&v),
            None => match words.get(i) {
                Some(next) if !next.starts_with('-') || parse_number(next).is_some() => {
                    i += 1;
                    scalar(next)
                }
                _ => Value::Bool(true),
            },
        };
        flags.insert(name.replace('-', "_"), value);
    }
    Some(flags)
}

/// Split a command line at spaces, honouring simple single and double quotes.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// A timestamp at the start of a line (`2026-05-31 22:11:46,123 INFO ...`,
/// `[2026-05-31T22:11:46Z] ...`) as its text and seconds since 1970 (UTC assumed).
pub(super) fn leading_timestamp(line: &str) -> Option<(&str, f64)> {
    let text = line.strip_prefix('[').unwrap_or(line);
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap_or(0);
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut end = 19;
    if matches!(b.get(19), Some(b'.' | b',')) {
        end = 20 + b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    let fraction = if end > 20 {
        format!("0.{}", &text[20..end])
            .parse::<f64>()
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let seconds = days_from_civil(year, month, day) * 86_400
        + num(11..13) * 3600
        + num(14..16) * 60
        + num(17..19);
    Some((&text[..end], seconds as f64 + fraction))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_values_and_scalars() {
        assert_eq!(key_value("subset_size=128"), Some(("subset_size", "128")));
        assert_eq!(
            key_value("MODEL_RESULT_JSON="),
            Some(("MODEL_RESULT_JSON", ""))
        );
        assert_eq!(key_value("Iter 1: x=2"), None);
        assert_eq!(key_value("=3"), None);
        assert_eq!(scalar("128"), json!(128));
        assert_eq!(scalar("1e-5"), json!(1e-5));
        assert_eq!(scalar("0.31.2"), json!("0.31.2"));
        assert_eq!(scalar("True"), json!(true));
        assert_eq!(scalar("None"), json!(null));
        assert_eq!(scalar("[\"a/b\"]"), json!(["a/b"]));
        assert_eq!(scalar("[broken"), json!("[broken"));
        assert_eq!(scalar("nan"), json!("nan"));
        assert_eq!(scalar("-"), json!("-"));
        assert_eq!(scalar("1,000"), json!(1000));
        assert_eq!(scalar("0,1"), json!("0,1"));
        assert_eq!(parse_number("12,345,678.5"), Some(12345678.5));
        assert_eq!(parse_number("1,23"), None);
    }

    #[test]
    fn command_line_flags() {
        let line = "COMMAND=/usr/bin/python -m mlx_lm lora --model m/x --train --data 'my data' \
                    --iters 128 --batch-size 1 --learning-rate=1e-5 --seed -1 -c cfg.yaml --grad-checkpoint";
        let flags = cli_flags(line).unwrap();
        assert_eq!(
            Value::Object(flags),
            json!({"model": "m/x", "train": true, "data": "my data", "iters": 128,
                   "batch_size": 1, "learning_rate": 1e-5, "seed": -1, "config": "cfg.yaml",
                   "grad_checkpoint": true})
        );
        assert!(cli_flags("cmd = [\"python\", \"-m\", \"mlx_lm.lora\", \"--iters\"]").is_none());
        assert!(cli_flags("no command here").is_none());
    }

    #[test]
    fn timestamps_at_line_start() {
        let (text, secs) = leading_timestamp("2026-05-31 22:11:46,250 INFO Iter 1").unwrap();
        assert_eq!(text, "2026-05-31 22:11:46,250");
        let (_, base) = leading_timestamp("[2026-05-31T22:11:46Z] x").unwrap();
        assert!((secs - base - 0.25).abs() < 1e-9);
        assert_eq!(base, 1_780_265_506.0);
        assert!(leading_timestamp("1970-01-01T00:00:00").unwrap().1 == 0.0);
        assert!(leading_timestamp("2026-13-01 00:00:00").is_none());
        assert!(leading_timestamp("Iter 1: 2026-05-31 22:11:46").is_none());
        assert!(leading_timestamp("2026-05-31 22:11").is_none());
    }
}
