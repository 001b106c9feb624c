//! `gasket mlp`: train (`--data DIR --layers ... --epochs E`) or score a saved model
//! (`--load MODEL --eval DIR`). Per-epoch figures go to stderr, the summary to stdout;
//! `--save`, `--metrics` (JSON) and `--plot` (SVG) write files.

use std::io::Write;
use std::path::PathBuf;

use gasket_engine::Backend;
use gasket_engine::param::{LrSchedule, UpdateRule};

use super::data::{self, Split};
use super::device::{DeviceChoice, Selected, select};
use super::kernels::{CpuKernels, Kernels};
use super::model::Model;
use super::net::{Activation, Net};
use super::saved;
use super::train::{self, TrainReport, TrainSettings};
use crate::output::write_atomically;
use crate::sgd::Staleness;
use crate::sgd::plot::{Series, plot_objective};
use crate::{AppError, Result};

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Optimizer {
    /// SGD with heavy-ball momentum (`--momentum`, 0 for plain SGD).
    Sgd,
    /// Adam.
    Adam,
}

/// `--lr-schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Schedule {
    /// The same learning rate for every step.
    Constant,
    /// Cosine annealing from `--lr` to 0 over the run's steps.
    Cosine,
}

/// Options of `gasket mlp`.
#[derive(Debug, Clone, clap::Args)]
pub struct MlpArgs {
    /// Training data: a directory of MNIST-style IDX files (e.g.
    /// /usr/share/datasets/fashion-mnist), or a dense CSV (`label,x1,...`) or libsvm file.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Layer widths of a chain, input first (default: INPUT,256,128,CLASSES from the
    /// data).
    #[arg(long, value_delimiter = ',', conflicts_with = "net")]
    pub layers: Option<Vec<usize>>,
    /// A network file (`NAME WIDTH ACTIVATION INPUTS` lines; any DAG of dense layers).
    #[arg(long)]
    pub net: Option<PathBuf>,
    /// Activation of the hidden layers of `--layers`.
    #[arg(long, value_enum, default_value_t = Activation::Relu)]
    pub activation: Activation,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Examples per step, summed over ranks.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Learning rate (default: 0.05 for sgd, 0.001 for adam).
    #[arg(long)]
    pub lr: Option<f32>,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = Optimizer::Adam)]
    pub optimizer: Optimizer,
    /// How the learning rate changes over the run (cosine: from --lr down to 0 at the
    /// last step, which steadies the final epochs).
    #[arg(long, value_enum, default_value_t = Schedule::Cosine)]
    pub lr_schedule: Schedule,
    /// Momentum of sgd.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    /// Adam's first-moment decay.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f32,
    /// Adam's second-moment decay.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f32,
    /// Adam's epsilon.
    #[arg(long, default_value_t = 1e-8)]
    pub eps: f32,
    /// Where the layer math runs.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// With `--device cuda`: fail (exit 2) instead of falling back to the CPU.
    #[arg(long)]
    pub require_gpu: bool,
    /// The GPU to use (default: the rank's index on its node under mpirun or srun, modulo
    /// the GPUs present, so ranks on a multi-GPU node take one each).
    #[arg(long)]
    pub gpu: Option<usize>,
    /// Thread ranks (under mpirun each process is one rank instead); each takes a share
    /// of every batch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub ranks: u32,
    /// Staleness of the parameter tables with several ranks: clocks (0 = BSP) or `async`.
    #[arg(long, default_value = "0")]
    pub staleness: Staleness,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Share of a data file held out for testing (IDX directories have their own split).
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
    /// Seed of the initial weights, the shuffles and the split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the trained model (JSON).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Plot loss and test error per epoch (an .svg file).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write per-epoch figures as JSON.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Checkpoints of the parameters and optimizer state every --checkpoint-every
    /// epochs (default 1), and resuming from them on any number of ranks.
    #[command(flatten)]
    pub checkpoint: crate::checkpointing::CheckpointArgs,
    /// Load a saved model instead of training.
    #[arg(long, requires = "eval")]
    pub load: Option<PathBuf>,
    /// Score the loaded model on this IDX directory's test files or this file.
    #[arg(long, requires = "load")]
    pub eval: Option<PathBuf>,
}

