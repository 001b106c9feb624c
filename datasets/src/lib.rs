//! Graph inputs for gasket: parallel readers for SNAP edge lists, METIS graphs and Matrix
//! Market matrices (plain or gzip), a bundled real graph, and synthetic graph generators;
//! also bag-of-words corpora for topic models ([`read_corpus`]: UCI docword, LDA-C, text)
//! with a synthetic LDA corpus generator ([`lda_corpus`]); libsvm and dense CSV examples
//! and IDX arrays (MNIST, Fashion-MNIST) for learning.
//!
//! Reading is a collective operation: every rank calls [`read_graph`] with the same file,
//! and each rank gets a disjoint share of the edges ([`EdgeList`]) — together, exactly the
//! edges of the file. A plain-text file is split by byte ranges, so each rank reads only
//! about `1/n` of it; a gzip file cannot be entered in the middle, so every rank
//! decompresses it and keeps every `n`-th data line. The engine then shuffles the edges to
//! their owners; nothing here assumes where an edge will end up.
//!
//! Errors are precise ([`DatasetError`]): a bad line is reported with its file line number
//! and text, whatever the number of ranks. When one rank fails, it returns at once; the
//! others see a lost peer at their next collective and the launcher reports the root cause.
//! Checks that need the whole file (is it weighted, entry counts, emptiness) use one
//! collective per reader, called the same number of times on every rank.
//!
//! [`generate`] builds Graph500-style Kronecker and uniform random graphs deterministically
//! from a seed, in parallel, either straight into ranks' shares or into a SNAP file.
//!
//! ```
//! use gasket_datasets::{Format, bundled, generate, read_graph_bytes};
//! use gasket_engine::comm::{SingleComm, ThreadComm};
//!
//! // One rank reads the whole bundled graph...
//! let g = read_graph_bytes(bundled::WIKI_VOTE_NAME, bundled::wiki_vote(), Format::Snap, &SingleComm)?;
//! assert_eq!(g.len(), 103_689);
//!
//! // ...three ranks each read a third of it.
//! let shares = ThreadComm::run(3, |comm| {
//!     read_graph_bytes(bundled::WIKI_VOTE_NAME, bundled::wiki_vote(), Format::Snap, &comm)
//! })?;
//! assert_eq!(shares.iter().map(|s| s.len()).sum::<usize>(), 103_689);
//!
//! // A Graph500 Kronecker graph with 2^10 vertices, rank 0's half of it.
//! let cfg = generate::GeneratorConfig::new(generate::Generator::Kronecker, 10);
//! assert_eq!(generate::edges_for_rank(&cfg, 0, 2).len(), 8192);
//! # Ok::<(), gasket_datasets::DatasetError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundled;
mod corpus;
mod dense;
mod error;
mod format;
pub mod generate;
mod gsk;
mod idx;
mod input;
mod libsvm;
mod metis;
mod mtx;
mod snap;
mod source;
mod text;

use std::path::Path;
use std::time::Instant;

use gasket_engine::comm::Comm;

pub use corpus::{
    Corpus, CorpusFormat, TextOptions, read_corpus, read_corpus_bytes, read_vocab, write_uci,
};
pub use dense::{DenseExamples, read_dense_csv, read_dense_csv_bytes};
pub use error::DatasetError;
pub use format::{Format, UnknownName};
pub use generate::{LdaCorpusConfig, SyntheticCorpus, lda_corpus};
pub use gsk::{GskHeader, write_gsk};
pub use idx::{IdxArray, read_idx, read_idx_bytes};
pub use input::{GraphInput, WithEdges};
pub use libsvm::{SparseExamples, read_libsvm, read_libsvm_bytes};

use source::Source;

/// This rank's share of a graph: directed edges `src[k] -> dst[k]`.
///
/// Vertex ids are as in the file (METIS and Matrix Market ids are 1-based line / row
/// numbers). The shares of all ranks together hold every edge of the file exactly once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeList {
    /// Source vertex of each edge.
    pub src: Vec<u64>,
    /// Destination vertex of each edge.
    pub dst: Vec<u64>,
    /// Weight of each edge: `Some` exactly when the file carries weights, and then on every
    /// rank (possibly empty).
    pub weight: Option<Vec<f64>>,
    /// Vertices this rank declares whether or not an edge touches them: METIS vertex lines,
    /// Matrix Market's `1..=max(rows, cols)` and generated graphs' `0..2^scale`, in blocks
    /// over ranks. Empty for SNAP, where vertices exist only through edges.
    pub vertices: Vec<u64>,
}

impl EdgeList {
    /// Number of edges in this share.
    pub fn len(&self) -> usize {
        self.src.len()
    }

    /// True when this share has no edge.
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// Reads this rank's share of the graph in `path`.
///
/// Collective: every rank of `comm` must call it with the same arguments. Plain text is
/// split by byte range; a gzip file (recognised by its magic bytes) is decompressed on
/// every rank and its data lines are dealt round-robin. [`Format`] describes the formats.
///
/// # Errors
///
/// [`DatasetError::Io`] when the file cannot be read; [`DatasetError::Gzip`] when a file
/// named `.gz` is not gzip or the stream is truncated or corrupt; [`DatasetError::Parse`]
/// for a malformed line; [`DatasetError::Empty`] when the file has no edge at all;
/// [`DatasetError::Engine`] when another rank failed first.
pub fn read_graph(path: &Path, format: Format, comm: &dyn Comm) -> Result<EdgeList, DatasetError> {
    let start = Instant::now();
    if format == Format::Gsk {
        let (edges, total) = gsk::read(path, comm)?;
        log_read(path, format, false, comm, total, start);
        return Ok(edges);
    }
    let source = Source::file(path)?;
    read_source(&source, format, comm, start)
}

/// Reads this rank's share of a graph held in memory: plain text, or gzip when `bytes`
/// start with the gzip magic bytes `1f 8b`. `name` stands for the file in errors and logs.
///
/// Collective, like [`read_graph`], with the same errors (except [`DatasetError::Io`]).
pub fn read_graph_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
    comm: &dyn Comm,
) -> Result<EdgeList, DatasetError> {
    let start = Instant::now();
    let source = Source::bytes(name, bytes);
    read_source(&source, format, comm, start)
}

