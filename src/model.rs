//! The normalized run: what every reader produces and everything after it consumes.
//!
//! Plain data with no IO. Whatever wrote a run (a captured `training.log`, a
//! `metrics.jsonl`, later Hugging Face, MLflow, TensorBoard, ...) ends up as one
//! [`Run`]. Its public fields are the contract with the templates and with
//! `data/runs.json` / `runs/<id>/run.json`, so each one says what it holds.
//!
//! Non-finite values (NaN, +/-infinity) are findings, not errors: they are kept
//! in [`Point::value`] and serialized as the strings `"NaN"`, `"Infinity"` and
//! `"-Infinity"` because JSON has no token for them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};

#[cfg(test)]
thread_local! {
    /// How often [`Run::push_point`] rebuilt its index on this thread: a row
    /// of thousands of metrics must not cost a scan of them all per value.
    static INDEX_REBUILDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One training run, normalized.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Stable identifier: a slug of the relative path (unique within a build).
    pub id: String,
    /// Human name: the run's own name when it records one, else its folder name.
    pub name: String,
    /// Which reader produced it, e.g. `training_log` or `metrics_jsonl`.
    pub format: String,
    /// Path of the run's folder or file relative to ROOT, with `/` separators.
    pub path: String,
    /// Parent folders of the run relative to ROOT (`lr-sweep`, `failed`), `""` at the top level.
    pub group: String,
    /// The date the run started, `YYYY-MM-DD`, when known (from the data or a dated folder name).
    pub date: Option<String>,
    /// Whether it finished, and why we think so.
    pub status: Status,
    /// One line saying how the status was decided (the error line for a failed run).
    pub status_reason: String,
    /// Start time as written by the run (ISO 8601 when the source gives one).
    pub started: Option<String>,
    /// End time as written by the run.
    pub ended: Option<String>,
    /// Wall-clock duration in seconds, when the run records it or it can be derived.
    #[serde(
        serialize_with = "serialize_opt_f64",
        deserialize_with = "deserialize_opt_f64"
    )]
    pub duration_seconds: Option<f64>,
    /// Hyperparameters and configuration as a nested tree (sorted keys).
    pub params: serde_json::Value,
    /// Files the run was read from, relative to ROOT, in reading order.
    pub sources: Vec<String>,
    /// How several sources of the run were combined (which is preferred for
    /// what), one note per merge; empty when it has one.
    pub source_notes: Vec<String>,
    /// Metric series, in a stable order (family, split, name).
    pub metrics: Vec<Series>,
    /// What happened during the run, in order of appearance.
    pub events: Vec<Event>,
    /// Text produced during evaluation (validation questions and answers).
    pub samples: Vec<Sample>,
    /// Files and folders the run left behind: images, models, checkpoints.
    pub artifacts: Vec<Artifact>,
    /// Everything wrong with reading this run; never fatal to the build.
    pub problems: Vec<Problem>,
    /// The model card (`README.md`) kept beside the run's output, when its reader reads one.
    pub model_card: Option<ModelCard>,
    /// Where each series is in `metrics`, by name: a row of thousands of
    /// metrics must not scan them all per value. Checked on use, so code that
    /// reorders `metrics` directly only costs a rebuild.
    #[serde(skip)]
    series_index: HashMap<String, usize>,
}

impl Run {
    /// A run with only its identity filled in; readers fill the rest.
    pub fn new(path: &str, group: &str, format: &str) -> Run {
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        Run {
            id: String::new(),
            name,
            format: format.to_string(),
            path: path.to_string(),
            group: group.to_string(),
            date: None,
            status: Status::Unknown,
            status_reason: String::new(),
            started: None,
            ended: None,
            duration_seconds: None,
            params: serde_json::Value::Object(Default::default()),
            sources: Vec::new(),
            source_notes: Vec::new(),
            metrics: Vec::new(),
            events: Vec::new(),
            samples: Vec::new(),
            artifacts: Vec::new(),
            problems: Vec::new(),
            model_card: None,
            series_index: HashMap::new(),
        }
    }

