//! The records ranks exchange for the parameter tables, and the per-peer outbox that
//! workers and servers append them to between rounds.
//!
//! A server answers with [`ToWorker`], which borrows the row it sends: a dense row goes
//! from the server's table into the round buffer in one copy. Records between a rank's own
//! worker and server are kept as they are, never encoded. Outbox buffers start with
//! [`ROUND_HEADER`] bytes that the exchange fills in, and the exchange hands back the
//! buffers it received as the next round's, so a round neither copies its records again
//! nor grows buffers from empty.

use std::sync::Mutex;

use super::row::Row;
use super::spec::TableId;
use crate::wire::Wire;

/// A worker's `clock` value meaning "finished: never waits for me again".
pub(crate) const FINISHED: u64 = u64::MAX;

/// One message between a worker and a server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// Worker -> server: the worker's coalesced updates of `row` during clock `clock`.
    Inc {
        table: TableId,
        row: u64,
        clock: u64,
        delta: Row,
    },
    /// Worker -> every server: the worker has finished `completed` clocks (or
    /// [`FINISHED`]); sent after that clock's `Inc`s, which therefore arrive first.
    Clock { completed: u64 },
    /// Worker -> server: send `row` once it contains every update of clocks `< need`.
    Get { table: TableId, row: u64, need: u64 },
    /// Server -> worker: `row` containing every update of clocks `< stamp`.
    Reply {
        table: TableId,
        row: u64,
        stamp: u64,
        values: Row,
    },
    /// Server -> worker (eager tables): every row of mine you hold that was not pushed
    /// again is unchanged up to clock `stamp`.
    Stamp { stamp: u64 },
    /// Server -> worker (eager async tables): every row of mine you hold is as fresh as
    /// when you finished clock `clock` (the changed ones were pushed before this).
    Pushed { clock: u64 },
}

impl Wire for Record {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Record::Inc {
                table,
                row,
                clock,
                delta,
            } => {
                encode_inc_header((*table, *row, *clock), out);
                delta.encode(out);
            }
            Record::Clock { completed } => {
                out.push(1);
                completed.encode(out);
            }
            Record::Get { table, row, need } => {
                out.push(2);
                (*table, *row, *need).encode(out);
            }
            &Record::Reply {
                table,
                row,
                stamp,
                ref values,
            } => ToWorker::Reply {
                table,
                row,
                stamp,
                values,
            }
            .encode(out),
            &Record::Stamp { stamp } => ToWorker::Stamp { stamp }.encode(out),
            &Record::Pushed { clock } => ToWorker::Pushed { clock }.encode(out),
        }
    }

    fn decode(input: &mut &[u8]) -> Self {
        match u8::decode(input) {
            0 => {
                let (table, row, clock) = <(TableId, u64, u64)>::decode(input);
                Record::Inc {
                    table,
                    row,
                    clock,
                    delta: Row::decode(input),
                }
            }
            1 => Record::Clock {
                completed: u64::decode(input),
            },
            2 => {
                let (table, row, need) = <(TableId, u64, u64)>::decode(input);
                Record::Get { table, row, need }
            }
            3 => {
                let (table, row, stamp) = <(TableId, u64, u64)>::decode(input);
                Record::Reply {
                    table,
                    row,
                    stamp,
                    values: Row::decode(input),
                }
            }
            4 => Record::Stamp {
                stamp: u64::decode(input),
            },
            5 => Record::Pushed {
                clock: u64::decode(input),
            },
            kind => panic!("unknown parameter-table record kind {kind}"),
        }
    }
}

fn encode_inc_header((table, row, clock): (TableId, u64, u64), out: &mut Vec<u8>) {
    out.push(0);
    (table, row, clock).encode(out);
}

/// What a server sends a worker: [`Record::Reply`], [`Record::Stamp`] and
/// [`Record::Pushed`] as they are
/// encoded, with the row borrowed from the server's table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ToWorker<'a> {
    Reply {
        table: TableId,
        row: u64,
        stamp: u64,
        values: &'a Row,
    },
    Stamp {
        stamp: u64,
    },
    Pushed {
        clock: u64,
    },
}

