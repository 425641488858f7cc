//! Metrics CSVs written by training loggers: PyTorch Lightning's `CSVLogger`
//! (`lightning_logs/version_N/metrics.csv` + `hparams.yaml`), Keras'
//! `CSVLogger` (any name, often `training.log`) and Ultralytics'
//! `results.csv` (+ `args.yaml`, or YOLOv5's `opt.yaml` / `hyp.yaml`).
//!
//! Detection is by the header, not the file name: a `.csv` or `.log` file (or
//! a `.txt` with a log-like name) is ours when its first line names an `epoch` or `step` column and a
//! loss- or metric-looking column (see `header`). Which logger wrote it sets
//! the run's format name (`lightning_csv`, `keras_csv`, `ultralytics_csv`, or
//! `csv_logs` for any other such CSV). The x axis is `step` when there is one
//! (Lightning's 0-based global step plus one, so that step N means N optimizer
//! steps done as in every other format), else `epoch` as written (0-based for Keras, 1-based for recent
//! Ultralytics); `epoch` always goes to `Point::epoch` and a `time` column to
//! `Point::wall_time`. Each folder is one run; a folder with several metrics
//! CSVs gives one run per file. A Lightning `version_N` folder is named after
//! its experiment (`exp/version_0`) and grouped with the experiment's parent.
//!
//! `table` reads the rows, `status` decides how the run ended from the
//! planned epochs or steps in its params. Pure: text in, runs out; a large
//! CSV is not held whole but streamed into the csv reader (its quoted cells
//! may hold newlines, so it is not split into lines first).

mod header;
mod status;
mod table;

use crate::discover::FileEntry;
use crate::load::config::{params_file, read_params};
use crate::load::{split_dated_name, FolderView, SourceText};
use crate::model::{Problem, Run};
use header::read_header;

/// Params files of the loggers, read before the generic ones; the first file to set a key wins.
const LOGGER_PARAMS: [&str; 4] = ["args.yaml", "opt.yaml", "hyp.yaml", "hparams.yaml"];

/// A folder with more candidate files than this is a data folder: only the first are sniffed.
const MAX_SNIFFED_FILES: usize = 64;

/// Claim the folder's metrics CSVs (by their header) and its params files.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let folder = view.folder;
    let tables: Vec<&FileEntry> = folder
        .files
        .iter()
        .filter(|f| is_candidate_name(&f.name))
        .take(MAX_SNIFFED_FILES)
        .filter(|f| read_header(&view.head(f)).is_some())
        .collect();
    if tables.is_empty() {
        return Vec::new();
    }
    let logger_params = LOGGER_PARAMS.iter().filter_map(|n| view.file(n)).cloned();
    logger_params
        .chain(params_file(folder))
        .chain(tables.into_iter().cloned())
        .collect()
}

/// Read a claimed folder's texts: params first, then one run per metrics CSV.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    let (params, tables): (Vec<&SourceText>, Vec<&SourceText>) =
        texts.iter().partition(|t| is_params_name(&t.name));
    for source in &params {
        read_params(&mut run, source);
    }
    name_lightning_version(&mut run);
    if tables.len() == 1 {
        read_table(&mut run, tables[0]);
        return vec![run];
    }
    if tables.is_empty() {
        run.status_reason = "no metrics CSV could be read".to_string();
        return vec![run];
    }
    tables
        .iter()
        .map(|table| {
            let mut one = run.clone();
            one.path = table.rel.clone();
            one.name = table
                .name
                .rsplit_once('.')
                .map_or(&*table.name, |(stem, _)| stem)
                .to_string();
            one.sources = params
                .iter()
                .map(|p| p.rel.clone())
                .chain([table.rel.clone()])
                .collect();
            read_table(&mut one, table);
            one
        })
        .collect()
}

/// Read one metrics CSV into `run`: its format name, points, problems and status.
fn read_table(run: &mut Run, source: &SourceText) {
    let Some(header) = read_header(&first_lines(source)) else {
        let message =
            "no metrics header (an epoch or step column and a metric column) on the first line";
        run.problems
            .push(Problem::error(&source.rel, Some(1), message));
        run.status_reason = "its metrics CSV could not be read".to_string();
        return;
    };
    run.format = header.dialect.format_name().to_string();
    let extent = match source.reader() {
        Ok(input) => table::read_rows(run, input, &source.rel, &header),
        Err(problem) => {
            run.problems.push(problem);
            table::Extent::default()
        }
    };
    if extent.invalid_utf8 {
        report_invalid_utf8(run, source);
    }
    status::decide_status(run, header.dialect, &extent, &source.name);
}

/// The line of a streamed CSV's first invalid UTF-8, found again line by line
/// (a read whole said so before its reader started).
fn report_invalid_utf8(run: &mut Run, source: &SourceText) {
    let mut lines = source.lines();
    while lines.invalid_utf8_line().is_none() && lines.next_line().is_some() {}
    if let Some(line) = lines.invalid_utf8_line() {
        let message = "not valid UTF-8; invalid bytes replaced";
        run.problems
            .push(Problem::warning(&source.rel, Some(line), message));
    }
}

