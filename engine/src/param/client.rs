//! The worker side of a rank: `get`, `inc` and `clock` over a cache of rows and a buffer of
//! coalesced updates.
//!
//! A read at clock `c` is served from the cache when the cached copy's stamp is at least
//! the table's required stamp (`c - s` under SSP); otherwise the worker asks the row's
//! server, which answers once its stamp is high enough, and blocks until the answer comes.
//! Eager tables do not ask again for a row they hold: the server pushes it. Under async
//! consistency a read of an eager row at clock `c` waits until the row arrived during `c`
//! or its server has sent `Pushed { c }` (it does once the round carrying this worker's
//! clock `c` is handled, after the rows that changed since the worker's last clock): as
//! fresh as a fetch at the clock's start, without a request per row. `inc` adds to
//! a per-row buffer, so a row updated many times in a clock travels once. `clock` sends
//! the buffered updates, then the new clock to every server.
//!
//! **Read-my-writes.** Under the plain add rule a worker sees its own updates. A row that
//! arrives at worker clock `k` holds every own update of clocks `< k` (they were sent
//! before the request, on the same ordered path, and the worker is blocked until the
//! answer comes), so a read adds the own updates sent since (kept for the `s + 1` clocks a
//! cached row can be used) and this clock's buffered ones. A pushed row may lack own
//! updates still in flight; it never counts one twice. Under async consistency the cache
//! is dropped every clock, so nothing is kept past it, except with eager pushes, which keep
//! the cache: then a row's sent updates are kept from its cached copy's arrival on, and
//! each push moves that on (the log stays as long as the pushes lag).

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crossbeam_channel::Sender;

use super::checkpoint::{Resumed, SavedRow};
use super::lock;
use super::metrics::TableMetrics;
use super::protocol::{FINISHED, Outbox, Record};
use super::row::{Row, RowShape, dense_padded};
use super::spec::{Consistency, TableId, TableSpec, UpdateRule, owner_of};
use crate::error::{EngineError, Result};
use crate::ids::Rank;

type Key = (TableId, u64);

struct Cached {
    values: Row,
    stamp: u64,
    /// The worker's clock when the row arrived: it holds every own update of earlier clocks.
    own_from: u64,
}

#[derive(Default)]
struct ClientState {
    clock: u64,
    cache: HashMap<Key, Cached>,
    /// Requests in flight and the stamp each asked for.
    asked: HashMap<Key, u64>,
    pending: HashMap<Key, Row>,
    /// Rows of this clock whose update `inc_dense` sent at once (see its docs).
    sent_direct: HashSet<Key>,
    /// This worker's sent updates of add-rule tables by row: `(clock, delta)`, kept while a
    /// read may still be served a row that lacks them.
    sent: HashMap<Key, Vec<(u64, Row)>>,
    /// By server: the last clock of this worker whose pushes of eager async rows it has
    /// finished sending (`Record::Pushed`).
    pushed: Vec<u64>,
    /// Set when the exchange stopped with an error (the rank it lost, if one).
    failure: Option<Option<Rank>>,
    /// A checkpoint's wait: the clock the server must reach, then its rows.
    snapshot_at: Option<u64>,
    snapshot: Option<Vec<SavedRow>>,
    wait_this_clock: f64,
    metrics: TableMetrics,
}

impl ClientState {
    /// A cached row (present) and the own updates a read adds to it: under the add rule,
    /// those sent since it arrived, then this clock's. Counts the staleness served.
    fn read(&mut self, key: Key, spec: &TableSpec) -> (&Row, impl Iterator<Item = &Row>) {
        let cached = &self.cache[&key];
        self.metrics
            .record_staleness(self.clock.saturating_sub(cached.stamp));
        let add = spec.update == UpdateRule::Add;
        let sent = self
            .sent
            .get(&key)
            .into_iter()
            .flatten()
            .filter(move |(c, _)| add && *c >= cached.own_from)
            .map(|(_, delta)| delta);
        let pending = self.pending.get(&key).filter(|_| add);
        (&cached.values, sent.chain(pending))
    }
}

