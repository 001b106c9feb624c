//! The vertex program: GraphLab's Gather-Apply-Scatter contract.
//!
//! An active vertex runs three phases in a superstep:
//! - **gather** over the edges `gather_edges` names: one `Gather` value per edge (reading
//!   the neighbour's data), folded with `combine` (which must be commutative and
//!   associative: the order of edges is not specified);
//! - **apply** with the folded total (`None` when there was no edge): the only place a
//!   vertex's own data changes;
//! - **scatter** over the edges `scatter_edges` names: may update the edge and signal the
//!   neighbour (optionally with a `Message`, combined with `combine_messages` when a vertex
//!   is signalled more than once). A signalled vertex is active in the next superstep.
//!
//! Programs are generic code monomorphised into the engine: PageRank's gather compiles to
//! the same loads as a hand-written pull loop. Everything a program may touch besides its
//! arguments comes through [`Context`]: signals, the iteration, rank facts, stop votes
//! and aggregators (global reductions of `f64` values across all vertices and ranks).

use std::fmt;

use crate::comm::ReduceOp;
use crate::graph::Topology;
use crate::ids::{LocalId, Rank, VertexId};
use crate::wire::Wire;

/// Owned vertices per parallel task of the synchronous engine's phases.
pub const DEFAULT_SCATTER_CHUNK: usize = 1024;

/// Which edges of a vertex a phase visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeDir {
    /// No edges.
    #[default]
    None,
    /// In-edges (neighbour = source).
    In,
    /// Out-edges (neighbour = target).
    Out,
    /// In-edges, then out-edges.
    All,
}

impl EdgeDir {
    /// Visits in-edges.
    pub fn has_in(self) -> bool {
        matches!(self, EdgeDir::In | EdgeDir::All)
    }
    /// Visits out-edges.
    pub fn has_out(self) -> bool {
        matches!(self, EdgeDir::Out | EdgeDir::All)
    }
}

/// Which vertices run in a superstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// The vertices signalled in the previous superstep (or in `init`).
    #[default]
    Signalled,
    /// Every owned vertex, every superstep (e.g. classic PageRank); signals are ignored.
    All,
}

/// What the program decides after a superstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep going (the engine still stops when nothing is active or at the iteration limit).
    Continue,
    /// Stop now.
    Stop,
}

/// Global facts after a superstep, identical on every rank.
#[derive(Debug, Clone, Copy)]
pub struct SuperstepInfo<'a> {
    /// The superstep just finished (0-based).
    pub iteration: usize,
    /// Reduced aggregator values of that superstep, one per `aggregators()` slot.
    pub aggregates: &'a [f64],
    /// Vertices that ran in it, over all ranks.
    pub active: u64,
    /// Vertices signalled for the next superstep, over all ranks.
    pub signalled: u64,
}

/// A user-defined vertex program. See the module docs for the phases.
pub trait VertexProgram: Sync {
    /// Vertex data. Sent to ghost copies after apply, so keep it compact.
    type Vertex: Wire + Clone + Send + Sync;
    /// Edge data; `()` costs nothing.
    type Edge: Wire + Send + Sync;
    /// The gather accumulator.
    type Gather: Send;
    /// Payload of a signal; `()` when signals carry nothing.
    type Message: Wire + Send + Sync;

    /// Which vertices run in each superstep.
    fn activation(&self) -> Activation {
        Activation::Signalled
    }

