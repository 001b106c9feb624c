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
    DEFAULT_EDGE_FACTOR, DEFAULT_SEED, Generator, GeneratorConfig, RatingsConfig, write_edge_list,
    write_ratings,
};
use gasket_datasets::{Format, GraphInput};
use gasket_engine::{
    AsyncConfig, Backend, Comm, Consistency, GraphSource, RankRun, Scheduler, VertexId,
    run_program_async,
};
use gasket_partitioning::{
    DEFAULT_IMBALANCE, Method, PartitionRequest, Partitioning, all_vertex_ids, partitioner,
    predict_quality, write_partition_file,
};

use crate::als::{self, AlsConfig};
use crate::components::{self, ComponentsConfig};
use crate::kcore::{self, KCoreConfig};
use crate::labelprop::{self, LabelPropConfig};
use crate::lda::command::LdaArgs;
use crate::mlp::command::MlpArgs;
use crate::output::{write_atomically, write_values};
use crate::pagerank::{self, PageRankConfig};
use crate::pagerank_delta;
use crate::run::{Collected, run_on_ranks};
use crate::sgd::command::SgdArgs;
use crate::sssp::{self, SsspConfig};
use crate::triangles::{self, TrianglesConfig};
use crate::{AppError, Result};

/// gasket: Gather-Apply-Scatter vertex programs on partitioned graphs.
#[derive(Debug, Parser)]
#[command(
    name = "gasket",
    version,
    about = "gasket: Gather-Apply-Scatter vertex programs on partitioned graphs, on threads or \
             under mpirun. Apps: PageRank, connected components, SSSP, k-core, label \
             propagation, triangles, ALS, SGD on parameter tables, LDA and an MLP",
    long_about = None
)]
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
    /// k-core decomposition: the coreness of every vertex (graph taken as undirected).
    Kcore {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: KCoreConfig,
    },
    /// Community detection by synchronous label propagation (graph taken as undirected).
    Labelprop {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: LabelPropConfig,
    },
    /// Triangles through every vertex and in the whole graph (taken as undirected, simple).
    Triangles {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: TrianglesConfig,
    },
    /// Collaborative filtering by alternating least squares on a ratings file (`user item
    /// rating` lines, or Matrix Market); reports train and held-out test RMSE.
    Als {
        #[command(flatten)]
        /// Input, ranks and output.
        common: CommonArgs,
        #[command(flatten)]
        /// Settings.
        config: AlsConfig,
    },
    /// Data-parallel SGD on the parameter table: matrix factorization (ratings) or
    /// logistic regression (libsvm), with BSP, stale-synchronous or async tables and an
    /// optional straggler; objective per clock on stderr, optional plot.
    Sgd(SgdArgs),
    /// Topic modelling: LDA by collapsed Gibbs sampling on the document-word graph (UCI
    /// docword, LDA-C or text corpora); log-likelihood per sweep, top words per topic, the
    /// model and document-topic proportions; `--infer MODEL` for new documents.
    Lda(LdaArgs),
    /// A multi-layer perceptron whose layers are graph vertices: data-parallel SGD or Adam
    /// through the parameter table, on the CPU or a GPU (`--device cuda`); IDX
    /// (Fashion-MNIST), CSV or libsvm data; `--load MODEL --eval DIR` scores a saved model.
    Mlp(MlpArgs),
    /// Generate a synthetic low-rank ratings set (`user item rating` lines) for `als`.
    GenerateRatings(RatingsArgs),
    /// Generate a synthetic graph as a SNAP edge list.
    Generate(GenerateArgs),
    /// Convert a graph (SNAP, METIS, Matrix Market; plain or .gz) to gasket's binary
    /// format (.gsk), which every app reads without parsing.
    Convert(ConvertArgs),
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
    /// Worker threads shared by the ranks (default: one per core); with `--engine async`
    /// also the engine's workers, divided among the ranks of this process, unless
    /// `--workers` says otherwise.
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
    /// sync (supersteps) or async (vertices run as soon as signalled; pagerank, cc, sssp).
    #[arg(long, value_enum, default_value_t = EngineKind::Sync)]
    pub engine: EngineKind,
    /// Async engine: which signalled vertex runs next (fifo, priority, sweep).
    #[arg(long, default_value_t = Scheduler::Fifo)]
    pub scheduler: Scheduler,
    /// Async engine: what a vertex's run holds exclusively (vertex, edge, full). Edge and
    /// full on several ranks run by the chromatic schedule.
    #[arg(long, default_value_t = Consistency::Edge)]
    pub consistency: Consistency,
    /// Async engine: worker threads per rank (default: `--threads`, else the cores,
    /// divided by the ranks in this process).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub workers: Option<u32>,
}

