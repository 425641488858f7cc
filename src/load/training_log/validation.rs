//! `validation.txt`: the validation question/answer samples, in blocks headed
//! `Validation at step N`, each ending in its `Validation loss: X` line.
//!
//! The samples become [`Sample`]s. A block's value fills the validation series
//! only at steps the log did not cover, since the log is read first and is
//! the record of the run. Answers may themselves say `Validation loss: ...`, so
//! a block's value is its last line that is `Validation loss:` and a number
//! and nothing else; everything else is sample text.

use super::{
    clip, numbered_prefix, push_capped, MAX_MESSAGE_CHARS, MAX_PROBLEMS_PER_FILE, VALIDATION_SERIES,
};
use crate::load::lines::Lines;
use crate::model::{Event, EventKind, Point, Problem, Run, Sample};
use std::collections::HashSet;

/// Read `validation.txt` into `run`: samples, and validation points for steps the log lacks.
pub fn read_validation(run: &mut Run, text: &str, file: &str) {
    read_validation_lines(run, Lines::from_str(text, file), file);
}

/// Read the lines of `validation.txt` into `run`, one block at a time.
///
/// A block is read when the next one starts, so only one is held. Its
/// problems wait until the end: the header lines' problems come first, as
/// when the blocks were read after the whole file.
pub fn read_validation_lines(run: &mut Run, mut lines: Lines<'_>, file: &str) {
    if !run.sources.iter().any(|s| s == file) {
        run.sources.push(file.to_string());
    }
    let mut known_steps: HashSet<u64> = run
        .metrics
        .iter()
        .filter(|s| s.name == VALIDATION_SERIES)
        .flat_map(|s| s.points.iter().map(|p| p.step))
        .collect();
    let mut problem_count = 0;
    let mut block_problems = Vec::new();
    let mut block: Option<Block> = None;
    let (mut any_block, mut any_text) = (false, false);
    while let Some(line) = lines.next_line() {
        let trimmed = line.text.trim();
        any_text |= !trimmed.is_empty();
        if let Some(rest) = trimmed.strip_prefix("Validation at step") {
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let step = digits.parse().ok();
            if step.is_none() {
                let message = format!("cannot read the step of {:?}", clip(trimmed, 80));
                push_capped(
                    run,
                    &mut problem_count,
                    file,
                    Problem::warning(file, Some(line.number), message),
                );
            }
            if let Some(done) = block.take() {
                read_block(run, &done, file, &mut known_steps, &mut block_problems);
            }
            any_block = true;
            block = Some(Block {
                header_line: line.number,
                step,
                lines: Vec::new(),
            });
        } else if trimmed.len() >= 3 && trimmed.chars().all(|c| c == '=') {
            // `====` rules frame the block headers; they are never part of an answer.
        } else if let Some(block) = block.as_mut() {
            block.lines.push((line.number, line.text.to_string()));
        }
    }
    if let Some(done) = block.take() {
        read_block(run, &done, file, &mut known_steps, &mut block_problems);
    }
    if !any_block && any_text {
        let message = "no \"Validation at step N\" block; nothing read";
        push_capped(
            run,
            &mut problem_count,
            file,
            Problem::warning(file, None, message),
        );
    }
    for problem in block_problems {
        push_capped(run, &mut problem_count, file, problem);
    }
    run.problems.extend(lines.into_problems());
}

/// One `Validation at step N` block of validation.txt.
struct Block {
    header_line: usize,
    step: Option<u64>,
    lines: Vec<(usize, String)>,
}

/// A question/answer pair being collected.
struct PendingSample {
    index: u32,
    line: usize,
    question: Vec<String>,
    answer: Option<Vec<String>>,
}

/// Read one block: its samples, and its value where no validation point is yet.
fn read_block(
    run: &mut Run,
    block: &Block,
    file: &str,
    known_steps: &mut HashSet<u64>,
    problems: &mut Vec<Problem>,
) {
    let value_at = block
        .lines
        .iter()
        .rposition(|(_, l)| block_value(l).is_some());
    let mut pending: Option<PendingSample> = None;
    let mut position = 0u32;
    for (i, (line_no, line)) in block.lines.iter().enumerate() {
        let (line_no, line) = (*line_no, line.as_str());
        if Some(i) == value_at {
            flush_sample(run, pending.take(), block.step, file);
            continue;
        }
        if let Some((digits, rest)) = numbered_prefix(line, 'Q') {
            flush_sample(run, pending.take(), block.step, file);
            position += 1;
            let index = digits.parse().unwrap_or(position);
            pending = Some(PendingSample {
                index,
                line: line_no,
                question: vec![rest.to_string()],
                answer: None,
            });
        } else if let Some((digits, rest)) = numbered_prefix(line, 'A') {
            let sample = pending.get_or_insert_with(|| PendingSample {
                index: digits.parse().unwrap_or(position),
                line: line_no,
                question: Vec::new(),
                answer: None,
            });
            sample
                .answer
                .get_or_insert_with(Vec::new)
                .push(rest.to_string());
        } else if let Some(sample) = pending.as_mut() {
            match sample.answer.as_mut() {
                Some(answer) => answer.push(line.to_string()),
                None => sample.question.push(line.to_string()),
            }
        }
    }
    flush_sample(run, pending, block.step, file);
    let Some(value_at) = value_at else {
        // Problems past the cap are only counted: keep no more than it shows.
        if problems.len() <= MAX_PROBLEMS_PER_FILE {
            let message = "validation block has no \"Validation loss: <number>\" line";
            problems.push(Problem::warning(file, Some(block.header_line), message));
        }
        return;
    };
    let (line_no, line) = (block.lines[value_at].0, block.lines[value_at].1.as_str());
    let value = block_value(line).unwrap_or(f64::NAN);
    // The log is read first; validation.txt only fills the steps it lacks.
    if let Some(step) = block.step.filter(|s| known_steps.insert(*s)) {
        run.push_point(VALIDATION_SERIES, file, Point::at(step, value));
        let message = clip(line.trim(), MAX_MESSAGE_CHARS);
        let event = Event {
            kind: EventKind::Validation,
            step: Some(step),
            message,
            file: file.into(),
            line: Some(line_no),
        };
        run.events.push(event);
    }
}

