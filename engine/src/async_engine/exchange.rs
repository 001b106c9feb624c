//! Cross-rank traffic of the asynchronous engine: where a ghost's owner and a mirror's
//! holders are, the per-peer outbox workers append to, the round format, and the exchange
//! thread's loop that cuts rounds, delivers them and detects termination (see the engine's
//! module docs).
//!
//! Every record names a vertex by its position in the mirror plan agreed at build time
//! (`Topology::mirrors` on the owner, `ghosts_owned_by` on the holder), so no ids travel:
//! a ghost update is `[0][slot u32][vertex data]` to a holder, a remote signal is
//! `[1][slot u32][message]` to the owner. A round's buffer to each peer starts with a
//! header that every peer receives alike: whether the sender was passive (no vertex
//! scheduled or running) when it cut the round, whether it votes to stop, and how many
//! records it sent in the round to all peers together.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::scheduler::lock;
use super::scope::write;
use super::{AsyncConfig, AsyncMetrics, Shared};
use crate::comm::Comm;
use crate::error::Result;
use crate::graph::Topology;
use crate::ids::{LocalId, Rank};
use crate::program::VertexProgram;
use crate::sync::StopReason;
use crate::wire::Wire;

pub(crate) const GHOST_UPDATE: u8 = 0;
pub(crate) const SIGNAL: u8 = 1;
pub(crate) const HEADER_BYTES: usize = 10;

/// Where each ghost's owner is, and which peers hold each owned vertex as a ghost.
pub(crate) struct Routes {
    /// For ghost `g` (index `local - num_owned`): its owner and its slot in that plan.
    ghost: Vec<(Rank, u32)>,
    /// Owned vertex `v`'s holders are `holders[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<usize>,
    holders: Vec<(Rank, u32)>,
}

impl Routes {
    pub(crate) fn new(topo: &Topology) -> Self {
        let (n_owned, n_ghosts) = (topo.num_owned(), topo.num_ghosts());
        let mut ghost = vec![(0, 0); n_ghosts];
        let mut counts = vec![0usize; n_owned + 1];
        for peer in 0..topo.num_ranks() {
            if peer == topo.rank() {
                continue;
            }
            for (slot, &g) in topo.ghosts_owned_by(peer).iter().enumerate() {
                ghost[g as usize - n_owned] = (peer, slot as u32);
            }
            for &v in topo.mirrors(peer) {
                counts[v as usize + 1] += 1;
            }
        }
        for v in 0..n_owned {
            counts[v + 1] += counts[v];
        }
        let offsets = counts.clone();
        let mut holders = vec![(0, 0); offsets[n_owned]];
        for peer in 0..topo.num_ranks() {
            if peer == topo.rank() {
                continue;
            }
            for (slot, &v) in topo.mirrors(peer).iter().enumerate() {
                holders[counts[v as usize]] = (peer, slot as u32);
                counts[v as usize] += 1;
            }
        }
        Routes {
            ghost,
            offsets,
            holders,
        }
    }

    /// The owner of ghost `g` and the ghost's slot in the owner's plan.
    pub(crate) fn owner(&self, g: LocalId, num_owned: usize) -> (Rank, u32) {
        self.ghost[g as usize - num_owned]
    }

    /// The peers holding owned vertex `v` as a ghost, with its slot in each plan.
    pub(crate) fn holders(&self, v: LocalId) -> &[(Rank, u32)] {
        &self.holders[self.offsets[v as usize]..self.offsets[v as usize + 1]]
    }
}

/// Records waiting for the next round, per peer.
#[derive(Default)]
pub(crate) struct PeerBuf {
    pub bytes: Vec<u8>,
    pub ghost_updates: u64,
    pub signals: u64,
}

/// The outbox of one rank: workers append records, the exchange takes them each round.
pub(crate) struct Outbox {
    peers: Vec<Mutex<PeerBuf>>,
    bytes: AtomicUsize,
}

impl Outbox {
    pub(crate) fn new(num_ranks: usize) -> Self {
        Outbox {
            peers: (0..num_ranks)
                .map(|_| Mutex::new(PeerBuf::default()))
                .collect(),
            bytes: AtomicUsize::new(0),
        }
    }

    /// Appends a record; returns the bytes now waiting in the whole outbox.
    pub(crate) fn push(&self, peer: Rank, kind: u8, slot: u32, payload: &impl Wire) -> usize {
        let mut buf = lock(&self.peers[peer]);
        let before = buf.bytes.len();
        buf.bytes.push(kind);
        slot.encode(&mut buf.bytes);
        payload.encode(&mut buf.bytes);
        if kind == GHOST_UPDATE {
            buf.ghost_updates += 1;
        } else {
            buf.signals += 1;
        }
        let added = buf.bytes.len() - before;
        self.bytes.fetch_add(added, Ordering::Relaxed) + added
    }

