//! The table of formats: each says which folders are its runs, and reads them.
//!
//! Detection is by content, not by path: a format looks at a folder's file
//! names and sniffs the head of a candidate file (a Keras CSV called
//! `training.log` is not a captured trainer log). Reading is split in two: this
//! module does the IO (bytes to text, with problems for unreadable files) and
//! the format's pure parser turns text into runs, so parsers are tested on
//! strings. A claim names the files of one run; a format's `read` returns a
//! `Vec<Run>` because one file may hold several runs.
//!
//! Files a format reads line by line (logs, JSONL, metric TSVs; its `lines`
//! says which) are not read whole when they are larger than
//! [`STREAM_ABOVE_BYTES`]: their [`SourceText`] is left on disk and its
//! reader takes it through [`lines::Lines`], the same code path as for text
//! in memory, so peak memory follows the parsed series rather than the file.
//!
//! Each format's module owns its `claim` and `read_run`, so everything about a
//! format is in one place; this module keeps what every run gets whatever its
//! format: artifacts, dated folder names, a name from params, and a status
//! inferred from planned steps when the format could not tell. When one run
//! folder holds several formats' records (a Hugging Face output folder with
//! TensorBoard files in `runs/`), [`merge`] says which run takes in which and
//! how: the guests ride on their host's candidate and are merged after reading.

pub mod catalog;
pub mod config;
pub mod csv_logs;
pub mod dvclive;
pub mod hf_trainer;
pub mod json_runs;
pub mod lenient_json;
pub mod lines;
pub mod merge;
pub mod metrics_jsonl;
pub mod mlflow;
pub mod mlx_lm;
pub mod plain_logs;
pub mod sacred;
pub mod tensorboard;
pub mod trackio;
pub mod training_log;
pub mod wandb;

use crate::discover::{FileEntry, Folder, Tree};
use crate::model::{Artifact, ArtifactKind, Problem, Run, Status};
use lines::Lines;
use std::io::Read;
use std::path::PathBuf;

/// Files read whole that are larger than this are not read (a problem says so).
/// Streamed files have no such limit: what they cost is their parsed series.
const MAX_TEXT_BYTES: u64 = 1 << 30;
/// A line-based file larger than this is streamed rather than read whole: a
/// few hundred MB of log would otherwise sit in memory beside its parsed
/// series, while below it the copy costs little and parsers see one `&str`.
pub const STREAM_ABOVE_BYTES: u64 = 64 << 20;
/// How much of a file detection looks at.
const SNIFF_BYTES: usize = 8 * 1024;
/// How much of a file's end detection looks at (a parquet footer with its schema).
const TAIL_BYTES: u64 = 64 * 1024;

/// A reader for one on-disk format.
pub struct Format {
    /// Name stored in `Run::format`.
    pub name: &'static str,
    /// The files of this folder that make up a run of this format, in reading order; empty if none.
    claim: ClaimFn,
    /// Turn the run's texts into runs (a pure function of its inputs).
    read: Reader,
    /// Which of its claimed files it reads line by line, so that they may be
    /// streamed when large (its `read` must then use [`SourceText::lines`],
    /// or [`SourceText::reader`] for a stream parser of its own).
    lines: LinesFn,
}

/// A format's claim: given a folder and a way to sniff a file's head, the files of its run.
type ClaimFn = fn(&FolderView) -> Vec<FileEntry>;
/// A format's reader: given the base run and the texts of its claimed files,
/// in claim order, its runs.
pub enum Reader {
    /// Every file read before the reader starts, every run returned at once.
    Whole(fn(Run, &[SourceText]) -> Vec<Run>),
    /// For files of many runs (a folder of logs, a database, a dataset): each
    /// file is read only when the reader gets to it ([`SourceText::load`]) and
    /// each run handed over as soon as it is made, so that a file of a
    /// thousand runs never has them all in memory.
    EachRun(fn(Run, &[SourceText], &mut RunSink)),
}

/// Where a reader of many runs hands them over, each with its place among
/// the candidate's runs.
pub struct RunSink<'a> {
    each: &'a mut dyn FnMut(usize, Run),
    next: usize,
}

