//! `MpiComm`: one rank per MPI process (feature `mpi`, rsmpi).
//!
//! Design: MPI communicators are not `Send`, while `Comm` must be `Send + Sync` (the engine
//! holds it across rayon scopes). So each process runs one **communication thread** that
//! initialises MPI (`MPI_THREAD_FUNNELED`: only that thread ever calls MPI), owns the world
//! communicator, and serves collective requests sent over a crossbeam channel; the rank's
//! main thread blocks on the reply. This keeps every MPI call on one thread without asking
//! the MPI library for `MPI_THREAD_MULTIPLE` (slower, and not built into every cluster's
//! MPI), and costs one channel round trip per collective, which is negligible next to a
//! network collective.
//!
//! `all_to_all_v` first exchanges the buffer sizes (as `u64`, one `MPI_Alltoall`), then
//! moves each buffer to its peer as non-blocking point-to-point messages, received
//! straight into a vector of the announced size: no packing into one buffer and no
//! unpacking out of one. A buffer travels in pieces of at most `i32::MAX` bytes (MPI's
//! count limit; lower with [`MAX_ROUND_BYTES_ENV`]), which arrive in order.
//!
//! Failure: a rank that fails reports its error and calls [`abort_job`], which issues
//! `MPI_Abort` so that `mpirun` stops every rank at once instead of leaving them blocked
//! in a collective.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use mpi::environment::Threading;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::{Comm, CommStats};
use crate::error::{EngineError, Result};
use crate::ids::Rank;

/// Environment variable capping the bytes of one message of `all_to_all_v` (default and
/// maximum: `i32::MAX`). Lower it to exercise buffers sent in several pieces.
pub const MAX_ROUND_BYTES_ENV: &str = "GASKET_MPI_MAX_ROUND_BYTES";

enum Request {
    AllToAllV(Vec<Vec<u8>>, Sender<Vec<Vec<u8>>>),
    Barrier(Sender<()>),
    Abort(i32),
    Finalize,
}

/// The communication thread's request queue, kept for [`abort_job`].
static REQUESTS: OnceLock<Sender<Request>> = OnceLock::new();

/// One MPI process's rank.
pub struct MpiComm {
    rank: Rank,
    size: usize,
    requests: Sender<Request>,
    thread: Option<JoinHandle<()>>,
    bytes_sent: AtomicU64,
    messages_sent: AtomicU64,
}

impl MpiComm {
    /// Initialises MPI on a new communication thread. Fails if MPI was initialised before
    /// in this process (MPI allows it once).
    pub fn start() -> Result<MpiComm> {
        let max_round = std::env::var(MAX_ROUND_BYTES_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&v| v > 0)
            .map_or(i32::MAX as usize, |v| v.min(i32::MAX as usize));
        let (requests, queue) = unbounded::<Request>();
        let (ready_tx, ready_rx) = bounded::<Result<(Rank, usize), String>>(1);
        let thread = std::thread::Builder::new()
            .name("mpi".into())
            .spawn(move || {
                let Some((universe, _level)) = mpi::initialize_with_threading(Threading::Funneled)
                else {
                    let _ =
                        ready_tx.send(Err("MPI was already initialised in this process".into()));
                    return;
                };
                let world = universe.world();
                let _ = ready_tx.send(Ok((world.rank() as Rank, world.size() as usize)));
                serve(&world, &queue, max_round);
                // Dropping `universe` calls MPI_Finalize, on this thread.
            })
            .map_err(|e| EngineError::Config(format!("cannot start the MPI thread: {e}")))?;
        let (rank, size) = ready_rx
            .recv()
            .map_err(|_| EngineError::Config("the MPI thread stopped during MPI_Init".into()))?
            .map_err(EngineError::Config)?;
        let _ = REQUESTS.set(requests.clone());
        Ok(MpiComm {
            rank,
            size,
            requests,
            thread: Some(thread),
            bytes_sent: AtomicU64::new(0),
            messages_sent: AtomicU64::new(0),
        })
    }

    fn call<T>(&self, make: impl FnOnce(Sender<T>) -> Request) -> Result<T> {
        let (tx, rx) = bounded(1);
        self.requests
            .send(make(tx))
            .map_err(|_| EngineError::PeerLost { rank: self.rank })?;
        rx.recv()
            .map_err(|_| EngineError::PeerLost { rank: self.rank })
    }

