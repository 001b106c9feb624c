//! What every app does around its vertex program, on top of the engine's [`Launcher`]:
//! start the ranks, read and place the graph, measure the cut, run, and collect results
//! and figures on rank 0 ([`run_on_ranks`]). Each app supplies the graph source (which
//! makes its edge data) and the per-rank body that runs its program; the stage spinner
//! and the cut report are the only things added here.

use gasket_engine::prelude::*;
use gasket_partitioning::{Partitioning, QualityReport, quality};

use crate::Result;

/// What rank 0 holds after an app's run: every vertex's value, the engine's figures, the
/// quality of the edge cut, and the app's own report.
pub type Collected<T, X = ()> = Outcome<T, Extra<X>>;

/// Rank 0's figures besides the vertex values.
#[derive(Debug, Clone)]
pub struct Extra<X> {
    /// The edge cut's figures.
    pub partition: QualityReport,
    /// The app's own report (`RankRun::extra` of rank 0).
    pub app: X,
}

/// Sizes the worker pool every rank of this process shares (`--threads`; default: one
/// thread per core). Only the first call in a process can size the global pool; later
/// ones keep it.
pub fn size_thread_pool(threads: Option<u32>) {
    if let Some(threads) = threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1) as usize)
            .build_global();
    }
}

/// Runs an app on every rank of `backend`: read `source`, place it with `placement`, build
/// the graph, run `app`, gather to rank 0. Returns rank 0's view in the process that holds
/// rank 0, `None` in the other processes of an MPI job.
pub fn run_on_ranks<E, T, X, S, App>(
    backend: Backend,
    source: &S,
    placement: &Partitioning,
    progress: bool,
    app: App,
) -> Result<Option<Collected<T, X>>>
where
    E: Wire + Send + Sync,
    T: Wire + Send,
    X: Send,
    S: GraphSource<E> + ?Sized,
    App: Fn(&dyn Comm, &mut LocalGraph<E>) -> Result<RankRun<T, X>> + Sync,
{
    let mut launcher = Launcher::new(backend)
        .placement(placement.clone())
        .progress(progress);
    if progress {
        launcher = launcher.on_stage(|stage| crate::progress::stage(stage.to_string()));
    }
    let outcome = launcher.run_with(source, |comm, graph| {
        let partition = quality(comm, graph.topology())?;
        if progress && comm.rank() == 0 {
            tracing::info!(
                "edge cut {:.1}%, replication {:.2}",
                100.0 * partition.edge_cut_fraction,
                partition.replication_factor
            );
        }
        Ok(app(comm, graph)?.map_extra(|app| Extra { partition, app }))
    });
    crate::progress::finish();
    outcome
}

pub use gasket_engine::sorted_vertex_ids;

/// How a program that signals through `signal_along` chooses push or pull each
/// superstep (`--direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DirectionChoice {
    /// Push while the active vertices' edges are few, pull when they pass |E|/20.
    #[default]
    Auto,
    /// Always push along the active vertices' edges.
    Push,
    /// Always pull over every vertex's edges.
    Pull,
}

/// The `--direction` argument of the apps whose signals can be pushed or pulled.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct DirectionArgs {
    /// Push or pull signals (auto: by the size of the frontier's edges; `--metrics`
    /// records the choice of every superstep).
    #[arg(long, value_enum, default_value_t = DirectionChoice::Auto)]
    pub direction: DirectionChoice,
}

impl DirectionArgs {
    /// The engine's rule.
    pub fn rule(&self) -> DirectionRule {
        match self.direction {
            DirectionChoice::Auto => DirectionRule::Auto,
            DirectionChoice::Push => DirectionRule::Push,
            DirectionChoice::Pull => DirectionRule::Pull,
        }
    }
}