impl ToWorker<'_> {
    /// The record a worker receives (the row copied).
    pub(crate) fn to_record(self) -> Record {
        match self {
            ToWorker::Reply {
                table,
                row,
                stamp,
                values,
            } => Record::Reply {
                table,
                row,
                stamp,
                values: values.clone(),
            },
            ToWorker::Stamp { stamp } => Record::Stamp { stamp },
            ToWorker::Pushed { clock } => Record::Pushed { clock },
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            ToWorker::Reply {
                table,
                row,
                stamp,
                values,
            } => {
                out.push(3);
                (table, row, stamp).encode(out);
                values.encode(out);
            }
            ToWorker::Stamp { stamp } => {
                out.push(4);
                stamp.encode(out);
            }
            ToWorker::Pushed { clock } => {
                out.push(5);
                clock.encode(out);
            }
        }
    }
}

/// Bytes reserved at the start of every outbox buffer for the round's header (see
/// `exchange`).
pub(crate) const ROUND_HEADER: usize = 35;

/// An empty round buffer: `buf`'s allocation with the header's bytes reserved.
pub(crate) fn fresh_buffer(mut buf: Vec<u8>) -> Vec<u8> {
    buf.clear();
    buf.resize(ROUND_HEADER, 0);
    buf
}

/// Records waiting for the next round, one buffer per peer, each starting with
/// [`ROUND_HEADER`] reserved bytes. Records to this rank (its own worker or server) wait
/// as they are, in order, and are handled in the round at this rank's place among the
/// peers: the same order as if they had travelled, so it never depends on where a row
/// lives.
pub(crate) struct Outbox {
    rank: usize,
    peers: Vec<Mutex<(Vec<u8>, u64)>>,
    local: Mutex<Vec<Record>>,
}

/// What [`Outbox::take`] hands the exchange: per peer its buffer and record count, and
/// the records to this rank.
pub(crate) struct Round {
    pub buffers: Vec<(Vec<u8>, u64)>,
    pub local: Vec<Record>,
}

impl Round {
    /// Records in the round, this rank's own included.
    pub(crate) fn records(&self) -> u64 {
        self.buffers.iter().map(|(_, n)| n).sum::<u64>() + self.local.len() as u64
    }
}

