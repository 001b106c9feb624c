//! The `gasket` command: argument parsing and the report each app prints.
//!
//! Stderr carries progress (read, build, each superstep, timings); stdout carries results
//! (the top-k summary); `--output` gets every vertex's value and `--metrics` the
//! per-superstep figures of every rank as JSON. Every error a user can cause exits with
//! code 2 and a one-paragraph message.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gasket_datasets::generate::{
    DEFAULT_EDGE_FACTOR, DEFAULT_SEED, Generator, GeneratorConfig, write_edge_list,
};
use gasket_datasets::{Format, GraphInput};
use gasket_engine::{Backend, Comm, GraphSource, RankRun, VertexId};
use gasket_partitioning::{
    DEFAULT_IMBALANCE, Method, PartitionRequest, Partitioning, all_vertex_ids, partitioner,
    predict_quality, write_partition_file,
};

use crate::components::{self, ComponentsConfig};
use crate::output::{write_atomically, write_values};
use crate::pagerank::{self, PageRankConfig};
use crate::run::{Collected, run_on_ranks};
use crate::sssp::{self, SsspConfig};
use crate::{AppError, Result};

/// gasket: Gather-Apply-Scatter vertex programs on partitioned graphs.
#[derive(Debug, Parser)]
#[command(name = "gasket", version, about, long_about = None)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
    /// No progress on stderr (errors are still reported).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// PageRank (power iteration; dangling mass redistributed by default).
    Pagerank {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// PageRank settings.
        config: PageRankConfig,
    },
    /// Weakly connected components (min-label propagation).
    #[command(alias = "components")]
    Cc {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: ComponentsConfig,
    },
    /// Single-source shortest paths (weights from the third column, else hop counts).
    Sssp {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: SsspConfig,
    },
    /// Generate a synthetic graph as a SNAP edge list.
    Generate(GenerateArgs),
    /// Partition a graph into K parts, write a gpmetis partition file, report the cut.
    Partition(PartitionArgs),
}

/// Options shared by the graph apps.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Input graph (SNAP edge list, METIS graph or Matrix Market; plain or .gz). Default:
    /// the bundled SNAP wiki-Vote graph.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Input format (default: from the file name; .graph/.metis = metis, .mtx = mtx, else snap).
    #[arg(long)]
    pub format: Option<Format>,
    /// Number of ranks as threads of this process, each owning one partition. Under
    /// `mpirun` every process is one rank instead (leave this out).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub ranks: u32,
    /// Worker threads shared by the ranks (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// How many result lines to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Write every vertex's value here (`vertex<TAB>value`, ids as in the input).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write per-superstep, per-rank figures here as JSON.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// How vertices are assigned to ranks: hash, range, ldg, fennel or metis.
    #[arg(long, default_value_t = Method::Hash, conflicts_with = "partition_file")]
    pub partition: Method,
    /// Assign vertices to ranks from a partition file (gpmetis format: line i = part of
    /// the i-th smallest vertex id; see `gasket partition`).
    #[arg(long)]
    pub partition_file: Option<PathBuf>,
    /// Balance tolerance of the partitioner: largest part / mean part.
    #[arg(long, default_value_t = DEFAULT_IMBALANCE)]
    pub imbalance: f64,
}

impl CommonArgs {
    /// The placement these options ask for.
    pub fn placement(&self) -> Result<Partitioning> {
        check_imbalance(self.imbalance)?;
        Ok(match &self.partition_file {
            Some(path) => Partitioning::File(path.clone()),
            None => Partitioning::Method {
                method: self.partition,
                imbalance: self.imbalance,
            },
        })
    }
}

fn check_imbalance(imbalance: f64) -> Result<()> {
    if imbalance.is_nan() || imbalance < 1.0 {
        return Err(AppError::Config(format!(
            "--imbalance must be at least 1.0 (largest part / mean part), got {imbalance}"
        )));
    }
    Ok(())
}

