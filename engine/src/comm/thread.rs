//! `ThreadComm`: N ranks as threads of one process.
//!
//! Every ordered pair of ranks has its own unbounded crossbeam channel, so messages between
//! two ranks arrive in the order they were sent, and collectives (which every rank calls in
//! the same order) match up without tags. A rank's buffer to itself is moved, not sent.
//!
//! Failure: when a rank's closure returns or panics, its `ThreadComm` is dropped with its
//! senders; a peer blocked on that channel gets `Disconnected`, which becomes
//! `EngineError::PeerLost`, so the whole group unwinds instead of hanging.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::launch::{RankFailure, pick_root_cause};
use super::{Comm, CommStats};
use crate::error::{EngineError, Result};
use crate::ids::Rank;

/// One rank of a group of thread ranks.
pub struct ThreadComm {
    rank: Rank,
    to: Vec<Option<Sender<Vec<u8>>>>,
    from: Vec<Option<Receiver<Vec<u8>>>>,
    bytes_sent: AtomicU64,
    messages_sent: AtomicU64,
}

impl ThreadComm {
    /// Creates the handles of a group of `n` ranks; hand handle `r` to the thread of rank `r`.
    pub fn group(n: usize) -> Vec<ThreadComm> {
        let mut to: Vec<Vec<Option<Sender<Vec<u8>>>>> = (0..n).map(|_| vec![None; n]).collect();
        let mut from: Vec<Vec<Option<Receiver<Vec<u8>>>>> =
            (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        for src in 0..n {
            for dst in 0..n {
                if src != dst {
                    let (s, r) = unbounded();
                    to[src][dst] = Some(s);
                    from[dst][src] = Some(r);
                }
            }
        }
        to.into_iter()
            .zip(from)
            .enumerate()
            .map(|(rank, (to, from))| ThreadComm {
                rank,
                to,
                from,
                bytes_sent: AtomicU64::new(0),
                messages_sent: AtomicU64::new(0),
            })
            .collect()
    }

    /// Runs `body` on `n` thread ranks and returns each rank's result in rank order.
    ///
    /// If any rank fails, returns the root cause: the first error (in rank order) that is
    /// not merely "a peer went away". A panicking rank re-raises its panic here after every
    /// thread has finished.
    pub fn run<T, E, F>(n: usize, body: F) -> Result<Vec<T>, E>
    where
        T: Send,
        E: Send + RankFailure + From<EngineError>,
        F: Fn(ThreadComm) -> Result<T, E> + Sync,
    {
        if n == 0 {
            return Err(
                EngineError::Config("the number of ranks must be at least 1".into()).into(),
            );
        }
        let outcomes: Vec<std::thread::Result<Result<T, E>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ThreadComm::group(n)
                .into_iter()
                .map(|comm| {
                    let body = &body;
                    std::thread::Builder::new()
                        .name(format!("rank-{}", comm.rank))
                        .spawn_scoped(scope, move || body(comm))
                        .expect("spawning a rank thread")
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        let mut results = Vec::with_capacity(n);
        let mut panic = None;
        for outcome in outcomes {
            match outcome {
                Ok(r) => results.push(r),
                Err(payload) => panic = panic.or(Some(payload)),
            }
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        pick_root_cause(results)
    }
}

impl Comm for ThreadComm {
    fn rank(&self) -> Rank {
        self.rank
    }

    fn size(&self) -> usize {
        self.to.len()
    }
    fn ranks_in_process(&self) -> usize {
        self.size()
    }

    fn all_to_all_v(&self, send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        assert_eq!(send.len(), self.size(), "one buffer per rank");
        let mut recv: Vec<Vec<u8>> = vec![Vec::new(); self.size()];
        for (dst, buf) in send.into_iter().enumerate() {
            match &self.to[dst] {
                None => recv[dst] = buf,
                Some(tx) => {
                    if !buf.is_empty() {
                        self.bytes_sent
                            .fetch_add(buf.len() as u64, Ordering::Relaxed);
                        self.messages_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    tx.send(buf)
                        .map_err(|_| EngineError::PeerLost { rank: dst })?;
                }
            }
        }
        for (src, rx) in self.from.iter().enumerate() {
            if let Some(rx) = rx {
                recv[src] = rx.recv().map_err(|_| EngineError::PeerLost { rank: src })?;
            }
        }
        Ok(recv)
    }

    fn stats(&self) -> CommStats {
        CommStats {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comm::CommExt;

    #[test]
    fn a_failing_rank_releases_its_peers_and_its_error_wins() {
        let err = ThreadComm::run(3, |comm| -> Result<()> {
            if comm.rank() == 1 {
                return Err(EngineError::Config("rank 1 read a bad line".into()));
            }
            comm.barrier()?;
            comm.sum_u64(1)?;
            Ok(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("rank 1 read a bad line"), "{err}");
    }

    #[test]
    fn zero_ranks_is_a_config_error() {
        let err = ThreadComm::run(0, |_| -> Result<()> { Ok(()) }).unwrap_err();
        assert!(err.to_string().contains("at least 1"));
    }

    #[test]
    fn traffic_is_counted() {
        let stats = ThreadComm::run(2, |comm| -> Result<_> {
            comm.all_to_all_v(vec![vec![1; 10], vec![2; 10]])?;
            Ok(comm.stats())
        })
        .unwrap();
        assert_eq!(
            stats[0],
            CommStats {
                bytes_sent: 10,
                messages_sent: 1
            }
        );
    }
}
