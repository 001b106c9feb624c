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
        Self::check_with(comm, topo, progress, true)
    }

    /// [`Undirected::check`] without the simplicity pass, for a program that does not
    /// deduplicate (`simple` is then false): one pass over the graph instead of two.
    pub fn check_symmetry(comm: &dyn Comm, topo: &Topology, progress: bool) -> Result<Self> {
        Self::check_with(comm, topo, progress, false)
    }

    fn check_with(
        comm: &dyn Comm,
        topo: &Topology,
        progress: bool,
        want_simple: bool,
    ) -> Result<Self> {
        let started = std::time::Instant::now();
        let symmetric = !comm.any(!topo.is_symmetric())?;
        let simple = want_simple && symmetric && !comm.any(!topo.is_simple())?;
        if progress && comm.rank() == 0 {
            let simplicity = if want_simple {
                format!("; no repeated neighbour or self-loop: {simple}")
            } else {
                String::new()
            };
            tracing::info!(
                "every edge listed both ways: {symmetric}{simplicity} (checked in {:.3}s)",
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

/// Every vertex of a graph held whole (declared vertices and edge endpoints), ascending
/// and distinct: a vertex's index in it is its dense id in serial references.
pub fn sorted_vertex_ids(
    vertices: &[crate::ids::VertexId],
    endpoints: impl Iterator<Item = crate::ids::VertexId>,
) -> Vec<crate::ids::VertexId> {
    let mut ids: Vec<_> = vertices.iter().copied().chain(endpoints).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A graph taken as undirected and simple, held whole in memory (for serial references
/// and small tools): every vertex by a dense index into `ids`, and its distinct neighbours
/// (edge directions ignored, repeated edges merged, self-loops dropped), ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleAdjacency {
    /// Every declared vertex and edge endpoint, ascending and distinct.
    pub ids: Vec<crate::ids::VertexId>,
    /// `neighbours[i]`: the dense indices of vertex `ids[i]`'s neighbours, ascending.
    pub neighbours: Vec<Vec<usize>>,
}

impl SimpleAdjacency {
    /// The simple undirected graph of `edges` over `vertices` and the edges' endpoints.
    pub fn new(
        edges: &[(crate::ids::VertexId, crate::ids::VertexId)],
        vertices: &[crate::ids::VertexId],
    ) -> Self {
        let ids = sorted_vertex_ids(vertices, edges.iter().flat_map(|&(s, d)| [s, d]));
        let index = |v| ids.binary_search(&v).expect("every endpoint is listed");
        let mut neighbours = vec![Vec::new(); ids.len()];
        for &(s, d) in edges {
            let (s, d) = (index(s), index(d));
            if s != d {
                neighbours[s].push(d);
                neighbours[d].push(s);
            }
        }
        for list in &mut neighbours {
            list.sort_unstable();
            list.dedup();
        }
        SimpleAdjacency { ids, neighbours }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_repeats_and_loops_merge() {
        let adjacency = SimpleAdjacency::new(&[(5, 2), (2, 5), (5, 2), (2, 2), (9, 5)], &[7]);
        assert_eq!(adjacency.ids, vec![2, 5, 7, 9]);
        assert_eq!(
            adjacency.neighbours,
            vec![vec![1], vec![0, 3], vec![], vec![1]]
        );
    }
}