/// `gasket partition` options.
#[derive(Debug, Clone, Args)]
pub struct PartitionArgs {
    /// Input graph (as for the apps; default: the bundled wiki-Vote graph).
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Input format (default: from the file name).
    #[arg(long)]
    pub format: Option<Format>,
    /// Number of parts K.
    #[arg(long)]
    pub parts: usize,
    /// hash, range, ldg, fennel or metis.
    #[arg(long, default_value_t = Method::Hash)]
    pub method: Method,
    /// Balance tolerance: largest part / mean part.
    #[arg(long, default_value_t = DEFAULT_IMBALANCE)]
    pub imbalance: f64,
    /// Write the partition file here (gpmetis format: line i = part of the i-th smallest
    /// vertex id).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print the full quality report (default: a one-line summary).
    #[arg(long)]
    pub report: bool,
    /// Vertex-data size in bytes for the predicted traffic per superstep.
    #[arg(long, default_value_t = 8)]
    pub vertex_bytes: usize,
    /// Ranks (threads) reading the input and running the partitioner.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub ranks: u32,
}

/// `gasket generate` options.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// kron (Graph500 Kronecker, A=0.57, B=C=0.19), uniform, or grid (2D, row-major ids).
    pub kind: Generator,
    /// 2^scale vertices.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=40))]
    pub scale: u32,
    /// Edges per vertex.
    #[arg(long, default_value_t = DEFAULT_EDGE_FACTOR)]
    pub edge_factor: u32,
    /// Random seed (same seed, same graph).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Output file.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Parses the arguments, runs, reports. Returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet);
    let outcome = execute(&cli);
    crate::progress::finish();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Under MPI this stops every rank (MPI_Abort); otherwise it exits with 2.
            gasket_engine::fail(&e)
        }
    }
}

fn init_logging(quiet: bool) {
    let filter = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GASKET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::progress::AboveSpinner)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// Runs a parsed command.
