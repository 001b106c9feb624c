//! The binary graph format `.gsk` that `gasket convert` writes: a graph as a CSR with
//! compact ids, loaded with a few sequential reads and no parsing.
//!
//! **Layout** (little-endian), format version 1:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `GSKGRAPH` |
//! | 4, 4 | version (1), flags (bit 0: weighted) |
//! | 8, 8 | `n` vertices, `m` edges |
//! | 4, 4 | CRC-32 of the 32 bytes before it, zero padding |
//! | `8 n` | original id of each compact id `0..n`, strictly ascending |
//! | `8 (n + 1)` | out-CSR offsets: row `v` is `offsets[v]..offsets[v+1]`, `offsets[n] = m` |
//! | `4 m` | out-CSR targets, compact ids |
//! | `8 m` | weights (`f64`), only when weighted |
//!
//! Every vertex is stored, isolated ones included, and every edge once, rows in the order
//! of the source's compact id and each row in the order of the text file. Only the
//! out-direction is stored: a run partitions the graph afresh for its rank count and
//! partitioner, and the engine's build makes the in-CSR of each part, so a stored
//! in-direction could not be used as it is.
//!
//! **Reading** (collective): rank `r` of `R` takes the rows `[n r / R, n (r + 1) / R)`: it
//! reads the id table, its slice of offsets, targets and weights (four seeks, four
//! sequential reads) and expands them in parallel into its [`EdgeList`], declaring every
//! vertex of its rows. The header's checksum, the file's length, monotone offsets that
//! end at `m`, ascending ids, targets below `n` and finite weights are all checked, so a
//! truncated or damaged file is an error naming the file, never a panic or a wrong graph.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use gasket_engine::comm::Comm;
use rayon::prelude::*;

use crate::EdgeList;
use crate::error::DatasetError;

const MAGIC: &[u8; 8] = b"GSKGRAPH";
const VERSION: u32 = 1;
const WEIGHTED: u32 = 1;
const HEADER_LEN: u64 = 40;

/// What the header of a `.gsk` file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GskHeader {
    /// Vertices (isolated ones included).
    pub vertices: u64,
    /// Edges.
    pub edges: u64,
    /// Whether every edge carries an `f64` weight.
    pub weighted: bool,
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
        let crc = crc32fast::hash(&out[..32]);
        out[32..36].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8; HEADER_LEN as usize]) -> Result<Self, String> {
        if &bytes[..8] != MAGIC {
            return Err("not a gasket binary graph (no GSKGRAPH magic)".into());
        }
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let long = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if crc32fast::hash(&bytes[..32]) != word(32) {
            return Err("the header fails its checksum (the file is corrupt)".into());
        }
        let version = word(8);
        if version != VERSION {
            return Err(format!(
                "format version {version}; this gasket reads version {VERSION} (convert the \
                 graph again)"
            ));
        }
        let flags = word(12);
        if flags & !WEIGHTED != 0 {
            return Err(format!("unknown flags {flags:#x} in the header"));
        }
        Ok(GskHeader {
            vertices: long(16),
            edges: long(24),
            weighted: flags & WEIGHTED != 0,
        })
    }

    /// The file length this header implies.
    fn file_len(&self) -> Option<u64> {
        let (n, m) = (self.vertices, self.edges);
        let per_edge = if self.weighted { 12 } else { 4 };
        HEADER_LEN
            .checked_add(n.checked_mul(8)?)?
            .checked_add(n.checked_add(1)?.checked_mul(8)?)?
            .checked_add(m.checked_mul(per_edge)?)
    }

    fn ids_at(&self) -> u64 {
        HEADER_LEN
    }
    fn offsets_at(&self) -> u64 {
        self.ids_at() + 8 * self.vertices
    }
    fn targets_at(&self) -> u64 {
        self.offsets_at() + 8 * (self.vertices + 1)
    }
    fn weights_at(&self) -> u64 {
        self.targets_at() + 4 * self.edges
    }
}

