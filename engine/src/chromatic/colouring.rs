//! Distributed graph colouring (Jones–Plassmann) as a vertex program: the colour classes
//! of the chromatic engine.
//!
//! A chromatic engine runs one colour per superstep, so its colouring is its consistency
//! model. With [`Distance::One`] no two adjacent vertices share a colour: the vertices of
//! one superstep share no edge (edge consistency). With [`Distance::Two`] no two vertices
//! within distance two share one: they share no neighbour either (full consistency). The
//! graph is taken as undirected; duplicate and reciprocal edges and self-loops are
//! harmless (a vertex is never its own neighbour).
//!
//! **Algorithm.** Jones and Plassmann (1993) with fixed pseudo-random priorities. Each
//! vertex has the key `(hash(id, seed), id)`; an uncoloured vertex takes the smallest
//! colour not used within the distance as soon as every vertex within the distance with a
//! larger key is coloured. The result is exactly the sequential greedy colouring in
//! decreasing key order: a function of the graph and the seed alone, identical on any
//! number of ranks, and greedy bounds it by max degree + 1 colours for distance one (by
//! Δ² + 1 for distance two). Supersteps follow the longest key-decreasing path (in the
//! square graph for distance two, at two supersteps a step): n on an n-clique, and for
//! distance two at least 2 (Δ + 1), as a vertex and its neighbours are a clique of the
//! square graph.
//! On wiki-Vote (7,115 vertices, max degree 1,065) with the chromatic schedule's seed: 39
//! colours in 173 supersteps for distance one, 1,066 colours (the minimum) in 4,075
//! supersteps for distance two, on any number of ranks (tested).
//!
//! **Distance one** fits gather/apply/scatter directly. Vertex data carries the vertex's
//! id (gather sees a neighbour's data but not its id, as in k-core) and its colour. An
//! uncoloured vertex gathers its coloured neighbours' colours and whether an uncoloured
//! neighbour has a larger key, and colours itself when none has. Gather reads last
//! superstep's data, in which of two adjacent uncoloured vertices the smaller sees the
//! larger uncoloured and waits, so adjacent vertices never colour in the same superstep.
//! A vertex that colours signals its uncoloured neighbours; nothing else runs.
//!
//! **Distance two.** Every vertex also keeps a summary of its neighbourhood, recomputed by
//! its gather: the sorted set of its neighbours' colours (`near`) and its two uncoloured
//! neighbours with the largest keys (`top`; two, so that a neighbour `u` reading it can
//! leave itself out: the largest key in N(v) \ {u}). An uncoloured `u` colours when no
//! uncoloured neighbour has a larger key and every neighbour `v` has a summary whose
//! largest uncoloured key in N(v) \ {u} is smaller than u's; it takes the smallest colour
//! absent from its neighbours' colours and their `near` sets. Summaries lag (u reads at
//! superstep t+1 what v computed at t from the states at the end of t-1), which is safe
//! because a coloured vertex stays coloured with the same colour:
//! - a vertex `w` beside `v` with a larger key than `u` shows as uncoloured in every
//!   summary older than its colouring, so `u` waits until a summary of `v` shows `w`
//!   coloured, and that snapshot's `near` holds w's colour;
//! - a vertex `w` within distance two with a smaller key than `u` cannot colour while `u`
//!   is uncoloured (u is in every summary `w` reads through their common neighbour, or `w`
//!   sees `u` directly), so nothing `u` has not seen is coloured yet.
//!
//! So when `u` colours, every vertex within distance two with a larger key is coloured and
//! seen, none with a smaller key is, and `u` makes the greedy choice. A summary not yet
//! computed (before its vertex first ran) blocks everyone.
//!
//! **Scheduling.** Signals only make progress; data is always read fresh. A vertex that
//! colours signals all its neighbours (their summaries change). A vertex whose `top` moved
//! signals each uncoloured neighbour `u` that its summary has just stopped blocking: the
//! largest uncoloured key in N(v) \ {u} only falls as vertices colour, so "v's summary
//! blocks u" turns false once, and the owner sees that moment by keeping its previous
//! `top`. The last of u's blockers to clear therefore wakes it. A change of `near` alone
//! wakes nobody. Colour sets are shared (`Arc`) between vertex data and the gathers that
//! read them, so gathering one costs no copy; they are merged only by a vertex that
//! colours.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::comm::{Comm, ReduceOp};
use crate::error::{EngineError, Result};
use crate::graph::LocalGraph;
use crate::ids::VertexId;
use crate::ownership::mix64;
use crate::program::{Context, EdgeDir, Neighbor, VertexMut, VertexProgram, VertexRef};
use crate::sync::{SyncConfig, SyncEngine};
use crate::wire::Wire;