pub fn execute(cli: &Cli) -> Result<()> {
    let progress = !cli.quiet;
    match &cli.command {
        Command::Pagerank { common, config } => {
            config.validate()?;
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| {
                pagerank::run(config, comm, g, progress)
            })?
            else {
                return Ok(());
            };
            let mut top: Vec<&(VertexId, f64)> = out.values.iter().collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            println!("{}", headline("pagerank", &input, &out));
            println!("rank\tvertex\tpagerank");
            for (i, (v, pr)) in top.iter().take(common.top).enumerate() {
                println!("{}\t{v}\t{pr:.9e}", i + 1);
            }
            finish(common, "pagerank", &input, &out)
        }
        Command::Cc { common, config } => {
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| {
                components::run(config, comm, g, progress)
            })?
            else {
                return Ok(());
            };
            let mut sizes = std::collections::HashMap::<VertexId, u64>::new();
            for &(_, label) in &out.values {
                *sizes.entry(label).or_default() += 1;
            }
            let mut by_size: Vec<(VertexId, u64)> = sizes.into_iter().collect();
            by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            println!("{}", headline("cc", &input, &out));
            println!("# {} weakly connected components", by_size.len());
            println!("component\tvertices");
            for (label, size) in by_size.iter().take(common.top) {
                println!("{label}\t{size}");
            }
            finish(common, "cc", &input, &out)
        }
        Command::Sssp { common, config } => {
            let input = prepare(common)?;
            let weighted = input.clone().with_edges(sssp::weighted_input);
            let Some(out) = run_app(common, progress, &weighted, |comm, g| {
                let from = match config.source {
                    Some(s) => s,
                    None => sssp::smallest_vertex(comm, g.topology())?,
                };
                sssp::run(config, from, comm, g, progress)
            })?
            else {
                return Ok(());
            };
            let reached: Vec<&(VertexId, f64)> =
                out.values.iter().filter(|(_, d)| d.is_finite()).collect();
            let mut far = reached.clone();
            far.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            println!("{}", headline("sssp", &input, &out));
            println!(
                "# {} of {} vertices reached; largest distance {}",
                reached.len(),
                out.values.len(),
                far.first().map_or(0.0, |x| x.1)
            );
            println!("vertex\tdistance");
            for (v, d) in far.iter().take(common.top) {
                println!("{v}\t{d}");
            }
            finish(common, "sssp", &input, &out)
        }
        Command::Partition(args) => partition(args, progress),
        Command::Generate(args) => {
            let cfg = GeneratorConfig {
                kind: args.kind,
                scale: args.scale,
                edge_factor: args.edge_factor,
                seed: args.seed,
            };
            let t = std::time::Instant::now();
            let edges = write_edge_list(&cfg, &args.output)?;
            tracing::info!(
                "wrote {edges} edges on {} vertices to {} in {:.2}s",
                gasket_datasets::generate::num_vertices(&cfg),
                args.output.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Runs an app with the common options; `None` in the processes of an MPI job that do not
/// hold rank 0.
fn run_app<E, T, S, App>(
    common: &CommonArgs,
    progress: bool,
    source: &S,
    app: App,
) -> Result<Option<Collected<T>>>
where
    E: gasket_engine::Wire + Send + Sync,
    T: gasket_engine::Wire + Send,
    S: GraphSource<E> + ?Sized,
    App: Fn(&dyn Comm, &mut gasket_engine::LocalGraph<E>) -> Result<RankRun<T>> + Sync,
{
    run_on_ranks(
        backend(common)?,
        source,
        &common.placement()?,
        progress,
        app,
    )
}

/// MPI ranks when started by `mpirun` (or `srun`), else `--ranks` thread ranks.
fn backend(common: &CommonArgs) -> Result<Backend> {
    if !gasket_engine::comm::launched_by_mpirun() {
        return Ok(Backend::Threads(common.ranks as usize));
    }
    if common.ranks != 1 {
        return Err(AppError::Config(format!(
            "--ranks {} was given under mpirun: under MPI each process is one rank, so set \
             the number of ranks with `mpirun -np N` and leave out --ranks",
            common.ranks
        )));
    }
    Ok(Backend::Mpi)
}

/// Validates what can be checked before any rank starts, and sizes the thread pool.
fn prepare(common: &CommonArgs) -> Result<GraphInput> {
    if let Some(threads) = common.threads {
        // Only the first call in a process can size the global pool; later ones keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .build_global();
    }
    for path in [&common.output, &common.metrics].into_iter().flatten() {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(AppError::Config(format!(
                    "cannot write {}: directory {} does not exist",
                    path.display(),
                    dir.display()
                )));
            }
        }
    }
    Ok(GraphInput::new(common.input.clone(), common.format))
}

fn headline<T>(app: &str, source: &GraphInput, out: &Collected<T>) -> String {
    format!(
        "# {app} on {}: {} vertices, {} edges, {} rank(s); {} superstep(s), stopped because {}; {:.3}s",
        source.name(),
        out.graph.num_vertices,
        out.graph.num_edges,
        out.graph.ranks,
        out.summary.iterations,
        out.summary.stopped_because,
        out.summary.seconds
    )
}

