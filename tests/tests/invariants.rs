//! PowerGraph-style invariant programs: what the engine promises every vertex program,
//! checked on 1, 2 and 4 thread ranks.

use gasket_apps::components::{self, ComponentsConfig};
use gasket_apps::run::run_on_ranks;
use gasket_datasets::Format;
use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;
use gasket_partitioning::Partitioning;
use gasket_tests::{MemGraph, on_ranks, read_whole, run_in_memory, shared_dataset};

/// Gathers 1 per edge in the given direction.
struct CountEdges(EdgeDir);

impl VertexProgram for CountEdges {
    type Vertex = u64;
    type Edge = ();
    type Gather = u64;
    type Message = ();
    fn activation(&self) -> Activation {
        Activation::All
    }
    fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> u64 {
        u64::MAX
    }
    fn gather_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir {
        self.0
    }
    fn gather(&self, _v: &VertexRef<'_, u64>, _e: &(), _other: &u64) -> u64 {
        1
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc += x;
    }
    fn apply(&self, v: &mut VertexMut<'_, u64>, total: Option<u64>, _ctx: &mut Context<'_, ()>) {
        *v.data_mut() = total.unwrap_or(0);
    }
}

/// Superstep 0: every vertex signals each out-neighbour with the message 1 (messages add
/// up). Superstep 1: a vertex records its combined message and how often it was applied.
struct SignalCount;

impl VertexProgram for SignalCount {
    type Vertex = (u64, u64); // (combined message, applications after superstep 0)
    type Edge = ();
    type Gather = ();
    type Message = u64;
    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u64>) -> (u64, u64) {
        ctx.signal_with(v.handle(), 0);
        (0, 0)
    }
    fn apply(&self, v: &mut VertexMut<'_, (u64, u64)>, _t: Option<()>, ctx: &mut Context<'_, u64>) {
        if ctx.iteration() > 0 {
            let msg = *ctx.message().expect("every applied vertex was signalled");
            let data = v.data_mut();
            data.0 += msg;
            data.1 += 1;
        }
    }
    fn scatter_edges(&self, _v: &VertexRef<'_, (u64, u64)>) -> EdgeDir {
        EdgeDir::Out
    }
    fn scatter(
        &self,
        _v: &VertexRef<'_, (u64, u64)>,
        _e: &mut (),
        other: &Neighbor<'_, (u64, u64)>,
        ctx: &mut Context<'_, u64>,
    ) {
        if ctx.iteration() == 0 {
            ctx.signal_with(other.handle(), 1);
        }
    }
    fn combine_messages(&self, acc: &mut u64, msg: u64) {
        *acc += msg;
    }
}

/// Superstep s: each vertex writes `s * 1000 + id(source) * 3 + id(target)` onto its
/// out-edges; the next superstep's gather sums its in-edges. Exercises writes to cut edges.
/// With `by_row`, the writes go through `scatter_out`, indexing the row, and add
/// `ROW_MARK` times the row's length (the source's out-degree).
struct EdgeWrites {
    by_row: bool,
}

const ROW_MARK: u64 = 1_000_000;

impl VertexProgram for EdgeWrites {
    type Vertex = u64;
    type Edge = u64;
    type Gather = u64;
    type Message = ();
    fn activation(&self) -> Activation {
        Activation::All
    }
    fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> u64 {
        0
    }
    fn gather_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir {
        EdgeDir::In
    }
    fn gather(&self, _v: &VertexRef<'_, u64>, e: &u64, _other: &u64) -> u64 {
        *e
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc += x;
    }
    fn apply(&self, v: &mut VertexMut<'_, u64>, total: Option<u64>, _ctx: &mut Context<'_, ()>) {
        *v.data_mut() = total.unwrap_or(0);
    }
    fn scatter_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir {
        EdgeDir::Out
    }
    fn scatter(
        &self,
        v: &VertexRef<'_, u64>,
        e: &mut u64,
        other: &Neighbor<'_, u64>,
        ctx: &mut Context<'_, ()>,
    ) {
        *e = ctx.iteration() as u64 * 1000 + v.id() * 3 + other.id();
    }
    fn scatter_out(
        &self,
        v: &VertexRef<'_, u64>,
        mut edges: OutEdges<'_, u64, u64>,
        ctx: &mut Context<'_, ()>,
    ) {
        if !self.by_row {
            for (e, other) in edges.iter_mut() {
                self.scatter(v, e, &other, ctx);
            }
            return;
        }
        let mark = edges.len() as u64 * ROW_MARK;
        for i in 0..edges.len() {
            let target = edges.target(i).id();
            *edges.edge_mut(i) = ctx.iteration() as u64 * 1000 + v.id() * 3 + target + mark;
        }
    }
}