/// The value of a block's `Validation loss: 1.8395` line: a number and nothing else,
/// so an answer saying `Validation loss: 7 cats` is prose.
fn block_value(line: &str) -> Option<f64> {
    line.trim()
        .strip_prefix("Validation loss:")?
        .trim()
        .parse()
        .ok()
}

/// Push the sample being collected, if any, at the block's step.
fn flush_sample(run: &mut Run, pending: Option<PendingSample>, step: Option<u64>, file: &str) {
    if let Some(p) = pending {
        run.samples.push(Sample {
            step,
            index: p.index,
            question: p.question.join("\n").trim().to_string(),
            answer: p.answer.unwrap_or_default().join("\n").trim().to_string(),
            file: file.to_string(),
            line: p.line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::training_log::fixtures::{
        events, gen_corpus_log, gen_corpus_validation, values, COMPLETED_ENDING, LOG, VAL,
    };
    use crate::load::training_log::read_training_log;

    #[test]
    fn validation_txt_samples_and_values() {
        let text = gen_corpus_validation(&[(20, "2.5000"), (40, "2.0000")]);
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, &text, VAL);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(values(&run, "Validation loss"), vec![(20, 2.5), (40, 2.0)]);
        assert_eq!(run.samples.len(), 4);
        let first = &run.samples[0];
        assert_eq!(
            (first.step, first.index, first.file.as_str()),
            (Some(20), 1, VAL)
        );
        assert_eq!(first.question, "What is gravity?");
        assert_eq!(first.answer, "Ah, What is gravity? Step 20 says: it depends on the cat.\nValidation loss: is not a thing I know.");
        assert_eq!(
            text.lines().nth(first.line - 1),
            Some("Q1: What is gravity?")
        );
        let last = &run.samples[3];
        assert_eq!((last.step, last.index), (Some(40), 2));
        assert!(!last.answer.contains("2.0000"), "{}", last.answer);
        assert_eq!(events(&run, EventKind::Validation).len(), 2);
    }

    #[test]
    fn validation_txt_only_fills_gaps_left_by_the_log() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_training_log(&mut run, &gen_corpus_log(COMPLETED_ENDING), LOG);
        let text = gen_corpus_validation(&[
            (20, "9.0"),
            (40, "9.0"),
            (60, "9.0"),
            (80, "0.5"),
            (80, "0.7"),
        ]);
        read_validation(&mut run, &text, VAL);
        assert_eq!(
            values(&run, "Validation loss"),
            vec![(20, 2.5), (40, 2.0), (60, 1.5), (80, 0.5)]
        );
        assert_eq!(run.samples.len(), 10);
        assert_eq!(run.sources, vec![LOG.to_string(), VAL.to_string()]);
    }

    #[test]
    fn validation_block_without_value_and_multiline_answers() {
        let text = "====\r\nValidation at step 5\r\n====\r\nQ1: Tell me\r\na story\r\nA1: Once\r\n\r\nupon a time.\r\n\
                    Validation loss: 7 cats\r\nQ2: And?\r\nA2: The end.\r\n====\r\nValidation at step x\r\nQ1: q\r\n\
                    A1: a\r\nValidation loss: 1.0";
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, text, VAL);
        assert_eq!(run.samples[0].question, "Tell me\na story");
        assert_eq!(
            run.samples[0].answer,
            "Once\n\nupon a time.\nValidation loss: 7 cats"
        );
        assert_eq!(run.samples[1].answer, "The end.");
        assert_eq!(run.samples[2].step, None);
        let problems: Vec<_> = run
            .problems
            .iter()
            .map(|p| (p.line, p.file.as_str()))
            .collect();
        assert_eq!(problems, vec![(Some(13), VAL), (Some(2), VAL)]);
        assert!(run.problems[1].message.contains("no \"Validation loss"));
        assert!(values(&run, "Validation loss").is_empty());
    }

    #[test]
    fn validation_txt_without_blocks_is_a_warning() {
        let mut run = Run::new("runs/a", "runs", "training_log");
        read_validation(&mut run, "Q1: hi\nA1: there\n", VAL);
        assert_eq!(run.problems.len(), 1);
        assert!(run.samples.is_empty());
        read_validation(&mut run, "\n\n", VAL);
        assert_eq!(run.problems.len(), 1);
    }
}