    /// A copy without what only the run's own page shows: its series, events,
    /// samples, artifacts and model card body. What is left is small however
    /// long the run was ([`crate::render::digest`] puts back the series the
    /// shared pages draw, thinned).
    pub fn clone_without_bulk(&self) -> Run {
        Run {
            id: self.id.clone(),
            name: self.name.clone(),
            format: self.format.clone(),
            path: self.path.clone(),
            group: self.group.clone(),
            date: self.date.clone(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            started: self.started.clone(),
            ended: self.ended.clone(),
            duration_seconds: self.duration_seconds,
            params: self.params.clone(),
            sources: self.sources.clone(),
            source_notes: self.source_notes.clone(),
            metrics: Vec::new(),
            events: Vec::new(),
            samples: Vec::new(),
            artifacts: Vec::new(),
            problems: self.problems.clone(),
            model_card: self.model_card.as_ref().map(|card| ModelCard {
                file: card.file.clone(),
                front_matter: card.front_matter.clone(),
                body: String::new(),
            }),
            series_index: HashMap::new(),
        }
    }

    /// Params flattened to dot keys (`training_config.batch_size`) with display strings.
    pub fn flat_params(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        flatten_value("", &self.params, &mut out);
        out
    }

    /// The series with this family and split, if the run has one (first by name).
    pub fn series(&self, family: Family, split: Split) -> Option<&Series> {
        self.metrics
            .iter()
            .find(|s| s.family == family && s.split == split)
    }

    /// Error-level problems on this run.
    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    /// Add a point to the series named `name`, creating it (classified) if needed.
    pub fn push_point(&mut self, name: &str, source: &str, point: Point) {
        let slot = self.series_slot(name, source);
        self.metrics[slot].points.push(point);
    }

    /// Where the series named `name` is in `metrics`, created (classified,
    /// empty) if needed: for a reader that pushes many points to few series.
    pub fn series_slot(&mut self, name: &str, source: &str) -> usize {
        // One hash of `name` on the common path: the index is trusted while it
        // has an entry per series and the entry found names its series; a
        // reader that pushed to `metrics` directly makes it stale, so rebuild.
        if self.series_index.len() == self.metrics.len() {
            match self.series_index.get(name) {
                Some(&slot) if self.metrics.get(slot).is_some_and(|s| s.name == name) => {
                    return slot
                }
                None => return self.add_series(name, source),
                Some(_) => {}
            }
        }
        #[cfg(test)]
        INDEX_REBUILDS.with(|n| n.set(n.get() + 1));
        self.series_index = self
            .metrics
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        match self.series_index.get(name) {
            Some(&slot) => slot,
            None => self.add_series(name, source),
        }
    }

    fn add_series(&mut self, name: &str, source: &str) -> usize {
        self.series_index
            .insert(name.to_string(), self.metrics.len());
        self.metrics.push(Series::new(name, source));
        self.metrics.len() - 1
    }

    /// Sort series into their stable display order and each series by step.
    pub fn finish_metrics(&mut self) {
        for s in &mut self.metrics {
            // Stable sort: equal steps keep the order they were logged in.
            s.points.sort_by_key(|p| p.step);
        }
        self.metrics.retain(|s| !s.points.is_empty());
        self.metrics
            .sort_by(|a, b| (a.family, a.split, &a.name).cmp(&(b.family, b.split, &b.name)));
    }
}

/// A model card as written: YAML front matter and a markdown body. The body
/// is text from the run: only the run page renders it, and sanitizes it there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    /// The file, relative to ROOT.
    pub file: String,
    /// The front matter (`library_name`, `base_model`, `license`, `tags`, ...) as a tree like `params`.
    pub front_matter: serde_json::Value,
    /// The markdown after the front matter, as written (cut at the reader's size limit).
    pub body: String,
}

impl ModelCard {
    /// The front matter flattened to dot keys with display strings, as [`Run::flat_params`].
    pub fn flat_front_matter(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        flatten_value("", &self.front_matter, &mut out);
        out
    }
}

fn flatten_value(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_value(&key, v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        Value::Null => {
            out.insert(prefix.to_string(), "null".to_string());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It says it finished.
    Completed,
    /// It stopped with an error (traceback, out of memory, killed, failed status).
    Failed,
    /// Its source says it is still running (or was never closed).
    Running,
    /// Nothing says either way.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Unknown => "unknown",
        }
    }
}

/// One metric over time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    /// The name as the source wrote it (`train/loss`, `Validation loss`).
    pub name: String,
    /// What it measures, recognised from the name.
    pub family: Family,
    /// Which data it was measured on, recognised from the name.
    pub split: Split,
    /// The file it came from, relative to ROOT.
    pub source: String,
    /// Points sorted by step; non-finite values kept.
    pub points: Vec<Point>,
}

