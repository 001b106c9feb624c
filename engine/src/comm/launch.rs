//! Choosing and starting ranks: threads of this process, or MPI processes.

use super::{MpiComm, SingleComm, ThreadComm};
use crate::comm::Comm;
use crate::error::{EngineError, Result};

/// Where ranks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `n` ranks as threads of this process (`n = 1` runs on the calling thread).
    Threads(usize),
    /// One rank per MPI process (`mpirun -np N gasket ...`); needs the `mpi` feature.
    Mpi,
}

/// An error that can tell "a peer failed first" apart from a root cause.
pub trait RankFailure {
    /// True when the error only says that another rank went away.
    fn is_peer_lost(&self) -> bool;
}

impl RankFailure for EngineError {
    fn is_peer_lost(&self) -> bool {
        EngineError::is_peer_lost(self)
    }
}

/// Runs `body` once per rank of `backend` and returns the results of the ranks that live in
/// this process, in rank order.
pub fn launch<T, E, F>(backend: Backend, body: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send + RankFailure + From<EngineError>,
    F: Fn(&dyn Comm) -> Result<T, E> + Sync,
{
    match backend {
        Backend::Threads(0) => {
            Err(EngineError::Config("--ranks must be at least 1 (got 0)".into()).into())
        }
        Backend::Threads(1) => Ok(vec![body(&SingleComm)?]),
        Backend::Threads(n) => {
            // Each rank computes on a pool of its own, with its share of the threads: its
            // parallel loops then start on the rank's thread instead of being handed to a
            // pool every rank shares (as an MPI rank with its own threads would).
            let per_rank = (rayon::current_num_threads() / n).max(1);
            ThreadComm::run(n, |comm| {
                let rank = comm.rank();
                match rayon::ThreadPoolBuilder::new()
                    .num_threads(per_rank)
                    .thread_name(move |i| format!("rank-{rank}-worker-{i}"))
                    .build()
                {
                    Ok(pool) => pool.install(|| body(&comm)),
                    Err(_) => body(&comm),
                }
            })
        }
        Backend::Mpi => {
            let comm = MpiComm::start()?;
            match body(&comm) {
                Ok(value) => Ok(vec![value]),
                Err(e) => {
                    // No MPI_Finalize: peers may be blocked in a collective. The caller
                    // reports `e` and ends the job with `abort_job`.
                    comm.leave_running();
                    Err(e)
                }
            }
        }
    }
}

/// True when this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`
/// with PMI/PMIx), judged by the environment those launchers set.
pub fn launched_by_mpirun() -> bool {
    [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_RANK",
        "MPI_LOCALNRANKS",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

/// Returns all values, or the first error that is a root cause (falling back to the first
/// error when every failure only reports a lost peer).
pub(crate) fn pick_root_cause<T, E: RankFailure>(results: Vec<Result<T, E>>) -> Result<Vec<T>, E> {
    let mut values = Vec::with_capacity(results.len());
    let mut first_err: Option<E> = None;
    for r in results {
        match r {
            Ok(v) => values.push(v),
            Err(e) => match &first_err {
                None => first_err = Some(e),
                Some(prev) if prev.is_peer_lost() && !e.is_peer_lost() => first_err = Some(e),
                Some(_) => {}
            },
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(values),
    }
}
