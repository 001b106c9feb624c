//! What every app does around its vertex program: read the input on every rank, build the
//! distributed graph, run, and collect results and figures on rank 0.
//!
//! The per-rank pipeline is written once (`run_on_ranks`); each app supplies how edge data
//! is made from the file's weights and how its program runs. Thread ranks and any future
//! process ranks share every line of it below `Comm`.

use std::path::PathBuf;
use std::time::Instant;

use gasket_datasets::{EdgeList, Format, bundled, read_graph, read_graph_bytes};
use gasket_engine::prelude::*;
use gasket_engine::{RunSummary, SuperstepMetrics};
use gasket_partitioning::{
    DEFAULT_IMBALANCE, Method, PartitionRequest, QualityReport, all_vertex_ids, partitioner,
    quality, read_partition_file,
};

use crate::Result;

/// One rank's outcome of an app: its owned vertices' values and the engine's figures.
#[derive(Debug, Clone)]
pub struct AppRun<T> {
    /// `(vertex id, value)` of the vertices this rank owns.
    pub values: Vec<(VertexId, T)>,
    /// How the run ended.
    pub summary: RunSummary,
    /// Per-superstep figures of this rank.
    pub metrics: Vec<SuperstepMetrics>,
}

/// Runs `program` to completion on this rank's graph (collective) and maps each owned
/// vertex to its result with `value`.
pub fn run_program<P: VertexProgram, T>(
    program: &P,
    comm: &dyn Comm,
    graph: &mut LocalGraph<P::Edge>,
    max_iterations: usize,
    progress: bool,
    value: impl Fn(&VertexRef<'_, P::Vertex>) -> T,
) -> Result<AppRun<T>> {
    let sync = SyncConfig {
        max_iterations,
        log_progress: progress,
    };
    let mut engine = SyncEngine::new(program, graph, comm, sync)?;
    let summary = engine.run()?;
    let mut values = Vec::with_capacity(engine.topology().num_owned());
    engine.for_each_owned(|v| values.push((v.id(), value(v))));
    Ok(AppRun {
        values,
        summary,
        metrics: engine.metrics().to_vec(),
    })
}

/// How vertices are assigned to ranks.
#[derive(Debug, Clone)]
pub enum Placement {
    /// Computed by a partitioner with a balance tolerance.
    Method {
        /// The partitioner.
        method: Method,
        /// Max part load / mean part load.
        imbalance: f64,
    },
    /// Read from a gpmetis-format partition file (one part per vertex, ascending id).
    File(PathBuf),
}

impl Default for Placement {
    fn default() -> Self {
        Placement::Method {
            method: Method::Hash,
            imbalance: DEFAULT_IMBALANCE,
        }
    }
}

impl Placement {
    /// A name for logs and metrics.
    pub fn name(&self) -> String {
        match self {
            Placement::Method { method, .. } => method.to_string(),
            Placement::File(path) => format!("file {}", path.display()),
        }
    }

    /// The vertex -> rank map for `comm.size()` ranks (collective).
    pub fn ownership(
        &self,
        comm: &dyn Comm,
        edges: &EdgeList,
    ) -> Result<Box<dyn gasket_engine::Ownership>> {
        let imbalance = match self {
            Placement::Method { imbalance, .. } => *imbalance,
            Placement::File(_) => DEFAULT_IMBALANCE,
        };
        let request = PartitionRequest {
            src: &edges.src,
            dst: &edges.dst,
            vertices: &edges.vertices,
            parts: comm.size(),
            imbalance,
        };
        Ok(match self {
            Placement::Method { method, .. } => partitioner(*method).partition(comm, &request)?,
            Placement::File(path) => {
                let ids = all_vertex_ids(comm, &request)?;
                Box::new(read_partition_file(path, &ids, comm.size())?)
            }
        })
    }
}

/// Where the graph comes from.
#[derive(Debug, Clone)]
pub enum GraphSource {
    /// A file in a known format.
    File {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// The small real graph bundled with gasket (SNAP wiki-Vote).
    Bundled,
}

impl GraphSource {
    /// The file, or the bundled graph when `path` is `None`; the format is detected from
    /// the name unless given.
    pub fn new(path: Option<PathBuf>, format: Option<Format>) -> Self {
        match path {
            None => GraphSource::Bundled,
            Some(path) => {
                let format = format.unwrap_or_else(|| Format::detect(&path));
                GraphSource::File { path, format }
            }
        }
    }
    /// A name for messages.
    pub fn name(&self) -> String {
        match self {
            GraphSource::File { path, .. } => path.display().to_string(),
            GraphSource::Bundled => bundled::WIKI_VOTE_NAME.to_string(),
        }
    }
    /// Reads this rank's share of the edges (collective).
    pub fn read(&self, comm: &dyn Comm) -> Result<EdgeList> {
        Ok(match self {
            GraphSource::File { path, format } => read_graph(path, *format, comm)?,
            GraphSource::Bundled => read_graph_bytes(
                bundled::WIKI_VOTE_NAME,
                bundled::wiki_vote(),
                Format::Snap,
                comm,
            )?,
        })
    }
}

/// Everything rank 0 knows after a run.
#[derive(Debug, Clone)]
pub struct Collected<T> {
    /// `(vertex id, value)` of every vertex, sorted by id.
    pub values: Vec<(VertexId, T)>,
    /// How the run ended.
    pub summary: RunSummary,
    /// Per-superstep figures of every rank: `metrics[rank]` is that rank's array of
    /// `SuperstepMetrics` as JSON.
    pub metrics: Vec<serde_json::Value>,
    /// Vertices and edges of the whole graph.
    pub num_vertices: u64,
    /// Edges of the whole graph.
    pub num_edges: u64,
    /// Seconds reading the input.
    pub read_seconds: f64,
    /// Seconds building the distributed graph (including partitioning).
    pub build_seconds: f64,
    /// Seconds computing the vertex -> rank map (part of `build_seconds`).
    pub partition_seconds: f64,
    /// The edge cut's figures.
    pub partition: QualityReport,
}

/// Runs an app on every rank of `backend`: read `source`, make edge data with
/// `edge_data`, build the graph, run `app`, gather to rank 0. Returns rank 0's view in the
/// process that holds rank 0, `None` in the other processes of an MPI job.
pub fn run_on_ranks<E, T, MakeEdges, App>(
    backend: Backend,
    source: &GraphSource,
    placement: &Placement,
    progress: bool,
    edge_data: MakeEdges,
    app: App,
) -> Result<Option<Collected<T>>>
where
    E: Wire + Send + Sync,
    T: Wire + Send,
    MakeEdges: Fn(&str, &EdgeList) -> Result<Vec<E>> + Sync,
    App: Fn(&dyn Comm, &mut LocalGraph<E>) -> Result<AppRun<T>> + Sync,
{
    let per_rank = |comm: &dyn Comm| -> Result<Option<Collected<T>>> {
        let log = progress && comm.rank() == 0;
        let t_read = Instant::now();
        if log {
            crate::progress::stage(format!("reading {}", source.name()));
        }
        let edges = source.read(comm)?;
        let data = edge_data(&source.name(), &edges)?;
        let read_seconds = t_read.elapsed().as_secs_f64();

        let t_build = Instant::now();
        if log {
            crate::progress::stage(format!("partitioning ({}) and building", placement.name()));
        }
        let ownership = placement.ownership(comm, &edges)?;
        let partition_seconds = t_build.elapsed().as_secs_f64();
        let input = EdgeInput {
            src: edges.src,
            dst: edges.dst,
            data,
            vertices: edges.vertices,
        };
        let mut graph = build_local_graph(comm, ownership.as_ref(), input)?;
        let partition = quality(comm, graph.topology())?;
        let build_seconds = t_build.elapsed().as_secs_f64();
        let (num_vertices, num_edges) = (graph.num_global_vertices(), graph.num_global_edges());
        if log {
            tracing::info!(
                "graph: {num_vertices} vertices, {num_edges} edges, read in {read_seconds:.3}s; \
                 built on {} rank(s) in {build_seconds:.3}s ({} partitioning {partition_seconds:.3}s, \
                 edge cut {:.1}%, replication {:.2})",
                comm.size(),
                placement.name(),
                100.0 * partition.edge_cut_fraction,
                partition.replication_factor
            );
        }

        if log {
            crate::progress::stage("running supersteps");
        }
        let run = app(comm, &mut graph)?;
        if log {
            crate::progress::stage("collecting results on rank 0");
        }
        if log {
            tracing::info!(
                "done: {} superstep(s) in {:.3}s; stopped because {}",
                run.summary.iterations,
                run.summary.seconds,
                run.summary.stopped_because
            );
        }
        let values = comm.gather_to(0, &run.values)?;
        let metrics_json = serde_json::to_vec(&run.metrics).expect("metrics serialise");
        let metrics = comm.gather_to(0, &[metrics_json])?;
        Ok(values.zip(metrics).map(|(mut values, metrics)| {
            values.sort_unstable_by_key(|&(v, _)| v);
            Collected {
                values,
                summary: run.summary,
                metrics: metrics
                    .iter()
                    .map(|bytes| serde_json::from_slice(bytes).expect("metrics parse"))
                    .collect(),
                num_vertices,
                num_edges,
                read_seconds,
                build_seconds,
                partition_seconds,
                partition,
            }
        }))
    };
    let results = launch(backend, per_rank);
    crate::progress::finish();
    Ok(results?.into_iter().flatten().next())
}

/// Every vertex of a serial verifier's graph (declared vertices and edge endpoints),
/// ascending and distinct; a vertex's index in it is its dense id.
pub fn sorted_vertex_ids(
    vertices: &[VertexId],
    endpoints: impl Iterator<Item = VertexId>,
) -> Vec<VertexId> {
    let mut ids: Vec<VertexId> = vertices.iter().copied().chain(endpoints).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Edge data for programs without edge data.
pub fn no_edge_data(_name: &str, edges: &EdgeList) -> Result<Vec<()>> {
    Ok(vec![(); edges.len()])
}
