//! Single-source shortest paths (Bellman-Ford style, push-based).
//!
//! The source starts at distance 0 and active. An active vertex offers `dist + w` to each
//! out-neighbour whose distance is larger, as a message combined by `min`; a vertex takes
//! the smallest offer. Runs until no distance improves. Weights come from the third column
//! of the input; without weights every edge has length 1 (hop counts). Weights must be
//! non-negative (checked at load time), so the fixed point equals Dijkstra's answer
//! exactly, also in floating point: addition is monotone and both compute the minimum
//! over the same left-to-right path sums.

use gasket_engine::prelude::*;

/// Default iteration limit (the engine's).
pub const MAX_ITERATIONS: usize = gasket_engine::sync::DEFAULT_MAX_ITERATIONS;

/// SSSP settings.
#[derive(Debug, Clone, clap::Args)]
pub struct SsspConfig {
    /// The source vertex (an id as in the input). Default: the smallest id in the graph.
    #[arg(long)]
    pub source: Option<VertexId>,
    /// Stop after this many supersteps.
    #[arg(long = "iterations", default_value_t = MAX_ITERATIONS)]
    pub max_iterations: usize,
    /// Checkpoints and resuming.
    #[command(flatten)]
    pub checkpoint: crate::checkpointing::CheckpointArgs,
    /// Push or pull.
    #[command(flatten)]
    pub direction: crate::run::DirectionArgs,
}

impl Default for SsspConfig {
    fn default() -> Self {
        SsspConfig {
            source: None,
            max_iterations: MAX_ITERATIONS,
            checkpoint: Default::default(),
            direction: Default::default(),
        }
    }
}

/// Edge data SSSP reads as an edge's length: `f64` weights, or `()` on a graph without
/// weights, where every edge has length 1 (hop counts, BFS) and no edge data is stored.
pub trait EdgeLength: Wire + Send + Sync {
    /// Whether every edge has length 1.
    const UNIT: bool;
    /// The length.
    fn length(&self) -> f64;
}

impl EdgeLength for f64 {
    const UNIT: bool = false;
    #[inline]
    fn length(&self) -> f64 {
        *self
    }
}

impl EdgeLength for () {
    const UNIT: bool = true;
    #[inline]
    fn length(&self) -> f64 {
        1.0
    }
}

/// The SSSP program (vertex data: the tentative distance, `f64::INFINITY` = unreached),
/// over edges whose data is their length (`L`: `f64` weights or `()` for hop counts).
#[derive(Debug, Clone, Copy)]
pub struct Sssp<L = f64> {
    /// The source vertex.
    pub source: VertexId,
    length: std::marker::PhantomData<fn() -> L>,
}

impl<L> Sssp<L> {
    /// Shortest paths from `source`.
    pub fn new(source: VertexId) -> Self {
        Sssp {
            source,
            length: std::marker::PhantomData,
        }
    }
}

impl<L: EdgeLength> VertexProgram for Sssp<L> {
    type Vertex = f64;
    type Edge = L;
    type Gather = ();
    type Message = f64;

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, f64>) -> f64 {
        if v.id() == self.source {
            ctx.signal_with(v.handle(), 0.0);
        }
        f64::INFINITY
    }

    fn apply(&self, v: &mut VertexMut<'_, f64>, _total: Option<()>, ctx: &mut Context<'_, f64>) {
        if let Some(&offer) = ctx.message() {
            let data = v.data_mut();
            *data = data.min(offer);
        }
    }

    fn signal_edges(&self) -> EdgeDir {
        EdgeDir::Out
    }

    fn signal_along(&self, src: &f64, edge: &L, dst: &f64) -> Option<f64> {
        let offer = *src + edge.length();
        (offer < *dst).then_some(offer)
    }

    /// With unit lengths the synchronous supersteps are BFS levels: every vertex active in
    /// a superstep holds the same distance (its level), so a vertex already reached, or
    /// offered a distance in this superstep, takes no better offer (the pull stops at the
    /// first active in-neighbour, as direction-optimizing BFS does). With weights every
    /// offer counts.
    fn wants_signal(&self, dst: &f64, received: Option<&f64>) -> bool {
        !L::UNIT || (dst.is_infinite() && received.is_none())
    }

    fn combine_messages(&self, acc: &mut f64, msg: f64) {
        *acc = acc.min(msg);
    }

    /// Nearer first, as Dijkstra's algorithm: the priority scheduler orders by powers of
    /// two of `1 / (1 + distance)`, so distances in `[2^k - 1, 2^(k+1) - 1)` share a
    /// bucket (run in arrival order) and every bucket of nearer ones runs first.
    fn priority(&self, offer: &f64, _out_degree: usize) -> f64 {
        1.0 / (1.0 + offer)
    }
}

