//! Direction-optimizing signal passes (Ligra's `edgeMap`, Beamer's direction-optimizing
//! BFS) for programs that signal through [`VertexProgram::signal_along`].
//!
//! - **Push** visits the active vertices' edges and buffers a signal per message in the
//!   task's list (delivered by [`super::signals`]); a signal to a ghost goes to its owner.
//!   Cost: the active vertices' edges.
//! - **Pull** visits every owned vertex's edges in the opposite direction and takes a
//!   message from each active neighbour (owned or ghost: a bitset over all local vertices,
//!   filled from the frontier and the ghost update, says which ran), combining into the
//!   vertex's own slot, with the program's early exit
//!   ([`VertexProgram::wants_signal`]). Cost: every edge up to the exit, sequential reads
//!   and no writes to other vertices. A cut edge is pulled by its target's owner, so no
//!   signal crosses ranks.
//!
//! The engine pulls when the active vertices and their edges exceed |E| / [`PULL_DIVISOR`]
//! (Ligra's threshold), counted over all ranks so that every rank takes the same
//! direction (a cut edge must be pushed by one side or pulled by the other, never both).

use rayon::prelude::*;

use super::frontier::{AtomicBitset, Bitset, Frontier};
use super::signals::{SignalSink, put};
use super::{CHUNK, neighbour};
use crate::graph::LocalGraph;
use crate::ids::LocalId;
use crate::program::{EdgeDir, VertexProgram};

/// Pull when the frontier's vertices and edges exceed |E| / `PULL_DIVISOR`.
pub(crate) const PULL_DIVISOR: u64 = 20;

/// The direction a superstep's signals travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Along the active vertices' edges.
    Push,
    /// Over every vertex's edges, from active neighbours.
    Pull,
}

/// How the engine chooses the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectionRule {
    /// By the size of the frontier's edges (the default).
    #[default]
    Auto,
    /// Always push.
    Push,
    /// Always pull.
    Pull,
}

impl DirectionRule {
    /// The direction for a frontier of `active` vertices with `frontier_edges` edges in a
    /// graph of `total_edges` edges (all counted over every rank).
    pub(crate) fn choose(self, active: u64, frontier_edges: u64, total_edges: u64) -> Direction {
        match self {
            DirectionRule::Push => Direction::Push,
            DirectionRule::Pull => Direction::Pull,
            DirectionRule::Auto if (active + frontier_edges) * PULL_DIVISOR > total_edges => {
                Direction::Pull
            }
            DirectionRule::Auto => Direction::Push,
        }
    }
}

/// The number of edges along `dir` of the vertices in `list`.
pub(crate) fn edges_of<E: Sync>(graph: &LocalGraph<E>, dir: EdgeDir, list: &[LocalId]) -> u64 {
    let topo = &graph.topo;
    list.par_iter()
        .map(|&v| {
            let out = if dir.has_out() {
                topo.out_csr.degree(v)
            } else {
                0
            };
            let inn = if dir.has_in() {
                topo.in_csr.degree(v)
            } else {
                0
            };
            (out + inn) as u64
        })
        .sum()
}

/// Edges per push task: the frontier's edges are cut into tasks of about this many, a
/// hub's row over several tasks, so one hub does not hold up a superstep.
const PUSH_TASK_EDGES: usize = 4096;

/// One task's signals: (target, message) in the order they were sent.
pub(crate) type Signals<M> = Vec<(LocalId, M)>;

/// A run of one active vertex's edges: the vertex, whether they are out-edges (else
/// in-edges), and their positions in that CSR.
type Piece = (LocalId, bool, std::ops::Range<usize>);

/// The frontier's edges along `dir` as tasks of about [`PUSH_TASK_EDGES`] edges, in
/// vertex order.
fn push_tasks<E>(graph: &LocalGraph<E>, frontier: &Frontier, dir: EdgeDir) -> Vec<Vec<Piece>> {
    let topo = &graph.topo;
    let mut tasks = vec![Vec::new()];
    let mut filled = 0;
    let mut add = |v: LocalId, out: bool, mut range: std::ops::Range<usize>| {
        while !range.is_empty() {
            let take = (PUSH_TASK_EDGES - filled).min(range.len());
            let last = tasks.last_mut().expect("a task");
            last.push((v, out, range.start..range.start + take));
            range.start += take;
            filled += take;
            if filled == PUSH_TASK_EDGES {
                tasks.push(Vec::new());
                filled = 0;
            }
        }
    };
    frontier.for_each_in(0, topo.num_owned(), |v| {
        if dir.has_out() {
            add(v, true, topo.out_csr.range(v));
        }
        if dir.has_in() {
            add(v, false, topo.in_csr.range(v));
        }
    });
    tasks
}

/// Push: each task's signals, in task order, and the number of edges visited. A target
/// that [`VertexProgram::wants_signal`] closes with its first message (BFS) is claimed in
/// `closed` (over all local vertices, clear on entry and on return), and later messages
/// to it are dropped on the spot: the program's contract makes them change nothing.
pub(crate) fn push<P: VertexProgram>(
    program: &P,
    graph: &LocalGraph<P::Edge>,
    data: &[P::Vertex],
    frontier: &Frontier,
    dir: EdgeDir,
    closed: &AtomicBitset,
) -> (Vec<Signals<P::Message>>, u64) {
    let topo = &graph.topo;
    let tasks = push_tasks(graph, frontier, dir);
    let lists: Vec<(Signals<P::Message>, u64)> = tasks
        .par_iter()
        .map(|pieces| {
            let mut signals = Vec::new();
            let mut edges = 0u64;
            for (v, out, range) in pieces {
                let src = &data[*v as usize];
                edges += range.len() as u64;
                let csr = if *out { &topo.out_csr } else { &topo.in_csr };
                for k in range.clone() {
                    let t = csr.neighbors[k];
                    let edge = if *out {
                        graph.out_edge(k)
                    } else {
                        graph.in_edge(k)
                    };
                    let dst = &data[t as usize];
                    if !program.wants_signal(dst, None) {
                        continue;
                    }
                    if let Some(m) = program.signal_along(src, edge, dst) {
                        if !program.wants_signal(dst, Some(&m)) && !closed.claim(t as usize) {
                            continue;
                        }
                        signals.push((t, m));
                    }
                }
            }
            (signals, edges)
        })
        .collect();
    // Clear the claims of this superstep (only signalled targets were claimed).
    lists.par_iter().for_each(|(signals, _)| {
        signals
            .iter()
            .for_each(|&(t, _)| closed.release(t as usize))
    });
    let edges = lists.iter().map(|t| t.1).sum();
    (lists.into_iter().map(|t| t.0).collect(), edges)
}