/// Which engine runs the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// Bulk-synchronous supersteps.
    Sync,
    /// Asynchronous: dynamic scheduling, consistency models, termination detection.
    Async,
}

impl CommonArgs {
    /// The asynchronous engine's settings when `--engine async` was asked for.
    pub fn async_config(&self, progress: bool) -> Option<AsyncConfig> {
        (self.engine == EngineKind::Async).then(|| AsyncConfig {
            scheduler: self.scheduler,
            consistency: self.consistency,
            workers: match (self.workers, self.threads) {
                (Some(workers), _) => workers as usize,
                (None, Some(threads)) => (threads / self.ranks).max(1) as usize,
                // The engine's default: the cores divided by the ranks in this process.
                (None, None) => 0,
            },
            log_progress: progress,
            ..AsyncConfig::default()
        })
    }

    /// Refuses `--engine async` for an app that runs on the synchronous engine only.
    pub fn require_sync(&self, app: &str) -> Result<()> {
        if self.engine == EngineKind::Async {
            return Err(AppError::Config(format!(
                "{app} runs on the synchronous engine only; --engine async is available for \
                 pagerank, cc and sssp"
            )));
        }
        Ok(())
    }

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

/// `gasket generate-ratings` options.
#[derive(Debug, Clone, Args)]
pub struct RatingsArgs {
    /// Users (ids 0..users).
    #[arg(long, default_value_t = RatingsConfig::default().users)]
    pub users: u64,
    /// Items (ids 0..items).
    #[arg(long, default_value_t = RatingsConfig::default().items)]
    pub items: u64,
    /// Dimension of the hidden factors.
    #[arg(long, default_value_t = RatingsConfig::default().rank)]
    pub rank: usize,
    /// Distinct items each user rates.
    #[arg(long, default_value_t = RatingsConfig::default().ratings_per_user)]
    pub per_user: u64,
    /// Standard deviation of the Gaussian noise on every rating.
    #[arg(long, default_value_t = RatingsConfig::default().noise)]
    pub noise: f64,
    /// Random seed (same seed, same ratings).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Output file.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `gasket convert` options.
#[derive(Debug, Clone, Args)]
pub struct ConvertArgs {
    /// The graph to convert.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Its format (default: from the name).
    #[arg(long)]
    pub format: Option<Format>,
    /// The binary graph to write (conventionally `.gsk`).
    #[arg(long, short)]
    pub output: PathBuf,
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
            let asynchronous = common.async_config(progress);
            config.checkpoint.sync_only(asynchronous.is_some())?;
            if asynchronous.is_some() && config.dangling != pagerank::Dangling::Ignore {
                return Err(AppError::Config(
                    "asynchronous PageRank (delta PageRank) drops the rank of vertices \
                     without out-edges: add --dangling ignore"
                        .into(),
                ));
            }
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| match &asynchronous {
                Some(cfg) => {
                    pagerank_delta::run_async(config.damping, config.tol, comm, g, cfg.clone())
                }
                None => pagerank::run(config, comm, g, progress),
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
            let asynchronous = common.async_config(progress);
            config.checkpoint.sync_only(asynchronous.is_some())?;
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| match &asynchronous {
                Some(cfg) => Ok(run_program_async(
                    &components::Components::default(),
                    comm,
                    g,
                    cfg.clone(),
                    |v| *v.data(),
                )?),
                None => components::run(config, comm, g, progress),
            })?
            else {
                return Ok(());
            };
            println!("{}", headline("cc", &input, &out));
            print_groups(
                &out.values,
                "weakly connected components",
                "component",
                common.top,
            );
            finish(common, "cc", &input, &out)
        }
        Command::Labelprop { common, config } => {
            common.require_sync("labelprop")?;
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| {
                Ok(labelprop::run(config, comm, g, progress)?)
            })?
            else {
                return Ok(());
            };
            println!("{}", headline("labelprop", &input, &out));
            print_groups(&out.values, "communities", "community", common.top);
            finish(common, "labelprop", &input, &out)
        }
        Command::Kcore { common, config } => {
            common.require_sync("kcore")?;
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| {
                Ok(kcore::run(config, comm, g, progress)?)
            })?
            else {
                return Ok(());
            };
            let mut per_core = std::collections::BTreeMap::<u32, u64>::new();
            for &(_, core) in &out.values {
                *per_core.entry(core).or_default() += 1;
            }
            println!("{}", headline("kcore", &input, &out));
            let degeneracy = per_core.keys().next_back().copied().unwrap_or(0);
            println!("# degeneracy (largest k with a non-empty k-core): {degeneracy}");
            println!("core\tvertices");
            for (core, count) in per_core.iter().rev().take(common.top) {
                println!("{core}\t{count}");
            }
            finish(common, "kcore", &input, &out)
        }
        Command::Triangles { common, config } => {
            common.require_sync("triangles")?;
            // Writing every vertex's value asks for the counts through every vertex.
            let config = &TrianglesConfig {
                per_vertex: config.per_vertex || common.output.is_some(),
            };
            let input = prepare(common)?;
            let Some(out) = run_app(common, progress, &input, |comm, g| {
                Ok(triangles::run(config, comm, g, progress)?)
            })?
            else {
                return Ok(());
            };
            println!("{}", headline("triangles", &input, &out));
            let total = triangles::total_of(&out.values, config.corners());
            println!("# {total} triangles");
            if config.per_vertex {
                let mut top: Vec<&(VertexId, u64)> = out.values.iter().collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                println!("vertex\ttriangles");
                for (v, t) in top.iter().take(common.top) {
                    println!("{v}\t{t}");
                }
            }
            finish(common, "triangles", &input, &out)
        }
        Command::Sssp { common, config } => {
            config
                .checkpoint
                .sync_only(common.async_config(progress).is_some())?;
            let input = prepare(common)?;
            // Without weights the graph stores no edge data (hop counts).
            let out = if input.may_have_weights() {
                let weighted = input.clone().with_edges(sssp::weighted_input);
                sssp_on(common, config, progress, &weighted)?
            } else {
                sssp_on::<(), _>(common, config, progress, &input)?
            };
            let Some(out) = out else {
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
        Command::Als { common, config } => als(common, config, progress),
        Command::Lda(args) => {
            crate::lda::command::execute(args, backend_for(args.ranks)?, progress)
        }
        Command::Sgd(args) => {
            crate::sgd::command::execute(args, backend_for(args.ranks)?, progress)
        }
        Command::Mlp(args) => {
            crate::mlp::command::execute(args, backend_for(args.ranks)?, progress)
        }
        Command::GenerateRatings(args) => {
            let cfg = RatingsConfig {
                users: args.users,
                items: args.items,
                rank: args.rank,
                ratings_per_user: args.per_user,
                noise: args.noise,
                seed: args.seed,
            };
            let ratings = write_ratings(&cfg, &args.output)?;
            tracing::info!("wrote {ratings} ratings to {}", args.output.display());
            Ok(())
        }
        Command::Partition(args) => partition(args, progress),
        Command::Convert(args) => convert(args),
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

/// `gasket convert`: reads the whole graph on one rank and writes it as `.gsk`.
fn convert(args: &ConvertArgs) -> Result<()> {
    let format = args.format.unwrap_or_else(|| Format::detect(&args.input));
    if format == Format::Gsk {
        return Err(AppError::Config(format!(
            "{} is already a binary graph",
            args.input.display()
        )));
    }
    let t = std::time::Instant::now();
    let graph = gasket_datasets::read_graph(&args.input, format, &gasket_engine::SingleComm)?;
    let read = t.elapsed().as_secs_f64();
    let header = gasket_datasets::write_gsk(&args.output, graph)?;
    tracing::info!(
        "wrote {} vertices and {} edges{} to {} (read in {read:.2}s, written in {:.2}s)",
        header.vertices,
        header.edges,
        if header.weighted { " with weights" } else { "" },
        args.output.display(),
        t.elapsed().as_secs_f64() - read
    );
    Ok(())
}

/// `gasket als`: factors every user and item, prints the RMSE per round and against the
/// global-mean baseline; `--output` gets `user|item<TAB>id<TAB>factors` lines.
fn als(common: &CommonArgs, config: &AlsConfig, progress: bool) -> Result<()> {
    config.validate()?;
    common.require_sync("als")?;
    if common.input.is_none() {
        return Err(AppError::Config(
            "als needs a ratings file: --input RATINGS (`user item rating` lines or Matrix \
             Market; `gasket generate-ratings` makes a synthetic one)"
                .into(),
        ));
    }
    let input = prepare(common)?;
    let ratings = input
        .clone()
        .with_edges(|name, edges| als::ratings_input(config, name, edges));
    let Some(out) = run_app(common, progress, &ratings, |comm, g| {
        Ok(als::run(config, comm, g, progress)?)
    })?
    else {
        return Ok(());
    };
    let report = &out.extra.app;
    println!("{}", headline("als", &input, &out));
    println!(
        "# {} training and {} held-out ratings; rank {}, lambda {}",
        report.train_ratings, report.test_ratings, config.rank, config.lambda
    );
    println!("round\ttrain_rmse\ttest_rmse");
    for (round, (train, test)) in report.rounds.iter().enumerate() {
        println!("{round}\t{train:.6}\t{test:.6}");
    }
    println!(
        "# final test RMSE {:.6}; predicting the training mean gives {:.6}",
        report.test_rmse, report.baseline_rmse
    );
    if let Some(path) = &common.output {
        write_atomically(path, |w| {
            writeln!(w, "# gasket als on {}: kind\tid\tfactors", input.name())?;
            for (v, factors) in &out.values {
                let (kind, id) = match v.checked_sub(als::ITEM_BASE) {
                    Some(item) => ("item", item),
                    None => ("user", *v),
                };
                write!(w, "{kind}\t{id}\t")?;
                for (k, x) in factors.iter().enumerate() {
                    write!(w, "{}{x}", if k == 0 { "" } else { " " })?;
                }
                writeln!(w)?;
            }
            Ok(())
        })?;
        tracing::info!(
            "wrote {} factor vectors to {}",
            out.values.len(),
            path.display()
        );
    }
    let report = serde_json::to_value(report).map_err(|e| AppError::Config(e.to_string()))?;
    write_metrics(common, "als", &input, &out, report)
}

/// Prints how many groups the labels form and the `top` largest (label, size), largest
/// first, ties by label.
fn print_groups(values: &[(VertexId, VertexId)], what: &str, column: &str, top: usize) {
    let mut sizes = std::collections::HashMap::<VertexId, u64>::new();
    for &(_, label) in values {
        *sizes.entry(label).or_default() += 1;
    }
    let mut by_size: Vec<(VertexId, u64)> = sizes.into_iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("# {} {what}", by_size.len());
    println!("{column}\tvertices");
    for (label, size) in by_size.iter().take(top) {
        println!("{label}\t{size}");
    }
}

/// Runs an app with the common options; `None` in the processes of an MPI job that do not
/// hold rank 0.
/// Runs SSSP on `source`, whose edge data is the edges' lengths.
fn sssp_on<L: sssp::EdgeLength, S: GraphSource<L>>(
    common: &CommonArgs,
    config: &SsspConfig,
    progress: bool,
    source: &S,
) -> Result<Option<Collected<f64>>> {
    run_app(common, progress, source, |comm, g| {
        let from = match config.source {
            Some(s) => s,
            None => sssp::smallest_vertex(comm, g.topology())?,
        };
        match common.async_config(progress) {
            Some(cfg) => sssp::run_async(from, comm, g, cfg),
            None => sssp::run(config, from, comm, g, progress),
        }
    })
}

fn run_app<E, T, X, S, App>(
    common: &CommonArgs,
    progress: bool,
    source: &S,
    app: App,
) -> Result<Option<Collected<T, X>>>
where
    E: gasket_engine::Wire + Send + Sync,
    T: gasket_engine::Wire + Send,
    X: Send,
    S: GraphSource<E> + ?Sized,
    App: Fn(&dyn Comm, &mut gasket_engine::LocalGraph<E>) -> Result<RankRun<T, X>> + Sync,
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
    backend_for(common.ranks)
}

fn backend_for(ranks: u32) -> Result<Backend> {
    if !gasket_engine::comm::launched_by_mpirun() {
        return Ok(Backend::Threads(ranks as usize));
    }
    if ranks != 1 {
        return Err(AppError::Config(format!(
            "--ranks {ranks} was given under mpirun: under MPI each process is one rank, so \
             set the number of ranks with `mpirun -np N` and leave out --ranks"
        )));
    }
    Ok(Backend::Mpi)
}

/// Validates what can be checked before any rank starts, and sizes the thread pool.
fn prepare(common: &CommonArgs) -> Result<GraphInput> {
    crate::run::size_thread_pool(common.threads);
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

fn headline<T, X>(app: &str, source: &GraphInput, out: &Collected<T, X>) -> String {
    let steps = if out.async_metrics.is_empty() {
        format!("{} superstep(s)", out.summary.iterations)
    } else {
        let updates: u64 = out.async_metrics.iter().map(|m| m.updates).sum();
        let rate: f64 = out.async_metrics.iter().map(|m| m.updates_per_second).sum();
        format!(
            "async, {updates} vertex updates ({rate:.3e}/s), {} exchange round(s)",
            out.summary.iterations
        )
    };
    format!(
        "# {app} on {}: {} vertices, {} edges, {} rank(s); {steps}, stopped because {}; {:.3}s",
        source.name(),
        out.graph.num_vertices,
        out.graph.num_edges,
        out.graph.ranks,
        out.summary.stopped_because,
        out.summary.seconds
    )
}

/// Writes `--output` (`vertex<TAB>value` lines) and `--metrics` if asked.
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
    write_metrics(common, app, source, out, serde_json::Value::Null)
}

/// Writes `--metrics` if asked: the run's figures, the cut, every rank's supersteps, and
/// the app's own `report` (null when it has none).
fn write_metrics<T, X>(
    common: &CommonArgs,
    app: &str,
    source: &GraphInput,
    out: &Collected<T, X>,
    report: serde_json::Value,
) -> Result<()> {
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
                "edge_cut_fraction": out.extra.partition.edge_cut_fraction,
                "vertex_balance": out.extra.partition.vertex_balance,
                "edge_balance": out.extra.partition.edge_balance,
                "replication_factor": out.extra.partition.replication_factor,
                "ghosts": out.extra.partition.ghosts,
            },
            "report": report,
            "per_rank_supersteps": out.metrics,
            "per_rank_async": out.async_metrics,
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
