//! The splitter on its own: line endings, pieces, chunk boundaries, invalid
//! UTF-8 and over-long lines, streamed and in memory alike.

use super::*;
use crate::model::Severity;

const FILE: &str = "runs/a/train.log";

/// (number, text, first, last, cut) of every line.
type Got = Vec<(usize, String, bool, bool, bool)>;

fn collect(mut lines: Lines<'_>) -> (Got, bool, Vec<Problem>) {
    let mut got = Vec::new();
    while let Some(l) = lines.next_line() {
        got.push((l.number, l.text.to_string(), l.first, l.last, l.cut));
    }
    let newline = lines.ends_with_newline();
    (got, newline, lines.into_problems())
}

fn memory(text: &str, pieces: bool) -> (Got, bool, Vec<Problem>) {
    let lines = Lines::from_str(text, FILE);
    collect(if pieces { lines.pieces() } else { lines })
}

fn streamed(
    bytes: &[u8],
    pieces: bool,
    chunk: usize,
    max_line: usize,
) -> (Got, bool, Vec<Problem>) {
    let lines = Lines::from_reader(bytes, FILE).with_limits(chunk, max_line);
    collect(if pieces { lines.pieces() } else { lines })
}

/// What the readers did before: split at `\n`, drop a CRLF's `\r`, split at `\r`.
fn reference(text: &str, pieces: bool) -> Got {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parts: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    for (i, raw) in parts.iter().enumerate() {
        let cut = i == parts.len() - 1;
        if cut && raw.is_empty() {
            break; // nothing after the final newline
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let split: Vec<&str> = if pieces {
            line.split('\r').collect()
        } else {
            vec![line]
        };
        let n = split.len();
        for (j, piece) in split.into_iter().enumerate() {
            let last = j == n - 1;
            out.push((i + 1, piece.to_string(), j == 0, last, cut && last));
        }
    }
    out
}

fn texts(got: &Got) -> Vec<(usize, &str)> {
    got.iter().map(|l| (l.0, l.1.as_str())).collect()
}

#[test]
fn crlf_blank_lines_bom_and_no_final_newline() {
    let text = "\u{feff}first\r\n\r\nthird\nlast";
    let (got, newline, problems) = memory(text, false);
    assert_eq!(
        texts(&got),
        vec![(1, "first"), (2, ""), (3, "third"), (4, "last")]
    );
    assert!(got[3].4, "the last line is cut");
    assert!(!got[2].4);
    assert!(!newline);
    assert!(problems.is_empty());
    let (got, newline, _) = memory("a\r\nb\n", false);
    assert_eq!(texts(&got), vec![(1, "a"), (2, "b")]);
    assert!(newline);
    assert!(!got[1].4);
    assert_eq!(memory("", false).0, vec![]);
    assert!(!memory("", false).1);
}

#[test]
fn a_bare_cr_stays_inside_a_line_unless_pieces_are_asked_for() {
    let text = "\rTraining: 1/9 [loss=2]\rTraining: 2/9 [loss=1]\r\nValidation loss: 3\r\n";
    let (got, _, _) = memory(text, false);
    assert_eq!(
        texts(&got)[0].1,
        "\rTraining: 1/9 [loss=2]\rTraining: 2/9 [loss=1]"
    );
    let (got, _, _) = memory(text, true);
    assert_eq!(
        got,
        vec![
            (1, "".into(), true, false, false),
            (1, "Training: 1/9 [loss=2]".into(), false, false, false),
            (1, "Training: 2/9 [loss=1]".into(), false, true, false),
            (2, "Validation loss: 3".into(), true, true, false),
        ]
    );
    assert!(got[3].2 && got[3].3, "a line without a bare \\r is whole");
}

#[test]
fn lines_across_chunk_boundaries_match_the_old_splitting() {
    let text =
        "\u{feff}Training configuration:\r\n  Model: x\n\rTraining: 1%| | 1/9 [00:01, loss=2.0]\
                \rTraining: 2%| | 2/9 [00:02, loss=1.9]\n\nValidation loss: 1.5\r\n\r\r\n\
                é ü ✅ █\rlast\r";
    for pieces in [false, true] {
        let want = reference(text, pieces);
        assert_eq!(memory(text, pieces).0, want, "pieces {pieces}");
        for chunk in 1..=9 {
            let (got, newline, problems) = streamed(text.as_bytes(), pieces, chunk, 1000);
            assert_eq!(got, want, "pieces {pieces}, chunk {chunk}");
            assert!(!newline);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }
}

#[test]
fn random_texts_split_alike_streamed_in_memory_and_by_the_old_code() {
    let alphabet: Vec<char> = "ab \r\n\r\né\u{feff}".chars().collect();
    let mut state: u64 = 11;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for len in 0..200 {
        let text: String = (0..len)
            .map(|_| alphabet[next() % alphabet.len()])
            .collect();
        let chunk = 1 + next() % 7;
        for pieces in [false, true] {
            let want = reference(&text, pieces);
            let (got, newline, _) = memory(&text, pieces);
            assert_eq!(got, want, "{text:?}");
            assert_eq!(newline, text.ends_with('\n'), "{text:?}");
            let (got, newline, _) = streamed(text.as_bytes(), pieces, chunk, 1000);
            assert_eq!(got, want, "{text:?} chunk {chunk}");
            assert_eq!(newline, text.ends_with('\n'), "{text:?}");
        }
    }
}

#[test]
fn invalid_utf8_is_replaced_and_reported_once_at_its_first_line() {
    let bytes = b"ok\nstill ok\r\nbad \xff here\nfine\nbad \xc3 again\n";
    for chunk in [1, 2, 3, 5, 64] {
        for pieces in [false, true] {
            let (got, _, problems) = streamed(bytes, pieces, chunk, 1000);
            let lossy = String::from_utf8_lossy(bytes);
            assert_eq!(got, reference(&lossy, pieces), "chunk {chunk}");
            assert_eq!(got[2].1, "bad \u{fffd} here");
            assert_eq!(problems.len(), 1, "{problems:?}");
            let p = &problems[0];
            assert_eq!((p.severity, p.line), (Severity::Warning, Some(3)));
            assert_eq!(p.file, FILE);
            assert_eq!(p.message, "not valid UTF-8; invalid bytes replaced");
        }
    }
}

#[test]
fn an_over_long_line_is_skipped_and_reported_with_its_line() {
    let long = "x".repeat(25);
    let text = format!("short\n{long}\nafter\n{long}\r\n{long}");
    for chunk in [1, 3, 4, 7, 64] {
        let (got, newline, problems) = streamed(text.as_bytes(), false, chunk, 10);
        assert_eq!(
            texts(&got),
            vec![(1, "short"), (3, "after")],
            "chunk {chunk}"
        );
        assert!(!newline, "the last (skipped) line had no newline");
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(2), Some(4), Some(5)], "chunk {chunk}");
        assert!(problems.iter().all(|p| p.file == FILE));
        assert_eq!(
            problems[0].message,
            "line is longer than the 10 bytes line limit; skipped"
        );
    }
    let in_memory = collect(Lines::from_str(&text, FILE).with_limits(4, 10));
    assert_eq!(in_memory, streamed(text.as_bytes(), false, 4, 10));
}

