//! A metrics CSV's header: is it one, which column is the x axis, and which
//! program wrote it.
//!
//! A CSV is only ours when its first line names an `epoch` or `step` column
//! and at least one column that looks like a loss or a metric; a dataset
//! (`data.csv`: `id,text,label`) or a TensorBoard export (`Wall time,Step,Value`)
//! is nobody's. The dialect comes from the column names alone, so the same
//! test serves the claim (on the sniffed head) and the reader (on the text).

use crate::model::{classify, Family};

/// Which program wrote a metrics CSV, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// PyTorch Lightning `CSVLogger`: `epoch` and `step`, sparse rows.
    Lightning,
    /// Keras `CSVLogger`: `epoch` first, one row per epoch, no `step`.
    Keras,
    /// Ultralytics `results.csv`: `epoch` with `train/box_loss`, `metrics/mAP50(B)`, `lr/pg0`.
    Ultralytics,
    /// Any other CSV with an `epoch` or `step` column and metric columns.
    Generic,
}

impl Dialect {
    /// The name stored in `Run::format`.
    pub(super) fn format_name(self) -> &'static str {
        match self {
            Dialect::Lightning => "lightning_csv",
            Dialect::Keras => "keras_csv",
            Dialect::Ultralytics => "ultralytics_csv",
            Dialect::Generic => "csv_logs",
        }
    }
}

/// A recognised header.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Header {
    /// Column names, trimmed (Ultralytics pads them with spaces).
    pub names: Vec<String>,
    /// The field separator (`,` unless the first line says tab or `;`).
    pub delimiter: u8,
    /// The `step` column, when there is one (it is then the x axis).
    pub step: Option<usize>,
    /// The `epoch` column (the x axis when there is no `step`).
    pub epoch: Option<usize>,
    /// A `time` / `wall_time` / `timestamp` column, read as wall time.
    pub time: Option<usize>,
    pub dialect: Dialect,
}

impl Header {
    /// The column that gives each row its step.
    pub fn x_column(&self) -> usize {
        self.step.or(self.epoch).unwrap_or(0)
    }

    /// True for columns that describe a row rather than measure something.
    pub fn is_row_field(&self, column: usize) -> bool {
        [self.step, self.epoch, self.time].contains(&Some(column))
    }
}

/// Separators tried in order; Keras' `CSVLogger(separator=...)` allows any.
const DELIMITERS: [u8; 3] = [b',', b'\t', b';'];

/// Name fragments of metrics that [`classify`] files under "other".
const METRIC_WORDS: [&str; 11] = [
    "metrics/", "iou", "dice", "map", "auc", "mae", "mse", "bleu", "rouge", "score", "error",
];

/// The header of `text` (a whole file or its sniffed head), if it is a metrics CSV.
///
/// Also checks the first data row, when the text has one: its x cell must
/// be a number (or empty), so a table whose `epoch` column holds words is not taken.
pub(super) fn read_header(text: &str) -> Option<Header> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n').filter(|l| !l.trim().is_empty());
    let first = lines.next()?;
    let header = DELIMITERS
        .iter()
        .find_map(|&d| recognise(split_line(first, d), d))?;
    // Only a whole line: a sniffed head may end inside the x cell (`-` of `-1`).
    if let Some(second) = lines.next().filter(|l| l.ends_with('\n')) {
        let cells = split_line(second, header.delimiter);
        if let Some(x) = cells.get(header.x_column()) {
            if !x.is_empty() && x.parse::<f64>().is_err() {
                return None;
            }
        }
    }
    Some(header)
}