impl<'a> RunSink<'a> {
    pub fn new(each: &'a mut dyn FnMut(usize, Run)) -> RunSink<'a> {
        RunSink { each, next: 0 }
    }

    /// The next place, for a run handed over later with [`RunSink::put`] (a
    /// file's first run, which gets the file's problems once all is read).
    pub fn reserve(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    /// Hand over the run of a reserved place.
    pub fn put(&mut self, place: usize, run: Run) {
        (self.each)(place, run);
    }

    /// Hand over the run of the next place.
    pub fn push(&mut self, run: Run) {
        let place = self.reserve();
        self.put(place, run);
    }

    /// What `read` hands over, in place order.
    pub fn collect(read: impl FnOnce(&mut RunSink)) -> Vec<Run> {
        let mut slots: Vec<Option<Run>> = Vec::new();
        read(&mut RunSink::new(&mut |place, run| {
            if slots.len() <= place {
                slots.resize_with(place + 1, || None);
            }
            slots[place] = Some(run);
        }));
        slots.into_iter().flatten().collect()
    }
}
/// Whether a claimed file is read line by line: given the run folder and the file's path, both relative to ROOT.
type LinesFn = fn(&str, &str) -> bool;

/// For formats that read every file whole (JSON documents, binary files).
fn no_lines(_dir: &str, _rel: &str) -> bool {
    false
}

/// Every format, most specific first: the first format that claims a folder owns it.
pub static FORMATS: &[Format] = &[
    Format {
        name: "mlflow",
        claim: mlflow::claim,
        read: Reader::Whole(mlflow::read_run),
        lines: mlflow::by_lines,
    },
    Format {
        name: "dvclive",
        claim: dvclive::claim,
        read: Reader::Whole(dvclive::read_run),
        lines: dvclive::by_lines,
    },
    Format {
        name: "sacred",
        claim: sacred::claim,
        read: Reader::Whole(sacred::read_run),
        lines: no_lines,
    },
    Format {
        name: "wandb",
        claim: wandb::claim,
        read: Reader::Whole(wandb::read_run),
        lines: no_lines,
    },
    Format {
        name: "tensorboard",
        claim: tensorboard::claim,
        read: Reader::Whole(tensorboard::read_run),
        lines: no_lines,
    },
    Format {
        name: "hf_trainer",
        claim: hf_trainer::claim,
        read: Reader::Whole(hf_trainer::read_run),
        lines: no_lines,
    },
    Format {
        name: "mlx_lm",
        claim: mlx_lm::claim,
        read: Reader::Whole(mlx_lm::read_run),
        lines: mlx_lm::by_lines,
    },
    Format {
        name: "trackio",
        claim: trackio::claim,
        read: Reader::EachRun(trackio::read_each),
        lines: trackio::by_lines,
    },
    Format {
        name: "json_runs",
        claim: json_runs::claim,
        read: Reader::EachRun(json_runs::read_each),
        lines: no_lines,
    },
    Format {
        name: "metrics_jsonl",
        claim: metrics_jsonl::claim,
        read: Reader::Whole(metrics_jsonl::read_run),
        lines: metrics_jsonl::by_lines,
    },
    Format {
        name: "csv_logs",
        claim: csv_logs::claim,
        read: Reader::Whole(csv_logs::read_run),
        lines: csv_logs::by_lines,
    },
    Format {
        name: "plain_log",
        claim: plain_logs::claim,
        read: Reader::Whole(plain_logs::read_run),
        lines: plain_logs::by_lines,
    },
    Format {
        name: "training_log",
        claim: training_log::claim,
        read: Reader::Whole(training_log::read_run),
        lines: training_log::by_lines,
    },
];

/// A folder (or later, a file) that a format says holds runs.
#[derive(Clone)]
pub struct Candidate {
    /// The format that claimed it.
    pub format: &'static Format,
    /// The run folder relative to ROOT (`""` for ROOT itself).
    pub dir: String,
    /// The files to read, in order.
    pub files: Vec<FileEntry>,
    /// Other formats' runs below this folder that are part of this run (see [`merge`]).
    pub guests: Vec<Candidate>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Candidate({}, {:?}", self.format.name, self.dir)?;
        for guest in &self.guests {
            write!(f, " + {guest:?}")?;
        }
        write!(f, ")")
    }
}

/// What a format's claim sees of one folder: its files, a way to sniff them,
/// and the rest of the tree (a format may need a subfolder, e.g. the latest
/// checkpoint when the top-level file is missing).
pub struct FolderView<'a> {
    pub tree: &'a Tree,
    /// The folder relative to ROOT.
    pub dir: &'a str,
    pub folder: &'a Folder,
}

impl<'a> FolderView<'a> {
    /// The first few KB of one of its files, for detection by content.
    pub fn head(&self, file: &FileEntry) -> String {
        read_head(file)
    }