#[test]
fn an_over_long_piece_is_skipped_and_its_line_goes_on() {
    let text = format!("\rshort 1\r{}\rshort 2\nnext\n", "y".repeat(40));
    for chunk in [1, 2, 5, 64] {
        let (got, _, problems) = streamed(text.as_bytes(), true, chunk, 10);
        assert_eq!(
            texts(&got),
            vec![(1, ""), (1, "short 1"), (1, "short 2"), (2, "next")]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(1));
    }
}

#[test]
fn the_buffer_never_grows_past_the_line_limit() {
    let text = format!("a\n{}\nb\n", "z".repeat(100_000));
    let mut lines = Lines::from_reader(text.as_bytes(), FILE).with_limits(64, 1000);
    let mut got = Vec::new();
    while let Some(l) = lines.next_line() {
        got.push(l.text.to_string());
    }
    assert_eq!(got, vec!["a", "b"]);
    assert!(lines.buf.len() <= 1000 + 64 + 1, "{}", lines.buf.len());
}

#[test]
fn many_over_long_lines_are_counted_after_the_first_ten() {
    let text = "0123456789ab\n".repeat(15);
    let (got, _, problems) = streamed(text.as_bytes(), false, 8, 10);
    assert!(got.is_empty());
    assert_eq!(problems.len(), 11);
    assert_eq!(problems[9].line, Some(10));
    assert_eq!(
        problems[10].message,
        "5 more lines over the 10 bytes line limit skipped"
    );
}

/// A reader that fails after its first bytes.
struct Failing(&'static [u8]);

impl std::io::Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = self.0.len().min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_read_error_ends_the_lines_with_an_error_naming_the_line() {
    let lines = Lines::from_reader(Failing(b"one\ntwo\nthr"), FILE);
    let (got, _, problems) = collect(lines);
    assert_eq!(texts(&got), vec![(1, "one"), (2, "two"), (3, "thr")]);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].severity, problems[0].line),
        (Severity::Error, Some(3))
    );
    assert!(
        problems[0].message.contains("disk on fire"),
        "{}",
        problems[0].message
    );
}
