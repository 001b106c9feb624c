//! The rank's exchange thread: rounds of `all_to_all_v` that carry the table records and
//! the collectives of [`TableComm`], and run the rank's server.
//!
//! `Comm` offers collectives, not point-to-point messages, so the parameter tables move
//! in rounds, as the asynchronous engine does: every rank's exchange thread takes what its
//! worker and server left in the outbox and swaps it with every peer. A round starts as
//! soon as a rank has something to send and every `interval` otherwise, and rounds follow
//! each other without pause while records flow. A round's buffer to each peer starts with
//! a header that all peers receive alike (finished, failed, record count), so every rank
//! takes the same decision to stop: when all have finished and a round carried nothing.
//!
//! While the exchange thread owns the rank's `Comm`, nothing else may call it. The worker
//! gets [`TableComm`] instead: a `Comm` whose collectives ride on the rounds (one section
//! per buffer, numbered so that ranks match the same call), so a sync engine or an
//! all-reduce of a loss can run beside the tables.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::client::ClientShared;
use super::lock;
use super::protocol::{ROUND_HEADER, Record};
use super::server::Server;
use crate::comm::{Comm, CommStats};
use crate::error::{EngineError, Result};
use crate::ids::Rank;
use crate::wire::Wire;

/// How the body of a session ended, as its exchange thread learns it.
#[derive(Default)]
pub(crate) struct BodyStatus {
    pub finished: AtomicBool,
    pub failed: AtomicBool,
}

/// What the exchange leaves behind.
pub(crate) struct ExchangeResult {
    pub server: Server,
    pub rounds: u64,
    pub bytes_sent: u64,
}

pub(crate) fn run_exchange(
    comm: &dyn Comm,
    client: &ClientShared,
    mux: &MuxShared,
    status: &BodyStatus,
    mut server: Server,
    wake: &Receiver<()>,
    interval: Duration,
) -> Result<ExchangeResult> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let mut rounds = 0u64;
    let mut bytes_sent = 0u64;
    let mut hurry = true;
    // Buffers received in the last round, emptied for the outbox to fill again.
    let mut spares: Vec<Vec<u8>> = Vec::with_capacity(ranks);
    loop {
        if !hurry {
            let _ = wake.recv_timeout(interval);
        }
        // Read the body's state before taking the outbox, so a `finished` flag never
        // overtakes the final updates.
        let finished = status.finished.load(Ordering::Acquire);
        let failed = status.failed.load(Ordering::Acquire);
        let section = mux.take_outgoing();
        let round = client.outbox.take(&mut spares);
        let records = round.records();
        let mut local = round.local;
        let mut send = Vec::with_capacity(ranks);
        for (peer, (mut buf, _)) in round.buffers.into_iter().enumerate() {
            let header = RoundHeader {
                finished,
                failed,
                records,
                body_len: (buf.len() - ROUND_HEADER) as u64,
                section: section
                    .as_ref()
                    .map(|(seq, parts)| (*seq, parts[peer].len() as u64)),
            };
            header.write(&mut buf);
            if let Some((_, parts)) = &section {
                buf.extend_from_slice(&parts[peer]);
            }
            if peer != rank {
                bytes_sent += buf.len() as u64;
                if let Some((_, parts)) = &section {
                    mux.count_sent(parts[peer].len());
                }
            }
            send.push(buf);
        }
        let received = match comm.all_to_all_v(send) {
            Ok(r) => r,
            Err(e) => {
                let lost = match &e {
                    EngineError::PeerLost { rank } => Some(*rank),
                    _ => None,
                };
                client.fail(lost);
                mux.fail(lost);
                return Err(e);
            }
        };
        rounds += 1;
        let mut all_finished = true;
        let mut failed_peer = None;
        let mut total = 0u64;
        let mut sections = false;
        let mut bodies = Vec::with_capacity(ranks);
        for (peer, buf) in received.iter().enumerate() {
            let header = RoundHeader::read(buf);
            all_finished &= header.finished;
            if header.failed && failed_peer.is_none() {
                failed_peer = Some(peer);
            }
            total += header.records;
            let (body, section) = buf[ROUND_HEADER..].split_at(header.body_len as usize);
            if let Some((seq, _)) = header.section {
                mux.receive(peer, seq, section.to_vec(), ranks);
                sections = true;
            }
            bodies.push(body);
        }
        if let Some(peer) = failed_peer {
            if failed {
                // This rank's own body failed: it leaves; the others report it.
                break;
            }
            client.fail(Some(peer));
            mux.fail(Some(peer));
            return Err(EngineError::PeerLost { rank: peer });
        }
        let mut handle = |peer: Rank, record: Record| match record {
            Record::Reply { .. } | Record::Stamp { .. } | Record::Pushed { .. } => {
                client.receive(peer, record)
            }
            record => server.handle(peer, record, &mut |to, message| {
                client.outbox.push_to_worker(to, message)
            }),
        };
        for (peer, mut input) in bodies.into_iter().enumerate() {
            if peer == rank {
                local.drain(..).for_each(|record| handle(peer, record));
            }
            while !input.is_empty() {
                handle(peer, Record::decode(&mut input));
            }
        }
        server.push_to_readers(&mut |to, message| client.outbox.push_to_worker(to, message));
        spares.extend(received);
        if let Some(clock) = client.snapshot_wanted()
            && server.stamp() >= clock
        {
            client.deliver_snapshot(server.snapshot());
        }
        if all_finished && total == 0 && !sections {
            break;
        }
        hurry = total > 0 || sections || !client.outbox.is_empty() || mux.has_outgoing();
    }
    Ok(ExchangeResult {
        server,
        rounds,
        bytes_sent,
    })
}