    /// Initial data of an owned vertex. May signal (e.g. the source of SSSP) and contribute
    /// to aggregators; those values are visible in superstep 0.
    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, Self::Message>) -> Self::Vertex;

    /// Edges to gather over (default: none).
    fn gather_edges(&self, _v: &VertexRef<'_, Self::Vertex>) -> EdgeDir {
        EdgeDir::None
    }

    /// One edge's contribution. Called only when `gather_edges` names edges.
    fn gather(
        &self,
        _v: &VertexRef<'_, Self::Vertex>,
        _edge: &Self::Edge,
        _other: &Self::Vertex,
    ) -> Self::Gather {
        panic!(
            "{}: gather_edges names edges but gather is not implemented",
            std::any::type_name::<Self>()
        )
    }

    /// Folds `x` into `acc`; commutative and associative.
    fn combine(&self, _acc: &mut Self::Gather, _x: Self::Gather) {
        panic!(
            "{}: gather produced values but combine is not implemented",
            std::any::type_name::<Self>()
        )
    }

    /// Folds one more edge's contribution into `acc`: by default
    /// `combine(acc, gather(v, edge, other))`. Override it when adding an edge to a total
    /// costs less than making the edge's own value first (LDA adds an edge's topics to the
    /// counts gathered so far); it must have the same effect as the default.
    #[inline]
    fn gather_into(
        &self,
        acc: &mut Self::Gather,
        v: &VertexRef<'_, Self::Vertex>,
        edge: &Self::Edge,
        other: &Self::Vertex,
    ) {
        let x = self.gather(v, edge, other);
        self.combine(acc, x);
    }

    /// Updates the vertex's data from the gathered total.
    fn apply(
        &self,
        v: &mut VertexMut<'_, Self::Vertex>,
        total: Option<Self::Gather>,
        ctx: &mut Context<'_, Self::Message>,
    );

    /// Edges to scatter over (default: [`VertexProgram::signal_edges`], that is none unless
    /// the program signals through [`VertexProgram::signal_along`]).
    fn scatter_edges(&self, _v: &VertexRef<'_, Self::Vertex>) -> EdgeDir {
        self.signal_edges()
    }

    /// Visits one edge after apply: may update it and signal the neighbour. A vertex's
    /// out-edges are visited consecutively in out-edge order on one task, then (in a
    /// separate pass) its in-edges, so state may be carried across one vertex's calls in
    /// [`Context::scratch`]. Default: signals `other` with
    /// [`VertexProgram::signal_along`]'s message, if any.
    fn scatter(
        &self,
        v: &VertexRef<'_, Self::Vertex>,
        edge: &mut Self::Edge,
        other: &Neighbor<'_, Self::Vertex>,
        ctx: &mut Context<'_, Self::Message>,
    ) {
        if self.signal_edges() == EdgeDir::None {
            return;
        }
        if let Some(msg) = self.signal_along(v.data(), edge, other.data()) {
            ctx.signal_with(other.handle(), msg);
        }
    }

    // Signals as a function of an edge: push or pull, as the engine chooses.

    /// The edges along which an active vertex signals with [`VertexProgram::signal_along`]
    /// (default: none). A program whose scatter only signals neighbours, with a message
    /// that depends on nothing but the two endpoints' data and the edge (components,
    /// shortest paths, BFS), says so by naming the edges here, implementing
    /// `signal_along` and leaving `scatter_edges` and `scatter` to their defaults (which
    /// run `signal_along`). The synchronous engine then picks a direction per superstep,
    /// as Ligra's `edgeMap` does: a **push** over the active vertices' edges when their
    /// edges are few, a **pull** over every vertex's edges from active neighbours when
    /// they pass |E|/20. Both deliver the same messages, combined with
    /// [`VertexProgram::combine_messages`] (so that must not depend on order).
    fn signal_edges(&self) -> EdgeDir {
        EdgeDir::None
    }
    /// The message an active vertex holding `src` sends along an edge (`edge`) to a
    /// neighbour holding `dst`, or `None` to send nothing. `src` is the sender's data after
    /// its apply; `dst` is the receiver's data as the superstep's scatter sees it. Must be
    /// a pure function of its arguments. Called only when `signal_edges` names edges.
    fn signal_along(
        &self,
        _src: &Self::Vertex,
        _edge: &Self::Edge,
        _dst: &Self::Vertex,
    ) -> Option<Self::Message> {
        panic!(
            "{}: signal_edges names edges but signal_along is not implemented",
            std::any::type_name::<Self>()
        )
    }
    /// The pull's early exit (Ligra's `cond`): whether a vertex holding `dst`, having
    /// received `received` so far this superstep (`None` before the first message), can
    /// still take a message that would change what it receives. A pulling vertex stops
    /// reading its edges once this is false. Default: always true. BFS returns false once
    /// a vertex is reached or has a message, since every sender of a superstep offers the
    /// same hop count.
    fn wants_signal(&self, _dst: &Self::Vertex, _received: Option<&Self::Message>) -> bool {
        true
    }

    /// Visits all of `v`'s out-edges in one call, in out-edge order (default: [`scatter`]
    /// on each in turn). Override it when the work on one edge gains from seeing the whole
    /// row: prefetching the data of neighbours a few edges ahead, drawing random numbers in
    /// batches, paying per-vertex set-up once. The synchronous engine calls this for the
    /// out-edges `scatter_edges` names (in-edges still go through [`scatter`]); the
    /// asynchronous engine visits edges one at a time under their locks and calls only
    /// [`scatter`], so a program meant to run there implements that too.
    ///
    /// [`scatter`]: VertexProgram::scatter
    #[inline]
    fn scatter_out(
        &self,
        v: &VertexRef<'_, Self::Vertex>,
        mut edges: OutEdges<'_, Self::Vertex, Self::Edge>,
        ctx: &mut Context<'_, Self::Message>,
    ) {
        for (edge, other) in edges.iter_mut() {
            self.scatter(v, edge, &other, ctx);
        }
    }

    /// Owned vertices per task of the out-edge scatter pass (default
    /// [`DEFAULT_SCATTER_CHUNK`]). A task visits its vertices in local id order on one
    /// thread with one [`Context`], so a program that carries state across vertices in
    /// [`Context::scratch`] may ask for fewer, larger tasks (LDA keeps the task's changes to
    /// word counts there, and larger tasks see more of each other's changes). `owned` is the
    /// number of vertices this rank owns.
    fn scatter_chunk(&self, _owned: usize) -> usize {
        DEFAULT_SCATTER_CHUNK
    }

    /// Folds a second message for the same vertex into `acc`; commutative and associative.
    /// Only called for non-zero-sized messages.
    fn combine_messages(&self, _acc: &mut Self::Message, _msg: Self::Message) {
        panic!(
            "{}: a vertex received two messages but combine_messages is not implemented",
            std::any::type_name::<Self>()
        )
    }

    /// The priority of a pending message under the asynchronous engine's priority
    /// scheduler: larger runs first (default: all equal). `out_degree` is the receiving
    /// vertex's: a run's cost grows with it, so a program that pushes along out-edges can
    /// rank by what a run moves per edge (delta PageRank divides its residual by it).
    fn priority(&self, _msg: &Self::Message, _out_degree: usize) -> f64 {
        0.0
    }

    /// The reduction of each aggregator slot (default: no aggregators).
    fn aggregators(&self) -> Vec<ReduceOp> {
        Vec::new()
    }

    /// Called on every rank after each superstep with identical global facts.
    fn after_superstep(&self, _info: &SuperstepInfo<'_>) -> Control {
        Control::Continue
    }

    /// The program's own state across supersteps (what `after_superstep` accumulates,
    /// identical on every rank), for checkpoints. Default: none.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes back what [`VertexProgram::save_state`] returned when a run resumes from a
    /// checkpoint (before its first superstep). Default: nothing to restore.
    ///
    /// # Errors
    ///
    /// A message when `state` does not belong to this program or its settings.
    fn restore_state(&self, _state: &[u8]) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// An owned vertex's identity and degrees (what [`VertexRef`] and [`VertexMut`] deref to).
