//! The rows of a metrics CSV into points.
//!
//! Every non-empty numeric cell of a metric column is a point at its row's
//! step. Empty cells are missing values, not zeros: Lightning writes sparse
//! rows (train and val metrics at the same step on separate rows) and Keras
//! writes `NA` for metrics it did not get when training stopped. `nan` and
//! `inf` are kept as values. A short last row without a final newline is a
//! torn write; a short or long row elsewhere is read as far as it goes.

use super::header::{Dialect, Header};
use crate::model::{Point, Problem, Run};
use std::borrow::Cow;
use std::io::{Chain, Cursor, Read};

/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 50;

/// Cells that mean "no value" rather than a number.
const MISSING: [&str; 5] = ["", "NA", "N/A", "None", "null"];

/// What the rows covered, for deciding how the run ended.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Extent {
    /// The step of the last data row.
    pub last_step: Option<u64>,
    /// The smallest and the last epoch written.
    pub first_epoch: Option<f64>,
    pub last_epoch: Option<f64>,
    /// True when the last data row holds an end-of-epoch value (a val metric or an `*_epoch` one).
    pub last_row_ends_epoch: bool,
    /// True when the last line was cut short: the writer was probably killed.
    pub torn: bool,
    /// True when a cell was not valid UTF-8 (replaced; the caller says where).
    pub invalid_utf8: bool,
}

