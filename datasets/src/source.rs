//! Where a rank's lines come from: byte ranges of a plain file, or a round-robin share of a
//! decompressed gzip stream.
//!
//! **Plain text** (a file or bytes in memory): rank `r` of `n` owns the lines whose first
//! byte lies in `[len*r/n, len*(r+1)/n)`. It seeks to one byte before its range, skips to
//! the next newline (unless that byte already is one), and reads until the first line that
//! starts at or after the range end, finishing the line it is in. Every line is owned by
//! exactly one rank, and no rank reads much more than its share.
//!
//! **Gzip** (detected by the magic bytes `1f 8b`): a deflate stream cannot be entered in the
//! middle, so every rank decompresses the whole stream and keeps the data lines whose index
//! (counting only data lines, in file order) is `rank` modulo `n`. Decompression is repeated
//! on every rank; parsing is not.
//!
//! Headers (METIS, Matrix Market) are read by every rank from the start of the input; data
//! lines begin after the header line, whatever range a rank owns.
//!
//! Line numbers: a rank reading a byte range does not know how many lines precede it, and
//! counting them up front would mean reading the whole prefix. Positions are therefore kept
//! as "lines since the rank began", and only an error turns one into a file line number by
//! counting the newlines in the prefix.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use gasket_engine::comm::Comm;

use crate::error::DatasetError;
use crate::text::{BLOCK, Lines, show_line};

/// The two magic bytes that start every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An input: a file or bytes in memory, plain text or gzip.
pub(crate) struct Source<'a> {
    name: PathBuf,
    data: Data<'a>,
    gzip: bool,
}

