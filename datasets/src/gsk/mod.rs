//! The binary graph format `.gsk` that `gasket convert` writes: a graph as the engine
//! builds it on one rank (compact ids numbered hubs first, out- and in-CSR), so a run on
//! one rank loads it with a few sequential reads and builds nothing, and a run on several
//! ranks reads its rows without parsing.
//!
//! **Layout** (little-endian), format version 2; `n` vertices, `m` edges:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `GSKGRAPH` |
//! | 4, 4 | version (2), flags (bit 0: weighted) |
//! | 8, 8 | `n`, `m` |
//! | 7 x 4 | CRC-32 of each section below, in order (0 for an absent one) |
//! | 4 | CRC-32 of the 60 header bytes before it |
//! | `8 n` | ids: original id of each compact id `0..n` (distinct) |
//! | `8 (n + 1)` | out-offsets: row `v` is `offsets[v]..offsets[v+1]`, `offsets[n] = m` |
//! | `4 m` | out-targets, compact ids |
//! | `8 m` | weights (`f64`) in out-CSR order, only when weighted |
//! | `8 (n + 1)` | in-offsets |
//! | `4 m` | in-sources, compact ids |
//! | `8 m` | in-edge ids: the out-CSR position of each in-entry's edge, only when weighted |
//!
//! The compact ids are the engine's local ids of the whole graph on one rank: descending
//! out-degree, ties in ascending original id ([`sort_hubs_first`]); the out- and in-rows
//! list their edges in the text file's order. Every vertex is stored, isolated ones
//! included. The writer runs the engine's own build ([`write`]), so a graph loaded whole
//! is the graph the build makes from the text's edges.
//!
//! **Reading** ([`read`]): on one rank, a program whose edges carry nothing or the weights
//! (and a placement that needs no edges: not a partition file) takes the whole graph as
//! stored ([`read::read_built`]): each section read in parallel
//! pieces, its checksum verified, its structure checked by the engine
//! ([`LocalGraph::from_whole`](gasket_engine::LocalGraph::from_whole)); results are those of
//! the text file, bit for bit. Otherwise each of `R` ranks takes a contiguous run of rows
//! holding about `m / R` edges and expands it into its [`EdgeList`] of original ids,
//! declaring every vertex of its rows. The sections a rank reads whole (all of them on one
//! rank) are checksummed; the slices it reads of the others are checked for range and
//! finiteness. Either way a truncated or damaged file is an error naming the file, never a
//! panic or a wrong graph.
//!
//! [`EdgeList`]: crate::EdgeList
//! [`sort_hubs_first`]: gasket_engine::graph::sort_hubs_first

pub(crate) mod read;
mod write;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::DatasetError;

pub(crate) use read::{read, read_built};
pub use write::write_gsk;

const MAGIC: &[u8; 8] = b"GSKGRAPH";
const VERSION: u32 = 2;
const WEIGHTED: u32 = 1;
const HEADER_LEN: u64 = 64;
/// Bytes per parallel piece of a section read.
const READ_PIECE: usize = 8 << 20;

/// The sections of a file, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Ids,
    OutOffsets,
    OutTargets,
    Weights,
    InOffsets,
    InSources,
    InEdgeIds,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Ids,
        Section::OutOffsets,
        Section::OutTargets,
        Section::Weights,
        Section::InOffsets,
        Section::InSources,
        Section::InEdgeIds,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Ids => "vertex ids",
            Section::OutOffsets => "out-offsets",
            Section::OutTargets => "out-targets",
            Section::Weights => "weights",
            Section::InOffsets => "in-offsets",
            Section::InSources => "in-sources",
            Section::InEdgeIds => "in-edge ids",
        }
    }
}

/// What the header of a `.gsk` file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GskHeader {
    /// Vertices (isolated ones included).
    pub vertices: u64,
    /// Edges.
    pub edges: u64,
    /// Whether every edge carries an `f64` weight.
    pub weighted: bool,
    /// CRC-32 of each section ([`Section::ALL`] order; 0 for an absent one).
    checksums: [u32; 7],
}

