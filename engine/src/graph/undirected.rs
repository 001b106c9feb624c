//! [`Undirected`]: how a program that treats the graph as undirected may read it, agreed
//! by every rank. Symmetric graphs (every edge listed both ways) let it read out-edges
//! only, halving its work; simple ones (no repeated neighbour or self-loop) let it skip
//! deduplicating what it gathers.

use crate::comm::{Comm, CommExt};
use crate::error::Result;
use crate::graph::Topology;
use crate::program::EdgeDir;

/// How an undirected program may read a graph, agreed by every rank: whether every edge is
/// listed both ways ([`Topology::is_symmetric`]),
/// so out-edges alone reach every neighbour, and whether, besides, no vertex lists a
/// neighbour twice or itself ([`Topology::is_simple`]),
/// so a program needs no deduplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Undirected {
    /// Every edge is listed both ways on every rank.
    pub symmetric: bool,
    /// Symmetric, and no repeated neighbour or self-loop on any rank.
    pub simple: bool,
}

impl Undirected {
    /// Checks this rank's graph and agrees with the other ranks (collective); with
    /// `progress`, rank 0 logs the answer and the time the check took.
    pub fn check(comm: &dyn Comm, topo: &Topology, progress: bool) -> Result<Self> {
        let started = std::time::Instant::now();
        let symmetric = !comm.any(!topo.is_symmetric())?;
        let simple = symmetric && !comm.any(!topo.is_simple())?;
        if progress && comm.rank() == 0 {
            tracing::info!(
                "every edge listed both ways: {symmetric}; no repeated neighbour or self-loop: \
                 {simple} (checked in {:.3}s)",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(Undirected { symmetric, simple })
    }

    /// The edges that reach every neighbour once per listing: out-edges on a symmetric
    /// graph, both directions otherwise.
    pub fn neighbour_edges(self) -> EdgeDir {
        if self.symmetric {
            EdgeDir::Out
        } else {
            EdgeDir::All
        }
    }
}
