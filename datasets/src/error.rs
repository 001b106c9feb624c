//! The crate's error type, [`DatasetError`].
//!
//! Every error names the input (a path, or the name given to
//! [`read_graph_bytes`](crate::read_graph_bytes)); parse errors also carry the 1-based line
//! number in the file and a shortened copy of the offending line, so a user can find the
//! problem without a debugger. Errors of collectives are wrapped unchanged, so a launcher can
//! tell a root cause from "a peer rank went away" through [`RankFailure`].

use std::path::PathBuf;

use gasket_engine::comm::RankFailure;
use gasket_engine::error::EngineError;

/// Everything reading or generating a graph can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A generated graph could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The input is named or marked as gzip but cannot be decompressed (not gzip at all,
    /// truncated, or corrupt).
    #[error("{} is not a readable gzip stream: {source}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decompressor said.
        source: std::io::Error,
    },
    /// A line of the file does not follow its format.
    #[error("{}:{line}: {reason} (line: `{text}`)", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the (decompressed) file.
        line: u64,
        /// The line, shortened to about 80 characters.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is well formed but has no edge at all (summed over every rank).
    #[error("{} contains no edges", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A corpus is well formed but has no token at all.
    #[error("{} contains no tokens", path.display())]
    EmptyCorpus {
        /// The file.
        path: PathBuf,
    },
    /// The file as a whole disagrees with itself or with a companion file (a header's
    /// count against the body, a vocabulary's length against the corpus).
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A collective failed (usually: another rank stopped first), or a configuration value
    /// is out of range.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl RankFailure for DatasetError {
    fn is_peer_lost(&self) -> bool {
        match self {
            DatasetError::Engine(e) => e.is_peer_lost(),
            _ => false,
        }
    }
}

impl From<DatasetError> for EngineError {
    /// An engine error comes back out unchanged; any other travels as
    /// [`EngineError::Input`] with its message intact.
    fn from(e: DatasetError) -> Self {
        match e {
            DatasetError::Engine(e) => e,
            e => EngineError::input(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_line() {
        let e = DatasetError::Parse {
            path: PathBuf::from("g.txt"),
            line: 7,
            text: "1 x".into(),
            reason: "expected a vertex id, found `x`".into(),
        };
        assert_eq!(
            e.to_string(),
            "g.txt:7: expected a vertex id, found `x` (line: `1 x`)"
        );
        assert_eq!(
            DatasetError::Empty {
                path: "e.txt".into()
            }
            .to_string(),
            "e.txt contains no edges"
        );
    }

    #[test]
    fn only_a_lost_peer_is_a_peer_failure() {
        assert!(DatasetError::from(EngineError::PeerLost { rank: 1 }).is_peer_lost());
        assert!(!DatasetError::Empty { path: "e".into() }.is_peer_lost());
        assert!(!DatasetError::from(EngineError::Config("x".into())).is_peer_lost());
    }
}
