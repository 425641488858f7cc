//! The recommended format, `metrics.jsonl`: one JSON object per logged step.
//!
//! Each line is `{"step": N, "time": T, "epoch": E, "<metric>": value, ...}`.
//! Every numeric field other than `step`, `time`/`timestamp` and `epoch`
//! becomes a point of the series of that name; nested objects become
//! slash-joined names (`{"train": {"loss": 1}}` is `train/loss`). Python's
//! `json` writes the bare tokens `NaN`, `Infinity` and `-Infinity`, which are
//! not JSON; they are kept as values, since a NaN loss is a finding.
//!
//! Pure: the reader takes the text and fills a [`Run`]; a bad line is a
//! [`Problem`] with its line number and the rest of the file is still read.

use crate::model::{Point, Problem, Run, Status};
use serde_json::{Map, Value};

/// Fields that describe a row rather than measure something.
const ROW_FIELDS: [&str; 4] = ["step", "time", "timestamp", "epoch"];

/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 50;

/// What a non-finite token is replaced with before parsing: a string no real
/// log would hold (it starts with an escaped NUL), mapped back to the number after.
const NON_FINITE_SENTINELS: [(&str, &str, f64); 3] = [
    (
        "-Infinity",
        "\"\\u0000runboard:-Infinity\"",
        f64::NEG_INFINITY,
    ),
    ("Infinity", "\"\\u0000runboard:Infinity\"", f64::INFINITY),
    ("NaN", "\"\\u0000runboard:NaN\"", f64::NAN),
];

/// True when the first non-empty line of `head` looks like a JSON object with keys.
///
/// `head` may be cut anywhere, so the line need not be complete.
pub fn looks_like_metrics_jsonl(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let Some(first) = head.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    let Some(rest) = first.strip_prefix('{') else {
        return false;
    };
    first.contains("\"step\"") || rest.trim_start().starts_with('"')
}

/// Read a `metrics.jsonl` file into `run`: points, problems and a status reason.
pub fn read_metrics_jsonl(run: &mut Run, text: &str, file: &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut reader = RowReader {
        file,
        ..RowReader::default()
    };
    let last_line_no = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i + 1)
        .last();
    let ends_with_newline = text.ends_with('\n');
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(Value::Object(row)) => reader.read_row(run, &row, line_no),
            Ok(_) => reader.problem(
                run,
                Problem::warning(file, Some(line_no), "not a JSON object; line skipped"),
            ),
            Err(message) => {
                let torn = Some(line_no) == last_line_no && (!ends_with_newline || message.is_eof);
                let problem = if torn {
                    Problem::warning(
                        file,
                        Some(line_no),
                        format!(
                            "last line is incomplete: the writer was probably killed ({})",
                            message.text
                        ),
                    )
                } else {
                    Problem::error(file, Some(line_no), message.text)
                };
                reader.problem(run, problem);
            }
        }
    }
    if run.status == Status::Unknown && run.status_reason.is_empty() {
        let name = file.rsplit('/').next().unwrap_or(file);
        run.status_reason = format!("{name} records no end of run");
    }
}

/// State carried from row to row while reading one file.
#[derive(Default)]
struct RowReader<'a> {
    file: &'a str,
    last_step: Option<u64>,
    first_time: Option<f64>,
    warned_missing_step: bool,
    problem_count: usize,
}

impl RowReader<'_> {
    fn read_row(&mut self, run: &mut Run, row: &Map<String, Value>, line_no: usize) {
        let step = match row.get("step") {
            Some(value) => match step_value(value) {
                Some(step) => step,
                None => {
                    let message = format!(
                        "\"step\" is not a non-negative integer ({}); using the next step",
                        value.to_string().chars().take(40).collect::<String>()
                    );
                    self.problem(run, Problem::warning(self.file, Some(line_no), message));
                    self.next_step()
                }
            },
            None => {
                if !self.warned_missing_step {
                    self.warned_missing_step = true;
                    let message =
                        "row has no \"step\"; using the previous step + 1 (reported once per file)";
                    self.problem(run, Problem::warning(self.file, Some(line_no), message));
                }
                self.next_step()
            }
        };
        self.last_step = Some(step);
        let time = row
            .get("time")
            .or_else(|| row.get("timestamp"))
            .and_then(metric_value)
            .filter(|t| t.is_finite());
        // Wall time counts from the first time this file records, so it is "seconds since start".
        let wall_time = time.map(|t| t - *self.first_time.get_or_insert(t));
        let epoch = row
            .get("epoch")
            .and_then(metric_value)
            .filter(|e| e.is_finite());
        let template = Point {
            step,
            value: 0.0,
            wall_time,
            epoch,
        };
        for (key, value) in row {
            if !ROW_FIELDS.contains(&key.as_str()) {
                push_metric(run, self.file, key, value, template);
            }
        }
    }

    fn next_step(&self) -> u64 {
        self.last_step.map_or(0, |s| s.saturating_add(1))
    }

    fn problem(&mut self, run: &mut Run, problem: Problem) {
        self.problem_count += 1;
        if self.problem_count <= MAX_PROBLEMS_PER_FILE {
            run.problems.push(problem);
        } else if self.problem_count == MAX_PROBLEMS_PER_FILE + 1 {
            let message =
                format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
            run.problems
                .push(Problem::warning(self.file, None, message));
        }
    }
}