impl Series {
    /// An empty series with family and split recognised from `name`.
    pub fn new(name: &str, source: &str) -> Series {
        let (family, split) = classify(name);
        Series {
            name: name.to_string(),
            family,
            split,
            source: source.to_string(),
            points: Vec::new(),
        }
    }
}

/// One logged value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Training step (iteration) the value belongs to.
    pub step: u64,
    /// The value; NaN and infinities are kept.
    #[serde(serialize_with = "serialize_f64", deserialize_with = "deserialize_f64")]
    pub value: f64,
    /// Seconds since the run started, when the source records time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_f64",
        deserialize_with = "deserialize_opt_f64"
    )]
    pub wall_time: Option<f64>,
    /// Fractional epoch, when the source records it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_f64",
        deserialize_with = "deserialize_opt_f64"
    )]
    pub epoch: Option<f64>,
}

impl Point {
    pub fn at(step: u64, value: f64) -> Point {
        Point {
            step,
            value,
            wall_time: None,
            epoch: None,
        }
    }
}

/// Serialize a float, writing non-finite values as `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn serialize_f64<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else if v.is_nan() {
        s.serialize_str("NaN")
    } else if *v > 0.0 {
        s.serialize_str("Infinity")
    } else {
        s.serialize_str("-Infinity")
    }
}

/// [`serialize_f64`] for optional values (`None` is `null`).
pub fn serialize_opt_f64<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => serialize_f64(v, s),
        None => s.serialize_none(),
    }
}

/// A float as [`serialize_f64`] writes it: a number, or one of its three strings.
pub fn deserialize_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Number(f64),
        Word(String),
    }
    match Written::deserialize(d)? {
        Written::Number(v) => Ok(v),
        Written::Word(w) => match w.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => Err(serde::de::Error::custom(format!(
                "expected a number, NaN or Infinity, found {other:?}"
            ))),
        },
    }
}

/// An optional float as [`serialize_opt_f64`] writes it.
pub fn deserialize_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    struct Written(#[serde(deserialize_with = "deserialize_f64")] f64);
    Ok(Option::<Written>::deserialize(d)?.map(|w| w.0))
}

/// What a metric measures. Order here is the display order on run pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Loss,
    Perplexity,
    Accuracy,
    LearningRate,
    GradNorm,
    Throughput,
    Memory,
    Time,
    Other,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Loss => "loss",
            Family::Perplexity => "perplexity",
            Family::Accuracy => "accuracy",
            Family::LearningRate => "learning_rate",
            Family::GradNorm => "grad_norm",
            Family::Throughput => "throughput",
            Family::Memory => "memory",
            Family::Time => "time",
            Family::Other => "other",
        }
    }

    /// Heading for a chart of this family.
    pub fn title(self) -> &'static str {
        match self {
            Family::Loss => "Loss",
            Family::Perplexity => "Perplexity",
            Family::Accuracy => "Accuracy",
            Family::LearningRate => "Learning rate",
            Family::GradNorm => "Gradient norm",
            Family::Throughput => "Throughput",
            Family::Memory => "Memory",
            Family::Time => "Time",
            Family::Other => "Other",
        }
    }

    /// True when a larger value is better (accuracy); false for loss-like metrics.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Family::Accuracy | Family::Throughput)
    }
}

/// Which data a metric was measured on. Order here is the display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
    Other,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
            Split::Other => "other",
        }
    }
}

