//! The launcher: one call from a user's `main` to a finished run.
//!
//! A [`Launcher`] starts the ranks ([`Backend`]: threads of this process, or one MPI
//! process per rank under `mpirun`), and on every rank reads its share of the input
//! through a [`GraphSource`], computes the vertex -> rank map with a [`Placement`], builds
//! the distributed graph, runs the program with the synchronous engine and gathers every
//! vertex's result on rank 0 as an [`Outcome`]. The standard readers (SNAP, METIS,
//! Matrix Market, plain or gzipped) implement `GraphSource` in gasket-datasets, and the
//! partitioners (hash, range, LDG, Fennel, METIS, partition files) implement `Placement`
//! in gasket-partitioning; the engine itself knows edges in memory ([`InMemory`]) and hash
//! placement ([`Hashed`]), so it depends on no other crate of the workspace.
//!
//! The same `main` runs on thread ranks and under `mpirun`: [`Launcher::from_env`] picks
//! MPI when an MPI launcher started the process and otherwise `GASKET_RANKS` threads.
//! The shortest complete program (in-degree of every vertex, on two thread ranks):
//!
//! ```
//! use gasket_engine::prelude::*;
//!
//! struct InDegree;
//! impl VertexProgram for InDegree {
//!     type Vertex = u64;
//!     type Edge = ();
//!     type Gather = u64;
//!     type Message = ();
//!     fn activation(&self) -> Activation { Activation::All }
//!     fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> u64 { 0 }
//!     fn gather_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir { EdgeDir::In }
//!     fn gather(&self, _v: &VertexRef<'_, u64>, _e: &(), _other: &u64) -> u64 { 1 }
//!     fn combine(&self, acc: &mut u64, x: u64) { *acc += x }
//!     fn apply(&self, v: &mut VertexMut<'_, u64>, total: Option<u64>, _ctx: &mut Context<'_, ()>) {
//!         *v.data_mut() = total.unwrap_or(0);
//!     }
//! }
//!
//! let graph = InMemory::new(vec![(1, 3, ()), (2, 3, ()), (3, 1, ())]);
//! let launcher = Launcher::new(Backend::Threads(2)).max_iterations(1);
//! let outcome = launcher.run(&graph, &InDegree, |v| *v.data())?;
//! // `None` only in the processes of an MPI job that do not hold rank 0.
//! if let Some(outcome) = outcome {
//!     assert_eq!(outcome.values, vec![(1, 1), (2, 0), (3, 2)]);
//! }
//! # Ok::<(), EngineError>(())
//! ```
//!
//! Under MPI a failed rank may leave its peers waiting in a collective; a `main` that gets
//! an error should end the whole job with [`fail`], which prints the error and its causes
//! and aborts every rank (or exits with code 2 outside MPI).

mod run;
mod source;

use std::fmt::Display;
use std::path::Path;
use std::time::Instant;

pub use run::{RankRun, run_program, run_program_async};
pub use source::{EdgeEnds, GraphSource, Hashed, InMemory, Placement};

use crate::async_engine::AsyncMetrics;
use crate::comm::{Backend, Comm, CommExt, RankFailure, launch, launched_by_mpirun};
use crate::error::{EngineError, Result};
use crate::graph::{LocalGraph, build_local_graph};
use crate::ids::VertexId;
use crate::program::{VertexProgram, VertexRef};
use crate::sync::{RunSummary, SuperstepMetrics, SyncConfig};
use crate::wire::Wire;

/// Environment variable [`Launcher::from_env`] reads the thread-rank count from.
pub const RANKS_ENV: &str = "GASKET_RANKS";

/// A stage callback: called on rank 0 with a short description as each stage starts.
type StageHook = Box<dyn Fn(&str) + Send + Sync>;

/// Starts ranks, loads, partitions and builds the graph, runs a program, and gathers the
/// results. See the module docs for the shortest complete program.
pub struct Launcher {
    backend: Backend,
    placement: Box<dyn Placement + Send>,
    sync: SyncConfig,
    stage: Option<StageHook>,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("backend", &self.backend)
            .field("placement", &self.placement.name())
            .field("sync", &self.sync)
            .finish_non_exhaustive()
    }
}

impl Launcher {
    /// Ranks from `backend`, hash placement, the synchronous engine's defaults, progress
    /// logged at `info` level on rank 0.
    pub fn new(backend: Backend) -> Self {
        Launcher {
            backend,
            placement: Box::new(Hashed),
            sync: SyncConfig::default(),
            stage: None,
        }
    }

