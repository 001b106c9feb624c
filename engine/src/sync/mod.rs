//! The synchronous (BSP) engine.
//!
//! One superstep on every rank:
//! 1. **gather** over the active owned vertices (reads owned and ghost data), in parallel
//!    chunks of `CHUNK` vertices, into a per-vertex buffer;
//! 2. **apply** with the gathered totals and the messages that activated each vertex;
//! 3. **ghost update**: the new data of active owned vertices goes to the ranks that hold
//!    them as ghosts, along the mirror plans: payloads only, preceded by an activity
//!    bitmask over the plan unless every vertex is active;
//! 4. **scatter** over out-edges, then in-edges (edge data may be written; signals are
//!    combined per target; a signal to a ghost goes to its owner as (mirror slot, message);
//!    changed cut edges go to the peer copy, see `edges`), or, for a program that signals
//!    through `signal_along`, a **push** or a **pull** chosen for the superstep (see
//!    `direction`);
//! 5. one all-gather reduces active counts, the signalled vertices' edges (which choose
//!    the next direction), stop votes and aggregators in rank order, so every rank takes
//!    the same decisions.
//!
//! Two phases over the same chunks (gather into a buffer, then apply) keep the reads of
//! neighbours' data and the writes of a vertex's own data apart without locks: apply gets
//! `&mut` to disjoint chunks of the data vector. Signals are buffered per task and
//! delivered per target in task order (in parallel over blocks of targets, see
//! `signals`), so results do not depend on the number of threads.

mod checkpoint;
mod direction;
mod edges;
mod frontier;
mod metrics;
mod signals;

pub use direction::{Direction, DirectionRule};
pub(crate) use frontier::{AtomicBitset, Bitset, Frontier, FrontierKind};
pub use metrics::{RunSummary, StopReason, SuperstepMetrics};

use std::time::Instant;

use rayon::prelude::*;

use self::edges::{CutEdgeTracker, EdgePlans, EdgeSlots};
use self::signals::SignalSink;
use crate::checkpoint::Checkpointing;
use crate::comm::{Comm, ReduceOp};
use crate::error::Result;
use crate::graph::{LocalGraph, Topology, zst_mut, zst_slice_mut};
use crate::ids::LocalId;
use crate::param::TableClient;
use crate::program::{
    Activation, Context, ContextFacts, Control, EdgeDir, Neighbor, OutEdges, SuperstepInfo,
    VertexMut, VertexProgram, VertexRef, fold, identity,
};
use crate::wire::Wire;

/// Vertices per parallel task.
pub(crate) const CHUNK: usize = crate::program::DEFAULT_SCATTER_CHUNK;

/// Default iteration limit of [`SyncConfig`].
pub const DEFAULT_MAX_ITERATIONS: usize = 10_000;

/// Settings of the synchronous engine.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Stop after this many supersteps.
    pub max_iterations: usize,
    /// Log each superstep at `info` level on rank 0.
    pub log_progress: bool,
    /// Checkpoints to write, and one to resume from (default: none).
    pub checkpoint: Checkpointing,
    /// How signals through `signal_along` choose push or pull (default: by frontier size).
    pub direction: DirectionRule,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            max_iterations: DEFAULT_MAX_ITERATIONS,
            log_progress: true,
            checkpoint: Checkpointing::default(),
            direction: DirectionRule::Auto,
        }
    }
}

/// What a chunk of work produced besides data: aggregator partials, signals, stop votes
/// and changed cut edges.
struct ChunkOut<M> {
    partial: Vec<f64>,
    signals: Vec<(LocalId, M)>,
    /// Owned vertices activated without a message.
    activations: Vec<LocalId>,
    stop: bool,
    dirty_edges: Vec<usize>,
}

impl<M> ChunkOut<M> {
    fn new(ctx: Context<'_, M>, dirty_edges: Vec<usize>) -> Self {
        ChunkOut {
            partial: ctx.partial,
            signals: ctx.signals,
            activations: ctx.activations,
            stop: ctx.stop,
            dirty_edges,
        }
    }
    fn signals_only(signals: Vec<(LocalId, M)>) -> Self {
        ChunkOut {
            partial: Vec::new(),
            signals,
            activations: Vec::new(),
            stop: false,
            dirty_edges: Vec::new(),
        }
    }
}