/// Writes the whole graph `graph` (every edge and declared vertex, as one rank read it)
/// to `path` as `.gsk`, atomically. Returns the header written.
///
/// # Errors
///
/// [`DatasetError::Invalid`] when the graph has 2^32 vertices or more (targets are 32-bit);
/// [`DatasetError::Write`] when the file cannot be written.
pub fn write_gsk(path: &Path, graph: &EdgeList) -> Result<GskHeader, DatasetError> {
    let mut ids: Vec<u64> = graph
        .src
        .par_iter()
        .chain(graph.dst.par_iter())
        .chain(graph.vertices.par_iter())
        .copied()
        .collect();
    ids.par_sort_unstable();
    ids.dedup();
    if ids.len() as u64 >= u64::from(u32::MAX) {
        return Err(DatasetError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "{} vertices; the binary format holds fewer than 2^32",
                ids.len()
            ),
        });
    }
    // Compact ids through a table indexed by id when the ids are dense enough (one load
    // per endpoint), else by binary search.
    let max_id = ids.last().copied().unwrap_or(0);
    let table: Option<Vec<u32>> = (max_id < 4 * ids.len() as u64 + (1 << 20)).then(|| {
        let mut table = vec![u32::MAX; max_id as usize + 1];
        for (c, &g) in ids.iter().enumerate() {
            table[g as usize] = c as u32;
        }
        table
    });
    let compact = |g: &u64| match &table {
        Some(table) => table[*g as usize],
        None => ids.binary_search(g).expect("every endpoint is listed") as u32,
    };
    let src: Vec<u32> = graph.src.par_iter().map(compact).collect();
    let dst: Vec<u32> = graph.dst.par_iter().map(compact).collect();
    drop(table);
    let n = ids.len();
    let mut offsets = vec![0u64; n + 1];
    for &s in &src {
        offsets[s as usize + 1] += 1;
    }
    for v in 0..n {
        offsets[v + 1] += offsets[v];
    }
    // Counting sort: rows by source, each row in file order.
    let mut cursor = offsets.clone();
    let mut order = vec![0usize; src.len()];
    for (k, &s) in src.iter().enumerate() {
        order[cursor[s as usize] as usize] = k;
        cursor[s as usize] += 1;
    }
    drop(cursor);
    let header = GskHeader {
        vertices: n as u64,
        edges: src.len() as u64,
        weighted: graph.weight.is_some(),
    };
    let written = gasket_engine::output::write_atomically(path, |w| {
        w.write_all(&header.encode())?;
        write_words(w, ids.iter().map(|v| v.to_le_bytes()))?;
        write_words(w, offsets.iter().map(|v| v.to_le_bytes()))?;
        write_words(w, order.iter().map(|&k| dst[k].to_le_bytes()))?;
        if let Some(weights) = &graph.weight {
            write_words(w, order.iter().map(|&k| weights[k].to_le_bytes()))?;
        }
        Ok(())
    });
    written.map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(header)
}