/// The first two non-blank lines of a CSV, the second with its newline only
/// when it has one: all [`read_header`] looks at, without holding the file.
fn first_lines(source: &SourceText) -> String {
    let mut lines = source.lines();
    let mut out = String::new();
    let mut found = 0;
    while let Some(line) = lines.next_line() {
        if line.text.trim().is_empty() {
            continue;
        }
        out.push_str(line.text);
        if !line.cut {
            out.push('\n');
        }
        found += 1;
        if found == 2 {
            break;
        }
    }
    out
}

/// The files read as a stream (and not held whole when large): the CSVs, not the params.
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    !is_params_name(rel)
}

/// `exp/lightning_logs/version_3` is run `exp/version_3` in `exp`'s parent group;
/// `logs/my_model/version_3` (a named CSVLogger) is `my_model/version_3` in `logs`.
fn name_lightning_version(run: &mut Run) {
    let parts: Vec<&str> = run.path.split('/').collect();
    let Some((&last, parents)) = parts.split_last() else {
        return;
    };
    let is_version = last
        .strip_prefix("version_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !is_version || parents.is_empty() {
        return;
    }
    let experiment_at = match parents {
        [.., _, "lightning_logs"] => parents.len() - 2,
        _ => parents.len() - 1,
    };
    let (date, experiment) = match split_dated_name(parents[experiment_at]) {
        Some((date, rest)) => (Some(date), rest),
        None => (None, parents[experiment_at].to_string()),
    };
    run.date = run.date.take().or(date);
    run.name = format!("{experiment}/{last}");
    run.group = parents[..experiment_at].join("/");
}

/// File names that may hold a metrics CSV (the header decides): any `.csv` or
/// `.log`, and a `.txt` only with a log-like name, so a text dataset is not sniffed file by file.
fn is_candidate_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let logish = ["log", "history", "metric", "result", "train"];
    lower.ends_with(".csv")
        || lower.ends_with(".log")
        || (lower.ends_with(".txt") && logish.iter().any(|w| lower.contains(w)))
}

