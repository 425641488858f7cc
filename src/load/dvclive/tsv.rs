//! One DVCLive metric history: `timestamp<TAB>step<TAB><name>` rows.
//!
//! DVCLive writes one TSV per metric under `plots/metrics/` (`scalars/` in
//! DVCLive 1.x), named after the metric's path; the third column repeats the
//! last part of the name. Timestamps are milliseconds since the Unix epoch
//! (seconds when every one is too small to be milliseconds). Values are
//! Python float text, so `nan` and `inf` occur and are kept.

use crate::load::lines::Lines;
use crate::model::Problem;

/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 20;
/// Below this a timestamp is in seconds: 1e11 ms is 1973, 1e11 s is the year 5138.
const SECONDS_LIMIT: f64 = 1.0e11;

/// One row of a metric file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Row {
    /// Milliseconds since the Unix epoch, when the row has a timestamp.
    pub timestamp_ms: Option<f64>,
    pub step: u64,
    pub value: f64,
}

/// True when `head` starts with DVCLive's header (`timestamp`, `step`, a name).
pub(super) fn looks_like_metric_tsv(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let first = head.lines().next().unwrap_or("").trim_end_matches('\r');
    let columns: Vec<&str> = first.split('\t').collect();
    columns.len() == 3 && columns.contains(&"timestamp") && columns.contains(&"step")
}

/// Parse one metric TSV into rows (file order) and problems.
#[cfg(test)]
pub(super) fn parse_metric_tsv(text: &str, file: &str) -> (Vec<Row>, Vec<Problem>) {
    parse_metric_lines(Lines::from_str(text, file), file)
}

/// Parse the lines of one metric TSV (in memory or streamed) into rows (file order) and problems.
pub(super) fn parse_metric_lines(mut lines: Lines<'_>, file: &str) -> (Vec<Row>, Vec<Problem>) {
    let mut problems = Vec::new();
    let header = loop {
        match lines.next_line() {
            None => {
                problems.extend(lines.into_problems());
                return (Vec::new(), problems);
            }
            Some(line) if line.text.trim().is_empty() => continue,
            Some(line) => break line.text.to_string(),
        }
    };
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |name: &str| columns.iter().position(|c| *c == name);
    let (time_at, step_at) = (find("timestamp"), find("step"));
    let value_at = (0..columns.len()).find(|i| Some(*i) != time_at && Some(*i) != step_at);
    let (Some(step_at), Some(value_at)) = (step_at, value_at) else {
        let message = format!(
            "expected a `timestamp<TAB>step<TAB><name>` header, found {:?}",
            header.chars().take(80).collect::<String>()
        );
        problems.push(Problem::error(file, Some(1), message));
        problems.extend(lines.into_problems());
        return (Vec::new(), problems);
    };
    let mut rows = Vec::new();
    // A row that does not parse is an error, or a torn write when it is the
    // last non-empty line and the file has no final newline: which shows later.
    let mut failed: Option<(usize, String)> = None;
    while let Some(line) = lines.next_line() {
        if line.text.trim().is_empty() {
            continue;
        }
        if let Some((line_no, reason)) = failed.take() {
            let problem = Problem::error(file, Some(line_no), format!("{reason}; row skipped"));
            push_capped(&mut problems, problem, file);
        }
        let fields: Vec<&str> = line.text.split('\t').map(str::trim).collect();
        match parse_row(&fields, time_at, step_at, value_at) {
            Ok(row) => rows.push(row),
            Err(reason) => failed = Some((line.number, reason)),
        }
    }
    if let Some((line_no, reason)) = failed {
        let problem = if lines.ends_with_newline() {
            Problem::error(file, Some(line_no), format!("{reason}; row skipped"))
        } else {
            let message =
                format!("last line is incomplete ({reason}): the writer was probably killed");
            Problem::warning(file, Some(line_no), message)
        };
        push_capped(&mut problems, problem, file);
    }
    problems.extend(lines.into_problems());
    if rows
        .iter()
        .filter_map(|r| r.timestamp_ms)
        .all(|t| t.abs() < SECONDS_LIMIT)
    {
        for row in &mut rows {
            row.timestamp_ms = row.timestamp_ms.map(|t| t * 1000.0);
        }
    }
    (rows, problems)
}

