//! Triangle counting: for every vertex, the number of triangles through it, in the graph
//! taken as undirected and simple (edge directions ignored, a pair linked both ways or
//! several times is one edge, self-loops dropped); [`total`] and [`global_total`] give the
//! number of triangles of the whole graph (each one is seen from its three corners).
//!
//! Algorithm: GraphLab's two-superstep scheme. Superstep 0: every vertex gathers its
//! neighbours' ids into a sorted, deduplicated set `N(v)` without itself. Superstep 1: every
//! vertex gathers, over every edge to a neighbour `u`, `|N(v) ∩ N(u)|` by a sorted-merge
//! intersection (binary searches when one set is far smaller), deduplicates by `u`, and
//! halves the sum: each triangle `{v, u, w}` is found through `u` and through `w`.
//!
//! Design: the vertex data moves through three stages ([`TriangleVertex`]); the neighbour
//! set is an `Arc<[VertexId]>`, so the engine's per-superstep copy of a vertex's data costs
//! a reference count, not the set, and the set is dropped once counted so the last ghost
//! update carries only the counts. Gather values carry the neighbour's id (for the
//! deduplication of parallel and reciprocal edges) and are held inline for a single edge
//! ([`GatherList::One`]), so no edge allocates. The run stops after superstep 1.

use std::sync::Arc;

use gasket_engine::prelude::*;

/// Supersteps of the scheme: list neighbours, then count.
pub const SUPERSTEPS: usize = 2;

/// Triangle-counting settings (none yet: the scheme always runs two supersteps).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrianglesConfig {}

/// Vertex data of [`Triangles`], by stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriangleVertex {
    /// Before superstep 0: the vertex's id (its neighbours gather it).
    Start(VertexId),
    /// After superstep 0: the id and the sorted distinct neighbour ids, itself excluded.
    Listed(VertexId, Arc<[VertexId]>),
    /// After superstep 1: triangles through the vertex.
    Counted(u64),
}

impl TriangleVertex {
    /// The vertex id, in the stages that carry it.
    fn id(&self) -> VertexId {
        match self {
            TriangleVertex::Start(id) | TriangleVertex::Listed(id, _) => *id,
            TriangleVertex::Counted(_) => {
                panic!("a counted vertex is never gathered (the run stops after counting)")
            }
        }
    }
}

impl Wire for TriangleVertex {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            TriangleVertex::Start(id) => {
                out.push(0);
                id.encode(out);
            }
            TriangleVertex::Listed(id, neighbours) => {
                out.push(1);
                id.encode(out);
                (neighbours.len() as u64).encode(out);
                for n in neighbours.iter() {
                    n.encode(out);
                }
            }
            TriangleVertex::Counted(t) => {
                out.push(2);
                t.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        match u8::decode(input) {
            0 => TriangleVertex::Start(VertexId::decode(input)),
            1 => {
                let id = VertexId::decode(input);
                TriangleVertex::Listed(id, Vec::<VertexId>::decode(input).into())
            }
            2 => TriangleVertex::Counted(u64::decode(input)),
            tag => panic!("triangle vertex with unknown stage tag {tag}"),
        }
    }
}

/// The gather accumulator of [`Triangles`]: `(neighbour id, common neighbours)` pairs, one
/// per edge (the count is 0 in superstep 0, which only lists ids).
pub type Pairs = GatherList<(VertexId, u64)>;

/// The pairs sorted by id, one per distinct id other than `own`.
fn distinct_without(pairs: Pairs, own: VertexId) -> Vec<(VertexId, u64)> {
    let mut list = pairs.into_vec();
    // Copies of one neighbour carry the same count, so sorting by id alone suffices.
    list.sort_unstable_by_key(|p| p.0);
    list.dedup_by_key(|p| p.0);
    list.retain(|p| p.0 != own);
    list
}

/// `|a ∩ b|` of two sorted, duplicate-free lists: a merge, or binary searches of the
/// smaller list's elements in the shrinking rest of the larger when it is 32 times longer.
pub fn intersection_size(a: &[VertexId], b: &[VertexId]) -> u64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.is_empty() {
        return 0;
    }
    let mut count = 0u64;
    if small.len().saturating_mul(32) < large.len() {
        let mut rest = large;
        for x in small {
            match rest.binary_search(x) {
                Ok(i) => {
                    count += 1;
                    rest = &rest[i + 1..];
                }
                Err(i) => rest = &rest[i..],
            }
        }
        return count;
    }
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        let (x, y) = (small[i], large[j]);
        count += u64::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    count
}

/// The two-superstep counting program (vertex data: [`TriangleVertex`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Triangles;

