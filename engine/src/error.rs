//! The engine's error type.

use crate::comm::RankFailure;
use crate::ids::Rank;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A peer rank stopped (returned an error, panicked or was killed) while this rank
    /// waited on it; the peer's own error is the one to report.
    #[error("rank {rank} stopped before completing a collective operation")]
    PeerLost {
        /// The rank that went away.
        rank: Rank,
    },
    /// The graph does not fit the engine's limits or is unusable.
    #[error("graph build failed: {0}")]
    Build(String),
    /// A checkpoint could not be written or no usable one was found.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or partitioning the input failed; the reader's or partitioner's own error
    /// (with its file, line and reason) is inside.
    #[error(transparent)]
    Input(InputFailure),
    /// A requested backend was not compiled in.
    #[error("{backend} support is not built in: rebuild with `--features {feature}`")]
    NotBuilt {
        /// Human name of the backend.
        backend: &'static str,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
}

impl EngineError {
    /// True when this error only reports that another rank failed first.
    pub fn is_peer_lost(&self) -> bool {
        match self {
            EngineError::PeerLost { .. } => true,
            EngineError::Input(e) => e.peer_lost,
            _ => false,
        }
    }

    /// Wraps a reader's or partitioner's error.
    pub fn input(e: impl std::error::Error + RankFailure + Send + Sync + 'static) -> Self {
        EngineError::Input(InputFailure {
            peer_lost: e.is_peer_lost(),
            error: Box::new(e),
        })
    }
}

/// An error from outside the engine (a reader's, a partitioner's) carried inside
/// [`EngineError::Input`]; it displays as the inner error and keeps its causes.
#[derive(Debug)]
pub struct InputFailure {
    error: Box<dyn std::error::Error + Send + Sync>,
    peer_lost: bool,
}

impl InputFailure {
    /// The inner error, to inspect with `downcast_ref`.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.error.as_ref()
    }
}

impl std::fmt::Display for InputFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for InputFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
