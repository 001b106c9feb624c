//! Signals for the next superstep, combined per target in dense per-vertex slots.
//!
//! Every owned vertex has a slot (`inbox`) and a bit; a signal to a ghost waits in the
//! ghost's slot until it is sent to the owner. Tasks buffer their signals in their own
//! lists while they run (no lock, no hash, no allocation per message); the lists are then
//! delivered in parallel over blocks of targets: each task's list is split by block, and
//! each block takes the tasks' parts in task order. A target therefore combines its
//! messages in the same order as a serial delivery of the lists one after another, for
//! any number of threads, and results do not depend on the thread count.

use rayon::prelude::*;

use super::frontier::Bitset;
use crate::ids::LocalId;
use crate::program::VertexProgram;

/// Below this many signals in a superstep, delivery runs on the calling thread.
const PARALLEL_DELIVERY_MIN: usize = 1 << 14;

/// Signals for the next superstep, combined per target.
pub(super) struct SignalSink<M> {
    pub(super) bits: Bitset,
    pub(super) list: Vec<LocalId>,
    pub(super) inbox: Vec<Option<M>>,
    pub(super) ghost_msgs: Vec<Option<M>>,
    pub(super) ghost_list: Vec<LocalId>,
}

/// Puts `msg` into `slot`, combining with a message already there. Returns true when the
/// slot was empty (the target is newly signalled).
#[inline]
pub(super) fn put<P: VertexProgram>(p: &P, slot: &mut Option<P::Message>, msg: P::Message) -> bool {
    match slot {
        Some(acc) => {
            if std::mem::size_of::<P::Message>() != 0 {
                p.combine_messages(acc, msg);
            }
            false
        }
        None => {
            *slot = Some(msg);
            true
        }
    }
}

impl<M: Send + Sync> SignalSink<M> {
    pub(super) fn new(num_owned: usize, num_ghosts: usize) -> Self {
        SignalSink {
            bits: Bitset::new(num_owned),
            list: Vec::new(),
            inbox: (0..num_owned).map(|_| None).collect(),
            ghost_msgs: (0..num_ghosts).map(|_| None).collect(),
            ghost_list: Vec::new(),
        }
    }

    /// Delivers one signal.
    pub(super) fn deliver<P: VertexProgram<Message = M>>(
        &mut self,
        p: &P,
        num_owned: usize,
        v: LocalId,
        msg: M,
    ) {
        if (v as usize) < num_owned {
            if put(p, &mut self.inbox[v as usize], msg) {
                self.bits.insert(v as usize);
                self.list.push(v);
            }
        } else if put(p, &mut self.ghost_msgs[v as usize - num_owned], msg) {
            self.ghost_list.push(v);
        }
    }

    /// Delivers every task's signals, as if one task's list after another (see the module
    /// docs), in parallel over blocks of targets when there are many.
    pub(super) fn deliver_all<P: VertexProgram<Message = M>>(
        &mut self,
        p: &P,
        num_owned: usize,
        lists: Vec<Vec<(LocalId, M)>>,
    ) {
        let total: usize = lists.iter().map(Vec::len).sum();
        if total < PARALLEL_DELIVERY_MIN || rayon::current_num_threads() == 1 {
            for (v, msg) in lists.into_iter().flatten() {
                self.deliver(p, num_owned, v, msg);
            }
            return;
        }
        // Blocks of whole bitset words; the last block holds the ghost targets.
        let block = num_owned
            .div_ceil(rayon::current_num_threads() * 8)
            .next_multiple_of(64)
            .max(1 << 12);
        let owned_blocks = num_owned.div_ceil(block);
        let block_of = |v: LocalId| {
            if (v as usize) < num_owned {
                v as usize / block
            } else {
                owned_blocks
            }
        };
        let split: Vec<Vec<Vec<(LocalId, M)>>> = lists
            .into_par_iter()
            .map(|list| {
                let mut parts: Vec<Vec<(LocalId, M)>> =
                    (0..=owned_blocks).map(|_| Vec::new()).collect();
                for (v, msg) in list {
                    parts[block_of(v)].push((v, msg));
                }
                parts
            })
            .collect();
        // Transpose to one list of parts per block, in task order.
        let mut by_block: Vec<Vec<Vec<(LocalId, M)>>> = (0..=owned_blocks)
            .map(|_| Vec::with_capacity(split.len()))
            .collect();
        for parts in split {
            for (b, part) in parts.into_iter().enumerate() {
                if !part.is_empty() {
                    by_block[b].push(part);
                }
            }
        }
        let ghost_parts = by_block.pop().expect("a ghost block");
        let newly: Vec<Vec<LocalId>> = by_block
            .into_par_iter()
            .zip(self.inbox.par_chunks_mut(block))
            .zip(self.bits.words_mut().par_chunks_mut(block / 64))
            .enumerate()
            .map(|(b, ((parts, inbox), words))| {
                let base = b * block;
                let mut newly = Vec::new();
                for (v, msg) in parts.into_iter().flatten() {
                    let i = v as usize - base;
                    if put(p, &mut inbox[i], msg) {
                        words[i / 64] |= 1 << (i % 64);
                        newly.push(v);
                    }
                }
                newly
            })
            .collect();
        for list in newly {
            self.list.extend(list);
        }
        for (v, msg) in ghost_parts.into_iter().flatten() {
            self.deliver(p, num_owned, v, msg);
        }
    }
}