impl MlpArgs {
    /// The optimizer as a table rule.
    pub fn rule(&self) -> Result<UpdateRule> {
        let bad = |m: String| Err(AppError::Config(m));
        let lr = self.lr.unwrap_or(match self.optimizer {
            Optimizer::Sgd => 0.05,
            Optimizer::Adam => 0.001,
        });
        if !(lr.is_finite() && lr > 0.0) {
            return bad(format!("--lr must be a positive number, got {lr}"));
        }
        Ok(match self.optimizer {
            Optimizer::Sgd if (0.0..1.0).contains(&self.momentum) => UpdateRule::Momentum {
                lr,
                momentum: self.momentum,
            },
            Optimizer::Sgd => {
                return bad(format!(
                    "--momentum must be in [0, 1), got {}",
                    self.momentum
                ));
            }
            Optimizer::Adam => {
                let unit = 0.0..1.0;
                if !(unit.contains(&self.beta1) && unit.contains(&self.beta2) && self.eps >= 0.0) {
                    return bad("--beta1 and --beta2 must be in [0, 1) and --eps >= 0".into());
                }
                UpdateRule::Adam {
                    lr,
                    beta1: self.beta1,
                    beta2: self.beta2,
                    eps: self.eps,
                }
            }
        })
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(AppError::Config(m.into()));
        if self.epochs == 0 {
            return bad("--epochs must be at least 1");
        }
        if self.batch == 0 {
            return bad("--batch must be at least 1");
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return bad("--test-fraction must be in [0, 1)");
        }
        for path in [&self.save, &self.plot, &self.metrics]
            .into_iter()
            .flatten()
        {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir.filter(|d| !d.is_dir()) {
                return Err(AppError::Config(format!(
                    "cannot write {}: directory {} does not exist",
                    path.display(),
                    dir.display()
                )));
            }
        }
        if let Some(plot) = &self.plot {
            if !plot
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
            {
                return Err(AppError::Config(format!(
                    "cannot plot to {}: only .svg files are supported",
                    plot.display()
                )));
            }
        }
        self.rule().map(|_| ())
    }

    /// The network: `--net`, `--layers`, or the default for the data.
    fn network(&self, split: &Split) -> Result<Net> {
        let net = match (&self.net, &self.layers) {
            (Some(path), _) => Net::read(path)?,
            (None, Some(widths)) => Net::chain(widths, self.activation)?,
            (None, None) => Net::chain(
                &[
                    split.train.dim,
                    256,
                    128,
                    split.train.classes().max(split.test.classes()),
                ],
                self.activation,
            )?,
        };
        check_fits(&net, &split.train, "training")?;
        check_fits(&net, &split.test, "test")?;
        Ok(net)
    }
}

fn check_fits(net: &Net, examples: &data::Examples, what: &str) -> Result<()> {
    if examples.is_empty() {
        return Ok(());
    }
    if net.input_width() != examples.dim {
        return Err(AppError::Config(format!(
            "the network's input has {} values but the {what} examples have {}",
            net.input_width(),
            examples.dim
        )));
    }
    if examples.classes() > net.classes() {
        return Err(AppError::Config(format!(
            "the {what} labels go up to {} but the network's output has {} classes",
            examples.classes() - 1,
            net.classes()
        )));
    }
    Ok(())
}

/// Runs `gasket mlp` on `backend`.
///
/// # Errors
///
/// Bad options or input (file and reason), a GPU that `--require-gpu` cannot get, or a
/// failed rank.
pub fn execute(args: &MlpArgs, backend: Backend, progress: bool) -> Result<()> {
    args.validate()?;
    crate::run::size_thread_pool(args.threads);
    let selected = select(args.device, args.gpu, args.require_gpu)?;
    if let (Some(model), Some(eval)) = (&args.load, &args.eval) {
        return match &selected {
            Selected::Cpu(k) => evaluate(k, model, eval),
            #[cfg(feature = "cuda")]
            Selected::Cuda(k) => evaluate(k, model, eval),
        };
    }
    let Some(path) = &args.data else {
        return Err(AppError::Config(
            "mlp needs --data DIR|FILE to train, or --load MODEL --eval DIR|FILE to score".into(),
        ));
    };
    let split = data::load(path, args.test_fraction, args.seed)?;
    let net = args.network(&split)?;
    tracing::info!(
        "mlp: {} training and {} test examples from {}; network {net}; {} on {}",
        split.train.len(),
        split.test.len(),
        path.display(),
        format!("{:?}", args.optimizer).to_lowercase(),
        selected.describe()
    );
    let settings = TrainSettings {
        epochs: args.epochs,
        batch: args.batch,
        rule: args.rule()?,
        schedule: match args.lr_schedule {
            Schedule::Constant => LrSchedule::Constant,
            Schedule::Cosine => LrSchedule::Cosine {
                clocks: (args.epochs * split.train.len().div_ceil(args.batch)) as u64,
            },
        },
        consistency: args.staleness.consistency(),
        seed: args.seed,
        progress,
        checkpoint: args.checkpoint.settings_every(1, 1),
    };
    let reports = gasket_engine::launch(backend, |comm| -> Result<Option<TrainReport>> {
        match &selected {
            // Kernels on the rank's own threads (thread ranks each get a pool).
            Selected::Cpu(_) => train::train(&CpuKernels::new(), &net, &split, &settings, comm),
            #[cfg(feature = "cuda")]
            Selected::Cuda(k) => train::train(k, &net, &split, &settings, comm),
        }
    })?;
    let Some(report) = reports.into_iter().flatten().next() else {
        return Ok(());
    };
    finish(args, &net, &report, &selected)
}

