//! PageRank by power iteration, pulled over in-edges.
//!
//! `pr'(v) = (1 - d) / N + d * (sum over u -> v of pr(u) / outdeg(u) + D / N)`, where `D`
//! is the rank held by dangling vertices (no out-edges). By default `D` is redistributed
//! uniformly, the definition networkx uses, so ranks sum to 1; `Dangling::Ignore` drops it
//! (the gapbs / PowerGraph definition). Iteration stops when the L1 change
//! `sum |pr' - pr|` falls below `tol`, or after `max_iterations`.
//!
//! Design: every vertex runs every superstep (`Activation::All`), and the vertex data is a
//! single `f64`, the *scaled* rank `pr / outdeg` (or `pr` itself for a dangling vertex). A
//! gather is then one load of the neighbour's value, exactly what a hand-written pull loop
//! over a contribution array does, and a ghost update is 8 bytes. The dangling mass and
//! the L1 change are aggregators, reduced across ranks after each superstep.

use gasket_engine::prelude::*;

/// Default damping factor.
pub const DAMPING: f64 = 0.85;
/// Default L1 tolerance.
pub const TOLERANCE: f64 = 1e-6;
/// Default iteration limit.
pub const MAX_ITERATIONS: usize = 100;

const AGG_DANGLING: usize = 0;
const AGG_L1: usize = 1;

/// What happens to the rank of vertices without out-edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Dangling {
    /// Spread it uniformly over all vertices (networkx; ranks sum to 1).
    #[default]
    Redistribute,
    /// Drop it (gapbs, PowerGraph).
    Ignore,
}

/// PageRank settings.
#[derive(Debug, Clone, clap::Args)]
pub struct PageRankConfig {
    /// Damping factor d.
    #[arg(long, default_value_t = DAMPING)]
    pub damping: f64,
    /// Stop when the L1 change of an iteration is below this.
    #[arg(long, default_value_t = TOLERANCE)]
    pub tol: f64,
    /// Stop after this many iterations.
    #[arg(long = "iterations", default_value_t = MAX_ITERATIONS)]
    pub max_iterations: usize,
    /// Treatment of dangling vertices' rank.
    #[arg(long, value_enum, default_value_t = Dangling::Redistribute)]
    pub dangling: Dangling,
    /// Checkpoints and resuming.
    #[command(flatten)]
    pub checkpoint: crate::checkpointing::CheckpointArgs,
}

impl Default for PageRankConfig {
    fn default() -> Self {
        PageRankConfig {
            damping: DAMPING,
            tol: TOLERANCE,
            max_iterations: MAX_ITERATIONS,
            dangling: Dangling::Redistribute,
            checkpoint: Default::default(),
        }
    }
}

impl PageRankConfig {
    /// Checks the ranges of the settings.
    pub fn validate(&self) -> crate::Result<()> {
        if !(0.0..=1.0).contains(&self.damping) {
            return Err(crate::AppError::Config(format!(
                "--damping must be in [0, 1], got {}",
                self.damping
            )));
        }
        if self.tol.is_nan() || self.tol < 0.0 {
            return Err(crate::AppError::Config(format!(
                "--tol must be a non-negative number, got {}",
                self.tol
            )));
        }
        Ok(())
    }
}

/// A degree as `f64`. Degrees are far below 2^63, so the signed conversion (one
/// instruction on x86-64, unlike the unsigned one) is exact.
#[inline(always)]
fn degree_f64(degree: usize) -> f64 {
    degree as i64 as f64
}

/// The PageRank vertex program (vertex data: the scaled rank, see the module docs).
#[derive(Debug, Clone)]
pub struct PageRank {
    config: PageRankConfig,
}

impl PageRank {
    /// A program with these settings.
    pub fn new(config: PageRankConfig) -> Self {
        PageRank { config }
    }
    /// The rank of a vertex from its data and out-degree.
    #[inline]
    pub fn rank_of(scaled: f64, out_degree: usize) -> f64 {
        if out_degree == 0 {
            scaled
        } else {
            scaled * degree_f64(out_degree)
        }
    }
    #[inline]
    fn scaled(pr: f64, out_degree: usize) -> f64 {
        if out_degree == 0 {
            pr
        } else {
            pr / degree_f64(out_degree)
        }
    }
}

