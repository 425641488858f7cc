//! The recommended format, `metrics.jsonl`: one JSON object per logged step.
//!
//! Each line is `{"step": N, "time": T, "epoch": E, "<metric>": value, ...}`.
//! Every numeric field other than `step`, `time`/`timestamp` and `epoch`
//! becomes a point of the series of that name; nested objects become
//! slash-joined names (`{"train": {"loss": 1}}` is `train/loss`). Python's
//! `json` writes the bare tokens `NaN`, `Infinity` and `-Infinity`, which are
//! not JSON; they are kept as values, since a NaN loss is a finding.
//!
//! This module owns the format's place in the table (which files of a folder
//! are its run, and how their texts are read) and the line loop, which decides
//! whether a bad line is a torn end or an error. `rows` turns one parsed row
//! into points; `tokens` parses one line, non-finite tokens included.
//!
//! Pure: the reader takes the lines of the text, in memory or streamed (see
//! [`Lines`]), and fills a [`Run`]; a bad line is a [`Problem`] with its line
//! number and the rest of the file is still read.

mod rows;
mod tokens;

use crate::discover::FileEntry;
use crate::load::config::{params_file, read_params};
use crate::load::lines::Lines;
use crate::load::FolderView;
use crate::load::SourceText;
use crate::model::{Problem, Run, Status};
use rows::RowReader;
use serde_json::Value;
use tokens::LineError;

/// Claim `metrics.jsonl` (or another `.jsonl` file that sniffs as one) and the
/// folder's params file: our recommended format.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let folder = view.folder;
    let sniff = |f: &FileEntry| view.head(f);
    let Some(metrics) = folder.files.iter().find(|f| {
        f.name == "metrics.jsonl"
            || (f.name.ends_with(".jsonl") && looks_like_metrics_jsonl(&sniff(f)))
    }) else {
        return Vec::new();
    };
    params_file(folder)
        .into_iter()
        .chain([metrics.clone()])
        .collect()
}

/// Read a claimed folder's texts into one run: params first, then the metrics.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    for source in texts {
        if source.name.ends_with(".jsonl") {
            read_metrics_lines(&mut run, source.lines(), &source.rel);
        } else {
            read_params(&mut run, source);
        }
    }
    vec![run]
}

/// The files read line by line (and streamed when large): the JSONL, not the params.
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    rel.ends_with(".jsonl")
}

/// True when the first non-empty line of `head` looks like a JSON object with keys.
///
/// `head` may be cut anywhere, so the line need not be complete.
pub fn looks_like_metrics_jsonl(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let Some(first) = head.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    // Any JSONL of objects would parse, so a file not called metrics.jsonl must
    // also have a top-level `"step"` key: a Trackio export or a dataset file is
    // another format's (or nobody's), not ours.
    first.starts_with('{') && has_step_key(first)
}

/// True when `line` has `"step"` followed by a colon (a key, not a value or an escaped string).
fn has_step_key(line: &str) -> bool {
    line.match_indices("\"step\"").any(|(at, key)| {
        let after = line[at + key.len()..].trim_start();
        after.is_empty() || after.starts_with(':') // empty: the sniffed head ends right there
    })
}

/// Read a `metrics.jsonl` text into `run`: points, problems and a status reason.
pub fn read_metrics_jsonl(run: &mut Run, text: &str, file: &str) {
    read_metrics_lines(run, Lines::from_str(text, file), file);
}

/// Read the lines of a `metrics.jsonl` file into `run`, one row at a time.
pub fn read_metrics_lines(run: &mut Run, mut lines: Lines<'_>, file: &str) {
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut reader = RowReader::new(file);
    // A line that does not parse is an error, or a torn write when it is the
    // last: which one shows at the next non-empty line or at the end.
    let mut failed: Option<(usize, LineError)> = None;
    while let Some(raw) = lines.next_line() {
        let line = raw.text.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((line_no, message)) = failed.take() {
            reader.problem(run, Problem::error(file, Some(line_no), message.text));
        }
        match tokens::parse_line(line) {
            Ok(Value::Object(row)) => reader.read_row(run, &row, raw.number),
            Ok(_) => reader.problem(
                run,
                Problem::warning(file, Some(raw.number), "not a JSON object; line skipped"),
            ),
            Err(message) => failed = Some((raw.number, message)),
        }
    }
    if let Some((line_no, message)) = failed {
        let problem = if !lines.ends_with_newline() || message.is_eof {
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
    run.problems.extend(lines.into_problems());
    if run.status == Status::Unknown && run.status_reason.is_empty() {
        let name = file.rsplit('/').next().unwrap_or(file);
        run.status_reason = format!("{name} records no end of run");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    /// Read `text` as `runs/a/metrics.jsonl` into a fresh run.
    pub(super) fn read(text: &str) -> Run {
        let mut run = Run::new("runs/a", "runs", "metrics_jsonl");
        read_metrics_jsonl(&mut run, text, "runs/a/metrics.jsonl");
        run
    }

    /// The (step, value) points of series `name`; panics when there is none.
    pub(super) fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
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
        assert!(looks_like_metrics_jsonl(
            "\n\n  {\"loss\": 1.0, \"step\": 3}"
        ));
        let trackio = r#"{"name": "x", "metrics": "[{\"step\": 10, \"loss\": 3.7}]"}"#;
        assert!(
            !looks_like_metrics_jsonl(trackio),
            "step only inside a JSON string"
        );
        assert!(looks_like_metrics_jsonl("\u{feff}{\"step\""));
        assert!(!looks_like_metrics_jsonl("{ \"epoch\": 1, \"loss\": 2}"));
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
