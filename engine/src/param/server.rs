//! A rank's server: its shard of every table, the clocks of all workers, the updates of
//! BSP tables waiting for their clock to complete, and the reads waiting for freshness.
//!
//! The server's **stamp** is the number of clocks every worker has finished. A row it
//! sends carries the stamp; it contains every update of clocks `< stamp`. SSP and async
//! tables apply an update as it arrives, so a read may see newer updates than it needs (as
//! in Bösen; measured, this freshness matters: holding SSP rows at exactly their stamp made
//! matrix factorization diverge at staleness 10). BSP tables hold a clock's updates until
//! the stamp passes that clock and then apply them worker by worker in rank order, so a
//! BSP row is a deterministic function of the workers' updates, independent of timing.
//! Momentum and Adam tables (BSP or SSP) hold them too and take one step with the sum
//! (see `rule`).
//!
//! Eager tables push changed rows to the workers that read them. Under BSP and SSP a push
//! goes out when the stamp advances (a row is only as fresh as the clocks all workers
//! finished). Under async consistency the stamp is no bound on what a read holds, so
//! waiting for the slowest worker would only leave the others reading old rows: each
//! reader is sent the async rows changed since its last clock at the end of the round
//! that carried its next clock (so the push holds every update of that round), one copy
//! per clock whoever changed them, then `Pushed` for that clock, which its reads wait
//! for: what a reader fetching its rows every clock would get, without the requests.
//! (Measured: reads served from the pushed cache without that wait were a clock staler,
//! and matrix factorization with a straggler ended at a held-out RMSE of 0.74-1.32
//! against 0.60-0.63 when fetching; with the wait, 0.60-0.65.)

use std::collections::{BTreeMap, HashMap, HashSet};

use super::checkpoint::SavedRow;
use super::protocol::{FINISHED, Record, ToWorker};
use super::row::Row;
use super::rule::RuleState;
use super::spec::{Consistency, TableId, TableSpec};

type Key = (TableId, u64);

struct ServerRow {
    values: Row,
    /// Adagrad's accumulated squared gradients of a sparse row.
    sparse_squares: Option<Row>,
    /// The update rule's state of a dense row.
    state: RuleState,
    /// Workers that have read this row (eager tables only).
    readers: Vec<bool>,
}

/// Counters of one server.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ServerCounters {
    pub updates_applied: u64,
    pub reads_answered: u64,
    pub reads_queued: u64,
    pub rows_pushed: u64,
}

pub(crate) struct Server {
    specs: Vec<TableSpec>,
    ranks: usize,
    rows: HashMap<Key, ServerRow>,
    worker_clocks: Vec<u64>,
    stamp: u64,
    /// BSP updates by clock, then by worker.
    held: BTreeMap<u64, Vec<Vec<(Key, Row)>>>,
    /// Reads waiting for the stamp: (worker, key, need).
    waiting: Vec<(usize, Key, u64)>,
    /// Rows of eager BSP and SSP tables changed since the stamp last advanced.
    dirty: HashSet<Key>,
    /// By worker: rows of eager async tables it reads, changed since its last clock.
    dirty_for: Vec<HashSet<Key>>,
    /// Workers that have read a row of an eager table here.
    eager_readers: Vec<bool>,
    /// Workers that have read a row of an eager async table here.
    async_readers: Vec<bool>,
    /// By worker: the clock it finished this round, whose pushes go out at the round's end.
    push_due: Vec<Option<u64>>,
    pub counters: ServerCounters,
}

impl Server {
    pub(crate) fn new(specs: Vec<TableSpec>, ranks: usize) -> Self {
        Server {
            specs,
            ranks,
            rows: HashMap::new(),
            worker_clocks: vec![0; ranks],
            stamp: 0,
            held: BTreeMap::new(),
            waiting: Vec::new(),
            dirty: HashSet::new(),
            dirty_for: vec![HashSet::new(); ranks],
            eager_readers: vec![false; ranks],
            async_readers: vec![false; ranks],
            push_due: vec![None; ranks],
            counters: ServerCounters::default(),
        }
    }

