//! The asynchronous engine: vertices run as soon as they are signalled, read their
//! neighbours' newest data, and the run ends when no work is left anywhere.
//!
//! Per rank, `workers` threads take signalled owned vertices from a [`Scheduler`] (FIFO,
//! priority, sweep) and run gather, apply and scatter on each under a [`Consistency`]
//! model (see `scope` for the locking scheme and why it cannot deadlock). A signal to an
//! owned vertex goes straight to the scheduler; changed data of a vertex that other ranks
//! hold as a ghost, and signals to ghosts, go to a per-peer outbox.
//!
//! The calling thread is the rank's exchange thread: whenever the outbox passes
//! `batch_bytes` or `flush_interval` has passed, it cuts a round and swaps every rank's
//! outbox with one `all_to_all_v`, then applies the ghost updates it received (under the
//! ghosts' write locks) and hands the signals to the scheduler. Workers never wait for a
//! round: while one is in flight they keep running vertices.
//!
//! Termination is detected, never timed out: each round's header says whether the rank
//! was passive (nothing scheduled or running; read before the outbox is cut, and a task
//! hands on its outputs before it stops counting as running) and how many records it sent.
//! When every rank was passive and the round carried no record, no work exists and none is
//! in flight (every record sent so far was delivered by the collective that carried it), so
//! every rank stops at the same round. A vote to stop (`Context::stop`) ends the run the
//! same way. With one rank, passive is enough.
//!
//! Edge and full consistency on one rank come from the locks; across ranks a neighbour on
//! another rank can run concurrently, so for those models on several ranks the launcher
//! runs the chromatic schedule instead (see `crate::chromatic`). The engine itself refuses
//! that combination rather than weaken the promise.
//!
//! What a program sees: `ctx.iteration()` is 0, aggregators accumulate over the whole run
//! (their reduced values are in [`AsyncMetrics::aggregates`]) and `ctx.aggregated` returns
//! the values `init` contributed; `after_superstep` is not called (there are no supersteps).
//! Copies of a cut edge's data on the two ranks are not reconciled (the synchronous engine
//! reconciles them): write edge data only from the source side, or use the sync engine.

mod buckets;
mod exchange;
mod scheduler;
mod scope;

pub use scheduler::Scheduler;
pub use scope::Consistency;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};
use serde::Serialize;

use self::exchange::{Outbox, Routes, SIGNAL};
use self::scheduler::{Local, Schedule, lock};
use self::scope::{Scope, read, write};
use crate::comm::{Comm, ReduceOp};
use crate::error::{EngineError, Result};
use crate::graph::{LocalGraph, Topology, zst_mut, zst_ref};
use crate::ids::LocalId;
use crate::prefetch;
use crate::program::{
    Activation, Context, ContextFacts, Neighbor, VertexMut, VertexProgram, VertexRef, fold,
    identity,
};
use crate::sync::{StopReason, exchange_ghosts};
use crate::wire::Wire;

/// How many neighbours (or signals) ahead of its use a run prefetches one's data.
const AHEAD: usize = 8;

/// Vertex runs a worker counts locally before adding them to the shared total.
const UPDATES_BATCH: u64 = 1024;

/// Settings of the asynchronous engine.
#[derive(Debug, Clone)]
pub struct AsyncConfig {
    /// Which signalled vertex runs next.
    pub scheduler: Scheduler,
    /// What a vertex's run holds exclusively.
    pub consistency: Consistency,
    /// Worker threads per rank (0: the machine's cores divided by the ranks in this process).
    pub workers: usize,
    /// Longest time records wait in the outbox before a round.
    pub flush_interval: Duration,
    /// A round starts early when this many bytes wait in the outbox.
    pub batch_bytes: usize,
    /// Log progress about once a second at `info` level on rank 0.
    pub log_progress: bool,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            scheduler: Scheduler::Fifo,
            consistency: Consistency::Edge,
            workers: 0,
            flush_interval: Duration::from_millis(1),
            batch_bytes: 1 << 20,
            log_progress: true,
        }
    }
}