/// The state a rank's workers and its exchange thread share.
pub(crate) struct ClientShared {
    pub specs: Vec<TableSpec>,
    pub rank: Rank,
    pub ranks: usize,
    pub outbox: Outbox,
    pub wake: Sender<()>,
    /// Where a resumed session started.
    pub resumed: Option<Resumed>,
    state: Mutex<ClientState>,
    fresh: Condvar,
}

impl ClientShared {
    /// A worker at clock 0, or at the clock of `resumed`.
    pub(crate) fn new(
        specs: Vec<TableSpec>,
        (rank, ranks): (Rank, usize),
        wake: Sender<()>,
        resumed: Option<Resumed>,
    ) -> Self {
        let clock = resumed.as_ref().map_or(0, |r| r.clock);
        let state = ClientState {
            clock,
            pushed: vec![clock; ranks],
            ..ClientState::default()
        };
        ClientShared {
            specs,
            rank,
            ranks,
            outbox: Outbox::new(rank, ranks),
            wake,
            resumed,
            state: Mutex::new(state),
            fresh: Condvar::new(),
        }
    }

    /// Whether updates of this clock wait for `clock()`.
    pub(crate) fn has_pending(&self) -> bool {
        !lock(&self.state).pending.is_empty()
    }

    /// The rows of this rank's server once every worker has finished `clock` clocks
    /// (blocks until the exchange thread delivers them).
    pub(crate) fn snapshot_at(&self, clock: u64) -> Result<Vec<SavedRow>> {
        let mut st = lock(&self.state);
        st.snapshot_at = Some(clock);
        drop(st);
        let _ = self.wake.try_send(());
        let mut st = lock(&self.state);
        loop {
            if let Some(lost) = st.failure {
                return Err(super::failure_error(lost));
            }
            if let Some(rows) = st.snapshot.take() {
                return Ok(rows);
            }
            st = self.fresh.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The clock a checkpoint waits for, if one does (asked by the exchange thread).
    pub(crate) fn snapshot_wanted(&self) -> Option<u64> {
        lock(&self.state).snapshot_at
    }

    /// Hands the server's rows to the waiting checkpoint.
    pub(crate) fn deliver_snapshot(&self, rows: Vec<SavedRow>) {
        let mut st = lock(&self.state);
        st.snapshot_at = None;
        st.snapshot = Some(rows);
        drop(st);
        self.fresh.notify_all();
    }

    /// A server's answer or push arrived (called by the exchange thread).
    pub(crate) fn receive(&self, from: Rank, record: Record) {
        let mut st = lock(&self.state);
        match record {
            Record::Reply {
                table,
                row,
                stamp,
                values,
            } => {
                let key = (table, row);
                if st.asked.get(&key).is_some_and(|&need| need <= stamp) {
                    st.asked.remove(&key);
                }
                let own_from = st.clock;
                st.cache.insert(
                    key,
                    Cached {
                        values,
                        stamp,
                        own_from,
                    },
                );
            }
            Record::Pushed { clock } => {
                st.pushed[from] = st.pushed[from].max(clock);
            }
            Record::Stamp { stamp } => {
                let ranks = self.ranks;
                for (&(t, r), cached) in st.cache.iter_mut() {
                    if self.specs[t as usize].eager && owner_of(t, r, ranks) == from {
                        cached.stamp = cached.stamp.max(stamp);
                    }
                }
            }
            _ => unreachable!("workers receive only replies"),
        }
        drop(st);
        self.fresh.notify_all();
    }

    /// The exchange stopped with an error: wake every waiting read.
    pub(crate) fn fail(&self, lost: Option<Rank>) {
        lock(&self.state).failure = Some(lost);
        self.fresh.notify_all();
    }

    fn check_table(&self, table: TableId, shape: Option<RowShape>) -> Result<&TableSpec> {
        let spec = self.specs.get(table as usize).ok_or_else(|| {
            EngineError::Config(format!(
                "no parameter table {table} (the session has {})",
                self.specs.len()
            ))
        })?;
        if let Some(shape) = shape
            && shape != spec.shape
        {
            return Err(EngineError::Config(format!(
                "table `{}` has {:?} rows, not {:?}",
                spec.name, spec.shape, shape
            )));
        }
        Ok(spec)
    }

    pub(crate) fn get_many(&self, table: TableId, rows: &[u64]) -> Result<Vec<Row>> {
        let spec = self.check_table(table, None)?;
        let mut st = self.wait_fresh(spec, table, rows)?;
        let mut out = Vec::with_capacity(rows.len());
        for &row in rows {
            let (cached, own) = st.read((table, row), spec);
            let mut values = cached.clone();
            for delta in own {
                values.add_scaled(delta, 1.0);
            }
            out.push(values);
        }
        Ok(out)
    }

    /// Reads rows `first..` of a dense table into `out`, one row's width after another;
    /// the last row is cut at `out`'s end.
    pub(crate) fn get_dense_into(&self, table: TableId, first: u64, out: &mut [f32]) -> Result<()> {
        let width = self.dense_width(table)?;
        let spec = &self.specs[table as usize];
        let rows: Vec<u64> = (first..).take(out.len().div_ceil(width)).collect();
        let mut st = self.wait_fresh(spec, table, &rows)?;
        for (chunk, &row) in out.chunks_mut(width).zip(&rows) {
            let (cached, own) = st.read((table, row), spec);
            let values = cached.as_dense().expect("dense table, dense rows");
            chunk.copy_from_slice(&values[..chunk.len()]);
            for delta in own {
                let delta = delta.as_dense().expect("dense table, dense updates");
                chunk.iter_mut().zip(delta).for_each(|(x, d)| *x += d);
            }
        }
        Ok(())
    }

    pub(crate) fn inc_dense(&self, table: TableId, first: u64, values: &[f32]) -> Result<()> {
        let width = self.dense_width(table)?;
        let rows = (first..).zip(values.chunks(width));
        if self.specs[table as usize].update == UpdateRule::Add {
            // Reads add the clock's own updates from the buffer: every row goes there.
            for (row, chunk) in rows {
                self.inc(table, row, dense_padded(chunk, width))?;
            }
            return Ok(());
        }
        let mut st = lock(&self.state);
        let clock = st.clock;
        for (row, chunk) in rows {
            let key = (table, row);
            if let Some(Row::Dense(sum)) = st.pending.get_mut(&key) {
                sum.iter_mut().zip(chunk).for_each(|(x, d)| *x += d);
            } else if st.sent_direct.insert(key) {
                st.metrics.rows_sent += 1;
                let owner = owner_of(table, row, self.ranks);
                self.outbox
                    .push_dense_inc(owner, (table, row, clock), chunk, width);
            } else {
                st.pending.insert(key, dense_padded(chunk, width));
            }
        }
        Ok(())
    }

    /// The width of a dense table's rows.
    fn dense_width(&self, table: TableId) -> Result<usize> {
        let spec = self.check_table(table, None)?;
        match spec.shape {
            RowShape::Dense(width) => Ok(width),
            RowShape::Sparse => Err(EngineError::Config(format!(
                "table `{}` has sparse rows, not a dense block",
                spec.name
            ))),
        }
    }

    /// Blocks until every one of `rows` is in the cache as fresh as the table demands at
    /// this clock (asking the servers for those that are not), and counts the reads.
    fn wait_fresh(
        &self,
        spec: &TableSpec,
        table: TableId,
        rows: &[u64],
    ) -> Result<std::sync::MutexGuard<'_, ClientState>> {
        let mut st = lock(&self.state);
        let need = spec.consistency.required_stamp(st.clock);
        let pushed_to = spec.eager && spec.consistency == Consistency::Async;
        // A cached row is fresh when its stamp is high enough; an eager async row also
        // when it arrived during this clock or its server has pushed for this clock.
        let fresh = |st: &ClientState, row: u64| {
            st.cache.get(&(table, row)).map(|c| {
                c.stamp >= need
                    && (!pushed_to
                        || c.own_from >= st.clock
                        || st.pushed[owner_of(table, row, self.ranks)] >= st.clock)
            })
        };
        let started = Instant::now();
        let stale_at_first = rows
            .iter()
            .filter(|&&row| fresh(&st, row) != Some(true))
            .count() as u64;
        let mut asked_now = 0u64;
        loop {
            if let Some(lost) = st.failure {
                return Err(super::failure_error(lost));
            }
            let mut missing = false;
            for &row in rows {
                let key = (table, row);
                let fresh = fresh(&st, row);
                if fresh == Some(true) {
                    continue;
                }
                missing = true;
                let in_flight = st.asked.get(&key).is_some_and(|&n| n >= need);
                let pushed = spec.eager && fresh.is_some();
                if !in_flight && !pushed {
                    st.asked.insert(key, need);
                    let owner = owner_of(table, row, self.ranks);
                    self.outbox.push(owner, Record::Get { table, row, need });
                    asked_now += 1;
                }
            }
            if !missing {
                break;
            }
            if asked_now > 0 {
                let _ = self.wake.try_send(());
            }
            st = self.fresh.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if stale_at_first > 0 {
            st.wait_this_clock += started.elapsed().as_secs_f64();
        }
        st.metrics.reads_from_server += stale_at_first;
        st.metrics.reads_from_cache += rows.len() as u64 - stale_at_first;
        Ok(st)
    }

    pub(crate) fn inc(&self, table: TableId, row: u64, delta: Row) -> Result<()> {
        self.check_table(table, Some(delta.shape()))?;
        let mut st = lock(&self.state);
        match st.pending.get_mut(&(table, row)) {
            Some(sum) => sum.add_scaled(&delta, 1.0),
            None => {
                st.pending.insert((table, row), delta);
            }
        }
        Ok(())
    }

    /// Ends the current clock: sends its updates, then the clock (`FINISHED` when `last`).
    pub(crate) fn clock(&self, last: bool) -> Result<()> {
        let mut st = lock(&self.state);
        if let Some(lost) = st.failure {
            return Err(super::failure_error(lost));
        }
        let clock = st.clock;
        for ((table, row), delta) in std::mem::take(&mut st.pending) {
            st.metrics.rows_sent += 1;
            let spec = &self.specs[table as usize];
            if spec.update == UpdateRule::Add {
                st.sent
                    .entry((table, row))
                    .or_default()
                    .push((clock, delta.clone()));
            }
            self.outbox.push(
                owner_of(table, row, self.ranks),
                Record::Inc {
                    table,
                    row,
                    clock,
                    delta,
                },
            );
        }
        st.sent_direct.clear();
        st.clock += 1;
        let completed = if last { FINISHED } else { st.clock };
        for peer in 0..self.ranks {
            self.outbox.push(peer, Record::Clock { completed });
        }
        // A row read from now on arrived at a clock >= its stamp >= next - s (async: its
        // cache is dropped below, so >= next): older own updates are in it.
        let specs = &self.specs;
        let next = st.clock;
        let state = &mut *st;
        let cache = &state.cache;
        state.sent.retain(|key, log| {
            let spec = &specs[key.0 as usize];
            let oldest = match spec.consistency {
                Consistency::Async if !spec.eager => next,
                // Eager async keeps its cache, which pushes refresh: a read adds own updates
                // from the cached copy's arrival on, and a later copy starts later still (a
                // row never read: from its arrival, at `next` or after).
                Consistency::Async => cache.get(key).map_or(next, |c| c.own_from),
                c => c.required_stamp(next),
            };
            log.retain(|(c, _)| *c >= oldest);
            !log.is_empty()
        });
        let kept = state.sent.values().map(|log| log.len() as u64).sum::<u64>();
        st.metrics.own_updates_kept = st.metrics.own_updates_kept.max(kept);
        st.cache.retain(|&(t, _), _| {
            specs[t as usize].consistency != Consistency::Async || specs[t as usize].eager
        });
        let waited = std::mem::take(&mut st.wait_this_clock);
        st.metrics.clocks += 1;
        st.metrics.wait_seconds_per_clock.push(waited);
        drop(st);
        let _ = self.wake.try_send(());
        Ok(())
    }

    pub(crate) fn current_clock(&self) -> u64 {
        lock(&self.state).clock
    }

    pub(crate) fn metrics(&self) -> TableMetrics {
        lock(&self.state).metrics.clone()
    }
}