/// Which vertices a colouring keeps apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Distance {
    /// Adjacent vertices get different colours (a proper colouring): edge consistency for
    /// the chromatic engine.
    One,
    /// Vertices at distance one or two get different colours (a proper colouring of the
    /// square of the graph): full consistency for the chromatic engine.
    Two,
}

/// One rank's share of a colouring computed by [`colour_graph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colouring {
    /// The colour of each owned vertex, by local id (`0..num_owned`); colours are
    /// `0..num_colours`.
    pub colours: Vec<u32>,
    /// Number of colours over the whole graph (the largest colour plus one; 0 for a graph
    /// without vertices). The same on every rank.
    pub num_colours: u32,
    /// Supersteps the synchronous engine ran.
    pub supersteps: usize,
}

/// Colours the graph (collective): every rank calls it with its own part of the graph.
///
/// The colouring is the greedy one in decreasing order of a pseudo-random priority drawn
/// from each vertex's id and `seed` (see the module docs), so the same seed gives the same
/// colour to every vertex on any number of ranks and with any ownership. Edge data is
/// ignored.
pub fn colour_graph<E: Wire + Send + Sync>(
    comm: &dyn Comm,
    graph: &mut LocalGraph<E>,
    distance: Distance,
    seed: u64,
) -> Result<Colouring> {
    let program = Colourer::<E>::new(distance, seed);
    // A safety net, never reached: the largest uncoloured key colours within two
    // supersteps of its last larger-keyed vertex (one for distance one).
    let n = graph.topology().num_global_vertices();
    let limit = n.saturating_mul(2).saturating_add(8);
    let config = SyncConfig {
        max_iterations: usize::try_from(limit).unwrap_or(usize::MAX),
        log_progress: false,
        ..SyncConfig::default()
    };
    let mut engine = SyncEngine::new(&program, graph, comm, config)?;
    let summary = engine.run()?;
    let colours: Vec<u32> = engine.owned_data().iter().map(|v| v.colour).collect();
    let uncoloured = colours.iter().filter(|&&c| c == NO_COLOUR).count() as u64;
    let used = colours
        .iter()
        .filter(|&&c| c != NO_COLOUR)
        .map(|&c| u64::from(c) + 1)
        .max()
        .unwrap_or(0);
    let mut facts = [used, uncoloured];
    comm.all_reduce_u64(&mut facts, ReduceOp::Max)?;
    if facts[1] > 0 {
        return Err(EngineError::Build(format!(
            "graph colouring stopped after {} supersteps with vertices still uncoloured",
            summary.iterations
        )));
    }
    Ok(Colouring {
        colours,
        num_colours: u32::try_from(facts[0]).unwrap_or(u32::MAX),
        supersteps: summary.iterations,
    })
}