/// Read a metrics CSV's rows into `run` from `input` (a text in memory or a
/// file streamed from disk alike); `header` is what [`read_header`] found.
///
/// Records are read one ahead, so the last one is known when it comes (a
/// short last row without a final newline is a torn write). Cells are read as
/// bytes and made text here: invalid UTF-8 in a streamed file is replaced and
/// [`Extent::invalid_utf8`] set (the csv reader's line numbers are not
/// physical lines after a CRLF or a blank line, so it cannot say where).
///
/// [`read_header`]: super::header::read_header
pub(super) fn read_rows(run: &mut Run, input: impl Read, file: &str, header: &Header) -> Extent {
    let mut rows = Rows {
        file,
        header,
        problems: 0,
        warned: Vec::new(),
        first_time: None,
        extent: Extent::default(),
        seen_header: false,
    };
    let input = match without_bom(input) {
        Ok(input) => input,
        Err(e) => {
            let message = format!("cannot read: {e}");
            rows.problem(run, Problem::error(file, None, message));
            return rows.extent;
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(header.delimiter)
        .buffer_capacity(READ_BUFFER_BYTES)
        .from_reader(LastByte::new(input));
    let mut record = csv::ByteRecord::new();
    let mut ahead = csv::ByteRecord::new();
    let mut more = rows.next_record(run, &mut reader, &mut record);
    while more {
        more = rows.next_record(run, &mut reader, &mut ahead);
        let ends_with_newline = matches!(reader.get_ref().last, Some(b'\n' | b'\r'));
        rows.take_record(run, &record, !more, ends_with_newline);
        std::mem::swap(&mut record, &mut ahead);
    }
    rows.extent
}

/// The csv reader's own buffer: large enough that a streamed file is read in few calls.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `input` without a leading byte order mark.
fn without_bom<R: Read>(mut input: R) -> std::io::Result<Chain<Cursor<Vec<u8>>, R>> {
    let mut head = Vec::with_capacity(BOM.len());
    (&mut input).take(BOM.len() as u64).read_to_end(&mut head)?;
    if head == BOM {
        head.clear();
    }
    Ok(Cursor::new(head).chain(input))
}

/// A reader that remembers the last byte it gave: did the file end with a newline?
struct LastByte<R> {
    inner: R,
    last: Option<u8>,
}

impl<R> LastByte<R> {
    fn new(inner: R) -> Self {
        LastByte { inner, last: None }
    }
}

impl<R: Read> Read for LastByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// State carried from row to row while reading one file.
struct Rows<'a> {
    file: &'a str,
    header: &'a Header,
    problems: usize,
    /// Columns already warned about (one warning per column), plus `usize::MAX` for the x column.
    warned: Vec<usize>,
    first_time: Option<f64>,
    extent: Extent,
    /// The header row was met (it is skipped, and so is a repeat of it).
    seen_header: bool,
}

impl Rows<'_> {
    /// Read the next record into `record`; false at the end (or on a read error, reported).
    fn next_record(
        &mut self,
        run: &mut Run,
        reader: &mut csv::Reader<impl Read>,
        record: &mut csv::ByteRecord,
    ) -> bool {
        match reader.read_byte_record(record) {
            Ok(more) => more,
            Err(err) => {
                let line = err.position().map(|p| p.line() as usize);
                let problem = Problem::error(self.file, line, format!("not valid CSV: {err}"));
                self.problem(run, problem);
                false
            }
        }
    }

    /// One record: skipped when blank or a header, else a row of points.
    fn take_record(
        &mut self,
        run: &mut Run,
        record: &csv::ByteRecord,
        is_last: bool,
        ends_with_newline: bool,
    ) {
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells: Vec<Cow<'_, str>> = record
            .iter()
            .map(|cell| match std::str::from_utf8(cell) {
                Ok(text) => Cow::Borrowed(text.trim()),
                Err(_) => {
                    self.extent.invalid_utf8 = true;
                    Cow::Owned(String::from_utf8_lossy(cell).trim().to_string())
                }
            })
            .collect();
        let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        if cells.iter().all(|c| c.is_empty()) {
            return;
        }
        // The header, and the header again where two logs were concatenated.
        let names = self.header.names.iter().map(String::as_str);
        if !self.seen_header || cells.iter().copied().eq(names) {
            self.seen_header = true;
            return;
        }
        let want = self.header.names.len();
        if cells.len() != want {
            let torn = is_last && !ends_with_newline && cells.len() < want;
            self.extent.torn |= torn;
            self.field_count_problem(run, line, cells.len(), torn);
        }
        self.read_row(run, &cells, line);
    }

    /// Push a point for every numeric metric cell of one data row.
    fn read_row(&mut self, run: &mut Run, cells: &[&str], line: usize) {
        let header = self.header;
        let step = self.row_step(run, cells, line);
        self.extent.last_step = Some(step);
        let epoch = header.epoch.and_then(|i| number(cells, i));
        if let Some(e) = epoch {
            let first = self.extent.first_epoch.get_or_insert(e);
            *first = first.min(e);
            self.extent.last_epoch = Some(e);
        }
        let wall_time = header.time.and_then(|i| number(cells, i)).map(|t| {
            let first = *self.first_time.get_or_insert(t);
            // A Unix timestamp counts from the first row; elapsed seconds (Ultralytics) are kept.
            if first > 1e8 {
                t - first
            } else {
                t
            }
        });
        let mut ends_epoch = false;
        for (column, (name, cell)) in header.names.iter().zip(cells).enumerate() {
            if header.is_row_field(column) || MISSING.contains(cell) {
                continue;
            }
            let Some(value) = parse_number(cell) else {
                self.warn_once(run, column, line, &format!("column \"{name}\" holds text ({}); such cells are skipped (reported once per column)", clip(cell)));
                continue;
            };
            let lower = name.to_ascii_lowercase();
            ends_epoch |= lower.starts_with("val") || lower.ends_with("_epoch");
            let point = Point {
                step,
                value,
                wall_time,
                epoch,
            };
            run.push_point(name, self.file, point);
        }
        self.extent.last_row_ends_epoch = ends_epoch || header.step.is_none();
    }

    /// The row's step: its `step` cell, else its `epoch` cell; the previous row's when unusable.
    fn row_step(&mut self, run: &mut Run, cells: &[&str], line: usize) -> u64 {
        let column = self.header.x_column();
        let cell = cells.get(column).copied().unwrap_or("");
        let step = parse_number(cell)
            .filter(|v| *v >= 0.0 && v.fract() == 0.0 && *v < u64::MAX as f64)
            .map(|v| v as u64);
        // Lightning writes the global step before the optimizer stepped (0 for
        // the first batch); one more is the optimizer steps done, which is
        // what every other trainer logs, so runs line up across formats.
        let from_zero =
            self.header.dialect == Dialect::Lightning && self.header.step == Some(column);
        let step = step.map(|s| if from_zero { s.saturating_add(1) } else { s });
        step.unwrap_or_else(|| {
            let name = &self.header.names[column];
            let message = format!(
                "\"{name}\" is not a non-negative integer ({}); using the previous row's (reported once per file)",
                clip(cell)
            );
            self.warn_once(run, usize::MAX, line, &message);
            self.extent.last_step.unwrap_or(0)
        })
    }

    fn field_count_problem(&mut self, run: &mut Run, line: usize, got: usize, torn: bool) {
        let want = self.header.names.len();
        let message = if torn {
            format!(
                "last line is incomplete: the writer was probably killed ({got} of {want} fields)"
            )
        } else if got < want {
            format!("row has {got} fields but the header has {want}; the missing cells are read as empty")
        } else {
            format!("row has {got} fields but the header has {want}; the extra cells are ignored")
        };
        self.problem(run, Problem::warning(self.file, Some(line), message));
    }

    fn warn_once(&mut self, run: &mut Run, key: usize, line: usize, message: &str) {
        if !self.warned.contains(&key) {
            self.warned.push(key);
            self.problem(run, Problem::warning(self.file, Some(line), message));
        }
    }

    /// Record a problem, up to [`MAX_PROBLEMS_PER_FILE`] and one line for the rest.
    fn problem(&mut self, run: &mut Run, problem: Problem) {
        self.problems += 1;
        if self.problems <= MAX_PROBLEMS_PER_FILE {
            run.problems.push(problem);
        } else if self.problems == MAX_PROBLEMS_PER_FILE + 1 {
            let message =
                format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
            run.problems
                .push(Problem::warning(self.file, None, message));
        }
    }
}