/// What an asynchronous run did on one rank.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AsyncMetrics {
    /// Vertex runs (gather-apply-scatter) on this rank.
    pub updates: u64,
    /// `updates` per second of the run.
    pub updates_per_second: f64,
    /// Worker threads.
    pub workers: usize,
    /// Exchange rounds.
    pub rounds: u64,
    /// Ghost updates sent to other ranks.
    pub ghost_updates_sent: u64,
    /// Signals sent to other ranks' vertices.
    pub remote_signals_sent: u64,
    /// Bytes sent to other ranks (records and round headers).
    pub bytes_sent: u64,
    /// Non-empty buffers sent to other ranks.
    pub messages_sent: u64,
    /// Seconds workers spent with nothing to run, summed over workers.
    pub idle_seconds: f64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Aggregator values reduced over the whole run and all ranks.
    pub aggregates: Vec<f64>,
    /// Why the run ended.
    pub stopped_because: Option<StopReason>,
}

/// The asynchronous engine running `P` on one rank's graph.
pub struct AsyncEngine<'a, P: VertexProgram> {
    program: &'a P,
    comm: &'a dyn Comm,
    graph: &'a mut LocalGraph<P::Edge>,
    config: AsyncConfig,
    ops: Vec<ReduceOp>,
    init_aggregates: Vec<f64>,
    data: Vec<RwLock<P::Vertex>>,
    schedule: Schedule<P::Message>,
    routes: Routes,
    outbox: Outbox,
    metrics: AsyncMetrics,
}

/// Everything the workers and the exchange share during a run.
struct Shared<'r, P: VertexProgram> {
    program: &'r P,
    topo: &'r Topology,
    in_edge_ids: &'r [usize],
    edges: &'r [Mutex<P::Edge>],
    data: &'r [RwLock<P::Vertex>],
    schedule: &'r Schedule<P::Message>,
    routes: &'r Routes,
    outbox: &'r Outbox,
    consistency: Consistency,
    batch_bytes: usize,
    wake: Sender<()>,
    done: AtomicBool,
    stop: AtomicBool,
    updates: AtomicU64,
}

impl<'a, P: VertexProgram> AsyncEngine<'a, P> {
    /// Initialises vertex data (`P::init`), fills ghosts and schedules the first vertices
    /// (every owned vertex under `Activation::All`, else those `init` signalled).
    /// Collective.
    pub fn new(
        program: &'a P,
        graph: &'a mut LocalGraph<P::Edge>,
        comm: &'a dyn Comm,
        config: AsyncConfig,
    ) -> Result<Self> {
        if comm.size() > 1 && config.consistency != Consistency::Vertex {
            return Err(EngineError::Config(format!(
                "{} consistency across {} ranks needs the chromatic schedule (the launcher \
                 chooses it); the asynchronous engine gives it on one rank",
                config.consistency,
                comm.size()
            )));
        }
        let topo = &graph.topo;
        let n_owned = topo.num_owned();
        let ops = program.aggregators();
        let no_aggregates = vec![f64::NAN; ops.len()];
        let facts = ContextFacts {
            iteration: 0,
            rank: comm.rank(),
            num_ranks: comm.size(),
            num_vertices: topo.num_global_vertices(),
            aggregates: &no_aggregates,
            ops: &ops,
            tables: None,
        };
        let mut ctx = Context::new(facts);
        let mut values: Vec<P::Vertex> = (0..n_owned)
            .map(|v| program.init(&VertexRef::new(v as LocalId, topo, &()), &mut ctx))
            .collect();
        let mut ghosts: Vec<Option<P::Vertex>> = (0..topo.num_ghosts()).map(|_| None).collect();
        exchange_ghosts::<P>(comm, topo, &values, None, |g, value| {
            ghosts[g] = Some(value)
        })?;
        values.extend(
            ghosts
                .into_iter()
                .map(|g| g.expect("every ghost has one owner")),
        );
        let mut init_aggregates = ctx.partial.clone();
        for (slot, &op) in ops.iter().enumerate() {
            comm.all_reduce_f64(&mut init_aggregates[slot..slot + 1], op)?;
        }

        let schedule = Schedule::new(n_owned, config.scheduler, |v| topo.out_csr.degree(v));
        let routes = Routes::new(topo);
        let outbox = Outbox::new(comm.size());
        if program.activation() == Activation::All {
            schedule.schedule_all_bare(program, n_owned);
        }
        let (owned, remote): (Vec<_>, Vec<_>) = ctx
            .signals
            .drain(..)
            .partition(|&(u, _)| (u as usize) < n_owned);
        schedule.signal_all(program, owned.into_iter());
        for (u, msg) in remote {
            let (peer, slot) = routes.owner(u, n_owned);
            outbox.push(peer, SIGNAL, slot, &msg);
        }
        Ok(AsyncEngine {
            program,
            comm,
            config,
            ops,
            init_aggregates,
            data: values.into_iter().map(RwLock::new).collect(),
            schedule,
            routes,
            outbox,
            metrics: AsyncMetrics::default(),
            graph,
        })
    }

