//! The training loop of one rank, and the driver that picks where the parameters live.
//!
//! An epoch shuffles the training set with a seed shared by every rank, cuts it into
//! global batches of `--batch` examples, and gives rank `r` of `R` the contiguous share
//! `[r B / R, (r + 1) B / R)` of each. A step pulls the parameters, runs forward and
//! backward on the share with the loss scaled by `1 / B` (so the ranks' gradients sum to
//! the batch mean), and pushes the gradient. After each epoch the ranks score their
//! shares of the test set and sum the figures.
//!
//! **Checkpoints** (`checkpoint`): a run that writes or resumes checkpoints keeps its
//! parameters in the tables even on one rank, so every checkpoint is a table checkpoint
//! taken at the end of an epoch (the tables' rows with their optimizer state, and the
//! epochs' figures so far) and resumes on any number of ranks. The shuffles are seeded
//! by epoch, so a resumed run takes the batches an uninterrupted one would.

use std::time::Instant;

use gasket_engine::checkpoint::Checkpointing;
use gasket_engine::comm::{Comm, ReduceOp};
use gasket_engine::error::EngineError;
use gasket_engine::param::{
    self, Consistency, LrSchedule, ParamConfig, TableCheckpoint, TableClient, TableComm,
    UpdateRule, WorkerState,
};
use gasket_engine::wire::Wire;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::data::{Examples, Split};
use super::kernels::Kernels;
use super::model::Model;
use super::net::Net;
use super::store::{LocalStore, ParamStore, TableStore, initial_blocks, table_specs};
use crate::Result;

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per global batch (over all ranks).
    pub batch: usize,
    /// The optimizer (also the tables' server rule).
    pub rule: UpdateRule,
    /// The learning rate's schedule over the run's steps.
    pub schedule: LrSchedule,
    /// Consistency of the tables when there is more than one rank.
    pub consistency: Consistency,
    /// Seed of the initial weights and the shuffles.
    pub seed: u64,
    /// Show a progress bar per epoch (rank 0, terminal only).
    pub progress: bool,
    /// Checkpoints every `every` epochs, and where to resume from.
    pub checkpoint: Checkpointing,
}

/// Figures of one epoch, summed over ranks.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct EpochPoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training seconds so far (test scoring excluded).
    pub seconds: f64,
    /// Mean loss over the epoch's batches, as they were trained.
    pub train_loss: f64,
    /// Accuracy over the epoch's batches, as they were trained.
    pub train_accuracy: f64,
    /// Mean test loss after the epoch (NaN without test examples).
    pub test_loss: f64,
    /// Test accuracy after the epoch (NaN without test examples).
    pub test_accuracy: f64,
    /// Training examples per second in this epoch.
    pub samples_per_second: f64,
}

impl EpochPoint {
    /// `test loss L accuracy A%`, or `no test examples` (then both are NaN, and `null`
    /// in JSON).
    pub fn test_summary(&self) -> String {
        if self.test_loss.is_nan() {
            "no test examples".into()
        } else {
            format!(
                "test loss {:.4} accuracy {:.2}%",
                self.test_loss,
                100.0 * self.test_accuracy
            )
        }
    }
}

impl Wire for EpochPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.epoch as u64, self.seconds, self.train_loss).encode(out);
        (self.train_accuracy, self.test_loss, self.test_accuracy).encode(out);
        self.samples_per_second.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (epoch, seconds, train_loss) = <(u64, f64, f64)>::decode(input);
        let (train_accuracy, test_loss, test_accuracy) = <(f64, f64, f64)>::decode(input);
        EpochPoint {
            epoch: epoch as usize,
            seconds,
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy,
            samples_per_second: f64::decode(input),
        }
    }
}

/// What a training run leaves on rank 0.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// Per-epoch figures.
    pub epochs: Vec<EpochPoint>,
    /// The final parameters, as [`Net::blocks`].
    pub blocks: Vec<Vec<f32>>,
    /// Ranks that trained (threads or MPI processes).
    pub ranks: usize,
    /// Training steps (parameter clocks) this run took on rank 0: a resumed run counts
    /// only the steps after its checkpoint, so a run that started over shows here.
    pub clocks_trained: u64,
}

/// Sums `(loss, correct, count)` of `indices` (in chunks the model takes).
fn score<K: Kernels>(
    kernels: &K,
    model: &mut Model<K>,
    examples: &Examples,
    indices: &[usize],
) -> Result<[f64; 3]> {
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    let mut sums = [0.0; 3];
    for chunk in indices.chunks(model.capacity()) {
        examples.gather(chunk, &mut features, &mut labels);
        let (loss, correct) = model.evaluate(kernels, &features, &labels)?;
        sums[0] += loss;
        sums[1] += correct as f64;
        sums[2] += chunk.len() as f64;
    }
    Ok(sums)
}