#[derive(Clone, Copy)]
pub struct OwnedVertex<'a> {
    local: LocalId,
    topo: &'a Topology,
}

impl OwnedVertex<'_> {
    /// Global id (as in the input).
    #[inline]
    pub fn id(&self) -> VertexId {
        self.topo.global_id(self.local)
    }
    /// Handle for signalling this vertex.
    #[inline]
    pub fn handle(&self) -> VertexHandle {
        VertexHandle(self.local)
    }
    /// Number of in-edges (the whole graph's: all edges of an owned vertex are local).
    #[inline]
    pub fn in_degree(&self) -> usize {
        self.topo.in_csr.degree(self.local)
    }
    /// Number of out-edges.
    #[inline]
    pub fn out_degree(&self) -> usize {
        self.topo.out_csr.degree(self.local)
    }
}

/// A local vertex as a program sees it: ids and degrees (through `Deref`) and read-only data.
pub struct VertexRef<'a, V> {
    vertex: OwnedVertex<'a>,
    data: &'a V,
}

impl<'a, V> VertexRef<'a, V> {
    pub(crate) fn new(local: LocalId, topo: &'a Topology, data: &'a V) -> Self {
        VertexRef {
            vertex: OwnedVertex { local, topo },
            data,
        }
    }
    /// The vertex's data.
    #[inline]
    pub fn data(&self) -> &'a V {
        self.data
    }
    pub(crate) fn local(&self) -> LocalId {
        self.vertex.local
    }
    pub(crate) fn topology(&self) -> &'a Topology {
        self.vertex.topo
    }
}

