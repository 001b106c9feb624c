//! Triangle counting: for every vertex, the number of triangles through it, in the graph
//! taken as undirected and simple (edge directions ignored, a pair linked both ways or
//! several times is one edge, self-loops dropped); [`total`] and [`global_total`] give the
//! number of triangles of the whole graph (each one is seen from its three corners).
//!
//! Algorithm: the degree-ordered method (as in gapbs `tc` and Ligra `Triangle`), in two
//! supersteps. Rank every vertex by (degree, id). Superstep 0: every vertex gathers its
//! neighbours' ids and degrees into its sorted, deduplicated neighbour list `N(v)` (itself
//! excluded) and its forward list `F(v)`, the neighbours ranked above it. Each triangle
//! `a < b < c` is then one element of `F(a) ∩ F(b)`, and superstep 1 credits its three
//! corners through two intersections per edge: a vertex `v` adds `|F(v) ∩ F(u)|` over its
//! forward neighbours `u` (triangles where `v` is lowest) and `|F(u) ∩ N(v)|` over the
//! neighbours `u` ranked below it (triangles where `u` is lowest and `v` is one of the
//! other two). Forward lists hold at most `sqrt(2m)` ids, so a hub never intersects its
//! whole neighbour list with another's. When only the total is asked for
//! ([`TrianglesConfig::per_vertex`] off), the first intersection alone counts each triangle
//! once, at its lowest corner, and `N(v)` is never kept.
//!
//! Design: the vertex data moves through three stages ([`TriangleVertex`]); the lists are
//! `Arc<[VertexId]>`, so the engine's per-superstep copy of a vertex's data costs a
//! reference count, not the lists, and they are dropped once counted so the last ghost
//! update carries only the counts. On a simple symmetric graph ([`Undirected`]) each
//! neighbour is read once along out-edges and superstep 1 gathers a plain sum; otherwise
//! gather values carry the neighbour's id, held in a [`GatherList`] (no allocation per
//! vertex), and apply deduplicates parallel and reciprocal edges. The run stops after
//! superstep 1.

use std::sync::Arc;

use gasket_engine::SimpleAdjacency;
use gasket_engine::prelude::*;

/// Supersteps of the scheme: list neighbours, then count.
pub const SUPERSTEPS: usize = 2;

/// Triangle-counting settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrianglesConfig {
    /// Count the triangles through every vertex (each triangle credited to its three
    /// corners: a second intersection per edge). Without it each triangle is counted once,
    /// at its lowest corner in the degree order, which gives the total in about half the
    /// time.
    #[arg(long)]
    pub per_vertex: bool,
}

impl TrianglesConfig {
    /// How many vertices each triangle is credited to in [`run`]'s values.
    pub fn corners(&self) -> u64 {
        if self.per_vertex { 3 } else { 1 }
    }
}

/// A vertex's place in the degree order: `(degree, id)`, compared as a tuple.
pub type RankKey = (u64, VertexId);

/// A vertex's neighbour lists after superstep 0, both sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lists {
    /// Its place in the degree order.
    pub key: RankKey,
    /// Distinct neighbours, itself excluded (empty unless every vertex's count is asked
    /// for).
    pub neighbours: Arc<[VertexId]>,
    /// The neighbours ranked above it (a subset of `neighbours`).
    pub forward: Arc<[VertexId]>,
}

/// Vertex data of [`Triangles`], by stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriangleVertex {
    /// Before superstep 0: the vertex's place in the degree order (its neighbours gather
    /// it).
    Start(RankKey),
    /// After superstep 0: its neighbour and forward lists.
    Listed(Lists),
    /// After superstep 1: triangles through the vertex.
    Counted(u64),
}

impl Wire for TriangleVertex {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            TriangleVertex::Start(key) => {
                out.push(0);
                key.0.encode(out);
                key.1.encode(out);
            }
            TriangleVertex::Listed(lists) => {
                out.push(1);
                lists.key.0.encode(out);
                lists.key.1.encode(out);
                for list in [&lists.neighbours, &lists.forward] {
                    (list.len() as u64).encode(out);
                    for n in list.iter() {
                        n.encode(out);
                    }
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
            0 => TriangleVertex::Start((u64::decode(input), VertexId::decode(input))),
            1 => {
                let key = (u64::decode(input), VertexId::decode(input));
                let neighbours = Vec::<VertexId>::decode(input).into();
                let forward = Vec::<VertexId>::decode(input).into();
                TriangleVertex::Listed(Lists {
                    key,
                    neighbours,
                    forward,
                })
            }
            2 => TriangleVertex::Counted(u64::decode(input)),
            tag => panic!("triangle vertex with unknown stage tag {tag}"),
        }
    }
}

