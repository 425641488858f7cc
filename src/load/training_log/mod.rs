//! The file-based layout (`training_log`): `training.log` (captured trainer stdout) and `validation.txt`.
//!
//! A captured log is not a data format, so this reader recognises lines by
//! what they say: the `Training configuration:` header, tqdm frames (many per
//! physical line, joined by `\r`, each with `loss=X` in its postfix),
//! `Validation loss: X`, checkpoint saves, warnings, errors and Python
//! tracebacks. Line numbers are physical lines, so a `\r`-joined line of a
//! thousand frames is one line, as an editor shows it. `validation.txt` holds
//! the validation question/answer samples and fills validation points the log
//! does not have; its answers may themselves say `Validation loss: ...`, so
//! only the last numeric such line of a block is its value.
//!
//! This module is the format's face: sniffing, its place in the table
//! ([`claim`], [`read_run`]) and the small text helpers both readers share.
//! `log` reads `training.log` line by line, with tqdm frames parsed in
//! `frames`, the `Training configuration:` block in `header`, and how the
//! run ended (errors, tracebacks, completion lines, final losses) in
//! `ending`; `validation` reads `validation.txt`.
//!
//! Pure: lines in (from a string, or streamed from a large file: see
//! [`Lines`](crate::load::lines::Lines)), the [`Run`] filled; nothing here
//! panics on any input.

mod ending;
mod frames;
mod header;
mod log;
mod validation;

#[cfg(test)]
mod fixtures;

pub use ending::final_losses;
pub use log::{read_training_lines, read_training_log};
pub use validation::{read_validation, read_validation_lines};

use crate::discover::FileEntry;
use crate::load::config::{params_file, read_params};
use crate::load::FolderView;
use crate::load::{file_named, SourceText};
use crate::model::{Problem, Run, Severity};

/// Series of the train loss read from tqdm postfixes.
const TRAIN_SERIES: &str = "loss";
/// Series of `Validation loss: X` lines (log and validation.txt).
const VALIDATION_SERIES: &str = "Validation loss";
/// Event messages are clipped to this many characters (a tqdm line can be 100 KB).
const MAX_MESSAGE_CHARS: usize = 2000;
/// After this many problems in one file the rest are summarized in one line.
const MAX_PROBLEMS_PER_FILE: usize = 50;

/// Claim `config.yaml` + `training.log` (captured stdout) + `validation.txt`.
///
/// Either file alone makes a run (a `training.log` only when it sniffs as
/// captured stdout); the params file joins whichever is there.
pub fn claim(view: &FolderView) -> Vec<FileEntry> {
    let folder = view.folder;
    let sniff = |f: &FileEntry| view.head(f);
    // A training.log with no text at all (empty, or NUL bytes from a crash) is
    // still this run's log: the run must appear with a problem, not vanish.
    let log = file_named(folder, "training.log").filter(|f| {
        let head = sniff(f);
        looks_like_training_log(&head) || head.chars().all(|c| c.is_whitespace() || c == '\0')
    });
    let validation = file_named(folder, "validation.txt");
    if log.is_none() && validation.is_none() {
        return Vec::new();
    }
    params_file(folder)
        .into_iter()
        .chain(log.cloned())
        .chain(validation.cloned())
        .collect()
}

/// Read a claimed folder's texts into one run.
pub fn read_run(mut run: Run, texts: &[SourceText]) -> Vec<Run> {
    // Order matters: the log's validation points come first, validation.txt only fills gaps.
    for source in texts {
        match source.name.as_str() {
            "training.log" => match blank(source) {
                Some(has_nul) => {
                    let what = if has_nul {
                        "holds only NUL bytes (a crash mid-write?)"
                    } else {
                        "is empty"
                    };
                    run.problems.push(Problem::warning(
                        &source.rel,
                        None,
                        format!("training.log {what}; nothing to read"),
                    ));
                }
                None => read_training_lines(&mut run, source.lines(), &source.rel),
            },
            "validation.txt" => read_validation_lines(&mut run, source.lines(), &source.rel),
            _ => read_params(&mut run, source),
        }
    }
    if !texts.iter().any(|t| t.name == "training.log") {
        run.status_reason = "no training.log beside validation.txt".to_string();
    }
    vec![run]
}

/// The files read line by line (and streamed when large): the log and validation.txt.
pub fn by_lines(_dir: &str, rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "training.log" || name == "validation.txt"
}

/// `Some(has NUL bytes)` when a file holds nothing but whitespace and NULs.
/// Reads up to its first other character, which in a log is its first line;
/// a file that cannot be read is not blank (its reader says why).
fn blank(source: &SourceText) -> Option<bool> {
    let mut lines = source.lines();
    let mut has_nul = false;
    while let Some(line) = lines.next_line() {
        for c in line.text.chars() {
            match c {
                '\0' => has_nul = true,
                c if c.is_whitespace() => {}
                _ => return None,
            }
        }
    }
    let unreadable = lines
        .into_problems()
        .iter()
        .any(|p| p.severity == Severity::Error);
    (!unreadable).then_some(has_nul)
}