fn is_params_name(name: &str) -> bool {
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Severity, Split, Status};

    const KERAS: &str = include_str!(
        "../../../tests/fixtures/realruns/keras_csvlogger/4hmetcakmak__BraTS2020CapstoneProject/training.log"
    );
    const YOLO: &str = include_str!(
        "../../../tests/fixtures/realruns/yolo_results/102y__Gallstone-Detection-using-YOLO-v11/results.csv"
    );
    const YOLO_ARGS: &str = include_str!(
        "../../../tests/fixtures/realruns/yolo_results/102y__Gallstone-Detection-using-YOLO-v11/args.yaml"
    );
    const LIGHTNING: &str = "epoch,lr-AdamW,step,train_loss,val_loss,val_acc\n\
                             0,0.0001,9,3.7,,\n0,0.0002,19,3.5,,\n0,,19,,3.9,0.02\n\
                             1,0.0003,29,3.1,,\n1,0.0,39,2.9,,\n1,,39,,3.2,0.2\n";

    fn text(dir: &str, name: &str, text: &str) -> SourceText {
        let rel = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        SourceText::from_text(&rel, text)
    }

    fn read(path: &str, texts: &[SourceText]) -> Vec<Run> {
        let group = path.rsplit_once('/').map_or("", |(g, _)| g);
        read_run(Run::new(path, group, "csv_logs"), texts)
    }

    fn series<'a>(run: &'a Run, name: &str) -> &'a crate::model::Series {
        let found = run.metrics.iter().find(|s| s.name == name);
        found.unwrap_or_else(|| panic!("no series {name}"))
    }

    #[test]
    fn real_keras_csvlogger_training_log() {
        let runs = read("brats", &[text("brats", "training.log", KERAS)]);
        let run = &runs[0];
        assert_eq!(run.format, "keras_csv");
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(run.metrics.len(), 11);
        let lr = series(run, "lr");
        assert_eq!(lr.points.len(), 24);
        assert_eq!((lr.points[0].step, lr.points[23].step), (0, 23));
        assert_eq!(lr.points[8].value, 4.0000003e-05);
        assert_eq!((lr.family, lr.split), (Family::LearningRate, Split::Other));
        assert_eq!(series(run, "val_loss").points[0].value, 0.05463637784123421);
        assert_eq!(series(run, "val_mean_io_u_5").split, Split::Val);
        assert_eq!(run.status, Status::Unknown);
        assert!(
            run.status_reason.contains("no planned length"),
            "{}",
            run.status_reason
        );
    }

    #[test]
    fn real_ultralytics_results_with_args() {
        let dir = "yolo/train";
        let runs = read(
            dir,
            &[
                text(dir, "args.yaml", YOLO_ARGS),
                text(dir, "results.csv", YOLO),
            ],
        );
        let run = &runs[0];
        assert_eq!(run.format, "ultralytics_csv");
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(run.metrics.len(), 19, "time is wall time, not a series");
        let box_loss = series(run, "train/box_loss");
        assert_eq!(box_loss.points.len(), 10);
        assert_eq!((box_loss.points[0].step, box_loss.points[9].step), (1, 10));
        assert_eq!(box_loss.points[9].wall_time, Some(6229.92));
        assert_eq!(box_loss.points[9].epoch, Some(10.0));
        assert_eq!(series(run, "metrics/mAP50-95(M)").points[9].value, 0.6148);
        assert_eq!(run.params["epochs"], 10);
        assert_eq!(run.params["save_dir"], "runs\\segment\\train");
        assert!(run.params["model"]
            .as_str()
            .unwrap()
            .starts_with("C://Users//NITRO//"));
        assert_eq!(run.status, Status::Completed);
        assert_eq!(
            run.status_reason,
            "reached its planned 10 epochs (last epoch 10)"
        );
    }

    #[test]
    fn lightning_version_is_named_after_its_experiment() {
        let dir = "sweep/2026-03-02_exp1/lightning_logs/version_3";
        let runs = read(
            dir,
            &[
                text(dir, "hparams.yaml", "{}\n"),
                text(dir, "metrics.csv", LIGHTNING),
            ],
        );
        let run = &runs[0];
        assert_eq!(run.format, "lightning_csv");
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(
            (run.name.as_str(), run.group.as_str()),
            ("exp1/version_3", "sweep")
        );
        assert_eq!(run.date.as_deref(), Some("2026-03-02"));
        assert_eq!(series(run, "val_loss").points.len(), 2);
        assert_eq!(
            series(run, "train_loss").points[3].step,
            40,
            "0-based 39, plus one"
        );
        assert_eq!(run.params, serde_json::json!({}));

        let dir = "logs/my_model/version_0";
        let hparams = text(dir, "hparams.yaml", "max_epochs: 2\n");
        let run = &read(dir, &[hparams, text(dir, "metrics.csv", LIGHTNING)])[0];
        assert_eq!(
            (run.name.as_str(), run.group.as_str()),
            ("my_model/version_0", "logs")
        );
        assert_eq!(run.status, Status::Completed, "{}", run.status_reason);
        let run = &read("version_0", &[text("version_0", "metrics.csv", LIGHTNING)])[0];
        assert_eq!(run.name, "version_0");
    }

    #[test]
    fn several_csvs_in_one_folder_are_several_runs() {
        let texts = [
            text("k", "config.yaml", "epochs: 2\n"),
            text("k", "fold1.csv", "epoch,loss\n0,1\n1,0.5\n"),
            text("k", "fold2.log", "epoch,loss\n0,1\n"),
        ];
        let runs = read("k", &texts);
        let got: Vec<_> = runs
            .iter()
            .map(|r| (r.path.as_str(), r.name.as_str(), r.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("k/fold1.csv", "fold1", Status::Completed),
                ("k/fold2.log", "fold2", Status::Unknown)
            ]
        );
        assert_eq!(runs[1].sources, vec!["k/config.yaml", "k/fold2.log"]);
    }

    #[test]
    fn candidate_names() {
        for yes in [
            "metrics.csv",
            "training.log",
            "HISTORY.CSV",
            "train_log.txt",
            "results.txt",
        ] {
            assert!(is_candidate_name(yes), "{yes}");
        }
        for no in [
            "notes.txt",
            "0001.txt",
            "hparams.yaml",
            "metrics.jsonl",
            "events.out",
        ] {
            assert!(!is_candidate_name(no), "{no}");
        }
    }

    #[test]
    fn a_file_that_lost_its_header_is_an_error() {
        let runs = read("k", &[text("k", "training.log", "garbage\n")]);
        assert_eq!(runs[0].problems[0].severity, Severity::Error);
        assert_eq!(runs[0].problems[0].line, Some(1));
    }

    #[test]
    fn mangled_fixtures_never_panic() {
        let mut state: u64 = 7;
        for fixture in [KERAS, YOLO, LIGHTNING] {
            let bytes = fixture.as_bytes();
            for cut in (0..bytes.len()).step_by(37) {
                let mut mangled = bytes[..cut].to_vec();
                for _ in 0..3 {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    if !mangled.is_empty() {
                        let at = (state >> 33) as usize % mangled.len();
                        let alphabet = b",\"\r\n-.e9x\xff";
                        mangled[at] = alphabet[(state >> 20) as usize % alphabet.len()];
                    }
                }
                let mangled = String::from_utf8_lossy(&mangled);
                let _ = read_header(&mangled);
                read("m", &[text("m", "results.csv", &mangled)]);
                let whole = format!("{}{}", &fixture[..fixture.len() / 2], mangled);
                read("m", &[text("m", "results.csv", &whole)]);
            }
        }
    }
}