/// The gather accumulator of [`Triangles`].
#[derive(Debug)]
pub enum TriangleGather {
    /// `(neighbour id, value)` pairs, one per edge: the neighbour's degree in superstep 0,
    /// the triangles found through it in superstep 1 (on graphs that need deduplication).
    Pairs(GatherList<(VertexId, u64)>),
    /// Superstep 1 on a simple symmetric graph: the triangles found so far.
    Sum(u64),
}

/// The pairs sorted by id, one per distinct id other than `own`.
fn distinct_without(pairs: &mut GatherList<(VertexId, u64)>, own: VertexId) -> &[(VertexId, u64)] {
    // Copies of one neighbour carry the same value, so sorting by id alone suffices.
    pairs.as_mut_slice().sort_unstable_by_key(|p| p.0);
    pairs.dedup_by_key(|p| p.0);
    pairs.retain(|p| p.0 != own);
    pairs.as_slice()
}

/// `|a ∩ b|` of two sorted, duplicate-free lists: a branch-free merge, or, when one list
/// is more than 16 times longer, a galloping search of the longer for each element of the
/// shorter (doubling steps from the last match, then a binary search in the last step),
/// which costs `O(s log(l / s))` for lengths `s < l`.
pub fn intersection_size(a: &[VertexId], b: &[VertexId]) -> u64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.is_empty() {
        return 0;
    }
    if small.len().saturating_mul(16) < large.len() {
        return galloping_intersection_size(small, large);
    }
    let mut count = 0u64;
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        let (x, y) = (small[i], large[j]);
        count += u64::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    count
}

/// [`intersection_size`] by galloping through `large` for each element of `small`.
fn galloping_intersection_size(small: &[VertexId], large: &[VertexId]) -> u64 {
    let mut count = 0u64;
    let mut rest = large;
    for &x in small {
        // Double the step until it passes `x` (or the end), then search that last step.
        let mut step = 1;
        while step < rest.len() && rest[step - 1] < x {
            step *= 2;
        }
        let window = &rest[step / 2..step.min(rest.len())];
        match window.binary_search(&x) {
            Ok(i) => {
                count += 1;
                rest = &rest[step / 2 + i + 1..];
            }
            Err(i) => rest = &rest[step / 2 + i..],
        }
        if rest.is_empty() {
            break;
        }
    }
    count
}

/// Triangles through `v` found along its edge to `u`: those where `v` is the lowest
/// corner and `u` the middle one when `u` ranks above `v`; with `per_vertex`, those where
/// `u` is the lowest corner when `u` ranks below.
pub fn through_edge(v: &Lists, u: &Lists, per_vertex: bool) -> u64 {
    match u.key.cmp(&v.key) {
        std::cmp::Ordering::Greater => intersection_size(&v.forward, &u.forward),
        std::cmp::Ordering::Less if per_vertex => intersection_size(&u.forward, &v.neighbours),
        _ => 0,
    }
}

/// The two-superstep counting program (vertex data: [`TriangleVertex`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Triangles {
    /// How the graph may be read: on a symmetric graph out-edges reach every neighbour,
    /// and on a simple one superstep 1 sums without deduplicating.
    pub shape: Undirected,
    /// Credit every triangle to its three corners, not only to its lowest.
    pub per_vertex: bool,
}

