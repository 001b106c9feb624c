//! `gasket sgd`: data-parallel SGD on the parameter table — matrix factorization
//! ([`mf`]) and logistic regression ([`logreg`]) — with BSP, SSP or asynchronous tables
//! and an injected straggler, so a user can watch what bounded staleness buys.
//!
//! **Driver.** Every rank is a worker with its shard of the data. A clock processes one
//! batch (`1 / clocks_per_epoch` of the shard), then calls `clock()`. The straggler option
//! makes one rank sleep `(factor - 1)` times its measured compute time on a random share
//! of clocks (a transient straggler, as in the SSP papers). Each rank records, per clock,
//! its batch's summed loss and the wall time (from a common start) at which it finished
//! the clock; rank 0 combines them: the objective of clock `c` is the mean loss over all
//! ranks' batches of clock `c`, reached when the slowest rank finished it.
//!
//! **Determinism.** With `--staleness 0` (BSP) the model after every clock is a function
//! of the data, the seed and the rank count only; [`mf_serial_bsp`] recomputes it without
//! tables, and the tests hold the two equal bit for bit.

pub mod command;
pub mod logreg;
pub mod mf;
pub mod plot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use gasket_datasets::generate::{RatingsConfig, low_rank_ratings};
use gasket_datasets::{Format, GraphInput};
use gasket_engine::comm::{Comm, CommExt, ReduceOp};
use gasket_engine::error::EngineError;
use gasket_engine::hash::unit as unit_hash;
use gasket_engine::param::{
    self, Consistency, ParamConfig, TableCheckpoint, TableClient, TableMetrics, TableRows,
    TableSpec, WorkerState,
};
use gasket_engine::wire::{Wire, decode_all};

use crate::checkpointing::CheckpointArgs;
use crate::{AppError, Result};

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// Matrix factorization of `user item rating` data.
    Mf,
    /// Logistic regression on libsvm data.
    Logreg,
}

/// The server-side rule of logistic regression's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Update {
    /// `w -= lr * gradient`.
    Sgd,
    /// Adagrad.
    Adagrad,
}

/// A table consistency as the command line names it: a staleness in clocks (0 = BSP) or
/// `async`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Stale synchronous with this bound; 0 is BSP.
    Clocks(u32),
    /// No bound.
    Async,
}

impl Staleness {
    /// The table consistency.
    pub fn consistency(self) -> Consistency {
        match self {
            Staleness::Clocks(0) => Consistency::Bsp,
            Staleness::Clocks(s) => Consistency::Ssp(s),
            Staleness::Async => Consistency::Async,
        }
    }

    /// How runs are labelled in reports and plots.
    pub fn label(self) -> String {
        match self {
            Staleness::Clocks(0) => "BSP (s = 0)".into(),
            Staleness::Clocks(s) => format!("SSP s = {s}"),
            Staleness::Async => "async".into(),
        }
    }
}

impl FromStr for Staleness {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("async") {
            return Ok(Staleness::Async);
        }
        s.trim().parse::<u32>().map(Staleness::Clocks).map_err(|_| {
            format!(
                "staleness must be a whole number of clocks >= 0 (0 = BSP) or `async`, got `{s}`"
            )
        })
    }
}

/// `--straggler RANK:FACTOR[:PROB]`: rank `RANK` computes `FACTOR` times slower on a
/// share `PROB` (default 1) of its clocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Straggler {
    /// The slow rank.
    pub rank: usize,
    /// Slow-down factor (>= 1).
    pub factor: f64,
    /// Share of clocks that are slow, in `(0, 1]`.
    pub prob: f64,
}

impl FromStr for Straggler {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let usage = || format!("expected RANK:FACTOR[:PROB] (e.g. 1:4:0.2), got `{s}`");
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(usage());
        }
        let rank = parts[0].trim().parse::<usize>().map_err(|_| usage())?;
        let factor = parts[1].trim().parse::<f64>().map_err(|_| usage())?;
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(format!(
                "straggler factor must be at least 1, got {}",
                parts[1]
            ));
        }
        let prob = match parts.get(2) {
            Some(p) => p.trim().parse::<f64>().map_err(|_| usage())?,
            None => 1.0,
        };
        if !(prob > 0.0 && prob <= 1.0) {
            return Err(format!(
                "straggler probability must be in (0, 1], got {prob}"
            ));
        }
        Ok(Straggler { rank, factor, prob })
    }
}

