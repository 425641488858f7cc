//! The small files of an MLflow run folder: `metrics/<name>` lines and the
//! one-value `params/<name>` and `tags/<name>` files.
//!
//! A metric file holds one line per logged value, `timestamp value step`
//! (milliseconds, Python's `repr` of the float, integer step); very old
//! MLflow wrote `timestamp value` without a step, which MLflow reads as step 0.
//! Values are Python float text, so `nan`, `inf` and `-inf` occur and are
//! kept. The file has no trailing newline, so a torn last line cannot be told
//! from a complete one by its end: a last line that does not parse is a
//! warning (a killed writer), any other bad line an error.

use crate::load::lines::Lines;
use crate::model::Problem;

/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 20;

/// One line of a metric file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MetricLine {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub value: f64,
    pub step: u64,
}

/// Parse a metric file: its lines in file order (repeated steps kept) and problems.
#[cfg(test)]
pub(super) fn parse_metric_file(text: &str, file: &str) -> (Vec<MetricLine>, Vec<Problem>) {
    parse_metric_lines(Lines::from_str(text, file), file)
}

/// Parse the lines of a metric file (in memory or streamed): its lines in file order and problems.
pub(super) fn parse_metric_lines(
    mut lines: Lines<'_>,
    file: &str,
) -> (Vec<MetricLine>, Vec<Problem>) {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    // A line that does not parse is an error, or a torn write when it is the
    // last non-empty one: which it is shows at the next non-empty line.
    let mut failed: Option<(usize, String)> = None;
    while let Some(line) = lines.next_line() {
        let text = line.text.trim();
        if text.is_empty() {
            continue;
        }
        if let Some((line_no, reason)) = failed.take() {
            let problem = Problem::error(file, Some(line_no), format!("{reason}; line skipped"));
            push_capped(&mut problems, problem, file);
        }
        match parse_metric_line(text) {
            Ok(metric) => parsed.push(metric),
            Err(reason) => failed = Some((line.number, reason)),
        }
    }
    if let Some((line_no, reason)) = failed {
        let message = format!(
            "last line is incomplete or damaged ({reason}): the writer was probably killed"
        );
        push_capped(
            &mut problems,
            Problem::warning(file, Some(line_no), message),
            file,
        );
    }
    problems.extend(lines.into_problems());
    (parsed, problems)
}

/// `1664364007310 0.7858 0` -> its three fields.
fn parse_metric_line(line: &str) -> Result<MetricLine, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if !(2..=3).contains(&fields.len()) {
        return Err(format!(
            "expected `timestamp value step`, found {} fields",
            fields.len()
        ));
    }
    let timestamp = parse_timestamp(fields[0])
        .ok_or_else(|| format!("timestamp {:?} is not a number", short(fields[0])))?;
    let value = fields[1]
        .parse::<f64>()
        .map_err(|_| format!("value {:?} is not a number", short(fields[1])))?;
    let step = match fields.get(2) {
        None => 0,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| format!("step {:?} is not a non-negative integer", short(text)))?,
    };
    Ok(MetricLine {
        timestamp,
        value,
        step,
    })
}

/// Integer milliseconds; a float written by some clients is truncated.
fn parse_timestamp(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| {
        let f = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
        (f.abs() < 9.0e18).then_some(f as i64)
    })
}

/// The value of a `params/<name>` or `tags/<name>` file: the whole text, one
/// final line break removed (MLflow writes none; an editor may add one).
pub(super) fn single_value(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    text.to_string()
}

/// Keep at most [`MAX_PROBLEMS_PER_FILE`] problems, then one line for the rest.
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
    fn lines_with_and_without_step_and_python_floats() {
        let text = "1664364007310 3.2727866172790527 0\n1664364008000 nan 10\r\n\n\
                    1664364009000 inf 10\n1664364010000 -inf 5\n1664364011000 1e-05";
        let (lines, problems) = parse_metric_file(text, "m/loss");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[0],
            MetricLine {
                timestamp: 1_664_364_007_310,
                value: 3.2727866172790527,
                step: 0
            }
        );
        assert!(lines[1].value.is_nan());
        assert_eq!(lines[2].value, f64::INFINITY);
        assert_eq!((lines[3].value, lines[3].step), (f64::NEG_INFINITY, 5));
        assert_eq!((lines[4].value, lines[4].step), (1e-5, 0));
    }

    #[test]
    fn bad_lines_are_errors_and_a_bad_last_line_a_warning() {
        let text = "\u{feff}1 0.5 1\n2 x 2\n3 0.25 -3\n4 0.1 4\n5 0.";
        let (lines, problems) = parse_metric_file(text, "m/loss");
        assert_eq!(
            lines.iter().map(|l| l.step).collect::<Vec<_>>(),
            vec![1, 4, 0]
        );
        let kinds: Vec<_> = problems.iter().map(|p| (p.severity, p.line)).collect();
        assert_eq!(
            kinds,
            vec![(Severity::Error, Some(2)), (Severity::Error, Some(3))]
        );
        assert!(
            problems[0].message.contains("value \"x\""),
            "{}",
            problems[0].message
        );
        let (_, problems) = parse_metric_file("1 2 3\n4 5", "m/x");
        assert!(problems.is_empty());
        let (_, problems) = parse_metric_file("1 2 3\n4 5 6 7", "m/x");
        assert_eq!(problems[0].severity, Severity::Warning);
        assert!(problems[0].message.starts_with("last line is incomplete"));
    }

    #[test]
    fn many_bad_lines_are_capped() {
        let text = "x\n".repeat(100) + "1 1 1\n";
        let (lines, problems) = parse_metric_file(&text, "m/x");
        assert_eq!(lines.len(), 1);
        assert_eq!(problems.len(), MAX_PROBLEMS_PER_FILE + 1);
    }

    #[test]
    fn single_values_keep_their_text() {
        assert_eq!(single_value("[224, 224, 3]"), "[224, 224, 3]");
        assert_eq!(single_value("imagenet\r\n"), "imagenet");
        assert_eq!(single_value(" two lines\nhere\n"), " two lines\nhere");
        assert_eq!(single_value(""), "");
    }
}
