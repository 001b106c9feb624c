//! The checkpoint options of the apps: those on the synchronous engine (PageRank,
//! components, SSSP, LDA) turn them into the engine's [`Checkpointing`]; those on the
//! parameter table (sgd, mlp) checkpoint the tables at clock boundaries with them.

use std::path::PathBuf;

use gasket_engine::checkpoint::{Checkpointing, DEFAULT_KEEP};

/// Supersteps (or LDA sweeps) between checkpoints when only a folder is given.
pub const DEFAULT_EVERY: usize = 10;

/// Where and how often a run writes checkpoints, and where it resumes from.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct CheckpointArgs {
    /// Write checkpoints to this folder, every --checkpoint-every supersteps (LDA:
    /// sweeps; sgd: clocks; mlp: epochs).
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Supersteps (LDA: sweeps; sgd: clocks; mlp: epochs) between checkpoints
    /// [default: 10; mlp: 1].
    #[arg(long, value_name = "N", requires = "checkpoint_dir",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: Option<u64>,
    /// Complete checkpoints to keep; older ones are deleted.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_KEEP as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_keep: u64,
    /// Resume from the newest complete checkpoint in this folder, on any number of ranks
    /// and with any partitioner (the input and settings must be the run's own).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

impl Default for CheckpointArgs {
    fn default() -> Self {
        CheckpointArgs {
            checkpoint_dir: None,
            checkpoint_every: None,
            checkpoint_keep: DEFAULT_KEEP as u64,
            resume: None,
        }
    }
}

impl CheckpointArgs {
    /// Whether any checkpoint option was given.
    pub fn is_set(&self) -> bool {
        self.checkpoint_dir.is_some() || self.resume.is_some()
    }

    /// Refuses checkpoint options on a run that does not use the synchronous engine.
    ///
    /// # Errors
    ///
    /// [`AppError::Config`](crate::AppError::Config) when `asynchronous` and an option is set.
    pub fn sync_only(&self, asynchronous: bool) -> crate::Result<()> {
        if asynchronous && self.is_set() {
            return Err(crate::AppError::Config(
                "checkpoints (--checkpoint-dir, --resume) are taken by the synchronous engine; \
                 leave out --engine async"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The engine's settings; `supersteps_per_unit` supersteps make one unit of
    /// `--checkpoint-every` (2 for LDA's sweeps, else 1).
    pub fn settings(&self, supersteps_per_unit: usize) -> Checkpointing {
        self.settings_every(DEFAULT_EVERY, supersteps_per_unit)
    }

    /// [`settings`](Self::settings) with `default_every` units between checkpoints when
    /// `--checkpoint-every` is not given.
    pub fn settings_every(
        &self,
        default_every: usize,
        supersteps_per_unit: usize,
    ) -> Checkpointing {
        let every = self.checkpoint_every.map_or(default_every, |n| n as usize);
        Checkpointing {
            dir: self.checkpoint_dir.clone(),
            every: every.saturating_mul(supersteps_per_unit),
            keep: self.checkpoint_keep as usize,
            resume: self.resume.clone(),
        }
    }
}
