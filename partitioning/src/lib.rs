//! # gasket-partitioning
//!
//! Edge-cut partitioners: each produces an [`Ownership`] (vertex -> rank) that the
//! engine's distributed build consumes, and [`quality`] measures what a cut costs once the
//! graph is built: edge-cut fraction, balance and ghost replication, which together predict
//! the bytes a superstep sends.
//!
//! Methods ([`Method`], [`partitioner`]): [`Hash`](struct@Hash) is the default (no global knowledge,
//! balanced vertex counts in expectation, every rank computes any owner locally);
//! [`Range`] cuts the ascending ids into blocks balanced by degree; [`Ldg`] and [`Fennel`]
//! place vertices in one streaming pass, each rank streaming its own block of ids;
//! [`Metis`] runs METIS k-way on one rank (feature `metis`). Every method is collective
//! over a [`Comm`] and honours the imbalance tolerance where it can (all but hash).
//! [`predict_quality`] reports a cut from the edge list alone (what `gasket partition`
//! prints); partition files use gpmetis's format ([`read_partition_file`]). [`Partitioning`]
//! (a method and tolerance, or a file) is what the engine's launcher takes as its placement.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod method;
#[cfg(feature = "metis")]
mod metis;
#[cfg(not(feature = "metis"))]
#[path = "metis_stub.rs"]
mod metis;
mod partition_file;
mod placement;
mod quality;
mod range;
mod streaming;

pub use method::{Method, ParseMethodError, partitioner};
pub use metis::Metis;
pub use partition_file::{read_partition_file, write_partition_file};
pub use placement::Partitioning;
pub use quality::{QualityReport, predict_quality, quality};
pub use range::Range;
pub use streaming::{DEFAULT_CHUNK, Fennel, Ldg};

use gasket_engine::{Comm, EngineError, HashOwnership, Ownership, VertexId};

/// Errors of partitioners.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// A collective failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The request cannot be satisfied.
    #[error("partitioning: {0}")]
    Invalid(String),
    /// A partition file cannot be read.
    #[error("cannot read partition file {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A partition file does not fit the graph.
    #[error("{}:{line}: {reason}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line number (0 when the problem is the whole file).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Default balance tolerance: the largest part may hold 5% more than the mean.
pub const DEFAULT_IMBALANCE: f64 = 1.05;

/// What a partitioner is asked: this rank's share of the graph and the cut wanted.
#[derive(Debug, Clone, Copy)]
pub struct PartitionRequest<'a> {
    /// Sources of this rank's edges.
    pub src: &'a [VertexId],
    /// Targets of this rank's edges.
    pub dst: &'a [VertexId],
    /// Vertices this rank declares without edges (may repeat endpoints).
    pub vertices: &'a [VertexId],
    /// Number of parts (usually the number of ranks).
    pub parts: usize,
    /// Balance tolerance: max part load / mean part load, at least 1.0.
    pub imbalance: f64,
}

/// Produces a vertex -> part map from the edges every rank holds.
pub trait Partitioner: Send + Sync {
    /// Short name, as on the command line.
    fn name(&self) -> &'static str;
    /// Collective: every rank passes its own share of the graph; every rank gets the same
    /// map, with `num_ranks() == request.parts`.
    fn partition(
        &self,
        comm: &dyn Comm,
        request: &PartitionRequest<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError>;
}

/// Hash partitioning: owner = mix(id) mapped onto the parts (see `HashOwnership`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Hash;

impl Partitioner for Hash {
    fn name(&self) -> &'static str {
        "hash"
    }
    fn partition(
        &self,
        _comm: &dyn Comm,
        request: &PartitionRequest<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        check_parts(request.parts)?;
        Ok(Box::new(HashOwnership::new(request.parts)))
    }
}

/// Rejects zero parts.
pub fn check_parts(parts: usize) -> Result<(), PartitionError> {
    if parts == 0 {
        return Err(PartitionError::Invalid(
            "the number of parts must be at least 1".into(),
        ));
    }
    Ok(())
}

/// An explicit assignment: part of each vertex, by ascending vertex id. Ids it does not
/// list fall back to hashing (they cannot occur when it was made for the same graph).
#[derive(Debug, Clone)]
pub struct Assignment {
    ids: Vec<VertexId>,
    parts: Vec<u32>,
    num_parts: usize,
    fallback: HashOwnership,
}

impl Assignment {
    /// `ids` ascending and distinct, `parts[i]` the part of `ids[i]`, every part `< num_parts`.
    pub fn new(ids: Vec<VertexId>, parts: Vec<u32>, num_parts: usize) -> Self {
        assert_eq!(ids.len(), parts.len(), "one part per vertex");
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids ascending and distinct"
        );
        assert!(
            parts.iter().all(|&p| (p as usize) < num_parts),
            "part out of range"
        );
        Assignment {
            ids,
            parts,
            num_parts,
            fallback: HashOwnership::new(num_parts.max(1)),
        }
    }
    /// The vertices, ascending.
    pub fn ids(&self) -> &[VertexId] {
        &self.ids
    }
    /// Their parts.
    pub fn parts(&self) -> &[u32] {
        &self.parts
    }
}

impl Ownership for Assignment {
    fn num_ranks(&self) -> usize {
        self.num_parts
    }
    fn owner(&self, v: VertexId) -> usize {
        match self.ids.binary_search(&v) {
            Ok(i) => self.parts[i] as usize,
            Err(_) => self.fallback.owner(v),
        }
    }
}

/// Every vertex of the graph (edge endpoints and declared vertices of all ranks),
/// ascending and distinct, on every rank. Collective; O(vertices) memory per rank.
pub fn all_vertex_ids(
    comm: &dyn Comm,
    request: &PartitionRequest<'_>,
) -> Result<Vec<VertexId>, PartitionError> {
    let mut mine: Vec<VertexId> = request
        .src
        .iter()
        .chain(request.dst)
        .chain(request.vertices)
        .copied()
        .collect();
    mine.sort_unstable();
    mine.dedup();
    let all = comm.all_gather(gasket_engine::wire::encode_all(&mine))?;
    let mut ids: Vec<VertexId> = all
        .iter()
        .flat_map(|b| gasket_engine::wire::decode_all::<VertexId>(b))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