impl Straggler {
    /// How long rank `rank` sleeps after clock `clock` that took `compute`.
    pub fn delay(&self, rank: usize, clock: u64, seed: u64, compute: Duration) -> Duration {
        if rank != self.rank || unit_hash(clock, 0x57A6, seed) >= self.prob {
            return Duration::ZERO;
        }
        compute.mul_f64(self.factor - 1.0)
    }
}

/// Settings of `gasket sgd`.
#[derive(Debug, Clone, clap::Args)]
pub struct SgdConfig {
    /// The model: mf (ratings) or logreg (libsvm).
    #[arg(long, value_enum)]
    pub model: Model,
    /// Factor dimension of matrix factorization.
    #[arg(long, default_value_t = 10)]
    pub dims: usize,
    /// Learning rate (mf: per rating on the worker, default 0.05; logreg: the server's
    /// rule, default 0.5).
    #[arg(long)]
    pub lr: Option<f64>,
    /// L2 regularisation of matrix factorization.
    #[arg(long, default_value_t = 0.05)]
    pub lambda: f64,
    /// Passes over the data.
    #[arg(long, default_value_t = 10)]
    pub epochs: u64,
    /// Clocks per pass (each clock takes one batch of every worker's shard).
    #[arg(long, default_value_t = 10)]
    pub clocks_per_epoch: u64,
    /// Logistic regression: the server's update rule.
    #[arg(long, value_enum, default_value_t = Update::Adagrad)]
    pub update: Update,
    /// Share of the data held out for testing.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
    /// Seed of the split, the order and the initial model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Slow one rank down: `RANK:FACTOR[:PROB]`.
    #[arg(long)]
    pub straggler: Option<Straggler>,
    /// Push fresh rows to their readers after every clock (ESSP). `--staleness async`
    /// always does, after each reader's own clock.
    #[arg(long)]
    pub eager: bool,
    /// Checkpoints of the table and the workers, every --checkpoint-every clocks.
    #[command(flatten)]
    pub checkpoint: CheckpointArgs,
}

impl SgdConfig {
    /// The learning rate: `--lr`, else the model's default.
    pub fn learning_rate(&self) -> f64 {
        self.lr.unwrap_or(match self.model {
            Model::Mf => 0.05,
            Model::Logreg => 0.5,
        })
    }

    /// Checks the ranges.
    ///
    /// # Errors
    ///
    /// [`AppError::Config`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AppError::Config(m));
        let lr = self.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return bad(format!("--lr must be a positive number, got {lr}"));
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return bad(format!("--lambda must be >= 0, got {}", self.lambda));
        }
        if self.dims == 0 || self.dims > 4096 {
            return bad(format!(
                "--dims must be between 1 and 4096, got {}",
                self.dims
            ));
        }
        if self.epochs == 0 || self.clocks_per_epoch == 0 {
            return bad("--epochs and --clocks-per-epoch must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return bad(format!(
                "--test-fraction must be in [0, 1), got {}",
                self.test_fraction
            ));
        }
        Ok(())
    }

    /// Clocks of a run.
    pub fn clocks(&self) -> u64 {
        self.epochs * self.clocks_per_epoch
    }
}

/// Where the data comes from.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// A ratings file (`user item rating`, SNAP-style or Matrix Market) or a libsvm file.
    File(PathBuf, Option<Format>),
    /// Low-rank synthetic ratings.
    Synthetic(RatingsConfig),
}

/// A rank's share of the data, loaded once for any number of runs.
#[derive(Debug, Clone)]
pub enum Shard {
    /// Ratings of this rank's users, and the global mean of the training ratings.
    Ratings(Vec<mf::Rating>, f32),
    /// `(line, example)` of this rank's examples.
    Examples(Vec<(u64, logreg::Example)>),
}