/// Scores `examples` with the model's current parameters (one rank).
///
/// # Errors
///
/// A failed kernel.
pub fn evaluate<K: Kernels>(
    kernels: &K,
    model: &mut Model<K>,
    examples: &Examples,
) -> Result<(f64, f64)> {
    let all: Vec<usize> = (0..examples.len()).collect();
    let [loss, correct, count] = score(kernels, model, examples, &all)?;
    Ok((loss / count.max(1.0), correct / count.max(1.0)))
}

/// Trains this rank's share (see the module docs) for the epochs after those of
/// `history` (a resumed run's), calling `after_epoch` with the figures so far at the end
/// of every epoch; every rank gets the summed figures.
///
/// # Errors
///
/// A failed kernel, table access, collective or `after_epoch`.
#[allow(clippy::too_many_arguments)]
pub fn train_rank<K: Kernels>(
    kernels: &K,
    model: &mut Model<K>,
    store: &mut dyn ParamStore<K>,
    data: &Split,
    settings: &TrainSettings,
    comm: &dyn Comm,
    history: Vec<EpochPoint>,
    after_epoch: &mut dyn FnMut(&[EpochPoint]) -> Result<()>,
) -> Result<Vec<EpochPoint>> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let n = data.train.len();
    let steps = n.div_ceil(settings.batch);
    let mut order: Vec<usize> = (0..n).collect();
    let test_share: Vec<usize> = (rank..data.test.len()).step_by(ranks).collect();
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    let mut trained = history.last().map_or(0.0, |p| p.seconds);
    let done = history.len();
    let mut points = history;
    for epoch in 1..=settings.epochs {
        // Each epoch shuffles the previous epoch's order: a resumed run replays the
        // shuffles of the epochs it skips.
        let mut rng = rand::rngs::StdRng::seed_from_u64(settings.seed ^ (epoch as u64) << 32);
        order.shuffle(&mut rng);
        if epoch <= done {
            continue;
        }
        let bar = crate::progress::bar(
            steps as u64,
            format!("epoch {epoch}/{}", settings.epochs),
            settings.progress && rank == 0,
        );
        let started = Instant::now();
        let mut sums = [0.0f64; 6];
        for batch in order.chunks(settings.batch) {
            let share = &batch[rank * batch.len() / ranks..(rank + 1) * batch.len() / ranks];
            store.pull(kernels, model)?;
            if !share.is_empty() {
                data.train.gather(share, &mut features, &mut labels);
                let scale = 1.0 / batch.len() as f32;
                let (loss, correct) = model.train_step(kernels, &features, &labels, scale)?;
                sums[0] += loss;
                sums[1] += correct as f64;
                sums[2] += share.len() as f64;
            }
            store.push(kernels, model, share.len())?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        trained += seconds;
        store.pull(kernels, model)?;
        let test = score(kernels, model, &data.test, &test_share)?;
        sums[3..].copy_from_slice(&test);
        comm.all_reduce_f64(&mut sums, ReduceOp::Sum)?;
        let point = EpochPoint {
            epoch,
            seconds: trained,
            train_loss: sums[0] / sums[2].max(1.0),
            train_accuracy: sums[1] / sums[2].max(1.0),
            test_loss: sums[3] / sums[5],
            test_accuracy: sums[4] / sums[5],
            samples_per_second: n as f64 / seconds,
        };
        if rank == 0 {
            tracing::info!(
                "epoch {epoch}/{}: train loss {:.4} accuracy {:.2}%, {}, {:.0} samples/s",
                settings.epochs,
                point.train_loss,
                100.0 * point.train_accuracy,
                point.test_summary(),
                point.samples_per_second
            );
        }
        points.push(point);
        after_epoch(&points)?;
    }
    Ok(points)
}

