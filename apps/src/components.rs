//! Weakly connected components by min-label propagation.
//!
//! Every vertex starts with its own id as label and is active. An active vertex offers its
//! label to every neighbour (both edge directions) whose label is larger, as a message
//! combined by `min`; a vertex takes the smallest label offered. When no vertex changes,
//! each label is the smallest id of its component. Supersteps are bounded by the largest
//! component diameter plus one.
//!
//! On a graph that lists both directions of every edge (checked in one pass before the
//! run) labels follow out-edges only, the other direction being the same edges again.
//!
//! Design: label propagation signals through `signal_along` (no gather), so the engine
//! pushes along the edges of the vertices that changed when they are few, and pulls over
//! every vertex's edges from changed neighbours when they are many (the first supersteps
//! on a large component); the frontier turns sparse as components settle.

use gasket_engine::prelude::*;

/// Default iteration limit (the engine's).
pub const MAX_ITERATIONS: usize = gasket_engine::sync::DEFAULT_MAX_ITERATIONS;

/// Connected-components settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ComponentsConfig {
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

impl Default for ComponentsConfig {
    fn default() -> Self {
        ComponentsConfig {
            max_iterations: MAX_ITERATIONS,
            checkpoint: Default::default(),
            direction: Default::default(),
        }
    }
}

/// The label-propagation program (vertex data: the current label).
#[derive(Debug, Clone, Copy, Default)]
pub struct Components {
    /// The graph lists both directions of every edge ([`gasket_engine::Topology::is_symmetric`]): labels
    /// then travel along out-edges only, which reach every neighbour (half the edges of
    /// following both directions; `min` does not count repeats, so the result is the same).
    pub symmetric: bool,
}

impl VertexProgram for Components {
    type Vertex = VertexId;
    type Edge = ();
    type Gather = ();
    type Message = VertexId;

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, VertexId>) -> VertexId {
        ctx.signal_with(v.handle(), v.id());
        v.id()
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, VertexId>,
        _total: Option<()>,
        ctx: &mut Context<'_, VertexId>,
    ) {
        if let Some(&label) = ctx.message() {
            let data = v.data_mut();
            *data = (*data).min(label);
        }
    }

    fn signal_edges(&self) -> EdgeDir {
        if self.symmetric {
            EdgeDir::Out
        } else {
            EdgeDir::All
        }
    }

    fn signal_along(&self, src: &VertexId, _edge: &(), dst: &VertexId) -> Option<VertexId> {
        (*dst > *src).then_some(*src)
    }

    fn combine_messages(&self, acc: &mut VertexId, msg: VertexId) {
        *acc = (*acc).min(msg);
    }

    /// Smaller labels first: the priority scheduler spreads the smallest label before the
    /// ones it will overwrite, so most vertices change label once or twice.
    fn priority(&self, label: &VertexId, _out_degree: usize) -> f64 {
        1.0 / (1.0 + *label as f64)
    }
}

/// Runs components on this rank's graph (collective); returns owned vertices' labels.
pub fn run(
    config: &ComponentsConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> crate::Result<RankRun<VertexId>> {
    let sync = SyncConfig {
        max_iterations: config.max_iterations,
        log_progress: progress,
        checkpoint: config.checkpoint.settings(1),
        direction: config.direction.rule(),
    };
    let program = Components {
        symmetric: Undirected::check_symmetry(comm, graph.topology(), progress)?.symmetric,
    };
    Ok(run_program(&program, comm, graph, sync, |v| *v.data())?)
}

/// Serial reference: union-find with path halving; label = smallest id of the component.
/// Returns `(vertex, label)` sorted by vertex id.
pub fn verify(edges: &[(VertexId, VertexId)], vertices: &[VertexId]) -> Vec<(VertexId, VertexId)> {
    let ids = crate::run::sorted_vertex_ids(vertices, edges.iter().flat_map(|&(s, d)| [s, d]));
    let index = |v: VertexId| ids.binary_search(&v).expect("listed");
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for &(s, d) in edges {
        let (a, b) = (find(&mut parent, index(s)), find(&mut parent, index(d)));
        // Keep the smaller index (= smaller id, ids are sorted) as the root.
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent[hi] = lo;
        }
    }
    (0..ids.len())
        .map(|v| (ids[v], ids[find(&mut parent, v)]))
        .collect()
}