/// Recognise family and split from a metric name as trainers write it:
/// `loss`, `train_loss`, `train/loss`, `eval_loss`, `val/loss`, `Validation loss`,
/// `lr`, `grad_norm`, `tokens_per_sec`, `peak_mem_gb`, ...
pub fn classify(name: &str) -> (Family, Split) {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let split = if words.iter().any(|w| {
        matches!(
            *w,
            "val" | "valid" | "validation" | "eval" | "evaluation" | "dev"
        )
    }) {
        Split::Val
    } else if has("test") || has("predict") {
        Split::Test
    } else if lower.starts_with("metrics/") {
        // Ultralytics computes its metrics/* columns on the validation set.
        Split::Val
    } else {
        Split::Train
    };
    // `lr0`, `map50`: a word with a number glued on (YOLO's `x/lr0`, `mAP50-95`).
    let numbered = |prefix: &str| {
        words.iter().any(|w| {
            w.strip_prefix(prefix)
                .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let family =
        if numbered("lr") || lower.contains("learning_rate") || lower.contains("learning rate") {
            Family::LearningRate
        } else if lower.contains("grad_norm")
            || lower.contains("gradnorm")
            || (has("grad") && has("norm"))
        {
            Family::GradNorm
        } else if has("ppl") || lower.contains("perplexity") {
            Family::Perplexity
        } else if lower.contains("loss") {
            Family::Loss
        } else if lower.contains("acc")
            || has("f1")
            || has("precision")
            || has("recall")
            || has("iou")
            || lower.contains("mean_io_u")
            || lower.contains("dice")
            || numbered("map")
        {
            Family::Accuracy
        } else if lower.contains("per_sec")
            || lower.contains("/sec")
            || lower.contains("per_second")
            || lower.contains("throughput")
            || has("it")
            || has("tok")
            || has("samples")
        {
            Family::Throughput
        } else if lower.contains("mem") {
            Family::Memory
        } else if lower.contains("time")
            || has("runtime")
            || lower.ends_with("_ms")
            || lower.ends_with("_s")
        {
            Family::Time
        } else {
            Family::Other
        };
    // A split only means something for model-quality metrics; lr of "eval" is not a thing.
    let split = match family {
        Family::Loss | Family::Perplexity | Family::Accuracy | Family::Other => split,
        _ if split == Split::Train => Split::Other,
        _ => split,
    };
    (family, split)
}

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// What kind of thing happened.
    pub kind: EventKind,
    /// The step it happened at, when known.
    pub step: Option<u64>,
    /// The line as logged (or a short description).
    pub message: String,
    /// The file it was read from, relative to ROOT.
    pub file: String,
    /// 1-based line number in that file.
    pub line: Option<usize>,
}

/// Kinds of [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Training started (header block, "Starting training").
    Start,
    /// A checkpoint or model was saved.
    Checkpoint,
    /// An evaluation ran.
    Validation,
    /// A warning was printed.
    Warning,
    /// An error line (out of memory, RuntimeError, ...).
    Error,
    /// A Python traceback; message holds the whole block.
    Traceback,
    /// Training reported it finished.
    Finish,
}

/// One validation question and the model's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Step of the validation block it belongs to.
    pub step: Option<u64>,
    /// Position within its block (the `1` of `Q1:`).
    pub index: u32,
    /// The prompt.
    pub question: String,
    /// The model's answer, possibly several lines.
    pub answer: String,
    /// The file it was read from, relative to ROOT.
    pub file: String,
    /// 1-based line of the question.
    pub line: usize,
}

/// A file or folder a run left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Artifact {
    /// What it is.
    pub kind: ArtifactKind,
    /// Path relative to ROOT.
    pub path: String,
    /// Total size in bytes (all files below it, for a folder).
    pub bytes: u64,
    /// Number of files (1 for a file).
    pub files: u64,
}

/// Kinds of [`Artifact`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A PNG/JPEG/SVG/GIF image, shown on the run page.
    Image,
    /// A final model or adapter folder.
    Model,
    /// A checkpoint folder.
    Checkpoint,
    /// Any other file worth listing.
    File,
}

/// Something wrong with reading a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// How bad it is.
    pub severity: Severity,
    /// The file, relative to ROOT (empty when it concerns the run as a whole).
    pub file: String,
    /// 1-based line, when it concerns one.
    pub line: Option<usize>,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    pub fn new(
        severity: Severity,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            severity,
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
    pub fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Error, file, line, message)
    }
    pub fn warning(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Warning, file, line, message)
    }
    pub fn info(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Info, file, line, message)
    }
}

