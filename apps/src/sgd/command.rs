//! `gasket sgd`: loads the data once, trains once per `--staleness` value, prints the
//! objective per clock on stderr and a summary (time to `--target`, held-out figure) on
//! stdout, and optionally writes the model, the metrics and a plot of all runs.

use std::io::Write;
use std::path::PathBuf;

use gasket_datasets::Format;
use gasket_datasets::generate::RatingsConfig;
use gasket_engine::Backend;

use super::plot::{Series, plot_objective};
use super::{DataSource, Model, SgdConfig, SgdReport, Staleness, load, run};
use crate::output::write_atomically;
use crate::{AppError, Result};

/// Options of `gasket sgd`.
#[derive(Debug, Clone, clap::Args)]
pub struct SgdArgs {
    /// Model settings.
    #[command(flatten)]
    pub config: SgdConfig,
    /// Training data: ratings (`user item rating` lines or Matrix Market) for mf, libsvm
    /// for logreg; plain or .gz.
    #[arg(long, short, conflicts_with = "synthetic")]
    pub input: Option<PathBuf>,
    /// Format of a ratings file (default: from the name).
    #[arg(long)]
    pub format: Option<Format>,
    /// Synthetic low-rank ratings instead of a file: USERS,ITEMS,RATINGS_PER_USER.
    #[arg(long)]
    pub synthetic: Option<String>,
    /// Staleness of the table: clocks (0 = BSP) or `async`; a comma-separated list runs
    /// each in turn on the same data (e.g. `0,1,3,10,async`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub staleness: Vec<Staleness>,
    /// Report the time at which each run's objective first reaches this value.
    #[arg(long)]
    pub target: Option<f64>,
    /// Plot objective vs time and vs clock of every run (an .svg file).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Thread ranks (under mpirun each process is one rank instead).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub ranks: u32,
    /// Write the model of the last run (`row<TAB>values`).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write per-clock and per-rank figures as JSON.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
}

fn synthetic(text: &str, config: &SgdConfig) -> Result<RatingsConfig> {
    let parts: Vec<Option<u64>> = text.split(',').map(|p| p.trim().parse().ok()).collect();
    let [Some(users), Some(items), Some(per_user)] = parts[..] else {
        return Err(AppError::Config(format!(
            "--synthetic expects USERS,ITEMS,RATINGS_PER_USER (e.g. 20000,5000,50), got `{text}`"
        )));
    };
    Ok(RatingsConfig {
        users,
        items,
        ratings_per_user: per_user,
        seed: config.seed,
        ..RatingsConfig::default()
    })
}

/// Runs `gasket sgd` on `backend`.
///
/// # Errors
///
/// Bad options or input (with file and line), or a failed rank.
pub fn execute(args: &SgdArgs, backend: Backend, progress: bool) -> Result<()> {
    let config = &args.config;
    config.validate()?;
    let source = match (&args.input, &args.synthetic) {
        (Some(path), _) => DataSource::File(path.clone(), args.format),
        (None, Some(text)) => DataSource::Synthetic(synthetic(text, config)?),
        (None, None) => {
            return Err(AppError::Config(
                "sgd needs data: --input FILE, or --synthetic USERS,ITEMS,RATINGS_PER_USER for mf"
                    .into(),
            ));
        }
    };
    if config.checkpoint.is_set() && args.staleness.len() > 1 {
        return Err(AppError::Config(
            "checkpoints (--checkpoint-dir, --resume) belong to one run: give one --staleness"
                .into(),
        ));
    }
    if config.model == Model::Logreg && args.format.is_some() {
        return Err(AppError::Config(
            "--format applies to ratings files; logreg reads libsvm".into(),
        ));
    }
    let reports = gasket_engine::launch(backend, |comm| -> Result<Option<Vec<SgdReport>>> {
        let shard = load(config, &source, comm)?;
        let mut reports = Vec::new();
        for &s in &args.staleness {
            if let Some(report) = run(config, s, &shard, comm, progress)? {
                reports.push(report);
            }
        }
        Ok((comm.rank() == 0).then_some(reports))
    })?;
    let Some(reports) = reports.into_iter().flatten().next() else {
        return Ok(());
    };
    report(args, &reports)
}

fn report(args: &SgdArgs, reports: &[SgdReport]) -> Result<()> {
    let config = &args.config;
    let (objective, held_out) = match config.model {
        Model::Mf => ("training MSE", "held-out RMSE"),
        Model::Logreg => ("logistic loss", "held-out accuracy"),
    };
    let mut err = std::io::stderr().lock();
    let mut out = std::io::stdout().lock();
    let write = |e: std::io::Error| AppError::Config(format!("cannot print: {e}"));
    for r in reports {
        writeln!(err, "# {}: clock\tseconds\t{objective}", r.label).map_err(write)?;
        for p in &r.clocks {
            writeln!(err, "{}\t{:.4}\t{:.6}", p.clock, p.seconds, p.objective).map_err(write)?;
        }
    }
    for r in reports {
        let last = r.clocks.last().map_or(f64::NAN, |p| p.objective);
        let wait: f64 = r.per_rank.iter().map(|m| m.wait_seconds()).sum();
        let stale = r
            .per_rank
            .iter()
            .filter_map(|m| m.max_staleness())
            .max()
            .unwrap_or(0);
        let mut line = format!(
            "sgd {:?} {}: {} clocks in {:.3}s, final {objective} {last:.6}",
            config.model,
            r.label,
            r.clocks.len(),
            r.seconds
        );
        if let Some(m) = r.test_metric {
            line += &format!(", {held_out} {m:.4}");
        }
        if let Some(target) = args.target {
            match r.time_to(target) {
                Some(t) => line += &format!(", reached {target} at {t:.3}s"),
                None => line += &format!(", never reached {target}"),
            }
        }
        line += &format!(", waited {wait:.3}s (all ranks), max staleness served {stale}");
        writeln!(out, "{line}").map_err(write)?;
    }
    let last = reports.last().expect("at least one run");
    if let Some(path) = &args.output {
        write_atomically(path, |w| {
            writeln!(
                w,
                "# gasket sgd {:?} ({}): row\tvalues",
                config.model, last.label
            )?;
            for (_, row, values) in &last.model {
                let text: Vec<String> = match values.as_dense() {
                    Some(v) => v.iter().map(|x| format!("{x:?}")).collect(),
                    None => vec![format!("{values:?}")],
                };
                writeln!(w, "{row}\t{}", text.join(" "))?;
            }
            Ok(())
        })?;
    }
    if let Some(path) = &args.metrics {
        let doc = serde_json::json!({
            "app": "sgd",
            "model": format!("{:?}", config.model).to_lowercase(),
            "objective": objective,
            "held_out": held_out,
            "runs": reports,
        });
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
    }
    if let Some(path) = &args.plot {
        let series: Vec<Series> = reports
            .iter()
            .map(|r| Series {
                label: r.label.clone(),
                points: r
                    .clocks
                    .iter()
                    .map(|p| (p.seconds, p.clock as f64, p.objective))
                    .collect(),
            })
            .collect();
        let title = format!("gasket sgd {:?}: {objective}", config.model);
        plot_objective(path, &title, &series).map_err(|e| AppError::Config(e.to_string()))?;
    }
    Ok(())
}