/// The synchronous engine running `P` on one rank's graph.
pub struct SyncEngine<'a, P: VertexProgram> {
    program: &'a P,
    comm: &'a dyn Comm,
    graph: &'a mut LocalGraph<P::Edge>,
    config: SyncConfig,
    ops: Vec<ReduceOp>,
    data: Vec<P::Vertex>,
    spare: Vec<P::Vertex>,
    inbox: Vec<Option<P::Message>>,
    frontier: Frontier,
    sink: SignalSink<P::Message>,
    /// Edges along which the program signals through `signal_along` (`None`: it scatters
    /// itself), the direction of the next superstep's signals, and the graph's edges
    /// along them over all ranks.
    signal_dir: EdgeDir,
    direction: Direction,
    total_edges: u64,
    /// Pull only: which local vertices (owned and ghosts) ran in this superstep.
    active_local: Bitset,
    /// Push only: targets closed by a message in this superstep (all clear in between).
    closed: AtomicBitset,
    aggregates: Vec<f64>,
    iteration: usize,
    edge_plans: Option<EdgePlans>,
    metrics: Vec<SuperstepMetrics>,
    stopped: Option<StopReason>,
    started: Instant,
    tables: Option<&'a TableClient>,
}

impl<'a, P: VertexProgram> SyncEngine<'a, P> {
    /// Initialises vertex data (`P::init`), fills ghosts and computes the first frontier.
    /// Collective.
    pub fn new(
        program: &'a P,
        graph: &'a mut LocalGraph<P::Edge>,
        comm: &'a dyn Comm,
        config: SyncConfig,
    ) -> Result<Self> {
        let topo = &graph.topo;
        let (n_owned, n_ghosts) = (topo.num_owned(), topo.num_ghosts());
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
        let started = Instant::now();
        type InitChunk<V, M> = (Vec<V>, ChunkOut<M>);
        let chunks: Vec<InitChunk<P::Vertex, P::Message>> = (0..n_owned.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut ctx = Context::new(facts);
                let vals = chunk_range(c, n_owned)
                    .map(|v| program.init(&VertexRef::new(v as LocalId, topo, &()), &mut ctx))
                    .collect();
                (vals, ChunkOut::new(ctx, Vec::new()))
            })
            .collect();
        let mut data = Vec::with_capacity(topo.num_local());
        let mut outs = Vec::with_capacity(chunks.len());
        for (vals, out) in chunks {
            data.extend(vals);
            outs.push(out);
        }
        let mut ghosts: Vec<Option<P::Vertex>> = (0..n_ghosts).map(|_| None).collect();
        exchange_ghosts::<P>(comm, topo, &data, None, |g, value| ghosts[g] = Some(value))?;
        data.extend(
            ghosts
                .into_iter()
                .map(|g| g.expect("every ghost has exactly one owner")),
        );
        // Gathers read neighbours without bounds checks (see `neighbour`).
        assert_eq!(data.len(), topo.num_local(), "one value per local vertex");