    /// Handles a worker's record; replies go through `send(worker, record)`.
    pub(crate) fn handle(
        &mut self,
        from: usize,
        record: Record,
        send: &mut impl FnMut(usize, ToWorker<'_>),
    ) {
        match record {
            Record::Inc {
                table,
                row,
                clock,
                delta,
            } => {
                let key = (table, row);
                let spec = &self.specs[table as usize];
                let hold = spec.consistency == Consistency::Bsp
                    || (spec.update.steps_per_clock() && spec.consistency != Consistency::Async);
                if hold {
                    let ranks = self.ranks;
                    self.held
                        .entry(clock)
                        .or_insert_with(|| vec![Vec::new(); ranks])[from]
                        .push((key, delta));
                } else {
                    self.apply(key, &delta, clock);
                }
            }
            Record::Clock { completed } => {
                self.worker_clocks[from] = completed;
                let stamp = *self.worker_clocks.iter().min().expect("at least one rank");
                if stamp > self.stamp {
                    self.advance(stamp, send);
                }
                if completed != FINISHED {
                    self.push_due[from] = Some(completed);
                }
            }
            Record::Get { table, row, need } => {
                if need <= self.stamp {
                    self.answer(from, (table, row), send);
                } else {
                    self.counters.reads_queued += 1;
                    self.waiting.push((from, (table, row), need));
                }
            }
            Record::Reply { .. } | Record::Stamp { .. } | Record::Pushed { .. } => {
                unreachable!("servers receive no replies")
            }
        }
    }

    /// At the end of a round: sends each worker that finished a clock in it the eager
    /// async rows it reads that changed since its last clock, then `Pushed` (so the
    /// pushes hold every update of the round).
    pub(crate) fn push_to_readers(&mut self, send: &mut impl FnMut(usize, ToWorker<'_>)) {
        for worker in 0..self.ranks {
            let Some(clock) = self.push_due[worker].take() else {
                continue;
            };
            for key in std::mem::take(&mut self.dirty_for[worker]) {
                self.counters.rows_pushed += 1;
                send(worker, self.reply(key));
            }
            if self.async_readers[worker] {
                send(worker, ToWorker::Pushed { clock });
            }
        }
    }

    /// Every worker has finished `stamp` clocks: apply held BSP updates, answer the reads
    /// that were waiting for this, and push changed rows of eager tables.
    fn advance(&mut self, stamp: u64, send: &mut impl FnMut(usize, ToWorker<'_>)) {
        let ready: Vec<u64> = self.held.range(..stamp).map(|(&c, _)| c).collect();
        for clock in ready {
            let mut summed: BTreeMap<Key, Row> = BTreeMap::new();
            for updates in self.held.remove(&clock).expect("listed") {
                for (key, delta) in updates {
                    if self.specs[key.0 as usize].update.steps_per_clock() {
                        match summed.entry(key) {
                            std::collections::btree_map::Entry::Occupied(mut sum) => {
                                sum.get_mut().add_scaled(&delta, 1.0);
                            }
                            std::collections::btree_map::Entry::Vacant(slot) => {
                                slot.insert(delta);
                            }
                        }
                    } else {
                        self.apply(key, &delta, clock);
                    }
                }
            }
            for (key, delta) in summed {
                self.apply(key, &delta, clock);
            }
        }
        self.stamp = stamp;
        let waiting = std::mem::take(&mut self.waiting);
        for (worker, key, need) in waiting {
            if need <= stamp {
                self.answer(worker, key, send);
            } else {
                self.waiting.push((worker, key, need));
            }
        }
        if self.specs.iter().any(|s| s.eager) {
            for key in std::mem::take(&mut self.dirty) {
                let readers = &self.rows[&key].readers;
                for (worker, _) in readers.iter().enumerate().filter(|(_, r)| **r) {
                    self.counters.rows_pushed += 1;
                    send(worker, self.reply(key));
                }
            }
            for (worker, _) in self.eager_readers.iter().enumerate().filter(|(_, r)| **r) {
                send(worker, ToWorker::Stamp { stamp });
            }
        }
    }

    /// `key`'s row as it stands, at the current stamp (the row exists).
    fn reply(&self, (table, row): Key) -> ToWorker<'_> {
        ToWorker::Reply {
            table,
            row,
            stamp: self.stamp,
            values: &self.rows[&(table, row)].values,
        }
    }

    fn answer(&mut self, worker: usize, key: Key, send: &mut impl FnMut(usize, ToWorker<'_>)) {
        self.counters.reads_answered += 1;
        let eager = self.specs[key.0 as usize].eager;
        let ranks = self.ranks;
        let row = self.row(key);
        if eager {
            row.readers.resize(ranks, false);
            row.readers[worker] = true;
            self.eager_readers[worker] = true;
            let spec = &self.specs[key.0 as usize];
            self.async_readers[worker] |= spec.consistency == Consistency::Async;
        }
        send(worker, self.reply(key));
    }

    fn row(&mut self, key: Key) -> &mut ServerRow {
        let spec = &self.specs[key.0 as usize];
        self.rows.entry(key).or_insert_with(|| ServerRow {
            values: spec.initial_row(key.1),
            sparse_squares: None,
            state: RuleState::default(),
            readers: Vec::new(),
        })
    }

    /// Folds `delta`, an update of worker clock `clock`, into its row.
    fn apply(&mut self, key: Key, delta: &Row, clock: u64) {
        self.counters.updates_applied += 1;
        let spec = &self.specs[key.0 as usize];
        let rule = spec.update.with_lr_factor(spec.schedule.factor(clock));
        let (eager, async_reads) = (spec.eager, spec.consistency == Consistency::Async);
        let row = self.row(key);
        match (&mut row.values, delta) {
            (Row::Dense(values), Row::Dense(delta)) if rule.is_stateful() => {
                rule.step_dense(values, delta, &mut row.state);
            }
            (values, delta) => rule.step_row(values, delta, &mut row.sparse_squares),
        }
        if eager && async_reads {
            let (rows, dirty_for) = (&self.rows, &mut self.dirty_for);
            for (worker, _) in rows[&key].readers.iter().enumerate().filter(|(_, r)| **r) {
                dirty_for[worker].insert(key);
            }
        } else if eager {
            self.dirty.insert(key);
        }
    }

    /// The number of clocks every worker has finished.
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp
    }

    /// Every row with its optimizer state (a checkpoint's share of this server).
    pub(crate) fn snapshot(&self) -> Vec<SavedRow> {
        let mut rows: Vec<SavedRow> = self
            .rows
            .iter()
            .map(|(&(table, row), r)| SavedRow {
                table,
                row,
                values: r.values.clone(),
                sparse_squares: r.sparse_squares.clone(),
                state: r.state.clone(),
            })
            .collect();
        rows.sort_by_key(|r| (r.table, r.row));
        rows
    }

    /// Starts from a checkpoint taken when every worker had finished `clock` clocks.
    pub(crate) fn restore(&mut self, rows: Vec<SavedRow>, clock: u64) {
        for saved in rows {
            let row = ServerRow {
                values: saved.values,
                sparse_squares: saved.sparse_squares,
                state: saved.state,
                readers: Vec::new(),
            };
            self.rows.insert((saved.table, saved.row), row);
        }
        self.worker_clocks.fill(clock);
        self.stamp = clock;
    }

    /// This server's rows, sorted by table and row (the final results).
    pub(crate) fn into_rows(self) -> Vec<(TableId, u64, Row)> {
        let mut rows: Vec<_> = self
            .rows
            .into_iter()
            .map(|((t, r), row)| (t, r, row.values))
            .collect();
        rows.sort_by_key(|&(t, r, _)| (t, r));
        rows
    }
}