/// Trains `net` on every rank of `comm`: one rank keeps its parameters on its device,
/// several share them through parameter tables. Returns the report on rank 0.
///
/// # Errors
///
/// A failed kernel, table access or collective.
pub fn train<K: Kernels>(
    kernels: &K,
    net: &Net,
    data: &Split,
    settings: &TrainSettings,
    comm: &dyn Comm,
) -> Result<Option<TrainReport>> {
    let specs = table_specs(
        net,
        (settings.rule, settings.schedule),
        settings.consistency,
        settings.seed,
    );
    let capacity = settings.batch.div_ceil(comm.size()).max(1024);
    let checkpoints = &settings.checkpoint;
    if comm.size() == 1 && checkpoints.dir.is_none() && checkpoints.resume.is_none() {
        let mut model = Model::new(kernels, net.clone(), capacity)?;
        let mut store = LocalStore::new(
            kernels,
            &mut model,
            (settings.rule, settings.schedule),
            &initial_blocks(net, &specs),
        )?;
        let no_checkpoints = &mut |_: &[EpochPoint]| Ok(());
        let epochs = train_rank(
            kernels,
            &mut model,
            &mut store,
            data,
            settings,
            comm,
            Vec::new(),
            no_checkpoints,
        )?;
        let blocks = model.to_host(kernels, false)?;
        let clocks_trained = (epochs.len() * data.train.len().div_ceil(settings.batch)) as u64;
        return Ok(Some(TrainReport {
            epochs,
            blocks,
            ranks: 1,
            clocks_trained,
        }));
    }
    let as_engine = |e: crate::AppError| match e {
        crate::AppError::Engine(e) => e,
        other => EngineError::Config(other.to_string()),
    };
    let steps = data.train.len().div_ceil(settings.batch) as u64;
    let config = ParamConfig {
        resume: checkpoints.resume.clone(),
        ..ParamConfig::default()
    };
    let finished = param::run(comm, specs, &config, |client, table_comm| {
        let history = match client.resumed() {
            Some(resumed) => resumed_history(resumed, steps, settings.epochs)?,
            None => Vec::new(),
        };
        let mut model = Model::new(kernels, net.clone(), capacity).map_err(as_engine)?;
        let mut store = TableStore::new(client, net);
        let mut after_epoch = |points: &[EpochPoint]| {
            checkpoint_epoch(client, table_comm, checkpoints, points, settings.epochs)
                .map_err(crate::AppError::from)
        };
        train_rank(
            kernels,
            &mut model,
            &mut store,
            data,
            settings,
            table_comm,
            history,
            &mut after_epoch,
        )
        .map_err(as_engine)
    })?;
    let Some(rows) = param::gather_rows(comm, 0, &finished.rows)? else {
        return Ok(None);
    };
    let mut blocks: Vec<Vec<f32>> = vec![Vec::new(); net.blocks.len()];
    for (table, _, row) in rows {
        blocks[table as usize].extend(row.into_dense().expect("dense tables"));
    }
    for (values, block) in blocks.iter_mut().zip(&net.blocks) {
        values.truncate(block.len());
    }
    Ok(Some(TrainReport {
        epochs: finished.value,
        blocks,
        ranks: comm.size(),
        // The session's final clock (a flush, no step) is not a training step.
        clocks_trained: finished.metrics.clocks - 1,
    }))
}

/// Writes a table checkpoint after the epochs of `points` when one is due (not after the
/// last epoch: the run's outputs follow at once).
fn checkpoint_epoch(
    client: &TableClient,
    comm: &TableComm<'_>,
    checkpoints: &Checkpointing,
    points: &[EpochPoint],
    epochs: usize,
) -> gasket_engine::Result<()> {
    let Some(dir) = &checkpoints.dir else {
        return Ok(());
    };
    if !checkpoints.due(points.len()) || points.len() == epochs {
        return Ok(());
    }
    let mut shared = Vec::new();
    points.to_vec().encode(&mut shared);
    let state = WorkerState {
        shared,
        records: Vec::new(),
    };
    let target = TableCheckpoint {
        dir,
        keep: checkpoints.keep,
    };
    let started = Instant::now();
    let written = client.checkpoint(comm, &target, &state)?;
    if client.rank() == 0 {
        tracing::info!(
            "checkpoint after epoch {} written to {} in {:.3}s",
            points.len(),
            written.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The epochs a checkpoint saved, checked against the run resuming from it.
fn resumed_history(
    resumed: &param::Resumed,
    steps_per_epoch: u64,
    epochs: usize,
) -> gasket_engine::Result<Vec<EpochPoint>> {
    let bad = |why: String| {
        EngineError::Checkpoint(format!(
            "{}: {why} (was it written by gasket mlp with this data and --batch?)",
            resumed.dir.display()
        ))
    };
    let history: Vec<EpochPoint> = resumed.shared_as()?;
    if history.len() as u64 * steps_per_epoch != resumed.clock {
        return Err(bad(format!(
            "it was taken after {} steps, which is not {} epochs of {steps_per_epoch} steps",
            resumed.clock,
            history.len()
        )));
    }
    if history.len() > epochs {
        return Err(bad(format!(
            "it was taken after epoch {}, past this run's {epochs} epochs",
            history.len()
        )));
    }
    Ok(history)
}