    /// The last few KB of one of its files (a parquet footer names its columns).
    pub fn tail(&self, file: &FileEntry) -> String {
        read_tail(file)
    }

    /// A file of this folder by exact name.
    pub fn file(&self, name: &str) -> Option<&'a FileEntry> {
        file_named(self.folder, name)
    }

    /// A direct subfolder by name.
    pub fn subfolder(&self, name: &str) -> Option<FolderView<'a>> {
        let dir = if self.dir.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.dir)
        };
        let (dir, folder) = self.tree.dirs.get_key_value(&dir)?;
        Some(FolderView {
            tree: self.tree,
            dir,
            folder,
        })
    }
}

/// One file's content, as a parser gets it: text, bytes for a binary file,
/// or a large line-based file left on disk to be streamed.
#[derive(Clone)]
pub struct SourceText {
    /// Path relative to ROOT.
    pub rel: String,
    /// File name.
    pub name: String,
    /// What was read of it.
    pub content: Content,
}

/// What a [`SourceText`] holds.
#[derive(Clone)]
pub enum Content {
    /// The whole file as text (invalid UTF-8 replaced).
    Text(String),
    /// The raw bytes of a binary file (event file, SQLite database, parquet).
    Bytes(Vec<u8>),
    /// A large file of a line-based format, not read yet: see [`SourceText::lines`].
    Stream(PathBuf),
    /// A file of a [`Reader::EachRun`] format, read when its reader asks
    /// (see [`SourceText::load`]), or streamed when larger than the bytes
    /// given (see [`SourceText::to_stream`]).
    Later(FileEntry, u64),
}

impl SourceText {
    /// A text file's content (what most parsers and their tests use).
    pub fn from_text(rel: &str, text: impl Into<String>) -> SourceText {
        SourceText::new(rel, Content::Text(text.into()))
    }

    /// A binary file's content.
    pub fn from_bytes(rel: &str, bytes: Vec<u8>) -> SourceText {
        SourceText::new(rel, Content::Bytes(bytes))
    }

    /// A file to be streamed from `path` when it is read.
    pub fn streamed(rel: &str, path: PathBuf) -> SourceText {
        SourceText::new(rel, Content::Stream(path))
    }

    /// A file to be read when its reader gets to it, or streamed if it is
    /// larger than `stream_above` bytes and its reader can.
    pub fn later(file: &FileEntry, stream_above: u64) -> SourceText {
        SourceText::new(&file.rel, Content::Later(file.clone(), stream_above))
    }

    /// This source with its content in memory: itself, or a file left for
    /// later read now (with a warning when it was not valid UTF-8); a file
    /// that cannot be read is the problem saying why.
    pub fn load(&self) -> Result<(std::borrow::Cow<'_, SourceText>, Option<Problem>), Problem> {
        match &self.content {
            Content::Later(file, _) => read_source(file, false)
                .map(|(source, warning)| (std::borrow::Cow::Owned(source), warning)),
            _ => Ok((std::borrow::Cow::Borrowed(self), None)),
        }
    }

    /// A text file left for later that is too large to read whole, as a
    /// source to stream: for a reader that can take it line by line.
    pub fn to_stream(&self) -> Option<SourceText> {
        match &self.content {
            Content::Later(file, above)
                if file.size > *above && !is_binary(&file.name, read_head(file).as_bytes()) =>
            {
                Some(SourceText::streamed(&file.rel, file.real.clone()))
            }
            _ => None,
        }
    }