/// Writes `--output` and `--metrics` if asked.
fn finish<T: std::fmt::Display>(
    common: &CommonArgs,
    app: &str,
    source: &GraphInput,
    out: &Collected<T>,
) -> Result<()> {
    if let Some(path) = &common.output {
        write_values(
            path,
            &format!("gasket {app} on {}", source.name()),
            &out.values,
        )?;
        tracing::info!("wrote {} values to {}", out.values.len(), path.display());
    }
    if let Some(path) = &common.metrics {
        let doc = serde_json::json!({
            "app": app,
            "input": source.name(),
            "ranks": out.graph.ranks,
            "vertices": out.graph.num_vertices,
            "edges": out.graph.num_edges,
            "read_seconds": out.graph.read_seconds,
            "build_seconds": out.graph.build_seconds,
            "run_seconds": out.summary.seconds,
            "iterations": out.summary.iterations,
            "stopped_because": out.summary.stopped_because,
            "partition": {
                "method": out.graph.placement,
                "seconds": out.graph.partition_seconds,
                "edge_cut_fraction": out.extra.edge_cut_fraction,
                "vertex_balance": out.extra.vertex_balance,
                "edge_balance": out.extra.edge_balance,
                "replication_factor": out.extra.replication_factor,
                "ghosts": out.extra.ghosts,
            },
            "per_rank_supersteps": out.metrics,
        });
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::other)?;
            std::io::Write::write_all(w, b"\n")
        })?;
    }
    Ok(())
}

/// `gasket partition`: computes a K-way partition on `--ranks` thread ranks (or MPI ranks),
/// writes the partition file from rank 0 and prints the predicted quality.
fn partition(args: &PartitionArgs, progress: bool) -> Result<()> {
    check_imbalance(args.imbalance)?;
    gasket_partitioning::check_parts(args.parts)?;
    let source = GraphInput::new(args.input.clone(), args.format);
    let backend = if gasket_engine::comm::launched_by_mpirun() {
        Backend::Mpi
    } else {
        Backend::Threads(args.ranks as usize)
    };
    let per_rank = |comm: &dyn Comm| -> Result<Option<String>> {
        let edges = source.read(comm)?;
        let request = PartitionRequest {
            src: &edges.src,
            dst: &edges.dst,
            vertices: &edges.vertices,
            parts: args.parts,
            imbalance: args.imbalance,
        };
        let ids = all_vertex_ids(comm, &request)?;
        if args.parts > ids.len() {
            return Err(AppError::Config(format!(
                "--parts {} is more than the {} vertices of {}",
                args.parts,
                ids.len(),
                source.name()
            )));
        }
        let t = std::time::Instant::now();
        let ownership = partitioner(args.method).partition(comm, &request)?;
        let seconds = t.elapsed().as_secs_f64();
        let q = predict_quality(comm, &request, ownership.as_ref())?;
        if comm.rank() != 0 {
            return Ok(None);
        }
        if progress {
            tracing::info!(
                "{} partition of {} into {} parts in {seconds:.3}s",
                args.method,
                source.name(),
                args.parts
            );
        }
        if let Some(path) = &args.output {
            write_partition_file(path, &ids, |v| ownership.owner(v)).map_err(|source| {
                AppError::Output {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        let bytes = q.bytes_per_superstep(args.vertex_bytes);
        Ok(Some(if args.report {
            format!(
                "# {method} partition of {name}: {parts} parts, {n} vertices, {seconds:.3}s\n\
                 edge_cut_fraction\t{:.6}\n\
                 vertex_balance\t{:.4}\n\
                 edge_balance\t{:.4}\n\
                 replication_factor\t{:.4}\n\
                 ghosts\t{}\n\
                 bytes_per_superstep\t{bytes}\t(all vertices changing, {vb}-byte vertex data)",
                q.edge_cut_fraction,
                q.vertex_balance,
                q.edge_balance,
                q.replication_factor,
                q.ghosts,
                method = args.method,
                name = source.name(),
                parts = args.parts,
                n = ids.len(),
                vb = args.vertex_bytes,
            )
        } else {
            format!(
                "{} partition into {} parts: edge cut {:.2}%, vertex balance {:.3}, replication {:.3}, \
                 {bytes} bytes per superstep",
                args.method,
                args.parts,
                100.0 * q.edge_cut_fraction,
                q.vertex_balance,
                q.replication_factor
            )
        }))
    };
    let results = gasket_engine::launch(backend, per_rank)?;
    if let Some(text) = results.into_iter().flatten().next() {
        println!("{text}");
    }
    Ok(())
}