impl VertexProgram for Triangles {
    type Vertex = TriangleVertex;
    type Edge = ();
    type Gather = TriangleGather;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }

    fn init(&self, v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> TriangleVertex {
        let degree = if self.shape.symmetric {
            v.out_degree()
        } else {
            v.in_degree() + v.out_degree()
        };
        TriangleVertex::Start((degree as u64, v.id()))
    }

    fn gather_edges(&self, v: &VertexRef<'_, TriangleVertex>) -> EdgeDir {
        match v.data() {
            TriangleVertex::Counted(_) => EdgeDir::None,
            _ => self.shape.neighbour_edges(),
        }
    }

    fn gather(
        &self,
        v: &VertexRef<'_, TriangleVertex>,
        _edge: &(),
        other: &TriangleVertex,
    ) -> TriangleGather {
        match (v.data(), other) {
            (TriangleVertex::Listed(mine), TriangleVertex::Listed(theirs)) => {
                let common = through_edge(mine, theirs, self.per_vertex);
                if self.shape.simple {
                    TriangleGather::Sum(common)
                } else {
                    TriangleGather::Pairs(GatherList::one((theirs.key.1, common)))
                }
            }
            (TriangleVertex::Start(_), TriangleVertex::Start((degree, id))) => {
                TriangleGather::Pairs(GatherList::one((*id, *degree)))
            }
            (mine, theirs) => panic!(
                "vertex {} gathered from a vertex in another stage ({mine:?} and {theirs:?})",
                v.id()
            ),
        }
    }

    fn combine(&self, acc: &mut TriangleGather, x: TriangleGather) {
        match (acc, x) {
            (TriangleGather::Pairs(acc), TriangleGather::Pairs(x)) => acc.absorb(x),
            (TriangleGather::Sum(acc), TriangleGather::Sum(x)) => *acc += x,
            (acc, x) => panic!("one superstep gathered sums and pairs ({acc:?} and {x:?})"),
        }
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, TriangleVertex>,
        total: Option<TriangleGather>,
        _ctx: &mut Context<'_, ()>,
    ) {
        let data = v.data_mut();
        *data = match (&*data, total) {
            (TriangleVertex::Start(key), total) => {
                let key = *key;
                let mut pairs = match total {
                    Some(TriangleGather::Pairs(pairs)) => pairs,
                    None => GatherList::one((key.1, 0)),
                    Some(sum) => panic!("superstep 0 gathered a sum ({sum:?})"),
                };
                let distinct = distinct_without(&mut pairs, key.1);
                let neighbours: Arc<[VertexId]> = if self.per_vertex {
                    distinct.iter().map(|p| p.0).collect()
                } else {
                    Arc::new([])
                };
                let forward: Arc<[VertexId]> = distinct
                    .iter()
                    .filter(|&&(id, degree)| (degree, id) > key)
                    .map(|p| p.0)
                    .collect();
                TriangleVertex::Listed(Lists {
                    key,
                    neighbours,
                    forward,
                })
            }
            (TriangleVertex::Listed(lists), total) => TriangleVertex::Counted(match total {
                None => 0,
                Some(TriangleGather::Sum(sum)) => sum,
                Some(TriangleGather::Pairs(mut pairs)) => distinct_without(&mut pairs, lists.key.1)
                    .iter()
                    .map(|p| p.1)
                    .sum(),
            }),
            (TriangleVertex::Counted(t), _) => TriangleVertex::Counted(*t),
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

/// Counts triangles at each owned vertex of this rank's graph (collective): the triangles
/// through it with [`TrianglesConfig::per_vertex`], else those whose lowest corner it is.
/// Combine the values with [`global_total`] for the graph's total.
pub fn run(
    config: &TrianglesConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> Result<RankRun<u64>, EngineError> {
    let program = Triangles {
        shape: Undirected::check(comm, graph.topology(), progress)?,
        per_vertex: config.per_vertex,
    };
    gasket_engine::run_program(
        &program,
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

/// Triangles of the whole graph from every vertex's count through it (each triangle has
/// three corners): pass all vertices' values, e.g. gathered on one rank.
pub fn total(per_vertex: &[(VertexId, u64)]) -> u64 {
    total_of(per_vertex, 3)
}

/// Triangles of the whole graph from every vertex's value of a [`run`] that credited each
/// triangle to `corners` vertices ([`TrianglesConfig::corners`]).
pub fn total_of(values: &[(VertexId, u64)], corners: u64) -> u64 {
    values.iter().map(|&(_, t)| t).sum::<u64>() / corners
}

/// Triangles of the whole graph from each rank's [`run`] with `config` (collective: every
/// rank passes its own run and gets the total).
pub fn global_total(
    comm: &dyn Comm,
    config: &TrianglesConfig,
    run: &RankRun<u64>,
) -> Result<u64, EngineError> {
    let local: u64 = run.values.iter().map(|&(_, t)| t).sum();
    Ok(comm.sum_u64(local)? / config.corners())
}

/// Serial reference by the definition: the triangles through `v` are the edges among its
/// neighbours, so for every neighbour `u` of `v` (in the simple undirected graph) count
/// the neighbours `w > u` of `u` that are also neighbours of `v` (marked in an array).
/// Returns `(vertex, triangles)` sorted by vertex id, for every declared vertex and edge
/// endpoint.
pub fn verify(edges: &[(VertexId, VertexId)], vertices: &[VertexId]) -> Vec<(VertexId, u64)> {
    let SimpleAdjacency {
        ids,
        neighbours: adjacent,
    } = SimpleAdjacency::new(edges, vertices);
    let n = ids.len();
    let mut triangles = vec![0u64; n];
    let mut marked = vec![usize::MAX; n];
    for v in 0..n {
        for &u in &adjacent[v] {
            marked[u] = v;
        }
        for &u in &adjacent[v] {
            triangles[v] += adjacent[u]
                .iter()
                .filter(|&&w| w > u && marked[w] == v)
                .count() as u64;
        }
    }
    ids.into_iter().zip(triangles).collect()
}