impl<'a, V> std::ops::Deref for VertexRef<'a, V> {
    type Target = OwnedVertex<'a>;
    #[inline]
    fn deref(&self) -> &OwnedVertex<'a> {
        &self.vertex
    }
}

/// The vertex being applied: ids and degrees (through `Deref`) and mutable data.
pub struct VertexMut<'a, V> {
    vertex: OwnedVertex<'a>,
    data: &'a mut V,
}

impl<'a, V> VertexMut<'a, V> {
    pub(crate) fn new(local: LocalId, topo: &'a Topology, data: &'a mut V) -> Self {
        VertexMut {
            vertex: OwnedVertex { local, topo },
            data,
        }
    }
    /// The data.
    #[inline]
    pub fn data(&self) -> &V {
        self.data
    }
    /// The data, for writing.
    #[inline]
    pub fn data_mut(&mut self) -> &mut V {
        self.data
    }
}

impl<'a, V> std::ops::Deref for VertexMut<'a, V> {
    type Target = OwnedVertex<'a>;
    #[inline]
    fn deref(&self) -> &OwnedVertex<'a> {
        &self.vertex
    }
}

/// The other endpoint of an edge during scatter (owned here or a ghost).
pub struct Neighbor<'a, V> {
    pub(crate) local: LocalId,
    pub(crate) topo: &'a Topology,
    pub(crate) data: &'a V,
}

impl<'a, V> Neighbor<'a, V> {
    /// Local vertex `local`, its data read from the rank's vertex data `data`.
    #[inline]
    pub(crate) fn of(local: LocalId, topo: &'a Topology, data: &'a [V]) -> Self {
        Neighbor {
            local,
            topo,
            data: &data[local as usize],
        }
    }

    /// Global id.
    #[inline]
    pub fn id(&self) -> VertexId {
        self.topo.global_id(self.local)
    }
    /// Handle for signalling it.
    #[inline]
    pub fn handle(&self) -> VertexHandle {
        VertexHandle(self.local)
    }
    /// Its data (a ghost's is as of the last ghost update, i.e. after this superstep's apply).
    #[inline]
    pub fn data(&self) -> &'a V {
        self.data
    }
}

/// A vertex's out-edges during [`VertexProgram::scatter_out`]: each edge's data, writable,
/// and its target, indexed `0..len()` in out-edge order.
pub struct OutEdges<'a, V, E> {
    pub(crate) edges: &'a mut [E],
    pub(crate) targets: &'a [LocalId],
    pub(crate) topo: &'a Topology,
    pub(crate) data: &'a [V],
}