fn wiki_vote() -> MemGraph<()> {
    let e = read_whole(&shared_dataset("wiki-Vote.txt.gz"), Format::Snap);
    MemGraph {
        edges: e
            .src
            .iter()
            .zip(&e.dst)
            .map(|(&s, &d)| (s, d, ()))
            .collect(),
        vertices: e.vertices,
    }
}

fn degrees(g: &MemGraph<()>) -> std::collections::BTreeMap<u64, (u64, u64)> {
    let mut deg = std::collections::BTreeMap::new();
    for &(s, d, ()) in &g.edges {
        deg.entry(s).or_insert((0, 0)).1 += 1;
        deg.entry(d).or_insert((0, 0)).0 += 1;
    }
    deg
}

type Values<P> = Result<Vec<(u64, <P as VertexProgram>::Vertex)>, gasket_apps::AppError>;

/// Runs `p` for `iterations` supersteps and returns the owned vertices' data.
fn run_once<P: VertexProgram>(
    p: &P,
    iterations: usize,
) -> impl Fn(&dyn Comm, &mut LocalGraph<P::Edge>) -> Values<P> + Sync + '_ {
    move |comm, g| {
        let config = SyncConfig {
            max_iterations: iterations,
            log_progress: false,
            ..SyncConfig::default()
        };
        let mut engine = SyncEngine::new(p, g, comm, config)?;
        engine.run()?;
        let mut out = Vec::new();
        engine.for_each_owned(|v| out.push((v.id(), v.data().clone())));
        Ok(out)
    }
}

#[test]
fn gather_counts_in_out_and_all_degrees() {
    let g = wiki_vote();
    let deg = degrees(&g);
    on_ranks(|ranks| {
        for (dir, pick) in [
            (EdgeDir::In, (|(i, _o)| i) as fn((u64, u64)) -> u64),
            (EdgeDir::Out, |(_i, o)| o),
            (EdgeDir::All, |(i, o)| i + o),
        ] {
            let got = run_in_memory(ranks, &g, run_once(&CountEdges(dir), 1));
            assert_eq!(got.len(), deg.len());
            for (v, count) in got {
                assert_eq!(
                    count,
                    pick(deg[&v]),
                    "{dir:?} degree of {v} on {ranks} ranks"
                );
            }
        }
    });
}

#[test]
fn every_signal_reaches_its_owner_exactly_once_per_superstep() {
    let g = wiki_vote();
    let deg = degrees(&g);
    on_ranks(|ranks| {
        let got = run_in_memory(ranks, &g, run_once(&SignalCount, 2));
        for (v, (messages, applied)) in got {
            let in_degree = deg[&v].0;
            assert_eq!(messages, in_degree, "messages combined at {v}");
            assert_eq!(
                applied,
                u64::from(in_degree > 0),
                "vertex {v} applied once when signalled"
            );
        }
    });
}

#[test]
fn scatter_writes_to_cut_edges_reach_the_other_copy() {
    let g = wiki_vote();
    let g = MemGraph {
        edges: g.edges.iter().map(|&(s, d, ())| (s, d, 0u64)).collect(),
        vertices: g.vertices,
    };
    let mut out_degree = std::collections::BTreeMap::<u64, u64>::new();
    for &(s, _, _) in &g.edges {
        *out_degree.entry(s).or_default() += 1;
    }
    for by_row in [false, true] {
        let mut expect = std::collections::BTreeMap::<u64, u64>::new();
        for &(s, d, _) in &g.edges {
            expect.entry(s).or_default();
            let mark = if by_row { out_degree[&s] * ROW_MARK } else { 0 };
            // Superstep 1 gathers what superstep 0 wrote; superstep 2 what superstep 1 wrote.
            *expect.entry(d).or_default() += 1000 + s * 3 + d + mark;
        }
        on_ranks(|ranks| {
            let got = run_in_memory(ranks, &g, run_once(&EdgeWrites { by_row }, 3));
            let got: std::collections::BTreeMap<u64, u64> = got.into_iter().collect();
            assert_eq!(got, expect, "by_row {by_row} on {ranks} ranks");
        });
    }
}

