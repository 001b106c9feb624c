//! The partitioners as a launcher [`Placement`]: a [`Method`] with a balance tolerance, or
//! a partition file, chosen by one value a user's `main` passes to the launcher.

use std::path::PathBuf;

use gasket_engine::{Comm, EdgeEnds, EngineError, Ownership, Placement};

use crate::{
    DEFAULT_IMBALANCE, Method, PartitionError, PartitionRequest, all_vertex_ids, partitioner,
    read_partition_file,
};

/// How vertices are assigned to ranks.
#[derive(Debug, Clone)]
pub enum Partitioning {
    /// Computed by a partitioner with a balance tolerance.
    Method {
        /// The partitioner.
        method: Method,
        /// Max part load / mean part load, at least 1.
        imbalance: f64,
    },
    /// Read from a gpmetis-format partition file (one part per vertex, ascending id).
    File(PathBuf),
}

impl Default for Partitioning {
    fn default() -> Self {
        Partitioning::from(Method::Hash)
    }
}

impl From<Method> for Partitioning {
    fn from(method: Method) -> Self {
        Partitioning::Method {
            method,
            imbalance: DEFAULT_IMBALANCE,
        }
    }
}

impl Partitioning {
    /// The vertex -> rank map for `comm.size()` ranks (collective).
    pub fn ownership(
        &self,
        comm: &dyn Comm,
        edges: EdgeEnds<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        let imbalance = match self {
            Partitioning::Method { imbalance, .. } => *imbalance,
            Partitioning::File(_) => DEFAULT_IMBALANCE,
        };
        let request = PartitionRequest {
            src: edges.src,
            dst: edges.dst,
            vertices: edges.vertices,
            parts: comm.size(),
            imbalance,
        };
        match self {
            Partitioning::Method { method, .. } => partitioner(*method).partition(comm, &request),
            Partitioning::File(path) => {
                let ids = all_vertex_ids(comm, &request)?;
                Ok(Box::new(read_partition_file(path, &ids, comm.size())?))
            }
        }
    }
}

impl Placement for Partitioning {
    fn name(&self) -> String {
        match self {
            Partitioning::Method { method, .. } => method.to_string(),
            Partitioning::File(path) => format!("file {}", path.display()),
        }
    }
    fn uses_edges_on_one_rank(&self) -> bool {
        // A partition file is checked against the graph; METIS may be missing from the
        // build, which must be an error on one rank as on several.
        matches!(
            self,
            Partitioning::File(_)
                | Partitioning::Method {
                    method: Method::Metis,
                    ..
                }
        )
    }
    fn ownership(
        &self,
        comm: &dyn Comm,
        edges: EdgeEnds<'_>,
    ) -> Result<Box<dyn Ownership>, EngineError> {
        Ok(Partitioning::ownership(self, comm, edges)?)
    }
}

impl Placement for Method {
    fn name(&self) -> String {
        self.to_string()
    }
    fn ownership(
        &self,
        comm: &dyn Comm,
        edges: EdgeEnds<'_>,
    ) -> Result<Box<dyn Ownership>, EngineError> {
        Placement::ownership(&Partitioning::from(*self), comm, edges)
    }
    fn uses_edges_on_one_rank(&self) -> bool {
        Partitioning::from(*self).uses_edges_on_one_rank()
    }
}

impl From<PartitionError> for EngineError {
    /// An engine error comes back out unchanged; any other travels as
    /// [`EngineError::Input`] with its message intact.
    fn from(e: PartitionError) -> Self {
        match e {
            PartitionError::Engine(e) => e,
            e => EngineError::input(e),
        }
    }
}