/// Checks a colouring serially (the reference for tests): every endpoint of `edges` has a
/// colour in `colour`, and no two vertices within `distance` of each other (edges taken as
/// undirected, self-loops ignored) share one. The error names the offending pair.
pub fn check_colouring<S: BuildHasher>(
    edges: &[(VertexId, VertexId)],
    colour: &HashMap<VertexId, u32, S>,
    distance: Distance,
) -> std::result::Result<(), String> {
    let colour_of = |v: VertexId| {
        colour
            .get(&v)
            .copied()
            .ok_or_else(|| format!("vertex {v} has no colour"))
    };
    let mut adj: HashMap<VertexId, Vec<VertexId>> = HashMap::new();
    for &(s, d) in edges {
        let (cs, cd) = (colour_of(s)?, colour_of(d)?);
        if s == d {
            continue;
        }
        if cs == cd {
            return Err(format!(
                "adjacent vertices {s} and {d} share colour {cs} (distance 1)"
            ));
        }
        if distance == Distance::Two {
            adj.entry(s).or_default().push(d);
            adj.entry(d).or_default().push(s);
        }
    }
    // Distance two: the neighbours of every vertex must differ pairwise (adjacent pairs
    // were checked above).
    let mut by_colour: HashMap<u32, VertexId> = HashMap::new();
    for (&w, list) in &mut adj {
        list.sort_unstable();
        list.dedup();
        by_colour.clear();
        for &v in list.iter() {
            let c = colour_of(v)?;
            if let Some(u) = by_colour.insert(c, v) {
                return Err(format!(
                    "vertices {u} and {v} share colour {c} and are both adjacent to {w} \
                     (distance 2)"
                ));
            }
        }
    }
    Ok(())
}

/// The colour of a vertex not coloured yet.
const NO_COLOUR: u32 = u32::MAX;

/// The (at most) two uncoloured neighbours with the largest keys, largest first, distinct.
type Top = [Option<VertexId>; 2];

/// What a vertex knows about its neighbours (distance two only).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    /// Its uncoloured neighbours with the two largest keys.
    top: Top,
    /// Its neighbours' colours, sorted, distinct.
    near: Arc<[u32]>,
}

/// Vertex data of [`Colourer`].
#[derive(Debug, Clone)]
struct Node {
    /// The vertex's global id (its neighbours' gathers need it).
    id: VertexId,
    /// Its colour, [`NO_COLOUR`] until it has one.
    colour: u32,
    /// It took its colour in the superstep just run (it then scatters).
    just_coloured: bool,
    /// Distance two: its summary, `None` until its first gather.
    summary: Option<Summary>,
    /// Distance two: the summary's `top` before the superstep just run (`None`: unknown),
    /// for scatter to see which neighbours it stopped blocking.
    prev_top: Option<Top>,
}

impl Wire for Node {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        self.colour.encode(out);
        self.just_coloured.encode(out);
        match &self.summary {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                s.top.encode(out);
                (s.near.len() as u64).encode(out);
                for c in s.near.iter() {
                    c.encode(out);
                }
            }
        }
        self.prev_top.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let id = VertexId::decode(input);
        let colour = u32::decode(input);
        let just_coloured = bool::decode(input);
        let summary = if u8::decode(input) == 0 {
            None
        } else {
            let top = Top::decode(input);
            let near: Vec<u32> = Vec::decode(input);
            Some(Summary {
                top,
                near: near.into(),
            })
        };
        Node {
            id,
            colour,
            just_coloured,
            summary,
            prev_top: Option::decode(input),
        }
    }
}

/// A short list that holds zero or one item without a heap allocation (most gathers
/// produce one item per edge).
#[derive(Debug, Default)]
enum Few<T> {
    #[default]
    Zero,
    One(T),
    Many(Vec<T>),
}

impl<T> Few<T> {
    /// Appends every item of `other`.
    fn absorb(&mut self, other: Few<T>) {
        *self = match (std::mem::take(self), other) {
            (Few::Zero, x) | (x, Few::Zero) => x,
            (Few::One(a), Few::One(b)) => Few::Many(vec![a, b]),
            (Few::Many(mut list), Few::One(x)) | (Few::One(x), Few::Many(mut list)) => {
                list.push(x);
                Few::Many(list)
            }
            (Few::Many(mut a), Few::Many(mut b)) => {
                if b.len() > a.len() {
                    std::mem::swap(&mut a, &mut b);
                }
                a.extend(b);
                Few::Many(a)
            }
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Few::Zero => &[],
            Few::One(x) => std::slice::from_ref(x),
            Few::Many(list) => list,
        }
    }
}

/// The gather accumulator of [`Colourer`].
#[derive(Debug, Default)]
struct Seen {
    /// An uncoloured vertex within the distance has a larger key (or a neighbour's summary
    /// is unknown): the gathering vertex must wait. Only computed for uncoloured vertices.
    blocked: bool,
    /// Distance two: the uncoloured neighbours with the two largest keys.
    top: Top,
    /// Colours of coloured neighbours, with repeats (dropped for distance one once
    /// blocked: they are no longer needed).
    near: Few<u32>,
    /// Distance two, uncoloured and not blocked (so far): the neighbours' `near` sets.
    far: Few<Arc<[u32]>>,
}