/// Push `value` (or, for an object, each numeric leaf under `name/`) as points.
fn push_metric(run: &mut Run, file: &str, name: &str, value: &Value, template: Point) {
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                push_metric(run, file, &format!("{name}/{key}"), inner, template);
            }
        }
        other => {
            // Strings, booleans, null and arrays are not measurements: skipped without a word.
            if let Some(v) = metric_value(other) {
                run.push_point(
                    name,
                    file,
                    Point {
                        value: v,
                        ..template
                    },
                );
            }
        }
    }
}

/// A number, or a non-finite value written as a bare token or as the string `"NaN"`/`"Infinity"`.
fn metric_value(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.strip_prefix("\u{0}runboard:").unwrap_or(s);
            match s {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ => None,
            }
        }
        _ => None,
    }
}

fn step_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            // `10.0` is a step; `10.5`, `-1` and `1e30` are not.
            (f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Why a line did not parse.
struct LineError {
    text: String,
    /// The line ended in the middle of a value (what a killed writer leaves).
    is_eof: bool,
}

/// Parse one line, accepting Python's `NaN`/`Infinity` tokens.
fn parse_line(line: &str) -> Result<Value, LineError> {
    let (parsed, shifts) = if line.contains("NaN") || line.contains("Infinity") {
        let (replaced, shifts) = replace_non_finite_tokens(line);
        (serde_json::from_str::<Value>(&replaced), shifts)
    } else {
        (serde_json::from_str::<Value>(line), Vec::new())
    };
    parsed.map_err(|err| {
        let column = original_column(err.column(), &shifts);
        let full = err.to_string();
        // serde says "at line 1 column N" of the one line it saw; the line number is ours to give.
        let reason = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(reason, _)| reason);
        LineError {
            text: format!("not valid JSON at column {column}: {reason}"),
            is_eof: err.is_eof(),
        }
    })
}

/// Replace bare `NaN`, `Infinity`, `-Infinity` outside strings with sentinel strings.
///
/// Returns the new text and, for each replacement, (its end in the new text,
/// bytes added so far), so error columns can be mapped back.
fn replace_non_finite_tokens(line: &str) -> (String, Vec<(usize, usize)>) {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 64);
    let mut shifts = Vec::new();
    let mut copied_up_to = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut previous_significant = b'\0';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let at_value_position = matches!(previous_significant, b':' | b',' | b'[' | b'\0');
        let token = NON_FINITE_SENTINELS.iter().find(|(token, _, _)| {
            let end = i + token.len();
            at_value_position
                && bytes[i..].starts_with(token.as_bytes())
                && !bytes
                    .get(end)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        });
        if let Some((token, sentinel, _)) = token {
            out.push_str(&line[copied_up_to..i]);
            out.push_str(sentinel);
            i += token.len();
            copied_up_to = i;
            let added = shifts.last().map_or(0, |&(_, added)| added) + sentinel.len() - token.len();
            shifts.push((out.len(), added));
            previous_significant = b'"';
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if !b.is_ascii_whitespace() {
            previous_significant = b;
        }
        i += 1;
    }
    out.push_str(&line[copied_up_to..]);
    (out, shifts)
}