        let spare = data.clone();
        let signal_dir = match program.activation() {
            Activation::Signalled => program.signal_edges(),
            Activation::All => EdgeDir::None,
        };
        let mut total_edges = [topo.in_csr.num_entries() as u64];
        if signal_dir != EdgeDir::None {
            comm.all_reduce_u64(&mut total_edges, ReduceOp::Sum)?;
        }
        let mut engine = SyncEngine {
            program,
            comm,
            config,
            ops,
            data,
            spare,
            inbox: (0..n_owned).map(|_| None).collect(),
            frontier: Frontier::all(n_owned),
            sink: SignalSink::new(n_owned, n_ghosts),
            signal_dir,
            direction: Direction::Push,
            total_edges: total_edges[0] * if signal_dir == EdgeDir::All { 2 } else { 1 },
            active_local: Bitset::new(0),
            closed: AtomicBitset::new(if signal_dir == EdgeDir::None {
                0
            } else {
                topo.num_local()
            }),
            aggregates: no_aggregates,
            iteration: 0,
            edge_plans: None,
            metrics: Vec::new(),
            stopped: None,
            started,
            tables: None,
            graph,
        };
        let reduced = engine.finish_superstep(outs, n_owned as u64)?;
        engine.aggregates = reduced.aggregates;
        if engine.program.activation() == Activation::Signalled && reduced.signalled == 0 {
            engine.stopped = Some(StopReason::NoActiveVertices);
        }
        if engine.config.max_iterations == 0 {
            engine.stopped = Some(StopReason::IterationLimit);
        }
        if let Some(root) = engine.config.checkpoint.resume.clone() {
            engine.restore_checkpoint(&root)?;
        }
        Ok(engine)
    }

    /// Gives the program the parameter tables of a session ([`crate::param::run`]): its
    /// [`Context::tables`] returns them, and every superstep ends a clock. Run the engine
    /// on the session's [`TableComm`](crate::param::TableComm) so that its collectives
    /// and the tables' rounds share the rank's `Comm`.
    pub fn use_tables(&mut self, tables: &'a TableClient) {
        self.tables = Some(tables);
    }

    /// Runs supersteps until the program stops, nothing is active, or the iteration limit.
    pub fn run(&mut self) -> Result<RunSummary> {
        self.started = Instant::now();
        while self.stopped.is_none() {
            self.step()?;
        }
        Ok(self.summary())
    }

    /// Runs one superstep (collective). Returns why the run ended once it has.
    pub fn step(&mut self) -> Result<Option<StopReason>> {
        if self.stopped.is_some() {
            return Ok(self.stopped);
        }
        let t_compute = Instant::now();
        let stats_before = self.comm.stats();
        let n_owned = self.graph.topo.num_owned();
        let facts = ContextFacts {
            iteration: self.iteration,
            rank: self.comm.rank(),
            num_ranks: self.comm.size(),
            num_vertices: self.graph.topo.num_global_vertices(),
            aggregates: &self.aggregates,
            ops: &self.ops,
            tables: self.tables,
        };
        let program = self.program;
        let mut outs = gather_apply_phase(
            program,
            self.graph,
            &self.data,
            &mut self.spare[..n_owned],
            &mut self.inbox,
            &self.frontier,
            facts,
        );
        let graph: &mut LocalGraph<P::Edge> = self.graph;
        let LocalGraph { topo, edge_data } = graph;
        let topo: &Topology = topo;

        // Install the new values: swap whole buffers when every vertex changed (ghosts are
        // all rewritten by the ghost update), else swap the active vertices one by one.
        if self.frontier.kind() == FrontierKind::All {
            std::mem::swap(&mut self.data, &mut self.spare);
        } else {
            let (data, spare) = (&mut self.data, &mut self.spare);
            self.frontier.for_each_in(0, n_owned, |v| {
                std::mem::swap(&mut data[v as usize], &mut spare[v as usize]);
            });
        }
        let mut compute = t_compute.elapsed().as_secs_f64();

        let t_comm = Instant::now();
        let pulling = self.signal_dir != EdgeDir::None && self.direction == Direction::Pull;
        if pulling {
            if self.active_local.words_mut().len() != topo.num_local().div_ceil(64) {
                self.active_local = Bitset::new(topo.num_local());
            }
            self.active_local.clear_all();
            self.frontier.mark(&mut self.active_local);
        }
        let (owned, ghosts) = self.data.split_at_mut(n_owned);
        let active_local = &mut self.active_local;
        let ghost_updates =
            exchange_ghosts::<P>(self.comm, topo, owned, Some(&self.frontier), |g, value| {
                ghosts[g] = value;
                if pulling {
                    active_local.insert(n_owned + g);
                }
            })?;
        let mut comm_secs = t_comm.elapsed().as_secs_f64();

        let t_scatter = Instant::now();
        let track_cut_edges = std::mem::size_of::<P::Edge>() != 0 && topo.num_ranks() > 1;
        if track_cut_edges && self.edge_plans.is_none() {
            self.edge_plans = Some(EdgePlans::build(topo, edge_data.len())?);
        }
        let mut edges_touched = 0;
        let direction_name = if self.signal_dir == EdgeDir::None {
            outs.extend(scatter_phase(
                program,
                topo,
                edge_data,
                &self.data,
                &self.frontier,
                facts,
                track_cut_edges,
            ));
            "scatter"
        } else if pulling {
            let everyone = self.frontier.kind() == FrontierKind::All;
            edges_touched = direction::pull(
                program,
                self.graph,
                &self.data,
                (!everyone).then_some(&self.active_local),
                self.signal_dir,
                &mut self.sink,
            );
            "pull"
        } else {
            let (lists, edges) = direction::push(
                program,
                self.graph,
                &self.data,
                &self.frontier,
                self.signal_dir,
                &self.closed,
            );
            edges_touched = edges;
            outs.extend(lists.into_iter().map(ChunkOut::signals_only));
            "push"
        };
        compute += t_scatter.elapsed().as_secs_f64();

        let t_finish = Instant::now();
        let active = self.frontier.count() as u64;
        let reduced = self.finish_superstep(outs, active)?;
        comm_secs += t_finish.elapsed().as_secs_f64();

        let stats_after = self.comm.stats();
        self.metrics.push(SuperstepMetrics {
            iteration: self.iteration,
            active: active as usize,
            frontier: match reduced.kind_was {
                FrontierKind::All => "all",
                FrontierKind::Sparse => "sparse",
                FrontierKind::Dense => "dense",
            },
            direction: direction_name,
            edges: edges_touched,
            ghost_updates_sent: ghost_updates,
            remote_signals_sent: reduced.remote_signals,
            edge_updates_sent: reduced.edge_updates,
            bytes_sent: stats_after.bytes_sent - stats_before.bytes_sent,
            messages_sent: stats_after.messages_sent - stats_before.messages_sent,
            compute_seconds: compute,
            comm_seconds: comm_secs,
            aggregates: reduced.aggregates.clone(),
        });
        if self.config.log_progress && self.comm.rank() == 0 {
            tracing::info!(
                target: "gasket::engine",
                "superstep {:>3}: {:>10} active, {:>10} signalled, {:.3}s{}",
                self.iteration,
                reduced.active,
                reduced.signalled,
                compute + comm_secs,
                format_aggregates(&reduced.aggregates)
            );
        }

        let info = SuperstepInfo {
            iteration: self.iteration,
            aggregates: &reduced.aggregates,
            active: reduced.active,
            signalled: reduced.signalled,
        };
        let control = self.program.after_superstep(&info);
        self.aggregates = reduced.aggregates;
        self.iteration += 1;
        if let Some(tables) = self.tables {
            tables.clock()?;
        }
        self.stopped = if reduced.stop || control == Control::Stop {
            Some(StopReason::ProgramStopped)
        } else if self.program.activation() == Activation::Signalled && reduced.signalled == 0 {
            Some(StopReason::NoActiveVertices)
        } else if self.iteration >= self.config.max_iterations {
            Some(StopReason::IterationLimit)
        } else {
            None
        };
        if self.stopped.is_none() && self.config.checkpoint.due(self.iteration) {
            self.write_checkpoint()?;
        }
        Ok(self.stopped)
    }

    /// Merges signals, exchanges remote signals and cut-edge updates, reduces the global
    /// facts and installs the next frontier.
    fn finish_superstep(
        &mut self,
        outs: Vec<ChunkOut<P::Message>>,
        active: u64,
    ) -> Result<Reduced> {
        let topo = &self.graph.topo;
        let n_owned = topo.num_owned();
        let n_ranks = self.comm.size();
        let signalled_mode = self.program.activation() == Activation::Signalled;
        let mut partial: Vec<f64> = self.ops.iter().map(|&op| identity(op)).collect();
        let mut stop = false;
        let mut dirty_edges: Vec<usize> = Vec::new();
        let mut signal_lists = Vec::with_capacity(outs.len());
        let mut activations = Vec::new();
        for out in outs {
            for (slot, x) in out.partial.into_iter().enumerate() {
                fold(self.ops[slot], &mut partial[slot], x);
            }
            stop |= out.stop;
            dirty_edges.extend(out.dirty_edges);
            if signalled_mode {
                signal_lists.push(out.signals);
                activations.extend(out.activations);
            }
        }
        self.sink.deliver_all(self.program, n_owned, signal_lists);

        // Remote signals and cut-edge updates, one buffer per peer.
        let mut remote_signals = 0u64;
        let mut edge_updates = 0u64;
        if n_ranks > 1 && (signalled_mode || self.edge_plans.is_some()) {
            let mut send: Vec<Vec<u8>> = vec![Vec::new(); n_ranks];
            let mut per_peer: Vec<Vec<(u32, P::Message)>> =
                (0..n_ranks).map(|_| Vec::new()).collect();
            for g in std::mem::take(&mut self.sink.ghost_list) {
                let msg = self.sink.ghost_msgs[g as usize - n_owned]
                    .take()
                    .expect("listed");
                per_peer[topo.owner_of(g)].push((topo.ghost_slot(g), msg));
            }
            for (peer, list) in per_peer.into_iter().enumerate() {
                remote_signals += list.len() as u64;
                (list.len() as u64).encode(&mut send[peer]);
                for (slot, msg) in list {
                    slot.encode(&mut send[peer]);
                    msg.encode(&mut send[peer]);
                }
            }
            // The cut edges this rank changed (by index among the cut edges).
            let mut mine = Vec::new();
            if let Some(plans) = &self.edge_plans {
                mine = vec![0u64; plans.num_cut().div_ceil(64)];
                for &id in &dirty_edges {
                    let (i, cut) = plans.cut(id);
                    mine[i / 64] |= 1 << (i % 64);
                    (cut.position as u64).encode(&mut send[cut.peer]);
                    self.graph.edge_data[id].encode(&mut send[cut.peer]);
                    edge_updates += 1;
                }
            }
            let recv = self.comm.all_to_all_v(send)?;
            for (peer, buf) in recv.into_iter().enumerate() {
                if peer == self.comm.rank() {
                    continue;
                }
                let mut input = buf.as_slice();
                let count = u64::decode(&mut input);
                for _ in 0..count {
                    let slot = u32::decode(&mut input);
                    let msg = P::Message::decode(&mut input);
                    let v = topo.mirrors(peer)[slot as usize];
                    self.sink.deliver(self.program, n_owned, v, msg);
                }
                while !input.is_empty() {
                    let plans = self.edge_plans.as_ref().expect("edge updates need plans");
                    let pos = u64::decode(&mut input) as usize;
                    let value = P::Edge::decode(&mut input);
                    let (id, i, cut) = plans.in_plan(peer, pos);
                    let changed_here = mine[i / 64] >> (i % 64) & 1 != 0;
                    if !(cut.source_owned && changed_here) {
                        self.graph.edge_data[id] = value;
                    }
                }
            }
        }

        // Activations without a message, after every signal (a signalled vertex is listed).
        for v in activations {
            assert!((v as usize) < n_owned, "only owned vertices are activated");
            if self.sink.bits.insert(v as usize) {
                self.sink.list.push(v);
            }
        }

        // Global facts: [active, signalled, stop] then aggregates, reduced in rank order.
        let signalled_here = if signalled_mode {
            self.sink.list.len() as u64
        } else {
            n_owned as u64
        };
        let frontier_edges = if self.signal_dir == EdgeDir::None {
            0
        } else {
            direction::edges_of(self.graph, self.signal_dir, &self.sink.list)
        };
        let mut buf = Vec::new();
        active.encode(&mut buf);
        signalled_here.encode(&mut buf);
        frontier_edges.encode(&mut buf);
        stop.encode(&mut buf);
        for x in &partial {
            x.encode(&mut buf);
        }
        let all = self.comm.all_gather(buf)?;
        let mut reduced = Reduced {
            active: 0,
            signalled: 0,
            frontier_edges: 0,
            stop: false,
            aggregates: self.ops.iter().map(|&op| identity(op)).collect(),
            remote_signals,
            edge_updates,
            kind_was: self.frontier.kind(),
        };
        for bytes in &all {
            let mut input = bytes.as_slice();
            reduced.active += u64::decode(&mut input);
            reduced.signalled += u64::decode(&mut input);
            reduced.frontier_edges += u64::decode(&mut input);
            reduced.stop |= bool::decode(&mut input);
            for (slot, op) in self.ops.iter().enumerate() {
                fold(*op, &mut reduced.aggregates[slot], f64::decode(&mut input));
            }
        }

        self.direction = self.config.direction.choose(
            reduced.signalled,
            reduced.frontier_edges,
            self.total_edges,
        );
        // Install the next frontier; recycle the old one's bitset for the signals after it.
        if signalled_mode {
            let num_owned = n_owned;
            let sink_bits = std::mem::replace(&mut self.sink.bits, Bitset::new(0));
            let list = std::mem::take(&mut self.sink.list);
            let next = Frontier::from_signals(sink_bits, list, num_owned);
            let old = std::mem::replace(&mut self.frontier, next);
            self.sink.bits = old.into_cleared_bits(num_owned);
            std::mem::swap(&mut self.inbox, &mut self.sink.inbox);
        }
        Ok(reduced)
    }

    /// Why the run ended, if it has.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped
    }
    /// Supersteps executed so far.
    pub fn iteration(&self) -> usize {
        self.iteration
    }
    /// The rank's topology.
    pub fn topology(&self) -> &Topology {
        &self.graph.topo
    }
    /// Data of owned vertices, by local id.
    pub fn owned_data(&self) -> &[P::Vertex] {
        &self.data[..self.graph.topo.num_owned()]
    }
    /// Data of all local vertices (owned, then ghosts).
    pub fn local_data(&self) -> &[P::Vertex] {
        &self.data
    }
    /// Visits every owned vertex with its data.
    pub fn for_each_owned(&self, mut f: impl FnMut(&VertexRef<'_, P::Vertex>)) {
        let topo = &self.graph.topo;
        for v in 0..topo.num_owned() {
            f(&VertexRef::new(v as LocalId, topo, &self.data[v]));
        }
    }
    /// Per-superstep figures of this rank.
    pub fn metrics(&self) -> &[SuperstepMetrics] {
        &self.metrics
    }
    /// Latest reduced aggregator values.
    pub fn aggregates(&self) -> &[f64] {
        &self.aggregates
    }
    fn summary(&self) -> RunSummary {
        RunSummary {
            iterations: self.iteration,
            stopped_because: self.stopped.unwrap_or(StopReason::IterationLimit),
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// Global facts of a superstep, identical on every rank.
struct Reduced {
    active: u64,
    signalled: u64,
    /// Edges of the signalled vertices along the program's `signal_edges`.
    frontier_edges: u64,
    stop: bool,
    aggregates: Vec<f64>,
    remote_signals: u64,
    edge_updates: u64,
    kind_was: FrontierKind,
}

fn format_aggregates(aggs: &[f64]) -> String {
    aggs.iter().map(|a| format!(", {a:.6e}")).collect()
}

/// Owned vertices of chunk `c`.
fn chunk_range(c: usize, n_owned: usize) -> std::ops::Range<usize> {
    c * CHUNK..((c + 1) * CHUNK).min(n_owned)
}

/// The value of neighbour `u`, without a bounds check: the pull loop's one random load
/// per edge, which a check (compare and branch per edge) slows by a fifth at scale 20.
#[inline(always)]
pub(super) fn neighbour<V>(data: &[V], u: LocalId) -> &V {
    debug_assert!((u as usize) < data.len());
    // SAFETY: a Topology is only made by the graph builder or `LocalGraph::from_whole`
    // (which checks it), whose CSR neighbours are local ids below `num_local()`, and the
    // engine's vertex data has exactly `num_local()` entries (`SyncEngine::new` asserts
    // it; the two buffers are only swapped).
    unsafe { data.get_unchecked(u as usize) }
}

/// How many in-edges ahead the gather prefetches edge data (reached through the in-edge
/// id array, so the hardware prefetcher cannot see it coming).
const IN_EDGE_PREFETCH: usize = 48;

#[inline]
fn gather_one<P: VertexProgram>(
    program: &P,
    graph: &LocalGraph<P::Edge>,
    data: &[P::Vertex],
    v: &VertexRef<'_, P::Vertex>,
) -> Option<P::Gather> {
    let dir = program.gather_edges(v);
    let mut acc = None;
    if dir.has_in() {
        let csr = &graph.topo.in_csr;
        let range = csr.range(v.local());
        let start = range.start;
        fold_row(program, v, data, &mut acc, &csr.neighbors[range], |i| {
            graph.prefetch_in_edge(start + i + IN_EDGE_PREFETCH);
            graph.in_edge(start + i)
        });
    }
    if dir.has_out() {
        let csr = &graph.topo.out_csr;
        let range = csr.range(v.local());
        let start = range.start;
        fold_row(program, v, data, &mut acc, &csr.neighbors[range], |i| {
            graph.out_edge(start + i)
        });
    }
    acc
}

/// Folds the edges of one row (`edge(i)` is the data of the `i`-th) into `acc`, without a
/// branch per edge.
///
/// `combine` is commutative and associative by contract, so the row is folded into two
/// interleaved accumulators (even and odd positions), each started by `gather` and
/// continued by `gather_into`, and combined at the end: two independent dependency chains
/// let the CPU overlap neighbour loads that one chain would serialise (a pull loop is bound
/// by load latency, not bandwidth).
#[inline(always)]
fn fold_row<'e, P: VertexProgram>(
    program: &P,
    v: &VertexRef<'_, P::Vertex>,
    data: &[P::Vertex],
    acc: &mut Option<P::Gather>,
    row: &[LocalId],
    edge: impl Fn(usize) -> &'e P::Edge,
) where
    P::Edge: 'e,
{
    let gather = |i: usize, u: LocalId| program.gather(v, edge(i), neighbour(data, u));
    let gather_into = |acc: &mut P::Gather, i: usize, u: LocalId| {
        program.gather_into(acc, v, edge(i), neighbour(data, u))
    };
    let even = match row {
        [] => return,
        [u] => gather(0, *u),
        [u0, u1, body @ ..] => {
            let mut even = gather(0, *u0);
            let mut odd = gather(1, *u1);
            let mut pairs = body.chunks_exact(2);
            let mut i = 2;
            for pair in &mut pairs {
                gather_into(&mut even, i, pair[0]);
                gather_into(&mut odd, i + 1, pair[1]);
                i += 2;
            }
            if let [u] = pairs.remainder() {
                gather_into(&mut even, i, *u);
            }
            program.combine(&mut even, odd);
            even
        }
    };
    match acc {
        Some(total) => program.combine(total, even),
        None => *acc = Some(even),
    }
}

/// Gather and apply, fused per vertex: gather reads `data` (last superstep's values, never
/// written in this phase), apply writes the vertex's new value into `next` (disjoint
/// chunks), starting from a copy of its old value.
fn gather_apply_phase<'f, P: VertexProgram>(
    program: &P,
    graph: &LocalGraph<P::Edge>,
    data: &[P::Vertex],
    next: &mut [P::Vertex],
    inbox: &mut [Option<P::Message>],
    frontier: &Frontier,
    facts: ContextFacts<'f>,
) -> Vec<ChunkOut<P::Message>> {
    let topo = &graph.topo;
    // Under `Activation::All` nothing is ever signalled, so there are no messages to take.
    let has_messages = program.activation() == Activation::Signalled;
    next.par_chunks_mut(CHUNK)
        .zip(inbox.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, (next, msgs))| {
            let lo = c * CHUNK;
            let mut ctx = Context::new(facts);
            frontier.for_each_in(lo, lo + next.len(), |v| {
                let i = v as usize - lo;
                let old = &data[v as usize];
                let total = gather_one(program, graph, data, &VertexRef::new(v, topo, old));
                let slot = &mut next[i];
                slot.clone_from(old);
                if has_messages {
                    ctx.message = msgs[i].take();
                }
                let mut vm = VertexMut::new(v, topo, slot);
                program.apply(&mut vm, total, &mut ctx);
            });
            ctx.message = None;
            ChunkOut::new(ctx, Vec::new())
        })
        .collect()
}

