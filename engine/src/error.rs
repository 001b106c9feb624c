//! The engine's error type.

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
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
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
        matches!(self, EngineError::PeerLost { .. })
    }
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