fn parse_row(
    fields: &[&str],
    time_at: Option<usize>,
    step_at: usize,
    value_at: usize,
) -> Result<Row, String> {
    let field = |i: usize| fields.get(i).copied().filter(|f| !f.is_empty());
    let step_text = field(step_at).ok_or("no step")?;
    let step = step_text
        .parse::<u64>()
        .ok()
        .or_else(|| {
            let f = step_text.parse::<f64>().ok()?;
            (f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
        })
        .ok_or_else(|| format!("step {:?} is not a non-negative integer", short(step_text)))?;
    let value_text = field(value_at).ok_or("no value")?;
    let value = value_text
        .parse::<f64>()
        .map_err(|_| format!("value {:?} is not a number", short(value_text)))?;
    let timestamp_ms = time_at
        .and_then(field)
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite());
    Ok(Row {
        timestamp_ms,
        step,
        value,
    })
}

fn push_capped(problems: &mut Vec<Problem>, problem: Problem, file: &str) {
    if problems.len() < MAX_PROBLEMS_PER_FILE {
        problems.push(problem);
    } else if problems.len() == MAX_PROBLEMS_PER_FILE {
        let message =
            format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
        problems.push(Problem::warning(file, None, message));
    }
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    #[test]
    fn sniffs_the_header() {
        assert!(looks_like_metric_tsv("timestamp\tstep\tloss\n1\t2\t3\n"));
        assert!(looks_like_metric_tsv(
            "\u{feff}timestamp\tstep\tval/acc\r\n"
        ));
        assert!(!looks_like_metric_tsv("step\tloss\n"));
        assert!(!looks_like_metric_tsv("timestamp,step,loss\n"));
        assert!(!looks_like_metric_tsv(""));
    }

    #[test]
    fn rows_with_python_floats_crlf_and_no_final_newline() {
        let text = "timestamp\tstep\tloss\r\n1769969350551\t10\t3.77\r\n\
                    1769969361102\t20\tnan\r\n1769969361200\t30\tinf";
        let (rows, problems) = parse_metric_tsv(text, "d/loss.tsv");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            Row {
                timestamp_ms: Some(1_769_969_350_551.0),
                step: 10,
                value: 3.77
            }
        );
        assert!(rows[1].value.is_nan());
        assert_eq!(rows[2].value, f64::INFINITY);
    }

    #[test]
    fn columns_in_any_order_and_seconds_timestamps() {
        let (rows, problems) =
            parse_metric_tsv("step\tacc\ttimestamp\n3\t0.5\t1700000000.5\n", "a.tsv");
        assert!(problems.is_empty());
        assert_eq!(rows[0].step, 3);
        assert_eq!(rows[0].value, 0.5);
        assert_eq!(rows[0].timestamp_ms, Some(1_700_000_000_500.0));
        let (rows, _) = parse_metric_tsv("step\tacc\n3\t0.5\n", "a.tsv");
        assert_eq!(rows[0].timestamp_ms, None);
    }

    #[test]
    fn bad_rows_and_headers() {
        let text = "timestamp\tstep\tloss\n1\tx\t1\n2\t2\t\n3\t3.0\t0.5\n4\t4\t0.";
        let (rows, problems) = parse_metric_tsv(text, "l.tsv");
        assert_eq!(rows.iter().map(|r| r.step).collect::<Vec<_>>(), vec![3, 4]);
        let kinds: Vec<_> = problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            kinds,
            vec![(Severity::Error, Some(2)), (Severity::Error, Some(3))]
        );
        let (rows, problems) = parse_metric_tsv("timestamp\tstep\tloss\n1\t1\t1\n2\t2\t", "l.tsv");
        assert_eq!(rows.len(), 1);
        assert_eq!(problems[0].severity, Severity::Warning);
        let (rows, problems) = parse_metric_tsv("a\tb\n1\t2\n", "l.tsv");
        assert!(rows.is_empty());
        assert_eq!(
            (problems[0].severity, problems[0].line),
            (Severity::Error, Some(1))
        );
        let (rows, problems) = parse_metric_tsv("", "l.tsv");
        assert!(rows.is_empty() && problems.is_empty());
    }
}
