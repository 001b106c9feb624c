//! `Comm`: the only door to other ranks.
//!
//! The engine speaks to peers only through this trait: `all_to_all_v` of byte buffers is
//! the bulk path (edge shuffle, ghost updates, remote signals); `all_reduce_*` carries
//! aggregators, active counts and stop votes. Every collective returns `Result`: when a
//! peer fails, the others get `EngineError::PeerLost` instead of hanging, and the launcher
//! reports the first rank's own error.
//!
//! Reductions are computed in rank order on every rank, so all ranks see bit-identical
//! floating-point results and take identical control decisions (stop, convergence).
//!
//! Implementations: [`SingleComm`] (one rank, no peers), [`ThreadComm`] (N ranks as threads
//! of one process over crossbeam channels), [`MpiComm`] (one rank per MPI process, feature
//! `mpi`; without it the type exists and starting it answers "built without MPI").

mod launch;
#[cfg(feature = "mpi")]
mod mpi;
#[cfg(not(feature = "mpi"))]
#[path = "mpi_stub.rs"]
mod mpi;
mod single;
mod thread;

pub use launch::{Backend, RankFailure, launch, launched_by_mpirun};
pub use mpi::{MpiComm, abort_job};
pub use single::SingleComm;
pub use thread::ThreadComm;

use crate::error::Result;
use crate::ids::Rank;
use crate::wire::{Wire, decode_all, encode_all};

/// How an all-reduce combines values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// Sum.
    Sum,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
}

impl ReduceOp {
    fn apply_f64(self, acc: f64, x: f64) -> f64 {
        match self {
            ReduceOp::Sum => acc + x,
            ReduceOp::Min => acc.min(x),
            ReduceOp::Max => acc.max(x),
        }
    }
    fn apply_u64(self, acc: u64, x: u64) -> u64 {
        match self {
            ReduceOp::Sum => acc.wrapping_add(x),
            ReduceOp::Min => acc.min(x),
            ReduceOp::Max => acc.max(x),
        }
    }
}

/// Traffic counters of one rank (payload bytes and messages to other ranks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CommStats {
    /// Payload bytes sent to other ranks.
    pub bytes_sent: u64,
    /// Non-empty messages sent to other ranks.
    pub messages_sent: u64,
}

/// One rank's handle on the group of ranks.
///
/// All ranks must call collectives in the same order. Only `rank`, `size` and
/// `all_to_all_v` are required; the other collectives have default implementations on top
/// of it that a backend may replace with native ones.
pub trait Comm: Send + Sync {
    /// This rank's index.
    fn rank(&self) -> Rank;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// How many ranks share this process (and its cores): more than 1 for thread ranks.
    fn ranks_in_process(&self) -> usize {
        1
    }
    /// Sends `send[r]` to rank `r` and returns `recv` with `recv[r]` from rank `r`.
    fn all_to_all_v(&self, send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>>;
    /// Traffic sent so far by this rank.
    fn stats(&self) -> CommStats;

    /// Waits until every rank has reached the barrier.
    fn barrier(&self) -> Result<()> {
        self.all_to_all_v(vec![Vec::new(); self.size()]).map(|_| ())
    }

    /// Every rank contributes one buffer; every rank receives all of them in rank order.
    fn all_gather(&self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>> {
        self.all_to_all_v(vec![bytes; self.size()])
    }

    /// Element-wise reduction of `values` over all ranks, in place, in rank order.
    fn all_reduce_f64(&self, values: &mut [f64], op: ReduceOp) -> Result<()> {
        let all = self.all_gather(encode_all(values))?;
        reduce_in_rank_order(values, &all, |a, b| op.apply_f64(a, b));
        Ok(())
    }

    /// Element-wise reduction of `values` over all ranks, in place, in rank order.
    fn all_reduce_u64(&self, values: &mut [u64], op: ReduceOp) -> Result<()> {
        let all = self.all_gather(encode_all(values))?;
        reduce_in_rank_order(values, &all, |a, b| op.apply_u64(a, b));
        Ok(())
    }
}

fn reduce_in_rank_order<T: Wire + Copy>(values: &mut [T], all: &[Vec<u8>], op: impl Fn(T, T) -> T) {
    for (r, bytes) in all.iter().enumerate() {
        let theirs = decode_all::<T>(bytes);
        assert_eq!(
            theirs.len(),
            values.len(),
            "all-reduce length differs on rank {r}"
        );
        for (v, t) in values.iter_mut().zip(theirs) {
            *v = if r == 0 { t } else { op(*v, t) };
        }
    }
}

/// Convenience collectives built on [`Comm`].
pub trait CommExt: Comm {
    /// Sum of one `u64` over all ranks.
    fn sum_u64(&self, x: u64) -> Result<u64> {
        let mut v = [x];
        self.all_reduce_u64(&mut v, ReduceOp::Sum)?;
        Ok(v[0])
    }

    /// Logical OR of one flag over all ranks.
    fn any(&self, flag: bool) -> Result<bool> {
        let mut v = [u64::from(flag)];
        self.all_reduce_u64(&mut v, ReduceOp::Max)?;
        Ok(v[0] != 0)
    }

    /// Gathers every rank's items on `root` (in rank order); other ranks get `None`.
    fn gather_to<T: Wire>(&self, root: Rank, items: &[T]) -> Result<Option<Vec<T>>> {
        let mut send = vec![Vec::new(); self.size()];
        send[root] = encode_all(items);
        let recv = self.all_to_all_v(send)?;
        if self.rank() != root {
            return Ok(None);
        }
        Ok(Some(recv.iter().flat_map(|b| decode_all::<T>(b)).collect()))
    }

    /// Exclusive prefix sum of `x` over ranks (rank 0 gets 0), plus the total.
    fn exclusive_scan_u64(&self, x: u64) -> Result<(u64, u64)> {
        let all = self.all_gather(encode_all(&[x]))?;
        let counts: Vec<u64> = all.iter().map(|b| decode_all::<u64>(b)[0]).collect();
        let before = counts[..self.rank()].iter().sum();
        Ok((before, counts.iter().sum()))
    }
}

impl<C: Comm + ?Sized> CommExt for C {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collectives_on_thread_ranks() {
        for n in 1..=4 {
            let out = ThreadComm::run(n, |comm| -> Result<_> {
                let r = comm.rank() as u64;
                let total = comm.sum_u64(r + 1)?;
                let mut m = [r as f64, -(r as f64)];
                comm.all_reduce_f64(&mut m, ReduceOp::Max)?;
                let gathered = comm.gather_to(0, &[r * 10])?;
                let (before, all) = comm.exclusive_scan_u64(r + 1)?;
                comm.barrier()?;
                Ok((total, m, gathered, before, all))
            })
            .unwrap();
            let n64 = n as u64;
            for (r, (total, m, gathered, before, all)) in out.into_iter().enumerate() {
                assert_eq!(total, n64 * (n64 + 1) / 2);
                assert_eq!(m, [(n - 1) as f64, 0.0]);
                let expect: Vec<u64> = (0..n64).map(|x| x * 10).collect();
                assert_eq!(gathered, (r == 0).then_some(expect));
                assert_eq!(before, (r as u64) * (r as u64 + 1) / 2);
                assert_eq!(all, n64 * (n64 + 1) / 2);
            }
        }
    }
}