#[derive(Clone, Copy)]
enum Data<'a> {
    File { path: &'a Path, len: u64 },
    Bytes(&'a [u8]),
}

impl<'a> Source<'a> {
    /// Opens a file (only to learn its length and first bytes).
    ///
    /// A file whose name ends in `.gz` but that does not start with the gzip magic bytes is
    /// a [`DatasetError::Gzip`] error.
    pub(crate) fn file(path: &'a Path) -> Result<Self, DatasetError> {
        let io_err = |source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut magic = [0u8; 2];
        let gzip = len >= 2 && {
            file.read_exact(&mut magic).map_err(io_err)?;
            magic == GZIP_MAGIC
        };
        let named_gz = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if named_gz && !gzip {
            return Err(DatasetError::Gzip {
                path: path.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the file does not start with the gzip magic bytes 1f 8b",
                ),
            });
        }
        Ok(Source {
            name: path.to_path_buf(),
            data: Data::File { path, len },
            gzip,
        })
    }

    /// Bytes in memory; gzip when they start with the gzip magic bytes.
    pub(crate) fn bytes(name: &str, bytes: &'a [u8]) -> Self {
        Source {
            name: PathBuf::from(name),
            data: Data::Bytes(bytes),
            gzip: bytes.starts_with(&GZIP_MAGIC),
        }
    }

    /// The name errors use.
    pub(crate) fn name(&self) -> &Path {
        &self.name
    }

    /// True for a gzip input (read as a round-robin stream).
    pub(crate) fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Length in bytes of a plain input.
    fn len(&self) -> u64 {
        match self.data {
            Data::File { len, .. } => len,
            Data::Bytes(b) => b.len() as u64,
        }
    }

    /// Turns a read error into the right error kind for this input.
    pub(crate) fn read_error(&self, source: io::Error) -> DatasetError {
        if self.gzip {
            DatasetError::Gzip {
                path: self.name.clone(),
                source,
            }
        } else {
            DatasetError::Io {
                path: self.name.clone(),
                source,
            }
        }
    }

    /// Lines of the input from its start: the decompressed text for gzip, the raw bytes
    /// otherwise.
    pub(crate) fn lines_from_start(&self) -> Result<Lines<'a>, DatasetError> {
        if self.gzip {
            let reader: Box<dyn Read + 'a> = match self.data {
                Data::File { path, .. } => {
                    let file = File::open(path).map_err(|e| self.read_error(e))?;
                    Box::new(flate2::bufread::MultiGzDecoder::new(
                        BufReader::with_capacity(BLOCK, file),
                    ))
                }
                Data::Bytes(b) => Box::new(flate2::bufread::MultiGzDecoder::new(b)),
            };
            Ok(Lines::new(reader, 0, BLOCK))
        } else {
            self.plain_lines_at(0)
        }
    }

    /// The whole input, decompressed when it is gzip (binary formats such as IDX).
    pub(crate) fn read_all(&self) -> Result<Vec<u8>, DatasetError> {
        let mut out = Vec::new();
        let mut reader: Box<dyn Read + 'a> = match (self.data, self.gzip) {
            (Data::File { path, .. }, gzip) => {
                let file = File::open(path).map_err(|e| self.read_error(e))?;
                if gzip {
                    Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
                } else {
                    Box::new(file)
                }
            }
            (Data::Bytes(b), true) => Box::new(flate2::bufread::MultiGzDecoder::new(b)),
            (Data::Bytes(b), false) => Box::new(b),
        };
        reader
            .read_to_end(&mut out)
            .map_err(|e| self.read_error(e))?;
        Ok(out)
    }

    /// Lines of a plain input starting at byte `offset`.
    fn plain_lines_at(&self, offset: u64) -> Result<Lines<'a>, DatasetError> {
        debug_assert!(!self.gzip);
        let remaining = self.len().saturating_sub(offset);
        let capacity = usize::try_from(remaining.saturating_add(1)).unwrap_or(BLOCK);
        let reader: Box<dyn Read + 'a> = match self.data {
            Data::File { path, .. } => {
                let mut file = File::open(path).map_err(|e| self.read_error(e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| self.read_error(e))?;
                Box::new(file)
            }
            Data::Bytes(b) => Box::new(&b[(offset as usize).min(b.len())..]),
        };
        Ok(Lines::new(reader, offset, capacity))
    }

    /// Lines of a plain input from the first line that starts at or after byte `lo > 0`
    /// (the end of the line running through `lo` belongs to the range before it).
    fn lines_of_range(&self, lo: u64) -> Result<Lines<'a>, DatasetError> {
        let mut lines = self.plain_lines_at(lo - 1)?;
        lines.next_line().map_err(|e| self.read_error(e))?;
        lines.reset_count();
        Ok(lines)
    }

    /// Number of `\n` bytes before `offset` in a plain input (the error path only).
    fn newlines_before(&self, offset: u64) -> Result<u64, DatasetError> {
        match self.data {
            Data::Bytes(b) => Ok(memchr::memchr_iter(b'\n', &b[..offset as usize]).count() as u64),
            Data::File { path, .. } => {
                let file = File::open(path).map_err(|e| self.read_error(e))?;
                let mut prefix = file.take(offset);
                let mut buf = vec![0u8; BLOCK];
                let mut count = 0u64;
                loop {
                    let n = match prefix.read(&mut buf) {
                        Ok(0) => return Ok(count),
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(self.read_error(e)),
                    };
                    count += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                }
            }
        }
    }
}

/// Which lines count as data (as opposed to comments and, for most formats, blank lines);
/// data lines are the unit of round-robin distribution.
pub(crate) type IsData = fn(&[u8]) -> bool;

/// Where a rank's lines begin, to turn "n-th line since the start" into a file line number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    /// Absolute offset of the first line the rank read (a line start).
    begin: u64,
    /// Lines before `begin`, when known without counting.
    lines_before: Option<u64>,
}

impl Origin {
    /// The origin of a reader that starts at the top of the input.
    pub(crate) fn top() -> Self {
        Origin {
            begin: 0,
            lines_before: Some(0),
        }
    }

    /// The 1-based file line number of the `count`-th line (1-based) read from this origin.
    pub(crate) fn line_number(&self, source: &Source<'_>, count: u64) -> Result<u64, DatasetError> {
        let before = match self.lines_before {
            Some(n) => n,
            None => source.newlines_before(self.begin)?,
        };
        Ok(before + count)
    }