impl GskHeader {
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [0u8; HEADER_LEN as usize];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let flags = if self.weighted { WEIGHTED } else { 0 };
        out[12..16].copy_from_slice(&flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.vertices.to_le_bytes());
        out[24..32].copy_from_slice(&self.edges.to_le_bytes());
        for (i, crc) in self.checksums.iter().enumerate() {
            out[32 + 4 * i..36 + 4 * i].copy_from_slice(&crc.to_le_bytes());
        }
        let crc = crc32fast::hash(&out[..60]);
        out[60..64].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8; HEADER_LEN as usize]) -> Result<Self, String> {
        if &bytes[..8] != MAGIC {
            return Err("not a gasket binary graph (no GSKGRAPH magic)".into());
        }
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let long = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        // The checksum first, so that a damaged version field reads as damage; a header
        // of version 1 (40 bytes, its checksum over the first 32) is recognised as such.
        let version = word(8);
        let intact = crc32fast::hash(&bytes[..60]) == word(60);
        let older = version == 1 && crc32fast::hash(&bytes[..32]) == word(32);
        if intact && version != VERSION || older {
            return Err(format!(
                "format version {version}; this gasket reads version {VERSION} (convert the \
                 graph again)"
            ));
        }
        if !intact {
            return Err("the header fails its checksum (the file is corrupt)".into());
        }
        let flags = word(12);
        if flags & !WEIGHTED != 0 {
            return Err(format!("unknown flags {flags:#x} in the header"));
        }
        Ok(GskHeader {
            vertices: long(16),
            edges: long(24),
            weighted: flags & WEIGHTED != 0,
            checksums: std::array::from_fn(|i| word(32 + 4 * i)),
        })
    }

    /// Bytes of section `s` (0 when absent), or `None` past 2^64.
    fn section_len(&self, s: Section) -> Option<u64> {
        let (n, m) = (self.vertices, self.edges);
        let weighted = u64::from(self.weighted);
        match s {
            Section::Ids => n.checked_mul(8),
            Section::OutOffsets | Section::InOffsets => n.checked_add(1)?.checked_mul(8),
            Section::OutTargets | Section::InSources => m.checked_mul(4),
            Section::Weights | Section::InEdgeIds => m.checked_mul(8 * weighted),
        }
    }

    /// Byte position of section `s`.
    fn section_at(&self, s: Section) -> u64 {
        let before = Section::ALL.iter().take_while(|&&t| t != s);
        HEADER_LEN
            + before
                .map(|&t| self.section_len(t).unwrap_or(0))
                .sum::<u64>()
    }

    /// The file length this header implies.
    fn file_len(&self) -> Option<u64> {
        Section::ALL
            .iter()
            .try_fold(HEADER_LEN, |len, &s| len.checked_add(self.section_len(s)?))
    }
}

/// An open `.gsk` file and its checked header.
pub(crate) struct GskFile {
    path: PathBuf,
    file: File,
    header: GskHeader,
}

/// Whether the binary graph at `path` stores edge weights (reads its header only).
pub(crate) fn is_weighted(path: &Path) -> Result<bool, DatasetError> {
    Ok(GskFile::open(path)?.header.weighted)
}