/// The colouring vertex program (generic over the ignored edge data).
struct Colourer<E> {
    distance: Distance,
    /// Mixed from the seed; keys hash `id ^ salt`.
    salt: u64,
    _edge: PhantomData<fn() -> E>,
}

impl<E> Colourer<E> {
    fn new(distance: Distance, seed: u64) -> Self {
        Colourer {
            distance,
            salt: mix64(seed ^ 0x9e37_79b9_7f4a_7c15),
            _edge: PhantomData,
        }
    }

    /// A vertex's priority: a hash of its id and the seed, ties (impossible: the mix is a
    /// bijection) broken by id.
    #[inline]
    fn key(&self, id: VertexId) -> (u64, VertexId) {
        (mix64(id ^ self.salt), id)
    }

    /// `a` has a larger key than `b`.
    #[inline]
    fn beats(&self, a: VertexId, b: VertexId) -> bool {
        self.key(a) > self.key(b)
    }

    /// Inserts `id` into `top` (no-op if present).
    fn push_top(&self, top: &mut Top, id: VertexId) {
        if top.contains(&Some(id)) {
            return;
        }
        match *top {
            [Some(first), _] if !self.beats(id, first) => {
                if top[1].is_none_or(|second| self.beats(id, second)) {
                    top[1] = Some(id);
                }
            }
            [first, _] => *top = [Some(id), first],
        }
    }

    /// Whether a neighbour's summary `top` (`None`: unknown) makes `u` wait: some
    /// uncoloured vertex beside that neighbour, other than `u`, has a larger key.
    fn blocks(&self, top: Option<&Top>, u: VertexId) -> bool {
        match top {
            None => true,
            Some(top) => {
                let other = if top[0] == Some(u) { top[1] } else { top[0] };
                other.is_some_and(|x| self.beats(x, u))
            }
        }
    }
}

/// The smallest colour not in `taken`.
fn smallest_free(taken: &[u32], more: &[Arc<[u32]>]) -> u32 {
    let total = taken.len() + more.iter().map(|s| s.len()).sum::<usize>();
    // The answer is at most `total`: colours above it can be ignored.
    let mut used = vec![false; total + 1];
    for &c in taken.iter().chain(more.iter().flat_map(|s| s.iter())) {
        if let Some(slot) = used.get_mut(c as usize) {
            *slot = true;
        }
    }
    let free = used.iter().position(|&u| !u).unwrap_or(total);
    u32::try_from(free).unwrap_or(NO_COLOUR - 1)
}

impl<E: Wire + Send + Sync> VertexProgram for Colourer<E> {
    type Vertex = Node;
    type Edge = E;
    type Gather = Seen;
    type Message = ();

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> Node {
        ctx.signal(v.handle());
        Node {
            id: v.id(),
            colour: NO_COLOUR,
            just_coloured: false,
            summary: None,
            prev_top: None,
        }
    }

    fn gather_edges(&self, v: &VertexRef<'_, Node>) -> EdgeDir {
        match self.distance {
            Distance::One if v.data().colour != NO_COLOUR => EdgeDir::None,
            _ => EdgeDir::All,
        }
    }

    fn gather(&self, v: &VertexRef<'_, Node>, _edge: &E, other: &Node) -> Seen {
        let me = v.data();
        let mut seen = Seen::default();
        if other.id == me.id {
            return seen; // a self-loop: a vertex is not its own neighbour
        }
        let other_coloured = other.colour != NO_COLOUR;
        if other_coloured {
            seen.near = Few::One(other.colour);
        } else if self.distance == Distance::Two {
            seen.top[0] = Some(other.id);
        }
        if me.colour != NO_COLOUR {
            return seen;
        }
        seen.blocked = !other_coloured && self.beats(other.id, me.id);
        match self.distance {
            Distance::One => {}
            Distance::Two if seen.blocked => {}
            Distance::Two => match &other.summary {
                Some(s) if !self.blocks(Some(&s.top), me.id) => {
                    seen.far = Few::One(Arc::clone(&s.near));
                }
                _ => seen.blocked = true,
            },
        }
        seen
    }

