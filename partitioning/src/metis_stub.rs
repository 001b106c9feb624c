//! Stand-in for the METIS partitioner when the crate is built without the `metis` feature.
//!
//! Algorithm: none. [`Metis`] exists so that [`Method::Metis`](crate::Method::Metis) and
//! [`partitioner`](crate::partitioner) compile in every build; its `partition` takes no
//! parameters into account and fails with [`PartitionError::Invalid`] telling how to
//! rebuild. Design choice: failing at run time keeps the command line identical across
//! builds, and the failure happens on every rank before any collective, so no rank waits
//! for another.

use gasket_engine::{Comm, Ownership};

use crate::{PartitionError, PartitionRequest, Partitioner};

/// METIS k-way partitioning; not built in (enable the `metis` feature).
#[derive(Debug, Clone, Copy, Default)]
pub struct Metis;

impl Partitioner for Metis {
    fn name(&self) -> &'static str {
        "metis"
    }

    fn partition(
        &self,
        _comm: &dyn Comm,
        _request: &PartitionRequest<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        Err(PartitionError::Invalid(
            "METIS support is not built in: rebuild with `--features metis`".into(),
        ))
    }
}