/// Map a 1-based column in the replaced text back to the original line.
fn original_column(column: usize, shifts: &[(usize, usize)]) -> usize {
    let added = shifts
        .iter()
        .take_while(|&&(end, _)| end < column)
        .last()
        .map_or(0, |&(_, added)| added);
    column.saturating_sub(added).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn read(text: &str) -> Run {
        let mut run = Run::new("runs/a", "runs", "metrics_jsonl");
        read_metrics_jsonl(&mut run, text, "runs/a/metrics.jsonl");
        run
    }

    fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
        let series = run
            .metrics
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no series {name}"));
        series.points.iter().map(|p| (p.step, p.value)).collect()
    }

    #[test]
    fn sniffs_json_object_lines() {
        assert!(looks_like_metrics_jsonl("{\"step\": 10, \"loss\": 1.0}\n"));
        assert!(looks_like_metrics_jsonl("\n\n  {\"loss\": 1.0, \"st"));
        assert!(looks_like_metrics_jsonl("\u{feff}{\"step\""));
        assert!(looks_like_metrics_jsonl("{ \"epoch\": 1"));
        assert!(!looks_like_metrics_jsonl("epoch,loss,val_loss\n0,1,2\n"));
        assert!(!looks_like_metrics_jsonl("{\n  \"a\": 1\n}\n"));
        assert!(!looks_like_metrics_jsonl(""));
        assert!(!looks_like_metrics_jsonl("[1, 2]"));
    }

    #[test]
    fn gen_corpus_rows_become_series_with_time() {
        let text = "{\"step\": 10, \"time\": 11.3, \"train/loss\": 3.8151241458772214, \"train/lr\": 2.2e-05, \
                    \"train/grad_norm\": 5.7187, \"perf/tokens_per_sec\": 29190.2}\n\
                    {\"step\": 20, \"time\": 22.6, \"train/loss\": 3.898937030704094, \"train/lr\": 4.2e-05, \
                    \"train/grad_norm\": 7.08, \"perf/tokens_per_sec\": 27295.8}\n\
                    {\"step\": 20, \"val/loss\": 3.95}\n";
        let run = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        let loss = values(&run, "train/loss");
        assert_eq!(loss.iter().map(|p| p.0).collect::<Vec<_>>(), vec![10, 20]);
        // serde_json without its `float_roundtrip` feature may be one ulp off the text.
        assert!((loss[0].1 - 3.8151241458772214).abs() < 1e-12, "{loss:?}");
        assert_eq!(values(&run, "val/loss"), vec![(20, 3.95)]);
        assert_eq!(values(&run, "perf/tokens_per_sec").len(), 2);
        let loss = &run
            .metrics
            .iter()
            .find(|s| s.name == "train/loss")
            .unwrap()
            .points;
        assert_eq!(loss[0].wall_time, Some(0.0));
        assert!((loss[1].wall_time.unwrap() - 11.3).abs() < 1e-9);
        assert!(run
            .metrics
            .iter()
            .all(|s| s.name != "time" && s.name != "step"));
        assert_eq!(run.status, Status::Unknown);
        assert_eq!(run.status_reason, "metrics.jsonl records no end of run");
        assert_eq!(run.sources, vec!["runs/a/metrics.jsonl".to_string()]);
    }

    #[test]
    fn python_non_finite_tokens_are_kept() {
        let text = "{\"step\": 1660, \"train/loss\": NaN, \"train/grad_norm\": Infinity, \"x\": -Infinity, \
                    \"note\": \"NaN here is text: Infinity\"}\n{\"step\": 2000, \"val/loss\": NaN}\n";
        let run = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert!(values(&run, "train/loss")[0].1.is_nan());
        assert_eq!(values(&run, "train/grad_norm")[0].1, f64::INFINITY);
        assert_eq!(values(&run, "x")[0].1, f64::NEG_INFINITY);
        assert!(values(&run, "val/loss")[0].1.is_nan());
        assert!(run.metrics.iter().all(|s| s.name != "note"));
    }

    #[test]
    fn non_finite_lookalikes_stay_errors() {
        let run = read("{\"step\": 1, \"a\": NaNa}\n{\"step\": 2, \"b\": 1}\n");
        assert_eq!(run.problems.len(), 1);
        assert_eq!(run.problems[0].severity, Severity::Error);
        assert_eq!(run.problems[0].line, Some(1));
        assert!(
            run.problems[0].message.contains("column 18"),
            "{}",
            run.problems[0].message
        );
        assert_eq!(values(&run, "b"), vec![(2, 1.0)]);
    }

    #[test]
    fn torn_last_line_is_a_warning() {
        let text = "{\"step\": 770, \"train/loss\": 0.76}\n{\"step\": 780, \"time\": 790.467, \"train/loss\": 0.797, \"train/lr\": 0.000114";
        let run = read(text);
        assert_eq!(values(&run, "train/loss"), vec![(770, 0.76)]);
        assert_eq!(run.problems.len(), 1);
        let p = &run.problems[0];
        assert_eq!(p.severity, Severity::Warning);
        assert_eq!(p.line, Some(2));
        assert!(
            p.message
                .starts_with("last line is incomplete: the writer was probably killed"),
            "{}",
            p.message
        );
        assert_eq!(run.status, Status::Unknown);
    }

    #[test]
    fn bad_middle_line_is_an_error_with_line_and_reason() {
        let run = read(
            "{\"step\": 1, \"loss\": 1}\n{\"step\": 2, \"loss\": }\n{\"step\": 3, \"loss\": 0.5}\n",
        );
        assert_eq!(values(&run, "loss"), vec![(1, 1.0), (3, 0.5)]);
        assert_eq!(run.problems.len(), 1);
        let p = &run.problems[0];
        assert_eq!((p.severity, p.line), (Severity::Error, Some(2)));
        assert_eq!(p.file, "runs/a/metrics.jsonl");
        assert!(p.message.contains("expected value"), "{}", p.message);
        assert!(!p.message.contains("line 1"), "{}", p.message);
    }

    #[test]
    fn crlf_blank_lines_bom_and_no_final_newline() {
        let run = read("\u{feff}{\"step\": 1, \"loss\": 2.0}\r\n\r\n{\"step\": 2, \"loss\": 1.5}");
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "loss"), vec![(1, 2.0), (2, 1.5)]);
    }

    #[test]
    fn missing_step_counts_on_and_warns_once() {
        let run =
            read("{\"loss\": 3}\n{\"loss\": 2}\n{\"step\": 10, \"loss\": 1}\n{\"loss\": 0.5}\n");
        assert_eq!(
            values(&run, "loss"),
            vec![(0, 3.0), (1, 2.0), (10, 1.0), (11, 0.5)]
        );
        assert_eq!(run.problems.len(), 1);
        assert_eq!(run.problems[0].line, Some(1));
    }

    #[test]
    fn odd_steps_and_values() {
        let text =
            "{\"step\": 5.0, \"a\": 1, \"s\": \"text\", \"b\": true, \"n\": null, \"l\": [1]}\n\
                    {\"step\": -3, \"a\": 2}\n{\"step\": \"7\", \"a\": 3, \"q\": \"Infinity\"}\n\
                    {\"step\": 8, \"train\": {\"loss\": 0.5, \"inner\": {\"x\": 1}}}\n[1, 2]\n";
        let run = read(text);
        assert_eq!(values(&run, "a"), vec![(5, 1.0), (6, 2.0), (7, 3.0)]);
        assert_eq!(values(&run, "q")[0].1, f64::INFINITY);
        assert_eq!(values(&run, "train/loss"), vec![(8, 0.5)]);
        assert_eq!(values(&run, "train/inner/x"), vec![(8, 1.0)]);
        for skipped in ["s", "b", "n", "l"] {
            assert!(run.metrics.iter().all(|s| s.name != skipped), "{skipped}");
        }
        let lines: Vec<_> = run.problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            lines,
            vec![(Severity::Warning, Some(2)), (Severity::Warning, Some(5))]
        );
    }

    #[test]
    fn hf_log_history_dump_with_epoch_and_timestamp() {
        let text = "{\"step\": 770, \"epoch\": 1.98, \"loss\": 1.05, \"learning_rate\": 7.0e-08}\n\
                    {\"step\": 778, \"epoch\": 2.0, \"eval_loss\": 1.109, \"eval_runtime\": 56.8}\n\
                    {\"step\": 778, \"epoch\": 2.0, \"timestamp\": 1700000000.5, \"train_loss\": 1.167}\n";
        let run = read(text);
        assert!(run.problems.is_empty());
        let eval = &run
            .metrics
            .iter()
            .find(|s| s.name == "eval_loss")
            .unwrap()
            .points[0];
        assert_eq!(
            (eval.step, eval.epoch, eval.wall_time),
            (778, Some(2.0), None)
        );
        let train = &run
            .metrics
            .iter()
            .find(|s| s.name == "train_loss")
            .unwrap()
            .points[0];
        assert_eq!(train.wall_time, Some(0.0));
        assert!(run
            .metrics
            .iter()
            .all(|s| s.name != "epoch" && s.name != "timestamp"));
    }

    #[test]
    fn problems_are_capped_per_file() {
        let text = "not json\n".repeat(200) + "{\"step\": 1, \"a\": 1}\n";
        let run = read(&text);
        assert_eq!(run.problems.len(), MAX_PROBLEMS_PER_FILE + 1);
        assert_eq!(values(&run, "a"), vec![(1, 1.0)]);
    }

    #[test]
    fn keeps_a_status_set_before() {
        let mut run = Run::new("r", "", "metrics_jsonl");
        run.status = Status::Completed;
        run.status_reason = "summary says done".into();
        read_metrics_jsonl(&mut run, "{\"step\": 1}\n", "r/metrics.jsonl");
        assert_eq!(run.status_reason, "summary says done");
    }

    #[test]
    fn random_bytes_never_panic() {
        let alphabet = b"{}[]\":,0123456789.eE-+ NaNInfinity\\u\r\nstepx\x00\xff\xc3";
        let mut state: u64 = 42;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = looks_like_metrics_jsonl(&text);
            read(&text);
            read(&format!("{{\"step\": 1, \"v\": {text}}}"));
        }
    }
}