impl Outbox {
    pub(crate) fn new(rank: usize, ranks: usize) -> Self {
        Outbox {
            rank,
            peers: (0..ranks)
                .map(|_| Mutex::new((fresh_buffer(Vec::new()), 0)))
                .collect(),
            local: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn push(&self, peer: usize, record: Record) {
        self.deliver(peer, record, |r, out| r.encode(out), |r| r);
    }

    pub(crate) fn push_to_worker(&self, peer: usize, message: ToWorker<'_>) {
        self.deliver(peer, message, |m, out| m.encode(out), ToWorker::to_record);
    }

    /// `Record::Inc` of `(table, row, clock)` with the dense delta of `width` values that
    /// starts with `values` (zeros after them), encoded from the slice.
    pub(crate) fn push_dense_inc(
        &self,
        peer: usize,
        key: (TableId, u64, u64),
        values: &[f32],
        width: usize,
    ) {
        let encode = |&(key, values): &(_, &[f32]), out: &mut Vec<u8>| {
            encode_inc_header(key, out);
            super::row::encode_dense(values, width, out);
        };
        let record = |((table, row, clock), values): (_, &[f32])| Record::Inc {
            table,
            row,
            clock,
            delta: super::row::dense_padded(values, width),
        };
        self.deliver(peer, (key, values), encode, record);
    }

    /// Appends `item` for `peer`: encoded into its buffer, or, for this rank, turned into
    /// the record itself (moved, never encoded).
    fn deliver<T>(
        &self,
        peer: usize,
        item: T,
        encode: impl FnOnce(&T, &mut Vec<u8>),
        into_record: impl FnOnce(T) -> Record,
    ) {
        if peer == self.rank {
            super::lock(&self.local).push(into_record(item));
        } else {
            let mut buf = super::lock(&self.peers[peer]);
            encode(&item, &mut buf.0);
            buf.1 += 1;
        }
    }

    /// Takes every buffer with its record count, putting buffers from `spares` (emptied,
    /// their allocations kept) in their place, and the records to this rank.
    pub(crate) fn take(&self, spares: &mut Vec<Vec<u8>>) -> Round {
        let buffers = self
            .peers
            .iter()
            .map(|p| {
                let spare = fresh_buffer(spares.pop().unwrap_or_default());
                std::mem::replace(&mut *super::lock(p), (spare, 0))
            })
            .collect();
        Round {
            buffers,
            local: std::mem::take(&mut *super::lock(&self.local)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.peers.iter().all(|p| super::lock(p).1 == 0) && super::lock(&self.local).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = [
            Record::Inc {
                table: 1,
                row: 9,
                clock: 3,
                delta: Row::Dense(vec![1.0]),
            },
            Record::Clock {
                completed: FINISHED,
            },
            Record::Get {
                table: 0,
                row: 2,
                need: 4,
            },
            Record::Reply {
                table: 0,
                row: 2,
                stamp: 4,
                values: Row::sparse(vec![(3, 1.0)]),
            },
            Record::Stamp { stamp: 7 },
            Record::Pushed { clock: 8 },
        ];
        let mut bytes = Vec::new();
        for r in &records {
            r.encode(&mut bytes);
        }
        let mut input = bytes.as_slice();
        for r in &records {
            assert_eq!(&Record::decode(&mut input), r);
        }
        assert!(input.is_empty());
    }

    #[test]
    fn the_outbox_hands_out_spares_and_keeps_its_own_records() {
        let outbox = Outbox::new(0, 2);
        outbox.push(1, Record::Clock { completed: 3 });
        outbox.push(0, Record::Clock { completed: 4 });
        let row = Row::Dense(vec![1.0, 2.0]);
        let reply = ToWorker::Reply {
            table: 1,
            row: 5,
            stamp: 2,
            values: &row,
        };
        outbox.push_to_worker(0, reply);
        outbox.push_to_worker(1, reply);
        let mut spares = vec![vec![7u8; 100]];
        outbox.push_dense_inc(1, (2, 9, 4), &[1.0, 2.0], 3);
        outbox.push_dense_inc(0, (2, 9, 4), &[1.0, 2.0], 3);
        let round = outbox.take(&mut spares);
        let dense_inc = Record::Inc {
            table: 2,
            row: 9,
            clock: 4,
            delta: Row::Dense(vec![1.0, 2.0, 0.0]),
        };
        assert_eq!(round.records(), 6);
        assert_eq!(round.buffers[0], (vec![0; ROUND_HEADER], 0));
        assert_eq!(round.buffers[1].1, 3);
        let mut input = &round.buffers[1].0[ROUND_HEADER..];
        assert_eq!(Record::decode(&mut input), Record::Clock { completed: 3 });
        assert_eq!(Record::decode(&mut input), reply.to_record());
        assert_eq!(Record::decode(&mut input), dense_inc);
        assert!(input.is_empty());
        assert_eq!(
            round.local,
            [Record::Clock { completed: 4 }, reply.to_record(), dense_inc]
        );
        assert!(spares.is_empty() && outbox.is_empty());
        // The spare went in emptied, its allocation kept.
        let again = outbox.take(&mut Vec::new());
        assert_eq!(again.records(), 0);
        assert!(
            again
                .buffers
                .iter()
                .all(|(buf, _)| buf.len() == ROUND_HEADER)
        );
        assert!(again.buffers.iter().any(|(buf, _)| buf.capacity() >= 100));
    }
}