#[test]
fn frontier_switches_between_dense_and_sparse_and_ghost_bytes_are_payload_only() {
    let source = GraphInput::new(Some(shared_dataset("wiki-Vote.txt.gz")), Some(Format::Snap));
    on_ranks(|ranks| {
        let out = run_on_ranks(
            Backend::Threads(ranks),
            &source,
            &Partitioning::default(),
            false,
            |c, g| components::run(&ComponentsConfig::default(), c, g, false),
        )
        .unwrap()
        .expect("thread ranks return rank 0's results");
        let kinds: Vec<&str> = out.metrics[0].iter().map(|m| m.frontier).collect();
        assert_eq!(kinds[0], "dense", "all vertices start active");
        assert!(
            kinds.contains(&"sparse"),
            "settling components go sparse: {kinds:?}"
        );

        let pr = run_on_ranks(
            Backend::Threads(ranks),
            &source,
            &Partitioning::default(),
            false,
            |c, g| gasket_apps::pagerank::run(&Default::default(), c, g, false),
        )
        .unwrap()
        .expect("thread ranks return rank 0's results");
        let ghosts = pr.extra.partition.ghosts;
        for step in 0..pr.summary.iterations {
            let (mut updates, mut bytes) = (0u64, 0u64);
            for rank in &pr.metrics {
                let m = &rank[step];
                updates += m.ghost_updates_sent;
                bytes += m.bytes_sent;
            }
            // Every vertex changes every PageRank superstep: one 8-byte payload per ghost,
            // plus the fixed-size reduction of global facts (41 bytes to each peer: active,
            // signalled and frontier-edge counts, the stop vote).
            assert_eq!(updates, ghosts);
            let reduction = 41 * (ranks * (ranks - 1)) as u64;
            assert_eq!(bytes, ghosts * 8 + reduction, "superstep {step}");
        }
    });
}

/// The colouring figures the chromatic engine's module docs quote for wiki-Vote (colours
/// and supersteps with the schedule's seed), the same on every rank count, and valid.
#[test]
fn wiki_vote_colourings_match_the_documented_figures() {
    use gasket_engine::chromatic::{COLOURING_SEED, Distance, check_colouring, colour_graph};
    let e = read_whole(&shared_dataset("wiki-Vote.txt.gz"), Format::Snap);
    let edges = gasket_tests::edge_pairs(&e);
    let graph = MemGraph {
        edges: edges.iter().map(|&(s, d)| (s, d, ())).collect(),
        vertices: e.vertices.clone(),
    };
    for (distance, colours, supersteps) in [(Distance::One, 39, 173), (Distance::Two, 1066, 4075)] {
        for ranks in [1, 3] {
            let got = run_in_memory(ranks, &graph, |comm, g| {
                let c = colour_graph(comm, g, distance, COLOURING_SEED)?;
                Ok(c.colours
                    .iter()
                    .enumerate()
                    .map(|(l, &colour)| {
                        let id = g.topology().global_id(l as LocalId);
                        (id, (colour, c.num_colours, c.supersteps))
                    })
                    .collect())
            });
            assert!(
                got.iter()
                    .all(|(_, (_, n, s))| (*n, *s) == (colours, supersteps)),
                "{distance:?} on {ranks} rank(s): {:?}",
                got.first()
            );
            let by_id: std::collections::HashMap<u64, u32> =
                got.iter().map(|&(v, (c, _, _))| (v, c)).collect();
            check_colouring(&edges, &by_id, distance).unwrap();
        }
    }
}
