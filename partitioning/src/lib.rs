//! # gasket-partitioning
//!
//! Edge-cut partitioners: each produces an [`Ownership`] (vertex -> rank) that the
//! engine's distributed build consumes, and [`quality`] measures what a cut costs once the
//! graph is built: edge-cut fraction, balance and ghost replication, which together predict
//! the bytes a superstep sends.
//!
//! Hash partitioning is the default: no global knowledge, balanced vertex counts in
//! expectation, and every rank can compute any owner locally.
#![warn(missing_docs)]

mod quality;

pub use quality::{QualityReport, quality};

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
}

/// Produces a vertex -> rank map from the edges every rank holds.
pub trait Partitioner: Send + Sync {
    /// Short name, as on the command line.
    fn name(&self) -> &'static str;
    /// Collective: every rank passes its own share of the edges.
    fn partition(
        &self,
        comm: &dyn Comm,
        src: &[VertexId],
        dst: &[VertexId],
    ) -> Result<Box<dyn Ownership>, PartitionError>;
}

/// Hash partitioning: owner = mix(id) mapped onto the ranks (see `HashOwnership`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Hash;

impl Partitioner for Hash {
    fn name(&self) -> &'static str {
        "hash"
    }
    fn partition(
        &self,
        comm: &dyn Comm,
        _src: &[VertexId],
        _dst: &[VertexId],
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        Ok(Box::new(HashOwnership::new(comm.size())))
    }
}