/// Loads this rank's shard (collective).
///
/// # Errors
///
/// Unreadable or malformed input (file:line), ratings without a third column, non-binary
/// labels, or a failed collective.
pub fn load(config: &SgdConfig, source: &DataSource, comm: &dyn Comm) -> Result<Shard> {
    let (rank, ranks) = (comm.rank(), comm.size());
    match (config.model, source) {
        (Model::Mf, DataSource::Synthetic(cfg)) => {
            cfg.validate()?;
            let mine: Vec<mf::Rating> = low_rank_ratings(cfg)
                .into_iter()
                .filter(|&(u, _, _)| u % ranks as u64 == rank as u64)
                .map(|(u, i, r)| (u, i, r as f32))
                .collect();
            finish_ratings(config, comm, mine)
        }
        (Model::Mf, DataSource::File(path, format)) => {
            let input = GraphInput::new(Some(path.clone()), *format);
            let edges = input.read(comm)?;
            let Some(weights) = edges.weight else {
                return Err(AppError::Config(format!(
                    "{}: mf needs ratings, lines `user item rating`, but the file has no third column",
                    path.display()
                )));
            };
            let mut send = vec![Vec::new(); ranks];
            for ((&u, &i), &w) in edges.src.iter().zip(&edges.dst).zip(&weights) {
                (u, i, w as f32).encode(&mut send[(u % ranks as u64) as usize]);
            }
            let mine = comm
                .all_to_all_v(send)?
                .iter()
                .flat_map(|b| decode_all::<(u64, u64, f32)>(b))
                .collect();
            finish_ratings(config, comm, mine)
        }
        (Model::Logreg, DataSource::File(path, _)) => {
            let ex = gasket_datasets::read_libsvm(path)?;
            let labels = logreg::binary_labels(&path.display().to_string(), &ex)?;
            let mine = ex
                .features
                .into_iter()
                .zip(labels)
                .zip(ex.lines)
                .enumerate()
                .filter(|(k, _)| k % ranks == rank)
                .map(|(_, ((f, y), line))| (line, (y, f)))
                .collect();
            Ok(Shard::Examples(mine))
        }
        (Model::Logreg, DataSource::Synthetic(_)) => Err(AppError::Config(
            "--synthetic generates ratings for --model mf; logreg needs --input FILE.svm".into(),
        )),
    }
}

fn finish_ratings(config: &SgdConfig, comm: &dyn Comm, mine: Vec<mf::Rating>) -> Result<Shard> {
    let mut sums = [0.0f64, 0.0];
    for &(u, i, r) in &mine {
        if !mf::is_test(config, u, i) {
            sums[0] += f64::from(r);
            sums[1] += 1.0;
        }
    }
    comm.all_reduce_f64(&mut sums, ReduceOp::Sum)?;
    if sums[1] == 0.0 {
        return Err(AppError::Config(
            "no training ratings (the input is empty, or everything is held out)".into(),
        ));
    }
    Ok(Shard::Ratings(mine, (sums[0] / sums[1]) as f32))
}

/// One clock of a run as rank 0 reports it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ClockPoint {
    /// 1-based clock number.
    pub clock: u64,
    /// Seconds from the start until the slowest rank finished this clock.
    pub seconds: f64,
    /// Mean loss of the clock's batches (mf: squared error; logreg: logistic loss).
    pub objective: f64,
}

/// What one run produced (on rank 0).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SgdReport {
    /// `BSP (s = 0)`, `SSP s = 3`, `async`.
    pub label: String,
    /// Every clock.
    pub clocks: Vec<ClockPoint>,
    /// mf: held-out RMSE; logreg: held-out accuracy. `None` without held-out data.
    pub test_metric: Option<f64>,
    /// Seconds of the whole run.
    pub seconds: f64,
    /// Per-rank table figures.
    pub per_rank: Vec<TableMetrics>,
    /// Every row of the model.
    #[serde(skip)]
    pub model: TableRows,
}

impl SgdReport {
    /// Seconds until the objective first reached `target` or below.
    pub fn time_to(&self, target: f64) -> Option<f64> {
        self.clocks
            .iter()
            .find(|p| p.objective <= target)
            .map(|p| p.seconds)
    }
}

enum Worker {
    Mf(mf::MfWorker),
    Logreg(logreg::LogregWorker),
}