/// The trimmed fields of one CSV line (quotes handled by the `csv` crate).
pub(super) fn split_line(line: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(|f| f.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// A header from its column names, if they name an x column and a metric.
fn recognise(names: Vec<String>, delimiter: u8) -> Option<Header> {
    if names.len() < 2
        || names
            .iter()
            .any(|n| n.is_empty() || n.parse::<f64>().is_ok())
    {
        return None;
    }
    let find = |wanted: &[&str]| {
        names
            .iter()
            .position(|n| wanted.iter().any(|w| n.eq_ignore_ascii_case(w)))
    };
    let step = find(&["step"]);
    let epoch = find(&["epoch"]);
    let time = find(&["time", "wall_time", "timestamp"]);
    step.or(epoch)?;
    let is_x = |i: usize| Some(i) == step || Some(i) == epoch || Some(i) == time;
    let has_metric = names
        .iter()
        .enumerate()
        .any(|(i, n)| !is_x(i) && looks_like_metric(n));
    if !has_metric {
        return None;
    }
    let ultralytics = names.iter().any(|n| {
        n.starts_with("metrics/")
            || n.starts_with("lr/pg")
            || n.starts_with("x/lr")
            || (n.starts_with("train/") && n.ends_with("_loss"))
    });
    let dialect = match (step, epoch) {
        (None, Some(_)) if ultralytics => Dialect::Ultralytics,
        (Some(_), Some(_)) => Dialect::Lightning,
        (None, Some(0)) => Dialect::Keras,
        _ => Dialect::Generic,
    };
    Some(Header {
        names,
        delimiter,
        step,
        epoch,
        time,
        dialect,
    })
}

/// True when a column name looks like a loss, a learning rate or a quality metric.
fn looks_like_metric(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        classify(name).0,
        Family::Loss | Family::Perplexity | Family::Accuracy | Family::LearningRate
    ) || METRIC_WORDS.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(head: &str) -> Option<Dialect> {
        read_header(head).map(|h| h.dialect)
    }

    #[test]
    fn recognises_the_three_loggers() {
        let lightning = "epoch,lr-AdamW,step,train_loss,val_loss,val_acc\n0,0.0001,9,3.7,,\n";
        let h = read_header(lightning).unwrap();
        assert_eq!(h.dialect, Dialect::Lightning);
        assert_eq!((h.step, h.epoch, h.time), (Some(2), Some(0), None));
        assert_eq!(h.x_column(), 2);

        let keras =
            "epoch,accuracy,dice_coef,loss,lr,mean_io_u_5\r\n0,0.98,0.33,0.056,0.001,0.76\r\n";
        assert_eq!(dialect(keras), Some(Dialect::Keras));

        let yolo =
            "epoch,time,train/box_loss,metrics/mAP50(B),lr/pg0\r\n1,597.18,1.49,0.23,0.0005\r\n";
        let h = read_header(yolo).unwrap();
        assert_eq!(h.dialect, Dialect::Ultralytics);
        assert_eq!((h.epoch, h.time, h.x_column()), (Some(0), Some(1), 0));
        assert!(h.is_row_field(1) && !h.is_row_field(2));
    }

    #[test]
    fn trims_padded_ultralytics_headers() {
        let head = "               epoch,      train/box_loss,   metrics/precision,metrics/mAP_0.5:0.95,               x/lr0\n\
                    0,     0.1,   0.5,   0.2,   0.01\n";
        let h = read_header(head).unwrap();
        assert_eq!(h.dialect, Dialect::Ultralytics);
        assert_eq!(h.names[0], "epoch");
        assert_eq!(h.names[3], "metrics/mAP_0.5:0.95");
    }

    #[test]
    fn other_separators_bom_and_generic_columns() {
        let h = read_header("\u{feff}epoch\tloss\tval_loss\n0\t1\t2\n").unwrap();
        assert_eq!((h.delimiter, h.dialect), (b'\t', Dialect::Keras));
        let h = read_header("\n\nepoch;loss\n").unwrap();
        assert_eq!(h.delimiter, b';');
        assert_eq!(dialect("step,loss\n10,2.5\n"), Some(Dialect::Generic));
        assert_eq!(dialect("loss,epoch\n"), Some(Dialect::Generic));
        assert_eq!(dialect("Epoch,Val IoU\n1,0.5\n"), Some(Dialect::Keras));
    }

    #[test]
    fn rejects_tables_that_are_not_metrics() {
        for head in [
            "",
            "id,text,label\n1,hello,0\n",
            "Wall time,Step,Value\n1700000000.1,10,0.5\n",
            "epoch,name\n0,a\n",
            "loss,accuracy\n0.5,0.9\n",
            "0,0.5,0.9\n1,0.4,0.9\n",
            "epoch,,loss\n",
            "epoch,loss\nfirst,0.5\n",
            "Epoch 1, loss 0.5\n",
            "{\"step\": 1, \"loss\": 2}\n",
            "[2026-01-01 10:00] step,loss\n",
        ] {
            assert_eq!(read_header(head), None, "{head:?}");
        }
    }

    #[test]
    fn a_head_cut_in_the_first_row_still_counts() {
        assert_eq!(dialect("epoch,loss,val_loss\n0,0.5"), Some(Dialect::Keras));
        assert_eq!(dialect("epoch,loss,val_loss\n"), Some(Dialect::Keras));
        assert_eq!(dialect("epoch,loss,val_"), Some(Dialect::Keras));
        assert_eq!(dialect("epoch,loss\n-"), Some(Dialect::Keras));
    }
}