impl GskFile {
    fn open(path: &Path) -> Result<Self, DatasetError> {
        let io = |source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let invalid = |reason: String| DatasetError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let mut bytes = [0u8; HEADER_LEN as usize];
        if len < HEADER_LEN {
            return Err(invalid(format!(
                "{len} bytes, shorter than the {HEADER_LEN}-byte header of a binary graph"
            )));
        }
        file.read_exact(&mut bytes).map_err(io)?;
        let header = GskHeader::decode(&bytes).map_err(invalid)?;
        match header.file_len() {
            Some(expected) if expected == len => {}
            expected => {
                return Err(invalid(format!(
                    "{len} bytes, but its header ({} vertices, {} edges{}) needs {} \
                     (truncated or damaged)",
                    header.vertices,
                    header.edges,
                    if header.weighted { ", weighted" } else { "" },
                    expected.map_or("more than 2^64".to_string(), |e| e.to_string())
                )));
            }
        }
        if header.edges == 0 {
            return Err(DatasetError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(GskFile {
            path: path.to_path_buf(),
            file,
            header,
        })
    }

    fn invalid(&self, reason: String) -> DatasetError {
        DatasetError::Invalid {
            path: self.path.clone(),
            reason,
        }
    }

    /// Words `first..first + count` of section `s`, read in parallel pieces straight into
    /// their vector (one copy from the file; byte order fixed in place on big-endian hosts).
    fn words<T: bytemuck::Pod + Send + Default>(
        &self,
        s: Section,
        first: u64,
        count: u64,
        from_le: fn(T) -> T,
    ) -> Result<Vec<T>, DatasetError> {
        let at = self.header.section_at(s) + first * std::mem::size_of::<T>() as u64;
        let mut words = vec![T::default(); count as usize];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        bytes
            .par_chunks_mut(READ_PIECE)
            .enumerate()
            .try_for_each(|(i, piece)| read_at(&self.file, piece, at + (i * READ_PIECE) as u64))
            .map_err(|source| DatasetError::Io {
                path: self.path.clone(),
                source,
            })?;
        if cfg!(target_endian = "big") {
            words.par_iter_mut().for_each(|w| *w = from_le(*w));
        }
        Ok(words)
    }

    /// The whole of section `s`, its checksum verified.
    fn section<T: bytemuck::Pod + Send + Sync + Default>(
        &self,
        s: Section,
        from_le: fn(T) -> T,
    ) -> Result<Vec<T>, DatasetError> {
        let len = self.header.section_len(s).unwrap_or(0);
        let words = self.words(s, 0, len / std::mem::size_of::<T>() as u64, from_le)?;
        self.verify(s, &words)?;
        Ok(words)
    }

    /// A section of positions (offsets or edge ids, `u64` in the file) as `usize`, whole
    /// and verified.
    fn positions(&self, s: Section) -> Result<Vec<usize>, DatasetError> {
        if std::mem::size_of::<usize>() == 8 {
            self.section(s, usize::from_le)
        } else {
            let wide: Vec<u64> = self.section(s, u64::from_le)?;
            wide.into_iter()
                .map(|o| {
                    usize::try_from(o).map_err(|_| {
                        self.invalid(format!("position {o} past this host's address space"))
                    })
                })
                .collect()
        }
    }

    /// Checks the CRC-32 of section `s`, read whole into `words`.
    fn verify<T: bytemuck::Pod + Sync>(&self, s: Section, words: &[T]) -> Result<(), DatasetError> {
        if crc_le(words) != self.header.checksums[s as usize] {
            return Err(self.invalid(format!(
                "the {} fail their checksum (the file is corrupt)",
                s.name()
            )));
        }
        Ok(())
    }
}

/// Words per piece of a checksum or a write.
fn piece_words<T>() -> usize {
    READ_PIECE / std::mem::size_of::<T>().max(1)
}

/// The little-endian bytes of `words` (their own bytes on a little-endian host).
fn le_bytes<T: bytemuck::Pod>(words: &[T]) -> Cow<'_, [u8]> {
    let bytes: &[u8] = bytemuck::cast_slice(words);
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytes)
    } else {
        let size = std::mem::size_of::<T>();
        Cow::Owned(
            bytes
                .chunks(size)
                .flat_map(|w| w.iter().rev().copied())
                .collect(),
        )
    }
}

/// CRC-32 of the little-endian bytes of `words`, computed in parallel pieces and combined.
fn crc_le<T: bytemuck::Pod + Sync>(words: &[T]) -> u32 {
    let pieces: Vec<crc32fast::Hasher> = words
        .par_chunks(piece_words::<T>())
        .map(|piece| {
            let mut h = crc32fast::Hasher::new();
            h.update(&le_bytes(piece));
            h
        })
        .collect();
    let mut all = crc32fast::Hasher::new();
    for h in &pieces {
        all.combine(h);
    }
    all.finalize()
}

/// `usize` words as the file's `u64` (borrowed on a 64-bit host).
fn as_u64s(xs: &[usize]) -> Cow<'_, [u64]> {
    if std::mem::size_of::<usize>() == 8 {
        Cow::Borrowed(bytemuck::cast_slice(xs))
    } else {
        Cow::Owned(xs.iter().map(|&x| x as u64).collect())
    }
}

/// Fills `buf` from byte `at` of `file` without moving a shared cursor.
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut file = file.try_clone()?;
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(buf)
    }
}

#[cfg(test)]
mod tests;