/// Sends the data of owned vertices to their ghost copies and hands each received value
/// to `place(ghost index, value)`. With `frontier`, only active vertices are sent, behind a
/// bitmask over the mirror plan (omitted when all are active); without it (at start-up),
/// everything. Returns the number of updates sent.
pub(crate) fn exchange_ghosts<P: VertexProgram>(
    comm: &dyn Comm,
    topo: &Topology,
    owned: &[P::Vertex],
    frontier: Option<&Frontier>,
    mut place: impl FnMut(usize, P::Vertex),
) -> Result<u64> {
    let n_ranks = comm.size();
    if n_ranks == 1 {
        return Ok(0);
    }
    let everything = frontier.is_none_or(|f| f.kind() == FrontierKind::All);
    let encoded: Vec<(Vec<u8>, u64)> = (0..n_ranks)
        .into_par_iter()
        .map(|peer| {
            let plan = topo.mirrors(peer);
            let mut buf = Vec::new();
            if peer == topo.rank() || plan.is_empty() {
                return (buf, 0);
            }
            if everything {
                buf.reserve(std::mem::size_of_val(plan) * 2);
                for &v in plan {
                    owned[v as usize].encode(&mut buf);
                }
                return (buf, plan.len() as u64);
            }
            let f = frontier.expect("a frontier unless everything is sent");
            let mut mask = vec![0u8; plan.len().div_ceil(8)];
            let mut payload = Vec::new();
            let mut sent = 0u64;
            for (i, &v) in plan.iter().enumerate() {
                if f.contains(v) {
                    mask[i / 8] |= 1 << (i % 8);
                    owned[v as usize].encode(&mut payload);
                    sent += 1;
                }
            }
            buf.extend_from_slice(&mask);
            buf.extend_from_slice(&payload);
            (buf, sent)
        })
        .collect();
    let sent = encoded.iter().map(|(_, s)| s).sum();
    let recv = comm.all_to_all_v(encoded.into_iter().map(|(b, _)| b).collect())?;
    let n_owned = topo.num_owned();
    for (peer, buf) in recv.iter().enumerate() {
        let list = topo.ghosts_owned_by(peer);
        if peer == topo.rank() || list.is_empty() {
            continue;
        }
        let mut input = buf.as_slice();
        if everything {
            for &g in list {
                place(g as usize - n_owned, P::Vertex::decode(&mut input));
            }
        } else {
            let (mask, mut payload) = input.split_at(list.len().div_ceil(8));
            for (i, &g) in list.iter().enumerate() {
                if mask[i / 8] >> (i % 8) & 1 != 0 {
                    place(g as usize - n_owned, P::Vertex::decode(&mut payload));
                }
            }
            input = payload;
        }
        assert!(
            input.is_empty(),
            "ghost update from rank {peer} has trailing bytes"
        );
    }
    Ok(sent)
}