impl<'a, V, E> OutEdges<'a, V, E> {
    /// Number of out-edges.
    #[inline]
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether the vertex has no out-edge.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The target of edge `i` (owned here or a ghost). Panics if `i >= len()`.
    #[inline]
    pub fn target(&self, i: usize) -> Neighbor<'a, V> {
        Neighbor::of(self.targets[i], self.topo, self.data)
    }

    /// Edge `i`'s data, to read. Panics if `i >= len()`.
    #[inline]
    pub fn edge(&self, i: usize) -> &E {
        &self.edges[i]
    }

    /// Edge `i`'s data. Panics if `i >= len()`.
    #[inline]
    pub fn edge_mut(&mut self, i: usize) -> &mut E {
        &mut self.edges[i]
    }

    /// Each edge's data with its target, in out-edge order.
    #[inline]
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&mut E, Neighbor<'a, V>)> {
        let (topo, data) = (self.topo, self.data);
        self.edges
            .iter_mut()
            .zip(self.targets)
            .map(move |(edge, &local)| (edge, Neighbor::of(local, topo, data)))
    }
}

/// An opaque reference to a local vertex, for signalling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VertexHandle(pub(crate) LocalId);

/// What a program may do besides reading its arguments. One per worker task; the engine
/// merges them after each phase.
pub struct Context<'a, M> {
    pub(crate) iteration: usize,
    pub(crate) rank: Rank,
    pub(crate) num_ranks: usize,
    pub(crate) num_vertices: u64,
    pub(crate) inverse_num_vertices: f64,
    pub(crate) aggregates: &'a [f64],
    pub(crate) ops: &'a [ReduceOp],
    pub(crate) partial: Vec<f64>,
    pub(crate) signals: Vec<(LocalId, M)>,
    /// Owned vertices activated without a message ([`Context::activate`]).
    pub(crate) activations: Vec<LocalId>,
    pub(crate) message: Option<M>,
    pub(crate) stop: bool,
    pub(crate) tables: Option<&'a crate::param::TableClient>,
    /// The task's scratch value ([`Context::scratch`]), created on first use.
    pub(crate) scratch: Option<Box<dyn std::any::Any + Send>>,
}

impl<M> fmt::Debug for Context<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("iteration", &self.iteration)
            .field("rank", &self.rank)
            .field("signals", &self.signals.len())
            .finish_non_exhaustive()
    }
}

/// The identity element of a reduction.
pub(crate) fn identity(op: ReduceOp) -> f64 {
    match op {
        ReduceOp::Sum => 0.0,
        ReduceOp::Min => f64::INFINITY,
        ReduceOp::Max => f64::NEG_INFINITY,
    }
}

/// Folds `x` into `acc` with `op`.
pub(crate) fn fold(op: ReduceOp, acc: &mut f64, x: f64) {
    *acc = match op {
        ReduceOp::Sum => *acc + x,
        ReduceOp::Min => acc.min(x),
        ReduceOp::Max => acc.max(x),
    };
}

/// The facts a context is built from; the engine keeps one per superstep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContextFacts<'a> {
    pub iteration: usize,
    pub rank: Rank,
    pub num_ranks: usize,
    pub num_vertices: u64,
    pub aggregates: &'a [f64],
    pub ops: &'a [ReduceOp],
    pub tables: Option<&'a crate::param::TableClient>,
}

impl<'a, M> Context<'a, M> {
    pub(crate) fn new(f: ContextFacts<'a>) -> Self {
        Context {
            iteration: f.iteration,
            rank: f.rank,
            num_ranks: f.num_ranks,
            num_vertices: f.num_vertices,
            inverse_num_vertices: 1.0 / f.num_vertices as f64,
            aggregates: f.aggregates,
            ops: f.ops,
            partial: f.ops.iter().map(|&op| identity(op)).collect(),
            signals: Vec::new(),
            activations: Vec::new(),
            message: None,
            stop: false,
            tables: f.tables,
            scratch: None,
        }
    }