    fn combine(&self, acc: &mut Seen, x: Seen) {
        acc.blocked |= x.blocked;
        for id in x.top.into_iter().flatten() {
            self.push_top(&mut acc.top, id);
        }
        if acc.blocked {
            acc.far = Few::Zero;
            if self.distance == Distance::One {
                acc.near = Few::Zero;
                return;
            }
        } else {
            acc.far.absorb(x.far);
        }
        acc.near.absorb(x.near);
    }

    fn apply(&self, v: &mut VertexMut<'_, Node>, total: Option<Seen>, _ctx: &mut Context<'_, ()>) {
        let seen = total.unwrap_or_default();
        let node = v.data_mut();
        node.just_coloured = false;
        let mut near = match seen.near {
            Few::Zero => Vec::new(),
            Few::One(c) => vec![c],
            Few::Many(list) => list,
        };
        if self.distance == Distance::Two {
            near.sort_unstable();
            near.dedup();
            node.prev_top = node.summary.as_ref().map(|s| s.top);
            let same = node
                .summary
                .as_ref()
                .is_some_and(|s| s.top == seen.top && *s.near == near[..]);
            if !same {
                node.summary = Some(Summary {
                    top: seen.top,
                    near: Arc::from(near.as_slice()),
                });
            }
        }
        if node.colour == NO_COLOUR && !seen.blocked {
            node.colour = smallest_free(&near, seen.far.as_slice());
            node.just_coloured = true;
        }
    }

    fn scatter_edges(&self, v: &VertexRef<'_, Node>) -> EdgeDir {
        let me = v.data();
        let moved =
            self.distance == Distance::Two && me.prev_top != me.summary.as_ref().map(|s| s.top);
        if me.just_coloured || moved {
            EdgeDir::All
        } else {
            EdgeDir::None
        }
    }

