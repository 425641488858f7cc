//! One line of a plain text log to the metrics it states, for the few line
//! shapes that are sure to be metrics:
//!
//! - nanoGPT: `iter N: loss X, time Yms, mfu Z%` and `step N: train loss X, val loss Y`
//! - modded-nanogpt: `step:N/M val_loss:X train_time:Ys step_avg:Zms`
//! - `Epoch N/M - Train Loss: X, Val Loss: Y`
//! - `step=N | loss=X | lr=Y` (pipe-separated `key=value`)
//! - torchtune's tqdm description `E|S|Loss: X` (one `\r` frame at a time)
//!
//! A Python logging prefix (`2024-01-01 12:00:00,123 - INFO - ` or
//! `INFO:name:`) is stripped first. Every parser is strict: the whole line
//! must fit, and a line with `{` or `}` (an f-string of the training script
//! the log starts with) or leading indentation is never a metric line.

/// What one line states.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// Step of the values, if the line says (else the caller counts lines).
    pub step: Option<u64>,
    /// Epoch, when the line says.
    pub epoch: Option<f64>,
    /// Planned steps or epochs (`step:N/M`, `Epoch N/M`) and their param name.
    pub planned: Option<(&'static str, u64)>,
    /// Series name and value, in line order.
    pub values: Vec<(String, f64)>,
}

/// The logging level of a Python logging line and its message.
pub fn strip_logging_prefix(line: &str) -> Option<(&str, &str)> {
    const LEVELS: [&str; 6] = ["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"];
    for level in LEVELS {
        if let Some(rest) = line.strip_prefix(level).and_then(|r| r.strip_prefix(':')) {
            let (name, msg) = rest.split_once(':')?;
            let ok = !name.is_empty() && !name.contains(' ');
            return ok.then_some((level, msg));
        }
    }
    let b = line.as_bytes();
    let dated = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':';
    if !dated {
        return None;
    }
    // `asctime - [name - ]LEVEL - message`: the level is the 2nd or 3rd field.
    let seps: Vec<usize> = line.match_indices(" - ").map(|(i, _)| i).take(3).collect();
    for w in seps.windows(2).take(2) {
        let field = line.get(w[0] + 3..w[1])?.trim();
        if let Some(level) = LEVELS.iter().find(|l| field == **l) {
            return Some((level, line.get(w[1] + 3..)?));
        }
    }
    None
}

/// Parse one line (one `\r` frame) into values, or `None` when it is not a metric line.
pub fn parse_line(line: &str) -> Option<Parsed> {
    if line.contains('{') || line.contains('}') || line.starts_with([' ', '\t']) {
        return None;
    }
    let line = strip_logging_prefix(line)
        .map_or(line, |(_, msg)| msg)
        .trim();
    parse_modded(line)
        .or_else(|| parse_nanogpt_iter(line))
        .or_else(|| parse_nanogpt_eval(line))
        .or_else(|| parse_epoch(line))
        .or_else(|| parse_pipes(line))
        .or_else(|| parse_tqdm_description(line))
}

/// `step:125/3250 val_loss:4.58616 train_time:21.243s step_avg:169.94ms`
fn parse_modded(line: &str) -> Option<Parsed> {
    let mut tokens = line.split_whitespace();
    let (step, planned) = tokens.next()?.strip_prefix("step:")?.split_once('/')?;
    let mut out = Parsed {
        step: Some(step.parse().ok()?),
        planned: Some(("train_steps", planned.parse().ok()?)),
        ..Parsed::default()
    };
    for token in tokens {
        let (key, value) = token.split_once(':')?;
        let (name, value) = with_unit(key, value)?;
        if !value.is_finite() && name != key {
            continue; // `step_avg:nanms` at step 0: a timing not yet measured
        }
        out.values.push((name, value));
    }
    (!out.values.is_empty()).then_some(out)
}

/// `train_time` + `21.2s` -> `train_time_s`, 21.2; units `ms`, `s`, `%`.
fn with_unit(key: &str, value: &str) -> Option<(String, f64)> {
    if !is_key(key) {
        return None;
    }
    for (unit, suffix) in [("ms", "_ms"), ("s", "_s"), ("%", "")] {
        if let Some(n) = value.strip_suffix(unit).and_then(number) {
            return Some((format!("{key}{suffix}"), n));
        }
    }
    Some((key.to_string(), number(value)?))
}

