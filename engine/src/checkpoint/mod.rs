//! Checkpoints: a run's state on disk, keyed by global ids, so that a run can restart
//! from it on any number of ranks and with any placement.
//!
//! The synchronous engine takes a checkpoint every `every` supersteps
//! ([`Checkpointing`]): each rank writes its owned vertices' data, the messages and
//! activity of the next superstep and the edges whose source it owns, all as
//! `(global id, value)` records; rank 0 adds the iteration, the aggregator values and the
//! program's own state, then the manifest (see `files` for the layout and its checks). A
//! resumed run reads every part, keeps the records of the vertices and edges it holds
//! under its own rank layout, and refills ghosts by the usual exchange: nothing in a
//! checkpoint depends on how the run that wrote it was partitioned.
//!
//! On resume, rank 0 picks the newest checkpoint whose manifest and files all check out,
//! warning about each newer one it skips (unfinished, truncated, corrupt); all ranks use
//! its choice. Older checkpoints are deleted only after a newer one is complete, so a
//! failed write (disk full, read-only folder) leaves the previous one usable.

mod collective;
mod files;
mod select;

use std::path::PathBuf;

pub(crate) use collective::{Describe, agree, choose, gather_agreed, write_step};
pub(crate) use files::{read_framed, read_manifest};
pub use select::{CheckpointInfo, newest_complete};

/// Default number of complete checkpoints kept on disk.
pub const DEFAULT_KEEP: usize = 2;

/// When and where a synchronous run writes checkpoints, and where it resumes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpointing {
    /// Folder the checkpoints go to (`None`: none are written).
    pub dir: Option<PathBuf>,
    /// Write one after every this many supersteps (0: never).
    pub every: usize,
    /// Complete checkpoints kept (older ones are deleted); at least 1, default 2 so that a
    /// damaged newest one still leaves one to fall back on.
    pub keep: usize,
    /// Resume from the newest complete checkpoint in this folder.
    pub resume: Option<PathBuf>,
}

impl Checkpointing {
    /// Whether a checkpoint is due after `iteration` steps (supersteps, clocks).
    pub fn due(&self, iteration: usize) -> bool {
        self.dir.is_some() && self.every > 0 && iteration % self.every == 0
    }

    /// Checkpoints kept, at least one.
    pub(crate) fn keep(&self) -> usize {
        self.keep.max(1)
    }
}