/// The engine's input from this rank's edges: the file's weights (1 per edge when it has
/// none), each checked to be usable for shortest paths (not negative, not NaN).
pub fn weighted_input(
    name: &str,
    edges: gasket_datasets::EdgeList,
) -> Result<EdgeInput<f64>, EngineError> {
    let weights = edges.weight.unwrap_or_else(|| vec![1.0; edges.src.len()]);
    if let Some(i) = weights.iter().position(|w| w.is_nan() || *w < 0.0) {
        return Err(EngineError::input(crate::AppError::Config(format!(
            "{name}: edge {} -> {} has weight {}; shortest paths need non-negative weights",
            edges.src[i], edges.dst[i], weights[i]
        ))));
    }
    Ok(EdgeInput {
        src: edges.src,
        dst: edges.dst,
        data: weights,
        vertices: edges.vertices,
        ..EdgeInput::default()
    })
}

/// Runs SSSP from `source` on this rank's graph (collective); returns owned vertices'
/// distances. Fails on every rank when no rank owns `source`.
pub fn run<L: EdgeLength>(
    config: &SsspConfig,
    source: VertexId,
    comm: &dyn Comm,
    graph: &mut LocalGraph<L>,
    progress: bool,
) -> crate::Result<RankRun<f64>> {
    check_source(source, comm, graph)?;
    let program = Sssp::<L>::new(source);
    let sync = SyncConfig {
        max_iterations: config.max_iterations,
        log_progress: progress,
        checkpoint: config.checkpoint.settings(1),
        direction: config.direction.rule(),
    };
    Ok(run_program(&program, comm, graph, sync, |v| *v.data())?)
}

/// Fails on every rank when no rank owns `source` (collective).
fn check_source<L>(source: VertexId, comm: &dyn Comm, graph: &LocalGraph<L>) -> crate::Result<()> {
    if !comm.any(graph.owned_local_id(source).is_some())? {
        return Err(crate::AppError::Config(format!(
            "--source {source} is not a vertex of the graph"
        )));
    }
    Ok(())
}

/// Runs SSSP from `source` with the asynchronous engine (collective): signals carry
/// tentative distances, combined by `min`.
pub fn run_async<L: EdgeLength>(
    source: VertexId,
    comm: &dyn Comm,
    graph: &mut LocalGraph<L>,
    config: AsyncConfig,
) -> crate::Result<RankRun<f64>> {
    check_source(source, comm, graph)?;
    Ok(run_program_async(
        &Sssp::<L>::new(source),
        comm,
        graph,
        config,
        |v| *v.data(),
    )?)
}

/// The smallest vertex id of the graph (the default source). Collective.
pub fn smallest_vertex(comm: &dyn Comm, topo: &gasket_engine::Topology) -> crate::Result<VertexId> {
    let mut v = [topo.global_ids()[..topo.num_owned()]
        .iter()
        .min()
        .copied()
        .unwrap_or(u64::MAX)];
    comm.all_reduce_u64(&mut v, ReduceOp::Min)?;
    Ok(v[0])
}

/// Serial reference: Dijkstra with a binary heap. Returns `(vertex, distance)` sorted by id.
pub fn verify(
    edges: &[(VertexId, VertexId, f64)],
    vertices: &[VertexId],
    source: VertexId,
) -> Vec<(VertexId, f64)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let ids = crate::run::sorted_vertex_ids(vertices, edges.iter().flat_map(|&(s, d, _)| [s, d]));
    let index = |v: VertexId| ids.binary_search(&v).expect("listed");
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); ids.len()];
    for &(s, d, w) in edges {
        adj[index(s)].push((index(d), w));
    }
    let mut dist = vec![f64::INFINITY; ids.len()];
    let mut heap = BinaryHeap::new();
    if let Ok(s) = ids.binary_search(&source) {
        dist[s] = 0.0;
        heap.push(Reverse((OrdF64(0.0), s)));
    }
    while let Some(Reverse((OrdF64(d), u))) = heap.pop() {
        if d > dist[u] {
            continue;
        }
        for &(v, w) in &adj[u] {
            let nd = d + w;
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Reverse((OrdF64(nd), v)));
            }
        }
    }
    ids.into_iter().zip(dist).collect()
}

/// A totally ordered non-NaN `f64` for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
