//! The lines of a text file, whether it is in memory or streamed from disk.
//!
//! A line-based reader (captured stdout, JSONL, metric TSVs) asks its
//! [`SourceText`] for [`Lines`] and gets the same lines whether the file was
//! read whole (small files, and the strings of unit tests) or is left on disk
//! because it is large. Peak memory then follows what the reader keeps, the
//! parsed series, not the size of the file. A streamed file is read in
//! [`CHUNK_BYTES`] chunks into one buffer that is split with `memchr`; a line
//! that straddles two chunks is moved to the front of the buffer and completed
//! by the next read. (Not a `BufReader`: its buffer cannot hold a line across
//! two fills, so every line would be copied out; ours is searched in place.)
//!
//! What each reader used to do on its own is done here once, the same way for
//! both sources: lines numbered from 1, a leading byte order mark dropped, the
//! `\r` of a CRLF removed, a last line without a newline kept, and whether the
//! file ended with one remembered (torn-write checks need it). With
//! [`Lines::pieces`] a physical line is also split at bare `\r`, tqdm's
//! redraws, so a line of a million frames is never held whole. Invalid UTF-8
//! in a streamed file is replaced and reported once, with the first line where
//! it happens, as a whole-file read reports it. A line (or piece) longer than
//! [`MAX_LINE_BYTES`] is skipped with a warning naming its line: a truncated
//! record would only be misread, and no input can make the buffer grow
//! without bound.
//!
//! [`SourceText`]: super::SourceText

use crate::model::Problem;
use std::borrow::Cow;
use std::io::Read;

/// The longest line (or `\r` piece) read; a longer one is skipped with a warning.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// How much of a streamed file is read at a time.
pub const CHUNK_BYTES: usize = 1 << 20;
/// Over-long lines warned about one by one; the rest are counted in one warning.
const MAX_LONG_LINE_WARNINGS: usize = 10;
/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One line, or with [`Lines::pieces`] one `\r`-separated piece of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line<'l> {
    /// The physical line it is on, from 1.
    pub number: usize,
    /// Its text without the line ending (invalid UTF-8 replaced).
    pub text: &'l str,
    /// True when it starts its physical line (always, without pieces).
    pub first: bool,
    /// True when it ends its physical line (always, without pieces).
    pub last: bool,
    /// True when it ends the file with no newline after it: a torn last write.
    pub cut: bool,
}

impl Line<'_> {
    /// True when it is its physical line whole (a line with no bare `\r`).
    pub fn whole(&self) -> bool {
        self.first && self.last
    }
}

/// Where the bytes come from.
enum Input<'a> {
    /// All of it is in the buffer already.
    Memory,
    /// More is read into the buffer as it is consumed.
    Stream(Box<dyn Read + 'a>),
}

/// A lending iterator over lines: call [`Lines::next_line`] until `None`,
/// then take the problems met on the way with [`Lines::into_problems`].
pub struct Lines<'a> {
    file: &'a str,
    input: Input<'a>,
    /// The text (memory) or the read buffer (stream); `start..end` is unread.
    buf: Cow<'a, [u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// The byte order mark was looked for.
    begun: bool,
    pieces: bool,
    max_line: usize,
    chunk: usize,
    /// Number of the current physical line (0 before the first).
    line: usize,
    at_line_start: bool,
    /// Dropping the rest of an over-long line (or piece).
    skipping: bool,
    ends_with_newline: bool,
    /// A lossy copy of the current line when it was not valid UTF-8.
    scratch: String,
    /// The first line that was not valid UTF-8.
    invalid_utf8: Option<usize>,
    long_lines: usize,
    last_long_line: usize,
    problems: Vec<Problem>,
}