    fn new(rel: &str, content: Content) -> SourceText {
        SourceText {
            rel: rel.to_string(),
            name: rel.rsplit('/').next().unwrap_or(rel).to_string(),
            content,
        }
    }

    /// The whole text; empty for a binary file, and for a streamed one (only
    /// files a format's `lines` names are streamed, and it reads them with
    /// [`SourceText::lines`]).
    pub fn text(&self) -> &str {
        match &self.content {
            Content::Text(text) => text,
            Content::Bytes(_) | Content::Stream(_) | Content::Later(..) => "",
        }
    }

    /// The bytes of a binary file; empty for text.
    pub fn bytes(&self) -> &[u8] {
        match &self.content {
            Content::Bytes(bytes) => bytes,
            Content::Text(_) | Content::Stream(_) | Content::Later(..) => &[],
        }
    }

    /// Its lines, from memory or streamed from disk alike; a file that cannot
    /// be opened has none and says why in the problems.
    pub fn lines(&self) -> Lines<'_> {
        match &self.content {
            Content::Text(text) => Lines::from_str(text, &self.rel),
            Content::Bytes(_) | Content::Later(..) => Lines::from_str("", &self.rel),
            Content::Stream(path) => match std::fs::File::open(path) {
                Ok(file) => Lines::from_reader(file, &self.rel),
                Err(e) => Lines::unreadable(
                    &self.rel,
                    Problem::error(&self.rel, None, format!("cannot read: {e}")),
                ),
            },
        }
    }

    /// Its bytes as a reader, from memory or streamed from disk alike, for a
    /// reader that parses a stream itself (CSV, whose quoted cells may hold
    /// newlines); a file that cannot be opened is a problem.
    pub fn reader(&self) -> Result<Box<dyn Read + '_>, Problem> {
        match &self.content {
            Content::Text(text) => Ok(Box::new(text.as_bytes())),
            Content::Bytes(bytes) => Ok(Box::new(bytes.as_slice())),
            Content::Later(..) => Ok(Box::new(&[][..])),
            Content::Stream(path) => match std::fs::File::open(path) {
                Ok(file) => Ok(Box::new(file)),
                Err(e) => Err(Problem::error(&self.rel, None, format!("cannot read: {e}"))),
            },
        }
    }
}

/// Decide which folders are runs. Folders below a run that look like model or
/// checkpoint folders belong to that run and are never runs of their own; a
/// run that [`merge`] says belongs to a run above it becomes its guest.
pub fn find_candidates(tree: &Tree) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut claimed: std::collections::HashMap<&str, &'static str> =
        std::collections::HashMap::new();
    // Where each run folder's candidate is in `out` (parents come before children).
    let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (dir, folder) in &tree.dirs {
        if inside_artifact_of_run(dir, &claimed) {
            continue;
        }
        for format in FORMATS {
            let view = FolderView { tree, dir, folder };
            let files = (format.claim)(&view);
            if files.is_empty() {
                continue;
            }
            claimed.insert(dir, format.name);
            let candidate = Candidate {
                format,
                dir: dir.clone(),
                files,
                guests: Vec::new(),
            };
            let host = merge::host_of(dir, format.name, |d| claimed.get(d).copied())
                .and_then(|(host, _)| position.get(host).copied());
            match host {
                Some(at) => out[at].guests.push(candidate),
                None => {
                    position.insert(dir, out.len());
                    out.push(candidate);
                }
            }
            break;
        }
    }
    out
}

/// True when `dir` lies under a model/checkpoint folder of an already claimed
/// run. Only `dir`'s own ancestors are looked up, so this stays linear in the
/// number of folders however many runs there are.
fn inside_artifact_of_run(
    dir: &str,
    claimed: &std::collections::HashMap<&str, &'static str>,
) -> bool {
    let parts: Vec<&str> = dir.split('/').collect();
    (0..parts.len()).any(|depth| {
        let ancestor = if depth == 0 {
            String::new()
        } else {
            parts[..depth].join("/")
        };
        claimed.get(ancestor.as_str()).is_some_and(|format| {
            artifact_kind_of_folder(parts[depth]).is_some() || owned_by_run(format, parts[depth])
        })
    })
}