    /// Runs until no vertex is scheduled or running on any rank and nothing is in flight,
    /// or a vertex votes to stop. Collective.
    pub fn run(&mut self) -> Result<AsyncMetrics> {
        let started = Instant::now();
        let workers = match self.config.workers {
            0 => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                (cores / self.comm.ranks_in_process().max(1)).max(1)
            }
            n => n,
        };
        let edges: Vec<Mutex<P::Edge>> = if std::mem::size_of::<P::Edge>() == 0 {
            Vec::new()
        } else {
            std::mem::take(&mut self.graph.edge_data)
                .into_iter()
                .map(Mutex::new)
                .collect()
        };
        let locals = self.schedule.workers(workers);
        let (wake, woken) = bounded(1);
        let shared = Shared {
            program: self.program,
            topo: &self.graph.topo,
            in_edge_ids: &self.graph.topo.in_edge_ids,
            edges: &edges,
            data: &self.data,
            schedule: &self.schedule,
            routes: &self.routes,
            outbox: &self.outbox,
            consistency: self.config.consistency,
            batch_bytes: self.config.batch_bytes,
            wake,
            done: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            updates: AtomicU64::new(0),
        };
        let facts = ContextFacts {
            iteration: 0,
            rank: self.comm.rank(),
            num_ranks: self.comm.size(),
            num_vertices: self.graph.topo.num_global_vertices(),
            aggregates: &self.init_aggregates,
            ops: &self.ops,
            tables: None,
        };
        let mut metrics = AsyncMetrics {
            workers,
            ..AsyncMetrics::default()
        };
        let outcome = std::thread::scope(|s| {
            let shared = &shared;
            let handles: Vec<_> = locals
                .into_iter()
                .map(|local| s.spawn(move || shared.work(facts, local)))
                .collect();
            let exchanged = shared.exchange(self.comm, &woken, &self.config, &mut metrics);
            // Whatever happened, release the workers before joining them.
            shared.done.store(true, Ordering::Release);
            let mut partial: Vec<f64> = self.ops.iter().map(|&op| identity(op)).collect();
            for h in handles {
                let (worker_partial, idle) = h.join().expect("a worker panicked");
                metrics.idle_seconds += idle;
                for ((acc, x), &op) in partial.iter_mut().zip(worker_partial).zip(&self.ops) {
                    fold(op, acc, x);
                }
            }
            exchanged.map(|reason| (reason, partial))
        });
        metrics.updates = shared.updates.load(Ordering::Relaxed);
        drop(shared);
        if std::mem::size_of::<P::Edge>() != 0 {
            self.graph.edge_data = edges
                .into_iter()
                .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
                .collect();
        }
        let (reason, mut partial) = outcome?;
        for (slot, &op) in self.ops.iter().enumerate() {
            self.comm.all_reduce_f64(&mut partial[slot..slot + 1], op)?;
        }
        metrics.seconds = started.elapsed().as_secs_f64();
        metrics.updates_per_second = metrics.updates as f64 / metrics.seconds.max(1e-9);
        metrics.aggregates = partial;
        metrics.stopped_because = Some(reason);
        self.metrics = metrics;
        Ok(self.metrics.clone())
    }

    /// The figures of the last run.
    pub fn metrics(&self) -> &AsyncMetrics {
        &self.metrics
    }

    /// The topology this engine runs on.
    pub fn topology(&self) -> &Topology {
        &self.graph.topo
    }

    /// Calls `f` for every owned vertex with its current data, in local-id order.
    pub fn for_each_owned(&self, mut f: impl FnMut(&VertexRef<'_, P::Vertex>)) {
        let topo = &self.graph.topo;
        for v in 0..topo.num_owned() {
            let data = read(&self.data[v]);
            f(&VertexRef::new(v as LocalId, topo, &data));
        }
    }
}