    /// MPI ranks when an MPI launcher started this process, else as many thread ranks as
    /// `GASKET_RANKS` says (default 1).
    pub fn from_env() -> Result<Self> {
        if launched_by_mpirun() {
            return Ok(Launcher::new(Backend::Mpi));
        }
        let ranks = match std::env::var(RANKS_ENV) {
            Err(_) => 1,
            Ok(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    EngineError::Config(format!(
                        "{RANKS_ENV} must be a whole number of ranks, at least 1 (got {text:?})"
                    ))
                })?,
        };
        Ok(Launcher::new(Backend::Threads(ranks)))
    }

    /// Assigns vertices to ranks with `placement` (default: [`Hashed`]).
    pub fn placement(mut self, placement: impl Placement + Send + 'static) -> Self {
        self.placement = Box::new(placement);
        self
    }

    /// Stops after `n` supersteps at most.
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.sync.max_iterations = n;
        self
    }

    /// Logs stages and each superstep at `info` level on rank 0 (default on).
    pub fn progress(mut self, on: bool) -> Self {
        self.sync.log_progress = on;
        self
    }

    /// Calls `hook` on rank 0 as each stage starts (reading, building, running,
    /// collecting), e.g. to drive a progress display.
    pub fn on_stage(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.stage = Some(Box::new(hook));
        self
    }

    /// Where the ranks come from.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The engine settings a run uses (for bodies given to [`Launcher::run_with`]).
    pub fn sync_config(&self) -> SyncConfig {
        self.sync.clone()
    }

    /// Runs `program` on the graph `source` reads and maps every vertex to its result with
    /// `value`. Returns the results on rank 0's process, `None` on the other processes of
    /// an MPI job.
    pub fn run<P, T, S>(
        &self,
        source: &S,
        program: &P,
        value: impl Fn(&VertexRef<'_, P::Vertex>) -> T + Sync,
    ) -> Result<Option<Outcome<T>>>
    where
        P: VertexProgram,
        T: Wire + Send,
        S: GraphSource<P::Edge> + ?Sized,
    {
        self.run_with(source, |comm, graph| {
            run_program(program, comm, graph, self.sync.clone(), &value)
        })
    }

    /// Like [`Launcher::run`], with the per-rank work after the build given as `body`
    /// (collective: it runs on every rank with that rank's graph). Use it to choose the
    /// program from the built graph, to run several programs in turn, or to return more
    /// than vertex values (`RankRun::extra`; rank 0's reaches the [`Outcome`]). Errors of
    /// any type that can hold an [`EngineError`] pass through.
    pub fn run_with<E, T, X, Err, S, Body>(
        &self,
        source: &S,
        body: Body,
    ) -> std::result::Result<Option<Outcome<T, X>>, Err>
    where
        E: Wire + Send + Sync,
        T: Wire + Send,
        X: Send,
        Err: From<EngineError> + RankFailure + Send,
        S: GraphSource<E> + ?Sized,
        Body: Fn(&dyn Comm, &mut LocalGraph<E>) -> std::result::Result<RankRun<T, X>, Err> + Sync,
    {
        let per_rank = |comm: &dyn Comm| -> std::result::Result<Option<Outcome<T, X>>, Err> {
            let mut graph = self.load(comm, source)?;
            let facts = graph.1;
            self.stage(comm, "running supersteps");
            let run = body(comm, &mut graph.0)?;
            if self.sync.log_progress && comm.rank() == 0 {
                tracing::info!(
                    "done: {} superstep(s) in {:.3}s; stopped because {}",
                    run.summary.iterations,
                    run.summary.seconds,
                    run.summary.stopped_because
                );
            }
            self.stage(comm, "collecting results on rank 0");
            Ok(collect(comm, run, facts)?)
        };
        let results = launch(self.backend, per_rank)?;
        Ok(results.into_iter().flatten().next())
    }

    /// Reads, places and builds this rank's graph (collective). On one rank a source that
    /// stores the graph built hands it over instead.
    fn load<E: Wire + Send + Sync, S: GraphSource<E> + ?Sized>(
        &self,
        comm: &dyn Comm,
        source: &S,
    ) -> Result<(LocalGraph<E>, GraphFacts)> {
        let t_read = Instant::now();
        self.stage(comm, &format!("reading {}", source.name()));
        if comm.size() == 1 && !self.placement.uses_edges_on_one_rank() {
            if let Some(graph) = source.read_built(comm)? {
                let read_seconds = t_read.elapsed().as_secs_f64();
                let facts = self.facts(comm, &graph, read_seconds, None);
                return Ok((graph, facts));
            }
        }
        let input = source.read(comm)?;
        let read_seconds = t_read.elapsed().as_secs_f64();

        let t_build = Instant::now();
        self.stage(
            comm,
            &format!("partitioning ({}) and building", self.placement.name()),
        );
        let ends = EdgeEnds {
            src: &input.src,
            dst: &input.dst,
            vertices: &input.vertices,
        };
        let ownership = self.placement.ownership(comm, ends)?;
        let partition_seconds = t_build.elapsed().as_secs_f64();
        let graph = build_local_graph(comm, ownership.as_ref(), input)?;
        let build_seconds = t_build.elapsed().as_secs_f64();
        let built = Some((partition_seconds, build_seconds));
        let facts = self.facts(comm, &graph, read_seconds, built);
        Ok((graph, facts))
    }

    /// The figures of a loaded graph, logged on rank 0; `built` is (partition, build)
    /// seconds, `None` for a graph read already built.
    fn facts<E>(
        &self,
        comm: &dyn Comm,
        graph: &LocalGraph<E>,
        read_seconds: f64,
        built: Option<(f64, f64)>,
    ) -> GraphFacts {
        let topo = graph.topology();
        let (partition_seconds, build_seconds) = built.unwrap_or_default();
        let facts = GraphFacts {
            num_vertices: topo.num_global_vertices(),
            num_edges: topo.num_global_edges(),
            ranks: comm.size(),
            placement: self.placement.name(),
            read_seconds,
            partition_seconds,
            build_seconds,
        };
        if self.sync.log_progress && comm.rank() == 0 {
            let (n, m, ranks) = (facts.num_vertices, facts.num_edges, facts.ranks);
            if built.is_some() {
                tracing::info!(
                    "graph: {n} vertices, {m} edges, read in {read_seconds:.3}s; built on \
                     {ranks} rank(s) in {build_seconds:.3}s ({} placement \
                     {partition_seconds:.3}s)",
                    facts.placement,
                );
            } else {
                tracing::info!(
                    "graph: {n} vertices, {m} edges, read already built in {read_seconds:.3}s"
                );
            }
        }
        facts
    }

    fn stage(&self, comm: &dyn Comm, what: &str) {
        if comm.rank() != 0 {
            return;
        }
        match &self.stage {
            Some(hook) => hook(what),
            None => tracing::debug!("{what}"),
        }
    }
}