/// Writes fixed-size little-endian words through a buffer of about 1 MiB.
fn write_words<const N: usize>(
    w: &mut dyn Write,
    words: impl Iterator<Item = [u8; N]>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 20);
    for word in words {
        buf.extend_from_slice(&word);
        if buf.len() >= 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

/// An open `.gsk` file and its checked header.
struct GskFile {
    path: PathBuf,
    file: File,
    header: GskHeader,
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

    /// `count` little-endian words from byte `at`, read straight into their vector (one
    /// copy from the file; byte order fixed in place on big-endian hosts).
    fn words<T: bytemuck::Pod + Send + Default>(
        &mut self,
        at: u64,
        count: u64,
        from_le: fn(T) -> T,
    ) -> Result<Vec<T>, DatasetError> {
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        let mut words = vec![T::default(); count as usize];
        self.file.seek(SeekFrom::Start(at)).map_err(io)?;
        self.file
            .read_exact(bytemuck::cast_slice_mut(&mut words))
            .map_err(io)?;
        if cfg!(target_endian = "big") {
            words.par_iter_mut().for_each(|w| *w = from_le(*w));
        }
        Ok(words)
    }
}

/// Reads this rank's rows of a `.gsk` file (see the module docs). Returns the edges and
/// the file's edge count. A rank that fails returns at once; the others learn of it at
/// their next collective.
pub(crate) fn read(path: &Path, comm: &dyn Comm) -> Result<(EdgeList, u64), DatasetError> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let mut file = GskFile::open(path)?;
    let h = file.header;
    if h.edges == 0 {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    let n = h.vertices;
    let ids: Vec<u64> = file.words(h.ids_at(), n, u64::from_le)?;
    if let Some(k) = ids.windows(2).position(|w| w[0] >= w[1]) {
        return Err(file.invalid(format!(
            "vertex ids are not strictly ascending at compact id {} ({} then {})",
            k + 1,
            ids[k],
            ids[k + 1]
        )));
    }
    let lo = n * rank as u64 / ranks as u64;
    let hi = n * (rank as u64 + 1) / ranks as u64;
    let offsets: Vec<u64> = file.words(h.offsets_at() + 8 * lo, hi - lo + 1, u64::from_le)?;
    let ends: Vec<u64> = file.words(h.offsets_at(), 1, u64::from_le)?;
    let last: Vec<u64> = file.words(h.offsets_at() + 8 * n, 1, u64::from_le)?;
    if ends[0] != 0 || last[0] != h.edges {
        return Err(file.invalid(format!(
            "the offsets run from {} to {}, not from 0 to the {} edges",
            ends[0], last[0], h.edges
        )));
    }
    if let Some(k) = offsets
        .windows(2)
        .position(|w| w[0] > w[1] || w[1] > h.edges)
    {
        return Err(file.invalid(format!(
            "the offsets of vertex {} ({}..{}) decrease or pass the {} edges",
            lo + k as u64,
            offsets[k],
            offsets[k + 1],
            h.edges
        )));
    }
    let (first, end) = (offsets[0], offsets[offsets.len() - 1]);
    let targets: Vec<u32> = file.words(h.targets_at() + 4 * first, end - first, u32::from_le)?;
    if let Some(&t) = targets.par_iter().find_any(|&&t| u64::from(t) >= n) {
        return Err(file.invalid(format!(
            "an edge targets compact id {t}, but there are {n} vertices"
        )));
    }
    let weight = if h.weighted {
        let w: Vec<f64> = file.words(h.weights_at() + 8 * first, end - first, |x: f64| {
            f64::from_bits(u64::from_le(x.to_bits()))
        })?;
        if let Some(x) = w.par_iter().find_any(|x| !x.is_finite()) {
            return Err(file.invalid(format!("an edge weight is {x}, not a finite number")));
        }
        Some(w)
    } else {
        None
    };
    let rows = lo as usize..hi as usize;
    let mut src = vec![0u64; targets.len()];
    // Each row fills its own slice of `src`.
    let mut slices: Vec<&mut [u64]> = Vec::with_capacity(rows.len());
    let mut rest = src.as_mut_slice();
    for i in 0..rows.len() {
        let (row, tail) = rest.split_at_mut((offsets[i + 1] - offsets[i]) as usize);
        slices.push(row);
        rest = tail;
    }
    slices
        .into_par_iter()
        .zip(rows.into_par_iter())
        .for_each(|(row, v)| row.fill(ids[v]));
    let dst: Vec<u64> = targets.par_iter().map(|&t| ids[t as usize]).collect();
    let vertices = ids[lo as usize..hi as usize].to_vec();
    let edges = EdgeList {
        src,
        dst,
        weight,
        vertices,
    };
    Ok((edges, h.edges))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gasket_engine::comm::ThreadComm;

    fn sample() -> EdgeList {
        EdgeList {
            src: vec![30, 10, 30, 10, 7],
            dst: vec![10, 30, 7, 10, 30],
            weight: Some(vec![1.5, 2.0, 0.25, 4.0, 8.0]),
            vertices: vec![99],
        }
    }

    #[test]
    fn a_graph_round_trips_on_one_and_several_ranks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.gsk");
        let header = write_gsk(&path, &sample()).unwrap();
        assert_eq!(
            header,
            GskHeader {
                vertices: 4,
                edges: 5,
                weighted: true
            }
        );
        for ranks in [1, 2, 3, 5] {
            let shares = ThreadComm::run(ranks, |comm| read(&path, &comm)).unwrap();
            let mut edges: Vec<(u64, u64, u64)> = Vec::new();
            let mut vertices: Vec<u64> = Vec::new();
            for (share, total) in &shares {
                assert_eq!(*total, 5);
                let w = share.weight.as_ref().unwrap();
                for ((&s, &d), w) in share.src.iter().zip(&share.dst).zip(w) {
                    edges.push((s, d, w.to_bits()));
                }
                vertices.extend(&share.vertices);
            }
            // Rows by source id, each row in file order.
            let want = [
                (7, 30, 8.0),
                (10, 30, 2.0),
                (10, 10, 4.0),
                (30, 10, 1.5),
                (30, 7, 0.25),
            ];
            let want: Vec<(u64, u64, u64)> = want
                .iter()
                .map(|&(s, d, w)| (s, d, f64::to_bits(w)))
                .collect();
            assert_eq!(edges, want, "{ranks} ranks");
            assert_eq!(vertices, [7, 10, 30, 99]);
        }
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.gsk");
        write_gsk(&path, &sample()).unwrap();
        let good = std::fs::read(&path).unwrap();
        let read_one = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            read(&path, &gasket_engine::comm::SingleComm)
                .unwrap_err()
                .to_string()
        };
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 3].to_vec(), "truncated or damaged"),
            (good[..20].to_vec(), "shorter than the 40-byte header"),
            (b"src dst\n1 2\n".repeat(8), "no GSKGRAPH magic"),
        ];
        let mut flipped = good.clone();
        flipped[17] ^= 1;
        cases.push((flipped, "header fails its checksum"));
        let ids_at = HEADER_LEN as usize;
        let mut unsorted = good.clone();
        unsorted[ids_at..ids_at + 8].copy_from_slice(&500u64.to_le_bytes());
        cases.push((unsorted, "not strictly ascending"));
        let targets_at = ids_at + 8 * 4 + 8 * 5;
        let mut far = good.clone();
        far[targets_at..targets_at + 4].copy_from_slice(&9u32.to_le_bytes());
        cases.push((far, "targets compact id 9, but there are 4 vertices"));
        let mut offsets = good.clone();
        offsets[ids_at + 32 + 8..ids_at + 32 + 16].copy_from_slice(&7u64.to_le_bytes());
        cases.push((offsets, "decrease or pass the 5 edges"));
        let weights_at = targets_at + 4 * 5;
        let mut nan = good.clone();
        nan[weights_at..weights_at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        cases.push((nan, "not a finite number"));
        for (bytes, want) in cases {
            let err = read_one(&bytes);
            assert!(err.contains("g.gsk") && err.contains(want), "{want}: {err}");
        }
    }
}