    /// A parse error for the `count`-th line read from this origin.
    pub(crate) fn error(
        &self,
        source: &Source<'_>,
        count: u64,
        text: &[u8],
        reason: String,
    ) -> DatasetError {
        match self.line_number(source, count) {
            Ok(line) => DatasetError::Parse {
                path: source.name().to_path_buf(),
                line,
                text: show_line(text),
                reason,
            },
            Err(e) => e,
        }
    }
}

/// One data line of a rank's share.
pub(crate) struct DataLine<'l> {
    /// The line, without its line ending.
    pub(crate) text: &'l [u8],
    /// Absolute offset of its first byte (orders lines across ranks).
    pub(crate) at: u64,
    /// Its number among the lines read from the share's [`Origin`] (1-based).
    pub(crate) count: u64,
    /// Its index among the data lines the share has seen (0-based; in round-robin mode this
    /// is the index in the whole file).
    pub(crate) index: u64,
    /// Whether this rank owns (parses) the line; always true for byte ranges.
    pub(crate) mine: bool,
}

/// The data lines a rank reads: its byte range, or every line of a stream with ownership
/// marked round-robin.
pub(crate) struct Share<'a> {
    lines: Lines<'a>,
    /// Lines starting at or after this offset belong to the next rank.
    stop_at: u64,
    /// `(rank, size)` in round-robin mode.
    round_robin: Option<(u64, u64)>,
    is_data: IsData,
    data_seen: u64,
    origin: Origin,
}

impl<'a> Share<'a> {
    /// The share of `comm`'s rank. `header` is the reader that parsed the header (it stands
    /// at `header_end`, after `header_lines` lines), or a fresh reader at the top for a
    /// format without a header. Plain inputs are split by byte range, gzip round-robin.
    pub(crate) fn new(
        source: &Source<'a>,
        mut header: Lines<'a>,
        is_data: IsData,
        comm: &dyn Comm,
    ) -> Result<Self, DatasetError> {
        let header_end = header.offset();
        let header_lines = header.count();
        let (rank, size) = (comm.rank() as u64, comm.size() as u64);
        if source.is_gzip() {
            header.reset_count();
            return Ok(Share {
                lines: header,
                stop_at: u64::MAX,
                round_robin: Some((rank, size)),
                is_data,
                data_seen: 0,
                origin: Origin {
                    begin: header_end,
                    lines_before: Some(header_lines),
                },
            });
        }
        header.reset_count();
        let header_at = (header_end, header_lines);
        Self::piece(source, Some(header), header_at, is_data, (rank, size))
    }

    /// Part `part` of `parts` of this rank's byte range of a plain (not gzip) input whose
    /// header ends at offset `header.0` after `header.1` lines. The parts split the range
    /// into consecutive byte ranges on line boundaries, so they can be parsed at once on
    /// several threads, each with its own reader, and their lines concatenated in part
    /// order are the rank's lines in file order. Parts of a rank with more parts than
    /// lines are empty.
    pub(crate) fn part(
        source: &Source<'a>,
        header: (u64, u64),
        is_data: IsData,
        comm: &dyn Comm,
        (part, parts): (u64, u64),
    ) -> Result<Self, DatasetError> {
        debug_assert!(!source.is_gzip() && part < parts);
        let (rank, size) = (comm.rank() as u64, comm.size() as u64);
        Self::piece(
            source,
            None,
            header,
            is_data,
            (rank * parts + part, size * parts),
        )
    }

    /// Piece `i` of `n` equal byte ranges of a plain input, on line boundaries. A piece
    /// that starts inside the header starts after it, with the header's reader when given
    /// (it stands there) or a new one.
    fn piece(
        source: &Source<'a>,
        header: Option<Lines<'a>>,
        (header_end, header_lines): (u64, u64),
        is_data: IsData,
        (i, n): (u64, u64),
    ) -> Result<Self, DatasetError> {
        let (lo, hi) = byte_range(source.len(), i, n);
        let (lines, lines_before) = match header {
            _ if lo > header_end => (source.lines_of_range(lo)?, None),
            Some(lines) => (lines, Some(header_lines)),
            None => (source.plain_lines_at(header_end)?, Some(header_lines)),
        };
        let begin = lines.offset();
        Ok(Share {
            lines,
            stop_at: hi,
            round_robin: None,
            is_data,
            data_seen: 0,
            origin: Origin {
                begin,
                lines_before,
            },
        })
    }