impl<P: VertexProgram> Shared<'_, P> {
    /// A worker: runs claimed vertices until the run is done. Returns its aggregator
    /// partials and its idle seconds.
    fn work(&self, facts: ContextFacts<'_>, local: Local) -> (Vec<f64>, f64) {
        let mut ctx = Context::new(facts);
        let mut idle = Duration::ZERO;
        let mut neighbours = Vec::new();
        // Runs not yet added to the shared count (one atomic add per batch, not per run).
        let mut uncounted = 0;
        while !self.done.load(Ordering::Acquire) {
            match self.schedule.next(&local) {
                Some((v, msg)) => {
                    ctx.message = msg;
                    self.run_vertex(v, &mut ctx, &mut neighbours);
                    let unused = self.hand_on(&mut ctx, &local);
                    self.schedule.finish(self.program, &local, v);
                    // The run's own count and its signals' unused reservations.
                    self.schedule.release(1 + unused);
                    uncounted += 1;
                    if uncounted == UPDATES_BATCH {
                        self.updates.fetch_add(uncounted, Ordering::Relaxed);
                        uncounted = 0;
                    }
                }
                None => {
                    let t = Instant::now();
                    std::thread::sleep(Duration::from_micros(50));
                    idle += t.elapsed();
                }
            }
        }
        self.updates.fetch_add(uncounted, Ordering::Relaxed);
        (ctx.partial, idle.as_secs_f64())
    }

    /// Passes a run's signals on (to the scheduler, or the owner's outbox) and its stop
    /// vote. Reserves a pending count for every signal before queueing the first; returns
    /// how many were not used (see `scheduler`).
    fn hand_on(&self, ctx: &mut Context<'_, P::Message>, local: &Local) -> usize {
        let n_owned = self.topo.num_owned();
        let mut waiting = 0;
        let mut unused = ctx.signals.len();
        self.schedule.reserve(unused);
        let mut signals = ctx.signals.drain(..);
        loop {
            // The slots of signalled vertices are random loads too (see `prefetch_out`).
            if let Some(&(ahead, _)) = signals.as_slice().get(AHEAD) {
                self.schedule.prefetch(ahead);
            }
            let Some((u, msg)) = signals.next() else {
                break;
            };
            if (u as usize) < n_owned {
                unused -= usize::from(self.schedule.signal(self.program, local, u, msg));
            } else {
                let (peer, slot) = self.routes.owner(u, n_owned);
                waiting = self.outbox.push(peer, SIGNAL, slot, &msg);
            }
        }
        drop(signals);
        if ctx.stop {
            ctx.stop = false;
            self.stop.store(true, Ordering::Release);
            let _ = self.wake.try_send(());
        }
        if waiting >= self.batch_bytes {
            let _ = self.wake.try_send(());
        }
        unused
    }

    /// Gather, apply and scatter of owned vertex `v` under the consistency model.
    fn run_vertex(
        &self,
        v: LocalId,
        ctx: &mut Context<'_, P::Message>,
        neighbours: &mut Vec<LocalId>,
    ) {
        let topo = self.topo;
        if self.consistency == Consistency::Vertex {
            let total = {
                let own = read(&self.data[v as usize]);
                let vref = VertexRef::new(v, topo, &*own);
                self.gather(&vref, |u| {
                    if u == v {
                        Held::Ref(&*own)
                    } else {
                        Held::Guard(read(&self.data[u as usize]))
                    }
                })
            };
            {
                let mut own = write(&self.data[v as usize]);
                self.apply(v, &mut own, total, ctx);
            }
            let own = read(&self.data[v as usize]);
            let vref = VertexRef::new(v, topo, &*own);
            self.scatter(&vref, ctx, |u| {
                if u == v {
                    Held::Ref(&*own)
                } else {
                    Held::Guard(read(&self.data[u as usize]))
                }
            });
        } else {
            neighbours.clear();
            neighbours.extend_from_slice(topo.in_csr.row(v));
            neighbours.extend_from_slice(topo.out_csr.row(v));
            let mut scope = Scope::lock(self.data, v, neighbours.iter().copied(), self.consistency);
            let total = {
                let vref = VertexRef::new(v, topo, scope.get(v));
                self.gather(&vref, |u| Held::Ref(scope.get(u)))
            };
            self.apply(v, scope.get_mut(v), total, ctx);
            let vref = VertexRef::new(v, topo, scope.get(v));
            self.scatter(&vref, ctx, |u| Held::Ref(scope.get(u)));
        }
    }

    fn gather<'d>(
        &self,
        vref: &VertexRef<'_, P::Vertex>,
        data_of: impl Fn(LocalId) -> Held<'d, P::Vertex>,
    ) -> Option<P::Gather>
    where
        P::Vertex: 'd,
    {
        let (program, topo, v) = (self.program, self.topo, vref.local());
        let dir = program.gather_edges(vref);
        let mut acc: Option<P::Gather> = None;
        let mut visit = |u: LocalId, edge: usize| {
            let other = data_of(u);
            match &mut acc {
                Some(total) => {
                    self.with_edge(edge, |e| program.gather_into(total, vref, e, &other))
                }
                None => acc = Some(self.with_edge(edge, |e| program.gather(vref, e, &other))),
            }
        };
        if dir.has_in() {
            for k in topo.in_csr.range(v) {
                self.prefetch_in(k + AHEAD);
                visit(topo.in_csr.neighbors[k], self.in_edge(k));
            }
        }
        if dir.has_out() {
            for k in topo.out_csr.range(v) {
                self.prefetch_out(k + AHEAD);
                visit(topo.out_csr.neighbors[k], k);
            }
        }
        acc
    }

    /// Apply, then the ghost updates its change calls for.
    fn apply(
        &self,
        v: LocalId,
        data: &mut P::Vertex,
        total: Option<P::Gather>,
        ctx: &mut Context<'_, P::Message>,
    ) {
        let holders = self.routes.holders(v);
        let before = (!holders.is_empty()).then(|| {
            let mut b = Vec::new();
            data.encode(&mut b);
            b
        });
        let mut vm = VertexMut::new(v, self.topo, data);
        self.program.apply(&mut vm, total, ctx);
        ctx.message = None;
        if let Some(before) = before {
            let mut after = Vec::with_capacity(before.len());
            data.encode(&mut after);
            if after != before {
                let mut waiting = 0;
                for &(peer, slot) in holders {
                    waiting = self.outbox.push_encoded_ghost(peer, slot, &after);
                }
                if waiting >= self.batch_bytes {
                    let _ = self.wake.try_send(());
                }
            }
        }
    }

    fn scatter<'d>(
        &self,
        vref: &VertexRef<'_, P::Vertex>,
        ctx: &mut Context<'_, P::Message>,
        data_of: impl Fn(LocalId) -> Held<'d, P::Vertex>,
    ) where
        P::Vertex: 'd,
    {
        let (program, topo, v) = (self.program, self.topo, vref.local());
        let dir = program.scatter_edges(vref);
        let visit = |u: LocalId, edge: usize, ctx: &mut Context<'_, P::Message>| {
            let other = data_of(u);
            let neighbour = Neighbor {
                local: u,
                topo,
                data: &*other,
            };
            self.with_edge_mut(edge, |e| program.scatter(vref, e, &neighbour, ctx));
        };
        if dir.has_out() {
            for k in topo.out_csr.range(v) {
                self.prefetch_out(k + AHEAD);
                visit(topo.out_csr.neighbors[k], k, ctx);
            }
        }
        if dir.has_in() {
            for k in topo.in_csr.range(v) {
                self.prefetch_in(k + AHEAD);
                visit(topo.in_csr.neighbors[k], self.in_edge(k), ctx);
            }
        }
    }

    /// Asks the CPU to start loading what the visit of the `k`-th out-CSR entry touches:
    /// the neighbour's lock and data, and the edge's. The loads go through the neighbour
    /// list, which the hardware prefetcher cannot follow, and each visit takes a lock (a
    /// locked instruction, which waits for earlier loads), so without this every visit
    /// waits out one cache miss alone; `AHEAD` visits ahead, the misses overlap.
    #[inline(always)]
    fn prefetch_out(&self, k: usize) {
        if let Some(&u) = self.topo.out_csr.neighbors.get(k) {
            prefetch::read_value(self.data.as_ptr().wrapping_add(u as usize));
            if std::mem::size_of::<P::Edge>() != 0 {
                prefetch::read_value(self.edges.as_ptr().wrapping_add(k));
            }
        }
    }

    /// As [`Self::prefetch_out`], for the `k`-th in-CSR entry.
    #[inline(always)]
    fn prefetch_in(&self, k: usize) {
        if let Some(&u) = self.topo.in_csr.neighbors.get(k) {
            prefetch::read_value(self.data.as_ptr().wrapping_add(u as usize));
            if std::mem::size_of::<P::Edge>() != 0
                && let Some(&edge) = self.in_edge_ids.get(k)
            {
                prefetch::read_value(self.edges.as_ptr().wrapping_add(edge));
            }
        }
    }

    /// The edge id of the `k`-th in-CSR entry.
    fn in_edge(&self, k: usize) -> usize {
        if std::mem::size_of::<P::Edge>() == 0 {
            0
        } else {
            self.in_edge_ids[k]
        }
    }

    fn with_edge<R>(&self, edge: usize, f: impl FnOnce(&P::Edge) -> R) -> R {
        if std::mem::size_of::<P::Edge>() == 0 {
            f(zst_ref())
        } else {
            f(&lock(&self.edges[edge]))
        }
    }

    fn with_edge_mut<R>(&self, edge: usize, f: impl FnOnce(&mut P::Edge) -> R) -> R {
        if std::mem::size_of::<P::Edge>() == 0 {
            f(zst_mut())
        } else {
            f(&mut lock(&self.edges[edge]))
        }
    }
}