/// A cell as a number: `0.5`, `4.0000003e-05`, `nan`, `inf`, `-Infinity`.
fn parse_number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok()
}

/// The finite number in column `i` of a row, if any.
fn number(cells: &[&str], i: usize) -> Option<f64> {
    cells
        .get(i)
        .and_then(|c| parse_number(c))
        .filter(|v| v.is_finite())
}

/// At most 40 characters of a cell, for messages.
fn clip(cell: &str) -> String {
    cell.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::csv_logs::header::read_header;
    use crate::model::Severity;

    fn read(text: &str) -> (Run, Extent) {
        let mut run = Run::new("r", "", "csv_logs");
        let header = read_header(text).expect("a header");
        let extent = read_rows(&mut run, text.as_bytes(), "r/m.csv", &header);
        (run, extent)
    }

    fn points(run: &Run, name: &str) -> Vec<(u64, f64)> {
        let series = run.metrics.iter().find(|s| s.name == name);
        let series = series.unwrap_or_else(|| panic!("no series {name}"));
        series.points.iter().map(|p| (p.step, p.value)).collect()
    }

    #[test]
    fn lightning_sparse_rows_skip_empty_cells() {
        let text = "epoch,lr-AdamW,step,train_loss,val_loss,val_acc\n\
                    0,0.0001,9,3.7,,\n0,0.0002,19,3.6,,\n0,,19,,3.9,0.02\n1,0.0,39,nan,,\n";
        let (run, extent) = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        // Lightning's 0-based step 9 is the 10th optimizer step.
        assert_eq!(points(&run, "train_loss")[..2], [(10, 3.7), (20, 3.6)]);
        assert!(points(&run, "train_loss")[2].1.is_nan());
        assert_eq!(points(&run, "val_loss"), vec![(20, 3.9)]);
        assert_eq!(points(&run, "lr-AdamW").len(), 3);
        assert!(run
            .metrics
            .iter()
            .all(|s| s.name != "epoch" && s.name != "step"));
        let val = &run
            .metrics
            .iter()
            .find(|s| s.name == "val_acc")
            .unwrap()
            .points[0];
        assert_eq!((val.epoch, val.wall_time), (Some(0.0), None));
        assert_eq!(extent.last_step, Some(40));
        assert_eq!(
            (extent.first_epoch, extent.last_epoch),
            (Some(0.0), Some(1.0))
        );
        assert!(!extent.last_row_ends_epoch && !extent.torn);
    }

    #[test]
    fn keras_epochs_are_steps_and_float32_values_are_kept() {
        let text = "epoch,loss,lr,val_loss\r\n0,0.056,0.001,0.054\r\n1,0.042,4.0000003e-05,NA\r\n";
        let (run, extent) = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(points(&run, "lr"), vec![(0, 0.001), (1, 4.0000003e-05)]);
        assert_eq!(points(&run, "val_loss"), vec![(0, 0.054)]);
        assert_eq!(run.metrics[0].points[1].epoch, Some(1.0));
        assert!(extent.last_row_ends_epoch);
    }

    #[test]
    fn ultralytics_time_is_wall_time_and_padding_is_trimmed() {
        let text = "   epoch,   time,  train/box_loss,  metrics/mAP50(B)\n   1,  597.18,  1.49,  0.23\n   2,  1257.6,  1.33,  0.71";
        let (run, extent) = read(text);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(points(&run, "train/box_loss"), vec![(1, 1.49), (2, 1.33)]);
        let p = &run.metrics[1].points[1];
        assert_eq!((p.wall_time, p.epoch), (Some(1257.6), Some(2.0)));
        assert!(run.metrics.iter().all(|s| s.name != "time"));
        assert_eq!(
            (extent.first_epoch, extent.last_epoch, extent.torn),
            (Some(1.0), Some(2.0), false)
        );
    }

    #[test]
    fn unix_timestamps_count_from_the_first_row() {
        let (run, _) = read("step,timestamp,loss\n1,1700000000.5,2\n2,1700000010.5,1\n");
        let walls: Vec<_> = run.metrics[0].points.iter().map(|p| p.wall_time).collect();
        assert_eq!(walls, vec![Some(0.0), Some(10.0)]);
    }

    #[test]
    fn torn_last_row_is_a_warning() {
        let (run, extent) = read("epoch,loss,val_loss\n0,1.5,1.6\n1,1.2");
        assert!(extent.torn);
        assert_eq!(run.problems.len(), 1);
        let p = &run.problems[0];
        assert_eq!((p.severity, p.line), (Severity::Warning, Some(3)));
        assert!(
            p.message.starts_with("last line is incomplete"),
            "{}",
            p.message
        );
        assert_eq!(points(&run, "loss"), vec![(0, 1.5), (1, 1.2)]);
    }

    #[test]
    fn odd_rows_and_cells_are_reported_with_lines() {
        let text =
            "epoch,loss,acc\n0,1.0,0.5\n1,2.0\n2,0.5,0.6,9\nx,0.4,0.7\n3,oops,0.8\n4,bad,[0.1]\n\
                    epoch,loss,acc\n5,0.3,0.9\n\n";
        let (run, extent) = read(text);
        let got: Vec<_> = run
            .problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0].0, Some(3));
        assert!(got[0].1.contains("missing cells"), "{}", got[0].1);
        assert!(got[1].1.contains("extra cells"), "{}", got[1].1);
        assert_eq!(got[2].0, Some(5));
        assert!(
            got[2]
                .1
                .contains("\"epoch\" is not a non-negative integer (x)"),
            "{}",
            got[2].1
        );
        assert!(
            got[3].1.contains("column \"loss\" holds text (oops)"),
            "{}",
            got[3].1
        );
        assert!(
            got[4].1.contains("column \"acc\" holds text ([0.1])"),
            "{}",
            got[4].1
        );
        assert_eq!(
            points(&run, "loss"),
            vec![(0, 1.0), (1, 2.0), (2, 0.5), (2, 0.4), (5, 0.3)]
        );
        assert!(!extent.torn);
    }

    #[test]
    fn quoted_cells_and_capped_problems() {
        let (run, _) = read("epoch,\"val loss\",note\n0,\"0.5\",\"a, b\"\n");
        assert_eq!(points(&run, "val loss"), vec![(0, 0.5)]);
        let text = "epoch,loss\n".to_string() + &"0,x\n1,2,3\n".repeat(100);
        let (run, _) = read(&text);
        assert_eq!(run.problems.len(), MAX_PROBLEMS_PER_FILE + 1);
    }
}