    /// Where this share's line counts start.
    pub(crate) fn origin(&self) -> Origin {
        self.origin
    }

    /// Data lines seen so far (owned or not).
    pub(crate) fn data_seen(&self) -> u64 {
        self.data_seen
    }

    /// True in round-robin (gzip) mode, where the share sees every line of the file.
    pub(crate) fn sees_whole_file(&self) -> bool {
        self.round_robin.is_some()
    }

    /// The next data line, or `None` at the end of the share. Read errors are `io::Error`s
    /// for the caller to classify with [`Source::read_error`].
    #[inline]
    pub(crate) fn next_data(&mut self) -> io::Result<Option<DataLine<'_>>> {
        loop {
            if self.lines.offset() >= self.stop_at {
                return Ok(None);
            }
            let Some((at, span)) = self.lines.next_span()? else {
                return Ok(None);
            };
            if !(self.is_data)(self.lines.text(span.clone())) {
                continue;
            }
            let index = self.data_seen;
            self.data_seen += 1;
            let mine = match self.round_robin {
                Some((rank, size)) => index % size == rank,
                None => true,
            };
            return Ok(Some(DataLine {
                text: self.lines.text(span),
                at,
                count: self.lines.count(),
                index,
                mine,
            }));
        }
    }
}

/// Byte range `[lo, hi)` of piece `i` of `n` equal pieces of `len` bytes.
fn byte_range(len: u64, i: u64, n: u64) -> (u64, u64) {
    let split = |r: u64| (u128::from(len) * u128::from(r) / u128::from(n)) as u64;
    (split(i), split(i + 1))
}

/// Every rank contributes the same number of `u64`s; every rank gets all of them, in rank
/// order. One collective carries all of a reader's global checks.
pub(crate) fn gather_u64(comm: &dyn Comm, values: &[u64]) -> Result<Vec<Vec<u64>>, DatasetError> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let all = comm.all_gather(bytes)?;
    Ok(all
        .iter()
        .map(|b| {
            b.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                .collect()
        })
        .collect())
}

/// Column `i` of gathered values, summed.
pub(crate) fn column_sum(all: &[Vec<u64>], i: usize) -> u64 {
    all.iter().map(|v| v[i]).sum()
}

/// Column `i` of gathered values, minimum.
pub(crate) fn column_min(all: &[Vec<u64>], i: usize) -> u64 {
    all.iter().map(|v| v[i]).min().unwrap_or(u64::MAX)
}

/// Shares one rank's parse error with every rank, so that all of them return it.
///
/// Used when a global check (made after a collective, so every rank knows it failed) blames
/// a line that only one rank has read. Exactly one rank passes `Some`; every rank must call
/// this the same number of times.
pub(crate) fn share_parse_error(
    comm: &dyn Comm,
    path: &Path,
    mine: Option<(u64, String, String)>,
) -> DatasetError {
    let payload = match &mine {
        Some((line, text, reason)) => {
            let mut out = line.to_le_bytes().to_vec();
            out.extend_from_slice(&(text.len() as u64).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(reason.as_bytes());
            out
        }
        None => Vec::new(),
    };
    let all = match comm.all_gather(payload) {
        Ok(all) => all,
        Err(e) => return e.into(),
    };
    let found = all
        .iter()
        .find(|b| !b.is_empty())
        .expect("one rank owns the line");
    let line = u64::from_le_bytes(found[..8].try_into().expect("8 bytes"));
    let text_len = u64::from_le_bytes(found[8..16].try_into().expect("8 bytes")) as usize;
    let text = String::from_utf8_lossy(&found[16..16 + text_len]).into_owned();
    let reason = String::from_utf8_lossy(&found[16 + text_len..]).into_owned();
    DatasetError::Parse {
        path: path.to_path_buf(),
        line,
        text,
        reason,
    }
}