/// `iter 10: loss 3.2345, time 123.45ms, mfu 12.34%`
fn parse_nanogpt_iter(line: &str) -> Option<Parsed> {
    let (step, rest) = line.strip_prefix("iter ")?.split_once(':')?;
    let mut out = Parsed {
        step: Some(step.trim().parse().ok()?),
        ..Parsed::default()
    };
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once(' ')?;
        let (name, value) = with_unit(key, value.trim())?;
        if name == "mfu" && value < 0.0 {
            continue; // nanoGPT prints -100% before it has measured
        }
        out.values.push((name, value));
    }
    (!out.values.is_empty()).then_some(out)
}

/// `step 2000: train loss 2.1234, val loss 2.2345`
fn parse_nanogpt_eval(line: &str) -> Option<Parsed> {
    let (step, rest) = line.strip_prefix("step ")?.split_once(':')?;
    let mut out = Parsed {
        step: Some(step.trim().parse().ok()?),
        ..Parsed::default()
    };
    for part in rest.split(',') {
        let (key, value) = part.trim().rsplit_once(' ')?;
        out.values.push((snake(key)?, number(value)?));
    }
    (!out.values.is_empty()).then_some(out)
}

/// `Epoch 3/10 - Train Loss: 0.4321, Val Loss: 0.5432, Val Acc: 81.2%`
fn parse_epoch(line: &str) -> Option<Parsed> {
    let rest = line
        .strip_prefix("Epoch ")
        .or_else(|| line.strip_prefix("epoch "))?;
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '/'))?;
    let (counter, rest) = rest.split_at(end);
    let rest = rest.trim_start().strip_prefix(['-', ':', '|', ','])?;
    let (epoch, planned) = match counter.split_once('/') {
        Some((e, m)) => (e.parse::<u64>().ok()?, Some(("epochs", m.parse().ok()?))),
        None => (counter.parse().ok()?, None),
    };
    let mut out = Parsed {
        step: Some(epoch),
        epoch: Some(epoch as f64),
        planned,
        values: Vec::new(),
    };
    for part in rest.split([',', '|']) {
        let (key, value) = part.trim().split_once(':')?;
        let (name, value) = with_unit(&snake(key)?, value.trim())?;
        out.values.push((name, value));
    }
    (!out.values.is_empty()).then_some(out)
}

/// `step=100 | loss=2.31 | lr=3e-4` (at least two fields)
fn parse_pipes(line: &str) -> Option<Parsed> {
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    if parts.len() < 2 {
        return None;
    }
    let mut out = Parsed::default();
    for part in parts {
        let (key, value) = part.split_once('=')?;
        let (key, value) = (key.trim(), value.trim());
        match key {
            "step" | "iter" | "iteration" | "global_step" => out.step = Some(value.parse().ok()?),
            "epoch" => out.epoch = Some(number(value)?),
            _ => {
                let (name, value) = with_unit(key, value)?;
                out.values.push((name, value));
            }
        }
    }
    (!out.values.is_empty()).then_some(out)
}

/// torchtune's progress bar description `1|5|Loss: 1.9749605655670166: 0%|...`
fn parse_tqdm_description(line: &str) -> Option<Parsed> {
    let mut parts = line.splitn(3, '|');
    let epoch: u64 = parts.next()?.parse().ok()?;
    let step: u64 = parts.next()?.parse().ok()?;
    let rest = parts.next()?.strip_prefix("Loss:")?.trim_start();
    let value = rest.split(':').next()?.trim();
    Some(Parsed {
        step: Some(step),
        epoch: Some(epoch as f64),
        planned: None,
        values: vec![("loss".to_string(), number(value)?)],
    })
}

/// `Train Loss` -> `train_loss`; only letters, digits, spaces, `_` and `/`.
fn snake(key: &str) -> Option<String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '/'));
    ok.then(|| {
        key.to_ascii_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_")
    })
}