    /// Appends an already encoded ghost update (the same bytes go to every holder).
    pub(crate) fn push_encoded_ghost(&self, peer: Rank, slot: u32, data: &[u8]) -> usize {
        let mut buf = lock(&self.peers[peer]);
        buf.bytes.push(GHOST_UPDATE);
        slot.encode(&mut buf.bytes);
        buf.bytes.extend_from_slice(data);
        buf.ghost_updates += 1;
        let added = 1 + 4 + data.len();
        self.bytes.fetch_add(added, Ordering::Relaxed) + added
    }

    /// Takes everything waiting.
    pub(crate) fn take(&self) -> Vec<PeerBuf> {
        self.bytes.store(0, Ordering::Relaxed);
        self.peers
            .iter()
            .map(|p| std::mem::take(&mut *lock(p)))
            .collect()
    }
}

/// A round's header, identical in every buffer a rank sends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub passive: bool,
    pub stop: bool,
    pub records: u64,
}

impl Header {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.passive as u8);
        out.push(self.stop as u8);
        self.records.encode(out);
    }
    pub(crate) fn decode(input: &mut &[u8]) -> Self {
        let passive = u8::decode(input) != 0;
        let stop = u8::decode(input) != 0;
        Header {
            passive,
            stop,
            records: u64::decode(input),
        }
    }
}

/// The exchange thread's side of a run.
impl<P: VertexProgram> Shared<'_, P> {
    /// The rank's exchange loop (see the module docs); returns why the run ended.
    pub(super) fn exchange(
        &self,
        comm: &dyn Comm,
        woken: &Receiver<()>,
        config: &AsyncConfig,
        metrics: &mut AsyncMetrics,
    ) -> Result<StopReason> {
        let started = Instant::now();
        let mut last_log = Instant::now();
        let log = config.log_progress && comm.rank() == 0;
        loop {
            if comm.size() == 1 {
                // Nothing travels: this rank's passivity is global.
                let _ = woken.recv_timeout(Duration::from_micros(200));
            } else {
                let _ = woken.recv_timeout(config.flush_interval);
            }
            if log && last_log.elapsed() >= Duration::from_secs(1) {
                last_log = Instant::now();
                let updates = self.updates.load(Ordering::Relaxed);
                tracing::info!(
                    "async: {updates} vertex updates on rank 0 in {:.1}s, {} scheduled",
                    started.elapsed().as_secs_f64(),
                    self.schedule.pending()
                );
            }
            let stop = self.stop.load(Ordering::Acquire);
            let passive = self.schedule.pending() == 0;
            if comm.size() == 1 {
                if stop {
                    return Ok(StopReason::ProgramStopped);
                }
                if passive {
                    return Ok(StopReason::NoActiveVertices);
                }
                continue;
            }
            let round = self.outbox.take();
            let header = Header {
                passive,
                stop,
                records: round.iter().map(|b| b.ghost_updates + b.signals).sum(),
            };
            let mut send = Vec::with_capacity(round.len());
            for (peer, buf) in round.into_iter().enumerate() {
                let mut bytes = Vec::with_capacity(HEADER_BYTES + buf.bytes.len());
                header.encode(&mut bytes);
                bytes.extend_from_slice(&buf.bytes);
                if peer != comm.rank() {
                    metrics.ghost_updates_sent += buf.ghost_updates;
                    metrics.remote_signals_sent += buf.signals;
                    metrics.bytes_sent += bytes.len() as u64;
                    metrics.messages_sent += u64::from(!buf.bytes.is_empty());
                }
                send.push(bytes);
            }
            let received = comm.all_to_all_v(send)?;
            metrics.rounds += 1;
            let mut all_passive = true;
            let mut any_stop = false;
            let mut records = 0;
            let mut bodies = Vec::with_capacity(received.len());
            for buf in &received {
                let mut input = buf.as_slice();
                let h = Header::decode(&mut input);
                all_passive &= h.passive;
                any_stop |= h.stop;
                records += h.records;
                bodies.push(input);
            }
            self.deliver(&bodies);
            if any_stop {
                return Ok(StopReason::ProgramStopped);
            }
            if all_passive && records == 0 {
                return Ok(StopReason::NoActiveVertices);
            }
        }
    }

    /// Applies a round's records: every ghost update first, then the signals, so a vertex
    /// signalled from another rank reads the sender's new data.
    fn deliver(&self, bodies: &[&[u8]]) {
        let topo = self.topo;
        let mut signals = Vec::new();
        for (peer, body) in bodies.iter().enumerate() {
            let mut input = *body;
            while let Some((&kind, rest)) = input.split_first() {
                input = rest;
                let slot = u32::decode(&mut input) as usize;
                if kind == GHOST_UPDATE {
                    let g = topo.ghosts_owned_by(peer)[slot];
                    *write(&self.data[g as usize]) = P::Vertex::decode(&mut input);
                } else {
                    signals.push((topo.mirrors(peer)[slot], P::Message::decode(&mut input)));
                }
            }
        }
        self.schedule.signal_all(self.program, signals.into_iter());
    }
}