fn read_source(
    source: &Source<'_>,
    format: Format,
    comm: &dyn Comm,
    start: Instant,
) -> Result<EdgeList, DatasetError> {
    let (edges, total) = match format {
        Format::Snap => snap::read(source, comm)?,
        Format::Metis => metis::read(source, comm)?,
        Format::Mtx => mtx::read(source, comm)?,
        Format::Gsk => {
            return Err(DatasetError::Invalid {
                path: source.name().to_path_buf(),
                reason: "a binary graph (.gsk) is read from a file, not from text or gzip".into(),
            });
        }
    };
    log_read(source.name(), format, source.is_gzip(), comm, total, start);
    Ok(edges)
}

fn log_read(path: &Path, format: Format, gzip: bool, comm: &dyn Comm, total: u64, start: Instant) {
    if comm.rank() == 0 {
        tracing::info!(
            file = %path.display(),
            %format,
            gzip,
            ranks = comm.size(),
            edges = total,
            seconds = start.elapsed().as_secs_f64(),
            "graph read"
        );
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for the readers' unit tests: write a literal file, plain and gzipped, and
    //! read both on thread ranks; the two must agree.

    use std::io::Write;

    use gasket_engine::comm::ThreadComm;

    use crate::{DatasetError, EdgeList, Format, read_graph};

    fn file_name(format: Format) -> &'static str {
        match format {
            Format::Snap => "g.txt",
            Format::Metis => "g.graph",
            Format::Mtx => "g.mtx",
            Format::Gsk => unreachable!("the text readers' tests do not read binary graphs"),
        }
    }

    /// Reads `text` on `ranks` thread ranks, from a plain file and from a gzip file.
    fn run(text: &str, format: Format, ranks: usize) -> [Result<Vec<EdgeList>, DatasetError>; 2] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let plain = dir.path().join(file_name(format));
        std::fs::write(&plain, text).expect("write");
        let gz = dir.path().join(format!("{}.gz", file_name(format)));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).expect("compress");
        std::fs::write(&gz, enc.finish().expect("compress")).expect("write");
        [plain, gz].map(|path| ThreadComm::run(ranks, |comm| read_graph(&path, format, &comm)))
    }

    /// All edges (with weight bits) and declared vertices of a read, sorted.
    type Summary = (Vec<(u64, u64, Option<u64>)>, Vec<u64>);

    fn summary(parts: &[EdgeList]) -> Summary {
        let mut edges = Vec::new();
        let mut vertices = Vec::new();
        for g in parts {
            for k in 0..g.len() {
                let w = g.weight.as_ref().map(|w| w[k].to_bits());
                edges.push((g.src[k], g.dst[k], w));
            }
            vertices.extend_from_slice(&g.vertices);
        }
        edges.sort_unstable();
        vertices.sort_unstable();
        (edges, vertices)
    }

    /// Every rank's share of `text` read as a plain file on `ranks` thread ranks (the gzip
    /// copy must give the same edges and vertices).
    pub(crate) fn read_text(text: &str, format: Format, ranks: usize) -> Vec<EdgeList> {
        let [plain, gz] = run(text, format, ranks);
        let plain = plain.unwrap_or_else(|e| panic!("reading {text:?}: {e}"));
        let gz = gz.unwrap_or_else(|e| panic!("reading {text:?} gzipped: {e}"));
        assert_eq!(summary(&plain), summary(&gz), "plain and gzip differ");
        plain
    }

    /// The error reading `text` as a plain file on `ranks` thread ranks (the gzip copy must
    /// fail the same way, at the same line).
    pub(crate) fn read_text_err(text: &str, format: Format, ranks: usize) -> DatasetError {
        let [plain, gz] = run(text, format, ranks);
        let (plain, gz) = match (plain, gz) {
            (Err(p), Err(g)) => (p, g),
            (p, g) => panic!("reading {text:?} should fail: {p:?} / {g:?}"),
        };
        match (&plain, &gz) {
            (
                DatasetError::Parse {
                    line, text, reason, ..
                },
                DatasetError::Parse {
                    line: l2,
                    text: t2,
                    reason: r2,
                    ..
                },
            ) => assert_eq!((line, text, reason), (l2, t2, r2), "plain and gzip differ"),
            (DatasetError::Empty { .. }, DatasetError::Empty { .. }) => {}
            (p, g) => panic!("plain and gzip differ: {p} / {g}"),
        }
        plain
    }

    /// The edges of a share, sorted.
    pub(crate) fn edges_of(g: &EdgeList) -> Vec<(u64, u64)> {
        let mut e: Vec<(u64, u64)> = g.src.iter().copied().zip(g.dst.iter().copied()).collect();
        e.sort_unstable();
        e
    }
}