/// Data a run reads: a reference into its scope, or a read guard taken for one read.
enum Held<'d, V> {
    Ref(&'d V),
    Guard(std::sync::RwLockReadGuard<'d, V>),
}

impl<V> std::ops::Deref for Held<'_, V> {
    type Target = V;
    fn deref(&self) -> &V {
        match self {
            Held::Ref(r) => r,
            Held::Guard(g) => g,
        }
    }
}

impl Wire for AsyncMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        (
            self.updates,
            self.updates_per_second,
            self.workers,
            self.rounds,
        )
            .encode(out);
        (self.ghost_updates_sent, self.remote_signals_sent).encode(out);
        (self.bytes_sent, self.messages_sent).encode(out);
        (self.idle_seconds, self.seconds).encode(out);
        self.aggregates.encode(out);
        let reason = match self.stopped_because {
            None => 0u8,
            Some(StopReason::NoActiveVertices) => 1,
            Some(StopReason::ProgramStopped) => 2,
            Some(StopReason::IterationLimit) => 3,
        };
        reason.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (updates, updates_per_second, workers, rounds) =
            <(u64, f64, usize, u64)>::decode(input);
        let (ghost_updates_sent, remote_signals_sent) = <(u64, u64)>::decode(input);
        let (bytes_sent, messages_sent) = <(u64, u64)>::decode(input);
        let (idle_seconds, seconds) = <(f64, f64)>::decode(input);
        let aggregates = Vec::decode(input);
        let stopped_because = match u8::decode(input) {
            1 => Some(StopReason::NoActiveVertices),
            2 => Some(StopReason::ProgramStopped),
            3 => Some(StopReason::IterationLimit),
            _ => None,
        };
        AsyncMetrics {
            updates,
            updates_per_second,
            workers,
            rounds,
            ghost_updates_sent,
            remote_signals_sent,
            bytes_sent,
            messages_sent,
            idle_seconds,
            seconds,
            aggregates,
            stopped_because,
        }
    }
}
