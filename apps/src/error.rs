//! The apps' error type: everything a user can get wrong, with file, line and reason.

use std::path::PathBuf;

use gasket_datasets::DatasetError;
use gasket_engine::EngineError;
use gasket_engine::comm::RankFailure;

/// Errors of the bundled apps and the `gasket` command.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Reading or generating a graph failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The engine failed (configuration, build limits, a lost rank).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Partitioning failed or a partition file does not fit the graph.
    #[error(transparent)]
    Partition(#[from] gasket_partitioning::PartitionError),
    /// An option is out of range or does not fit the graph.
    #[error("{0}")]
    Config(String),
    /// Writing a result file failed.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl RankFailure for AppError {
    fn is_peer_lost(&self) -> bool {
        match self {
            AppError::Engine(e) => e.is_peer_lost(),
            AppError::Dataset(DatasetError::Engine(e)) => e.is_peer_lost(),
            AppError::Partition(gasket_partitioning::PartitionError::Engine(e)) => e.is_peer_lost(),
            _ => false,
        }
    }
}

/// The apps' result type.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