impl<'a> Lines<'a> {
    /// The lines of a text in memory; `file` names it in problems.
    pub fn from_str(text: &'a str, file: &'a str) -> Lines<'a> {
        let mut lines = Lines::new(file, Input::Memory, Cow::Borrowed(text.as_bytes()));
        lines.end = text.len();
        lines.eof = true;
        lines
    }

    /// The lines read from `reader` as they are needed.
    pub fn from_reader(reader: impl Read + 'a, file: &'a str) -> Lines<'a> {
        Lines::new(
            file,
            Input::Stream(Box::new(reader)),
            Cow::Owned(Vec::new()),
        )
    }

    /// No lines: the file could not be opened (the problem says why).
    pub fn unreadable(file: &'a str, problem: Problem) -> Lines<'a> {
        let mut lines = Lines::from_str("", file);
        lines.problems.push(problem);
        lines
    }

    fn new(file: &'a str, input: Input<'a>, buf: Cow<'a, [u8]>) -> Lines<'a> {
        Lines {
            file,
            input,
            buf,
            start: 0,
            end: 0,
            eof: false,
            begun: false,
            pieces: false,
            max_line: MAX_LINE_BYTES,
            chunk: CHUNK_BYTES,
            line: 0,
            at_line_start: true,
            skipping: false,
            ends_with_newline: false,
            scratch: String::new(),
            invalid_utf8: None,
            long_lines: 0,
            last_long_line: 0,
            problems: Vec::new(),
        }
    }

    /// Also split each physical line at bare `\r` (a `\r` not before `\n`):
    /// each piece is yielded on its own, with its line's number.
    pub fn pieces(mut self) -> Self {
        self.pieces = true;
        self
    }

    /// Lines up to `max_line` bytes instead of [`MAX_LINE_BYTES`], for a
    /// format whose one line is one run (a Trackio dataset row).
    pub fn longest(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    /// Smaller limits than the defaults, for tests of lines across chunks.
    #[cfg(test)]
    pub(crate) fn with_limits(mut self, chunk: usize, max_line: usize) -> Self {
        self.chunk = chunk.max(1);
        self.max_line = max_line;
        self
    }

    /// The first line met so far that was not valid UTF-8.
    pub fn invalid_utf8_line(&self) -> Option<usize> {
        self.invalid_utf8
    }

    /// True when the last byte read was a newline (false for an empty file).
    pub fn ends_with_newline(&self) -> bool {
        self.ends_with_newline
    }

    /// Everything wrong met so far (unreadable bytes, over-long lines, invalid UTF-8).
    pub fn into_problems(mut self) -> Vec<Problem> {
        if self.long_lines > MAX_LONG_LINE_WARNINGS {
            let message = format!(
                "{} more lines over the {} line limit skipped",
                self.long_lines - MAX_LONG_LINE_WARNINGS,
                size_text(self.max_line)
            );
            self.problems
                .push(Problem::warning(self.file, None, message));
        }
        self.problems
    }

    /// The next line (or piece), or `None` at the end of the file.
    pub fn next_line(&mut self) -> Option<Line<'_>> {
        if !self.begun {
            self.begin();
        }
        loop {
            let Some(found) = self.find_end() else {
                if self.eof {
                    return None;
                }
                self.refill();
                continue;
            };
            let at = self.start;
            self.start += found.consumed;
            let first = self.at_line_start;
            if first {
                self.line += 1;
            }
            self.at_line_start = found.last;
            self.ends_with_newline = found.last && found.newline;
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            if found.raw > self.max_line {
                self.long_line(self.line);
                continue;
            }
            let line = Line {
                number: self.line,
                text: "",
                first,
                last: found.last,
                cut: found.last && !found.newline,
            };
            let bytes = &self.buf[at..at + found.len];
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    if self.invalid_utf8.is_none() {
                        self.invalid_utf8 = Some(self.line);
                        self.problems.push(Problem::warning(
                            self.file,
                            Some(self.line),
                            "not valid UTF-8; invalid bytes replaced",
                        ));
                    }
                    self.scratch = String::from_utf8_lossy(bytes).into_owned();
                    &self.scratch
                }
            };
            return Some(Line { text, ..line });
        }
    }

    /// Drop a leading byte order mark.
    fn begin(&mut self) {
        self.begun = true;
        while self.end - self.start < BOM.len() && !self.eof {
            self.refill();
        }
        if self.buf[self.start..self.end].starts_with(BOM) {
            self.start += BOM.len();
        }
    }

    /// Where the line (or piece) at `start` ends, when the buffer holds its end.
    ///
    /// `None` means more must be read first (or, at the end of the file, that
    /// nothing is left). A line that cannot end within the limit is reported
    /// here and its bytes so far dropped.
    fn find_end(&mut self) -> Option<Found> {
        let window = &self.buf[self.start..self.end];
        let hit = if self.pieces {
            memchr::memchr2(b'\n', b'\r', window)
        } else {
            memchr::memchr(b'\n', window)
        };
        let pending = match hit {
            Some(i) if window[i] == b'\n' => {
                let cr = !self.pieces && i > 0 && window[i - 1] == b'\r';
                return Some(Found::new(i, i - usize::from(cr), i + 1, true, true));
            }
            Some(i) => match window.get(i + 1) {
                Some(b'\n') => return Some(Found::new(i, i, i + 2, true, true)),
                Some(_) => return Some(Found::new(i, i, i + 1, false, false)),
                None if self.eof => return Some(Found::new(i, i, i + 1, true, false)),
                // A `\r` last in the buffer: whether `\n` follows is not known yet.
                None => i,
            },
            // The end of the file in the middle of an over-long line.
            None if window.is_empty() && self.eof && self.skipping => {
                return Some(Found::new(0, 0, 0, true, false));
            }
            None if window.is_empty() => return None,
            None if self.eof => {
                let cr = window.ends_with(b"\r");
                let n = window.len();
                return Some(Found::new(n, n - usize::from(cr), n, true, false));
            }
            None => window.len(),
        };
        if pending > self.max_line && !self.skipping {
            self.long_line(self.line + usize::from(self.at_line_start));
            self.skipping = true;
        }
        if self.skipping {
            self.start += pending;
        }
        None
    }

    /// Report line `number` as over-long (once per line, the first few lines).
    fn long_line(&mut self, number: usize) {
        if number == self.last_long_line {
            return;
        }
        self.last_long_line = number;
        self.long_lines += 1;
        if self.long_lines <= MAX_LONG_LINE_WARNINGS {
            let message = format!(
                "line is longer than the {} line limit; skipped",
                size_text(self.max_line)
            );
            self.problems
                .push(Problem::warning(self.file, Some(number), message));
        }
    }

    /// Move the unread bytes to the front of the buffer and read more after them.
    fn refill(&mut self) {
        let Input::Stream(reader) = &mut self.input else {
            self.eof = true;
            return;
        };
        let buf = self.buf.to_mut();
        buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if buf.len() < self.end + self.chunk {
            buf.resize(self.end + self.chunk, 0);
        }
        loop {
            match reader.read(&mut buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let line = self.line + usize::from(self.at_line_start);
                    let message = format!("cannot read past this line: {e}");
                    self.problems
                        .push(Problem::error(self.file, Some(line), message));
                    self.eof = true;
                }
            }
            return;
        }
    }
}

/// How a line (or piece) found in the buffer ends.
struct Found {
    /// Its length up to the delimiter (a CRLF's `\r` included), checked against the limit.
    raw: usize,
    /// Its text's length (a CRLF's `\r` excluded).
    len: usize,
    /// Bytes it takes up in the buffer, its ending included.
    consumed: usize,
    /// It ends its physical line.
    last: bool,
    /// Its line ended with `\n` (not with the end of the file).
    newline: bool,
}

impl Found {
    fn new(raw: usize, len: usize, consumed: usize, last: bool, newline: bool) -> Found {
        Found {
            raw,
            len,
            consumed,
            last,
            newline,
        }
    }
}

/// `16 MiB`, `64 KiB`, `100 bytes`.
fn size_text(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests;