impl VertexProgram for Triangles {
    type Vertex = TriangleVertex;
    type Edge = ();
    type Gather = Pairs;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }

    fn init(&self, v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> TriangleVertex {
        TriangleVertex::Start(v.id())
    }

    fn gather_edges(&self, v: &VertexRef<'_, TriangleVertex>) -> EdgeDir {
        match v.data() {
            TriangleVertex::Counted(_) => EdgeDir::None,
            _ => EdgeDir::All,
        }
    }

    fn gather(
        &self,
        v: &VertexRef<'_, TriangleVertex>,
        _edge: &(),
        other: &TriangleVertex,
    ) -> Pairs {
        match (v.data(), other) {
            (TriangleVertex::Listed(own, mine), TriangleVertex::Listed(id, theirs)) => {
                let common = if id == own {
                    0
                } else {
                    intersection_size(mine, theirs)
                };
                GatherList::One((*id, common))
            }
            _ => GatherList::One((other.id(), 0)),
        }
    }

    fn combine(&self, acc: &mut Pairs, x: Pairs) {
        acc.absorb(x);
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, TriangleVertex>,
        total: Option<Pairs>,
        _ctx: &mut Context<'_, ()>,
    ) {
        let data = v.data_mut();
        *data = match &*data {
            TriangleVertex::Start(own) => {
                let own = *own;
                let neighbours: Vec<VertexId> = total
                    .map(|t| distinct_without(t, own))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| p.0)
                    .collect();
                TriangleVertex::Listed(own, neighbours.into())
            }
            TriangleVertex::Listed(own, _) => {
                let twice: u64 = total
                    .map(|t| distinct_without(t, *own))
                    .unwrap_or_default()
                    .iter()
                    .map(|p| p.1)
                    .sum();
                debug_assert!(twice % 2 == 0, "each triangle is found twice");
                TriangleVertex::Counted(twice / 2)
            }
            TriangleVertex::Counted(t) => TriangleVertex::Counted(*t),
        };
    }

    fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
        if info.iteration + 1 >= SUPERSTEPS {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Counts the triangles through each owned vertex of this rank's graph (collective).
/// Combine the values with [`global_total`] for the graph's total.
pub fn run(
    _config: &TrianglesConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> Result<RankRun<u64>, EngineError> {
    gasket_engine::run_program(
        &Triangles,
        comm,
        graph,
        SyncConfig {
            max_iterations: SUPERSTEPS,
            log_progress: progress,
            ..SyncConfig::default()
        },
        |v| match v.data() {
            TriangleVertex::Counted(t) => *t,
            other => panic!(
                "vertex {} ended uncounted ({other:?}): the run always takes {SUPERSTEPS} supersteps",
                v.id()
            ),
        },
    )
}

/// Triangles of the whole graph from every vertex's count (each triangle has three
/// corners): pass all vertices' values, e.g. gathered on one rank.
pub fn total(per_vertex: &[(VertexId, u64)]) -> u64 {
    per_vertex.iter().map(|&(_, t)| t).sum::<u64>() / 3
}

/// Triangles of the whole graph from each rank's [`run`] (collective: every rank passes its
/// own run and gets the total).
pub fn global_total(comm: &dyn Comm, run: &RankRun<u64>) -> Result<u64, EngineError> {
    let local: u64 = run.values.iter().map(|&(_, t)| t).sum();
    Ok(comm.sum_u64(local)? / 3)
}

/// Serial reference by another method: orient every edge of the simple undirected graph
/// from the endpoint of smaller (degree, id) to the larger, and for each oriented edge
/// `v -> u` look for the `w` in both forward lists (marked in an array). Every triangle is
/// found once, from its lowest corner. Returns `(vertex, triangles)` sorted by vertex id,
/// for every declared vertex and edge endpoint.
pub fn verify(edges: &[(VertexId, VertexId)], vertices: &[VertexId]) -> Vec<(VertexId, u64)> {
    let mut ids: Vec<VertexId> = vertices
        .iter()
        .copied()
        .chain(edges.iter().flat_map(|&(s, d)| [s, d]))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let index = |v: VertexId| ids.binary_search(&v).expect("every endpoint is listed");
    let n = ids.len();
    let mut pairs: Vec<(usize, usize)> = edges
        .iter()
        .filter(|&&(s, d)| s != d)
        .map(|&(s, d)| {
            let (s, d) = (index(s), index(d));
            (s.min(d), s.max(d))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut degree = vec![0usize; n];
    for &(a, b) in &pairs {
        degree[a] += 1;
        degree[b] += 1;
    }
    let mut forward: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &pairs {
        if (degree[a], a) < (degree[b], b) {
            forward[a].push(b);
        } else {
            forward[b].push(a);
        }
    }
    let mut triangles = vec![0u64; n];
    let mut mark = vec![usize::MAX; n];
    for v in 0..n {
        for &u in &forward[v] {
            mark[u] = v;
        }
        for &u in &forward[v] {
            for &w in &forward[u] {
                if mark[w] == v {
                    triangles[v] += 1;
                    triangles[u] += 1;
                    triangles[w] += 1;
                }
            }
        }
    }
    ids.into_iter().zip(triangles).collect()
}