/// Gathers every rank's values and figures on rank 0 (collective).
fn collect<T: Wire, X>(
    comm: &dyn Comm,
    run: RankRun<T, X>,
    graph: GraphFacts,
) -> Result<Option<Outcome<T, X>>> {
    let values = comm.gather_to(0, &run.values)?;
    let metrics = comm.gather_to(0, &[run.metrics])?;
    let async_metrics = comm.gather_to(0, &[run.async_metrics])?;
    Ok(values.zip(metrics).map(|(mut values, metrics)| {
        values.sort_unstable_by_key(|&(v, _)| v);
        Outcome {
            values,
            summary: run.summary,
            metrics,
            async_metrics: async_metrics
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect(),
            extra: run.extra,
            graph,
        }
    }))
}

/// What rank 0 holds after a run.
#[derive(Debug, Clone)]
pub struct Outcome<T, X = ()> {
    /// `(vertex id, result)` of every vertex, sorted by id.
    pub values: Vec<(VertexId, T)>,
    /// How the run ended.
    pub summary: RunSummary,
    /// Per-superstep figures: `metrics[rank]` is that rank's list (synchronous runs).
    pub metrics: Vec<Vec<SuperstepMetrics>>,
    /// The asynchronous engine's figures, one per rank (empty for synchronous runs).
    pub async_metrics: Vec<AsyncMetrics>,
    /// Rank 0's `RankRun::extra`.
    pub extra: X,
    /// The graph and the time spent loading it.
    pub graph: GraphFacts,
}

impl<T: Display, X> Outcome<T, X> {
    /// Writes `# header` and one `vertex<TAB>result` line per vertex to `path`, atomically
    /// (a failed write leaves no partial file).
    pub fn save(&self, path: &Path, header: &str) -> std::io::Result<()> {
        crate::output::write_values(path, header, &self.values)
    }
}

/// The graph a run used and what loading it cost (as measured on rank 0).
#[derive(Debug, Clone)]
pub struct GraphFacts {
    /// Vertices of the whole graph.
    pub num_vertices: u64,
    /// Edges of the whole graph.
    pub num_edges: u64,
    /// Ranks it was spread over.
    pub ranks: usize,
    /// The placement's name.
    pub placement: String,
    /// Seconds reading the input.
    pub read_seconds: f64,
    /// Seconds computing the vertex -> rank map (part of `build_seconds`).
    pub partition_seconds: f64,
    /// Seconds placing and building the distributed graph (0 for a graph read already
    /// built, [`GraphSource::read_built`]).
    pub build_seconds: f64,
}

/// Ends the job after an error: prints `error: ` and the error with its causes to stderr,
/// then stops every rank (`MPI_Abort` under MPI) with exit code 2.
pub fn fail(e: &dyn std::error::Error) -> ! {
    eprintln!("error: {}", error_chain(e));
    crate::comm::abort_job(2)
}

/// An error and its causes as one line (causes already in the message are skipped).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