impl Worker {
    fn train_len(&self) -> usize {
        match self {
            Worker::Mf(w) => w.train.len(),
            Worker::Logreg(w) => w.train.len(),
        }
    }
    fn clock(
        &mut self,
        tables: &TableClient,
        batch: std::ops::Range<usize>,
    ) -> gasket_engine::Result<f64> {
        match self {
            Worker::Mf(w) => w.clock(tables, batch),
            Worker::Logreg(w) => w.clock(tables, batch),
        }
    }
    /// What the worker keeps outside the table, as checkpoint records.
    fn records(&self) -> Vec<(u64, Vec<u8>)> {
        match self {
            Worker::Mf(w) => w.user_records(),
            Worker::Logreg(_) => Vec::new(),
        }
    }
    fn restore(
        &mut self,
        records: &[(u64, Vec<u8>)],
        ranks: (usize, usize),
    ) -> std::result::Result<(), String> {
        match self {
            Worker::Mf(w) => w.restore_users(records, ranks),
            Worker::Logreg(_) => Ok(()),
        }
    }
    /// (summed held-out figure, held-out count).
    fn evaluate(&mut self, tables: &TableClient) -> gasket_engine::Result<(f64, f64)> {
        match self {
            Worker::Mf(w) => Ok((w.test_error(tables)?, w.test.len() as f64)),
            Worker::Logreg(w) => Ok((w.test_correct(tables)?, w.test.len() as f64)),
        }
    }
}

/// The rows of clock batch `clock` in a shard of `n` training samples.
pub fn batch(n: usize, clocks_per_epoch: u64, clock: u64) -> std::ops::Range<usize> {
    let b = (clock % clocks_per_epoch) as usize;
    let per = clocks_per_epoch as usize;
    b * n / per..(b + 1) * n / per
}

