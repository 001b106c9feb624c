//! Where a rank's edges come from ([`GraphSource`]) and which rank owns each vertex
//! ([`Placement`]): the two seams through which readers and partitioners plug into the
//! launcher. The engine implements each once ([`InMemory`], [`Hashed`]); gasket-datasets
//! implements `GraphSource` for files and gasket-partitioning `Placement` for its
//! partitioners.

use crate::comm::Comm;
use crate::error::Result;
use crate::graph::{EdgeInput, LocalGraph};
use crate::ids::VertexId;
use crate::ownership::{HashOwnership, Ownership};

/// Reads this rank's share of a graph's edges (collective: every rank calls it, each
/// returns a disjoint part; together the parts are the whole graph).
pub trait GraphSource<E>: Sync {
    /// A name for messages (a file name).
    fn name(&self) -> String;
    /// This rank's edges, with their data, and the vertices declared without edges.
    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<E>>;

    /// The whole graph already built, for a run on one rank, when this source stores it in
    /// the engine's layout (a binary graph file; see [`WholeGraph`](crate::graph::WholeGraph));
    /// `None` (the default) to be read with [`read`](Self::read) and built. The launcher
    /// asks only when one rank runs and its placement does not look at the edges.
    fn read_built(&self, _comm: &dyn Comm) -> Result<Option<LocalGraph<E>>> {
        Ok(None)
    }
}

/// Decides which rank owns each vertex (collective).
pub trait Placement: Sync {
    /// A name for logs and metrics.
    fn name(&self) -> String;
    /// The vertex -> rank map for `comm.size()` ranks, from the edges each rank read.
    fn ownership(&self, comm: &dyn Comm, edges: EdgeEnds<'_>) -> Result<Box<dyn Ownership>>;

    /// Whether [`ownership`](Self::ownership) on one rank does more than give every vertex
    /// to rank 0 (a partition file checks that it covers the graph): then the launcher never
    /// skips it by loading a built graph ([`GraphSource::read_built`]).
    fn uses_edges_on_one_rank(&self) -> bool {
        false
    }
}

/// The endpoints of the edges this rank read, for a [`Placement`].
#[derive(Debug, Clone, Copy)]
pub struct EdgeEnds<'a> {
    /// Source of each edge.
    pub src: &'a [VertexId],
    /// Target of each edge.
    pub dst: &'a [VertexId],
    /// Vertices declared without edges.
    pub vertices: &'a [VertexId],
}

/// Placement by a hash of the vertex id ([`HashOwnership`]): no communication, even vertex
/// counts, no locality. The launcher's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hashed;

impl Placement for Hashed {
    fn name(&self) -> String {
        "hash".into()
    }
    fn ownership(&self, comm: &dyn Comm, _edges: EdgeEnds<'_>) -> Result<Box<dyn Ownership>> {
        Ok(Box::new(HashOwnership::new(comm.size())))
    }
}

/// A graph held in memory by every process (e.g. built by the caller); each rank takes
/// every `size`-th edge and vertex, as if it had read its part of a file.
#[derive(Debug, Clone, Default)]
pub struct InMemory<E> {
    /// `(source, target, data)` of every edge.
    pub edges: Vec<(VertexId, VertexId, E)>,
    /// Vertices that exist even without edges.
    pub vertices: Vec<VertexId>,
}

impl<E> InMemory<E> {
    /// A graph of these edges and no isolated vertices.
    pub fn new(edges: Vec<(VertexId, VertexId, E)>) -> Self {
        InMemory {
            edges,
            vertices: Vec::new(),
        }
    }
}

impl<E: Clone + Sync> GraphSource<E> for InMemory<E> {
    fn name(&self) -> String {
        format!("an in-memory graph of {} edges", self.edges.len())
    }
    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<E>> {
        let (rank, size) = (comm.rank(), comm.size());
        let mut input = EdgeInput::default();
        for (s, d, e) in self.edges.iter().skip(rank).step_by(size) {
            input.src.push(*s);
            input.dst.push(*d);
            input.data.push(e.clone());
        }
        input.vertices = self
            .vertices
            .iter()
            .skip(rank)
            .step_by(size)
            .copied()
            .collect();
        Ok(input)
    }
}