    fn scatter(
        &self,
        v: &VertexRef<'_, Node>,
        _edge: &mut E,
        other: &Neighbor<'_, Node>,
        ctx: &mut Context<'_, ()>,
    ) {
        let (me, them) = (v.data(), other.data());
        if them.id == me.id {
            return;
        }
        let wake = match self.distance {
            // Every uncoloured neighbour has a smaller key: it may be free now.
            Distance::One => me.just_coloured && them.colour == NO_COLOUR,
            // Every neighbour's summary changes.
            Distance::Two if me.just_coloured => true,
            Distance::Two => {
                them.colour == NO_COLOUR
                    && self.blocks(me.prev_top.as_ref(), them.id)
                    && !self.blocks(me.summary.as_ref().map(|s| &s.top), them.id)
            }
        };
        if wake {
            ctx.signal(other.handle());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use crate::comm::ThreadComm;
    use crate::graph::{EdgeInput, build_local_graph};
    use crate::ids::LocalId;
    use crate::ownership::HashOwnership;

    const RANKS: [usize; 3] = [1, 2, 4];

    /// The whole graph's colouring from one run.
    #[derive(Debug, PartialEq, Eq)]
    struct Run {
        colours: BTreeMap<VertexId, u32>,
        num_colours: u32,
    }

    /// Colours `edges` (dealt round-robin to the ranks, with `data` as edge data) and the
    /// declared `vertices` on `ranks` thread ranks.
    fn colour_with<E>(
        ranks: usize,
        edges: &[(VertexId, VertexId)],
        data: impl Fn(usize) -> E + Sync,
        vertices: &[VertexId],
        distance: Distance,
        seed: u64,
    ) -> Run
    where
        E: Wire + Send + Sync,
    {
        let per_rank = ThreadComm::run(ranks, |comm| -> Result<_> {
            let me = comm.rank();
            let mut input = EdgeInput::default();
            for (i, &(s, d)) in edges.iter().enumerate() {
                if i % ranks == me {
                    input.src.push(s);
                    input.dst.push(d);
                    input.data.push(data(i));
                }
            }
            if me == 0 {
                input.vertices = vertices.to_vec();
            }
            let mut graph = build_local_graph(&comm, &HashOwnership::new(ranks), input)?;
            let result = colour_graph(&comm, &mut graph, distance, seed)?;
            let topo = graph.topology();
            assert_eq!(result.colours.len(), topo.num_owned());
            let owned: Vec<(VertexId, u32)> = (0..topo.num_owned())
                .map(|v| (topo.global_id(v as LocalId), result.colours[v]))
                .collect();
            Ok((owned, result.num_colours))
        })
        .expect("colouring runs");
        let num_colours = per_rank[0].1;
        let mut colours = BTreeMap::new();
        for (owned, n) in per_rank {
            assert_eq!(n, num_colours, "every rank reports the same count");
            for (id, c) in owned {
                assert!(colours.insert(id, c).is_none(), "vertex {id} owned twice");
            }
        }
        Run {
            colours,
            num_colours,
        }
    }

    fn colour(
        ranks: usize,
        edges: &[(VertexId, VertexId)],
        vertices: &[VertexId],
        distance: Distance,
        seed: u64,
    ) -> Run {
        colour_with(ranks, edges, |_| (), vertices, distance, seed)
    }

    /// Undirected simple adjacency (no self-loops) over every endpoint and declared vertex.
    fn adjacency(
        edges: &[(VertexId, VertexId)],
        vertices: &[VertexId],
    ) -> BTreeMap<VertexId, BTreeSet<VertexId>> {
        let mut adj: BTreeMap<VertexId, BTreeSet<VertexId>> =
            vertices.iter().map(|&v| (v, BTreeSet::new())).collect();
        for &(s, d) in edges {
            adj.entry(s).or_default();
            adj.entry(d).or_default();
            if s != d {
                adj.get_mut(&s).expect("listed").insert(d);
                adj.get_mut(&d).expect("listed").insert(s);
            }
        }
        adj
    }

    /// Serial greedy colouring in decreasing key order: what Jones–Plassmann must equal.
    fn greedy(
        edges: &[(VertexId, VertexId)],
        vertices: &[VertexId],
        distance: Distance,
        seed: u64,
    ) -> BTreeMap<VertexId, u32> {
        let keys = Colourer::<()>::new(distance, seed);
        let adj = adjacency(edges, vertices);
        let mut order: Vec<VertexId> = adj.keys().copied().collect();
        order.sort_unstable_by_key(|&v| std::cmp::Reverse(keys.key(v)));
        let mut colours = BTreeMap::new();
        for v in order {
            let mut within: BTreeSet<VertexId> = adj[&v].clone();
            if distance == Distance::Two {
                for u in &adj[&v] {
                    within.extend(&adj[u]);
                }
            }
            within.remove(&v);
            let taken: Vec<u32> = within
                .iter()
                .filter_map(|u| colours.get(u).copied())
                .collect();
            colours.insert(v, smallest_free(&taken, &[]));
        }
        colours
    }

    /// Checks one run against the serial checker, the greedy reference and the bounds.
    fn verify(
        run: &Run,
        edges: &[(VertexId, VertexId)],
        vertices: &[VertexId],
        distance: Distance,
        seed: u64,
    ) {
        let map: HashMap<VertexId, u32> = run.colours.iter().map(|(&v, &c)| (v, c)).collect();
        if let Err(e) = check_colouring(edges, &map, distance) {
            panic!("invalid colouring ({distance:?}): {e}");
        }
        let adj = adjacency(edges, vertices);
        assert_eq!(
            run.colours.keys().collect::<Vec<_>>(),
            adj.keys().collect::<Vec<_>>(),
            "every vertex coloured once"
        );
        let used = run.colours.values().map(|&c| c + 1).max().unwrap_or(0);
        assert_eq!(run.num_colours, used);
        let max_degree = adj.values().map(BTreeSet::len).max().unwrap_or(0);
        if distance == Distance::One {
            assert!(
                run.num_colours as usize <= max_degree + 1,
                "{} colours, max degree {max_degree}",
                run.num_colours
            );
        } else {
            assert!(run.num_colours as usize <= max_degree * max_degree + 1);
        }
        assert_eq!(run.colours, greedy(edges, vertices, distance, seed));
    }

    /// Colours on 1, 2 and 4 ranks with both distances, checks each run, and checks that
    /// all rank counts agree; returns the runs by distance (from 1 rank).
    fn check_all(edges: &[(VertexId, VertexId)], vertices: &[VertexId], seed: u64) -> [Run; 2] {
        [Distance::One, Distance::Two].map(|distance| {
            let runs: Vec<Run> = RANKS
                .iter()
                .map(|&ranks| colour(ranks, edges, vertices, distance, seed))
                .collect();
            for run in &runs {
                verify(run, edges, vertices, distance, seed);
                assert_eq!(run, &runs[0], "same colouring on any number of ranks");
            }
            runs.into_iter().next().expect("one run per rank count")
        })
    }

    #[test]
    fn no_vertices() {
        for ranks in RANKS {
            for distance in [Distance::One, Distance::Two] {
                let run = colour(ranks, &[], &[], distance, 1);
                assert!(run.colours.is_empty());
                assert_eq!(run.num_colours, 0);
            }
        }
    }

    #[test]
    fn declared_vertices_without_edges() {
        let [one, two] = check_all(&[], &[5, 9, 100, 9], 3);
        for run in [one, two] {
            assert_eq!(run.num_colours, 1);
            assert!(run.colours.values().all(|&c| c == 0));
        }
    }

    #[test]
    fn one_vertex() {
        let [one, two] = check_all(&[], &[42], 0);
        assert_eq!(one.colours, BTreeMap::from([(42, 0)]));
        assert_eq!(two.colours, BTreeMap::from([(42, 0)]));
    }

    #[test]
    fn clique_needs_all_colours() {
        let mut edges = Vec::new();
        for a in 0..6u64 {
            for b in 0..6u64 {
                if a < b {
                    edges.push((a * 7, b * 7));
                }
            }
        }
        let [one, two] = check_all(&edges, &[], 11);
        assert_eq!(one.num_colours, 6);
        assert_eq!(two.num_colours, 6);
    }

    #[test]
    fn star() {
        let leaves = 1..=9u64;
        let edges: Vec<_> = leaves.clone().map(|l| (0, l)).collect();
        for seed in 0..4 {
            let [one, two] = check_all(&edges, &[], seed);
            assert_eq!(one.num_colours, 2);
            assert_eq!(two.num_colours, 10);
            let leaf_colours: BTreeSet<u32> = leaves.clone().map(|l| two.colours[&l]).collect();
            assert_eq!(leaf_colours.len(), 9, "leaves all differ at distance two");
        }
    }

    #[test]
    fn long_chain_and_cycle() {
        let n = 300u64;
        let chain: Vec<_> = (0..n - 1).map(|v| (v, v + 1)).collect();
        let [one, two] = check_all(&chain, &[], 5);
        assert!(one.num_colours <= 3);
        assert!(two.num_colours >= 3 && two.num_colours <= 5);
        let mut cycle = chain;
        cycle.push((n - 1, 0));
        let [one, two] = check_all(&cycle, &[], 6);
        assert!(one.num_colours >= 2 && one.num_colours <= 3);
        assert!(two.num_colours >= 3 && two.num_colours <= 5);
        // An odd cycle needs three colours.
        let triangle_ish: Vec<_> = (0..7u64).map(|v| (v, (v + 1) % 7)).collect();
        let [one, _] = check_all(&triangle_ish, &[], 7);
        assert_eq!(one.num_colours, 3);
    }

    #[test]
    fn self_loops_duplicates_and_reciprocal_edges() {
        let edges = [
            (1, 1),
            (1, 2),
            (2, 1),
            (1, 2),
            (2, 2),
            (2, 3),
            (3, 2),
            (4, 4),
            (4, 4),
        ];
        let [one, two] = check_all(&edges, &[], 9);
        assert_eq!(one.num_colours, 2);
        assert_eq!(two.num_colours, 3);
        assert_eq!(one.colours[&4], 0, "a self-loop is not a neighbour");
    }

    #[test]
    fn any_edge_data() {
        let edges: Vec<_> = (0..40u64).map(|v| (v, (v * 7 + 3) % 40)).collect();
        for distance in [Distance::One, Distance::Two] {
            let plain = colour(1, &edges, &[], distance, 2);
            for ranks in RANKS {
                let weighted = colour_with(ranks, &edges, |i| i as f64 * 0.5, &[], distance, 2);
                assert_eq!(weighted, plain);
            }
        }
    }

    #[test]
    fn seeds_change_priorities() {
        let edges: Vec<_> = (0..30u64).map(|v| (v, (v * 11 + 5) % 30)).collect();
        let runs: BTreeSet<Vec<u32>> = (0..6)
            .map(|seed| {
                let run = colour(2, &edges, &[], Distance::One, seed);
                verify(&run, &edges, &[], Distance::One, seed);
                run.colours.values().copied().collect()
            })
            .collect();
        assert!(runs.len() > 1, "different seeds give different colourings");
    }

    #[test]
    fn checker_names_the_offending_pair() {
        let edges = [(1, 2), (2, 3)];
        let ok = HashMap::from([(1, 0), (2, 1), (3, 2)]);
        assert_eq!(check_colouring(&edges, &ok, Distance::One), Ok(()));
        assert_eq!(check_colouring(&edges, &ok, Distance::Two), Ok(()));

        let far = HashMap::from([(1, 0), (2, 1), (3, 0)]);
        assert_eq!(check_colouring(&edges, &far, Distance::One), Ok(()));
        let e = check_colouring(&edges, &far, Distance::Two).unwrap_err();
        assert!(e.contains("1 and 3") || e.contains("3 and 1"), "{e}");
        assert!(e.contains("adjacent to 2"), "{e}");

        let near = HashMap::from([(1, 0), (2, 0), (3, 1)]);
        let e = check_colouring(&edges, &near, Distance::One).unwrap_err();
        assert!(e.contains("1 and 2"), "{e}");

        let missing = HashMap::from([(1, 0), (2, 1)]);
        let e = check_colouring(&edges, &missing, Distance::One).unwrap_err();
        assert!(e.contains("vertex 3"), "{e}");

        let looped = HashMap::from([(7, 0)]);
        assert_eq!(check_colouring(&[(7, 7)], &looped, Distance::Two), Ok(()));
    }

    #[test]
    fn top_two_keeps_the_largest_distinct_keys() {
        let p = Colourer::<()>::new(Distance::Two, 8);
        let mut ids: Vec<VertexId> = (0..20).collect();
        let mut top: Top = [None; 2];
        for &id in ids.iter().chain(&ids) {
            p.push_top(&mut top, id);
        }
        ids.sort_unstable_by_key(|&v| std::cmp::Reverse(p.key(v)));
        assert_eq!(top, [Some(ids[0]), Some(ids[1])]);
        assert!(!p.blocks(Some(&top), ids[0]));
        assert!(p.blocks(Some(&top), ids[1]));
        assert!(p.blocks(Some(&top), ids[2]));
        assert!(!p.blocks(Some(&[None, None]), ids[2]));
        assert!(p.blocks(None, ids[0]));
    }

    fn graphs() -> impl Strategy<Value = (Vec<(VertexId, VertexId)>, Vec<VertexId>)> {
        (1u64..40).prop_flat_map(|n| {
            (
                prop::collection::vec((0..n, 0..n), 0..(3 * n as usize)),
                prop::collection::vec(0..n + 5, 0..4),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn random_graphs_are_coloured_greedily_on_any_ranks(
            (edges, vertices) in graphs(),
            seed in any::<u64>(),
        ) {
            check_all(&edges, &vertices, seed);
        }

        #[test]
        fn sparse_ids_and_hubs(
            spokes in prop::collection::vec((0u64..6, any::<u64>()), 0..60),
            seed in any::<u64>(),
        ) {
            // A few hubs with many leaves of arbitrary (large, sparse) ids.
            let edges: Vec<_> = spokes.into_iter().map(|(h, l)| (h, l | 1 << 40)).collect();
            check_all(&edges, &[], seed);
        }
    }
}