fn evaluate<K: Kernels>(
    kernels: &K,
    model_path: &std::path::Path,
    eval: &std::path::Path,
) -> Result<()> {
    let (net, blocks) = saved::load(model_path)?;
    let examples = data::load_eval(eval)?;
    check_fits(&net, &examples, "evaluation")?;
    if examples.is_empty() {
        return Err(AppError::Config(format!(
            "{}: no examples to score",
            eval.display()
        )));
    }
    let mut model = Model::new(kernels, net, 1024)?;
    model.set_params(kernels, &blocks)?;
    let (loss, accuracy) = train::evaluate(kernels, &mut model, &examples)?;
    println!(
        "mlp eval: {} examples from {}: accuracy {:.2}%, loss {loss:.4}",
        examples.len(),
        eval.display(),
        100.0 * accuracy
    );
    Ok(())
}

fn finish(args: &MlpArgs, net: &Net, report: &TrainReport, selected: &Selected) -> Result<()> {
    let ranks = report.ranks;
    let last = report.epochs.last().expect("at least one epoch");
    let mean_rate = report
        .epochs
        .iter()
        .map(|p| p.samples_per_second)
        .sum::<f64>()
        / report.epochs.len() as f64;
    let write = |e: std::io::Error| AppError::Config(format!("cannot print: {e}"));
    writeln!(
        std::io::stdout().lock(),
        "mlp: {} epochs in {:.2}s on {} ({} rank{}, {}): {}, train loss {:.4}, {:.0} samples/s",
        report.epochs.len(),
        last.seconds,
        selected.describe(),
        ranks,
        if ranks == 1 { "" } else { "s" },
        if ranks > 1 {
            args.staleness.label()
        } else if args.checkpoint.is_set() {
            "parameters in the tables, for checkpoints".to_string()
        } else {
            "parameters on the device".to_string()
        },
        last.test_summary(),
        last.train_loss,
        mean_rate
    )
    .map_err(write)?;
    if let Some(path) = &args.save {
        saved::save(path, net, &report.blocks)?;
    }
    if let Some(path) = &args.metrics {
        let doc = serde_json::json!({
            "app": "mlp",
            "network": net.to_string(),
            "parameters": net.parameters(),
            "device": selected.describe(),
            "gpu": selected.is_gpu(),
            "ranks": ranks,
            "batch": args.batch,
            "optimizer": format!("{:?}", args.optimizer).to_lowercase(),
            "epochs": report.epochs,
            "clocks_trained": report.clocks_trained,
        });
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
    }
    if let Some(path) = &args.plot {
        let curve = |label: &str, f: fn(&train::EpochPoint) -> f64| Series {
            label: label.into(),
            points: report
                .epochs
                .iter()
                .map(|p| (p.seconds, p.epoch as f64, f(p)))
                .collect(),
        };
        let series = [
            curve("train loss", |p| p.train_loss),
            curve("test loss", |p| p.test_loss),
            curve("test error", |p| 1.0 - p.test_accuracy),
        ];
        plot_objective(path, "gasket mlp: loss and test error per epoch", &series)
            .map_err(|e| AppError::Config(e.to_string()))?;
    }
    Ok(())
}