/// A metric key: starts with a letter; letters, digits, `_`, `/`, `.`, `-`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 60
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-'))
}

/// A number as logs print it, `nan`/`inf` included (they are findings).
fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    let ok = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        || matches!(
            text.to_ascii_lowercase().as_str(),
            "nan" | "inf" | "-inf" | "+inf" | "infinity" | "-infinity"
        );
    if ok {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<(String, f64)> {
        parse_line(line).map(|p| p.values).unwrap_or_default()
    }

    fn v(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(k, x)| (k.to_string(), *x)).collect()
    }

    #[test]
    fn modded_nanogpt_lines_and_not_its_source() {
        let p = parse_line("step:125/3250 val_loss:4.58616 train_time:21.243s step_avg:169.94ms")
            .unwrap();
        assert_eq!(p.step, Some(125));
        assert_eq!(p.planned, Some(("train_steps", 3250)));
        assert_eq!(
            p.values,
            v(&[
                ("val_loss", 4.58616),
                ("train_time_s", 21.243),
                ("step_avg_ms", 169.94)
            ])
        );
        assert_eq!(
            values("step:0/3250 val_loss:10.82584 train_time:0.000s step_avg:nanms"),
            v(&[("val_loss", 10.82584), ("train_time_s", 0.0)])
        );
        assert!(parse_line(
            "        print0(f\"step:{step}/{train_steps} val_loss:{val_loss:.4f}\")"
        )
        .is_none());
        assert!(parse_line("step:{step}/{n} val_loss:{x}").is_none());
    }

    #[test]
    fn nanogpt_lines() {
        let p = parse_line("iter 10: loss 3.2345, time 123.45ms, mfu 12.34%").unwrap();
        assert_eq!(p.step, Some(10));
        assert_eq!(
            p.values,
            v(&[("loss", 3.2345), ("time_ms", 123.45), ("mfu", 12.34)])
        );
        assert_eq!(
            values("iter 0: loss 10.9, time 900.1ms, mfu -100.00%"),
            v(&[("loss", 10.9), ("time_ms", 900.1)])
        );
        let p = parse_line("step 2000: train loss 2.1234, val loss 2.2345").unwrap();
        assert_eq!(p.values, v(&[("train_loss", 2.1234), ("val_loss", 2.2345)]));
        assert!(parse_line("step 1: we begin the walk, then stop").is_none());
    }

    #[test]
    fn epoch_pipe_tqdm_and_logging_lines() {
        let p = parse_line("Epoch 3/10 - Train Loss: 0.4321, Val Loss: 0.5432, Val Acc: 81.2%")
            .unwrap();
        assert_eq!(
            (p.step, p.epoch, p.planned),
            (Some(3), Some(3.0), Some(("epochs", 10)))
        );
        assert_eq!(
            p.values,
            v(&[
                ("train_loss", 0.4321),
                ("val_loss", 0.5432),
                ("val_acc", 81.2)
            ])
        );
        let p =
            parse_line("2024-01-01 12:00:00,123 - INFO - step=100 | loss=2.31 | lr=3e-4").unwrap();
        assert_eq!(p.step, Some(100));
        assert_eq!(p.values, v(&[("loss", 2.31), ("lr", 3e-4)]));
        let p = parse_line(
            "1|5|Loss: 1.9749605655670166:   0%|          | 1/512 [00:28<4:02:59, 28.53s/it]",
        )
        .unwrap();
        assert_eq!(
            (p.step, p.values.clone()),
            (Some(5), v(&[("loss", 1.9749605655670166)]))
        );
        assert!(parse_line("| a | b |").is_none());
        assert!(parse_line("Epoch of discovery - a story").is_none());
        assert_eq!(
            strip_logging_prefix("INFO:torchtune.utils._logging:Loss is initialized."),
            Some(("INFO", "Loss is initialized."))
        );
        assert_eq!(
            strip_logging_prefix("2024-01-01 12:00:00,123 - root - WARNING - low"),
            Some(("WARNING", "low"))
        );
        assert_eq!(strip_logging_prefix("hello: world"), None);
    }
}