/// Subfolders that belong to a run of `format` whatever they hold: everything
/// below an MLflow run folder (`artifacts/`, `outputs/`, `metrics/`, ...) and a
/// run's `dvclive/` folder.
fn owned_by_run(format: &str, sub: &str) -> bool {
    match format {
        "mlflow" => true,
        "dvclive" => sub == "dvclive",
        _ => false,
    }
}

/// Read one candidate into its runs, its guests merged in. Never fails: IO
/// trouble becomes problems.
pub fn read(tree: &Tree, candidate: &Candidate) -> Vec<Run> {
    read_streaming_above(tree, candidate, STREAM_ABOVE_BYTES)
}

/// [`read`], handing over each run with its place as soon as it is made
/// (see [`Reader::EachRun`]).
pub fn read_each(tree: &Tree, candidate: &Candidate, each: &mut dyn FnMut(usize, Run)) {
    read_each_streaming_above(tree, candidate, STREAM_ABOVE_BYTES, each)
}

/// [`read`], streaming line-based files larger than `stream_above` bytes
/// (tests stream small files through it).
pub(crate) fn read_streaming_above(
    tree: &Tree,
    candidate: &Candidate,
    stream_above: u64,
) -> Vec<Run> {
    RunSink::collect(|sink| {
        read_each_streaming_above(tree, candidate, stream_above, &mut |place, run| {
            sink.put(place, run)
        })
    })
}

fn read_each_streaming_above(
    tree: &Tree,
    candidate: &Candidate,
    stream_above: u64,
    each: &mut dyn FnMut(usize, Run),
) {
    let rules: Vec<&merge::Absorption> = merge::ABSORPTIONS
        .iter()
        .filter(|r| r.host == candidate.format.name)
        .filter(|r| candidate.guests.iter().any(|g| g.format.name == r.guest))
        .collect();
    if rules.is_empty() {
        let mut finished = |place, mut run: Run| {
            finish(&mut run);
            each(place, run)
        };
        return read_files(
            tree,
            candidate,
            stream_above,
            &mut RunSink::new(&mut finished),
        );
    }
    // Guests merge into their host's runs: those are read whole first.
    let mut runs = RunSink::collect(|sink| read_files(tree, candidate, stream_above, sink));
    for rule in rules {
        let guests: Vec<Run> = candidate
            .guests
            .iter()
            .filter(|g| g.format.name == rule.guest)
            .flat_map(|g| RunSink::collect(|sink| read_files(tree, g, stream_above, sink)))
            .collect();
        if !guests.is_empty() {
            merge::absorb(&mut runs, &candidate.dir, guests, rule);
        }
    }
    for (place, mut run) in runs.into_iter().enumerate() {
        finish(&mut run);
        each(place, run);
    }
}

/// What every run gets once its reader is done: its name from its params,
/// its series in order, a status from its planned steps.
fn finish(run: &mut Run) {
    if let Some(name) = config::run_name_from_params(&run.params) {
        if !name.trim().is_empty() {
            run.name = name;
        }
    }
    run.finish_metrics();
    if run.status == Status::Unknown {
        infer_status_from_planned_steps(run);
    }
}

