//! The newer `mlx_lm.lora` console output: a boxed header panel, then a table.
//!
//! Newer versions print the run's settings in a rounded panel (`model`,
//! `type lora · 16 layers · rank 8`, `batch · iters 4 · 1,000`, ...) and then
//! one row per report: `iter train_loss tok/s tokens` rows, `val` rows and
//! `save` rows, coloured, with thousands separators and the trained tokens in
//! thousands (`12.3k`). Nothing is printed at the end but the progress bar's
//! last frame (`train ... 1,000/1,000`). Rows are recognised one at a time;
//! the reader decides whether a table has begun.

use super::header::scalar;
use super::lines::{parse_number, snake_case, without_thousands};
use serde_json::{Map, Value};

/// One row of the newer table output, ANSI removed and trimmed.
#[derive(Debug, PartialEq)]
pub(super) enum TableRow<'a> {
    /// `iter   train_loss     tok/s     tokens`
    Header,
    /// `  10    1.234 ▼    1,234    12.3k`; tokens are printed in thousands with one decimal.
    Train {
        step: u64,
        loss: f64,
        tokens_per_sec: f64,
        trained_tokens: f64,
    },
    /// `   1    val 6.388    1.44s`
    Val { step: u64, loss: f64, seconds: f64 },
    /// `save  0000100_adapters.safetensors`; the step is the file name's number.
    Save { file: &'a str, step: Option<u64> },
    /// The progress bar's last frame: `train ████░░ 100% · 1,000/1,000`.
    Progress { done: u64, total: u64 },
}

/// Recognise a row of the newer table output (only rows; the caller knows whether a table began).
pub(super) fn table_row(trimmed: &str) -> Option<TableRow<'_>> {
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let step = |w: &str| without_thousands(w)?.parse::<u64>().ok();
    match words.as_slice() {
        ["iter", "train_loss", "tok/s", "tokens"] => Some(TableRow::Header),
        ["save", file] => Some(TableRow::Save {
            file,
            step: leading_digits(file),
        }),
        [it, "val", loss, secs] => Some(TableRow::Val {
            step: step(it)?,
            loss: parse_number(loss)?,
            seconds: parse_number(secs.strip_suffix('s')?)?,
        }),
        ["train", .., count] => {
            let (done, total) = count.split_once('/')?;
            Some(TableRow::Progress {
                done: step(done)?,
                total: step(total)?,
            })
        }
        [it, loss, rest @ ..] if matches!(rest.len(), 2 | 3) => {
            let rest = match rest {
                [arrow, a, b] if matches!(*arrow, "▼" | "▲") => [*a, *b],
                [a, b] => [*a, *b],
                _ => return None,
            };
            Some(TableRow::Train {
                step: step(it)?,
                loss: parse_number(loss)?,
                tokens_per_sec: parse_number(rest[0])?,
                trained_tokens: parse_number(rest[1].strip_suffix('k')?)? * 1000.0,
            })
        }
        _ => None,
    }
}

/// `0000100_adapters.safetensors` -> 100.
fn leading_digits(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    text[..digits].parse().ok()
}

/// True for the top border of the newer `mlx_lm.lora` header panel.
pub(super) fn is_panel_title(trimmed: &str) -> bool {
    trimmed.starts_with('╭') && trimmed.contains("mlx_lm.lora")
}

/// `│  batch · iters   4 · 1,000   │` -> (`batch · iters`, `4 · 1,000`).
pub(super) fn panel_row(trimmed: &str) -> Option<(&str, &str)> {
    let inner = trimmed.strip_prefix('│')?.strip_suffix('│')?.trim();
    let (label, value) = inner.split_once("   ")?;
    let (label, value) = (label.trim(), value.trim());
    (!label.is_empty() && !value.is_empty()).then_some((label, value))
}

/// Put what a panel row says into params, with the names `adapter_config.json` uses.
pub(super) fn panel_params(label: &str, value: &str, params: &mut Map<String, Value>) {
    let parts: Vec<&str> = value.split(" · ").map(str::trim).collect();
    let mut put = |key: &str, v: Value| {
        params.entry(key.to_string()).or_insert(v);
    };
    match (label, parts.as_slice()) {
        ("model", _) => put("model", Value::from(value)),
        ("dataset", _) => put("data", Value::from(value)),
        ("max seq", [n]) => put("max_seq_length", scalar(n)),
        ("batch · iters", [batch, iters]) => {
            put("batch_size", scalar(batch));
            put("iters", scalar(iters));
        }
        ("optimizer", [name, rest @ ..]) => {
            put("optimizer", Value::from(*name));
            if let Some(lr) = rest.iter().find_map(|p| p.strip_prefix("lr ")) {
                put("learning_rate", scalar(lr));
            }
        }
        ("type", [kind, rest @ ..]) => {
            put("fine_tune_type", Value::from(*kind));
            for part in rest {
                if let Some(n) = part.strip_suffix(" layers") {
                    put("num_layers", scalar(n));
                } else if let Some(rank) = part.strip_prefix("rank ") {
                    let mut lora = Map::new();
                    lora.insert("rank".to_string(), scalar(rank));
                    put("lora_parameters", Value::Object(lora));
                }
            }
        }
        _ => put(&snake_case(label), scalar(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_rows() {
        assert_eq!(
            table_row("iter   train_loss     tok/s     tokens"),
            Some(TableRow::Header)
        );
        assert_eq!(
            table_row("100    1.234 ▲    1,234    12.3k"),
            Some(TableRow::Train {
                step: 100,
                loss: 1.234,
                tokens_per_sec: 1234.0,
                trained_tokens: 12300.0
            })
        );
        assert!(matches!(
            table_row("1    5.303 ▼      32    0.1k"),
            Some(TableRow::Train { step: 1, .. })
        ));
        assert_eq!(
            table_row("1    val 6.388    1.44s"),
            Some(TableRow::Val {
                step: 1,
                loss: 6.388,
                seconds: 1.44
            })
        );
        assert_eq!(
            table_row("save  0000100_adapters.safetensors"),
            Some(TableRow::Save {
                file: "0000100_adapters.safetensors",
                step: Some(100)
            })
        );
        assert_eq!(
            table_row("train ██████████ 100% · 1,000/1,000"),
            Some(TableRow::Progress {
                done: 1000,
                total: 1000
            })
        );
        assert_eq!(table_row("10 20 30"), None);
        assert_eq!(table_row("Loading datasets"), None);
    }

    #[test]
    fn panel_rows_become_config_names() {
        let rows = [
            "│  model           mlx-community/Qwen3-0.6B-4bit   │",
            "│  type            lora · 16 layers · rank 8      │",
            "│  dataset         data                           │",
            "│  optimizer       adamw · lr 1.0e-05             │",
            "│  batch · iters   4 · 1,000                      │",
            "│  max seq         2,048                          │",
        ];
        let mut params = Map::new();
        for row in rows {
            let (label, value) = panel_row(row).unwrap();
            panel_params(label, value, &mut params);
        }
        assert_eq!(
            Value::Object(params),
            json!({"model": "mlx-community/Qwen3-0.6B-4bit", "fine_tune_type": "lora",
                   "num_layers": 16, "lora_parameters": {"rank": 8}, "data": "data",
                   "optimizer": "adamw", "learning_rate": 1e-5, "batch_size": 4,
                   "iters": 1000, "max_seq_length": 2048})
        );
        assert!(is_panel_title("╭─ mlx_lm.lora ──────╮"));
        assert_eq!(panel_row("╰──────╯"), None);
    }
}
