//! The records ranks exchange for the parameter tables, and the per-peer outbox that
//! workers and servers append them to between rounds.

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
                out.push(0);
                (*table, *row, *clock).encode(out);
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
            Record::Reply {
                table,
                row,
                stamp,
                values,
            } => {
                out.push(3);
                (*table, *row, *stamp).encode(out);
                values.encode(out);
            }
            Record::Stamp { stamp } => {
                out.push(4);
                stamp.encode(out);
            }
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
            kind => panic!("unknown parameter-table record kind {kind}"),
        }
    }
}

/// Records waiting for the next round, one buffer per peer (this rank included: records
/// to its own server take the same path, so ordering never depends on where a row lives).
pub(crate) struct Outbox {
    peers: Vec<Mutex<(Vec<u8>, u64)>>,
}

impl Outbox {
    pub(crate) fn new(ranks: usize) -> Self {
        Outbox {
            peers: (0..ranks).map(|_| Mutex::new((Vec::new(), 0))).collect(),
        }
    }

    pub(crate) fn push(&self, peer: usize, record: &Record) {
        let mut buf = super::lock(&self.peers[peer]);
        record.encode(&mut buf.0);
        buf.1 += 1;
    }

    /// Takes every buffer with its record count.
    pub(crate) fn take(&self) -> Vec<(Vec<u8>, u64)> {
        self.peers
            .iter()
            .map(|p| std::mem::take(&mut *super::lock(p)))
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.peers.iter().all(|p| super::lock(p).1 == 0)
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
}