/// Runs one training run on this rank (collective). Returns the report on rank 0.
///
/// # Errors
///
/// A straggler rank that does not exist, or a failed collective.
pub fn run(
    config: &SgdConfig,
    staleness: Staleness,
    shard: &Shard,
    comm: &dyn Comm,
    progress: bool,
) -> Result<Option<SgdReport>> {
    if let Some(s) = config.straggler
        && s.rank >= comm.size()
    {
        return Err(AppError::Config(format!(
            "--straggler names rank {}, but there are only {} rank(s) (0..{})",
            s.rank,
            comm.size(),
            comm.size() - 1
        )));
    }
    let (rank, clocks) = (comm.rank(), config.clocks());
    let (spec, mut worker): (TableSpec, Worker) = match shard {
        Shard::Ratings(ratings, mu) => (
            mf::table(config),
            Worker::Mf(mf::MfWorker::new(config, ratings.clone(), *mu)),
        ),
        Shard::Examples(examples) => (
            logreg::table(config),
            Worker::Logreg(logreg::LogregWorker::new(config, examples.clone())),
        ),
    };
    // Async reads are served from rows pushed per reader clock: as fresh as fetching
    // them every clock, without a request per row.
    let spec = spec
        .consistency(staleness.consistency())
        .eager(config.eager || staleness == Staleness::Async);
    let label = staleness.label();
    let n = worker.train_len();
    let checkpoints = config.checkpoint.settings(1);
    let param_config = ParamConfig {
        resume: checkpoints.resume.clone(),
        ..ParamConfig::default()
    };
    let finished = param::run(comm, vec![spec], &param_config, |tables, tcomm| {
        let (first, mut history) = match tables.resumed() {
            Some(resumed) => {
                let history = resumed_history(resumed, clocks)?;
                worker
                    .restore(&resumed.records, (rank, comm.size()))
                    .map_err(EngineError::Checkpoint)?;
                (resumed.clock, history)
            }
            None => (0, Vec::new()),
        };
        let offset = history.last().map_or(0.0, |p| p.seconds);
        tcomm.barrier()?;
        let start = Instant::now();
        let mut records: Vec<ClockRecord> = Vec::with_capacity((clocks - first) as usize);
        for c in first..clocks {
            let range = batch(n, config.clocks_per_epoch, c);
            let t0 = Instant::now();
            let loss = worker.clock(tables, range.clone())?;
            if let Some(s) = config.straggler {
                std::thread::sleep(s.delay(rank, c, config.seed, t0.elapsed()));
            }
            tables.clock()?;
            records.push((
                loss,
                range.len() as u64,
                offset + start.elapsed().as_secs_f64(),
            ));
            if progress && rank == 0 && (c + 1) % config.clocks_per_epoch == 0 {
                let (l, k, t) = records.last().copied().expect("pushed");
                tracing::info!(
                    "{label}: epoch {}/{} on rank 0: batch objective {:.5}, {t:.2}s",
                    (c + 1) / config.clocks_per_epoch,
                    config.epochs,
                    l / k.max(1) as f64
                );
            }
            if let Some(dir) = &checkpoints.dir
                && checkpoints.due(c as usize + 1)
                && c + 1 < clocks
            {
                let done = c + 1 - records.len() as u64;
                history.extend(combine(tcomm, &records, done)?.unwrap_or_default());
                records.clear();
                let mut shared = Vec::new();
                history.encode(&mut shared);
                let state = WorkerState {
                    shared,
                    records: worker.records(),
                };
                let target = TableCheckpoint {
                    dir,
                    keep: checkpoints.keep,
                };
                let started = Instant::now();
                let written = tables.checkpoint(tcomm, &target, &state)?;
                if progress && rank == 0 {
                    tracing::info!(
                        "checkpoint after clock {} written to {} in {:.3}s",
                        c + 1,
                        written.display(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
        let done = clocks - records.len() as u64;
        history.extend(combine(tcomm, &records, done)?.unwrap_or_default());
        let (figure, count) = worker.evaluate(tables)?;
        Ok((
            history,
            figure,
            count,
            offset + start.elapsed().as_secs_f64(),
        ))
    })?;
    let (points, figure, count, seconds) = finished.value;
    let mut held_out = [figure, count];
    comm.all_reduce_f64(&mut held_out, ReduceOp::Sum)?;
    let per_rank = comm.gather_to(0, std::slice::from_ref(&finished.metrics))?;
    let mut longest = [seconds];
    comm.all_reduce_f64(&mut longest, ReduceOp::Max)?;
    let model = param::gather_rows(comm, 0, &finished.rows)?;
    let (Some(per_rank), Some(model)) = (per_rank, model) else {
        return Ok(None);
    };
    let test_metric = (held_out[1] > 0.0).then(|| match config.model {
        Model::Mf => (held_out[0] / held_out[1]).sqrt(),
        Model::Logreg => held_out[0] / held_out[1],
    });
    Ok(Some(SgdReport {
        label,
        clocks: points,
        test_metric,
        seconds: longest[0],
        per_rank,
        model,
    }))
}

/// A rank's figures of one clock: summed loss, batch size, seconds since the start.
type ClockRecord = (f64, u64, f64);

/// Combines every rank's records of the clocks after `done` into the run's points on
/// rank 0 (collective; `None` elsewhere): the mean loss over all batches, reached when
/// the slowest rank finished.
fn combine(
    comm: &dyn Comm,
    records: &[ClockRecord],
    done: u64,
) -> gasket_engine::Result<Option<Vec<ClockPoint>>> {
    let Some(all) = comm.gather_to(0, records)? else {
        return Ok(None);
    };
    let per_rank = records.len();
    let points = (0..per_rank)
        .map(|c| {
            let (mut loss, mut k, mut t) = (0.0, 0u64, 0.0f64);
            for rank in 0..comm.size() {
                let (l, n, s) = all[rank * per_rank + c];
                loss += l;
                k += n;
                t = t.max(s);
            }
            ClockPoint {
                clock: done + c as u64 + 1,
                seconds: t,
                objective: loss / k.max(1) as f64,
            }
        })
        .collect();
    Ok(Some(points))
}

/// The points a checkpoint saved, checked against the run resuming from it.
fn resumed_history(
    resumed: &param::Resumed,
    clocks: u64,
) -> gasket_engine::Result<Vec<ClockPoint>> {
    let bad = |why: String| {
        EngineError::Checkpoint(format!(
            "{}: {why} (was it written by gasket sgd with these settings?)",
            resumed.dir.display()
        ))
    };
    let history: Vec<ClockPoint> = resumed.shared_as()?;
    if history.len() as u64 != resumed.clock {
        return Err(bad(format!(
            "it holds {} clocks of history for clock {}",
            history.len(),
            resumed.clock
        )));
    }
    if resumed.clock > clocks {
        return Err(bad(format!(
            "it was taken after clock {}, past this run's {clocks} clocks (--epochs x \
             --clocks-per-epoch)",
            resumed.clock
        )));
    }
    Ok(history)
}

impl Wire for ClockPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.clock, self.seconds, self.objective).encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (clock, seconds, objective) = <(u64, f64, f64)>::decode(input);
        ClockPoint {
            clock,
            seconds,
            objective,
        }
    }
}

/// Matrix factorization under BSP without tables, for `ranks` workers: each clock every
/// worker steps from the model as the previous clock left it, then the workers' summed
/// item steps are added in rank order. Returns the item rows (sorted) after `clocks`.
pub fn mf_serial_bsp(
    config: &SgdConfig,
    ranks: usize,
    ratings: &[mf::Rating],
) -> Vec<(u64, Vec<f32>)> {
    let (mut sum, mut n) = (0.0f64, 0.0f64);
    for &(u, i, r) in ratings {
        if !mf::is_test(config, u, i) {
            sum += f64::from(r);
            n += 1.0;
        }
    }
    let mu = (sum / n) as f32;
    let spec = mf::table(config);
    let mut workers: Vec<mf::MfWorker> = (0..ranks)
        .map(|r| {
            let mine = ratings
                .iter()
                .copied()
                .filter(|&(u, _, _)| u % ranks as u64 == r as u64)
                .collect();
            mf::MfWorker::new(config, mine, mu)
        })
        .collect();
    let mut table: HashMap<u64, Vec<f32>> = HashMap::new();
    for c in 0..config.clocks() {
        let mut steps = Vec::with_capacity(ranks);
        for w in &mut workers {
            let range = batch(w.train.len(), config.clocks_per_epoch, c);
            let mut items: HashMap<u64, (Vec<f32>, Vec<f32>)> = w
                .batch_items(range.clone())
                .into_iter()
                .map(|i| {
                    let y = table
                        .get(&i)
                        .cloned()
                        .unwrap_or_else(|| spec.initial_row(i).into_dense().expect("dense"));
                    let zeros = vec![0.0; y.len()];
                    (i, (y, zeros))
                })
                .collect();
            w.step(range, &mut items);
            steps.push(items);
        }
        for items in steps {
            for (i, (_, step)) in items {
                let y = table
                    .entry(i)
                    .or_insert_with(|| spec.initial_row(i).into_dense().expect("dense"));
                for (y, d) in y.iter_mut().zip(&step) {
                    *y += 1.0 * d;
                }
            }
        }
    }
    let mut rows: Vec<_> = table.into_iter().collect();
    rows.sort_by_key(|(i, _)| *i);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_and_straggler_parse_with_clear_errors() {
        assert_eq!("3".parse::<Staleness>(), Ok(Staleness::Clocks(3)));
        assert_eq!("ASYNC".parse::<Staleness>(), Ok(Staleness::Async));
        assert!("-1".parse::<Staleness>().unwrap_err().contains(">= 0"));
        let s: Straggler = "1:4:0.25".parse().unwrap();
        assert_eq!((s.rank, s.factor, s.prob), (1, 4.0, 0.25));
        assert_eq!("2:3".parse::<Straggler>().unwrap().prob, 1.0);
        assert!(
            "1:0.5"
                .parse::<Straggler>()
                .unwrap_err()
                .contains("at least 1")
        );
        assert!("1:2:0".parse::<Straggler>().unwrap_err().contains("(0, 1]"));
        assert!(
            "x".parse::<Straggler>()
                .unwrap_err()
                .contains("RANK:FACTOR")
        );
    }

    #[test]
    fn batches_cover_the_shard_once_per_epoch() {
        let covered: Vec<usize> = (0..7).flat_map(|c| batch(23, 7, c)).collect();
        assert_eq!(covered, (0..23).collect::<Vec<_>>());
    }
}
