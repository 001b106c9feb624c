//! Byte-level text scanning shared by the readers: a block line reader, a whitespace
//! tokenizer and hand-written number parsers.
//!
//! Design: the readers never build a `String` per line. [`Lines`] reads its input in large
//! blocks into one reusable buffer and hands out each line as a borrowed `&[u8]` (newline
//! and a trailing carriage return removed), together with the absolute byte offset of the
//! line's first byte — the key that orders lines across ranks and that error reporting turns
//! back into a line number. [`Tokens`] splits a line on spaces and tabs without allocating,
//! and [`parse_uint`] / [`parse_weight`] convert tokens with error texts that quote the
//! offending token. Allocation happens only on the error path.

use std::io::{self, Read};
use std::ops::Range;

/// Size of one block read from the input, and the largest initial buffer.
pub(crate) const BLOCK: usize = 1 << 20;

/// How many characters of a line an error message quotes.
const LINE_EXCERPT_CHARS: usize = 80;
/// How many characters of a token an error message quotes.
const TOKEN_EXCERPT_CHARS: usize = 40;

/// Reads lines from a byte stream in large blocks.
///
/// Lines end at `\n`; a trailing `\r` is removed (CRLF files); the last line may lack its
/// newline. A line longer than the buffer makes the buffer grow.
pub(crate) struct Lines<'a> {
    inner: Box<dyn Read + 'a>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// `buf[pos..scanned]` is known to hold no newline.
    scanned: usize,
    /// Absolute offset of `buf[0]` in the input.
    base: u64,
    eof: bool,
    /// Lines returned so far.
    count: u64,
}

impl<'a> Lines<'a> {
    /// Reads lines from `inner`, whose first byte is at absolute offset `base`.
    /// `capacity` is the initial buffer size (a hint; the buffer grows for long lines).
    pub(crate) fn new(inner: Box<dyn Read + 'a>, base: u64, capacity: usize) -> Self {
        Lines {
            inner,
            buf: vec![0; capacity.clamp(64, BLOCK)],
            pos: 0,
            end: 0,
            scanned: 0,
            base,
            eof: false,
            count: 0,
        }
    }

    /// Absolute offset of the next line's first byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Number of lines returned so far (since creation or the last [`Lines::reset_count`]).
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Restarts the line count at zero.
    pub(crate) fn reset_count(&mut self) {
        self.count = 0;
    }

    /// The next line (without its line ending) and its absolute start offset, or `None` at
    /// the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        Ok(self.next_span()?.map(|(at, span)| (at, &self.buf[span])))
    }

    /// Like [`Lines::next_line`], but returns where the line lies in the buffer; read it with
    /// [`Lines::text`] before the next call. (A span, unlike a slice, does not keep `self`
    /// borrowed, which lets callers skip lines in a loop.)
    #[inline]
    pub(crate) fn next_span(&mut self) -> io::Result<Option<(u64, Range<usize>)>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.end]) {
                let start = self.pos;
                let stop = self.scanned + i;
                self.pos = stop + 1;
                self.scanned = self.pos;
                return Ok(Some(self.emit(start, stop)));
            }
            self.scanned = self.end;
            if self.eof {
                if self.pos == self.end {
                    return Ok(None);
                }
                let start = self.pos;
                self.pos = self.end;
                self.scanned = self.end;
                return Ok(Some(self.emit(start, self.end)));
            }
            self.fill()?;
        }
    }

    /// The text of a span returned by the last [`Lines::next_span`].
    pub(crate) fn text(&self, span: Range<usize>) -> &[u8] {
        &self.buf[span]
    }

    fn emit(&mut self, start: usize, mut stop: usize) -> (u64, Range<usize>) {
        if stop > start && self.buf[stop - 1] == b'\r' {
            stop -= 1;
        }
        self.count += 1;
        (self.base + start as u64, start..stop)
    }

    /// Reads one more block, moving the unconsumed tail to the front of the buffer first.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.scanned -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Separator bytes inside a line: space, tab, carriage return, vertical tab, form feed.
#[inline]
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// The first byte of a line that is not a separator, if any.
#[inline]
pub(crate) fn first_non_space(line: &[u8]) -> Option<u8> {
    line.iter().copied().find(|&b| !is_space(b))
}

/// Splits a line into whitespace-separated tokens, without allocating.
#[derive(Clone)]
pub(crate) struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(line: &'a [u8]) -> Self {
        Tokens { rest: line }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&b| !is_space(b))?;
        let rest = &self.rest[start..];
        let len = rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(len);
        self.rest = tail;
        Some(token)
    }
}