    /// Leaves MPI initialised (no `MPI_Finalize`, which would wait for ranks that are
    /// blocked in a collective) so that [`abort_job`] can still stop the job.
    pub(crate) fn leave_running(mut self) {
        self.thread = None;
    }
}

impl Drop for MpiComm {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.requests.send(Request::Finalize);
            let _ = thread.join();
        }
    }
}

impl Comm for MpiComm {
    fn rank(&self) -> Rank {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_to_all_v(&self, mut send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        assert_eq!(send.len(), self.size, "one buffer per rank");
        // This rank's own buffer is moved, not copied through MPI.
        let own = std::mem::take(&mut send[self.rank]);
        for (peer, buf) in send.iter().enumerate() {
            if peer != self.rank && !buf.is_empty() {
                self.bytes_sent
                    .fetch_add(buf.len() as u64, Ordering::Relaxed);
                self.messages_sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut recv = self.call(|reply| Request::AllToAllV(send, reply))?;
        recv[self.rank] = own;
        Ok(recv)
    }

    fn stats(&self) -> CommStats {
        CommStats {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
        }
    }

    fn barrier(&self) -> Result<()> {
        self.call(Request::Barrier)
    }
}

/// Stops the whole MPI job with `code` (`MPI_Abort`) if this process runs an MPI rank;
/// otherwise exits the process with `code`.
pub fn abort_job(code: i32) -> ! {
    if let Some(requests) = REQUESTS.get() {
        if requests.send(Request::Abort(code)).is_ok() {
            // MPI_Abort ends this process; wait for it rather than racing it.
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
    std::process::exit(code)
}

fn serve(world: &SimpleCommunicator, queue: &Receiver<Request>, max_round: usize) {
    for request in queue {
        match request {
            Request::AllToAllV(send, reply) => {
                let _ = reply.send(all_to_all_v(world, send, max_round));
            }
            Request::Barrier(reply) => {
                world.barrier();
                let _ = reply.send(());
            }
            Request::Abort(code) => world.abort(code),
            Request::Finalize => break,
        }
    }
}

/// The tag of the messages that carry `all_to_all_v`'s bytes.
const BYTES_TAG: mpi::Tag = 7;

/// `all_to_all_v` of byte buffers (see the module docs): the sizes by one
/// `MPI_Alltoall`, then each buffer straight from its vector into the peer's as
/// point-to-point messages of at most `max_round` bytes.
fn all_to_all_v(world: &SimpleCommunicator, send: Vec<Vec<u8>>, max_round: usize) -> Vec<Vec<u8>> {
    let n = send.len();
    let me = world.rank() as usize;
    let send_sizes: Vec<u64> = send.iter().map(|b| b.len() as u64).collect();
    let mut recv_sizes = vec![0u64; n];
    world.all_to_all_into(&send_sizes[..], &mut recv_sizes[..]);
    let piece = max_round.clamp(1, i32::MAX as usize);
    let mut recv: Vec<Vec<u8>> = recv_sizes.iter().map(|&s| vec![0u8; s as usize]).collect();
    let messages = |len: usize| len.div_ceil(piece);
    let expected = send.iter().chain(&recv).map(|b| messages(b.len())).sum();
    mpi::request::multiple_scope(expected, |scope, requests| {
        // Messages between two ranks with one tag arrive in the order they were sent, so
        // the pieces land in order.
        for (peer, buf) in recv.iter_mut().enumerate().filter(|&(p, _)| p != me) {
            let from = world.process_at_rank(peer as i32);
            for part in buf.chunks_mut(piece) {
                requests.add(from.immediate_receive_into_with_tag(scope, part, BYTES_TAG));
            }
        }
        for (peer, buf) in send.iter().enumerate().filter(|&(p, _)| p != me) {
            let to = world.process_at_rank(peer as i32);
            for part in buf.chunks(piece) {
                requests.add(to.immediate_send_with_tag(scope, part, BYTES_TAG));
            }
        }
        let mut done = Vec::with_capacity(expected);
        requests.wait_all(&mut done);
    });
    recv
}