    /// A value private to this worker task, created with `T::default()` on first use and
    /// kept for the rest of the task (a task runs one phase over a chunk of vertices, so
    /// the value lives at most one superstep). It lets a program carry working state across
    /// calls without allocating per call: the scatter calls of one vertex over its
    /// out-edges (and, separately, over its in-edges) run consecutively, in edge order, on
    /// one task, so a program may keep per-vertex state here, keyed by the vertex id (LDA
    /// keeps a document's running topic counts while it resamples the document's edges).
    /// Asking for a different type replaces the value.
    pub fn scratch<T: Default + Send + 'static>(&mut self) -> &mut T {
        if !self.scratch.as_ref().is_some_and(|s| s.is::<T>()) {
            self.scratch = Some(Box::new(T::default()));
        }
        self.scratch
            .as_mut()
            .and_then(|s| s.downcast_mut::<T>())
            .expect("the scratch holds a T: it was just checked or created")
    }

    /// The parameter tables of the session the engine runs in
    /// ([`SyncEngine::use_tables`](crate::SyncEngine::use_tables)), if any. Reads follow
    /// each table's consistency; the engine ends a clock after every superstep.
    pub fn tables(&self) -> Option<&'a crate::param::TableClient> {
        self.tables
    }

    /// The current superstep (0-based).
    pub fn iteration(&self) -> usize {
        self.iteration
    }
    /// This rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }
    /// Number of ranks.
    pub fn num_ranks(&self) -> usize {
        self.num_ranks
    }
    /// Vertices in the whole graph.
    pub fn num_vertices(&self) -> u64 {
        self.num_vertices
    }
    /// `1 / num_vertices()`, computed once per task: programs that spread mass over all
    /// vertices (PageRank) need it for every vertex.
    pub fn inverse_num_vertices(&self) -> f64 {
        self.inverse_num_vertices
    }
    /// Activates `v` in the next superstep (it may live on another rank).
    pub fn signal(&mut self, v: VertexHandle)
    where
        M: Default,
    {
        self.signals.push((v.0, M::default()));
    }
    /// Activates `v` in the next superstep with a message.
    pub fn signal_with(&mut self, v: VertexHandle, msg: M) {
        self.signals.push((v.0, msg));
    }
    /// Activates owned vertex `v` in the next superstep without a message: its `apply`
    /// sees [`message`](Self::message) `None`, unless a signal reaches it too. The
    /// chromatic schedule runs an [`Activation::All`] program's first runs through it, as
    /// the asynchronous engine schedules every vertex once; only the synchronous engine in
    /// signalled mode reads it.
    pub(crate) fn activate(&mut self, v: VertexHandle) {
        self.activations.push(v.0);
    }
    /// The combined message that activated the vertex being applied, if any.
    pub fn message(&self) -> Option<&M> {
        self.message.as_ref()
    }
    /// Votes to stop after this superstep (any vote from any rank stops the run).
    pub fn stop(&mut self) {
        self.stop = true;
    }
    /// Contributes `x` to aggregator `slot` for this superstep.
    pub fn aggregate(&mut self, slot: usize, x: f64) {
        fold(self.ops[slot], &mut self.partial[slot], x);
    }
    /// The global value of aggregator `slot` from the previous superstep (from `init` in
    /// superstep 0).
    pub fn aggregated(&self, slot: usize) -> f64 {
        self.aggregates[slot]
    }
    /// Every aggregator's global value from the previous superstep (borrowed from the
    /// engine, not from this context, so it may be held across other calls).
    pub fn aggregates(&self) -> &'a [f64] {
        self.aggregates
    }
}
