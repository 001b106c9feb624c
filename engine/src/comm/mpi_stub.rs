//! Stand-in for `MpiComm` in builds without the `mpi` feature: the names exist, and
//! starting MPI answers "built without MPI support".

use crate::error::{EngineError, Result};

/// Placeholder for the MPI rank of a build with the `mpi` feature.
#[derive(Debug)]
pub enum MpiComm {}

impl MpiComm {
    /// Always fails: this build has no MPI.
    pub fn start() -> Result<MpiComm> {
        Err(EngineError::NotBuilt {
            backend: "MPI",
            feature: "mpi",
        })
    }

    pub(crate) fn leave_running(self) {
        match self {}
    }
}

impl super::Comm for MpiComm {
    fn rank(&self) -> crate::ids::Rank {
        match *self {}
    }
    fn size(&self) -> usize {
        match *self {}
    }
    fn all_to_all_v(&self, _send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        match *self {}
    }
    fn stats(&self) -> super::CommStats {
        match *self {}
    }
}

/// Exits the process with `code` (there is no MPI job to abort in this build).
pub fn abort_job(code: i32) -> ! {
    std::process::exit(code)
}
