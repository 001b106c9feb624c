//! Choosing a partitioner by name.
//!
//! [`Method`] names every partitioner of this crate as the command line spells it
//! (`hash`, `range`, `ldg`, `fennel`, `metis`) and [`partitioner`] turns a name into a boxed
//! [`Partitioner`]. Design choice: the enum always lists METIS, even when the crate is built
//! without the `metis` feature; the partitioner it returns then fails at run time with a
//! message saying how to rebuild, so command lines and configuration files do not change
//! with the build.

use std::fmt;
use std::str::FromStr;

use gasket_engine::comm::RankFailure;

use crate::{Fennel, Hash, Ldg, Metis, PartitionError, Partitioner, Range};

/// A partitioning method, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// Hash of the vertex id (no global knowledge; the default).
    #[default]
    Hash,
    /// Contiguous id ranges balanced by degree + 1.
    Range,
    /// Linear deterministic greedy streaming (Stanton & Kliot 2012).
    Ldg,
    /// Fennel streaming (Tsourakakis et al. 2014).
    Fennel,
    /// METIS multilevel k-way (needs the `metis` feature).
    Metis,
}

impl Method {
    /// Every method, in the order the command line lists them.
    pub const ALL: [Method; 5] = [
        Method::Hash,
        Method::Range,
        Method::Ldg,
        Method::Fennel,
        Method::Metis,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Hash => "hash",
            Method::Range => "range",
            Method::Ldg => "ldg",
            Method::Fennel => "fennel",
            Method::Metis => "metis",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Method::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMethodError {
    given: String,
}

impl fmt::Display for ParseMethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown partitioning method `{}` (expected one of: ",
            self.given
        )?;
        for (i, m) in Method::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(m.as_str())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for ParseMethodError {}

impl FromStr for Method {
    type Err = ParseMethodError;

    /// Parses a method name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ParseMethodError {
                given: s.to_string(),
            })
    }
}

/// The partitioner implementing `method`.
pub fn partitioner(method: Method) -> Box<dyn Partitioner> {
    match method {
        Method::Hash => Box::new(Hash),
        Method::Range => Box::new(Range),
        Method::Ldg => Box::new(Ldg::default()),
        Method::Fennel => Box::new(Fennel::default()),
        Method::Metis => Box::new(Metis),
    }
}

impl RankFailure for PartitionError {
    fn is_peer_lost(&self) -> bool {
        match self {
            PartitionError::Engine(e) => e.is_peer_lost(),
            _ => false,
        }
    }
}