/// Scatter over out-edges, then in-edges. Pass 1 also evaluates `scatter_edges` once per
/// active vertex and lists the vertices that want their in-edges for pass 2, so a program
/// without scatter costs one call per active vertex.
fn scatter_phase<'f, P: VertexProgram>(
    program: &P,
    topo: &Topology,
    edge_data: &mut [P::Edge],
    data: &[P::Vertex],
    frontier: &Frontier,
    facts: ContextFacts<'f>,
    track_cut_edges: bool,
) -> Vec<ChunkOut<P::Message>> {
    let n_owned = topo.num_owned();
    let chunk = program.scatter_chunk(n_owned).max(1);
    let n_chunks = n_owned.div_ceil(chunk);
    let range = |c: usize| c * chunk..((c + 1) * chunk).min(n_owned);
    let out_offsets = &topo.out_csr.offsets;
    let zst = std::mem::size_of::<P::Edge>() == 0;

    // Pass 1: out-edges. A chunk's out-edge data is one contiguous slice.
    let mut slices: Vec<&mut [P::Edge]> = Vec::with_capacity(n_chunks);
    {
        let num_out = if zst { 0 } else { topo.out_csr.num_entries() };
        let mut rest: &mut [P::Edge] = &mut edge_data[..num_out];
        for c in 0..n_chunks {
            let r = range(c);
            let len = if zst {
                0
            } else {
                out_offsets[r.end] - out_offsets[r.start]
            };
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            slices.push(head);
            rest = tail;
        }
    }
    let pass1: Vec<(ChunkOut<P::Message>, Vec<LocalId>)> = slices
        .into_par_iter()
        .enumerate()
        .map(|(c, slice)| {
            let r = range(c);
            let base = out_offsets[r.start];
            let mut ctx = Context::new(facts);
            let mut tracker = CutEdgeTracker::default();
            let mut wants_in = Vec::new();
            frontier.for_each_in(r.start, r.end, |v| {
                let vref = VertexRef::new(v, topo, &data[v as usize]);
                let dir = program.scatter_edges(&vref);
                if dir.has_in() {
                    wants_in.push(v);
                }
                if !dir.has_out() {
                    return;
                }
                let row = topo.out_csr.range(v);
                let targets = &topo.out_csr.neighbors[row.clone()];
                let edges = if zst {
                    zst_slice_mut(row.len())
                } else {
                    &mut slice[row.start - base..row.end - base]
                };
                let mut scatter_row = |edges: &mut [P::Edge]| {
                    let row = OutEdges {
                        edges,
                        targets,
                        topo,
                        data,
                    };
                    program.scatter_out(&vref, row, &mut ctx)
                };
                if track_cut_edges {
                    let is_cut = |i: usize| !topo.is_owned(targets[i]);
                    tracker.track_row(row.start, edges, is_cut, scatter_row);
                } else {
                    scatter_row(edges);
                }
            });
            (ChunkOut::new(ctx, tracker.dirty), wants_in)
        })
        .collect();
    let (mut outs, wants_in): (Vec<_>, Vec<_>) = pass1.into_iter().unzip();
    if wants_in.iter().all(Vec::is_empty) {
        return outs;
    }

    // Pass 2: in-edges. Edge ids are scattered, but each occurs in exactly one in-entry.
    let slots = EdgeSlots::new(edge_data);
    let in_outs: Vec<ChunkOut<P::Message>> = wants_in
        .into_par_iter()
        .map(|vertices| {
            let mut ctx = Context::new(facts);
            let mut tracker = CutEdgeTracker::default();
            for v in vertices {
                let vref = VertexRef::new(v, topo, &data[v as usize]);
                for k in topo.in_csr.range(v) {
                    let s = topo.in_csr.neighbors[k];
                    let id = if zst { 0 } else { topo.in_edge_ids[k] };
                    let edge = if zst {
                        zst_mut()
                    } else {
                        // SAFETY: edge `id` is the data of in-entry `k`, and every edge id
                        // occurs in exactly one in-entry (an edge has one target, and only
                        // owned targets have rows; `LocalGraph::from_whole` checks it).
                        // Each vertex is in one chunk's list, so no other task obtains
                        // `id`; within this task the reference ends with this loop
                        // iteration. Pass 1 finished before this pass began, and
                        // `edge_data` is not touched otherwise until `slots` is dropped.
                        unsafe { slots.get_mut(id) }
                    };
                    let track = track_cut_edges.then_some((&mut tracker, id));
                    scatter_edge(program, &vref, data, s, edge, &mut ctx, track);
                }
            }
            ChunkOut::new(ctx, tracker.dirty)
        })
        .collect();
    outs.extend(in_outs);
    outs
}

/// Runs scatter on the edge from `v` to local vertex `other`. With `track` (edge id and the
/// list of changed cut edges), a cut edge whose data the scatter changed is recorded.
#[inline(always)]
fn scatter_edge<P: VertexProgram>(
    program: &P,
    v: &VertexRef<'_, P::Vertex>,
    data: &[P::Vertex],
    other: LocalId,
    edge: &mut P::Edge,
    ctx: &mut Context<'_, P::Message>,
    track: Option<(&mut CutEdgeTracker, usize)>,
) {
    let topo = v.topology();
    let cut = track.filter(|_| !topo.is_owned(other));
    let other = &Neighbor::of(other, topo, data);
    match cut {
        None => program.scatter(v, edge, other, ctx),
        Some((tracker, id)) => tracker.track(id, edge, |edge| program.scatter(v, edge, other, ctx)),
    }
}