impl VertexProgram for PageRank {
    type Vertex = f64;
    type Edge = ();
    type Gather = f64;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> f64 {
        let pr = 1.0 / ctx.num_vertices() as f64;
        if v.out_degree() == 0 {
            ctx.aggregate(AGG_DANGLING, pr);
        }
        Self::scaled(pr, v.out_degree())
    }

    fn gather_edges(&self, _v: &VertexRef<'_, f64>) -> EdgeDir {
        EdgeDir::In
    }

    #[inline(always)]
    fn gather(&self, _v: &VertexRef<'_, f64>, _edge: &(), other: &f64) -> f64 {
        *other
    }

    #[inline(always)]
    fn combine(&self, acc: &mut f64, x: f64) {
        *acc += x;
    }

    #[inline]
    fn apply(&self, v: &mut VertexMut<'_, f64>, total: Option<f64>, ctx: &mut Context<'_, ()>) {
        let d = self.config.damping;
        let spread = match self.config.dangling {
            Dangling::Redistribute => (1.0 - d) + d * ctx.aggregated(AGG_DANGLING),
            Dangling::Ignore => 1.0 - d,
        };
        let out_degree = v.out_degree();
        let old = Self::rank_of(*v.data(), out_degree);
        let pr = spread * ctx.inverse_num_vertices() + d * total.unwrap_or(0.0);
        ctx.aggregate(AGG_L1, (pr - old).abs());
        if out_degree == 0 {
            ctx.aggregate(AGG_DANGLING, pr);
        }
        *v.data_mut() = Self::scaled(pr, out_degree);
    }

    fn aggregators(&self) -> Vec<ReduceOp> {
        vec![ReduceOp::Sum, ReduceOp::Sum]
    }

    fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
        if info.aggregates[AGG_L1] < self.config.tol {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Runs PageRank on this rank's graph (collective); returns the owned vertices' ranks.
pub fn run(
    config: &PageRankConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> crate::Result<RankRun<f64>> {
    config.validate()?;
    let program = PageRank::new(config.clone());
    let sync = SyncConfig {
        max_iterations: config.max_iterations,
        log_progress: progress,
        checkpoint: config.checkpoint.settings(1),
        ..SyncConfig::default()
    };
    Ok(run_program(&program, comm, graph, sync, |v| {
        PageRank::rank_of(*v.data(), v.out_degree())
    })?)
}

/// Serial reference: the same iteration on a plain edge list, with independent code.
/// Returns `(vertex, rank)` sorted by vertex id, and the number of iterations run.
pub fn verify(
    edges: &[(VertexId, VertexId)],
    vertices: &[VertexId],
    config: &PageRankConfig,
) -> (Vec<(VertexId, f64)>, usize) {
    let ids = crate::run::sorted_vertex_ids(vertices, edges.iter().flat_map(|&(s, d)| [s, d]));
    let index = |v: VertexId| ids.binary_search(&v).expect("listed");
    let n = ids.len();
    let mut out_degree = vec![0usize; n];
    let mut in_lists: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(s, d) in edges {
        let (s, d) = (index(s), index(d));
        out_degree[s] += 1;
        in_lists[d].push(s);
    }
    let nf = n as f64;
    let d = config.damping;
    let mut pr = vec![1.0 / nf; n];
    let mut iterations = 0;
    while iterations < config.max_iterations {
        let dangling: f64 = match config.dangling {
            Dangling::Redistribute => (0..n).filter(|&v| out_degree[v] == 0).map(|v| pr[v]).sum(),
            Dangling::Ignore => 0.0,
        };
        let next: Vec<f64> = (0..n)
            .map(|v| {
                let incoming: f64 = in_lists[v]
                    .iter()
                    .map(|&u| pr[u] / out_degree[u] as f64)
                    .sum();
                (1.0 - d) / nf + d * (incoming + dangling / nf)
            })
            .collect();
        let change: f64 = next.iter().zip(&pr).map(|(a, b)| (a - b).abs()).sum();
        pr = next;
        iterations += 1;
        if change < config.tol {
            break;
        }
    }
    (ids.into_iter().zip(pr).collect(), iterations)
}