/// True when the head of a file named `training.log` is captured trainer stdout.
///
/// False for a Keras CSVLogger file of the same name (`epoch,loss,val_loss`)
/// and for an MLX-LM console log (`Iter N: Train loss X`), which another reader owns.
pub fn looks_like_training_log(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let first = head
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if looks_like_csv_header(first) {
        return false;
    }
    let has_loss_frames = head
        .split(['\r', '\n'])
        .any(|seg| frames::is_frame(seg) && frames::find_loss(seg).is_some());
    if !has_loss_frames && head.contains(": Train loss ") && head.contains("Iter ") {
        return false;
    }
    let markers = [
        "Training configuration:",
        "Starting training",
        "Validation loss:",
        "Saving checkpoint",
        "Traceback (most recent call last)",
    ];
    has_loss_frames || markers.iter().any(|m| head.contains(m))
}

/// `epoch,loss,val_loss`: comma-separated names and nothing else.
fn looks_like_csv_header(line: &str) -> bool {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    fields.len() >= 2
        && fields.iter().all(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | '(' | ')'))
        })
}

/// The number at the start of `text` (`0.9418`, `nan`, `inf`), ignoring what follows it.
fn leading_number(text: &str) -> Option<f64> {
    let token = text.split_whitespace().next()?;
    token.trim_end_matches([',', ';', ')']).parse().ok()
}

/// `Q3: ...` -> (3, "..."); same for `A3:` with `letter` 'A'.
fn numbered_prefix(line: &str, letter: char) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix(letter)?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    let tail = rest[digits_end..].strip_prefix(':')?;
    (digits_end > 0).then(|| (&rest[..digits_end], tail))
}

/// At most `max` characters, marked with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Push `problem` unless this file already has [`MAX_PROBLEMS_PER_FILE`]; the
/// first one over the cap becomes a single line saying the rest are not listed.
fn push_capped(run: &mut Run, count: &mut usize, file: &str, problem: Problem) {
    *count += 1;
    if *count <= MAX_PROBLEMS_PER_FILE {
        run.problems.push(problem);
    } else if *count == MAX_PROBLEMS_PER_FILE + 1 {
        let message =
            format!("more than {MAX_PROBLEMS_PER_FILE} problems; the rest are not listed");
        run.problems.push(Problem::warning(file, None, message));
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{gen_corpus_log, read_log, values, VAL};
    use super::*;

    #[test]
    fn sniffs_captured_stdout_but_not_csv_or_mlx() {
        assert!(looks_like_training_log(&gen_corpus_log("")[..600]));
        assert!(looks_like_training_log(
            "\rTraining:  10%|█ | 10/100 [00:01<00:09, 9.1it/s, loss=2.1]"
        ));
        assert!(looks_like_training_log(
            "Loading data\nTraceback (most recent call last):\n"
        ));
        assert!(looks_like_training_log(
            "step 1\nSaving checkpoint to out/ckpt\n"
        ));
        assert!(!looks_like_training_log(
            "epoch,loss,val_loss\r\n0,0.5,0.6\r\n"
        ));
        assert!(!looks_like_training_log(
            "epoch,accuracy,dice_coef,loss,lr,mean_io_u_5,val_loss\r\n0,0.98,0.33,0.05,0.001,0.75,0.05\r\n"
        ));
        let mlx = "Loading pretrained model\nStarting training..., iters: 2\n\
                   Calculating loss...: 100%|██████████| 1/1 [00:01<00:00,  1.41s/it]\n\
                   Iter 1: Val loss 6.449, Val took 1.453s\nIter 1: Train loss 5.919, Learning Rate 1.000e-05\n";
        assert!(!looks_like_training_log(mlx));
        assert!(!looks_like_training_log(""));
        assert!(!looks_like_training_log(
            "step:1/100 val_loss:4.2 train_time:0ms"
        ));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let cases = [
            "",
            "\r",
            "\r\r\r\n\n",
            "\u{feff}",
            "loss=",
            "\rloss=1e999 %|",
            "Traceback (most recent call last):",
            "Training configuration:\n  : \n  ü: 1e400\n  big: 99999999999999999999999999\n",
            "\rTraining: 1%| | 99999999999999999999999/1 [loss=1]",
            "Validation at step 18446744073709551616\n",
            "Q1:\nA1:\nA2:\nQ",
            "Final training loss:",
            "Saving checkpoint checkpoint_step_",
            "Killed",
            "\u{0}\u{1}ÿ%|[it/s loss=é]\r\r",
        ];
        for text in cases {
            let mut run = read_log(text);
            read_validation(&mut run, text, VAL);
            let _ = looks_like_training_log(text);
            let _ = final_losses(text);
        }
        let big = read_log("\rTraining: 1%| | 1/100 [loss=1e999]\n  big: 1\n");
        assert_eq!(values(&big, "loss"), vec![(1, f64::INFINITY)]);
    }

    #[test]
    fn random_bytes_do_not_panic() {
        let alphabet =
            "Q1:A2 \n\r\t|%[]=/loss=nan0123456789.-ValidationTraceback Killed at step ✅█\u{0}";
        let chars: Vec<char> = alphabet.chars().collect();
        let words = [
            "Validation loss: ",
            "Validation at step ",
            "Traceback (most recent call last):\n",
            "  ",
            "loss=",
        ];
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for len in 0..300 {
            let mut text = String::new();
            for _ in 0..len {
                match next() % 10 {
                    0 => text.push_str(words[next() % words.len()]),
                    _ => text.push(chars[next() % chars.len()]),
                }
            }
            let mut run = read_log(&text);
            read_validation(&mut run, &text, VAL);
            let _ = looks_like_training_log(&text);
        }
    }
}