/// A candidate's own files read by its format, as the format hands them over.
fn read_files(tree: &Tree, candidate: &Candidate, stream_above: u64, sink: &mut RunSink) {
    let group = candidate.dir.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let mut base = Run::new(&candidate.dir, group, candidate.format.name);
    if candidate.dir.is_empty() {
        base.name = tree
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    if let Some((date, rest)) = split_dated_name(&base.name) {
        base.date = Some(date);
        base.name = rest;
    }
    let later = matches!(candidate.format.read, Reader::EachRun(_));
    let mut texts = Vec::new();
    for file in &candidate.files {
        base.sources.push(file.rel.clone());
        if later {
            texts.push(SourceText::later(file, stream_above));
            continue;
        }
        let by_lines = (candidate.format.lines)(&candidate.dir, &file.rel);
        let stream = by_lines && file.size > stream_above;
        match read_source(file, stream) {
            Ok((source, warning)) => {
                base.problems.extend(warning);
                texts.push(source);
            }
            Err(problem) => base.problems.push(problem),
        }
    }
    if let Some(folder) = tree.folder(&candidate.dir) {
        base.artifacts = folder_artifacts(tree, &candidate.dir, folder);
    }
    match candidate.format.read {
        Reader::Whole(read) => read(base, &texts)
            .into_iter()
            .for_each(|run| sink.push(run)),
        Reader::EachRun(read) => read(base, &texts, sink),
    }
}

/// Param names that say how many steps a run planned.
const PLANNED_STEPS_KEYS: &[&str] = &[
    "max_steps",
    "total_steps",
    "num_steps",
    "training_steps",
    "train_steps",
    "iters",
    "num_iterations",
    "max_iters",
];

/// The steps a run's params say it planned (`max_steps`, `iters`, ... at any depth).
pub fn planned_steps(run: &Run) -> Option<f64> {
    let flat = run.flat_params();
    flat.iter().find_map(|(k, v)| {
        let leaf = k.rsplit('.').next().unwrap_or(k);
        PLANNED_STEPS_KEYS
            .contains(&leaf)
            .then(|| v.parse::<f64>().ok())
            .flatten()
    })
}

/// When nothing said how a run ended, compare its last step with the steps it
/// planned: reaching them means it completed; a torn last line short of them
/// means the writer was killed.
fn infer_status_from_planned_steps(run: &mut Run) {
    let planned = planned_steps(run);
    let last = run
        .metrics
        .iter()
        .filter_map(|s| s.points.last())
        .map(|p| p.step)
        .max();
    let (Some(planned), Some(last)) = (planned, last) else {
        return;
    };
    if planned <= 0.0 {
        return;
    }
    let torn = run
        .problems
        .iter()
        .any(|p| p.message.contains("incomplete"));
    if last as f64 >= planned {
        run.status = Status::Completed;
        run.status_reason = format!("reached its planned {planned} steps");
    } else if torn {
        run.status = Status::Failed;
        run.status_reason =
            format!("stopped at step {last} of {planned} planned, mid-write (last line torn)");
    } else {
        run.status_reason = format!("last logged step {last} of {planned} planned");
    }
}

/// Images, model folders and checkpoint folders directly in a run folder.
fn folder_artifacts(tree: &Tree, dir: &str, folder: &Folder) -> Vec<Artifact> {
    let mut out = Vec::new();
    for f in &folder.files {
        // A name that was not valid UTF-8 cannot be found again by its lossy
        // form, and an SVG can carry script: both are listed, never published.
        let publishable = is_image(&f.name) && !f.name.contains('\u{FFFD}');
        let kind = if publishable {
            ArtifactKind::Image
        } else {
            ArtifactKind::File
        };
        if publishable || f.name.to_ascii_lowercase().ends_with(".svg") {
            out.push(Artifact {
                kind,
                path: f.rel.clone(),
                bytes: f.size,
                files: 1,
            });
        }
    }
    for sub in &folder.subdirs {
        if let Some(kind) = artifact_kind_of_folder(sub) {
            let path = if dir.is_empty() {
                sub.clone()
            } else {
                format!("{dir}/{sub}")
            };
            let (bytes, files) = tree.folder_size(&path);
            out.push(Artifact {
                kind,
                path,
                bytes,
                files,
            });
        }
    }
    out
}

/// Model and checkpoint folders by their usual names.
pub fn artifact_kind_of_folder(name: &str) -> Option<ArtifactKind> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("checkpoint") || lower.starts_with("ckpt") || lower.starts_with("step_") {
        Some(ArtifactKind::Checkpoint)
    } else if lower.contains("model") || lower.contains("adapter") || lower.contains("weights") {
        Some(ArtifactKind::Model)
    } else {
        None
    }
}

