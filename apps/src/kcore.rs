//! k-core decomposition: the coreness of every vertex, the largest `k` such that the vertex
//! lies in a subgraph where every vertex has at least `k` neighbours. The graph is taken as
//! undirected and simple: edge directions are ignored, a pair linked both ways or several
//! times is one neighbour, and self-loops are dropped.
//!
//! Algorithm: the h-index iteration of Montresor, De Pellegrini and Miorandi (2013,
//! "Distributed k-core decomposition"). Every vertex keeps an estimate, an upper bound of its
//! coreness. A vertex that runs lowers it to the h-index of its distinct neighbours'
//! estimates (the largest `h` such that `h` of them are at least `h`), and when it drops
//! from `old` to `new`, signals the neighbours whose estimate `k` it crossed
//! (`old >= k > new`): a neighbour at estimate `k` holds it while `k` of its neighbours are
//! at least `k`, so only a neighbour crossing below `k` can lower it. Estimates never go
//! below the coreness, and the run ends (nothing signalled) exactly on it.
//!
//! Design: gather sees the neighbour's data but not its id, so each vertex carries its own
//! id, and gather hands `(id, estimate)` pairs in a [`GatherList`] (no allocation per
//! vertex: its vector comes from a per-thread pool). Apply takes the h-index by counting
//! into a reused per-task array (values capped at the vertex's estimate, which the new
//! one never exceeds): linear in the degree, no sort. On a simple symmetric graph
//! ([`Undirected`]) each neighbour is read once along out-edges; otherwise both directions
//! are read and the pairs are first sorted by id and deduplicated. `init` sees degrees but
//! not neighbours: the first estimate is the degree counted with multiplicity, an upper
//! bound, and superstep 0 runs every vertex, which brings it down to at most the number of
//! distinct neighbours, where the paper starts. Signals go through `signal_along` (the
//! vertex keeps its estimate before its last run), so the engine pushes from the few
//! vertices that dropped or, when they are many, pulls, each vertex stopping at its first
//! signal; the engine's scatter sees every neighbour's estimate of this superstep, which
//! the crossing test needs.

use gasket_engine::SimpleAdjacency;
use gasket_engine::prelude::*;
use gasket_engine::sync::DEFAULT_MAX_ITERATIONS;

/// Default iteration limit (the engine's; the iteration converges long before on real
/// graphs).
pub const MAX_ITERATIONS: usize = DEFAULT_MAX_ITERATIONS;

/// k-core settings.
#[derive(Debug, Clone, clap::Args)]
pub struct KCoreConfig {
    /// Stop after this many supersteps (estimates are then upper bounds of the coreness).
    #[arg(long = "iterations", default_value_t = MAX_ITERATIONS)]
    pub max_iterations: usize,
}

impl Default for KCoreConfig {
    fn default() -> Self {
        KCoreConfig {
            max_iterations: MAX_ITERATIONS,
        }
    }
}

/// Vertex data of [`KCore`]: the vertex's own id (for its neighbours' deduplication), its
/// coreness estimate, and the estimate before its last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreVertex {
    /// The vertex's global id.
    pub id: VertexId,
    /// Current estimate: an upper bound of the coreness, equal to it at the end.
    pub core: u32,
    /// The estimate before the vertex's last run (equal to `core` unless it dropped then).
    pub previous: u32,
}

impl Wire for CoreVertex {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        self.core.encode(out);
        self.previous.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        CoreVertex {
            id: VertexId::decode(input),
            core: u32::decode(input),
            previous: u32::decode(input),
        }
    }
}

/// The gather accumulator of [`KCore`]: neighbours' `(id, estimate)` pairs, one per edge
/// (so a neighbour linked twice appears twice).
pub type Estimates = GatherList<(VertexId, u32)>;

/// The h-index of the distinct neighbours' estimates, `own` (self-loops) excluded, capped
/// at `cap` (the vertex's estimate: the result is `min(h-index, cap)`). `distinct` says
/// the list names each neighbour once and never `own`; otherwise it is sorted by id and
/// deduplicated first. `count` is a reused array, left zeroed.
fn h_index(
    mut estimates: Estimates,
    own: VertexId,
    cap: u32,
    distinct: bool,
    count: &mut Vec<u32>,
) -> u32 {
    if !distinct {
        estimates.as_mut_slice().sort_unstable_by_key(|p| p.0);
        estimates.dedup_by_key(|p| p.0);
        estimates.retain(|p| p.0 != own);
    }
    let values = estimates.as_slice();
    // An h-index is at most the number of values.
    let cap = cap.min(u32::try_from(values.len()).unwrap_or(u32::MAX)) as usize;
    if count.len() <= cap {
        count.resize(cap + 1, 0);
    }
    for &(_, core) in values {
        count[(core as usize).min(cap)] += 1;
    }
    // The largest h with at least h values >= h.
    let mut at_least = 0u32;
    let mut h = cap;
    while h > 0 {
        at_least += count[h];
        if at_least as usize >= h {
            break;
        }
        h -= 1;
    }
    count[..=cap].fill(0);
    h as u32
}