/// Parses an unsigned decimal integer; `what` names it in the error ("vertex id", ...).
#[inline]
pub(crate) fn parse_uint(token: &[u8], what: &str) -> Result<u64, String> {
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in token {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(format!(
                "expected {} {what}, found `{}`",
                article(what),
                show_token(token)
            ));
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if token.is_empty() {
        return Err(format!("expected {} {what}, found nothing", article(what)));
    }
    if overflow {
        return Err(format!(
            "{what} `{}` does not fit in 64 bits",
            show_token(token)
        ));
    }
    Ok(value)
}

fn article(noun: &str) -> &'static str {
    match noun.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

/// Parses a finite floating-point weight (decimal or exponent notation).
#[inline]
pub(crate) fn parse_weight(token: &[u8]) -> Result<f64, String> {
    std::str::from_utf8(token)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|w| w.is_finite())
        .ok_or_else(|| format!("weight `{}` is not a finite number", show_token(token)))
}

/// A token as quoted in an error message (lossy UTF-8, shortened).
pub(crate) fn show_token(token: &[u8]) -> String {
    excerpt(token, TOKEN_EXCERPT_CHARS)
}

/// A line as quoted in an error message (lossy UTF-8, shortened).
pub(crate) fn show_line(line: &[u8]) -> String {
    excerpt(line, LINE_EXCERPT_CHARS)
}

fn excerpt(bytes: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\r', '\n']);
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(text: &[u8], capacity: usize) -> Vec<(u64, Vec<u8>)> {
        let mut lines = Lines::new(Box::new(text), 0, capacity);
        let mut out = Vec::new();
        while let Some((at, line)) = lines.next_line().unwrap() {
            out.push((at, line.to_vec()));
        }
        assert_eq!(lines.count(), out.len() as u64);
        out
    }

    #[test]
    fn lines_split_on_newlines_and_strip_cr() {
        let text = b"a b\r\n\nlong line here\nlast";
        for capacity in [64, 4096] {
            let lines = all_lines(text, capacity);
            let expect: Vec<(u64, Vec<u8>)> = vec![
                (0, b"a b".to_vec()),
                (5, b"".to_vec()),
                (6, b"long line here".to_vec()),
                (21, b"last".to_vec()),
            ];
            assert_eq!(lines, expect);
        }
    }

    #[test]
    fn lines_longer_than_the_buffer_grow_it() {
        let mut text = vec![b'x'; 1000];
        text.push(b'\n');
        text.extend_from_slice(b"y\n");
        let lines = all_lines(&text, 64);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1.len(), 1000);
        assert_eq!(lines[1], (1001, b"y".to_vec()));
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(all_lines(b"", 64).is_empty());
        assert_eq!(all_lines(b"\n", 64), vec![(0, Vec::new())]);
    }

    #[test]
    fn tokens_split_on_spaces_and_tabs() {
        let t: Vec<&[u8]> = Tokens::new(b"  1\t2   3.5 \r").collect();
        assert_eq!(t, vec![&b"1"[..], b"2", b"3.5"]);
        assert_eq!(Tokens::new(b" \t ").count(), 0);
    }

    #[test]
    fn integers_parse_and_report_errors() {
        assert_eq!(parse_uint(b"0", "vertex id"), Ok(0));
        assert_eq!(
            parse_uint(b"18446744073709551615", "vertex id"),
            Ok(u64::MAX)
        );
        assert_eq!(
            parse_uint(b"18446744073709551616", "vertex id").unwrap_err(),
            "vertex id `18446744073709551616` does not fit in 64 bits"
        );
        assert_eq!(
            parse_uint(b"-3", "vertex id").unwrap_err(),
            "expected a vertex id, found `-3`"
        );
        assert_eq!(
            parse_uint(b"12a", "vertex id").unwrap_err(),
            "expected a vertex id, found `12a`"
        );
    }

    #[test]
    fn weights_must_be_finite() {
        assert_eq!(parse_weight(b"2.5"), Ok(2.5));
        assert_eq!(parse_weight(b"-1e3"), Ok(-1000.0));
        for bad in [&b"nan"[..], b"inf", b"-inf", b"x", b"1e999"] {
            assert!(
                parse_weight(bad)
                    .unwrap_err()
                    .contains("is not a finite number")
            );
        }
    }

    #[test]
    fn excerpts_are_shortened() {
        let long = "é".repeat(100);
        let shown = show_line(long.as_bytes());
        assert_eq!(shown.chars().count(), 81);
        assert!(shown.ends_with('…'));
        assert_eq!(show_line(b"short\r"), "short");
    }
}
