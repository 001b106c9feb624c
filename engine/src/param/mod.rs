//! The parameter table: sharded rows with BSP, stale-synchronous (SSP) or asynchronous
//! reads, for data-parallel learning where a vertex program is the wrong shape.
//!
//! **Shape** (Bösen/Petuum's contract). A table maps a `u64` row key to a dense `f32`
//! vector or a sparse map ([`Row`]). Rows are spread over the ranks by a hash of the key;
//! every rank is both a **server** for its shard and a **worker** with a clock. The worker
//! API is [`TableClient::get`] (and [`get_many`](TableClient::get_many)),
//! [`inc`](TableClient::inc) (buffered and coalesced per row) and
//! [`clock`](TableClient::clock) (send the clock's updates, advance).
//!
//! **Consistency** per table ([`Consistency`]). SSP's read rule: a worker at clock `c`
//! reads a row containing every update of clocks `<= c - s - 1`. A server's *stamp* is the
//! number of clocks every worker has finished; a row carries the stamp it was sent with,
//! and a cached row whose stamp is at least `c - s` is served without a round trip. The
//! server applies a clock's updates once every worker finished it, in rank order, so a
//! row holds exactly the completed clocks' updates: BSP (`s = 0`) is bit-reproducible, and
//! a worker adds its own newer updates to what it reads (read-my-writes). Async never
//! waits and applies updates as they arrive. Eager push (ESSP) sends changed rows to
//! their readers whenever the stamp advances.
//!
//! **Server-side updates** ([`UpdateRule`]): plain add, or an optimizer step (SGD,
//! Adagrad, momentum, Adam) so workers can send raw gradients. Momentum and Adam take one
//! step per clock with the clock's summed gradients (see `rule`).
//!
//! **Transport.** [`run`] starts the rank's exchange thread (see `exchange`): records ride
//! on rounds of `Comm::all_to_all_v`, so the tables work over every `Comm` (thread ranks,
//! MPI ranks) without point-to-point messages. The body gets a [`TableComm`] for its own
//! collectives, which ride on the same rounds; a [`SyncEngine`](crate::SyncEngine) run on
//! it can give its vertex programs the tables through the [`Context`](crate::Context).
//!
//! **Metrics** ([`TableMetrics`]): staleness actually served, reads from cache and from
//! servers, wait time per clock, traffic.
//!
//! ```
//! use gasket_engine::param::{self, Consistency, ParamConfig, Row, TableSpec};
//! use gasket_engine::ThreadComm;
//!
//! // Every rank adds 1 to row 7 in each of 3 clocks; SSP with staleness 1.
//! let per_rank = ThreadComm::run(2, |comm| {
//!     let spec = TableSpec::dense("counts", 1).consistency(Consistency::Ssp(1));
//!     param::run(&comm, vec![spec], &ParamConfig::default(), |tables, _comm| {
//!         for _ in 0..3 {
//!             tables.inc(0, 7, Row::Dense(vec![1.0]))?;
//!             tables.clock()?;
//!         }
//!         Ok(())
//!     })
//! })
//! .unwrap();
//! let total: f32 = per_rank.iter().flat_map(|f| &f.rows).map(|(_, _, row)| row.value(0)).sum();
//! assert_eq!(total, 6.0);
//! ```

mod checkpoint;
mod client;
mod exchange;
mod metrics;
mod protocol;
mod row;
mod rule;
mod server;
mod spec;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use self::checkpoint::{Resumed, TableCheckpoint, WorkerState};
pub use self::exchange::TableComm;
pub use self::metrics::TableMetrics;
pub use self::row::{Row, RowShape};
pub use self::rule::{RuleState, adam_bias_corrections};
pub use self::spec::{Consistency, Init, LrSchedule, TableId, TableSpec, UpdateRule};

use self::client::ClientShared;
use self::exchange::{BodyStatus, MuxShared, run_exchange};
use self::server::Server;
use crate::comm::{Comm, CommExt};
use crate::error::{EngineError, Result};
use crate::ids::Rank;

/// `(table, row, values)` triples, sorted by table and row.
pub type TableRows = Vec<(TableId, u64, Row)>;

/// Settings of a parameter session.
#[derive(Debug, Clone)]
pub struct ParamConfig {
    /// Longest pause between exchange rounds when nothing is waiting to be sent.
    pub flush_interval: Duration,
    /// Start from the newest complete checkpoint in this folder (written by
    /// [`TableClient::checkpoint`], on any number of ranks); the body learns where it
    /// resumes from [`TableClient::resumed`].
    pub resume: Option<PathBuf>,
}