/// The start of every round buffer, which all peers receive alike, so every rank takes
/// the same decision to stop. The buffer goes on with `body_len` bytes of records, then
/// the section of a [`TableComm`] collective when there is one.
#[derive(Debug, PartialEq)]
struct RoundHeader {
    finished: bool,
    failed: bool,
    /// Records in this round, summed over the sender's buffers.
    records: u64,
    body_len: u64,
    /// The collective's sequence number and this buffer's part's length.
    section: Option<(u64, u64)>,
}

impl RoundHeader {
    /// Writes the header into the [`ROUND_HEADER`] bytes `buf` starts with.
    fn write(&self, buf: &mut [u8]) {
        let mut bytes = Vec::with_capacity(ROUND_HEADER);
        (self.finished, self.failed, self.records, self.body_len).encode(&mut bytes);
        self.section.is_some().encode(&mut bytes);
        self.section.unwrap_or_default().encode(&mut bytes);
        buf[..ROUND_HEADER].copy_from_slice(&bytes);
    }

    fn read(buf: &[u8]) -> Self {
        let mut input = &buf[..ROUND_HEADER];
        let (finished, failed, records, body_len) = <(bool, bool, u64, u64)>::decode(&mut input);
        let has_section = bool::decode(&mut input);
        let section = <(u64, u64)>::decode(&mut input);
        RoundHeader {
            finished,
            failed,
            records,
            body_len,
            section: has_section.then_some(section),
        }
    }
}

#[derive(Default)]
struct MuxState {
    next_seq: u64,
    outgoing: Option<(u64, Vec<Vec<u8>>)>,
    incoming: HashMap<u64, Vec<Option<Vec<u8>>>>,
    failure: Option<Option<Rank>>,
}

/// The collectives of [`TableComm`] waiting for, or carried by, the rounds.
pub(crate) struct MuxShared {
    state: Mutex<MuxState>,
    arrived: Condvar,
    wake: Sender<()>,
    bytes_sent: AtomicU64,
    messages_sent: AtomicU64,
}

impl MuxShared {
    pub(crate) fn new(wake: Sender<()>) -> Self {
        MuxShared {
            state: Mutex::new(MuxState::default()),
            arrived: Condvar::new(),
            wake,
            bytes_sent: AtomicU64::new(0),
            messages_sent: AtomicU64::new(0),
        }
    }

    fn take_outgoing(&self) -> Option<(u64, Vec<Vec<u8>>)> {
        lock(&self.state).outgoing.take()
    }

    fn has_outgoing(&self) -> bool {
        lock(&self.state).outgoing.is_some()
    }

    fn count_sent(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_sent
            .fetch_add(u64::from(bytes > 0), Ordering::Relaxed);
    }

    fn receive(&self, peer: Rank, seq: u64, part: Vec<u8>, ranks: usize) {
        lock(&self.state)
            .incoming
            .entry(seq)
            .or_insert_with(|| vec![None; ranks])[peer] = Some(part);
        self.arrived.notify_all();
    }

    fn fail(&self, lost: Option<Rank>) {
        lock(&self.state).failure = Some(lost);
        self.arrived.notify_all();
    }
}

/// A [`Comm`] for the worker of a parameter session: the same ranks, with every
/// collective carried by the session's rounds (see the module docs). Collectives cost a
/// round or two of latency more than on the rank's own `Comm`.
pub struct TableComm<'c> {
    inner: &'c dyn Comm,
    mux: Arc<MuxShared>,
    call: Mutex<()>,
}

impl<'c> TableComm<'c> {
    pub(crate) fn new(inner: &'c dyn Comm, mux: Arc<MuxShared>) -> Self {
        TableComm {
            inner,
            mux,
            call: Mutex::new(()),
        }
    }
}

impl Comm for TableComm<'_> {
    fn rank(&self) -> Rank {
        self.inner.rank()
    }

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn ranks_in_process(&self) -> usize {
        self.inner.ranks_in_process()
    }

    fn all_to_all_v(&self, send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        assert_eq!(send.len(), self.size(), "one buffer per rank");
        let _one_at_a_time = lock(&self.call);
        let mut st = lock(&self.mux.state);
        let seq = st.next_seq;
        st.next_seq += 1;
        st.outgoing = Some((seq, send));
        drop(st);
        let _ = self.mux.wake.try_send(());
        let mut st = lock(&self.mux.state);
        loop {
            // A collective every rank completed is returned even if a peer stopped right
            // after it (a peer that left on an error all ranks agreed on, say).
            if st
                .incoming
                .get(&seq)
                .is_some_and(|parts| parts.iter().all(Option::is_some))
            {
                let parts = st.incoming.remove(&seq).expect("complete");
                return Ok(parts.into_iter().map(|p| p.expect("complete")).collect());
            }
            if let Some(lost) = st.failure {
                return Err(super::failure_error(lost));
            }
            st = self.mux.arrived.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn stats(&self) -> CommStats {
        CommStats {
            bytes_sent: self.mux.bytes_sent.load(Ordering::Relaxed),
            messages_sent: self.mux.messages_sent.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_headers_fill_their_reserved_bytes_and_read_back() {
        for section in [None, Some((7, 1 << 40))] {
            let header = RoundHeader {
                finished: true,
                failed: false,
                records: 12,
                body_len: 345,
                section,
            };
            let mut buf = vec![0xAB; ROUND_HEADER + 3];
            header.write(&mut buf);
            assert_eq!(RoundHeader::read(&buf), header);
            assert_eq!(buf[ROUND_HEADER..], [0xAB; 3], "the body is left alone");
        }
    }
}