/// Pull into `sink` (empty of owned signals on entry): every owned vertex takes the
/// messages of its active neighbours (`active`, over all local vertices; `None` when every
/// vertex ran). Returns the number of edges read.
pub(crate) fn pull<P: VertexProgram>(
    program: &P,
    graph: &LocalGraph<P::Edge>,
    data: &[P::Vertex],
    active: Option<&Bitset>,
    dir: EdgeDir,
    sink: &mut SignalSink<P::Message>,
) -> u64 {
    match active {
        None => pull_with::<P, true>(program, graph, data, &Bitset::new(0), dir, sink),
        Some(bits) => {
            // `pull_row` reads bits of local ids unchecked.
            assert!(bits.len() >= data.len(), "an active bit per local vertex");
            pull_with::<P, false>(program, graph, data, bits, dir, sink)
        }
    }
}

fn pull_with<P: VertexProgram, const ALL: bool>(
    program: &P,
    graph: &LocalGraph<P::Edge>,
    data: &[P::Vertex],
    active: &Bitset,
    dir: EdgeDir,
    sink: &mut SignalSink<P::Message>,
) -> u64 {
    let topo = &graph.topo;
    let tasks: Vec<(Vec<LocalId>, u64)> = sink
        .inbox
        .par_chunks_mut(CHUNK)
        .zip(sink.bits.words_mut().par_chunks_mut(CHUNK / 64))
        .enumerate()
        .map(|(c, (inbox, words))| {
            let base = c * CHUNK;
            let mut newly = Vec::new();
            let mut edges = 0u64;
            for (i, slot) in inbox.iter_mut().enumerate() {
                debug_assert!(slot.is_none(), "pull starts from an empty sink");
                let t = (base + i) as LocalId;
                let dst = &data[t as usize];
                if !program.wants_signal(dst, None) {
                    continue;
                }
                let mut acc: Option<P::Message> = None;
                // Senders along out-edges reach `t` over its in-edges, and the other way.
                let mut open = true;
                if dir.has_out() {
                    let range = topo.in_csr.range(t);
                    let start = range.start;
                    let row = &topo.in_csr.neighbors[range];
                    open = pull_row::<P, ALL>(
                        program,
                        data,
                        active,
                        dst,
                        row,
                        &mut acc,
                        &mut edges,
                        |k| graph.in_edge(start + k),
                    );
                }
                if open && dir.has_in() {
                    let range = topo.out_csr.range(t);
                    let start = range.start;
                    let row = &topo.out_csr.neighbors[range];
                    pull_row::<P, ALL>(
                        program,
                        data,
                        active,
                        dst,
                        row,
                        &mut acc,
                        &mut edges,
                        |k| graph.out_edge(start + k),
                    );
                }
                if let Some(m) = acc {
                    *slot = Some(m);
                    words[i / 64] |= 1 << (i % 64);
                    newly.push(t);
                }
            }
            (newly, edges)
        })
        .collect();
    let mut edges = 0;
    for (newly, e) in tasks {
        sink.list.extend(newly);
        edges += e;
    }
    edges
}

/// How many edges ahead the pull starts loading a sender's data.
const PULL_PREFETCH: usize = 16;

/// Takes the messages of the active senders in one row (`row[k]` sent along `edge(k)`)
/// into `acc`. Returns false when the program's early exit closed the vertex.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pull_row<'e, P: VertexProgram, const ALL: bool>(
    program: &P,
    data: &[P::Vertex],
    active: &Bitset,
    dst: &P::Vertex,
    row: &[LocalId],
    acc: &mut Option<P::Message>,
    edges: &mut u64,
    edge: impl Fn(usize) -> &'e P::Edge,
) -> bool
where
    P::Edge: 'e,
{
    for (k, &u) in row.iter().enumerate() {
        // The senders' data is one random load per edge, and the branches on it
        // mispredict often (a flush drops the loads in flight): start the loads ahead.
        if let Some(&ahead) = row.get(k + PULL_PREFETCH) {
            crate::prefetch::read_value(data.as_ptr().wrapping_add(ahead as usize));
        }
        // Only senders that ran: calling `signal_along` for every sender and dropping the
        // other messages saves a branch, but hands a program data it never expects a
        // sender to hold (a BFS's `u32::MAX + 1`).
        // SAFETY: `u` is a local id of the topology, below `data.len()` (see
        // `neighbour`), and `pull` checked that `active` has a bit for each.
        if !ALL && !unsafe { active.get_unchecked(u as usize) } {
            continue;
        }
        if let Some(m) = program.signal_along(neighbour(data, u), edge(k), dst) {
            put(program, acc, m);
            if !program.wants_signal(dst, acc.as_ref()) {
                *edges += k as u64 + 1;
                return false;
            }
        }
    }
    *edges += row.len() as u64;
    true
}