impl Default for ParamConfig {
    fn default() -> Self {
        ParamConfig {
            flush_interval: Duration::from_micros(500),
            resume: None,
        }
    }
}

/// What a rank's session leaves: the body's value, the rank's figures, and the rows its
/// server holds (every update applied), sorted by table and row.
#[derive(Debug)]
pub struct Finished<T> {
    /// What the body returned.
    pub value: T,
    /// This rank's figures.
    pub metrics: TableMetrics,
    /// `(table, row, values)` of this rank's shard.
    pub rows: TableRows,
}

/// A worker's handle on the session's tables (see the module docs). Methods take `&self`
/// and may be called from several threads of the rank (a vertex program's `apply`); the
/// rank has one clock.
#[derive(Clone)]
pub struct TableClient {
    shared: Arc<ClientShared>,
}

impl std::fmt::Debug for TableClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableClient")
            .field("rank", &self.shared.rank)
            .field("tables", &self.shared.specs.len())
            .finish_non_exhaustive()
    }
}

impl TableClient {
    /// This worker's rank.
    pub fn rank(&self) -> Rank {
        self.shared.rank
    }

    /// Number of workers (ranks).
    pub fn num_ranks(&self) -> usize {
        self.shared.ranks
    }

    /// Where this session resumed from (`None` on a fresh start).
    pub fn resumed(&self) -> Option<&Resumed> {
        self.shared.resumed.as_ref()
    }

    /// The worker's current clock (clocks finished so far).
    pub fn current_clock(&self) -> u64 {
        self.shared.current_clock()
    }

    /// The specification of `table`, if it exists.
    pub fn spec(&self, table: TableId) -> Option<&TableSpec> {
        self.shared.specs.get(table as usize)
    }

    /// Reads `row` of `table` as fresh as the table's consistency demands (blocking
    /// until a server can answer), plus this clock's own updates under the add rule.
    ///
    /// # Errors
    ///
    /// An unknown table, or a peer rank that stopped.
    pub fn get(&self, table: TableId, row: u64) -> Result<Row> {
        Ok(self
            .get_many(table, &[row])?
            .pop()
            .expect("one row asked, one returned"))
    }

    /// Reads many rows with one wait: every request goes out before the first wait.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn get_many(&self, table: TableId, rows: &[u64]) -> Result<Vec<Row>> {
        self.shared.get_many(table, rows)
    }

    /// Reads rows `first..` of a dense table into `out`, one row's width after another,
    /// with one wait as [`get_many`](Self::get_many) (the last row is cut at `out`'s end):
    /// a block of parameters laid out over consecutive rows comes back in one copy from
    /// the cache.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), and a table with sparse rows.
    pub fn get_dense_into(&self, table: TableId, first: u64, out: &mut [f32]) -> Result<()> {
        self.shared.get_dense_into(table, first, out)
    }

    /// Adds `values` to rows `first..` of a dense table, one row's width after another
    /// (columns past the end of `values` in the last row get zero): the counterpart of
    /// [`get_dense_into`](Self::get_dense_into) for [`inc`](Self::inc).
    ///
    /// A row no update of this clock has reached yet goes into the send buffer at once,
    /// in one copy, instead of waiting in the clock's buffer; a row updated again in the
    /// same clock then travels twice, and the server adds both (under BSP, SSP and the
    /// add rule the result is the same as one summed update, up to float rounding; an
    /// async Adam or momentum table takes a step per update it receives). Tables under
    /// the add rule keep every update in the clock's buffer, as `inc` does, because reads
    /// add it.
    ///
    /// # Errors
    ///
    /// As [`inc`](Self::inc), and a table with sparse rows.
    pub fn inc_dense(&self, table: TableId, first: u64, values: &[f32]) -> Result<()> {
        self.shared.inc_dense(table, first, values)
    }

    /// Adds `delta` to `row` of `table` (through the table's update rule) at the next
    /// [`clock`](Self::clock). Deltas to one row within a clock are summed first.
    ///
    /// # Errors
    ///
    /// An unknown table, or a delta whose shape is not the table's.
    pub fn inc(&self, table: TableId, row: u64, delta: Row) -> Result<()> {
        self.shared.inc(table, row, delta)
    }

    /// Ends the worker's clock: sends its updates and tells every server.
    ///
    /// # Errors
    ///
    /// A peer rank that stopped.
    pub fn clock(&self) -> Result<()> {
        self.shared.clock(false)
    }

    /// This worker's figures so far (the server's and the traffic come with [`Finished`]).
    pub fn metrics(&self) -> TableMetrics {
        self.shared.metrics()
    }
}