impl std::fmt::Display for Problem {
    /// `warning: runs/a/metrics.jsonl:17: expected a number for "loss"`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.severity.as_str())?;
        if !self.file.is_empty() {
            write!(f, "{}", self.file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Severity of a [`Problem`] or a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pushing_rows_of_thousands_of_metrics_never_rescans_the_series() {
        let before = INDEX_REBUILDS.with(|n| n.get());
        let mut run = Run::new("r", "", "metrics_jsonl");
        let names: Vec<String> = (0..3000).map(|m| format!("layers/{m}/grad_norm")).collect();
        for step in 0..50 {
            for name in &names {
                run.push_point(name, "m.jsonl", Point::at(step, 1.0));
            }
        }
        assert_eq!(run.metrics.len(), 3000);
        assert!(run.metrics.iter().all(|s| s.points.len() == 50));
        assert_eq!(
            INDEX_REBUILDS.with(|n| n.get()),
            before,
            "the index stayed fresh"
        );
        // Reordering the series by hand costs one rebuild, not one per value.
        run.metrics.reverse();
        for name in &names {
            run.push_point(name, "m.jsonl", Point::at(50, 2.0));
        }
        assert_eq!(INDEX_REBUILDS.with(|n| n.get()), before + 1);
        assert_eq!(run.metrics[0].name, "layers/2999/grad_norm");
        assert_eq!(run.metrics[0].points.len(), 51);
    }

    use super::*;

    #[test]
    fn classifies_common_loss_names() {
        assert_eq!(classify("loss"), (Family::Loss, Split::Train));
        assert_eq!(classify("train_loss"), (Family::Loss, Split::Train));
        assert_eq!(classify("train/loss"), (Family::Loss, Split::Train));
        assert_eq!(classify("eval_loss"), (Family::Loss, Split::Val));
        assert_eq!(classify("val/loss"), (Family::Loss, Split::Val));
        assert_eq!(classify("val_loss"), (Family::Loss, Split::Val));
        assert_eq!(classify("Validation loss"), (Family::Loss, Split::Val));
        assert_eq!(classify("test_loss"), (Family::Loss, Split::Test));
    }

    #[test]
    fn classifies_other_families() {
        assert_eq!(classify("learning_rate").0, Family::LearningRate);
        assert_eq!(classify("train/lr").0, Family::LearningRate);
        assert_eq!(classify("train/grad_norm").0, Family::GradNorm);
        assert_eq!(classify("perf/tokens_per_sec").0, Family::Throughput);
        assert_eq!(classify("eval_accuracy"), (Family::Accuracy, Split::Val));
        assert_eq!(classify("peak_mem_gb").0, Family::Memory);
        assert_eq!(classify("val/ppl"), (Family::Perplexity, Split::Val));
        assert_eq!(classify("learning_rate").1, Split::Other);
        assert_eq!(classify("x/lr0").0, Family::LearningRate);
        assert_eq!(classify("lr/pg0").0, Family::LearningRate);
        assert_eq!(
            classify("metrics/mAP50-95(B)"),
            (Family::Accuracy, Split::Val)
        );
        assert_eq!(classify("metrics/mAP_0.5"), (Family::Accuracy, Split::Val));
        assert_eq!(
            classify("metrics/precision(B)"),
            (Family::Accuracy, Split::Val)
        );
        assert_eq!(classify("val_mean_io_u_5"), (Family::Accuracy, Split::Val));
        assert_eq!(classify("dice_coef"), (Family::Accuracy, Split::Train));
        assert_eq!(classify("train/box_loss"), (Family::Loss, Split::Train));
    }

    #[test]
    fn push_point_finds_series_after_they_are_reordered() {
        let mut run = Run::new("r", "", "x");
        run.push_point("b", "f", Point::at(1, 1.0));
        run.push_point("a", "f", Point::at(1, 2.0));
        run.metrics.reverse();
        run.push_point("b", "f", Point::at(2, 3.0));
        run.push_point("c", "f", Point::at(1, 4.0));
        let counts: Vec<(&str, usize)> = run
            .metrics
            .iter()
            .map(|s| (s.name.as_str(), s.points.len()))
            .collect();
        assert_eq!(counts, vec![("a", 1), ("b", 2), ("c", 1)]);
    }

    #[test]
    fn non_finite_values_serialize_as_strings() {
        let p = [
            Point::at(1, f64::NAN),
            Point::at(2, f64::INFINITY),
            Point::at(3, 0.5),
        ];
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"NaN\""), "{json}");
        assert!(json.contains("\"Infinity\""), "{json}");
        assert!(json.contains("0.5"), "{json}");
    }

    #[test]
    fn flattens_nested_params_to_dot_keys() {
        let mut run = Run::new("a/b", "a", "x");
        run.params = serde_json::json!({"training_config": {"batch_size": 8, "name": "x"}, "seed": 1, "mesh": [1, 1]});
        let flat = run.flat_params();
        assert_eq!(flat["training_config.batch_size"], "8");
        assert_eq!(flat["training_config.name"], "x");
        assert_eq!(flat["mesh"], "[1,1]");
        assert_eq!(run.name, "b");
    }
}