/// Image files shown on the run page (raster only: an SVG may hold script).
pub fn is_image(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".gif", ".webp"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// `2026-03-02_tinyllama` -> (`2026-03-02`, `tinyllama`): dated folder names are common.
pub fn split_dated_name(name: &str) -> Option<(String, String)> {
    let b = name.as_bytes();
    let is_date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if !is_date {
        return None;
    }
    let rest = name[10..].trim_start_matches(['_', '-', ' ']);
    let rest = if rest.is_empty() { name } else { rest };
    Some((name[..10].to_string(), rest.to_string()))
}

/// Read a whole file: binary formats as bytes, everything else as text with a
/// warning when it was not valid UTF-8. With `stream`, a file that is not
/// binary is left on disk for its reader to stream.
fn read_source(file: &FileEntry, stream: bool) -> Result<(SourceText, Option<Problem>), Problem> {
    if stream && !is_binary(&file.name, read_head(file).as_bytes()) {
        return Ok((SourceText::streamed(&file.rel, file.real.clone()), None));
    }
    if file.size > MAX_TEXT_BYTES {
        return Err(Problem::error(
            &file.rel,
            None,
            format!(
                "file is {} bytes, over the {} byte limit; not read",
                file.size, MAX_TEXT_BYTES
            ),
        ));
    }
    let bytes = std::fs::read(&file.real)
        .map_err(|e| Problem::error(&file.rel, None, format!("cannot read: {e}")))?;
    if is_binary(&file.name, &bytes) {
        return Ok((SourceText::from_bytes(&file.rel, bytes), None));
    }
    let source = |text: String| SourceText::from_text(&file.rel, text);
    match String::from_utf8(bytes) {
        Ok(text) => Ok((source(text), None)),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let line = err.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            Ok((
                source(text),
                Some(Problem::warning(
                    &file.rel,
                    Some(line),
                    "not valid UTF-8; invalid bytes replaced",
                )),
            ))
        }
    }
}

/// What a binary file starts with: SQLite databases and parquet files.
const BINARY_MAGIC: &[&[u8]] = &[b"SQLite format 3\0", b"PAR1"];

/// Files handed to readers as bytes: event files by name, databases and parquet by content.
fn is_binary(name: &str, bytes: &[u8]) -> bool {
    tensorboard::is_event_file(name) || BINARY_MAGIC.iter().any(|m| bytes.starts_with(m))
}

/// The first few KB of a file, for format detection (empty when unreadable).
fn read_head(file: &FileEntry) -> String {
    let mut buf = vec![0u8; SNIFF_BYTES];
    let n = std::fs::File::open(&file.real)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The last few KB of a file (empty when unreadable).
fn read_tail(file: &FileEntry) -> String {
    use std::io::{Seek, SeekFrom};
    let from = file.size.saturating_sub(TAIL_BYTES);
    let mut buf = Vec::new();
    let read = std::fs::File::open(&file.real).and_then(|mut f| {
        f.seek(SeekFrom::Start(from))?;
        f.take(TAIL_BYTES).read_to_end(&mut buf)
    });
    if read.is_err() {
        buf.clear();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A file of this folder by exact name.
pub fn file_named<'a>(folder: &'a Folder, name: &str) -> Option<&'a FileEntry> {
    folder.files.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod stream_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_dated_folder_names() {
        assert_eq!(
            split_dated_name("2026-03-02_tinyllama"),
            Some(("2026-03-02".into(), "tinyllama".into()))
        );
        assert_eq!(
            split_dated_name("2026-03-02"),
            Some(("2026-03-02".into(), "2026-03-02".into()))
        );
        assert_eq!(split_dated_name("lr-1e-4"), None);
        assert_eq!(split_dated_name("é"), None);
    }

    #[test]
    fn recognises_artifact_folders() {
        assert_eq!(
            artifact_kind_of_folder("final_model"),
            Some(ArtifactKind::Model)
        );
        assert_eq!(
            artifact_kind_of_folder("checkpoint_step_200"),
            Some(ArtifactKind::Checkpoint)
        );
        assert_eq!(
            artifact_kind_of_folder("checkpoint-500"),
            Some(ArtifactKind::Checkpoint)
        );
        assert_eq!(
            artifact_kind_of_folder("adapters"),
            Some(ArtifactKind::Model)
        );
        assert_eq!(artifact_kind_of_folder("lr-sweep"), None);
    }
}