/// The h-index program (vertex data: [`CoreVertex`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct KCore {
    /// How the graph may be read: on a symmetric graph out-edges reach every neighbour,
    /// and on a simple one the gathered estimates need no deduplication.
    pub shape: Undirected,
}

impl VertexProgram for KCore {
    type Vertex = CoreVertex;
    type Edge = ();
    type Gather = Estimates;
    type Message = ();

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> CoreVertex {
        ctx.signal(v.handle());
        let degree = v.in_degree().saturating_add(v.out_degree());
        let core = u32::try_from(degree).unwrap_or(u32::MAX);
        CoreVertex {
            id: v.id(),
            core,
            previous: core,
        }
    }

    fn gather_edges(&self, _v: &VertexRef<'_, CoreVertex>) -> EdgeDir {
        self.shape.neighbour_edges()
    }

    fn gather(&self, _v: &VertexRef<'_, CoreVertex>, _edge: &(), other: &CoreVertex) -> Estimates {
        GatherList::one((other.id, other.core))
    }

    fn combine(&self, acc: &mut Estimates, x: Estimates) {
        acc.absorb(x);
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, CoreVertex>,
        total: Option<Estimates>,
        ctx: &mut Context<'_, ()>,
    ) {
        let data = v.data_mut();
        let count = ctx.scratch::<Vec<u32>>();
        let h = total.map_or(0, |t| {
            h_index(t, data.id, data.core, self.shape.simple, count)
        });
        data.previous = data.core;
        data.core = data.core.min(h);
    }

    fn signal_edges(&self) -> EdgeDir {
        self.shape.neighbour_edges()
    }

    fn signal_along(&self, src: &CoreVertex, _edge: &(), dst: &CoreVertex) -> Option<()> {
        // Only a neighbour whose estimate the drop crossed loses a supporter at its level.
        (src.previous >= dst.core && dst.core > src.core).then_some(())
    }

    fn wants_signal(&self, _dst: &CoreVertex, received: Option<&()>) -> bool {
        received.is_none()
    }
}

/// Runs the k-core decomposition on this rank's graph (collective); returns the owned
/// vertices' coreness.
pub fn run(
    config: &KCoreConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> Result<RankRun<u32>, EngineError> {
    let program = KCore {
        shape: Undirected::check(comm, graph.topology(), progress)?,
    };
    gasket_engine::run_program(
        &program,
        comm,
        graph,
        SyncConfig {
            max_iterations: config.max_iterations,
            log_progress: progress,
            ..SyncConfig::default()
        },
        |v| v.data().core,
    )
}

/// Serial reference: Batagelj–Zaversnik bucket peeling (O(m)) on the deduplicated
/// undirected graph. Returns `(vertex, coreness)` sorted by vertex id, for every declared
/// vertex and edge endpoint.
pub fn verify(edges: &[(VertexId, VertexId)], vertices: &[VertexId]) -> Vec<(VertexId, u32)> {
    let SimpleAdjacency {
        ids,
        neighbours: adj,
    } = SimpleAdjacency::new(edges, vertices);
    let n = ids.len();

    // Vertices sorted by degree (counting sort); `pos` is each vertex's place in `order`,
    // `start[d]` the first place of degree d. Peeling the vertex of least degree moves each
    // neighbour of larger degree to the front of its bucket, then shrinks that bucket.
    let mut degree: Vec<usize> = adj.iter().map(Vec::len).collect();
    let max_degree = degree.iter().copied().max().unwrap_or(0);
    let mut start = vec![0usize; max_degree + 2];
    for &d in &degree {
        start[d + 1] += 1;
    }
    for d in 1..start.len() {
        start[d] += start[d - 1];
    }
    let mut order = vec![0usize; n];
    let mut pos = vec![0usize; n];
    {
        let mut next = start.clone();
        for v in 0..n {
            pos[v] = next[degree[v]];
            order[pos[v]] = v;
            next[degree[v]] += 1;
        }
    }
    for i in 0..n {
        let v = order[i];
        for &u in &adj[v] {
            if degree[u] > degree[v] {
                let du = degree[u];
                let first = start[du];
                let w = order[first];
                if w != u {
                    order.swap(pos[u], first);
                    pos[w] = pos[u];
                    pos[u] = first;
                }
                start[du] += 1;
                degree[u] -= 1;
            }
        }
    }
    ids.iter()
        .zip(&degree)
        .map(|(&id, &core)| (id, u32::try_from(core).expect("a coreness fits in u32")))
        .collect()
}
