//! Delta PageRank: the PageRank of `pagerank` with dangling rank dropped (`--dangling
//! ignore`), computed by pushing changes instead of recomputing every vertex, the form that
//! suits the asynchronous engine.
//!
//! PageRank with dropped dangling mass is the solution of `r = (1-d)/N + d A^T D^-1 r`.
//! Starting from `r = 0` with a residual of `(1-d)/N` at every vertex, a vertex that holds
//! residual `x` adds it to its rank and owes `d x / outdeg` to each out-neighbour; summing
//! those pushes in any order converges to the solution (every push moves mass from a
//! residual into ranks, and what is pushed on shrinks by `d`). Residuals travel as signal
//! messages, summed when a vertex is signalled twice, and the priority scheduler runs the
//! largest residual first. A vertex keeps residual below `epsilon` instead of pushing it,
//! so the run ends; the rank of every vertex is then low by at most the residual still
//! held in the graph, `N epsilon`, spread through `1/(1-d)` hops: `epsilon = tol (1-d) / N`
//! bounds each vertex's error by `tol`.
//!
//! The same program runs on the synchronous engine (signals become supersteps), which the
//! tests use as a cross-check.

use gasket_engine::prelude::*;

/// Vertex data: the rank so far, residual held back, and residual being pushed this run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeltaRank {
    /// Rank accumulated so far.
    pub rank: f64,
    /// Residual received but not yet pushed (below the threshold).
    pub held: f64,
    /// Residual this run pushes to the out-neighbours (set by apply, read by scatter).
    pub pushing: f64,
}

impl Wire for DeltaRank {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.rank, self.held, self.pushing).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let (rank, held, pushing) = <(f64, f64, f64)>::decode(input);
        DeltaRank {
            rank,
            held,
            pushing,
        }
    }
}

/// The delta PageRank program.
#[derive(Debug, Clone, Copy)]
pub struct DeltaPageRank {
    /// Damping factor d.
    pub damping: f64,
    /// Residual below which a vertex holds instead of pushing.
    pub epsilon: f64,
}

impl DeltaPageRank {
    /// The program for damping `d` whose every rank is within `tol` of the fixed point on
    /// a graph of `n` vertices.
    pub fn new(damping: f64, tol: f64, n: u64) -> Self {
        DeltaPageRank {
            damping,
            epsilon: tol * (1.0 - damping) / n.max(1) as f64,
        }
    }
}

impl VertexProgram for DeltaPageRank {
    type Vertex = DeltaRank;
    type Edge = ();
    type Gather = ();
    type Message = f64;

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, f64>) -> DeltaRank {
        let start = (1.0 - self.damping) * ctx.inverse_num_vertices();
        ctx.signal_with(v.handle(), start);
        DeltaRank::default()
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, DeltaRank>,
        _total: Option<()>,
        ctx: &mut Context<'_, f64>,
    ) {
        let received = ctx.message().copied().unwrap_or(0.0);
        let data = v.data_mut();
        data.rank += received;
        data.held += received;
        data.pushing = 0.0;
        if data.held >= self.epsilon {
            data.pushing = data.held;
            data.held = 0.0;
        }
    }

    fn scatter_edges(&self, v: &VertexRef<'_, DeltaRank>) -> EdgeDir {
        if v.data().pushing > 0.0 {
            EdgeDir::Out
        } else {
            EdgeDir::None
        }
    }

    fn scatter(
        &self,
        v: &VertexRef<'_, DeltaRank>,
        _edge: &mut (),
        other: &Neighbor<'_, DeltaRank>,
        ctx: &mut Context<'_, f64>,
    ) {
        let share = self.damping * v.data().pushing / v.out_degree() as f64;
        ctx.signal_with(other.handle(), share);
    }

    fn combine_messages(&self, acc: &mut f64, msg: f64) {
        *acc += msg;
    }

    /// The residual per out-edge (what a run pushes along each edge, as in the push method
    /// of Andersen, Chung and Lang), rounded down to a power of 256: larger first, but only
    /// by coarse classes. Ranked by the residual alone, the hubs, whose residuals rise
    /// fastest and whose runs cost the most, run again and again before what flows to
    /// them has gathered; a finer order does the same among the rest (on Kronecker scale
    /// 16: residual by octaves 5.4x FIFO's vertex runs and 50x its time; residual per edge
    /// by powers of 256 0.9x its runs, see BENCHMARKS).
    fn priority(&self, residual: &f64, out_degree: usize) -> f64 {
        let per_edge = residual / out_degree.max(1) as f64;
        // Clearing the mantissa and the low 3 exponent bits of a positive double leaves a
        // power of 2^8 (monotone: a larger value never gets a smaller class).
        f64::from_bits(per_edge.to_bits() & !((1u64 << 55) - 1))
    }
}

/// Runs delta PageRank with the asynchronous engine on this rank's graph (collective);
/// returns the owned vertices' ranks.
pub fn run_async(
    damping: f64,
    tol: f64,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    config: AsyncConfig,
) -> crate::Result<RankRun<f64>> {
    let program = DeltaPageRank::new(damping, tol, graph.topology().num_global_vertices());
    Ok(run_program_async(&program, comm, graph, config, |v| {
        v.data().rank
    })?)
}