/// The error a worker or a [`TableComm`] call gets once the exchange has stopped: the
/// lost rank when one went away.
pub(crate) fn failure_error(lost: Option<Rank>) -> EngineError {
    match lost {
        Some(rank) => EngineError::PeerLost { rank },
        None => EngineError::Config("the parameter-table exchange stopped".into()),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `body` as this rank's worker over `tables`, with the rank's server and exchange
/// running beside it. Collective: every rank calls it with the same tables. While it runs
/// `comm` belongs to the session; the body gets a [`TableComm`] for its own collectives.
///
/// When the body returns, its buffered updates are sent and the rank stops holding the
/// others back (its clock counts as infinite); the call returns once every rank's body
/// has returned and every update is applied.
///
/// # Errors
///
/// An invalid table specification, the body's error (other ranks then fail with
/// [`EngineError::PeerLost`] naming this rank), or a failed collective.
pub fn run<T>(
    comm: &dyn Comm,
    tables: Vec<TableSpec>,
    config: &ParamConfig,
    body: impl FnOnce(&TableClient, &TableComm<'_>) -> Result<T>,
) -> Result<Finished<T>> {
    for spec in &tables {
        spec.validate()?;
    }
    if tables.len() > usize::from(TableId::MAX) {
        return Err(EngineError::Config(format!(
            "{} parameter tables; at most {} are supported",
            tables.len(),
            TableId::MAX
        )));
    }
    let mut server = Server::new(tables.clone(), comm.size());
    let resumed = match &config.resume {
        Some(root) => {
            let (rows, resumed) = checkpoint::restore(comm, root, &tables)?;
            server.restore(rows, resumed.clock);
            Some(resumed)
        }
        None => None,
    };
    let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
    let client = TableClient {
        shared: Arc::new(ClientShared::new(
            tables,
            (comm.rank(), comm.size()),
            wake_tx.clone(),
            resumed,
        )),
    };
    let mux = Arc::new(MuxShared::new(wake_tx.clone()));
    let table_comm = TableComm::new(comm, Arc::clone(&mux));
    let status = BodyStatus::default();
    let (outcome, exchanged) = std::thread::scope(|s| {
        let exchange = s.spawn(|| {
            run_exchange(
                comm,
                &client.shared,
                &mux,
                &status,
                server,
                &wake_rx,
                config.flush_interval,
            )
        });
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let value = body(&client, &table_comm)?;
            client.shared.clock(true)?;
            Ok(value)
        }));
        let failed = !matches!(outcome, Ok(Ok(_)));
        if failed {
            status.failed.store(true, Ordering::Release);
        }
        status.finished.store(true, Ordering::Release);
        let _ = wake_tx.try_send(());
        (outcome, exchange.join())
    });
    let value = match outcome {
        Ok(result) => result?,
        Err(panic) => resume_unwind(panic),
    };
    let exchanged = match exchanged {
        Ok(result) => result?,
        Err(panic) => resume_unwind(panic),
    };
    let mut metrics = client.metrics();
    let counters = exchanged.server.counters;
    metrics.updates_applied = counters.updates_applied;
    metrics.reads_answered = counters.reads_answered;
    metrics.reads_queued = counters.reads_queued;
    metrics.rows_pushed = counters.rows_pushed;
    metrics.rounds = exchanged.rounds;
    metrics.bytes_sent = exchanged.bytes_sent;
    Ok(Finished {
        value,
        metrics,
        rows: exchanged.server.into_rows(),
    })
}

/// Gathers every rank's shard on `root`, sorted by table and row (collective; call it with
/// the rank's own `Comm` after [`run`]).
///
/// # Errors
///
/// A failed collective.
pub fn gather_rows(
    comm: &dyn Comm,
    root: Rank,
    rows: &[(TableId, u64, Row)],
) -> Result<Option<TableRows>> {
    Ok(comm.gather_to(root, rows)?.map(|mut all| {
        all.sort_by_key(|&(t, r, _)| (t, r));
        all
    }))
}
